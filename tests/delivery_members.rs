//! The delivery members of class Centrifugo (issue 17) through the built library and the platform-exact test host:
//! ВыбратьПутиДоставки / ChooseDeliveryPaths, КарточкаОжидания / PendingCard, СеансыОператора / OperatorSessions —
//! results as the core computes them, texts in the SetLocale language, bad input an AddError with LastError set and
//! never a panic.

use addin_host::{Host, Mode, Val};
use serde_json::{json, Value};
use tb_calls::delivery;

fn json_of(val: &Val) -> Value {
    serde_json::from_str(val.str()).expect("valid JSON")
}

const WEB_FACTS: &str = r#"{"client":"web","addin":false,"platform":"8.3.27.1935","collaboration":true,"file_base":false,"centrifugo":true,"disabled":["collaboration"]}"#;

#[test]
fn choose_delivery_paths_returns_the_plan_with_texts_in_the_users_language() {
    let host = Host::load_default();
    let object = host.create_with("Centrifugo", Mode::Server, "ru_RU");
    let plan = json_of(
        &object
            .call("ВыбратьПутиДоставки", &[WEB_FACTS.into()])
            .unwrap(),
    );
    assert_eq!(plan["primary"], "notifications");
    assert_eq!(plan["fanout"], json!(["notifications"]));
    assert_eq!(plan["poll_seconds"], 0);
    assert_eq!(plan["safety_poll_seconds"], 60);
    let paths = plan["paths"].as_array().unwrap();
    let names: Vec<&str> = paths.iter().map(|p| p["path"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["addin", "notifications", "collaboration", "polling"]
    );
    assert_eq!(paths[0]["available"], false);
    assert_eq!(paths[0]["reason"], "web_client_no_addin");
    assert_eq!(
        paths[0]["reason_text"],
        "веб-клиент не может подключить внешнюю компоненту"
    );
    assert_eq!(paths[2]["reason"], "switched_off");
    assert_eq!(paths[2]["reason_text"], "отключён администратором");

    // The same plan as the core's, field for field but the texts.
    let facts = delivery::facts_from_json(WEB_FACTS).unwrap();
    let mut core = delivery::plan_json(&delivery::choose_paths(&facts));
    let mut without_texts = plan.clone();
    for p in without_texts["paths"].as_array_mut().unwrap() {
        p.as_object_mut().unwrap().remove("reason_text");
    }
    assert_eq!(without_texts, core);

    // English after SetLocale.
    object.set_locale("en_US");
    let plan = json_of(
        &object
            .call("ChooseDeliveryPaths", &[WEB_FACTS.into()])
            .unwrap(),
    );
    assert_eq!(
        plan["paths"][0]["reason_text"],
        "the web client cannot load the add-in"
    );

    // A thin client with the add-in: the add-in first, every push path in the fan-out.
    let thin = r#"{"client":"thin","addin":true,"platform":"8.5.1.1119","collaboration":true,"centrifugo":true}"#;
    let plan = json_of(&object.call("ChooseDeliveryPaths", &[thin.into()]).unwrap());
    assert_eq!(plan["primary"], "addin");
    assert_eq!(
        plan["fanout"],
        json!(["addin", "notifications", "collaboration"])
    );
    core = delivery::plan_json(&delivery::choose_paths(
        &delivery::facts_from_json(thin).unwrap(),
    ));
    assert_eq!(plan["fanout"], core["fanout"]);
}

#[test]
fn bad_input_is_an_error_the_developer_can_act_on() {
    let host = Host::load_default();
    let object = host.create_with("Centrifugo", Mode::Server, "ru_RU");
    let cases: [(&str, Vec<Val>, &str); 8] = [
        (
            "ВыбратьПутиДоставки",
            vec!["{oops".into()],
            "факты сеанса: не тот JSON",
        ),
        (
            "ВыбратьПутиДоставки",
            vec![r#"{"client":"tablet"}"#.into()],
            "факты сеанса: не тот JSON",
        ),
        ("ВыбратьПутиДоставки", vec!["".into()], "факты сеанса"),
        (
            "КарточкаОжидания",
            vec!["[1,2]".into(), Val::Int(60), Val::Int(0)],
            "событие звонка: не JSON-объект",
        ),
        (
            "КарточкаОжидания",
            vec![r#"{"state":"ringing"}"#.into(), Val::Int(60), Val::Int(0)],
            "событие звонка: нет call_id",
        ),
        (
            "КарточкаОжидания",
            vec![
                r#"{"call_id":"1","state":"boom"}"#.into(),
                Val::Int(60),
                Val::Int(0),
            ],
            "«boom» - не состояние звонка",
        ),
        (
            "СеансыОператора",
            vec!["Иванов".into(), r#"{"number":1}"#.into()],
            "сеансы: не тот JSON",
        ),
        (
            "СеансыОператора",
            vec!["Иванов".into(), r#"[{"number":-1,"user":"x"}]"#.into()],
            "сеансы: не тот JSON",
        ),
    ];
    for (member, args, expected) in cases {
        let error = object.call(member, &args).unwrap_err();
        assert!(error.exception, "{member}: an exception in 1C");
        assert!(
            error.message().contains(expected),
            "{member}: {}",
            error.message()
        );
        assert!(
            error.message().starts_with("Centrifugo."),
            "{}",
            error.message()
        );
        let last = object.get("ОписаниеОшибки").unwrap();
        assert!(last.str().contains(expected), "{member}: {}", last.str());
    }
    object.set_locale("en_US");
    let error = object
        .call("PendingCard", &["{}".into(), Val::Int(60), Val::Int(0)])
        .unwrap_err();
    assert!(
        error.message().contains("call_id is missing or empty"),
        "{}",
        error.message()
    );
    // The object still works after the errors.
    assert!(object
        .call("ChooseDeliveryPaths", &[WEB_FACTS.into()])
        .is_ok());
    assert_eq!(object.done().platform_calls_after_done, 0);
}

#[test]
fn pending_card_is_the_small_record_of_a_call() {
    let host = Host::load_default();
    let object = host.create_with("Centrifugo", Mode::Server, "ru_RU");
    let event = json!({"source": "uiscom", "event": "ringing", "call_id": "3001", "caller": "+7 495 123-45-67",
                       "callee": "101", "name": "ООО Ромашка", "card": "e1cib/data/Справочник.Контрагенты?ref=1",
                       "raw": {"big": "x".repeat(10_000)}});
    let now = 1_800_000_000_123_i64;
    let card = object
        .call(
            "КарточкаОжидания",
            &[event.to_string().into(), Val::Int(90), Val::Num(now as f64)],
        )
        .unwrap();
    assert_eq!(
        json_of(&card),
        json!({"call_id": "3001", "state": "ringing", "direction": "in", "caller": "+7 495 123-45-67",
               "called": "101", "other": "+7 495 123-45-67", "name": "ООО Ромашка",
               "card": "e1cib/data/Справочник.Контрагенты?ref=1", "at_ms": now, "expires_ms": now + 90_000})
    );
    // An outgoing call: the popup shows whom the operator dials, not his own extension.
    let outgoing = json!({"call_id": "3002", "event": "ringing", "direction": "out", "caller": "101",
                          "callee": "+7 900 111-22-33"});
    let card = object
        .call(
            "PendingCard",
            &[
                outgoing.to_string().into(),
                Val::Int(0),
                Val::Num(now as f64),
            ],
        )
        .unwrap();
    let card = json_of(&card);
    assert_eq!(
        (card["direction"].as_str(), card["other"].as_str()),
        (Some("out"), Some("+7 900 111-22-33"))
    );
    // A huge event still gives at most 1 KB (UTF-8 bytes), valid JSON, every key present.
    let huge = json!({"call_id": "я".repeat(1000), "state": "answered", "caller": "😀".repeat(3000),
                      "called": "日".repeat(3000), "name": "Ж".repeat(3000), "card": "\"".repeat(3000)});
    let card = object
        .call(
            "PendingCard",
            &[huge.to_string().into(), Val::Int(0), Val::Num(now as f64)],
        )
        .unwrap();
    assert!(
        card.str().len() <= delivery::CARD_MAX_BYTES,
        "{}",
        card.str().len()
    );
    let card = json_of(&card);
    assert_eq!(card["state"], "answered");
    assert_eq!(
        card["expires_ms"],
        now + delivery::DEFAULT_MAX_AGE_SECS * 1000
    );
    assert_eq!(card.as_object().unwrap().len(), 10);
}

#[test]
fn operator_sessions_are_only_the_operators_own_client_sessions() {
    let host = Host::load_default();
    let object = host.create_with("Centrifugo", Mode::Server, "en_US");
    let sessions = json!([
        {"number": 12, "user": "Иванов", "app": "1CV8C"},
        {"number": 13, "user": "Иванов", "app": "WebClient"},
        {"number": 14, "user": "Иванов", "app": "BackgroundJob"},
        {"number": 15, "user": "Иванов", "app": "HTTPServiceConnection"},
        {"number": 16, "user": "Иванов", "app": "COMConnection"},
        {"number": 17, "user": "Петров", "app": "1CV8C"},
        {"number": 18, "user": "Иванов", "app": "1CV8"},
        {"number": 19, "user": "Иванов", "app": "Designer"},
        {"number": 20, "user": "Иванов", "app": "WSConnection"}
    ]);
    let numbers = object
        .call(
            "OperatorSessions",
            &["Иванов".into(), sessions.to_string().into()],
        )
        .unwrap();
    assert_eq!(json_of(&numbers), json!([12, 13, 18]));
    let numbers = object
        .call("СеансыОператора", &["".into(), sessions.to_string().into()])
        .unwrap();
    assert_eq!(json_of(&numbers), json!([]));
    let numbers = object
        .call("СеансыОператора", &["Петров".into(), "[]".into()])
        .unwrap();
    assert_eq!(json_of(&numbers), json!([]));
}
