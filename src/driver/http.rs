//! The one HTTP exchange runner of the add-in: Centrifugo's server API, the UIS Call API and the Binotel API all
//! post through it, with one classification of what can go wrong.
//!
//! The 1C method waits for the answer (bounded by the object's timeout), so no thread is started: the exchange
//! runs on the 1C thread. The client is built on first use, not when a property is set, so an object that never
//! calls its API opens no connection pool; a new timeout, proxy or host drops it so the next call uses the new
//! values.

use std::time::Duration;

use tb_prims::address::{Address, AddressProblem};

use crate::transport::http::{ClientError, HttpClient, HttpFailure, HttpResponse};
use crate::transport::proxy::ProxyError;

/// Why an exchange brought no answer the API's parser can read (its texts: `present::driver`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The Прокси setting (or the environment's proxy) cannot be used.
    Proxy(ProxyError),
    /// The request's address breaks a rule of the address model (`shown` has no credentials).
    Address {
        shown: String,
        problem: AddressProblem,
    },
    /// ureq refused the proxy that was chosen.
    ProxyRefused { shown: String, reason: String },
    /// No complete answer within the timeout.
    Timeout { url: String, timeout: Duration },
    /// Refused, DNS, TLS, proxy or I/O failure.
    Unreachable { url: String, reason: String },
    /// An HTTP status outside 2xx with a body that is no API answer (an HTML error page of a proxy or server).
    Status { url: String, status: u16 },
    /// A 3xx answer: never followed, never a success (`location` as sent, empty when there was none; shown only
    /// through the one redaction).
    Redirect {
        url: String,
        status: u16,
        location: String,
    },
}

/// Whether a response is an answer of the API: any 2xx, or any status with a JSON body (the APIs put their
/// errors in JSON, often with a 4xx or 5xx status).
pub fn is_api_answer(response: &HttpResponse) -> bool {
    let first = response.body.iter().find(|b| !b.is_ascii_whitespace());
    (200..300).contains(&response.status) || matches!(first, Some(b'{') | Some(b'['))
}

/// The timeout, the proxy and the client built from them, for one object.
pub struct HttpRunner {
    timeout: Duration,
    proxy: String,
    client: Option<HttpClient>,
}

impl HttpRunner {
    pub fn new(timeout: Duration) -> HttpRunner {
        HttpRunner {
            timeout,
            proxy: String::new(),
            client: None,
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The proxy as 1C reads it back: without the credentials it may carry.
    pub fn proxy_shown(&self) -> String {
        tb_prims::redact::url(&self.proxy)
    }

    /// The proxy as set, for a transport that reads the same property.
    pub fn proxy(&self) -> &str {
        &self.proxy
    }

    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
        self.client = None;
    }

    /// Takes the Прокси setting, parsed here, where it is typed, by the one address model: any fault (a CR/LF
    /// that must never reach a CONNECT request, a SOCKS scheme, a bad port, a password with a reserved
    /// character) is refused now; the proxy's password joins the scrubber. What is kept is the canonical form.
    pub fn set_proxy(&mut self, proxy: &str) -> Result<(), ProxyError> {
        let proxy = proxy.trim();
        self.proxy = if proxy.is_empty() || crate::transport::proxy::is_direct(proxy) {
            proxy.to_string()
        } else {
            let parsed = crate::transport::proxy::Proxy::parse(proxy)?;
            parsed
                .secrets()
                .iter()
                .for_each(|secret| crate::secrets::remember(secret));
            parsed.canonical()
        };
        self.client = None;
        Ok(())
    }

    /// Drops the client (and its idle connections).
    pub fn reset(&mut self) {
        self.client = None;
    }

    /// One POST; any HTTP status but 3xx is a response (the caller's protocol reads statuses itself). A 3xx is
    /// [`HttpError::Redirect`]: following it would hand the request's key or token to another address.
    pub fn post(
        &mut self,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<HttpResponse, HttpError> {
        let timeout = self.timeout;
        // The address was checked where it was set; this parses the kept canonical text, not a user's.
        let address =
            Address::parse(url, &["http", "https"]).map_err(|problem| HttpError::Address {
                shown: tb_prims::redact::url(url),
                problem,
            })?;
        let client = self.client_for(&address)?;
        let response = client
            .post(&address, headers, body)
            .map_err(|failure| match failure {
                HttpFailure::Timeout => HttpError::Timeout {
                    url: url.to_string(),
                    timeout,
                },
                HttpFailure::Unreachable(reason) => HttpError::Unreachable {
                    url: url.to_string(),
                    reason,
                },
            })?;
        if (300..400).contains(&response.status) {
            return Err(HttpError::Redirect {
                url: url.to_string(),
                status: response.status,
                location: response.location.unwrap_or_default(),
            });
        }
        Ok(response)
    }

    /// POSTs a JSON body to a JSON API; a status without an API answer is an error (see [`is_api_answer`]).
    pub fn post_json(&mut self, url: &str, body: &str) -> Result<HttpResponse, HttpError> {
        let headers = [
            (
                "Content-Type",
                "application/json; charset=UTF-8".to_string(),
            ),
            ("Accept", "application/json".to_string()),
        ];
        let response = self.post(url, &headers, body.as_bytes())?;
        if is_api_answer(&response) {
            Ok(response)
        } else {
            Err(HttpError::Status {
                url: url.to_string(),
                status: response.status,
            })
        }
    }

    fn client_for(&mut self, address: &Address) -> Result<&HttpClient, HttpError> {
        if !self
            .client
            .as_ref()
            .is_some_and(|client| client.serves(address))
        {
            let client =
                HttpClient::new(self.timeout, &self.proxy, address).map_err(|e| match e {
                    ClientError::Proxy(e) => HttpError::Proxy(e),
                    ClientError::ProxyRefused { shown, reason } => {
                        HttpError::ProxyRefused { shown, reason }
                    }
                })?;
            self.client = Some(client);
        }
        match &self.client {
            Some(client) => Ok(client),
            None => unreachable!("the client was just built"),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join() {
        assert_eq!(
            join_url("https://h/api/", "/stats/x.json"),
            "https://h/api/stats/x.json"
        );
        assert_eq!(
            join_url("https://h", "stats/x.json"),
            "https://h/stats/x.json"
        );
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            body: body.as_bytes().to_vec(),
            location: None,
        }
    }

    #[test]
    fn answers_of_the_api_and_the_rest() {
        assert!(is_api_answer(&response(200, "")));
        assert!(is_api_answer(&response(500, " {\"error\":1}")));
        assert!(is_api_answer(&response(400, "[1]")));
        assert!(!is_api_answer(&response(502, "<html>Bad gateway</html>")));
        assert!(!is_api_answer(&response(404, "")));
    }
}
