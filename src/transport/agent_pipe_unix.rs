//! Unix domain socket transport (Linux/macOS): non-blocking socket, readiness through `polling` (epoll/kqueue),
//! wake-ups through the poller's own notifier.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Duration;

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

    fn open(&mut self, address: &str, _timeout: Duration) -> io::Result<()> {
        // A local socket connect either succeeds or fails at once; there is no busy state to wait out.
        self.close();
        let stream = UnixStream::connect(address)?;
        stream.set_nonblocking(true)?;
        // SAFETY: the stream is deleted from the poller in `close` before it is dropped.
        unsafe {
            self.poller
                .add_with_mode(&stream, Event::readable(CONNECTION_KEY), PollMode::Level)?;
        }
        self.stream = Some(stream);
        Ok(())
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
        // Only this thread touches the socket, so a blocking write with a timeout is simplest here.
        stream.set_nonblocking(false)?;
        stream.set_write_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        let written = stream.write_all(bytes);
        stream.set_nonblocking(true)?;
        written
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

impl Drop for AgentPipe {
    fn drop(&mut self) {
        self.close();
    }
}
