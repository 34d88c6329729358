//! Class `ConnectAgent`: the 1C-Connect agent (softphone, chat, status, remote sessions, service requests) through
//! its local pipe, with the member names of the vendor's 1C driver plus reconnect, resubscribe and bad-message
//! survival.
//!
//! Shape: the 1C thread validates parameters, builds the command, picks the ID it returns, and hands a request to
//! one worker thread. The worker owns the [`AgentPipe`] and the sans-IO [`Core`]; it turns bytes into events
//! for `ctx.events` and core output into writes. The 1C thread never waits on the pipe, only (≤ 2 s) for the
//! outcome of a connect attempt.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::{json, Value as Json};
use tb_connect::{
    Command, Config, ConnectError, Core, DisconnectReason, DriverSubscription, Event, Recipient,
    State, SubscriptionKey, Transmit,
};

use crate::native::{AddinClass, AddinError, ClassContext, MethodSpec, ParamSpec, PropSpec, Value};
use crate::present;
use crate::transport::agent_pipe::{default_address, AgentPipe, PipeOps, Readiness, Waker};

/// ConnectToAgent returns within this even when the agent hangs; the attempt itself is bounded below it.
const CONNECT_REPLY_WAIT: Duration = Duration::from_millis(1900);
/// How long one open may wait for a busy pipe instance.
const OPEN_TIMEOUT: Duration = Duration::from_millis(1500);
/// A command write that the agent does not take within this means the agent is stuck: reconnect.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// Done waits this long for the worker before leaving it detached (it then only touches no-op handles).
const STOP_WAIT: Duration = Duration::from_millis(1500);
const DEFAULT_COMMAND_TIMEOUT_MS: f64 = 10_000.0;
/// One day: anything longer is surely a unit mistake (seconds vs milliseconds is the usual one).
const MAX_COMMAND_TIMEOUT_MS: f64 = 86_400_000.0;

const NO_PARAMS: &[ParamSpec] = &[];

// Method indices: the order of METHODS.
const M_CONNECT: usize = 0;
const M_CLOSE: usize = 1;
const M_CHANGE_STATUS: usize = 2;
const M_SUB_STATUS: usize = 3;
const M_UNSUB_STATUS: usize = 4;
const M_SUB_SOFTPHONE: usize = 5;
const M_UNSUB_SOFTPHONE: usize = 6;
const M_SUB_COLLEAGUES: usize = 7;
const M_UNSUB_COLLEAGUES: usize = 8;
const M_SUB_CLIENTS: usize = 9;
const M_UNSUB_CLIENTS: usize = 10;
const M_SUB_ALL: usize = 11;
const M_UNSUB_ALL: usize = 12;
const M_CALL: usize = 13;
const M_SEND_MESSAGE: usize = 14;
const M_SUBSCRIBE: usize = 15;
const M_UNSUBSCRIBE: usize = 16;

static METHODS: std::sync::LazyLock<Vec<MethodSpec>> = std::sync::LazyLock::new(|| {
    let uuid = || ParamSpec::text("UUID", "UUID");
    let leak =
        |params: Vec<ParamSpec>| -> &'static [ParamSpec] { Box::leak(params.into_boxed_slice()) };
    let subscription_params = || {
        leak(vec![
            ParamSpec::text("Mode", "Режим"),
            ParamSpec::text("Object", "Объект"),
            ParamSpec::optional_text("Initiator", "Инициатор"),
        ])
    };
    let driver = |d: DriverSubscription, subscribe: bool| {
        let [ru_sub, en_sub, ru_unsub, en_unsub] = present::connect::method_names(d);
        if subscribe {
            MethodSpec::function(en_sub, ru_sub, NO_PARAMS)
        } else {
            MethodSpec::function(en_unsub, ru_unsub, NO_PARAMS)
        }
    };
    let mut softphone_unsubscribe = driver(DriverSubscription::Softphone, false);
    softphone_unsubscribe.aliases = &["UnSubscribeFromEvents_Softphone"];
    vec![
        MethodSpec::function(
            "ConnectToAgent",
            "ПодключитьсяКАгенту",
            leak(vec![ParamSpec::text("Login", "Логин")]),
        ),
        MethodSpec::procedure("CloseConnectToAgent", "ЗакрытьПодключение", NO_PARAMS),
        MethodSpec::function(
            "ChangeOnlineStatus",
            "УстановитьОнлайнСтатус",
            leak(vec![uuid(), ParamSpec::text("Status", "Статус")]),
        ),
        driver(DriverSubscription::OnlineStatus, true),
        driver(DriverSubscription::OnlineStatus, false),
        driver(DriverSubscription::Softphone, true),
        softphone_unsubscribe,
        driver(DriverSubscription::ColleaguesCall, true),
        driver(DriverSubscription::ColleaguesCall, false),
        driver(DriverSubscription::ClientsCall, true),
        driver(DriverSubscription::ClientsCall, false),
        driver(DriverSubscription::AllCall, true),
        driver(DriverSubscription::AllCall, false),
        MethodSpec::function(
            "Call_Softphone",
            "ПозвонитьВ_Софтфон",
            leak(vec![uuid(), ParamSpec::text("Number", "Номер")]),
        ),
        MethodSpec::function(
            "SendMessage",
            "ОтправитьСообщение",
            leak(vec![
                uuid(),
                ParamSpec::text("Mode", "Режим"),
                ParamSpec::text("Recipient", "Получатель"),
                ParamSpec::text("Text", "Текст"),
            ]),
        ),
        MethodSpec::function(
            "SubscribeToEvents",
            "ПодписатьсяНаСобытия",
            subscription_params(),
        ),
        MethodSpec::function(
            "UnSubscribeFromEvents",
            "ОтписатьсяОтСобытий",
            subscription_params(),
        ),
    ]
});

