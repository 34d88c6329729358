//! A call's status and flags, derived from its events and what 1C knows about the number — never typed by hand.
//!
//! The statuses are those of the leading 1C telephony product (research §5): **accepted** (an incoming call someone
//! answered), **reached** (an outgoing call the client answered), **no answer** (an outgoing call nobody answered;
//! an incoming call that ended without a talk from a number that called before; any call still ringing),
//! **lost** (an incoming call without a talk from a number with no earlier calls — a first contact — not called
//! back within the window), **cancelled** (an incoming call the caller dropped before the queue: shorter than the
//! cancel threshold).
//!
//! Flags: `missed` (incoming, ended without a talk, not cancelled), `first_contact` (fixed by the first event of
//! the call: the number had no earlier calls), `requires_attention` (missed and not yet closed), `called_back`
//! (+ by whom and when).
//!
//! A missed call is **closed** by the next *answered* call with the same client number — an outgoing call the
//! client picked up (a callback) or an incoming call someone answered — whoever made it ([`close_missed`]). Closed
//! within the window (the same local day of the missed call, or N seconds after it), a lost call becomes a plain
//! missed one («no answer»); closed later, it stays lost but no longer requires attention.
//!
//! The table of cases (mirrored in `docs/call-statuses.md`) is the test table at the end of this file.
//!
//! 1C gathers the facts ([`CallFacts`]: is this the number's first call, who is the operator, who is responsible)
//! and keeps one [`CallStatus`] per call; every event is folded into it with [`apply_event`], so the order of the
//! PBX's notifications does not matter beyond «an answer, once seen, stays».

use serde::{Deserialize, Serialize};

use crate::model::{CallEvent, Direction, EventKind};
use crate::time::{CallTime, UtcOffset};

/// The status of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Incoming, answered.
    Accepted,
    /// Outgoing, answered by the client.
    Reached,
    /// No talk (yet): outgoing not answered; incoming missed from a known number; any call still ringing.
    NoAnswer,
    /// Incoming missed from a new number (first contact), not called back within the window.
    Lost,
    /// Incoming dropped by the caller before the queue (shorter than the cancel threshold).
    Cancelled,
}

impl Status {
    /// A talk took place.
    pub fn answered(self) -> bool {
        matches!(self, Status::Accepted | Status::Reached)
    }
}

/// How long a callback still turns a lost call into a plain missed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CallbackWindow {
    /// Until the end of the missed call's local day (the product's «не перезвонили в тот же день»).
    #[default]
    SameDay,
    /// This many seconds after the missed call started.
    Seconds(u64),
}

/// The configured rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRules {
    pub window: CallbackWindow,
    /// An incoming call that ended without a talk in fewer seconds than this (waiting time, else total) was
    /// cancelled by the caller (hung up during the greeting); 0 turns the rule off.
    pub cancel_below_sec: u64,
    /// The local time zone of the day boundary and of times without an offset.
    pub time_zone: UtcOffset,
}

impl Default for StatusRules {
    fn default() -> Self {
        StatusRules {
            window: CallbackWindow::SameDay,
            cancel_below_sec: 5,
            time_zone: UtcOffset::default(),
        }
    }
}

/// What 1C knows about the call besides its events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CallFacts {
    /// The client number had no earlier calls (asked once, at the call's first event).
    pub first_contact: bool,
    /// The 1C user who talked or should have (the owner of the extension).
    pub operator: String,
    /// Who must handle the call when it is missed (the card's manager); empty = the operator.
    pub responsible: String,
    /// When the event came (fallback for the call's start and the callback time).
    pub received_at: String,
}

/// One call's status record (one row of the statuses register).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallStatus {
    pub call_id: String,
    /// `None` until the first event is folded in.
    pub status: Option<Status>,
    pub incoming: bool,
    pub missed: bool,
    pub requires_attention: bool,
    pub first_contact: bool,
    pub called_back: bool,
    pub called_back_by: String,
    /// `YYYY-MM-DDTHH:MM:SS`, local.
    pub called_back_at: String,
    /// The client's number, digits only.
    pub client_number: String,
    pub operator: String,
    pub responsible: String,
    /// `YYYY-MM-DDTHH:MM:SS`, local.
    pub started_at: String,
    pub wait_sec: u64,
    pub talk_sec: u64,
    pub source: String,
}

impl CallStatus {
    /// Missed and not yet closed.
    pub fn is_open_missed(&self) -> bool {
        self.missed && !self.called_back
    }
}

