#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tb_centrifugo::protocol::decode_frame(data);
});
