//! Class `Binotel`: Asterisk/FreePBX in the Binotel style (Clinica Web, seed 003) — push events into the
//! normalized call event, md5 signatures exactly as PHP computes them, and the three API calls with the answers'
//! signatures verified.
//!
//! The API calls are synchronous (the 1C method waits for the answer, bounded by Таймаут); no thread is started.

use serde_json::json;
use tb_calls::binotel::{self as core, ApiRequest};
use tb_calls::UtcOffset;

use super::pbx_http_settings::{PbxHttpSettings, PROXY_PROP, TIMEOUT_PROP};
use super::uiscom::{calls_error, time_zone_error};
use crate::driver::http::join_url;
use crate::native::{AddinClass, AddinError, ClassContext, MethodSpec, ParamSpec, PropSpec, Value};
use tb_prims::redact::without_query;

const API_NAME: &str = "Binotel API";

const M_PARSE_PUSH: usize = 0;
const M_SIGN: usize = 1;
const M_VERIFY: usize = 2;
const M_CALL_DETAILS: usize = 3;
const M_CALL_RECORD_URL: usize = 4;
const M_EXT_TO_PHONE: usize = 5;

/// A push exactly as the PBX sent it: ParsePush and VerifySignature read the same two things.
const PUSH_AS_RECEIVED: &[ParamSpec] = &[
    ParamSpec::text("Body", "Тело"),
    ParamSpec::optional_text("ContentType", "ТипСодержимого"),
];

const METHODS: &[MethodSpec] = &[
    MethodSpec {
        en: "ParsePush",
        ru: "РазобратьPush",
        aliases: &[],
        returns: true,
        params: PUSH_AS_RECEIVED,
    },
    MethodSpec {
        en: "Sign",
        ru: "Подпись",
        aliases: &[],
        returns: true,
        params: &[ParamSpec::text("ParamsJSON", "ПараметрыJSON")],
    },
    MethodSpec {
        en: "VerifySignature",
        ru: "ПроверитьПодпись",
        aliases: &[],
        returns: true,
        params: PUSH_AS_RECEIVED,
    },
    MethodSpec {
        en: "CallDetails",
        ru: "ДеталиЗвонков",
        aliases: &[],
        returns: true,
        params: &[ParamSpec::text("IDsJSON", "ИдентификаторыJSON")],
    },
    MethodSpec {
        en: "CallRecordUrl",
        ru: "СсылкаНаЗапись",
        aliases: &[],
        returns: true,
        params: &[ParamSpec::text("CallID", "ИдентификаторЗвонка")],
    },
    MethodSpec {
        en: "ExtToPhone",
        ru: "ПозвонитьСВнутреннего",
        aliases: &[],
        returns: true,
        params: &[
            ParamSpec::text("Extension", "Внутренний"),
            ParamSpec::text("Phone", "Телефон"),
        ],
    },
];

const P_API_URL: usize = 0;
const P_KEY: usize = 1;
const P_SECRET: usize = 2;
const P_TIME_ZONE: usize = 3;
const P_TIMEOUT: usize = 4;
const P_PROXY: usize = 5;

const PROPS: &[PropSpec] = &[
    PropSpec::read_write("ApiUrl", "АдресAPI"),
    PropSpec::read_write("Key", "Ключ"),
    // Write-only: the secret signs everything and never comes back out.
    PropSpec::write_only("Secret", "Секрет"),
    PropSpec::read_write("TimeZone", "ЧасовойПояс"),
    TIMEOUT_PROP,
    PROXY_PROP,
];

pub struct Binotel {
    ctx: ClassContext,
    api_url: String,
    key: String,
    secret: String,
    time_zone: UtcOffset,
    http: PbxHttpSettings,
    pushes: u64,
    api_calls: u64,
    api_failures: u64,
}

impl Binotel {
    /// Runs one API exchange and keeps the counters and the log.
    fn api<T>(
        &mut self,
        request: Result<ApiRequest, tb_calls::CallsError>,
        parse: impl FnOnce(&[u8], &str, UtcOffset) -> Result<T, tb_calls::CallsError>,
    ) -> Result<T, AddinError> {
        if self.api_url.is_empty() {
            return Err(AddinError::new(
                "ApiUrl is not set (e.g. https://pbx.example.com/api/2.0/)",
                "не задан АдресAPI (например, https://pbx.example.com/api/2.0/)",
            ));
        }
        let request = request.map_err(calls_error)?;
        self.api_calls += 1;
        let url = join_url(&self.api_url, request.path);
        let result = self
            .http
            .post_json(API_NAME, &url, &request.body)
            .and_then(|body| parse(&body, &self.secret, self.time_zone).map_err(calls_error));
        match &result {
            Ok(_) => self
                .ctx
                .log
                .debug("Binotel API call done", json!({ "path": request.path })),
            Err(e) => {
                self.api_failures += 1;
                self.ctx.log.warn(
                    "Binotel API call failed",
                    json!({ "path": request.path, "error": e.en }),
                );
            }
        }
        result
    }
}

