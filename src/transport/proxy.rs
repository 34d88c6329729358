//! The one proxy implementation of the add-in, without I/O: what the `Прокси` property means, which proxy a
//! connection to a host takes (the property, or `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` with `NO_PROXY`), and the
//! HTTP `CONNECT` request and answer. The WebSocket link writes and reads the CONNECT bytes itself; the HTTP
//! client hands the chosen proxy to ureq, which then tunnels the same way.
//!
//! The property: empty — from the environment; `-`, `none` or `нет` — direct, whatever the environment says;
//! otherwise `http://[user:password@]host[:port]` (credentials percent-encoded, port 8080 when left out; a bare
//! `host[:port]` without credentials is taken as `http://`). It is parsed by the one address model
//! (`tb_prims::address`), so a password with `?`, `#`, `/` or `@` is refused with its escape instead of being
//! split somewhere else by each reader.

use base64::Engine;
use tb_prims::address::{Address, AddressProblem};

/// How large a CONNECT answer (status line and headers) may grow before the proxy is given up on.
pub const MAX_CONNECT_ANSWER: usize = 16 * 1024;

/// The port of a proxy whose setting names none.
pub const DEFAULT_PORT: u16 = 8080;

/// An HTTP proxy to tunnel through. Its `Debug` shows no credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    pub host: String,
    pub port: u16,
    address: Address,
}

/// A proxy setting that cannot be used (its texts: `present::driver`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyError {
    /// Only `http://` proxies (CONNECT) are supported. `shown` has no credentials.
    UnsupportedScheme { shown: String },
    /// The address breaks a rule of the address model (a control character — no CR/LF may reach the CONNECT
    /// request —, white space, a non-ASCII host, a reserved character in the password, a bad port…).
    Unsafe {
        shown: String,
        problem: AddressProblem,
    },
}

/// What a connection to `host` goes through. `tls` picks `HTTPS_PROXY` before `HTTP_PROXY`; `env` reads one
/// environment variable (the process environment in production, a table in tests).
pub fn choose(
    setting: &str,
    tls: bool,
    host: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, ProxyError> {
    let setting = setting.trim();
    if is_direct(setting) {
        return Ok(None);
    }
    if !setting.is_empty() {
        return Proxy::parse(setting).map(Some);
    }
    let names: &[&str] = if tls {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    let Some(value) = names
        .iter()
        .find_map(|name| env(name).filter(|v| !v.trim().is_empty()))
    else {
        return Ok(None);
    };
    let no_proxy = env("NO_PROXY")
        .or_else(|| env("no_proxy"))
        .unwrap_or_default();
    if no_proxy_matches(&no_proxy, host) {
        return Ok(None);
    }
    let proxy = Proxy::parse(&value)?;
    // The environment's proxy password is a configured secret too.
    proxy
        .secrets()
        .iter()
        .for_each(|secret| crate::secrets::remember(secret));
    Ok(Some(proxy))
}

/// [`choose`] with the process environment.
pub fn choose_from_env(setting: &str, tls: bool, host: &str) -> Result<Option<Proxy>, ProxyError> {
    choose(setting, tls, host, |name| std::env::var(name).ok())
}

/// `-`, `none`, `нет`: no proxy, not even one from the environment.
pub fn is_direct(setting: &str) -> bool {
    let setting = setting.trim();
    setting == "-" || setting.eq_ignore_ascii_case("none") || setting.to_lowercase() == "нет"
}

/// `NO_PROXY`: a comma-separated list of hosts and domain suffixes (`.example.com` and `example.com` both cover
/// `a.example.com`); `*` covers everything.
fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    list.split(',')
        .map(|entry| entry.trim().to_ascii_lowercase())
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.trim_start_matches('.');
            host == entry || host.ends_with(&format!(".{entry}"))
        })
}

impl Proxy {
    /// `http://[user:password@]host[:port]` or `host[:port]`.
    pub fn parse(value: &str) -> Result<Proxy, ProxyError> {
        let shown = tb_prims::redact::url(value);
        let address =
            Address::parse_or_default(value, &["http"], "http").map_err(
                |problem| match problem {
                    AddressProblem::Scheme => ProxyError::UnsupportedScheme {
                        shown: shown.clone(),
                    },
                    problem => ProxyError::Unsafe {
                        shown: shown.clone(),
                        problem,
                    },
                },
            )?;
        Ok(Proxy {
            host: address.host().to_string(),
            port: address.port().unwrap_or(DEFAULT_PORT),
            address,
        })
    }

