//! Sending over the live connection (`send` → `sent`): the same message, idempotency,
//! errors and privacy as `POST /v1/conversations/{id}/messages`, in the order sent.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, Ws};

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";
const CAROL: &str = "+8613800138002";

async fn connected(app: &TestApp, token: &str) -> Ws {
    let mut ws = app.ws(token).await;
    assert_eq!(ws.frame().await["type"], "ready");
    ws
}

async fn send(ws: &mut Ws, conversation_id: &str, client_id: &str, text: &str) {
    ws.send_text(
        &json!({
            "type": "send",
            "conversation_id": conversation_id,
            "client_id": client_id,
            "kind": "text",
            "text": text,
        })
        .to_string(),
    )
    .await;
}

/// The next frame of `kind`, passing over `message` frames (one's own messages come back
/// as `message` frames too, before or after their `sent`).
async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let f = ws.frame().await;
        if f["type"] == kind {
            return f;
        }
        assert_eq!(f["type"], "message", "waiting for {kind}: {f}");
    }
}

/// The next frame, which must be a message: the message.
async fn message(ws: &mut Ws) -> Value {
    let f = ws.frame().await;
    assert_eq!(f["type"], "message", "{f}");
    f["message"].clone()
}

#[tokio::test]
async fn messages_sent_over_the_socket_are_on_disk_delivered_in_order_and_idempotent() {
    messages_sent_over_the_socket_are_on_disk_delivered_in_order_and_idempotent_on(
        TestApp::spawn().await,
    )
    .await;
}

#[tokio::test]
async fn messages_sent_over_the_socket_are_on_disk_delivered_in_order_and_idempotent_on_postgres() {
    let Some(app) = TestApp::spawn_postgres(
        "messages_sent_over_the_socket_are_on_disk_delivered_in_order_and_idempotent",
    )
    .await
    else {
        return;
    };
    messages_sent_over_the_socket_are_on_disk_delivered_in_order_and_idempotent_on(app).await;
}

