//! URLs fit for messages, Diagnostics and logs: credentials and secret-looking parameters masked.
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
    "password",
    "passwd",
    "authorization",
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

/// `http://user:secret@proxy:3128` → `http://***@proxy:3128`; `user@proxy` → `***@proxy`. The rest is kept.
pub fn hide_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}{MASK}{}", &url[..scheme_end + 3], &url[at..])
        }
        (None, Some(at)) => format!("{MASK}{}", &url[at..]),
        _ => url.to_string(),
    }
}

/// Scheme, authority and path only: no `user:password@` and no query or fragment (tokens travel
/// there in some setups). Surrounding white space is trimmed.
pub fn without_query(url: &str) -> String {
    let url = url.trim();
    hide_userinfo(url.split(['?', '#']).next().unwrap_or_default())
}

/// [`hide_userinfo`], and the value of every query parameter whose name [`is_secret_name`] masked:
/// `wss://h/ws?token=abc&x=1` → `wss://h/ws?token=***&x=1`.
pub fn mask_secrets(url: &str) -> String {
    let (head, fragment) = match url.split_once('#') {
        Some((head, fragment)) => (head, Some(fragment)),
        None => (url, None),
    };
    let (path, query) = match head.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (head, None),
    };
    let mut shown = hide_userinfo(path);
    if let Some(query) = query {
        shown.push('?');
        shown.push_str(&mask_query(query));
    }
    if let Some(fragment) = fragment {
        shown.push('#');
        shown.push_str(fragment);
    }
    shown
}

fn mask_query(query: &str) -> String {
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_name(name) => format!("{name}={MASK}"),
            _ => pair.to_string(),
        })
        .collect();
    pairs.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_hidden() {
        assert_eq!(
            hide_userinfo("http://u:p@proxy:3128"),
            "http://***@proxy:3128"
        );
        assert_eq!(hide_userinfo("u:p@proxy:3128"), "***@proxy:3128");
        assert_eq!(hide_userinfo("proxy:3128"), "proxy:3128");
        assert_eq!(hide_userinfo("ws://сentrifugo/x"), "ws://сentrifugo/x");
    }

    #[test]
    fn query_is_dropped() {
        assert_eq!(
            without_query(" https://u:p@h/x?token=1 "),
            "https://***@h/x"
        );
        assert_eq!(without_query("https://h/x#frag"), "https://h/x");
        assert_eq!(without_query("proxy:3128"), "proxy:3128");
    }

    #[test]
    fn secret_parameters_are_masked() {
        assert_eq!(
            mask_secrets("wss://u:p@h/ws?token=abc&x=1&API_KEY=k&flag#top"),
            "wss://***@h/ws?token=***&x=1&API_KEY=***&flag#top"
        );
        assert_eq!(mask_secrets("https://h/?пароль=1"), "https://h/?пароль=***");
        assert_eq!(mask_secrets("https://h/p"), "https://h/p");
    }

    #[test]
    fn secret_names() {
        assert!(is_secret_name("hmac_secret_key") && is_secret_name("Authorization"));
        assert!(is_secret_name("токен_доступа") && !is_secret_name("channel"));
    }
}
