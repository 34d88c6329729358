//! Agent → client framing: a 4-byte little-endian `u32` body length, then the body as UTF-16LE XML without a BOM.
//!
//! The decoder is fed whatever the transport read (any split, several frames at once) and hands out whole
//! message texts. Two ways to fail, with different consequences:
//! - a frame whose declared length is plausible but above the cap is reported ([`ConnectError::FrameTooLarge`])
//!   and its body is skipped without buffering it; the next header follows it, so the stream stays in sync;
//! - a header that cannot belong to a real message (odd length, a length beyond the desync limit, or a body that
//!   does not begin like UTF-16LE XML) means the frame boundaries are lost. Scanning forward for the next header is
//!   not safe: inside a UTF-16 body every `<` is preceded by bytes that decode as a small length, so false matches
//!   are common. The decoder reports [`ConnectError::Desynchronized`], discards everything after it and the
//!   connection state machine asks the transport to reconnect (the agent restarts its stream per connection).

use crate::error::{ConnectError, DesyncCause};

/// Default cap on one message body: real agent messages are a few kilobytes.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// Default limit above which a declared length is taken as proof of desynchronisation rather than a big message.
pub const DEFAULT_DESYNC_LIMIT: u64 = 64 * 1024 * 1024;

const HEADER_LEN: usize = 4;
/// Consumed bytes are dropped from the front of the buffer once they exceed this (amortises the memmove).
const COMPACT_THRESHOLD: usize = 64 * 1024;

/// One decoded message text and where it was in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// 1-based number of the message since the connection opened.
    pub number: u64,
    /// Byte offset of the frame header since the connection opened.
    pub stream_offset: u64,
    /// The XML text, BOM removed.
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitingHeader,
    SkippingBody { remaining: u64 },
    Desynchronized,
}

/// Incremental decoder for the agent's framed stream. One per connection; [`FrameDecoder::reset`] on reconnect.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    max_body: usize,
    desync_limit: u64,
    buf: Vec<u8>,
    consumed: usize,
    state: State,
    frames_started: u64,
    stream_offset: u64,
    skipped_header_offset: u64,
    skipped_declared: u64,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_BODY, DEFAULT_DESYNC_LIMIT)
    }
}

