//! The community's storage contract: profiles, items and what they name, comments, likes,
//! notifications, on both engines.

use chrono::Duration;
use dialtone_core::UserId;
use dialtone_core::privacy::{Audience, ItemAudience, SpaceWindow};
use dialtone_store::{
    AttachmentRecord, CommentRecord, ContactGroupRecord, ItemCursor, ItemKind, ItemQuery,
    ItemRecord, LikeRecord, LinkRecord, NotificationKind, NotificationRecord, ProfileRecord, Store,
};

use super::{now, phone, session, u, user};

async fn three_users(store: &Store) {
    for (id, number) in [
        ("o", "+8613800138020"),
        ("a", "+8613800138021"),
        ("b", "+8613800138022"),
    ] {
        store
            .accounts
            .create_user_with_session(&user(id, number), &session(&format!("s{id}"), id))
            .await
            .unwrap();
    }
}

fn attachment(id: &str, owner: &str) -> AttachmentRecord {
    AttachmentRecord {
        id: id.into(),
        owner_id: owner.into(),
        sha256: format!("{id:0>64}"),
        size: 3,
        content_type: "image/png".into(),
        filename: None,
        thumbnail_sha: None,
        thumbnail_type: None,
        width: Some(1),
        height: Some(1),
        created_at: now(),
    }
}

fn post(id: &str, owner: &str, at: chrono::DateTime<chrono::Utc>) -> ItemRecord {
    let mut item = ItemRecord::new(
        id.into(),
        u(owner),
        ItemKind::Post,
        ItemAudience::Contacts,
        at,
    );
    item.text = format!("post {id}");
    item
}

/// Published posts of `owners`, newest first.
fn posts<'a>(owners: &'a [UserId], before: Option<&'a ItemCursor>, limit: usize) -> ItemQuery<'a> {
    ItemQuery {
        owners,
        kinds: &[ItemKind::Post],
        drafts: false,
        tag: None,
        before,
        limit,
    }
}

pub(super) async fn profiles(store: Store) {
    three_users(&store).await;
    assert_eq!(store.community.profile("o").await.unwrap(), None);
    store
        .attachments
        .create(&attachment("av", "o"))
        .await
        .unwrap();
    let mut p = ProfileRecord::empty(u("o"), now());
    p.signature = Some("hello".into());
    p.birthday = Some("1990-05-01".into());
    p.birthday_visibility = Audience::Nobody;
    p.avatar_id = Some("av".into());
    p.space_window = SpaceWindow::ThreeDays;
    store.community.set_profile(&p).await.unwrap();
    assert_eq!(store.community.profile("o").await.unwrap(), Some(p.clone()));
    p.bio = Some("two\nlines".into());
    p.signature = None;
    store.community.set_profile(&p).await.unwrap();
    let many = store.community.profiles(&[u("o"), u("a")]).await.unwrap();
    assert_eq!(many.len(), 1);
    assert_eq!(many.get(&u("o")), Some(&p));
}

