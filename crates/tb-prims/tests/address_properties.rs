//! Property tests of the address model and the scrubber: for random passwords over the whole printable range
//! (ASCII and beyond), an address either is refused without printing the password, or leads to the host it
//! names with the password it holds; and no part of a registered secret survives the scrubber. Each property is
//! a function that takes the implementation, so the mutation test at the top runs it on the issue's defects.

use proptest::prelude::*;
use tb_prims::address::{escape, Address};
use tb_prims::scrub::{Scrubber, MIN_PART, MIN_SECRET};

/// Every part of `secret` of `length` characters that `text` holds.
fn parts_of(secret: &str, length: usize, text: &str) -> Vec<String> {
    let characters: Vec<char> = secret.chars().collect();
    characters
        .windows(length)
        .map(|part| part.iter().collect::<String>())
        .filter(|part| text.contains(part.as_str()))
        .collect()
}

/// Every part of `secret` of four characters that `text` holds: what a refusal or a shown address may never
/// print (the address model keeps a password whole, so no shorter part than the scrubber's is ever exposed).
fn leaked_parts(secret: &str, text: &str) -> Vec<String> {
    parts_of(secret, 4, text)
}

/// `password` with every character outside RFC 3986's unreserved set percent-encoded (what the refusal asks).
fn encoded(password: &str) -> String {
    password
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._~".contains(c) {
                c.to_string()
            } else {
                escape(c)
            }
        })
        .collect()
}

/// The property of a parser: an address with this raw password leads to 127.0.0.1 or is refused (`host_of`
/// answers the host it would connect to, `None` for a refusal).
fn goes_to_the_configured_host(
    host_of: impl Fn(&str) -> Option<String>,
    password: &str,
) -> Result<(), String> {
    let text = format!("http://admin:{password}@127.0.0.1:9/api");
    match host_of(&text) {
        Some(host) if host != "127.0.0.1" => Err(format!("{text} goes to {host}")),
        _ => Ok(()),
    }
}

/// The property of a scrubber: neither `password` (of `MIN_SECRET` characters or more) nor any part of it of
/// `MIN_PART` characters survives in `texts`.
fn scrubs_every_part(
    scrub: impl Fn(&str) -> String,
    password: &str,
    texts: &[String],
) -> Result<(), String> {
    for text in texts {
        let shown = scrub(text);
        let mut parts = parts_of(password, MIN_PART, &shown);
        if password.chars().count() >= MIN_SECRET && shown.contains(password) {
            parts.push(password.to_string());
        }
        if !parts.is_empty() {
            return Err(format!("{text:?} → {shown:?} keeps {parts:?}"));
        }
    }
    Ok(())
}

/// Mutation tests of the two properties: each is run on a planted defect — the split that found the host of
/// `http://admin:Pa?ss@127.0.0.1` in `admin`, a scrubber that masks only whole secrets — and must catch it.
#[test]
fn the_properties_catch_the_defects_of_the_issue() {
    let naive_host = |text: &str| {
        let rest = text.split_once("://").map_or(text, |(_, rest)| rest);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit('@').next().unwrap_or_default();
        Some(host_port.split(':').next().unwrap_or_default().to_string())
    };
    let parsed_host = |text: &str| {
        Address::parse(text, &["http"])
            .ok()
            .map(|a| a.host().to_string())
    };
    for password in ["Pa?ss-SECRET", "Pa#ss-SECRET", "pa/ss-SECRET"] {
        assert!(
            goes_to_the_configured_host(naive_host, password).is_err(),
            "{password}"
        );
        assert_eq!(goes_to_the_configured_host(parsed_host, password), Ok(()));
    }

    let password = "Pa?ss-SECRET";
    let texts = ["bad port 'ss-SECRET'".to_string(), format!("x{password}y")];
    let whole_only = |text: &str| text.replace(password, "***");
    assert!(scrubs_every_part(whole_only, password, &texts).is_err());
    let mut scrubber = Scrubber::new();
    scrubber.add(password);
    assert_eq!(
        scrubs_every_part(|text| scrubber.scrub(text).into_owned(), password, &texts),
        Ok(())
    );
}

fn password() -> impl Strategy<Value = String> {
    prop_oneof![
        // Printable ASCII, space included: the characters a user types.
        proptest::collection::vec(0x20u8..0x7f, 1..24)
            .prop_map(|bytes| String::from_utf8(bytes).expect("ASCII")),
        // Any printable Unicode.
        "\\PC{1,16}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn an_encoded_password_always_reaches_the_configured_host(password in password()) {
        let text = format!("http://admin:{}@127.0.0.1:9/api", encoded(&password));
        let address = Address::parse(&text, &["http"]).expect("an encoded password is taken");
        prop_assert_eq!(address.host(), "127.0.0.1");
        prop_assert_eq!(address.port(), Some(9));
        prop_assert_eq!(address.path_and_query(), "/api");
        prop_assert_eq!(address.credentials(), Some(("admin".to_string(), password.clone())));
        prop_assert_eq!(address.without_credentials(), "http://127.0.0.1:9/api");
        prop_assert_eq!(address.shown(), "http://***@127.0.0.1:9/api");
        prop_assert_eq!(Address::parse(&address.canonical(), &["http"]), Ok(address));
    }

    #[test]
    fn a_raw_password_is_taken_to_the_configured_host_or_refused_without_being_printed(
        password in password(),
        scheme in prop_oneof![Just("http"), Just("ws"), Just("")],
    ) {
        let parsed_host = |text: &str| {
            Address::parse(text, &["http"]).ok().map(|a| a.host().to_string())
        };
        prop_assert_eq!(goes_to_the_configured_host(parsed_host, &password), Ok(()));
        let text = if scheme.is_empty() {
            format!("admin:{password}@127.0.0.1:9/api")
        } else {
            format!("{scheme}://admin:{password}@127.0.0.1:9/api")
        };
        match Address::parse(&text, &["http", "ws"]) {
            Ok(address) => {
                prop_assert!(!scheme.is_empty(), "no scheme, yet taken: {address:?}");
                prop_assert_eq!(address.host(), "127.0.0.1");
                prop_assert_eq!(address.port(), Some(9));
                prop_assert_eq!(address.path_and_query(), "/api");
                prop_assert_eq!(address.shown(), format!("{scheme}://***@127.0.0.1:9/api"));
                prop_assert!(!address.secrets().is_empty() || password.is_empty());
            }
            Err(problem) => {
                // A refusal holds at most one character of the address.
                let said = format!("{problem:?}");
                prop_assert!(leaked_parts(&password, &said).is_empty(), "{said}");
            }
        }
    }

    #[test]
    fn no_part_of_a_secret_survives_the_scrubber(
        password in password(),
        before in "\\PC{0,40}",
        after in "\\PC{0,40}",
        cut in 0usize..24,
    ) {
        let mut scrubber = Scrubber::new();
        scrubber.add(&password);
        scrubber.add(&encoded(&password));
        // The whole secret, a piece of it (as «bad port 'ss-SECRET'» printed), and its encoded form.
        let piece: String = password.chars().skip(cut % password.chars().count().max(1)).collect();
        let texts = [
            format!("{before}{password}{after}"),
            format!("{before}'{piece}'{after}"),
            format!("{before}{}{after}", encoded(&password)),
        ];
        let scrubbed = scrubs_every_part(|text| scrubber.scrub(text).into_owned(), &password, &texts);
        prop_assert_eq!(scrubbed, Ok(()));
    }
}
