//! Registration, login, devices, password reset and registration lock, as a user does them.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::TestApp;

const ALICE: &str = "+8613800138000";

/// The whole life of an account, run on the given server.
async fn account_lifecycle(app: &TestApp) {
    // Register: a national form is read in the server's region (CN).
    let r = app
        .post("/v1/verifications", json!({ "phone": "138 0013 8000" }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["phone"], ALICE);
    let id = r.body["id"].as_str().unwrap().to_owned();
    for field in ["expires_at", "resend_after"] {
        let t = r.body[field].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(t).is_ok(),
            "{field}: {t}"
        );
    }

    // The SMS: Chinese for a Chinese number, ending with the WebOTP line.
    let outbox = app.outbox();
    assert_eq!(outbox.len(), 1);
    let (to, body) = &outbox[0];
    assert_eq!(to, ALICE);
    let code = app.last_code(ALICE);
    assert_eq!(code.len(), 6);
    assert!(body.contains("验证码"), "{body}");
    assert_eq!(body.lines().last().unwrap(), format!("@localhost #{code}"));

    let r = app
        .submit(&id, json!({ "code": code, "device_name": "phone" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["new_account"], true);
    assert_eq!(r.body["password_set"], false);
    assert_eq!(r.body["phone"], ALICE);
    let phone_token = r.body["token"].as_str().unwrap().to_owned();
    let user_id = r.body["user_id"].as_str().unwrap().to_owned();

    let r = app.get_auth("/v1/account", &phone_token).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["user_id"], user_id.as_str());
    assert_eq!(r.body["phone"], ALICE);
    assert_eq!(r.body["region"], "CN");
    assert_eq!(r.body["password_set"], false);
    assert_eq!(r.body["registration_lock"], false);

    // Set a password right after registering: no current password needed.
    let r = app
        .set_password(&phone_token, json!({ "password": "correct horse battery" }))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");

    // Log in from a desktop with number and password.
    let r = app
        .post(
            "/v1/sessions",
            json!({ "phone": "+86 138-0013-8000", "password": "correct horse battery", "device_name": "desktop" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["user_id"], user_id.as_str());
    assert_eq!(r.body["phone"], ALICE);
    let desktop_token = r.body["token"].as_str().unwrap().to_owned();
    assert_ne!(desktop_token, phone_token);

    // Both devices are listed; the asking one is marked current.
    let r = app.get_auth("/v1/devices", &desktop_token).await;
    assert_eq!(r.status, StatusCode::OK);
    let devices = r.body["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    let names: Vec<&str> = devices
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["phone", "desktop"]);
    assert_eq!(devices[0]["current"], false);
    assert_eq!(devices[1]["current"], true);
    let phone_device = devices[0]["id"].as_str().unwrap().to_owned();

    // Revoke the phone from the desktop: its token dies at once.
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/devices/{phone_device}"),
            Some(&desktop_token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get_auth("/v1/account", &phone_token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "unauthorized");

    // Log out the desktop.
    let r = app
        .send(
            Method::DELETE,
            "/v1/sessions/current",
            Some(&desktop_token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get_auth("/v1/devices", &desktop_token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // A code again logs in to the same account, not a new one.
    let id = app.start_verification(ALICE).await;
    let r = app
        .submit(&id, json!({ "code": app.last_code(ALICE) }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["new_account"], false);
    assert_eq!(r.body["password_set"], true);
    assert_eq!(r.body["user_id"], user_id.as_str());
}

#[tokio::test]
async fn account_lifecycle_on_sqlite() {
    let app = TestApp::spawn().await;
    account_lifecycle(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn account_lifecycle_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("account_lifecycle_on_postgres").await else {
        return;
    };
    account_lifecycle(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn english_sms_for_other_regions_and_configured_domain() {
    let app = TestApp::spawn_with(|c| {
        c.domain = "chat.example.org".into();
        c.sms.policy.android_app_hash = Some("FA+9qCX9VSu".into());
    })
    .await;
    app.start_verification("+447911123456").await;
    let (_, body) = app.outbox().pop().unwrap();
    let code = app.last_code("+447911123456");
    assert!(body.starts_with("dialtone code: "), "{body}");
    assert!(body.contains("\nFA+9qCX9VSu\n"), "{body}");
    assert_eq!(
        body.lines().last().unwrap(),
        format!("@chat.example.org #{code}")
    );
}

#[tokio::test]
async fn responses_are_identical_for_registered_and_unregistered_numbers() {
    let app = TestApp::spawn().await;
    app.code_login(ALICE, "phone").await;
    let registered = app
        .post("/v1/verifications", json!({ "phone": ALICE }))
        .await;
    let unregistered = app
        .post("/v1/verifications", json!({ "phone": "+8613900139000" }))
        .await;
    assert_eq!(registered.status, unregistered.status);
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&registered.body), keys(&unregistered.body));
    let delta = |v: &serde_json::Value| {
        let e = chrono::DateTime::parse_from_rfc3339(v["expires_at"].as_str().unwrap()).unwrap();
        let r = chrono::DateTime::parse_from_rfc3339(v["resend_after"].as_str().unwrap()).unwrap();
        (e - r).num_seconds()
    };
    assert_eq!(delta(&registered.body), delta(&unregistered.body));
    let len = |to: &str| {
        app.outbox()
            .into_iter()
            .rev()
            .find(|(t, _)| t == to)
            .unwrap()
            .1
            .len()
    };
    assert_eq!(
        len(ALICE),
        len("+8613900139000"),
        "the SMS does not tell either"
    );
}

#[tokio::test]
async fn wrong_codes_kill_the_verification_and_codes_work_once() {
    let app = TestApp::spawn().await;
    let id = app.start_verification(ALICE).await;
    let code = app.last_code(ALICE);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let r = app.submit(&id, json!({ "code": wrong })).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.code(), "invalid_code");
    }
    // Dead now, even for the right code.
    let r = app.submit(&id, json!({ "code": code })).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(r.code(), "verification_expired");

    // A fresh verification works once.
    let id = app.start_verification(ALICE).await;
    let code = app.last_code(ALICE);
    assert_eq!(
        app.submit(&id, json!({ "code": code })).await.status,
        StatusCode::OK
    );
    let again = app.submit(&id, json!({ "code": code })).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert_eq!(again.code(), "verification_expired");
}

#[tokio::test]
async fn codes_expire_after_ten_minutes() {
    let app = TestApp::spawn().await;
    let id = app.start_verification(ALICE).await;
    let code = app.last_code(ALICE);
    app.advance(Duration::minutes(10) + Duration::seconds(1));
    let r = app.submit(&id, json!({ "code": code })).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(r.code(), "verification_expired");
    // An expired code can be replaced by a resend within the hour...
    let resend = format!("/v1/verifications/{id}/resend");
    let r = app.send(Method::POST, &resend, None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let fresh = app.last_code(ALICE);
    assert_eq!(
        app.submit(&id, json!({ "code": fresh })).await.status,
        StatusCode::OK
    );

    // ...but not after it.
    let id = app.start_verification(ALICE).await;
    app.advance(Duration::minutes(61));
    let r = app
        .send(
            Method::POST,
            &format!("/v1/verifications/{id}/resend"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(r.code(), "verification_expired");
}

#[tokio::test]
async fn resend_waits_a_growing_cooldown_and_replaces_the_code() {
    let app = TestApp::spawn().await;
    let id = app.start_verification(ALICE).await;
    let first = app.last_code(ALICE);
    let resend = format!("/v1/verifications/{id}/resend");

    let r = app.send(Method::POST, &resend, None, None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "rate_limited");
    assert!((59..=60).contains(&r.retry_after()), "{}", r.retry_after());

    let mut waits = Vec::new();
    for wait in [61, 121, 301, 601] {
        app.advance(Duration::seconds(wait));
        let before = app.clock_now();
        let r = app.send(Method::POST, &resend, None, None).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        let next =
            chrono::DateTime::parse_from_rfc3339(r.body["resend_after"].as_str().unwrap()).unwrap();
        waits.push((next.with_timezone(&chrono::Utc) - before).num_seconds());
    }
    // After the 2nd, 3rd, 4th, 5th SMS: 2 min, 5 min, 10 min, 10 min.
    for (got, want) in waits.iter().zip([120, 300, 600, 600]) {
        assert!((want - 1..=want).contains(got), "waits {waits:?}");
    }
    assert_eq!(app.outbox().len(), 5);

    // Only the newest code works.
    let newest = app.last_code(ALICE);
    if newest != first {
        let r = app.submit(&id, json!({ "code": first })).await;
        assert_eq!(r.code(), "invalid_code");
    }
    let r = app.submit(&id, json!({ "code": newest })).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

#[tokio::test]
async fn forgotten_password_is_reset_with_a_fresh_code() {
    let app = TestApp::spawn().await;
    let first = app.code_login(ALICE, "phone").await;
    assert_eq!(
        app.set_password(&first, json!({ "password": "first password" }))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let laptop = app.code_login(ALICE, "laptop").await;

    // Ten minutes later a change needs the current password, and the right one.
    app.advance(Duration::minutes(11));
    let r = app
        .set_password(&first, json!({ "password": "second password" }))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "current_password_required");
    let r = app
        .set_password(
            &first,
            json!({ "password": "second password", "current_password": "nope nope" }),
        )
        .await;
    assert_eq!(r.code(), "wrong_password");
    let r = app
        .set_password(
            &first,
            json!({ "password": "short", "current_password": "first password" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "weak_password");

    // Forgotten: a fresh code allows a new password without the old one, and every other
    // device is logged out.
    let recovered = app.code_login(ALICE, "new phone").await;
    let r = app
        .set_password(&recovered, json!({ "password": "third password" }))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    for old in [&first, &laptop] {
        assert_eq!(
            app.get_auth("/v1/account", old).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.get_auth("/v1/account", &recovered).await.status,
        StatusCode::OK
    );

    let login = |password: &'static str| {
        app.post(
            "/v1/sessions",
            json!({ "phone": ALICE, "password": password }),
        )
    };
    assert_eq!(login("first password").await.code(), "invalid_credentials");
    assert_eq!(login("third password").await.status, StatusCode::OK);
}

#[tokio::test]
async fn registration_lock_needs_the_password_with_the_code() {
    let app = TestApp::spawn().await;
    let token = app.code_login(ALICE, "phone").await;
    let patch = |body| app.send(Method::PATCH, "/v1/account", Some(&token), Some(body));

    // Not without a password.
    let r = patch(json!({ "registration_lock": true })).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "password_required");

    app.set_password(&token, json!({ "password": "lock password" }))
        .await;
    let r = patch(json!({ "registration_lock": true, "display_name": "  Alice  " })).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["registration_lock"], true);
    assert_eq!(r.body["display_name"], "Alice");

    let id = app.start_verification(ALICE).await;
    let code = app.last_code(ALICE);
    let r = app.submit(&id, json!({ "code": code })).await;
    assert_eq!(r.status, StatusCode::LOCKED);
    assert_eq!(r.code(), "registration_locked");
    let r = app
        .submit(&id, json!({ "code": code, "password": "not the password" }))
        .await;
    assert_eq!(r.status, StatusCode::LOCKED);
    let r = app
        .submit(&id, json!({ "code": code, "password": "lock password" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["new_account"], false);

    // Off again: a code alone works.
    let r = patch(json!({ "registration_lock": false })).await;
    assert_eq!(r.body["registration_lock"], false);
    app.code_login(ALICE, "tablet").await;
}

#[tokio::test]
async fn account_settings_are_validated() {
    let app = TestApp::spawn().await;
    let token = app.code_login(ALICE, "phone").await;
    let patch = |body| app.send(Method::PATCH, "/v1/account", Some(&token), Some(body));
    let r = patch(json!({ "region": "hk" })).await;
    assert_eq!(r.body["region"], "HK");
    let r = patch(json!({ "region": "XX" })).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_region")
    );
    let r = patch(json!({ "display_name": "x".repeat(65) })).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
    let r = patch(json!({ "display_name": "王小明" })).await;
    assert_eq!(r.body["display_name"], "王小明");
    let r = patch(json!({ "display_name": null })).await;
    assert_eq!(r.body["display_name"], serde_json::Value::Null);
    let r = app.get_auth("/v1/account", &token).await;
    assert_eq!(r.body["region"], "HK");
}

/// Tokens are remembered for a moment after they authenticate, but never past a logout:
/// on the node that logged out at once, on another node as soon as the event arrives
/// (well before the memory would expire by itself); a revoked device and the devices a
/// password change logs out too.
#[tokio::test]
async fn a_logged_out_token_is_refused_at_once_on_every_node() {
    let Some(nodes) = TestApp::spawn_deployment("revoked_everywhere", 2).await else {
        return;
    };
    let (a, b) = (&nodes[0], &nodes[1]);
    let phone = "+8613800138077";
    let first = a.code_login(phone, "first").await;
    let second = a.code_login(phone, "second").await;
    let third = a.code_login(phone, "third").await;
    for token in [&first, &second, &third] {
        for node in [a, b] {
            assert_eq!(
                node.get_auth("/v1/account", token).await.status,
                StatusCode::OK
            );
        }
    }
    // Refused where it happened at once, and on the other node within half a second
    // (the remembered tokens would last 5 s).
    let refused_everywhere = |token: String| async move {
        assert_eq!(
            a.get_auth("/v1/account", &token).await.status,
            StatusCode::UNAUTHORIZED
        );
        let started = std::time::Instant::now();
        while b.get_auth("/v1/account", &token).await.status != StatusCode::UNAUTHORIZED {
            assert!(
                started.elapsed() < std::time::Duration::from_millis(500),
                "the other node still takes a revoked token"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    let r = a
        .send(Method::DELETE, "/v1/sessions/current", Some(&first), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    refused_everywhere(first).await;

    let devices = a.get_auth("/v1/devices", &third).await.body;
    let second_id = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "second")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = a
        .send(
            Method::DELETE,
            &format!("/v1/devices/{second_id}"),
            Some(&third),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    refused_everywhere(second).await;

    // A password set logs the other devices out: a fourth device, remembered on node B.
    let fourth = a.code_login(phone, "fourth").await;
    assert_eq!(
        b.get_auth("/v1/account", &fourth).await.status,
        StatusCode::OK
    );
    let r = a
        .set_password(&third, json!({ "password": "correct horse battery" }))
        .await;
    assert!(r.status.is_success(), "{r:?}");
    refused_everywhere(fourth).await;
    assert_eq!(
        b.get_auth("/v1/account", &third).await.status,
        StatusCode::OK
    );
    for node in nodes {
        node.stop().await;
    }
}
