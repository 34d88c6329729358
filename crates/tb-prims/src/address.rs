//! The one address model of the add-in: every URL a user gives (Centrifugo's API and WebSocket addresses, the
//! `Прокси` setting, the UIS and Binotel API addresses) is parsed once, where it is set, into an [`Address`], and
//! the HTTP and WebSocket layers are handed its parts — never the raw text for a library to parse again.
//!
//! The rules, strict on purpose, because two parsers that disagree about where a password ends send the password
//! to a host made of its first half:
//! - a scheme is required (`user:secret@host:9` without one is refused: is `user` a host or a user?);
//! - the authority ends at the first `/`, `?` or `#`, so the user information is found before them and a host
//!   never holds `@`; an `@` after that point means a password holds a reserved character, and is refused with
//!   the percent-encoding to write instead (`%3F` for `?`);
//! - the user name and password may hold only what RFC 3986 allows there (letters, digits, `-._~`,
//!   `!$&'()*+,;=`, `:` in the password) and `%XX` escapes; anything else is refused with its escape;
//! - no control character, no white space, ASCII only ([`check`]); a host is letters, digits, `-`, `.`, `_` or a
//!   bracketed IPv6 literal; a port is 1–65535; the fragment is dropped (it is never sent).

use crate::percent;

/// What is wrong with an address (its texts: the add-in's presentation layer). No variant holds more than one
/// character of the address, so a refusal never prints a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressProblem {
    /// A control character (`U+0000`–`U+001F`, `U+007F`–`U+009F`) at this character position (from 1).
    Control { position: usize },
    /// White space inside the address at this character position (from 1).
    Space { position: usize },
    /// The host has a character outside ASCII (this one).
    NonAsciiHost { character: char },
    /// The path or query has a character outside ASCII (percent-encode it).
    NonAsciiPath { character: char },
    /// No `scheme://` in front.
    NoScheme,
    /// A scheme the setting does not take (the caller names the ones it does).
    Scheme,
    /// Nothing between `://` and the path.
    NoHost,
    /// The host holds this character (not a letter, digit, `-`, `.`, `_`, nor a bracketed IPv6 literal).
    BadHost { character: char },
    /// The port is not a number from 1 to 65535 (its text is not repeated: it may be half a password).
    BadPort,
    /// The user name or password holds this character unencoded (write [`escape`] of it instead); for an `@`
    /// met after a `/`, `?` or `#`, the character is that delimiter.
    ReservedInUserinfo { character: char },
    /// A `%` in the user name or password not followed by two hex digits (write `%25` for a `%`).
    BadEscape,
}

/// The percent-encoding of one character (`?` → `%3F`, `я` → `%D1%8F`), for the advice of a refusal.
pub fn escape(character: char) -> String {
    let mut buffer = [0u8; 4];
    character
        .encode_utf8(&mut buffer)
        .bytes()
        .map(|byte| format!("%{byte:02X}"))
        .collect()
}

