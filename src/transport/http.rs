//! Blocking HTTP client for server-side API calls: one keep-alive ureq agent per object, the add-in's TLS
//! configuration (`super::tls`), and the proxy `super::proxy` chooses for the API's host. Redirects are never
//! followed.

use std::time::Duration;

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
    /// ureq refused the proxy that was chosen (`shown` has no credentials).
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
    /// A client for requests to `url`'s host. `proxy_setting` is the `Прокси` property as set (see
    /// [`proxy::choose`]).
    pub fn new(
        timeout: Duration,
        proxy_setting: &str,
        url: &str,
    ) -> Result<HttpClient, ClientError> {
        let serves = host_of(url);
        let (https, host) = (serves.0, serves.1.as_str());
        let chosen =
            proxy::choose_from_env(proxy_setting, https, host).map_err(ClientError::Proxy)?;
        let proxy =
            match chosen {
                None => None,
                Some(chosen) => Some(ureq::Proxy::new(&chosen.url()).map_err(|e| {
                    ClientError::ProxyRefused {
                        shown: tb_prims::redact::url(proxy_setting),
                        reason: e.to_string(),
                    }
                })?),
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

    /// Whether this client was built for `url`'s scheme and host (else the proxy choice may differ).
    pub fn serves(&self, url: &str) -> bool {
        host_of(url) == self.serves
    }

    pub fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<HttpResponse, HttpFailure> {
        let mut request = self.agent.post(url);
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

/// Whether `url` is `https://`, and its host (empty when it has none; the request then fails with its own
/// error).
fn host_of(url: &str) -> (bool, String) {
    let (tls, rest) = match proxy::split_scheme(url.trim()) {
        Some((scheme, rest)) => (scheme.eq_ignore_ascii_case("https"), rest),
        None => (false, url.trim()),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = proxy::split_host_port(authority, 0)
        .map(|(host, _)| host)
        .unwrap_or_default();
    (tls, host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_api_addresses() {
        assert_eq!(
            host_of("https://u:p@Api.example:8443/x?y"),
            (true, "Api.example".into())
        );
        assert_eq!(host_of("http://[::1]/api"), (false, "::1".into()));
        assert_eq!(host_of("сервер/api"), (false, "сервер".into()));
    }
}
