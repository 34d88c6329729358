//! The only path to the platform's ExternalEvent.
//!
//! The platform keeps a tiny event buffer (depth 1 until SetEventBufferDepth) and silently
//! drops an event when it is full — ExternalEvent just returns false. So every event first
//! enters this object's own queue, bounded both by count and by total bytes (oldest dropped,
//! counted and announced by the `EventsDropped` event and property; an event larger than the
//! whole byte bound is dropped alone, never queued), and one delivery thread (started through
//! `crate::spawn`) hands them over in order, retrying the head until the platform takes it,
//! backing off to about a second while the platform keeps refusing. Senders never block: they
//! are network worker threads that must keep reading their sockets.
//!
//! The direct path: when nothing waits before it (the queue is empty, no loss is unreported and
//! nobody else is offering an event), the sender offers its event to ExternalEvent itself, on its
//! own thread — the Native API lets the add-in's threads call ExternalEvent, which only puts the
//! event in the platform's buffer or refuses it when the buffer is full. This saves the wake-up
//! of the delivery thread on every publication (docs/development.md, «Замеры»). A refused event
//! goes to the head of the queue and the delivery thread retries it as before. One offer at a
//! time (`State::offering`): a direct offer never overtakes a queued event, nor a queued one a
//! direct one still in flight. `close` waits for an offer in flight, so after it returns nobody
//! calls the platform.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// Events the add-in keeps for the platform before it drops the oldest.
pub const DEFAULT_QUEUE_CAPACITY: usize = 65_536;

/// Bytes (UTF-16 names and Data) the queue holds at most before it drops the oldest, whatever the count:
/// 65 536 events of 1 MiB each would otherwise exhaust a 32-bit client. One event larger than this is not
/// queued at all (dropped and counted): making room for it would drop every other event and still break the
/// bound.
pub const DEFAULT_QUEUE_BYTES: usize = 32 * 1024 * 1024;

/// How long the delivery thread waits before offering a refused event again. Short at first
/// (the client usually drains within a frame), growing to a cap so a busy client costs
/// nothing measurable.
const RETRY_FIRST: Duration = Duration::from_micros(200);
/// A platform that keeps refusing (a modal dialog, a long BSL loop) is offered the head about once a second.
const RETRY_CAP: Duration = Duration::from_secs(1);

/// Where delivered events go: the platform's ExternalEvent, or a test double in unit tests.
pub trait EventSink: Send + Sync + 'static {
    /// All three strings are NUL-terminated UTF-16. False means the platform did not take it.
    fn deliver(&self, source: &[u16], name: &[u16], data: &[u16]) -> bool;
}

struct PendingEvent {
    name: Vec<u16>,
    data: Vec<u16>,
    /// The synthesized EventsDropped notice: counted apart and never re-queued.
    notice: bool,
}

impl PendingEvent {
    fn bytes(&self) -> usize {
        (self.name.len() + self.data.len()) * 2
    }
}

#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventCounters {
    pub queued: usize,
    pub delivered: u64,
    pub refused: u64,
    pub dropped: u64,
    /// Of `dropped`: events larger than the whole byte bound, never queued.
    pub oversized: u64,
    pub capacity: usize,
    pub bytes: usize,
    pub max_bytes: usize,
}

struct State {
    items: VecDeque<PendingEvent>,
    capacity: usize,
    /// Bytes of `items`, kept by `push_back`, `push_front` and `pop_front` only.
    bytes: usize,
    max_bytes: usize,
    delivered: u64,
    refused: u64,
    dropped_total: u64,
    dropped_unreported: u64,
    oversized: u64,
    closed: bool,
    /// Someone (the delivery thread or a sender on the direct path) holds an event outside the lock on its way to
    /// ExternalEvent. Nobody else offers one meanwhile: two offers at once could arrive in either order.
    offering: bool,
    /// The platform, once attached; `None` again after `close`.
    sink: Option<Arc<dyn EventSink>>,
}

impl State {
    fn push_back(&mut self, event: PendingEvent) {
        self.bytes += event.bytes();
        self.items.push_back(event);
    }

    fn push_front(&mut self, event: PendingEvent) {
        self.bytes += event.bytes();
        self.items.push_front(event);
    }

