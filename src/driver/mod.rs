//! Every thread the add-in keeps running for a class, and every exchange the 1C thread waits for. Threads are
//! started through `crate::spawn`; failures are returned typed ([`DriverError`], `http::HttpError`,
//! `centrifugo::LinkError`) and rendered by `present::driver`: no text a 1C developer reads is written here.
//!
//! - [`worker`]: the one worker skeleton (inbox, waker, deadline-driven wait, panic capture, bounded stop).
//! - [`centrifugo`] and [`agent`]: the small adapters that join one transport and one sans-IO core as a job.
//! - [`http`]: the one HTTP exchange runner of Centrifugo's API, UIScom and Binotel, with one status and error
//!   classification.

pub mod agent;
pub mod centrifugo;
pub mod http;
pub mod worker;

pub use worker::DriverError;
