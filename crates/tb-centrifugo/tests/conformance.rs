//! Lifecycle conformance with the official SDKs (issue 16, item 3): one test per hazard the official clients
//! (centrifuge-js, centrifuge-go, centrifuge-dart, centrifuge-csharp) fixed in 2025–2026, against the client
//! core and a scripted server on a fake clock (`support/pair.rs`). docs/centrifugo.md («Поведение при сбоях:
//! сверка с официальными SDK») has the table that names each test. The last section is issue 16, item 2: a
//! recovery over the transport's size cap steps over the message instead of fetching it again forever.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::pair::{publication, published_numbers, Pair};
use tb_centrifugo::{DisconnectCode, ErrorKind, Event, State, Transmit, UnsubscribeCode};

const MIN_DELAY: Duration = Duration::from_millis(500);

/// Waits (on the fake clock) for the next connect attempt and opens it; returns how long the client waited.
fn next_attempt(h: &mut Pair) -> Duration {
    let mut waited = Duration::ZERO;
    loop {
        waited += h.advance_to_deadline();
        if h.transmits().contains(&Transmit::Open) {
            return waited;
        }
    }
}

/// Opens the link the client asked for and returns its connect command.
fn open(h: &mut Pair) -> Value {
    h.core.handle_opened(h.now);
    let sent = h.sent();
    assert!(sent[0].get("connect").is_some(), "{sent:?}");
    sent[0].clone()
}

fn accept_connect(h: &mut Pair, connect: &Value) {
    h.answer(
        connect,
        "connect",
        json!({"client": "c-2", "version": "6.9.1", "ping": 25, "pong": true}),
    );
}

/// Drops the link and waits for the next attempt; returns its connect command.
fn reconnect(h: &mut Pair) -> Value {
    h.core.handle_closed(None, "", h.now);
    next_attempt(h);
    open(h)
}

fn subscribes(sent: &[Value]) -> Vec<String> {
    sent.iter()
        .filter_map(|c| c["subscribe"]["channel"].as_str().map(String::from))
        .collect()
}

fn count(events: &[Event], wanted: fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| wanted(e)).count()
}

/// A client subscribed to `channel` (recoverable, epoch E) at position `offset`.
fn subscribed_at(channel: &str, offset: u64) -> Pair {
    let mut h = Pair::new();
    h.core.subscribe(channel, "", h.now).unwrap();
    h.connected(25, None);
    let sent = h.sent();
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "epoch": "E", "offset": offset}),
    );
    h.events();
    h
}

// ----- centrifuge-js #402 (C#: StaleReply): a reply of an old transport must not touch the new one -----

