//! Asterisk/FreePBX in the Binotel style, as Clinica Web uses it (seed 003): push events, md5 signatures and the
//! three API calls, without any I/O.
//!
//! Signature (what Binotel's own PHP client does): take the parameters as PHP sees them, drop `signature` (and
//! `key`, which the client adds after signing), `ksort`, `json_encode` with default flags, and
//! `md5(secret . json)` in lowercase hex. [`crate::php`] reproduces PHP byte for byte. Verification accepts the
//! variant that signed with `key` included too, since both exist in the wild.

use md5::{Digest, Md5};
use serde_json::{Map, Value};

use crate::error::{CallsError, Problem, Subject};
use crate::fields::{value_text, Fields};
use crate::model::{CallEvent, Customer, Direction, Employee, EventKind, Source};
use crate::php::{decode_form, decode_json, PhpArray, PhpKey, PhpValue};
use crate::time::{CallTime, UtcOffset};
use crate::webhook::constant_time_eq;

const WHAT_PUSH: Subject = Subject::BinotelPush;
const WHAT_PARAMS: Subject = Subject::BinotelParameters;
const WHAT_RESPONSE: Subject = Subject::BinotelResponse;
const API_NAME: &str = "Binotel API";

/// The push events Clinica Web / Binotel send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushType {
    ReceivedTheCall,
    AnsweredTheCall,
    HangupTheCall,
    TransferredTheCall,
    ApiCallCompleted,
}

impl PushType {
    pub fn parse(text: &str) -> Option<PushType> {
        match text.trim().to_ascii_lowercase().as_str() {
            "receivedthecall" => Some(PushType::ReceivedTheCall),
            "answeredthecall" => Some(PushType::AnsweredTheCall),
            "hangupthecall" => Some(PushType::HangupTheCall),
            "transferredthecall" => Some(PushType::TransferredTheCall),
            "apicallcompleted" => Some(PushType::ApiCallCompleted),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PushType::ReceivedTheCall => "receivedTheCall",
            PushType::AnsweredTheCall => "answeredTheCall",
            PushType::HangupTheCall => "hangupTheCall",
            PushType::TransferredTheCall => "transferredTheCall",
            PushType::ApiCallCompleted => "apiCallCompleted",
        }
    }
}

/// How a body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Form,
}

impl BodyFormat {
    /// From a Content-Type header value; `None` for an empty one (then [`BodyFormat::detect`] decides).
    pub fn from_content_type(content_type: &str) -> Result<Option<BodyFormat>, CallsError> {
        let lower = content_type.trim().to_ascii_lowercase();
        let essence = lower.split(';').next().unwrap_or_default().trim();
        if essence.is_empty() {
            Ok(None)
        } else if essence == "json" || essence.ends_with("/json") || essence.ends_with("+json") {
            Ok(Some(BodyFormat::Json))
        } else if essence == "form" || essence.contains("x-www-form-urlencoded") {
            Ok(Some(BodyFormat::Form))
        } else {
            Err(CallsError::UnknownContentType {
                given: content_type.trim().to_string(),
            })
        }
    }

    /// A body starting with `{` or `[` is JSON; otherwise form-urlencoded.
    pub fn detect(body: &[u8]) -> BodyFormat {
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') => BodyFormat::Json,
            _ => BodyFormat::Form,
        }
    }
}

