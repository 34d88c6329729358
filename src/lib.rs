//! TelephonyBridge: a 1C:Enterprise 8 Native API add-in that brings telephony into 1C.
//!
//! Layers, top calls down: `native` (the ABI, the only `unsafe`) → `classes` (one file per
//! 1C class) → protocol cores (crates `tb-connect`, `tb-centrifugo`, `tb-calls`: no I/O) and
//! `transport` (sockets, pipes, HTTP: one worker thread each). `present` is the only place that
//! knows the 1C vocabulary of the cores' typed facts (event names and Data, Diagnostics keys, texts
//! in both languages); `tb-prims` holds the primitives shared by all. `events` is the only path to
//! ExternalEvent, `log` the only writer of the log file.

pub mod classes;
pub mod events;
pub mod log;
pub mod native;
pub mod present;
pub mod transport;

use std::ffi::{c_int, c_long, c_void};
use std::panic::catch_unwind;

use addin1c::{create_component, destroy_component, AttachType};

use classes::{Binotel, Centrifugo, ConnectAgent, UIScom};
use native::Component;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GetClassNames`: the classes `Новый("AddIn.TelephonyBridge.<Class>")` can create.
pub const CLASS_NAMES: &str = "ConnectAgent|Centrifugo|UIScom|Binotel";

static CLASS_NAMES_UTF16: &[u16] = &addin1c::utf16_null!("ConnectAgent|Centrifugo|UIScom|Binotel");

/// The member tables of every class in Markdown, as README.md shows them.
pub fn members_reference() -> String {
    use native::reference::{class_reference, common_reference};
    let mut out = format!("#### Общие члены всех классов\n\n{}\n", common_reference());
    for (name, table) in [
        ("ConnectAgent", class_reference::<ConnectAgent>()),
        ("Centrifugo", class_reference::<Centrifugo>()),
        ("UIScom", class_reference::<UIScom>()),
        ("Binotel", class_reference::<Binotel>()),
    ] {
        out.push_str(&format!("\n#### {name}\n\n{table}\n"));
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
    CLASS_NAMES_UTF16.as_ptr()
}

/// # Safety
/// `name` must be a NUL-terminated UTF-16 string and `component` a valid out-pointer.
#[no_mangle]
pub unsafe extern "C" fn GetClassObject(name: *const u16, component: *mut *mut c_void) -> c_long {
    if name.is_null() || component.is_null() {
        return 0;
    }
    catch_unwind(|| {
        // SAFETY: the platform passes a NUL-terminated class name.
        let name = unsafe { addin1c::CStr1C::from_ptr(name) };
        let units: &[u16] = name;
        let name = String::from_utf16_lossy(units.strip_suffix(&[0]).unwrap_or(units));
        // SAFETY: `component` is the platform's out-pointer.
        unsafe {
            match name.as_str() {
                "ConnectAgent" => create_component(component, Component::<ConnectAgent>::new()),
                "Centrifugo" => create_component(component, Component::<Centrifugo>::new()),
                "UIScom" => create_component(component, Component::<UIScom>::new()),
                "Binotel" => create_component(component, Component::<Binotel>::new()),
                _ => 0,
            }
        }
    })
    .unwrap_or(0)
}

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
