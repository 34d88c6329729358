//! A UIS virtual PBX as its APIs answer: the Call API v4.0 (`/v4.0`) and the Data API v2.0 (`/v2.0`), JSON-RPC
//! 2.0 over HTTP, with the call sessions' states of the Call API's state diagram so that `invalid_state` arises
//! from the order of the calls, not from a scripted answer. The error texts, codes and mnemonics are those of the
//! Call API documentation («Список ошибок общих для всех методов» and each method's list); answers carry
//! `metadata.limits` as documented.
//!
//! States: `talk` (operator and client) —hold.call→ `hold` —make.call→ `dialing` (the second leg rings)
//! —answer_consultation→ `operator_talk`; from `dialing`/`operator_talk` `transfer.talk` hands the client over
//! (`transferred`) and `restore.talk` returns to `talk`; `unhold.call` takes `hold` back to `talk`;
//! `release.call` ends any live session (`released`). A released or transferred session is unknown to the
//! methods afterwards (`call_session_not_found`), as a finished call is in UIS.
#![allow(dead_code)] // each test binary uses a different part

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::http_emulator::{self, Seen};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    Talk,
    Hold,
    Dialing,
    OperatorTalk,
    Transferred,
    Released,
}

/// What the emulated account is like; tests change it between calls.
pub struct Account {
    pub token: String,
    pub sessions: HashMap<u64, CallState>,
    /// The consultation number of each session's second leg.
    pub second_leg: HashMap<u64, String>,
    /// Employees and their `calls_available`.
    pub employees: HashMap<u64, bool>,
    /// Numbers `make.call` cannot reach (`no_active_phone_number`).
    pub inactive_numbers: Vec<String>,
    /// «Call API Управление вызовами» enabled.
    pub call_management: bool,
    /// Points left this minute (one per successful request, as the documentation counts).
    pub minute_remaining: u32,
    /// Sleep this long before answering (the next request waits too: one connection at a time).
    pub stall: Option<Duration>,
}

pub struct UisPbx {
    pub url: String,
    pub account: Arc<Mutex<Account>>,
    pub seen: mpsc::Receiver<Seen>,
}

const CONTROL: &[&str] = &[
    "hold.call",
    "unhold.call",
    "make.call",
    "transfer.talk",
    "restore.talk",
];

impl UisPbx {
    pub fn start(token: &str) -> UisPbx {
        let account = Arc::new(Mutex::new(Account {
            token: token.to_string(),
            sessions: HashMap::new(),
            second_leg: HashMap::new(),
            employees: HashMap::new(),
            inactive_numbers: Vec::new(),
            call_management: true,
            minute_remaining: 1000,
            stall: None,
        }));
        let shared = Arc::clone(&account);
        let (url, seen) = http_emulator::serve(String::new(), move |path, body| {
            let stall = shared.lock().unwrap().stall;
            if let Some(pause) = stall {
                std::thread::sleep(pause);
            }
            let mut account = shared.lock().unwrap();
            (200, answer(&mut account, path, body).to_string())
        });
        UisPbx { url, account, seen }
    }

    /// A call the PBX connected: operator and client talk.
    pub fn connect_call(&self, session: u64) {
        self.account
            .lock()
            .unwrap()
            .sessions
            .insert(session, CallState::Talk);
    }

    /// The consulted party picks up the second leg.
    pub fn answer_consultation(&self, session: u64) {
        let mut account = self.account.lock().unwrap();
        if account.sessions.get(&session) == Some(&CallState::Dialing) {
            account.sessions.insert(session, CallState::OperatorTalk);
        }
    }

    pub fn state(&self, session: u64) -> Option<CallState> {
        self.account.lock().unwrap().sessions.get(&session).copied()
    }

    /// The methods of the requests seen so far (and drained).
    pub fn methods(&self) -> Vec<String> {
        self.seen
            .try_iter()
            .map(|seen| {
                let body: Value = serde_json::from_str(&seen.body).unwrap_or(Value::Null);
                format!("{} {}", seen.path, body["method"].as_str().unwrap_or("?"))
            })
            .collect()
    }
}

fn error(id: &Value, code: i64, message: &str, mnemonic: &str, field: Option<&str>) -> Value {
    let mut data = json!({"mnemonic": mnemonic, "params": {}, "extended_helper": null});
    if let Some(field) = field {
        data["field"] = json!(field);
    }
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message, "data": data}})
}

fn metadata(account: &Account) -> Value {
    json!({"limits": {"day_limit": 10000, "day_remaining": 9000, "day_reset": 3600,
        "minute_limit": 1000, "minute_remaining": account.minute_remaining, "minute_reset": 60}})
}