/// Folds one event of the call into its status record (`previous` = the record so far, `None` at the first event).
pub fn apply_event(
    previous: Option<CallStatus>,
    event: &CallEvent,
    facts: &CallFacts,
    rules: &StatusRules,
) -> CallStatus {
    let first_event = previous.is_none();
    let mut s = previous.unwrap_or_default();
    s.call_id = event.call_id.clone();
    if let Some(direction) = event.direction {
        s.incoming = direction == Direction::In;
    } else if first_event {
        s.incoming = true;
    }
    if first_event {
        s.first_contact = facts.first_contact;
    }
    if let Some(number) = client_number(event, s.incoming) {
        s.client_number = number;
    }
    fill_people(&mut s, facts);
    fill_times(&mut s, event, facts, rules.time_zone);
    s.source = serde_json::to_value(event.source)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let was_answered = s.status.is_some_and(Status::answered);
    let answered = was_answered || event_answered(event);
    // An ended call stays ended: a later event (a recording link) does not make it ring again.
    let ended = matches!(event.event, EventKind::Lost | EventKind::Finished)
        || s.missed
        || s.status == Some(Status::Cancelled);
    // Only a known duration makes a call short; an event without one (a recording link) keeps the verdict.
    let short = match event.wait_sec.or(event.total_sec) {
        Some(sec) => rules.cancel_below_sec > 0 && sec < rules.cancel_below_sec,
        None => s.status == Some(Status::Cancelled),
    };
    s.status = Some(decide(&s, answered, ended, short, rules));
    s.missed = s.incoming
        && !answered
        && ended
        && matches!(s.status, Some(Status::NoAnswer | Status::Lost));
    s.requires_attention = s.is_open_missed();
    s
}

/// [`apply_event`] over a whole list of events, in order.
pub fn derive(events: &[CallEvent], facts: &CallFacts, rules: &StatusRules) -> Option<CallStatus> {
    events.iter().fold(None, |previous, event| {
        Some(apply_event(previous, event, facts, rules))
    })
}

/// The status by the rules in the module docs, given what the fold knows so far.
fn decide(s: &CallStatus, answered: bool, ended: bool, short: bool, rules: &StatusRules) -> Status {
    match (s.incoming, answered) {
        (true, true) => Status::Accepted,
        (false, true) => Status::Reached,
        (false, false) => Status::NoAnswer,
        (true, false) if !ended => Status::NoAnswer,
        (true, false) => {
            if short && !s.missed {
                Status::Cancelled
            } else if s.first_contact
                && !(s.called_back && within_window(s, &s.called_back_at, rules))
            {
                Status::Lost
            } else {
                Status::NoAnswer
            }
        }
    }
}

/// The event shows a talk: an answer, a finished call that is not lost, talk seconds.
fn event_answered(event: &CallEvent) -> bool {
    !event.lost
        && (matches!(
            event.event,
            EventKind::Answered | EventKind::InProgress | EventKind::Finished
        ) || event.talk_sec.is_some_and(|t| t > 0)
            || event.answered_at.is_some())
}

/// The client's number, digits only: the other party, else the caller (incoming) or the callee (outgoing).
fn client_number(event: &CallEvent, incoming: bool) -> Option<String> {
    let by_direction = if incoming {
        event.caller_digits.clone()
    } else {
        event.callee_digits.clone()
    };
    event
        .other_party_digits
        .clone()
        .or(by_direction)
        .filter(|d| !d.is_empty())
}

fn fill_people(s: &mut CallStatus, facts: &CallFacts) {
    if !facts.operator.trim().is_empty() {
        s.operator = facts.operator.trim().to_string();
    }
    if !facts.responsible.trim().is_empty() {
        s.responsible = facts.responsible.trim().to_string();
    }
    if s.responsible.is_empty() {
        s.responsible = s.operator.clone();
    }
}

fn fill_times(s: &mut CallStatus, event: &CallEvent, facts: &CallFacts, tz: UtcOffset) {
    if s.started_at.is_empty() {
        s.started_at = event
            .started_at
            .as_deref()
            .or(Some(facts.received_at.as_str()))
            .and_then(|t| local_seconds(t, tz))
            .unwrap_or_default();
    }
    if let Some(wait) = event.wait_sec {
        s.wait_sec = wait;
    }
    if let Some(talk) = event.talk_sec {
        s.talk_sec = talk;
    }
}