impl FrameDecoder {
    /// `max_body`: larger messages are skipped with an error. `desync_limit`: larger declared lengths mean the stream
    /// is out of sync (raised to `max_body` if smaller).
    pub fn new(max_body: usize, desync_limit: u64) -> Self {
        FrameDecoder {
            max_body,
            desync_limit: desync_limit.max(max_body as u64),
            buf: Vec::new(),
            consumed: 0,
            state: State::AwaitingHeader,
            frames_started: 0,
            stream_offset: 0,
            skipped_header_offset: 0,
            skipped_declared: 0,
        }
    }

    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// Forget everything buffered; numbering and offsets restart (a new connection).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.consumed = 0;
        self.state = State::AwaitingHeader;
        self.frames_started = 0;
        self.stream_offset = 0;
    }

    /// True after a [`ConnectError::Desynchronized`] until [`FrameDecoder::reset`].
    pub fn is_desynchronized(&self) -> bool {
        self.state == State::Desynchronized
    }

    /// A frame has begun (header bytes, a body or an oversize body being skipped) and is not complete.
    pub fn mid_frame(&self) -> bool {
        self.buffered() > 0 || matches!(self.state, State::SkippingBody { .. })
    }

    /// Bytes held waiting for the rest of a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.consumed
    }

    /// Append bytes read from the transport. Call [`FrameDecoder::next_frame`] until it returns `None` afterwards.
    pub fn push(&mut self, mut bytes: &[u8]) {
        match self.state {
            State::Desynchronized => return,
            State::SkippingBody { remaining } if self.buffered() == 0 => {
                // Skip straight from the input so an oversize body never lands in memory.
                let skip = remaining.min(bytes.len() as u64) as usize;
                bytes = &bytes[skip..];
                self.stream_offset += skip as u64;
                let remaining = remaining - skip as u64;
                self.state = if remaining == 0 {
                    State::AwaitingHeader
                } else {
                    State::SkippingBody { remaining }
                };
            }
            _ => {}
        }
        if bytes.is_empty() {
            return;
        }
        if self.consumed == self.buf.len() {
            self.buf.clear();
            self.consumed = 0;
        } else if self.consumed >= COMPACT_THRESHOLD || self.consumed * 2 > self.buf.len() {
            self.buf.drain(..self.consumed);
            self.consumed = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    fn consume(&mut self, n: usize) {
        self.consumed += n;
        self.stream_offset += n as u64;
    }

    fn desync(&mut self, cause: DesyncCause) -> ConnectError {
        self.state = State::Desynchronized;
        self.buf.clear();
        self.consumed = 0;
        ConnectError::Desynchronized {
            frame: self.frames_started + 1,
            stream_offset: self.stream_offset,
            cause,
        }
    }

    /// A frame above the cap: report it and skip its body as it streams past, without buffering it.
    fn skip_body(&mut self, declared: u64) -> ConnectError {
        let error = ConnectError::FrameTooLarge {
            frame: self.frames_started + 1,
            stream_offset: self.stream_offset,
            declared,
            cap: self.max_body,
        };
        self.frames_started += 1;
        self.skipped_header_offset = self.stream_offset;
        self.skipped_declared = declared;
        self.consume(HEADER_LEN);
        self.state = State::SkippingBody {
            remaining: declared,
        };
        error
    }

    /// The next complete message, an error about one, or `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<Frame, ConnectError>> {
        loop {
            match self.state {
                State::Desynchronized => return None,
                State::SkippingBody { remaining } => {
                    let skip = remaining.min(self.buffered() as u64) as usize;
                    self.consume(skip);
                    let remaining = remaining - skip as u64;
                    if remaining > 0 {
                        self.state = State::SkippingBody { remaining };
                        return None;
                    }
                    self.state = State::AwaitingHeader;
                }
                State::AwaitingHeader => {
                    let available = &self.buf[self.consumed..];
                    let header = available.first_chunk::<HEADER_LEN>()?;
                    let declared = u32::from_le_bytes(*header) as u64;
                    if declared == 0 {
                        // Nothing to parse; treat as a no-op rather than an error so keep-alive style
                        // empty frames (if an agent ever sends them) cost nothing.
                        self.consume(HEADER_LEN);
                        self.frames_started += 1;
                        continue;
                    }
                    if declared > self.desync_limit {
                        let limit = self.desync_limit;
                        return Some(Err(
                            self.desync(DesyncCause::LengthAboveLimit { declared, limit })
                        ));
                    }
                    if declared % 2 == 1 {
                        return Some(Err(self.desync(DesyncCause::OddLength { declared })));
                    }
                    let Some(&[b0, b1]) = available.get(HEADER_LEN..HEADER_LEN + 2) else {
                        return None;
                    };
                    if !plausible_body_start(b0, b1) {
                        return Some(Err(
                            self.desync(DesyncCause::NotXmlStart { first: [b0, b1] })
                        ));
                    }
                    if declared > self.max_body as u64 {
                        return Some(Err(self.skip_body(declared)));
                    }
                    let body_len = declared as usize;
                    if available.len() < HEADER_LEN + body_len {
                        return None;
                    }
                    self.frames_started += 1;
                    let number = self.frames_started;
                    let stream_offset = self.stream_offset;
                    let body = &available[HEADER_LEN..HEADER_LEN + body_len];
                    let decoded =
                        decode_utf16le(body).map_err(|byte_offset| ConnectError::InvalidUtf16 {
                            frame: number,
                            byte_offset,
                        });
                    self.consume(HEADER_LEN + body_len);
                    return Some(decoded.map(|text| Frame {
                        number,
                        stream_offset,
                        text,
                    }));
                }
            }
        }
    }

    /// The connection ended: report a frame cut short, if any, and reset for the next connection.
    pub fn finish(&mut self) -> Option<ConnectError> {
        let truncated = match self.state {
            State::Desynchronized => None,
            State::SkippingBody { remaining } => Some(ConnectError::TruncatedFrame {
                frame: self.frames_started,
                stream_offset: self.skipped_header_offset,
                expected: HEADER_LEN as u64 + self.skipped_declared,
                received: HEADER_LEN as u64 + self.skipped_declared - remaining,
            }),
            State::AwaitingHeader => {
                let available = &self.buf[self.consumed..];
                if available.is_empty() {
                    None
                } else {
                    let expected = match available.first_chunk::<HEADER_LEN>() {
                        Some(header) => HEADER_LEN as u64 + u32::from_le_bytes(*header) as u64,
                        None => HEADER_LEN as u64,
                    };
                    Some(ConnectError::TruncatedFrame {
                        frame: self.frames_started + 1,
                        stream_offset: self.stream_offset,
                        expected,
                        received: available.len() as u64,
                    })
                }
            }
        };
        self.reset();
        truncated
    }
}

