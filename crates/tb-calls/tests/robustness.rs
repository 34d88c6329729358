//! No input makes a normalizer or decoder panic; malformed bodies give errors that say what is wrong.

use proptest::prelude::*;
use tb_calls::{
    binotel, binotel_webhook, connect, history, index_rebuild, pbx_lookup, php, routing, uiscom,
    CallsError, UtcOffset,
};

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
        // Issue 18: Binotel's webhook, the PBX questions, the allowlist, the client address, the routing facts.
        let _ = binotel_webhook::parse_webhook(&bytes, "", UtcOffset::MOSCOW);
        let _ = binotel_webhook::client_address(&text);
        let _ = binotel_webhook::Allowlist::parse(&text);
        let _ = binotel_webhook::customer_answer_from_json(&text)
            .map(|a| binotel_webhook::call_settings_reply(a.as_ref()));
        let _ = binotel_webhook::web_client_link(&text, &text);
        let _ = pbx_lookup::parse_uis_query(&text);
        let _ = pbx_lookup::parse_lookup_query(&text);
        let _ = routing::facts_from_json(&text).map(|f| routing::route(&f));
    }

    #[test]
    fn address_and_schedule_shaped_text_never_panics(
        text in r#"[0-9a-f.:/\[\], ]{0,60}"#,
        time in "[0-9:]{0,6}",
        weekday in any::<u8>(),
    ) {
        let _ = binotel_webhook::Allowlist::parse(&text).map(|l| {
            binotel_webhook::client_address(&text).map(|ip| l.admits(ip))
        });
        let hours = routing::WorkingHours { days: vec![weekday], from: time.clone(), to: text.clone() };
        let _ = routing::in_working_hours(&hours, &routing::LocalTime { weekday, time });
    }

    /// The working-hours rule of the settings form and the route: any instant, zone or schedule text gives an
    /// answer or an error, never a panic (instants far beyond any date included).
    #[test]
    fn working_time_never_panics(
        now in any::<i64>(),
        zone in r#"[0-9a-zA-Z:+\- ]{0,10}"#,
        schedule in r#"[\[\]{}",:0-9a-z ]{0,60}"#,
    ) {
        let _ = routing::is_working_time(now, &zone, &schedule);
        let _ = routing::is_working_time(now, "+03:00", &format!(r#"{{"days":[1,7],"from":"{schedule}","to":"18:00"}}"#));
        let _ = routing::uis_phone(&schedule);
        let _ = routing::line_busy(&[routing::LineCall { talked: true, finished: false, last_event: now }], Some(now.wrapping_neg()), u32::MAX);
        let _ = index_rebuild::facts_from_json(&schedule).map(|f| index_rebuild::rebuild_needed(&f));
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

    /// Every value of `arb_json` is finite, so it must encode (an `if let Ok` here once let a broken encoder
    /// pass every case), and the encoding must read back to itself.
    #[test]
    fn php_json_roundtrip_is_stable(value in arb_json()) {
        let text = value.to_string();
        let first = php::decode_json(text.as_bytes()).map_err(TestCaseError::fail)?;
        let encoded = first
            .to_php_json()
            .map_err(|e| TestCaseError::fail(format!("{text} does not encode: {e:?}")))?;
        let second = php::decode_json(encoded.as_bytes()).map_err(TestCaseError::fail)?;
        prop_assert_eq!(second.to_php_json().ok(), Some(encoded));
    }
}

/// The one thing PHP's `json_encode` refuses among decoded values: a number too large for a float (`1e400`
/// decodes to INF). It is refused here too, and only it: the same document without it encodes.
#[test]
fn only_a_non_finite_number_does_not_encode() {
    let refused = php::decode_json(br#"{"a":[1,"x",1e400]}"#).unwrap();
    assert!(matches!(
        refused.to_php_json(),
        Err(CallsError::NotEncodable { .. })
    ));
    let fine = php::decode_json(br#"{"a":[1,"x",1e300]}"#).unwrap();
    assert_eq!(fine.to_php_json().unwrap(), r#"{"a":[1,"x",1.0e+300]}"#);
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
fn malformed_bodies_give_typed_errors() {
    // The texts of these errors are checked where they are written: src/present/calls.rs.
    use tb_calls::{Problem, Subject};
    let moscow = UtcOffset::MOSCOW;
    let not_json = |what: Subject| move |e: &CallsError| matches!(e, CallsError::NotJson { what: w, .. } if *w == what);
    assert!(not_json(Subject::UiscomNotification)(
        &uiscom::normalize(b"{\"call_session_id\": }", None, moscow).unwrap_err()
    ));
    assert_eq!(
        uiscom::normalize(b"", None, moscow).unwrap_err(),
        CallsError::EmptyBody {
            what: Subject::UiscomNotification
        }
    );
    assert_eq!(
        uiscom::normalize(b"{\"call_session_id\": null}", None, moscow).unwrap_err(),
        CallsError::MissingField {
            what: Subject::UiscomNotification,
            field: "call_session_id"
        }
    );
    assert_eq!(
        binotel::parse_push(b"{\"generalCallID\":1}", "", moscow).unwrap_err(),
        CallsError::MissingField {
            what: Subject::BinotelPush,
            field: "requestType"
        }
    );
    assert_eq!(
        binotel::parse_push(b"requestType=hello&generalCallID=1", "", moscow).unwrap_err(),
        CallsError::UnknownPushType {
            given: "hello".into()
        }
    );
    assert!(matches!(
        binotel::parse_push(b"requestType=hangupTheCall", "", moscow),
        Err(CallsError::MissingField {
            field: "generalCallID",
            ..
        })
    ));
    assert!(not_json(Subject::BinotelPush)(
        &binotel::parse_push(b"{\"requestType\":", "application/json", moscow).unwrap_err()
    ));
    assert_eq!(
        binotel::parse_push(b"hello", "", moscow).unwrap_err(),
        CallsError::InvalidForm {
            detail: Problem::NoFormPairs
        }
    );
    assert!(matches!(
        binotel::parse_push(b"a=1", "text/xml", moscow),
        Err(CallsError::UnknownContentType { .. })
    ));
    assert!(not_json(Subject::BinotelPush)(
        &binotel::parse_push(
            b"{\"requestType\":\"receivedTheCall\",\"x\":\"\\ud800\"}",
            "",
            moscow,
        )
        .unwrap_err()
    ));
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