pub(super) async fn items(store: Store) {
    three_users(&store).await;
    for id in ["p1", "p2", "img"] {
        store
            .attachments
            .create(&attachment(id, "o"))
            .await
            .unwrap();
    }
    store
        .privacy
        .create_group(&ContactGroupRecord {
            id: "g".into(),
            owner_id: "o".into(),
            name: "family".into(),
            phones: vec![phone("+8613800138022")],
            created_at: now(),
        })
        .await
        .unwrap();
    let t0 = now() - Duration::hours(1);
    let mut first = post("i1", "o", t0);
    first.attachments = vec!["p2".into(), "p1".into()];
    first.audience = ItemAudience::Chosen;
    first.people = vec![phone("+8613800138021")];
    first.link = Some(LinkRecord {
        url: "https://example.com/".into(),
        title: Some("Example".into()),
        summary: None,
        image_id: Some("img".into()),
    });
    first.place = Some("Beijing".into());
    store.community.create_item(&first).await.unwrap();
    let mut second = post("i2", "o", t0);
    second.audience = ItemAudience::AllExcept;
    second.groups = vec!["g".into()];
    store.community.create_item(&second).await.unwrap();
    store
        .community
        .create_item(&post("i3", "a", t0 + Duration::minutes(1)))
        .await
        .unwrap();

    assert_eq!(
        store.community.item("i1").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.community.item("nope").await.unwrap(), None);

    // Newest first, ties by id, paged by cursor.
    let both = [u("o"), u("a")];
    let all = store
        .community
        .items_of(&posts(&both, None, 10))
        .await
        .unwrap();
    let ids: Vec<&str> = all.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["i3", "i2", "i1"]);
    let cursor = ItemCursor {
        created_at: t0,
        id: "i2".into(),
    };
    let page = store
        .community
        .items_of(&posts(&both, Some(&cursor), 10))
        .await
        .unwrap();
    assert_eq!(page, vec![first.clone()]);
    let only_o = store
        .community
        .items_of(&posts(&[u("o")], None, 1))
        .await
        .unwrap();
    assert_eq!(only_o, vec![second.clone()]);

    // Naming: a person, or a member of a named group.
    let ids = vec!["i1".to_owned(), "i2".to_owned(), "i3".to_owned()];
    let a_named = store
        .community
        .naming(&ids, &phone("+8613800138021"))
        .await
        .unwrap();
    assert_eq!(a_named, ["i1".to_owned()].into());
    let b_named = store
        .community
        .naming(&ids, &phone("+8613800138022"))
        .await
        .unwrap();
    assert_eq!(b_named, ["i2".to_owned()].into());

    // Which items show an attachment (a picture, a link's image).
    for id in ["p1", "img"] {
        let with = store.community.items_with_attachment(id).await.unwrap();
        assert_eq!(with, vec![first.clone()], "{id}");
    }

    // An edit replaces the audience and keeps the pictures; only the owner's id matches.
    let mut edited = first.clone();
    edited.text = "edited".into();
    edited.audience = ItemAudience::Public;
    edited.people = Vec::new();
    edited.groups = vec!["g".into()];
    edited.edited_at = Some(now());
    assert!(store.community.update_item(&edited).await.unwrap());
    assert_eq!(
        store.community.item("i1").await.unwrap(),
        Some(edited.clone())
    );
    let mut foreign = edited.clone();
    foreign.owner_id = u("a");
    assert!(!store.community.update_item(&foreign).await.unwrap());

    assert!(!store.community.delete_item("a", "i1").await.unwrap());
    assert!(store.community.delete_item("o", "i1").await.unwrap());
    assert_eq!(store.community.item("i1").await.unwrap(), None);
    assert!(
        store
            .community
            .items_with_attachment("p1")
            .await
            .unwrap()
            .is_empty()
    );
}

