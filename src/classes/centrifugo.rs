//! Class `Centrifugo`: publish from the 1C server (HTTP API), receive in the 1C client (WebSocket).
//!
//! Server side: synchronous API calls through one keep-alive HTTP agent. Client side: a worker thread
//! (started by the first client method) owns the WebSocket and the sans-IO core from `tb-centrifugo`;
//! its events become ExternalEvent `TelephonyBridge.Centrifugo`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde_json::{json, Value as Json};
use tb_centrifugo::{
    ApiCall, ApiCommand, ApiConfig, ApiKey, ApiMode, ApiStep, Config, Event, State,
};

use crate::native::{
    AddinClass, AddinError, ClassContext, MethodSpec, ParamKind, ParamSpec, PropSpec, Value,
};
use crate::present;
use crate::transport::http::{HttpClient, HttpFailure};
use crate::transport::websocket::{Command, Settings, WebSocketWorker};

const M_PUBLISH: usize = 0;
const M_BROADCAST: usize = 1;
const M_HISTORY: usize = 2;
const M_PRESENCE: usize = 3;
const M_INFO: usize = 4;
const M_CONNECTION_TOKEN: usize = 5;
const M_SUBSCRIPTION_TOKEN: usize = 6;
const M_CONNECT: usize = 7;
const M_DISCONNECT: usize = 8;
const M_SUBSCRIBE: usize = 9;
const M_UNSUBSCRIBE: usize = 10;
const M_SET_TOKEN: usize = 11;

