//! Conversations and messages over HTTP and WebSocket: direct and group, idempotent
//! retries, gap-free seqs, offline catch-up, several devices, receipts, privacy.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, Ws};

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";
const CAROL: &str = "+8613800138002";
const NOBODY: &str = "+8613800138099";

async fn users(app: &TestApp) -> (String, String, String) {
    (
        app.code_login(ALICE, "a").await,
        app.code_login(BOB, "b").await,
        app.code_login(CAROL, "c").await,
    )
}

async fn direct(app: &TestApp, token: &str, peer: &str) -> crate::harness::Reply {
    app.send(
        Method::POST,
        "/v1/conversations",
        Some(token),
        Some(json!({ "kind": "direct", "peer": peer })),
    )
    .await
}

async fn say(
    app: &TestApp,
    token: &str,
    conv: &str,
    client_id: &str,
    text: &str,
) -> crate::harness::Reply {
    app.send(
        Method::POST,
        &format!("/v1/conversations/{conv}/messages"),
        Some(token),
        Some(json!({ "client_id": client_id, "kind": "text", "text": text })),
    )
    .await
}

async fn ready(ws: &mut Ws) {
    assert_eq!(ws.frame().await["type"], "ready");
}

/// A group "g" of Alice (its creator), Bob and Carol, each with a live connection past
/// `ready`: the group's id and the three connections.
async fn group_of_three(app: &TestApp, a: &str, b: &str, c: &str) -> (String, Ws, Ws, Ws) {
    let g = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(a),
            Some(json!({ "kind": "group", "name": "g", "members": [BOB, CAROL] })),
        )
        .await;
    let conv = g.body["id"].as_str().unwrap().to_owned();
    let mut alice = app.ws(a).await;
    ready(&mut alice).await;
    let mut bob = app.ws(b).await;
    ready(&mut bob).await;
    let mut carol = app.ws(c).await;
    ready(&mut carol).await;
    (conv, alice, bob, carol)
}

/// Each connection's next `n` frames are messages.
async fn everyone_gets<const N: usize>(n: usize, connections: [&mut Ws; N]) {
    for ws in connections {
        for _ in 0..n {
            expect(ws, "message").await;
        }
    }
}

/// The next frame, which must be of `kind`.
async fn expect(ws: &mut Ws, kind: &str) -> Value {
    let f = ws.frame().await;
    assert_eq!(f["type"], kind, "{f}");
    f
}

#[tokio::test]
async fn direct_conversation_send_receive_receipts() {
    direct_conversation_send_receive_receipts_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn direct_conversation_send_receive_receipts_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("direct_conversation_send_receive_receipts").await
    else {
        return;
    };
    direct_conversation_send_receive_receipts_on(app).await;
}

async fn direct_conversation_send_receive_receipts_on(app: TestApp) {
    let (a, b, _) = users(&app).await;
    let r = direct(&app, &a, "138 0013 8001").await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let conv = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["kind"], "direct");
    let mut members: Vec<&str> = r.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    members.sort();
    assert_eq!(members, vec![ALICE, BOB]);
    // The same pair again, from either side: the same conversation, 200.
    for (token, peer) in [(&a, BOB), (&b, ALICE)] {
        let r = direct(&app, token, peer).await;
        assert_eq!(
            (r.status, r.body["id"].as_str()),
            (StatusCode::OK, Some(conv.as_str()))
        );
    }

    let mut bob = app.ws(&b).await;
    ready(&mut bob).await;
    let mut alice_laptop = app.ws(&app.code_login(ALICE, "laptop").await).await;
    ready(&mut alice_laptop).await;

    let r = say(&app, &a, &conv, "c-1", "你好 👋").await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(
        (r.body["seq"].as_u64(), r.body["sender"].as_str()),
        (Some(1), Some(ALICE))
    );
    let id = r.body["id"].as_str().unwrap().to_owned();
    // A retry is the same message.
    let again = say(&app, &a, &conv, "c-1", "你好 👋").await;
    assert_eq!(
        (
            again.status,
            again.body["id"].as_str(),
            again.body["seq"].as_u64()
        ),
        (StatusCode::OK, Some(id.as_str()), Some(1))
    );

    // Bob and Alice's other device get it, once.
    for ws in [&mut bob, &mut alice_laptop] {
        let f = expect(ws, "message").await;
        assert_eq!(
            (f["message"]["id"].as_str(), f["message"]["text"].as_str()),
            (Some(id.as_str()), Some("你好 👋"))
        );
        assert_eq!(f["message"]["client_id"], "c-1");
    }

    // Bob's list: one unread, with the last message.
    let list = app.get_auth("/v1/conversations", &b).await;
    let c = &list.body["conversations"][0];
    assert_eq!(
        (c["unread"].as_u64(), c["last_message"]["id"].as_str()),
        (Some(1), Some(id.as_str()))
    );

    // Bob acknowledges: Alice's devices get "delivered"; then he reads: "read".
    let mut alice = app.ws(&a).await;
    ready(&mut alice).await;
    assert_eq!(
        expect(&mut alice, "message").await["message"]["seq"],
        1,
        "this new device catches up"
    );
    bob.send_text(&json!({ "type": "ack", "conversation_id": conv, "seq": 1 }).to_string())
        .await;
    let f = expect(&mut alice, "receipt").await;
    assert_eq!(
        (f["phone"].as_str(), f["seq"].as_u64(), f["status"].as_str()),
        (Some(BOB), Some(1), Some("delivered"))
    );
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{conv}/read"),
            Some(&b),
            Some(json!({ "seq": 1 })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let f = expect(&mut alice, "receipt").await;
    assert_eq!(f["status"], "read");
    assert_eq!(
        app.get_auth("/v1/conversations", &b).await.body["conversations"][0]["unread"],
        0
    );

    // Typing reaches the other side, and is not stored.
    bob.send_text(&json!({ "type": "typing", "conversation_id": conv }).to_string())
        .await;
    let f = expect(&mut alice, "typing").await;
    assert_eq!(f["phone"], BOB);

    // History in seq order, paged both ways.
    for i in 2..=5 {
        say(&app, &b, &conv, &format!("b-{i}"), &format!("message {i}")).await;
    }
    let base = format!("/v1/conversations/{conv}/messages");
    let page = |q: &'static str| {
        let path = format!("{base}{q}");
        let (app, a) = (&app, a.clone());
        async move { app.get_auth(&path, &a).await }
    };
    let seqs = |r: crate::harness::Reply| -> Vec<u64> {
        r.body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(seqs(page("").await), vec![1, 2, 3, 4, 5]);
    assert_eq!(seqs(page("?before_seq=5&limit=2").await), vec![3, 4]);
    assert_eq!(seqs(page("?after_seq=3").await), vec![4, 5]);
}

