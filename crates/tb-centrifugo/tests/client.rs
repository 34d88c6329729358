//! The client core in conversation with a scripted Centrifugo server on a fake clock (see `support/pair.rs`).

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::pair::{publication, published_numbers, Pair};
use tb_centrifugo::{DisconnectCode, ErrorKind, Event, State, Transmit, UnsubscribeCode};

#[test]
fn connect_sends_token_and_reports_connected() {
    let mut h = Pair::new();
    h.core.connect("tok-1", h.now);
    assert_eq!(h.core.state(), State::Connecting);
    assert_eq!(h.transmits(), vec![Transmit::Open]);
    h.core.handle_opened(h.now);
    let sent = h.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["id"], 1);
    assert_eq!(sent[0]["connect"]["token"], "tok-1");
    h.frame(r#"{"id":1,"connect":{"client":"abc","version":"6.9.1","ping":25,"pong":true}}"#);
    assert_eq!(h.core.state(), State::Connected);
    assert!(matches!(&h.events()[..], [Event::Connected { client_id, .. }] if client_id == "abc"));
}

#[test]
fn replies_are_correlated_by_id_and_batched_subscribes_share_a_frame() {
    let mut h = Pair::new();
    h.core.subscribe("a", "", h.now).unwrap();
    h.core.subscribe("b", "", h.now).unwrap();
    h.connected(25, None);
    let transmits = h.transmits();
    assert_eq!(transmits.len(), 1, "both subscribes in one frame");
    let Transmit::Text(text) = &transmits[0] else {
        panic!()
    };
    let commands: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(commands.len(), 2);
    assert_ne!(commands[0]["id"], commands[1]["id"]);
    // Answer b first, then a, in one frame: each lands on its own channel.
    let frame = format!(
        "{}\n{}",
        json!({"id": commands[1]["id"], "subscribe": {"recoverable": true, "epoch": "eb", "offset": 4}}),
        json!({"id": commands[0]["id"], "subscribe": {"recoverable": true, "epoch": "ea", "offset": 9}})
    );
    h.frame(&frame);
    let events = h.events();
    let subscribed: Vec<(String, u64)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Subscribed {
                channel, offset, ..
            } => Some((channel.clone(), *offset)),
            _ => None,
        })
        .collect();
    assert_eq!(subscribed, vec![("b".to_string(), 4), ("a".to_string(), 9)]);
    assert_eq!(h.core.position("a"), Some((9, "ea".to_string())));
    // An unknown id is ignored.
    h.frame(r#"{"id":999,"subscribe":{}}"#);
    assert!(h.events().is_empty());
}

#[test]
fn server_ping_is_answered_with_empty_object() {
    let mut h = Pair::new();
    h.connected(25, None);
    h.frame("{}");
    assert_eq!(h.transmits(), vec![Transmit::Text("{}".into())]);
    assert_eq!(h.core.stats().pings_answered, 1);
}

#[test]
fn dead_link_is_noticed_after_ping_interval_plus_slack() {
    let mut h = Pair::new();
    h.connected(25, None);
    h.events();
    // Pings keep it alive.
    for _ in 0..5 {
        h.advance(Duration::from_secs(25));
        h.frame("{}");
    }
    h.transmits();
    assert_eq!(h.core.state(), State::Connected);
    let waited = h.advance_to_deadline();
    assert_eq!(waited, Duration::from_secs(35), "25 s ping + 10 s slack");
    assert!(matches!(h.transmits()[0], Transmit::Close { .. }));
    let events = h.events();
    assert_eq!(
        events,
        vec![Event::Disconnected {
            code: DisconnectCode::NoPing,
            reason: "no ping".into(),
            will_reconnect: true
        }]
    );
    assert_eq!(h.core.state(), State::Connecting);
}

