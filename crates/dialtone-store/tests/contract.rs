//! The storage contract: every repository behaves the same on SQLite and on PostgreSQL.
//! Each check runs once per engine; the PostgreSQL run needs `DIALTONE_TEST_POSTGRES_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration, DurationRound, Utc};
use dialtone_core::presence::PresenceSetting;
use dialtone_core::privacy::{Audience, PrivacySettings, Visibility};
use dialtone_core::{ConversationId, ConversationKind, MessageKind, PhoneNumber, Role, UserId};
use dialtone_store::{
    AckDone, ContactGroupRecord, ContactRecord, ConversationRecord, DeviceAck, Hidden, HighWater,
    ListKind, MemberRemoved, MessageRecord, PresenceRecord, RelationFacts, SessionRecord, Store,
    StoreError, UserRecord, VerificationRecord,
};

fn now() -> chrono::DateTime<Utc> {
    Utc::now()
        .duration_trunc(Duration::milliseconds(1))
        .unwrap()
}

fn phone(s: &str) -> PhoneNumber {
    PhoneNumber::parse_e164(s).unwrap()
}

fn c(id: &str) -> ConversationId {
    id.into()
}

fn u(id: &str) -> UserId {
    id.into()
}

fn user(id: &str, number: &str) -> UserRecord {
    UserRecord {
        id: id.into(),
        phone: phone(number),
        region: "CN".into(),
        display_name: None,
        password_set: false,
        registration_lock: false,
        created_at: now(),
    }
}

fn session(id: &str, user_id: &str) -> SessionRecord {
    SessionRecord {
        id: id.into(),
        user_id: user_id.into(),
        token_hash: format!("hash-{id}"),
        name: format!("device {id}"),
        created_at: now(),
        last_seen_at: now(),
        verified_at: Some(now()),
    }
}

fn verification(id: &str, number: &str) -> VerificationRecord {
    VerificationRecord {
        id: id.into(),
        phone: phone(number),
        code_hash: format!("code-{id}"),
        attempts: 0,
        sms_sent: 1,
        expires_at: now() + Duration::minutes(10),
        resend_after: now() + Duration::seconds(60),
        created_at: now(),
    }
}

/// What a device has not acknowledged, in conversation and seq order, at most `limit`: read
/// as catch-up reads it (`high_water`, then each conversation's messages after the ack).
async fn unacked(
    repo: &std::sync::Arc<dyn dialtone_store::MessageRepo>,
    session_id: &str,
    user_id: &str,
    limit: u32,
) -> Vec<MessageRecord> {
    let mut out = Vec::new();
    for w in repo.high_water(&u(user_id), session_id).await.unwrap() {
        out.extend(
            repo.messages(
                &w.conversation_id,
                &u(user_id),
                Some(w.acked_seq),
                None,
                limit,
            )
            .await
            .unwrap(),
        );
    }
    out.truncate(usize::try_from(limit).unwrap());
    out
}

async fn accounts(store: Store) {
    let u = user("u1", "+8613800138000");
    store
        .accounts
        .create_user_with_session(&u, &session("s1", "u1"))
        .await
        .unwrap();
    assert_eq!(
        store.accounts.user_by_phone(&u.phone).await.unwrap(),
        Some(u.clone())
    );
    assert_eq!(
        store.accounts.user_by_id("u1").await.unwrap(),
        Some(u.clone())
    );
    assert_eq!(store.accounts.user_by_id("nope").await.unwrap(), None);

    // A second account for the same number writes nothing, not even its session.
    let dup = store
        .accounts
        .create_user_with_session(&user("u2", "+8613800138000"), &session("s2", "u2"))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict)), "{dup:?}");
    assert!(
        store
            .sessions
            .by_token_hash("hash-s2")
            .await
            .unwrap()
            .is_none()
    );

    let mut changed = u.clone();
    changed.display_name = Some("张三".into());
    changed.region = "HK".into();
    changed.registration_lock = true;
    store.accounts.update_settings(&changed).await.unwrap();
    assert_eq!(
        store.accounts.user_by_id("u1").await.unwrap(),
        Some(changed.clone())
    );

    assert_eq!(store.accounts.password_hash("u1").await.unwrap(), None);
    assert_eq!(store.accounts.password_hash("nope").await.unwrap(), None);

    // Setting a password ends every other session.
    store.sessions.create(&session("s3", "u1")).await.unwrap();
    store.sessions.create(&session("s4", "u1")).await.unwrap();
    store
        .accounts
        .set_password("u1", "phc", "s3")
        .await
        .unwrap();
    let left: Vec<String> = store
        .sessions
        .list("u1")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, vec!["s3".to_owned()]);
    let after = store.accounts.user_by_id("u1").await.unwrap().unwrap();
    assert!(after.password_set, "the record says a password is set");
    assert_eq!(
        store.accounts.password_hash("u1").await.unwrap().as_deref(),
        Some("phc"),
        "the hash is read on its own"
    );
    let by_phone = store.accounts.user_by_phone(&after.phone).await.unwrap();
    let by_ids = store.accounts.users_by_ids(&["u1".into()]).await.unwrap();
    assert_eq!(by_phone.as_ref(), Some(&after));
    assert_eq!(by_ids, vec![after]);
}

async fn sessions(store: Store) {
    let u = user("u1", "+8613800138001");
    let s1 = session("s1", "u1");
    store
        .accounts
        .create_user_with_session(&u, &s1)
        .await
        .unwrap();
    let mut s2 = session("s2", "u1");
    s2.verified_at = None;
    store.sessions.create(&s2).await.unwrap();
    assert_eq!(
        store.sessions.by_token_hash("hash-s2").await.unwrap(),
        Some(s2.clone())
    );
    assert_eq!(store.sessions.list("u1").await.unwrap().len(), 2);

    let later = now() + Duration::minutes(5);
    store.sessions.touch("s2", later).await.unwrap();
    assert_eq!(
        store
            .sessions
            .by_token_hash("hash-s2")
            .await
            .unwrap()
            .unwrap()
            .last_seen_at,
        later
    );

    // Only the owner can end a session.
    assert!(!store.sessions.delete("someone-else", "s2").await.unwrap());
    assert!(store.sessions.delete("u1", "s2").await.unwrap());
    assert!(!store.sessions.delete("u1", "s2").await.unwrap());
    assert!(
        store
            .sessions
            .by_token_hash("hash-s2")
            .await
            .unwrap()
            .is_none()
    );
    // A duplicate token hash is refused.
    let mut clash = session("s9", "u1");
    clash.token_hash = s1.token_hash.clone();
    assert!(matches!(
        store.sessions.create(&clash).await,
        Err(StoreError::Conflict)
    ));
}