async fn messages_sent_over_the_socket_are_on_disk_delivered_in_order_and_idempotent_on(
    app: TestApp,
) {
    let a = app.code_login(ALICE, "phone").await;
    let b = app.code_login(BOB, "phone").await;
    let conv = app.direct_id(&a, BOB).await;
    let mut alice = connected(&app, &a).await;
    let mut alice_laptop = connected(&app, &app.code_login(ALICE, "laptop").await).await;
    let mut bob = connected(&app, &b).await;

    // Sent back to back, without waiting: answered in the order sent, seqs to match.
    for i in 1..=5 {
        send(
            &mut alice,
            &conv,
            &format!("ws-{i}"),
            &format!("text {i} 🙂"),
        )
        .await;
    }
    let mut ids = Vec::new();
    for i in 1..=5u64 {
        let f = next_of(&mut alice, "sent").await;
        assert_eq!(
            (
                f["client_id"].as_str(),
                f["created"].as_bool(),
                f["message"]["seq"].as_u64(),
                f["message"]["sender"].as_str(),
                f["message"]["conversation_id"].as_str(),
            ),
            (
                Some(format!("ws-{i}").as_str()),
                Some(true),
                Some(i),
                Some(ALICE),
                Some(conv.as_str())
            ),
            "{f}"
        );
        assert_eq!(f["message"]["text"], format!("text {i} 🙂"));
        ids.push(f["message"]["id"].as_str().unwrap().to_owned());
    }
    // Bob and Alice's other device get each once, in order.
    for ws in [&mut bob, &mut alice_laptop] {
        for (i, id) in ids.iter().enumerate() {
            let m = message(ws).await;
            assert_eq!(
                (m["id"].as_str(), m["seq"].as_u64()),
                (Some(id.as_str()), Some(i as u64 + 1))
            );
        }
    }

    // A retried client_id, over the socket or over HTTP, is the first message.
    send(&mut alice, &conv, "ws-2", "text 2 again").await;
    let f = next_of(&mut alice, "sent").await;
    assert_eq!(
        (
            f["created"].as_bool(),
            f["message"]["id"].as_str(),
            f["message"]["text"].as_str()
        ),
        (Some(false), Some(ids[1].as_str()), Some("text 2 🙂"))
    );
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{conv}/messages"),
            Some(&a),
            Some(json!({ "client_id": "ws-3", "kind": "text", "text": "x" })),
        )
        .await;
    assert_eq!(
        (r.status, r.body["id"].as_str()),
        (StatusCode::OK, Some(ids[2].as_str()))
    );

    // Stored: history has the five, and Bob's list counts them unread.
    assert_eq!(app.history_seqs(&conv, &b).await, vec![1, 2, 3, 4, 5]);
    let list = app.get_auth("/v1/conversations", &b).await;
    assert_eq!(list.body["conversations"][0]["unread"], 5);

    // Receipts work as for messages posted over HTTP.
    bob.send_text(&json!({ "type": "ack", "conversation_id": conv, "seq": 5 }).to_string())
        .await;
    let f = next_of(&mut alice, "receipt").await;
    assert_eq!(
        (f["phone"].as_str(), f["seq"].as_u64(), f["status"].as_str()),
        (Some(BOB), Some(5), Some("delivered"))
    );

    // Bob answers over his socket, replying to the first one.
    bob.send_text(
        &json!({
            "type": "send", "conversation_id": conv, "client_id": "b-1",
            "kind": "text", "text": "got them", "reply_to": ids[0],
        })
        .to_string(),
    )
    .await;
    let f = next_of(&mut bob, "sent").await;
    assert_eq!(
        (
            f["message"]["seq"].as_u64(),
            f["message"]["reply_to"].as_str()
        ),
        (Some(6), Some(ids[0].as_str()))
    );
    let m = message(&mut alice).await;
    assert_eq!(
        (m["sender"].as_str(), m["seq"].as_u64()),
        (Some(BOB), Some(6))
    );
}

#[tokio::test]
async fn a_failed_send_is_an_error_frame_with_its_client_id_and_the_connection_stays() {
    a_failed_send_is_an_error_frame_with_its_client_id_and_the_connection_stays_on(
        TestApp::spawn().await,
    )
    .await;
}

#[tokio::test]
async fn a_failed_send_is_an_error_frame_with_its_client_id_and_the_connection_stays_on_postgres() {
    let Some(app) = TestApp::spawn_postgres(
        "a_failed_send_is_an_error_frame_with_its_client_id_and_the_connection_stays",
    )
    .await
    else {
        return;
    };
    a_failed_send_is_an_error_frame_with_its_client_id_and_the_connection_stays_on(app).await;
}

