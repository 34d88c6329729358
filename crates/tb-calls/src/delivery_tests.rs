use super::*;

fn facts(client: ClientKind) -> SessionFacts {
    SessionFacts {
        client,
        addin: true,
        addin_supported: true,
        platform: "8.3.27.1935".into(),
        collaboration: true,
        file_base: false,
        centrifugo: true,
        disabled: BTreeSet::new(),
    }
}

/// Builds around each threshold, with whether БСП sends client notifications on them (written out, not computed).
const BUILDS: &[(&str, Option<bool>)] = &[
    ("8.2.19.130", Some(false)),
    ("8.3.18.1208", Some(false)),
    ("8.3.26.1498", Some(false)),
    ("8.3.27.1934", Some(false)),
    ("8.3.27.1935", Some(true)),
    ("8.3.27.1936", Some(true)),
    ("8.3.28.1", Some(true)),
    ("8.5.0.100", Some(false)),
    ("8.5.1.1118", Some(false)),
    ("8.5.1.1119", Some(true)),
    ("8.5.1.2000", Some(true)),
    ("8.5.2.1", Some(true)),
    ("8.6.1.1", Some(true)),
    ("9.0.0.0", Some(true)),
    ("", None),
    ("8.3.27", None),
    ("8.3.27.1935.1", None),
    ("8.3.x.1935", None),
    ("8.3.27.-1", None),
    ("8. 3.27.1935", None),
    ("99999999999.0.0.0", None),
];

const CLIENTS: [ClientKind; 4] = [
    ClientKind::Thin,
    ClientKind::Thick,
    ClientKind::Web,
    ClientKind::Mobile,
];

/// client kind × build × collaboration (registered or not, file base or not) × add-in × Centrifugo: every
/// combination, each path's availability checked against the rule written out case by case.
#[test]
fn every_combination_chooses_the_documented_paths() {
    let mut count = 0;
    for client in CLIENTS {
        for (build, notifications_ok) in BUILDS {
            for (collaboration, file_base) in
                [(true, false), (false, false), (true, true), (false, true)]
            {
                for addin in [true, false] {
                    for centrifugo in [true, false] {
                        count += 1;
                        let f = SessionFacts {
                            addin,
                            platform: build.to_string(),
                            collaboration,
                            file_base,
                            centrifugo,
                            ..facts(client)
                        };
                        let plan = choose_paths(&f);
                        let desktop = matches!(client, ClientKind::Thin | ClientKind::Thick);
                        let addin_ok = desktop && addin && centrifugo;
                        let notif_ok = *notifications_ok == Some(true);
                        let collab_ok = collaboration && !file_base;
                        let case = format!("{f:?}");
                        assert_eq!(plan.verdict(Path::Addin).available, addin_ok, "{case}");
                        assert_eq!(
                            plan.verdict(Path::Notifications).available,
                            notif_ok,
                            "{case}"
                        );
                        assert_eq!(
                            plan.verdict(Path::Collaboration).available,
                            collab_ok,
                            "{case}"
                        );
                        assert!(plan.verdict(Path::Polling).available, "{case}");
                        let expected_reason = match (client, addin, centrifugo) {
                            (ClientKind::Web, _, _) => Reason::WebClientNoAddin,
                            (ClientKind::Mobile, _, _) => Reason::MobileClientNoAddin,
                            (_, false, _) => Reason::AddinMissing,
                            (_, true, false) => Reason::CentrifugoNotConfigured,
                            (_, true, true) => Reason::Ok,
                        };
                        assert_eq!(plan.verdict(Path::Addin).reason, expected_reason, "{case}");
                        let notif_reason = match notifications_ok {
                            Some(true) => Reason::Ok,
                            Some(false) => Reason::PlatformTooOld,
                            None => Reason::PlatformUnknown,
                        };
                        assert_eq!(
                            plan.verdict(Path::Notifications).reason,
                            notif_reason,
                            "{case}"
                        );
                        let collab_reason = match (collaboration, file_base) {
                            (_, true) => Reason::FileBase,
                            (false, false) => Reason::NotRegistered,
                            (true, false) => Reason::Ok,
                        };
                        assert_eq!(
                            plan.verdict(Path::Collaboration).reason,
                            collab_reason,
                            "{case}"
                        );
                        let expected_fanout: Vec<Path> = [
                            (Path::Addin, addin_ok),
                            (Path::Notifications, notif_ok),
                            (Path::Collaboration, collab_ok),
                        ]
                        .into_iter()
                        .filter_map(|(p, ok)| ok.then_some(p))
                        .collect();
                        assert_eq!(plan.fanout, expected_fanout, "{case}");
                        let primary = expected_fanout.first().copied().unwrap_or(Path::Polling);
                        assert_eq!(plan.primary, primary, "{case}");
                        if primary == Path::Polling {
                            assert_eq!(
                                (plan.poll_seconds, plan.safety_poll_seconds),
                                (2, 0),
                                "{case}"
                            );
                        } else {
                            assert_eq!(
                                (plan.poll_seconds, plan.safety_poll_seconds),
                                (0, 60),
                                "{case}"
                            );
                        }
                    }
                }
            }
        }
    }
    assert_eq!(count, 4 * BUILDS.len() * 4 * 2 * 2);
}