async fn verifications(store: Store) {
    let v1 = verification("v1", "+8613800138002");
    store.verifications.replace(&v1).await.unwrap();
    assert_eq!(
        store.verifications.get("v1").await.unwrap(),
        Some(v1.clone())
    );

    // A new verification for the same number replaces the old one.
    let v2 = verification("v2", "+8613800138002");
    store.verifications.replace(&v2).await.unwrap();
    assert!(store.verifications.get("v1").await.unwrap().is_none());

    // Attempts are taken atomically and stop at the maximum.
    for want in 1..=5 {
        assert_eq!(
            store.verifications.take_attempt("v2", 5).await.unwrap(),
            Some(want)
        );
    }
    assert_eq!(
        store.verifications.take_attempt("v2", 5).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .verifications
            .take_attempt("missing", 5)
            .await
            .unwrap(),
        None
    );

    let mut resent = store.verifications.get("v2").await.unwrap().unwrap();
    resent.code_hash = "new".into();
    resent.attempts = 0;
    resent.sms_sent = 2;
    store.verifications.update_code(&resent).await.unwrap();
    assert_eq!(store.verifications.get("v2").await.unwrap(), Some(resent));

    // Single use: only one consumer wins.
    assert!(store.verifications.consume("v2").await.unwrap());
    assert!(!store.verifications.consume("v2").await.unwrap());
    let used = store.verifications.get("v2").await.unwrap().unwrap();
    assert!(used.expires_at < now(), "a used verification is expired");

    let mut old = verification("v3", "+8613800138003");
    old.expires_at = now() - Duration::minutes(1);
    store.verifications.replace(&old).await.unwrap();
    store
        .verifications
        .replace(&verification("v4", "+8613800138004"))
        .await
        .unwrap();
    // v2 (used) and v3 (expired) go; v4 stays.
    assert_eq!(store.verifications.delete_expired(now()).await.unwrap(), 2);
    assert!(store.verifications.get("v4").await.unwrap().is_some());
}

async fn rate_limits(store: Store) {
    let t0 = now();
    let buckets = vec!["a".to_owned(), "b".to_owned()];
    store
        .rate_limits
        .record(&buckets, t0 - Duration::minutes(90))
        .await
        .unwrap();
    store
        .rate_limits
        .record(&buckets, t0 - Duration::minutes(30))
        .await
        .unwrap();
    store.rate_limits.record(&buckets[..1], t0).await.unwrap();

    let (n, oldest) = store
        .rate_limits
        .count_since("a", t0 - Duration::hours(1))
        .await
        .unwrap();
    assert_eq!((n, oldest), (2, Some(t0 - Duration::minutes(30))));
    let (n, _) = store
        .rate_limits
        .count_since("b", t0 - Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        store
            .rate_limits
            .count_since("c", t0 - Duration::hours(2))
            .await
            .unwrap(),
        (0, None)
    );

    assert_eq!(
        store
            .rate_limits
            .prune(t0 - Duration::hours(1))
            .await
            .unwrap(),
        2
    );
    let (n, _) = store
        .rate_limits
        .count_since("a", t0 - Duration::hours(5))
        .await
        .unwrap();
    assert_eq!(n, 2);
}

/// Every read form of the privacy facts, from `viewer` to "t": the single relation, the
/// small and the crowd batch, the fan-out form, and the settings both ways.
async fn all_facts(store: &Store, viewer: &PhoneNumber) -> (RelationFacts, PrivacySettings) {
    let single = store.privacy.relation("t", viewer, "mac-v").await.unwrap();
    let few: Vec<UserId> = vec!["t".into(), "v".into()];
    let small = store
        .privacy
        .relations_to(&few, viewer, "mac-v")
        .await
        .unwrap();
    let mut crowd: Vec<UserId> = (0..100).map(|i| format!("absent{i}").into()).collect();
    crowd.push("t".into());
    let large = store
        .privacy
        .relations_to(&crowd, viewer, "mac-v")
        .await
        .unwrap();
    let fan_out = store
        .privacy
        .relations_from("t", &[(viewer.clone(), "mac-v".to_owned())])
        .await
        .unwrap();
    assert_eq!(small["t"], single, "small batch");
    assert_eq!(large["t"], single, "crowd batch");
    assert_eq!(fan_out[viewer.as_str()], single, "fan-out form");
    let settings = store.privacy.settings("t").await.unwrap();
    let many = store.privacy.settings_many(&few).await.unwrap();
    assert_eq!(many["t"], settings);
    (single, settings)
}

/// Whatever a store keeps in memory, each write to the facts is seen by the next read of
/// every form (each step reads the facts twice before the write, so a kept answer would
/// be the one read).
async fn privacy_writes_are_seen_at_once(store: Store) {
    two_users(&store).await;
    let viewer = phone("+8613800138011");
    let none = RelationFacts::default();
    let mut expected = (none, PrivacySettings::default());
    for step in 0..10 {
        for _ in 0..2 {
            assert_eq!(
                all_facts(&store, &viewer).await,
                expected,
                "before step {step}"
            );
        }
        let p = &store.privacy;
        match step {
            0 => {
                p.add_phone("t", ListKind::Block, &viewer).await.unwrap();
                expected.0.blocked = true;
            }
            1 => {
                p.remove_phone("t", ListKind::Block, &viewer).await.unwrap();
                expected.0.blocked = false;
            }
            2 => {
                p.add_phone("t", ListKind::Allow, &viewer).await.unwrap();
                expected.0.allowlisted = true;
            }
            3 => {
                p.remove_phone("t", ListKind::Allow, &viewer).await.unwrap();
                p.create_group(&ContactGroupRecord {
                    id: "g".into(),
                    owner_id: "t".into(),
                    name: "g".into(),
                    phones: vec![viewer.clone()],
                    created_at: now(),
                })
                .await
                .unwrap();
                expected.0.allowlisted = false;
            }
            4 => {
                p.add_group("t", ListKind::Block, "g").await.unwrap();
                expected.0.blocked = true;
            }
            5 => {
                p.remove_group("t", ListKind::Block, "g").await.unwrap();
                expected.0.blocked = false;
            }
            6 => {
                store
                    .contacts
                    .upsert("t", &[contact("t", "mac-v", "sealed")], Hidden::Follows)
                    .await
                    .unwrap();
                expected.0.in_target_contacts = true;
            }
            7 => {
                store
                    .contacts
                    .delete("t", "mac-v", Hidden::Follows)
                    .await
                    .unwrap();
                expected.0.in_target_contacts = false;
            }
            8 => {
                store
                    .contacts
                    .replace("t", &[contact("t", "mac-v", "sealed")], Hidden::Follows)
                    .await
                    .unwrap();
                expected.0.in_target_contacts = true;
            }
            _ => {
                let strict = PrivacySettings {
                    visibility: Visibility::Allowlist,
                    discoverable: Audience::Nobody,
                    last_seen: Audience::Nobody,
                };
                p.set_settings("t", &strict).await.unwrap();
                expected.1 = strict;
            }
        }
    }
    assert_eq!(
        all_facts(&store, &viewer).await,
        expected,
        "after the last step"
    );
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let url = dialtone_store::testing::sqlite_url(dir.path());
                    super::$name(dialtone_store::open(&url).await.unwrap()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let name = concat!("postgres::", stringify!($name));
                    let Some(url) = dialtone_store::testing::fresh_postgres_url(name).await.unwrap() else {
                        return;
                    };
                    super::$name(dialtone_store::open(&url).await.unwrap()).await;
                }
            )*
        }
    };
}

