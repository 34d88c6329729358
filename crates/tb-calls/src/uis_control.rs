//! UIS call control and the operator's availability, sans IO: the JSON-RPC requests of the Call API's call
//! management methods (`hold.call`, `unhold.call`, `make.call`, `transfer.talk`, `restore.talk`, `release.call`)
//! and of the Data API (`get.employees`, `update.employees` with `calls_available`), the readers of their answers,
//! and the blind transfer and the consultation as a small state machine over them ([`Handover`]).
//!
//! Sources: the UIS Call API v4.0 documentation (a copy in andrey149502/comagic-api `call-api.md`; the same
//! platform's current English pages at callgear.github.io/call_api) and the Data API v2.0 pages for
//! `get.employees`/`update.employees` (callgear.github.io/data_api/employee). The Call API has no one-step blind
//! transfer: `transfer.talk` is allowed once `make.call` has started the second leg, in the `dialing` state as
//! well as in `operator_talk`, so a blind transfer is `hold.call` → `make.call` → `transfer.talk` sent at once.
//! The access token travels in `params.access_token` and never appears in an error or a `Debug` output.

use serde_json::{json, Map, Value};

use crate::error::{CallsError, Problem, Subject};
use crate::fields::{value_flag, value_text};
use crate::uis_call_api::{answer_result, build, require, RpcRequest};

/// The Data API's default endpoint.
pub const DEFAULT_DATA_URL: &str = "https://dataapi.uiscom.ru/v2.0";
const CALL_API: &str = "UIS Call API";
const DATA_API: &str = "UIS Data API";
const WHAT_PARAMS: Subject = Subject::UisCallApiParameters;

/// What the client hears while he is on hold (`hold.call`'s `contact_message`, which the documentation marks as
/// required): a media file id of the cabinet or a text for speech synthesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldMessage {
    Media(String),
    Tts(String),
}

/// The text said when the 1C developer gives none.
pub const DEFAULT_HOLD_TEXT: &str = "Пожалуйста, оставайтесь на линии";

impl HoldMessage {
    /// From the add-in's parameters: `kind` "media" takes `value` as a file id; anything else (or empty) is
    /// text for speech synthesis; an empty `value` is [`DEFAULT_HOLD_TEXT`].
    pub fn from_parts(value: &str, kind: &str) -> Result<HoldMessage, CallsError> {
        let value = value.trim();
        match kind.trim().to_ascii_lowercase().as_str() {
            "media" => Ok(HoldMessage::Media(require(value, "contact_message.value")?)),
            "" | "tts" => Ok(HoldMessage::Tts(if value.is_empty() {
                DEFAULT_HOLD_TEXT.to_string()
            } else {
                value.to_string()
            })),
            other => Err(CallsError::InvalidField {
                what: WHAT_PARAMS,
                field: "contact_message.type".into(),
                detail: Problem::Parser(format!("\"{other}\" (media or tts)")),
            }),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            HoldMessage::Media(id) => json!({"type": "media", "value": id}),
            HoldMessage::Tts(text) => json!({"type": "tts", "value": text}),
        }
    }
}

/// The call management methods that take only the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionMethod {
    /// Hand the client to the consulted party (after `make.call`).
    TransferTalk,
    /// Back to the client after a consultation (after `make.call`).
    RestoreTalk,
    /// Take the client off hold (after `hold.call`).
    UnholdCall,
    /// End the whole call.
    ReleaseCall,
}

impl SessionMethod {
    pub fn name(self) -> &'static str {
        match self {
            SessionMethod::TransferTalk => "transfer.talk",
            SessionMethod::RestoreTalk => "restore.talk",
            SessionMethod::UnholdCall => "unhold.call",
            SessionMethod::ReleaseCall => "release.call",
        }
    }
}

/// A whole number id (`call_session_id`, an employee `id`) as the JSON number UIS wants.
fn number(text: &str, field: &'static str) -> Result<Value, CallsError> {
    let text = require(text, field)?;
    text.parse::<u64>()
        .map(Value::from)
        .map_err(|_| CallsError::InvalidField {
            what: WHAT_PARAMS,
            field: field.to_string(),
            detail: Problem::NotDigits,
        })
}

fn session_params(session: &str) -> Result<Map<String, Value>, CallsError> {
    let mut params = Map::new();
    params.insert(
        "call_session_id".into(),
        number(session, "call_session_id")?,
    );
    Ok(params)
}

/// `hold.call`: the client waits hearing `message`; the operator's line is free for `make.call`.
pub fn hold_call_request(
    id: &str,
    access_token: &str,
    session: &str,
    message: &HoldMessage,
) -> Result<RpcRequest, CallsError> {
    let mut params = session_params(session)?;
    params.insert("contact_message".into(), message.to_json());
    build(id, "hold.call", params, &Map::new(), access_token)
}

