//! When the phone index (`ТБ_ИндексТелефонов`, [`crate::phone_index`]) must be rebuilt without waiting for the
//! nightly job or an administrator: one pure decision from facts the 1C module gathers. Sans I/O.
//!
//! The rule, in order (the first that applies decides):
//!
//! | # | Facts | Decision | `reason` |
//! |---|-------|----------|----------|
//! | 1 | telephony is off | no | `telephony_off` |
//! | 2 | a rebuild is already running | no | `already_running` |
//! | 3 | telephony was just switched on in the settings | rebuild | `telephony_enabled` |
//! | 4 | the indexed catalog (`ТБ_СправочникКонтрагентов`) was just changed in the settings | rebuild | `catalog_changed` |
//! | 5 | a lookup found the index empty and the catalog has cards | rebuild | `index_empty` |
//! | 6 | the index is empty and so is the catalog | no | `catalog_empty` |
//! | 7 | otherwise (the index has rows, or nothing was read) | no | `index_current` |
//!
//! A lookup that starts the rebuild is still answered "unknown caller" from the empty index: the request path
//! never scans the catalog. Row 2 keeps concurrent requests from starting several jobs (1C also refuses a second
//! active background job with the same key, which the module treats as "already running").

use serde::{Deserialize, Serialize};

/// What 1C knows when it asks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct RebuildFacts {
    /// `ТБ_ИспользоватьТелефонию` (after the settings were written, on the settings path).
    pub telephony_enabled: bool,
    /// The settings just switched telephony from off to on.
    pub telephony_just_enabled: bool,
    /// The settings just changed `ТБ_СправочникКонтрагентов`.
    pub catalog_changed: bool,
    /// Rows in the index, when a lookup read it (`None`: not read, as on the settings path).
    pub index_rows: Option<u64>,
    /// Whether one of the indexed catalogs has a card (read only when the index is empty).
    pub catalog_has_cards: bool,
    /// A rebuild background job is active.
    pub rebuild_running: bool,
}

/// The decision and its row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RebuildDecision {
    pub rebuild: bool,
    pub reason: RebuildReason,
}

/// Why (the row of the table in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RebuildReason {
    TelephonyOff,
    AlreadyRunning,
    TelephonyEnabled,
    CatalogChanged,
    IndexEmpty,
    CatalogEmpty,
    IndexCurrent,
}

/// The decision (see the table in the module docs).
pub fn rebuild_needed(facts: &RebuildFacts) -> RebuildDecision {
    use RebuildReason::*;
    let (rebuild, reason) = if !facts.telephony_enabled {
        (false, TelephonyOff)
    } else if facts.rebuild_running {
        (false, AlreadyRunning)
    } else if facts.telephony_just_enabled {
        (true, TelephonyEnabled)
    } else if facts.catalog_changed {
        (true, CatalogChanged)
    } else if facts.index_rows == Some(0) {
        if facts.catalog_has_cards {
            (true, IndexEmpty)
        } else {
            (false, CatalogEmpty)
        }
    } else {
        (false, IndexCurrent)
    };
    RebuildDecision { rebuild, reason }
}

/// The facts as the 1C module passes them (JSON with [`RebuildFacts`]' fields); malformed JSON is an error.
pub fn facts_from_json(text: &str) -> Result<RebuildFacts, serde_json::Error> {
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use RebuildReason::*;

    fn on() -> RebuildFacts {
        RebuildFacts {
            telephony_enabled: true,
            ..RebuildFacts::default()
        }
    }

    fn decide(facts: RebuildFacts) -> (bool, RebuildReason) {
        let d = rebuild_needed(&facts);
        (d.rebuild, d.reason)
    }

    /// The table of the module docs, row by row.
    #[test]
    fn each_row_of_the_table() {
        // 1. Telephony off: nothing, whatever else is true.
        let off = RebuildFacts {
            telephony_enabled: false,
            telephony_just_enabled: true,
            catalog_changed: true,
            index_rows: Some(0),
            catalog_has_cards: true,
            rebuild_running: false,
        };
        assert_eq!(decide(off), (false, TelephonyOff));
        // 2. Already running: never a second job.
        for running in [
            RebuildFacts {
                telephony_just_enabled: true,
                rebuild_running: true,
                ..on()
            },
            RebuildFacts {
                catalog_changed: true,
                rebuild_running: true,
                ..on()
            },
            RebuildFacts {
                index_rows: Some(0),
                catalog_has_cards: true,
                rebuild_running: true,
                ..on()
            },
        ] {
            assert_eq!(decide(running), (false, AlreadyRunning));
        }
        // 3. Just switched on.
        assert_eq!(
            decide(RebuildFacts {
                telephony_just_enabled: true,
                ..on()
            }),
            (true, TelephonyEnabled)
        );
        // 4. The catalog setting changed, whatever the index holds.
        assert_eq!(
            decide(RebuildFacts {
                catalog_changed: true,
                index_rows: Some(5),
                ..on()
            }),
            (true, CatalogChanged)
        );
        // 5. Empty index, catalog with cards.
        assert_eq!(
            decide(RebuildFacts {
                index_rows: Some(0),
                catalog_has_cards: true,
                ..on()
            }),
            (true, IndexEmpty)
        );
        // 6. Empty index, empty catalog: a rebuild would find nothing.
        assert_eq!(
            decide(RebuildFacts {
                index_rows: Some(0),
                ..on()
            }),
            (false, CatalogEmpty)
        );
        // 7. The index has rows, or was not read.
        assert_eq!(
            decide(RebuildFacts {
                index_rows: Some(1),
                catalog_has_cards: true,
                ..on()
            }),
            (false, IndexCurrent)
        );
        assert_eq!(decide(on()), (false, IndexCurrent));
    }

    #[test]
    fn switched_on_wins_over_catalog_changed() {
        assert_eq!(
            decide(RebuildFacts {
                telephony_just_enabled: true,
                catalog_changed: true,
                ..on()
            }),
            (true, TelephonyEnabled)
        );
    }

    #[test]
    fn facts_and_decision_as_json() {
        let f = facts_from_json(
            r#"{"telephony_enabled":true,"index_rows":0,"catalog_has_cards":true,"rebuild_running":false}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&rebuild_needed(&f)).unwrap(),
            r#"{"rebuild":true,"reason":"index_empty"}"#
        );
        assert_eq!(
            serde_json::to_string(&rebuild_needed(&facts_from_json("{}").unwrap())).unwrap(),
            r#"{"rebuild":false,"reason":"telephony_off"}"#
        );
        assert!(facts_from_json("[").is_err());
        assert!(facts_from_json(r#"{"index_rows":-1}"#).is_err());
        assert!(facts_from_json(r#"{"rebuild_running":"yes"}"#).is_err());
    }
}
