//! Transports move bytes and nothing else: the agent's pipe (Windows named pipe with overlapped I/O, Unix domain
//! socket), the WebSocket link phases, the blocking HTTP client, the one sans-IO proxy module and the one TLS
//! configuration. No protocol core is driven here and no thread is started here (that is `driver`).

pub mod agent_pipe;
pub mod http;
pub mod proxy;
pub mod tls;
pub mod ws_link;
