//! Unix domain socket transport (Linux/macOS): non-blocking socket, readiness through `polling` (epoll/kqueue),
//! wake-ups through the poller's own notifier. The socket is non-blocking from the start: the connect gives up
//! at its deadline (a listener whose backlog is full makes a blocking connect wait for ever), and a write gives up
//! at one total deadline however slowly the agent drains it.
//!
//! Only this user's agent is spoken to: the socket file must belong to the current user, and after `connect`
//! the peer process's user (`SO_PEERCRED` on Linux, `getpeereid` elsewhere) must be the current user too, so
//! another local user cannot stand in for the agent (and receive the commands) by creating the socket first.
//! The fallback directory of the default socket, `<temp>/tb-agent-<uid>`, is created with mode 0700 when it is
//! missing and refused unless it is a real directory (not a symbolic link) of this user that nobody else may
//! enter: in the shared temporary directory another user could otherwise create it first.

use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::io::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use polling::{Event, Events, PollMode, Poller};

use super::{PipeOps, Readiness, READ_CHUNK};

const CONNECTION_KEY: usize = 1;

/// Interrupts the worker's [`AgentPipe::wait`] from any thread.
#[derive(Clone)]
pub struct Waker {
    poller: Arc<Poller>,
}

impl Waker {
    pub fn wake(&self) {
        // A failed notify means the poller is gone with its worker: nothing left to wake.
        let _ = self.poller.notify();
    }
}

pub struct AgentPipe {
    poller: Arc<Poller>,
    stream: Option<UnixStream>,
    events: Events,
    buffer: Vec<u8>,
}

impl PipeOps for AgentPipe {
    fn create() -> io::Result<(Self, Waker)> {
        let poller = Arc::new(Poller::new()?);
        let pipe = AgentPipe {
            poller: poller.clone(),
            stream: None,
            events: Events::new(),
            buffer: vec![0; READ_CHUNK],
        };
        Ok((pipe, Waker { poller }))
    }

    fn open(&mut self, address: &str, timeout: Duration) -> io::Result<()> {
        self.open_checked(address, timeout, &fallback_dir())
    }

    fn close(&mut self) {
        if let Some(stream) = self.stream.take() {
            let _ = self.poller.delete(&stream);
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }

    fn is_open(&self) -> bool {
        self.stream.is_some()
    }

    fn write_all(&mut self, bytes: &[u8], timeout: Duration) -> io::Result<()> {
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "not connected"))?;
        let deadline = Instant::now() + timeout;
        let mut rest = bytes;
        let mut result = Ok(());
        while !rest.is_empty() {
            match stream.write(rest) {
                Ok(0) => {
                    result = Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the agent took nothing",
                    ));
                    break;
                }
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let now = Instant::now();
                    if now >= deadline {
                        result = Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the agent did not take the command in time",
                        ));
                        break;
                    }
                    // Writable (or woken, or a bit of the deadline passed): try again.
                    self.poller.modify_with_mode(
                        &*stream,
                        Event::all(CONNECTION_KEY),
                        PollMode::Level,
                    )?;
                    self.events.clear();
                    let waited = self.poller.wait(&mut self.events, Some(deadline - now));
                    self.poller.modify_with_mode(
                        &*stream,
                        Event::readable(CONNECTION_KEY),
                        PollMode::Level,
                    )?;
                    waited?;
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        result
    }

    fn wait(&mut self, timeout: Option<Duration>) -> io::Result<Readiness> {
        let Some(stream) = self.stream.as_mut() else {
            self.events.clear();
            self.poller.wait(&mut self.events, timeout)?;
            return Ok(Readiness::Idle);
        };
        self.events.clear();
        self.poller.wait(&mut self.events, timeout)?;
        if !self.events.iter().any(|e| e.key == CONNECTION_KEY) {
            return Ok(Readiness::Idle);
        }
        match stream.read(&mut self.buffer) {
            Ok(0) => Ok(Readiness::Closed),
            Ok(n) => Ok(Readiness::Data(self.buffer[..n].to_vec())),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(Readiness::Idle)
            }
            Err(e) => Err(e),
        }
    }
}

impl AgentPipe {
    /// [`PipeOps::open`] with the fallback directory given (the tests' own instead of the shared one).
    fn open_checked(
        &mut self,
        address: &str,
        timeout: Duration,
        fallback: &Path,
    ) -> io::Result<()> {
        self.close();
        check_directory(Path::new(address), fallback)?;
        check_socket_owner(Path::new(address))?;
        let stream = connect(address, Instant::now() + timeout)?;
        check_peer(&stream)?;
        // SAFETY: the stream is deleted from the poller in `close` before it is dropped.
        unsafe {
            self.poller
                .add_with_mode(&stream, Event::readable(CONNECTION_KEY), PollMode::Level)?;
        }
        self.stream = Some(stream);
        Ok(())
    }
}

