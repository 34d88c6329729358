//! A test host that loads a 1C Native API add-in the way the 1C:Enterprise platform does.
//!
//! What it reproduces, because add-ins break on exactly these points in the field:
//! - the call sequence: GetClassNames, SetPlatformCapabilities and GetAttachType (when
//!   exported), GetClassObject, setMemManager, Init, GetInfo, SetLocale,
//!   SetUserInterfaceLanguageCode, RegisterExtensionAs; then Done and DestroyObject;
//! - FindMethod/GetNParams/GetParamDefValue/HasRetVal before every call, CallAsFunc or
//!   CallAsProc, and an exception when the add-in returns false;
//! - IMemoryManager: every string the add-in returns is freed through it, and what is still
//!   allocated at the end is reported as a leak;
//! - IAddInDefBase::AddError recorded per call; ExternalEvent with the platform's event buffer,
//!   depth 1 until SetEventBufferDepth, returning false and dropping the event when full, and
//!   drained only while the host is idle (in `pump`/`wait_event`, never during a call);
//! - "server" mode: ExternalEvent is a client-only feature, so there it delivers nothing.
//!
//! Layouts follow the platform's C++ headers (ComponentBase.h, AddInDefBase.h, IMemoryManager.h,
//! types.h): vtables with two destructor slots on Unix (Itanium ABI) and one on Windows.

use std::collections::{HashMap, VecDeque};
use std::ffi::{c_int, c_long, c_ulong, c_void};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

pub mod skip;

// ---------------------------------------------------------------- platform data types

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Tm {
    pub sec: c_int,
    pub min: c_int,
    pub hour: c_int,
    pub mday: c_int,
    pub mon: c_int,
    pub year: c_int,
    pub wday: c_int,
    pub yday: c_int,
    pub isdst: c_int,
    #[cfg(target_family = "unix")]
    pub gmtoff: c_long,
    #[cfg(target_family = "unix")]
    pub zone: *const u8,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct DataStr {
    ptr: *mut u16,
    len: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct DataBlob {
    ptr: *mut u8,
    len: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Interface {
    ptr: *mut c_void,
    iid: [u8; 16],
}

#[repr(C)]
union VariantValue {
    boolean: bool,
    i32: i32,
    f64: f64,
    tm: Tm,
    wstr: DataStr,
    blob: DataBlob,
    iface: Interface,
}

/// tVariant from types.h.
#[repr(C)]
pub struct TVariant {
    value: VariantValue,
    elements: u32,
    vt: u16,
}

const VTYPE_EMPTY: u16 = 0;
const VTYPE_NULL: u16 = 1;
const VTYPE_I4: u16 = 3;
const VTYPE_R8: u16 = 5;
const VTYPE_TM: u16 = 7;
const VTYPE_BOOL: u16 = 11;
const VTYPE_PWSTR: u16 = 22;
const VTYPE_BLOB: u16 = 23;

impl TVariant {
    fn empty() -> TVariant {
        TVariant {
            value: VariantValue { i32: 0 },
            elements: 0,
            vt: VTYPE_EMPTY,
        }
    }
}

/// A 1C value on the host side.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Undefined,
    Null,
    Bool(bool),
    Int(i32),
    Num(f64),
    Str(String),
    Blob(Vec<u8>),
    Date(i32, i32, i32, i32, i32, i32),
}

impl Val {
    pub fn str(&self) -> &str {
        match self {
            Val::Str(s) => s,
            other => panic!("expected a string, got {other:?}"),
        }
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Str(s.to_string())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Str(s)
    }
}
impl From<i32> for Val {
    fn from(i: i32) -> Val {
        Val::Int(i)
    }
}
impl From<f64> for Val {
    fn from(n: f64) -> Val {
        Val::Num(n)
    }
}
impl From<bool> for Val {
    fn from(b: bool) -> Val {
        Val::Bool(b)
    }
}

// ---------------------------------------------------------------- IMemoryManager

#[repr(C)]
struct MemoryManagerVTable {
    dtor: usize,
    #[cfg(target_family = "unix")]
    dtor2: usize,
    alloc_memory: unsafe extern "system" fn(*mut MemoryManager, *mut *mut c_void, c_ulong) -> bool,
    free_memory: unsafe extern "system" fn(*mut MemoryManager, *mut *mut c_void),
}

#[repr(C)]
struct MemoryManager {
    vtable: *const MemoryManagerVTable,
    state: Arc<MemoryState>,
}

#[derive(Default)]
struct MemoryState {
    live: Mutex<HashMap<usize, usize>>,
    bad_frees: Mutex<u64>,
    allocations: Mutex<u64>,
}

static MEMORY_VTABLE: MemoryManagerVTable = MemoryManagerVTable {
    dtor: 0,
    #[cfg(target_family = "unix")]
    dtor2: 0,
    alloc_memory,
    free_memory,
};

unsafe extern "system" fn alloc_memory(
    this: *mut MemoryManager,
    out: *mut *mut c_void,
    size: c_ulong,
) -> bool {
    // The platform's allocator hands out a valid block even for zero bytes.
    let size = (size as usize).max(1);
    let layout = std::alloc::Layout::from_size_align(size, 8).expect("layout");
    let ptr = std::alloc::alloc_zeroed(layout);
    if ptr.is_null() {
        return false;
    }
    let state = &(*this).state;
    state.live.lock().insert(ptr as usize, size);
    *state.allocations.lock() += 1;
    *out = ptr as *mut c_void;
    true
}

unsafe extern "system" fn free_memory(this: *mut MemoryManager, ptr: *mut *mut c_void) {
    if ptr.is_null() || (*ptr).is_null() {
        return;
    }
    let address = *ptr as usize;
    let state = &(*this).state;
    let size = state.live.lock().remove(&address);
    match size {
        Some(size) => {
            let layout = std::alloc::Layout::from_size_align(size, 8).expect("layout");
            std::alloc::dealloc(address as *mut u8, layout);
        }
        None => *state.bad_frees.lock() += 1,
    }
    *ptr = std::ptr::null_mut();
}

impl MemoryManager {
    fn alloc_utf16(&mut self, text: &str) -> (*mut u16, u32) {
        let units: Vec<u16> = text.encode_utf16().chain(std::iter::once(0)).collect();
        let mut ptr: *mut c_void = std::ptr::null_mut();
        unsafe {
            assert!(alloc_memory(self, &mut ptr, (units.len() * 2) as c_ulong));
            std::ptr::copy_nonoverlapping(units.as_ptr(), ptr as *mut u16, units.len());
        }
        (ptr as *mut u16, (units.len() - 1) as u32)
    }

    fn free(&mut self, ptr: *mut c_void) {
        let mut ptr = ptr;
        unsafe { free_memory(self, &mut ptr) };
    }
}

// ---------------------------------------------------------------- IAddInDefBase

#[repr(C)]
struct DefBaseVTable {
    dtor: usize,
    #[cfg(target_family = "unix")]
    dtor2: usize,
    add_error: unsafe extern "system" fn(*mut DefBase, u16, *const u16, *const u16, c_long) -> bool,
    read: unsafe extern "system" fn(
        *mut DefBase,
        *mut u16,
        *mut TVariant,
        c_long,
        *mut *mut u16,
    ) -> bool,
    write: unsafe extern "system" fn(*mut DefBase, *mut u16, *mut TVariant) -> bool,
    register_profile_as: unsafe extern "system" fn(*mut DefBase, *mut u16) -> bool,
    set_event_buffer_depth: unsafe extern "system" fn(*mut DefBase, c_long) -> bool,
    get_event_buffer_depth: unsafe extern "system" fn(*mut DefBase) -> c_long,
    external_event: unsafe extern "system" fn(*mut DefBase, *mut u16, *mut u16, *mut u16) -> bool,
    clean_event_buffer: unsafe extern "system" fn(*mut DefBase),
    set_status_line: unsafe extern "system" fn(*mut DefBase, *mut u16) -> bool,
    reset_status_line: unsafe extern "system" fn(*mut DefBase),
}

#[repr(C)]
struct DefBase {
    vtable: *const DefBaseVTable,
    state: Arc<PlatformState>,
}

/// One AddError call.
#[derive(Debug, Clone, PartialEq)]
pub struct AddError {
    pub code: u16,
    pub source: String,
    pub description: String,
    pub scode: i64,
}

/// One event as the 1C form's ВнешнееСобытие handler sees it.
#[derive(Debug, Clone)]
pub struct Event {
    pub source: String,
    pub name: String,
    pub data: String,
    /// Wall clock (ns since the Unix epoch) when the add-in called ExternalEvent: the moment it handed
    /// the event to the platform, whatever the host thread was doing then (latency benchmarks).
    pub handed_at_ns: u128,
}

/// Two events are the same event when the form would see the same thing; when they were handed over is
/// not part of it.
impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        self.source == other.source && self.name == other.name && self.data == other.data
    }
}

