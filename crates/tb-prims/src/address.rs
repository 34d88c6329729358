//! Characters an address given by a user may not hold before it reaches a socket, a request line or a
//! `CONNECT`: control characters (a CR/LF would start a header of its own), white space, and a host outside
//! ASCII (the resolver and the `Host` header take ASCII only; a Cyrillic «с» that looks like a Latin «c» must be
//! caught where it is typed, not in a background thread). International names are written in punycode
//! (`xn--…`).

/// What is wrong with an address (its texts: the add-in's presentation layer).
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
    if let Some(character) = authority.chars().find(|c| !c.is_ascii()) {
        return Err(AddressProblem::NonAsciiHost { character });
    }
    if let Some(character) = tail.chars().find(|c| !c.is_ascii()) {
        return Err(AddressProblem::NonAsciiPath { character });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
