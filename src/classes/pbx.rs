//! What UIScom and Binotel share: the ЧасовойПояс, Таймаут and Прокси properties, declared once, and the HTTP
//! exchange of their APIs (over the driver's runner).

use std::marker::PhantomData;
use std::time::Duration;

use tb_calls::{CallsError, UtcOffset};

use crate::driver::http::{HttpError, HttpRunner};
use crate::native::{AddinError, Method, MethodSpec, ParamSpec, Prop, Value};

/// A PBX class: it holds the shared settings.
pub(super) trait PbxClass: 'static {
    fn pbx(&mut self) -> &mut PbxCommon;
}

/// The properties every PBX class has, for its own member table.
pub(super) struct PbxProps<C>(PhantomData<C>);

impl<C: PbxClass> PbxProps<C> {
    pub(super) const TIME_ZONE: Prop<C> = Prop::read_write(
        "TimeZone",
        "ЧасовойПояс",
        |c| Ok(Value::from(c.pbx().time_zone.to_string())),
        |c, value| {
            c.pbx().time_zone =
                UtcOffset::parse(value.as_str()).map_err(|_| time_zone_error(value.as_str()))?;
            Ok(())
        },
    );

    pub(super) const TIMEOUT: Prop<C> = Prop::read_write(
        "Timeout",
        "Таймаут",
        |c| Ok(c.pbx().timeout_value()),
        |c, value| c.pbx().set_timeout(value),
    );

    pub(super) const PROXY: Prop<C> = Prop::read_write(
        "Proxy",
        "Прокси",
        |c| Ok(c.pbx().proxy_value()),
        |c, value| c.pbx().set_proxy(value),
    );
}

/// The method every PBX class has: what of a webhook body may be logged (length and an md5 prefix, never the text).
pub(super) struct PbxMethods<C>(PhantomData<C>);

impl<C: PbxClass> PbxMethods<C> {
    pub(super) const BODY_FINGERPRINT: Method<C> = Method {
        spec: MethodSpec {
            en: "BodyFingerprint",
            ru: "ОтпечатокТела",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::text("Body", "Тело")],
        },
        call: |_, args| {
            Ok(Value::from(tb_calls::webhook::body_fingerprint(
                args[0].as_str().as_bytes(),
            )))
        },
    };
}

