//! Records and the repository of conversations and messages.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dialtone_core::{ConversationId, ConversationKind, MessageKind, Role, UserId};

use crate::StoreResult;

/// A conversation: a direct one between two users, or a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRecord {
    /// Opaque id.
    pub id: ConversationId,
    /// Direct or group.
    pub kind: ConversationKind,
    /// A group's name.
    pub name: Option<String>,
    /// The seq of its newest message (0 when empty).
    pub last_seq: u64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Moves on every change of members (0 when created; ignored by `create_conversation`).
    pub members_version: u64,
}

/// One member of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    /// The user.
    pub user_id: UserId,
    /// What the member may do.
    pub role: Role,
    /// Read up to this seq.
    pub read_seq: u64,
    /// Some device of the member acknowledged up to this seq.
    pub delivered_seq: u64,
}

/// Where a device stands in one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HighWater {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Its last seq.
    pub last_seq: u64,
    /// The highest seq the device acknowledged (0: none).
    pub acked_seq: u64,
}

/// What removing a member changed besides.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberRemoved {
    /// The member made admin because the last admin left (user id).
    pub promoted: Option<UserId>,
}

/// A message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// Opaque id.
    pub id: String,
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// Its place in the conversation, from 1, without gaps.
    pub seq: u64,
    /// Who sent it.
    pub sender_id: UserId,
    /// The sender's idempotency key.
    pub client_id: String,
    /// What it is.
    pub kind: MessageKind,
    /// Text (or a sticker's id).
    pub text: Option<String>,
    /// Attachment id.
    pub attachment_id: Option<String>,
    /// Id of the message this replies to.
    pub reply_to: Option<String>,
    /// When it was accepted.
    pub sent_at: DateTime<Utc>,
    /// When its text was last edited.
    pub edited_at: Option<DateTime<Utc>>,
    /// Deleted for everyone: text and attachment are gone.
    pub deleted: bool,
}

