//! Property tests: how the transport splits the stream must not change what comes out, and no input panics.

use std::time::Instant;

use proptest::prelude::*;
use tb_connect::{encode_agent_frame, Config, Core, Event, FrameDecoder};

fn message_text() -> impl Strategy<Value = String> {
    let text = "[a-zA-Zа-яА-ЯёЁ0-9 .,!?😀&<>\"']{0,40}";
    (
        prop_oneof![
            Just("Call"),
            Just("Message"),
            Just("AgentOnlineStatus"),
            Just("RemoteAccessSession"),
            Just("Treatment")
        ],
        text,
    )
        .prop_map(|(object, body)| {
            let mut escaped = String::new();
            tb_connect::command::escape_into(&mut escaped, &body);
            format!(
                r#"<Event Time="2024-01-01 10:00:00" Mode="Softphone" Object="{object}" Initiator="Incoming"><State>Started</State><Text>{escaped}</Text></Event>"#
            )
        })
}

/// Cut `stream` at the given (sorted, deduplicated) points.
fn split(stream: &[u8], mut cuts: Vec<usize>) -> Vec<&[u8]> {
    cuts.retain(|c| *c > 0 && *c < stream.len());
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces = Vec::new();
    let mut start = 0;
    for cut in cuts {
        pieces.push(&stream[start..cut]);
        start = cut;
    }
    pieces.push(&stream[start..]);
    pieces
}

fn decode_all(pieces: &[&[u8]]) -> Vec<Result<String, String>> {
    let mut decoder = FrameDecoder::new(300, 1 << 20);
    let mut out = Vec::new();
    for piece in pieces {
        decoder.push(piece);
        while let Some(next) = decoder.next_frame() {
            out.push(next.map(|f| f.text).map_err(|e| e.to_string()));
        }
    }
    out
}

fn core_events(pieces: &[&[u8]]) -> Vec<Event> {
    let mut core = Core::new(
        Config {
            max_frame_body: 300,
            ..Config::default()
        },
        9,
    );
    let now = Instant::now();
    core.connect(now);
    core.handle_opened(now);
    let mut out = Vec::new();
    for piece in pieces {
        core.handle_bytes(piece, now);
        while let Some(event) = core.poll_event() {
            if !matches!(event, Event::Connected { .. }) {
                out.push(event);
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_split_gives_the_same_frames(
        messages in prop::collection::vec(message_text(), 1..8),
        cuts in prop::collection::vec(0usize..4000, 0..30),
    ) {
        let stream: Vec<u8> = messages.iter().flat_map(|m| encode_agent_frame(m)).collect();
        let whole = decode_all(&[&stream]);
        prop_assert_eq!(whole.len(), messages.len());
        let pieces = split(&stream, cuts);
        prop_assert_eq!(decode_all(&pieces), whole);
    }

    #[test]
    fn any_split_gives_the_same_events(
        messages in prop::collection::vec(message_text(), 1..8),
        cuts in prop::collection::vec(0usize..4000, 0..30),
    ) {
        let stream: Vec<u8> = messages.iter().flat_map(|m| encode_agent_frame(m)).collect();
        let whole = core_events(&[&stream]);
        let pieces = split(&stream, cuts);
        prop_assert_eq!(core_events(&pieces), whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        cuts in prop::collection::vec(0usize..600, 0..10),
    ) {
        let pieces = split(&bytes, cuts);
        let _ = core_events(&pieces);
    }

    #[test]
    fn arbitrary_text_never_panics_the_parser(text in "\\PC{0,200}") {
        let _ = tb_connect::parse_message(&text, 1);
    }

    #[test]
    fn framed_arbitrary_xmlish_text_never_panics(text in "[<>/=\"' a-zA-Z&;#0-9А-я]{0,200}") {
        let framed = encode_agent_frame(&text);
        let _ = core_events(&[&framed]);
    }
}
