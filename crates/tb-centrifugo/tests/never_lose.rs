//! Issue 12, "never lose a call silently": token waits that ask again, de-duplication that survives a reset
//! stream, server-side subscriptions, invalidation that stays visible, replies matched to their attempt.
//! The client core against a scripted server on a fake clock (see `support/pair.rs`).

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::pair::{publication, published_numbers, Pair};
use tb_centrifugo::{Config, Core, Event, State, Transmit};

/// (channel, was_recovering, recovered) of every Subscribed event.
fn subscribed(events: &[Event]) -> Vec<(String, bool, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Subscribed {
                channel,
                was_recovering,
                recovered,
                ..
            } => Some((channel.clone(), *was_recovering, *recovered)),
            _ => None,
        })
        .collect()
}

fn token_asks(events: &[Event], channel: Option<&str>) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::TokenExpiring { channel: c } if c.as_deref() == channel))
        .count()
}

/// Drops the link and reconnects; returns the connect command the server received.
fn reconnect(h: &mut Pair) -> Value {
    h.core.handle_closed(None, "", h.now);
    h.events();
    while h.core.state() != State::Connecting || !h.transmits().contains(&Transmit::Open) {
        h.advance_to_deadline();
    }
    h.core.handle_opened(h.now);
    h.sent().remove(0)
}

// ----- item 11 -----

/// The pauses between the TokenExpiring asks while the 1C handler never answers (ten of them), for one jitter
/// seed; then answers and checks the new token is used.
fn token_ask_delays(seed: u64) -> Vec<Duration> {
    let mut h = Pair::new();
    h.core = Core::new(Config {
        jitter_seed: seed,
        ..Config::default()
    });
    h.core.connect("old", h.now);
    h.transmits();
    h.core.handle_opened(h.now);
    let sent = h.sent();
    h.frame(
        &json!({"id": sent[0]["id"], "error": {"code": 109, "message": "token expired"}})
            .to_string(),
    );
    assert_eq!(token_asks(&h.events(), None), 1);
    h.transmits();
    // The 1C handler failed to get a token (backend down): the core asks again, later each time, never opens.
    let mut delays = Vec::new();
    for _ in 0..10 {
        delays.push(h.advance_to_deadline());
        assert_eq!(token_asks(&h.events(), None), 1, "asked again");
        assert!(
            h.transmits().is_empty(),
            "no connect attempt with the dead token"
        );
    }
    h.core.set_token("new", h.now);
    assert_eq!(h.transmits(), vec![Transmit::Open]);
    h.core.handle_opened(h.now);
    assert_eq!(h.sent()[0]["connect"]["token"], "new");
    delays
}

#[test]
fn a_token_wait_asks_again_with_backoff_until_answered() {
    let ms = |d: &Duration| d.as_millis() as u64;
    for seed in 0..32u64 {
        let delays = token_ask_delays(seed);
        // The SDKs' full jitter, 0.5 s to 20 s: never sooner than 0.5 s, and the n-th pause at most
        // 0.5 s + 0.5 s · 2^n — a ceiling that doubles.
        assert!(
            delays.iter().all(|d| ms(d) >= 500),
            "seed {seed}: {delays:?}"
        );
        for (step, delay) in delays.iter().enumerate() {
            let ceiling = (500 + 500 * (1u64 << step)).min(20_000);
            assert!(ms(delay) <= ceiling, "seed {seed}, ask {step}: {delays:?}");
        }
        // And the pauses grow: the last five together take well over twice the first five (expected: about
        // five times), so a handler that never answers is asked less and less often, not at a fixed rate.
        let first: u64 = delays[..5].iter().map(ms).sum();
        let last: u64 = delays[5..].iter().map(ms).sum();
        assert!(last > 2 * first, "seed {seed}: {delays:?}");
    }
}

#[test]
fn a_connected_token_expiring_is_raised_again_until_set_token() {
    let mut h = Pair::new();
    h.connected(0, Some(10));
    assert_eq!(h.advance_to_deadline(), Duration::from_secs(5));
    assert_eq!(token_asks(&h.events(), None), 1);
    let again = h.advance_to_deadline();
    assert!(
        again >= Duration::from_millis(500) && again <= Duration::from_secs(1),
        "{again:?}"
    );
    assert_eq!(token_asks(&h.events(), None), 1);
    h.core.set_token("tok-2", h.now);
    let sent = h.sent();
    assert_eq!(sent[0]["refresh"]["token"], "tok-2");
    h.answer(&sent[0], "refresh", json!({"expires": true, "ttl": 60}));
    assert_eq!(
        h.advance_to_deadline(),
        Duration::from_secs(45),
        "back to the normal schedule"
    );
}

