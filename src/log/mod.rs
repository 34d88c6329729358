//! JSON-lines log with size-capped rotation. Off until the user sets LogFile.
//!
//! Secrets are kept out twice: callers never pass them, and any field whose name looks like a
//! secret (`tb_prims::redact::SECRET_MARKERS`: key, token, secret, pass, pwd, auth, jwt, hmac, credential,
//! cookie, signature, and their Russian words) is masked before writing; address fields (`url`,
//! `address`, `proxy` in the name) go through the one URL redaction.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde_json::{Map, Value};
use tb_prims::redact::is_secret_name;

/// A log file grows to this size, then becomes `<file>.1` (the previous `.1` is removed).
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    /// Accepts the English names and their Russian equivalents, in any case.
    pub fn parse(text: &str) -> Option<Level> {
        match text.trim().to_lowercase().as_str() {
            "error" | "ошибка" | "ошибки" => Some(Level::Error),
            "warn" | "warning" | "предупреждение" | "предупреждения" => {
                Some(Level::Warn)
            }
            "info" | "информация" => Some(Level::Info),
            "debug" | "отладка" => Some(Level::Debug),
            _ => None,
        }
    }
}

struct Sink {
    path: Option<PathBuf>,
    file: Option<File>,
    written: u64,
    level: Level,
    max_bytes: u64,
    lines: u64,
    failures: u64,
}

/// A cheap, clonable handle; clones write to the same file.
#[derive(Clone)]
pub struct Logger {
    component: Arc<str>,
    sink: Arc<Mutex<Sink>>,
}