pub(super) async fn comments_likes_and_notifications(store: Store) {
    three_users(&store).await;
    let t0 = now() - Duration::minutes(10);
    store
        .community
        .create_item(&post("i", "o", t0))
        .await
        .unwrap();
    let comment = CommentRecord {
        id: "c1".into(),
        item_id: "i".into(),
        author_id: u("a"),
        reply_to: None,
        text: "nice".into(),
        created_at: t0 + Duration::minutes(1),
    };
    let reply = CommentRecord {
        id: "c2".into(),
        reply_to: Some("c1".into()),
        author_id: u("o"),
        text: "thanks".into(),
        created_at: t0 + Duration::minutes(2),
        ..comment.clone()
    };
    store.community.add_comment(&comment).await.unwrap();
    store.community.add_comment(&reply).await.unwrap();
    assert_eq!(
        store.community.comment("c2").await.unwrap(),
        Some(reply.clone())
    );
    assert_eq!(
        store.community.comments_on(&["i".into()]).await.unwrap(),
        vec![comment.clone(), reply.clone()]
    );

    let like = |user: &str, minutes| LikeRecord {
        item_id: "i".into(),
        user_id: u(user),
        created_at: t0 + Duration::minutes(minutes),
    };
    assert!(store.community.like(&like("a", 3)).await.unwrap());
    assert!(!store.community.like(&like("a", 4)).await.unwrap(), "once");
    assert!(store.community.like(&like("b", 5)).await.unwrap());
    assert_eq!(
        store.community.likes_on(&["i".into()]).await.unwrap(),
        vec![like("a", 3), like("b", 5)]
    );

    let note = |id: &str, user: &str, actor: &str, kind, comment: Option<&str>, minutes| {
        NotificationRecord {
            id: id.into(),
            user_id: u(user),
            actor_id: u(actor),
            kind,
            item_id: "i".into(),
            comment_id: comment.map(str::to_owned),
            created_at: t0 + Duration::minutes(minutes),
            read: false,
        }
    };
    let n1 = note("n1", "o", "a", NotificationKind::Comment, Some("c1"), 1);
    let n2 = note("n2", "a", "o", NotificationKind::Reply, Some("c2"), 2);
    let n3 = note("n3", "o", "a", NotificationKind::Like, None, 3);
    let n4 = note("n4", "o", "b", NotificationKind::Like, None, 5);
    store
        .community
        .add_notifications(&[n1.clone(), n2.clone(), n3.clone(), n4.clone()])
        .await
        .unwrap();
    let of_o = store
        .community
        .notifications("o", None, 10, false)
        .await
        .unwrap();
    assert_eq!(of_o, vec![n4.clone(), n3.clone(), n1.clone()]);
    let older = store
        .community
        .notifications(
            "o",
            Some(&ItemCursor {
                created_at: n3.created_at,
                id: n3.id.clone(),
            }),
            10,
            false,
        )
        .await
        .unwrap();
    assert_eq!(older, vec![n1.clone()]);

    // Taking a like back takes its notification; deleting a comment takes its own.
    assert!(store.community.unlike("i", "a").await.unwrap());
    assert!(!store.community.unlike("i", "a").await.unwrap());
    assert!(store.community.delete_comment("c1").await.unwrap());
    assert!(!store.community.delete_comment("c1").await.unwrap());
    let of_o = store
        .community
        .notifications("o", None, 10, false)
        .await
        .unwrap();
    assert_eq!(of_o, vec![n4.clone()]);

    store
        .community
        .mark_read("o", Some(&["n4".to_owned()]))
        .await
        .unwrap();
    assert!(
        store
            .community
            .notifications("o", None, 10, true)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .community
            .notifications("a", None, 10, true)
            .await
            .unwrap(),
        vec![n2.clone()]
    );
    store.community.mark_read("a", None).await.unwrap();
    assert!(
        store
            .community
            .notifications("a", None, 10, true)
            .await
            .unwrap()
            .is_empty()
    );

    // Deleting the item takes everything on it.
    assert!(store.community.delete_item("o", "i").await.unwrap());
    assert!(
        store
            .community
            .comments_on(&["i".into()])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .community
            .likes_on(&["i".into()])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .community
            .notifications("o", None, 10, false)
            .await
            .unwrap()
            .is_empty()
    );
}

