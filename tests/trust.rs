//! Secrets and trust, through the built library and the test host: API redirects are never followed, URLs are
//! shown through one redaction (address properties read back without credentials too), bad WebSocket and proxy addresses are refused by the calling method.

use std::sync::mpsc;
use std::time::Duration;

use addin_host::{Host, Mode, Val};

#[path = "support/http_emulator.rs"]
mod http_emulator;

use http_emulator::Seen;

/// Answers every request with `status`, `extra` headers and `body`.
fn server(status: u16, extra: String, body: &'static str) -> (String, mpsc::Receiver<Seen>) {
    http_emulator::serve(extra, move |_, _| (status, body.to_string()))
}

/// A server that redirects (302) every request to a second server, which would answer success and records
/// what reached it. Returns the first server's address, the target's record and the Location sent.
fn redirect_pair(target_body: &'static str) -> (String, mpsc::Receiver<Seen>, String) {
    let (target, reached) = server(200, String::new(), target_body);
    let location = target.replace("http://", "http://login:pa55word@") + "/moved?token=t0k3n&x=1";
    let (first, _) = server(302, format!("Location: {location}\r\n"), "");
    (first, reached, location)
}

const API_KEY: &str = "api-key-5ecret-77";

/// The reproduction of issue 12: a 302 from the Centrifugo API made Опубликовать send X-API-Key to the redirect
/// target and report success.
#[test]
fn a_redirect_from_the_centrifugo_api_is_an_error_and_the_key_stays_home() {
    let (api, reached, _) = redirect_pair("{\"result\":{}}");
    let host = Host::load_default();
    let object = host.create_with("Centrifugo", Mode::Server, "ru_RU");
    object.set("АдресAPI", api.as_str()).unwrap();
    object.set("КлючAPI", API_KEY).unwrap();
    let result = object.call("Опубликовать", &["news".into(), "{}".into()]);
    if let Ok(seen) = reached.recv_timeout(Duration::from_millis(300)) {
        let key = seen.headers.iter().find(|(name, _)| name == "x-api-key");
        panic!(
            "the redirect target was contacted at {} with X-API-Key {key:?}; the call returned {:?}",
            seen.path,
            result.map(|v| v.str().to_string())
        );
    }
    let error = result.expect_err("a redirect is never a success");
    let message = error.message();
    assert!(message.contains("302"), "{message}");
    assert!(
        message.contains("/moved"),
        "the new location is named: {message}"
    );
    for secret in ["pa55word", "login", "t0k3n", API_KEY] {
        assert!(!message.contains(secret), "{secret} in {message}");
    }
    let last = object.get("LastError").unwrap();
    assert!(
        last.str().contains("302") && !last.str().contains("pa55word"),
        "{last:?}"
    );
    let diagnostics = object.call("Диагностика", &[]).unwrap();
    assert!(!diagnostics.str().contains("pa55word"), "{diagnostics:?}");
}

/// UIScom and Binotel post through the same runner: a redirect is reported, the token is not sent on.
#[test]
fn a_redirect_from_the_uis_and_binotel_apis_is_an_error() {
    let (api, reached, _) = redirect_pair(
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"data\":{\"call_session_id\":1}}}",
    );
    let host = Host::load_default();
    let object = host.create_with("UIScom", Mode::Server, "en_US");
    object.set("CallApiUrl", api.as_str()).unwrap();
    object.set("AccessToken", "uis-token-9").unwrap();
    let error = object
        .call(
            "SimpleCall",
            &[Val::from("74950000001"), Val::from("79261234567")],
        )
        .expect_err("a redirect is never a success");
    assert!(
        reached.recv_timeout(Duration::from_millis(300)).is_err(),
        "the redirect target was contacted"
    );
    let message = error.message();
    assert!(
        message.contains("302") && message.contains("/moved"),
        "{message}"
    );
    assert!(
        !message.contains("pa55word") && !message.contains("t0k3n"),
        "{message}"
    );

    let (api, reached, _) = redirect_pair("{\"status\":\"success\"}");
    let object = host.create_with("Binotel", Mode::Server, "en_US");
    object.set("ApiUrl", api.as_str()).unwrap();
    object.set("Key", "binotel-key").unwrap();
    object.set("Secret", "binotel-secret").unwrap();
    let error = object
        .call("CallDetails", &[Val::from("[\"1\"]")])
        .expect_err("a redirect is never a success");
    assert!(
        reached.recv_timeout(Duration::from_millis(300)).is_err(),
        "the redirect target was contacted"
    );
    let message = error.message();
    assert!(
        message.contains("302") && message.contains("/moved"),
        "{message}"
    );
    assert!(!message.contains("pa55word"), "{message}");
}

/// The reproduction of issue 12: a Cyrillic «с» after ws:// went to the worker thread (which once died on it);
/// now Подключиться itself refuses the address and no thread is started for it.
#[test]
fn a_websocket_address_with_a_non_ascii_host_or_a_line_break_is_refused_by_connect() {
    let host = Host::load_default();
    let client = host.create_with("Centrifugo", Mode::Client, "ru_RU");
    let error = client
        .call_proc(
            "Подключиться",
            &["ws://сentrifugo.example/connection/websocket".into()],
        )
        .expect_err("a non-ASCII host is refused at once");
    let message = error.message();
    assert!(
        message.contains("'с'") && message.contains("punycode"),
        "{message}"
    );
    let error = client
        .call_proc(
            "Подключиться",
            &["ws://127.0.0.1:1/connection/websocket\r\nX-Injected: 1".into()],
        )
        .expect_err("a line break is refused");
    let message = error.message();
    assert!(message.contains("управляющий символ"), "{message}");
    assert!(
        !message.contains('\n') && !message.contains('\r'),
        "{message:?}"
    );
    client
        .call_proc("Подключиться", &["ws://a b/connection/websocket".into()])
        .expect_err("a space is refused");
    let diagnostics = client.call("Диагностика", &[]).unwrap();
    assert!(
        diagnostics.str().contains("\"thread\":false"),
        "no client thread was started: {diagnostics:?}"
    );
    let events = client.take_events();
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(client.done().platform_calls_after_done, 0);
}

