//! Class `Centrifugo`: publish from the 1C server (HTTP API), receive in the 1C client (WebSocket).
//!
//! Server side: synchronous API calls through the driver's HTTP runner (one keep-alive agent). Client side: the
//! driver's worker (`driver::centrifugo`, started by the first client method) owns the WebSocket link and the
//! sans-IO core from `tb-centrifugo`; its events, rendered by `present::centrifugo`, become ExternalEvent
//! `TelephonyBridge.Centrifugo`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde_json::{json, Value as Json};
use tb_centrifugo::{
    ApiCall, ApiCommand, ApiConfig, ApiKey, ApiMode, ApiStep, Config, Event, State,
};

use crate::driver::centrifugo::{CentrifugoWorker, Command, Settings, DEFAULT_MAX_MESSAGE};
use crate::driver::http::{HttpError, HttpRunner};
use crate::driver::DriverError;
use crate::native::{
    AddinClass, AddinError, ClassContext, Method, MethodSpec, ParamKind, ParamSpec, Prop, Value,
};
use crate::present;
use tb_calls::delivery;

const METHODS: &[Method<Centrifugo>] = &[
    Method {
        spec: MethodSpec {
            en: "Publish",
            ru: "Опубликовать",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("Channel", "Канал"),
                ParamSpec::text("Data", "Данные"),
                ParamSpec::optional_text("IdempotencyKey", "КлючИдемпотентности"),
            ],
        },
        call: |c, args| {
            c.api(ApiCommand::Publish {
                channel: str_arg(args, 0).to_string(),
                data: str_arg(args, 1).to_string(),
                idempotency_key: str_arg(args, 2).to_string(),
            })
        },
    },
    Method {
        spec: MethodSpec {
            en: "Broadcast",
            ru: "ОпубликоватьВКаналы",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("Channels", "Каналы"),
                ParamSpec::text("Data", "Данные"),
                ParamSpec::optional_text("IdempotencyKey", "КлючИдемпотентности"),
            ],
        },
        call: |c, args| {
            c.api(ApiCommand::Broadcast {
                channels: parse_channels(str_arg(args, 0)),
                data: str_arg(args, 1).to_string(),
                idempotency_key: str_arg(args, 2).to_string(),
            })
        },
    },
    Method {
        spec: MethodSpec {
            en: "History",
            ru: "История",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("Channel", "Канал"),
                ParamSpec {
                    en: "Limit",
                    ru: "Лимит",
                    kind: ParamKind::Num,
                    default: Some(Value::Int(0)),
                },
                ParamSpec {
                    en: "SinceOffset",
                    ru: "ПослеСмещения",
                    kind: ParamKind::Num,
                    default: Some(Value::Int(0)),
                },
                ParamSpec::optional_text("SinceEpoch", "ЭпохаСмещения"),
                ParamSpec {
                    en: "Reverse",
                    ru: "ВОбратномПорядке",
                    kind: ParamKind::Bool,
                    default: Some(Value::Bool(false)),
                },
            ],
        },
        call: |c, args| {
            let offset = num_arg(args, 2).max(0.0) as u64;
            let epoch = str_arg(args, 3).trim().to_string();
            // A position is an offset within an epoch: either one given asks to page on from it.
            let since = (offset > 0 || !epoch.is_empty()).then_some((offset, epoch));
            c.api(ApiCommand::History {
                channel: str_arg(args, 0).to_string(),
                limit: num_arg(args, 1) as i64,
                since,
                reverse: bool_arg(args, 4),
            })
        },
    },
    Method {
        spec: MethodSpec {
            en: "DisconnectUser",
            ru: "ОтключитьПользователя",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("User", "Пользователь"),
                ParamSpec::optional_text("Client", "Клиент"),
                ParamSpec {
                    en: "Code",
                    ru: "Код",
                    kind: ParamKind::Num,
                    default: Some(Value::Int(0)),
                },
                ParamSpec::optional_text("Reason", "Причина"),
            ],
        },
        call: |c, args| {
            c.api(ApiCommand::Disconnect {
                user: str_arg(args, 0).trim().to_string(),
                client: str_arg(args, 1).trim().to_string(),
                code: num_arg(args, 2).clamp(0.0, f64::from(u32::MAX)) as u32,
                reason: str_arg(args, 3).to_string(),
            })
        },
    },
    Method {
        spec: MethodSpec {
            en: "UnsubscribeUser",
            ru: "ОтписатьПользователя",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("User", "Пользователь"),
                ParamSpec::text("Channel", "Канал"),
                ParamSpec::optional_text("Client", "Клиент"),
            ],
        },
        call: |c, args| {
            c.api(ApiCommand::Unsubscribe {
                user: str_arg(args, 0).trim().to_string(),
                channel: str_arg(args, 1).trim().to_string(),
                client: str_arg(args, 2).trim().to_string(),
            })
        },
    },
    Method {
        spec: MethodSpec {
            en: "RefreshUser",
            ru: "ОбновитьПользователя",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("User", "Пользователь"),
                ParamSpec::optional_text("Client", "Клиент"),
                ParamSpec {
                    en: "ExpireAt",
                    ru: "ИстекаетВ",
                    kind: ParamKind::Num,
                    default: Some(Value::Int(0)),
                },
                ParamSpec {
                    en: "Expired",
                    ru: "Истекло",
                    kind: ParamKind::Bool,
                    default: Some(Value::Bool(false)),
                },
            ],
        },
        call: |c, args| {
            c.api(ApiCommand::Refresh {
                user: str_arg(args, 0).trim().to_string(),
                client: str_arg(args, 1).trim().to_string(),
                expire_at: num_arg(args, 2).max(0.0) as i64,
                expired: bool_arg(args, 3),
            })
        },
    },
    Method {
        spec: MethodSpec {
            en: "Presence",
            ru: "Присутствие",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::text("Channel", "Канал")],
        },
        call: |c, args| {
            c.api(ApiCommand::Presence {
                channel: str_arg(args, 0).to_string(),
            })
        },
    },
    Method {
        spec: MethodSpec {
            en: "Info",
            ru: "Информация",
            aliases: &[],
            returns: true,
            params: &[],
        },
        call: |c, _| c.api(ApiCommand::Info),
    },
    Method {
        spec: MethodSpec {
            en: "MakeConnectionToken",
            ru: "СоздатьТокенПодключения",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("User", "Пользователь"),
                ParamSpec::text("Secret", "Секрет"),
                ParamSpec::number("LifetimeSec", "СрокЖизниСек"),
                ParamSpec::optional_text("ExtraJSON", "ДопДанныеJSON"),
            ],
        },
        call: |_, args| {
            tb_centrifugo::jwt::connection_token(
                str_arg(args, 0),
                str_arg(args, 1),
                num_arg(args, 2) as i64,
                str_arg(args, 3),
                unix_now(),
            )
            .map(Value::Str)
            .map_err(core_error)
        },
    },
    Method {
        spec: MethodSpec {
            en: "MakeSubscriptionToken",
            ru: "СоздатьТокенПодписки",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("User", "Пользователь"),
                ParamSpec::text("Channel", "Канал"),
                ParamSpec::text("Secret", "Секрет"),
                ParamSpec::number("LifetimeSec", "СрокЖизниСек"),
            ],
        },
        call: |_, args| {
            tb_centrifugo::jwt::subscription_token(
                str_arg(args, 0),
                str_arg(args, 1),
                str_arg(args, 2),
                num_arg(args, 3) as i64,
                unix_now(),
            )
            .map(Value::Str)
            .map_err(core_error)
        },
    },
    Method {
        spec: MethodSpec {
            en: "Connect",
            ru: "Подключиться",
            aliases: &[],
            returns: false,
            params: &[
                ParamSpec::text("Url", "Адрес"),
                ParamSpec::optional_text("Token", "Токен"),
            ],
        },
        call: Centrifugo::connect,
    },
    Method {
        spec: MethodSpec {
            en: "Disconnect",
            ru: "Отключиться",
            aliases: &[],
            returns: false,
            params: &[],
        },
        call: |c, _| c.tell(Command::Disconnect),
    },
    Method {
        spec: MethodSpec {
            en: "Subscribe",
            ru: "Подписаться",
            aliases: &[],
            returns: false,
            params: &[
                ParamSpec::text("Channel", "Канал"),
                ParamSpec::optional_text("Token", "Токен"),
            ],
        },
        call: Centrifugo::subscribe,
    },
    Method {
        spec: MethodSpec {
            en: "Unsubscribe",
            ru: "Отписаться",
            aliases: &[],
            returns: false,
            params: &[ParamSpec::text("Channel", "Канал")],
        },
        call: |c, args| {
            let channel = str_arg(args, 0).trim().to_string();
            c.tell(Command::Unsubscribe { channel })
        },
    },
    Method {
        spec: MethodSpec {
            en: "SetToken",
            ru: "УстановитьТокен",
            aliases: &[],
            returns: false,
            params: &[ParamSpec::text("Token", "Токен")],
        },
        call: |c, args| {
            let token = str_arg(args, 0).to_string();
            crate::secrets::remember(&token);
            c.start_and_tell(Command::SetToken(token))
        },
    },
    // The delivery rules of issue 17 (tb_calls::delivery): pure, no link needed, usable on the server and in a
    // thin or thick client.
    Method {
        spec: MethodSpec {
            en: "ChooseDeliveryPaths",
            ru: "ВыбратьПутиДоставки",
            aliases: &[],
            returns: true,
            params: &[ParamSpec::text("FactsJSON", "ФактыJSON")],
        },
        call: |c, args| {
            let facts = delivery::facts_from_json(str_arg(args, 0))
                .map_err(present::delivery::facts_error)?;
            let plan = delivery::choose_paths(&facts);
            Ok(Value::json(&present::delivery::plan(&plan, c.ctx.lang())))
        },
    },
    Method {
        spec: MethodSpec {
            en: "PendingCard",
            ru: "КарточкаОжидания",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("EventJSON", "СобытиеJSON"),
                ParamSpec::number("TtlSeconds", "СрокСекунд"),
                ParamSpec::number("NowUnixMs", "СейчасUnixМс"),
            ],
        },
        call: |_, args| {
            let ttl = num_arg(args, 1).clamp(i64::MIN as f64, i64::MAX as f64) as i64;
            let now = num_arg(args, 2).clamp(0.0, i64::MAX as f64) as i64;
            delivery::pending_card(str_arg(args, 0), ttl, now)
                .map(|card| Value::Str(card.to_json_string()))
                .map_err(|e| present::delivery::card_error(&e))
        },
    },
    Method {
        spec: MethodSpec {
            en: "OperatorSessions",
            ru: "СеансыОператора",
            aliases: &[],
            returns: true,
            params: &[
                ParamSpec::text("UserName", "ИмяПользователя"),
                ParamSpec::text("SessionsJSON", "СеансыJSON"),
            ],
        },
        call: |_, args| {
            let sessions = delivery::sessions_from_json(str_arg(args, 1))
                .map_err(present::delivery::sessions_error)?;
            let numbers = delivery::operator_sessions(str_arg(args, 0), &sessions);
            Ok(Value::json(&Json::from(numbers)))
        },
    },
];