const P_LOGIN: usize = 0;
const P_CONNECTED: usize = 1;
const P_PIPE_ADDRESS: usize = 2;
const P_AUTO_RECONNECT: usize = 3;
const P_COMMAND_TIMEOUT: usize = 4;

const PROPS: &[PropSpec] = &[
    PropSpec::read_only("Login", "Логин"),
    PropSpec::read_only("Connected", "Подключено"),
    PropSpec::read_write("PipeAddress", "АдресКанала"),
    PropSpec::read_write("AutoReconnect", "АвтоПереподключение"),
    PropSpec::read_write("CommandTimeout", "ТаймаутКоманды"),
];

fn driver_subscription(method: usize) -> Option<(DriverSubscription, bool)> {
    Some(match method {
        M_SUB_STATUS => (DriverSubscription::OnlineStatus, true),
        M_UNSUB_STATUS => (DriverSubscription::OnlineStatus, false),
        M_SUB_SOFTPHONE => (DriverSubscription::Softphone, true),
        M_UNSUB_SOFTPHONE => (DriverSubscription::Softphone, false),
        M_SUB_COLLEAGUES => (DriverSubscription::ColleaguesCall, true),
        M_UNSUB_COLLEAGUES => (DriverSubscription::ColleaguesCall, false),
        M_SUB_CLIENTS => (DriverSubscription::ClientsCall, true),
        M_UNSUB_CLIENTS => (DriverSubscription::ClientsCall, false),
        M_SUB_ALL => (DriverSubscription::AllCall, true),
        M_UNSUB_ALL => (DriverSubscription::AllCall, false),
        _ => return None,
    })
}

impl From<ConnectError> for AddinError {
    fn from(error: ConnectError) -> Self {
        present::connect::error_text(&error).into()
    }
}

/// What the 1C thread asks of the worker.
enum Request {
    Connect {
        address: String,
        reply: mpsc::Sender<bool>,
    },
    Close,
    Send {
        command: Command,
        id: String,
    },
    Subscribe {
        keys: Vec<SubscriptionKey>,
        request_id: String,
    },
    Unsubscribe {
        keys: Vec<SubscriptionKey>,
        request_id: String,
    },
    SetAutoReconnect(bool),
    SetCommandTimeout(Duration),
    Stop,
}

/// What the worker publishes for the 1C thread.
#[derive(Default)]
struct Shared {
    connected: AtomicBool,
    diagnostics: Mutex<Json>,
}

struct WorkerHandle {
    requests: mpsc::Sender<Request>,
    waker: Waker,
    thread: Option<JoinHandle<()>>,
    finished: mpsc::Receiver<()>,
}

impl WorkerHandle {
    fn send(&self, request: Request) -> bool {
        let sent = self.requests.send(request).is_ok();
        self.waker.wake();
        sent
    }
}

pub struct ConnectAgent {
    ctx: ClassContext,
    login: String,
    pipe_address: String,
    auto_reconnect: bool,
    command_timeout_ms: f64,
    shared: Arc<Shared>,
    worker: Option<WorkerHandle>,
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

