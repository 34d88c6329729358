//! Normalizations per second for each source, signatures per second (criterion; medians go in the issue notes).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tb_calls::{binotel, connect, history, uiscom, UtcOffset};

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

criterion_group!(benches, normalizations, signatures);
criterion_main!(benches);
