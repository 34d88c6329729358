//! Who sees which calls and whose recordings: the decision, from the user's roles and the per-user setting the
//! telephony administrator sets.
//!
//! - The administrator sees everything.
//! - A filled call-visibility setting decides (the administrator's explicit choice); an empty one falls back to
//!   the roles: «view all calls» → all, else own calls.
//! - The recordings scope is the recordings setting when it is filled, else the call scope — and it is never wider
//!   than the call scope: a recording belongs to a call, and a call one may not see has no recording one may hear.
//! - «Group» without a group is «own»: a user outside any group has no colleagues to see.
//!
//! 1C turns a scope into the operators it covers (himself; the users of his group) and filters on the server.

use serde::{Deserialize, Serialize};

/// How far a user's view reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Nothing (recordings only).
    None,
    /// The user's own calls.
    Own,
    /// The calls of his group.
    Group,
    /// Every call.
    All,
}

/// What 1C knows about the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessFacts {
    /// Telephony administrator or the infobase's administration right.
    pub administrator: bool,
    /// The role «view all calls».
    pub sees_all_role: bool,
    /// The call-visibility setting (`None` = not set; `Scope::None` is not a visibility and counts as not set).
    pub calls_setting: Option<Scope>,
    /// The recordings setting (`None` = not set).
    pub recordings_setting: Option<Scope>,
    /// The user belongs to a group of operators.
    pub has_group: bool,
}

/// The decision: the call scope and the recordings scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Access {
    pub calls: Scope,
    pub recordings: Scope,
}

/// The scopes by the rules in the module docs.
pub fn decide(facts: &AccessFacts) -> Access {
    if facts.administrator {
        return Access {
            calls: Scope::All,
            recordings: Scope::All,
        };
    }
    let by_role = if facts.sees_all_role {
        Scope::All
    } else {
        Scope::Own
    };
    let calls = match facts.calls_setting {
        Some(Scope::None) | None => by_role,
        Some(scope) => scope,
    };
    let calls = without_empty_group(calls, facts.has_group);
    let recordings = facts.recordings_setting.unwrap_or(calls).min(calls);
    Access {
        calls,
        recordings: without_empty_group(recordings, facts.has_group),
    }
}

fn without_empty_group(scope: Scope, has_group: bool) -> Scope {
    if scope == Scope::Group && !has_group {
        Scope::Own
    } else {
        scope
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Scope::{All, Group, None as No, Own};

    fn facts(
        admin: bool,
        all_role: bool,
        calls: Option<Scope>,
        rec: Option<Scope>,
        group: bool,
    ) -> AccessFacts {
        AccessFacts {
            administrator: admin,
            sees_all_role: all_role,
            calls_setting: calls,
            recordings_setting: rec,
            has_group: group,
        }
    }

    /// (case, facts, calls scope, recordings scope) — the table in docs/call-statuses.md, «Права».
    #[test]
    fn the_table_of_rights() {
        let table = [
            (
                "администратор видит всё, что бы ни стояло в настройке",
                facts(true, false, Some(Own), Some(No), false),
                All,
                All,
            ),
            (
                "оператор без настройки: свои",
                facts(false, false, None, None, true),
                Own,
                Own,
            ),
            (
                "роль «все звонки» без настройки: все",
                facts(false, true, None, None, false),
                All,
                All,
            ),
            (
                "настройка сужает роль «все звонки»",
                facts(false, true, Some(Group), None, true),
                Group,
                Group,
            ),
            (
                "настройка расширяет оператора",
                facts(false, false, Some(All), None, false),
                All,
                All,
            ),
            (
                "группа без группы — свои",
                facts(false, false, Some(Group), None, false),
                Own,
                Own,
            ),
            (
                "записи: нет",
                facts(false, true, None, Some(No), false),
                All,
                No,
            ),
            (
                "записи не шире звонков",
                facts(false, false, Some(Own), Some(All), true),
                Own,
                Own,
            ),
            (
                "записи своей группы при всех звонках",
                facts(false, false, Some(All), Some(Group), true),
                All,
                Group,
            ),
            (
                "записи группы без группы — свои",
                facts(false, false, Some(All), Some(Group), false),
                All,
                Own,
            ),
            (
                "«нет» в видимости звонков — как не задано",
                facts(false, false, Some(No), None, false),
                Own,
                Own,
            ),
        ];
        for (case, f, calls, recordings) in table {
            assert_eq!(decide(&f), Access { calls, recordings }, "{case}");
        }
    }
}
