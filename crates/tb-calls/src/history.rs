//! The call-history rules of seed 000 ("UIScom To Centrifugo") as a pure function.
//!
//! The 1C configuration of the seed keeps every UIScom notification in the periodic information register
//! **ИсторияЗвонков**:
//!
//! | register field | kind      | filled from                                        | 1C type        |
//! |----------------|-----------|----------------------------------------------------|----------------|
//! | Период         | period    | notification time (ДобавлятьСобытия = Истина) or the call start (Ложь) | Дата |
//! | ИдСессии       | dimension | `call_session_id`                                  | Число(12)      |
//! | Номер          | dimension | `virtual_phone_number`                             | Строка(11)     |
//! | ВремяНачала    | resource  | `Start_time` as text (`2016-07-24 23:59:07.863`)   | Строка         |
//! | Входящий       | resource  | `direction` = `in`                                 | Булево         |
//! | Канал          | resource  | `extension_phone_number` (the operator)            | Строка(4)      |
//! | ВызываемыйНомер| resource  | `calling_phone_number` (the seed's name for it; the extension's register calls it НомерЗвонящего) | Строка |
//! | ИмяСобытия     | resource  | `notification_name`                                | Строка         |
//! | ТелоЗапроса    | resource  | the whole JSON body                                | Строка (неогр.)|
//!
//! This crate names the fields in English (`period`, `session_id`, `number`, `start_time`, `incoming`, `channel`,
//! `calling_number`, `event_name`, `body`); the add-in reads and writes them with the register's names.
//!
//! Rules:
//! - the previous record is looked up by the dimensions (ИдСессии, Номер);
//! - ДобавлятьСобытия = Истина (default): every notification makes a NEW record (Период = when the notification
//!   came) that carries over the previous record's data the notification lacks;
//! - ДобавлятьСобытия = Ложь: the same record (Период = the call start) is updated;
//! - a lost outgoing call: the previous record is found by `call_session_id` alone and its Канал is NOT overwritten
//!   (the lost-call template has no extension);
//! - a notification that carries no number at all (a Binotel-style `hangupTheCall` has only the call id) is matched
//!   by its call id alone and keeps the previous record's Канал too, so the end of the call still reaches the
//!   operator;
//! - a filled Канал means: publish to that operator's Centrifugo channel (`user` = `UIScom`, `text` = the caller's
//!   number, `call` = the event stripped by [`crate::delivery::push_event`]). The seed put the whole body into `text`
//!   when the call ended; that body carries the recording links, so no push carries it any more;
//! - `popup` (in the result and in the published data) is true only for the first publication of a call to an
//!   operator (the previous record of the call had another or no Канал): the client opens the caller's card once
//!   per call, not once per event (ringing, then answered, would otherwise open two windows).
//!
//! Period: the seed takes the notification time from the 1C server clock. A pure function has no clock, so the
//! caller may pass it (`received_at`); without it the event's own latest time is used (finish, else start).

use serde::Serialize;
use serde_json::{json, Value};

use crate::error::{CallsError, Problem, Subject};
use crate::fields::{value_flag, Fields};
use crate::model::{phone_digits, CallEvent, Direction};
use crate::time::{CallTime, UtcOffset};
use crate::uiscom;

const WHAT_RECORD: Subject = Subject::CallHistoryRecord;
const WHAT_EVENT: Subject = Subject::CallEvent;

/// Fixed `user` of the Centrifugo message, as in the seed.
pub const PUBLISH_USER: &str = "UIScom";

/// One row of ИсторияЗвонков (the add-in gives it the register's field names: `src/present/calls.rs`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryRecord {
    /// `YYYY-MM-DDTHH:MM:SS` wall-clock in the configured time zone (what `XMLЗначение(Тип("Дата"), ...)` reads).
    pub period: String,
    /// A number when the session id is all digits (the register's Число(12)), text otherwise.
    pub session_id: Value,
    pub number: String,
    pub start_time: String,
    pub incoming: bool,
    pub channel: String,
    pub calling_number: String,
    pub event_name: String,
    pub body: String,
}

/// What to send to Centrifugo when Канал is filled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Publication {
    pub channel: String,
    pub data: Value,
}

/// The outcome of [`merge_into_history`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryMerge {
    /// Write a new register record (true) or overwrite the previous one (false).
    pub is_new_record: bool,
    /// Канал is filled: publish `publish` to the operator's channel.
    pub publish_to_extension: bool,
    pub record: HistoryRecord,
    pub publish: Option<Publication>,
    /// This is the first publication of the call to this operator: open the card (later events only update it).
    pub popup: bool,
    /// The normalized event the record was made from.
    pub event: CallEvent,
}

