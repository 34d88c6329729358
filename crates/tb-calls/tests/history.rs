//! The call-history rules of seed 000 (ИсторияЗвонков), through the pure merge function and the seed-001 bodies.

use std::path::Path;

use serde_json::{json, Value};
use tb_calls::history::{merge_into_history, HistoryMerge, MergeOptions};
use tb_calls::uiscom::{self, UiscomMethod};
use tb_calls::{CallsError, Subject, UtcOffset};

fn body(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/uiscom")
        .join(format!("{name}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn options() -> MergeOptions {
    MergeOptions {
        time_zone: UtcOffset::MOSCOW,
        received_at: None,
    }
}

fn merge(
    record: &str,
    notification: &str,
    add_events: bool,
    options: &MergeOptions,
) -> HistoryMerge {
    merge_into_history(record, notification, add_events, options).unwrap_or_else(|e| panic!("{e}"))
}

fn record_json(merge: &HistoryMerge) -> String {
    serde_json::to_string(&merge.record).unwrap_or_default()
}

#[test]
fn add_events_makes_a_new_record_per_notification_and_publishes_once_an_operator_is_known() {
    let received = MergeOptions {
        received_at: Some("2024-03-15 10:21:08".into()),
        ..options()
    };
    let ringing = merge("", &body("in_ringing"), true, &received);
    assert!(ringing.is_new_record);
    assert!(
        !ringing.publish_to_extension && ringing.publish.is_none(),
        "no operator yet"
    );
    let record = serde_json::to_value(&ringing.record).unwrap_or(Value::Null);
    assert_eq!(
        record,
        json!({
            "period": "2024-03-15T10:21:08",
            "session_id": 3201987654u64,
            "number": "74951234567",
            "start_time": "2024-03-15 10:21:07.863",
            "incoming": true,
            "channel": "",
            "calling_number": "79261234567",
            "event_name": "Входящий звонок",
            "body": ringing.record.body,
        })
    );

    let answered = merge(
        &record_json(&ringing),
        &body("in_answered"),
        true,
        &options(),
    );
    assert!(answered.is_new_record);
    assert_eq!(answered.record.channel, "101");
    assert_eq!(
        answered.record.period, "2024-03-15T10:21:07",
        "without received_at the event's time is used"
    );
    let publish = answered.publish.clone().expect("a filled Канал publishes");
    assert!(answered.publish_to_extension);
    assert_eq!(publish.channel, "101");
    assert_eq!(publish.data["user"], "UIScom");
    assert_eq!(
        publish.data["text"], "79261234567",
        "talk start sends the caller's number"
    );
    assert_eq!(publish.data["call"]["event"], "answered");
    assert!(publish.data["call"].get("raw").is_none());

    let finished = merge(&record_json(&answered), &body("rec"), true, &options());
    let publish = finished.publish.expect("a filled Канал publishes");
    assert_eq!(finished.record.period, "2024-03-15T10:24:12");
    // The seed sent the whole body when the call ended; the body carries the recording links, so the push now
    // carries the caller's number and the stripped event only, whatever the operator's right to hear recordings.
    assert_eq!(
        publish.data["text"], "79261234567",
        "call end sends the number too"
    );
    assert_eq!(publish.data["call"]["event"], "finished");
    assert!(
        finished.record.body.contains("full_record_file_link"),
        "the history keeps the body"
    );
    let pushed = publish.data.to_string();
    for leak in [
        "app.uiscom.ru/system/media",
        "record_urls",
        "raw",
        "full_record_file_link",
        "wav_call_records",
        "employee_ids",
    ] {
        assert!(!pushed.contains(leak), "{leak} pushed: {pushed}");
    }
    assert_eq!(
        publish
            .data
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec![
            "user".to_string(),
            "text".to_string(),
            "call".to_string(),
            "popup".to_string()
        ])
    );
}

#[test]
fn without_add_events_the_same_record_is_updated_with_the_call_start() {
    let ringing = merge("", &body("in_ringing"), false, &options());
    assert!(
        ringing.is_new_record,
        "the first notification still creates the record"
    );
    assert_eq!(ringing.record.period, "2024-03-15T10:21:07");
    let mut previous = serde_json::to_value(&ringing.record).unwrap_or(Value::Null);
    previous["period"] = json!("2024-03-15T10:21:07");
    let answered = merge(
        &previous.to_string(),
        &body("in_answered"),
        false,
        &options(),
    );
    assert!(!answered.is_new_record);
    assert_eq!(answered.record.period, "2024-03-15T10:21:07");
    assert_eq!(answered.record.event_name, "Начало Входящего звонка");
    assert_eq!(answered.record.channel, "101");
    // A record of another call is not "the same record".
    let other = merge(&previous.to_string(), &body("in_lost"), false, &options());
    assert!(other.is_new_record);
}

#[test]
fn lost_outgoing_call_keeps_the_extension_found_by_session_id() {
    let outgoing = merge("", &body("out"), true, &options());
    assert_eq!(outgoing.record.channel, "102");
    assert!(!outgoing.record.incoming);
    // The previous record is found by call_session_id alone, even with another Номер.
    let mut previous = serde_json::to_value(&outgoing.record).unwrap_or(Value::Null);
    previous["number"] = json!("74950000000");
    let lost = merge(
        &previous.to_string(),
        &body("in_lost_outgoing"),
        true,
        &options(),
    );
    assert_eq!(
        lost.record.channel, "102",
        "Канал is not overwritten by the lost-call template"
    );
    assert!(lost.publish_to_extension);
    assert_eq!(lost.event.event.as_str(), "lost");
    // A lost incoming call with no operator publishes nothing.
    let lost_incoming = merge("", &body("in_lost"), true, &options());
    assert!(!lost_incoming.publish_to_extension);
    assert_eq!(lost_incoming.record.channel, "");
}

#[test]
fn the_notification_may_be_already_normalized() {
    let event = uiscom::normalize(
        body("in_answered").as_bytes(),
        Some(UiscomMethod::In),
        UtcOffset::MOSCOW,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let from_event = merge("", &event.to_json_string(), true, &options());
    let from_body = merge("", &body("in_answered"), true, &options());
    assert_eq!(from_event.record, from_body.record);
    assert_eq!(from_event.publish, from_body.publish);
}

#[test]
fn bad_inputs_are_clear_errors() {
    let err = merge_into_history("{", &body("in_ringing"), true, &options()).unwrap_err();
    assert!(
        matches!(
            err,
            CallsError::NotJson {
                what: Subject::CallHistoryRecord,
                ..
            }
        ),
        "{err}"
    );
    let err = merge_into_history("[]", &body("in_ringing"), true, &options()).unwrap_err();
    assert!(matches!(err, CallsError::NotAnObject { .. }), "{err}");
    let err = merge_into_history("", r#"{"direction":"in"}"#, true, &options()).unwrap_err();
    assert!(err.to_string().contains("call_session_id"), "{err}");
    let err = merge_into_history("", "", true, &options()).unwrap_err();
    assert!(matches!(err, CallsError::EmptyBody { .. }), "{err}");
    let result = merge("", &body("in_ringing"), true, &options());
    let json: Value = serde_json::from_str(&result.to_json_string()).unwrap_or(Value::Null);
    for key in [
        "is_new_record",
        "publish_to_extension",
        "record",
        "publish",
        "event",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
}

fn binotel(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/binotel")
        .join(name);
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let content_type = if name.ends_with(".form") {
        "application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    tb_calls::binotel::parse_push(&body, content_type, UtcOffset::UTC)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .to_json_string()
}

#[test]
fn a_hangup_without_a_number_is_found_by_its_call_id_and_reaches_the_operator() {
    let received = MergeOptions {
        received_at: Some("2024-03-15 10:21:08".into()),
        ..options()
    };
    let ringing = merge("", &binotel("received_incoming.json"), true, &received);
    assert_eq!(ringing.record.channel, "801");
    assert!(ringing.popup, "the first event of the call opens the card");
    let hangup = merge(
        &record_json(&ringing),
        &binotel("hangup.form"),
        true,
        &received,
    );
    assert_eq!(
        hangup.record.channel, "801",
        "Канал comes from the call's record"
    );
    assert_eq!(hangup.record.number, "0443334000");
    assert!(hangup.publish_to_extension);
    assert_eq!(hangup.event.event.as_str(), "finished");
    assert!(
        !hangup.popup,
        "the end of the call updates the card, it opens none"
    );
    // Without the call's record there is nobody to tell.
    let orphan = merge("", &binotel("hangup.form"), true, &received);
    assert!(!orphan.publish_to_extension);
}

#[test]
fn the_card_opens_once_per_call_and_operator() {
    let ringing = merge("", &body("in_ringing"), true, &options());
    assert!(!ringing.popup, "no operator yet: nothing to open");
    let answered = merge(
        &record_json(&ringing),
        &body("in_answered"),
        true,
        &options(),
    );
    assert!(answered.popup);
    assert_eq!(
        answered.publish.as_ref().map(|p| p.data["popup"].clone()),
        Some(json!(true))
    );
    let finished = merge(&record_json(&answered), &body("rec"), true, &options());
    assert!(finished.publish_to_extension);
    assert!(!finished.popup);
    assert_eq!(
        finished.publish.as_ref().map(|p| p.data["popup"].clone()),
        Some(json!(false))
    );
    // Another operator picks the call up (a transfer): their card opens.
    let mut previous: Value = serde_json::from_str(&record_json(&answered)).unwrap_or(Value::Null);
    previous["channel"] = json!("555");
    let transferred = merge(
        &previous.to_string(),
        &body("in_answered"),
        true,
        &options(),
    );
    assert!(transferred.popup);
}
