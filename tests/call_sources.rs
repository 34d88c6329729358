//! Classes UIScom and Binotel through the real built library and the platform-exact test host, with PBX API
//! emulators on 127.0.0.1 speaking the wire formats (JSON-RPC 2.0 of UIS; Binotel-style signed JSON).

use std::sync::mpsc;

use addin_host::{Host, Mode, Val};
use serde_json::{json, Value};
use tb_calls::binotel;
use tb_calls::php::{PhpKey, PhpValue};

const SEED_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/crates/tb-calls/tests/data");

fn seed(path: &str) -> String {
    std::fs::read_to_string(format!("{SEED_DATA}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json_of(val: &Val) -> Value {
    serde_json::from_str(val.str()).expect("valid JSON")
}

#[path = "support/http_emulator.rs"]
mod http_emulator;

use http_emulator::Seen;

/// Answers each request with `answer(path, body)`; reports what it saw.
fn emulator(
    answer: impl Fn(&str, &str) -> (u16, String) + Send + 'static,
) -> (String, mpsc::Receiver<Seen>) {
    http_emulator::serve(String::new(), answer)
}

#[test]
fn uiscom_normalizes_the_seed_templates_in_both_languages() {
    let host = Host::load_default();
    let object = host.create_with("UIScom", Mode::Server, "ru_RU");
    let event = json_of(
        &object
            .call(
                "НормализоватьУведомление",
                &[Val::from(seed("uiscom/in_answered.json")), Val::from("/in")],
            )
            .unwrap(),
    );
    let expected: Value = serde_json::from_str(&seed("uiscom/in_answered.expected.json")).unwrap();
    assert_eq!(event, expected);
    // The method is optional and inferred; English names work too.
    let event = json_of(
        &object
            .call(
                "NormalizeNotification",
                &[Val::from(seed("uiscom/rec.json"))],
            )
            .unwrap(),
    );
    assert_eq!(event["event"], "finished");
    assert_eq!(event["talk_sec"], 173);

    // The time zone property moves naive times.
    assert_eq!(object.get("ЧасовойПояс").unwrap(), Val::from("+03:00"));
    object.set("TimeZone", "+05:00").unwrap();
    let event = json_of(
        &object
            .call(
                "NormalizeNotification",
                &[Val::from(seed("uiscom/in_ringing.json")), Val::from("in")],
            )
            .unwrap(),
    );
    assert_eq!(event["started_at"], "2024-03-15T10:21:07.863+05:00");
    let error = object.set("ЧасовойПояс", "Москва").unwrap_err();
    assert_eq!(
        error.message(),
        "UIScom.ЧасовойПояс: часовой пояс \"Москва\" не распознан: ожидается смещение вида +03:00, -05:30, +0300 или Z"
    );

    // Errors: what is wrong, in the user's language.
    let error = object
        .call(
            "НормализоватьУведомление",
            &[Val::from("{\"direction\":\"in\"}"), Val::from("")],
        )
        .unwrap_err();
    assert!(error.exception);
    assert_eq!(
        error.message(),
        "UIScom.НормализоватьУведомление: уведомление UIScom: нет обязательного поля call_session_id (или оно пустое)"
    );
    let error = object
        .call(
            "НормализоватьУведомление",
            &[Val::from("{}"), Val::from("hangup")],
        )
        .unwrap_err();
    assert!(
        error
            .message()
            .contains("неизвестный метод уведомления UIScom \"hangup\""),
        "{}",
        error.message()
    );
    object.set_locale("en_US");
    let error = object
        .call("NormalizeNotification", &[Val::from("<xml/>")])
        .unwrap_err();
    assert!(
        error
            .message()
            .starts_with("UIScom.NormalizeNotification: UIScom notification: not JSON"),
        "{}",
        error.message()
    );
    assert_eq!(
        object
            .call("PhoneDigits", &[Val::from("+7 (926) 123-45-67")])
            .unwrap(),
        Val::from("79261234567")
    );
    assert_eq!(object.done().platform_calls_after_done, 0);
    assert_eq!(host.leaked(), (0, 0));
}

#[test]
fn uiscom_merge_into_history_follows_the_seed_rules() {
    let host = Host::load_default();
    let object = host.create_with("UIScom", Mode::Server, "ru_RU");
    let ringing = json_of(
        &object
            .call(
                "ОбъединитьСИсторией",
                &[
                    Val::from(""),
                    Val::from(seed("uiscom/in_ringing.json")),
                    Val::Bool(true),
                    Val::from("2024-03-15 10:21:08"),
                ],
            )
            .unwrap(),
    );
    assert_eq!(ringing["is_new_record"], true);
    assert_eq!(ringing["publish_to_extension"], false);
    assert_eq!(ringing["record"]["Период"], "2024-03-15T10:21:08");
    let previous = ringing["record"].to_string();
    let answered = json_of(
        &object
            .call(
                "MergeIntoHistory",
                &[
                    Val::from(previous),
                    Val::from(seed("uiscom/in_answered.json")),
                ],
            )
            .unwrap(),
    );
    assert_eq!(answered["publish_to_extension"], true);
    assert_eq!(answered["publish"]["channel"], "101");
    assert_eq!(answered["publish"]["data"]["text"], "79261234567");
    // ДобавлятьСобытия = Ложь: the same record is updated.
    let updated = json_of(
        &object
            .call(
                "ОбъединитьСИсторией",
                &[
                    Val::from(answered["record"].to_string()),
                    Val::from(seed("uiscom/rec.json")),
                    Val::Bool(false),
                ],
            )
            .unwrap(),
    );
    assert_eq!(updated["is_new_record"], false);
    let error = object
        .call(
            "ОбъединитьСИсторией",
            &[Val::from("{"), Val::from(seed("uiscom/rec.json"))],
        )
        .unwrap_err();
    assert!(
        error
            .message()
            .contains("запись истории звонков: это не JSON"),
        "{}",
        error.message()
    );
}

#[test]
fn uiscom_call_employee_speaks_json_rpc_and_never_shows_the_token() {
    const TOKEN: &str = "uis-token-7f3a9c";
    let (url, seen) = emulator(|_, body| {
        let request: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        if request["params"]["contact"] == "70000000000" {
            let error = json!({"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32003,
                "message": format!("Access token {TOKEN} has been blocked"),
                "data": {"mnemonic": "access_token_blocked", "field": "access_token", "value": TOKEN}}});
            return (200, error.to_string());
        }
        (200, json!({"jsonrpc": "2.0", "id": request["id"], "result": {"data": {"call_session_id": 3201990001u64}}}).to_string())
    });
    let host = Host::load_default();
    let object = host.create_with("UIScom", Mode::Server, "ru_RU");
    object
        .set("АдресCallAPI", format!("{url}/v4.0").as_str())
        .unwrap();
    object.set("ТокенДоступа", TOKEN).unwrap();
    let read = object.get("AccessToken").unwrap_err();
    assert!(
        read.reason.contains("not readable"),
        "the token is write-only"
    );

    let session = object
        .call(
            "ПозвонитьСотруднику",
            &[
                Val::from("25"),
                Val::from("79261234567"),
                Val::from("74951234567"),
                Val::from("101"),
                Val::from("{\"external_id\":\"order-7\"}"),
            ],
        )
        .unwrap();
    assert_eq!(session, Val::from("3201990001"));
    let request = seen.recv().expect("the emulator saw the request");
    assert_eq!(request.path, "/v4.0");
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["method"], "start.employee_call");
    assert_eq!(body["params"]["access_token"], TOKEN);
    assert_eq!(
        body["params"]["employee"],
        json!({"id": 25, "phone_number": "101"})
    );
    assert_eq!(body["params"]["virtual_phone_number"], "74951234567");
    assert_eq!(body["params"]["external_id"], "order-7");

    let session = object
        .call(
            "SimpleCall",
            &[Val::from("74950000001"), Val::from("79261234567")],
        )
        .unwrap();
    assert_eq!(session, Val::from("3201990001"));
    let body: Value = serde_json::from_str(&seen.recv().unwrap().body).unwrap();
    assert_eq!(body["method"], "start.simple_call");
    assert_eq!(body["params"]["operator"], "74950000001");

    let error = object
        .call(
            "ПозвонитьСотруднику",
            &[Val::from("25"), Val::from("70000000000")],
        )
        .unwrap_err();
    let message = error.message();
    assert!(
        message.starts_with("UIScom.ПозвонитьСотруднику: UIS Call API вернул ошибку -32003"),
        "{message}"
    );
    assert!(message.contains("access_token_blocked"), "{message}");
    assert!(!message.contains(TOKEN), "{message}");
    let diagnostics = object.call("Diagnostics", &[]).unwrap();
    assert!(!diagnostics.str().contains(TOKEN));
    assert_eq!(json_of(&diagnostics)["state"]["api_failures"], 1);

    // Nobody listening: a clear network error, not a hang.
    object.set("CallApiUrl", "http://127.0.0.1:9/v4.0").unwrap();
    object.set("Таймаут", 3).unwrap();
    let error = object
        .call(
            "ПозвонитьСотруднику",
            &[Val::from("25"), Val::from("79261234567")],
        )
        .unwrap_err();
    assert!(
        error.message().contains("UIS Call API недоступен"),
        "{}",
        error.message()
    );
}