const PROPS: &[Prop<Centrifugo>] = &[
    Prop::read_write(
        "ApiUrl",
        "АдресAPI",
        |c| Ok(Value::from(tb_prims::redact::setting(&c.api_url))),
        Centrifugo::set_api_url,
    ),
    // Readable so 1C's debugger does not fail on it, but it only ever shows whether a key is set.
    Prop::read_write(
        "ApiKey",
        "КлючAPI",
        |c| Ok(Value::from(if c.api_key.is_empty() { "" } else { "***" })),
        |c, value| {
            let key = value.as_str().trim();
            crate::secrets::remember(key);
            c.api_key = ApiKey::new(key);
            Ok(())
        },
    ),
    Prop::read_write(
        "ApiMode",
        "РежимAPI",
        |c| Ok(Value::from(c.api_mode.as_str())),
        |c, value| {
            c.api_mode = present::centrifugo::api_mode(value.as_str()).map_err(core_error)?;
            c.api_known_mode = ApiMode::Auto;
            Ok(())
        },
    ),
    Prop::read_write(
        "Timeout",
        "Таймаут",
        |c| Ok(Value::Num(c.http.timeout().as_secs_f64())),
        Centrifugo::set_timeout,
    ),
    Prop::read_only("Connected", "Подключено", |c| {
        Ok(Value::Bool(c.state() == State::Connected))
    }),
    Prop::read_only("State", "Состояние", |c| {
        Ok(Value::from(present::centrifugo::state_name(c.state())))
    }),
    Prop::read_write(
        "Proxy",
        "Прокси",
        |c| Ok(Value::from(c.http.proxy_shown())),
        |c, value| {
            c.http
                .set_proxy(value.as_str())
                .map_err(|e| AddinError::from(present::driver::proxy_error_text(&e)))?;
            *c.proxy.lock() = c.http.proxy().to_string();
            Ok(())
        },
    ),
    // Bytes; a larger message from the server ends the link with an Error event (type "transport", code
    // 1009) and the client reconnects. Applies from the next connect attempt. At most MAX_MESSAGE_CEILING.
    Prop::read_write(
        "MaxMessageSize",
        "МаксимальныйРазмерСообщения",
        |c| Ok(Value::Num(c.max_message.load(Ordering::Relaxed) as f64)),
        Centrifugo::set_max_message,
    ),
];

