//! The normalized call event: one shape for UIScom, Binotel-style Asterisk and 1C-Connect.
//!
//! Every field is always present in the JSON (null when unknown) so that 1C code reading it into a Структура can
//! address any field without checking first. Phone fields keep the source's text and add a digits-only twin for
//! look-ups in a catalog (`+7 (495) 123-45-67` → `74951234567`).

use serde::{Deserialize, Serialize};

/// Where the event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    #[serde(rename = "uiscom")]
    Uiscom,
    #[serde(rename = "binotel")]
    Binotel,
    #[serde(rename = "1c-connect")]
    OneCConnect,
}

/// What happened to the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The call is being set up: incoming ringing, or an outgoing call dialling.
    Ringing,
    /// Someone picked up; talk starts.
    Answered,
    /// The call was handed to another extension.
    Transferred,
    /// Something happened during the talk (1C-Connect: a key was pressed).
    InProgress,
    /// The call ended after a conversation.
    Finished,
    /// The call ended without a conversation (missed, rejected, busy, no answer).
    Lost,
    /// A recording of the call is available (`record_urls`).
    RecordReady,
    /// The source reports a failure of the call itself (1C-Connect `CallError`).
    Error,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Ringing => "ringing",
            EventKind::Answered => "answered",
            EventKind::Transferred => "transferred",
            EventKind::InProgress => "in_progress",
            EventKind::Finished => "finished",
            EventKind::Lost => "lost",
            EventKind::RecordReady => "record_ready",
            EventKind::Error => "error",
        }
    }
}

/// Direction seen from our side: `in` = a client calls us, `out` = we call a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}

/// The operator handling the call, as far as the source tells.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Employee {
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub phone_digits: Option<String>,
}

impl Employee {
    pub fn is_empty(&self) -> bool {
        self.id.is_none() && self.name.is_none() && self.email.is_none() && self.phone.is_none()
    }
}

/// The client as the PBX knows it (Binotel `customerData`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: Option<String>,
    pub name: Option<String>,
}

/// The normalized call event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallEvent {
    pub source: Source,
    pub event: EventKind,
    /// The source's call identifier (UIScom `call_session_id`, Binotel `generalCallID`, 1C-Connect `CallID`).
    pub call_id: String,
    pub direction: Option<Direction>,
    /// Who dials.
    pub caller: Option<String>,
    pub caller_digits: Option<String>,
    /// Who is dialled.
    pub callee: Option<String>,
    pub callee_digits: Option<String>,
    /// The client's number, whatever the direction: the one to look up in the catalog of contacts.
    pub other_party: Option<String>,
    pub other_party_digits: Option<String>,
    /// The operator's internal number: whose screen should show the call.
    pub extension: Option<String>,
    pub extension_digits: Option<String>,
    /// The company's public number the call went through.
    pub virtual_number: Option<String>,
    pub virtual_number_digits: Option<String>,
    pub started_at: Option<String>,
    pub answered_at: Option<String>,
    pub finished_at: Option<String>,
    pub wait_sec: Option<u64>,
    pub talk_sec: Option<u64>,
    pub total_sec: Option<u64>,
    pub lost: bool,
    pub lost_reason: Option<String>,
    pub finish_reason: Option<String>,
    pub record_urls: Vec<String>,
    pub employee: Option<Employee>,
    pub customer: Option<Customer>,
    /// The notification's own name where the source has one (UIScom `notification_name`, Binotel `requestType`,
    /// 1C-Connect `State`).
    pub notification_name: Option<String>,
    /// The original body as parsed (form bodies as their nested structure).
    pub raw: serde_json::Value,
}

impl CallEvent {
    /// An event with only the identity filled; normalizers fill the rest.
    pub fn new(
        source: Source,
        event: EventKind,
        call_id: String,
        raw: serde_json::Value,
    ) -> CallEvent {
        CallEvent {
            source,
            event,
            call_id,
            direction: None,
            caller: None,
            caller_digits: None,
            callee: None,
            callee_digits: None,
            other_party: None,
            other_party_digits: None,
            extension: None,
            extension_digits: None,
            virtual_number: None,
            virtual_number_digits: None,
            started_at: None,
            answered_at: None,
            finished_at: None,
            wait_sec: None,
            talk_sec: None,
            total_sec: None,
            lost: false,
            lost_reason: None,
            finish_reason: None,
            record_urls: Vec::new(),
            employee: None,
            customer: None,
            notification_name: None,
            raw,
        }
    }

    pub fn set_caller(&mut self, value: Option<String>) {
        (self.caller, self.caller_digits) = with_digits(value);
    }
    pub fn set_callee(&mut self, value: Option<String>) {
        (self.callee, self.callee_digits) = with_digits(value);
    }
    pub fn set_other_party(&mut self, value: Option<String>) {
        (self.other_party, self.other_party_digits) = with_digits(value);
    }
    pub fn set_extension(&mut self, value: Option<String>) {
        (self.extension, self.extension_digits) = with_digits(value);
    }
    pub fn set_virtual_number(&mut self, value: Option<String>) {
        (self.virtual_number, self.virtual_number_digits) = with_digits(value);
    }

    /// Adds a record URL once.
    pub fn add_record_url(&mut self, url: String) {
        if !url.is_empty() && !self.record_urls.contains(&url) {
            self.record_urls.push(url);
        }
    }

    /// The event as compact JSON.
    pub fn to_json_string(&self) -> String {
        // Serializing this struct cannot fail: every field is a plain value and `raw` is already a serde_json value.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The digits of a phone number: `+7 (495) 123-45-67` → `74951234567`, `tel:101` → `101`. `None` when the text is
/// not a phone number at all (a 1C-Connect UUID, a SIP URI with a name): its digits would match random contacts.
pub fn phone_digits(text: &str) -> Option<String> {
    let text = text.trim();
    let text = text.strip_prefix("tel:").unwrap_or(text);
    let phone_like = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | '.' | ' ' | '*' | '#'));
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    (phone_like && !digits.is_empty()).then_some(digits)
}

/// A phone value and its digits twin.
pub fn with_digits(value: Option<String>) -> (Option<String>, Option<String>) {
    let value = value.filter(|v| !v.trim().is_empty());
    let digits = value.as_deref().and_then(phone_digits);
    (value, digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_twin_keeps_only_digits() {
        assert_eq!(
            phone_digits("+7 (495) 123-45-67").as_deref(),
            Some("74951234567")
        );
        assert_eq!(phone_digits("tel:101").as_deref(), Some("101"));
        assert_eq!(phone_digits("anonymous"), None);
        assert_eq!(phone_digits("531ef6c7-deb8-11e0-ad02-000c2926d843"), None);
        assert_eq!(with_digits(Some("  ".into())), (None, None));
    }

    #[test]
    fn every_field_is_present_in_json() {
        let event = CallEvent::new(
            Source::OneCConnect,
            EventKind::RecordReady,
            "1".into(),
            serde_json::Value::Null,
        );
        let json: serde_json::Value =
            serde_json::from_str(&event.to_json_string()).unwrap_or_default();
        assert_eq!(json["source"], "1c-connect");
        assert_eq!(json["event"], "record_ready");
        for key in [
            "caller_digits",
            "employee",
            "wait_sec",
            "record_urls",
            "raw",
            "virtual_number_digits",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
    }
}
