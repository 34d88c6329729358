//! Call statuses through the real built library and the platform-exact test host: `UIScom.СтатусЗвонка` folds a
//! call's normalized events into a record of ТБ_СтатусыЗвонков (the register's field names and values), and
//! `ЗакрытьПропущенные` closes the open missed calls of the number when a callback connects.

use addin_host::{Host, Mode, Val};
use serde_json::{json, Value};

fn json_of(val: &Val) -> Value {
    serde_json::from_str(val.str()).expect("valid JSON")
}

fn event(
    call_id: &str,
    kind: &str,
    direction: &str,
    wait: Option<u64>,
    talk: Option<u64>,
) -> String {
    json!({
        "source": "binotel", "event": kind, "call_id": call_id, "direction": direction,
        "other_party": "+7 (495) 123-45-67", "other_party_digits": "74951234567",
        "started_at": "2026-12-06 10:00:00", "wait_sec": wait, "talk_sec": talk,
        "lost": kind == "lost", "record_urls": [], "raw": null
    })
    .to_string()
}

#[test]
fn a_missed_first_contact_is_lost_until_a_callback_closes_it() {
    let host = Host::load_default();
    let uis = host.create_with("UIScom", Mode::Server, "ru_RU");
    uis.set("ЧасовойПояс", Val::from("+03:00")).unwrap();
    let facts =
        json!({"ПервыйКонтакт": true, "Оператор": "Иванов", "Ответственный": "Петров"}).to_string();
    let rules = json!({"ОкноПерезвонаЧасов": 0, "ПорогОтменыСек": 5}).to_string();
    let ringing = json_of(
        &uis.call(
            "СтатусЗвонка",
            &[
                Val::from(""),
                Val::from(event("m1", "ringing", "in", None, None)),
                Val::from(facts.as_str()),
                Val::from(rules.as_str()),
            ],
        )
        .unwrap(),
    );
    assert_eq!(ringing["Статус"], "НетОтвета");
    assert_eq!(ringing["Пропущенный"], false);
    assert_eq!(ringing["Начало"], "2026-12-06T10:00:00");
    assert_eq!(ringing["ВремяПерезвона"], "0001-01-01T00:00:00");
    // The next event is asked with «not first contact» (the call is in the register now): the flag stays.
    let later_facts = json!({"ПервыйКонтакт": false, "Оператор": "Иванов"}).to_string();
    let lost = json_of(
        &uis.call(
            "СтатусЗвонка",
            &[
                Val::from(ringing.to_string()),
                Val::from(event("m1", "lost", "in", Some(40), None)),
                Val::from(later_facts.as_str()),
                Val::from(rules.as_str()),
            ],
        )
        .unwrap(),
    );
    assert_eq!(lost["Статус"], "Потерян");
    assert_eq!(lost["Пропущенный"], true);
    assert_eq!(lost["ТребуетВнимания"], true);
    assert_eq!(lost["ПервыйКонтакт"], true);
    assert_eq!(lost["НомерКлиента"], "74951234567");
    assert_eq!(lost["Ответственный"], "Петров");
    assert_eq!(lost["ВремяОжидания"], 40);

    let callback = json_of(
        &uis.call(
            "CallStatus",
            &[
                Val::from(""),
                Val::from(event("o1", "finished", "out", Some(5), Some(60))),
                Val::from(json!({"operator": "Сидоров"}).to_string()),
            ],
        )
        .unwrap(),
    );
    assert_eq!(callback["Статус"], "Дозвонились");
    let open = Value::Array(vec![lost.clone()]).to_string();
    let closed = json_of(
        &uis.call(
            "ЗакрытьПропущенные",
            &[
                Val::from(open.as_str()),
                Val::from(callback.to_string()),
                Val::from("2026-12-06 15:00:00"),
                Val::from(rules.as_str()),
            ],
        )
        .unwrap(),
    );
    assert_eq!(closed[0]["ИдЗвонка"], "m1");
    assert_eq!(closed[0]["Статус"], "НетОтвета");
    assert_eq!(closed[0]["Перезвонили"], true);
    assert_eq!(closed[0]["ТребуетВнимания"], false);
    assert_eq!(closed[0]["ПерезвонилПользователь"], "Сидоров");
    assert_eq!(closed[0]["ВремяПерезвона"], "2026-12-06T15:00:00");
    // The next day: closed, but it stays lost.
    let next_day = json_of(
        &uis.call(
            "CloseMissedCalls",
            &[
                Val::from(open.as_str()),
                Val::from(callback.to_string()),
                Val::from("2026-12-07 09:00:00"),
            ],
        )
        .unwrap(),
    );
    assert_eq!(next_day[0]["Статус"], "Потерян");
    assert_eq!(next_day[0]["Перезвонили"], true);
    // Only an answered call closes anything.
    let not_answered = json_of(
        &uis.call(
            "СтатусЗвонка",
            &[
                Val::from(""),
                Val::from(event("o2", "lost", "out", Some(30), None)),
            ],
        )
        .unwrap(),
    );
    assert_eq!(not_answered["Статус"], "НетОтвета");
    let none = json_of(
        &uis.call(
            "ЗакрытьПропущенные",
            &[
                Val::from(open.as_str()),
                Val::from(not_answered.to_string()),
                Val::from("2026-12-06 15:00:00"),
            ],
        )
        .unwrap(),
    );
    assert_eq!(none, json!([]));
    assert_eq!(host.leaked(), (0, 0));
}

