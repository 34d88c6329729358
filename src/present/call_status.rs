//! 1C vocabulary over `tb_calls::call_status`: the field names of the extension's register ТБ_СтатусыЗвонков and
//! its status values (`Принят`, `Дозвонились`, `НетОтвета`, `Потерян`, `Отменен`), the facts and rules 1C passes
//! (`ПервыйКонтакт`, `Оператор`, `Ответственный`, `ВремяПолучения`; `ОкноПерезвонаЧасов`, `ПорогОтменыСек`), for
//! the `UIScom` methods `СтатусЗвонка` and `ЗакрытьПропущенные`; and the scope values of the per-user rights
//! (`Нет`, `Свои`, `Группа`, `Все`) for `ПраваНаЗвонки`.
//!
//! Dates go out as `YYYY-MM-DDTHH:MM:SS` (what `XMLЗначение(Тип("Дата"), ...)` reads), an empty one as
//! `0001-01-01T00:00:00` (the empty 1C date), so 1C writes every field without checking it first.

use serde::Serialize;
use serde_json::{Map, Value as Json};
use tb_calls::call_access::{decide, AccessFacts, Scope};
use tb_calls::call_status::{
    apply_event, close_missed, CallFacts, CallStatus, CallbackWindow, Status, StatusRules,
};
use tb_calls::fields::Fields;
use tb_calls::history::parse_notification;
use tb_calls::{CallsError, Problem, Subject, UtcOffset};

/// The empty 1C date as `ЗаписатьJSON` writes it.
const EMPTY_DATE: &str = "0001-01-01T00:00:00";

/// `СтатусЗвонка`: the call's status record after one more event.
pub fn call_status(
    previous_json: &str,
    event_json: &str,
    facts_json: &str,
    rules_json: &str,
    time_zone: UtcOffset,
) -> Result<String, CallsError> {
    let rules = parse_rules(rules_json, time_zone)?;
    let event = parse_notification(event_json, time_zone)?;
    let previous = parse_object(previous_json, Subject::CallStatusRecord)?
        .map(|object| row_from_object(&object));
    let facts = parse_facts(facts_json)?;
    let status = apply_event(previous, &event, &facts, &rules);
    Ok(serde_json::to_string(&StatusRow::from(&status)).unwrap_or_default())
}

/// `ЗакрытьПропущенные`: which of the open missed calls (a JSON array of records) the call (its record) closes,
/// as a JSON array of the updated records.
pub fn close_missed_calls(
    open_json: &str,
    call_json: &str,
    called_back_at: &str,
    rules_json: &str,
    time_zone: UtcOffset,
) -> Result<String, CallsError> {
    let rules = parse_rules(rules_json, time_zone)?;
    let open = parse_rows(open_json)?;
    let call = parse_object(call_json, Subject::CallStatusRecord)?
        .map(|object| row_from_object(&object))
        .unwrap_or_default();
    let closed = close_missed(&open, &call, called_back_at, &rules);
    let rows: Vec<StatusRow> = closed.iter().map(StatusRow::from).collect();
    Ok(serde_json::to_string(&rows).unwrap_or_default())
}

/// The register's value of a status.
pub fn status_value(status: Status) -> &'static str {
    match status {
        Status::Accepted => "Принят",
        Status::Reached => "Дозвонились",
        Status::NoAnswer => "НетОтвета",
        Status::Lost => "Потерян",
        Status::Cancelled => "Отменен",
    }
}

fn status_from_value(text: &str) -> Option<Status> {
    [
        Status::Accepted,
        Status::Reached,
        Status::NoAnswer,
        Status::Lost,
        Status::Cancelled,
    ]
    .into_iter()
    .find(|s| status_value(*s).eq_ignore_ascii_case(text.trim()))
}

/// A JSON object, or `None` for an empty text, `null` or `{}`.
fn parse_object(text: &str, what: Subject) -> Result<Option<Map<String, Json>>, CallsError> {
    let text = text.trim().trim_start_matches('\u{feff}');
    if text.is_empty() || text == "null" || text == "{}" {
        return Ok(None);
    }
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Object(object)) => Ok(Some(object)),
        Ok(_) => Err(CallsError::NotAnObject { what }),
        Err(e) => Err(CallsError::NotJson {
            what,
            detail: Problem::Parser(e.to_string()),
        }),
    }
}

