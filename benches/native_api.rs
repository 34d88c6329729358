//! Cost of the Native API layer: a call and a property read through the real entry points of
//! the built library, and an event's way from a background thread to an idle host.
//! Run: `cargo bench --bench native_api`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use addin_host::{Host, Val};
use criterion::{criterion_group, criterion_main, Criterion};
use telephony_bridge::events::{EventQueue, EventSink};

fn entry_points(c: &mut Criterion) {
    let host = Host::load_default();
    let object = host.create("Centrifugo");
    let capacity = object.find_prop("EventQueueCapacity").unwrap();
    let raise = object.find_method("RaiseTestEvents").unwrap();

    c.bench_function("property read, number (GetPropVal)", |b| {
        b.iter(|| object.get_unchecked(capacity).unwrap())
    });
    c.bench_function(
        "property read by name (FindProp + IsPropReadable + GetPropVal)",
        |b| b.iter(|| object.get("EventQueueCapacity").unwrap()),
    );
    c.bench_function("trivial method call (CallAsProc, 1 number arg)", |b| {
        b.iter(|| object.call_index(raise, &[Val::Int(0)], false).unwrap())
    });
    c.bench_function("property read, string (Version)", |b| {
        b.iter(|| object.get("Version").unwrap())
    });
}

/// The host side of ExternalEvent: an idle client that takes an event as soon as it comes.
#[derive(Default)]
struct IdleHost {
    delivered: AtomicU64,
    delivered_at: Mutex<Option<Instant>>,
}

impl EventSink for IdleHost {
    fn deliver(&self, _source: &[u16], _name: &[u16], _data: &[u16]) -> bool {
        *self.delivered_at.lock().unwrap() = Some(Instant::now());
        self.delivered.fetch_add(1, Ordering::Release);
        true
    }
}

/// From `send` on a worker thread (timestamped there, so the worker's own wake-up is not
/// counted) to the platform's ExternalEvent receiving it.
fn event_latency(c: &mut Criterion) {
    let host = Arc::new(IdleHost::default());
    let queue = EventQueue::new("TelephonyBridge.Bench");
    queue.attach(host.clone());
    let sent_at = Arc::new(Mutex::new(None::<Instant>));
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let sender_queue = queue.clone();
    let sender_sent_at = Arc::clone(&sent_at);
    let sender = std::thread::spawn(move || {
        let data = serde_json::json!({"channel": "calls:#101", "data": {"phone": "+79001234567"}});
        while rx.recv().is_ok() {
            *sender_sent_at.lock().unwrap() = Some(Instant::now());
            sender_queue.send("Publication", &data);
        }
    });
    c.bench_function(
        "event: worker thread send -> ExternalEvent (idle host)",
        |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let before = host.delivered.load(Ordering::Acquire);
                    tx.send(()).unwrap();
                    while host.delivered.load(Ordering::Acquire) == before {
                        std::hint::spin_loop();
                    }
                    let sent = sent_at.lock().unwrap().unwrap();
                    let got = host.delivered_at.lock().unwrap().unwrap();
                    total += got.saturating_duration_since(sent);
                }
                total
            })
        },
    );
    drop(tx);
    sender.join().unwrap();
    queue.close(Duration::from_secs(1));
}

criterion_group!(benches, entry_points, event_latency);
criterion_main!(benches);
