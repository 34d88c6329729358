//! Call sources for TelephonyBridge, sans I/O: bodies in, normalized call events and request bodies out.
//!
//! - [`model`]: the normalized call event (one JSON shape for every PBX) — start here.
//! - [`uiscom`]: UIScom `/in`, `/out`, `/rec` notifications; [`history`]: the seed's ИсторияЗвонков rules;
//!   [`uis_call_api`]: click-to-call through the UIS Call API (JSON-RPC 2.0).
//! - [`binotel`]: Binotel-style push events, signatures and API calls (Asterisk/FreePBX of Clinica Web), on top of
//!   [`php`], which sees JSON and forms exactly as PHP does, so signatures match byte for byte.
//! - [`binotel_webhook`]: Binotel's own webhook contract (API 4.0): `requestType` dispatch, the source-address
//!   allowlist, the `apiCallSettings` and `apiCallCompleted` replies.
//! - [`connect`]: 1C-Connect `Call` events.
//! - [`delivery`]: how a call reaches the operator's sessions — path choice, de-duplication, staleness, polling
//!   back-off, the pending card, addressing.
//! - [`pbx_lookup`]: the PBX asks at ring time — UIS «Интерактивная обработка вызова» and an Asterisk look-up.
//! - [`call_status`]: a call's status and flags (accepted, reached, no answer, lost, cancelled; missed, first
//!   contact, called back) from its events, and which missed calls a callback closes.
//! - [`call_access`]: who sees which calls and whose recordings (roles plus the per-user setting).
//! - [`journal`]: the call journal's filters and scopes, the callback-time intervals of the reports.
//! - [`phone_index`]: the phone-number index — the key of a number, every key of a card, the change on write.
//! - [`index_rebuild`]: when the phone index must be rebuilt without waiting for the nightly job.
//! - [`routing`]: whom to ring — the responsible manager or the group — from the facts 1C gathers.
//! - [`time`]: fixed-offset time handling shared by all of them.
//! - [`webhook`]: who may push a call in — the admission gates of the PBX webhooks (source, secret, size,
//!   signature, replay).
//!
//! Nothing here touches a socket, a thread or the system clock; the add-in's classes do the HTTP.
//!
//! Where the line to the add-in runs, and why:
//! - In: bytes and text in a documented format — a PBX's notification or answer, the seed's register record, a JSON
//!   array of call IDs — are decoded here, as any sans-IO decoder reads its wire format; the rules themselves take
//!   typed values ([`history::merge`] takes a [`history::PreviousRecord`] and a [`CallEvent`]).
//! - Out: typed values. [`CallEvent`], [`history::HistoryMerge`] and the API requests derive `Serialize` to the
//!   documented JSON shapes: that is data (the same for every consumer), not 1C vocabulary.
//! - Not here: which 1C method or event carries a value, member names, Diagnostics, and every text for people —
//!   [`CallsError`] is typed ([`Subject`], [`Problem`]); the add-in's `src/present/calls.rs` words it in English
//!   and Russian.

#![forbid(unsafe_code)]

pub mod binotel;
pub mod binotel_webhook;
pub mod call_access;
pub mod call_status;
pub mod connect;
pub mod delivery;
pub mod error;
pub mod fields;
pub mod history;
pub mod index_rebuild;
pub mod journal;
pub mod model;
pub mod pbx_lookup;
pub mod phone_index;
pub mod php;
pub mod routing;
pub mod time;
pub mod uis_call_api;
pub mod uis_control;
pub mod uiscom;
pub mod webhook;

pub use error::{CallsError, Problem, Subject, UisFault};
pub use model::{CallEvent, Customer, Direction, Employee, EventKind, Source};
pub use time::{civil_from_days, UtcOffset};
