//! UIS call control and availability through the real built library and the platform-exact test host, against
//! the UIS emulator of `tests/support/uis_pbx.rs` (Call API and Data API JSON-RPC with call-session states): for
//! each member success, `invalid_state`, a token refusal, a limit refusal and a timeout, each checked in the
//! exception text, in LastError, in both languages, and never showing the token; and the control buttons' rule
//! (`СостояниеУправленияЗвонком`) against the emulator's call states.

use std::time::Duration;

use addin_host::{Host, Mode, Object, Val};
use serde_json::Value;

#[path = "support/http_emulator.rs"]
mod http_emulator;
#[path = "support/uis_pbx.rs"]
mod uis_pbx;

use uis_pbx::{CallState, UisPbx};

const TOKEN: &str = "uis-control-token-5d1e";

fn object<'h>(host: &'h Host, pbx: &UisPbx, locale: &str) -> Object<'h> {
    let object = host.create_with("UIScom", Mode::Server, locale);
    object
        .set("АдресCallAPI", format!("{}/v4.0", pbx.url).as_str())
        .unwrap();
    object
        .set("АдресDataAPI", format!("{}/v2.0", pbx.url).as_str())
        .unwrap();
    object.set("ТокенДоступа", TOKEN).unwrap();
    object
}

/// The exception text and LastError of a failed call; both must agree and neither may show the token.
fn failure(object: &Object, member: &str, args: &[Val]) -> String {
    let error = object
        .call(member, args)
        .expect_err(&format!("{member} must fail"));
    let message = error.message();
    let last = object.get("LastError").unwrap();
    assert_eq!(last.str(), message, "LastError is the exception text");
    assert!(!message.contains(TOKEN), "{message}");
    message
}

fn ok(object: &Object, member: &str, args: &[Val]) -> Val {
    let value = object
        .call(member, args)
        .unwrap_or_else(|e| panic!("{member}: {}", e.message()));
    assert_eq!(object.get("LastError").unwrap(), Val::from(""));
    value
}

fn s(text: &str) -> Val {
    Val::from(text)
}

#[test]
fn attended_transfer_hold_consult_transfer_or_restore() {
    let pbx = UisPbx::start(TOKEN);
    let host = Host::load_default();
    let uis = object(&host, &pbx, "ru_RU");
    pbx.connect_call(501);

    // Transfer before anything: UIS says invalid_state, the operator is told what to do.
    let message = failure(&uis, "ПереадресоватьРазговор", &[s("501")]);
    assert!(
        message.starts_with("UIScom.ПереадресоватьРазговор: UIS Call API вернул ошибку -32004"),
        "{message}"
    );
    assert!(message.contains("[invalid_state]"), "{message}");
    assert!(message.contains("не в том состоянии"), "{message}");

    assert_eq!(ok(&uis, "УдержатьЗвонок", &[s("501")]), Val::Bool(true));
    assert_eq!(pbx.state(501), Some(CallState::Hold));
    let hold: Vec<String> = pbx.methods();
    assert_eq!(hold, ["/v4.0 transfer.talk", "/v4.0 hold.call"]);
    assert_eq!(
        ok(&uis, "ПозвонитьДляКонсультации", &[s("501"), s("102")]),
        Val::Bool(true)
    );
    pbx.answer_consultation(501);
    assert_eq!(pbx.state(501), Some(CallState::OperatorTalk));
    // The consulted colleague declines: back to the client, then on hold again and transfer.
    assert_eq!(ok(&uis, "ВернутьРазговор", &[s("501")]), Val::Bool(true));
    assert_eq!(pbx.state(501), Some(CallState::Talk));
    let message = failure(&uis, "ВернутьРазговор", &[s("501")]);
    assert!(message.contains("invalid_state"), "{message}");
    ok(&uis, "HoldCall", &[s("501"), s("Минуту, соединяю")]);
    ok(&uis, "MakeConsultationCall", &[s("501"), s("103")]);
    assert_eq!(ok(&uis, "TransferTalk", &[s("501")]), Val::Bool(true));
    assert_eq!(pbx.state(501), Some(CallState::Transferred));
    // The finished call is unknown to UIS afterwards.
    let message = failure(&uis, "ЗавершитьЗвонок", &[s("501")]);
    assert!(message.contains("call_session_not_found"), "{message}");
    assert!(message.contains("UIS не знает этот звонок"), "{message}");

    // What went over the wire: the documented bodies, the token only in params.access_token.
    let seen: Vec<Value> = pbx
        .seen
        .try_iter()
        .map(|s| serde_json::from_str(&s.body).unwrap())
        .collect();
    let hold = seen
        .iter()
        .find(|b| {
            b["method"] == "hold.call"
                && b["params"]["contact_message"]["value"] == "Минуту, соединяю"
        })
        .expect("the second hold.call");
    assert_eq!(hold["params"]["contact_message"]["type"], "tts");
    assert_eq!(hold["params"]["call_session_id"], 501);
    assert_eq!(hold["params"]["access_token"], TOKEN);
    let make = seen.iter().find(|b| b["method"] == "make.call").unwrap();
    assert_eq!(make["params"]["to"], "102");
    let diagnostics = uis.call("Diagnostics", &[]).unwrap();
    assert!(!diagnostics.str().contains(TOKEN));

    // A session id that is no number is refused before anything is sent.
    let message = failure(&uis, "УдержатьЗвонок", &[s("звонок-1")]);
    assert!(message.contains("call_session_id"), "{message}");
    assert!(pbx.methods().is_empty());
}

