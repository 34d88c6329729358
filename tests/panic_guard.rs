//! No panic crosses the FFI boundary: every entry point is forced to panic in turn through the
//! library's fault-injection switch, and the host must see a failure, never an unwind or abort.
//! The user sees a fixed text and a code; the payload goes to the log only, under the same code and scrubbed
//! of the configured secrets (a slicing panic prints up to 256 bytes of the string it sliced).
//! One test function: the switch is a process-wide environment variable.

use std::time::Duration;

use addin_host::{Host, Mode, Object, Val};
use serde_json::Value;

const VARIABLE: &str = "TELEPHONYBRIDGE_FAULT_INJECTION";

fn inject(entries: &str) {
    std::env::set_var(VARIABLE, entries);
}

#[test]
fn a_panic_in_any_entry_point_becomes_an_error_and_the_object_keeps_working() {
    inject("none");
    let host = Host::load_default();
    let object = host.create("Centrifugo");
    let log = std::env::temp_dir().join(format!("tb-panic-guard-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    object.set("LogFile", log.to_str().unwrap()).unwrap();
    // A configured secret that the payload quotes: the log must get the payload without it.
    object.set("ApiKey", "fault inj").unwrap();

    inject("CallAsFunc");
    let error = object.call("Diagnostics", &[]).unwrap_err();
    assert!(error.exception);
    let added = error.errors.last().expect("AddError");
    assert_eq!(added.code, 1006);
    assert_eq!(added.source, "TelephonyBridge.Centrifugo");
    let code = panic_code(
        &added.description,
        "Centrifugo.CallAsFunc: внутренняя ошибка компоненты (код ",
        "); объект продолжает работу, сообщите код, приложив журнал",
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    let line: Value = logged
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["msg"] == "panic")
        .unwrap_or_else(|| panic!("no panic line in the log: {logged}"));
    assert_eq!(line["code"], code.as_str(), "{line}");
    assert_eq!(line["entry"], "CallAsFunc", "{line}");
    let detail = line["detail"].as_str().unwrap();
    assert!(
        detail.contains("ected in CallAsFunc") && !detail.contains("fault"),
        "the payload is logged, scrubbed: {detail}"
    );
    assert!(!logged.contains("fault inj"), "{logged}");
    assert_eq!(
        object.get("ОписаниеОшибки").unwrap(),
        Val::from(added.description.as_str())
    );

    inject("CallAsProc");
    assert!(object.call_proc("RaiseTestEvents", &[Val::Int(1)]).is_err());

    inject("GetPropVal");
    let error = object.get("Version").unwrap_err();
    let other = panic_code(
        &error.message(),
        "Centrifugo.GetPropVal: внутренняя ошибка компоненты (код ",
        "); объект продолжает работу, сообщите код, приложив журнал",
    );
    assert_ne!(other, code, "every panic has its own code");

    inject("SetPropVal");
    assert!(object.set("LogLevel", "info").is_err());

    inject("FindMethod,FindProp");
    assert_eq!(object.find_method("Diagnostics"), None);
    assert_eq!(object.find_prop("Version"), None);

    inject("GetNParams,HasRetVal,GetNMethods,GetNProps");
    assert_eq!(object.n_params(1), 0);
    assert!(!object.has_ret_val(0));
    assert_eq!(object.n_methods(), 0);
    assert_eq!(object.n_props(), 0);

    inject("GetParamDefValue");
    assert_eq!(object.param_default(1, 0), None);

    inject("GetMethodName,GetPropName,IsPropReadable,IsPropWritable");
    assert!(object
        .method_names()
        .iter()
        .all(|(en, ru)| en.is_empty() && ru.is_empty()));
    assert!(object.prop_names().iter().all(|p| !p.2 && !p.3));

    inject("SetLocale");
    object.set_locale("en_US"); // must simply not unwind

    // Everything works again once the faults stop.
    inject("none");
    assert_eq!(
        object.get("Version").unwrap(),
        Val::from(env!("CARGO_PKG_VERSION"))
    );
    object.call_proc("RaiseTestEvents", &[Val::Int(2)]).unwrap();
    assert_eq!(object.wait_events(2, Duration::from_secs(5)).len(), 2);

    inject("Done");
    let teardown = object.done();
    assert_eq!(teardown.platform_calls_after_done, 0);

    // A panic in a worker thread: the object is marked failed, an Error event says so, and every later call
    // that needs the thread reports it in the object's language (it once left a silent, dead object).
    inject("tb-centrifugo-ws,tb-connect-agent");
    for (locale, centrifugo, agent, tail) in [
        (
            "ru_RU",
            "внутренняя ошибка потока клиента (код ",
            "внутренняя ошибка потока агента (код ",
            "); создайте объект заново и сообщите код, приложив журнал",
        ),
        (
            "en_US",
            "internal error in the client thread (code ",
            "internal error in the agent worker thread (code ",
            "); create the object again and report the code with the log",
        ),
    ] {
        let client = host.create_with("Centrifugo", Mode::Client, locale);
        client
            .call_proc("Connect", &["ws://127.0.0.1:9/connection/websocket".into()])
            .unwrap();
        let event = failure_event(&client);
        assert_eq!(event["type"], "internal", "{event}");
        let message = event["message"].as_str().unwrap().to_string();
        panic_code(&message, centrifugo, tail);
        expect_refusal(&client, "Subscribe", &["news".into()], &message);
        expect_refusal(&client, "Disconnect", &[], &message);
        let diagnostics = client.call("Diagnostics", &[]).unwrap();
        assert!(
            diagnostics.str().contains("\"thread_failed\":true"),
            "{}",
            diagnostics.str()
        );
        assert_eq!(client.done().platform_calls_after_done, 0);

        let softphone = host.create_with("ConnectAgent", Mode::Client, locale);
        let opened = softphone
            .call("ConnectToAgent", &["nobody".into()])
            .unwrap();
        assert_eq!(opened, Val::Bool(false));
        let event = failure_event(&softphone);
        assert_eq!(event["Code"], "InternalError", "{event}");
        let description = event["Description"].as_str().unwrap().to_string();
        panic_code(&description, agent, tail);
        expect_refusal(
            &softphone,
            "ChangeOnlineStatus",
            &["".into(), "Away".into()],
            &description,
        );
        assert_eq!(softphone.get("Connected").unwrap(), Val::Bool(false));
        assert_eq!(softphone.done().platform_calls_after_done, 0);
    }

    // Faults in Init surface as a failed Init, not a crash.
    inject("none");
    let fresh = host.create("UIScom");
    inject("RegisterExtensionAs,GetInfo");
    drop(fresh); // Done + DestroyObject with faults active in unrelated entries
    inject("none");
    assert_eq!(host.leaked(), (0, 0));
}

/// The code in `text`, which must be `head` + eight hex digits + `tail` and nothing of the payload.
fn panic_code(text: &str, head: &str, tail: &str) -> String {
    let code = text
        .strip_prefix(head)
        .and_then(|rest| rest.strip_suffix(tail))
        .unwrap_or_else(|| panic!("not «{head}<code>{tail}»: {text}"));
    assert!(
        code.len() == 8 && code.chars().all(|c| c.is_ascii_hexdigit()),
        "{text}"
    );
    assert!(
        !text.contains("fault injected"),
        "the payload is for the log only: {text}"
    );
    code.to_string()
}

fn failure_event(object: &Object) -> Value {
    let event = object
        .wait_event(Duration::from_secs(10), |e| e.name == "Error")
        .unwrap_or_else(|| panic!("no Error event: {:?}", object.take_events()));
    serde_json::from_str(&event.data).unwrap()
}

fn expect_refusal(object: &Object, method: &str, args: &[Val], expected: &str) {
    let refused = object.call_proc(method, args).unwrap_err();
    assert!(refused.exception);
    assert!(
        refused.message().ends_with(expected),
        "{}",
        refused.message()
    );
    assert_eq!(
        object.get("LastError").unwrap(),
        Val::from(refused.message().as_str())
    );
}
