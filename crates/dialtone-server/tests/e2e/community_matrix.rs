//! The community's privacy matrix on random graphs: address books, contact groups, blocks,
//! allow-lists, discoverability and item audiences drawn at random; every space, every
//! like count and every list of commenters is compared with a model of the contract
//! written here from `API.md` and the issue (not with dialtone's own policy code). A
//! viewer who may not see a user gets exactly the bytes an unregistered number gets.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Reply, TestApp};

const PHONES: [&str; 5] = [
    "+8613800138200",
    "+8613800138201",
    "+8613800138202",
    "+8613800138203",
    "+8613800138204",
];
const UNREGISTERED: &str = "+8613800138299";
const N: usize = PHONES.len();

/// A small deterministic generator (xorshift), so a failing graph can be replayed by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

#[derive(Default)]
struct User {
    book: BTreeSet<usize>,
    blocks: BTreeSet<usize>,
    allows: BTreeSet<usize>,
    allowlist_mode: bool,
    discoverable: &'static str,
    group: BTreeSet<usize>,
}

struct Item {
    owner: usize,
    audience: &'static str,
    named: BTreeSet<usize>,
    likers: BTreeSet<usize>,
    commenters: BTreeSet<usize>,
}

/// What `v` sees of `t` under `t`'s settings (`t`'s side).
fn seen(users: &[User], v: usize, t: usize) -> bool {
    let t_ = &users[t];
    !t_.blocks.contains(&v)
        && (!t_.allowlist_mode || t_.allows.contains(&v))
        && match t_.discoverable {
            "everyone" => true,
            "contacts" => t_.book.contains(&v),
            _ => false,
        }
}

/// Whether `v` accepts what comes from `t` (`v`'s side).
fn accepts(users: &[User], v: usize, t: usize) -> bool {
    let v_ = &users[v];
    !v_.blocks.contains(&t) && (!v_.allowlist_mode || v_.allows.contains(&t))
}

fn visible(users: &[User], v: usize, t: usize) -> bool {
    v == t || (seen(users, v, t) && accepts(users, v, t))
}

fn sees_item(users: &[User], v: Option<usize>, item: &Item) -> bool {
    let o = item.owner;
    let Some(v) = v else {
        let owner = &users[o];
        return item.audience == "public"
            && !owner.allowlist_mode
            && owner.discoverable == "everyone";
    };
    if v == o {
        return true;
    }
    if !visible(users, v, o) {
        return false;
    }
    let contact = users[o].book.contains(&v);
    match item.audience {
        "public" => true,
        "contacts" => contact,
        "chosen" => item.named.contains(&v),
        _ => contact && !item.named.contains(&v),
    }
}

async fn ok(app: &TestApp, token: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
    let r = app.send(method, path, Some(token), body).await;
    assert!(r.status.is_success(), "{path}: {r:?}");
    r
}

