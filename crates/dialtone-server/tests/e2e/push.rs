//! Notifications when the app is closed (`docs/api/push.md`), end to end: the server pushes
//! to a local push service written in Python (`dialtone-push`'s `TestPushService`) that
//! checks each VAPID signature and decrypts each payload with an independent
//! implementation (`http_ece`, `py_vapid`). Who gets what follows the recipient's side of
//! the privacy policy, their settings and mutes; absence is asserted behind a barrier (a
//! later push to the same device that must arrive).

use std::time::Duration;

use dialtone_push::EndpointPolicy;
use dialtone_push::testing::{ReceivedPush, TestPushService};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, Ws};

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";
const CAROL: &str = "+8613800138002";
const WAIT: Duration = Duration::from_secs(15);

/// A server whose pushes may go to `service`, gathering bursts for `coalesce_ms`.
async fn app_for(service: &TestPushService, coalesce_ms: u64) -> TestApp {
    let EndpointPolicy::AllowList(addresses) = service.policy() else {
        panic!("the test service's policy is an allow-list");
    };
    TestApp::spawn_with(move |c| {
        c.push.test_endpoint_addresses = addresses;
        c.push.coalesce_ms = coalesce_ms;
        c.push.retry_base_ms = 20;
    })
    .await
}

/// Alice, Bob and Carol, each with the others in their book (Bob calls Alice "Alice Li").
struct People {
    app: TestApp,
    a: String,
    b: String,
    c: String,
    ab: String,
    cb: String,
}

async fn people(app: TestApp) -> People {
    let a = app.code_login(ALICE, "a").await;
    let b = app.code_login(BOB, "b").await;
    let c = app.code_login(CAROL, "c").await;
    for (token, book) in [
        (
            &a,
            json!([{ "name": "Bob", "phones": [BOB] }, { "name": "Carol", "phones": [CAROL] }]),
        ),
        (
            &b,
            json!([{ "name": "Alice Li", "phones": [ALICE] }, { "name": "Carol", "phones": [CAROL] }]),
        ),
        (
            &c,
            json!([{ "name": "Alice", "phones": [ALICE] }, { "name": "Bob", "phones": [BOB] }]),
        ),
    ] {
        let r = app.put_contacts(token, json!({ "contacts": book })).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
    }
    let ab = app.direct_id(&a, BOB).await;
    let cb = app.direct_id(&c, BOB).await;
    People {
        app,
        a,
        b,
        c,
        ab,
        cb,
    }
}

/// A push service, and the three of them on a server that may push to it, Bob's device
/// subscribed.
async fn bob_subscribed(coalesce_ms: u64) -> (TestPushService, People) {
    let service = TestPushService::start().await.unwrap();
    let p = people(app_for(&service, coalesce_ms).await).await;
    p.subscribe(&p.b, &service, "bob").await;
    (service, p)
}

