//! Conversations and messages: direct and group conversations, sending with gap-free seqs
//! and idempotent retries, history, acknowledgements and receipts. Every send and every
//! fan-out asks the privacy policy (through [`SocialService`]): a message to someone who
//! may not be reached by its sender is stored (the sender gets 201 as usual) and withheld
//! from them, on every path, with no receipt.

mod changes;
mod commit;

pub use commit::WritersStopped;
mod conversations;
mod messages;
mod receipts;
mod search;

pub use search::{SearchCursor, SearchPage, SearchRequest, SearchResult};

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dialtone_bus::{Event, EventBus};
use dialtone_core::{Clock, ConversationId, PhoneNumber, UserId};
use dialtone_store::{ConversationRecord, Engine, MemberRecord, MessageRecord, Store, UserRecord};

pub use changes::{call_summary_of, system_event_of};
pub use conversations::ConversationView;
pub use dialtone_protocol::{Message, MessageKind, SystemAction, SystemEvent};
pub use messages::{MessageView, OutgoingMessage};

use crate::social::SocialService;
use crate::{ServiceError, ServiceResult};

/// Limits of conversations and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MessageLimits {
    /// Bytes of UTF-8 in a text message.
    pub max_text_bytes: usize,
    /// Members of a group, its creator included.
    pub max_group_members: usize,
    /// Messages in one history page.
    pub max_page: u32,
    /// Messages read per page when a device catches up on connecting (every message it
    /// has not acknowledged is sent, page after page) or fills a gap.
    pub catch_up: u32,
    /// Seconds after sending during which the sender may edit a message.
    pub edit_window_secs: u64,
    /// Seconds after sending during which the sender may delete it for everyone.
    pub delete_window_secs: u64,
}

impl Default for MessageLimits {
    fn default() -> Self {
        Self {
            max_text_bytes: 64 * 1024,
            max_group_members: 2_000,
            max_page: 200,
            catch_up: 1_000,
            edit_window_secs: 15 * 60,
            delete_window_secs: 2 * 24 * 3600,
        }
    }
}

/// The messaging use cases.
pub struct MessagingService {
    social: Arc<SocialService>,
    store: Store,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
    limits: MessageLimits,
    commits: commit::GroupCommit<commit::Appends>,
    acks: commit::GroupCommit<commit::Acks>,
    receipts: Arc<receipts::Receipts>,
    rosters: std::sync::Mutex<Rosters>,
    /// This process is the database's only writer (embedded SQLite), so a kept roster
    /// stays true until this service changes the conversation's members, which forgets it:
    /// sends use it without reading the conversation again.
    sole_writer: bool,
    /// Wakes the search indexer after a send or a change (it also looks by itself).
    search_wake: Arc<tokio::sync::Notify>,
    /// Taken by whoever stops the server (`writers_stopped`).
    writers_stopped: std::sync::Mutex<Option<WritersStopped>>,
    /// Pushes to devices that are not connected (Web Push), once attached.
    notify: std::sync::OnceLock<Arc<crate::notify::NotifyService>>,
}

/// Members of conversations with their accounts, as sending needs them, kept per
/// conversation under its members version. On PostgreSQL the version is read with the
/// conversation on every send, so a change made through any node is seen at the next
/// send; on SQLite (`sole_writer`) changes of members forget the conversation's roster
/// after they are written and before they return.
#[derive(Default)]
struct Rosters {
    by_conversation: HashMap<ConversationId, Arc<Roster>>,
    /// Members held in all, to bound the memory: past `ROSTER_MEMBERS_KEPT` it starts over.
    held: usize,
    /// Moves at every change of members: a roster read before one is not kept after it.
    generation: u64,
}

impl Rosters {
    fn remove(&mut self, conversation_id: &ConversationId) {
        if let Some(old) = self.by_conversation.remove(conversation_id) {
            self.held = self.held.saturating_sub(old.members.len());
        }
    }
}

/// Members held by the roster cache before it is emptied.
const ROSTER_MEMBERS_KEPT: usize = 200_000;

/// A conversation's members (their accounts, password hashes left out).
pub(crate) struct Roster {
    version: u64,
    pub(crate) members: Vec<UserRecord>,
}