/// A body that begins with `<`, XML whitespace or a BOM, each as UTF-16LE.
fn plausible_body_start(b0: u8, b1: u8) -> bool {
    matches!(
        (b0, b1),
        (b'<' | b' ' | b'\t' | b'\r' | b'\n', 0) | (0xFF, 0xFE)
    )
}

/// Decode UTF-16LE, dropping a leading BOM. `Err` holds the body byte offset of the first bad code unit.
pub fn decode_utf16le(body: &[u8]) -> Result<String, usize> {
    if body.len() % 2 == 1 {
        return Err(body.len() - 1);
    }
    let units = body
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
    let mut text = String::with_capacity(body.len() / 2 + body.len() / 8);
    let mut unit_index = 0usize;
    for decoded in char::decode_utf16(units) {
        match decoded {
            Ok(ch) => {
                if !(unit_index == 0 && ch == '\u{FEFF}') {
                    text.push(ch);
                }
                unit_index += ch.len_utf16();
            }
            Err(_) => return Err(unit_index * 2),
        }
    }
    Ok(text)
}

/// Encode one agent → client frame (what the agent writes). Used by emulators, tests and benchmarks.
pub fn encode_agent_frame(xml: &str) -> Vec<u8> {
    let mut body: Vec<u8> = Vec::with_capacity(HEADER_LEN + xml.len() * 2);
    body.extend_from_slice(&[0; HEADER_LEN]);
    for unit in xml.encode_utf16() {
        body.extend_from_slice(&unit.to_le_bytes());
    }
    let len = (body.len() - HEADER_LEN) as u32;
    body[..HEADER_LEN].copy_from_slice(&len.to_le_bytes());
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(decoder: &mut FrameDecoder) -> Vec<Result<String, ConnectError>> {
        std::iter::from_fn(|| decoder.next_frame())
            .map(|r| r.map(|f| f.text))
            .collect()
    }

    #[test]
    fn decodes_one_frame() {
        let mut d = FrameDecoder::default();
        d.push(&encode_agent_frame("<Event/>"));
        assert_eq!(texts(&mut d), vec![Ok("<Event/>".to_string())]);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn decodes_byte_by_byte_and_coalesced() {
        let mut stream = encode_agent_frame("<A>привет</A>");
        stream.extend(encode_agent_frame("<B/>"));
        stream.extend(encode_agent_frame("<C>😀</C>"));
        let mut d = FrameDecoder::default();
        let mut out = Vec::new();
        for byte in &stream {
            d.push(std::slice::from_ref(byte));
            out.extend(texts(&mut d));
        }
        let expected: Vec<Result<String, ConnectError>> = vec![
            Ok("<A>привет</A>".into()),
            Ok("<B/>".into()),
            Ok("<C>😀</C>".into()),
        ];
        assert_eq!(out, expected);
        let mut d = FrameDecoder::default();
        d.push(&stream);
        assert_eq!(texts(&mut d), expected);
    }

    #[test]
    fn numbers_and_offsets_frames() {
        let first = encode_agent_frame("<A/>");
        let mut stream = first.clone();
        stream.extend(encode_agent_frame("<B/>"));
        let mut d = FrameDecoder::default();
        d.push(&stream);
        let a = d.next_frame().unwrap().unwrap();
        let b = d.next_frame().unwrap().unwrap();
        assert_eq!((a.number, a.stream_offset), (1, 0));
        assert_eq!((b.number, b.stream_offset), (2, first.len() as u64));
    }

    #[test]
    fn strips_bom() {
        let mut d = FrameDecoder::default();
        d.push(&encode_agent_frame("\u{FEFF}<A/>"));
        assert_eq!(texts(&mut d), vec![Ok("<A/>".to_string())]);
    }

    #[test]
    fn oversize_frame_is_skipped_and_stream_continues() {
        let big = format!("<A>{}</A>", "x".repeat(100));
        let mut stream = encode_agent_frame(&big);
        stream.extend(encode_agent_frame("<B/>"));
        for split in [1usize, 3, 7, 50, stream.len()] {
            let mut d = FrameDecoder::new(64, 1 << 20);
            let mut out = Vec::new();
            for chunk in stream.chunks(split) {
                d.push(chunk);
                out.extend(texts(&mut d));
            }
            assert_eq!(out.len(), 2, "split {split}");
            assert!(
                matches!(out[0], Err(ConnectError::FrameTooLarge { frame: 1, declared, cap: 64, .. }) if declared == (big.len() * 2) as u64)
            );
            assert_eq!(out[1], Ok("<B/>".to_string()));
            assert_eq!(d.buffered(), 0);
        }
    }

    #[test]
    fn absurd_length_desynchronizes() {
        let mut d = FrameDecoder::new(64, 1024);
        d.push(&[0xFF, 0xFF, 0xFF, 0x7F, b'<', 0]);
        let err = d.next_frame().unwrap().unwrap_err();
        assert!(err.requires_reconnect(), "{err}");
        assert!(d.is_desynchronized());
        d.push(&encode_agent_frame("<B/>"));
        assert!(d.next_frame().is_none());
        d.reset();
        d.push(&encode_agent_frame("<B/>"));
        assert_eq!(texts(&mut d), vec![Ok("<B/>".to_string())]);
    }

    #[test]
    fn odd_length_and_garbage_body_desynchronize() {
        let mut d = FrameDecoder::default();
        d.push(&[3, 0, 0, 0, b'<', 0, 0]);
        assert!(matches!(
            d.next_frame(),
            Some(Err(ConnectError::Desynchronized { .. }))
        ));
        let mut d = FrameDecoder::default();
        d.push(&[4, 0, 0, 0, b'x', b'y', 0, 0]);
        let err = d.next_frame().unwrap().unwrap_err();
        assert!(
            matches!(
                err,
                ConnectError::Desynchronized {
                    cause: DesyncCause::NotXmlStart {
                        first: [0x78, 0x79]
                    },
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn empty_frames_are_ignored() {
        let mut stream = vec![0, 0, 0, 0];
        stream.extend(encode_agent_frame("<A/>"));
        let mut d = FrameDecoder::default();
        d.push(&stream);
        let frame = d.next_frame().unwrap().unwrap();
        assert_eq!(frame.number, 2);
    }

    #[test]
    fn unpaired_surrogate_is_reported_and_skipped() {
        let mut stream = vec![6, 0, 0, 0, b'<', 0, 0x00, 0xD8, b'>', 0];
        stream.extend(encode_agent_frame("<B/>"));
        let mut d = FrameDecoder::default();
        d.push(&stream);
        assert_eq!(
            d.next_frame(),
            Some(Err(ConnectError::InvalidUtf16 {
                frame: 1,
                byte_offset: 2
            }))
        );
        assert_eq!(texts(&mut d), vec![Ok("<B/>".to_string())]);
    }

    #[test]
    fn truncated_frame_at_eof_is_reported() {
        let frame = encode_agent_frame("<Event/>");
        let mut d = FrameDecoder::default();
        d.push(&frame[..frame.len() - 3]);
        assert!(d.next_frame().is_none());
        assert_eq!(
            d.finish(),
            Some(ConnectError::TruncatedFrame {
                frame: 1,
                stream_offset: 0,
                expected: frame.len() as u64,
                received: frame.len() as u64 - 3
            })
        );
        assert_eq!(d.finish(), None);
        let mut d = FrameDecoder::default();
        d.push(&frame[..2]);
        assert!(matches!(
            d.finish(),
            Some(ConnectError::TruncatedFrame {
                expected: 4,
                received: 2,
                ..
            })
        ));
    }

    #[test]
    fn truncated_oversize_frame_at_eof_is_reported() {
        let big = encode_agent_frame(&format!("<A>{}</A>", "x".repeat(100)));
        let mut d = FrameDecoder::new(64, 1 << 20);
        d.push(&big[..100]);
        assert!(matches!(
            d.next_frame(),
            Some(Err(ConnectError::FrameTooLarge { .. }))
        ));
        assert!(d.next_frame().is_none());
        assert_eq!(
            d.finish(),
            Some(ConnectError::TruncatedFrame {
                frame: 1,
                stream_offset: 0,
                expected: big.len() as u64,
                received: 100
            })
        );
    }
}
