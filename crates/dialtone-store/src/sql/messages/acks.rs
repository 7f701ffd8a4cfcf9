//! Devices' acknowledgements and members' delivered and read marks.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use std::collections::HashMap;

use super::{ROWS_PER_STATEMENT, rows, seq, signed};
use dialtone_core::{ConversationId, ConversationKind, UserId};

use crate::sql::{CHUNK, Dialect, SqlDb, placeholders, word};
use crate::{AckDone, DeviceAck, HighWater, StoreResult};

/// A device's acknowledgement ($1 session, $2 conversation, $3 seq); it never moves back.
const DEVICE_ACK: &str = "INSERT INTO device_acks (session_id, conversation_id, acked_seq) \
     VALUES ($1, $2, $3) ON CONFLICT (session_id, conversation_id) DO UPDATE \
     SET acked_seq = CASE WHEN excluded.acked_seq > device_acks.acked_seq \
     THEN excluded.acked_seq ELSE device_acks.acked_seq END";

/// Moves a member's delivered or read mark ($2 conversation, $3 user) forward to $1.
fn advance_mark_sql(read: bool) -> String {
    let column = if read { "read_seq" } else { "delivered_seq" };
    format!(
        "UPDATE conversation_members SET {column} = $1 \
         WHERE conversation_id = $2 AND user_id = $3 AND {column} < $1"
    )
}

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
    /// See [`MessageRepo::high_water`].
    pub(super) async fn high_water(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> StoreResult<Vec<HighWater>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT c.id, c.last_seq, COALESCE(a.acked_seq, 0) \
             FROM conversation_members cm \
             JOIN conversations c ON c.id = cm.conversation_id \
             LEFT JOIN device_acks a ON a.conversation_id = c.id AND a.session_id = $2 \
             WHERE cm.user_id = $1 ORDER BY c.id",
        )
        .bind(user_id)
        .bind(session_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(conversation_id, last, acked)| HighWater {
                conversation_id: conversation_id.into(),
                last_seq: seq(last),
                acked_seq: seq(acked),
            })
            .collect())
    }

    /// See [`MessageRepo::acked`].
    pub(super) async fn acked(
        &self,
        user_id: &str,
        session_id: &str,
        conversation_id: &str,
    ) -> StoreResult<u64> {
        let acked: Option<(i64,)> = sqlx::query_as(
            "SELECT COALESCE(a.acked_seq, 0) FROM conversation_members cm \
             LEFT JOIN device_acks a ON a.conversation_id = cm.conversation_id \
             AND a.session_id = $2 \
             WHERE cm.user_id = $1 AND cm.conversation_id = $3",
        )
        .bind(user_id)
        .bind(session_id)
        .bind(conversation_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(acked.map_or(0, |(a,)| seq(a)))
    }

    /// See [`MessageRepo::ack`].
    pub(super) async fn ack(
        &self,
        session_id: &str,
        conversation_id: &str,
        at: u64,
    ) -> StoreResult<()> {
        sqlx::query(DEVICE_ACK)
            .bind(session_id)
            .bind(conversation_id)
            .bind(signed(at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// See [`MessageRepo::ack_batch`].
    pub(super) async fn ack_batch(&self, acks: &[DeviceAck]) -> StoreResult<Vec<Option<AckDone>>> {
        // Set-based, so a batch holds the write lock for a few statements whatever
        // its size (a 1,000-member group acks each message at about once).
        let mut tx = self.batches.begin_with(D::BEGIN_BATCH).await?;
        // Members and their conversations' kind and last seq.
        let mut conversations: Vec<&str> =
            acks.iter().map(|a| a.conversation_id.as_str()).collect();
        conversations.sort_unstable();
        conversations.dedup();
        let mut found: HashMap<(ConversationId, UserId), (ConversationKind, u64)> = HashMap::new();
        for chunk in conversations.chunks(CHUNK) {
            let sql = format!(
                "SELECT cm.conversation_id, cm.user_id, c.kind, c.last_seq \
                 FROM conversation_members cm \
                 JOIN conversations c ON c.id = cm.conversation_id \
                 WHERE cm.conversation_id IN ({})",
                placeholders(1, chunk.len())
            );
            let sql = D::batch_statement(sql);
            let mut query = sqlx::query_as::<_, (String, String, String, i64)>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for (conversation, user, kind, last) in query.fetch_all(&mut *tx).await? {
                found.insert(
                    (conversation.into(), user.into()),
                    (word(&kind)?, seq(last)),
                );
            }
        }
        // Each member's ack, cut to the last seq; the highest per device and per
        // member (one row each in a statement).
        let mut done: Vec<Option<AckDone>> = Vec::with_capacity(acks.len());
        let mut devices: HashMap<(&str, &str), u64> = HashMap::new();
        let mut marks: HashMap<(&str, &str), u64> = HashMap::new();
        for ack in acks {
            let key = (ack.conversation_id.clone(), ack.user_id.clone());
            let Some((kind, last)) = found.get(&key) else {
                done.push(None);
                continue;
            };
            let at = ack.seq.min(*last);
            let device = devices
                .entry((ack.session_id.as_str(), ack.conversation_id.as_str()))
                .or_insert(at);
            *device = (*device).max(at);
            let mark = marks
                .entry((ack.conversation_id.as_str(), ack.user_id.as_str()))
                .or_insert(at);
            *mark = (*mark).max(at);
            done.push(Some(AckDone {
                kind: *kind,
                seq: at,
                moved: false,
            }));
        }
        // Rows in key order: concurrent batches lock them in the same order.
        let mut devices: Vec<((&str, &str), u64)> = devices.into_iter().collect();
        devices.sort_unstable();
        for chunk in devices.chunks(ROWS_PER_STATEMENT) {
            let rows = rows(chunk.len(), 3);
            let sql = format!(
                "INSERT INTO device_acks (session_id, conversation_id, acked_seq) \
                 VALUES {rows} ON CONFLICT (session_id, conversation_id) DO UPDATE \
                 SET acked_seq = CASE WHEN excluded.acked_seq > device_acks.acked_seq \
                 THEN excluded.acked_seq ELSE device_acks.acked_seq END"
            );
            let sql = D::batch_statement(sql);
            let mut query = sqlx::query(&sql);
            for ((session, conversation), at) in chunk {
                query = query.bind(*session).bind(*conversation).bind(signed(*at));
            }
            query.execute(&mut *tx).await?;
        }
        let mut marks: Vec<((&str, &str), u64)> = marks.into_iter().collect();
        marks.sort_unstable();
        let mut moved: HashMap<(ConversationId, UserId), u64> = HashMap::new();
        for chunk in marks.chunks(ROWS_PER_STATEMENT) {
            let rows = rows(chunk.len(), 3);
            let sql = format!(
                "UPDATE conversation_members SET delivered_seq = v.column3 \
                 FROM (VALUES {rows}) AS v \
                 WHERE conversation_members.conversation_id = v.column1 \
                 AND conversation_members.user_id = v.column2 \
                 AND conversation_members.delivered_seq < v.column3 \
                 RETURNING conversation_members.conversation_id, \
                 conversation_members.user_id, conversation_members.delivered_seq"
            );
            let sql = D::batch_statement(sql);
            let mut query = sqlx::query_as::<_, (String, String, i64)>(&sql);
            for ((conversation, user), at) in chunk {
                query = query.bind(*conversation).bind(*user).bind(signed(*at));
            }
            for (conversation, user, at) in query.fetch_all(&mut *tx).await? {
                moved.insert((conversation.into(), user.into()), seq(at));
            }
        }
        tx.commit().await?;
        // The mark moved for the first ack that carried the seq it moved to.
        for (ack, done) in acks.iter().zip(done.iter_mut()) {
            let Some(done) = done else { continue };
            let key = (ack.conversation_id.clone(), ack.user_id.clone());
            if moved.get(&key) == Some(&done.seq) {
                done.moved = true;
                moved.remove(&key);
            }
        }
        Ok(done)
    }

    /// See [`MessageRepo::advance_mark`].
    pub(super) async fn advance_mark(
        &self,
        conversation_id: &str,
        user_id: &str,
        read: bool,
        at: u64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(&advance_mark_sql(read))
            .bind(signed(at))
            .bind(conversation_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(D::rows_affected(&done) > 0)
    }
}
