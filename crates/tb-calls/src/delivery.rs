//! How a call reaches an operator's session, whatever the client (issue 17): the pure rules of the delivery paths.
//!
//! The server writes one small pending-card record per call event ([`pending_card`]) and fans it out, addressed by
//! the operator's own sessions ([`operator_sessions`]), over every path the session can use ([`choose_paths`]):
//!
//! | Path | Works when | Latency |
//! |---|---|---|
//! | [`Path::Addin`] | thin/thick client, the add-in attached on a platform it is built for, Centrifugo set | ms |
//! | [`Path::Notifications`] | platform client notifications (`УведомленияКлиента`): a build БСП trusts | s |
//! | [`Path::Collaboration`] | the base registered on a collaboration server and not a file base (seed 004) | s |
//! | [`Path::Polling`] | always; primary only when nothing else is; otherwise a slow safety poll | 2–30 s |
//!
//! A card can arrive over several paths and the collaboration system replays old messages on subscribe, so the
//! client keeps two filters: [`Seen::is_repeat`] (one card per call and state, never a state going backwards) and
//! [`is_stale`] (older than the pending card's life). Polling backs off with [`next_poll_interval`].
//!
//! The web client cannot load the add-in, so the rules it needs (de-duplication, staleness, back-off, state ranks)
//! are re-stated in BSL, in the common module `ТБ_ТелефонияДоставкаКлиентСервер`; `tests/delivery_agreement.rs`
//! evaluates both on the same cases. A change here needs the same change there.
//!
//! What any push to an operator may carry is [`push_event`]: an allowlist of the call event's fields (no recording
//! links, no raw PBX body), used by the add-in where the Centrifugo publication is built (`history::merge`); the
//! pending card is built from that stripped event and names the client's number by direction ([`other_party`]).
//!
//! No clock is read here: every time is an argument (Unix milliseconds on the server's clock).

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::model::EventKind;

/// The platform build from which БСП sends client notifications in the 8.3 line (`8.3.27.1935`).
pub const NOTIFICATIONS_MIN_8_3: [u32; 4] = [8, 3, 27, 1935];
/// The platform build from which БСП sends client notifications in the 8.5 line and later (`8.5.1.1119`).
pub const NOTIFICATIONS_MIN_8_5: [u32; 4] = [8, 5, 1, 1119];
/// Where the 8.5 threshold starts to apply: every build from 8.5.0.0 on is judged by [`NOTIFICATIONS_MIN_8_5`].
const LINE_8_5: [u32; 4] = [8, 5, 0, 0];

/// The first poll interval, and the interval after a poll that found a card (seconds).
pub const FAST_POLL_SECS: u32 = 2;
/// Empty polls double the interval up to this (seconds).
pub const MAX_POLL_SECS: u32 = 30;
/// The safety poll of a session that has a push path: catches a push lost while the session was busy (seconds).
pub const SAFETY_POLL_SECS: u32 = 60;

/// How long a pending card lives, and the default maximum age of an event the client still shows (seconds).
pub const DEFAULT_MAX_AGE_SECS: i64 = 120;
/// The clock difference tolerated between the server that dated an event and the «now» the client passes
/// (milliseconds). The client passes its clock corrected by the offset to the server's clock measured at session
/// start, so only that measurement's error and drift remain; 30 s covers them with room.
pub const CLOCK_SKEW_MS: i64 = 30_000;

/// How many calls the seen-set of a session remembers; the least recently shown call is forgotten first.
pub const SEEN_CAP: usize = 256;

/// The largest pending-card record, in bytes of its JSON (БСП asks the same of its server notifications).
pub const CARD_MAX_BYTES: usize = 1024;
/// The longest call id kept in a card (bytes): the id is the de-duplication key, so it is cut only when absurd.
pub const CARD_CALL_ID_MAX_BYTES: usize = 128;

/// The kind of 1C client a session runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    Thin,
    Thick,
    Web,
    Mobile,
}

/// A delivery path, in the order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// The add-in's Centrifugo link.
    Addin,
    /// Platform client notifications (`УведомленияКлиента`).
    Notifications,
    /// The collaboration system: a hidden personal discussion per operator.
    Collaboration,
    /// Polling the pending-card record.
    Polling,
}

impl Path {
    pub const ALL: [Path; 4] = [
        Path::Addin,
        Path::Notifications,
        Path::Collaboration,
        Path::Polling,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Path::Addin => "addin",
            Path::Notifications => "notifications",
            Path::Collaboration => "collaboration",
            Path::Polling => "polling",
        }
    }
}

