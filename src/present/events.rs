//! Every event the add-in raises, declared as data: its name, the class that raises it and the fields of its
//! `Data`. README.md's event reference is generated from this table (`tests/readme_reference.rs`), and the tests
//! below render each class's events and check that every name and every field they produce is declared here.

/// One field of an event's `Data`.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    /// What it holds, for the README (Russian: user documentation).
    pub about: &'static str,
}

/// One event: `ВнешнееСобытие(Источник, Событие, Данные)` with `Событие` = `name`.
#[derive(Debug, Clone, Copy)]
pub struct EventSpec {
    pub name: &'static str,
    /// The class that raises it, or `все` for the events of every class.
    pub class: &'static str,
    pub about: &'static str,
    pub fields: &'static [Field],
    /// Besides `fields`, `Data` carries what the peer sent (every attribute and tag of an agent event).
    pub open: bool,
}

const fn field(name: &'static str, about: &'static str) -> Field {
    Field { name, about }
}

const fn event(
    name: &'static str,
    class: &'static str,
    about: &'static str,
    fields: &'static [Field],
) -> EventSpec {
    EventSpec {
        name,
        class,
        about,
        fields,
        open: false,
    }
}

const fn agent_event(
    name: &'static str,
    about: &'static str,
    fields: &'static [Field],
) -> EventSpec {
    EventSpec {
        name,
        class: "ConnectAgent",
        about,
        fields,
        open: true,
    }
}

const DESCRIPTIONS: [Field; 3] = [
    field("Description", "текст на языке пользователя"),
    field("DescriptionRu", "текст по-русски"),
    field("DescriptionEn", "текст по-английски"),
];

const AGENT_ATTRIBUTES: &str =
    "все атрибуты (`Time`, `Mode`, `Object`, `Initiator`, `ID`) и теги `<Event>`";

