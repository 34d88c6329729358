//! One file per 1C class: its bilingual member table and the glue to its protocol core.

mod binotel;
mod centrifugo;
mod connect_agent;
mod pbx;
mod uiscom;

pub use binotel::Binotel;
pub use centrifugo::Centrifugo;
pub use connect_agent::ConnectAgent;
pub use uiscom::UIScom;
