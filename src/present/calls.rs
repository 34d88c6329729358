//! 1C vocabulary over the call-sources core (`tb-calls`): the field names of the seed's register ИсторияЗвонков
//! (`ОбъединитьСИсторией` reads the previous record and writes the new one with them), and the texts of every
//! error in both languages, for classes `UIScom`, `Binotel` and `ConnectAgent`'s normalized calls.

use serde::Serialize;
use serde_json::Value as Json;
use tb_calls::history::{
    merge, parse_notification, parse_previous_named, FieldNames, HistoryMerge, HistoryRecord,
    MergeOptions, Publication,
};
use tb_calls::webhook::{AdmittedPush, Refusal};
use tb_calls::{CallEvent, CallsError, Problem, Subject, UisFault};

use super::Text;

/// `ОбъединитьСИсторией`: the previous record (register field names, or the core's English ones, any case) and
/// the notification in, the result as JSON text with the record in the register's field names.
pub fn merge_into_history(
    record_json: &str,
    notification_json: &str,
    add_events: bool,
    options: &MergeOptions,
) -> Result<String, CallsError> {
    let event = parse_notification(notification_json, options.time_zone)?;
    let previous = parse_previous_named(record_json, &REGISTER_NAMES)?;
    let merged = merge(previous, event, add_events, options);
    Ok(serde_json::to_string(&MergeJson::from(&merged)).unwrap_or_default())
}

/// The previous record as 1C passes it: the register's field names (or the core's English ones), any case.
const REGISTER_NAMES: FieldNames = FieldNames {
    period: &["период", "period"],
    session_id: &["идсессии", "session_id"],
    number: &["номер", "number"],
    start_time: &["времяначала", "start_time"],
    incoming: &["входящий", "incoming"],
    channel: &["канал", "channel"],
    // НомерЗвонящего is the extension's register; ВызываемыйНомер is seed 000's name for the same caller's number.
    calling_number: &["номерзвонящего", "вызываемыйномер", "calling_number"],
};

/// The result of `ОбъединитьСИсторией` as 1C reads it (fields in this order).
#[derive(Serialize)]
struct MergeJson<'a> {
    is_new_record: bool,
    publish_to_extension: bool,
    record: RegisterRecord<'a>,
    publish: &'a Option<Publication>,
    /// The first publication of the call to this operator: the client opens the caller's card once per call.
    popup: bool,
    event: &'a CallEvent,
}

/// A row of ИсторияЗвонков with the register's field names.
#[derive(Serialize)]
struct RegisterRecord<'a> {
    #[serde(rename = "Период")]
    period: &'a str,
    #[serde(rename = "ИдСессии")]
    session_id: &'a Json,
    #[serde(rename = "Номер")]
    number: &'a str,
    #[serde(rename = "ВремяНачала")]
    start_time: &'a str,
    #[serde(rename = "Входящий")]
    incoming: bool,
    #[serde(rename = "Канал")]
    channel: &'a str,
    /// The caller's number under the extension register's name.
    #[serde(rename = "НомерЗвонящего")]
    calling_number: &'a str,
    /// The same number under seed 000's name (its register ИсторияЗвонков calls the caller's number so): kept so
    /// that configurations built on seed 000 read the result unchanged.
    #[serde(rename = "ВызываемыйНомер")]
    calling_number_seed: &'a str,
    #[serde(rename = "ИмяСобытия")]
    event_name: &'a str,
    #[serde(rename = "ТелоЗапроса")]
    body: &'a str,
}

impl<'a> From<&'a HistoryMerge> for MergeJson<'a> {
    fn from(merged: &'a HistoryMerge) -> Self {
        let HistoryRecord {
            period,
            session_id,
            number,
            start_time,
            incoming,
            channel,
            calling_number,
            event_name,
            body,
        } = &merged.record;
        MergeJson {
            is_new_record: merged.is_new_record,
            publish_to_extension: merged.publish_to_extension,
            record: RegisterRecord {
                period,
                session_id,
                number,
                start_time,
                incoming: *incoming,
                channel,
                calling_number,
                calling_number_seed: calling_number,
                event_name,
                body,
            },
            publish: &merged.publish,
            popup: merged.popup,
            event: &merged.event,
        }
    }
}

