//! The SQL of conversations and messages. [`MessageRepo`] is implemented by forwarding to
//! the inherent methods of the same names, one file per part: [`conversations`] and their
//! members, [`append`] (seqs and the group commit), [`read`], [`acks`] (devices' acks and
//! members' marks), [`edit`].

mod acks;
mod append;
mod conversations;
mod edit;
mod index;
mod read;
mod search;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dialtone_core::{ConversationId, Role, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{Dialect, SqlDb, time, word};
use crate::{
    AckDone, ConversationRecord, DeviceAck, HighWater, MemberRecord, MemberRemoved, MessageRecord,
    MessageRepo, StoreResult,
};

fn seq(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: String,
    conversation_id: String,
    seq: i64,
    sender_id: String,
    client_id: String,
    kind: String,
    text: Option<String>,
    attachment_id: Option<String>,
    reply_to: Option<String>,
    sent_at: i64,
    edited_at: Option<i64>,
    deleted: bool,
}

impl MessageRow {
    fn into_record(self) -> StoreResult<MessageRecord> {
        Ok(MessageRecord {
            sent_at: time(self.sent_at)?,
            edited_at: self.edited_at.map(time).transpose()?,
            deleted: self.deleted,
            seq: seq(self.seq),
            id: self.id,
            conversation_id: self.conversation_id.into(),
            sender_id: self.sender_id.into(),
            client_id: self.client_id,
            kind: word(&self.kind)?,
            text: self.text,
            attachment_id: self.attachment_id,
            reply_to: self.reply_to,
        })
    }
}

fn records(rows: Vec<MessageRow>) -> StoreResult<Vec<MessageRecord>> {
    rows.into_iter().map(MessageRow::into_record).collect()
}

const MESSAGE_COLUMNS: &str = "m.id, m.conversation_id, m.seq, m.sender_id, m.client_id, m.kind, \
     m.text, m.attachment_id, m.reply_to, m.sent_at, m.edited_at, m.deleted";

/// Rows in one multi-row statement of a batch (3 parameters each: well under both
/// engines' parameter limits).
const ROWS_PER_STATEMENT: usize = 300;

/// `n` rows of `width` parameters for a multi-row `VALUES`: `($1, $2), ($3, $4)`.
fn rows(n: usize, width: usize) -> String {
    (0..n)
        .map(|r| {
            let row: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait]
impl<D> MessageRepo for SqlDb<D>
where
    D: Dialect,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> D::Arguments<'q>: IntoArguments<'q, D>,
    for<'q> &'q str: Encode<'q, D>,
    for<'q> Option<&'q str>: Encode<'q, D>,
    str: Type<D>,
    for<'q, 'r> String: Encode<'q, D> + Decode<'r, D> + Type<D>,
    for<'q> Option<String>: Encode<'q, D>,
    for<'q, 'r> i64: Encode<'q, D> + Decode<'r, D> + Type<D>,
    for<'q> Option<i64>: Encode<'q, D>,
    for<'q, 'r> bool: Encode<'q, D> + Decode<'r, D> + Type<D>,
    usize: ColumnIndex<D::Row>,
    for<'a> &'a str: ColumnIndex<D::Row>,
{
    async fn create_conversation(
        &self,
        c: &ConversationRecord,
        members: &[(UserId, Role)],
        pair: Option<(&UserId, &UserId)>,
    ) -> StoreResult<()> {
        let pair = pair.map(|(a, b)| (a.as_str(), b.as_str()));
        self.create_conversation(c, members, pair).await
    }

    async fn direct_conversation(
        &self,
        a: &UserId,
        b: &UserId,
    ) -> StoreResult<Option<ConversationId>> {
        Ok(self
            .direct_conversation(a, b)
            .await?
            .map(ConversationId::from))
    }

    async fn conversation(&self, id: &ConversationId) -> StoreResult<Option<ConversationRecord>> {
        self.conversation(id).await
    }

    async fn conversations_of(&self, user_id: &UserId) -> StoreResult<Vec<ConversationRecord>> {
        self.conversations_of(user_id).await
    }

    async fn members(&self, conversation_id: &ConversationId) -> StoreResult<Vec<MemberRecord>> {
        self.members(conversation_id).await
    }

    async fn member(
        &self,
        conversation_id: &ConversationId,
        user_id: &UserId,
    ) -> StoreResult<Option<MemberRecord>> {
        self.member(conversation_id, user_id).await
    }

    async fn add_members(
        &self,
        conversation_id: &ConversationId,
        members: &[(UserId, Role)],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.add_members(conversation_id, members, at).await
    }

    async fn remove_member(
        &self,
        conversation_id: &ConversationId,
        user_id: &UserId,
    ) -> StoreResult<Option<MemberRemoved>> {
        self.remove_member(conversation_id, user_id).await
    }

    async fn append(
        &self,
        m: &MessageRecord,
        withheld: &[UserId],
    ) -> StoreResult<(MessageRecord, bool)> {
        self.append(m, withheld).await
    }

    async fn append_batch(
        &self,
        batch: &[(MessageRecord, Vec<UserId>)],
    ) -> StoreResult<Vec<(MessageRecord, bool)>> {
        self.append_batch(batch).await
    }

    async fn messages(
        &self,
        conversation_id: &ConversationId,
        viewer_id: &UserId,
        after: Option<u64>,
        before: Option<u64>,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>> {
        self.messages(conversation_id, viewer_id, after, before, limit)
            .await
    }

    async fn message_at(
        &self,
        conversation_id: &ConversationId,
        at: u64,
    ) -> StoreResult<Option<MessageRecord>> {
        self.message_at(conversation_id, at).await
    }

    async fn withheld_from(&self, message_id: &str) -> StoreResult<Vec<UserId>> {
        self.withheld_from(message_id).await
    }

    async fn high_water(&self, user_id: &UserId, session_id: &str) -> StoreResult<Vec<HighWater>> {
        self.high_water(user_id, session_id).await
    }

    async fn acked(
        &self,
        user_id: &UserId,
        session_id: &str,
        conversation_id: &ConversationId,
    ) -> StoreResult<u64> {
        self.acked(user_id, session_id, conversation_id).await
    }

    async fn ack(
        &self,
        session_id: &str,
        conversation_id: &ConversationId,
        at: u64,
    ) -> StoreResult<()> {
        self.ack(session_id, conversation_id, at).await
    }

    async fn ack_batch(&self, acks: &[DeviceAck]) -> StoreResult<Vec<Option<AckDone>>> {
        self.ack_batch(acks).await
    }

    async fn advance_mark(
        &self,
        conversation_id: &ConversationId,
        user_id: &UserId,
        read: bool,
        at: u64,
    ) -> StoreResult<bool> {
        self.advance_mark(conversation_id, user_id, read, at).await
    }

    async fn message_by_id(
        &self,
        conversation_id: &ConversationId,
        id: &str,
    ) -> StoreResult<Option<MessageRecord>> {
        self.message_by_id(conversation_id, id).await
    }

    async fn edit(&self, id: &str, text: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        self.edit(id, text, at).await
    }

    async fn delete_for_everyone(&self, id: &str) -> StoreResult<bool> {
        self.delete_for_everyone(id).await
    }

    async fn rename(&self, conversation_id: &ConversationId, name: &str) -> StoreResult<()> {
        self.rename(conversation_id, name).await
    }

    async fn count_after(
        &self,
        conversation_id: &ConversationId,
        user_id: &UserId,
        after: u64,
    ) -> StoreResult<u64> {
        self.count_after(conversation_id, user_id, after).await
    }
}
