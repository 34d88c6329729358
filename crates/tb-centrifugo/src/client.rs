//! The real-time client as a sans-IO state machine.
//!
//! The transport (a WebSocket on a worker thread) feeds it: [`Core::handle_opened`],
//! [`Core::handle_frame`], [`Core::handle_closed`], [`Core::handle_timeout`], and executes what
//! [`Core::poll_transmit`] returns. The application calls [`Core::connect`], [`Core::subscribe`]... and
//! reads [`Core::poll_event`]: typed facts, which the add-in's presentation layer turns into 1C events.
//! Time is always passed in, so every timer is testable with a fake clock.
//!
//! Behaviour follows the official SDKs (centrifuge-js, centrifuge-go): server pings are answered, a missing
//! ping within `ping + max_server_ping_delay` means a dead link, reconnects use capped exponential backoff
//! with jitter, disconnect codes 3500–3999 and 4500–4999 are terminal, subscriptions come back with recovery.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::protocol::{
    self, CodeReason, ConnectResult, Publication, Push, RefreshResult, Reply, ReplyError,
    SubscribeResult,
};
use crate::{Argument, Error};
use tb_prims::{BackoffPolicy, SplitMix64, Timers};

/// Why the client is disconnected (`Event::Disconnected`; its `reason` is the server's or the transport's text,
/// or for the client's own reasons the reason string centrifuge-js reports, such as `no ping` — protocol
/// vocabulary, not a sentence for people). The client's own reasons are distinct variants — their numbers,
/// the same as centrifuge-js's so the SDK docs apply, overlap (`TransportClosed` and a terminal reason share 1) —
/// or the code the server sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectCode {
    /// `disconnect()` was called.
    DisconnectCalled,
    /// The WebSocket was closed with 1009 (message too big); terminal.
    MessageSizeLimit,
    /// Reconnecting: the transport closed (network, proxy, server restart).
    TransportClosed,
    /// Reconnecting: no server ping within the ping interval plus slack.
    NoPing,
    /// Reconnecting: a command got no reply in time.
    CommandTimeout,
    /// The server's close or disconnect code (3000 and up), or the error code of a refused connect.
    Server(u32),
}

impl DisconnectCode {
    /// The number centrifuge-js reports for it.
    pub fn number(self) -> u32 {
        match self {
            DisconnectCode::DisconnectCalled => 0,
            DisconnectCode::TransportClosed => 1,
            DisconnectCode::NoPing => 2,
            DisconnectCode::MessageSizeLimit | DisconnectCode::CommandTimeout => 3,
            DisconnectCode::Server(code) => code,
        }
    }
}

/// Why a subscription ended (`Event::Unsubscribed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsubscribeCode {
    /// `unsubscribe()` was called.
    UnsubscribeCalled,
    /// Subscription refused for good (permission, bad token...).
    SubscribeRefused,
    /// The server's unsubscribe code (below [`codes::RESUBSCRIBE_FROM`]: the subscription ends).
    Server(u32),
}

impl UnsubscribeCode {
    /// The number centrifuge-js reports for it.
    pub fn number(self) -> u32 {
        match self {
            UnsubscribeCode::UnsubscribeCalled => 0,
            UnsubscribeCode::SubscribeRefused => 1,
            UnsubscribeCode::Server(code) => code,
        }
    }
}

/// Protocol numbers: the server's codes this client acts on, and the codes of its own `Event::Error`s.
pub mod codes {
    /// `Event::Error` of kind transport: the link could not open.
    pub const TRANSPORT_CLOSED: u32 = 1;
    /// `Event::Error` of kind protocol: the server spoke something that is not the protocol.
    pub const BAD_PROTOCOL: u32 = 2;
    /// Server: connection expired (token not refreshed in time) — reconnects with a new token.
    pub const SERVER_EXPIRED: u32 = 3005;
    /// Server: state invalidated — clear positions and token, reconnect.
    pub const SERVER_STATE_INVALIDATED: u32 = 3014;
    /// Server unsubscribe push: below this code the subscription ends, from it on the client resubscribes.
    pub const RESUBSCRIBE_FROM: u32 = 2500;
    /// Server unsubscribe push: subscription state invalidated (resubscribe without recovery).
    pub const UNSUBSCRIBE_STATE_INVALIDATED: u32 = 2502;
    /// Error code "token expired" in replies.
    pub const TOKEN_EXPIRED: u32 = 109;
    /// Error code "already subscribed": the server subscribed the channel itself (server-side subscription).
    pub const ALREADY_SUBSCRIBED: u32 = 105;
}

/// Whether a server close/disconnect code allows reconnecting (centrifuge-js and centrifuge-go rules).
pub fn code_allows_reconnect(code: u32) -> bool {
    !((3500..4000).contains(&code) || (4500..5000).contains(&code))
}

