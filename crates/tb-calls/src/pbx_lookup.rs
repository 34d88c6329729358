//! The PBX asks 1C at ring time: the requests of UIS «Интерактивная обработка вызова» and of an Asterisk look-up,
//! and the replies built from the routing decision ([`crate::routing`]) and the caller's name. Sans I/O.
//!
//! - **UIS** calls the URL set in the scenario step (GET or POST) with `cdr_id`, `start_time`, `input_result`,
//!   `numa` (caller), `numb` (called) and expects 200 with `{"phones":[…], "operator_text": "…"}` (ring these
//!   numbers, say the text to the employee before connecting) or `{"returned_code": N}` (take branch N of the
//!   scenario). Anything else (an error, a timeout, `{}`) sends the call down the step's fallback branch, which the
//!   UIS documentation asks to configure.
//! - **Asterisk**: MIKO's convention (`agi-bin/set-caller-id.php` of ModuleCTIClient) asks
//!   `GET …?number=<n>` and expects `{"result":"Success","data":{"caller_id":…,"client":…}}`, setting
//!   `CALLERID(name)` from `caller_id`, else `client`; a plain dialplan `CURL()` takes the body as text
//!   (`format=text`), and `what=route` answers the extension to dial.

use serde_json::{json, Value};

use crate::binotel_webhook::screen_text;
use crate::error::{CallsError, Problem, Subject};
use crate::fields::Fields;
use crate::model::with_digits;
use crate::php::{decode_form, PhpValue};
use crate::routing::Decision;

/// The longest operator text (UIS speaks it to the employee before connecting: a name, not a story).
pub const OPERATOR_TEXT_MAX_CHARS: usize = 100;

/// The longest caller name for Asterisk's `CALLERID(name)` (shown on the phone's screen).
pub const CALLER_NAME_MAX_CHARS: usize = 32;

/// A query string (`a=1&b=2`, a leading `?` allowed), a form body, or a JSON object of the parameters (what a 1C
/// HTTP service has after the platform decoded the query: `Запрос.ПараметрыЗапроса`).
fn query_fields(query: &str) -> Result<Value, CallsError> {
    let query = query.trim().trim_start_matches('?');
    if query.is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    if query.starts_with('{') {
        return match serde_json::from_str::<Value>(query) {
            Ok(object @ Value::Object(_)) => Ok(object),
            Ok(_) => Err(CallsError::NotAnObject {
                what: Subject::PbxLookup,
            }),
            Err(e) => Err(CallsError::NotJson {
                what: Subject::PbxLookup,
                detail: Problem::Parser(e.to_string()),
            }),
        };
    }
    Ok(PhpValue::Array(decode_form(query.as_bytes())?).to_json())
}

// ---------------------------------------------------------------------------------------------------------------
// UIS «Интерактивная обработка вызова»
// ---------------------------------------------------------------------------------------------------------------

/// What UIS asks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UisCallQuery {
    pub cdr_id: Option<String>,
    pub start_time: Option<String>,
    /// DTMF the caller typed (`None` when UIS sends `None`).
    pub input_result: Option<String>,
    /// The caller's number and its digits.
    pub numa: Option<String>,
    pub numa_digits: Option<String>,
    /// The number called.
    pub numb: Option<String>,
    pub numb_digits: Option<String>,
}

/// Reads UIS's parameters from a query string (GET) or a form body (POST). The caller's number is required.
pub fn parse_uis_query(query: &str) -> Result<UisCallQuery, CallsError> {
    let raw = query_fields(query)?;
    let object = raw.as_object().cloned().unwrap_or_default();
    let fields = Fields::new(&object);
    let (numa, numa_digits) = with_digits(fields.text(&["numa"]));
    if numa.is_none() {
        return Err(CallsError::MissingField {
            what: Subject::UiscomNotification,
            field: "numa",
        });
    }
    let (numb, numb_digits) = with_digits(fields.text(&["numb"]));
    Ok(UisCallQuery {
        cdr_id: fields.text(&["cdr_id"]),
        start_time: fields.text(&["start_time"]),
        input_result: fields
            .text(&["input_result"])
            .filter(|t| !t.eq_ignore_ascii_case("none")),
        numa,
        numa_digits,
        numb,
        numb_digits,
    })
}