fn subject(what: Subject) -> Text {
    match what {
        Subject::UiscomNotification => Text::new("UIScom notification", "уведомление UIScom"),
        Subject::BinotelPush => Text::new("Binotel push", "push-запрос Binotel"),
        Subject::BinotelParameters => Text::new("Binotel parameters", "параметры Binotel"),
        Subject::BinotelResponse => Text::new("Binotel response", "ответ Binotel API"),
        Subject::BinotelAllowlist => {
            Text::new("Binotel allowed addresses", "разрешенные адреса Binotel")
        }
        Subject::CallHistoryRecord => Text::new("call history record", "запись истории звонков"),
        Subject::CallEvent => Text::new("call event", "событие звонка"),
        Subject::ConnectCallEvent => Text::new("1C-Connect Call event", "событие Call 1С-Коннект"),
        Subject::UisCallApiResponse => Text::new("UIS Call API response", "ответ UIS Call API"),
        Subject::UisCallApiParameters => {
            Text::new("UIS Call API parameters", "параметры UIS Call API")
        }
        Subject::UisDataApiResponse => Text::new("UIS Data API response", "ответ UIS Data API"),
        Subject::CallIds => Text::new("call IDs", "идентификаторы звонков"),
        Subject::PbxLookup => Text::new("PBX look-up request", "запрос АТС о звонящем"),
        Subject::CallStatusRecord => Text::new("call status record", "запись статуса звонка"),
        Subject::CallStatusFacts => Text::new(
            "call status facts or rules",
            "факты или правила статуса звонка",
        ),
        Subject::PhoneIndex => Text::new(
            "contact-information texts for the phone index",
            "тексты контактной информации для индекса телефонов",
        ),
        Subject::WorkingHours => Text::new(
            "working hours (expected {\"days\":[1,2,3,4,5],\"from\":\"09:00\",\"to\":\"18:00\"})",
            "рабочие часы (ожидается {\"days\":[1,2,3,4,5],\"from\":\"09:00\",\"to\":\"18:00\"})",
        ),
    }
}