const METHODS: &[MethodSpec] = &[
    MethodSpec {
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
    MethodSpec {
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
    MethodSpec {
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
        ],
    },
    MethodSpec {
        en: "Presence",
        ru: "Присутствие",
        aliases: &[],
        returns: true,
        params: &[ParamSpec::text("Channel", "Канал")],
    },
    MethodSpec {
        en: "Info",
        ru: "Информация",
        aliases: &[],
        returns: true,
        params: &[],
    },
    MethodSpec {
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
    MethodSpec {
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
    MethodSpec {
        en: "Connect",
        ru: "Подключиться",
        aliases: &[],
        returns: false,
        params: &[
            ParamSpec::text("Url", "Адрес"),
            ParamSpec::optional_text("Token", "Токен"),
        ],
    },
    MethodSpec {
        en: "Disconnect",
        ru: "Отключиться",
        aliases: &[],
        returns: false,
        params: &[],
    },
    MethodSpec {
        en: "Subscribe",
        ru: "Подписаться",
        aliases: &[],
        returns: false,
        params: &[
            ParamSpec::text("Channel", "Канал"),
            ParamSpec::optional_text("Token", "Токен"),
        ],
    },
    MethodSpec {
        en: "Unsubscribe",
        ru: "Отписаться",
        aliases: &[],
        returns: false,
        params: &[ParamSpec::text("Channel", "Канал")],
    },
    MethodSpec {
        en: "SetToken",
        ru: "УстановитьТокен",
        aliases: &[],
        returns: false,
        params: &[ParamSpec::text("Token", "Токен")],
    },
];

const P_API_URL: usize = 0;
const P_API_KEY: usize = 1;
const P_API_MODE: usize = 2;
const P_TIMEOUT: usize = 3;
const P_CONNECTED: usize = 4;
const P_STATE: usize = 5;
const P_PROXY: usize = 6;

const PROPS: &[PropSpec] = &[
    PropSpec::read_write("ApiUrl", "АдресAPI"),
    // Readable so 1C's debugger does not fail on it, but it only ever shows whether a key is set.
    PropSpec::read_write("ApiKey", "КлючAPI"),
    PropSpec::read_write("ApiMode", "РежимAPI"),
    PropSpec::read_write("Timeout", "Таймаут"),
    PropSpec::read_only("Connected", "Подключено"),
    PropSpec::read_only("State", "Состояние"),
    PropSpec::read_write("Proxy", "Прокси"),
];

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
    timeout: Duration,
    proxy: Arc<Mutex<String>>,
    http: Option<HttpClient>,
    worker: Option<WebSocketWorker>,
    counters: ApiCounters,
}

fn core_error(e: tb_centrifugo::Error) -> AddinError {
    present::centrifugo::error_text(&e).into()
}

fn str_arg(args: &[Value], index: usize) -> &str {
    args.get(index).map(Value::as_str).unwrap_or("")
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
    fn http(&mut self) -> Result<&HttpClient, AddinError> {
        if self.http.is_none() {
            let proxy = self.proxy.lock().clone();
            let proxy = if proxy.trim() == "-" || proxy.eq_ignore_ascii_case("none") {
                String::new()
            } else {
                proxy
            };
            let client =
                HttpClient::new(self.timeout, &proxy).map_err(|e| AddinError::new(e.clone(), e))?;
            self.http = Some(client);
        }
        Ok(self.http.as_ref().expect("set above"))
    }

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
        let timeout_ms = self.timeout.as_millis() as u64;
        loop {
            let http = self.http().map_err(|e| tb_centrifugo::Error::Unreachable {
                url: request.url.clone(),
                reason: e.en,
            })?;
            let response = match http.post(&request.url, &request.headers, &request.body) {
                Ok(response) => response,
                Err(HttpFailure::Timeout) => {
                    return Err(tb_centrifugo::Error::Timeout {
                        url: request.url.clone(),
                        milliseconds: timeout_ms,
                    })
                }
                Err(HttpFailure::Unreachable(reason)) => {
                    return Err(tb_centrifugo::Error::Unreachable {
                        url: request.url.clone(),
                        reason,
                    })
                }
            };
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

    fn worker(&mut self) -> Result<&WebSocketWorker, AddinError> {
        if self.worker.is_none() {
            let ctx = self.ctx.clone();
            let sink = Box::new(move |event: &Event| {
                match event {
                    Event::Error { kind, code, detail, channel } => ctx.log.warn(
                        "Centrifugo client error",
                        json!({
                            "type": present::centrifugo::error_kind(*kind), "code": code,
                            "message": present::centrifugo::detail_message(detail), "channel": channel
                        }),
                    ),
                    Event::Disconnected { code, reason, will_reconnect } => ctx.log.info(
                        "Centrifugo disconnected",
                        json!({"code": code.number(), "reason": reason, "reconnect": will_reconnect}),
                    ),
                    Event::Connected { client_id, .. } => {
                        ctx.log.info("Centrifugo connected", json!({"client": client_id}))
                    }
                    _ => {}
                }
                let (name, data) = present::centrifugo::event(event);
                ctx.events.send(name, data);
            });
            let settings = Settings {
                handshake_timeout: self.timeout,
                proxy: self.proxy.clone(),
                client: Config {
                    jitter_seed: jitter_seed(),
                    ..Config::default()
                },
            };
            let worker = WebSocketWorker::start(settings, sink).map_err(|e| {
                AddinError::new(
                    format!("cannot start the client thread: {e}"),
                    format!("не удалось запустить поток клиента: {e}"),
                )
            })?;
            self.worker = Some(worker);
        }
        Ok(self.worker.as_ref().expect("set above"))
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

    fn methods() -> &'static [MethodSpec] {
        METHODS
    }

    fn props() -> &'static [PropSpec] {
        PROPS
    }

    fn new(ctx: ClassContext) -> Self {
        Centrifugo {
            ctx,
            api_url: String::new(),
            api_key: ApiKey::default(),
            api_mode: ApiMode::Modern,
            api_known_mode: ApiMode::Auto,
            timeout: Duration::from_secs(10),
            proxy: Arc::new(Mutex::new(String::new())),
            http: None,
            worker: None,
            counters: ApiCounters::default(),
        }
    }

    fn call(&mut self, method: usize, args: &[Value]) -> Result<Value, AddinError> {
        match method {
            M_PUBLISH => self.api(ApiCommand::Publish {
                channel: str_arg(args, 0).to_string(),
                data: str_arg(args, 1).to_string(),
                idempotency_key: str_arg(args, 2).to_string(),
            }),
            M_BROADCAST => self.api(ApiCommand::Broadcast {
                channels: parse_channels(str_arg(args, 0)),
                data: str_arg(args, 1).to_string(),
                idempotency_key: str_arg(args, 2).to_string(),
            }),
            M_HISTORY => self.api(ApiCommand::History {
                channel: str_arg(args, 0).to_string(),
                limit: num_arg(args, 1) as i64,
            }),
            M_PRESENCE => self.api(ApiCommand::Presence {
                channel: str_arg(args, 0).to_string(),
            }),
            M_INFO => self.api(ApiCommand::Info),
            M_CONNECTION_TOKEN => tb_centrifugo::jwt::connection_token(
                str_arg(args, 0),
                str_arg(args, 1),
                num_arg(args, 2) as i64,
                str_arg(args, 3),
                unix_now(),
            )
            .map(Value::Str)
            .map_err(core_error),
            M_SUBSCRIPTION_TOKEN => tb_centrifugo::jwt::subscription_token(
                str_arg(args, 0),
                str_arg(args, 1),
                str_arg(args, 2),
                num_arg(args, 3) as i64,
                unix_now(),
            )
            .map(Value::Str)
            .map_err(core_error),
            M_CONNECT => {
                let url = str_arg(args, 0).trim().to_string();
                tb_centrifugo::validate_websocket_url(&url).map_err(core_error)?;
                let token = str_arg(args, 1).to_string();
                self.worker()?.send(Command::Connect { url, token });
                Ok(Value::Empty)
            }
            M_DISCONNECT => {
                if let Some(worker) = &self.worker {
                    worker.send(Command::Disconnect);
                }
                Ok(Value::Empty)
            }
            M_SUBSCRIBE => {
                let channel = str_arg(args, 0).trim().to_string();
                if channel.is_empty() {
                    return Err(core_error(tb_centrifugo::Error::EmptyArgument {
                        what: tb_centrifugo::Argument::Channel,
                    }));
                }
                let token = str_arg(args, 1).to_string();
                self.worker()?.send(Command::Subscribe { channel, token });
                Ok(Value::Empty)
            }
            M_UNSUBSCRIBE => {
                let channel = str_arg(args, 0).trim().to_string();
                if let Some(worker) = &self.worker {
                    worker.send(Command::Unsubscribe { channel });
                }
                Ok(Value::Empty)
            }
            M_SET_TOKEN => {
                let token = str_arg(args, 0).to_string();
                self.worker()?.send(Command::SetToken(token));
                Ok(Value::Empty)
            }
            _ => Err(AddinError::new("no such method", "нет такого метода")),
        }
    }

    fn get_prop(&mut self, prop: usize) -> Result<Value, AddinError> {
        Ok(match prop {
            P_API_URL => Value::from(self.api_url.as_str()),
            P_API_KEY => Value::from(if self.api_key.is_empty() { "" } else { "***" }),
            P_API_MODE => Value::from(self.api_mode.as_str()),
            P_TIMEOUT => Value::Num(self.timeout.as_secs_f64()),
            P_CONNECTED => Value::Bool(self.state() == State::Connected),
            P_STATE => Value::from(present::centrifugo::state_name(self.state())),
            P_PROXY => Value::from(crate::transport::http::strip_credentials(
                &self.proxy.lock(),
            )),
            _ => return Err(AddinError::new("no such property", "нет такого свойства")),
        })
    }

    fn set_prop(&mut self, prop: usize, value: &Value) -> Result<(), AddinError> {
        match prop {
            P_API_URL => {
                let url = value.as_str().trim().to_string();
                if !url.is_empty() {
                    ApiConfig::new(&url, ApiKey::default(), ApiMode::Modern).map_err(core_error)?;
                }
                if url != self.api_url {
                    self.api_known_mode = ApiMode::Auto;
                }
                self.api_url = url;
            }
            P_API_KEY => self.api_key = ApiKey::new(value.as_str().trim()),
            P_API_MODE => {
                self.api_mode =
                    present::centrifugo::api_mode(value.as_str()).map_err(core_error)?;
                self.api_known_mode = ApiMode::Auto;
            }
            P_TIMEOUT => {
                let seconds = value
                    .as_f64()
                    .or_else(|| value.as_str().trim().parse().ok())
                    .unwrap_or(-1.0);
                if !(seconds > 0.0 && seconds <= 3600.0) {
                    return Err(AddinError::new(
                        "the timeout must be a number of seconds between 0 and 3600",
                        "таймаут должен быть числом секунд от 0 до 3600",
                    ));
                }
                self.timeout = Duration::from_secs_f64(seconds);
                self.http = None;
            }
            P_PROXY => {
                *self.proxy.lock() = value.as_str().trim().to_string();
                self.http = None;
            }
            _ => {
                return Err(AddinError::new(
                    "the property is read-only",
                    "свойство только для чтения",
                ))
            }
        }
        Ok(())
    }

    fn diagnostics(&self) -> Json {
        let client = self.worker.as_ref().map(|w| {
            let status = w.status.lock().clone();
            json!({
                "state": present::centrifugo::state_name(status.state),
                "url": status.url.split('?').next().unwrap_or(""),
                "client_id": status.client_id,
                "via_proxy": status.via_proxy,
                "last_transport_error": status.last_transport_error,
                "connects": status.stats.connects,
                "reconnect_attempts": status.stats.reconnect_attempts,
                "publications": status.stats.publications,
                "duplicates_dropped": status.stats.duplicates_dropped,
                "pings_answered": status.stats.pings_answered,
                "bad_frames": status.stats.bad_frames,
                "recoveries": status.stats.recoveries,
                "recoveries_failed": status.stats.recoveries_failed,
            })
        });
        json!({
            "api": {
                "url": self.api_url,
                "mode": self.api_mode.as_str(),
                "detected_mode": if self.api_mode == ApiMode::Auto && self.api_known_mode != ApiMode::Auto { self.api_known_mode.as_str() } else { "" },
                "key_set": !self.api_key.is_empty(),
                "timeout_s": self.timeout.as_secs_f64(),
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
        self.http = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_lists() {
        assert_eq!(parse_channels(r#"["a","b"]"#), vec!["a", "b"]);
        assert_eq!(parse_channels("a, b;c"), vec!["a", "b", "c"]);
    }
}
