//! 1C vocabulary of class `ConnectAgent` over the `tb-connect` core: event names and Data, Diagnostics, the driver's
//! subscription method names, and every text in both languages.

use serde_json::{json, Map, Value as Json};
use tb_connect::{
    AgentErrorCode, CommandOutcome, CommandProblem, ConnectError, Core, DesyncCause,
    DisconnectReason, Event, Failure, LocalOutcome, State,
};

use super::{Lang, Text};

/// The `Error` event of a worker that failed (code `InternalError`): the object must be created again.
pub fn worker_failed(text: &Text, lang: Lang) -> (&'static str, Json) {
    let data = json!({
        "Code": "InternalError",
        "Description": text.pick(lang),
        "DescriptionEn": text.en,
        "DescriptionRu": text.ru,
    });
    ("Error", data)
}

/// The 1C event for a core event, or `None` for facts that only go to the log (a failed connect attempt).
pub fn event(event: &Event, lang: Lang) -> Option<(String, Json)> {
    let (name, data) = match event {
        Event::Connected {
            reconnect,
            resubscribed,
        } => (
            "Connected".to_string(),
            json!({ "Reconnect": reconnect, "Resubscribed": resubscribed }),
        ),
        Event::Disconnected {
            reason,
            will_reconnect,
            retry_in,
        } => {
            let text = disconnect_text(reason);
            (
                "Disconnected".to_string(),
                json!({
                    "Reason": disconnect_code(reason),
                    "DescriptionEn": text.en,
                    "DescriptionRu": text.ru,
                    "WillReconnect": will_reconnect,
                    "RetryInMs": retry_in.map(|d| d.as_millis() as u64),
                    "Description": text.pick(lang),
                }),
            )
        }
        Event::ConnectFailed { .. } => return None,
        Event::Agent(agent) => {
            let mut data = Json::Object(agent.data.clone());
            if matches!(agent.object, Some(tb_connect::EventObject::Call)) {
                attach_normalized_call(&mut data);
            }
            (agent_event_name(agent.object.as_ref()), data)
        }
        Event::CommandResult(outcome) => ("CommandResult".to_string(), outcome_data(outcome, lang)),
        Event::Error(error) => ("Error".to_string(), error_data(error, lang)),
    };
    Some((name, data))
}

/// The name every agent event with an object other than the documented ones arrives under (the object itself
/// is in Data, field `Object`). The agent's own text never becomes an event name: an agent (or whoever speaks on
/// its channel) could otherwise raise `Connected`, `Error`, `CommandResult` or `EventsDropped` as if the add-in
/// had.
pub const UNKNOWN_AGENT_EVENT: &str = "Event";

/// The documented objects (`Call`, `Message`, …) name their events; anything else is [`UNKNOWN_AGENT_EVENT`].
fn agent_event_name(object: Option<&tb_connect::EventObject>) -> String {
    match object {
        Some(object) if object.is_known() => object.as_str().to_string(),
        _ => UNKNOWN_AGENT_EVENT.to_string(),
    }
}

/// A `Call` event also carries the normalized call model shared with UIScom and Binotel (`Normalized`), when the
/// event has the fields for it (a `CallID` and a `State`).
fn attach_normalized_call(data: &mut Json) {
    let Ok(call) = tb_calls::connect::normalize_call_event(data, tb_calls::UtcOffset::UTC) else {
        return;
    };
    let Ok(mut normalized) = serde_json::to_value(&call) else {
        return;
    };
    if let Json::Object(map) = &mut normalized {
        map.remove("raw"); // the event itself is the raw form
    }
    if let Json::Object(map) = data {
        map.insert("Normalized".into(), normalized);
    }
}