impl MessagingService {
    /// Builds the service.
    pub fn new(
        social: Arc<SocialService>,
        store: Store,
        bus: Arc<dyn EventBus>,
        clock: Arc<dyn Clock>,
        limits: MessageLimits,
    ) -> Self {
        let (alive, writers_stopped) = tokio::sync::mpsc::channel(1);
        let commits = commit::GroupCommit::start(
            commit::Appends(store.messages.clone()),
            store.engine,
            &alive,
        );
        let receipts = Arc::new(receipts::Receipts::new(
            store.clone(),
            social.clone(),
            bus.clone(),
        ));
        let acks = commit::GroupCommit::start(
            commit::Acks {
                repo: store.messages.clone(),
                receipts: receipts.clone(),
            },
            store.engine,
            &alive,
        );
        Self {
            sole_writer: store.engine == Engine::Sqlite,
            social,
            store,
            bus,
            clock,
            limits,
            commits,
            acks,
            receipts,
            rosters: std::sync::Mutex::new(Rosters::default()),
            search_wake: Arc::new(tokio::sync::Notify::new()),
            writers_stopped: std::sync::Mutex::new(Some(commit::WritersStopped::new(
                writers_stopped,
            ))),
            notify: std::sync::OnceLock::new(),
        }
    }

    /// Pushes new messages and reads to devices that are not connected.
    pub fn attach_notify(&self, notify: Arc<crate::notify::NotifyService>) {
        let _ = self.notify.set(notify);
    }

