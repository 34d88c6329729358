//! No input makes a normalizer or decoder panic; malformed bodies give errors that say what is wrong.

use proptest::prelude::*;
use tb_calls::{binotel, connect, history, php, uiscom, CallsError, UtcOffset};

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = uiscom::normalize(&bytes, None, UtcOffset::MOSCOW);
        let _ = binotel::parse_push(&bytes, "", UtcOffset::MOSCOW);
        let _ = binotel::parse_push(&bytes, "application/x-www-form-urlencoded", UtcOffset::MOSCOW);
        let _ = binotel::check_response(&bytes, "secret");
        let _ = php::decode_json(&bytes);
        let _ = php::decode_form(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = history::merge_into_history(&text, &text, true, &history::MergeOptions::default());
        let _ = binotel::sign_json(&text, "secret");
    }

    #[test]
    fn json_shaped_text_never_panics(text in r#"[\[\]{}",:0-9a-zA-Z_\\ .eE+\-]{0,120}"#) {
        let _ = uiscom::normalize(text.as_bytes(), None, UtcOffset::MOSCOW);
        let _ = binotel::parse_push(text.as_bytes(), "json", UtcOffset::MOSCOW);
        if let Ok(value) = php::decode_json(text.as_bytes()) {
            let _ = value.to_php_json();
        }
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
            let _ = connect::normalize_call_event(&value, UtcOffset::MOSCOW);
        }
    }

    #[test]
    fn uiscom_bodies_with_any_field_values_normalize(
        session in any::<u64>(),
        start in "[0-9: .T+-]{0,30}",
        ext in proptest::option::of("[0-9]{0,5}"),
        lost in proptest::option::of(".{0,10}"),
        total in any::<i64>(),
    ) {
        let body = serde_json::json!({
            "call_session_id": session, "Start_time": start, "extension_phone_number": ext,
            "lost_reason": lost, "total_time_duration": total, "wait_time_duration": "x",
        });
        let event = uiscom::normalize(body.to_string().as_bytes(), None, UtcOffset::MOSCOW);
        prop_assert!(event.is_ok());
    }

    #[test]
    fn php_json_roundtrip_is_stable(value in arb_json()) {
        let text = value.to_string();
        let first = php::decode_json(text.as_bytes()).map_err(TestCaseError::fail)?;
        if let Ok(encoded) = first.to_php_json() {
            let second = php::decode_json(encoded.as_bytes()).map_err(TestCaseError::fail)?;
            prop_assert_eq!(second.to_php_json().ok(), Some(encoded));
        }
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter(
                "finite, and not -0.0 (PHP prints it as -0, which reads back as int 0)",
                |f| f.is_finite() && !(*f == 0.0 && f.is_sign_negative())
            )
            .prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("[a-z0-9]{0,4}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn malformed_bodies_say_what_is_wrong() {
    let cases: Vec<(Result<tb_calls::CallEvent, CallsError>, &str, &str)> = vec![
        (
            uiscom::normalize(b"{\"call_session_id\": }", None, UtcOffset::MOSCOW),
            "UIScom notification: not JSON (expected value at line 1 column 21)",
            "уведомление UIScom: это не JSON",
        ),
        (
            uiscom::normalize(b"", None, UtcOffset::MOSCOW),
            "UIScom notification: the body is empty",
            "уведомление UIScom: тело пустое",
        ),
        (
            uiscom::normalize(b"{\"call_session_id\": null}", None, UtcOffset::MOSCOW),
            "UIScom notification: the required field call_session_id is missing or empty",
            "нет обязательного поля call_session_id",
        ),
        (
            binotel::parse_push(b"{\"generalCallID\":1}", "", UtcOffset::MOSCOW),
            "Binotel push: the required field requestType is missing or empty",
            "push-запрос Binotel",
        ),
        (
            binotel::parse_push(b"requestType=hello&generalCallID=1", "", UtcOffset::MOSCOW),
            "unknown Binotel push type (requestType) \"hello\"",
            "неизвестный тип push-запроса",
        ),
        (
            binotel::parse_push(b"requestType=hangupTheCall", "", UtcOffset::MOSCOW),
            "the required field generalCallID is missing",
            "generalCallID",
        ),
        (
            binotel::parse_push(b"{\"requestType\":", "application/json", UtcOffset::MOSCOW),
            "Binotel push: not JSON (unexpected end of input at byte 15)",
            "это не JSON",
        ),
        (
            binotel::parse_push(b"hello", "", UtcOffset::MOSCOW),
            "no name=value pair found",
            "не разобрано",
        ),
        (
            binotel::parse_push(b"a=1", "text/xml", UtcOffset::MOSCOW),
            "content type \"text/xml\" is not supported",
            "не поддерживается",
        ),
        (
            binotel::parse_push(
                b"{\"requestType\":\"receivedTheCall\",\"x\":\"\\ud800\"}",
                "",
                UtcOffset::MOSCOW,
            ),
            "single unpaired UTF-16 surrogate",
            "это не JSON",
        ),
    ];
    for (result, en, ru) in cases {
        let err = result.expect_err(en);
        assert!(err.to_string().contains(en), "{err} / expected {en}");
        assert!(err.ru().contains(ru), "{} / expected {ru}", err.ru());
    }
    assert!(matches!(
        UtcOffset::parse("Europe/Moscow"),
        Err(CallsError::InvalidTimeZone { .. })
    ));
}

#[test]
fn fuzz_findings_stay_fixed() {
    // cargo-fuzz: a form whose keys PHP's comparison cannot order consistently made slice::sort_by panic.
    let body = include_bytes!("data/fuzz/ksort-intransitive-form.bin");
    let _ = binotel::verify_body(body, "", "secret");
    let _ = binotel::parse_push(body, "", UtcOffset::MOSCOW);
}
