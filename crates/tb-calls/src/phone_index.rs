//! The phone-number index: which key a number is stored and looked up under, every key a card's contact
//! information holds, and what to change in the index when a card is written. Sans I/O: texts in, keys out; the
//! 1C register `ТБ_ИндексТелефонов` holds the rows and is read by its first dimension, the key.
//!
//! **The key** is the number in international form, digits only, without `+` (E.164: `79261234567`,
//! `380441234567`, `375291234567`). One number written any way gives one key; two different numbers never share
//! one. The national forms of the four countries the PBXs here serve are read as follows (first that applies):
//!
//! | Written | Read as | Example → key |
//! |---|---|---|
//! | `+` then 10–15 digits | international as written (`+89` and 9 more: the common slip for `+7 9…`) | `+380 44 123 45 67` → `380441234567` |
//! | `00` or `810` then the international number | international (the European and the Russian exit code) | `8 10 375 29 123-45-67` → `375291234567` |
//! | 11 digits from `80` | Belarus, `8 0XX`: trunk `8`, zero of the operator code | `8 029 123-45-67` → `375291234567` |
//! | 11 digits from `8` | Russia/Kazakhstan, trunk `8` | `8 (926) 123-45-67` → `79261234567` |
//! | 11 digits from `7` | Russia/Kazakhstan without `+` | `7 701 123 4567` → `77011234567` |
//! | 10 digits from `0` | Ukraine, national form (trunk `0`, as Binotel sends it) | `044 123 45 67` → `380441234567` |
//! | 10 other digits | Russia/Kazakhstan without the trunk | `926 123-45-67` → `79261234567` |
//! | 12 digits from `380` or `375` | Ukraine or Belarus without `+` | `380441234567` → itself |
//! | anything else | no key (a local number without its area code, an internal line, garbage) | `123-45-67` → none |
//!
//! Extensions (`доб. 123`, `доп. 12`, `вн. 5`, `ext 7`, `x7`, `#7`) are not part of a number: a caller never
//! dials them, so they are dropped. A field may hold several numbers: hard separators (`,` `;` `/` `|` `\` line
//! breaks) and words (`моб.`, `или`, `факс`) split them; numbers written one after another with only spaces
//! between (`8 926 123 45 67 8 495 111 22 33`) are split where every part is a whole number (see [`index_keys`]).

use std::collections::BTreeSet;

use crate::error::{CallsError, Problem, Subject};

/// The fewest digits of a key: a shorter number is local or internal and would match strangers.
pub const MIN_KEY_DIGITS: usize = 10;
/// The most digits of a key (E.164).
pub const MAX_KEY_DIGITS: usize = 15;
/// How much of one contact-information text is read (a phone field is short; a pasted letter is not a phone).
pub const MAX_TEXT_CHARS: usize = 4096;
/// The most texts read for one card and the most keys kept for it: a card is a person or a company, not a
/// phone book; the rest is ignored rather than bloating the index.
pub const MAX_TEXTS: usize = 256;
pub const MAX_KEYS_PER_CARD: usize = 64;

/// The key of a number written with its digits and whether a `+` stood before them; `None` when it is no
/// number of any country this index knows (the table in the module docs).
pub fn normalize_digits(digits: &str, plus: bool) -> Option<String> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len = digits.len();
    if plus {
        // `+8 926…`: the trunk 8 typed after a plus. Only before 9 (a Russian mobile): no country code starts with
        // 89, while +81, +82, +84, +86… are Japan, Korea, Vietnam, China.
        if len == 11 && digits.starts_with("89") {
            return Some(format!("7{}", &digits[1..]));
        }
        return (MIN_KEY_DIGITS..=MAX_KEY_DIGITS)
            .contains(&len)
            .then(|| digits.to_string());
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return normalize_digits(rest, true);
    }
    if len >= 3 + MIN_KEY_DIGITS {
        if let Some(rest) = digits.strip_prefix("810") {
            return normalize_digits(rest, true);
        }
    }
    match len {
        10 if digits.starts_with('0') => Some(format!("38{digits}")),
        10 => Some(format!("7{digits}")),
        11 if digits.starts_with("80") => Some(format!("375{}", &digits[2..])),
        11 if digits.starts_with('8') => Some(format!("7{}", &digits[1..])),
        11 if digits.starts_with('7') => Some(digits.to_string()),
        // Without `+` only the two countries whose numbers people paste that way: a longer run of other digits
        // is more often two numbers or a stray group glued to one.
        12 if digits.starts_with("380") || digits.starts_with("375") => Some(digits.to_string()),
        _ => None,
    }
}

