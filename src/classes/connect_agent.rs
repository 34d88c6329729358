//! Class `ConnectAgent`: the 1C-Connect agent (softphone, chat, status, remote sessions, service requests) through
//! its local pipe, with the member names of the vendor's 1C driver plus reconnect, resubscribe and bad-message
//! survival.
//!
//! Shape: the 1C thread validates parameters, builds the command, picks the ID it returns, and hands a request to
//! the object's worker (`driver::agent`), which owns the pipe and the sans-IO [`Core`]. Its events come
//! back here to become ExternalEvent `TelephonyBridge.ConnectAgent`. The 1C thread never waits on the pipe, only
//! (≤ 2 s) for the outcome of a connect attempt.

use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use serde_json::{json, Value as Json};
use tb_connect::{
    Command, Config, ConnectError, Core, DriverSubscription, Event, Recipient, SubscriptionKey,
};

use crate::driver::agent::{self, AgentStatus, Command as Request};
use crate::driver::worker::Worker;
use crate::driver::DriverError;
use crate::native::{
    AddinClass, AddinError, ClassContext, Method, MethodSpec, ParamSpec, Prop, Value,
};
use crate::present;
use crate::present::connect::refusal;
use crate::transport::agent_pipe::default_address;

/// ConnectToAgent returns within this even when the agent hangs; the attempt itself is bounded below it.
const CONNECT_REPLY_WAIT: Duration = Duration::from_millis(1900);
/// Done waits this long for the worker before leaving it detached (it then only touches no-op handles).
const STOP_WAIT: Duration = Duration::from_millis(1500);
const DEFAULT_COMMAND_TIMEOUT_MS: f64 = 10_000.0;
/// One day: anything longer is surely a unit mistake (seconds vs milliseconds is the usual one).
const MAX_COMMAND_TIMEOUT_MS: f64 = 86_400_000.0;

