//! Fault injection for the panic tests of the real built library: entry points of the Native API and worker
//! threads (named by their thread name, checked as each command arrives). A leaf that names no other module, so
//! the boundary (`native`) and the workers (`driver`) reach the same hook without reaching into each other.
//!
//! Off unless `TELEPHONYBRIDGE_FAULT_INJECTION` is set when the first object is created; then
//! an entry point whose name is in the variable's comma-separated list panics on purpose, so a
//! test can prove the panic never reaches the platform. Costs one relaxed load when off.

use once_cell::sync::Lazy;

pub const VARIABLE: &str = "TELEPHONYBRIDGE_FAULT_INJECTION";

static ENABLED: Lazy<bool> = Lazy::new(|| std::env::var_os(VARIABLE).is_some());

pub fn maybe_panic(entry: &str) {
    if !*ENABLED {
        return;
    }
    let Some(list) = std::env::var_os(VARIABLE) else {
        return;
    };
    if list.to_string_lossy().split(',').any(|e| e.trim() == entry) {
        panic!("fault injected in {entry}");
    }
}
