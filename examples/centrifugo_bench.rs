//! Centrifugo figures on loopback, through the built add-in and the test host:
//! - publish → ExternalEvent latency (median, p99; from the publisher's clock before Publish to the add-in's
//!   ExternalEvent call) for the add-in, side by side with two official SDKs
//!   receiving the same publications in the same run: `centrifuge-python` and `centrifuge-go`
//!   (benches/centrifuge_go_subscriber, built by scripts/setup/20-centrifugo.sh into .tools/bin);
//! - publishes per second through the HTTP API with keep-alive;
//! - memory, threads and CPU of an idle connected client.
//!
//! Run: `scripts/setup/20-centrifugo.sh && cargo build --release --lib && cargo run --release --example centrifugo_bench`
//! (the example loads target/release/libtelephony_bridge.so, which only `cargo build` puts there;
//! TB_TOOLS_DIR, as for the setup script, says where .tools is)
//! (Linux: reads /proc/self for memory/threads/CPU.)

#[path = "../tests/support/centrifugo_server.rs"]
mod server;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use addin_host::{Host, Mode, Object};
use serde_json::{json, Value};
use server::{base_config, free_port, require, CentrifugoServer, API_KEY, HMAC_SECRET};

const LATENCY_SAMPLES: usize = 1000;
const THROUGHPUT_PUBLISHES: usize = 5000;

fn wall_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn token(user: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    tb_centrifugo::jwt::connection_token(user, HMAC_SECRET, 3600, "", now).unwrap()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn proc_status(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// utime + stime of this process, in clock ticks (1/100 s on Linux).
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit(')').next()?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Per thread name: (ns on a CPU, ns waiting on a run queue, times scheduled) from
/// /proc/<pid>/task/*/schedstat — where a process's threads spent the latency phase (Linux only).
fn schedstat(pid: u32) -> std::collections::BTreeMap<String, [u64; 3]> {
    let mut threads = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return threads;
    };
    for task in tasks.filter_map(Result::ok) {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        let fields: Vec<u64> = stat
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        if fields.len() == 3 {
            let entry: &mut [u64; 3] = threads.entry(name.trim().to_string()).or_default();
            for (sum, value) in entry.iter_mut().zip(fields) {
                *sum += value;
            }
        }
    }
    threads
}

/// What each thread of `pid` spent per publication between two [`schedstat`] snapshots: µs on a CPU,
/// µs runnable but waiting for one, and wake-ups.
fn schedstat_delta(
    before: &std::collections::BTreeMap<String, [u64; 3]>,
    after: &std::collections::BTreeMap<String, [u64; 3]>,
) -> Value {
    let per = LATENCY_SAMPLES as f64;
    let mut threads = serde_json::Map::new();
    for (name, end) in after {
        let start = before.get(name).copied().unwrap_or_default();
        let cpu = end[0].saturating_sub(start[0]) as f64 / 1000.0 / per;
        let queued = end[1].saturating_sub(start[1]) as f64 / 1000.0 / per;
        let runs = end[2].saturating_sub(start[2]) as f64 / per;
        if runs > 0.0 {
            threads.insert(
                name.clone(),
                json!({"cpu_us": (cpu * 10.0).round() / 10.0, "runqueue_wait_us": (queued * 10.0).round() / 10.0, "runs": (runs * 100.0).round() / 100.0}),
            );
        }
    }
    Value::Object(threads)
}

/// Threads named by the add-in's WebSocket worker.
fn worker_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(Result::ok)
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.trim().starts_with("tb-centrifugo"))
                })
                .count()
        })
        .unwrap_or(0)
}

fn wait_event(object: &Object, name: &str, timeout: Duration) -> Option<addin_host::Event> {
    object.wait_event(timeout, |e| e.name == name)
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut values = values.to_vec();
    values.sort_by(|a, b| a.total_cmp(b));
    values
}

fn summary(values: &[f64]) -> Value {
    let values = sorted(values);
    json!({"samples": values.len(), "median": percentile(&values, 0.5), "p99": percentile(&values, 0.99)})
}

/// A reference receiver: an official SDK in a child process that prints READY once subscribed, then one
/// `{"n": .., "latency_us": ..}` line per publication (benches/centrifugo_python_subscriber.py,
/// benches/centrifuge_go_subscriber). A missing one is said loudly and leaves its figures empty.
struct Reference {
    name: &'static str,
    child: Option<std::process::Child>,
    lines: Option<mpsc::Receiver<String>>,
}

