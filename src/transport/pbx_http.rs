//! Blocking HTTP for the PBX APIs (UIS Call API, Binotel-style API): one keep-alive ureq agent per 1C object,
//! rustls with the ring provider, the operating system's trust store (corporate CAs count), a proxy from the
//! property or from the environment. The calls are request/response and the 1C method waits for the answer, so
//! no worker thread is needed; the timeout bounds the wait.

use std::sync::Arc;
use std::time::Duration;

use once_cell::sync::Lazy;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use crate::native::AddinError;

/// The OS root certificates, loaded once per process; the bundled webpki roots when the OS gives none.
static OS_ROOTS: Lazy<Arc<Vec<Certificate<'static>>>> = Lazy::new(|| {
    let loaded = rustls_native_certs::load_native_certs();
    Arc::new(
        loaded
            .certs
            .iter()
            .map(|der| Certificate::from_der(der.as_ref()).to_owned())
            .collect(),
    )
});

pub struct PbxResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why no answer came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PbxHttpFailure {
    Timeout,
    Unreachable(String),
}

impl PbxHttpFailure {
    /// A localized error naming the API and the host (never the path's query or credentials).
    pub fn to_addin_error(&self, api: &str, url: &str) -> AddinError {
        let where_to = display_url(url);
        match self {
            PbxHttpFailure::Timeout => AddinError::new(
                format!("{api} did not answer in time ({where_to})"),
                format!(
                    "{api} не ответил вовремя ({where_to}); увеличьте Таймаут или проверьте сеть"
                ),
            ),
            PbxHttpFailure::Unreachable(reason) => AddinError::new(
                format!("{api} is unreachable ({where_to}): {reason}"),
                format!("{api} недоступен ({where_to}): {reason}"),
            ),
        }
    }
}

pub struct PbxHttpClient {
    agent: ureq::Agent,
}

impl PbxHttpClient {
    /// `proxy`: empty = from the environment (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`), else `http://host:port`.
    pub fn new(timeout: Duration, proxy: &str) -> Result<PbxHttpClient, AddinError> {
        let proxy = if proxy.trim().is_empty() {
            ureq::Proxy::try_from_env()
        } else {
            Some(ureq::Proxy::new(proxy.trim()).map_err(|e| {
                AddinError::new(
                    format!("invalid proxy \"{}\": {e}", display_url(proxy)),
                    format!("неверный прокси \"{}\": {e}", display_url(proxy)),
                )
            })?)
        };
        let roots = if OS_ROOTS.is_empty() {
            RootCerts::WebPki
        } else {
            RootCerts::new_with_certs(OS_ROOTS.as_slice())
        };
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_idle_connections_per_host(2)
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .proxy(proxy)
            .user_agent(concat!("TelephonyBridge/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(PbxHttpClient {
            agent: config.into(),
        })
    }

    /// POSTs a JSON body; any HTTP status is an answer (the APIs put their errors in JSON).
    pub fn post_json(&self, url: &str, body: &str) -> Result<PbxResponse, PbxHttpFailure> {
        let mut response = self
            .agent
            .post(url)
            .header("Content-Type", "application/json; charset=UTF-8")
            .header("Accept", "application/json")
            .send(body.as_bytes())
            .map_err(failure)?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_vec()
            .map_err(failure)?;
        Ok(PbxResponse { status, body })
    }
}

fn failure(error: ureq::Error) -> PbxHttpFailure {
    match error {
        ureq::Error::Timeout(_) => PbxHttpFailure::Timeout,
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => PbxHttpFailure::Timeout,
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            PbxHttpFailure::Unreachable("connection refused".into())
        }
        ureq::Error::HostNotFound => PbxHttpFailure::Unreachable("host not found".into()),
        other => PbxHttpFailure::Unreachable(other.to_string()),
    }
}

/// `base` + `/` + `path`, with exactly one slash between them.
pub fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim().trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Scheme, host and path only: no `user:password@`, no query (tokens travel there in some setups).
pub fn display_url(url: &str) -> String {
    let url = url.trim();
    let without_query = url.split(['?', '#']).next().unwrap_or_default();
    match (without_query.find("://"), without_query.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!(
                "{}***{}",
                &without_query[..scheme_end + 3],
                &without_query[at..]
            )
        }
        (None, Some(at)) => format!("***{}", &without_query[at..]),
        _ => without_query.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_and_hide_credentials() {
        assert_eq!(
            join_url("https://h/api/", "/stats/x.json"),
            "https://h/api/stats/x.json"
        );
        assert_eq!(
            join_url("https://h", "stats/x.json"),
            "https://h/stats/x.json"
        );
        assert_eq!(display_url("https://u:p@h/x?token=1"), "https://***@h/x");
        assert_eq!(display_url("proxy:3128"), "proxy:3128");
    }
}
