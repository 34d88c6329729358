//! The Таймаут and Прокси properties UIScom and Binotel share, over the driver's HTTP exchange runner.

use std::time::Duration;

use crate::driver::http::{HttpError, HttpRunner};
use crate::native::{AddinError, PropSpec, Value};

pub(super) const TIMEOUT_PROP: PropSpec = PropSpec::read_write("Timeout", "Таймаут");
pub(super) const PROXY_PROP: PropSpec = PropSpec::read_write("Proxy", "Прокси");

pub(super) struct PbxHttpSettings {
    pub(super) runner: HttpRunner,
}

impl PbxHttpSettings {
    pub(super) fn new() -> PbxHttpSettings {
        PbxHttpSettings {
            runner: HttpRunner::new(Duration::from_secs(15)),
        }
    }

    pub(super) fn timeout(&self) -> Duration {
        self.runner.timeout()
    }

    pub(super) fn timeout_value(&self) -> Value {
        Value::Num(self.runner.timeout().as_secs() as f64)
    }

    /// The proxy as 1C reads it back: without the credentials it may carry.
    pub(super) fn proxy_value(&self) -> Value {
        Value::from(self.runner.proxy_shown())
    }

    pub(super) fn set_timeout(&mut self, value: &Value) -> Result<(), AddinError> {
        self.runner.set_timeout(timeout_from(value)?);
        Ok(())
    }

    pub(super) fn set_proxy(&mut self, value: &Value) {
        self.runner.set_proxy(value.as_str());
    }

    /// POSTs a JSON body to `api`; failures name the API.
    pub(super) fn post_json(
        &mut self,
        api: &str,
        url: &str,
        body: &str,
    ) -> Result<Vec<u8>, AddinError> {
        self.runner
            .post_json(url, body)
            .map(|response| response.body)
            .map_err(|error| http_error(&error, api))
    }
}

pub(super) fn http_error(error: &HttpError, api: &str) -> AddinError {
    let (en, ru) = error.texts(api);
    AddinError::new(en, ru)
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