    fn pop_front(&mut self) -> Option<PendingEvent> {
        let event = self.items.pop_front()?;
        self.bytes -= event.bytes();
        Some(event)
    }

    /// Counts one event that never reaches the platform (reported by the next `EventsDropped`).
    fn count_dropped(&mut self) {
        self.dropped_total += 1;
        self.dropped_unreported += 1;
    }

    /// Drops the oldest until `extra` more bytes and one more event fit (`extra == 0`: until the queue is
    /// within its bounds).
    fn make_room(&mut self, extra: usize) {
        let slots = usize::from(extra > 0);
        while !self.items.is_empty()
            && (self.items.len() + slots > self.capacity || self.bytes + extra > self.max_bytes)
        {
            self.pop_front();
            self.count_dropped();
        }
    }

    /// The platform, when a sender may offer its event itself: nothing waits before it (no queued event, no
    /// unreported loss) and nobody is offering one. Takes the turn (`offering`); the caller gives it back.
    fn take_direct_turn(&mut self) -> Option<Arc<dyn EventSink>> {
        if self.closed || self.offering || !self.items.is_empty() || self.dropped_unreported > 0 {
            return None;
        }
        let sink = self.sink.clone()?;
        self.offering = true;
        Some(sink)
    }

    /// Keeps an event the platform refused as the oldest one (it is: nothing was offered after it), or counts it
    /// dropped when the queue is full.
    fn requeue_refused(&mut self, event: PendingEvent) {
        if self.items.len() >= self.capacity || self.bytes + event.bytes() > self.max_bytes {
            // The refused event is the oldest one, so it is the one that overflow drops.
            self.count_dropped();
        } else {
            self.push_front(event);
        }
    }
}

/// The turn to offer an event (`State::offering`), given back when dropped — also when the platform call
/// panics, so a panic neither stops delivery for good nor keeps `close` waiting.
struct Turn<'a> {
    inner: &'a Inner,
    held: bool,
}

impl Turn<'_> {
    /// Gives the turn back under the caller's lock.
    fn release(mut self, state: &mut State) {
        state.offering = false;
        self.held = false;
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if self.held {
            self.inner.state.lock().offering = false;
            self.inner.wake.notify_all();
            self.inner.turn_free.notify_all();
        }
    }
}

struct Inner {
    source: Vec<u16>,
    state: Mutex<State>,
    /// The delivery thread waits here for events (and for the turn).
    wake: Condvar,
    /// `close` waits here for an offer in flight.
    turn_free: Condvar,
    worker: Mutex<Option<(JoinHandle<()>, mpsc::Receiver<()>)>>,
    worker_started: AtomicBool,
}

/// The per-object event queue. Cheap to clone; clones share the queue.
#[derive(Clone)]
pub struct EventQueue {
    inner: Arc<Inner>,
}

