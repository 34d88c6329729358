//! A scripted 1C-Connect agent for the tests of ConnectAgent through the built library: it listens where the
//! agent does (a Unix socket, or a Windows named pipe under Wine), speaks the wire format (UTF-16LE
//! length-prefixed events out, UTF-8 commands in), records every command and answers each with a CommandResult,
//! or with the documented error text a test asks for.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the agent waits for what a test expects.
pub const WAIT: Duration = Duration::from_secs(10);

pub use agent_io::{Listener, Stream};

pub fn frame(xml: &str) -> Vec<u8> {
    let body: Vec<u8> = xml.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut out = (body.len() as u32).to_le_bytes().to_vec();
    out.extend(body);
    out
}

/// One command as the agent received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Which client connection (1-based) it came on.
    pub connection: usize,
    pub xml: String,
    pub action: String,
    pub id: String,
    pub attrs: HashMap<String, String>,
}

impl Received {
    pub fn attr(&self, name: &str) -> &str {
        self.attrs.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn child(&self, name: &str) -> Option<String> {
        let open = format!("<{name}>");
        let start = self.xml.find(&open)? + open.len();
        let end = self.xml[start..].find(&format!("</{name}>"))? + start;
        Some(self.xml[start..end].to_string())
    }
}

pub fn parse_command(xml: &str, connection: usize) -> Received {
    let head_end = xml.find('>').unwrap_or(xml.len());
    let head = &xml[..head_end];
    let mut attrs = HashMap::new();
    let mut rest = head.trim_start_matches("<Command");
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq].trim().to_string();
        let value_start = eq + 2;
        let Some(value_len) = rest[value_start..].find('"') else {
            break;
        };
        attrs.insert(name, rest[value_start..value_start + value_len].to_string());
        rest = &rest[value_start + value_len + 1..];
    }
    Received {
        connection,
        xml: xml.to_string(),
        action: attrs.get("Action").cloned().unwrap_or_default(),
        id: attrs.get("ID").cloned().unwrap_or_default(),
        attrs,
    }
}

#[derive(Default)]
pub struct AgentState {
    pub received: Vec<Received>,
    pub writer: Option<Stream>,
    pub connections: usize,
    /// Action → the `<Error>` text to answer it with.
    pub errors: HashMap<String, String>,
    /// Do not answer commands (tests answer them by hand).
    pub hold: bool,
}

/// The 1C-Connect agent as seen through its socket.
pub struct Agent {
    pub path: PathBuf,
    pub state: Arc<(Mutex<AgentState>, Condvar)>,
    pub stop: Arc<AtomicBool>,
    pub accept_thread: Option<JoinHandle<()>>,
}

