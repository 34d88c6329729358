//! Class Centrifugo through the built library and the test host, against real Centrifugo v6.9.1 (and Redis).

#[path = "support/centrifugo_server.rs"]
mod server;

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use addin_host::{Event, Host, Mode, Object, Val};
use serde_json::{json, Value};
use server::{
    base_config, free_port, require, CentrifugoServer, ConnectProxy, RedisServer, TcpProxy,
    API_KEY, HMAC_SECRET,
};

const SOURCE: &str = "TelephonyBridge.Centrifugo";

fn start_server(ping_interval: &str) -> Option<CentrifugoServer> {
    let binary = require("centrifugo")?;
    Some(CentrifugoServer::start(
        &binary,
        base_config(free_port(), ping_interval),
    ))
}

fn data(event: &Event) -> Value {
    serde_json::from_str(&event.data).unwrap_or(Value::Null)
}

fn publisher<'h>(host: &'h Host, server: &CentrifugoServer, mode: &str) -> Object<'h> {
    let object = host.create_with("Centrifugo", Mode::Server, "en_US");
    object.set("ApiUrl", server.api_url().as_str()).unwrap();
    object.set("КлючAPI", API_KEY).unwrap();
    object.set("ApiMode", mode).unwrap();
    object
}

fn publish(object: &Object, channel: &str, data: &str) -> Value {
    let result = object
        .call("Publish", &[channel.into(), data.into()])
        .unwrap_or_else(|e| panic!("publish: {e}"));
    serde_json::from_str(result.str()).unwrap()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn token(user: &str) -> String {
    tb_centrifugo::jwt::connection_token(user, HMAC_SECRET, 3600, "", unix_now()).unwrap()
}

fn wait_named(object: &Object, name: &str, timeout: Duration) -> Option<Event> {
    object.wait_event(timeout, |e| e.name == name)
}

/// Waits for Publication events until `count` arrived (or the timeout), returning their `n` fields in order.
fn collect_numbers(object: &Object, count: usize, timeout: Duration) -> Vec<u64> {
    let deadline = Instant::now() + timeout;
    let mut numbers = Vec::new();
    while numbers.len() < count && Instant::now() < deadline {
        if let Some(event) =
            object.wait_event(Duration::from_millis(200), |e| e.name == "Publication")
        {
            assert_eq!(event.source, SOURCE);
            if let Some(n) = data(&event)["data"]["n"].as_u64() {
                numbers.push(n);
            }
        }
    }
    numbers
}

fn connect_client<'h>(host: &'h Host, url: &str, user: &str) -> Object<'h> {
    let client = host.create("Centrifugo");
    client
        .call_proc("Подключиться", &[url.into(), token(user).into()])
        .unwrap();
    let connected =
        wait_named(&client, "Connected", Duration::from_secs(10)).expect("Connected event");
    assert!(!data(&connected)["client"].as_str().unwrap_or("").is_empty());
    assert_eq!(client.get("Подключено").unwrap(), Val::Bool(true));
    assert_eq!(client.get("State").unwrap(), Val::from("connected"));
    client
}

fn subscribe(client: &Object, channel: &str) -> Value {
    client.call_proc("Subscribe", &[channel.into()]).unwrap();
    let event = client
        .wait_event(Duration::from_secs(10), |e| {
            e.name == "Subscribed" && data(e)["channel"] == channel
        })
        .unwrap_or_else(|| panic!("Subscribed {channel}: {:?}", client.take_events()));
    data(&event)
}