#[test]
fn reconnect_uses_capped_exponential_backoff() {
    let mut h = Pair::new();
    h.connected(25, None);
    h.core.handle_closed(None, "", h.now);
    let mut delays = Vec::new();
    for _ in 0..12 {
        let waited = h.advance_to_deadline();
        delays.push(waited);
        assert_eq!(h.transmits(), vec![Transmit::Open]);
        h.core.handle_closed(None, "connection refused", h.now);
    }
    for (step, delay) in delays.iter().enumerate() {
        assert!(*delay >= Duration::from_millis(500));
        assert!(*delay <= Duration::from_secs(20));
        let ceiling = Duration::from_millis((500u64 << step).saturating_add(500).min(20_000));
        assert!(*delay <= ceiling, "step {step}: {delay:?}");
    }
    // Errors for each failed attempt, but only one Disconnected (when the connection was lost).
    let events = h.events();
    let disconnected = events
        .iter()
        .filter(|e| matches!(e, Event::Disconnected { .. }))
        .count();
    assert_eq!(disconnected, 1);
    // After success the backoff starts from the beginning again.
    h.advance_to_deadline();
    h.transmits();
    h.core.handle_opened(h.now);
    let sent = h.sent();
    h.answer(&sent[0], "connect", json!({"client": "c-2"}));
    h.core.handle_closed(Some(3001), "shutdown", h.now);
    assert!(h.advance_to_deadline() <= Duration::from_millis(1000));
}

#[test]
fn terminal_codes_stop_reconnecting() {
    for (code, reconnect) in [
        (3000, true),
        (3001, true),
        (3499, true),
        (3500, false),
        (3999, false),
        (4000, true),
        (4500, false),
        (1009, false),
        (1006, true),
    ] {
        let mut h = Pair::new();
        h.connected(25, None);
        h.events();
        h.core.handle_closed(Some(code), "", h.now);
        let events = h.events();
        let Event::Disconnected { will_reconnect, .. } = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(*will_reconnect, reconnect, "code {code}");
        assert_eq!(h.core.next_timeout().is_some(), reconnect, "code {code}");
        assert_eq!(h.core.state() == State::Disconnected, !reconnect);
    }
}

