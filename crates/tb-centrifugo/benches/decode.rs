//! Decoding cost of the hot path: a publication push arriving on a connected client.

use std::time::Instant;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tb_centrifugo::protocol::decode_frame;
use tb_centrifugo::{Config, Core};

const PUBLICATION_TEXT: &str = r#"{"push":{"channel":"calls:#101","pub":{"data":{"event":"in","call_session_id":123456789012,"calling_phone_number":"79001234567","extension_phone_number":"101","text":"Входящий звонок"},"offset":42,"info":{"user":"1c-server","client":"0b7c"}}}}"#;
const PUBLICATION: &[u8] = PUBLICATION_TEXT.as_bytes();

fn decode(c: &mut Criterion) {
    c.bench_function("decode_frame publication", |b| {
        b.iter(|| decode_frame(black_box(PUBLICATION)))
    });

    let batch: Vec<u8> = std::iter::repeat_n(PUBLICATION, 10)
        .collect::<Vec<_>>()
        .join(&b'\n');
    c.bench_function("decode_frame 10 publications", |b| {
        b.iter(|| decode_frame(black_box(&batch)))
    });

    let now = Instant::now();
    let mut client = Core::new(Config::default());
    client.connect("t", now);
    while client.poll_transmit().is_some() {}
    client.handle_opened(now);
    client.handle_frame(
        br#"{"id":1,"connect":{"client":"c","ping":25,"pong":true}}"#,
        now,
    );
    while client.poll_transmit().is_some() {}
    while client.poll_event().is_some() {}
    c.bench_function("client publication to event", |b| {
        b.iter(|| {
            client.handle_frame(black_box(PUBLICATION), now);
            black_box(client.poll_event())
        })
    });
}

criterion_group!(benches, decode);
criterion_main!(benches);