/// `make.call`: the second leg to `to` (an extension, an employee's or an external number, a SIP number).
pub fn make_call_request(
    id: &str,
    access_token: &str,
    session: &str,
    to: &str,
) -> Result<RpcRequest, CallsError> {
    let mut params = session_params(session)?;
    params.insert("to".into(), Value::String(require(to, "to")?));
    build(id, "make.call", params, &Map::new(), access_token)
}

/// `transfer.talk`, `restore.talk`, `unhold.call` or `release.call` of a session.
pub fn session_request(
    id: &str,
    access_token: &str,
    method: SessionMethod,
    session: &str,
) -> Result<RpcRequest, CallsError> {
    build(
        id,
        method.name(),
        session_params(session)?,
        &Map::new(),
        access_token,
    )
}

/// Reads a call management answer: `result.data.success` true (UIS writes it as the string "true").
pub fn parse_success(body: &[u8], expected_id: &str, access_token: &str) -> Result<(), CallsError> {
    let result = answer_result(
        body,
        expected_id,
        access_token,
        CALL_API,
        Subject::UisCallApiResponse,
    )?;
    match result
        .get("data")
        .and_then(|d| d.get("success"))
        .and_then(value_flag)
    {
        Some(true) => Ok(()),
        _ => Err(CallsError::UnexpectedResponse {
            api: CALL_API,
            detail: Problem::NotSuccessful,
        }),
    }
}

/// Handing the client over, as a sans-IO machine: the blind transfer ([`Handover::blind_transfer`]) is `hold.call`,
/// `make.call`, `transfer.talk` in a row. When `make.call`
/// fails the client is taken off hold (`unhold.call`), when `transfer.talk` fails the operator goes back to the
/// client (`restore.talk`), so a failed transfer never leaves the client waiting; the error reported is the
/// first one (the caller logs the clean-up's own result with every request).
///
/// The same machine, stopped after `make.call`, starts a consultation ([`Handover::consultation`]):
/// the client is on hold and the second leg rings; the operator then ends it with `transfer.talk` or
/// `restore.talk`.
#[derive(Debug)]
pub struct Handover {
    session: String,
    to: String,
    stage: Stage,
    transfer: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Hold,
    Make,
    Transfer,
    CleanUp,
}

/// What to do next.
#[derive(Debug)]
pub enum Step<E> {
    /// Send this request and pass its outcome to [`Handover::answered`].
    Send(RpcRequest),
    /// Finished: `Ok` when the client was handed over.
    Done(Result<(), E>),
}

impl Handover {
    /// Checks the parameters and gives the first request (`hold.call`).
    pub fn blind_transfer(
        id: &str,
        access_token: &str,
        session: &str,
        to: &str,
        message: &HoldMessage,
    ) -> Result<(Handover, RpcRequest), CallsError> {
        let to = require(to, "to")?;
        let first = hold_call_request(id, access_token, session, message)?;
        Ok((
            Handover {
                session: session.trim().to_string(),
                to,
                stage: Stage::Hold,
                transfer: true,
            },
            first,
        ))
    }

    /// `hold.call` → `make.call` (the client comes off hold if `make.call` fails), and no transfer.
    pub fn consultation(
        id: &str,
        access_token: &str,
        session: &str,
        to: &str,
        message: &HoldMessage,
    ) -> Result<(Handover, RpcRequest), CallsError> {
        let (mut machine, first) =
            Handover::blind_transfer(id, access_token, session, to, message)?;
        machine.transfer = false;
        Ok((machine, first))
    }

    /// The outcome of the last request sent; `id` is the JSON-RPC id of the next one. `failure` keeps the first
    /// error while the clean-up runs.
    pub fn answered<E>(
        &mut self,
        id: &str,
        access_token: &str,
        outcome: Result<(), E>,
        failure: &mut Option<E>,
    ) -> Step<E> {
        let next = match (self.stage, outcome) {
            (Stage::Hold, Ok(())) => {
                self.stage = Stage::Make;
                make_call_request(id, access_token, &self.session, &self.to)
            }
            (Stage::Make, Ok(())) if !self.transfer => return Step::Done(Ok(())),
            (Stage::Make, Ok(())) => {
                self.stage = Stage::Transfer;
                session_request(id, access_token, SessionMethod::TransferTalk, &self.session)
            }
            (Stage::Transfer, Ok(())) => return Step::Done(Ok(())),
            (Stage::Hold, Err(e)) => return Step::Done(Err(e)),
            (Stage::Make, Err(e)) => {
                *failure = Some(e);
                self.stage = Stage::CleanUp;
                session_request(id, access_token, SessionMethod::UnholdCall, &self.session)
            }
            (Stage::Transfer, Err(e)) => {
                *failure = Some(e);
                self.stage = Stage::CleanUp;
                session_request(id, access_token, SessionMethod::RestoreTalk, &self.session)
            }
            (Stage::CleanUp, _) => {
                return match failure.take() {
                    Some(e) => Step::Done(Err(e)),
                    None => Step::Done(Ok(())),
                }
            }
        };
        // The session and the token were checked by `start`; these builds cannot fail.
        match next {
            Ok(request) => Step::Send(request),
            Err(_) => match failure.take() {
                Some(e) => Step::Done(Err(e)),
                None => Step::Done(Ok(())),
            },
        }
    }

