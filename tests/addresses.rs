//! The address model and the scrubber, through the built library and the test host (issue 16). Each
//! reproduction failed before the fix: a password holding `?`, `#` or `/` was split by each reader somewhere
//! else — `ApiUrl = "http://admin:Pa?ss-SECRET@127.0.0.1:9/api"` read back whole, appeared whole in Publish's
//! error, LastError and Diagnostics, and ureq took `admin` for the host; a `/` in a WebSocket password printed
//! half of it as «bad port '…'»; `Прокси` with `?` read back whole; `UIScom.CallApiUrl = "user:secret@host:9"`
//! was taken and ureq's «bad uri» printed the password.
//!
//! Now: such an address is refused where it is set, with the escape to write instead, and never printed; the
//! encoded form reaches the host it names (a real listener records what arrives), the credentials as an
//! `Authorization: Basic` header.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use addin_host::{Host, Mode, Object};
use base64::Engine;
use proptest::prelude::*;

#[path = "support/http_emulator.rs"]
mod http_emulator;

use http_emulator::Seen;

/// Every four-character part of `secret` that `text` holds.
fn leaked(secret: &str, text: &str) -> Vec<String> {
    let characters: Vec<char> = secret.chars().collect();
    characters
        .windows(4)
        .map(|part| part.iter().collect::<String>())
        .filter(|part| text.contains(part.as_str()))
        .collect()
}

fn assert_silent(what: &str, secret: &str, text: &str) {
    let parts = leaked(secret, text);
    assert!(
        parts.is_empty(),
        "{what} shows {parts:?} of the password: {text}"
    );
}

