//! Durability: a 201 (or a `sent` frame, for a message sent over the live connection)
//! means the message is on disk. Send N messages, `kill -9` the server right after the
//! last answer, restart it on the same data: all N are there, with contiguous seqs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::{Value, json};

use common::Server;

/// Registers `phone` with the code from the server's outbox; the token.
fn register(client: &reqwest::blocking::Client, server: &Server, phone: &str) -> String {
    let base = &server.url;
    let v: Value = client
        .post(format!("{base}/v1/verifications"))
        .json(&json!({ "phone": phone }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let code = server.last_code(phone);
    let v: Value = client
        .post(format!(
            "{base}/v1/verifications/{}/code",
            v["id"].as_str().unwrap()
        ))
        .json(&json!({ "code": code }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["token"].as_str().unwrap().to_owned()
}

/// A server with Alice and Bob registered and their direct conversation.
struct Scene {
    /// Before the directory, so that it is killed before its data is removed.
    server: Server,
    _dir: tempfile::TempDir,
    client: reqwest::blocking::Client,
    alice: String,
    conv: String,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(dir.path().join("data"));
        let base = server.url.clone();
        let client = reqwest::blocking::Client::new();
        let alice = register(&client, &server, "+8613800138000");
        register(&client, &server, "+8613800138001");
        let conv: Value = client
            .post(format!("{base}/v1/conversations"))
            .bearer_auth(&alice)
            .json(&json!({ "kind": "direct", "peer": "+8613800138001" }))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let conv = conv["id"].as_str().unwrap().to_owned();
        Scene {
            server,
            _dir: dir,
            client,
            alice,
            conv,
        }
    }

    /// `kill -9` (no shutdown, no flush, nothing), then a restart on the same data.
    fn crash_and_restart(&mut self) {
        self.server.crash_and_restart();
    }

    /// The conversation's history after the restart: (seq, text) in order.
    fn history(&self) -> Vec<(u64, String)> {
        let history: Value = self
            .client
            .get(format!(
                "{}/v1/conversations/{}/messages?limit=200",
                self.server.url, self.conv
            ))
            .bearer_auth(&self.alice)
            .send()
            .unwrap()
            .json()
            .unwrap();
        history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["seq"].as_u64().unwrap(),
                    m["text"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

/// The messages `message 1` … `message n` with seqs 1 … n.
fn expected(n: u64) -> Vec<(u64, String)> {
    (1..=n).map(|i| (i, format!("message {i}"))).collect()
}

#[test]
fn every_201_survives_kill_9() {
    const N: u64 = 60;
    let mut scene = Scene::new();
    for i in 1..=N {
        let r = scene
            .client
            .post(format!("{}/v1/conversations/{}/messages", scene.server.url, scene.conv))
            .bearer_auth(&scene.alice)
            .json(&json!({ "client_id": format!("m{i}"), "kind": "text", "text": format!("message {i}") }))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    scene.crash_and_restart();
    assert_eq!(scene.history(), expected(N));
}

#[test]
fn every_sent_frame_survives_kill_9() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    const N: u64 = 200;
    let mut scene = Scene::new();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = format!(
            "ws://127.0.0.1:{}/v1/ws?token={}",
            scene.server.port, scene.alice
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        // Sent back to back: they share commits.
        for i in 1..=N {
            let frame = json!({
                "type": "send", "conversation_id": scene.conv, "client_id": format!("m{i}"),
                "kind": "text", "text": format!("message {i}"),
            });
            ws.send(Message::Text(frame.to_string().into()))
                .await
                .unwrap();
        }
        let mut answered = 0;
        while answered < N {
            let text = match ws.next().await {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("{answered} of {N} sends answered, then {other:?}"),
            };
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["type"] == "sent" {
                answered += 1;
                assert_eq!(frame["message"]["seq"], answered, "{frame}");
            } else {
                assert!(
                    ["ready", "message"].contains(&frame["type"].as_str().unwrap_or("")),
                    "{frame}"
                );
            }
        }
    });
    // Right after the last `sent`.
    scene.crash_and_restart();
    assert_eq!(scene.history(), expected(N));
}
