//! The call journal's and the call reports' rules: which journal filter selects which calls, which operators a
//! scope («мои», «моя группа», «все») may show, and the callback-time intervals of the report on missed calls.
//!
//! The extension's BSL runs these rules as a query over the register `ТБ_СтатусыЗвонков` (one record a call, with
//! the status and flags the status rule of [`crate`] derives), so the BSL holds a copy of each table:
//! `ТБ_ТелефонияЖурнал.УсловияОтборов` (the filters), `ТБ_ТелефонияЖурнал.ОператорыОбласти` (the scopes) and the
//! `ИнтервалПерезвона` field of the report `ТБ_АнализЗвонков` (the intervals). The tables here are the source:
//! `tests/extension_reports.rs` reads those BSL and DCS texts and fails when they say anything else.
//!
//! | Filter (`Отбор`) | Calls shown | Condition on `ТБ_СтатусыЗвонков` |
//! |------------------|-------------|----------------------------------|
//! | `Все` | every call the scope allows | none |
//! | `Входящие` | incoming | `Входящий = Истина` |
//! | `Исходящие` | outgoing | `Входящий = Ложь` |
//! | `Пропущенные` | missed (incoming, nobody talked) | `Пропущенный = Истина` |
//! | `Потерянные` | lost (missed from a new number, not called back the same day) | `Статус = "Потерян"` |
//! | `ПервыйКонтакт` | the first call of a number | `ПервыйКонтакт = Истина` |
//!
//! Scopes: an operator sees what `ТБ_ТелефонияПраваЗвонков.ВидимыеОператоры()` allows — everybody (`Неопределено`)
//! or a list of operator user names (himself, or the operators of his group). «Мои» is always offered; «Моя группа»
//! when the list names someone beside him; «Все» only when he may see everybody. A scope asked for beyond the
//! allowed one is narrowed to it, never widened: the server applies [`operators_for`] whatever the client sent.

/// A journal filter: which calls of the period the journal lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalFilter {
    All,
    Incoming,
    Outgoing,
    Missed,
    Lost,
    FirstContact,
}

/// The value a filter compares a field of `ТБ_СтатусыЗвонков` with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue {
    /// A Boolean field (`Входящий`, `Пропущенный`, `ПервыйКонтакт`).
    Flag(bool),
    /// The `Статус` field: one of the statuses of the status rule.
    Status(&'static str),
}

/// One condition `<field> = <value>` on a record of `ТБ_СтатусыЗвонков`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Condition {
    /// The register field, as named in the register's metadata.
    pub field: &'static str,
    pub value: FieldValue,
}

impl JournalFilter {
    /// Every filter, in the order the journal offers them.
    pub const ALL: [JournalFilter; 6] = [
        JournalFilter::All,
        JournalFilter::Incoming,
        JournalFilter::Outgoing,
        JournalFilter::Missed,
        JournalFilter::Lost,
        JournalFilter::FirstContact,
    ];

    /// The filter's value in the journal form and in the missed-calls command (`Отбор`).
    pub fn name(self) -> &'static str {
        match self {
            JournalFilter::All => "Все",
            JournalFilter::Incoming => "Входящие",
            JournalFilter::Outgoing => "Исходящие",
            JournalFilter::Missed => "Пропущенные",
            JournalFilter::Lost => "Потерянные",
            JournalFilter::FirstContact => "ПервыйКонтакт",
        }
    }

    /// The filter a name stands for; an unknown name is `None` (the server then lists nothing rather than guess).
    pub fn from_name(name: &str) -> Option<JournalFilter> {
        JournalFilter::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The condition the filter puts on a call's record; `None` for [`JournalFilter::All`].
    pub fn condition(self) -> Option<Condition> {
        let flag = |field, value| {
            Some(Condition {
                field,
                value: FieldValue::Flag(value),
            })
        };
        match self {
            JournalFilter::All => None,
            JournalFilter::Incoming => flag("Входящий", true),
            JournalFilter::Outgoing => flag("Входящий", false),
            JournalFilter::Missed => flag("Пропущенный", true),
            JournalFilter::Lost => Some(Condition {
                field: "Статус",
                value: FieldValue::Status("Потерян"),
            }),
            JournalFilter::FirstContact => flag("ПервыйКонтакт", true),
        }
    }
}

