//! Whom to ring when a client calls: the routing decision, one pure function of facts the 1C module gathers (is the
//! caller's card found, who is its responsible manager, is he available, in his working hours, not on another
//! call). The PBX is told the manager's line, or the group, or nothing (its own scenario).
//!
//! The rule, in order (the first that applies decides):
//!
//! | # | Facts | Decision | `reason` |
//! |---|-------|----------|----------|
//! | 1 | no card for the number | group (or the PBX's own scenario when no group is set) | `unknown_caller` |
//! | 2 | card without a responsible manager | group | `no_manager` |
//! | 3 | the manager has no internal line | group | `manager_has_no_line` |
//! | 4 | the manager switched himself unavailable | group | `manager_unavailable` |
//! | 5 | the working hours or the PBX time zone cannot be read | group | `hours_unreadable` |
//! | 6 | outside the working hours (in the PBX time zone) | group | `out_of_hours` |
//! | 7 | the manager is on another call (the PBX says so, or an unfinished answered call of his line whose last event is not older than [`STALE_CALL_MINUTES`]) | group | `manager_busy` |
//! | 8 | otherwise | the manager's line | `responsible_manager` |
//!
//! "Group" is the configured fallback (a group line or a scenario id of the PBX); without one the decision is
//! `default`: the PBX routes by its own scenario. Unknown facts count against ringing the manager (working hours
//! without a time are "out of hours", a schedule that cannot be read has its own reason so the administrator sees
//! it), so a doubtful case goes to the group, where someone answers.
//!
//! **Working hours** are the schedule of the constant `ТБ_РабочиеЧасы` (`{"days":[1,2,3,4,5],"from":"09:00",
//! "to":"18:00"}`, [`parse_schedule`]) read in the PBX time zone (`ТБ_ЧасовойПоясАТС`, the same offset the add-in
//! reads call times with), from the UTC instant 1C passes (`now_utc`): not the time zone of the 1C session,
//! which differs per user and per server. [`is_working_time`] is the same rule for the settings form, which
//! validates the schedule on save.
//!
//! **The line UIS rings.** UIS «Интерактивная обработка вызова» takes `phones`: a list of *phone numbers* to ring
//! (its documentation's examples are full numbers such as `74959876543`). An operator's `ИдСотрудникаUIS` is the
//! employee's id in the UIS API (Call API `start.employee_call`, Data API `calls_available`), not a number UIS can
//! dial, so the routed line is the operator's `ВнутреннийНомер` — his number in UIS (an extension or his phone).
//! [`uis_phone`] keeps only what UIS can dial.

use serde::{Deserialize, Serialize};

use crate::error::{CallsError, Problem, Subject};
use crate::time::UtcOffset;

/// An unfinished call of the manager's line whose last event is older than this many minutes is stale (its end
/// was lost): it no longer makes him busy. Facts may set their own (`stale_after_minutes`), capped at a day.
pub const STALE_CALL_MINUTES: u32 = 60;

/// The longest staleness limit facts may ask for: 1C gathers a day of the line's calls.
pub const STALE_CALL_MAX_MINUTES: u32 = 24 * 60;

/// A manager's working hours: the days and one interval of the day, local time of the PBX.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WorkingHours {
    /// ISO weekdays 1 (Monday) … 7 (Sunday).
    pub days: Vec<u8>,
    /// `HH:MM`; `to` before `from` is an interval over midnight (a night shift `22:00`–`06:00`), the day being the
    /// day it starts.
    pub from: String,
    pub to: String,
}

/// The local time of the call: ISO weekday and `HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LocalTime {
    pub weekday: u8,
    pub time: String,
}