/// Options the pure function cannot know by itself.
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    pub time_zone: UtcOffset,
    /// When the notification came (any time text [`CallTime::parse_text`] reads); see the module docs.
    pub received_at: Option<String>,
}

/// The previous record of the register: what [`merge`] needs of it (missing fields are `None`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreviousRecord {
    pub period: Option<String>,
    pub session_id: Option<String>,
    pub number: Option<String>,
    pub start_time: Option<String>,
    pub incoming: Option<bool>,
    pub channel: Option<String>,
    pub calling_number: Option<String>,
}

/// The names under which each field of a previous record is looked up (any case, first found wins).
#[derive(Debug, Clone, Copy)]
pub struct FieldNames {
    pub period: &'static [&'static str],
    pub session_id: &'static [&'static str],
    pub number: &'static [&'static str],
    pub start_time: &'static [&'static str],
    pub incoming: &'static [&'static str],
    pub channel: &'static [&'static str],
    pub calling_number: &'static [&'static str],
}

impl FieldNames {
    /// The field names of [`HistoryRecord`].
    pub const ENGLISH: FieldNames = FieldNames {
        period: &["period"],
        session_id: &["session_id"],
        number: &["number"],
        start_time: &["start_time"],
        incoming: &["incoming"],
        channel: &["channel"],
        calling_number: &["calling_number"],
    };
}

/// Decodes a previous record given as JSON with the field names of [`HistoryRecord`] (any case); `None` for an
/// empty text, `null` or `{}`.
pub fn parse_previous(record_json: &str) -> Result<Option<PreviousRecord>, CallsError> {
    parse_previous_named(record_json, &FieldNames::ENGLISH)
}

/// [`parse_previous`] for a record whose fields go by `names`.
pub fn parse_previous_named(
    record_json: &str,
    names: &FieldNames,
) -> Result<Option<PreviousRecord>, CallsError> {
    let text = record_json.trim().trim_start_matches('\u{feff}');
    if text.is_empty() || text == "null" || text == "{}" {
        return Ok(None);
    }
    let value: Value = serde_json::from_str(text).map_err(|e| CallsError::NotJson {
        what: WHAT_RECORD,
        detail: Problem::Parser(e.to_string()),
    })?;
    let object = value
        .as_object()
        .ok_or(CallsError::NotAnObject { what: WHAT_RECORD })?;
    let fields = Fields::new(object);
    Ok(Some(PreviousRecord {
        period: fields.text(names.period),
        session_id: fields.text(names.session_id),
        number: fields.text(names.number),
        start_time: fields.text(names.start_time),
        incoming: fields.get(names.incoming).and_then(value_flag),
        channel: fields.text(names.channel),
        calling_number: fields.text(names.calling_number),
    }))
}

/// Decodes a notification given either as a normalized event (has `source` and `event`) or as a raw UIScom body.
pub fn parse_notification(
    notification_json: &str,
    time_zone: UtcOffset,
) -> Result<CallEvent, CallsError> {
    let value = uiscom::parse_json_object(notification_json.as_bytes(), WHAT_EVENT)?;
    let looks_normalized = value.get("source").is_some() && value.get("event").is_some();
    if looks_normalized {
        return serde_json::from_value(value).map_err(|e| CallsError::InvalidField {
            what: WHAT_EVENT,
            field: "event".into(),
            detail: Problem::Parser(e.to_string()),
        });
    }
    uiscom::normalize_value(value, None, time_zone)
}

/// The previous record is the same call: the same session and number (a lost outgoing call: the session alone).
/// `previous` belongs to the same call: same session and number, or the session alone when the number cannot be
/// compared (`session_only`: a lost outgoing call, or a notification without a number).
fn same_call(
    previous: &PreviousRecord,
    event: &CallEvent,
    number: &str,
    session_only: bool,
) -> bool {
    let same_session = previous.session_id.as_deref().map(str::trim) == Some(event.call_id.trim());
    let same_number = previous.number.as_deref().and_then(phone_digits) == phone_digits(number)
        || previous.number.as_deref().unwrap_or_default().trim() == number.trim();
    same_session && (same_number || session_only)
}

/// Период of the record (see the module docs).
fn period(
    previous: Option<&PreviousRecord>,
    event: &CallEvent,
    add_events: bool,
    options: &MergeOptions,
) -> String {
    let tz = options.time_zone;
    let event_time = |e: &CallEvent| {
        e.finished_at
            .as_deref()
            .or(e.answered_at.as_deref())
            .or(e.started_at.as_deref())
            .map(str::to_string)
    };
    let to_period = |text: &str| {
        CallTime::parse_text(text, tz).map(|t| t.with_offset(tz).to_local_seconds_iso())
    };
    if add_events {
        options
            .received_at
            .as_deref()
            .and_then(to_period)
            .or_else(|| event_time(event).as_deref().and_then(to_period))
    } else {
        previous
            .as_ref()
            .and_then(|p| p.period.as_deref())
            .and_then(to_period)
            .or_else(|| event.started_at.as_deref().and_then(to_period))
            .or_else(|| {
                previous
                    .as_ref()
                    .and_then(|p| p.start_time.as_deref())
                    .and_then(to_period)
            })
            .or_else(|| options.received_at.as_deref().and_then(to_period))
    }
    .unwrap_or_default()
}

