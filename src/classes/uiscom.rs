//! Class `UIScom`: UIScom notifications → the normalized call event, the ИсторияЗвонков rules of seed 000, call
//! statuses (`СтатусЗвонка`, `ЗакрытьПропущенные`: any source's normalized call, `tb_calls::call_status`),
//! click-to-call and call control (hold, consultation, transfer, release) through the UIS Call API, the control
//! buttons a call's state offers (`СостояниеУправленияЗвонком`, `tb_calls::uis_control::ControlState`), and the
//! operator's availability (`calls_available`) through the UIS Data API.
//!
//! Everything but the HTTP exchange is pure (`tb-calls`: `uis_call_api`, `uis_control`); each API call is one
//! synchronous HTTP request through the driver's HTTP runner (`classes::pbx`), bounded by Таймаут, so no thread
//! is needed (a blind transfer is at most four such requests in a row).

use serde_json::json;
use tb_calls::history::MergeOptions;
use tb_calls::uis_call_api::{self, EmployeeCall, RpcRequest, SimpleCall};
use tb_calls::uis_control::{self, Handover, HoldMessage, SessionMethod, Step};
use tb_calls::uiscom::{self as core, UiscomMethod};
use tb_calls::webhook;
use tb_calls::{CallsError, UtcOffset};

use crate::present::calls::{routing_facts_error, webhook_verdict};
use tb_calls::{pbx_lookup, routing};

use super::pbx::{calls_error, PbxClass, PbxCommon, PbxMethods, PbxProps};
use crate::native::{
    AddinClass, AddinError, ClassContext, Method, MethodSpec, ParamKind, ParamSpec, Prop, Value,
};
use tb_prims::redact;

const CALL_API: &str = "UIS Call API";
const DATA_API: &str = "UIS Data API";

// The parameters the call-control members share, written once so a name cannot drift between them.
/// The UIS call session every call-control member acts on.
const SESSION: ParamSpec = ParamSpec::text("CallSessionID", "ИдСессииЗвонка");
/// The number a consultation or a transfer rings.
const NUMBER: ParamSpec = ParamSpec::text("Number", "Номер");
/// What the held party hears, and its kind.
const HOLD_MESSAGE: ParamSpec = ParamSpec::optional_text("HoldMessage", "СообщениеУдержания");
const HOLD_MESSAGE_TYPE: ParamSpec =
    ParamSpec::optional_text("HoldMessageType", "ТипСообщенияУдержания");
/// The members that take the call session and nothing else.
const SESSION_ONLY: &[ParamSpec] = &[SESSION];
/// Consultation and blind transfer: the session, the number to ring, the message for the held party.
const HANDOVER: &[ParamSpec] = &[SESSION, NUMBER, HOLD_MESSAGE, HOLD_MESSAGE_TYPE];