#[test]
fn a_subscription_token_wait_asks_again() {
    let mut h = Pair::new();
    h.connected(0, None);
    h.core.subscribe("p", "t1", h.now).unwrap();
    let sent = h.sent();
    h.answer(
        &sent[0],
        "error",
        json!({"code": 109, "message": "token expired"}),
    );
    assert_eq!(token_asks(&h.events(), Some("p")), 1);
    let again = h.advance_to_deadline();
    assert!(
        again >= Duration::from_millis(500) && again <= Duration::from_secs(1),
        "{again:?}"
    );
    assert_eq!(token_asks(&h.events(), Some("p")), 1);
    h.core.subscribe("p", "t2", h.now).unwrap();
    assert_eq!(h.sent()[0]["subscribe"]["token"], "t2");
}

#[test]
fn state_invalidated_without_a_token_reconnects_instead_of_waiting() {
    let mut h = Pair::new();
    h.core.connect("", h.now);
    h.transmits();
    h.core.handle_opened(h.now);
    let sent = h.sent();
    h.answer(&sent[0], "connect", json!({"client": "anon"}));
    h.events();
    h.frame(r#"{"push":{"disconnect":{"code":3014,"reason":"state invalidated"}}}"#);
    let events = h.events();
    assert_eq!(
        token_asks(&events, None),
        0,
        "nobody can answer: {events:?}"
    );
    h.transmits();
    h.advance_to_deadline();
    assert_eq!(h.transmits(), vec![Transmit::Open]);
}

// ----- item 12 -----

#[test]
fn publications_of_an_unpositioned_subscription_are_never_dropped() {
    let mut h = Pair::new();
    h.core.subscribe("plain", "", h.now).unwrap();
    h.connected(0, None);
    let sent = h.sent();
    // History is on (offsets present) but the subscription is neither recoverable nor positioned.
    h.answer(&sent[0], "subscribe", json!({}));
    for (offset, n) in [(10, 1), (11, 2), (1, 3), (2, 4)] {
        h.frame(&publication("plain", offset, n));
    }
    assert_eq!(published_numbers(&h.events()), vec![1, 2, 3, 4]);
    assert_eq!(h.core.stats().duplicates_dropped, 0);
}

#[test]
fn a_reset_stream_starting_at_offset_one_is_delivered() {
    let mut h = Pair::new();
    h.core.subscribe("calls", "", h.now).unwrap();
    h.connected(0, None);
    let sent = h.sent();
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "positioned": true, "epoch": "E1", "offset": 10}),
    );
    h.frame(&publication("calls", 11, 11));
    h.frame(&publication("calls", 11, 11));
    // Redis was flushed: the stream starts again at offset 1 (pushes carry no epoch).
    h.frame(&publication("calls", 1, 101));
    h.frame(&publication("calls", 2, 102));
    assert_eq!(published_numbers(&h.events()), vec![11, 101, 102]);
    assert_eq!(h.core.stats().duplicates_dropped, 1);
    assert_eq!(h.core.position("calls").unwrap().0, 2);
}

#[test]
fn a_reply_with_a_new_epoch_resets_the_position() {
    let mut h = Pair::new();
    h.core.subscribe("calls", "", h.now).unwrap();
    h.connected(0, None);
    let sent = h.sent();
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "epoch": "E1", "offset": 10}),
    );
    let connect = reconnect(&mut h);
    h.answer(&connect, "connect", json!({"client": "c-2"}));
    let sent = h.sent();
    assert_eq!(sent[0]["subscribe"]["epoch"], "E1");
    // A server that claims recovery although the epoch changed: the old position means nothing.
    h.answer(&sent[0], "subscribe", json!({"recoverable": true, "epoch": "E2", "offset": 0, "recovered": true, "was_recovering": true}));
    let events = h.events();
    assert_eq!(
        subscribed(&events),
        vec![("calls".to_string(), true, false)]
    );
    h.frame(&publication("calls", 1, 1));
    assert_eq!(published_numbers(&h.events()), vec![1]);
    assert_eq!(h.core.position("calls"), Some((1, "E2".to_string())));
}

