//! The one error type of the Centrifugo core.
//!
//! Every message says what is wrong and where, in English (`Display`) and in Russian (`ru()`).
//! No variant ever carries a secret: API keys, HMAC secrets and tokens are never stored here.

use std::fmt;

/// One failure in a channel of a broadcast (the others may have succeeded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelFailure {
    pub channel: String,
    pub code: u32,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The HMAC secret passed to a token function is empty.
    EmptySecret,
    /// A required text argument (user, channel, URL...) is empty.
    EmptyArgument { what: &'static str },
    /// A token lifetime that is zero, negative or absurdly long.
    InvalidLifetime { seconds: i64 },
    /// Extra claims for a connection token are not valid JSON.
    InvalidExtraClaims { reason: String },
    /// Extra claims for a connection token are valid JSON but not an object.
    ExtraClaimsNotObject,
    /// The API address is not an `http://` or `https://` URL.
    InvalidApiUrl { url: String },
    /// The API mode is not one of `modern`, `legacy`, `auto`.
    InvalidApiMode { value: String },
    /// The API key is empty while a request needs it.
    EmptyApiKey,
    /// HTTP 401/403 from the API: the key is wrong.
    WrongApiKey { url: String },
    /// HTTP 404 from the API in both modes: the address does not lead to a Centrifugo API.
    ApiNotFound { url: String },
    /// Any other unexpected HTTP status.
    HttpStatus {
        url: String,
        status: u16,
        body: String,
    },
    /// Centrifugo answered `{"error": {code, message}}`.
    Server {
        method: &'static str,
        code: u32,
        message: String,
    },
    /// A broadcast where some channels failed.
    BroadcastPartial { failures: Vec<ChannelFailure> },
    /// The API answered something that is not the expected JSON.
    InvalidResponse {
        method: &'static str,
        reason: String,
    },
    /// The API could not be reached (refused connection, DNS, TLS...). Filled in by the transport.
    Unreachable { url: String, reason: String },
    /// No answer within the timeout. Filled in by the transport.
    Timeout { url: String, milliseconds: u64 },
    /// A WebSocket frame from the server that is not Centrifugo JSON protocol.
    InvalidFrame { reason: String },
    /// A WebSocket address that is not `ws://` or `wss://`.
    InvalidWebSocketUrl { url: String },
    /// A client operation that needs a subscription that does not exist.
    NotSubscribed { channel: String },
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EmptySecret => write!(f, "the HMAC secret is empty: pass the client.token.hmac_secret_key of the Centrifugo config"),
            Error::EmptyArgument { what } => write!(f, "the {what} is empty"),
            Error::InvalidLifetime { seconds } => write!(
                f,
                "the token lifetime {seconds} s is invalid: give a positive number of seconds (at most 10 years)"
            ),
            Error::InvalidExtraClaims { reason } => {
                write!(f, "the extra claims are not valid JSON: {reason}")
            }
            Error::ExtraClaimsNotObject => write!(
                f,
                "the extra claims must be a JSON object such as {{\"info\": {{\"name\": \"...\"}}}}"
            ),
            Error::InvalidApiUrl { url } => write!(
                f,
                "the API address '{url}' is not an http:// or https:// URL (example: http://centrifugo:8000)"
            ),
            Error::InvalidApiMode { value } => write!(
                f,
                "the API mode '{value}' is unknown: use modern (Centrifugo v5+), legacy (v2-v4) or auto"
            ),
            Error::EmptyApiKey => write!(f, "the API key is not set: set ApiKey to http_api.key of the Centrifugo config"),
            Error::WrongApiKey { url } => write!(
                f,
                "the API key is wrong: {url} answered 401 Unauthorized (compare ApiKey with http_api.key of the Centrifugo config)"
            ),
            Error::ApiNotFound { url } => write!(
                f,
                "no Centrifugo API at {url}: HTTP 404 (check ApiUrl, for example http://centrifugo:8000, and ApiMode)"
            ),
            Error::HttpStatus { url, status, body } => {
                write!(f, "{url} answered HTTP {status}: {}", shorten(body))
            }
            Error::Server { method, code, message } => {
                write!(f, "Centrifugo refused {method}: error {code} {message}")
            }
            Error::BroadcastPartial { failures } => {
                write!(f, "broadcast failed in some channels: {}", failures_text(failures))
            }
            Error::InvalidResponse { method, reason } => {
                write!(f, "Centrifugo answered {method} with an unexpected response: {}", shorten(reason))
            }
            Error::Unreachable { url, reason } => write!(f, "cannot reach {url}: {reason}"),
            Error::Timeout { url, milliseconds } => write!(f, "{url} did not answer within {} s", *milliseconds as f64 / 1000.0),
            Error::InvalidFrame { reason } => {
                write!(f, "the server sent a frame that is not Centrifugo JSON protocol: {}", shorten(reason))
            }
            Error::InvalidWebSocketUrl { url } => write!(
                f,
                "the address '{url}' is not a ws:// or wss:// URL (example: wss://centrifugo.example.com/connection/websocket)"
            ),
            Error::NotSubscribed { channel } => write!(f, "there is no subscription to channel '{channel}'"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The same message in Russian, for 1C users with a Russian locale.
    pub fn ru(&self) -> String {
        match self {
            Error::EmptySecret => "секрет HMAC пуст: передайте client.token.hmac_secret_key из конфигурации Centrifugo".to_string(),
            Error::EmptyArgument { what } => format!("не заполнен параметр: {}", ru_what(what)),
            Error::InvalidLifetime { seconds } => format!(
                "недопустимый срок жизни токена {seconds} с: укажите положительное число секунд (не более 10 лет)"
            ),
            Error::InvalidExtraClaims { reason } => {
                format!("дополнительные данные токена — не корректный JSON: {reason}")
            }
            Error::ExtraClaimsNotObject => "дополнительные данные токена должны быть JSON-объектом, например {\"info\": {\"name\": \"...\"}}".to_string(),
            Error::InvalidApiUrl { url } => format!(
                "адрес API '{url}' не является адресом http:// или https:// (пример: http://centrifugo:8000)"
            ),
            Error::InvalidApiMode { value } => format!(
                "неизвестный режим API '{value}': используйте modern (Centrifugo v5+), legacy (v2–v4) или auto"
            ),
            Error::EmptyApiKey => "не задан ключ API: установите КлючAPI равным http_api.key из конфигурации Centrifugo".to_string(),
            Error::WrongApiKey { url } => format!(
                "неверный ключ API: {url} ответил 401 Unauthorized (сверьте КлючAPI с http_api.key в конфигурации Centrifugo)"
            ),
            Error::ApiNotFound { url } => format!(
                "по адресу {url} нет API Centrifugo: HTTP 404 (проверьте АдресAPI, например http://centrifugo:8000, и РежимAPI)"
            ),
            Error::HttpStatus { url, status, body } => {
                format!("{url} ответил HTTP {status}: {}", shorten(body))
            }
            Error::Server { method, code, message } => {
                format!("Centrifugo отклонил {method}: ошибка {code} {message}")
            }
            Error::BroadcastPartial { failures } => {
                format!("рассылка не удалась в части каналов: {}", failures_text(failures))
            }
            Error::InvalidResponse { method, reason } => {
                format!("Centrifugo ответил на {method} неожиданным ответом: {}", shorten(reason))
            }
            Error::Unreachable { url, reason } => format!("не удалось подключиться к {url}: {reason}"),
            Error::Timeout { url, milliseconds } => format!("{url} не ответил за {} с", *milliseconds as f64 / 1000.0),
            Error::InvalidFrame { reason } => {
                format!("сервер прислал кадр не в формате JSON-протокола Centrifugo: {}", shorten(reason))
            }
            Error::InvalidWebSocketUrl { url } => format!(
                "адрес '{url}' не является адресом ws:// или wss:// (пример: wss://centrifugo.example.com/connection/websocket)"
            ),
            Error::NotSubscribed { channel } => format!("нет подписки на канал '{channel}'"),
        }
    }
}

fn ru_what(what: &str) -> &str {
    match what {
        "user" => "пользователь",
        "channel" => "канал",
        "channels" => "список каналов",
        "URL" => "адрес",
        "token" => "токен",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_both_languages() {
        let samples = vec![
            Error::EmptySecret,
            Error::EmptyArgument { what: "channel" },
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
            assert!(!e.to_string().is_empty());
            assert!(!e.ru().is_empty());
            assert_ne!(e.to_string(), e.ru());
        }
    }

    #[test]
    fn long_bodies_are_shortened() {
        let e = Error::HttpStatus {
            url: "u".into(),
            status: 500,
            body: "x".repeat(5000),
        };
        assert!(e.to_string().len() < 400);
    }
}