impl AddinClass for Binotel {
    const NAME: &'static str = "Binotel";

    fn methods() -> &'static [MethodSpec] {
        METHODS
    }

    fn props() -> &'static [PropSpec] {
        PROPS
    }

    fn new(ctx: ClassContext) -> Self {
        Binotel {
            ctx,
            api_url: String::new(),
            key: String::new(),
            secret: String::new(),
            time_zone: UtcOffset::MOSCOW,
            http: PbxHttpSettings::new(),
            pushes: 0,
            api_calls: 0,
            api_failures: 0,
        }
    }

    fn call(&mut self, method: usize, args: &[Value]) -> Result<Value, AddinError> {
        let arg = |i: usize| {
            args.get(i)
                .map(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        match method {
            M_PARSE_PUSH => {
                let event = core::parse_push(arg(0).as_bytes(), &arg(1), self.time_zone)
                    .map_err(calls_error)?;
                self.pushes += 1;
                Ok(Value::Str(event.to_json_string()))
            }
            M_SIGN => core::sign_json(&arg(0), &self.secret)
                .map(Value::from)
                .map_err(calls_error),
            M_VERIFY => match core::verify_body(arg(0).as_bytes(), &arg(1), &self.secret) {
                Ok(_) => Ok(Value::Bool(true)),
                Err(
                    tb_calls::CallsError::SignatureMismatch { .. }
                    | tb_calls::CallsError::SignatureMissing { .. },
                ) => Ok(Value::Bool(false)),
                Err(e) => Err(calls_error(e)),
            },
            M_CALL_DETAILS => {
                let request = core::call_details_request(&arg(0), &self.key, &self.secret);
                let events = self.api(request, core::parse_call_details_response)?;
                let events: Vec<serde_json::Value> = events
                    .iter()
                    .map(|e| serde_json::to_value(e).unwrap_or(serde_json::Value::Null))
                    .collect();
                Ok(Value::json(&serde_json::Value::Array(events)))
            }
            M_CALL_RECORD_URL => {
                let request = core::call_record_request(&arg(0), &self.key, &self.secret);
                self.api(request, |body, secret, _| {
                    core::parse_call_record_response(body, secret)
                })
                .map(Value::from)
            }
            M_EXT_TO_PHONE => {
                let request = core::ext_to_phone_request(&arg(0), &arg(1), &self.key, &self.secret);
                self.api(request, |body, secret, _| {
                    core::parse_ext_to_phone_response(body, secret)
                })
                .map(Value::from)
            }
            _ => Err(AddinError::new("no such method", "нет такого метода")),
        }
    }

    fn get_prop(&mut self, prop: usize) -> Result<Value, AddinError> {
        match prop {
            P_API_URL => Ok(Value::from(self.api_url.clone())),
            P_KEY => Ok(Value::from(self.key.clone())),
            P_TIME_ZONE => Ok(Value::from(self.time_zone.to_string())),
            P_TIMEOUT => Ok(self.http.timeout_value()),
            P_PROXY => Ok(self.http.proxy_value()),
            _ => Err(AddinError::new(
                "the property is write-only",
                "свойство только для записи",
            )),
        }
    }

    fn set_prop(&mut self, prop: usize, value: &Value) -> Result<(), AddinError> {
        match prop {
            P_API_URL => self.api_url = value.as_str().trim().to_string(),
            P_KEY => self.key = value.as_str().trim().to_string(),
            // Not trimmed: a secret is used byte for byte in the hash.
            P_SECRET => self.secret = value.as_str().to_string(),
            P_TIME_ZONE => {
                self.time_zone = UtcOffset::parse(value.as_str())
                    .map_err(|_| time_zone_error(value.as_str()))?;
            }
            P_TIMEOUT => self.http.set_timeout(value)?,
            P_PROXY => self.http.set_proxy(value),
            _ => return Err(AddinError::new("no such property", "нет такого свойства")),
        }
        Ok(())
    }

    fn diagnostics(&self) -> serde_json::Value {
        json!({
            "api_url": without_query(&self.api_url),
            "key_set": !self.key.is_empty(),
            "secret_set": !self.secret.is_empty(),
            "time_zone": self.time_zone.to_string(),
            "timeout_sec": self.http.timeout().as_secs(),
            "pushes": self.pushes,
            "api_calls": self.api_calls,
            "api_failures": self.api_failures,
        })
    }
}