/// The reply to UIS: the manager's number to ring with the client's name for the employee, or the fallback return
/// code, or `{}` (the step's fallback branch) when no code is configured.
///
/// For UIS the routing decision's `extension` is the operator's `ВнутреннийНомер`, the number UIS rings (see
/// [`crate::routing::uis_phone`]: `phones` are phone numbers, never the UIS employee id), and the group is a return
/// code of the scenario (a whole number); a group that is not one is ignored.
pub fn uis_reply(decision: &Decision, client_name: Option<&str>) -> String {
    let reply = match decision {
        // `phones` holds numbers UIS dials: a line that is none (a SIP URI, a name) takes the fallback branch.
        Decision::Manager { extension, .. } => {
            let Some(phone) = crate::routing::uis_phone(extension) else {
                return json!({}).to_string();
            };
            let mut reply = json!({ "phones": [phone] });
            if let Some(name) = client_name
                .map(|n| screen_text(n, OPERATOR_TEXT_MAX_CHARS))
                .filter(|n| !n.is_empty())
            {
                reply["operator_text"] = Value::String(name);
            }
            reply
        }
        Decision::Group { group, .. } => match group.trim().parse::<u32>() {
            Ok(code) => json!({ "returned_code": code }),
            Err(_) => json!({}),
        },
        Decision::Default { .. } => json!({}),
    };
    reply.to_string()
}

// ---------------------------------------------------------------------------------------------------------------
// Asterisk look-up
// ---------------------------------------------------------------------------------------------------------------

/// What an Asterisk look-up asks: `number`, and how to answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LookupQuery {
    pub number: String,
    pub digits: Option<String>,
    /// `json` (MIKO's shape, the default) or `text` (for `CURL()` in the dialplan).
    pub format: String,
    /// `name` (the caller's name, the default) or `route` (the extension to dial).
    pub what: String,
}

/// Reads `number`, `format` and `what` from the query string; unknown values of `format`/`what` are errors (a
/// dialplan typo must not silently answer the wrong thing).
pub fn parse_lookup_query(query: &str) -> Result<LookupQuery, CallsError> {
    let raw = query_fields(query)?;
    let object = raw.as_object().cloned().unwrap_or_default();
    let fields = Fields::new(&object);
    let (number, digits) = with_digits(fields.text(&["number"]));
    let number = number.ok_or(CallsError::MissingField {
        what: Subject::PbxLookup,
        field: "number",
    })?;
    let pick = |name: &'static str, allowed: [&str; 2]| -> Result<String, CallsError> {
        let value = fields
            .text(&[name])
            .unwrap_or_else(|| allowed[0].to_string())
            .to_ascii_lowercase();
        if allowed.contains(&value.as_str()) {
            Ok(value)
        } else {
            Err(CallsError::InvalidField {
                what: Subject::PbxLookup,
                field: name.to_string(),
                detail: Problem::Parser(format!("expected {} or {}", allowed[0], allowed[1])),
            })
        }
    };
    Ok(LookupQuery {
        number,
        digits,
        format: pick("format", ["json", "text"])?,
        what: pick("what", ["name", "route"])?,
    })
}

/// A caller name safe for `CALLERID(name)`: no quotes or angle brackets (they delimit the name and number in a
/// caller ID), no control characters, whitespace collapsed, at most [`CALLER_NAME_MAX_CHARS`].
pub fn caller_id_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '"' | '<' | '>' | '\\') {
                ' '
            } else {
                c
            }
        })
        .collect();
    screen_text(&cleaned, CALLER_NAME_MAX_CHARS)
}

