#![no_main]
//! Feeds arbitrary frames to a connected client, splitting the input on 0xFF into messages.
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use tb_centrifugo::{Config, Core};

fuzz_target!(|data: &[u8]| {
    let mut now = Instant::now();
    let mut client = Core::new(Config::default());
    let _ = client.subscribe("a", "", now);
    client.connect("t", now);
    client.handle_opened(now);
    // One server-side subscription too, so pushes for it hit the tracked-stream paths.
    client.handle_frame(
        br#"{"id":1,"connect":{"client":"c","ping":25,"pong":true,"subs":{"s":{"recoverable":true,"epoch":"e","offset":1}}}}"#,
        now,
    );
    for frame in data.split(|b| *b == 0xFF) {
        client.handle_frame(frame, now);
        now += Duration::from_secs(3);
        client.handle_timeout(now);
        while client.poll_transmit().is_some() {}
        while client.poll_event().is_some() {}
    }
});