const METHODS: &[Method<UIScom>] = &[
    Method {
        spec: MethodSpec {
            en: "AdmitNotification",
            ru: "ДопуститьУведомление",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("CallSource", "ИсточникЗвонков"),
                ParamSpec::text("Token", "Токен"),
                ParamSpec::text("PresentedToken", "ПрисланныйТокен"),
                ParamSpec::optional_text("ContentLength", "ДлинаСодержимого"),
            ],
        },
        call: UIScom::admit,
    },
    Method {
        spec: MethodSpec {
            en: "ParseCallQuery",
            ru: "РазобратьЗапросВызова",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::text("Query", "Запрос")],
        },
        call: |_, args| {
            let query = pbx_lookup::parse_uis_query(args[0].as_str()).map_err(calls_error)?;
            Ok(Value::json(
                &serde_json::to_value(query).unwrap_or_default(),
            ))
        },
    },
    Method {
        spec: MethodSpec {
            en: "CallQueryReply",
            ru: "ОтветНаЗапросВызова",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("FactsJSON", "ФактыJSON"),
                ParamSpec::optional_text("ClientName", "ИмяКлиента"),
            ],
        },
        call: |_, args| {
            let facts = routing::facts_from_json(args[0].as_str()).map_err(routing_facts_error)?;
            let name = args[1].as_str();
            Ok(Value::from(pbx_lookup::uis_reply(
                &routing::route(&facts),
                (!name.trim().is_empty()).then_some(name),
            )))
        },
    },
    PbxMethods::<UIScom>::BODY_FINGERPRINT,
    PbxMethods::<UIScom>::PHONE_INDEX_KEY,
    PbxMethods::<UIScom>::PHONE_INDEX_KEYS,
    PbxMethods::<UIScom>::PHONE_INDEX_CHANGE,
    PbxMethods::<UIScom>::INDEX_REBUILD_NEEDED,
    PbxMethods::<UIScom>::WORKING_TIME,
    Method {
        spec: MethodSpec {
            en: "ClientReportedCall",
            ru: "ЗвонокОтКлиента",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("CallJSON", "ЗвонокJSON"),
                ParamSpec::text("Extension", "ВнутреннийНомер"),
            ],
        },
        call: |_, args| {
            tb_calls::connect::client_reported_call(args[0].as_str(), args[1].as_str())
                .map(|event| Value::Str(event.to_json_string()))
                .map_err(calls_error)
        },
    },
    Method {
        spec: MethodSpec {
            en: "NormalizeNotification",
            ru: "НормализоватьУведомление",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("Body", "Тело"),
                ParamSpec::optional_text("Method", "Метод"),
            ],
        },
        call: UIScom::normalize,
    },
    Method {
        spec: MethodSpec {
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
        call: UIScom::merge,
    },
    Method {
        spec: MethodSpec {
            en: "CallStatus",
            ru: "СтатусЗвонка",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("PreviousJSON", "ПредыдущийJSON"),
                ParamSpec::text("EventJSON", "СобытиеJSON"),
                ParamSpec::optional_text("FactsJSON", "ФактыJSON"),
                ParamSpec::optional_text("RulesJSON", "ПравилаJSON"),
            ],
        },
        call: |c, args| c.status_rule(args, crate::present::call_status::call_status),
    },
    Method {
        spec: MethodSpec {
            en: "CloseMissedCalls",
            ru: "ЗакрытьПропущенные",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("OpenJSON", "ОткрытыеJSON"),
                ParamSpec::text("CallJSON", "ЗвонокJSON"),
                ParamSpec::optional_text("CalledBackAt", "ВремяПерезвона"),
                ParamSpec::optional_text("RulesJSON", "ПравилаJSON"),
            ],
        },
        call: |c, args| c.status_rule(args, crate::present::call_status::close_missed_calls),
    },
    Method {
        spec: MethodSpec {
            en: "CallAccess",
            ru: "ПраваНаЗвонки",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::text("FactsJSON", "ФактыJSON")],
        },
        call: |_, args| {
            crate::present::call_status::call_access(args[0].as_str())
                .map(Value::Str)
                .map_err(calls_error)
        },
    },
    Method {
        spec: MethodSpec {
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
        call: UIScom::call_employee,
    },
    Method {
        spec: MethodSpec {
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
        call: UIScom::simple_call,
    },
    Method {
        spec: MethodSpec {
            en: "HoldCall",
            ru: "УдержатьЗвонок",
            aliases: &[],
            returns: true,
            params: &[SESSION, HOLD_MESSAGE, HOLD_MESSAGE_TYPE],
        },
        call: UIScom::hold_call,
    },
    Method {
        spec: MethodSpec {
            en: "UnholdCall",
            ru: "СнятьСУдержания",
            aliases: &[],
            returns: true,
            params: SESSION_ONLY,
        },
        call: |c, args| c.session_method(SessionMethod::UnholdCall, args),
    },
    Method {
        spec: MethodSpec {
            en: "MakeConsultationCall",
            ru: "ПозвонитьДляКонсультации",
            aliases: &[],
            returns: true,
            params: &[SESSION, NUMBER],
        },
        call: UIScom::make_call,
    },
    Method {
        spec: MethodSpec {
            en: "StartConsultation",
            ru: "НачатьКонсультацию",
            aliases: &[],
            returns: true,
            params: HANDOVER,
        },
        call: |c, args| c.handover(args, false),
    },
    Method {
        spec: MethodSpec {
            en: "TransferTalk",
            ru: "ПереадресоватьРазговор",
            aliases: &[],
            returns: true,
            params: SESSION_ONLY,
        },
        call: |c, args| c.session_method(SessionMethod::TransferTalk, args),
    },
    Method {
        spec: MethodSpec {
            en: "RestoreTalk",
            ru: "ВернутьРазговор",
            aliases: &[],
            returns: true,
            params: SESSION_ONLY,
        },
        call: |c, args| c.session_method(SessionMethod::RestoreTalk, args),
    },
    Method {
        spec: MethodSpec {
            en: "BlindTransfer",
            ru: "ПереадресоватьЗвонок",
            aliases: &[],
            returns: true,
            params: HANDOVER,
        },
        call: |c, args| c.handover(args, true),
    },
    Method {
        spec: MethodSpec {
            en: "ReleaseCall",
            ru: "ЗавершитьЗвонок",
            aliases: &[],
            returns: true,
            params: SESSION_ONLY,
        },
        call: |c, args| c.session_method(SessionMethod::ReleaseCall, args),
    },
    Method {
        spec: MethodSpec {
            en: "CallControlState",
            ru: "СостояниеУправленияЗвонком",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("PreviousJSON", "ПредыдущееJSON"),
                ParamSpec::optional_text("Event", "Событие"),
                ParamSpec::optional_text("Action", "Действие"),
            ],
        },
        call: |_, args| {
            uis_control::control_state(args[0].as_str(), args[1].as_str(), args[2].as_str())
                .map(Value::Str)
                .map_err(calls_error)
        },
    },
    Method {
        spec: MethodSpec {
            en: "CallsAvailable",
            ru: "ДоступенДляЗвонков",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::text("EmployeeID", "ИдСотрудника")],
        },
        call: UIScom::calls_available,
    },
    Method {
        spec: MethodSpec {
            en: "SetCallsAvailable",
            ru: "УстановитьДоступностьДляЗвонков",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("EmployeeID", "ИдСотрудника"),
                ParamSpec {
                    en: "Available",
                    ru: "Доступен",
                    kind: ParamKind::Bool,
                    default: None,
                },
            ],
        },
        call: UIScom::set_calls_available,
    },
    Method {
        spec: MethodSpec {
            en: "PhoneDigits",
            ru: "ЦифрыНомера",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::text("Number", "Номер")],
        },
        call: |_, args| {
            Ok(Value::from(
                tb_calls::model::phone_digits(args[0].as_str()).unwrap_or_default(),
            ))
        },
    },
];