/// What 1C knows of the responsible manager.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Manager {
    /// His internal line at the PBX (the operator settings of the extension); `None` when he has none.
    pub extension: Option<String>,
    /// His own availability toggle (the panel's status); absent means available.
    pub available: Option<bool>,
    /// Whether the PBX or the call history shows him on a call now.
    pub on_call: bool,
    /// His working hours; absent means always.
    pub hours: Option<WorkingHours>,
    /// The working hours as the settings store them (JSON text, see [`parse_schedule`]); when present and not
    /// blank it is used instead of `hours`, and a schedule that cannot be read is reason `hours_unreadable`.
    pub schedule: Option<String>,
    /// The recent calls of his line from the call history (1C gathers a day of them).
    pub calls: Vec<LineCall>,
}

/// One call of the manager's line as the history shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct LineCall {
    /// It was answered (an `answered` or `in_progress` event).
    pub talked: bool,
    /// It has ended (`finished`, `lost` or `record_ready`).
    pub finished: bool,
    /// Seconds since 1970 of its last event, on the same clock as `history_now` of the facts.
    pub last_event: i64,
}

/// Everything the decision looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct RoutingFacts {
    /// Whether the caller's card was found.
    pub card_found: bool,
    /// The card's responsible manager, when it has one.
    pub manager: Option<Manager>,
    /// The call's local time (needed only when the manager has working hours).
    pub now: Option<LocalTime>,
    /// The fallback group line or scenario id; empty or absent: the PBX's own scenario.
    pub group: Option<String>,
    /// Seconds since 1970, UTC, of the call: with `time_zone` it gives the local time for the working hours and
    /// wins over `now`.
    pub now_utc: Option<i64>,
    /// The PBX time zone as the extension stores it (`+03:00`, `UTC+3`, `Z`…); blank: Moscow, the extension's
    /// default.
    pub time_zone: Option<String>,
    /// Seconds since 1970 of "now" on the clock of the call history (for the age of the line's calls).
    pub history_now: Option<i64>,
    /// Minutes after which an unfinished call is stale; absent: [`STALE_CALL_MINUTES`].
    pub stale_after_minutes: Option<u32>,
}

/// Where the call goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "target", rename_all = "snake_case")]
pub enum Decision {
    /// Ring the responsible manager's line.
    Manager { extension: String, reason: Reason },
    /// Ring the fallback group.
    Group { group: String, reason: Reason },
    /// Say nothing: the PBX follows its own scenario.
    Default { reason: Reason },
}

/// Why (the row of the table in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    UnknownCaller,
    NoManager,
    ManagerHasNoLine,
    ManagerUnavailable,
    HoursUnreadable,
    OutOfHours,
    ManagerBusy,
    ResponsibleManager,
}

/// Minutes since midnight of `HH:MM` (`9:05` too); `None` for anything else.
fn minutes(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !(digits(h) && digits(m) && (1..=2).contains(&h.len()) && m.len() == 2) {
        return None;
    }
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Whether `now` falls in `hours`. An unreadable schedule or time is outside.
pub fn in_working_hours(hours: &WorkingHours, now: &LocalTime) -> bool {
    let (Some(from), Some(to), Some(at)) =
        (minutes(&hours.from), minutes(&hours.to), minutes(&now.time))
    else {
        return false;
    };
    if !(1..=7).contains(&now.weekday) {
        return false;
    }
    let works = |day: u8| hours.days.contains(&day);
    let yesterday = if now.weekday == 1 { 7 } else { now.weekday - 1 };
    if from <= to {
        works(now.weekday) && from <= at && at < to
    } else {
        // Over midnight: the evening part belongs to today's shift, the early part to yesterday's.
        (works(now.weekday) && at >= from) || (works(yesterday) && at < to)
    }
}

/// The routing decision (see the table in the module docs).
pub fn route(facts: &RoutingFacts) -> Decision {
    let fallback = |reason: Reason| match facts.group.as_deref().map(str::trim) {
        Some(group) if !group.is_empty() => Decision::Group {
            group: group.to_string(),
            reason,
        },
        _ => Decision::Default { reason },
    };
    if !facts.card_found {
        return fallback(Reason::UnknownCaller);
    }
    let Some(manager) = &facts.manager else {
        return fallback(Reason::NoManager);
    };
    let Some(extension) = manager
        .extension
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    else {
        return fallback(Reason::ManagerHasNoLine);
    };
    if manager.available == Some(false) {
        return fallback(Reason::ManagerUnavailable);
    }
    let hours = match manager.schedule.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(text) => match parse_schedule(text) {
            Ok(hours) => Some(hours),
            Err(_) => return fallback(Reason::HoursUnreadable),
        },
        None => manager.hours.clone(),
    };
    if let Some(hours) = &hours {
        let now = match facts.now_utc {
            Some(utc) => match local_time(utc, facts.time_zone.as_deref().unwrap_or("")) {
                Ok(now) => Some(now),
                Err(_) => return fallback(Reason::HoursUnreadable),
            },
            None => facts.now.clone(),
        };
        let inside = now.as_ref().is_some_and(|now| in_working_hours(hours, now));
        if !inside {
            return fallback(Reason::OutOfHours);
        }
    }
    let stale_after = facts.stale_after_minutes.unwrap_or(STALE_CALL_MINUTES);
    if manager.on_call || line_busy(&manager.calls, facts.history_now, stale_after) {
        return fallback(Reason::ManagerBusy);
    }
    Decision::Manager {
        extension: extension.to_string(),
        reason: Reason::ResponsibleManager,
    }
}

