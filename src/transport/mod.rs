//! Transports move bytes and nothing else: the agent's pipe (Windows named pipe with overlapped I/O, Unix domain
//! socket), the WebSocket link phases, the blocking HTTP client, the one sans-IO proxy module and the one TLS
//! configuration. No protocol core is named here and no thread is started here (the driver drives the cores;
//! threads start in `crate::spawn`); failures are typed errors or the operating system's own text.

pub mod agent_pipe;
pub mod http;
pub mod proxy;
pub mod tls;
pub mod ws_link;