#[tokio::test]
async fn offline_devices_catch_up_in_order_and_acks_count_per_device() {
    offline_devices_catch_up_in_order_and_acks_count_per_device_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn offline_devices_catch_up_in_order_and_acks_count_per_device_on_postgres() {
    let Some(app) =
        TestApp::spawn_postgres("offline_devices_catch_up_in_order_and_acks_count_per_device")
            .await
    else {
        return;
    };
    offline_devices_catch_up_in_order_and_acks_count_per_device_on(app).await;
}

async fn offline_devices_catch_up_in_order_and_acks_count_per_device_on(app: TestApp) {
    let (a, b, _) = users(&app).await;
    let conv = direct(&app, &a, BOB).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for i in 1..=3 {
        assert_eq!(
            say(&app, &a, &conv, &format!("m{i}"), &format!("{i}"))
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let mut phone = app.ws(&b).await;
    ready(&mut phone).await;
    for want in 1..=3 {
        assert_eq!(expect(&mut phone, "message").await["message"]["seq"], want);
    }
    phone
        .send_text(&json!({ "type": "ack", "conversation_id": conv, "seq": 3 }).to_string())
        .await;
    phone.send_text("{\"type\":\"ping\"}").await;
    assert_eq!(expect(&mut phone, "pong").await["type"], "pong");
    phone.close().await;

    // The same device again: nothing left. Another device of Bob's: all three.
    let mut again = app.ws(&b).await;
    ready(&mut again).await;
    again.send_text("{\"type\":\"ping\"}").await;
    assert_eq!(
        again.frame().await["type"],
        "pong",
        "nothing was left to catch up"
    );
    let mut tablet = app.ws(&app.code_login(BOB, "tablet").await).await;
    ready(&mut tablet).await;
    for want in 1..=3 {
        assert_eq!(expect(&mut tablet, "message").await["message"]["seq"], want);
    }
}

#[tokio::test]
async fn groups_roles_and_members() {
    groups_roles_and_members_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn groups_roles_and_members_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("groups_roles_and_members").await else {
        return;
    };
    groups_roles_and_members_on(app).await;
}

async fn groups_roles_and_members_on(app: TestApp) {
    let (a, b, c) = users(&app).await;
    let r = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&a),
            Some(json!({ "kind": "group", "name": "家人", "members": [BOB, CAROL, NOBODY] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let conv = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["name"], "家人");
    assert_eq!(
        r.body["members"].as_array().unwrap().len(),
        3,
        "the unregistered number is left out"
    );
    assert_eq!(r.body["admins"], json!([ALICE]));

    let mut carol = app.ws(&c).await;
    ready(&mut carol).await;
    say(&app, &b, &conv, "hi", "hi all").await;
    assert_eq!(
        expect(&mut carol, "message").await["message"]["sender"],
        BOB
    );

    // Members are not admins.
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{conv}/members"),
            Some(&b),
            Some(json!({ "phones": [NOBODY] })),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_admin"));
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/conversations/{conv}/members/{CAROL}"),
            Some(&b),
            None,
        )
        .await;
    assert_eq!(r.code(), "not_admin");
    // The admin removes Carol: she no longer sees it.
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/conversations/{conv}/members/{CAROL}"),
            Some(&a),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get_auth(&format!("/v1/conversations/{conv}"), &c).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "conversation_not_found")
    );
    let r = say(&app, &c, &conv, "x", "still here?").await;
    assert_eq!(r.code(), "conversation_not_found");
    // Bob leaves by himself.
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/conversations/{conv}/members/{BOB}"),
            Some(&b),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // The admin adds Carol back.
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{conv}/members"),
            Some(&a),
            Some(json!({ "phones": [CAROL] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mut members: Vec<&str> = r.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    members.sort();
    assert_eq!(members, vec![ALICE, CAROL]);
    // Direct conversations have no members to manage.
    let d = direct(&app, &a, BOB).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{d}/members"),
            Some(&a),
            Some(json!({ "phones": [CAROL] })),
        )
        .await;
    assert_eq!(r.code(), "not_a_group");
}

#[tokio::test]
async fn a_blocked_sender_is_accepted_and_never_delivered() {
    a_blocked_sender_is_accepted_and_never_delivered_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn a_blocked_sender_is_accepted_and_never_delivered_on_postgres() {
    let Some(app) =
        TestApp::spawn_postgres("a_blocked_sender_is_accepted_and_never_delivered").await
    else {
        return;
    };
    a_blocked_sender_is_accepted_and_never_delivered_on(app).await;
}

async fn a_blocked_sender_is_accepted_and_never_delivered_on(app: TestApp) {
    let (a, b, c) = users(&app).await;
    let conv = direct(&app, &a, BOB).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bc = direct(&app, &c, BOB).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut alice = app.ws(&a).await;
    ready(&mut alice).await;
    let mut bob = app.ws(&b).await;
    ready(&mut bob).await;

    assert_eq!(
        app.send(
            Method::PUT,
            &format!("/v1/blocklist/{ALICE}"),
            Some(&b),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let r = say(&app, &a, &conv, "blocked-1", "can you hear me?").await;
    assert_eq!(r.status, StatusCode::CREATED, "accepted as usual: {r:?}");
    // Bob's next message is Carol's: Alice's never arrives.
    say(&app, &c, &bc, "c1", "from carol").await;
    let f = expect(&mut bob, "message").await;
    assert_eq!(f["message"]["sender"], CAROL, "{f}");
    // Not in Bob's history or unread count either.
    let h = app
        .get_auth(&format!("/v1/conversations/{conv}/messages"), &b)
        .await;
    assert!(
        h.body["messages"].as_array().unwrap().is_empty(),
        "{}",
        h.body
    );
    let list = app.get_auth("/v1/conversations", &b).await;
    let entry = list.body["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == conv.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["unread"], 0);
    assert!(entry.get("last_message").is_none());
    // Alice sees her message in her history, and no receipt ever comes: Bob's read of a
    // later message in another conversation tells her nothing, and her next frame is her
    // own next message.
    assert_eq!(
        app.get_auth(&format!("/v1/conversations/{conv}/messages"), &a)
            .await
            .body["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{conv}/read"),
            Some(&b),
            Some(json!({ "seq": 1 })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    say(&app, &a, &conv, "blocked-2", "hello?").await;
    let f = alice.frame().await;
    assert!(
        f["type"] == "message" && f["message"]["client_id"] == "blocked-1",
        "{f}"
    );
    let f = alice.frame().await;
    assert!(
        f["type"] == "message" && f["message"]["client_id"] == "blocked-2",
        "no receipt came first: {f}"
    );

    // Bob cannot quote what he never got: a withheld message is as unknown as a made-up id.
    let blocked_id = app
        .get_auth(&format!("/v1/conversations/{conv}/messages"), &a)
        .await
        .body["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let quote = |reply_to: &str| json!({ "client_id": format!("q-{reply_to}"), "kind": "text", "text": "re", "reply_to": reply_to });
    let withheld = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{conv}/messages"),
            Some(&b),
            Some(quote(&blocked_id)),
        )
        .await;
    let made_up = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{conv}/messages"),
            Some(&b),
            Some(quote("no-such-message")),
        )
        .await;
    assert_eq!(withheld.status, StatusCode::BAD_REQUEST, "{withheld:?}");
    assert_eq!(
        (withheld.code(), withheld.body["error"]["message"].clone()),
        (made_up.code(), made_up.body["error"]["message"].clone())
    );
    // Alice can reply to her own message; nobody can quote across conversations.
    let own = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{conv}/messages"),
            Some(&a),
            Some(quote(&blocked_id)),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{own:?}");
    assert_eq!(own.body["reply_to"], blocked_id.as_str());
    let elsewhere = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{bc}/messages"),
            Some(&c),
            Some(quote(&blocked_id)),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST, "{elsewhere:?}");

    // A new direct conversation with someone who blocked you looks like an unregistered number.
    let blocked = direct(&app, &a, CAROL).await;
    assert_eq!(blocked.status, StatusCode::CREATED);
    app.send(
        Method::PUT,
        &format!("/v1/blocklist/{ALICE}"),
        Some(&c),
        None,
    )
    .await;
    let nobody = direct(&app, &b, NOBODY).await;
    // (Alice and Carol already talk; a cold attempt by a stranger:)
    let dave = app.code_login("+8613800138003", "d").await;
    app.send(
        Method::PUT,
        "/v1/blocklist/%2B8613800138003",
        Some(&c),
        None,
    )
    .await;
    let to_blocker = direct(&app, &dave, CAROL).await;
    assert_eq!(
        (nobody.status, nobody.body.clone()),
        (to_blocker.status, to_blocker.body.clone())
    );
    assert_eq!(nobody.code(), "user_not_found");
}

#[tokio::test]
async fn concurrent_senders_get_gap_free_seqs() {
    concurrent_senders_get_gap_free_seqs_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn concurrent_senders_get_gap_free_seqs_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("concurrent_senders_get_gap_free_seqs").await else {
        return;
    };
    concurrent_senders_get_gap_free_seqs_on(app).await;
}

async fn concurrent_senders_get_gap_free_seqs_on(app: TestApp) {
    let (a, b, _) = users(&app).await;
    let conv = direct(&app, &a, BOB).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut sends = Vec::new();
    for i in 0..30 {
        let token = if i % 2 == 0 { a.clone() } else { b.clone() };
        let url = format!("{}/v1/conversations/{conv}/messages", app.base);
        let http = app.http.clone();
        sends.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({ "client_id": format!("k{i}"), "kind": "text", "text": format!("{i}") }))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for s in sends {
        assert_eq!(s.await.unwrap(), StatusCode::CREATED);
    }
    assert_eq!(
        app.history_seqs(&conv, &a).await,
        (1..=30).collect::<Vec<u64>>()
    );
}

#[tokio::test]
async fn bad_messages_and_conversations_are_clear_4xx() {
    bad_messages_and_conversations_are_clear_4xx_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn bad_messages_and_conversations_are_clear_4xx_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("bad_messages_and_conversations_are_clear_4xx").await
    else {
        return;
    };
    bad_messages_and_conversations_are_clear_4xx_on(app).await;
}

async fn bad_messages_and_conversations_are_clear_4xx_on(app: TestApp) {
    let (a, b, c) = users(&app).await;
    let conv = direct(&app, &a, BOB).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/conversations/{conv}/messages");
    let post = |token: String, body: Value| {
        let (app, path) = (&app, path.clone());
        async move {
            app.send(Method::POST, &path, Some(&token), Some(body))
                .await
        }
    };
    let cases = [
        (
            json!({ "client_id": "1", "kind": "text", "text": "x".repeat(64 * 1024 + 1) }),
            StatusCode::PAYLOAD_TOO_LARGE,
            "text_too_long",
        ),
        (
            json!({ "client_id": "1", "kind": "text" }),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            json!({ "client_id": "1", "kind": "text", "text": "   " }),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            json!({ "client_id": "", "kind": "text", "text": "x" }),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            json!({ "client_id": "1", "kind": "hologram", "text": "x" }),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            // The server's own kind: a client cannot write group changes.
            json!({ "client_id": "1", "kind": "system", "text": "{\"action\":\"left\"}" }),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            json!({ "client_id": "1", "kind": "image", "attachment_id": "someone-elses" }),
            StatusCode::BAD_REQUEST,
            "attachment_not_found",
        ),
        (
            json!({ "client_id": "1", "kind": "text", "text": "x", "attachment_id": "a" }),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            json!({ "kind": "text", "text": "x" }),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
    ];
    for (body, status, code) in cases {
        let r = post(a.clone(), body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (status, code),
            "{}",
            &body.to_string()[..body.to_string().len().min(80)]
        );
    }
    // Not a member, unknown conversation: the same 404.
    let r = post(
        c.clone(),
        json!({ "client_id": "1", "kind": "text", "text": "x" }),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "conversation_not_found")
    );
    let r = say(&app, &a, "no-such-conversation", "1", "x").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "conversation_not_found")
    );
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{conv}/read"),
            Some(&b),
            Some(json!({ "seq": 99 })),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
    let r = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&a),
            Some(json!({ "kind": "channel" })),
        )
        .await;
    assert_eq!(r.code(), "invalid_input");
    let r = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&a),
            Some(json!({ "kind": "direct", "peer": "garbage" })),
        )
        .await;
    assert_eq!(r.code(), "invalid_phone");
    let r = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&a),
            Some(json!({ "kind": "group", "name": "", "members": [] })),
        )
        .await;
    assert_eq!(r.code(), "invalid_input");
    // Bad frames about conversations get an error frame; the connection lives on.
    let mut ws = app.ws(&c).await;
    ready(&mut ws).await;
    ws.send_text(&json!({ "type": "ack", "conversation_id": conv, "seq": 1 }).to_string())
        .await;
    assert_eq!(ws.frame().await["code"], "conversation_not_found");
    ws.send_text(&json!({ "type": "ack", "conversation_id": conv }).to_string())
        .await;
    assert_eq!(ws.frame().await["code"], "malformed_frame");
    ws.send_text(&json!({ "type": "typing" }).to_string()).await;
    assert_eq!(ws.frame().await["code"], "malformed_frame");
    ws.send_text("{\"type\":\"ping\"}").await;
    assert_eq!(ws.frame().await["type"], "pong");
}