#[test]
fn a_stale_reply_of_an_old_transport_is_ignored() {
    let mut h = subscribed_at("news", 1);
    h.core.subscribe("late", "", h.now).unwrap();
    let old_subscribe = h.sent().remove(0);
    let new_connect = reconnect(&mut h);
    assert_ne!(old_subscribe["id"], new_connect["id"], "ids are not reused");
    h.events();
    // The old link's answers (even an error, even a disconnect push) reach the core only while the transport
    // still reports it; after the close nothing of it can land: frames outside a handshake are dropped.
    h.answer(
        &old_subscribe,
        "error",
        json!({"code": 3501, "message": "already authenticated"}),
    );
    h.frame(&json!({"id": 1, "connect": {"client": "stale"}}).to_string());
    assert_eq!(h.core.state(), State::Connecting);
    assert!(h.transmits().is_empty(), "the new link is not closed");
    assert!(h.events().is_empty());
    accept_connect(&mut h, &new_connect);
    assert_eq!(h.core.client_id(), "c-2");
    h.events();
    let resubscribed = h.sent();
    assert_eq!(subscribes(&resubscribed), vec!["late", "news"]);
    // The old subscribe reply arriving once more is still for nobody.
    h.answer(&old_subscribe, "subscribe", json!({"recoverable": false}));
    assert!(h.events().is_empty());
    h.answer(&resubscribed[0], "subscribe", json!({}));
    assert_eq!(
        count(&h.events(), |e| matches!(e, Event::Subscribed { .. })),
        1
    );

    // While the next link opens, a frame of the old one (here a disconnect push) is not read at all.
    h.core.handle_closed(None, "", h.now);
    h.frame(r#"{"push":{"disconnect":{"code":3501,"reason":"stale"}}}"#);
    assert_eq!(h.core.state(), State::Connecting);
    next_attempt(&mut h);
    h.frame(r#"{"push":{"disconnect":{"code":3501,"reason":"stale"}}}"#);
    assert_eq!(h.core.state(), State::Connecting);
    assert!(h.transmits().is_empty());
}

// ----- centrifuge-js #407/#408: a connect answered by a disconnect or an error must back off -----

#[test]
fn a_connect_answered_by_a_disconnect_or_an_error_backs_off() {
    let mut h = Pair::new();
    h.core.connect("t", h.now);
    h.transmits();
    let mut delays = Vec::new();
    for attempt in 0..20 {
        let connect = open(&mut h);
        match attempt % 3 {
            // A disconnect push instead of a reply (a connect proxy's 3004, a shutting-down server's 3001).
            0 => h.frame(r#"{"push":{"disconnect":{"code":3001,"reason":"shutdown"}}}"#),
            // A temporary error reply.
            1 => h.answer(
                &connect,
                "error",
                json!({"code": 100, "message": "internal", "temporary": true}),
            ),
            // The server closes the transport with a reconnect code right after the command.
            _ => h.core.handle_closed(Some(3004), "reconnect", h.now),
        }
        assert_eq!(h.core.state(), State::Connecting);
        delays.push(next_attempt(&mut h));
    }
    for (step, delay) in delays.iter().enumerate() {
        assert!(*delay >= MIN_DELAY, "attempt {step} after {delay:?}");
        let ceiling =
            Duration::from_millis((500u64 << step.min(6)).saturating_add(500).min(20_000));
        assert!(*delay <= ceiling, "attempt {step}: {delay:?}");
    }
    // The backoff grows: 20 attempts take far longer than 20 minimum delays.
    let total: Duration = delays.iter().sum();
    assert!(total > Duration::from_secs(60), "{total:?} for 20 attempts");
}

// ----- centrifuge-js #381: wrapping around (transport after transport) must not skip the backoff -----

#[test]
fn every_failed_attempt_waits_its_backoff_whatever_phase_it_failed_in() {
    let mut h = Pair::new();
    h.core.connect("t", h.now);
    h.transmits();
    let mut delays = Vec::new();
    for attempt in 0..12 {
        if attempt % 2 == 0 {
            // The link never opens (refused, DNS, TLS).
            h.core.handle_closed(None, "connection refused", h.now);
        } else {
            // It opens and closes before the connect reply.
            open(&mut h);
            h.core.handle_closed(Some(1006), "", h.now);
        }
        delays.push(next_attempt(&mut h));
    }
    assert!(delays.iter().all(|d| *d >= MIN_DELAY), "{delays:?}");
    assert!(
        delays[8..].iter().sum::<Duration>() > delays[..4].iter().sum::<Duration>(),
        "the backoff grows across phases: {delays:?}"
    );
}

// ----- centrifuge-js #429: one connect command per socket (a second one is answered 3501 and ends it all) -----

#[test]
fn one_socket_carries_one_connect_command() {
    let mut h = Pair::new();
    h.core.connect("t", h.now);
    h.core.connect("t", h.now);
    assert_eq!(h.transmits(), vec![Transmit::Open], "one attempt");
    h.core.handle_opened(h.now);
    h.core.handle_opened(h.now);
    h.core.connect("t2", h.now);
    h.core.set_token("t3", h.now);
    let sent = h.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    accept_connect(&mut h, &sent[0]);
    h.core.connect("t", h.now);
    h.core.handle_opened(h.now);
    assert!(h.sent().iter().all(|c| c.get("connect").is_none()));
    assert_eq!(h.core.state(), State::Connected);
}

// ----- centrifuge-dart #160: data that is not the protocol while connecting -----

#[test]
fn non_protocol_data_while_connecting_reconnects_after_the_backoff_not_the_timeout() {
    let mut h = Pair::new();
    h.core.connect("t", h.now);
    h.transmits();
    let connect = open(&mut h);
    // A proxy's page, then (on the same link, in the same message) a connect reply: the reply is not used.
    let reply = json!({"id": connect["id"], "connect": {"client": "wrong-link"}}).to_string();
    h.frame(&format!("<html>502 Bad Gateway</html>\n{reply}"));
    let events = h.events();
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Error {
                kind: ErrorKind::Protocol,
                code: 2,
                ..
            }
        )),
        "{events:?}"
    );
    assert!(
        h.transmits()
            .iter()
            .any(|t| matches!(t, Transmit::Close { .. })),
        "the link is closed at once"
    );
    assert_eq!(h.core.state(), State::Connecting);
    assert_eq!(h.core.client_id(), "");
    // The next attempt follows the reconnect backoff (0.5–1 s), not the 10 s command timeout.
    let waited = next_attempt(&mut h);
    assert!(
        waited >= MIN_DELAY && waited <= Duration::from_secs(1),
        "{waited:?}"
    );
    // A reply arriving late on the closed link finds nothing to answer; the new link connects.
    h.frame(&reply);
    assert_eq!(h.core.client_id(), "");
    let connect = open(&mut h);
    accept_connect(&mut h, &connect);
    assert_eq!(h.core.client_id(), "c-2");
}

