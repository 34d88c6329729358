//! Shared primitives of TelephonyBridge: small, dependency-free pieces that the sans-IO cores
//! (`tb-connect`, `tb-centrifugo`, `tb-calls`) and the add-in itself would otherwise each write again.
//!
//! - [`rng`]: SplitMix64 from a caller-supplied seed (jitter, IDs; never secrets) and v4 UUID text.
//! - [`backoff`]: one reconnect-delay formula with two jitter shapes — proportional (1C-Connect:
//!   0.5 s doubling to 30 s, ±20 %) and full (Centrifugo, as centrifuge-js: 0.5–20 s).
//! - [`timers`]: a table of named deadlines, so a core answers `next_timeout()` from one place.
//! - [`percent`]: percent-decoding of URL parts and form bodies.
//! - [`redact`]: the one redaction of shown URLs (`user:password@` and query values masked) and the secret
//!   field names the log masks.
//! - [`address`]: the one address model — every user-given URL parsed once into its parts (a scheme required,
//!   credentials found before `/?#`, reserved characters in a password refused with their escape).
//! - [`scrub`]: the one scrubber — every part of a configured secret masked in any text shown or logged.
//!
//! Nothing here reads a clock, a global RNG or the environment: every input is an argument, so the
//! cores stay replayable under a fake clock.

#![forbid(unsafe_code)]

pub mod address;
pub mod backoff;
pub mod percent;
pub mod redact;
pub mod rng;
pub mod scrub;
pub mod timers;

pub use backoff::{Backoff, BackoffPolicy, Jitter};
pub use rng::SplitMix64;
pub use timers::Timers;