/// `Data` of the `CommandResult` event.
fn outcome_data(outcome: &CommandOutcome, lang: Lang) -> Json {
    let (error, code, text) = match &outcome.failure {
        None => (String::new(), String::new(), Text::new("", "")),
        Some(Failure::Agent { text, code }) => (
            text.clone(),
            code.map_or("Unknown", agent_error_code).to_string(),
            agent_error_text(*code, text),
        ),
        Some(Failure::Local { outcome, timeout }) => {
            let text = local_text(*outcome, timeout.as_millis());
            (text.en.clone(), local_code(*outcome).to_string(), text)
        }
    };
    let mut data = Map::new();
    data.insert("ID".into(), outcome.id.clone().into());
    data.insert("RequestID".into(), outcome.request_id.clone().into());
    data.insert("Action".into(), outcome.action.clone().into());
    data.insert("Result".into(), outcome.result.clone().into());
    data.insert("Error".into(), error.into());
    data.insert("ErrorCode".into(), code.into());
    data.insert("ErrorDescriptionEn".into(), text.en.clone().into());
    data.insert("ErrorDescriptionRu".into(), text.ru.clone().into());
    data.insert("Success".into(), outcome.failure.is_none().into());
    data.insert("Matched".into(), outcome.matched.into());
    data.insert("Automatic".into(), outcome.automatic.into());
    data.insert("Local".into(), outcome.local.into());
    data.insert(
        "ElapsedMs".into(),
        outcome
            .elapsed
            .map_or(Json::Null, |d| (d.as_millis() as u64).into()),
    );
    if let Some(key) = &outcome.subscription {
        data.insert("Mode".into(), key.mode.as_str().into());
        data.insert("Object".into(), key.object.as_str().into());
        data.insert("Initiator".into(), key.initiator.as_str().into());
    }
    for (key, value) in &outcome.extra {
        data.entry(key.clone()).or_insert_with(|| value.clone());
    }
    data.insert("ErrorDescription".into(), text.pick(lang).into());
    Json::Object(data)
}

/// `Data` of the `Error` event: a stable code, both languages, the location when there is one.
fn error_data(error: &ConnectError, lang: Lang) -> Json {
    let text = error_text(error);
    let mut data = Map::new();
    data.insert("Code".into(), error_code(error).into());
    data.insert("DescriptionEn".into(), text.en.clone().into());
    data.insert("DescriptionRu".into(), text.ru.clone().into());
    let (frame, offset) = error.location();
    if let Some(frame) = frame {
        data.insert("Frame".into(), frame.into());
    }
    if let Some(offset) = offset {
        data.insert("StreamOffset".into(), offset.into());
    }
    data.insert("Description".into(), text.pick(lang).into());
    Json::Object(data)
}

/// The core's part of `Diagnostics().state`.
pub fn diagnostics(core: &Core) -> Json {
    let s = core.stats();
    json!({
        "state": state_name(core.state()),
        "subscriptions": core.subscriptions().map(ToString::to_string).collect::<Vec<_>>(),
        "pending_commands": core.pending_count(),
        "queued_commands": core.queued_count(),
        "reconnect_failures": core.reconnect_failures(),
        "connections": s.connections,
        "connect_failures": s.connect_failures,
        "frames": s.frames,
        "events": s.events,
        "command_results": s.command_results,
        "errors": s.errors,
        "commands_sent": s.commands_sent,
        "bytes_received": s.bytes_received,
        "bytes_sent": s.bytes_sent,
    })
}

pub fn state_name(state: State) -> &'static str {
    match state {
        State::Idle => "Idle",
        State::WaitingToReconnect => "WaitingToReconnect",
        State::Opening => "Opening",
        State::Open => "Open",
    }
}

/// `Data.Reason` of `Disconnected`.
pub fn disconnect_code(reason: &DisconnectReason) -> &'static str {
    match reason {
        DisconnectReason::ClosedByUser => "ClosedByUser",
        DisconnectReason::ClosedByAgent => "ClosedByAgent",
        DisconnectReason::TransportError(_) => "TransportError",
        DisconnectReason::Desynchronized => "Desynchronized",
        DisconnectReason::Stalled => "Stalled",
    }
}