#[test]
fn non_protocol_data_while_connected_is_reported_and_skipped() {
    // Deliberately unlike centrifuge-js: a reconnect would recover the same line and loop (see item 2 of issue 16).
    let mut h = subscribed_at("news", 1);
    h.frame(&format!("not json\n{}", publication("news", 2, 2)));
    let events = h.events();
    assert_eq!(
        count(&events, |e| matches!(
            e,
            Event::Error {
                kind: ErrorKind::Protocol,
                ..
            }
        )),
        1
    );
    assert_eq!(published_numbers(&events), vec![2]);
    assert_eq!(h.core.state(), State::Connected);
    assert!(h.transmits().is_empty());
}

// ----- centrifuge-go #108: several reconnect timers at once -----

#[test]
fn one_reconnect_timer_whatever_happens_while_waiting() {
    let mut h = subscribed_at("news", 1);
    h.core.handle_closed(None, "", h.now);
    let deadline = h.core.next_timeout().unwrap();
    // More closes (a late one from the transport), commands: the deadline stays, nothing opens before it.
    h.core.handle_closed(Some(1006), "", h.now);
    h.core.handle_closed(None, "again", h.now);
    h.core.subscribe("more", "", h.now).unwrap();
    h.core.set_token("t2", h.now);
    assert_eq!(h.core.next_timeout(), Some(deadline));
    assert!(h.transmits().is_empty());
    h.advance(deadline - h.now);
    assert_eq!(h.transmits(), vec![Transmit::Open], "exactly one attempt");
    // connect() while waiting starts one attempt now; the old deadline does not start another.
    h.core.handle_closed(None, "", h.now);
    let deadline = h.core.next_timeout().unwrap();
    h.core.connect("t", h.now);
    assert_eq!(h.transmits(), vec![Transmit::Open]);
    h.advance(deadline - h.now + Duration::from_secs(30));
    assert!(h.transmits().is_empty(), "no second attempt");
    // disconnect() while waiting leaves no timer behind.
    h.core.handle_closed(None, "", h.now);
    h.core.disconnect(h.now);
    assert_eq!(h.core.next_timeout(), None);
    h.advance(Duration::from_secs(60));
    assert!(h.transmits().is_empty());
}

// ----- centrifuge-go #108: `105 already subscribed` races -----