/// Whose calls the journal lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Mine,
    Group,
    All,
}

impl Scope {
    /// The scope's value in the journal form (`Область`).
    pub fn name(self) -> &'static str {
        match self {
            Scope::Mine => "Мои",
            Scope::Group => "Группа",
            Scope::All => "Все",
        }
    }

    /// The scope a name stands for.
    pub fn from_name(name: &str) -> Option<Scope> {
        [Scope::Mine, Scope::Group, Scope::All]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// The scopes offered to a user: `visible` is what `ВидимыеОператоры()` returned (`None` = everybody), `me` his
/// user name.
pub fn offered_scopes(visible: Option<&[String]>, me: &str) -> Vec<Scope> {
    match visible {
        None => vec![Scope::Mine, Scope::All],
        Some(list) if list.iter().any(|o| o != me) => vec![Scope::Mine, Scope::Group],
        Some(_) => vec![Scope::Mine],
    }
}

/// The operators whose calls a scope shows: `None` = no condition on the operator (everybody), `Some(list)` = calls
/// of these operators only. Never more than `visible` allows: «Все» without the right is the allowed list, «Моя
/// группа» of a user who sees everybody is himself (a group is what the rights module lists, and it lists none), and
/// «Мои» of a user whose list does not name him (the rights say «no calls») is nobody.
pub fn operators_for(scope: Scope, visible: Option<&[String]>, me: &str) -> Option<Vec<String>> {
    match (scope, visible) {
        (Scope::Mine | Scope::Group, None) => Some(vec![me.to_string()]),
        (Scope::Mine, Some(list)) if list.iter().any(|o| o == me) => Some(vec![me.to_string()]),
        (Scope::Mine, Some(_)) => Some(vec![]),
        (Scope::All, None) => None,
        (Scope::Group | Scope::All, Some(list)) => Some(list.to_vec()),
    }
}

/// The callback-time intervals of the report «Время перезвона»: (upper bound in seconds, inclusive; label), in
/// order. A missed call called back later than the last bound is [`CALLBACK_LATER`]; one not called back is
/// [`CALLBACK_NONE`]. The bounds follow the status rule's «the same day» and the supervisor's «still open past
/// the configured time» (minutes to hours): a quarter of an hour is a good callback, a day is a lost customer.
pub const CALLBACK_INTERVALS: [(i64, &str); 4] = [
    (900, "до 15 минут"),
    (3600, "от 15 минут до часа"),
    (14400, "от 1 до 4 часов"),
    (86400, "от 4 часов до суток"),
];

/// The label of a callback later than the last bound of [`CALLBACK_INTERVALS`].
pub const CALLBACK_LATER: &str = "позже суток";

/// The label of a missed call nobody called back.
pub const CALLBACK_NONE: &str = "не перезвонили";

/// The interval of a callback `seconds` after the start of the missed call (`None`: not called back). A negative
/// time (clocks of the PBX and of 1C apart) counts as an immediate callback.
pub fn callback_interval(seconds: Option<i64>) -> &'static str {
    let Some(seconds) = seconds else {
        return CALLBACK_NONE;
    };
    CALLBACK_INTERVALS
        .iter()
        .find(|(bound, _)| seconds <= *bound)
        .map(|(_, label)| *label)
        .unwrap_or(CALLBACK_LATER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_has_its_condition() {
        use FieldValue::*;
        let table: Vec<(&str, Option<(&str, FieldValue)>)> = JournalFilter::ALL
            .into_iter()
            .map(|f| (f.name(), f.condition().map(|c| (c.field, c.value))))
            .collect();
        assert_eq!(
            table,
            vec![
                ("Все", None),
                ("Входящие", Some(("Входящий", Flag(true)))),
                ("Исходящие", Some(("Входящий", Flag(false)))),
                ("Пропущенные", Some(("Пропущенный", Flag(true)))),
                ("Потерянные", Some(("Статус", Status("Потерян")))),
                ("ПервыйКонтакт", Some(("ПервыйКонтакт", Flag(true)))),
            ]
        );
    }

    #[test]
    fn filter_names_round_trip_and_unknown_ones_are_refused() {
        for f in JournalFilter::ALL {
            assert_eq!(JournalFilter::from_name(f.name()), Some(f));
        }
        assert_eq!(JournalFilter::from_name("пропущенные"), None);
        assert_eq!(JournalFilter::from_name(""), None);
        for s in [Scope::Mine, Scope::Group, Scope::All] {
            assert_eq!(Scope::from_name(s.name()), Some(s));
        }
        assert_eq!(Scope::from_name("Чужие"), None);
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn scopes_offered_follow_the_rights() {
        assert_eq!(
            offered_scopes(None, "ivanov"),
            vec![Scope::Mine, Scope::All]
        );
        let group = names(&["ivanov", "petrov"]);
        assert_eq!(
            offered_scopes(Some(&group), "ivanov"),
            vec![Scope::Mine, Scope::Group]
        );
        let alone = names(&["ivanov"]);
        assert_eq!(offered_scopes(Some(&alone), "ivanov"), vec![Scope::Mine]);
        assert_eq!(offered_scopes(Some(&[]), "ivanov"), vec![Scope::Mine]);
    }

    #[test]
    fn a_scope_never_widens_what_the_rights_allow() {
        let group = names(&["ivanov", "petrov"]);
        // Everybody visible.
        assert_eq!(operators_for(Scope::All, None, "ivanov"), None);
        assert_eq!(
            operators_for(Scope::Mine, None, "ivanov"),
            Some(names(&["ivanov"]))
        );
        assert_eq!(
            operators_for(Scope::Group, None, "ivanov"),
            Some(names(&["ivanov"]))
        );
        // A group.
        assert_eq!(
            operators_for(Scope::All, Some(&group), "ivanov"),
            Some(group.clone())
        );
        assert_eq!(
            operators_for(Scope::Group, Some(&group), "ivanov"),
            Some(group.clone())
        );
        assert_eq!(
            operators_for(Scope::Mine, Some(&group), "ivanov"),
            Some(names(&["ivanov"]))
        );
        // Nobody: «Все» and «Мои» of a user who may see nobody are nobody.
        assert_eq!(operators_for(Scope::All, Some(&[]), "ivanov"), Some(vec![]));
        assert_eq!(
            operators_for(Scope::Mine, Some(&[]), "ivanov"),
            Some(vec![])
        );
        // A list without him (a group he is not in): not even his own calls.
        let others = names(&["petrov"]);
        assert_eq!(
            operators_for(Scope::Mine, Some(&others), "ivanov"),
            Some(vec![])
        );
        assert_eq!(
            operators_for(Scope::Group, Some(&others), "ivanov"),
            Some(others.clone())
        );
    }

    #[test]
    fn callback_intervals_case_by_case() {
        let cases = [
            (None, "не перезвонили"),
            (Some(-30), "до 15 минут"),
            (Some(0), "до 15 минут"),
            (Some(900), "до 15 минут"),
            (Some(901), "от 15 минут до часа"),
            (Some(3600), "от 15 минут до часа"),
            (Some(3601), "от 1 до 4 часов"),
            (Some(14400), "от 1 до 4 часов"),
            (Some(14401), "от 4 часов до суток"),
            (Some(86400), "от 4 часов до суток"),
            (Some(86401), "позже суток"),
            (Some(i64::MAX), "позже суток"),
        ];
        for (seconds, label) in cases {
            assert_eq!(callback_interval(seconds), label, "{seconds:?}");
        }
    }

    #[test]
    fn callback_bounds_rise() {
        assert!(CALLBACK_INTERVALS.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