#[derive(Debug, Clone)]
pub struct Config {
    pub min_reconnect_delay: Duration,
    pub max_reconnect_delay: Duration,
    /// Slack added to the server's ping interval before the link counts as dead.
    pub max_server_ping_delay: Duration,
    /// How long a command (connect, subscribe...) may wait for its reply.
    pub command_timeout: Duration,
    /// TokenExpiring fires this long before the token's expiry (at most half the lifetime).
    pub token_refresh_margin: Duration,
    pub jitter_seed: u64,
    pub name: String,
    pub version: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            min_reconnect_delay: Duration::from_millis(500),
            max_reconnect_delay: Duration::from_secs(20),
            max_server_ping_delay: Duration::from_secs(10),
            command_timeout: Duration::from_secs(10),
            token_refresh_margin: Duration::from_secs(15),
            jitter_seed: 0x5EED,
            name: "telephony-bridge".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// What the transport must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transmit {
    /// Open the WebSocket (then call `handle_opened` or `handle_closed`).
    Open,
    /// Send one text message (possibly several newline-separated commands).
    Text(String),
    /// Close the WebSocket; the core already considers it gone (do not report `handle_closed`).
    Close { code: u16, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Connected {
        client_id: String,
        version: String,
        data: Option<String>,
    },
    Disconnected {
        code: DisconnectCode,
        reason: String,
        will_reconnect: bool,
    },
    Subscribed {
        channel: String,
        recovered: bool,
        was_recovering: bool,
        recoverable: bool,
        offset: u64,
        epoch: String,
    },
    Unsubscribed {
        channel: String,
        code: UnsubscribeCode,
        reason: String,
    },
    Publication(Publication),
    /// Pass a new token: `set_token` for the connection (`channel` None), `subscribe(channel, token)` for a channel.
    TokenExpiring {
        channel: Option<String>,
    },
    Error {
        kind: ErrorKind,
        code: u32,
        detail: ErrorDetail,
        channel: Option<String>,
    },
}

/// Which exchange an [`Event::Error`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The transport could not open the link.
    Transport,
    /// A frame that is not the protocol.
    Protocol,
    Connect,
    Refresh,
    Subscribe,
    SubscriptionRefresh,
}

/// What went wrong, in the words of whoever noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorDetail {
    /// The server's error message or the transport's reason, verbatim.
    Peer(String),
    /// Something this crate found wrong.
    Core(Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Disconnected,
    Connecting,
    Connected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    /// The `Reconnect` timer is armed.
    WaitingReconnect,
    /// A new token is needed before connecting again: TokenExpiring was raised and is raised again by the
    /// `TokenAsk` timer (with backoff) until `set_token` answers — a 1C handler that failed once must not leave
    /// the client idle for good.
    WaitingToken,
    Opening,
    Handshake,
    Connected,
}