/// Decodes a JSON or form body into PHP's view of it (a top-level array).
pub fn decode_body(body: &[u8], format: BodyFormat, what: Subject) -> Result<PhpArray, CallsError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(CallsError::EmptyBody { what });
    }
    match format {
        BodyFormat::Json => {
            match decode_json(body).map_err(|detail| CallsError::NotJson {
                what,
                detail: Problem::Parser(detail),
            })? {
                PhpValue::Array(a) => Ok(a),
                _ => Err(CallsError::NotAnObject { what }),
            }
        }
        BodyFormat::Form => {
            if !body.contains(&b'=') {
                return Err(CallsError::InvalidForm {
                    detail: Problem::NoFormPairs,
                });
            }
            decode_form(body)
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------------------------------

/// Whether `key` takes part in the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureVariant {
    /// Binotel's client: `key` is added after signing, so it is not signed.
    WithoutKey,
    /// Some integrations sign everything but `signature`.
    WithKey,
}

/// The exact text that is hashed after the secret: `json_encode(ksort(params without signature [and key]))`.
pub fn signature_payload(
    params: &PhpArray,
    variant: SignatureVariant,
) -> Result<String, CallsError> {
    let mut sorted = params.clone();
    sorted.remove(&PhpKey::Str("signature".to_string()));
    if variant == SignatureVariant::WithoutKey {
        sorted.remove(&PhpKey::Str("key".to_string()));
    }
    sorted.ksort();
    PhpValue::Array(sorted).to_php_json()
}

/// `md5(secret . payload)` in lowercase hex.
pub fn sign(
    params: &PhpArray,
    secret: &str,
    variant: SignatureVariant,
) -> Result<String, CallsError> {
    if secret.is_empty() {
        return Err(CallsError::SecretMissing);
    }
    let payload = signature_payload(params, variant)?;
    let mut hasher = Md5::new();
    hasher.update(secret.as_bytes());
    hasher.update(payload.as_bytes());
    Ok(format!("{:x}", hasher.finalize()))
}

/// Signs parameters given as a JSON object text.
pub fn sign_json(params_json: &str, secret: &str) -> Result<String, CallsError> {
    let params = decode_body(params_json.as_bytes(), BodyFormat::Json, WHAT_PARAMS)?;
    sign(&params, secret, SignatureVariant::WithoutKey)
}

/// Checks the `signature` field of `message`, accepting both variants. Which one matched is returned.
pub fn verify(
    message: &PhpArray,
    secret: &str,
    what: Subject,
) -> Result<SignatureVariant, CallsError> {
    if secret.is_empty() {
        return Err(CallsError::SecretMissing);
    }
    let given = match message.get(&PhpKey::Str("signature".to_string())) {
        Some(PhpValue::Str(s)) if !s.trim().is_empty() => s.trim().to_ascii_lowercase(),
        _ => return Err(CallsError::SignatureMissing { what }),
    };
    for variant in [SignatureVariant::WithoutKey, SignatureVariant::WithKey] {
        if variant == SignatureVariant::WithKey
            && message.get(&PhpKey::Str("key".to_string())).is_none()
        {
            continue;
        }
        if constant_time_eq(sign(message, secret, variant)?.as_bytes(), given.as_bytes()) {
            return Ok(variant);
        }
    }
    Err(CallsError::SignatureMismatch { what })
}

/// Verifies a signed JSON or form body.
pub fn verify_body(
    body: &[u8],
    content_type: &str,
    secret: &str,
) -> Result<SignatureVariant, CallsError> {
    let format =
        BodyFormat::from_content_type(content_type)?.unwrap_or_else(|| BodyFormat::detect(body));
    let message = decode_body(body, format, WHAT_PARAMS)?;
    verify(&message, secret, WHAT_PARAMS)
}

// ---------------------------------------------------------------------------------------------------------------
// Push events
// ---------------------------------------------------------------------------------------------------------------

/// A push body (JSON or form; `content_type` may be empty) → the normalized event.
pub fn parse_push(
    body: &[u8],
    content_type: &str,
    time_zone: UtcOffset,
) -> Result<CallEvent, CallsError> {
    let format =
        BodyFormat::from_content_type(content_type)?.unwrap_or_else(|| BodyFormat::detect(body));
    let message = decode_body(body, format, WHAT_PUSH)?;
    let raw = PhpValue::Array(message).to_json();
    let object = raw.as_object().cloned().unwrap_or_default();
    let fields = Fields::new(&object);
    let request_type = fields
        .text(&["requesttype"])
        .ok_or(CallsError::MissingField {
            what: WHAT_PUSH,
            field: "requestType",
        })?;
    let push = PushType::parse(&request_type).ok_or(CallsError::UnknownPushType {
        given: request_type.clone(),
    })?;
    let details = call_details_object(&fields);
    let details_fields = details.map(Fields::new);
    let view = CallView {
        top: &fields,
        details: details_fields.as_ref(),
    };
    let call_id = view
        .text(&["generalcallid", "callid"])
        .ok_or(CallsError::MissingField {
            what: WHAT_PUSH,
            field: "generalCallID",
        })?;
    let kind = match push {
        PushType::ReceivedTheCall => EventKind::Ringing,
        PushType::AnsweredTheCall => EventKind::Answered,
        PushType::TransferredTheCall => EventKind::Transferred,
        PushType::HangupTheCall | PushType::ApiCallCompleted => EventKind::Finished,
    };
    let mut event = CallEvent::new(Source::Binotel, kind, call_id, Value::Null);
    fill_call(
        &mut event,
        &view,
        time_zone,
        matches!(kind, EventKind::Finished),
    );
    event.notification_name = Some(push.as_str().to_string());
    event.raw = raw;
    Ok(event)
}

/// `callDetails` directly, or the first entry of a `callDetails` keyed by call id.
fn call_details_object<'a>(fields: &Fields<'a>) -> Option<&'a Map<String, Value>> {
    call_details_of(fields.object(&["calldetails"])?)
}

