//! The SQL of calls.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{Dialect, SqlDb, ms, time};
use crate::{CallRecord, CallRepo, CallState, StoreError, StoreResult};

const COLUMNS: &str = "id, conversation_id, caller_id, caller_session, callee_id, \
     callee_session, media, state, reaches, conference, node_id, started_at, answered_at, \
     ended_at, end_reason";

#[derive(sqlx::FromRow)]
struct CallRow {
    id: String,
    conversation_id: String,
    caller_id: String,
    caller_session: String,
    callee_id: String,
    callee_session: Option<String>,
    media: String,
    state: String,
    reaches: bool,
    conference: bool,
    node_id: String,
    started_at: i64,
    answered_at: Option<i64>,
    ended_at: Option<i64>,
    end_reason: Option<String>,
}

impl CallRow {
    fn into_record(self) -> StoreResult<CallRecord> {
        Ok(CallRecord {
            state: CallState::parse(&self.state)
                .ok_or_else(|| StoreError::Corrupt(format!("call state {:?}", self.state)))?,
            started_at: time(self.started_at)?,
            answered_at: self.answered_at.map(time).transpose()?,
            ended_at: self.ended_at.map(time).transpose()?,
            id: self.id,
            conversation_id: self.conversation_id,
            caller_id: self.caller_id,
            caller_session: self.caller_session,
            callee_id: self.callee_id,
            callee_session: self.callee_session,
            media: self.media,
            reaches: self.reaches,
            conference: self.conference,
            node_id: self.node_id,
            end_reason: self.end_reason,
        })
    }
}

#[async_trait]
impl<D> CallRepo for SqlDb<D>
where
    D: Dialect,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> D::Arguments<'q>: IntoArguments<'q, D>,
    for<'q> &'q str: Encode<'q, D>,
    for<'q> Option<&'q str>: Encode<'q, D>,
    str: Type<D>,
    for<'q, 'r> String: Encode<'q, D> + Decode<'r, D> + Type<D>,
    for<'q, 'r> Option<String>: Encode<'q, D> + Decode<'r, D>,
    for<'q, 'r> i64: Encode<'q, D> + Decode<'r, D> + Type<D>,
    for<'q, 'r> Option<i64>: Encode<'q, D> + Decode<'r, D>,
    for<'q, 'r> bool: Encode<'q, D> + Decode<'r, D> + Type<D>,
    usize: ColumnIndex<D::Row>,
    for<'a> &'a str: ColumnIndex<D::Row>,
{
    async fn create_call(&self, c: &CallRecord) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO calls ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ))
        .bind(c.id.as_str())
        .bind(c.conversation_id.as_str())
        .bind(c.caller_id.as_str())
        .bind(c.caller_session.as_str())
        .bind(c.callee_id.as_str())
        .bind(c.callee_session.as_deref())
        .bind(c.media.as_str())
        .bind(c.state.as_str())
        .bind(c.reaches)
        .bind(c.conference)
        .bind(c.node_id.as_str())
        .bind(ms(c.started_at))
        .bind(c.answered_at.map(ms))
        .bind(c.ended_at.map(ms))
        .bind(c.end_reason.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn call(&self, id: &str) -> StoreResult<Option<CallRecord>> {
        sqlx::query_as::<_, CallRow>(&format!("SELECT {COLUMNS} FROM calls WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(CallRow::into_record)
            .transpose()
    }

    async fn accept_call(
        &self,
        id: &str,
        session: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<CallRecord>> {
        sqlx::query_as::<_, CallRow>(&format!(
            "UPDATE calls SET state = 'active', callee_session = $2, answered_at = $3 \
             WHERE id = $1 AND state = 'ringing' AND reaches = $4 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(session)
        .bind(ms(at))
        .bind(true)
        .fetch_optional(&self.pool)
        .await?
        .map(CallRow::into_record)
        .transpose()
    }

    async fn end_call(
        &self,
        id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<CallRecord>> {
        // The row as it was just before the change: whoever ends it learns whether it was
        // answered, and by which device. The change is made only if the call is still as
        // read (a compare-and-swap on its state); if it moved meanwhile (taken between the
        // read and the change), it is read again.
        for _ in 0..4 {
            let before = sqlx::query_as::<_, CallRow>(&format!(
                "SELECT {COLUMNS} FROM calls WHERE id = $1 AND state <> 'ended'"
            ))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
            let Some(before) = before else {
                return Ok(None);
            };
            let done = sqlx::query(
                "UPDATE calls SET state = 'ended', ended_at = $2, end_reason = $3 \
                 WHERE id = $1 AND state = $4",
            )
            .bind(id)
            .bind(ms(at))
            .bind(reason)
            .bind(before.state.as_str())
            .execute(&self.pool)
            .await?;
            if D::rows_affected(&done) == 1 {
                return before.into_record().map(Some);
            }
        }
        Ok(None)
    }

    async fn silence_call(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE calls SET reaches = $2 WHERE id = $1 AND state = 'ringing' AND reaches = $3",
        )
        .bind(id)
        .bind(false)
        .bind(true)
        .execute(&self.pool)
        .await?;
        Ok(D::rows_affected(&done) == 1)
    }

    async fn live_conferences_of(&self, user_id: &str) -> StoreResult<Vec<CallRecord>> {
        let columns = COLUMNS
            .split(", ")
            .map(|c| format!("c.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query_as::<_, CallRow>(&format!(
            "SELECT {columns} FROM calls c JOIN conversation_members m \
             ON m.conversation_id = c.conversation_id AND m.user_id = $1 \
             WHERE c.conference = $2 AND c.state <> 'ended' ORDER BY c.started_at, c.id"
        ))
        .bind(user_id)
        .bind(true)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(CallRow::into_record)
        .collect()
    }

    async fn live_conference(&self, conversation_id: &str) -> StoreResult<Option<CallRecord>> {
        sqlx::query_as::<_, CallRow>(&format!(
            "SELECT {COLUMNS} FROM calls WHERE conversation_id = $1 AND conference = $2 \
             AND state <> 'ended' ORDER BY started_at, id LIMIT 1"
        ))
        .bind(conversation_id)
        .bind(true)
        .fetch_optional(&self.pool)
        .await?
        .map(CallRow::into_record)
        .transpose()
    }

    async fn live_calls(&self, user_id: &str) -> StoreResult<Vec<CallRecord>> {
        sqlx::query_as::<_, CallRow>(&format!(
            "SELECT {COLUMNS} FROM calls WHERE caller_id = $1 AND state <> 'ended' \
             UNION ALL SELECT {COLUMNS} FROM calls WHERE callee_id = $1 AND state <> 'ended' \
             ORDER BY started_at, id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(CallRow::into_record)
        .collect()
    }
}
