//! The texts of the driver's and the transports' failures (a worker that failed or stopped, an HTTP exchange
//! without an answer, a proxy setting that cannot be used), each variant's two languages in one arm.

use tb_prims::redact::without_query;

use super::Text;
use crate::driver::http::HttpError;
use crate::driver::DriverError;
use crate::transport::proxy::ProxyError;

pub fn error_text(error: &DriverError) -> Text {
    match error {
        DriverError::Spawn { role, reason } => Text::new(
            format!("cannot start {}: {reason}", role.en),
            format!("не удалось запустить {}: {reason}", role.ru),
        ),
        DriverError::Failed { role, detail } => Text::new(
            format!(
                "internal error in {} ({detail}); create the object again",
                role.en
            ),
            format!(
                "внутренняя ошибка {} ({detail}); создайте объект заново",
                role.ru_of
            ),
        ),
        DriverError::Stopped { role } => Text::new(
            format!("{} has stopped; create the object again", role.en),
            format!("{} остановлен; создайте объект заново", role.ru),
        ),
    }
}

/// Names the API and the address (never its query or credentials).
pub fn http_error_text(error: &HttpError, api: &str) -> Text {
    match error {
        HttpError::Proxy(error) => proxy_error_text(error),
        HttpError::ProxyRefused { shown, reason } => Text::new(
            format!("invalid proxy '{shown}': {reason}"),
            format!("неверный прокси '{shown}': {reason}"),
        ),
        HttpError::Timeout { url, .. } => {
            let url = without_query(url);
            Text::new(
                format!("{api} did not answer in time ({url})"),
                format!("{api} не ответил вовремя ({url}); увеличьте Таймаут или проверьте сеть"),
            )
        }
        HttpError::Unreachable { url, reason } => {
            let url = without_query(url);
            Text::new(
                format!("{api} is unreachable ({url}): {reason}"),
                format!("{api} недоступен ({url}): {reason}"),
            )
        }
        HttpError::Status { url, status } => {
            let url = without_query(url);
            Text::new(
                format!("{api} answered HTTP {status} ({url})"),
                format!("{api} ответил HTTP {status} ({url})"),
            )
        }
    }
}

pub fn proxy_error_text(error: &ProxyError) -> Text {
    match error {
        ProxyError::UnsupportedScheme { shown } => Text::new(
            format!("proxy '{shown}': only http:// proxies (CONNECT) are supported"),
            format!("прокси '{shown}': поддерживаются только прокси http:// (CONNECT)"),
        ),
        ProxyError::BadAddress { shown, reason } => Text::new(
            format!("proxy '{shown}': {reason}"),
            format!("прокси '{shown}': неверный адрес ({reason})"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_texts_hide_the_query_and_credentials() {
        let error = HttpError::Status {
            url: "https://u:p@h/x?token=1".into(),
            status: 502,
        };
        assert_eq!(
            http_error_text(&error, "UIS Call API"),
            Text::new(
                "UIS Call API answered HTTP 502 (https://***@h/x)",
                "UIS Call API ответил HTTP 502 (https://***@h/x)"
            )
        );
    }
}