#[test]
fn already_subscribed_races_end_in_one_subscription() {
    let mut h = Pair::new();
    h.connected(25, None);
    h.core.subscribe("calls", "", h.now).unwrap();
    h.core.subscribe("calls", "", h.now).unwrap();
    let sent = h.sent();
    assert_eq!(
        subscribes(&sent),
        vec!["calls"],
        "one command for two calls"
    );
    // The server has it already (a channel of the token): 105 is success.
    h.answer(
        &sent[0],
        "error",
        json!({"code": 105, "message": "already subscribed"}),
    );
    h.core.subscribe("calls", "", h.now).unwrap();
    assert!(h.sent().is_empty());
    let events = h.events();
    assert_eq!(count(&events, |e| matches!(e, Event::Subscribed { .. })), 1);
    assert_eq!(count(&events, |e| matches!(e, Event::Error { .. })), 0);
    // Unsubscribe and subscribe again before the first answer: the late success lands on nobody, the newer
    // attempt's 105 completes it — still one Subscribed, and no Error.
    h.core.unsubscribe("calls", h.now).unwrap();
    h.core.subscribe("calls", "", h.now).unwrap();
    let sent = h.sent();
    assert_eq!(sent.len(), 2, "unsubscribe and subscribe: {sent:?}");
    h.answer(&sent[0], "unsubscribe", json!({}));
    h.answer(
        &sent[1],
        "error",
        json!({"code": 105, "message": "already subscribed"}),
    );
    h.answer(&sent[1], "subscribe", json!({}));
    let events = h.events();
    assert_eq!(count(&events, |e| matches!(e, Event::Subscribed { .. })), 1);
    assert_eq!(h.core.channels(), vec!["calls"]);
}

// ----- centrifuge-go #108: subscribe before connect -----

#[test]
fn subscriptions_made_before_the_connection_are_sent_once_after_it() {
    let mut h = Pair::new();
    h.core.subscribe("a", "", h.now).unwrap();
    h.core.connect("t", h.now);
    h.core.subscribe("b", "", h.now).unwrap();
    assert_eq!(h.transmits(), vec![Transmit::Open]);
    h.core.handle_opened(h.now);
    h.core.subscribe("c", "", h.now).unwrap();
    let sent = h.sent();
    assert_eq!(
        sent.len(),
        1,
        "only the connect command before its reply: {sent:?}"
    );
    accept_connect(&mut h, &sent[0]);
    let sent = h.sent();
    assert_eq!(subscribes(&sent), vec!["a", "b", "c"]);
    for command in &sent {
        h.answer(command, "subscribe", json!({}));
    }
    assert_eq!(
        count(&h.events(), |e| matches!(e, Event::Subscribed { .. })),
        3
    );
    assert!(h.sent().is_empty(), "nothing sent twice");
}

// ----- centrifuge-go #118: a server unsubscribe during a reconnect must reach the application -----

#[test]
fn a_server_unsubscribe_during_the_resubscribe_is_reported_and_sticks() {
    let mut h = subscribed_at("news", 4);
    let connect = reconnect(&mut h);
    accept_connect(&mut h, &connect);
    let resubscribe = h.sent().remove(0);
    assert_eq!(resubscribe["subscribe"]["recover"], true);
    h.frame(
        r#"{"push":{"channel":"news","unsubscribe":{"code":2000,"reason":"server unsubscribe"}}}"#,
    );
    let events = h.events();
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Unsubscribed { channel, code: UnsubscribeCode::Server(2000), .. } if channel == "news"
        )),
        "{events:?}"
    );
    // The resubscribe's answer comes after: it lands on nobody, and the next reconnect does not bring it back.
    h.answer(
        &resubscribe,
        "subscribe",
        json!({"recoverable": true, "epoch": "E", "offset": 4}),
    );
    assert!(h.events().is_empty());
    let connect = reconnect(&mut h);
    accept_connect(&mut h, &connect);
    assert!(subscribes(&h.sent()).is_empty());

    // A refusal of the resubscribe is the same: Unsubscribed, once.
    let mut h = subscribed_at("news", 4);
    let connect = reconnect(&mut h);
    accept_connect(&mut h, &connect);
    let resubscribe = h.sent().remove(0);
    h.answer(
        &resubscribe,
        "error",
        json!({"code": 103, "message": "permission denied"}),
    );
    let events = h.events();
    assert_eq!(
        count(&events, |e| matches!(
            e,
            Event::Unsubscribed {
                code: UnsubscribeCode::SubscribeRefused,
                ..
            }
        )),
        1
    );
    assert!(h.core.channels().is_empty());
}

