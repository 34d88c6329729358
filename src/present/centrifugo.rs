//! 1C vocabulary of class `Centrifugo` over the `tb-centrifugo` core: event names and Data (field names as
//! documented for 1C), the state names of Diagnostics, the Russian synonyms of property values, and every error
//! text in both languages.

use serde_json::{json, Map, Value as Json};
use tb_centrifugo::{
    ApiMode, Argument, ChannelFailure, Error, ErrorDetail, ErrorKind, Event, Publication, State,
};

use super::{Lang, Text};
use tb_prims::address::AddressProblem;

/// The 1C event name and Data of a client event.
pub fn event(event: &Event) -> (&'static str, Json) {
    match event {
        Event::Connected {
            client_id,
            version,
            data,
        } => {
            let mut object = Map::new();
            object.insert("client".into(), json!(client_id));
            object.insert("version".into(), json!(version));
            if let Some(data) = data
                .as_deref()
                .and_then(|d| serde_json::from_str::<Json>(d).ok())
            {
                object.insert("data".into(), data);
            }
            ("Connected", Json::Object(object))
        }
        Event::Disconnected {
            code,
            reason,
            will_reconnect,
        } => (
            "Disconnected",
            json!({"code": code.number(), "reason": reason, "reconnect": will_reconnect}),
        ),
        Event::Subscribed {
            channel,
            recovered,
            was_recovering,
            recoverable,
            offset,
            epoch,
        } => (
            "Subscribed",
            json!({
                "channel": channel, "recovered": recovered, "was_recovering": was_recovering,
                "recoverable": recoverable, "offset": offset, "epoch": epoch
            }),
        ),
        Event::Unsubscribed {
            channel,
            code,
            reason,
        } => (
            "Unsubscribed",
            json!({"channel": channel, "code": code.number(), "reason": reason}),
        ),
        Event::Publication(publication) => ("Publication", publication_data(publication)),
        Event::TokenExpiring { channel } => (
            "TokenExpiring",
            json!({"channel": channel.clone().unwrap_or_default()}),
        ),
        Event::Error {
            kind,
            code,
            detail,
            channel,
        } => (
            "Error",
            json!({
                "type": error_kind(*kind), "code": code, "message": detail_message(detail),
                "channel": channel.clone().unwrap_or_default()
            }),
        ),
    }
}

/// The publication as one JSON object (`data` and `info` embedded as JSON, not strings).
fn publication_data(publication: &Publication) -> Json {
    let mut object = Map::new();
    object.insert("channel".into(), Json::String(publication.channel.clone()));
    let data = serde_json::from_str(&publication.data).unwrap_or(Json::Null);
    object.insert("data".into(), data);
    object.insert("offset".into(), Json::from(publication.offset));
    if let Some(info) = publication
        .info
        .as_deref()
        .and_then(|i| serde_json::from_str::<Json>(i).ok())
    {
        object.insert("info".into(), info);
    }
    if !publication.tags.is_empty() {
        object.insert(
            "tags".into(),
            serde_json::to_value(&publication.tags).unwrap_or(Json::Null),
        );
    }
    Json::Object(object)
}

/// The `Error` event of a client thread that failed (type `internal`): the object must be created again.
pub fn worker_failed(text: &Text, lang: Lang) -> (&'static str, Json) {
    let data = json!({"type": "internal", "code": 0, "message": text.pick(lang), "channel": ""});
    ("Error", data)
}

/// `Data.type` of the `Error` event.
pub fn error_kind(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Transport => "transport",
        ErrorKind::Protocol => "protocol",
        ErrorKind::Connect => "connect",
        ErrorKind::Refresh => "refresh",
        ErrorKind::Subscribe => "subscribe",
        ErrorKind::SubscriptionRefresh => "subscription refresh",
    }
}

/// `Data.message` of the `Error` event: the peer's words as they came, the core's in English (as documented).
pub fn detail_message(detail: &ErrorDetail) -> String {
    match detail {
        ErrorDetail::Peer(message) => message.clone(),
        ErrorDetail::Core(error) => error_text(error).en,
    }
}

