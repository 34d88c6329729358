//! The add-in core through the real built library and a platform-exact host.

use std::time::{Duration, Instant};

use addin_host::{Host, Mode, Val};

const CLASSES: [&str; 4] = ["ConnectAgent", "Centrifugo", "UIScom", "Binotel"];

fn json(val: &Val) -> serde_json::Value {
    serde_json::from_str(val.str()).expect("valid JSON")
}

#[test]
fn exports_and_creation_follow_the_platform_sequence() {
    let host = Host::load_default();
    assert_eq!(host.class_names, CLASSES);
    assert_eq!(host.capabilities, Some(3));
    assert_eq!(host.attach_type, Some(3), "AttachType::Any");
    for class in CLASSES {
        let object = host.create(class);
        assert_eq!(object.extension_name, class);
        assert_eq!(object.info, 2000);
        assert_eq!(object.depth_requests(), vec![128]);
        assert_eq!(object.event_buffer_depth(), 128);
        let teardown = object.done();
        assert_eq!(teardown.platform_calls_after_done, 0);
    }
    assert_eq!(host.leaked(), (0, 0), "every returned string was freed");
    assert_eq!(host.bad_frees(), 0);
}

#[test]
fn every_member_has_both_names_and_is_found_case_insensitively() {
    let host = Host::load_default();
    for class in CLASSES {
        let object = host.create(class);
        let methods = object.method_names();
        assert!(methods.len() >= 2, "{class} has the common methods");
        for (index, (en, ru)) in methods.iter().enumerate() {
            assert!(!en.is_empty() && !ru.is_empty(), "{class} method {index}");
            assert!(en.is_ascii(), "{class}.{en}: alias 0 is English");
            assert!(
                ru.chars()
                    .any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap())),
                "{class}.{ru}: alias 1 is Russian"
            );
            for name in [en.clone(), ru.clone(), en.to_uppercase(), ru.to_lowercase()] {
                assert_eq!(object.find_method(&name), Some(index), "{class}.{name}");
            }
            // Defaults exist exactly for a suffix of the parameters (optional ones come last).
            let n = object.n_params(index);
            let defaults: Vec<bool> = (0..n)
                .map(|p| object.param_default(index, p).is_some())
                .collect();
            assert!(
                defaults.windows(2).all(|w| !w[0] || w[1]),
                "{class}.{en}: optional parameters come last: {defaults:?}"
            );
        }
        let props = object.prop_names();
        for (index, (en, ru, readable, writable)) in props.iter().enumerate() {
            assert!(en.is_ascii(), "{class}.{en}");
            assert!(readable | writable, "{class}.{en} is usable");
            for name in [en.clone(), ru.clone(), en.to_lowercase(), ru.to_uppercase()] {
                assert_eq!(object.find_prop(&name), Some(index), "{class}.{name}");
            }
        }
        assert_eq!(object.find_method("NoSuchMethod"), None);
        assert_eq!(object.find_prop("НетТакогоСвойства"), None);
    }
    assert_eq!(host.leaked(), (0, 0));
}

#[test]
fn common_members_work_in_both_languages_on_every_class() {
    let host = Host::load_default();
    let log_dir = std::env::temp_dir().join(format!("tb-core-{}", std::process::id()));
    std::fs::create_dir_all(&log_dir).unwrap();
    for class in CLASSES {
        let object = host.create(class);
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(object.get("Version").unwrap(), Val::from(version));
        assert_eq!(object.get("Версия").unwrap(), Val::from(version));
        assert_eq!(object.get("LastError").unwrap(), Val::from(""));
        assert_eq!(object.get("ОписаниеОшибки").unwrap(), Val::from(""));

        let diagnostics = json(&object.call("Diagnostics", &[]).unwrap());
        assert_eq!(diagnostics["class"], class);
        assert_eq!(diagnostics["events"]["platform_buffer_depth"], 128);
        let diagnostics_ru = json(&object.call("Диагностика", &[]).unwrap());
        assert_eq!(diagnostics_ru["version"], version);

        let log = log_dir.join(format!("{class}.log"));
        object
            .set("ФайлЖурнала", log.to_str().unwrap())
            .expect("log file");
        assert_eq!(
            object.get("LogFile").unwrap(),
            Val::from(log.to_str().unwrap())
        );
        object.set("LogLevel", "debug").unwrap();
        assert_eq!(object.get("УровеньЖурнала").unwrap(), Val::from("debug"));
        object.set("УровеньЖурнала", "Предупреждение").unwrap();
        assert_eq!(object.get("LogLevel").unwrap(), Val::from("warn"));

        object.set("EventQueueCapacity", 500).unwrap();
        assert_eq!(
            object.get("ЕмкостьОчередиСобытий").unwrap(),
            Val::Num(500.0)
        );

        object
            .call_proc("СгенерироватьТестовыеСобытия", &[Val::Int(3)])
            .unwrap();
        let events = object.wait_events(3, Duration::from_secs(10));
        assert_eq!(events.len(), 3, "{class}: {events:?}");
        for (i, event) in events.iter().enumerate() {
            assert_eq!(event.source, format!("TelephonyBridge.{class}"));
            assert_eq!(event.name, "TestEvent");
            let data: serde_json::Value = serde_json::from_str(&event.data).unwrap();
            assert_eq!(data["n"], i as u64 + 1);
        }
        // The optional Count defaults to 1.
        object.call_proc("RaiseTestEvents", &[]).unwrap();
        assert!(object
            .wait_event(Duration::from_secs(10), |e| e.name == "TestEvent")
            .is_some());
        assert_eq!(object.done().platform_calls_after_done, 0);
    }
    std::fs::remove_dir_all(&log_dir).unwrap();
    assert_eq!(host.leaked(), (0, 0));
}