/// `text` as `YYYY-MM-DDTHH:MM:SS` in `tz`; `None` when it is no time.
fn local_seconds(text: &str, tz: UtcOffset) -> Option<String> {
    CallTime::parse_text(text, tz).map(|t| t.with_offset(tz).to_local_seconds_iso())
}

/// `at` is within the callback window of the call `s`.
fn within_window(s: &CallStatus, at: &str, rules: &StatusRules) -> bool {
    let tz = rules.time_zone;
    let (Some(start), Some(at)) = (
        CallTime::parse_text(&s.started_at, tz),
        CallTime::parse_text(at, tz),
    ) else {
        return false;
    };
    match rules.window {
        CallbackWindow::SameDay => {
            let day = |t: CallTime| t.with_offset(tz).to_local_seconds_iso()[..10].to_string();
            day(start) == day(at) && at.unix_seconds >= start.unix_seconds
        }
        CallbackWindow::Seconds(n) => {
            at.unix_seconds >= start.unix_seconds
                && at.unix_seconds - start.unix_seconds <= i64::try_from(n).unwrap_or(i64::MAX)
        }
    }
}

/// Which of the number's open missed calls the call `new` closes, and how: the updated records (called back by
/// `new`'s operator at `at`; a lost call closed within the window becomes «no answer»). Nothing closes unless `new`
/// was answered, has the same client number, is another call, and came after the missed one.
pub fn close_missed(
    open: &[CallStatus],
    new: &CallStatus,
    at: &str,
    rules: &StatusRules,
) -> Vec<CallStatus> {
    let tz = rules.time_zone;
    let answered = new.status.is_some_and(Status::answered);
    let at = local_seconds(at, tz)
        .or_else(|| local_seconds(&new.started_at, tz))
        .unwrap_or_default();
    if !answered || new.client_number.is_empty() || at.is_empty() {
        return Vec::new();
    }
    let at_time = CallTime::parse_text(&at, tz);
    open.iter()
        .filter(|m| m.is_open_missed())
        .filter(|m| m.call_id != new.call_id && m.client_number == new.client_number)
        .filter(|m| {
            let start = CallTime::parse_text(&m.started_at, tz);
            matches!((start, at_time), (Some(s), Some(a)) if s.unix_seconds <= a.unix_seconds)
        })
        .map(|m| {
            let mut closed = m.clone();
            closed.called_back = true;
            closed.called_back_by = new.operator.clone();
            closed.called_back_at = at.clone();
            closed.requires_attention = false;
            if closed.status == Some(Status::Lost) && within_window(&closed, &at, rules) {
                closed.status = Some(Status::NoAnswer);
            }
            closed
        })
        .collect()
}