/// A proxy value with a CR/LF (which would add a header to the CONNECT request) or a non-ASCII host is refused
/// when it is set, in every class that has the property.
#[test]
fn a_proxy_with_a_line_break_or_a_non_ascii_host_is_refused_when_set() {
    let host = Host::load_default();
    for class in ["Centrifugo", "UIScom", "Binotel"] {
        let object = host.create_with(class, Mode::Server, "en_US");
        let error = object
            .set("Proxy", "http://proxy:3128\r\nX-Injected: 1")
            .expect_err("a line break in the proxy is refused");
        let message = error.message();
        assert!(message.contains("control character"), "{class}: {message}");
        assert!(!message.contains('\n'), "{class}: {message:?}");
        let error = object
            .set("Proxy", "http://u:secret@прокси:3128")
            .expect_err("a non-ASCII proxy host is refused");
        let message = error.message();
        assert!(
            message.contains("punycode") && !message.contains("secret"),
            "{class}: {message}"
        );
        object.set("Proxy", "-").unwrap();
        object.set("Proxy", "http://proxy.example:3128").unwrap();
        assert_eq!(
            object.get("Proxy").unwrap(),
            Val::from("http://proxy.example:3128")
        );
    }
}

/// Credentials and query values of every address the user gives stay out of error texts, LastError,
/// Diagnostics, Error events and the log file.
#[test]
fn addresses_are_shown_without_credentials_or_query_values_everywhere() {
    let secrets = ["pa55word", "t0k3n", "s3cr3t"];
    let log = std::env::temp_dir().join(format!("tb-trust-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let host = Host::load_default();
    let check = |what: &str, text: &str| {
        for secret in secrets {
            assert!(!text.contains(secret), "{what} shows {secret}: {text}");
        }
    };

    let api = host.create_with("Centrifugo", Mode::Server, "en_US");
    api.set("LogFile", log.to_str().unwrap()).unwrap();
    api.set("LogLevel", "debug").unwrap();
    api.set("Timeout", 2).unwrap();
    api.set(
        "ApiUrl",
        "http://admin:pa55word@127.0.0.1:1/api?token=t0k3n",
    )
    .unwrap();
    api.set("ApiKey", "k").unwrap();
    let shown = api.get("ApiUrl").unwrap();
    check("Centrifugo.ApiUrl", shown.str());
    assert!(
        shown.str().starts_with("http://***@127.0.0.1:1/api"),
        "{shown:?}"
    );
    let error = api
        .call("Publish", &["news".into(), "{}".into()])
        .expect_err("nothing listens on port 1");
    assert!(
        error.message().contains("127.0.0.1:1"),
        "{}",
        error.message()
    );
    check("the Publish error", &error.message());
    check("LastError", api.get("LastError").unwrap().str());
    check("Diagnostics", api.call("Diagnostics", &[]).unwrap().str());

    let client = host.create_with("Centrifugo", Mode::Client, "en_US");
    client.set("LogFile", log.to_str().unwrap()).unwrap();
    client
        .call_proc(
            "Connect",
            &["ws://admin:pa55word@127.0.0.1:1/connection/websocket?token=t0k3n".into()],
        )
        .unwrap();
    let event = client
        .wait_event(Duration::from_secs(10), |e| {
            e.name == "Error" || e.name == "Disconnected"
        })
        .expect("the failed connect is reported");
    check("the client's event", &event.data);
    std::thread::sleep(Duration::from_millis(300));
    let diagnostics = client.call("Diagnostics", &[]).unwrap();
    assert!(diagnostics.str().contains("127.0.0.1:1"), "{diagnostics:?}");
    check("the client's Diagnostics", diagnostics.str());

    for (class, property) in [("UIScom", "CallApiUrl"), ("Binotel", "ApiUrl")] {
        let object = host.create_with(class, Mode::Server, "en_US");
        object.set("LogFile", log.to_str().unwrap()).unwrap();
        object.set("Timeout", 2).unwrap();
        object
            .set(
                property,
                "http://admin:pa55word@127.0.0.1:1/v4.0?key=s3cr3t",
            )
            .unwrap();
        object
            .set("Proxy", "http://proxyuser:s3cr3t@127.0.0.1:1")
            .unwrap();
        check(
            &format!("{class}.{property}"),
            object.get(property).unwrap().str(),
        );
        check(
            &format!("{class}.Proxy"),
            object.get("Proxy").unwrap().str(),
        );
        check(
            &format!("{class} Diagnostics"),
            object.call("Diagnostics", &[]).unwrap().str(),
        );
        let method: &[Val] = &[Val::from("74950000001"), Val::from("79261234567")];
        let error = if class == "UIScom" {
            object.call("SimpleCall", method)
        } else {
            object.call("CallDetails", &[Val::from("[\"1\"]")])
        }
        .expect_err("nothing listens on port 1");
        check(&format!("{class} error"), &error.message());
        check(
            &format!("{class} LastError"),
            object.get("LastError").unwrap().str(),
        );
    }
    drop(client);
    let written = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!written.is_empty(), "the log was written");
    check("the log", &written);
    let _ = std::fs::remove_file(&log);
}