/// `РежимAPI` / `ApiMode` as a 1C developer may write it: the core's names or their Russian synonyms.
pub fn api_mode(text: &str) -> Result<ApiMode, Error> {
    let synonym = match text.trim().to_ascii_lowercase().as_str() {
        "современный" => "modern",
        "старый" | "устаревший" => "legacy",
        "авто" => "auto",
        _ => text,
    };
    ApiMode::parse(synonym)
}

/// `Diagnostics().state.client.state`.
pub fn state_name(state: State) -> &'static str {
    match state {
        State::Disconnected => "disconnected",
        State::Connecting => "connecting",
        State::Connected => "connected",
    }
}

fn shorten(text: &str) -> String {
    const LIMIT: usize = 300;
    if text.chars().count() <= LIMIT {
        text.to_string()
    } else {
        let cut: String = text.chars().take(LIMIT).collect();
        format!("{cut}…")
    }
}

fn failures_text(failures: &[ChannelFailure]) -> String {
    failures
        .iter()
        .map(|f| format!("{} ({} {})", f.channel, f.code, f.message))
        .collect::<Vec<_>>()
        .join(", ")
}

fn argument_text(what: Argument) -> Text {
    match what {
        Argument::Channel => Text::new("the channel is empty", "не заполнен параметр: канал"),
        Argument::Channels => Text::new(
            "the channels is empty",
            "не заполнен параметр: список каналов",
        ),
        Argument::User => Text::new("the user is empty", "не заполнен параметр: пользователь"),
        Argument::ApiUrl => Text::new(
            "the ApiUrl (АдресAPI) is empty",
            "не заполнен параметр: ApiUrl (АдресAPI)",
        ),
    }
}

/// `{"error": …}` from Centrifugo (an arm of [`error_text`], apart only to keep that function short).
fn server_text(method: &str, code: u32, message: &str) -> Text {
    Text::new(
        format!("Centrifugo refused {method}: error {code} {message}"),
        format!("Centrifugo отклонил {method}: ошибка {code} {message}"),
    )
}

/// The token lifetime asked of a token function (an arm of [`error_text`], apart to keep it short).
fn lifetime_text(seconds: i64) -> Text {
    Text::new(
        format!("the token lifetime {seconds} s is invalid: give a positive number of seconds (at most 10 years)"),
        format!("недопустимый срок жизни токена {seconds} с: укажите положительное число секунд (не более 10 лет)"),
    )
}

/// Extra claims that are no JSON (`reason`) or no JSON object (`None`).
fn claims_text(reason: Option<&String>) -> Text {
    match reason {
        Some(reason) => Text::new(
            format!("the extra claims are not valid JSON: {reason}"),
            format!("дополнительные данные токена — не корректный JSON: {reason}"),
        ),
        None => Text::new(
            "the extra claims must be a JSON object such as {\"info\": {\"name\": \"...\"}}",
            "дополнительные данные токена должны быть JSON-объектом, например {\"info\": {\"name\": \"...\"}}",
        ),
    }
}

/// An address (`what`, both languages) that breaks a rule of the address model; `url` is already redacted.
fn unsafe_address_text(what: (&str, &str), url: &str, problem: AddressProblem) -> Text {
    let why = super::driver::address_problem_text(problem);
    Text::new(
        format!("{} '{url}' cannot be used: {}", what.0, why.en),
        format!("{} '{url}' нельзя использовать: {}", what.1, why.ru),
    )
}

fn response_text(method: &str, reason: &str) -> Text {
    Text::new(
        format!(
            "Centrifugo answered {method} with an unexpected response: {}",
            shorten(reason)
        ),
        format!(
            "Centrifugo ответил на {method} неожиданным ответом: {}",
            shorten(reason)
        ),
    )
}

fn frame_text(reason: &str) -> Text {
    Text::new(
        format!(
            "the server sent a frame that is not Centrifugo JSON protocol: {}",
            shorten(reason)
        ),
        format!(
            "сервер прислал кадр не в формате JSON-протокола Centrifugo: {}",
            shorten(reason)
        ),
    )
}