#[test]
fn an_empty_reply_epoch_is_replaced_by_the_first_one_seen() {
    let mut h = Pair::new();
    h.core.subscribe("calls", "", h.now).unwrap();
    h.connected(0, None);
    let sent = h.sent();
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "epoch": "", "offset": 3}),
    );
    let connect = reconnect(&mut h);
    h.answer(&connect, "connect", json!({"client": "c-2"}));
    let sent = h.sent();
    let replay: Vec<Value> = (4..=5)
        .map(|o| json!({"data": {"n": o}, "offset": o}))
        .collect();
    h.answer(&sent[0], "subscribe", json!({"recoverable": true, "epoch": "E1", "offset": 5, "recovered": true, "was_recovering": true, "publications": replay}));
    let events = h.events();
    assert_eq!(subscribed(&events), vec![("calls".to_string(), true, true)]);
    assert_eq!(published_numbers(&events), vec![4, 5]);
    assert_eq!(h.core.position("calls"), Some((5, "E1".to_string())));
}

// ----- item 13 -----

#[test]
fn server_side_subscriptions_are_tracked_and_recovered() {
    let mut h = Pair::new();
    h.core.connect("tok-1", h.now);
    h.transmits();
    h.core.handle_opened(h.now);
    let sent = h.sent();
    h.answer(
        &sent[0],
        "connect",
        json!({"client": "c-1", "subs": {
            "personal:#42": {"recoverable": true, "positioned": true, "epoch": "S1", "offset": 3}
        }}),
    );
    let events = h.events();
    assert_eq!(
        subscribed(&events),
        vec![("personal:#42".to_string(), false, false)]
    );
    h.frame(&publication("personal:#42", 4, 4));
    h.frame(&publication("personal:#42", 4, 4));
    assert_eq!(published_numbers(&h.events()), vec![4]);
    assert_eq!(h.core.position("personal:#42"), Some((4, "S1".to_string())));

    let connect = reconnect(&mut h);
    assert_eq!(
        connect["connect"]["subs"]["personal:#42"],
        json!({"recover": true, "offset": 4, "epoch": "S1"})
    );
    let replay: Vec<Value> = (4..=6)
        .map(|o| json!({"data": {"n": o}, "offset": o}))
        .collect();
    h.answer(
        &connect,
        "connect",
        json!({"client": "c-2", "subs": {
            "personal:#42": {"recoverable": true, "positioned": true, "epoch": "S1", "offset": 6,
                             "recovered": true, "was_recovering": true, "publications": replay}
        }}),
    );
    let events = h.events();
    assert_eq!(
        subscribed(&events),
        vec![("personal:#42".to_string(), true, true)]
    );
    assert_eq!(published_numbers(&events), vec![5, 6]);
    // A server-side unsubscribe ends the tracking.
    h.frame(r#"{"push":{"channel":"personal:#42","unsubscribe":{"code":2000,"reason":"server unsubscribe"}}}"#);
    assert_eq!(h.core.position("personal:#42"), None);
}

#[test]
fn a_server_side_subscribe_push_is_tracked_too() {
    let mut h = Pair::new();
    h.connected(0, None);
    h.frame(
        r#"{"push":{"channel":"news","subscribe":{"recoverable":true,"epoch":"N","offset":7}}}"#,
    );
    assert_eq!(
        subscribed(&h.events()),
        vec![("news".to_string(), false, false)]
    );
    h.frame(&publication("news", 8, 8));
    h.events();
    let connect = reconnect(&mut h);
    assert_eq!(connect["connect"]["subs"]["news"]["offset"], 8);
}

// ----- item 14 -----

#[test]
fn invalidation_2502_is_reported_on_the_next_subscribe() {
    let mut h = Pair::new();
    h.core.subscribe("a", "", h.now).unwrap();
    h.connected(0, None);
    let sent = h.sent();
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "epoch": "E", "offset": 3}),
    );
    h.events();
    h.frame(r#"{"push":{"channel":"a","unsubscribe":{"code":2502,"reason":"state invalidated"}}}"#);
    let sent = h.sent();
    assert!(sent[0]["subscribe"].get("recover").is_none());
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "epoch": "E", "offset": 9}),
    );
    assert_eq!(
        subscribed(&h.events()),
        vec![("a".to_string(), true, false)]
    );
    // Only the next one: a later ordinary resubscribe is a plain one again.
    h.frame(
        r#"{"push":{"channel":"a","unsubscribe":{"code":2500,"reason":"insufficient state"}}}"#,
    );
    let sent = h.sent();
    h.answer(&sent[0], "subscribe", json!({"recoverable": true, "epoch": "E", "offset": 9, "recovered": true, "was_recovering": true}));
    assert_eq!(subscribed(&h.events()), vec![("a".to_string(), true, true)]);
}

