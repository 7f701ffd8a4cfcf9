//! The search index's storage contract, on both engines: the queue fills in the message's
//! own transaction (searchable kinds only), writes take exactly the rows they read, a
//! message changed in between keeps its newer row, and a search sees only what its viewer
//! may: their conversations now, nothing withheld from them or deleted for everyone.

use chrono::Utc;
use dialtone_core::{ConversationKind, MessageKind, Role};
use dialtone_store::{
    AttachmentRecord, ConversationRecord, IndexedDoc, SearchOrder, SearchQuery, Store,
};

use super::{c, message, now, two_users, u};

/// Indexes the whole queue, with terms made by splitting the text and file name at
/// spaces (the service's tokenizer is not the store's business).
async fn index_all(store: &Store) -> usize {
    let mut written = 0;
    loop {
        let docs = store.search.pending(3).await.unwrap();
        if docs.is_empty() {
            return written;
        }
        let indexed: Vec<IndexedDoc> = docs
            .into_iter()
            .map(|doc| {
                let terms = doc
                    .source
                    .iter()
                    .flat_map(|s| [s.text.clone(), s.filename.clone()])
                    .flatten()
                    .flat_map(|t| {
                        t.split_whitespace()
                            .map(str::to_lowercase)
                            .collect::<Vec<_>>()
                    })
                    .collect();
                IndexedDoc { doc, terms }
            })
            .collect();
        written += store.search.write_index(&indexed).await.unwrap();
    }
}

fn query(viewer: &str, terms: &[&str], order: SearchOrder) -> SearchQuery {
    SearchQuery {
        viewer_id: u(viewer),
        terms: terms.iter().map(|t| (*t).to_owned()).collect(),
        prefix_last: false,
        conversation_id: None,
        excluded: Vec::new(),
        order,
        before_doc: None,
        offset: 0,
        limit: 50,
    }
}

async fn found(store: &Store, q: &SearchQuery) -> Vec<String> {
    store
        .search
        .search(q)
        .await
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.message.id)
        .collect()
}

async fn conversation(store: &Store, id: &str, kind: ConversationKind, members: &[&str]) {
    let record = ConversationRecord {
        id: id.into(),
        kind,
        name: None,
        last_seq: 0,
        created_at: now(),
        members_version: 0,
    };
    let members: Vec<_> = members.iter().map(|m| (u(m), Role::Member)).collect();
    let pair = (kind == ConversationKind::Direct).then(|| (&members[0].0, &members[1].0));
    store
        .messages
        .create_conversation(&record, &members, pair)
        .await
        .unwrap();
}

