//! Search in conversations, over HTTP: Chinese words, case, prefixes, file names and
//! captions, both orders and their paging, and everything a caller may not see (withheld,
//! left, hidden, deleted, edited away). The index is written off the send path, so each
//! test waits for a message to be searchable by polling the search with a deadline; an
//! absence is asserted only after a later message was found (the queue is indexed in
//! order).

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Reply, TestApp};

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";
const CAROL: &str = "+8613800138002";

/// `q` percent-encoded for a query string.
fn enc(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn search(app: &TestApp, token: &str, query: &str, vault: Option<&str>) -> Reply {
    let mut request = app
        .http
        .get(format!("{}/v1/search?{query}", app.base))
        .bearer_auth(token);
    if let Some(vault) = vault {
        request = request.header("x-vault-token", vault);
    }
    TestApp::reply(request.send().await.unwrap()).await
}

/// The texts of the results of `q` (newest first).
async fn texts(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let r = search(app, token, &format!("q={}", enc(q)), None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    result_texts(&r)
}

fn result_texts(r: &Reply) -> Vec<String> {
    r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["message"]["text"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Waits (at most 10 s) until searching `q` gives a result with exactly `text`.
async fn until_found(app: &TestApp, token: &str, q: &str, text: &str) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = search(app, token, &format!("q={}", enc(q)), None).await;
        if result_texts(&r).iter().any(|t| t == text) {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{text:?} not found by {q:?}: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn send(app: &TestApp, token: &str, conv: &str, text: &str) -> Value {
    let r = app
        .send(
            Method::POST,
            &format!("/v1/conversations/{conv}/messages"),
            Some(token),
            Some(json!({ "client_id": uuid::Uuid::now_v7().to_string(), "kind": "text", "text": text })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    r.body
}

/// The highlighted parts of a result's snippet (offsets are UTF-16 units).
fn marked(result: &Value) -> Vec<String> {
    let text: Vec<u16> = result["snippet"]["text"]
        .as_str()
        .unwrap()
        .encode_utf16()
        .collect();
    result["snippet"]["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let (a, b) = (
                h[0].as_u64().unwrap() as usize,
                h[1].as_u64().unwrap() as usize,
            );
            String::from_utf16(&text[a..b]).unwrap()
        })
        .collect()
}

struct Pair {
    app: TestApp,
    alice: String,
    bob: String,
    conv: String,
}

async fn pair() -> Pair {
    let app = TestApp::spawn().await;
    let alice = app.code_login(ALICE, "a").await;
    let bob = app.code_login(BOB, "b").await;
    let conv = app.direct_id(&alice, BOB).await;
    Pair {
        app,
        alice,
        bob,
        conv,
    }
}

#[tokio::test]
async fn chinese_words_are_found_and_a_sequence_across_two_words_is_not() {
    let p = pair().await;
    send(&p.app, &p.alice, &p.conv, "我们明天去北京开会").await;
    let r = until_found(&p.app, &p.bob, "北京", "我们明天去北京开会").await;
    assert_eq!(marked(&r.body["results"][0]), ["北京"]);
    assert_eq!(r.body["results"][0]["message"]["sender"], ALICE);
    assert_eq!(texts(&p.app, &p.bob, "开会").await, ["我们明天去北京开会"]);
    assert_eq!(
        texts(&p.app, &p.alice, "北京 开会").await,
        ["我们明天去北京开会"]
    );
    // 京开 straddles 北京|开会: not a word of the message.
    assert!(texts(&p.app, &p.bob, "京开").await.is_empty());
    assert!(texts(&p.app, &p.bob, "上海").await.is_empty());
}

#[tokio::test]
async fn latin_words_match_in_any_case_width_and_the_last_one_as_a_prefix() {
    let p = pair().await;
    send(
        &p.app,
        &p.alice,
        &p.conv,
        "Hello World, see you at the Café",
    )
    .await;
    let r = until_found(&p.app, &p.bob, "WORLD", "Hello World, see you at the Café").await;
    assert_eq!(marked(&r.body["results"][0]), ["World"]);
    assert_eq!(texts(&p.app, &p.bob, "ｈｅｌｌｏ").await.len(), 1);
    let r = search(&p.app, &p.bob, "q=hel", None).await;
    assert_eq!(marked(&r.body["results"][0]), ["Hello"]);
    // Every word must match.
    assert!(texts(&p.app, &p.bob, "hello moon").await.is_empty());
    assert_eq!(texts(&p.app, &p.bob, "café hello").await.len(), 1);
}

#[tokio::test]
async fn file_names_and_captions_are_found_but_not_stickers() {
    let p = pair().await;
    let up = crate::attachments::upload(
        &p.app,
        &p.alice,
        "Budget-2025.pdf",
        b"%PDF-1.4\n%%EOF\n".to_vec(),
    )
    .await;
    assert_eq!(up.status, StatusCode::CREATED, "{up:?}");
    let file = json!({ "client_id": "f1", "kind": "file", "attachment_id": up.body["id"], "text": "季度报告 please review" });
    let r = p
        .app
        .send(
            Method::POST,
            &format!("/v1/conversations/{}/messages", p.conv),
            Some(&p.alice),
            Some(file),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let sticker = json!({ "client_id": "s1", "kind": "sticker", "text": "basic/smile" });
    p.app
        .send(
            Method::POST,
            &format!("/v1/conversations/{}/messages", p.conv),
            Some(&p.alice),
            Some(sticker),
        )
        .await;
    send(&p.app, &p.alice, &p.conv, "after the file").await;
    until_found(&p.app, &p.bob, "after", "after the file").await;
    let r = search(&p.app, &p.bob, "q=budget", None).await;
    assert_eq!(r.body["results"][0]["message"]["kind"], "file");
    assert_eq!(r.body["results"][0]["snippet"]["text"], "Budget-2025.pdf");
    assert_eq!(marked(&r.body["results"][0]), ["Budget"]);
    let r = search(&p.app, &p.bob, &format!("q={}", enc("报告")), None).await;
    assert_eq!(marked(&r.body["results"][0]), ["报告"]);
    assert!(texts(&p.app, &p.bob, "smile").await.is_empty());
    assert!(texts(&p.app, &p.bob, "basic").await.is_empty());
}

#[tokio::test]
async fn both_orders_page_through_every_match_once() {
    let p = pair().await;
    for i in 0..7 {
        let filler = "word ".repeat(i);
        send(&p.app, &p.alice, &p.conv, &format!("apple {i} {filler}")).await;
    }
    until_found(
        &p.app,
        &p.bob,
        "apple",
        "apple 6 word word word word word word ",
    )
    .await;
    for order in ["newest", "relevance"] {
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = format!("q=apple&limit=3&order={order}");
            if let Some(c) = &cursor {
                query.push_str(&format!("&cursor={}", enc(c)));
            }
            let r = search(&p.app, &p.bob, &query, None).await;
            assert_eq!(r.status, StatusCode::OK, "{r:?}");
            seen.extend(result_texts(&r));
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 7, "{order}: {seen:?}");
        let mut distinct = seen.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 7, "{order}: {seen:?}");
        if order == "newest" {
            let numbers: Vec<String> = seen
                .iter()
                .map(|t| t.split(' ').nth(1).unwrap().to_owned())
                .collect();
            assert_eq!(numbers, ["6", "5", "4", "3", "2", "1", "0"]);
        } else {
            // BM25: the shortest message with the word ranks first.
            assert_eq!(seen[0], "apple 0 ");
        }
    }
}

#[tokio::test]
async fn a_message_withheld_from_the_caller_is_never_found() {
    let p = pair().await;
    let r = p
        .app
        .send(
            Method::PUT,
            &format!("/v1/blocklist/{ALICE}"),
            Some(&p.bob),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    send(&p.app, &p.alice, &p.conv, "secret plan").await;
    send(&p.app, &p.bob, &p.conv, "secret marker").await;
    until_found(&p.app, &p.bob, "secret", "secret marker").await;
    assert_eq!(texts(&p.app, &p.bob, "secret").await, ["secret marker"]);
    assert_eq!(
        texts(&p.app, &p.alice, "secret").await,
        ["secret marker", "secret plan"]
    );
}

#[tokio::test]
async fn a_group_left_or_removed_from_is_no_longer_searched() {
    let p = pair().await;
    let carol = p.app.code_login(CAROL, "c").await;
    let r = p
        .app
        .send(
            Method::POST,
            "/v1/conversations",
            Some(&p.alice),
            Some(json!({ "kind": "group", "name": "trip", "members": [BOB, CAROL] })),
        )
        .await;
    let group = r.body["id"].as_str().unwrap().to_owned();
    send(&p.app, &p.alice, &group, "kiwi for the group").await;
    until_found(&p.app, &p.bob, "kiwi", "kiwi for the group").await;
    until_found(&p.app, &carol, "kiwi", "kiwi for the group").await;
    let leave = p
        .app
        .send(
            Method::DELETE,
            &format!("/v1/conversations/{group}/members/{BOB}"),
            Some(&p.bob),
            None,
        )
        .await;
    assert_eq!(leave.status, StatusCode::NO_CONTENT, "{leave:?}");
    let remove = p
        .app
        .send(
            Method::DELETE,
            &format!("/v1/conversations/{group}/members/{CAROL}"),
            Some(&p.alice),
            None,
        )
        .await;
    assert_eq!(remove.status, StatusCode::NO_CONTENT, "{remove:?}");
    assert!(texts(&p.app, &p.bob, "kiwi").await.is_empty());
    assert!(texts(&p.app, &carol, "kiwi").await.is_empty());
    assert_eq!(texts(&p.app, &p.alice, "kiwi").await.len(), 1);
    let r = search(
        &p.app,
        &p.bob,
        &format!("q=kiwi&conversation_id={group}"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    assert_eq!(r.code(), "conversation_not_found");
}

#[tokio::test]
async fn a_hidden_contacts_conversation_is_searched_only_with_the_vault_token() {
    let p = pair().await;
    send(&p.app, &p.alice, &p.conv, "mango hidden talk").await;
    until_found(&p.app, &p.bob, "mango", "mango hidden talk").await;
    let book = json!({ "contacts": [{ "name": "Alice", "phones": [ALICE] }] });
    assert_eq!(
        p.app.put_contacts(&p.bob, book).await.status,
        StatusCode::OK
    );
    for (method, path, body) in [
        (
            Method::PUT,
            "/v1/vault/password".to_owned(),
            json!({ "password": "vault pw" }),
        ),
        (
            Method::PUT,
            format!("/v1/contacts/{ALICE}/hidden"),
            json!({ "hidden": true }),
        ),
    ] {
        let r = p.app.send(method, &path, Some(&p.bob), Some(body)).await;
        assert!(r.status.is_success(), "{r:?}");
    }
    assert!(texts(&p.app, &p.bob, "mango").await.is_empty());
    let unlock = p
        .app
        .send(
            Method::POST,
            "/v1/vault/unlock",
            Some(&p.bob),
            Some(json!({ "password": "vault pw" })),
        )
        .await;
    let vault = unlock.body["vault_token"].as_str().unwrap();
    let r = search(&p.app, &p.bob, "q=mango", Some(vault)).await;
    assert_eq!(result_texts(&r), ["mango hidden talk"]);
    let r = search(&p.app, &p.bob, "q=mango", Some("not-a-vault-token")).await;
    assert!(result_texts(&r).is_empty());
}

#[tokio::test]
async fn deleted_and_edited_messages_are_found_as_they_are_now() {
    let p = pair().await;
    let gone = send(&p.app, &p.alice, &p.conv, "papaya to delete").await;
    let edited = send(&p.app, &p.alice, &p.conv, "old guava words").await;
    until_found(&p.app, &p.bob, "guava", "old guava words").await;
    let conv = &p.conv;
    let r = p
        .app
        .send(
            Method::DELETE,
            &format!(
                "/v1/conversations/{conv}/messages/{}",
                gone["id"].as_str().unwrap()
            ),
            Some(&p.alice),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    assert!(texts(&p.app, &p.bob, "papaya").await.is_empty());
    let r = p
        .app
        .send(
            Method::PATCH,
            &format!(
                "/v1/conversations/{conv}/messages/{}",
                edited["id"].as_str().unwrap()
            ),
            Some(&p.alice),
            Some(json!({ "text": "new lychee words" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    until_found(&p.app, &p.bob, "lychee", "new lychee words").await;
    assert!(texts(&p.app, &p.bob, "guava").await.is_empty());
    assert!(texts(&p.app, &p.bob, "papaya").await.is_empty());
}

#[tokio::test]
async fn around_seq_gives_the_messages_on_both_sides_of_one() {
    let p = pair().await;
    for i in 1..=10 {
        send(&p.app, &p.alice, &p.conv, &format!("line {i}")).await;
    }
    let conv = &p.conv;
    let seqs = |r: &Reply| -> Vec<u64> {
        r.body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect()
    };
    let r = p
        .app
        .get_auth(
            &format!("/v1/conversations/{conv}/messages?around_seq=5&limit=4"),
            &p.bob,
        )
        .await;
    assert_eq!(seqs(&r), [4, 5, 6, 7]);
    let r = p
        .app
        .get_auth(
            &format!("/v1/conversations/{conv}/messages?around_seq=1&limit=5"),
            &p.bob,
        )
        .await;
    assert_eq!(seqs(&r), [1, 2, 3]);
    let r = p
        .app
        .get_auth(
            &format!("/v1/conversations/{conv}/messages?around_seq=10"),
            &p.bob,
        )
        .await;
    assert_eq!(seqs(&r), (1..=10).collect::<Vec<_>>());
    let r = p
        .app
        .get_auth(
            &format!("/v1/conversations/{conv}/messages?around_seq=5&limit=0"),
            &p.bob,
        )
        .await;
    assert_eq!(r.code(), "invalid_input");
}

#[tokio::test]
async fn bad_searches_get_stable_codes() {
    let p = pair().await;
    for (query, status, code) in [
        ("", StatusCode::BAD_REQUEST, "invalid_input"),
        ("q=", StatusCode::BAD_REQUEST, "invalid_input"),
        ("q=%20%20%09", StatusCode::BAD_REQUEST, "invalid_input"),
        (
            &format!("q={}", "a".repeat(257)) as &str,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        ("q=a&order=oldest", StatusCode::BAD_REQUEST, "invalid_input"),
        ("q=a&limit=0", StatusCode::BAD_REQUEST, "invalid_input"),
        ("q=a&cursor=zzz", StatusCode::BAD_REQUEST, "invalid_query"),
        (
            "q=a&cursor=n5&order=relevance",
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "q=a&conversation_id=nope",
            StatusCode::NOT_FOUND,
            "conversation_not_found",
        ),
    ] {
        let r = search(&p.app, &p.alice, query, None).await;
        assert_eq!((r.status, r.code()), (status, code), "{query}: {r:?}");
    }
    let r = search(&p.app, &p.alice, &format!("q={}", "a".repeat(256)), None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = search(&p.app, &p.alice, "q=%21%21%21", None).await;
    assert_eq!((r.status, result_texts(&r).len()), (StatusCode::OK, 0));
    let r = p.app.send(Method::GET, "/v1/search?q=a", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