/// Why a path is or is not available: a code for programs (`as_str`), worded for people by the add-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The path can be used.
    Ok,
    /// The web client cannot load an add-in.
    WebClientNoAddin,
    /// The mobile client cannot load this add-in (it is built for Windows and Linux).
    MobileClientNoAddin,
    /// The add-in has no build for the client's OS or architecture (macOS, ARM).
    AddinPlatformUnsupported,
    /// The add-in is not attached in this session (not installed, refused by policy, failed to load).
    AddinMissing,
    /// The Centrifugo addresses are not set.
    CentrifugoNotConfigured,
    /// The platform build is older than the one БСП trusts with client notifications.
    PlatformTooOld,
    /// The platform build string cannot be read.
    PlatformUnknown,
    /// The base is a file base: the collaboration system is not used there.
    FileBase,
    /// The base is not registered on a collaboration server.
    NotRegistered,
    /// The administrator switched the path off.
    SwitchedOff,
    /// Polling was switched off, but nothing else reaches the session, so it is kept as the last resort.
    LastResort,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Ok => "ok",
            Reason::WebClientNoAddin => "web_client_no_addin",
            Reason::MobileClientNoAddin => "mobile_client_no_addin",
            Reason::AddinPlatformUnsupported => "addin_platform_unsupported",
            Reason::AddinMissing => "addin_missing",
            Reason::CentrifugoNotConfigured => "centrifugo_not_configured",
            Reason::PlatformTooOld => "platform_too_old",
            Reason::PlatformUnknown => "platform_unknown",
            Reason::FileBase => "file_base",
            Reason::NotRegistered => "not_registered",
            Reason::SwitchedOff => "switched_off",
            Reason::LastResort => "last_resort",
        }
    }

    pub const ALL: [Reason; 12] = [
        Reason::Ok,
        Reason::WebClientNoAddin,
        Reason::MobileClientNoAddin,
        Reason::AddinPlatformUnsupported,
        Reason::AddinMissing,
        Reason::CentrifugoNotConfigured,
        Reason::PlatformTooOld,
        Reason::PlatformUnknown,
        Reason::FileBase,
        Reason::NotRegistered,
        Reason::SwitchedOff,
        Reason::LastResort,
    ];
}

fn yes() -> bool {
    true
}

/// What the server and the client report about one session.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionFacts {
    pub client: ClientKind,
    /// The add-in is attached in this session.
    #[serde(default)]
    pub addin: bool,
    /// The add-in has a build for the client's OS and architecture (absent: yes).
    #[serde(default = "yes")]
    pub addin_supported: bool,
    /// The platform build, `8.3.27.1935`.
    #[serde(default)]
    pub platform: String,
    /// The base is registered on a collaboration server.
    #[serde(default)]
    pub collaboration: bool,
    #[serde(default)]
    pub file_base: bool,
    /// The Centrifugo addresses are set.
    #[serde(default)]
    pub centrifugo: bool,
    /// The paths the administrator switched off.
    #[serde(default)]
    pub disabled: BTreeSet<Path>,
}

/// One path's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathVerdict {
    pub path: Path,
    pub available: bool,
    pub reason: Reason,
}

/// What a session uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPlan {
    /// The path expected to bring a card first.
    pub primary: Path,
    /// Every path, in [`Path::ALL`] order.
    pub paths: [PathVerdict; 4],
    /// The push paths the server sends each card over (the primary among them when it is a push path).
    pub fanout: Vec<Path>,
    /// The poll interval when polling is primary, else 0 (seconds); [`next_poll_interval`] moves it.
    pub poll_seconds: u32,
    /// The slow safety poll beside a push path, else 0 (seconds).
    pub safety_poll_seconds: u32,
}

impl PathPlan {
    pub fn verdict(&self, path: Path) -> PathVerdict {
        self.paths[path as usize]
    }
}

