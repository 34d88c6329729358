//! Who may push a call into the base: the admission of a PBX webhook, decided before anything else is done with it.
//!
//! The 1C HTTP services `/hs/tb-uiscom/<token>/in|out|rec` and `/hs/tb-asterisk/push` are published on the internet.
//! A forged push pops a card with the attacker's text on an operator's screen and writes history, so every request
//! passes these gates, in this order, and is refused at the first that fails:
//!
//! 1. [`admit_request`] — before the body is read (the 1C module only looks at headers and the URL):
//!    the endpoint's PBX is the configured call source; its secret (UIS: the URL token; Binotel: the signing
//!    secret) is set; `Content-Length` is present, a number, and within the cap. UIS also presents its URL token
//!    here ([`admit_uis`]): it is compared in constant time.
//! 2. [`admit_push`] — Binotel-style pushes only, on the body: the md5 signature (constant time, both PHP variants);
//!    the push's `startTime`, where the push carries one, within [`PUSH_MAX_AGE_SECS`] back and
//!    [`PUSH_MAX_SKEW_SECS`] ahead; and its replay key not among the keys already accepted for this call.
//!
//! UIS notifications carry neither a signature nor a timestamp: the URL token is all UIS offers, so a replay of a
//! UIS notification can only come from someone who has the token already, and repeated notifications of one call
//! are normal there (one per employee rung); no replay gate is applied to them.
//!
//! Every refusal is a [`Refusal`] with the HTTP status to answer; nothing here logs, stores or echoes a body.

use serde::Serialize;
use serde_json::Value;

use crate::binotel::{self, BodyFormat};
use crate::error::{CallsError, Subject};
use crate::fields::Fields;
use crate::php::PhpValue;

/// The largest body accepted, in bytes (1 MiB: a Binotel call-completed push with details is a few KiB).
pub const BODY_CAP: u64 = 1_048_576;

/// How far back a signed push's `startTime` may lie: a call-completed push follows the call's start by the call's
/// length plus the PBX's delivery delay, and no call lasts a day.
pub const PUSH_MAX_AGE_SECS: i64 = 24 * 3600;

/// How far ahead of this server's clock a push's `startTime` may lie (clock skew between PBX and 1C server).
pub const PUSH_MAX_SKEW_SECS: i64 = 300;

/// The PBX whose endpoint received the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pbx {
    /// `/hs/tb-uiscom/...`: UIScom notifications.
    Uiscom,
    /// `/hs/tb-asterisk/push`: Binotel-style pushes (Asterisk/FreePBX of Clinica Web).
    Binotel,
}

impl Pbx {
    /// The value of the call-source setting (constant ТБ_ИсточникЗвонков) that enables this endpoint.
    pub fn source_name(self) -> &'static str {
        match self {
            Pbx::Uiscom => "UIScom",
            Pbx::Binotel => "Binotel",
        }
    }

    /// Whether the configured call source (as the administrator typed or picked it) is this PBX.
    pub fn is_configured(self, configured_source: &str) -> bool {
        configured_source
            .trim()
            .eq_ignore_ascii_case(self.source_name())
    }
}

/// Why a webhook is refused. [`Refusal::http_status`] is what the PBX gets; [`Refusal::code`] goes to the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The endpoint's PBX is not the configured call source (or none is configured).
    NotTheCallSource,
    /// The PBX's secret or URL token is not set: nothing could authenticate the request.
    SecretNotSet,
    /// No `Content-Length`: the size cannot be checked before the body is read (chunked uploads are refused).
    LengthRequired,
    /// `Content-Length` is not a whole number.
    LengthInvalid,
    /// `Content-Length` is over the cap.
    TooLarge,
    /// The URL token does not match.
    BadToken,
    /// The push has no `signature`.
    SignatureMissing,
    /// The push's signature does not match.
    BadSignature,
    /// The push's `startTime` is older than [`PUSH_MAX_AGE_SECS`].
    Stale,
    /// The push's `startTime` is further ahead than [`PUSH_MAX_SKEW_SECS`].
    FromTheFuture,
    /// This push (same call, type and internal number) was accepted before: a replay or a PBX retry.
    Duplicate,
    /// The body cannot be read at all (not JSON nor a form, no call id, unknown content type).
    BadBody,
    /// Binotel webhook: the client's address is not known (the web server passed no address header).
    AddressUnknown,
    /// Binotel webhook: the client's address is not in the allowlist.
    AddressNotAllowed,
}