#[test]
fn binotel_parses_pushes_and_signs_like_php() {
    let host = Host::load_default();
    let object = host.create_with("Binotel", Mode::Server, "ru_RU");
    let form = seed("binotel/received_incoming.form");
    let event = json_of(
        &object
            .call("РазобратьPush", &[Val::from(form.as_str())])
            .unwrap(),
    );
    let expected: Value =
        serde_json::from_str(&seed("binotel/received_incoming_form.expected.json")).unwrap();
    assert_eq!(event, expected);
    let event = json_of(
        &object
            .call(
                "ParsePush",
                &[
                    Val::from(seed("binotel/hangup_noanswer.json")),
                    Val::from("application/json"),
                ],
            )
            .unwrap(),
    );
    assert_eq!(event["event"], "lost");
    assert_eq!(event["lost_reason"], "no_answer");

    let vectors: Value = serde_json::from_str(&seed("signature_vectors.json")).unwrap();
    let vector = vectors["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "seed call-details response")
        .unwrap();
    let error = object
        .call("Подпись", &[Val::from(vector["input"].as_str().unwrap())])
        .unwrap_err();
    assert_eq!(
        error.message(),
        "Binotel.Подпись: Секрет не задан: без него нельзя подписать или проверить подпись"
    );
    object
        .set("Секрет", vector["secret"].as_str().unwrap())
        .unwrap();
    assert!(object.get("Secret").is_err(), "the secret is write-only");
    let signature = object
        .call("Sign", &[Val::from(vector["input"].as_str().unwrap())])
        .unwrap();
    assert_eq!(signature, Val::from(vector["signature"].as_str().unwrap()));

    // The body is signed as sent: nested key order counts, so the text is edited, not re-serialized.
    let input = vector["input"].as_str().unwrap();
    let seed_signature = "26da6eb7bbfa1ae8a7a999669bdcff6b";
    let signed = input.replace(seed_signature, vector["signature"].as_str().unwrap());
    assert_eq!(
        object
            .call("ПроверитьПодпись", &[Val::from(signed.as_str())])
            .unwrap(),
        Val::Bool(true)
    );
    let tampered = signed.replace("\"success\"", "\"tampered\"");
    assert_eq!(
        object
            .call("VerifySignature", &[Val::from(tampered)])
            .unwrap(),
        Val::Bool(false)
    );
    // serde_json keeps key order here (`preserve_order`), so the re-sorting is done explicitly.
    fn sorted(value: Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(String, Value)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
            }
            Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
            other => other,
        }
    }
    let as_sent: Value = serde_json::from_str(&signed).unwrap();
    let mut reordered = sorted(as_sent.clone());
    assert_ne!(
        reordered.to_string(),
        as_sent.to_string(),
        "the keys really moved"
    );
    reordered["signature"] = vector["signature"].clone();
    assert_eq!(
        object
            .call("VerifySignature", &[Val::from(reordered.to_string())])
            .unwrap(),
        Val::Bool(false),
        "nested keys re-sorted by a JSON library change what PHP hashes"
    );
    let error = object
        .call(
            "ПроверитьПодпись",
            &[Val::from("{\"a\":"), Val::from("application/json")],
        )
        .unwrap_err();
    assert!(
        error.message().contains("это не JSON"),
        "{}",
        error.message()
    );
    let error = object
        .call(
            "РазобратьPush",
            &[Val::from("requestType=ringing&generalCallID=1")],
        )
        .unwrap_err();
    assert!(
        error
            .message()
            .contains("неизвестный тип push-запроса Binotel"),
        "{}",
        error.message()
    );
    assert_eq!(host.leaked(), (0, 0));
}

