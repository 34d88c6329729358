//! Reconnect delays and command IDs from a caller-supplied seed: this crate reads no global RNG, so tests replay
//! exactly and the add-in seeds from the OS once.

use std::time::Duration;

/// SplitMix64: tiny, fast, good enough for jitter and for IDs that only need to be unique per agent connection.
#[derive(Debug, Clone)]
pub struct SeededRng(u64);

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        SeededRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A random (version 4, RFC 4122 variant) UUID in the usual lowercase hyphenated form.
    pub fn next_uuid(&mut self) -> String {
        let high = self.next_u64();
        let low = self.next_u64();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&high.to_be_bytes());
        bytes[8..].copy_from_slice(&low.to_be_bytes());
        bytes[6] = (bytes[6] & 0x0F) | 0x40;
        bytes[8] = (bytes[8] & 0x3F) | 0x80;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }
}

/// Parameters of the reconnect backoff.
#[derive(Debug, Clone, PartialEq)]
pub struct BackoffPolicy {
    /// Delay before the first retry.
    pub initial: Duration,
    /// No delay exceeds this, jitter included.
    pub max: Duration,
    /// Each failed attempt multiplies the delay by this.
    pub multiplier: f64,
    /// Relative spread: the delay is drawn uniformly from base·(1 ± jitter).
    pub jitter: f64,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.2,
        }
    }
}

/// Capped exponential backoff with jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    failures: u32,
    rng: SeededRng,
}

impl Backoff {
    pub fn new(policy: BackoffPolicy, seed: u64) -> Self {
        Backoff {
            policy,
            failures: 0,
            rng: SeededRng::new(seed),
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
        let policy = &self.policy;
        let max = policy.max.as_secs_f64();
        let exponent = self.failures.min(64) as i32;
        let base =
            (policy.initial.as_secs_f64() * policy.multiplier.max(1.0).powi(exponent)).min(max);
        let jitter = policy.jitter.clamp(0.0, 1.0);
        let factor = 1.0 - jitter + 2.0 * jitter * self.rng.next_unit();
        self.failures = self.failures.saturating_add(1);
        Duration::from_secs_f64((base * factor).clamp(0.0, max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_and_is_capped() {
        let policy = BackoffPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            multiplier: 2.0,
            jitter: 0.0,
        };
        let mut backoff = Backoff::new(policy, 1);
        let delays: Vec<u128> = (0..6).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 400, 800, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.next_delay().as_millis(), 100);
    }

    #[test]
    fn jitter_stays_in_bounds_and_is_reproducible() {
        let policy = BackoffPolicy::default();
        let mut a = Backoff::new(policy.clone(), 42);
        let mut b = Backoff::new(policy.clone(), 42);
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
        let mut c = Backoff::new(policy, 43);
        let differs = (0..5)
            .any(|_| c.next_delay() != Backoff::new(BackoffPolicy::default(), 42).next_delay());
        assert!(differs);
    }

    #[test]
    fn uuids_are_well_formed_and_distinct() {
        let mut rng = SeededRng::new(7);
        let a = rng.next_uuid();
        let b = rng.next_uuid();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(a.matches('-').count(), 4);
    }
}
