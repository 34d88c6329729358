//! No panic crosses the FFI boundary: every entry point is forced to panic in turn through the
//! library's fault-injection switch, and the host must see a failure, never an unwind or abort.
//! One test function: the switch is a process-wide environment variable.

use std::time::Duration;

use addin_host::{Host, Val};

const VARIABLE: &str = "TELEPHONYBRIDGE_FAULT_INJECTION";

fn inject(entries: &str) {
    std::env::set_var(VARIABLE, entries);
}

#[test]
fn a_panic_in_any_entry_point_becomes_an_error_and_the_object_keeps_working() {
    inject("none");
    let host = Host::load_default();
    let object = host.create("Centrifugo");

    inject("CallAsFunc");
    let error = object.call("Diagnostics", &[]).unwrap_err();
    assert!(error.exception);
    let added = error.errors.last().expect("AddError");
    assert_eq!(added.code, 1006);
    assert_eq!(added.source, "TelephonyBridge.Centrifugo");
    assert!(
        added.description.starts_with(
            "Centrifugo.CallAsFunc: внутренняя ошибка компоненты (fault injected in CallAsFunc)"
        ),
        "{}",
        added.description
    );
    assert_eq!(
        object.get("ОписаниеОшибки").unwrap(),
        Val::from(added.description.as_str())
    );

    inject("CallAsProc");
    assert!(object.call_proc("RaiseTestEvents", &[Val::Int(1)]).is_err());

    inject("GetPropVal");
    let error = object.get("Version").unwrap_err();
    assert!(error.message().contains("fault injected in GetPropVal"));

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

    // Faults in Init surface as a failed Init, not a crash.
    inject("none");
    let fresh = host.create("UIScom");
    inject("RegisterExtensionAs,GetInfo");
    drop(fresh); // Done + DestroyObject with faults active in unrelated entries
    inject("none");
    assert_eq!(host.leaked(), (0, 0));
}