/// Open missed calls past the supervisor's deadline: started more than `after_sec` before `now`.
pub fn overdue<'a>(
    open: &'a [CallStatus],
    now: &str,
    after_sec: u64,
    tz: UtcOffset,
) -> Vec<&'a CallStatus> {
    let Some(now) = CallTime::parse_text(now, tz) else {
        return Vec::new();
    };
    open.iter()
        .filter(|m| m.is_open_missed())
        .filter(|m| {
            CallTime::parse_text(&m.started_at, tz).is_some_and(|s| {
                now.unix_seconds - s.unix_seconds > i64::try_from(after_sec).unwrap_or(i64::MAX)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    // The table of cases of `call_status` (mirrored in `docs/call-statuses.md`, section «Таблица случаев»): each
    // row is a call given as its events plus the facts, and the status and flags it must get.

    use super::*;
    use crate::model::{CallEvent, Source};

    fn tz() -> UtcOffset {
        UtcOffset::from_minutes(180).unwrap_or_default()
    }

    fn rules() -> StatusRules {
        StatusRules {
            window: CallbackWindow::SameDay,
            cancel_below_sec: 5,
            time_zone: tz(),
        }
    }

    /// One event: kind, direction, client number, start, wait, talk.
    fn ev(
        kind: EventKind,
        dir: Direction,
        start: &str,
        wait: Option<u64>,
        talk: Option<u64>,
    ) -> CallEvent {
        let mut e = CallEvent::new(Source::Binotel, kind, "c1".into(), serde_json::Value::Null);
        e.direction = Some(dir);
        e.set_other_party(Some("+7 (495) 123-45-67".into()));
        e.started_at = Some(start.into());
        e.wait_sec = wait;
        e.talk_sec = talk;
        e.lost = kind == EventKind::Lost;
        e
    }

    fn facts(first_contact: bool) -> CallFacts {
        CallFacts {
            first_contact,
            operator: "Иванов".into(),
            responsible: String::new(),
            received_at: "2026-12-06 10:00:00".into(),
        }
    }

    use Direction::{In, Out};
    use EventKind::{Answered, Finished, Lost, RecordReady, Ringing};
    const T: &str = "2026-12-06 10:00:00";

    struct Case {
        name: &'static str,
        events: Vec<CallEvent>,
        first_contact: bool,
        status: Status,
        missed: bool,
        attention: bool,
    }

    fn cases() -> Vec<Case> {
        vec![
            Case {
                name: "1 входящий отвеченный",
                events: vec![
                    ev(Ringing, In, T, None, None),
                    ev(Answered, In, T, Some(7), None),
                    ev(Finished, In, T, Some(7), Some(60)),
                ],
                first_contact: false,
                status: Status::Accepted,
                missed: false,
                attention: false,
            },
            Case {
                name: "2 входящий отвеченный, первый контакт",
                events: vec![
                    ev(Ringing, In, T, None, None),
                    ev(Finished, In, T, Some(7), Some(60)),
                ],
                first_contact: true,
                status: Status::Accepted,
                missed: false,
                attention: false,
            },
            Case {
                name: "3 исходящий отвеченный",
                events: vec![
                    ev(Ringing, Out, T, None, None),
                    ev(Finished, Out, T, Some(10), Some(30)),
                ],
                first_contact: false,
                status: Status::Reached,
                missed: false,
                attention: false,
            },
            Case {
                name: "4 исходящий без ответа",
                events: vec![
                    ev(Ringing, Out, T, None, None),
                    ev(Lost, Out, T, Some(30), Some(0)),
                ],
                first_contact: false,
                status: Status::NoAnswer,
                missed: false,
                attention: false,
            },
            Case {
                name: "5 входящий пропущенный, номер звонил раньше",
                events: vec![
                    ev(Ringing, In, T, None, None),
                    ev(Lost, In, T, Some(40), None),
                ],
                first_contact: false,
                status: Status::NoAnswer,
                missed: true,
                attention: true,
            },
            Case {
                name: "6 входящий пропущенный, первый контакт",
                events: vec![
                    ev(Ringing, In, T, None, None),
                    ev(Lost, In, T, Some(40), None),
                ],
                first_contact: true,
                status: Status::Lost,
                missed: true,
                attention: true,
            },
            Case {
                name: "7 входящий сброшен звонящим до очереди",
                events: vec![
                    ev(Ringing, In, T, None, None),
                    ev(Lost, In, T, Some(3), None),
                ],
                first_contact: true,
                status: Status::Cancelled,
                missed: false,
                attention: false,
            },
            Case {
                name: "8 входящий звонит",
                events: vec![ev(Ringing, In, T, None, None)],
                first_contact: true,
                status: Status::NoAnswer,
                missed: false,
                attention: false,
            },
            Case {
                name: "9 отвеченный, потом событие записи без длительностей",
                events: vec![
                    ev(Finished, In, T, Some(2), Some(60)),
                    ev(RecordReady, In, T, None, None),
                ],
                first_contact: false,
                status: Status::Accepted,
                missed: false,
                attention: false,
            },
            Case {
                name: "10 пропущенный, потом событие записи",
                events: vec![
                    ev(Lost, In, T, Some(40), None),
                    ev(RecordReady, In, T, None, None),
                ],
                first_contact: true,
                status: Status::Lost,
                missed: true,
                attention: true,
            },
            Case {
                name: "11 сброшенный, потом событие без длительностей",
                events: vec![
                    ev(Lost, In, T, Some(2), None),
                    ev(RecordReady, In, T, None, None),
                ],
                first_contact: false,
                status: Status::Cancelled,
                missed: false,
                attention: false,
            },
            Case {
                name: "12 пропущенный без длительностей (1С-Коннект)",
                events: vec![ev(Lost, In, T, None, None)],
                first_contact: false,
                status: Status::NoAnswer,
                missed: true,
                attention: true,
            },
            Case {
                name: "13 ответ виден, поздний lost разговор не отменяет",
                events: vec![
                    ev(Answered, In, T, Some(3), None),
                    ev(Lost, In, T, None, None),
                ],
                first_contact: false,
                status: Status::Accepted,
                missed: false,
                attention: false,
            },
        ]
    }

    #[test]
    fn the_table_of_cases() {
        for case in cases() {
            let got = derive(&case.events, &facts(case.first_contact), &rules()).expect(case.name);
            assert_eq!(got.status, Some(case.status), "{}", case.name);
            assert_eq!(got.missed, case.missed, "{}: missed", case.name);
            assert_eq!(
                got.requires_attention, case.attention,
                "{}: attention",
                case.name
            );
            assert_eq!(
                got.first_contact, case.first_contact,
                "{}: first contact",
                case.name
            );
            assert_eq!(got.client_number, "74951234567", "{}", case.name);
            assert_eq!(got.operator, "Иванов", "{}", case.name);
            assert_eq!(
                got.responsible, "Иванов",
                "{}: responsible defaults to the operator",
                case.name
            );
            assert_eq!(got.started_at, "2026-12-06T10:00:00", "{}", case.name);
        }
    }

    #[test]
    fn the_cancel_threshold_is_configurable_and_can_be_off() {
        let events = [ev(Lost, In, T, Some(3), None)];
        let off = StatusRules {
            cancel_below_sec: 0,
            ..rules()
        };
        assert_eq!(
            derive(&events, &facts(false), &off).unwrap().status,
            Some(Status::NoAnswer)
        );
        let long = StatusRules {
            cancel_below_sec: 60,
            ..rules()
        };
        let events = [ev(Lost, In, T, Some(40), None)];
        assert_eq!(
            derive(&events, &facts(false), &long).unwrap().status,
            Some(Status::Cancelled)
        );
    }

    #[test]
    fn first_contact_is_fixed_by_the_first_event() {
        let first = apply_event(
            None,
            &ev(Ringing, In, T, None, None),
            &facts(true),
            &rules(),
        );
        // A later event is asked with «not first contact» (the call itself is now in the register): no change.
        let later = apply_event(
            Some(first),
            &ev(Lost, In, T, Some(30), None),
            &facts(false),
            &rules(),
        );
        assert!(later.first_contact);
        assert_eq!(later.status, Some(Status::Lost));
    }

    #[test]
    fn responsible_comes_from_the_card_and_stays() {
        let mut f = facts(false);
        f.responsible = "Петров".into();
        let first = apply_event(None, &ev(Ringing, In, T, None, None), &f, &rules());
        let later = apply_event(
            Some(first),
            &ev(Lost, In, T, Some(30), None),
            &facts(false),
            &rules(),
        );
        assert_eq!(later.responsible, "Петров");
    }

    fn missed(call_id: &str, first_contact: bool, start: &str) -> CallStatus {
        let mut e = ev(Lost, In, start, Some(40), None);
        e.call_id = call_id.into();
        apply_event(None, &e, &facts(first_contact), &rules())
    }

    fn answered(call_id: &str, dir: Direction, start: &str, by: &str) -> CallStatus {
        let mut e = ev(Finished, dir, start, Some(5), Some(30));
        e.call_id = call_id.into();
        let mut f = facts(false);
        f.operator = by.into();
        apply_event(None, &e, &f, &rules())
    }

    struct CloseCase {
        name: &'static str,
        open: Vec<CallStatus>,
        new: CallStatus,
        at: &'static str,
        window: CallbackWindow,
        /// (call id, status after) of every closed call, in order.
        closed: Vec<(&'static str, Status)>,
    }

    fn close_cases() -> Vec<CloseCase> {
        let lost = || missed("m1", true, "2026-12-06 10:00:00");
        let plain = || missed("m2", false, "2026-12-06 11:00:00");
        vec![
            CloseCase {
                name: "C1 перезвонили в тот же день: потерянный становится пропущенным",
                open: vec![lost()],
                new: answered("o1", Out, "2026-12-06 15:00:00", "Петров"),
                at: "2026-12-06 15:00:05",
                window: CallbackWindow::SameDay,
                closed: vec![("m1", Status::NoAnswer)],
            },
            CloseCase {
                name: "C2 перезвонили на следующий день: закрыт, но остаётся потерянным",
                open: vec![lost()],
                new: answered("o1", Out, "2026-12-07 09:00:00", "Петров"),
                at: "2026-12-07 09:00:05",
                window: CallbackWindow::SameDay,
                closed: vec![("m1", Status::Lost)],
            },
            CloseCase {
                name: "C3 клиент дозвонился сам, ответили: закрывает",
                open: vec![lost(), plain()],
                new: answered("i1", In, "2026-12-06 12:00:00", "Сидоров"),
                at: "2026-12-06 12:00:03",
                window: CallbackWindow::SameDay,
                closed: vec![("m1", Status::NoAnswer), ("m2", Status::NoAnswer)],
            },
            CloseCase {
                name: "C4 исходящий без ответа не закрывает",
                open: vec![lost()],
                new: {
                    let mut e = ev(Lost, Out, "2026-12-06 15:00:00", Some(30), None);
                    e.call_id = "o2".into();
                    apply_event(None, &e, &facts(false), &rules())
                },
                at: "2026-12-06 15:00:30",
                window: CallbackWindow::SameDay,
                closed: vec![],
            },
            CloseCase {
                name: "C5 другой номер не закрывает",
                open: vec![lost()],
                new: {
                    let mut s = answered("o1", Out, "2026-12-06 15:00:00", "Петров");
                    s.client_number = "79990000000".into();
                    s
                },
                at: "2026-12-06 15:00:05",
                window: CallbackWindow::SameDay,
                closed: vec![],
            },
            CloseCase {
                name: "C6 звонок раньше пропущенного не закрывает",
                open: vec![plain()],
                new: answered("o1", Out, "2026-12-06 09:00:00", "Петров"),
                at: "2026-12-06 09:00:05",
                window: CallbackWindow::SameDay,
                closed: vec![],
            },
            CloseCase {
                name: "C7 уже закрытый не закрывается повторно",
                open: vec![{
                    let mut m = lost();
                    m.called_back = true;
                    m.requires_attention = false;
                    m
                }],
                new: answered("o1", Out, "2026-12-06 15:00:00", "Петров"),
                at: "2026-12-06 15:00:05",
                window: CallbackWindow::SameDay,
                closed: vec![],
            },
            CloseCase {
                name: "C8 окно 2 часа: через час — пропущенный",
                open: vec![lost()],
                new: answered("o1", Out, "2026-12-06 11:00:00", "Петров"),
                at: "2026-12-06 11:00:00",
                window: CallbackWindow::Seconds(7200),
                closed: vec![("m1", Status::NoAnswer)],
            },
            CloseCase {
                name: "C9 окно 2 часа: через три — потерянный",
                open: vec![lost()],
                new: answered("o1", Out, "2026-12-06 13:00:00", "Петров"),
                at: "2026-12-06 13:00:00",
                window: CallbackWindow::Seconds(7200),
                closed: vec![("m1", Status::Lost)],
            },
            CloseCase {
                name: "C10 сам себя не закрывает",
                open: vec![lost()],
                new: {
                    let mut s = answered("m1", In, "2026-12-06 10:00:00", "Петров");
                    s.call_id = "m1".into();
                    s
                },
                at: "2026-12-06 10:00:10",
                window: CallbackWindow::SameDay,
                closed: vec![],
            },
        ]
    }

    #[test]
    fn the_table_of_callbacks() {
        for case in close_cases() {
            let rules = StatusRules {
                window: case.window,
                ..rules()
            };
            let closed = close_missed(&case.open, &case.new, case.at, &rules);
            let got: Vec<(&str, Status)> = closed
                .iter()
                .map(|c| (c.call_id.as_str(), c.status.unwrap_or(Status::Cancelled)))
                .collect();
            assert_eq!(got, case.closed, "{}", case.name);
            for c in &closed {
                assert!(c.called_back && !c.requires_attention, "{}", case.name);
                assert_eq!(c.called_back_by, case.new.operator, "{}", case.name);
                assert_eq!(c.called_back_at, case.at.replace(' ', "T"), "{}", case.name);
                assert!(c.missed, "{}: stays a missed call", case.name);
            }
        }
    }

    #[test]
    fn a_later_event_of_a_closed_call_keeps_it_closed() {
        let closed = close_missed(
            &[missed("m1", true, T)],
            &answered("o1", Out, "2026-12-06 15:00:00", "Петров"),
            "2026-12-06 15:00:00",
            &rules(),
        );
        let again = apply_event(
            Some(closed[0].clone()),
            &ev(RecordReady, In, T, None, None),
            &facts(false),
            &rules(),
        );
        assert_eq!(again.status, Some(Status::NoAnswer));
        assert!(again.called_back && !again.requires_attention);
    }

    #[test]
    fn overdue_lists_open_missed_calls_past_the_deadline() {
        let open = vec![
            missed("m1", true, "2026-12-06 10:00:00"),
            missed("m2", false, "2026-12-06 11:50:00"),
        ];
        let late: Vec<&str> = overdue(&open, "2026-12-06 12:00:00", 3600, tz())
            .iter()
            .map(|m| m.call_id.as_str())
            .collect();
        assert_eq!(late, vec!["m1"]);
    }
}