#[path = "contract/calls.rs"]
mod calls;
#[path = "contract/community.rs"]
mod community;
#[path = "contract/push.rs"]
mod push;
#[path = "contract/search.rs"]
mod search;

fn contact(owner: &str, mac: &str, sealed: &str) -> ContactRecord {
    ContactRecord {
        owner_id: owner.into(),
        phone_mac: mac.into(),
        sealed: sealed.into(),
        hidden: false,
        created_at: now(),
    }
}

/// The owner `t`'s book as (number hash, sealed value, hidden), by number hash.
async fn book(store: &Store) -> Vec<(String, String, bool)> {
    let mut all = store.contacts.list("t").await.unwrap();
    all.sort_by(|x, y| x.phone_mac.cmp(&y.phone_mac));
    all.into_iter()
        .map(|c| (c.phone_mac, c.sealed, c.hidden))
        .collect()
}

/// One entry of [`book`].
fn row(mac: &str, sealed: &str, hidden: bool) -> (String, String, bool) {
    (mac.to_owned(), sealed.to_owned(), hidden)
}

async fn two_users(store: &Store) {
    store
        .accounts
        .create_user_with_session(&user("t", "+8613800138010"), &session("st", "t"))
        .await
        .unwrap();
    store
        .accounts
        .create_user_with_session(&user("v", "+8613800138011"), &session("sv", "v"))
        .await
        .unwrap();
}

async fn privacy(store: Store) {
    two_users(&store).await;
    assert_eq!(
        store.privacy.settings("t").await.unwrap(),
        PrivacySettings::default()
    );
    let strict = PrivacySettings {
        visibility: Visibility::Allowlist,
        discoverable: Audience::Contacts,
        last_seen: Audience::Nobody,
    };
    store.privacy.set_settings("t", &strict).await.unwrap();
    assert_eq!(store.privacy.settings("t").await.unwrap(), strict);
    assert_eq!(store.privacy.vault_hash("t").await.unwrap(), None);
    store.privacy.set_vault_hash("t", "phc").await.unwrap();
    assert_eq!(
        store.privacy.vault_hash("t").await.unwrap().as_deref(),
        Some("phc")
    );
    assert_eq!(
        store.privacy.settings("t").await.unwrap(),
        strict,
        "vault keeps settings"
    );
    store.privacy.set_vault_hash("v", "phc2").await.unwrap();
    assert_eq!(
        store.privacy.settings("v").await.unwrap(),
        PrivacySettings::default()
    );

    let viewer = phone("+8613800138011");
    let facts = || store.privacy.relation("t", &viewer, "mac-v");
    assert_eq!(facts().await.unwrap(), RelationFacts::default());

    // Blocked through a group.
    let group = ContactGroupRecord {
        id: "g1".into(),
        owner_id: "t".into(),
        name: "同事".into(),
        phones: vec![viewer.clone(), phone("+8613800138012")],
        created_at: now(),
    };
    store.privacy.create_group(&group).await.unwrap();
    assert_eq!(
        store
            .privacy
            .group("t", "g1")
            .await
            .unwrap()
            .unwrap()
            .phones
            .len(),
        2
    );
    assert!(
        store.privacy.group("v", "g1").await.unwrap().is_none(),
        "not the owner's"
    );
    store
        .privacy
        .add_group("t", ListKind::Block, "g1")
        .await
        .unwrap();
    assert!(facts().await.unwrap().blocked);
    assert!(
        store
            .privacy
            .remove_group("t", ListKind::Block, "g1")
            .await
            .unwrap()
    );
    assert!(!facts().await.unwrap().blocked);

    // Blocked directly, allowed directly and by group, in contacts.
    store
        .privacy
        .add_phone("t", ListKind::Block, &viewer)
        .await
        .unwrap();
    store
        .privacy
        .add_phone("t", ListKind::Block, &viewer)
        .await
        .unwrap();
    store
        .privacy
        .add_group("t", ListKind::Allow, "g1")
        .await
        .unwrap();
    store
        .contacts
        .upsert("t", &[contact("t", "mac-v", "sealed")], Hidden::Follows)
        .await
        .unwrap();
    assert_eq!(
        facts().await.unwrap(),
        RelationFacts {
            blocked: true,
            allowlisted: true,
            in_target_contacts: true
        }
    );
    assert_eq!(
        store.privacy.list("t", ListKind::Block).await.unwrap(),
        (vec![viewer.clone()], vec![])
    );
    assert_eq!(
        store.privacy.list("t", ListKind::Allow).await.unwrap(),
        (vec![], vec!["g1".to_owned()])
    );
    // The batch forms agree with the single ones.
    let targets: Vec<UserId> = vec!["t".into(), "v".into(), "nobody".into()];
    let many = store
        .privacy
        .relations_to(&targets, &viewer, "mac-v")
        .await
        .unwrap();
    assert_eq!(many["t"], facts().await.unwrap());
    assert_eq!(many["nobody"], RelationFacts::default());
    // Many targets (read from the viewer's side): the same facts.
    let mut crowd: Vec<UserId> = (0..200).map(|i| format!("absent{i}").into()).collect();
    crowd.extend(targets.iter().cloned());
    let from_crowd = store
        .privacy
        .relations_to(&crowd, &viewer, "mac-v")
        .await
        .unwrap();
    assert_eq!(from_crowd.len(), crowd.len());
    for id in &targets {
        assert_eq!(from_crowd[id], many[id], "{id}");
    }
    assert_eq!(from_crowd["absent7"], RelationFacts::default());
    let settings = store.privacy.settings_many(&targets).await.unwrap();
    assert_eq!(settings["t"], strict);
    assert_eq!(settings["nobody"], PrivacySettings::default());
    let found = store
        .accounts
        .users_by_phones(&[viewer.clone(), phone("+8613800138099")])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, "v");
    assert!(
        store
            .privacy
            .remove_phone("t", ListKind::Block, &viewer)
            .await
            .unwrap()
    );
    assert!(
        !store
            .privacy
            .remove_phone("t", ListKind::Block, &viewer)
            .await
            .unwrap()
    );
    assert!(!facts().await.unwrap().blocked);
}