#[test]
fn thin_client_with_the_addin_uses_it_first_and_fans_out_to_every_push_path() {
    let plan = choose_paths(&facts(ClientKind::Thin));
    assert_eq!(plan.primary, Path::Addin);
    assert_eq!(
        plan.fanout,
        vec![Path::Addin, Path::Notifications, Path::Collaboration]
    );
    assert_eq!((plan.poll_seconds, plan.safety_poll_seconds), (0, 60));
}

#[test]
fn web_client_on_a_new_platform_gets_client_notifications() {
    let mut f = facts(ClientKind::Web);
    f.addin = false;
    f.disabled.insert(Path::Collaboration);
    let plan = choose_paths(&f);
    assert_eq!(plan.primary, Path::Notifications);
    assert_eq!(plan.fanout, vec![Path::Notifications]);
    assert_eq!(plan.verdict(Path::Addin).reason, Reason::WebClientNoAddin);
    assert_eq!(
        plan.verdict(Path::Collaboration).reason,
        Reason::SwitchedOff
    );
    assert!(!plan.verdict(Path::Collaboration).available);
    assert_eq!(
        plan_json(&plan),
        serde_json::json!({
            "primary": "notifications",
            "paths": [
                {"path": "addin", "available": false, "reason": "web_client_no_addin"},
                {"path": "notifications", "available": true, "reason": "ok"},
                {"path": "collaboration", "available": false, "reason": "switched_off"},
                {"path": "polling", "available": true, "reason": "ok"},
            ],
            "fanout": ["notifications"],
            "poll_seconds": 0,
            "safety_poll_seconds": 60
        })
    );
}

#[test]
fn web_client_on_an_old_platform_in_a_registered_base_uses_the_collaboration_system() {
    let mut f = facts(ClientKind::Web);
    f.platform = "8.3.24.1500".into();
    let plan = choose_paths(&f);
    assert_eq!(plan.primary, Path::Collaboration);
    assert_eq!(
        plan.verdict(Path::Notifications).reason,
        Reason::PlatformTooOld
    );
}

#[test]
fn web_client_on_an_old_file_base_polls_fast() {
    let mut f = facts(ClientKind::Web);
    f.platform = "8.3.18.1208".into();
    f.file_base = true;
    let plan = choose_paths(&f);
    assert_eq!(plan.primary, Path::Polling);
    assert!(plan.fanout.is_empty());
    assert_eq!(
        (plan.poll_seconds, plan.safety_poll_seconds),
        (FAST_POLL_SECS, 0)
    );
    assert_eq!(plan.verdict(Path::Collaboration).reason, Reason::FileBase);
}

#[test]
fn thin_client_on_macos_without_an_addin_build_falls_to_notifications() {
    let mut f = facts(ClientKind::Thin);
    f.addin_supported = false;
    f.addin = false;
    let plan = choose_paths(&f);
    assert_eq!(
        plan.verdict(Path::Addin).reason,
        Reason::AddinPlatformUnsupported
    );
    assert_eq!(plan.primary, Path::Notifications);
}