/// A platform build `a.b.c.d` as numbers; `None` for anything else.
pub fn parse_build(text: &str) -> Option<[u32; 4]> {
    let mut out = [0u32; 4];
    let mut parts = text.trim().split('.');
    for slot in &mut out {
        let part = parts.next()?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// Whether platform client notifications may be used on this build: БСП's thresholds, one per line (8.3 and
/// everything before 8.5: 8.3.27.1935; 8.5 and every later version: 8.5.1.1119). The thresholds moved as platform
/// bugs were found, so a build below them counts as not having the feature at all.
pub fn notifications_supported(build: &str) -> Result<bool, Reason> {
    let build = parse_build(build).ok_or(Reason::PlatformUnknown)?;
    let needed = if build >= LINE_8_5 {
        NOTIFICATIONS_MIN_8_5
    } else {
        NOTIFICATIONS_MIN_8_3
    };
    Ok(build >= needed)
}

fn addin_reason(facts: &SessionFacts) -> Reason {
    match facts.client {
        ClientKind::Web => Reason::WebClientNoAddin,
        ClientKind::Mobile => Reason::MobileClientNoAddin,
        ClientKind::Thin | ClientKind::Thick if !facts.addin_supported => {
            Reason::AddinPlatformUnsupported
        }
        ClientKind::Thin | ClientKind::Thick if !facts.addin => Reason::AddinMissing,
        ClientKind::Thin | ClientKind::Thick if !facts.centrifugo => {
            Reason::CentrifugoNotConfigured
        }
        ClientKind::Thin | ClientKind::Thick => Reason::Ok,
    }
}

fn notifications_reason(facts: &SessionFacts) -> Reason {
    match notifications_supported(&facts.platform) {
        Ok(true) => Reason::Ok,
        Ok(false) => Reason::PlatformTooOld,
        Err(reason) => reason,
    }
}

fn collaboration_reason(facts: &SessionFacts) -> Reason {
    if facts.file_base {
        Reason::FileBase
    } else if !facts.collaboration {
        Reason::NotRegistered
    } else {
        Reason::Ok
    }
}

/// The paths of one session. Each path's reason is its first obstacle, the administrator's switch last (so the
/// settings show what switching a path back on would give). Polling is always possible; switched off, it stays only
/// as the last resort of a session nothing else reaches.
pub fn choose_paths(facts: &SessionFacts) -> PathPlan {
    let switched = |path: Path, reason: Reason| {
        if reason == Reason::Ok && facts.disabled.contains(&path) {
            Reason::SwitchedOff
        } else {
            reason
        }
    };
    let push = [
        (Path::Addin, switched(Path::Addin, addin_reason(facts))),
        (
            Path::Notifications,
            switched(Path::Notifications, notifications_reason(facts)),
        ),
        (
            Path::Collaboration,
            switched(Path::Collaboration, collaboration_reason(facts)),
        ),
    ];
    let fanout: Vec<Path> = push
        .iter()
        .filter(|(_, reason)| *reason == Reason::Ok)
        .map(|(path, _)| *path)
        .collect();
    let polling_off = facts.disabled.contains(&Path::Polling);
    let polling = match (fanout.is_empty(), polling_off) {
        (true, true) => Reason::LastResort,
        (false, true) => Reason::SwitchedOff,
        (_, false) => Reason::Ok,
    };
    let verdict = |(path, reason): (Path, Reason)| PathVerdict {
        path,
        available: matches!(reason, Reason::Ok | Reason::LastResort),
        reason,
    };
    let primary = fanout.first().copied().unwrap_or(Path::Polling);
    let polling_primary = primary == Path::Polling;
    PathPlan {
        primary,
        paths: [
            verdict(push[0]),
            verdict(push[1]),
            verdict(push[2]),
            verdict((Path::Polling, polling)),
        ],
        poll_seconds: if polling_primary { FAST_POLL_SECS } else { 0 },
        safety_poll_seconds: if polling_primary || polling_off {
            0
        } else {
            SAFETY_POLL_SECS
        },
        fanout,
    }
}

/// [`SessionFacts`] from their JSON (`{"client":"web","addin":false,"platform":"8.3.27.1935",...}`).
pub fn facts_from_json(text: &str) -> Result<SessionFacts, serde_json::Error> {
    serde_json::from_str(text)
}

/// The plan as data: `{"primary":"addin","paths":[{"path":"addin","available":true,"reason":"ok"},…],
/// "fanout":[…],"poll_seconds":0,"safety_poll_seconds":60}`; the add-in adds each path's `reason_text`.
pub fn plan_json(plan: &PathPlan) -> serde_json::Value {
    let paths: Vec<serde_json::Value> = plan
        .paths
        .iter()
        .map(|v| {
            serde_json::json!({
                "path": v.path.as_str(), "available": v.available, "reason": v.reason.as_str()
            })
        })
        .collect();
    serde_json::json!({
        "primary": plan.primary.as_str(),
        "paths": paths,
        "fanout": plan.fanout.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        "poll_seconds": plan.poll_seconds,
        "safety_poll_seconds": plan.safety_poll_seconds,
    })
}

impl EventKind {
    /// The order of a call's states on a card: a card never goes back to an earlier rank. States of one rank are
    /// alternatives (a call ends once: finished, lost or with an error), so a second one is a repeat.
    pub fn rank(self) -> u8 {
        match self {
            EventKind::Ringing => 1,
            EventKind::Answered => 2,
            EventKind::Transferred => 3,
            EventKind::InProgress => 4,
            EventKind::Finished | EventKind::Lost | EventKind::Error => 5,
            EventKind::RecordReady => 6,
        }
    }

    /// The kind named by its JSON text (`ringing`, `answered`, …).
    pub fn from_name(name: &str) -> Option<EventKind> {
        serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
    }
}

/// The rank of a state named by text; 0 for a name that is no state (such an event is never shown).
pub fn state_rank(state: &str) -> u8 {
    EventKind::from_name(state).map_or(0, EventKind::rank)
}

/// The calls a session has shown cards for, with the highest state rank shown; at most `cap` calls.
#[derive(Debug, Clone)]
pub struct Seen {
    cap: usize,
    /// call id → (highest rank shown, when it was last shown).
    calls: HashMap<String, (u8, u64)>,
    tick: u64,
}

impl Default for Seen {
    fn default() -> Self {
        Seen::new(SEEN_CAP)
    }
}

impl Seen {
    pub fn new(cap: usize) -> Seen {
        Seen {
            cap: cap.max(1),
            calls: HashMap::new(),
            tick: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.calls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    pub fn contains(&self, call_id: &str) -> bool {
        self.calls.contains_key(call_id)
    }

    /// True when the card must not be shown: the call id is empty, the state is unknown, this (call, state) was
    /// shown already, or the state goes back (a late `ringing` after `answered`, a replayed old message). Otherwise
    /// the event is recorded and false returned; the least recently shown call is forgotten when over the cap.
    pub fn is_repeat(&mut self, call_id: &str, state: &str) -> bool {
        let rank = state_rank(state);
        if call_id.is_empty() || rank == 0 {
            return true;
        }
        if let Some((shown, _)) = self.calls.get(call_id) {
            if rank <= *shown {
                return true;
            }
        }
        self.tick += 1;
        self.calls.insert(call_id.to_string(), (rank, self.tick));
        if self.calls.len() > self.cap {
            let oldest = self
                .calls
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                self.calls.remove(&oldest);
            }
        }
        false
    }
}

/// True when an event must be dropped as stale: it has no time, it is older than `max_age_secs` (0 or less: the
/// default, [`DEFAULT_MAX_AGE_SECS`]), or its expiry (`expires_ms`, 0 = none) has passed — each with
/// [`CLOCK_SKEW_MS`] of tolerance. An event dated in the future is kept: dropping it would lose a call to a clock
/// error. The collaboration system replays a discussion's old messages on subscribe; this is what drops them.
pub fn is_stale(at_ms: i64, expires_ms: i64, now_ms: i64, max_age_secs: i64) -> bool {
    if at_ms <= 0 {
        return true;
    }
    let max_age_ms = if max_age_secs > 0 {
        max_age_secs.saturating_mul(1000)
    } else {
        DEFAULT_MAX_AGE_SECS * 1000
    };
    let age = now_ms.saturating_sub(at_ms);
    age > max_age_ms.saturating_add(CLOCK_SKEW_MS)
        || (expires_ms > 0 && now_ms > expires_ms.saturating_add(CLOCK_SKEW_MS))
}

/// The next poll interval (seconds): back to [`FAST_POLL_SECS`] after a poll that found a card, otherwise doubled up
/// to [`MAX_POLL_SECS`]; an interval below the fast one (0 at start) starts at the fast one.
pub fn next_poll_interval(current_secs: u32, found: bool) -> u32 {
    if found || current_secs < FAST_POLL_SECS {
        FAST_POLL_SECS
    } else {
        current_secs.saturating_mul(2).min(MAX_POLL_SECS)
    }
}

/// The pending-card record: what the card needs and no more, under [`CARD_MAX_BYTES`] as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCard {
    pub call_id: String,
    pub state: EventKind,
    /// `in` (a client calls us) or `out` (we call a client); an event without a direction counts as incoming, as
    /// the call history does.
    pub direction: String,
    pub caller: String,
    pub called: String,
    /// The client's number, whatever the direction ([`other_party`]): what the popup shows and the card was
    /// looked up by. Never the operator's own number on an outgoing call.
    pub other: String,
    /// The name of the caller's card (the contact found for the number).
    pub name: String,
    /// The card's link as text (a navigation link 1C opens).
    pub card: String,
    pub at_ms: i64,
    pub expires_ms: i64,
}

impl PendingCard {
    /// The record as JSON, at most [`CARD_MAX_BYTES`] long.
    pub fn to_json_string(&self) -> String {
        // A struct of strings and numbers always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// What a pending card is built from: the normalized call event (`event`, `callee`) or a record of the same
/// fields (`state`, `called`), plus the card's name and link that 1C found.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct CardSource {
    call_id: Option<String>,
    state: Option<String>,
    event: Option<String>,
    direction: Option<String>,
    caller: Option<String>,
    called: Option<String>,
    callee: Option<String>,
    name: Option<String>,
    card: Option<String>,
}

/// Why a pending card cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardError {
    /// The text is not a JSON object of the expected fields (serde's message).
    NotJson(String),
    /// `call_id` is missing or empty.
    NoCallId,
    /// `state`/`event` is missing or no state of a call.
    UnknownState(String),
}

/// The pending card of a call event given as JSON, dated `now_ms` and expiring `ttl_secs` later (0 or less: the
/// default, [`DEFAULT_MAX_AGE_SECS`]; at most a day). Long fields are trimmed on character boundaries until the
/// JSON fits [`CARD_MAX_BYTES`].
pub fn pending_card(
    event_json: &str,
    ttl_secs: i64,
    now_ms: i64,
) -> Result<PendingCard, CardError> {
    let source: CardSource =
        serde_json::from_str(event_json).map_err(|e| CardError::NotJson(e.to_string()))?;
    let call_id = source.call_id.unwrap_or_default().trim().to_string();
    if call_id.is_empty() {
        return Err(CardError::NoCallId);
    }
    let state_name = source.state.or(source.event).unwrap_or_default();
    let state = EventKind::from_name(state_name.trim())
        .ok_or_else(|| CardError::UnknownState(state_name.clone()))?;
    let ttl = if ttl_secs > 0 {
        ttl_secs.min(86_400)
    } else {
        DEFAULT_MAX_AGE_SECS
    };
    let direction = card_direction(source.direction.as_deref());
    let caller = source.caller.unwrap_or_default();
    let called = source.called.or(source.callee).unwrap_or_default();
    let mut card = PendingCard {
        call_id: trim_to(&call_id, CARD_CALL_ID_MAX_BYTES).to_string(),
        state,
        other: other_party(direction, &caller, &called).to_string(),
        direction: direction.to_string(),
        caller,
        called,
        name: source.name.unwrap_or_default(),
        card: source.card.unwrap_or_default(),
        at_ms: now_ms,
        expires_ms: now_ms.saturating_add(ttl * 1000),
    };
    fit(&mut card);
    Ok(card)
}

/// The direction a card carries: `out` for an outgoing call, `in` for everything else (an event without a
/// direction counts as incoming, as the call history does: `Входящий` defaults to true).
pub fn card_direction(direction: Option<&str>) -> &'static str {
    match direction.map(str::trim) {
        Some(d) if d.eq_ignore_ascii_case("out") => "out",
        _ => "in",
    }
}

/// The client's number of a call: who dials us on an incoming call, whom we dial on an outgoing one. The other
/// number is the operator's own (his extension or the company's line), which the popup must never show as «who».
pub fn other_party<'a>(direction: &str, caller: &'a str, called: &'a str) -> &'a str {
    if direction == "out" {
        called
    } else {
        caller
    }
}

/// The fields of a normalized call event ([`crate::model::CallEvent`]) that a push to an operator may carry — the
/// Centrifugo publication, the pending card's source, client notifications and collaboration messages. An
/// allowlist: a field added to the model later stays on the server until someone decides it may travel. Left out on
/// purpose: `record_urls` (a recording is heard only through the server, after the rights check, by call id),
/// `raw` (the PBX's whole body: recording links, tokens, other operators' data), `employee` and `customer` (the
/// PBX's own directory data, which the card does not use).
pub const PUSH_EVENT_FIELDS: [&str; 22] = [
    "source",
    "event",
    "call_id",
    "direction",
    "caller",
    "caller_digits",
    "callee",
    "callee_digits",
    "other_party",
    "other_party_digits",
    "extension",
    "extension_digits",
    "virtual_number",
    "virtual_number_digits",
    "started_at",
    "answered_at",
    "finished_at",
    "wait_sec",
    "talk_sec",
    "total_sec",
    "lost",
    "notification_name",
];

/// A call event stripped to what a push may carry: only the [`PUSH_EVENT_FIELDS`] of an object, in their order;
/// anything that is not an object pushes nothing (`{}`). A text field is cut to 256 bytes on a character boundary:
/// a normalized number or time is far shorter, so only a forged field is cut.
pub fn push_event(event: &serde_json::Value) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    if let Some(object) = event.as_object() {
        for field in PUSH_EVENT_FIELDS {
            let Some(value) = object.get(field) else {
                continue;
            };
            let value = match value {
                serde_json::Value::String(text) => {
                    serde_json::Value::String(trim_to(text, PUSH_TEXT_MAX_BYTES).to_string())
                }
                serde_json::Value::Number(_)
                | serde_json::Value::Bool(_)
                | serde_json::Value::Null => value.clone(),
                // The allowed fields are texts, numbers and flags: a nested value is nothing the card reads.
                serde_json::Value::Array(_) | serde_json::Value::Object(_) => continue,
            };
            out.insert(field.to_string(), value);
        }
    }
    serde_json::Value::Object(out)
}