/// Whether the line is on a call: one of its calls was answered, has not ended and had an event within
/// `stale_after_minutes` (capped at [`STALE_CALL_MAX_MINUTES`]) before `now`. Without `now` the age is unknown and
/// every such call counts (a doubt goes to the group). An event "in the future" (clocks apart) is fresh.
pub fn line_busy(calls: &[LineCall], now: Option<i64>, stale_after_minutes: u32) -> bool {
    let limit = i64::from(stale_after_minutes.min(STALE_CALL_MAX_MINUTES)) * 60;
    calls.iter().any(|call| {
        call.talked
            && !call.finished
            && now.is_none_or(|now| now.saturating_sub(call.last_event) < limit)
    })
}

/// The schedule of the settings: a JSON object `{"days":[…ISO weekdays…],"from":"HH:MM","to":"HH:MM"}`; `to`
/// before `from` is a shift over midnight. Anything else is an error saying what to fix.
pub fn parse_schedule(text: &str) -> Result<WorkingHours, CallsError> {
    let what = Subject::WorkingHours;
    let value: serde_json::Value =
        serde_json::from_str(text.trim()).map_err(|e| CallsError::NotJson {
            what,
            detail: Problem::Parser(e.to_string()),
        })?;
    let object = value.as_object().ok_or(CallsError::NotAnObject { what })?;
    let field = |name: &'static str| {
        object
            .get(name)
            .ok_or(CallsError::MissingField { what, field: name })
    };
    let invalid = |name: &str, detail: Problem| CallsError::InvalidField {
        what,
        field: name.to_string(),
        detail,
    };
    let days: Vec<u8> = field("days")?
        .as_array()
        .filter(|days| !days.is_empty())
        .and_then(|days| {
            days.iter()
                .map(|d| d.as_u64().filter(|d| (1..=7).contains(d)).map(|d| d as u8))
                .collect::<Option<Vec<u8>>>()
        })
        .ok_or_else(|| invalid("days", Problem::NotWeekdays))?;
    let time = |name: &'static str| -> Result<String, CallsError> {
        let given = field(name)?;
        match given.as_str() {
            Some(t) if minutes(t).is_some() => Ok(t.trim().to_string()),
            Some(t) => Err(invalid(
                name,
                Problem::NotATimeOfDay {
                    given: t.to_string(),
                },
            )),
            None => Err(invalid(
                name,
                Problem::NotATimeOfDay {
                    given: given.to_string(),
                },
            )),
        }
    };
    let (from, to) = (time("from")?, time("to")?);
    if minutes(&from) == minutes(&to) {
        return Err(invalid("to", Problem::EmptyInterval));
    }
    Ok(WorkingHours { days, from, to })
}