/// The smallest МаксимальныйРазмерСообщения.
const MAX_MESSAGE_FLOOR: usize = 65_536;

/// The largest МаксимальныйРазмерСообщения (8 MiB); a larger setting is lowered to it. One message becomes one
/// event of up to twice its size (UTF-16), and the event queue holds at most `events::DEFAULT_QUEUE_BYTES`
/// (32 MiB) in all: a quarter of that keeps one message's event well inside the bound with room for the events
/// around it. The 64 MiB allowed before brought back the 32-bit client's out-of-memory crash.
pub const MAX_MESSAGE_CEILING: usize = crate::events::DEFAULT_QUEUE_BYTES / 4;
// The build fails if the event queue's bound is ever lowered below what one message may need.
const _: () = assert!(2 * MAX_MESSAGE_CEILING < crate::events::DEFAULT_QUEUE_BYTES);

/// What a МаксимальныйРазмерСообщения value means: the bytes to use, and whether the value was lowered to
/// [`MAX_MESSAGE_CEILING`]; `None` for anything but a whole number from [`MAX_MESSAGE_FLOOR`] up.
fn max_message_setting(value: f64) -> Option<(usize, bool)> {
    if value.fract() != 0.0 || value < MAX_MESSAGE_FLOOR as f64 {
        return None;
    }
    if value > MAX_MESSAGE_CEILING as f64 {
        return Some((MAX_MESSAGE_CEILING, true));
    }
    Some((value as usize, false))
}

