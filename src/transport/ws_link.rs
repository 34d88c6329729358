//! The WebSocket link of the Centrifugo client, phase by phase: DNS → non-blocking TCP connect → optional HTTP
//! proxy `CONNECT` → TLS for `wss://` → WebSocket handshake → open. It moves bytes only: what it reads and how the
//! link ends go to a [`LinkEvents`] (the driver's Centrifugo adapter, which feeds the protocol core).
//!
//! The socket is non-blocking and watched by a `polling::Poller`, whose `notify` is also how the 1C thread wakes
//! the worker; so an idle connection sleeps until the server's next ping. Every phase before `Open` is bounded by
//! one handshake deadline.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use polling::{Event as PollEvent, Events, Poller};
use tungstenite::handshake::client::{ClientHandshake, Response};
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::{CloseFrame, WebSocket};
use tungstenite::Message;

use super::proxy::{self, ConnectAnswer, Proxy};
use super::tls;

const SOCKET_KEY: usize = 1;

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
}

/// Where a `ws[s]://` address leads, and through which proxy.
#[derive(Clone, Debug)]
pub struct Target {
    pub url: String,
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub proxy: Option<Proxy>,
}

impl Target {
    /// Splits `ws[s]://host[:port]/path`; the proxy is the caller's choice (see [`proxy::choose`]).
    /// An address with a control character, white space or a non-ASCII host is refused here as well (`Connect`
    /// refuses it first): nothing of it may reach a CONNECT request or the resolver.
    pub fn parse(url: &str) -> Result<Target, String> {
        let shown = tb_prims::redact::url(url);
        if let Err(problem) = tb_prims::address::check(url) {
            return Err(format!("'{shown}' cannot be used: {problem:?}"));
        }
        let (tls, rest) = match proxy::split_scheme(url) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("wss") => (true, rest),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("ws") => (false, rest),
            _ => return Err(format!("'{shown}' is not a ws:// or wss:// address")),
        };
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let (host, port) = proxy::split_host_port(authority, if tls { 443 } else { 80 })?;
        Ok(Target {
            url: url.to_string(),
            tls,
            host,
            port,
            proxy: None,
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
    TcpConnecting {
        socket: TcpStream,
        target: Target,
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
    pub fn new() -> io::Result<(WsLink, LinkWaker)> {
        let poller = Arc::new(Poller::new()?);
        let link = WsLink {
            poller: poller.clone(),
            events: Events::new(),
            phase: Phase::None,
            registered: None,
            deadline: None,
            want_write: false,
        };
        Ok((link, LinkWaker(poller)))
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
        let address = match (host.as_str(), port)
            .to_socket_addrs()
            .map(|mut a| a.next())
        {
            Ok(Some(address)) => address,
            Ok(None) | Err(_) => return events.failed(&format!("cannot resolve {host}"), now),
        };
        let registered = start_connect(address).and_then(|socket| {
            let registered = socket.try_clone()?;
            // SAFETY: the socket is removed from the poller (drop_link) before it is closed.
            unsafe {
                self.poller
                    .add(&registered, PollEvent::writable(SOCKET_KEY))?
            };
            Ok((socket, registered))
        });
        match registered {
            Ok((socket, registered)) => {
                self.registered = Some(registered);
                self.phase = Phase::TcpConnecting { socket, target };
                self.deadline = Some(now + timeout);
            }
            Err(e) => events.failed(&format!("connect to {address}: {e}"), now),
        }
    }

    /// Waits for the socket, a wake-up or `timeout`, then moves the link as far as it goes.
    pub fn wait(&mut self, timeout: Option<Duration>, events: &mut dyn LinkEvents) {
        self.arm();
        self.events.clear();
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
            Phase::None => return,
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
                Phase::TcpConnecting { socket, target } => {
                    self.tcp_step(socket, target, now, events)
                }
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
        now: Instant,
        events: &mut dyn LinkEvents,
    ) -> Result<Step, String> {
        match connect_result(&socket) {
            Ok(false) => Ok(Step::Wait(Phase::TcpConnecting { socket, target })),
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
        let result = tungstenite::client::client(target.url.as_str(), stream);
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
        loop {
            match ws.read() {
                Ok(Message::Text(text)) => events.frame(text.as_bytes(), now),
                Ok(Message::Binary(bytes)) => events.frame(&bytes, now),
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
        let error = Target::parse("ws://u:p@сервер.example/?token=t").unwrap_err();
        assert!(
            error.contains("NonAsciiHost") && !error.contains("u:p") && !error.contains("=t"),
            "{error}"
        );
        assert!(Target::parse("ws://h:80/\r\nX: y").is_err());
    }
}