    /// The method the last request sent was (for logs).
    pub fn stage_method(&self) -> &'static str {
        match self.stage {
            Stage::Hold => "hold.call",
            Stage::Make => "make.call",
            Stage::Transfer => "transfer.talk",
            Stage::CleanUp => "clean-up",
        }
    }
}

/// Data API `get.employees` for one employee, asking only for `id` and `calls_available`.
pub fn get_employee_request(
    id: &str,
    access_token: &str,
    employee_id: &str,
) -> Result<RpcRequest, CallsError> {
    let mut params = Map::new();
    params.insert(
        "filter".into(),
        json!({"field": "id", "operator": "=", "value": number(employee_id, "employee_id")?}),
    );
    params.insert("fields".into(), json!(["id", "calls_available"]));
    build(id, "get.employees", params, &Map::new(), access_token)
}

/// Reads the `get.employees` answer: the employee's `calls_available`.
pub fn parse_calls_available(
    body: &[u8],
    expected_id: &str,
    access_token: &str,
    employee_id: &str,
) -> Result<bool, CallsError> {
    let result = answer_result(
        body,
        expected_id,
        access_token,
        DATA_API,
        Subject::UisDataApiResponse,
    )?;
    let wanted = employee_id.trim();
    result
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|e| e.get("id").and_then(value_text).as_deref() == Some(wanted))
        .and_then(|e| e.get("calls_available"))
        .and_then(value_flag)
        .ok_or(CallsError::UnexpectedResponse {
            api: DATA_API,
            detail: Problem::NoEmployee {
                id: wanted.to_string(),
            },
        })
}

/// Data API `update.employees {id, calls_available}`: the operator takes calls or not.
pub fn set_calls_available_request(
    id: &str,
    access_token: &str,
    employee_id: &str,
    available: bool,
) -> Result<RpcRequest, CallsError> {
    let mut params = Map::new();
    params.insert("id".into(), number(employee_id, "id")?);
    params.insert("calls_available".into(), Value::Bool(available));
    build(id, "update.employees", params, &Map::new(), access_token)
}

/// Reads the `update.employees` answer: any `result` is success (UIS answers `{"data": {"id": …}}`).
pub fn parse_update_response(
    body: &[u8],
    expected_id: &str,
    access_token: &str,
) -> Result<(), CallsError> {
    let result = answer_result(
        body,
        expected_id,
        access_token,
        DATA_API,
        Subject::UisDataApiResponse,
    )?;
    if result.is_null() {
        return Err(CallsError::UnexpectedResponse {
            api: DATA_API,
            detail: Problem::NotSuccessful,
        });
    }
    Ok(())
}

/// Where the operator's call stands, as far as the card and the panel know it: from the call's events (the
/// normalized model: `ringing`, `answered`, `in_progress`, `transferred`, `finished`, `lost`, `record_ready`,
/// `error`) and from the control actions this operator completed. Phases only move forward (a late `ringing` after
/// `answered`, or an `answered` after our own transfer, changes nothing), in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Phase {
    /// No event known yet.
    #[default]
    Unknown,
    /// Ringing or dialling: nobody talks yet.
    Ringing,
    /// Talking (the consultation, if any, is [`ControlState::consultation`]).
    Talking,
    /// Handed to someone else: the call is no longer this operator's.
    Transferred,
    /// Over (finished, lost, failed; a recording may follow).
    Finished,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Unknown => "unknown",
            Phase::Ringing => "ringing",
            Phase::Talking => "talking",
            Phase::Transferred => "transferred",
            Phase::Finished => "finished",
        }
    }

    pub fn from_name(name: &str) -> Option<Phase> {
        [
            Phase::Unknown,
            Phase::Ringing,
            Phase::Talking,
            Phase::Transferred,
            Phase::Finished,
        ]
        .into_iter()
        .find(|p| p.name() == name)
    }

    /// The phase an event of the call model says the call is in; `None` for a name that is no event.
    pub fn of_event(event: &str) -> Option<Phase> {
        use crate::model::EventKind;
        Some(match EventKind::from_name(event.trim())? {
            EventKind::Ringing => Phase::Ringing,
            EventKind::Answered | EventKind::InProgress => Phase::Talking,
            EventKind::Transferred => Phase::Transferred,
            EventKind::Finished | EventKind::Lost | EventKind::RecordReady | EventKind::Error => {
                Phase::Finished
            }
        })
    }
}