    /// What resolves once this service's writers have ended (after the service is
    /// dropped); `None` after the first call.
    pub fn writers_stopped(&self) -> Option<WritersStopped> {
        self.writers_stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// The search indexer of this process, woken by this service's sends and changes
    /// (the server runs it until it stops).
    pub fn search_indexer(&self) -> crate::search::SearchIndexer {
        crate::search::SearchIndexer::new(self.store.search.clone(), self.search_wake.clone())
    }

    /// Tells the indexer that something was queued.
    fn queued_for_search(&self) {
        self.search_wake.notify_one();
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn announce(&self, event: Event) {
        if let Err(e) = self.bus.publish(event).await {
            tracing::warn!(error = %e, "event not published");
        }
    }

    /// A conversation by id, or "not found".
    pub(crate) async fn conversation_record(
        &self,
        conversation_id: &ConversationId,
    ) -> ServiceResult<ConversationRecord> {
        self.store
            .messages
            .conversation(conversation_id)
            .await?
            .ok_or(ServiceError::ConversationNotFound)
    }

    /// The conversation and the caller's membership; "not found" for non-members too, so
    /// ids of other people's conversations reveal nothing.
    async fn membership(
        &self,
        user: &UserRecord,
        conversation_id: &ConversationId,
    ) -> ServiceResult<(ConversationRecord, Vec<MemberRecord>, MemberRecord)> {
        let conversation = self.conversation_record(conversation_id).await?;
        let members = self.store.messages.members(conversation_id).await?;
        let me = members
            .iter()
            .find(|m| m.user_id == user.id)
            .cloned()
            .ok_or(ServiceError::ConversationNotFound)?;
        Ok((conversation, members, me))
    }

    /// The conversation and the caller's own membership row, in two one-row reads
    /// whatever the group's size (for the frequent calls: acks, read marks, typing);
    /// "not found" for non-members, as `membership`.
    async fn member_of(
        &self,
        user: &UserRecord,
        conversation_id: &ConversationId,
    ) -> ServiceResult<(ConversationRecord, MemberRecord)> {
        let me = self
            .store
            .messages
            .member(conversation_id, &user.id)
            .await?
            .ok_or(ServiceError::ConversationNotFound)?;
        let conversation = self.conversation_record(conversation_id).await?;
        Ok((conversation, me))
    }

    fn rosters(&self) -> std::sync::MutexGuard<'_, Rosters> {
        self.rosters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets the kept roster of a conversation whose members this service has just
    /// changed (called after the write, before the change returns).
    fn members_changed(&self, conversation_id: &ConversationId) {
        let mut rosters = self.rosters();
        rosters.generation += 1;
        rosters.remove(conversation_id);
    }

    /// The members of a conversation the caller is a member of ("not found" otherwise, as
    /// `membership`): while the members have not changed, one one-row read, or none at all
    /// when this process is the only writer.
    pub(crate) async fn roster(
        &self,
        user: &UserRecord,
        conversation_id: &ConversationId,
    ) -> ServiceResult<Arc<Roster>> {
        let roster = self.kept_roster(conversation_id).await?;
        Self::as_member(user, roster)
    }

    /// The members of a conversation, kept as `roster` explains, whoever asks.
    pub(crate) async fn kept_roster(
        &self,
        conversation_id: &ConversationId,
    ) -> ServiceResult<Arc<Roster>> {
        let generation = {
            let rosters = self.rosters();
            if self.sole_writer
                && let Some(roster) = rosters.by_conversation.get(conversation_id)
            {
                return Ok(roster.clone());
            }
            rosters.generation
        };
        let conversation = self.conversation_record(conversation_id).await?;
        let kept = self
            .rosters()
            .by_conversation
            .get(conversation_id)
            .filter(|r| r.version == conversation.members_version)
            .cloned();
        let roster = match kept {
            Some(roster) => roster,
            None => {
                // Read after the version: at least as new as it (if newer, the next send
                // sees another version and reads again).
                let ids = self.member_ids(conversation_id).await?;
                let mut users = self.users(&ids).await?;
                let members = ids.iter().filter_map(|id| users.remove(id)).collect();
                let roster = Arc::new(Roster {
                    version: conversation.members_version,
                    members,
                });
                let mut rosters = self.rosters();
                // Not kept if members changed while it was read (it may predate that).
                if rosters.generation == generation {
                    if rosters.held + roster.members.len() > ROSTER_MEMBERS_KEPT {
                        rosters.by_conversation.clear();
                        rosters.held = 0;
                    }
                    rosters.remove(conversation_id);
                    rosters.held += roster.members.len();
                    rosters
                        .by_conversation
                        .insert(conversation_id.clone(), roster.clone());
                }
                roster
            }
        };
        Ok(roster)
    }

    /// The roster, if `user` is in it; "not found" otherwise.
    fn as_member(user: &UserRecord, roster: Arc<Roster>) -> ServiceResult<Arc<Roster>> {
        if !roster.members.iter().any(|m| m.id == user.id) {
            return Err(ServiceError::ConversationNotFound);
        }
        Ok(roster)
    }

    /// The user ids of a conversation's members.
    async fn member_ids(&self, conversation_id: &ConversationId) -> ServiceResult<Vec<UserId>> {
        Ok(self
            .store
            .messages
            .members(conversation_id)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect())
    }

    /// Users by id, for the members of a conversation (one query per 500).
    async fn users(&self, ids: &[UserId]) -> ServiceResult<HashMap<UserId, UserRecord>> {
        Ok(self
            .store
            .accounts
            .users_by_ids(ids)
            .await?
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect())
    }

    /// The accounts of numbers `user` may reach cold (others look unregistered: left out).
    async fn reachable(
        &self,
        user: &UserRecord,
        phones: &[PhoneNumber],
    ) -> ServiceResult<Vec<UserRecord>> {
        let found = self.store.accounts.users_by_phones(phones).await?;
        let views = self.social.views_of(user, &found).await?;
        Ok(found
            .into_iter()
            .filter(|u| u.id != user.id && views.get(&u.id).is_some_and(|v| v.visible))
            .collect())
    }
}

/// A message as the contract shows it, over HTTP, on the bus and on sockets.
pub fn message_of(view: &MessageView) -> Message {
    let r = &view.record;
    let millis =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    Message {
        id: r.id.clone(),
        conversation_id: r.conversation_id.to_string(),
        seq: r.seq,
        sender: view.sender.to_string(),
        client_id: r.client_id.clone(),
        kind: r.kind,
        // A system or call message's text is its stored event, given as `system` or
        // `call` instead.
        text: r
            .text
            .clone()
            .filter(|_| !matches!(r.kind, MessageKind::System | MessageKind::Call)),
        system: system_event_of(r),
        call: call_summary_of(r),
        attachment: r.attachment_id.clone(),
        reply_to: r.reply_to.clone(),
        sent_at: millis(r.sent_at),
        edited_at: r.edited_at.map(millis),
        deleted: r.deleted,
    }
}

/// A message as its recipients see it (with the sender's number).
pub fn message_view(record: MessageRecord, sender: &UserRecord) -> MessageView {
    MessageView {
        sender: sender.phone.clone(),
        record,
    }
}