fn problem(detail: &Problem) -> Text {
    match detail {
        Problem::Parser(message) => Text::new(message.clone(), message.clone()),
        Problem::NotACallEvent { object } => Text::new(
            format!("\"{object}\" is not a call event (Object=\"Call\" expected)"),
            format!("«{object}» — не событие звонка (ожидается Object=\"Call\")"),
        ),
        Problem::UnknownCallState { state } => Text::new(
            format!(
                "unknown state \"{state}\" (expected Started, CallAccepted, CallInProgress, Finished, \
                 MP3RecordReady or CallError)"
            ),
            format!(
                "неизвестное состояние «{state}» (ожидается Started, CallAccepted, CallInProgress, Finished, \
                 MP3RecordReady или CallError)"
            ),
        ),
        Problem::IdsNotNumbersOrStrings => Text::new(
            "expected a JSON array of numbers or strings such as [744924436]",
            "ожидается JSON-массив чисел или строк, например [744924436]",
        ),
        Problem::IdsNotAnArray => Text::new(
            "expected a JSON array of ids such as [744924436]",
            "ожидается JSON-массив идентификаторов, например [744924436]",
        ),
        Problem::NoFormPairs => Text::new(
            "no name=value pair found (neither JSON nor a form)",
            "нет ни одной пары имя=значение (это ни JSON, ни форма)",
        ),
        Problem::FormTooDeep { field, max } => Text::new(
            format!("the field {field} is nested deeper than {max} levels"),
            format!("поле {field} вложено глубже {max} уровней"),
        ),
        Problem::NotFinite => Text::new(
            "Inf and NaN cannot be JSON encoded",
            "Inf и NaN нельзя записать в JSON",
        ),
        Problem::WrongRequestId { id, expected } => Text::new(
            format!("the answer is for request id {id}, expected {expected}"),
            format!("ответ относится к запросу {id}, ожидался {expected}"),
        ),
        Problem::NoCallSessionId => Text::new(
            "no result.data.call_session_id in the answer",
            "в ответе нет result.data.call_session_id",
        ),
        Problem::NotSuccessful => Text::new(
            "the answer does not confirm success (result.data.success is not true)",
            "ответ не подтверждает успех (result.data.success не true)",
        ),
        Problem::NoEmployee { id } => Text::new(
            format!("no employee {id} with calls_available in the answer: check the UIS employee id of the operator"),
            format!("в ответе нет сотрудника {id} с calls_available: проверьте идентификатор сотрудника UIS у оператора"),
        ),
        Problem::NotDigits => Text::new(
            "a whole number is expected",
            "ожидается целое число",
        ),
        Problem::NoCallDetails => Text::new(
            "no callDetails in a successful stats/call-details.json answer",
            "в успешном ответе stats/call-details.json нет callDetails",
        ),
        Problem::NoRecordUrl => Text::new(
            "no url in a successful stats/call-record.json answer",
            "в успешном ответе stats/call-record.json нет url",
        ),
        Problem::NotWeekdays => Text::new(
            "a non-empty list of weekdays 1 (Monday) … 7 (Sunday) is expected",
            "ожидается непустой список дней недели от 1 (понедельник) до 7 (воскресенье)",
        ),
        Problem::NotATimeOfDay { given } => Text::new(
            format!("\"{given}\" is not a time of day: HH:MM from 00:00 to 23:59 is expected"),
            format!("\"{given}\" - не время суток: ожидается ЧЧ:ММ от 00:00 до 23:59"),
        ),
        Problem::EmptyInterval => Text::new(
            "the interval begins when it ends (from = to)",
            "интервал начинается, когда кончается (from = to)",
        ),
    }
}

const PUSH_TYPES: &str = "receivedTheCall, answeredTheCall, hangupTheCall, transferredTheCall";
const FORM: &str = "application/x-www-form-urlencoded";

/// `en`/`ru` followed by the problem's text in the same language.
fn detailed(en: String, ru: String, detail: &Problem) -> Text {
    let detail = problem(detail);
    Text::new(en + &detail.en, ru + &detail.ru)
}

/// `en (detail)` / `ru (detail)`.
fn in_parentheses(en: &str, ru: &str, detail: &Problem) -> Text {
    let detail = problem(detail);
    Text::new(
        format!("{en} ({})", detail.en),
        format!("{ru} ({})", detail.ru),
    )
}

/// What an unsuccessful answer without a message said of its status.
fn status_text(status: &str) -> Text {
    if status.is_empty() {
        Text::new(
            "the response has no status field",
            "в ответе нет поля status",
        )
    } else {
        Text::new(
            format!("status \"{status}\""),
            format!("статус \"{status}\""),
        )
    }
}

/// `{subject}: {text}` in both languages.
fn about(what: Subject, text: Text) -> Text {
    let what = subject(what);
    Text::new(
        format!("{}: {}", what.en, text.en),
        format!("{}: {}", what.ru, text.ru),
    )
}