const PROPS: &[Prop<UIScom>] = &[
    PbxProps::<UIScom>::TIME_ZONE,
    Prop::read_write(
        "CallApiUrl",
        "АдресCallAPI",
        |c| Ok(Value::from(tb_prims::redact::setting(&c.call_api_url))),
        |c, value| {
            let url = value.as_str().trim();
            c.call_api_url = if url.is_empty() {
                uis_call_api::DEFAULT_URL.to_string()
            } else {
                super::pbx::api_address(url, ("CallApiUrl", "АдресCallAPI"))?
            };
            Ok(())
        },
    ),
    Prop::read_write(
        "DataApiUrl",
        "АдресDataAPI",
        |c| Ok(Value::from(tb_prims::redact::setting(&c.data_api_url))),
        |c, value| {
            let url = value.as_str().trim();
            c.data_api_url = if url.is_empty() {
                uis_control::DEFAULT_DATA_URL.to_string()
            } else {
                super::pbx::api_address(url, ("DataApiUrl", "АдресDataAPI"))?
            };
            Ok(())
        },
    ),
    // Write-only: the token is a credential and never comes back out.
    Prop::write_only("AccessToken", "ТокенДоступа", |c, value| {
        c.access_token = value.as_str().trim().to_string();
        crate::secrets::remember(&c.access_token);
        Ok(())
    }),
    PbxProps::<UIScom>::TIMEOUT,
    PbxProps::<UIScom>::PROXY,
];

pub struct UIScom {
    ctx: ClassContext,
    pbx: PbxCommon,
    call_api_url: String,
    data_api_url: String,
    access_token: String,
    next_request_id: u64,
    normalized: u64,
    merged: u64,
    api_calls: u64,
    api_failures: u64,
    webhooks_refused: u64,
}

impl UIScom {
    /// `СтатусЗвонка`, `ЗакрытьПропущенные`: a call-status rule of four JSON texts read in the PBX's time zone,
    /// answered as JSON.
    fn status_rule(
        &mut self,
        args: &[Value],
        rule: fn(&str, &str, &str, &str, UtcOffset) -> Result<String, CallsError>,
    ) -> Result<Value, AddinError> {
        rule(
            args[0].as_str(),
            args[1].as_str(),
            args[2].as_str(),
            args[3].as_str(),
            self.pbx.time_zone,
        )
        .map(Value::Str)
        .map_err(calls_error)
    }

    /// `ДопуститьУведомление`: gate 1 of a UIS notification (source, URL token in constant time, size), decided
    /// from the URL and the headers before 1C reads the body.
    fn admit(&mut self, args: &[Value]) -> Result<Value, AddinError> {
        let length = args[3].as_str();
        let result = webhook::admit_uis(
            args[0].as_str(),
            args[1].as_str(),
            args[2].as_str(),
            (!length.trim().is_empty()).then_some(length),
            webhook::BODY_CAP,
        );
        self.webhooks_refused += u64::from(result.is_err());
        Ok(Value::Str(webhook_verdict(
            result.map(|()| None),
            self.ctx.lang(),
        )))
    }