/// `text` with every character outside RFC 3986's unreserved set percent-encoded.
fn encoded(text: &str) -> String {
    let mut out = String::new();
    for character in text.chars() {
        if character.is_ascii_alphanumeric() || "-._~".contains(character) {
            out.push(character);
        } else {
            let mut buffer = [0u8; 4];
            for byte in character.encode_utf8(&mut buffer).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// An API that answers every request with `status` and `body`; returns its port and the record.
fn api(status: u16, body: &'static str) -> (u16, mpsc::Receiver<Seen>) {
    let (address, seen) =
        http_emulator::serve(String::new(), move |_, _| (status, body.to_string()));
    let port = address.rsplit(':').next().unwrap().parse().unwrap();
    (port, seen)
}

/// Everything an object says: LastError, Diagnostics and the given properties read back.
fn everything_said(object: &Object, properties: &[&str]) -> String {
    let mut said = vec![
        object.get("LastError").unwrap().str().to_string(),
        object.call("Diagnostics", &[]).unwrap().str().to_string(),
    ];
    for property in properties {
        said.push(object.get(property).unwrap().str().to_string());
    }
    said.extend(object.take_events().into_iter().map(|e| e.data));
    said.join("\n")
}

const API_KEY: &str = "api-key-for-addresses";

/// The issue's reproduction, with `?` and with `#`.
#[test]
fn a_password_with_a_question_mark_or_a_hash_is_refused_and_never_shown() {
    let host = Host::load_default();
    for reserved in ['?', '#'] {
        let (port, seen) = api(502, "<html>bad gateway</html>");
        let password = format!("Pa{reserved}ss-SECRET");
        let object = host.create_with("Centrifugo", Mode::Server, "ru_RU");
        object.set("КлючAPI", API_KEY).unwrap();
        let raw = format!("http://admin:{password}@127.0.0.1:{port}/api");
        let refused = object.set("АдресAPI", raw.as_str()).unwrap_err();
        let message = refused.message();
        let escape = if reserved == '?' { "%3F" } else { "%23" };
        assert!(
            message.contains(&format!("закодируйте пароль ({escape} вместо {reserved})")),
            "{message}"
        );
        assert_silent("the refusal", &password, &message);
        let publish = object
            .call("Опубликовать", &["news".into(), "{}".into()])
            .unwrap_err();
        assert_silent("Publish's error", &password, &publish.message());
        assert_silent(
            "the object",
            &password,
            &everything_said(&object, &["АдресAPI"]),
        );
        assert!(
            seen.recv_timeout(Duration::from_millis(200)).is_err(),
            "a refused address is never used"
        );

        // Written as the refusal asks, it reaches 127.0.0.1 — the credentials as a header, never a host.
        let written = format!("http://admin:{}@127.0.0.1:{port}/api", encoded(&password));
        object.set("АдресAPI", written.as_str()).unwrap();
        assert_eq!(
            object.get("АдресAPI").unwrap().str(),
            format!("http://***@127.0.0.1:{port}/api")
        );
        let publish = object
            .call("Опубликовать", &["news".into(), "{}".into()])
            .unwrap_err();
        let arrived = seen
            .recv_timeout(Duration::from_secs(5))
            .expect("the request reaches the listener on 127.0.0.1");
        assert_eq!(arrived.path, "/api/publish");
        assert_eq!(
            header(&arrived, "authorization"),
            Some(basic("admin", &password).as_str())
        );
        assert_eq!(header(&arrived, "x-api-key"), Some(API_KEY));
        assert_eq!(
            header(&arrived, "host"),
            Some(format!("127.0.0.1:{port}").as_str())
        );
        let message = publish.message();
        assert!(message.contains("502"), "{message}");
        assert_silent("Publish's error", &password, &message);
        assert_silent("Publish's error", API_KEY, &message);
        assert_silent(
            "the object",
            &password,
            &everything_said(&object, &["АдресAPI"]),
        );
    }
}

/// A peer's text that quotes a configured secret (an API that echoes the key it refused) is scrubbed from
/// the error, LastError, Diagnostics and the log: the scrubber knows the secrets, not where they may stand.
#[test]
fn an_answer_that_quotes_the_key_is_scrubbed_everywhere() {
    const KEY: &str = "echoed-api-key-7Q2";
    let (port, _seen) = api(
        200,
        r#"{"error":{"code":107,"message":"unknown key echoed-api-key-7Q2 (part: api-key-7Q2)"}}"#,
    );
    let log = std::env::temp_dir().join(format!("tb-addresses-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let host = Host::load_default();
    let object = host.create_with("Centrifugo", Mode::Server, "en_US");
    object.set("LogFile", log.to_str().unwrap()).unwrap();
    object
        .set("ApiUrl", format!("http://127.0.0.1:{port}").as_str())
        .unwrap();
    object.set("ApiKey", KEY).unwrap();
    let error = object
        .call("Publish", &["news".into(), "{}".into()])
        .unwrap_err();
    let message = error.message();
    assert!(
        message.contains("107") && message.contains("unknown"),
        "{message}"
    );
    assert_silent("Publish's error", KEY, &message);
    assert_silent("the object", KEY, &everything_said(&object, &["ApiKey"]));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("107"), "the failure is logged: {logged}");
    assert_silent("the log", KEY, &logged);
}

/// A WebSocket listener that records the upgrade request's lines, then closes.
fn upgrade_recorder() -> (u16, mpsc::Receiver<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut lines = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                lines.push(line.trim_end().to_string());
            }
            let _ = tx.send(lines);
        }
    });
    (port, rx)
}

/// A `/` in a WebSocket password once leaked its first part as «bad port '…'».
#[test]
fn a_slash_in_a_websocket_password_is_refused_and_the_encoded_one_travels_as_a_header() {
    let host = Host::load_default();
    let (port, upgrades) = upgrade_recorder();
    let password = "pa/ss-SECRET";
    let client = host.create_with("Centrifugo", Mode::Client, "en_US");
    let raw = format!("ws://user:{password}@127.0.0.1:{port}/connection/websocket");
    let refused = client
        .call_proc("Connect", &[raw.as_str().into()])
        .unwrap_err();
    let message = refused.message();
    assert!(message.contains("(%2F instead of /)"), "{message}");
    assert_silent("the refusal", password, &message);
    assert!(upgrades.recv_timeout(Duration::from_millis(300)).is_err());

    let written = format!(
        "ws://user:{}@127.0.0.1:{port}/connection/websocket",
        encoded(password)
    );
    client
        .call_proc("Connect", &[written.as_str().into()])
        .unwrap();
    let lines = upgrades
        .recv_timeout(Duration::from_secs(10))
        .expect("the upgrade reaches the listener on 127.0.0.1");
    assert_eq!(lines[0], "GET /connection/websocket HTTP/1.1", "{lines:?}");
    let authorization = lines.iter().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("authorization")
            .then(|| value.trim().to_string())
    });
    assert_eq!(authorization, Some(basic("user", password)), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.eq_ignore_ascii_case(&format!("host: 127.0.0.1:{port}"))),
        "{lines:?}"
    );
    client
        .wait_event(Duration::from_secs(10), |e| {
            e.name == "Error" || e.name == "Disconnected"
        })
        .expect("the closed upgrade is reported");
    client.call_proc("Disconnect", &[]).unwrap();
    assert_silent("the client", password, &everything_said(&client, &[]));
}