/// A run of digits as written: `+7 (926)` is one run `7926` with a plus; connectors `( ) - .` keep a run going.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    digits: String,
    plus: bool,
}

/// Words that announce an extension: the digits after them are not part of the number.
fn is_extension_word(word: &str) -> bool {
    const MARKERS: &[&str] = &[
        "доб",
        "добавочный",
        "доп",
        "вн",
        "внутр",
        "внутренний",
        "ext",
        "extension",
        "x",
        "х", // the Cyrillic letter, as people type it
        "#",
    ];
    MARKERS.contains(&word)
}

/// One piece between hard separators, as the runs of its numbers: each inner `Vec` is a segment (runs between
/// words), extensions already dropped.
fn segments(piece: &str) -> Vec<Vec<Run>> {
    let mut segments: Vec<Vec<Run>> = vec![Vec::new()];
    let mut run: Option<Run> = None;
    let mut word = String::new();
    let mut plus = false;
    let mut in_extension = false;

    fn end_run(run: &mut Option<Run>, segments: &mut [Vec<Run>], in_extension: bool) {
        if let Some(r) = run.take() {
            if !in_extension {
                if let Some(last) = segments.last_mut() {
                    last.push(r);
                }
            }
        }
    }

    let end_word = |word: &mut String, segments: &mut Vec<Vec<Run>>, in_extension: &mut bool| {
        if word.is_empty() {
            return;
        }
        let lower = word.to_lowercase();
        word.clear();
        // A word ends the number before it either way; an extension word also swallows the digits after it.
        *in_extension = is_extension_word(&lower);
        if segments.last().is_some_and(|s| !s.is_empty()) {
            segments.push(Vec::new());
        }
    };

    for c in piece.chars() {
        if c.is_ascii_digit() {
            if !word.is_empty() {
                end_word(&mut word, &mut segments, &mut in_extension);
            }
            match run.as_mut() {
                Some(r) => r.digits.push(c),
                None => {
                    run = Some(Run {
                        digits: c.to_string(),
                        plus,
                    });
                    plus = false;
                }
            }
        } else if c.is_alphabetic() || c == '#' {
            end_run(&mut run, &mut segments, in_extension);
            plus = false;
            if c == '#' {
                end_word(&mut word, &mut segments, &mut in_extension);
                word.push('#');
                end_word(&mut word, &mut segments, &mut in_extension);
            } else {
                word.push(c);
            }
        } else if matches!(c, '(' | ')' | '-' | '.' | '\u{2013}' | '\u{2212}') && run.is_some() {
            // A connector inside a number: `123-45-67`, `(495)123`.
        } else {
            end_word(&mut word, &mut segments, &mut in_extension);
            end_run(&mut run, &mut segments, in_extension);
            plus = c == '+';
        }
    }
    end_run(&mut run, &mut segments, in_extension);
    segments.retain(|s| !s.is_empty());
    segments
}

