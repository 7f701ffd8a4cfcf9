//! Rate limits on verifications (per number, per IP, per number block) and failed logins.

use chrono::Duration;
use dialtone_service::limits::Window;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::TestApp;

#[tokio::test]
async fn a_number_may_start_five_verifications_an_hour() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        app.start_verification("+8613800138000").await;
    }
    let r = app
        .post("/v1/verifications", json!({ "phone": "+8613800138000" }))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "rate_limited");
    let wait = r.retry_after();
    assert!((3590..=3600).contains(&wait), "Retry-After {wait}");
    // Other numbers are not affected.
    app.start_verification("+8613900139000").await;
    // An hour later the number may start again.
    app.advance(Duration::seconds(i64::try_from(wait).unwrap()));
    app.start_verification("+8613800138000").await;
    assert_eq!(app.outbox().len(), 7);
}

#[tokio::test]
async fn per_ip_and_per_number_block_limits_are_configurable() {
    let app = TestApp::spawn_with(|c| {
        c.accounts.verifications_per_ip = vec![Window::new(3, 60)];
        c.accounts.verifications_per_prefix = vec![Window::new(2, 120)];
    })
    .await;
    // Two numbers of one block (+86138001380xx), then the block is exhausted.
    app.start_verification("+8613800138001").await;
    app.start_verification("+8613800138002").await;
    let r = app
        .post("/v1/verifications", json!({ "phone": "+8613800138003" }))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!((119..=120).contains(&r.retry_after()));
    // A third number elsewhere is the IP's third; the fourth is refused.
    app.start_verification("+8613900139000").await;
    let r = app
        .post("/v1/verifications", json!({ "phone": "+8613700137000" }))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!((59..=60).contains(&r.retry_after()), "{}", r.retry_after());
    app.advance(Duration::seconds(61));
    app.start_verification("+8613700137000").await;
}

#[tokio::test]
async fn failed_logins_are_limited_per_number() {
    let app = TestApp::spawn().await;
    let token = app.code_login("+8613800138000", "phone").await;
    app.set_password(&token, json!({ "password": "the right one" }))
        .await;
    let login = |password: &str| {
        app.post(
            "/v1/sessions",
            json!({ "phone": "+8613800138000", "password": password }),
        )
    };
    for _ in 0..10 {
        let r = login("wrong guess").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.code(), "invalid_credentials");
    }
    // Now even the right password waits.
    let r = login("the right one").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let wait = r.retry_after();
    assert!((890..=900).contains(&wait), "{wait}");
    app.advance(Duration::seconds(i64::try_from(wait).unwrap()));
    assert_eq!(login("the right one").await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_numbers_and_numbers_without_password_fail_alike() {
    let app = TestApp::spawn().await;
    app.code_login("+8613800138000", "phone").await; // registered, no password
    for phone in ["+8613800138000", "+8613900139000"] {
        let r = app
            .post(
                "/v1/sessions",
                json!({ "phone": phone, "password": "whatever1" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.code(), "invalid_credentials");
        assert_eq!(r.body["error"]["message"], "wrong phone number or password");
    }
}
