//! Two server processes on one PostgreSQL database and one NATS server: a user connected
//! to node A sees, live, the presence of a contact connected to node B; a block made on
//! node B hides them on node A at once; and when node B dies (`kill -9`), node A turns
//! its users offline.
//!
//! Needs `DIALTONE_TEST_POSTGRES_URL` (scripts/test sets it) and NATS at
//! `DIALTONE_TEST_NATS_URL` (default nats://127.0.0.1:4222).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use rand::RngCore;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use common::{Server as Node, free_port};

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";

/// A node on `<dir>/<name>` and a free port, with the deployment's settings.
fn start_node(dir: &std::path::Path, name: &str, env: &[(&str, String)]) -> Node {
    Node::start_with(dir.join(name), free_port(), env)
}

async fn call(
    node: &Node,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", node.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Registers `phone` on `node` with the code from that node's outbox; the token.
async fn register(node: &Node, phone: &str) -> String {
    let (status, v) = call(
        node,
        reqwest::Method::POST,
        "/v1/verifications",
        None,
        Some(json!({ "phone": phone })),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let code = node.last_code(phone);
    let path = format!("/v1/verifications/{}/code", v["id"].as_str().unwrap());
    let (status, v) = call(
        node,
        reqwest::Method::POST,
        &path,
        None,
        Some(json!({ "code": code })),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v["token"].as_str().unwrap().to_owned()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(node: &Node, token: &str) -> Socket {
    let mut request = format!("{}/v1/ws", node.url.replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// The next text frame, within `wait`.
async fn frame(socket: &mut Socket, wait: Duration) -> Value {
    loop {
        let message = tokio::time::timeout(wait, socket.next())
            .await
            .expect("no frame in time")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// The settings that make processes one deployment: a fresh database, a NATS subject of
/// their own, a shared server key; `None` when PostgreSQL tests are off.
async fn deployment(test: &str) -> Option<Vec<(&'static str, String)>> {
    let database = dialtone_store::testing::fresh_postgres_url(test)
        .await
        .unwrap()?;
    let nats =
        std::env::var("DIALTONE_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let mut subject_bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut subject_bytes);
    Some(vec![
        ("DIALTONE_DATABASE__URL", database),
        ("DIALTONE_BUS__URL", nats),
        (
            "DIALTONE_BUS__SUBJECT",
            format!("dialtone.test.{}", hex::encode(subject_bytes)),
        ),
        ("DIALTONE_SECRETS__KEY", hex::encode(key)),
    ])
}

#[tokio::test]
async fn presence_and_blocks_cross_nodes_and_a_dead_node_is_swept() {
    let Some(mut env) = deployment("two_nodes").await else {
        return;
    };
    env.push(("DIALTONE_NODES__HEARTBEAT_SECS", "1".into()));
    env.push(("DIALTONE_NODES__DEAD_AFTER_SECS", "3".into()));
    let dir = tempfile::tempdir().unwrap();
    let node_a = start_node(dir.path(), "a", &env);
    let mut node_b = start_node(dir.path(), "b", &env);

    let alice = register(&node_a, ALICE).await;
    let bob = register(&node_b, BOB).await;
    for (node, token, other) in [(&node_a, &alice, BOB), (&node_b, &bob, ALICE)] {
        let (status, v) = call(
            node,
            reqwest::Method::PUT,
            "/v1/contacts",
            Some(token),
            Some(json!({ "contacts": [{ "name": "x", "phones": [other] }] })),
        )
        .await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(
            v["contacts"][0]["registered"], true,
            "the other node's user is found: {v}"
        );
    }

    let second = Duration::from_secs(1);
    let mut on_a = connect(&node_a, &alice).await;
    assert_eq!(frame(&mut on_a, second).await["type"], "ready");
    let mut on_b = connect(&node_b, &bob).await;
    assert_eq!(frame(&mut on_b, second).await["type"], "ready");

    // Bob, on node B, comes online: Alice, on node A, sees it within a second.
    let f = frame(&mut on_a, second).await;
    assert_eq!(
        (f["phone"].as_str(), f["state"].as_str()),
        (Some(BOB), Some("available")),
        "{f}"
    );

    let (status, _) = call(
        &node_b,
        reqwest::Method::PUT,
        "/v1/presence",
        Some(&bob),
        Some(json!({ "state": "busy", "text": "on B" })),
    )
    .await;
    assert_eq!(status, 204);
    let f = frame(&mut on_a, second).await;
    assert_eq!(
        (f["state"].as_str(), f["text"].as_str()),
        (Some("busy"), Some("on B"))
    );

    // A block made on node B hides Bob on node A at once.
    let (status, _) = call(
        &node_b,
        reqwest::Method::PUT,
        &format!("/v1/blocklist/{ALICE}"),
        Some(&bob),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let f = frame(&mut on_a, second).await;
    assert_eq!(
        (f["phone"].as_str(), f["state"].as_str()),
        (Some(BOB), Some("offline")),
        "{f}"
    );
    let (_, v) = call(
        &node_a,
        reqwest::Method::GET,
        &format!("/v1/users/{BOB}/presence"),
        Some(&alice),
        None,
    )
    .await;
    assert_eq!(v, json!({ "state": "offline" }));
    // Nor does Alice's presence reach Bob, who blocks her (decided from his side).
    let f = frame(&mut on_b, second).await;
    assert_eq!(
        (f["phone"].as_str(), f["state"].as_str()),
        (Some(ALICE), Some("offline")),
        "{f}"
    );
    let (status, _) = call(
        &node_b,
        reqwest::Method::DELETE,
        &format!("/v1/blocklist/{ALICE}"),
        Some(&bob),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(frame(&mut on_a, second).await["state"], "busy");
    let f = frame(&mut on_b, second).await;
    assert_eq!(
        (f["phone"].as_str(), f["state"].as_str()),
        (Some(ALICE), Some("available")),
        "{f}"
    );

    // A message sent on node A reaches Bob on node B, and his reply comes back.
    let (status, conv) = call(
        &node_a,
        reqwest::Method::POST,
        "/v1/conversations",
        Some(&alice),
        Some(json!({ "kind": "direct", "peer": BOB })),
    )
    .await;
    assert_eq!(status, 201, "{conv}");
    let conv = conv["id"].as_str().unwrap().to_owned();
    let send = |node: &Node, token: &str, text: &str| {
        let path = format!("/v1/conversations/{conv}/messages");
        let body = json!({ "client_id": text, "kind": "text", "text": text });
        let (base, token) = (node.url.clone(), token.to_owned());
        async move {
            let r = reqwest::Client::new()
                .post(format!("{base}{path}"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 201);
        }
    };
    send(&node_a, &alice, "from A").await;
    // Alice's own socket sees her message too (her other devices would).
    assert_eq!(frame(&mut on_a, second).await["message"]["text"], "from A");
    let f = frame(&mut on_b, second).await;
    assert_eq!(
        (f["type"].as_str(), f["message"]["text"].as_str()),
        (Some("message"), Some("from A")),
        "{f}"
    );
    send(&node_b, &bob, "from B").await;
    let f = frame(&mut on_a, second).await;
    assert_eq!(
        (
            f["message"]["text"].as_str(),
            f["message"]["sender"].as_str()
        ),
        (Some("from B"), Some(BOB)),
        "{f}"
    );

    // Node B dies without a word: node A sweeps it and Bob turns offline (well within 60 s).
    node_b.kill_9();
    let f = frame(&mut on_a, Duration::from_secs(20)).await;
    assert_eq!(
        (f["phone"].as_str(), f["state"].as_str()),
        (Some(BOB), Some("offline")),
        "{f}"
    );
    let (_, v) = call(
        &node_a,
        reqwest::Method::GET,
        &format!("/v1/users/{BOB}/presence"),
        Some(&alice),
        None,
    )
    .await;
    assert_eq!(v["state"], "offline");
    assert!(v["last_seen_at"].is_string(), "{v}");

    let _ = on_a.send(Message::Close(None)).await;
    drop(on_b);
}

/// Two nodes on a fresh database and NATS subject, node B set to die right after it
/// commits the message with client id `boom`, before publishing it; node A checking its
/// connections against the database every `recheck_secs`.
async fn nodes_with_a_fault(recheck_secs: u64) -> Option<(tempfile::TempDir, Node, Node)> {
    let mut env = deployment("two_nodes_fault").await?;
    // No sweep during the test: only the path under test delivers.
    env.push(("DIALTONE_NODES__DEAD_AFTER_SECS", "3600".into()));
    env.push((
        "DIALTONE_CONNECTIONS__RECHECK_SECS",
        recheck_secs.to_string(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let node_a = start_node(dir.path(), "a", &env);
    let mut faulty = env.clone();
    faulty.push(("DIALTONE_FAULT_ABORT_AFTER_COMMIT", "boom".into()));
    let node_b = start_node(dir.path(), "b", &faulty);
    Some((dir, node_a, node_b))
}

/// Alice and Bob registered, each in the other's book, and their direct conversation.
async fn alice_and_bob(node_a: &Node, node_b: &Node) -> (String, String, String) {
    let alice = register(node_a, ALICE).await;
    let bob = register(node_b, BOB).await;
    let (status, conv) = call(
        node_b,
        reqwest::Method::POST,
        "/v1/conversations",
        Some(&bob),
        Some(json!({ "kind": "direct", "peer": ALICE })),
    )
    .await;
    assert_eq!(status, 201, "{conv}");
    (alice, bob, conv["id"].as_str().unwrap().to_owned())
}

/// Sends a text as `client_id`; the HTTP status, or `None` when the node died answering.
async fn post(node: &Node, token: &str, conv: &str, client_id: &str) -> Option<u16> {
    reqwest::Client::new()
        .post(format!("{}/v1/conversations/{conv}/messages", node.url))
        .bearer_auth(token)
        .json(&json!({ "client_id": client_id, "kind": "text", "text": client_id }))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

/// The next `message` frame's (seq, client id), other frames skipped.
async fn next_message(socket: &mut Socket, wait: Duration) -> (u64, String) {
    loop {
        let f = frame(socket, wait).await;
        if f["type"] == "message" {
            return (
                f["message"]["seq"].as_u64().unwrap(),
                f["message"]["client_id"].as_str().unwrap().to_owned(),
            );
        }
    }
}

#[tokio::test]
async fn a_message_whose_node_died_before_publishing_comes_before_the_next_one() {
    let Some((_dir, node_a, mut node_b)) = nodes_with_a_fault(3600).await else {
        return;
    };
    let (alice, bob, conv) = alice_and_bob(&node_a, &node_b).await;
    let mut on_a = connect(&node_a, &alice).await;
    let wait = Duration::from_secs(10);
    assert_eq!(frame(&mut on_a, wait).await["type"], "ready");
    assert_eq!(post(&node_b, &bob, &conv, "first").await, Some(201));
    assert_eq!(next_message(&mut on_a, wait).await, (1, "first".into()));
    // Node B commits "boom" and dies before publishing it.
    assert_eq!(post(&node_b, &bob, &conv, "boom").await, None);
    let _ = node_b.child.wait();
    // Bob goes on through node A: Alice gets the lost one first, then his next.
    let bob_on_a = register(&node_a, BOB).await;
    assert_eq!(post(&node_a, &bob_on_a, &conv, "after").await, Some(201));
    assert_eq!(next_message(&mut on_a, wait).await, (2, "boom".into()));
    assert_eq!(next_message(&mut on_a, wait).await, (3, "after".into()));
    let (_, history) = call(
        &node_a,
        reqwest::Method::GET,
        &format!("/v1/conversations/{conv}/messages"),
        Some(&alice),
        None,
    )
    .await;
    let ids: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["first", "boom", "after"], "committed once, in order");
}

#[tokio::test]
async fn a_message_whose_node_died_before_publishing_is_delivered_by_the_recheck() {
    let Some((_dir, node_a, mut node_b)) = nodes_with_a_fault(1).await else {
        return;
    };
    let (alice, bob, conv) = alice_and_bob(&node_a, &node_b).await;
    let mut on_a = connect(&node_a, &alice).await;
    let wait = Duration::from_secs(10);
    assert_eq!(frame(&mut on_a, wait).await["type"], "ready");
    assert_eq!(post(&node_b, &bob, &conv, "boom").await, None);
    let _ = node_b.child.wait();
    // Nothing else is sent: node A's check against the database finds it.
    assert_eq!(next_message(&mut on_a, wait).await, (1, "boom".into()));
}