/// The keys of one segment: the split of its runs into whole numbers that leaves the fewest digits unread, then
/// has the fewest numbers. A run with `+` always starts a number.
fn segment_keys(runs: &[Run]) -> Vec<String> {
    let n = runs.len();
    // best[i]: (unread digits, numbers, the choice at i) for runs i..n.
    #[derive(Clone)]
    enum Step {
        Skip,
        Take(usize, String),
    }
    let mut best: Vec<(usize, usize, Option<Step>)> = vec![(0, 0, None); n + 1];
    for i in (0..n).rev() {
        // Skip run i.
        let mut choice = (
            best[i + 1].0 + runs[i].digits.len(),
            best[i + 1].1,
            Some(Step::Skip),
        );
        let mut digits = String::new();
        for j in i..n {
            if j > i && runs[j].plus {
                break;
            }
            digits.push_str(&runs[j].digits);
            if digits.len() > MAX_KEY_DIGITS + 3 {
                break;
            }
            if let Some(key) = normalize_digits(&digits, runs[i].plus) {
                let candidate = (best[j + 1].0, best[j + 1].1 + 1);
                if candidate < (choice.0, choice.1) {
                    choice = (candidate.0, candidate.1, Some(Step::Take(j + 1, key)));
                }
            }
        }
        best[i] = choice;
    }
    let mut keys = Vec::new();
    let mut i = 0;
    while i < n {
        match &best[i].2 {
            Some(Step::Take(next, key)) => {
                keys.push(key.clone());
                i = *next;
            }
            _ => i += 1,
        }
    }
    keys
}

