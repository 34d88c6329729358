//! The Таймаут and Прокси properties UIScom and Binotel share, and the HTTP client built from them.
//!
//! The client is built on first use, not when a property is set, so a class that never calls its API never
//! opens a connection pool; a change to either property drops the client so the next call uses the new value.

use std::time::Duration;

use crate::native::{AddinError, PropSpec, Value};
use crate::transport::pbx_http::{display_url, PbxHttpClient};

pub(super) const TIMEOUT_PROP: PropSpec = PropSpec::read_write("Timeout", "Таймаут");
pub(super) const PROXY_PROP: PropSpec = PropSpec::read_write("Proxy", "Прокси");

pub(super) struct PbxHttpSettings {
    timeout: Duration,
    proxy: String,
    client: Option<PbxHttpClient>,
}

impl PbxHttpSettings {
    pub(super) fn new() -> PbxHttpSettings {
        PbxHttpSettings {
            timeout: Duration::from_secs(15),
            proxy: String::new(),
            client: None,
        }
    }

    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(super) fn timeout_value(&self) -> Value {
        Value::Num(self.timeout.as_secs() as f64)
    }

    /// The proxy as 1C reads it back: without the credentials it may carry.
    pub(super) fn proxy_value(&self) -> Value {
        Value::from(display_url(&self.proxy))
    }

    pub(super) fn set_timeout(&mut self, value: &Value) -> Result<(), AddinError> {
        self.timeout = timeout_from(value)?;
        self.client = None;
        Ok(())
    }

    pub(super) fn set_proxy(&mut self, value: &Value) {
        self.proxy = value.as_str().trim().to_string();
        self.client = None;
    }

    pub(super) fn client(&mut self) -> Result<&PbxHttpClient, AddinError> {
        if self.client.is_none() {
            self.client = Some(PbxHttpClient::new(self.timeout, &self.proxy)?);
        }
        // Just filled above.
        self.client
            .as_ref()
            .ok_or_else(|| AddinError::new("HTTP client unavailable", "HTTP-клиент недоступен"))
    }
}

/// `Таймаут`: whole seconds from 1 to 600.
fn timeout_from(value: &Value) -> Result<Duration, AddinError> {
    match value.as_f64() {
        Some(s) if s.fract() == 0.0 && (1.0..=600.0).contains(&s) => {
            Ok(Duration::from_secs(s as u64))
        }
        _ => Err(AddinError::new(
            "must be a whole Number of seconds from 1 to 600",
            "должно быть целым Числом секунд от 1 до 600",
        )),
    }
}
