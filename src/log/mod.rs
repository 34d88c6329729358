//! JSON-lines log with size-capped rotation. Off until the user sets LogFile.
//!
//! Objects whose LogFile names the same file share one writer (one handle, one byte count), so the cap holds
//! for the file and their lines never interleave mid-line. When rotation cannot rename the file (another
//! process holds it open on Windows, or `<file>.1` cannot be replaced) the file is emptied in place instead,
//! so it still never grows past the cap.
//!
//! Secrets are kept out twice: callers never pass them, and any field whose name looks like a
//! secret (`tb_prims::redact::SECRET_MARKERS`: key, token, secret, pass, pwd, auth, jwt, hmac, credential,
//! cookie, signature, and their Russian words) is masked before writing; address fields (`url`,
//! `address`, `proxy` in the name) go through the one URL redaction; the message and every field then pass the
//! one scrubber of configured secrets (`crate::secrets`).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
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

/// One open log file, shared by every logger that names it.
struct Writer {
    path: PathBuf,
    file: Option<File>,
    /// The file's real size as far as this process wrote it.
    written: u64,
}

/// Writers by canonical path; an entry lives as long as some logger holds it.
static WRITERS: once_cell::sync::Lazy<Mutex<HashMap<PathBuf, Weak<Mutex<Writer>>>>> =
    once_cell::sync::Lazy::new(|| Mutex::new(HashMap::new()));

fn shared_writer(path: PathBuf) -> std::io::Result<Arc<Mutex<Writer>>> {
    let file = OpenOptions::new().create(true).append(true).open(&path)?;
    let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    let mut writers = WRITERS.lock();
    writers.retain(|_, writer| writer.strong_count() > 0);
    if let Some(writer) = writers.get(&key).and_then(Weak::upgrade) {
        return Ok(writer);
    }
    let writer = Arc::new(Mutex::new(Writer {
        written: file.metadata().map(|m| m.len()).unwrap_or(0),
        file: Some(file),
        path,
    }));
    writers.insert(key, Arc::downgrade(&writer));
    Ok(writer)
}

struct Sink {
    writer: Option<Arc<Mutex<Writer>>>,
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
                writer: None,
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
        let writer = if path.trim().is_empty() {
            None
        } else {
            Some(shared_writer(PathBuf::from(path))?)
        };
        self.sink.lock().writer = writer;
        Ok(())
    }

    pub fn path(&self) -> String {
        self.sink
            .lock()
            .writer
            .as_ref()
            .map(|w| w.lock().path.to_string_lossy().into_owned())
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
            "enabled": sink.writer.is_some(),
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
        sink.writer.is_some() && level <= sink.level
    }

    pub fn write(&self, level: Level, msg: &str, mut fields: Value) {
        if !self.enabled(level) {
            return;
        }
        // The message and the fields pass the one scrubber (any text — a library's error, a panic payload —
        // may quote a configured secret); the line's own time stamp and names do not need it.
        crate::secrets::scrub_json(&mut fields);
        let mut line = Map::new();
        line.insert("ts".into(), Value::String(utc_timestamp(SystemTime::now())));
        line.insert("level".into(), Value::String(level.name().into()));
        line.insert("class".into(), Value::String(self.component.to_string()));
        line.insert("msg".into(), Value::String(crate::secrets::scrub(msg)));
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
        let Some(writer) = sink.writer.clone() else {
            return;
        };
        let max_bytes = sink.max_bytes;
        let mut writer = writer.lock();
        let mut ok = true;
        if writer.written + text.len() as u64 > max_bytes {
            ok = writer.rotate();
        }
        let written = match writer.file.as_mut() {
            Some(file) => ok && file.write_all(text.as_bytes()).is_ok(),
            None => false,
        };
        if written {
            writer.written += text.len() as u64;
            sink.lines += 1;
        } else {
            sink.failures += 1;
        }
    }
}

impl Writer {
    /// `<file>` becomes `<file>.1`. If that cannot be done the file is emptied in place, and if it cannot even
    /// be reopened nothing is written (false): either way the file stays within the cap.
    fn rotate(&mut self) -> bool {
        let mut rotated = self.path.clone().into_os_string();
        rotated.push(".1");
        // Closed first: Windows renames no open file.
        self.file = None;
        let _ = std::fs::remove_file(&rotated);
        let renamed = std::fs::rename(&self.path, &rotated).is_ok();
        let mut options = OpenOptions::new();
        options.create(true);
        if renamed {
            options.append(true);
        } else {
            // Not rotated: empty it in place. Opened for writing, not appending: Windows truncates no
            // append-only handle.
            options.write(true).truncate(true);
        }
        let Ok(file) = options.open(&self.path) else {
            return false;
        };
        // The real size: 0, unless another process wrote to the new file meanwhile.
        self.written = file.metadata().map(|m| m.len()).unwrap_or(0);
        self.file = Some(file);
        true
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

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tb-log-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn rotation_that_cannot_rename_still_keeps_the_cap() {
        let dir = temp_dir("norename");
        let path = dir.join("addin.log");
        // `<file>.1` is a non-empty directory: neither removed nor replaced by a rename.
        std::fs::create_dir_all(dir.join("addin.log.1")).unwrap();
        std::fs::write(dir.join("addin.log.1").join("keep"), b"x").unwrap();
        let log = Logger::new("Test");
        log.set_path(path.to_str().unwrap()).unwrap();
        log.set_max_bytes(2048);
        for i in 0..200 {
            log.info("line", serde_json::json!({ "i": i }));
        }
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size <= 2048, "the log grew to {size} bytes");
        let text = std::fs::read_to_string(&path).unwrap();
        let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["i"], 199);
        drop(log);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn objects_sharing_a_log_file_share_one_writer() {
        let dir = temp_dir("shared");
        let path = dir.join("addin.log");
        let (a, b) = (Logger::new("A"), Logger::new("B"));
        a.set_path(path.to_str().unwrap()).unwrap();
        b.set_path(path.to_str().unwrap()).unwrap();
        a.set_max_bytes(4096);
        b.set_max_bytes(4096);
        for i in 0..300 {
            a.info("from a", serde_json::json!({ "i": i }));
            b.info("from b", serde_json::json!({ "i": i }));
        }
        for file in ["addin.log", "addin.log.1"] {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            assert!(text.len() <= 4096, "{file}: {} bytes", text.len());
            assert!(text
                .lines()
                .all(|l| serde_json::from_str::<Value>(l).is_ok()));
        }
        // Both keep writing into the current file, in the order they wrote (separate handles would leave one of
        // them writing into the rotated file).
        let text = std::fs::read_to_string(&path).unwrap();
        let tail: Vec<(String, u64)> = text
            .lines()
            .rev()
            .take(4)
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (
                    v["class"].as_str().unwrap().to_string(),
                    v["i"].as_u64().unwrap(),
                )
            })
            .collect();
        let expected = [("B", 299), ("A", 299), ("B", 298), ("A", 298)];
        assert_eq!(tail, expected.map(|(c, i)| (c.to_string(), i)).to_vec());
        drop((a, b));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
