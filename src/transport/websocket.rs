//! WebSocket transport for the Centrifugo client: one worker thread owns the socket and the sans-IO core.
//!
//! The socket is non-blocking and watched by a `polling::Poller`; the worker sleeps in `Poller::wait`
//! until bytes arrive, the core's next deadline (ping, reconnect, token refresh) comes, or a command from
//! the 1C thread wakes it with `notify`. So an idle connection costs nothing but the server's pings,
//! and a command (Subscribe, Disconnect, shutdown) is handled at once.
//!
//! Connect path: DNS → non-blocking TCP connect → optional HTTP proxy `CONNECT` → TLS (rustls with ring,
//! OS trust store) for `wss://` → WebSocket handshake. Every step is bounded by the handshake timeout.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine;
use parking_lot::Mutex;
use polling::{Event as PollEvent, Events, Poller};
use tb_centrifugo::client::Stats;
use tb_centrifugo::{Config, Core, ErrorDetail, ErrorKind, Event, State, Transmit};
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::WebSocket;
use tungstenite::Message;

use super::http::{strip_credentials, NATIVE_ROOTS};

const SOCKET_KEY: usize = 1;

/// What the 1C thread asks the worker.
pub enum Command {
    Connect { url: String, token: String },
    Disconnect,
    Subscribe { channel: String, token: String },
    Unsubscribe { channel: String },
    SetToken(String),
    Stop,
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
    /// Empty: from the environment (`HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`, `NO_PROXY`); `-` or `none`: direct.
    /// Shared with the class so a changed property applies to the next connect attempt.
    pub proxy: Arc<Mutex<String>>,
    pub client: Config,
}

pub type EventSink = Box<dyn FnMut(&Event) + Send>;

pub struct WebSocketWorker {
    commands: Sender<Command>,
    poller: Arc<Poller>,
    thread: Option<JoinHandle<()>>,
    finished: Receiver<()>,
    pub status: Arc<Mutex<Status>>,
}

impl WebSocketWorker {
    pub fn start(settings: Settings, sink: EventSink) -> io::Result<WebSocketWorker> {
        let poller = Arc::new(Poller::new()?);
        let (commands, command_rx) = mpsc::channel();
        let (finished_tx, finished) = mpsc::channel();
        let status = Arc::new(Mutex::new(Status::default()));
        let worker = Worker {
            core: Core::new(settings.client.clone()),
            settings,
            poller: poller.clone(),
            commands: command_rx,
            sink,
            status: status.clone(),
            url: String::new(),
            link: Link::None,
            link_deadline: None,
            want_write: false,
        };
        let thread = std::thread::Builder::new()
            .name("tb-centrifugo-ws".into())
            .spawn(move || {
                worker.run();
                let _ = finished_tx.send(());
            })?;
        Ok(WebSocketWorker {
            commands,
            poller,
            thread: Some(thread),
            finished,
            status,
        })
    }

    pub fn send(&self, command: Command) {
        if self.commands.send(command).is_ok() {
            let _ = self.poller.notify();
        }
    }

    /// Stops the worker and joins it if it finishes within `deadline` (it always does unless DNS hangs).
    pub fn stop(&mut self, deadline: Duration) -> bool {
        self.send(Command::Stop);
        let finished = self.finished.recv_timeout(deadline).is_ok();
        if let Some(thread) = self.thread.take() {
            if finished {
                let _ = thread.join();
            }
        }
        finished
    }
}

impl Drop for WebSocketWorker {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop(Duration::from_secs(2));
        }
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

enum Link {
    None,
    /// `registered` is a clone of the socket kept only to unregister it from the poller.
    TcpConnecting {
        socket: TcpStream,
        registered: TcpStream,
        target: Target,
    },
    ProxyConnect {
        socket: TcpStream,
        registered: TcpStream,
        target: Target,
        sent: bool,
        answer: Vec<u8>,
    },
    Handshake {
        mid: Box<MidHandshake<ClientHandshake<Stream>>>,
        registered: TcpStream,
    },
    Open {
        ws: Box<WebSocket<Stream>>,
        registered: TcpStream,
    },
}

