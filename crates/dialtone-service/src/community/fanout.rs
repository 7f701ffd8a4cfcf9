//! The live feed's fan-out: who, among those following an item's owner (the owner's
//! number in their book, not hidden), may see a newly published item, and the
//! `feed_item` event to them. One worker per process takes items in the order they were
//! published, so followers hear of them in that order; publishing only queues (a post is
//! one row whatever the number of followers, and the poster does not wait for the
//! decision about thousands of them).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dialtone_bus::{Event, EventBus};
use dialtone_core::privacy::{Flow, ItemFacts, View, sees_item};
use dialtone_core::{PhoneNumber, UserId};
use dialtone_store::{ItemRecord, Store, UserRecord};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::ServiceResult;
use crate::social::SocialService;

/// Items waiting for their fan-out before publishing waits for room.
const QUEUE: usize = 10_000;

/// The queue of published items and its worker.
pub(crate) struct FeedFanout {
    sender: Mutex<Option<mpsc::Sender<(UserRecord, ItemRecord)>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl FeedFanout {
    /// Starts the worker.
    pub(crate) fn start(store: Store, social: Arc<SocialService>, bus: Arc<dyn EventBus>) -> Self {
        let (sender, mut items) = mpsc::channel::<(UserRecord, ItemRecord)>(QUEUE);
        let worker = tokio::spawn(async move {
            while let Some((owner, item)) = items.recv().await {
                match followers_who_see(&store, &social, &owner, &item).await {
                    Ok(to) => {
                        let event = Event::FeedItem {
                            to,
                            item: Arc::new(dialtone_protocol::FeedItem {
                                item_id: item.id.clone(),
                                kind: item.kind.as_str().to_owned(),
                                owner: owner.phone.to_string(),
                            }),
                        };
                        if let Err(e) = bus.publish(event).await {
                            tracing::warn!(error = %e, "feed item not published");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e.report(), "feed audience not decided"),
                }
            }
        });
        Self {
            sender: Mutex::new(Some(sender)),
            worker: Mutex::new(Some(worker)),
        }
    }

    /// Queues a published item (after the service stopped, nothing is announced).
    pub(crate) async fn push(&self, owner: UserRecord, item: ItemRecord) {
        let sender = self.sender.lock().ok().and_then(|s| s.clone());
        if let Some(sender) = sender
            && sender.send((owner, item)).await.is_err()
        {
            tracing::warn!("feed fan-out stopped; item not announced");
        }
    }

    /// Closes the queue and waits, at most `bound`, for what is in it; whether it ended.
    pub(crate) async fn finish(&self, bound: Duration) -> bool {
        drop(self.sender.lock().ok().and_then(|mut s| s.take()));
        let worker = self.worker.lock().ok().and_then(|mut w| w.take());
        match worker {
            Some(worker) => tokio::time::timeout(bound, worker).await.is_ok(),
            None => true,
        }
    }
}

/// Who, among those following `owner`, may see `item`: the owner and every follower the
/// policy lets see it, decided from each follower's side too.
async fn followers_who_see(
    store: &Store,
    social: &SocialService,
    owner: &UserRecord,
    item: &ItemRecord,
) -> ServiceResult<Vec<UserId>> {
    let watchers: Vec<UserId> = social
        .watchers_of(&owner.phone)
        .await?
        .into_iter()
        .filter(|(_, hidden)| !hidden)
        .map(|(id, _)| id.into())
        .collect();
    let users = store.accounts.users_by_ids(&watchers).await?;
    let views = social.audience(owner, &users, Flow::Signal, false).await?;
    let named = named_numbers(store, owner, item).await?;
    let mut to = vec![owner.id.clone()];
    for user in users {
        let view = views.get(&user.id).copied().unwrap_or(View::UNREGISTERED);
        let facts = ItemFacts {
            own: user.id == owner.id,
            audience: item.audience,
            named: named.contains(&user.phone),
            within_window: true,
        };
        if user.id != owner.id && sees_item(view, &facts) {
            to.push(user.id);
        }
    }
    Ok(to)
}

/// Every number an item names: its people and the members of its groups.
async fn named_numbers(
    store: &Store,
    owner: &UserRecord,
    item: &ItemRecord,
) -> ServiceResult<HashSet<PhoneNumber>> {
    let mut named: HashSet<PhoneNumber> = item.people.iter().cloned().collect();
    for group in &item.groups {
        if let Some(g) = store.privacy.group(&owner.id, group).await? {
            named.extend(g.phones);
        }
    }
    Ok(named)
}