/// The buttons of the call control, by the names the extension's BSL passes
/// (`ТБ_ТелефонияУправлениеUIS.ВыполнитьДействие`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlAction {
    /// «Консультация...»: hold the client and call a colleague.
    Consult,
    /// «Соединить»: hand the client to the colleague of the consultation.
    Connect,
    /// «Вернуть»: back to the client after a consultation.
    Restore,
    /// «Перевести...»: the blind transfer.
    Transfer,
    /// «Завершить»: end the call.
    Release,
}

impl ControlAction {
    pub const ALL: [ControlAction; 5] = [
        ControlAction::Consult,
        ControlAction::Connect,
        ControlAction::Restore,
        ControlAction::Transfer,
        ControlAction::Release,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ControlAction::Consult => "Консультация",
            ControlAction::Connect => "Соединить",
            ControlAction::Restore => "Вернуть",
            ControlAction::Transfer => "Переадресовать",
            ControlAction::Release => "Завершить",
        }
    }

    pub fn from_name(name: &str) -> Option<ControlAction> {
        let name = name.trim();
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The most UIS requests the action sends in a row, each bounded by the timeout: the consultation is
    /// `hold.call`, `make.call` and, when that fails, `unhold.call`; the blind transfer adds `transfer.talk` and,
    /// when that fails, `restore.talk` (see [`Handover`]). The extension runs the actions of more than one request
    /// in a background job and waits for it this many timeouts plus a margin.
    pub fn max_requests(self) -> u32 {
        match self {
            ControlAction::Consult => 3,
            ControlAction::Transfer => 4,
            ControlAction::Connect | ControlAction::Restore | ControlAction::Release => 1,
        }
    }
}

/// What the card or the panel knows of one call for its control buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ControlState {
    pub phase: Phase,
    /// This operator started a consultation (the client is on hold, the colleague's leg is up) and has not yet
    /// connected or returned.
    pub consultation: bool,
}

impl ControlState {
    fn moved_to(self, phase: Phase) -> ControlState {
        let phase = self.phase.max(phase);
        ControlState {
            phase,
            // A consultation lives only while the call is talking.
            consultation: self.consultation && phase == Phase::Talking,
        }
    }

    /// After an event of the call; an unknown event name changes nothing.
    pub fn after_event(self, event: &str) -> ControlState {
        Phase::of_event(event).map_or(self, |phase| self.moved_to(phase))
    }

    /// After an action that UIS accepted (a refused one changes nothing: the machine has cleaned up, see
    /// [`Handover`]). Only what the action proves moves the state: a consultation makes the call talking.
    pub fn after_action(self, action: ControlAction) -> ControlState {
        match action {
            ControlAction::Consult => {
                let moved = self.moved_to(Phase::Talking);
                ControlState {
                    consultation: moved.phase == Phase::Talking,
                    ..moved
                }
            }
            ControlAction::Restore => ControlState {
                consultation: false,
                ..self.moved_to(Phase::Talking)
            },
            ControlAction::Connect | ControlAction::Transfer => self.moved_to(Phase::Transferred),
            ControlAction::Release => self.moved_to(Phase::Finished),
        }
    }

    /// The actions offered in this state — the table of `docs/call-sources.md` («Какие кнопки видны»). UIS would
    /// answer `invalid_state` to the others: hold and the second leg need a talk, «Соединить»/«Вернуть» need this
    /// operator's consultation, nothing can be done to a call that left him or ended.
    pub fn offered(self) -> Vec<ControlAction> {
        use ControlAction::*;
        match (self.phase, self.consultation) {
            (Phase::Unknown | Phase::Ringing, _) => vec![Release],
            (Phase::Talking, false) => vec![Consult, Transfer, Release],
            (Phase::Talking, true) => vec![Connect, Restore, Release],
            (Phase::Transferred | Phase::Finished, _) => vec![],
        }
    }

    /// The state as the extension keeps it in a form: `{"phase", "consultation", "offered": [names]}`.
    pub fn to_json(self) -> Value {
        json!({
            "phase": self.phase.name(),
            "consultation": self.consultation,
            "offered": self.offered().into_iter().map(ControlAction::name).collect::<Vec<_>>(),
        })
    }

    /// Reads [`ControlState::to_json`]'s text back. Empty text is the start; text that is not such a state is
    /// the start too — it only decides which buttons show, and UIS itself refuses a step in the wrong state.
    pub fn from_json(text: &str) -> ControlState {
        let Ok(value) = serde_json::from_str::<Value>(text.trim()) else {
            return ControlState::default();
        };
        let Some(phase) = value
            .get("phase")
            .and_then(Value::as_str)
            .and_then(Phase::from_name)
        else {
            return ControlState::default();
        };
        ControlState {
            phase,
            consultation: phase == Phase::Talking
                && value.get("consultation").and_then(value_flag) == Some(true),
        }
    }
}