pub fn disconnect_text(reason: &DisconnectReason) -> Text {
    match reason {
        DisconnectReason::ClosedByUser => Text::new(
            "the connection was closed by the program",
            "подключение закрыто программой",
        ),
        DisconnectReason::ClosedByAgent => Text::new(
            "the 1C-Connect agent closed the connection",
            "агент 1С-Коннект закрыл подключение",
        ),
        DisconnectReason::TransportError(detail) => Text::new(
            format!("connection error: {detail}"),
            format!("ошибка подключения: {detail}"),
        ),
        DisconnectReason::Desynchronized => Text::new(
            "the agent's stream was desynchronized; the connection was reset",
            "поток агента рассинхронизирован; подключение сброшено",
        ),
        DisconnectReason::Stalled => Text::new(
            "the agent stopped answering (a message cut off, or several commands without an answer); the connection was reset",
            "агент перестал отвечать (сообщение оборвалось или несколько команд остались без ответа); подключение сброшено",
        ),
    }
}

/// `Data.ErrorCode` of a command the add-in answered itself.
fn local_code(outcome: LocalOutcome) -> &'static str {
    match outcome {
        LocalOutcome::Timeout => "Timeout",
        LocalOutcome::NotConnected => "NotConnected",
        LocalOutcome::ConnectionLost => "ConnectionLost",
        LocalOutcome::ConnectionClosed => "ConnectionClosed",
        LocalOutcome::HandledLocally => "",
    }
}

fn local_text(outcome: LocalOutcome, ms: u128) -> Text {
    match outcome {
        LocalOutcome::Timeout => Text::new(
            format!("the agent did not answer within {ms} ms"),
            format!("агент не ответил за {ms} мс"),
        ),
        LocalOutcome::NotConnected => Text::new(
            format!("not sent: no connection to the agent within {ms} ms"),
            format!("не отправлена: нет подключения к агенту в течение {ms} мс"),
        ),
        LocalOutcome::ConnectionLost => Text::new(
            "the connection dropped before the agent answered; the command may or may not have been executed",
            "подключение прервалось до ответа агента; команда могла как выполниться, так и нет",
        ),
        LocalOutcome::ConnectionClosed => Text::new(
            "the connection was closed before the agent answered",
            "подключение закрыто до ответа агента",
        ),
        LocalOutcome::HandledLocally => Text::new("", ""),
    }
}

/// `Data.ErrorCode` of a documented agent error constant.
fn agent_error_code(code: AgentErrorCode) -> &'static str {
    match code {
        AgentErrorCode::ActionNotRecognized => "ActionNotRecognized",
        AgentErrorCode::InitiatorNotRecognized => "InitiatorNotRecognized",
        AgentErrorCode::ModeNotRecognized => "ModeNotRecognized",
        AgentErrorCode::ObjectOrActionNotRecognized => "ObjectOrActionNotRecognized",
        AgentErrorCode::StatusNotRecognized => "StatusNotRecognized",
        AgentErrorCode::XmlParsingError => "XmlParsingError",
        AgentErrorCode::UnableToFindUserForService => "UnableToFindUserForService",
        AgentErrorCode::ServiceIdNotFound => "ServiceIdNotFound",
        AgentErrorCode::UnableToFindColleague => "UnableToFindColleague",
        AgentErrorCode::AgentIsOffline => "AgentIsOffline",
        AgentErrorCode::AgentNotLogged => "AgentNotLogged",
        AgentErrorCode::StatusNotPossible => "StatusNotPossible",
    }
}