#[test]
fn invalidation_3014_is_reported_on_the_next_subscribe() {
    let mut h = Pair::new();
    h.core.subscribe("a", "", h.now).unwrap();
    h.connected(0, None);
    let sent = h.sent();
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "epoch": "E", "offset": 3}),
    );
    h.events();
    h.frame(r#"{"push":{"disconnect":{"code":3014,"reason":"state invalidated"}}}"#);
    h.transmits();
    assert_eq!(token_asks(&h.events(), None), 1);
    h.core.set_token("tok-2", h.now);
    h.transmits();
    h.core.handle_opened(h.now);
    let sent = h.sent();
    h.answer(&sent[0], "connect", json!({"client": "c-2"}));
    let sent = h.sent();
    h.answer(
        &sent[0],
        "subscribe",
        json!({"recoverable": true, "epoch": "E", "offset": 3}),
    );
    assert_eq!(
        subscribed(&h.events()),
        vec![("a".to_string(), true, false)]
    );
}

#[test]
fn a_late_subscribe_reply_cannot_land_on_a_newer_subscription() {
    let mut h = Pair::new();
    h.connected(0, None);
    h.core.subscribe("a", "", h.now).unwrap();
    let first = h.sent().remove(0);
    h.core.unsubscribe("a", h.now).unwrap();
    h.core.subscribe("a", "", h.now).unwrap();
    let sent = h.sent();
    let second = sent
        .iter()
        .find(|c| c.get("subscribe").is_some())
        .unwrap()
        .clone();
    h.events();
    // The answer to the first attempt (a refusal) arrives late: the new subscription is untouched.
    h.answer(
        &first,
        "error",
        json!({"code": 103, "message": "permission denied"}),
    );
    let events = h.events();
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(h.core.channels(), vec!["a".to_string()]);
    h.answer(
        &second,
        "subscribe",
        json!({"recoverable": true, "epoch": "E", "offset": 2}),
    );
    assert_eq!(
        subscribed(&h.events()),
        vec![("a".to_string(), false, false)]
    );
}

#[test]
fn a_late_success_reply_is_ignored_as_well() {
    let mut h = Pair::new();
    h.connected(0, None);
    h.core.subscribe("a", "", h.now).unwrap();
    let first = h.sent().remove(0);
    h.core.unsubscribe("a", h.now).unwrap();
    h.core.subscribe("a", "", h.now).unwrap();
    h.sent();
    h.events();
    h.answer(
        &first,
        "subscribe",
        json!({"recoverable": true, "epoch": "OLD", "offset": 50}),
    );
    assert!(subscribed(&h.events()).is_empty());
    assert_eq!(h.core.position("a"), Some((0, String::new())));
}

#[test]
fn error_105_for_a_channel_of_the_token_is_success() {
    let mut h = Pair::new();
    h.core.connect("tok-1", h.now);
    h.transmits();
    h.core.handle_opened(h.now);
    let sent = h.sent();
    h.answer(&sent[0], "connect", json!({"client": "c-1", "subs": {"personal:#42": {"recoverable": true, "epoch": "S", "offset": 1}}}));
    h.events();
    h.core.subscribe("personal:#42", "", h.now).unwrap();
    let sent = h.sent();
    h.answer(
        &sent[0],
        "error",
        json!({"code": 105, "message": "already subscribed"}),
    );
    let events = h.events();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Error { .. } | Event::Unsubscribed { .. })),
        "{events:?}"
    );
    assert_eq!(
        subscribed(&events),
        vec![("personal:#42".to_string(), false, false)]
    );
    assert_eq!(h.core.channels(), vec!["personal:#42".to_string()]);
    // Still one stream: a publication arrives once.
    h.frame(&publication("personal:#42", 2, 2));
    assert_eq!(published_numbers(&h.events()), vec![2]);
}
