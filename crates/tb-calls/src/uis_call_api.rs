//! UIS Call API (JSON-RPC 2.0, `https://callapi.uiscom.ru/v4.0` by default): click-to-call requests and answers.
//!
//! Only the two methods a 1C developer needs for click-to-call: `start.employee_call` (call an employee, then the
//! client) and `start.simple_call` (an operator number and a contact, no employee card in UIS). The access token
//! travels in `params.access_token`, as the API wants; it never appears in an error or in debug output: the UIS
//! answer's texts are scrubbed of it and its `data.value` is not reported at all.

use serde_json::{json, Map, Value};

use crate::error::{CallsError, Problem, Subject, UisFault};
use crate::fields::{value_text, Fields};

/// The default endpoint.
pub const DEFAULT_URL: &str = "https://callapi.uiscom.ru/v4.0";
const API_NAME: &str = "UIS Call API";
const WHAT_PARAMS: Subject = Subject::UisCallApiParameters;
const WHAT_RESPONSE: Subject = Subject::UisCallApiResponse;

/// A JSON-RPC request ready to POST (`Content-Type: application/json; charset=UTF-8`).
#[derive(Clone, PartialEq, Eq)]
pub struct RpcRequest {
    pub id: String,
    pub method: &'static str,
    pub body: String,
}

impl std::fmt::Debug for RpcRequest {
    // The body carries the access token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcRequest")
            .field("id", &self.id)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// `start.employee_call`: the employee is called first (by default), then the contact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EmployeeCall {
    /// The UIS employee id (a number in UIS; digits are sent as a number).
    pub employee_id: String,
    /// Optional: which of the employee's numbers to ring (an extension or a phone).
    pub employee_phone_number: Option<String>,
    /// The client's number.
    pub contact: String,
    /// The company number to show/use.
    pub virtual_phone_number: Option<String>,
    /// Extra params merged last (a JSON object the 1C developer passes: `first_call`, `external_id`,
    /// `switch_at_once`, `direction`, ...). They may override the defaults but never `access_token`.
    pub extra: Map<String, Value>,
}

/// `start.simple_call`: an operator number and a contact, no employee.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimpleCall {
    pub operator: String,
    pub contact: String,
    pub virtual_phone_number: Option<String>,
    pub extra: Map<String, Value>,
}

/// Reads the optional extra-params JSON (empty text → no extras).
pub fn parse_extra(extra_json: &str) -> Result<Map<String, Value>, CallsError> {
    let text = extra_json.trim();
    if text.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(CallsError::NotAnObject { what: WHAT_PARAMS }),
        Err(e) => Err(CallsError::NotJson {
            what: WHAT_PARAMS,
            detail: Problem::Parser(e.to_string()),
        }),
    }
}

pub(crate) fn id_value(text: &str) -> Value {
    match text.trim().parse::<u64>() {
        Ok(n) => Value::from(n),
        Err(_) => Value::String(text.trim().to_string()),
    }
}

pub(crate) fn require(text: &str, field: &'static str) -> Result<String, CallsError> {
    let t = text.trim();
    if t.is_empty() {
        Err(CallsError::MissingField {
            what: WHAT_PARAMS,
            field,
        })
    } else {
        Ok(t.to_string())
    }
}

pub(crate) fn build(
    id: &str,
    method: &'static str,
    mut params: Map<String, Value>,
    extra: &Map<String, Value>,
    token: &str,
) -> Result<RpcRequest, CallsError> {
    if token.trim().is_empty() {
        return Err(CallsError::MissingField {
            what: WHAT_PARAMS,
            field: "access_token",
        });
    }
    for (k, v) in extra {
        if k != "access_token" {
            params.insert(k.clone(), v.clone());
        }
    }
    params.insert("access_token".into(), Value::String(token.to_string()));
    let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
    Ok(RpcRequest {
        id: id.to_string(),
        method,
        body: body.to_string(),
    })
}

/// The `start.employee_call` request with JSON-RPC `id`.
pub fn employee_call_request(
    id: &str,
    access_token: &str,
    call: &EmployeeCall,
) -> Result<RpcRequest, CallsError> {
    let employee_id = require(&call.employee_id, "employee.id")?;
    let contact = require(&call.contact, "contact")?;
    let mut employee = Map::new();
    employee.insert("id".into(), id_value(&employee_id));
    if let Some(phone) = call
        .employee_phone_number
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        employee.insert("phone_number".into(), Value::String(phone.to_string()));
    }
    let mut params = Map::new();
    params.insert("first_call".into(), Value::String("employee".into()));
    insert_virtual_number(&mut params, call.virtual_phone_number.as_deref());
    params.insert("contact".into(), Value::String(contact));
    params.insert("employee".into(), Value::Object(employee));
    build(id, "start.employee_call", params, &call.extra, access_token)
}

