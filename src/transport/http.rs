//! Blocking HTTP client for server-side API calls: one keep-alive ureq agent per object, the add-in's TLS
//! configuration (`super::tls`), and the proxy `super::proxy` chooses for the API's host. Redirects are never
//! followed.
//!
//! ureq is given parts, never a user's text: the request URL rebuilt from the parsed address without its
//! credentials (they travel as an `Authorization: Basic` header built here), and the proxy as host, port, user
//! and password through its builder.

use std::time::Duration;

use tb_prims::address::Address;

use super::proxy;
use super::tls;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpFailure {
    /// No complete answer within the timeout.
    Timeout,
    /// Refused, DNS, TLS, proxy or I/O failure, with a readable reason.
    Unreachable(String),
}

/// Why no client could be built.
#[derive(Debug)]
pub enum ClientError {
    Proxy(proxy::ProxyError),
    /// ureq refused the proxy that was chosen (`shown` has no credentials; `reason` is ureq's text, which the
    /// caller shows only through the scrubber).
    ProxyRefused {
        shown: String,
        reason: String,
    },
}

pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
    /// The `Location` header of a 3xx answer (redirects are never followed: the API key or token in the
    /// request must not reach another address), as sent; the caller redacts it before showing it.
    pub location: Option<String>,
}

pub struct HttpClient {
    agent: ureq::Agent,
    /// `https` and the host this client (and its proxy choice) is for.
    serves: (bool, String),
}

impl HttpClient {
    /// A client for requests to `address`'s host. `proxy_setting` is the `Прокси` property as kept (see
    /// [`proxy::choose`]).
    pub fn new(
        timeout: Duration,
        proxy_setting: &str,
        address: &Address,
    ) -> Result<HttpClient, ClientError> {
        let serves = (address.is_tls(), address.host().to_string());
        let chosen = proxy::choose_from_env(proxy_setting, serves.0, &serves.1)
            .map_err(ClientError::Proxy)?;
        let proxy = match chosen {
            None => None,
            Some(chosen) => {
                let mut builder = ureq::Proxy::builder(ureq::ProxyProtocol::Http)
                    .host(&chosen.host)
                    .port(chosen.port);
                if let Some((user, password)) = chosen.credentials() {
                    builder = builder.username(&user).password(&password);
                }
                Some(builder.build().map_err(|e| ClientError::ProxyRefused {
                    shown: tb_prims::redact::url(proxy_setting),
                    reason: e.to_string(),
                })?)
            }
        };
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            // A redirect would carry X-API-Key, the access token or the signed body to wherever the answer
            // points (ureq strips only Authorization); a 3xx comes back as a response and the runner refuses it.
            .max_redirects(0)
            .max_idle_connections_per_host(4)
            .tls_config(tls::ureq_config())
            .proxy(proxy)
            .user_agent(concat!("TelephonyBridge/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(HttpClient {
            agent: config.into(),
            serves,
        })
    }

    /// Whether this client was built for `address`'s scheme and host (else the proxy choice may differ).
    pub fn serves(&self, address: &Address) -> bool {
        address.is_tls() == self.serves.0 && address.host() == self.serves.1
    }

    /// POSTs to `address`: ureq gets the rebuilt URL without credentials; credentials in the address become
    /// `Authorization: Basic …` unless the caller sends an `Authorization` of its own.
    pub fn post(
        &self,
        address: &Address,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<HttpResponse, HttpFailure> {
        let mut request = self.agent.post(address.without_credentials());
        let has_authorization = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
        if let (Some((user, password)), false) = (address.credentials(), has_authorization) {
            request = request.header("Authorization", proxy::basic(&user, &password));
        }
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let mut response = request.send(body).map_err(failure)?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        let body = response.body_mut().read_to_vec().map_err(failure)?;
        Ok(HttpResponse {
            status,
            body,
            location,
        })
    }
}

fn failure(error: ureq::Error) -> HttpFailure {
    match error {
        ureq::Error::Timeout(_) => HttpFailure::Timeout,
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => HttpFailure::Timeout,
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            HttpFailure::Unreachable("connection refused".to_string())
        }
        ureq::Error::HostNotFound => HttpFailure::Unreachable("host not found".to_string()),
        other => HttpFailure::Unreachable(other.to_string()),
    }
}
