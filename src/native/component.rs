//! `addin1c`'s raw interface implemented once for every class, with one panic guard around
//! every entry point the platform can call.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use addin1c::{CStr1C, Connection, RawAddin, Variant};
use serde_json::json;

use super::class::{AddinClass, Method, MethodSpec, ParamKind, ParamSpec, Prop, PropSpec};
use super::platform::Platform;
use super::table::{ClassTable, Slot};
use super::test_events::TestEvents;
use super::{AddinError, ClassContext, Lang, Value, SOURCE_PREFIX};
use crate::fault;
use crate::log::Level;
use crate::present::native as text;

/// The depth asked of the platform's event buffer in Init. A call yields a handful of events
/// (ringing, answered, finished, …) and an operator may see dozens of calls at once, so 128
/// absorbs such a burst without a retry round-trip, while keeping what the platform holds for
/// a busy form small. Anything beyond waits, in order, in the add-in's own queue.
pub const EVENT_BUFFER_DEPTH: i32 = 128;

/// How long Done waits for the event thread (the class's own threads have their own bound).
const EVENT_THREAD_JOIN: Duration = Duration::from_millis(500);

pub struct Component<C: AddinClass> {
    table: &'static ClassTable,
    /// `None` once Done has run: the class is dropped inside Done's panic guard, not in the platform's
    /// DestroyObject after it.
    class: Option<C>,
    ctx: ClassContext,
    source: String,
    platform: Option<Platform>,
    last_error: String,
    finished: bool,
    test_events: TestEvents,
}

impl<C: AddinClass> Component<C> {
    pub fn new() -> Self {
        crate::secrets::install_panic_hook();
        let ctx = ClassContext::new(C::NAME);
        Component {
            table: ClassTable::of::<C>(),
            class: Some(C::new(ctx.clone())),
            ctx,
            source: format!("{SOURCE_PREFIX}.{}", C::NAME),
            platform: None,
            last_error: String::new(),
            finished: false,
            test_events: TestEvents::default(),
        }
    }

    fn lang(&self) -> Lang {
        self.ctx.lang()
    }

    /// Reports a failure the way the platform expects: AddError (which makes the calling BSL
    /// code raise an exception with this text) and the same text in LastError — scrubbed of every configured
    /// secret first, whatever library wrote the text.
    fn fail(&mut self, member: (&str, &str), error: &AddinError) {
        let lang = self.lang();
        let text = crate::secrets::scrub(&format!(
            "{}.{}: {}",
            C::NAME,
            lang.pick(member.0, member.1),
            error.text(lang)
        ));
        self.ctx.log.error(&text, json!({}));
        if let Some(platform) = self.platform {
            platform.add_error(&self.source, &text);
        }
        self.last_error = text;
    }