/// The reply to a look-up: `(content type, body)`.
///
/// - `what=name`, `json`: `{"result":"Success","data":{"caller_id":<name>,"client":<full name>}}`, or
///   `{"result":"NotFound","data":{}}` for an unknown number (MIKO's script then leaves the caller ID alone);
/// - `what=name`, `text`: the name or an empty body;
/// - `what=route`: the extension of the decision (digits, `*`, `#`, `+` only: it goes into `Dial()`), or empty
///   (the dialplan goes on to its own queue) — as `{"result":"Success","data":{"extension":…}}` or text.
pub fn lookup_reply(
    query: &LookupQuery,
    client_name: Option<&str>,
    decision: &Decision,
) -> (&'static str, String) {
    let text = query.format == "text";
    let value = if query.what == "route" {
        match decision {
            Decision::Manager { extension, .. } => Some(extension.clone()),
            Decision::Group { group, .. } => Some(group.clone()),
            Decision::Default { .. } => None,
        }
        .map(|v| {
            v.chars()
                .filter(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | '+'))
                .collect::<String>()
        })
        .filter(|v| !v.is_empty())
    } else {
        client_name.map(caller_id_name).filter(|n| !n.is_empty())
    };
    if text {
        return ("text/plain; charset=utf-8", value.unwrap_or_default());
    }
    let body = match (value, query.what.as_str()) {
        (Some(extension), "route") => {
            json!({"result": "Success", "data": {"extension": extension}})
        }
        (Some(name), _) => {
            let client = client_name.map(|n| screen_text(n, 250)).unwrap_or_default();
            json!({"result": "Success", "data": {"caller_id": name, "client": client}})
        }
        (None, _) => json!({"result": "NotFound", "data": {}}),
    };
    ("application/json; charset=utf-8", body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{route, Reason, RoutingFacts};

    fn manager(extension: &str) -> Decision {
        Decision::Manager {
            extension: extension.into(),
            reason: Reason::ResponsibleManager,
        }
    }

    #[test]
    fn uis_asks_with_the_parameters_of_its_documentation() {
        // The example request of the UIS documentation, as GET query and as POST body.
        for request in [
            "cdr_id=123&start_time=1200&input_result=None&numa=74952345678&numb=74951234567",
            "?cdr_id=123&start_time=1200&input_result=None&numa=74952345678&numb=74951234567",
        ] {
            let query = parse_uis_query(request).unwrap();
            assert_eq!(query.cdr_id.as_deref(), Some("123"));
            assert_eq!(query.input_result, None);
            assert_eq!(query.numa_digits.as_deref(), Some("74952345678"));
            assert_eq!(query.numb.as_deref(), Some("74951234567"));
        }
        assert_eq!(
            parse_uis_query("numa=%2B7%20495%20234-56-78&input_result=12")
                .unwrap()
                .input_result
                .as_deref(),
            Some("12")
        );
        assert!(matches!(
            parse_uis_query("cdr_id=1"),
            Err(CallsError::MissingField { field: "numa", .. })
        ));
        assert!(parse_uis_query("").is_err());
        // The parameters as a 1C HTTP service has them (ПараметрыЗапроса written as JSON).
        let query = parse_uis_query(r#"{"numa":"74952345678","cdr_id":"5"}"#).unwrap();
        assert_eq!(query.cdr_id.as_deref(), Some("5"));
        assert!(matches!(
            parse_uis_query("{"),
            Err(CallsError::NotJson { .. })
        ));
        assert!(matches!(
            parse_uis_query("{}"),
            Err(CallsError::MissingField { .. })
        ));
    }

    #[test]
    fn uis_reply_bytes() {
        assert_eq!(
            uis_reply(&manager("74959876543"), Some("  ООО «Ромашка»\n Иванов ")),
            r#"{"phones":["74959876543"],"operator_text":"ООО «Ромашка» Иванов"}"#
        );
        assert_eq!(
            uis_reply(&manager("74959876543"), None),
            r#"{"phones":["74959876543"]}"#
        );
        let group = |g: &str| Decision::Group {
            group: g.into(),
            reason: Reason::ManagerBusy,
        };
        assert_eq!(
            uis_reply(&group(" 2 "), Some("x")),
            r#"{"returned_code":2}"#
        );
        assert_eq!(uis_reply(&group("sales"), None), "{}");
        // `phones` are numbers UIS dials: a line written with separators is sent as digits, a line that is no
        // number (a SIP URI) takes the fallback branch instead of a reply UIS cannot use.
        assert_eq!(
            uis_reply(&manager("+7 (495) 987-65-43"), None),
            r#"{"phones":["74959876543"]}"#
        );
        assert_eq!(uis_reply(&manager("sip:801@pbx"), Some("x")), "{}");
        assert_eq!(
            uis_reply(
                &Decision::Default {
                    reason: Reason::UnknownCaller
                },
                None
            ),
            "{}"
        );
    }

    #[test]
    fn uis_request_to_reply_through_the_routing_decision() {
        let query = parse_uis_query("cdr_id=9&numa=74952345678&numb=74951234567").unwrap();
        assert!(query.numa_digits.is_some());
        let facts = RoutingFacts {
            card_found: false,
            group: Some("3".into()),
            ..RoutingFacts::default()
        };
        assert_eq!(uis_reply(&route(&facts), None), r#"{"returned_code":3}"#);
    }

    #[test]
    fn asterisk_lookup_queries() {
        let q = parse_lookup_query("number=%2B74952345678").unwrap();
        assert_eq!(
            (q.number.as_str(), q.format.as_str(), q.what.as_str()),
            ("+74952345678", "json", "name")
        );
        assert_eq!(q.digits.as_deref(), Some("74952345678"));
        let q = parse_lookup_query("number=101&format=TEXT&what=route").unwrap();
        assert_eq!((q.format.as_str(), q.what.as_str()), ("text", "route"));
        assert!(matches!(
            parse_lookup_query("format=text"),
            Err(CallsError::MissingField {
                field: "number",
                ..
            })
        ));
        for bad in ["number=1&format=xml", "number=1&what=everything"] {
            assert!(
                matches!(
                    parse_lookup_query(bad),
                    Err(CallsError::InvalidField { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn asterisk_reply_bytes() {
        let name = parse_lookup_query("number=74952345678").unwrap();
        let unknown = Decision::Default {
            reason: Reason::UnknownCaller,
        };
        assert_eq!(
            lookup_reply(&name, Some("Иванов \"Ваня\" <boss>"), &manager("801")),
            (
                "application/json; charset=utf-8",
                r#"{"result":"Success","data":{"caller_id":"Иванов Ваня boss","client":"Иванов \"Ваня\" <boss>"}}"#.to_string()
            )
        );
        assert_eq!(
            lookup_reply(&name, None, &unknown).1,
            r#"{"result":"NotFound","data":{}}"#
        );
        let text = parse_lookup_query("number=74952345678&format=text").unwrap();
        assert_eq!(
            lookup_reply(&text, Some("Иванов\r\nИван"), &unknown),
            ("text/plain; charset=utf-8", "Иванов Иван".to_string())
        );
        assert_eq!(lookup_reply(&text, None, &unknown).1, "");
        let route_text = parse_lookup_query("number=74952345678&format=text&what=route").unwrap();
        assert_eq!(
            lookup_reply(&route_text, Some("x"), &manager("801")).1,
            "801"
        );
        assert_eq!(
            lookup_reply(&route_text, Some("x"), &manager("80;1,Hangup()")).1,
            "801"
        );
        assert_eq!(lookup_reply(&route_text, None, &unknown).1, "");
        let route_json = parse_lookup_query("number=1&what=route").unwrap();
        assert_eq!(
            lookup_reply(&route_json, None, &manager("801")).1,
            r#"{"result":"Success","data":{"extension":"801"}}"#
        );
        assert_eq!(
            caller_id_name(&"Я".repeat(40)).chars().count(),
            CALLER_NAME_MAX_CHARS
        );
    }
}