#[test]
fn api_in_modern_legacy_and_auto_modes_against_one_server() {
    let Some(server) = start_server("25s") else {
        return;
    };
    let host = Host::load_default();
    for mode in ["modern", "legacy", "auto"] {
        let api = publisher(&host, &server, mode);
        assert_eq!(api.get("ApiMode").unwrap(), Val::from(mode));
        let channel = format!("api-{mode}");
        let first = publish(&api, &channel, r#"{"text":"Входящий звонок от Иванова"}"#);
        assert!(first["offset"].as_u64().unwrap() >= 1, "{mode}: {first}");
        assert!(!first["epoch"].as_str().unwrap().is_empty());
        let second = publish(&api, &channel, "+7 900 123-45-67 звонит");
        assert_eq!(
            second["offset"].as_u64().unwrap(),
            first["offset"].as_u64().unwrap() + 1
        );
        // Idempotency key: a retried publish is not stored twice.
        let key_args = [
            channel.as_str().into(),
            r#"{"n":3}"#.into(),
            "retry-1".into(),
        ];
        api.call("Опубликовать", &key_args).unwrap();
        api.call("Опубликовать", &key_args).unwrap();

        let history: Value = serde_json::from_str(
            api.call("History", &[channel.as_str().into(), Val::Int(0)])
                .unwrap()
                .str(),
        )
        .unwrap();
        let publications = history["publications"].as_array().unwrap();
        assert_eq!(publications.len(), 3, "{mode}: {history}");
        assert_eq!(
            publications[0]["data"]["text"], "Входящий звонок от Иванова",
            "Cyrillic intact"
        );
        assert_eq!(
            publications[1]["data"], "+7 900 123-45-67 звонит",
            "non-JSON data went as a JSON string"
        );
        let limited: Value = serde_json::from_str(
            api.call("История", &[channel.as_str().into(), Val::Num(1.0)])
                .unwrap()
                .str(),
        )
        .unwrap();
        assert_eq!(limited["publications"].as_array().unwrap().len(), 1);

        let broadcast = api
            .call(
                "ОпубликоватьВКаналы",
                &[
                    format!(r#"["{channel}-a","{channel}-b"]"#).into(),
                    "{}".into(),
                ],
            )
            .unwrap();
        let broadcast: Value = serde_json::from_str(broadcast.str()).unwrap();
        assert_eq!(
            broadcast["responses"].as_array().unwrap().len(),
            2,
            "{mode}: {broadcast}"
        );
        api.call(
            "Broadcast",
            &[format!("{channel}-a, {channel}-c").into(), "1".into()],
        )
        .unwrap();

        let presence: Value = serde_json::from_str(
            api.call("Presence", &[channel.as_str().into()])
                .unwrap()
                .str(),
        )
        .unwrap();
        assert!(
            presence.get("presence").is_some()
                || presence.as_object().is_some_and(|o| o.is_empty()),
            "{presence}"
        );
        let info: Value = serde_json::from_str(api.call("Информация", &[]).unwrap().str()).unwrap();
        assert!(
            info["nodes"][0]["version"]
                .as_str()
                .unwrap()
                .starts_with("6.9.1"),
            "{mode}: {}",
            info["nodes"][0]["version"]
        );

        // A Centrifugo error inside HTTP 200 is an error for the caller, with code and message.
        let error = api
            .call("Publish", &["nosuchns:x".into(), "{}".into()])
            .unwrap_err();
        assert!(
            error.message().contains("102") && error.message().contains("unknown channel"),
            "{}",
            error.message()
        );
        let diagnostics: Value =
            serde_json::from_str(api.call("Diagnostics", &[]).unwrap().str()).unwrap();
        if mode == "auto" {
            assert_eq!(diagnostics["state"]["api"]["detected_mode"], "modern");
        }
    }
}

#[test]
fn wrong_key_refused_connection_and_secrets_stay_hidden() {
    let Some(server) = start_server("25s") else {
        return;
    };
    let host = Host::load_default();
    let log = std::env::temp_dir().join(format!("tb-cf-secrets-{}.log", std::process::id()));
    let api = host.create_with("Centrifugo", Mode::Server, "en_US");
    api.set("LogFile", log.to_str().unwrap()).unwrap();
    api.set("LogLevel", "debug").unwrap();
    api.set("ApiUrl", server.api_url().as_str()).unwrap();
    let wrong_key = "wrong-key-that-must-not-leak";
    api.set("ApiKey", wrong_key).unwrap();
    assert_eq!(
        api.get("ApiKey").unwrap(),
        Val::from("***"),
        "the key is never read back"
    );
    for mode in ["modern", "legacy", "auto"] {
        api.set("ApiMode", mode).unwrap();
        let error = api.call("Publish", &["a".into(), "{}".into()]).unwrap_err();
        assert!(
            error.message().contains("the API key is wrong"),
            "{mode}: {}",
            error.message()
        );
        assert!(!error.message().contains(wrong_key));
    }
    api.set_locale("ru_RU");
    let error = api.call("Info", &[]).unwrap_err();
    assert!(
        error.message().contains("неверный ключ API"),
        "{}",
        error.message()
    );

    api.set(
        "ApiUrl",
        format!("http://127.0.0.1:{}", free_port()).as_str(),
    )
    .unwrap();
    api.set_locale("en_US");
    let error = api.call("Info", &[]).unwrap_err();
    assert!(
        error.message().contains("cannot reach"),
        "{}",
        error.message()
    );

    let diagnostics = api.call("Diagnostics", &[]).unwrap();
    assert!(!diagnostics.str().contains(wrong_key));
    assert!(diagnostics.str().contains("\"key_set\":true"));
    let last_error = api.get("LastError").unwrap();
    assert!(!last_error.str().contains(wrong_key));
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!log_text.is_empty(), "failures are logged");
    assert!(
        !log_text.contains(wrong_key),
        "the key never reaches the log"
    );
    let _ = std::fs::remove_file(log);
}

#[test]
fn tokens_are_accepted_and_refused() {
    let Some(server) = start_server("25s") else {
        return;
    };
    let host = Host::load_default();
    let api = publisher(&host, &server, "modern");

    // Made by the add-in and accepted by Centrifugo.
    let good = api
        .call(
            "СоздатьТокенПодключения",
            &[
                "alice".into(),
                HMAC_SECRET.into(),
                Val::Int(600),
                r#"{"info":{"name":"Алиса"}}"#.into(),
            ],
        )
        .unwrap();
    let client = host.create("Centrifugo");
    client
        .call_proc(
            "Connect",
            &[server.ws_url().as_str().into(), good.str().into()],
        )
        .unwrap();
    assert!(
        wait_named(&client, "Connected", Duration::from_secs(10)).is_some(),
        "{:?}",
        client.take_events()
    );

    // Subscription token for the right channel: accepted; for another channel: refused.
    let sub_ok = api
        .call(
            "MakeSubscriptionToken",
            &[
                "alice".into(),
                "private:alice".into(),
                HMAC_SECRET.into(),
                Val::Int(600),
            ],
        )
        .unwrap();
    client
        .call_proc(
            "Подписаться",
            &["private:alice".into(), sub_ok.str().into()],
        )
        .unwrap();
    let subscribed = client
        .wait_event(Duration::from_secs(10), |e| e.name == "Subscribed")
        .expect("subscribed with token");
    assert_eq!(data(&subscribed)["channel"], "private:alice");
    // A token for another channel: Centrifugo closes the connection with 3500 (invalid token), for good.
    let sub_other = api
        .call(
            "MakeSubscriptionToken",
            &[
                "alice".into(),
                "private:bob".into(),
                HMAC_SECRET.into(),
                Val::Int(600),
            ],
        )
        .unwrap();
    client
        .call_proc(
            "Subscribe",
            &["private:carol".into(), sub_other.str().into()],
        )
        .unwrap();
    let refused = client
        .wait_event(Duration::from_secs(10), |e| e.name == "Disconnected")
        .unwrap_or_else(|| panic!("refused: {:?}", client.take_events()));
    assert_eq!(data(&refused)["code"], 3500);
    assert_eq!(data(&refused)["reconnect"], false);
    assert_eq!(client.get("Подключено").unwrap(), Val::Bool(false));
    // Connecting again works; without a token the private namespace refuses the subscription only.
    client
        .call_proc("Unsubscribe", &["private:carol".into()])
        .unwrap();
    client
        .call_proc(
            "Connect",
            &[server.ws_url().as_str().into(), good.str().into()],
        )
        .unwrap();
    assert!(wait_named(&client, "Connected", Duration::from_secs(10)).is_some());
    client
        .call_proc("Subscribe", &["private:dave".into()])
        .unwrap();
    let refused = client
        .wait_event(Duration::from_secs(10), |e| {
            e.name == "Unsubscribed" && data(e)["channel"] == "private:dave"
        })
        .unwrap_or_else(|| panic!("refused: {:?}", client.take_events()));
    assert!(
        data(&refused)["reason"].as_str().unwrap().contains("103"),
        "{:?}",
        data(&refused)
    );
    client.call_proc("Отключиться", &[]).unwrap();
    let disconnected = wait_named(&client, "Disconnected", Duration::from_secs(5)).unwrap();
    assert_eq!(data(&disconnected)["reconnect"], false);

    // Wrong secret: terminal (3500 invalid token), no reconnect loop.
    let wrong =
        tb_centrifugo::jwt::connection_token("alice", "not-the-secret", 600, "", unix_now())
            .unwrap();
    let client2 = host.create("Centrifugo");
    client2
        .call_proc(
            "Connect",
            &[server.ws_url().as_str().into(), wrong.as_str().into()],
        )
        .unwrap();
    let event = wait_named(&client2, "Disconnected", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("refused: {:?}", client2.take_events()));
    assert_eq!(data(&event)["reconnect"], false, "{:?}", data(&event));
    assert_eq!(client2.get("State").unwrap(), Val::from("disconnected"));

    // Expired: the add-in asks for a new token (TokenExpiring) and connects once it gets one.
    let expired =
        tb_centrifugo::jwt::connection_token("alice", HMAC_SECRET, 60, "", unix_now() - 3600)
            .unwrap();
    let client3 = host.create("Centrifugo");
    client3
        .call_proc(
            "Connect",
            &[server.ws_url().as_str().into(), expired.as_str().into()],
        )
        .unwrap();
    let expiring =
        wait_named(&client3, "TokenExpiring", Duration::from_secs(10)).expect("TokenExpiring");
    assert_eq!(data(&expiring)["channel"], "");
    let errors: Vec<Value> = client3
        .take_events()
        .iter()
        .filter(|e| e.name == "Error")
        .map(data)
        .collect();
    assert!(errors.iter().any(|e| e["code"] == 109), "{errors:?}");
    client3
        .call_proc("УстановитьТокен", &[token("alice").into()])
        .unwrap();
    assert!(wait_named(&client3, "Connected", Duration::from_secs(10)).is_some());

    // Errors of the token functions are clear.
    let error = api
        .call(
            "MakeConnectionToken",
            &["alice".into(), "".into(), Val::Int(60)],
        )
        .unwrap_err();
    assert!(
        error.message().contains("HMAC secret is empty"),
        "{}",
        error.message()
    );
    let error = api
        .call(
            "MakeConnectionToken",
            &["alice".into(), "s".into(), Val::Int(60), "{oops".into()],
        )
        .unwrap_err();
    assert!(
        error.message().contains("not valid JSON"),
        "{}",
        error.message()
    );
}

#[test]
fn connection_token_is_refreshed_before_it_expires() {
    let Some(server) = start_server("25s") else {
        return;
    };
    let host = Host::load_default();
    let short =
        tb_centrifugo::jwt::connection_token("alice", HMAC_SECRET, 4, "", unix_now()).unwrap();
    let client = host.create("Centrifugo");
    client
        .call_proc(
            "Connect",
            &[server.ws_url().as_str().into(), short.as_str().into()],
        )
        .unwrap();
    assert!(wait_named(&client, "Connected", Duration::from_secs(10)).is_some());
    let started = Instant::now();
    assert!(
        wait_named(&client, "TokenExpiring", Duration::from_secs(10)).is_some(),
        "{:?}",
        client.take_events()
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "asked before the expiry"
    );
    client
        .call_proc("SetToken", &[token("alice").into()])
        .unwrap();
    // Past the old expiry plus the server's close delay: still connected, no Disconnected.
    std::thread::sleep(Duration::from_secs(7));
    let events = client.take_events();
    assert!(
        !events.iter().any(|e| e.name == "Disconnected"),
        "{events:?}"
    );
    assert_eq!(client.get("Connected").unwrap(), Val::Bool(true));
}

#[test]
fn user_limited_channel_delivers_in_order_and_only_to_its_user() {
    let Some(server) = start_server("25s") else {
        return;
    };
    let host = Host::load_default();
    let api = publisher(&host, &server, "modern");
    let alice = connect_client(&host, &server.ws_url(), "alice");
    let sub = subscribe(&alice, "calls:#alice");
    assert_eq!(sub["recovered"], false);

    // Another user cannot subscribe to alice's channel.
    let mallory = connect_client(&host, &server.ws_url(), "mallory");
    mallory
        .call_proc("Subscribe", &["calls:#alice".into()])
        .unwrap();
    let refused = mallory
        .wait_event(Duration::from_secs(10), |e| e.name == "Unsubscribed")
        .unwrap_or_else(|| panic!("{:?}", mallory.take_events()));
    assert_eq!(data(&refused)["channel"], "calls:#alice");

    for n in 0..200u64 {
        publish(
            &api,
            "calls:#alice",
            &json!({"n": n, "phone": "+79001234567", "text": "Звонок"}).to_string(),
        );
    }
    let numbers = collect_numbers(&alice, 200, Duration::from_secs(20));
    assert_eq!(numbers, (0..200).collect::<Vec<_>>());
    assert!(mallory
        .take_events()
        .iter()
        .all(|e| e.name != "Publication"));
    // Publication data: channel, data as JSON, offset.
    publish(&api, "calls:#alice", r#"{"n":500,"text":"Иван"}"#);
    let event = wait_named(&alice, "Publication", Duration::from_secs(5)).unwrap();
    let value = data(&event);
    assert_eq!(value["channel"], "calls:#alice");
    assert_eq!(value["data"]["text"], "Иван");
    assert!(value["offset"].as_u64().unwrap() > 200);

    alice
        .call_proc("Отписаться", &["calls:#alice".into()])
        .unwrap();
    assert!(wait_named(&alice, "Unsubscribed", Duration::from_secs(5)).is_some());
}

/// The form is busy, so the platform's buffer (128) fills and refuses; then it is idle again while publications
/// keep coming. Every publication arrives once and in order across both ways to ExternalEvent: the worker's own
/// call (the direct path, taken whenever nothing waits before it) and the delivery thread retrying what was
/// refused. A direct call that overtook the queued ones would put a later number before an earlier one.
#[test]
fn publications_refused_by_a_full_buffer_and_then_accepted_arrive_once_each_in_order() {
    let Some(server) = start_server("25s") else {
        return;
    };
    let host = Host::load_default();
    let api = publisher(&host, &server, "modern");
    let client = connect_client(&host, &server.ws_url(), "alice");
    subscribe(&client, "calls:#alice");
    let send = |n: u64| {
        publish(&api, "calls:#alice", &json!({ "n": n }).to_string());
    };
    for n in 0..300 {
        send(n);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while client.refused_events() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        client.refused_events() > 0,
        "the platform's buffer never filled"
    );
    for n in 300..600 {
        send(n);
        client.pump();
    }
    let numbers = collect_numbers(&client, 600, Duration::from_secs(30));
    let first_wrong = numbers.iter().enumerate().find(|(i, n)| *i as u64 != **n);
    assert!(
        first_wrong.is_none() && numbers.len() == 600,
        "{} publications, first out of place: {first_wrong:?}",
        numbers.len()
    );
}

#[test]
fn cut_connection_recovers_every_publication_once() {
    let Some(server) = start_server("25s") else {
        return;
    };
    let host = Host::load_default();
    let api = publisher(&host, &server, "modern");
    let proxy = TcpProxy::start(server.port);
    let client = connect_client(&host, &proxy.ws_url(), "alice");
    subscribe(&client, "calls:#alice");

    let total = 150u64;
    let mut received = Vec::new();
    for n in 0..total {
        if n == 30 {
            proxy.cut_and_refuse();
        }
        if n == 120 {
            proxy.pass();
        }
        publish(&api, "calls:#alice", &json!({"n": n}).to_string());
        std::thread::sleep(Duration::from_millis(25));
        client.pump();
    }
    let disconnected = client.take_events();
    received.extend(
        disconnected
            .iter()
            .filter(|e| e.name == "Publication")
            .filter_map(|e| data(e)["data"]["n"].as_u64()),
    );
    let saw_disconnect = disconnected
        .iter()
        .any(|e| e.name == "Disconnected" && data(e)["reconnect"] == true);
    assert!(saw_disconnect, "{disconnected:?}");
    let recovered = disconnected
        .iter()
        .find(|e| e.name == "Subscribed")
        .cloned()
        .or_else(|| client.wait_event(Duration::from_secs(25), |e| e.name == "Subscribed"));
    let recovered = recovered.expect("resubscribed after the cut");
    assert_eq!(data(&recovered)["was_recovering"], true);
    assert_eq!(
        data(&recovered)["recovered"],
        true,
        "{:?}",
        data(&recovered)
    );
    received.extend(collect_numbers(
        &client,
        (total as usize).saturating_sub(received.len()),
        Duration::from_secs(25),
    ));
    assert_eq!(
        received,
        (0..total).collect::<Vec<_>>(),
        "every publication once, in order"
    );
    let diagnostics: Value =
        serde_json::from_str(client.call("Diagnostics", &[]).unwrap().str()).unwrap();
    assert!(diagnostics["state"]["client"]["connects"].as_u64().unwrap() >= 2);
}

#[test]
fn silent_server_is_noticed_by_missing_pings_and_left() {
    let Some(server) = start_server("2s") else {
        return;
    };
    let host = Host::load_default();
    let proxy = TcpProxy::start(server.port);
    let client = connect_client(&host, &proxy.ws_url(), "alice");
    proxy.freeze();
    let frozen_at = Instant::now();
    let event =
        wait_named(&client, "Disconnected", Duration::from_secs(20)).expect("dead link noticed");
    let noticed_after = frozen_at.elapsed();
    assert_eq!(data(&event)["reason"], "no ping", "{:?}", data(&event));
    assert_eq!(data(&event)["reconnect"], true);
    assert!(
        noticed_after <= Duration::from_secs(13),
        "ping 2 s + 10 s slack, not 30 s: {noticed_after:?}"
    );
    proxy.pass();
    assert!(
        wait_named(&client, "Connected", Duration::from_secs(25)).is_some(),
        "comes back once the server answers"
    );
}

#[test]
fn two_nodes_on_redis_deliver_across_nodes_and_recover_after_a_restart() {
    let Some(centrifugo) = require("centrifugo") else {
        return;
    };
    let Some(redis_binary) = require("redis-server") else {
        return;
    };
    let redis = RedisServer::start(&redis_binary);
    let node = |port: u16| {
        let mut config = base_config(port, "25s");
        config["engine"] = json!({"type": "redis", "redis": {"address": [format!("redis://127.0.0.1:{}", redis.port)]}});
        CentrifugoServer::start(&centrifugo, config)
    };
    let node_a = node(free_port());
    let mut node_b = node(free_port());
    let host = Host::load_default();
    let api = publisher(&host, &node_a, "modern");
    let client = connect_client(&host, &node_b.ws_url(), "alice");
    subscribe(&client, "calls:#alice");

    let total = 120u64;
    let mut received = Vec::new();
    for n in 0..total {
        if n == 40 {
            node_b.stop();
        }
        if n == 80 {
            node_b.restart();
        }
        publish(&api, "calls:#alice", &json!({"n": n}).to_string());
        std::thread::sleep(Duration::from_millis(20));
        client.pump();
    }
    let events = client.take_events();
    received.extend(
        events
            .iter()
            .filter(|e| e.name == "Publication")
            .filter_map(|e| data(e)["data"]["n"].as_u64()),
    );
    let resubscribed = events
        .iter()
        .rfind(|e| e.name == "Subscribed")
        .cloned()
        .or_else(|| client.wait_event(Duration::from_secs(25), |e| e.name == "Subscribed"))
        .expect("resubscribed on the restarted node");
    assert_eq!(
        data(&resubscribed)["recovered"],
        true,
        "recovered from Redis history: {:?}",
        data(&resubscribed)
    );
    received.extend(collect_numbers(
        &client,
        (total as usize).saturating_sub(received.len()),
        Duration::from_secs(25),
    ));
    let unique: BTreeSet<u64> = received.iter().copied().collect();
    assert_eq!(unique.len(), received.len(), "none twice");
    assert_eq!(
        received,
        (0..total).collect::<Vec<_>>(),
        "none lost, in order"
    );
}

#[test]
fn disconnect_and_teardown_are_prompt_with_a_connected_client() {
    let Some(server) = start_server("25s") else {
        return;
    };
    let host = Host::load_default();
    let client = connect_client(&host, &server.ws_url(), "alice");
    subscribe(&client, "calls:#alice");
    let started = Instant::now();
    let teardown = client.done();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(teardown.platform_calls_after_done, 0);
}

#[test]
fn websocket_and_api_go_through_an_http_connect_proxy() {
    let Some(server) = start_server("25s") else {
        return;
    };
    let host = Host::load_default();
    let proxy = ConnectProxy::start();
    let client = host.create("Centrifugo");
    let proxy_url = format!("http://operator:p%40ss@127.0.0.1:{}", proxy.port);
    client.set("Прокси", proxy_url.as_str()).unwrap();
    assert_eq!(
        client.get("Proxy").unwrap(),
        Val::from(format!("http://***@127.0.0.1:{}", proxy.port))
    );
    client
        .call_proc(
            "Connect",
            &[server.ws_url().as_str().into(), token("alice").into()],
        )
        .unwrap();
    assert!(
        wait_named(&client, "Connected", Duration::from_secs(10)).is_some(),
        "{:?}",
        client.take_events()
    );
    subscribe(&client, "calls:#alice");
    let api = publisher(&host, &server, "modern");
    publish(&api, "calls:#alice", r#"{"n":1}"#);
    assert_eq!(
        collect_numbers(&client, 1, Duration::from_secs(10)),
        vec![1]
    );
    let requests = proxy.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(
        requests[0].starts_with(&format!("CONNECT 127.0.0.1:{} HTTP/1.1", server.port)),
        "{}",
        requests[0]
    );
    assert!(
        requests[0].contains("Proxy-Authorization: Basic b3BlcmF0b3I6cEBzcw=="),
        "{}",
        requests[0]
    );
    let diagnostics = client.call("Diagnostics", &[]).unwrap();
    assert!(
        diagnostics.str().contains("\"via_proxy\":true"),
        "{}",
        diagnostics.str()
    );
    assert!(
        !diagnostics.str().contains("p%40ss"),
        "the proxy password is not shown"
    );
}

#[test]
fn api_timeout_is_reported_with_the_limit() {
    // A server that accepts the connection and never answers (no Centrifugo needed).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _hold = std::thread::spawn(move || {
        let accepted: Vec<_> = listener.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(5));
        drop(accepted);
    });
    let host = Host::load_default();
    let api = host.create_with("Centrifugo", Mode::Server, "en_US");
    api.set("ApiUrl", format!("http://127.0.0.1:{port}").as_str())
        .unwrap();
    api.set("ApiKey", "k").unwrap();
    api.set("Таймаут", 0.5).unwrap();
    assert_eq!(api.get("Timeout").unwrap(), Val::Num(0.5));
    let started = Instant::now();
    let error = api.call("Publish", &["a".into(), "{}".into()]).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        error.message().contains("did not answer within 0.5 s"),
        "{}",
        error.message()
    );
    assert!(api.set("Timeout", -1).is_err());
    assert!(api
        .set("ApiMode", "v9")
        .unwrap_err()
        .message()
        .contains("modern"));
    assert!(api.set("ApiUrl", "centrifugo:8000").is_err());
}

