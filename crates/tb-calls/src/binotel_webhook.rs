//! Binotel's own webhook contract (API 4.0: «API CALL SETTINGS», «API CALL COMPLETED» and the call events), sans
//! I/O: who may call the URL, what the request says, and the bytes to answer.
//!
//! Binotel posts form-encoded requests to one URL of the customer's choice and tells them apart by `requestType`:
//!
//! | `requestType`        | when                         | we answer                                                |
//! |----------------------|------------------------------|----------------------------------------------------------|
//! | `apiCallSettings`    | a call rings, before routing | `{"customerData":{…}}` for a known number, `{}` otherwise |
//! | `receivedTheCall`    | an employee's phone rings    | `{"status":"success"}`                                   |
//! | `answeredTheCall`    | he picks up                  | `{"status":"success"}`                                   |
//! | `transferredTheCall` | the call is transferred      | `{"status":"success"}`                                   |
//! | `hangupTheCall`      | a leg ends                   | `{"status":"success"}`                                   |
//! | `apiCallCompleted`   | the call is over (details)   | `{"status":"success"}`, also for a repeated call         |
//!
//! Binotel signs none of these: its samples (`API-CALL-SETTINGS/*.php` of the 4.0 samples) and every public
//! integration admit a request by its **source address**, against Binotel's published server list
//! ([`PUBLISHED_ADDRESSES`]). The signed Clinica-Web-style push of seed 003 is another mode with its own URL
//! ([`crate::webhook::admit_push`]).
//!
//! The source address is what the 1C web server saw: 1C's HTTP service does not expose the peer address itself,
//! so the web server in front of the publication must pass it in a header it sets itself (see
//! [`client_address`]); a header the client could set is worth nothing.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::binotel::{decode_body, parse_push, BodyFormat};
use crate::error::{CallsError, Problem, Subject};
use crate::fields::Fields;
use crate::model::{with_digits, CallEvent, Direction};
use crate::time::UtcOffset;
use crate::webhook::Refusal;

const WHAT: Subject = Subject::BinotelPush;

/// Binotel's servers as its API 4.0 samples list them (`my.binotel.ua`, `sip1`…`sip22`, `sip50`…`sip52`): the
/// allowlist when the administrator sets none.
pub const PUBLISHED_ADDRESSES: [&str; 26] = [
    "194.88.218.116",
    "194.88.218.114",
    "194.88.218.117",
    "194.88.218.118",
    "194.88.219.67",
    "194.88.219.78",
    "194.88.219.70",
    "194.88.219.71",
    "194.88.219.72",
    "194.88.219.79",
    "194.88.219.80",
    "194.88.219.81",
    "194.88.219.82",
    "194.88.219.83",
    "194.88.219.84",
    "194.88.219.85",
    "194.88.219.86",
    "194.88.219.87",
    "194.88.219.88",
    "194.88.219.89",
    "194.88.219.92",
    "194.88.218.119",
    "194.88.218.120",
    "185.100.66.145",
    "185.100.66.146",
    "185.100.66.147",
];

/// The longest caller name we hand to Binotel: it is shown on the employee's phone screen, where a long name is
/// cut by the phone anyway and the start of it is what identifies the client.
pub const NAME_MAX_CHARS: usize = 32;

/// The longest description (shown in Binotel's browser notification).
pub const DESCRIPTION_MAX_CHARS: usize = 250;

// ---------------------------------------------------------------------------------------------------------------
// Source-address allowlist
// ---------------------------------------------------------------------------------------------------------------

/// One allowed network: an address and how many leading bits must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    address: IpAddr,
    prefix: u8,
}

