//! Windows named pipe transport: `\\.\pipe\BuhphoneAgentAPI2_<Login>` opened with `FILE_FLAG_OVERLAPPED`.
//!
//! Why overlapped: on a pipe handle opened for synchronous I/O, Windows serialises operations on the handle, so a
//! read waiting for the agent blocks every write until the agent happens to send something. Here no call ever
//! waits inside the kernel on the handle: one read is always outstanding (its completion signals `read_event`),
//! writes are issued alongside it with their own OVERLAPPED and event, and the worker sleeps in
//! `WaitForMultipleObjects` on {read completed, woken by 1C thread} with the core's next deadline as timeout.
//! Deadlock-free by construction rather than by timing, which matters because Wine does not reproduce the
//! synchronous-handle blocking and so cannot catch a regression.
//!
//! Only this user's agent is spoken to: the pipe is opened with `SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION`
//! (the server may learn who connected but cannot act as the 1C user), and the server process's user — the SID
//! in its token, found through `GetNamedPipeServerProcessId` — must be this process's user. A pipe of the same
//! name created first by another user of the machine is closed before a byte is written.

use std::io;
use std::ptr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{
    CloseHandle, GetLastError, ERROR_BROKEN_PIPE, ERROR_IO_INCOMPLETE, ERROR_IO_PENDING,
    ERROR_MORE_DATA, ERROR_NO_DATA, ERROR_PIPE_BUSY, ERROR_PIPE_NOT_CONNECTED, GENERIC_READ,
    GENERIC_WRITE, HANDLE, INVALID_HANDLE_VALUE, WAIT_OBJECT_0, WAIT_TIMEOUT,
};
use windows_sys::Win32::Security::{
    EqualSid, GetTokenInformation, TokenUser, TOKEN_QUERY, TOKEN_USER,
};
use windows_sys::Win32::Storage::FileSystem::{
    CreateFileW, ReadFile, WriteFile, FILE_FLAG_OVERLAPPED, OPEN_EXISTING, SECURITY_IDENTIFICATION,
    SECURITY_SQOS_PRESENT,
};
use windows_sys::Win32::System::Pipes::{GetNamedPipeServerProcessId, WaitNamedPipeW};
use windows_sys::Win32::System::Threading::{
    CreateEventW, GetCurrentProcess, OpenProcess, OpenProcessToken, SetEvent,
    WaitForMultipleObjects, WaitForSingleObject, INFINITE, PROCESS_QUERY_LIMITED_INFORMATION,
};
use windows_sys::Win32::System::IO::{CancelIoEx, GetOverlappedResult, OVERLAPPED};

use super::{PipeOps, Readiness, READ_CHUNK};

/// An owned kernel handle.
struct OwnedHandle(HANDLE);

// SAFETY: kernel handles are process-wide values; the event handles are used from several threads by design
// (SetEvent is thread-safe), the pipe handle only from the worker.
unsafe impl Send for OwnedHandle {}
unsafe impl Sync for OwnedHandle {}

impl Drop for OwnedHandle {
    fn drop(&mut self) {
        if !self.0.is_null() && self.0 != INVALID_HANDLE_VALUE {
            // SAFETY: we own the handle and close it once.
            unsafe { CloseHandle(self.0) };
        }
    }
}

fn last_error() -> io::Error {
    // SAFETY: no preconditions.
    io::Error::from_raw_os_error(unsafe { GetLastError() } as i32)
}

fn refused(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, message.to_string())
}