async fn contacts(store: Store) {
    two_users(&store).await;
    store
        .contacts
        .replace(
            "t",
            &[contact("t", "a", "A1"), contact("t", "b", "B1")],
            Hidden::Follows,
        )
        .await
        .unwrap();
    assert!(
        store
            .contacts
            .set_hidden("t", "a", true, Hidden::Follows)
            .await
            .unwrap()
    );
    assert!(
        !store
            .contacts
            .set_hidden("t", "zzz", true, Hidden::Follows)
            .await
            .unwrap()
    );
    // Upsert keeps the hidden flag and updates the sealed value.
    store
        .contacts
        .upsert(
            "t",
            &[contact("t", "a", "A2"), contact("t", "c", "C1")],
            Hidden::Follows,
        )
        .await
        .unwrap();
    assert_eq!(
        book(&store).await,
        vec![
            row("a", "A2", true),
            row("b", "B1", false),
            row("c", "C1", false)
        ]
    );
    assert_eq!(
        store
            .contacts
            .get_many("t", &["b".into(), "nope".into()])
            .await
            .unwrap()
            .len(),
        1
    );

    store
        .contacts
        .upsert("v", &[contact("v", "a", "A-of-v")], Hidden::Follows)
        .await
        .unwrap();
    let mut owners = store.contacts.owners_of("a").await.unwrap();
    owners.sort();
    assert_eq!(
        owners,
        vec![("t".to_owned(), true), ("v".to_owned(), false)],
        "t hid it"
    );

    // With the vault closed, nothing touches a hidden entry: not a merge, not a replace
    // that has its number or one that lacks it, not a delete, not setting its flag.
    store
        .contacts
        .upsert("t", &[contact("t", "a", "A3")], Hidden::Untouched)
        .await
        .unwrap();
    store
        .contacts
        .replace(
            "t",
            &[contact("t", "a", "A4"), contact("t", "b", "B2")],
            Hidden::Untouched,
        )
        .await
        .unwrap();
    assert_eq!(
        book(&store).await,
        vec![row("a", "A2", true), row("b", "B2", false)],
        "the hidden entry survives a re-sync without the vault, unchanged"
    );
    store
        .contacts
        .replace("t", &[], Hidden::Untouched)
        .await
        .unwrap();
    assert_eq!(book(&store).await, vec![row("a", "A2", true)]);
    assert!(
        !store
            .contacts
            .delete("t", "a", Hidden::Untouched)
            .await
            .unwrap()
    );
    assert!(
        !store
            .contacts
            .set_hidden("t", "a", false, Hidden::Untouched)
            .await
            .unwrap()
    );
    assert_eq!(book(&store).await, vec![row("a", "A2", true)]);
    // A visible entry can be hidden with the vault closed (that is how hiding starts).
    store
        .contacts
        .upsert("t", &[contact("t", "b", "B3")], Hidden::Untouched)
        .await
        .unwrap();
    assert!(
        store
            .contacts
            .set_hidden("t", "b", true, Hidden::Untouched)
            .await
            .unwrap()
    );
    // With the vault open, a re-sync keeps hidden entries hidden where the book has them
    // and drops the others.
    store
        .contacts
        .replace(
            "t",
            &[contact("t", "b", "B4"), contact("t", "c", "C2")],
            Hidden::Follows,
        )
        .await
        .unwrap();
    assert_eq!(
        book(&store).await,
        vec![row("b", "B4", true), row("c", "C2", false)]
    );
    assert!(
        store
            .contacts
            .set_hidden("t", "b", false, Hidden::Follows)
            .await
            .unwrap()
    );

    // Replace drops what is not in the new book.
    store
        .contacts
        .replace("t", &[contact("t", "c", "C2")], Hidden::Follows)
        .await
        .unwrap();
    assert_eq!(store.contacts.list("t").await.unwrap().len(), 1);
    assert!(
        store
            .contacts
            .delete("t", "c", Hidden::Follows)
            .await
            .unwrap()
    );
    assert!(
        !store
            .contacts
            .delete("t", "c", Hidden::Follows)
            .await
            .unwrap()
    );
    assert_eq!(
        store.contacts.owners_of("a").await.unwrap(),
        vec![("v".to_owned(), false)]
    );
}

/// `apply` writes a change only onto the book it was computed from.
async fn contact_changes_apply_to_the_book_as_listed(store: Store) {
    two_users(&store).await;
    store
        .contacts
        .replace(
            "t",
            &[contact("t", "a", "A1"), contact("t", "b", "B1")],
            Hidden::Follows,
        )
        .await
        .unwrap();
    let seen = store.contacts.list("t").await.unwrap();
    // Nothing to do: nothing written, whatever the book.
    assert!(
        store
            .contacts
            .apply("t", &[], &[], &[], Hidden::Follows)
            .await
            .unwrap()
    );
    // A rename, a new number and one gone, from the book as listed.
    assert!(
        store
            .contacts
            .apply(
                "t",
                &seen,
                &[contact("t", "a", "A2"), contact("t", "c", "C1")],
                &["b".to_owned()],
                Hidden::Follows,
            )
            .await
            .unwrap()
    );
    assert_eq!(
        book(&store).await,
        vec![row("a", "A2", false), row("c", "C1", false)]
    );
    // The same change again, from the book as it was: it moved, so nothing is written.
    assert!(
        !store
            .contacts
            .apply(
                "t",
                &seen,
                &[contact("t", "d", "D1")],
                &["a".to_owned()],
                Hidden::Follows,
            )
            .await
            .unwrap()
    );
    assert_eq!(
        book(&store).await,
        vec![row("a", "A2", false), row("c", "C1", false)]
    );
    // A flag that changed counts as a move too.
    let seen = store.contacts.list("t").await.unwrap();
    assert!(
        store
            .contacts
            .set_hidden("t", "a", true, Hidden::Follows)
            .await
            .unwrap()
    );
    assert!(
        !store
            .contacts
            .apply("t", &seen, &[contact("t", "d", "D1")], &[], Hidden::Follows)
            .await
            .unwrap()
    );
    // Without the vault, a hidden entry is neither renamed nor dropped.
    let seen = store.contacts.list("t").await.unwrap();
    assert!(
        store
            .contacts
            .apply(
                "t",
                &seen,
                &[contact("t", "a", "A3")],
                &["a".to_owned(), "c".to_owned()],
                Hidden::Untouched,
            )
            .await
            .unwrap()
    );
    assert_eq!(book(&store).await, vec![row("a", "A2", true)]);
    // Another owner's book is not this one's.
    store
        .contacts
        .upsert("v", &[contact("v", "a", "A-of-v")], Hidden::Follows)
        .await
        .unwrap();
    let seen = store.contacts.list("t").await.unwrap();
    assert!(
        store
            .contacts
            .apply("t", &seen, &[contact("t", "e", "E1")], &[], Hidden::Follows)
            .await
            .unwrap()
    );
    assert_eq!(
        book(&store).await,
        vec![row("a", "A2", true), row("e", "E1", false)]
    );
}

