//! ConnectAgent's worker: the [`Job`] that joins the agent's pipe (`transport::agent_pipe`) and the sans-IO
//! 1C-Connect core of `tb-connect`. Its Diagnostics part and its reasons are worded, as they change, by the
//! functions the class hands in ([`Render`], from `present::connect`). The 1C thread never waits on the pipe,
//! only (≤ 2 s, in the class) for the outcome of a connect attempt, which the job answers on a channel.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::Value as Json;
use tb_connect::{
    Command as AgentCommand, Core, DisconnectReason, Event, State, SubscriptionKey, Transmit,
};

use super::worker::{DriverError, Job, Role, Wake, Worker};
use crate::transport::agent_pipe::{AgentPipe, PipeOps, Readiness, Waker};

pub const ROLE: Role = Role {
    thread_name: "tb-connect-agent",
    en: "the agent worker thread",
    ru: "поток агента",
    ru_of: "потока агента",
};

/// How long one open may wait for a busy pipe instance.
const OPEN_TIMEOUT: Duration = Duration::from_millis(1500);
/// A command write that the agent does not take within this means the agent is stuck: reconnect.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the 1C thread asks of the worker.
pub enum Command {
    /// Connect to `address`; `reply` learns whether the pipe opened.
    Connect {
        address: String,
        reply: mpsc::Sender<bool>,
    },
    Close,
    Send {
        command: AgentCommand,
        id: String,
    },
    Subscribe {
        keys: Vec<SubscriptionKey>,
        request_id: String,
    },
    Unsubscribe {
        keys: Vec<SubscriptionKey>,
        request_id: String,
    },
    SetAutoReconnect(bool),
    SetCommandTimeout(Duration),
}

/// What the worker publishes for the 1C thread.
#[derive(Default)]
pub struct AgentStatus {
    pub connected: AtomicBool,
    pub diagnostics: Mutex<Json>,
}

/// Receives each event of the core, with the address the worker is connected (or connecting) to.
pub type EventSink = Box<dyn FnMut(Event, &str) + Send>;

impl Wake for Waker {
    fn wake(&self) {
        Waker::wake(self)
    }
}

/// What the worker needs worded on its thread, handed in by the class from `present::connect` (the driver writes
/// no text a 1C developer reads).
#[derive(Clone, Copy)]
pub struct Render {
    /// The core's state as the class's Diagnostics part.
    pub diagnostics: fn(&Core) -> Json,
    /// The reason of a connect attempt with no address to open.
    pub no_address: fn() -> String,
}

/// Starts the worker thread for `core`. `report` raises the class's `Error` event if the worker fails;
/// `render` words what [`AgentStatus::diagnostics`] shows (each time the core has acted) and the reasons the worker
/// gives.
pub fn start(
    core: Core,
    status: Arc<AgentStatus>,
    sink: EventSink,
    report: impl FnOnce(&DriverError) + Send + 'static,
    render: Render,
) -> Result<Worker<Command>, DriverError> {
    let (pipe, waker) = AgentPipe::create().map_err(|e| DriverError::Spawn {
        role: ROLE,
        reason: e.to_string(),
    })?;
    let job = AgentJob {
        core,
        pipe,
        status,
        sink,
        render,
        address: String::new(),
        connect_reply: None,
    };
    Worker::spawn(ROLE, job, Arc::new(waker), report)
}

struct AgentJob {
    core: Core,
    pipe: AgentPipe,
    status: Arc<AgentStatus>,
    sink: EventSink,
    render: Render,
    address: String,
    connect_reply: Option<mpsc::Sender<bool>>,
}

impl Job for AgentJob {
    type Command = Command;

    fn command(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::Connect { address, reply } => {
                if address != self.address && self.core.state() != State::Idle {
                    // Another login: leave the old agent first.
                    self.core.close(now);
                    self.flush();
                }
                self.address = address;
                if self.core.is_connected() {
                    let _ = reply.send(true);
                } else {
                    self.connect_reply = Some(reply);
                    self.core.connect(now);
                }
            }
            Command::Close => self.core.close(now),
            Command::Send { command, id } => {
                self.core.send(command, Some(&id), now);
            }
            Command::Subscribe { keys, request_id } => {
                self.core.subscribe(&keys, Some(&request_id), now);
            }
            Command::Unsubscribe { keys, request_id } => {
                self.core.unsubscribe(&keys, Some(&request_id), now);
            }
            Command::SetAutoReconnect(enabled) => self.core.set_auto_reconnect(enabled, now),
            Command::SetCommandTimeout(timeout) => self.core.set_command_timeout(timeout),
        }
    }

    fn drive(&mut self) -> Option<Instant> {
        self.core.handle_timeout(Instant::now());
        self.flush();
        self.core.next_timeout()
    }

    fn wait(&mut self, timeout: Option<Duration>) {
        match self.pipe.wait(timeout) {
            Ok(Readiness::Data(bytes)) => self.core.handle_bytes(&bytes, Instant::now()),
            Ok(Readiness::Closed) => {
                self.pipe.close();
                self.core
                    .handle_closed(Instant::now(), DisconnectReason::ClosedByAgent);
            }
            Ok(Readiness::Idle) => {}
            Err(error) if self.pipe.is_open() => {
                self.pipe.close();
                self.core.handle_closed(
                    Instant::now(),
                    DisconnectReason::TransportError(format!("read failed: {error}")),
                );
            }
            // The waiting primitive itself failed; avoid spinning while it recovers.
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }

    fn stop(&mut self) {
        self.pipe.close();
        self.status.connected.store(false, Ordering::Release);
    }
}

impl AgentJob {
    /// Runs the core's outputs until it has nothing more to say.
    fn flush(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(transmit) = self.core.poll_transmit() {
                progressed = true;
                match transmit {
                    Transmit::Open => self.open(),
                    Transmit::Close => self.pipe.close(),
                    Transmit::Bytes(bytes) => self.write(&bytes),
                }
            }
            while let Some(event) = self.core.poll_event() {
                progressed = true;
                // `Connected` must already read true when the 1C form handles the Connected event (and false
                // for Disconnected).
                self.publish_connected();
                (self.sink)(event, &self.address);
            }
            if !progressed {
                break;
            }
        }
        self.publish_connected();
        *self.status.diagnostics.lock() = (self.render.diagnostics)(&self.core);
    }

    fn write(&mut self, bytes: &[u8]) {
        if let Err(error) = self.pipe.write_all(bytes, WRITE_TIMEOUT) {
            self.pipe.close();
            self.core.handle_closed(
                Instant::now(),
                DisconnectReason::TransportError(format!("write failed: {error}")),
            );
        }
    }

    fn publish_connected(&self) {
        self.status
            .connected
            .store(self.core.is_connected(), Ordering::Release);
    }

    fn open(&mut self) {
        let now = Instant::now();
        if self.address.is_empty() {
            let reason = (self.render.no_address)();
            self.core.handle_open_failed(now, &reason);
            self.reply_connect(false);
            return;
        }
        match self.pipe.open(&self.address, OPEN_TIMEOUT) {
            Ok(()) => {
                self.core.handle_opened(Instant::now());
                self.reply_connect(true);
            }
            Err(error) => {
                let reason = format!("{}: {error}", self.address);
                self.core.handle_open_failed(Instant::now(), &reason);
                self.reply_connect(false);
            }
        }
    }

    fn reply_connect(&mut self, opened: bool) {
        if let Some(reply) = self.connect_reply.take() {
            let _ = reply.send(opened);
        }
    }
}