/// The client's deadlines, all in one table.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Timer {
    /// The next connection attempt.
    Reconnect,
    /// No server ping by then means a dead link.
    Ping,
    /// The reply to command `id` is due.
    Reply(u32),
    /// Ask for a new connection token (connected: before expiry, then again with backoff until answered).
    TokenRefresh,
    /// Ask again for the token the connection waits for (phase `WaitingToken`).
    TokenAsk,
    /// Ask for a new subscription token of a channel.
    SubscriptionToken(String),
    /// Subscribe to a channel again after a temporary refusal.
    Resubscribe(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    Connect,
    /// The channel and the attempt that sent it: a late reply must not land on a newer subscription.
    Subscribe(String, u64),
    Unsubscribe,
    Refresh,
    SubRefresh(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SubPhase {
    /// Waiting for the connection (or a resubscribe delay).
    Pending,
    Subscribing,
    Subscribed,
    /// A subscription token is needed (TokenExpiring with the channel was sent).
    WaitingToken,
}

/// Where a subscription stands in its channel's stream — the same for client-side and server-side ones.
#[derive(Clone, Debug, Default)]
struct Stream {
    /// The server keeps history for recovery (`recover` is asked on the next subscribe).
    recoverable: bool,
    /// The server checks positions; only then are offsets trusted enough to drop duplicates.
    positioned: bool,
    offset: u64,
    epoch: String,
    /// A subscribe reply arrived at least once (so there is something invalidation can lose).
    known: bool,
    /// The server invalidated the state (2502, 3014): the next subscribe must say it did not recover.
    invalidated: bool,
    /// Offsets the next recovery steps over: its reply (or the message carrying it) was over the transport's size
    /// cap, so asking from the same position again would only end the link again (see [`Core::handle_oversized`]).
    skip: u64,
}

/// The widest step over a recovery that stays too large; beyond it the stream is taken afresh (no recovery).
const MAX_RECOVERY_SKIP: u64 = 8;

impl Stream {
    fn tracks_position(&self) -> bool {
        self.recoverable || self.positioned
    }

    fn invalidate(&mut self) {
        if self.known {
            self.invalidated = true;
        }
        self.recoverable = false;
        self.offset = 0;
        self.skip = 0;
        self.epoch.clear();
    }

    /// The recovery of this stream did not fit the transport's size cap: the next one starts one offset further,
    /// then two, four, eight; after that the stream is taken afresh, so one message can never end the link for
    /// good. Either way the next `Subscribed` reports the loss.
    fn step_over_oversized(&mut self) {
        self.skip = if self.skip == 0 { 1 } else { self.skip * 2 };
        if self.skip > MAX_RECOVERY_SKIP {
            self.invalidate();
        }
    }

    /// Adds `recover`/`offset`/`epoch` to a subscribe request when there is a position to recover from.
    fn recovery_request(&self, request: &mut Map<String, Value>) {
        if self.recoverable {
            request.insert("recover".into(), json!(true));
            request.insert(
                "offset".into(),
                json!(self.offset.saturating_add(self.skip)),
            );
            request.insert("epoch".into(), json!(self.epoch));
        }
    }

    /// Takes a subscribe result; returns (was_recovering, recovered) as the application must see them.
    fn apply(&mut self, result: &SubscribeResult) -> (bool, bool) {
        let asked_to_recover = self.recoverable;
        // An empty epoch (ours or the reply's) is no evidence of a new stream: the first one seen is adopted.
        let new_epoch =
            !self.epoch.is_empty() && !result.epoch.is_empty() && result.epoch != self.epoch;
        // Publications were stepped over (see `step_over_oversized`): whatever the server says, not all came back.
        let skipped = asked_to_recover && self.skip > 0;
        let was_recovering = result.was_recovering || asked_to_recover || self.invalidated;
        let recovered =
            was_recovering && result.recovered && !self.invalidated && !new_epoch && !skipped;
        self.known = true;
        self.invalidated = false;
        self.skip = 0;
        self.recoverable = result.recoverable;
        self.positioned = result.positioned || result.recoverable;
        if !recovered {
            // A fresh stream: positions from before are meaningless now.
            self.offset = 0;
        }
        if !result.epoch.is_empty() {
            self.epoch = result.epoch.clone();
        } else if !recovered {
            self.epoch.clear();
        }
        (was_recovering, recovered)
    }

    /// Whether a publication at `offset` is new; moves the position. Only a positioned stream drops anything:
    /// elsewhere offsets may restart without notice.
    fn accept(&mut self, offset: u64) -> bool {
        if offset == 0 {
            return true;
        }
        if self.tracks_position() && offset <= self.offset {
            // Offsets of a stream start at 1: a 1 after a higher position is a new stream (history lost, e.g. a
            // flushed Redis), not a repeat — pushes carry no epoch to say so.
            if !(offset == 1 && self.offset > 1) {
                return false;
            }
        }
        self.offset = offset;
        true
    }
}

#[derive(Clone)]
struct Subscription {
    phase: SubPhase,
    token: String,
    stream: Stream,
    /// Which subscribe command is the current one (see [`Pending::Subscribe`]).
    attempt: u64,
    attempts: u32,
    /// Backoff step of repeated TokenExpiring asks for this channel.
    token_step: u32,
}

impl Subscription {
    fn new(token: String) -> Subscription {
        Subscription {
            phase: SubPhase::Pending,
            token,
            stream: Stream::default(),
            attempt: 0,
            attempts: 0,
            token_step: 0,
        }
    }
}

/// Counters for diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub connects: u64,
    pub reconnect_attempts: u64,
    pub publications: u64,
    pub duplicates_dropped: u64,
    pub pings_answered: u64,
    pub bad_frames: u64,
    pub recoveries: u64,
    pub recoveries_failed: u64,
    /// Recoveries that had to step over publications too large for the transport (see `Core::handle_oversized`).
    pub oversized_skips: u64,
}

pub struct Core {
    config: Config,
    phase: Phase,
    token: String,
    next_id: u32,
    /// Commands waiting for their reply; each has a `Reply` timer.
    pending: BTreeMap<u32, Pending>,
    /// Every deadline of the client: `next_timeout()` is the earliest of them.
    timers: Timers<Timer>,
    subs: BTreeMap<String, Subscription>,
    /// Server-side subscriptions (connect reply `subs`, subscribe pushes): not ours to (un)subscribe, but their
    /// positions are recovered on reconnect through the connect command's `subs`.
    server_subs: BTreeMap<String, Stream>,
    /// Numbers subscribe attempts across all channels.
    subscribe_attempts: u64,
    /// Backoff step of repeated TokenExpiring asks for the connection.
    token_step: u32,
    events: VecDeque<Event>,
    transmits: VecDeque<Transmit>,
    outgoing: Vec<String>,
    jitter: SplitMix64,
    reconnect_step: u32,
    ping_interval: Option<Duration>,
    send_pong: bool,
    client_id: String,
    stats: Stats,
}

impl fmt::Debug for Core {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token is a credential: show only whether it is set.
        f.debug_struct("Core")
            .field("phase", &self.phase)
            .field("token_set", &!self.token.is_empty())
            .field("subscriptions", &self.subs.keys().collect::<Vec<_>>())
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl Core {
    pub fn new(config: Config) -> Core {
        let jitter = SplitMix64::new(config.jitter_seed);
        Core {
            config,
            phase: Phase::Idle,
            token: String::new(),
            next_id: 1,
            pending: BTreeMap::new(),
            subs: BTreeMap::new(),
            server_subs: BTreeMap::new(),
            subscribe_attempts: 0,
            token_step: 0,
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            outgoing: Vec::new(),
            jitter,
            reconnect_step: 0,
            ping_interval: None,
            send_pong: false,
            timers: Timers::new(),
            client_id: String::new(),
            stats: Stats::default(),
        }
    }

    // ----- what the application asks -----

    /// Starts connecting with `token` (may be empty when Centrifugo allows anonymous or uses a connect proxy).
    pub fn connect(&mut self, token: &str, _now: Instant) {
        self.token = token.to_string();
        match self.phase {
            Phase::Idle | Phase::WaitingReconnect | Phase::WaitingToken => {
                self.reconnect_step = 0;
                self.token_step = 0;
                self.open();
            }
            Phase::Opening | Phase::Handshake | Phase::Connected => {}
        }
    }

    /// Leaves for good (until the next `connect`). Subscriptions are kept and come back on `connect`.
    pub fn disconnect(&mut self, _now: Instant) {
        let was = self.state();
        if matches!(
            self.phase,
            Phase::Opening | Phase::Handshake | Phase::Connected
        ) {
            self.outgoing.clear();
            self.transmits.push_back(Transmit::Close {
                code: 1000,
                reason: "disconnect called".into(),
            });
        }
        self.reset_connection_state();
        self.phase = Phase::Idle;
        if was != State::Disconnected {
            self.events.push_back(Event::Disconnected {
                code: DisconnectCode::DisconnectCalled,
                reason: "disconnect called".into(),
                will_reconnect: false,
            });
        }
    }

    /// Subscribes to `channel`; with a token for channels that need one. Calling it again for a
    /// subscribed channel with a new token refreshes the subscription token (`sub_refresh`).
    pub fn subscribe(&mut self, channel: &str, token: &str, now: Instant) -> Result<(), Error> {
        if channel.trim().is_empty() {
            return Err(Error::EmptyArgument {
                what: Argument::Channel,
            });
        }
        let connected = self.phase == Phase::Connected;
        if let Some(sub) = self.subs.get_mut(channel) {
            if !token.is_empty() {
                sub.token = token.to_string();
                sub.token_step = 0;
            }
            match sub.phase {
                SubPhase::Subscribed if !token.is_empty() && connected => {
                    let command = json!({"channel": channel, "token": token});
                    self.timers
                        .clear(&Timer::SubscriptionToken(channel.to_string()));
                    self.send_command(
                        "sub_refresh",
                        command,
                        Pending::SubRefresh(channel.to_string()),
                        now,
                    );
                }
                SubPhase::WaitingToken => {
                    sub.phase = SubPhase::Pending;
                    self.timers
                        .clear(&Timer::SubscriptionToken(channel.to_string()));
                    if connected {
                        self.send_subscribe(channel, now);
                    }
                }
                _ => {}
            }
            return Ok(());
        }
        self.subs
            .insert(channel.to_string(), Subscription::new(token.to_string()));
        if connected {
            self.send_subscribe(channel, now);
        }
        Ok(())
    }

    pub fn unsubscribe(&mut self, channel: &str, now: Instant) -> Result<(), Error> {
        let Some(sub) = self.forget_subscription(channel) else {
            return Err(Error::NotSubscribed {
                channel: channel.to_string(),
            });
        };
        if self.phase == Phase::Connected
            && matches!(sub.phase, SubPhase::Subscribing | SubPhase::Subscribed)
        {
            self.send_command(
                "unsubscribe",
                json!({"channel": channel}),
                Pending::Unsubscribe,
                now,
            );
        }
        self.events.push_back(Event::Unsubscribed {
            channel: channel.to_string(),
            code: UnsubscribeCode::UnsubscribeCalled,
            reason: "unsubscribe called".into(),
        });
        Ok(())
    }

    /// A new connection token (the answer to `TokenExpiring`).
    pub fn set_token(&mut self, token: &str, now: Instant) {
        self.token = token.to_string();
        self.token_step = 0;
        match self.phase {
            Phase::Connected => {
                self.timers.clear(&Timer::TokenRefresh);
                self.send_command("refresh", json!({"token": token}), Pending::Refresh, now);
            }
            Phase::WaitingToken => {
                self.timers.clear(&Timer::TokenAsk);
                self.open()
            }
            _ => {}
        }
    }

    pub fn state(&self) -> State {
        match self.phase {
            Phase::Idle => State::Disconnected,
            Phase::Connected => State::Connected,
            _ => State::Connecting,
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn channels(&self) -> Vec<String> {
        self.subs.keys().cloned().collect()
    }

    /// The stream position kept for `channel` (offset, epoch), used to recover after a reconnect.
    /// The stream position kept for `channel` (offset, epoch), used to recover after a reconnect; a server-side
    /// subscription's when the server subscribes the channel itself.
    pub fn position(&self, channel: &str) -> Option<(u64, String)> {
        self.stream(channel).map(|s| (s.offset, s.epoch.clone()))
    }

    fn stream(&self, channel: &str) -> Option<&Stream> {
        self.server_subs
            .get(channel)
            .or_else(|| self.subs.get(channel).map(|s| &s.stream))
    }

    fn stream_mut(&mut self, channel: &str) -> Option<&mut Stream> {
        match self.server_subs.get_mut(channel) {
            Some(stream) => Some(stream),
            None => self.subs.get_mut(channel).map(|s| &mut s.stream),
        }
    }

    // ----- what the transport reports -----

    pub fn handle_opened(&mut self, now: Instant) {
        if self.phase != Phase::Opening {
            return;
        }
        self.phase = Phase::Handshake;
        let mut request = Map::new();
        if !self.token.is_empty() {
            request.insert("token".into(), json!(self.token));
        }
        request.insert("name".into(), json!(self.config.name));
        request.insert("version".into(), json!(self.config.version));
        let mut subs = Map::new();
        for (channel, stream) in &self.server_subs {
            let mut sub = Map::new();
            stream.recovery_request(&mut sub);
            if !sub.is_empty() {
                subs.insert(channel.clone(), Value::Object(sub));
            }
        }
        if !subs.is_empty() {
            request.insert("subs".into(), Value::Object(subs));
        }
        self.send_command("connect", Value::Object(request), Pending::Connect, now);
    }

    /// The WebSocket closed (or could not open). `code` is the close code when there was one.
    pub fn handle_closed(&mut self, code: Option<u16>, reason: &str, now: Instant) {
        if matches!(
            self.phase,
            Phase::Idle | Phase::WaitingReconnect | Phase::WaitingToken
        ) {
            return;
        }
        let (code, reason, reconnect) = match code.map(u32::from) {
            Some(1009) => (
                DisconnectCode::MessageSizeLimit,
                "message size limit exceeded".to_string(),
                false,
            ),
            Some(code) if code >= 3000 => {
                let reason = if reason.is_empty() {
                    "closed by server".to_string()
                } else {
                    reason.to_string()
                };
                (
                    DisconnectCode::Server(code),
                    reason,
                    code_allows_reconnect(code),
                )
            }
            _ => {
                let reason = if reason.is_empty() {
                    "transport closed".to_string()
                } else {
                    reason.to_string()
                };
                (DisconnectCode::TransportClosed, reason, true)
            }
        };
        if self.phase == Phase::Opening {
            self.events.push_back(Event::Error {
                kind: ErrorKind::Transport,
                code: codes::TRANSPORT_CLOSED,
                detail: ErrorDetail::Peer(reason.clone()),
                channel: None,
            });
        }
        self.lost(code, reason, reconnect, now);
    }

    /// The transport refused a message over its size cap (its `handle_closed` follows: a link cannot resume
    /// inside a message it did not read). If a recovery was awaited, its reply is taken for that message — Centrifugo
    /// answers in order, so it is the first recovery still unanswered — and the next recovery of that stream steps
    /// over the offsets that made it too large instead of fetching them again and again. A live publication over the
    /// cap is met again by the recovery after the reconnect and stepped over then.
    pub fn handle_oversized(&mut self) {
        if !matches!(self.phase, Phase::Handshake | Phase::Connected) {
            return;
        }
        // The first command (by id) still waiting whose reply carries recovered publications.
        let blamed = self.pending.values().find_map(|pending| match pending {
            Pending::Connect => {
                let recovering: Vec<String> = self
                    .server_subs
                    .iter()
                    .filter(|(_, stream)| stream.recoverable)
                    .map(|(channel, _)| channel.clone())
                    .collect();
                (!recovering.is_empty()).then_some((recovering, true))
            }
            Pending::Subscribe(channel, attempt) => self
                .subs
                .get(channel)
                .filter(|sub| sub.attempt == *attempt && sub.stream.recoverable)
                .map(|_| (vec![channel.clone()], false)),
            _ => None,
        });
        let Some((channels, server_side)) = blamed else {
            return;
        };
        // The connect reply carries the recoveries of every server-side subscription at once: all step over.
        for channel in channels {
            let stream = if server_side {
                self.server_subs.get_mut(&channel)
            } else {
                self.subs.get_mut(&channel).map(|sub| &mut sub.stream)
            };
            if let Some(stream) = stream {
                stream.step_over_oversized();
                self.stats.oversized_skips += 1;
            }
        }
    }

    /// One WebSocket text (or binary) message from the server.
    pub fn handle_frame(&mut self, frame: &[u8], now: Instant) {
        if !matches!(self.phase, Phase::Handshake | Phase::Connected) {
            return;
        }
        self.arm_ping_deadline(now);
        for reply in protocol::decode_frame(frame) {
            if !matches!(self.phase, Phase::Handshake | Phase::Connected) {
                // An earlier reply in this frame ended the connection.
                return;
            }
            match reply {
                Ok(reply) => self.handle_reply(reply, now),
                Err(error) => {
                    self.stats.bad_frames += 1;
                    self.events.push_back(Event::Error {
                        kind: ErrorKind::Protocol,
                        code: codes::BAD_PROTOCOL,
                        detail: ErrorDetail::Core(error),
                        channel: None,
                    });
                    if self.phase == Phase::Handshake {
                        // Whatever answers the connect is not Centrifugo (a proxy's page, another service): waiting
                        // for the connect timeout would not change that. Close and try again after the backoff;
                        // a connect reply later on this link is for nobody. Once connected, a line that is not the
                        // protocol is reported and skipped: a reconnect would recover the same line again.
                        self.close_and_lose(DisconnectCode::TransportClosed, "bad protocol", now);
                    }
                }
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase == Phase::WaitingReconnect {
            if self.timers.is_due(&Timer::Reconnect, now) {
                self.timers.clear(&Timer::Reconnect);
                self.open();
            }
            return;
        }
        if self.phase == Phase::WaitingToken {
            if self.timers.is_due(&Timer::TokenAsk, now) {
                self.ask_token(now);
            }
            return;
        }
        if !matches!(self.phase, Phase::Handshake | Phase::Connected) {
            return;
        }
        if self.timers.is_due(&Timer::Ping, now) {
            self.close_and_lose(DisconnectCode::NoPing, "no ping", now);
            return;
        }
        let overdue = |timer: &Timer| matches!(timer, Timer::Reply(_));
        if self
            .timers
            .keys()
            .any(|t| overdue(t) && self.timers.is_due(t, now))
        {
            self.close_and_lose(DisconnectCode::CommandTimeout, "no reply in time", now);
            return;
        }
        let policy = self.reconnect_policy();
        if self.timers.is_due(&Timer::TokenRefresh, now) {
            // Asked again (with backoff) until set_token answers: one failed answer must not lose the connection.
            let again = policy.delay(self.token_step, &mut self.jitter);
            self.token_step = self.token_step.saturating_add(1);
            self.timers.set(Timer::TokenRefresh, now + again);
            self.events
                .push_back(Event::TokenExpiring { channel: None });
        }
        let mut due_resubscribe = Vec::new();
        for (channel, sub) in self.subs.iter_mut() {
            let token = Timer::SubscriptionToken(channel.clone());
            if self.timers.is_due(&token, now) {
                let again = policy.delay(sub.token_step, &mut self.jitter);
                sub.token_step = sub.token_step.saturating_add(1);
                self.timers.set(token, now + again);
                self.events.push_back(Event::TokenExpiring {
                    channel: Some(channel.clone()),
                });
            }
            let resubscribe = Timer::Resubscribe(channel.clone());
            if self.timers.is_due(&resubscribe, now) {
                self.timers.clear(&resubscribe);
                due_resubscribe.push(channel.clone());
            }
        }
        for channel in due_resubscribe {
            self.send_subscribe(&channel, now);
        }
    }

    /// The earliest moment `handle_timeout` has something to do.
    pub fn next_timeout(&self) -> Option<Instant> {
        // Only the timers of the current phase are ever armed (`reset_connection_state` clears the others).
        self.timers.next()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if !self.outgoing.is_empty() {
            let batch = protocol::encode_batch(&self.outgoing);
            self.outgoing.clear();
            self.transmits.push_back(Transmit::Text(batch));
        }
        self.transmits.pop_front()
    }

    // ----- internals -----

    fn open(&mut self) {
        self.timers.clear(&Timer::Reconnect);
        self.timers.clear(&Timer::TokenAsk);
        self.phase = Phase::Opening;
        self.transmits.push_back(Transmit::Open);
    }

    /// A subscription is gone: so are its timers.
    fn forget_subscription(&mut self, channel: &str) -> Option<Subscription> {
        let channel_timer = |t: &Timer| matches!(t, Timer::SubscriptionToken(c) | Timer::Resubscribe(c) if c == channel);
        self.timers.retain(|t| !channel_timer(t));
        self.subs.remove(channel)
    }

    fn reset_connection_state(&mut self) {
        self.pending.clear();
        self.ping_interval = None;
        self.send_pong = false;
        self.timers.clear_all();
        for sub in self.subs.values_mut() {
            if sub.phase != SubPhase::WaitingToken {
                sub.phase = SubPhase::Pending;
            }
        }
    }

    fn close_and_lose(&mut self, code: DisconnectCode, reason: &str, now: Instant) {
        self.outgoing.clear();
        self.transmits.push_back(Transmit::Close {
            code: 3000,
            reason: reason.to_string(),
        });
        self.lost(code, reason.to_string(), true, now);
    }

    /// The connection is gone (the transport is closed or being closed): report and decide what next.
    fn lost(&mut self, code: DisconnectCode, reason: String, reconnect: bool, now: Instant) {
        let was_connected = self.phase == Phase::Connected;
        self.reset_connection_state();
        let invalidated = code == DisconnectCode::Server(codes::SERVER_STATE_INVALIDATED);
        if invalidated {
            for sub in self.subs.values_mut() {
                sub.stream.invalidate();
            }
            for stream in self.server_subs.values_mut() {
                stream.invalidate();
            }
        }
        // Without a token (anonymous, connect proxy) nobody would answer a TokenExpiring: just reconnect.
        let needs_token = invalidated && !self.token.is_empty();
        if was_connected || !reconnect {
            self.events.push_back(Event::Disconnected {
                code,
                reason,
                will_reconnect: reconnect,
            });
        }
        if !reconnect {
            self.phase = Phase::Idle;
        } else if needs_token {
            self.wait_for_token(now);
        } else {
            self.schedule_reconnect(now);
        }
    }

    fn wait_for_token(&mut self, now: Instant) {
        self.token_step = 0;
        self.ask_token(now);
    }

    /// Raises TokenExpiring and arms the next ask: the reconnect backoff (0.5–20 s, full jitter).
    fn ask_token(&mut self, now: Instant) {
        let again = self
            .reconnect_policy()
            .delay(self.token_step, &mut self.jitter);
        self.token_step = self.token_step.saturating_add(1);
        self.phase = Phase::WaitingToken;
        self.timers.set(Timer::TokenAsk, now + again);
        self.events
            .push_back(Event::TokenExpiring { channel: None });
    }

    fn schedule_reconnect(&mut self, now: Instant) {
        let delay = self
            .reconnect_policy()
            .delay(self.reconnect_step, &mut self.jitter);
        self.reconnect_step = self.reconnect_step.saturating_add(1);
        self.stats.reconnect_attempts += 1;
        self.timers.set(Timer::Reconnect, now + delay);
        self.phase = Phase::WaitingReconnect;
    }

    /// Reconnects and resubscribes back off alike: full jitter between the configured bounds, as centrifuge-js.
    fn reconnect_policy(&self) -> BackoffPolicy {
        BackoffPolicy::full_jitter(
            self.config.min_reconnect_delay,
            self.config.max_reconnect_delay,
        )
    }

    fn arm_ping_deadline(&mut self, now: Instant) {
        if let Some(interval) = self.ping_interval {
            let deadline = now + interval + self.config.max_server_ping_delay;
            self.timers.set(Timer::Ping, deadline);
        }
    }

    fn allocate_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        id
    }

    fn send_command(&mut self, method: &str, request: Value, pending: Pending, now: Instant) {
        let id = self.allocate_id();
        let mut command = Map::new();
        command.insert("id".into(), json!(id));
        command.insert(method.into(), request);
        self.outgoing.push(Value::Object(command).to_string());
        self.pending.insert(id, pending);
        self.timers
            .set(Timer::Reply(id), now + self.config.command_timeout);
    }

    fn send_subscribe(&mut self, channel: &str, now: Instant) {
        let Some(sub) = self.subs.get_mut(channel) else {
            return;
        };
        self.subscribe_attempts += 1;
        let attempt = self.subscribe_attempts;
        sub.phase = SubPhase::Subscribing;
        sub.attempt = attempt;
        let mut request = Map::new();
        request.insert("channel".into(), json!(channel));
        if !sub.token.is_empty() {
            request.insert("token".into(), json!(sub.token));
        }
        // Ask for a recoverable, positioned stream; the server ignores this where the namespace does not allow it.
        request.insert("recoverable".into(), json!(true));
        request.insert("positioned".into(), json!(true));
        sub.stream.recovery_request(&mut request);
        self.send_command(
            "subscribe",
            Value::Object(request),
            Pending::Subscribe(channel.to_string(), attempt),
            now,
        );
    }

    fn token_expiring_time(&self, ttl_seconds: u32, now: Instant) -> Instant {
        let ttl = Duration::from_secs(u64::from(ttl_seconds));
        let margin = self.config.token_refresh_margin.min(ttl / 2);
        now + (ttl - margin)
    }

    fn handle_reply(&mut self, reply: Reply, now: Instant) {
        if reply.id == 0 {
            if let Some(push) = reply.push {
                self.handle_push(push, now);
            } else if reply.is_ping() && self.phase == Phase::Connected && self.send_pong {
                self.stats.pings_answered += 1;
                self.outgoing.push("{}".to_string());
            }
            return;
        }
        // A reply nobody waits for (its command timed out on an earlier connection) is dropped.
        let Some(pending) = self.pending.remove(&reply.id) else {
            return;
        };
        self.timers.clear(&Timer::Reply(reply.id));
        match pending {
            Pending::Connect => match reply.error {
                Some(error) => self.connect_failed(error, now),
                None => self.connected(reply.connect.unwrap_or_default(), now),
            },
            Pending::Subscribe(channel, attempt) => {
                let current = self.subs.get(&channel).is_some_and(|sub| {
                    sub.attempt == attempt && sub.phase == SubPhase::Subscribing
                });
                if !current {
                    // Unsubscribed (and maybe subscribed again) since: this answer is for nobody.
                    return;
                }
                match reply.error {
                    Some(error) => self.subscribe_failed(&channel, error, now),
                    None => self.subscribed(&channel, reply.subscribe.unwrap_or_default(), now),
                }
            }
            Pending::Unsubscribe => {}
            Pending::Refresh => match reply.error {
                Some(error) => self.refresh_failed(error, now),
                None => {
                    let result = reply.refresh.unwrap_or_default();
                    let at = result
                        .expires
                        .then(|| self.token_expiring_time(result.ttl, now));
                    self.timers.arm(Timer::TokenRefresh, at);
                }
            },
            Pending::SubRefresh(channel) => match reply.error {
                Some(error) => {
                    self.events.push_back(Event::Error {
                        kind: ErrorKind::SubscriptionRefresh,
                        code: error.code,
                        detail: ErrorDetail::Peer(error.message),
                        channel: Some(channel.clone()),
                    });
                }
                None => {
                    let result: RefreshResult = reply.sub_refresh.unwrap_or_default();
                    let at = result
                        .expires
                        .then(|| self.token_expiring_time(result.ttl, now));
                    if self.subs.contains_key(&channel) {
                        self.timers
                            .arm(Timer::SubscriptionToken(channel.clone()), at);
                    }
                }
            },
        }
    }

    fn connected(&mut self, mut result: ConnectResult, now: Instant) {
        self.phase = Phase::Connected;
        self.reconnect_step = 0;
        self.token_step = 0;
        self.stats.connects += 1;
        self.client_id = result.client.clone();
        self.send_pong = result.pong;
        self.ping_interval = (result.ping > 0).then(|| Duration::from_secs(u64::from(result.ping)));
        self.arm_ping_deadline(now);
        let at = result
            .expires
            .then(|| self.token_expiring_time(result.ttl, now));
        self.timers.arm(Timer::TokenRefresh, at);
        self.events.push_back(Event::Connected {
            client_id: result.client,
            version: result.version,
            data: result.data.map(|d| d.get().to_string()),
        });
        // The server subscribes these itself; one it no longer names is gone.
        let server_subs = std::mem::take(&mut result.subs);
        self.server_subs
            .retain(|channel, _| server_subs.contains_key(channel));
        for (channel, sub) in server_subs {
            self.server_subscribed(channel, sub);
        }
        // A channel still waiting for its token asks again on the new connection (its timer went with the old).
        for (channel, sub) in &self.subs {
            if sub.phase == SubPhase::WaitingToken {
                self.timers
                    .set(Timer::SubscriptionToken(channel.clone()), now);
            }
        }
        let channels: Vec<String> = self
            .subs
            .iter()
            .filter(|(_, sub)| sub.phase == SubPhase::Pending)
            .map(|(channel, _)| channel.clone())
            .collect();
        for channel in channels {
            self.send_subscribe(&channel, now);
        }
    }

    fn connect_failed(&mut self, error: ReplyError, now: Instant) {
        self.outgoing.clear();
        self.transmits.push_back(Transmit::Close {
            code: 3000,
            reason: "connect error".into(),
        });
        self.events.push_back(Event::Error {
            kind: ErrorKind::Connect,
            code: error.code,
            detail: ErrorDetail::Peer(error.message.clone()),
            channel: None,
        });
        if error.code == codes::TOKEN_EXPIRED {
            self.reset_connection_state();
            self.wait_for_token(now);
        } else if error.code < 100 || error.temporary {
            self.lost(DisconnectCode::Server(error.code), error.message, true, now);
        } else {
            self.lost(
                DisconnectCode::Server(error.code),
                error.message,
                false,
                now,
            );
        }
    }

    fn refresh_failed(&mut self, error: ReplyError, now: Instant) {
        self.events.push_back(Event::Error {
            kind: ErrorKind::Refresh,
            code: error.code,
            detail: ErrorDetail::Peer(error.message.clone()),
            channel: None,
        });
        if error.code < 100 || error.temporary {
            // Ask the application again a little later.
            self.timers
                .set(Timer::TokenRefresh, now + Duration::from_secs(5));
        } else {
            self.outgoing.clear();
            self.transmits.push_back(Transmit::Close {
                code: 3000,
                reason: "refresh error".into(),
            });
            self.lost(
                DisconnectCode::Server(error.code),
                error.message,
                false,
                now,
            );
        }
    }

    fn subscribed(&mut self, channel: &str, result: SubscribeResult, now: Instant) {
        let at = result
            .expires
            .then(|| self.token_expiring_time(result.ttl, now));
        let Some(sub) = self.subs.get_mut(channel) else {
            return;
        };
        sub.phase = SubPhase::Subscribed;
        sub.attempts = 0;
        sub.token_step = 0;
        let (was_recovering, recovered) = sub.stream.apply(&result);
        self.timers
            .arm(Timer::SubscriptionToken(channel.to_string()), at);
        self.report_subscribed(channel.to_string(), result, was_recovering, recovered);
    }

    /// A server-side subscription (connect reply or subscribe push): tracked for recovery, reported alike.
    fn server_subscribed(&mut self, channel: String, result: SubscribeResult) {
        let stream = self.server_subs.entry(channel.clone()).or_default();
        let (was_recovering, recovered) = stream.apply(&result);
        self.report_subscribed(channel, result, was_recovering, recovered);
    }

    fn report_subscribed(
        &mut self,
        channel: String,
        result: SubscribeResult,
        was_recovering: bool,
        recovered: bool,
    ) {
        if was_recovering {
            if recovered {
                self.stats.recoveries += 1;
            } else {
                self.stats.recoveries_failed += 1;
            }
        }
        self.events.push_back(Event::Subscribed {
            channel: channel.clone(),
            recovered,
            was_recovering,
            recoverable: result.recoverable,
            offset: result.offset,
            epoch: result.epoch,
        });
        for raw in result.publications {
            self.deliver(Publication::from_raw(&channel, raw));
        }
        // Publications missed while away were delivered above; the live stream continues from the top.
        if let Some(stream) = self.stream_mut(&channel) {
            stream.offset = stream.offset.max(result.offset);
        }
    }

    fn subscribe_failed(&mut self, channel: &str, error: ReplyError, now: Instant) {
        if error.code == codes::ALREADY_SUBSCRIBED {
            // The server has this channel subscribed already (the token's `channels` claim): nothing is missing.
            let known = self.stream(channel).cloned().unwrap_or_default();
            if let Some(sub) = self.subs.get_mut(channel) {
                sub.phase = SubPhase::Subscribed;
                sub.attempts = 0;
            }
            self.events.push_back(Event::Subscribed {
                channel: channel.to_string(),
                recovered: false,
                was_recovering: false,
                recoverable: known.recoverable,
                offset: known.offset,
                epoch: known.epoch,
            });
            return;
        }
        let policy = self.reconnect_policy();
        let Some(sub) = self.subs.get_mut(channel) else {
            return;
        };
        self.events.push_back(Event::Error {
            kind: ErrorKind::Subscribe,
            code: error.code,
            detail: ErrorDetail::Peer(error.message.clone()),
            channel: Some(channel.to_string()),
        });
        if error.code == codes::TOKEN_EXPIRED {
            sub.phase = SubPhase::WaitingToken;
            let again = policy.delay(sub.token_step, &mut self.jitter);
            sub.token_step = sub.token_step.saturating_add(1);
            self.timers
                .set(Timer::SubscriptionToken(channel.to_string()), now + again);
            self.events.push_back(Event::TokenExpiring {
                channel: Some(channel.to_string()),
            });
        } else if error.code < 100 || error.temporary {
            sub.phase = SubPhase::Pending;
            let delay = policy.delay(sub.attempts, &mut self.jitter);
            sub.attempts = sub.attempts.saturating_add(1);
            self.timers
                .set(Timer::Resubscribe(channel.to_string()), now + delay);
        } else {
            self.forget_subscription(channel);
            self.events.push_back(Event::Unsubscribed {
                channel: channel.to_string(),
                code: UnsubscribeCode::SubscribeRefused,
                reason: format!("{} {}", error.code, error.message),
            });
        }
    }

    fn handle_push(&mut self, push: Push, now: Instant) {
        let channel = push.channel;
        if let Some(raw) = push.publication {
            self.deliver(Publication::from_raw(&channel, raw));
        } else if let Some(unsubscribe) = push.unsubscribe {
            self.server_unsubscribed(&channel, unsubscribe, now);
        } else if let Some(disconnect) = push.disconnect {
            let reconnect = code_allows_reconnect(disconnect.code);
            let reason = disconnect.reason.clone();
            self.outgoing.clear();
            self.transmits.push_back(Transmit::Close {
                code: 1000,
                reason: reason.clone(),
            });
            self.lost(
                DisconnectCode::Server(disconnect.code),
                reason,
                reconnect,
                now,
            );
        } else if let Some(result) = push.subscribe {
            self.server_subscribed(channel, result);
        } else if let Some(refresh) = push.refresh {
            let at = refresh
                .expires
                .then(|| self.token_expiring_time(refresh.ttl, now));
            self.timers.arm(Timer::TokenRefresh, at);
        }
    }

    fn server_unsubscribed(&mut self, channel: &str, unsubscribe: CodeReason, now: Instant) {
        // A server-side subscription ends either way (the server would subscribe it again itself).
        self.server_subs.remove(channel);
        if unsubscribe.code < codes::RESUBSCRIBE_FROM {
            if self.forget_subscription(channel).is_some() || !channel.is_empty() {
                self.events.push_back(Event::Unsubscribed {
                    channel: channel.to_string(),
                    code: UnsubscribeCode::Server(unsubscribe.code),
                    reason: unsubscribe.reason,
                });
            }
            return;
        }
        if let Some(sub) = self.subs.get_mut(channel) {
            if unsubscribe.code == codes::UNSUBSCRIBE_STATE_INVALIDATED {
                sub.stream.invalidate();
            }
            self.send_subscribe(channel, now);
        }
    }

    /// Delivers a publication once: on a positioned stream, anything at or below the position was seen already.
    fn deliver(&mut self, publication: Publication) {
        if let Some(stream) = self.stream_mut(&publication.channel) {
            if !stream.accept(publication.offset) {
                self.stats.duplicates_dropped += 1;
                return;
            }
        }
        self.stats.publications += 1;
        self.events.push_back(Event::Publication(publication));
    }
}
