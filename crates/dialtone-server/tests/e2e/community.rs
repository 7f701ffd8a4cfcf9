//! The community end to end: profiles, posts and their audiences, the feed, comments,
//! likes and notifications, each checked against the privacy matrix: a blocked number
//! gets exactly what an unregistered number gets, an item reaches its audience only, and
//! a viewer sees only the comments and likes of people they may see.

use chrono::Duration;
use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::attachments::{png, upload};
use crate::audience::{next_event, online};
use crate::harness::{Reply, TestApp};

const OWNER: &str = "+8613800138100";
const FAMILY: &str = "+8613800138101";
const FRIEND: &str = "+8613800138102";
const COLLEAGUE: &str = "+8613800138103";
const STRANGER: &str = "+8613800138104";
const BLOCKED: &str = "+8613800138105";
const NOBODY: &str = "+8613800138199";

pub(crate) struct People {
    pub app: TestApp,
    pub owner: String,
    pub family: String,
    pub friend: String,
    pub colleague: String,
    pub stranger: String,
    pub blocked: String,
    pub group: String,
}

fn book(phones: &[&str]) -> Value {
    json!({ "contacts": phones.iter().map(|p| json!({ "name": p, "phones": [p] })).collect::<Vec<_>>() })
}

pub(crate) async fn ok(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let r = app.send(method, path, Some(token), body).await;
    assert!(r.status.is_success(), "{path}: {r:?}");
    r
}

/// The owner has family, friend, colleague and blocked in their book, a contact group
/// "family" of one, and blocks `blocked`; everyone but the stranger has the owner in
/// their book.
pub(crate) async fn people(app: TestApp) -> People {
    let owner = app.code_login(OWNER, "o").await;
    let family = app.code_login(FAMILY, "f").await;
    let friend = app.code_login(FRIEND, "fr").await;
    let colleague = app.code_login(COLLEAGUE, "c").await;
    let stranger = app.code_login(STRANGER, "s").await;
    let blocked = app.code_login(BLOCKED, "b").await;
    let r = app
        .put_contacts(&owner, book(&[FAMILY, FRIEND, COLLEAGUE, BLOCKED]))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    for token in [&family, &friend, &colleague, &blocked] {
        assert_eq!(
            app.put_contacts(token, book(&[OWNER])).await.status,
            StatusCode::OK
        );
    }
    let r = ok(
        &app,
        &owner,
        Method::POST,
        "/v1/contact-groups",
        Some(json!({ "name": "family", "phones": [FAMILY] })),
    )
    .await;
    let group = r.body["id"].as_str().unwrap().to_owned();
    ok(
        &app,
        &owner,
        Method::PUT,
        &format!("/v1/blocklist/{BLOCKED}"),
        None,
    )
    .await;
    People {
        app,
        owner,
        family,
        friend,
        colleague,
        stranger,
        blocked,
        group,
    }
}

