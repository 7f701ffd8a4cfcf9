//! Who hears of what, decided from the recipient's side: typing, receipts and presence from
//! someone the recipient blocks (or does not allow) never reach them, in direct and group
//! conversations. Absence is asserted behind a barrier: a frame from an allowed user, sent
//! after the one that must not arrive, comes first (one bus carries both, in order).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, Ws};

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";
const CAROL: &str = "+8613800138002";

/// Alice, Bob and Carol, each with the other two in their book; a group of the three
/// (made by Carol) and the direct conversations Alice–Bob and Alice–Carol.
struct Friends {
    app: TestApp,
    a: String,
    b: String,
    c: String,
    group: String,
    ab: String,
    ac: String,
}

async fn friends(app: TestApp) -> Friends {
    let a = app.code_login(ALICE, "a").await;
    let b = app.code_login(BOB, "b").await;
    let c = app.code_login(CAROL, "c").await;
    for (token, others) in [(&a, [BOB, CAROL]), (&b, [ALICE, CAROL]), (&c, [ALICE, BOB])] {
        let book = json!({ "contacts": others.iter().map(|p| json!({ "name": p, "phones": [p] })).collect::<Vec<_>>() });
        assert_eq!(app.put_contacts(token, book).await.status, StatusCode::OK);
    }
    let r = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&c),
            Some(json!({ "kind": "group", "name": "three", "members": [ALICE, BOB] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let group = r.body["id"].as_str().unwrap().to_owned();
    let ab = app.direct_id(&a, BOB).await;
    let ac = app.direct_id(&a, CAROL).await;
    Friends {
        app,
        a,
        b,
        c,
        group,
        ab,
        ac,
    }
}

pub(crate) async fn online(app: &TestApp, token: &str) -> Ws {
    let mut ws = app.ws(token).await;
    let f = ws.frame().await;
    assert_eq!(f["type"], "ready", "{f}");
    ws
}

/// The next frame that is not a presence frame.
pub(crate) async fn next_event(ws: &mut Ws) -> Value {
    loop {
        let f = ws.frame().await;
        if f["type"] != "presence" {
            return f;
        }
    }
}

/// The next presence frame (others skipped).
async fn next_presence(ws: &mut Ws) -> Value {
    loop {
        let f = ws.frame().await;
        if f["type"] == "presence" {
            return f;
        }
    }
}

async fn typing(ws: &mut Ws, conversation: &str) {
    ws.send_text(&json!({ "type": "typing", "conversation_id": conversation }).to_string())
        .await;
}

async fn list(app: &TestApp, token: &str, method: Method, path: &str, body: Option<Value>) {
    let r = app.send(method, path, Some(token), body).await;
    assert!(r.status.is_success(), "{path}: {r:?}");
}

fn typing_of(f: &Value) -> (&str, &str) {
    assert_eq!(f["type"], "typing", "{f}");
    (
        f["conversation_id"].as_str().unwrap(),
        f["phone"].as_str().unwrap(),
    )
}

#[tokio::test]
async fn typing_never_reaches_whoever_blocks_or_does_not_allow_the_typist() {
    typing_never_reaches_whoever_blocks_or_does_not_allow_the_typist_on(TestApp::spawn().await)
        .await;
}

/// On PostgreSQL, whose deployments read the privacy facts every time (no cache).
#[tokio::test]
async fn typing_never_reaches_whoever_blocks_or_does_not_allow_the_typist_on_postgres() {
    let Some(app) =
        TestApp::spawn_postgres("typing_never_reaches_whoever_blocks_or_does_not_allow_the_typist")
            .await
    else {
        return;
    };
    typing_never_reaches_whoever_blocks_or_does_not_allow_the_typist_on(app).await;
}

async fn typing_never_reaches_whoever_blocks_or_does_not_allow_the_typist_on(app: TestApp) {
    let f = friends(app).await;
    let app = &f.app;
    let mut alice = online(app, &f.a).await;
    let mut bob = online(app, &f.b).await;
    let mut carol = online(app, &f.c).await;

    // Allowed: Bob's typing reaches Alice in their direct conversation and in the group.
    typing(&mut bob, &f.ab).await;
    assert_eq!(
        typing_of(&next_event(&mut alice).await),
        (f.ab.as_str(), BOB)
    );
    typing(&mut bob, &f.group).await;
    assert_eq!(
        typing_of(&next_event(&mut alice).await),
        (f.group.as_str(), BOB)
    );
    assert_eq!(
        typing_of(&next_event(&mut carol).await),
        (f.group.as_str(), BOB)
    );

    // Alice blocks Bob. Bob's typing no longer reaches her, in either conversation; Carol
    // still sees him in the group. Carol typing afterwards is the barrier.
    list(
        app,
        &f.a,
        Method::PUT,
        &format!("/v1/blocklist/{BOB}"),
        None,
    )
    .await;
    typing(&mut bob, &f.ab).await;
    typing(&mut bob, &f.group).await;
    assert_eq!(
        typing_of(&next_event(&mut carol).await),
        (f.group.as_str(), BOB)
    );
    typing(&mut carol, &f.ac).await;
    assert_eq!(
        typing_of(&next_event(&mut alice).await),
        (f.ac.as_str(), CAROL),
        "a blocked typist showed as typing"
    );

    // The typist's own block hides them too: Bob blocks Carol, types in the group; Carol
    // sees nothing of it (Alice still blocks him).
    list(
        app,
        &f.b,
        Method::PUT,
        &format!("/v1/blocklist/{CAROL}"),
        None,
    )
    .await;
    typing(&mut bob, &f.group).await;
    typing(&mut alice, &f.group).await;
    assert_eq!(
        typing_of(&next_event(&mut carol).await),
        (f.group.as_str(), ALICE)
    );
    list(
        app,
        &f.b,
        Method::DELETE,
        &format!("/v1/blocklist/{CAROL}"),
        None,
    )
    .await;

    // Unblocked, Bob's typing reaches Alice again.
    list(
        app,
        &f.a,
        Method::DELETE,
        &format!("/v1/blocklist/{BOB}"),
        None,
    )
    .await;
    typing(&mut bob, &f.group).await;
    assert_eq!(
        typing_of(&next_event(&mut alice).await),
        (f.group.as_str(), BOB)
    );

    // Allow-list mode with only Carol on it: Bob's typing stops again, Carol's does not.
    list(
        app,
        &f.a,
        Method::PUT,
        &format!("/v1/allowlist/{CAROL}"),
        None,
    )
    .await;
    list(
        app,
        &f.a,
        Method::PATCH,
        "/v1/privacy",
        Some(json!({ "visibility": "allowlist" })),
    )
    .await;
    typing(&mut bob, &f.group).await;
    typing(&mut carol, &f.group).await;
    assert_eq!(
        typing_of(&next_event(&mut alice).await),
        (f.group.as_str(), CAROL),
        "a typist not on the allow-list showed as typing"
    );
    f.app.stop().await;
}

async fn say(app: &TestApp, token: &str, conversation: &str, client_id: &str) -> u64 {
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{conversation}/messages"),
            Some(token),
            Some(json!({ "client_id": client_id, "kind": "text", "text": client_id })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    r.body["seq"].as_u64().unwrap()
}

async fn ack(ws: &mut Ws, conversation: &str, seq: u64) {
    ws.send_text(
        &json!({ "type": "ack", "conversation_id": conversation, "seq": seq }).to_string(),
    )
    .await;
}

#[tokio::test]
async fn receipts_never_reach_whoever_blocks_the_reader() {
    receipts_never_reach_whoever_blocks_the_reader_on(TestApp::spawn().await).await;
}

/// On PostgreSQL, whose deployments read the privacy facts every time (no cache).
#[tokio::test]
async fn receipts_never_reach_whoever_blocks_the_reader_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("receipts_never_reach_whoever_blocks_the_reader").await
    else {
        return;
    };
    receipts_never_reach_whoever_blocks_the_reader_on(app).await;
}

async fn receipts_never_reach_whoever_blocks_the_reader_on(app: TestApp) {
    let f = friends(app).await;
    let app = &f.app;
    let mut alice = online(app, &f.a).await;
    let mut bob = online(app, &f.b).await;
    let mut carol = online(app, &f.c).await;

    // Alice blocks Bob, then writes to him: he gets it (he did not block her) and acks it,
    // but his receipt must not reach her. Carol's receipt, after it, is the barrier.
    list(
        app,
        &f.a,
        Method::PUT,
        &format!("/v1/blocklist/{BOB}"),
        None,
    )
    .await;
    let seq = say(app, &f.a, &f.ab, "to-bob").await;
    let got = next_event(&mut bob).await;
    assert_eq!(got["message"]["client_id"], "to-bob", "{got}");
    assert_eq!(next_event(&mut alice).await["type"], "message");
    ack(&mut bob, &f.ab, seq).await;
    let seq = say(app, &f.a, &f.ac, "to-carol").await;
    assert_eq!(next_event(&mut alice).await["type"], "message");
    assert_eq!(next_event(&mut carol).await["type"], "message");
    ack(&mut carol, &f.ac, seq).await;
    let r = next_event(&mut alice).await;
    assert_eq!(
        (
            r["type"].as_str(),
            r["phone"].as_str(),
            r["conversation_id"].as_str()
        ),
        (Some("receipt"), Some(CAROL), Some(f.ac.as_str())),
        "a receipt from a blocked reader reached the blocker: {r}"
    );
    // Nor does a read mark.
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{}/read", f.ab),
            Some(&f.b),
            Some(json!({ "seq": 1 })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{}/read", f.ac),
            Some(&f.c),
            Some(json!({ "seq": 1 })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = next_event(&mut alice).await;
    assert_eq!(
        (
            r["type"].as_str(),
            r["phone"].as_str(),
            r["status"].as_str()
        ),
        (Some("receipt"), Some(CAROL), Some("read")),
        "{r}"
    );
    f.app.stop().await;
}

#[tokio::test]
async fn presence_never_reaches_whoever_blocks_the_user() {
    presence_never_reaches_whoever_blocks_the_user_on(TestApp::spawn().await).await;
}

/// On PostgreSQL, whose deployments read the privacy facts every time (no cache).
#[tokio::test]
async fn presence_never_reaches_whoever_blocks_the_user_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("presence_never_reaches_whoever_blocks_the_user").await
    else {
        return;
    };
    presence_never_reaches_whoever_blocks_the_user_on(app).await;
}

async fn presence_never_reaches_whoever_blocks_the_user_on(app: TestApp) {
    let f = friends(app).await;
    let app = &f.app;
    let mut alice = online(app, &f.a).await;
    let _bob = online(app, &f.b).await;
    let p = next_presence(&mut alice).await;
    assert_eq!(
        (p["phone"].as_str(), p["state"].as_str()),
        (Some(BOB), Some("available"))
    );

    // Alice blocks Bob: on her screen he goes offline at once, and his changes no longer
    // reach her; Carol coming online afterwards is the barrier.
    list(
        app,
        &f.a,
        Method::PUT,
        &format!("/v1/blocklist/{BOB}"),
        None,
    )
    .await;
    let p = next_presence(&mut alice).await;
    assert_eq!(
        p,
        json!({ "type": "presence", "phone": BOB, "state": "offline" })
    );
    let r = app
        .send(
            Method::PUT,
            "/v1/presence",
            Some(&f.b),
            Some(json!({ "state": "busy", "text": "secret" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let _carol = online(app, &f.c).await;
    let p = next_presence(&mut alice).await;
    assert_eq!(
        (p["phone"].as_str(), p["state"].as_str()),
        (Some(CAROL), Some("available")),
        "presence of a blocked user reached the blocker: {p}"
    );
    // Asked directly, and in the book, she sees him as she would an unregistered number.
    let r = app
        .get_auth(&format!("/v1/users/{BOB}/presence"), &f.a)
        .await;
    assert_eq!(r.body, json!({ "state": "offline" }));
    let r = app.get_auth("/v1/contacts", &f.a).await;
    let entry = r.body["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["phone"] == BOB)
        .unwrap()
        .clone();
    assert_eq!(entry["presence"], json!({ "state": "offline" }), "{entry}");
    // A new connection's ready frame says the same.
    let mut again = app.ws(&f.a).await;
    let ready = again.frame().await;
    let bob_seen = ready["presence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["phone"] == BOB)
        .cloned();
    assert!(
        bob_seen.is_none_or(|p| p == json!({ "phone": BOB, "state": "offline" })),
        "{ready}"
    );
    // Unblocked, he is back with his state.
    list(
        app,
        &f.a,
        Method::DELETE,
        &format!("/v1/blocklist/{BOB}"),
        None,
    )
    .await;
    let p = next_presence(&mut alice).await;
    assert_eq!(
        (p["phone"].as_str(), p["state"].as_str(), p["text"].as_str()),
        (Some(BOB), Some("busy"), Some("secret"))
    );
    f.app.stop().await;
}
