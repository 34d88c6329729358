//! Real Centrifugo and Redis processes for the tests, plus a TCP proxy that can cut, refuse and freeze.
//!
//! Centrifugo, Redis and openssl come from `$TB_TOOLS_DIR/bin`, `.tools/bin` (both where
//! `scripts/setup/20-centrifugo.sh` installs them) or PATH. A missing one is a loud skip
//! (`addin_host::skip`): a `TB-SKIP` line outside CI, a failure with `CI` set.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use addin_host::skip::{skip_with, Policy};
use serde_json::{json, Value};

pub const API_KEY: &str = "test-api-key-5f1c";
pub const HMAC_SECRET: &str = "test-hmac-secret-9a7d";

/// `name` in `<tools_dir>/bin` (`TB_TOOLS_DIR`, as the setup scripts use it), else in the repository's
/// `.tools/bin` (their default), else on `path`.
pub fn find_tool(name: &str, tools_dir: Option<&OsStr>, path: Option<&OsStr>) -> Option<PathBuf> {
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools");
    let installed = tools_dir
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .chain([default])
        .map(|dir| dir.join("bin"));
    let on_path = path
        .map(|p| std::env::split_paths(p).collect::<Vec<_>>())
        .unwrap_or_default();
    installed
        .chain(on_path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The program, or None after a loud skip (a failure in CI: `addin_host::skip`).
pub fn require(name: &str) -> Option<PathBuf> {
    require_with(name, &Policy::from_env())
}

/// [`require`] under an explicit skip policy.
pub fn require_with(name: &str, policy: &Policy) -> Option<PathBuf> {
    // The servers and tools come from scripts/setup as Linux programs. A Windows test binary runs
    // under Wine, which starts them without their arguments, so these tests run in the Linux pass.
    if cfg!(windows) {
        skip_with(
            policy,
            "wine-linux-program",
            &format!("{name} is a Linux program: Wine cannot start it with arguments; the Linux pass runs this test"),
        );
        return None;
    }
    let tools_dir = std::env::var_os("TB_TOOLS_DIR");
    let path = std::env::var_os("PATH");
    let found = find_tool(name, tools_dir.as_deref(), path.as_deref());
    if found.is_none() {
        skip_with(
            policy,
            "tool-missing",
            &format!(
                "{name} is not installed (looked in $TB_TOOLS_DIR/bin, .tools/bin and PATH): run scripts/setup/20-centrifugo.sh"
            ),
        );
    }
    found
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tb-cf-{tag}-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The namespaces every test server has:
/// - no namespace: history + recovery, anyone connected may subscribe (tests of delivery);
/// - `calls`: user-limited channels `calls:#<user>` only that user may subscribe to, history + recovery;
/// - `private`: subscription token required (no allow_subscribe_for_client).
pub fn base_config(port: u16, ping_interval: &str) -> Value {
    let history = json!({
        "history_size": 1000, "history_ttl": "600s", "force_recovery": true, "force_positioning": false,
        "presence": true, "allow_subscribe_for_client": true
    });
    json!({
        "http_server": {"address": "127.0.0.1", "port": port},
        "http_api": {"key": API_KEY},
        "client": {
            "token": {"hmac_secret_key": HMAC_SECRET},
            "allowed_origins": ["*"],
            "ping_interval": ping_interval,
            "pong_timeout": "1s",
            "expired_close_delay": "2s"
        },
        "channel": {
            "without_namespace": history,
            "namespaces": [
                {"name": "calls", "history_size": 1000, "history_ttl": "600s", "force_recovery": true,
                 "presence": true, "allow_user_limited_channels": true},
                {"name": "private", "history_size": 100, "history_ttl": "600s", "force_recovery": true}
            ]
        },
        "health": {"enabled": true},
        "log": {"level": "warn"}
    })
}

pub struct CentrifugoServer {
    pub port: u16,
    binary: PathBuf,
    config_path: PathBuf,
    child: Option<Child>,
    log_path: PathBuf,
}

impl CentrifugoServer {
    pub fn start(binary: &Path, config: Value) -> CentrifugoServer {
        let port = config["http_server"]["port"].as_u64().unwrap() as u16;
        let dir = temp_dir("centrifugo");
        let config_path = dir.join("config.json");
        std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
        let mut server = CentrifugoServer {
            port,
            binary: binary.to_path_buf(),
            config_path,
            child: None,
            log_path: dir.join("centrifugo.log"),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .unwrap();
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(&self.config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start centrifugo");
        self.child = Some(child);
        assert!(
            wait_port(self.port, Duration::from_secs(20)),
            "centrifugo did not listen on {}: {}",
            self.port,
            self.log()
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The server process's id while it runs (benchmarks read its CPU time).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/connection/websocket", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for CentrifugoServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub struct RedisServer {
    pub port: u16,
    child: Child,
}

impl RedisServer {
    pub fn start(binary: &Path) -> RedisServer {
        let port = free_port();
        let dir = temp_dir("redis");
        let child = Command::new(binary)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        assert!(
            wait_port(port, Duration::from_secs(10)),
            "redis did not listen"
        );
        RedisServer { port, child }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const MODE_PASS: u8 = 0;
const MODE_REFUSE: u8 = 1;
const MODE_FREEZE: u8 = 2;

/// A TCP forwarder between the add-in and a server that the test can turn hostile.
pub struct TcpProxy {
    pub port: u16,
    mode: Arc<AtomicU8>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
}

impl TcpProxy {
    pub fn start(target_port: u16) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let mode = Arc::new(AtomicU8::new(MODE_PASS));
        let connections: Arc<Mutex<Vec<TcpStream>>> = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (mode2, connections2, stop2) = (mode.clone(), connections.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        if mode2.load(Ordering::Relaxed) == MODE_REFUSE {
                            let _ = client.shutdown(Shutdown::Both);
                            continue;
                        }
                        let _ = client.set_nonblocking(false);
                        let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
                            let _ = client.shutdown(Shutdown::Both);
                            continue;
                        };
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        {
                            let mut list = connections2.lock().unwrap();
                            list.push(client.try_clone().unwrap());
                            list.push(server.try_clone().unwrap());
                        }
                        pipe(
                            client.try_clone().unwrap(),
                            server.try_clone().unwrap(),
                            mode2.clone(),
                        );
                        pipe(server, client, mode2.clone());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TcpProxy {
            port,
            mode,
            connections,
            stop,
        }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/connection/websocket", self.port)
    }

    /// Closes every open connection and refuses new ones until `pass()`.
    pub fn cut_and_refuse(&self) {
        self.mode.store(MODE_REFUSE, Ordering::Relaxed);
        for stream in self.connections.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Keeps connections open but forwards nothing: the server looks alive to TCP and dead to the protocol.
    pub fn freeze(&self) {
        self.mode.store(MODE_FREEZE, Ordering::Relaxed);
    }

    pub fn pass(&self) {
        self.mode.store(MODE_PASS, Ordering::Relaxed);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for stream in self.connections.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream, mode: Arc<AtomicU8>) {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buffer) {
                // A frozen link hides the server's close too: the client must find out by itself.
                Ok(0) | Err(_) if mode.load(Ordering::Relaxed) == MODE_FREEZE => return,
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            // Frozen: swallow the bytes (the peer never learns anything arrived).
            if mode.load(Ordering::Relaxed) == MODE_FREEZE {
                continue;
            }
            if to.write_all(&buffer[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}

/// A minimal HTTP `CONNECT` proxy (what corporate networks put between 1C and the internet).
/// Records the request heads it received so a test can check the `Proxy-Authorization` header.
pub struct ConnectProxy {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { continue };
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match client.read(&mut byte) {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let head = String::from_utf8_lossy(&head).to_string();
                    seen.lock().unwrap().push(head.clone());
                    let target = head.split_whitespace().nth(1).unwrap_or("").to_string();
                    let Ok(server) = TcpStream::connect(target.as_str()) else {
                        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
                        return;
                    };
                    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                    let mode = Arc::new(AtomicU8::new(MODE_PASS));
                    pipe(
                        client.try_clone().unwrap(),
                        server.try_clone().unwrap(),
                        mode.clone(),
                    );
                    pipe(server, client, mode);
                });
            }
        });
        ConnectProxy { port, requests }
    }
}

/// An HTTP front that behaves like Centrifugo v2–v4 for the API: `POST /api` reaches the real server,
/// `POST /api/<method>` gets 404 (those versions had no such routes). One request per connection.
pub struct LegacyOnlyFront {
    pub port: u16,
}

impl LegacyOnlyFront {
    pub fn start(target_port: u16) -> LegacyOnlyFront {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                std::thread::spawn(move || serve_legacy_only(client, target_port));
            }
        });
        LegacyOnlyFront { port }
    }

    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn serve_legacy_only(mut client: TcpStream, target_port: u16) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head_text = String::from_utf8_lossy(&head).to_string();
    let path = head_text
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    let length: usize = head_text
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    if client.read_exact(&mut body).is_err() {
        return;
    }
    if path != "/api" {
        let _ = client.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 19\r\nConnection: close\r\n\r\n404 page not found\n");
        return;
    }
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", target_port)) else {
        return;
    };
    // Ask the server to close after its answer, so copying until EOF ends the exchange.
    let head_text = head_text.replacen("\r\n", "\r\nConnection: close\r\n", 1);
    let _ = server.write_all(head_text.as_bytes());
    let _ = server.write_all(&body);
    let mut answer = Vec::new();
    let _ = server.read_to_end(&mut answer);
    let _ = client.write_all(&answer);
}
