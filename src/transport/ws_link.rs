//! The WebSocket link of the Centrifugo client, phase by phase: DNS (on a resolver thread, so the worker keeps
//! serving commands) → non-blocking TCP connect to each resolved address in turn → optional HTTP proxy `CONNECT`
//! → TLS for `wss://` → WebSocket handshake → open. It moves bytes only: what it reads and how the link ends go
//! to a [`LinkEvents`] (the driver's Centrifugo adapter, which feeds the protocol core).
//!
//! The socket is non-blocking and watched by a `polling::Poller`, whose `notify` is also how the 1C thread (and
//! the resolver thread) wakes the worker; so an idle connection sleeps until the server's next ping. Every phase
//! before `Open` is bounded by one handshake deadline.
//!
//! Memory and time stay bounded against the server too: a message or frame larger than
//! [`Target::max_message`] (1 MiB unless raised) ends the link with [`LinkEvents::oversized`] before it is
//! buffered, unsent frames are capped, and one wake reads at most [`READ_BUDGET_FRAMES`] frames or
//! [`READ_BUDGET_BYTES`] bytes, so a flood cannot starve the worker's commands and Done.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use polling::{Event as PollEvent, Events, Poller};
use tb_prims::address::{Address, AddressProblem};
use tungstenite::client::IntoClientRequest;
use tungstenite::error::CapacityError;
use tungstenite::handshake::client::{ClientHandshake, Response};
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::http::header::{HeaderValue, AUTHORIZATION};
use tungstenite::protocol::{CloseFrame, WebSocket, WebSocketConfig};
use tungstenite::Message;

use super::proxy::{self, ConnectAnswer, Proxy};
use super::tls;

const SOCKET_KEY: usize = 1;

/// The largest message (and frame) the link takes unless the owner raises it: a publication of calls is a
/// few KiB; a 32-bit 1C client must not be made to hold 64 MiB (tungstenite's default) for one frame.
pub const DEFAULT_MAX_MESSAGE: usize = 1024 * 1024;
/// Unsent bytes the link holds at most (a server that stops reading); beyond, the link ends.
const MAX_WRITE_BUFFER: usize = 4 * 1024 * 1024;
/// What one wake reads at most before it returns to the worker's loop (which then polls again at once).
pub const READ_BUDGET_FRAMES: usize = 64;
pub const READ_BUDGET_BYTES: usize = 1024 * 1024;
/// Resolver threads of all links that may be stuck in the system resolver at once; beyond, a connect attempt
/// fails at once instead of piling up threads while DNS does not answer.
const MAX_RESOLVERS: usize = 4;
static RESOLVERS: AtomicUsize = AtomicUsize::new(0);

/// How a host name becomes addresses (the system resolver; tests give their own list).
pub type Resolve = fn(&str, u16) -> io::Result<Vec<SocketAddr>>;

/// How the link starts its resolver thread: the driver hands down `crate::spawn` (the one place the add-in starts
/// threads) as a detached start; the tests hand their own.
pub type Spawn = fn(&str, Box<dyn FnOnce() + Send>) -> io::Result<()>;

fn system_resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    Ok((host, port).to_socket_addrs()?.collect())
}

/// What the link tells its owner.
pub trait LinkEvents {
    /// The WebSocket handshake completed.
    fn opened(&mut self, now: Instant);
    /// One text or binary frame from the server.
    fn frame(&mut self, bytes: &[u8], now: Instant);
    /// The open link ended (a close frame, a reset, a failed write).
    fn closed(&mut self, code: Option<u16>, reason: &str, now: Instant);
    /// A phase before `Open` failed (DNS, refused, proxy, TLS, handshake, deadline).
    fn failed(&mut self, reason: &str, now: Instant);
    /// The server sent a message or frame larger than `limit` bytes; `closed` follows (the link cannot
    /// resynchronise inside a frame it did not read).
    fn oversized(&mut self, limit: usize, now: Instant);
}

