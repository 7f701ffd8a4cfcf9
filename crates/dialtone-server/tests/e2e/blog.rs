//! Blog articles and photo albums end to end: Markdown rendered and sanitised, pictures
//! only of the author's, drafts, tags, the Atom feed of public articles, albums whose
//! photos are seen exactly where the album is; the privacy matrix as for posts.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::attachments::{png, upload};
use crate::community::{People, ok, people};
use crate::harness::{Reply, TestApp};

const OWNER: &str = "+8613800138100";
const NOBODY: &str = "+8613800138199";

async fn article(app: &TestApp, token: &str, body: Value) -> Reply {
    app.send(Method::POST, "/v1/articles", Some(token), Some(body))
        .await
}

fn ids(r: &Reply) -> Vec<String> {
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn articles_are_sanitised_tagged_drafted_and_fed_to_their_audience() {
    let People {
        app,
        owner,
        friend,
        stranger,
        blocked,
        ..
    } = people(TestApp::spawn().await).await;
    let pic = upload(&app, &owner, "p.png", png(12, 12)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let markdown = format!(
        "# Trip\n\nWe went <script>alert(1)</script> [there](javascript:alert(2)).\n\n\
         ![view](attachment:{pic})\n\n![hotlink](https://evil.example/x.png)"
    );
    let r = article(
        &app,
        &owner,
        json!({ "title": "Trip", "markdown": markdown, "tags": ["Travel", "#food"], "audience": { "kind": "public" } }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let html = r.body["html"].as_str().unwrap();
    assert!(html.contains("<h1>Trip</h1>"), "{html}");
    assert!(
        !html.contains("<script") && !html.contains("javascript:"),
        "{html}"
    );
    assert!(
        html.contains(&format!("src=\"/v1/attachments/{pic}\"")),
        "{html}"
    );
    assert!(!html.contains("evil.example"), "{html}");
    assert_eq!(r.body["tags"], json!(["food", "travel"]), "a set, in order");
    assert!(
        r.body["markdown"].is_string(),
        "the author gets the Markdown back"
    );
    let public_id = r.body["id"].as_str().unwrap().to_owned();
    // Readers fetch its picture; they do not get the Markdown.
    let r = app
        .get_auth(&format!("/v1/articles/{public_id}"), &stranger)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.get("markdown").is_none());
    let fetched = app
        .http
        .get(format!("{}/v1/attachments/{pic}", app.base))
        .bearer_auth(&stranger)
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);

    // The editor's preview renders the same way and stores nothing.
    let r = ok(
        &app,
        &owner,
        Method::POST,
        "/v1/articles/preview",
        Some(json!({ "markdown": "*hi* <script>x</script>" })),
    )
    .await;
    assert_eq!(
        r.body["html"], "<p><em>hi</em> &lt;script&gt;x&lt;/script&gt;</p>\n",
        "{r:?}"
    );

    // A contacts-only article and a draft.
    let r = article(&app, &owner, json!({ "title": "Inner", "markdown": "for friends", "tags": ["food"], "audience": { "kind": "contacts" } })).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = article(&app, &owner, json!({ "title": "Draft", "markdown": "not yet", "audience": { "kind": "public" }, "draft": true })).await;
    let draft = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["draft"], true);

    let blog = format!("/v1/users/{OWNER}/articles");
    assert_eq!(ids(&app.get_auth(&blog, &friend).await), ["Inner", "Trip"]);
    assert_eq!(ids(&app.get_auth(&blog, &stranger).await), ["Trip"]);
    assert_eq!(
        ids(&app.send(Method::GET, &blog, None, None).await),
        ["Trip"]
    );
    assert_eq!(
        ids(&app.get_auth(&format!("{blog}?tag=food"), &friend).await),
        ["Inner", "Trip"]
    );
    assert_eq!(
        ids(&app.get_auth(&format!("{blog}?tag=travel"), &friend).await),
        ["Trip"]
    );
    assert_eq!(
        ids(&app.get_auth("/v1/articles/drafts", &owner).await),
        ["Draft"]
    );
    let r = app
        .get_auth(&format!("/v1/articles/{draft}"), &friend)
        .await;
    assert_eq!(r.code(), "item_not_found", "a draft is its author's alone");
    assert!(ids(&app.get_auth("/v1/feed", &friend).await).contains(&"Inner".to_owned()));
    assert!(!ids(&app.get_auth("/v1/feed", &friend).await).contains(&"Draft".to_owned()));
    // Publishing: the article dates from then, and is not "edited".
    app.advance(chrono::Duration::minutes(5));
    let r = ok(
        &app,
        &owner,
        Method::PATCH,
        &format!("/v1/articles/{draft}"),
        Some(json!({ "draft": false })),
    )
    .await;
    assert!(r.body.get("edited_at").is_none(), "{r:?}");
    assert_eq!(
        ids(&app.get_auth(&blog, &friend).await)[0],
        "Draft",
        "newest first"
    );
    assert_eq!(
        app.get_auth(&format!("/v1/articles/{draft}"), &friend)
            .await
            .status,
        StatusCode::OK
    );

    // Blocked: the unregistered number's answers.
    for path in ["articles", "albums"] {
        let of_owner = app
            .get_auth(&format!("/v1/users/{OWNER}/{path}"), &blocked)
            .await;
        let of_nobody = app
            .get_auth(&format!("/v1/users/{NOBODY}/{path}"), &blocked)
            .await;
        assert_eq!(
            (of_owner.status, &of_owner.body),
            (of_nobody.status, &of_nobody.body),
            "{path}"
        );
    }
    let r = app
        .get_auth(&format!("/v1/articles/{public_id}"), &blocked)
        .await;
    assert_eq!(r.code(), "item_not_found");

    // Bad input: nothing stored.
    let theirs = upload(&app, &friend, "t.png", png(9, 9)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (body, code) in [
        (
            json!({ "title": "", "markdown": "x", "audience": { "kind": "public" } }),
            "invalid_input",
        ),
        (
            json!({ "title": "x", "markdown": format!("![a](attachment:{theirs})"), "audience": { "kind": "public" } }),
            "attachment_not_found",
        ),
        (
            json!({ "title": "x", "markdown": ">".repeat(100), "audience": { "kind": "public" } }),
            "invalid_input",
        ),
        (
            json!({ "title": "x", "markdown": "x", "tags": ["two words"], "audience": { "kind": "public" } }),
            "invalid_input",
        ),
    ] {
        let r = article(&app, &owner, body.clone()).await;
        assert_eq!(r.code(), code, "{body}: {r:?}");
    }
    assert_eq!(ids(&app.get_auth(&blog, &owner).await).len(), 3);

    // The Atom feed holds the public articles only, escaped.
    let atom = app
        .http
        .get(format!("{}/v1/users/{OWNER}/articles.atom", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(atom.status(), StatusCode::OK);
    assert!(
        atom.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let text = atom.text().await.unwrap();
    assert!(
        text.contains("<title>Trip</title>") && text.contains("<title>Draft</title>"),
        "{text}"
    );
    assert!(!text.contains("Inner"), "contacts-only stays out: {text}");
    assert!(
        text.contains("&lt;h1&gt;Trip&lt;/h1&gt;"),
        "HTML content is escaped: {text}"
    );
    assert_eq!(atom_entries(&text), 2);
    assert!(
        text.contains(&format!("/u/%2B8613800138100/blog/{public_id}\"")),
        "entries link to the public page: {text}"
    );
}

/// Counts `<entry>` elements, reading the feed with an XML parser (so it must be
/// well-formed, as a feed reader needs).
fn atom_entries(text: &str) -> usize {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut entries = 0;
    loop {
        match reader.read_event().expect("well-formed Atom") {
            quick_xml::events::Event::Start(e) if e.name().as_ref() == "entry" => entries += 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    entries
}

#[tokio::test]
async fn an_albums_photos_are_seen_exactly_where_the_album_is() {
    let People {
        app,
        owner,
        friend,
        family,
        stranger,
        group,
        ..
    } = people(TestApp::spawn().await).await;
    let r = ok(
        &app,
        &owner,
        Method::POST,
        "/v1/albums",
        Some(json!({ "title": "Family", "description": "us", "audience": { "kind": "chosen", "groups": [group] } })),
    )
    .await;
    let album = r.body["id"].as_str().unwrap().to_owned();
    let mut pics = Vec::new();
    for i in 0..3 {
        let r = upload(&app, &owner, &format!("{i}.png"), png(10 + i, 10)).await;
        pics.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let theirs = upload(&app, &friend, "t.png", png(9, 9)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // One photo not the owner's: nothing is added.
    let r = app
        .send(
            Method::POST,
            &format!("/v1/albums/{album}/photos"),
            Some(&owner),
            Some(json!({ "photos": [{ "attachment": pics[0] }, { "attachment": theirs }] })),
        )
        .await;
    assert_eq!(r.code(), "attachment_not_found", "{r:?}");
    let r = ok(
        &app,
        &owner,
        Method::POST,
        &format!("/v1/albums/{album}/photos"),
        Some(json!({ "photos": pics.iter().enumerate().map(|(i, p)| json!({ "attachment": p, "caption": format!("c{i}") })).collect::<Vec<_>>() })),
    )
    .await;
    let photos = r.body["photos"].as_array().unwrap().clone();
    assert_eq!(photos.len(), 3);
    assert_eq!(
        r.body["cover"],
        pics[0].as_str(),
        "the first photo is the cover"
    );
    let photo = photos[1]["id"].as_str().unwrap().to_owned();

    // Family sees the album, its photos and their pictures; the friend does not.
    let r = app.get_auth(&format!("/v1/albums/{album}"), &family).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let captions: Vec<&str> = r.body["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(captions, ["c0", "c1", "c2"]);
    for (viewer, status) in [
        (&family, StatusCode::OK),
        (&friend, StatusCode::NOT_FOUND),
        (&stranger, StatusCode::NOT_FOUND),
    ] {
        let r = app.get_auth(&format!("/v1/albums/{album}"), viewer).await;
        assert_eq!(r.status, status);
        let fetched = app
            .http
            .get(format!("{}/v1/attachments/{}", app.base, pics[1]))
            .bearer_auth(viewer)
            .send()
            .await
            .unwrap();
        assert_eq!(fetched.status(), status);
        let r = app
            .send(
                Method::POST,
                &format!("/v1/items/{photo}/comments"),
                Some(viewer),
                Some(json!({ "text": "nice" })),
            )
            .await;
        let expected = if status == StatusCode::OK {
            StatusCode::CREATED
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(r.status, expected, "{r:?}");
    }
    // A photo on its own, where its album is seen; its notifications say what it is.
    assert_eq!(
        app.get_auth(&format!("/v1/photos/{photo}"), &family)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get_auth(&format!("/v1/photos/{photo}"), &friend)
            .await
            .code(),
        "item_not_found"
    );
    let r = app.get_auth("/v1/notifications", &owner).await;
    let n = &r.body["notifications"][0];
    assert_eq!(
        (
            n["kind"].as_str(),
            n["item_kind"].as_str(),
            n["album_id"].as_str()
        ),
        (Some("comment"), Some("photo"), Some(album.as_str())),
        "{r:?}"
    );
    // Albums list; the feed has the album, not each photo.
    let list = app
        .get_auth(&format!("/v1/users/{OWNER}/albums"), &family)
        .await;
    assert_eq!(ids(&list), ["Family"]);
    let feed = app.get_auth("/v1/feed", &family).await;
    let kinds: Vec<&str> = feed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"album") && !kinds.contains(&"photo"),
        "{kinds:?}"
    );
    // Reorder, recover, widen the audience: the photos follow the album.
    ok(
        &app,
        &owner,
        Method::PATCH,
        &format!("/v1/photos/{photo}"),
        Some(json!({ "position": -1 })),
    )
    .await;
    ok(
        &app,
        &owner,
        Method::PATCH,
        &format!("/v1/albums/{album}"),
        Some(json!({ "cover": pics[2], "audience": { "kind": "contacts" } })),
    )
    .await;
    let r = app.get_auth(&format!("/v1/albums/{album}"), &friend).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["photos"][0]["id"], photo.as_str());
    assert_eq!(r.body["cover"], pics[2].as_str());
    let r = app
        .send(
            Method::PATCH,
            &format!("/v1/albums/{album}"),
            Some(&owner),
            Some(json!({ "cover": theirs })),
        )
        .await;
    assert_eq!(r.code(), "invalid_input");
    ok(
        &app,
        &owner,
        Method::DELETE,
        &format!("/v1/albums/{album}"),
        None,
    )
    .await;
    let r = app
        .send(
            Method::PUT,
            &format!("/v1/items/{photo}/like"),
            Some(&family),
            None,
        )
        .await;
    assert_eq!(r.code(), "item_not_found", "the photos went with the album");
}
