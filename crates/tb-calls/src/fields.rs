//! Tolerant reading of bodies that people typed: key case varies, values come as numbers or strings, arrays or null.

use serde_json::{Map, Value};

/// Case-insensitive view of one JSON object's fields.
pub struct Fields<'a> {
    entries: Vec<(String, &'a Value)>,
}

impl<'a> Fields<'a> {
    pub fn new(object: &'a Map<String, Value>) -> Fields<'a> {
        Fields {
            entries: object
                .iter()
                .map(|(k, v)| (k.trim().to_lowercase(), v))
                .collect(),
        }
    }

    /// The value of the first of `names` that is present (names are given in lower case).
    pub fn get(&self, names: &[&str]) -> Option<&'a Value> {
        names.iter().find_map(|name| {
            self.entries
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| *v)
        })
    }

    /// Whether any of `names` is present at all, even with an empty value (templates keep their keys).
    pub fn has(&self, names: &[&str]) -> bool {
        self.get(names).is_some()
    }

    /// The first non-empty text among `names`.
    pub fn text(&self, names: &[&str]) -> Option<String> {
        names
            .iter()
            .find_map(|name| self.get(&[name]).and_then(value_text))
    }

    pub fn seconds(&self, names: &[&str]) -> Option<u64> {
        names
            .iter()
            .find_map(|name| self.get(&[name]).and_then(value_seconds))
    }

    pub fn flag(&self, names: &[&str]) -> Option<bool> {
        names
            .iter()
            .find_map(|name| self.get(&[name]).and_then(value_flag))
    }

    /// A nested object by name.
    pub fn object(&self, names: &[&str]) -> Option<&'a Map<String, Value>> {
        self.get(names).and_then(Value::as_object)
    }

    /// All non-empty strings under `names`, flattening arrays.
    pub fn texts(&self, names: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for name in names {
            if let Some(v) = self.get(&[name]) {
                collect_texts(v, &mut out);
            }
        }
        out
    }
}

fn collect_texts(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| collect_texts(item, out)),
        other => {
            if let Some(text) = value_text(other) {
                out.push(text);
            }
        }
    }
}

/// A scalar as text: trimmed strings, numbers without a spurious `.0`, booleans; the first usable element of an
/// array; `None` for null, empty strings and objects.
pub fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_string())
        }
        Value::Number(n) => Some(number_text(n)),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => items.iter().find_map(value_text),
        Value::Null | Value::Object(_) => None,
    }
}

/// `123.0` → `123`: a phone number or ID that went through a float must not grow a fraction.
pub fn number_text(n: &serde_json::Number) -> String {
    if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
        if f.fract() == 0.0 && f.abs() < 1e15 {
            return format!("{}", f as i64);
        }
    }
    n.to_string()
}

/// Seconds from `35`, `"35"`, `35.4`, `"00:00:35"`, `"1:05"`.
pub fn value_seconds(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f.round() as u64)
        }),
        Value::String(s) => text_seconds(s.trim()),
        Value::Array(items) => items.iter().find_map(value_seconds),
        _ => None,
    }
}

fn text_seconds(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    if let Ok(n) = text.parse::<u64>() {
        return Some(n);
    }
    if text.contains(':') {
        let mut total: u64 = 0;
        for part in text.split(':') {
            if part.is_empty()
                || part.len() > 2 && total > 0
                || !part.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            total = total.checked_mul(60)?.checked_add(part.parse().ok()?)?;
        }
        return Some(total);
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && *f >= 0.0)
        .map(|f| f.round() as u64)
}

/// Booleans from `true`, `1`, `"true"`, `"1"`, `"yes"`, `"да"` and their negatives.
pub fn value_flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        Value::String(s) => match s.trim().to_lowercase().as_str() {
            "true" | "1" | "yes" | "y" | "да" | "истина" => Some(true),
            "false" | "0" | "no" | "n" | "нет" | "ложь" => Some(false),
            _ => None,
        },
        Value::Array(items) => items.iter().find_map(value_flag),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_case_insensitive_and_values_tolerant() {
        let body = json!({"Start_Time": "x", "ID": 123.0, "list": [null, "", " a "], "flag": "Да", "t": "01:05"});
        let object = body.as_object().cloned().unwrap_or_default();
        let fields = Fields::new(&object);
        assert_eq!(fields.text(&["start_time"]).as_deref(), Some("x"));
        assert_eq!(fields.text(&["id"]).as_deref(), Some("123"));
        assert_eq!(fields.text(&["list"]).as_deref(), Some("a"));
        assert_eq!(fields.flag(&["flag"]), Some(true));
        assert_eq!(fields.seconds(&["t"]), Some(65));
        assert!(fields.has(&["list"]) && !fields.has(&["nothing"]));
    }
}