/// A Binotel-style PBX: checks each request's signature with the secret and signs its answers (or, for the
/// `bad` key, signs them with another secret).
fn pbx_emulator(secret: &'static str) -> (String, mpsc::Receiver<Seen>) {
    emulator(move |path, body| {
        let Ok(request) = binotel::decode_body(
            body.as_bytes(),
            binotel::BodyFormat::Json,
            tb_calls::Subject::BinotelParameters,
        ) else {
            return (
                400,
                "{\"status\":\"error\",\"code\":\"400\",\"message\":\"bad JSON\"}".into(),
            );
        };
        if binotel::verify(&request, secret, tb_calls::Subject::BinotelParameters).is_err() {
            return (
                200,
                "{\"status\":\"error\",\"code\":\"120\",\"message\":\"Wrong signature\"}".into(),
            );
        }
        let answer_secret = match request.get(&PhpKey::Str("key".into())) {
            Some(PhpValue::Str(k)) if k == "bad" => "not the secret",
            _ => secret,
        };
        let reply = match path {
            "/api/2.0/stats/call-details.json" => {
                let seed_reply = std::fs::read_to_string(format!(
                    "{SEED_DATA}/binotel/call_details_response.seed.json"
                ))
                .unwrap_or_default();
                let mut message = binotel::decode_body(
                    seed_reply.as_bytes(),
                    binotel::BodyFormat::Json,
                    tb_calls::Subject::BinotelResponse,
                )
                .unwrap_or_default();
                message.remove(&PhpKey::Str("signature".into()));
                message
            }
            "/api/2.0/stats/call-record.json" => {
                let text = r#"{"status":"success","url":"https://cdn.example.com/74/744924436.mp3?Expires=1&Signature=2R%3D"}"#;
                binotel::decode_body(
                    text.as_bytes(),
                    binotel::BodyFormat::Json,
                    tb_calls::Subject::BinotelResponse,
                )
                .unwrap_or_default()
            }
            "/api/2.0/calls/ext-to-phone.json" => {
                let text = r#"{"status":"success","generalCallID":"744924999"}"#;
                binotel::decode_body(
                    text.as_bytes(),
                    binotel::BodyFormat::Json,
                    tb_calls::Subject::BinotelResponse,
                )
                .unwrap_or_default()
            }
            _ => return (404, "not found".into()),
        };
        (
            200,
            binotel::sign_response(reply, answer_secret).unwrap_or_default(),
        )
    })
}

