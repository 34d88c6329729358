//! The one error type of this crate, as data: every variant carries where it happened (frame number, byte offset
//! in the stream since the connection opened, element name) so the add-in's presentation layer (`src/present/`)
//! can tell a 1C developer whether the agent or the network is broken — in the user's language. No text for
//! people is written here; `Display` shows the variant as data, for logs and test failures.

use std::fmt;

use crate::model::Mode;

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
    /// The byte stream no longer looks like length-prefixed UTF-16 XML. Frame boundaries are lost, so the
    /// connection must be reopened.
    Desynchronized {
        frame: u64,
        stream_offset: u64,
        cause: DesyncCause,
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
    /// A frame body is not well-formed XML (or not the XML this protocol uses). `detail` is the XML parser's
    /// technical message, shown as it is in both languages.
    MalformedXml {
        frame: u64,
        position: u64,
        detail: String,
        excerpt: String,
    },
    /// The root element is neither `<Event>` nor `<CommandResult>`.
    UnexpectedRoot { frame: u64, tag: String },
    /// A command could not be built from the caller's parameters.
    InvalidCommand(CommandProblem),
}

/// Why a frame header proves the stream desynchronized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DesyncCause {
    /// The declared length exceeds the desync limit: no agent sends that much.
    LengthAboveLimit { declared: u64, limit: u64 },
    /// UTF-16 bodies have even length.
    OddLength { declared: u64 },
    /// The body's first two bytes are neither `<`, XML white space nor a BOM in UTF-16LE.
    NotXmlStart { first: [u8; 2] },
}

/// What is wrong with the caller's command parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandProblem {
    /// The recipient text is not JSON; `reason` is the JSON parser's message.
    RecipientNotJson {
        reason: String,
    },
    RecipientNotObject,
    /// The recipient for `mode` lacks the non-empty field `field`.
    RecipientFieldMissing {
        mode: Mode,
        field: &'static str,
    },
    /// A message can only go to `ServicesClients` or `Colleagues`.
    MessageModeInvalid {
        mode: Mode,
    },
    StatusEmpty,
    NumberEmpty,
}

impl ConnectError {
    /// True when the stream cannot continue and the transport must be reopened.
    pub fn requires_reconnect(&self) -> bool {
        matches!(self, ConnectError::Desynchronized { .. })
    }

    /// The message number and the stream offset, where the error has them.
    pub fn location(&self) -> (Option<u64>, Option<u64>) {
        match self {
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
            ConnectError::InvalidCommand(_) => (None, None),
        }
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for ConnectError {}

impl From<CommandProblem> for ConnectError {
    fn from(problem: CommandProblem) -> Self {
        ConnectError::InvalidCommand(problem)
    }
}
