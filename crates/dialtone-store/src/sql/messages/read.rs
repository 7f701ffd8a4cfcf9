//! Reading messages.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{MESSAGE_COLUMNS, MessageRow, records, seq, signed};
use crate::sql::{Dialect, SqlDb};
use dialtone_core::UserId;

use crate::{MessageRecord, StoreResult};

/// Messages the viewer ($2) may see: not withheld from them.
const VISIBLE_TO: &str =
    "NOT EXISTS (SELECT 1 FROM withheld w WHERE w.message_id = m.id AND w.user_id = $2)";

impl<D> SqlDb<D>
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
    /// See [`MessageRepo::messages`].
    pub(super) async fn messages(
        &self,
        conversation_id: &str,
        viewer_id: &str,
        after: Option<u64>,
        before: Option<u64>,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>> {
        // Forward from `after`; otherwise the newest before `before`, reversed.
        let forward = after.is_some();
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = $1 \
             AND {VISIBLE_TO} AND m.seq > $3 AND m.seq < $4 \
             ORDER BY m.seq {} LIMIT $5",
            if forward { "ASC" } else { "DESC" }
        );
        let mut rows = sqlx::query_as::<_, MessageRow>(&sql)
            .bind(conversation_id)
            .bind(viewer_id)
            .bind(signed(after.unwrap_or(0)))
            .bind(signed(before.unwrap_or(u64::MAX)))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        if !forward {
            rows.reverse();
        }
        records(rows)
    }

    /// See [`MessageRepo::message_at`].
    pub(super) async fn message_at(
        &self,
        conversation_id: &str,
        at: u64,
    ) -> StoreResult<Option<MessageRecord>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = $1 \
             AND m.seq = $2"
        );
        sqlx::query_as::<_, MessageRow>(&sql)
            .bind(conversation_id)
            .bind(signed(at))
            .fetch_optional(&self.pool)
            .await?
            .map(MessageRow::into_record)
            .transpose()
    }

    /// See [`MessageRepo::message_by_id`].
    pub(super) async fn message_by_id(
        &self,
        conversation_id: &str,
        id: &str,
    ) -> StoreResult<Option<MessageRecord>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = $1 \
             AND m.id = $2"
        );
        sqlx::query_as::<_, MessageRow>(&sql)
            .bind(conversation_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(MessageRow::into_record)
            .transpose()
    }

    /// See [`MessageRepo::withheld_from`].
    pub(super) async fn withheld_from(&self, message_id: &str) -> StoreResult<Vec<UserId>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT user_id FROM withheld WHERE message_id = $1")
                .bind(message_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(u,)| u.into()).collect())
    }

    /// See [`MessageRepo::count_after`].
    pub(super) async fn count_after(
        &self,
        conversation_id: &str,
        user_id: &str,
        after: u64,
    ) -> StoreResult<u64> {
        let sql = format!(
            "SELECT COUNT(*) FROM messages m WHERE m.conversation_id = $1 \
             AND {VISIBLE_TO} AND m.sender_id <> $2 AND m.seq > $3"
        );
        let (n,): (i64,) = sqlx::query_as(&sql)
            .bind(conversation_id)
            .bind(user_id)
            .bind(signed(after))
            .fetch_one(&self.pool)
            .await?;
        Ok(seq(n))
    }
}