#[test]
fn a_short_incoming_call_is_cancelled_and_bad_json_is_named() {
    let host = Host::load_default();
    let uis = host.create_with("UIScom", Mode::Server, "ru_RU");
    let cancelled = json_of(
        &uis.call(
            "СтатусЗвонка",
            &[
                Val::from(""),
                Val::from(event("c1", "lost", "in", Some(2), None)),
            ],
        )
        .unwrap(),
    );
    assert_eq!(cancelled["Статус"], "Отменен");
    assert_eq!(cancelled["Пропущенный"], false);
    let error = uis
        .call(
            "СтатусЗвонка",
            &[
                Val::from("{"),
                Val::from(event("c1", "lost", "in", Some(2), None)),
            ],
        )
        .unwrap_err();
    assert!(
        error.message().contains("запись статуса звонка"),
        "{}",
        error.message()
    );
    let error = uis
        .call("ЗакрытьПропущенные", &[Val::from("{}"), Val::from("")])
        .unwrap_err();
    assert!(
        error.message().contains("запись статуса звонка"),
        "{}",
        error.message()
    );
}

#[test]
fn call_access_turns_roles_and_settings_into_scopes() {
    let host = Host::load_default();
    let uis = host.create_with("UIScom", Mode::Server, "ru_RU");
    let ask = |facts: Value| {
        json_of(
            &uis.call("ПраваНаЗвонки", &[Val::from(facts.to_string())])
                .unwrap(),
        )
    };
    assert_eq!(ask(json!({})), json!({"Звонки": "Свои", "Записи": "Свои"}));
    assert_eq!(
        ask(json!({"РольВсеЗвонки": true, "ДоступКЗаписям": "Нет"})),
        json!({"Звонки": "Все", "Записи": "Нет"})
    );
    assert_eq!(
        ask(json!({"ВидимостьЗвонков": "Группа", "ЕстьГруппа": true, "ДоступКЗаписям": "Все"})),
        json!({"Звонки": "Группа", "Записи": "Группа"})
    );
    // A typo in the setting never widens anything: the role decides.
    assert_eq!(
        ask(json!({"ВидимостьЗвонков": "Всe"})),
        json!({"Звонки": "Свои", "Записи": "Свои"})
    );
    assert_eq!(
        json_of(
            &uis.call(
                "CallAccess",
                &[Val::from(json!({"administrator": true}).to_string())]
            )
            .unwrap()
        ),
        json!({"Звонки": "Все", "Записи": "Все"})
    );
}