/// Checks `address` (already trimmed by the caller, as every setting is): no control character or white space
/// anywhere, ASCII only in the host and everywhere else. `scheme://` is optional.
pub fn check(address: &str) -> Result<(), AddressProblem> {
    for (index, character) in address.chars().enumerate() {
        if character.is_control() {
            return Err(AddressProblem::Control {
                position: index + 1,
            });
        }
        if character.is_whitespace() {
            return Err(AddressProblem::Space {
                position: index + 1,
            });
        }
    }
    let rest = match address.find("://") {
        Some(end) => &address[end + 3..],
        None => address,
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // A non-ASCII character of a password is advice to encode it, not a «host» problem.
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(character) = host.chars().find(|c| !c.is_ascii()) {
        return Err(AddressProblem::NonAsciiHost { character });
    }
    if let Some(character) = tail.chars().find(|c| !c.is_ascii()) {
        return Err(AddressProblem::NonAsciiPath { character });
    }
    Ok(())
}

/// A parsed address. Built only by [`Address::parse`], so every part obeys the module's rules.
#[derive(Clone, PartialEq, Eq)]
pub struct Address {
    /// Lower case.
    scheme: String,
    /// `user[:password]` as written (valid escapes only), without the `@`.
    userinfo: Option<String>,
    /// Without brackets for IPv6.
    host: String,
    port: Option<u16>,
    /// `/path?query`, `?query` or empty; the fragment dropped.
    path_and_query: String,
}

/// Never prints the credentials (an `Address` in a `{:?}` must not leak them).
impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

impl Address {
    /// Parses `text` (trimmed here) under the module's rules; `schemes` are the ones the setting takes, in lower
    /// case.
    pub fn parse(text: &str, schemes: &[&str]) -> Result<Address, AddressProblem> {
        let text = text.trim();
        for (index, character) in text.chars().enumerate() {
            if character.is_control() {
                return Err(AddressProblem::Control {
                    position: index + 1,
                });
            }
            if character.is_whitespace() {
                return Err(AddressProblem::Space {
                    position: index + 1,
                });
            }
        }
        let (scheme, rest) = split_scheme(text).ok_or(AddressProblem::NoScheme)?;
        let scheme = scheme.to_ascii_lowercase();
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority),
        };
        if let Some(character) = userinfo.and_then(bad_userinfo_character) {
            return Err(AddressProblem::ReservedInUserinfo { character });
        }
        // An `@` after the end of the authority: the `/`, `?` or `#` that ended it was inside a password (or,
        // with credentials before it, the password held an `@`). Another parser could read it either way, so
        // it is refused rather than guessed; an `@` of a path or query is written `%40`.
        if tail.contains('@') {
            let character = match userinfo {
                None => tail.chars().next().unwrap_or('@'),
                Some(_) => '@',
            };
            return Err(AddressProblem::ReservedInUserinfo { character });
        }
        if let Some(userinfo) = userinfo {
            check_escapes(userinfo)?;
        }
        // Only now the host and the path (a password's character was reported above as a password's).
        check(text)?;
        if !schemes.contains(&scheme.as_str()) {
            return Err(AddressProblem::Scheme);
        }
        let (host, port) = split_host_port(host_port)?;
        let path_and_query = tail.split('#').next().unwrap_or_default().to_string();
        Ok(Address {
            scheme,
            userinfo: userinfo.map(str::to_string),
            host,
            port,
            path_and_query,
        })
    }

    /// [`Address::parse`], but a bare `host[:port]` (no scheme, no `@`) is taken as `default_scheme://host[:port]`
    /// — the way proxy settings and `HTTP_PROXY` are often written. With credentials a scheme is still required.
    pub fn parse_or_default(
        text: &str,
        schemes: &[&str],
        default_scheme: &str,
    ) -> Result<Address, AddressProblem> {
        let trimmed = text.trim();
        if split_scheme(trimmed).is_none() && !trimmed.contains('@') && !trimmed.is_empty() {
            return Address::parse(&format!("{default_scheme}://{trimmed}"), schemes);
        }
        Address::parse(trimmed, schemes)
    }

    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// `https` or `wss`.
    pub fn is_tls(&self) -> bool {
        matches!(self.scheme.as_str(), "https" | "wss")
    }

    /// The host, without brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port as written, if any.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port, or the scheme's own (80/443, `fallback` for any other scheme).
    pub fn port_or_default(&self, fallback: u16) -> u16 {
        self.port.unwrap_or(match self.scheme.as_str() {
            "http" | "ws" => 80,
            "https" | "wss" => 443,
            _ => fallback,
        })
    }

    /// `/path?query` (`/` when empty), for a request line.
    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }

    /// The user name and password, decoded (either may be empty).
    pub fn credentials(&self) -> Option<(String, String)> {
        let userinfo = self.userinfo.as_deref()?;
        let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        let decode = |part: &str| percent::decode_lossy(part.as_bytes(), percent::Plus::Literal);
        Some((decode(user), decode(password)))
    }

    /// Every secret this address carries, for the scrubber: the password as written and decoded, and the value
    /// of every query parameter whose name looks like a secret (`token`, `key`…).
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        if let Some(userinfo) = &self.userinfo {
            if let Some((_, password)) = userinfo.split_once(':') {
                secrets.push(password.to_string());
            }
            if let Some((_, password)) = self.credentials() {
                secrets.push(password);
            }
        }
        if let Some((_, query)) = self.path_and_query.split_once('?') {
            for pair in query.split('&') {
                if let Some((name, value)) = pair.split_once('=') {
                    if crate::redact::is_secret_name(name) {
                        secrets.push(value.to_string());
                        secrets.push(percent::decode_lossy(
                            value.as_bytes(),
                            percent::Plus::Space,
                        ));
                    }
                }
            }
        }
        secrets.retain(|secret| !secret.is_empty());
        secrets.dedup();
        secrets
    }

    /// `host:port`, the IPv6 host in brackets, the port written out.
    pub fn authority(&self, fallback_port: u16) -> String {
        let port = self.port_or_default(fallback_port);
        if self.host.contains(':') {
            format!("[{}]:{port}", self.host)
        } else {
            format!("{}:{port}", self.host)
        }
    }

    /// The URL a library is given: `scheme://host[:port]/path?query`, without the credentials (the caller sends
    /// them as a header itself) and without the fragment.
    pub fn without_credentials(&self) -> String {
        format!(
            "{}://{}{}",
            self.scheme,
            self.host_port(),
            self.path_and_query
        )
    }

    /// The whole address in its one written form (credentials as written, fragment dropped): what a setting
    /// keeps, and what parses back to the same address.
    pub fn canonical(&self) -> String {
        let userinfo = self
            .userinfo
            .as_ref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        format!(
            "{}://{userinfo}{}{}",
            self.scheme,
            self.host_port(),
            self.path_and_query
        )
    }

    /// The address as it is shown and read back: credentials as `***@`, every query value as `***`.
    pub fn shown(&self) -> String {
        let userinfo = if self.userinfo.is_some() {
            format!("{}@", crate::redact::MASK)
        } else {
            String::new()
        };
        let (path, query) = match self.path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (self.path_and_query.as_str(), None),
        };
        let mut shown = format!("{}://{userinfo}{}{path}", self.scheme, self.host_port());
        if let Some(query) = query {
            shown.push('?');
            shown.push_str(&crate::redact::mask_query(query));
        }
        shown
    }

    /// This address with `path` (starting with `/`) in place of its path and query.
    pub fn with_path(&self, path: &str) -> Address {
        Address {
            path_and_query: path.to_string(),
            ..self.clone()
        }
    }

    fn host_port(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        }
    }
}

