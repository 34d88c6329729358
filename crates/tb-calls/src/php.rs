//! PHP's view of JSON and forms, byte for byte, for Binotel-style signatures.
//!
//! A Binotel signature is `md5(secret . json_encode($params))` after `ksort($params)`, where `$params` is what PHP
//! got from `json_decode($body, true)` or from a form. To compute the same bytes we must see the data as PHP does:
//! - integers stay integers and strings stay strings (`[744924436]` is not `["744924436"]`); a float is re-printed
//!   the way PHP prints it (`1.50` becomes `1.5`, `1e3` becomes `1000.0`... see [`php_float_text`]);
//! - a JSON object becomes a PHP array: keys that look like canonical integers become integer keys, a later duplicate
//!   key overwrites the value in the first key's place, and an array whose keys are exactly 0..n-1 prints as a list,
//!   so `{}` prints as `[]` and `{"0":"a"}` as `["a"]`;
//! - `json_encode` with default flags: no spaces, `/` as `\/`, every non-ASCII character as lowercase `\uXXXX`
//!   (surrogate pairs above U+FFFF), control characters as `\b \f \n \r \t` or `\u00XX`.
//!
//! serde_json cannot carry this (it loses int-vs-float text and key semantics without global feature flags that would
//! leak into the whole workspace), hence this small value type with its own decoder.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::error::{CallsError, Problem};
use tb_prims::percent::{decode_lossy, Plus};

/// PHP's default `json_decode` depth limit: arrays/objects nested deeper are an error there too.
pub const MAX_DEPTH: usize = 512;
/// PHP's default `max_input_nesting_level` for forms.
pub const MAX_FORM_DEPTH: usize = 64;

/// A PHP array key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PhpKey {
    Int(i64),
    Str(String),
}

impl PhpKey {
    /// What PHP does with a string used as an array key: `"12"` becomes int 12, `"012"`, `"1.0"`, `"-0"` stay strings.
    pub fn from_string(text: String) -> PhpKey {
        match canonical_int(&text) {
            Some(n) => PhpKey::Int(n),
            None => PhpKey::Str(text),
        }
    }

    pub fn as_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            PhpKey::Int(n) => std::borrow::Cow::Owned(n.to_string()),
            PhpKey::Str(s) => std::borrow::Cow::Borrowed(s),
        }
    }
}

/// A decimal integer without leading zeros, `+`, or `-0`, in the i64 range.
fn canonical_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" && !text.starts_with('-') || !digits.starts_with('0'));
    if canonical {
        text.parse().ok()
    } else {
        None
    }
}

/// An ordered PHP array.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PhpArray {
    entries: Vec<(PhpKey, PhpValue)>,
    next_index: i64,
}

impl PhpArray {
    pub fn new() -> PhpArray {
        PhpArray::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[(PhpKey, PhpValue)] {
        &self.entries
    }

    pub fn get(&self, key: &PhpKey) -> Option<&PhpValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Case-insensitive look-up of a string key (the seeds' PHP samples mangle case).
    pub fn get_ignore_case(&self, name: &str) -> Option<&PhpValue> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_text().eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// `$a[$key] = $value`: overwrite in place or append.
    pub fn insert(&mut self, key: PhpKey, value: PhpValue) {
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
            return;
        }
        self.push_new(key, value);
    }

    /// `$a[] = $value`.
    pub fn append(&mut self, value: PhpValue) {
        let key = PhpKey::Int(self.next_index);
        self.push_new(key, value);
    }

    fn push_new(&mut self, key: PhpKey, value: PhpValue) {
        if let PhpKey::Int(n) = key {
            if n >= self.next_index {
                self.next_index = n.saturating_add(1);
            }
        }
        self.entries.push((key, value));
    }

    /// `unset($a[$key])`.
    pub fn remove(&mut self, key: &PhpKey) -> Option<PhpValue> {
        let index = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(index).1)
    }

