//! Centrifugo server HTTP API as plain data: build requests, read responses.
//!
//! Two wire forms exist:
//! - `modern` (Centrifugo v5, v6): `POST <base>/api/<method>`, body = the params, header `X-API-Key: <key>`;
//! - `legacy` (v2–v4, still served by v6): `POST <base>/api`, body = `{"method": ..., "params": ...}`,
//!   header `Authorization: apikey <key>`.
//!
//! `auto` is a tiny decision procedure ([`ApiCall`]): send the modern form; a 404 means the server predates it
//! (the command was not executed), so send the legacy form and remember that mode. The transport only executes
//! the requests this module hands out.

use std::fmt;

use serde_json::{json, Map, Value};

use crate::error::ChannelFailure;
use crate::{Argument, Error};

/// An API key that never shows itself in `Debug` or `Display`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The key itself, for the one place that needs it: the request header.
    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("ApiKey(<empty>)")
        } else {
            f.write_str("ApiKey(***)")
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiMode {
    Modern,
    Legacy,
    Auto,
}

impl ApiMode {
    /// `modern` (also empty), `legacy` or `auto`, any ASCII case.
    pub fn parse(text: &str) -> Result<ApiMode, Error> {
        match text.trim().to_ascii_lowercase().as_str() {
            "modern" | "" => Ok(ApiMode::Modern),
            "legacy" => Ok(ApiMode::Legacy),
            "auto" => Ok(ApiMode::Auto),
            _ => Err(Error::InvalidApiMode {
                value: text.to_string(),
            }),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ApiMode::Modern => "modern",
            ApiMode::Legacy => "legacy",
            ApiMode::Auto => "auto",
        }
    }
}

/// The API commands the add-in offers.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiCommand {
    Publish {
        channel: String,
        data: String,
        idempotency_key: String,
    },
    Broadcast {
        channels: Vec<String>,
        data: String,
        idempotency_key: String,
    },
    /// `limit <= 0` means the whole kept history; `since` pages on from a stream position (offset, epoch),
    /// `reverse` returns the newest first.
    History {
        channel: String,
        limit: i64,
        since: Option<(u64, String)>,
        reverse: bool,
    },
    Presence {
        channel: String,
    },
    Info,
    /// Closes the user's connections (all, or one `client`); with `code` > 0 the client sees that code and reason.
    Disconnect {
        user: String,
        client: String,
        code: u32,
        reason: String,
    },
    /// Unsubscribes the user (all connections, or one `client`) from a channel.
    Unsubscribe {
        user: String,
        channel: String,
        client: String,
    },
    /// Refreshes the user's connections: a new `expire_at` (Unix seconds, 0 = keep), or `expired` to end them.
    Refresh {
        user: String,
        client: String,
        expire_at: i64,
        expired: bool,
    },
}

