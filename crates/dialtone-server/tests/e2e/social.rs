//! Contacts, discovery and privacy over HTTP: every viewer relationship, on every endpoint
//! that shows a user, against what an unregistered number shows.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::TestApp;

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";
const CAROL: &str = "+8613800138002";
/// Never registered: the baseline every hidden user must look like.
const NOBODY: &str = "+8613800138099";

fn entry<'a>(contacts: &'a Value, phone: &str) -> &'a Value {
    contacts["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["phone"] == phone)
        .unwrap_or_else(|| panic!("{phone} not in {contacts}"))
}

/// An entry without the fields that differ for any two numbers.
fn shape(entry: &Value) -> Value {
    let mut e = entry.clone();
    let o = e.as_object_mut().unwrap();
    o.remove("phone");
    o.remove("name");
    e
}

#[tokio::test]
async fn upload_normalises_merges_and_discovers() {
    upload_normalises_merges_and_discovers_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn upload_normalises_merges_and_discovers_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("upload_normalises_merges_and_discovers").await else {
        return;
    };
    upload_normalises_merges_and_discovers_on(app).await;
}

async fn upload_normalises_merges_and_discovers_on(app: TestApp) {
    let alice = app.code_login(ALICE, "a").await;
    app.code_login(BOB, "b").await;
    let r = app
        .put_contacts(
            &alice,
            json!({ "contacts": [
                { "name": "Bob", "phones": ["138 0013 8001", "+86 138-0013-8001"] },
                { "name": "鲍勃 (work)", "phones": ["0086 13800138001"] },
                { "name": "Carol", "phones": ["１３８００１３８００２"] },
                { "name": "Broken", "phones": ["not a number", "12345"] },
                { "name": "Nobody", "phones": [] },
                { "name": "Landline", "phones": ["(010) 6234-5678"] },
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let contacts = r.body["contacts"].as_array().unwrap();
    assert_eq!(
        contacts.len(),
        3,
        "one entry per E.164 number: {contacts:?}"
    );
    // Registered first.
    assert_eq!(contacts[0]["phone"], BOB);
    assert_eq!(contacts[0]["name"], "Bob", "the first name wins");
    assert_eq!(contacts[0]["registered"], true);
    assert!(contacts[0]["user_id"].is_string());
    assert_eq!(contacts[0]["presence"]["state"], "offline");
    assert_eq!(contacts[0]["hidden"], false);
    let carol = entry(&r.body, CAROL);
    assert_eq!(carol["registered"], false);
    assert!(carol.get("user_id").is_none() && carol.get("presence").is_none());
    entry(&r.body, "+861062345678");
    let rejected: Vec<(String, String)> = r.body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["input"].as_str().unwrap().to_owned(),
                x["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        vec![
            ("not a number".to_owned(), "not_a_number".to_owned()),
            ("12345".to_owned(), "invalid_phone".to_owned()),
            ("Nobody".to_owned(), "no_phone".to_owned()),
        ]
    );

    // Carol registers later: the listing shows her.
    app.code_login(CAROL, "c").await;
    let list = app.get_auth("/v1/contacts", &alice).await;
    assert_eq!(entry(&list.body, CAROL)["registered"], true);

    // Merge adds and renames; replace drops what is not in the new book.
    let r = app
        .send(
            Method::POST,
            "/v1/contacts",
            Some(&alice),
            Some(json!({ "contacts": [
                { "name": "Robert", "phones": [BOB] },
                { "name": "Dave", "phones": ["+8613800138003"] },
            ]})),
        )
        .await;
    assert_eq!(r.body["contacts"].as_array().unwrap().len(), 4);
    assert_eq!(entry(&r.body, BOB)["name"], "Robert");
    let r = app
        .put_contacts(
            &alice,
            json!({ "contacts": [{ "name": "Bob", "phones": [BOB] }] }),
        )
        .await;
    assert_eq!(r.body["contacts"].as_array().unwrap().len(), 1);
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/contacts/{}", BOB.replace('+', "%2B")),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/contacts/{BOB}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "contact_not_found")
    );
    assert!(
        app.get_auth("/v1/contacts", &alice).await.body["contacts"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn address_books_are_sealed_in_the_database() {
    let app = TestApp::spawn().await;
    let alice = app.code_login(ALICE, "a").await;
    app.put_contacts(
        &alice,
        json!({ "contacts": [{ "name": "Secret Friend 秘密", "phones": ["+8613912345678"] }] }),
    )
    .await;
    let db = std::fs::read(app.config.data_dir.join("dialtone.db")).unwrap();
    let wal = std::fs::read(app.config.data_dir.join("dialtone.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("13912345678"),
            "the number is stored in the clear"
        );
        assert!(
            !text.contains("Secret Friend"),
            "the name is stored in the clear"
        );
    }
}

/// One relationship case: how the target sets things up, and whether the viewer sees them.
struct Case {
    name: &'static str,
    setup: Vec<(Method, String, Option<Value>)>,
    visible: bool,
    last_seen: bool,
}

fn case(
    name: &'static str,
    setup: Vec<(Method, String, Option<Value>)>,
    visible: bool,
    last_seen: bool,
) -> Case {
    Case {
        name,
        setup,
        visible,
        last_seen,
    }
}

/// The privacy matrix: for each relationship, what the viewer sees of the target through
/// the contacts listing and the presence endpoint; whoever may not see the target sees
/// exactly what an unregistered number shows.
#[tokio::test]
async fn every_relationship_on_every_endpoint() {
    every_relationship_on_every_endpoint_on(false).await;
}

/// The matrix on PostgreSQL, whose deployments read the privacy facts every time.
#[tokio::test]
async fn every_relationship_on_every_endpoint_on_postgres() {
    every_relationship_on_every_endpoint_on(true).await;
}

async fn every_relationship_on_every_endpoint_on(postgres: bool) {
    let viewer_phone = BOB;
    let group = |list: &str| (Method::PUT, format!("/v1/{list}/groups/GROUP"), None);
    let put = |path: String| (Method::PUT, path, None);
    let patch = |body: Value| (Method::PATCH, "/v1/privacy".to_owned(), Some(body));
    let in_book = (
        Method::PUT,
        "/v1/contacts".to_owned(),
        Some(json!({ "contacts": [{ "name": "viewer", "phones": [viewer_phone] }] })),
    );
    let cases = vec![
        case("no relation", vec![], true, true),
        case(
            "blocked number",
            vec![put(format!("/v1/blocklist/{viewer_phone}"))],
            false,
            false,
        ),
        case(
            "blocked group member",
            vec![group("blocklist")],
            false,
            false,
        ),
        case(
            "allowlist mode, not on it",
            vec![patch(json!({ "visibility": "allowlist" }))],
            false,
            false,
        ),
        case(
            "allowlist mode, on it",
            vec![
                patch(json!({ "visibility": "allowlist" })),
                put(format!("/v1/allowlist/{viewer_phone}")),
            ],
            true,
            true,
        ),
        case(
            "allowlist mode, group on it",
            vec![
                patch(json!({ "visibility": "allowlist" })),
                group("allowlist"),
            ],
            true,
            true,
        ),
        case(
            "allowed but blocked",
            vec![
                patch(json!({ "visibility": "allowlist" })),
                put(format!("/v1/allowlist/{viewer_phone}")),
                put(format!("/v1/blocklist/{viewer_phone}")),
            ],
            false,
            false,
        ),
        case(
            "discoverable by contacts, not in book",
            vec![patch(json!({ "discoverable": "contacts" }))],
            false,
            false,
        ),
        case(
            "discoverable by contacts, in book",
            vec![
                patch(json!({ "discoverable": "contacts" })),
                in_book.clone(),
            ],
            true,
            true,
        ),
        case(
            "discoverable by nobody",
            vec![patch(json!({ "discoverable": "nobody" })), in_book.clone()],
            false,
            false,
        ),
        case(
            "last seen by nobody",
            vec![patch(json!({ "last_seen": "nobody" }))],
            true,
            false,
        ),
        case(
            "last seen by contacts, not in book",
            vec![patch(json!({ "last_seen": "contacts" }))],
            true,
            false,
        ),
        case(
            "last seen by contacts, in book",
            vec![patch(json!({ "last_seen": "contacts" })), in_book],
            true,
            true,
        ),
    ];
    for case in cases {
        let app = if postgres {
            let Some(app) = TestApp::spawn_postgres(case.name).await else {
                return;
            };
            app
        } else {
            TestApp::spawn().await
        };
        let target = app.code_login(ALICE, "target").await;
        let viewer = app.code_login(viewer_phone, "viewer").await;
        // The target was online once, so a last-seen time exists.
        let ws = app.ws(&target).await;
        ws.close().await;
        let g = app
            .send(
                Method::POST,
                "/v1/contact-groups",
                Some(&target),
                Some(json!({ "name": "g", "phones": [viewer_phone, CAROL] })),
            )
            .await;
        assert_eq!(g.status, StatusCode::CREATED, "{g:?}");
        let group_id = g.body["id"].as_str().unwrap().to_owned();
        for (method, path, body) in &case.setup {
            let path = path.replace("GROUP", &group_id);
            let r = app
                .send(method.clone(), &path, Some(&target), body.clone())
                .await;
            assert!(
                r.status.is_success(),
                "{}: {method} {path}: {r:?}",
                case.name
            );
        }
        let listing = app
            .put_contacts(&viewer, json!({ "contacts": [{ "name": "t", "phones": [ALICE] }, { "name": "u", "phones": [NOBODY] }] }))
            .await;
        let seen = entry(&listing.body, ALICE).clone();
        let unregistered = entry(&listing.body, NOBODY).clone();
        let presence = app
            .get_auth(&format!("/v1/users/{ALICE}/presence"), &viewer)
            .await;
        let presence_nobody = app
            .get_auth(&format!("/v1/users/{NOBODY}/presence"), &viewer)
            .await;
        assert_eq!(presence.status, StatusCode::OK);
        if case.visible {
            assert_eq!(seen["registered"], true, "{}: {seen}", case.name);
            assert!(seen["user_id"].is_string(), "{}", case.name);
            assert_eq!(seen["presence"]["state"], "offline", "{}", case.name);
            let shows_last_seen = presence.body.get("last_seen_at").is_some();
            assert_eq!(
                shows_last_seen, case.last_seen,
                "{}: {}",
                case.name, presence.body
            );
            assert_eq!(
                seen["presence"].get("last_seen_at").is_some(),
                case.last_seen,
                "{}",
                case.name
            );
        } else {
            assert_eq!(
                shape(&seen),
                shape(&unregistered),
                "{}: contacts entry differs from an unregistered number",
                case.name
            );
            assert_eq!(
                presence.body, presence_nobody.body,
                "{}: presence differs from an unregistered number",
                case.name
            );
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn hidden_contacts_need_the_vault() {
    hidden_contacts_need_the_vault_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn hidden_contacts_need_the_vault_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("hidden_contacts_need_the_vault").await else {
        return;
    };
    hidden_contacts_need_the_vault_on(app).await;
}

async fn hidden_contacts_need_the_vault_on(app: TestApp) {
    let alice = app.code_login(ALICE, "a").await;
    app.put_contacts(&alice, json!({ "contacts": [{ "name": "Bob", "phones": [BOB] }, { "name": "Carol", "phones": [CAROL] }] }))
        .await;
    let r = app
        .send(
            Method::PUT,
            &format!("/v1/contacts/{BOB}/hidden"),
            Some(&alice),
            Some(json!({ "hidden": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let listed = |r: &crate::harness::Reply| -> Vec<String> {
        r.body["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["phone"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        listed(&app.get_auth("/v1/contacts", &alice).await),
        vec![CAROL.to_owned()]
    );

    // No vault password yet: unlock fails like a wrong password.
    let unlock = |pw: &'static str| {
        app.send(
            Method::POST,
            "/v1/vault/unlock",
            Some(&alice),
            Some(json!({ "password": pw })),
        )
    };
    assert_eq!(unlock("anything").await.code(), "wrong_password");
    let r = app
        .send(
            Method::PUT,
            "/v1/vault/password",
            Some(&alice),
            Some(json!({ "password": "vault pw" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // Changing it needs the current one.
    let r = app
        .send(
            Method::PUT,
            "/v1/vault/password",
            Some(&alice),
            Some(json!({ "password": "other pw" })),
        )
        .await;
    assert_eq!(r.code(), "current_password_required");
    assert_eq!(unlock("wrong pw").await.status, StatusCode::FORBIDDEN);
    let r = unlock("vault pw").await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let token = r.body["vault_token"].as_str().unwrap().to_owned();

    let with_vault = |token: String| {
        let app = &app;
        let alice = alice.clone();
        async move {
            let r = app
                .http
                .get(format!("{}/v1/contacts", app.base))
                .bearer_auth(alice)
                .header("x-vault-token", token)
                .send()
                .await
                .unwrap();
            TestApp::reply(r).await
        }
    };
    let r = with_vault(token.clone()).await;
    let mut phones = listed(&r);
    phones.sort();
    assert_eq!(phones, vec![BOB.to_owned(), CAROL.to_owned()]);
    assert_eq!(entry(&r.body, BOB)["hidden"], true);
    // A forged token and an expired one open nothing.
    assert_eq!(
        listed(&with_vault(format!("{}.{}", i64::MAX, "00")).await),
        vec![CAROL.to_owned()]
    );
    app.advance(Duration::minutes(11));
    assert_eq!(listed(&with_vault(token).await), vec![CAROL.to_owned()]);
    // Another user's vault token does not open this vault.
    let bob = app.code_login(BOB, "b").await;
    app.send(
        Method::PUT,
        "/v1/vault/password",
        Some(&bob),
        Some(json!({ "password": "bob vault" })),
    )
    .await;
    let r = app
        .send(
            Method::POST,
            "/v1/vault/unlock",
            Some(&bob),
            Some(json!({ "password": "bob vault" })),
        )
        .await;
    let bobs = r.body["vault_token"].as_str().unwrap().to_owned();
    assert_eq!(listed(&with_vault(bobs).await), vec![CAROL.to_owned()]);
}

#[tokio::test]
async fn privacy_settings_and_lists_round_trip() {
    let app = TestApp::spawn().await;
    let alice = app.code_login(ALICE, "a").await;
    let r = app.get_auth("/v1/privacy", &alice).await;
    assert_eq!(
        r.body,
        json!({ "visibility": "everyone", "discoverable": "everyone", "last_seen": "everyone" })
    );
    let r = app
        .send(
            Method::PATCH,
            "/v1/privacy",
            Some(&alice),
            Some(json!({ "discoverable": "contacts" })),
        )
        .await;
    assert_eq!(
        r.body,
        json!({ "visibility": "everyone", "discoverable": "contacts", "last_seen": "everyone" })
    );
    let r = app
        .send(
            Method::PATCH,
            "/v1/privacy",
            Some(&alice),
            Some(json!({ "visibility": "friends" })),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );

    for list in ["blocklist", "allowlist"] {
        let r = app
            .send(
                Method::PUT,
                &format!("/v1/{list}/%2B8613800138001"),
                Some(&alice),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let r = app
            .send(
                Method::PUT,
                &format!("/v1/{list}/8613800138002"),
                Some(&alice),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let r = app
            .send(
                Method::PUT,
                &format!("/v1/{list}/not-a-phone"),
                Some(&alice),
                None,
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "invalid_phone")
        );
        let r = app
            .send(
                Method::PUT,
                &format!("/v1/{list}/groups/nope"),
                Some(&alice),
                None,
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::NOT_FOUND, "group_not_found")
        );
        let r = app.get_auth(&format!("/v1/{list}"), &alice).await;
        assert_eq!(r.body, json!({ "phones": [BOB, CAROL], "groups": [] }));
        app.send(
            Method::DELETE,
            &format!("/v1/{list}/{BOB}"),
            Some(&alice),
            None,
        )
        .await;
        assert_eq!(
            app.get_auth(&format!("/v1/{list}"), &alice).await.body["phones"],
            json!([CAROL])
        );
    }

    let r = app
        .send(Method::POST, "/v1/contact-groups", Some(&alice), Some(json!({ "name": "家人", "phones": ["138 0013 8001", "+8613800138001", "13800138002"] })))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["phones"], json!([BOB, CAROL]));
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .send(
            Method::PUT,
            &format!("/v1/blocklist/groups/{id}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_auth("/v1/blocklist", &alice).await.body["groups"],
        json!([id])
    );
    let r = app.get_auth("/v1/contact-groups", &alice).await;
    assert_eq!(r.body["groups"][0]["name"], "家人");
    // Someone else's group cannot be listed by me.
    let bob = app.code_login(BOB, "b").await;
    let r = app
        .send(
            Method::PUT,
            &format!("/v1/allowlist/groups/{id}"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(r.code(), "group_not_found");
    let r = app
        .send(
            Method::POST,
            "/v1/contact-groups",
            Some(&alice),
            Some(json!({ "name": "bad", "phones": ["xyz"] })),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
}

#[tokio::test]
async fn oversize_address_books_are_413_and_lose_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.code_login(ALICE, "a").await;
    app.put_contacts(
        &alice,
        json!({ "contacts": [{ "name": "Bob", "phones": [BOB] }] }),
    )
    .await;
    let many: Vec<Value> = (0..50_001)
        .map(|i| json!({ "name": "", "phones": [format!("+86139{:08}", i)] }))
        .collect();
    let r = app.put_contacts(&alice, json!({ "contacts": many })).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_many_contacts")
    );
    let huge = json!({ "contacts": [{ "name": "x".repeat(9 * 1024 * 1024), "phones": [CAROL] }] });
    let r = app.put_contacts(&alice, huge).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    // The book is as it was.
    let list = app.get_auth("/v1/contacts", &alice).await;
    assert_eq!(list.body["contacts"].as_array().unwrap().len(), 1);
    // A long name is refused per entry, the rest goes in.
    let r = app
        .put_contacts(&alice, json!({ "contacts": [{ "name": "n".repeat(300), "phones": [CAROL] }, { "name": "Bob", "phones": [BOB] }] }))
        .await;
    assert_eq!(r.body["rejected"][0]["reason"], "name_too_long");
    assert_eq!(r.body["contacts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn discovery_quota_limits_new_numbers_and_known_ones_are_free() {
    let app = TestApp::spawn_with(|c| {
        c.contacts.discovery_capacity = 5;
        c.contacts.discovery_refill_per_day = 24;
    })
    .await;
    let alice = app.code_login(ALICE, "a").await;
    let book = |n: u32| json!({ "contacts": (0..n).map(|i| json!({ "name": format!("n{i}"), "phones": [format!("+86139{:08}", i)] })).collect::<Vec<_>>() });
    // A first upload within the quota.
    assert_eq!(
        app.put_contacts(&alice, book(4)).await.status,
        StatusCode::OK
    );
    // The same numbers again cost nothing.
    assert_eq!(
        app.put_contacts(&alice, book(4)).await.status,
        StatusCode::OK
    );
    // Three new ones exceed what is left (1): refused, nothing stored.
    let r = app.put_contacts(&alice, book(7)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert_eq!(r.retry_after(), 2 * 3600, "two more numbers at 24 a day");
    assert_eq!(
        app.get_auth("/v1/contacts", &alice).await.body["contacts"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // After the refill it goes through.
    app.advance(Duration::hours(2));
    assert_eq!(
        app.put_contacts(&alice, book(7)).await.status,
        StatusCode::OK
    );
}

/// Replaces write only what changed, computed from the book as listed; crossing
/// replaces of one owner still end as one of the books, never a mix of two.
#[tokio::test]
async fn crossing_replaces_end_as_one_of_the_books() {
    crossing_replaces_end_as_one_of_the_books_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn crossing_replaces_end_as_one_of_the_books_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("crossing_replaces_end_as_one_of_the_books").await
    else {
        return;
    };
    crossing_replaces_end_as_one_of_the_books_on(app).await;
}

async fn crossing_replaces_end_as_one_of_the_books_on(app: TestApp) {
    let alice = app.code_login(ALICE, "a").await;
    // A book to start from, which each replace keeps part of.
    let base: Vec<Value> = (0..10)
        .map(|k| json!({ "name": format!("base{k}"), "phones": [format!("+86139{:08}", k)] }))
        .collect();
    let status = app
        .http
        .put(format!("{}/v1/contacts", app.base))
        .bearer_auth(&alice)
        .json(&json!({ "contacts": base }))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);
    // Book i keeps base numbers i and i+1, renames i, adds two of its own.
    let book = |i: usize| -> Vec<(String, String)> {
        vec![
            (format!("+86139{:08}", i), format!("renamed{i}")),
            (format!("+86139{:08}", i + 1), format!("base{}", i + 1)),
            (format!("+86137{:08}", i * 2), format!("own{i}a")),
            (format!("+86137{:08}", i * 2 + 1), format!("own{i}b")),
        ]
    };
    let mut uploads = Vec::new();
    for i in 0..8 {
        let url = format!("{}/v1/contacts", app.base);
        let (http, token) = (app.http.clone(), alice.clone());
        let body: Vec<Value> = book(i)
            .into_iter()
            .map(|(phone, name)| json!({ "name": name, "phones": [phone] }))
            .collect();
        uploads.push(tokio::spawn(async move {
            http.put(url)
                .bearer_auth(token)
                .json(&json!({ "contacts": body }))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for u in uploads {
        assert_eq!(u.await.unwrap(), StatusCode::OK);
    }
    let list = app.get_auth("/v1/contacts", &alice).await;
    let mut got: Vec<(String, String)> = list.body["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["phone"].as_str().unwrap().to_owned(),
                c["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let one_of = (0..8).any(|i| {
        let mut want = book(i);
        want.sort();
        want == got
    });
    assert!(one_of, "the book is a mix of crossing replaces: {got:?}");
}

#[tokio::test]
async fn concurrent_uploads_of_one_user_all_succeed() {
    concurrent_uploads_of_one_user_all_succeed_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn concurrent_uploads_of_one_user_all_succeed_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("concurrent_uploads_of_one_user_all_succeed").await
    else {
        return;
    };
    concurrent_uploads_of_one_user_all_succeed_on(app).await;
}

async fn concurrent_uploads_of_one_user_all_succeed_on(app: TestApp) {
    let alice = app.code_login(ALICE, "a").await;
    let mut uploads = Vec::new();
    for i in 0..20 {
        let url = format!("{}/v1/contacts", app.base);
        let (http, token) = (app.http.clone(), alice.clone());
        uploads.push(tokio::spawn(async move {
            let body = json!({ "contacts": [{ "name": format!("n{i}"), "phones": [format!("+86139{:08}", i)] }] });
            http.post(url).bearer_auth(token).json(&body).send().await.unwrap().status()
        }));
    }
    for u in uploads {
        assert_eq!(u.await.unwrap(), StatusCode::OK);
    }
    let list = app.get_auth("/v1/contacts", &alice).await;
    assert_eq!(list.body["contacts"].as_array().unwrap().len(), 20);
}