/// What an agent `<Error>` means (seed, section 2.2.1); `text` is the agent's own words for undocumented ones.
fn agent_error_text(code: Option<AgentErrorCode>, text: &str) -> Text {
    let Some(code) = code else {
        return Text::new(
            format!("The agent reported an undocumented error: {text}"),
            format!("Агент сообщил о недокументированной ошибке: {text}"),
        );
    };
    match code {
        AgentErrorCode::ActionNotRecognized => Text::new(
            "The agent did not recognise the command's Action attribute",
            "Агент не распознал атрибут Action команды",
        ),
        AgentErrorCode::InitiatorNotRecognized => Text::new(
            "The agent did not recognise the Initiator attribute (expected Incoming or Self)",
            "Агент не распознал атрибут Initiator (ожидается Incoming или Self)",
        ),
        AgentErrorCode::ModeNotRecognized => Text::new(
            "The agent did not recognise the Mode attribute (expected ServicesClients, Colleagues or Softphone)",
            "Агент не распознал атрибут Mode (ожидается ServicesClients, Colleagues или Softphone)",
        ),
        AgentErrorCode::ObjectOrActionNotRecognized => Text::new(
            "The agent did not recognise the command's Object (or Action) attribute",
            "Агент не распознал атрибут Object (или Action) команды",
        ),
        AgentErrorCode::StatusNotRecognized => Text::new(
            "The agent did not recognise the Status tag (allowed: Online, Away, DoNotDisturb, BusyForNewRequests)",
            "Агент не распознал тег Status (допустимы Online, Away, DoNotDisturb, BusyForNewRequests)",
        ),
        AgentErrorCode::XmlParsingError => Text::new(
            "The agent could not parse the command's XML",
            "Агент не смог разобрать XML команды",
        ),
        AgentErrorCode::UnableToFindUserForService => Text::new(
            "The agent found no user (UserID) for the given ServiceID",
            "Агент не нашел UserID по указанному ServiceID",
        ),
        AgentErrorCode::ServiceIdNotFound => Text::new(
            "The agent did not find the given ServiceID",
            "Агент не нашел указанный ServiceID",
        ),
        AgentErrorCode::UnableToFindColleague => Text::new(
            "The agent did not find the colleague by the given ID",
            "Агент не нашел коллегу по указанному идентификатору",
        ),
        AgentErrorCode::AgentIsOffline => Text::new(
            "The agent is offline: the message was not sent",
            "Агент не в сети: сообщение не отправлено",
        ),
        AgentErrorCode::AgentNotLogged => Text::new(
            "The agent is not logged in to 1C-Connect",
            "Агент не авторизован (не выполнен вход в 1С-Коннект)",
        ),
        AgentErrorCode::StatusNotPossible => Text::new(
            "This status cannot be set (for example, Talking)",
            "Нет возможности установить заданный статус (например, «Разговариваю»)",
        ),
    }
}

/// `Data.Code` of the `Error` event.
pub fn error_code(error: &ConnectError) -> &'static str {
    match error {
        ConnectError::FrameTooLarge { .. } => "FrameTooLarge",
        ConnectError::Desynchronized { .. } => "Desynchronized",
        ConnectError::TruncatedFrame { .. } => "TruncatedFrame",
        ConnectError::InvalidUtf16 { .. } => "InvalidUtf16",
        ConnectError::MalformedXml { .. } => "MalformedXml",
        ConnectError::UnexpectedRoot { .. } => "UnexpectedRoot",
        ConnectError::InvalidCommand(_) => "InvalidCommand",
    }
}