impl ApiCommand {
    pub fn method(&self) -> &'static str {
        match self {
            ApiCommand::Publish { .. } => "publish",
            ApiCommand::Broadcast { .. } => "broadcast",
            ApiCommand::History { .. } => "history",
            ApiCommand::Presence { .. } => "presence",
            ApiCommand::Info => "info",
            ApiCommand::Disconnect { .. } => "disconnect",
            ApiCommand::Unsubscribe { .. } => "unsubscribe",
            ApiCommand::Refresh { .. } => "refresh",
        }
    }

    fn validate(&self) -> Result<(), Error> {
        let user = match self {
            ApiCommand::Disconnect { user, .. }
            | ApiCommand::Unsubscribe { user, .. }
            | ApiCommand::Refresh { user, .. } => Some(user),
            _ => None,
        };
        if user.is_some_and(|u| u.trim().is_empty()) {
            return Err(Error::EmptyArgument {
                what: Argument::User,
            });
        }
        let empty_channel = match self {
            ApiCommand::Publish { channel, .. }
            | ApiCommand::History { channel, .. }
            | ApiCommand::Unsubscribe { channel, .. }
            | ApiCommand::Presence { channel } => channel.trim().is_empty(),
            ApiCommand::Broadcast { channels, .. } => {
                if channels.is_empty() {
                    return Err(Error::EmptyArgument {
                        what: Argument::Channels,
                    });
                }
                channels.iter().any(|c| c.trim().is_empty())
            }
            ApiCommand::Info | ApiCommand::Disconnect { .. } | ApiCommand::Refresh { .. } => false,
        };
        if empty_channel {
            return Err(Error::EmptyArgument {
                what: Argument::Channel,
            });
        }
        Ok(())
    }

    fn params(&self) -> Value {
        match self {
            ApiCommand::Publish {
                channel,
                data,
                idempotency_key,
            } => publication_params(("channel", json!(channel)), data, idempotency_key),
            ApiCommand::Broadcast {
                channels,
                data,
                idempotency_key,
            } => publication_params(("channels", json!(channels)), data, idempotency_key),
            ApiCommand::History {
                channel,
                limit,
                since,
                reverse,
            } => history_params(channel, *limit, since, *reverse),
            ApiCommand::Presence { channel } => json!({ "channel": channel }),
            ApiCommand::Info => json!({}),
            ApiCommand::Disconnect {
                user,
                client,
                code,
                reason,
            } => {
                let mut params = user_params(user, client);
                if *code > 0 {
                    params["disconnect"] = json!({ "code": code, "reason": reason });
                }
                params
            }
            ApiCommand::Unsubscribe {
                user,
                channel,
                client,
            } => {
                // Keys in Centrifugo's documented order: user, channel, client.
                let mut params = json!({ "user": user, "channel": channel });
                if !client.is_empty() {
                    params["client"] = json!(client);
                }
                params
            }
            ApiCommand::Refresh {
                user,
                client,
                expire_at,
                expired,
            } => {
                let mut params = user_params(user, client);
                if *expire_at > 0 {
                    params["expire_at"] = json!(expire_at);
                }
                if *expired {
                    params["expired"] = json!(true);
                }
                params
            }
        }
    }
}

/// `publish` and `broadcast`: the target (`channel` or `channels`), the data, and the idempotency key if any.
fn publication_params(target: (&str, Value), data: &str, idempotency_key: &str) -> Value {
    let mut params = Map::new();
    params.insert(target.0.into(), target.1);
    params.insert("data".into(), data_value(data));
    if !idempotency_key.is_empty() {
        params.insert(
            "idempotency_key".into(),
            Value::String(idempotency_key.to_string()),
        );
    }
    Value::Object(params)
}

fn history_params(
    channel: &str,
    limit: i64,
    since: &Option<(u64, String)>,
    reverse: bool,
) -> Value {
    // Centrifugo returns only the stream position for limit 0; -1 means "no limit".
    let limit = if limit <= 0 {
        -1
    } else {
        limit.min(i32::MAX as i64)
    };
    let mut params = json!({ "channel": channel, "limit": limit });
    if let Some((offset, epoch)) = since {
        params["since"] = json!({ "offset": offset, "epoch": epoch });
    }
    if reverse {
        params["reverse"] = json!(true);
    }
    params
}

/// The user a server command acts on, and the one client of theirs when `client` is set.
fn user_params(user: &str, client: &str) -> Value {
    let mut params = json!({ "user": user });
    if !client.is_empty() {
        params["client"] = json!(client);
    }
    params
}

/// Publication data: valid JSON goes as is; anything else as a JSON string value.
pub fn data_value(data: &str) -> Value {
    match serde_json::from_str::<Value>(data) {
        Ok(value) => value,
        Err(_) => Value::String(data.to_string()),
    }
}

/// One HTTP request for the transport to execute. The body is UTF-8 JSON; its length is in bytes
/// (the seed's BSL publisher counted characters and broke Cyrillic text).
#[derive(Clone, PartialEq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = if is_secret_header(name) {
                    "***"
                } else {
                    value.as_str()
                };
                (*name, shown)
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