    /// A panic reaches the user as a fixed text and a code; its payload (scrubbed) goes to the log only, under
    /// the same code.
    fn report_panic(&mut self, entry: &str, payload: Box<dyn Any + Send>) {
        // Reporting must not unwind either.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            let report = crate::secrets::panic_report(payload.as_ref());
            self.ctx.log.error(
                "panic",
                json!({"code": report.code, "entry": entry, "detail": report.detail}),
            );
            let error = crate::present::driver::panic_text(&report.code);
            self.fail((entry, entry), &error.into());
        }));
    }

    /// The panic boundary: nothing unwinds into the platform from any entry point. After Done the object
    /// is gone for the platform too: every entry answers its fallback without running (only DestroyObject,
    /// which is not an entry of the object, follows).
    fn guard<R>(&mut self, entry: &str, fallback: R, body: impl FnOnce(&mut Self) -> R) -> R {
        if self.finished {
            return fallback;
        }
        match catch_unwind(AssertUnwindSafe(|| {
            fault::maybe_panic(entry);
            body(self)
        })) {
            Ok(result) => result,
            Err(payload) => {
                self.report_panic(entry, payload);
                fallback
            }
        }
    }

    fn class(&mut self) -> Result<&mut C, AddinError> {
        self.class
            .as_mut()
            .ok_or_else(|| text::object_finished().into())
    }

    fn member_names(&self, method: usize) -> (&'static str, &'static str) {
        self.table
            .methods
            .get(method)
            .map(|m| (m.en, m.ru))
            .unwrap_or(("?", "?"))
    }

    fn check_args(&self, method: usize, params: &[Variant]) -> Result<Vec<Value>, AddinError> {
        let Some(spec) = self.table.methods.get(method) else {
            return Err(text::no_method_number(method).into());
        };
        if params.len() != spec.params.len() {
            return Err(text::param_count(spec.params.len(), params.len()).into());
        }
        spec.params
            .iter()
            .zip(params)
            .enumerate()
            .map(|(index, (param, variant))| convert(index, param, Value::read(variant)))
            .collect()
    }

    fn invoke(&mut self, method: usize, params: &mut [Variant]) -> Result<Value, AddinError> {
        let args = self.check_args(method, params)?;
        match self.table.method_slot(method) {
            Some(Slot::Common(index)) => (Self::COMMON_METHODS[index].call)(self, &args),
            Some(Slot::Class(index)) => (C::methods()[index].call)(self.class()?, &args),
            None => Err(text::no_such_method().into()),
        }
    }

    fn run_method(&mut self, method: usize, params: &mut [Variant]) -> Option<Value> {
        match self.invoke(method, params) {
            Ok(value) => {
                self.last_error.clear();
                Some(value)
            }
            Err(error) => {
                let names = self.member_names(method);
                self.fail(names, &error);
                None
            }
        }
    }

    fn diagnostics(&self) -> serde_json::Value {
        let events = self.ctx.events.queue.counters();
        json!({
            "class": C::NAME,
            "version": super::VERSION,
            "locale": if self.lang() == Lang::Ru { "ru" } else { "en" },
            "initialized": self.platform.is_some(),
            "events": {
                "queued": events.queued,
                "delivered": events.delivered,
                "refused_by_platform": events.refused,
                "dropped": events.dropped,
                "dropped_oversized": events.oversized,
                "queue_capacity": events.capacity,
                "queued_bytes": events.bytes,
                "queue_max_bytes": events.max_bytes,
                "platform_buffer_depth": self.platform.map(|p| p.event_buffer_depth()),
            },
            "log": self.ctx.log.diagnostics(),
            "state": self.class.as_ref().map(|c| c.diagnostics()),
        })
    }

    fn get_value(&mut self, prop: usize) -> Result<Value, AddinError> {
        let write_only = || AddinError::from(text::write_only());
        match self.table.prop_slot(prop).ok_or_else(no_such_prop)? {
            Slot::Common(index) => (Self::COMMON_PROPS[index].get.ok_or_else(write_only)?)(self),
            Slot::Class(index) => (C::props()[index].get.ok_or_else(write_only)?)(self.class()?),
        }
    }

    fn set_value(&mut self, prop: usize, value: &Value) -> Result<(), AddinError> {
        match self.table.prop_slot(prop).ok_or_else(no_such_prop)? {
            Slot::Common(index) => {
                (Self::COMMON_PROPS[index].set.ok_or_else(read_only)?)(self, value)
            }
            Slot::Class(index) => {
                (C::props()[index].set.ok_or_else(read_only)?)(self.class()?, value)
            }
        }
    }

    fn prop_names(&self, prop: usize) -> (&'static str, &'static str) {
        self.table
            .props
            .get(prop)
            .map(|p| (p.en, p.ru))
            .unwrap_or(("?", "?"))
    }

    /// Stops the class's threads, then the event thread; after this nothing calls the platform.
    fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        let class = self.class.take();
        let _ = catch_unwind(AssertUnwindSafe(move || {
            if let Some(mut class) = class {
                class.shutdown();
                // A panicking Drop of the class stays here too.
                drop(class);
            }
        }));
        self.test_events.stop();
        self.ctx.events.queue.close(EVENT_THREAD_JOIN);
        self.platform = None;
    }
}

