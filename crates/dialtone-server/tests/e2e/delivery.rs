//! Delivery that never skips: per conversation every device gets seq after seq, live
//! (under concurrent senders, on both engines) and in catch-up, and catch-up is complete
//! however long the device was away, ending in `caught_up`.

use std::collections::HashMap;

use dialtone_store::MessageRecord;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, Ws};

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";
const CAROL: &str = "+8613800138002";

async fn user_id(app: &TestApp, token: &str) -> String {
    app.get_auth("/v1/account", token).await.body["user_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The next frame that is not presence.
async fn next(ws: &mut Ws) -> Value {
    loop {
        let f = ws.frame().await;
        if f["type"] != "presence" {
            return f;
        }
    }
}

/// Writes messages from `sender_id` straight to the database, 1,000 per transaction, as if
/// sent while a device was away: `(conversation, users it is withheld from)` each.
async fn append_bulk(app: &TestApp, sender_id: &str, messages: Vec<(String, Vec<String>)>) {
    let store = dialtone_store::open(&app.config.database_url())
        .await
        .unwrap();
    for (page, chunk) in messages.chunks(1_000).enumerate() {
        let batch: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(i, (conversation_id, hidden))| {
                let id = format!("bulk-{page}-{i}");
                let record = MessageRecord {
                    id: id.clone(),
                    conversation_id: conversation_id.as_str().into(),
                    seq: 0,
                    sender_id: sender_id.into(),
                    client_id: id,
                    kind: dialtone_core::MessageKind::Text,
                    text: Some(format!("message {page}-{i}")),
                    attachment_id: None,
                    reply_to: None,
                    sent_at: app.clock_now(),
                    edited_at: None,
                    deleted: false,
                };
                (record, hidden.iter().map(|u| u.as_str().into()).collect())
            })
            .collect();
        store.messages.append_batch(&batch).await.unwrap();
    }
}

#[tokio::test]
async fn a_device_away_for_30000_messages_gets_them_all_in_one_connection() {
    let app = TestApp::spawn().await;
    let a = app.code_login(ALICE, "a").await;
    let b = app.code_login(BOB, "b").await;
    app.code_login(CAROL, "c").await;
    let direct = app.direct_id(&a, BOB).await;
    let r = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&a),
            Some(json!({ "kind": "group", "name": "g", "members": [BOB, CAROL] })),
        )
        .await;
    let group = r.body["id"].as_str().unwrap().to_owned();
    let (alice_id, bob_id) = (user_id(&app, &a).await, user_id(&app, &b).await);

    // 30,000 messages while Bob's device is away, written straight to the database (a
    // tenth of the group's withheld from Bob, as for a sender he blocks).
    let mut expected: HashMap<String, Vec<u64>> = HashMap::new();
    let mut backlog = Vec::new();
    for i in 0..30_000u64 {
        let (conversation, n) = if i < 20_000 {
            (&direct, i + 1)
        } else {
            (&group, i - 19_999)
        };
        let withheld = conversation == &group && n % 10 == 0;
        if !withheld {
            expected.entry(conversation.clone()).or_default().push(n);
        }
        let hidden = if withheld {
            vec![bob_id.clone()]
        } else {
            Vec::new()
        };
        backlog.push((conversation.clone(), hidden));
    }
    append_bulk(&app, &alice_id, backlog).await;

    // One connection: `ready` says catch-up follows; every message comes, in seq order per
    // conversation, then `caught_up`; then live messages go on after it.
    let mut ws = app.ws_query(&b, "caught_up=true").await;
    let ready = ws.frame().await;
    assert_eq!(
        (ready["type"].as_str(), ready["catching_up"].as_bool()),
        (Some("ready"), Some(true))
    );
    let mut got: HashMap<String, Vec<u64>> = HashMap::new();
    loop {
        let f = next(&mut ws).await;
        if f["type"] == "caught_up" {
            break;
        }
        assert_eq!(f["type"], "message", "{f}");
        let m = &f["message"];
        got.entry(m["conversation_id"].as_str().unwrap().to_owned())
            .or_default()
            .push(m["seq"].as_u64().unwrap());
    }
    assert_eq!(got[&direct].len(), 20_000);
    assert_eq!(got, expected, "every message, once each, in seq order");
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{direct}/messages"),
            Some(&a),
            Some(json!({ "client_id": "live", "kind": "text", "text": "now" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let f = next(&mut ws).await;
    assert_eq!(f["message"]["seq"], 20_001, "{f}");
    // Acking the last message it was shown covers the withheld one after it (seq 10,000
    // of the group). Back with nothing to catch up on, `ready` says so and no `caught_up`
    // comes.
    ws.send_text(&json!({ "type": "ack", "conversation_id": group, "seq": 9_999 }).to_string())
        .await;
    ws.send_text(&json!({ "type": "ack", "conversation_id": direct, "seq": 20_001 }).to_string())
        .await;
    ws.close().await;
    let mut again = app.ws_query(&b, "caught_up=true").await;
    let ready = again.frame().await;
    assert_eq!(ready["catching_up"], false, "{ready}");
    again.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(next(&mut again).await["type"], "pong");
    app.stop().await;
}

/// Five members send at once; the sixth gets every message once, in seq order.
async fn concurrent_senders_are_delivered_in_order(app: TestApp) {
    let phones: Vec<String> = (0..6).map(|i| format!("+86138001381{i:02}")).collect();
    let mut tokens = Vec::new();
    for (i, phone) in phones.iter().enumerate() {
        tokens.push(app.code_login(phone, &format!("d{i}")).await);
    }
    let r = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&tokens[0]),
            Some(json!({ "kind": "group", "name": "busy", "members": phones[1..].to_vec() })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let conv = r.body["id"].as_str().unwrap().to_owned();
    let mut reader = app.ws(&tokens[5]).await;
    assert_eq!(reader.frame().await["type"], "ready");
    const EACH: usize = 40;
    let mut senders = Vec::new();
    for (i, token) in tokens[..5].iter().enumerate() {
        let (http, base, token, conv) = (
            app.http.clone(),
            app.base.clone(),
            token.clone(),
            conv.clone(),
        );
        senders.push(tokio::spawn(async move {
            for n in 0..EACH {
                let r = http
                    .post(format!("{base}/v1/conversations/{conv}/messages"))
                    .bearer_auth(&token)
                    .json(&json!({ "client_id": format!("s{i}-{n}"), "kind": "text", "text": "x" }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
            }
        }));
    }
    for s in senders {
        s.await.unwrap();
    }
    let total = u64::try_from(5 * EACH).unwrap();
    let mut seqs = Vec::new();
    while seqs.len() < 5 * EACH {
        let f = next(&mut reader).await;
        assert_eq!(f["type"], "message", "{f}");
        seqs.push(f["message"]["seq"].as_u64().unwrap());
    }
    assert_eq!(seqs, (1..=total).collect::<Vec<_>>());
    app.stop().await;
}

#[tokio::test]
async fn concurrent_senders_reach_each_device_in_seq_order_on_sqlite() {
    concurrent_senders_are_delivered_in_order(TestApp::spawn().await).await;
}

#[tokio::test]
async fn concurrent_senders_reach_each_device_in_seq_order_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("delivery_order").await else {
        return;
    };
    concurrent_senders_are_delivered_in_order(app).await;
}

/// A live message in a conversation still being caught up on does not make the rest of
/// its catch-up one long read: live frames of other conversations keep their turn, and a
/// small live queue does not fill (which would close the socket as too slow).
#[tokio::test]
async fn live_messages_keep_their_turn_during_a_long_catch_up() {
    // Pages of 100 and room for 8 live frames: enough while a page is written, not while
    // 20,000 messages are.
    let app = TestApp::spawn_with(|c| {
        c.connections.queue = 8;
        c.messages.catch_up = 100;
    })
    .await;
    let a = app.code_login(ALICE, "a").await;
    let b = app.code_login(BOB, "b").await;
    app.code_login(CAROL, "c").await;
    let direct = app.direct_id(&a, BOB).await;
    let r = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&a),
            Some(json!({ "kind": "group", "name": "g", "members": [BOB, CAROL] })),
        )
        .await;
    let group = r.body["id"].as_str().unwrap().to_owned();
    let alice_id = user_id(&app, &a).await;
    const BACKLOG: u64 = 20_000;
    const LIVE: u64 = 40;
    append_bulk(
        &app,
        &alice_id,
        (0..BACKLOG).map(|_| (direct.clone(), Vec::new())).collect(),
    )
    .await;

    let mut ws = app.ws_query(&b, "caught_up=true").await;
    assert_eq!(ws.frame().await["catching_up"], true);
    // Bob's device reads everything as it comes, in a task of its own.
    let (direct_r, group_r) = (direct.clone(), group.clone());
    let reader = tokio::spawn(async move {
        let mut got: HashMap<String, Vec<u64>> = HashMap::new();
        let mut caught_up = false;
        while !(caught_up
            && got.get(&direct_r).map_or(0, Vec::len) == 20_001
            && got.get(&group_r).map_or(0, Vec::len) == 40)
        {
            match ws.next().await {
                crate::harness::WsEvent::Frame(f) if f["type"] == "caught_up" => caught_up = true,
                crate::harness::WsEvent::Frame(f) if f["type"] == "message" => {
                    let m = &f["message"];
                    got.entry(m["conversation_id"].as_str().unwrap().to_owned())
                        .or_default()
                        .push(m["seq"].as_u64().unwrap());
                }
                crate::harness::WsEvent::Frame(_) => {}
                crate::harness::WsEvent::Closed(code) => return Err(code),
            }
        }
        Ok(got)
    });
    // One live message in the conversation being caught up on (it comes before 20,000
    // others), then live messages in another conversation while the catch-up goes on.
    let post = |conversation: String, client_id: String| {
        let (http, base, token) = (app.http.clone(), app.base.clone(), a.clone());
        async move {
            let r = http
                .post(format!("{base}/v1/conversations/{conversation}/messages"))
                .bearer_auth(&token)
                .json(&json!({ "client_id": client_id, "kind": "text", "text": "live" }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
        }
    };
    post(direct.clone(), "live-direct".into()).await;
    for n in 0..LIVE {
        post(group.clone(), format!("live-{n}")).await;
    }
    let got = reader
        .await
        .unwrap()
        .unwrap_or_else(|code| panic!("the socket closed ({code:?}) during the catch-up"));
    assert_eq!(got[&direct], (1..=BACKLOG + 1).collect::<Vec<_>>());
    assert_eq!(got[&group], (1..=LIVE).collect::<Vec<_>>());
    app.stop().await;
}