async fn a_failed_send_is_an_error_frame_with_its_client_id_and_the_connection_stays_on(
    app: TestApp,
) {
    let a = app.code_login(ALICE, "phone").await;
    app.code_login(BOB, "phone").await;
    let c = app.code_login(CAROL, "phone").await;
    let conv = app.direct_id(&a, BOB).await;
    let mut alice = connected(&app, &a).await;
    let mut carol = connected(&app, &c).await;

    let frame = |client_id: &str, rest: Value| {
        let mut f = json!({ "type": "send", "conversation_id": conv, "client_id": client_id });
        for (k, v) in rest.as_object().unwrap() {
            f[k] = v.clone();
        }
        f.to_string()
    };
    // The codes `POST /v1/conversations/{id}/messages` gives the same bodies.
    let cases = [
        (
            frame(
                "long",
                json!({ "kind": "text", "text": "x".repeat(64 * 1024 + 1) }),
            ),
            "text_too_long",
        ),
        (
            frame("empty", json!({ "kind": "text", "text": "  " })),
            "invalid_input",
        ),
        (
            frame("holo", json!({ "kind": "hologram", "text": "x" })),
            "invalid_input",
        ),
        (
            frame(
                "img",
                json!({ "kind": "image", "attachment_id": "someone-elses" }),
            ),
            "attachment_not_found",
        ),
        (
            frame("stk", json!({ "kind": "sticker", "text": "no/such" })),
            "invalid_input",
        ),
        (
            frame(
                "re",
                json!({ "kind": "text", "text": "x", "reply_to": "made-up" }),
            ),
            "invalid_input",
        ),
        (
            json!({ "type": "send", "conversation_id": "nope", "client_id": "nope",
                    "kind": "text", "text": "x" })
            .to_string(),
            "conversation_not_found",
        ),
    ];
    for (text, code) in &cases {
        alice.send_text(text).await;
        let f = next_of(&mut alice, "error").await;
        let sent: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            (f["code"].as_str(), &f["client_id"], &f["conversation_id"]),
            (Some(*code), &sent["client_id"], &sent["conversation_id"]),
            "{f}"
        );
    }
    // Frames that are not a send: malformed, with the client_id when there is one.
    for (text, client_id) in [
        (
            json!({ "type": "send", "conversation_id": conv, "kind": "text", "text": "x" }),
            None,
        ),
        (
            json!({ "type": "send", "client_id": "no-conv", "kind": "text", "text": "x" }),
            Some("no-conv"),
        ),
        (
            json!({ "type": "send", "conversation_id": conv, "client_id": "n", "kind": "text",
                    "text": 5 }),
            Some("n"),
        ),
    ] {
        alice.send_text(&text.to_string()).await;
        let f = next_of(&mut alice, "error").await;
        assert_eq!(
            (f["code"].as_str(), f["client_id"].as_str()),
            (Some("malformed_frame"), client_id),
            "{f}"
        );
    }
    // Carol is not a member: what an unknown conversation gets.
    carol
        .send_text(&frame(
            "c-1",
            json!({ "kind": "text", "text": "let me in" }),
        ))
        .await;
    let f = next_of(&mut carol, "error").await;
    assert_eq!(f["code"], "conversation_not_found", "{f}");

    // Nothing was stored, and the connection still works.
    let h = app
        .get_auth(&format!("/v1/conversations/{conv}/messages"), &a)
        .await;
    assert_eq!(
        h.body["messages"].as_array().unwrap().len(),
        0,
        "{}",
        h.body
    );
    send(&mut alice, &conv, "fine", "this one is fine").await;
    let f = next_of(&mut alice, "sent").await;
    assert_eq!(f["message"]["seq"], 1);
}

