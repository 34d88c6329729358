//! Binotel signatures against vectors PHP 8.2 made (tests/data/gen_signature_vectors.php → signature_vectors.json):
//! the payload must equal PHP's `json_encode(ksort(...))` byte for byte, and the md5 must match.

use std::path::Path;

use serde_json::Value;
use tb_calls::binotel::{self, BodyFormat, SignatureVariant};
use tb_calls::php::{PhpKey, PhpValue};
use tb_calls::{CallsError, Subject};

fn vectors() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/signature_vectors.json");
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let all: Value = serde_json::from_slice(&text).unwrap_or(Value::Null);
    all["vectors"].as_array().cloned().unwrap_or_default()
}

fn format_of(vector: &Value) -> BodyFormat {
    if vector["format"] == "form" {
        BodyFormat::Form
    } else {
        BodyFormat::Json
    }
}

#[test]
fn payloads_and_signatures_match_php_byte_for_byte() {
    let vectors = vectors();
    assert!(vectors.len() >= 15, "vectors file is incomplete");
    for vector in &vectors {
        let name = vector["name"].as_str().unwrap_or_default();
        let input = vector["input"].as_str().unwrap_or_default();
        let secret = vector["secret"].as_str().unwrap_or_default();
        let params = binotel::decode_body(
            input.as_bytes(),
            format_of(vector),
            Subject::BinotelParameters,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (variant, payload_key, signature_key) in [
            (SignatureVariant::WithoutKey, "payload", "signature"),
            (
                SignatureVariant::WithKey,
                "payload_with_key",
                "signature_with_key",
            ),
        ] {
            let payload = binotel::signature_payload(&params, variant)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                payload,
                vector[payload_key].as_str().unwrap_or_default(),
                "{name}: {payload_key}"
            );
            let signature =
                binotel::sign(&params, secret, variant).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                signature,
                vector[signature_key].as_str().unwrap_or_default(),
                "{name}: {signature_key}"
            );
        }
    }
}

#[test]
fn verification_accepts_both_variants_and_rejects_tampering() {
    for vector in vectors() {
        let name = vector["name"].as_str().unwrap_or_default();
        let secret = vector["secret"].as_str().unwrap_or_default();
        let input = vector["input"].as_str().unwrap_or_default();
        let params = binotel::decode_body(
            input.as_bytes(),
            format_of(&vector),
            Subject::BinotelParameters,
        )
        .expect("decodable");
        for (signature_key, expected) in [
            ("signature", SignatureVariant::WithoutKey),
            ("signature_with_key", SignatureVariant::WithKey),
        ] {
            let mut signed = params.clone();
            let signature = vector[signature_key]
                .as_str()
                .unwrap_or_default()
                .to_string();
            signed.insert(
                PhpKey::Str("signature".into()),
                PhpValue::Str(signature.to_uppercase()),
            );
            let has_key = signed.get(&PhpKey::Str("key".into())).is_some();
            let verified = binotel::verify(&signed, secret, Subject::BinotelParameters);
            if has_key || expected == SignatureVariant::WithoutKey {
                assert_eq!(verified, Ok(expected), "{name}: {signature_key}");
            } else {
                // Without a key both variants hash the same text.
                assert_eq!(verified, Ok(SignatureVariant::WithoutKey), "{name}");
            }
            assert_eq!(
                binotel::verify(&signed, "another secret", Subject::BinotelParameters),
                Err(CallsError::SignatureMismatch {
                    what: Subject::BinotelParameters
                }),
                "{name}"
            );
        }
    }
}