#[tokio::test]
async fn edits_deletes_and_renames_are_seen_live_within_their_windows() {
    edits_deletes_and_renames_are_seen_live_within_their_windows_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn edits_deletes_and_renames_are_seen_live_within_their_windows_on_postgres() {
    let Some(app) =
        TestApp::spawn_postgres("edits_deletes_and_renames_are_seen_live_within_their_windows")
            .await
    else {
        return;
    };
    edits_deletes_and_renames_are_seen_live_within_their_windows_on(app).await;
}

async fn edits_deletes_and_renames_are_seen_live_within_their_windows_on(app: TestApp) {
    let (a, b, _) = users(&app).await;
    let conv = direct(&app, &a, BOB).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut bob = app.ws(&b).await;
    ready(&mut bob).await;
    let id = say(&app, &a, &conv, "e1", "helo").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    expect(&mut bob, "message").await;
    let path = format!("/v1/conversations/{conv}/messages/{id}");

    let r = app
        .send(
            Method::PATCH,
            &path,
            Some(&a),
            Some(json!({ "text": "hello" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["text"], "hello");
    assert!(r.body["edited_at"].is_string());
    let f = expect(&mut bob, "message_updated").await;
    assert_eq!(
        (f["message"]["id"].as_str(), f["message"]["text"].as_str()),
        (Some(id.as_str()), Some("hello"))
    );
    // Only the sender edits.
    let r = app
        .send(
            Method::PATCH,
            &path,
            Some(&b),
            Some(json!({ "text": "mine now" })),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "not_your_message")
    );
    // Too late after the window.
    app.advance(chrono::Duration::minutes(16));
    let r = app
        .send(
            Method::PATCH,
            &path,
            Some(&a),
            Some(json!({ "text": "late" })),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "too_late"));
    // Delete for everyone still works; the text is gone for both.
    let r = app.send(Method::DELETE, &path, Some(&a), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let f = expect(&mut bob, "message_updated").await;
    assert_eq!(f["message"]["deleted"], true);
    assert!(f["message"].get("text").is_none());
    let h = app
        .get_auth(&format!("/v1/conversations/{conv}/messages"), &b)
        .await;
    assert_eq!(h.body["messages"][0]["deleted"], true);
    let r = app.send(Method::DELETE, &path, Some(&a), None).await;
    assert_eq!(r.code(), "message_not_found");
    app.advance(chrono::Duration::days(3));
    let id2 = say(&app, &a, &conv, "e2", "x").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.advance(chrono::Duration::days(3));
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/conversations/{conv}/messages/{id2}"),
            Some(&a),
            None,
        )
        .await;
    assert_eq!(r.code(), "too_late");

    // Group rename by its admin only.
    let g = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&a),
            Some(json!({ "kind": "group", "name": "old", "members": [BOB] })),
        )
        .await;
    let gid = g.body["id"].as_str().unwrap().to_owned();
    let r = app
        .send(
            Method::PATCH,
            &format!("/v1/conversations/{gid}"),
            Some(&b),
            Some(json!({ "name": "mine" })),
        )
        .await;
    assert_eq!(r.code(), "not_admin");
    let r = app
        .send(
            Method::PATCH,
            &format!("/v1/conversations/{gid}"),
            Some(&a),
            Some(json!({ "name": "新群名" })),
        )
        .await;
    assert_eq!(r.body["name"], "新群名");
}

