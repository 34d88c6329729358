//! The phone-index key rules on arbitrary input: no panic, keys always 10–15 digits, and the key of a number does
//! not depend on how it is written (international with `+`, spaces, brackets, dashes, an extension).

use proptest::prelude::*;
use tb_calls::phone_index::{index_diff, index_keys, lookup_key, text_keys, texts_from_json};

fn is_key(k: &str) -> bool {
    (10..=15).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_digit())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics_and_gives_only_keys(text in "\\PC{0,200}", phone in "[0-9+()\\-. доб,;x#]{0,60}") {
        for t in [&text, &phone] {
            for k in text_keys(t) {
                prop_assert!(is_key(&k), "{t:?} → {k:?}");
            }
            let _ = lookup_key(t);
            let _ = texts_from_json(t);
            let d = index_diff(&[t.as_str()], &[t.as_str()]);
            prop_assert!(d.add.iter().all(|k| is_key(k)));
        }
    }

    #[test]
    fn a_russian_number_has_one_key_however_written(
        code in "9[0-9]{2}", sub in "[0-9]{7}", form in 0usize..6, ext in proptest::option::of(1u32..9999),
    ) {
        let key = format!("7{code}{sub}");
        let (a, b, c) = (&sub[..3], &sub[3..5], &sub[5..]);
        let written = match form {
            0 => format!("+7 ({code}) {a}-{b}-{c}"),
            1 => format!("8 {code} {a} {b} {c}"),
            2 => format!("8{code}{sub}"),
            3 => format!("{code}-{a}-{b}-{c}"),
            4 => format!("+7{code}{sub}"),
            _ => format!("007 {code} {sub}"),
        };
        let written = match ext { Some(e) => format!("{written} доб. {e}"), None => written };
        prop_assert_eq!(lookup_key(&written), Some(key.clone()), "{}", written);
        prop_assert_eq!(index_keys(&[written.as_str()]), vec![key]);
    }

    #[test]
    fn an_international_number_keeps_its_digits(cc in "[1-9][0-9]{0,2}", rest in "[0-9]{8,11}") {
        let digits = format!("{cc}{rest}");
        prop_assume!((10..=15).contains(&digits.len()));
        // +89… is read as the +7 slip; every other international number is kept as written.
        prop_assume!(!(digits.len() == 11 && digits.starts_with("89")));
        prop_assert_eq!(lookup_key(&format!("+{digits}")), Some(digits.clone()));
        prop_assert_eq!(lookup_key(&format!("+{cc} {rest}")), Some(digits));
    }
}
