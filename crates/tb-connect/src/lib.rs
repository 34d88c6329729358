//! Sans-IO core of the 1C-Connect agent protocol (named pipe `BuhphoneAgentAPI2_<Login>`).
//!
//! Bytes and a clock go in, events and bytes come out; this crate opens no pipe, starts no thread and never reads
//! the system clock. The add-in's transport worker owns one [`ConnectCore`] and does the I/O:
//!
//! ```text
//! loop {
//!     while let Some(action) = core.poll_action() { open/close the pipe; report transport_opened/…_failed }
//!     while let Some(bytes) = core.poll_transmit() { write them in one call }
//!     while let Some(event) = core.poll_event() { hand event.name()/event.data() to 1C }
//!     wait for bytes (→ handle_bytes), a command from 1C, or core.next_timeout() (→ handle_timeout)
//! }
//! ```
//!
//! - [`frame`]: agent → client framing (u32 LE length + UTF-16LE XML).
//! - [`message`]: `<Event>` / `<CommandResult>` XML to JSON.
//! - [`command`]: client → agent commands (one UTF-8 XML document each); the unverified softphone call lives in
//!   [`command::unverified`].
//! - [`model`]: modes, objects, initiators, subscription keys and the 1C driver's subscription methods.
//! - [`agent_error`]: the agent's documented `CommandResult` error constants with explanations.
//! - [`connection`]: the connection state machine tying it together.

#![forbid(unsafe_code)]

pub mod agent_error;
pub mod command;
pub mod connection;
pub mod error;
pub mod frame;
pub mod message;
pub mod model;

pub use agent_error::AgentErrorCode;
pub use command::{Command, Recipient};
pub use connection::{
    CommandOutcome, ConnectCore, CoreConfig, CoreEvent, CoreStats, DisconnectReason, LocalOutcome,
    TransportAction,
};
pub use error::ConnectError;
pub use frame::{decode_utf16le, encode_agent_frame, Frame, FrameDecoder};
pub use message::{parse_message, AgentEvent, AgentMessage, CommandResult};
pub use model::{DriverSubscription, EventObject, Initiator, Mode, OnlineStatus, SubscriptionKey};
pub use tb_prims::BackoffPolicy;