/// Every message names what went wrong and where (message number, byte offset since the connection opened,
/// element), so a 1C developer can tell a broken agent from a broken network.
pub fn error_text(error: &ConnectError) -> Text {
    match error {
        ConnectError::FrameTooLarge {
            frame,
            stream_offset,
            declared,
            cap,
        } => Text::new(
            format!(
                "agent message #{frame} (stream offset {stream_offset}) declares {declared} bytes, more than the \
                 {cap}-byte cap; the message was skipped and the connection continues"
            ),
            format!(
                "сообщение агента №{frame} (смещение {stream_offset} байт в потоке) объявляет длину {declared} байт, \
                 больше допустимых {cap}; сообщение пропущено, соединение продолжает работать"
            ),
        ),
        ConnectError::Desynchronized {
            frame,
            stream_offset,
            cause,
        } => {
            let cause = desync_text(cause);
            Text::new(
                format!(
                    "agent stream desynchronized at message #{frame} (stream offset {stream_offset}): {}; \
                     message boundaries are lost, the connection will be reopened",
                    cause.en
                ),
                format!(
                    "поток агента рассинхронизирован у сообщения №{frame} (смещение {stream_offset} байт): {}; \
                     границы сообщений потеряны, соединение будет переоткрыто",
                    cause.ru
                ),
            )
        }
        ConnectError::TruncatedFrame {
            frame,
            stream_offset,
            expected,
            received,
        } => Text::new(
            format!(
                "connection closed in the middle of agent message #{frame} (stream offset {stream_offset}): \
                 expected {expected} bytes, received {received}"
            ),
            format!(
                "соединение закрылось посреди сообщения агента №{frame} (смещение {stream_offset} байт): \
                 ожидалось {expected} байт, получено {received}"
            ),
        ),
        ConnectError::InvalidUtf16 { frame, byte_offset } => Text::new(
            format!("agent message #{frame} is not valid UTF-16LE text (body byte {byte_offset})"),
            format!(
                "сообщение агента №{frame} не является корректным текстом UTF-16LE (позиция {byte_offset} байт в теле)"
            ),
        ),
        ConnectError::MalformedXml {
            frame,
            position,
            detail,
            excerpt,
        } => Text::new(
            format!(
                "agent message #{frame} is not well-formed XML (position {position}): {detail}; starts with \"{excerpt}\""
            ),
            format!(
                "сообщение агента №{frame} не является корректным XML (позиция {position}): {detail}; начало: «{excerpt}»"
            ),
        ),
        ConnectError::UnexpectedRoot { frame, tag } => Text::new(
            format!("agent message #{frame} has root element <{tag}>, expected <Event> or <CommandResult>"),
            format!(
                "сообщение агента №{frame} имеет корневой элемент <{tag}>, ожидался <Event> или <CommandResult>"
            ),
        ),
        ConnectError::InvalidCommand(problem) => command_problem_text(problem),
    }
}

fn desync_text(cause: &DesyncCause) -> Text {
    match cause {
        DesyncCause::LengthAboveLimit { declared, limit } => Text::new(
            format!("declared length {declared} exceeds the desync limit {limit}"),
            format!("объявленная длина {declared} больше предела рассинхронизации {limit}"),
        ),
        DesyncCause::OddLength { declared } => Text::new(
            format!("declared length {declared} is odd (UTF-16 bodies have even length)"),
            format!("объявленная длина {declared} нечетна (тело в UTF-16 имеет четную длину)"),
        ),
        DesyncCause::NotXmlStart { first: [b0, b1] } => Text::new(
            format!("body does not start like UTF-16LE XML: bytes {b0:02X} {b1:02X}"),
            format!("тело не похоже на XML в UTF-16LE: байты {b0:02X} {b1:02X}"),
        ),
    }
}

fn command_problem_text(problem: &CommandProblem) -> Text {
    match problem {
        CommandProblem::RecipientNotJson { reason } => Text::new(
            format!("Recipient is not valid JSON ({reason}); expected an object like {{\"ColleagueID\":\"…\"}}"),
            format!("Получатель — некорректный JSON ({reason}); ожидается объект вида {{\"ColleagueID\":\"…\"}}"),
        ),
        CommandProblem::RecipientNotObject => Text::new(
            "Recipient must be a JSON object",
            "Получатель должен быть JSON-объектом",
        ),
        CommandProblem::RecipientFieldMissing { mode, field } => Text::new(
            format!("Recipient for Mode {mode} needs a non-empty {field}"),
            format!("Для режима {mode} в получателе нужен непустой {field}"),
        ),
        CommandProblem::MessageModeInvalid { mode } => Text::new(
            format!("SendMessage Mode must be ServicesClients or Colleagues, not \"{mode}\""),
            format!("Режим SendMessage должен быть ServicesClients или Colleagues, а не «{mode}»"),
        ),
        CommandProblem::StatusEmpty => Text::new(
            "Status is empty; use Online, Away, DoNotDisturb or BusyForNewRequests",
            "Статус не задан; допустимы Online, Away, DoNotDisturb, BusyForNewRequests",
        ),
        CommandProblem::NumberEmpty => Text::new("Number is empty", "Номер не задан"),
    }
}