#[tokio::test]
async fn a_blocked_senders_socket_send_is_accepted_and_never_delivered() {
    a_blocked_senders_socket_send_is_accepted_and_never_delivered_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn a_blocked_senders_socket_send_is_accepted_and_never_delivered_on_postgres() {
    let Some(app) =
        TestApp::spawn_postgres("a_blocked_senders_socket_send_is_accepted_and_never_delivered")
            .await
    else {
        return;
    };
    a_blocked_senders_socket_send_is_accepted_and_never_delivered_on(app).await;
}

async fn a_blocked_senders_socket_send_is_accepted_and_never_delivered_on(app: TestApp) {
    let a = app.code_login(ALICE, "phone").await;
    let b = app.code_login(BOB, "phone").await;
    let c = app.code_login(CAROL, "phone").await;
    let conv = app.direct_id(&a, BOB).await;
    let carol_bob = app.direct_id(&c, BOB).await;
    let mut alice = connected(&app, &a).await;
    let mut bob = connected(&app, &b).await;
    let mut carol = connected(&app, &c).await;
    let r = app
        .send(
            Method::PUT,
            &format!("/v1/blocklist/{ALICE}"),
            Some(&b),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    send(&mut alice, &conv, "blocked-1", "can you hear me?").await;
    let f = next_of(&mut alice, "sent").await;
    assert_eq!(
        (f["created"].as_bool(), f["message"]["seq"].as_u64()),
        (Some(true), Some(1)),
        "accepted as usual: {f}"
    );
    // Bob's next frame is Carol's message: Alice's never arrives, nor is it his history.
    send(&mut carol, &carol_bob, "c-1", "from carol").await;
    next_of(&mut carol, "sent").await;
    let m = message(&mut bob).await;
    assert_eq!(m["sender"], CAROL, "{m}");
    let h = app
        .get_auth(&format!("/v1/conversations/{conv}/messages"), &b)
        .await;
    assert!(
        h.body["messages"].as_array().unwrap().is_empty(),
        "{}",
        h.body
    );
    // No receipt reaches Alice, even when Bob's device acks up to her seq. Barrier: Bob's
    // socket closes only once his acks are recorded (and any receipt published); a message
    // Carol sends after that comes to Alice through the same ordered fan-out, so Alice's
    // next frame (presence and her own message aside) is Carol's, not a receipt.
    bob.send_text(&json!({ "type": "ack", "conversation_id": conv, "seq": 1 }).to_string())
        .await;
    bob.close().await;
    let carol_alice = app.direct_id(&c, ALICE).await;
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{carol_alice}/messages"),
            Some(&c),
            Some(json!({ "client_id": "barrier", "kind": "text", "text": "after" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let f = loop {
        let f = alice.frame().await;
        // Presence, and her own message coming back to her device, are not what we look for.
        if f["type"] != "presence" && f["message"]["sender"] != ALICE {
            break f;
        }
    };
    assert_eq!(
        (f["type"].as_str(), f["message"]["client_id"].as_str()),
        (Some("message"), Some("barrier")),
        "{f}"
    );
}

#[tokio::test]
async fn a_long_burst_of_sends_is_answered_in_full_without_closing_the_connection() {
    const N: u64 = 600;
    // A short queue: what waits to be written must be written while the sends wait.
    let app = TestApp::spawn_with(|c| c.connections.queue = 8).await;
    let a = app.code_login(ALICE, "phone").await;
    app.code_login(BOB, "phone").await;
    let conv = app.direct_id(&a, BOB).await;
    let mut alice = connected(&app, &a).await;
    // Written without reading anything back: far more answers and echoes than the
    // connection's queue holds, had it stopped writing while the sends waited.
    for i in 1..=N {
        send(&mut alice, &conv, &format!("b-{i}"), &format!("burst {i}")).await;
    }
    for i in 1..=N {
        let f = next_of(&mut alice, "sent").await;
        assert_eq!(
            (f["client_id"].as_str(), f["message"]["seq"].as_u64()),
            (Some(format!("b-{i}").as_str()), Some(i))
        );
    }
}

/// The read buffer of a connection is small (idle connections keep it): a frame of the
/// largest size allowed, the longest text with every character a 6-byte JSON escape, still
/// arrives whole and is sent.
#[tokio::test]
async fn the_largest_frame_allowed_arrives_whole_through_the_small_read_buffer() {
    let app = TestApp::spawn().await;
    let a = app.code_login(ALICE, "phone").await;
    app.code_login(BOB, "phone").await;
    let conv = app.direct_id(&a, BOB).await;
    let mut alice = connected(&app, &a).await;
    // `\u0078` is "x": 64 Ki characters, 384 KiB of JSON.
    let escaped = "\\u0078".repeat(64 * 1024);
    let frame = format!(
        r#"{{"type":"send","conversation_id":"{conv}","client_id":"big","kind":"text","text":"{escaped}"}}"#
    );
    assert!(frame.len() > 380 * 1024 && frame.len() < 400 * 1024);
    alice.send_text(&frame).await;
    let sent = next_of(&mut alice, "sent").await;
    assert_eq!(sent["client_id"], "big");
    assert_eq!(
        sent["message"]["text"].as_str().map(str::len),
        Some(64 * 1024)
    );
}
