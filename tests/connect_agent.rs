//! ConnectAgent through the real built library and the test host, against the scripted agent of
//! `tests/support/agent_emulator.rs` (the wire format: UTF-16LE length-prefixed events out, UTF-8 commands in,
//! CommandResult with the documented error strings).

#[path = "support/agent_emulator.rs"]
mod emulator;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use emulator::{agent_io, command_result, frame, socket_path, Agent, Received, WAIT};

use addin_host::{Event, Host, Mode, Object, Val};
use serde_json::Value;

// ----- helpers on the 1C side -------------------------------------------------------------------------------------

fn data(event: &Event) -> Value {
    serde_json::from_str(&event.data)
        .unwrap_or_else(|e| panic!("event data is JSON: {e}: {}", event.data))
}

fn wait_named(object: &Object<'_>, name: &str) -> Value {
    let event = object
        .wait_event(WAIT, |e| e.name == name)
        .unwrap_or_else(|| panic!("no {name} event; got {:?}", object.take_events()));
    assert_eq!(event.source, "TelephonyBridge.ConnectAgent");
    data(&event)
}

fn wait_where(object: &Object<'_>, name: &str, predicate: impl Fn(&Value) -> bool) -> Value {
    let event = object
        .wait_event(WAIT, |e| e.name == name && predicate(&data(e)))
        .unwrap_or_else(|| panic!("no matching {name} event; got {:?}", object.take_events()));
    data(&event)
}

fn result_for(object: &Object<'_>, id: &str) -> Value {
    wait_where(object, "CommandResult", |d| d["ID"] == id)
}

fn connected<'h>(host: &'h Host, agent: &Agent, locale: &str) -> Object<'h> {
    let object = host.create_with("ConnectAgent", Mode::Client, locale);
    object
        .set("PipeAddress", agent.path.to_str().unwrap())
        .unwrap();
    let opened = object
        .call("ConnectToAgent", &[Val::from("operator")])
        .unwrap();
    assert_eq!(opened, Val::Bool(true));
    wait_named(&object, "Connected");
    agent.wait_connections(agent.connections().max(1));
    object
}

fn string(val: Val) -> String {
    match val {
        Val::Str(s) => s,
        other => panic!("expected a string, got {other:?}"),
    }
}

// ----- tests -----------------------------------------------------------------------------------------------------

struct Names {
    connect: &'static str,
    close: &'static str,
    status: &'static str,
    call: &'static str,
    send: &'static str,
    subscribe: &'static str,
    unsubscribe: &'static str,
    connected: &'static str,
    login: &'static str,
    address: &'static str,
    timeout: &'static str,
    reconnect: &'static str,
    /// (subscribe, unsubscribe) of the driver methods: status, softphone, colleagues, clients, all.
    driver: [(&'static str, &'static str); 5],
}

const EN: Names = Names {
    connect: "ConnectToAgent",
    close: "CloseConnectToAgent",
    status: "ChangeOnlineStatus",
    call: "Call_Softphone",
    send: "SendMessage",
    subscribe: "SubscribeToEvents",
    unsubscribe: "UnSubscribeFromEvents",
    connected: "Connected",
    login: "Login",
    address: "PipeAddress",
    timeout: "CommandTimeout",
    reconnect: "AutoReconnect",
    driver: [
        (
            "SubscribeToEvents_OnlineStatus",
            "UnSubscribeFromEvents_OnlineStatus",
        ),
        (
            "SubscribeToEvents_Softphone",
            "UnSubscribeToEvents_Softphone",
        ),
        (
            "SubscribeToEvents_ColleaguesCall",
            "UnSubscribeFromEvents_ColleaguesCall",
        ),
        (
            "SubscribeToEvents_ClientsCall",
            "UnSubscribeFromEvents_ClientsCall",
        ),
        ("SubscribeToEvents_AllCall", "UnSubscribeFromEvents_AllCall"),
    ],
};

const RU: Names = Names {
    connect: "ПодключитьсяКАгенту",
    close: "ЗакрытьПодключение",
    status: "УстановитьОнлайнСтатус",
    call: "ПозвонитьВ_Софтфон",
    send: "ОтправитьСообщение",
    subscribe: "ПодписатьсяНаСобытия",
    unsubscribe: "ОтписатьсяОтСобытий",
    connected: "Подключено",
    login: "Логин",
    address: "АдресКанала",
    timeout: "ТаймаутКоманды",
    reconnect: "АвтоПереподключение",
    driver: [
        (
            "ПодписатьсяНаСобытия_ПолучениеСтатуса",
            "ОтписатьсяОтСобытий_ПолучениеСтатуса",
        ),
        (
            "ПодписатьсяНаСобытия_Софтфон",
            "ОтписатьсяОтСобытий_Софтфон",
        ),
        (
            "ПодписатьсяНаСобытия_ЗвонокВКоллегах",
            "ОтписатьсяОтСобытий_ЗвонокВКоллегах",
        ),
        (
            "ПодписатьсяНаСобытия_ЗвонокВКлиентах",
            "ОтписатьсяОтСобытий_ЗвонокВКлиентах",
        ),
        ("ПодписатьсяНаСобытия_Звонок", "ОтписатьсяОтСобытий_Звонок"),
    ],
};

