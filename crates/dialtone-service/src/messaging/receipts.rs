//! Receipts: when members' delivered or read marks move, who hears of it, decided in one
//! go for every mark that moved in the same commit. A busy group's members all ack each
//! message at about the same time; deciding each receipt alone cost a handful of queries
//! per member per message, deciding them together costs a handful per batch.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use dialtone_bus::{Event, EventBus};
use dialtone_core::privacy::Flow;
use dialtone_core::{ConversationId, ConversationKind, UserId};
use dialtone_store::{Store, UserRecord};

use crate::ServiceResult;
use crate::social::SocialService;

/// A member's mark that moved.
pub(crate) struct Moved {
    /// The member.
    pub actor: UserRecord,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Its kind.
    pub kind: ConversationKind,
    /// The mark's new seq.
    pub seq: u64,
    /// The read mark (else the delivered mark).
    pub read: bool,
}

/// Decides and announces receipts.
pub(crate) struct Receipts {
    store: Store,
    social: Arc<SocialService>,
    bus: Arc<dyn EventBus>,
}

impl Receipts {
    pub(crate) fn new(store: Store, social: Arc<SocialService>, bus: Arc<dyn EventBus>) -> Self {
        Self { store, social, bus }
    }

    /// Announces a receipt for each mark that moved, to those who get it: in a direct
    /// conversation the other member; in a group only the sender of the message at that
    /// seq, while still a member (as messengers do: every member hearing every member's
    /// receipts would be quadratic). Only where the privacy policy lets the receipt flow:
    /// the watcher accepts the member (their own lists) and may see them inside the
    /// conversation. Nothing is announced when nobody gets it.
    pub(crate) async fn announce(&self, moved: &[Moved]) -> ServiceResult<()> {
        let messages = &self.store.messages;
        // Who would get each receipt, before privacy.
        let mut group_senders: HashMap<(&str, u64), Option<UserId>> = HashMap::new();
        let mut direct_members: HashMap<&str, Vec<UserId>> = HashMap::new();
        let mut candidates: Vec<Vec<UserId>> = Vec::with_capacity(moved.len());
        for m in moved {
            let ids = if m.kind == ConversationKind::Group {
                let key = (m.conversation_id.as_str(), m.seq);
                match group_senders.get(&key) {
                    Some(sender) => sender.iter().cloned().collect(),
                    None => {
                        let mut sender = messages
                            .message_at(&m.conversation_id, m.seq)
                            .await?
                            .map(|message| message.sender_id);
                        if let Some(id) = &sender
                            && messages.member(&m.conversation_id, id).await?.is_none()
                        {
                            sender = None;
                        }
                        group_senders.insert(key, sender.clone());
                        sender.into_iter().collect()
                    }
                }
            } else {
                match direct_members.get(m.conversation_id.as_str()) {
                    Some(members) => members.clone(),
                    None => {
                        let members: Vec<UserId> = messages
                            .members(&m.conversation_id)
                            .await?
                            .into_iter()
                            .map(|member| member.user_id)
                            .collect();
                        direct_members.insert(&m.conversation_id, members.clone());
                        members
                    }
                }
            };
            candidates.push(ids.into_iter().filter(|id| *id != m.actor.id).collect());
        }
        // What each watcher may see of the members whose receipts they would get: one
        // privacy decision per watcher for all of them.
        let mut actors_of: HashMap<UserId, Vec<UserRecord>> = HashMap::new();
        for (m, ids) in moved.iter().zip(&candidates) {
            for id in ids {
                let actors = actors_of.entry(id.clone()).or_default();
                if !actors.iter().any(|a| a.id == m.actor.id) {
                    actors.push(m.actor.clone());
                }
            }
        }
        let watcher_ids: Vec<UserId> = actors_of.keys().cloned().collect();
        let mut may_see: HashSet<(UserId, UserId)> = HashSet::new();
        if !watcher_ids.is_empty() {
            for watcher in self.store.accounts.users_by_ids(&watcher_ids).await? {
                let actors = &actors_of[&watcher.id];
                let views = self
                    .social
                    .sources(&watcher, actors, Flow::Signal, true)
                    .await?;
                for actor in actors {
                    if views.get(&actor.id).is_some_and(|v| v.visible) {
                        may_see.insert((watcher.id.clone(), actor.id.clone()));
                    }
                }
            }
        }
        for (m, ids) in moved.iter().zip(candidates) {
            let to: Vec<UserId> = ids
                .into_iter()
                .filter(|id| may_see.contains(&(id.clone(), m.actor.id.clone())))
                .collect();
            if to.is_empty() {
                continue;
            }
            let event = Event::Receipt {
                conversation_id: m.conversation_id.clone(),
                phone: m.actor.phone.to_string(),
                seq: m.seq,
                read: m.read,
                to,
            };
            if let Err(e) = self.bus.publish(event).await {
                tracing::warn!(error = %e, "receipt not published");
            }
        }
        Ok(())
    }
}