fn is_secret_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("x-api-key") || name.eq_ignore_ascii_case("authorization")
}

/// Settings of the API client side.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    base_url: String,
    pub key: ApiKey,
    pub mode: ApiMode,
}

impl ApiConfig {
    /// `base_url` like `http://centrifugo:8000`; a trailing `/` or `/api` is tolerated. Parsed by the one address
    /// model (`tb_prims::address`): what is kept is its canonical form, so the request URLs built from it parse
    /// the same in every library.
    pub fn new(base_url: &str, key: ApiKey, mode: ApiMode) -> Result<ApiConfig, Error> {
        let trimmed = base_url.trim();
        let address =
            tb_prims::address::Address::parse(trimmed, &["http", "https"]).map_err(|problem| {
                match problem {
                    tb_prims::address::AddressProblem::NoScheme
                    | tb_prims::address::AddressProblem::Scheme
                    | tb_prims::address::AddressProblem::NoHost => Error::InvalidApiUrl {
                        url: trimmed.to_string(),
                    },
                    problem => Error::UnsafeApiUrl {
                        url: trimmed.to_string(),
                        problem,
                    },
                }
            })?;
        let mut base = address.canonical().trim_end_matches('/').to_string();
        if base.ends_with("/api") {
            base.truncate(base.len() - 4);
        }
        Ok(ApiConfig {
            base_url: base,
            key,
            mode,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The request for `command` in a concrete mode (`Auto` is treated as `Modern`).
    pub fn request(&self, command: &ApiCommand, mode: ApiMode) -> Result<HttpRequest, Error> {
        command.validate()?;
        if self.key.is_empty() {
            return Err(Error::EmptyApiKey);
        }
        let mut headers = vec![("Content-Type", "application/json".to_string())];
        let (url, body) = match mode {
            ApiMode::Modern | ApiMode::Auto => {
                headers.push(("X-API-Key", self.key.expose().to_string()));
                (
                    format!("{}/api/{}", self.base_url, command.method()),
                    command.params(),
                )
            }
            ApiMode::Legacy => {
                headers.push(("Authorization", format!("apikey {}", self.key.expose())));
                let body = json!({ "method": command.method(), "params": command.params() });
                (format!("{}/api", self.base_url), body)
            }
        };
        Ok(HttpRequest {
            method: "POST",
            url,
            headers,
            body: body.to_string().into_bytes(),
        })
    }
}

/// What to do after one response of an [`ApiCall`].
#[derive(Debug)]
pub enum ApiStep {
    /// Final answer: the `result` object (for publish: `offset`/`epoch` when the channel keeps history).
    Done(Result<Value, Error>),
    /// Send this request next (auto mode falling back to legacy).
    Send(HttpRequest),
}

/// One API call including the `auto` fallback, as data.
#[derive(Debug)]
pub struct ApiCall {
    command: ApiCommand,
    mode: ApiMode,
    auto_tried_modern: bool,
}

impl ApiCall {
    /// `known_mode`: the mode a previous auto call found out (pass `config.mode` if none).
    pub fn start(
        config: &ApiConfig,
        command: ApiCommand,
        known_mode: ApiMode,
    ) -> Result<(ApiCall, HttpRequest), Error> {
        let mode = if config.mode == ApiMode::Auto {
            known_mode
        } else {
            config.mode
        };
        let request = config.request(&command, mode)?;
        let auto_tried_modern = mode == ApiMode::Auto;
        Ok((
            ApiCall {
                command,
                mode,
                auto_tried_modern,
            },
            request,
        ))
    }

    /// The mode that answered, once the call is done (for `auto`: what to remember).
    pub fn resolved_mode(&self) -> ApiMode {
        match self.mode {
            ApiMode::Auto => ApiMode::Modern,
            other => other,
        }
    }

    pub fn handle_response(
        &mut self,
        config: &ApiConfig,
        url: &str,
        status: u16,
        body: &[u8],
    ) -> ApiStep {
        if self.auto_tried_modern && status == 404 {
            self.auto_tried_modern = false;
            self.mode = ApiMode::Legacy;
            return match config.request(&self.command, ApiMode::Legacy) {
                Ok(request) => ApiStep::Send(request),
                Err(e) => ApiStep::Done(Err(e)),
            };
        }
        ApiStep::Done(parse_response(&self.command, url, status, body))
    }
}

/// Reads one API response (either mode: both answer `{"result": ...}` or `{"error": ...}`).
pub fn parse_response(
    command: &ApiCommand,
    url: &str,
    status: u16,
    body: &[u8],
) -> Result<Value, Error> {
    let method = command.method();
    match status {
        200 => {}
        401 | 403 => {
            return Err(Error::WrongApiKey {
                url: url.to_string(),
            })
        }
        404 => {
            return Err(Error::ApiNotFound {
                url: url.to_string(),
            })
        }
        _ => {
            return Err(Error::HttpStatus {
                url: url.to_string(),
                status,
                body: String::from_utf8_lossy(body).trim().to_string(),
            })
        }
    }
    // The legacy endpoint may answer several newline-separated replies; we send one command.
    let first_line = body
        .split(|b| *b == b'\n')
        .find(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
        .unwrap_or(&[]);
    let reply: Value = serde_json::from_slice(first_line).map_err(|e| Error::InvalidResponse {
        method,
        reason: format!("{e}: {}", String::from_utf8_lossy(body)),
    })?;
    let Value::Object(mut reply) = reply else {
        return Err(Error::InvalidResponse {
            method,
            reason: String::from_utf8_lossy(body).into_owned(),
        });
    };
    if let Some(error) = reply.get("error").filter(|e| !e.is_null()) {
        let (code, message) = error_parts(error);
        return Err(Error::Server {
            method,
            code,
            message,
        });
    }
    let result = reply.remove("result").unwrap_or_else(|| json!({}));
    if let ApiCommand::Broadcast { channels, .. } = command {
        check_broadcast(channels, &result)?;
    }
    Ok(result)
}

fn error_parts(error: &Value) -> (u32, String) {
    let code = error.get("code").and_then(Value::as_u64).unwrap_or(0) as u32;
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    (code, message)
}

fn check_broadcast(channels: &[String], result: &Value) -> Result<(), Error> {
    let Some(responses) = result.get("responses").and_then(Value::as_array) else {
        return Ok(());
    };
    let failures: Vec<ChannelFailure> = responses
        .iter()
        .enumerate()
        .filter_map(|(index, response)| {
            let error = response.get("error").filter(|e| !e.is_null())?;
            let (code, message) = error_parts(error);
            let channel = channels
                .get(index)
                .cloned()
                .unwrap_or_else(|| format!("#{index}"));
            Some(ChannelFailure {
                channel,
                code,
                message,
            })
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::BroadcastPartial { failures })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(mode: ApiMode) -> ApiConfig {
        ApiConfig::new("http://127.0.0.1:8000/", ApiKey::new("topsecret"), mode).unwrap()
    }

    /// Keys out of alphabetical order, a number beyond f64 and u64, a decimal with a trailing zero.
    const PAYLOAD: &str =
        r#"{"zeta":1,"alpha":{"y":2,"b":3},"big":123456789012345678901234567890,"price":10.50}"#;

    #[test]
    fn publish_sends_the_data_bytes_as_given() {
        let command = ApiCommand::Publish {
            channel: "c".into(),
            data: PAYLOAD.into(),
            idempotency_key: String::new(),
        };
        for mode in [ApiMode::Modern, ApiMode::Legacy] {
            let request = config(mode).request(&command, mode).unwrap();
            let body = String::from_utf8(request.body).unwrap();
            assert!(body.contains(&format!(r#""data":{PAYLOAD}"#)), "{body}");
        }
    }

    #[test]
    fn results_keep_key_order_and_big_numbers() {
        let body = format!(
            r#"{{"result":{{"publications":[{{"data":{PAYLOAD},"offset":1}}],"offset":1,"epoch":"e"}}}}"#
        );
        let command = ApiCommand::History {
            channel: "c".into(),
            limit: 1,
            since: None,
            reverse: false,
        };
        let result =
            parse_response(&command, "http://x/api/history", 200, body.as_bytes()).unwrap();
        assert!(result.to_string().contains(PAYLOAD), "{result}");
    }

    #[test]
    fn user_commands() {
        let c = config(ApiMode::Modern);
        let cases = [
            (
                ApiCommand::Disconnect {
                    user: "42".into(),
                    client: String::new(),
                    code: 4001,
                    reason: "dismissed".into(),
                },
                "http://127.0.0.1:8000/api/disconnect",
                json!({"user":"42","disconnect":{"code":4001,"reason":"dismissed"}}),
            ),
            (
                ApiCommand::Disconnect {
                    user: "42".into(),
                    client: "c1".into(),
                    code: 0,
                    reason: String::new(),
                },
                "http://127.0.0.1:8000/api/disconnect",
                json!({"user":"42","client":"c1"}),
            ),
            (
                ApiCommand::Unsubscribe {
                    user: "42".into(),
                    channel: "calls:#42".into(),
                    client: String::new(),
                },
                "http://127.0.0.1:8000/api/unsubscribe",
                json!({"user":"42","channel":"calls:#42"}),
            ),
            (
                ApiCommand::Refresh {
                    user: "42".into(),
                    client: String::new(),
                    expire_at: 1_900_000_000,
                    expired: false,
                },
                "http://127.0.0.1:8000/api/refresh",
                json!({"user":"42","expire_at":1_900_000_000}),
            ),
            (
                ApiCommand::Refresh {
                    user: "42".into(),
                    client: String::new(),
                    expire_at: 0,
                    expired: true,
                },
                "http://127.0.0.1:8000/api/refresh",
                json!({"user":"42","expired":true}),
            ),
        ];
        for (command, url, body) in cases {
            let request = c.request(&command, ApiMode::Modern).unwrap();
            assert_eq!(request.url, url);
            assert_eq!(body_json(&request), body);
        }
        let nobody = ApiCommand::Unsubscribe {
            user: " ".into(),
            channel: "a".into(),
            client: String::new(),
        };
        assert!(matches!(
            c.request(&nobody, ApiMode::Modern),
            Err(Error::EmptyArgument {
                what: Argument::User
            })
        ));
    }

    fn publish() -> ApiCommand {
        ApiCommand::Publish {
            channel: "calls:101".into(),
            data: r#"{"text":"Звонок"}"#.into(),
            idempotency_key: "k1".into(),
        }
    }

    fn body_json(request: &HttpRequest) -> Value {
        serde_json::from_slice(&request.body).unwrap()
    }

    #[test]
    fn modern_publish() {
        let request = config(ApiMode::Modern)
            .request(&publish(), ApiMode::Modern)
            .unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.url, "http://127.0.0.1:8000/api/publish");
        assert!(request
            .headers
            .contains(&("X-API-Key", "topsecret".to_string())));
        let body = body_json(&request);
        assert_eq!(
            body,
            json!({"channel":"calls:101","data":{"text":"Звонок"},"idempotency_key":"k1"})
        );
    }

    #[test]
    fn legacy_publish() {
        let request = config(ApiMode::Legacy)
            .request(&publish(), ApiMode::Legacy)
            .unwrap();
        assert_eq!(request.url, "http://127.0.0.1:8000/api");
        assert!(request
            .headers
            .contains(&("Authorization", "apikey topsecret".to_string())));
        let body = body_json(&request);
        assert_eq!(body["method"], "publish");
        assert_eq!(body["params"]["channel"], "calls:101");
    }

    #[test]
    fn non_json_data_is_sent_as_string() {
        let command = ApiCommand::Publish {
            channel: "c".into(),
            data: "+79001234567 звонит".into(),
            idempotency_key: String::new(),
        };
        let body = body_json(
            &config(ApiMode::Modern)
                .request(&command, ApiMode::Modern)
                .unwrap(),
        );
        assert_eq!(body, json!({"channel":"c","data":"+79001234567 звонит"}));
    }

    #[test]
    fn other_commands() {
        let c = config(ApiMode::Modern);
        let b = ApiCommand::Broadcast {
            channels: vec!["a".into(), "b".into()],
            data: "1".into(),
            idempotency_key: String::new(),
        };
        assert_eq!(
            body_json(&c.request(&b, ApiMode::Modern).unwrap()),
            json!({"channels":["a","b"],"data":1})
        );
        let h = ApiCommand::History {
            channel: "a".into(),
            limit: 0,
            since: None,
            reverse: false,
        };
        assert_eq!(
            body_json(&c.request(&h, ApiMode::Modern).unwrap()),
            json!({"channel":"a","limit":-1})
        );
        let h = ApiCommand::History {
            channel: "a".into(),
            limit: 10,
            since: Some((5, "E".into())),
            reverse: true,
        };
        assert_eq!(
            body_json(&c.request(&h, ApiMode::Modern).unwrap()),
            json!({"channel":"a","limit":10,"since":{"offset":5,"epoch":"E"},"reverse":true})
        );
        let p = c
            .request(
                &ApiCommand::Presence {
                    channel: "a".into(),
                },
                ApiMode::Legacy,
            )
            .unwrap();
        assert_eq!(
            body_json(&p),
            json!({"method":"presence","params":{"channel":"a"}})
        );
        let i = c.request(&ApiCommand::Info, ApiMode::Modern).unwrap();
        assert_eq!(i.url, "http://127.0.0.1:8000/api/info");
    }

    #[test]
    fn key_never_in_debug() {
        let c = config(ApiMode::Modern);
        let request = c.request(&publish(), ApiMode::Modern).unwrap();
        assert!(!format!("{request:?}").contains("topsecret"));
        assert!(!format!("{c:?}").contains("topsecret"));
        let legacy = c.request(&publish(), ApiMode::Legacy).unwrap();
        assert!(!format!("{legacy:?}").contains("topsecret"));
    }

    #[test]
    fn responses() {
        let p = publish();
        let ok = parse_response(&p, "u", 200, br#"{"result":{"offset":3,"epoch":"xyz"}}"#).unwrap();
        assert_eq!(ok, json!({"offset":3,"epoch":"xyz"}));
        assert_eq!(
            parse_response(&p, "u", 200, br#"{"result":{}}"#).unwrap(),
            json!({})
        );
        let err = parse_response(
            &p,
            "u",
            200,
            br#"{"error":{"code":102,"message":"unknown channel"}}"#,
        )
        .unwrap_err();
        assert_eq!(
            err,
            Error::Server {
                method: "publish",
                code: 102,
                message: "unknown channel".into()
            }
        );
        let err = parse_response(&p, "http://h/api/publish", 401, b"").unwrap_err();
        assert!(matches!(err, Error::WrongApiKey { .. }), "{err}");
        assert!(matches!(
            parse_response(&p, "u", 500, b"boom"),
            Err(Error::HttpStatus { status: 500, .. })
        ));
        assert!(matches!(
            parse_response(&p, "u", 200, b"<html>"),
            Err(Error::InvalidResponse { .. })
        ));
        assert!(matches!(
            parse_response(&p, "u", 200, b"[]"),
            Err(Error::InvalidResponse { .. })
        ));
    }

    #[test]
    fn broadcast_partial_failure() {
        let b = ApiCommand::Broadcast {
            channels: vec!["a".into(), "b".into()],
            data: "1".into(),
            idempotency_key: String::new(),
        };
        let body = br#"{"result":{"responses":[{"result":{}},{"error":{"code":102,"message":"unknown channel"}}]}}"#;
        let err = parse_response(&b, "u", 200, body).unwrap_err();
        assert_eq!(
            err,
            Error::BroadcastPartial {
                failures: vec![ChannelFailure {
                    channel: "b".into(),
                    code: 102,
                    message: "unknown channel".into()
                }]
            }
        );
    }

    #[test]
    fn auto_falls_back_to_legacy_on_404() {
        let c = config(ApiMode::Auto);
        let (mut call, first) = ApiCall::start(&c, publish(), ApiMode::Auto).unwrap();
        assert_eq!(first.url, "http://127.0.0.1:8000/api/publish");
        let ApiStep::Send(second) =
            call.handle_response(&c, &first.url, 404, b"404 page not found")
        else {
            panic!("expected fallback");
        };
        assert_eq!(second.url, "http://127.0.0.1:8000/api");
        let ApiStep::Done(result) = call.handle_response(&c, &second.url, 200, br#"{"result":{}}"#)
        else {
            panic!("expected done");
        };
        assert!(result.is_ok());
        assert_eq!(call.resolved_mode(), ApiMode::Legacy);
        // A second 404 is final.
        let (mut call, first) = ApiCall::start(&c, publish(), ApiMode::Legacy).unwrap();
        assert!(matches!(
            call.handle_response(&c, &first.url, 404, b""),
            ApiStep::Done(Err(Error::ApiNotFound { .. }))
        ));
    }

    #[test]
    fn modern_mode_does_not_fall_back() {
        let c = config(ApiMode::Modern);
        let (mut call, first) = ApiCall::start(&c, ApiCommand::Info, ApiMode::Modern).unwrap();
        assert!(matches!(
            call.handle_response(&c, &first.url, 404, b""),
            ApiStep::Done(Err(Error::ApiNotFound { .. }))
        ));
        assert_eq!(call.resolved_mode(), ApiMode::Modern);
    }

    #[test]
    fn config_errors() {
        assert!(matches!(
            ApiConfig::new("centrifugo:8000", ApiKey::default(), ApiMode::Modern),
            Err(Error::InvalidApiUrl { .. })
        ));
        assert!(matches!(
            ApiConfig::new(
                "http://admin:Pa?ss-SECRET@127.0.0.1:9/api",
                ApiKey::default(),
                ApiMode::Modern
            ),
            Err(Error::UnsafeApiUrl {
                problem: tb_prims::address::AddressProblem::ReservedInUserinfo { character: '?' },
                ..
            })
        ));
        let c = ApiConfig::new(
            "HTTP://admin:Pa%3Fss@127.0.0.1:9/api/",
            ApiKey::default(),
            ApiMode::Modern,
        )
        .unwrap();
        assert_eq!(c.base_url(), "http://admin:Pa%3Fss@127.0.0.1:9");
        let c =
            ApiConfig::new("https://c.example/api", ApiKey::default(), ApiMode::Modern).unwrap();
        assert_eq!(c.base_url(), "https://c.example");
        assert_eq!(
            c.request(&ApiCommand::Info, ApiMode::Modern),
            Err(Error::EmptyApiKey)
        );
        let c = config(ApiMode::Modern);
        let empty = ApiCommand::Presence {
            channel: " ".into(),
        };
        assert_eq!(
            c.request(&empty, ApiMode::Modern),
            Err(Error::EmptyArgument {
                what: Argument::Channel
            })
        );
        assert_eq!(ApiMode::parse("AUTO"), Ok(ApiMode::Auto));
        assert!(ApiMode::parse("v9").is_err());
    }
}
