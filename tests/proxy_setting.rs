//! The `Прокси` property means the same on every connection of the add-in (one proxy module): empty takes the
//! proxy of the environment, `-` / `none` / `нет` go direct whatever the environment says. On Centrifugo's HTTP
//! API `-` once meant "use the environment", and UIScom and Binotel had no way to go direct.
//!
//! One test function: the proxy variables are process-wide.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use addin_host::{Host, Mode, Object};

/// An HTTP server that counts requests and answers each with an empty JSON object.
fn counting_server() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(("content-length", value)) = line
                    .to_ascii_lowercase()
                    .split_once(':')
                    .map(|(n, v)| (n.to_string(), v.trim().to_string()))
                    .as_ref()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                {
                    length = value.parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            let _ = std::io::Read::read_exact(&mut reader, &mut body);
            seen.fetch_add(1, Ordering::SeqCst);
            let reply = "{}";
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    (port, count)
}

/// A port nobody listens on: a proxy there refuses every connection.
fn dead_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Calls `call` once with the proxy from the environment and once per spelling of "direct"; returns whether
/// each reached the server.
fn reached(object: &Object, count: &AtomicUsize, call: impl Fn(&Object) -> String) -> Vec<bool> {
    ["", "-", "none", "нет"]
        .iter()
        .map(|setting| {
            object.set("Прокси", *setting).unwrap();
            let before = count.load(Ordering::SeqCst);
            let outcome = call(object);
            let reached = count.load(Ordering::SeqCst) > before;
            if !reached {
                assert!(outcome.contains("refused"), "{setting:?}: {outcome}");
            }
            reached
        })
        .collect()
}

#[test]
fn a_dash_means_direct_for_every_http_api_and_empty_means_the_environment() {
    let dead = format!("http://127.0.0.1:{}", dead_port());
    for name in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        std::env::set_var(name, &dead);
    }
    for name in ["NO_PROXY", "no_proxy"] {
        std::env::remove_var(name);
    }
    let (port, count) = counting_server();
    let base = format!("http://127.0.0.1:{port}");
    let host = Host::load_default();
    let expected = vec![false, true, true, true];

    let centrifugo = host.create_with("Centrifugo", Mode::Server, "ru_RU");
    centrifugo
        .set("ApiUrl", format!("{base}/api").as_str())
        .unwrap();
    centrifugo.set("ApiKey", "k").unwrap();
    let outcomes = reached(&centrifugo, &count, |o| match o.call("Info", &[]) {
        Ok(_) => String::new(),
        Err(e) => e.message(),
    });
    assert_eq!(outcomes, expected, "Centrifugo");

    let uiscom = host.create_with("UIScom", Mode::Server, "ru_RU");
    uiscom
        .set("CallApiUrl", format!("{base}/v4.0").as_str())
        .unwrap();
    uiscom.set("ТокенДоступа", "t").unwrap();
    let outcomes = reached(&uiscom, &count, |o| {
        o.call("ПозвонитьСотруднику", &["25".into(), "79261234567".into()])
            .err()
            .map(|e| e.message())
            .unwrap_or_default()
    });
    assert_eq!(outcomes, expected, "UIScom");

    let binotel = host.create_with("Binotel", Mode::Server, "ru_RU");
    binotel
        .set("АдресAPI", format!("{base}/api/2.0/").as_str())
        .unwrap();
    binotel.set("Ключ", "k").unwrap();
    binotel.set("Секрет", "s").unwrap();
    let outcomes = reached(&binotel, &count, |o| {
        o.call("СсылкаНаЗапись", &["1".into()])
            .err()
            .map(|e| e.message())
            .unwrap_or_default()
    });
    assert_eq!(outcomes, expected, "Binotel");
}
