//! The server itself: health, the OpenAPI document, SMS gateway failures, configuration.

use std::collections::HashMap;

use dialtone_server::{Config, GatewayKind};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::TestApp;

#[tokio::test]
async fn health_and_openapi() {
    let app = TestApp::spawn().await;
    let r = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "ok");

    let r = app.send(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        r.body["openapi"]
    );
    let paths = r.body["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/verifications", "post"),
        ("/v1/verifications/{id}/resend", "post"),
        ("/v1/verifications/{id}/code", "post"),
        ("/v1/account/password", "put"),
        ("/v1/sessions", "post"),
        ("/v1/sessions/current", "delete"),
        ("/v1/account", "get"),
        ("/v1/account", "patch"),
        ("/v1/devices", "get"),
        ("/v1/devices/{id}", "delete"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    assert!(r.body["components"]["schemas"]["ErrorBody"].is_object());
    // Every stable error code is listed, as written on the wire; a message is one type.
    let schemas = &r.body["components"]["schemas"];
    let listed: Vec<&str> = schemas["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let codes: Vec<&str> = dialtone_protocol::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(listed, codes);
    for code in [
        "invalid_phone",
        "conversation_not_found",
        "malformed_frame",
        "malformed",
    ] {
        assert!(codes.contains(&code), "{code}");
    }
    assert_eq!(
        schemas["ErrorDetail"]["properties"]["code"]["$ref"],
        "#/components/schemas/ErrorCode"
    );
    assert!(schemas["Message"]["properties"]["seq"].is_object());
}

#[tokio::test]
async fn a_failing_sms_gateway_is_a_clear_error_and_creates_nothing() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = TestApp::spawn_with(|c| {
        c.sms.gateway = GatewayKind::Http;
        c.sms.http.base_url = url;
        c.sms.http.timeout_secs = 2;
    })
    .await;
    // More tries than the hourly limit: a failed send does not use up the budget.
    for _ in 0..6 {
        let r = app
            .post("/v1/verifications", json!({ "phone": "+8613800138000" }))
            .await;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{r:?}");
        assert_eq!(r.code(), "sms_unavailable");
    }
}

#[tokio::test]
async fn the_http_gateway_delivers_codes_through_a_provider() {
    use axum::routing::post;
    let received =
        std::sync::Arc::new(std::sync::Mutex::new(Vec::<HashMap<String, String>>::new()));
    let sink = received.clone();
    let provider = axum::Router::new().route(
        "/2010-04-01/Accounts/{account}/Messages.json",
        post(
            move |axum::Form(form): axum::Form<HashMap<String, String>>| {
                let sink = sink.clone();
                async move {
                    sink.lock().unwrap().push(form);
                    (axum::http::StatusCode::CREATED, "{}")
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, provider).await.unwrap() });

    let app = TestApp::spawn_with(|c| {
        c.sms.gateway = GatewayKind::Http;
        c.sms.http.base_url = url;
        c.sms.http.account = "AC1".into();
        c.sms.http.from = "dialtone".into();
    })
    .await;
    let id = app.start_verification("+8613800138000").await;
    let form = received.lock().unwrap().pop().unwrap();
    assert_eq!(form["To"], "+8613800138000");
    assert_eq!(form["From"], "dialtone");
    let code = dialtone_sms::code_in(&form["Body"]).unwrap().to_owned();
    assert!(app.outbox().is_empty(), "nothing went to the outbox");
    let r = app.submit(&id, json!({ "code": code })).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

#[tokio::test]
async fn the_server_key_lives_in_the_data_dir_and_survives_restarts() {
    let app = TestApp::spawn().await;
    let id = app.start_verification("+8613800138000").await;
    let code = app.last_code("+8613800138000");
    let key_path = app.config.key_path();
    let key = std::fs::read_to_string(&key_path).unwrap();
    assert_eq!(key.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "key file readable by others: {mode:o}");
    }
    // Restart on the same data: the pending code still verifies.
    let config = app.config.clone();
    let dir = tempfile::tempdir().unwrap();
    let base_config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..config
    };
    drop(dir);
    let running = dialtone_server::Running::start(base_config).await.unwrap();
    let r = reqwest::Client::new()
        .post(format!(
            "http://{}/v1/verifications/{id}/code",
            running.addr
        ))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    running.stop().await.unwrap();
    app.stop().await;
}

#[tokio::test]
async fn numbers_are_written_grouped_as_libphonenumber_groups_them() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/v1/phones/format",
            json!({ "phones": ["+8613800138000", "+19055551234", "8613800138000", "+86 138", "hello"] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["formatted"],
        json!({ "+8613800138000": "+86 138 0013 8000", "+19055551234": "+1 905-555-1234" })
    );
    let too_many: Vec<String> = (0..1001).map(|i| format!("+86138001{i:05}")).collect();
    let r = app
        .post("/v1/phones/format", json!({ "phones": too_many }))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "too_many_phones");
    app.stop().await;
}