/// The reason of a connect attempt with no address (the worker's `Render::no_address`), in English like every
/// reason of the Disconnected event.
pub fn no_address_reason() -> String {
    "no address (Login and PipeAddress are empty)".to_string()
}

/// ConnectAgent's own refusals (the boundary names the member).
pub mod refusal {
    use super::Text;

    pub fn login_missing() -> Text {
        Text::new(
            "Login is empty; pass the 1C-Connect login (or set PipeAddress)",
            "Логин не задан; укажите логин 1С-Коннект (или задайте АдресКанала)",
        )
    }

    /// The worker is absent right after it was started: an internal fault, said plainly.
    pub fn worker_missing() -> Text {
        Text::new("worker missing", "нет потока")
    }

    pub fn pipe_address_type() -> Text {
        Text::new(
            "PipeAddress must be a String (empty: derived from Login)",
            "АдресКанала должен быть Строкой (пусто — по логину)",
        )
    }

    pub fn auto_reconnect_type() -> Text {
        Text::new(
            "AutoReconnect must be a Boolean",
            "АвтоПереподключение должно быть Булево",
        )
    }

    pub fn command_timeout_range() -> Text {
        Text::new(
            "CommandTimeout must be a Number of milliseconds from 1 to 86400000",
            "ТаймаутКоманды должен быть Числом миллисекунд от 1 до 86400000",
        )
    }

