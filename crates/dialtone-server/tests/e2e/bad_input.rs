//! Bad input of every kind gets a 4xx in the contract's error shape: never a 5xx, never a
//! panic, nothing half-written.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::TestApp;

async fn raw(app: &TestApp, method: Method, path: &str, body: Vec<u8>) -> crate::harness::Reply {
    let response = app
        .http
        .request(method, format!("{}{}", app.base, path))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    TestApp::reply(response).await
}

#[tokio::test]
async fn malformed_bodies_are_400_invalid_json() {
    let app = TestApp::spawn().await;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("syntax", b"{\"phone\": ".to_vec()),
        ("not utf-8", b"{\"phone\": \"\xff\xfe\"}".to_vec()),
        ("wrong type", br#"{"phone": 13800138000}"#.to_vec()),
        ("missing field", br#"{"region": "CN"}"#.to_vec()),
        ("not an object", br#"[1, 2, 3]"#.to_vec()),
        ("empty", Vec::new()),
    ];
    for (what, body) in cases {
        let r = raw(&app, Method::POST, "/v1/verifications", body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {r:?}");
        assert_eq!(r.code(), "invalid_json", "{what}");
        assert!(
            r.body["error"]["message"].as_str().unwrap().len() > 5,
            "{what}"
        );
    }
    assert!(app.outbox().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn oversize_bodies_are_413_with_the_error_shape() {
    let app = TestApp::spawn().await;
    let huge = format!("{{\"phone\": \"{}\"}}", "1".repeat(2 * 1024 * 1024));
    let r = raw(&app, Method::POST, "/v1/verifications", huge.into_bytes()).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.code(), "payload_too_large");
}

#[tokio::test]
async fn numbers_that_cannot_receive_a_code_are_refused() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({ "phone": "not a number" }), "invalid_phone"),
        (json!({ "phone": "" }), "invalid_phone"),
        (json!({ "phone": "12345" }), "invalid_phone"),
        (json!({ "phone": "+86 999 9999 9999" }), "invalid_phone"),
        (json!({ "phone": "1".repeat(300) }), "invalid_phone"),
        (
            json!({ "phone": "13800138000", "region": "ZZ" }),
            "invalid_region",
        ),
        (
            json!({ "phone": "+1 800 555 0100" }),
            "phone_cannot_receive_sms",
        ),
        (
            json!({ "phone": "400 123 4567" }),
            "phone_cannot_receive_sms",
        ),
        (
            json!({ "phone": "+1 900 555 0100" }),
            "phone_cannot_receive_sms",
        ),
    ];
    for (body, code) in cases {
        let r = app.post("/v1/verifications", body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {r:?}");
        assert_eq!(r.code(), code, "{body}");
    }
    assert!(app.outbox().is_empty());
}

#[tokio::test]
async fn refused_kinds_are_configurable() {
    let app = TestApp::spawn_with(|c| c.sms.policy.refused_kinds.clear()).await;
    app.start_verification("+1 800 555 0100").await;
}

#[tokio::test]
async fn unknown_ids_routes_methods_and_tokens() {
    let app = TestApp::spawn().await;
    let r = app
        .post("/v1/verifications/nope/code", json!({ "code": "123456" }))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "verification_not_found")
    );
    let r = app
        .send(Method::POST, "/v1/verifications/nope/resend", None, None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "verification_not_found")
    );
    let r = app.send(Method::GET, "/v1/no/such/route", None, None).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = app
        .send(Method::DELETE, "/v1/verifications", None, None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    let r = app.send(Method::GET, "/v1/account", None, None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let r = app
        .send(Method::GET, "/v1/account", Some("made-up-token"), None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let r = app
        .http
        .get(format!("{}/v1/devices", app.base))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(TestApp::reply(r).await.status, StatusCode::UNAUTHORIZED);

    let token = app.code_login("+8613800138000", "phone").await;
    let r = app
        .send(
            Method::DELETE,
            "/v1/devices/not-a-device",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "device_not_found")
    );

    // Another user's device cannot be revoked: it looks like no device at all.
    let other = app.code_login("+8613900139000", "other").await;
    let devices = app.get_auth("/v1/devices", &other).await;
    let other_device = devices.body["devices"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/devices/{other_device}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "device_not_found")
    );
    assert_eq!(
        app.get_auth("/v1/account", &other).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn malformed_codes_cost_an_attempt_and_say_invalid_code() {
    let app = TestApp::spawn().await;
    let id = app.start_verification("+8613800138000").await;
    for code in ["", "12345", "1234567", "abcdef", "１２３４５６"] {
        let r = app.submit(&id, json!({ "code": code })).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "invalid_code"),
            "{code:?}"
        );
    }
    let r = app
        .submit(&id, json!({ "code": app.last_code("+8613800138000") }))
        .await;
    assert_eq!(r.status, StatusCode::GONE);
    let r = app.submit(&id, json!({ "code": 123456 })).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
}

#[tokio::test]
async fn a_failed_password_body_changes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.code_login("+8613800138000", "phone").await;
    let r = app
        .set_password(&token, json!({ "password": "x".repeat(129) }))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "weak_password")
    );
    let r = app.get_auth("/v1/account", &token).await;
    assert_eq!(r.body["password_set"], false);
}
