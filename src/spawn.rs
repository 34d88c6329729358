//! Starts a named thread of the add-in: the only `thread::spawn` of the library, so every thread it runs is found
//! here. A leaf: it names no other module, so every layer may use it (the event delivery thread of `events`, the
//! workers of `driver`, the link's resolver threads handed down to `transport`, RaiseTestEvents in `native`).

use std::io;
use std::thread::JoinHandle;

/// Starts `body` on a thread called `name` (as a debugger or `ps -L` shows it).
pub fn spawn<F>(name: &str, body: F) -> io::Result<JoinHandle<()>>
where
    F: FnOnce() + Send + 'static,
{
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(body)
}