/// Every message says what is wrong and where, so a 1C developer can act on it.
pub fn error_text(error: &CallsError) -> Text {
    match error {
        CallsError::EmptyBody { what } => about(*what, Text::new("the body is empty", "тело пустое")),
        CallsError::NotJson { what, detail } => {
            about(*what, in_parentheses("not JSON", "это не JSON", detail))
        }
        CallsError::NotAnObject { what } => about(
            *what,
            Text::new("a JSON object {...} was expected", "ожидался объект JSON {...}"),
        ),
        CallsError::MissingField { what, field } => about(
            *what,
            Text::new(
                format!("the required field {field} is missing or empty"),
                format!("нет обязательного поля {field} (или оно пустое)"),
            ),
        ),
        CallsError::InvalidField {
            what,
            field,
            detail,
        } => about(
            *what,
            detailed(
                format!("invalid value of field {field}: "),
                format!("недопустимое значение поля {field}: "),
                detail,
            ),
        ),
        CallsError::UnknownMethod { given } => Text::new(
            format!("unknown UIScom notification method \"{given}\": expected in, out or rec (/in and UIScom/in work too)"),
            format!("неизвестный метод уведомления UIScom \"{given}\": ожидается in, out или rec (можно /in, UIScom/in)"),
        ),
        CallsError::UnknownPushType { given } => Text::new(
            format!("unknown Binotel push type (requestType) \"{given}\": expected {PUSH_TYPES} or apiCallCompleted"),
            format!("неизвестный тип push-запроса Binotel (requestType) \"{given}\": ожидается {PUSH_TYPES} или apiCallCompleted"),
        ),
        CallsError::UnknownContentType { given } => Text::new(
            format!("content type \"{given}\" is not supported: expected application/json or {FORM}"),
            format!("тип содержимого \"{given}\" не поддерживается: ожидается application/json или {FORM}"),
        ),
        CallsError::InvalidTimeZone { given } => Text::new(
            format!("time zone \"{given}\" is not recognised: expected an offset like +03:00, -05:30, +0300 or Z"),
            format!("часовой пояс \"{given}\" не распознан: ожидается смещение вида +03:00, -05:30, +0300 или Z"),
        ),
        CallsError::InvalidForm { detail } => detailed(
            format!("{FORM} body cannot be decoded: "),
            format!("тело {FORM} не разобрано: "),
            detail,
        ),
        CallsError::NotEncodable { detail } => detailed(
            "the value cannot be encoded the way PHP json_encode does: ".into(),
            "значение нельзя представить в JSON так, как это делает PHP json_encode: ".into(),
            detail,
        ),
        CallsError::SignatureMissing { what } => about(
            *what,
            Text::new("the signature field is missing", "нет поля signature (подписи)"),
        ),
        CallsError::SignatureMismatch { what } => about(
            *what,
            Text::new(
                "the signature does not match: check the Secret and that the body was not altered on the way",
                "подпись (signature) не совпала: проверьте Секрет и что тело не изменялось по пути",
            ),
        ),
        CallsError::SecretMissing => Text::new(
            "the Secret is not set: nothing can be signed or verified without it",
            "Секрет не задан: без него нельзя подписать или проверить подпись",
        ),
        CallsError::Api { api, code, message } => api_text(api, code, Text::new(message.clone(), message.clone())),
        CallsError::ApiStatus { api, code, status } => api_text(api, code, status_text(status)),
        refused @ CallsError::UisRefused { .. } => uis_refusal_text(refused),
        CallsError::UnexpectedResponse { api, detail } => detailed(
            format!("{api}: unexpected response: "),
            format!("{api}: неожиданный ответ: "),
            detail,
        ),
    }
}

/// What UIS said (as [`CallsError::Api`] reads) followed by what to do about it.
fn uis_refusal_text(error: &CallsError) -> Text {
    let CallsError::UisRefused {
        api,
        fault,
        code,
        message,
    } = error
    else {
        return Text::new(error.to_string(), error.to_string());
    };
    let said = api_text(api, code, Text::new(message.clone(), message.clone()));
    let todo = uis_fault_advice(*fault);
    Text::new(
        format!("{}. {}", said.en, todo.en),
        format!("{}. {}", said.ru, todo.ru),
    )
}