/// The user SID of a process's token, as bytes (a SID is self-contained: comparing them needs no other memory).
fn token_user(process: HANDLE) -> io::Result<Vec<u8>> {
    let mut token: HANDLE = ptr::null_mut();
    // SAFETY: `process` is a live process handle (or the current-process pseudo handle); `token` is an out-pointer.
    if unsafe { OpenProcessToken(process, TOKEN_QUERY, &mut token) } == 0 {
        return Err(last_error());
    }
    let token = OwnedHandle(token);
    let mut needed = 0u32;
    // SAFETY: a null buffer of length 0 asks for the needed length.
    unsafe { GetTokenInformation(token.0, TokenUser, ptr::null_mut(), 0, &mut needed) };
    if needed == 0 || needed > 64 * 1024 {
        return Err(last_error());
    }
    // u64 elements keep the TOKEN_USER at the start suitably aligned.
    let mut buffer = vec![0u64; (needed as usize).div_ceil(8)];
    // SAFETY: the buffer holds `needed` bytes.
    if unsafe {
        GetTokenInformation(
            token.0,
            TokenUser,
            buffer.as_mut_ptr().cast(),
            needed,
            &mut needed,
        )
    } == 0
    {
        return Err(last_error());
    }
    // SAFETY: GetTokenInformation filled the buffer with a TOKEN_USER whose Sid points inside the buffer.
    let sid = unsafe { (*(buffer.as_ptr() as *const TOKEN_USER)).User.Sid };
    let start = buffer.as_ptr() as usize;
    let end = start + needed as usize;
    let offset = (sid as usize)
        .checked_sub(start)
        .filter(|&o| o < needed as usize);
    let Some(offset) = offset else {
        return Err(refused("the token's user SID lies outside its buffer"));
    };
    // SAFETY: [start, end) is the buffer; the SID lies within it.
    let bytes = unsafe { std::slice::from_raw_parts(buffer.as_ptr().cast::<u8>(), end - start) };
    Ok(bytes[offset..].to_vec())
}

/// The pipe's server process must run as this process's user.
fn check_server_user(pipe: &OwnedHandle) -> io::Result<()> {
    let mut pid = 0u32;
    // SAFETY: `pipe` is an open client end of a named pipe; `pid` is an out-pointer.
    if unsafe { GetNamedPipeServerProcessId(pipe.0, &mut pid) } == 0 {
        return Err(last_error());
    }
    // SAFETY: plain call; a null result is handled.
    let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if process.is_null() {
        return Err(refused(&format!(
            "the agent pipe's server (process {pid}) cannot be inspected: refused, it may belong to another user"
        )));
    }
    let process = OwnedHandle(process);
    let server = token_user(process.0)?;
    // SAFETY: the pseudo handle needs no closing.
    let ours = token_user(unsafe { GetCurrentProcess() })?;
    // SAFETY: both buffers hold complete SIDs, alive for the call.
    let same = unsafe {
        EqualSid(
            server.as_ptr() as *mut core::ffi::c_void,
            ours.as_ptr() as *mut core::ffi::c_void,
        )
    } != 0;
    if same {
        Ok(())
    } else {
        Err(refused(&format!(
            "the agent pipe is served by process {pid} of another user: refused"
        )))
    }
}

fn new_event(manual_reset: bool) -> io::Result<OwnedHandle> {
    // SAFETY: null attributes and name are allowed.
    let handle = unsafe { CreateEventW(ptr::null(), i32::from(manual_reset), 0, ptr::null()) };
    if handle.is_null() {
        Err(last_error())
    } else {
        Ok(OwnedHandle(handle))
    }
}

fn millis(timeout: Option<Duration>) -> u32 {
    match timeout {
        None => INFINITE,
        // Round up so a 0.4 ms deadline does not turn into a busy loop of zero-timeout waits.
        Some(d) => u32::try_from(d.as_micros().div_ceil(1000))
            .unwrap_or(INFINITE - 1)
            .min(INFINITE - 1),
    }
}

/// Interrupts the worker's [`AgentPipe::wait`] from any thread.
#[derive(Clone)]
pub struct Waker {
    event: Arc<OwnedHandle>,
}

impl Waker {
    pub fn wake(&self) {
        // SAFETY: the event handle lives as long as this Arc.
        unsafe { SetEvent(self.event.0) };
    }
}

/// How long a cancelled read or write may take to let go of its OVERLAPPED and buffer. Past it they are leaked
/// rather than freed under the kernel, and the connection is closed: nothing here waits without bound.
const CANCEL_WAIT: Duration = Duration::from_secs(1);

/// The most one `WriteFile` is given (a command is far smaller; a larger one goes in several).
const WRITE_CHUNK: usize = 64 * 1024;

/// The wait on one event handle: `WaitForSingleObject`, or a stand-in in the tests of its failure path.
type WaitFn = fn(HANDLE, u32) -> u32;

fn wait_for_single_object(event: HANDLE, millis: u32) -> u32 {
    // SAFETY: the callers pass their own live event handles.
    unsafe { WaitForSingleObject(event, millis) }
}