impl Refusal {
    /// The HTTP status answered.
    ///
    /// A duplicate is answered 200: it is not processed again, but a PBX that retries because our first answer
    /// was lost must stop retrying, and a replaying attacker learns nothing from the status.
    pub fn http_status(self) -> u16 {
        match self {
            Refusal::NotTheCallSource
            | Refusal::SecretNotSet
            | Refusal::BadToken
            | Refusal::SignatureMissing
            | Refusal::BadSignature
            | Refusal::Stale
            | Refusal::FromTheFuture
            | Refusal::AddressUnknown
            | Refusal::AddressNotAllowed => 403,
            Refusal::LengthRequired => 411,
            Refusal::LengthInvalid | Refusal::BadBody => 400,
            Refusal::TooLarge => 413,
            Refusal::Duplicate => 200,
        }
    }

    /// A stable code for the answer's `status` field and the event log.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NotTheCallSource => "not_the_call_source",
            Refusal::SecretNotSet => "secret_not_set",
            Refusal::LengthRequired => "length_required",
            Refusal::LengthInvalid => "length_invalid",
            Refusal::TooLarge => "too_large",
            Refusal::BadToken => "bad_token",
            Refusal::SignatureMissing => "signature_missing",
            Refusal::BadSignature => "bad_signature",
            Refusal::Stale => "stale",
            Refusal::FromTheFuture => "from_the_future",
            Refusal::Duplicate => "duplicate",
            Refusal::BadBody => "bad_body",
            Refusal::AddressUnknown => "address_unknown",
            Refusal::AddressNotAllowed => "address_not_allowed",
        }
    }

    /// Whether the request proved it came from the PBX (only then may its body be stored or logged).
    pub fn authenticated(self) -> bool {
        matches!(
            self,
            Refusal::Stale | Refusal::FromTheFuture | Refusal::Duplicate
        )
    }
}

/// What the 1C module knows before it reads the body.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    /// The endpoint that received the request.
    pub pbx: Pbx,
    /// The configured call source (constant ТБ_ИсточникЗвонков).
    pub configured_source: &'a str,
    /// Whether the PBX's secret (Binotel) or URL token (UIS) is set.
    pub secret_set: bool,
    /// The `Content-Length` header as received; `None` when absent.
    pub content_length: Option<&'a str>,
    /// The largest body accepted ([`BODY_CAP`] unless a test says otherwise).
    pub cap: u64,
}

/// Gate 1: source, secret, size — before the body is read.
pub fn admit_request(facts: &RequestFacts<'_>) -> Result<(), Refusal> {
    if !facts.pbx.is_configured(facts.configured_source) {
        return Err(Refusal::NotTheCallSource);
    }
    if !facts.secret_set {
        return Err(Refusal::SecretNotSet);
    }
    check_length(facts.content_length, facts.cap)
}

/// Gate 1 for UIS, whose only credential is the token in the URL: `expected` is the configured token.
///
/// The token is compared before the size, so an unauthenticated caller learns nothing about the cap.
pub fn admit_uis(
    configured_source: &str,
    expected: &str,
    presented: &str,
    content_length: Option<&str>,
    cap: u64,
) -> Result<(), Refusal> {
    if !Pbx::Uiscom.is_configured(configured_source) {
        return Err(Refusal::NotTheCallSource);
    }
    if expected.is_empty() {
        return Err(Refusal::SecretNotSet);
    }
    if !constant_time_eq(expected.as_bytes(), presented.as_bytes()) {
        return Err(Refusal::BadToken);
    }
    check_length(content_length, cap)
}