#[test]
fn switched_off_is_reported_only_when_nothing_else_stands_in_the_way() {
    let mut f = facts(ClientKind::Thick);
    f.disabled = Path::ALL.into_iter().collect();
    f.centrifugo = false;
    let plan = choose_paths(&f);
    // Centrifugo missing is the obstacle to name: switching the add-in path on would not help.
    assert_eq!(
        plan.verdict(Path::Addin).reason,
        Reason::CentrifugoNotConfigured
    );
    assert_eq!(
        plan.verdict(Path::Notifications).reason,
        Reason::SwitchedOff
    );
    assert_eq!(
        plan.verdict(Path::Collaboration).reason,
        Reason::SwitchedOff
    );
    // Nothing else reaches the session: polling stays, as the last resort.
    assert_eq!(plan.primary, Path::Polling);
    assert_eq!(plan.verdict(Path::Polling).reason, Reason::LastResort);
    assert!(plan.verdict(Path::Polling).available);
    assert_eq!(plan.poll_seconds, FAST_POLL_SECS);
}

#[test]
fn polling_switched_off_beside_a_push_path_drops_the_safety_poll() {
    let mut f = facts(ClientKind::Thin);
    f.disabled.insert(Path::Polling);
    let plan = choose_paths(&f);
    assert_eq!(plan.verdict(Path::Polling).reason, Reason::SwitchedOff);
    assert!(!plan.verdict(Path::Polling).available);
    assert_eq!((plan.poll_seconds, plan.safety_poll_seconds), (0, 0));
}

