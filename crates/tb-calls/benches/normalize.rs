//! Normalizations per second for each source, signatures per second, and the cost of the delivery rules a client
//! runs per card (criterion; medians go in the issue notes and docs/delivery-rules.md).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tb_calls::{binotel, connect, delivery, history, uiscom, UtcOffset};

const UISCOM_REC: &[u8] = include_bytes!("../tests/data/uiscom/rec.json");
const BINOTEL_FORM: &[u8] = include_bytes!("../tests/data/binotel/api_call_completed.form");
const BINOTEL_JSON: &[u8] = include_bytes!("../tests/data/binotel/hangup_noanswer.json");
const CALL_DETAILS: &[u8] = include_bytes!("../tests/data/binotel/call_details_response.seed.json");

fn normalizations(c: &mut Criterion) {
    let mut group = c.benchmark_group("normalize");
    group.throughput(Throughput::Elements(1));
    group.bench_function("uiscom_rec", |b| {
        b.iter(|| uiscom::normalize(black_box(UISCOM_REC), None, UtcOffset::MOSCOW))
    });
    group.bench_function("binotel_push_form", |b| {
        b.iter(|| binotel::parse_push(black_box(BINOTEL_FORM), "", UtcOffset::MOSCOW))
    });
    group.bench_function("binotel_push_json", |b| {
        b.iter(|| binotel::parse_push(black_box(BINOTEL_JSON), "", UtcOffset::MOSCOW))
    });
    let connect_event = serde_json::json!({
        "Mode": "Softphone", "Object": "Call", "Initiator": "incoming", "State": "Finished",
        "CallID": "c1", "CallFrom": "+79260000000", "CallTo": "531ef6c7-deb8-11e0-ad02-000c2926d843",
        "StartTime": "2024-05-01 09:00:00", "AcceptTime": "2024-05-01 09:00:05", "EndTime": "2024-05-01 09:01:00",
        "Duration": "60", "BillSec": "55", "CallResult": "Success"
    });
    group.bench_function("connect_call", |b| {
        b.iter(|| connect::normalize_call_event(black_box(&connect_event), UtcOffset::MOSCOW))
    });
    let previous = history::merge_into_history(
        "",
        std::str::from_utf8(include_bytes!("../tests/data/uiscom/in_answered.json"))
            .unwrap_or_default(),
        true,
        &history::MergeOptions::default(),
    )
    .map(|m| serde_json::to_string(&m.record).unwrap_or_default())
    .unwrap_or_default();
    let rec = std::str::from_utf8(UISCOM_REC).unwrap_or_default();
    group.bench_function("uiscom_merge_into_history", |b| {
        b.iter(|| {
            history::merge_into_history(
                black_box(&previous),
                black_box(rec),
                true,
                &history::MergeOptions::default(),
            )
        })
    });
    group.finish();
}

fn signatures(c: &mut Criterion) {
    let mut group = c.benchmark_group("signature");
    group.throughput(Throughput::Elements(1));
    let response = binotel::decode_body(
        CALL_DETAILS,
        binotel::BodyFormat::Json,
        tb_calls::Subject::BinotelResponse,
    )
    .unwrap_or_default();
    group.bench_function("sign_call_details_response", |b| {
        b.iter(|| {
            binotel::sign(
                black_box(&response),
                "secret",
                binotel::SignatureVariant::WithoutKey,
            )
        })
    });
    group.bench_function("sign_small_request", |b| {
        b.iter(|| {
            binotel::sign_json(
                black_box(r#"{"generalCallID":[744924436],"key":"701151-a3a9ca8"}"#),
                "secret",
            )
        })
    });
    group.bench_function("verify_call_details_response_bytes", |b| {
        b.iter(|| binotel::verify_body(black_box(CALL_DETAILS), "application/json", "secret"))
    });
    group.finish();
}

/// Path choice per session, de-duplication per card (a full seen-set: the worst case, its eviction scan), and the
/// pending card of a call event.
fn delivery_rules(c: &mut Criterion) {
    let mut group = c.benchmark_group("delivery");
    group.throughput(Throughput::Elements(1));
    let facts = delivery::facts_from_json(
        r#"{"client":"web","addin":false,"platform":"8.3.27.1935","collaboration":true,"file_base":false,"centrifugo":true,"disabled":["collaboration"]}"#,
    )
    .unwrap_or_else(|e| panic!("facts: {e}"));
    group.bench_function("choose_paths", |b| {
        b.iter(|| delivery::choose_paths(black_box(&facts)))
    });
    group.bench_function("is_repeat_duplicate", |b| {
        let mut seen = delivery::Seen::default();
        seen.is_repeat("call-1", "answered");
        b.iter(|| seen.is_repeat(black_box("call-1"), black_box("ringing")))
    });
    group.bench_function("is_repeat_new_call_full_set", |b| {
        let mut seen = delivery::Seen::default();
        let ids: Vec<String> = (0..4096).map(|n| format!("call-{n}")).collect();
        let mut next = 0;
        b.iter(|| {
            next = (next + 1) % ids.len();
            seen.is_repeat(black_box(&ids[next]), "ringing")
        })
    });
    group.bench_function("is_stale", |b| {
        b.iter(|| delivery::is_stale(black_box(1_000), black_box(121_000), black_box(60_000), 0))
    });
    let event = r#"{"source":"uiscom","event":"ringing","call_id":"3001","caller":"+7 495 123-45-67","callee":"101","name":"ООО Ромашка","card":"e1cib/data/Справочник.Контрагенты?ref=1"}"#;
    group.bench_function("pending_card", |b| {
        b.iter(|| delivery::pending_card(black_box(event), 120, 1_800_000_000_000))
    });
    group.finish();
}

criterion_group!(benches, normalizations, signatures, delivery_rules);
criterion_main!(benches);