#[test]
fn disconnect_push_decides_like_close_codes() {
    let mut h = Pair::new();
    h.connected(25, None);
    h.events();
    h.frame(r#"{"push":{"disconnect":{"code":3503,"reason":"force disconnect"}}}"#);
    assert!(matches!(h.transmits()[0], Transmit::Close { .. }));
    assert_eq!(
        h.events(),
        vec![Event::Disconnected {
            code: DisconnectCode::Server(3503),
            reason: "force disconnect".into(),
            will_reconnect: false
        }]
    );
    assert_eq!(h.core.state(), State::Disconnected);
    // The transport's later close report changes nothing.
    h.core.handle_closed(Some(3503), "force disconnect", h.now);
    assert!(h.events().is_empty());
}

#[test]
fn connect_error_with_invalid_token_is_terminal() {
    let mut h = Pair::new();
    h.core.connect("bad", h.now);
    h.transmits();
    h.core.handle_opened(h.now);
    let sent = h.sent();
    h.frame(
        &json!({"id": sent[0]["id"], "error": {"code": 101, "message": "unauthorized"}})
            .to_string(),
    );
    let events = h.events();
    assert!(matches!(
        &events[0],
        Event::Error {
            kind: ErrorKind::Connect,
            code: 101,
            ..
        }
    ));
    assert!(matches!(
        &events[1],
        Event::Disconnected {
            code: DisconnectCode::Server(101),
            will_reconnect: false,
            ..
        }
    ));
    assert_eq!(h.core.state(), State::Disconnected);
}

#[test]
fn expired_token_on_connect_waits_for_set_token() {
    let mut h = Pair::new();
    h.core.connect("old", h.now);
    h.transmits();
    h.core.handle_opened(h.now);
    let sent = h.sent();
    h.frame(
        &json!({"id": sent[0]["id"], "error": {"code": 109, "message": "token expired"}})
            .to_string(),
    );
    let events = h.events();
    assert!(events.contains(&Event::TokenExpiring { channel: None }));
    assert!(matches!(h.transmits()[..], [Transmit::Close { .. }]));
    // No retry with the dead token: only the ask comes again (see never_lose.rs).
    h.advance_to_deadline();
    assert!(h.transmits().is_empty(), "no busy retry with a dead token");
    h.core.set_token("new", h.now);
    assert_eq!(h.transmits(), vec![Transmit::Open]);
    h.core.handle_opened(h.now);
    assert_eq!(h.sent()[0]["connect"]["token"], "new");
}

#[test]
fn token_expiring_fires_before_expiry_and_set_token_sends_refresh() {
    let mut h = Pair::new();
    h.connected(25, Some(120));
    let start = h.now;
    // Keep pings flowing so only the refresh timer matters.
    loop {
        let deadline = h.core.next_timeout().unwrap();
        if deadline >= start + Duration::from_secs(105) {
            break;
        }
        h.advance(Duration::from_secs(20));
        h.frame("{}");
        h.transmits();
        assert!(!h.events().contains(&Event::TokenExpiring { channel: None }));
    }
    h.now = start + Duration::from_secs(105);
    h.core.handle_timeout(h.now);
    assert!(
        h.events().contains(&Event::TokenExpiring { channel: None }),
        "15 s before the 120 s expiry"
    );
    h.core.set_token("tok-2", h.now);
    let sent = h.sent();
    assert_eq!(sent[0]["refresh"]["token"], "tok-2");
    h.answer(&sent[0], "refresh", json!({"expires": true, "ttl": 120}));
    assert_eq!(h.core.state(), State::Connected);
}

#[test]
fn short_ttl_refreshes_at_half_life() {
    let mut h = Pair::new();
    h.connected(0, Some(10));
    assert_eq!(h.advance_to_deadline(), Duration::from_secs(5));
    assert_eq!(h.events(), vec![Event::TokenExpiring { channel: None }]);
}

#[test]
fn recovery_after_reconnect_delivers_missed_publications_once() {
    let mut h = Pair::new();
    h.core.subscribe("calls:#42", "", h.now).unwrap();
    h.connected(25, None);
    let sent = h.sent();
    assert_eq!(sent[0]["subscribe"]["channel"], "calls:#42");
    assert!(
        sent[0]["subscribe"].get("recover").is_none(),
        "first subscribe does not recover"
    );
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "epoch": "E1", "offset": 10}),
    );
    for offset in 11..=13 {
        h.frame(&publication("calls:#42", offset, offset));
    }
    assert_eq!(published_numbers(&h.events()), vec![11, 12, 13]);

    h.core.handle_closed(Some(3001), "shutdown", h.now);
    h.advance_to_deadline();
    h.transmits();
    h.core.handle_opened(h.now);
    let sent = h.sent();
    h.answer(
        &sent[0],
        "connect",
        json!({"client": "c-2", "ping": 25, "pong": true}),
    );
    let sent = h.sent();
    let subscribe = &sent[0]["subscribe"];
    assert_eq!(subscribe["recover"], true);
    assert_eq!(subscribe["offset"], 13);
    assert_eq!(subscribe["epoch"], "E1");
    // The server replays 13 (already seen) to 15, then the live stream repeats 15 and goes on.
    let replay: Vec<Value> = (13..=15)
        .map(|o| json!({"data": {"n": o}, "offset": o}))
        .collect();
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "epoch": "E1", "offset": 15, "recovered": true, "was_recovering": true, "publications": replay}),
    );
    h.frame(&publication("calls:#42", 15, 15));
    h.frame(&publication("calls:#42", 16, 16));
    let events = h.events();
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Subscribed {
            recovered: true,
            was_recovering: true,
            ..
        }
    )));
    assert_eq!(published_numbers(&events), vec![14, 15, 16]);
    assert_eq!(h.core.stats().duplicates_dropped, 2);
}

