//! The platform's IAddInDefBase, called directly.
//!
//! `addin1c::Connection` exposes ExternalEvent and the buffer depth but not AddError, which
//! every failure needs. The interface is a C++ object whose first word points to its vtable;
//! this mirror declares the same vtable (AddInDefBase.h order) and is used through the pointer
//! the platform handed to Init. It is the one place that knows that layout.

use std::ffi::c_long;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use crate::events::EventSink;

#[repr(C)]
struct DefBaseVTable {
    dtor: usize,
    #[cfg(target_family = "unix")]
    dtor2: usize,
    add_error:
        unsafe extern "system" fn(*const DefBase, u16, *const u16, *const u16, c_long) -> bool,
    read: usize,
    write: usize,
    register_profile_as: usize,
    set_event_buffer_depth: unsafe extern "system" fn(*const DefBase, c_long) -> bool,
    get_event_buffer_depth: unsafe extern "system" fn(*const DefBase) -> c_long,
    external_event:
        unsafe extern "system" fn(*const DefBase, *const u16, *const u16, *const u16) -> bool,
    clean_event_buffer: usize,
    set_status_line: usize,
    reset_status_line: usize,
}

#[repr(C)]
struct DefBase {
    vtable: *const DefBaseVTable,
}

/// ADDIN_E_FAIL: the message is shown as an error and, with a non-zero scode, raised as an
/// exception in the calling BSL code.
pub const ADDIN_E_FAIL: u16 = 1006;
/// E_FAIL as the platform's `long`.
pub const SCODE_FAIL: c_long = 0x8000_4005_u32 as i32 as c_long;

/// A handle to the platform's IAddInDefBase. The platform keeps it alive from Init to Done;
/// the component drops every copy (including the event thread's) before Done returns.
#[derive(Clone, Copy)]
pub struct Platform {
    base: *const DefBase,
}

// SAFETY: the platform documents ExternalEvent as callable from the add-in's own threads,
// and the pointer itself is only an address until Done, after which no copy is used.
unsafe impl Send for Platform {}
unsafe impl Sync for Platform {}

/// Set by the exit hook: the process is ending, and the platform may already be freeing the interfaces it handed
/// to objects that never got Done. No add-in thread calls the platform after this.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// How many calls of add-in threads are inside the platform now. A counter, not a lock: the exit hook runs while
/// the process is ending, when threads killed by the exit may have held any lock (parking_lot's shared parking
/// table included — under Wine an exit hook that waited on it spun forever), so it must wait on nothing but this
/// number and the clock.
static INSIDE: AtomicUsize = AtomicUsize::new(0);
/// How long the exit hook waits for calls already inside the platform: a platform that blocks in ExternalEvent
/// while it exits, or a thread the exit killed inside such a call, must not hang the exit.
const EXIT_WAIT: Duration = Duration::from_secs(1);

/// The exit hook: closes the gate and waits (bounded, sleeping, without any lock) for the calls already past it.
extern "C" fn close_gate() {
    CLOSED.store(true, Ordering::SeqCst);
    let deadline = std::time::Instant::now() + EXIT_WAIT;
    while INSIDE.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A call of an add-in thread into the platform, counted in [`INSIDE`] while it lasts; `None` once the gate is
/// closed. The increment comes before the check and the exit hook's store before its read (both `SeqCst`), so
/// either the call sees the gate closed or the hook sees the call and waits for it.
struct Inside;

impl Inside {
    fn enter() -> Option<Inside> {
        INSIDE.fetch_add(1, Ordering::SeqCst);
        let inside = Inside;
        if CLOSED.load(Ordering::SeqCst) {
            return None;
        }
        Some(inside)
    }
}

impl Drop for Inside {
    fn drop(&mut self) {
        INSIDE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Registers [`close_gate`] with the C runtime's `atexit` on the first Init. A process that exits without Done on
/// every object (1C closing, a session ending abnormally) runs exit handlers — its own destructors among them,
/// which free the interfaces — while the add-in's threads still run; handlers run in reverse order of
/// registration, and the platform registers its own before it loads the add-in, so this one runs first and the
/// threads are out of the platform before any interface goes. On Windows a DLL's `atexit` belongs to the DLL and
/// runs at its detach, after ExitProcess has ended every other thread: there the hook is only a backstop
/// (docs/architecture.md, «Выход процесса и выгрузка»). The library is never unloaded while it may own a thread
/// (linked `-z nodelete` on Linux, pinned on Windows: `src/lib.rs`), so the hook stays mapped until the process
/// ends.
fn install_exit_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        extern "C" {
            fn atexit(hook: extern "C" fn()) -> std::ffi::c_int;
        }
        // SAFETY: registering a plain function that touches only statics; it never unwinds.
        unsafe { atexit(close_gate) };
    });
}