/// Every message says what is wrong and where, and how to fix it when that is known.
pub fn error_text(error: &Error) -> Text {
    match &redacted(error) {
        Error::EmptySecret => Text::new(
            "the HMAC secret is empty: pass the client.token.hmac_secret_key of the Centrifugo config",
            "секрет HMAC пуст: передайте client.token.hmac_secret_key из конфигурации Centrifugo",
        ),
        Error::EmptyArgument { what } => argument_text(*what),
        Error::InvalidLifetime { seconds } => lifetime_text(*seconds),
        Error::InvalidExtraClaims { reason } => claims_text(Some(reason)),
        Error::ExtraClaimsNotObject => claims_text(None),
        Error::InvalidApiUrl { url } => Text::new(
            format!("the API address '{url}' is not an http:// or https:// URL (example: http://centrifugo:8000)"),
            format!("адрес API '{url}' не является адресом http:// или https:// (пример: http://centrifugo:8000)"),
        ),
        Error::UnsafeApiUrl { url, problem } => {
            unsafe_address_text(("the API address", "адрес API"), url, *problem)
        }
        Error::InvalidApiMode { value } => Text::new(
            format!("the API mode '{value}' is unknown: use modern (Centrifugo v5+), legacy (v2-v4) or auto"),
            format!("неизвестный режим API '{value}': используйте modern (Centrifugo v5+), legacy (v2–v4) или auto"),
        ),
        Error::EmptyApiKey => Text::new(
            "the API key is not set: set ApiKey to http_api.key of the Centrifugo config",
            "не задан ключ API: установите КлючAPI равным http_api.key из конфигурации Centrifugo",
        ),
        Error::WrongApiKey { url } => Text::new(
            format!("the API key is wrong: {url} answered 401 Unauthorized (compare ApiKey with http_api.key of the Centrifugo config)"),
            format!("неверный ключ API: {url} ответил 401 Unauthorized (сверьте КлючAPI с http_api.key в конфигурации Centrifugo)"),
        ),
        Error::ApiNotFound { url } => Text::new(
            format!("no Centrifugo API at {url}: HTTP 404 (check ApiUrl, for example http://centrifugo:8000, and ApiMode)"),
            format!("по адресу {url} нет API Centrifugo: HTTP 404 (проверьте АдресAPI, например http://centrifugo:8000, и РежимAPI)"),
        ),
        Error::HttpStatus { url, status, body } => Text::new(
            format!("{url} answered HTTP {status}: {}", shorten(body)),
            format!("{url} ответил HTTP {status}: {}", shorten(body)),
        ),
        Error::Server {
            method,
            code,
            message,
        } => server_text(method, *code, message),
        Error::BroadcastPartial { failures } => Text::new(
            format!("broadcast failed in some channels: {}", failures_text(failures)),
            format!("рассылка не удалась в части каналов: {}", failures_text(failures)),
        ),
        Error::InvalidResponse { method, reason } => response_text(method, reason),
        Error::Unreachable { url, reason } => Text::new(
            format!("cannot reach {url}: {reason}"),
            format!("не удалось подключиться к {url}: {reason}"),
        ),
        Error::Timeout { url, milliseconds } => Text::new(
            format!("{url} did not answer within {} s", *milliseconds as f64 / 1000.0),
            format!("{url} не ответил за {} с", *milliseconds as f64 / 1000.0),
        ),
        Error::InvalidFrame { reason } => frame_text(reason),
        Error::UnsafeWebSocketUrl { url, problem } => {
            unsafe_address_text(("the WebSocket address", "адрес WebSocket"), url, *problem)
        }
        Error::Redirected {
            url,
            status,
            location,
        } => super::driver::redirect_text("Centrifugo API", url, *status, location),
        Error::InvalidWebSocketUrl { url } => Text::new(
            format!("the address '{url}' is not a ws:// or wss:// URL (example: wss://centrifugo.example.com/connection/websocket)"),
            format!("адрес '{url}' не является адресом ws:// или wss:// (пример: wss://centrifugo.example.com/connection/websocket)"),
        ),
        Error::NotSubscribed { channel } => Text::new(
            format!("there is no subscription to channel '{channel}'"),
            format!("нет подписки на канал '{channel}'"),
        ),
    }
}