/// Which 1C process the host pretends to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Thin/thick client: ExternalEvent works.
    Client,
    /// 1C server (HTTP services, background jobs): ExternalEvent is unavailable.
    Server,
}

struct PlatformState {
    mode: Mode,
    depth: Mutex<usize>,
    buffer: Mutex<VecDeque<Event>>,
    delivered: Mutex<Vec<Event>>,
    refused: Mutex<u64>,
    errors: Mutex<Vec<AddError>>,
    /// Set while the host is inside a call into the add-in; an event raised then
    /// from the add-in's own thread is fine, but nothing is drained.
    after_done_calls: Mutex<u64>,
    done: Mutex<bool>,
    depth_requests: Mutex<Vec<i64>>,
}

/// `long` is 32-bit on Windows and 64-bit on Unix.
#[allow(clippy::useless_conversion)]
fn widen(value: c_long) -> i64 {
    i64::from(value)
}

fn read_utf16(ptr: *const u16) -> String {
    if ptr.is_null() {
        return String::new();
    }
    let mut len = 0;
    unsafe {
        while *ptr.add(len) != 0 {
            len += 1;
        }
        String::from_utf16_lossy(std::slice::from_raw_parts(ptr, len))
    }
}

unsafe extern "system" fn add_error(
    this: *mut DefBase,
    code: u16,
    source: *const u16,
    description: *const u16,
    scode: c_long,
) -> bool {
    let state = &(*this).state;
    if *state.done.lock() {
        *state.after_done_calls.lock() += 1;
    }
    state.errors.lock().push(AddError {
        code,
        source: read_utf16(source),
        description: read_utf16(description),
        scode: widen(scode),
    });
    true
}