#[test]
fn failures_raise_an_exception_with_a_localized_message_mirrored_in_last_error() {
    let host = Host::load_default();
    let object = host.create_with("Centrifugo", Mode::Client, "ru_RU");

    let error = object.set("LogLevel", "громко").unwrap_err();
    assert!(error.exception);
    assert_eq!(error.errors.len(), 1);
    let added = &error.errors[0];
    assert_eq!(added.code, 1006, "ADDIN_E_FAIL");
    assert_eq!(added.source, "TelephonyBridge.Centrifugo");
    assert_ne!(added.scode, 0, "a non-zero scode makes the platform raise");
    assert_eq!(
        added.description,
        "Centrifugo.УровеньЖурнала: неизвестный уровень \"громко\"; допустимы error, warn, info, debug"
    );
    assert_eq!(
        object.get("ОписаниеОшибки").unwrap(),
        Val::from(added.description.as_str())
    );
    // Reading a property does not clear it; a successful set does.
    assert_eq!(
        object.get("LastError").unwrap(),
        Val::from(added.description.as_str())
    );
    object.set("LogLevel", "info").unwrap();
    assert_eq!(object.get("LastError").unwrap(), Val::from(""));

    // A wrong type names what was expected.
    let error = object.set("LogFile", 42).unwrap_err();
    assert_eq!(
        error.message(),
        "Centrifugo.ФайлЖурнала: должно иметь тип Строка, а не Число"
    );
    // A failed call followed by a successful one clears LastError too.
    object.call("Diagnostics", &[]).unwrap();
    assert_eq!(object.get("LastError").unwrap(), Val::from(""));

    // Read-only, even when the platform skips IsPropWritable.
    let version = object.find_prop("Version").unwrap();
    assert!(!object.set_unchecked(version, Val::from("9.9.9")));
    assert_eq!(
        object.get("LastError").unwrap(),
        Val::from("Centrifugo.Версия: свойство только для чтения")
    );

    let error = object
        .call_proc("RaiseTestEvents", &[Val::from("много")])
        .unwrap_err();
    assert_eq!(
        error.message(),
        "Centrifugo.СгенерироватьТестовыеСобытия: параметр 1 (Количество) должен иметь тип Число, а не Строка"
    );

    // Class methods get the same checks: the message names the parameter in the user's language.
    let error = object
        .call("Опубликовать", &[Val::Bool(true), Val::from("{}")])
        .unwrap_err();
    assert_eq!(
        error.message(),
        "Centrifugo.Опубликовать: параметр 1 (Канал) должен иметь тип Строка, а не Булево"
    );
    let error = object
        .call("Publish", &[Val::from("calls"), Val::Undefined])
        .unwrap_err();
    assert_eq!(
        error.message(),
        "Centrifugo.Опубликовать: параметр 2 (Данные) обязателен"
    );

    object.set_locale("en_US");
    let error = object
        .call(
            "Опубликовать",
            &[Val::from("calls"), Val::Num(1.0), Val::Bool(false)],
        )
        .unwrap_err();
    assert_eq!(
        error.message(),
        "Centrifugo.Publish: parameter 3 (IdempotencyKey) must be a String, not Boolean"
    );
    let error = object.set("EventQueueCapacity", 0).unwrap_err();
    assert_eq!(
        error.message(),
        "Centrifugo.EventQueueCapacity: must be a whole Number from 1 to 10000000"
    );
    let error = object
        .call_proc("RaiseTestEvents", &[Val::Num(1.5)])
        .unwrap_err();
    assert_eq!(
        error.message(),
        "Centrifugo.RaiseTestEvents: parameter 1 (Count) must be a whole Number from 0 to 10000000"
    );
    let missing = std::env::temp_dir().join("no-such-dir-tb/x/addin.log");
    let error = object
        .set("LogFile", missing.to_str().unwrap())
        .unwrap_err();
    assert!(
        error
            .message()
            .starts_with("Centrifugo.LogFile: cannot open the log file"),
        "{}",
        error.message()
    );
    assert_eq!(object.done().platform_calls_after_done, 0);
    assert_eq!(host.leaked(), (0, 0));
}

