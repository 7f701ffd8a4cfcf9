//! Hidden contacts against every write to the address book: without `X-Vault-Token` a
//! hidden entry is as if not there, and nothing can show, un-hide or drop it (a phone
//! re-syncing its book is the everyday case); with the token it is written like any other.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Reply, TestApp};

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";
const CAROL: &str = "+8613800138002";
/// Never in Alice's book.
const NOBODY: &str = "+8613800138099";

fn phones(reply: &Reply) -> Vec<String> {
    let mut phones: Vec<String> = reply.body["contacts"]
        .as_array()
        .unwrap_or_else(|| panic!("no contacts in {reply:?}"))
        .iter()
        .map(|c| c["phone"].as_str().unwrap().to_owned())
        .collect();
    phones.sort();
    phones
}

fn hidden_flags(reply: &Reply) -> Vec<(String, bool)> {
    let mut flags: Vec<(String, bool)> = reply.body["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["phone"].as_str().unwrap().to_owned(),
                c["hidden"].as_bool().unwrap(),
            )
        })
        .collect();
    flags.sort();
    flags
}

struct Alice<'a> {
    app: &'a TestApp,
    token: String,
}

impl Alice<'_> {
    async fn call(
        &self,
        method: Method,
        path: &str,
        vault: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .app
            .http
            .request(method, format!("{}{}", self.app.base, path))
            .bearer_auth(&self.token);
        if let Some(vault) = vault {
            request = request.header("x-vault-token", vault);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        TestApp::reply(request.send().await.unwrap()).await
    }

    async fn book(&self, vault: Option<&str>) -> Reply {
        self.call(Method::GET, "/v1/contacts", vault, None).await
    }

    async fn conversations_with(&self, peer: &str, vault: Option<&str>) -> usize {
        let r = self
            .call(Method::GET, "/v1/conversations", vault, None)
            .await;
        r.body["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["members"].as_array().unwrap().iter().any(|m| m == peer))
            .count()
    }
}

fn book(entries: &[(&str, &str)]) -> Value {
    json!({ "contacts": entries.iter().map(|(name, phone)| json!({ "name": name, "phones": [phone] })).collect::<Vec<_>>() })
}

#[tokio::test]
async fn a_hidden_contact_survives_every_resync_without_the_vault() {
    a_hidden_contact_survives_every_resync_without_the_vault_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn a_hidden_contact_survives_every_resync_without_the_vault_on_postgres() {
    let Some(app) =
        TestApp::spawn_postgres("a_hidden_contact_survives_every_resync_without_the_vault").await
    else {
        return;
    };
    a_hidden_contact_survives_every_resync_without_the_vault_on(app).await;
}

async fn a_hidden_contact_survives_every_resync_without_the_vault_on(app: TestApp) {
    let token = app.code_login(ALICE, "phone").await;
    app.code_login(BOB, "b").await;
    let alice = Alice { app: &app, token };
    let full = book(&[("Bob", BOB), ("Carol", CAROL)]);
    assert_eq!(
        alice
            .call(Method::PUT, "/v1/contacts", None, Some(full.clone()))
            .await
            .status,
        StatusCode::OK
    );
    app.direct_id(&alice.token, BOB).await;
    let r = alice
        .call(
            Method::PUT,
            "/v1/vault/password",
            None,
            Some(json!({ "password": "vault pw" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = alice
        .call(
            Method::PUT,
            &format!("/v1/contacts/{BOB}/hidden"),
            None,
            Some(json!({ "hidden": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    assert_eq!(alice.conversations_with(BOB, None).await, 0);

    // The phone re-syncs the same book, without the vault.
    let r = alice
        .call(Method::PUT, "/v1/contacts", None, Some(full.clone()))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        phones(&r),
        vec![CAROL.to_owned()],
        "the answer lists no hidden entry"
    );
    assert_eq!(phones(&alice.book(None).await), vec![CAROL.to_owned()]);
    assert_eq!(
        alice.conversations_with(BOB, None).await,
        0,
        "its conversation stays hidden"
    );
    // A merge naming it, and an empty book, change nothing either.
    let r = alice
        .call(
            Method::POST,
            "/v1/contacts",
            None,
            Some(book(&[("Bobby", BOB)])),
        )
        .await;
    assert_eq!(phones(&r), vec![CAROL.to_owned()]);
    let r = alice
        .call(
            Method::PUT,
            "/v1/contacts",
            None,
            Some(json!({ "contacts": [] })),
        )
        .await;
    assert_eq!(phones(&r), Vec::<String>::new());
    assert_eq!(alice.conversations_with(BOB, None).await, 0);

    // Delete and un-hide answer for the hidden number exactly as for one not in the book.
    for (method, suffix, body) in [
        (Method::DELETE, "", None),
        (Method::PUT, "/hidden", Some(json!({ "hidden": false }))),
        (Method::PUT, "/hidden", Some(json!({ "hidden": true }))),
    ] {
        let hidden = alice
            .call(
                method.clone(),
                &format!("/v1/contacts/{BOB}{suffix}"),
                None,
                body.clone(),
            )
            .await;
        let absent = alice
            .call(
                method.clone(),
                &format!("/v1/contacts/{NOBODY}{suffix}"),
                None,
                body,
            )
            .await;
        assert_eq!(absent.status, StatusCode::NOT_FOUND, "{absent:?}");
        assert_eq!(
            (hidden.status, &hidden.body),
            (absent.status, &absent.body),
            "{method} {suffix}"
        );
    }

    // The vault still holds it, hidden, under its first name.
    let vault = alice
        .call(
            Method::POST,
            "/v1/vault/unlock",
            None,
            Some(json!({ "password": "vault pw" })),
        )
        .await;
    let vault = vault.body["vault_token"].as_str().unwrap().to_owned();
    let r = alice.book(Some(&vault)).await;
    assert_eq!(hidden_flags(&r), vec![(BOB.to_owned(), true)]);
    assert_eq!(r.body["contacts"][0]["name"], "Bob");
    assert_eq!(alice.conversations_with(BOB, Some(&vault)).await, 1);

    // With the vault open a re-sync keeps it hidden where the book has it...
    let r = alice
        .call(
            Method::PUT,
            "/v1/contacts",
            Some(&vault),
            Some(full.clone()),
        )
        .await;
    assert_eq!(
        hidden_flags(&r),
        vec![(BOB.to_owned(), true), (CAROL.to_owned(), false)]
    );
    // ...and drops it where the book does not.
    let r = alice
        .call(
            Method::PUT,
            "/v1/contacts",
            Some(&vault),
            Some(book(&[("Carol", CAROL)])),
        )
        .await;
    assert_eq!(hidden_flags(&r), vec![(CAROL.to_owned(), false)]);

    // With the vault open it can be un-hidden and deleted like any other.
    alice
        .call(Method::PUT, "/v1/contacts", Some(&vault), Some(full))
        .await;
    let r = alice
        .call(
            Method::PUT,
            &format!("/v1/contacts/{BOB}/hidden"),
            None,
            Some(json!({ "hidden": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = alice
        .call(
            Method::PUT,
            &format!("/v1/contacts/{BOB}/hidden"),
            Some(&vault),
            Some(json!({ "hidden": false })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        phones(&alice.book(None).await),
        vec![BOB.to_owned(), CAROL.to_owned()]
    );
    assert_eq!(alice.conversations_with(BOB, None).await, 1);
    alice
        .call(
            Method::PUT,
            &format!("/v1/contacts/{BOB}/hidden"),
            None,
            Some(json!({ "hidden": true })),
        )
        .await;
    let r = alice
        .call(
            Method::DELETE,
            &format!("/v1/contacts/{BOB}"),
            Some(&vault),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        phones(&alice.book(Some(&vault)).await),
        vec![CAROL.to_owned()]
    );
    app.stop().await;
}