async fn search_index(store: Store) {
    two_users(&store).await;
    conversation(&store, "c1", ConversationKind::Direct, &["t", "v"]).await;
    conversation(&store, "g", ConversationKind::Group, &["t", "v"]).await;
    store
        .attachments
        .create(&AttachmentRecord {
            id: "a1".into(),
            owner_id: "v".into(),
            sha256: "00".into(),
            size: 1,
            content_type: "application/pdf".into(),
            filename: Some("Budget 2025.pdf".into()),
            thumbnail_sha: None,
            thumbnail_type: None,
            width: None,
            height: None,
            created_at: Utc::now(),
        })
        .await
        .unwrap();
    let text = |id: &str, conv: &str, from: &str, words: &str| {
        let mut m = message(id, conv, from, id);
        m.text = Some(words.into());
        m
    };
    let mut file = text("m3", "c1", "v", "the quarterly numbers");
    file.kind = MessageKind::File;
    file.attachment_id = Some("a1".into());
    let mut sticker = text("m4", "c1", "v", "pack/apple");
    sticker.kind = MessageKind::Sticker;
    let batch = vec![
        (text("m1", "c1", "t", "apple pie tonight"), vec![]),
        (text("m2", "c1", "v", "apple juice"), vec![]),
        (file, vec![]),
        (sticker, vec![]),
        (text("m5", "g", "v", "apple in the group"), vec![u("t")]),
        (text("m6", "g", "t", "apple again"), vec![]),
    ];
    store.messages.append_batch(&batch).await.unwrap();
    assert_eq!(store.search.pending_count().await.unwrap(), 5, "no sticker");
    assert_eq!(index_all(&store).await, 5);
    assert_eq!(store.search.pending_count().await.unwrap(), 0);

    // Newest first; m5 is withheld from t.
    assert_eq!(
        found(&store, &query("t", &["apple"], SearchOrder::Newest)).await,
        ["m6", "m2", "m1"]
    );
    assert_eq!(
        found(&store, &query("v", &["apple"], SearchOrder::Newest)).await,
        ["m6", "m5", "m2", "m1"]
    );
    // Every term; a file's name; nothing for words not there.
    assert_eq!(
        found(&store, &query("t", &["apple", "pie"], SearchOrder::Newest)).await,
        ["m1"]
    );
    assert_eq!(
        found(&store, &query("t", &["budget"], SearchOrder::Newest)).await,
        ["m3"]
    );
    let hit = store
        .search
        .search(&query("t", &["budget"], SearchOrder::Newest))
        .await
        .unwrap();
    assert_eq!(hit.hits[0].filename.as_deref(), Some("Budget 2025.pdf"));
    assert!(
        found(&store, &query("t", &["pack/apple"], SearchOrder::Newest))
            .await
            .is_empty()
    );
    // A prefix of the last term.
    let mut prefix = query("t", &["quarter"], SearchOrder::Newest);
    assert!(found(&store, &prefix).await.is_empty());
    prefix.prefix_last = true;
    assert_eq!(found(&store, &prefix).await, ["m3"]);

    // Paging newest first: below the last doc given.
    let mut page = query("t", &["apple"], SearchOrder::Newest);
    page.limit = 2;
    let first = store.search.search(&page).await.unwrap().hits;
    assert_eq!(first.len(), 2);
    page.before_doc = Some(first[1].doc);
    assert_eq!(found(&store, &page).await, ["m1"]);

    // Relevance ranks every match (a shorter message with the term ranks higher), pages
    // by offset under the first page's newest doc.
    let mut ranked = query("t", &["apple"], SearchOrder::Relevance);
    let all = store.search.search(&ranked).await.unwrap();
    let mut ids: Vec<String> = all.hits.iter().map(|h| h.message.id.clone()).collect();
    ids.sort();
    assert_eq!(ids, ["m1", "m2", "m6"]);
    assert_eq!(all.top, Some(first[0].doc));
    ranked.limit = 1;
    ranked.offset = 2;
    ranked.before_doc = all.top;
    assert_eq!(
        found(&store, &ranked).await,
        [all.hits[2].message.id.clone()]
    );

    // One conversation; conversations left out.
    let mut one = query("t", &["apple"], SearchOrder::Newest);
    one.conversation_id = Some(c("c1"));
    assert_eq!(found(&store, &one).await, ["m2", "m1"]);
    let mut without = query("t", &["apple"], SearchOrder::Newest);
    without.excluded = vec![c("c1")];
    assert_eq!(found(&store, &without).await, ["m6"]);

    // Deleted for everyone: gone at once from results, and from the index when indexed.
    assert!(store.messages.delete_for_everyone("m2").await.unwrap());
    assert_eq!(
        found(&store, &query("t", &["apple"], SearchOrder::Newest)).await,
        ["m6", "m1"]
    );
    assert_eq!(store.search.pending_count().await.unwrap(), 1);
    index_all(&store).await;

    // An edit is indexed again, in place (its doc, so its place in "newest", stays).
    assert!(
        store
            .messages
            .edit("m1", "banana pie", now())
            .await
            .unwrap()
    );
    index_all(&store).await;
    assert_eq!(
        found(&store, &query("t", &["apple"], SearchOrder::Newest)).await,
        ["m6"]
    );
    assert_eq!(
        found(&store, &query("t", &["banana"], SearchOrder::Newest)).await,
        ["m1"]
    );

    // A message changed between the read of the queue and the write keeps its newer row.
    assert!(
        store
            .messages
            .edit("m6", "cherry again", now())
            .await
            .unwrap()
    );
    let docs = store.search.pending(10).await.unwrap();
    assert!(
        store
            .messages
            .edit("m6", "plum again", now())
            .await
            .unwrap()
    );
    let stale: Vec<IndexedDoc> = docs
        .into_iter()
        .map(|doc| IndexedDoc {
            doc,
            terms: vec!["cherry".into()],
        })
        .collect();
    assert_eq!(store.search.write_index(&stale).await.unwrap(), 0);
    assert_eq!(store.search.pending_count().await.unwrap(), 1);
    index_all(&store).await;
    assert!(
        found(&store, &query("t", &["cherry"], SearchOrder::Newest))
            .await
            .is_empty()
    );
    assert_eq!(
        found(&store, &query("t", &["plum"], SearchOrder::Newest)).await,
        ["m6"]
    );

    // Who left a conversation no longer searches it.
    store
        .messages
        .remove_member(&c("g"), &u("t"))
        .await
        .unwrap();
    assert!(
        found(&store, &query("t", &["plum"], SearchOrder::Newest))
            .await
            .is_empty()
    );
}

contract!(search_index);