#[derive(Default)]
struct ApiCounters {
    calls: u64,
    errors: u64,
    last_error: String,
    last_latency_ms: f64,
}

pub struct Centrifugo {
    ctx: ClassContext,
    api_url: String,
    api_key: ApiKey,
    api_mode: ApiMode,
    /// What `auto` found out (kept while the URL stays the same).
    api_known_mode: ApiMode,
    /// The API's HTTP runner; its timeout also bounds one WebSocket connect attempt.
    http: HttpRunner,
    /// The Прокси property, shared with the client thread (which reads it at each connect attempt).
    proxy: Arc<Mutex<String>>,
    /// The МаксимальныйРазмерСообщения property, shared with the client thread like `proxy`.
    max_message: Arc<AtomicUsize>,
    worker: Option<CentrifugoWorker>,
    counters: ApiCounters,
}

/// The client's events become ExternalEvent `TelephonyBridge.Centrifugo`; the notable ones are logged too.
fn event_sink(ctx: &ClassContext) -> Box<dyn FnMut(&Event) + Send> {
    let ctx = ctx.clone();
    Box::new(move |event: &Event| {
        match event {
            Event::Error {
                kind,
                code,
                detail,
                channel,
            } => ctx.log.warn(
                "Centrifugo client error",
                json!({
                    "type": present::centrifugo::error_kind(*kind), "code": code,
                    "message": present::centrifugo::detail_message(detail), "channel": channel
                }),
            ),
            Event::Disconnected {
                code,
                reason,
                will_reconnect,
            } => ctx.log.info(
                "Centrifugo disconnected",
                json!({"code": code.number(), "reason": reason, "reconnect": will_reconnect}),
            ),
            Event::Connected { client_id, .. } => ctx
                .log
                .info("Centrifugo connected", json!({"client": client_id})),
            _ => {}
        }
        let (name, data) = present::centrifugo::event(event);
        ctx.events.send(name, data);
    })
}