/// The optional `virtual_phone_number` both starts accept; blank means "let UIS choose".
fn insert_virtual_number(params: &mut Map<String, Value>, number: Option<&str>) {
    if let Some(v) = number.map(str::trim).filter(|v| !v.is_empty()) {
        params.insert("virtual_phone_number".into(), Value::String(v.to_string()));
    }
}

/// The `start.simple_call` request with JSON-RPC `id`.
pub fn simple_call_request(
    id: &str,
    access_token: &str,
    call: &SimpleCall,
) -> Result<RpcRequest, CallsError> {
    let operator = require(&call.operator, "operator")?;
    let contact = require(&call.contact, "contact")?;
    let mut params = Map::new();
    params.insert("first_call".into(), Value::String("operator".into()));
    insert_virtual_number(&mut params, call.virtual_phone_number.as_deref());
    params.insert("contact".into(), Value::String(contact));
    params.insert("operator".into(), Value::String(operator));
    build(id, "start.simple_call", params, &call.extra, access_token)
}

/// What a successful start gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStarted {
    pub call_session_id: String,
}

/// Reads the answer to a `start.*` request with id `expected_id`. The token is needed only to scrub it from
/// texts UIS might echo.
pub fn parse_call_response(
    body: &[u8],
    expected_id: &str,
    access_token: &str,
) -> Result<CallStarted, CallsError> {
    let result = answer_result(body, expected_id, access_token, API_NAME, WHAT_RESPONSE)?;
    let session = result
        .get("data")
        .and_then(|d| d.get("call_session_id"))
        .and_then(value_text)
        .ok_or(CallsError::UnexpectedResponse {
            api: API_NAME,
            detail: Problem::NoCallSessionId,
        })?;
    Ok(CallStarted {
        call_session_id: session,
    })
}

/// The `result` of a JSON-RPC answer of a UIS API (Call API or Data API, the same envelope), or its `error` as a
/// [`CallsError`]: a refusal UIS documents (token, IP whitelist, rights, component, call state, unknown session,
/// limits) becomes [`CallsError::UisRefused`] so its text can say what to do; any other error stays
/// [`CallsError::Api`]. Texts UIS echoes are scrubbed of the token and `data.value` is never read.
pub(crate) fn answer_result(
    body: &[u8],
    expected_id: &str,
    access_token: &str,
    api: &'static str,
    what: Subject,
) -> Result<Value, CallsError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut value: Value = serde_json::from_slice(body).map_err(|e| CallsError::NotJson {
        what,
        detail: Problem::Parser(e.to_string()),
    })?;
    let object = value
        .as_object_mut()
        .ok_or(CallsError::NotAnObject { what })?;
    let scrub = |text: String| {
        if access_token.trim().len() >= 4 {
            text.replace(access_token.trim(), "***")
        } else {
            text
        }
    };
    if let Some(error) = object.get("error").filter(|e| !e.is_null()) {
        let fields = error.as_object().map(Fields::new);
        let code = fields
            .as_ref()
            .and_then(|f| f.text(&["code"]))
            .unwrap_or_default();
        let message = fields
            .as_ref()
            .and_then(|f| f.text(&["message"]))
            .unwrap_or_else(|| "no message".into());
        let data = fields
            .as_ref()
            .and_then(|f| f.object(&["data"]))
            .map(Fields::new);
        let mnemonic = data.as_ref().and_then(|d| d.text(&["mnemonic"]));
        let field = data.as_ref().and_then(|d| d.text(&["field"]));
        let fault = uis_fault(&code, mnemonic.as_deref().unwrap_or_default());
        let mut full = message;
        if let Some(m) = mnemonic {
            full.push_str(&format!(" [{m}]"));
        }
        if let Some(f) = field {
            full.push_str(&format!(" (field: {f})"));
        }
        let (code, message) = (scrub(code), scrub(full));
        return Err(match fault {
            Some(fault) => CallsError::UisRefused {
                api,
                fault,
                code,
                message,
            },
            None => CallsError::Api { api, code, message },
        });
    }
    if let Some(id) = object.get("id").and_then(value_text) {
        if id != expected_id {
            return Err(CallsError::UnexpectedResponse {
                api,
                detail: Problem::WrongRequestId {
                    id,
                    expected: expected_id.to_string(),
                },
            });
        }
    }
    Ok(object.remove("result").unwrap_or(Value::Null))
}

