//! The one error type of the call-sources core.
//!
//! `Display` is English, [`CallsError::ru`] is Russian; the add-in picks by the user's locale. Every message says
//! what is wrong and where, so a 1C developer can act on it. Secrets (the Binotel secret, the UIS access token) are
//! never stored in an error: the variants have no field that could carry one, and API messages are scrubbed before
//! they get here.

use std::fmt;

/// Everything that can go wrong while reading a call source or building/reading an API exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallsError {
    /// The body is empty or whitespace only.
    EmptyBody { what: &'static str },
    /// The body is not valid JSON (`detail` names the position).
    NotJson { what: &'static str, detail: String },
    /// The JSON is valid but not an object where one is needed.
    NotAnObject { what: &'static str },
    /// A required field is missing or empty.
    MissingField {
        what: &'static str,
        field: &'static str,
    },
    /// A field has a value that cannot be used.
    InvalidField {
        what: &'static str,
        field: String,
        detail: String,
    },
    /// `Метод` of a UIScom notification is none of in/out/rec.
    UnknownMethod { given: String },
    /// A Binotel push whose `requestType` is not one this core knows.
    UnknownPushType { given: String },
    /// A content type that is neither JSON nor form-urlencoded.
    UnknownContentType { given: String },
    /// The time zone text is not a fixed offset such as `+03:00`.
    InvalidTimeZone { given: String },
    /// A form-urlencoded body that cannot be decoded.
    InvalidForm { detail: String },
    /// A value PHP `json_encode` refuses (INF/NaN), so no signature can be computed.
    NotEncodable { detail: String },
    /// A signed message has no `signature` field.
    SignatureMissing { what: &'static str },
    /// The signature does not match; neither the expected value nor the secret is shown on purpose.
    SignatureMismatch { what: &'static str },
    /// The secret is empty, so signing or verifying is impossible.
    SecretMissing,
    /// The PBX/UIS API answered with an error.
    Api {
        api: &'static str,
        code: String,
        message: String,
    },
    /// The API answer is not what the protocol describes.
    UnexpectedResponse { api: &'static str, detail: String },
}

impl CallsError {
    /// The Russian rendering of the same message.
    pub fn ru(&self) -> String {
        match self {
            CallsError::EmptyBody { what } => format!("{}: тело пустое", ru_what(what)),
            CallsError::NotJson { what, detail } => {
                format!("{}: это не JSON ({detail})", ru_what(what))
            }
            CallsError::NotAnObject { what } => {
                format!("{}: ожидался объект JSON {{...}}", ru_what(what))
            }
            CallsError::MissingField { what, field } => {
                format!("{}: нет обязательного поля {field} (или оно пустое)", ru_what(what))
            }
            CallsError::InvalidField { what, field, detail } => {
                format!("{}: недопустимое значение поля {field}: {detail}", ru_what(what))
            }
            CallsError::UnknownMethod { given } => format!(
                "неизвестный метод уведомления UIScom \"{given}\": ожидается in, out или rec (можно /in, UIScom/in)"
            ),
            CallsError::UnknownPushType { given } => format!(
                "неизвестный тип push-запроса Binotel (requestType) \"{given}\": ожидается receivedTheCall, \
                 answeredTheCall, hangupTheCall, transferredTheCall или apiCallCompleted"
            ),
            CallsError::UnknownContentType { given } => format!(
                "тип содержимого \"{given}\" не поддерживается: ожидается application/json или \
                 application/x-www-form-urlencoded"
            ),
            CallsError::InvalidTimeZone { given } => format!(
                "часовой пояс \"{given}\" не распознан: ожидается смещение вида +03:00, -05:30, +0300 или Z"
            ),
            CallsError::InvalidForm { detail } => {
                format!("тело application/x-www-form-urlencoded не разобрано: {detail}")
            }
            CallsError::NotEncodable { detail } => {
                format!("значение нельзя представить в JSON так, как это делает PHP json_encode: {detail}")
            }
            CallsError::SignatureMissing { what } => {
                format!("{}: нет поля signature (подписи)", ru_what(what))
            }
            CallsError::SignatureMismatch { what } => format!(
                "{}: подпись (signature) не совпала: проверьте Секрет и что тело не изменялось по пути",
                ru_what(what)
            ),
            CallsError::SecretMissing => {
                "Секрет не задан: без него нельзя подписать или проверить подпись".to_string()
            }
            CallsError::Api { api, code, message } => {
                if code.is_empty() {
                    format!("{api} вернул ошибку: {message}")
                } else {
                    format!("{api} вернул ошибку {code}: {message}")
                }
            }
            CallsError::UnexpectedResponse { api, detail } => {
                format!("{api}: неожиданный ответ: {detail}")
            }
        }
    }
}

impl fmt::Display for CallsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallsError::EmptyBody { what } => write!(f, "{what}: the body is empty"),
            CallsError::NotJson { what, detail } => write!(f, "{what}: not JSON ({detail})"),
            CallsError::NotAnObject { what } => write!(f, "{what}: a JSON object {{...}} was expected"),
            CallsError::MissingField { what, field } => {
                write!(f, "{what}: the required field {field} is missing or empty")
            }
            CallsError::InvalidField { what, field, detail } => {
                write!(f, "{what}: invalid value of field {field}: {detail}")
            }
            CallsError::UnknownMethod { given } => write!(
                f,
                "unknown UIScom notification method \"{given}\": expected in, out or rec (/in and UIScom/in work too)"
            ),
            CallsError::UnknownPushType { given } => write!(
                f,
                "unknown Binotel push type (requestType) \"{given}\": expected receivedTheCall, answeredTheCall, \
                 hangupTheCall, transferredTheCall or apiCallCompleted"
            ),
            CallsError::UnknownContentType { given } => write!(
                f,
                "content type \"{given}\" is not supported: expected application/json or \
                 application/x-www-form-urlencoded"
            ),
            CallsError::InvalidTimeZone { given } => write!(
                f,
                "time zone \"{given}\" is not recognised: expected an offset like +03:00, -05:30, +0300 or Z"
            ),
            CallsError::InvalidForm { detail } => {
                write!(f, "application/x-www-form-urlencoded body cannot be decoded: {detail}")
            }
            CallsError::NotEncodable { detail } => {
                write!(f, "the value cannot be encoded the way PHP json_encode does: {detail}")
            }
            CallsError::SignatureMissing { what } => write!(f, "{what}: the signature field is missing"),
            CallsError::SignatureMismatch { what } => write!(
                f,
                "{what}: the signature does not match: check the Secret and that the body was not altered on the way"
            ),
            CallsError::SecretMissing => {
                write!(f, "the Secret is not set: nothing can be signed or verified without it")
            }
            CallsError::Api { api, code, message } => {
                if code.is_empty() {
                    write!(f, "{api} returned an error: {message}")
                } else {
                    write!(f, "{api} returned error {code}: {message}")
                }
            }
            CallsError::UnexpectedResponse { api, detail } => {
                write!(f, "{api}: unexpected response: {detail}")
            }
        }
    }
}

impl std::error::Error for CallsError {}

/// Russian names of the things an error talks about; unknown names pass through unchanged.
fn ru_what(what: &str) -> &str {
    match what {
        "UIScom notification" => "уведомление UIScom",
        "Binotel push" => "push-запрос Binotel",
        "Binotel parameters" => "параметры Binotel",
        "Binotel response" => "ответ Binotel API",
        "call history record" => "запись истории звонков",
        "call event" => "событие звонка",
        "1C-Connect Call event" => "событие Call 1С-Коннект",
        "UIS Call API response" => "ответ UIS Call API",
        "UIS Call API parameters" => "параметры UIS Call API",
        "call IDs" => "идентификаторы звонков",
        "time" => "время",
        other => other,
    }
}

pub type Result<T> = std::result::Result<T, CallsError>;