/// The call's own object in a `callDetails` value: the value itself, or its first entry when keyed by call id.
pub fn call_details_of(details: &Map<String, Value>) -> Option<&Map<String, Value>> {
    let direct = details
        .keys()
        .any(|k| k.eq_ignore_ascii_case("generalCallID") || k.eq_ignore_ascii_case("callID"));
    if direct {
        Some(details)
    } else {
        details.values().find_map(Value::as_object)
    }
}

/// Fields looked up at the top level first, then in `callDetails`.
struct CallView<'a, 'b> {
    top: &'b Fields<'a>,
    details: Option<&'b Fields<'a>>,
}

impl CallView<'_, '_> {
    fn text(&self, names: &[&str]) -> Option<String> {
        self.top
            .text(names)
            .or_else(|| self.details.and_then(|d| d.text(names)))
    }

    fn seconds(&self, names: &[&str]) -> Option<u64> {
        self.top
            .seconds(names)
            .or_else(|| self.details.and_then(|d| d.seconds(names)))
    }

    fn object(&self, names: &[&str]) -> Option<&Map<String, Value>> {
        self.top
            .object(names)
            .or_else(|| self.details.and_then(|d| d.object(names)))
    }
}

/// What a `disposition` means for the model: event, lost, lost_reason.
pub fn disposition_outcome(disposition: &str) -> Option<(EventKind, bool, Option<&'static str>)> {
    let outcome = match disposition.trim().to_ascii_uppercase().as_str() {
        "ANSWER" | "ANSWERED" | "TRANSFER" | "SUCCESS" | "SMS-SUCCESS" | "SMS-SENDING" => {
            (EventKind::Finished, false, None)
        }
        "ONLINE" => (EventKind::Answered, false, None),
        "BUSY" => (EventKind::Lost, true, Some("busy")),
        "NOANSWER" | "NO ANSWER" => (EventKind::Lost, true, Some("no_answer")),
        "CANCEL" => (EventKind::Lost, true, Some("cancel")),
        "CONGESTION" => (EventKind::Lost, true, Some("congestion")),
        "CHANUNAVAIL" => (EventKind::Lost, true, Some("channel_unavailable")),
        "VM" => (EventKind::Lost, true, Some("voicemail")),
        "VM-SUCCESS" => (EventKind::Lost, true, Some("voicemail_message")),
        "SMS-FAILED" => (EventKind::Lost, true, Some("sms_failed")),
        "FAILED" => (EventKind::Lost, true, Some("failed")),
        _ => return None,
    };
    Some(outcome)
}

/// Fills everything but the identity. `ending` says the event is a call end, so disposition/billsec decide
/// between `finished` and `lost`.
fn fill_call(event: &mut CallEvent, view: &CallView<'_, '_>, time_zone: UtcOffset, ending: bool) {
    fill_parties(event, view);
    fill_outcome(event, view, ending);
    fill_times(event, view, time_zone, ending);
    fill_people(event, view);
}