/// A failed client thread raises an `Error` event of type `internal`, in the user's language.
fn failure_report(ctx: &ClassContext) -> impl FnOnce(&DriverError) + Send + 'static {
    let ctx = ctx.clone();
    move |error: &DriverError| {
        let text = present::driver::error_text(error);
        ctx.log.error(
            "Centrifugo client thread failed",
            json!({ "error": text.en, "detail": super::failure_detail(error) }),
        );
        let (name, data) = present::centrifugo::worker_failed(&text, ctx.lang());
        ctx.events.send(name, data);
    }
}

fn core_error(e: tb_centrifugo::Error) -> AddinError {
    present::centrifugo::error_text(&e).into()
}

fn str_arg(args: &[Value], index: usize) -> &str {
    args.get(index).map(Value::as_str).unwrap_or("")
}

fn bool_arg(args: &[Value], index: usize) -> bool {
    args.get(index).and_then(Value::as_bool).unwrap_or(false)
}

fn num_arg(args: &[Value], index: usize) -> f64 {
    args.get(index).and_then(Value::as_f64).unwrap_or(0.0)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A different seed per object and process: with one shared seed every operator's 1C client would
/// draw the same "random" reconnect delays and hit a restarted server in lockstep.
fn jitter_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let local = 0u8;
    nanos ^ (u64::from(std::process::id()) << 32) ^ (&local as *const u8 as u64)
}