/// The effective user of this process.
pub fn current_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Where the agent's socket lives by default: `$XDG_RUNTIME_DIR` when it is an absolute directory of this user
/// that nobody else may enter, else `<temp>/tb-agent-<uid>` (the agent creates it with mode 0700). Never the
/// shared temporary directory itself, where any user could create the name first.
pub fn private_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        let private = std::fs::metadata(&dir).is_ok_and(|meta| {
            meta.is_dir() && meta.uid() == current_uid() && meta.mode() & 0o077 == 0
        });
        if dir.is_absolute() && private {
            return dir;
        }
    }
    fallback_dir()
}

/// `<temp>/tb-agent-<uid>`: the default socket's directory without a private `$XDG_RUNTIME_DIR`.
fn fallback_dir() -> PathBuf {
    std::env::temp_dir().join(format!("tb-agent-{}", current_uid()))
}

/// A socket in `fallback` (the shared temporary directory's `tb-agent-<uid>`) is used only once that directory
/// is private ([`ensure_private_dir`]). Any other directory is the user's own choice (ПутьКаналу / PipeAddress,
/// or a private `$XDG_RUNTIME_DIR`).
fn check_directory(socket: &Path, fallback: &Path) -> io::Result<()> {
    match socket.parent() {
        Some(dir) if dir == fallback => ensure_private_dir(dir),
        _ => Ok(()),
    }
}

/// Creates `dir` with mode 0700 if it is missing, then refuses it unless it is a directory (a symbolic link is
/// refused, not followed) that belongs to this user and that nobody else may enter.
fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(io::Error::new(
                e.kind(),
                format!("cannot create the agent's directory {}: {e}", dir.display()),
            ))
        }
    }
    let meta = std::fs::symlink_metadata(dir)?;
    let shown = dir.display();
    if meta.file_type().is_symlink() {
        return Err(refused(format!(
            "{shown} is a symbolic link, not a directory: refused, another user may have made it to catch the \
             agent's socket; delete it or set PipeAddress"
        )));
    }
    if !meta.is_dir() {
        return Err(refused(format!(
            "{shown} is not a directory: refused; delete it or set PipeAddress"
        )));
    }
    let ours = current_uid();
    if meta.uid() != ours {
        return Err(refused(format!(
            "{shown} belongs to user {} and this process runs as user {ours}: refused, another user may be \
             posing as the agent; delete it or set PipeAddress",
            meta.uid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(refused(format!(
            "{shown} has mode {:04o}, others may enter it: refused; make it 0700 (chmod 700) or delete it",
            meta.mode() & 0o7777
        )));
    }
    Ok(())
}

fn refused(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, message)
}

/// The socket file (the target, if `path` is a symbolic link) must be a socket of the current user.
fn check_socket_owner(path: &Path) -> io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if !meta.file_type().is_socket() {
        return Err(refused("not a socket".to_string()));
    }
    let ours = current_uid();
    if meta.uid() != ours {
        return Err(refused(format!(
            "the socket belongs to user {} and this process runs as user {ours}: refused, another user may be \
             posing as the agent",
            meta.uid()
        )));
    }
    Ok(())
}