async fn the_last_admin_leaving_promotes_the_eldest_member(store: Store) {
    two_users(&store).await;
    store
        .accounts
        .create_user_with_session(&user("w", "+8613800138012"), &session("sw", "w"))
        .await
        .unwrap();
    let repo = &store.messages;
    let group = ConversationRecord {
        id: "g".into(),
        kind: ConversationKind::Group,
        name: Some("g".into()),
        last_seq: 0,
        created_at: now(),
        members_version: 0,
    };
    repo.create_conversation(&group, &[("t".into(), Role::Admin)], None)
        .await
        .unwrap();
    // w joins before v: w is the longest-standing member after the admin.
    let t0 = now();
    repo.add_members(&c("g"), &[("w".into(), Role::Member)], t0)
        .await
        .unwrap();
    repo.add_members(
        &c("g"),
        &[("v".into(), Role::Member)],
        t0 + Duration::seconds(1),
    )
    .await
    .unwrap();
    let roles = || async {
        let mut roles: Vec<(UserId, Role)> = repo
            .members(&c("g"))
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.user_id, m.role))
            .collect();
        roles.sort();
        roles
    };
    // A member leaving changes no roles.
    assert_eq!(
        repo.remove_member(&c("g"), &u("v")).await.unwrap(),
        Some(MemberRemoved::default())
    );
    repo.add_members(
        &c("g"),
        &[("v".into(), Role::Member)],
        t0 + Duration::seconds(2),
    )
    .await
    .unwrap();
    // The only admin leaving makes the eldest member admin.
    assert_eq!(
        repo.remove_member(&c("g"), &u("t")).await.unwrap(),
        Some(MemberRemoved {
            promoted: Some("w".into())
        })
    );
    assert_eq!(
        roles().await,
        vec![("v".into(), Role::Member), ("w".into(), Role::Admin)]
    );
    // So does the next one; the last member leaving promotes nobody.
    assert_eq!(
        repo.remove_member(&c("g"), &u("w")).await.unwrap(),
        Some(MemberRemoved {
            promoted: Some("v".into())
        })
    );
    assert_eq!(
        repo.remove_member(&c("g"), &u("v")).await.unwrap(),
        Some(MemberRemoved::default())
    );
    assert!(roles().await.is_empty());
}

async fn presence(store: Store) {
    two_users(&store).await;
    assert_eq!(
        store.presence.get("t").await.unwrap(),
        PresenceRecord::default()
    );
    store
        .presence
        .set("t", PresenceSetting::Busy, Some("开会"))
        .await
        .unwrap();
    let seen = now();
    store.presence.set_last_seen("t", seen).await.unwrap();
    let got = store.presence.get("t").await.unwrap();
    assert_eq!(
        (got.setting, got.text.as_deref(), got.last_seen_at),
        (PresenceSetting::Busy, Some("开会"), Some(seen))
    );

    let many = store
        .presence
        .get_many(&["t".into(), "v".into()])
        .await
        .unwrap();
    assert_eq!(many["t"], got);
    assert_eq!(many["v"], PresenceRecord::default());

    let t0 = now();
    store.presence.heartbeat("n1", t0).await.unwrap();
    store.presence.heartbeat("n2", t0).await.unwrap();
    assert_eq!(
        store
            .presence
            .connect("c1", "n1", "t", "st", t0)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .presence
            .connect("c2", "n2", "t", "st2", t0)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .presence
            .connect("c3", "n2", "v", "sv", t0)
            .await
            .unwrap(),
        1
    );
    let users: Vec<UserId> = vec!["t".into(), "v".into(), "x".into()];
    assert_eq!(
        store.presence.connected(&users).await.unwrap(),
        vec!["t".to_owned(), "v".to_owned()]
    );
    assert_eq!(
        store.presence.disconnect("c1").await.unwrap(),
        Some(("t".into(), 1))
    );
    assert_eq!(store.presence.disconnect("c1").await.unwrap(), None);

    // n1 keeps beating, n2 dies: its users with nothing left go offline.
    store
        .presence
        .heartbeat("n1", t0 + Duration::seconds(30))
        .await
        .unwrap();
    store
        .presence
        .connect("c4", "n1", "v", "sv", t0)
        .await
        .unwrap();
    let offline = store
        .presence
        .sweep_dead_nodes(t0 + Duration::seconds(10))
        .await
        .unwrap();
    assert_eq!(offline, vec!["t".to_owned()]);
    assert_eq!(
        store.presence.connected(&users).await.unwrap(),
        vec!["v".to_owned()]
    );
}

async fn discovery_quota(store: Store) {
    two_users(&store).await;
    let t0 = now();
    let take = |n: u64, at| store.contacts.take_discovery("t", n, 10, 24, at);
    assert_eq!(take(8, t0).await.unwrap(), None);
    assert_eq!(
        take(3, t0).await.unwrap(),
        Some(3600),
        "one more token in an hour"
    );
    assert_eq!(take(2, t0).await.unwrap(), None, "a refusal takes nothing");
    assert_eq!(take(1, t0).await.unwrap(), Some(3600));
    assert_eq!(take(1, t0 + Duration::hours(1)).await.unwrap(), None);
    // Another user's bucket is untouched.
    assert_eq!(
        store
            .contacts
            .take_discovery("v", 10, 10, 24, t0)
            .await
            .unwrap(),
        None
    );
}