/// Cancels the I/O of `overlapped` and waits at most [`CANCEL_WAIT`] (through `wait`) for it to end. True: the
/// kernel is done with the OVERLAPPED and its buffer; false: it may still use them, so they must be leaked.
///
/// # Safety
/// `overlapped` is the OVERLAPPED of an operation started on `pipe` whose completion signals `event`.
unsafe fn cancel_and_wait(
    pipe: HANDLE,
    overlapped: *const OVERLAPPED,
    event: HANDLE,
    wait: WaitFn,
) -> bool {
    // SAFETY: per the contract; a failed cancel (the operation already ended) leaves the event signalled.
    unsafe { CancelIoEx(pipe, overlapped) };
    if wait(event, millis(Some(CANCEL_WAIT))) != WAIT_OBJECT_0 {
        return false;
    }
    let mut ignored = 0u32;
    // SAFETY: the operation has ended (its event is signalled): collecting it does not wait.
    unsafe { GetOverlappedResult(pipe, overlapped, &mut ignored, 0) };
    true
}

/// State that the kernel writes into while a read is outstanding: boxed so its address never moves.
struct ReadSlot {
    overlapped: OVERLAPPED,
    buffer: Vec<u8>,
    pending: bool,
}

struct Connection {
    pipe: OwnedHandle,
    read: Box<ReadSlot>,
    read_event: OwnedHandle,
    write: Box<OVERLAPPED>,
    write_event: OwnedHandle,
    /// `WaitForSingleObject` (the tests put a failing stand-in here).
    wait: WaitFn,
    /// A write could not be cancelled in time: its OVERLAPPED, buffer and event were leaked to the kernel, and
    /// the connection takes no more writes.
    write_abandoned: bool,
}

// SAFETY: the raw pointers inside OVERLAPPED (the event handle) refer to kernel objects owned by this value; the
// connection moves to the worker thread once and is used only there.
unsafe impl Send for Connection {}

impl Connection {
    /// Make sure a read is outstanding. `Ok(false)`: the pipe is closed.
    fn start_read(&mut self) -> io::Result<bool> {
        if self.read.pending {
            return Ok(true);
        }
        self.read.overlapped = OVERLAPPED::default();
        self.read.overlapped.hEvent = self.read_event.0;
        let slot = &mut *self.read;
        // SAFETY: the buffer and OVERLAPPED are boxed and outlive the operation (Drop cancels and waits for it).
        let ok = unsafe {
            ReadFile(
                self.pipe.0,
                slot.buffer.as_mut_ptr(),
                slot.buffer.len() as u32,
                ptr::null_mut(),
                &mut slot.overlapped,
            )
        };
        if ok != 0 {
            // Completed at once; the event is signalled and GetOverlappedResult reports the count.
            slot.pending = true;
            return Ok(true);
        }
        // SAFETY: no preconditions.
        match unsafe { GetLastError() } {
            ERROR_IO_PENDING | ERROR_MORE_DATA => {
                slot.pending = true;
                Ok(true)
            }
            ERROR_BROKEN_PIPE | ERROR_PIPE_NOT_CONNECTED | ERROR_NO_DATA => Ok(false),
            code => Err(io::Error::from_raw_os_error(code as i32)),
        }
    }

    /// The outstanding read has completed (its event fired): collect it.
    fn finish_read(&mut self) -> io::Result<Readiness> {
        let mut transferred: u32 = 0;
        // SAFETY: the OVERLAPPED belongs to the read started on this handle.
        let ok =
            unsafe { GetOverlappedResult(self.pipe.0, &self.read.overlapped, &mut transferred, 0) };
        if ok == 0 {
            // SAFETY: no preconditions.
            match unsafe { GetLastError() } {
                ERROR_IO_INCOMPLETE => return Ok(Readiness::Idle),
                ERROR_MORE_DATA => {} // message-mode pipe: the rest comes with the next read
                ERROR_BROKEN_PIPE | ERROR_PIPE_NOT_CONNECTED | ERROR_NO_DATA => {
                    self.read.pending = false;
                    return Ok(Readiness::Closed);
                }
                code => {
                    self.read.pending = false;
                    return Err(io::Error::from_raw_os_error(code as i32));
                }
            }
        }
        self.read.pending = false;
        let n = (transferred as usize).min(self.read.buffer.len());
        if n == 0 {
            return Ok(Readiness::Idle);
        }
        Ok(Readiness::Data(self.read.buffer[..n].to_vec()))
    }

