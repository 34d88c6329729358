//! Reconnect delays: one capped exponential formula, two jitter shapes.
//!
//! The exponential base of attempt `step` (0-based) is `initial · multiplier^step`, capped at `max`.
//! - [`Jitter::Proportional`]`(r)`: the delay is drawn uniformly from `base · (1 ± r)`, capped at `max`
//!   (1C-Connect: 0.5 s doubling to 30 s, ±20 %; see [`BackoffPolicy::default`]).
//! - [`Jitter::Full`]: `initial + uniform(0..=base)` in whole milliseconds, capped at `max` — the formula of
//!   the official Centrifugo SDKs (centrifuge-js: 0.5–20 s), so a crowd of 1C clients does not reconnect
//!   in lockstep ([`BackoffPolicy::full_jitter`]).

use std::time::Duration;

use crate::rng::SplitMix64;

/// How the random part of a delay is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Jitter {
    /// Relative spread: uniform in `base · (1 ± r)`, `r` clamped to `0..=1`.
    Proportional(f64),
    /// `initial + uniform(0..=base)` milliseconds.
    Full,
}

/// Parameters of a reconnect backoff.
#[derive(Debug, Clone, PartialEq)]
pub struct BackoffPolicy {
    /// Delay before the first retry (with [`Jitter::Full`], the least delay of every retry).
    pub initial: Duration,
    /// No delay exceeds this, jitter included.
    pub max: Duration,
    /// Each failed attempt multiplies the base by this (values below 1 count as 1).
    pub multiplier: f64,
    pub jitter: Jitter,
}

impl Default for BackoffPolicy {
    /// 0.5 s doubling to 30 s, ±20 %: the 1C-Connect agent's reconnect policy.
    fn default() -> Self {
        BackoffPolicy {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: Jitter::Proportional(0.2),
        }
    }
}

impl BackoffPolicy {
    /// Doubling full jitter between `min` and `max`, as the Centrifugo SDKs do.
    pub fn full_jitter(min: Duration, max: Duration) -> Self {
        BackoffPolicy {
            initial: min,
            max,
            multiplier: 2.0,
            jitter: Jitter::Full,
        }
    }

    /// The delay before attempt `step` (0-based), drawing its jitter from `rng`.
    pub fn delay(&self, step: u32, rng: &mut SplitMix64) -> Duration {
        let exponent = step.min(64) as i32;
        let growth = self.multiplier.max(1.0).powi(exponent);
        match self.jitter {
            Jitter::Proportional(spread) => {
                let max = self.max.as_secs_f64();
                let base = (self.initial.as_secs_f64() * growth).min(max);
                let spread = spread.clamp(0.0, 1.0);
                let factor = 1.0 - spread + 2.0 * spread * rng.next_unit();
                Duration::from_secs_f64((base * factor).clamp(0.0, max))
            }
            Jitter::Full => {
                let min_ms = millis(self.initial);
                let max_ms = millis(self.max);
                // Float is exact here: the base is capped at `max`, far below 2^53 ms.
                let base = (min_ms as f64 * growth).min(max_ms as f64) as u64;
                Duration::from_millis(min_ms.saturating_add(rng.up_to(base)).min(max_ms))
            }
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A policy with its own failure count and generator: `next_delay` after each failure, `reset` on success.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    failures: u32,
    rng: SplitMix64,
}

impl Backoff {
    pub fn new(policy: BackoffPolicy, seed: u64) -> Self {
        Backoff {
            policy,
            failures: 0,
            rng: SplitMix64::new(seed),
        }
    }

    pub fn policy(&self) -> &BackoffPolicy {
        &self.policy
    }

    /// Consecutive failures since the last [`Backoff::reset`].
    pub fn failures(&self) -> u32 {
        self.failures
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// The delay before the next attempt; counts one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.policy.delay(self.failures, &mut self.rng);
        self.failures = self.failures.saturating_add(1);
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportional_grows_exponentially_and_is_capped() {
        let policy = BackoffPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            multiplier: 2.0,
            jitter: Jitter::Proportional(0.0),
        };
        let mut backoff = Backoff::new(policy, 1);
        let delays: Vec<u128> = (0..6).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 400, 800, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.next_delay().as_millis(), 100);
    }

    #[test]
    fn proportional_jitter_stays_in_bounds_and_is_reproducible() {
        let mut a = Backoff::new(BackoffPolicy::default(), 42);
        let mut b = Backoff::new(BackoffPolicy::default(), 42);
        for attempt in 0..40 {
            let delay = a.next_delay();
            assert_eq!(delay, b.next_delay());
            let base = (0.5 * 2f64.powi(attempt)).min(30.0);
            let secs = delay.as_secs_f64();
            assert!(
                secs >= base * 0.8 - 1e-9 && secs <= (base * 1.2).min(30.0) + 1e-9,
                "{attempt}: {secs}"
            );
        }
        let mut c = Backoff::new(BackoffPolicy::default(), 43);
        let differs = (0..5)
            .any(|_| c.next_delay() != Backoff::new(BackoffPolicy::default(), 42).next_delay());
        assert!(differs);
    }

    #[test]
    fn full_jitter_stays_between_min_and_the_doubling_ceiling() {
        let policy =
            BackoffPolicy::full_jitter(Duration::from_millis(500), Duration::from_secs(20));
        let mut rng = SplitMix64::new(7);
        for step in 0..100 {
            let d = policy.delay(step, &mut rng);
            let ceiling =
                Duration::from_millis((500u64 << step.min(31)).saturating_add(500).min(20_000));
            assert!(d >= policy.initial && d <= ceiling, "step {step}: {d:?}");
        }
    }

    #[test]
    fn full_jitter_spreads_values_and_replays() {
        let policy =
            BackoffPolicy::full_jitter(Duration::from_millis(500), Duration::from_secs(20));
        let draw = |seed| {
            let mut rng = SplitMix64::new(seed);
            (0..50)
                .map(|_| policy.delay(10, &mut rng))
                .collect::<Vec<_>>()
        };
        let distinct: std::collections::BTreeSet<_> = draw(1).into_iter().collect();
        assert!(distinct.len() > 40);
        assert_eq!(draw(99), draw(99));
    }
}
