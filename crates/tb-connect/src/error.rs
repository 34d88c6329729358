//! The one error type of this crate: English `Display`, Russian [`ConnectError::ru`].
//!
//! Every message names what went wrong and where (frame number, byte offset in the stream since the connection
//! opened, element name), so a 1C developer reading an `Error` event can tell a broken agent from a broken network.

use std::fmt;

/// Everything that can go wrong while decoding the agent's stream or building a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// A frame header declared a body larger than the configured cap. The body is skipped; the stream stays usable.
    FrameTooLarge {
        frame: u64,
        stream_offset: u64,
        declared: u64,
        cap: usize,
    },
    /// The byte stream no longer looks like length-prefixed UTF-16 XML (a header points into garbage or declares a
    /// length no agent would send). Frame boundaries are lost, so the connection must be reopened.
    Desynchronized {
        frame: u64,
        stream_offset: u64,
        detail: String,
    },
    /// The connection ended in the middle of a frame.
    TruncatedFrame {
        frame: u64,
        stream_offset: u64,
        expected: u64,
        received: u64,
    },
    /// A frame body is not valid UTF-16LE (odd length or an unpaired surrogate).
    InvalidUtf16 { frame: u64, byte_offset: usize },
    /// A frame body is not well-formed XML (or not the XML this protocol uses).
    MalformedXml {
        frame: u64,
        position: u64,
        detail: String,
        excerpt: String,
    },
    /// The root element is neither `<Event>` nor `<CommandResult>`.
    UnexpectedRoot { frame: u64, tag: String },
    /// A command could not be built from the caller's parameters.
    InvalidCommand { what: String, ru: String },
}

impl ConnectError {
    /// True when the stream cannot continue and the transport must be reopened.
    pub fn requires_reconnect(&self) -> bool {
        matches!(self, ConnectError::Desynchronized { .. })
    }

    /// A short stable identifier for programs (`Data.Code` of an `Error` event).
    pub fn code(&self) -> &'static str {
        match self {
            ConnectError::FrameTooLarge { .. } => "FrameTooLarge",
            ConnectError::Desynchronized { .. } => "Desynchronized",
            ConnectError::TruncatedFrame { .. } => "TruncatedFrame",
            ConnectError::InvalidUtf16 { .. } => "InvalidUtf16",
            ConnectError::MalformedXml { .. } => "MalformedXml",
            ConnectError::UnexpectedRoot { .. } => "UnexpectedRoot",
            ConnectError::InvalidCommand { .. } => "InvalidCommand",
        }
    }

    /// The Russian rendering of the same message.
    pub fn ru(&self) -> String {
        match self {
            ConnectError::FrameTooLarge {
                frame,
                stream_offset,
                declared,
                cap,
            } => format!(
                "сообщение агента №{frame} (смещение {stream_offset} байт в потоке) объявляет длину {declared} байт, \
                 больше допустимых {cap}; сообщение пропущено, соединение продолжает работать"
            ),
            ConnectError::Desynchronized {
                frame,
                stream_offset,
                detail,
            } => format!(
                "поток агента рассинхронизирован у сообщения №{frame} (смещение {stream_offset} байт): {}; \
                 границы сообщений потеряны, соединение будет переоткрыто",
                desync_detail_ru(detail)
            ),
            ConnectError::TruncatedFrame {
                frame,
                stream_offset,
                expected,
                received,
            } => format!(
                "соединение закрылось посреди сообщения агента №{frame} (смещение {stream_offset} байт): \
                 ожидалось {expected} байт, получено {received}"
            ),
            ConnectError::InvalidUtf16 { frame, byte_offset } => format!(
                "сообщение агента №{frame} не является корректным текстом UTF-16LE (позиция {byte_offset} байт в теле)"
            ),
            ConnectError::MalformedXml {
                frame,
                position,
                detail,
                excerpt,
            } => format!(
                "сообщение агента №{frame} не является корректным XML (позиция {position}): {detail}; начало: «{excerpt}»"
            ),
            ConnectError::UnexpectedRoot { frame, tag } => format!(
                "сообщение агента №{frame} имеет корневой элемент <{tag}>, ожидался <Event> или <CommandResult>"
            ),
            ConnectError::InvalidCommand { ru, .. } => ru.clone(),
        }
    }
}

