//! The Centrifugo client's worker: the [`Job`] that joins the WebSocket link (`transport::ws_link`) and the
//! sans-IO client core of `tb-centrifugo`. Commands of the 1C thread go to the core; what the core wants sent
//! goes to the link; what the link reads goes back to the core; the core's events go to the class's sink.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tb_centrifugo::client::Stats;
use tb_centrifugo::{Config, Core, ErrorDetail, ErrorKind, Event, State, Transmit};
use tb_prims::address::AddressProblem;

use super::worker::{DriverError, Job, Role, Wake, Worker};
use crate::transport::proxy::{self, ProxyError};
pub use crate::transport::ws_link::DEFAULT_MAX_MESSAGE;
use crate::transport::ws_link::{LinkEvents, LinkWaker, Target, WsLink};

pub const ROLE: Role = Role {
    thread_name: "tb-centrifugo-ws",
    en: "the client thread",
    ru: "поток клиента",
    ru_of: "потока клиента",
};

/// What the 1C thread asks the worker.
pub enum Command {
    Connect { url: String, token: String },
    Disconnect,
    Subscribe { channel: String, token: String },
    Unsubscribe { channel: String },
    SetToken(String),
}

/// What the 1C thread can read without asking the worker.
#[derive(Debug, Clone)]
pub struct Status {
    pub state: State,
    pub client_id: String,
    pub stats: Stats,
    pub url: String,
    pub via_proxy: bool,
    pub last_transport_error: String,
}

impl Default for Status {
    fn default() -> Self {
        Status {
            state: State::Disconnected,
            client_id: String::new(),
            stats: Stats::default(),
            url: String::new(),
            via_proxy: false,
            last_transport_error: String::new(),
        }
    }
}

#[derive(Clone)]
pub struct Settings {
    /// Bound for one connect attempt (TCP, proxy, TLS, WebSocket handshake).
    pub handshake_timeout: Duration,
    /// The `Прокси` property as set (see `transport::proxy`). Shared with the class so a changed property
    /// applies to the next connect attempt.
    pub proxy: Arc<Mutex<String>>,
    /// The cap on one message from the server (МаксимальныйРазмерСообщения), read at each connect attempt.
    pub max_message: Arc<AtomicUsize>,
    pub client: Config,
    /// Words a [`LinkError`] as the reason of the event that follows (Disconnected, or Error for an oversized
    /// message). The class passes `present::driver::link_error_reason`: the driver writes no text a 1C developer
    /// reads.
    pub explain: fn(&LinkError) -> String,
}

/// Why a connect attempt could not even start a link (its text: `present::driver`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    /// The kept address breaks a rule of the address model (`shown` has no credentials).
    Address {
        shown: String,
        problem: AddressProblem,
    },
    /// The Прокси setting or the environment's proxy cannot be used.
    Proxy(ProxyError),
    /// The server sent a message over the cap (`limit` bytes, МаксимальныйРазмерСообщения); the link is ended
    /// and the core reconnects.
    Oversized { limit: usize },
}

pub type EventSink = Box<dyn FnMut(&Event) + Send>;

/// The class's handle: the worker and the status it publishes.
pub struct CentrifugoWorker {
    worker: Worker<Command>,
    pub status: Arc<Mutex<Status>>,
}

impl CentrifugoWorker {
    /// Starts the worker thread. `report` raises the class's `Error` event if the worker fails.
    pub fn start(
        settings: Settings,
        sink: EventSink,
        report: impl FnOnce(&DriverError) + Send + 'static,
    ) -> Result<CentrifugoWorker, DriverError> {
        let spawn_error = |e: std::io::Error| DriverError::Spawn {
            role: ROLE,
            reason: e.to_string(),
        };
        let (link, waker) = WsLink::new(spawn_detached).map_err(spawn_error)?;
        let status = Arc::new(Mutex::new(Status::default()));
        let job = ClientJob {
            core: Core::new(settings.client.clone()),
            settings,
            link,
            sink,
            status: status.clone(),
            url: String::new(),
        };
        let worker = Worker::spawn(ROLE, job, Arc::new(waker), report)?;
        Ok(CentrifugoWorker { worker, status })
    }

    pub fn send(&self, command: Command) -> Result<(), DriverError> {
        self.worker.send(command)
    }

    pub fn failed(&self) -> bool {
        self.worker.failed()
    }

    /// Stops the worker and joins it if it finishes within `deadline` (it always does unless DNS hangs).
    pub fn stop(&mut self, deadline: Duration) -> bool {
        self.worker.stop(deadline)
    }
}

/// The link's resolver threads: started here like every thread, and left to end by themselves (a hung resolver
/// outlives its attempt, whose deadline has already failed it).
fn spawn_detached(name: &str, body: Box<dyn FnOnce() + Send>) -> std::io::Result<()> {
    crate::spawn::spawn(name, body).map(drop)
}

impl Wake for LinkWaker {
    fn wake(&self) {
        LinkWaker::wake(self)
    }
}

struct ClientJob {
    core: Core,
    settings: Settings,
    link: WsLink,
    sink: EventSink,
    status: Arc<Mutex<Status>>,
    url: String,
}