#[test]
fn binotel_api_calls_verify_signatures_both_ways() {
    const SECRET: &str = "pbx-secret-Ключ";
    let (url, seen) = pbx_emulator(SECRET);
    let host = Host::load_default();
    let object = host.create_with("Binotel", Mode::Server, "ru_RU");
    let error = object
        .call("ДеталиЗвонков", &[Val::from("[744924436]")])
        .unwrap_err();
    assert!(
        error.message().contains("не задан АдресAPI"),
        "{}",
        error.message()
    );
    object
        .set("АдресAPI", format!("{url}/api/2.0/").as_str())
        .unwrap();
    object.set("Ключ", "701151-a3a9ca8").unwrap();
    object.set("Secret", SECRET).unwrap();

    let events = json_of(
        &object
            .call("ДеталиЗвонков", &[Val::from("[744924436]")])
            .unwrap(),
    );
    let expected: Value =
        serde_json::from_str(&seed("binotel/call_details_response.expected.json")).unwrap();
    assert_eq!(events, expected);
    let request = seen.recv().unwrap();
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        body["generalCallID"],
        json!([744924436]),
        "ids keep their JSON type"
    );
    assert_eq!(body["key"], "701151-a3a9ca8");

    let url_of_record = object
        .call("CallRecordUrl", &[Val::from("744924436")])
        .unwrap();
    assert_eq!(
        url_of_record,
        Val::from("https://cdn.example.com/74/744924436.mp3?Expires=1&Signature=2R%3D")
    );
    assert_eq!(seen.recv().unwrap().path, "/api/2.0/stats/call-record.json");
    let call = object
        .call(
            "ПозвонитьСВнутреннего",
            &[Val::from("902"), Val::from("0639798793")],
        )
        .unwrap();
    assert_eq!(call, Val::from("744924999"));
    let body: Value = serde_json::from_str(&seen.recv().unwrap().body).unwrap();
    assert_eq!(
        (body["ext_number"].as_str(), body["phone_number"].as_str()),
        (Some("902"), Some("0639798793"))
    );

    // The PBX answers with a signature made with another secret: a clear error.
    object.set("Key", "bad").unwrap();
    let error = object
        .call("СсылкаНаЗапись", &[Val::from("744924436")])
        .unwrap_err();
    assert_eq!(
        error.message(),
        "Binotel.СсылкаНаЗапись: ответ Binotel API: подпись (signature) не совпала: проверьте Секрет и что тело не изменялось по пути"
    );
    // We sign with the wrong secret: the PBX's error comes through.
    object.set("Key", "701151-a3a9ca8").unwrap();
    object.set("Секрет", "wrong").unwrap();
    object.set_locale("en_US");
    let error = object
        .call("CallDetails", &[Val::from("[744924436]")])
        .unwrap_err();
    assert_eq!(
        error.message(),
        "Binotel.CallDetails: Binotel API returned error 120: Wrong signature"
    );
    assert!(!error.message().contains("wrong") && !error.message().contains(SECRET));
    let error = object
        .call("CallDetails", &[Val::from("{\"a\":1}")])
        .unwrap_err();
    assert!(
        error.message().contains("generalCallID"),
        "{}",
        error.message()
    );
    let diagnostics = object.call("Diagnostics", &[]).unwrap();
    assert!(!diagnostics.str().contains("wrong") && !diagnostics.str().contains(SECRET));
    assert_eq!(object.done().platform_calls_after_done, 0);
}

