//! The connection core in conversation with a scripted agent and a fake clock (see `support/pair.rs`).

mod support;

use std::time::Duration;

use support::pair::{id_of, kind, local_outcome, ms, outcomes, Pair};
use tb_connect::{
    encode_agent_frame, AgentErrorCode, BackoffPolicy, Command, Config, ConnectError,
    DisconnectReason, DriverSubscription, Event, Failure, Initiator, Jitter, LocalOutcome, Mode,
    Recipient, Transmit,
};

#[test]
fn connect_subscribe_and_correlate() {
    let mut h = Pair::new();
    h.open(0);
    assert_eq!(
        h.events(),
        vec![Event::Connected {
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
        .all(|r| r.matched && r.request_id == request && r.failure.is_none()));
    assert_eq!(results[0].id, second);
    assert_eq!(results[0].elapsed, Some(ms(4)));
    let key = results[0].subscription.as_ref().unwrap();
    assert_eq!(key.mode, Mode::Softphone);
    assert_eq!(key.initiator, Initiator::SelfInitiated);
    assert!(results[0].failure.is_none());
    assert_eq!(h.core.pending_count(), 0);
    assert_eq!(h.core.next_timeout(), None);
}

#[test]
fn agent_events_come_out_in_order() {
    let mut h = Pair::new();
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
    let names: Vec<String> = h.events().iter().map(kind).collect();
    assert_eq!(names, vec!["Call", "AgentOnlineStatus"]);
}

#[test]
fn subscriptions_made_while_disconnected_are_sent_on_connect_and_after_every_reconnect() {
    let mut h = Pair::new();
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
        vec![Event::Connected {
            reconnect: false,
            resubscribed: 1
        }]
    );
    h.result_for("sub-1", "EventSubscribe", None, 20);
    assert!(!outcomes(&h.events())[0].automatic);

    h.core
        .handle_closed(h.at(30), DisconnectReason::ClosedByAgent);
    let events = h.events();
    let Event::Disconnected {
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
    assert_eq!(h.actions(), vec![Transmit::Open]);
    h.core.handle_opened(h.at(1000));
    let resent = h.transmits();
    assert_eq!(resent.len(), 1);
    assert_eq!(id_of(&resent[0]), "sub-1");
    assert_eq!(
        h.events(),
        vec![Event::Connected {
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
    let mut h = Pair::new();
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
    assert!(h.core.subscriptions().all(|k| k.mode != Mode::Colleagues));
}

#[test]
fn unsubscribe_while_disconnected_is_answered_locally() {
    let mut h = Pair::new();
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
        .all(|r| r.local && r.failure.is_none() && r.request_id == "u1"));
    assert_eq!(h.core.subscriptions().count(), 0);
    h.open(5);
    assert!(h.transmits().is_empty());
}

#[test]
fn command_timeout_is_driven_by_the_clock() {
    let mut h = Pair::with(Config {
        command_timeout: ms(2000),
        ..Config::default()
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
    assert_eq!(
        result.failure,
        Some(Failure::Local {
            outcome: LocalOutcome::Timeout,
            timeout: ms(2000)
        })
    );
    assert!(result.local);
    assert_eq!(result.id, id);
    // A late answer is still reported, flagged as unmatched.
    h.result_for(&id, "ChangeMyOnlineStatus", None, 3000);
    assert!(!outcomes(&h.events())[0].matched);
}

#[test]
fn commands_wait_for_a_connection_then_expire() {
    let mut h = Pair::with(Config {
        command_timeout: ms(1000),
        ..Config::default()
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
        .handle_closed(h.at(600), DisconnectReason::ClosedByAgent);
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
    assert_eq!(local_outcome(expired[0]), Some(LocalOutcome::NotConnected));
}

#[test]
fn pending_commands_on_link_loss() {
    let mut h = Pair::new();
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
    h.core.handle_closed(
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
    assert_eq!(
        local_outcome(results[0]),
        Some(LocalOutcome::ConnectionLost)
    );
    assert!(matches!(
        events.last(),
        Some(Event::Disconnected {
            will_reconnect: true,
            ..
        })
    ));
    assert_eq!(h.core.pending_count(), 0);
}

#[test]
fn malformed_messages_do_not_break_the_connection() {
    let mut h = Pair::new();
    h.open(0);
    h.events();
    let mut stream = encode_agent_frame("<Event><Broken></Event>");
    stream.extend(encode_agent_frame("<Hello/>"));
    stream.extend(encode_agent_frame(
        r#"<Event Object="Message"><MessageBody>ok</MessageBody></Event>"#,
    ));
    h.core.handle_bytes(&stream, h.at(1));
    let events = h.events();
    let names: Vec<String> = events.iter().map(kind).collect();
    assert_eq!(names, vec!["Error", "Error", "Message"]);
    assert!(matches!(
        events[0],
        Event::Error(ConnectError::MalformedXml { frame: 1, .. })
    ));
    assert!(h.core.is_connected());
    assert!(h.actions().is_empty());
}

#[test]
fn oversize_frame_is_reported_and_skipped() {
    let mut h = Pair::with(Config {
        max_frame_body: 100,
        ..Config::default()
    });
    h.open(0);
    h.events();
    let mut stream = encode_agent_frame(&format!("<Event>{}</Event>", "я".repeat(200)));
    stream.extend(encode_agent_frame(r#"<Event Object="Call"/>"#));
    h.core.handle_bytes(&stream, h.at(1));
    let names: Vec<String> = h.events().iter().map(kind).collect();
    assert_eq!(names, vec!["Error", "Call"]);
    assert!(h.core.is_connected());
}

#[test]
fn desynchronized_stream_forces_a_reconnect() {
    let mut h = Pair::new();
    h.open(0);
    h.events();
    h.core
        .handle_bytes(&[0x10, 0, 0, 0, b'G', b'E', b'T', b' '], h.at(1));
    let events = h.events();
    assert!(matches!(
        events[0],
        Event::Error(ConnectError::Desynchronized { .. })
    ));
    assert!(matches!(
        events[1],
        Event::Disconnected {
            reason: DisconnectReason::Desynchronized,
            will_reconnect: true,
            ..
        }
    ));
    assert_eq!(h.actions(), vec![Transmit::Close]);
    assert!(!h.core.is_connected());
    // A late transport report for the same link is ignored.
    h.core
        .handle_closed(h.at(2), DisconnectReason::ClosedByAgent);
    assert!(h.events().is_empty());
}

#[test]
fn truncated_frame_is_reported_on_disconnect() {
    let mut h = Pair::new();
    h.open(0);
    h.events();
    let frame = encode_agent_frame(r#"<Event Object="Call"/>"#);
    h.core.handle_bytes(&frame[..frame.len() - 1], h.at(1));
    h.core
        .handle_closed(h.at(2), DisconnectReason::ClosedByAgent);
    let events = h.events();
    assert!(matches!(
        events[0],
        Event::Error(ConnectError::TruncatedFrame { .. })
    ));
    assert_eq!(kind(&events[1]), "Disconnected");
}

#[test]
fn hundred_commands_in_flight_are_correlated_in_any_order() {
    let mut h = Pair::new();
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
    let mut h = Pair::new();
    h.open(0);
    h.events();
    let id = h.core.send(
        Command::SendMessage {
            recipient: Recipient::Colleagues {
                colleague_id: "x".into(),
            },
            text: "hi".into(),
        },
        Some("m1"),
        h.at(1),
    );
    h.result_for(&id, "SendMessage", Some("Unable to find Colleague"), 2);
    assert_eq!(
        outcomes(&h.events())[0].failure,
        Some(Failure::Agent {
            text: "Unable to find Colleague".into(),
            code: Some(AgentErrorCode::UnableToFindColleague)
        })
    );
    h.result_for("m2", "SendMessage", Some("brand new error"), 3);
    assert!(matches!(
        outcomes(&h.events())[0].failure,
        Some(Failure::Agent { code: None, .. })
    ));
}

#[test]
fn close_by_user_does_not_reconnect() {
    let mut h = Pair::new();
    h.open(0);
    h.core.send(
        Command::change_online_status("Away").unwrap(),
        Some("a"),
        h.at(1),
    );
    h.events();
    h.transmits();
    h.core.close(h.at(2));
    assert_eq!(h.actions(), vec![Transmit::Close]);
    let events = h.events();
    assert_eq!(
        local_outcome(outcomes(&events)[0]),
        Some(LocalOutcome::ConnectionClosed)
    );
    assert!(matches!(
        events.last(),
        Some(Event::Disconnected {
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
    let mut h = Pair::with(Config {
        backoff: BackoffPolicy {
            initial: ms(100),
            max: ms(1000),
            multiplier: 2.0,
            jitter: Jitter::Proportional(0.0),
        },
        ..Config::default()
    });
    h.core.connect(h.at(0));
    let mut now = h.at(0);
    let mut delays = Vec::new();
    for _ in 0..6 {
        assert_eq!(h.actions(), vec![Transmit::Open]);
        h.core.handle_open_failed(now, "no such file");
        let Some(Event::ConnectFailed {
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
    let mut h = Pair::with(Config {
        auto_reconnect: false,
        ..Config::default()
    });
    h.core
        .send(Command::call_softphone("1").unwrap(), Some("q"), h.at(0));
    h.core.connect(h.at(0));
    h.actions();
    h.core.handle_open_failed(h.at(1), "refused");
    let events = h.events();
    assert!(matches!(
        events[0],
        Event::ConnectFailed { retry_in: None, .. }
    ));
    assert_eq!(
        local_outcome(outcomes(&events)[0]),
        Some(LocalOutcome::NotConnected)
    );
    assert_eq!(h.core.next_timeout(), None);
    h.core.set_auto_reconnect(true, h.at(2));
    assert_eq!(h.actions(), vec![Transmit::Open]);
}

#[test]
fn stable_connection_resets_the_backoff_short_one_does_not() {
    let mut h = Pair::with(Config {
        backoff: BackoffPolicy {
            initial: ms(100),
            max: ms(10_000),
            multiplier: 2.0,
            jitter: Jitter::Proportional(0.0),
        },
        stable_after: ms(5000),
        ..Config::default()
    });
    h.open(0);
    h.core
        .handle_closed(h.at(10), DisconnectReason::ClosedByAgent);
    h.core.handle_timeout(h.at(110));
    h.core.handle_opened(h.at(110));
    h.core
        .handle_closed(h.at(120), DisconnectReason::ClosedByAgent);
    let retry: Vec<Option<Duration>> = h
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Disconnected { retry_in, .. } => Some(retry_in),
            _ => None,
        })
        .collect();
    assert_eq!(retry, vec![Some(ms(100)), Some(ms(200))]);
    h.core.handle_timeout(h.at(320));
    h.core.handle_opened(h.at(320));
    h.core
        .handle_closed(h.at(6000), DisconnectReason::ClosedByAgent);
    let last = h.events().into_iter().last();
    assert!(matches!(last, Some(Event::Disconnected { retry_in: Some(d), .. }) if d == ms(100)));
}

#[test]
fn duplicate_caller_ids_are_answered_in_send_order() {
    let mut h = Pair::new();
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
    let mut h = Pair::new();
    h.core
        .handle_bytes(&encode_agent_frame("<Event/>"), h.at(0));
    assert!(h.events().is_empty());
}

#[test]
fn no_deadline_outlives_what_it_was_for() {
    let mut h = Pair::new();
    h.open(0);
    h.core
        .handle_closed(h.at(1), DisconnectReason::ClosedByAgent);
    assert!(h.core.next_timeout().is_some(), "waiting to reconnect");
    h.core.set_auto_reconnect(false, h.at(2));
    assert_eq!(h.core.next_timeout(), None);

    // A later command with a shorter timeout expires first, though an older one with the same ID still waits.
    let mut h = Pair::new();
    h.open(0);
    h.events();
    h.core
        .send(Command::call_softphone("1").unwrap(), Some("same"), h.at(0));
    h.core.set_command_timeout(ms(100));
    h.core
        .send(Command::call_softphone("2").unwrap(), Some("same"), h.at(0));
    assert_eq!(h.core.next_timeout(), Some(h.at(100)));
    h.core.handle_timeout(h.at(100));
    assert_eq!(
        local_outcome(outcomes(&h.events())[0]),
        Some(LocalOutcome::Timeout)
    );
    assert_eq!(h.core.next_timeout(), Some(h.at(10_000)));
    h.result_for("same", "Call", None, 200);
    assert_eq!(h.core.next_timeout(), None);
    h.core.close(h.at(300));
    assert_eq!(h.core.next_timeout(), None);
}

#[test]
fn a_frame_cut_off_and_then_silence_is_a_stall_declared_within_30_s() {
    let mut h = Pair::new();
    h.open(0);
    h.events();
    let frame =
        encode_agent_frame(r#"<Event Object="AgentOnlineStatus"><Status>Online</Status></Event>"#);
    h.core.handle_bytes(&frame[..frame.len() / 2], h.at(1_000));
    let deadline = h.core.next_timeout().expect("the stall is a deadline");
    assert!(deadline <= h.at(31_000), "{:?}", deadline - h.at(0));
    // Nothing before the deadline…
    h.core.handle_timeout(deadline - ms(1));
    assert!(h.core.is_connected());
    // …then the link is closed and a reconnect scheduled.
    h.core.handle_timeout(deadline);
    assert!(!h.core.is_connected());
    assert!(h.actions().contains(&Transmit::Close));
    let disconnected = h
        .events()
        .into_iter()
        .find_map(|e| match e {
            Event::Disconnected {
                reason,
                will_reconnect,
                ..
            } => Some((reason, will_reconnect)),
            _ => None,
        })
        .expect("Disconnected");
    assert_eq!(disconnected, (DisconnectReason::Stalled, true));
}

#[test]
fn a_slow_frame_that_keeps_coming_is_no_stall() {
    let mut h = Pair::new();
    h.open(0);
    h.events();
    let frame =
        encode_agent_frame(r#"<Event Object="AgentOnlineStatus"><Status>Online</Status></Event>"#);
    // One byte every 15 s: slow, but alive.
    for (i, byte) in frame.iter().enumerate() {
        let now = h.at(15_000 * i as u64);
        h.core.handle_timeout(now);
        h.core.handle_bytes(std::slice::from_ref(byte), now);
    }
    assert!(h.core.is_connected());
    assert_eq!(h.core.next_timeout(), None, "no frame is open any more");
}

#[test]
fn several_command_timeouts_in_a_row_are_a_stall() {
    let mut h = Pair::with(Config {
        command_timeout: Duration::from_secs(5),
        ..Config::default()
    });
    h.open(0);
    h.events();
    for i in 0..3 {
        h.core.send(
            Command::change_online_status("Away").unwrap(),
            None,
            h.at(i),
        );
    }
    h.transmits();
    h.core.handle_timeout(h.at(5_000));
    h.core.handle_timeout(h.at(5_001));
    h.core.handle_timeout(h.at(5_002));
    assert!(!h.core.is_connected(), "three timeouts in a row");
    let kinds: Vec<String> = h.events().iter().map(kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "CommandResult").count(), 3);
    assert_eq!(kinds.last().map(String::as_str), Some("Disconnected"));
}

#[test]
fn timeouts_with_answers_in_between_are_no_stall() {
    let mut h = Pair::with(Config {
        command_timeout: Duration::from_secs(5),
        ..Config::default()
    });
    h.open(0);
    h.events();
    for round in 0..5u64 {
        let start = round * 10_000;
        h.core.send(
            Command::change_online_status("Away").unwrap(),
            None,
            h.at(start),
        );
        h.transmits();
        h.core.handle_timeout(h.at(start + 5_000));
        h.agent_says(
            r#"<Event Object="AgentOnlineStatus"><Status>Online</Status></Event>"#,
            start + 6_000,
        );
    }
    assert!(h.core.is_connected());
}
