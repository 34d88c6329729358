//! Capped exponential backoff with full jitter, from a seeded generator so tests are repeatable.

use std::time::Duration;

/// SplitMix64: tiny, good enough to spread reconnects of many clients; not for secrets.
#[derive(Debug, Clone)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    pub fn new(seed: u64) -> Jitter {
        Jitter { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..=max_inclusive` (milliseconds).
    fn up_to(&mut self, max_inclusive: u64) -> u64 {
        if max_inclusive == 0 {
            0
        } else {
            self.next_u64() % (max_inclusive + 1)
        }
    }
}

/// The delay before attempt `step` (0-based): `min + random(0..=min(max, min * 2^step))`, capped at `max`.
/// The same formula as the official SDKs, so a crowd of 1C clients does not reconnect in lockstep.
pub fn delay(step: u32, min: Duration, max: Duration, jitter: &mut Jitter) -> Duration {
    let min_ms = min.as_millis() as u64;
    let max_ms = max.as_millis() as u64;
    let exponential = min_ms.saturating_mul(1u64 << step.min(31));
    let spread = jitter.up_to(exponential.min(max_ms));
    Duration::from_millis(min_ms.saturating_add(spread).min(max_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_is_capped() {
        let min = Duration::from_millis(500);
        let max = Duration::from_secs(20);
        let mut jitter = Jitter::new(7);
        for step in 0..100 {
            let d = delay(step, min, max, &mut jitter);
            assert!(d >= min && d <= max, "step {step}: {d:?}");
            let ceiling =
                Duration::from_millis((500u64 << step.min(31)).saturating_add(500).min(20_000));
            assert!(d <= ceiling, "step {step}: {d:?} > {ceiling:?}");
        }
    }

    #[test]
    fn jitter_spreads_values() {
        let mut jitter = Jitter::new(1);
        let values: std::collections::BTreeSet<_> = (0..50)
            .map(|_| {
                delay(
                    10,
                    Duration::from_millis(500),
                    Duration::from_secs(20),
                    &mut jitter,
                )
            })
            .collect();
        assert!(values.len() > 40);
    }

    #[test]
    fn same_seed_same_sequence() {
        let sequence = |seed| {
            let mut j = Jitter::new(seed);
            (0..10)
                .map(|s| {
                    delay(
                        s,
                        Duration::from_millis(100),
                        Duration::from_secs(5),
                        &mut j,
                    )
                })
                .collect::<Vec<_>>()
        };
        let (a, b) = (sequence(99), sequence(99));
        assert_eq!(a, b);
    }
}