/// Every key in one contact-information text, in the order written, without repeats.
pub fn text_keys(text: &str) -> Vec<String> {
    let text: String = text.chars().take(MAX_TEXT_CHARS).collect();
    let mut keys = Vec::new();
    for piece in text.split([',', ';', '/', '|', '\\', '\n', '\r', '\t']) {
        for segment in segments(piece) {
            for key in segment_keys(&segment) {
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
    }
    keys
}

/// The key to look a caller up by: the first number in the text the PBX sent (`None`: no number, so an unknown
/// caller without a look-up).
pub fn lookup_key(number: &str) -> Option<String> {
    text_keys(number).into_iter().next()
}

/// Every key of a card: all numbers in all its contact-information texts, sorted, without repeats, at most
/// [`MAX_KEYS_PER_CARD`].
pub fn index_keys<S: AsRef<str>>(texts: &[S]) -> Vec<String> {
    let mut keys = BTreeSet::new();
    for text in texts.iter().take(MAX_TEXTS) {
        keys.extend(text_keys(text.as_ref()));
    }
    keys.into_iter().take(MAX_KEYS_PER_CARD).collect()
}

/// What to change in the index for one card: the rows to add and to remove, and the card's keys now.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IndexDiff {
    pub add: Vec<String>,
    pub remove: Vec<String>,
    pub keys: Vec<String>,
}

/// The change from the keys the index holds for a card (`old`, as read from the register) to the keys of its
/// contact information now (`texts`). An old key that is no key any more (written by an older rule) is removed.
pub fn index_diff<O: AsRef<str>, S: AsRef<str>>(old: &[O], texts: &[S]) -> IndexDiff {
    let keys = index_keys(texts);
    let old: BTreeSet<&str> = old.iter().map(|k| k.as_ref().trim()).collect();
    let new: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
    IndexDiff {
        add: new.difference(&old).map(|k| k.to_string()).collect(),
        remove: old
            .difference(&new)
            .filter(|k| !k.is_empty())
            .map(|k| k.to_string())
            .collect(),
        keys: keys.clone(),
    }
}

/// A JSON array of texts as the 1C module passes them (`["+7 926 …", "…"]`); `null` items are skipped, a bare
/// string is one text.
pub fn texts_from_json(text: &str) -> Result<Vec<String>, CallsError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| CallsError::NotJson {
        what: Subject::PhoneIndex,
        detail: Problem::Parser(e.to_string()),
    })?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::String(s) => return Ok(vec![s]),
        serde_json::Value::Null => return Ok(Vec::new()),
        _ => {
            return Err(CallsError::InvalidField {
                what: Subject::PhoneIndex,
                field: "texts".into(),
                detail: Problem::Parser("expected an array of strings".into()),
            })
        }
    };
    let mut texts = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match item {
            serde_json::Value::String(s) => texts.push(s),
            serde_json::Value::Null => {}
            // A number typed into a phone field arrives as a JSON number from some configurations.
            serde_json::Value::Number(n) => texts.push(n.to_string()),
            _ => {
                return Err(CallsError::InvalidField {
                    what: Subject::PhoneIndex,
                    field: format!("texts[{i}]"),
                    detail: Problem::Parser("expected a string".into()),
                })
            }
        }
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> Option<String> {
        lookup_key(text)
    }

    #[test]
    fn each_row_of_the_table() {
        let cases = [
            ("+7 (926) 123-45-67", Some("79261234567")),
            ("+380 44 123 45 67", Some("380441234567")),
            ("+375 29 123-45-67", Some("375291234567")),
            ("+8 926 123 45 67", Some("79261234567")),
            ("+49 30 1234567", Some("49301234567")),
            ("+81 3 1234 5678", Some("81312345678")),
            ("+82 2 1234 5678", Some("82212345678")),
            ("+86 138 0013 8000", Some("8613800138000")),
            ("0044 20 7946 0000", Some("442079460000")),
            ("8 10 375 29 123-45-67", Some("375291234567")),
            ("8 029 123-45-67", Some("375291234567")),
            ("8 (926) 123-45-67", Some("79261234567")),
            ("8 812 123 45 67", Some("78121234567")),
            ("7 701 123 4567", Some("77011234567")),
            ("044 123 45 67", Some("380441234567")),
            ("0441234567", Some("380441234567")),
            ("926 123-45-67", Some("79261234567")),
            ("(495) 123-45-67", Some("74951234567")),
            ("380441234567", Some("380441234567")),
            ("375291234567", Some("375291234567")),
            ("79261234567", Some("79261234567")),
            ("tel:+79261234567", Some("79261234567")),
            ("123-45-67", None),
            ("101", None),
            ("+7 926", None),
            ("anonymous", None),
            ("", None),
            ("+1234567890123456", None),
            ("38044123456", None),
        ];
        for (text, expected) in cases {
            assert_eq!(key(text).as_deref(), expected, "{text:?}");
        }
    }

    #[test]
    fn every_written_form_of_one_number_gives_one_key() {
        let forms = [
            "+79261234567",
            "79261234567",
            "89261234567",
            "9261234567",
            "+7 (926) 123-45-67",
            "8-926-123-45-67",
            "8 926 123 45 67",
            "+7 926 123 4567",
            "007 926 123 45 67",
            "810 7 926 1234567",
            "+7.926.123.45.67",
            "+7 (926) 123-45-67 доб. 89",
        ];
        for form in forms {
            assert_eq!(key(form).as_deref(), Some("79261234567"), "{form:?}");
        }
        for form in [
            "0671234567",
            "+380671234567",
            "380 67 123 45 67",
            "067 123-45-67",
        ] {
            assert_eq!(key(form).as_deref(), Some("380671234567"), "{form:?}");
        }
        for form in [
            "80291234567",
            "+375291234567",
            "8 029 1234567",
            "8 10 375 29 1234567",
        ] {
            assert_eq!(key(form).as_deref(), Some("375291234567"), "{form:?}");
        }
    }

    #[test]
    fn extensions_are_dropped() {
        for text in [
            "+7 (495) 123-45-67 доб. 123",
            "+7 (495) 123-45-67, доб. 123",
            "+7 (495) 123-45-67 доп.12",
            "+7 495 123 45 67 ext 7",
            "+7 495 123 45 67 x7",
            "+7 495 123 45 67 х 7",
            "+7 495 123 45 67#7",
            "+7 495 123-45-67 (вн. 2222222222)",
            "+7 495 123-45-67 добавочный 1234567890",
        ] {
            assert_eq!(text_keys(text), vec!["74951234567"], "{text:?}");
        }
    }

    #[test]
    fn several_numbers_in_one_field() {
        let both = vec!["79261234567".to_string(), "74951112233".to_string()];
        for text in [
            "+7 926 123-45-67, +7 495 111-22-33",
            "89261234567; 84951112233",
            "8 926 123 45 67 / 8 495 111 22 33",
            "моб. 8 926 123 45 67 раб. 8 495 111 22 33",
            "8 926 123 45 67 или 8 495 111 22 33",
            "89261234567 84951112233",
            "8 926 123 45 67 8 495 111 22 33",
            "+7 926 123 45 67 +7 495 111 22 33",
            "+7 926 123-45-67\n+7 495 111-22-33",
            "+7 926 123-45-67 доб. 5, 8 (495) 111-22-33",
        ] {
            assert_eq!(text_keys(text), both, "{text:?}");
        }
        // A repeated number is one key; garbage between numbers is skipped.
        assert_eq!(
            text_keys("89261234567, +7 926 123-45-67, звонить после 18"),
            vec!["79261234567"]
        );
        assert_eq!(
            text_keys("12 8 926 123 45 67"),
            vec!["79261234567"],
            "a stray short group is left unread"
        );
    }

    #[test]
    fn garbage_gives_no_key() {
        for text in [
            "нет",
            "email@example.com",
            "531ef6c7-deb8-11e0-ad02-000c2926d843",
            "ул. Ленина, д. 5, кв. 12",
            "12345",
            "+",
            "((((",
            "8926123456784951112233",
            "доб. 9261234567",
        ] {
            assert_eq!(text_keys(text), Vec::<String>::new(), "{text:?}");
        }
    }

    #[test]
    fn keys_of_a_card_are_sorted_unique_and_capped() {
        let texts = ["+7 926 123-45-67", "8 (495) 111-22-33", "89261234567", ""];
        assert_eq!(index_keys(&texts), vec!["74951112233", "79261234567"]);
        let many: Vec<String> = (0..100).map(|i| format!("+7 926 000 {i:04}")).collect();
        assert_eq!(index_keys(&many).len(), MAX_KEYS_PER_CARD);
        let long = "1".repeat(MAX_TEXT_CHARS) + " +79261234567";
        assert!(index_keys(&[long]).is_empty(), "past the cap is not read");
    }

    #[test]
    fn diff_adds_and_removes_only_what_changed() {
        let old = ["79261234567", "74951112233", "123"];
        let diff = index_diff(&old, &["+7 926 123-45-67", "+380 44 123 45 67"]);
        assert_eq!(diff.add, vec!["380441234567"]);
        assert_eq!(diff.remove, vec!["123", "74951112233"]);
        assert_eq!(diff.keys, vec!["380441234567", "79261234567"]);
        let same = index_diff(&["79261234567"], &["8 926 123 45 67"]);
        assert!(same.add.is_empty() && same.remove.is_empty());
        let cleared = index_diff(&["79261234567"], &[""; 0]);
        assert_eq!(cleared.remove, vec!["79261234567"]);
        let new = index_diff(&[""; 0], &["89261234567"]);
        assert_eq!(new.add, vec!["79261234567"]);
        assert_eq!(
            serde_json::to_string(&new).unwrap(),
            r#"{"add":["79261234567"],"remove":[],"keys":["79261234567"]}"#
        );
    }

    #[test]
    fn texts_as_json() {
        assert_eq!(
            texts_from_json(r#"["a", null, 79261234567]"#).unwrap(),
            vec!["a", "79261234567"]
        );
        assert_eq!(texts_from_json(r#""x""#).unwrap(), vec!["x"]);
        assert!(texts_from_json("").unwrap().is_empty());
        assert!(texts_from_json("null").unwrap().is_empty());
        assert!(texts_from_json("[").is_err());
        assert!(texts_from_json("{}").is_err());
        assert!(texts_from_json("[{}]").is_err());
    }
}