impl Net {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_match(
                u128::from(u32::from(net)),
                u128::from(u32::from(ip)),
                32,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_match(u128::from(net), u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` of `width` bits of `a` and `b` are equal.
fn prefix_match(a: u128, b: u128, width: u8, prefix: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(width - prefix);
    (a >> shift) == (b >> shift)
}

/// The addresses a Binotel webhook may come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowlist {
    nets: Vec<Net>,
}

impl Allowlist {
    /// Binotel's published servers ([`PUBLISHED_ADDRESSES`]).
    pub fn published() -> Allowlist {
        Allowlist {
            nets: PUBLISHED_ADDRESSES
                .iter()
                .filter_map(|a| parse_net(a).ok())
                .collect(),
        }
    }

    /// The administrator's list: addresses or CIDR networks (`194.88.218.0/24`, `2001:db8::/32`) separated by
    /// commas, semicolons, spaces or line breaks. An empty text is the published list; an entry that is not an
    /// address is an error naming it, never silently dropped (a typo must not lock Binotel out unnoticed, nor a
    /// `/0` be taken for an address).
    pub fn parse(text: &str) -> Result<Allowlist, CallsError> {
        let entries: Vec<&str> = text
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|e| !e.is_empty())
            .collect();
        if entries.is_empty() {
            return Ok(Allowlist::published());
        }
        let nets = entries
            .into_iter()
            .map(parse_net)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Allowlist { nets })
    }

    /// Whether `ip` is in one of the networks. An IPv4 address written as IPv6 (`::ffff:194.88.218.116`, as a
    /// dual-stack web server reports it) is the IPv4 address.
    pub fn admits(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|net| net.contains(ip))
    }

    /// How many entries the list has (for diagnostics).
    pub fn len(&self) -> usize {
        self.nets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn bad_entry(entry: &str, why: &str) -> CallsError {
    CallsError::InvalidField {
        what: Subject::BinotelAllowlist,
        field: entry.to_string(),
        detail: Problem::Parser(why.to_string()),
    }
}

fn parse_net(entry: &str) -> Result<Net, CallsError> {
    let (address, prefix) = match entry.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (entry, None),
    };
    let address = canonical(
        address
            .parse::<IpAddr>()
            .map_err(|_| bad_entry(entry, "not an IP address"))?,
    );
    let width = if address.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => width,
        Some(p) => match p.parse::<u8>() {
            // A prefix shorter than /8 admits a sizeable part of the internet: surely a mistake.
            Ok(p) if (8..=width).contains(&p) => p,
            _ => {
                return Err(bad_entry(
                    entry,
                    "the prefix length must be 8 to 32 (IPv6: 8 to 128)",
                ))
            }
        },
    };
    Ok(Net { address, prefix })
}

/// The client's address from what the web server in front of 1C passed on, as text.
///
/// `header` is the value of the header the administrator named (`X-Real-IP` or `X-Forwarded-For`). For
/// `X-Forwarded-For` the **last** entry is taken: it is the one our own web server appended; anything before it
/// was sent by the client and could be forged. An address with a port (`1.2.3.4:5678`, `[2001:db8::1]:443`) is
/// read without it. `None` when nothing usable is there.
pub fn client_address(header: &str) -> Option<IpAddr> {
    let last = header.rsplit(',').next()?.trim();
    if last.is_empty() {
        return None;
    }
    if let Ok(ip) = last.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    // [v6]:port
    if let Some(rest) = last.strip_prefix('[') {
        let inner = rest.split(']').next()?;
        return inner.parse::<IpAddr>().ok().map(canonical);
    }
    // v4:port
    let (host, port) = last.rsplit_once(':')?;
    if port.bytes().all(|b| b.is_ascii_digit()) {
        return host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4);
    }
    None
}

/// What the 1C module knows before it reads a Binotel webhook's body.
#[derive(Debug, Clone, Copy)]
pub struct WebhookFacts<'a> {
    /// The configured call source (constant ТБ_ИсточникЗвонков).
    pub configured_source: &'a str,
    /// The allowlist in force.
    pub allowlist: &'a Allowlist,
    /// The header value carrying the client's address ("" when absent).
    pub source_header: &'a str,
    /// The `Content-Length` header as received; `None` when absent.
    pub content_length: Option<&'a str>,
    /// The largest body accepted.
    pub cap: u64,
}

/// The gate of the Binotel webhook: the call source is Binotel, the source address is known and allowed, the size
/// is within the cap — in this order, so an outsider learns nothing about the cap.
pub fn admit_webhook(facts: &WebhookFacts<'_>) -> Result<IpAddr, Refusal> {
    if !crate::webhook::Pbx::Binotel.is_configured(facts.configured_source) {
        return Err(Refusal::NotTheCallSource);
    }
    let ip = client_address(facts.source_header).ok_or(Refusal::AddressUnknown)?;
    if !facts.allowlist.admits(ip) {
        return Err(Refusal::AddressNotAllowed);
    }
    crate::webhook::check_length(facts.content_length, facts.cap)?;
    Ok(ip)
}

// ---------------------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------------------

/// `apiCallSettings`: a call is about to be routed and Binotel asks who the caller is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallSettings {
    /// `generalCallID`, when Binotel sends one.
    pub call_id: Option<String>,
    /// The client's number (`externalNumber`) and its digits, for the look-up.
    pub external_number: Option<String>,
    pub external_digits: Option<String>,
    pub direction: Option<Direction>,
    pub company_id: Option<String>,
    /// The company number called (`pbxNumber`).
    pub pbx_number: Option<String>,
    /// The employee's line, for an outgoing call (`internalNumber`).
    pub internal_number: Option<String>,
}

/// A Binotel webhook request, dispatched on `requestType`.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookRequest {
    /// `apiCallSettings`: answer with [`call_settings_reply`].
    CallSettings(CallSettings),
    /// `receivedTheCall`, `answeredTheCall`, `transferredTheCall`, `hangupTheCall`: a stage of the call, for the
    /// popup; answered with [`SUCCESS_REPLY`].
    CallEvent(CallEvent),
    /// `apiCallCompleted`: the call's details, for history, idempotent by [`completed_key`]; answered with
    /// [`SUCCESS_REPLY`] whether new or repeated.
    CallCompleted(CallEvent),
}

impl WebhookRequest {
    /// `settings`, `event` or `completed`.
    pub fn kind(&self) -> &'static str {
        match self {
            WebhookRequest::CallSettings(_) => "settings",
            WebhookRequest::CallEvent(_) => "event",
            WebhookRequest::CallCompleted(_) => "completed",
        }
    }
}

/// The answer to everything but `apiCallSettings`.
pub const SUCCESS_REPLY: &str = r#"{"status":"success"}"#;

/// Reads a webhook body (form-encoded as Binotel sends it; JSON is read too) and dispatches on `requestType`.
pub fn parse_webhook(
    body: &[u8],
    content_type: &str,
    time_zone: UtcOffset,
) -> Result<WebhookRequest, CallsError> {
    let format =
        BodyFormat::from_content_type(content_type)?.unwrap_or_else(|| BodyFormat::detect(body));
    let message = decode_body(body, format, WHAT)?;
    let raw = crate::php::PhpValue::Array(message).to_json();
    let object = raw.as_object().cloned().unwrap_or_default();
    let fields = Fields::new(&object);
    let request_type = fields
        .text(&["requesttype"])
        .ok_or(CallsError::MissingField {
            what: WHAT,
            field: "requestType",
        })?;
    if request_type.trim().eq_ignore_ascii_case("apiCallSettings") {
        return Ok(WebhookRequest::CallSettings(call_settings(&fields)));
    }
    let event = parse_push(body, content_type, time_zone)?;
    if request_type.trim().eq_ignore_ascii_case("apiCallCompleted") {
        Ok(WebhookRequest::CallCompleted(event))
    } else {
        Ok(WebhookRequest::CallEvent(event))
    }
}

fn call_settings(fields: &Fields<'_>) -> CallSettings {
    let (external_number, external_digits) = with_digits(fields.text(&["externalnumber"]));
    let direction = fields.text(&["calltype"]).and_then(|t| match t.trim() {
        "0" => Some(Direction::In),
        "1" => Some(Direction::Out),
        _ => None,
    });
    let pbx_number = fields.text(&["pbxnumber"]).or_else(|| {
        fields
            .object(&["pbxnumberdata"])
            .and_then(|o| Fields::new(o).text(&["number"]))
    });
    CallSettings {
        call_id: fields.text(&["generalcallid"]),
        external_number,
        external_digits,
        direction,
        company_id: fields.text(&["companyid"]),
        pbx_number,
        internal_number: fields.text(&["internalnumber"]),
    }
}

/// The idempotency key of an `apiCallCompleted`: its `generalCallID` (one call, one completion record, however
/// often Binotel repeats it).
pub fn completed_key(event: &CallEvent) -> String {
    event.call_id.trim().to_string()
}

/// Whether a completion with `key` was written before (`accepted` are the keys already in history).
pub fn is_repeated(key: &str, accepted: &[String]) -> bool {
    accepted.iter().any(|k| k.trim() == key)
}

// ---------------------------------------------------------------------------------------------------------------
// The apiCallSettings reply
// ---------------------------------------------------------------------------------------------------------------

/// What 1C found for the caller (field names as the 1C module fills them; all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CustomerAnswer {
    /// The client's name as 1C shows it.
    pub name: Option<String>,
    /// A line for Binotel's notification (the client's company, debts, …).
    pub description: Option<String>,
    /// A link to the client's card (an e1c:// or http(s) navigation link).
    pub link_url: Option<String>,
    pub link_title: Option<String>,
    /// The responsible employee's internal line in Binotel.
    pub employee_number: Option<String>,
    /// Or his e-mail in Binotel, when the line is unknown.
    pub employee_email: Option<String>,
}

/// Collapses whitespace (line breaks included) and cuts to `max` characters, never inside a character.
pub fn screen_text(text: &str, max: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= max {
        return collapsed;
    }
    let cut: String = collapsed.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

/// The answer to `apiCallSettings`: `{"customerData":{…}}` with the non-empty fields, or `{}` when the caller is
/// unknown (then Binotel routes the call by its own scenario).
pub fn call_settings_reply(answer: Option<&CustomerAnswer>) -> String {
    let mut data = Map::new();
    if let Some(answer) = answer {
        let mut put = |key: &str, value: &Option<String>, max: usize| {
            if let Some(text) = value.as_deref().map(|t| screen_text(t, max)) {
                if !text.is_empty() {
                    data.insert(key.to_string(), Value::String(text));
                }
            }
        };
        put("name", &answer.name, NAME_MAX_CHARS);
        put("description", &answer.description, DESCRIPTION_MAX_CHARS);
        put("linkToCrmUrl", &answer.link_url, 2000);
        put("linkToCrmTitle", &answer.link_title, 64);
        // One employee binding: the line when known, else the e-mail (Binotel takes either).
        if answer
            .employee_number
            .as_deref()
            .is_some_and(|n| !n.trim().is_empty())
        {
            put("assignedToEmployeeNumber", &answer.employee_number, 32);
        } else {
            put("assignedToEmployeeEmail", &answer.employee_email, 254);
        }
    }
    if data.is_empty() {
        return "{}".to_string();
    }
    let mut reply = Map::new();
    reply.insert("customerData".to_string(), Value::Object(data));
    Value::Object(reply).to_string()
}

/// The web-client link to a card, for Binotel's «open in CRM» button: the publication's address (the HTTP
/// service's base URL up to `/hs/`) and the card's navigation link (`e1cib/data/…`). `None` when the service URL is
/// not http(s) or has no `/hs/` part, or the link is not an `e1cib/` one.
pub fn web_client_link(service_url: &str, navigation_link: &str) -> Option<String> {
    let service_url = service_url.trim();
    let link = navigation_link.trim();
    let lower = service_url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://"))
        || !link.starts_with("e1cib/")
    {
        return None;
    }
    let publication = &service_url[..lower.rfind("/hs/")?];
    Some(format!("{publication}/#{link}"))
}

/// Reads the 1C module's answer JSON: an object with [`CustomerAnswer`]'s fields; empty text or `null` is an
/// unknown caller.
pub fn customer_answer_from_json(text: &str) -> Result<Option<CustomerAnswer>, CallsError> {
    let text = text.trim();
    if text.is_empty() || text == "null" || text == "{}" {
        return Ok(None);
    }
    let value: Value = serde_json::from_str(text).map_err(|e| CallsError::NotJson {
        what: Subject::CallEvent,
        detail: Problem::Parser(e.to_string()),
    })?;
    if !value.is_object() {
        return Err(CallsError::NotAnObject {
            what: Subject::CallEvent,
        });
    }
    // Values typed as numbers (an extension 801) are text to Binotel.
    let object = value.as_object().cloned().unwrap_or_default();
    let fields = Fields::new(&object);
    let link_url = fields.text(&["link_url"]).or_else(|| {
        web_client_link(
            &fields.text(&["service_url"]).unwrap_or_default(),
            &fields.text(&["navigation_link"]).unwrap_or_default(),
        )
    });
    // The responsible employee's line: given, or decided from the routing facts (only a manager is bound to the
    // client; a group is not an employee).
    let routed = fields
        .get(&["facts"])
        .filter(|f| f.is_object())
        .and_then(|f| serde_json::from_value::<crate::routing::RoutingFacts>(f.clone()).ok())
        .and_then(|facts| match crate::routing::route(&facts) {
            crate::routing::Decision::Manager { extension, .. } => Some(extension),
            _ => None,
        });
    Ok(Some(CustomerAnswer {
        name: fields.text(&["name"]),
        description: fields.text(&["description"]),
        link_url,
        link_title: fields.text(&["link_title"]),
        employee_number: fields.text(&["employee_number"]).or(routed),
        employee_email: fields.text(&["employee_email"]),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_published_list_admits_binotel_and_nobody_else() {
        let list = Allowlist::published();
        assert_eq!(list.len(), 26);
        for address in PUBLISHED_ADDRESSES {
            assert!(list.admits(ip(address)), "{address}");
        }
        assert!(list.admits(ip("::ffff:194.88.218.116")));
        for outsider in [
            "194.88.218.115",
            "194.88.219.68",
            "185.100.66.148",
            "127.0.0.1",
            "::1",
        ] {
            assert!(!list.admits(ip(outsider)), "{outsider}");
        }
        assert_eq!(Allowlist::parse("  \n").unwrap(), list);
    }

    #[test]
    fn cidr_networks_match_by_prefix() {
        let list = Allowlist::parse("10.1.0.0/16; 194.88.218.114\n2001:db8::/32").unwrap();
        assert!(list.admits(ip("10.1.255.7")));
        assert!(!list.admits(ip("10.2.0.1")));
        assert!(list.admits(ip("194.88.218.114")));
        assert!(
            !list.admits(ip("194.88.218.116")),
            "the published list is replaced, not added to"
        );
        assert!(list.admits(ip("2001:db8:ffff::1")));
        assert!(!list.admits(ip("2001:db9::1")));
        // A /32 is one address; /31 two.
        let pair = Allowlist::parse("192.0.2.10/31").unwrap();
        assert!(pair.admits(ip("192.0.2.11")) && pair.admits(ip("192.0.2.10")));
        assert!(!pair.admits(ip("192.0.2.12")));
    }

    #[test]
    fn a_bad_entry_is_an_error_naming_it() {
        for bad in [
            "194.88.218",
            "0.0.0.0/0",
            "10.0.0.0/7",
            "10.0.0.0/33",
            "host.example",
            "1.2.3.4/x",
        ] {
            match Allowlist::parse(&format!("194.88.218.114, {bad}")) {
                Err(CallsError::InvalidField { field, .. }) => assert_eq!(field, bad),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_client_address_is_the_last_forwarded_entry() {
        assert_eq!(client_address("194.88.218.116"), Some(ip("194.88.218.116")));
        // The client prepended a Binotel address; our web server appended the real one.
        assert_eq!(
            client_address("194.88.218.116, 203.0.113.9"),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(client_address("203.0.113.9:51234"), Some(ip("203.0.113.9")));
        assert_eq!(client_address("[2001:db8::1]:443"), Some(ip("2001:db8::1")));
        assert_eq!(
            client_address("::ffff:194.88.218.116"),
            Some(ip("194.88.218.116"))
        );
        for nothing in ["", "  ", "unknown", "1.2.3.4,", "host:80"] {
            assert_eq!(client_address(nothing), None, "{nothing:?}");
        }
    }

    fn facts<'a>(
        source: &'a str,
        list: &'a Allowlist,
        header: &'a str,
        length: Option<&'a str>,
    ) -> WebhookFacts<'a> {
        WebhookFacts {
            configured_source: source,
            allowlist: list,
            source_header: header,
            content_length: length,
            cap: 1000,
        }
    }

    #[test]
    fn the_gate_checks_source_then_address_then_size() {
        let list = Allowlist::published();
        assert_eq!(
            admit_webhook(&facts("Binotel", &list, "194.88.219.67", Some("10"))),
            Ok(ip("194.88.219.67"))
        );
        assert_eq!(
            admit_webhook(&facts("UIScom", &list, "194.88.219.67", Some("10"))),
            Err(Refusal::NotTheCallSource)
        );
        assert_eq!(
            admit_webhook(&facts("Binotel", &list, "", Some("10"))),
            Err(Refusal::AddressUnknown)
        );
        assert_eq!(
            admit_webhook(&facts("Binotel", &list, "203.0.113.9", Some("5000"))),
            Err(Refusal::AddressNotAllowed),
            "an outsider learns nothing about the cap"
        );
        assert_eq!(
            admit_webhook(&facts("Binotel", &list, "194.88.219.67", Some("5000"))),
            Err(Refusal::TooLarge)
        );
        assert_eq!(
            admit_webhook(&facts("Binotel", &list, "194.88.219.67", None)),
            Err(Refusal::LengthRequired)
        );
        assert_eq!(Refusal::AddressNotAllowed.http_status(), 403);
        assert_eq!(Refusal::AddressUnknown.http_status(), 403);
    }

    const SETTINGS: &str = "requestType=apiCallSettings&externalNumber=0670219424&companyID=3041&callType=0&pbxNumber=0443334000";

    #[test]
    fn api_call_settings_is_a_question_about_the_caller() {
        let WebhookRequest::CallSettings(settings) = parse_webhook(
            SETTINGS.as_bytes(),
            "application/x-www-form-urlencoded",
            UtcOffset::UTC,
        )
        .unwrap() else {
            panic!("settings expected")
        };
        assert_eq!(settings.external_digits.as_deref(), Some("0670219424"));
        assert_eq!(settings.direction, Some(Direction::In));
        assert_eq!(settings.company_id.as_deref(), Some("3041"));
        assert_eq!(settings.pbx_number.as_deref(), Some("0443334000"));
        assert_eq!(settings.call_id, None);
    }

    #[test]
    fn call_events_and_completions_are_told_apart() {
        let received = "requestType=receivedTheCall&generalCallID=2744830&externalNumber=0670219424&internalNumber=801&callType=0&companyID=3041&didNumber=0443334000";
        let request = parse_webhook(received.as_bytes(), "", UtcOffset::UTC).unwrap();
        assert_eq!(request.kind(), "event");
        let WebhookRequest::CallEvent(event) = request else {
            panic!()
        };
        assert_eq!(event.event.as_str(), "ringing");
        assert_eq!(event.extension.as_deref(), Some("801"));
        assert_eq!(event.other_party_digits.as_deref(), Some("0670219424"));

        let completed = "requestType=apiCallCompleted&callDetails%5BgeneralCallID%5D=744924436&callDetails%5BcallType%5D=0&callDetails%5BexternalNumber%5D=0965074747&callDetails%5Bbillsec%5D=30&callDetails%5Bwaitsec%5D=4&callDetails%5Bdisposition%5D=ANSWER";
        let WebhookRequest::CallCompleted(event) = parse_webhook(
            completed.as_bytes(),
            "application/x-www-form-urlencoded",
            UtcOffset::UTC,
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(completed_key(&event), "744924436");
        assert_eq!(event.event.as_str(), "finished");
        assert!(is_repeated(
            "744924436",
            &["1".into(), " 744924436 ".into()]
        ));
        assert!(!is_repeated("744924436", &["7449244".into()]));

        for (body, field) in [
            ("requestType=&x=1", "requestType"),
            ("externalNumber=1", "requestType"),
        ] {
            match parse_webhook(body.as_bytes(), "", UtcOffset::UTC) {
                Err(CallsError::MissingField { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(
            parse_webhook(
                b"requestType=somethingElse&generalCallID=1",
                "",
                UtcOffset::UTC
            ),
            Err(CallsError::UnknownPushType { .. })
        ));
    }

    #[test]
    fn the_settings_reply_names_the_caller_or_is_empty() {
        assert_eq!(call_settings_reply(None), "{}");
        assert_eq!(call_settings_reply(Some(&CustomerAnswer::default())), "{}");
        let answer = CustomerAnswer {
            name: Some("  ООО «Ромашка»\n  Иванов Иван Иванович, главный бухгалтер ".into()),
            description: Some("Долг 1 200 руб.".into()),
            link_url: Some("e1c://server/base/#e1cib/data/Справочник.Контрагенты?ref=8a1b".into()),
            link_title: Some("Открыть в 1С".into()),
            employee_number: Some("801".into()),
            employee_email: Some("ic@example.com".into()),
        };
        let reply: Value = serde_json::from_str(&call_settings_reply(Some(&answer))).unwrap();
        let data = &reply["customerData"];
        assert_eq!(data["name"], "ООО «Ромашка» Иванов Иван Ивано…");
        assert_eq!(
            data["name"].as_str().unwrap().chars().count(),
            NAME_MAX_CHARS
        );
        assert_eq!(data["description"], "Долг 1 200 руб.");
        assert_eq!(data["linkToCrmTitle"], "Открыть в 1С");
        assert_eq!(data["assignedToEmployeeNumber"], "801");
        assert!(data.get("assignedToEmployeeEmail").is_none());
        let by_mail = CustomerAnswer {
            employee_email: Some("ic@example.com".into()),
            ..CustomerAnswer::default()
        };
        assert_eq!(
            call_settings_reply(Some(&by_mail)),
            r#"{"customerData":{"assignedToEmployeeEmail":"ic@example.com"}}"#
        );
    }

    #[test]
    fn the_card_link_opens_the_web_client_of_the_publication() {
        assert_eq!(
            web_client_link(
                "https://crm.example.com/base/hs/tb-asterisk",
                "e1cib/data/Справочник.Контрагенты?ref=8a1b"
            ),
            Some(
                "https://crm.example.com/base/#e1cib/data/Справочник.Контрагенты?ref=8a1b"
                    .to_string()
            )
        );
        assert_eq!(
            web_client_link("http://h/hs/x/hs/tb-asterisk", "e1cib/data/A"),
            Some("http://h/hs/x/#e1cib/data/A".into())
        );
        assert_eq!(web_client_link("ftp://h/base/hs/tb", "e1cib/data/A"), None);
        assert_eq!(web_client_link("https://h/base/tb", "e1cib/data/A"), None);
        assert_eq!(
            web_client_link("https://h/base/hs/tb", "javascript:alert(1)"),
            None
        );
        let answer = customer_answer_from_json(
            r#"{"name":"A","service_url":"https://h/b/hs/tb-asterisk","navigation_link":"e1cib/data/C?ref=1"}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            answer.link_url.as_deref(),
            Some("https://h/b/#e1cib/data/C?ref=1")
        );
    }

    #[test]
    fn the_responsible_employee_comes_from_the_routing_decision() {
        let answer = |facts: &str| {
            customer_answer_from_json(&format!(r#"{{"name":"A","facts":{facts}}}"#))
                .unwrap()
                .unwrap()
                .employee_number
        };
        assert_eq!(
            answer(r#"{"card_found":true,"manager":{"extension":"801"}}"#).as_deref(),
            Some("801")
        );
        assert_eq!(
            answer(
                r#"{"card_found":true,"manager":{"extension":"801","on_call":true},"group":"900"}"#
            ),
            None
        );
        assert_eq!(answer(r#"{"card_found":true}"#), None);
        assert_eq!(answer(r#"{"card_found":"bad"}"#), None);
    }

    #[test]
    fn the_answer_json_of_1c_is_read_leniently() {
        assert_eq!(customer_answer_from_json("").unwrap(), None);
        assert_eq!(customer_answer_from_json("null").unwrap(), None);
        let answer = customer_answer_from_json(r#"{"Name":"Иванов","employee_number":801}"#)
            .unwrap()
            .unwrap();
        assert_eq!(answer.name.as_deref(), Some("Иванов"));
        assert_eq!(answer.employee_number.as_deref(), Some("801"));
        assert!(customer_answer_from_json("[1]").is_err());
        assert!(customer_answer_from_json("{").is_err());
    }
}
