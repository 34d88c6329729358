//! Transports: sockets, pipes and HTTP, each owned by one worker thread. No protocol logic here.

pub mod agent_pipe;
pub mod http;
pub mod pbx_http;
pub mod websocket;