fn parse_rows(text: &str) -> Result<Vec<CallStatus>, CallsError> {
    let what = Subject::CallStatusRecord;
    let text = text.trim().trim_start_matches('\u{feff}');
    if text.is_empty() || text == "null" {
        return Ok(Vec::new());
    }
    let value: Json = serde_json::from_str(text).map_err(|e| CallsError::NotJson {
        what,
        detail: Problem::Parser(e.to_string()),
    })?;
    let items = value.as_array().ok_or(CallsError::NotAnObject { what })?;
    items
        .iter()
        .map(|item| {
            item.as_object()
                .map(row_from_object)
                .ok_or(CallsError::NotAnObject { what })
        })
        .collect()
}

fn parse_facts(text: &str) -> Result<CallFacts, CallsError> {
    let Some(object) = parse_object(text, Subject::CallStatusFacts)? else {
        return Ok(CallFacts::default());
    };
    let f = Fields::new(&object);
    let text = |names: &[&str]| f.text(names).unwrap_or_default();
    Ok(CallFacts {
        first_contact: f.flag(&["первыйконтакт", "first_contact"]).unwrap_or(false),
        operator: text(&["оператор", "operator"]),
        responsible: text(&["ответственный", "responsible"]),
        received_at: text(&["времяполучения", "received_at"]),
    })
}

fn parse_rules(text: &str, time_zone: UtcOffset) -> Result<StatusRules, CallsError> {
    let mut rules = StatusRules {
        time_zone,
        ..StatusRules::default()
    };
    let Some(object) = parse_object(text, Subject::CallStatusFacts)? else {
        return Ok(rules);
    };
    let f = Fields::new(&object);
    if let Some(hours) = f.seconds(&["окноперезвоначасов", "callback_window_hours"])
    {
        rules.window = match hours {
            0 => CallbackWindow::SameDay,
            h => CallbackWindow::Seconds(h.saturating_mul(3600)),
        };
    }
    if let Some(sec) = f.seconds(&["пороготменысек", "cancel_below_sec"]) {
        rules.cancel_below_sec = sec;
    }
    Ok(rules)
}

/// A date field: empty for the empty 1C date.
fn date_text(f: &Fields<'_>, names: &[&str]) -> String {
    f.text(names)
        .filter(|t| !t.starts_with("0001-01-01"))
        .unwrap_or_default()
}

/// A register record (its field names, any case; the core's English names too).
fn row_from_object(object: &Map<String, Json>) -> CallStatus {
    let f = Fields::new(object);
    let text = |names: &[&str]| f.text(names).unwrap_or_default();
    let flag = |names: &[&str]| f.flag(names).unwrap_or(false);
    CallStatus {
        call_id: text(&["идзвонка", "call_id"]),
        status: f
            .text(&["статус", "status"])
            .and_then(|t| status_from_value(&t)),
        incoming: flag(&["входящий", "incoming"]),
        missed: flag(&["пропущенный", "missed"]),
        requires_attention: flag(&["требуетвнимания", "requires_attention"]),
        first_contact: flag(&["первыйконтакт", "first_contact"]),
        called_back: flag(&["перезвонили", "called_back"]),
        called_back_by: text(&["перезвонилпользователь", "called_back_by"]),
        called_back_at: date_text(&f, &["времяперезвона", "called_back_at"]),
        client_number: text(&["номерклиента", "client_number"]),
        operator: text(&["оператор", "operator"]),
        responsible: text(&["ответственный", "responsible"]),
        started_at: date_text(&f, &["начало", "started_at"]),
        wait_sec: f.seconds(&["времяожидания", "wait_sec"]).unwrap_or(0),
        talk_sec: f
            .seconds(&["длительностьразговора", "talk_sec"])
            .unwrap_or(0),
        source: text(&["источник", "source"]),
    }
}

