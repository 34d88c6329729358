//! One file per 1C class: a static member table whose entries bind the bilingual spec and its handler, and the
//! handlers, which hand work to the driver (threads, HTTP) and the facts they get to `present`. No class file
//! starts a thread or opens a socket.

mod binotel;
mod centrifugo;
mod connect_agent;
mod pbx;
mod uiscom;

pub use binotel::Binotel;
pub use centrifugo::Centrifugo;
pub use connect_agent::ConnectAgent;
pub use uiscom::UIScom;