/// Direction, the numbers on both ends, the extension and the company number.
fn fill_parties(event: &mut CallEvent, view: &CallView<'_, '_>) {
    let direction =
        view.text(&["calltype"])
            .and_then(|t| match t.trim().to_ascii_lowercase().as_str() {
                "0" | "in" | "incoming" => Some(Direction::In),
                "1" | "out" | "outgoing" => Some(Direction::Out),
                _ => None,
            });
    event.direction = direction;
    let external = view.text(&["externalnumber"]);
    let internal = view.text(&["internalnumber"]);
    let pbx_number = view
        .object(&["pbxnumberdata"])
        .and_then(|o| Fields::new(o).text(&["number"]));
    let did = view.text(&["didnumber", "did"]).or(pbx_number);
    let (caller, callee) = match direction {
        Some(Direction::Out) => (internal.clone(), external.clone()),
        _ => (external.clone(), did.clone().or_else(|| internal.clone())),
    };
    event.set_caller(caller);
    event.set_callee(callee);
    event.set_other_party(external);
    event.set_extension(internal);
    event.set_virtual_number(did);
}

/// Durations and, for a call end, whether it was finished or lost and why.
fn fill_outcome(event: &mut CallEvent, view: &CallView<'_, '_>, ending: bool) {
    event.wait_sec = view.seconds(&["waitsec"]);
    event.talk_sec = view.seconds(&["billsec"]);
    event.total_sec = match (event.wait_sec, event.talk_sec) {
        (Some(w), Some(t)) => Some(w + t),
        _ => view.seconds(&["duration"]),
    };
    let disposition = view.text(&["disposition"]);
    if ending {
        let outcome = disposition.as_deref().and_then(disposition_outcome);
        let (kind, lost, reason) = match outcome {
            Some(o) => o,
            None => match event.talk_sec {
                Some(0) => (EventKind::Lost, true, Some("no_answer")),
                _ => (EventKind::Finished, false, None),
            },
        };
        event.event = kind;
        event.lost = lost;
        event.lost_reason = match (reason, &disposition) {
            (Some(r), _) => Some(r.to_string()),
            (None, Some(d)) if lost => Some(d.to_ascii_lowercase()),
            _ => None,
        };
    }
    event.finish_reason = disposition;
}

/// Start, answer and end, from the start time and the durations.
fn fill_times(event: &mut CallEvent, view: &CallView<'_, '_>, time_zone: UtcOffset, ending: bool) {
    let start = view
        .text(&["starttime"])
        .and_then(|t| CallTime::parse_text(&t, time_zone))
        .map(|t| t.with_offset(time_zone));
    event.started_at = start.map(CallTime::to_iso);
    if let (Some(s), Some(wait)) = (start, event.wait_sec) {
        if event.talk_sec.is_some_and(|t| t > 0) {
            event.answered_at = Some(s.plus_seconds(wait).to_iso());
        }
        if ending {
            event.finished_at = Some(s.plus_seconds(wait + event.talk_sec.unwrap_or(0)).to_iso());
        }
    }
}

/// Record links, the employee and the customer.
fn fill_people(event: &mut CallEvent, view: &CallView<'_, '_>) {
    for name in [
        "linktocallrecordinmybusiness",
        "linktocallrecordoverlayinmybusiness",
        "recordurl",
        "url",
    ] {
        if let Some(url) = view.text(&[name]) {
            event.add_record_url(url);
        }
    }
    let employee_data = view.object(&["employeedata"]).map(Fields::new);
    let employee = Employee {
        id: view
            .text(&["employeeid"])
            .or_else(|| employee_data.as_ref().and_then(|f| f.text(&["id"]))),
        name: view
            .text(&["employeename"])
            .or_else(|| employee_data.as_ref().and_then(|f| f.text(&["name"]))),
        email: view
            .text(&["employeeemail"])
            .or_else(|| employee_data.as_ref().and_then(|f| f.text(&["email"]))),
        phone: None,
        phone_digits: None,
    };
    event.employee = (!employee.is_empty()).then_some(employee);
    event.customer = view
        .object(&["customerdata"])
        .map(Fields::new)
        .and_then(|f| {
            let customer = Customer {
                id: f.text(&["id"]),
                name: f.text(&["name"]),
            };
            (customer.id.is_some() || customer.name.is_some()).then_some(customer)
        });
}

// ---------------------------------------------------------------------------------------------------------------
// API requests and responses
// ---------------------------------------------------------------------------------------------------------------

/// The API calls of seed 003.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiMethod {
    CallDetails,
    CallRecord,
    ExtToPhone,
}

impl ApiMethod {
    /// Path relative to the API base URL.
    pub fn path(self) -> &'static str {
        match self {
            ApiMethod::CallDetails => "stats/call-details.json",
            ApiMethod::CallRecord => "stats/call-record.json",
            ApiMethod::ExtToPhone => "calls/ext-to-phone.json",
        }
    }
}