    /// Writes all of `bytes` by the deadline. Every wait is bounded: a write the agent does not take in time,
    /// or whose wait fails, is cancelled, and the error is returned (the caller closes the pipe).
    fn write_all(&mut self, mut bytes: &[u8], timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        while !bytes.is_empty() {
            let written = self.write_some(bytes, deadline)?;
            bytes = &bytes[written.min(bytes.len())..];
        }
        Ok(())
    }

    /// One `WriteFile` of at most [`WRITE_CHUNK`] bytes of `bytes`; the count written.
    fn write_some(&mut self, bytes: &[u8], deadline: Instant) -> io::Result<usize> {
        if self.write_abandoned {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "an earlier write to the agent could not be cancelled; reconnect",
            ));
        }
        // The kernel reads from this copy, not from the caller's bytes: should a write not end even when
        // cancelled, the copy is leaked with its OVERLAPPED instead of being freed under the kernel.
        let buffer: Box<[u8]> = bytes[..bytes.len().min(WRITE_CHUNK)].into();
        *self.write = OVERLAPPED::default();
        self.write.hEvent = self.write_event.0;
        // SAFETY: the buffer and the boxed OVERLAPPED outlive the operation: it ends before this returns, or both
        // are leaked (`abandon_write`).
        let ok = unsafe {
            WriteFile(
                self.pipe.0,
                buffer.as_ptr(),
                buffer.len() as u32,
                ptr::null_mut(),
                &mut *self.write,
            )
        };
        if ok == 0 {
            // SAFETY: no preconditions.
            let code = unsafe { GetLastError() };
            if code != ERROR_IO_PENDING {
                return Err(io::Error::from_raw_os_error(code as i32));
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let waited = (self.wait)(self.write_event.0, millis(Some(remaining)));
            if waited != WAIT_OBJECT_0 {
                // Timed out, or the wait itself failed (WAIT_FAILED): either way the write is still pending.
                // Waiting for it without a bound (as GetOverlappedResult with bWait would) could block for ever.
                let error = if waited == WAIT_TIMEOUT {
                    io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the agent did not take the command in time",
                    )
                } else {
                    io::Error::other(format!(
                        "waiting for the write to the agent failed ({}): the write was cancelled",
                        last_error()
                    ))
                };
                // SAFETY: our own write on this pipe, signalling `write_event`.
                let ended = unsafe {
                    cancel_and_wait(self.pipe.0, &*self.write, self.write_event.0, self.wait)
                };
                if !ended {
                    self.abandon_write(buffer);
                }
                return Err(error);
            }
        }
        let mut written = 0u32;
        // SAFETY: the write has completed (at once, or its event was signalled): collecting it does not wait.
        let ok = unsafe { GetOverlappedResult(self.pipe.0, &*self.write, &mut written, 0) };
        if ok == 0 {
            return Err(last_error());
        }
        if written == 0 {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "the pipe took no bytes",
            ));
        }
        Ok(written as usize)
    }

    /// Leaves a write that would not end to the kernel: its buffer, OVERLAPPED and event are never freed.
    fn abandon_write(&mut self, buffer: Box<[u8]>) {
        std::mem::forget(buffer);
        std::mem::forget(std::mem::replace(
            &mut self.write,
            Box::new(OVERLAPPED::default()),
        ));
        std::mem::forget(std::mem::replace(
            &mut self.write_event,
            OwnedHandle(ptr::null_mut()),
        ));
        self.write_abandoned = true;
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if self.read.pending {
            self.read.pending = false;
            // SAFETY: the outstanding read on this pipe, signalling `read_event`.
            let ended = unsafe {
                cancel_and_wait(
                    self.pipe.0,
                    &self.read.overlapped,
                    self.read_event.0,
                    self.wait,
                )
            };
            if !ended {
                // The kernel may still write into the slot: leak it (and the event it signals) rather than wait.
                let slot = std::mem::replace(
                    &mut self.read,
                    Box::new(ReadSlot {
                        overlapped: OVERLAPPED::default(),
                        buffer: Vec::new(),
                        pending: false,
                    }),
                );
                std::mem::forget(slot);
                std::mem::forget(std::mem::replace(
                    &mut self.read_event,
                    OwnedHandle(ptr::null_mut()),
                ));
            }
        }
    }
}

pub struct AgentPipe {
    wake_event: Arc<OwnedHandle>,
    connection: Option<Connection>,
}

