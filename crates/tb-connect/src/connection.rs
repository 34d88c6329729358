//! The connection state machine: what the transport worker feeds and polls.
//!
//! ```text
//!  connect() ──▶ Opening ──transport_opened──▶ Open ──transport_closed / desync──▶ WaitingToReconnect ─┐
//!                  │  ▲                                                                                │
//!                  │  └──────────────────────────── handle_timeout (backoff elapsed) ◀────────────────┘
//!                  └─transport_open_failed──▶ WaitingToReconnect (AutoReconnect) or Idle
//! ```
//!
//! Rules that the 1C class relies on:
//! - Subscriptions belong to the object, not to the connection: every active subscription is (re)sent each time the
//!   transport opens, with the ID it was first given; one made while disconnected is sent on the next open.
//! - Other commands made while disconnected wait for the connection up to the command timeout, then fail locally.
//! - Every command gets exactly one `CommandResult`: the agent's, or a local one (timeout, not connected, connection
//!   lost). A subscribe command pending when the link drops is resent instead of failed.
//! - Time only comes in through `now` parameters.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::command::Command;
use crate::error::ConnectError;
use crate::frame::{FrameDecoder, DEFAULT_DESYNC_LIMIT, DEFAULT_MAX_BODY};
use crate::message::{parse_message, AgentEvent, AgentMessage, CommandResult};
use crate::model::SubscriptionKey;
use tb_prims::{Backoff, BackoffPolicy, SplitMix64};

/// Settings of a [`ConnectCore`].
#[derive(Debug, Clone)]
pub struct CoreConfig {
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
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            max_frame_body: DEFAULT_MAX_BODY,
            desync_limit: DEFAULT_DESYNC_LIMIT,
            command_timeout: Duration::from_secs(10),
            auto_reconnect: true,
            backoff: BackoffPolicy::default(),
            stable_after: Duration::from_secs(10),
        }
    }
}

/// What the transport worker must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportAction {
    /// Open the pipe/socket, then call [`ConnectCore::transport_opened`] or [`ConnectCore::transport_open_failed`].
    Open,
    /// Close the pipe/socket. Do not report it back.
    Close,
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// `CloseConnectToAgent` or object teardown.
    ClosedByUser,
    /// The agent closed the pipe (end of stream).
    ClosedByAgent,
    /// A read or write failed.
    TransportError(String),
    /// The stream lost frame boundaries; the core closed it to start clean.
    Desynchronized,
}

impl DisconnectReason {
    pub fn code(&self) -> &'static str {
        match self {
            DisconnectReason::ClosedByUser => "ClosedByUser",
            DisconnectReason::ClosedByAgent => "ClosedByAgent",
            DisconnectReason::TransportError(_) => "TransportError",
            DisconnectReason::Desynchronized => "Desynchronized",
        }
    }

    pub fn en(&self) -> String {
        match self {
            DisconnectReason::ClosedByUser => "the connection was closed by the program".into(),
            DisconnectReason::ClosedByAgent => "the 1C-Connect agent closed the connection".into(),
            DisconnectReason::TransportError(detail) => format!("connection error: {detail}"),
            DisconnectReason::Desynchronized => {
                "the agent's stream was desynchronized; the connection was reset".into()
            }
        }
    }

    pub fn ru(&self) -> String {
        match self {
            DisconnectReason::ClosedByUser => "подключение закрыто программой".into(),
            DisconnectReason::ClosedByAgent => "агент 1С-Коннект закрыл подключение".into(),
            DisconnectReason::TransportError(detail) => format!("ошибка подключения: {detail}"),
            DisconnectReason::Desynchronized => {
                "поток агента рассинхронизирован; подключение сброшено".into()
            }
        }
    }
}

/// Why the add-in answered a command itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalOutcome {
    /// Sent, but no `CommandResult` within the command timeout.
    Timeout,
    /// Never sent: no connection within the command timeout (or reconnecting is off).
    NotConnected,
    /// Sent, then the connection dropped before the answer; the agent may or may not have executed it.
    ConnectionLost,
    /// `CloseConnectToAgent` came before the command was answered.
    ConnectionClosed,
    /// Handled without the agent (an unsubscribe while disconnected: the agent keeps no subscriptions between
    /// connections). Not an error.
    HandledLocally,
}

impl LocalOutcome {
    pub fn code(self) -> &'static str {
        match self {
            LocalOutcome::Timeout => "Timeout",
            LocalOutcome::NotConnected => "NotConnected",
            LocalOutcome::ConnectionLost => "ConnectionLost",
            LocalOutcome::ConnectionClosed => "ConnectionClosed",
            LocalOutcome::HandledLocally => "",
        }
    }

    fn texts(self, timeout: Duration) -> (String, String) {
        let ms = timeout.as_millis();
        match self {
            LocalOutcome::Timeout => (
                format!("the agent did not answer within {ms} ms"),
                format!("агент не ответил за {ms} мс"),
            ),
            LocalOutcome::NotConnected => (
                format!("not sent: no connection to the agent within {ms} ms"),
                format!("не отправлена: нет подключения к агенту в течение {ms} мс"),
            ),
            LocalOutcome::ConnectionLost => (
                "the connection dropped before the agent answered; the command may or may not have been executed"
                    .into(),
                "подключение прервалось до ответа агента; команда могла как выполниться, так и нет".into(),
            ),
            LocalOutcome::ConnectionClosed => (
                "the connection was closed before the agent answered".into(),
                "подключение закрыто до ответа агента".into(),
            ),
            LocalOutcome::HandledLocally => (String::new(), String::new()),
        }
    }
}