unsafe extern "system" fn read_profile(
    _: *mut DefBase,
    _: *mut u16,
    _: *mut TVariant,
    _: c_long,
    _: *mut *mut u16,
) -> bool {
    false
}
unsafe extern "system" fn write_profile(_: *mut DefBase, _: *mut u16, _: *mut TVariant) -> bool {
    false
}
unsafe extern "system" fn register_profile_as(_: *mut DefBase, _: *mut u16) -> bool {
    false
}

unsafe extern "system" fn set_event_buffer_depth(this: *mut DefBase, depth: c_long) -> bool {
    let state = &(*this).state;
    state.depth_requests.lock().push(widen(depth));
    if depth < 1 {
        return false;
    }
    *state.depth.lock() = depth as usize;
    true
}

unsafe extern "system" fn get_event_buffer_depth(this: *mut DefBase) -> c_long {
    let state = &(*this).state;
    *state.depth.lock() as c_long
}

unsafe extern "system" fn external_event(
    this: *mut DefBase,
    source: *mut u16,
    name: *mut u16,
    data: *mut u16,
) -> bool {
    let state = &(*this).state;
    if *state.done.lock() {
        *state.after_done_calls.lock() += 1;
        return false;
    }
    if state.mode == Mode::Server {
        return false;
    }
    let handed_at_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let event = Event {
        source: read_utf16(source),
        name: read_utf16(name),
        data: read_utf16(data),
        handed_at_ns,
    };
    let depth = *state.depth.lock();
    let mut buffer = state.buffer.lock();
    if buffer.len() >= depth {
        *state.refused.lock() += 1;
        return false;
    }
    buffer.push_back(event);
    true
}

unsafe extern "system" fn clean_event_buffer(this: *mut DefBase) {
    let state = &(*this).state;
    state.buffer.lock().clear();
}
unsafe extern "system" fn set_status_line(_: *mut DefBase, _: *mut u16) -> bool {
    true
}
unsafe extern "system" fn reset_status_line(_: *mut DefBase) {}

/// Every IAddInDefBase this process handed to an add-in, for [`release_interfaces_at_exit`].
static INTERFACES: Mutex<Vec<usize>> = Mutex::new(Vec::new());

unsafe extern "system" fn released_external_event(
    _: *mut DefBase,
    _: *mut u16,
    _: *mut u16,
    _: *mut u16,
) -> bool {
    use std::io::Write;
    let _ = std::io::stderr()
        .write_all(b"addin-host: ExternalEvent on an interface the platform released at exit\n");
    std::process::abort()
}

unsafe extern "system" fn released_add_error(
    _: *mut DefBase,
    _: u16,
    _: *const u16,
    _: *const u16,
    _: c_long,
) -> bool {
    std::process::abort()
}

/// What an interface looks like once the platform has released it: every call a crash, as a call into freed
/// memory would be (here an abort with a message, so the crash is certain and says what it was).
static RELEASED_VTABLE: DefBaseVTable = DefBaseVTable {
    dtor: 0,
    #[cfg(target_family = "unix")]
    dtor2: 0,
    add_error: released_add_error,
    read: read_profile,
    write: write_profile,
    register_profile_as,
    set_event_buffer_depth,
    get_event_buffer_depth,
    external_event: released_external_event,
    clean_event_buffer,
    set_status_line,
    reset_status_line,
};

extern "C" {
    fn atexit(hook: extern "C" fn()) -> c_int;
}

extern "C" fn release_interfaces() {
    for &address in INTERFACES.lock().iter() {
        // SAFETY: every address is a leaked-or-live DefBase box of this process (objects are never freed while
        // registered: `Object` unregisters in `finish` before the box can go).
        unsafe {
            std::ptr::write_volatile(
                &mut (*(address as *mut DefBase)).vtable,
                &RELEASED_VTABLE as *const DefBaseVTable,
            )
        };
    }
    // The rest of the platform's teardown takes a while (its other destructors, files, the cluster
    // connection); threads still running meanwhile see the released interfaces.
    std::thread::sleep(Duration::from_millis(50));
}

/// Makes this process behave like a 1C process that releases its objects' platform interfaces in its own exit
/// handlers (C++ static destructors): registered now, before the add-in is loaded, so it runs after every exit
/// handler the add-in registers later (they run in reverse order). From then on an add-in thread that calls
/// ExternalEvent or AddError on an object never given Done crashes the process.
pub fn release_interfaces_at_exit() {
    // SAFETY: registering a plain function with the C runtime.
    assert_eq!(unsafe { atexit(release_interfaces) }, 0, "atexit");
}

static DEF_BASE_VTABLE: DefBaseVTable = DefBaseVTable {
    dtor: 0,
    #[cfg(target_family = "unix")]
    dtor2: 0,
    add_error,
    read: read_profile,
    write: write_profile,
    register_profile_as,
    set_event_buffer_depth,
    get_event_buffer_depth,
    external_event,
    clean_event_buffer,
    set_status_line,
    reset_status_line,
};

// ---------------------------------------------------------------- the add-in's vtables