#[test]
fn sign_json_and_empty_secret() {
    let vector = vectors()
        .into_iter()
        .find(|v| v["name"] == "seed ext-to-phone request")
        .expect("vector");
    let secret = vector["secret"].as_str().unwrap_or_default();
    let input = vector["input"].as_str().unwrap_or_default();
    assert_eq!(
        binotel::sign_json(input, secret),
        Ok(vector["signature"].as_str().unwrap_or_default().to_string())
    );
    assert_eq!(
        binotel::sign_json(input, ""),
        Err(CallsError::SecretMissing)
    );
    let err = binotel::sign_json("not json", secret).unwrap_err();
    assert!(matches!(err, CallsError::NotJson { .. }), "{err}");
    assert!(
        binotel::sign_json("[1,2]", secret).is_ok(),
        "a JSON list is a PHP array too"
    );
    assert!(matches!(
        binotel::sign_json("5", secret),
        Err(CallsError::NotAnObject { .. })
    ));
}

#[test]
fn api_requests_are_signed_like_the_php_client() {
    let vector = vectors()
        .into_iter()
        .find(|v| v["name"] == "seed call-details request")
        .expect("vector");
    let secret = vector["secret"].as_str().unwrap_or_default();
    let request =
        binotel::call_details_request("[744924436]", "701151-a3a9ca8", secret).expect("request");
    assert_eq!(request.path, "stats/call-details.json");
    let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
    assert_eq!(body["generalCallID"], serde_json::json!([744924436]));
    assert_eq!(body["key"], "701151-a3a9ca8");
    assert_eq!(body["signature"], vector["signature"]);
    // String ids stay strings and are signed as such.
    let vector = vectors()
        .into_iter()
        .find(|v| v["name"] == "call-details ids as strings")
        .expect("vector");
    let request = binotel::call_details_request(r#"["744924436"]"#, "701151-a3a9ca8", secret)
        .expect("request");
    let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
    assert_eq!(body["signature"], vector["signature"]);
    // The request verifies as a whole, the way the PBX checks it.
    assert!(binotel::verify_body(request.body.as_bytes(), "", secret).is_ok());
    let vector = vectors()
        .into_iter()
        .find(|v| v["name"] == "seed ext-to-phone request")
        .expect("vector");
    let request = binotel::ext_to_phone_request("902", "0639798793", "701151-a3a9ca8", secret)
        .expect("request");
    let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
    assert_eq!(body["signature"], vector["signature"]);
    assert_eq!(request.path, "calls/ext-to-phone.json");
    let vector = vectors()
        .into_iter()
        .find(|v| v["name"] == "seed call-record request")
        .expect("vector");
    let request =
        binotel::call_record_request("744924436", "701151-a3a9ca8", secret).expect("request");
    let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
    assert_eq!(body["signature"], vector["signature"]);
    assert!(
        !format!("{request:?}").contains("701151"),
        "debug output leaks the key"
    );
    // Bad inputs.
    assert!(binotel::call_details_request("", "k", secret).is_err());
    assert!(binotel::call_details_request("[{\"a\":1}]", "k", secret).is_err());
    assert!(binotel::call_details_request("{\"a\":1}", "k", secret).is_err());
    assert!(binotel::call_details_request("744924436", "k", secret).is_ok());
    assert!(binotel::call_record_request(" ", "k", secret).is_err());
    assert!(binotel::ext_to_phone_request("902", "", "k", secret).is_err());
    assert!(binotel::ext_to_phone_request("902", "1", "", secret).is_err());
}

#[test]
fn api_errors_and_unsigned_answers() {
    let secret = "s";
    let err = binotel::check_response(
        br#"{"status":"error","code":"120","message":"Wrong signature"}"#,
        secret,
    )
    .unwrap_err();
    assert_eq!(
        err,
        CallsError::Api {
            api: "Binotel API",
            code: "120".into(),
            message: "Wrong signature".into()
        }
    );
    let err = binotel::check_response(br#"{"status":"success","url":"x"}"#, secret).unwrap_err();
    assert!(matches!(err, CallsError::SignatureMissing { .. }), "{err}");
    let err = binotel::check_response(b"<html>502</html>", secret).unwrap_err();
    assert!(matches!(err, CallsError::NotJson { .. }), "{err}");
    let err = binotel::check_response(br#"{"url":"x"}"#, secret).unwrap_err();
    assert!(
        matches!(err, CallsError::ApiStatus { ref status, .. } if status.is_empty()),
        "{err}"
    );
}