async fn post(app: &TestApp, token: &str, text: &str, audience: Value) -> String {
    let r = app
        .send(
            Method::POST,
            "/v1/posts",
            Some(token),
            Some(json!({ "text": text, "audience": audience })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    r.body["id"].as_str().unwrap().to_owned()
}

/// The texts of a page of posts.
fn texts(r: &Reply) -> BTreeSet<String> {
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].as_str().unwrap().to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

async fn five_posts(p: &People) {
    let app = &p.app;
    post(app, &p.owner, "public", json!({ "kind": "public" })).await;
    post(app, &p.owner, "contacts", json!({ "kind": "contacts" })).await;
    post(
        app,
        &p.owner,
        "family only",
        json!({ "kind": "chosen", "groups": [p.group] }),
    )
    .await;
    post(
        app,
        &p.owner,
        "friend only",
        json!({ "kind": "chosen", "phones": [FRIEND] }),
    )
    .await;
    post(
        app,
        &p.owner,
        "not family",
        json!({ "kind": "all_except", "groups": [p.group] }),
    )
    .await;
}

async fn posts_reach_their_audience_only_on(app: TestApp) {
    let p = people(app).await;
    five_posts(&p).await;
    let app = &p.app;
    let space = format!("/v1/users/{OWNER}/posts");
    let all = set(&[
        "public",
        "contacts",
        "family only",
        "friend only",
        "not family",
    ]);
    assert_eq!(texts(&app.get_auth(&space, &p.owner).await), all);
    assert_eq!(
        texts(&app.get_auth(&space, &p.family).await),
        set(&["public", "contacts", "family only"])
    );
    assert_eq!(
        texts(&app.get_auth(&space, &p.friend).await),
        set(&["public", "contacts", "friend only", "not family"])
    );
    assert_eq!(
        texts(&app.get_auth(&space, &p.colleague).await),
        set(&["public", "contacts", "not family"])
    );
    // Not in the owner's book: public only; logged out, the same.
    assert_eq!(
        texts(&app.get_auth(&space, &p.stranger).await),
        set(&["public"])
    );
    let visitor = app.send(Method::GET, &space, None, None).await;
    assert_eq!(texts(&visitor), set(&["public"]));

    // The feed is the same decision, from the viewer's book.
    assert_eq!(
        texts(&app.get_auth("/v1/feed", &p.friend).await),
        set(&["public", "contacts", "friend only", "not family"])
    );
    assert_eq!(
        texts(&app.get_auth("/v1/feed", &p.stranger).await),
        set(&[])
    );
    assert_eq!(texts(&app.get_auth("/v1/feed", &p.owner).await), all);

    // Blocked: exactly what an unregistered number gets, everywhere.
    assert!(texts(&app.get_auth("/v1/feed", &p.blocked).await).is_empty());
    for path in ["posts", "profile"] {
        let of_owner = app
            .get_auth(&format!("/v1/users/{OWNER}/{path}"), &p.blocked)
            .await;
        let of_nobody = app
            .get_auth(&format!("/v1/users/{NOBODY}/{path}"), &p.blocked)
            .await;
        assert_eq!(of_owner.status, StatusCode::NOT_FOUND, "{of_owner:?}");
        assert_eq!(of_owner.status, of_nobody.status);
        assert_eq!(of_owner.body, of_nobody.body, "{path}");
    }
    let public = app.get_auth(&space, &p.owner).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["text"] == "public")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = app
        .get_auth(&format!("/v1/posts/{public}"), &p.blocked)
        .await;
    let missing = app.get_auth("/v1/posts/no-such-item", &p.blocked).await;
    assert_eq!(seen.status, StatusCode::NOT_FOUND);
    assert_eq!((seen.status, seen.body), (missing.status, missing.body));
    // Nor can they comment or like it: as for an item that does not exist.
    for (method, path, body) in [
        (
            Method::POST,
            format!("/v1/items/{public}/comments"),
            Some(json!({ "text": "hi" })),
        ),
        (Method::PUT, format!("/v1/items/{public}/like"), None),
    ] {
        let r = app.send(method, &path, Some(&p.blocked), body).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::NOT_FOUND, "item_not_found")
        );
    }
    // The audience is the owner's to know.
    let r = app
        .get_auth(&format!("/v1/posts/{public}"), &p.friend)
        .await;
    assert!(r.body.get("audience").is_none(), "{r:?}");
    let r = app.get_auth(&format!("/v1/posts/{public}"), &p.owner).await;
    assert_eq!(r.body["audience"]["kind"], "public");
}

#[tokio::test]
async fn posts_reach_their_audience_only() {
    posts_reach_their_audience_only_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn posts_reach_their_audience_only_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("posts_reach_their_audience_only").await else {
        return;
    };
    posts_reach_their_audience_only_on(app).await;
}