/// A request to POST: `body` goes to `base_url + path` with `Content-Type: application/json`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiRequest {
    pub method: ApiMethod,
    pub path: &'static str,
    pub body: String,
}

impl std::fmt::Debug for ApiRequest {
    // The body carries the key and a signature; keep them out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiRequest")
            .field("path", &self.path)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Signs `params` and adds `key` and `signature`, as Binotel's client does.
pub fn build_request(
    method: ApiMethod,
    params: PhpArray,
    key: &str,
    secret: &str,
) -> Result<ApiRequest, CallsError> {
    if key.trim().is_empty() {
        return Err(CallsError::MissingField {
            what: WHAT_PARAMS,
            field: "key",
        });
    }
    let mut params = params;
    params.remove(&PhpKey::Str("signature".to_string()));
    params.remove(&PhpKey::Str("key".to_string()));
    params.ksort();
    let signature = sign(&params, secret, SignatureVariant::WithoutKey)?;
    params.insert(
        PhpKey::Str("key".to_string()),
        PhpValue::Str(key.to_string()),
    );
    params.insert(
        PhpKey::Str("signature".to_string()),
        PhpValue::Str(signature),
    );
    Ok(ApiRequest {
        method,
        path: method.path(),
        body: PhpValue::Array(params).to_php_json()?,
    })
}

/// The `stats/call-details.json` request: `ids_json` is a JSON array of call ids (`[744924436]` or `["744924436"]`; types are kept because
/// they are signed) or a single id.
pub fn call_details_request(
    ids_json: &str,
    key: &str,
    secret: &str,
) -> Result<ApiRequest, CallsError> {
    let text = ids_json.trim();
    if text.is_empty() {
        return Err(CallsError::EmptyBody {
            what: Subject::CallIds,
        });
    }
    let ids = match decode_json(text.as_bytes()) {
        Ok(PhpValue::Array(a))
            if a.is_list()
                && a.entries()
                    .iter()
                    .all(|(_, v)| matches!(v, PhpValue::Int(_) | PhpValue::Str(_))) =>
        {
            a
        }
        Ok(PhpValue::Array(_)) => {
            return Err(CallsError::InvalidField {
                what: Subject::CallIds,
                field: "generalCallID".into(),
                detail: Problem::IdsNotNumbersOrStrings,
            })
        }
        Ok(single @ (PhpValue::Int(_) | PhpValue::Str(_))) => {
            let mut a = PhpArray::new();
            a.append(single);
            a
        }
        // A bare id typed without quotes is still an id.
        _ if text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            let mut a = PhpArray::new();
            a.append(PhpValue::Str(text.to_string()));
            a
        }
        Ok(_) | Err(_) => {
            return Err(CallsError::NotJson {
                what: Subject::CallIds,
                detail: Problem::IdsNotAnArray,
            })
        }
    };
    if ids.is_empty() {
        return Err(CallsError::EmptyBody {
            what: Subject::CallIds,
        });
    }
    let mut params = PhpArray::new();
    params.insert(PhpKey::Str("generalCallID".into()), PhpValue::Array(ids));
    build_request(ApiMethod::CallDetails, params, key, secret)
}

/// The `stats/call-record.json` request: `callID` as a string, as in the seed.
pub fn call_record_request(
    call_id: &str,
    key: &str,
    secret: &str,
) -> Result<ApiRequest, CallsError> {
    let call_id = call_id.trim();
    if call_id.is_empty() {
        return Err(CallsError::MissingField {
            what: WHAT_PARAMS,
            field: "callID",
        });
    }
    let mut params = PhpArray::new();
    params.insert(
        PhpKey::Str("callID".into()),
        PhpValue::Str(call_id.to_string()),
    );
    build_request(ApiMethod::CallRecord, params, key, secret)
}