    /// `ksort($a)` with PHP 8's default `SORT_REGULAR` comparison (stable, as PHP 8's sort is).
    ///
    /// PHP's comparison is not a total order (numeric and non-numeric strings compare differently, so
    /// `"10" < "9a" < "9" < "10"` is possible), and `slice::sort_by` may panic on such input; a hand-written merge
    /// sort never does. For every transitive key set — all real API parameters — the order is PHP's.
    pub fn ksort(&mut self) {
        let entries = std::mem::take(&mut self.entries);
        self.entries = merge_sort(
            entries,
            &|(a, _): &(PhpKey, PhpValue), (b, _): &(PhpKey, PhpValue)| php_key_compare(a, b),
        );
    }

    /// What `json_encode` checks: keys exactly 0, 1, 2, ... in order.
    pub fn is_list(&self) -> bool {
        self.entries
            .iter()
            .enumerate()
            .all(|(i, (k, _))| *k == PhpKey::Int(i as i64))
    }
}

/// A PHP value as `json_decode($x, true)` or a form decoder leaves it.
#[derive(Debug, Clone, PartialEq)]
pub enum PhpValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(PhpArray),
}

impl PhpValue {
    pub fn as_array(&self) -> Option<&PhpArray> {
        match self {
            PhpValue::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_array_mut(&mut self) -> Option<&mut PhpArray> {
        match self {
            PhpValue::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The same data as a serde_json value (lists as arrays, other arrays as objects; INF/NaN as null).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            PhpValue::Null => Value::Null,
            PhpValue::Bool(b) => Value::Bool(*b),
            PhpValue::Int(n) => Value::from(*n),
            PhpValue::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            PhpValue::Str(s) => Value::String(s.clone()),
            PhpValue::Array(a) if a.is_list() && !a.is_empty() => {
                Value::Array(a.entries.iter().map(|(_, v)| v.to_json()).collect())
            }
            PhpValue::Array(a) if a.is_empty() => Value::Array(Vec::new()),
            PhpValue::Array(a) => Value::Object(
                a.entries
                    .iter()
                    .map(|(k, v)| (k.as_text().into_owned(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// `json_encode($value)` with default flags.
    pub fn to_php_json(&self) -> Result<String, CallsError> {
        let mut out = String::new();
        encode_value(self, &mut out)?;
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// json_decode($text, true)
// ---------------------------------------------------------------------------------------------------------------

/// Decodes JSON as PHP's `json_decode($text, true)` does; errors name the byte offset.
pub fn decode_json(text: &[u8]) -> Result<PhpValue, String> {
    let text = std::str::from_utf8(text)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))?;
    let mut parser = Parser {
        text: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    parser.skip_ws();
    let value = parser.value()?;
    parser.skip_ws();
    if parser.pos != parser.text.len() {
        return Err(parser.err("unexpected data after the JSON value"));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> String {
        format!("{what} at byte {}", self.pos)
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.text.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn expect_word(&mut self, word: &str, value: PhpValue) -> Result<PhpValue, String> {
        if self.text[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.err("unexpected character"))
        }
    }

    fn value(&mut self) -> Result<PhpValue, String> {
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(PhpValue::Str(self.string()?)),
            Some(b't') => self.expect_word("true", PhpValue::Bool(true)),
            Some(b'f') => self.expect_word("false", PhpValue::Bool(false)),
            Some(b'n') => self.expect_word("null", PhpValue::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("nesting deeper than 512 levels"));
        }
        Ok(())
    }

    fn object(&mut self) -> Result<PhpValue, String> {
        self.enter()?;
        self.pos += 1;
        let mut array = PhpArray::new();
        let mut index: HashMap<PhpKey, usize> = HashMap::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(PhpValue::Array(array));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a string key"));
            }
            let key = PhpKey::from_string(self.string()?);
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value()?;
            match index.get(&key) {
                Some(&i) => array.entries[i].1 = value,
                None => {
                    index.insert(key.clone(), array.entries.len());
                    array.push_new(key, value);
                }
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(PhpValue::Array(array));
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self) -> Result<PhpValue, String> {
        self.enter()?;
        self.pos += 1;
        let mut array = PhpArray::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(PhpValue::Array(array));
        }
        loop {
            self.skip_ws();
            let value = self.value()?;
            array.append(value);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(PhpValue::Array(array));
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn number(&mut self) -> Result<PhpValue, String> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.pos += 1;
                }
            }
            _ => return Err(self.err("invalid number")),
        }
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            is_float = true;
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number"));
            }
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            is_float = true;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number"));
            }
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
        }
        // The slice is ASCII digits/sign/dot/exponent, so it is valid UTF-8.
        let text = std::str::from_utf8(&self.text[start..self.pos])
            .map_err(|_| self.err("invalid number"))?;
        if !is_float {
            if let Ok(n) = text.parse::<i64>() {
                return Ok(PhpValue::Int(n));
            }
            // PHP turns integers beyond the 64-bit range into floats.
        }
        text.parse::<f64>()
            .map(PhpValue::Float)
            .map_err(|_| self.err("invalid number"))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err("truncated \\u escape"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.err("invalid \\u escape"))?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.err("invalid \\u escape"));
        }
        let value = u32::from_str_radix(text, 16).map_err(|_| self.err("invalid \\u escape"))?;
        self.pos += 4;
        Ok(value)
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The input was checked to be UTF-8 and runs stop only at ASCII bytes.
            out.push_str(
                std::str::from_utf8(&self.text[run_start..self.pos])
                    .map_err(|_| self.err("invalid UTF-8"))?,
            );
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escape = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    self.pos += 1;
                    match escape {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let first = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&first) {
                                if !self.text[self.pos..].starts_with(b"\\u") {
                                    return Err(self.err("single unpaired UTF-16 surrogate"));
                                }
                                self.pos += 2;
                                let second = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&second) {
                                    return Err(self.err("single unpaired UTF-16 surrogate"));
                                }
                                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&first) {
                                return Err(self.err("single unpaired UTF-16 surrogate"));
                            } else {
                                first
                            };
                            out.push(
                                char::from_u32(code)
                                    .ok_or_else(|| self.err("invalid \\u escape"))?,
                            );
                        }
                        _ => return Err(self.err("invalid escape")),
                    }
                }
                Some(_) => return Err(self.err("control character in a string")),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// json_encode($value) with default flags