fn message(id: &str, conv: &str, sender: &str, client_id: &str) -> MessageRecord {
    MessageRecord {
        id: id.into(),
        conversation_id: conv.into(),
        seq: 0,
        sender_id: sender.into(),
        client_id: client_id.into(),
        kind: MessageKind::Text,
        text: Some(format!("hello {id}")),
        attachment_id: None,
        reply_to: None,
        sent_at: now(),
        edited_at: None,
        deleted: false,
    }
}

async fn messaging(store: Store) {
    two_users(&store).await;
    let conv = ConversationRecord {
        id: "c1".into(),
        kind: ConversationKind::Direct,
        name: None,
        last_seq: 0,
        created_at: now(),
        members_version: 0,
    };
    let members = vec![("t".into(), Role::Member), ("v".into(), Role::Member)];
    let repo = &store.messages;
    repo.create_conversation(&conv, &members, Some((&u("v"), &u("t"))))
        .await
        .unwrap();
    assert_eq!(
        repo.direct_conversation(&u("t"), &u("v"))
            .await
            .unwrap()
            .as_deref(),
        Some("c1")
    );
    let again = ConversationRecord {
        id: "c2".into(),
        ..conv.clone()
    };
    assert!(matches!(
        repo.create_conversation(&again, &members, Some((&u("t"), &u("v"))))
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(
        repo.conversation(&c("c2")).await.unwrap().is_none(),
        "nothing half-written"
    );

    let (m1, new) = repo
        .append(&message("m1", "c1", "t", "k1"), &[])
        .await
        .unwrap();
    assert!(new);
    assert_eq!(m1.seq, 1);
    // The same client id again: the first message, no new seq.
    let (same, new) = repo
        .append(&message("m1b", "c1", "t", "k1"), &[])
        .await
        .unwrap();
    assert!(!new);
    assert_eq!((same.id.as_str(), same.seq), ("m1", 1));
    // Withheld from v.
    let (m2, _) = repo
        .append(&message("m2", "c1", "t", "k2"), &["v".into()])
        .await
        .unwrap();
    assert_eq!(m2.seq, 2);
    let (m3, _) = repo
        .append(&message("m3", "c1", "v", "k1"), &[])
        .await
        .unwrap();
    assert_eq!(m3.seq, 3);
    let seqs = |ms: Vec<MessageRecord>| ms.into_iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(
            repo.messages(&c("c1"), &u("t"), None, None, 50)
                .await
                .unwrap()
        ),
        vec![1, 2, 3]
    );
    assert_eq!(
        seqs(
            repo.messages(&c("c1"), &u("v"), None, None, 50)
                .await
                .unwrap()
        ),
        vec![1, 3]
    );
    assert_eq!(
        seqs(
            repo.messages(&c("c1"), &u("t"), Some(1), None, 50)
                .await
                .unwrap()
        ),
        vec![2, 3]
    );
    assert_eq!(
        seqs(
            repo.messages(&c("c1"), &u("t"), None, Some(3), 1)
                .await
                .unwrap()
        ),
        vec![2]
    );
    assert_eq!(
        repo.withheld_from("m2").await.unwrap(),
        vec!["v".to_owned()]
    );
    assert_eq!(
        repo.conversation(&c("c1")).await.unwrap().unwrap().last_seq,
        3
    );

    // Per-device acknowledgements.
    assert_eq!(seqs(unacked(repo, "dev-v", "v", 100).await), vec![1, 3]);
    repo.ack("dev-v", &c("c1"), 1).await.unwrap();
    repo.ack("dev-v", &c("c1"), 0).await.unwrap();
    assert_eq!(seqs(unacked(repo, "dev-v", "v", 100).await), vec![3]);
    assert_eq!(seqs(unacked(repo, "dev-v2", "v", 100).await), vec![1, 3]);
    // Where each device stands: the conversation's last seq and its own ack.
    let water = |session: &'static str| {
        let repo = repo.clone();
        async move { repo.high_water(&u("v"), session).await.unwrap() }
    };
    let at = |acked| HighWater {
        conversation_id: "c1".into(),
        last_seq: 3,
        acked_seq: acked,
    };
    assert_eq!(water("dev-v").await, vec![at(1)]);
    assert_eq!(water("dev-v2").await, vec![at(0)]);
    assert!(
        repo.high_water(&u("stranger"), "s")
            .await
            .unwrap()
            .is_empty()
    );
    // The same for one conversation: the device's ack, 0 without one or for a non-member
    // (even one whose device acked there).
    assert_eq!(repo.acked(&u("v"), "dev-v", &c("c1")).await.unwrap(), 1);
    assert_eq!(repo.acked(&u("v"), "dev-v2", &c("c1")).await.unwrap(), 0);
    repo.ack("dev-s", &c("c1"), 2).await.unwrap();
    assert_eq!(
        repo.acked(&u("stranger"), "dev-s", &c("c1")).await.unwrap(),
        0
    );
    assert_eq!(repo.acked(&u("v"), "dev-v", &c("nope")).await.unwrap(), 0);

    assert!(repo.advance_mark(&c("c1"), &u("v"), true, 3).await.unwrap());
    assert!(!repo.advance_mark(&c("c1"), &u("v"), true, 2).await.unwrap());
    assert!(
        repo.advance_mark(&c("c1"), &u("v"), false, 1)
            .await
            .unwrap()
    );
    let ms = repo.members(&c("c1")).await.unwrap();
    let v = ms.iter().find(|m| m.user_id == "v").unwrap();
    assert_eq!((v.read_seq, v.delivered_seq), (3, 1));
    assert_eq!(
        repo.member(&c("c1"), &u("v")).await.unwrap().as_ref(),
        Some(v)
    );
    assert_eq!(repo.member(&c("c1"), &u("nobody")).await.unwrap(), None);
    assert_eq!(repo.member(&c("other"), &u("v")).await.unwrap(), None);
    assert_eq!(
        repo.count_after(&c("c1"), &u("v"), 0).await.unwrap(),
        1,
        "m1 only: m2 withheld, m3 own"
    );
    assert_eq!(repo.count_after(&c("c1"), &u("t"), 0).await.unwrap(), 1);
    assert_eq!(repo.conversations_of(&u("v")).await.unwrap().len(), 1);
    // Edit, delete for everyone, rename.
    let later = now() + Duration::seconds(5);
    assert!(repo.edit("m1", "edited", later).await.unwrap());
    let m = repo.message_by_id(&c("c1"), "m1").await.unwrap().unwrap();
    assert_eq!(
        (m.text.as_deref(), m.edited_at),
        (Some("edited"), Some(later))
    );
    assert!(repo.delete_for_everyone("m1").await.unwrap());
    assert!(!repo.delete_for_everyone("m1").await.unwrap());
    assert!(
        !repo.edit("m1", "again", later).await.unwrap(),
        "a deleted message stays deleted"
    );
    let m = repo.message_by_id(&c("c1"), "m1").await.unwrap().unwrap();
    assert!(m.deleted && m.text.is_none());
    assert!(
        repo.message_by_id(&c("other"), "m1")
            .await
            .unwrap()
            .is_none()
    );
    repo.rename(&c("c1"), "新名字").await.unwrap();
    assert_eq!(
        repo.conversation(&c("c1"))
            .await
            .unwrap()
            .unwrap()
            .name
            .as_deref(),
        Some("新名字")
    );
    let version = |store: &Store| {
        let repo = store.messages.clone();
        async move {
            repo.conversation(&c("c1"))
                .await
                .unwrap()
                .unwrap()
                .members_version
        }
    };
    let before = version(&store).await;
    assert_eq!(
        repo.remove_member(&c("c1"), &u("v")).await.unwrap(),
        Some(MemberRemoved::default())
    );
    assert!(repo.conversations_of(&u("v")).await.unwrap().is_empty());
    assert_eq!(version(&store).await, before + 1, "a member left");
    assert_eq!(repo.remove_member(&c("c1"), &u("v")).await.unwrap(), None);
    assert_eq!(version(&store).await, before + 1, "nobody left");
    repo.add_members(&c("c1"), &[("v".into(), Role::Member)], now())
        .await
        .unwrap();
    assert_eq!(version(&store).await, before + 2, "a member joined");
}

