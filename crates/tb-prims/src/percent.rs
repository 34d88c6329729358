//! Percent-decoding (RFC 3986 §2.1) of URL parts and of `application/x-www-form-urlencoded` bodies.
//!
//! Lenient as browsers and PHP are: a `%` not followed by two hex digits stays as it is.

/// What a `+` means in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plus {
    /// In URL parts (`user:p%40ss@`): a plus is a plus.
    Literal,
    /// In form bodies and query strings: a plus is a space.
    Space,
}

/// `p%40ss` → `p@ss`. The result is bytes: the caller decides how to treat invalid UTF-8.
pub fn decode(input: &[u8], plus: Plus) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' if plus == Plus::Space => out.push(b' '),
            b'%' => match (
                input.get(i + 1).and_then(hex),
                input.get(i + 2).and_then(hex),
            ) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    out
}

/// [`decode`], invalid UTF-8 replaced with U+FFFD.
pub fn decode_lossy(input: &[u8], plus: Plus) -> String {
    String::from_utf8_lossy(&decode(input, plus)).into_owned()
}

fn hex(byte: &u8) -> Option<u8> {
    (*byte as char).to_digit(16).map(|digit| digit as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_keeps_broken_ones() {
        assert_eq!(decode(b"p%40ss", Plus::Literal), b"p@ss");
        assert_eq!(decode(b"a+b%2b", Plus::Literal), b"a+b+");
        assert_eq!(decode(b"a+b%2B", Plus::Space), b"a b+");
        assert_eq!(decode(b"100%", Plus::Literal), b"100%");
        assert_eq!(decode(b"%4", Plus::Literal), b"%4");
        assert_eq!(decode(b"%zz%41", Plus::Literal), b"%zzA");
        assert_eq!(decode(b"%41", Plus::Literal), b"A");
        assert_eq!(decode_lossy(b"%D0%B4%FF", Plus::Space), "д\u{FFFD}");
    }
}
