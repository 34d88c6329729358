//! Class `UIScom`: UIScom notifications → the normalized call event, the ИсторияЗвонков rules of seed 000, and
//! click-to-call through the UIS Call API.
//!
//! Everything but the Call API is pure (`tb-calls`); the Call API is one synchronous HTTP request per call, so the
//! class starts no thread.

use serde_json::json;
use tb_calls::history::MergeOptions;
use tb_calls::uis_call_api::{self, EmployeeCall, SimpleCall};
use tb_calls::uiscom::{self as core, UiscomMethod};
use tb_calls::{CallsError, UtcOffset};

use super::pbx_http_settings::{PbxHttpSettings, PROXY_PROP, TIMEOUT_PROP};
use crate::native::{
    AddinClass, AddinError, ClassContext, MethodSpec, ParamKind, ParamSpec, PropSpec, Value,
};
use crate::transport::pbx_http::{display_url, failure_error, status_error};

/// Core errors keep their English and Russian texts.
pub(super) fn calls_error(error: CallsError) -> AddinError {
    crate::present::calls::error_text(&error).into()
}

pub(super) fn time_zone_error(given: &str) -> AddinError {
    calls_error(CallsError::InvalidTimeZone {
        given: given.to_string(),
    })
}

const M_NORMALIZE: usize = 0;
const M_MERGE: usize = 1;
const M_CALL_EMPLOYEE: usize = 2;
const M_SIMPLE_CALL: usize = 3;
const M_PHONE_DIGITS: usize = 4;

const METHODS: &[MethodSpec] = &[
    MethodSpec {
        en: "NormalizeNotification",
        ru: "НормализоватьУведомление",
        aliases: &[],
        returns: true,
        params: &[
            ParamSpec::text("Body", "Тело"),
            ParamSpec::optional_text("Method", "Метод"),
        ],
    },
    MethodSpec {
        en: "MergeIntoHistory",
        ru: "ОбъединитьСИсторией",
        aliases: &[],
        returns: true,
        params: &[
            ParamSpec::text("RecordJSON", "ЗаписьJSON"),
            ParamSpec::text("NotificationJSON", "УведомлениеJSON"),
            ParamSpec {
                en: "AddEvents",
                ru: "ДобавлятьСобытия",
                kind: ParamKind::Bool,
                default: Some(Value::Bool(true)),
            },
            ParamSpec::optional_text("ReceivedAt", "ВремяПолучения"),
        ],
    },
    MethodSpec {
        en: "CallEmployee",
        ru: "ПозвонитьСотруднику",
        aliases: &[],
        returns: true,
        params: &[
            ParamSpec::text("EmployeeID", "ИдСотрудника"),
            ParamSpec::text("Phone", "Телефон"),
            ParamSpec::optional_text("VirtualNumber", "ВиртуальныйНомер"),
            ParamSpec::optional_text("EmployeeNumber", "НомерСотрудника"),
            ParamSpec::optional_text("ExtraParamsJSON", "ДопПараметрыJSON"),
        ],
    },
    MethodSpec {
        en: "SimpleCall",
        ru: "ПростойЗвонок",
        aliases: &[],
        returns: true,
        params: &[
            ParamSpec::text("OperatorNumber", "НомерОператора"),
            ParamSpec::text("Phone", "Телефон"),
            ParamSpec::optional_text("VirtualNumber", "ВиртуальныйНомер"),
            ParamSpec::optional_text("ExtraParamsJSON", "ДопПараметрыJSON"),
        ],
    },
    MethodSpec {
        en: "PhoneDigits",
        ru: "ЦифрыНомера",
        aliases: &[],
        returns: true,
        params: &[ParamSpec::text("Number", "Номер")],
    },
];

const P_TIME_ZONE: usize = 0;
const P_CALL_API_URL: usize = 1;
const P_ACCESS_TOKEN: usize = 2;
const P_TIMEOUT: usize = 3;
const P_PROXY: usize = 4;

const PROPS: &[PropSpec] = &[
    PropSpec::read_write("TimeZone", "ЧасовойПояс"),
    PropSpec::read_write("CallApiUrl", "АдресCallAPI"),
    // Write-only: the token is a credential and never comes back out.
    PropSpec::write_only("AccessToken", "ТокенДоступа"),
    TIMEOUT_PROP,
    PROXY_PROP,
];

pub struct UIScom {
    ctx: ClassContext,
    time_zone: UtcOffset,
    call_api_url: String,
    access_token: String,
    http: PbxHttpSettings,
    next_request_id: u64,
    normalized: u64,
    merged: u64,
    api_calls: u64,
    api_failures: u64,
}