/// The PBX's local weekday and time of a UTC instant (seconds since 1970), the zone as the extension stores it
/// (blank: Moscow, the extension's default).
pub fn local_time(now_utc: i64, time_zone: &str) -> Result<LocalTime, CallsError> {
    let offset = if time_zone.trim().is_empty() {
        UtcOffset::default()
    } else {
        UtcOffset::parse(time_zone)?
    };
    let local = now_utc.saturating_add(i64::from(offset.minutes()) * 60);
    let day = local.div_euclid(86_400);
    let second = local.rem_euclid(86_400);
    // 1970-01-01 was a Thursday (ISO weekday 4).
    let weekday = (day + 3).rem_euclid(7) as u8 + 1;
    Ok(LocalTime {
        weekday,
        time: format!("{:02}:{:02}", second / 3600, second % 3600 / 60),
    })
}

/// Whether `now_utc` is working time of the schedule text in the PBX time zone. A schedule or zone that cannot be
/// read is an error (never a silent "out of hours"); a blank schedule means always.
pub fn is_working_time(now_utc: i64, time_zone: &str, schedule: &str) -> Result<bool, CallsError> {
    let now = local_time(now_utc, time_zone)?;
    if schedule.trim().is_empty() {
        return Ok(true);
    }
    Ok(in_working_hours(&parse_schedule(schedule)?, &now))
}

/// The number UIS «Интерактивная обработка вызова» can ring for a routed line (`phones` holds phone numbers):
/// the operator's `ВнутреннийНомер` with its separators (spaces, `-`, `(`, `)`, a leading `+`) removed, if what is
/// left is 1–15 digits; anything else (a SIP URI, a name, an employee id with letters) is no number for UIS.
pub fn uis_phone(line: &str) -> Option<String> {
    let line = line.trim();
    let line = line.strip_prefix('+').unwrap_or(line);
    let mut digits = String::new();
    for c in line.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '(' | ')' => {}
            _ => return None,
        }
    }
    (1..=15).contains(&digits.len()).then_some(digits)
}