    /// The proxy address as it is kept (credentials as written) and parsed back.
    pub fn canonical(&self) -> String {
        self.address.canonical()
    }

    /// The user name and password, decoded (for a library's proxy builder, which encodes them itself).
    pub fn credentials(&self) -> Option<(String, String)> {
        self.address.credentials()
    }

    /// Every secret of the setting, for the scrubber.
    pub fn secrets(&self) -> Vec<String> {
        self.address.secrets()
    }

    /// `Basic …` from the credentials, decoded from their percent-encoding.
    pub fn authorization(&self) -> Option<String> {
        self.credentials()
            .map(|(user, password)| basic(&user, &password))
    }

    /// The CONNECT request that opens a tunnel to `host:port`.
    pub fn connect_request(&self, host: &str, port: u16) -> String {
        let target = authority(host, port);
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some(authorization) = self.authorization() {
            request.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
        }
        request.push_str("\r\n");
        request
    }
}

/// What the bytes a proxy sent so far say about the CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectAnswer {
    /// The blank line that ends the answer has not arrived yet.
    Incomplete,
    /// `200`: the tunnel is open; every byte after the answer belongs to the target.
    Established,
    /// Any other status: the status line, for the error.
    Refused(String),
    /// More than [`MAX_CONNECT_ANSWER`] bytes without the blank line.
    TooLong,
}

/// Reads a CONNECT answer. The caller feeds it byte by byte so no byte of the tunnel is taken by mistake.
pub fn connect_answer(answer: &[u8]) -> ConnectAnswer {
    if !answer.ends_with(b"\r\n\r\n") {
        return if answer.len() > MAX_CONNECT_ANSWER {
            ConnectAnswer::TooLong
        } else {
            ConnectAnswer::Incomplete
        };
    }
    let status_line = String::from_utf8_lossy(answer)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    if status_line.split_whitespace().nth(1) == Some("200") {
        ConnectAnswer::Established
    } else {
        ConnectAnswer::Refused(status_line)
    }
}

