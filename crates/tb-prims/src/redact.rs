//! Addresses fit for messages, LastError, Diagnostics and logs: [`url`] is the one redaction every shown URL
//! passes through (credentials and query values masked); [`is_secret_name`] marks the fields the log masks.
//!
//! Works on text, not on a parsed URL, so that even an invalid address (the one a user is being told
//! about) is shown safely. Every split is at an ASCII character, so any UTF-8 input is safe to slice.

/// What stands where a secret was.
pub const MASK: &str = "***";

/// Parts of parameter names that mark a secret (compared in lower case, as substrings).
pub const SECRET_MARKERS: &[&str] = &[
    "key",
    "token",
    "secret",
    "pass",
    "pwd",
    "auth",
    "jwt",
    "hmac",
    "credential",
    "cookie",
    "signature",
    "ключ",
    "токен",
    "секрет",
    "пароль",
];

/// A field or parameter name that looks like it carries a secret (`api_key`, `Token`, `Пароль`…).
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    SECRET_MARKERS.iter().any(|marker| lower.contains(marker))
}

/// At most this many characters of an address are shown (a peer-sized `Location` stays a short message).
pub const SHOWN_CHARS: usize = 300;

/// The one redaction of an address for messages, `LastError`, log lines and Diagnostics: surrounding white
/// space trimmed; `user:password@` becomes `***@`; every query value becomes `***` (names stay, tokens travel
/// under any name); the fragment is dropped; longer than [`SHOWN_CHARS`] is cut with `…`.
/// `wss://u:p@h/ws?token=abc&x=1#top` → `wss://***@h/ws?token=***&x=***`.
pub fn url(text: &str) -> String {
    let text = hide_userinfo(text.trim());
    let head = text.split('#').next().unwrap_or_default();
    let (path, query) = match head.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (head, None),
    };
    let mut raw = path.to_string();
    if let Some(query) = query {
        raw.push('?');
        raw.push_str(&mask_query(query));
    }
    // A control character (a CR/LF in a refused address) is shown escaped, never written into a message.
    let mut shown = escape_controls(&raw);
    match shown.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => {
            shown.truncate(cut);
            shown.push('…');
            shown
        }
        None => shown,
    }
}

/// An address as a property reads it back: the same credentials and query values hidden as [`url`], but whole
/// (no cut) — a property shows what is set without its secrets, and never the password of `user:password@`.
pub fn setting(text: &str) -> String {
    let text = hide_userinfo(text);
    let (path, query) = match text.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (text.as_str(), None),
    };
    let mut shown = path.to_string();
    if let Some(query) = query {
        let (query, fragment) = match query.split_once('#') {
            Some((query, fragment)) => (query, Some(fragment)),
            None => (query, None),
        };
        shown.push('?');
        shown.push_str(&mask_query(query));
        if let Some(fragment) = fragment {
            shown.push('#');
            shown.push_str(fragment);
        }
    }
    shown
}

/// `http://user:secret@proxy:3128` → `http://***@proxy:3128`; `user@proxy` → `***@proxy`. The last `@` of the
/// whole text counts — not of the part before `/`, `?` or `#` — so a password with an `@`, `/`, `?` or `#` in it
/// stays hidden (at worst more than the credentials is masked: an `@` in a query hides the host too).
fn hide_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}{MASK}{}", &url[..scheme_end + 3], &url[at..])
        }
        (None, Some(at)) => format!("{MASK}{}", &url[at..]),
        _ => url.to_string(),
    }
}

fn escape_controls(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for character in text.chars() {
        if character.is_control() {
            shown.extend(character.escape_default());
        } else {
            shown.push(character);
        }
    }
    shown
}

pub(crate) fn mask_query(query: &str) -> String {
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) => format!("{name}={MASK}"),
            None => pair.to_string(),
        })
        .collect();
    pairs.join("&")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_setting_reads_back_whole_but_without_its_secrets() {
        assert_eq!(
            setting("https://admin:pa55@c.example/api?token=t0k3n&x=1"),
            "https://***@c.example/api?token=***&x=***"
        );
        let long = format!("https://c.example/{}", "a".repeat(400));
        assert_eq!(
            setting(&long),
            long,
            "a plain address is shown as set, not cut"
        );
        assert_eq!(setting(""), "");
    }

    use super::*;

    #[test]
    fn a_password_with_a_reserved_character_is_hidden_whole() {
        for text in [
            "http://admin:Pa?ss-SECRET@127.0.0.1:9/api",
            "http://admin:Pa#ss-SECRET@127.0.0.1:9/api",
            "ws://user:pa/ss-SECRET@127.0.0.1:9/ws",
            "admin:Pa?ss-SECRET@127.0.0.1:9",
        ] {
            for shown in [url(text), setting(text)] {
                assert!(
                    !shown.contains("SECRET") && !shown.contains("Pa"),
                    "{text} → {shown}"
                );
                assert!(shown.contains("***@127.0.0.1:9"), "{text} → {shown}");
            }
        }
    }

    #[test]
    fn userinfo_is_hidden() {
        assert_eq!(url("http://u:p@proxy:3128"), "http://***@proxy:3128");
        assert_eq!(url("u:p@proxy:3128"), "***@proxy:3128");
        assert_eq!(
            url("http://u:p@ss/w@proxy:3128/x"),
            "http://***@proxy:3128/x"
        );
        assert_eq!(url("proxy:3128"), "proxy:3128");
        assert_eq!(url("ws://сentrifugo/x"), "ws://сentrifugo/x");
    }

    #[test]
    fn every_query_value_is_masked_and_the_fragment_dropped() {
        assert_eq!(
            url(" wss://u:p@h/ws?token=abc&x=1&API_KEY=k&flag#top "),
            "wss://***@h/ws?token=***&x=***&API_KEY=***&flag"
        );
        assert_eq!(url("https://h/?пароль=1"), "https://h/?пароль=***");
        assert_eq!(url("/moved?t=1"), "/moved?t=***");
        assert_eq!(url("https://h/p#frag"), "https://h/p");
        assert_eq!(url("http://p:1\r\nX"), "http://p:1\\r\\nX");
    }

    #[test]
    fn long_addresses_are_cut() {
        let long = format!("https://h/{}", "я".repeat(1000));
        let shown = url(&long);
        assert_eq!(shown.chars().count(), SHOWN_CHARS + 1);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn secret_names() {
        assert!(is_secret_name("hmac_secret_key") && is_secret_name("Authorization"));
        assert!(is_secret_name("токен_доступа") && !is_secret_name("channel"));
        for name in [
            "db_pass",
            "PWD",
            "proxy_auth",
            "jwt",
            "hmac",
            "credentials",
            "Set-Cookie",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
    }
}
