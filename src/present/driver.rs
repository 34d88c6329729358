//! The texts of the driver's and the transports' failures (a worker that failed or stopped, an HTTP exchange
//! without an answer, a proxy setting that cannot be used), each variant's two languages in one arm.

use tb_prims::address::AddressProblem;
use tb_prims::redact;

use super::{AddinError, Text};
use crate::driver::centrifugo::LinkError;
use crate::driver::http::HttpError;
use crate::driver::DriverError;
use crate::transport::proxy::ProxyError;

impl From<DriverError> for AddinError {
    fn from(error: DriverError) -> Self {
        error_text(&error).into()
    }
}

pub fn error_text(error: &DriverError) -> Text {
    match error {
        DriverError::Spawn { role, reason } => Text::new(
            format!("cannot start {}: {reason}", role.en),
            format!("не удалось запустить {}: {reason}", role.ru),
        ),
        DriverError::Failed { role, code, .. } => Text::new(
            format!(
                "internal error in {} (code {code}); create the object again and report the code with the log",
                role.en
            ),
            format!(
                "внутренняя ошибка {} (код {code}); создайте объект заново и сообщите код, приложив журнал",
                role.ru_of
            ),
        ),
        DriverError::Stopped { role } => Text::new(
            format!("{} has stopped; create the object again", role.en),
            format!("{} остановлен; создайте объект заново", role.ru),
        ),
    }
}

/// A panic caught at the Native API boundary, as the user sees it: a fixed text and the code under which the
/// log keeps the payload (never the payload itself: it may hold any string the code was handling).
pub fn panic_text(code: &str) -> Text {
    Text::new(
        format!("internal error of the add-in (code {code}); the object keeps working, please report the code with the log"),
        format!("внутренняя ошибка компоненты (код {code}); объект продолжает работу, сообщите код, приложив журнал"),
    )
}

/// Names the API and the address (never its query or credentials).
pub fn http_error_text(error: &HttpError, api: &str) -> Text {
    match error {
        HttpError::Proxy(error) => proxy_error_text(error),
        HttpError::Address { shown, problem } => {
            let why = address_problem_text(*problem);
            Text::new(
                format!("{api}: the address '{shown}' cannot be used: {}", why.en),
                format!("{api}: адрес '{shown}' нельзя использовать: {}", why.ru),
            )
        }
        HttpError::ProxyRefused { shown, reason } => Text::new(
            format!("invalid proxy '{shown}': {reason}"),
            format!("неверный прокси '{shown}': {reason}"),
        ),
        HttpError::Timeout { url, .. } => {
            let url = redact::url(url);
            Text::new(
                format!("{api} did not answer in time ({url})"),
                format!("{api} не ответил вовремя ({url}); увеличьте Таймаут или проверьте сеть"),
            )
        }
        HttpError::Unreachable { url, reason } => {
            let url = redact::url(url);
            Text::new(
                format!("{api} is unreachable ({url}): {reason}"),
                format!("{api} недоступен ({url}): {reason}"),
            )
        }
        HttpError::Redirect {
            url,
            status,
            location,
        } => redirect_text(api, &redact::url(url), *status, location),
        HttpError::Status { url, status } => {
            let url = redact::url(url);
            Text::new(
                format!("{api} answered HTTP {status} ({url})"),
                format!("{api} ответил HTTP {status} ({url})"),
            )
        }
    }
}

/// A 3xx from an API: the new location is named (redacted), the request was not repeated there.
pub fn redirect_text(api: &str, url: &str, status: u16, location: &str) -> Text {
    let location = if location.trim().is_empty() {
        "(no Location)".to_string()
    } else {
        redact::url(location)
    };
    Text::new(
        format!("{api} answered HTTP {status} redirecting to {location} ({url}); redirects are not followed, so that the key is never sent elsewhere: put the final address in the settings"),
        format!("{api} ответил HTTP {status} с перенаправлением на {location} ({url}); перенаправления не выполняются, чтобы ключ не ушёл на другой адрес: укажите в настройках конечный адрес"),
    )
}

