#![no_main]
//! Feeds arbitrary frames to a connected client, splitting the input on 0xFF into messages.
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use tb_centrifugo::{Client, ClientConfig};

fuzz_target!(|data: &[u8]| {
    let mut now = Instant::now();
    let mut client = Client::new(ClientConfig::default());
    let _ = client.subscribe("a", "", now);
    client.connect("t", now);
    client.transport_opened(now);
    client.handle_frame(br#"{"id":1,"connect":{"client":"c","ping":25,"pong":true}}"#, now);
    for frame in data.split(|b| *b == 0xFF) {
        client.handle_frame(frame, now);
        now += Duration::from_secs(3);
        client.handle_timeout(now);
        while client.poll_transmit().is_some() {}
        while client.poll_event().is_some() {}
    }
});
