//! The Native API layer: the platform's ABI (through addin1c, plus the AddError vtable it lacks), one panic
//! boundary for every entry point, the member numbers the platform uses resolved to the classes' table entries,
//! the common members (RaiseTestEvents among them), AddError + LastError, the locale the platform sets. The classes
//! implement its [`AddinClass`] trait and never see the platform; it never names a class. Its texts come from
//! `present::native`.

mod class;
mod component;
pub mod platform;
pub mod reference;
mod table;
mod test_events;
mod value;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

/// The error and language types of the member tables, defined with the texts in `present`.
pub use crate::present::{AddinError, Lang};
pub use class::{AddinClass, Method, MethodSpec, ParamKind, ParamSpec, Prop, PropSpec};
pub use component::{Component, EVENT_BUFFER_DEPTH};
pub use value::Value;

use crate::events::EventQueue;
use crate::log::Logger;

/// The add-in's version (Версия, Diagnostics, the package's INFO.XML agree with it).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Prefix of every ExternalEvent Source and AddError source.
pub const SOURCE_PREFIX: &str = "TelephonyBridge";

/// What a class gets from the core. Clone it into worker threads.
#[derive(Clone)]
pub struct ClassContext {
    pub events: EventSender,
    pub log: Logger,
    lang: Arc<AtomicU8>,
}

impl ClassContext {
    pub(crate) fn new(class_name: &str) -> Self {
        ClassContext {
            events: EventSender {
                queue: EventQueue::new(&format!("{SOURCE_PREFIX}.{class_name}")),
            },
            log: Logger::new(class_name),
            lang: Arc::new(AtomicU8::new(0)),
        }
    }

    /// A context for unit tests of a class: events are queued but go nowhere.
    pub fn detached(class_name: &str) -> Self {
        Self::new(class_name)
    }

    pub fn lang(&self) -> Lang {
        if self.lang.load(Ordering::Relaxed) == 1 {
            Lang::Ru
        } else {
            Lang::En
        }
    }

    pub(crate) fn set_lang(&self, lang: Lang) {
        self.lang
            .store(u8::from(lang == Lang::Ru), Ordering::Relaxed);
    }
}

/// Raises ExternalEvent(`TelephonyBridge.<Class>`, name, data) — at once from the calling thread when
/// nothing waits before it, else through the ordered, bounded queue (`crate::events`). Never waits for
/// the platform's buffer (at most one ExternalEvent call); a no-op once the object is done.
#[derive(Clone)]
pub struct EventSender {
    pub(crate) queue: EventQueue,
}

impl EventSender {
    pub fn send(&self, name: &str, data: serde_json::Value) {
        self.queue.send(name, &data);
    }
}