async fn concurrent_sends_get_contiguous_seqs(store: Store) {
    two_users(&store).await;
    let conv = ConversationRecord {
        id: "g".into(),
        kind: ConversationKind::Group,
        name: Some("g".into()),
        last_seq: 0,
        created_at: now(),
        members_version: 0,
    };
    store
        .messages
        .create_conversation(&conv, &[("t".into(), Role::Admin)], None)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let repo = store.messages.clone();
        tasks.push(tokio::spawn(async move {
            // Every message twice, as a client retrying: one copy each.
            let m = message(&format!("m{i}"), "g", "t", &format!("k{}", i % 20));
            repo.append(&m, &[]).await.unwrap()
        }));
    }
    let mut created = 0;
    for t in tasks {
        if t.await.unwrap().1 {
            created += 1;
        }
    }
    assert_eq!(created, 20);
    let seqs: Vec<u64> = store
        .messages
        .messages(&c("g"), &u("t"), Some(0), None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<u64>>());
}

/// Group commit: a batch behaves as its appends one after another, in one transaction.
async fn batched_appends(store: Store) {
    two_users(&store).await;
    let repo = &store.messages;
    for id in ["b1", "b2"] {
        let conv = ConversationRecord {
            id: id.into(),
            kind: ConversationKind::Group,
            name: Some(id.into()),
            last_seq: 0,
            created_at: now(),
            members_version: 0,
        };
        repo.create_conversation(
            &conv,
            &[("t".into(), Role::Admin), ("v".into(), Role::Member)],
            None,
        )
        .await
        .unwrap();
    }
    let batch = vec![
        (message("x1", "b1", "t", "k1"), vec![]),
        (message("x2", "b2", "t", "k1"), vec![]),
        (message("x3", "b1", "t", "k2"), vec!["v".into()]),
        // A retry inside the same batch: the first copy, and no seq used up.
        (message("x4", "b1", "t", "k1"), vec![]),
        (message("x5", "b1", "v", "k1"), vec![]),
    ];
    let got: Vec<(String, u64, bool)> = repo
        .append_batch(&batch)
        .await
        .unwrap()
        .into_iter()
        .map(|(m, new)| (m.id, m.seq, new))
        .collect();
    assert_eq!(
        got,
        vec![
            ("x1".to_owned(), 1, true),
            ("x2".to_owned(), 1, true),
            ("x3".to_owned(), 2, true),
            ("x1".to_owned(), 1, false),
            ("x5".to_owned(), 3, true),
        ]
    );
    assert_eq!(
        repo.conversation(&c("b1")).await.unwrap().unwrap().last_seq,
        3
    );
    let seqs = |ms: Vec<MessageRecord>| ms.into_iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(
            repo.messages(&c("b1"), &u("v"), None, None, 50)
                .await
                .unwrap()
        ),
        vec![1, 3],
        "x3 is withheld from v"
    );
    // After the batch, single appends go on where it ended.
    let (next, _) = repo
        .append(&message("x6", "b1", "t", "k3"), &[])
        .await
        .unwrap();
    assert_eq!(next.seq, 4);
    // A batch that cannot be written (an unknown conversation) writes nothing.
    let bad = vec![
        (message("y1", "b2", "t", "k9"), vec![]),
        (message("y2", "nope", "t", "k9"), vec![]),
    ];
    assert!(repo.append_batch(&bad).await.is_err());
    assert_eq!(
        repo.conversation(&c("b2")).await.unwrap().unwrap().last_seq,
        1
    );
    // More rows than one statement holds, retries of stored messages among them.
    let mut big: Vec<(MessageRecord, Vec<UserId>)> = (0..700)
        .map(|i| {
            let conv = if i % 2 == 0 { "b1" } else { "b2" };
            let withheld = if i % 3 == 0 { vec!["v".into()] } else { vec![] };
            (
                message(&format!("z{i}"), conv, "t", &format!("big{i}")),
                withheld,
            )
        })
        .collect();
    big.insert(350, (message("again", "b1", "t", "k3"), vec![]));
    let got = repo.append_batch(&big).await.unwrap();
    assert_eq!(got.len(), 701);
    assert_eq!(
        (got[350].0.id.as_str(), got[350].0.seq, got[350].1),
        ("x6", 4, false),
        "a stored client id is its first copy"
    );
    let b1: Vec<u64> = got
        .iter()
        .filter(|(m, new)| *new && m.conversation_id == "b1")
        .map(|(m, _)| m.seq)
        .collect();
    assert_eq!(
        b1,
        (5..5 + 350).collect::<Vec<u64>>(),
        "in batch order, no gaps"
    );
    assert_eq!(
        repo.conversation(&c("b2")).await.unwrap().unwrap().last_seq,
        351
    );
    let seen_by_v = repo
        .messages(&c("b2"), &u("v"), Some(1), None, 500)
        .await
        .unwrap();
    assert_eq!(seen_by_v.len(), 350 - 117, "a third withheld from v");
}