fn utf16z(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

impl EventQueue {
    /// `source` is the ExternalEvent Source, e.g. `TelephonyBridge.Centrifugo`.
    pub fn new(source: &str) -> Self {
        EventQueue {
            inner: Arc::new(Inner {
                source: utf16z(source),
                state: Mutex::new(State {
                    items: VecDeque::new(),
                    capacity: DEFAULT_QUEUE_CAPACITY,
                    bytes: 0,
                    max_bytes: DEFAULT_QUEUE_BYTES,
                    delivered: 0,
                    refused: 0,
                    dropped_total: 0,
                    dropped_unreported: 0,
                    oversized: 0,
                    closed: false,
                    offering: false,
                    sink: None,
                }),
                wake: Condvar::new(),
                turn_free: Condvar::new(),
                worker: Mutex::new(None),
                worker_started: AtomicBool::new(false),
            }),
        }
    }

    /// Connects the queue to the platform. Events sent before this wait in the queue.
    pub fn attach(&self, sink: Arc<dyn EventSink>) {
        let waiting = {
            let mut state = self.inner.state.lock();
            state.sink = Some(sink);
            !state.items.is_empty() || state.dropped_unreported > 0
        };
        if waiting {
            self.ensure_worker();
        }
    }

    /// Offers an event to the platform at once when nothing waits before it (the direct path, see the module
    /// docs), else queues it. Never waits for the platform's buffer; a no-op after `close`. An event larger
    /// than the byte bound is dropped and counted instead (the queue keeps what it holds).
    pub fn send(&self, name: &str, data: &serde_json::Value) {
        let event = PendingEvent {
            name: utf16z(name),
            data: utf16z(&data.to_string()),
            notice: false,
        };
        let direct = {
            let mut state = self.inner.state.lock();
            if state.closed {
                return;
            }
            if event.bytes() > state.max_bytes {
                state.oversized += 1;
                state.count_dropped();
                None
            } else if let Some(sink) = state.take_direct_turn() {
                Some((sink, event))
            } else {
                // The oldest go first: a fresh "ringing" matters more than a stale one.
                state.make_room(event.bytes());
                state.push_back(event);
                None
            }
        };
        match direct {
            Some((sink, event)) => self.offer_directly(sink.as_ref(), event),
            None => {
                self.inner.wake.notify_one();
                self.ensure_worker();
            }
        }
    }

    /// The direct path: this thread holds the turn, so the event is the next one in order whatever the outcome.
    fn offer_directly(&self, sink: &dyn EventSink, event: PendingEvent) {
        let turn = Turn {
            inner: &self.inner,
            held: true,
        };
        let accepted = sink.deliver(&self.inner.source, &event.name, &event.data);
        let waiting = {
            let mut state = self.inner.state.lock();
            turn.release(&mut state);
            if accepted {
                state.delivered += 1;
            } else {
                state.refused += 1;
                if !state.closed {
                    state.requeue_refused(event);
                }
            }
            !state.items.is_empty() || state.dropped_unreported > 0
        };
        self.inner.turn_free.notify_all();
        // The delivery thread is woken only when there is something for it: a refused event, or what other
        // senders queued while this offer was in flight.
        if waiting {
            self.inner.wake.notify_one();
            self.ensure_worker();
        }
    }

    pub fn set_capacity(&self, capacity: usize) {
        let mut state = self.inner.state.lock();
        state.capacity = capacity.max(1);
        state.make_room(0);
    }

    /// The byte bound (at least 64 KiB); the oldest go if the queue already holds more.
    pub fn set_max_bytes(&self, max_bytes: usize) {
        let mut state = self.inner.state.lock();
        state.max_bytes = max_bytes.max(64 * 1024);
        state.make_room(0);
    }

    pub fn counters(&self) -> EventCounters {
        let state = self.inner.state.lock();
        EventCounters {
            queued: state.items.len(),
            delivered: state.delivered,
            refused: state.refused,
            dropped: state.dropped_total,
            oversized: state.oversized,
            capacity: state.capacity,
            bytes: state.bytes,
            max_bytes: state.max_bytes,
        }
    }

    /// Stops delivery for good and joins the delivery thread within `deadline`. After this
    /// returns nothing calls the platform, unless a platform call hung past the deadline
    /// (then the thread is left detached and still never makes another call).
    pub fn close(&self, deadline: Duration) -> bool {
        let until = Instant::now() + deadline;
        let offer_ended = {
            let mut state = self.inner.state.lock();
            state.closed = true;
            state.items.clear();
            state.bytes = 0;
            // A sender on the direct path may be inside ExternalEvent now: it is waited for (it makes no other
            // call once `closed` is set). Bounded like the join below, should a platform call hang.
            let turn_free = &self.inner.turn_free;
            while state.offering && !turn_free.wait_until(&mut state, until).timed_out() {}
            !state.offering
        };
        self.inner.wake.notify_all();
        let worker = self.inner.worker.lock().take();
        let joined = match worker {
            None => true,
            Some((handle, finished)) => {
                match finished.recv_timeout(until.saturating_duration_since(Instant::now())) {
                    Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                        let _ = handle.join();
                        true
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => false,
                }
            }
        };
        self.inner.state.lock().sink = None;
        joined && offer_ended
    }

    fn ensure_worker(&self) {
        if self.inner.worker_started.load(Ordering::Acquire) {
            return;
        }
        let Some(sink) = self.inner.state.lock().sink.clone() else {
            return;
        };
        let mut slot = self.inner.worker.lock();
        if self.inner.worker_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let inner = Arc::clone(&self.inner);
        let (finished_tx, finished_rx) = mpsc::channel();
        let spawned = crate::spawn::spawn("tb-events", move || {
            deliver_loop(&inner, sink.as_ref());
            let _ = finished_tx.send(());
        });
        match spawned {
            Ok(handle) => *slot = Some((handle, finished_rx)),
            // Out of threads: leave the events queued; the next send tries again.
            Err(_) => self.inner.worker_started.store(false, Ordering::Release),
        }
    }
}

fn dropped_notice(count: u64, total: u64) -> PendingEvent {
    PendingEvent {
        name: utf16z("EventsDropped"),
        data: utf16z(&serde_json::json!({ "count": count, "total": total }).to_string()),
        notice: true,
    }
}

fn deliver_loop(inner: &Inner, sink: &dyn EventSink) {
    let mut retry = RETRY_FIRST;
    loop {
        let mut state = inner.state.lock();
        while (state.offering || (state.items.is_empty() && state.dropped_unreported == 0))
            && !state.closed
        {
            inner.wake.wait(&mut state);
        }
        if state.closed {
            return;
        }
        // The notice about dropped events goes before the survivors: they came after the loss.
        let notice = (state.dropped_unreported > 0)
            .then(|| dropped_notice(state.dropped_unreported, state.dropped_total));
        let reported = state.dropped_unreported;
        let taken = match notice {
            Some(notice) => notice,
            None => match state.pop_front() {
                Some(event) => event,
                None => continue,
            },
        };
        state.offering = true;
        drop(state);
        let turn = Turn { inner, held: true };

        let accepted = sink.deliver(&inner.source, &taken.name, &taken.data);

        let mut state = inner.state.lock();
        turn.release(&mut state);
        inner.turn_free.notify_all();
        if accepted {
            retry = RETRY_FIRST;
            if taken.notice {
                state.dropped_unreported -= reported.min(state.dropped_unreported);
            } else {
                state.delivered += 1;
            }
            continue;
        }
        state.refused += 1;
        if !taken.notice {
            if state.closed {
                return;
            }
            state.requeue_refused(taken);
        }
        // New events do not cut the pause short (a flood would otherwise be offered at its own rate); only
        // close does.
        let until = Instant::now() + retry;
        while !state.closed && !inner.wake.wait_until(&mut state, until).timed_out() {}
        retry = (retry * 2).min(RETRY_CAP);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A platform buffer of fixed depth, drained by the test when it chooses to be idle.
    struct Buffer {
        depth: usize,
        items: Mutex<Vec<(String, String)>>,
        drained: Mutex<Vec<(String, String)>>,
    }

    impl EventSink for Buffer {
        fn deliver(&self, _source: &[u16], name: &[u16], data: &[u16]) -> bool {
            let mut items = self.items.lock();
            if items.len() >= self.depth {
                return false;
            }
            let text = |s: &[u16]| String::from_utf16_lossy(&s[..s.len() - 1]);
            items.push((text(name), text(data)));
            true
        }
    }

    impl Buffer {
        fn drain(&self) {
            let taken: Vec<_> = self.items.lock().drain(..).collect();
            self.drained.lock().extend(taken);
        }
    }

    fn wait_for(buffer: &Buffer, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while buffer.drained.lock().len() < count && Instant::now() < deadline {
            buffer.drain();
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn events_refused_by_a_full_buffer_arrive_in_order() {
        let buffer = Arc::new(Buffer {
            depth: 1,
            items: Mutex::new(Vec::new()),
            drained: Mutex::new(Vec::new()),
        });
        let queue = EventQueue::new("TelephonyBridge.Test");
        queue.attach(buffer.clone());
        for i in 0..500 {
            queue.send("Tick", &serde_json::json!({ "n": i }));
        }
        wait_for(&buffer, 500);
        let drained = buffer.drained.lock();
        assert_eq!(drained.len(), 500);
        for (i, (name, data)) in drained.iter().enumerate() {
            assert_eq!(name, "Tick");
            assert_eq!(data, &format!("{{\"n\":{i}}}"));
        }
        drop(drained);
        assert!(queue.close(Duration::from_secs(2)));
    }

    #[test]
    fn overflow_drops_the_oldest_and_says_how_many() {
        let buffer = Arc::new(Buffer {
            depth: 1,
            items: Mutex::new(Vec::new()),
            drained: Mutex::new(Vec::new()),
        });
        let queue = EventQueue::new("TelephonyBridge.Test");
        queue.set_capacity(10);
        for i in 0..25 {
            queue.send("Tick", &serde_json::json!({ "n": i }));
        }
        // Attached only now, so nothing was delivered while the 25 were queued.
        queue.attach(buffer.clone());
        wait_for(&buffer, 11);
        let drained = buffer.drained.lock().clone();
        assert_eq!(drained[0].0, "EventsDropped");
        assert_eq!(drained[0].1, "{\"count\":15,\"total\":15}");
        let ticks: Vec<_> = drained[1..].iter().map(|(_, d)| d.clone()).collect();
        let expected: Vec<_> = (15..25).map(|i| format!("{{\"n\":{i}}}")).collect();
        assert_eq!(ticks, expected);
        assert_eq!(queue.counters().dropped, 15);
        assert!(queue.close(Duration::from_secs(2)));
    }

    #[test]
    fn nothing_is_delivered_after_close() {
        let buffer = Arc::new(Buffer {
            depth: 1000,
            items: Mutex::new(Vec::new()),
            drained: Mutex::new(Vec::new()),
        });
        let queue = EventQueue::new("TelephonyBridge.Test");
        queue.attach(buffer.clone());
        assert!(queue.close(Duration::from_secs(2)));
        queue.send("Late", &serde_json::json!({}));
        std::thread::sleep(Duration::from_millis(20));
        assert!(buffer.items.lock().is_empty());
    }

    #[test]
    fn the_byte_bound_drops_the_oldest_whatever_the_count() {
        let buffer = Arc::new(Buffer {
            depth: 1,
            items: Mutex::new(Vec::new()),
            drained: Mutex::new(Vec::new()),
        });
        let queue = EventQueue::new("TelephonyBridge.Test");
        queue.set_max_bytes(1024 * 1024);
        // 40 events of about 128 KiB in UTF-16: five times the bound, far below the count bound.
        let big = "x".repeat(64 * 1024);
        for i in 0..40 {
            queue.send("Big", &serde_json::json!({ "n": i, "pad": big }));
            assert!(queue.counters().bytes <= 1024 * 1024);
        }
        let counters = queue.counters();
        assert!(counters.queued < 10, "{counters:?}");
        assert_eq!(counters.dropped as usize, 40 - counters.queued);
        queue.attach(buffer.clone());
        wait_for(&buffer, 1 + counters.queued);
        let drained = buffer.drained.lock().clone();
        assert_eq!(drained[0].0, "EventsDropped");
        assert_eq!(
            drained[0].1,
            format!("{{\"count\":{0},\"total\":{0}}}", counters.dropped)
        );
        let last: serde_json::Value = serde_json::from_str(&drained.last().unwrap().1).unwrap();
        assert_eq!(last["n"], 39, "the newest survive");
        assert_eq!(queue.counters().bytes, 0);
        assert!(queue.close(Duration::from_secs(2)));
    }

    /// Issue 16: one event over the byte bound used to drop every queued event to make room and was then queued
    /// anyway, over the bound. Now it alone is dropped, counted and reported; the others stay and arrive.
    #[test]
    fn an_event_larger_than_the_byte_bound_is_dropped_alone_and_counted() {
        let buffer = Arc::new(Buffer {
            depth: 1,
            items: Mutex::new(Vec::new()),
            drained: Mutex::new(Vec::new()),
        });
        let queue = EventQueue::new("TelephonyBridge.Test");
        queue.set_max_bytes(64 * 1024);
        for i in 0..3 {
            queue.send("Small", &serde_json::json!({ "n": i }));
        }
        // 40 000 characters are 80 000 bytes in UTF-16: over the 64 KiB bound on its own.
        let huge = "x".repeat(40_000);
        queue.send("Huge", &serde_json::json!({ "pad": huge }));
        let counters = queue.counters();
        assert_eq!(counters.queued, 3, "the others stay: {counters:?}");
        assert!(counters.bytes <= counters.max_bytes, "{counters:?}");
        assert_eq!((counters.dropped, counters.oversized), (1, 1));
        queue.send("Small", &serde_json::json!({ "n": 3 }));
        queue.attach(buffer.clone());
        wait_for(&buffer, 5);
        let drained = buffer.drained.lock().clone();
        assert_eq!(
            drained[0],
            ("EventsDropped".into(), "{\"count\":1,\"total\":1}".into())
        );
        let rest: Vec<_> = drained[1..]
            .iter()
            .map(|(n, d)| format!("{n} {d}"))
            .collect();
        let expected: Vec<_> = (0..4).map(|i| format!("Small {{\"n\":{i}}}")).collect();
        assert_eq!(rest, expected);
        assert!(queue.close(Duration::from_secs(2)));
    }

    /// A platform that refuses while `refusing` is set and otherwise takes every event, recording which thread
    /// offered it: the sender's own (the direct path) or the delivery thread (`tb-events`, the queued path).
    struct Flaky {
        refusing: AtomicBool,
        taken: Mutex<Vec<(u64, bool)>>,
    }

    impl EventSink for Flaky {
        fn deliver(&self, _: &[u16], _: &[u16], data: &[u16]) -> bool {
            if self.refusing.load(Ordering::SeqCst) {
                return false;
            }
            let text = String::from_utf16_lossy(&data[..data.len() - 1]);
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let queued = std::thread::current().name() == Some("tb-events");
            self.taken
                .lock()
                .push((value["n"].as_u64().unwrap(), queued));
            true
        }
    }

    /// Ordering across the two paths: while the platform refuses, events queue; once it accepts again, a new
    /// event must not be offered directly before the queued ones (no overtaking), and a refused direct offer is
    /// retried first. Each event arrives once, in order, and both paths were taken.
    #[test]
    fn direct_and_queued_offers_arrive_once_each_in_order() {
        let sink = Arc::new(Flaky {
            refusing: AtomicBool::new(false),
            taken: Mutex::new(Vec::new()),
        });
        let queue = EventQueue::new("TelephonyBridge.Test");
        queue.attach(sink.clone());
        const COUNT: u64 = 3000;
        for n in 0..COUNT {
            // Refuses for a while, then accepts, again and again: 30 events refused, 70 offered while accepting.
            sink.refusing.store(n % 100 < 30, Ordering::SeqCst);
            queue.send("Tick", &serde_json::json!({ "n": n }));
            if n % 10 == 0 {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        sink.refusing.store(false, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(20);
        while (sink.taken.lock().len() as u64) < COUNT && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(queue.close(Duration::from_secs(2)));
        let taken = sink.taken.lock().clone();
        let order: Vec<u64> = taken.iter().map(|(n, _)| *n).collect();
        let first_wrong = order.iter().enumerate().find(|(i, n)| *i as u64 != **n);
        assert!(
            first_wrong.is_none() && order.len() as u64 == COUNT,
            "{} events taken, first out of place: {first_wrong:?}",
            order.len()
        );
        let queued = taken.iter().filter(|(_, queued)| *queued).count();
        assert!(queued > 0, "the queued path was never taken");
        assert!(queued < taken.len(), "the direct path was never taken");
        let counters = queue.counters();
        assert!(counters.refused > 0);
        assert_eq!(counters.delivered, COUNT);
    }

    /// A platform call that waits until the test lets it go, to hold a direct offer in flight.
    struct Held {
        entered: Mutex<bool>,
        entered_cv: Condvar,
        release: Mutex<bool>,
        release_cv: Condvar,
        calls: std::sync::atomic::AtomicU64,
    }

    impl Held {
        fn new() -> Self {
            Held {
                entered: Mutex::new(false),
                entered_cv: Condvar::new(),
                release: Mutex::new(false),
                release_cv: Condvar::new(),
                calls: Default::default(),
            }
        }

        fn wait_entered(&self) {
            let mut entered = self.entered.lock();
            while !*entered {
                self.entered_cv.wait(&mut entered);
            }
        }

        fn let_go(&self) {
            *self.release.lock() = true;
            self.release_cv.notify_all();
        }
    }

    impl EventSink for Held {
        fn deliver(&self, _: &[u16], _: &[u16], _: &[u16]) -> bool {
            self.calls.fetch_add(1, Ordering::SeqCst);
            *self.entered.lock() = true;
            self.entered_cv.notify_all();
            let mut release = self.release.lock();
            while !*release {
                self.release_cv.wait(&mut release);
            }
            true
        }
    }

    /// Done while a worker is inside ExternalEvent on the direct path: close waits for that call (after it
    /// returns nobody is in the platform), is bounded if the call hangs, and nothing is offered afterwards.
    #[test]
    fn close_waits_for_a_direct_offer_in_flight_and_no_longer_than_its_deadline() {
        let sink = Arc::new(Held::new());
        let queue = EventQueue::new("TelephonyBridge.Test");
        queue.attach(sink.clone());
        let sender = {
            let queue = queue.clone();
            std::thread::spawn(move || queue.send("Held", &serde_json::json!({})))
        };
        sink.wait_entered();
        // The offer hangs: close gives up at its deadline and says so.
        let started = Instant::now();
        assert!(!queue.close(Duration::from_millis(100)));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(100), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        // A second close while the call is still in flight waits for it to return.
        let closer = {
            let queue = queue.clone();
            std::thread::spawn(move || queue.close(Duration::from_secs(10)))
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            !closer.is_finished(),
            "close returned while ExternalEvent was running"
        );
        sink.let_go();
        assert!(closer.join().unwrap());
        sender.join().unwrap();
        queue.send("Late", &serde_json::json!({}));
        assert_eq!(sink.calls.load(Ordering::SeqCst), 1);
    }

    /// Panics once inside the platform call, then takes everything.
    struct PanicsOnce(AtomicBool, Mutex<Vec<String>>);

    impl EventSink for PanicsOnce {
        fn deliver(&self, _: &[u16], name: &[u16], _: &[u16]) -> bool {
            if !self.0.swap(true, Ordering::SeqCst) {
                panic!("planted panic inside ExternalEvent");
            }
            self.1
                .lock()
                .push(String::from_utf16_lossy(&name[..name.len() - 1]));
            true
        }
    }

    /// A panic inside a direct offer unwinds to the sender (whose thread catches it, as `driver::worker` does)
    /// without keeping the turn: later events are still delivered and close does not wait.
    #[test]
    fn a_panic_inside_a_direct_offer_gives_the_turn_back() {
        let sink = Arc::new(PanicsOnce(AtomicBool::new(false), Mutex::new(Vec::new())));
        let queue = EventQueue::new("TelephonyBridge.Test");
        queue.attach(sink.clone());
        let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            queue.send("Lost", &serde_json::json!({}))
        }));
        assert!(first.is_err());
        queue.send("After", &serde_json::json!({}));
        assert_eq!(*sink.1.lock(), vec!["After".to_string()]);
        let started = Instant::now();
        assert!(queue.close(Duration::from_secs(2)));
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    /// Counts offers; takes none.
    struct Refusing(std::sync::atomic::AtomicU64);

    impl EventSink for Refusing {
        fn deliver(&self, _: &[u16], _: &[u16], _: &[u16]) -> bool {
            self.0.fetch_add(1, Ordering::SeqCst);
            false
        }
    }

    #[test]
    fn a_platform_that_keeps_refusing_is_offered_the_head_about_once_a_second() {
        let sink = Arc::new(Refusing(Default::default()));
        let queue = EventQueue::new("TelephonyBridge.Test");
        queue.attach(sink.clone());
        // A worker keeps raising events meanwhile, one every 10 ms.
        let started = Instant::now();
        let mut sent = 0;
        while started.elapsed() < Duration::from_secs(3) {
            queue.send("Tick", &serde_json::json!({ "n": sent }));
            sent += 1;
            std::thread::sleep(Duration::from_millis(10));
        }
        // The doubling from 200 µs reaches 1 s after 13 offers; three seconds allow a couple more. With the
        // old 20 ms cap this was some 150, and each new event cut the pause short.
        let offers = sink.0.load(Ordering::SeqCst);
        assert!(offers <= 18, "{offers} offers in 3 s");
        assert!(offers >= 2, "{offers}");
        assert_eq!(queue.counters().queued, sent, "the refused events are kept");
        assert!(queue.close(Duration::from_secs(2)));
    }
}