#[tokio::test]
async fn a_viewer_sees_only_the_comments_and_likes_of_people_they_may_see() {
    let p = people(TestApp::spawn().await).await;
    let app = &p.app;
    let id = post(app, &p.owner, "hello", json!({ "kind": "contacts" })).await;
    for token in [&p.family, &p.friend] {
        ok(
            app,
            token,
            Method::PUT,
            &format!("/v1/items/{id}/like"),
            None,
        )
        .await;
        ok(
            app,
            token,
            Method::POST,
            &format!("/v1/items/{id}/comments"),
            Some(json!({ "text": "nice" })),
        )
        .await;
    }
    // The friend blocks the family member: neither their like nor their comment shows
    // to the friend, and the count says so too.
    ok(
        app,
        &p.friend,
        Method::PUT,
        &format!("/v1/blocklist/{FAMILY}"),
        None,
    )
    .await;
    let of = |r: &Reply| {
        let likes: Vec<String> = r.body["likes"]["phones"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        let commenters: Vec<String> = r.body["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["author"].as_str().unwrap().to_owned())
            .collect();
        (
            r.body["likes"]["count"].as_u64().unwrap(),
            likes,
            commenters,
        )
    };
    let r = app.get_auth(&format!("/v1/posts/{id}"), &p.friend).await;
    assert_eq!(
        of(&r),
        (1, vec![FRIEND.to_owned()], vec![FRIEND.to_owned()])
    );
    assert_eq!(r.body["likes"]["liked"], true);
    let r = app.get_auth(&format!("/v1/posts/{id}"), &p.owner).await;
    assert_eq!(
        of(&r),
        (
            2,
            vec![FAMILY.to_owned(), FRIEND.to_owned()],
            vec![FAMILY.to_owned(), FRIEND.to_owned()]
        )
    );
    assert_eq!(r.body["likes"]["liked"], false);

    // A like taken back is gone; likes are counted once.
    ok(
        app,
        &p.family,
        Method::PUT,
        &format!("/v1/items/{id}/like"),
        None,
    )
    .await;
    ok(
        app,
        &p.family,
        Method::DELETE,
        &format!("/v1/items/{id}/like"),
        None,
    )
    .await;
    let r = app.get_auth(&format!("/v1/posts/{id}"), &p.owner).await;
    assert_eq!(of(&r).0, 1);

    // Comments: the owner deletes any on their item, an author their own, nobody else.
    let comments = r.body["comments"].as_array().unwrap().clone();
    let family_comment = comments[0]["id"].as_str().unwrap();
    let friend_comment = comments[1]["id"].as_str().unwrap();
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/comments/{friend_comment}"),
            Some(&p.colleague),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_yours"));
    ok(
        app,
        &p.friend,
        Method::DELETE,
        &format!("/v1/comments/{friend_comment}"),
        None,
    )
    .await;
    ok(
        app,
        &p.owner,
        Method::DELETE,
        &format!("/v1/comments/{family_comment}"),
        None,
    )
    .await;
    let r = app.get_auth(&format!("/v1/posts/{id}"), &p.owner).await;
    assert!(r.body["comments"].as_array().unwrap().is_empty(), "{r:?}");
}

#[tokio::test]
async fn new_posts_and_notifications_arrive_live_to_their_audience_only() {
    let p = people(TestApp::spawn().await).await;
    let app = &p.app;
    // The family member and the blocked one also follow the friend, whose later post is
    // the barrier: it comes after the owner's, on the same bus.
    for token in [&p.family, &p.blocked] {
        assert_eq!(
            app.put_contacts(token, book(&[OWNER, FRIEND])).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(
        app.put_contacts(&p.friend, book(&[FAMILY, BLOCKED]))
            .await
            .status,
        StatusCode::OK
    );
    let mut owner_ws = online(app, &p.owner).await;
    let mut family_ws = online(app, &p.family).await;
    let mut blocked_ws = online(app, &p.blocked).await;
    let not_family = post(
        app,
        &p.owner,
        "not family",
        json!({ "kind": "all_except", "groups": [p.group] }),
    )
    .await;
    let public = post(app, &p.owner, "public", json!({ "kind": "public" })).await;
    let barrier = post(app, &p.friend, "barrier", json!({ "kind": "contacts" })).await;
    let f = next_event(&mut owner_ws).await;
    assert_eq!(
        (f["type"].as_str(), f["item_id"].as_str()),
        (Some("feed_item"), Some(not_family.as_str()))
    );
    let f = next_event(&mut family_ws).await;
    assert_eq!(
        f["item_id"],
        public.as_str(),
        "the family sees not the post that leaves them out: {f}"
    );
    assert_eq!(f["owner"], OWNER);
    assert_eq!(
        next_event(&mut family_ws).await["item_id"],
        barrier.as_str()
    );
    let f = next_event(&mut blocked_ws).await;
    assert_eq!(
        f["item_id"],
        barrier.as_str(),
        "nothing of the owner's reaches the blocked: {f}"
    );

    // A comment and a like reach the owner live, and are listed with an unread count.
    let _ = next_event(&mut owner_ws).await; // the public post
    let r = ok(
        app,
        &p.family,
        Method::POST,
        &format!("/v1/items/{public}/comments"),
        Some(json!({ "text": "great" })),
    )
    .await;
    let comment = r.body["id"].as_str().unwrap().to_owned();
    let f = next_event(&mut owner_ws).await;
    assert_eq!(f["type"], "notification", "{f}");
    assert_eq!(f["notification"]["kind"], "comment");
    assert_eq!(f["notification"]["actor"], FAMILY);
    assert_eq!(f["notification"]["text"], "great");
    // The owner replies: the family member hears of it.
    ok(
        app,
        &p.owner,
        Method::POST,
        &format!("/v1/items/{public}/comments"),
        Some(json!({ "text": "thanks", "reply_to": comment })),
    )
    .await;
    let f = next_event(&mut family_ws).await;
    assert_eq!(
        (f["type"].as_str(), f["notification"]["kind"].as_str()),
        (Some("notification"), Some("reply"))
    );
    ok(
        app,
        &p.friend,
        Method::PUT,
        &format!("/v1/items/{public}/like"),
        None,
    )
    .await;
    let f = next_event(&mut owner_ws).await;
    assert_eq!(f["notification"]["kind"], "like");

    let r = app.get_auth("/v1/notifications", &p.owner).await;
    assert_eq!(r.body["unread"], 2, "{r:?}");
    let kinds: Vec<&str> = r.body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["like", "comment"]);
    // Blocking someone later hides what they did.
    ok(
        app,
        &p.owner,
        Method::PUT,
        &format!("/v1/blocklist/{FRIEND}"),
        None,
    )
    .await;
    let r = app.get_auth("/v1/notifications", &p.owner).await;
    assert_eq!(r.body["unread"], 1, "{r:?}");
    ok(
        app,
        &p.owner,
        Method::POST,
        "/v1/notifications/read",
        Some(json!({})),
    )
    .await;
    let r = app.get_auth("/v1/notifications", &p.owner).await;
    assert_eq!(r.body["unread"], 0, "{r:?}");
    assert_eq!(r.body["notifications"][0]["read"], true);
}

#[tokio::test]
async fn the_space_window_and_the_vault_hide_what_they_should() {
    let p = people(TestApp::spawn().await).await;
    let app = &p.app;
    post(app, &p.owner, "old", json!({ "kind": "contacts" })).await;
    let r = ok(
        app,
        &p.owner,
        Method::PATCH,
        "/v1/profile",
        Some(json!({ "space_window": "three_days" })),
    )
    .await;
    assert_eq!(r.body["settings"]["space_window"], "three_days");
    app.advance(Duration::days(4));
    post(app, &p.owner, "new", json!({ "kind": "contacts" })).await;
    let space = format!("/v1/users/{OWNER}/posts");
    assert_eq!(texts(&app.get_auth(&space, &p.friend).await), set(&["new"]));
    assert_eq!(
        texts(&app.get_auth(&space, &p.owner).await),
        set(&["old", "new"])
    );

    // The friend hides the owner: out of the feed until the vault is open.
    ok(
        app,
        &p.friend,
        Method::PUT,
        "/v1/vault/password",
        Some(json!({ "password": "vault pw" })),
    )
    .await;
    ok(
        app,
        &p.friend,
        Method::PUT,
        &format!("/v1/contacts/{OWNER}/hidden"),
        Some(json!({ "hidden": true })),
    )
    .await;
    assert!(texts(&app.get_auth("/v1/feed", &p.friend).await).is_empty());
    let vault = ok(
        app,
        &p.friend,
        Method::POST,
        "/v1/vault/unlock",
        Some(json!({ "password": "vault pw" })),
    )
    .await;
    let token = vault.body["vault_token"].as_str().unwrap();
    let r = app
        .http
        .get(format!("{}/v1/feed", app.base))
        .bearer_auth(&p.friend)
        .header("x-vault-token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(texts(&TestApp::reply(r).await), set(&["new"]));
}

#[tokio::test]
async fn profiles_show_each_field_to_its_audience() {
    let p = people(TestApp::spawn().await).await;
    let app = &p.app;
    let avatar = upload(app, &p.owner, "me.png", png(40, 40)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = ok(
        app,
        &p.owner,
        Method::PATCH,
        "/v1/profile",
        Some(json!({
            "signature": "hi there", "region": "Beijing", "birthday": "1990-05-01",
            "gender": "f", "gender_visibility": "nobody", "avatar": avatar,
        })),
    )
    .await;
    assert_eq!(
        r.body["birthday"], "1990-05-01",
        "the owner sees all: {r:?}"
    );
    let path = format!("/v1/users/{OWNER}/profile");
    let friend = app.get_auth(&path, &p.friend).await;
    assert_eq!(friend.body["signature"], "hi there");
    assert_eq!(
        friend.body["birthday"], "1990-05-01",
        "contacts see the birthday"
    );
    assert!(friend.body.get("gender").is_none() && friend.body.get("settings").is_none());
    let stranger = app.get_auth(&path, &p.stranger).await;
    assert_eq!(stranger.body["region"], "Beijing");
    assert!(stranger.body.get("birthday").is_none(), "{stranger:?}");
    // Whoever may see the owner may fetch the avatar; the blocked may not.
    let fetch = |token: &str| {
        let req = app
            .http
            .get(format!("{}/v1/attachments/{avatar}", app.base))
            .bearer_auth(token);
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(fetch(&p.stranger).await, StatusCode::OK);
    assert_eq!(fetch(&p.blocked).await, StatusCode::NOT_FOUND);
    // Posts carry the author's avatar and describe their pictures.
    let picture = upload(app, &p.owner, "pic.png", png(30, 20)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = ok(
        app,
        &p.owner,
        Method::POST,
        "/v1/posts",
        Some(json!({ "attachments": [picture], "audience": { "kind": "contacts" } })),
    )
    .await;
    let id = r.body["id"].as_str().unwrap();
    let r = app.get_auth(&format!("/v1/posts/{id}"), &p.friend).await;
    assert_eq!(r.body["author"]["avatar"], avatar.as_str(), "{r:?}");
    let media = &r.body["media"][0];
    assert_eq!(
        (
            &media["id"],
            &media["content_type"],
            &media["width"],
            &media["height"],
            &media["thumbnail"]
        ),
        (
            &json!(picture),
            &json!("image/png"),
            &json!(30),
            &json!(20),
            &json!(true)
        )
    );
    // Another user's attachment is not mine to show.
    let theirs = upload(app, &p.friend, "x.png", png(8, 8)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .send(
            Method::PATCH,
            "/v1/profile",
            Some(&p.owner),
            Some(json!({ "cover": theirs })),
        )
        .await;
    assert!(r.status.is_client_error(), "{r:?}");
    let r = app
        .send(
            Method::PATCH,
            "/v1/profile",
            Some(&p.owner),
            Some(json!({ "birthday": "1990-13-01" })),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
}

#[tokio::test]
async fn bad_posts_get_clear_errors_and_store_nothing() {
    let p = people(TestApp::spawn().await).await;
    let app = &p.app;
    let theirs = upload(app, &p.friend, "x.png", png(8, 8)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut mine = Vec::new();
    for i in 0..10 {
        let r = upload(app, &p.owner, &format!("{i}.png"), png(8 + i, 8)).await;
        mine.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let cases = [
        (
            json!({ "text": "x".repeat(5001), "audience": { "kind": "public" } }),
            "invalid_input",
        ),
        (
            json!({ "text": "", "audience": { "kind": "public" } }),
            "invalid_input",
        ),
        (
            json!({ "attachments": mine, "audience": { "kind": "public" } }),
            "invalid_input",
        ),
        (
            json!({ "attachments": [theirs], "audience": { "kind": "public" } }),
            "attachment_not_found",
        ),
        (
            json!({ "text": "x", "audience": { "kind": "chosen", "groups": ["nope"] } }),
            "group_not_found",
        ),
        (
            json!({ "text": "x", "audience": { "kind": "chosen" } }),
            "invalid_input",
        ),
        (
            json!({ "text": "x", "audience": { "kind": "public", "phones": [FRIEND] } }),
            "invalid_input",
        ),
        (
            json!({ "text": "x", "audience": { "kind": "chosen", "phones": ["not a number"] } }),
            "invalid_phone",
        ),
        (
            json!({ "text": "x", "audience": { "kind": "everyone" } }),
            "invalid_json",
        ),
        (
            json!({ "text": "x", "link": "javascript:alert(1)", "audience": { "kind": "public" } }),
            "invalid_link",
        ),
        (
            json!({ "text": "x", "link": "http://user:pw@example.com/", "audience": { "kind": "public" } }),
            "invalid_link",
        ),
    ];
    for (body, code) in cases {
        let r = app
            .send(
                Method::POST,
                "/v1/posts",
                Some(&p.owner),
                Some(body.clone()),
            )
            .await;
        assert!(r.status.is_client_error(), "{body}: {r:?}");
        assert_eq!(r.code(), code, "{body}: {r:?}");
    }
    assert!(
        texts(
            &app.get_auth(&format!("/v1/users/{OWNER}/posts"), &p.owner)
                .await
        )
        .is_empty()
    );
    let r = app.get_auth("/v1/feed?cursor=garbage", &p.owner).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_query")
    );

    // Someone else's post: not mine to edit; a comment too long is refused.
    let id = post(app, &p.owner, "mine", json!({ "kind": "contacts" })).await;
    let r = app
        .send(
            Method::PATCH,
            &format!("/v1/posts/{id}"),
            Some(&p.friend),
            Some(json!({ "text": "x" })),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_yours"));
    let r = app
        .send(
            Method::DELETE,
            &format!("/v1/posts/{id}"),
            Some(&p.stranger),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "item_not_found")
    );
    let r = app
        .send(
            Method::POST,
            &format!("/v1/items/{id}/comments"),
            Some(&p.friend),
            Some(json!({ "text": "y".repeat(1001) })),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
    let r = app
        .send(
            Method::POST,
            &format!("/v1/items/{id}/comments"),
            Some(&p.friend),
            Some(json!({ "text": "y", "reply_to": "no-such-comment" })),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "comment_not_found")
    );
    // Edits keep the pictures and change the audience.
    let r = ok(
        app,
        &p.owner,
        Method::PATCH,
        &format!("/v1/posts/{id}"),
        Some(json!({ "text": "edited", "audience": { "kind": "chosen", "phones": [COLLEAGUE] } })),
    )
    .await;
    assert_eq!(r.body["text"], "edited");
    assert!(r.body["edited_at"].is_string());
    let r = app.get_auth(&format!("/v1/posts/{id}"), &p.friend).await;
    assert_eq!(r.code(), "item_not_found");
    let r = app.get_auth(&format!("/v1/posts/{id}"), &p.colleague).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn feed_pages_follow_their_cursor_to_the_end() {
    let p = people(TestApp::spawn().await).await;
    let app = &p.app;
    let mut expected = Vec::new();
    for i in 0..7 {
        // Every other post leaves the friend out: pages still fill and end.
        let audience = if i % 2 == 0 {
            json!({ "kind": "contacts" })
        } else {
            json!({ "kind": "chosen", "groups": [p.group] })
        };
        post(app, &p.owner, &format!("p{i}"), audience).await;
        app.advance(Duration::milliseconds(5));
        if i % 2 == 0 {
            expected.push(format!("p{i}"));
        }
    }
    expected.reverse();
    let mut got = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = app
            .get_auth(&format!("/v1/feed?limit=2&cursor={cursor}"), &p.friend)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        for item in r.body["items"].as_array().unwrap() {
            got.push(item["text"].as_str().unwrap().to_owned());
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(got, expected);
}

/// A local web site: a page with OpenGraph tags (a title that looks like a script) and its
/// image. Its address, and how many requests it had.
async fn site() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use axum::routing::get;
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let image = png(30, 20);
    let page = format!(
        "<html><head><title>fallback</title>\
         <meta property=\"og:title\" content=\"&lt;script&gt;alert(1)&lt;/script&gt; News\">\
         <meta property=\"og:description\" content=\"What happened\">\
         <meta property=\"og:image\" content=\"http://{addr}/img.png\"></head><body>x</body></html>"
    );
    let counted = hits.clone();
    let app = axum::Router::new()
        .route(
            "/page",
            get(move || {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let page = page.clone();
                async move { ([("content-type", "text/html; charset=utf-8")], page) }
            }),
        )
        .route(
            "/img.png",
            get(move || {
                let image = image.clone();
                async move { ([("content-type", "image/png")], image) }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, hits)
}

#[tokio::test]
async fn a_shared_link_gets_a_preview_and_private_addresses_are_refused() {
    let (addr, hits) = site().await;
    let app = TestApp::spawn_with(|c| c.link_preview_test_addresses = vec![addr]).await;
    let p = people(app).await;
    let app = &p.app;
    let r = app
        .send(
            Method::POST,
            "/v1/posts",
            Some(&p.owner),
            Some(json!({ "text": "look", "link": format!("http://{addr}/page#top"), "audience": { "kind": "contacts" } })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let link = &r.body["link"];
    assert_eq!(link["url"], format!("http://{addr}/page"));
    assert_eq!(
        link["title"], "<script>alert(1)</script> News",
        "plain text, for clients to escape"
    );
    assert_eq!(link["description"], "What happened");
    let image = link["image"].as_str().unwrap();
    // The image is an attachment those who see the post may fetch.
    let fetch = |token: &str| {
        let req = app
            .http
            .get(format!("{}/v1/attachments/{image}", app.base))
            .bearer_auth(token);
        async move { req.send().await.unwrap() }
    };
    let r = fetch(&p.friend).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(fetch(&p.stranger).await.status(), StatusCode::NOT_FOUND);

    // With the production policy, a link to this machine is refused before any request.
    let before = hits.load(std::sync::atomic::Ordering::SeqCst);
    let strict = people(TestApp::spawn().await).await;
    for link in [
        format!("http://{addr}/page"),
        format!("http://localhost:{}/page", addr.port()),
        "http://169.254.169.254/latest/meta-data".to_owned(),
    ] {
        let r = strict
            .app
            .send(
                Method::POST,
                "/v1/posts",
                Some(&strict.owner),
                Some(json!({ "text": "x", "link": link, "audience": { "kind": "public" } })),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "forbidden_link"),
            "{link}: {r:?}"
        );
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), before);
    let r = strict
        .app
        .get_auth(&format!("/v1/users/{OWNER}/posts"), &strict.owner)
        .await;
    assert!(texts(&r).is_empty(), "nothing stored half");
}

#[tokio::test]
async fn link_previews_are_rate_limited_per_user() {
    let (addr, hits) = site().await;
    let app = TestApp::spawn_with(|c| {
        c.link_preview_test_addresses = vec![addr];
        c.community.link_previews_per_hour = 2;
    })
    .await;
    let p = people(app).await;
    let app = &p.app;
    let send = |token: String| {
        let body = json!({ "text": "x", "link": format!("http://{addr}/page"), "audience": { "kind": "public" } });
        async move {
            app.send(Method::POST, "/v1/posts", Some(&token), Some(body))
                .await
        }
    };
    for _ in 0..2 {
        assert_eq!(send(p.owner.clone()).await.status, StatusCode::CREATED);
    }
    let r = send(p.owner.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert!(r.retry_after() > 0);
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "no fetch past the limit"
    );
    // Another user has their own budget; a post without a link needs none.
    assert_eq!(send(p.friend.clone()).await.status, StatusCode::CREATED);
    let r = ok(
        app,
        &p.owner,
        Method::POST,
        "/v1/posts",
        Some(json!({ "text": "no link", "audience": { "kind": "public" } })),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

/// Two server processes on one PostgreSQL database and one NATS subject: a post made on
/// one node reaches a follower connected to the other, and a notification the other way.
#[tokio::test]
async fn feed_items_and_notifications_cross_nodes() {
    let Some(mut nodes) = TestApp::spawn_deployment("community_cross_nodes", 2).await else {
        return;
    };
    let b = nodes.pop().unwrap();
    let a = nodes.pop().unwrap();
    let owner = a.code_login(OWNER, "o").await;
    let friend = b.code_login(FRIEND, "f").await;
    assert_eq!(
        a.put_contacts(&owner, book(&[FRIEND])).await.status,
        StatusCode::OK
    );
    assert_eq!(
        b.put_contacts(&friend, book(&[OWNER])).await.status,
        StatusCode::OK
    );
    let mut friend_ws = online(&b, &friend).await;
    let mut owner_ws = online(&a, &owner).await;
    let id = post(&a, &owner, "across", json!({ "kind": "contacts" })).await;
    let f = next_event(&mut friend_ws).await;
    assert_eq!(
        (f["type"].as_str(), f["item_id"].as_str()),
        (Some("feed_item"), Some(id.as_str()))
    );
    let _own = next_event(&mut owner_ws).await;
    ok(
        &b,
        &friend,
        Method::PUT,
        &format!("/v1/items/{id}/like"),
        None,
    )
    .await;
    let f = next_event(&mut owner_ws).await;
    assert_eq!(f["notification"]["kind"], "like", "{f}");
    assert_eq!(f["notification"]["actor"], FRIEND);
}
