//! The public pages, as someone with a shared link sees them: no token, no JavaScript;
//! public items only, escaped; OpenGraph tags; a user hidden from visitors answers the
//! same bytes as a number that is not registered.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::attachments::{png, upload};
use crate::community::{People, ok, people};
use crate::harness::TestApp;

const OWNER: &str = "+8613800138100";
const NOBODY: &str = "+8613800138199";

async fn page(app: &TestApp, path: &str, lang: &str) -> (StatusCode, String, String) {
    let r = app
        .http
        .get(format!("{}{path}", app.base))
        .header("accept-language", lang)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let csp = r
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    // The template escapes `/` too (`&#x2f;`); read it back as a browser does.
    let html = r.text().await.unwrap().replace("&#x2f;", "/");
    (status, html, csp)
}

#[tokio::test]
async fn public_pages_show_public_items_to_anyone_with_the_link() {
    let People {
        app, owner, friend, ..
    } = people(TestApp::spawn().await).await;
    ok(
        &app,
        &owner,
        Method::PATCH,
        "/v1/account",
        Some(json!({ "display_name": "Amy <b>A</b>" })),
    )
    .await;
    ok(
        &app,
        &owner,
        Method::PATCH,
        "/v1/profile",
        Some(json!({ "signature": "hello & welcome" })),
    )
    .await;
    let pic = upload(&app, &owner, "p.png", png(16, 16)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret_pic = upload(&app, &owner, "s.png", png(17, 16)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = ok(
        &app,
        &owner,
        Method::POST,
        "/v1/posts",
        Some(json!({ "text": "public <script>alert(1)</script>", "attachments": [pic], "audience": { "kind": "public" } })),
    )
    .await;
    let public = r.body["id"].as_str().unwrap().to_owned();
    let r = ok(
        &app,
        &owner,
        Method::POST,
        "/v1/posts",
        Some(json!({ "text": "for contacts", "attachments": [secret_pic], "audience": { "kind": "contacts" } })),
    )
    .await;
    let inner = r.body["id"].as_str().unwrap().to_owned();
    let article_pic = upload(&app, &owner, "a.png", png(18, 16)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = ok(
        &app,
        &owner,
        Method::POST,
        "/v1/articles",
        Some(json!({ "title": "My trip", "markdown": format!("**bold** <img src=x onerror=alert(1)>\n\n![view](attachment:{article_pic})"), "audience": { "kind": "public" } })),
    )
    .await;
    let article = r.body["id"].as_str().unwrap().to_owned();

    let (status, html, csp) = page(&app, &format!("/u/{OWNER}"), "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(html.contains("public &lt;script&gt;alert(1)&lt;"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("for contacts"), "contacts-only stays out");
    assert!(
        html.contains("Amy &lt;b&gt;A&lt;") && html.contains("hello &amp; welcome"),
        "{html}"
    );
    assert!(html.contains("property=\"og:title\""), "{html}");
    assert!(html.contains(">Moments<"), "English: {html}");
    assert!(
        html.contains(&format!("/u/%2B8613800138100/posts/{public}")),
        "{html}"
    );

    // One post: OpenGraph with its picture, which anyone may fetch; not the other's.
    let (status, html, _) = page(
        &app,
        &format!("/u/{OWNER}/posts/{public}"),
        "zh-CN,zh;q=0.9",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("lang=\"zh-CN\"") && html.contains(">动态<"),
        "{html}"
    );
    assert!(
        html.contains(&format!("/v1/public/attachments/{pic}\">")),
        "og:image: {html}"
    );
    let fetch = |id: String| {
        let url = format!("{}/v1/public/attachments/{id}", app.base);
        let http = app.http.clone();
        async move { http.get(url).send().await.unwrap().status() }
    };
    assert_eq!(fetch(pic.clone()).await, StatusCode::OK);
    assert_eq!(fetch(secret_pic.clone()).await, StatusCode::NOT_FOUND);
    let (status, _, _) = page(&app, &format!("/u/{OWNER}/posts/{inner}"), "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The contact fetches it with a token, as before.
    let r = app
        .http
        .get(format!("{}/v1/attachments/{secret_pic}", app.base))
        .bearer_auth(&friend)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // The blog and an article: sanitised HTML, an Atom link.
    let (status, html, _) = page(&app, &format!("/u/{OWNER}/blog"), "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("My trip") && html.contains("application/atom+xml"),
        "{html}"
    );
    let (status, html, _) = page(&app, &format!("/u/{OWNER}/blog/{article}"), "en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<strong>bold</strong>"), "{html}");
    assert!(
        html.contains(&format!("src=\"/v1/public/attachments/{article_pic}\"")),
        "the article's picture loads for a visitor: {html}"
    );
    assert_eq!(fetch(article_pic.clone()).await, StatusCode::OK);
    assert!(
        !html.contains("onerror=alert") || html.contains("&lt;img"),
        "{html}"
    );
    // An article is not a post, nor another user's.
    let (status, _, _) = page(&app, &format!("/u/{OWNER}/posts/{article}"), "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A user who lets only contacts find them looks, to a visitor, like no one at all.
    ok(
        &app,
        &owner,
        Method::PATCH,
        "/v1/privacy",
        Some(json!({ "discoverable": "contacts" })),
    )
    .await;
    for path in ["", "/blog", &format!("/posts/{public}")] {
        let hidden = page(&app, &format!("/u/{OWNER}{path}"), "en").await;
        let nobody = page(&app, &format!("/u/{NOBODY}{path}"), "en").await;
        assert_eq!(hidden.0, StatusCode::NOT_FOUND);
        assert_eq!((hidden.0, &hidden.1), (nobody.0, &nobody.1), "{path}");
    }
    assert_eq!(fetch(pic).await, StatusCode::NOT_FOUND);
    let (status, _, _) = page(&app, "/u/not-a-number", "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