/// What the operator or the administrator does about a documented UIS refusal.
fn uis_fault_advice(fault: UisFault) -> Text {
    match fault {
        UisFault::Token => Text::new(
            "The UIS access token is invalid, expired or blocked: the administrator issues a new permanent token in \
             the UIS cabinet and enters it in the telephony settings",
            "Токен доступа UIS неверен, истёк или заблокирован: администратор выпускает новый постоянный токен в \
             личном кабинете UIS и указывает его в настройках телефонии",
        ),
        UisFault::IpNotWhitelisted => Text::new(
            "The address of the 1C server is not in the UIS API whitelist: the administrator adds it in the UIS \
             cabinet (Account → Rules and safety → API)",
            "Адреса сервера 1С нет в белом списке API UIS: администратор добавляет его в личном кабинете UIS \
             (Аккаунт → Правила и настройки безопасности → API)",
        ),
        UisFault::Forbidden => Text::new(
            "The token's user has no right to this method: the administrator allows Call API for him in the UIS \
             cabinet",
            "У пользователя токена нет прав на этот метод: администратор разрешает ему Call API в личном \
             кабинете UIS",
        ),
        UisFault::ComponentDisabled => Text::new(
            "The UIS component this action needs is not enabled: hold, consultation and transfer need the paid \
             component «Call API Управление вызовами» (Account → Tariffs and options)",
            "Не подключен компонент UIS, нужный для этого действия: удержание, консультация и перевод требуют \
             платного компонента «Call API Управление вызовами» (Аккаунт → Тарифы и опции)",
        ),
        UisFault::InvalidState => Text::new(
            "The call is not in a state that allows this step (for example, a transfer without a consultation \
             call, or the call has already ended): check the call and take the step it allows",
            "Звонок сейчас не в том состоянии, чтобы сделать этот шаг (например, перевод без звонка для \
             консультации, или звонок уже завершён): проверьте звонок и выполните допустимый шаг",
        ),
        UisFault::SessionNotFound => Text::new(
            "UIS does not know this call: it has ended or the call session id is wrong",
            "UIS не знает этот звонок: он завершён или неверен идентификатор сессии звонка",
        ),
        UisFault::Limit => Text::new(
            "The UIS API points limit per minute or per day is spent: wait a minute and repeat; the administrator \
             can raise the limits in the UIS cabinet (Account → Tariffs and options)",
            "Исчерпан лимит баллов API UIS в минуту или в день: подождите минуту и повторите; администратор может \
             увеличить лимиты в личном кабинете UIS (Аккаунт → Тарифы и опции)",
        ),
    }
}

/// `{api} returned error {code}: {message}`, the code left out when the API gave none.
fn api_text(api: &str, code: &str, message: Text) -> Text {
    if code.is_empty() {
        Text::new(
            format!("{api} returned an error: {}", message.en),
            format!("{api} вернул ошибку: {}", message.ru),
        )
    } else {
        Text::new(
            format!("{api} returned error {code}: {}", message.en),
            format!("{api} вернул ошибку {code}: {}", message.ru),
        )
    }
}

/// The verdict of a webhook gate as 1C reads it: `accept`, the HTTP `status` to answer, the `reason` code, a
/// `text` for the event log in the object's language, whether the request was `authenticated`, and for an admitted
/// push its `call_id`, replay `key` and `start_time`.
pub fn webhook_verdict(
    result: Result<Option<&AdmittedPush>, Refusal>,
    lang: super::Lang,
) -> String {
    let verdict = match result {
        Ok(admitted) => serde_json::json!({
            "accept": true,
            "status": 200,
            "reason": "ok",
            "text": "",
            "authenticated": admitted.is_some(),
            "call_id": admitted.map(|a| a.call_id.as_str()),
            "key": admitted.map(|a| a.key.as_str()),
            "start_time": admitted.and_then(|a| a.start_time),
        }),
        Err(refusal) => refusal_verdict(refusal, lang),
    };
    verdict.to_string()
}

