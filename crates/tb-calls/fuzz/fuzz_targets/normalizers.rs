#![no_main]
//! Every decoder of tb-calls on arbitrary bytes: UIScom, Binotel push (JSON and form), API replies, the PHP JSON
//! decoder/encoder, the history merge and 1C-Connect events. Any panic is a bug.

use libfuzzer_sys::fuzz_target;
use tb_calls::{binotel, connect, history, php, uiscom, UtcOffset};

fuzz_target!(|data: &[u8]| {
    let tz = UtcOffset::MOSCOW;
    let _ = uiscom::normalize(data, None, tz);
    let _ = binotel::parse_push(data, "", tz);
    let _ = binotel::parse_push(data, "application/x-www-form-urlencoded", tz);
    let _ = binotel::parse_call_details_response(data, "secret", tz);
    let _ = binotel::verify_body(data, "", "secret");
    if let Ok(value) = php::decode_json(data) {
        let _ = value.to_php_json();
    }
    let text = String::from_utf8_lossy(data);
    let mut middle = text.len() / 2;
    while !text.is_char_boundary(middle) {
        middle -= 1;
    }
    let (record, notification) = text.split_at(middle);
    let _ = history::merge_into_history(record, notification, data.len() % 2 == 0, &history::MergeOptions::default());
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = connect::normalize_call_event(&value, tz);
    }
});