/// The facts as the 1C module passes them (JSON with [`RoutingFacts`]' fields); malformed JSON is an error.
pub fn facts_from_json(text: &str) -> Result<RoutingFacts, serde_json::Error> {
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekdays(from: &str, to: &str) -> WorkingHours {
        WorkingHours {
            days: vec![1, 2, 3, 4, 5],
            from: from.into(),
            to: to.into(),
        }
    }

    fn at(weekday: u8, time: &str) -> LocalTime {
        LocalTime {
            weekday,
            time: time.into(),
        }
    }

    fn manager() -> Manager {
        Manager {
            extension: Some("801".into()),
            available: Some(true),
            on_call: false,
            hours: Some(weekdays("09:00", "18:00")),
            ..Manager::default()
        }
    }

    fn facts(manager: Option<Manager>) -> RoutingFacts {
        RoutingFacts {
            card_found: true,
            manager,
            now: Some(at(2, "10:30")),
            group: Some("900".into()),
            ..RoutingFacts::default()
        }
    }

    fn group(reason: Reason) -> Decision {
        Decision::Group {
            group: "900".into(),
            reason,
        }
    }

    /// The table of the module docs, row by row.
    #[test]
    fn each_row_of_the_table() {
        let unknown = RoutingFacts {
            card_found: false,
            ..facts(Some(manager()))
        };
        assert_eq!(route(&unknown), group(Reason::UnknownCaller));
        assert_eq!(route(&facts(None)), group(Reason::NoManager));
        for line in [None, Some(" ".to_string())] {
            let m = Manager {
                extension: line,
                ..manager()
            };
            assert_eq!(route(&facts(Some(m))), group(Reason::ManagerHasNoLine));
        }
        let away = Manager {
            available: Some(false),
            ..manager()
        };
        assert_eq!(route(&facts(Some(away))), group(Reason::ManagerUnavailable));
        let late = RoutingFacts {
            now: Some(at(2, "18:00")),
            ..facts(Some(manager()))
        };
        assert_eq!(route(&late), group(Reason::OutOfHours));
        let busy = Manager {
            on_call: true,
            ..manager()
        };
        assert_eq!(route(&facts(Some(busy))), group(Reason::ManagerBusy));
        assert_eq!(
            route(&facts(Some(manager()))),
            Decision::Manager {
                extension: "801".into(),
                reason: Reason::ResponsibleManager
            }
        );
    }

    #[test]
    fn earlier_rows_win() {
        // Unavailable and busy and out of hours: the first applicable row is the reason.
        let everything = Manager {
            available: Some(false),
            on_call: true,
            ..manager()
        };
        let night = RoutingFacts {
            now: Some(at(6, "03:00")),
            ..facts(Some(everything))
        };
        assert_eq!(route(&night), group(Reason::ManagerUnavailable));
    }

    #[test]
    fn without_a_group_the_pbx_keeps_its_scenario() {
        for group in [None, Some("".to_string()), Some("  ".to_string())] {
            let f = RoutingFacts {
                card_found: false,
                group,
                ..RoutingFacts::default()
            };
            assert_eq!(
                route(&f),
                Decision::Default {
                    reason: Reason::UnknownCaller
                }
            );
        }
    }

    #[test]
    fn unknown_facts_go_to_the_group() {
        // No availability flag: available. No hours: always. Hours but no time: outside.
        let m = Manager {
            available: None,
            hours: None,
            ..manager()
        };
        let f = RoutingFacts {
            now: None,
            ..facts(Some(m))
        };
        assert!(matches!(route(&f), Decision::Manager { .. }));
        let no_time = RoutingFacts {
            now: None,
            ..facts(Some(manager()))
        };
        assert_eq!(route(&no_time), group(Reason::OutOfHours));
    }

    #[test]
    fn working_hours() {
        let day = weekdays("09:00", "18:00");
        assert!(in_working_hours(&day, &at(1, "09:00")));
        assert!(in_working_hours(&day, &at(5, "17:59")));
        assert!(!in_working_hours(&day, &at(5, "18:00")));
        assert!(!in_working_hours(&day, &at(6, "12:00")));
        assert!(!in_working_hours(&day, &at(1, "08:59")));
        assert!(in_working_hours(&weekdays("9:00", "18:00"), &at(1, "9:30")));
        // Night shift Mon–Fri 22:00–06:00: Friday night runs into Saturday morning, Monday morning is Sunday's.
        let night = weekdays("22:00", "06:00");
        assert!(in_working_hours(&night, &at(5, "23:00")));
        assert!(in_working_hours(&night, &at(6, "05:59")));
        assert!(!in_working_hours(&night, &at(1, "05:00")));
        assert!(in_working_hours(&night, &at(2, "05:00")));
        assert!(!in_working_hours(&night, &at(3, "12:00")));
        for bad in ["25:00", "12:60", "noon", "", "12"] {
            assert!(
                !in_working_hours(&weekdays(bad, "18:00"), &at(1, "12:00")),
                "{bad}"
            );
            assert!(!in_working_hours(&day, &at(1, bad)), "{bad}");
        }
        assert!(!in_working_hours(&day, &at(0, "12:00")));
        assert!(!in_working_hours(&day, &at(8, "12:00")));
    }

    // 2026-12-07 is a Monday. 06:30 UTC = 09:30 in Moscow (+03:00) = 14:30 in Almaty (+05:00 since 2024)…
    const MONDAY_0630_UTC: i64 = 1_796_625_000;

    #[test]
    fn local_time_of_the_pbx_zone() {
        assert_eq!(local_time(0, "Z").unwrap(), at(4, "00:00")); // 1970-01-01, a Thursday
        assert_eq!(
            local_time(MONDAY_0630_UTC, "+03:00").unwrap(),
            at(1, "09:30")
        );
        assert_eq!(
            local_time(MONDAY_0630_UTC, "UTC+5").unwrap(),
            at(1, "11:30")
        );
        assert_eq!(local_time(MONDAY_0630_UTC, "").unwrap(), at(1, "09:30")); // the extension's default, Moscow
                                                                              // West of UTC the same instant is still Sunday evening.
        assert_eq!(
            local_time(MONDAY_0630_UTC, "-08:00").unwrap(),
            at(7, "22:30")
        );
        assert_eq!(
            local_time(MONDAY_0630_UTC, "+05:30").unwrap(),
            at(1, "12:00")
        );
        // Before 1970.
        assert_eq!(local_time(-60, "Z").unwrap(), at(3, "23:59"));
        for bad in ["Moscow", "+25:00", "+3:7", "abc"] {
            assert!(
                matches!(local_time(0, bad), Err(CallsError::InvalidTimeZone { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn working_time_in_the_pbx_zone_not_the_session_zone() {
        let office = r#"{"days":[1,2,3,4,5],"from":"09:00","to":"18:00"}"#;
        // 09:30 in Moscow: open; the same instant at UTC is 06:30: closed.
        assert_eq!(is_working_time(MONDAY_0630_UTC, "+03:00", office), Ok(true));
        assert_eq!(is_working_time(MONDAY_0630_UTC, "Z", office), Ok(false));
        // Sunday 22:30 at -08:00: a weekend evening.
        assert_eq!(
            is_working_time(MONDAY_0630_UTC, "-08:00", office),
            Ok(false)
        );
        // A night shift over midnight, Sunday to Thursday nights: Monday 02:00 Moscow is Sunday's shift.
        let night = r#"{"days":[7,1,2,3,4],"from":"22:00","to":"06:00"}"#;
        let monday_2300_utc = MONDAY_0630_UTC - 7 * 3600 - 30 * 60; // Sunday 23:00 UTC = Monday 02:00 Moscow
        assert_eq!(is_working_time(monday_2300_utc, "+03:00", night), Ok(true));
        assert_eq!(is_working_time(MONDAY_0630_UTC, "+03:00", night), Ok(false)); // 09:30
                                                                                  // Friday 03:00 Moscow belongs to Thursday's shift; Saturday 03:00 to Friday's, which is not worked.
        let friday_0000_utc = MONDAY_0630_UTC + 3 * 86_400 + 17 * 3600 + 30 * 60; // Thu 24:00 UTC
        assert_eq!(is_working_time(friday_0000_utc, "+03:00", night), Ok(true));
        assert_eq!(
            is_working_time(friday_0000_utc + 86_400, "+03:00", night),
            Ok(false)
        );
        // No schedule: always.
        assert_eq!(is_working_time(MONDAY_0630_UTC, "+03:00", "  "), Ok(true));
    }

    #[test]
    fn a_bad_schedule_or_zone_is_an_error_not_out_of_hours() {
        let office = r#"{"days":[1,2,3,4,5],"from":"09:00","to":"18:00"}"#;
        assert!(matches!(
            is_working_time(0, "Europe/Moscow", office),
            Err(CallsError::InvalidTimeZone { .. })
        ));
        let field = |e: CallsError| match e {
            CallsError::InvalidField { field, detail, .. } => (field, detail),
            other => panic!("{other:?}"),
        };
        let cases: &[(&str, &str, Problem)] = &[
            (
                r#"{"days":[],"from":"09:00","to":"18:00"}"#,
                "days",
                Problem::NotWeekdays,
            ),
            (
                r#"{"days":[0,1],"from":"09:00","to":"18:00"}"#,
                "days",
                Problem::NotWeekdays,
            ),
            (
                r#"{"days":[8],"from":"09:00","to":"18:00"}"#,
                "days",
                Problem::NotWeekdays,
            ),
            (
                r#"{"days":["пн"],"from":"09:00","to":"18:00"}"#,
                "days",
                Problem::NotWeekdays,
            ),
            (
                r#"{"days":[1.5],"from":"09:00","to":"18:00"}"#,
                "days",
                Problem::NotWeekdays,
            ),
            (
                r#"{"days":1,"from":"09:00","to":"18:00"}"#,
                "days",
                Problem::NotWeekdays,
            ),
            (
                r#"{"days":[1],"from":"9","to":"18:00"}"#,
                "from",
                Problem::NotATimeOfDay { given: "9".into() },
            ),
            (
                r#"{"days":[1],"from":"09:00","to":"24:00"}"#,
                "to",
                Problem::NotATimeOfDay {
                    given: "24:00".into(),
                },
            ),
            (
                r#"{"days":[1],"from":900,"to":"18:00"}"#,
                "from",
                Problem::NotATimeOfDay {
                    given: "900".into(),
                },
            ),
            (
                r#"{"days":[1],"from":"09:00","to":"9:00"}"#,
                "to",
                Problem::EmptyInterval,
            ),
        ];
        for (text, name, problem) in cases {
            let e = is_working_time(MONDAY_0630_UTC, "+03:00", text).unwrap_err();
            assert_eq!(field(e), (name.to_string(), problem.clone()), "{text}");
        }
        assert!(matches!(
            parse_schedule("{"),
            Err(CallsError::NotJson { .. })
        ));
        assert!(matches!(
            parse_schedule("[1]"),
            Err(CallsError::NotAnObject { .. })
        ));
        assert!(matches!(
            parse_schedule(r#"{"days":[1],"from":"09:00"}"#),
            Err(CallsError::MissingField { field: "to", .. })
        ));
        assert_eq!(
            parse_schedule(r#" {"days":[5,1],"from":" 9:00","to":"18:30"} "#).unwrap(),
            WorkingHours {
                days: vec![5, 1],
                from: "9:00".into(),
                to: "18:30".into()
            }
        );
    }

    fn zoned(schedule: &str, now_utc: i64, zone: &str) -> RoutingFacts {
        RoutingFacts {
            now: Some(at(2, "10:30")), // ignored: now_utc wins
            now_utc: Some(now_utc),
            time_zone: Some(zone.into()),
            ..facts(Some(Manager {
                hours: None,
                schedule: Some(schedule.into()),
                ..manager()
            }))
        }
    }

    #[test]
    fn the_route_reads_the_schedule_in_the_pbx_zone() {
        let office = r#"{"days":[1,2,3,4,5],"from":"09:00","to":"18:00"}"#;
        assert!(matches!(
            route(&zoned(office, MONDAY_0630_UTC, "+03:00")),
            Decision::Manager { .. }
        ));
        assert_eq!(
            route(&zoned(office, MONDAY_0630_UTC, "Z")),
            group(Reason::OutOfHours)
        );
        assert_eq!(
            route(&zoned("{nope", MONDAY_0630_UTC, "+03:00")),
            group(Reason::HoursUnreadable)
        );
        assert_eq!(
            route(&zoned(office, MONDAY_0630_UTC, "Moscow")),
            group(Reason::HoursUnreadable)
        );
        // A blank schedule: always working.
        assert!(matches!(
            route(&zoned(" ", MONDAY_0630_UTC, "Moscow")),
            Decision::Manager { .. }
        ));
    }

    fn call(talked: bool, finished: bool, last_event: i64) -> LineCall {
        LineCall {
            talked,
            finished,
            last_event,
        }
    }

    #[test]
    fn another_call_by_its_last_event() {
        let now = 1_000_000;
        let limit = STALE_CALL_MINUTES as i64 * 60;
        // Answered, not ended, last event a minute ago: busy.
        assert!(line_busy(
            &[call(true, false, now - 60)],
            Some(now),
            STALE_CALL_MINUTES
        ));
        // Just inside and just outside the limit.
        assert!(line_busy(
            &[call(true, false, now - limit + 1)],
            Some(now),
            STALE_CALL_MINUTES
        ));
        assert!(!line_busy(
            &[call(true, false, now - limit)],
            Some(now),
            STALE_CALL_MINUTES
        ));
        // Ended, or never answered (still ringing): not busy.
        assert!(!line_busy(
            &[call(true, true, now - 60)],
            Some(now),
            STALE_CALL_MINUTES
        ));
        assert!(!line_busy(
            &[call(false, false, now - 60)],
            Some(now),
            STALE_CALL_MINUTES
        ));
        // One live call among stale and ended ones is enough.
        let calls = [
            call(true, false, now - 5 * limit),
            call(true, true, now),
            call(true, false, now - 10),
        ];
        assert!(line_busy(&calls, Some(now), STALE_CALL_MINUTES));
        // A long call whose answer was two hours ago but whose last event (a transfer) was 5 minutes ago: busy.
        assert!(line_busy(&[call(true, false, now - 300)], Some(now), 10));
        assert!(!line_busy(&[call(true, false, now - 601)], Some(now), 10));
        // An event ahead of "now" (clocks apart) is fresh; without "now" every live call counts.
        assert!(line_busy(
            &[call(true, false, now + 3600)],
            Some(now),
            STALE_CALL_MINUTES
        ));
        assert!(line_busy(&[call(true, false, 0)], None, STALE_CALL_MINUTES));
        // The limit is capped at a day (1C gathers a day of calls).
        assert!(!line_busy(
            &[call(true, false, now - 86_400)],
            Some(now),
            u32::MAX
        ));
        assert!(line_busy(
            &[call(true, false, now - 86_399)],
            Some(now),
            u32::MAX
        ));
        assert!(!line_busy(&[], Some(now), STALE_CALL_MINUTES));
    }

    #[test]
    fn the_route_sees_the_line_busy_from_history() {
        let with_calls = |calls: Vec<LineCall>, stale: Option<u32>| RoutingFacts {
            history_now: Some(10_000),
            stale_after_minutes: stale,
            ..facts(Some(Manager { calls, ..manager() }))
        };
        assert_eq!(
            route(&with_calls(vec![call(true, false, 9_000)], None)),
            group(Reason::ManagerBusy)
        );
        assert!(matches!(
            route(&with_calls(vec![call(true, false, 9_000)], Some(10))),
            Decision::Manager { .. }
        ));
        let f = facts_from_json(
            r#"{"card_found":true,"manager":{"extension":"801","calls":[{"talked":true,"finished":false,"last_event":100}]},
                "history_now":200}"#,
        )
        .unwrap();
        assert_eq!(
            route(&f),
            Decision::Default {
                reason: Reason::ManagerBusy
            }
        );
    }

    #[test]
    fn uis_rings_a_phone_number_never_an_employee_id() {
        assert_eq!(uis_phone("801").as_deref(), Some("801"));
        assert_eq!(
            uis_phone(" +7 (926) 123-45-67 ").as_deref(),
            Some("79261234567")
        );
        for not_a_number in [
            "",
            "  ",
            "+",
            "sip:801@pbx",
            "Иванов",
            "801#2",
            "1234567890123456",
            "ab12",
        ] {
            assert_eq!(uis_phone(not_a_number), None, "{not_a_number}");
        }
    }

    #[test]
    fn facts_and_decision_as_json() {
        let f = facts_from_json(
            r#"{"card_found":true,"manager":{"extension":"801","available":true,"on_call":false,
                "hours":{"days":[1,2,3,4,5],"from":"09:00","to":"18:00"}},
                "now":{"weekday":3,"time":"11:00"},"group":"900"}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&route(&f)).unwrap(),
            r#"{"target":"manager","extension":"801","reason":"responsible_manager"}"#
        );
        let f = facts_from_json(r#"{"card_found":false}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&route(&f)).unwrap(),
            r#"{"target":"default","reason":"unknown_caller"}"#
        );
        assert!(facts_from_json("{").is_err());
        assert!(facts_from_json(r#"{"card_found":"yes"}"#).is_err());
    }
}