/// A refused webhook as every gate's verdict says it: the HTTP status the PBX gets, the reason code for the log, the
/// text in the user's language, and whether the request had proved its source before it was refused.
fn refusal_verdict(refusal: Refusal, lang: crate::present::Lang) -> serde_json::Value {
    serde_json::json!({
        "accept": false,
        "status": refusal.http_status(),
        "reason": refusal.code(),
        "text": refusal_text(refusal).pick(lang),
        "authenticated": refusal.authenticated(),
    })
}

/// The verdict of the Binotel webhook gate (source address): as [`webhook_verdict`], with the client's `address`
/// when admitted (admitted by address means authenticated).
pub fn address_verdict(
    result: Result<std::net::IpAddr, Refusal>,
    lang: crate::present::Lang,
) -> String {
    let verdict = match result {
        Ok(address) => serde_json::json!({
            "accept": true,
            "status": 200,
            "reason": "ok",
            "text": "",
            "authenticated": true,
            "address": address.to_string(),
        }),
        Err(refusal) => refusal_verdict(refusal, lang),
    };
    verdict.to_string()
}

/// A parsed Binotel webhook as 1C reads it: `kind` (`settings`, `event`, `completed`), the `event` (the one call
/// model) or the `settings` question, for a completion its idempotency `key` and whether it is `repeated`, and the
/// `reply` to send (empty for `settings`: 1C answers with CallSettingsReply after its look-up).
pub fn webhook_request_json(
    request: &tb_calls::binotel_webhook::WebhookRequest,
    accepted: &[String],
) -> serde_json::Value {
    use tb_calls::binotel_webhook::{self as bw, WebhookRequest};
    let (event, settings, key, repeated, reply) = match request {
        WebhookRequest::CallSettings(s) => (
            serde_json::Value::Null,
            serde_json::to_value(s).unwrap_or_default(),
            None,
            false,
            "",
        ),
        WebhookRequest::CallEvent(e) => (
            serde_json::to_value(e).unwrap_or_default(),
            serde_json::Value::Null,
            None,
            false,
            bw::SUCCESS_REPLY,
        ),
        WebhookRequest::CallCompleted(e) => {
            let key = bw::completed_key(e);
            let repeated = bw::is_repeated(&key, accepted);
            (
                serde_json::to_value(e).unwrap_or_default(),
                serde_json::Value::Null,
                Some(key),
                repeated,
                bw::SUCCESS_REPLY,
            )
        }
    };
    serde_json::json!({
        "kind": request.kind(),
        "event": event,
        "settings": settings,
        "key": key,
        "repeated": repeated,
        "reply": reply,
    })
}

/// Routing facts that cannot be read (МаршрутЗвонка / RouteCall): what serde says, in both languages.
pub fn routing_facts_error(error: serde_json::Error) -> crate::present::AddinError {
    crate::present::AddinError::new(
        format!("routing facts: not the expected JSON ({error})"),
        format!("факты маршрутизации: не тот JSON, что ожидается ({error})"),
    )
}

/// `РабочееВремя` / `IsWorkingTime` was given something that is not a moment.
pub fn now_utc_error() -> crate::present::AddinError {
    crate::present::AddinError::new(
        "NowUTC: seconds since 1970 (UTC) are expected",
        "СейчасUTC: ожидается число секунд с 1970 года (UTC)",
    )
}

pub fn rebuild_facts_error(error: serde_json::Error) -> crate::present::AddinError {
    crate::present::AddinError::new(
        format!("phone index rebuild facts: not the expected JSON ({error})"),
        format!("факты перестроения индекса телефонов: не тот JSON, что ожидается ({error})"),
    )
}