#[test]
fn blind_transfer_and_its_clean_up() {
    let pbx = UisPbx::start(TOKEN);
    let host = Host::load_default();
    let uis = object(&host, &pbx, "en_US");
    pbx.connect_call(601);
    assert_eq!(
        ok(&uis, "BlindTransfer", &[s("601"), s("104")]),
        Val::Bool(true)
    );
    assert_eq!(
        pbx.methods(),
        ["/v4.0 hold.call", "/v4.0 make.call", "/v4.0 transfer.talk"]
    );
    assert_eq!(pbx.state(601), Some(CallState::Transferred));

    // An unreachable number: make.call fails, the client comes off hold, the make.call error is reported.
    pbx.connect_call(602);
    pbx.account
        .lock()
        .unwrap()
        .inactive_numbers
        .push("999".into());
    let message = failure(&uis, "ПереадресоватьЗвонок", &[s("602"), s("999")]);
    assert!(
        message.starts_with("UIScom.BlindTransfer: UIS Call API returned error -32602"),
        "{message}"
    );
    assert!(message.contains("no_active_phone_number"), "{message}");
    assert_eq!(
        pbx.methods(),
        ["/v4.0 hold.call", "/v4.0 make.call", "/v4.0 unhold.call"]
    );
    assert_eq!(pbx.state(602), Some(CallState::Talk));

    // A consultation in one call: hold and the second leg; then the operator restores the talk.
    pbx.connect_call(604);
    assert_eq!(
        ok(&uis, "StartConsultation", &[s("604"), s("105")]),
        Val::Bool(true)
    );
    assert_eq!(pbx.methods(), ["/v4.0 hold.call", "/v4.0 make.call"]);
    assert_eq!(pbx.state(604), Some(CallState::Dialing));
    ok(&uis, "ВернутьРазговор", &[s("604")]);
    assert_eq!(pbx.state(604), Some(CallState::Talk));
    let message = failure(&uis, "НачатьКонсультацию", &[s("604"), s("999")]);
    assert!(message.contains("no_active_phone_number"), "{message}");
    assert_eq!(
        pbx.state(604),
        Some(CallState::Talk),
        "the client is off hold again"
    );
    let _ = pbx.methods();

    // A call already on hold (the operator pressed hold in the softphone): invalid_state at once.
    pbx.account
        .lock()
        .unwrap()
        .sessions
        .insert(603, CallState::Hold);
    let message = failure(&uis, "BlindTransfer", &[s("603"), s("104")]);
    assert!(message.contains("[invalid_state]"), "{message}");
    assert!(
        message.contains("not in a state that allows this step"),
        "{message}"
    );
    assert_eq!(pbx.methods(), ["/v4.0 hold.call"]);
}