impl PipeOps for AgentPipe {
    fn create() -> io::Result<(Self, Waker)> {
        // Auto-reset: one wake-up per SetEvent burst, cleared by the wait that sees it.
        let wake_event = Arc::new(new_event(false)?);
        Ok((
            AgentPipe {
                wake_event: wake_event.clone(),
                connection: None,
            },
            Waker { event: wake_event },
        ))
    }

    fn open(&mut self, address: &str, timeout: Duration) -> io::Result<()> {
        self.close();
        let wide: Vec<u16> = address.encode_utf16().chain(std::iter::once(0)).collect();
        let deadline = Instant::now() + timeout;
        let pipe = loop {
            // SAFETY: `wide` is NUL-terminated; null security attributes and template are allowed.
            let handle = unsafe {
                CreateFileW(
                    wide.as_ptr(),
                    GENERIC_READ | GENERIC_WRITE,
                    0,
                    ptr::null(),
                    OPEN_EXISTING,
                    FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION,
                    ptr::null_mut(),
                )
            };
            if handle != INVALID_HANDLE_VALUE {
                break OwnedHandle(handle);
            }
            // SAFETY: no preconditions.
            let code = unsafe { GetLastError() };
            let remaining = deadline.saturating_duration_since(Instant::now());
            if code != ERROR_PIPE_BUSY || remaining.is_zero() {
                return Err(io::Error::from_raw_os_error(code as i32));
            }
            // Every instance is busy: wait (bounded) for one to free up, then try again.
            // SAFETY: `wide` is NUL-terminated.
            unsafe { WaitNamedPipeW(wide.as_ptr(), millis(Some(remaining)).max(1)) };
        };
        check_server_user(&pipe)?;
        self.connection = Some(Connection {
            pipe,
            read: Box::new(ReadSlot {
                overlapped: OVERLAPPED::default(),
                buffer: vec![0; READ_CHUNK],
                pending: false,
            }),
            read_event: new_event(true)?,
            write: Box::new(OVERLAPPED::default()),
            write_event: new_event(true)?,
            wait: wait_for_single_object,
            write_abandoned: false,
        });
        Ok(())
    }

    fn close(&mut self) {
        // Drop cancels the outstanding read, then the handles close.
        self.connection = None;
    }

    fn is_open(&self) -> bool {
        self.connection.is_some()
    }

    fn write_all(&mut self, bytes: &[u8], timeout: Duration) -> io::Result<()> {
        match self.connection.as_mut() {
            Some(connection) => connection.write_all(bytes, timeout),
            None => Err(io::Error::new(io::ErrorKind::NotConnected, "not connected")),
        }
    }