pub const EVENTS: &[EventSpec] = &[
    event(
        "TestEvent",
        "все",
        "ответ на `СгенерироватьТестовыеСобытия`",
        &[field("n", "номер"), field("count", "всего")],
    ),
    event(
        "EventsDropped",
        "все",
        "события потеряны: очередь объекта переполнилась или одно событие больше всей очереди (32 МиБ)",
        &[
            field("count", "сколько событий потеряно с прошлого уведомления"),
            field("total", "всего за жизнь объекта"),
        ],
    ),
    event(
        "Connected",
        "ConnectAgent",
        "канал к агенту открыт",
        &[
            field("Reconnect", "Булево: это не первое подключение объекта"),
            field("Resubscribed", "сколько подписок отправлено заново"),
        ],
    ),
    event(
        "Disconnected",
        "ConnectAgent",
        "канал к агенту закрыт",
        &[
            field("Reason", "`ClosedByAgent`, `TransportError`, `Desynchronized`, `Stalled` (агент замолчал посреди сообщения или не ответил на несколько команд подряд) или `ClosedByUser`"),
            field("WillReconnect", "Булево: будет ли переподключение"),
            field("RetryInMs", "через сколько миллисекунд следующая попытка"),
            DESCRIPTIONS[0],
            DESCRIPTIONS[1],
            DESCRIPTIONS[2],
        ],
    ),
    event(
        "CommandResult",
        "ConnectAgent",
        "ровно один ответ на каждую команду",
        &[
            field("ID", "идентификатор команды"),
            field("RequestID", "идентификатор, который вернул метод"),
            field("Action", "действие команды"),
            field("Result", "`<Result>` ответа агента"),
            field("Success", "Булево: ошибки нет"),
            field("Error", "текст ошибки агента как есть (или причина от компоненты)"),
            field("ErrorCode", "код ошибки"),
            field("ErrorDescription", "расшифровка на языке пользователя"),
            field("ErrorDescriptionRu", "расшифровка по-русски"),
            field("ErrorDescriptionEn", "расшифровка по-английски"),
            field("Mode", "для подписок: режим"),
            field("Object", "для подписок: объект"),
            field("Initiator", "для подписок: инициатор"),
            field("Matched", "Булево: ответ на ожидавшую команду этого объекта"),
            field("Automatic", "Булево: ответ на повторную подписку после переподключения"),
            field("Local", "Булево: результат сформировала компонента"),
            field("ElapsedMs", "миллисекунд от отправки до ответа"),
        ],
    ),
    event(
        "Error",
        "ConnectAgent",
        "плохое сообщение от агента или сбой потока компоненты",
        &[
            field("Code", "код ошибки"),
            field("Frame", "номер сообщения с начала подключения"),
            field("StreamOffset", "смещение в байтах, где применимо"),
            DESCRIPTIONS[0],
            DESCRIPTIONS[1],
            DESCRIPTIONS[2],
        ],
    ),
    agent_event(
        "AgentOnlineStatus",
        "онлайн-статус агента",
        &[field("Status", "`Connecting`, `Online`, `Away`, `Talking`, `DoNotDisturb`, `BusyForNewRequests`")],
    ),
    agent_event(
        "Message",
        "сообщение в чате",
        &[
            field("MessageID", "идентификатор сообщения"),
            field("MessageBody", "текст"),
        ],
    ),
    agent_event(
        "Call",
        "звонок",
        &[
            field("CallID", "идентификатор звонка"),
            field("State", "`Started`, `CallAccepted`, `CallInProgress`, `Finished`, `MP3RecordReady`, `CallError`"),
            field("Normalized", "тот же звонок в общей модели звонков (если есть `CallID` и `State`)"),
        ],
    ),
    agent_event(
        "RemoteAccessSession",
        "сеанс удалённого доступа",
        &[field("SessionID", "идентификатор сеанса")],
    ),
    agent_event(
        "Treatment",
        "обращение",
        &[field("TreatmentID", "идентификатор обращения")],
    ),
    agent_event(
        "Event",
        "событие агента с любым другим `Object` (или без него): значение — в поле `Object`; имена компоненты (`Connected`, `Error`, …) агенту недоступны",
        &[],
    ),
    event(
        "Connected",
        "Centrifugo",
        "подключение к серверу установлено",
        &[
            field("client", "id клиента"),
            field("version", "версия сервера"),
            field("data", "если сервер передал"),
        ],
    ),
    event(
        "Disconnected",
        "Centrifugo",
        "подключение к серверу потеряно или закрыто",
        &[
            field("code", "код"),
            field("reason", "причина"),
            field("reconnect", "Булево: будет ли переподключение"),
        ],
    ),
    event(
        "Subscribed",
        "Centrifugo",
        "подписка на канал действует",
        &[
            field("channel", "канал"),
            field("recovered", "Булево: пропущенные публикации восстановлены"),
            field("was_recovering", "Булево: восстановление требовалось"),
            field("recoverable", "Булево: у канала есть история"),
            field("offset", "позиция в потоке канала"),
            field("epoch", "эпоха потока канала"),
        ],
    ),
    event(
        "Unsubscribed",
        "Centrifugo",
        "подписка закончилась (в т. ч. отказ в подписке)",
        &[
            field("channel", "канал"),
            field("code", "код"),
            field("reason", "причина"),
        ],
    ),
    event(
        "Publication",
        "Centrifugo",
        "публикация в канале",
        &[
            field("channel", "канал"),
            field("data", "опубликованный JSON как есть"),
            field("offset", "0, если у канала нет истории"),
            field("info", "если есть: `user`, `client`, …"),
            field("tags", "если есть"),
        ],
    ),
    event(
        "TokenExpiring",
        "Centrifugo",
        "нужен новый токен",
        &[field("channel", "пусто — токен подключения, иначе — токен подписки на этот канал")],
    ),
    event(
        "Error",
        "Centrifugo",
        "ошибка клиента",
        &[
            field(
                "type",
                "`transport`, `connect`, `subscribe`, `refresh`, `subscription refresh`, `protocol`, `internal` (сбой потока компоненты)",
            ),
            field("code", "код"),
            field("message", "сообщение"),
            field("channel", "канал, если ошибка о нём"),
        ],
    ),
];

/// The declaration of event `name` of `class` (the events of every class count for each class).
pub fn find(class: &str, name: &str) -> Option<&'static EventSpec> {
    EVENTS
        .iter()
        .find(|spec| spec.name == name && (spec.class == class || spec.class == "все"))
}

/// The event reference in Markdown, as README.md shows it.
pub fn reference() -> String {
    let mut out =
        String::from("| Событие | Класс | Когда | Поля `Данные` |\n| --- | --- | --- | --- |\n");
    for spec in EVENTS {
        let mut fields: Vec<String> = spec
            .fields
            .iter()
            .map(|f| format!("`{}` — {}", f.name, f.about))
            .collect();
        if spec.open {
            fields.insert(0, AGENT_ATTRIBUTES.to_string());
        }
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            spec.name,
            spec.class,
            spec.about,
            fields.join("; ")
        ));
    }
    out
}