#[repr(C)]
struct InitDoneVTable {
    dtor: usize,
    #[cfg(target_family = "unix")]
    dtor2: usize,
    init: unsafe extern "system" fn(*mut c_void, *mut c_void) -> bool,
    set_mem_manager: unsafe extern "system" fn(*mut c_void, *mut c_void) -> bool,
    get_info: unsafe extern "system" fn(*mut c_void) -> c_long,
    done: unsafe extern "system" fn(*mut c_void),
}

#[repr(C)]
struct LanguageExtenderVTable {
    dtor: usize,
    #[cfg(target_family = "unix")]
    dtor2: usize,
    register_extension_as: unsafe extern "system" fn(*mut c_void, *mut *mut u16) -> bool,
    get_n_props: unsafe extern "system" fn(*mut c_void) -> c_long,
    find_prop: unsafe extern "system" fn(*mut c_void, *const u16) -> c_long,
    get_prop_name: unsafe extern "system" fn(*mut c_void, c_long, c_long) -> *const u16,
    get_prop_val: unsafe extern "system" fn(*mut c_void, c_long, *mut TVariant) -> bool,
    set_prop_val: unsafe extern "system" fn(*mut c_void, c_long, *mut TVariant) -> bool,
    is_prop_readable: unsafe extern "system" fn(*mut c_void, c_long) -> bool,
    is_prop_writable: unsafe extern "system" fn(*mut c_void, c_long) -> bool,
    get_n_methods: unsafe extern "system" fn(*mut c_void) -> c_long,
    find_method: unsafe extern "system" fn(*mut c_void, *const u16) -> c_long,
    get_method_name: unsafe extern "system" fn(*mut c_void, c_long, c_long) -> *const u16,
    get_n_params: unsafe extern "system" fn(*mut c_void, c_long) -> c_long,
    get_param_def_value:
        unsafe extern "system" fn(*mut c_void, c_long, c_long, *mut TVariant) -> bool,
    has_ret_val: unsafe extern "system" fn(*mut c_void, c_long) -> bool,
    call_as_proc: unsafe extern "system" fn(*mut c_void, c_long, *mut TVariant, c_long) -> bool,
    call_as_func: unsafe extern "system" fn(
        *mut c_void,
        c_long,
        *mut TVariant,
        *mut TVariant,
        c_long,
    ) -> bool,
}

#[repr(C)]
struct LocaleVTable {
    dtor: usize,
    #[cfg(target_family = "unix")]
    dtor2: usize,
    set_locale: unsafe extern "system" fn(*mut c_void, *const u16),
}

/// The first four words of a component: IInitDoneBase, ILanguageExtenderBase, LocaleBase,
/// UserLanguageBase subobjects, each starting with its vtable pointer.
#[repr(C)]
struct ComponentHead {
    init_done: *const InitDoneVTable,
    extender: *const LanguageExtenderVTable,
    locale: *const LocaleVTable,
    user_language: *const LocaleVTable,
}

// ---------------------------------------------------------------- the host

type GetClassNamesFn = unsafe extern "C" fn() -> *const u16;
type GetClassObjectFn = unsafe extern "C" fn(*const u16, *mut *mut c_void) -> c_long;
type DestroyObjectFn = unsafe extern "C" fn(*mut *mut c_void) -> c_long;
type SetPlatformCapabilitiesFn = unsafe extern "C" fn(c_int) -> c_int;
type GetAttachTypeFn = unsafe extern "C" fn() -> c_int;

/// A loaded add-in library.
pub struct Host {
    library: libloading::Library,
    get_class_object: GetClassObjectFn,
    destroy_object: DestroyObjectFn,
    pub class_names: Vec<String>,
    pub capabilities: Option<i32>,
    pub attach_type: Option<i32>,
    memory: Box<MemoryManager>,
}

/// Where the built library is: `TB_ADDIN_PATH`, or the newest build next to the running test
/// or bench executable (`target/<profile>/deps/`, or uplifted to `target/<profile>/`).
pub fn default_library_path() -> PathBuf {
    if let Some(path) = std::env::var_os("TB_ADDIN_PATH") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let deps_dir = exe.parent().expect("the executable has a directory");
    let name = if cfg!(windows) {
        "telephony_bridge.dll"
    } else if cfg!(target_os = "macos") {
        "libtelephony_bridge.dylib"
    } else {
        "libtelephony_bridge.so"
    };
    let candidates = [deps_dir.join(name), deps_dir.join("..").join(name)];
    candidates
        .iter()
        .filter_map(|p| Some((std::fs::metadata(p).ok()?.modified().ok()?, p.clone())))
        .max()
        .map(|(_, p)| p)
        .unwrap_or_else(|| candidates[1].clone())
}

