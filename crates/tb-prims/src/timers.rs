//! A table of deadlines keyed by the core's own timer enum: a core keeps all of its timers here, so
//! `next_timeout()` is one call and no timer can be forgotten there.
//!
//! Linear in the number of armed timers on purpose: a core arms a handful (ping, reconnect, token
//! refresh, one per pending request under a capped limit), and a `Vec` keeps the order of arming, so
//! timers that expire at the same instant fire in the order they were set — tests replay exactly.

use std::time::Instant;

/// Deadlines by key; at most one deadline per key.
#[derive(Debug, Clone)]
pub struct Timers<K> {
    armed: Vec<(K, Instant)>,
}

impl<K> Default for Timers<K> {
    fn default() -> Self {
        Timers { armed: Vec::new() }
    }
}

impl<K: PartialEq + Clone> Timers<K> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Arms `key` at `at`, replacing its previous deadline.
    pub fn set(&mut self, key: K, at: Instant) {
        match self.armed.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = at,
            None => self.armed.push((key, at)),
        }
    }

    /// Arms `key` at `at`, or disarms it when `at` is `None`.
    pub fn arm(&mut self, key: K, at: Option<Instant>) {
        match at {
            Some(at) => self.set(key, at),
            None => {
                self.clear(&key);
            }
        }
    }

    /// Disarms `key`; returns the deadline it had.
    pub fn clear(&mut self, key: &K) -> Option<Instant> {
        let index = self.armed.iter().position(|(k, _)| k == key)?;
        Some(self.armed.remove(index).1)
    }

    /// Disarms every key `keep` rejects.
    pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        self.armed.retain(|(k, _)| keep(k));
    }

    pub fn clear_all(&mut self) {
        self.armed.clear();
    }

    pub fn get(&self, key: &K) -> Option<Instant> {
        self.armed.iter().find(|(k, _)| k == key).map(|(_, at)| *at)
    }

    pub fn is_armed(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    /// `key` is armed and due at `now`.
    pub fn is_due(&self, key: &K, now: Instant) -> bool {
        self.get(key).is_some_and(|at| at <= now)
    }

    /// The earliest deadline of all.
    pub fn next(&self) -> Option<Instant> {
        self.armed.iter().map(|(_, at)| *at).min()
    }

    /// Disarms and returns the first key (in arming order) that is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<K> {
        let index = self.armed.iter().position(|(_, at)| *at <= now)?;
        Some(self.armed.remove(index).0)
    }

    /// Armed keys in arming order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.armed.iter().map(|(k, _)| k)
    }

    pub fn len(&self) -> usize {
        self.armed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.armed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[derive(Debug, Clone, PartialEq)]
    enum Timer {
        Ping,
        Reply(u32),
    }

    #[test]
    fn earliest_wins_and_due_timers_pop_in_arming_order() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut timers = Timers::new();
        timers.set(Timer::Reply(1), t0 + s(5));
        timers.set(Timer::Ping, t0 + s(30));
        timers.set(Timer::Reply(2), t0 + s(5));
        assert_eq!(timers.next(), Some(t0 + s(5)));
        timers.set(Timer::Ping, t0 + s(1));
        assert_eq!(timers.next(), Some(t0 + s(1)));
        assert_eq!(timers.len(), 3);
        assert_eq!(timers.pop_due(t0), None);
        assert_eq!(timers.pop_due(t0 + s(5)), Some(Timer::Reply(1)));
        assert_eq!(timers.pop_due(t0 + s(5)), Some(Timer::Ping));
        assert!(timers.is_due(&Timer::Reply(2), t0 + s(5)));
        assert_eq!(timers.clear(&Timer::Reply(2)), Some(t0 + s(5)));
        timers.arm(Timer::Ping, Some(t0));
        assert!(timers.is_armed(&Timer::Ping));
        timers.arm(Timer::Ping, None);
        assert!(timers.is_empty() && timers.next().is_none());
    }

    #[test]
    fn retain_disarms_the_rejected() {
        let t0 = Instant::now();
        let mut timers = Timers::new();
        timers.set(Timer::Ping, t0);
        timers.set(Timer::Reply(7), t0);
        timers.retain(|k| matches!(k, Timer::Ping));
        assert_eq!(
            timers.keys().cloned().collect::<Vec<_>>(),
            vec![Timer::Ping]
        );
    }
}
