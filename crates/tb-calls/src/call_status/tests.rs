//! The table of cases of `call_status` (mirrored in `docs/call-statuses.md`, section «Таблица случаев»): each
//! row is a call given as its events plus the facts, and the status and flags it must get.

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