pub(super) async fn articles_and_albums(store: Store) {
    three_users(&store).await;
    for id in ["pic", "ph1", "ph2"] {
        store
            .attachments
            .create(&attachment(id, "o"))
            .await
            .unwrap();
    }
    let t0 = now() - Duration::hours(1);
    let mut article = ItemRecord::new(
        "art".into(),
        u("o"),
        ItemKind::Article,
        ItemAudience::Public,
        t0,
    );
    article.title = Some("Title".into());
    article.body = Some("# Hi".into());
    article.body_html = Some("<h1>Hi</h1>".into());
    article.text = "Hi".into();
    article.tags = vec!["rust".into(), "travel".into()];
    article.attachments = vec!["pic".into()];
    store.community.create_item(&article).await.unwrap();
    let mut draft = ItemRecord::new(
        "draft".into(),
        u("o"),
        ItemKind::Article,
        ItemAudience::Public,
        t0,
    );
    draft.title = Some("Not yet".into());
    draft.draft = true;
    store.community.create_item(&draft).await.unwrap();
    let mut album = ItemRecord::new(
        "alb".into(),
        u("o"),
        ItemKind::Album,
        ItemAudience::Contacts,
        t0 + Duration::minutes(1),
    );
    album.title = Some("Trip".into());
    store.community.create_item(&album).await.unwrap();
    for (i, id) in ["ph2", "ph1"].iter().enumerate() {
        let mut photo = ItemRecord::new(
            format!("photo-{id}"),
            u("o"),
            ItemKind::Photo,
            ItemAudience::Contacts,
            t0,
        );
        photo.parent_id = Some("alb".into());
        photo.position = Some(i as i64);
        photo.attachments = vec![(*id).into()];
        store.community.create_item(&photo).await.unwrap();
    }
    store
        .community
        .create_item(&post("p", "o", t0))
        .await
        .unwrap();

    let many = store
        .attachments
        .get_many(&["pic".into(), "ph1".into(), "none".into()])
        .await
        .unwrap();
    let mut found: Vec<&str> = many.iter().map(|a| a.id.as_str()).collect();
    found.sort();
    assert_eq!(found, ["ph1", "pic"]);

    let o = [u("o")];
    let query = |kinds: &'static [ItemKind], drafts, tag| ItemQuery {
        owners: &o,
        kinds,
        drafts,
        tag,
        before: None,
        limit: 10,
    };
    let ids = |items: Vec<ItemRecord>| items.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .community
            .items_of(&query(&[ItemKind::Article], false, None))
            .await
            .unwrap()),
        ["art"]
    );
    assert_eq!(
        ids(store
            .community
            .items_of(&query(&[ItemKind::Article], true, None))
            .await
            .unwrap()),
        ["draft"]
    );
    assert_eq!(
        ids(store
            .community
            .items_of(&query(&[ItemKind::Article], false, Some("travel")))
            .await
            .unwrap()),
        ["art"]
    );
    assert!(
        store
            .community
            .items_of(&query(&[ItemKind::Article], false, Some("food")))
            .await
            .unwrap()
            .is_empty()
    );
    // Photos are read with their album, never listed.
    assert_eq!(
        ids(store
            .community
            .items_of(&query(
                &[
                    ItemKind::Post,
                    ItemKind::Article,
                    ItemKind::Album,
                    ItemKind::Photo
                ],
                false,
                None
            ))
            .await
            .unwrap()),
        ["alb", "p", "art"]
    );
    let photos = store.community.photos_of("alb").await.unwrap();
    assert_eq!(ids(photos.clone()), ["photo-ph2", "photo-ph1"]);
    assert_eq!(photos[1].attachments, ["ph1"]);
    assert_eq!(
        store.community.item("art").await.unwrap(),
        Some(article.clone())
    );

    // Publishing a draft, retagging, reordering.
    let mut published = draft.clone();
    published.draft = false;
    published.tags = vec!["food".into()];
    assert!(store.community.update_item(&published).await.unwrap());
    assert_eq!(
        store.community.item("draft").await.unwrap(),
        Some(published)
    );
    let mut moved = photos[1].clone();
    moved.position = Some(-1);
    assert!(store.community.update_item(&moved).await.unwrap());
    assert_eq!(
        ids(store.community.photos_of("alb").await.unwrap()),
        ["photo-ph1", "photo-ph2"]
    );
    store
        .community
        .set_attachments("art", &["ph1".into(), "pic".into()])
        .await
        .unwrap();
    assert_eq!(
        store
            .community
            .item("art")
            .await
            .unwrap()
            .unwrap()
            .attachments,
        ["ph1", "pic"]
    );
    // Deleting an album deletes its photos.
    assert!(store.community.delete_item("o", "alb").await.unwrap());
    assert!(store.community.photos_of("alb").await.unwrap().is_empty());
    assert_eq!(store.community.item("photo-ph1").await.unwrap(), None);
}

/// A feed over more owners than one statement reads: the newest items of all of them,
/// merged in order, paged by cursor.
pub(super) async fn items_of_many_owners(store: Store) {
    let t0 = now() - Duration::days(1);
    let mut owners = Vec::new();
    let mut all = Vec::new();
    for n in 0..130u32 {
        let id = format!("u{n}");
        store
            .accounts
            .create_user_with_session(
                &user(&id, &format!("+86138{:08}", 10_000_000 + n)),
                &session(&format!("s{n}"), &id),
            )
            .await
            .unwrap();
        owners.push(u(&id));
        for k in 0..2 {
            // Times interleave across owners, some equal (ties go by id).
            let at = t0 + Duration::seconds(i64::from((n * 7 + k * 500) % 400));
            let item = post(&format!("p{n}-{k}"), &id, at);
            store.community.create_item(&item).await.unwrap();
            all.push((at, item.id));
        }
    }
    all.sort_by(|a, b| b.cmp(a));
    let expected: Vec<String> = all.iter().map(|(_, id)| id.clone()).collect();
    let mut got = Vec::new();
    let mut cursor: Option<ItemCursor> = None;
    loop {
        let page = store
            .community
            .items_of(&posts(&owners, cursor.as_ref(), 37))
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        cursor = Some(ItemCursor {
            created_at: last.created_at,
            id: last.id.clone(),
        });
        got.extend(page.into_iter().map(|i| i.id));
    }
    assert_eq!(got, expected);
}

contract!(
    profiles,
    items,
    comments_likes_and_notifications,
    articles_and_albums,
    items_of_many_owners
);
