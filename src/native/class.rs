//! What a 1C class declares (its bilingual member table) and implements.

use super::{AddinError, ClassContext, Value};

/// What a parameter accepts. The boundary checks and converts before the class sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Строка. Numbers are accepted and written as text, because 1C developers often hold
    /// phone numbers and identifiers in numeric variables.
    Str,
    /// Число.
    Num,
    /// Булево.
    Bool,
    /// Any value, passed on as given.
    Any,
}

impl ParamKind {
    pub(crate) fn names(self) -> (&'static str, &'static str) {
        match self {
            ParamKind::Str => ("a String", "Строка"),
            ParamKind::Num => ("a Number", "Число"),
            ParamKind::Bool => ("a Boolean", "Булево"),
            ParamKind::Any => ("any value", "любое значение"),
        }
    }
}

#[derive(Debug)]
pub struct ParamSpec {
    pub en: &'static str,
    pub ru: &'static str,
    pub kind: ParamKind,
    /// `Some` makes the parameter optional in 1C: the platform asks for this value when the
    /// caller leaves the parameter out.
    pub default: Option<Value>,
}

#[derive(Debug)]
pub struct MethodSpec {
    pub en: &'static str,
    pub ru: &'static str,
    /// Further names FindMethod accepts (spellings of the vendor driver, for instance).
    pub aliases: &'static [&'static str],
    pub params: &'static [ParamSpec],
    /// Функция (true) or Процедура (false).
    pub returns: bool,
}

#[derive(Debug)]
pub struct PropSpec {
    pub en: &'static str,
    pub ru: &'static str,
    pub readable: bool,
    pub writable: bool,
}

/// One 1C class: `Новый("AddIn.TelephonyBridge.<NAME>")`.
pub trait AddinClass: Sized + 'static {
    const NAME: &'static str;

    fn methods() -> &'static [MethodSpec];
    fn props() -> &'static [PropSpec];

    /// Called when the platform creates the object. Start no threads here: 1C creates
    /// objects freely, so threads start with the first method that needs one.
    fn new(ctx: ClassContext) -> Self;

    /// `args` holds exactly `params.len()` values, already checked and converted by kind.
    /// Procedures return `Value::Empty`.
    fn call(&mut self, method: usize, args: &[Value]) -> Result<Value, AddinError>;
    fn get_prop(&mut self, prop: usize) -> Result<Value, AddinError>;
    fn set_prop(&mut self, prop: usize, value: &Value) -> Result<(), AddinError>;

    /// The class's own part of Diagnostics(): state and counters, never a secret.
    fn diagnostics(&self) -> serde_json::Value {
        serde_json::Value::Object(Default::default())
    }

    /// Stops and joins every thread the object started, within a bounded time.
    fn shutdown(&mut self) {}
}
