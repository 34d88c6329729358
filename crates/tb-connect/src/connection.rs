//! The connection state machine: what the transport worker feeds and polls.
//!
//! ```text
//!  connect() ──▶ Opening ──handle_opened──▶ Open ──handle_closed / desync──▶ WaitingToReconnect ─┐
//!                  │  ▲                                                                          │
//!                  │  └────────────────────── handle_timeout (backoff elapsed) ◀────────────────┘
//!                  └─handle_open_failed──▶ WaitingToReconnect (auto_reconnect) or Idle
//! ```
//!
//! Rules that callers rely on:
//! - Subscriptions belong to the object, not to the connection: every active subscription is (re)sent each time the
//!   transport opens, with the ID it was first given; one made while disconnected is sent on the next open.
//! - Other commands made while disconnected wait for the connection up to the command timeout, then fail locally.
//! - Every command gets exactly one [`CommandOutcome`]: the agent's, or a local one (timeout, not connected, connection
//!   lost). A subscribe command pending when the link drops is resent instead of failed.
//! - A link that stalls is declared lost and reconnected like any other loss ([`DisconnectReason::Stalled`]): a frame
//!   begun and then no byte for [`Config::stall_timeout`], or [`Config::max_timeouts_in_a_row`] commands timing out
//!   with no message from the agent in between (the agent is hung, not slow).
//! - Time only comes in through `now` parameters.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::agent_error::AgentErrorCode;
use crate::command::Command;
use crate::error::ConnectError;
use crate::frame::{FrameDecoder, DEFAULT_DESYNC_LIMIT, DEFAULT_MAX_BODY};
use crate::message::{parse_message, AgentEvent, AgentMessage, CommandResult};
use crate::model::SubscriptionKey;
use tb_prims::{Backoff, BackoffPolicy, SplitMix64, Timers};

/// Settings of a [`Core`].
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest accepted message body in bytes (UTF-16, so about half as many characters).
    pub max_frame_body: usize,
    /// Declared lengths above this are taken as a desynchronised stream (reconnect), not a big message.
    pub desync_limit: u64,
    /// How long a command waits for its `CommandResult` (or, while disconnected, for a connection).
    pub command_timeout: Duration,
    /// Reopen the transport after it fails or closes.
    pub auto_reconnect: bool,
    pub backoff: BackoffPolicy,
    /// A connection that stayed open this long resets the backoff when it drops; shorter ones keep growing it, so an
    /// agent that accepts and immediately closes is not hammered.
    pub stable_after: Duration,
    /// A frame begun and then silent this long means the agent (or the pipe) hung mid-write.
    pub stall_timeout: Duration,
    /// This many command timeouts with no message from the agent in between mean it stopped answering.
    pub max_timeouts_in_a_row: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_frame_body: DEFAULT_MAX_BODY,
            desync_limit: DEFAULT_DESYNC_LIMIT,
            command_timeout: Duration::from_secs(10),
            auto_reconnect: true,
            backoff: BackoffPolicy::default(),
            stable_after: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(20),
            max_timeouts_in_a_row: 3,
        }
    }
}

/// What the transport worker must do, in order: open or close the pipe, or write one command document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transmit {
    /// Open the pipe/socket, then call [`Core::handle_opened`] or [`Core::handle_open_failed`].
    Open,
    /// One command document (UTF-8); write it with one write call.
    Bytes(Vec<u8>),
    /// Close the pipe/socket. Do not report it back.
    Close,
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// `close()` by the application, or object teardown.
    ClosedByUser,
    /// The agent closed the pipe (end of stream).
    ClosedByAgent,
    /// A read or write failed; the transport's technical detail.
    TransportError(String),
    /// The stream lost frame boundaries; the core closed it to start clean.
    Desynchronized,
    /// The agent stopped in the middle of a frame, or let several commands in a row time out; the core closed the
    /// link to start clean.
    Stalled,
}

