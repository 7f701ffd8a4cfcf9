//! The live connection: `ready`, presence changes within a second to those allowed and to
//! no one else, blocking taking effect at once, revoked devices, malformed frames.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{TestApp, Ws, WsEvent};

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";
const CAROL: &str = "+8613800138002";

/// Alice, Bob and Carol, each with the other two in their address book.
async fn three_friends(app: &TestApp) -> (String, String, String) {
    let a = app.code_login(ALICE, "a").await;
    let b = app.code_login(BOB, "b").await;
    let c = app.code_login(CAROL, "c").await;
    for (token, others) in [(&a, [BOB, CAROL]), (&b, [ALICE, CAROL]), (&c, [ALICE, BOB])] {
        let book = json!({ "contacts": others.iter().map(|p| json!({ "name": p, "phones": [p] })).collect::<Vec<_>>() });
        assert_eq!(app.put_contacts(token, book).await.status, StatusCode::OK);
    }
    (a, b, c)
}

async fn set_presence(app: &TestApp, token: &str, state: &str, text: Option<&str>) {
    let r = app
        .send(
            Method::PUT,
            "/v1/presence",
            Some(token),
            Some(json!({ "state": state, "text": text })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
}

/// Reads the `ready` frame, which must come first.
async fn ready(ws: &mut Ws) -> serde_json::Value {
    let f = ws.frame().await;
    assert_eq!(f["type"], "ready", "{f}");
    f
}

#[tokio::test]
async fn presence_is_live_for_contacts() {
    let app = TestApp::spawn().await;
    let (a, b, _c) = three_friends(&app).await;
    let mut alice = app.ws(&a).await;
    let r = ready(&mut alice).await;
    let mut listed: Vec<(String, String)> = r["presence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["phone"].as_str().unwrap().to_owned(),
                p["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        vec![
            (BOB.to_owned(), "offline".to_owned()),
            (CAROL.to_owned(), "offline".to_owned())
        ]
    );

    // Bob comes online: Alice hears it.
    let mut bob = app.ws(&b).await;
    ready(&mut bob).await;
    let f = alice.presence().await;
    assert_eq!(
        (f["phone"].as_str(), f["state"].as_str()),
        (Some(BOB), Some("available"))
    );
    // Alice's own arrival reached Bob's ready frame as available.
    let r = app.get_auth(&format!("/v1/users/{BOB}/presence"), &a).await;
    assert_eq!(r.body["state"], "available");

    set_presence(&app, &b, "busy", Some("开会中")).await;
    let f = alice.presence().await;
    assert_eq!(
        (f["state"].as_str(), f["text"].as_str()),
        (Some("busy"), Some("开会中"))
    );

    set_presence(&app, &b, "invisible", None).await;
    let f = alice.presence().await;
    assert_eq!(f["state"], "offline");
    assert!(f.get("text").is_none());
    let r = app.get_auth(&format!("/v1/users/{BOB}/presence"), &a).await;
    assert_eq!(r.body["state"], "offline");

    set_presence(&app, &b, "away", None).await;
    assert_eq!(alice.presence().await["state"], "away");

    // The last device leaves: offline, with a last-seen time for those allowed.
    bob.close().await;
    let f = alice.presence().await;
    assert_eq!(f["state"], "offline");
    let r = app.get_auth(&format!("/v1/users/{BOB}/presence"), &a).await;
    assert_eq!(r.body["state"], "offline");
    assert!(r.body["last_seen_at"].is_string(), "{}", r.body);
    // The live frame says when, as the API does.
    assert_eq!(f["last_seen_at"], r.body["last_seen_at"], "{f}");
}

#[tokio::test]
async fn blocking_a_watcher_turns_you_offline_on_their_screen_at_once() {
    let app = TestApp::spawn().await;
    let (a, b, c) = three_friends(&app).await;
    let mut alice = app.ws(&a).await;
    ready(&mut alice).await;
    let mut bob = app.ws(&b).await;
    ready(&mut bob).await;
    assert_eq!(alice.presence().await["state"], "available");

    // Bob blocks Alice: she sees him offline at once.
    let r = app
        .send(
            Method::PUT,
            &format!("/v1/blocklist/{ALICE}"),
            Some(&b),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let f = alice.presence().await;
    assert_eq!(
        (f["phone"].as_str(), f["state"].as_str()),
        (Some(BOB), Some("offline"))
    );
    assert!(f.get("last_seen_at").is_none(), "{f}");

    // Bob's later changes tell Alice nothing: the next frame she gets is Carol's.
    set_presence(&app, &b, "busy", Some("secret")).await;
    let mut carol = app.ws(&c).await;
    ready(&mut carol).await;
    let f = alice.presence().await;
    assert_eq!(
        (f["phone"].as_str(), f["state"].as_str()),
        (Some(CAROL), Some("available")),
        "{f}"
    );
    // And her view of Bob is that of an unregistered number.
    let r = app.get_auth(&format!("/v1/users/{BOB}/presence"), &a).await;
    assert_eq!(r.body, json!({ "state": "offline" }));
    // Carol, not blocked, sees Bob busy.
    let r = app.get_auth(&format!("/v1/users/{BOB}/presence"), &c).await;
    assert_eq!(r.body["state"], "busy");

    // Unblocked: Alice sees him again at once.
    app.send(
        Method::DELETE,
        &format!("/v1/blocklist/{ALICE}"),
        Some(&b),
        None,
    )
    .await;
    let f = alice.presence().await;
    assert_eq!(
        (f["phone"].as_str(), f["state"].as_str(), f["text"].as_str()),
        (Some(BOB), Some("busy"), Some("secret"))
    );

    // Allow-list mode without Alice on it hides Bob too.
    app.send(
        Method::PATCH,
        "/v1/privacy",
        Some(&b),
        Some(json!({ "visibility": "allowlist" })),
    )
    .await;
    assert_eq!(alice.presence().await["state"], "offline");
}

#[tokio::test]
async fn a_contact_registering_later_is_announced() {
    let app = TestApp::spawn().await;
    let a = app.code_login(ALICE, "a").await;
    app.put_contacts(
        &a,
        json!({ "contacts": [{ "name": "Bob", "phones": [BOB] }] }),
    )
    .await;
    let mut alice = app.ws(&a).await;
    let r = ready(&mut alice).await;
    assert_eq!(r["presence"], json!([]), "Bob is not registered yet");
    app.code_login(BOB, "b").await;
    let f = alice.frame().await;
    assert_eq!(f["type"], "contact_registered", "{f}");
    assert_eq!(f["phone"], BOB);
    assert!(f["user_id"].is_string());
}

#[tokio::test]
async fn handshake_needs_a_valid_token_and_revoking_closes_the_socket() {
    let app = TestApp::spawn().await;
    let a = app.code_login(ALICE, "a").await;
    assert_eq!(app.ws_refused("").await, 401);
    assert_eq!(app.ws_refused("?token=bogus").await, 401);

    // ?token= works too.
    let url = format!("{}/v1/ws?token={a}", app.base.replacen("http", "ws", 1));
    let (mut stream, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let first = futures::StreamExt::next(&mut stream)
        .await
        .unwrap()
        .unwrap();
    assert!(first.to_text().unwrap().contains("\"ready\""));

    let mut ws = app.ws(&a).await;
    ready(&mut ws).await;
    let other = app.code_login(ALICE, "other device").await;
    let devices = app.get_auth("/v1/devices", &other).await;
    let first_device = devices.body["devices"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/devices/{first_device}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    match ws.next().await {
        WsEvent::Closed(code) => assert_eq!(code, Some(4001)),
        WsEvent::Frame(f) => panic!("expected close, got {f}"),
    }
    assert_eq!(app.ws_refused(&format!("?token={a}")).await, 401);
}

#[tokio::test]
async fn malformed_frames_get_an_error_frame_and_the_connection_lives() {
    let app = TestApp::spawn().await;
    let a = app.code_login(ALICE, "a").await;
    let mut ws = app.ws(&a).await;
    ready(&mut ws).await;
    for (text, code) in [
        ("not json", "malformed_frame"),
        ("{\"no\":\"type\"}", "malformed_frame"),
        ("{\"type\":\"launch\"}", "unknown_frame"),
        ("[1,2]", "malformed_frame"),
    ] {
        ws.send_text(text).await;
        let f = ws.frame().await;
        assert_eq!(
            (f["type"].as_str(), f["code"].as_str()),
            (Some("error"), Some(code)),
            "{text}"
        );
    }
    ws.send_text("{\"type\":\"ping\"}").await;
    assert_eq!(ws.frame().await["type"], "pong");
    // Another user's connection is unaffected throughout.
    let b = app.code_login(BOB, "b").await;
    let mut bob = app.ws(&b).await;
    ready(&mut bob).await;
}

#[tokio::test]
async fn a_vanished_client_turns_offline() {
    let app = TestApp::spawn_with(|c| {
        c.connections.ping_secs = 1;
        c.connections.dead_after_secs = 2;
    })
    .await;
    let (a, b, _) = three_friends(&app).await;
    let mut alice = app.ws(&a).await;
    ready(&mut alice).await;
    // Bob connects, then his client vanishes: it never reads or answers again (no pong,
    // no close), as when a phone loses its network.
    let mut bob = app.ws(&b).await;
    ready(&mut bob).await;
    assert_eq!(alice.presence().await["state"], "available");
    let started = std::time::Instant::now();
    let f = alice.presence().await;
    assert_eq!(
        (f["phone"].as_str(), f["state"].as_str()),
        (Some(BOB), Some("offline")),
        "{f}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // Alice, who kept answering pings, is still connected.
    alice.send_text("{\"type\":\"ping\"}").await;
    assert_eq!(alice.frame().await["type"], "pong");
    drop(bob);
}

/// Stopping the server tells live devices it is going away (1001) and returns only once
/// their connections are over: sends answered, the device's disconnect recorded (offline,
/// last seen set).
#[tokio::test]
async fn stopping_waits_for_live_connections_to_end() {
    let mut app = TestApp::spawn().await;
    let a = app.code_login(ALICE, "a").await;
    app.code_login(BOB, "b").await;
    let direct = app.direct_id(&a, BOB).await;
    let alice_id = app.get_auth("/v1/account", &a).await.body["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ws = app.ws(&a).await;
    ready(&mut ws).await;
    ws.send_text(
        &json!({ "type": "send", "conversation_id": direct, "client_id": "s1", "kind": "text", "text": "bye" })
            .to_string(),
    )
    .await;
    loop {
        let f = ws.frame().await;
        if f["type"] == "sent" {
            break;
        }
    }
    // The device answers the server's close, but only after a moment (a phone on a slow
    // network): stopping waits for that too.
    let device = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        loop {
            if let WsEvent::Closed(code) = ws.next().await {
                return code;
            }
        }
    });
    app.stop_keeping_data().await;
    let store = dialtone_store::open(&app.config.database_url())
        .await
        .unwrap();
    assert!(
        store
            .presence
            .connected(&[alice_id.as_str().into()])
            .await
            .unwrap()
            .is_empty(),
        "the connection's end was recorded before stop returned"
    );
    assert!(
        store
            .presence
            .get(&alice_id)
            .await
            .unwrap()
            .last_seen_at
            .is_some()
    );
    assert_eq!(device.await.unwrap(), Some(1001));
}