/// The answer to one command, from the agent or from the add-in.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandOutcome {
    /// The command ID on the wire.
    pub id: String,
    /// The ID the 1C method returned (equals `id` unless one method sent several commands).
    pub request_id: String,
    pub action: String,
    pub result: String,
    /// The agent's `<Error>` text, or the local reason.
    pub error: Option<String>,
    /// `AgentIsOffline`…, `Timeout`/`NotConnected`/`ConnectionLost`/`ConnectionClosed`, or `Unknown`.
    pub error_code: Option<String>,
    pub error_description_en: Option<String>,
    pub error_description_ru: Option<String>,
    /// The ID was one of this object's pending commands.
    pub matched: bool,
    /// The command was a resubscription the add-in sent after a reconnect.
    pub automatic: bool,
    /// The add-in produced this result (see [`LocalOutcome`]).
    pub local: bool,
    pub elapsed: Option<Duration>,
    pub subscription: Option<SubscriptionKey>,
    /// Anything else the agent put into `<CommandResult>`.
    pub extra: Map<String, Value>,
}

impl CommandOutcome {
    /// `Data` of the `CommandResult` event.
    pub fn to_json(&self) -> Value {
        let mut data = Map::new();
        data.insert("ID".into(), self.id.clone().into());
        data.insert("RequestID".into(), self.request_id.clone().into());
        data.insert("Action".into(), self.action.clone().into());
        data.insert("Result".into(), self.result.clone().into());
        data.insert(
            "Error".into(),
            self.error.clone().unwrap_or_default().into(),
        );
        data.insert(
            "ErrorCode".into(),
            self.error_code.clone().unwrap_or_default().into(),
        );
        data.insert(
            "ErrorDescriptionEn".into(),
            self.error_description_en.clone().unwrap_or_default().into(),
        );
        data.insert(
            "ErrorDescriptionRu".into(),
            self.error_description_ru.clone().unwrap_or_default().into(),
        );
        data.insert("Success".into(), self.error.is_none().into());
        data.insert("Matched".into(), self.matched.into());
        data.insert("Automatic".into(), self.automatic.into());
        data.insert("Local".into(), self.local.into());
        data.insert(
            "ElapsedMs".into(),
            self.elapsed
                .map_or(Value::Null, |d| (d.as_millis() as u64).into()),
        );
        if let Some(key) = &self.subscription {
            data.insert("Mode".into(), key.mode.as_str().into());
            data.insert("Object".into(), key.object.as_str().into());
            data.insert("Initiator".into(), key.initiator.as_str().into());
        }
        for (key, value) in &self.extra {
            data.entry(key.clone()).or_insert_with(|| value.clone());
        }
        Value::Object(data)
    }
}

/// What comes out of the core for the 1C side.
#[derive(Debug, Clone, PartialEq)]
pub enum CoreEvent {
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
    /// An attempt to open failed (not forwarded to 1C by default; useful in the log).
    ConnectFailed {
        reason: String,
        retry_in: Option<Duration>,
    },
    /// An `<Event>` from the agent.
    Agent(AgentEvent),
    CommandResult(Box<CommandOutcome>),
    /// A bad message; the connection survives unless `will_reconnect`/the error says otherwise.
    Error(ConnectError),
}

impl CoreEvent {
    /// The 1C event name.
    pub fn name(&self) -> &str {
        match self {
            CoreEvent::Connected { .. } => "Connected",
            CoreEvent::Disconnected { .. } => "Disconnected",
            CoreEvent::ConnectFailed { .. } => "ConnectFailed",
            CoreEvent::Agent(event) => &event.name,
            CoreEvent::CommandResult(_) => "CommandResult",
            CoreEvent::Error(_) => "Error",
        }
    }