/// The webhook gates through the add-in as the 1C HTTP services call them: before the body (source, secret or URL
/// token, Content-Length) and, for Binotel-style pushes, on the body (signature, startTime window, replay key).
#[test]
fn webhook_gates_refuse_what_the_http_services_must_not_accept() {
    let host = Host::load_default();
    let uis = host.create_with("UIScom", Mode::Server, "ru_RU");
    let admit_uis = |source: &str, token: &str, presented: &str, length: &str| {
        json_of(
            &uis.call(
                "ДопуститьУведомление",
                &[
                    Val::from(source),
                    Val::from(token),
                    Val::from(presented),
                    Val::from(length),
                ],
            )
            .unwrap(),
        )
    };
    let ok = admit_uis("UIScom", "t0ken", "t0ken", "512");
    assert_eq!(ok["accept"], true);
    assert_eq!(ok["status"], 200);
    // A UIS-only base must refuse the Binotel endpoint and vice versa; an unset token refuses everything.
    for (source, token, presented, length, status, reason) in [
        (
            "Binotel",
            "t0ken",
            "t0ken",
            "512",
            403,
            "not_the_call_source",
        ),
        ("", "t0ken", "t0ken", "512", 403, "not_the_call_source"),
        ("UIScom", "", "", "512", 403, "secret_not_set"),
        ("UIScom", "t0ken", "t0keN", "512", 403, "bad_token"),
        ("UIScom", "t0ken", "t0ken", "1048577", 413, "too_large"),
        ("UIScom", "t0ken", "t0ken", "", 411, "length_required"),
    ] {
        let verdict = admit_uis(source, token, presented, length);
        assert_eq!(verdict["accept"], false, "{reason}");
        assert_eq!(verdict["status"], status, "{reason}");
        assert_eq!(verdict["reason"], reason);
        assert_eq!(verdict["authenticated"], false);
        assert!(!verdict["text"].as_str().unwrap().is_empty());
    }
    let verdict = admit_uis("UIScom", "t0ken", "x", "1");
    assert_eq!(verdict["text"], "вебхук отклонён: неверный токен в адресе");
    // English names.
    let verdict = json_of(
        &uis.call(
            "AdmitNotification",
            &[
                Val::from("uiscom"),
                Val::from("a"),
                Val::from("a"),
                Val::from("1"),
            ],
        )
        .unwrap(),
    );
    assert_eq!(verdict["accept"], true);

    let binotel = host.create_with("Binotel", Mode::Server, "en_US");
    let admit_request = |source: &str, length: &str| {
        json_of(
            &binotel
                .call("AdmitRequest", &[Val::from(source), Val::from(length)])
                .unwrap(),
        )
    };
    // No secret yet: refused although the source is right.
    assert_eq!(admit_request("Binotel", "100")["reason"], "secret_not_set");
    binotel.set("Secret", "push-secret").unwrap();
    assert_eq!(admit_request("Binotel", "100")["accept"], true);
    assert_eq!(
        admit_request("UIScom", "100")["reason"],
        "not_the_call_source"
    );
    assert_eq!(admit_request("Binotel", "2000000")["status"], 413);

    let now = 1_700_000_000i64;
    let sign = |json: &Value| {
        let mut body = json.clone();
        let signature = binotel::sign_json(&json.to_string(), "push-secret").unwrap();
        body["signature"] = Value::from(signature);
        body.to_string()
    };
    let push = json!({
        "requestType": "apiCallCompleted",
        "callDetails": {"generalCallID": "555", "startTime": (now - 60).to_string(), "internalNumber": "902",
                        "externalNumber": "0670219424", "disposition": "ANSWER", "billsec": "10"}
    });
    let admit_push = |body: &str, keys: &str| {
        json_of(
            &binotel
                .call(
                    "ДопуститьPush",
                    &[
                        Val::from(body),
                        Val::from("application/json"),
                        Val::from(now as f64),
                        Val::from(keys),
                    ],
                )
                .unwrap(),
        )
    };
    let signed = sign(&push);
    let admitted = admit_push(&signed, "");
    assert_eq!(admitted["accept"], true, "{admitted}");
    assert_eq!(admitted["call_id"], "555");
    assert_eq!(admitted["key"], "555|apicallcompleted|902");
    assert_eq!(admitted["start_time"], now - 60);
    let keys = json!([admitted["key"]]).to_string();
    let replay = admit_push(&signed, &keys);
    assert_eq!(
        (
            replay["accept"].clone(),
            replay["status"].clone(),
            replay["reason"].clone()
        ),
        (json!(false), json!(200), json!("duplicate"))
    );
    assert_eq!(replay["authenticated"], true);
    let forged = signed.replace("0670219424", "0999999999");
    assert_eq!(admit_push(&forged, "")["reason"], "bad_signature");
    assert_eq!(
        admit_push(&push.to_string(), "")["reason"],
        "signature_missing"
    );
    let mut old = push.clone();
    old["callDetails"]["startTime"] = Value::from((now - 2 * 86_400).to_string());
    let stale = admit_push(&sign(&old), "");
    assert_eq!(
        (stale["status"].clone(), stale["reason"].clone()),
        (json!(403), json!("stale"))
    );
    assert_eq!(
        stale["text"],
        "push refused: its startTime is more than a day old (a replay?)"
    );

    // What of a refused body may be logged: its length and an md5 prefix, never its text.
    let print = binotel
        .call("ОтпечатокТела", &[Val::from(forged.as_str())])
        .unwrap();
    assert!(print
        .str()
        .starts_with(&format!("{} bytes, md5 ", forged.len())));
    assert!(!print.str().contains("0999999999"));
    let print = uis.call("BodyFingerprint", &[Val::from("abc")]).unwrap();
    assert_eq!(print.str(), "3 bytes, md5 900150983cd2…");
    // secret_not_set, not_the_call_source, too_large, duplicate, bad_signature, signature_missing, stale.
    let diagnostics = json_of(&binotel.call("Diagnostics", &[]).unwrap());
    assert_eq!(diagnostics["state"]["webhooks_refused"], 7);
}

