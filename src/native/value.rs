//! Values crossing the Native API boundary, independent of the platform's variant layout.

use addin1c::{ParamValue, Variant};

/// A 1C value as the add-in sees it. Dates are passed on as text (ISO 8601) because every
/// member of this add-in exchanges times as strings.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Empty,
    Bool(bool),
    Int(i32),
    Num(f64),
    Str(String),
    Blob(Vec<u8>),
}

impl Value {
    pub fn as_str(&self) -> &str {
        match self {
            Value::Str(s) => s,
            _ => "",
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(f64::from(*i)),
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Serializes a JSON value into a 1C string.
    pub fn json(value: &serde_json::Value) -> Value {
        Value::Str(value.to_string())
    }

    pub(crate) fn type_name(&self) -> (&'static str, &'static str) {
        match self {
            Value::Empty => ("Undefined", "Неопределено"),
            Value::Bool(_) => ("Boolean", "Булево"),
            Value::Int(_) | Value::Num(_) => ("Number", "Число"),
            Value::Str(_) => ("String", "Строка"),
            Value::Blob(_) => ("BinaryData", "ДвоичныеДанные"),
        }
    }

    pub(crate) fn read(variant: &Variant) -> Value {
        match variant.get() {
            ParamValue::Empty => Value::Empty,
            ParamValue::Bool(b) => Value::Bool(b),
            ParamValue::I32(i) => Value::Int(i),
            ParamValue::F64(f) => Value::Num(f),
            ParamValue::Str(s) => Value::Str(String::from_utf16_lossy(s)),
            ParamValue::Blob(b) => Value::Blob(b.to_vec()),
            ParamValue::Date(tm) => Value::Str(format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                tm.year + 1900,
                tm.mon + 1,
                tm.mday,
                tm.hour,
                tm.min,
                tm.sec
            )),
        }
    }

    /// Writes the value into a platform variant; false when the platform refused memory.
    pub(crate) fn write(&self, variant: &mut Variant) -> bool {
        match self {
            Value::Empty => variant.set_empty(),
            Value::Bool(b) => variant.set_bool(*b),
            Value::Int(i) => variant.set_i32(*i),
            Value::Num(n) => variant.set_f64(*n),
            Value::Str(s) => return variant.set_str1c(s.as_str()).is_ok(),
            Value::Blob(b) => return variant.set_blob(b).is_ok(),
        }
        true
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Num(n)
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::Int(n)
    }
}