/// Which documented refusal a UIS error is (the common error list of the Call API: the mnemonic first, the code
/// group when the mnemonic is one this crate does not know).
pub fn uis_fault(code: &str, mnemonic: &str) -> Option<UisFault> {
    let by_mnemonic = match mnemonic {
        "access_token_expired" | "access_token_blocked" | "access_token_invalid" | "auth_error" => {
            Some(UisFault::Token)
        }
        "ip_not_whitelisted" => Some(UisFault::IpNotWhitelisted),
        "forbidden" => Some(UisFault::Forbidden),
        "component_disabled" => Some(UisFault::ComponentDisabled),
        "invalid_state" => Some(UisFault::InvalidState),
        "call_session_not_found" => Some(UisFault::SessionNotFound),
        "limit_exceeded" => Some(UisFault::Limit),
        _ => None,
    };
    by_mnemonic.or(match code.trim() {
        "-32001" => Some(UisFault::Token),
        "-32003" => Some(UisFault::Forbidden),
        "-32004" => Some(UisFault::InvalidState),
        "-32008" => Some(UisFault::ComponentDisabled),
        "-32029" => Some(UisFault::Limit),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "tok-0123456789abcdef";

    #[test]
    fn employee_call_body_is_json_rpc_with_the_token_in_params() {
        let call = EmployeeCall {
            employee_id: "25".into(),
            employee_phone_number: Some("101".into()),
            contact: "79260000000".into(),
            virtual_phone_number: Some("74993720692".into()),
            extra: parse_extra(
                r#"{"external_id":"order-7","first_call":"contact","access_token":"evil"}"#,
            )
            .unwrap_or_default(),
        };
        let request = employee_call_request("1", TOKEN, &call).expect("valid request");
        let body: Value = serde_json::from_str(&request.body).unwrap_or_default();
        assert_eq!(body["jsonrpc"], "2.0");
        assert_eq!(body["method"], "start.employee_call");
        assert_eq!(body["params"]["access_token"], TOKEN);
        assert_eq!(
            body["params"]["employee"],
            json!({"id": 25, "phone_number": "101"})
        );
        assert_eq!(body["params"]["first_call"], "contact");
        assert_eq!(body["params"]["external_id"], "order-7");
        assert!(!format!("{request:?}").contains(TOKEN));
    }

    #[test]
    fn simple_call_and_missing_parameters() {
        let call = SimpleCall {
            operator: "74950000001".into(),
            contact: "79260000000".into(),
            ..Default::default()
        };
        let request = simple_call_request("7", TOKEN, &call).expect("valid request");
        let body: Value = serde_json::from_str(&request.body).unwrap_or_default();
        assert_eq!(body["params"]["operator"], "74950000001");
        assert_eq!(body["id"], "7");
        let err = employee_call_request(
            "1",
            TOKEN,
            &EmployeeCall {
                contact: "1".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("employee.id"));
        let err = simple_call_request("1", " ", &call).unwrap_err();
        assert!(err.to_string().contains("access_token"));
        assert!(parse_extra("[1]").is_err() && parse_extra("{").is_err());
    }

    #[test]
    fn answers_and_errors_without_the_token() {
        let ok = br#"{"jsonrpc":"2.0","id":"1","result":{"data":{"call_session_id":3201987654}}}"#;
        assert_eq!(
            parse_call_response(ok, "1", TOKEN),
            Ok(CallStarted {
                call_session_id: "3201987654".into()
            })
        );
        let other = br#"{"jsonrpc":"2.0","id":"2","result":{"data":{"call_session_id":1}}}"#;
        assert!(matches!(
            parse_call_response(other, "1", TOKEN),
            Err(CallsError::UnexpectedResponse { .. })
        ));
        let error = format!(
            r#"{{"jsonrpc":"2.0","id":"1","error":{{"code":-32001,"message":"Access token {TOKEN} has been expired","data":{{"mnemonic":"expired_access_token","field":"access_token","value":"{TOKEN}"}}}}}}"#
        );
        let err = parse_call_response(error.as_bytes(), "1", TOKEN).unwrap_err();
        // The texts for people are made from these fields only (src/present/calls.rs).
        let en = err.to_string();
        assert!(
            en.contains("-32001")
                && en.contains("expired_access_token")
                && en.contains("access_token"),
            "{en}"
        );
        assert!(!en.contains(TOKEN) && !format!("{err:?}").contains(TOKEN));
        assert!(matches!(
            parse_call_response(b"<html>", "1", TOKEN),
            Err(CallsError::NotJson { .. })
        ));
        assert!(matches!(
            parse_call_response(b"{}", "1", TOKEN),
            Err(CallsError::UnexpectedResponse { .. })
        ));
    }
}