/// Masks every value whose field name looks like a secret, at any depth, and passes every address field (a name
/// with `url`, `address` or `proxy`) through the one URL redaction, whatever the caller already did.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (name, field) in map.iter_mut() {
                if is_secret_name(name) && !field.is_null() {
                    *field = Value::String("***".into());
                } else if let (true, Value::String(text)) = (is_address_name(name), &*field) {
                    *field = Value::String(tb_prims::redact::url(text));
                } else {
                    redact(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

fn is_address_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["url", "address", "proxy"]
        .iter()
        .any(|part| lower.contains(part))
}

impl Logger {
    pub fn new(component: &str) -> Self {
        Logger {
            component: component.into(),
            sink: Arc::new(Mutex::new(Sink {
                path: None,
                file: None,
                written: 0,
                level: Level::Info,
                max_bytes: DEFAULT_MAX_BYTES,
                lines: 0,
                failures: 0,
            })),
        }
    }

    /// Empty path turns logging off. The file is opened (created) at once, so a wrong path is
    /// reported to the user when they set it, not silently later.
    pub fn set_path(&self, path: &str) -> std::io::Result<()> {
        let mut sink = self.sink.lock();
        if path.trim().is_empty() {
            sink.path = None;
            sink.file = None;
            return Ok(());
        }
        let path = PathBuf::from(path);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        sink.written = file.metadata().map(|m| m.len()).unwrap_or(0);
        sink.file = Some(file);
        sink.path = Some(path);
        Ok(())
    }

    pub fn path(&self) -> String {
        self.sink
            .lock()
            .path
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    pub fn set_level(&self, level: Level) {
        self.sink.lock().level = level;
    }

    pub fn level(&self) -> Level {
        self.sink.lock().level
    }

    pub fn set_max_bytes(&self, max_bytes: u64) {
        self.sink.lock().max_bytes = max_bytes.max(1024);
    }

    pub fn diagnostics(&self) -> Value {
        let sink = self.sink.lock();
        serde_json::json!({
            "enabled": sink.file.is_some(),
            "level": sink.level.name(),
            "lines": sink.lines,
            "write_failures": sink.failures,
        })
    }

    pub fn error(&self, msg: &str, fields: Value) {
        self.write(Level::Error, msg, fields)
    }
    pub fn warn(&self, msg: &str, fields: Value) {
        self.write(Level::Warn, msg, fields)
    }
    pub fn info(&self, msg: &str, fields: Value) {
        self.write(Level::Info, msg, fields)
    }
    pub fn debug(&self, msg: &str, fields: Value) {
        self.write(Level::Debug, msg, fields)
    }

    pub fn enabled(&self, level: Level) -> bool {
        let sink = self.sink.lock();
        sink.file.is_some() && level <= sink.level
    }

    pub fn write(&self, level: Level, msg: &str, fields: Value) {
        if !self.enabled(level) {
            return;
        }
        let mut line = Map::new();
        line.insert("ts".into(), Value::String(utc_timestamp(SystemTime::now())));
        line.insert("level".into(), Value::String(level.name().into()));
        line.insert("class".into(), Value::String(self.component.to_string()));
        line.insert("msg".into(), Value::String(msg.into()));
        if let Value::Object(extra) = fields {
            for (name, value) in extra {
                line.entry(name).or_insert(value);
            }
        }
        let mut line = Value::Object(line);
        redact(&mut line);
        let mut text = line.to_string();
        text.push('\n');

        let mut sink = self.sink.lock();
        if sink.written + text.len() as u64 > sink.max_bytes {
            rotate(&mut sink);
        }
        let Some(file) = sink.file.as_mut() else {
            return;
        };
        match file.write_all(text.as_bytes()) {
            Ok(()) => {
                sink.written += text.len() as u64;
                sink.lines += 1;
            }
            Err(_) => sink.failures += 1,
        }
    }
}

fn rotate(sink: &mut Sink) {
    let Some(path) = sink.path.clone() else {
        return;
    };
    sink.file = None;
    let mut rotated = path.clone().into_os_string();
    rotated.push(".1");
    let _ = std::fs::remove_file(&rotated);
    let _ = std::fs::rename(&path, &rotated);
    match OpenOptions::new().create(true).append(true).open(&path) {
        Ok(file) => {
            sink.file = Some(file);
            sink.written = 0;
        }
        Err(_) => sink.failures += 1,
    }
}

/// `2026-11-23T20:41:07.123Z`, without a date-time crate.
pub fn utc_timestamp(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = tb_calls::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_iso8601() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_466_467_123);
        assert_eq!(utc_timestamp(t), "2026-11-23T20:41:07.123Z");
        assert_eq!(utc_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(&utc_timestamp(leap)[..10], "2000-02-29");
    }

    #[test]
    fn secrets_are_masked_at_any_depth() {
        let mut v = serde_json::json!({
            "ApiKey": "k1", "nested": {"access_token": "t", "x": [{"Секрет": "s"}]}, "channel": "calls"
        });
        redact(&mut v);
        assert_eq!(
            v,
            serde_json::json!({
                "ApiKey": "***", "nested": {"access_token": "***", "x": [{"Секрет": "***"}]}, "channel": "calls"
            })
        );
    }

    #[test]
    fn the_new_markers_and_address_fields_are_masked() {
        let mut v = serde_json::json!({
            "db_pass": "p", "pwd": "p", "proxy_auth": "a", "jwt": "j", "hmac": "h", "credentials": "c",
            "cookie": "c", "api_url": "https://u:p@h/x?sig=1", "address": "ws://h/ws?token=t", "n": 1
        });
        redact(&mut v);
        assert_eq!(
            v,
            serde_json::json!({
                "db_pass": "***", "pwd": "***", "proxy_auth": "***", "jwt": "***", "hmac": "***",
                "credentials": "***", "cookie": "***", "api_url": "https://***@h/x?sig=***",
                "address": "ws://h/ws?token=***", "n": 1
            })
        );
    }

    #[test]
    fn writes_json_lines_filters_by_level_and_rotates() {
        let dir = std::env::temp_dir().join(format!("tb-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("addin.log");
        let _ = std::fs::remove_file(&path);
        let log = Logger::new("Test");
        log.set_path(path.to_str().unwrap()).unwrap();
        log.set_level(Level::Warn);
        log.set_max_bytes(2048);
        log.info("hidden", serde_json::json!({}));
        for i in 0..100 {
            log.warn("shown", serde_json::json!({"i": i, "token": "abc"}));
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("hidden"));
        assert!(!text.contains("abc"));
        assert!(text.len() <= 2048);
        let rotated = std::fs::read_to_string(dir.join("addin.log.1")).unwrap();
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["i"], 99);
        assert_eq!(last["level"], "warn");
        assert!(rotated
            .lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()));
        // The logger holds the file open; Windows cannot remove a directory until it is closed.
        drop(log);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