/// The members every class has, served by the Native API layer itself.
impl<C: AddinClass> Component<C> {
    pub(crate) const COMMON_METHODS: &'static [Method<Self>] = &[
        Method {
            spec: MethodSpec {
                en: "Diagnostics",
                ru: "Диагностика",
                aliases: &[],
                params: &[],
                returns: true,
            },
            call: |this, _| {
                let mut diagnostics = this.diagnostics();
                crate::secrets::scrub_json(&mut diagnostics);
                Ok(Value::json(&diagnostics))
            },
        },
        // Lets a 1C developer check that the form's ВнешнееСобытие handler is wired, and lets the
        // tests drive the event path of the real library without a network peer.
        Method {
            spec: MethodSpec {
                en: "RaiseTestEvents",
                ru: "СгенерироватьТестовыеСобытия",
                aliases: &[],
                params: &[ParamSpec {
                    en: "Count",
                    ru: "Количество",
                    kind: ParamKind::Num,
                    default: Some(Value::Int(1)),
                }],
                returns: false,
            },
            call: |this, args| {
                let count = args[0].as_f64().unwrap_or(1.0);
                this.test_events.start(&this.ctx.events, count)?;
                Ok(Value::Empty)
            },
        },
    ];

    pub(crate) const COMMON_PROPS: &'static [Prop<Self>] = &[
        Prop {
            spec: PropSpec::read_only("Version", "Версия"),
            get: Some(|_| Ok(Value::from(super::VERSION))),
            set: None,
        },
        Prop {
            spec: PropSpec::read_only("LastError", "ОписаниеОшибки"),
            get: Some(|this| Ok(Value::from(this.last_error.as_str()))),
            set: None,
        },
        Prop::read_write(
            "LogFile",
            "ФайлЖурнала",
            |this| Ok(Value::from(this.ctx.log.path())),
            Self::set_log_file,
        ),
        Prop::read_write(
            "LogLevel",
            "УровеньЖурнала",
            |this| Ok(Value::from(this.ctx.log.level().name())),
            Self::set_log_level,
        ),
        Prop::read_write(
            "EventQueueCapacity",
            "ЕмкостьОчередиСобытий",
            |this| Ok(Value::Num(this.ctx.events.queue.counters().capacity as f64)),
            Self::set_queue_capacity,
        ),
        // The same count as `total` of the EventsDropped event, readable without a handler: events lost to a
        // full queue and events larger than its whole byte bound.
        Prop {
            spec: PropSpec::read_only("EventsDropped", "ПотеряноСобытий"),
            get: Some(|this| Ok(Value::Num(this.ctx.events.queue.counters().dropped as f64))),
            set: None,
        },
    ];

    fn set_log_file(&mut self, value: &Value) -> Result<(), AddinError> {
        let Value::Str(path) = value else {
            return Err(expected_type("a String", "Строка", value));
        };
        self.ctx
            .log
            .set_path(path)
            .map_err(|e| text::log_file(path, &e.to_string()).into())
    }

    fn set_log_level(&mut self, value: &Value) -> Result<(), AddinError> {
        let level = Level::parse(value.as_str())
            .ok_or_else(|| AddinError::from(text::log_level(value.as_str())))?;
        self.ctx.log.set_level(level);
        Ok(())
    }

    fn set_queue_capacity(&mut self, value: &Value) -> Result<(), AddinError> {
        match value.as_f64() {
            Some(n) if (1.0..=10_000_000.0).contains(&n) && n.fract() == 0.0 => {
                self.ctx.events.queue.set_capacity(n as usize);
                Ok(())
            }
            _ => Err(text::queue_capacity().into()),
        }
    }
}

impl<C: AddinClass> Default for Component<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: AddinClass> Drop for Component<C> {
    fn drop(&mut self) {
        // The platform normally calls Done first; this covers a platform (or host) that does not.
        let _ = catch_unwind(AssertUnwindSafe(|| self.finish()));
    }
}

fn no_such_prop() -> AddinError {
    text::no_such_prop().into()
}

fn read_only() -> AddinError {
    text::read_only().into()
}

fn expected_type(en: &str, ru: &str, got: &Value) -> AddinError {
    text::expected_type((en, ru), got.type_name()).into()
}

