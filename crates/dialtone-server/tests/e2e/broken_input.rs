//! Input that breaks the rules in the ways a new user's client (or a flaky network) does:
//! uploads cut short or malformed on the wire, oversize socket frames, ranges past the end
//! or reversed, `limit=0`, control characters in names. Each gets a clear 4xx or close
//! code, and nothing is half-stored.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{TestApp, WsEvent};

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";

/// Writes `head` + `body` on a fresh TCP connection (then closes the write side when
/// `hang_up`: a body that ends early), and reads the whole answer: its status and JSON
/// body.
async fn raw_http(app: &TestApp, head: &str, body: &[u8], hang_up: bool) -> (u16, Value) {
    let addr = app.base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(body).await.unwrap();
    if hang_up {
        tcp.shutdown().await.unwrap();
    }
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tcp.read_to_end(&mut answer),
    )
    .await
    .expect("no answer within 10 s")
    .unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?} for {head}"));
    let json = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .and_then(|b| {
            // The body may itself be chunked: take the JSON object inside.
            let start = b.find('{')?;
            let end = b.rfind('}')?;
            serde_json::from_str(&b[start..=end]).ok()
        })
        .unwrap_or(Value::Null);
    (status, json)
}

fn blob_files(app: &TestApp) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() { count(&p) } else { 1 }
                })
                .sum()
        })
    }
    count(&app.config.data_dir.join("blobs"))
}