/// Conversations and messages.
#[async_trait]
pub trait MessageRepo: Send + Sync {
    /// Creates a conversation with its members (user id, role) in one transaction; for a
    /// direct one, `pair` (two user ids) must not have one yet (`Conflict`).
    async fn create_conversation(
        &self,
        conversation: &ConversationRecord,
        members: &[(UserId, Role)],
        pair: Option<(&UserId, &UserId)>,
    ) -> StoreResult<()>;
    /// The direct conversation of two users, if any.
    async fn direct_conversation(
        &self,
        a: &UserId,
        b: &UserId,
    ) -> StoreResult<Option<ConversationId>>;
    /// A conversation by id.
    async fn conversation(&self, id: &ConversationId) -> StoreResult<Option<ConversationRecord>>;
    /// The conversations a user is a member of, newest activity first.
    async fn conversations_of(&self, user_id: &UserId) -> StoreResult<Vec<ConversationRecord>>;
    /// The members of a conversation.
    async fn members(&self, conversation_id: &ConversationId) -> StoreResult<Vec<MemberRecord>>;
    /// One member of a conversation (one row, whatever the group's size), if a member.
    async fn member(
        &self,
        conversation_id: &ConversationId,
        user_id: &UserId,
    ) -> StoreResult<Option<MemberRecord>>;
    /// Adds members (existing ones are left as they are).
    async fn add_members(
        &self,
        conversation_id: &ConversationId,
        members: &[(UserId, Role)],
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Removes a member, in one transaction; `None` when they were not one. When the last
    /// admin goes, the longest-standing member left becomes admin (a group never stays
    /// without one), and is named in the answer.
    async fn remove_member(
        &self,
        conversation_id: &ConversationId,
        user_id: &UserId,
    ) -> StoreResult<Option<MemberRemoved>>;
    /// Appends a message with the next seq, withheld from `withheld` members, in one
    /// transaction. When the sender already sent this `client_id`, nothing is written and
    /// the first message comes back with `false`.
    async fn append(
        &self,
        message: &MessageRecord,
        withheld: &[UserId],
    ) -> StoreResult<(MessageRecord, bool)>;
    /// Appends several messages in one transaction (one commit, one sync: group commit),
    /// each exactly as `append` would, in order; the results in the same order. If the
    /// transaction fails, nothing of the batch is written.
    async fn append_batch(
        &self,
        batch: &[(MessageRecord, Vec<UserId>)],
    ) -> StoreResult<Vec<(MessageRecord, bool)>>;
    /// A page of messages `viewer` may see, in seq order: after `after`, before `before`,
    /// at most `limit` (the newest ones when only `before` or nothing is given).
    async fn messages(
        &self,
        conversation_id: &ConversationId,
        viewer_id: &UserId,
        after: Option<u64>,
        before: Option<u64>,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>>;
    /// One message by seq.
    async fn message_at(
        &self,
        conversation_id: &ConversationId,
        seq: u64,
    ) -> StoreResult<Option<MessageRecord>>;
    /// Members a message is withheld from.
    async fn withheld_from(&self, message_id: &str) -> StoreResult<Vec<UserId>>;
    /// Where a device stands in each of its user's conversations: (conversation id, last
    /// seq, the device's acked seq), for catch-up and the check for commits whose event
    /// never came.
    async fn high_water(&self, user_id: &UserId, session_id: &str) -> StoreResult<Vec<HighWater>>;
    /// A device's acked seq in one conversation of its user: 0 if none, or if the user is
    /// not a member (one row, for a conversation a connection meets for the first time).
    async fn acked(
        &self,
        user_id: &UserId,
        session_id: &str,
        conversation_id: &ConversationId,
    ) -> StoreResult<u64>;
    /// Records a device's acknowledgement (never moves back).
    async fn ack(
        &self,
        session_id: &str,
        conversation_id: &ConversationId,
        seq: u64,
    ) -> StoreResult<()>;
    /// Many devices' acknowledgements at once, in one transaction: for each
    /// `(session_id, user_id, conversation_id, seq)` whose user is a member, with the seq
    /// cut to the conversation's last, what `ack` and then `advance_mark(.., read: false,
    /// ..)` do. `None` for a user who is not a member (nothing written for them). A
    /// member's mark moves at most once per batch, to their highest ack in it: `moved` is
    /// set on the first ack carrying that seq.
    async fn ack_batch(&self, acks: &[DeviceAck]) -> StoreResult<Vec<Option<AckDone>>>;
    /// Moves a member's delivered or read mark forward; whether it moved.
    async fn advance_mark(
        &self,
        conversation_id: &ConversationId,
        user_id: &UserId,
        read: bool,
        seq: u64,
    ) -> StoreResult<bool>;
    /// A message by id.
    async fn message_by_id(
        &self,
        conversation_id: &ConversationId,
        id: &str,
    ) -> StoreResult<Option<MessageRecord>>;
    /// Replaces a message's text; whether it changed.
    async fn edit(&self, id: &str, text: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Deletes a message for everyone (text and attachment cleared); whether it changed.
    async fn delete_for_everyone(&self, id: &str) -> StoreResult<bool>;
    /// Renames a conversation.
    async fn rename(&self, conversation_id: &ConversationId, name: &str) -> StoreResult<()>;
    /// Messages after `seq` that `user_id` did not send and may see.
    async fn count_after(
        &self,
        conversation_id: &ConversationId,
        user_id: &UserId,
        seq: u64,
    ) -> StoreResult<u64>;
}

/// What one acknowledgement of `ack_batch` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckDone {
    /// The conversation's kind.
    pub kind: ConversationKind,
    /// The seq recorded: the one asked for, cut to the conversation's last.
    pub seq: u64,
    /// Whether the member's delivered mark moved.
    pub moved: bool,
}

/// One device's acknowledgement of a conversation up to a seq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAck {
    /// The device (session).
    pub session_id: String,
    /// Its user (whose delivered mark moves).
    pub user_id: UserId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Up to this seq.
    pub seq: u64,
}