/// The methods of the vendor's 1C driver, in its order and spelling, plus the general subscriptions.
const METHODS: &[Method<ConnectAgent>] = &[
    Method {
        spec: MethodSpec {
            en: "ConnectToAgent",
            ru: "ПодключитьсяКАгенту",
            aliases: &[],
            params: &[ParamSpec::text("Login", "Логин")],
            returns: true,
        },
        call: |c, args| c.connect(args[0].as_str()),
    },
    Method::new(
        MethodSpec::procedure("CloseConnectToAgent", "ЗакрытьПодключение", &[]),
        |c, _| {
            if c.worker.is_some() {
                c.request(Request::Close)?;
            }
            Ok(Value::Empty)
        },
    ),
    Method {
        spec: MethodSpec {
            en: "ChangeOnlineStatus",
            ru: "УстановитьОнлайнСтатус",
            aliases: &[],
            params: &[
                ParamSpec::text("UUID", "UUID"),
                ParamSpec::text("Status", "Статус"),
            ],
            returns: true,
        },
        call: |c, args| {
            let command = Command::change_online_status(args[1].as_str())?;
            c.send_command(command, ConnectAgent::id_or_new(&args[0]))
        },
    },
    Method::new(
        MethodSpec::function(
            "SubscribeToEvents_OnlineStatus",
            "ПодписатьсяНаСобытия_ПолучениеСтатуса",
            &[],
        ),
        |c, _| c.subscription(DriverSubscription::OnlineStatus.keys(), true),
    ),
    Method::new(
        MethodSpec::function(
            "UnSubscribeFromEvents_OnlineStatus",
            "ОтписатьсяОтСобытий_ПолучениеСтатуса",
            &[],
        ),
        |c, _| c.subscription(DriverSubscription::OnlineStatus.keys(), false),
    ),
    Method::new(
        MethodSpec::function(
            "SubscribeToEvents_Softphone",
            "ПодписатьсяНаСобытия_Софтфон",
            &[],
        ),
        |c, _| c.subscription(DriverSubscription::Softphone.keys(), true),
    ),
    Method::new(
        MethodSpec::function(
            "UnSubscribeToEvents_Softphone",
            "ОтписатьсяОтСобытий_Софтфон",
            &[],
        ),
        |c: &mut ConnectAgent, _| c.subscription(DriverSubscription::Softphone.keys(), false),
    )
    .with_aliases(&["UnSubscribeFromEvents_Softphone"]),
    Method::new(
        MethodSpec::function(
            "SubscribeToEvents_ColleaguesCall",
            "ПодписатьсяНаСобытия_ЗвонокВКоллегах",
            &[],
        ),
        |c, _| c.subscription(DriverSubscription::ColleaguesCall.keys(), true),
    ),
    Method::new(
        MethodSpec::function(
            "UnSubscribeFromEvents_ColleaguesCall",
            "ОтписатьсяОтСобытий_ЗвонокВКоллегах",
            &[],
        ),
        |c, _| c.subscription(DriverSubscription::ColleaguesCall.keys(), false),
    ),
    Method::new(
        MethodSpec::function(
            "SubscribeToEvents_ClientsCall",
            "ПодписатьсяНаСобытия_ЗвонокВКлиентах",
            &[],
        ),
        |c, _| c.subscription(DriverSubscription::ClientsCall.keys(), true),
    ),
    Method::new(
        MethodSpec::function(
            "UnSubscribeFromEvents_ClientsCall",
            "ОтписатьсяОтСобытий_ЗвонокВКлиентах",
            &[],
        ),
        |c, _| c.subscription(DriverSubscription::ClientsCall.keys(), false),
    ),
    Method::new(
        MethodSpec::function(
            "SubscribeToEvents_AllCall",
            "ПодписатьсяНаСобытия_Звонок",
            &[],
        ),
        |c, _| c.subscription(DriverSubscription::AllCall.keys(), true),
    ),
    Method::new(
        MethodSpec::function(
            "UnSubscribeFromEvents_AllCall",
            "ОтписатьсяОтСобытий_Звонок",
            &[],
        ),
        |c, _| c.subscription(DriverSubscription::AllCall.keys(), false),
    ),
    Method {
        spec: MethodSpec {
            en: "Call_Softphone",
            ru: "ПозвонитьВ_Софтфон",
            aliases: &[],
            params: &[
                ParamSpec::text("UUID", "UUID"),
                ParamSpec::text("Number", "Номер"),
            ],
            returns: true,
        },
        call: |c, args| {
            let command = Command::call_softphone(args[1].as_str())?;
            c.send_command(command, ConnectAgent::id_or_new(&args[0]))
        },
    },
    Method {
        spec: MethodSpec {
            en: "SendMessage",
            ru: "ОтправитьСообщение",
            aliases: &[],
            params: &[
                ParamSpec::text("UUID", "UUID"),
                ParamSpec::text("Mode", "Режим"),
                ParamSpec::text("Recipient", "Получатель"),
                ParamSpec::text("Text", "Текст"),
            ],
            returns: true,
        },
        call: |c, args| {
            let recipient = Recipient::from_json(args[1].as_str(), args[2].as_str())?;
            let command = Command::SendMessage {
                recipient,
                text: args[3].as_str().to_string(),
            };
            c.send_command(command, ConnectAgent::id_or_new(&args[0]))
        },
    },
    Method {
        spec: MethodSpec {
            en: "SubscribeToEvents",
            ru: "ПодписатьсяНаСобытия",
            aliases: &[],
            params: SUBSCRIPTION_PARAMS,
            returns: true,
        },
        call: |c, args| {
            let keys = ConnectAgent::general_keys(args)?;
            c.subscription(keys, true)
        },
    },
    Method {
        spec: MethodSpec {
            en: "UnSubscribeFromEvents",
            ru: "ОтписатьсяОтСобытий",
            aliases: &[],
            params: SUBSCRIPTION_PARAMS,
            returns: true,
        },
        call: |c, args| {
            let keys = ConnectAgent::general_keys(args)?;
            c.subscription(keys, false)
        },
    },
];

const SUBSCRIPTION_PARAMS: &[ParamSpec] = &[
    ParamSpec::text("Mode", "Режим"),
    ParamSpec::text("Object", "Объект"),
    ParamSpec::optional_text("Initiator", "Инициатор"),
];

const PROPS: &[Prop<ConnectAgent>] = &[
    Prop::read_only("Login", "Логин", |c| Ok(Value::Str(c.login.clone()))),
    Prop::read_only("Connected", "Подключено", |c| {
        Ok(Value::Bool(c.shared.connected.load(Ordering::Acquire)))
    }),
    Prop::read_write(
        "PipeAddress",
        "АдресКанала",
        |c| Ok(Value::Str(c.effective_address())),
        ConnectAgent::set_pipe_address,
    ),
    Prop::read_write(
        "AutoReconnect",
        "АвтоПереподключение",
        |c| Ok(Value::Bool(c.auto_reconnect)),
        ConnectAgent::set_auto_reconnect,
    ),
    Prop::read_write(
        "CommandTimeout",
        "ТаймаутКоманды",
        |c| Ok(Value::Num(c.command_timeout_ms)),
        ConnectAgent::set_command_timeout,
    ),
];

