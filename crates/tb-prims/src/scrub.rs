//! The one scrubber of shown text: it knows the configured secrets (passwords, API keys, tokens, HMAC secrets)
//! and masks them in any text — our errors, a library's error text, a server's answer, a panic payload, a log
//! line — without knowing where in the text a secret may stand.
//!
//! What is masked: every occurrence of a whole secret of [`MIN_SECRET`] characters or more, and every run of
//! [`MIN_PART`] characters or more that also occurs in a secret (a library that printed «bad port 'ss-SECRET'»
//! printed half a password in a place no structural redaction looks at). Shorter parts are not searched for:
//! a four-character part of a password such as `Summer2024` or of a token such as `uis-token-7f3a` is an
//! ordinary word («2024», «token») that would be masked in every text. Structural redaction (`redact`,
//! `address::Address::shown`) and the address model (a password is never split) keep short parts out.
//!
//! Lengths are counted in characters, not bytes: two Cyrillic letters are four bytes and would mask half the
//! words of a Russian text.

use std::borrow::Cow;
use std::collections::HashSet;

/// The shortest secret that is searched for (a whole secret shorter than this would mask ordinary text).
pub const MIN_SECRET: usize = 4;

/// The shortest part of a secret that is masked wherever it appears.
pub const MIN_PART: usize = 8;

/// How many secrets are kept; the oldest go first (a process that sets a thousand keys keeps the latest).
pub const MAX_SECRETS: usize = 256;

/// A set of secrets and the masking of their parts.
#[derive(Default, Clone)]
pub struct Scrubber {
    secrets: Vec<String>,
    /// Every run of [`MIN_PART`] characters of every secret.
    parts: HashSet<String>,
}

impl Scrubber {
    pub fn new() -> Scrubber {
        Scrubber::default()
    }

    /// Registers `secret` (and its percent-decoded form, which a library may print).
    pub fn add(&mut self, secret: &str) {
        let decoded =
            crate::percent::decode_lossy(secret.as_bytes(), crate::percent::Plus::Literal);
        for form in [secret.to_string(), decoded] {
            if form.chars().count() < MIN_SECRET || self.secrets.contains(&form) {
                continue;
            }
            if self.secrets.len() == MAX_SECRETS {
                self.secrets.remove(0);
                self.rebuild();
            }
            self.add_parts(&form);
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

    /// `text` with every secret and every part of one masked as `***`; repeated until nothing is left (a mask
    /// next to the rest of a secret that holds `*` could otherwise form a part again).
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut current = Cow::Borrowed(text);
        while let Some(next) = self.pass(&current) {
            current = Cow::Owned(next);
        }
        current
    }

    fn pass(&self, text: &str) -> Option<String> {
        if self.secrets.is_empty() {
            return None;
        }
        // Byte offsets of every character, and of the end.
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(index, _)| index)
            .chain(std::iter::once(text.len()))
            .collect();
        let characters = bounds.len() - 1;
        let mut masked = vec![false; characters];
        let mut any = false;
        for start in 0..characters.saturating_sub(MIN_PART - 1) {
            if self
                .parts
                .contains(&text[bounds[start]..bounds[start + MIN_PART]])
            {
                masked[start..start + MIN_PART].fill(true);
                any = true;
            }
        }
        for secret in &self.secrets {
            for (at, _) in text.match_indices(secret.as_str()) {
                let first = bounds.partition_point(|&b| b < at);
                let last = bounds.partition_point(|&b| b < at + secret.len());
                masked[first..last].fill(true);
                any = true;
            }
        }
        if !any {
            return None;
        }
        let mut shown = String::with_capacity(text.len());
        let mut in_mask = false;
        for (index, character) in text.chars().enumerate() {
            if masked[index] {
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

    fn add_parts(&mut self, secret: &str) {
        let characters: Vec<char> = secret.chars().collect();
        for part in characters.windows(MIN_PART) {
            self.parts.insert(part.iter().collect());
        }
    }

    fn rebuild(&mut self) {
        self.parts.clear();
        for secret in std::mem::take(&mut self.secrets) {
            self.add_parts(&secret);
            self.secrets.push(secret);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_long_parts_of_them_are_masked() {
        let mut scrubber = Scrubber::new();
        scrubber.add("Pa%3Fss-SECRET");
        assert_eq!(scrubber.len(), 2, "as written and decoded");
        assert_eq!(scrubber.scrub("bad port 'ss-SECRET'"), "bad port '***'");
        assert_eq!(scrubber.scrub("host Pa?ss-SEC here"), "host *** here");
        assert_eq!(scrubber.scrub("x Pa?ss-SECRET y"), "x *** y");
        assert_eq!(scrubber.scrub("nothing to hide"), "nothing to hide");
        assert!(matches!(scrubber.scrub("plain"), Cow::Borrowed(_)));
        assert_eq!(
            scrubber.scrub("SECRET, CRET and Pa?s stay: shorter than a part"),
            "SECRET, CRET and Pa?s stay: shorter than a part"
        );
    }

    #[test]
    fn words_inside_a_secret_are_not_masked_elsewhere() {
        let mut scrubber = Scrubber::new();
        scrubber.add("uis-token-7f3a9c");
        scrubber.add("pbx-secret-Ключ");
        assert_eq!(
            scrubber
                .scrub("error [access_token_blocked]: проверьте Секрет и Ключ; ожидается ответ"),
            "error [access_token_blocked]: проверьте Секрет и Ключ; ожидается ответ"
        );
        assert_eq!(scrubber.scrub("got 'token-7f3a9c'"), "got '***'");
        assert_eq!(scrubber.scrub("got 'secret-Ключ'"), "got '***'");
    }

    #[test]
    fn short_secrets_are_not_searched_for_and_unicode_is_whole_characters() {
        let mut scrubber = Scrubber::new();
        scrubber.add("abc");
        assert!(scrubber.is_empty());
        scrubber.add("пароль");
        assert_eq!(scrubber.scrub("мой пароль!"), "мой ***!");
        assert_eq!(scrubber.scrub("мой пар!"), "мой пар!");
        assert_eq!(scrubber.scrub("я"), "я");
    }

    #[test]
    fn a_mask_never_forms_a_part_again() {
        let mut scrubber = Scrubber::new();
        scrubber.add("ab***cdefgh");
        let shown = scrubber.scrub("xab***cdefghy ab*** ***cdefgh");
        let secret: Vec<char> = "ab***cdefgh".chars().collect();
        for part in secret.windows(MIN_PART) {
            let part: String = part.iter().collect();
            assert!(!shown.contains(&part), "{shown}");
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