pub(crate) fn check_length(content_length: Option<&str>, cap: u64) -> Result<(), Refusal> {
    let text = content_length
        .map(str::trim)
        .ok_or(Refusal::LengthRequired)?;
    if text.is_empty() {
        return Err(Refusal::LengthRequired);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::LengthInvalid);
    }
    // Digits only, so a parse failure is an overflow: larger than any cap.
    match text.parse::<u64>() {
        Ok(length) if length <= cap => Ok(()),
        _ => Err(Refusal::TooLarge),
    }
}

/// What gate 2 needs: the push as received, the secret, this server's clock and what was accepted before.
#[derive(Debug, Clone, Copy)]
pub struct PushFacts<'a> {
    pub body: &'a [u8],
    /// The `Content-Type` header ("" when absent: the body's first character decides).
    pub content_type: &'a str,
    /// The Binotel signing secret.
    pub secret: &'a str,
    /// This server's clock, Unix seconds.
    pub now: i64,
    /// Replay keys ([`AdmittedPush::key`]) already accepted for this push's call.
    pub accepted_keys: &'a [String],
}

/// A push that passed gate 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdmittedPush {
    /// `generalCallID`: the 1C module stores the key under it.
    pub call_id: String,
    /// What identifies this push among the call's pushes (see [`replay_key`]).
    pub key: String,
    /// The signed `startTime`, Unix seconds, when the push carries one.
    pub start_time: Option<i64>,
}

/// Gate 2 for a Binotel-style push, on its body.
///
/// The signature comes first: nothing else of an unsigned body is looked at.
pub fn admit_push(facts: &PushFacts<'_>) -> Result<AdmittedPush, Refusal> {
    let format = BodyFormat::from_content_type(facts.content_type)
        .map_err(|_| Refusal::BadBody)?
        .unwrap_or_else(|| BodyFormat::detect(facts.body));
    let message = binotel::decode_body(facts.body, format, Subject::BinotelPush)
        .map_err(|_| Refusal::BadBody)?;
    match binotel::verify(&message, facts.secret, Subject::BinotelPush) {
        Ok(_) => {}
        Err(CallsError::SignatureMissing { .. }) => return Err(Refusal::SignatureMissing),
        Err(CallsError::SecretMissing) => return Err(Refusal::SecretNotSet),
        Err(CallsError::SignatureMismatch { .. }) => return Err(Refusal::BadSignature),
        Err(_) => return Err(Refusal::BadBody),
    }
    let raw = PhpValue::Array(message).to_json();
    let object = raw.as_object().cloned().unwrap_or_default();
    let top = Fields::new(&object);
    let details = top
        .object(&["calldetails"])
        .and_then(|d| binotel::call_details_of(d));
    let details = details.map(Fields::new);
    let text = |names: &[&str]| {
        top.text(names)
            .or_else(|| details.as_ref().and_then(|d| d.text(names)))
    };
    let call_id = text(&["generalcallid", "callid"]).ok_or(Refusal::BadBody)?;
    let request_type = text(&["requesttype"]).unwrap_or_default();
    let internal = text(&["internalnumber"]).unwrap_or_default();
    let start_time = text(&["starttime"]).and_then(|t| t.trim().parse::<i64>().ok());
    if let Some(start) = start_time {
        if start < facts.now.saturating_sub(PUSH_MAX_AGE_SECS) {
            return Err(Refusal::Stale);
        }
        if start > facts.now.saturating_add(PUSH_MAX_SKEW_SECS) {
            return Err(Refusal::FromTheFuture);
        }
    }
    let key = replay_key(&call_id, &request_type, &internal);
    if facts.accepted_keys.iter().any(|k| k == &key) {
        return Err(Refusal::Duplicate);
    }
    Ok(AdmittedPush {
        call_id,
        key,
        start_time,
    })
}