impl People {
    async fn subscribe(&self, token: &str, service: &TestPushService, name: &str) {
        let sub = service.subscribe(name).await.unwrap();
        let r = self
            .app
            .send(
                Method::PUT,
                "/v1/push/subscription",
                Some(token),
                Some(json!({ "endpoint": sub.endpoint, "keys": { "p256dh": sub.p256dh, "auth": sub.auth }, "expirationTime": null })),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    }

    async fn say(&self, token: &str, conv: &str, text: &str) -> u64 {
        let r = self
            .app
            .send(
                Method::POST,
                &format!("/v1/conversations/{conv}/messages"),
                Some(token),
                Some(json!({ "client_id": uuid::Uuid::now_v7().to_string(), "kind": "text", "text": text })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        r.body["seq"].as_u64().unwrap()
    }

    async fn patch(&self, token: &str, path: &str, method: Method, body: Value) -> Value {
        let r = self.app.send(method, path, Some(token), Some(body)).await;
        assert!(r.status.is_success(), "{path}: {r:?}");
        r.body
    }
}

/// The decrypted payload of a push, after checking the oracle accepted its VAPID header
/// and could decrypt it.
fn payload(push: &ReceivedPush) -> Value {
    assert!(push.vapid_ok, "VAPID refused by the oracle: {push:?}");
    assert_eq!(push.decrypt_error, None, "{push:?}");
    serde_json::from_slice(push.payload.as_deref().expect("decrypted")).unwrap()
}

fn ttl(push: &ReceivedPush) -> u64 {
    push.ttl
        .as_deref()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0)
}

async fn next_payload(service: &TestPushService, name: &str) -> (ReceivedPush, Value) {
    loop {
        let push = service.next_push(WAIT).await.expect("a push in time");
        // Pushes the service was told to refuse (429, 5xx, 410) are not deliveries.
        if push.name == name && (200..300).contains(&push.status) {
            let p = payload(&push);
            return (push, p);
        }
    }
}

#[tokio::test]
async fn a_message_to_a_closed_app_is_pushed_signed_and_encrypted() {
    let (service, p) = bob_subscribed(0).await;
    let seq = p.say(&p.a, &p.ab, "晚上一起吃饭？").await;
    let (push, body) = next_payload(&service, "bob").await;
    assert_eq!(body["type"], "message");
    assert_eq!(body["conversation_id"], p.ab.as_str());
    assert_eq!(body["seq"], seq);
    assert_eq!(body["sender"], ALICE);
    assert_eq!(body["name"], "Alice Li", "as Bob's book names her");
    assert_eq!(body["text"], "晚上一起吃饭？");
    assert_eq!(body["kind"], "text");
    assert_eq!(body["count"], 1);
    assert_eq!(body["unread"], 1);
    assert!(body.get("silent").is_none());
    assert_eq!(push.urgency.as_deref(), Some("normal"));
    assert!(ttl(&push) > 3600, "{push:?}");
    let topic = push.topic.clone().expect("a topic");
    assert!(topic.len() <= 32 && !topic.contains(&p.ab), "{topic}");
    // Same conversation, same topic (the push service replaces an undelivered one).
    p.say(&p.a, &p.ab, "again").await;
    let (again, body) = next_payload(&service, "bob").await;
    assert_eq!(again.topic, Some(topic));
    assert_eq!(body["unread"], 2);
    // Own messages are not pushed to oneself; a connected device is not pushed to.
    p.subscribe(&p.a, &service, "alice").await;
    let mut bob_online = p.app.ws(&p.b).await;
    assert_eq!(bob_online.frame().await["type"], "ready");
    p.say(&p.b, &p.ab, "from bob").await;
    p.say(&p.c, &p.cb, "bob is online").await;
    let (_, body) = next_payload(&service, "alice").await;
    assert_eq!(body["text"], "from bob");
    assert!(
        service
            .pushes_of("bob")
            .iter()
            .all(|x| payload(x)["text"] != "bob is online")
    );
    p.app.stop().await;
}

#[tokio::test]
async fn nothing_is_pushed_from_someone_the_recipient_blocks_or_does_not_allow() {
    let (service, p) = bob_subscribed(0).await;
    let r = p
        .app
        .send(
            Method::PUT,
            &format!("/v1/blocklist/{ALICE}"),
            Some(&p.b),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    p.say(&p.a, &p.ab, "blocked words").await;
    p.say(&p.c, &p.cb, "barrier one").await;
    let (_, body) = next_payload(&service, "bob").await;
    assert_eq!(
        body["text"], "barrier one",
        "the blocked sender's push came first: {body}"
    );
    // Allow-list mode without Alice on it: the same.
    p.app
        .send(
            Method::DELETE,
            &format!("/v1/blocklist/{ALICE}"),
            Some(&p.b),
            None,
        )
        .await;
    p.patch(
        &p.b,
        "/v1/privacy",
        Method::PATCH,
        json!({ "visibility": "allowlist" }),
    )
    .await;
    p.app
        .send(
            Method::PUT,
            &format!("/v1/allowlist/{CAROL}"),
            Some(&p.b),
            None,
        )
        .await;
    p.say(&p.a, &p.ab, "not allowed words").await;
    p.say(&p.c, &p.cb, "barrier two").await;
    let (_, body) = next_payload(&service, "bob").await;
    assert_eq!(body["text"], "barrier two", "{body}");
    for push in service.pushes_of("bob").iter().filter(|x| x.status < 300) {
        let text = payload(push)["text"].clone();
        assert!(
            text != "blocked words" && text != "not allowed words",
            "{text}"
        );
    }
    p.app.stop().await;
}

#[tokio::test]
async fn a_hidden_contact_is_pushed_without_name_or_text_unless_allowed_and_previews_can_be_off() {
    let (service, p) = bob_subscribed(0).await;
    let r = p
        .app
        .send(
            Method::PUT,
            "/v1/vault/password",
            Some(&p.b),
            Some(json!({ "password": "vault pw" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = p
        .app
        .send(
            Method::PUT,
            &format!("/v1/contacts/{ALICE}/hidden"),
            Some(&p.b),
            Some(json!({ "hidden": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    p.say(&p.a, &p.ab, "secret plans").await;
    let (_, body) = next_payload(&service, "bob").await;
    assert_eq!(body["type"], "message");
    let text = body.to_string();
    for leak in ["secret", "Alice", ALICE, "+86 138"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
    // Allowed by Bob: name and text.
    let s = p
        .patch(
            &p.b,
            "/v1/push/settings",
            Method::PATCH,
            json!({ "hidden_previews": true }),
        )
        .await;
    assert_eq!(s["hidden_previews"], true);
    p.say(&p.a, &p.ab, "more plans").await;
    let (_, body) = next_payload(&service, "bob").await;
    assert_eq!(body["name"], "Alice Li");
    assert_eq!(body["text"], "more plans");
    // Previews off: who, not what.
    p.patch(
        &p.b,
        "/v1/push/settings",
        Method::PATCH,
        json!({ "previews": false }),
    )
    .await;
    p.say(&p.c, &p.cb, "carol's words").await;
    let (_, body) = next_payload(&service, "bob").await;
    assert_eq!(body["name"], "Carol");
    assert!(body.get("text").is_none(), "{body}");
    p.app.stop().await;
}

#[tokio::test]
async fn a_muted_chat_is_not_pushed_but_a_mention_is_and_quiet_hours_are_silent() {
    let (service, p) = bob_subscribed(0).await;
    let r = p
        .patch(
            &p.b,
            &format!("/v1/conversations/{}/mute", p.ab),
            Method::PUT,
            json!({ "duration": "8h" }),
        )
        .await;
    let until = chrono::DateTime::parse_from_rfc3339(r["muted_until"].as_str().unwrap()).unwrap();
    assert_eq!(
        (until.timestamp() - p.app.clock_now().timestamp()) / 3600,
        8
    );
    let listed = p.app.get_auth("/v1/conversations", &p.b).await;
    let ab = listed.body["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == p.ab.as_str())
        .unwrap()
        .clone();
    assert_eq!(ab["muted_until"], r["muted_until"]);
    p.say(&p.a, &p.ab, "muted words").await;
    p.say(&p.a, &p.ab, &format!("hey @{BOB} look")).await;
    let (_, body) = next_payload(&service, "bob").await;
    assert_eq!(
        body["text"],
        format!("hey @{BOB} look"),
        "the mention, not the muted one"
    );
    // The badge leaves the muted chat out.
    p.say(&p.c, &p.cb, "count me").await;
    let (_, body) = next_payload(&service, "bob").await;
    assert_eq!(body["unread"], 1, "{body}");
    // Muted past its time: pushed again.
    p.app
        .advance(chrono::Duration::hours(8) + chrono::Duration::seconds(1));
    p.say(&p.a, &p.ab, "after the mute").await;
    let (_, body) = next_payload(&service, "bob").await;
    assert_eq!(body["text"], "after the mute");
    // Always, then off.
    let r = p
        .patch(
            &p.b,
            &format!("/v1/conversations/{}/mute", p.ab),
            Method::PUT,
            json!({ "duration": "always" }),
        )
        .await;
    assert!(r["muted_until"].as_str().unwrap().starts_with("9999-"));
    let r = p
        .patch(
            &p.b,
            &format!("/v1/conversations/{}/mute", p.ab),
            Method::PUT,
            json!({ "duration": "off" }),
        )
        .await;
    assert_eq!(r["muted_until"], Value::Null);

    // Quiet hours around the server's clock (UTC+8 local): silent; outside them: not.
    let now = p.app.clock_now() + chrono::Duration::hours(8);
    let hour = |h: i64| {
        format!(
            "{:02}:00",
            (now.format("%H").to_string().parse::<i64>().unwrap() + h).rem_euclid(24)
        )
    };
    p.patch(
        &p.b,
        "/v1/push/settings",
        Method::PATCH,
        json!({ "quiet_hours": { "from": hour(-1), "to": hour(2) }, "utc_offset_minutes": 480 }),
    )
    .await;
    p.say(&p.a, &p.ab, "at night").await;
    let (_, body) = next_payload(&service, "bob").await;
    assert_eq!(body["silent"], true, "{body}");
    p.patch(
        &p.b,
        "/v1/push/settings",
        Method::PATCH,
        json!({ "quiet_hours": { "from": hour(2), "to": hour(4) } }),
    )
    .await;
    p.say(&p.a, &p.ab, "by day").await;
    let (_, body) = next_payload(&service, "bob").await;
    assert!(body.get("silent").is_none(), "{body}");
    p.app.stop().await;
}

#[tokio::test]
async fn a_burst_of_fifty_is_a_few_pushes_and_a_read_elsewhere_closes_them() {
    let (service, p) = bob_subscribed(1_500).await;
    let mut last = 0;
    for i in 0..50 {
        last = p.say(&p.a, &p.ab, &format!("burst {i}")).await;
    }
    let mut counted = 0;
    let mut pushes = 0;
    let mut latest = Value::Null;
    while counted < 50 {
        let (_, body) = next_payload(&service, "bob").await;
        counted += body["count"].as_u64().unwrap();
        pushes += 1;
        latest = body;
    }
    assert_eq!(counted, 50);
    assert!(pushes <= 6, "{pushes} pushes for a burst of 50");
    assert_eq!(latest["seq"], last);
    assert_eq!(latest["text"], "burst 49");
    // Bob reads on his phone (another device, online or not): the closed app's
    // notifications of that chat go.
    let phone = p.app.code_login(BOB, "phone").await;
    let r = p
        .app
        .send(
            Method::POST,
            &format!("/v1/conversations/{}/read", p.ab),
            Some(&phone),
            Some(json!({ "seq": last })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let (push, body) = next_payload(&service, "bob").await;
    assert_eq!(
        body,
        json!({ "type": "read", "conversation_id": p.ab, "seq": last, "unread": 0 })
    );
    assert!(push.topic.is_some());
    p.app.stop().await;
}

#[tokio::test]
async fn a_ringing_call_wakes_the_callee_and_stops_when_cancelled_leaving_a_missed_call() {
    let (service, p) = bob_subscribed(0).await;
    let mut a = p.app.ws(&p.a).await;
    assert_eq!(a.frame().await["type"], "ready");
    send(&mut a, json!({ "type": "call_start", "client_id": "k1", "conversation_id": p.ab, "media": "video" })).await;
    let call_id = loop {
        let f = a.frame().await;
        if f["type"] == "call_started" {
            break f["call"]["id"].as_str().unwrap().to_owned();
        }
    };
    let (push, body) = next_payload(&service, "bob").await;
    assert_eq!(body["type"], "call");
    assert_eq!(body["call_id"], call_id.as_str());
    assert_eq!(body["media"], "video");
    assert_eq!(body["name"], "Alice Li");
    assert_eq!(push.urgency.as_deref(), Some("high"));
    assert!(ttl(&push) <= 60, "{push:?}");
    send(&mut a, json!({ "type": "call_hangup", "call_id": call_id })).await;
    let (_, body) = next_payload(&service, "bob").await;
    assert_eq!(
        body,
        json!({ "type": "call_ended", "call_id": call_id, "conversation_id": p.ab })
    );
    let (_, body) = next_payload(&service, "bob").await;
    assert_eq!(body["type"], "message");
    assert_eq!(body["kind"], "call");
    assert_eq!(body["media"], "video");
    p.app.stop().await;
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send_text(&v.to_string()).await;
}

#[tokio::test]
async fn retries_on_429_and_5xx_and_a_gone_subscription_is_dropped() {
    let (service, p) = bob_subscribed(0).await;
    service.respond("bob", &[500, 429], Some(0)).await.unwrap();
    p.say(&p.a, &p.ab, "third time lucky").await;
    let (_, body) = next_payload(&service, "bob").await;
    assert_eq!(body["text"], "third time lucky");
    service.respond("bob", &[410], None).await.unwrap();
    p.say(&p.a, &p.ab, "into the void").await;
    let gone = async {
        loop {
            let r = p.app.get_auth("/v1/push/subscription", &p.b).await;
            if r.body["subscribed"] == false {
                break;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(WAIT, gone)
        .await
        .expect("the gone subscription dropped");
    p.app.stop().await;
}

#[tokio::test]
async fn bad_subscriptions_settings_and_mutes_are_refused_with_codes() {
    let service = TestPushService::start().await.unwrap();
    let p = people(app_for(&service, 0).await).await;
    let good = service.subscribe("good").await.unwrap();
    // Endpoints are judged as in production (https, public addresses) by a server whose
    // tests name no local push service.
    let production = people(TestApp::spawn().await).await;
    let put = |body: Value| {
        let app = &production.app;
        let token = production.b.clone();
        async move {
            app.send(
                Method::PUT,
                "/v1/push/subscription",
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    for (what, body) in [
        (
            "http to a public host",
            json!({ "endpoint": "http://push.example.com/x", "keys": { "p256dh": good.p256dh, "auth": good.auth } }),
        ),
        (
            "a private address",
            json!({ "endpoint": "https://10.0.0.1/x", "keys": { "p256dh": good.p256dh, "auth": good.auth } }),
        ),
        (
            "loopback not allowed",
            json!({ "endpoint": "https://127.0.0.1:1/x", "keys": { "p256dh": good.p256dh, "auth": good.auth } }),
        ),
        (
            "a short p256dh",
            json!({ "endpoint": good.endpoint, "keys": { "p256dh": "AAAA", "auth": good.auth } }),
        ),
        (
            "a long auth",
            json!({ "endpoint": good.endpoint, "keys": { "p256dh": good.p256dh, "auth": "AAAAAAAAAAAAAAAAAAAAAAAAAAAA" } }),
        ),
        (
            "not base64",
            json!({ "endpoint": good.endpoint, "keys": { "p256dh": "!!!", "auth": good.auth } }),
        ),
    ] {
        let r = put(body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {r:?}");
        assert_eq!(r.code(), "invalid_input", "{what}");
    }
    let r = put(json!({ "endpoint": good.endpoint })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    let r = production
        .app
        .get_auth("/v1/push/subscription", &production.b)
        .await;
    assert_eq!(r.body["subscribed"], false, "nothing stored");
    // A public https endpoint is taken (its addresses are judged at each send).
    let r = put(json!({ "endpoint": "https://push.example.net/abc", "keys": { "p256dh": good.p256dh, "auth": good.auth } })).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    production.app.stop().await;
    for body in [
        json!({ "quiet_hours": { "from": "25:00", "to": "07:00" } }),
        json!({ "quiet_hours": { "from": "22:00" } }),
        json!({ "utc_offset_minutes": 900 }),
        json!({ "previews": "yes" }),
        json!({ "nonsense": true }),
    ] {
        let r = p
            .app
            .send(
                Method::PATCH,
                "/v1/push/settings",
                Some(&p.b),
                Some(body.clone()),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {r:?}");
    }
    let settings = p.app.get_auth("/v1/push/settings", &p.b).await.body;
    assert_eq!(
        settings,
        json!({ "previews": true, "hidden_previews": false, "quiet_hours": null, "utc_offset_minutes": 0 })
    );
    let r = p
        .app
        .send(
            Method::PUT,
            &format!("/v1/conversations/{}/mute", p.ab),
            Some(&p.b),
            Some(json!({ "duration": "forever" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    // Carol is not in Alice and Bob's chat: as if it did not exist.
    let r = p
        .app
        .send(
            Method::PUT,
            &format!("/v1/conversations/{}/mute", p.ab),
            Some(&p.c),
            Some(json!({ "duration": "8h" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    assert_eq!(r.code(), "conversation_not_found");
    let r = p
        .app
        .send(Method::PUT, "/v1/push/subscription", None, Some(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The key is public, and the same after a restart (derived from the server key).
    let key = p.app.get_auth("/v1/push/key", &p.a).await.body["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(key.len(), 87, "base64url of 65 bytes: {key}");
    // Logging out drops the device's subscription.
    p.subscribe(&p.b, &service, "bob").await;
    let r = p
        .app
        .send(Method::DELETE, "/v1/sessions/current", Some(&p.b), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    p.say(&p.c, &p.cb, "bob logged out").await;
    p.subscribe(&p.a, &service, "alice").await;
    p.say(&p.c, &p.app.direct_id(&p.c, ALICE).await, "barrier")
        .await;
    let (_, body) = next_payload(&service, "alice").await;
    assert_eq!(body["text"], "barrier");
    assert!(service.pushes_of("bob").is_empty());
    p.app.stop().await;
}

#[tokio::test]
async fn a_subscription_outlives_a_restart_and_the_key_stays_the_same() {
    let service = TestPushService::start().await.unwrap();
    let mut p = people(app_for(&service, 0).await).await;
    let key = p.app.get_auth("/v1/push/key", &p.a).await.body["public_key"].clone();
    p.subscribe(&p.b, &service, "bob").await;
    p.app.restart().await;
    assert_eq!(
        p.app.get_auth("/v1/push/key", &p.a).await.body["public_key"],
        key
    );
    p.say(&p.a, &p.ab, "after the restart").await;
    let (_, body) = next_payload(&service, "bob").await;
    assert_eq!(body["text"], "after the restart");
    p.app.stop().await;
}

#[tokio::test]
async fn a_device_connected_to_another_node_is_not_pushed_and_one_gone_is() {
    let Some(mut nodes) = TestApp::spawn_deployment("push_across_nodes", 2).await else {
        return;
    };
    let service = TestPushService::start().await.unwrap();
    let EndpointPolicy::AllowList(addresses) = service.policy() else {
        panic!("an allow-list");
    };
    // The deployment's nodes, allowed to reach the test push service.
    for app in &mut nodes {
        app.config.push.test_endpoint_addresses = addresses.clone();
        app.config.push.coalesce_ms = 0;
        app.restart().await;
    }
    let second = nodes.pop().unwrap();
    let p = people(nodes.pop().unwrap()).await;
    p.subscribe(&p.b, &service, "bob").await;
    p.subscribe(&p.c, &service, "carol").await;
    // Bob's device is connected to the second node; Alice writes through the first.
    let mut bob = second.ws(&p.b).await;
    assert_eq!(bob.frame().await["type"], "ready");
    p.say(&p.a, &p.ab, "you are online elsewhere").await;
    p.say(&p.a, &p.app.direct_id(&p.a, CAROL).await, "barrier")
        .await;
    let (_, body) = next_payload(&service, "carol").await;
    assert_eq!(body["text"], "barrier");
    assert!(
        service.pushes_of("bob").is_empty(),
        "{:?}",
        service.pushes_of("bob")
    );
    bob.close().await;
    // Gone from every node (its end recorded): pushed.
    let gone = async {
        loop {
            p.say(&p.a, &p.ab, "are you there").await;
            let (_, body) = next_payload(&service, "bob").await;
            if body["text"] == "are you there" {
                break;
            }
        }
    };
    tokio::time::timeout(WAIT, gone)
        .await
        .expect("pushed once offline");
    second.stop().await;
    p.app.stop().await;
}