#[test]
fn impossible_recovery_is_reported() {
    let mut h = Pair::new();
    h.core.subscribe("c", "", h.now).unwrap();
    h.connected(25, None);
    let sent = h.sent();
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "epoch": "E1", "offset": 5}),
    );
    h.core.handle_closed(None, "", h.now);
    h.advance_to_deadline();
    h.transmits();
    h.core.handle_opened(h.now);
    let sent = h.sent();
    h.answer(&sent[0], "connect", json!({"client": "c-2"}));
    let sent = h.sent();
    // History was lost (new epoch): not recovered.
    h.answer(&sent[0], "subscribe", json!({"recoverable": true, "epoch": "E2", "offset": 0, "recovered": false, "was_recovering": true}));
    let events = h.events();
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Subscribed {
                recovered: false,
                was_recovering: true,
                ..
            }
        )),
        "{events:?}"
    );
    // The new stream's publications are not mistaken for duplicates.
    h.frame(&publication("c", 1, 1));
    assert_eq!(published_numbers(&h.events()), vec![1]);
}

#[test]
fn subscribe_errors() {
    let mut h = Pair::new();
    h.connected(25, None);
    h.core.subscribe("secret", "", h.now).unwrap();
    h.core.subscribe("busy", "", h.now).unwrap();
    h.core.subscribe("tok", "t1", h.now).unwrap();
    let sent = h.sent();
    h.answer(
        &sent[0],
        "error",
        json!({"code": 103, "message": "permission denied"}),
    );
    h.answer(
        &sent[1],
        "error",
        json!({"code": 111, "message": "too many requests", "temporary": true}),
    );
    h.answer(
        &sent[2],
        "error",
        json!({"code": 109, "message": "token expired"}),
    );
    let events = h.events();
    assert!(events.contains(&Event::Unsubscribed {
        channel: "secret".into(),
        code: UnsubscribeCode::SubscribeRefused,
        reason: "103 permission denied".into()
    }));
    assert!(events.contains(&Event::TokenExpiring {
        channel: Some("tok".into())
    }));
    assert_eq!(
        h.core.channels(),
        vec!["busy".to_string(), "tok".to_string()]
    );
    // The temporary failure retries after a backoff delay.
    let waited = h.advance_to_deadline();
    assert!(waited >= Duration::from_millis(500) && waited <= Duration::from_secs(1));
    let sent = h.sent();
    assert_eq!(sent[0]["subscribe"]["channel"], "busy");
    // A new token resubscribes.
    h.core.subscribe("tok", "t2", h.now).unwrap();
    let sent = h.sent();
    assert_eq!(sent[0]["subscribe"]["token"], "t2");
}

#[test]
fn subscription_token_refresh() {
    let mut h = Pair::new();
    h.connected(0, None);
    h.core.subscribe("p", "t1", h.now).unwrap();
    let sent = h.sent();
    h.answer(&sent[0], "subscribe", json!({"expires": true, "ttl": 60}));
    h.events();
    assert_eq!(h.advance_to_deadline(), Duration::from_secs(45));
    assert_eq!(
        h.events(),
        vec![Event::TokenExpiring {
            channel: Some("p".into())
        }]
    );
    h.core.subscribe("p", "t2", h.now).unwrap();
    let sent = h.sent();
    assert_eq!(
        sent[0]["sub_refresh"],
        json!({"channel": "p", "token": "t2"})
    );
    h.answer(&sent[0], "sub_refresh", json!({"expires": true, "ttl": 60}));
    assert_eq!(h.advance_to_deadline(), Duration::from_secs(45));
}