/// Acks in one transaction: device acks never move back; each delivered mark moves
/// once, and only forward.
async fn batched_acks(store: Store) {
    two_users(&store).await;
    let repo = &store.messages;
    let conv = ConversationRecord {
        id: "a1".into(),
        kind: ConversationKind::Direct,
        name: None,
        last_seq: 0,
        created_at: now(),
        members_version: 0,
    };
    repo.create_conversation(
        &conv,
        &[("t".into(), Role::Member), ("v".into(), Role::Member)],
        None,
    )
    .await
    .unwrap();
    for i in 1..=3 {
        repo.append(&message(&format!("a{i}"), "a1", "t", &format!("k{i}")), &[])
            .await
            .unwrap();
    }
    let ack = |session: &str, user: &str, seq: u64| DeviceAck {
        session_id: session.into(),
        user_id: user.into(),
        conversation_id: "a1".into(),
        seq,
    };
    let moved = |done: Vec<Option<AckDone>>| -> Vec<Option<(u64, bool)>> {
        done.into_iter()
            .map(|d| d.map(|d| (d.seq, d.moved)))
            .collect()
    };
    let done = repo
        .ack_batch(&[
            ack("sv", "v", 2),
            ack("sv", "v", 1),
            ack("sv", "v", 3),
            ack("st", "t", 3),
            ack("sx", "stranger", 1),
        ])
        .await
        .unwrap();
    assert_eq!(done[0].as_ref().map(|d| d.kind.as_str()), Some("direct"));
    assert_eq!(
        moved(done),
        vec![
            Some((2, false)),
            Some((1, false)),
            Some((3, true)),
            Some((3, true)),
            None
        ],
        "a member's mark moves once per batch, to their highest ack (reported on the \
         first ack that carried it); a non-member's ack writes nothing"
    );
    assert!(unacked(repo, "sx", "stranger", 10).await.is_empty());
    // Device sv acked up to 3: nothing left for it; its first ack at 1 did not undo that.
    assert!(unacked(repo, "sv", "v", 10).await.is_empty());
    assert_eq!(
        moved(repo.ack_batch(&[ack("sv", "v", 3)]).await.unwrap()),
        vec![Some((3, false))]
    );
    // More devices than one statement's rows: every one recorded.
    let many: Vec<DeviceAck> = (0..650).map(|i| ack(&format!("d{i}"), "t", 2)).collect();
    let done = repo.ack_batch(&many).await.unwrap();
    assert!(done.iter().all(|d| d.as_ref().is_some_and(|d| d.seq == 2)));
    for i in [0, 299, 300, 649] {
        assert_eq!(
            unacked(repo, &format!("d{i}"), "t", 10)
                .await
                .iter()
                .map(|m| m.seq)
                .collect::<Vec<_>>(),
            vec![3],
            "device d{i}"
        );
    }
    // A seq beyond the last message is cut to it.
    assert_eq!(
        moved(repo.ack_batch(&[ack("sv2", "v", 99)]).await.unwrap()),
        vec![Some((3, false))]
    );
    let members = repo.members(&c("a1")).await.unwrap();
    let v = members.iter().find(|m| m.user_id == "v").unwrap();
    assert_eq!(v.delivered_seq, 3);
}

contract!(
    messaging,
    concurrent_sends_get_contiguous_seqs,
    batched_appends,
    batched_acks,
    accounts,
    sessions,
    verifications,
    rate_limits,
    privacy,
    privacy_writes_are_seen_at_once,
    contacts,
    contact_changes_apply_to_the_book_as_listed,
    the_last_admin_leaving_promotes_the_eldest_member,
    presence,
    discovery_quota
);

#[tokio::test]
async fn refuses_unknown_urls() {
    assert!(matches!(
        dialtone_store::open("mysql://x").await,
        Err(StoreError::BadUrl(_))
    ));
}

/// Runs one statement on the database at `url` behind the store's back.
async fn behind_the_stores_back(url: &str, sql: &str) {
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
}

fn corrupt_saying(result: Result<impl std::fmt::Debug, StoreError>, word: &str) {
    match result {
        Err(StoreError::Corrupt(what)) => assert!(what.contains(word), "{what}"),
        other => panic!("not a Corrupt naming {word}: {other:?}"),
    }
}

/// A word the code does not know in a kind or role column is read back as a clear
/// `Corrupt`, naming the word, not as a guess.
async fn unknown_stored_words_are_corrupt(url: &str) {
    let store = dialtone_store::open(url).await.unwrap();
    two_users(&store).await;
    let repo = &store.messages;
    let group = ConversationRecord {
        id: "g".into(),
        kind: ConversationKind::Group,
        name: Some("g".into()),
        last_seq: 0,
        created_at: now(),
        members_version: 0,
    };
    let members = [("t".into(), Role::Admin), ("v".into(), Role::Member)];
    repo.create_conversation(&group, &members, None)
        .await
        .unwrap();
    repo.append(&message("m1", "g", "t", "k1"), &[])
        .await
        .unwrap();

    behind_the_stores_back(url, "UPDATE messages SET kind = 'gif'").await;
    corrupt_saying(
        repo.messages(&c("g"), &u("v"), None, None, 10).await,
        r#""gif""#,
    );
    behind_the_stores_back(url, "UPDATE conversation_members SET role = 'owner'").await;
    corrupt_saying(repo.members(&c("g")).await, r#"role "owner""#);
    corrupt_saying(repo.member(&c("g"), &u("v")).await, r#"role "owner""#);
    behind_the_stores_back(url, "UPDATE conversations SET kind = 'channel'").await;
    corrupt_saying(
        repo.conversation(&c("g")).await,
        r#"conversation kind "channel""#,
    );
}

#[tokio::test]
async fn unknown_stored_words_are_corrupt_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    unknown_stored_words_are_corrupt(&dialtone_store::testing::sqlite_url(dir.path())).await;
}

#[tokio::test]
async fn unknown_stored_words_are_corrupt_on_postgres() {
    let name = "unknown_stored_words_are_corrupt_on_postgres";
    if let Some(url) = dialtone_store::testing::fresh_postgres_url(name)
        .await
        .unwrap()
    {
        unknown_stored_words_are_corrupt(&url).await;
    }
}