/// The add-in's `СостояниеУправленияЗвонком`: the previous state (empty at the start), then the event if any,
/// then the accepted action if any; the new state with its offered actions as JSON text. An action name that is
/// none of [`ControlAction`] is an error (a programming error of the caller, not an operator's).
pub fn control_state(previous: &str, event: &str, action: &str) -> Result<String, CallsError> {
    let mut state = ControlState::from_json(previous);
    if !event.trim().is_empty() {
        state = state.after_event(event);
    }
    if !action.trim().is_empty() {
        let action = ControlAction::from_name(action).ok_or_else(|| CallsError::InvalidField {
            what: WHAT_PARAMS,
            field: "action".into(),
            detail: Problem::Parser(format!(
                "\"{}\" (Консультация, Соединить, Вернуть, Переадресовать, Завершить)",
                action.trim()
            )),
        })?;
        state = state.after_action(action);
    }
    Ok(state.to_json().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::UisFault;
    use crate::uis_call_api::uis_fault;

    /// The token of the documentation's examples.
    const DOC_TOKEN: &str =
        "2fRN4g217ca0b4224a67988aff3e584f91964a692045415f36fa66146f5a3c1ae1f6093d";
    const DOC_SUCCESS: &[u8] =
        br#"{"jsonrpc": "2.0", "id": "req1", "result": {"data": {"success": "true"}}}"#;

    fn body(request: &RpcRequest) -> Value {
        serde_json::from_str(&request.body).unwrap_or_default()
    }

    fn doc(text: &str) -> Value {
        serde_json::from_str(text).unwrap_or_default()
    }

    #[test]
    fn requests_are_the_documented_examples() {
        let hold = hold_call_request(
            "req1",
            DOC_TOKEN,
            "23465781",
            &HoldMessage::from_parts("2034", "media").unwrap_or(HoldMessage::Tts(String::new())),
        )
        .expect("hold.call");
        assert_eq!(
            body(&hold),
            doc(&format!(
                r#"{{"jsonrpc": "2.0", "method": "hold.call", "id": "req1", "params": {{"access_token": "{DOC_TOKEN}",
                "call_session_id": 23465781, "contact_message": {{"type": "media", "value": "2034"}}}}}}"#
            ))
        );
        let make = make_call_request("req1", DOC_TOKEN, "2354891", " 79260000000 ").expect("make");
        assert_eq!(
            body(&make),
            doc(&format!(
                r#"{{"jsonrpc": "2.0", "method": "make.call", "id": "req1", "params": {{"access_token": "{DOC_TOKEN}",
                "call_session_id": 2354891, "to": "79260000000"}}}}"#
            ))
        );
        for (method, session) in [
            (SessionMethod::TransferTalk, 2786459u64),
            (SessionMethod::RestoreTalk, 25374860),
            (SessionMethod::UnholdCall, 2846590),
            (SessionMethod::ReleaseCall, 28575639),
        ] {
            let request = session_request("req1", DOC_TOKEN, method, &session.to_string())
                .expect("session method");
            assert_eq!(
                body(&request),
                json!({"jsonrpc": "2.0", "method": method.name(), "id": "req1",
                    "params": {"access_token": DOC_TOKEN, "call_session_id": session}})
            );
            assert!(!format!("{request:?}").contains(DOC_TOKEN));
        }
        assert_eq!(
            [
                "transfer.talk",
                "restore.talk",
                "unhold.call",
                "release.call"
            ],
            [
                SessionMethod::TransferTalk.name(),
                SessionMethod::RestoreTalk.name(),
                SessionMethod::UnholdCall.name(),
                SessionMethod::ReleaseCall.name()
            ]
        );
    }

    #[test]
    fn hold_message_defaults_and_refusals() {
        assert_eq!(
            HoldMessage::from_parts(" ", ""),
            Ok(HoldMessage::Tts(DEFAULT_HOLD_TEXT.into()))
        );
        assert_eq!(
            HoldMessage::from_parts("Минуту", "TTS"),
            Ok(HoldMessage::Tts("Минуту".into()))
        );
        assert!(matches!(
            HoldMessage::from_parts("", "media"),
            Err(CallsError::MissingField {
                field: "contact_message.value",
                ..
            })
        ));
        assert!(matches!(
            HoldMessage::from_parts("1", "mp3"),
            Err(CallsError::InvalidField { .. })
        ));
        // The session id is a number in UIS: a name or a fraction is refused before anything is sent.
        for bad in ["abc", "12.5", "-3"] {
            assert!(matches!(
                session_request("1", "t0ken", SessionMethod::ReleaseCall, bad),
                Err(CallsError::InvalidField {
                    detail: Problem::NotDigits,
                    ..
                })
            ));
        }
        assert!(matches!(
            session_request("1", "t0ken", SessionMethod::ReleaseCall, " "),
            Err(CallsError::MissingField {
                field: "call_session_id",
                ..
            })
        ));
        assert!(matches!(
            make_call_request("1", " ", "5", "101"),
            Err(CallsError::MissingField {
                field: "access_token",
                ..
            })
        ));
        assert!(matches!(
            make_call_request("1", "t0ken", "5", ""),
            Err(CallsError::MissingField { field: "to", .. })
        ));
    }

    #[test]
    fn answers_success_and_each_documented_refusal() {
        assert_eq!(parse_success(DOC_SUCCESS, "req1", DOC_TOKEN), Ok(()));
        assert_eq!(
            parse_success(
                br#"{"jsonrpc":"2.0","id":"req1","result":{"data":{"success":true}}}"#,
                "req1",
                DOC_TOKEN
            ),
            Ok(())
        );
        assert!(matches!(
            parse_success(
                br#"{"jsonrpc":"2.0","id":"req1","result":{"data":{"success":"false"}}}"#,
                "req1",
                DOC_TOKEN
            ),
            Err(CallsError::UnexpectedResponse {
                detail: Problem::NotSuccessful,
                ..
            })
        ));
        assert!(matches!(
            parse_success(DOC_SUCCESS, "req2", DOC_TOKEN),
            Err(CallsError::UnexpectedResponse {
                detail: Problem::WrongRequestId { .. },
                ..
            })
        ));
        // The documented errors (text, code, mnemonic) of the call control methods and of all methods.
        let cases = [
            (
                "This method can not be called in this state",
                -32004,
                "invalid_state",
                Some(UisFault::InvalidState),
            ),
            (
                "Access token has been expired",
                -32001,
                "access_token_expired",
                Some(UisFault::Token),
            ),
            (
                "Access token has been blocked",
                -32001,
                "access_token_blocked",
                Some(UisFault::Token),
            ),
            (
                "Access token is invalid",
                -32001,
                "access_token_invalid",
                Some(UisFault::Token),
            ),
            (
                "Limit per minute has been exceeded. Value of current limit per minute is 60",
                -32029,
                "limit_exceeded",
                Some(UisFault::Limit),
            ),
            (
                "Component call_management has been disabled",
                -32008,
                "component_disabled",
                Some(UisFault::ComponentDisabled),
            ),
            (
                "Your IP 1.2.3.4 is not whitelisted",
                -32003,
                "ip_not_whitelisted",
                Some(UisFault::IpNotWhitelisted),
            ),
            (
                "Permission denied",
                -32003,
                "forbidden",
                Some(UisFault::Forbidden),
            ),
            (
                "Call session not found",
                -32602,
                "call_session_not_found",
                Some(UisFault::SessionNotFound),
            ),
            (
                "The phone number does not exist or inactive",
                -32602,
                "no_active_phone_number",
                None,
            ),
        ];
        for (message, code, mnemonic, fault) in cases {
            let answer = json!({"jsonrpc": "2.0", "id": "req1", "error": {"code": code,
                "message": format!("{message} {DOC_TOKEN}"),
                "data": {"mnemonic": mnemonic, "field": "call_session_id", "value": DOC_TOKEN}}});
            let err = parse_success(answer.to_string().as_bytes(), "req1", DOC_TOKEN).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains(DOC_TOKEN), "{shown}");
            assert!(
                shown.contains(mnemonic) && shown.contains(&code.to_string()),
                "{shown}"
            );
            match (fault, err) {
                (Some(expected), CallsError::UisRefused { fault, api, .. }) => {
                    assert_eq!((fault, api), (expected, "UIS Call API"))
                }
                (None, CallsError::Api { .. }) => {}
                (expected, other) => panic!("{mnemonic}: expected {expected:?}, got {other:?}"),
            }
        }
        // An unknown mnemonic falls back on the documented code group.
        assert_eq!(uis_fault("-32029", "minute_limit"), Some(UisFault::Limit));
        assert_eq!(uis_fault("-32602", "data_type_error"), None);
    }

    #[test]
    fn blind_transfer_is_hold_make_transfer_and_cleans_up_on_failure() {
        let message = HoldMessage::Tts(DEFAULT_HOLD_TEXT.into());
        let run = |outcomes: &[Result<(), &'static str>]| {
            let (mut machine, first) =
                Handover::blind_transfer("1", "t0ken", "777", "101", &message).expect("start");
            let mut methods = vec![first.method];
            let mut failure = None;
            for (n, outcome) in outcomes.iter().enumerate() {
                match machine.answered(&format!("{}", n + 2), "t0ken", *outcome, &mut failure) {
                    Step::Send(request) => {
                        assert_eq!(body(&request)["params"]["call_session_id"], 777);
                        methods.push(request.method)
                    }
                    Step::Done(result) => return (methods, Some(result)),
                }
            }
            (methods, None)
        };
        assert_eq!(
            run(&[Ok(()), Ok(()), Ok(())]),
            (
                vec!["hold.call", "make.call", "transfer.talk"],
                Some(Ok(()))
            )
        );
        assert_eq!(run(&[Err("hold")]), (vec!["hold.call"], Some(Err("hold"))));
        // make.call failed: the client comes off hold, the make.call error is reported even if unhold fails.
        assert_eq!(
            run(&[Ok(()), Err("make"), Err("unhold")]),
            (
                vec!["hold.call", "make.call", "unhold.call"],
                Some(Err("make"))
            )
        );
        assert_eq!(
            run(&[Ok(()), Ok(()), Err("transfer"), Ok(())]),
            (
                vec!["hold.call", "make.call", "transfer.talk", "restore.talk"],
                Some(Err("transfer"))
            )
        );
        // A consultation stops once the second leg rings, and cleans up the same way.
        let consult = |outcomes: &[Result<(), &'static str>]| {
            let (mut machine, first) =
                Handover::consultation("1", "t0ken", "777", "101", &message).expect("start");
            let mut methods = vec![first.method];
            let mut failure = None;
            for outcome in outcomes {
                match machine.answered("n", "t0ken", *outcome, &mut failure) {
                    Step::Send(request) => methods.push(request.method),
                    Step::Done(result) => return (methods, Some(result)),
                }
            }
            (methods, None)
        };
        assert_eq!(
            consult(&[Ok(()), Ok(())]),
            (vec!["hold.call", "make.call"], Some(Ok(())))
        );
        assert_eq!(
            consult(&[Ok(()), Err("make"), Ok(())]),
            (
                vec!["hold.call", "make.call", "unhold.call"],
                Some(Err("make"))
            )
        );
        let (_, first) =
            Handover::blind_transfer("1", "t0ken", "777", "101", &message).expect("start");
        assert_eq!(body(&first)["params"]["contact_message"]["type"], "tts");
        assert!(Handover::blind_transfer("1", "t0ken", "777", " ", &message).is_err());
    }

    #[test]
    fn data_api_availability() {
        let get = get_employee_request("7", "t0ken", "25").expect("get.employees");
        assert_eq!(
            body(&get),
            json!({"jsonrpc": "2.0", "id": "7", "method": "get.employees", "params": {
                "access_token": "t0ken", "fields": ["id", "calls_available"],
                "filter": {"field": "id", "operator": "=", "value": 25}}})
        );
        let answer = br#"{"jsonrpc":"2.0","id":"7","result":{"data":[{"id":24,"calls_available":true},{"id":25,"calls_available":false}],"metadata":{"total_items":2}}}"#;
        assert_eq!(parse_calls_available(answer, "7", "t0ken", "25"), Ok(false));
        assert_eq!(parse_calls_available(answer, "7", "t0ken", "24"), Ok(true));
        assert!(matches!(
            parse_calls_available(answer, "7", "t0ken", "26"),
            Err(CallsError::UnexpectedResponse {
                api: "UIS Data API",
                detail: Problem::NoEmployee { .. }
            })
        ));
        let set = set_calls_available_request("8", "t0ken", "25", false).expect("update");
        assert_eq!(
            body(&set),
            json!({"jsonrpc": "2.0", "id": "8", "method": "update.employees",
                "params": {"access_token": "t0ken", "id": 25, "calls_available": false}})
        );
        assert_eq!(
            parse_update_response(
                br#"{"jsonrpc":"2.0","id":"8","result":{"data":{"id":25}}}"#,
                "8",
                "t0ken"
            ),
            Ok(())
        );
        assert!(parse_update_response(br#"{"jsonrpc":"2.0","id":"8"}"#, "8", "t0ken").is_err());
        let limit = br#"{"jsonrpc":"2.0","id":"8","error":{"code":-32029,"message":"Limit per day has been exceeded","data":{"mnemonic":"limit_exceeded"}}}"#;
        assert!(matches!(
            parse_update_response(limit, "8", "t0ken"),
            Err(CallsError::UisRefused {
                fault: UisFault::Limit,
                api: "UIS Data API",
                ..
            })
        ));
        assert!(matches!(
            get_employee_request("7", "t0ken", "Иванов"),
            Err(CallsError::InvalidField { .. })
        ));
    }

    /// The table of `docs/call-sources.md` («Какие кнопки видны»), row by row.
    #[test]
    fn offered_actions_follow_the_call() {
        use ControlAction::*;
        let state = |phase, consultation| ControlState {
            phase,
            consultation,
        };
        let cases = [
            (state(Phase::Unknown, false), vec![Release]),
            (state(Phase::Ringing, false), vec![Release]),
            (
                state(Phase::Talking, false),
                vec![Consult, Transfer, Release],
            ),
            (state(Phase::Talking, true), vec![Connect, Restore, Release]),
            (state(Phase::Transferred, false), vec![]),
            (state(Phase::Finished, false), vec![]),
        ];
        for (state, offered) in cases {
            assert_eq!(state.offered(), offered, "{state:?}");
        }
    }

    #[test]
    fn events_move_the_phase_forward_only() {
        let start = ControlState::default();
        for (event, phase) in [
            ("ringing", Phase::Ringing),
            ("answered", Phase::Talking),
            ("in_progress", Phase::Talking),
            ("transferred", Phase::Transferred),
            ("finished", Phase::Finished),
            ("lost", Phase::Finished),
            ("record_ready", Phase::Finished),
            ("error", Phase::Finished),
            (" answered ", Phase::Talking),
            ("bogus", Phase::Unknown),
            ("Answered", Phase::Unknown),
        ] {
            assert_eq!(start.after_event(event).phase, phase, "{event}");
        }
        let talking = start.after_event("ringing").after_event("answered");
        assert_eq!(talking.phase, Phase::Talking);
        // A late ringing does not take the buttons back; a late answer does not revive an ended call.
        assert_eq!(talking.after_event("ringing"), talking);
        let ended = talking.after_event("finished");
        assert_eq!(ended.after_event("answered").phase, Phase::Finished);
        // The consultation survives the talk's own events and ends with the talk.
        let consulting = talking.after_action(ControlAction::Consult);
        assert!(consulting.consultation);
        assert_eq!(consulting.after_event("in_progress"), consulting);
        assert_eq!(
            consulting.after_event("lost"),
            ControlState {
                phase: Phase::Finished,
                consultation: false
            }
        );
    }

    #[test]
    fn accepted_actions_move_the_state() {
        use ControlAction::*;
        let talking = ControlState {
            phase: Phase::Talking,
            consultation: false,
        };
        let consulting = talking.after_action(Consult);
        assert_eq!(consulting.offered(), vec![Connect, Restore, Release]);
        assert_eq!(consulting.after_action(Restore), talking);
        assert_eq!(consulting.after_action(Connect).phase, Phase::Transferred);
        assert!(!consulting.after_action(Connect).consultation);
        assert_eq!(talking.after_action(Transfer).offered(), vec![]);
        assert_eq!(talking.after_action(Release).phase, Phase::Finished);
        // A consultation accepted on a call we thought was ringing proves the talk; on an ended call it proves
        // nothing (the end is final).
        let ringing = ControlState {
            phase: Phase::Ringing,
            consultation: false,
        };
        assert_eq!(ringing.after_action(Consult), consulting);
        let ended = talking.after_action(Release);
        assert_eq!(ended.after_action(Consult), ended);
        assert_eq!(ended.after_action(Restore), ended);
    }

    /// The longest run of [`Handover`] (a failure at the last step, then the clean-up) is what
    /// [`ControlAction::max_requests`] says.
    #[test]
    fn max_requests_is_the_longest_handover() {
        let message = HoldMessage::Tts(DEFAULT_HOLD_TEXT.into());
        let longest = |consult: bool| {
            let mut most = 0;
            for fail_at in 0..5 {
                let start = if consult {
                    Handover::consultation
                } else {
                    Handover::blind_transfer
                };
                let (mut machine, _) = start("1", "t0ken", "777", "101", &message).expect("start");
                let mut sent = 1;
                let mut failure = None;
                loop {
                    let outcome = if sent - 1 == fail_at { Err(()) } else { Ok(()) };
                    match machine.answered("n", "t0ken", outcome, &mut failure) {
                        Step::Send(_) => sent += 1,
                        Step::Done(_) => break,
                    }
                }
                most = most.max(sent);
            }
            most
        };
        assert_eq!(longest(true), ControlAction::Consult.max_requests());
        assert_eq!(longest(false), ControlAction::Transfer.max_requests());
        for action in [
            ControlAction::Connect,
            ControlAction::Restore,
            ControlAction::Release,
        ] {
            assert_eq!(action.max_requests(), 1);
        }
    }

    #[test]
    fn control_state_round_trips_through_its_json() {
        let first = control_state("", "answered", "").expect("state");
        assert_eq!(
            serde_json::from_str::<Value>(&first).unwrap_or_default(),
            json!({"phase": "talking", "consultation": false,
                "offered": ["Консультация", "Переадресовать", "Завершить"]})
        );
        let second = control_state(&first, "", "Консультация").expect("state");
        assert_eq!(
            serde_json::from_str::<Value>(&second).unwrap_or_default()["offered"],
            json!(["Соединить", "Вернуть", "Завершить"])
        );
        let third = control_state(&second, "in_progress", " Соединить ").expect("state");
        assert_eq!(
            serde_json::from_str::<Value>(&third).unwrap_or_default(),
            json!({"phase": "transferred", "consultation": false, "offered": []})
        );
        // Text that is no state is the start; a consultation flag on a phase without talk is dropped.
        for junk in ["", "{", "[]", r#"{"phase":"on_hold"}"#, "null"] {
            assert_eq!(
                ControlState::from_json(junk),
                ControlState::default(),
                "{junk}"
            );
        }
        assert_eq!(
            ControlState::from_json(r#"{"phase":"ringing","consultation":true}"#),
            ControlState {
                phase: Phase::Ringing,
                consultation: false
            }
        );
        assert!(matches!(
            control_state("", "", "Удержать"),
            Err(CallsError::InvalidField { .. })
        ));
        for action in ControlAction::ALL {
            assert_eq!(ControlAction::from_name(action.name()), Some(action));
        }
    }
}