/// A 1C-Connect call reported by an operator's client: only his own softphone's call, attributed to the number the
/// administrator gave him, without record links, PBX data or raw body.
#[test]
fn a_client_reported_call_is_limited_to_the_operator_himself() {
    let host = Host::load_default();
    let uis = host.create_with("UIScom", Mode::Server, "ru_RU");
    let reported = json!({
        "source": "1c-connect", "event": "finished", "call_id": "77", "caller": "+79000000000",
        "extension": "105", "lost": false, "record_urls": ["https://elsewhere.example/r.mp3"],
        "customer": {"name": "Forged"}, "raw": {"x": 1}
    });
    let event = json_of(
        &uis.call(
            "ЗвонокОтКлиента",
            &[Val::from(reported.to_string()), Val::from("101")],
        )
        .unwrap(),
    );
    assert_eq!(event["extension"], "101");
    assert_eq!(event["record_urls"], json!([]));
    assert_eq!(event["customer"], Value::Null);
    assert_eq!(event["raw"], Value::Null);
    let mut forged = reported.clone();
    forged["source"] = Value::from("binotel");
    assert!(uis
        .call(
            "ClientReportedCall",
            &[Val::from(forged.to_string()), Val::from("101")]
        )
        .is_err());
}

#[path = "support/binotel_pbx.rs"]
mod binotel_pbx;

