//! A seeded generator: the cores read no global RNG, so tests replay exactly and the add-in seeds from the OS once.

/// SplitMix64: tiny, fast, good enough for jitter and for IDs that only need to be unique per connection.
/// Not for secrets.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// In `0..=max_inclusive` (modulo bias is irrelevant for jitter).
    pub fn up_to(&mut self, max_inclusive: u64) -> u64 {
        match max_inclusive.checked_add(1) {
            None => self.next_u64(),
            Some(_) if max_inclusive == 0 => 0,
            Some(bound) => self.next_u64() % bound,
        }
    }

    /// A random (version 4, RFC 4122 variant) UUID in the usual lowercase hyphenated form.
    pub fn next_uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_be_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_be_bytes());
        bytes[6] = (bytes[6] & 0x0F) | 0x40;
        bytes[8] = (bytes[8] & 0x3F) | 0x80;
        let mut text = String::with_capacity(36);
        for (i, byte) in bytes.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                text.push('-');
            }
            text.push(char::from(HEX[usize::from(byte >> 4)]));
            text.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
        text
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_sequence() {
        // Reference values of SplitMix64 for seed 1234567 (those of the reference algorithm).
        let mut rng = SplitMix64::new(1234567);
        assert_eq!(rng.next_u64(), 6457827717110365317);
        assert_eq!(rng.next_u64(), 3203168211198807973);
    }

    #[test]
    fn uuids_are_well_formed_and_distinct() {
        let mut rng = SplitMix64::new(7);
        let a = rng.next_uuid();
        let b = rng.next_uuid();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(a.matches('-').count(), 4);
        assert!(a
            .chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }

    #[test]
    fn up_to_stays_in_range() {
        let mut rng = SplitMix64::new(3);
        assert_eq!(rng.up_to(0), 0);
        assert!((0..1000).all(|_| rng.up_to(9) <= 9));
        let _ = rng.up_to(u64::MAX);
    }
}
