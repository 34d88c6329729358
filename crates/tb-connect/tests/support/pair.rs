//! A core and a scripted agent on a fake clock, in the spirit of quinn-proto's test `Pair`: a test reads as the
//! conversation — `h.open(0)`, the core sends, `h.agent_says(…, 5)`, the core answers — with every instant given
//! as milliseconds since the start, so timeouts and backoff are exact.
//!
//! The agent side is scripted by the test: what the core sent comes out of [`Pair::transmits`] (command
//! documents) and [`Pair::actions`] (open/close), and what the agent says goes in framed as the real agent frames it.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use tb_connect::frame::encode_agent_frame;
use tb_connect::{CommandOutcome, Config, Core, Event, Failure, LocalOutcome, Transmit};

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub struct Pair {
    pub core: Core,
    t0: Instant,
    /// What the core asked of the transport and the test has not looked at yet, in order.
    outbox: VecDeque<Transmit>,
}

impl Pair {
    pub fn new() -> Self {
        Self::with(Config::default())
    }

    pub fn with(config: Config) -> Self {
        Pair {
            core: Core::new(config, 1234),
            t0: Instant::now(),
            outbox: VecDeque::new(),
        }
    }

    /// The fake clock: `offset_ms` after the start.
    pub fn at(&self, offset_ms: u64) -> Instant {
        self.t0 + ms(offset_ms)
    }

    pub fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.core.poll_event()).collect()
    }

    fn pump(&mut self) {
        while let Some(transmit) = self.core.poll_transmit() {
            self.outbox.push_back(transmit);
        }
    }

    /// The command documents the agent received since the last look.
    pub fn transmits(&mut self) -> Vec<String> {
        self.pump();
        let mut sent = Vec::new();
        self.outbox.retain(|transmit| match transmit {
            Transmit::Bytes(bytes) => {
                sent.push(String::from_utf8(bytes.clone()).expect("commands are UTF-8"));
                false
            }
            _ => true,
        });
        sent
    }

    /// The opens and closes the transport was asked for since the last look.
    pub fn actions(&mut self) -> Vec<Transmit> {
        self.pump();
        let mut actions = Vec::new();
        self.outbox.retain(|transmit| match transmit {
            Transmit::Bytes(_) => true,
            other => {
                actions.push(other.clone());
                false
            }
        });
        actions
    }

    /// `connect`, the transport opens, the link is up.
    pub fn open(&mut self, at_ms: u64) {
        self.core.connect(self.at(at_ms));
        assert_eq!(self.actions(), vec![Transmit::Open]);
        self.core.handle_opened(self.at(at_ms));
    }

    /// The agent writes one message.
    pub fn agent_says(&mut self, xml: &str, at_ms: u64) {
        let now = self.at(at_ms);
        self.core.handle_bytes(&encode_agent_frame(xml), now);
    }

    /// The agent answers command `id`, with `<Error>` when given.
    pub fn result_for(&mut self, id: &str, action: &str, error: Option<&str>, at_ms: u64) {
        let error = error
            .map(|e| format!("<Error>{e}</Error>"))
            .unwrap_or_default();
        self.agent_says(
            &format!(r#"<CommandResult Action="{action}" ID="{id}"><Result>true</Result>{error}</CommandResult>"#),
            at_ms,
        );
    }
}

/// The `ID` attribute of a command document.
pub fn id_of(xml: &str) -> String {
    let start = xml.find("ID=\"").unwrap() + 4;
    let end = xml[start..].find('"').unwrap() + start;
    xml[start..end].to_string()
}

pub fn outcomes(events: &[Event]) -> Vec<&CommandOutcome> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::CommandResult(o) => Some(o.as_ref()),
            _ => None,
        })
        .collect()
}

pub fn local_outcome(outcome: &CommandOutcome) -> Option<LocalOutcome> {
    match outcome.failure {
        Some(Failure::Local { outcome, .. }) => Some(outcome),
        _ => None,
    }
}

/// A short label of an event for sequence assertions: the variant, or the agent's Object for agent events.
pub fn kind(event: &Event) -> String {
    match event {
        Event::Connected { .. } => "Connected".into(),
        Event::Disconnected { .. } => "Disconnected".into(),
        Event::ConnectFailed { .. } => "ConnectFailed".into(),
        Event::Agent(agent) => agent
            .object
            .as_ref()
            .map_or("Event".into(), |o| o.as_str().to_string()),
        Event::CommandResult(_) => "CommandResult".into(),
        Event::Error(_) => "Error".into(),
    }
}
