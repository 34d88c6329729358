//! RaiseTestEvents / СгенерироватьТестовыеСобытия: a background thread that raises numbered
//! `TestEvent`s through the object's event queue, the same way a network worker does. At most one run per
//! object at a time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{AddinError, EventSender};
use crate::present::native;

pub(crate) const MAX_COUNT: f64 = 10_000_000.0;

/// How long Done waits for a test-event thread (the event thread of `crate::events` has the same bound).
const STOP_LIMIT: Duration = Duration::from_millis(500);

#[derive(Default)]
pub struct TestEvents {
    runs: Vec<Run>,
}

struct Run {
    stop: Arc<AtomicBool>,
    /// Set just before the last event is queued, so whoever has seen that event may start the next run.
    over: Arc<AtomicBool>,
    handle: JoinHandle<()>,
    /// Never sent on; disconnected when the thread ends.
    ended: mpsc::Receiver<()>,
}

impl TestEvents {
    pub fn start(&mut self, events: &EventSender, count: f64) -> Result<(), AddinError> {
        if !(0.0..=MAX_COUNT).contains(&count) || count.fract() != 0.0 {
            return Err(native::test_events_count().into());
        }
        self.runs.retain(|run| !run.handle.is_finished());
        // One run at a time per object: a loop calling this faster than the runs finish would otherwise pile
        // up threads, each flooding the same queue.
        if self
            .runs
            .iter()
            .any(|run| !run.over.load(Ordering::Acquire))
        {
            return Err(native::test_events_running().into());
        }
        if count == 0.0 {
            return Ok(());
        }
        let stop = Arc::new(AtomicBool::new(false));
        let events = events.clone();
        let stop_flag = Arc::clone(&stop);
        let over = Arc::new(AtomicBool::new(false));
        let over_flag = Arc::clone(&over);
        let count = count as u64;
        let (ended_tx, ended) = mpsc::channel::<()>();
        let handle = crate::spawn::spawn("tb-test-events", move || {
            let _ended = ended_tx;
            for n in 1..=count {
                if stop_flag.load(Ordering::Relaxed) {
                    break;
                }
                if n == count {
                    over_flag.store(true, Ordering::Release);
                }
                events.send("TestEvent", json!({ "n": n, "count": count }));
            }
        })
        .map_err(|e| AddinError::from(native::thread_refused(&e.to_string())))?;
        self.runs.push(Run {
            stop,
            over,
            handle,
            ended,
        });
        Ok(())
    }

    /// Senders never wait for the platform's buffer, so each thread ends within one loop step — unless that step
    /// is inside the platform's ExternalEvent (the direct path of `crate::events`) and the call hangs: then the
    /// thread is left detached after [`STOP_LIMIT`] (it stops at its next step, and after `close` no send of it
    /// reaches the platform), so Done never hangs on it.
    pub fn stop(&mut self) {
        for run in &self.runs {
            run.stop.store(true, Ordering::Relaxed);
        }
        let until = Instant::now() + STOP_LIMIT;
        for run in self.runs.drain(..) {
            // The thread drops its sender when it ends (also by a panic): Disconnected means finished.
            let left = until.saturating_duration_since(Instant::now());
            if let Err(mpsc::RecvTimeoutError::Disconnected) = run.ended.recv_timeout(left) {
                let _ = run.handle.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::native::ClassContext;

    #[test]
    fn one_run_at_a_time_per_object() {
        let ctx = ClassContext::detached("Test");
        let mut runs = TestEvents::default();
        runs.start(&ctx.events, 5_000_000.0).unwrap();
        let error = runs.start(&ctx.events, 1.0).unwrap_err();
        assert!(error
            .text(crate::native::Lang::En)
            .contains("still being raised"));
        runs.stop();
        // Once the previous run is over, a new one may start.
        runs.start(&ctx.events, 1.0).unwrap();
        runs.stop();
    }
}
