//! The one worker skeleton of the add-in's network threads (started through `crate::spawn`, like every thread of
//! the add-in).
//!
//! A [`Worker`] owns one thread and one [`Job`] (a transport plus its sans-IO core, see the adapters beside this
//! file). The thread repeats: take every command from the inbox, let the job act on its deadlines and write what
//! its core produced, then wait in the job's own waiting primitive until bytes arrive, the next deadline comes or
//! the 1C thread wakes it. A panic inside the job is caught here: the object is marked failed, the job's failure
//! report raises an `Error` event, and every later [`Worker::send`] answers with [`DriverError::Failed`] instead of
//! talking to a thread that is gone. [`Worker::stop`] asks the thread to leave and joins it within a bound.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the 1C thread interrupts the job's wait (a poller's notify, an event handle).
pub trait Wake: Send + Sync + 'static {
    fn wake(&self);
}

/// One transport and its core, driven by a [`Worker`] thread.
pub trait Job: Send + 'static {
    /// What the 1C thread asks of the job.
    type Command: Send + 'static;

    /// Applies one command of the 1C thread.
    fn command(&mut self, command: Self::Command);

    /// Lets the core act on its deadlines and carries out what it produced (writes, opens, events). Returns the
    /// next moment the job must run again without being woken.
    fn drive(&mut self) -> Option<Instant>;

    /// Waits until bytes arrive, the peer closes, the worker is woken or `timeout` passes (`None`: until one of
    /// the others), and hands what arrived to the core.
    fn wait(&mut self, timeout: Option<Duration>);

    /// The object is going away: leave the peer politely and raise no more events.
    fn stop(&mut self);
}

/// What a thread is, in both languages, for the texts of its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Role {
    /// Thread name, as a debugger or `ps -L` shows it.
    pub thread_name: &'static str,
    /// "the agent worker thread".
    pub en: &'static str,
    /// "поток агента" (именительный падеж).
    pub ru: &'static str,
    /// "потока агента" (родительный падеж).
    pub ru_of: &'static str,
}

/// Why the 1C thread could not hand a command to a worker (its texts: `present::driver`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriverError {
    /// The operating system refused a thread (or the waiting primitive it needs).
    Spawn { role: Role, reason: String },
    /// The job panicked; the thread is gone and the object must be created again. The user is shown `code`;
    /// `detail` (the payload, scrubbed of every configured secret) is for the log only.
    Failed {
        role: Role,
        code: String,
        detail: String,
    },
    /// The thread ended without a panic (it was stopped).
    Stopped { role: Role },
}

enum Message<C> {
    Command(C),
    Stop,
}

/// The 1C thread's handle on one worker thread.
pub struct Worker<C: Send + 'static> {
    role: Role,
    inbox: mpsc::Sender<Message<C>>,
    waker: Arc<dyn Wake>,
    thread: Option<JoinHandle<()>>,
    finished: mpsc::Receiver<()>,
    failure: Arc<OnceLock<crate::secrets::PanicReport>>,
}