/// The process at the other end must run as the current user.
fn check_peer(stream: &UnixStream) -> io::Result<()> {
    let peer = peer_uid(stream)?;
    let ours = current_uid();
    if peer != ours {
        return Err(refused(format!(
            "the agent socket is served by user {peer} and this process runs as user {ours}: refused"
        )));
    }
    Ok(())
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn peer_uid(stream: &UnixStream) -> io::Result<u32> {
    let mut credentials = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut length = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: the descriptor is a live socket owned by `stream`; the buffer and its length describe `credentials`.
    let result = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut credentials as *mut libc::ucred).cast(),
            &mut length,
        )
    };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(credentials.uid)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn peer_uid(stream: &UnixStream) -> io::Result<u32> {
    let mut uid: libc::uid_t = 0;
    let mut gid: libc::gid_t = 0;
    // SAFETY: the descriptor is a live socket owned by `stream`; both out-pointers are valid.
    if unsafe { libc::getpeereid(stream.as_raw_fd(), &mut uid, &mut gid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(uid)
}

/// A non-blocking connect bounded by `deadline`. A Unix socket connect does not stay in progress: it succeeds,
/// fails, or (the listener's backlog is full) says "try again", which is retried until the deadline.
fn connect(address: &str, deadline: Instant) -> io::Result<UnixStream> {
    let target = socket2::SockAddr::unix(address)?;
    loop {
        let socket = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        match socket.connect(&target) {
            Ok(()) => return Ok(UnixStream::from(std::os::fd::OwnedFd::from(socket))),
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.raw_os_error() == Some(libc::EINPROGRESS) =>
            {
                if Instant::now() >= deadline {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the agent did not accept the connection in time",
                    ));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}

impl Drop for AgentPipe {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;
    use std::sync::mpsc;

    fn socket_path(name: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("tb-pipe-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        path
    }

    /// Runs `body` on its own thread and waits a bounded time for it: a hang is a failure, not a stuck test.
    fn bounded<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(body());
        });
        rx.recv_timeout(Duration::from_secs(10)).ok()
    }

    /// A fresh directory under the temporary one, for the fallback-directory tests (never the real fallback,
    /// which other tests and the agent use).
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tb-scratch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        dir
    }

    fn refusal(result: io::Result<()>) -> String {
        let error = result.expect_err("refused");
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied, "{error}");
        error.to_string()
    }

    /// Issue 16: `<temp>/tb-agent-<uid>` was used whoever had made it. A missing one is made private; one that
    /// others may enter, a symbolic link, a file, or (as root) one of another user is refused with its reason.
    #[test]
    fn the_fallback_directory_is_created_private_and_checked() {
        use std::os::unix::fs::PermissionsExt;
        let root = scratch("fallback");
        let dir = root.join("tb-agent-x");
        ensure_private_dir(&dir).unwrap();
        let meta = std::fs::symlink_metadata(&dir).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.mode() & 0o777, 0o700);
        ensure_private_dir(&dir).unwrap();

        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let text = refusal(ensure_private_dir(&dir));
        assert!(
            text.contains("mode 0777") && text.contains("chmod 700"),
            "{text}"
        );
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
        assert!(refusal(ensure_private_dir(&dir)).contains("mode 0750"));
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();

        // A link to a perfectly private directory is still refused: the link itself is what another user made.
        let link = root.join("tb-agent-link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert!(refusal(ensure_private_dir(&link)).contains("symbolic link"));
        let file = root.join("tb-agent-file");
        std::fs::write(&file, b"").unwrap();
        assert!(refusal(ensure_private_dir(&file)).contains("not a directory"));

        if current_uid() == 0 {
            std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
            let text = refusal(ensure_private_dir(&dir));
            assert!(text.contains("belongs to user 65534"), "{text}");
        } else {
            addin_host::skip::skip("not-root", "the other-owner case needs root to chown");
        }
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// The check runs before the connect: an agent listening in a fallback directory others may enter never sees
    /// a connection. A socket anywhere else is not subject to it.
    #[test]
    fn a_socket_in_a_fallback_directory_others_may_enter_is_refused_before_connecting() {
        use std::os::unix::fs::PermissionsExt;
        let root = scratch("open");
        let fallback = root.join("tb-agent-x");
        std::fs::create_dir(&fallback).unwrap();
        std::fs::set_permissions(&fallback, std::fs::Permissions::from_mode(0o777)).unwrap();
        let path = fallback.join("BuhphoneAgentAPI2_operator");
        let listener = UnixListener::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = path.to_str().unwrap();
        let (mut pipe, _) = AgentPipe::create().unwrap();
        let text = refusal(pipe.open_checked(address, Duration::from_secs(1), &fallback));
        assert!(text.contains("mode 0777"), "{text}");
        assert!(!pipe.is_open());
        assert!(matches!(listener.accept(), Err(e) if e.kind() == io::ErrorKind::WouldBlock));
        // The same socket is used once it is not in the fallback directory, or that directory is private.
        pipe.open_checked(address, Duration::from_secs(1), &root.join("elsewhere"))
            .unwrap();
        assert!(listener.accept().is_ok());
        std::fs::set_permissions(&fallback, std::fs::Permissions::from_mode(0o700)).unwrap();
        pipe.open_checked(address, Duration::from_secs(1), &fallback)
            .unwrap();
        assert!(listener.accept().is_ok());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_connect_to_an_agent_that_does_not_accept_gives_up_at_its_deadline() {
        let path = socket_path("backlog");
        let listener =
            socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
        listener
            .bind(&socket2::SockAddr::unix(&path).unwrap())
            .unwrap();
        listener.listen(0).unwrap();
        // Fill the backlog: nobody ever accepts.
        let mut fillers = Vec::new();
        for _ in 0..8 {
            let filler =
                socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
            filler.set_nonblocking(true).unwrap();
            if filler
                .connect(&socket2::SockAddr::unix(&path).unwrap())
                .is_err()
            {
                break;
            }
            fillers.push(filler);
        }
        let address = path.to_str().unwrap().to_string();
        let outcome = bounded(move || {
            let (mut pipe, _) = AgentPipe::create().unwrap();
            pipe.open(&address, Duration::from_millis(300))
                .map_err(|e| e.kind())
        });
        assert_eq!(outcome, Some(Err(io::ErrorKind::TimedOut)));
        drop((listener, fillers));
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_write_to_an_agent_that_drains_slowly_ends_at_one_total_deadline() {
        let path = socket_path("drip");
        let listener = UnixListener::bind(&path).unwrap();
        let address = path.to_str().unwrap().to_string();
        // The agent reads 1 KiB every 20 ms: each single write makes progress, the whole never finishes in time.
        std::thread::spawn(move || {
            let Ok((mut peer, _)) = listener.accept() else {
                return;
            };
            let mut chunk = [0u8; 1024];
            while peer.read(&mut chunk).is_ok_and(|n| n > 0) {
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let outcome = bounded(move || {
            let (mut pipe, _) = AgentPipe::create().unwrap();
            pipe.open(&address, Duration::from_secs(1)).unwrap();
            let big = vec![b'x'; 16 * 1024 * 1024];
            pipe.write_all(&big, Duration::from_millis(500))
                .map_err(|e| e.kind())
        });
        assert_eq!(outcome, Some(Err(io::ErrorKind::TimedOut)));
        let _ = std::fs::remove_file(&path);
    }
}