#[tokio::test]
async fn broken_upload_bodies_are_400_and_store_nothing() {
    let app = TestApp::spawn().await;
    let token = app.code_login(ALICE, "a").await;
    let head = |framing: &str| {
        format!(
            "POST /v1/attachments?filename=x.bin HTTP/1.1\r\nHost: x\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n\
             {framing}Connection: close\r\n\r\n"
        )
    };
    let cases: Vec<(&str, String, Vec<u8>, bool)> = vec![
        (
            "non-hex chunk size",
            head("Transfer-Encoding: chunked\r\n"),
            b"5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n".to_vec(),
            false,
        ),
        (
            "chunk longer than declared",
            head("Transfer-Encoding: chunked\r\n"),
            b"3\r\nhello world\r\n0\r\n\r\n".to_vec(),
            false,
        ),
        (
            "content-length body cut short",
            head("Content-Length: 1000\r\n"),
            vec![b'x'; 100],
            true,
        ),
    ];
    for (what, head, body, hang_up) in cases {
        let (status, body) = raw_http(&app, &head, &body, hang_up).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert_eq!(body["error"]["code"], "invalid_body", "{what}: {body}");
    }
    assert_eq!(blob_files(&app), 0, "nothing was kept of a broken upload");
    // A whole body still works.
    let (status, body) = raw_http(&app, &head("Content-Length: 5\r\n"), b"hello", false).await;
    assert_eq!(status, 201, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn a_socket_frame_over_the_limit_closes_with_1009() {
    let app = TestApp::spawn().await;
    let token = app.code_login(ALICE, "a").await;
    let mut ws = app.ws(&token).await;
    assert_eq!(ws.frame().await["type"], "ready");
    let huge = json!({ "type": "typing", "conversation_id": "x".repeat(1024 * 1024) });
    ws.send_text(&huge.to_string()).await;
    loop {
        match ws.next().await {
            WsEvent::Frame(_) => continue,
            WsEvent::Closed(code) => {
                assert_eq!(code, Some(1009), "message too big");
                break;
            }
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn ranges_past_the_end_are_416_with_the_size_and_invalid_ones_are_ignored() {
    let app = TestApp::spawn().await;
    let token = app.code_login(ALICE, "a").await;
    let bytes: Vec<u8> = (0..200u8).collect();
    let r = app
        .http
        .post(format!("{}/v1/attachments?filename=f.bin", app.base))
        .bearer_auth(&token)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    let r = TestApp::reply(r).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let path = format!("/v1/attachments/{}", r.body["id"].as_str().unwrap());
    let fetch = |range: &'static str| {
        let app = &app;
        let token = token.clone();
        let path = path.clone();
        async move {
            app.http
                .get(format!("{}{path}", app.base))
                .bearer_auth(token)
                .header("range", range)
                .send()
                .await
                .unwrap()
        }
    };
    for past in ["bytes=200-", "bytes=500-600", "bytes=-0"] {
        let r = fetch(past).await;
        assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{past}");
        assert_eq!(
            r.headers()["content-range"].to_str().unwrap(),
            "bytes */200",
            "{past}"
        );
        let r = TestApp::reply(r).await;
        assert_eq!(r.code(), "range_not_satisfiable");
    }
    for invalid in ["bytes=100-50", "bytes=abc", "items=0-5", "bytes=0-1,5-6"] {
        let r = fetch(invalid).await;
        assert_eq!(r.status(), StatusCode::OK, "{invalid}");
        assert!(r.headers().get("content-range").is_none(), "{invalid}");
        assert_eq!(r.bytes().await.unwrap().to_vec(), bytes, "{invalid}");
    }
    app.stop().await;
}

#[tokio::test]
async fn history_limit_zero_is_400() {
    let app = TestApp::spawn().await;
    let a = app.code_login(ALICE, "a").await;
    app.code_login(BOB, "b").await;
    let conv = app.direct_id(&a, BOB).await;
    for i in 0..3 {
        let r = app
            .send(
                Method::POST,
                &format!("/v1/conversations/{conv}/messages"),
                Some(&a),
                Some(json!({ "client_id": format!("m{i}"), "kind": "text", "text": "hi" })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let r = app
        .get_auth(&format!("/v1/conversations/{conv}/messages?limit=0"), &a)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
    let r = app
        .get_auth(&format!("/v1/conversations/{conv}/messages?limit=1"), &a)
        .await;
    assert_eq!(r.body["messages"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn control_characters_never_reach_a_text_field() {
    let app = TestApp::spawn().await;
    let a = app.code_login(ALICE, "a\0phone\u{7}").await;
    let b = app.code_login(BOB, "b").await;
    let dirty = "Al\0ice\u{1b}[2J\u{7}\nSmith\u{85}";
    let clean = "Alice[2J Smith";

    let r = app
        .send(
            Method::PATCH,
            "/v1/account",
            Some(&a),
            Some(json!({ "display_name": dirty })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["display_name"], clean);
    let r = app.get_auth("/v1/devices", &a).await;
    assert_eq!(r.body["devices"][0]["name"], "aphone");

    let r = app
        .put_contacts(
            &a,
            json!({ "contacts": [{ "name": dirty, "phones": [BOB] }] }),
        )
        .await;
    assert_eq!(r.body["contacts"][0]["name"], clean, "{r:?}");

    let r = app
        .send(
            Method::PUT,
            "/v1/presence",
            Some(&a),
            Some(json!({ "state": "busy", "text": "in\0 a\tmeeting\u{9b}" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    app.put_contacts(
        &b,
        json!({ "contacts": [{ "name": "A", "phones": [ALICE] }] }),
    )
    .await;
    let r = app
        .get_auth(&format!("/v1/users/{ALICE}/presence"), &b)
        .await;
    assert_eq!(r.body["text"], "in a meeting", "{r:?}");

    let r = app
        .send(
            Method::POST,
            "/v1/contact-groups",
            Some(&a),
            Some(json!({ "name": dirty, "phones": [BOB] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["name"], clean);

    let r = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&a),
            Some(json!({ "kind": "group", "name": dirty, "members": [BOB] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["name"], clean);
    // A name of nothing but control characters is an empty name.
    let r = app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&a),
            Some(json!({ "kind": "group", "name": "\0\u{1}", "members": [BOB] })),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );

    // Messages keep their lines and lose the rest (a NUL would be a 500 on PostgreSQL).
    let conv = app.direct_id(&a, BOB).await;
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{conv}/messages"),
            Some(&a),
            Some(json!({ "client_id": "c1", "kind": "text", "text": "two\r\nlines\0\u{7}" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["text"], "two\nlines");
    app.stop().await;
}

#[tokio::test]
async fn an_upload_left_half_written_by_a_killed_process_is_swept_at_start() {
    let app = TestApp::spawn_with(|config| {
        let tmp = config.data_dir.join("blobs").join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        std::fs::write(tmp.join("upload-killed"), vec![0u8; 4096]).unwrap();
    })
    .await;
    assert_eq!(blob_files(&app), 0, "the leftover was removed at start");
    app.stop().await;
}
