//! UIScom notifications (`/in`, `/out`, `/rec`) → the normalized call event.
//!
//! A UIScom notification body is a template the administrator typed in the UIS account (seed 001): key case varies
//! (`Start_time`), values may be numbers or strings, arrays or null, optional fields are often missing. We accept
//! all of it and insist only on JSON and on `call_session_id`.
//!
//! Event rules (seed 001 and issue 5):
//! - `/in` without an extension → `ringing` (an incoming call reached the virtual number);
//! - `/in` with `extension_phone_number` → `answered` (the "talk started" template);
//! - `/in` with `lost_reason`, `is_lost` or `finish_time` → `lost` (the "lost call" template);
//! - `/out` → `ringing`, direction `out` (`lost` if the body says so);
//! - `/rec` → `finished`, or `lost` when `is_lost` is true or `lost_reason` is filled (seed: dropped by the operator).

use serde_json::Value;

use crate::error::{CallsError, Problem, Subject};
use crate::fields::Fields;
use crate::model::{CallEvent, Customer, Direction, Employee, EventKind, Source};
use crate::time::{CallTime, UtcOffset};

const WHAT: Subject = Subject::UiscomNotification;

/// Which HTTP-service method received the notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiscomMethod {
    In,
    Out,
    Rec,
}

impl UiscomMethod {
    /// Reads `in`, `/in`, `UIScom/in`, `/hs/UIScom/IN?x=1`; an empty text means "infer from the body" (`None`).
    pub fn parse(text: &str) -> Result<Option<UiscomMethod>, CallsError> {
        let path = text
            .trim()
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .trim_end_matches('/');
        let last = path
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        match last.as_str() {
            "" => Ok(None),
            "in" => Ok(Some(UiscomMethod::In)),
            "out" => Ok(Some(UiscomMethod::Out)),
            "rec" | "record" => Ok(Some(UiscomMethod::Rec)),
            _ => Err(CallsError::UnknownMethod {
                given: text.to_string(),
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UiscomMethod::In => "in",
            UiscomMethod::Out => "out",
            UiscomMethod::Rec => "rec",
        }
    }

    /// Which template the body came from, by the keys it has (templates keep their keys even when values are empty):
    /// record links or `is_lost` only exist in the `/rec` template, `lost_reason` without them is the lost-call
    /// template of `/in`, direction `out` is `/out`.
    pub fn infer(fields: &Fields<'_>) -> UiscomMethod {
        let direction = fields
            .text(&["direction"])
            .and_then(|d| parse_direction(&d));
        if fields.has(&[
            "is_lost",
            "full_record_file_link",
            "wav_call_records",
            "talk_time_duration",
        ]) {
            UiscomMethod::Rec
        } else if fields.has(&["lost_reason"]) {
            UiscomMethod::In
        } else if direction == Some(Direction::Out) {
            UiscomMethod::Out
        } else if fields.has(&["finish_time", "finish_reason"]) {
            UiscomMethod::Rec
        } else {
            UiscomMethod::In
        }
    }
}

/// `in`/`out`, also `incoming`/`outgoing` and the Russian words.
pub fn parse_direction(text: &str) -> Option<Direction> {
    let lower = text.trim().to_lowercase();
    if lower == "in"
        || lower.starts_with("incom")
        || lower.starts_with("inbound")
        || lower.starts_with("вход")
    {
        Some(Direction::In)
    } else if lower == "out"
        || lower.starts_with("outgo")
        || lower.starts_with("outbound")
        || lower.starts_with("исх")
    {
        Some(Direction::Out)
    } else {
        None
    }
}

/// Parses a JSON body given as bytes (a UTF-8 BOM is tolerated: 1C may add one).
pub(crate) fn parse_json_object(body: &[u8], what: Subject) -> Result<Value, CallsError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(CallsError::EmptyBody { what });
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| CallsError::NotJson {
        what,
        detail: Problem::Parser(e.to_string()),
    })?;
    if !value.is_object() {
        return Err(CallsError::NotAnObject { what });
    }
    Ok(value)
}

/// Normalizes one UIScom notification. `method = None` infers the template from the body.
pub fn normalize(
    body: &[u8],
    method: Option<UiscomMethod>,
    time_zone: UtcOffset,
) -> Result<CallEvent, CallsError> {
    let raw = parse_json_object(body, WHAT)?;
    normalize_value(raw, method, time_zone)
}

/// The same for an already parsed body.
pub fn normalize_value(
    raw: Value,
    method: Option<UiscomMethod>,
    time_zone: UtcOffset,
) -> Result<CallEvent, CallsError> {
    let object = raw
        .as_object()
        .ok_or(CallsError::NotAnObject { what: WHAT })?;
    let fields = Fields::new(object);
    let call_id = fields
        .text(&["call_session_id"])
        .ok_or(CallsError::MissingField {
            what: WHAT,
            field: "call_session_id",
        })?;
    let method = method.unwrap_or_else(|| UiscomMethod::infer(&fields));

    let direction = fields
        .text(&["direction"])
        .and_then(|d| parse_direction(&d))
        .unwrap_or(match method {
            UiscomMethod::Out => Direction::Out,
            _ => Direction::In,
        });
    let extension = fields.text(&["extension_phone_number"]);
    let lost_reason = fields.text(&["lost_reason"]);
    let (kind, lost) = classify(&fields, method, extension.is_some(), lost_reason.is_some());
    let mut event = CallEvent::new(Source::Uiscom, kind, call_id, Value::Null);
    event.direction = Some(direction);
    event.lost = lost;
    let calling = fields.text(&["calling_phone_number"]);
    let called = fields.text(&["called_phone_number"]);
    let contact = fields.text(&["contact_phone_number"]);
    event.set_other_party(contact.or_else(|| match direction {
        Direction::In => calling.clone(),
        Direction::Out => called.clone(),
    }));
    event.set_caller(calling);
    event.set_callee(called);
    event.set_extension(extension);
    event.set_virtual_number(fields.text(&["virtual_phone_number"]));

    fill_times(&mut event, &fields, kind, time_zone);
    event.lost_reason = lost_reason;
    event.finish_reason = fields.text(&["finish_reason"]);
    for url in fields.texts(&[
        "full_record_file_link",
        "wav_call_records",
        "record_file_link",
    ]) {
        event.add_record_url(url);
    }
    fill_people(&mut event, &fields);
    event.notification_name = fields.text(&["notification_name"]);
    event.raw = raw;
    Ok(event)
}