    /// The 1C event data.
    pub fn data(&self) -> Value {
        match self {
            CoreEvent::Connected {
                reconnect,
                resubscribed,
            } => json!({ "Reconnect": reconnect, "Resubscribed": resubscribed }),
            CoreEvent::Disconnected {
                reason,
                will_reconnect,
                retry_in,
            } => json!({
                "Reason": reason.code(),
                "DescriptionEn": reason.en(),
                "DescriptionRu": reason.ru(),
                "WillReconnect": will_reconnect,
                "RetryInMs": retry_in.map(|d| d.as_millis() as u64),
            }),
            CoreEvent::ConnectFailed { reason, retry_in } => json!({
                "Reason": reason,
                "RetryInMs": retry_in.map(|d| d.as_millis() as u64),
            }),
            CoreEvent::Agent(event) => Value::Object(event.data.clone()),
            CoreEvent::CommandResult(outcome) => outcome.to_json(),
            CoreEvent::Error(error) => error.to_json(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Idle,
    WaitingToReconnect { at: Instant },
    Opening,
    Open { since: Instant },
}

#[derive(Debug, Clone)]
struct Pending {
    request_id: String,
    action: &'static str,
    subscription: Option<SubscriptionKey>,
    is_subscribe: bool,
    sent_at: Instant,
    deadline: Instant,
    automatic: bool,
}

#[derive(Debug, Clone)]
struct Queued {
    id: String,
    request_id: String,
    command: Command,
    deadline: Instant,
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
pub struct CoreStats {
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
pub struct ConnectCore {
    config: CoreConfig,
    link: Link,
    /// The user wants a connection (between `connect` and `close`).
    wanted: bool,
    decoder: FrameDecoder,
    backoff: Backoff,
    ids: SplitMix64,
    subscriptions: Vec<ActiveSubscription>,
    pending: HashMap<String, VecDeque<Pending>>,
    queued: VecDeque<Queued>,
    events: VecDeque<CoreEvent>,
    transmits: VecDeque<Vec<u8>>,
    actions: VecDeque<TransportAction>,
    stats: CoreStats,
}

impl ConnectCore {
    /// `seed` drives reconnect jitter and generated command IDs; pass fresh randomness in production.
    pub fn new(config: CoreConfig, seed: u64) -> Self {
        let decoder = FrameDecoder::new(config.max_frame_body, config.desync_limit);
        let backoff = Backoff::new(config.backoff.clone(), seed);
        ConnectCore {
            config,
            link: Link::Idle,
            wanted: false,
            decoder,
            backoff,
            ids: SplitMix64::new(seed ^ 0x5DEE_CE66_D1CE_5EED),
            subscriptions: Vec::new(),
            pending: HashMap::new(),
            queued: VecDeque::new(),
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            actions: VecDeque::new(),
            stats: CoreStats::default(),
        }
    }

    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    pub fn stats(&self) -> &CoreStats {
        &self.stats
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.link, Link::Open { .. })
    }

    /// `Idle`, `WaitingToReconnect`, `Opening` or `Open`.
    pub fn state_name(&self) -> &'static str {
        match self.link {
            Link::Idle => "Idle",
            Link::WaitingToReconnect { .. } => "WaitingToReconnect",
            Link::Opening => "Opening",
            Link::Open { .. } => "Open",
        }
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
            Link::WaitingToReconnect { .. } if !enabled => {
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

    // ----- inputs from the 1C side -------------------------------------------------------------------------------

    /// Start connecting (no-op when already open or opening). Resets the backoff.
    pub fn connect(&mut self, _now: Instant) {
        self.wanted = true;
        self.backoff.reset();
        match self.link {
            Link::Idle | Link::WaitingToReconnect { .. } => self.begin_open(),
            Link::Opening | Link::Open { .. } => {}
        }
    }

    /// Close and stay closed. Unanswered commands end with `ConnectionClosed`; subscriptions are kept and resent on
    /// the next `connect`.
    pub fn close(&mut self, now: Instant) {
        self.wanted = false;
        match self.link {
            Link::Open { .. } => {
                self.actions.push_back(TransportAction::Close);
                self.link_lost(DisconnectReason::ClosedByUser, now);
            }
            Link::Opening => {
                self.actions.push_back(TransportAction::Close);
                self.link = Link::Idle;
            }
            Link::WaitingToReconnect { .. } | Link::Idle => self.link = Link::Idle,
        }
        self.fail_queued(LocalOutcome::ConnectionClosed, now);
    }

    /// Send a command (subscribe/unsubscribe go through [`ConnectCore::subscribe`]/[`ConnectCore::unsubscribe`]).
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
                    self.queued.push_back(Queued {
                        id: id.clone(),
                        request_id: id.clone(),
                        command,
                        deadline: now + self.config.command_timeout,
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

    /// Unsubscribe from each key; IDs as in [`ConnectCore::subscribe`].
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

    pub fn transport_opened(&mut self, now: Instant) {
        if self.link != Link::Opening {
            // Closed by the user while the transport was opening.
            self.actions.push_back(TransportAction::Close);
            return;
        }
        self.link = Link::Open { since: now };
        self.decoder.reset();
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
            self.transmit(&item.command, &item.id, &item.request_id, false, now);
        }
        self.events.push_back(CoreEvent::Connected {
            reconnect: self.stats.connections > 1,
            resubscribed,
        });
    }

    pub fn transport_open_failed(&mut self, now: Instant, reason: &str) {
        if self.link != Link::Opening {
            return;
        }
        self.stats.connect_failures += 1;
        let retry_in = self.schedule_reconnect(now);
        self.events.push_back(CoreEvent::ConnectFailed {
            reason: reason.to_string(),
            retry_in,
        });
        if retry_in.is_none() {
            self.fail_queued(LocalOutcome::NotConnected, now);
        }
    }

    /// The transport closed or failed (not after [`TransportAction::Close`] from the core: that is already handled).
    pub fn transport_closed(&mut self, now: Instant, reason: DisconnectReason) {
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
                    match parse_message(&frame.text, frame.number) {
                        Ok(AgentMessage::Event(event)) => {
                            self.stats.events += 1;
                            self.events.push_back(CoreEvent::Agent(event));
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
                        self.actions.push_back(TransportAction::Close);
                        self.link_lost(DisconnectReason::Desynchronized, now);
                        return;
                    }
                }
            }
        }
    }

    /// Deadlines: command timeouts, queued commands expiring, reconnect attempts.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Link::WaitingToReconnect { at } = self.link {
            if now >= at {
                self.begin_open();
            }
        }
        let mut expired: Vec<(String, Pending)> = Vec::new();
        for (id, queue) in self.pending.iter_mut() {
            while queue.front().is_some_and(|p| p.deadline <= now) {
                if let Some(pending) = queue.pop_front() {
                    expired.push((id.clone(), pending));
                }
            }
        }
        self.pending.retain(|_, queue| !queue.is_empty());
        expired.sort_by_key(|(_, p)| p.sent_at);
        for (id, pending) in expired {
            self.local_result(id, pending, LocalOutcome::Timeout, now);
        }
        while let Some(index) = self.queued.iter().position(|q| q.deadline <= now) {
            if let Some(item) = self.queued.remove(index) {
                self.local_result_for_queued(item, LocalOutcome::NotConnected);
            }
        }
    }

    /// When [`ConnectCore::handle_timeout`] next has work.
    pub fn next_timeout(&self) -> Option<Instant> {
        let reconnect = match self.link {
            Link::WaitingToReconnect { at } => Some(at),
            _ => None,
        };
        let pending = self
            .pending
            .values()
            .filter_map(|queue| queue.front().map(|p| p.deadline));
        let queued = self.queued.iter().map(|q| q.deadline);
        reconnect.into_iter().chain(pending).chain(queued).min()
    }

    // ----- outputs ----------------------------------------------------------------------------------------------

    pub fn poll_event(&mut self) -> Option<CoreEvent> {
        self.events.pop_front()
    }

    /// One command document (UTF-8); write each with one write call.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmits.pop_front()
    }

    pub fn poll_action(&mut self) -> Option<TransportAction> {
        self.actions.pop_front()
    }

    /// State for the add-in's `Diagnostics()`.
    pub fn diagnostics(&self) -> Value {
        let s = &self.stats;
        json!({
            "State": self.state_name(),
            "Subscriptions": self.subscriptions.iter().map(|s| s.key.to_string()).collect::<Vec<_>>(),
            "PendingCommands": self.pending_count(),
            "QueuedCommands": self.queued.len(),
            "ReconnectFailures": self.backoff.failures(),
            "Connections": s.connections,
            "ConnectFailures": s.connect_failures,
            "Frames": s.frames,
            "Events": s.events,
            "CommandResults": s.command_results,
            "Errors": s.errors,
            "CommandsSent": s.commands_sent,
            "BytesReceived": s.bytes_received,
            "BytesSent": s.bytes_sent,
        })
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
        self.transmits.push_back(xml.into_bytes());
        self.pending
            .entry(id.to_string())
            .or_default()
            .push_back(Pending {
                request_id: request_id.to_string(),
                action: command.action(),
                subscription: command.subscription().cloned(),
                is_subscribe: matches!(command, Command::Subscribe(_)),
                sent_at: now,
                deadline: now + self.config.command_timeout,
                automatic,
            });
    }

    fn begin_open(&mut self) {
        self.link = Link::Opening;
        self.actions.push_back(TransportAction::Open);
    }

    /// After a failed open or a lost link: the next attempt, or `None` when not reconnecting.
    fn schedule_reconnect(&mut self, now: Instant) -> Option<Duration> {
        if self.wanted && self.config.auto_reconnect {
            let delay = self.backoff.next_delay();
            self.link = Link::WaitingToReconnect { at: now + delay };
            Some(delay)
        } else {
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
        if let Some(truncated) = self.decoder.finish() {
            self.report(truncated);
        }
        self.transmits.clear();
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
        self.events.push_back(CoreEvent::Disconnected {
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
        for item in queued {
            self.local_result_for_queued(item, outcome);
        }
    }

    fn report(&mut self, error: ConnectError) {
        self.stats.errors += 1;
        self.events.push_back(CoreEvent::Error(error));
    }

    fn complete(&mut self, result: CommandResult, now: Instant) {
        let pending = self
            .pending
            .get_mut(&result.id)
            .and_then(VecDeque::pop_front);
        if self.pending.get(&result.id).is_some_and(VecDeque::is_empty) {
            self.pending.remove(&result.id);
        }
        let (error_code, en, ru) = match (&result.error, result.error_code) {
            (None, _) => (None, None, None),
            (Some(_), Some(code)) => (
                Some(code.name().to_string()),
                Some(code.en().to_string()),
                Some(code.ru().to_string()),
            ),
            (Some(text), None) => (
                Some("Unknown".to_string()),
                Some(format!("The agent reported an undocumented error: {text}")),
                Some(format!(
                    "Агент сообщил о недокументированной ошибке: {text}"
                )),
            ),
        };
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
            error: result.error,
            error_code,
            error_description_en: en,
            error_description_ru: ru,
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
            .push_back(CoreEvent::CommandResult(Box::new(outcome)));
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
        let is_error = outcome != LocalOutcome::HandledLocally;
        let (en, ru) = outcome.texts(self.config.command_timeout);
        self.events
            .push_back(CoreEvent::CommandResult(Box::new(CommandOutcome {
                id,
                request_id,
                action: action.to_string(),
                result: String::new(),
                error: is_error.then(|| en.clone()),
                error_code: is_error.then(|| outcome.code().to_string()),
                error_description_en: is_error.then_some(en),
                error_description_ru: is_error.then_some(ru),
                matched: true,
                automatic,
                local: true,
                elapsed,
                subscription,
                extra: Map::new(),
            })));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::encode_agent_frame;
    use crate::model::DriverSubscription;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    struct Harness {
        core: ConnectCore,
        t0: Instant,
    }

    impl Harness {
        fn new() -> Self {
            Self::with(CoreConfig::default())
        }
        fn with(config: CoreConfig) -> Self {
            Harness {
                core: ConnectCore::new(config, 1234),
                t0: Instant::now(),
            }
        }
        fn at(&self, offset_ms: u64) -> Instant {
            self.t0 + ms(offset_ms)
        }
        fn events(&mut self) -> Vec<CoreEvent> {
            std::iter::from_fn(|| self.core.poll_event()).collect()
        }
        fn transmits(&mut self) -> Vec<String> {
            std::iter::from_fn(|| self.core.poll_transmit())
                .map(|b| String::from_utf8(b).unwrap())
                .collect()
        }
        fn actions(&mut self) -> Vec<TransportAction> {
            std::iter::from_fn(|| self.core.poll_action()).collect()
        }
        fn open(&mut self, at_ms: u64) {
            self.core.connect(self.at(at_ms));
            assert_eq!(self.actions(), vec![TransportAction::Open]);
            self.core.transport_opened(self.at(at_ms));
        }
        fn agent_says(&mut self, xml: &str, at_ms: u64) {
            let now = self.at(at_ms);
            self.core.handle_bytes(&encode_agent_frame(xml), now);
        }
        fn result_for(&mut self, id: &str, action: &str, error: Option<&str>, at_ms: u64) {
            let error = error
                .map(|e| format!("<Error>{e}</Error>"))
                .unwrap_or_default();
            self.agent_says(
                &format!(r#"<CommandResult Action="{action}" ID="{id}"><Result>true</Result>{error}</CommandResult>"#),
                at_ms,
            );
        }
    }

    fn id_of(xml: &str) -> String {
        let start = xml.find("ID=\"").unwrap() + 4;
        let end = xml[start..].find('"').unwrap() + start;
        xml[start..end].to_string()
    }

    fn outcomes(events: &[CoreEvent]) -> Vec<&CommandOutcome> {
        events
            .iter()
            .filter_map(|e| match e {
                CoreEvent::CommandResult(o) => Some(o.as_ref()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn connect_subscribe_and_correlate() {
        let mut h = Harness::new();
        h.open(0);
        assert_eq!(
            h.events(),
            vec![CoreEvent::Connected {
                reconnect: false,
                resubscribed: 0
            }]
        );
        let request = h
            .core
            .subscribe(&DriverSubscription::Softphone.keys(), None, h.at(1));
        let sent = h.transmits();
        assert_eq!(sent.len(), 2);
        assert!(
            sent[0].contains(r#"Action="EventSubscribe""#)
                && sent[0].contains(r#"Initiator="Incoming""#)
        );
        assert!(sent[1].contains(r#"Initiator="Self""#));
        assert_eq!(id_of(&sent[0]), request);
        let second = id_of(&sent[1]);
        assert_ne!(second, request);
        h.result_for(&second, "EventSubscribe", None, 5);
        h.result_for(&request, "EventSubscribe", None, 6);
        let events = h.events();
        let results = outcomes(&events);
        assert_eq!(results.len(), 2);
        assert!(results
            .iter()
            .all(|r| r.matched && r.request_id == request && r.error.is_none()));
        assert_eq!(results[0].id, second);
        assert_eq!(results[0].elapsed, Some(ms(4)));
        let data = events[0].data();
        assert_eq!(data["Mode"], "Softphone");
        assert_eq!(data["Initiator"], "Self");
        assert_eq!(data["Success"], true);
        assert_eq!(h.core.pending_count(), 0);
        assert_eq!(h.core.next_timeout(), None);
    }

    #[test]
    fn agent_events_come_out_in_order() {
        let mut h = Harness::new();
        h.open(0);
        h.events();
        let mut stream = encode_agent_frame(
            r#"<Event Object="Call" Mode="Softphone" Initiator="incoming"><State>Started</State></Event>"#,
        );
        stream.extend(encode_agent_frame(
            r#"<Event Object="AgentOnlineStatus"><Status>Online</Status></Event>"#,
        ));
        h.core.handle_bytes(&stream[..7], h.at(1));
        assert!(h.events().is_empty());
        h.core.handle_bytes(&stream[7..], h.at(2));
        let names: Vec<String> = h.events().iter().map(|e| e.name().to_string()).collect();
        assert_eq!(names, vec!["Call", "AgentOnlineStatus"]);
    }

    #[test]
    fn subscriptions_made_while_disconnected_are_sent_on_connect_and_after_every_reconnect() {
        let mut h = Harness::new();
        let status = h.core.subscribe(
            &DriverSubscription::OnlineStatus.keys(),
            Some("sub-1"),
            h.at(0),
        );
        assert_eq!(status, "sub-1");
        assert!(h.transmits().is_empty());
        h.open(10);
        let sent = h.transmits();
        assert_eq!(sent.len(), 1);
        assert_eq!(id_of(&sent[0]), "sub-1");
        assert!(sent[0].contains(r#"Object="AgentOnlineStatus""#));
        assert_eq!(
            h.events(),
            vec![CoreEvent::Connected {
                reconnect: false,
                resubscribed: 1
            }]
        );
        h.result_for("sub-1", "EventSubscribe", None, 20);
        assert!(!outcomes(&h.events())[0].automatic);

        h.core
            .transport_closed(h.at(30), DisconnectReason::ClosedByAgent);
        let events = h.events();
        let CoreEvent::Disconnected {
            will_reconnect: true,
            retry_in: Some(delay),
            ..
        } = events[0]
        else {
            panic!("{events:?}")
        };
        assert!(delay >= ms(400) && delay <= ms(600), "{delay:?}");
        assert_eq!(h.core.next_timeout(), Some(h.at(30) + delay));
        h.core.handle_timeout(h.at(30) + delay - ms(1));
        assert!(h.actions().is_empty());
        h.core.handle_timeout(h.at(30) + delay);
        assert_eq!(h.actions(), vec![TransportAction::Open]);
        h.core.transport_opened(h.at(1000));
        let resent = h.transmits();
        assert_eq!(resent.len(), 1);
        assert_eq!(id_of(&resent[0]), "sub-1");
        assert_eq!(
            h.events(),
            vec![CoreEvent::Connected {
                reconnect: true,
                resubscribed: 1
            }]
        );
        h.result_for("sub-1", "EventSubscribe", None, 1001);
        let events = h.events();
        let result = outcomes(&events)[0];
        assert!(result.automatic && result.matched);
    }

    #[test]
    fn unsubscribe_removes_from_the_resend_set() {
        let mut h = Harness::new();
        h.open(0);
        h.core
            .subscribe(&DriverSubscription::AllCall.keys(), None, h.at(1));
        assert_eq!(h.transmits().len(), 6);
        let request = h
            .core
            .unsubscribe(&DriverSubscription::ColleaguesCall.keys(), None, h.at(2));
        let sent = h.transmits();
        assert_eq!(sent.len(), 2);
        assert!(sent
            .iter()
            .all(|x| x.contains("EventUnSubscribe") && x.contains(r#"Mode="Colleagues""#)));
        assert_eq!(id_of(&sent[0]), request);
        assert_eq!(h.core.subscriptions().count(), 4);
        assert!(h
            .core
            .subscriptions()
            .all(|k| k.mode != crate::model::Mode::Colleagues));
    }

    #[test]
    fn unsubscribe_while_disconnected_is_answered_locally() {
        let mut h = Harness::new();
        h.core
            .subscribe(&DriverSubscription::Softphone.keys(), None, h.at(0));
        let id = h
            .core
            .unsubscribe(&DriverSubscription::Softphone.keys(), Some("u1"), h.at(1));
        assert_eq!(id, "u1");
        let events = h.events();
        let results = outcomes(&events);
        assert_eq!(results.len(), 2);
        assert!(results
            .iter()
            .all(|r| r.local && r.error.is_none() && r.request_id == "u1"));
        assert_eq!(h.core.subscriptions().count(), 0);
        h.open(5);
        assert!(h.transmits().is_empty());
    }

    #[test]
    fn command_timeout_is_driven_by_the_clock() {
        let mut h = Harness::with(CoreConfig {
            command_timeout: ms(2000),
            ..CoreConfig::default()
        });
        h.open(0);
        h.events();
        let id = h.core.send(
            Command::change_online_status("Away").unwrap(),
            Some(""),
            h.at(100),
        );
        assert_eq!(id.len(), 36);
        assert_eq!(h.transmits().len(), 1);
        assert_eq!(h.core.next_timeout(), Some(h.at(2100)));
        h.core.handle_timeout(h.at(2099));
        assert!(h.events().is_empty());
        h.core.handle_timeout(h.at(2100));
        let events = h.events();
        let result = outcomes(&events)[0];
        assert_eq!(result.error_code.as_deref(), Some("Timeout"));
        assert!(result.local);
        assert_eq!(result.id, id);
        assert!(result
            .error_description_ru
            .as_deref()
            .unwrap()
            .contains("2000"));
        // A late answer is still reported, flagged as unmatched.
        h.result_for(&id, "ChangeMyOnlineStatus", None, 3000);
        assert!(!outcomes(&h.events())[0].matched);
    }

    #[test]
    fn commands_wait_for_a_connection_then_expire() {
        let mut h = Harness::with(CoreConfig {
            command_timeout: ms(1000),
            ..CoreConfig::default()
        });
        let sent_later = h
            .core
            .send(Command::call_softphone("101").unwrap(), Some("c1"), h.at(0));
        assert_eq!(h.core.queued_count(), 1);
        h.open(500);
        let sent = h.transmits();
        assert_eq!(sent.len(), 1);
        assert_eq!(id_of(&sent[0]), sent_later);

        h.core
            .transport_closed(h.at(600), DisconnectReason::ClosedByAgent);
        h.events();
        h.core.send(
            Command::call_softphone("102").unwrap(),
            Some("c2"),
            h.at(700),
        );
        h.core.handle_timeout(h.at(1700));
        let events = h.events();
        let expired: Vec<_> = outcomes(&events)
            .into_iter()
            .filter(|o| o.id == "c2")
            .collect();
        assert_eq!(expired[0].error_code.as_deref(), Some("NotConnected"));
    }

    #[test]
    fn pending_commands_on_link_loss() {
        let mut h = Harness::new();
        h.open(0);
        h.core.send(
            Command::change_online_status("Online").unwrap(),
            Some("s1"),
            h.at(1),
        );
        h.core
            .subscribe(&DriverSubscription::Softphone.keys(), Some("sub"), h.at(2));
        h.transmits();
        h.events();
        h.core.transport_closed(
            h.at(3),
            DisconnectReason::TransportError("broken pipe".into()),
        );
        let events = h.events();
        let results = outcomes(&events);
        assert_eq!(
            results.len(),
            1,
            "subscriptions are resent, not failed: {events:?}"
        );
        assert_eq!(results[0].id, "s1");
        assert_eq!(results[0].error_code.as_deref(), Some("ConnectionLost"));
        assert!(matches!(
            events.last(),
            Some(CoreEvent::Disconnected {
                will_reconnect: true,
                ..
            })
        ));
        assert_eq!(h.core.pending_count(), 0);
    }

    #[test]
    fn malformed_messages_do_not_break_the_connection() {
        let mut h = Harness::new();
        h.open(0);
        h.events();
        let mut stream = encode_agent_frame("<Event><Broken></Event>");
        stream.extend(encode_agent_frame("<Hello/>"));
        stream.extend(encode_agent_frame(
            r#"<Event Object="Message"><MessageBody>ok</MessageBody></Event>"#,
        ));
        h.core.handle_bytes(&stream, h.at(1));
        let events = h.events();
        let names: Vec<&str> = events.iter().map(CoreEvent::name).collect();
        assert_eq!(names, vec!["Error", "Error", "Message"]);
        assert_eq!(events[0].data()["Code"], "MalformedXml");
        assert_eq!(events[0].data()["Frame"], 1);
        assert!(h.core.is_connected());
        assert!(h.actions().is_empty());
    }

    #[test]
    fn oversize_frame_is_reported_and_skipped() {
        let mut h = Harness::with(CoreConfig {
            max_frame_body: 100,
            ..CoreConfig::default()
        });
        h.open(0);
        h.events();
        let mut stream = encode_agent_frame(&format!("<Event>{}</Event>", "я".repeat(200)));
        stream.extend(encode_agent_frame(r#"<Event Object="Call"/>"#));
        h.core.handle_bytes(&stream, h.at(1));
        let names: Vec<String> = h.events().iter().map(|e| e.name().to_string()).collect();
        assert_eq!(names, vec!["Error", "Call"]);
        assert!(h.core.is_connected());
    }

    #[test]
    fn desynchronized_stream_forces_a_reconnect() {
        let mut h = Harness::new();
        h.open(0);
        h.events();
        h.core
            .handle_bytes(&[0x10, 0, 0, 0, b'G', b'E', b'T', b' '], h.at(1));
        let events = h.events();
        assert_eq!(events[0].data()["Code"], "Desynchronized");
        assert!(matches!(
            events[1],
            CoreEvent::Disconnected {
                reason: DisconnectReason::Desynchronized,
                will_reconnect: true,
                ..
            }
        ));
        assert_eq!(h.actions(), vec![TransportAction::Close]);
        assert!(!h.core.is_connected());
        // A late transport report for the same link is ignored.
        h.core
            .transport_closed(h.at(2), DisconnectReason::ClosedByAgent);
        assert!(h.events().is_empty());
    }

    #[test]
    fn truncated_frame_is_reported_on_disconnect() {
        let mut h = Harness::new();
        h.open(0);
        h.events();
        let frame = encode_agent_frame(r#"<Event Object="Call"/>"#);
        h.core.handle_bytes(&frame[..frame.len() - 1], h.at(1));
        h.core
            .transport_closed(h.at(2), DisconnectReason::ClosedByAgent);
        let events = h.events();
        assert_eq!(events[0].data()["Code"], "TruncatedFrame");
        assert_eq!(events[1].name(), "Disconnected");
    }

    #[test]
    fn hundred_commands_in_flight_are_correlated_in_any_order() {
        let mut h = Harness::new();
        h.open(0);
        h.events();
        let ids: Vec<String> = (0..100)
            .map(|i| {
                h.core.send(
                    Command::call_softphone(&format!("{i}")).unwrap(),
                    None,
                    h.at(1),
                )
            })
            .collect();
        assert_eq!(h.transmits().len(), 100);
        let mut stream = Vec::new();
        for id in ids.iter().rev() {
            stream.extend(encode_agent_frame(&format!(
                r#"<CommandResult Action="Call" ID="{id}"><Result>true</Result></CommandResult>"#
            )));
        }
        h.core.handle_bytes(&stream, h.at(50));
        let events = h.events();
        let results = outcomes(&events);
        assert_eq!(results.len(), 100);
        assert!(results.iter().all(|r| r.matched));
        let answered: Vec<String> = results.iter().map(|r| r.id.clone()).collect();
        let expected: Vec<String> = ids.iter().rev().cloned().collect();
        assert_eq!(answered, expected);
        assert_eq!(h.core.pending_count(), 0);
    }

    #[test]
    fn agent_error_constants_are_explained() {
        let mut h = Harness::new();
        h.open(0);
        h.events();
        let id = h.core.send(
            Command::SendMessage {
                recipient: crate::command::Recipient::Colleagues {
                    colleague_id: "x".into(),
                },
                text: "hi".into(),
            },
            Some("m1"),
            h.at(1),
        );
        h.result_for(&id, "SendMessage", Some("Unable to find Colleague"), 2);
        let data = h.events()[0].data();
        assert_eq!(data["ErrorCode"], "UnableToFindColleague");
        assert_eq!(data["Success"], false);
        assert!(data["ErrorDescriptionRu"]
            .as_str()
            .unwrap()
            .contains("коллегу"));
        h.result_for("m2", "SendMessage", Some("brand new error"), 3);
        assert_eq!(h.events()[0].data()["ErrorCode"], "Unknown");
    }

    #[test]
    fn close_by_user_does_not_reconnect() {
        let mut h = Harness::new();
        h.open(0);
        h.core.send(
            Command::change_online_status("Away").unwrap(),
            Some("a"),
            h.at(1),
        );
        h.events();
        h.transmits();
        h.core.close(h.at(2));
        assert_eq!(h.actions(), vec![TransportAction::Close]);
        let events = h.events();
        assert_eq!(
            outcomes(&events)[0].error_code.as_deref(),
            Some("ConnectionClosed")
        );
        assert!(matches!(
            events.last(),
            Some(CoreEvent::Disconnected {
                reason: DisconnectReason::ClosedByUser,
                will_reconnect: false,
                retry_in: None
            })
        ));
        assert_eq!(h.core.next_timeout(), None);
        h.core.handle_timeout(h.at(100_000));
        assert!(h.actions().is_empty());
    }

    #[test]
    fn failed_opens_back_off_exponentially_until_capped() {
        let mut h = Harness::with(CoreConfig {
            backoff: BackoffPolicy {
                initial: ms(100),
                max: ms(1000),
                multiplier: 2.0,
                jitter: tb_prims::Jitter::Proportional(0.0),
            },
            ..CoreConfig::default()
        });
        h.core.connect(h.at(0));
        let mut now = h.at(0);
        let mut delays = Vec::new();
        for _ in 0..6 {
            assert_eq!(h.actions(), vec![TransportAction::Open]);
            h.core.transport_open_failed(now, "no such file");
            let Some(CoreEvent::ConnectFailed {
                retry_in: Some(delay),
                ..
            }) = h.core.poll_event()
            else {
                panic!()
            };
            delays.push(delay.as_millis());
            now = h.core.next_timeout().unwrap();
            h.core.handle_timeout(now);
        }
        assert_eq!(delays, vec![100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn auto_reconnect_off_gives_up() {
        let mut h = Harness::with(CoreConfig {
            auto_reconnect: false,
            ..CoreConfig::default()
        });
        h.core
            .send(Command::call_softphone("1").unwrap(), Some("q"), h.at(0));
        h.core.connect(h.at(0));
        h.actions();
        h.core.transport_open_failed(h.at(1), "refused");
        let events = h.events();
        assert!(matches!(
            events[0],
            CoreEvent::ConnectFailed { retry_in: None, .. }
        ));
        assert_eq!(
            outcomes(&events)[0].error_code.as_deref(),
            Some("NotConnected")
        );
        assert_eq!(h.core.next_timeout(), None);
        h.core.set_auto_reconnect(true, h.at(2));
        assert_eq!(h.actions(), vec![TransportAction::Open]);
    }

    #[test]
    fn stable_connection_resets_the_backoff_short_one_does_not() {
        let mut h = Harness::with(CoreConfig {
            backoff: BackoffPolicy {
                initial: ms(100),
                max: ms(10_000),
                multiplier: 2.0,
                jitter: tb_prims::Jitter::Proportional(0.0),
            },
            stable_after: ms(5000),
            ..CoreConfig::default()
        });
        h.open(0);
        h.core
            .transport_closed(h.at(10), DisconnectReason::ClosedByAgent);
        h.core.handle_timeout(h.at(110));
        h.core.transport_opened(h.at(110));
        h.core
            .transport_closed(h.at(120), DisconnectReason::ClosedByAgent);
        let retry: Vec<Option<Duration>> = h
            .events()
            .into_iter()
            .filter_map(|e| match e {
                CoreEvent::Disconnected { retry_in, .. } => Some(retry_in),
                _ => None,
            })
            .collect();
        assert_eq!(retry, vec![Some(ms(100)), Some(ms(200))]);
        h.core.handle_timeout(h.at(320));
        h.core.transport_opened(h.at(320));
        h.core
            .transport_closed(h.at(6000), DisconnectReason::ClosedByAgent);
        let last = h.events().into_iter().last();
        assert!(
            matches!(last, Some(CoreEvent::Disconnected { retry_in: Some(d), .. }) if d == ms(100))
        );
    }

    #[test]
    fn duplicate_caller_ids_are_answered_in_send_order() {
        let mut h = Harness::new();
        h.open(0);
        h.events();
        h.core
            .send(Command::call_softphone("1").unwrap(), Some("same"), h.at(1));
        h.core.send(
            Command::change_online_status("Away").unwrap(),
            Some("same"),
            h.at(2),
        );
        h.result_for("same", "Call", None, 3);
        h.result_for("same", "ChangeMyOnlineStatus", None, 4);
        let events = h.events();
        let results = outcomes(&events);
        assert!(results.iter().all(|r| r.matched));
        assert_eq!(h.core.pending_count(), 0);
    }

    #[test]
    fn bytes_outside_a_connection_are_ignored() {
        let mut h = Harness::new();
        h.core
            .handle_bytes(&encode_agent_frame("<Event/>"), h.at(0));
        assert!(h.events().is_empty());
    }
}