/// Checks one argument against its declared kind; the message names the parameter.
fn convert(index: usize, param: &ParamSpec, value: Value) -> Result<Value, AddinError> {
    let name = (param.en, param.ru);
    let wrong = |value: &Value| {
        AddinError::from(text::param_type(
            index,
            name,
            param.kind.names(),
            value.type_name(),
        ))
    };
    if value == Value::Empty {
        if let Some(default) = &param.default {
            return Ok(default.clone());
        }
        if param.kind != ParamKind::Any {
            return Err(text::param_required(index, name).into());
        }
    }
    match (param.kind, value) {
        (ParamKind::Any, v) => Ok(v),
        (ParamKind::Str, Value::Str(s)) => Ok(Value::Str(s)),
        (ParamKind::Str, Value::Int(i)) => Ok(Value::Str(i.to_string())),
        (ParamKind::Str, Value::Num(n)) if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e18 => {
            Ok(Value::Str(format!("{}", n as i64)))
        }
        (ParamKind::Str, Value::Num(n)) if n.is_finite() => Ok(Value::Str(n.to_string())),
        (ParamKind::Num, Value::Int(i)) => Ok(Value::Num(f64::from(i))),
        (ParamKind::Num, Value::Num(n)) => Ok(Value::Num(n)),
        (ParamKind::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
        (_, other) => Err(wrong(&other)),
    }
}

fn utf16_text(name: &CStr1C) -> String {
    let units: &[u16] = name;
    let units = units.strip_suffix(&[0]).unwrap_or(units);
    String::from_utf16_lossy(units)
}

fn static_name(units: &'static [u16]) -> &'static CStr1C {
    // SAFETY: every table name is built by `to_utf16z`, so it ends with its only NUL.
    unsafe { CStr1C::from_bytes_unchecked(units) }
}

impl<C: AddinClass> RawAddin for Component<C> {
    fn init(&mut self, interface: &'static Connection) -> bool {
        self.guard("Init", false, |this| {
            // SAFETY: this is the pointer the platform passes to Init.
            let platform = unsafe { Platform::from_connection(interface) };
            platform.set_event_buffer_depth(EVENT_BUFFER_DEPTH);
            this.ctx.events.queue.attach(platform.into_sink());
            this.platform = Some(platform);
            true
        })
    }

    fn get_info(&mut self) -> u16 {
        self.guard("GetInfo", 2000, |_| 2000)
    }

    fn done(&mut self) {
        self.guard("Done", (), |this| this.finish())
    }

    fn register_extension_as(&mut self) -> &CStr1C {
        let name = static_name(&self.table.extension_name);
        self.guard("RegisterExtensionAs", name, |_| name)
    }

    fn get_n_props(&mut self) -> usize {
        self.guard("GetNProps", 0, |this| this.table.props.len())
    }

    fn find_prop(&mut self, name: &CStr1C) -> Option<usize> {
        self.guard("FindProp", None, |this| {
            this.table.find_prop(&utf16_text(name))
        })
    }

    fn get_prop_name(&mut self, num: usize, alias: usize) -> Option<&'static CStr1C> {
        self.guard("GetPropName", None, |this| {
            let names = this.table.prop_names.get(num)?;
            Some(static_name(if alias == 0 { &names.en } else { &names.ru }))
        })
    }

    fn get_prop_val(&mut self, num: usize, val: &mut Variant) -> bool {
        self.guard("GetPropVal", false, |this| match this.get_value(num) {
            // A setting reads back without any part of a configured secret (URL properties are shown without
            // their credentials already; this catches whatever else).
            Ok(Value::Str(text)) => Value::Str(crate::secrets::scrub(&text)).write(val),
            Ok(value) => value.write(val),
            Err(error) => {
                let names = this.prop_names(num);
                this.fail(names, &error);
                false
            }
        })
    }

    fn set_prop_val(&mut self, num: usize, val: &Variant) -> bool {
        self.guard("SetPropVal", false, |this| {
            match this.set_value(num, &Value::read(val)) {
                Ok(()) => {
                    this.last_error.clear();
                    true
                }
                Err(error) => {
                    let names = this.prop_names(num);
                    this.fail(names, &error);
                    false
                }
            }
        })
    }

    fn is_prop_readable(&mut self, num: usize) -> bool {
        self.guard("IsPropReadable", false, |this| {
            this.table.props.get(num).is_some_and(|p| p.readable)
        })
    }

    fn is_prop_writable(&mut self, num: usize) -> bool {
        self.guard("IsPropWritable", false, |this| {
            this.table.props.get(num).is_some_and(|p| p.writable)
        })
    }

    fn get_n_methods(&mut self) -> usize {
        self.guard("GetNMethods", 0, |this| this.table.methods.len())
    }

    fn find_method(&mut self, name: &CStr1C) -> Option<usize> {
        self.guard("FindMethod", None, |this| {
            this.table.find_method(&utf16_text(name))
        })
    }

    fn get_method_name(&mut self, num: usize, alias: usize) -> Option<&'static CStr1C> {
        self.guard("GetMethodName", None, |this| {
            let names = this.table.method_names.get(num)?;
            Some(static_name(if alias == 0 { &names.en } else { &names.ru }))
        })
    }

    fn get_n_params(&mut self, num: usize) -> usize {
        self.guard("GetNParams", 0, |this| {
            this.table.methods.get(num).map_or(0, |m| m.params.len())
        })
    }

    fn get_param_def_value(
        &mut self,
        method_num: usize,
        param_num: usize,
        mut value: Variant,
    ) -> bool {
        self.guard("GetParamDefValue", false, |this| {
            let default = this
                .table
                .methods
                .get(method_num)
                .and_then(|m| m.params.get(param_num))
                .and_then(|p| p.default.as_ref());
            match default {
                Some(default) => default.write(&mut value),
                None => false,
            }
        })
    }

    fn has_ret_val(&mut self, method_num: usize) -> bool {
        self.guard("HasRetVal", false, |this| {
            this.table
                .methods
                .get(method_num)
                .is_some_and(|m| m.returns)
        })
    }

    fn call_as_proc(&mut self, method_num: usize, params: &mut [Variant]) -> bool {
        self.guard("CallAsProc", false, |this| {
            this.run_method(method_num, params).is_some()
        })
    }

    fn call_as_func(
        &mut self,
        method_num: usize,
        params: &mut [Variant],
        val: &mut Variant,
    ) -> bool {
        self.guard("CallAsFunc", false, |this| {
            match this.run_method(method_num, params) {
                Some(value) => value.write(val),
                None => false,
            }
        })
    }

    fn set_locale(&mut self, loc: &[u16]) {
        self.guard("SetLocale", (), |this| {
            let loc = loc.strip_suffix(&[0]).unwrap_or(loc);
            this.ctx
                .set_lang(Lang::from_locale(&String::from_utf16_lossy(loc)));
        })
    }

    fn set_user_interface_language_code(&mut self, lang: &[u16]) {
        self.set_locale(lang)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static DROPS: AtomicUsize = AtomicUsize::new(0);

    /// A class whose Drop panics: Done must keep that unwind inside its guard.
    struct Brittle;

    impl AddinClass for Brittle {
        const NAME: &'static str = "Brittle";
        fn methods() -> &'static [Method<Self>] {
            &[]
        }
        fn props() -> &'static [Prop<Self>] {
            const PROPS: &[Prop<Brittle>] = &[Prop::read_only("Answer", "Ответ", |_| {
                Ok(Value::Int(42))
            })];
            PROPS
        }
        fn new(_ctx: ClassContext) -> Self {
            Brittle
        }
    }

    impl Drop for Brittle {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
            panic!("drop of the class");
        }
    }

    #[test]
    fn after_done_every_entry_is_refused_and_the_class_is_dropped_inside_the_guard() {
        let mut component = Component::<Brittle>::new();
        assert!(component.get_n_props() > 0);
        assert!(component.get_n_methods() > 0);
        let answer = component.find_prop(addin1c::cstr1c!("Answer"));
        assert!(answer.is_some());
        component.done();
        assert_eq!(DROPS.load(Ordering::SeqCst), 1, "Done dropped the class");
        assert_eq!(component.get_n_props(), 0);
        assert_eq!(component.get_n_methods(), 0);
        assert_eq!(component.find_prop(addin1c::cstr1c!("Answer")), None);
        assert_eq!(component.find_method(addin1c::cstr1c!("Diagnostics")), None);
        assert!(!component.is_prop_readable(0));
        assert_eq!(component.get_info(), 2000);
        // The DestroyObject part: dropping the component runs no class code any more.
        drop(component);
        assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    }
}