#[test]
fn auto_mode_finds_a_legacy_only_server() {
    let Some(server) = start_server("25s") else {
        return;
    };
    let front = server::LegacyOnlyFront::start(server.port);
    let host = Host::load_default();
    let api = host.create_with("Centrifugo", Mode::Server, "en_US");
    api.set("ApiUrl", front.api_url().as_str()).unwrap();
    api.set("ApiKey", API_KEY).unwrap();
    // Modern mode against a v2–v4 style server: a clear 404 message.
    let error = api.call("Info", &[]).unwrap_err();
    assert!(
        error.message().contains("no Centrifugo API"),
        "{}",
        error.message()
    );
    api.set("ApiMode", "auto").unwrap();
    let result: Value = serde_json::from_str(
        api.call("Publish", &["auto-legacy".into(), r#"{"n":1}"#.into()])
            .unwrap()
            .str(),
    )
    .unwrap();
    assert_eq!(
        result["offset"], 1,
        "published once, through the legacy form"
    );
    let diagnostics: Value =
        serde_json::from_str(api.call("Diagnostics", &[]).unwrap().str()).unwrap();
    assert_eq!(diagnostics["state"]["api"]["detected_mode"], "legacy");
    api.call("Publish", &["auto-legacy".into(), r#"{"n":2}"#.into()])
        .unwrap();
    let history: Value =
        serde_json::from_str(api.call("History", &["auto-legacy".into()]).unwrap().str()).unwrap();
    assert_eq!(history["publications"].as_array().unwrap().len(), 2);
}

/// A Cyrillic «с» in the address once made the link code slice a string inside a character: the client thread
/// panicked and the object silently ignored every later call (the panic itself is now caught by the driver, see
/// tests/panic_guard.rs). Now Подключиться refuses the address itself (tests/trust.rs), and the object goes on.
#[test]
fn an_address_with_a_cyrillic_letter_is_reported_and_the_object_keeps_working() {
    let host = Host::load_default();
    let client = host.create("Centrifugo");
    let error = client
        .call_proc(
            "Подключиться",
            &["ws://сentrifugo.example/connection/websocket".into()],
        )
        .expect_err("refused by the method");
    assert!(error.message().contains("сentrifugo.example"), "{error}");
    client.call_proc("Подписаться", &["news".into()]).unwrap();
    client.call_proc("Отключиться", &[]).unwrap();
    assert_eq!(client.done().platform_calls_after_done, 0);
}

/// Issue 12, items 13, 15, 16: the token's `channels` claim (a server-side subscription) is reported and is not
/// refused when subscribed again (error 105); data keeps its bytes; History pages with since/reverse; the API
/// unsubscribes and disconnects a dismissed operator.
#[test]
fn server_side_channels_history_paging_and_logging_out_an_operator() {
    let Some(server) = start_server("25s") else {
        return;
    };
    let host = Host::load_default();
    let api = publisher(&host, &server, "modern");
    let client = host.create("Centrifugo");
    let token = tb_centrifugo::jwt::connection_token(
        "olga",
        HMAC_SECRET,
        3600,
        r#"{"channels":["personal-olga"]}"#,
        unix_now(),
    )
    .unwrap();
    client
        .call_proc(
            "Подключиться",
            &[server.ws_url().as_str().into(), token.into()],
        )
        .unwrap();
    let subscribed = client
        .wait_event(Duration::from_secs(10), |e| {
            e.name == "Subscribed" && data(e)["channel"] == "personal-olga"
        })
        .unwrap_or_else(|| panic!("server-side Subscribed: {:?}", client.take_events()));
    assert_eq!(data(&subscribed)["recoverable"], true);
    // Subscribing the same channel from 1C is answered 105 "already subscribed": that is success.
    client
        .call_proc("Подписаться", &["personal-olga".into()])
        .unwrap();
    let again = client
        .wait_event(Duration::from_secs(10), |e| {
            matches!(e.name.as_str(), "Subscribed" | "Unsubscribed" | "Error")
        })
        .unwrap_or_else(|| panic!("{:?}", client.take_events()));
    assert_eq!(again.name, "Subscribed", "{:?}", again.data);

    // Bytes as sent: key order, a number beyond u64, a decimal's trailing zero.
    let payload =
        r#"{"zeta":1,"alpha":{"y":2,"b":3},"big":123456789012345678901234567890,"price":10.50}"#;
    publish(&api, "personal-olga", payload);
    let event = wait_named(&client, "Publication", Duration::from_secs(5)).expect("Publication");
    assert!(event.data.contains(payload), "{}", event.data);
    assert!(
        client.take_events().iter().all(|e| e.name != "Publication"),
        "delivered once"
    );
    for n in 2..=4 {
        publish(&api, "personal-olga", &json!({"n": n}).to_string());
    }
    let first: Value = serde_json::from_str(
        api.call("History", &["personal-olga".into(), Val::Int(1)])
            .unwrap()
            .str(),
    )
    .unwrap();
    let epoch = first["epoch"].as_str().unwrap().to_string();
    let offset_of = |history: &Value| -> Vec<u64> {
        history["publications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["offset"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(offset_of(&first), vec![1]);
    let history = api
        .call(
            "История",
            &[
                "personal-olga".into(),
                Val::Int(10),
                Val::Int(2),
                epoch.as_str().into(),
                Val::Bool(false),
            ],
        )
        .unwrap();
    let history: Value = serde_json::from_str(history.str()).unwrap();
    assert_eq!(offset_of(&history), vec![3, 4], "since offset 2");
    let history = api
        .call(
            "History",
            &[
                "personal-olga".into(),
                Val::Int(2),
                Val::Int(0),
                "".into(),
                Val::Bool(true),
            ],
        )
        .unwrap();
    let history: Value = serde_json::from_str(history.str()).unwrap();
    assert_eq!(offset_of(&history), vec![4, 3], "newest first");
    assert!(api
        .call(
            "History",
            &[
                "personal-olga".into(),
                Val::Int(0),
                Val::Int(2),
                "no-such-epoch".into()
            ]
        )
        .is_err());

    // A dismissed operator: unsubscribed, then disconnected for good.
    client.take_events();
    api.call(
        "ОтписатьПользователя",
        &["olga".into(), "personal-olga".into()],
    )
    .unwrap();
    let unsubscribed = wait_named(&client, "Unsubscribed", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("{:?}", client.take_events()));
    assert_eq!(data(&unsubscribed)["channel"], "personal-olga");
    api.call(
        "RefreshUser",
        &[
            "olga".into(),
            "".into(),
            Val::Num((unix_now() + 3600) as f64),
        ],
    )
    .unwrap();
    api.call(
        "DisconnectUser",
        &["olga".into(), "".into(), Val::Int(4503), "dismissed".into()],
    )
    .unwrap();
    let disconnected = wait_named(&client, "Disconnected", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("{:?}", client.take_events()));
    let disconnected = data(&disconnected);
    assert_eq!(disconnected["code"], 4503);
    assert_eq!(disconnected["reason"], "dismissed");
    assert_eq!(disconnected["reconnect"], false);
    assert!(
        api.call("DisconnectUser", &["".into()]).is_err(),
        "a user is required"
    );
}

/// Issue 12, item 12: Redis loses the stream (FLUSHALL) under a connected subscriber; the new stream starts again
/// at offset 1 and its publications must arrive — never be dropped as "already seen" — or the loss be reported.
#[test]
fn a_flushed_redis_stream_keeps_delivering() {
    use std::io::{Read, Write};
    let Some(centrifugo) = require("centrifugo") else {
        return;
    };
    let Some(redis_binary) = require("redis-server") else {
        return;
    };
    let redis = RedisServer::start(&redis_binary);
    let mut config = base_config(free_port(), "25s");
    config["engine"] = json!({"type": "redis", "redis": {"address": [format!("redis://127.0.0.1:{}", redis.port)]}});
    let server = CentrifugoServer::start(&centrifugo, config);
    let host = Host::load_default();
    let api = publisher(&host, &server, "modern");
    let client = connect_client(&host, &server.ws_url(), "nina");
    subscribe(&client, "reset-stream");
    for n in 1..=3 {
        publish(&api, "reset-stream", &json!({"n": n}).to_string());
    }
    assert_eq!(
        collect_numbers(&client, 3, Duration::from_secs(5)),
        vec![1, 2, 3]
    );

    let mut redis_link = std::net::TcpStream::connect(("127.0.0.1", redis.port)).unwrap();
    redis_link.write_all(b"*1\r\n$8\r\nFLUSHALL\r\n").unwrap();
    let mut reply = [0u8; 5];
    redis_link.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"+OK\r\n");

    let first = publish(&api, "reset-stream", &json!({"n": 101}).to_string());
    assert_eq!(first["offset"], 1, "the stream started again: {first}");
    for n in 102..=103 {
        publish(&api, "reset-stream", &json!({"n": n}).to_string());
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut numbers = Vec::new();
    let mut loss_reported = false;
    while numbers.len() < 3 && Instant::now() < deadline {
        for event in client.take_events() {
            let value = data(&event);
            match event.name.as_str() {
                "Publication" => numbers.extend(value["data"]["n"].as_u64()),
                "Subscribed" if value["was_recovering"] == true && value["recovered"] == false => {
                    loss_reported = true
                }
                _ => {}
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("after the reset: {numbers:?}, loss reported: {loss_reported}");
    if numbers == vec![101, 102, 103] {
        return;
    }
    // Centrifugo noticed the lost stream and made the client resubscribe: what was published meanwhile is gone
    // (the new epoch cannot be recovered), which must be reported — and the stream must go on delivering.
    assert!(
        loss_reported,
        "publications after the reset: {numbers:?}, and no loss was reported"
    );
    publish(&api, "reset-stream", &json!({"n": 104}).to_string());
    let later = collect_numbers(&client, 1, Duration::from_secs(10));
    assert_eq!(
        later,
        vec![104],
        "the stream delivers again after the reported loss"
    );
}

#[test]
fn an_oversized_publication_is_an_error_and_the_client_reconnects_and_carries_on() {
    let Some(binary) = require("centrifugo") else {
        return;
    };
    let mut config = base_config(free_port(), "25s");
    // No history here: this is the live path; the recoverable case is the next test.
    config["channel"]["without_namespace"] = json!({"allow_subscribe_for_client": true});
    // Centrifugo itself drops a client whose outgoing queue passes 1 MiB ("slow", 3008) — often before the big
    // message is written at all; here the server must really send it.
    config["client"]["queue_max_size"] = json!(16 * 1024 * 1024);
    let server = CentrifugoServer::start(&binary, config);
    let host = Host::load_default();
    let api = publisher(&host, &server, "modern");
    let client = connect_client(&host, &server.ws_url(), "alice");
    assert_eq!(client.get("MaxMessageSize").unwrap(), Val::Num(1_048_576.0));
    subscribe(&client, "big");
    // A second client has raised the limit: the same publication reaches it whole.
    let roomy = host.create("Centrifugo");
    roomy.set("МаксимальныйРазмерСообщения", 4_194_304).unwrap();
    roomy
        .call_proc(
            "Connect",
            &[server.ws_url().as_str().into(), token("bob").into()],
        )
        .unwrap();
    wait_named(&roomy, "Connected", Duration::from_secs(10)).expect("Connected");
    subscribe(&roomy, "big");
    assert!(roomy.set("MaxMessageSize", 1000).is_err(), "below 64 KiB");

    let pad = "x".repeat(2 * 1024 * 1024);
    publish(&api, "big", &json!({"n": 1, "pad": pad}).to_string());
    let error = wait_named(&client, "Error", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no Error; events: {:?}", names(client.take_events())));
    let error = data(&error);
    assert_eq!(error["type"], "transport");
    assert_eq!(error["code"], 1009);
    assert!(
        error["message"].as_str().unwrap().contains("1048576"),
        "{error}"
    );
    let big = wait_named(&roomy, "Publication", Duration::from_secs(10)).expect("roomy got it");
    assert_eq!(
        data(&big)["data"]["pad"].as_str().map(str::len),
        Some(pad.len())
    );

    // The first client reconnects by itself, resubscribes and receives what follows.
    wait_named(&client, "Connected", Duration::from_secs(20))
        .unwrap_or_else(|| panic!("reconnect: {:?}", names(client.take_events())));
    client
        .wait_event(Duration::from_secs(10), |e| {
            e.name == "Subscribed" && data(e)["channel"] == "big"
        })
        .expect("resubscribed");
    publish(&api, "big", r#"{"n":2}"#);
    assert_eq!(
        collect_numbers(&client, 1, Duration::from_secs(10)),
        vec![2]
    );
    assert_eq!(client.get("Подключено").unwrap(), Val::Bool(true));
}

/// Issue 16: a publication over MaxMessageSize in a channel with history used to come back with every recovery,
/// end the link again and silence the channel until the history expired. It is skipped now: the position moves
/// past it, the loss is reported once (`Subscribed`, `was_recovering = true`, `recovered = false`), and what was
/// published after it arrives.
#[test]
fn an_oversized_publication_in_a_recoverable_channel_is_skipped_and_delivery_goes_on() {
    let Some(binary) = require("centrifugo") else {
        return;
    };
    let mut config = base_config(free_port(), "25s");
    // Let the server really write the big message (its own 1 MiB queue limit would end the link with 3008 first).
    config["client"]["queue_max_size"] = json!(16 * 1024 * 1024);
    let server = CentrifugoServer::start(&binary, config);
    let host = Host::load_default();
    let api = publisher(&host, &server, "modern");
    let client = connect_client(&host, &server.ws_url(), "alice");
    let subscribed = subscribe(&client, "history-big");
    assert_eq!(subscribed["recoverable"], true, "{subscribed}");
    publish(&api, "history-big", r#"{"n":1}"#);
    assert_eq!(collect_numbers(&client, 1, Duration::from_secs(5)), vec![1]);

    let pad = "x".repeat(3 * 1024 * 1024);
    let big = publish(
        &api,
        "history-big",
        &json!({"n": 2, "pad": pad}).to_string(),
    );
    std::thread::sleep(Duration::from_millis(500));
    publish(&api, "history-big", r#"{"n":3}"#);

    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut numbers, mut losses, mut oversized) = (Vec::new(), Vec::new(), 0);
    while numbers.is_empty() && Instant::now() < deadline {
        for event in client.take_events() {
            let value = data(&event);
            match event.name.as_str() {
                "Publication" => numbers.extend(value["data"]["n"].as_u64()),
                "Subscribed" if value["was_recovering"] == true && value["recovered"] == false => {
                    losses.push(value)
                }
                "Error" if value["code"] == 1009 => oversized += 1,
                _ => {}
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        numbers,
        vec![3],
        "the publication after the big one (offset {}) must arrive; 1009 errors: {oversized}",
        big["offset"]
    );
    assert!(oversized >= 1, "the big publication was reported");
    assert_eq!(losses.len(), 1, "the loss is reported once: {losses:?}");
    assert_eq!(losses[0]["channel"], "history-big");

    // No loop: the link stays up, the next publication arrives, no second loss is reported.
    publish(&api, "history-big", r#"{"n":4}"#);
    assert_eq!(collect_numbers(&client, 1, Duration::from_secs(5)), vec![4]);
    std::thread::sleep(Duration::from_secs(2));
    let later = names(client.take_events());
    assert!(
        !later
            .iter()
            .any(|n| n == "Disconnected" || n == "Subscribed"),
        "the client settled: {later:?}"
    );
    assert_eq!(client.get("Подключено").unwrap(), Val::Bool(true));
}

/// Issue 16 (centrifuge-dart PR 160): a server that answers the connect command with something that is not the
/// protocol (a proxy's page) is left at once and tried again after the reconnect backoff (0.5–1 s), not after the
/// 10 s command timeout. A plain WebSocket server here: it takes each connection, reads the connect command and
/// answers with HTML.
#[test]
fn non_protocol_data_while_connecting_reconnects_without_waiting_for_the_timeout() {
    use std::sync::{Arc, Mutex};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let seen = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(3) {
            let Ok(stream) = stream else { return };
            seen.lock().unwrap().push(Instant::now());
            std::thread::spawn(move || {
                let Ok(mut ws) = tungstenite::accept(stream) else {
                    return;
                };
                if ws.read().is_ok() {
                    let _ = ws.send(tungstenite::Message::text("<html>502 Bad Gateway</html>"));
                }
                while ws.read().is_ok() {}
            });
        }
    });
    let host = Host::load_default();
    let client = host.create("Centrifugo");
    client
        .call_proc(
            "Connect",
            &[
                format!("ws://127.0.0.1:{port}/connection/websocket").into(),
                "".into(),
            ],
        )
        .unwrap();
    let error = wait_named(&client, "Error", Duration::from_secs(10)).expect("an Error event");
    assert_eq!(data(&error)["type"], "protocol", "{}", error.data);
    let deadline = Instant::now() + Duration::from_secs(8);
    while accepted.lock().unwrap().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let times = accepted.lock().unwrap().clone();
    assert!(times.len() >= 2, "no second attempt within 8 s");
    let gap = times[1] - times[0];
    assert!(
        gap < Duration::from_secs(3),
        "the second attempt came {gap:?} after the first (the backoff is 0.5–1 s)"
    );
    assert_eq!(client.get("State").unwrap(), Val::from("connecting"));
    let events = names(client.take_events());
    assert!(!events.iter().any(|n| n == "Connected"), "{events:?}");
}

#[test]
fn localhost_reaches_a_server_bound_to_127_0_0_1_only() {
    // The name goes through the resolver thread and every address it gives is tried in turn (where `localhost`
    // is ::1 first, the IPv6 attempt is refused and 127.0.0.1 follows; the unit tests of ws_link force that order).
    let Some(server) = start_server("25s") else {
        return;
    };
    let host = Host::load_default();
    let url = server.ws_url().replace("127.0.0.1", "localhost");
    let client = connect_client(&host, &url, "alice");
    subscribe(&client, "news");
    let diagnostics: Value =
        serde_json::from_str(client.call("Diagnostics", &[]).unwrap().str()).unwrap();
    assert_eq!(diagnostics["state"]["client"]["last_transport_error"], "");
}

/// Event names only: a payload may be megabytes.
fn names(events: Vec<Event>) -> Vec<String> {
    events.into_iter().map(|e| e.name).collect()
}