impl Reference {
    fn start(
        name: &'static str,
        program: &Path,
        args: &[&std::ffi::OsStr],
        ws_url: &str,
        token: &str,
    ) -> Reference {
        if !program.is_file() {
            eprintln!(
                "{name} missing ({}): run scripts/setup/20-centrifugo.sh",
                program.display()
            );
            return Reference {
                name,
                child: None,
                lines: None,
            };
        }
        let mut child = Command::new(program)
            .args(args)
            .args([ws_url, token, "bench", &LATENCY_SAMPLES.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let ready = lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_default();
        assert_eq!(ready, "READY", "{name} subscriber did not start");
        Reference {
            name,
            child: Some(child),
            lines: Some(lines),
        }
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(std::process::Child::id)
    }

    /// Collects the latencies (µs) it printed, then stops the child.
    fn finish(&mut self) -> Vec<f64> {
        let mut latencies = Vec::new();
        if let Some(lines) = &self.lines {
            let deadline = Instant::now() + Duration::from_secs(30);
            while latencies.len() < LATENCY_SAMPLES && Instant::now() < deadline {
                if let Ok(line) = lines.recv_timeout(Duration::from_secs(1)) {
                    if let Ok(value) = serde_json::from_str::<Value>(&line) {
                        latencies.push(value["latency_us"].as_f64().unwrap_or(f64::NAN));
                    }
                }
            }
            if latencies.len() < LATENCY_SAMPLES {
                eprintln!(
                    "{}: {} of {LATENCY_SAMPLES} publications received",
                    self.name,
                    latencies.len()
                );
            }
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        latencies
    }
}

fn main() {
    let Some(binary) = require("centrifugo") else {
        return;
    };
    let server = CentrifugoServer::start(&binary, base_config(free_port(), "25s"));
    let host = Host::load_default();
    let baseline_rss = proc_status("VmRSS:");
    let baseline_threads = proc_status("Threads:");

    let api = host.create_with("Centrifugo", Mode::Server, "en_US");
    api.set("ApiUrl", server.api_url().as_str()).unwrap();
    api.set("ApiKey", API_KEY).unwrap();

    let client = host.create("Centrifugo");
    client
        .call_proc(
            "Connect",
            &[server.ws_url().as_str().into(), token("bench").into()],
        )
        .unwrap();
    wait_event(&client, "Connected", Duration::from_secs(10)).expect("connected");
    client.call_proc("Subscribe", &["bench".into()]).unwrap();
    wait_event(&client, "Subscribed", Duration::from_secs(10)).expect("subscribed");

    // The official Python and Go clients on the same channel, subscribed before the first publication.
    let tools = std::env::var_os("TB_TOOLS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools"));
    let python_script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/centrifugo_python_subscriber.py");
    let mut references = [
        Reference::start(
            "centrifuge-python",
            &tools.join("venv/bin/python"),
            &[python_script.as_os_str()],
            &server.ws_url(),
            &token("python"),
        ),
        Reference::start(
            "centrifuge-go",
            &tools.join("bin/centrifuge-go-subscriber"),
            &[],
            &server.ws_url(),
            &token("go"),
        ),
    ];

    // Latency: one publication at a time, the add-in's ExternalEvent timed by a spinning host.
    // Two measures of the add-in: `handed` is when its worker called ExternalEvent (the moment it hands the
    // event to the platform; what the SDKs' callbacks measure), `seen` is when the host thread saw it, which
    // also waits for this thread's own Publish call to return.
    let mut addin_seen = Vec::with_capacity(LATENCY_SAMPLES);
    let mut addin_handed = Vec::with_capacity(LATENCY_SAMPLES);
    let pids = [
        ("addin_host_process", Some(std::process::id())),
        ("centrifuge_python", references[0].pid()),
        ("centrifuge_go", references[1].pid()),
        ("centrifugo", server.pid()),
    ];
    let spin = std::env::var_os("TB_BENCH_SPIN").is_some_and(|v| v == "1");
    let sched_before: Vec<_> = pids.iter().map(|(_, pid)| pid.map(schedstat)).collect();
    for n in 0..LATENCY_SAMPLES {
        let sent = wall_ns();
        let data = json!({"n": n, "t": sent as u64}).to_string();
        api.call("Publish", &["bench".into(), data.as_str().into()])
            .expect("publish");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            client.pump();
            let events = client.take_events();
            if let Some(event) = events.iter().find(|e| e.name == "Publication") {
                let received = wall_ns();
                let value: Value = serde_json::from_str(&event.data).unwrap();
                assert_eq!(value["data"]["n"], n);
                addin_seen.push((received - sent) as f64 / 1000.0);
                addin_handed.push(event.handed_at_ns.saturating_sub(sent) as f64 / 1000.0);
                break;
            }
            assert!(Instant::now() < deadline, "publication {n} not received");
            // The platform's thread is idle in its message loop while an event is on its way, not spinning:
            // a host spinning here (even with yield) takes a core of two from the add-in's own worker
            // threads, which the SDKs in their own processes never pay. TB_BENCH_SPIN=1 spins (with
            // yield) as before, to see that cost.
            if spin {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(100));
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut per_publication = serde_json::Map::new();
    for ((name, pid), before) in pids.iter().zip(&sched_before) {
        if let (Some(pid), Some(before)) = (pid, before) {
            per_publication.insert(name.to_string(), schedstat_delta(before, &schedstat(*pid)));
        }
    }
    let reference_latencies: Vec<Vec<f64>> = references.iter_mut().map(Reference::finish).collect();

    // Throughput: publishes per second on one keep-alive connection (no subscriber on the channel).
    let started = Instant::now();
    for n in 0..THROUGHPUT_PUBLISHES {
        api.call(
            "Publish",
            &[
                "throughput".into(),
                json!({"n": n}).to_string().as_str().into(),
            ],
        )
        .expect("publish");
    }
    let publishes_per_second = THROUGHPUT_PUBLISHES as f64 / started.elapsed().as_secs_f64();

    // Idle connected client: memory, threads and CPU while nothing but pings happens. A second client
    // object is created here so its cost can be told apart from the host's and the API object's.
    client.pump();
    client.take_events();
    std::thread::sleep(Duration::from_millis(300));
    let rss_before_second = proc_status("VmRSS:");
    let workers_before_second = worker_threads();
    let second = host.create("Centrifugo");
    second
        .call_proc(
            "Connect",
            &[server.ws_url().as_str().into(), token("idle").into()],
        )
        .unwrap();
    wait_event(&second, "Connected", Duration::from_secs(10)).expect("connected");
    second.call_proc("Subscribe", &["idle".into()]).unwrap();
    wait_event(&second, "Subscribed", Duration::from_secs(10)).expect("subscribed");
    std::thread::sleep(Duration::from_millis(300));
    let rss_connected = proc_status("VmRSS:");
    let threads_connected = proc_status("Threads:");
    let workers_connected = worker_threads();
    let idle_seconds = 10;
    let cpu_before = cpu_ticks();
    std::thread::sleep(Duration::from_secs(idle_seconds));
    let cpu_after = cpu_ticks();

    let addin = sorted(&addin_handed);
    let result = json!({
        "samples": LATENCY_SAMPLES,
        "host_thread_while_waiting": if spin { "spins (yield)" } else { "sleeps 100 µs between pumps" },
        "addin_latency_us": summary(&addin_handed),
        "addin_seen_by_host_thread_latency_us": summary(&addin_seen),
        "centrifuge_python_latency_us": summary(&reference_latencies[0]),
        "centrifuge_go_latency_us": summary(&reference_latencies[1]),
        "median_ratio_addin_to_go": percentile(&addin, 0.5) / percentile(&sorted(&reference_latencies[1]), 0.5),
        "p99_ratio_addin_to_go": percentile(&addin, 0.99) / percentile(&sorted(&reference_latencies[1]), 0.99),
        "median_ratio_addin_to_python": percentile(&addin, 0.5) / percentile(&sorted(&reference_latencies[0]), 0.5),
        "threads_per_publication_in_latency_phase": per_publication,
        "http_api_publishes_per_second_keepalive": publishes_per_second.round(),
        "process_rss_kib": {"host_only": baseline_rss, "before_second_client": rss_before_second, "after_second_client_connected": rss_connected},
        "process_threads": {"host_only": baseline_threads, "total_with_two_clients": threads_connected},
        "client_worker_threads": {"one_client": workers_before_second, "two_clients": workers_connected},
        "idle_cpu_ticks_over_10s": cpu_after.zip(cpu_before).map(|(a, b)| a - b),
    });
    println!("{}", serde_json::to_string_pretty(&result).unwrap());
    drop(second);
    drop(client);
    drop(api);
    drop(server);
}