    pub fn mode_and_object_empty() -> Text {
        Text::new(
            "Mode and Object must not be empty (e.g. Mode \"Softphone\", Object \"Call\")",
            "Режим и Объект не должны быть пустыми (например, Режим \"Softphone\", Объект \"Call\")",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};
    use tb_connect::DriverSubscription;
    use tb_connect::{encode_agent_frame, Command, Config, Recipient};

    /// A core with an open link, fed by the test as the agent.
    fn open_core(config: Config) -> (Core, Instant) {
        let mut core = Core::new(config, 7);
        let t0 = Instant::now();
        core.connect(t0);
        core.handle_opened(t0);
        while core.poll_event().is_some() {}
        while core.poll_transmit().is_some() {}
        (core, t0)
    }

    fn rendered(core: &mut Core, lang: Lang) -> Vec<(String, Json)> {
        std::iter::from_fn(|| core.poll_event())
            .filter_map(|e| event(&e, lang))
            .collect()
    }

    #[test]
    fn command_results_carry_the_subscription_and_both_languages() {
        let (mut core, t0) = open_core(Config::default());
        let id = core.subscribe(&DriverSubscription::Softphone.keys()[1..], None, t0);
        core.handle_bytes(
            &encode_agent_frame(&format!(
                r#"<CommandResult Action="EventSubscribe" ID="{id}"><Result>true</Result></CommandResult>"#
            )),
            t0,
        );
        let (name, data) = rendered(&mut core, Lang::En).remove(0);
        assert_eq!(name, "CommandResult");
        assert_eq!(data["Mode"], "Softphone");
        assert_eq!(data["Initiator"], "Self");
        assert_eq!(data["Success"], true);
        assert_eq!(data["ErrorDescription"], "");

        let id = core.send(
            Command::SendMessage {
                recipient: Recipient::Colleagues {
                    colleague_id: "x".into(),
                },
                text: "hi".into(),
            },
            None,
            t0,
        );
        let answer = |error: &str| {
            encode_agent_frame(&format!(
                r#"<CommandResult Action="SendMessage" ID="{id}"><Result>true</Result><Error>{error}</Error></CommandResult>"#
            ))
        };
        core.handle_bytes(&answer("Unable to find Colleague"), t0);
        let (_, data) = rendered(&mut core, Lang::Ru).remove(0);
        assert_eq!(data["ErrorCode"], "UnableToFindColleague");
        assert_eq!(data["Success"], false);
        assert!(data["ErrorDescriptionRu"]
            .as_str()
            .unwrap()
            .contains("коллегу"));
        assert_eq!(data["ErrorDescription"], data["ErrorDescriptionRu"]);
        core.handle_bytes(&answer("brand new error"), t0);
        let (_, data) = rendered(&mut core, Lang::En).remove(0);
        assert_eq!(data["ErrorCode"], "Unknown");
        assert_eq!(data["Error"], "brand new error");
    }

    #[test]
    fn local_timeouts_say_the_timeout_in_both_languages() {
        let (mut core, t0) = open_core(Config {
            command_timeout: Duration::from_millis(2000),
            ..Config::default()
        });
        core.send(Command::change_online_status("Away").unwrap(), None, t0);
        core.handle_timeout(t0 + Duration::from_millis(2000));
        let (_, data) = rendered(&mut core, Lang::Ru).remove(0);
        assert_eq!(data["ErrorCode"], "Timeout");
        assert_eq!(data["Local"], true);
        assert_eq!(data["Error"], "the agent did not answer within 2000 ms");
        assert!(data["ErrorDescriptionRu"]
            .as_str()
            .unwrap()
            .contains("2000"));
    }

    #[test]
    fn bad_messages_become_error_events_with_codes_and_locations() {
        let (mut core, t0) = open_core(Config::default());
        let mut stream = encode_agent_frame("<Event><Broken></Event>");
        stream.extend(encode_agent_frame(r#"<Event Object="a b"/>"#));
        stream.extend(encode_agent_frame("<Event/>"));
        stream.extend(encode_agent_frame(r#"<Event Object="FileReady"/>"#));
        stream.extend([0x10, 0, 0, 0, b'G', b'E', b'T', b' ']);
        core.handle_bytes(&stream, t0);
        let events = rendered(&mut core, Lang::Ru);
        let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["Error", "Event", "Event", "Event", "Error", "Disconnected"]
        );
        assert_eq!(events[0].1["Code"], "MalformedXml");
        assert_eq!(events[0].1["Frame"], 1);
        assert!(events[0].1["DescriptionEn"]
            .as_str()
            .unwrap()
            .contains("#1"));
        assert!(events[0].1["DescriptionRu"]
            .as_str()
            .unwrap()
            .contains("№1"));
        assert_eq!(events[3].1["Object"], "FileReady", "the object is in Data");
        assert_eq!(events[4].1["Code"], "Desynchronized");
        assert_eq!(
            events[4].1["DescriptionRu"],
            "поток агента рассинхронизирован у сообщения №5 (смещение 174 байт): тело не похоже на XML в \
             UTF-16LE: байты 47 45; границы сообщений потеряны, соединение будет переоткрыто"
        );
        assert_eq!(events[5].1["Reason"], "Desynchronized");
        assert_eq!(events[5].1["Description"], events[5].1["DescriptionRu"]);
    }

    #[test]
    fn command_problems_name_the_missing_field_in_both_languages() {
        let error = Recipient::from_json("ServicesClients", r#"{"ClientID":"a"}"#).unwrap_err();
        let text = error_text(&error);
        assert_eq!(
            text.en,
            "Recipient for Mode ServicesClients needs a non-empty ServiceID"
        );
        assert!(text.ru.contains("ServiceID"));
        assert_eq!(error_code(&error), "InvalidCommand");
    }

    #[test]
    fn a_failed_worker_says_so_in_the_error_shape() {
        let (name, data) = worker_failed(&Text::new("error: boom", "ошибка: boom"), Lang::Ru);
        assert_eq!(name, "Error");
        assert_eq!(data["Code"], "InternalError");
        assert_eq!(data["Description"], data["DescriptionRu"]);
        assert!(data["DescriptionEn"].as_str().unwrap().contains("boom"));
        super::super::events::assert_declared("ConnectAgent", name, &data);
    }

    #[test]
    fn diagnostics_keys_are_snake_case() {
        let (core, _) = open_core(Config::default());
        let diagnostics = diagnostics(&core);
        assert_eq!(diagnostics["state"], "Open");
        for key in diagnostics.as_object().unwrap().keys() {
            assert!(
                key.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{key}"
            );
        }
    }
}
