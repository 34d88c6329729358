//! ConnectAgent: time from the agent's write of one `Call` event to the 1C form's ExternalEvent in the host (an
//! idle client that takes events at once). Unix only: the agent side is a Unix socket.
//! Run: `cargo bench --bench connect_agent_latency`. Besides criterion's estimate, prints p50/p99 over 5000 events.

#[cfg(unix)]
mod unix {
    use std::io::Write;
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::time::{Duration, Instant};

    use addin_host::{Host, Mode, Object, Val};
    use criterion::Criterion;

    const EVENT: &str = r#"<Event Time="2024-05-14 10:03:12" Mode="Softphone" Object="Call" Initiator="Incoming"><State>Finished</State><CallID>call-1</CallID><CallFrom>+74951234567</CallFrom><CallTo>user-1</CallTo><StartTime>2024-05-14 10:00:00</StartTime><AcceptTime>2024-05-14 10:00:07</AcceptTime><EndTime>2024-05-14 10:03:12</EndTime><Duration>192</Duration><BillSec>185</BillSec><CallResult>Success</CallResult></Event>"#;

    fn frame(xml: &str) -> Vec<u8> {
        let body: Vec<u8> = xml.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut out = (body.len() as u32).to_le_bytes().to_vec();
        out.extend(body);
        out
    }

    /// Write one event and poll (yielding the CPU, like an idle form's message loop) until the host has it.
    fn round_trip(agent: &mut UnixStream, object: &Object<'_>, bytes: &[u8]) -> Duration {
        let started = Instant::now();
        agent.write_all(bytes).unwrap();
        loop {
            let events = object.take_events();
            if events.iter().any(|e| e.name == "Call") {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "event lost: {events:?}"
            );
            std::thread::yield_now();
        }
    }

    pub fn latency(c: &mut Criterion) {
        let path = std::env::temp_dir().join(format!("tb-agent-bench-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let host = Host::load_default();
        let object = host.create_with("ConnectAgent", Mode::Client, "ru_RU");
        object.set("PipeAddress", path.to_str().unwrap()).unwrap();
        assert_eq!(
            object
                .call("ConnectToAgent", &[Val::from("bench")])
                .unwrap(),
            Val::Bool(true)
        );
        let (mut agent, _) = listener.accept().unwrap();
        object
            .wait_event(Duration::from_secs(10), |e| e.name == "Connected")
            .unwrap();
        let bytes = frame(EVENT);

        c.bench_function(
            "ConnectAgent: agent write -> ExternalEvent (Call event)",
            |b| {
                b.iter_custom(|iterations| {
                    (0..iterations)
                        .map(|_| round_trip(&mut agent, &object, &bytes))
                        .sum()
                })
            },
        );

        let mut samples: Vec<Duration> = (0..5000)
            .map(|_| round_trip(&mut agent, &object, &bytes))
            .collect();
        samples.sort_unstable();
        let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
        eprintln!(
            "ConnectAgent latency over {} events: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
            samples.len(),
            at(0.50),
            at(0.90),
            at(0.99),
            samples[samples.len() - 1]
        );
        drop(agent);
        let _ = object.done();
        let _ = std::fs::remove_file(&path);
    }
}

#[cfg(unix)]
criterion::criterion_group!(benches, unix::latency);
#[cfg(unix)]
criterion::criterion_main!(benches);

#[cfg(not(unix))]
fn main() {}