#[derive(Clone)]
struct Target {
    url: String,
    tls: bool,
    host: String,
    port: u16,
    proxy: Option<ProxyTarget>,
}

#[derive(Clone)]
struct ProxyTarget {
    host: String,
    port: u16,
    authorization: Option<String>,
}

struct Worker {
    core: Core,
    settings: Settings,
    poller: Arc<Poller>,
    commands: Receiver<Command>,
    sink: EventSink,
    status: Arc<Mutex<Status>>,
    url: String,
    link: Link,
    link_deadline: Option<Instant>,
    want_write: bool,
}

impl Worker {
    fn run(mut self) {
        let mut events = Events::new();
        loop {
            let now = Instant::now();
            if !self.drain_commands(now) {
                // Leave politely (a close frame) but raise no events: the object is going away.
                self.close_link(1000, "client shutdown");
                return;
            }
            self.flush_core(now);
            let now = Instant::now();
            let deadline = [self.core.next_timeout(), self.link_deadline]
                .into_iter()
                .flatten()
                .min();
            let timeout = deadline.map(|d| d.saturating_duration_since(now));
            self.arm();
            events.clear();
            if let Err(e) = self.poller.wait(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.transport_failed(&format!("poll failed: {e}"), Instant::now());
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            let now = Instant::now();
            self.drive_link(now);
            if self.link_deadline.is_some_and(|d| now >= d) {
                self.transport_failed("connect timeout", now);
            }
            self.core.handle_timeout(now);
        }
    }

    /// Returns false on Stop.
    fn drain_commands(&mut self, now: Instant) -> bool {
        loop {
            match self.commands.try_recv() {
                Ok(Command::Stop) | Err(TryRecvError::Disconnected) => return false,
                Err(TryRecvError::Empty) => return true,
                Ok(Command::Connect { url, token }) => {
                    if url != self.url {
                        // A new address: the current link (if any) goes, the core starts over.
                        self.url = url;
                        self.status.lock().url = self.url.clone();
                        if !matches!(self.link, Link::None) {
                            self.core.disconnect(now);
                            self.drop_link();
                        }
                    }
                    self.core.connect(&token, now);
                }
                Ok(Command::Disconnect) => self.core.disconnect(now),
                Ok(Command::Subscribe { channel, token }) => {
                    if let Err(e) = self.core.subscribe(&channel, &token, now) {
                        (self.sink)(&Event::Error {
                            kind: ErrorKind::Subscribe,
                            code: 0,
                            detail: ErrorDetail::Core(e),
                            channel: Some(channel),
                        });
                    }
                }
                Ok(Command::Unsubscribe { channel }) => {
                    let _ = self.core.unsubscribe(&channel, now);
                }
                Ok(Command::SetToken(token)) => self.core.set_token(&token, now),
            }
        }
    }

    /// Executes what the core wants sent and hands its events to the sink.
    fn flush_core(&mut self, now: Instant) {
        loop {
            let mut progressed = false;
            while let Some(transmit) = self.core.poll_transmit() {
                progressed = true;
                match transmit {
                    Transmit::Open => self.open_link(now),
                    Transmit::Text(text) => self.send_text(text, now),
                    Transmit::Close { code, reason } => self.close_link(code, &reason),
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
    }

    fn publish_status(&self) {
        let mut status = self.status.lock();
        status.state = self.core.state();
        status.client_id = self.core.client_id().to_string();
        status.stats = self.core.stats().clone();
    }

    fn arm(&mut self) {
        let interest = match &self.link {
            Link::None => None,
            Link::TcpConnecting { registered, .. } => {
                Some((registered, PollEvent::writable(SOCKET_KEY)))
            }
            Link::ProxyConnect {
                registered, sent, ..
            } => {
                let event = if *sent {
                    PollEvent::readable(SOCKET_KEY)
                } else {
                    PollEvent::writable(SOCKET_KEY)
                };
                Some((registered, event))
            }
            Link::Handshake { registered, .. } => {
                Some((registered, PollEvent::readable(SOCKET_KEY)))
            }
            Link::Open { registered, .. } => {
                let event = if self.want_write {
                    PollEvent::all(SOCKET_KEY)
                } else {
                    PollEvent::readable(SOCKET_KEY)
                };
                Some((registered, event))
            }
        };
        if let Some((socket, event)) = interest {
            let _ = self.poller.modify(socket, event);
        }
    }

    fn open_link(&mut self, now: Instant) {
        self.drop_link();
        let proxy_setting = self.settings.proxy.lock().clone();
        let target = match resolve_target(&self.url, &proxy_setting) {
            Ok(target) => target,
            Err(reason) => {
                self.transport_failed(&reason, now);
                return;
            }
        };
        self.status.lock().via_proxy = target.proxy.is_some();
        let (host, port) = match &target.proxy {
            Some(proxy) => (proxy.host.clone(), proxy.port),
            None => (target.host.clone(), target.port),
        };
        let address = match (host.as_str(), port)
            .to_socket_addrs()
            .map(|mut a| a.next())
        {
            Ok(Some(address)) => address,
            Ok(None) | Err(_) => {
                self.transport_failed(&format!("cannot resolve {host}"), now);
                return;
            }
        };
        match start_connect(address) {
            Ok(socket) => {
                let registered = match socket.try_clone() {
                    Ok(r) => r,
                    Err(e) => {
                        self.transport_failed(&format!("socket: {e}"), now);
                        return;
                    }
                };
                // SAFETY: the socket is removed from the poller (drop_link) before it is closed.
                if let Err(e) = unsafe {
                    self.poller
                        .add(&registered, PollEvent::writable(SOCKET_KEY))
                } {
                    self.transport_failed(&format!("poll registration: {e}"), now);
                    return;
                }
                self.link = Link::TcpConnecting {
                    socket,
                    registered,
                    target,
                };
                self.link_deadline = Some(now + self.settings.handshake_timeout);
            }
            Err(e) => self.transport_failed(&format!("connect to {address}: {e}"), now),
        }
    }

    fn drive_link(&mut self, now: Instant) {
        // Each step may complete at once and allow the next, so loop until nothing moves.
        for _ in 0..4 {
            let link = std::mem::replace(&mut self.link, Link::None);
            let (next, moved) = self.step(link, now);
            self.link = next;
            if !moved {
                break;
            }
        }
    }

    fn step(&mut self, link: Link, now: Instant) -> (Link, bool) {
        match link {
            Link::None => (Link::None, false),
            Link::TcpConnecting {
                socket,
                registered,
                target,
            } => match connect_result(&socket) {
                Ok(false) => (
                    Link::TcpConnecting {
                        socket,
                        registered,
                        target,
                    },
                    false,
                ),
                Ok(true) => {
                    let _ = socket.set_nodelay(true);
                    if target.proxy.is_some() {
                        (
                            Link::ProxyConnect {
                                socket,
                                registered,
                                target,
                                sent: false,
                                answer: Vec::new(),
                            },
                            true,
                        )
                    } else {
                        (self.start_handshake(socket, registered, &target, now), true)
                    }
                }
                Err(e) => {
                    self.unregister(&registered);
                    let reason = match e.kind() {
                        io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
                        _ => e.to_string(),
                    };
                    self.transport_failed(&reason, now);
                    (Link::None, false)
                }
            },
            Link::ProxyConnect {
                mut socket,
                registered,
                target,
                mut sent,
                mut answer,
            } => {
                if !sent {
                    let request = proxy_request(&target);
                    match socket.write_all(request.as_bytes()) {
                        Ok(()) => sent = true,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            return (
                                Link::ProxyConnect {
                                    socket,
                                    registered,
                                    target,
                                    sent,
                                    answer,
                                },
                                false,
                            )
                        }
                        Err(e) => return self.fail_link(&registered, &format!("proxy: {e}"), now),
                    }
                }
                let mut buffer = [0u8; 1024];
                loop {
                    // Read byte-wise up to the blank line so no WebSocket byte is consumed here.
                    match socket.read(&mut buffer[..1]) {
                        Ok(0) => {
                            return self.fail_link(&registered, "proxy closed the connection", now)
                        }
                        Ok(_) => {
                            answer.push(buffer[0]);
                            if answer.ends_with(b"\r\n\r\n") {
                                break;
                            }
                            if answer.len() > 16 * 1024 {
                                return self.fail_link(&registered, "proxy answer too long", now);
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            return (
                                Link::ProxyConnect {
                                    socket,
                                    registered,
                                    target,
                                    sent,
                                    answer,
                                },
                                false,
                            )
                        }
                        Err(e) => return self.fail_link(&registered, &format!("proxy: {e}"), now),
                    }
                }
                let status_line = String::from_utf8_lossy(&answer)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                let ok = status_line.split_whitespace().nth(1) == Some("200");
                if !ok {
                    let reason = format!("proxy refused CONNECT: {status_line}");
                    return self.fail_link(&registered, &reason, now);
                }
                (self.start_handshake(socket, registered, &target, now), true)
            }
            Link::Handshake { mid, registered } => {
                self.finish_handshake(mid.handshake(), registered, now)
            }
            Link::Open { ws, registered } => self.read_open(ws, registered, now),
        }
    }

    fn start_handshake(
        &mut self,
        socket: TcpStream,
        registered: TcpStream,
        target: &Target,
        now: Instant,
    ) -> Link {
        let stream = if target.tls {
            match tls_stream(socket, &target.host) {
                Ok(stream) => stream,
                Err(reason) => {
                    self.unregister(&registered);
                    self.transport_failed(&reason, now);
                    return Link::None;
                }
            }
        } else {
            Stream::Plain(socket)
        };
        let result = tungstenite::client::client(target.url.as_str(), stream);
        self.finish_handshake(result, registered, now).0
    }

    fn finish_handshake(
        &mut self,
        result: Result<
            (WebSocket<Stream>, tungstenite::handshake::client::Response),
            HandshakeError<ClientHandshake<Stream>>,
        >,
        registered: TcpStream,
        now: Instant,
    ) -> (Link, bool) {
        match result {
            Ok((ws, _response)) => {
                self.link_deadline = None;
                self.status.lock().last_transport_error.clear();
                self.core.handle_opened(now);
                (
                    Link::Open {
                        ws: Box::new(ws),
                        registered,
                    },
                    true,
                )
            }
            Err(HandshakeError::Interrupted(mid)) => (
                Link::Handshake {
                    mid: Box::new(mid),
                    registered,
                },
                false,
            ),
            Err(HandshakeError::Failure(e)) => {
                let reason = handshake_failure_text(&e);
                self.fail_link(&registered, &reason, now)
            }
        }
    }

    fn fail_link(&mut self, registered: &TcpStream, reason: &str, now: Instant) -> (Link, bool) {
        self.unregister(registered);
        self.transport_failed(reason, now);
        (Link::None, false)
    }

    fn read_open(
        &mut self,
        mut ws: Box<WebSocket<Stream>>,
        registered: TcpStream,
        now: Instant,
    ) -> (Link, bool) {
        if self.want_write {
            match ws.flush() {
                Ok(()) => self.want_write = false,
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return self.closed(&registered, None, &e.to_string(), now),
            }
        }
        loop {
            match ws.read() {
                Ok(Message::Text(text)) => self.core.handle_frame(text.as_bytes(), now),
                Ok(Message::Binary(bytes)) => self.core.handle_frame(&bytes, now),
                Ok(Message::Close(frame)) => {
                    let (code, reason) = match frame {
                        Some(frame) => (Some(u16::from(frame.code)), frame.reason.to_string()),
                        None => (None, String::new()),
                    };
                    let _ = ws.flush();
                    return self.closed(&registered, code, &reason, now);
                }
                Ok(_) => {
                    // Ping/Pong frames: tungstenite queues the pong; send it out.
                    let _ = ws.flush();
                }
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(tungstenite::Error::ConnectionClosed)
                | Err(tungstenite::Error::AlreadyClosed) => {
                    return self.closed(&registered, None, "connection closed", now)
                }
                Err(e) => return self.closed(&registered, None, &e.to_string(), now),
            }
        }
        (Link::Open { ws, registered }, false)
    }

    fn closed(
        &mut self,
        registered: &TcpStream,
        code: Option<u16>,
        reason: &str,
        now: Instant,
    ) -> (Link, bool) {
        self.unregister(registered);
        self.want_write = false;
        self.core.handle_closed(code, reason, now);
        (Link::None, false)
    }

    fn send_text(&mut self, text: String, now: Instant) {
        let Link::Open { ws, .. } = &mut self.link else {
            return;
        };
        let result = ws.send(Message::text(text));
        match result {
            Ok(()) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                self.want_write = true
            }
            Err(e) => {
                let reason = e.to_string();
                self.drop_link();
                self.core.handle_closed(None, &reason, now);
            }
        }
    }

    fn close_link(&mut self, code: u16, reason: &str) {
        if let Link::Open { ws, .. } = &mut self.link {
            let frame = tungstenite::protocol::CloseFrame {
                code: code.into(),
                reason: reason.to_string().into(),
            };
            let _ = ws.close(Some(frame));
            let _ = ws.flush();
        }
        self.drop_link();
    }

    fn drop_link(&mut self) {
        let link = std::mem::replace(&mut self.link, Link::None);
        self.link_deadline = None;
        self.want_write = false;
        match &link {
            Link::None => {}
            Link::TcpConnecting { registered, .. }
            | Link::ProxyConnect { registered, .. }
            | Link::Handshake { registered, .. }
            | Link::Open { registered, .. } => self.unregister(registered),
        }
        drop(link);
    }

    fn unregister(&self, registered: &TcpStream) {
        let _ = self.poller.delete(registered);
    }

    fn transport_failed(&mut self, reason: &str, now: Instant) {
        self.drop_link();
        self.status.lock().last_transport_error = reason.to_string();
        self.core.handle_closed(None, reason, now);
    }
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
        Err(e) if e.raw_os_error() == Some(libc_einprogress()) => {}
        Err(e) => return Err(e),
    }
    Ok(socket.into())
}

#[cfg(unix)]
fn libc_einprogress() -> i32 {
    // EINPROGRESS: 115 on Linux, 36 on macOS and the BSDs.
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

fn tls_stream(socket: TcpStream, host: &str) -> Result<Stream, String> {
    let config = TLS_CONFIG.as_ref().map_err(|e| e.clone())?;
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| format!("TLS name {host}: {e}"))?;
    let connection =
        rustls::ClientConnection::new(config.clone(), name).map_err(|e| format!("TLS: {e}"))?;
    Ok(Stream::Tls(Box::new(rustls::StreamOwned::new(
        connection, socket,
    ))))
}

static TLS_CONFIG: once_cell::sync::Lazy<Result<Arc<rustls::ClientConfig>, String>> =
    once_cell::sync::Lazy::new(|| {
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(NATIVE_ROOTS.iter().cloned());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    });

fn handshake_failure_text(error: &tungstenite::Error) -> String {
    match error {
        tungstenite::Error::Http(response) => {
            format!(
                "the server refused the WebSocket upgrade: HTTP {}",
                response.status().as_u16()
            )
        }
        tungstenite::Error::Io(e) if e.kind() == io::ErrorKind::ConnectionReset => {
            "connection reset during handshake".into()
        }
        other => format!("WebSocket handshake failed: {other}"),
    }
}

/// Splits `ws[s]://host[:port]/path` and picks the proxy for it.
fn resolve_target(url: &str, proxy_setting: &str) -> Result<Target, String> {
    let (tls, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "wss://") {
        (true, rest)
    } else if let Some(rest) = strip_prefix_ignore_case(url, "ws://") {
        (false, rest)
    } else {
        return Err(format!("'{url}' is not a ws:// or wss:// address"));
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let (host, port) = split_host_port(authority, if tls { 443 } else { 80 })?;
    let proxy = choose_proxy(proxy_setting, tls, &host)?;
    Ok(Target {
        url: url.to_string(),
        tls,
        host,
        port,
        proxy,
    })
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    if text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix) {
        Some(&text[prefix.len()..])
    } else {
        None
    }
}

fn split_host_port(authority: &str, default_port: u16) -> Result<(String, u16), String> {
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if authority.is_empty() {
        return Err("the address has no host".into());
    }
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("bad IPv6 address")?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| format!("bad port '{p}'"))?,
            None => default_port,
        };
        return Ok((host.to_string(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Ok((
            host.to_string(),
            port.parse().map_err(|_| format!("bad port '{port}'"))?,
        )),
        None => Ok((authority.to_string(), default_port)),
    }
}

fn choose_proxy(setting: &str, tls: bool, host: &str) -> Result<Option<ProxyTarget>, String> {
    let setting = setting.trim();
    if setting == "-" || setting.eq_ignore_ascii_case("none") || setting.eq_ignore_ascii_case("нет")
    {
        return Ok(None);
    }
    let from_env = setting.is_empty();
    let value = if from_env {
        let names: &[&str] = if tls {
            &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        } else {
            &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        };
        match names
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
        {
            Some(v) => v,
            None => return Ok(None),
        }
    } else {
        setting.to_string()
    };
    if from_env && no_proxy_matches(host) {
        return Ok(None);
    }
    parse_proxy(&value).map(Some)
}

fn no_proxy_matches(host: &str) -> bool {
    let list = std::env::var("NO_PROXY")
        .or_else(|_| std::env::var("no_proxy"))
        .unwrap_or_default();
    let host = host.to_ascii_lowercase();
    list.split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.trim_start_matches('.');
            host == entry || host.ends_with(&format!(".{entry}"))
        })
}

