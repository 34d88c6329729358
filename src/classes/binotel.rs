//! Class `Binotel`: Asterisk/FreePBX in the Binotel style (Clinica Web, seed 003) — push events into the
//! normalized call event, md5 signatures exactly as PHP computes them, and the three API calls with the answers'
//! signatures verified.
//!
//! Binotel's own webhook (API 4.0, form-encoded, admitted by source address): AdmitWebhook, ParseWebhook and
//! CallSettingsReply; the signed Clinica-Web push keeps AdmitRequest/AdmitPush/ParsePush.
//!
//! The API calls are synchronous (the 1C method waits for the answer, bounded by Таймаут); no thread is started.

use serde_json::json;
use tb_calls::binotel::{self as core, ApiRequest};
use tb_calls::UtcOffset;

use tb_prims::redact;

use super::pbx::{calls_error, PbxClass, PbxCommon, PbxMethods, PbxProps};
use crate::driver::http::join_url;
use crate::native::{
    AddinClass, AddinError, ClassContext, Method, MethodSpec, ParamSpec, Prop, Value,
};
use crate::present::calls::{
    address_verdict, routing_facts_error, webhook_request_json, webhook_verdict,
};
use tb_calls::binotel_webhook::{self, Allowlist};
use tb_calls::webhook;
use tb_calls::{pbx_lookup, routing};

const API_NAME: &str = "Binotel API";

/// A push exactly as the PBX sent it: ParsePush and VerifySignature read the same two things.
const PUSH_AS_RECEIVED: &[ParamSpec] = &[
    ParamSpec::text("Body", "Тело"),
    ParamSpec::optional_text("ContentType", "ТипСодержимого"),
];