/// The error with every address in it passed through the one redaction (`tb_prims::redact::url`), so no text
/// of this class shows credentials or query values.
fn redacted(error: &Error) -> Error {
    let url = |url: &String| tb_prims::redact::url(url);
    match error {
        Error::InvalidApiUrl { url: u } => Error::InvalidApiUrl { url: url(u) },
        Error::UnsafeApiUrl { url: u, problem } => Error::UnsafeApiUrl {
            url: url(u),
            problem: *problem,
        },
        Error::WrongApiKey { url: u } => Error::WrongApiKey { url: url(u) },
        Error::ApiNotFound { url: u } => Error::ApiNotFound { url: url(u) },
        Error::HttpStatus {
            url: u,
            status,
            body,
        } => Error::HttpStatus {
            url: url(u),
            status: *status,
            body: body.clone(),
        },
        Error::Unreachable { url: u, reason } => Error::Unreachable {
            url: url(u),
            reason: reason.clone(),
        },
        Error::Timeout {
            url: u,
            milliseconds,
        } => Error::Timeout {
            url: url(u),
            milliseconds: *milliseconds,
        },
        Error::InvalidWebSocketUrl { url: u } => Error::InvalidWebSocketUrl { url: url(u) },
        Error::UnsafeWebSocketUrl { url: u, problem } => Error::UnsafeWebSocketUrl {
            url: url(u),
            problem: *problem,
        },
        // The location is redacted by `redirect_text`.
        Error::Redirected {
            url: u,
            status,
            location,
        } => Error::Redirected {
            url: url(u),
            status: *status,
            location: location.clone(),
        },
        other => other.clone(),
    }
}

/// Centrifugo's own refusals of a setting (the boundary names the member).
pub mod refusal {
    use super::Text;

    pub fn timeout_range() -> Text {
        Text::new(
            "the timeout must be a number of seconds between 0 and 3600",
            "таймаут должен быть числом секунд от 0 до 3600",
        )
    }