// ---------------------------------------------------------------------------------------------------------------

fn encode_value(value: &PhpValue, out: &mut String) -> Result<(), CallsError> {
    match value {
        PhpValue::Null => out.push_str("null"),
        PhpValue::Bool(true) => out.push_str("true"),
        PhpValue::Bool(false) => out.push_str("false"),
        PhpValue::Int(n) => out.push_str(&n.to_string()),
        PhpValue::Float(f) => {
            if !f.is_finite() {
                return Err(CallsError::NotEncodable {
                    detail: Problem::NotFinite,
                });
            }
            out.push_str(&php_float_text(*f));
        }
        PhpValue::Str(s) => encode_string(s, out),
        PhpValue::Array(a) if a.is_list() => {
            out.push('[');
            for (i, (_, v)) in a.entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                encode_value(v, out)?;
            }
            out.push(']');
        }
        PhpValue::Array(a) => {
            out.push('{');
            for (i, (k, v)) in a.entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                encode_string(&k.as_text(), out);
                out.push(':');
                encode_value(v, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn encode_string(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let push_u = |out: &mut String, unit: u16| {
        out.push_str("\\u");
        for shift in [12, 8, 4, 0] {
            out.push(char::from(HEX[usize::from((unit >> shift) & 0xF)]));
        }
    };
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => push_u(out, c as u16),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    push_u(out, *unit);
                }
            }
        }
    }
    out.push('"');
}

