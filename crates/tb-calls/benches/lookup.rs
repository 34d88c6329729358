//! The Rust part of one caller look-up at the HTTP service, end to end, against an in-memory index of 100,000
//! generated counterparts (`support/phone_numbers.rs`): the PBX's request parsed, the caller's number turned into its
//! index key, the index read (here a hash map; in 1C one read of `ТБ_ИндексТелефонов` by its first dimension),
//! the routing decision, the reply built. Also the write side: the keys and the index change of one card.
//! Medians go in docs/phone-index.md.

#[path = "support/phone_numbers.rs"]
mod phone_numbers;

use std::collections::HashMap;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tb_calls::binotel_webhook::{self, CustomerAnswer, WebhookRequest};
use tb_calls::pbx_lookup;
use tb_calls::phone_index::{index_diff, index_keys, lookup_key};
use tb_calls::routing::{self, Manager, RoutingFacts};
use tb_calls::UtcOffset;

struct Entry {
    name: String,
    manager_line: Option<String>,
}

fn build_index(cards: &[phone_numbers::Card]) -> HashMap<String, Entry> {
    let mut index = HashMap::new();
    for (id, card) in cards.iter().enumerate() {
        for key in index_keys(&card.texts) {
            let entry = Entry {
                name: format!("ООО «Контрагент {id}»"),
                manager_line: (id % 3 != 0).then(|| format!("{}", 800 + id % 50)),
            };
            assert!(index.insert(key, entry).is_none(), "a key collides");
        }
    }
    index
}

fn facts(entry: Option<&Entry>) -> RoutingFacts {
    RoutingFacts {
        card_found: entry.is_some(),
        manager: entry.and_then(|e| {
            e.manager_line.as_ref().map(|line| Manager {
                extension: Some(line.clone()),
                available: Some(true),
                on_call: false,
                hours: None,
                ..Manager::default()
            })
        }),
        now: None,
        group: Some("2".into()),
        ..RoutingFacts::default()
    }
}

fn lookups(c: &mut Criterion) {
    let cards = phone_numbers::cards(100_000, 0x5eed);
    let index = build_index(&cards);
    // Callers: known numbers in the PBXs' own forms, and one unknown.
    let known = &cards[54_322].numbers[0];
    let uis_query = format!(
        "cdr_id=123&start_time=1200&input_result=None&numa={}&numb=74951234567",
        known.key()
    );
    let asterisk_query = format!("number=%2B{}&what=route", known.key());
    let binotel_body = format!(
        "requestType=apiCallSettings&externalNumber={}&companyID=3041&callType=0&pbxNumber=0443334000",
        lookup_key(&phone_numbers::written(&mut phone_numbers::Rng::new(3), known)).unwrap_or_default()
    );

    // What is measured is a hit with a responsible manager: checked once before timing.
    let entry = lookup_key(&known.key()).and_then(|k| index.get(&k));
    let reply = pbx_lookup::uis_reply(
        &routing::route(&facts(entry)),
        entry.map(|e| e.name.as_str()),
    );
    assert_eq!(
        reply,
        r#"{"phones":["822"],"operator_text":"ООО «Контрагент 54322»"}"#
    );

    let mut group = c.benchmark_group("lookup_100k");
    group.throughput(Throughput::Elements(1));
    group.bench_function("uis_route", |b| {
        b.iter(|| {
            let query = pbx_lookup::parse_uis_query(black_box(&uis_query)).ok()?;
            let entry = lookup_key(query.numa.as_deref()?).and_then(|k| index.get(&k));
            let decision = routing::route(&facts(entry));
            Some(pbx_lookup::uis_reply(
                &decision,
                entry.map(|e| e.name.as_str()),
            ))
        })
    });
    group.bench_function("asterisk_lookup", |b| {
        b.iter(|| {
            let query = pbx_lookup::parse_lookup_query(black_box(&asterisk_query)).ok()?;
            let entry = lookup_key(&query.number).and_then(|k| index.get(&k));
            let decision = routing::route(&facts(entry));
            Some(pbx_lookup::lookup_reply(
                &query,
                entry.map(|e| e.name.as_str()),
                &decision,
            ))
        })
    });
    group.bench_function("binotel_call_settings", |b| {
        b.iter(|| {
            let request = binotel_webhook::parse_webhook(
                black_box(binotel_body.as_bytes()),
                "application/x-www-form-urlencoded",
                UtcOffset::MOSCOW,
            )
            .ok()?;
            let WebhookRequest::CallSettings(settings) = request else {
                return None;
            };
            let entry =
                lookup_key(settings.external_number.as_deref()?).and_then(|k| index.get(&k));
            let answer = entry.map(|e| CustomerAnswer {
                name: Some(e.name.clone()),
                employee_number: e.manager_line.clone(),
                ..CustomerAnswer::default()
            });
            Some(binotel_webhook::call_settings_reply(answer.as_ref()))
        })
    });
    group.bench_function("unknown_caller_uis_route", |b| {
        let unknown = "cdr_id=1&numa=79990000000&numb=74951234567";
        b.iter(|| {
            let query = pbx_lookup::parse_uis_query(black_box(unknown)).ok()?;
            let entry = lookup_key(query.numa.as_deref()?).and_then(|k| index.get(&k));
            Some(pbx_lookup::uis_reply(&routing::route(&facts(entry)), None))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("card_write");
    group.throughput(Throughput::Elements(1));
    let card = &cards[777];
    let old: Vec<String> = vec![card.numbers[0].key(), "70000000000".into()];
    group.bench_function("keys_of_one_card", |b| {
        b.iter(|| index_keys(black_box(&card.texts)))
    });
    group.bench_function("index_change_of_one_card", |b| {
        b.iter(|| index_diff(black_box(&old), black_box(&card.texts)))
    });
    group.finish();

    let mut group = c.benchmark_group("rebuild");
    group.sample_size(10);
    group.throughput(Throughput::Elements(cards.len() as u64));
    group.bench_function("keys_of_100k_cards", |b| {
        b.iter(|| {
            cards
                .iter()
                .map(|card| index_keys(&card.texts).len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
