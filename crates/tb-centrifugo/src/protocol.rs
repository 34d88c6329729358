//! Centrifugo client protocol, JSON flavour: decoding server frames, encoding commands.
//!
//! One WebSocket message may carry several replies separated by `\n`; the client may likewise
//! batch several commands into one message. A reply is `{"id": N, "<method>": {...}}` or
//! `{"id": N, "error": {...}}`; a push is `{"push": {...}}`; an empty object `{}` is a server ping.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::Error;

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct ReplyError {
    #[serde(default)]
    pub code: u32,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub temporary: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConnectResult {
    #[serde(default)]
    pub client: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub expires: bool,
    #[serde(default)]
    pub ttl: u32,
    #[serde(default)]
    pub ping: u32,
    #[serde(default)]
    pub pong: bool,
    #[serde(default)]
    pub data: Option<Box<RawValue>>,
    /// Server-side subscriptions (the token's `channels` claim, a connect proxy's answer), by channel.
    #[serde(default)]
    pub subs: BTreeMap<String, SubscribeResult>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SubscribeResult {
    #[serde(default)]
    pub expires: bool,
    #[serde(default)]
    pub ttl: u32,
    #[serde(default)]
    pub recoverable: bool,
    /// The server checks the stream position of this subscription (implied by `recoverable`).
    #[serde(default)]
    pub positioned: bool,
    #[serde(default)]
    pub epoch: String,
    #[serde(default)]
    pub publications: Vec<RawPublication>,
    #[serde(default)]
    pub recovered: bool,
    #[serde(default)]
    pub offset: u64,
    #[serde(default)]
    pub was_recovering: bool,
    #[serde(default)]
    pub data: Option<Box<RawValue>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RefreshResult {
    #[serde(default)]
    pub expires: bool,
    #[serde(default)]
    pub ttl: u32,
}

/// A publication as it appears on the wire (the channel is on the enclosing push).
#[derive(Debug, Clone, Deserialize)]
pub struct RawPublication {
    #[serde(default)]
    pub data: Option<Box<RawValue>>,
    #[serde(default)]
    pub info: Option<Box<RawValue>>,
    #[serde(default)]
    pub offset: u64,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CodeReason {
    #[serde(default)]
    pub code: u32,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub reconnect: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Push {
    #[serde(default)]
    pub channel: String,
    #[serde(default, rename = "pub")]
    pub publication: Option<RawPublication>,
    #[serde(default)]
    pub unsubscribe: Option<CodeReason>,
    #[serde(default)]
    pub disconnect: Option<CodeReason>,
    #[serde(default)]
    pub subscribe: Option<SubscribeResult>,
    #[serde(default)]
    pub refresh: Option<RefreshResult>,
    #[serde(default)]
    pub message: Option<Box<RawValue>>,
}

/// One decoded server reply or push. Unknown fields are ignored so newer servers keep working.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Reply {
    #[serde(default)]
    pub id: u32,
    #[serde(default)]
    pub error: Option<ReplyError>,
    #[serde(default)]
    pub push: Option<Push>,
    #[serde(default)]
    pub connect: Option<ConnectResult>,
    #[serde(default)]
    pub subscribe: Option<SubscribeResult>,
    #[serde(default)]
    pub refresh: Option<RefreshResult>,
    #[serde(default)]
    pub sub_refresh: Option<RefreshResult>,
    #[serde(default)]
    pub unsubscribe: Option<serde::de::IgnoredAny>,
}

impl Reply {
    /// `{}`: the server's ping, answered with `{}` when the connect reply said `pong: true`.
    pub fn is_ping(&self) -> bool {
        self.id == 0 && self.push.is_none() && self.error.is_none()
    }
}

/// A publication delivered to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    pub channel: String,
    /// The publication data exactly as the server sent it (JSON text).
    pub data: String,
    /// Stream offset; 0 when the channel keeps no history.
    pub offset: u64,
    /// Publisher info (`user`, `client`, `conn_info`, `chan_info`) as JSON text, when present.
    pub info: Option<String>,
    pub tags: BTreeMap<String, String>,
}

impl Publication {
    pub fn from_raw(channel: &str, raw: RawPublication) -> Publication {
        Publication {
            channel: channel.to_string(),
            data: raw
                .data
                .map(|d| d.get().to_string())
                .unwrap_or_else(|| "null".to_string()),
            offset: raw.offset,
            info: raw.info.map(|i| i.get().to_string()),
            tags: raw.tags,
        }
    }
}

/// Splits one WebSocket message into replies. Each line is decoded on its own so one bad line
/// does not hide the good ones; blank lines are skipped. Never panics.
pub fn decode_frame(frame: &[u8]) -> Vec<Result<Reply, Error>> {
    frame
        .split(|byte| *byte == b'\n')
        .filter(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
        .map(decode_reply)
        .collect()
}

fn decode_reply(line: &[u8]) -> Result<Reply, Error> {
    serde_json::from_slice::<Reply>(line).map_err(|e| Error::InvalidFrame {
        reason: format!(
            "{e} in {}",
            String::from_utf8_lossy(&line[..line.len().min(200)])
        ),
    })
}

/// Joins commands into one WebSocket message, newline-delimited, as the protocol allows.
pub fn encode_batch(commands: &[String]) -> String {
    commands.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_is_empty_object() {
        let replies = decode_frame(b"{}");
        assert_eq!(replies.len(), 1);
        assert!(replies[0].as_ref().unwrap().is_ping());
    }

    #[test]
    fn several_replies_in_one_frame() {
        let frame = b"{\"id\":1,\"connect\":{\"client\":\"c1\",\"version\":\"6.9.1\",\"ping\":25,\"pong\":true}}\n{\"push\":{\"channel\":\"calls\",\"pub\":{\"data\":{\"n\":1},\"offset\":7}}}\n\n";
        let replies = decode_frame(frame);
        assert_eq!(replies.len(), 2);
        let connect = replies[0].as_ref().unwrap().connect.as_ref().unwrap();
        assert_eq!((connect.ping, connect.pong), (25, true));
        let push = replies[1].as_ref().unwrap().push.clone().unwrap();
        let publication = Publication::from_raw(&push.channel, push.publication.unwrap());
        assert_eq!(publication.data, r#"{"n":1}"#);
        assert_eq!(publication.offset, 7);
    }

    #[test]
    fn bad_line_does_not_hide_good_ones() {
        let replies = decode_frame(b"{oops\n{}");
        assert!(replies[0].is_err());
        assert!(replies[1].as_ref().unwrap().is_ping());
    }

    #[test]
    fn error_reply() {
        let replies = decode_frame(br#"{"id":3,"error":{"code":109,"message":"token expired"}}"#);
        let reply = replies[0].as_ref().unwrap();
        assert_eq!(reply.error.as_ref().unwrap().code, 109);
        assert!(!reply.is_ping());
    }

    #[test]
    fn publication_keeps_data_and_info_as_sent() {
        let raw: RawPublication = serde_json::from_str(
            r#"{"data":"текст","offset":2,"info":{"user":"42","client":"c"},"tags":{"k":"v"}}"#,
        )
        .unwrap();
        let publication = Publication::from_raw("calls:#42", raw);
        assert_eq!(publication.data, r#""текст""#);
        assert_eq!(
            publication.info.as_deref(),
            Some(r#"{"user":"42","client":"c"}"#)
        );
        assert_eq!(publication.tags["k"], "v");
        assert_eq!(publication.channel, "calls:#42");
    }
}