/// The `calls/ext-to-phone.json` request: `ext_number` and `phone_number` as strings, as in the seed.
pub fn ext_to_phone_request(
    ext_number: &str,
    phone_number: &str,
    key: &str,
    secret: &str,
) -> Result<ApiRequest, CallsError> {
    let (ext_number, phone_number) = (ext_number.trim(), phone_number.trim());
    if ext_number.is_empty() {
        return Err(CallsError::MissingField {
            what: WHAT_PARAMS,
            field: "ext_number",
        });
    }
    if phone_number.is_empty() {
        return Err(CallsError::MissingField {
            what: WHAT_PARAMS,
            field: "phone_number",
        });
    }
    let mut params = PhpArray::new();
    params.insert(
        PhpKey::Str("ext_number".into()),
        PhpValue::Str(ext_number.to_string()),
    );
    params.insert(
        PhpKey::Str("phone_number".into()),
        PhpValue::Str(phone_number.to_string()),
    );
    build_request(ApiMethod::ExtToPhone, params, key, secret)
}

/// Decodes a response, turns `status` != `success` into an error and checks the signature.
pub fn check_response(body: &[u8], secret: &str) -> Result<PhpArray, CallsError> {
    let message = decode_body(body, BodyFormat::Json, WHAT_RESPONSE)?;
    let status = message
        .get_ignore_case("status")
        .and_then(|v| value_text(&v.to_json()))
        .unwrap_or_default();
    if !status.eq_ignore_ascii_case("success") {
        let json = PhpValue::Array(message.clone()).to_json();
        let object = json.as_object().cloned().unwrap_or_default();
        let fields = Fields::new(&object);
        let code = fields.text(&["code", "errorcode"]).unwrap_or_default();
        return Err(match fields.text(&["message", "error", "errormessage"]) {
            Some(message) => CallsError::Api {
                api: API_NAME,
                code,
                message,
            },
            None => CallsError::ApiStatus {
                api: API_NAME,
                code,
                status,
            },
        });
    }
    verify(&message, secret, WHAT_RESPONSE)?;
    Ok(message)
}

/// The `callDetails` of a `stats/call-details.json` answer as normalized events (one per call).
pub fn parse_call_details_response(
    body: &[u8],
    secret: &str,
    time_zone: UtcOffset,
) -> Result<Vec<CallEvent>, CallsError> {
    let message = check_response(body, secret)?;
    let details = message
        .get_ignore_case("callDetails")
        .ok_or(CallsError::UnexpectedResponse {
            api: API_NAME,
            detail: Problem::NoCallDetails,
        })?;
    let mut events = Vec::new();
    if let PhpValue::Array(entries) = details {
        for (_, call) in entries.entries() {
            let raw = call.to_json();
            let Some(object) = raw.as_object() else {
                continue;
            };
            let fields = Fields::new(object);
            let call_id =
                fields
                    .text(&["generalcallid", "callid"])
                    .ok_or(CallsError::MissingField {
                        what: WHAT_RESPONSE,
                        field: "generalCallID",
                    })?;
            let mut event =
                CallEvent::new(Source::Binotel, EventKind::Finished, call_id, Value::Null);
            let view = CallView {
                top: &fields,
                details: None,
            };
            fill_call(&mut event, &view, time_zone, true);
            event.notification_name = Some("callDetails".to_string());
            event.raw = raw;
            events.push(event);
        }
    }
    Ok(events)
}

/// The record URL of a `stats/call-record.json` answer.
pub fn parse_call_record_response(body: &[u8], secret: &str) -> Result<String, CallsError> {
    let message = check_response(body, secret)?;
    message
        .get_ignore_case("url")
        .and_then(|v| value_text(&v.to_json()))
        .ok_or(CallsError::UnexpectedResponse {
            api: API_NAME,
            detail: Problem::NoRecordUrl,
        })
}

/// The `generalCallID` of the call a `calls/ext-to-phone.json` answer started (empty when the PBX gives none).
pub fn parse_ext_to_phone_response(body: &[u8], secret: &str) -> Result<String, CallsError> {
    let message = check_response(body, secret)?;
    Ok(message
        .get_ignore_case("generalCallID")
        .and_then(|v| value_text(&v.to_json()))
        .unwrap_or_default())
}

/// Signs a response as a Binotel-style server does (for emulators and tests): adds `signature`.
pub fn sign_response(mut message: PhpArray, secret: &str) -> Result<String, CallsError> {
    let signature = sign(&message, secret, SignatureVariant::WithoutKey)?;
    message.insert(PhpKey::Str("signature".into()), PhpValue::Str(signature));
    PhpValue::Array(message).to_php_json()
}
