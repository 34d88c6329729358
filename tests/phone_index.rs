//! The phone-number index methods of UIScom and Binotel (`КлючИндексаТелефона`, `КлючиИндексаТелефонов`,
//! `ИзменениеИндексаТелефонов`) through the real built library and the platform-exact test host, in both
//! languages, with the errors a 1C developer sees.

use addin_host::{Host, Mode, Val};
use serde_json::{json, Value};

fn json_of(val: &Val) -> Value {
    serde_json::from_str(val.str()).expect("valid JSON")
}

#[test]
fn both_pbx_classes_give_the_same_keys_in_both_languages() {
    let host = Host::load_default();
    for class in ["UIScom", "Binotel"] {
        let object = host.create_with(class, Mode::Server, "ru_RU");
        for (number, key) in [
            ("+7 (926) 123-45-67", "79261234567"),
            ("8 926 123 45 67", "79261234567"),
            ("0441234567", "380441234567"),
            ("8 029 123-45-67", "375291234567"),
            ("101", ""),
            ("anonymous", ""),
        ] {
            assert_eq!(
                object
                    .call("КлючИндексаТелефона", &[Val::from(number)])
                    .unwrap(),
                Val::from(key),
                "{class} {number}"
            );
            assert_eq!(
                object.call("PhoneIndexKey", &[Val::from(number)]).unwrap(),
                Val::from(key),
                "{class} {number}"
            );
        }
        let texts = json!(["+7 926 123-45-67, 8 (495) 111-22-33 доб. 12", null, "нет"]).to_string();
        assert_eq!(
            json_of(
                &object
                    .call("КлючиИндексаТелефонов", &[Val::from(texts.as_str())])
                    .unwrap()
            ),
            json!(["74951112233", "79261234567"])
        );
        let change = json_of(
            &object
                .call(
                    "PhoneIndexChange",
                    &[
                        Val::from(r#"["79261234567","70000000000"]"#),
                        Val::from(texts.as_str()),
                    ],
                )
                .unwrap(),
        );
        assert_eq!(
            change,
            json!({"add": ["74951112233"], "remove": ["70000000000"], "keys": ["74951112233", "79261234567"]})
        );
    }
}

#[test]
fn malformed_texts_are_refused_with_an_actionable_error() {
    let host = Host::load_default();
    let ru = host.create_with("UIScom", Mode::Server, "ru_RU");
    let error = ru
        .call(
            "ИзменениеИндексаТелефонов",
            &[Val::from("[]"), Val::from("{")],
        )
        .unwrap_err();
    assert!(
        error.message().contains("индекса телефонов"),
        "{}",
        error.message()
    );
    let en = host.create_with("Binotel", Mode::Server, "en_US");
    let error = en
        .call("PhoneIndexKeys", &[Val::from(r#"[{"a":1}]"#)])
        .unwrap_err();
    assert!(
        error.message().contains("phone index") && error.message().contains("texts[0]"),
        "{}",
        error.message()
    );
}

/// The facts in the first shape `ТБ_ИндексТелефоновСервер.ФактыМаршрутизации` wrote (an `hours` object with the
/// local `now`; the module now writes `schedule`, `now_utc`, `time_zone` and `calls`, see the test below) are still
/// read by the decision and routed as the docs say.
#[test]
fn the_facts_the_extension_gathers_are_what_the_decision_reads() {
    let host = Host::load_default();
    let binotel = host.create_with("Binotel", Mode::Server, "ru_RU");
    let route = |facts: Value| {
        json_of(
            &binotel
                .call("МаршрутЗвонка", &[Val::from(facts.to_string().as_str())])
                .unwrap_or_else(|e| panic!("{facts}: {}", e.message())),
        )
    };
    let manager = json!({"extension": "801", "available": true, "on_call": false});
    // Found, manager free, no hours constant: his line.
    let facts = json!({"card_found": true, "group": "900", "manager": manager});
    assert_eq!(route(facts)["target"], "manager");
    // The panel's «Не беспокоить» (Недоступен = Истина → available = false).
    let mut away = manager.clone();
    away["available"] = json!(false);
    assert_eq!(
        route(json!({"card_found": true, "group": "900", "manager": away}))["reason"],
        "manager_unavailable"
    );
    // A call of his line answered and not finished in the history.
    let mut busy = manager.clone();
    busy["on_call"] = json!(true);
    assert_eq!(
        route(json!({"card_found": true, "group": "900", "manager": busy}))["reason"],
        "manager_busy"
    );
    // Hours from ТБ_РабочиеЧасы with the session's weekday and time.
    let mut hours = manager.clone();
    hours["hours"] = json!({"days": [1, 2, 3, 4, 5], "from": "09:00", "to": "18:00"});
    let inside = json!({"card_found": true, "group": "900", "manager": hours, "now": {"weekday": 3, "time": "10:15"}});
    assert_eq!(route(inside)["target"], "manager");
    let saturday = json!({"card_found": true, "group": "900", "manager": hours, "now": {"weekday": 6, "time": "10:15"}});
    assert_eq!(route(saturday)["reason"], "out_of_hours");
    // An hours object with no days is never working time (unreadable text is `hours_unreadable`, below).
    let mut unreadable = manager.clone();
    unreadable["hours"] = json!({"days": [], "from": "", "to": ""});
    let facts = json!({"card_found": true, "group": "900", "manager": unreadable, "now": {"weekday": 3, "time": "10:15"}});
    assert_eq!(route(facts)["reason"], "out_of_hours");
    // A card without a manager; an unknown caller without a group: the PBX's own scenario.
    assert_eq!(
        route(json!({"card_found": true, "group": "900"}))["reason"],
        "no_manager"
    );
    assert_eq!(route(json!({"card_found": false}))["target"], "default");
}

/// The facts as the extension now writes them: the schedule text of ТБ_РабочиеЧасы with the UTC instant and the
/// PBX zone (never the session's local time), and the line's recent calls from the history with their last event.
#[test]
fn working_hours_in_the_pbx_zone_and_stale_calls_through_the_library() {
    let host = Host::load_default();
    let uis = host.create_with("UIScom", Mode::Server, "ru_RU");
    let reply = |facts: Value| {
        uis.call(
            "ОтветНаЗапросВызова",
            &[
                Val::from(facts.to_string().as_str()),
                Val::from("ООО Ромашка"),
            ],
        )
        .unwrap_or_else(|e| panic!("{facts}: {}", e.message()))
        .str()
        .to_string()
    };
    // Monday 2026-12-07 06:30 UTC: 09:30 at the PBX (+03:00), 06:30 for a session at UTC.
    let monday = 1_796_625_000_i64;
    let schedule = r#"{"days":[1,2,3,4,5],"from":"09:00","to":"18:00"}"#;
    let facts = |zone: &str, schedule: &str, calls: Value| {
        json!({"card_found": true, "group": "2", "now_utc": monday, "time_zone": zone, "history_now": 10_000,
               "manager": {"extension": "+7 495 987-65-43", "available": true, "schedule": schedule, "calls": calls}})
    };
    assert_eq!(
        reply(facts("+03:00", schedule, json!([]))),
        r#"{"phones":["74959876543"],"operator_text":"ООО Ромашка"}"#
    );
    assert_eq!(
        reply(facts("Z", schedule, json!([]))),
        r#"{"returned_code":2}"#
    );
    assert_eq!(
        reply(facts("+03:00", "{", json!([]))),
        r#"{"returned_code":2}"#
    );
    // Answered, unfinished, last event 10 minutes ago: busy; 2 hours ago: stale, he is free.
    let call = |age: i64| json!([{"talked": true, "finished": false, "last_event": 10_000 - age}]);
    assert_eq!(
        reply(facts("+03:00", schedule, call(600))),
        r#"{"returned_code":2}"#
    );
    assert_eq!(
        reply(facts("+03:00", schedule, call(7_200))),
        r#"{"phones":["74959876543"],"operator_text":"ООО Ромашка"}"#
    );
    // The reasons, as the event log and Binotel's routing see them.
    let binotel = host.create_with("Binotel", Mode::Server, "en_US");
    let reason = |facts: Value| {
        json_of(
            &binotel
                .call("RouteCall", &[Val::from(facts.to_string().as_str())])
                .unwrap(),
        )["reason"]
            .clone()
    };
    assert_eq!(reason(facts("+03:00", "{", json!([]))), "hours_unreadable");
    assert_eq!(
        reason(facts("Europe/Moscow", schedule, json!([]))),
        "hours_unreadable"
    );
    assert_eq!(reason(facts("Z", schedule, json!([]))), "out_of_hours");
    assert_eq!(reason(facts("+03:00", schedule, call(600))), "manager_busy");
}

#[test]
fn working_time_answers_or_says_what_to_fix_in_both_languages() {
    let host = Host::load_default();
    let monday = 1_796_625_000_f64;
    let schedule = r#"{"days":[1,2,3,4,5],"from":"09:00","to":"18:00"}"#;
    for class in ["UIScom", "Binotel"] {
        let ru = host.create_with(class, Mode::Server, "ru_RU");
        let call = |zone: &str, schedule: &str| {
            ru.call(
                "РабочееВремя",
                &[Val::from(monday), Val::from(zone), Val::from(schedule)],
            )
        };
        assert_eq!(
            call("+03:00", schedule).unwrap(),
            Val::from(true),
            "{class}"
        );
        assert_eq!(call("UTC", schedule).unwrap(), Val::from(false), "{class}");
        let error = call("+03:00", r#"{"days":[1],"from":"09:00","to":"25:00"}"#).unwrap_err();
        assert!(
            error.message().contains("рабочие часы") && error.message().contains("25:00"),
            "{}",
            error.message()
        );
        let error = call("Москва", schedule).unwrap_err();
        assert!(
            error.message().contains("часовой пояс"),
            "{}",
            error.message()
        );
        let en = host.create_with(class, Mode::Server, "en_US");
        let error = en
            .call(
                "IsWorkingTime",
                &[
                    Val::from(monday),
                    Val::from("+03:00"),
                    Val::from(r#"{"days":[],"from":"09:00","to":"18:00"}"#),
                ],
            )
            .unwrap_err();
        assert!(
            error.message().contains("working hours") && error.message().contains("weekdays"),
            "{}",
            error.message()
        );
    }
}

#[test]
fn the_rebuild_decision_through_the_library() {
    let host = Host::load_default();
    for (class, method, lang) in [
        ("UIScom", "НужноПерестроитьИндекс", "ru_RU"),
        ("Binotel", "IndexRebuildNeeded", "en_US"),
    ] {
        let object = host.create_with(class, Mode::Server, lang);
        let decide = |facts: Value| {
            json_of(
                &object
                    .call(method, &[Val::from(facts.to_string().as_str())])
                    .unwrap(),
            )
        };
        assert_eq!(
            decide(json!({"telephony_enabled": true, "index_rows": 0, "catalog_has_cards": true})),
            json!({"rebuild": true, "reason": "index_empty"})
        );
        assert_eq!(
            decide(
                json!({"telephony_enabled": true, "index_rows": 0, "catalog_has_cards": true, "rebuild_running": true})
            ),
            json!({"rebuild": false, "reason": "already_running"})
        );
        assert_eq!(
            decide(json!({"telephony_enabled": true, "catalog_changed": true})),
            json!({"rebuild": true, "reason": "catalog_changed"})
        );
        let error = object.call(method, &[Val::from("{")]).unwrap_err();
        assert!(
            error.message().contains("индекса телефонов")
                || error.message().contains("phone index"),
            "{}",
            error.message()
        );
    }
}
