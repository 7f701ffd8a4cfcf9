//! The notifications' storage contract, on both engines: one subscription per device,
//! only devices without a live connection are pushed to, settings, mutes and the badge.

use chrono::Duration;
use dialtone_core::{ConversationKind, Role};
use dialtone_store::{ConversationRecord, NotifySettings, PushSubscriptionRecord, Store};

use super::{message, now, session, two_users, u};

fn sub(session_id: &str, user: &str, endpoint: &str) -> PushSubscriptionRecord {
    PushSubscriptionRecord {
        session_id: session_id.into(),
        user_id: user.into(),
        endpoint: endpoint.into(),
        p256dh: format!("key-{session_id}"),
        auth: format!("auth-{session_id}"),
        created_at: now(),
    }
}

fn sessions_of(subs: Vec<PushSubscriptionRecord>) -> Vec<String> {
    let mut ids: Vec<String> = subs.into_iter().map(|s| s.session_id).collect();
    ids.sort();
    ids
}

async fn push_subscriptions(store: Store) {
    two_users(&store).await;
    store.sessions.create(&session("st2", "t")).await.unwrap();
    let repo = &store.push;
    let first = sub("st", "t", "https://push.example/a");
    repo.subscribe(&first).await.unwrap();
    repo.subscribe(&sub("st2", "t", "https://push.example/b"))
        .await
        .unwrap();
    repo.subscribe(&sub("sv", "v", "https://push.example/c"))
        .await
        .unwrap();
    assert_eq!(repo.subscription("st").await.unwrap(), Some(first));
    // A device subscribing again replaces its subscription.
    repo.subscribe(&sub("st", "t", "https://push.example/a2"))
        .await
        .unwrap();
    assert_eq!(
        repo.subscription("st").await.unwrap().unwrap().endpoint,
        "https://push.example/a2"
    );
    // An endpoint taken by another device moves to the newer one.
    repo.subscribe(&sub("st2", "t", "https://push.example/a2"))
        .await
        .unwrap();
    assert_eq!(repo.subscription("st").await.unwrap(), None);
    repo.subscribe(&sub("st", "t", "https://push.example/a"))
        .await
        .unwrap();

    let mut users = repo.subscribed_users().await.unwrap();
    users.sort();
    assert_eq!(users, [u("t"), u("v")]);

    // Only devices without a live connection.
    let both = [u("t"), u("v")];
    assert_eq!(
        sessions_of(repo.offline_subscriptions(&both).await.unwrap()),
        ["st", "st2", "sv"]
    );
    store
        .presence
        .connect("c1", "n1", "t", "st", now())
        .await
        .unwrap();
    assert_eq!(
        sessions_of(repo.offline_subscriptions(&both).await.unwrap()),
        ["st2", "sv"]
    );
    store.presence.disconnect("c1").await.unwrap();
    assert_eq!(
        sessions_of(repo.offline_subscriptions(&[u("t")]).await.unwrap()),
        ["st", "st2"]
    );

    // Gone at the push service, unsubscribed, or logged out: no longer there.
    repo.drop_endpoint("https://push.example/c").await.unwrap();
    assert!(
        repo.offline_subscriptions(&[u("v")])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(repo.unsubscribe("st2").await.unwrap());
    assert!(!repo.unsubscribe("st2").await.unwrap());
    assert!(store.sessions.delete("t", "st").await.unwrap());
    assert!(repo.offline_subscriptions(&both).await.unwrap().is_empty());
    assert!(repo.subscribed_users().await.unwrap().is_empty());
}

async fn notify_settings_and_mutes(store: Store) {
    two_users(&store).await;
    let repo = &store.push;
    let both = [u("t"), u("v")];
    let defaults = repo.notify_settings(&both).await.unwrap();
    assert_eq!(defaults[&u("t")], NotifySettings::default());
    assert_eq!(defaults[&u("v")], NotifySettings::default());
    let quiet = NotifySettings {
        previews: false,
        hidden_previews: true,
        quiet: Some((22 * 60, 7 * 60)),
        utc_offset_minutes: 480,
    };
    repo.set_notify_settings(&u("t"), &quiet).await.unwrap();
    let read = repo.notify_settings(&both).await.unwrap();
    assert_eq!(read[&u("t")], quiet);
    assert_eq!(read[&u("v")], NotifySettings::default());
    let loud = NotifySettings {
        quiet: None,
        utc_offset_minutes: -300,
        ..quiet
    };
    repo.set_notify_settings(&u("t"), &loud).await.unwrap();
    assert_eq!(
        repo.notify_settings(&[u("t")]).await.unwrap()[&u("t")],
        loud
    );

    let conv = ConversationRecord {
        id: "c1".into(),
        kind: ConversationKind::Direct,
        name: None,
        last_seq: 0,
        created_at: now(),
        members_version: 0,
    };
    let members = vec![("t".into(), Role::Member), ("v".into(), Role::Member)];
    store
        .messages
        .create_conversation(&conv, &members, Some((&u("t"), &u("v"))))
        .await
        .unwrap();
    let t0 = now();
    let c1 = "c1".into();
    assert!(repo.muted(&c1, &both, t0).await.unwrap().is_empty());
    let until = t0 + Duration::hours(8);
    assert!(repo.set_muted(&c1, &u("t"), Some(until)).await.unwrap());
    assert!(
        !repo
            .set_muted(&c1, &u("nobody"), Some(until))
            .await
            .unwrap()
    );
    let muted = repo.muted(&c1, &both, t0).await.unwrap();
    assert_eq!(muted.len(), 1);
    assert_eq!(muted[&u("t")].timestamp_millis(), until.timestamp_millis());
    assert_eq!(repo.mutes_of(&u("t"), t0).await.unwrap().len(), 1);
    // A mute whose time has passed is no mute.
    let later = until + Duration::seconds(1);
    assert!(repo.muted(&c1, &both, later).await.unwrap().is_empty());
    assert!(repo.mutes_of(&u("t"), later).await.unwrap().is_empty());

    // The badge: others' messages after the read mark, not withheld, not muted.
    for (i, sender) in ["t", "v", "v", "v"].iter().enumerate() {
        let withheld = if i == 3 { vec![u("t")] } else { vec![] };
        store
            .messages
            .append(
                &message(&format!("m{i}"), "c1", sender, &format!("k{i}")),
                &withheld,
            )
            .await
            .unwrap();
    }
    assert_eq!(repo.unread_total(&u("t"), later).await.unwrap(), 2);
    assert_eq!(repo.unread_total(&u("t"), t0).await.unwrap(), 0, "muted");
    assert_eq!(repo.unread_total(&u("v"), t0).await.unwrap(), 1);
    store
        .messages
        .advance_mark(&c1, &u("t"), true, 2)
        .await
        .unwrap();
    assert_eq!(repo.unread_total(&u("t"), later).await.unwrap(), 1);
    assert!(repo.set_muted(&c1, &u("t"), None).await.unwrap());
    assert_eq!(repo.unread_total(&u("t"), t0).await.unwrap(), 1);
}

contract!(push_subscriptions, notify_settings_and_mutes);