    fn rpc(&mut self, request: RpcRequest) -> Result<Value, AddinError> {
        let url = self.call_api_url.clone();
        self.exchange(CALL_API, &url, &request, uis_call_api::parse_call_response)
            .map(|started| Value::from(started.call_session_id))
    }

    /// One request to a UIS API on the 1C thread, bounded by Таймаут (the driver's runner), its answer read by
    /// `parse`; counted and logged by method (the error text is scrubbed of the token by the core).
    fn exchange<T>(
        &mut self,
        api: &'static str,
        url: &str,
        request: &RpcRequest,
        parse: impl FnOnce(&[u8], &str, &str) -> Result<T, CallsError>,
    ) -> Result<T, AddinError> {
        self.api_calls += 1;
        let result = self
            .pbx
            .post_json(api, url, &request.body)
            .and_then(|body| parse(&body, &request.id, &self.access_token).map_err(calls_error));
        match &result {
            Ok(_) => self.ctx.log.info(
                "UIS request done",
                json!({ "api": api, "method": request.method }),
            ),
            Err(e) => {
                self.api_failures += 1;
                self.ctx.log.warn(
                    "UIS request failed",
                    json!({ "api": api, "method": request.method, "error": e.en }),
                );
            }
        }
        result
    }

    /// A Call API call management request answered with `success`.
    fn control(&mut self, request: RpcRequest) -> Result<(), AddinError> {
        let url = self.call_api_url.clone();
        self.exchange(CALL_API, &url, &request, uis_control::parse_success)
    }

    /// `УдержатьЗвонок`: `hold.call` with the message the client hears.
    fn hold_call(&mut self, args: &[Value]) -> Result<Value, AddinError> {
        let message =
            HoldMessage::from_parts(args[1].as_str(), args[2].as_str()).map_err(calls_error)?;
        let id = self.request_id();
        let request =
            uis_control::hold_call_request(&id, &self.access_token, args[0].as_str(), &message)
                .map_err(calls_error)?;
        self.control(request).map(|()| Value::Bool(true))
    }

    /// `ПозвонитьДляКонсультации`: `make.call` to the number while the client is on hold.
    fn make_call(&mut self, args: &[Value]) -> Result<Value, AddinError> {
        let id = self.request_id();
        let request = uis_control::make_call_request(
            &id,
            &self.access_token,
            args[0].as_str(),
            args[1].as_str(),
        )
        .map_err(calls_error)?;
        self.control(request).map(|()| Value::Bool(true))
    }

    /// `ПереадресоватьРазговор`, `ВернутьРазговор`, `СнятьСУдержания`, `ЗавершитьЗвонок`.
    fn session_method(
        &mut self,
        method: SessionMethod,
        args: &[Value],
    ) -> Result<Value, AddinError> {
        let id = self.request_id();
        let request =
            uis_control::session_request(&id, &self.access_token, method, args[0].as_str())
                .map_err(calls_error)?;
        self.control(request).map(|()| Value::Bool(true))
    }

    /// `ПереадресоватьЗвонок` (`blind`) and `НачатьКонсультацию`: the core's machine (hold, second leg, then
    /// the transfer for a blind one; the clean-up after a failure), one request at a time, each bounded by
    /// Таймаут.
    fn handover(&mut self, args: &[Value], blind: bool) -> Result<Value, AddinError> {
        let message =
            HoldMessage::from_parts(args[2].as_str(), args[3].as_str()).map_err(calls_error)?;
        let id = self.request_id();
        let start = if blind {
            Handover::blind_transfer
        } else {
            Handover::consultation
        };
        let (mut machine, mut request) = start(
            &id,
            &self.access_token,
            args[0].as_str(),
            args[1].as_str(),
            &message,
        )
        .map_err(calls_error)?;
        let mut failure = None;
        loop {
            let outcome = self.control(request);
            let id = self.request_id();
            let token = self.access_token.clone();
            match machine.answered(&id, &token, outcome, &mut failure) {
                Step::Send(next) => request = next,
                Step::Done(result) => return result.map(|()| Value::Bool(true)),
            }
        }
    }

    /// `ДоступенДляЗвонков`: the employee's `calls_available` from the Data API.
    fn calls_available(&mut self, args: &[Value]) -> Result<Value, AddinError> {
        let id = self.request_id();
        let employee = args[0].as_str().to_string();
        let request = uis_control::get_employee_request(&id, &self.access_token, &employee)
            .map_err(calls_error)?;
        let url = self.data_api_url.clone();
        self.exchange(DATA_API, &url, &request, |body, id, token| {
            uis_control::parse_calls_available(body, id, token, &employee)
        })
        .map(Value::Bool)
    }