/// The link's news, fed to the core.
struct CoreLink<'a> {
    core: &'a mut Core,
    status: &'a Mutex<Status>,
    sink: &'a mut EventSink,
    explain: fn(&LinkError) -> String,
}

impl LinkEvents for CoreLink<'_> {
    fn opened(&mut self, now: Instant) {
        self.status.lock().last_transport_error.clear();
        self.core.handle_opened(now);
    }
    fn frame(&mut self, bytes: &[u8], now: Instant) {
        self.core.handle_frame(bytes, now);
    }
    fn closed(&mut self, code: Option<u16>, reason: &str, now: Instant) {
        self.core.handle_closed(code, reason, now);
    }
    fn failed(&mut self, reason: &str, now: Instant) {
        self.status.lock().last_transport_error = reason.to_string();
        self.core.handle_closed(None, reason, now);
    }
    /// Said at once, before the Disconnected the core raises for the `closed` that follows; the core then
    /// reconnects as after any transport loss (not as after the server's own 1009, which is final), and a recovery
    /// that brought the message steps over it next time (`Core::handle_oversized`).
    fn oversized(&mut self, limit: usize, _now: Instant) {
        self.core.handle_oversized();
        (self.sink)(&Event::Error {
            kind: ErrorKind::Transport,
            code: 1009,
            detail: ErrorDetail::Peer((self.explain)(&LinkError::Oversized { limit })),
            channel: None,
        });
    }
}

impl ClientJob {
    fn events(&mut self) -> (&mut WsLink, CoreLink<'_>) {
        (
            &mut self.link,
            CoreLink {
                core: &mut self.core,
                status: &self.status,
                sink: &mut self.sink,
                explain: self.settings.explain,
            },
        )
    }

    fn open_link(&mut self) {
        let proxy_setting = self.settings.proxy.lock().clone();
        let timeout = self.settings.handshake_timeout;
        let target = Target::parse(&self.url)
            .map_err(|problem| LinkError::Address {
                shown: tb_prims::redact::url(&self.url),
                problem,
            })
            .and_then(|mut target| {
                target.proxy = proxy::choose_from_env(&proxy_setting, target.tls, &target.host)
                    .map_err(LinkError::Proxy)?;
                target.max_message = self.settings.max_message.load(Ordering::Relaxed);
                Ok(target)
            });
        match target {
            Ok(target) => {
                self.status.lock().via_proxy = target.proxy.is_some();
                let (link, mut events) = self.events();
                link.open(target, timeout, &mut events);
            }
            Err(error) => {
                let reason = (self.settings.explain)(&error);
                self.link.drop_link();
                let (_, mut events) = self.events();
                events.failed(&reason, Instant::now());
            }
        }
    }

    fn publish_status(&self) {
        let mut status = self.status.lock();
        status.state = self.core.state();
        status.client_id = self.core.client_id().to_string();
        status.stats = self.core.stats().clone();
    }
}

impl Job for ClientJob {
    type Command = Command;

    fn command(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::Connect { url, token } => {
                if url != self.url {
                    // A new address: the current link (if any) goes, the core starts over.
                    self.status.lock().url = url.clone();
                    self.url = url;
                    if self.link.is_active() {
                        self.core.disconnect(now);
                        self.link.drop_link();
                    }
                }
                self.core.connect(&token, now);
            }
            Command::Disconnect => self.core.disconnect(now),
            Command::Subscribe { channel, token } => {
                if let Err(e) = self.core.subscribe(&channel, &token, now) {
                    (self.sink)(&Event::Error {
                        kind: ErrorKind::Subscribe,
                        code: 0,
                        detail: ErrorDetail::Core(e),
                        channel: Some(channel),
                    });
                }
            }
            Command::Unsubscribe { channel } => {
                let _ = self.core.unsubscribe(&channel, now);
            }
            Command::SetToken(token) => self.core.set_token(&token, now),
        }
    }

    /// Carries out what the core wants sent and hands its events to the sink, until it has nothing more.
    fn drive(&mut self) -> Option<Instant> {
        loop {
            let mut progressed = false;
            while let Some(transmit) = self.core.poll_transmit() {
                progressed = true;
                match transmit {
                    Transmit::Open => self.open_link(),
                    Transmit::Text(text) => {
                        let (link, mut events) = self.events();
                        link.send_text(text, &mut events);
                    }
                    Transmit::Close { code, reason } => self.link.close(code, &reason),
                }
            }
            // Properties first, so a 1C handler reading Подключено in reaction to an event sees it.
            self.publish_status();
            while let Some(event) = self.core.poll_event() {
                progressed = true;
                (self.sink)(&event);
            }
            if !progressed {
                break;
            }
        }
        self.publish_status();
        [self.core.next_timeout(), self.link.deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    fn wait(&mut self, timeout: Option<Duration>) {
        let (link, mut events) = self.events();
        link.wait(timeout, &mut events);
        self.core.handle_timeout(Instant::now());
    }

    /// Leave politely (a close frame) but raise no events: the object is going away.
    fn stop(&mut self) {
        self.link.close(1000, "client shutdown");
    }
}