#[test]
fn ten_thousand_events_raised_while_the_host_is_busy_arrive_complete_and_in_order() {
    let host = Host::load_default();
    let object = host.create("UIScom");
    object
        .call_proc("RaiseTestEvents", &[Val::Int(10_000)])
        .unwrap();
    // Busy: the platform does not drain its buffer while 1C code runs.
    std::thread::sleep(Duration::from_millis(500));
    assert!(object.refused_events() > 0, "the platform buffer filled up");
    let events = object.wait_events(10_000, Duration::from_secs(60));
    assert_eq!(events.len(), 10_000);
    for (i, event) in events.iter().enumerate() {
        let data: serde_json::Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(data["n"], i as u64 + 1, "event {i} out of order");
    }
    let diagnostics = json(&object.call("Diagnostics", &[]).unwrap());
    assert_eq!(diagnostics["events"]["delivered"], 10_000);
    assert_eq!(diagnostics["events"]["dropped"], 0);
    assert_eq!(object.done().platform_calls_after_done, 0);
}

#[test]
fn queue_overflow_drops_the_oldest_and_reports_how_many() {
    let host = Host::load_default();
    let object = host.create("Binotel");
    object.set("EventQueueCapacity", 100).unwrap();
    object
        .call_proc("RaiseTestEvents", &[Val::Int(1000)])
        .unwrap();
    // Busy until the generator is done and the platform's buffer (128) and the queue (100)
    // are full: the counters then stop moving.
    let start = Instant::now();
    let mut previous = None;
    let dropped = loop {
        let events = json(&object.call("Diagnostics", &[]).unwrap())["events"].clone();
        let counters = (
            events["delivered"].as_u64().unwrap(),
            events["dropped"].as_u64().unwrap(),
            events["queued"].as_u64().unwrap(),
        );
        let (delivered, dropped, queued) = counters;
        if delivered + dropped + queued == 1000 && previous == Some(counters) {
            assert!(queued <= 100);
            break dropped;
        }
        previous = Some(counters);
        assert!(start.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(dropped >= 1000 - 128 - 100);
    let events = object.wait_events((1000 - dropped + 1) as usize, Duration::from_secs(10));
    let events = [
        events,
        object.wait_events(usize::MAX, Duration::from_millis(200)),
    ]
    .concat();
    // Drops can begin while the platform's buffer still has room, so there may be several
    // notices; together they account for every dropped event.
    let notices: Vec<serde_json::Value> = events
        .iter()
        .filter(|e| e.name == "EventsDropped")
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    assert!(
        !notices.is_empty(),
        "EventsDropped is raised once delivery resumes"
    );
    let counted: u64 = notices.iter().map(|n| n["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, dropped);
    assert_eq!(notices.last().unwrap()["total"], dropped);
    // The same count without a handler, in both languages.
    assert_eq!(
        object.get("EventsDropped").unwrap(),
        Val::Num(dropped as f64)
    );
    assert_eq!(
        object.get("ПотеряноСобытий").unwrap(),
        Val::Num(dropped as f64)
    );
    let numbers: Vec<u64> = events
        .iter()
        .filter(|e| e.name == "TestEvent")
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(&e.data).unwrap()["n"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(numbers.len() as u64, 1000 - dropped);
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "still in order");
    assert_eq!(*numbers.last().unwrap(), 1000, "the newest survive");
    assert_eq!(object.done().platform_calls_after_done, 0);
}

#[test]
fn on_the_server_external_event_is_unavailable_and_nothing_breaks() {
    let host = Host::load_default();
    let object = host.create_with("Centrifugo", Mode::Server, "ru_RU");
    object
        .call_proc("RaiseTestEvents", &[Val::Int(50)])
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(object.take_events().is_empty());
    assert_eq!(
        object.get("Version").unwrap(),
        Val::from(env!("CARGO_PKG_VERSION"))
    );
    let started = Instant::now();
    assert_eq!(object.done().platform_calls_after_done, 0);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn done_with_live_threads_is_bounded_and_silent_afterwards() {
    let host = Host::load_default();
    for class in CLASSES {
        let object = host.create(class);
        object
            .call_proc("RaiseTestEvents", &[Val::Int(5_000_000)])
            .unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let started = Instant::now();
        let teardown = object.done();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{class}: Done took {:?}",
            started.elapsed()
        );
        assert_eq!(teardown.platform_calls_after_done, 0, "{class}");
    }
}
