//! The add-in's one scrubber (`tb_prims::scrub`), shared by every object of the process: each secret a user
//! configures (the password of an address, an API key, an access token, a connection or subscription token, an
//! HMAC secret) is remembered here when it is set, and every text a user or the log sees passes [`scrub`] on its
//! way out — `AddError`/`LastError`, the `Error` and `Disconnected` events, Diagnostics, log lines, panic
//! payloads. Business events (calls, publications) are never touched: a password's «2024» must not become `***`
//! in a call's date.
//!
//! A leaf module: every layer may call it, it calls nothing of the add-in.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};

use once_cell::sync::Lazy;
use parking_lot::RwLock;
use serde_json::Value;
use tb_prims::address::Address;
use tb_prims::scrub::Scrubber;

static SCRUBBER: Lazy<RwLock<Scrubber>> = Lazy::new(|| RwLock::new(Scrubber::new()));

/// Remembers a secret (it stays remembered for the life of the process, at most the last
/// `tb_prims::scrub::MAX_SECRETS`; shorter than `tb_prims::scrub::MIN_SECRET` characters it is not searched for).
pub fn remember(secret: &str) {
    let secret = secret.trim();
    if secret.chars().count() >= tb_prims::scrub::MIN_SECRET {
        SCRUBBER.write().add(secret);
    }
}

/// Remembers every secret an address carries (its password, a `token=` value…).
pub fn remember_address(address: &Address) {
    for secret in address.secrets() {
        remember(&secret);
    }
}

/// `text` with every part of every remembered secret masked.
pub fn scrub(text: &str) -> String {
    SCRUBBER.read().scrub(text).into_owned()
}

/// Every string (and key) of a JSON value scrubbed in place.
pub fn scrub_json(value: &mut Value) {
    let scrubber = SCRUBBER.read();
    if scrubber.is_empty() {
        return;
    }
    scrub_json_with(&scrubber, value);
}

fn scrub_json_with(scrubber: &Scrubber, value: &mut Value) {
    match value {
        Value::String(text) => {
            if let std::borrow::Cow::Owned(shown) = scrubber.scrub(text) {
                *text = shown;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| scrub_json_with(scrubber, item)),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (name, mut item) in entries {
                scrub_json_with(scrubber, &mut item);
                map.insert(scrubber.scrub(&name).into_owned(), item);
            }
        }
        _ => {}
    }
}

/// Replaces the default panic hook of this library's copy of std (a cdylib has its own): the default prints
/// the payload to stderr, which a 1C server may route to the system journal. The hook prints the payload
/// scrubbed instead; the report with its code goes to the add-in's log from the catching frame.
pub fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let detail = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let place = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            eprintln!("TelephonyBridge: panic{place}: {}", scrub(&detail));
        }));
    });
}

/// A panic, as the add-in reports it: a code for the user (AddError, LastError, the `Error` event) and the
/// scrubbed payload for the log only — a slicing panic prints up to 256 bytes of the string it sliced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanicReport {
    /// Eight hex digits, the same in the user's text and in the log line.
    pub code: String,
    /// The payload's text, scrubbed.
    pub detail: String,
}

/// Makes the report of a panic with this payload.
pub fn panic_report(payload: &(dyn Any + Send)) -> PanicReport {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    PanicReport {
        code: panic_code(),
        detail: scrub(&detail),
    }
}

/// A code that tells one panic from another in the log: the time and a counter, mixed (not a secret, not
/// unique across processes, only distinctive).
fn panic_code() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let seed = nanos ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(32);
    format!("{:08x}", tb_prims::SplitMix64::new(seed).next_u64() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_secrets_are_masked_in_texts_and_json() {
        let address = Address::parse(
            "http://admin:Pa%3Fss-SECRET-1@h/api?token=tok-SECRET-2",
            &["http"],
        )
        .unwrap();
        remember_address(&address);
        remember("api-KEY-SECRET-3");
        assert_eq!(scrub("bad port 'ss-SECRET-1'"), "bad port '***'");
        assert_eq!(scrub("Pa?ss-SECR"), "***");
        let mut json = serde_json::json!({"e": ["x tok-SECRET-2 y"], "KEY-SECRET-3": 1, "n": 2});
        scrub_json(&mut json);
        assert_eq!(
            json,
            serde_json::json!({"e": ["x *** y"], "***": 1, "n": 2})
        );
        remember("abc");
        assert_eq!(
            scrub("abc"),
            "abc",
            "short secrets are left to the structural redaction"
        );
    }

    #[test]
    fn a_panic_report_has_a_code_and_a_scrubbed_payload() {
        remember("panic-SECRET-4");
        let payload: Box<dyn Any + Send> =
            Box::new("byte index 5 is out of range of `http://u:panic-SECRET-4@h`".to_string());
        let report = panic_report(payload.as_ref());
        assert_eq!(report.code.len(), 8);
        assert!(report.code.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(!report.detail.contains("SECRET-4"), "{}", report.detail);
        assert_ne!(panic_report(payload.as_ref()).code, report.code);
    }
}