/// The longest text field [`push_event`] lets through (bytes).
pub const PUSH_TEXT_MAX_BYTES: usize = 256;

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
pub fn trim_to(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Shortens the longest free-text field until the JSON fits: by the overflow but at most half of it per pass, so
/// that escaping (which makes the JSON longer than the text) never empties a field that a smaller cut would have
/// saved. The card link is dropped whole rather than cut: half a navigation link opens nothing. Each pass removes
/// at least one character, so the loop ends.
fn fit(card: &mut PendingCard) {
    loop {
        let over = card.to_json_string().len().saturating_sub(CARD_MAX_BYTES);
        if over == 0 {
            return;
        }
        let fields = [
            &mut card.card,
            &mut card.name,
            &mut card.caller,
            &mut card.called,
        ];
        let Some((index, longest)) = fields
            .into_iter()
            .enumerate()
            .max_by_key(|(i, f)| (f.len(), std::cmp::Reverse(*i)))
        else {
            return;
        };
        if longest.is_empty() {
            return;
        }
        if index == 0 {
            longest.clear();
            continue;
        }
        let cut = over.min(longest.len() - longest.len() / 2);
        let keep = trim_to(longest, longest.len() - cut).len();
        longest.truncate(keep);
        // `other` is one of the two numbers, cut with it.
        card.other = other_party(&card.direction, &card.caller, &card.called).to_string();
    }
}

/// One live session as the server lists it (`ПолучитьСеансыИнформационнойБазы`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SessionInfo {
    pub number: u64,
    #[serde(default)]
    pub user: String,
    /// `ИмяПриложения`: `1CV8C`, `1CV8`, `WebClient`, `BackgroundJob`, `COMConnection`, …
    #[serde(default)]
    pub app: String,
}