fn parse_proxy(value: &str) -> Result<ProxyTarget, String> {
    let shown = strip_credentials(value);
    let rest = value.trim();
    let rest = if let Some(r) = strip_prefix_ignore_case(rest, "http://") {
        r
    } else if rest.contains("://") {
        return Err(format!(
            "proxy '{shown}': only http:// proxies (CONNECT) are supported"
        ));
    } else {
        rest
    };
    let authority = rest.split('/').next().unwrap_or("");
    let (credentials, hostport) = match authority.rsplit_once('@') {
        Some((c, h)) => (Some(c), h),
        None => (None, authority),
    };
    let (host, port) =
        split_host_port(hostport, 8080).map_err(|e| format!("proxy '{shown}': {e}"))?;
    let authorization = credentials.map(|c| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(percent_decode(c))
        )
    });
    Ok(ProxyTarget {
        host,
        port,
        authorization,
    })
}

/// `p%40ss` → `p@ss`: proxy URLs carry credentials percent-encoded.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn proxy_request(target: &Target) -> String {
    let authority = if target.host.contains(':') {
        format!("[{}]:{}", target.host, target.port)
    } else {
        format!("{}:{}", target.host, target.port)
    };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(authorization) = target.proxy.as_ref().and_then(|p| p.authorization.as_ref()) {
        request.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
    }
    request.push_str("\r\n");
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = resolve_target("ws://127.0.0.1:8000/connection/websocket", "-").unwrap();
        assert_eq!((t.tls, t.host.as_str(), t.port), (false, "127.0.0.1", 8000));
        let t = resolve_target("WSS://c.example/connection/websocket?x=1", "-").unwrap();
        assert_eq!((t.tls, t.host.as_str(), t.port), (true, "c.example", 443));
        let t = resolve_target("ws://[::1]:9000/", "-").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9000));
        assert!(resolve_target("http://x", "").is_err());
    }

    #[test]
    fn proxies() {
        let p = parse_proxy("http://user:pw@proxy.local:3128").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.local", 3128));
        assert_eq!(p.authorization.as_deref(), Some("Basic dXNlcjpwdw=="));
        assert!(parse_proxy("socks5://p:1080")
            .err()
            .unwrap_or_default()
            .contains("only http://"));
        let t = resolve_target("wss://c.example/connection/websocket", "proxy:3128").unwrap();
        assert_eq!(
            proxy_request(&t),
            "CONNECT c.example:443 HTTP/1.1\r\nHost: c.example:443\r\n\r\n"
        );
    }
}