/// `scheme://rest` with a scheme of RFC 3986 characters (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`).
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = text.split_once("://")?;
    let mut characters = scheme.chars();
    let first = characters.next()?;
    (first.is_ascii_alphabetic()
        && characters.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some((scheme, rest))
}

/// The first character RFC 3986 does not allow unencoded in `userinfo` (`@` included: an authority with two
/// has an `@` in its password).
fn bad_userinfo_character(userinfo: &str) -> Option<char> {
    userinfo.chars().find(|&c| {
        !(c.is_ascii_alphanumeric()
            || matches!(
                c,
                '-' | '.'
                    | '_'
                    | '~'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | ':'
                    | '%'
            ))
    })
}

fn check_escapes(userinfo: &str) -> Result<(), AddressProblem> {
    let bytes = userinfo.as_bytes();
    for (index, byte) in bytes.iter().enumerate() {
        if *byte == b'%'
            && !(bytes.get(index + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(index + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(AddressProblem::BadEscape);
        }
    }
    Ok(())
}

/// `host[:port]` or `[v6][:port]`.
fn split_host_port(host_port: &str) -> Result<(String, Option<u16>), AddressProblem> {
    let (host, port) = if let Some(rest) = host_port.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or(AddressProblem::BadHost { character: '[' })?;
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(AddressProblem::BadHost { character: '[' });
        }
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or(AddressProblem::BadHost { character: ']' })?,
                ),
            ),
        }
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err(AddressProblem::NoHost);
    }
    if !host_port.starts_with('[') {
        if let Some(character) = host
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
        {
            return Err(AddressProblem::BadHost { character });
        }
    }
    let port = match port {
        None | Some("") => None,
        Some(text) => match text.parse::<u16>() {
            Ok(port) if port > 0 && text.bytes().all(|b| b.is_ascii_digit()) => Some(port),
            _ => return Err(AddressProblem::BadPort),
        },
    };
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTTP: &[&str] = &["http", "https"];

    #[test]
    fn good_addresses_pass() {
        assert_eq!(
            check("wss://xn--80ak6aa92e.com:8443/connection/websocket?a=%D1%8F"),
            Ok(())
        );
        assert_eq!(check("http://u:p%40ss@proxy:3128"), Ok(()));
        assert_eq!(check("proxy:3128"), Ok(()));
    }

    #[test]
    fn control_characters_and_spaces_are_refused_with_their_position() {
        assert_eq!(
            check("http://p:3128\r\nX: y"),
            Err(AddressProblem::Control { position: 14 })
        );
        assert_eq!(
            check("ws://h/\u{7f}"),
            Err(AddressProblem::Control { position: 8 })
        );
        assert_eq!(
            check("ws://h /x"),
            Err(AddressProblem::Space { position: 7 })
        );
        assert_eq!(
            check("ws://h/\u{a0}x"),
            Err(AddressProblem::Space { position: 8 })
        );
    }

    #[test]
    fn non_ascii_is_refused_in_the_host_and_the_path() {
        assert_eq!(
            check("ws://сentrifugo.example/connection/websocket"),
            Err(AddressProblem::NonAsciiHost { character: 'с' })
        );
        assert_eq!(
            check("прокси:3128"),
            Err(AddressProblem::NonAsciiHost { character: 'п' })
        );
        assert_eq!(
            check("ws://h/путь"),
            Err(AddressProblem::NonAsciiPath { character: 'п' })
        );
    }

    #[test]
    fn an_address_is_parsed_into_its_parts() {
        let address = Address::parse(
            " HTTPS://admin:Pa%3Fss@Api.example:8443/api?token=t0k#top ",
            HTTP,
        )
        .unwrap();
        assert_eq!(address.scheme(), "https");
        assert!(address.is_tls());
        assert_eq!(address.host(), "Api.example");
        assert_eq!(address.port(), Some(8443));
        assert_eq!(address.path_and_query(), "/api?token=t0k");
        assert_eq!(
            address.credentials(),
            Some(("admin".to_string(), "Pa?ss".to_string()))
        );
        assert_eq!(
            address.without_credentials(),
            "https://Api.example:8443/api?token=t0k"
        );
        assert_eq!(
            address.canonical(),
            "https://admin:Pa%3Fss@Api.example:8443/api?token=t0k"
        );
        assert_eq!(
            address.shown(),
            "https://***@Api.example:8443/api?token=***"
        );
        assert_eq!(format!("{address:?}"), address.shown());
        assert_eq!(address.secrets(), vec!["Pa%3Fss", "Pa?ss", "t0k"]);
        assert_eq!(Address::parse(&address.canonical(), HTTP), Ok(address));

        let v6 = Address::parse("http://[::1]/x", HTTP).unwrap();
        assert_eq!((v6.host(), v6.port_or_default(0)), ("::1", 80));
        assert_eq!(v6.authority(0), "[::1]:80");
        assert_eq!(v6.without_credentials(), "http://[::1]/x");
        let bare = Address::parse("https://c.example", HTTP).unwrap();
        assert_eq!((bare.path_and_query(), bare.port_or_default(0)), ("", 443));
        assert_eq!(
            bare.with_path("/api/publish").canonical(),
            "https://c.example/api/publish"
        );
    }

    #[test]
    fn a_password_with_a_reserved_character_is_refused_not_guessed() {
        for (text, character) in [
            ("http://admin:Pa?ss-SECRET@127.0.0.1:9/api", '?'),
            ("http://admin:Pa#ss-SECRET@127.0.0.1:9/api", '#'),
            ("ws://user:pa/ss-SECRET@127.0.0.1:9/ws", '/'),
            ("http://admin:p@ss@h/", '@'),
            ("http://admin:p[ss@h/", '['),
            ("http://admin:p\"ss@h/", '"'),
            ("http://admin:пароль@h/", 'п'),
            ("http://u:p@h/x?mail=a@b", '@'),
            ("http://h/x?mail=a@b", '/'),
        ] {
            assert_eq!(
                Address::parse(text, &["http", "ws"]),
                Err(AddressProblem::ReservedInUserinfo { character }),
                "{text}"
            );
        }
        assert_eq!(
            Address::parse("http://admin:100%@h/", HTTP),
            Err(AddressProblem::BadEscape)
        );
        assert_eq!(escape('?'), "%3F");
        assert_eq!(escape('я'), "%D1%8F");
    }

    #[test]
    fn a_scheme_is_required_and_must_be_one_the_setting_takes() {
        assert_eq!(
            Address::parse("user:secret@host:9", HTTP),
            Err(AddressProblem::NoScheme)
        );
        assert_eq!(
            Address::parse("host:9", HTTP),
            Err(AddressProblem::NoScheme)
        );
        assert_eq!(
            Address::parse("ws://h/x", HTTP),
            Err(AddressProblem::Scheme)
        );
        assert_eq!(
            Address::parse_or_default("proxy:3128", &["http"], "http").map(|a| a.canonical()),
            Ok("http://proxy:3128".to_string())
        );
        assert_eq!(
            Address::parse_or_default("user:secret@proxy:3128", &["http"], "http"),
            Err(AddressProblem::NoScheme)
        );
    }

    #[test]
    fn hosts_and_ports() {
        assert_eq!(Address::parse("http://", HTTP), Err(AddressProblem::NoHost));
        assert_eq!(
            Address::parse("http:///x", HTTP),
            Err(AddressProblem::NoHost)
        );
        assert_eq!(
            Address::parse("http://u:p@/x", HTTP),
            Err(AddressProblem::NoHost)
        );
        assert_eq!(
            Address::parse("http://h:port", HTTP),
            Err(AddressProblem::BadPort)
        );
        assert_eq!(
            Address::parse("http://h:0", HTTP),
            Err(AddressProblem::BadPort)
        );
        assert_eq!(
            Address::parse("http://h:65536", HTTP),
            Err(AddressProblem::BadPort)
        );
        assert_eq!(
            Address::parse("http://h:+80", HTTP),
            Err(AddressProblem::BadPort)
        );
        assert_eq!(
            Address::parse("http://h%41/", HTTP),
            Err(AddressProblem::BadHost { character: '%' })
        );
        assert_eq!(
            Address::parse("http://a:b:c/", HTTP),
            Err(AddressProblem::BadPort)
        );
        assert_eq!(
            Address::parse("ws://сentrifugo/x", &["ws"]),
            Err(AddressProblem::NonAsciiHost { character: 'с' })
        );
        assert_eq!(Address::parse("http://h:/x", HTTP).unwrap().port(), None);
    }
}