/// `Прокси` with `?` once read back whole.
#[test]
fn a_proxy_password_with_a_question_mark_is_refused_and_the_encoded_one_reaches_the_proxy() {
    let host = Host::load_default();
    let password = "Pa?ss-SECRET";
    for class in ["Centrifugo", "UIScom", "Binotel"] {
        let object = host.create_with(class, Mode::Server, "ru_RU");
        let raw = format!("http://operator:{password}@127.0.0.1:3128");
        let refused = object.set("Прокси", raw.as_str()).unwrap_err();
        let message = refused.message();
        assert!(message.contains("(%3F вместо ?)"), "{class}: {message}");
        assert_silent("the refusal", password, &message);
        assert_silent(class, password, &everything_said(&object, &["Прокси"]));
    }

    // The proxy (a recorder: it answers the CONNECT with a 502) sees the decoded credentials.
    let (proxy_port, at_proxy) = api(502, "");
    let object = host.create_with("Centrifugo", Mode::Server, "en_US");
    object.set("Timeout", 3).unwrap();
    object.set("ApiUrl", "http://127.0.0.1:9/api").unwrap();
    object.set("ApiKey", API_KEY).unwrap();
    let written = format!(
        "http://operator:{}@127.0.0.1:{proxy_port}",
        encoded(password)
    );
    object.set("Proxy", written.as_str()).unwrap();
    assert_eq!(
        object.get("Proxy").unwrap().str(),
        format!("http://***@127.0.0.1:{proxy_port}")
    );
    let error = object
        .call("Publish", &["news".into(), "{}".into()])
        .unwrap_err();
    let arrived = at_proxy
        .recv_timeout(Duration::from_secs(5))
        .expect("the request goes through the proxy");
    assert_eq!(
        header(&arrived, "proxy-authorization"),
        Some(basic("operator", password).as_str()),
        "{arrived:?}"
    );
    assert_silent("Publish's error", password, &error.message());
    assert_silent(
        "the object",
        password,
        &everything_said(&object, &["Proxy"]),
    );
}

/// `user:secret@host:9` without a scheme was taken, and ureq's «bad uri» printed the password.
#[test]
fn an_api_address_without_a_scheme_is_refused_without_printing_the_password() {
    let host = Host::load_default();
    for (class, property, locale, expected) in [
        ("UIScom", "CallApiUrl", "en_US", "it has no scheme"),
        ("UIScom", "АдресCallAPI", "ru_RU", "в нём нет схемы"),
        ("Binotel", "ApiUrl", "en_US", "it has no scheme"),
        (
            "Centrifugo",
            "ApiUrl",
            "en_US",
            "is not an http:// or https:// URL",
        ),
    ] {
        let object = host.create_with(class, Mode::Server, locale);
        let refused = object.set(property, "user:s3cr3t-PASS@host:9").unwrap_err();
        let message = refused.message();
        assert!(message.contains(expected), "{class}.{property}: {message}");
        assert_silent("the refusal", "s3cr3t-PASS", &message);
        assert_silent(class, "s3cr3t-PASS", &everything_said(&object, &[property]));
    }
}

fn password() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(0x20u8..0x7f, 4..20)
            .prop_map(|bytes| String::from_utf8(bytes).expect("ASCII")),
        "\\PC{4,12}",
    ]
}