/// Where a `ws[s]://` address leads, and through which proxy.
#[derive(Clone, Debug)]
pub struct Target {
    /// The URL tungstenite is given: rebuilt from the parsed address, without credentials (so it never parses
    /// a user's text, nor splits a password somewhere else).
    pub url: String,
    /// `Authorization: Basic …` for credentials in the address, sent with the handshake.
    pub authorization: Option<String>,
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub proxy: Option<Proxy>,
    /// The cap on one message and one frame, in bytes.
    pub max_message: usize,
}

impl Target {
    /// Parses `ws[s]://[user:password@]host[:port]/path` with the one address model (`Connect` refused a bad
    /// address already; this reads the kept canonical text); the proxy is the caller's choice (see
    /// [`proxy::choose`]).
    pub fn parse(url: &str) -> Result<Target, AddressProblem> {
        let address = Address::parse(url, &["ws", "wss"])?;
        Ok(Target {
            url: address.without_credentials(),
            authorization: address
                .credentials()
                .map(|(user, password)| proxy::basic(&user, &password)),
            tls: address.is_tls(),
            host: address.host().to_string(),
            port: address.port_or_default(80),
            proxy: None,
            max_message: DEFAULT_MAX_MESSAGE,
        })
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// The phases. `registered` is a clone of the socket kept only to unregister it from the poller.
enum Phase {
    None,
    /// The resolver thread answers on `answer` and wakes the poller.
    Resolving {
        answer: mpsc::Receiver<io::Result<Vec<SocketAddr>>>,
        target: Target,
    },
    /// Connecting to one address; `rest` are tried in turn if it fails.
    TcpConnecting {
        socket: TcpStream,
        target: Target,
        address: SocketAddr,
        rest: VecDeque<SocketAddr>,
    },
    ProxyConnect {
        socket: TcpStream,
        target: Target,
        sent: bool,
        answer: Vec<u8>,
    },
    Handshake(Box<MidHandshake<ClientHandshake<Stream>>>),
    Open(Box<WebSocket<Stream>>),
}

/// What one step of a phase did.
enum Step {
    /// Waiting for the socket; look again when the poller says so.
    Wait(Phase),
    /// Moved to the next phase, which may go on at once.
    Next(Phase),
    /// The link is gone (the owner was told).
    Gone,
}

pub struct WsLink {
    poller: Arc<Poller>,
    events: Events,
    phase: Phase,
    registered: Option<TcpStream>,
    deadline: Option<Instant>,
    want_write: bool,
    /// The last wake stopped at its read budget: frames may wait in tungstenite's buffer, so look again at once.
    backlog: bool,
    resolve: Resolve,
    spawn: Spawn,
    /// The cap of the open link (for the oversized report).
    max_message: usize,
}

/// Interrupts [`WsLink::wait`] from another thread.
pub struct LinkWaker(Arc<Poller>);

impl LinkWaker {
    pub fn wake(&self) {
        // A failed notify means the poller is gone with its worker: nothing left to wake.
        let _ = self.0.notify();
    }
}

impl WsLink {
    pub fn new(spawn: Spawn) -> io::Result<(WsLink, LinkWaker)> {
        let poller = Arc::new(Poller::new()?);
        let link = WsLink {
            poller: poller.clone(),
            events: Events::new(),
            phase: Phase::None,
            registered: None,
            deadline: None,
            want_write: false,
            backlog: false,
            resolve: system_resolve,
            spawn,
            max_message: DEFAULT_MAX_MESSAGE,
        };
        Ok((link, LinkWaker(poller)))
    }

    /// Replaces the system resolver (tests: a name with several addresses).
    pub fn set_resolver(&mut self, resolve: Resolve) {
        self.resolve = resolve;
    }

    /// Whether a link exists in any phase.
    pub fn is_active(&self) -> bool {
        !matches!(self.phase, Phase::None)
    }

    /// The end of the current connect attempt, if one is under way.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Starts a connect attempt (dropping any current link), bounded by `timeout` in all its phases.
    pub fn open(&mut self, target: Target, timeout: Duration, events: &mut dyn LinkEvents) {
        self.drop_link();
        let now = Instant::now();
        let (host, port) = match &target.proxy {
            Some(proxy) => (proxy.host.clone(), proxy.port),
            None => (target.host.clone(), target.port),
        };
        // A literal address needs no resolver thread.
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            self.deadline = Some(now + timeout);
            let addresses = VecDeque::from([SocketAddr::new(ip, port)]);
            return self.connect_next(target, addresses, String::new(), now, events);
        }
        if RESOLVERS.fetch_add(1, Ordering::AcqRel) >= MAX_RESOLVERS {
            RESOLVERS.fetch_sub(1, Ordering::AcqRel);
            return events.failed(&format!("cannot resolve {host}: DNS is not answering"), now);
        }
        let (tx, answer) = mpsc::channel();
        let poller = Arc::clone(&self.poller);
        let resolve = self.resolve;
        // The thread may outlive the attempt (the deadline passes while getaddrinfo hangs); then its answer
        // finds no receiver and is dropped.
        let spawned = (self.spawn)(
            "tb-centrifugo-dns",
            Box::new(move || {
                let addresses = resolve(&host, port);
                RESOLVERS.fetch_sub(1, Ordering::AcqRel);
                if tx.send(addresses).is_ok() {
                    let _ = poller.notify();
                }
            }),
        );
        match spawned {
            Ok(_) => {
                self.phase = Phase::Resolving { answer, target };
                self.deadline = Some(now + timeout);
            }
            Err(e) => {
                RESOLVERS.fetch_sub(1, Ordering::AcqRel);
                events.failed(&format!("cannot start the resolver: {e}"), now);
            }
        }
    }

    /// Connects to the first of `addresses` that starts; what failed before is kept in `errors` for the text.
    fn connect_next(
        &mut self,
        target: Target,
        mut addresses: VecDeque<SocketAddr>,
        mut errors: String,
        now: Instant,
        events: &mut dyn LinkEvents,
    ) {
        if let Some(registered) = self.registered.take() {
            let _ = self.poller.delete(&registered);
        }
        while let Some(address) = addresses.pop_front() {
            let registered = start_connect(address).and_then(|socket| {
                let registered = socket.try_clone()?;
                // SAFETY: the socket is removed from the poller (drop_link, connect_next) before it is closed.
                unsafe {
                    self.poller
                        .add(&registered, PollEvent::writable(SOCKET_KEY))?
                };
                Ok((socket, registered))
            });
            match registered {
                Ok((socket, registered)) => {
                    self.registered = Some(registered);
                    self.phase = Phase::TcpConnecting {
                        socket,
                        target,
                        address,
                        rest: addresses,
                    };
                    return;
                }
                Err(e) => add_error(&mut errors, address, &e),
            }
        }
        self.fail(&errors, now, events);
    }

    /// Waits for the socket, a wake-up or `timeout`, then moves the link as far as it goes.
    pub fn wait(&mut self, timeout: Option<Duration>, events: &mut dyn LinkEvents) {
        self.arm();
        self.events.clear();
        let timeout = if std::mem::take(&mut self.backlog) {
            Some(Duration::ZERO)
        } else {
            timeout
        };
        if let Err(e) = self.poller.wait(&mut self.events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                self.fail(&format!("poll failed: {e}"), Instant::now(), events);
                // The poller itself failed; avoid spinning while it recovers.
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let now = Instant::now();
        self.advance(now, events);
        if self.deadline.is_some_and(|deadline| now >= deadline) {
            self.fail("connect timeout", now, events);
        }
    }

    /// Sends one text frame on the open link (a no-op otherwise).
    pub fn send_text(&mut self, text: String, events: &mut dyn LinkEvents) {
        let Phase::Open(ws) = &mut self.phase else {
            return;
        };
        match ws.send(Message::text(text)) {
            Ok(()) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                self.want_write = true
            }
            Err(e) => {
                self.drop_link();
                events.closed(None, &e.to_string(), Instant::now());
            }
        }
    }

    /// Leaves the server politely (a close frame, if open) and drops the link.
    pub fn close(&mut self, code: u16, reason: &str) {
        if let Phase::Open(ws) = &mut self.phase {
            let frame = CloseFrame {
                code: code.into(),
                reason: reason.to_string().into(),
            };
            let _ = ws.close(Some(frame));
            let _ = ws.flush();
        }
        self.drop_link();
    }

    /// Drops the link without a word to the server.
    pub fn drop_link(&mut self) {
        if let Some(registered) = self.registered.take() {
            let _ = self.poller.delete(&registered);
        }
        self.phase = Phase::None;
        self.deadline = None;
        self.want_write = false;
        self.backlog = false;
    }

    fn fail(&mut self, reason: &str, now: Instant, events: &mut dyn LinkEvents) {
        self.drop_link();
        events.failed(reason, now);
    }

    fn arm(&self) {
        let Some(registered) = &self.registered else {
            return;
        };
        let event = match &self.phase {
            Phase::None | Phase::Resolving { .. } => return,
            Phase::TcpConnecting { .. } | Phase::ProxyConnect { sent: false, .. } => {
                PollEvent::writable(SOCKET_KEY)
            }
            Phase::Open(_) if self.want_write => PollEvent::all(SOCKET_KEY),
            _ => PollEvent::readable(SOCKET_KEY),
        };
        let _ = self.poller.modify(registered, event);
    }

    /// Each phase may complete at once and allow the next, so step until one waits.
    fn advance(&mut self, now: Instant, events: &mut dyn LinkEvents) {
        loop {
            let step = match std::mem::replace(&mut self.phase, Phase::None) {
                Phase::None => return,
                Phase::Resolving { answer, target } => match answer.try_recv() {
                    Err(mpsc::TryRecvError::Empty) => {
                        Ok(Step::Wait(Phase::Resolving { answer, target }))
                    }
                    Err(mpsc::TryRecvError::Disconnected) => Err("the resolver failed".into()),
                    Ok(Err(e)) => Err(format!("cannot resolve {}: {e}", resolved_host(&target))),
                    Ok(Ok(addresses)) if addresses.is_empty() => {
                        Err(format!("cannot resolve {}", resolved_host(&target)))
                    }
                    Ok(Ok(addresses)) => {
                        self.connect_next(target, addresses.into(), String::new(), now, events);
                        match self.phase {
                            Phase::None => return,
                            _ => continue,
                        }
                    }
                },
                Phase::TcpConnecting {
                    socket,
                    target,
                    address,
                    rest,
                } => self.tcp_step(socket, target, address, rest, now, events),
                Phase::ProxyConnect {
                    socket,
                    target,
                    sent,
                    answer,
                } => self.proxy_step(socket, target, sent, answer, now, events),
                Phase::Handshake(mid) => self.handshake_step(mid.handshake(), now, events),
                Phase::Open(ws) => Ok(self.read_open(ws, now, events)),
            };
            match step {
                Ok(Step::Wait(phase)) => return self.phase = phase,
                Ok(Step::Next(phase)) => self.phase = phase,
                Ok(Step::Gone) => return,
                Err(reason) => return self.fail(&reason, now, events),
            }
        }
    }

    fn tcp_step(
        &mut self,
        socket: TcpStream,
        target: Target,
        address: SocketAddr,
        rest: VecDeque<SocketAddr>,
        now: Instant,
        events: &mut dyn LinkEvents,
    ) -> Result<Step, String> {
        match connect_result(&socket) {
            Ok(false) => Ok(Step::Wait(Phase::TcpConnecting {
                socket,
                target,
                address,
                rest,
            })),
            Ok(true) => {
                let _ = socket.set_nodelay(true);
                if target.proxy.is_some() {
                    Ok(Step::Next(Phase::ProxyConnect {
                        socket,
                        target,
                        sent: false,
                        answer: Vec::new(),
                    }))
                } else {
                    self.start_handshake(socket, &target, now, events)
                }
            }
            // This address failed: the next one, if the name has more (`localhost` → ::1, 127.0.0.1).
            Err(e) if !rest.is_empty() => {
                let mut errors = String::new();
                add_error(&mut errors, address, &e);
                self.connect_next(target, rest, errors, now, events);
                Ok(match self.phase {
                    Phase::None => Step::Gone,
                    _ => Step::Next(std::mem::replace(&mut self.phase, Phase::None)),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                Err("connection refused".to_string())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Writes the CONNECT request, then reads the answer byte by byte up to its blank line, so no byte of the
    /// tunnel is consumed here.
    fn proxy_step(
        &mut self,
        mut socket: TcpStream,
        target: Target,
        mut sent: bool,
        mut answer: Vec<u8>,
        now: Instant,
        events: &mut dyn LinkEvents,
    ) -> Result<Step, String> {
        let proxy = target.proxy.as_ref().ok_or("no proxy")?;
        if !sent {
            let request = proxy.connect_request(&target.host, target.port);
            match socket.write_all(request.as_bytes()) {
                Ok(()) => sent = true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("proxy: {e}")),
            }
        }
        let mut byte = [0u8; 1];
        // Until the request is out there is nothing to read.
        if sent {
            loop {
                match socket.read(&mut byte) {
                    Ok(0) => return Err("proxy closed the connection".into()),
                    Ok(_) => answer.push(byte[0]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(format!("proxy: {e}")),
                }
                match proxy::connect_answer(&answer) {
                    ConnectAnswer::Incomplete => continue,
                    ConnectAnswer::Established => {
                        return self.start_handshake(socket, &target, now, events)
                    }
                    ConnectAnswer::Refused(status_line) => {
                        return Err(format!("proxy refused CONNECT: {status_line}"))
                    }
                    ConnectAnswer::TooLong => return Err("proxy answer too long".into()),
                }
            }
        }
        Ok(Step::Wait(Phase::ProxyConnect {
            socket,
            target,
            sent,
            answer,
        }))
    }

    fn start_handshake(
        &mut self,
        socket: TcpStream,
        target: &Target,
        now: Instant,
        events: &mut dyn LinkEvents,
    ) -> Result<Step, String> {
        let stream = if target.tls {
            let session = tls::client_connection(&target.host)?;
            Stream::Tls(Box::new(rustls::StreamOwned::new(session, socket)))
        } else {
            Stream::Plain(socket)
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(target.max_message))
            .max_frame_size(Some(target.max_message))
            .max_write_buffer_size(MAX_WRITE_BUFFER);
        self.max_message = target.max_message;
        let mut request = target
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| format!("handshake request: {e}"))?;
        if let Some(authorization) = &target.authorization {
            let value = HeaderValue::from_str(authorization)
                .map_err(|_| "the credentials cannot be sent as a header".to_string())?;
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        let result = tungstenite::client::client_with_config(request, stream, Some(config));
        self.handshake_step(result, now, events)
    }

    fn handshake_step(
        &mut self,
        result: Result<(WebSocket<Stream>, Response), HandshakeError<ClientHandshake<Stream>>>,
        now: Instant,
        events: &mut dyn LinkEvents,
    ) -> Result<Step, String> {
        match result {
            Ok((ws, _response)) => {
                self.deadline = None;
                events.opened(now);
                Ok(Step::Next(Phase::Open(Box::new(ws))))
            }
            Err(HandshakeError::Interrupted(mid)) => {
                Ok(Step::Wait(Phase::Handshake(Box::new(mid))))
            }
            Err(HandshakeError::Failure(e)) => Err(handshake_failure_text(&e)),
        }
    }

    fn read_open(
        &mut self,
        mut ws: Box<WebSocket<Stream>>,
        now: Instant,
        events: &mut dyn LinkEvents,
    ) -> Step {
        if self.want_write {
            match ws.flush() {
                Ok(()) => self.want_write = false,
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return self.ended(None, &e.to_string(), now, events),
            }
        }
        let (mut frames, mut bytes_read) = (0usize, 0usize);
        loop {
            if frames >= READ_BUDGET_FRAMES || bytes_read >= READ_BUDGET_BYTES {
                self.backlog = true;
                break;
            }
            frames += 1;
            match ws.read() {
                Ok(Message::Text(text)) => {
                    bytes_read += text.len();
                    events.frame(text.as_bytes(), now)
                }
                Ok(Message::Binary(bytes)) => {
                    bytes_read += bytes.len();
                    events.frame(&bytes, now)
                }
                Ok(Message::Close(frame)) => {
                    let (code, reason) = match frame {
                        Some(frame) => (Some(u16::from(frame.code)), frame.reason.to_string()),
                        None => (None, String::new()),
                    };
                    let _ = ws.flush();
                    return self.ended(code, &reason, now, events);
                }
                // Ping/Pong frames: tungstenite queues the pong; send it out.
                Ok(_) => {
                    let _ = ws.flush();
                }
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(tungstenite::Error::Capacity(CapacityError::MessageTooLong {
                    size, ..
                })) => {
                    events.oversized(self.max_message, now);
                    let reason = format!(
                        "a message of {size} bytes exceeds the limit of {} bytes",
                        self.max_message
                    );
                    return self.ended(None, &reason, now, events);
                }
                Err(tungstenite::Error::ConnectionClosed)
                | Err(tungstenite::Error::AlreadyClosed) => {
                    return self.ended(None, "connection closed", now, events)
                }
                Err(e) => return self.ended(None, &e.to_string(), now, events),
            }
        }
        Step::Wait(Phase::Open(ws))
    }

    /// The open link is over: unregister it (the socket closes when the caller drops it) and say why.
    fn ended(
        &mut self,
        code: Option<u16>,
        reason: &str,
        now: Instant,
        events: &mut dyn LinkEvents,
    ) -> Step {
        self.drop_link();
        events.closed(code, reason, now);
        Step::Gone
    }
}

impl Drop for WsLink {
    /// Also after a panic of the worker: the socket leaves the poller before it closes (see `open`).
    fn drop(&mut self) {
        self.drop_link();
    }
}

fn resolved_host(target: &Target) -> &str {
    match &target.proxy {
        Some(proxy) => &proxy.host,
        None => &target.host,
    }
}

fn add_error(errors: &mut String, address: SocketAddr, error: &io::Error) {
    if !errors.is_empty() {
        errors.push_str("; ");
    }
    let text = if error.kind() == io::ErrorKind::ConnectionRefused {
        "connection refused".to_string()
    } else {
        error.to_string()
    };
    errors.push_str(&format!("{address}: {text}"));
}

fn start_connect(address: SocketAddr) -> io::Result<TcpStream> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(address),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_nonblocking(true)?;
    match socket.connect(&address.into()) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(einprogress()) => {}
        Err(e) => return Err(e),
    }
    Ok(socket.into())
}

/// EINPROGRESS: 115 on Linux, 36 on macOS and the BSDs.
#[cfg(unix)]
fn einprogress() -> i32 {
    if cfg!(target_os = "linux") {
        115
    } else {
        36
    }
}

/// Ok(true): connected; Ok(false): still in progress; Err: failed.
fn connect_result(socket: &TcpStream) -> io::Result<bool> {
    if let Some(error) = socket.take_error()? {
        return Err(error);
    }
    match socket.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}

fn handshake_failure_text(error: &tungstenite::Error) -> String {
    match error {
        tungstenite::Error::Http(response) => format!(
            "the server refused the WebSocket upgrade: HTTP {}",
            response.status().as_u16()
        ),
        tungstenite::Error::Io(e) if e.kind() == io::ErrorKind::ConnectionReset => {
            "connection reset during handshake".into()
        }
        other => format!("WebSocket handshake failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = Target::parse("ws://127.0.0.1:8000/connection/websocket").unwrap();
        assert_eq!((t.tls, t.host.as_str(), t.port), (false, "127.0.0.1", 8000));
        let t = Target::parse("WSS://c.example/connection/websocket?x=1").unwrap();
        assert_eq!((t.tls, t.host.as_str(), t.port), (true, "c.example", 443));
        let t = Target::parse("ws://[::1]:9000/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9000));
        assert!(Target::parse("http://x").is_err());
        // Refused here too (Connect refuses them first): nothing of it may reach the resolver or a CONNECT.
        assert_eq!(
            Target::parse("ws://u:p@сервер.example/?token=t").unwrap_err(),
            AddressProblem::NonAsciiHost { character: 'с' }
        );
        // Credentials travel as a header; the URL tungstenite parses has none, and a `/` in a password is
        // refused, never read as the start of the path.
        let t = Target::parse("ws://user:pa%2Fss@127.0.0.1:9/ws?token=t").unwrap();
        assert_eq!(t.url, "ws://127.0.0.1:9/ws?token=t");
        assert_eq!(t.authorization.as_deref(), Some("Basic dXNlcjpwYS9zcw=="));
        assert_eq!(
            Target::parse("ws://user:pa/ss-SECRET@127.0.0.1:9/ws").unwrap_err(),
            AddressProblem::ReservedInUserinfo { character: '/' }
        );
        assert!(Target::parse("ws://h:80/\r\nX: y").is_err());
    }

    fn test_spawn(name: &str, body: Box<dyn FnOnce() + Send>) -> io::Result<()> {
        std::thread::Builder::new()
            .name(name.into())
            .spawn(body)
            .map(drop)
    }

    /// What the link told, in order.
    #[derive(Default)]
    struct Seen {
        opened: bool,
        frames: Vec<usize>,
        closed: Option<String>,
        failed: Option<String>,
        oversized: Option<usize>,
    }

    impl LinkEvents for Seen {
        fn opened(&mut self, _: Instant) {
            self.opened = true;
        }
        fn frame(&mut self, bytes: &[u8], _: Instant) {
            self.frames.push(bytes.len());
        }
        fn closed(&mut self, _: Option<u16>, reason: &str, _: Instant) {
            self.closed = Some(reason.to_string());
        }
        fn failed(&mut self, reason: &str, _: Instant) {
            self.failed = Some(reason.to_string());
        }
        fn oversized(&mut self, limit: usize, _: Instant) {
            self.oversized = Some(limit);
        }
    }

    /// A WebSocket server on `bind` that sends `frames` once the handshake is done, then waits for the client
    /// to leave.
    fn server(bind: &str, frames: Vec<Vec<u8>>) -> Option<(u16, std::thread::JoinHandle<()>)> {
        let listener = std::net::TcpListener::bind(bind).ok()?;
        let port = listener.local_addr().ok()?.port();
        let handle = std::thread::spawn(move || {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let Ok(mut ws) = tungstenite::accept(stream) else {
                return;
            };
            for frame in frames {
                if ws.write(Message::binary(frame)).is_err() {
                    return;
                }
            }
            let _ = ws.flush();
            while ws.read().is_ok() {}
        });
        Some((port, handle))
    }

    /// Waits until `done` or a bounded time passes.
    fn drive(link: &mut WsLink, seen: &mut Seen, done: impl Fn(&Seen) -> bool) {
        let until = Instant::now() + Duration::from_secs(10);
        while !done(seen) && Instant::now() < until {
            link.wait(Some(Duration::from_millis(100)), seen);
        }
    }

    fn open(link: &mut WsLink, url: &str, seen: &mut Seen) {
        let target = Target::parse(url).unwrap();
        link.open(target, Duration::from_secs(5), seen);
        drive(link, seen, |s| s.opened || s.failed.is_some());
    }

    #[test]
    fn localhost_connects_to_a_server_on_127_0_0_1_only() {
        let (port, _server) = server("127.0.0.1:0", vec![]).unwrap();
        let (mut link, _) = WsLink::new(test_spawn).unwrap();
        let mut seen = Seen::default();
        open(&mut link, &format!("ws://localhost:{port}/"), &mut seen);
        assert!(seen.opened, "{:?}", seen.failed);
    }

    #[test]
    fn every_resolved_address_is_tried_in_turn() {
        // A name that resolves to both loopbacks, in either order: only one of them has the server.
        fn v6_first(_: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
            Ok(vec![
                SocketAddr::from(([0u16, 0, 0, 0, 0, 0, 0, 1], port)),
                SocketAddr::from(([127, 0, 0, 1], port)),
            ])
        }
        fn v4_first(_: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
            let mut addresses = v6_first("", port)?;
            addresses.reverse();
            Ok(addresses)
        }
        let (port, _server) = server("127.0.0.1:0", vec![]).unwrap();
        let (mut link, _) = WsLink::new(test_spawn).unwrap();
        link.set_resolver(v6_first);
        let mut seen = Seen::default();
        open(&mut link, &format!("ws://dual.test:{port}/"), &mut seen);
        assert!(seen.opened, "server on 127.0.0.1 only: {:?}", seen.failed);
        // ::1 exists on the loopback of every test machine this runs on; skip quietly where it does not.
        if let Some((port, _server)) = server("[::1]:0", vec![]) {
            let (mut link, _) = WsLink::new(test_spawn).unwrap();
            link.set_resolver(v4_first);
            let mut seen = Seen::default();
            open(&mut link, &format!("ws://dual.test:{port}/"), &mut seen);
            assert!(seen.opened, "server on ::1 only: {:?}", seen.failed);
        }
    }

    #[test]
    fn a_name_that_does_not_resolve_fails_without_blocking_the_caller() {
        static ANSWERED: AtomicUsize = AtomicUsize::new(0);
        fn slow(_: &str, _: u16) -> io::Result<Vec<SocketAddr>> {
            std::thread::sleep(Duration::from_secs(1));
            ANSWERED.store(1, Ordering::SeqCst);
            Err(io::Error::other("no such host"))
        }
        let (mut link, _) = WsLink::new(test_spawn).unwrap();
        link.set_resolver(slow);
        let mut seen = Seen::default();
        let target = Target::parse("ws://nowhere.test/").unwrap();
        link.open(target, Duration::from_secs(5), &mut seen);
        // open returned before the resolver answered: the worker stays free for commands.
        assert_eq!(ANSWERED.load(Ordering::SeqCst), 0, "open waited for DNS");
        assert!(seen.failed.is_none() && link.is_active());
        drive(&mut link, &mut seen, |s| s.failed.is_some());
        assert_eq!(
            seen.failed.as_deref(),
            Some("cannot resolve nowhere.test: no such host")
        );
    }

    #[test]
    fn a_resolver_that_hangs_is_bounded_by_the_attempt_deadline() {
        fn hung(_: &str, _: u16) -> io::Result<Vec<SocketAddr>> {
            std::thread::sleep(Duration::from_secs(3));
            Ok(vec![])
        }
        let (mut link, _) = WsLink::new(test_spawn).unwrap();
        link.set_resolver(hung);
        let mut seen = Seen::default();
        let target = Target::parse("ws://hung.test/").unwrap();
        link.open(target, Duration::from_millis(300), &mut seen);
        drive(&mut link, &mut seen, |s| s.failed.is_some());
        assert_eq!(seen.failed.as_deref(), Some("connect timeout"));
        assert!(!link.is_active());
    }

    #[test]
    fn one_wake_reads_at_most_its_budget() {
        let (port, _server) = server("127.0.0.1:0", vec![vec![7u8; 16]; 500]).unwrap();
        let (mut link, _) = WsLink::new(test_spawn).unwrap();
        let mut seen = Seen::default();
        open(&mut link, &format!("ws://127.0.0.1:{port}/"), &mut seen);
        assert!(seen.opened, "{:?}", seen.failed);
        let before = seen.frames.len();
        // Let every frame reach the socket, then wake once.
        std::thread::sleep(Duration::from_millis(300));
        link.wait(Some(Duration::from_millis(100)), &mut seen);
        let read = seen.frames.len() - before;
        assert!(read > 0 && read <= 64, "{read} frames in one wake");
        // The rest follow on the next wakes, without waiting for new bytes.
        drive(&mut link, &mut seen, |s| s.frames.len() == 500);
        assert_eq!(seen.frames.len(), 500);
    }

    #[test]
    fn an_oversized_message_ends_the_link_and_says_so() {
        let (port, _server) = server(
            "127.0.0.1:0",
            vec![vec![1u8; 100], vec![2u8; 2 * DEFAULT_MAX_MESSAGE]],
        )
        .unwrap();
        let (mut link, _) = WsLink::new(test_spawn).unwrap();
        let mut seen = Seen::default();
        open(&mut link, &format!("ws://127.0.0.1:{port}/"), &mut seen);
        drive(&mut link, &mut seen, |s| s.closed.is_some());
        assert_eq!(seen.frames, vec![100]);
        assert_eq!(seen.oversized, Some(DEFAULT_MAX_MESSAGE));
        let reason = seen.closed.unwrap();
        assert!(
            reason.contains("exceeds the limit of 1048576 bytes"),
            "{reason}"
        );
        assert!(!link.is_active());
    }
}
