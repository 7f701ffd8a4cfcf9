//! The gateways against real counterparts: a file for the outbox, and a local mock of the
//! Twilio Messages API started by the test for the HTTP gateway.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Router};
use dialtone_core::PhoneNumber;
use dialtone_sms::{HttpGateway, HttpGatewayConfig, OutboxGateway, SmsError, SmsGateway};

#[derive(Debug, Clone)]
struct Received {
    account: String,
    authorization: String,
    form: HashMap<String, String>,
}

#[derive(Clone)]
struct Mock {
    received: Arc<Mutex<Vec<Received>>>,
    status: StatusCode,
}

async fn messages(
    State(mock): State<Mock>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, String) {
    let authorization = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    mock.received.lock().unwrap().push(Received {
        account,
        authorization,
        form,
    });
    (mock.status, r#"{"sid":"SM1","status":"queued"}"#.to_owned())
}

async fn start_mock(status: StatusCode) -> (String, Arc<Mutex<Vec<Received>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let mock = Mock {
        received: received.clone(),
        status,
    };
    let app = Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Messages.json",
            post(messages),
        )
        .with_state(mock);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), received)
}

fn gateway(base_url: String) -> HttpGateway {
    HttpGateway::new(HttpGatewayConfig {
        base_url,
        account: "AC123".into(),
        token: "secret".into(),
        from: "+15005550006".into(),
        timeout_secs: 5,
    })
    .unwrap()
}

fn number() -> PhoneNumber {
    PhoneNumber::parse_e164("+8613800138000").unwrap()
}

#[tokio::test]
async fn http_gateway_posts_the_twilio_form_with_basic_auth() {
    let (url, received) = start_mock(StatusCode::CREATED).await;
    gateway(url)
        .send(&number(), "hello\n@localhost #123456")
        .await
        .unwrap();
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].account, "AC123");
    // base64("AC123:secret")
    assert_eq!(got[0].authorization, "Basic QUMxMjM6c2VjcmV0");
    assert_eq!(got[0].form["To"], "+8613800138000");
    assert_eq!(got[0].form["From"], "+15005550006");
    assert_eq!(got[0].form["Body"], "hello\n@localhost #123456");
}

#[tokio::test]
async fn http_gateway_reports_a_refusal() {
    let (url, _) = start_mock(StatusCode::BAD_REQUEST).await;
    let err = gateway(url).send(&number(), "x").await.unwrap_err();
    assert!(
        matches!(err, SmsError::Refused { status: 400, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn http_gateway_reports_an_unreachable_provider() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = gateway(format!("http://{addr}"))
        .send(&number(), "x")
        .await
        .unwrap_err();
    assert!(matches!(err, SmsError::Unreachable(_)), "{err:?}");
}

#[tokio::test]
async fn outbox_appends_one_json_line_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = OutboxGateway::new(dir.path().join("sms-outbox.jsonl"));
    outbox
        .send(&number(), "first\n@localhost #111111")
        .await
        .unwrap();
    outbox.send(&number(), "second").await.unwrap();
    let text = std::fs::read_to_string(outbox.path()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["to"], "+8613800138000");
    assert_eq!(lines[0]["body"], "first\n@localhost #111111");
    assert!(chrono::DateTime::parse_from_rfc3339(lines[1]["sent_at"].as_str().unwrap()).is_ok());
}