// ----- centrifuge-csharp UnsubscribeWhileConnecting -----

#[test]
fn unsubscribe_while_connecting_sends_nothing_and_reports_once() {
    for phase in ["opening", "handshake", "waiting"] {
        let mut h = subscribed_at("news", 4);
        h.core.handle_closed(None, "", h.now);
        if phase != "waiting" {
            next_attempt(&mut h);
        }
        if phase == "handshake" {
            h.core.handle_opened(h.now);
        }
        let before = h.sent();
        h.core.unsubscribe("news", h.now).unwrap();
        let events = h.events();
        assert_eq!(
            count(&events, |e| matches!(
                e,
                Event::Unsubscribed {
                    code: UnsubscribeCode::UnsubscribeCalled,
                    ..
                }
            )),
            1,
            "{phase}"
        );
        if phase == "waiting" {
            next_attempt(&mut h);
        }
        if phase != "handshake" {
            h.core.handle_opened(h.now);
        }
        let mut sent = before;
        sent.extend(h.sent());
        let connect = sent
            .iter()
            .find(|c| c.get("connect").is_some())
            .unwrap()
            .clone();
        accept_connect(&mut h, &connect);
        sent.extend(h.sent());
        assert!(
            sent.iter()
                .all(|c| c.get("subscribe").is_none() && c.get("unsubscribe").is_none()),
            "{phase}: {sent:?}"
        );
        assert!(h.core.channels().is_empty());
        assert_eq!(
            count(&h.events(), |e| matches!(e, Event::Unsubscribed { .. })),
            0,
            "{phase}: no second Unsubscribed"
        );
    }
}

// ----- state invalidation: disconnect 3014 and unsubscribe 2502 (C#: StateInvalidation) -----

#[test]
fn state_invalidation_forgets_positions_and_reports_the_loss_once() {
    // 2502: resubscribe at once, without recovery; the next Subscribed says nothing was recovered.
    let mut h = subscribed_at("news", 7);
    h.frame(
        r#"{"push":{"channel":"news","unsubscribe":{"code":2502,"reason":"insufficient state"}}}"#,
    );
    let sent = h.sent();
    assert!(sent[0]["subscribe"].get("recover").is_none(), "{sent:?}");
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "epoch": "F", "offset": 9}),
    );
    let losses = |events: &[Event]| {
        count(events, |e| {
            matches!(
                e,
                Event::Subscribed {
                    was_recovering: true,
                    recovered: false,
                    ..
                }
            )
        })
    };
    assert_eq!(losses(&h.events()), 1);
    assert_eq!(h.core.position("news"), Some((9, "F".to_string())));

    // 3014: the connection's state is gone: a new token first, then subscriptions without recovery.
    h.frame(r#"{"push":{"disconnect":{"code":3014,"reason":"state invalidated"}}}"#);
    let events = h.events();
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Disconnected {
            code: DisconnectCode::Server(3014),
            will_reconnect: true,
            ..
        }
    )));
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::TokenExpiring { channel: None })));
    h.core.set_token("fresh", h.now);
    assert!(h.transmits().contains(&Transmit::Open));
    let connect = open(&mut h);
    assert_eq!(connect["connect"]["token"], "fresh");
    accept_connect(&mut h, &connect);
    let sent = h.sent();
    assert!(sent[0]["subscribe"].get("recover").is_none(), "{sent:?}");
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "epoch": "G", "offset": 12}),
    );
    assert_eq!(losses(&h.events()), 1);
    // Reported once: the following reconnect recovers normally again.
    let connect = reconnect(&mut h);
    accept_connect(&mut h, &connect);
    let sent = h.sent();
    assert_eq!(sent[0]["subscribe"]["offset"], 12);
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "epoch": "G", "offset": 12, "recovered": true, "was_recovering": true}),
    );
    assert_eq!(losses(&h.events()), 0);
}