/// Binotel's own webhook contract through the add-in, as the 1C HTTP service calls it: the address gate, then each
/// request of a real call (form-encoded as Binotel sends it) parsed into the one call model and answered with the
/// bytes Binotel expects; a repeated apiCallCompleted is recognised by its generalCallID and still answered success.
#[test]
fn binotel_webhooks_of_a_real_call_become_events_and_replies() {
    let host = Host::load_default();
    let object = host.create_with("Binotel", Mode::Server, "ru_RU");
    object.set("ЧасовойПояс", "+02:00").unwrap();
    let call = binotel_pbx::incoming_call(
        "2744830",
        "0670219424",
        "0443334000",
        "801",
        1_700_000_000,
        35,
    );

    let admit = |source: &str, address: &str, length: &str| {
        json_of(
            &object
                .call(
                    "ДопуститьВебхук",
                    &[Val::from(source), Val::from(address), Val::from(length)],
                )
                .unwrap(),
        )
    };
    // Binotel's published servers are the default allowlist; the address is the last X-Forwarded-For entry.
    let ok = admit("Binotel", call[0].from, &call[0].body.len().to_string());
    assert_eq!(ok["accept"], true, "{ok}");
    assert_eq!(ok["authenticated"], true);
    assert_eq!(ok["address"], binotel_pbx::BINOTEL_ADDRESS);
    for (source, address, status, reason) in [
        (
            "UIScom",
            binotel_pbx::BINOTEL_ADDRESS,
            403,
            "not_the_call_source",
        ),
        ("Binotel", "", 403, "address_unknown"),
        ("Binotel", "203.0.113.9", 403, "address_not_allowed"),
        (
            "Binotel",
            "194.88.218.116, 203.0.113.9",
            403,
            "address_not_allowed",
        ),
    ] {
        let verdict = admit(source, address, "100");
        assert_eq!(
            (verdict["status"].clone(), verdict["reason"].clone()),
            (json!(status), json!(reason))
        );
        assert_eq!(verdict["accept"], false);
    }
    assert_eq!(
        admit("Binotel", "203.0.113.9", "1")["text"],
        "вебхук отклонён: адреса клиента нет среди разрешенных адресов Binotel"
    );
    // The administrator's own list replaces the published one; a typo is refused with its entry named.
    object.set("РазрешенныеАдреса", "203.0.113.0/24").unwrap();
    assert_eq!(admit("Binotel", "203.0.113.9", "1")["accept"], true);
    assert_eq!(
        admit("Binotel", binotel_pbx::BINOTEL_ADDRESS, "1")["reason"],
        "address_not_allowed"
    );
    let error = object
        .set("AllowedAddresses", "203.0.113.0/24, 10.0.0.300")
        .unwrap_err();
    assert!(
        error.message().contains("10.0.0.300"),
        "{}",
        error.message()
    );
    assert_eq!(
        object.get("AllowedAddresses").unwrap(),
        Val::from("203.0.113.0/24")
    );
    object.set("AllowedAddresses", "").unwrap();
    assert_eq!(
        admit("Binotel", binotel_pbx::BINOTEL_ADDRESS, "1")["accept"],
        true
    );

    let parse = |hook: &binotel_pbx::Webhook, keys: &str| {
        json_of(
            &object
                .call(
                    "РазобратьВебхук",
                    &[
                        Val::from(hook.body.as_str()),
                        Val::from(hook.content_type),
                        Val::from(keys),
                    ],
                )
                .unwrap(),
        )
    };
    // apiCallSettings: a question; 1C answers after its look-up.
    let settings = parse(&call[0], "");
    assert_eq!(settings["kind"], "settings");
    assert_eq!(settings["settings"]["external_digits"], "0670219424");
    assert_eq!(settings["settings"]["pbx_number"], "0443334000");
    assert_eq!(settings["reply"], "");
    let reply = object
        .call(
            "ОтветНастройкиЗвонка",
            &[Val::from(
                json!({"name": "ООО «Ромашка», Иванов Иван Иванович", "employee_number": "801",
                       "link_url": "e1c://server/base/#e1cib/data/Справочник.Контрагенты?ref=1", "link_title": "Открыть в 1С"})
                .to_string(),
            )],
        )
        .unwrap();
    let reply: Value = serde_json::from_str(reply.str()).unwrap();
    assert_eq!(
        reply["customerData"]["name"],
        "ООО «Ромашка», Иванов Иван Иван…"
    );
    assert_eq!(reply["customerData"]["assignedToEmployeeNumber"], "801");
    assert_eq!(reply["customerData"]["linkToCrmTitle"], "Открыть в 1С");
    assert_eq!(
        object.call("CallSettingsReply", &[Val::from("")]).unwrap(),
        Val::from("{}")
    );

    // The call's stages: the one call model, as the popup reads it.
    let expected = [
        ("ringing", "receivedTheCall"),
        ("answered", "answeredTheCall"),
        ("finished", "hangupTheCall"),
    ];
    for (hook, (kind, name)) in call[1..4].iter().zip(expected) {
        let parsed = parse(hook, "");
        assert_eq!(parsed["kind"], "event");
        assert_eq!(parsed["reply"], r#"{"status":"success"}"#);
        assert_eq!(parsed["event"]["source"], "binotel");
        assert_eq!(parsed["event"]["event"], kind);
        assert_eq!(parsed["event"]["notification_name"], name);
        assert_eq!(parsed["event"]["call_id"], "2744830");
    }
    let ringing = parse(&call[1], "");
    assert_eq!(ringing["event"]["extension"], "801");
    assert_eq!(ringing["event"]["other_party_digits"], "0670219424");
    assert_eq!(ringing["event"]["direction"], "in");

    // apiCallCompleted: history, idempotent by generalCallID; answered success also when repeated.
    let completed = parse(&call[4], "[]");
    assert_eq!(completed["kind"], "completed");
    assert_eq!(completed["key"], "2744830");
    assert_eq!(completed["repeated"], false);
    assert_eq!(completed["reply"], r#"{"status":"success"}"#);
    assert_eq!(completed["event"]["talk_sec"], 35);
    assert_eq!(completed["event"]["wait_sec"], 5);
    assert_eq!(
        completed["event"]["started_at"],
        "2023-11-15T00:13:20+02:00"
    );
    assert_eq!(completed["event"]["employee"]["name"], "Наталия Сторожук");
    let again = parse(&call[4], r#"["2744830"]"#);
    assert_eq!(again["repeated"], true);
    assert_eq!(again["reply"], r#"{"status":"success"}"#);

    let error = object
        .call(
            "ParseWebhook",
            &[Val::from("externalNumber=1"), Val::from(""), Val::from("")],
        )
        .unwrap_err();
    assert!(
        error.message().contains("requestType"),
        "{}",
        error.message()
    );
    let diagnostics = json_of(&object.call("Diagnostics", &[]).unwrap());
    assert_eq!(diagnostics["state"]["allowed_networks"], 26);
    // not_the_call_source, address_unknown, address_not_allowed ×3, address_not_allowed under the own list.
    assert_eq!(diagnostics["state"]["webhooks_refused"], 6);
    assert_eq!(object.done().platform_calls_after_done, 0);
}

/// The routing decision through the add-in: the facts 1C gathers in, the target out, in both languages.
#[test]
fn route_call_decides_between_the_manager_and_the_group() {
    let host = Host::load_default();
    let object = host.create_with("Binotel", Mode::Server, "ru_RU");
    let route = |facts: Value| {
        json_of(
            &object
                .call("МаршрутЗвонка", &[Val::from(facts.to_string())])
                .unwrap(),
        )
    };
    let manager = json!({"extension": "801", "available": true, "on_call": false,
                         "hours": {"days": [1, 2, 3, 4, 5], "from": "09:00", "to": "18:00"}});
    let now = json!({"weekday": 2, "time": "10:30"});
    assert_eq!(
        route(json!({"card_found": true, "manager": manager, "now": now, "group": "900"})),
        json!({"target": "manager", "extension": "801", "reason": "responsible_manager"})
    );
    let mut busy = manager.clone();
    busy["on_call"] = json!(true);
    assert_eq!(
        route(json!({"card_found": true, "manager": busy, "now": now, "group": "900"})),
        json!({"target": "group", "group": "900", "reason": "manager_busy"})
    );
    assert_eq!(
        route(
            json!({"card_found": true, "manager": manager, "now": {"weekday": 6, "time": "10:30"}})
        ),
        json!({"target": "default", "reason": "out_of_hours"})
    );
    assert_eq!(route(json!({}))["reason"], "unknown_caller");
    let error = object
        .call("RouteCall", &[Val::from("{\"card_found\": 1")])
        .unwrap_err();
    assert!(
        error
            .message()
            .starts_with("Binotel.МаршрутЗвонка: факты маршрутизации"),
        "{}",
        error.message()
    );
}

/// The PBX asks at ring time, through the add-in: UIS «Интерактивная обработка вызова» (its documented request) and
/// an Asterisk look-up (MIKO's JSON shape and plain text for CURL()), request text to reply bytes.
#[test]
fn pbx_questions_at_ring_time_are_answered_from_the_routing_decision() {
    let host = Host::load_default();
    let uis = host.create_with("UIScom", Mode::Server, "ru_RU");
    let query = json_of(
        &uis.call(
            "РазобратьЗапросВызова",
            &[Val::from(
                "cdr_id=123&start_time=1200&input_result=None&numa=74952345678&numb=74951234567",
            )],
        )
        .unwrap(),
    );
    assert_eq!(query["numa_digits"], "74952345678");
    assert_eq!(query["input_result"], Value::Null);
    let facts = json!({"card_found": true, "manager": {"extension": "74959876543"}, "group": "2"});
    let reply = uis
        .call(
            "ОтветНаЗапросВызова",
            &[Val::from(facts.to_string()), Val::from("ООО «Ромашка»")],
        )
        .unwrap();
    assert_eq!(
        reply.str(),
        r#"{"phones":["74959876543"],"operator_text":"ООО «Ромашка»"}"#
    );
    let busy = json!({"card_found": true, "manager": {"extension": "74959876543", "on_call": true}, "group": "2"});
    let reply = uis
        .call(
            "CallQueryReply",
            &[Val::from(busy.to_string()), Val::from("")],
        )
        .unwrap();
    assert_eq!(reply.str(), r#"{"returned_code":2}"#);
    let error = uis
        .call("ParseCallQuery", &[Val::from("cdr_id=1")])
        .unwrap_err();
    assert!(error.message().contains("numa"), "{}", error.message());

    let binotel = host.create_with("Binotel", Mode::Server, "en_US");
    let lookup = |query: &str, facts: &Value, name: &str| {
        json_of(
            &binotel
                .call(
                    "LookupReply",
                    &[
                        Val::from(query),
                        Val::from(facts.to_string()),
                        Val::from(name),
                    ],
                )
                .unwrap(),
        )
    };
    let known = json!({"card_found": true, "manager": {"extension": "801"}});
    let reply = lookup("number=74952345678", &known, "Иванов Иван");
    assert_eq!(reply["content_type"], "application/json; charset=utf-8");
    assert_eq!(
        reply["body"],
        r#"{"result":"Success","data":{"caller_id":"Иванов Иван","client":"Иванов Иван"}}"#
    );
    assert_eq!(
        lookup("number=74952345678", &json!({"card_found": false}), "")["body"],
        r#"{"result":"NotFound","data":{}}"#
    );
    let reply = lookup(
        "number=74952345678&format=text&what=route",
        &known,
        "Иванов Иван",
    );
    assert_eq!(
        (reply["content_type"].as_str(), reply["body"].as_str()),
        (Some("text/plain; charset=utf-8"), Some("801"))
    );
    let parsed = json_of(
        &binotel
            .call(
                "РазобратьЗапросПоиска",
                &[Val::from("number=%2B7%20495%20234-56-78")],
            )
            .unwrap(),
    );
    assert_eq!(parsed["digits"], "74952345678");
    let error = binotel
        .call("ParseLookup", &[Val::from("number=1&format=xml")])
        .unwrap_err();
    assert!(error.message().contains("format"), "{}", error.message());
}