impl Agent {
    pub fn start(path: &Path) -> Agent {
        let listener = Listener::bind(path);
        let state: Arc<(Mutex<AgentState>, Condvar)> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let accept_thread = {
            let state = state.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    match listener.accept() {
                        Some(_) if stop.load(Ordering::Acquire) => break,
                        Some(stream) => {
                            let connection = {
                                let mut s = state.0.lock().unwrap_or_else(|p| p.into_inner());
                                s.connections += 1;
                                s.writer = Some(stream.try_clone().unwrap());
                                s.connections
                            };
                            let state = state.clone();
                            let stop = stop.clone();
                            std::thread::spawn(move || serve(stream, connection, state, stop));
                        }
                        None => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            })
        };
        Agent {
            path: path.to_path_buf(),
            state,
            stop,
            accept_thread: Some(accept_thread),
        }
    }

    pub fn with_state<R>(&self, f: impl FnOnce(&mut AgentState) -> R) -> R {
        f(&mut self
            .state
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// The current client connection (waits for the accept thread to register it).
    pub fn writer(&self) -> Stream {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(writer) =
                self.with_state(|s| s.writer.as_ref().map(|w| w.try_clone().unwrap()))
            {
                return writer;
            }
            assert!(Instant::now() < deadline, "no client is connected");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    pub fn write(&self, bytes: &[u8]) {
        self.writer().write_all(bytes).expect("write to client");
    }

    pub fn send_event(&self, xml: &str) {
        self.write(&frame(xml));
    }

    pub fn connections(&self) -> usize {
        self.with_state(|s| s.connections)
    }

    /// Waits until `count` commands have arrived in total; returns them all.
    pub fn wait_commands(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + WAIT;
        let (lock, cvar) = &*self.state;
        let mut state = lock.lock().unwrap();
        while state.received.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "expected {count} commands, got {:#?}",
                state.received
            );
            state = cvar.wait_timeout(state, left).unwrap().0;
        }
        state.received.clone()
    }

    pub fn take_commands(&self) -> Vec<Received> {
        self.with_state(|s| std::mem::take(&mut s.received))
    }

    pub fn wait_connections(&self, count: usize) {
        let deadline = Instant::now() + WAIT;
        while self.connections() < count {
            assert!(Instant::now() < deadline, "no client connection #{count}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Closes the current client connection (the agent keeps listening).
    pub fn drop_connection(&self) {
        if let Some(writer) = self.with_state(|s| s.writer.take()) {
            agent_io::disconnect(&writer);
        }
    }

    /// The agent exits: no listener, no connection.
    pub fn stop(mut self) {
        self.shutdown();
    }

    pub fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.drop_connection();
        if let Some(thread) = self.accept_thread.take() {
            agent_io::wake_listener(&self.path);
            let _ = thread.join();
        }
        agent_io::remove(&self.path);
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.shutdown();
    }
}

pub fn command_result(command: &Received, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<Error>{e}</Error>"))
        .unwrap_or_default();
    let result = if error.is_empty() { "true" } else { "false" };
    format!(
        r#"<CommandResult Action="{}" ID="{}"><Result>{result}</Result>{error}</CommandResult>"#,
        command.action, command.id
    )
}

/// Reads UTF-8 command documents (no delimiter: each ends with `</Command>`) and answers them.
pub fn serve(
    mut stream: Stream,
    connection: usize,
    state: Arc<(Mutex<AgentState>, Condvar)>,
    stop: Arc<AtomicBool>,
) {
    let mut pending = String::new();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    agent_io::prepare(&stream);
    while !stop.load(Ordering::Acquire) {
        let n = match agent_io::read(&mut stream, &mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(_) => return,
        };
        raw.extend_from_slice(&buf[..n]);
        // Commands are UTF-8: only take whole characters.
        let valid = match std::str::from_utf8(&raw) {
            Ok(text) => text.len(),
            Err(e) => e.valid_up_to(),
        };
        pending.push_str(std::str::from_utf8(&raw[..valid]).unwrap());
        raw.drain(..valid);
        while let Some(end) = pending.find("</Command>") {
            let xml: String = pending.drain(..end + "</Command>".len()).collect();
            assert!(!xml.starts_with('\u{FEFF}'), "no BOM");
            let command = parse_command(xml.trim(), connection);
            let reply = {
                let (lock, cvar) = &*state;
                let mut s = lock.lock().unwrap();
                s.received.push(command.clone());
                cvar.notify_all();
                if s.hold {
                    None
                } else {
                    let error = s.errors.get(&command.action).cloned();
                    Some(command_result(&command, error.as_deref()))
                }
            };
            if let Some(reply) = reply {
                if stream.write_all(&frame(&reply)).is_err() {
                    return;
                }
            }
        }
    }
}

pub static NEXT: AtomicUsize = AtomicUsize::new(0);

pub fn socket_path() -> PathBuf {
    agent_io::endpoint(&format!(
        "tb-agent-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

// ----- the agent's endpoint: a Unix socket, or a Windows named pipe (run under Wine by scripts/test-windows.sh) ----

#[cfg(unix)]
pub mod agent_io {
    use std::io::{self, Read};
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    pub type Stream = UnixStream;

    pub struct Listener(UnixListener);

    impl Listener {
        pub fn bind(path: &Path) -> Listener {
            let _ = std::fs::remove_file(path);
            let listener = UnixListener::bind(path).expect("bind agent socket");
            listener.set_nonblocking(true).unwrap();
            Listener(listener)
        }

        /// A new client, or None (now: poll again).
        pub fn accept(&self) -> Option<Stream> {
            let (stream, _) = self.0.accept().ok()?;
            stream.set_nonblocking(false).unwrap();
            Some(stream)
        }
    }

    pub fn wake_listener(_path: &Path) {}

    pub fn prepare(stream: &Stream) {
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
    }

    /// Like `read`, but gives up with WouldBlock/TimedOut when nothing comes for a while.
    pub fn read(stream: &mut Stream, buf: &mut [u8]) -> io::Result<usize> {
        stream.read(buf)
    }

    pub fn disconnect(stream: &Stream) {
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }

    pub fn remove(path: &Path) {
        let _ = std::fs::remove_file(path);
    }

    pub fn endpoint(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("{name}.sock"))
    }

    /// Where the add-in looks by default (src/transport/agent_pipe_unix.rs `private_dir`): $XDG_RUNTIME_DIR if
    /// it is private to this user, else `<temp>/tb-agent-<uid>`, which the agent creates with mode 0700.
    pub fn default_endpoint(login: &str) -> PathBuf {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt};
        // SAFETY: geteuid has no preconditions.
        let uid = unsafe { libc::geteuid() };
        let runtime = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|dir| {
                dir.is_absolute()
                    && std::fs::metadata(dir)
                        .is_ok_and(|m| m.is_dir() && m.uid() == uid && m.mode() & 0o077 == 0)
            });
        let dir = runtime.unwrap_or_else(|| {
            let dir = std::env::temp_dir().join(format!("tb-agent-{uid}"));
            let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
            dir
        });
        dir.join(format!("BuhphoneAgentAPI2_{login}"))
    }
}

/// The agent side of a Windows named pipe. The server never blocks in ReadFile (it peeks first), so a
/// test thread can always write to the same pipe: no read-blocks-write even on a real Windows.
#[cfg(windows)]
pub mod agent_io {
    use std::fs::File;
    use std::io::{self, Read};
    use std::os::windows::ffi::OsStrExt;
    use std::os::windows::io::{AsRawHandle, FromRawHandle};
    use std::path::{Path, PathBuf};
    use std::ptr;
    use std::sync::Mutex;
    use std::time::Duration;

    use windows_sys::Win32::Foundation::{
        CloseHandle, GetLastError, ERROR_BROKEN_PIPE, ERROR_PIPE_CONNECTED, GENERIC_READ,
        GENERIC_WRITE, HANDLE, INVALID_HANDLE_VALUE,
    };
    use windows_sys::Win32::Storage::FileSystem::{CreateFileW, OPEN_EXISTING, PIPE_ACCESS_DUPLEX};
    use windows_sys::Win32::System::Pipes::{
        ConnectNamedPipe, CreateNamedPipeW, DisconnectNamedPipe, PeekNamedPipe, PIPE_READMODE_BYTE,
        PIPE_TYPE_BYTE, PIPE_UNLIMITED_INSTANCES, PIPE_WAIT,
    };

    pub type Stream = File;

    fn wide(path: &Path) -> Vec<u16> {
        path.as_os_str().encode_wide().chain(Some(0)).collect()
    }

    struct Instance(HANDLE);
    // SAFETY: a kernel handle, used by one thread at a time (behind the Mutex).
    unsafe impl Send for Instance {}

    /// Always keeps one instance listening, so a client never finds the pipe missing between accepts.
    pub struct Listener {
        name: Vec<u16>,
        listening: Mutex<Option<Instance>>,
    }

    fn new_instance(name: &[u16]) -> Instance {
        // SAFETY: valid NUL-terminated name, null security attributes.
        let handle = unsafe {
            CreateNamedPipeW(
                name.as_ptr(),
                PIPE_ACCESS_DUPLEX,
                PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT,
                PIPE_UNLIMITED_INSTANCES,
                64 * 1024,
                64 * 1024,
                0,
                ptr::null(),
            )
        };
        assert!(
            handle != INVALID_HANDLE_VALUE,
            "CreateNamedPipeW: {}",
            io::Error::last_os_error()
        );
        Instance(handle)
    }

    impl Listener {
        pub fn bind(path: &Path) -> Listener {
            let name = wide(path);
            let first = new_instance(&name);
            Listener {
                name,
                listening: Mutex::new(Some(first)),
            }
        }

        /// Blocks until a client connects ([`wake_listener`] makes one).
        pub fn accept(&self) -> Option<Stream> {
            let instance = self.listening.lock().unwrap().take()?;
            // SAFETY: our own pipe instance; synchronous connect.
            let connected = unsafe { ConnectNamedPipe(instance.0, ptr::null_mut()) } != 0
                || unsafe { GetLastError() } == ERROR_PIPE_CONNECTED;
            *self.listening.lock().unwrap() = Some(new_instance(&self.name));
            // SAFETY: the handle is ours and is owned by the File from here on.
            let stream = unsafe { File::from_raw_handle(instance.0 as _) };
            connected.then_some(stream)
        }
    }

    impl Drop for Listener {
        fn drop(&mut self) {
            if let Some(instance) = self.listening.lock().unwrap().take() {
                // SAFETY: our own handle, closed once.
                unsafe { CloseHandle(instance.0) };
            }
        }
    }

    /// Connects once as a client so a blocked [`Listener::accept`] returns.
    pub fn wake_listener(path: &Path) {
        let name = wide(path);
        // SAFETY: valid NUL-terminated name; the handle is closed at once.
        unsafe {
            let handle = CreateFileW(
                name.as_ptr(),
                GENERIC_READ | GENERIC_WRITE,
                0,
                ptr::null(),
                OPEN_EXISTING,
                0,
                ptr::null_mut(),
            );
            if handle != INVALID_HANDLE_VALUE {
                CloseHandle(handle);
            }
        }
    }

    pub fn prepare(_stream: &Stream) {}

    /// Reads only what is already there; WouldBlock after a short nap when nothing is.
    pub fn read(stream: &mut Stream, buf: &mut [u8]) -> io::Result<usize> {
        let mut available = 0u32;
        // SAFETY: our handle; only the count of available bytes is asked for.
        let ok = unsafe {
            PeekNamedPipe(
                stream.as_raw_handle() as _,
                ptr::null_mut(),
                0,
                ptr::null_mut(),
                &mut available,
                ptr::null_mut(),
            )
        } != 0;
        if !ok {
            let error = io::Error::last_os_error();
            return if error.raw_os_error() == Some(ERROR_BROKEN_PIPE as i32) {
                Ok(0)
            } else {
                Err(error)
            };
        }
        if available == 0 {
            std::thread::sleep(Duration::from_millis(2));
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let wanted = buf.len().min(available as usize);
        stream.read(&mut buf[..wanted])
    }

    /// Drops the client, as an agent that closes the connection does.
    pub fn disconnect(stream: &Stream) {
        // SAFETY: our pipe handle.
        unsafe { DisconnectNamedPipe(stream.as_raw_handle() as _) };
    }

    pub fn remove(_path: &Path) {}

    pub fn endpoint(name: &str) -> PathBuf {
        PathBuf::from(format!(r"\\.\pipe\{name}"))
    }

    pub fn default_endpoint(login: &str) -> PathBuf {
        PathBuf::from(format!(r"\\.\pipe\BuhphoneAgentAPI2_{login}"))
    }
}
