//! The key scheme at the scale of a real base: 100,000 generated counterparts with 1–3 numbers of Russia,
//! Kazakhstan, Ukraine and Belarus, written the ways people write them. Every card gets exactly the keys of its
//! numbers, no two cards share a key, and every written form of a number finds its card. And the key table of
//! docs/phone-index.md says what the rule does.

#[path = "../benches/support/phone_numbers.rs"]
mod phone_numbers;

use std::collections::HashMap;

use tb_calls::phone_index::{index_keys, lookup_key};

#[test]
fn a_hundred_thousand_counterparts_have_no_colliding_or_missing_keys() {
    let cards = phone_numbers::cards(100_000, 0x5eed);
    let mut index: HashMap<String, usize> = HashMap::new();
    for (id, card) in cards.iter().enumerate() {
        let mut expected: Vec<String> = card.numbers.iter().map(|n| n.key()).collect();
        expected.sort();
        assert_eq!(
            index_keys(&card.texts),
            expected,
            "card {id}: {:?}",
            card.texts
        );
        for key in expected {
            assert!(index.insert(key.clone(), id).is_none(), "{key} collides");
        }
    }
    assert!(index.len() > 100_000);
    // Each number looked up as a PBX sends it (another written form than the card's) finds its card.
    let mut rng = phone_numbers::Rng::new(7);
    for (id, card) in cards.iter().enumerate() {
        for number in &card.numbers {
            let asked = phone_numbers::written(&mut rng, number);
            let key = lookup_key(&asked).unwrap_or_else(|| panic!("{asked}: no key"));
            assert_eq!(index.get(&key), Some(&id), "{asked}");
        }
    }
}

/// Every example of the key table in docs/phone-index.md (`written` → `key`, «он же», «нет ключа»): what is wrong.
fn doc_example_problems(page: &str) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut problems = Vec::new();
    for row in page
        .lines()
        .filter(|l| l.starts_with('|') && l.contains('→'))
    {
        let cell = row.trim_end_matches('|').rsplit('|').next().unwrap_or("");
        let Some((left, right)) = cell.split_once('→') else {
            continue;
        };
        let quoted = |s: &str| s.split('`').nth(1).map(str::to_string);
        let Some(written) = quoted(left) else {
            continue;
        };
        let expected = if right.contains("нет ключа") {
            None
        } else if right.contains("он же") {
            Some(written.clone())
        } else {
            quoted(right)
        };
        checked += 1;
        let got = lookup_key(&written);
        if got != expected {
            problems.push(format!(
                "{written:?}: the page says {expected:?}, the rule gives {got:?}"
            ));
        }
    }
    (checked, problems)
}

#[test]
fn the_key_table_of_the_docs_is_what_the_rule_does() {
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/phone-index.md"
    ))
    .expect("docs/phone-index.md");
    let (checked, problems) = doc_example_problems(&page);
    assert!(checked >= 9, "only {checked} examples found");
    assert_eq!(problems, Vec::<String>::new());
    // Mutation: a wrong key and a wrong «no key» on the page are caught.
    let wrong = page.replacen("→ `79261234567`", "→ `89261234567`", 1);
    assert_eq!(doc_example_problems(&wrong).1.len(), 1);
    let wrong = page.replacen("`123-45-67` → нет ключа", "`123-45-67` → `71234567`", 1);
    assert_eq!(doc_example_problems(&wrong).1.len(), 1);
}