const METHODS: &[Method<Binotel>] = &[
    Method {
        spec: MethodSpec {
            en: "AdmitRequest",
            ru: "ДопуститьЗапрос",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("CallSource", "ИсточникЗвонков"),
                ParamSpec::optional_text("ContentLength", "ДлинаСодержимого"),
            ],
        },
        call: |c, args| {
            let length = args[1].as_str();
            let result = webhook::admit_request(&webhook::RequestFacts {
                pbx: webhook::Pbx::Binotel,
                configured_source: args[0].as_str(),
                secret_set: !c.secret.is_empty(),
                content_length: (!length.trim().is_empty()).then_some(length),
                cap: webhook::BODY_CAP,
            });
            c.count_refusal(result.is_err());
            Ok(Value::Str(webhook_verdict(
                result.map(|()| None),
                c.ctx.lang(),
            )))
        },
    },
    Method {
        spec: MethodSpec {
            en: "AdmitPush",
            ru: "ДопуститьPush",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("Body", "Тело"),
                ParamSpec::text("ContentType", "ТипСодержимого"),
                ParamSpec::number("Now", "Сейчас"),
                ParamSpec::optional_text("AcceptedKeysJSON", "ПринятыеКлючиJSON"),
            ],
        },
        call: |c, args| {
            let keys = webhook::accepted_keys_from_json(args[3].as_str());
            let now = args[2].as_f64().unwrap_or_default();
            let result = webhook::admit_push(&webhook::PushFacts {
                body: args[0].as_str().as_bytes(),
                content_type: args[1].as_str(),
                secret: &c.secret,
                now: now as i64,
                accepted_keys: &keys,
            });
            c.count_refusal(result.is_err());
            Ok(Value::Str(webhook_verdict(
                result.as_ref().map(Some).map_err(|r| *r),
                c.ctx.lang(),
            )))
        },
    },
    Method {
        spec: MethodSpec {
            en: "AdmitWebhook",
            ru: "ДопуститьВебхук",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("CallSource", "ИсточникЗвонков"),
                ParamSpec::text("ClientAddress", "АдресКлиента"),
                ParamSpec::optional_text("ContentLength", "ДлинаСодержимого"),
            ],
        },
        call: |c, args| {
            let length = args[2].as_str();
            let result = binotel_webhook::admit_webhook(&binotel_webhook::WebhookFacts {
                configured_source: args[0].as_str(),
                allowlist: &c.allowlist,
                source_header: args[1].as_str(),
                content_length: (!length.trim().is_empty()).then_some(length),
                cap: webhook::BODY_CAP,
            });
            c.count_refusal(result.is_err());
            Ok(Value::Str(address_verdict(result, c.ctx.lang())))
        },
    },
    Method {
        spec: MethodSpec {
            en: "ParseWebhook",
            ru: "РазобратьВебхук",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("Body", "Тело"),
                ParamSpec::optional_text("ContentType", "ТипСодержимого"),
                ParamSpec::optional_text("AcceptedKeysJSON", "ПринятыеКлючиJSON"),
            ],
        },
        call: |c, args| {
            let request = binotel_webhook::parse_webhook(
                args[0].as_str().as_bytes(),
                args[1].as_str(),
                c.pbx.time_zone,
            )
            .map_err(calls_error)?;
            c.pushes += 1;
            let accepted = webhook::accepted_keys_from_json(args[2].as_str());
            Ok(Value::json(&webhook_request_json(&request, &accepted)))
        },
    },
    Method {
        spec: MethodSpec {
            en: "CallSettingsReply",
            ru: "ОтветНастройкиЗвонка",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::optional_text("CustomerJSON", "КлиентJSON")],
        },
        call: |_, args| {
            let answer = binotel_webhook::customer_answer_from_json(args[0].as_str())
                .map_err(calls_error)?;
            Ok(Value::from(binotel_webhook::call_settings_reply(
                answer.as_ref(),
            )))
        },
    },
    Method {
        spec: MethodSpec {
            en: "RouteCall",
            ru: "МаршрутЗвонка",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::text("FactsJSON", "ФактыJSON")],
        },
        call: |_, args| {
            let facts = routing::facts_from_json(args[0].as_str()).map_err(routing_facts_error)?;
            Ok(Value::json(
                &serde_json::to_value(routing::route(&facts)).unwrap_or_default(),
            ))
        },
    },
    Method {
        spec: MethodSpec {
            en: "ParseLookup",
            ru: "РазобратьЗапросПоиска",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::text("Query", "Запрос")],
        },
        call: |_, args| {
            let query = pbx_lookup::parse_lookup_query(args[0].as_str()).map_err(calls_error)?;
            Ok(Value::json(
                &serde_json::to_value(query).unwrap_or_default(),
            ))
        },
    },
    Method {
        spec: MethodSpec {
            en: "LookupReply",
            ru: "ОтветПоиска",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("Query", "Запрос"),
                ParamSpec::text("FactsJSON", "ФактыJSON"),
                ParamSpec::optional_text("ClientName", "ИмяКлиента"),
            ],
        },
        call: |_, args| {
            let query = pbx_lookup::parse_lookup_query(args[0].as_str()).map_err(calls_error)?;
            let facts = routing::facts_from_json(args[1].as_str()).map_err(routing_facts_error)?;
            let name = args[2].as_str();
            let (content_type, body) = pbx_lookup::lookup_reply(
                &query,
                (!name.trim().is_empty()).then_some(name),
                &routing::route(&facts),
            );
            Ok(Value::json(
                &json!({ "content_type": content_type, "body": body }),
            ))
        },
    },
    PbxMethods::<Binotel>::BODY_FINGERPRINT,
    PbxMethods::<Binotel>::PHONE_INDEX_KEY,
    PbxMethods::<Binotel>::PHONE_INDEX_KEYS,
    PbxMethods::<Binotel>::PHONE_INDEX_CHANGE,
    PbxMethods::<Binotel>::INDEX_REBUILD_NEEDED,
    PbxMethods::<Binotel>::WORKING_TIME,
    Method {
        spec: MethodSpec {
            en: "ParsePush",
            ru: "РазобратьPush",
            aliases: &[],
            returns: true,
            params: PUSH_AS_RECEIVED,
        },
        call: |c, args| {
            let event = core::parse_push(
                args[0].as_str().as_bytes(),
                args[1].as_str(),
                c.pbx.time_zone,
            )
            .map_err(calls_error)?;
            c.pushes += 1;
            Ok(Value::Str(event.to_json_string()))
        },
    },
    Method {
        spec: MethodSpec {
            en: "Sign",
            ru: "Подпись",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::text("ParamsJSON", "ПараметрыJSON")],
        },
        call: |c, args| {
            core::sign_json(args[0].as_str(), &c.secret)
                .map(Value::from)
                .map_err(calls_error)
        },
    },
    Method {
        spec: MethodSpec {
            en: "VerifySignature",
            ru: "ПроверитьПодпись",
            aliases: &[],
            returns: true,
            params: PUSH_AS_RECEIVED,
        },
        call: Binotel::verify,
    },
    Method {
        spec: MethodSpec {
            en: "CallDetails",
            ru: "ДеталиЗвонков",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::text("IDsJSON", "ИдентификаторыJSON")],
        },
        call: |c, args| {
            let request = core::call_details_request(args[0].as_str(), &c.key, &c.secret);
            let events = c.api(request, core::parse_call_details_response)?;
            let events: Vec<serde_json::Value> = events
                .iter()
                .map(|e| serde_json::to_value(e).unwrap_or(serde_json::Value::Null))
                .collect();
            Ok(Value::json(&serde_json::Value::Array(events)))
        },
    },
    Method {
        spec: MethodSpec {
            en: "CallRecordUrl",
            ru: "СсылкаНаЗапись",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::text("CallID", "ИдентификаторЗвонка")],
        },
        call: |c, args| {
            let request = core::call_record_request(args[0].as_str(), &c.key, &c.secret);
            c.api(request, |body, secret, _| {
                core::parse_call_record_response(body, secret)
            })
            .map(Value::from)
        },
    },
    Method {
        spec: MethodSpec {
            en: "ExtToPhone",
            ru: "ПозвонитьСВнутреннего",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("Extension", "Внутренний"),
                ParamSpec::text("Phone", "Телефон"),
            ],
        },
        call: |c, args| {
            let request =
                core::ext_to_phone_request(args[0].as_str(), args[1].as_str(), &c.key, &c.secret);
            c.api(request, |body, secret, _| {
                core::parse_ext_to_phone_response(body, secret)
            })
            .map(Value::from)
        },
    },
];

