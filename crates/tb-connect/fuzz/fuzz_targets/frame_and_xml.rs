//! Fuzz the agent → client path: framing, UTF-16 decoding, XML parsing and the connection core.
//! The first byte picks a read size so split frames are exercised too.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use tb_connect::{parse_message, Config, Core, FrameDecoder};

fuzz_target!(|data: &[u8]| {
    let Some((&split, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(split).max(1);

    let mut decoder = FrameDecoder::new(4096, 1 << 20);
    for piece in stream.chunks(chunk) {
        decoder.push(piece);
        while let Some(next) = decoder.next_frame() {
            if let Ok(frame) = next {
                let _ = parse_message(&frame.text, frame.number);
            }
        }
    }
    let _ = decoder.finish();

    let now = Instant::now();
    let mut core = Core::new(
        Config {
            max_frame_body: 4096,
            ..Config::default()
        },
        1,
    );
    core.connect(now);
    core.handle_opened(now);
    for piece in stream.chunks(chunk) {
        core.handle_bytes(piece, now);
        while let Some(event) = core.poll_event() {
            let _ = event;
        }
    }

    // The XML parser also sees raw UTF-8 text directly, without framing.
    if let Ok(text) = std::str::from_utf8(stream) {
        let _ = parse_message(text, 1);
    }
});