/// Why the core answered a command itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalOutcome {
    /// Sent, but no `CommandResult` within the command timeout.
    Timeout,
    /// Never sent: no connection within the command timeout (or reconnecting is off).
    NotConnected,
    /// Sent, then the connection dropped before the answer; the agent may or may not have executed it.
    ConnectionLost,
    /// `close()` came before the command was answered.
    ConnectionClosed,
    /// Handled without the agent (an unsubscribe while disconnected: the agent keeps no subscriptions between
    /// connections). Not an error.
    HandledLocally,
}

/// Why a command failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The agent's `<Error>` text, recognised as a documented constant when `code` is set.
    Agent {
        text: String,
        code: Option<AgentErrorCode>,
    },
    /// The core's own answer (never [`LocalOutcome::HandledLocally`]); `timeout` is the command timeout then in force.
    Local {
        outcome: LocalOutcome,
        timeout: Duration,
    },
}

/// The answer to one command, from the agent or from the core.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandOutcome {
    /// The command ID on the wire.
    pub id: String,
    /// The ID the caller got back (equals `id` unless one call sent several commands).
    pub request_id: String,
    pub action: String,
    pub result: String,
    /// `None`: success (or handled locally).
    pub failure: Option<Failure>,
    /// The ID was one of this object's pending commands.
    pub matched: bool,
    /// The command was a resubscription the core sent after a reconnect.
    pub automatic: bool,
    /// The core produced this result (see [`LocalOutcome`]).
    pub local: bool,
    pub elapsed: Option<Duration>,
    pub subscription: Option<SubscriptionKey>,
    /// Anything else the agent put into `<CommandResult>`, in the agent's own shape.
    pub extra: Map<String, Value>,
}

/// What comes out of the core.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The transport opened (the protocol has no handshake: open means connected).
    Connected {
        /// Not the first connection of this object.
        reconnect: bool,
        /// Subscriptions sent on this connection.
        resubscribed: usize,
    },
    Disconnected {
        reason: DisconnectReason,
        will_reconnect: bool,
        retry_in: Option<Duration>,
    },
    /// An attempt to open failed; `reason` is the transport's detail.
    ConnectFailed {
        reason: String,
        retry_in: Option<Duration>,
    },
    /// An `<Event>` from the agent.
    Agent(AgentEvent),
    CommandResult(Box<CommandOutcome>),
    /// A bad message; the connection survives unless the error [requires a reconnect](ConnectError::requires_reconnect).
    Error(ConnectError),
}

/// Where the link is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Idle,
    WaitingToReconnect,
    Opening,
    Open,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Idle,
    /// The `Reconnect` timer is armed.
    WaitingToReconnect,
    Opening,
    Open {
        since: Instant,
    },
}

#[derive(Debug, Clone)]
struct Pending {
    /// Its `Reply` timer.
    seq: u64,
    request_id: String,
    action: &'static str,
    subscription: Option<SubscriptionKey>,
    is_subscribe: bool,
    sent_at: Instant,
    automatic: bool,
}

#[derive(Debug, Clone)]
struct Queued {
    /// Its `Queued` timer.
    seq: u64,
    id: String,
    request_id: String,
    command: Command,
}

/// The core's deadlines, all in one table. Commands are keyed by a sequence number, not by their ID: a caller may
/// use one ID for several commands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Timer {
    /// The next attempt to open.
    Reconnect,
    /// A frame is incomplete on the open link: its silence until then is a stall.
    Stall,
    /// The answer to a sent command is due.
    Reply(u64),
    /// A command waiting for a connection gives up.
    Queued(u64),
}

#[derive(Debug, Clone)]
struct ActiveSubscription {
    key: SubscriptionKey,
    id: String,
    request_id: String,
    /// The agent has answered this subscription once; later sends are automatic resubscriptions.
    acknowledged: bool,
}

/// Counters for diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub connections: u64,
    pub connect_failures: u64,
    pub frames: u64,
    pub events: u64,
    pub command_results: u64,
    pub errors: u64,
    pub commands_sent: u64,
    pub bytes_received: u64,
    pub bytes_sent: u64,
}

