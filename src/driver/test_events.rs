//! RaiseTestEvents / СгенерироватьТестовыеСобытия: a background thread that raises numbered
//! `TestEvent`s through the object's event queue, the same way a network worker does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde_json::json;

use crate::native::{AddinError, EventSender};

const MAX_COUNT: f64 = 10_000_000.0;

#[derive(Default)]
pub struct TestEvents {
    runs: Vec<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl TestEvents {
    pub fn start(&mut self, events: &EventSender, count: f64) -> Result<(), AddinError> {
        if !(0.0..=MAX_COUNT).contains(&count) || count.fract() != 0.0 {
            return Err(AddinError::new(
                "parameter 1 (Count) must be a whole Number from 0 to 10000000",
                "параметр 1 (Количество) должен быть целым Числом от 0 до 10000000",
            ));
        }
        self.runs.retain(|(_, handle)| !handle.is_finished());
        if count == 0.0 {
            return Ok(());
        }
        let stop = Arc::new(AtomicBool::new(false));
        let events = events.clone();
        let stop_flag = Arc::clone(&stop);
        let count = count as u64;
        let handle = super::spawn("tb-test-events", move || {
            for n in 1..=count {
                if stop_flag.load(Ordering::Relaxed) {
                    return;
                }
                events.send("TestEvent", json!({ "n": n, "count": count }));
            }
        })
        .map_err(|e| {
            AddinError::new(
                format!("cannot start a thread: {e}"),
                format!("не удалось запустить поток: {e}"),
            )
        })?;
        self.runs.push((stop, handle));
        Ok(())
    }

    /// Senders never block, so each thread ends within one loop step.
    pub fn stop(&mut self) {
        for (stop, _) in &self.runs {
            stop.store(true, Ordering::Relaxed);
        }
        for (_, handle) in self.runs.drain(..) {
            let _ = handle.join();
        }
    }
}