fn utf16z(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

impl Host {
    pub fn load_default() -> Host {
        Host::load(&default_library_path())
    }

    pub fn load(path: &Path) -> Host {
        // SAFETY: loading the add-in under test is the point of the host.
        let library = unsafe { libloading::Library::new(path) }
            .unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display()));
        unsafe {
            let get_class_names: GetClassNamesFn = *library
                .get::<GetClassNamesFn>(b"GetClassNames\0")
                .expect("GetClassNames exported");
            let get_class_object: GetClassObjectFn = *library
                .get::<GetClassObjectFn>(b"GetClassObject\0")
                .expect("GetClassObject exported");
            let destroy_object: DestroyObjectFn = *library
                .get::<DestroyObjectFn>(b"DestroyObject\0")
                .expect("DestroyObject exported");
            let capabilities = library
                .get::<SetPlatformCapabilitiesFn>(b"SetPlatformCapabilities\0")
                .ok()
                .map(|f| f(3));
            let attach_type = library
                .get::<GetAttachTypeFn>(b"GetAttachType\0")
                .ok()
                .map(|f| f());
            let class_names = read_utf16(get_class_names())
                .split('|')
                .map(str::to_string)
                .collect();
            Host {
                library,
                get_class_object,
                destroy_object,
                class_names,
                capabilities,
                attach_type,
                memory: Box::new(MemoryManager {
                    vtable: &MEMORY_VTABLE,
                    state: Arc::new(MemoryState::default()),
                }),
            }
        }
    }

    /// `Новый("AddIn.TelephonyBridge.<class>")` in a 1C client with a Russian locale.
    pub fn create(&self, class: &str) -> Object<'_> {
        self.create_with(class, Mode::Client, "ru_RU")
    }

    pub fn create_with(&self, class: &str, mode: Mode, locale: &str) -> Object<'_> {
        let name = utf16z(class);
        let mut raw: *mut c_void = std::ptr::null_mut();
        let created = unsafe { (self.get_class_object)(name.as_ptr(), &mut raw) };
        assert!(
            created != 0 && !raw.is_null(),
            "GetClassObject({class}) failed"
        );
        let platform = Box::new(DefBase {
            vtable: &DEF_BASE_VTABLE,
            state: Arc::new(PlatformState {
                mode,
                depth: Mutex::new(1),
                buffer: Mutex::new(VecDeque::new()),
                delivered: Mutex::new(Vec::new()),
                refused: Mutex::new(0),
                errors: Mutex::new(Vec::new()),
                after_done_calls: Mutex::new(0),
                done: Mutex::new(false),
                depth_requests: Mutex::new(Vec::new()),
            }),
        });
        INTERFACES
            .lock()
            .push(&*platform as *const DefBase as usize);
        let mut object = Object {
            host: self,
            raw,
            platform,
            destroyed: false,
            extension_name: String::new(),
            info: 0,
        };
        unsafe {
            let head = &*(raw as *const ComponentHead);
            let memory = &*self.memory as *const MemoryManager as *mut c_void;
            assert!(
                ((*head.init_done).set_mem_manager)(raw, memory),
                "setMemManager"
            );
            let connection = &mut *object.platform as *mut DefBase as *mut c_void;
            assert!(
                ((*head.init_done).init)(raw, connection),
                "Init returned false"
            );
            object.info = ((*head.init_done).get_info)(raw) as i64;
            object.set_locale(locale);
            let mut ext: *mut u16 = std::ptr::null_mut();
            assert!(
                ((*head.extender).register_extension_as)(object.extender(), &mut ext),
                "RegisterExtensionAs"
            );
            object.extension_name = read_utf16(ext);
            object.host.free_returned(ext as *mut c_void);
        }
        object
    }

    fn memory_ptr(&self) -> *mut MemoryManager {
        &*self.memory as *const MemoryManager as *mut MemoryManager
    }

    fn free_returned(&self, ptr: *mut c_void) {
        unsafe { (*self.memory_ptr()).free(ptr) }
    }

    /// Allocations made through the memory manager and never freed (bytes, count).
    pub fn leaked(&self) -> (usize, usize) {
        let live = self.memory.state.live.lock();
        (live.values().sum(), live.len())
    }

    pub fn bad_frees(&self) -> u64 {
        *self.memory.state.bad_frees.lock()
    }

    pub fn allocations(&self) -> u64 {
        *self.memory.state.allocations.lock()
    }

    pub fn library(&self) -> &libloading::Library {
        &self.library
    }
}

/// A failed call: what the 1C code would catch as an exception.
#[derive(Debug, Clone)]
pub struct CallError {
    pub member: String,
    pub errors: Vec<AddError>,
    /// True when the platform would raise an exception (the add-in returned false).
    pub exception: bool,
    pub reason: String,
}

impl CallError {
    /// The text the BSL `ОписаниеОшибки()` shows: the last AddError's description.
    pub fn message(&self) -> String {
        self.errors
            .last()
            .map(|e| e.description.clone())
            .unwrap_or_else(|| self.reason.clone())
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.member, self.message())
    }
}

/// What Done + DestroyObject left behind.
#[derive(Debug, Clone)]
pub struct Teardown {
    pub platform_calls_after_done: u64,
}

/// One add-in object, as a 1C variable holding `Новый("AddIn....")`.
pub struct Object<'h> {
    host: &'h Host,
    raw: *mut c_void,
    platform: Box<DefBase>,
    destroyed: bool,
    pub extension_name: String,
    pub info: i64,
}

impl<'h> Object<'h> {
    fn head(&self) -> &ComponentHead {
        unsafe { &*(self.raw as *const ComponentHead) }
    }

    fn extender(&self) -> *mut c_void {
        unsafe { (self.raw as *mut *const c_void).add(1) as *mut c_void }
    }

    fn ext(&self) -> &LanguageExtenderVTable {
        unsafe { &*self.head().extender }
    }

    fn state(&self) -> &PlatformState {
        &self.platform.state
    }