/// A float as PHP ≥ 7.1 prints it in `json_encode` (`serialize_precision = -1`: the shortest digits that read back
/// the same; `php_gcvt` layout with precision 17: exponent form when the decimal exponent is below -4 or above 15
/// digits after the first, e.g. `1.0e+25`, `1.5e-7`; no `.0` is added to whole numbers by default).
pub fn php_float_text(value: f64) -> String {
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0".to_string()
        } else {
            "0".to_string()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "d.ddde±x".
    let sci = format!("{:e}", value.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    // php_gcvt's decpt: value = 0.DIGITS × 10^decpt.
    let decpt = exponent + 1;
    let mut out = String::new();
    if value < 0.0 {
        out.push('-');
    }
    if !(-3..=17).contains(&decpt) {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        out.push('.');
        out.push_str(if rest.is_empty() { "0" } else { rest });
        let e = decpt - 1;
        out.push('e');
        out.push(if e < 0 { '-' } else { '+' });
        out.push_str(&e.abs().to_string());
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in decpt..0 {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let decpt = decpt as usize;
        if digits.len() <= decpt {
            out.push_str(&digits);
            for _ in digits.len()..decpt {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..decpt]);
            out.push('.');
            out.push_str(&digits[decpt..]);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// ksort (PHP 8, SORT_REGULAR)
// ---------------------------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum PhpNumber {
    Int(i64),
    Float(f64),
}

impl PhpNumber {
    fn cmp(self, other: PhpNumber) -> Ordering {
        match (self, other) {
            (PhpNumber::Int(a), PhpNumber::Int(b)) => a.cmp(&b),
            (a, b) => a
                .as_f64()
                .partial_cmp(&b.as_f64())
                .unwrap_or(Ordering::Equal),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            PhpNumber::Int(n) => n as f64,
            PhpNumber::Float(f) => f,
        }
    }
}

/// PHP 8's `is_numeric_string`: optional leading/trailing whitespace, sign, digits with an optional fraction and
/// exponent (`" 1.5e3 "`, `".5"`, `"1."`). No hex, no INF.
fn php_numeric(text: &str) -> Option<PhpNumber> {
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}');
    let body = text.trim_start_matches(ws).trim_end_matches(ws);
    let bytes = body.as_bytes();
    let mut i = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut is_float = false;
    let mut frac_digits = 0;
    if i < bytes.len() && bytes[i] == b'.' {
        is_float = true;
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
            frac_digits += 1;
        }
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if i < bytes.len() && matches!(bytes[i], b'e' | b'E') {
        let mut j = i + 1;
        if j < bytes.len() && matches!(bytes[j], b'+' | b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            is_float = true;
            i = j;
        }
    }
    if i != bytes.len() {
        return None;
    }
    if !is_float {
        if let Ok(n) = body.parse::<i64>() {
            return Some(PhpNumber::Int(n));
        }
    }
    let normalized = body.strip_prefix('+').unwrap_or(body);
    let normalized = if normalized.ends_with('.') {
        format!("{normalized}0")
    } else {
        normalized.to_string()
    };
    let normalized = if normalized.starts_with('.') || normalized.starts_with("-.") {
        normalized.replacen('.', "0.", 1)
    } else {
        normalized
    };
    normalized.parse::<f64>().ok().map(PhpNumber::Float)
}

/// Stable merge sort that tolerates an inconsistent comparison (it only ever asks "is right < left?").
fn merge_sort<T>(mut items: Vec<T>, less: &impl Fn(&T, &T) -> Ordering) -> Vec<T> {
    if items.len() <= 1 {
        return items;
    }
    let right = items.split_off(items.len() / 2);
    let left = merge_sort(items, less);
    let right = merge_sort(right, less);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_right = match (left.peek(), right.peek()) {
            (Some(l), Some(r)) => less(r, l) == Ordering::Less,
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        let next = if take_right {
            right.next()
        } else {
            left.next()
        };
        out.extend(next);
    }
    out
}

/// `zend_binary_strcmp`: bytes, then length.
fn binary_cmp(a: &str, b: &str) -> Ordering {
    a.as_bytes().cmp(b.as_bytes())
}

fn php_key_compare(a: &PhpKey, b: &PhpKey) -> Ordering {
    match (a, b) {
        (PhpKey::Int(x), PhpKey::Int(y)) => x.cmp(y),
        (PhpKey::Str(x), PhpKey::Str(y)) => match (php_numeric(x), php_numeric(y)) {
            (Some(nx), Some(ny)) => nx.cmp(ny),
            _ => binary_cmp(x, y),
        },
        (PhpKey::Int(x), PhpKey::Str(y)) => int_string_compare(*x, y),
        (PhpKey::Str(x), PhpKey::Int(y)) => int_string_compare(*y, x).reverse(),
    }
}

/// PHP 8: an int against a numeric string compares as numbers, against any other string as strings.
fn int_string_compare(int: i64, text: &str) -> Ordering {
    match php_numeric(text) {
        Some(n) => PhpNumber::Int(int).cmp(n),
        None => binary_cmp(&int.to_string(), text),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// parse_str($form) / $_POST
// ---------------------------------------------------------------------------------------------------------------

/// Decodes `application/x-www-form-urlencoded` the way PHP fills `$_POST`: `a[b][c]=v` nests, `a[]=v` appends,
/// `+` is a space, `.` and space in the top-level name become `_`, later duplicates overwrite. Values are strings.
/// Invalid UTF-8 after percent-decoding is replaced with U+FFFD (PHP would keep the raw bytes).
pub fn decode_form(body: &[u8]) -> Result<PhpArray, CallsError> {
    let mut root = PhpArray::new();
    for pair in body.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        let name = decode_lossy(name, Plus::Space);
        let value = decode_lossy(value, Plus::Space);
        insert_form_value(&mut root, &name, value)?;
    }
    Ok(root)
}

fn insert_form_value(root: &mut PhpArray, name: &str, value: String) -> Result<(), CallsError> {
    let name = name.trim_start_matches(' ');
    let (base, mut rest) = match name.find('[') {
        // PHP keeps `a[b` as the plain name `a_b` when the bracket is never closed.
        Some(i) if name[i..].contains(']') => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    let base: String = base
        .chars()
        .map(|c| {
            if c == ' ' || c == '.' || c == '[' {
                '_'
            } else {
                c
            }
        })
        .collect();
    if base.is_empty() {
        return Ok(());
    }
    let mut path: Vec<Option<String>> = Vec::new();
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            break;
        };
        let index = &stripped[..close];
        path.push(if index.is_empty() {
            None
        } else {
            Some(index.to_string())
        });
        rest = &stripped[close + 1..];
        if path.len() > MAX_FORM_DEPTH {
            return Err(CallsError::InvalidForm {
                detail: Problem::FormTooDeep {
                    field: base.to_string(),
                    max: MAX_FORM_DEPTH,
                },
            });
        }
    }
    let value = PhpValue::Str(value);
    let root_key = PhpKey::from_string(base);
    if path.is_empty() {
        root.insert(root_key, value);
        return Ok(());
    }
    let mut slot = slot_array(root, Some(root_key));
    for (i, index) in path.iter().enumerate() {
        let key = index.clone().map(PhpKey::from_string);
        if i + 1 == path.len() {
            match key {
                Some(k) => slot.insert(k, value),
                None => slot.append(value),
            }
            break;
        }
        slot = slot_array(slot, key);
    }
    Ok(())
}

/// The array at `$parent[$key]` (or a new `$parent[]`), replacing a scalar there as PHP does.
fn slot_array(parent: &mut PhpArray, key: Option<PhpKey>) -> &mut PhpArray {
    let index = match key {
        Some(k) => match parent
            .entries
            .iter()
            .position(|(existing, _)| *existing == k)
        {
            Some(i) => {
                if parent.entries[i].1.as_array().is_none() {
                    parent.entries[i].1 = PhpValue::Array(PhpArray::new());
                }
                i
            }
            None => {
                parent.push_new(k, PhpValue::Array(PhpArray::new()));
                parent.entries.len() - 1
            }
        },
        None => {
            parent.append(PhpValue::Array(PhpArray::new()));
            parent.entries.len() - 1
        }
    };
    match &mut parent.entries[index].1 {
        PhpValue::Array(a) => a,
        // Unreachable by construction: the slot was just made an array.
        other => {
            *other = PhpValue::Array(PhpArray::new());
            other.as_array_mut().expect("just assigned an array")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(json: &str) -> String {
        decode_json(json.as_bytes())
            .and_then(|v| v.to_php_json().map_err(|e| e.to_string()))
            .unwrap_or_else(|e| e)
    }

    #[test]
    fn php_reencodes_json_like_json_encode() {
        assert_eq!(
            roundtrip(r#"{ "a" : [1, "1", 1.0, 1.50, true, null] }"#),
            r#"{"a":[1,"1",1,1.5,true,null]}"#
        );
        assert_eq!(
            roundtrip(r#"{"u":"https://x.y/z"}"#),
            r#"{"u":"https:\/\/x.y\/z"}"#
        );
        assert_eq!(
            roundtrip(r#"{"n":"Врач"}"#),
            r#"{"n":"\u0412\u0440\u0430\u0447"}"#
        );
        assert_eq!(roundtrip(r#""😀\u00e9""#), r#""\ud83d\ude00\u00e9""#);
        assert_eq!(roundtrip(r#"{}"#), "[]");
        assert_eq!(roundtrip(r#"{"0":"a","1":"b"}"#), r#"["a","b"]"#);
        assert_eq!(roundtrip(r#"{"1":"a"}"#), r#"{"1":"a"}"#);
        assert_eq!(roundtrip(r#"{"a":1,"a":2,"b":3}"#), r#"{"a":2,"b":3}"#);
        assert_eq!(roundtrip(r#""\u0001\t<&>'""#), r#""\u0001\t<&>'""#);
        assert_eq!(roundtrip("12345678901234567890"), "1.2345678901234567e+19");
    }

    #[test]
    fn floats_print_as_php_does() {
        for (value, text) in [
            (0.1, "0.1"),
            (1500.0, "1500"),
            (1e15, "1000000000000000"),
            (1e16, "10000000000000000"),
            (1e17, "1.0e+17"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (1e25, "1.0e+25"),
            (0.0001, "0.0001"),
            (0.00001, "1.0e-5"),
            (-2.5e-7, "-2.5e-7"),
            (-0.0, "-0"),
            (3.0, "3"),
        ] {
            assert_eq!(php_float_text(value), text, "{value}");
        }
    }

    #[test]
    fn json_errors_are_reported_with_position() {
        for bad in [
            "",
            "{",
            "{\"a\"}",
            "[1,]",
            "01",
            "\"\\ud800\"",
            "\"a\nb\"",
            "nul",
            "{} x",
            "1.",
            "\"\\x\"",
        ] {
            assert!(decode_json(bad.as_bytes()).is_err(), "{bad}");
        }
        let deep = "[".repeat(600);
        assert!(decode_json(deep.as_bytes()).unwrap_err().contains("512"));
    }

    #[test]
    fn ksort_follows_php8_regular_comparison() {
        let mut a =
            match decode_json(br#"{"signature":1,"b":1,"B":1,"10":1,"9":1,"a":1,"1e1":1,"_":1}"#) {
                Ok(PhpValue::Array(a)) => a,
                other => panic!("{other:?}"),
            };
        a.ksort();
        let keys: Vec<String> = a
            .entries()
            .iter()
            .map(|(k, _)| k.as_text().into_owned())
            .collect();
        // 9 < 10 == "1e1" (numeric), ints vs non-numeric strings compare as strings: "9" < "B" < "_" < "a".
        assert_eq!(keys, ["9", "10", "1e1", "B", "_", "a", "b", "signature"]);
    }

    #[test]
    fn ksort_survives_keys_php_cannot_order_consistently() {
        // Numeric strings compare as numbers, mixed pairs as bytes: no total order exists. Found by cargo-fuzz.
        let keys = [
            "10", "9a", "9", "1e1", " 5", "z", "5 ", "-1", "", "0x1", ".5", "1.", "Z",
        ];
        let mut a = PhpArray::new();
        for round in 0..40 {
            for k in keys {
                a.insert(
                    PhpKey::Str(format!("{k}{}", "\u{0}".repeat(round % 3))),
                    PhpValue::Int(round as i64),
                );
                a.insert(PhpKey::from_string(format!("{round}{k}")), PhpValue::Null);
            }
        }
        let before = a.len();
        a.ksort();
        assert_eq!(a.len(), before);
    }

    #[test]
    fn forms_nest_like_php_post() {
        let form = decode_form(
            b"requestType=apiCallCompleted&callDetails[generalCallID]=123&callDetails[customerData][name]=%D0%92+x\
              &callDetails[list][]=a&callDetails[list][]=b&a.b=1&x=1&x=2",
        )
        .map(|a| PhpValue::Array(a).to_php_json());
        assert_eq!(
            form,
            Ok(Ok(r#"{"requestType":"apiCallCompleted","callDetails":{"generalCallID":"123","customerData":{"name":"\u0412 x"},"list":["a","b"]},"a_b":"1","x":"2"}"#.to_string()))
        );
    }
}