/// `Каналы`: a JSON array (`["a","b"]`) or a comma/semicolon separated list.
fn parse_channels(text: &str) -> Vec<String> {
    if let Ok(Json::Array(items)) = serde_json::from_str::<Json>(text) {
        return items
            .into_iter()
            .map(|item| match item {
                Json::String(s) => s,
                other => other.to_string(),
            })
            .collect();
    }
    text.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

impl Centrifugo {
    fn api(&mut self, command: ApiCommand) -> Result<Value, AddinError> {
        self.counters.calls += 1;
        let started = Instant::now();
        let result = self.api_inner(command);
        self.counters.last_latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        match result {
            Ok(value) => Ok(Value::json(&value)),
            Err(e) => {
                self.counters.errors += 1;
                let text = present::centrifugo::error_text(&e);
                self.ctx
                    .log
                    .warn("Centrifugo API call failed", json!({"error": text.en}));
                self.counters.last_error = text.en;
                Err(core_error(e))
            }
        }
    }

    fn api_inner(&mut self, command: ApiCommand) -> Result<Json, tb_centrifugo::Error> {
        if self.api_url.trim().is_empty() {
            return Err(tb_centrifugo::Error::EmptyArgument {
                what: tb_centrifugo::Argument::ApiUrl,
            });
        }
        let config = ApiConfig::new(&self.api_url, self.api_key.clone(), self.api_mode)?;
        let (mut call, mut request) = ApiCall::start(&config, command, self.api_known_mode)?;
        loop {
            let response = self
                .http
                .post(&request.url, &request.headers, &request.body)
                .map_err(|error| match error {
                    HttpError::Timeout { url, timeout } => tb_centrifugo::Error::Timeout {
                        url,
                        milliseconds: timeout.as_millis() as u64,
                    },
                    HttpError::Unreachable { url, reason } => {
                        tb_centrifugo::Error::Unreachable { url, reason }
                    }
                    HttpError::Redirect {
                        url,
                        status,
                        location,
                    } => tb_centrifugo::Error::Redirected {
                        url,
                        status,
                        location,
                    },
                    other => tb_centrifugo::Error::Unreachable {
                        url: request.url.clone(),
                        reason: present::driver::http_error_text(&other, "Centrifugo API").en,
                    },
                })?;
            match call.handle_response(&config, &request.url, response.status, &response.body) {
                ApiStep::Send(next) => request = next,
                ApiStep::Done(result) => {
                    if result.is_ok() && self.api_mode == ApiMode::Auto {
                        self.api_known_mode = call.resolved_mode();
                    }
                    return result;
                }
            }
        }
    }

    fn worker(&mut self) -> Result<&CentrifugoWorker, AddinError> {
        if self.worker.is_none() {
            let settings = Settings {
                handshake_timeout: self.http.timeout(),
                proxy: self.proxy.clone(),
                max_message: self.max_message.clone(),
                client: Config {
                    jitter_seed: jitter_seed(),
                    ..Config::default()
                },
                explain: present::driver::link_error_reason,
            };
            let worker = CentrifugoWorker::start(
                settings,
                event_sink(&self.ctx),
                failure_report(&self.ctx),
            )?;
            self.worker = Some(worker);
        }
        Ok(self.worker.as_ref().expect("set above"))
    }

    /// Hands a command to the client thread, if it was started; says so if it failed.
    fn tell(&mut self, command: Command) -> Result<Value, AddinError> {
        if let Some(worker) = &self.worker {
            worker.send(command)?;
        }
        Ok(Value::Empty)
    }

    /// Hands a command to the client thread, starting it first if needed.
    fn start_and_tell(&mut self, command: Command) -> Result<Value, AddinError> {
        self.worker()?.send(command)?;
        Ok(Value::Empty)
    }

    fn connect(&mut self, args: &[Value]) -> Result<Value, AddinError> {
        // Parsed once, here; the client thread gets the canonical form (credentials as written, no fragment).
        let address =
            tb_centrifugo::validate_websocket_url(str_arg(args, 0)).map_err(core_error)?;
        crate::secrets::remember_address(&address);
        let url = address.canonical();
        let token = str_arg(args, 1).to_string();
        crate::secrets::remember(&token);
        self.start_and_tell(Command::Connect { url, token })
    }

    fn subscribe(&mut self, args: &[Value]) -> Result<Value, AddinError> {
        let channel = str_arg(args, 0).trim().to_string();
        if channel.is_empty() {
            return Err(core_error(tb_centrifugo::Error::EmptyArgument {
                what: tb_centrifugo::Argument::Channel,
            }));
        }
        let token = str_arg(args, 1).to_string();
        crate::secrets::remember(&token);
        self.start_and_tell(Command::Subscribe { channel, token })
    }

    fn set_api_url(&mut self, value: &Value) -> Result<(), AddinError> {
        let mut url = value.as_str().trim().to_string();
        if !url.is_empty() {
            ApiConfig::new(&url, ApiKey::default(), ApiMode::Modern).map_err(core_error)?;
            // Parsed once, here: the canonical form is kept and every request is built from it.
            if let Ok(address) = tb_prims::address::Address::parse(&url, &["http", "https"]) {
                crate::secrets::remember_address(&address);
                url = address.canonical();
            }
        }
        if url != self.api_url {
            self.api_known_mode = ApiMode::Auto;
        }
        self.api_url = url;
        Ok(())
    }

    fn set_timeout(&mut self, value: &Value) -> Result<(), AddinError> {
        let seconds = value
            .as_f64()
            .or_else(|| value.as_str().trim().parse().ok())
            .unwrap_or(-1.0);
        if !(seconds > 0.0 && seconds <= 3600.0) {
            return Err(present::centrifugo::refusal::timeout_range().into());
        }
        self.http.set_timeout(Duration::from_secs_f64(seconds));
        Ok(())
    }

    /// Accepts a whole number of bytes from 65536; above 8 MiB it is lowered to 8 MiB (read back, and said in
    /// the log) rather than refused, so a configuration that set more in an earlier release keeps working.
    fn set_max_message(&mut self, value: &Value) -> Result<(), AddinError> {
        let Some((bytes, lowered)) = value.as_f64().and_then(max_message_setting) else {
            return Err(present::centrifugo::refusal::max_message_range(
                MAX_MESSAGE_FLOOR,
                MAX_MESSAGE_CEILING,
            )
            .into());
        };
        if lowered {
            self.ctx.log.warn(
                "MaxMessageSize lowered to the largest allowed value",
                json!({ "requested": value.as_f64(), "used": bytes, "event_queue_bytes": crate::events::DEFAULT_QUEUE_BYTES }),
            );
        }
        self.max_message.store(bytes, Ordering::Relaxed);
        Ok(())
    }

    fn state(&self) -> State {
        self.worker
            .as_ref()
            .map(|w| w.status.lock().state)
            .unwrap_or(State::Disconnected)
    }
}

impl AddinClass for Centrifugo {
    const NAME: &'static str = "Centrifugo";

    fn methods() -> &'static [Method<Self>] {
        METHODS
    }

    fn props() -> &'static [Prop<Self>] {
        PROPS
    }

    fn new(ctx: ClassContext) -> Self {
        Centrifugo {
            ctx,
            api_url: String::new(),
            api_key: ApiKey::default(),
            api_mode: ApiMode::Modern,
            api_known_mode: ApiMode::Auto,
            http: HttpRunner::new(Duration::from_secs(10)),
            proxy: Arc::new(Mutex::new(String::new())),
            max_message: Arc::new(AtomicUsize::new(DEFAULT_MAX_MESSAGE)),
            worker: None,
            counters: ApiCounters::default(),
        }
    }

    fn diagnostics(&self) -> Json {
        let client = self.worker.as_ref().map(|w| {
            let status = w.status.lock().clone();
            json!({
                "state": present::centrifugo::state_name(status.state),
                "url": tb_prims::redact::url(&status.url),
                "client_id": status.client_id,
                "via_proxy": status.via_proxy,
                "last_transport_error": status.last_transport_error,
                "connects": status.stats.connects,
                "reconnect_attempts": status.stats.reconnect_attempts,
                "publications": status.stats.publications,
                "duplicates_dropped": status.stats.duplicates_dropped,
                "pings_answered": status.stats.pings_answered,
                "bad_frames": status.stats.bad_frames,
                "thread_failed": w.failed(),
                "recoveries": status.stats.recoveries,
                "recoveries_failed": status.stats.recoveries_failed,
                "oversized_skips": status.stats.oversized_skips,
            })
        });
        json!({
            "api": {
                "url": tb_prims::redact::url(&self.api_url),
                "mode": self.api_mode.as_str(),
                "detected_mode": if self.api_mode == ApiMode::Auto && self.api_known_mode != ApiMode::Auto { self.api_known_mode.as_str() } else { "" },
                "key_set": !self.api_key.is_empty(),
                "timeout_s": self.http.timeout().as_secs_f64(),
                "calls": self.counters.calls,
                "errors": self.counters.errors,
                "last_error": self.counters.last_error,
                "last_latency_ms": self.counters.last_latency_ms,
            },
            "client": client.unwrap_or(json!({"state": "disconnected", "thread": false})),
        })
    }

    fn shutdown(&mut self) {
        if let Some(mut worker) = self.worker.take() {
            if !worker.stop(Duration::from_millis(1500)) {
                self.ctx
                    .log
                    .warn("Centrifugo client thread did not stop in time", json!({}));
            }
        }
        self.http.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 16: 64 MiB was accepted against the event queue's 32 MiB bound.
    #[test]
    fn max_message_size_never_exceeds_what_the_event_queue_can_hold() {
        let mut class = Centrifugo::new(ClassContext::new("Centrifugo"));
        let read = |c: &Centrifugo| c.max_message.load(Ordering::Relaxed);
        assert_eq!(read(&class), DEFAULT_MAX_MESSAGE);
        class.set_max_message(&Value::Num(67_108_864.0)).unwrap();
        assert_eq!(read(&class), MAX_MESSAGE_CEILING, "64 MiB is lowered");
        assert_eq!(MAX_MESSAGE_CEILING, 8 * 1024 * 1024);
        class.set_max_message(&Value::Num(4_194_304.0)).unwrap();
        assert_eq!(read(&class), 4_194_304);
        class
            .set_max_message(&Value::Num(MAX_MESSAGE_CEILING as f64))
            .unwrap();
        assert_eq!(read(&class), MAX_MESSAGE_CEILING);
        for bad in [65_535.0, 100_000.5, -1.0, f64::NAN] {
            let error = class.set_max_message(&Value::Num(bad)).unwrap_err();
            assert!(
                error.en.contains("8388608") && error.ru.contains("8388608"),
                "{bad}: {}",
                error.en
            );
        }
        assert_eq!(
            read(&class),
            MAX_MESSAGE_CEILING,
            "a refused value changes nothing"
        );
    }

    #[test]
    fn channels_lists() {
        assert_eq!(parse_channels(r#"["a","b"]"#), vec!["a", "b"]);
        assert_eq!(parse_channels("a, b;c"), vec!["a", "b", "c"]);
    }
}