fn answer(account: &mut Account, path: &str, body: &str) -> Value {
    let Ok(request) = serde_json::from_str::<Value>(body) else {
        return error(
            &Value::Null,
            -32700,
            "Invalid JSON was received by the server.",
            "parse_error",
            None,
        );
    };
    let id = request["id"].clone();
    let method = request["method"].as_str().unwrap_or_default().to_string();
    let params = &request["params"];
    if request["jsonrpc"] != "2.0" || id.is_null() {
        return error(
            &id,
            -32600,
            "Invalid Request The JSON sent is not a valid Request object",
            "invalid_request",
            None,
        );
    }
    // Authentication first, and it costs no points.
    if params["access_token"].as_str() != Some(account.token.as_str()) {
        return error(
            &id,
            -32001,
            "Access token is invalid",
            "access_token_invalid",
            Some("access_token"),
        );
    }
    if account.minute_remaining == 0 {
        return error(
            &id,
            -32029,
            "Limit per minute has been exceeded. Value of current limit per minute is 1000",
            "limit_exceeded",
            None,
        );
    }
    let data_api = path.starts_with("/v2.0");
    let outcome = if data_api {
        data_method(account, &method, params)
    } else {
        call_method(account, &method, params)
    };
    match outcome {
        Ok(result) => {
            account.minute_remaining -= 1;
            let mut result = result;
            result["metadata"] = metadata(account);
            json!({"jsonrpc": "2.0", "id": id, "result": result})
        }
        Err((code, message, mnemonic, field)) => {
            let mut reply = error(&id, code, &message, mnemonic, field);
            reply["error"]["data"]["metadata"] = metadata(account);
            reply
        }
    }
}

type Failure = (i64, String, &'static str, Option<&'static str>);

fn invalid_state() -> Failure {
    (
        -32004,
        "This method can not be called in this state".into(),
        "invalid_state",
        None,
    )
}

fn success() -> Value {
    json!({"data": {"success": "true"}})
}

fn call_method(account: &mut Account, method: &str, params: &Value) -> Result<Value, Failure> {
    if CONTROL.contains(&method) && !account.call_management {
        return Err((
            -32008,
            "Component call_management has been disabled".into(),
            "component_disabled",
            None,
        ));
    }
    if !CONTROL.contains(&method) && method != "release.call" {
        return Err((
            -32601,
            "The method does not exist / is not available".into(),
            "method_not_found",
            None,
        ));
    }
    let Some(session) = params["call_session_id"].as_u64() else {
        return Err((
            -32602,
            "Data supplied is of wrong type".into(),
            "data_type_error",
            Some("call_session_id"),
        ));
    };
    let state = match account.sessions.get(&session) {
        Some(CallState::Transferred | CallState::Released) | None => {
            return Err((
                -32602,
                "Call session not found".into(),
                "call_session_not_found",
                Some("call_session_id"),
            ))
        }
        Some(state) => *state,
    };
    use CallState::*;
    let next = match (method, state) {
        ("hold.call", Talk) => {
            let message = &params["contact_message"];
            if !matches!(message["type"].as_str(), Some("media" | "tts"))
                || message["value"].as_str().is_none()
            {
                return Err((
                    -32602,
                    "The required parameter has been missed".into(),
                    "required_parameter_missed",
                    Some("contact_message"),
                ));
            }
            Hold
        }
        ("unhold.call", Hold) => Talk,
        ("make.call", Hold) => {
            let to = params["to"].as_str().unwrap_or_default().to_string();
            if to.is_empty() {
                return Err((
                    -32602,
                    "The required parameter has been missed".into(),
                    "required_parameter_missed",
                    Some("to"),
                ));
            }
            if account.inactive_numbers.contains(&to) {
                return Err((
                    -32602,
                    "The phone number does not exist or inactive".into(),
                    "no_active_phone_number",
                    Some("to"),
                ));
            }
            account.second_leg.insert(session, to);
            Dialing
        }
        ("transfer.talk", Dialing | OperatorTalk) => Transferred,
        ("restore.talk", Dialing | OperatorTalk) => {
            account.second_leg.remove(&session);
            Talk
        }
        ("release.call", _) => Released,
        _ => return Err(invalid_state()),
    };
    account.sessions.insert(session, next);
    Ok(success())
}

fn data_method(account: &mut Account, method: &str, params: &Value) -> Result<Value, Failure> {
    match method {
        "get.employees" => {
            let wanted = params["filter"]["value"].as_u64();
            let fields: Vec<&str> = params["fields"]
                .as_array()
                .map(|f| f.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let data: Vec<Value> = account
                .employees
                .iter()
                .filter(|(id, _)| wanted.is_none_or(|w| w == **id))
                .map(|(id, available)| {
                    let full =
                        json!({"id": id, "calls_available": available, "full_name": "Оператор"});
                    if fields.is_empty() {
                        full
                    } else {
                        fields
                            .iter()
                            .map(|f| (f.to_string(), full[*f].clone()))
                            .collect()
                    }
                })
                .collect();
            Ok(json!({"data": data}))
        }
        "update.employees" => {
            let Some(id) = params["id"].as_u64() else {
                return Err((
                    -32602,
                    "The required parameter has been missed".into(),
                    "required_parameter_missed",
                    Some("id"),
                ));
            };
            let Some(available) = params["calls_available"].as_bool() else {
                return Err((
                    -32602,
                    "Data supplied is of wrong type".into(),
                    "data_type_error",
                    Some("calls_available"),
                ));
            };
            match account.employees.get_mut(&id) {
                Some(slot) => {
                    *slot = available;
                    Ok(json!({"data": {"id": id}}))
                }
                None => Err((
                    -32602,
                    "Invalid parameter value".into(),
                    "invalid_parameter_value",
                    Some("id"),
                )),
            }
        }
        _ => Err((
            -32601,
            "The method does not exist / is not available".into(),
            "method_not_found",
            None,
        )),
    }
}
