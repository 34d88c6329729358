//! Decode throughput of `Call` events: frames → UTF-16 → XML → JSON, alone and through the connection core.
//! Run: `cargo bench -p tb-connect --bench decode`. Criterion reports bytes/s and events/s per group.

use std::time::Instant;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tb_connect::{encode_agent_frame, parse_message, Config, Core, FrameDecoder};

const EVENTS: usize = 1000;

fn call_event(index: usize) -> String {
    format!(
        r#"<Event Time="2024-05-14 10:{m:02}:{s:02}" Mode="Softphone" Object="Call" Initiator="Incoming">
<State>Finished</State>
<CallID>5f0c1c7e-8a4b-4d2a-9f6e-{index:012}</CallID>
<CallFrom>+7 (495) 123-45-67</CallFrom>
<CallTo>9a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9</CallTo>
<StartTime>2024-05-14 10:00:00</StartTime>
<AcceptTime>2024-05-14 10:00:07</AcceptTime>
<EndTime>2024-05-14 10:03:12</EndTime>
<Duration>192</Duration>
<BillSec>185</BillSec>
<CallResult>Success</CallResult>
</Event>"#,
        m = index % 60,
        s = (index / 60) % 60
    )
}

fn stream() -> Vec<u8> {
    (0..EVENTS)
        .flat_map(|i| encode_agent_frame(&call_event(i)))
        .collect()
}

fn decode(c: &mut Criterion) {
    let stream = stream();
    let chunk = 4096; // a typical pipe read
    for (unit, throughput) in [
        ("bytes", Throughput::Bytes(stream.len() as u64)),
        ("events", Throughput::Elements(EVENTS as u64)),
    ] {
        let mut group = c.benchmark_group(format!("call_decode_{unit}"));
        group.throughput(throughput);
        group.bench_with_input(
            BenchmarkId::new("frame_and_parse", chunk),
            &stream,
            |b, stream| {
                b.iter(|| {
                    let mut decoder = FrameDecoder::default();
                    let mut count = 0usize;
                    for piece in stream.chunks(chunk) {
                        decoder.push(piece);
                        while let Some(Ok(frame)) = decoder.next_frame() {
                            if parse_message(&frame.text, frame.number).is_ok() {
                                count += 1;
                            }
                        }
                    }
                    assert_eq!(count, EVENTS);
                    black_box(count)
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("connect_core", chunk),
            &stream,
            |b, stream| {
                let now = Instant::now();
                b.iter(|| {
                    let mut core = Core::new(Config::default(), 1);
                    core.connect(now);
                    core.handle_opened(now);
                    let mut count = 0usize;
                    for piece in stream.chunks(chunk) {
                        core.handle_bytes(piece, now);
                        while let Some(event) = core.poll_event() {
                            black_box(event);
                            count += 1;
                        }
                    }
                    assert_eq!(count, EVENTS + 1);
                    count
                })
            },
        );
        group.finish();
    }
}

criterion_group!(benches, decode);
criterion_main!(benches);