const PROPS: &[Prop<Binotel>] = &[
    Prop::read_write(
        "ApiUrl",
        "АдресAPI",
        |c| Ok(Value::from(tb_prims::redact::setting(&c.api_url))),
        |c, value| {
            let url = value.as_str().trim();
            c.api_url = if url.is_empty() {
                String::new()
            } else {
                super::pbx::api_address(url, ("ApiUrl", "АдресAPI"))?
            };
            Ok(())
        },
    ),
    Prop::read_write(
        "Key",
        "Ключ",
        |c| Ok(Value::from(c.key.clone())),
        |c, value| {
            c.key = value.as_str().trim().to_string();
            Ok(())
        },
    ),
    // Write-only: the secret signs everything and never comes back out. Not trimmed: a secret is used byte for
    // byte in the hash.
    Prop::write_only("Secret", "Секрет", |c, value| {
        c.secret = value.as_str().to_string();
        crate::secrets::remember(&c.secret);
        Ok(())
    }),
    // Where Binotel's webhooks may come from: addresses or CIDR networks; empty = Binotel's published servers.
    Prop::read_write(
        "AllowedAddresses",
        "РазрешенныеАдреса",
        |c| Ok(Value::from(c.allowlist_text.clone())),
        |c, value| {
            let text = value.as_str().trim().to_string();
            c.allowlist = Allowlist::parse(&text).map_err(calls_error)?;
            c.allowlist_text = text;
            Ok(())
        },
    ),
    PbxProps::<Binotel>::TIME_ZONE,
    PbxProps::<Binotel>::TIMEOUT,
    PbxProps::<Binotel>::PROXY,
];

pub struct Binotel {
    ctx: ClassContext,
    api_url: String,
    key: String,
    secret: String,
    allowlist: Allowlist,
    allowlist_text: String,
    pbx: PbxCommon,
    pushes: u64,
    api_calls: u64,
    api_failures: u64,
    webhooks_refused: u64,
}

impl Binotel {
    fn count_refusal(&mut self, refused: bool) {
        self.webhooks_refused += u64::from(refused);
    }

    /// A push whose signature does not match (or is missing) is `Ложь`; anything else wrong is an error.
    fn verify(&mut self, args: &[Value]) -> Result<Value, AddinError> {
        match core::verify_body(args[0].as_str().as_bytes(), args[1].as_str(), &self.secret) {
            Ok(_) => Ok(Value::Bool(true)),
            Err(
                tb_calls::CallsError::SignatureMismatch { .. }
                | tb_calls::CallsError::SignatureMissing { .. },
            ) => Ok(Value::Bool(false)),
            Err(e) => Err(calls_error(e)),
        }
    }

    /// Runs one API exchange and keeps the counters and the log.
    fn api<T>(
        &mut self,
        request: Result<ApiRequest, tb_calls::CallsError>,
        parse: impl FnOnce(&[u8], &str, UtcOffset) -> Result<T, tb_calls::CallsError>,
    ) -> Result<T, AddinError> {
        if self.api_url.is_empty() {
            return Err(
                crate::present::pbx::api_url_missing("https://pbx.example.com/api/2.0/").into(),
            );
        }
        let request = request.map_err(calls_error)?;
        self.api_calls += 1;
        let url = join_url(&self.api_url, request.path);
        let result = self
            .pbx
            .post_json(API_NAME, &url, &request.body)
            .and_then(|body| parse(&body, &self.secret, self.pbx.time_zone).map_err(calls_error));
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

impl PbxClass for Binotel {
    fn pbx(&mut self) -> &mut PbxCommon {
        &mut self.pbx
    }
}

impl AddinClass for Binotel {
    const NAME: &'static str = "Binotel";

    fn methods() -> &'static [Method<Self>] {
        METHODS
    }

    fn props() -> &'static [Prop<Self>] {
        PROPS
    }

    fn new(ctx: ClassContext) -> Self {
        Binotel {
            ctx,
            api_url: String::new(),
            key: String::new(),
            secret: String::new(),
            allowlist: Allowlist::published(),
            allowlist_text: String::new(),
            pbx: PbxCommon::new(),
            pushes: 0,
            api_calls: 0,
            api_failures: 0,
            webhooks_refused: 0,
        }
    }

    fn diagnostics(&self) -> serde_json::Value {
        json!({
            "api_url": redact::url(&self.api_url),
            "key_set": !self.key.is_empty(),
            "secret_set": !self.secret.is_empty(),
            "allowed_networks": self.allowlist.len(),
            "allowlist_published": self.allowlist_text.is_empty(),
            "time_zone": self.pbx.time_zone.to_string(),
            "timeout_sec": self.pbx.timeout().as_secs(),
            "pushes": self.pushes,
            "api_calls": self.api_calls,
            "api_failures": self.api_failures,
            "webhooks_refused": self.webhooks_refused,
        })
    }
}
