//! Changes of a group are live and leave a line: renames, members added and removed,
//! members leaving, and the last admin leaving (the longest-standing member takes over).
//! Each is a `system` message in the conversation (history, catch-up, every device) and a
//! `conversation` frame with the group's new state; whoever is no longer a member gets
//! `conversation_removed` at once and can send nothing more.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, Ws};

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";
const CAROL: &str = "+8613800138002";

async fn online(app: &TestApp, token: &str) -> Ws {
    let mut ws = app.ws(token).await;
    assert_eq!(ws.frame().await["type"], "ready");
    ws
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

/// The next frame is a `system` line from `sender` telling `system`.
async fn line(ws: &mut Ws, sender: &str, system: Value) -> Value {
    let f = next(ws).await;
    assert_eq!(f["type"], "message", "{f}");
    let m = &f["message"];
    assert_eq!(
        (m["kind"].as_str(), m["sender"].as_str(), &m["system"]),
        (Some("system"), Some(sender), &system),
        "{f}"
    );
    assert!(m.get("text").is_none(), "{f}");
    m.clone()
}

/// The next frame is the group's new state.
async fn state(ws: &mut Ws) -> Value {
    let f = next(ws).await;
    assert_eq!(f["type"], "conversation", "{f}");
    f["conversation"].clone()
}

fn sorted(v: &Value) -> Vec<String> {
    let mut all: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    all.sort();
    all
}

async fn say(app: &TestApp, token: &str, conv: &str, client_id: &str) -> crate::harness::Reply {
    app.send(
        Method::POST,
        &format!("/v1/conversations/{conv}/messages"),
        Some(token),
        Some(json!({ "client_id": client_id, "kind": "text", "text": client_id })),
    )
    .await
}

#[tokio::test]
async fn group_changes_are_live_and_leave_a_line() {
    group_changes_are_live_and_leave_a_line_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn group_changes_are_live_and_leave_a_line_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("group_changes_are_live_and_leave_a_line").await else {
        return;
    };
    group_changes_are_live_and_leave_a_line_on(app).await;
}

async fn group_changes_are_live_and_leave_a_line_on(app: TestApp) {
    let a = app.code_login(ALICE, "a").await;
    let b = app.code_login(BOB, "b").await;
    let c = app.code_login(CAROL, "c").await;
    let r = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&a),
            Some(json!({ "kind": "group", "name": "team", "members": [BOB, CAROL] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let conv = r.body["id"].as_str().unwrap().to_owned();
    let mut alice = online(&app, &a).await;
    let mut bob = online(&app, &b).await;
    let mut carol = online(&app, &c).await;

    // A rename.
    let r = app
        .send(
            Method::PATCH,
            &format!("/v1/conversations/{conv}"),
            Some(&a),
            Some(json!({ "name": "the team" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    for ws in [&mut alice, &mut bob, &mut carol] {
        line(
            ws,
            ALICE,
            json!({ "action": "renamed", "name": "the team" }),
        )
        .await;
        assert_eq!(state(ws).await["name"], "the team");
    }

    // Carol is removed: the others see who and the new count; her chat turns read-only.
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/conversations/{conv}/members/{CAROL}"),
            Some(&a),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    for ws in [&mut alice, &mut bob] {
        line(ws, ALICE, json!({ "action": "removed", "phones": [CAROL] })).await;
        let s = state(ws).await;
        assert_eq!(sorted(&s["members"]), vec![ALICE, BOB]);
        assert_eq!(s["admins"], json!([ALICE]));
    }
    let f = next(&mut carol).await;
    assert_eq!(
        f,
        json!({ "type": "conversation_removed", "conversation_id": conv })
    );
    let r = say(&app, &c, &conv, "still here?").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "conversation_not_found")
    );

    // Added back: she sees the line saying so, then the group.
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{conv}/members"),
            Some(&a),
            Some(json!({ "phones": [CAROL] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    for ws in [&mut alice, &mut bob] {
        line(ws, ALICE, json!({ "action": "added", "phones": [CAROL] })).await;
        assert_eq!(sorted(&state(ws).await["members"]), vec![ALICE, BOB, CAROL]);
    }
    // Her device goes on in seq order from where it was: the line of her removal, then the
    // one of her return (read from the database, so the group's state may come first).
    let mut lines = Vec::new();
    let mut members = None;
    while lines.len() < 2 || members.is_none() {
        let f = next(&mut carol).await;
        match f["type"].as_str() {
            Some("message") => lines.push(f["message"]["system"].clone()),
            Some("conversation") => members = Some(sorted(&f["conversation"]["members"])),
            _ => panic!("unexpected {f}"),
        }
    }
    assert_eq!(
        lines,
        vec![
            json!({ "action": "removed", "phones": [CAROL] }),
            json!({ "action": "added", "phones": [CAROL] })
        ]
    );
    assert_eq!(members.unwrap(), vec![ALICE, BOB, CAROL]);

    // The only admin leaves: Bob, the longest-standing member, becomes admin, and says so.
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/conversations/{conv}/members/{ALICE}"),
            Some(&a),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    for ws in [&mut bob, &mut carol] {
        line(ws, ALICE, json!({ "action": "left", "phones": [ALICE] })).await;
        line(ws, BOB, json!({ "action": "admin", "phones": [BOB] })).await;
        let s = state(ws).await;
        assert_eq!(s["admins"], json!([BOB]));
        assert_eq!(sorted(&s["members"]), vec![BOB, CAROL]);
    }
    assert_eq!(next(&mut alice).await["type"], "conversation_removed");
    // So the group can still grow: Bob adds Alice back.
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{conv}/members"),
            Some(&b),
            Some(json!({ "phones": [ALICE] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["admins"], json!([BOB]));

    // History keeps every line in order, for a device that was not there.
    let r = app
        .get_auth(&format!("/v1/conversations/{conv}/messages"), &c)
        .await;
    let actions: Vec<(u64, String)> = r.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["seq"].as_u64().unwrap(),
                m["system"]["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            (1, "renamed".to_owned()),
            (2, "removed".to_owned()),
            (3, "added".to_owned()),
            (4, "left".to_owned()),
            (5, "admin".to_owned()),
            (6, "added".to_owned()),
        ],
        "Carol was not a member for seq 2, but the line about her removal is hers to read"
    );
    // A line is nobody's message to edit or delete.
    let first = r.body["messages"][0]["id"].as_str().unwrap().to_owned();
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/conversations/{conv}/messages/{first}"),
            Some(&b),
            None,
        )
        .await;
    assert_eq!(r.code(), "message_not_found");
    app.stop().await;
}

#[tokio::test]
async fn a_line_by_someone_a_member_blocks_is_withheld_from_them_like_a_message() {
    a_line_by_someone_a_member_blocks_is_withheld_from_them_like_a_message_on(
        TestApp::spawn().await,
    )
    .await;
}

#[tokio::test]
async fn a_line_by_someone_a_member_blocks_is_withheld_from_them_like_a_message_on_postgres() {
    let Some(app) = TestApp::spawn_postgres(
        "a_line_by_someone_a_member_blocks_is_withheld_from_them_like_a_message",
    )
    .await
    else {
        return;
    };
    a_line_by_someone_a_member_blocks_is_withheld_from_them_like_a_message_on(app).await;
}

async fn a_line_by_someone_a_member_blocks_is_withheld_from_them_like_a_message_on(app: TestApp) {
    let a = app.code_login(ALICE, "a").await;
    let b = app.code_login(BOB, "b").await;
    let c = app.code_login(CAROL, "c").await;
    let r = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&a),
            Some(json!({ "kind": "group", "name": "g", "members": [BOB, CAROL] })),
        )
        .await;
    let conv = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .send(
            Method::PUT,
            &format!("/v1/blocklist/{ALICE}"),
            Some(&b),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let mut bob = online(&app, &b).await;
    let mut carol = online(&app, &c).await;
    let r = app
        .send(
            Method::PATCH,
            &format!("/v1/conversations/{conv}"),
            Some(&a),
            Some(json!({ "name": "renamed" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    line(
        &mut carol,
        ALICE,
        json!({ "action": "renamed", "name": "renamed" }),
    )
    .await;
    // Bob sees the group's new state, not Alice's line.
    assert_eq!(state(&mut bob).await["name"], "renamed");
    let r = app
        .get_auth(&format!("/v1/conversations/{conv}/messages"), &b)
        .await;
    assert_eq!(r.body["messages"], json!([]), "{r:?}");
    app.stop().await;
}
