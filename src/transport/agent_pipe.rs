//! The byte channel to the 1C-Connect agent: a Windows named pipe, or a Unix domain socket elsewhere.
//!
//! One worker thread owns an [`AgentPipe`] and is the only one that reads, writes or waits on it; other threads
//! only wake it through a [`Waker`]. The worker never blocks in a read: it waits for "bytes readable or woken or
//! deadline" and then reads what is there, so a write can always go out. On Windows this needs the pipe opened with
//! `FILE_FLAG_OVERLAPPED` (a read pending on a synchronous pipe handle blocks every write on it); see
//! `agent_pipe_windows.rs`.

use std::io;
use std::time::Duration;

#[cfg(unix)]
#[path = "agent_pipe_unix.rs"]
mod platform;
#[cfg(windows)]
#[path = "agent_pipe_windows.rs"]
mod platform;

pub use platform::{AgentPipe, Waker};

/// How much one read takes at most.
pub const READ_CHUNK: usize = 64 * 1024;

/// What [`AgentPipe::wait`] saw.
#[derive(Debug, PartialEq, Eq)]
pub enum Readiness {
    /// Bytes from the agent.
    Data(Vec<u8>),
    /// The agent closed the connection.
    Closed,
    /// Woken by a [`Waker`], the timeout passed, or a spurious wake-up: nothing to read.
    Idle,
}

/// The agent's default endpoint for a 1C-Connect login: the named pipe on Windows (whose server must run as this
/// user, see `agent_pipe_windows.rs`), a socket in this user's private directory elsewhere
/// ([`platform::private_dir`]).
pub fn default_address(login: &str) -> String {
    #[cfg(windows)]
    {
        format!(r"\\.\pipe\BuhphoneAgentAPI2_{login}")
    }
    #[cfg(unix)]
    {
        platform::private_dir()
            .join(format!("BuhphoneAgentAPI2_{login}"))
            .to_string_lossy()
            .into_owned()
    }
}

/// Common shape of both platform implementations (kept as a trait so the compiler checks they agree).
pub trait PipeOps: Sized {
    /// A closed pipe and the waker that interrupts its [`PipeOps::wait`].
    fn create() -> io::Result<(Self, Waker)>;
    /// Connect to the agent at `address`, giving up after `timeout` if the agent is busy.
    fn open(&mut self, address: &str, timeout: Duration) -> io::Result<()>;
    fn close(&mut self);
    fn is_open(&self) -> bool;
    /// Write all of `bytes`, or fail after `timeout` (the agent stopped reading).
    fn write_all(&mut self, bytes: &[u8], timeout: Duration) -> io::Result<()>;
    /// Wait until bytes arrive, the peer closes, the waker fires or `timeout` passes (`None`: no timeout).
    fn wait(&mut self, timeout: Option<Duration>) -> io::Result<Readiness>;
}