/// Why a webhook was refused, for the administrator reading the event log.
pub fn refusal_text(refusal: Refusal) -> Text {
    match refusal {
        Refusal::NotTheCallSource => Text::new(
            "webhook refused: this PBX is not the configured call source",
            "вебхук отклонён: эта АТС не выбрана источником звонков",
        ),
        Refusal::SecretNotSet => Text::new(
            "webhook refused: the PBX's secret or URL token is not set",
            "вебхук отклонён: секрет или токен адреса этой АТС не задан",
        ),
        Refusal::LengthRequired => Text::new(
            "webhook refused: no Content-Length header, the size cannot be checked before reading",
            "вебхук отклонён: нет заголовка Content-Length, размер нельзя проверить до чтения тела",
        ),
        Refusal::LengthInvalid => Text::new(
            "webhook refused: Content-Length is not a whole number",
            "вебхук отклонён: Content-Length - не целое число",
        ),
        Refusal::TooLarge => Text::new(
            "webhook refused: the body is larger than 1 MiB",
            "вебхук отклонён: тело больше 1 МБ",
        ),
        Refusal::BadToken => Text::new(
            "webhook refused: wrong token in the URL",
            "вебхук отклонён: неверный токен в адресе",
        ),
        Refusal::SignatureMissing => {
            Text::new("push refused: no signature", "push отклонён: нет подписи")
        }
        Refusal::BadSignature => Text::new(
            "push refused: the signature does not match",
            "push отклонён: подпись не совпадает",
        ),
        Refusal::Stale => Text::new(
            "push refused: its startTime is more than a day old (a replay?)",
            "push отклонён: его startTime старше суток (повтор?)",
        ),
        Refusal::FromTheFuture => Text::new(
            "push refused: its startTime is more than 5 minutes ahead of this server's clock",
            "push отклонён: его startTime больше чем на 5 минут впереди часов сервера",
        ),
        Refusal::Duplicate => Text::new(
            "push ignored: this push of the call was accepted before (a replay or a PBX retry)",
            "push пропущен: этот push звонка уже был принят (повтор или повторная отправка АТС)",
        ),
        Refusal::BadBody => Text::new(
            "webhook refused: the body cannot be read",
            "вебхук отклонён: тело не читается",
        ),
        Refusal::AddressUnknown => Text::new(
            "webhook refused: the client's address is unknown (the web server in front of 1C must pass it in the header named in the settings)",
            "вебхук отклонён: адрес клиента неизвестен (веб-сервер перед 1С должен передавать его в заголовке, указанном в настройках)",
        ),
        Refusal::AddressNotAllowed => Text::new(
            "webhook refused: the client's address is not among Binotel's allowed addresses",
            "вебхук отклонён: адреса клиента нет среди разрешенных адресов Binotel",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tb_calls::{binotel, connect, uis_call_api, uiscom, UtcOffset};

    fn texts(result: Result<impl std::fmt::Debug, CallsError>) -> Text {
        error_text(&result.expect_err("an error"))
    }

    #[test]
    fn malformed_bodies_say_what_is_wrong() {
        let moscow = UtcOffset::MOSCOW;
        let cases: Vec<(Text, &str, &str)> = vec![
            (
                texts(uiscom::normalize(b"{\"call_session_id\": }", None, moscow)),
                "UIScom notification: not JSON (expected value at line 1 column 21)",
                "уведомление UIScom: это не JSON",
            ),
            (
                texts(uiscom::normalize(b"", None, moscow)),
                "UIScom notification: the body is empty",
                "уведомление UIScom: тело пустое",
            ),
            (
                texts(uiscom::normalize(
                    b"{\"call_session_id\": null}",
                    None,
                    moscow,
                )),
                "UIScom notification: the required field call_session_id is missing or empty",
                "нет обязательного поля call_session_id",
            ),
            (
                texts(binotel::parse_push(b"{\"generalCallID\":1}", "", moscow)),
                "Binotel push: the required field requestType is missing or empty",
                "push-запрос Binotel",
            ),
            (
                texts(binotel::parse_push(
                    b"requestType=hello&generalCallID=1",
                    "",
                    moscow,
                )),
                "unknown Binotel push type (requestType) \"hello\"",
                "неизвестный тип push-запроса",
            ),
            (
                texts(binotel::parse_push(
                    b"requestType=hangupTheCall",
                    "",
                    moscow,
                )),
                "the required field generalCallID is missing",
                "generalCallID",
            ),
            (
                texts(binotel::parse_push(
                    b"{\"requestType\":",
                    "application/json",
                    moscow,
                )),
                "Binotel push: not JSON (unexpected end of input at byte 15)",
                "это не JSON",
            ),
            (
                texts(binotel::parse_push(b"hello", "", moscow)),
                "no name=value pair found",
                "не разобрано",
            ),
            (
                texts(binotel::parse_push(b"a=1", "text/xml", moscow)),
                "content type \"text/xml\" is not supported",
                "не поддерживается",
            ),
            (
                texts(binotel::parse_push(
                    b"{\"requestType\":\"receivedTheCall\",\"x\":\"\\ud800\"}",
                    "",
                    moscow,
                )),
                "single unpaired UTF-16 surrogate",
                "это не JSON",
            ),
        ];
        for (text, en, ru) in cases {
            assert!(text.en.contains(en), "{} / expected {en}", text.en);
            assert!(text.ru.contains(ru), "{} / expected {ru}", text.ru);
        }
    }

    #[test]
    fn api_errors_and_unsigned_answers() {
        let answer = |body: &[u8]| texts(binotel::check_response(body, "s"));
        let error = answer(br#"{"status":"error","code":"120","message":"Wrong signature"}"#);
        assert_eq!(error.en, "Binotel API returned error 120: Wrong signature");
        assert!(answer(br#"{"status":"success","url":"x"}"#)
            .ru
            .contains("signature"));
        assert!(answer(br#"{"url":"x"}"#).en.contains("no status"));
        let mismatch = error_text(&CallsError::SignatureMismatch {
            what: Subject::BinotelResponse,
        });
        assert!(mismatch.en.contains("signature does not match"));
        assert!(mismatch.ru.contains("подпись"));
    }

    #[test]
    fn history_errors_name_the_record() {
        let options = MergeOptions::default();
        let ringing = include_str!("../../crates/tb-calls/tests/data/uiscom/in_ringing.json");
        let not_json = texts(merge_into_history("{", ringing, true, &options));
        let record: Json =
            serde_json::from_str(&merge_into_history("", ringing, true, &options).unwrap())
                .unwrap();
        assert_eq!(record["record"]["ИдСессии"], 3201987654u64);
        assert_eq!(record["record"]["Входящий"], true);
        let again = merge_into_history(&record["record"].to_string(), ringing, false, &options);
        let again: Json = serde_json::from_str(&again.unwrap()).unwrap();
        assert!(
            !again["is_new_record"].as_bool().unwrap(),
            "the previous record was read back"
        );
        assert!(
            not_json.en.starts_with("call history record: not JSON"),
            "{}",
            not_json.en
        );
        assert!(
            not_json
                .ru
                .starts_with("запись истории звонков: это не JSON"),
            "{}",
            not_json.ru
        );
        let empty = texts(merge_into_history("", "", true, &options));
        assert!(empty.en.contains("empty"), "{}", empty.en);
    }

    #[test]
    fn fields_and_states_are_named() {
        let call = uis_call_api::EmployeeCall {
            contact: "1".into(),
            ..Default::default()
        };
        let missing = texts(uis_call_api::employee_call_request("1", "token", &call));
        assert!(missing.en.contains("employee.id"), "{}", missing.en);
        assert!(missing.ru.contains("employee.id"), "{}", missing.ru);
        let state = texts(connect::normalize_call_event(
            &serde_json::json!({"Object": "Call", "CallID": "1", "State": "Dancing"}),
            UtcOffset::UTC,
        ));
        assert!(state.en.contains("Dancing") && state.ru.contains("Dancing"));
    }
}