/// The sans-IO 1C-Connect connection.
#[derive(Debug)]
pub struct Core {
    config: Config,
    link: Link,
    /// The user wants a connection (between `connect` and `close`).
    wanted: bool,
    decoder: FrameDecoder,
    backoff: Backoff,
    ids: SplitMix64,
    subscriptions: Vec<ActiveSubscription>,
    pending: HashMap<String, VecDeque<Pending>>,
    /// Every deadline: `next_timeout()` is the earliest of them.
    timers: Timers<Timer>,
    /// Command timeouts since the agent last sent a whole message.
    timeouts_in_a_row: u32,
    /// The key of the next command's timer.
    next_seq: u64,
    queued: VecDeque<Queued>,
    events: VecDeque<Event>,
    transmits: VecDeque<Transmit>,
    stats: Stats,
}

impl Core {
    /// `seed` drives reconnect jitter and generated command IDs; pass fresh randomness in production.
    pub fn new(config: Config, seed: u64) -> Self {
        let decoder = FrameDecoder::new(config.max_frame_body, config.desync_limit);
        let backoff = Backoff::new(config.backoff.clone(), seed);
        Core {
            config,
            link: Link::Idle,
            wanted: false,
            decoder,
            backoff,
            ids: SplitMix64::new(seed ^ 0x5DEE_CE66_D1CE_5EED),
            subscriptions: Vec::new(),
            pending: HashMap::new(),
            timers: Timers::new(),
            timeouts_in_a_row: 0,
            next_seq: 0,
            queued: VecDeque::new(),
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            stats: Stats::default(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.link, Link::Open { .. })
    }

    pub fn state(&self) -> State {
        match self.link {
            Link::Idle => State::Idle,
            Link::WaitingToReconnect => State::WaitingToReconnect,
            Link::Opening => State::Opening,
            Link::Open { .. } => State::Open,
        }
    }

    /// Failed attempts since the backoff was last reset.
    pub fn reconnect_failures(&self) -> u32 {
        self.backoff.failures()
    }

    /// Active subscriptions, in the order they are (re)sent.
    pub fn subscriptions(&self) -> impl Iterator<Item = &SubscriptionKey> {
        self.subscriptions.iter().map(|s| &s.key)
    }

    /// Commands sent and not yet answered.
    pub fn pending_count(&self) -> usize {
        self.pending.values().map(VecDeque::len).sum()
    }

    /// Commands waiting for a connection.
    pub fn queued_count(&self) -> usize {
        self.queued.len()
    }

    pub fn set_command_timeout(&mut self, timeout: Duration) {
        self.config.command_timeout = timeout;
    }

    pub fn set_auto_reconnect(&mut self, enabled: bool, now: Instant) {
        self.config.auto_reconnect = enabled;
        match self.link {
            Link::WaitingToReconnect if !enabled => {
                self.timers.clear(&Timer::Reconnect);
                self.link = Link::Idle;
                self.fail_queued(LocalOutcome::NotConnected, now);
            }
            Link::Idle if enabled && self.wanted => self.begin_open(),
            _ => {}
        }
    }

    /// A fresh ID (UUID v4 form) from the seeded generator.
    pub fn generate_id(&mut self) -> String {
        self.ids.next_uuid()
    }

    // ----- inputs from the application ----------------------------------------------------------------------------

    /// Start connecting (no-op when already open or opening). Resets the backoff.
    pub fn connect(&mut self, _now: Instant) {
        self.wanted = true;
        self.backoff.reset();
        match self.link {
            Link::Idle | Link::WaitingToReconnect => self.begin_open(),
            Link::Opening | Link::Open { .. } => {}
        }
    }

    /// Close and stay closed. Unanswered commands end with `ConnectionClosed`; subscriptions are kept and resent on
    /// the next `connect`.
    pub fn close(&mut self, now: Instant) {
        self.wanted = false;
        match self.link {
            Link::Open { .. } => {
                self.transmits.push_back(Transmit::Close);
                self.link_lost(DisconnectReason::ClosedByUser, now);
            }
            Link::Opening => {
                self.transmits.push_back(Transmit::Close);
                self.link = Link::Idle;
            }
            Link::WaitingToReconnect | Link::Idle => {
                self.timers.clear(&Timer::Reconnect);
                self.link = Link::Idle;
            }
        }
        self.fail_queued(LocalOutcome::ConnectionClosed, now);
    }

    /// Send a command (subscribe/unsubscribe go through [`Core::subscribe`]/[`Core::unsubscribe`]).
    /// `id`: the caller's UUID, or empty/`None` to generate one. Returns the ID used.
    pub fn send(&mut self, command: Command, id: Option<&str>, now: Instant) -> String {
        let id = self.id_or_generated(id);
        match command {
            Command::Subscribe(key) => self.subscribe_with_ids(vec![(key, id.clone())], &id, now),
            Command::Unsubscribe(key) => {
                self.unsubscribe_with_ids(vec![(key, id.clone())], &id, now)
            }
            command => {
                if self.is_connected() {
                    self.transmit(&command, &id, &id, false, now);
                } else {
                    let seq = self.arm_command(Timer::Queued, now);
                    self.queued.push_back(Queued {
                        seq,
                        id: id.clone(),
                        request_id: id.clone(),
                        command,
                    });
                }
            }
        }
        id
    }

    /// Subscribe to each key (one command each). The first command's ID is the returned request ID (`request_id` or
    /// generated); further commands get generated IDs and report the request ID in their results.
    pub fn subscribe(
        &mut self,
        keys: &[SubscriptionKey],
        request_id: Option<&str>,
        now: Instant,
    ) -> String {
        let request_id = self.id_or_generated(request_id);
        let with_ids = self.assign_ids(keys, &request_id);
        self.subscribe_with_ids(with_ids, &request_id, now);
        request_id
    }

    /// Unsubscribe from each key; IDs as in [`Core::subscribe`].
    pub fn unsubscribe(
        &mut self,
        keys: &[SubscriptionKey],
        request_id: Option<&str>,
        now: Instant,
    ) -> String {
        let request_id = self.id_or_generated(request_id);
        let with_ids = self.assign_ids(keys, &request_id);
        self.unsubscribe_with_ids(with_ids, &request_id, now);
        request_id
    }

    // ----- inputs from the transport -----------------------------------------------------------------------------

    pub fn handle_opened(&mut self, now: Instant) {
        if self.link != Link::Opening {
            // Closed by the user while the transport was opening.
            self.transmits.push_back(Transmit::Close);
            return;
        }
        self.link = Link::Open { since: now };
        self.decoder.reset();
        self.timers.clear(&Timer::Stall);
        self.timeouts_in_a_row = 0;
        self.stats.connections += 1;
        let subscriptions: Vec<(SubscriptionKey, String, String, bool)> = self
            .subscriptions
            .iter()
            .map(|s| {
                (
                    s.key.clone(),
                    s.id.clone(),
                    s.request_id.clone(),
                    s.acknowledged,
                )
            })
            .collect();
        let resubscribed = subscriptions.len();
        for (key, id, request_id, acknowledged) in subscriptions {
            self.transmit(
                &Command::Subscribe(key),
                &id,
                &request_id,
                acknowledged,
                now,
            );
        }
        let queued: Vec<Queued> = self.queued.drain(..).collect();
        for item in queued {
            self.timers.clear(&Timer::Queued(item.seq));
            self.transmit(&item.command, &item.id, &item.request_id, false, now);
        }
        self.events.push_back(Event::Connected {
            reconnect: self.stats.connections > 1,
            resubscribed,
        });
    }

    pub fn handle_open_failed(&mut self, now: Instant, reason: &str) {
        if self.link != Link::Opening {
            return;
        }
        self.stats.connect_failures += 1;
        let retry_in = self.schedule_reconnect(now);
        self.events.push_back(Event::ConnectFailed {
            reason: reason.to_string(),
            retry_in,
        });
        if retry_in.is_none() {
            self.fail_queued(LocalOutcome::NotConnected, now);
        }
    }

    /// The transport closed or failed (not after [`Transmit::Close`] from the core: that is already handled).
    pub fn handle_closed(&mut self, now: Instant, reason: DisconnectReason) {
        if matches!(self.link, Link::Open { .. }) {
            self.link_lost(reason, now);
        }
    }

    /// Bytes read from the transport.
    pub fn handle_bytes(&mut self, bytes: &[u8], now: Instant) {
        if !self.is_connected() {
            return;
        }
        self.stats.bytes_received += bytes.len() as u64;
        self.decoder.push(bytes);
        while let Some(next) = self.decoder.next_frame() {
            match next {
                Ok(frame) => {
                    self.stats.frames += 1;
                    self.timeouts_in_a_row = 0;
                    match parse_message(&frame.text, frame.number) {
                        Ok(AgentMessage::Event(event)) => {
                            self.stats.events += 1;
                            self.events.push_back(Event::Agent(event));
                        }
                        Ok(AgentMessage::CommandResult(result)) => {
                            self.stats.command_results += 1;
                            self.complete(result, now);
                        }
                        Err(error) => self.report(error),
                    }
                }
                Err(error) => {
                    let fatal = error.requires_reconnect();
                    self.report(error);
                    if fatal {
                        self.transmits.push_back(Transmit::Close);
                        self.link_lost(DisconnectReason::Desynchronized, now);
                        return;
                    }
                }
            }
        }
        // Every byte of an unfinished frame moves its stall deadline; a finished one has none.
        if self.decoder.mid_frame() {
            if !bytes.is_empty() || !self.timers.is_armed(&Timer::Stall) {
                self.timers
                    .set(Timer::Stall, now + self.config.stall_timeout);
            }
        } else {
            self.timers.clear(&Timer::Stall);
        }
    }

    /// Deadlines: command timeouts, queued commands expiring, reconnect attempts, a stalled link.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.is_connected() && self.timers.is_due(&Timer::Stall, now) {
            self.stalled(now);
        }
        if self.link == Link::WaitingToReconnect && self.timers.is_due(&Timer::Reconnect, now) {
            self.begin_open();
        }
        let mut expired: Vec<(String, Pending)> = Vec::new();
        for (id, queue) in self.pending.iter_mut() {
            let (due, waiting): (VecDeque<Pending>, VecDeque<Pending>) = queue
                .drain(..)
                .partition(|p| self.timers.is_due(&Timer::Reply(p.seq), now));
            *queue = waiting;
            expired.extend(due.into_iter().map(|p| (id.clone(), p)));
        }
        self.pending.retain(|_, queue| !queue.is_empty());
        expired.sort_by_key(|(_, p)| p.sent_at);
        let timed_out = expired.len() as u32;
        for (id, pending) in expired {
            self.timers.clear(&Timer::Reply(pending.seq));
            self.local_result(id, pending, LocalOutcome::Timeout, now);
        }
        if timed_out > 0 && self.is_connected() {
            self.timeouts_in_a_row += timed_out;
            if self.timeouts_in_a_row >= self.config.max_timeouts_in_a_row.max(1) {
                self.stalled(now);
            }
        }
        while let Some(index) = self
            .queued
            .iter()
            .position(|q| self.timers.is_due(&Timer::Queued(q.seq), now))
        {
            if let Some(item) = self.queued.remove(index) {
                self.timers.clear(&Timer::Queued(item.seq));
                self.local_result_for_queued(item, LocalOutcome::NotConnected);
            }
        }
    }

    /// When [`Core::handle_timeout`] next has work.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    fn stalled(&mut self, now: Instant) {
        self.timeouts_in_a_row = 0;
        self.transmits.push_back(Transmit::Close);
        self.link_lost(DisconnectReason::Stalled, now);
    }

    // ----- outputs ----------------------------------------------------------------------------------------------

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next thing for the transport to do, in order.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    // ----- internals --------------------------------------------------------------------------------------------

    fn id_or_generated(&mut self, id: Option<&str>) -> String {
        match id.map(str::trim) {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => self.generate_id(),
        }
    }

    fn assign_ids(
        &mut self,
        keys: &[SubscriptionKey],
        request_id: &str,
    ) -> Vec<(SubscriptionKey, String)> {
        keys.iter()
            .enumerate()
            .map(|(index, key)| {
                let id = if index == 0 {
                    request_id.to_string()
                } else {
                    self.generate_id()
                };
                (key.clone(), id)
            })
            .collect()
    }

    fn subscribe_with_ids(
        &mut self,
        keys: Vec<(SubscriptionKey, String)>,
        request_id: &str,
        now: Instant,
    ) {
        for (key, id) in keys {
            let entry = ActiveSubscription {
                key: key.clone(),
                id: id.clone(),
                request_id: request_id.to_string(),
                acknowledged: false,
            };
            match self.subscriptions.iter_mut().find(|s| s.key == key) {
                Some(existing) => *existing = entry,
                None => self.subscriptions.push(entry),
            }
            if self.is_connected() {
                self.transmit(&Command::Subscribe(key), &id, request_id, false, now);
            }
        }
    }

    fn unsubscribe_with_ids(
        &mut self,
        keys: Vec<(SubscriptionKey, String)>,
        request_id: &str,
        now: Instant,
    ) {
        for (key, id) in keys {
            self.subscriptions.retain(|s| s.key != key);
            let command = Command::Unsubscribe(key.clone());
            if self.is_connected() {
                self.transmit(&command, &id, request_id, false, now);
            } else {
                self.push_local(
                    id,
                    request_id.to_string(),
                    command.action(),
                    Some(key),
                    LocalOutcome::HandledLocally,
                    false,
                    None,
                );
            }
        }
    }

    fn transmit(
        &mut self,
        command: &Command,
        id: &str,
        request_id: &str,
        automatic: bool,
        now: Instant,
    ) {
        let xml = command.to_xml(id);
        self.stats.commands_sent += 1;
        self.stats.bytes_sent += xml.len() as u64;
        self.transmits.push_back(Transmit::Bytes(xml.into_bytes()));
        let seq = self.arm_command(Timer::Reply, now);
        self.pending
            .entry(id.to_string())
            .or_default()
            .push_back(Pending {
                seq,
                request_id: request_id.to_string(),
                action: command.action(),
                subscription: command.subscription().cloned(),
                is_subscribe: matches!(command, Command::Subscribe(_)),
                sent_at: now,
                automatic,
            });
    }

    /// Arms a command timer (`Reply` or `Queued`) at the command timeout; returns its key.
    fn arm_command(&mut self, timer: fn(u64) -> Timer, now: Instant) -> u64 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        self.timers
            .set(timer(seq), now + self.config.command_timeout);
        seq
    }

    fn begin_open(&mut self) {
        self.timers.clear(&Timer::Reconnect);
        self.link = Link::Opening;
        self.transmits.push_back(Transmit::Open);
    }

    /// After a failed open or a lost link: the next attempt, or `None` when not reconnecting.
    fn schedule_reconnect(&mut self, now: Instant) -> Option<Duration> {
        if self.wanted && self.config.auto_reconnect {
            let delay = self.backoff.next_delay();
            self.timers.set(Timer::Reconnect, now + delay);
            self.link = Link::WaitingToReconnect;
            Some(delay)
        } else {
            self.timers.clear(&Timer::Reconnect);
            self.link = Link::Idle;
            None
        }
    }

    fn link_lost(&mut self, reason: DisconnectReason, now: Instant) {
        if let Link::Open { since } = self.link {
            if now.saturating_duration_since(since) >= self.config.stable_after {
                self.backoff.reset();
            }
        }
        self.timers.clear(&Timer::Stall);
        if let Some(truncated) = self.decoder.finish() {
            self.report(truncated);
        }
        // Commands not yet written die with the link; an open or close still stands.
        self.transmits
            .retain(|transmit| !matches!(transmit, Transmit::Bytes(_)));
        let outcome = if reason == DisconnectReason::ClosedByUser {
            LocalOutcome::ConnectionClosed
        } else {
            LocalOutcome::ConnectionLost
        };
        let mut lost: Vec<(String, Pending)> = self
            .pending
            .drain()
            .flat_map(|(id, queue)| queue.into_iter().map(move |p| (id.clone(), p)))
            .collect();
        lost.sort_by_key(|(_, p)| p.sent_at);
        self.timers.retain(|t| !matches!(t, Timer::Reply(_)));
        for (id, pending) in lost {
            if pending.is_subscribe && self.subscriptions.iter().any(|s| s.id == id) {
                continue; // resent with the same ID on the next connection
            }
            let outcome = if pending.subscription.is_some() && !pending.is_subscribe {
                LocalOutcome::HandledLocally // an unsubscribe: the agent drops subscriptions with the connection
            } else {
                outcome
            };
            self.local_result(id, pending, outcome, now);
        }
        let retry_in = self.schedule_reconnect(now);
        self.events.push_back(Event::Disconnected {
            reason,
            will_reconnect: retry_in.is_some(),
            retry_in,
        });
        if retry_in.is_none() && self.wanted {
            self.fail_queued(LocalOutcome::NotConnected, now);
        }
    }

    fn fail_queued(&mut self, outcome: LocalOutcome, _now: Instant) {
        let queued: Vec<Queued> = self.queued.drain(..).collect();
        self.timers.retain(|t| !matches!(t, Timer::Queued(_)));
        for item in queued {
            self.local_result_for_queued(item, outcome);
        }
    }

    fn report(&mut self, error: ConnectError) {
        self.stats.errors += 1;
        self.events.push_back(Event::Error(error));
    }

    fn complete(&mut self, result: CommandResult, now: Instant) {
        let pending = self
            .pending
            .get_mut(&result.id)
            .and_then(VecDeque::pop_front);
        if self.pending.get(&result.id).is_some_and(VecDeque::is_empty) {
            self.pending.remove(&result.id);
        }
        if let Some(p) = &pending {
            self.timers.clear(&Timer::Reply(p.seq));
        }
        let failure = result.error.map(|text| Failure::Agent {
            text,
            code: result.error_code,
        });
        if let Some(p) = &pending {
            if p.is_subscribe {
                if let Some(s) = self.subscriptions.iter_mut().find(|s| s.id == result.id) {
                    s.acknowledged = true;
                }
            }
        }
        let outcome = CommandOutcome {
            request_id: pending
                .as_ref()
                .map_or_else(|| result.id.clone(), |p| p.request_id.clone()),
            id: result.id,
            action: result.action,
            result: result.result,
            failure,
            matched: pending.is_some(),
            automatic: pending.as_ref().is_some_and(|p| p.automatic),
            local: false,
            elapsed: pending
                .as_ref()
                .map(|p| now.saturating_duration_since(p.sent_at)),
            subscription: pending.and_then(|p| p.subscription),
            extra: result.extra,
        };
        self.events
            .push_back(Event::CommandResult(Box::new(outcome)));
    }

    fn local_result(&mut self, id: String, pending: Pending, outcome: LocalOutcome, now: Instant) {
        let elapsed = Some(now.saturating_duration_since(pending.sent_at));
        self.push_local(
            id,
            pending.request_id,
            pending.action,
            pending.subscription,
            outcome,
            pending.automatic,
            elapsed,
        );
    }

    fn local_result_for_queued(&mut self, item: Queued, outcome: LocalOutcome) {
        let action = item.command.action();
        let subscription = item.command.subscription().cloned();
        self.push_local(
            item.id,
            item.request_id,
            action,
            subscription,
            outcome,
            false,
            None,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn push_local(
        &mut self,
        id: String,
        request_id: String,
        action: &str,
        subscription: Option<SubscriptionKey>,
        outcome: LocalOutcome,
        automatic: bool,
        elapsed: Option<Duration>,
    ) {
        let failure = (outcome != LocalOutcome::HandledLocally).then_some(Failure::Local {
            outcome,
            timeout: self.config.command_timeout,
        });
        self.events
            .push_back(Event::CommandResult(Box::new(CommandOutcome {
                id,
                request_id,
                action: action.to_string(),
                result: String::new(),
                failure,
                matched: true,
                automatic,
                local: true,
                elapsed,
                subscription,
                extra: Map::new(),
            })));
    }
}