    pub fn set_locale(&self, locale: &str) {
        let loc = utf16z(locale);
        unsafe {
            let head = self.head();
            let locale_this = (self.raw as *mut *const c_void).add(2) as *mut c_void;
            ((*head.locale).set_locale)(locale_this, loc.as_ptr());
            let lang: String = locale.chars().take(2).collect();
            let lang = utf16z(&lang);
            let user_this = (self.raw as *mut *const c_void).add(3) as *mut c_void;
            ((*head.user_language).set_locale)(user_this, lang.as_ptr());
        }
    }

    pub fn find_method(&self, name: &str) -> Option<usize> {
        let name = utf16z(name);
        let index = unsafe { (self.ext().find_method)(self.extender(), name.as_ptr()) };
        (index >= 0).then_some(index as usize)
    }

    pub fn find_prop(&self, name: &str) -> Option<usize> {
        let name = utf16z(name);
        let index = unsafe { (self.ext().find_prop)(self.extender(), name.as_ptr()) };
        (index >= 0).then_some(index as usize)
    }

    fn take_name(&self, ptr: *const u16) -> Option<String> {
        if ptr.is_null() {
            return None;
        }
        let name = read_utf16(ptr);
        self.host.free_returned(ptr as *mut c_void);
        Some(name)
    }

    pub fn n_methods(&self) -> usize {
        unsafe { (self.ext().get_n_methods)(self.extender()) as usize }
    }

    pub fn n_props(&self) -> usize {
        unsafe { (self.ext().get_n_props)(self.extender()) as usize }
    }

    /// (English, Russian) names of every method.
    pub fn method_names(&self) -> Vec<(String, String)> {
        (0..self.n_methods())
            .map(|i| unsafe {
                let en = (self.ext().get_method_name)(self.extender(), i as c_long, 0);
                let ru = (self.ext().get_method_name)(self.extender(), i as c_long, 1);
                (
                    self.take_name(en).unwrap_or_default(),
                    self.take_name(ru).unwrap_or_default(),
                )
            })
            .collect()
    }

    /// (English, Russian, readable, writable) of every property.
    pub fn prop_names(&self) -> Vec<(String, String, bool, bool)> {
        (0..self.n_props())
            .map(|i| unsafe {
                let e = self.extender();
                let en = (self.ext().get_prop_name)(e, i as c_long, 0);
                let ru = (self.ext().get_prop_name)(e, i as c_long, 1);
                (
                    self.take_name(en).unwrap_or_default(),
                    self.take_name(ru).unwrap_or_default(),
                    (self.ext().is_prop_readable)(e, i as c_long),
                    (self.ext().is_prop_writable)(e, i as c_long),
                )
            })
            .collect()
    }

    pub fn n_params(&self, method: usize) -> usize {
        unsafe { (self.ext().get_n_params)(self.extender(), method as c_long) as usize }
    }

    pub fn has_ret_val(&self, method: usize) -> bool {
        unsafe { (self.ext().has_ret_val)(self.extender(), method as c_long) }
    }

    /// The default the platform would pass for an omitted parameter; None if it is required.
    pub fn param_default(&self, method: usize, param: usize) -> Option<Val> {
        let mut variant = TVariant::empty();
        let ok = unsafe {
            (self.ext().get_param_def_value)(
                self.extender(),
                method as c_long,
                param as c_long,
                &mut variant,
            )
        };
        let value = self.take_variant(&mut variant);
        ok.then_some(value)
    }