    /// `УстановитьДоступностьДляЗвонков`: `update.employees {id, calls_available}` of the Data API.
    fn set_calls_available(&mut self, args: &[Value]) -> Result<Value, AddinError> {
        let available = args[1].as_bool().unwrap_or(false);
        let id = self.request_id();
        let request = uis_control::set_calls_available_request(
            &id,
            &self.access_token,
            args[0].as_str(),
            available,
        )
        .map_err(calls_error)?;
        let url = self.data_api_url.clone();
        self.exchange(DATA_API, &url, &request, uis_control::parse_update_response)
            .map(|()| Value::Bool(available))
    }

    fn normalize(&mut self, args: &[Value]) -> Result<Value, AddinError> {
        let method = UiscomMethod::parse(args[1].as_str()).map_err(calls_error)?;
        let event = core::normalize(args[0].as_str().as_bytes(), method, self.pbx.time_zone)
            .map_err(calls_error)?;
        self.normalized += 1;
        Ok(Value::Str(event.to_json_string()))
    }

    fn merge(&mut self, args: &[Value]) -> Result<Value, AddinError> {
        let add_events = args[2].as_bool().unwrap_or(true);
        let received_at = Some(args[3].as_str().trim().to_string()).filter(|t| !t.is_empty());
        let options = MergeOptions {
            time_zone: self.pbx.time_zone,
            received_at,
        };
        let merged = crate::present::calls::merge_into_history(
            args[0].as_str(),
            args[1].as_str(),
            add_events,
            &options,
        )
        .map_err(calls_error)?;
        self.merged += 1;
        Ok(Value::Str(merged))
    }

    fn call_employee(&mut self, args: &[Value]) -> Result<Value, AddinError> {
        let call = EmployeeCall {
            employee_id: args[0].as_str().to_string(),
            contact: args[1].as_str().to_string(),
            virtual_phone_number: Some(args[2].as_str().to_string()),
            employee_phone_number: Some(args[3].as_str().to_string()),
            extra: uis_call_api::parse_extra(args[4].as_str()).map_err(calls_error)?,
        };
        let id = self.request_id();
        let request = uis_call_api::employee_call_request(&id, &self.access_token, &call)
            .map_err(calls_error)?;
        self.rpc(request)
    }

    fn simple_call(&mut self, args: &[Value]) -> Result<Value, AddinError> {
        let call = SimpleCall {
            operator: args[0].as_str().to_string(),
            contact: args[1].as_str().to_string(),
            virtual_phone_number: Some(args[2].as_str().to_string()),
            extra: uis_call_api::parse_extra(args[3].as_str()).map_err(calls_error)?,
        };
        let id = self.request_id();
        let request = uis_call_api::simple_call_request(&id, &self.access_token, &call)
            .map_err(calls_error)?;
        self.rpc(request)
    }

    fn request_id(&mut self) -> String {
        self.next_request_id += 1;
        format!("tb-{}", self.next_request_id)
    }
}

impl PbxClass for UIScom {
    fn pbx(&mut self) -> &mut PbxCommon {
        &mut self.pbx
    }
}

impl AddinClass for UIScom {
    const NAME: &'static str = "UIScom";

    fn methods() -> &'static [Method<Self>] {
        METHODS
    }

    fn props() -> &'static [Prop<Self>] {
        PROPS
    }

    fn new(ctx: ClassContext) -> Self {
        UIScom {
            ctx,
            pbx: PbxCommon::new(),
            call_api_url: uis_call_api::DEFAULT_URL.to_string(),
            data_api_url: uis_control::DEFAULT_DATA_URL.to_string(),
            access_token: String::new(),
            next_request_id: 0,
            normalized: 0,
            merged: 0,
            api_calls: 0,
            api_failures: 0,
            webhooks_refused: 0,
        }
    }

    fn diagnostics(&self) -> serde_json::Value {
        json!({
            "time_zone": self.pbx.time_zone.to_string(),
            "call_api_url": redact::url(&self.call_api_url),
            "data_api_url": redact::url(&self.data_api_url),
            "access_token_set": !self.access_token.is_empty(),
            "timeout_sec": self.pbx.timeout().as_secs(),
            "normalized": self.normalized,
            "merged": self.merged,
            "api_calls": self.api_calls,
            "api_failures": self.api_failures,
            "webhooks_refused": self.webhooks_refused,
        })
    }
}