/// A record of ТБ_СтатусыЗвонков with the register's field names.
#[derive(Serialize)]
struct StatusRow<'a> {
    #[serde(rename = "ИдЗвонка")]
    call_id: &'a str,
    #[serde(rename = "Статус")]
    status: &'static str,
    #[serde(rename = "Входящий")]
    incoming: bool,
    #[serde(rename = "Пропущенный")]
    missed: bool,
    #[serde(rename = "ТребуетВнимания")]
    requires_attention: bool,
    #[serde(rename = "ПервыйКонтакт")]
    first_contact: bool,
    #[serde(rename = "Перезвонили")]
    called_back: bool,
    #[serde(rename = "ПерезвонилПользователь")]
    called_back_by: &'a str,
    #[serde(rename = "ВремяПерезвона")]
    called_back_at: &'a str,
    #[serde(rename = "НомерКлиента")]
    client_number: &'a str,
    #[serde(rename = "Оператор")]
    operator: &'a str,
    #[serde(rename = "Ответственный")]
    responsible: &'a str,
    #[serde(rename = "Начало")]
    started_at: &'a str,
    #[serde(rename = "ВремяОжидания")]
    wait_sec: u64,
    #[serde(rename = "ДлительностьРазговора")]
    talk_sec: u64,
    #[serde(rename = "Источник")]
    source: &'a str,
}

fn or_empty_date(text: &str) -> &str {
    if text.is_empty() {
        EMPTY_DATE
    } else {
        text
    }
}

impl<'a> From<&'a CallStatus> for StatusRow<'a> {
    fn from(s: &'a CallStatus) -> Self {
        StatusRow {
            call_id: &s.call_id,
            status: status_value(s.status.unwrap_or(Status::NoAnswer)),
            incoming: s.incoming,
            missed: s.missed,
            requires_attention: s.requires_attention,
            first_contact: s.first_contact,
            called_back: s.called_back,
            called_back_by: &s.called_back_by,
            called_back_at: or_empty_date(&s.called_back_at),
            client_number: &s.client_number,
            operator: &s.operator,
            responsible: &s.responsible,
            started_at: or_empty_date(&s.started_at),
            wait_sec: s.wait_sec,
            talk_sec: s.talk_sec,
            source: &s.source,
        }
    }
}

/// The setting's value of a scope (`ВидимостьЗвонков`, `ДоступКЗаписям`).
pub fn scope_value(scope: Scope) -> &'static str {
    match scope {
        Scope::None => "Нет",
        Scope::Own => "Свои",
        Scope::Group => "Группа",
        Scope::All => "Все",
    }
}

fn scope_from_value(text: Option<String>) -> Option<Scope> {
    let text = text?;
    [Scope::None, Scope::Own, Scope::Group, Scope::All]
        .into_iter()
        .find(|s| scope_value(*s).to_lowercase() == text.trim().to_lowercase())
}

/// `ПраваНаЗвонки`: the scopes of a user from the facts 1C gathers (`Администратор`, `РольВсеЗвонки`,
/// `ВидимостьЗвонков`, `ДоступКЗаписям`, `ЕстьГруппа`), as `{"Звонки": …, "Записи": …}`. An unknown setting value
/// counts as not set (the role decides), never as «all».
pub fn call_access(facts_json: &str) -> Result<String, CallsError> {
    let object = parse_object(facts_json, Subject::CallStatusFacts)?.unwrap_or_default();
    let f = Fields::new(&object);
    let flag = |names: &[&str]| f.flag(names).unwrap_or(false);
    let access = decide(&AccessFacts {
        administrator: flag(&["администратор", "administrator"]),
        sees_all_role: flag(&["рольвсезвонки", "sees_all_role"]),
        calls_setting: scope_from_value(f.text(&["видимостьзвонков", "calls"])),
        recordings_setting: scope_from_value(f.text(&["доступкзаписям", "recordings"])),
        has_group: flag(&["естьгруппа", "has_group"]),
    });
    Ok(serde_json::json!({
        "Звонки": scope_value(access.calls),
        "Записи": scope_value(access.recordings),
    })
    .to_string())
}