/// `host:port`, with an IPv6 host in brackets.
fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `Basic base64(user:password)` (RFC 7617).
pub fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_setting_is_read_the_same_for_every_connection() {
        let environment = env(&[
            ("HTTPS_PROXY", "http://env:3128"),
            ("HTTP_PROXY", "plain:80"),
        ]);
        for direct in ["-", " none ", "НЕТ", "нет"] {
            assert_eq!(
                choose(direct, true, "h", &environment),
                Ok(None),
                "{direct}"
            );
        }
        let chosen = choose("", true, "h", &environment).unwrap().unwrap();
        assert_eq!((chosen.host.as_str(), chosen.port), ("env", 3128));
        let chosen = choose("", false, "h", &environment).unwrap().unwrap();
        assert_eq!((chosen.host.as_str(), chosen.port), ("plain", 80));
        let chosen = choose("given:1", true, "h", &environment).unwrap().unwrap();
        assert_eq!((chosen.host.as_str(), chosen.port), ("given", 1));
        assert_eq!(choose("", true, "h", env(&[])), Ok(None));
    }

    #[test]
    fn no_proxy_applies_to_the_environment_only() {
        let environment = env(&[
            ("ALL_PROXY", "p:1"),
            ("NO_PROXY", "localhost, .corp.example"),
        ]);
        assert_eq!(choose("", false, "a.corp.example", &environment), Ok(None));
        assert_eq!(choose("", false, "corp.example", &environment), Ok(None));
        assert_eq!(choose("", false, "LOCALHOST", &environment), Ok(None));
        assert!(choose("", false, "other.example", &environment)
            .unwrap()
            .is_some());
        assert!(choose("p:2", false, "localhost", &environment)
            .unwrap()
            .is_some());
        assert_eq!(
            choose(
                "",
                false,
                "x",
                env(&[("ALL_PROXY", "p:1"), ("no_proxy", "*")])
            ),
            Ok(None)
        );
    }

    #[test]
    fn proxies_and_their_credentials() {
        let proxy = Proxy::parse("http://user:pw@proxy.local:3128").unwrap();
        assert_eq!((proxy.host.as_str(), proxy.port), ("proxy.local", 3128));
        assert_eq!(proxy.authorization().as_deref(), Some("Basic dXNlcjpwdw=="));
        assert_eq!(proxy.canonical(), "http://user:pw@proxy.local:3128");
        let proxy = Proxy::parse("HTTP://operator:p%40ss@[::1]").unwrap();
        assert_eq!((proxy.host.as_str(), proxy.port), ("::1", 8080));
        assert_eq!(
            proxy.authorization().as_deref(),
            Some("Basic b3BlcmF0b3I6cEBzcw==")
        );
        let error = Proxy::parse("socks5://u:secret@p:1080").unwrap_err();
        let ProxyError::UnsupportedScheme { shown } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(shown, "socks5://***@p:1080");
        assert!(matches!(
            Proxy::parse("http://p:port"),
            Err(ProxyError::Unsafe {
                problem: AddressProblem::BadPort,
                ..
            })
        ));
        assert!(matches!(
            Proxy::parse("http://"),
            Err(ProxyError::Unsafe {
                problem: AddressProblem::NoHost,
                ..
            })
        ));
    }

    #[test]
    fn connect_request_and_answer() {
        let proxy = Proxy::parse("proxy:3128").unwrap();
        assert_eq!(
            proxy.connect_request("c.example", 443),
            "CONNECT c.example:443 HTTP/1.1\r\nHost: c.example:443\r\n\r\n"
        );
        let proxy = Proxy::parse("http://u:p@proxy").unwrap();
        assert_eq!(
            proxy.connect_request("::1", 8000),
            "CONNECT [::1]:8000 HTTP/1.1\r\nHost: [::1]:8000\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
        );
        assert_eq!(
            connect_answer(b"HTTP/1.1 200 Connection established\r\n"),
            ConnectAnswer::Incomplete
        );
        assert_eq!(
            connect_answer(b"HTTP/1.1 200 Connection established\r\nX: y\r\n\r\n"),
            ConnectAnswer::Established
        );
        assert_eq!(
            connect_answer(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"),
            ConnectAnswer::Refused("HTTP/1.1 407 Proxy Authentication Required".into())
        );
        assert_eq!(
            connect_answer(&vec![b'x'; MAX_CONNECT_ANSWER + 1]),
            ConnectAnswer::TooLong
        );
    }

    /// A proxy setting that cannot be used is reported without its password, whatever made it unusable and
    /// wherever it came from (the property or the environment), in the error itself (`present::driver` checks
    /// both languages of its text). Only the parsed proxy keeps the credentials, for the CONNECT request.
    #[test]
    fn credentials_are_hidden() {
        let proxy = Proxy::parse("http://operator:Pa%3Fss-SECRET@proxy:3128").unwrap();
        assert!(!format!("{proxy:?}").contains("SECRET"), "{proxy:?}");
        assert_eq!(
            proxy.credentials(),
            Some(("operator".to_string(), "Pa?ss-SECRET".to_string()))
        );
        for setting in [
            "http://operator:Pa?ss-SECRET@proxy:3128",
            "http://operator:Pa#ss-SECRET@proxy:3128",
            "http://operator:Pa/ss-SECRET@proxy:3128",
            "operator:Pa-SECRET@proxy:3128",
            "socks5://operator:Pa-SECRET@proxy:1080",
        ] {
            let error = Proxy::parse(setting).unwrap_err();
            let said = format!("{error:?}");
            assert!(!said.contains("SECRET"), "{setting}: {said}");
        }
        assert!(matches!(
            Proxy::parse("http://operator:Pa?ss-SECRET@proxy:3128"),
            Err(ProxyError::Unsafe {
                problem: AddressProblem::ReservedInUserinfo { character: '?' },
                ..
            })
        ));
        assert!(matches!(
            Proxy::parse("operator:Pa-SECRET@proxy:3128"),
            Err(ProxyError::Unsafe {
                problem: AddressProblem::NoScheme,
                ..
            })
        ));
    }

    #[test]
    fn a_bare_host_is_an_http_proxy() {
        let proxy = Proxy::parse("proxy.local").unwrap();
        assert_eq!(
            (proxy.host.as_str(), proxy.port),
            ("proxy.local", DEFAULT_PORT)
        );
        assert_eq!(proxy.canonical(), "http://proxy.local");
    }
}
