//! The calls' storage contract, on both engines: a call moves ringing → active → ended,
//! each move taken by exactly one of those racing for it.

use chrono::Duration;
use dialtone_core::{ConversationKind, Role};
use dialtone_store::{CallRecord, CallState, ConversationRecord, Store};

use super::{now, two_users, u};

fn call(id: &str, reaches: bool, at: chrono::DateTime<chrono::Utc>) -> CallRecord {
    CallRecord {
        id: id.into(),
        conversation_id: "c1".into(),
        caller_id: "t".into(),
        caller_session: "st".into(),
        callee_id: "v".into(),
        callee_session: None,
        media: "video".into(),
        state: CallState::Ringing,
        reaches,
        conference: false,
        node_id: "n1".into(),
        started_at: at,
        answered_at: None,
        ended_at: None,
        end_reason: None,
    }
}

async fn calls(store: Store) {
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
    store
        .messages
        .create_conversation(&conv, &members, Some((&u("t"), &u("v"))))
        .await
        .unwrap();
    let repo = &store.calls;
    let t0 = now();
    repo.create_call(&call("k1", true, t0)).await.unwrap();
    assert_eq!(repo.call("k1").await.unwrap(), Some(call("k1", true, t0)));
    assert_eq!(repo.call("nope").await.unwrap(), None);
    assert_eq!(
        repo.live_calls("t").await.unwrap(),
        vec![call("k1", true, t0)]
    );
    assert_eq!(
        repo.live_calls("v").await.unwrap(),
        vec![call("k1", true, t0)]
    );

    // Two devices race to take it: one wins.
    let later = now() + Duration::seconds(2);
    let (a, b) = tokio::join!(
        repo.accept_call("k1", "sv1", later),
        repo.accept_call("k1", "sv2", later)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.is_some() != b.is_some(), "exactly one device takes it");
    let taken = a.or(b).unwrap();
    assert_eq!(taken.state, CallState::Active);
    assert_eq!(taken.answered_at, Some(later));
    let device = taken.callee_session.clone().unwrap();
    assert!(device == "sv1" || device == "sv2");
    assert_eq!(repo.accept_call("k1", "sv3", later).await.unwrap(), None);

    // Ending gives the call as it was; a second end gets nothing.
    let end = later + Duration::seconds(60);
    let (x, y) = tokio::join!(
        repo.end_call("k1", "hung_up", end),
        repo.end_call("k1", "hung_up", end)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert!(x.is_some() != y.is_some(), "exactly one ends it");
    let before = x.or(y).unwrap();
    assert_eq!(before.state, CallState::Active);
    assert_eq!(before.callee_session.as_deref(), Some(device.as_str()));
    let ended = repo.call("k1").await.unwrap().unwrap();
    assert_eq!(ended.state, CallState::Ended);
    assert_eq!(ended.ended_at, Some(end));
    assert_eq!(ended.end_reason.as_deref(), Some("hung_up"));
    assert!(repo.live_calls("t").await.unwrap().is_empty());
    assert_eq!(repo.accept_call("k1", "sv1", end).await.unwrap(), None);

    // A call that may not reach its callee can be neither taken nor silenced again.
    repo.create_call(&call("k2", false, t0)).await.unwrap();
    assert_eq!(repo.accept_call("k2", "sv1", end).await.unwrap(), None);
    assert!(!repo.silence_call("k2").await.unwrap());
    repo.create_call(&call("k3", true, t0 + Duration::milliseconds(1)))
        .await
        .unwrap();
    assert!(repo.silence_call("k3").await.unwrap());
    assert_eq!(repo.accept_call("k3", "sv1", end).await.unwrap(), None);
    let silenced = repo.call("k3").await.unwrap().unwrap();
    assert!(!silenced.reaches);
    assert_eq!(silenced.state, CallState::Ringing);
    assert_eq!(
        repo.live_calls("v")
            .await
            .unwrap()
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>(),
        vec!["k2", "k3"]
    );
    // A group's conference: found by its conversation while it is not over.
    assert_eq!(repo.live_conference("c1").await.unwrap(), None);
    let mut conference = call("k4", true, t0 + Duration::milliseconds(2));
    conference.conference = true;
    conference.callee_id = String::new();
    conference.state = CallState::Active;
    repo.create_call(&conference).await.unwrap();
    assert_eq!(
        repo.live_conference("c1").await.unwrap(),
        Some(conference.clone())
    );
    assert_eq!(
        repo.live_conferences_of("v").await.unwrap(),
        vec![conference]
    );
    assert!(repo.live_conferences_of("nobody").await.unwrap().is_empty());
    repo.end_call("k4", "hung_up", end).await.unwrap().unwrap();
    assert_eq!(repo.live_conference("c1").await.unwrap(), None);
    assert!(repo.live_conferences_of("v").await.unwrap().is_empty());
    // A ringing call ends without an answer.
    let before = repo
        .end_call("k3", "no_answer", end)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.state, CallState::Ringing);
    assert_eq!(before.answered_at, None);
}

contract!(calls);