// ----- issue 16, item 2: a recovery over the transport's size cap -----

/// The subscribe command of the reconnect that follows an oversized message (`pending` marks the link's end).
fn oversized_then_resubscribe(h: &mut Pair) -> Value {
    h.core.handle_oversized();
    let connect = reconnect(h);
    accept_connect(h, &connect);
    h.sent().remove(0)
}

#[test]
fn an_oversized_publication_met_by_recovery_is_stepped_over_and_the_loss_reported_once() {
    let mut h = subscribed_at("calls", 10);
    // The big publication 11 arrives live: over the cap, the link ends. Nothing is pending: nobody is blamed.
    let resubscribe = oversized_then_resubscribe(&mut h);
    assert_eq!(resubscribe["subscribe"]["offset"], 10);
    // The recovery brings 11 again (and 12, published after it): over the cap once more.
    let resubscribe = oversized_then_resubscribe(&mut h);
    assert_eq!(
        resubscribe["subscribe"]["offset"], 11,
        "the next recovery starts past the big one"
    );
    assert_eq!(resubscribe["subscribe"]["epoch"], "E");
    h.answer(
        &resubscribe,
        "subscribe",
        json!({"recoverable": true, "epoch": "E", "offset": 12, "recovered": true, "was_recovering": true,
               "publications": [{"data": {"n": 12}, "offset": 12}]}),
    );
    h.frame(&publication("calls", 13, 13));
    let events = h.events();
    let reported: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Subscribed {
                recovered,
                was_recovering,
                offset,
                ..
            } => Some((*was_recovering, *recovered, *offset)),
            _ => None,
        })
        .collect();
    assert_eq!(
        reported,
        vec![(true, false, 12)],
        "the loss, once, with the position"
    );
    assert_eq!(published_numbers(&events), vec![12, 13]);
    assert_eq!(h.core.stats().oversized_skips, 1);
    // Settled: the next reconnect recovers from 13 as usual and reports a full recovery.
    let connect = reconnect(&mut h);
    accept_connect(&mut h, &connect);
    let sent = h.sent();
    assert_eq!(sent[0]["subscribe"]["offset"], 13);
}

#[test]
fn a_recovery_that_stays_too_large_ends_in_a_fresh_subscription() {
    let mut h = subscribed_at("calls", 10);
    h.core.handle_closed(None, "", h.now);
    next_attempt(&mut h);
    let connect = open(&mut h);
    accept_connect(&mut h, &connect);
    let mut offsets = Vec::new();
    let mut subscribe = h.sent().remove(0);
    // Every recovery is over the cap (many publications together, or several big ones).
    for _ in 0..10 {
        offsets.push(subscribe["subscribe"]["offset"].clone());
        if subscribe["subscribe"].get("recover").is_none() {
            break;
        }
        subscribe = oversized_then_resubscribe(&mut h);
    }
    assert_eq!(
        offsets,
        vec![
            json!(10),
            json!(11),
            json!(12),
            json!(14),
            json!(18),
            Value::Null
        ],
        "steps 1, 2, 4, 8, then no recovery at all"
    );
    h.answer(
        &subscribe,
        "subscribe",
        json!({"recoverable": true, "epoch": "E", "offset": 40}),
    );
    h.frame(&publication("calls", 41, 41));
    let events = h.events();
    assert_eq!(
        count(&events, |e| matches!(
            e,
            Event::Subscribed {
                was_recovering: true,
                recovered: false,
                ..
            }
        )),
        1
    );
    assert_eq!(published_numbers(&events), vec![41]);
}