impl UIScom {
    fn rpc(&mut self, request: uis_call_api::RpcRequest) -> Result<Value, AddinError> {
        let url = self.call_api_url.clone();
        self.api_calls += 1;
        let result = (|| {
            let response = self
                .http
                .client()?
                .post_json(&url, &request.body)
                .map_err(|f| failure_error(&f, "UIS Call API", &url))?;
            if response.status >= 500
                && serde_json::from_slice::<serde_json::Value>(&response.body).is_err()
            {
                return Err(status_error("UIS Call API", response.status, &url));
            }
            uis_call_api::parse_call_response(&response.body, &request.id, &self.access_token)
                .map(|started| Value::from(started.call_session_id))
                .map_err(calls_error)
        })();
        match &result {
            Ok(_) => self
                .ctx
                .log
                .info("UIS call started", json!({ "method": request.method })),
            Err(e) => {
                self.api_failures += 1;
                self.ctx.log.warn(
                    "UIS call failed",
                    json!({ "method": request.method, "error": e.en }),
                );
            }
        }
        result
    }

    fn request_id(&mut self) -> String {
        self.next_request_id += 1;
        format!("tb-{}", self.next_request_id)
    }
}

impl AddinClass for UIScom {
    const NAME: &'static str = "UIScom";

    fn methods() -> &'static [MethodSpec] {
        METHODS
    }

    fn props() -> &'static [PropSpec] {
        PROPS
    }

    fn new(ctx: ClassContext) -> Self {
        UIScom {
            ctx,
            time_zone: UtcOffset::MOSCOW,
            call_api_url: uis_call_api::DEFAULT_URL.to_string(),
            access_token: String::new(),
            http: PbxHttpSettings::new(),
            next_request_id: 0,
            normalized: 0,
            merged: 0,
            api_calls: 0,
            api_failures: 0,
        }
    }

    fn call(&mut self, method: usize, args: &[Value]) -> Result<Value, AddinError> {
        let arg = |i: usize| args.get(i).map(Value::as_str).unwrap_or_default();
        match method {
            M_NORMALIZE => {
                let method = UiscomMethod::parse(arg(1)).map_err(calls_error)?;
                let event = core::normalize(arg(0).as_bytes(), method, self.time_zone)
                    .map_err(calls_error)?;
                self.normalized += 1;
                Ok(Value::Str(event.to_json_string()))
            }
            M_MERGE => {
                let add_events = args.get(2).and_then(Value::as_bool).unwrap_or(true);
                let received_at = Some(arg(3).trim().to_string()).filter(|t| !t.is_empty());
                let options = MergeOptions {
                    time_zone: self.time_zone,
                    received_at,
                };
                let merged =
                    crate::present::calls::merge_into_history(arg(0), arg(1), add_events, &options)
                        .map_err(calls_error)?;
                self.merged += 1;
                Ok(Value::Str(merged))
            }
            M_CALL_EMPLOYEE => {
                let call = EmployeeCall {
                    employee_id: arg(0).to_string(),
                    contact: arg(1).to_string(),
                    virtual_phone_number: Some(arg(2).to_string()),
                    employee_phone_number: Some(arg(3).to_string()),
                    extra: uis_call_api::parse_extra(arg(4)).map_err(calls_error)?,
                };
                let id = self.request_id();
                let request = uis_call_api::employee_call_request(&id, &self.access_token, &call)
                    .map_err(calls_error)?;
                self.rpc(request)
            }
            M_SIMPLE_CALL => {
                let call = SimpleCall {
                    operator: arg(0).to_string(),
                    contact: arg(1).to_string(),
                    virtual_phone_number: Some(arg(2).to_string()),
                    extra: uis_call_api::parse_extra(arg(3)).map_err(calls_error)?,
                };
                let id = self.request_id();
                let request = uis_call_api::simple_call_request(&id, &self.access_token, &call)
                    .map_err(calls_error)?;
                self.rpc(request)
            }
            M_PHONE_DIGITS => Ok(Value::from(
                tb_calls::model::phone_digits(arg(0)).unwrap_or_default(),
            )),
            _ => Err(AddinError::new("no such method", "нет такого метода")),
        }
    }

    fn get_prop(&mut self, prop: usize) -> Result<Value, AddinError> {
        match prop {
            P_TIME_ZONE => Ok(Value::from(self.time_zone.to_string())),
            P_CALL_API_URL => Ok(Value::from(self.call_api_url.clone())),
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
            P_TIME_ZONE => {
                self.time_zone = UtcOffset::parse(value.as_str())
                    .map_err(|_| time_zone_error(value.as_str()))?;
            }
            P_CALL_API_URL => {
                let url = value.as_str().trim();
                self.call_api_url = if url.is_empty() {
                    uis_call_api::DEFAULT_URL.to_string()
                } else {
                    url.to_string()
                };
            }
            P_ACCESS_TOKEN => self.access_token = value.as_str().trim().to_string(),
            P_TIMEOUT => self.http.set_timeout(value)?,
            P_PROXY => self.http.set_proxy(value),
            _ => return Err(AddinError::new("no such property", "нет такого свойства")),
        }
        Ok(())
    }

    fn diagnostics(&self) -> serde_json::Value {
        json!({
            "time_zone": self.time_zone.to_string(),
            "call_api_url": display_url(&self.call_api_url),
            "access_token_set": !self.access_token.is_empty(),
            "timeout_sec": self.http.timeout().as_secs(),
            "normalized": self.normalized,
            "merged": self.merged,
            "api_calls": self.api_calls,
            "api_failures": self.api_failures,
        })
    }
}