fn desync_detail_ru(detail: &str) -> String {
    // The English details are produced in one place (frame.rs) from a fixed set; translate that set here.
    if let Some(rest) = detail.strip_prefix("declared length ") {
        return format!("объявленная длина {rest}");
    }
    if let Some(rest) = detail.strip_prefix("body does not start like UTF-16LE XML: ") {
        return format!("тело не похоже на XML в UTF-16LE: {rest}");
    }
    detail.to_string()
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::FrameTooLarge {
                frame,
                stream_offset,
                declared,
                cap,
            } => write!(
                f,
                "agent message #{frame} (stream offset {stream_offset}) declares {declared} bytes, more than the \
                 {cap}-byte cap; the message was skipped and the connection continues"
            ),
            ConnectError::Desynchronized {
                frame,
                stream_offset,
                detail,
            } => write!(
                f,
                "agent stream desynchronized at message #{frame} (stream offset {stream_offset}): {detail}; \
                 message boundaries are lost, the connection will be reopened"
            ),
            ConnectError::TruncatedFrame {
                frame,
                stream_offset,
                expected,
                received,
            } => write!(
                f,
                "connection closed in the middle of agent message #{frame} (stream offset {stream_offset}): \
                 expected {expected} bytes, received {received}"
            ),
            ConnectError::InvalidUtf16 { frame, byte_offset } => write!(
                f,
                "agent message #{frame} is not valid UTF-16LE text (body byte {byte_offset})"
            ),
            ConnectError::MalformedXml {
                frame,
                position,
                detail,
                excerpt,
            } => write!(
                f,
                "agent message #{frame} is not well-formed XML (position {position}): {detail}; starts with \"{excerpt}\""
            ),
            ConnectError::UnexpectedRoot { frame, tag } => write!(
                f,
                "agent message #{frame} has root element <{tag}>, expected <Event> or <CommandResult>"
            ),
            ConnectError::InvalidCommand { what, .. } => f.write_str(what),
        }
    }
}

impl std::error::Error for ConnectError {}

impl ConnectError {
    pub(crate) fn invalid_command(en: impl Into<String>, ru: impl Into<String>) -> Self {
        ConnectError::InvalidCommand {
            what: en.into(),
            ru: ru.into(),
        }
    }
}

impl ConnectError {
    /// `Data` of the add-in's `Error` event: a stable code, both languages, and the location when there is one.
    pub fn to_json(&self) -> serde_json::Value {
        let mut data = serde_json::Map::new();
        data.insert("Code".into(), self.code().into());
        data.insert("DescriptionEn".into(), self.to_string().into());
        data.insert("DescriptionRu".into(), self.ru().into());
        let (frame, offset) = match self {
            ConnectError::FrameTooLarge {
                frame,
                stream_offset,
                ..
            }
            | ConnectError::Desynchronized {
                frame,
                stream_offset,
                ..
            }
            | ConnectError::TruncatedFrame {
                frame,
                stream_offset,
                ..
            } => (Some(*frame), Some(*stream_offset)),
            ConnectError::InvalidUtf16 { frame, .. }
            | ConnectError::MalformedXml { frame, .. }
            | ConnectError::UnexpectedRoot { frame, .. } => (Some(*frame), None),
            ConnectError::InvalidCommand { .. } => (None, None),
        };
        if let Some(frame) = frame {
            data.insert("Frame".into(), frame.into());
        }
        if let Some(offset) = offset {
            data.insert("StreamOffset".into(), offset.into());
        }
        serde_json::Value::Object(data)
    }
}