/// (channel, offset) of every subscribe command sent.
fn recovery_offsets(sent: &[Value]) -> Vec<(Value, Value)> {
    sent.iter()
        .map(|c| {
            (
                c["subscribe"]["channel"].clone(),
                c["subscribe"]["offset"].clone(),
            )
        })
        .collect()
}

#[test]
fn only_the_first_unanswered_recovery_is_blamed() {
    let mut h = Pair::new();
    for channel in ["a", "b"] {
        h.core.subscribe(channel, "", h.now).unwrap();
    }
    h.connected(25, None);
    for command in h.sent() {
        h.answer(
            &command,
            "subscribe",
            json!({"recoverable": true, "epoch": "E", "offset": 5}),
        );
    }
    // Both recoveries unanswered: the server answers in order, so the message that did not fit is "a"'s reply.
    let connect = reconnect(&mut h);
    accept_connect(&mut h, &connect);
    h.sent();
    h.core.handle_oversized();
    let connect = reconnect(&mut h);
    accept_connect(&mut h, &connect);
    let sent = h.sent();
    assert_eq!(
        recovery_offsets(&sent),
        vec![(json!("a"), json!(6)), (json!("b"), json!(5))]
    );
    // "a" was answered this time; "b"'s reply is the one that did not fit.
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "epoch": "E", "offset": 6, "recovered": true}),
    );
    h.core.handle_oversized();
    let connect = reconnect(&mut h);
    accept_connect(&mut h, &connect);
    assert_eq!(
        recovery_offsets(&h.sent()),
        vec![(json!("a"), json!(6)), (json!("b"), json!(6))]
    );
}

#[test]
fn stepping_past_the_top_of_the_stream_loses_nothing_that_follows() {
    let mut h = subscribed_at("calls", 10);
    let first = oversized_then_resubscribe(&mut h);
    h.core.handle_oversized();
    // The server's top is 10 after all (the big message was not this channel's): position 10, not 11.
    let connect = reconnect(&mut h);
    accept_connect(&mut h, &connect);
    let resubscribe = h.sent().remove(0);
    assert_eq!(
        (
            first["subscribe"]["offset"].clone(),
            resubscribe["subscribe"]["offset"].clone()
        ),
        (json!(10), json!(11))
    );
    h.answer(
        &resubscribe,
        "subscribe",
        json!({"recoverable": true, "epoch": "E", "offset": 10, "recovered": true, "was_recovering": true}),
    );
    h.frame(&publication("calls", 11, 11));
    assert_eq!(published_numbers(&h.events()), vec![11]);
}

#[test]
fn oversized_server_side_recoveries_step_over_in_the_connect_command() {
    let mut h = Pair::new();
    h.core.connect("t", h.now);
    h.transmits();
    let connect = open(&mut h);
    h.answer(
        &connect,
        "connect",
        json!({"client": "c", "subs": {"calls:#1": {"recoverable": true, "epoch": "E", "offset": 3}}}),
    );
    h.events();
    let connect = reconnect(&mut h);
    assert_eq!(connect["connect"]["subs"]["calls:#1"]["offset"], 3);
    // The connect reply with the recovered publications did not fit.
    h.core.handle_oversized();
    let connect = reconnect(&mut h);
    assert_eq!(connect["connect"]["subs"]["calls:#1"]["offset"], 4);
    h.answer(
        &connect,
        "connect",
        json!({"client": "c", "subs": {"calls:#1": {"recoverable": true, "epoch": "E", "offset": 5,
               "recovered": true, "was_recovering": true, "publications": [{"data": {"n": 5}, "offset": 5}]}}}),
    );
    let events = h.events();
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Subscribed {
            was_recovering: true,
            recovered: false,
            ..
        }
    )));
    assert_eq!(published_numbers(&events), vec![5]);
}