/// A URL property refused when set: names the property (both names) and the address without its secrets.
pub fn address_setting_text(property: (&str, &str), shown: &str, problem: AddressProblem) -> Text {
    let why = address_problem_text(problem);
    let (en, ru) = property;
    let expected = match problem {
        AddressProblem::NoScheme | AddressProblem::Scheme => {
            " (expected http:// or https://, for example https://pbx.example.com/api/)"
        }
        _ => "",
    };
    let expected_ru = match problem {
        AddressProblem::NoScheme | AddressProblem::Scheme => {
            " (ожидается http:// или https://, например https://pbx.example.com/api/)"
        }
        _ => "",
    };
    Text::new(
        format!("{en} ({ru}) '{shown}' cannot be used: {}{expected}", why.en),
        format!(
            "{ru} ({en}) '{shown}' нельзя использовать: {}{expected_ru}",
            why.ru
        ),
    )
}

/// Why an address was refused (the caller names the address).
pub fn address_problem_text(problem: AddressProblem) -> Text {
    match problem {
        AddressProblem::Control { position } => Text::new(
            format!("it has a control character (such as a line break) at position {position}"),
            format!("в нём управляющий символ (например, перевод строки) в позиции {position}"),
        ),
        AddressProblem::Space { position } => Text::new(
            format!("it has a space at position {position}"),
            format!("в нём пробел в позиции {position}"),
        ),
        AddressProblem::NonAsciiHost { character } => Text::new(
            format!("the host has the non-Latin character '{character}' (a Cyrillic letter that looks Latin?); write an international name in punycode (xn--…)"),
            format!("в имени узла нелатинский символ '{character}' (кириллическая буква, похожая на латинскую?); международное имя запишите в punycode (xn--…)"),
        ),
        AddressProblem::NonAsciiPath { character } => Text::new(
            format!("the path has the non-ASCII character '{character}'; percent-encode it"),
            format!("в пути символ вне ASCII '{character}'; закодируйте его через %"),
        ),
        AddressProblem::NoScheme => Text::new(
            "it has no scheme: write it in full, for example http://user:password@host:port/path",
            "в нём нет схемы: укажите адрес полностью, например http://пользователь:пароль@узел:порт/путь",
        ),
        AddressProblem::Scheme => Text::new(
            "its scheme is not one this setting takes",
            "его схема не подходит для этой настройки",
        ),
        AddressProblem::NoHost => Text::new("it has no host", "в нём нет имени узла"),
        AddressProblem::BadHost { character } => Text::new(
            format!("the host has the character '{character}' (a host is letters, digits, '-', '.', or an IPv6 address in [ ])"),
            format!("в имени узла символ '{character}' (имя узла — буквы, цифры, «-», «.» или IPv6-адрес в [ ])"),
        ),
        AddressProblem::BadPort => Text::new(
            "the port is not a number from 1 to 65535",
            "порт — не число от 1 до 65535",
        ),
        AddressProblem::ReservedInUserinfo { character } => {
            let escaped = tb_prims::address::escape(character);
            Text::new(
                format!("the user name or password holds the character '{character}', which ends or splits an address: percent-encode the password ({escaped} instead of {character}); an @ that belongs to the path or query is written %40"),
                format!("в имени пользователя или пароле символ «{character}», который разрывает адрес: закодируйте пароль ({escaped} вместо {character}); символ @ в пути или параметрах записывается как %40"),
            )
        }
        AddressProblem::BadEscape => Text::new(
            "the user name or password has a '%' without two hex digits after it: write %25 instead of %",
            "в имени пользователя или пароле символ «%» без двух шестнадцатеричных цифр после него: закодируйте пароль (%25 вместо %)",
        ),
    }
}

/// Why the WebSocket link was not opened or was ended, as the reason of the event that follows says it
/// (English, like every reason a transport gives).
pub fn link_error_reason(error: &LinkError) -> String {
    match error {
        LinkError::Address { shown, problem } => {
            format!(
                "'{shown}' cannot be used: {}",
                address_problem_text(*problem).en
            )
        }
        LinkError::Proxy(error) => proxy_error_text(error).en,
        LinkError::Oversized { limit } => format!(
            "the server sent a message larger than {limit} bytes (MaxMessageSize); reconnecting"
        ),
    }
}

