//! Realistic generated counterparts for the phone-index benchmark and its scale test: numbers of Russia,
//! Kazakhstan, Ukraine and Belarus with real operator and area codes, written the ways people type them into a
//! card (national and international forms, brackets, dashes, `доб.`, several numbers in one field). Deterministic
//! (a fixed xorshift seed), so a failure is reproducible.

#![allow(dead_code)]

use std::collections::HashSet;

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn step(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.step() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

/// A number in international form (the key it must get) and its country code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number {
    pub country: &'static str,
    /// The code after the country code (operator or area), as dialled inside the country without a trunk.
    pub code: String,
    pub subscriber: String,
}

impl Number {
    pub fn key(&self) -> String {
        format!("{}{}{}", self.country, self.code, self.subscriber)
    }
}

const RU_CODES: &[&str] = &[
    "900", "901", "903", "905", "909", "910", "915", "916", "917", "919", "920", "925", "926",
    "929", "950", "951", "952", "953", "960", "961", "977", "985", "995", "999", "495", "499",
    "812", "343", "383", "846", "861", "863", "831", "843", "800",
];
const KZ_CODES: &[&str] = &[
    "700", "701", "702", "705", "707", "747", "771", "775", "776", "777", "778", "727", "717",
];
const UA_CODES: &[&str] = &[
    "50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99", "44", "32", "56", "57",
];
const BY_CODES: &[&str] = &["29", "33", "44", "25", "17"];

/// One random number of the four countries (Russia most often, as in the bases this serves).
pub fn number(rng: &mut Rng) -> Number {
    match rng.below(10) {
        0..=5 => Number {
            country: "7",
            code: rng.pick(RU_CODES).into(),
            subscriber: rng.digits(7),
        },
        6 => Number {
            country: "7",
            code: rng.pick(KZ_CODES).into(),
            subscriber: rng.digits(7),
        },
        7 | 8 => Number {
            country: "380",
            code: rng.pick(UA_CODES).into(),
            subscriber: rng.digits(7),
        },
        _ => Number {
            country: "375",
            code: rng.pick(BY_CODES).into(),
            subscriber: rng.digits(7),
        },
    }
}

/// `1234567` → `123-45-67` or `123 45 67` or as is.
fn subscriber(rng: &mut Rng, s: &str) -> String {
    match rng.below(3) {
        0 => format!("{}-{}-{}", &s[..3], &s[3..5], &s[5..]),
        1 => format!("{} {} {}", &s[..3], &s[3..5], &s[5..]),
        _ => s.to_string(),
    }
}

/// The number written one of the ways people write it in a card of a base of its country.
pub fn written(rng: &mut Rng, n: &Number) -> String {
    let sub = subscriber(rng, &n.subscriber);
    let (c, code) = (n.country, n.code.as_str());
    let text = match (c, rng.below(5)) {
        ("7", 0) => format!("+7 ({code}) {sub}"),
        ("7", 1) => format!("8 ({code}) {sub}"),
        ("7", 2) => format!("8{code}{}", n.subscriber),
        ("7", 3) => format!("{code} {sub}"),
        ("7", _) => format!("+7{code}{}", n.subscriber),
        ("380", 0) => format!("+380 ({code}) {sub}"),
        ("380", 1) => format!("0{code} {sub}"),
        ("380", 2) => format!("0{code}{}", n.subscriber),
        ("380", 3) => format!("380{code}{}", n.subscriber),
        ("380", _) => format!("+380{code}{}", n.subscriber),
        (_, 0) => format!("+375 ({code}) {sub}"),
        (_, 1) => format!("8 0{code} {sub}"),
        (_, 2) => format!("80{code}{}", n.subscriber),
        (_, 3) => format!("375{code}{}", n.subscriber),
        (_, _) => format!("8 10 375 {code} {sub}"),
    };
    if rng.below(8) == 0 {
        format!("{text} доб. {}", 1 + rng.below(999))
    } else {
        text
    }
}

/// A counterpart: its numbers (distinct across all cards) and its contact-information texts.
pub struct Card {
    pub numbers: Vec<Number>,
    pub texts: Vec<String>,
}

/// `count` cards with one to three numbers each, all numbers distinct.
pub fn cards(count: usize, seed: u64) -> Vec<Card> {
    let mut rng = Rng::new(seed);
    let mut seen = HashSet::new();
    let mut cards = Vec::with_capacity(count);
    for _ in 0..count {
        let wanted = 1 + (rng.below(10) / 6) as usize + usize::from(rng.below(10) == 0);
        let mut numbers = Vec::new();
        while numbers.len() < wanted {
            let n = number(&mut rng);
            if seen.insert(n.key()) {
                numbers.push(n);
            }
        }
        let written: Vec<String> = numbers.iter().map(|n| written(&mut rng, n)).collect();
        // One field with all numbers, or one field per number (БСП's phone and fax fields).
        let texts = if rng.below(2) == 0 {
            vec![written.join(rng.pick(&[", ", "; ", "\n", " / "]))]
        } else {
            written
        };
        cards.push(Card { numbers, texts });
    }
    cards
}
