//! The one scrubber of shown text: it knows the configured secrets (passwords, API keys, tokens, HMAC secrets)
//! and masks every part of them — any run of [`MIN_PART`] or more bytes that also occurs in a secret — in any
//! text: our errors, a library's error text, a panic payload, a log line. It does not need to know where a
//! secret may stand in the text (a library that prints «bad port 'ss-SECRET'» printed half a password in a place
//! no structural redaction looks at).
//!
//! The price: a text that happens to share four characters with a secret is masked there too (a password
//! `http1234` masks `http` everywhere). Shorter secrets are still registered but only whole-word safe parts
//! exist of them, so they are not searched for: structural redaction (`redact`, `address::Address::shown`)
//! keeps them out.

use std::borrow::Cow;
use std::collections::HashSet;

/// The shortest part of a secret that is masked wherever it appears.
pub const MIN_PART: usize = 4;

/// How many secrets are kept; the oldest go first (a process that sets a thousand keys keeps the latest).
pub const MAX_SECRETS: usize = 256;

/// A set of secrets and the masking of their parts.
#[derive(Default, Clone)]
pub struct Scrubber {
    secrets: Vec<Vec<u8>>,
    windows: HashSet<[u8; MIN_PART]>,
}

impl Scrubber {
    pub fn new() -> Scrubber {
        Scrubber::default()
    }

    /// Registers `secret` (and its percent-decoded form, which a library may print).
    pub fn add(&mut self, secret: &str) {
        let decoded = crate::percent::decode(secret.as_bytes(), crate::percent::Plus::Literal);
        for form in [secret.as_bytes().to_vec(), decoded] {
            if form.len() < MIN_PART || self.secrets.contains(&form) {
                continue;
            }
            if self.secrets.len() == MAX_SECRETS {
                self.secrets.remove(0);
                self.rebuild();
            }
            self.add_windows(&form);
            self.secrets.push(form);
        }
    }

    /// How many secrets are searched for.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every part of a secret masked as `***`; repeated until nothing is left (a mask next to the
    /// rest of a secret that holds `*` could otherwise form a part again).
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut current = Cow::Borrowed(text);
        while let Some(next) = self.pass(&current) {
            current = Cow::Owned(next);
        }
        current
    }

    fn pass(&self, text: &str) -> Option<String> {
        if self.windows.is_empty() || text.len() < MIN_PART {
            return None;
        }
        let bytes = text.as_bytes();
        let mut masked = vec![false; bytes.len()];
        let mut any = false;
        for start in 0..=bytes.len() - MIN_PART {
            let window: [u8; MIN_PART] = bytes[start..start + MIN_PART]
                .try_into()
                .expect("a slice of MIN_PART bytes");
            if self.windows.contains(&window) {
                masked[start..start + MIN_PART].fill(true);
                any = true;
            }
        }
        if !any {
            return None;
        }
        let mut shown = String::with_capacity(text.len());
        let mut in_mask = false;
        for (index, character) in text.char_indices() {
            // A character is masked if any of its bytes is (a part may start or end inside it).
            if masked[index..index + character.len_utf8()].contains(&true) {
                if !in_mask {
                    shown.push_str(crate::redact::MASK);
                    in_mask = true;
                }
            } else {
                shown.push(character);
                in_mask = false;
            }
        }
        Some(shown)
    }

    fn add_windows(&mut self, secret: &[u8]) {
        for window in secret.windows(MIN_PART) {
            self.windows
                .insert(window.try_into().expect("a window of MIN_PART bytes"));
        }
    }

    fn rebuild(&mut self) {
        self.windows.clear();
        for secret in std::mem::take(&mut self.secrets) {
            self.add_windows(&secret);
            self.secrets.push(secret);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_of_a_secret_is_masked() {
        let mut scrubber = Scrubber::new();
        scrubber.add("Pa%3Fss-SECRET");
        assert_eq!(scrubber.len(), 2, "as written and decoded");
        assert_eq!(scrubber.scrub("bad port 'ss-SECRET'"), "bad port '***'");
        assert_eq!(scrubber.scrub("host Pa?ss here"), "host *** here");
        assert_eq!(scrubber.scrub("nothing to hide"), "nothing to hide");
        assert!(matches!(scrubber.scrub("plain"), Cow::Borrowed(_)));
        assert_eq!(scrubber.scrub("SECRET and CRET"), "*** and ***");
    }

    #[test]
    fn short_secrets_are_not_searched_for_and_unicode_is_cut_at_characters() {
        let mut scrubber = Scrubber::new();
        scrubber.add("abc");
        assert!(scrubber.is_empty());
        scrubber.add("пароль");
        // Four bytes are two Cyrillic letters: the whole letters go.
        assert_eq!(scrubber.scrub("мой пар!"), "мой ***!");
        assert_eq!(scrubber.scrub("я"), "я");
    }

    #[test]
    fn a_mask_never_forms_a_part_again() {
        let mut scrubber = Scrubber::new();
        scrubber.add("x***y");
        let shown = scrubber.scrub("ax***yb x*** ***y");
        for window in "x***y".as_bytes().windows(MIN_PART) {
            assert!(
                !shown.as_bytes().windows(MIN_PART).any(|w| w == window),
                "{shown}"
            );
        }
    }

    #[test]
    fn the_oldest_secret_goes_first() {
        let mut scrubber = Scrubber::new();
        scrubber.add("QQQQ-first");
        for index in 1..=MAX_SECRETS {
            scrubber.add(&format!("{index:04}-{index:04}"));
        }
        assert_eq!(scrubber.len(), MAX_SECRETS);
        assert_eq!(scrubber.scrub("QQQQ-first"), "QQQQ-first");
        assert_eq!(scrubber.scrub("0256-0256"), "***");
    }
}