    fn wait(&mut self, timeout: Option<Duration>) -> io::Result<Readiness> {
        let wake = self.wake_event.0;
        let Some(connection) = self.connection.as_mut() else {
            // SAFETY: valid event handle.
            unsafe { WaitForSingleObject(wake, millis(timeout)) };
            return Ok(Readiness::Idle);
        };
        if !connection.start_read()? {
            return Ok(Readiness::Closed);
        }
        let handles: [HANDLE; 2] = [connection.read_event.0, wake];
        // SAFETY: both handles are valid events.
        let signalled = unsafe { WaitForMultipleObjects(2, handles.as_ptr(), 0, millis(timeout)) };
        if signalled == WAIT_OBJECT_0 {
            connection.finish_read()
        } else if signalled == WAIT_OBJECT_0 + 1 || signalled == WAIT_TIMEOUT {
            Ok(Readiness::Idle)
        } else {
            Err(last_error())
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
    //! Against a synchronous named-pipe server in a thread (the way a simple agent would be written).
    use super::*;
    use std::sync::mpsc;
    use windows_sys::Win32::Storage::FileSystem::PIPE_ACCESS_DUPLEX;
    use windows_sys::Win32::System::Pipes::{
        ConnectNamedPipe, CreateNamedPipeW, PIPE_READMODE_BYTE, PIPE_TYPE_BYTE, PIPE_WAIT,
    };

    fn pipe_name(tag: &str) -> String {
        format!(r"\\.\pipe\tb-agent-test-{}-{tag}", std::process::id())
    }

    fn server(name: &str) -> OwnedHandle {
        let wide: Vec<u16> = name.encode_utf16().chain(std::iter::once(0)).collect();
        // SAFETY: valid NUL-terminated name, null security attributes.
        let handle = unsafe {
            CreateNamedPipeW(
                wide.as_ptr(),
                PIPE_ACCESS_DUPLEX,
                PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT,
                1,
                65536,
                65536,
                0,
                ptr::null(),
            )
        };
        assert_ne!(
            handle,
            INVALID_HANDLE_VALUE,
            "CreateNamedPipeW: {}",
            last_error()
        );
        OwnedHandle(handle)
    }

    fn read_sync(handle: &OwnedHandle) -> Vec<u8> {
        let mut buffer = vec![0u8; 4096];
        let mut n = 0u32;
        // SAFETY: synchronous read into a live buffer.
        let ok = unsafe {
            ReadFile(
                handle.0,
                buffer.as_mut_ptr(),
                buffer.len() as u32,
                &mut n,
                ptr::null_mut(),
            )
        };
        assert_ne!(ok, 0, "server ReadFile: {}", last_error());
        buffer.truncate(n as usize);
        buffer
    }

    fn write_sync(handle: &OwnedHandle, bytes: &[u8]) {
        let mut n = 0u32;
        // SAFETY: synchronous write from a live buffer.
        let ok = unsafe {
            WriteFile(
                handle.0,
                bytes.as_ptr(),
                bytes.len() as u32,
                &mut n,
                ptr::null_mut(),
            )
        };
        assert_ne!(ok, 0, "server WriteFile: {}", last_error());
    }

    #[test]
    fn a_pending_read_never_blocks_a_write() {
        let name = pipe_name("rw");
        let (ready_tx, ready_rx) = mpsc::channel();
        let (got_tx, got_rx) = mpsc::channel();
        let (reply_tx, reply_rx) = mpsc::channel::<Vec<u8>>();
        let server_name = name.clone();
        let agent = std::thread::spawn(move || {
            let pipe = server(&server_name);
            ready_tx.send(()).unwrap();
            // SAFETY: synchronous connect on our own pipe.
            unsafe { ConnectNamedPipe(pipe.0, ptr::null_mut()) };
            got_tx.send(read_sync(&pipe)).unwrap();
            let reply = reply_rx.recv().unwrap();
            write_sync(&pipe, &reply);
            std::thread::sleep(Duration::from_millis(200));
            drop(pipe); // the agent exits
        });
        ready_rx.recv().unwrap();
        let (mut client, _waker) = AgentPipe::create().unwrap();
        client.open(&name, Duration::from_secs(2)).unwrap();
        // Nothing to read yet: the wait times out with a read left outstanding.
        assert_eq!(
            client.wait(Some(Duration::from_millis(100))).unwrap(),
            Readiness::Idle
        );
        // The write goes out while that read is pending (a synchronous handle would block here).
        let command = br#"<Command Action="EventSubscribe" ID="1" Mode="Softphone" Object="Call" Initiator="Self"></Command>"#;
        client.write_all(command, Duration::from_secs(2)).unwrap();
        assert_eq!(
            got_rx.recv_timeout(Duration::from_secs(5)).unwrap(),
            command.to_vec()
        );
        reply_tx
            .send(b"\x04\x00\x00\x00<\x00/\x00".to_vec())
            .unwrap();
        let mut received = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        let closed = loop {
            assert!(Instant::now() < deadline, "no close seen; got {received:?}");
            match client.wait(Some(Duration::from_millis(100))).unwrap() {
                Readiness::Data(bytes) => received.extend(bytes),
                Readiness::Closed => break true,
                Readiness::Idle => {}
            }
        };
        assert!(closed);
        assert_eq!(received, b"\x04\x00\x00\x00<\x00/\x00".to_vec());
        agent.join().unwrap();
    }

    /// An agent that accepts the connection and never reads, behind one-byte pipe buffers: a large write stays
    /// pending.
    fn deaf_agent(tag: &str) -> (String, std::thread::JoinHandle<()>, mpsc::Sender<()>) {
        let name = pipe_name(tag);
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let server_name = name.clone();
        let agent = std::thread::spawn(move || {
            let wide: Vec<u16> = server_name
                .encode_utf16()
                .chain(std::iter::once(0))
                .collect();
            // SAFETY: valid NUL-terminated name, null security attributes.
            let pipe = OwnedHandle(unsafe {
                CreateNamedPipeW(
                    wide.as_ptr(),
                    PIPE_ACCESS_DUPLEX,
                    PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT,
                    1,
                    1,
                    1,
                    0,
                    ptr::null(),
                )
            });
            ready_tx.send(()).unwrap();
            // SAFETY: synchronous connect on our own pipe.
            unsafe { ConnectNamedPipe(pipe.0, ptr::null_mut()) };
            let _ = stop_rx.recv_timeout(Duration::from_secs(30));
            drop(pipe);
        });
        ready_rx.recv().unwrap();
        (name, agent, stop_tx)
    }

    static FAILED_WAITS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    /// A WaitForSingleObject that fails, as it does on a bad handle (WAIT_FAILED).
    fn failing_wait(_: HANDLE, _: u32) -> u32 {
        FAILED_WAITS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        windows_sys::Win32::Foundation::WAIT_FAILED
    }

    /// Issue 16: when the wait for a pending write failed, `write_all` went on to GetOverlappedResult with
    /// bWait = TRUE, which blocks until the agent reads — for ever, if it never does. Now a failed wait cancels
    /// the write and returns an error at once, and the connection refuses further writes.
    #[test]
    fn a_failed_wait_for_a_write_returns_instead_of_blocking() {
        let (name, agent, stop) = deaf_agent("failwait");
        let (result_tx, result_rx) = mpsc::channel();
        let worker = std::thread::spawn(move || {
            let (mut client, _waker) = AgentPipe::create().unwrap();
            client.open(&name, Duration::from_secs(2)).unwrap();
            client.connection.as_mut().unwrap().wait = failing_wait;
            let first = client.write_all(&vec![b'x'; 256 * 1024], Duration::from_secs(60));
            let second = client.write_all(b"<Command/>", Duration::from_secs(60));
            let _ = result_tx.send((
                first.map_err(|e| e.to_string()),
                second.map_err(|e| e.kind()),
            ));
            client.close();
        });
        let outcome = result_rx.recv_timeout(Duration::from_secs(10));
        let _ = stop.send(());
        let (first, second) = outcome.expect("write_all returned within 10 s");
        assert!(
            FAILED_WAITS.load(std::sync::atomic::Ordering::SeqCst) >= 1,
            "the write was pending and its wait was reached"
        );
        let first = first.expect_err("a failed wait is an error");
        assert!(
            first.contains("waiting for the write to the agent failed"),
            "{first}"
        );
        assert_eq!(second, Err(io::ErrorKind::BrokenPipe));
        worker.join().unwrap();
        agent.join().unwrap();
    }

    /// The ordinary timeout: a write the agent does not take in time is cancelled at the deadline.
    #[test]
    fn a_write_the_agent_does_not_take_ends_at_its_deadline() {
        let (name, agent, stop) = deaf_agent("deadline");
        let (result_tx, result_rx) = mpsc::channel();
        let worker = std::thread::spawn(move || {
            let (mut client, _waker) = AgentPipe::create().unwrap();
            client.open(&name, Duration::from_secs(2)).unwrap();
            let started = Instant::now();
            let result = client.write_all(&vec![b'x'; 256 * 1024], Duration::from_millis(300));
            let _ = result_tx.send((result.map_err(|e| e.kind()), started.elapsed()));
        });
        let outcome = result_rx.recv_timeout(Duration::from_secs(10));
        let _ = stop.send(());
        let (result, took) = outcome.expect("write_all returned within 10 s");
        assert_eq!(result, Err(io::ErrorKind::TimedOut));
        assert!(took < Duration::from_secs(5), "{took:?}");
        worker.join().unwrap();
        agent.join().unwrap();
    }

    #[test]
    fn the_waker_interrupts_a_wait_without_timeout() {
        let (mut pipe, waker) = AgentPipe::create().unwrap();
        let started = Instant::now();
        let wake_later = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            waker.wake();
        });
        assert_eq!(pipe.wait(None).unwrap(), Readiness::Idle);
        assert!(started.elapsed() >= Duration::from_millis(50));
        wake_later.join().unwrap();
    }

    #[test]
    fn opening_a_missing_pipe_fails_at_once() {
        let (mut pipe, _waker) = AgentPipe::create().unwrap();
        let started = Instant::now();
        assert!(pipe
            .open(&pipe_name("missing"), Duration::from_secs(2))
            .is_err());
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(!pipe.is_open());
    }
}
