//! The one error type of the call-sources core, as data: every variant says what is wrong ([`Subject`],
//! [`Problem`]) and where (field names), so the add-in's presentation layer (`src/present/calls.rs`) can tell a 1C
//! developer how to act on it, in English or Russian. `Display` shows the variant as data, for logs and test
//! failures. Secrets (the Binotel secret, the UIS access token) are never stored in an error: the variants have no
//! field that could carry one, and API messages are scrubbed before they get here.

use std::fmt;

/// Everything that can go wrong while reading a call source or building/reading an API exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallsError {
    /// The body is empty or whitespace only.
    EmptyBody { what: Subject },
    /// The body is not valid JSON (`detail` names the position) or not the JSON expected.
    NotJson { what: Subject, detail: Problem },
    /// The JSON is valid but not an object where one is needed.
    NotAnObject { what: Subject },
    /// A required field is missing or empty.
    MissingField { what: Subject, field: &'static str },
    /// A field has a value that cannot be used.
    InvalidField {
        what: Subject,
        field: String,
        detail: Problem,
    },
    /// `Метод` of a UIScom notification is none of in/out/rec.
    UnknownMethod { given: String },
    /// A Binotel push whose `requestType` is not one this core knows.
    UnknownPushType { given: String },
    /// A content type that is neither JSON nor form-urlencoded.
    UnknownContentType { given: String },
    /// The time zone text is not a fixed offset such as `+03:00`.
    InvalidTimeZone { given: String },
    /// A form-urlencoded body that cannot be decoded.
    InvalidForm { detail: Problem },
    /// A value PHP `json_encode` refuses (INF/NaN), so no signature can be computed.
    NotEncodable { detail: Problem },
    /// A signed message has no `signature` field.
    SignatureMissing { what: Subject },
    /// The signature does not match; neither the expected value nor the secret is shown on purpose.
    SignatureMismatch { what: Subject },
    /// The secret is empty, so signing or verifying is impossible.
    SecretMissing,
    /// The PBX/UIS API answered with an error.
    Api {
        api: &'static str,
        code: String,
        message: String,
    },
    /// The API answered without success and without a message: `status` is its status (empty when it has none).
    ApiStatus {
        api: &'static str,
        code: String,
        status: String,
    },
    /// The API answer is not what the protocol describes.
    UnexpectedResponse { api: &'static str, detail: Problem },
    /// A UIS API (Call API, Data API) refused the request for a reason its documentation lists, so the text can
    /// say what to do; `code` and `message` as [`CallsError::Api`] (scrubbed of the token).
    UisRefused {
        api: &'static str,
        fault: UisFault,
        code: String,
        message: String,
    },
}

/// The documented refusals of the UIS APIs (Call API v4.0 «Список ошибок общих для всех методов» and the call
/// control methods' own lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UisFault {
    /// `access_token_expired`, `access_token_blocked`, `access_token_invalid`, `auth_error` (code -32001).
    Token,
    /// `ip_not_whitelisted`: the caller's address is not in the cabinet's API whitelist.
    IpNotWhitelisted,
    /// `forbidden` (code -32003): the token's user has no right to the method.
    Forbidden,
    /// `component_disabled` (code -32008): the method's component (e.g. «Call API Управление вызовами») is off.
    ComponentDisabled,
    /// `invalid_state` (code -32004): the call is not in a state the method allows.
    InvalidState,
    /// `call_session_not_found`: UIS does not know the call session (ended or wrong id).
    SessionNotFound,
    /// `limit_exceeded` (code -32029): the points limit per minute or per day is spent.
    Limit,
}

/// What a [`CallsError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    UiscomNotification,
    BinotelPush,
    BinotelParameters,
    BinotelResponse,
    /// The administrator's list of addresses Binotel webhooks may come from.
    BinotelAllowlist,
    /// A PBX's look-up request (UIS «Интерактивная обработка вызова», an Asterisk look-up).
    PbxLookup,
    /// The contact-information texts of a card for the phone-number index.
    PhoneIndex,
    CallHistoryRecord,
    CallEvent,
    ConnectCallEvent,
    UisCallApiResponse,
    UisCallApiParameters,
    UisDataApiResponse,
    CallIds,
    /// A record of the call statuses register (`call_status`).
    CallStatusRecord,
    /// The facts or rules 1C passes to `call_status`.
    CallStatusFacts,
    /// The working-hours schedule of the settings (`ТБ_РабочиеЧасы`, `routing::parse_schedule`).
    WorkingHours,
}

/// Why a value, a form or an answer cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A parser's technical message (what `serde_json` says), shown as it is in both languages.
    Parser(String),
    /// A 1C-Connect event whose `Object` is not `Call`.
    NotACallEvent { object: String },
    /// A 1C-Connect `State` this crate does not know.
    UnknownCallState { state: String },
    /// Call IDs given as an array holding something other than numbers and strings.
    IdsNotNumbersOrStrings,
    /// Call IDs that are neither an array nor one ID.
    IdsNotAnArray,
    /// A form body without a single `name=value`.
    NoFormPairs,
    /// A form field nested deeper than the decoder allows.
    FormTooDeep { field: String, max: usize },
    /// PHP's `json_encode` refuses INF and NaN.
    NotFinite,
    /// A JSON-RPC answer for another request.
    WrongRequestId { id: String, expected: String },
    /// A successful UIS answer without `result.data.call_session_id`.
    NoCallSessionId,
    /// A call control answer whose `result.data.success` is not true.
    NotSuccessful,
    /// A `get.employees` answer without the employee asked for (or without its `calls_available`).
    NoEmployee { id: String },
    /// A value that must be a whole number (a UIS call session or employee id).
    NotDigits,
    /// A successful `stats/call-details.json` answer without `callDetails`.
    NoCallDetails,
    /// A successful `stats/call-record.json` answer without `url`.
    NoRecordUrl,
    /// Working days: a non-empty list of ISO weekdays 1 (Monday) … 7 (Sunday) is expected.
    NotWeekdays,
    /// A time of day: `HH:MM` (00:00 … 23:59) is expected.
    NotATimeOfDay { given: String },
    /// A working interval that begins when it ends (`from` = `to`): zero hours or all day is ambiguous.
    EmptyInterval,
}

impl fmt::Display for CallsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for CallsError {}

pub type Result<T> = std::result::Result<T, CallsError>;
