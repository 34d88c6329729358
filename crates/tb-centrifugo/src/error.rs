//! The one error type of the Centrifugo core, as data: each variant says what is wrong and where; the add-in's
//! presentation layer (`src/present/centrifugo.rs`) words it in English and Russian. `Display` shows the variant
//! as data, for logs and test failures. No variant ever carries a secret: API keys, HMAC secrets and tokens are
//! never stored here.

use std::fmt;

/// One failure in a channel of a broadcast (the others may have succeeded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelFailure {
    pub channel: String,
    pub code: u32,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The HMAC secret passed to a token function is empty.
    EmptySecret,
    /// A required text argument (user, channel, URL...) is empty.
    EmptyArgument { what: Argument },
    /// A token lifetime that is zero, negative or absurdly long.
    InvalidLifetime { seconds: i64 },
    /// Extra claims for a connection token are not valid JSON.
    InvalidExtraClaims { reason: String },
    /// Extra claims for a connection token are valid JSON but not an object.
    ExtraClaimsNotObject,
    /// The API address is not an `http://` or `https://` URL.
    InvalidApiUrl { url: String },
    /// The API address breaks a rule of the address model (`tb_prims::address`): a password with a reserved
    /// character, a bad port, a control character…
    UnsafeApiUrl {
        url: String,
        problem: tb_prims::address::AddressProblem,
    },
    /// The API mode is not one of `modern`, `legacy`, `auto`.
    InvalidApiMode { value: String },
    /// The API key is empty while a request needs it.
    EmptyApiKey,
    /// HTTP 401/403 from the API: the key is wrong.
    WrongApiKey { url: String },
    /// HTTP 404 from the API in both modes: the address does not lead to a Centrifugo API.
    ApiNotFound { url: String },
    /// Any other unexpected HTTP status.
    HttpStatus {
        url: String,
        status: u16,
        body: String,
    },
    /// Centrifugo answered `{"error": {code, message}}`.
    Server {
        method: &'static str,
        code: u32,
        message: String,
    },
    /// A broadcast where some channels failed.
    BroadcastPartial { failures: Vec<ChannelFailure> },
    /// The API answered something that is not the expected JSON.
    InvalidResponse {
        method: &'static str,
        reason: String,
    },
    /// The API could not be reached (refused connection, DNS, TLS...). Filled in by the transport.
    Unreachable { url: String, reason: String },
    /// No answer within the timeout. Filled in by the transport.
    Timeout { url: String, milliseconds: u64 },
    /// A WebSocket frame from the server that is not Centrifugo JSON protocol.
    InvalidFrame { reason: String },
    /// A WebSocket address that is not `ws://` or `wss://`.
    InvalidWebSocketUrl { url: String },
    /// A WebSocket address that breaks a rule of the address model (a control character, white space, a
    /// non-ASCII host, a password with a reserved character, a bad port): refused by `Connect` before any
    /// thread sees it.
    UnsafeWebSocketUrl {
        url: String,
        problem: tb_prims::address::AddressProblem,
    },
    /// The API answered 3xx: not followed (the key would go along), not a success. `location` as sent, empty
    /// when there was none. Filled in by the transport.
    Redirected {
        url: String,
        status: u16,
        location: String,
    },
    /// A client operation that needs a subscription that does not exist.
    NotSubscribed { channel: String },
}

/// The text argument an [`Error::EmptyArgument`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Argument {
    Channel,
    Channels,
    /// The server API address of the caller's settings.
    ApiUrl,
    /// The user of a server API command (disconnect, unsubscribe, refresh).
    User,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for Error {}
