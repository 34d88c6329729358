//! Every example body of the seeds → the expected normalized JSON (golden files next to the bodies).
//!
//! The `*.expected.json` files were generated once with `UPDATE_EXPECTED=1 cargo test -p tb-calls --test
//! seed_examples` and then read and checked by hand against seeds 001/003; a change in them must be a deliberate one.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tb_calls::binotel;
use tb_calls::uiscom::{self, UiscomMethod};
use tb_calls::UtcOffset;

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(data(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Compares `actual` with the golden file, or rewrites it under UPDATE_EXPECTED=1.
fn check_golden(expected_path: &str, actual: &Value) {
    let path = data(expected_path);
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        let text = serde_json::to_string_pretty(actual).unwrap_or_default();
        std::fs::write(&path, text + "\n").unwrap_or_else(|e| panic!("{expected_path}: {e}"));
        return;
    }
    let expected: Value = serde_json::from_slice(&read(expected_path))
        .unwrap_or_else(|e| panic!("{expected_path}: {e}"));
    assert_eq!(
        actual,
        &expected,
        "{expected_path} differs; actual:\n{}",
        serde_json::to_string_pretty(actual).unwrap_or_default()
    );
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[test]
fn uiscom_templates_of_seed_001() {
    let cases: &[(&str, &str)] = &[
        ("in_ringing", "in"),
        ("in_answered", "/in"),
        ("in_lost", "UIScom/in"),
        ("in_lost_outgoing", "/hs/UIScom/IN"),
        ("out", "out"),
        ("rec", "rec"),
        ("rec_lost_by_operator", "/rec"),
        ("admin_typed", ""),
    ];
    for (name, method) in cases {
        let body = read(&format!("uiscom/{name}.json"));
        let method = UiscomMethod::parse(method).expect("valid method");
        let event = uiscom::normalize(&body, method, UtcOffset::MOSCOW)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        check_golden(&format!("uiscom/{name}.expected.json"), &to_value(&event));
        // Inference from the body gives the same event for the seed's templates.
        let inferred = uiscom::normalize(&body, None, UtcOffset::MOSCOW)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            inferred.event, event.event,
            "{name}: inferred method disagrees"
        );
    }
}

#[test]
fn binotel_pushes_of_seed_003() {
    let cases: &[(&str, &str)] = &[
        (
            "received_incoming.form",
            "application/x-www-form-urlencoded",
        ),
        ("received_incoming.json", ""),
        ("received_outgoing.form", ""),
        (
            "answered.form",
            "application/x-www-form-urlencoded; charset=UTF-8",
        ),
        ("hangup.form", ""),
        ("hangup_noanswer.json", "application/json"),
        ("transferred.json", ""),
        ("api_call_completed.form", ""),
    ];
    for (name, content_type) in cases {
        let body = read(&format!("binotel/{name}"));
        let event = binotel::parse_push(&body, content_type, UtcOffset::MOSCOW)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let stem = name.replace('.', "_");
        check_golden(&format!("binotel/{stem}.expected.json"), &to_value(&event));
    }
}

/// The seed's API replies, re-signed with the vectors' test secret (the seed's own secret is unknown): the signature
/// value comes from PHP (signature_vectors.json), not from the code under test.
fn resigned(seed_file: &str, vector_name: &str) -> (Vec<u8>, String) {
    let vectors: Value =
        serde_json::from_slice(&read("signature_vectors.json")).unwrap_or(Value::Null);
    let vector = vectors["vectors"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == vector_name))
        .unwrap_or_else(|| panic!("no vector {vector_name}"));
    let mut body: Value = serde_json::from_slice(&read(seed_file)).unwrap_or(Value::Null);
    let old = body["signature"].as_str().unwrap_or_default().to_string();
    let text = String::from_utf8(read(seed_file)).unwrap_or_default();
    body["signature"] = vector["signature"].clone();
    let new = vector["signature"].as_str().unwrap_or_default();
    (
        text.replace(&old, new).into_bytes(),
        vector["secret"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn binotel_call_details_reply_of_seed_003() {
    let (body, secret) = resigned(
        "binotel/call_details_response.seed.json",
        "seed call-details response",
    );
    let events = binotel::parse_call_details_response(&body, &secret, UtcOffset::MOSCOW)
        .expect("signed reply");
    check_golden(
        "binotel/call_details_response.expected.json",
        &to_value(&events),
    );
    // The seed's own signature was made with another secret: a clear error, not a silent pass.
    let original = read("binotel/call_details_response.seed.json");
    let err =
        binotel::parse_call_details_response(&original, &secret, UtcOffset::MOSCOW).unwrap_err();
    assert!(
        matches!(err, tb_calls::CallsError::SignatureMismatch { .. }),
        "{err}"
    );
    assert!(!err.to_string().contains(&secret));
}

#[test]
fn binotel_call_record_reply_of_seed_003() {
    let (body, secret) = resigned(
        "binotel/call_record_response.seed.json",
        "seed call-record response",
    );
    let url = binotel::parse_call_record_response(&body, &secret).expect("signed reply");
    assert_eq!(
        url,
        "https://cdn0993.s3.amazonaws.com/74/744924436.mp3?AWSAccessKeyId=AKIAJAXVY477KWWB5YJA&Expires=1557224957&Signature=2R1U9g8uiu044QGFdWFsSRlw%3D&companyID=10757881"
    );
}