impl<C: Send + 'static> Worker<C> {
    /// Starts `job` on its own thread. `report` runs on that thread if the job panics, after the object is marked
    /// failed, with the error the next call will see; it raises the class's `Error` event.
    pub fn spawn<J, R>(
        role: Role,
        job: J,
        waker: Arc<dyn Wake>,
        report: R,
    ) -> Result<Self, DriverError>
    where
        J: Job<Command = C>,
        R: FnOnce(&DriverError) + Send + 'static,
    {
        let (inbox, commands) = mpsc::channel();
        let (finished_tx, finished) = mpsc::channel::<()>();
        let failure = Arc::new(OnceLock::new());
        let marked = Arc::clone(&failure);
        let thread = crate::spawn::spawn(role.thread_name, move || {
            let mut job = job;
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                run(&mut job, &commands, role.thread_name)
            }));
            if let Err(payload) = outcome {
                let caught = crate::secrets::panic_report(payload.as_ref());
                let _ = marked.set(caught.clone());
                let error = DriverError::Failed {
                    role,
                    code: caught.code,
                    detail: caught.detail,
                };
                // The report must not unwind either: this thread is the last frame.
                let _ = catch_unwind(AssertUnwindSafe(|| report(&error)));
            }
            drop(finished_tx);
        })
        .map_err(|e| DriverError::Spawn {
            role,
            reason: e.to_string(),
        })?;
        Ok(Worker {
            role,
            inbox,
            waker,
            thread: Some(thread),
            finished,
            failure,
        })
    }

    /// Hands a command to the thread and wakes it; fails if the thread died or was stopped.
    pub fn send(&self, command: C) -> Result<(), DriverError> {
        self.check()?;
        if self.inbox.send(Message::Command(command)).is_err() {
            return Err(self
                .check()
                .err()
                .unwrap_or(DriverError::Stopped { role: self.role }));
        }
        self.waker.wake();
        Ok(())
    }

    /// `Err` once the thread has failed: what the next call on the object reports.
    pub fn check(&self) -> Result<(), DriverError> {
        match self.failure.get() {
            Some(report) => Err(DriverError::Failed {
                role: self.role,
                code: report.code.clone(),
                detail: report.detail.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Whether the thread ended in a panic (for Diagnostics).
    pub fn failed(&self) -> bool {
        self.failure.get().is_some()
    }

    /// Asks the thread to leave and joins it if it finishes within `deadline`. False: it did not, and is left
    /// detached (it then only touches handles that are no-ops without the platform).
    pub fn stop(&mut self, deadline: Duration) -> bool {
        let Some(thread) = self.thread.take() else {
            return true;
        };
        if self.inbox.send(Message::Stop).is_ok() {
            self.waker.wake();
        }
        let finished = !matches!(
            self.finished.recv_timeout(deadline),
            Err(mpsc::RecvTimeoutError::Timeout)
        );
        if finished {
            let _ = thread.join();
        }
        finished
    }
}

impl<C: Send + 'static> Drop for Worker<C> {
    fn drop(&mut self) {
        // Classes stop their workers in `shutdown`; this covers an object dropped without Done.
        self.stop(Duration::from_secs(2));
    }
}

/// The thread's loop; returns on Stop or when the 1C side's handle is gone.
fn run<J: Job>(job: &mut J, commands: &mpsc::Receiver<Message<J::Command>>, name: &str) {
    loop {
        loop {
            match commands.try_recv() {
                Ok(Message::Command(command)) => {
                    crate::fault::maybe_panic(name);
                    job.command(command)
                }
                Ok(Message::Stop) | Err(mpsc::TryRecvError::Disconnected) => {
                    job.stop();
                    return;
                }
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        let next = job.drive();
        let timeout = next.map(|deadline| deadline.saturating_duration_since(Instant::now()));
        job.wait(timeout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    const ROLE: Role = Role {
        thread_name: "tb-test-worker",
        en: "the test worker thread",
        ru: "поток теста",
        ru_of: "потока теста",
    };

    /// Counts commands; panics on a command of 0; waits on a condition-variable-free channel.
    struct Counting {
        seen: Arc<AtomicUsize>,
        stopped: Arc<AtomicUsize>,
        wake: mpsc::Receiver<()>,
    }

    struct ChannelWake(Mutex<mpsc::Sender<()>>);

    impl Wake for ChannelWake {
        fn wake(&self) {
            let _ = self.0.lock().map(|tx| tx.send(()));
        }
    }

    impl Job for Counting {
        type Command = usize;
        fn command(&mut self, command: usize) {
            assert!(command != 0, "command zero");
            self.seen.fetch_add(command, Ordering::SeqCst);
        }
        fn drive(&mut self) -> Option<Instant> {
            None
        }
        fn wait(&mut self, timeout: Option<Duration>) {
            let _ = self
                .wake
                .recv_timeout(timeout.unwrap_or(Duration::from_secs(5)));
        }
        fn stop(&mut self) {
            self.stopped.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn start() -> (
        Worker<usize>,
        Arc<AtomicUsize>,
        Arc<AtomicUsize>,
        mpsc::Receiver<DriverError>,
    ) {
        let (wake_tx, wake) = mpsc::channel();
        let seen = Arc::new(AtomicUsize::new(0));
        let stopped = Arc::new(AtomicUsize::new(0));
        let job = Counting {
            seen: seen.clone(),
            stopped: stopped.clone(),
            wake,
        };
        let (reports_tx, reports) = mpsc::channel();
        let worker = Worker::spawn(
            ROLE,
            job,
            Arc::new(ChannelWake(Mutex::new(wake_tx))),
            move |e| {
                let _ = reports_tx.send(e.clone());
            },
        )
        .unwrap();
        (worker, seen, stopped, reports)
    }

    #[test]
    fn commands_arrive_and_stop_joins() {
        let (mut worker, seen, stopped, reports) = start();
        worker.send(2).unwrap();
        worker.send(3).unwrap();
        assert!(worker.stop(Duration::from_secs(5)));
        assert_eq!(seen.load(Ordering::SeqCst), 5);
        assert_eq!(stopped.load(Ordering::SeqCst), 1);
        assert!(
            reports.try_recv().is_err(),
            "no failure report without a panic"
        );
        assert_eq!(worker.send(1), Err(DriverError::Stopped { role: ROLE }));
    }

    #[test]
    fn a_panic_is_reported_once_and_every_later_send_says_so() {
        let (mut worker, _, stopped, reports) = start();
        worker.send(0).unwrap();
        let report = reports.recv_timeout(Duration::from_secs(5)).unwrap();
        let DriverError::Failed { detail, code, .. } = &report else {
            panic!("{report:?}");
        };
        assert_eq!(detail, "command zero");
        assert_eq!(worker.send(1), Err(report.clone()));
        assert!(worker.failed());
        assert_eq!(code.len(), 8, "{code}");
        assert!(worker.stop(Duration::from_secs(5)));
        assert_eq!(
            stopped.load(Ordering::SeqCst),
            0,
            "a failed job is not stopped again"
        );
    }
}
