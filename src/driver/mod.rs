//! Every thread the add-in starts, and every exchange the 1C thread waits for.
//!
//! - [`worker`]: the one worker skeleton (inbox, waker, deadline-driven wait, panic capture, bounded stop) and
//!   [`spawn`], the only place a thread of the add-in is started.
//! - [`centrifugo`] and [`agent`]: the small adapters that join one transport and one sans-IO core as a job.
//! - [`http`]: the one HTTP exchange runner of Centrifugo's API, UIScom and Binotel, with one status and error
//!   classification.
//! - [`test_events`]: the thread behind RaiseTestEvents. The event delivery thread of `events` is started
//!   through [`spawn`] too.
//! - [`fault`]: fault injection for the panic tests of the built library.

pub mod agent;
pub mod centrifugo;
pub mod fault;
pub mod http;
pub mod test_events;
pub mod worker;

pub use worker::{spawn, DriverError};
