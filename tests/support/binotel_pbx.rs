//! A Binotel PBX as its webhooks reach the customer's URL: one call's requests, form-encoded the way PHP's
//! `http_build_query` encodes Binotel's arrays (`callDetails[generalCallID]=…`, brackets percent-encoded, spaces as
//! `+`), each with the address it comes from. The field names are those of Binotel's API 4.0 samples and of the
//! public integrations (sashalenz/binotel-api `ResponseData/Webhooks/*`).
#![allow(dead_code)] // each test binary uses a different part

/// One webhook request: the source address, the Content-Type and the body.
pub struct Webhook {
    pub from: &'static str,
    pub content_type: &'static str,
    pub body: String,
}

/// PHP's `urlencode`: unreserved bytes as they are, space as `+`, everything else `%XX`.
pub fn urlencode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `http_build_query` of flat pairs whose names may carry PHP brackets (`callDetails[billsec]`).
pub fn build_query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Binotel's first published server (`my.binotel.ua`).
pub const BINOTEL_ADDRESS: &str = "194.88.218.116";

fn form(pairs: &[(&str, &str)]) -> Webhook {
    Webhook {
        from: BINOTEL_ADDRESS,
        content_type: "application/x-www-form-urlencoded",
        body: build_query(pairs),
    }
}

/// An incoming call from `external` to the company number `did`, answered by `internal`, talking `billsec`
/// seconds: apiCallSettings, receivedTheCall, answeredTheCall, hangupTheCall, apiCallCompleted.
pub fn incoming_call(
    call_id: &str,
    external: &str,
    did: &str,
    internal: &str,
    start: i64,
    billsec: u64,
) -> Vec<Webhook> {
    let start = start.to_string();
    let billsec = billsec.to_string();
    vec![
        form(&[
            ("requestType", "apiCallSettings"),
            ("externalNumber", external),
            ("companyID", "3041"),
            ("callType", "0"),
            ("pbxNumber", did),
        ]),
        form(&[
            ("requestType", "receivedTheCall"),
            ("method", "receivedTheCall"),
            ("generalCallID", call_id),
            ("callType", "0"),
            ("companyID", "3041"),
            ("didNumber", did),
            ("externalNumber", external),
            ("internalNumber", internal),
        ]),
        form(&[
            ("requestType", "answeredTheCall"),
            ("generalCallID", call_id),
            ("callType", "0"),
            ("companyID", "3041"),
            ("pbxNumber", did),
            ("externalNumber", external),
            ("internalNumber", internal),
        ]),
        form(&[
            ("requestType", "hangupTheCall"),
            ("method", "hangupTheCall"),
            ("generalCallID", call_id),
            ("billsec", &billsec),
            ("disposition", "ANSWER"),
        ]),
        form(&[
            ("requestType", "apiCallCompleted"),
            ("callDetails[companyID]", "3041"),
            ("callDetails[generalCallID]", call_id),
            ("callDetails[startTime]", &start),
            ("callDetails[callType]", "0"),
            ("callDetails[internalNumber]", internal),
            ("callDetails[externalNumber]", external),
            ("callDetails[pbxNumberData][number]", did),
            ("callDetails[waitsec]", "5"),
            ("callDetails[billsec]", &billsec),
            ("callDetails[disposition]", "ANSWER"),
            ("callDetails[employeeData][name]", "Наталия Сторожук"),
        ]),
    ]
}