    fn make_variant(&self, value: &Val) -> TVariant {
        let mut variant = TVariant::empty();
        match value {
            Val::Undefined => {}
            Val::Null => variant.vt = VTYPE_NULL,
            Val::Bool(b) => {
                variant.vt = VTYPE_BOOL;
                variant.value.boolean = *b;
            }
            Val::Int(i) => {
                variant.vt = VTYPE_I4;
                variant.value.i32 = *i;
            }
            Val::Num(n) => {
                variant.vt = VTYPE_R8;
                variant.value.f64 = *n;
            }
            Val::Str(s) => {
                let (ptr, len) = unsafe { (*self.host.memory_ptr()).alloc_utf16(s) };
                variant.vt = VTYPE_PWSTR;
                variant.value.wstr = DataStr { ptr, len };
            }
            Val::Blob(bytes) => {
                let mut ptr: *mut c_void = std::ptr::null_mut();
                unsafe {
                    assert!(alloc_memory(
                        self.host.memory_ptr(),
                        &mut ptr,
                        bytes.len() as c_ulong
                    ));
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr as *mut u8, bytes.len());
                }
                variant.vt = VTYPE_BLOB;
                variant.value.blob = DataBlob {
                    ptr: ptr as *mut u8,
                    len: bytes.len() as u32,
                };
            }
            Val::Date(y, mo, d, h, mi, s) => {
                variant.vt = VTYPE_TM;
                variant.value.tm = Tm {
                    year: y - 1900,
                    mon: mo - 1,
                    mday: *d,
                    hour: *h,
                    min: *mi,
                    sec: *s,
                    ..Tm::default()
                };
            }
        }
        variant
    }

    /// Reads a variant the add-in filled and frees its memory, as the platform does.
    fn take_variant(&self, variant: &mut TVariant) -> Val {
        unsafe {
            let value = match variant.vt {
                VTYPE_EMPTY => Val::Undefined,
                VTYPE_NULL => Val::Null,
                VTYPE_BOOL => Val::Bool(variant.value.boolean),
                VTYPE_I4 => Val::Int(variant.value.i32),
                VTYPE_R8 => Val::Num(variant.value.f64),
                VTYPE_TM => {
                    let tm = variant.value.tm;
                    Val::Date(tm.year + 1900, tm.mon + 1, tm.mday, tm.hour, tm.min, tm.sec)
                }
                VTYPE_PWSTR => {
                    let s = variant.value.wstr;
                    let text = if s.ptr.is_null() {
                        String::new()
                    } else {
                        String::from_utf16_lossy(std::slice::from_raw_parts(s.ptr, s.len as usize))
                    };
                    self.host.free_returned(s.ptr as *mut c_void);
                    Val::Str(text)
                }
                VTYPE_BLOB => {
                    let b = variant.value.blob;
                    let bytes = if b.ptr.is_null() {
                        Vec::new()
                    } else {
                        std::slice::from_raw_parts(b.ptr, b.len as usize).to_vec()
                    };
                    self.host.free_returned(b.ptr as *mut c_void);
                    Val::Blob(bytes)
                }
                other => panic!("the add-in returned an unexpected variant type {other}"),
            };
            variant.vt = VTYPE_EMPTY;
            value
        }
    }

    fn errors_since(&self, mark: usize) -> Vec<AddError> {
        self.state().errors.lock()[mark..].to_vec()
    }

    /// The exception 1C code would see: the AddErrors since `mark`, or the platform's own reason.
    fn failure(&self, member: String, mark: usize, reason: &str) -> CallError {
        CallError {
            member,
            errors: self.errors_since(mark),
            exception: true,
            reason: reason.to_string(),
        }
    }

    /// `Объект.Метод(args...)` used as a function (or as a procedure when it has no result).
    /// Omitted trailing parameters are filled with GetParamDefValue like the platform does.
    pub fn call(&self, method: &str, args: &[Val]) -> Result<Val, CallError> {
        self.invoke(method, args, true)
    }

    /// `Объект.Метод(args...);` as a statement: CallAsProc even for functions.
    pub fn call_proc(&self, method: &str, args: &[Val]) -> Result<(), CallError> {
        self.invoke(method, args, false).map(|_| ())
    }

    fn invoke(&self, method: &str, args: &[Val], as_func: bool) -> Result<Val, CallError> {
        match self.find_method(method) {
            Some(index) => self.call_index(index, args, as_func),
            None => Err(CallError {
                member: method.to_string(),
                errors: Vec::new(),
                exception: true,
                reason: "Метод объекта не обнаружен (method not found)".into(),
            }),
        }
    }

    /// A call by method number, as the platform makes it once it has resolved the name.
    pub fn call_index(&self, index: usize, args: &[Val], as_func: bool) -> Result<Val, CallError> {
        let mark = self.state().errors.lock().len();
        let fail = |reason: &str| self.failure(format!("#{index}"), mark, reason);
        let n = self.n_params(index);
        if args.len() > n {
            return Err(fail(
                "Слишком много фактических параметров (too many parameters)",
            ));
        }
        let mut variants: Vec<TVariant> = args.iter().map(|a| self.make_variant(a)).collect();
        for param in args.len()..n {
            let mut variant = TVariant::empty();
            let ok = unsafe {
                (self.ext().get_param_def_value)(
                    self.extender(),
                    index as c_long,
                    param as c_long,
                    &mut variant,
                )
            };
            if !ok {
                for mut v in variants {
                    self.take_variant(&mut v);
                }
                return Err(fail(
                    "Недостаточно фактических параметров (not enough parameters)",
                ));
            }
            variants.push(variant);
        }
        let params = if variants.is_empty() {
            std::ptr::null_mut()
        } else {
            variants.as_mut_ptr()
        };
        let returns = self.has_ret_val(index);
        let mut result = TVariant::empty();
        let ok = unsafe {
            if as_func && returns {
                (self.ext().call_as_func)(
                    self.extender(),
                    index as c_long,
                    &mut result,
                    params,
                    n as c_long,
                )
            } else {
                (self.ext().call_as_proc)(self.extender(), index as c_long, params, n as c_long)
            }
        };
        for mut v in variants {
            self.take_variant(&mut v);
        }
        let value = self.take_variant(&mut result);
        if ok {
            Ok(value)
        } else {
            Err(fail("the add-in returned false"))
        }
    }

    pub fn get(&self, prop: &str) -> Result<Val, CallError> {
        let mark = self.state().errors.lock().len();
        let fail = |reason: &str| self.failure(prop.to_string(), mark, reason);
        let Some(index) = self.find_prop(prop) else {
            return Err(fail("Поле объекта не обнаружено (property not found)"));
        };
        if !unsafe { (self.ext().is_prop_readable)(self.extender(), index as c_long) } {
            return Err(fail("Свойство недоступно для чтения (not readable)"));
        }
        self.get_unchecked(index)
            .ok_or_else(|| fail("the add-in returned false"))
    }

    pub fn set(&self, prop: &str, value: impl Into<Val>) -> Result<(), CallError> {
        let mark = self.state().errors.lock().len();
        let fail = |reason: &str| self.failure(prop.to_string(), mark, reason);
        let Some(index) = self.find_prop(prop) else {
            return Err(fail("Поле объекта не обнаружено (property not found)"));
        };
        if !unsafe { (self.ext().is_prop_writable)(self.extender(), index as c_long) } {
            return Err(fail("Свойство недоступно для записи (read-only)"));
        }
        if self.set_unchecked(index, value.into()) {
            Ok(())
        } else {
            Err(fail("the add-in returned false"))
        }
    }

    /// Raw SetPropVal bypassing IsPropWritable, to test the add-in's own checks.
    pub fn set_unchecked(&self, index: usize, value: Val) -> bool {
        let mut variant = self.make_variant(&value);
        let ok =
            unsafe { (self.ext().set_prop_val)(self.extender(), index as c_long, &mut variant) };
        self.take_variant(&mut variant);
        ok
    }

    /// Raw GetPropVal bypassing IsPropReadable.
    pub fn get_unchecked(&self, index: usize) -> Option<Val> {
        let mut value = TVariant::empty();
        let ok = unsafe { (self.ext().get_prop_val)(self.extender(), index as c_long, &mut value) };
        let value = self.take_variant(&mut value);
        ok.then_some(value)
    }

    /// Every AddError so far.
    pub fn errors(&self) -> Vec<AddError> {
        self.state().errors.lock().clone()
    }

    /// The host becomes idle for a moment: the platform hands buffered events to the form.
    pub fn pump(&self) -> usize {
        let drained: Vec<Event> = self.state().buffer.lock().drain(..).collect();
        let n = drained.len();
        self.state().delivered.lock().extend(drained);
        n
    }

    /// Events the form has received so far (and forgets them).
    pub fn take_events(&self) -> Vec<Event> {
        self.pump();
        std::mem::take(&mut *self.state().delivered.lock())
    }

    /// Stays idle until an event matching `predicate` arrives or `timeout` passes; events that
    /// arrived before it stay available to `take_events`. Returns the matching event.
    pub fn wait_event(
        &self,
        timeout: Duration,
        predicate: impl Fn(&Event) -> bool,
    ) -> Option<Event> {
        let deadline = Instant::now() + timeout;
        loop {
            self.pump();
            {
                let mut delivered = self.state().delivered.lock();
                if let Some(pos) = delivered.iter().position(&predicate) {
                    return Some(delivered.remove(pos));
                }
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Stays idle until `count` events have been received (all kept), or `timeout` passes.
    pub fn wait_events(&self, count: usize, timeout: Duration) -> Vec<Event> {
        let deadline = Instant::now() + timeout;
        loop {
            self.pump();
            if self.state().delivered.lock().len() >= count || Instant::now() >= deadline {
                return self.take_events();
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// ExternalEvent calls the platform refused because its buffer was full.
    pub fn refused_events(&self) -> u64 {
        *self.state().refused.lock()
    }

    pub fn event_buffer_depth(&self) -> usize {
        *self.state().depth.lock()
    }

    pub fn depth_requests(&self) -> Vec<i64> {
        self.state().depth_requests.lock().clone()
    }

    /// Done, then DestroyObject, as the platform does when the variable goes out of scope.
    pub fn done(mut self) -> Teardown {
        self.finish();
        // Give a stray thread the chance to misbehave before we look.
        std::thread::sleep(Duration::from_millis(50));
        Teardown {
            platform_calls_after_done: *self.state().after_done_calls.lock(),
        }
    }

    fn finish(&mut self) {
        if self.destroyed {
            return;
        }
        self.destroyed = true;
        let this = &*self.platform as *const DefBase as usize;
        INTERFACES.lock().retain(|&address| address != this);
        unsafe {
            let head = &*(self.raw as *const ComponentHead);
            ((*head.init_done).done)(self.raw);
            *self.platform.state.done.lock() = true;
            let mut raw = self.raw;
            (self.host.destroy_object)(&mut raw);
        }
    }
}

impl Drop for Object<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Threads of this process (Linux), for teardown checks.
pub fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Open file descriptors of this process (Linux), for teardown checks.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Resident memory in KiB (Linux), for teardown checks.
pub fn rss_kib() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// A command that runs the current test binary again the way it was run: directly, or (the i686 pass,
/// `scripts/linux/run-i686.sh`) through a dynamic loader with its own arguments, where `current_exe` is the
/// loader itself. For tests that need a child process of their own (tests/exit_safety.rs).
pub fn this_test_binary() -> std::process::Command {
    let exe = std::env::current_exe().expect("current_exe");
    let through_loader = exe
        .file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with("ld-"));
    if cfg!(target_os = "linux") && through_loader {
        // The kernel's copy of the command line still holds the loader's arguments: repeat them up to the
        // program (what argv[0] became).
        let cmdline = std::fs::read("/proc/self/cmdline").expect("/proc/self/cmdline");
        let words: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        let program = std::env::args().next().expect("argv[0]");
        let end = words
            .iter()
            .position(|w| *w == program)
            .unwrap_or_else(|| panic!("{program} in {words:?}"));
        let mut command = std::process::Command::new(&words[0]);
        command.args(&words[1..=end]);
        return command;
    }
    std::process::Command::new(exe)
}