async fn one_graph(seed: u64) {
    let mut rng = Rng(seed);
    let app = TestApp::spawn().await;
    let mut tokens = Vec::new();
    for (i, phone) in PHONES.iter().enumerate() {
        tokens.push(app.code_login(phone, &format!("d{i}")).await);
    }
    let mut users: Vec<User> = (0..N).map(|_| User::default()).collect();
    for (i, user) in users.iter_mut().enumerate() {
        for j in (0..N).filter(|&j| j != i) {
            if rng.chance(60) {
                user.book.insert(j);
            }
            if rng.chance(15) {
                user.blocks.insert(j);
            }
            if rng.chance(50) {
                user.allows.insert(j);
            }
            if rng.chance(40) {
                user.group.insert(j);
            }
        }
        user.allowlist_mode = rng.chance(25);
        user.discoverable = *rng.pick(&["everyone", "everyone", "contacts", "nobody"]);
    }
    let mut groups = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let t = &tokens[i];
        let book = json!({ "contacts": user.book.iter().map(|&j| json!({ "name": "x", "phones": [PHONES[j]] })).collect::<Vec<_>>() });
        assert_eq!(app.put_contacts(t, book).await.status, StatusCode::OK);
        let visibility = if user.allowlist_mode {
            "allowlist"
        } else {
            "everyone"
        };
        ok(
            &app,
            t,
            Method::PATCH,
            "/v1/privacy",
            Some(json!({ "visibility": visibility, "discoverable": user.discoverable })),
        )
        .await;
        for &j in &user.blocks {
            ok(
                &app,
                t,
                Method::PUT,
                &format!("/v1/blocklist/{}", PHONES[j]),
                None,
            )
            .await;
        }
        for &j in &user.allows {
            ok(
                &app,
                t,
                Method::PUT,
                &format!("/v1/allowlist/{}", PHONES[j]),
                None,
            )
            .await;
        }
        let members: Vec<&str> = user.group.iter().map(|&j| PHONES[j]).collect();
        let r = ok(
            &app,
            t,
            Method::POST,
            "/v1/contact-groups",
            Some(json!({ "name": "g", "phones": members })),
        )
        .await;
        groups.push(r.body["id"].as_str().unwrap().to_owned());
    }
    // Each user posts three items with random audiences.
    let mut items: BTreeMap<String, Item> = BTreeMap::new();
    for o in 0..N {
        for _ in 0..3 {
            let audience = *rng.pick(&["public", "contacts", "chosen", "all_except"]);
            let mut named = BTreeSet::new();
            let mut body = json!({ "kind": audience });
            if matches!(audience, "chosen" | "all_except") {
                if rng.chance(50) {
                    body["groups"] = json!([groups[o]]);
                    named.extend(users[o].group.iter().copied());
                }
                let person = (o + 1 + (rng.next() % (N as u64 - 1)) as usize) % N;
                if audience == "chosen" && named.is_empty() || rng.chance(50) {
                    body["phones"] = json!([PHONES[person]]);
                    named.insert(person);
                }
            }
            let r = ok(
                &app,
                &tokens[o],
                Method::POST,
                "/v1/posts",
                Some(json!({ "text": "t", "audience": body })),
            )
            .await;
            let id = r.body["id"].as_str().unwrap().to_owned();
            items.insert(
                id,
                Item {
                    owner: o,
                    audience,
                    named,
                    likers: BTreeSet::new(),
                    commenters: BTreeSet::new(),
                },
            );
        }
    }
    // Everyone tries to like every item: the API agrees with the model on who may.
    let ids: Vec<String> = items.keys().cloned().collect();
    for id in &ids {
        for (v, token) in tokens.iter().enumerate() {
            if !rng.chance(60) {
                continue;
            }
            let r = app
                .send(
                    Method::PUT,
                    &format!("/v1/items/{id}/like"),
                    Some(token),
                    None,
                )
                .await;
            let may = sees_item(&users, Some(v), &items[id]);
            assert_eq!(
                r.status.is_success(),
                may,
                "seed {seed}: {v} likes {id}: {r:?}"
            );
            if may {
                items.get_mut(id).unwrap().likers.insert(v);
            }
            if rng.chance(50) {
                let r = app
                    .send(
                        Method::POST,
                        &format!("/v1/items/{id}/comments"),
                        Some(token),
                        Some(json!({ "text": "c" })),
                    )
                    .await;
                assert_eq!(
                    r.status.is_success(),
                    may,
                    "seed {seed}: {v} comments {id}: {r:?}"
                );
                if may {
                    items.get_mut(id).unwrap().commenters.insert(v);
                }
            }
        }
    }
    // Every space, as every viewer and a visitor sees it.
    for viewer in (0..N).map(Some).chain([None]) {
        let token = viewer.map(|v| tokens[v].as_str());
        let unregistered = app
            .send(
                Method::GET,
                &format!("/v1/users/{UNREGISTERED}/posts"),
                token,
                None,
            )
            .await;
        for o in 0..N {
            let r = app
                .send(
                    Method::GET,
                    &format!("/v1/users/{}/posts?limit=50", PHONES[o]),
                    token,
                    None,
                )
                .await;
            let may_see_owner = match viewer {
                Some(v) => visible(&users, v, o),
                None => !users[o].allowlist_mode && users[o].discoverable == "everyone",
            };
            if !may_see_owner {
                assert_eq!(
                    (r.status, &r.body),
                    (unregistered.status, &unregistered.body),
                    "seed {seed}: {viewer:?} of {o} must look unregistered"
                );
                continue;
            }
            assert_eq!(
                r.status,
                StatusCode::OK,
                "seed {seed}: {viewer:?} of {o}: {r:?}"
            );
            let got: BTreeMap<String, (u64, BTreeSet<String>)> = r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    let commenters = i["comments"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c["author"].as_str().unwrap().to_owned())
                        .collect();
                    (
                        i["id"].as_str().unwrap().to_owned(),
                        (i["likes"]["count"].as_u64().unwrap(), commenters),
                    )
                })
                .collect();
            let shown = |l: usize| match viewer {
                Some(v) => visible(&users, v, l),
                None => !users[l].allowlist_mode && users[l].discoverable == "everyone",
            };
            let expected: BTreeMap<String, (u64, BTreeSet<String>)> = items
                .iter()
                .filter(|(_, item)| item.owner == o && sees_item(&users, viewer, item))
                .map(|(id, item)| {
                    let count = item.likers.iter().filter(|&&l| shown(l)).count() as u64;
                    let commenters = item
                        .commenters
                        .iter()
                        .filter(|&&c| shown(c))
                        .map(|&c| PHONES[c].to_owned())
                        .collect();
                    (id.clone(), (count, commenters))
                })
                .collect();
            assert_eq!(got, expected, "seed {seed}: {viewer:?} of {o}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn random_graphs_show_each_item_to_its_audience_and_no_one_else() {
    for seed in [
        0x9E37_79B9_7F4A_7C15,
        42,
        7_777,
        123_456_789,
        0xDEAD_BEEF,
        31_337,
    ] {
        one_graph(seed).await;
    }
}
