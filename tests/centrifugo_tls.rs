//! TLS through the built library: `wss://` and `https://` to Centrifugo with a certificate from a
//! "corporate" CA that only the operating system's trust store knows (here: `SSL_CERT_FILE`, which the
//! OS-store loader honours on Linux), and a refusal for a certificate nobody vouches for.
//! A separate test binary, because the trust store is read once per process.

#[path = "support/centrifugo_server.rs"]
mod server;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use addin_host::{Host, Mode, Val};
use serde_json::{json, Value};
use server::{base_config, free_port, require, CentrifugoServer, API_KEY, HMAC_SECRET};

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        status.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

fn tls_server(binary: &Path, cert: &Path, key: &Path) -> CentrifugoServer {
    let mut config = base_config(free_port(), "25s");
    config["http_server"]["tls"] = json!({"enabled": true, "cert_pem": cert.to_str().unwrap(), "key_pem": key.to_str().unwrap()});
    CentrifugoServer::start(binary, config)
}

#[test]
fn tls_trusts_the_os_store_and_refuses_unknown_certificates() {
    let Some(centrifugo) = require("centrifugo") else {
        return;
    };
    let Some(_) = require("openssl") else { return };
    let dir = std::env::temp_dir().join(format!("tb-cf-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let subject_alt = "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
    std::fs::write(dir.join("ext.cnf"), subject_alt).unwrap();
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=TelephonyBridge Test Corporate CA",
        ],
    );
    openssl(
        &dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    // A certificate nobody vouches for (self-signed, not in the store).
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "rogue.key",
            "-out",
            "rogue.pem",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
    );
    // The "corporate CA installed on the machine".
    std::env::set_var("SSL_CERT_FILE", dir.join("ca.pem"));

    let trusted = tls_server(
        &centrifugo,
        &dir.join("server.pem"),
        &dir.join("server.key"),
    );
    let rogue = tls_server(&centrifugo, &dir.join("rogue.pem"), &dir.join("rogue.key"));
    let host = Host::load_default();

    let api = host.create_with("Centrifugo", Mode::Server, "en_US");
    api.set(
        "ApiUrl",
        format!("https://localhost:{}", trusted.port).as_str(),
    )
    .unwrap();
    api.set("ApiKey", API_KEY).unwrap();
    api.call("Publish", &["tls".into(), "{}".into()])
        .expect("https API with the corporate CA");
    api.set(
        "ApiUrl",
        format!("https://localhost:{}", rogue.port).as_str(),
    )
    .unwrap();
    let error = api
        .call("Publish", &["tls".into(), "{}".into()])
        .unwrap_err();
    assert!(
        error.message().to_lowercase().contains("certificate"),
        "{}",
        error.message()
    );

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let token = tb_centrifugo::jwt::connection_token("alice", HMAC_SECRET, 600, "", now).unwrap();
    let client = host.create("Centrifugo");
    let url = format!("wss://localhost:{}/connection/websocket", trusted.port);
    client
        .call_proc("Connect", &[url.as_str().into(), token.as_str().into()])
        .unwrap();
    assert!(
        client
            .wait_event(Duration::from_secs(10), |e| e.name == "Connected")
            .is_some(),
        "{:?}",
        client.take_events()
    );
    assert_eq!(client.get("Connected").unwrap(), Val::Bool(true));

    let refused = host.create("Centrifugo");
    let url = format!("wss://localhost:{}/connection/websocket", rogue.port);
    refused
        .call_proc("Connect", &[url.as_str().into(), token.as_str().into()])
        .unwrap();
    let error = refused
        .wait_event(Duration::from_secs(10), |e| e.name == "Error")
        .unwrap_or_else(|| panic!("{:?}", refused.take_events()));
    let message: Value = serde_json::from_str(&error.data).unwrap();
    assert!(
        message["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("certificate"),
        "{message}"
    );
    assert!(refused.take_events().iter().all(|e| e.name != "Connected"));
    assert_eq!(refused.get("Connected").unwrap(), Val::Bool(false));
    let _ = std::fs::remove_dir_all(dir);
}
