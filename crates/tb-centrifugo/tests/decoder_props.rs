//! Property tests: the frame decoder and the client never panic, whatever the server sends.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use tb_centrifugo::protocol::decode_frame;
use tb_centrifugo::{Config, Core};

fn json_like() -> impl Strategy<Value = String> {
    let fragments = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\n",
        "\"id\"",
        "\"push\"",
        "\"pub\"",
        "\"connect\"",
        "\"subscribe\"",
        "\"error\"",
        "\"code\"",
        "\"disconnect\"",
        "\"unsubscribe\"",
        "\"channel\"",
        "\"data\"",
        "\"offset\"",
        "\"publications\"",
        "\"ttl\"",
        "\"expires\"",
        "true",
        "null",
        "1",
        "-1",
        "4294967296",
        "\"x\"",
        "{}",
        "\"ping\"",
        "\"pong\"",
        "\"refresh\"",
        "\"sub_refresh\"",
        "3500",
        "109",
        "2500",
        "\"\\u0000\"",
        "1e400",
    ]);
    prop::collection::vec(fragments, 0..40).prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn decoder_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_frame(&bytes);
    }

    #[test]
    fn decoder_never_panics_on_json_like_text(text in json_like()) {
        let _ = decode_frame(text.as_bytes());
    }

    #[test]
    fn client_survives_any_frames(frames in prop::collection::vec(json_like(), 0..20), gaps in prop::collection::vec(0u64..40_000, 0..20)) {
        let mut client = Core::new(Config::default());
        let mut now = Instant::now();
        client.subscribe("a", "", now).unwrap();
        client.connect("t", now);
        while client.poll_transmit().is_some() {}
        client.handle_opened(now);
        client.handle_frame(br#"{"id":1,"connect":{"client":"c","ping":25,"pong":true}}"#, now);
        for (i, frame) in frames.iter().enumerate() {
            client.handle_frame(frame.as_bytes(), now);
            now += Duration::from_millis(*gaps.get(i).unwrap_or(&0));
            client.handle_timeout(now);
            while client.poll_transmit().is_some() {}
            while client.poll_event().is_some() {}
        }
    }
}