/// What the notification says happened: its kind, and whether the call was lost.
fn classify(
    fields: &Fields<'_>,
    method: UiscomMethod,
    has_extension: bool,
    has_lost_reason: bool,
) -> (EventKind, bool) {
    let says_lost = fields.flag(&["is_lost"]);
    let lost = match method {
        UiscomMethod::In => {
            says_lost == Some(true) || has_lost_reason || fields.text(&["finish_time"]).is_some()
        }
        UiscomMethod::Out | UiscomMethod::Rec => says_lost == Some(true) || has_lost_reason,
    };
    let kind = match (method, lost) {
        (_, true) => EventKind::Lost,
        (UiscomMethod::In, false) if has_extension => EventKind::Answered,
        (UiscomMethod::In | UiscomMethod::Out, false) => EventKind::Ringing,
        (UiscomMethod::Rec, false) => EventKind::Finished,
    };
    (kind, lost)
}

/// Durations, start, answer and end.
fn fill_times(event: &mut CallEvent, fields: &Fields<'_>, kind: EventKind, time_zone: UtcOffset) {
    let start = fields
        .text(&["start_time", "call_start_time"])
        .and_then(|t| CallTime::parse_text(&t, time_zone));
    let finish = fields
        .text(&["finish_time"])
        .and_then(|t| CallTime::parse_text(&t, time_zone));
    event.wait_sec = fields.seconds(&["wait_time_duration"]);
    event.total_sec = fields.seconds(&["total_time_duration"]);
    event.talk_sec = fields.seconds(&["talk_time_duration"]).or(
        match (event.lost, event.total_sec, event.wait_sec) {
            (true, Some(_), _) => Some(0),
            (false, Some(total), Some(wait)) => Some(total.saturating_sub(wait)),
            _ => None,
        },
    );
    let finish = finish.or_else(|| match (kind, start, event.total_sec) {
        (EventKind::Finished | EventKind::Lost, Some(s), Some(total)) => {
            Some(s.plus_seconds(total))
        }
        _ => None,
    });
    if kind == EventKind::Finished && event.talk_sec.is_some_and(|t| t > 0) {
        if let (Some(s), Some(wait)) = (start, event.wait_sec) {
            event.answered_at = Some(s.plus_seconds(wait).to_iso());
        }
    }
    event.started_at = start.map(CallTime::to_iso);
    event.finished_at = finish.map(CallTime::to_iso);
}

/// Record links, the employee and the customer.
fn fill_people(event: &mut CallEvent, fields: &Fields<'_>) {
    let employee = Employee {
        id: fields.text(&["employee_ids", "employee_id"]),
        name: fields.text(&["employee_full_name"]),
        email: None,
        phone: fields.text(&["employee_phone_number"]),
        phone_digits: fields
            .text(&["employee_phone_number"])
            .as_deref()
            .and_then(crate::model::phone_digits),
    };
    event.employee = (!employee.is_empty()).then_some(employee);
    let customer = Customer {
        id: fields.text(&["contact_id"]),
        name: fields.text(&["contact_full_name"]),
    };
    event.customer = (customer.id.is_some() || customer.name.is_some()).then_some(customer);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_in_every_spelling() {
        for (text, method) in [
            ("in", Some(UiscomMethod::In)),
            ("/IN", Some(UiscomMethod::In)),
            ("UIScom/out", Some(UiscomMethod::Out)),
            ("/base/hs/UIScom/rec/", Some(UiscomMethod::Rec)),
            ("rec?x=1", Some(UiscomMethod::Rec)),
            ("", None),
            ("  ", None),
        ] {
            assert_eq!(UiscomMethod::parse(text), Ok(method), "{text}");
        }
        assert!(matches!(
            UiscomMethod::parse("/hangup"),
            Err(CallsError::UnknownMethod { .. })
        ));
    }

    #[test]
    fn missing_session_id_and_non_json_are_clear_errors() {
        let err = normalize(br#"{"direction":"in"}"#, None, UtcOffset::MOSCOW).unwrap_err();
        assert!(
            matches!(
                err,
                CallsError::MissingField {
                    field: "call_session_id",
                    ..
                }
            ),
            "{err}"
        );
        let err = normalize(b"direction=in", None, UtcOffset::MOSCOW).unwrap_err();
        assert!(matches!(err, CallsError::NotJson { .. }), "{err}");
        let err = normalize(b"[1]", None, UtcOffset::MOSCOW).unwrap_err();
        assert_eq!(err, CallsError::NotAnObject { what: WHAT });
        assert!(matches!(
            normalize(b" \n", None, UtcOffset::MOSCOW),
            Err(CallsError::EmptyBody { .. })
        ));
    }
}
