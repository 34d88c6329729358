//! Blocking HTTP client for server-side API calls: one keep-alive ureq agent per object, rustls with
//! the ring provider, certificates checked against the operating system's trust store, a proxy from
//! the caller or from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`).

use std::sync::Arc;
use std::time::Duration;

use once_cell::sync::Lazy;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// Root certificates of the operating system (Windows store, macOS keychain, /etc/ssl on Linux),
/// loaded once: corporate CAs installed on the machine are trusted like public ones.
pub(crate) static NATIVE_ROOTS: Lazy<Arc<Vec<rustls::pki_types::CertificateDer<'static>>>> =
    Lazy::new(|| {
        let loaded = rustls_native_certs::load_native_certs();
        Arc::new(loaded.certs)
    });

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpFailure {
    /// No complete answer within the timeout.
    Timeout,
    /// Refused, DNS, TLS, proxy or I/O failure, with a readable reason.
    Unreachable(String),
}

pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

pub struct HttpClient {
    agent: ureq::Agent,
}

impl HttpClient {
    /// `proxy`: empty = from the environment; otherwise `http://[user:password@]host:port`.
    pub fn new(timeout: Duration, proxy: &str) -> Result<HttpClient, String> {
        let proxy = if proxy.trim().is_empty() {
            ureq::Proxy::try_from_env()
        } else {
            Some(
                ureq::Proxy::new(proxy.trim())
                    .map_err(|e| format!("invalid proxy '{}': {e}", strip_credentials(proxy)))?,
            )
        };
        let roots: Vec<Certificate<'static>> = NATIVE_ROOTS
            .iter()
            .map(|der| Certificate::from_der(der.as_ref()).to_owned())
            .collect();
        let tls = TlsConfig::builder()
            .root_certs(RootCerts::new_with_certs(&roots))
            .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .build();
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_idle_connections_per_host(4)
            .tls_config(tls)
            .proxy(proxy)
            .user_agent(concat!("TelephonyBridge/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(HttpClient {
            agent: config.into(),
        })
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
        let body = response.body_mut().read_to_vec().map_err(failure)?;
        Ok(HttpResponse { status, body })
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

/// `http://user:secret@proxy:3128` → `http://***@proxy:3128`, for messages.
pub fn strip_credentials(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***{}", &url[..scheme_end + 3], &url[at..])
        }
        (None, Some(at)) => format!("***{}", &url[at..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_hidden() {
        assert_eq!(
            strip_credentials("http://u:p@proxy:3128"),
            "http://***@proxy:3128"
        );
        assert_eq!(strip_credentials("proxy:3128"), "proxy:3128");
    }
}
