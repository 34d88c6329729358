//! 1C-Connect `Call` events (seed 002, Object="Call") → the normalized call event.
//!
//! The input is the event as a JSON object, however the ConnectAgent layer spells it: the tags of the XML
//! (`CallID`, `CallFrom`, `CallTo`, `State`, `StartTime`, `AcceptTime`, `EndTime`, `Duration`, `BillSec`,
//! `CallResult`, `CallRecordLink`, `KeyPressed`, `SipCause`) and the attributes (`Time`, `Mode`, `Initiator`),
//! in any case, camelCase or snake_case, flat or with the tags under `Data`/`Fields`.
//!
//! 1C-Connect gives times in UTC of its cloud (seed 002, 1.1.2), so times without an offset are read as UTC and
//! written in the configured offset. `CallFrom`/`CallTo` are usually user UUIDs, not phone numbers: their digit
//! twins stay null unless the value looks like a phone number.

use serde_json::{Map, Value};

use crate::error::{CallsError, Problem, Subject};
use crate::model::{CallEvent, Direction, EventKind, Source};
use crate::time::{CallTime, UtcOffset};

const WHAT: Subject = Subject::ConnectCallEvent;

/// Field names compared without case and underscores (`CallID`, `callId`, `call_id`).
struct LooseFields<'a> {
    entries: Vec<(String, &'a Value)>,
}

