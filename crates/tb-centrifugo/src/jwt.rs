//! HS256 JSON Web Tokens that Centrifugo accepts (`client.token.hmac_secret_key`).
//!
//! The secret stays on the 1C server; clients only ever get the tokens made here.
//! Time comes in as Unix seconds so the functions are pure and testable.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::{Argument, Error};

/// Ten years: a longer lifetime is almost certainly a unit mistake (milliseconds for seconds).
const MAX_LIFETIME_SECONDS: i64 = 10 * 366 * 24 * 3600;

/// Claims of a connection token: `sub` (user), `exp`, `iat`, plus any extra claims
/// (`info`, `meta`, `channels`, `subs`...) given as a JSON object.
pub fn connection_token(
    user: &str,
    secret: &str,
    lifetime_seconds: i64,
    extra_claims_json: &str,
    now_unix_seconds: i64,
) -> Result<String, Error> {
    check_secret_and_lifetime(secret, lifetime_seconds)?;
    let mut claims = parse_extra_claims(extra_claims_json)?;
    claims.insert("sub".into(), Value::String(user.to_string()));
    claims.insert("iat".into(), Value::from(now_unix_seconds));
    claims.insert(
        "exp".into(),
        Value::from(now_unix_seconds + lifetime_seconds),
    );
    Ok(sign(&claims, secret))
}

/// Claims of a subscription token: `sub` (must match the connection's user), `channel`, `exp`, `iat`.
pub fn subscription_token(
    user: &str,
    channel: &str,
    secret: &str,
    lifetime_seconds: i64,
    now_unix_seconds: i64,
) -> Result<String, Error> {
    check_secret_and_lifetime(secret, lifetime_seconds)?;
    if channel.is_empty() {
        return Err(Error::EmptyArgument {
            what: Argument::Channel,
        });
    }
    let mut claims = Map::new();
    claims.insert("sub".into(), Value::String(user.to_string()));
    claims.insert("channel".into(), Value::String(channel.to_string()));
    claims.insert("iat".into(), Value::from(now_unix_seconds));
    claims.insert(
        "exp".into(),
        Value::from(now_unix_seconds + lifetime_seconds),
    );
    Ok(sign(&claims, secret))
}

fn check_secret_and_lifetime(secret: &str, lifetime_seconds: i64) -> Result<(), Error> {
    if secret.is_empty() {
        return Err(Error::EmptySecret);
    }
    if lifetime_seconds <= 0 || lifetime_seconds > MAX_LIFETIME_SECONDS {
        return Err(Error::InvalidLifetime {
            seconds: lifetime_seconds,
        });
    }
    Ok(())
}

fn parse_extra_claims(json: &str) -> Result<Map<String, Value>, Error> {
    if json.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::ExtraClaimsNotObject),
        Err(e) => Err(Error::InvalidExtraClaims {
            reason: e.to_string(),
        }),
    }
}

fn sign(claims: &Map<String, Value>, secret: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string());
    let signing_input = format!("{header}.{payload}");
    let signature = hmac_sha256(secret.as_bytes(), signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this constructor cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return Vec::new(),
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Reads the claims of a token without checking the signature (for diagnostics and tests).
pub fn decode_claims_unverified(token: &str) -> Option<Map<String, Value>> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Checks an HS256 signature; used by tests and by a 1C server that wants to validate its own tokens.
pub fn verify(token: &str, secret: &str) -> bool {
    let Some((signing_input, signature)) = token.rsplit_once('.') else {
        return false;
    };
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(signing_input.as_bytes());
    mac.verify_slice(&signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector_matches_rfc_7515_style_hs256() {
        // The well-known HMAC-SHA256 test value for key "key" and the fox sentence.
        let mac = hmac_sha256(b"key", b"The quick brown fox jumps over the lazy dog");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn connection_token_has_claims_and_valid_signature() {
        let token =
            connection_token("42", "s3cret", 60, r#"{"info":{"name":"Иван"}}"#, 1_000).unwrap();
        assert_eq!(token.matches('.').count(), 2);
        assert!(verify(&token, "s3cret"));
        assert!(!verify(&token, "other"));
        let claims = decode_claims_unverified(&token).unwrap();
        assert_eq!(claims["sub"], "42");
        assert_eq!(claims["exp"], 1_060);
        assert_eq!(claims["iat"], 1_000);
        assert_eq!(claims["info"]["name"], "Иван");
        assert!(!token.contains('=') && !token.contains('+') && !token.contains('/'));
    }

    #[test]
    fn extra_claims_cannot_override_sub_or_exp() {
        let token =
            connection_token("42", "k", 60, r#"{"sub":"admin","exp":99999999999}"#, 0).unwrap();
        let claims = decode_claims_unverified(&token).unwrap();
        assert_eq!(claims["sub"], "42");
        assert_eq!(claims["exp"], 60);
    }

    #[test]
    fn subscription_token_names_channel() {
        let token = subscription_token("42", "calls:42", "k", 30, 10).unwrap();
        let claims = decode_claims_unverified(&token).unwrap();
        assert_eq!(claims["channel"], "calls:42");
        assert_eq!(claims["sub"], "42");
        assert_eq!(claims["exp"], 40);
        assert!(verify(&token, "k"));
    }

    #[test]
    fn clear_errors() {
        assert_eq!(
            connection_token("u", "", 60, "", 0),
            Err(Error::EmptySecret)
        );
        assert_eq!(
            connection_token("u", "k", 0, "", 0),
            Err(Error::InvalidLifetime { seconds: 0 })
        );
        assert!(matches!(
            connection_token("u", "k", 60, "{bad", 0),
            Err(Error::InvalidExtraClaims { .. })
        ));
        assert_eq!(
            connection_token("u", "k", 60, "[1]", 0),
            Err(Error::ExtraClaimsNotObject)
        );
        assert_eq!(
            subscription_token("u", "", "k", 60, 0),
            Err(Error::EmptyArgument {
                what: Argument::Channel
            })
        );
        assert_eq!(
            connection_token("u", "", 60, "", 0),
            Err(Error::EmptySecret)
        );
    }
}