#[test]
fn facts_json_is_read_strictly() {
    let f = facts_from_json(
        r#"{"client":"web","addin":false,"platform":"8.3.27.1935","collaboration":true,"file_base":false,"centrifugo":true,"disabled":["collaboration"]}"#,
    )
    .unwrap();
    assert_eq!(f.client, ClientKind::Web);
    assert!(f.addin_supported);
    assert!(f.disabled.contains(&Path::Collaboration));
    assert!(facts_from_json(r#"{"client":"tablet"}"#).is_err());
    assert!(facts_from_json(r#"{"addin":true}"#).is_err());
    assert!(facts_from_json(r#"{"client":"thin","disabled":["fax"]}"#).is_err());
    assert!(facts_from_json(r#"{"client":"thin","addn":true}"#).is_err());
    assert!(facts_from_json("[]").is_err());
}

#[test]
fn builds_are_read_as_four_numbers() {
    assert_eq!(parse_build(" 8.3.27.1935 "), Some([8, 3, 27, 1935]));
    assert_eq!(parse_build("8.3.27"), None);
    assert_eq!(parse_build("+8.3.27.1"), None);
    assert_eq!(notifications_supported("8.3.27.1935"), Ok(true));
    assert_eq!(notifications_supported("8.5.1.1118"), Ok(false));
    assert_eq!(notifications_supported("abc"), Err(Reason::PlatformUnknown));
}

#[test]
fn state_ranks_follow_the_call() {
    assert!(state_rank("ringing") < state_rank("answered"));
    assert!(state_rank("answered") < state_rank("finished"));
    assert_eq!(state_rank("finished"), state_rank("lost"));
    assert!(state_rank("finished") < state_rank("record_ready"));
    assert_eq!(state_rank("Ringing"), 0);
    assert_eq!(state_rank(""), 0);
    for kind in [
        EventKind::Ringing,
        EventKind::Answered,
        EventKind::Transferred,
        EventKind::InProgress,
        EventKind::Finished,
        EventKind::Lost,
        EventKind::RecordReady,
        EventKind::Error,
    ] {
        assert_eq!(state_rank(kind.as_str()), kind.rank());
        assert!(kind.rank() > 0);
    }
}

/// Two paths deliver the same cards in different orders: each (call, state) is shown once, never backwards.
#[test]
fn a_card_delivered_by_two_paths_is_shown_once() {
    let mut seen = Seen::default();
    // The add-in brings ringing, then answered.
    assert!(!seen.is_repeat("c1", "ringing"));
    assert!(!seen.is_repeat("c1", "answered"));
    // Notifications bring the same two, late.
    assert!(seen.is_repeat("c1", "ringing"));
    assert!(seen.is_repeat("c1", "answered"));
    // Another call is independent.
    assert!(!seen.is_repeat("c2", "answered"));
    assert!(seen.is_repeat("c2", "ringing"), "backwards");
    assert!(!seen.is_repeat("c1", "finished"));
    assert!(seen.is_repeat("c1", "lost"), "a call ends once");
    assert!(!seen.is_repeat("c1", "record_ready"));
    assert!(seen.is_repeat("", "ringing"));
    assert!(seen.is_repeat("c3", "bogus"));
    assert!(!seen.contains("c3"));
    assert_eq!(seen.len(), 2);
}

#[test]
fn the_seen_set_forgets_the_least_recently_shown_call_over_its_cap() {
    let mut seen = Seen::new(3);
    for id in ["a", "b", "c"] {
        assert!(!seen.is_repeat(id, "ringing"));
    }
    // `a` is shown again (answered), so `b` is now the least recent.
    assert!(!seen.is_repeat("a", "answered"));
    assert!(!seen.is_repeat("d", "ringing"));
    assert_eq!(seen.len(), 3);
    assert!(!seen.contains("b"));
    assert!(seen.contains("a") && seen.contains("c") && seen.contains("d"));
    // Forgotten, `b` would be shown again: that is the price of the cap, paid only after 256 newer calls.
    assert!(!seen.is_repeat("b", "ringing"));

    let mut seen = Seen::default();
    for n in 0..SEEN_CAP + 10 {
        assert!(!seen.is_repeat(&format!("call-{n}"), "ringing"));
    }
    assert_eq!(seen.len(), SEEN_CAP);
    assert!(!seen.contains("call-9"));
    assert!(seen.contains("call-10"));
    assert!(seen.is_repeat(&format!("call-{}", SEEN_CAP + 9), "ringing"));
}

#[test]
fn stale_events_are_dropped_with_the_skew_tolerated() {
    let now = 1_800_000_000_000;
    let fresh = now - 5_000;
    assert!(!is_stale(fresh, fresh + 120_000, now, 120));
    // Exactly at the limit (max age + skew) is kept; one millisecond more is dropped.
    let limit = 120_000 + CLOCK_SKEW_MS;
    assert!(!is_stale(now - limit, 0, now, 120));
    assert!(is_stale(now - limit - 1, 0, now, 120));
    // 0 or a negative max age means the default.
    assert!(!is_stale(now - limit, 0, now, 0));
    assert!(is_stale(now - limit - 1, 0, now, -5));
    // The expiry passed (beyond the skew).
    assert!(is_stale(fresh, now - CLOCK_SKEW_MS - 1, now, 3600));
    assert!(!is_stale(fresh, now - CLOCK_SKEW_MS, now, 3600));
    // No time at all cannot be judged fresh.
    assert!(is_stale(0, 0, now, 120));
    // A client clock behind the server's: the event looks like the future and is kept.
    assert!(!is_stale(now + 600_000, now + 720_000, now, 120));
    // Extremes do not overflow.
    assert!(is_stale(1, 0, i64::MAX, 120));
    assert!(!is_stale(i64::MAX, i64::MAX, i64::MIN, 120));
}

/// The collaboration system replays the discussion's history on subscribe: yesterday's card and the card of
/// three minutes ago are dropped, the one of a moment ago is shown once although it comes twice.
#[test]
fn a_replay_on_subscribe_shows_only_the_fresh_card_once() {
    let now = 1_800_000_000_000;
    let replay = [
        ("old-1", "ringing", now - 86_400_000),
        ("old-2", "answered", now - 180_000),
        ("new", "ringing", now - 3_000),
        ("new", "ringing", now - 3_000),
    ];
    let mut seen = Seen::default();
    let shown: Vec<&str> = replay
        .iter()
        .filter(|(_, _, at)| !is_stale(*at, at + DEFAULT_MAX_AGE_SECS * 1000, now, 0))
        .filter(|(id, state, _)| !seen.is_repeat(id, state))
        .map(|(id, _, _)| *id)
        .collect();
    assert_eq!(shown, vec!["new"]);
}

#[test]
fn polling_backs_off_and_snaps_back() {
    let mut interval = next_poll_interval(0, false);
    let mut seen = vec![interval];
    for _ in 0..6 {
        interval = next_poll_interval(interval, false);
        seen.push(interval);
    }
    assert_eq!(seen, vec![2, 4, 8, 16, 30, 30, 30]);
    assert_eq!(next_poll_interval(30, true), 2);
    assert_eq!(next_poll_interval(1, false), 2);
    assert_eq!(next_poll_interval(u32::MAX, false), 30);
    assert_eq!(next_poll_interval(20, false), 30);
    assert_eq!(SAFETY_POLL_SECS, 60);
}

#[test]
fn a_pending_card_is_built_from_a_call_event() {
    let event = r#"{"source":"uiscom","event":"ringing","call_id":"77","caller":"+7 495 123-45-67",
        "callee":"101","name":"ООО Ромашка","card":"e1cib/data/Справочник.Контрагенты?ref=1","raw":{}}"#;
    let card = pending_card(event, 0, 1_000).unwrap();
    assert_eq!(
        card,
        PendingCard {
            call_id: "77".into(),
            state: EventKind::Ringing,
            direction: "in".into(),
            caller: "+7 495 123-45-67".into(),
            called: "101".into(),
            other: "+7 495 123-45-67".into(),
            name: "ООО Ромашка".into(),
            card: "e1cib/data/Справочник.Контрагенты?ref=1".into(),
            at_ms: 1_000,
            expires_ms: 1_000 + DEFAULT_MAX_AGE_SECS * 1000,
        }
    );
    let json: serde_json::Value = serde_json::from_str(&card.to_json_string()).unwrap();
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "at_ms",
            "call_id",
            "called",
            "caller",
            "card",
            "direction",
            "expires_ms",
            "name",
            "other",
            "state"
        ]
    );
    let card = pending_card(
        r#"{"call_id":"1","state":"answered","called":"102"}"#,
        30,
        0,
    )
    .unwrap();
    assert_eq!((card.called.as_str(), card.expires_ms), ("102", 30_000));
    assert_eq!(pending_card("{}", 0, 0), Err(CardError::NoCallId));
    assert_eq!(
        pending_card(r#"{"call_id":"1","state":"boom"}"#, 0, 0),
        Err(CardError::UnknownState("boom".into()))
    );
    assert!(matches!(
        pending_card("{oops", 0, 0),
        Err(CardError::NotJson(_))
    ));
    assert!(matches!(
        pending_card(r#"{"call_id":5}"#, 0, 0),
        Err(CardError::NotJson(_))
    ));
    assert_eq!(
        pending_card(r#"{"call_id":"1","event":"lost"}"#, 1 << 40, 0)
            .unwrap()
            .expires_ms,
        86_400_000
    );
}

#[test]
fn a_huge_card_is_trimmed_to_1024_bytes_on_character_boundaries() {
    let huge = |c: &str| c.repeat(5_000);
    for filler in ["я", "a", "😀", "\"", "\u{1}", "日"] {
        let event = serde_json::json!({
            "call_id": huge(filler), "state": "ringing", "caller": huge(filler), "called": huge(filler),
            "name": huge(filler), "card": huge(filler),
        });
        let card = pending_card(&event.to_string(), 120, 5).unwrap();
        let json = card.to_json_string();
        assert!(json.len() <= CARD_MAX_BYTES, "{filler:?}: {}", json.len());
        // Still valid JSON of valid UTF-8 (a String cannot hold anything else) with every field kept.
        let back: PendingCard = serde_json::from_str(&json).unwrap();
        assert_eq!(back, card);
        assert!(card.call_id.len() <= CARD_CALL_ID_MAX_BYTES);
        assert!(card.call_id.starts_with(filler));
        // The link is dropped whole; the texts share what is left; `other` is the cut caller, not a third copy.
        assert!(card.card.is_empty(), "{filler:?}");
        assert_eq!(card.other, card.caller, "{filler:?}");
        assert!(
            !card.name.is_empty() && !card.caller.is_empty() && !card.called.is_empty(),
            "{filler:?}"
        );
    }
    // A real link beside a huge name is kept whole; the name gives way.
    let link = "e1cib/data/Справочник.Контрагенты?ref=8a1f0c2b3d4e5f60718293a4b5c6d7e8";
    let event = serde_json::json!({"call_id": "1", "state": "ringing", "name": "Ж".repeat(3000), "card": link});
    let card = pending_card(&event.to_string(), 0, 0).unwrap();
    assert_eq!(card.card, link);
    assert!(card.to_json_string().len() <= CARD_MAX_BYTES);
    assert!(
        card.to_json_string().len() > CARD_MAX_BYTES - 8,
        "trimmed no more than needed"
    );
    assert_eq!(trim_to("яя", 3), "я");
    assert_eq!(trim_to("яя", 1), "");
    assert_eq!(trim_to("ab", 5), "ab");
}

#[test]
fn only_the_operators_own_client_sessions_are_addressed() {
    let sessions = sessions_from_json(
        r#"[{"number":1,"user":"Иванов","app":"1CV8C"},
            {"number":2,"user":"Иванов","app":"WebClient"},
            {"number":3,"user":"Иванов","app":"BackgroundJob"},
            {"number":4,"user":"Иванов","app":"HTTPServiceConnection"},
            {"number":5,"user":"Иванов","app":"COMConnection"},
            {"number":6,"user":"Петров","app":"1CV8C"},
            {"number":7,"user":"Иванов","app":"1CV8"},
            {"number":8,"user":"Иванов","app":"Designer"},
            {"number":9,"user":"Иванов","app":"MobileClient"},
            {"number":10,"user":"Иванов","app":"WSConnection"},
            {"number":11,"user":"Иванов ","app":"ThinClient"},
            {"number":12,"user":"иванов","app":"ThinClient"},
            {"number":1,"user":"Иванов","app":"1CV8C"},
            {"number":13,"user":"Иванов","app":"thickclient"}]"#,
    )
    .unwrap();
    assert_eq!(operator_sessions("Иванов", &sessions), vec![1, 2, 7, 9, 13]);
    assert_eq!(operator_sessions("Петров", &sessions), vec![6]);
    assert!(operator_sessions("", &sessions).is_empty());
    assert!(operator_sessions("Сидоров", &sessions).is_empty());
    assert!(operator_sessions("Иванов", &[]).is_empty());
    assert!(sessions_from_json(r#"[{"user":"x"}]"#).is_err());
    assert!(sessions_from_json(r#"{"number":1}"#).is_err());
}

#[test]
fn the_card_of_an_outgoing_call_shows_the_client_not_the_operator() {
    // The operator 101 dials a client: the popup must show the client's number.
    let out = pending_card(
        r#"{"call_id":"9","event":"ringing","direction":"out","caller":"101","callee":"+7 900 111-22-33"}"#,
        0,
        0,
    )
    .unwrap();
    assert_eq!(
        (out.direction.as_str(), out.other.as_str()),
        ("out", "+7 900 111-22-33")
    );
    let incoming = pending_card(
        r#"{"call_id":"9","event":"ringing","direction":"in","caller":"+7 900 111-22-33","callee":"101"}"#,
        0,
        0,
    )
    .unwrap();
    assert_eq!(
        (incoming.direction.as_str(), incoming.other.as_str()),
        ("in", "+7 900 111-22-33")
    );
    // A record of the same fields (`called`), a direction in capitals, none at all, or nonsense.
    for (direction, want_dir, want_other) in [
        (r#""OUT""#, "out", "B"),
        (r#"" out ""#, "out", "B"),
        ("null", "in", "A"),
        (r#""sideways""#, "in", "A"),
        (r#""in""#, "in", "A"),
    ] {
        let card = pending_card(
            &format!(r#"{{"call_id":"1","state":"answered","direction":{direction},"caller":"A","called":"B"}}"#),
            0,
            0,
        )
        .unwrap();
        assert_eq!(
            (card.direction.as_str(), card.other.as_str()),
            (want_dir, want_other),
            "{direction}"
        );
    }
    let bare = pending_card(r#"{"call_id":"1","state":"lost","caller":"A"}"#, 0, 0).unwrap();
    assert_eq!((bare.direction.as_str(), bare.other.as_str()), ("in", "A"));
    assert_eq!(other_party("out", "A", "B"), "B");
    assert_eq!(other_party("in", "A", "B"), "A");
    assert_eq!(card_direction(Some("Out")), "out");
    assert_eq!(card_direction(None), "in");
}

#[test]
fn a_huge_outgoing_card_keeps_other_equal_to_the_cut_callee() {
    let event = serde_json::json!({
        "call_id": "1", "state": "ringing", "direction": "out", "caller": "1".repeat(4000),
        "called": "2".repeat(4000), "name": "N".repeat(4000),
    });
    let card = pending_card(&event.to_string(), 0, 0).unwrap();
    assert!(card.to_json_string().len() <= CARD_MAX_BYTES);
    assert_eq!(card.other, card.called);
    assert!(!card.other.is_empty());
}

#[test]
fn a_pushed_event_carries_only_the_allowed_fields() {
    let event = serde_json::json!({
        "source": "uiscom", "event": "finished", "call_id": "3201987654", "direction": "in",
        "caller": "+7 926 123-45-67", "other_party": "+7 926 123-45-67", "extension": "101", "lost": false,
        "talk_sec": 173, "started_at": "2024-03-15T10:21:07+03:00", "finished_at": null,
        "record_urls": ["https://app.uiscom.ru/system/media/talk/1/"],
        "raw": {"full_record_file_link": "https://app.uiscom.ru/system/media/talk/1/"},
        "employee": {"id": "4711", "name": "Иванов"}, "customer": {"id": "1", "name": "ООО"},
        "lost_reason": "x", "finish_reason": "y", "something_new": "secret",
    });
    let pushed = push_event(&event);
    let keys: Vec<&str> = pushed
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "source",
            "event",
            "call_id",
            "direction",
            "caller",
            "other_party",
            "extension",
            "started_at",
            "finished_at",
            "talk_sec",
            "lost"
        ]
    );
    let text = pushed.to_string();
    for leak in [
        "record",
        "raw",
        "media",
        "Иванов",
        "ООО",
        "secret",
        "reason",
    ] {
        assert!(!text.contains(leak), "{leak}: {text}");
    }
    // Every field of the model the allowlist names exists in the model (a typo would silently drop a field).
    let model = serde_json::to_value(crate::model::CallEvent::new(
        crate::model::Source::Uiscom,
        EventKind::Ringing,
        "1".into(),
        serde_json::Value::Null,
    ))
    .unwrap();
    for field in PUSH_EVENT_FIELDS {
        assert!(
            model.get(field).is_some(),
            "{field} is no field of CallEvent"
        );
    }
    for forbidden in ["record_urls", "raw", "employee", "customer"] {
        assert!(!PUSH_EVENT_FIELDS.contains(&forbidden), "{forbidden}");
    }
    // Not an object: nothing; a nested value in an allowed field: dropped; a forged long text: cut.
    assert_eq!(push_event(&serde_json::json!(["x"])), serde_json::json!({}));
    assert_eq!(push_event(&serde_json::Value::Null), serde_json::json!({}));
    let forged =
        push_event(&serde_json::json!({"caller": {"url": "x"}, "callee": "я".repeat(1000)}));
    assert!(forged.get("caller").is_none());
    assert!(forged["callee"].as_str().unwrap().len() <= PUSH_TEXT_MAX_BYTES);
    assert!(forged["callee"].as_str().unwrap().starts_with('я'));
}
