//! Sans-IO core of the Centrifugo support in TelephonyBridge.
//!
//! - [`client`]: the real-time client (JSON protocol over WebSocket) as a state machine: bytes and a clock in,
//!   events and frames out; reconnects, pings, recovery and token refresh are decided here.
//! - [`api`]: the server HTTP API (publish, broadcast, history, presence, info) in modern and legacy forms.
//! - [`jwt`]: HS256 connection and subscription tokens.
//!
//! No sockets, threads, sleeps or system clock: the add-in's transports do the I/O. Nothing of 1C either: events,
//! states and errors are typed facts, and the add-in's presentation layer names and words them. The client uses
//! the same vocabulary as `tb-connect`: `Core`/`Config`/`Event`/`Stats`/`Transmit`, `handle_*`/`poll_*`/
//! `next_timeout`.

#![forbid(unsafe_code)]

pub mod api;
pub mod client;
mod error;
pub mod jwt;
pub mod protocol;

pub use api::{ApiCall, ApiCommand, ApiConfig, ApiKey, ApiMode, ApiStep, HttpRequest};
pub use client::{
    Config, Core, DisconnectCode, ErrorDetail, ErrorKind, Event, State, Stats, Transmit,
    UnsubscribeCode,
};
pub use error::{Argument, ChannelFailure, Error};
pub use protocol::Publication;

use tb_prims::address::{Address, AddressProblem};

/// Parses a WebSocket address before connecting (`tb_prims::address`): `ws://` or `wss://` with a host, a
/// password without reserved characters. The parsed address is what the connection uses.
pub fn validate_websocket_url(url: &str) -> Result<Address, Error> {
    let trimmed = url.trim();
    Address::parse(trimmed, &["ws", "wss"]).map_err(|problem| match problem {
        AddressProblem::NoScheme | AddressProblem::Scheme | AddressProblem::NoHost => {
            Error::InvalidWebSocketUrl {
                url: trimmed.to_string(),
            }
        }
        problem => Error::UnsafeWebSocketUrl {
            url: trimmed.to_string(),
            problem,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls() {
        assert!(validate_websocket_url("ws://127.0.0.1:8000/connection/websocket").is_ok());
        assert!(validate_websocket_url("WSS://c.example/connection/websocket").is_ok());
        assert!(validate_websocket_url("http://c.example").is_err());
        assert!(validate_websocket_url("ws://").is_err());
        assert!(matches!(
            validate_websocket_url("ws://сentrifugo.example/connection/websocket"),
            Err(Error::UnsafeWebSocketUrl { .. })
        ));
        assert!(matches!(
            validate_websocket_url("ws://h/x\r\nX-Evil: 1"),
            Err(Error::UnsafeWebSocketUrl { .. })
        ));
        assert!(matches!(
            validate_websocket_url("ws://user:pa/ss-SECRET@127.0.0.1:9/ws"),
            Err(Error::UnsafeWebSocketUrl {
                problem: AddressProblem::ReservedInUserinfo { character: '/' },
                ..
            })
        ));
    }
}
