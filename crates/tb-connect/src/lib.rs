//! Sans-IO core of the 1C-Connect agent protocol (named pipe `BuhphoneAgentAPI2_<Login>`).
//!
//! Bytes and a clock go in, events and bytes come out; this crate opens no pipe, starts no thread and never reads
//! the system clock. It knows nothing of 1C either: it emits typed facts ([`Event`], [`CommandOutcome`],
//! [`ConnectError`], [`State`], [`Stats`]) and the add-in's presentation layer turns them into 1C event names, Data
//! JSON and texts in the user's language. The add-in's transport worker owns one [`Core`] and does the I/O:
//!
//! ```text
//! loop {
//!     while let Some(t) = core.poll_transmit() { Open → open the pipe, report handle_opened/handle_open_failed;
//!                                                Bytes → write them in one call; Close → close the pipe }
//!     while let Some(event) = core.poll_event() { hand it to the presentation layer }
//!     wait for bytes (→ handle_bytes), a command from the application, or core.next_timeout() (→ handle_timeout)
//! }
//! ```
//!
//! The same vocabulary as `tb-centrifugo`: `Core`/`Config`/`Event`/`Stats`/`Transmit`, `handle_*`/`poll_*`/
//! `next_timeout`.
//!
//! - [`frame`]: agent → client framing (u32 LE length + UTF-16LE XML).
//! - [`message`]: `<Event>` / `<CommandResult>` XML to JSON-shaped data.
//! - [`command`]: client → agent commands (one UTF-8 XML document each); the unverified softphone call lives in
//!   [`command::unverified`].
//! - [`model`]: modes, objects, initiators, subscription keys and the driver's subscription groups.
//! - [`agent_error`]: the agent's documented `CommandResult` error constants.
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
    CommandOutcome, Config, Core, DisconnectReason, Event, Failure, LocalOutcome, State, Stats,
    Transmit,
};
pub use error::{CommandProblem, ConnectError, DesyncCause};
pub use frame::{decode_utf16le, encode_agent_frame, Frame, FrameDecoder};
pub use message::{parse_message, AgentEvent, AgentMessage, CommandResult};
pub use model::{DriverSubscription, EventObject, Initiator, Mode, OnlineStatus, SubscriptionKey};
pub use tb_prims::{BackoffPolicy, Jitter};
