//! The texts of the delivery rules (`tb_calls::delivery`, issue 17): why a path is or is not available, for the
//! administrator's settings and the operator's panel, and the errors of the delivery members of Centrifugo.

use serde_json::Value as Json;
use tb_calls::delivery::{CardError, PathPlan, Reason};

use super::{AddinError, Lang, Text};

/// Why a path is or is not available, in words the administrator can act on.
pub fn reason_text(reason: Reason) -> Text {
    let (en, ru) = match reason {
        Reason::Ok => ("available", "доступен"),
        Reason::WebClientNoAddin => (
            "the web client cannot load the add-in",
            "веб-клиент не может подключить внешнюю компоненту",
        ),
        Reason::MobileClientNoAddin => (
            "the mobile client cannot load the add-in (it is built for Windows and Linux)",
            "мобильный клиент не может подключить внешнюю компоненту (она собрана для Windows и Linux)",
        ),
        Reason::AddinPlatformUnsupported => (
            "the add-in has no build for this computer's system (macOS, ARM)",
            "у внешней компоненты нет сборки для системы этого компьютера (macOS, ARM)",
        ),
        Reason::AddinMissing => (
            "the add-in is not attached in this session (not installed, forbidden by policy or failed to load)",
            "внешняя компонента не подключена в этом сеансе (не установлена, запрещена политикой или не загрузилась)",
        ),
        Reason::CentrifugoNotConfigured => (
            "Centrifugo is not configured (the API and WebSocket addresses in the telephony settings)",
            "Centrifugo не настроен (адреса API и WebSocket в настройках телефонии)",
        ),
        Reason::PlatformTooOld => (
            "the platform build is too old for client notifications (8.3.27.1935 or later in 8.3, 8.5.1.1119 or later in 8.5)",
            "версия платформы слишком старая для уведомлений клиента (нужна 8.3.27.1935 и новее в 8.3, 8.5.1.1119 и новее в 8.5)",
        ),
        Reason::PlatformUnknown => (
            "the platform build cannot be read",
            "версию платформы не удалось прочитать",
        ),
        Reason::FileBase => (
            "a file base: the collaboration system is not used there",
            "файловая база: система взаимодействия в ней не используется",
        ),
        Reason::NotRegistered => (
            "the base is not registered on a collaboration server",
            "база не зарегистрирована на сервере системы взаимодействия",
        ),
        Reason::SwitchedOff => (
            "switched off by the administrator",
            "отключён администратором",
        ),
        Reason::LastResort => (
            "switched off by the administrator, but kept: nothing else reaches this session",
            "отключён администратором, но оставлен: другие пути до этого сеанса не доходят",
        ),
    };
    Text::new(en, ru)
}

/// The plan as ВыбратьПутиДоставки returns it: the core's JSON with each path's `reason_text` in `lang`.
pub fn plan(plan: &PathPlan, lang: Lang) -> Json {
    let mut json = tb_calls::delivery::plan_json(plan);
    if let Some(paths) = json.get_mut("paths").and_then(Json::as_array_mut) {
        for (entry, verdict) in paths.iter_mut().zip(plan.paths.iter()) {
            entry["reason_text"] = Json::from(reason_text(verdict.reason).pick(lang));
        }
    }
    json
}

/// Session facts that cannot be read (ВыбратьПутиДоставки / ChooseDeliveryPaths).
pub fn facts_error(error: serde_json::Error) -> AddinError {
    AddinError::new(
        format!(
            "session facts: not the expected JSON ({error}); expected e.g. \
             {{\"client\":\"web\",\"addin\":false,\"platform\":\"8.3.27.1935\",\"collaboration\":true,\
             \"file_base\":false,\"centrifugo\":true,\"disabled\":[]}}, client one of thin, thick, web, mobile"
        ),
        format!(
            "факты сеанса: не тот JSON, что ожидается ({error}); пример: \
             {{\"client\":\"web\",\"addin\":false,\"platform\":\"8.3.27.1935\",\"collaboration\":true,\
             \"file_base\":false,\"centrifugo\":true,\"disabled\":[]}}, client - thin, thick, web или mobile"
        ),
    )
}

/// A call event a pending card cannot be built from (КарточкаОжидания / PendingCard).
pub fn card_error(error: &CardError) -> AddinError {
    match error {
        CardError::NotJson(detail) => AddinError::new(
            format!("call event: not a JSON object of text fields ({detail})"),
            format!("событие звонка: не JSON-объект с текстовыми полями ({detail})"),
        ),
        CardError::NoCallId => AddinError::new(
            "call event: call_id is missing or empty",
            "событие звонка: нет call_id или он пустой",
        ),
        CardError::UnknownState(given) => AddinError::new(
            format!(
                "call event: «{given}» is no state of a call (state or event: ringing, answered, transferred, \
                 in_progress, finished, lost, record_ready, error)"
            ),
            format!(
                "событие звонка: «{given}» - не состояние звонка (state или event: ringing, answered, \
                 transferred, in_progress, finished, lost, record_ready, error)"
            ),
        ),
    }
}

/// A session list that cannot be read (СеансыОператора / OperatorSessions).
pub fn sessions_error(error: serde_json::Error) -> AddinError {
    AddinError::new(
        format!(
            "sessions: not the expected JSON ({error}); expected an array like \
             [{{\"number\":12,\"user\":\"Ivanov\",\"app\":\"1CV8C\"}}]"
        ),
        format!(
            "сеансы: не тот JSON, что ожидается ({error}); нужен массив вида \
             [{{\"number\":12,\"user\":\"Иванов\",\"app\":\"1CV8C\"}}]"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_two_different_texts() {
        let mut seen = std::collections::BTreeSet::new();
        for reason in Reason::ALL {
            let text = reason_text(reason);
            assert!(!text.en.is_empty() && !text.ru.is_empty());
            assert_ne!(text.en, text.ru);
            assert!(seen.insert(text.ru), "{reason:?}");
        }
    }
}