impl From<ConnectError> for AddinError {
    fn from(error: ConnectError) -> Self {
        present::connect::error_text(&error).into()
    }
}

pub struct ConnectAgent {
    ctx: ClassContext,
    login: String,
    pipe_address: String,
    auto_reconnect: bool,
    command_timeout_ms: f64,
    shared: Arc<AgentStatus>,
    worker: Option<Worker<Request>>,
}

impl ConnectAgent {
    fn effective_address(&self) -> String {
        if !self.pipe_address.trim().is_empty() {
            self.pipe_address.trim().to_string()
        } else if !self.login.is_empty() {
            default_address(&self.login)
        } else {
            String::new()
        }
    }

    fn command_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.command_timeout_ms / 1000.0)
    }

    fn worker(&mut self) -> Result<&Worker<Request>, AddinError> {
        if self.worker.is_none() {
            let seed = {
                let (high, low) = uuid::Uuid::new_v4().as_u64_pair();
                high ^ low
            };
            let core = Core::new(
                Config {
                    command_timeout: self.command_timeout(),
                    auto_reconnect: self.auto_reconnect,
                    ..Config::default()
                },
                seed,
            );
            let ctx = self.ctx.clone();
            let sink = Box::new(move |event: Event, address: &str| emit(&ctx, event, address));
            let worker = agent::start(
                core,
                self.shared.clone(),
                sink,
                failure_report(&self.ctx, &self.shared),
                agent::Render {
                    diagnostics: present::connect::diagnostics,
                    no_address: present::connect::no_address_reason,
                },
            )?;
            self.worker = Some(worker);
        }
        self.worker
            .as_ref()
            .ok_or_else(|| refusal::worker_missing().into())
    }

    fn request(&mut self, request: Request) -> Result<(), AddinError> {
        Ok(self.worker()?.send(request)?)
    }

    fn id_or_new(value: &Value) -> String {
        let given = value.as_str().trim();
        if given.is_empty() {
            uuid::Uuid::new_v4().to_string()
        } else {
            given.to_string()
        }
    }

    fn connect(&mut self, login: &str) -> Result<Value, AddinError> {
        let login = login.trim();
        if login.is_empty() && self.pipe_address.trim().is_empty() {
            return Err(refusal::login_missing().into());
        }
        self.login = login.to_string();
        let address = self.effective_address();
        let (reply, outcome) = mpsc::channel();
        self.request(Request::Connect { address, reply })?;
        Ok(Value::Bool(
            outcome.recv_timeout(CONNECT_REPLY_WAIT).unwrap_or(false),
        ))
    }

    fn send_command(&mut self, command: Command, id: String) -> Result<Value, AddinError> {
        self.request(Request::Send {
            command,
            id: id.clone(),
        })?;
        Ok(Value::Str(id))
    }

    fn subscription(
        &mut self,
        keys: Vec<SubscriptionKey>,
        subscribe: bool,
    ) -> Result<Value, AddinError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let request = if subscribe {
            Request::Subscribe {
                keys,
                request_id: request_id.clone(),
            }
        } else {
            Request::Unsubscribe {
                keys,
                request_id: request_id.clone(),
            }
        };
        self.request(request)?;
        Ok(Value::Str(request_id))
    }

    fn set_pipe_address(&mut self, value: &Value) -> Result<(), AddinError> {
        self.pipe_address = match value {
            Value::Str(s) => s.trim().to_string(),
            Value::Empty => String::new(),
            _ => return Err(refusal::pipe_address_type().into()),
        };
        Ok(())
    }

    fn set_auto_reconnect(&mut self, value: &Value) -> Result<(), AddinError> {
        let enabled = value
            .as_bool()
            .ok_or_else(|| AddinError::from(refusal::auto_reconnect_type()))?;
        self.auto_reconnect = enabled;
        if self.worker.is_some() {
            self.request(Request::SetAutoReconnect(enabled))?;
        }
        Ok(())
    }

    fn set_command_timeout(&mut self, value: &Value) -> Result<(), AddinError> {
        let ms = value
            .as_f64()
            .filter(|ms| ms.is_finite() && *ms >= 1.0 && *ms <= MAX_COMMAND_TIMEOUT_MS)
            .ok_or_else(|| AddinError::from(refusal::command_timeout_range()))?;
        self.command_timeout_ms = ms;
        if self.worker.is_some() {
            let timeout = self.command_timeout();
            self.request(Request::SetCommandTimeout(timeout))?;
        }
        Ok(())
    }

    fn general_keys(args: &[Value]) -> Result<Vec<SubscriptionKey>, AddinError> {
        let (mode, object, initiator) = (args[0].as_str(), args[1].as_str(), args[2].as_str());
        if mode.trim().is_empty() || object.trim().is_empty() {
            return Err(refusal::mode_and_object_empty().into());
        }
        // An empty Initiator means both directions, like the driver's call subscriptions.
        let initiators: Vec<&str> = if initiator.trim().is_empty() {
            vec!["Incoming", "Self"]
        } else {
            vec![initiator]
        };
        Ok(initiators
            .into_iter()
            .filter_map(|initiator| SubscriptionKey::parse(mode, object, initiator))
            .collect())
    }
}