#[test]
fn release_and_availability() {
    let pbx = UisPbx::start(TOKEN);
    pbx.account.lock().unwrap().employees.insert(25, true);
    pbx.account.lock().unwrap().employees.insert(26, true);
    let host = Host::load_default();
    let uis = object(&host, &pbx, "ru_RU");
    pbx.connect_call(701);
    assert_eq!(ok(&uis, "ЗавершитьЗвонок", &[s("701")]), Val::Bool(true));
    assert_eq!(pbx.state(701), Some(CallState::Released));

    assert_eq!(ok(&uis, "ДоступенДляЗвонков", &[s("25")]), Val::Bool(true));
    assert_eq!(
        ok(
            &uis,
            "УстановитьДоступностьДляЗвонков",
            &[s("25"), Val::Bool(false)]
        ),
        Val::Bool(false)
    );
    assert_eq!(ok(&uis, "CallsAvailable", &[s("25")]), Val::Bool(false));
    assert!(
        pbx.account.lock().unwrap().employees[&26],
        "the other employee is untouched"
    );
    let seen: Vec<(String, Value)> = pbx
        .seen
        .try_iter()
        .map(|s| (s.path, serde_json::from_str(&s.body).unwrap()))
        .collect();
    let update = seen
        .iter()
        .find(|(_, b)| b["method"] == "update.employees")
        .unwrap();
    assert_eq!(update.0, "/v2.0");
    assert_eq!(update.1["params"]["id"], 25);
    assert_eq!(update.1["params"]["calls_available"], false);

    // An employee UIS does not have.
    let message = failure(&uis, "ДоступенДляЗвонков", &[s("27")]);
    assert!(
        message.contains("UIS Data API") && message.contains("27"),
        "{message}"
    );
    let message = failure(
        &uis,
        "УстановитьДоступностьДляЗвонков",
        &[s("27"), Val::Bool(true)],
    );
    assert!(message.contains("invalid_parameter_value"), "{message}");
}

#[test]
fn token_limit_component_and_timeout_refusals_are_actionable() {
    let pbx = UisPbx::start(TOKEN);
    pbx.account.lock().unwrap().employees.insert(25, true);
    let host = Host::load_default();
    let uis = object(&host, &pbx, "ru_RU");
    pbx.connect_call(801);

    // Every member, with a token UIS does not know.
    pbx.account.lock().unwrap().token = "another-token".into();
    let members: [(&str, Vec<Val>); 11] = [
        ("УдержатьЗвонок", vec![s("801")]),
        ("НачатьКонсультацию", vec![s("801"), s("102")]),
        ("СнятьСУдержания", vec![s("801")]),
        ("ПозвонитьДляКонсультации", vec![s("801"), s("102")]),
        ("ПереадресоватьРазговор", vec![s("801")]),
        ("ВернутьРазговор", vec![s("801")]),
        ("ПереадресоватьЗвонок", vec![s("801"), s("102")]),
        ("ЗавершитьЗвонок", vec![s("801")]),
        ("ДоступенДляЗвонков", vec![s("25")]),
        (
            "УстановитьДоступностьДляЗвонков",
            vec![s("25"), Val::Bool(false)],
        ),
        ("УдержатьЗвонок", vec![s("801"), s("7"), s("media")]),
    ];
    for (member, args) in &members {
        let message = failure(&uis, member, args);
        assert!(message.contains("-32001"), "{member}: {message}");
        assert!(
            message.contains("access_token_invalid"),
            "{member}: {message}"
        );
        assert!(
            message.contains("администратор выпускает новый постоянный токен"),
            "{member}: {message}"
        );
    }
    uis.set_locale("en_US");
    let message = failure(&uis, "HoldCall", &[s("801")]);
    assert!(
        message.contains("issues a new permanent token in the UIS cabinet"),
        "{message}"
    );
    uis.set_locale("ru_RU");
    pbx.account.lock().unwrap().token = TOKEN.into();
    assert_eq!(pbx.state(801), Some(CallState::Talk), "nothing changed");

    // No token set at all: refused before sending, naming the property to set.
    let bare = host.create_with("UIScom", Mode::Server, "ru_RU");
    bare.set("АдресCallAPI", format!("{}/v4.0", pbx.url).as_str())
        .unwrap();
    let _ = pbx.methods();
    let message = bare
        .call("ЗавершитьЗвонок", &[s("801")])
        .unwrap_err()
        .message();
    assert!(message.contains("access_token"), "{message}");
    assert!(pbx.methods().is_empty());

    // The minute's points are spent.
    pbx.account.lock().unwrap().minute_remaining = 0;
    for (member, args) in &members[..10] {
        let message = failure(&uis, member, args);
        assert!(
            message.contains("-32029") && message.contains("limit_exceeded"),
            "{member}: {message}"
        );
        assert!(
            message.contains("подождите минуту и повторите"),
            "{member}: {message}"
        );
    }
    pbx.account.lock().unwrap().minute_remaining = 1000;

    // «Call API Управление вызовами» is not enabled: the control methods name the component.
    pbx.account.lock().unwrap().call_management = false;
    let message = failure(&uis, "УдержатьЗвонок", &[s("801")]);
    assert!(message.contains("component_disabled"), "{message}");
    assert!(
        message.contains("«Call API Управление вызовами»"),
        "{message}"
    );
    assert_eq!(
        ok(&uis, "ЗавершитьЗвонок", &[s("801")]),
        Val::Bool(true),
        "release.call is in the basic set"
    );
    pbx.account.lock().unwrap().call_management = true;

    // UIS stalls: each member fails within the timeout instead of blocking the 1C thread.
    pbx.connect_call(802);
    uis.set("Таймаут", 1).unwrap();
    pbx.account.lock().unwrap().stall = Some(Duration::from_millis(1600));
    for (member, args) in [
        ("УдержатьЗвонок", vec![s("802")]),
        ("ПереадресоватьЗвонок", vec![s("802"), s("102")]),
        ("ДоступенДляЗвонков", vec![s("25")]),
        (
            "УстановитьДоступностьДляЗвонков",
            vec![s("25"), Val::Bool(true)],
        ),
    ] {
        // Let the emulator finish the previous stalled answer first.
        std::thread::sleep(Duration::from_millis(1700));
        let started = std::time::Instant::now();
        let message = failure(&uis, member, &args);
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{member} took {:?}",
            started.elapsed()
        );
        assert!(
            message.contains("не ответил вовремя"),
            "{member}: {message}"
        );
        assert!(message.contains("увеличьте Таймаут"), "{member}: {message}");
    }
    std::thread::sleep(Duration::from_millis(1700));
    uis.set_locale("en_US");
    let message = failure(&uis, "ReleaseCall", &[s("802")]);
    assert!(
        message.starts_with("UIScom.ReleaseCall: UIS Call API did not answer in time"),
        "{message}"
    );
}

