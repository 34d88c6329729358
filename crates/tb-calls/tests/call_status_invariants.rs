//! Invariants of the call status fold over any sequence of events, whatever order the PBX sends them in:
//! an answer once seen stays; a missed call is incoming, ended and without a talk; only an open missed call requires
//! attention; first contact is the first event's fact; closing never touches another number's or a closed call.

use proptest::prelude::*;
use tb_calls::call_status::{
    apply_event, close_missed, CallFacts, CallbackWindow, Status, StatusRules,
};
use tb_calls::{CallEvent, Direction, EventKind, Source, UtcOffset};

fn kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        Just(EventKind::Ringing),
        Just(EventKind::Answered),
        Just(EventKind::Transferred),
        Just(EventKind::InProgress),
        Just(EventKind::Finished),
        Just(EventKind::Lost),
        Just(EventKind::RecordReady),
        Just(EventKind::Error),
    ]
}

fn event() -> impl Strategy<Value = CallEvent> {
    (
        kind(),
        prop::option::of(prop_oneof![Just(Direction::In), Just(Direction::Out)]),
        prop::option::of(0u64..120),
        prop::option::of(0u64..120),
        any::<bool>(),
        0u32..86_400,
    )
        .prop_map(|(kind, direction, wait, talk, lost, second)| {
            let mut e = CallEvent::new(Source::Uiscom, kind, "c".into(), serde_json::Value::Null);
            e.direction = direction;
            e.set_other_party(Some("+7 495 123-45-67".into()));
            e.started_at = Some(format!(
                "2026-12-06 {:02}:{:02}:{:02}",
                second / 3600,
                second / 60 % 60,
                second % 60
            ));
            e.wait_sec = wait;
            e.talk_sec = talk;
            e.lost = lost || kind == EventKind::Lost;
            e
        })
}

fn rules(cancel: u64, hours: u64) -> StatusRules {
    StatusRules {
        window: if hours == 0 {
            CallbackWindow::SameDay
        } else {
            CallbackWindow::Seconds(hours * 3600)
        },
        cancel_below_sec: cancel,
        time_zone: UtcOffset::MOSCOW,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_fold_keeps_its_invariants(
        events in prop::collection::vec(event(), 1..8),
        first in any::<bool>(),
        cancel in 0u64..10,
        hours in 0u64..5,
    ) {
        let rules = rules(cancel, hours);
        let facts = CallFacts { first_contact: first, operator: "op".into(), ..CallFacts::default() };
        let mut state = None;
        let mut answered = false;
        for e in &events {
            let next = apply_event(state.clone(), e, &facts, &rules);
            let status = next.status.expect("a status after every event");
            prop_assert!(!answered || status.answered(), "an answer stays: {status:?}");
            answered = status.answered();
            if next.missed {
                prop_assert!(next.incoming && !status.answered());
                prop_assert!(matches!(status, Status::NoAnswer | Status::Lost));
            }
            prop_assert_eq!(next.requires_attention, next.missed && !next.called_back);
            prop_assert!(status != Status::Lost || next.first_contact);
            prop_assert!(status != Status::Reached || !next.incoming);
            prop_assert!(status != Status::Accepted || next.incoming);
            prop_assert_eq!(next.first_contact, first);
            state = Some(next);
        }
    }

    #[test]
    fn closing_touches_only_open_missed_calls_of_the_number(
        missed_events in prop::collection::vec(event(), 1..4),
        callback in event(),
        other_number in any::<bool>(),
        hours in 0u64..5,
    ) {
        let rules = rules(5, hours);
        let facts = CallFacts { first_contact: true, ..CallFacts::default() };
        let open = missed_events.iter().fold(None, |s, e| Some(apply_event(s, e, &facts, &rules))).unwrap();
        let mut call = callback.clone();
        call.call_id = "callback".into();
        if other_number {
            call.set_other_party(Some("+7 999 000-00-00".into()));
        }
        let new = apply_event(None, &call, &CallFacts { operator: "back".into(), ..CallFacts::default() }, &rules);
        let closed = close_missed(std::slice::from_ref(&open), &new, "2026-12-06 23:59:59", &rules);
        if !open.is_open_missed() || other_number || !new.status.is_some_and(Status::answered) {
            prop_assert!(closed.is_empty());
        }
        for c in &closed {
            prop_assert!(c.called_back && !c.requires_attention && c.missed);
            prop_assert_eq!(&c.called_back_by, "back");
            prop_assert!(matches!(c.status, Some(Status::NoAnswer | Status::Lost)));
        }
    }
}
