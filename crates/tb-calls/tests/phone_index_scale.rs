//! The key scheme at the scale of a real base: 100,000 generated counterparts with 1–3 numbers of Russia,
//! Kazakhstan, Ukraine and Belarus, written the ways people write them. Every card gets exactly the keys of its
//! numbers, no two cards share a key, and every written form of a number finds its card.

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