/// Checks a rendered event against its declaration: the name is declared for the class and, for a closed
/// declaration, every field of `data` is declared. Used by the tests of each class's renderer.
#[cfg(test)]
pub fn assert_declared(class: &str, name: &str, data: &serde_json::Value) {
    let spec = find(class, name).unwrap_or_else(|| panic!("{class}: event {name} is not declared"));
    if spec.open {
        return;
    }
    for key in data.as_object().expect("Data is an object").keys() {
        assert!(
            spec.fields.iter().any(|f| f.name == key),
            "{class}.{name}: field {key} is not declared"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::Lang;
    use std::time::{Duration, Instant};

    #[test]
    fn no_event_is_declared_twice_for_a_class() {
        for (i, a) in EVENTS.iter().enumerate() {
            for b in &EVENTS[i + 1..] {
                assert!(
                    !(a.name == b.name && a.class == b.class),
                    "{} twice",
                    a.name
                );
            }
        }
    }

    #[test]
    fn every_connect_agent_event_is_declared() {
        use tb_connect::{
            encode_agent_frame, Command, Config, Core, DisconnectReason, DriverSubscription,
        };
        let t0 = Instant::now();
        let mut core = Core::new(
            Config {
                command_timeout: Duration::from_millis(10),
                ..Config::default()
            },
            1,
        );
        core.connect(t0);
        core.handle_opened(t0);
        core.subscribe(&DriverSubscription::Softphone.keys(), None, t0);
        core.send(Command::call_softphone("1").unwrap(), None, t0);
        let mut stream = Vec::new();
        for xml in [
            r#"<Event Object="Call"><CallID>1</CallID><State>Started</State></Event>"#,
            r#"<Event Object="AgentOnlineStatus"><Status>Online</Status></Event>"#,
            r#"<Event Object="Message"/>"#,
            r#"<Event Object="RemoteAccessSession"/>"#,
            r#"<Event Object="Treatment"/>"#,
            "<Event/>",
            "<Broken",
        ] {
            stream.extend(encode_agent_frame(xml));
        }
        core.handle_bytes(&stream, t0);
        core.handle_timeout(t0 + Duration::from_millis(10));
        core.handle_closed(t0, DisconnectReason::ClosedByAgent);
        let mut seen = Vec::new();
        while let Some(event) = core.poll_event() {
            if let Some((name, data)) = super::super::connect::event(&event, Lang::En) {
                assert_declared("ConnectAgent", &name, &data);
                seen.push(name);
            }
        }
        for name in [
            "Connected",
            "Disconnected",
            "CommandResult",
            "Error",
            "Call",
            "Event",
        ] {
            assert!(
                seen.iter().any(|n| n == name),
                "{name} not rendered: {seen:?}"
            );
        }
    }

    #[test]
    fn every_centrifugo_event_is_declared() {
        use tb_centrifugo::{Error, ErrorDetail, ErrorKind, Event, Publication};
        let events = [
            Event::Connected {
                client_id: "c".into(),
                version: "6".into(),
                data: Some("{}".into()),
            },
            Event::Disconnected {
                code: tb_centrifugo::DisconnectCode::TransportClosed,
                reason: "r".into(),
                will_reconnect: true,
            },
            Event::Subscribed {
                channel: "a".into(),
                recovered: false,
                was_recovering: false,
                recoverable: true,
                offset: 1,
                epoch: "e".into(),
            },
            Event::Unsubscribed {
                channel: "a".into(),
                code: tb_centrifugo::UnsubscribeCode::UnsubscribeCalled,
                reason: "r".into(),
            },
            Event::Publication(Publication {
                channel: "a".into(),
                data: "{}".into(),
                offset: 1,
                info: Some("{}".into()),
                tags: [("k".to_string(), "v".to_string())].into(),
            }),
            Event::TokenExpiring { channel: None },
            Event::Error {
                kind: ErrorKind::Protocol,
                code: 2,
                detail: ErrorDetail::Core(Error::InvalidFrame { reason: "x".into() }),
                channel: None,
            },
        ];
        for event in &events {
            let (name, data) = super::super::centrifugo::event(event);
            assert_declared("Centrifugo", name, &data);
        }
    }

    #[test]
    fn reference_lists_every_event() {
        let reference = reference();
        for spec in EVENTS {
            assert!(reference.contains(&format!("| `{}` | {} |", spec.name, spec.class)));
        }
    }
}
