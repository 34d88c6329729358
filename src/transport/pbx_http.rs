//! HTTP for the PBX APIs (UIS Call API, Binotel-style API) on top of the shared blocking client
//! ([`super::http::HttpClient`]: keep-alive ureq agent, rustls with ring, the OS trust store, proxy from the property
//! or the environment). The calls are request/response and the 1C method waits for the answer, bounded by the
//! timeout, so no worker thread is needed. What is added here: JSON posting, localized failures, URL helpers.

use std::time::Duration;

use super::http::{HttpClient, HttpFailure, HttpResponse};
use crate::native::AddinError;

pub struct PbxHttpClient {
    client: HttpClient,
}

impl PbxHttpClient {
    /// `proxy`: empty = from the environment (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`), else `http://host:port`.
    pub fn new(timeout: Duration, proxy: &str) -> Result<PbxHttpClient, AddinError> {
        HttpClient::new(timeout, proxy)
            .map(|client| PbxHttpClient { client })
            .map_err(|reason| {
                AddinError::new(reason.clone(), format!("неверные настройки HTTP: {reason}"))
            })
    }

    /// POSTs a JSON body; any HTTP status is an answer (the APIs put their errors in JSON).
    pub fn post_json(&self, url: &str, body: &str) -> Result<HttpResponse, HttpFailure> {
        let headers = [
            (
                "Content-Type",
                "application/json; charset=UTF-8".to_string(),
            ),
            ("Accept", "application/json".to_string()),
        ];
        self.client.post(url, &headers, body.as_bytes())
    }
}

/// A localized error naming the API and the host (never the query or credentials).
pub fn failure_error(failure: &HttpFailure, api: &str, url: &str) -> AddinError {
    let where_to = display_url(url);
    match failure {
        HttpFailure::Timeout => AddinError::new(
            format!("{api} did not answer in time ({where_to})"),
            format!("{api} не ответил вовремя ({where_to}); увеличьте Таймаут или проверьте сеть"),
        ),
        HttpFailure::Unreachable(reason) => AddinError::new(
            format!("{api} is unreachable ({where_to}): {reason}"),
            format!("{api} недоступен ({where_to}): {reason}"),
        ),
    }
}

/// A localized error for an HTTP status that carries no API answer the parser could read.
pub fn status_error(api: &str, status: u16, url: &str) -> AddinError {
    let where_to = display_url(url);
    AddinError::new(
        format!("{api} answered HTTP {status} ({where_to})"),
        format!("{api} ответил HTTP {status} ({where_to})"),
    )
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
