//! A client core and a scripted Centrifugo server on a fake clock, in the spirit of quinn-proto's test `Pair`:
//! a test reads as the conversation — the core connects, `sent()` shows what the server received, the test
//! answers as the server would (`answer`, `frame`), and `advance` moves the clock, firing the core's timers.

#![allow(dead_code)] // each test binary uses a different part

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tb_centrifugo::{Config, Core, Event, Transmit};

pub struct Pair {
    pub core: Core,
    pub now: Instant,
}

impl Pair {
    pub fn new() -> Pair {
        Pair {
            core: Core::new(Config::default()),
            now: Instant::now(),
        }
    }

    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        self.core.handle_timeout(self.now);
    }

    /// Advances to the client's next deadline (as a worker's read timeout would).
    pub fn advance_to_deadline(&mut self) -> Duration {
        let deadline = self.core.next_timeout().expect("a deadline");
        let waited = deadline.saturating_duration_since(self.now);
        self.now = deadline.max(self.now);
        self.core.handle_timeout(self.now);
        waited
    }

    pub fn transmits(&mut self) -> Vec<Transmit> {
        std::iter::from_fn(|| self.core.poll_transmit()).collect()
    }

    /// All commands sent so far, one JSON value per command (batches split on newlines).
    pub fn sent(&mut self) -> Vec<Value> {
        self.transmits()
            .into_iter()
            .filter_map(|t| match t {
                Transmit::Text(text) => Some(text),
                _ => None,
            })
            .flat_map(|text| {
                text.split('\n')
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect::<Vec<Value>>()
            })
            .collect()
    }

    pub fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.core.poll_event()).collect()
    }

    pub fn frame(&mut self, text: &str) {
        self.core.handle_frame(text.as_bytes(), self.now);
    }

    /// Connects and answers the connect command; returns the events of the handshake.
    pub fn connected(&mut self, ping: u32, ttl: Option<u32>) -> Vec<Event> {
        self.core.connect("tok-1", self.now);
        assert_eq!(self.transmits(), vec![Transmit::Open]);
        self.core.handle_opened(self.now);
        let sent = self.sent();
        let id = sent[0]["id"].as_u64().unwrap();
        let mut result = json!({"client": "c-1", "version": "6.9.1", "ping": ping, "pong": true});
        if let Some(ttl) = ttl {
            result["expires"] = json!(true);
            result["ttl"] = json!(ttl);
        }
        self.frame(&json!({"id": id, "connect": result}).to_string());
        self.events()
    }

    pub fn answer(&mut self, command: &Value, method: &str, result: Value) {
        let id = command["id"].as_u64().unwrap();
        self.frame(&json!({"id": id, method: result}).to_string());
    }
}

/// A server push of publication `{"n": n}` at `offset` in `channel`.
pub fn publication(channel: &str, offset: u64, n: u64) -> String {
    json!({"push": {"channel": channel, "pub": {"data": {"n": n}, "offset": offset}}}).to_string()
}

/// The `n` of every Publication event, in order.
pub fn published_numbers(events: &[Event]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Publication(p) => serde_json::from_str::<Value>(&p.data).ok()?["n"].as_u64(),
            _ => None,
        })
        .collect()
}