/// (Mode, Object, Initiator) of each command a driver method sends.
fn driver_keys(index: usize) -> Vec<(&'static str, &'static str, &'static str)> {
    let call = |mode| vec![(mode, "Call", "Incoming"), (mode, "Call", "Self")];
    match index {
        0 => vec![("ServicesClients", "AgentOnlineStatus", "Self")],
        1 => call("Softphone"),
        2 => call("Colleagues"),
        3 => call("ServicesClients"),
        _ => [
            call("Softphone"),
            call("Colleagues"),
            call("ServicesClients"),
        ]
        .concat(),
    }
}

fn keys_of(commands: &[Received]) -> Vec<(String, String, String)> {
    commands
        .iter()
        .map(|c| {
            (
                c.attr("Mode").to_string(),
                c.attr("Object").to_string(),
                c.attr("Initiator").to_string(),
            )
        })
        .collect()
}

fn owned(keys: Vec<(&str, &str, &str)>) -> Vec<(String, String, String)> {
    keys.into_iter()
        .map(|(a, b, c)| (a.into(), b.into(), c.into()))
        .collect()
}

fn every_method(names: &Names, locale: &str) {
    let host = Host::load_default();
    let agent = Agent::start(&socket_path());
    let object = host.create_with("ConnectAgent", Mode::Client, locale);
    assert_eq!(object.get(names.reconnect).unwrap(), Val::Bool(true));
    assert_eq!(object.get(names.timeout).unwrap(), Val::Num(10_000.0));
    assert_eq!(object.get(names.connected).unwrap(), Val::Bool(false));
    object
        .set(names.address, agent.path.to_str().unwrap())
        .unwrap();
    object.set(names.timeout, 5000).unwrap();
    assert_eq!(object.get(names.timeout).unwrap(), Val::Num(5000.0));
    let started = Instant::now();
    assert_eq!(
        object
            .call(names.connect, &[Val::from("оператор")])
            .unwrap(),
        Val::Bool(true)
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(object.get(names.login).unwrap(), Val::from("оператор"));
    assert_eq!(
        object.get(names.address).unwrap(),
        Val::from(agent.path.to_str().unwrap())
    );
    let connected = wait_named(&object, "Connected");
    assert_eq!(connected["Reconnect"], false);
    assert_eq!(object.get(names.connected).unwrap(), Val::Bool(true));

    // Driver subscriptions: what each sends, and that the returned ID is the first command's.
    for (index, (subscribe, unsubscribe)) in names.driver.iter().enumerate() {
        for (method, action) in [
            (subscribe, "EventSubscribe"),
            (unsubscribe, "EventUnSubscribe"),
        ] {
            let expected = driver_keys(index);
            let total = agent.with_state(|s| s.received.len()) + expected.len();
            let id = string(object.call(method, &[]).unwrap());
            let commands: Vec<Received> =
                agent.wait_commands(total).split_off(total - expected.len());
            assert!(
                commands
                    .iter()
                    .all(|c| c.action == action && c.connection == 1),
                "{method}: {commands:?}"
            );
            assert_eq!(keys_of(&commands), owned(expected), "{method}");
            assert_eq!(commands[0].id, id, "{method}");
            for command in &commands {
                let result = result_for(&object, &command.id);
                assert_eq!(result["RequestID"], id.as_str());
                assert_eq!(result["Action"], action);
                assert_eq!(result["Success"], true);
                assert_eq!(result["Matched"], true);
            }
        }
    }
    // The Softphone unsubscribe also answers to the corrected spelling.
    string(object.call("UnSubscribeFromEvents_Softphone", &[]).unwrap());

    // Status, with a given and a generated UUID.
    let given = "0b5a3f0e-1111-4a4a-8b8b-000000000001";
    assert_eq!(
        string(
            object
                .call(names.status, &[Val::from(given), Val::from("away")])
                .unwrap()
        ),
        given
    );
    let generated = string(
        object
            .call(names.status, &[Val::from(""), Val::from("Online")])
            .unwrap(),
    );
    assert_eq!(generated.len(), 36);
    assert_eq!(result_for(&object, given)["Action"], "ChangeMyOnlineStatus");
    result_for(&object, &generated);
    let sent = agent.take_commands();
    let status = sent.iter().find(|c| c.id == given).unwrap();
    assert_eq!(status.child("Status").as_deref(), Some("Away"));

    // The softphone call (unverified wire form) and chat messages in both modes, Cyrillic text included.
    let call_id = string(
        object
            .call(names.call, &[Val::from(""), Val::from("+7 495 123-45-67")])
            .unwrap(),
    );
    let to_client = string(
        object
            .call(
                names.send,
                &[
                    Val::from(""),
                    Val::from("ServicesClients"),
                    Val::from(r#"{"ClientID":"c1","UserID":"u1","ServiceID":"s1"}"#),
                    Val::from("Добрый день! <b>&</b>"),
                ],
            )
            .unwrap(),
    );
    let to_colleague = string(
        object
            .call(
                names.send,
                &[
                    Val::from("m-2"),
                    Val::from("Colleagues"),
                    Val::from(r#"{"ColleagueID":"k1"}"#),
                    Val::from("Привет"),
                ],
            )
            .unwrap(),
    );
    assert_eq!(to_colleague, "m-2");
    for id in [&call_id, &to_client, &to_colleague] {
        result_for(&object, id);
    }
    let sent = agent.take_commands();
    let call = sent.iter().find(|c| c.id == call_id).unwrap();
    assert_eq!(
        (call.action.as_str(), call.attr("Mode")),
        ("Call", "Softphone")
    );
    assert_eq!(call.child("CallTo").as_deref(), Some("+7 495 123-45-67"));
    let message = sent.iter().find(|c| c.id == to_client).unwrap();
    assert_eq!(message.attr("Mode"), "ServicesClients");
    assert_eq!(message.child("ClientID").as_deref(), Some("c1"));
    assert_eq!(message.child("UserID").as_deref(), Some("u1"));
    assert_eq!(message.child("ServiceID").as_deref(), Some("s1"));
    assert_eq!(
        message.child("MessageBody").as_deref(),
        Some("Добрый день! &lt;b&gt;&amp;&lt;/b&gt;")
    );
    let colleague = sent.iter().find(|c| c.id == "m-2").unwrap();
    assert_eq!(colleague.child("ColleagueID").as_deref(), Some("k1"));

    // Bad parameters raise an exception with a clear text and send nothing.
    let error = object
        .call(
            names.send,
            &[
                Val::from(""),
                Val::from("Colleagues"),
                Val::from("{}"),
                Val::from("x"),
            ],
        )
        .unwrap_err();
    assert!(
        error.message().contains("ColleagueID"),
        "{}",
        error.message()
    );
    assert!(object
        .call(names.call, &[Val::from(""), Val::from(" ")])
        .is_err());
    assert!(object
        .call(names.status, &[Val::from(""), Val::from("")])
        .is_err());
    assert!(object.set(names.timeout, 0).is_err());

    // The general subscription: one Initiator, or both when it is left out.
    let one = string(
        object
            .call(
                names.subscribe,
                &[
                    Val::from("colleagues"),
                    Val::from("message"),
                    Val::from("incoming"),
                ],
            )
            .unwrap(),
    );
    let both = string(
        object
            .call(
                names.subscribe,
                &[Val::from("ServicesClients"), Val::from("Treatment")],
            )
            .unwrap(),
    );
    let off = string(
        object
            .call(
                names.unsubscribe,
                &[
                    Val::from("Colleagues"),
                    Val::from("Message"),
                    Val::from("Incoming"),
                ],
            )
            .unwrap(),
    );
    let sent = agent.wait_commands(4);
    assert_eq!(
        keys_of(&sent),
        owned(vec![
            ("Colleagues", "Message", "Incoming"),
            ("ServicesClients", "Treatment", "Incoming"),
            ("ServicesClients", "Treatment", "Self"),
            ("Colleagues", "Message", "Incoming"),
        ])
    );
    assert_eq!(
        (
            sent[0].id.as_str(),
            sent[1].id.as_str(),
            sent[3].id.as_str()
        ),
        (one.as_str(), both.as_str(), off.as_str())
    );
    assert_eq!(sent[3].action, "EventUnSubscribe");
    assert!(object
        .call(names.subscribe, &[Val::from(""), Val::from("Call")])
        .is_err());

    // The worker publishes its diagnostics right after writing, so the agent may be a moment ahead.
    let deadline = Instant::now() + WAIT;
    loop {
        let diagnostics: Value =
            serde_json::from_str(object.call("Diagnostics", &[]).unwrap().str()).unwrap();
        let state = &diagnostics["state"];
        if state["state"] == "Open" && state["subscriptions"].as_array().map(Vec::len) == Some(2) {
            break;
        }
        assert!(Instant::now() < deadline, "diagnostics: {diagnostics}");
        std::thread::sleep(Duration::from_millis(5));
    }

    object.call_proc(names.close, &[]).unwrap();
    let disconnected = wait_named(&object, "Disconnected");
    assert_eq!(disconnected["Reason"], "ClosedByUser");
    assert_eq!(disconnected["WillReconnect"], false);
    assert_eq!(object.get(names.connected).unwrap(), Val::Bool(false));
    assert_eq!(object.done().platform_calls_after_done, 0);
}

#[test]
fn every_method_in_english() {
    every_method(&EN, "en_US");
}

#[test]
fn every_method_in_russian() {
    every_method(&RU, "ru_RU");
}

#[test]
fn every_event_kind_reaches_1c_with_all_fields() {
    let host = Host::load_default();
    let agent = Agent::start(&socket_path());
    let object = connected(&host, &agent, "ru_RU");
    agent.send_event(r#"<Event Time="2024-05-14 10:00:00" Mode="ServicesClients" Object="AgentOnlineStatus" Initiator="Self"><Status>DoNotDisturb</Status></Event>"#);
    agent.send_event(
        "<Event Time=\"2015-03-25 12:00:00\" Mode=\"ServicesClients\" Object=\"Message\" Initiator=\"self\">\n<State=\"Finished\">\n<MessageID>74237de05537513cf8d6aae0c9499378</MessageID>\n<ClientID>531ef6c7-deb8-11e0-ad02-000c2926d843</ClientID>\n<UserID>531ef6c7-deb8-11e0-ad02-000c2926d843</UserID>\n<ServiceID>c72c935f-b9e9-11e0-8fc5-000c2926d843</ServiceID>\n<AuthorID>74237de05537513cf8d6aae0c9499378</AuthorID>\n<MessageBody>привет </MessageBody>\n<Sended>2012-09-14T00:00:00</Sended>\n<SpecialistID>sp-1</SpecialistID>\n</Event>",
    );
    agent.send_event(r#"<Event Time="2024-05-14 10:03:12" Mode="Softphone" Object="Call" Initiator="Incoming" ID="cmd-7"><State>Finished</State><CallID>call-1</CallID><CallFrom>+74951234567</CallFrom><CallTo>user-1</CallTo><StartTime>2024-05-14 10:00:00</StartTime><AcceptTime>2024-05-14 10:00:07</AcceptTime><EndTime>2024-05-14 10:03:12</EndTime><Duration>192</Duration><BillSec>185</BillSec><CallResult>Success</CallResult></Event>"#);
    agent.send_event(r#"<Event Time="t" Mode="ServicesClients" Object="RemoteAccessSession" Initiator="Incoming"><State>Finished</State><SessionID>ras-1</SessionID><AuthorID>a1</AuthorID><EndTime>e</EndTime><Duration>60</Duration><UploadedFiles><File Name="отчёт.xlsx" SourceDir="C:\in" DestinDir="D:\out" Size="1024" StartTime="s1" Duration="3"/></UploadedFiles><DownloadedFiles><File Name="a.log" SourceDir="x" DestinDir="y" Size="5" StartTime="s2" Duration="1"/><File Name="b.log" SourceDir="x" DestinDir="y" Size="6" StartTime="s3" Duration="1"/></DownloadedFiles></Event>"#);
    agent.send_event(r#"<Event Time="t" Mode="ServicesClients" Object="Treatment" Initiator="Incoming"><State>Comments</State><TreatmentID>tr-1</TreatmentID><Comments><Comment AuthorID="u1" DateTime="2024-05-14T10:00:00">Спасибо, всё решили</Comment></Comments></Event>"#);

    let status = wait_named(&object, "AgentOnlineStatus");
    assert_eq!(status["Status"], "DoNotDisturb");
    assert_eq!(status["Mode"], "ServicesClients");
    let message = wait_named(&object, "Message");
    assert_eq!(message["Initiator"], "Self");
    assert_eq!(message["State"], "Finished");
    assert_eq!(message["MessageBody"], "привет ");
    assert_eq!(message["SpecialistID"], "sp-1");
    assert_eq!(message["Time"], "2015-03-25 12:00:00");
    let call = wait_named(&object, "Call");
    assert_eq!(call["ID"], "cmd-7");
    assert_eq!(call["CallResult"], "Success");
    assert_eq!(call["BillSec"], "185");
    assert_eq!(
        call["Normalized"]["call_id"], "call-1",
        "the shared call model: {call}"
    );
    let session = wait_named(&object, "RemoteAccessSession");
    assert_eq!(session["UploadedFiles"][0]["Name"], "отчёт.xlsx");
    assert_eq!(session["UploadedFiles"][0]["Size"], "1024");
    assert_eq!(session["DownloadedFiles"].as_array().unwrap().len(), 2);
    let treatment = wait_named(&object, "Treatment");
    assert_eq!(treatment["Comments"][0]["AuthorID"], "u1");
    assert_eq!(treatment["Comments"][0]["DateTime"], "2024-05-14T10:00:00");
    assert_eq!(treatment["Comments"][0]["Text"], "Спасибо, всё решили");
    assert_eq!(object.done().platform_calls_after_done, 0);
}

#[test]
fn split_and_coalesced_frames() {
    let host = Host::load_default();
    let agent = Agent::start(&socket_path());
    let object = connected(&host, &agent, "ru_RU");
    let events: Vec<String> = (0..5)
        .map(|i| format!(r#"<Event Object="Message" Mode="Colleagues" Initiator="Incoming"><MessageBody>сообщение №{i} 😀</MessageBody></Event>"#))
        .collect();
    let coalesced: Vec<u8> = events.iter().flat_map(|e| frame(e)).collect();
    agent.write(&coalesced);
    // Then the same stream one byte at a time, in odd-sized bursts.
    for chunk in coalesced.chunks(7) {
        agent.write(chunk);
        std::thread::sleep(Duration::from_micros(200));
    }
    let received = object.wait_events(10, WAIT);
    let bodies: Vec<String> = received
        .iter()
        .filter(|e| e.name == "Message")
        .map(|e| data(e)["MessageBody"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..2)
        .flat_map(|_| (0..5).map(|i| format!("сообщение №{i} 😀")))
        .collect();
    assert_eq!(bodies, expected);
    assert_eq!(object.done().platform_calls_after_done, 0);
}

#[test]
fn bad_messages_are_reported_and_the_connection_survives_or_reconnects() {
    let host = Host::load_default();
    let agent = Agent::start(&socket_path());
    let object = connected(&host, &agent, "ru_RU");
    let ok = |n: usize| {
        format!(
            r#"<Event Object="Call" Mode="Softphone" Initiator="Incoming"><State>Started</State><CallID>c{n}</CallID></Event>"#
        )
    };

    // Malformed XML: an Error event with the place, then the stream goes on.
    agent.send_event("<Event Object=\"Call\"><CallID>x</Event>");
    let error = wait_named(&object, "Error");
    assert_eq!(error["Code"], "MalformedXml");
    assert_eq!(error["Frame"], 1);
    assert!(
        error["Description"]
            .as_str()
            .unwrap()
            .contains("не является корректным XML"),
        "{error}"
    );
    agent.send_event(&ok(1));
    assert_eq!(wait_named(&object, "Call")["CallID"], "c1");

    // Oversize (above the 1 MiB cap): reported, skipped, stream goes on.
    let huge = format!(
        "<Event Object=\"Message\"><MessageBody>{}</MessageBody></Event>",
        "я".repeat(600_000)
    );
    agent.send_event(&huge);
    agent.send_event(&ok(2));
    let error = wait_named(&object, "Error");
    assert_eq!(error["Code"], "FrameTooLarge");
    assert_eq!(wait_named(&object, "Call")["CallID"], "c2");
    assert_eq!(agent.connections(), 1, "still the same connection");

    // A truncated frame when the agent drops the connection: reported, then a reconnect.
    let partial = frame(&ok(3));
    agent.write(&partial[..partial.len() / 2]);
    std::thread::sleep(Duration::from_millis(50));
    agent.drop_connection();
    assert_eq!(wait_named(&object, "Error")["Code"], "TruncatedFrame");
    let disconnected = wait_named(&object, "Disconnected");
    assert_eq!(disconnected["Reason"], "ClosedByAgent");
    assert_eq!(disconnected["WillReconnect"], true);
    assert_eq!(wait_named(&object, "Connected")["Reconnect"], true);
    agent.wait_connections(2);

    // Garbage that breaks the framing: Error, the add-in drops the link and reconnects by itself.
    agent.write(b"\x10\x00\x00\x00GET / HTTP/1.1\r\n");
    assert_eq!(wait_named(&object, "Error")["Code"], "Desynchronized");
    assert_eq!(
        wait_named(&object, "Disconnected")["Reason"],
        "Desynchronized"
    );
    wait_named(&object, "Connected");
    agent.wait_connections(3);
    agent.send_event(&ok(4));
    assert_eq!(wait_named(&object, "Call")["CallID"], "c4");
    assert_eq!(object.done().platform_calls_after_done, 0);
}

#[test]
fn agent_restart_reconnects_restores_subscriptions_and_loses_no_events() {
    let host = Host::load_default();
    let path = socket_path();
    let agent = Agent::start(&path);
    let object = connected(&host, &agent, "ru_RU");
    let all = string(object.call("SubscribeToEvents_AllCall", &[]).unwrap());
    let status = string(object.call("SubscribeToEvents_OnlineStatus", &[]).unwrap());
    let first = agent.wait_commands(7);
    let first_ids: Vec<String> = first.iter().map(|c| c.id.clone()).collect();
    assert_eq!(first_ids[0], all);
    assert_eq!(first_ids[6], status);

    agent.stop();
    let disconnected = wait_named(&object, "Disconnected");
    assert_eq!(disconnected["WillReconnect"], true);
    assert_eq!(object.get("Connected").unwrap(), Val::Bool(false));
    // While the agent is down, a new subscription is remembered.
    let later = string(
        object
            .call(
                "ПодписатьсяНаСобытия",
                &[
                    Val::from("Colleagues"),
                    Val::from("Message"),
                    Val::from("Incoming"),
                ],
            )
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(700));

    let agent = Agent::start(&path);
    let connected = wait_named(&object, "Connected");
    assert_eq!(connected["Reconnect"], true);
    assert_eq!(connected["Resubscribed"], 8);
    let resent = agent.wait_commands(8);
    assert!(resent.iter().all(|c| c.action == "EventSubscribe"));
    let mut resent_ids: Vec<String> = resent.iter().map(|c| c.id.clone()).collect();
    assert_eq!(resent_ids.pop().as_deref(), Some(later.as_str()));
    assert_eq!(resent_ids, first_ids, "resubscribed with the same IDs");
    // Every event the agent writes after the reconnect arrives, in order.
    for n in 0..200 {
        agent.send_event(&format!(r#"<Event Object="Call" Mode="Softphone" Initiator="Incoming"><State>Started</State><CallID>after-{n}</CallID></Event>"#));
    }
    let mut seen = Vec::new();
    let deadline = Instant::now() + WAIT;
    while seen.len() < 200 && Instant::now() < deadline {
        for event in object.take_events() {
            if event.name == "Call" {
                seen.push(data(&event)["CallID"].as_str().unwrap().to_string());
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let expected: Vec<String> = (0..200).map(|n| format!("after-{n}")).collect();
    assert_eq!(seen, expected);
    assert_eq!(object.done().platform_calls_after_done, 0);
}

#[test]
fn hundred_commands_in_flight_are_correlated() {
    let host = Host::load_default();
    let agent = Agent::start(&socket_path());
    agent.with_state(|s| s.hold = true);
    let object = connected(&host, &agent, "en_US");
    let ids: Vec<String> = (0..100)
        .map(|i| {
            string(
                object
                    .call(
                        "Call_Softphone",
                        &[Val::from(""), Val::from(format!("{i}"))],
                    )
                    .unwrap(),
            )
        })
        .collect();
    let commands = agent.wait_commands(100);
    assert_eq!(
        commands.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        ids
    );
    // Answer in reverse order, all in one write.
    let replies: Vec<u8> = commands
        .iter()
        .rev()
        .flat_map(|c| frame(&command_result(c, None)))
        .collect();
    agent.write(&replies);
    let events = object.wait_events(100, WAIT);
    let answered: Vec<&str> = events
        .iter()
        .filter(|e| e.name == "CommandResult")
        .map(|e| e.data.as_str())
        .collect();
    assert_eq!(answered.len(), 100);
    let mut answered_ids: Vec<String> = events
        .iter()
        .map(|e| {
            let d = data(e);
            assert_eq!(d["Matched"], true);
            assert_eq!(d["Action"], "Call");
            d["ID"].as_str().unwrap().to_string()
        })
        .collect();
    answered_ids.reverse();
    assert_eq!(answered_ids, ids);
    assert_eq!(object.done().platform_calls_after_done, 0);
}

#[test]
fn documented_agent_errors_are_explained_in_the_users_language() {
    let host = Host::load_default();
    let agent = Agent::start(&socket_path());
    agent.with_state(|s| {
        s.errors
            .insert("SendMessage".into(), "agent is offline".into());
        s.errors.insert(
            "ChangeMyOnlineStatus".into(),
            "Not possible to establish this status".into(),
        );
        s.errors
            .insert("EventSubscribe".into(), "Mode is not recognized".into());
    });
    let object = connected(&host, &agent, "ru_RU");
    let message = string(
        object
            .call(
                "ОтправитьСообщение",
                &[
                    Val::from(""),
                    Val::from("Colleagues"),
                    Val::from(r#"{"ColleagueID":"k"}"#),
                    Val::from("?"),
                ],
            )
            .unwrap(),
    );
    let result = result_for(&object, &message);
    assert_eq!(result["Success"], false);
    assert_eq!(result["Error"], "agent is offline");
    assert_eq!(result["ErrorCode"], "AgentIsOffline");
    assert!(
        result["ErrorDescription"]
            .as_str()
            .unwrap()
            .contains("не в сети"),
        "{result}"
    );
    assert!(result["ErrorDescriptionEn"]
        .as_str()
        .unwrap()
        .contains("offline"));
    let status = string(
        object
            .call(
                "УстановитьОнлайнСтатус",
                &[Val::from(""), Val::from("Talking")],
            )
            .unwrap(),
    );
    assert_eq!(
        result_for(&object, &status)["ErrorCode"],
        "StatusNotPossible"
    );
    let sub = string(
        object
            .call(
                "ПодписатьсяНаСобытия",
                &[Val::from("Nowhere"), Val::from("Call"), Val::from("Self")],
            )
            .unwrap(),
    );
    let result = result_for(&object, &sub);
    assert_eq!(result["ErrorCode"], "ModeNotRecognized");
    assert_eq!(
        result["Mode"], "Nowhere",
        "unknown values are sent as given"
    );
    assert_eq!(object.done().platform_calls_after_done, 0);
}

#[test]
fn command_timeout_and_commands_made_while_disconnected() {
    let host = Host::load_default();
    let path = socket_path();
    let object = host.create_with("ConnectAgent", Mode::Client, "en_US");
    object.set("PipeAddress", path.to_str().unwrap()).unwrap();
    object.set("CommandTimeout", 400).unwrap();
    // No agent yet: false within the bound, and no exception.
    let started = Instant::now();
    assert_eq!(
        object.call("ConnectToAgent", &[Val::from("x")]).unwrap(),
        Val::Bool(false)
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    let subscribed = string(object.call("SubscribeToEvents_Softphone", &[]).unwrap());
    let lost = string(
        object
            .call("ChangeOnlineStatus", &[Val::from(""), Val::from("Away")])
            .unwrap(),
    );
    let result = result_for(&object, &lost);
    assert_eq!(result["ErrorCode"], "NotConnected");
    assert_eq!(result["Local"], true);

    // The agent appears: the add-in connects by itself and sends the remembered subscription.
    let agent = Agent::start(&path);
    assert_eq!(wait_named(&object, "Connected")["Resubscribed"], 2);
    let sent = agent.wait_commands(2);
    assert_eq!(sent[0].id, subscribed);

    // An agent that never answers: Timeout after CommandTimeout.
    agent.with_state(|s| s.hold = true);
    let id = string(
        object
            .call("ChangeOnlineStatus", &[Val::from(""), Val::from("Away")])
            .unwrap(),
    );
    let result = result_for(&object, &id);
    assert_eq!(result["ErrorCode"], "Timeout");
    assert!(
        result["ErrorDescription"]
            .as_str()
            .unwrap()
            .contains("400 ms"),
        "{result}"
    );
    assert_eq!(object.done().platform_calls_after_done, 0);
}

#[test]
fn auto_reconnect_off_stays_down() {
    let host = Host::load_default();
    let path = socket_path();
    let agent = Agent::start(&path);
    let object = host.create_with("ConnectAgent", Mode::Client, "en_US");
    object.set("PipeAddress", path.to_str().unwrap()).unwrap();
    object.set("AutoReconnect", false).unwrap();
    assert_eq!(object.get("AutoReconnect").unwrap(), Val::Bool(false));
    assert_eq!(
        object.call("ConnectToAgent", &[Val::from("x")]).unwrap(),
        Val::Bool(true)
    );
    wait_named(&object, "Connected");
    agent.wait_connections(1);
    agent.drop_connection();
    let disconnected = wait_named(&object, "Disconnected");
    assert_eq!(disconnected["WillReconnect"], false);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(agent.connections(), 1);
    // ConnectToAgent again brings it back.
    assert_eq!(
        object.call("ConnectToAgent", &[Val::from("x")]).unwrap(),
        Val::Bool(true)
    );
    agent.wait_connections(2);
    assert_eq!(object.done().platform_calls_after_done, 0);
}

#[test]
fn default_address_comes_from_the_login() {
    let host = Host::load_default();
    let login = format!("tbtest{}", std::process::id());
    let path = agent_io::default_endpoint(&login);
    let agent = Agent::start(&path);
    let object = host.create_with("ConnectAgent", Mode::Client, "ru_RU");
    assert_eq!(
        object
            .call("ПодключитьсяКАгенту", &[Val::from(login.as_str())])
            .unwrap(),
        Val::Bool(true)
    );
    assert_eq!(
        object.get("АдресКанала").unwrap(),
        Val::from(path.to_str().unwrap())
    );
    agent.wait_connections(1);
    assert_eq!(object.done().platform_calls_after_done, 0);
}

#[test]
fn done_while_the_agent_is_mid_stream() {
    let host = Host::load_default();
    let agent = Agent::start(&socket_path());
    let object = connected(&host, &agent, "ru_RU");
    object.call("SubscribeToEvents_AllCall", &[]).unwrap();
    let mut writer = agent.writer();
    let flooding = Arc::new(AtomicBool::new(true));
    let flood = {
        let flooding = flooding.clone();
        std::thread::spawn(move || {
            let event = frame(
                r#"<Event Object="Call" Mode="Softphone" Initiator="Incoming"><State>Started</State><CallID>flood</CallID></Event>"#,
            );
            let burst: Vec<u8> = (0..50).flat_map(|_| event.clone()).collect();
            while flooding.load(Ordering::Relaxed) {
                if writer.write_all(&burst).is_err() {
                    break;
                }
            }
        })
    };
    object
        .wait_event(WAIT, |e| e.name == "Call")
        .expect("the flood arrives");
    // Half a frame in the pipe at Done is fine too.
    let started = Instant::now();
    let teardown = object.done();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "Done took {:?}",
        started.elapsed()
    );
    assert_eq!(teardown.platform_calls_after_done, 0);
    flooding.store(false, Ordering::Relaxed);
    agent.drop_connection();
    flood.join().unwrap();
}

/// The agent names its events by `Object`; a name the add-in uses for its own events must never come from the
/// agent (a form that handles `Connected` or `Error` would believe the agent). Only the documented objects keep
/// their names; every other object arrives as `Event` with the object in Data.
#[test]
fn agent_objects_cannot_impersonate_the_add_ins_own_events() {
    let host = Host::load_default();
    let agent = Agent::start(&socket_path());
    let object = connected(&host, &agent, "en_US");
    object.take_events();
    let impostors = [
        "Connected",
        "Disconnected",
        "CommandResult",
        "Error",
        "EventsDropped",
        "TestEvent",
        "NewKind",
    ];
    for name in impostors {
        agent.send_event(&format!(
            r#"<Event Mode="Softphone" Object="{name}" Initiator="Incoming"><Reason>fake</Reason></Event>"#
        ));
    }
    agent.send_event(r#"<Event Mode="Softphone" Object="call" Initiator="Incoming"><CallID>c-1</CallID></Event>"#);
    let call = wait_named(&object, "Call");
    assert_eq!(call["CallID"], "c-1");
    let events = object.take_events();
    let from_agent: Vec<String> = events
        .iter()
        .filter(|e| e.name == "Event")
        .map(|e| data(e)["Object"].as_str().unwrap_or("").to_string())
        .collect();
    let expected: Vec<String> = impostors.iter().map(|s| s.to_string()).collect();
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(from_agent, expected, "events seen: {names:?}");
    assert!(
        events.iter().all(|e| e.name == "Event" || e.name == "Call"),
        "an agent object took an add-in name: {names:?}"
    );
    assert_eq!(object.done().platform_calls_after_done, 0);
}

/// The log lines of `path` whose message is `message`, as JSON.
#[cfg(unix)]
fn log_lines(path: &std::path::Path, message: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["msg"] == message)
        .collect()
}

/// Waits until the log at `path` has a failed connect attempt and returns its reason: the refusal text.
#[cfg(unix)]
fn refusal_in_log(path: &std::path::Path) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let found = log_lines(path, "agent connect attempt failed");
        if let Some(line) = found.last() {
            return line.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no failed connect attempt in the log: {}",
            std::fs::read_to_string(path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Another local user must not be able to pose as the agent: a socket that is not ours is refused before any
/// byte goes out, and so is a socket served by a process of another user (`SO_PEERCRED`). Each refusal is
/// checked by its text, so the test cannot pass because the connect failed for some other reason. Needs root
/// (to hand a socket to another user): CI runs as root, and there a skip is a failure (`addin_host::skip`).
#[cfg(unix)]
#[test]
fn a_socket_or_a_server_of_another_user_is_refused() {
    use std::io::BufRead;
    use std::os::unix::fs::{chown, PermissionsExt};
    if unsafe { libc::geteuid() } != 0 {
        addin_host::skip::skip("not-root", "needs root to give a socket to another user");
        return;
    }
    const NOBODY: u32 = 65534;
    let host = Host::load_default();
    let logs = std::env::temp_dir().join(format!("tb-peer-logs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs).unwrap();
    let agent = Agent::start(&socket_path());
    chown(&agent.path, Some(NOBODY), Some(NOBODY)).unwrap();
    let object = host.create_with("ConnectAgent", Mode::Client, "en_US");
    let owner_log = logs.join("owner.log");
    object.set("LogFile", owner_log.to_str().unwrap()).unwrap();
    object.set("LogLevel", "debug").unwrap();
    object.set("AutoReconnect", false).unwrap();
    object
        .set("PipeAddress", agent.path.to_str().unwrap())
        .unwrap();
    let opened = object
        .call("ConnectToAgent", &[Val::from("operator")])
        .unwrap();
    assert_eq!(
        opened,
        Val::Bool(false),
        "a socket of another user was used"
    );
    let refusal = refusal_in_log(&owner_log);
    assert!(
        refusal.contains(&format!(
            "the socket belongs to user {NOBODY} and this process runs as user 0"
        )),
        "refused for the socket's owner: {refusal}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        agent.connections(),
        0,
        "a byte went to another user's socket"
    );
    // The same socket, ours again, is used: the refusal was about its owner.
    chown(&agent.path, Some(0), Some(0)).unwrap();
    let opened = object
        .call("ConnectToAgent", &[Val::from("operator")])
        .unwrap();
    assert_eq!(opened, Val::Bool(true));
    agent.wait_connections(1);
    assert_eq!(object.done().platform_calls_after_done, 0);

    // A server run by another user behind a socket file that claims to be ours: the peer's uid decides.
    let dir = std::env::temp_dir().join(format!("tb-peer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let path = dir.join("agent.sock");
    // It says "listening" only after listen(): the socket file exists from bind() on, and a connect before
    // listen() would fail for a reason that has nothing to do with the peer's user.
    let script = format!(
        "import socket,sys,time\ns=socket.socket(socket.AF_UNIX)\ns.bind({:?})\ns.listen(4)\nprint('listening', flush=True)\ntime.sleep(20)\n",
        path.to_str().unwrap()
    );
    let server = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            // Not a PATH lookup: a per-user Python (pyenv) under root's home is closed to the other user.
            "/usr/bin/python3",
            "-c",
            &script,
        ])
        .stdout(std::process::Stdio::piped())
        .spawn();
    let mut server = match server {
        Ok(server) => server,
        Err(error) => {
            addin_host::skip::skip(
                "tool-missing",
                &format!("setpriv (util-linux) or /usr/bin/python3 cannot be started: {error}"),
            );
            return;
        }
    };
    let mut said = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut said)
        .unwrap();
    assert_eq!(said.trim(), "listening", "the other user's server started");
    chown(&path, Some(0), Some(0)).unwrap();
    let object = host.create_with("ConnectAgent", Mode::Client, "en_US");
    let peer_log = logs.join("peer.log");
    object.set("LogFile", peer_log.to_str().unwrap()).unwrap();
    object.set("LogLevel", "debug").unwrap();
    object.set("AutoReconnect", false).unwrap();
    object.set("PipeAddress", path.to_str().unwrap()).unwrap();
    let opened = object
        .call("ConnectToAgent", &[Val::from("operator")])
        .unwrap();
    let refusal = refusal_in_log(&peer_log);
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        opened,
        Val::Bool(false),
        "a server of another user was trusted"
    );
    assert!(
        refusal.contains(&format!(
            "the agent socket is served by user {NOBODY} and this process runs as user 0: refused"
        )),
        "refused for the peer's user: {refusal}"
    );
    assert_eq!(object.done().platform_calls_after_done, 0);
    let _ = std::fs::remove_dir_all(&logs);
}

/// The default socket lives in a directory only its user can enter ($XDG_RUNTIME_DIR, or a 0700 directory of
/// its own under the temporary directory), not in the shared /tmp where any user could create it first.
#[cfg(unix)]
#[test]
fn the_default_socket_is_in_a_private_directory() {
    let login = format!("tbprivate{}", std::process::id());
    let path = agent_io::default_endpoint(&login);
    let dir = path.parent().unwrap();
    assert_ne!(dir, std::path::Path::new("/tmp"), "{}", path.display());
    use std::os::unix::fs::MetadataExt;
    let agent = Agent::start(&path);
    let meta = std::fs::metadata(dir).unwrap();
    assert_eq!(meta.mode() & 0o077, 0, "{} is private", dir.display());
    let host = Host::load_default();
    let object = host.create_with("ConnectAgent", Mode::Client, "en_US");
    assert_eq!(object.get("PipeAddress").unwrap(), Val::from(""));
    assert_eq!(
        object
            .call("ConnectToAgent", &[Val::from(login.as_str())])
            .unwrap(),
        Val::Bool(true)
    );
    assert_eq!(
        object.get("PipeAddress").unwrap(),
        Val::from(path.to_str().unwrap())
    );
    agent.wait_connections(1);
    assert_eq!(object.done().platform_calls_after_done, 0);
}