    fn worker(&mut self) -> Result<&WorkerHandle, AddinError> {
        if self.worker.is_none() {
            let (pipe, waker) = AgentPipe::create().map_err(|e| {
                AddinError::new(
                    format!("cannot create the agent channel: {e}"),
                    format!("не удалось создать канал агента: {e}"),
                )
            })?;
            let (requests, inbox) = mpsc::channel();
            let (finished_tx, finished) = mpsc::channel();
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
            let mut worker = Worker {
                ctx: self.ctx.clone(),
                core,
                pipe,
                inbox,
                shared: self.shared.clone(),
                address: String::new(),
                connect_reply: None,
            };
            let thread = std::thread::Builder::new()
                .name("tb-connect-agent".into())
                .spawn(move || {
                    let ctx = worker.ctx.clone();
                    let shared = worker.shared.clone();
                    // A bug must not take the 1C process down: report it and end this object's connection.
                    let outcome =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| worker.run()));
                    if let Err(panic) = outcome {
                        let detail = panic
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_default();
                        shared.connected.store(false, Ordering::Release);
                        ctx.log
                            .error("agent worker failed", json!({ "panic": detail }));
                        let en = format!(
                            "internal error in the agent worker: {detail}; create the object again"
                        );
                        let ru = format!(
                            "внутренняя ошибка потока агента: {detail}; создайте объект заново"
                        );
                        let description = ctx.lang().pick(&en, &ru).to_string();
                        ctx.events.send(
                            "Error",
                            json!({
                                "Code": "InternalError",
                                "Description": description,
                                "DescriptionEn": en,
                                "DescriptionRu": ru,
                            }),
                        );
                    }
                    drop(finished_tx);
                })
                .map_err(|e| {
                    AddinError::new(
                        format!("cannot start the agent worker thread: {e}"),
                        format!("не удалось запустить поток агента: {e}"),
                    )
                })?;
            self.worker = Some(WorkerHandle {
                requests,
                waker,
                thread: Some(thread),
                finished,
            });
        }
        self.worker
            .as_ref()
            .ok_or_else(|| AddinError::new("worker missing", "нет потока"))
    }

    fn request(&mut self, request: Request) -> Result<(), AddinError> {
        if self.worker()?.send(request) {
            Ok(())
        } else {
            Err(AddinError::new(
                "the agent worker thread has stopped; create the object again",
                "поток агента остановлен; создайте объект заново",
            ))
        }
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
            return Err(AddinError::new(
                "Login is empty; pass the 1C-Connect login (or set PipeAddress)",
                "Логин не задан; укажите логин 1С-Коннект (или задайте АдресКанала)",
            ));
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

    fn general_keys(args: &[Value]) -> Result<Vec<SubscriptionKey>, AddinError> {
        let (mode, object, initiator) = (args[0].as_str(), args[1].as_str(), args[2].as_str());
        if mode.trim().is_empty() || object.trim().is_empty() {
            return Err(AddinError::new(
                "Mode and Object must not be empty (e.g. Mode \"Softphone\", Object \"Call\")",
                "Режим и Объект не должны быть пустыми (например, Режим \"Softphone\", Объект \"Call\")",
            ));
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

    fn methods() -> &'static [MethodSpec] {
        METHODS.as_slice()
    }

    fn props() -> &'static [PropSpec] {
        PROPS
    }

    fn new(ctx: ClassContext) -> Self {
        ConnectAgent {
            ctx,
            login: String::new(),
            pipe_address: String::new(),
            auto_reconnect: true,
            command_timeout_ms: DEFAULT_COMMAND_TIMEOUT_MS,
            shared: Arc::new(Shared::default()),
            worker: None,
        }
    }

    fn call(&mut self, method: usize, args: &[Value]) -> Result<Value, AddinError> {
        if let Some((driver, subscribe)) = driver_subscription(method) {
            return self.subscription(driver.keys(), subscribe);
        }
        match method {
            M_CONNECT => self.connect(args[0].as_str()),
            M_CLOSE => {
                if self.worker.is_some() {
                    self.request(Request::Close)?;
                }
                Ok(Value::Empty)
            }
            M_CHANGE_STATUS => {
                let command = Command::change_online_status(args[1].as_str())?;
                self.send_command(command, Self::id_or_new(&args[0]))
            }
            M_CALL => {
                let command = Command::call_softphone(args[1].as_str())?;
                self.send_command(command, Self::id_or_new(&args[0]))
            }
            M_SEND_MESSAGE => {
                let recipient = Recipient::from_json(args[1].as_str(), args[2].as_str())?;
                let command = Command::SendMessage {
                    recipient,
                    text: args[3].as_str().to_string(),
                };
                self.send_command(command, Self::id_or_new(&args[0]))
            }
            M_SUBSCRIBE => {
                let keys = Self::general_keys(args)?;
                self.subscription(keys, true)
            }
            M_UNSUBSCRIBE => {
                let keys = Self::general_keys(args)?;
                self.subscription(keys, false)
            }
            _ => Err(AddinError::new("no such method", "нет такого метода")),
        }
    }

    fn get_prop(&mut self, prop: usize) -> Result<Value, AddinError> {
        Ok(match prop {
            P_LOGIN => Value::Str(self.login.clone()),
            P_CONNECTED => Value::Bool(self.shared.connected.load(Ordering::Acquire)),
            P_PIPE_ADDRESS => Value::Str(self.effective_address()),
            P_AUTO_RECONNECT => Value::Bool(self.auto_reconnect),
            P_COMMAND_TIMEOUT => Value::Num(self.command_timeout_ms),
            _ => return Err(AddinError::new("no such property", "нет такого свойства")),
        })
    }

    fn set_prop(&mut self, prop: usize, value: &Value) -> Result<(), AddinError> {
        match prop {
            P_PIPE_ADDRESS => {
                self.pipe_address = match value {
                    Value::Str(s) => s.trim().to_string(),
                    Value::Empty => String::new(),
                    _ => {
                        return Err(AddinError::new(
                            "PipeAddress must be a String (empty: derived from Login)",
                            "АдресКанала должен быть Строкой (пусто — по логину)",
                        ))
                    }
                };
                Ok(())
            }
            P_AUTO_RECONNECT => {
                let enabled = value.as_bool().ok_or_else(|| {
                    AddinError::new(
                        "AutoReconnect must be a Boolean",
                        "АвтоПереподключение должно быть Булево",
                    )
                })?;
                self.auto_reconnect = enabled;
                if self.worker.is_some() {
                    self.request(Request::SetAutoReconnect(enabled))?;
                }
                Ok(())
            }
            P_COMMAND_TIMEOUT => {
                let ms = value
                    .as_f64()
                    .filter(|ms| ms.is_finite() && *ms >= 1.0 && *ms <= MAX_COMMAND_TIMEOUT_MS)
                    .ok_or_else(|| {
                        AddinError::new(
                            "CommandTimeout must be a Number of milliseconds from 1 to 86400000",
                            "ТаймаутКоманды должен быть Числом миллисекунд от 1 до 86400000",
                        )
                    })?;
                self.command_timeout_ms = ms;
                if self.worker.is_some() {
                    let timeout = self.command_timeout();
                    self.request(Request::SetCommandTimeout(timeout))?;
                }
                Ok(())
            }
            _ => Err(AddinError::new(
                "the property is read-only",
                "свойство только для чтения",
            )),
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
        }
        state
    }

    fn shutdown(&mut self) {
        let Some(mut worker) = self.worker.take() else {
            return;
        };
        worker.send(Request::Stop);
        match worker.finished.recv_timeout(STOP_WAIT) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                self.ctx.log.warn(
                    "agent worker did not stop in time; left detached",
                    json!({ "waited_ms": STOP_WAIT.as_millis() as u64 }),
                );
            }
            _ => {
                if let Some(thread) = worker.thread.take() {
                    let _ = thread.join();
                }
            }
        }
        self.shared.connected.store(false, Ordering::Release);
    }
}