proptest! {
    // Each case creates an object and makes an HTTP exchange: a smaller sample than the pure-Rust properties
    // in crates/tb-prims/tests/address_properties.rs.
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Random passwords over the printable range: raw, the address is taken (and reaches the listener) or
    /// refused; encoded, it always reaches the listener with the password intact; and in no case does any
    /// four-character part of the password appear in anything the object says.
    #[test]
    fn random_passwords_reach_the_configured_host_and_are_never_shown(password in password()) {
        let host = Host::load_default();
        let (port, seen) = api(502, "<html></html>");
        let object = host.create_with("UIScom", Mode::Server, "en_US");
        object.set("Timeout", 3).unwrap();
        object.set("AccessToken", "token-for-addresses").unwrap();
        for written in [
            format!("http://admin:{password}@127.0.0.1:{port}/v4.0"),
            format!("http://admin:{}@127.0.0.1:{port}/v4.0", encoded(&password)),
        ] {
            let taken = object.set("CallApiUrl", written.as_str());
            let mut said = match &taken {
                Ok(()) => String::new(),
                Err(refused) => refused.message(),
            };
            if taken.is_ok() {
                let error = object
                    .call(
                        "SimpleCall",
                        &["100".into(), "+79001234567".into(), "".into(), "".into()],
                    )
                    .unwrap_err();
                said.push_str(&error.message());
                let arrived = seen.recv_timeout(Duration::from_secs(5));
                prop_assert!(arrived.is_ok(), "{written}: nothing reached 127.0.0.1:{port}: {said}");
                let arrived = arrived.unwrap();
                let host_header = format!("127.0.0.1:{port}");
                prop_assert_eq!(header(&arrived, "host"), Some(host_header.as_str()));
                if written.contains(&encoded(&password)) {
                    let authorization = basic("admin", &password);
                    prop_assert_eq!(header(&arrived, "authorization"), Some(authorization.as_str()));
                }
            }
            said.push_str(&everything_said(&object, &["CallApiUrl"]));
            let parts = leaked(&password, &said);
            prop_assert!(parts.is_empty(), "{written}: {parts:?} in {said}");
        }
        let encoded_taken = object.get("CallApiUrl").unwrap();
        prop_assert_eq!(encoded_taken.str(), format!("http://***@127.0.0.1:{port}/v4.0"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// The same for `Connect`: the upgrade request reaches the listener the address names, with the
    /// password intact in `Authorization`, or the address is refused — and nothing the object says holds a part
    /// of the password.
    #[test]
    fn random_websocket_passwords_reach_the_configured_host_and_are_never_shown(password in password()) {
        let host = Host::load_default();
        for encode in [false, true] {
            // A listener of its own for each form: a reconnect of the first client cannot answer for the second.
            let (port, upgrades) = upgrade_recorder();
            let given = if encode { encoded(&password) } else { password.clone() };
            let written = format!("ws://user:{given}@127.0.0.1:{port}/connection/websocket");
            let client = host.create_with("Centrifugo", Mode::Client, "ru_RU");
            let mut said = match client.call_proc("Connect", &[written.as_str().into()]) {
                Ok(()) => {
                    let lines = upgrades.recv_timeout(Duration::from_secs(10));
                    prop_assert!(lines.is_ok(), "{written}: nothing reached 127.0.0.1:{port}");
                    let lines = lines.unwrap();
                    let host_line = format!("host: 127.0.0.1:{port}");
                    prop_assert!(lines.iter().any(|l| l.eq_ignore_ascii_case(&host_line)), "{lines:?}");
                    if encode {
                        let authorization = lines.iter().find_map(|line| {
                            let (name, value) = line.split_once(':')?;
                            name.eq_ignore_ascii_case("authorization")
                                .then(|| value.trim().to_string())
                        });
                        prop_assert_eq!(authorization, Some(basic("user", &password)));
                    }
                    client.call_proc("Disconnect", &[]).unwrap();
                    String::new()
                }
                Err(refused) => refused.message(),
            };
            said.push_str(&everything_said(&client, &[]));
            let parts = leaked(&password, &said);
            prop_assert!(parts.is_empty(), "{written}: {parts:?} in {said}");
            drop(client);
        }
    }
}
