//! Call sources for TelephonyBridge, sans I/O: bodies in, normalized call events and request bodies out.
//!
//! - [`model`]: the normalized call event (one JSON shape for every PBX) — start here.
//! - [`uiscom`]: UIScom `/in`, `/out`, `/rec` notifications; [`history`]: the seed's ИсторияЗвонков rules;
//!   [`uis_call_api`]: click-to-call through the UIS Call API (JSON-RPC 2.0).
//! - [`binotel`]: Binotel-style push events, signatures and API calls (Asterisk/FreePBX of Clinica Web), on top of
//!   [`php`], which sees JSON and forms exactly as PHP does, so signatures match byte for byte.
//! - [`connect`]: 1C-Connect `Call` events.
//! - [`time`]: fixed-offset time handling shared by all of them.
//!
//! Nothing here touches a socket, a thread or the system clock; the add-in's classes do the HTTP.

#![forbid(unsafe_code)]

pub mod binotel;
pub mod connect;
pub mod error;
pub mod fields;
pub mod history;
pub mod model;
pub mod php;
pub mod time;
pub mod uis_call_api;
pub mod uiscom;

pub use error::CallsError;
pub use model::{CallEvent, Customer, Direction, Employee, EventKind, Source};
pub use time::{civil_from_days, UtcOffset};