impl AddinClass for ConnectAgent {
    const NAME: &'static str = "ConnectAgent";

    fn methods() -> &'static [Method<Self>] {
        METHODS
    }

    fn props() -> &'static [Prop<Self>] {
        PROPS
    }

    fn new(ctx: ClassContext) -> Self {
        ConnectAgent {
            ctx,
            login: String::new(),
            pipe_address: String::new(),
            auto_reconnect: true,
            command_timeout_ms: DEFAULT_COMMAND_TIMEOUT_MS,
            shared: Arc::new(AgentStatus::default()),
            worker: None,
        }
    }

    fn diagnostics(&self) -> Json {
        let mut state = self.shared.diagnostics.lock().clone();
        if !state.is_object() {
            state = json!({ "state": "NotStarted" });
        }
        if let Json::Object(map) = &mut state {
            map.insert("login".into(), self.login.clone().into());
            map.insert("pipe_address".into(), self.effective_address().into());
            map.insert("auto_reconnect".into(), self.auto_reconnect.into());
            map.insert("command_timeout_ms".into(), self.command_timeout_ms.into());
            map.insert(
                "connected".into(),
                self.shared.connected.load(Ordering::Acquire).into(),
            );
            map.insert("worker_running".into(), self.worker.is_some().into());
            let failed = self.worker.as_ref().is_some_and(Worker::failed);
            map.insert("worker_failed".into(), failed.into());
        }
        state
    }

    fn shutdown(&mut self) {
        let Some(mut worker) = self.worker.take() else {
            return;
        };
        if !worker.stop(STOP_WAIT) {
            self.ctx.log.warn(
                "agent worker did not stop in time; left detached",
                json!({ "waited_ms": STOP_WAIT.as_millis() as u64 }),
            );
        }
        self.shared.connected.store(false, Ordering::Release);
    }
}

/// A failed worker ends this object's connection and raises an `Error` event with code `InternalError`.
fn failure_report(
    ctx: &ClassContext,
    shared: &Arc<AgentStatus>,
) -> impl FnOnce(&DriverError) + Send + 'static {
    let (ctx, shared) = (ctx.clone(), shared.clone());
    move |error: &DriverError| {
        shared.connected.store(false, Ordering::Release);
        let text = present::driver::error_text(error);
        ctx.log.error(
            "agent worker failed",
            json!({ "error": text.en, "detail": super::failure_detail(error) }),
        );
        let (name, data) = present::connect::worker_failed(&text, ctx.lang());
        ctx.events.send(name, data);
    }
}

/// One event of the core as ExternalEvent (rendered by `present::connect`) and in the log.
fn emit(ctx: &ClassContext, event: Event, address: &str) {
    let log = &ctx.log;
    match &event {
        Event::ConnectFailed { reason, retry_in } => log.debug(
            "agent connect attempt failed",
            json!({ "reason": reason, "retry_in_ms": retry_in.map(|d| d.as_millis() as u64) }),
        ),
        Event::Connected { .. } => log.info("agent connected", json!({ "address": address })),
        Event::Disconnected { reason, .. } => log.info(
            "agent disconnected",
            json!({ "reason": present::connect::disconnect_text(reason).en }),
        ),
        Event::Error(error) => log.warn(
            "bad message from the agent",
            json!({ "error": present::connect::error_text(error).en }),
        ),
        Event::CommandResult(_) | Event::Agent(_) => {}
    }
    // Failed attempts stay in the log: the 1C side sees state changes only.
    if let Some((name, data)) = present::connect::event(&event, ctx.lang()) {
        ctx.events.send(&name, data);
    }
}