impl Platform {
    /// # Safety
    /// `connection` must be the pointer the platform passed to Init.
    pub unsafe fn from_connection(connection: &'static addin1c::Connection) -> Platform {
        install_exit_hook();
        Platform {
            base: connection as *const addin1c::Connection as *const DefBase,
        }
    }

    pub fn add_error(&self, source: &str, description: &str) -> bool {
        let Some(_inside) = Inside::enter() else {
            return false;
        };
        let source = to_utf16z(source);
        let description = to_utf16z(description);
        // SAFETY: valid until Done (see the type's docs); strings are NUL-terminated.
        unsafe {
            ((*(*self.base).vtable).add_error)(
                self.base,
                ADDIN_E_FAIL,
                source.as_ptr(),
                description.as_ptr(),
                SCODE_FAIL,
            )
        }
    }

    pub fn set_event_buffer_depth(&self, depth: i32) -> bool {
        // SAFETY: as above.
        unsafe { ((*(*self.base).vtable).set_event_buffer_depth)(self.base, depth as c_long) }
    }

    // `long` is 32-bit on Windows and 64-bit on Unix.
    #[allow(clippy::unnecessary_cast)]
    pub fn event_buffer_depth(&self) -> i64 {
        // SAFETY: as above.
        unsafe { ((*(*self.base).vtable).get_event_buffer_depth)(self.base) as i64 }
    }

    pub fn into_sink(self) -> Arc<dyn EventSink> {
        Arc::new(self)
    }
}

/// The events whose data is text about a failure (and so may quote a library's error, an address, a panic):
/// they pass the scrubber on the way to 1C. Business events (calls, publications) never do — a password's
/// «2024» must not turn into `***` in a call's date.
const SCRUBBED_EVENTS: &[&str] = &["Error", "Disconnected"];

/// `data` scrubbed of every configured secret when `name` is one of [`SCRUBBED_EVENTS`] (`None`: unchanged).
fn scrubbed(name: &[u16], data: &[u16]) -> Option<Vec<u16>> {
    let name = name.strip_suffix(&[0]).unwrap_or(name);
    if !SCRUBBED_EVENTS
        .iter()
        .any(|event| event.encode_utf16().eq(name.iter().copied()))
    {
        return None;
    }
    let text = String::from_utf16_lossy(data.strip_suffix(&[0]).unwrap_or(data));
    let shown = crate::secrets::scrub(&text);
    (shown != text).then(|| to_utf16z(&shown))
}

impl EventSink for Platform {
    fn deliver(&self, source: &[u16], name: &[u16], data: &[u16]) -> bool {
        let scrubbed = scrubbed(name, data);
        let data = scrubbed.as_deref().unwrap_or(data);
        let Some(_inside) = Inside::enter() else {
            // The process is exiting: the interface may be gone. Refused, as a full buffer would be.
            return false;
        };
        // SAFETY: as above; the queue stops calling before Done returns, and the gate before exit handlers free
        // the interface of an object that never got Done.
        unsafe {
            ((*(*self.base).vtable).external_event)(
                self.base,
                source.as_ptr(),
                name.as_ptr(),
                data.as_ptr(),
            )
        }
    }
}

pub fn to_utf16z(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_events_are_scrubbed_and_business_events_are_not() {
        crate::secrets::remember("evt-SECRET-5");
        let data = to_utf16z("{\"message\":\"bad port 'SECRET-5'\"}");
        let shown = scrubbed(&to_utf16z("Error"), &data).expect("an Error event is scrubbed");
        assert_eq!(
            String::from_utf16_lossy(&shown),
            "{\"message\":\"bad port '***'\"}\0"
        );
        assert!(scrubbed(&to_utf16z("Disconnected"), &data).is_some());
        assert_eq!(scrubbed(&to_utf16z("Publication"), &data), None);
        assert_eq!(scrubbed(&to_utf16z("Error"), &to_utf16z("{}")), None);
    }
}