#[test]
fn server_unsubscribe_codes() {
    let mut h = Pair::new();
    h.core.subscribe("a", "", h.now).unwrap();
    h.core.subscribe("b", "", h.now).unwrap();
    h.connected(0, None);
    let sent = h.sent();
    h.answer(&sent[0], "subscribe", json!({}));
    h.answer(&sent[1], "subscribe", json!({}));
    h.events();
    h.frame(
        r#"{"push":{"channel":"a","unsubscribe":{"code":2000,"reason":"server unsubscribe"}}}"#,
    );
    h.frame(
        r#"{"push":{"channel":"b","unsubscribe":{"code":2500,"reason":"insufficient state"}}}"#,
    );
    let events = h.events();
    assert_eq!(
        events,
        vec![Event::Unsubscribed {
            channel: "a".into(),
            code: UnsubscribeCode::Server(2000),
            reason: "server unsubscribe".into()
        }]
    );
    let sent = h.sent();
    assert_eq!(sent[0]["subscribe"]["channel"], "b");
}

#[test]
fn command_timeout_reconnects() {
    let mut h = Pair::new();
    h.core.connect("t", h.now);
    h.transmits();
    h.core.handle_opened(h.now);
    h.transmits();
    assert_eq!(h.advance_to_deadline(), Duration::from_secs(10));
    assert!(matches!(h.transmits()[0], Transmit::Close { .. }));
    assert_eq!(h.core.state(), State::Connecting);
}

#[test]
fn user_disconnect_and_unsubscribe() {
    let mut h = Pair::new();
    h.core.subscribe("a", "", h.now).unwrap();
    h.connected(25, None);
    let sent = h.sent();
    h.answer(&sent[0], "subscribe", json!({}));
    h.events();
    h.core.unsubscribe("a", h.now).unwrap();
    assert_eq!(h.sent()[0]["unsubscribe"]["channel"], "a");
    assert!(h.core.unsubscribe("a", h.now).is_err());
    h.core.disconnect(h.now);
    assert!(matches!(h.transmits()[0], Transmit::Close { .. }));
    let events = h.events();
    assert!(events.contains(&Event::Disconnected {
        code: DisconnectCode::DisconnectCalled,
        reason: "disconnect called".into(),
        will_reconnect: false
    }));
    assert_eq!(h.core.state(), State::Disconnected);
    assert_eq!(h.core.next_timeout(), None, "an idle client has no timers");
}

#[test]
fn state_invalidated_asks_for_a_new_token_and_forgets_positions() {
    let mut h = Pair::new();
    h.core.subscribe("a", "", h.now).unwrap();
    h.connected(25, None);
    let sent = h.sent();
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "epoch": "E", "offset": 3}),
    );
    h.events();
    h.frame(r#"{"push":{"disconnect":{"code":3014,"reason":"state invalidated"}}}"#);
    let events = h.events();
    assert!(events.contains(&Event::TokenExpiring { channel: None }));
    assert_eq!(h.core.position("a"), Some((0, String::new())));
}

#[test]
fn debug_hides_token() {
    let mut h = Pair::new();
    h.core.connect("very-secret-token", h.now);
    assert!(!format!("{:?}", h.core).contains("very-secret-token"));
}

#[test]
fn timers_of_a_gone_subscription_or_connection_are_disarmed() {
    let mut h = Pair::new();
    h.connected(0, None);
    assert_eq!(h.core.next_timeout(), None, "no ping, no token expiry");
    h.core.subscribe("a", "sub-token", h.now).unwrap();
    let sent = h.sent();
    assert!(
        h.core.next_timeout().is_some(),
        "the subscribe reply is awaited"
    );
    h.answer(&sent[0], "subscribe", json!({"expires": true, "ttl": 60}));
    h.events();
    assert_eq!(
        h.core.next_timeout(),
        Some(h.now + Duration::from_secs(45)),
        "a new subscription token 15 s before the 60 s expire"
    );
    h.core.unsubscribe("a", h.now).unwrap();
    let sent = h.sent();
    h.answer(&sent[0], "unsubscribe", json!({}));
    assert_eq!(h.core.next_timeout(), None);
    h.advance(Duration::from_secs(60));
    assert!(!h
        .events()
        .iter()
        .any(|e| matches!(e, Event::TokenExpiring { .. })));
    h.core.disconnect(h.now);
    assert_eq!(h.core.next_timeout(), None);
}