/// The phone-number index methods every PBX class has, so the server code asks the object it already holds at a
/// look-up (UIScom on the UIS route, Binotel on the Binotel and Asterisk ones) and the card-write handler any of
/// them. The rules are `tb_calls::phone_index`; these only carry text in and out.
impl<C: PbxClass> PbxMethods<C> {
    pub(super) const PHONE_INDEX_KEY: Method<C> = Method {
        spec: MethodSpec {
            en: "PhoneIndexKey",
            ru: "КлючИндексаТелефона",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::text("Number", "Номер")],
        },
        call: |_, args| {
            Ok(Value::from(
                tb_calls::phone_index::lookup_key(args[0].as_str()).unwrap_or_default(),
            ))
        },
    };

    pub(super) const PHONE_INDEX_KEYS: Method<C> = Method {
        spec: MethodSpec {
            en: "PhoneIndexKeys",
            ru: "КлючиИндексаТелефонов",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::text("TextsJSON", "ТекстыJSON")],
        },
        call: |_, args| {
            let texts =
                tb_calls::phone_index::texts_from_json(args[0].as_str()).map_err(calls_error)?;
            Ok(Value::json(&serde_json::json!(
                tb_calls::phone_index::index_keys(&texts)
            )))
        },
    };

    pub(super) const PHONE_INDEX_CHANGE: Method<C> = Method {
        spec: MethodSpec {
            en: "PhoneIndexChange",
            ru: "ИзменениеИндексаТелефонов",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("OldKeysJSON", "СтарыеКлючиJSON"),
                ParamSpec::text("TextsJSON", "ТекстыJSON"),
            ],
        },
        call: |_, args| {
            let old =
                tb_calls::phone_index::texts_from_json(args[0].as_str()).map_err(calls_error)?;
            let texts =
                tb_calls::phone_index::texts_from_json(args[1].as_str()).map_err(calls_error)?;
            let diff = tb_calls::phone_index::index_diff(&old, &texts);
            Ok(Value::json(&serde_json::to_value(diff).unwrap_or_default()))
        },
    };

    /// Whether the phone index must be rebuilt now (`tb_calls::index_rebuild`): the settings after switching
    /// telephony on or changing the catalog, and a lookup that found the index empty, ask it.
    pub(super) const INDEX_REBUILD_NEEDED: Method<C> = Method {
        spec: MethodSpec {
            en: "IndexRebuildNeeded",
            ru: "НужноПерестроитьИндекс",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::text("FactsJSON", "ФактыJSON")],
        },
        call: |_, args| {
            let facts = tb_calls::index_rebuild::facts_from_json(args[0].as_str())
                .map_err(crate::present::calls::rebuild_facts_error)?;
            let decision = tb_calls::index_rebuild::rebuild_needed(&facts);
            Ok(Value::json(
                &serde_json::to_value(decision).unwrap_or_default(),
            ))
        },
    };

    /// Whether an instant is working time of the schedule in the PBX time zone (`tb_calls::routing`); a schedule
    /// or zone that cannot be read is an error saying what to fix (the settings form validates with it).
    pub(super) const WORKING_TIME: Method<C> = Method {
        spec: MethodSpec {
            en: "IsWorkingTime",
            ru: "РабочееВремя",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::number("NowUTC", "СейчасUTC"),
                ParamSpec::text("TimeZone", "ЧасовойПояс"),
                ParamSpec::text("ScheduleJSON", "РасписаниеJSON"),
            ],
        },
        call: |_, args| {
            let now = args[0]
                .as_f64()
                .filter(|n| n.is_finite() && n.abs() < 1e15)
                .ok_or_else(crate::present::calls::now_utc_error)?;
            tb_calls::routing::is_working_time(
                now.floor() as i64,
                args[1].as_str(),
                args[2].as_str(),
            )
            .map(Value::Bool)
            .map_err(calls_error)
        },
    };
}

/// An HTTP API address as a property takes it: parsed by the one address model (`tb_prims::address`) when set,
/// refused with an actionable text if it breaks a rule (no scheme, a password with a reserved character…), its
/// secrets handed to the scrubber; what is kept is the canonical form, which every request is built from.
pub(super) fn api_address(value: &str, property: (&str, &str)) -> Result<String, AddinError> {
    let address =
        tb_prims::address::Address::parse(value, &["http", "https"]).map_err(|problem| {
            AddinError::from(crate::present::driver::address_setting_text(
                property,
                &tb_prims::redact::url(value),
                problem,
            ))
        })?;
    crate::secrets::remember_address(&address);
    Ok(address.canonical())
}

/// Core errors keep their English and Russian texts.
pub(super) fn calls_error(error: CallsError) -> AddinError {
    crate::present::calls::error_text(&error).into()
}

pub(super) fn time_zone_error(given: &str) -> AddinError {
    calls_error(CallsError::InvalidTimeZone {
        given: given.to_string(),
    })
}

pub(super) struct PbxCommon {
    /// The PBX's local time (Moscow unless set), for its times without a zone.
    pub(super) time_zone: UtcOffset,
    runner: HttpRunner,
}

impl PbxCommon {
    pub(super) fn new() -> PbxCommon {
        PbxCommon {
            time_zone: UtcOffset::MOSCOW,
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

    pub(super) fn set_proxy(&mut self, value: &Value) -> Result<(), AddinError> {
        self.runner
            .set_proxy(value.as_str())
            .map_err(|e| AddinError::from(crate::present::driver::proxy_error_text(&e)))
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
    crate::present::driver::http_error_text(error, api).into()
}

/// `Таймаут`: whole seconds from 1 to 600.
fn timeout_from(value: &Value) -> Result<Duration, AddinError> {
    match value.as_f64() {
        Some(s) if s.fract() == 0.0 && (1.0..=600.0).contains(&s) => {
            Ok(Duration::from_secs(s as u64))
        }
        _ => Err(crate::present::pbx::timeout_range().into()),
    }
}