/// The replay key of a push: `generalCallID`, `requestType` and `internalNumber`.
///
/// The internal number is part of it because one call legitimately brings several pushes of one type — a group
/// rings each member (`receivedTheCall` per internal number), a call is transferred more than once — while a
/// replayed push repeats all three (changing any of them breaks the signature).
pub fn replay_key(call_id: &str, request_type: &str, internal_number: &str) -> String {
    format!(
        "{}|{}|{}",
        call_id.trim(),
        request_type.trim().to_ascii_lowercase(),
        internal_number.trim()
    )
}

/// Reads the JSON array of accepted keys the 1C module passes; anything else is an empty list.
pub fn accepted_keys_from_json(text: &str) -> Vec<String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Compares a secret with a presented value in time that depends only on the secret's length: no early exit at
/// the first differing byte nor at a length mismatch, so timing tells an attacker neither how much of a guess was
/// right nor how long the secret is beyond what its own length costs.
pub fn constant_time_eq(expected: &[u8], presented: &[u8]) -> bool {
    let mut difference = u8::from(expected.len() != presented.len());
    for (i, e) in expected.iter().enumerate() {
        let p = presented.get(i).copied().unwrap_or(!e);
        difference |= e ^ p;
    }
    difference == 0
}

/// A body of an unauthenticated or failed request as it may be logged: its length and the first 12 hex digits of
/// its md5 (enough to match two log lines or a PBX's own log, useless for reading it).
pub fn body_fingerprint(body: &[u8]) -> String {
    use md5::{Digest, Md5};
    let digest = format!("{:x}", Md5::digest(body));
    format!("{} bytes, md5 {}…", body.len(), &digest[..12])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::php::{decode_json, PhpKey, PhpValue};

    const SECRET: &str = "s3cret";
    const NOW: i64 = 1_700_000_000;

    fn facts<'a>(
        pbx: Pbx,
        source: &'a str,
        secret_set: bool,
        length: Option<&'a str>,
    ) -> RequestFacts<'a> {
        RequestFacts {
            pbx,
            configured_source: source,
            secret_set,
            content_length: length,
            cap: 1000,
        }
    }

    /// A push signed as Binotel's PHP client signs it.
    fn signed(json: &str) -> String {
        let PhpValue::Array(mut params) = decode_json(json.as_bytes()).unwrap() else {
            panic!("object expected")
        };
        let signature =
            binotel::sign(&params, SECRET, binotel::SignatureVariant::WithoutKey).unwrap();
        params.insert(PhpKey::Str("signature".into()), PhpValue::Str(signature));
        PhpValue::Array(params).to_php_json().unwrap()
    }

    fn push(body: &str, keys: &[String]) -> Result<AdmittedPush, Refusal> {
        admit_push(&PushFacts {
            body: body.as_bytes(),
            content_type: "application/json",
            secret: SECRET,
            now: NOW,
            accepted_keys: keys,
        })
    }

    const RECEIVED: &str = r#"{"requestType":"receivedTheCall","generalCallID":"2744830","internalNumber":"801","externalNumber":"0670219424","callType":"0"}"#;

    #[test]
    fn each_endpoint_opens_only_for_its_configured_source() {
        let ok = admit_request(&facts(Pbx::Binotel, " binotel ", true, Some("10")));
        assert_eq!(ok, Ok(()));
        for source in ["UIScom", "1С-Коннект", "", "Binotel2"] {
            assert_eq!(
                admit_request(&facts(Pbx::Binotel, source, true, Some("10"))),
                Err(Refusal::NotTheCallSource),
                "{source}"
            );
        }
        assert_eq!(
            admit_uis("Binotel", "t", "t", Some("1"), 10),
            Err(Refusal::NotTheCallSource)
        );
        assert_eq!(admit_uis("uiscom", "t", "t", Some("1"), 10), Ok(()));
    }

    #[test]
    fn nothing_is_accepted_while_the_secret_is_unset() {
        assert_eq!(
            admit_request(&facts(Pbx::Binotel, "Binotel", false, Some("10"))),
            Err(Refusal::SecretNotSet)
        );
        // An empty presented token must not match an empty configured one.
        assert_eq!(
            admit_uis("UIScom", "", "", Some("1"), 10),
            Err(Refusal::SecretNotSet)
        );
        // Gate 2 on its own refuses too.
        let body = signed(RECEIVED);
        let refused = admit_push(&PushFacts {
            body: body.as_bytes(),
            content_type: "",
            secret: "",
            now: NOW,
            accepted_keys: &[],
        });
        assert_eq!(refused, Err(Refusal::SecretNotSet));
    }

    #[test]
    fn the_size_is_decided_by_the_header_alone() {
        let at =
            |length: Option<&str>| admit_request(&facts(Pbx::Binotel, "Binotel", true, length));
        assert_eq!(at(Some("1000")), Ok(()));
        assert_eq!(at(Some(" 0 ")), Ok(()));
        assert_eq!(at(Some("1001")), Err(Refusal::TooLarge));
        assert_eq!(at(Some("99999999999999999999999")), Err(Refusal::TooLarge));
        assert_eq!(at(None), Err(Refusal::LengthRequired));
        assert_eq!(at(Some("")), Err(Refusal::LengthRequired));
        assert_eq!(at(Some("-1")), Err(Refusal::LengthInvalid));
        assert_eq!(at(Some("1e3")), Err(Refusal::LengthInvalid));
        assert_eq!(Refusal::TooLarge.http_status(), 413);
        assert_eq!(Refusal::LengthRequired.http_status(), 411);
    }

    #[test]
    fn the_uis_token_is_checked_before_the_size() {
        assert_eq!(
            admit_uis("UIScom", "token", "tokex", Some("5"), 10),
            Err(Refusal::BadToken)
        );
        assert_eq!(
            admit_uis("UIScom", "token", "tokenx", None, 10),
            Err(Refusal::BadToken)
        );
        assert_eq!(
            admit_uis("UIScom", "token", "token", Some("11"), 10),
            Err(Refusal::TooLarge)
        );
        assert_eq!(Refusal::BadToken.http_status(), 403);
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"abc", b""));
        // A presented byte equal to the complement of the secret's must not pass as "missing".
        assert!(!constant_time_eq(&[0x00], &[]));
        assert!(!constant_time_eq(&[0xFF], &[0xFF, 0x00]));
    }

    #[test]
    fn a_signed_push_is_admitted_with_its_replay_key() {
        let admitted = push(&signed(RECEIVED), &[]).unwrap();
        assert_eq!(admitted.call_id, "2744830");
        assert_eq!(admitted.key, "2744830|receivedthecall|801");
        assert_eq!(admitted.start_time, None);
    }

    #[test]
    fn unsigned_or_forged_pushes_are_refused() {
        assert_eq!(push(RECEIVED, &[]), Err(Refusal::SignatureMissing));
        let forged = signed(RECEIVED).replace("0670219424", "0000000000");
        assert_eq!(push(&forged, &[]), Err(Refusal::BadSignature));
        let other_secret = admit_push(&PushFacts {
            body: signed(RECEIVED).as_bytes(),
            content_type: "",
            secret: "other",
            now: NOW,
            accepted_keys: &[],
        });
        assert_eq!(other_secret, Err(Refusal::BadSignature));
        assert_eq!(push("not a push", &[]), Err(Refusal::BadBody));
        assert_eq!(
            admit_push(&PushFacts {
                body: b"{}",
                content_type: "text/xml",
                secret: SECRET,
                now: NOW,
                accepted_keys: &[],
            }),
            Err(Refusal::BadBody)
        );
        assert!(!Refusal::BadSignature.authenticated());
        assert!(Refusal::Duplicate.authenticated());
    }

    #[test]
    fn a_replayed_push_is_a_duplicate_but_another_member_of_the_group_is_not() {
        let body = signed(RECEIVED);
        let first = push(&body, &[]).unwrap();
        let keys = vec![first.key.clone()];
        assert_eq!(push(&body, &keys), Err(Refusal::Duplicate));
        assert_eq!(Refusal::Duplicate.http_status(), 200);
        // The same call ringing the next member of the group.
        let next = signed(&RECEIVED.replace("\"801\"", "\"802\""));
        assert_eq!(
            push(&next, &keys).unwrap().key,
            "2744830|receivedthecall|802"
        );
        // The next stage of the call.
        let answered = signed(&RECEIVED.replace("receivedTheCall", "answeredTheCall"));
        assert!(push(&answered, &keys).is_ok());
    }

    #[test]
    fn a_signed_start_time_bounds_the_replay_window() {
        let with_start = |start: i64| {
            signed(&format!(
                r#"{{"requestType":"apiCallCompleted","callDetails":{{"generalCallID":"7","startTime":"{start}","internalNumber":"902"}}}}"#
            ))
        };
        let admitted = push(&with_start(NOW - 3600), &[]).unwrap();
        assert_eq!(admitted.start_time, Some(NOW - 3600));
        assert_eq!(admitted.call_id, "7");
        assert_eq!(admitted.key, "7|apicallcompleted|902");
        assert!(push(&with_start(NOW - PUSH_MAX_AGE_SECS), &[]).is_ok());
        assert_eq!(
            push(&with_start(NOW - PUSH_MAX_AGE_SECS - 1), &[]),
            Err(Refusal::Stale)
        );
        assert!(push(&with_start(NOW + PUSH_MAX_SKEW_SECS), &[]).is_ok());
        assert_eq!(
            push(&with_start(NOW + PUSH_MAX_SKEW_SECS + 1), &[]),
            Err(Refusal::FromTheFuture)
        );
        // callDetails keyed by call id, as the API answers, is read too.
        let keyed = signed(&format!(
            r#"{{"requestType":"apiCallCompleted","callDetails":{{"7":{{"generalCallID":"7","startTime":"{}"}}}}}}"#,
            NOW - 2 * PUSH_MAX_AGE_SECS
        ));
        assert_eq!(push(&keyed, &[]), Err(Refusal::Stale));
    }

    #[test]
    fn form_encoded_pushes_pass_the_same_gates() {
        let PhpValue::Array(params) = decode_json(RECEIVED.as_bytes()).unwrap() else {
            panic!()
        };
        let signature =
            binotel::sign(&params, SECRET, binotel::SignatureVariant::WithoutKey).unwrap();
        let form = format!(
            "requestType=receivedTheCall&generalCallID=2744830&internalNumber=801&externalNumber=0670219424&callType=0&signature={signature}"
        );
        let admitted = admit_push(&PushFacts {
            body: form.as_bytes(),
            content_type: "application/x-www-form-urlencoded",
            secret: SECRET,
            now: NOW,
            accepted_keys: &[],
        })
        .unwrap();
        assert_eq!(admitted.key, "2744830|receivedthecall|801");
    }

    #[test]
    fn accepted_keys_are_read_leniently() {
        assert_eq!(
            accepted_keys_from_json(r#"["a|b|c", 5, "d"]"#),
            vec!["a|b|c".to_string(), "d".to_string()]
        );
        assert!(accepted_keys_from_json("").is_empty());
        assert!(accepted_keys_from_json("{}").is_empty());
    }

    #[test]
    fn a_fingerprint_never_shows_the_body() {
        let body = b"{\"customerName\":\"Secret Person\"}";
        let print = body_fingerprint(body);
        assert!(
            print.starts_with(&format!("{} bytes, md5 ", body.len())),
            "{print}"
        );
        assert!(!print.contains("Secret"));
        assert_eq!(print, format!("{} bytes, md5 68f65c4f47ba…", body.len()));
    }

    #[test]
    fn every_refusal_but_a_duplicate_is_an_error_status() {
        use Refusal::*;
        for r in [
            NotTheCallSource,
            SecretNotSet,
            LengthRequired,
            LengthInvalid,
            TooLarge,
            BadToken,
            SignatureMissing,
            BadSignature,
            Stale,
            FromTheFuture,
            BadBody,
            AddressUnknown,
            AddressNotAllowed,
        ] {
            assert!(r.http_status() >= 400, "{r:?}");
            assert!(!r.code().is_empty());
        }
    }
}