impl<'a> LooseFields<'a> {
    fn new(object: &'a Map<String, Value>) -> LooseFields<'a> {
        let mut entries: Vec<(String, &'a Value)> =
            object.iter().map(|(k, v)| (loose(k), v)).collect();
        // Tags nested under a container come after the top level, so the top level wins.
        for container in ["data", "fields", "body", "content"] {
            if let Some(inner) = object
                .iter()
                .find(|(k, _)| loose(k) == container)
                .and_then(|(_, v)| v.as_object())
            {
                entries.extend(inner.iter().map(|(k, v)| (loose(k), v)));
            }
        }
        LooseFields { entries }
    }

    fn text(&self, name: &str) -> Option<String> {
        self.entries
            .iter()
            .filter(|(k, _)| k == name)
            .find_map(|(_, v)| crate::fields::value_text(v))
    }

    fn seconds(&self, name: &str) -> Option<u64> {
        self.entries
            .iter()
            .filter(|(k, _)| k == name)
            .find_map(|(_, v)| crate::fields::value_seconds(v))
    }
}

fn loose(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// What a `CallResult` other than `Success` means, as a `lost_reason`.
pub fn call_result_reason(result: &str) -> String {
    match result.trim().to_ascii_lowercase().as_str() {
        "nobodytoanswer" => "nobody_to_answer".into(),
        "ringingtimeout" => "no_answer".into(),
        "rejectedbycallee" => "rejected_by_callee".into(),
        "rejectedbycaller" => "rejected_by_caller".into(),
        "pbxunreachableforme" | "pbxunreachablefortarget" => "pbx_unreachable".into(),
        "targethavenosounddevices" | "ihavenosounddevices" => "no_sound_devices".into(),
        other => other.to_string(),
    }
}

/// What a `State` means (a finished call that did not succeed is lost).
fn event_kind(state: &str, failed: bool) -> Result<EventKind, CallsError> {
    Ok(match state.to_ascii_lowercase().as_str() {
        "initialized" | "started" => EventKind::Ringing,
        "callaccepted" | "accepted" => EventKind::Answered,
        "callinprogress" => EventKind::InProgress,
        "finished" if failed => EventKind::Lost,
        "finished" => EventKind::Finished,
        "mp3recordready" | "recordready" => EventKind::RecordReady,
        "callerror" => EventKind::Error,
        _ => {
            return Err(CallsError::InvalidField {
                what: WHAT,
                field: "State".into(),
                detail: Problem::UnknownCallState {
                    state: state.to_string(),
                },
            })
        }
    })
}

/// Normalizes one Call event. Events of other objects (Message, AgentOnlineStatus...) are an error.
pub fn normalize_call_event(event: &Value, time_zone: UtcOffset) -> Result<CallEvent, CallsError> {
    let object = event
        .as_object()
        .ok_or(CallsError::NotAnObject { what: WHAT })?;
    let fields = LooseFields::new(object);
    if let Some(kind) = fields.text("object") {
        if !kind.eq_ignore_ascii_case("call") {
            return Err(CallsError::InvalidField {
                what: WHAT,
                field: "Object".into(),
                detail: Problem::NotACallEvent { object: kind },
            });
        }
    }
    let call_id = fields.text("callid").ok_or(CallsError::MissingField {
        what: WHAT,
        field: "CallID",
    })?;
    let state = fields.text("state").ok_or(CallsError::MissingField {
        what: WHAT,
        field: "State",
    })?;
    let call_result = fields.text("callresult");
    let failed = call_result
        .as_deref()
        .is_some_and(|r| !r.eq_ignore_ascii_case("success"));
    let kind = event_kind(&state, failed)?;
    let mut out = CallEvent::new(Source::OneCConnect, kind, call_id, event.clone());
    let direction = fields
        .text("initiator")
        .and_then(|i| match i.to_ascii_lowercase().as_str() {
            "incoming" => Some(Direction::In),
            "self" => Some(Direction::Out),
            _ => None,
        });
    out.direction = direction;
    let from = fields.text("callfrom");
    let to = fields.text("callto");
    out.set_other_party(match direction {
        Some(Direction::Out) => to.clone(),
        _ => from.clone(),
    });
    out.set_caller(from);
    out.set_callee(to);
    let time = |name: &str| {
        fields
            .text(name)
            .and_then(|t| CallTime::parse_text(&t, UtcOffset::UTC))
            .map(|t| t.with_offset(time_zone).to_iso())
    };
    out.started_at = time("starttime");
    out.answered_at = time("accepttime");
    out.finished_at = time("endtime");
    out.total_sec = fields.seconds("duration");
    out.talk_sec = fields.seconds("billsec");
    out.wait_sec = match (out.total_sec, out.talk_sec) {
        (Some(total), Some(talk)) => Some(total.saturating_sub(talk)),
        _ => None,
    };
    out.lost = kind == EventKind::Lost;
    out.lost_reason = call_result
        .as_deref()
        .filter(|_| out.lost)
        .map(call_result_reason);
    out.finish_reason = call_result.or_else(|| fields.text("sipcause"));
    if let Some(link) = fields.text("callrecordlink") {
        out.add_record_url(link);
    }
    out.notification_name = Some(state);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finished_call_with_a_failure_is_lost() {
        let event = json!({
            "Mode": "Softphone", "Object": "Call", "Initiator": "incoming", "State": "Finished",
            "CallID": "c1", "CallFrom": "+7 (926) 000-00-00", "CallTo": "531ef6c7-deb8-11e0-ad02-000c2926d843",
            "StartTime": "2024-05-01 09:00:00", "EndTime": "2024-05-01 09:00:30", "Duration": "30", "BillSec": "0",
            "CallResult": "RingingTimeout"
        });
        let out = normalize_call_event(&event, UtcOffset::MOSCOW).expect("a call event");
        assert_eq!(out.event, EventKind::Lost);
        assert_eq!(out.lost_reason.as_deref(), Some("no_answer"));
        assert_eq!(out.other_party_digits.as_deref(), Some("79260000000"));
        assert_eq!(out.callee_digits, None);
        assert_eq!(out.started_at.as_deref(), Some("2024-05-01T12:00:00+03:00"));
        assert_eq!(out.wait_sec, Some(30));
    }

    #[test]
    fn snake_case_nested_and_errors() {
        let event = json!({"object": "call", "data": {"call_id": "c2", "state": "MP3RecordReady", "call_record_link": "https://r/1.mp3"}});
        let out = normalize_call_event(&event, UtcOffset::MOSCOW).expect("a call event");
        assert_eq!(out.event, EventKind::RecordReady);
        assert_eq!(out.record_urls, ["https://r/1.mp3"]);
        assert!(normalize_call_event(
            &json!({"Object": "Message", "CallID": "x", "State": "Finished"}),
            UtcOffset::UTC
        )
        .is_err());
        let err = normalize_call_event(&json!({"CallID": "x", "State": "Dancing"}), UtcOffset::UTC)
            .unwrap_err();
        assert!(err.to_string().contains("Dancing"));
        assert!(
            normalize_call_event(&json!({"State": "Started"}), UtcOffset::UTC)
                .unwrap_err()
                .to_string()
                .contains("CallID")
        );
    }
}

/// The largest client-reported call accepted (a normalized 1C-Connect call is well under 4 KiB).
pub const CLIENT_CALL_CAP: usize = 64 * 1024;

/// The longest text kept from a client-reported field (numbers, times, reasons).
const CLIENT_FIELD_CAP: usize = 64;

/// A 1C-Connect call as an operator's client reports it to the server, cut down to what the server may believe.
///
/// The 1C-Connect agent runs on the operator's computer, so the server never sees these calls itself and cannot
/// re-derive them: everything here is the client's word. What the history keeps is therefore limited to a call of
/// the operator's own softphone: the source must be 1C-Connect, the operator (`extension`) is the one the
/// administrator assigned to this user (`own_extension`), every text is cut to 64 characters, and what could act on
/// somebody else — record links (they open in other users' history), the PBX's employee and customer data (shown
/// on popups), the raw body — is dropped.
pub fn client_reported_call(json: &str, own_extension: &str) -> Result<CallEvent, CallsError> {
    const WHAT: Subject = Subject::ConnectCallEvent;
    if json.len() > CLIENT_CALL_CAP {
        return Err(CallsError::InvalidField {
            what: WHAT,
            field: "Normalized".into(),
            detail: Problem::Parser(format!("longer than {CLIENT_CALL_CAP} bytes")),
        });
    }
    let mut event: CallEvent = serde_json::from_str(json).map_err(|e| CallsError::NotJson {
        what: WHAT,
        detail: Problem::Parser(e.to_string()),
    })?;
    if event.source != Source::OneCConnect {
        return Err(CallsError::InvalidField {
            what: WHAT,
            field: "source".into(),
            detail: Problem::Parser("only calls of the operator's own 1C-Connect softphone".into()),
        });
    }
    if own_extension.trim().is_empty() {
        return Err(CallsError::MissingField {
            what: WHAT,
            field: "extension",
        });
    }
    let cut = |text: Option<String>| -> Option<String> {
        text.map(|t| t.chars().take(CLIENT_FIELD_CAP).collect())
    };
    event.call_id = event.call_id.chars().take(CLIENT_FIELD_CAP).collect();
    if event.call_id.trim().is_empty() {
        return Err(CallsError::MissingField {
            what: WHAT,
            field: "call_id",
        });
    }
    let caller = cut(event.caller.take());
    event.set_caller(caller);
    let callee = cut(event.callee.take());
    event.set_callee(callee);
    let other_party = cut(event.other_party.take());
    event.set_other_party(other_party);
    let virtual_number = cut(event.virtual_number.take());
    event.set_virtual_number(virtual_number);
    event.set_extension(Some(own_extension.trim().to_string()));
    event.started_at = cut(event.started_at.take());
    event.answered_at = cut(event.answered_at.take());
    event.finished_at = cut(event.finished_at.take());
    event.lost_reason = cut(event.lost_reason.take());
    event.finish_reason = cut(event.finish_reason.take());
    event.notification_name = cut(event.notification_name.take());
    event.record_urls.clear();
    event.employee = None;
    event.customer = None;
    event.raw = Value::Null;
    Ok(event)
}

#[cfg(test)]
mod client_call_tests {
    use super::*;

    fn reported(extra: &str) -> String {
        format!(
            r#"{{"source":"1c-connect","event":"finished","call_id":"c-1","caller":"+7 900 000-00-00","callee":"101","extension":"999","lost":false,"record_urls":["https://evil.example/x"],"customer":{{"id":"1","name":"Forged"}},"raw":{{"big":"x"}}{extra}}}"#
        )
    }

    #[test]
    fn the_operator_is_the_one_assigned_and_nothing_foreign_is_kept() {
        let event = client_reported_call(&reported(""), "101").unwrap();
        assert_eq!(event.extension.as_deref(), Some("101"));
        assert_eq!(event.extension_digits.as_deref(), Some("101"));
        assert_eq!(event.caller_digits.as_deref(), Some("79000000000"));
        assert!(event.record_urls.is_empty());
        assert_eq!(event.customer, None);
        assert_eq!(event.raw, Value::Null);
    }

    #[test]
    fn other_sources_and_operators_without_a_number_are_refused() {
        let uis = reported("").replace("1c-connect", "uiscom");
        assert!(client_reported_call(&uis, "101").is_err());
        assert!(client_reported_call(&reported(""), " ").is_err());
        assert!(client_reported_call("not json", "101").is_err());
        let no_id = reported("").replace("\"c-1\"", "\"  \"");
        assert!(client_reported_call(&no_id, "101").is_err());
        let huge = reported(&format!(
            r#","lost_reason":"{}""#,
            "x".repeat(CLIENT_CALL_CAP)
        ));
        assert!(client_reported_call(&huge, "101").is_err());
    }

    #[test]
    fn texts_are_cut() {
        let long = reported(&format!(r#","finish_reason":"{}""#, "я".repeat(500)));
        let event = client_reported_call(&long, "101").unwrap();
        assert_eq!(
            event.finish_reason.unwrap().chars().count(),
            CLIENT_FIELD_CAP
        );
    }
}
