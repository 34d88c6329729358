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
//! | 5 | outside the manager's working hours | group | `out_of_hours` |
//! | 6 | the manager is on another call | group | `manager_busy` |
//! | 7 | otherwise | the manager's line | `responsible_manager` |
//!
//! "Group" is the configured fallback (a group line or a scenario id of the PBX); without one the decision is
//! `default`: the PBX routes by its own scenario. Unknown facts count against ringing the manager (a schedule that
//! cannot be read is "out of hours"), so a doubtful case goes to the group, where someone answers.

use serde::{Deserialize, Serialize};

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
    if let Some(hours) = &manager.hours {
        let inside = facts
            .now
            .as_ref()
            .is_some_and(|now| in_working_hours(hours, now));
        if !inside {
            return fallback(Reason::OutOfHours);
        }
    }
    if manager.on_call {
        return fallback(Reason::ManagerBusy);
    }
    Decision::Manager {
        extension: extension.to_string(),
        reason: Reason::ResponsibleManager,
    }
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
        }
    }

    fn facts(manager: Option<Manager>) -> RoutingFacts {
        RoutingFacts {
            card_found: true,
            manager,
            now: Some(at(2, "10:30")),
            group: Some("900".into()),
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