/// What to publish to the operator's channel, when Канал is filled. The call goes through
/// [`crate::delivery::push_event`] (an allowlist: no recording link, no raw body), and `text` is the caller's number
/// for every event: the seed put the whole body there when the call ended, which carried the recording links to
/// every operator whatever his rights to hear them.
fn publication(
    event: &CallEvent,
    channel: &str,
    calling_number: &str,
    popup: bool,
) -> Option<Publication> {
    (!channel.is_empty()).then(|| Publication {
        channel: channel.to_string(),
        data: json!({
            "user": PUBLISH_USER,
            "text": calling_number,
            "call": crate::delivery::push_event(&serde_json::to_value(event).unwrap_or(Value::Null)),
            "popup": popup,
        }),
    })
}

/// Decodes both texts ([`parse_previous`], [`parse_notification`]) and [`merge`]s them: the record to write for
/// `notification_json` given the previous record `record_json` (empty when there is none).
pub fn merge_into_history(
    record_json: &str,
    notification_json: &str,
    add_events: bool,
    options: &MergeOptions,
) -> Result<HistoryMerge, CallsError> {
    let event = parse_notification(notification_json, options.time_zone)?;
    let previous = parse_previous(record_json)?;
    Ok(merge(previous, event, add_events, options))
}

/// The record to write for `event` given the `previous` record of the same call, by the rules in the module docs.
pub fn merge(
    previous: Option<PreviousRecord>,
    event: CallEvent,
    add_events: bool,
    options: &MergeOptions,
) -> HistoryMerge {
    let lost_outgoing = event.lost && event.direction == Some(Direction::Out);
    let number = event.virtual_number.clone().unwrap_or_default();
    // Binotel's hangupTheCall names only the call: nothing to compare but the call id.
    let number_missing = number.trim().is_empty();
    let previous =
        previous.filter(|p| same_call(p, &event, &number, lost_outgoing || number_missing));

    let raw_fields = event.raw.as_object().map(Fields::new);
    let start_time_text = raw_fields
        .as_ref()
        .and_then(|f| f.text(&["start_time", "call_start_time"]))
        .or_else(|| event.started_at.clone())
        .or_else(|| previous.as_ref().and_then(|p| p.start_time.clone()))
        .unwrap_or_default();
    let channel = match (&event.extension, &previous) {
        (Some(ext), _) => ext.clone(),
        (None, Some(p)) if lost_outgoing || number_missing => p.channel.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let calling_number = raw_fields
        .as_ref()
        .and_then(|f| f.text(&["calling_phone_number"]))
        .or_else(|| event.caller.clone())
        .or_else(|| previous.as_ref().and_then(|p| p.calling_number.clone()))
        .unwrap_or_default();
    let incoming = match event.direction {
        Some(d) => d == Direction::In,
        None => previous.as_ref().and_then(|p| p.incoming).unwrap_or(true),
    };
    let number = if number.is_empty() {
        previous
            .as_ref()
            .and_then(|p| p.number.clone())
            .unwrap_or_default()
    } else {
        number
    };

    let is_new_record = add_events || previous.is_none();
    let period = period(previous.as_ref(), &event, add_events, options);

    let body = event.raw.to_string();
    let record = HistoryRecord {
        period,
        session_id: session_id(&event.call_id),
        number,
        start_time: start_time_text,
        incoming,
        channel: channel.clone(),
        calling_number: calling_number.clone(),
        event_name: event
            .notification_name
            .clone()
            .unwrap_or_else(|| event.event.as_str().to_string()),
        body: body.clone(),
    };
    let popup = !channel.is_empty()
        && previous
            .as_ref()
            .and_then(|p| p.channel.as_deref())
            .is_none_or(|c| c.trim() != channel.trim());
    let publish = publication(&event, &channel, &calling_number, popup);
    HistoryMerge {
        is_new_record,
        publish_to_extension: publish.is_some(),
        record,
        publish,
        popup,
        event,
    }
}

/// The call id as the register keeps it: a number when it is one, else the text.
fn session_id(call_id: &str) -> Value {
    match call_id.parse::<u64>() {
        Ok(n) => Value::from(n),
        Err(_) => Value::String(call_id.to_string()),
    }
}

impl HistoryMerge {
    /// The result as compact JSON (the shape of the derived `Serialize`).
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