/// The thread that owns the pipe and the protocol core.
struct Worker {
    ctx: ClassContext,
    core: Core,
    pipe: AgentPipe,
    inbox: mpsc::Receiver<Request>,
    shared: Arc<Shared>,
    address: String,
    connect_reply: Option<mpsc::Sender<bool>>,
}

impl Worker {
    fn run(&mut self) {
        loop {
            loop {
                match self.inbox.try_recv() {
                    Ok(Request::Stop) | Err(mpsc::TryRecvError::Disconnected) => {
                        self.pipe.close();
                        self.shared.connected.store(false, Ordering::Release);
                        return;
                    }
                    Ok(request) => self.apply(request),
                    Err(mpsc::TryRecvError::Empty) => break,
                }
            }
            self.core.handle_timeout(Instant::now());
            self.drive();
            let timeout = self
                .core
                .next_timeout()
                .map(|deadline| deadline.saturating_duration_since(Instant::now()));
            match self.pipe.wait(timeout) {
                Ok(Readiness::Data(bytes)) => self.core.handle_bytes(&bytes, Instant::now()),
                Ok(Readiness::Closed) => {
                    self.pipe.close();
                    self.core
                        .handle_closed(Instant::now(), DisconnectReason::ClosedByAgent);
                }
                Ok(Readiness::Idle) => {}
                Err(error) => {
                    if self.pipe.is_open() {
                        self.pipe.close();
                        self.core.handle_closed(
                            Instant::now(),
                            DisconnectReason::TransportError(format!("read failed: {error}")),
                        );
                    } else {
                        // The waiting primitive itself failed; avoid spinning while it recovers.
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            }
        }
    }

    fn apply(&mut self, request: Request) {
        let now = Instant::now();
        match request {
            Request::Connect { address, reply } => {
                if address != self.address && self.core.state() != State::Idle {
                    // Another login: leave the old agent first.
                    self.core.close(now);
                    self.drive();
                }
                self.address = address;
                if self.core.is_connected() {
                    let _ = reply.send(true);
                } else {
                    self.connect_reply = Some(reply);
                    self.core.connect(now);
                }
            }
            Request::Close => self.core.close(now),
            Request::Send { command, id } => {
                self.core.send(command, Some(&id), now);
            }
            Request::Subscribe { keys, request_id } => {
                self.core.subscribe(&keys, Some(&request_id), now);
            }
            Request::Unsubscribe { keys, request_id } => {
                self.core.unsubscribe(&keys, Some(&request_id), now);
            }
            Request::SetAutoReconnect(enabled) => self.core.set_auto_reconnect(enabled, now),
            Request::SetCommandTimeout(timeout) => self.core.set_command_timeout(timeout),
            Request::Stop => {}
        }
    }

    /// Run the core's outputs until it has nothing more to say.
    fn drive(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(transmit) = self.core.poll_transmit() {
                progressed = true;
                match transmit {
                    Transmit::Open => self.open(),
                    Transmit::Close => self.pipe.close(),
                    Transmit::Bytes(bytes) => {
                        if let Err(error) = self.pipe.write_all(&bytes, WRITE_TIMEOUT) {
                            self.pipe.close();
                            self.core.handle_closed(
                                Instant::now(),
                                DisconnectReason::TransportError(format!("write failed: {error}")),
                            );
                        }
                    }
                }
            }
            while let Some(event) = self.core.poll_event() {
                progressed = true;
                self.emit(event);
            }
            if !progressed {
                break;
            }
        }
        self.shared
            .connected
            .store(self.core.is_connected(), Ordering::Release);
        *self.shared.diagnostics.lock() = present::connect::diagnostics(&self.core);
    }

    fn open(&mut self) {
        let now = Instant::now();
        if self.address.is_empty() {
            self.core
                .handle_open_failed(now, "no address (Login and PipeAddress are empty)");
            self.reply_connect(false);
            return;
        }
        match self.pipe.open(&self.address, OPEN_TIMEOUT) {
            Ok(()) => {
                self.core.handle_opened(Instant::now());
                self.reply_connect(true);
            }
            Err(error) => {
                let reason = format!("{}: {error}", self.address);
                self.core.handle_open_failed(Instant::now(), &reason);
                self.reply_connect(false);
            }
        }
    }

    fn reply_connect(&mut self, opened: bool) {
        if let Some(reply) = self.connect_reply.take() {
            let _ = reply.send(opened);
        }
    }

    fn emit(&mut self, event: Event) {
        // `Connected` must already read true when the 1C form handles the Connected event (and false for
        // Disconnected).
        self.shared
            .connected
            .store(self.core.is_connected(), Ordering::Release);
        let log = &self.ctx.log;
        match &event {
            Event::ConnectFailed { reason, retry_in } => log.debug(
                "agent connect attempt failed",
                json!({ "reason": reason, "retry_in_ms": retry_in.map(|d| d.as_millis() as u64) }),
            ),
            Event::Connected { .. } => {
                log.info("agent connected", json!({ "address": self.address }))
            }
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
        if let Some((name, data)) = present::connect::event(&event, self.ctx.lang()) {
            self.ctx.events.send(&name, data);
        }
    }
}