/// The application names of the sessions a person works in: the thin (`1CV8C`), thick (`1CV8`), web and mobile
/// clients, also under their descriptive names. Everything else (background jobs, HTTP and web services, COM,
/// Designer) has no screen to show a card on.
pub const CLIENT_APPS: [&str; 6] = [
    "1CV8C",
    "1CV8",
    "WebClient",
    "MobileClient",
    "ThinClient",
    "ThickClient",
];

pub fn is_client_app(app: &str) -> bool {
    CLIENT_APPS
        .iter()
        .any(|c| c.eq_ignore_ascii_case(app.trim()))
}

/// The numbers of `user`'s client sessions, in the order listed, each once: never another user's session and never
/// one without a screen. Caller numbers are personal data, so an empty user name addresses nobody.
pub fn operator_sessions(user: &str, sessions: &[SessionInfo]) -> Vec<u64> {
    let mut out = Vec::new();
    if user.trim().is_empty() {
        return out;
    }
    for session in sessions {
        if session.user == user && is_client_app(&session.app) && !out.contains(&session.number) {
            out.push(session.number);
        }
    }
    out
}

/// Sessions from their JSON (`[{"number":12,"user":"Иванов","app":"1CV8C"}, …]`).
pub fn sessions_from_json(text: &str) -> Result<Vec<SessionInfo>, serde_json::Error> {
    serde_json::from_str(text)
}

#[cfg(test)]
#[path = "delivery_tests.rs"]
mod tests;