pub fn proxy_error_text(error: &ProxyError) -> Text {
    match error {
        ProxyError::UnsupportedScheme { shown } => Text::new(
            format!("proxy '{shown}': only http:// proxies (CONNECT) are supported"),
            format!("прокси '{shown}': поддерживаются только прокси http:// (CONNECT)"),
        ),
        ProxyError::Unsafe { shown, problem } => {
            let why = address_problem_text(*problem);
            Text::new(
                format!("proxy '{shown}' cannot be used: {}", why.en),
                format!("прокси '{shown}' нельзя использовать: {}", why.ru),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::worker::Role;

    #[test]
    fn http_texts_hide_the_query_and_credentials() {
        let error = HttpError::Status {
            url: "https://u:p@h/x?token=1".into(),
            status: 502,
        };
        assert_eq!(
            http_error_text(&error, "UIS Call API"),
            Text::new(
                "UIS Call API answered HTTP 502 (https://***@h/x?token=***)",
                "UIS Call API ответил HTTP 502 (https://***@h/x?token=***)"
            )
        );
    }

    /// A proxy setting that cannot be used is refused without its password in both languages, whatever made it
    /// unusable and wherever it came from (the property or the environment).
    #[test]
    fn proxy_texts_hide_the_credentials() {
        for setting in [
            "http://operator:Pa?ss-SECRET@proxy:3128",
            "http://operator:Pa#ss-SECRET@proxy:3128",
            "http://operator:Pa/ss-SECRET@proxy:3128",
            "operator:Pa-SECRET@proxy:3128",
            "socks5://operator:Pa-SECRET@proxy:1080",
        ] {
            let error = crate::transport::proxy::Proxy::parse(setting).unwrap_err();
            let text = proxy_error_text(&error);
            for said in [text.en, text.ru] {
                assert!(!said.contains("SECRET"), "{setting}: {said}");
            }
        }
    }

    #[test]
    fn a_bad_proxy_is_refused_in_both_languages_without_its_credentials() {
        let mut runner = crate::driver::http::HttpRunner::new(std::time::Duration::from_secs(1));
        // Refused where it is set, not at the first call.
        let error = runner.set_proxy("socks5://u:secret@p:1080").unwrap_err();
        let Text { en, ru } = proxy_error_text(&error);
        assert!(
            en.contains("only http://") && !en.contains("secret"),
            "{en}"
        );
        assert!(ru.contains("только прокси http://"), "{ru}");
        assert_eq!(runner.proxy_shown(), "", "the refused setting is not kept");
        let error = runner
            .set_proxy("http://u:Pa?ss-secret@p:3128")
            .unwrap_err();
        let Text { en, ru } = proxy_error_text(&error);
        assert!(
            en.contains("%3F instead of ?") && !en.contains("secret"),
            "{en}"
        );
        assert!(
            ru.contains("%3F вместо ?") && !ru.contains("secret"),
            "{ru}"
        );
    }

    const ROLE: Role = Role {
        thread_name: "tb-test-worker",
        en: "the test worker thread",
        ru: "поток теста",
        ru_of: "потока теста",
    };

    /// A worker's panic reaches the user as a fixed text and its code; the payload stays in the log.
    #[test]
    fn a_failed_worker_names_the_code_not_the_payload() {
        let error = DriverError::Failed {
            role: ROLE,
            code: "0badc0de".into(),
            detail: "command zero".into(),
        };
        let Text { en, ru } = error_text(&error);
        assert_eq!(
            en,
            "internal error in the test worker thread (code 0badc0de); create the object again and report the code with the log"
        );
        assert_eq!(
            ru,
            "внутренняя ошибка потока теста (код 0badc0de); создайте объект заново и сообщите код, приложив журнал"
        );
        assert_eq!(AddinError::from(error), AddinError::new(en, ru));
    }

    #[test]
    fn texts_of_the_other_worker_errors() {
        let text = error_text(&DriverError::Stopped { role: ROLE });
        assert_eq!(
            text.en,
            "the test worker thread has stopped; create the object again"
        );
        assert_eq!(text.ru, "поток теста остановлен; создайте объект заново");
        let text = error_text(&DriverError::Spawn {
            role: ROLE,
            reason: "no threads".into(),
        });
        assert_eq!(text.en, "cannot start the test worker thread: no threads");
        assert_eq!(text.ru, "не удалось запустить поток теста: no threads");
    }

    /// The reasons the Centrifugo worker gives for a link it could not open or had to end, as before they moved
    /// here from the driver.
    #[test]
    fn link_reasons() {
        assert_eq!(
            link_error_reason(&LinkError::Oversized { limit: 65536 }),
            "the server sent a message larger than 65536 bytes (MaxMessageSize); reconnecting"
        );
        assert_eq!(
            link_error_reason(&LinkError::Address {
                shown: "ws://***@h/".into(),
                problem: AddressProblem::BadPort,
            }),
            "'ws://***@h/' cannot be used: the port is not a number from 1 to 65535"
        );
    }
}