#[tokio::test]
async fn stickers_from_the_hosted_pack() {
    stickers_from_the_hosted_pack_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn stickers_from_the_hosted_pack_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("stickers_from_the_hosted_pack").await else {
        return;
    };
    stickers_from_the_hosted_pack_on(app).await;
}

async fn stickers_from_the_hosted_pack_on(app: TestApp) {
    let (a, b, _) = users(&app).await;
    let packs = app.send(Method::GET, "/v1/stickers", None, None).await;
    let first = packs.body["packs"][0]["stickers"][0].clone();
    let name = first["name"].as_str().unwrap().to_owned();
    let image = app
        .http
        .get(format!("{}{}", app.base, first["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(image.headers()["content-type"], "image/svg+xml");
    assert!(image.text().await.unwrap().contains("<svg"));
    let r = app
        .send(Method::GET, "/v1/stickers/basic/none", None, None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "sticker_not_found")
    );

    let conv = direct(&app, &a, BOB).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut bob = app.ws(&b).await;
    ready(&mut bob).await;
    let path = format!("/v1/conversations/{conv}/messages");
    let send = |body: Value| app.send(Method::POST, &path, Some(&a), Some(body));
    let r = send(json!({ "client_id": "s1", "kind": "sticker", "text": name })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let f = expect(&mut bob, "message").await;
    assert_eq!(
        (f["message"]["kind"].as_str(), f["message"]["text"].as_str()),
        (Some("sticker"), Some(name.as_str()))
    );
    let r = send(json!({ "client_id": "s2", "kind": "sticker", "text": "basic/unicorn" })).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
}

#[tokio::test]
async fn group_receipts_go_to_the_sender_only() {
    group_receipts_go_to_the_sender_only_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn group_receipts_go_to_the_sender_only_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("group_receipts_go_to_the_sender_only").await else {
        return;
    };
    group_receipts_go_to_the_sender_only_on(app).await;
}

async fn group_receipts_go_to_the_sender_only_on(app: TestApp) {
    let (a, b, c) = users(&app).await;
    let (conv, mut alice, mut bob, mut carol) = group_of_three(&app, &a, &b, &c).await;
    say(&app, &b, &conv, "b1", "hello group").await;
    for ws in [&mut alice, &mut bob, &mut carol] {
        expect(ws, "message").await;
    }
    carol
        .send_text(&json!({ "type": "ack", "conversation_id": conv, "seq": 1 }).to_string())
        .await;
    let f = expect(&mut bob, "receipt").await;
    assert_eq!(
        (f["phone"].as_str(), f["status"].as_str()),
        (Some(CAROL), Some("delivered"))
    );
    // Alice, who did not send it, hears nothing of Carol's receipt: her next frame is the
    // next message.
    say(&app, &b, &conv, "b2", "again").await;
    let f = alice.frame().await;
    assert_eq!(
        (f["type"].as_str(), f["message"]["client_id"].as_str()),
        (Some("message"), Some("b2")),
        "{f}"
    );
}

#[tokio::test]
async fn acks_arriving_together_each_reach_their_message_sender() {
    acks_arriving_together_each_reach_their_message_sender_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn acks_arriving_together_each_reach_their_message_sender_on_postgres() {
    let Some(app) =
        TestApp::spawn_postgres("acks_arriving_together_each_reach_their_message_sender").await
    else {
        return;
    };
    acks_arriving_together_each_reach_their_message_sender_on(app).await;
}

async fn acks_arriving_together_each_reach_their_message_sender_on(app: TestApp) {
    let (a, b, c) = users(&app).await;
    let (conv, mut alice, mut bob, mut carol) = group_of_three(&app, &a, &b, &c).await;
    say(&app, &a, &conv, "a1", "from alice").await;
    say(&app, &b, &conv, "b2", "from bob").await;
    everyone_gets(2, [&mut alice, &mut bob, &mut carol]).await;
    // At once (likely one commit): Bob acks Alice's message; Alice and Carol ack Bob's.
    let ack = |seq: u64| json!({ "type": "ack", "conversation_id": conv, "seq": seq }).to_string();
    bob.send_text(&ack(1)).await;
    alice.send_text(&ack(2)).await;
    carol.send_text(&ack(2)).await;
    let f = expect(&mut alice, "receipt").await;
    assert_eq!(
        (f["phone"].as_str(), f["seq"].as_u64()),
        (Some(BOB), Some(1))
    );
    let mut heard = vec![
        expect(&mut bob, "receipt").await,
        expect(&mut bob, "receipt").await,
    ]
    .into_iter()
    .map(|f| {
        (
            f["phone"].as_str().unwrap().to_owned(),
            f["seq"].as_u64().unwrap(),
        )
    })
    .collect::<Vec<_>>();
    heard.sort();
    let mut want = vec![(ALICE.to_owned(), 2), (CAROL.to_owned(), 2)];
    want.sort();
    assert_eq!(heard, want);
    // Carol sent nothing: she hears no receipt; her next frame answers her ping.
    carol.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(carol.frame().await["type"], "pong");
}

#[tokio::test]
async fn messages_follow_membership_changes_at_once() {
    messages_follow_membership_changes_at_once_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn messages_follow_membership_changes_at_once_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("messages_follow_membership_changes_at_once").await
    else {
        return;
    };
    messages_follow_membership_changes_at_once_on(app).await;
}

async fn messages_follow_membership_changes_at_once_on(app: TestApp) {
    let (a, _b, c) = users(&app).await;
    let g = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&a),
            Some(json!({ "kind": "group", "name": "g", "members": [BOB, CAROL] })),
        )
        .await;
    let conv = g.body["id"].as_str().unwrap().to_owned();
    let mut carol = app.ws(&c).await;
    ready(&mut carol).await;
    say(&app, &a, &conv, "m1", "everyone").await;
    let f = expect(&mut carol, "message").await;
    assert_eq!(f["message"]["client_id"], "m1");
    let member = format!("/v1/conversations/{conv}/members/{CAROL}");
    let r = app.send(Method::DELETE, &member, Some(&a), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let f = expect(&mut carol, "conversation_removed").await;
    assert_eq!(f["conversation_id"], conv.as_str());
    // The group's members were kept from the first send: her removal is seen at once.
    let r = say(&app, &c, &conv, "c1", "still in?").await;
    assert_eq!(r.code(), "conversation_not_found");
    say(&app, &a, &conv, "m2", "not for carol").await;
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{conv}/members"),
            Some(&a),
            Some(json!({ "phones": [CAROL] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    say(&app, &a, &conv, "m3", "carol again").await;
    // Nothing reached her while she was out. Back in, her device gets the conversation in
    // seq order from where it was, as her history shows it: the line of her removal, the
    // message sent meanwhile, the line saying she was added, the next message (the group's
    // new state may come between them).
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let f = carol.frame().await;
        match f["type"].as_str() {
            Some("message") => {
                let m = &f["message"];
                let what = m["system"]["action"].as_str().or(m["client_id"].as_str());
                seen.push(what.unwrap().to_owned());
            }
            Some("conversation") => {}
            _ => panic!("unexpected {f}"),
        }
    }
    assert_eq!(seen, ["removed", "m2", "added", "m3"]);
}

#[tokio::test]
async fn a_sender_who_left_the_group_hears_no_receipts() {
    a_sender_who_left_the_group_hears_no_receipts_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn a_sender_who_left_the_group_hears_no_receipts_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("a_sender_who_left_the_group_hears_no_receipts").await
    else {
        return;
    };
    a_sender_who_left_the_group_hears_no_receipts_on(app).await;
}

async fn a_sender_who_left_the_group_hears_no_receipts_on(app: TestApp) {
    let (a, b, c) = users(&app).await;
    let (conv, mut alice, mut bob, mut carol) = group_of_three(&app, &a, &b, &c).await;
    say(&app, &b, &conv, "b1", "from bob").await;
    say(&app, &a, &conv, "a2", "from alice").await;
    everyone_gets(2, [&mut alice, &mut bob, &mut carol]).await;
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/conversations/{conv}/members/{BOB}"),
            Some(&b),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // The others see the line saying he left, and the group without him.
    for ws in [&mut alice, &mut carol] {
        let f = expect(ws, "message").await;
        assert_eq!(f["message"]["system"]["action"], "left", "{f}");
        expect(ws, "conversation").await;
    }
    assert_eq!(
        expect(&mut bob, "conversation_removed").await["conversation_id"],
        conv.as_str()
    );
    // Carol acknowledges Bob's message, then (after the coalescing window) Alice's.
    carol
        .send_text(&json!({ "type": "ack", "conversation_id": conv, "seq": 1 }).to_string())
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    carol
        .send_text(&json!({ "type": "ack", "conversation_id": conv, "seq": 2 }).to_string())
        .await;
    let f = expect(&mut alice, "receipt").await;
    assert_eq!(
        (f["phone"].as_str(), f["seq"].as_u64()),
        (Some(CAROL), Some(2))
    );
    // Bob, no longer a member, was told nothing more: his next frame answers his ping.
    bob.send_text(r#"{"type":"ping"}"#).await;
    let f = bob.frame().await;
    assert_eq!(f["type"], "pong", "{f}");
}

#[tokio::test]
async fn conversations_with_hidden_contacts_need_the_vault() {
    conversations_with_hidden_contacts_need_the_vault_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn conversations_with_hidden_contacts_need_the_vault_on_postgres() {
    let Some(app) =
        TestApp::spawn_postgres("conversations_with_hidden_contacts_need_the_vault").await
    else {
        return;
    };
    conversations_with_hidden_contacts_need_the_vault_on(app).await;
}

async fn conversations_with_hidden_contacts_need_the_vault_on(app: TestApp) {
    let (a, _, _) = users(&app).await;
    let with_bob = direct(&app, &a, BOB).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let with_carol = direct(&app, &a, CAROL).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.put_contacts(&a, json!({ "contacts": [{ "name": "Bob", "phones": [BOB] }, { "name": "Carol", "phones": [CAROL] }] }))
        .await;
    app.send(
        Method::PUT,
        &format!("/v1/contacts/{BOB}/hidden"),
        Some(&a),
        Some(json!({ "hidden": true })),
    )
    .await;
    let ids = |r: &crate::harness::Reply| -> Vec<String> {
        r.body["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&app.get_auth("/v1/conversations", &a).await),
        vec![with_carol.clone()]
    );
    app.send(
        Method::PUT,
        "/v1/vault/password",
        Some(&a),
        Some(json!({ "password": "vault pw" })),
    )
    .await;
    let token = app
        .send(
            Method::POST,
            "/v1/vault/unlock",
            Some(&a),
            Some(json!({ "password": "vault pw" })),
        )
        .await
        .body["vault_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .http
        .get(format!("{}/v1/conversations", app.base))
        .bearer_auth(&a)
        .header("x-vault-token", token)
        .send()
        .await
        .unwrap();
    let mut listed = ids(&TestApp::reply(r).await);
    listed.sort();
    let mut both = vec![with_bob, with_carol];
    both.sort();
    assert_eq!(listed, both);
}

#[tokio::test]
async fn a_burst_of_acks_becomes_one_receipt() {
    a_burst_of_acks_becomes_one_receipt_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn a_burst_of_acks_becomes_one_receipt_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("a_burst_of_acks_becomes_one_receipt").await else {
        return;
    };
    a_burst_of_acks_becomes_one_receipt_on(app).await;
}

async fn a_burst_of_acks_becomes_one_receipt_on(app: TestApp) {
    let (a, b, _) = users(&app).await;
    let conv = direct(&app, &a, BOB).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut alice = app.ws(&a).await;
    ready(&mut alice).await;
    let mut bob = app.ws(&b).await;
    ready(&mut bob).await;
    for i in 1..=3 {
        say(&app, &a, &conv, &format!("burst-{i}"), "tick").await;
        expect(&mut alice, "message").await;
        expect(&mut bob, "message").await;
    }
    // A burst: three acks in one write, read within the server's 50 ms window (sent one
    // write at a time, a loaded machine could spread them over more than one window).
    let acks: Vec<String> = (1..=3)
        .map(|seq| json!({ "type": "ack", "conversation_id": conv, "seq": seq }).to_string())
        .collect();
    bob.send_texts(&acks).await;
    // One receipt, for the highest seq, not one per ack.
    let f = expect(&mut alice, "receipt").await;
    assert_eq!(
        (f["seq"].as_u64(), f["status"].as_str()),
        (Some(3), Some("delivered"))
    );
    bob.send_text(&json!({ "type": "typing", "conversation_id": conv }).to_string())
        .await;
    expect(&mut alice, "typing").await;
    // The acks were recorded for Bob's device: a new connection of it gets nothing again.
    drop(bob);
    let mut bob_again = app.ws(&b).await;
    ready(&mut bob_again).await;
    say(&app, &a, &conv, "after", "next").await;
    let f = expect(&mut bob_again, "message").await;
    assert_eq!(f["message"]["seq"], 4, "only the new message: {f}");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_as_slow_and_catches_up_later() {
    let app = TestApp::spawn_with(|c| c.connections.queue = 4).await;
    let (a, b, _) = users(&app).await;
    let conv = direct(&app, &a, BOB).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut bob = app.ws_small_buffer(&b).await;
    ready(&mut bob).await;
    // Bob stops reading. Alice sends far more than his socket and queue can hold.
    let text = "x".repeat(60 * 1024);
    let sent = 200u64;
    for i in 0..sent {
        let r = say(&app, &a, &conv, &format!("flood-{i}"), &text).await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    // Reading again, Bob finds what was already on its way, then the server's close.
    let mut delivered = 0u64;
    let code = loop {
        match bob.next().await {
            crate::harness::WsEvent::Frame(f) => {
                assert_eq!(f["type"], "message", "{f}");
                delivered += 1;
            }
            crate::harness::WsEvent::Closed(code) => break code,
        }
    };
    assert_eq!(
        code,
        Some(4008),
        "closed as a slow consumer after {delivered} messages"
    );
    assert!(
        delivered < sent,
        "all {sent} arrived: the client was never slow"
    );
    // Nothing is lost: reconnecting, he gets every message he did not acknowledge, in order.
    let mut bob = app.ws(&b).await;
    ready(&mut bob).await;
    let first = expect(&mut bob, "message").await;
    assert_eq!(
        first["message"]["seq"], 1,
        "{}",
        first["message"]["client_id"]
    );
}