    /// МаксимальныйРазмерСообщения outside `floor..=ceiling` bytes.
    pub fn max_message_range(floor: usize, ceiling: usize) -> Text {
        Text::new(
            format!(
                "must be a whole Number of bytes from {floor} to {ceiling} (8 MiB: the \
                 event queue holds 32 MiB, one message's event takes up to twice its size)"
            ),
            format!(
                "должно быть целым Числом байт от {floor} до {ceiling} (8 МиБ: очередь \
                 событий вмещает 32 МиБ, событие из сообщения занимает до двух его размеров)"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn publication_data_reaches_1c_with_its_bytes() {
        let payload = r#"{"zeta":1,"alpha":{"y":2,"b":3},"big":123456789012345678901234567890,"price":10.50}"#;
        let publication = Publication {
            channel: "c".into(),
            data: payload.into(),
            offset: 3,
            info: Some(r#"{"user":"42","client":"x"}"#.into()),
            tags: BTreeMap::new(),
        };
        let (_, data) = event(&Event::Publication(publication));
        let text = data.to_string();
        assert!(text.contains(payload), "{text}");
        assert!(text.contains(r#"{"user":"42","client":"x"}"#), "{text}");
        let (_, data) = event(&Event::Connected {
            client_id: "c".into(),
            version: "6".into(),
            data: Some(payload.into()),
        });
        assert!(data.to_string().contains(payload));
    }

    #[test]
    fn every_variant_has_both_languages() {
        let samples = vec![
            Error::EmptySecret,
            Error::EmptyArgument {
                what: Argument::Channel,
            },
            Error::EmptyArgument {
                what: Argument::User,
            },
            Error::WrongApiKey {
                url: "http://h/api".into(),
            },
            Error::Server {
                method: "publish",
                code: 102,
                message: "unknown channel".into(),
            },
            Error::BroadcastPartial {
                failures: vec![ChannelFailure {
                    channel: "a".into(),
                    code: 102,
                    message: "unknown channel".into(),
                }],
            },
        ];
        for e in samples {
            let text = error_text(&e);
            assert!(!text.en.is_empty());
            assert!(!text.ru.is_empty());
            assert_ne!(text.en, text.ru);
        }
    }

    #[test]
    fn texts_name_what_to_fix() {
        let server = error_text(&Error::Server {
            method: "publish",
            code: 102,
            message: "unknown channel".into(),
        });
        assert!(server.en.contains("102") && server.en.contains("unknown channel"));
        let key = error_text(&Error::WrongApiKey { url: "u".into() });
        assert!(key.en.contains("API key is wrong"));
        let partial = error_text(&Error::BroadcastPartial {
            failures: vec![ChannelFailure {
                channel: "b".into(),
                code: 102,
                message: "unknown channel".into(),
            }],
        });
        assert!(partial.en.contains("b (102 unknown channel)"));
        assert!(error_text(&Error::EmptySecret).ru.contains("секрет"));
    }

    #[test]
    fn api_modes_have_russian_synonyms() {
        assert_eq!(api_mode("авто"), Ok(ApiMode::Auto));
        assert_eq!(api_mode(" старый "), Ok(ApiMode::Legacy));
        assert_eq!(api_mode("современный"), Ok(ApiMode::Modern));
        assert_eq!(api_mode("Legacy"), Ok(ApiMode::Legacy));
        assert_eq!(
            api_mode("v9"),
            Err(Error::InvalidApiMode { value: "v9".into() })
        );
    }

    #[test]
    fn a_failed_worker_says_so_in_the_error_shape() {
        let (name, data) = worker_failed(&Text::new("boom", "бум"), Lang::En);
        assert_eq!((name, &data["type"]), ("Error", &json!("internal")));
        assert!(data["message"].as_str().unwrap().contains("boom"));
        super::super::events::assert_declared("Centrifugo", name, &data);
    }

    #[test]
    fn event_json_shapes() {
        let (name, data) = event(&Event::Disconnected {
            code: tb_centrifugo::DisconnectCode::Server(3001),
            reason: "shutdown".into(),
            will_reconnect: true,
        });
        assert_eq!(
            data,
            json!({"code": 3001, "reason": "shutdown", "reconnect": true})
        );
        assert_eq!(name, "Disconnected");
    }

    #[test]
    fn long_bodies_are_shortened() {
        let e = Error::HttpStatus {
            url: "u".into(),
            status: 500,
            body: "x".repeat(5000),
        };
        assert!(error_text(&e).en.len() < 400);
    }

    #[test]
    fn publication_data_embeds_data_and_info() {
        let publication = Publication {
            channel: "calls:#42".into(),
            data: r#""текст""#.into(),
            offset: 2,
            info: Some(r#"{"user":"42","client":"c"}"#.into()),
            tags: BTreeMap::from([("k".to_string(), "v".to_string())]),
        };
        let (name, json) = event(&Event::Publication(publication));
        assert_eq!(name, "Publication");
        assert_eq!(json["data"], "текст");
        assert_eq!(json["info"]["user"], "42");
        assert_eq!(json["tags"]["k"], "v");
        assert_eq!(json["channel"], "calls:#42");
    }

    #[test]
    fn core_errors_in_error_events_read_in_english() {
        let (name, data) = event(&Event::Error {
            kind: ErrorKind::SubscriptionRefresh,
            code: 0,
            detail: ErrorDetail::Core(Error::NotSubscribed {
                channel: "a".into(),
            }),
            channel: Some("a".into()),
        });
        assert_eq!(name, "Error");
        assert_eq!(data["type"], "subscription refresh");
        assert_eq!(data["message"], "there is no subscription to channel 'a'");
    }
}
