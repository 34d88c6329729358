//! TelephonyBridge: a 1C:Enterprise 8 Native API add-in that brings telephony into 1C.
//!
//! The layers, by who may name whom (docs/architecture.md has the map; `tests/layering.rs` holds the one table
//! of directions and fails on any import against it): this root (the ABI exports and the one list of classes) →
//! `classes` (one static member table per 1C class, gluing the rest) → `native` (the Native API boundary: panic
//! guard, member numbers, AddError, the common members; it defines the `AddinClass` trait the classes implement
//! and calls them through it) → `present` (the 1C vocabulary: event names and Data, Diagnostics keys, `Lang`,
//! every text in both languages) → `driver` (the threads of an object and the HTTP exchange; typed errors only)
//! → `transport` (bytes only: pipes, WebSocket link, HTTP client, proxy, TLS). The protocol cores (crates
//! `tb-connect`, `tb-centrifugo`, `tb-calls`: no I/O) are named by `classes`, `present` and `driver`; `tb-prims`
//! holds the primitives shared by all. Shared leaves every layer may use: `events` (the only path to
//! ExternalEvent), `log` (the only writer of the log file), `secrets` (the one scrubber of configured secrets that
//! every shown or logged text passes), `spawn` (the only thread start) and `fault` (fault injection for the panic
//! tests). `unsafe` stands only at the edges to foreign code: here and in `native` (the platform's ABI) and in
//! `transport` (Win32 pipes, poller registration).

pub mod classes;
pub mod driver;
pub mod events;
pub mod fault;
pub mod log;
pub mod native;
pub mod present;
pub mod secrets;
pub mod spawn;
pub mod transport;

use std::ffi::{c_int, c_long, c_void};
use std::panic::catch_unwind;

use addin1c::{create_component, destroy_component, AttachType};
use once_cell::sync::Lazy;

use classes::{Binotel, Centrifugo, ConnectAgent, UIScom};
use native::{AddinClass, Component};

pub use native::VERSION;

/// One class the platform can create, as the registry below lists it.
struct ClassEntry {
    name: &'static str,
    /// # Safety
    /// `component` is the platform's out-pointer.
    create: unsafe fn(component: *mut *mut c_void) -> c_long,
    reference: fn() -> String,
}

impl ClassEntry {
    const fn of<C: AddinClass>() -> ClassEntry {
        ClassEntry {
            name: C::NAME,
            create: create::<C>,
            reference: native::reference::class_reference::<C>,
        }
    }
}

/// # Safety
/// `component` is the platform's out-pointer.
unsafe fn create<C: AddinClass>(component: *mut *mut c_void) -> c_long {
    // SAFETY: forwarded from GetClassObject.
    unsafe { create_component(component, Component::<C>::new()) }
}

/// Declares the one list of classes: `CLASSES` (which `GetClassObject` and the README reference read) and
/// `CLASS_NAMES` (what `GetClassNames` returns), from the same names.
macro_rules! registry {
    ($first:ident $(, $rest:ident)*) => {
        const CLASSES: &[ClassEntry] = &[ClassEntry::of::<$first>() $(, ClassEntry::of::<$rest>())*];

        /// `GetClassNames`: the classes `Новый("AddIn.TelephonyBridge.<Class>")` can create, `|`-separated.
        pub const CLASS_NAMES: &str = concat!(stringify!($first) $(, "|", stringify!($rest))*);
    };
}

registry!(ConnectAgent, Centrifugo, UIScom, Binotel);

static CLASS_NAMES_UTF16: Lazy<Vec<u16>> = Lazy::new(|| {
    CLASS_NAMES
        .encode_utf16()
        .chain(std::iter::once(0))
        .collect()
});

/// The member tables of every class in Markdown, as README.md shows them.
pub fn members_reference() -> String {
    let common = native::reference::common_reference::<ConnectAgent>();
    let mut out = format!("#### Общие члены всех классов\n\n{common}\n");
    for class in CLASSES {
        out.push_str(&format!(
            "\n#### {}\n\n{}\n",
            class.name,
            (class.reference)()
        ));
    }
    out
}

/// Every event of every class in Markdown, as README.md shows it.
pub fn events_reference() -> String {
    present::events::reference()
}

/// # Safety
/// Called by the platform; returns a static NUL-terminated UTF-16 string.
#[no_mangle]
pub extern "C" fn GetClassNames() -> *const u16 {
    catch_unwind(|| CLASS_NAMES_UTF16.as_ptr()).unwrap_or(EMPTY_UTF16.as_ptr())
}

static EMPTY_UTF16: [u16; 1] = [0];

/// # Safety
/// `name` must be a NUL-terminated UTF-16 string and `component` a valid out-pointer.
#[no_mangle]
pub unsafe extern "C" fn GetClassObject(name: *const u16, component: *mut *mut c_void) -> c_long {
    if name.is_null() || component.is_null() {
        return 0;
    }
    catch_unwind(|| {
        pin_library();
        // SAFETY: the platform passes a NUL-terminated class name.
        let name = unsafe { addin1c::CStr1C::from_ptr(name) };
        let units: &[u16] = name;
        let name = String::from_utf16_lossy(units.strip_suffix(&[0]).unwrap_or(units));
        match CLASSES.iter().find(|class| class.name == name) {
            // SAFETY: `component` is the platform's out-pointer.
            Some(class) => unsafe { (class.create)(component) },
            None => 0,
        }
    })
    .unwrap_or(0)
}

/// Keeps the DLL loaded until the process ends, from the first object on: its threads may outlive every object
/// (a session that ends without Done), and FreeLibrary would unmap the code they run. Linux gets the same from
/// the `-z nodelete` link flag (build.rs); elsewhere nothing is needed or done.
#[cfg(windows)]
fn pin_library() {
    use windows_sys::Win32::System::LibraryLoader::{
        GetModuleHandleExW, GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, GET_MODULE_HANDLE_EX_FLAG_PIN,
    };
    static PINNED: std::sync::Once = std::sync::Once::new();
    PINNED.call_once(|| {
        let mut module = std::ptr::null_mut();
        // SAFETY: FROM_ADDRESS takes any address inside this module; `module` is a valid out-pointer.
        unsafe {
            GetModuleHandleExW(
                GET_MODULE_HANDLE_EX_FLAG_PIN | GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                pin_library as *const u16,
                &mut module,
            )
        };
    });
}

#[cfg(not(windows))]
fn pin_library() {}

/// # Safety
/// `component` must hold a pointer returned by `GetClassObject`, destroyed once.
#[no_mangle]
pub unsafe extern "C" fn DestroyObject(component: *mut *mut c_void) -> c_long {
    if component.is_null() || unsafe { (*component).is_null() } {
        return -1;
    }
    // SAFETY: forwarded from the platform as documented above.
    catch_unwind(|| unsafe { destroy_component(component) }).unwrap_or(-1)
}

/// The platform offers its capability level; the add-in uses up to level 3
/// (SetUserInterfaceLanguageCode is part of it).
#[no_mangle]
pub extern "C" fn SetPlatformCapabilities(capabilities: c_int) -> c_int {
    capabilities.clamp(1, 3)
}

/// Works both in the 1C process and isolated in its own process.
#[no_mangle]
pub extern "C" fn GetAttachType() -> AttachType {
    AttachType::Any
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Rust type names in the registry are the 1C class names the platform creates.
    #[test]
    fn class_names_are_the_names_the_classes_declare() {
        let declared: Vec<&str> = CLASSES.iter().map(|class| class.name).collect();
        assert_eq!(CLASS_NAMES, declared.join("|"));
    }
}