/// The offered actions of `СостояниеУправленияЗвонком` (through the built library) against the emulator's call
/// states: in each state every offered action is accepted by UIS and every other one refused, so a button the
/// card shows works and a button it hides would not have.
#[test]
fn offered_actions_are_exactly_those_uis_accepts() {
    let pbx = UisPbx::start(TOKEN);
    let host = Host::load_default();
    let uis = object(&host, &pbx, "ru_RU");
    let state = |previous: &str, event: &str, action: &str| -> String {
        ok(
            &uis,
            "СостояниеУправленияЗвонком",
            &[s(previous), s(event), s(action)],
        )
        .str()
        .to_string()
    };
    let offered = |state: &str| -> Vec<String> {
        let json: Value = serde_json::from_str(state).expect("state JSON");
        json["offered"]
            .as_array()
            .expect("offered")
            .iter()
            .map(|a| a.as_str().unwrap_or_default().to_string())
            .collect()
    };
    let talking = state("", "answered", "");
    let consulting = state(&talking, "", "Консультация");
    let transferred = state(&consulting, "", "Соединить");
    let finished = state(&talking, "finished", "");
    let cases = [
        (CallState::Talk, talking),
        (CallState::Dialing, consulting.clone()),
        // The colleague answered: still this operator's consultation.
        (CallState::OperatorTalk, consulting),
        (CallState::Transferred, transferred),
        (CallState::Released, finished),
    ];
    let actions: [(&str, &str, &[&str]); 5] = [
        ("Консультация", "НачатьКонсультацию", &["102"]),
        ("Соединить", "ПереадресоватьРазговор", &[]),
        ("Вернуть", "ВернутьРазговор", &[]),
        ("Переадресовать", "ПереадресоватьЗвонок", &["104"]),
        ("Завершить", "ЗавершитьЗвонок", &[]),
    ];
    let mut session = 700;
    for (call_state, control) in cases {
        let offered = offered(&control);
        for (action, member, extra) in actions {
            session += 1;
            pbx.account
                .lock()
                .unwrap()
                .sessions
                .insert(session, call_state);
            let mut args = vec![s(&session.to_string())];
            args.extend(extra.iter().map(|a| s(a)));
            let accepted = uis.call(member, &args).is_ok();
            assert_eq!(
                accepted,
                offered.iter().any(|o| o == action),
                "{call_state:?}: {action} offered {offered:?}, UIS accepted: {accepted}"
            );
            let _ = pbx.methods();
        }
    }
    // A name that is no action is the 1C developer's error, told in the session's language.
    let en = object(&host, &pbx, "en_US");
    let message = failure(&en, "CallControlState", &[s(""), s(""), s("Hold")]);
    assert!(message.starts_with("UIScom.CallControlState:"), "{message}");
    assert!(message.contains("Hold"), "{message}");
}
