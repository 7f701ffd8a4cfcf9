//! The SQL of conversations and messages, compiled for both engines like `sql.rs`.
//!
//! Seqs: `append_batch` (group commit; `append` is a batch of one) locks the batch's
//! conversations (the write lock on SQLite; their rows, in id order, on PostgreSQL), finds
//! retried client ids, moves each conversation's `last_seq` by its new messages and
//! inserts them, in one transaction and a few statements whatever the batch's size, so
//! concurrent senders get contiguous seqs and a retried send finds the first copy.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use std::collections::HashMap;

use crate::sql::{CHUNK, Dialect, PgDb, SqliteDb, ms, placeholders, time};
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
struct ConversationRow {
    id: String,
    kind: String,
    name: Option<String>,
    last_seq: i64,
    created_at: i64,
    members_version: i64,
}

impl ConversationRow {
    fn into_record(self) -> StoreResult<ConversationRecord> {
        Ok(ConversationRecord {
            created_at: time(self.created_at)?,
            last_seq: seq(self.last_seq),
            id: self.id,
            kind: self.kind,
            name: self.name,
            members_version: seq(self.members_version),
        })
    }
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
            conversation_id: self.conversation_id,
            sender_id: self.sender_id,
            client_id: self.client_id,
            kind: self.kind,
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

/// A device's acknowledgement ($1 session, $2 conversation, $3 seq); it never moves back.
const DEVICE_ACK: &str = "INSERT INTO device_acks (session_id, conversation_id, acked_seq) \
     VALUES ($1, $2, $3) ON CONFLICT (session_id, conversation_id) DO UPDATE \
     SET acked_seq = CASE WHEN excluded.acked_seq > device_acks.acked_seq \
     THEN excluded.acked_seq ELSE device_acks.acked_seq END";

/// Marks a change of a conversation's members ($1).
const BUMP_MEMBERS_VERSION: &str =
    "UPDATE conversations SET members_version = members_version + 1 WHERE id = $1";

/// Rows in one multi-row statement of a batch (3 parameters each: well under both
/// engines' parameter limits).
const ROWS_PER_STATEMENT: usize = 300;

/// What makes a retried send the same message: (conversation, sender, client id).
fn key(m: &MessageRecord) -> (&str, &str, &str) {
    (&m.conversation_id, &m.sender_id, &m.client_id)
}

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

/// Moves a member's delivered or read mark ($2 conversation, $3 user) forward to $1.
fn advance_mark_sql(read: bool) -> String {
    let column = if read { "read_seq" } else { "delivered_seq" };
    format!(
        "UPDATE conversation_members SET {column} = $1 \
         WHERE conversation_id = $2 AND user_id = $3 AND {column} < $1"
    )
}

/// Messages the viewer ($2) may see: not withheld from them.
const VISIBLE_TO: &str =
    "NOT EXISTS (SELECT 1 FROM withheld w WHERE w.message_id = m.id AND w.user_id = $2)";

macro_rules! impl_messaging {
    ($db:ty, $engine:ty) => {
        impl $db {
            /// Appends a batch inside `tx` in a few statements whatever its size: lock the
            /// conversations, find the messages sent before (a retried `client_id`), move
            /// each conversation's last seq by its new messages at once, insert them all.
            /// Results in batch order; seqs follow batch order within a conversation.
            async fn append_in(
                tx: &mut sqlx::Transaction<'_, $engine>,
                batch: &[(MessageRecord, Vec<String>)],
            ) -> StoreResult<Vec<(MessageRecord, bool)>> {
                let mut conversations: Vec<&str> =
                    batch.iter().map(|(m, _)| m.conversation_id.as_str()).collect();
                conversations.sort_unstable();
                conversations.dedup();
                if let Some(lock) = <$engine as Dialect>::LOCK_CONVERSATIONS {
                    // In id order, so concurrent batches (PostgreSQL has several writers)
                    // cannot deadlock on each other's conversations; held to the commit,
                    // so no other batch appends to them or inserts their client ids.
                    for chunk in conversations.chunks(CHUNK) {
                        let sql = lock.replace("IDS", &placeholders(1, chunk.len()));
                        let mut query = sqlx::query(&sql);
                        for id in chunk {
                            query = query.bind(*id);
                        }
                        query.execute(&mut **tx).await?;
                    }
                }
                // Where the first copy of each (conversation, sender, client id) is in the
                // batch: later copies are retries of it.
                let mut first_at: HashMap<(&str, &str, &str), usize> = HashMap::new();
                for (i, (m, _)) in batch.iter().enumerate() {
                    first_at.entry(key(m)).or_insert(i);
                }
                // Sent before this batch: the stored copy, by its first copy's position.
                let mut earlier: HashMap<usize, MessageRecord> = HashMap::new();
                for chunk in batch.chunks(ROWS_PER_STATEMENT) {
                    let sql = format!(
                        "SELECT {MESSAGE_COLUMNS} FROM (VALUES {}) AS v JOIN messages m \
                         ON m.conversation_id = v.column1 AND m.sender_id = v.column2 \
                         AND m.client_id = v.column3",
                        rows(chunk.len(), 3)
                    );
                    let sql = <$engine as Dialect>::batch_statement(sql);
                    let mut query = sqlx::query_as::<_, MessageRow>(&sql);
                    for (m, _) in chunk {
                        query = query.bind(&m.conversation_id).bind(&m.sender_id).bind(&m.client_id);
                    }
                    for row in query.fetch_all(&mut **tx).await? {
                        let r = row.into_record()?;
                        if let Some(&i) = first_at.get(&key(&r)) {
                            earlier.insert(i, r);
                        }
                    }
                }
                // The new ones: first copies not sent before.
                let fresh: Vec<usize> = batch
                    .iter()
                    .enumerate()
                    .filter(|(i, (m, _))| {
                        first_at.get(&key(m)) == Some(i) && !earlier.contains_key(i)
                    })
                    .map(|(i, _)| i)
                    .collect();
                let mut counts: HashMap<&str, i64> = HashMap::new();
                for &i in &fresh {
                    *counts.entry(batch[i].0.conversation_id.as_str()).or_default() += 1;
                }
                // Each conversation's last seq moves by its new messages.
                let mut next: HashMap<String, u64> = HashMap::new();
                let mut by_id: Vec<(&str, i64)> = counts.iter().map(|(c, n)| (*c, *n)).collect();
                by_id.sort_unstable();
                for chunk in by_id.chunks(ROWS_PER_STATEMENT) {
                    let sql = format!(
                        "UPDATE conversations SET last_seq = last_seq + v.column2 \
                         FROM (VALUES {}) AS v WHERE conversations.id = v.column1 \
                         RETURNING conversations.id, conversations.last_seq",
                        rows(chunk.len(), 2)
                    );
                    let sql = <$engine as Dialect>::batch_statement(sql);
                    let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
                    for (id, n) in chunk {
                        query = query.bind(*id).bind(*n);
                    }
                    for (id, last) in query.fetch_all(&mut **tx).await? {
                        let n = counts.get(id.as_str()).copied().unwrap_or(0);
                        // The first new seq of the conversation.
                        next.insert(id, seq(last - n + 1));
                    }
                }
                let mut stored: Vec<Option<MessageRecord>> = vec![None; batch.len()];
                for &i in &fresh {
                    let m = &batch[i].0;
                    let at = next
                        .get_mut(&m.conversation_id)
                        .ok_or(sqlx::Error::RowNotFound)?;
                    stored[i] = Some(MessageRecord {
                        seq: *at,
                        ..m.clone()
                    });
                    *at += 1;
                }
                let inserted: Vec<&MessageRecord> = stored.iter().flatten().collect();
                for chunk in inserted.chunks(ROWS_PER_STATEMENT) {
                    let sql = format!(
                        "INSERT INTO messages (id, conversation_id, seq, sender_id, client_id, \
                         kind, text, attachment_id, reply_to, sent_at) VALUES {}",
                        rows(chunk.len(), 10)
                    );
                    let sql = <$engine as Dialect>::batch_statement(sql);
                    let mut query = sqlx::query(&sql);
                    for m in chunk {
                        query = query
                            .bind(&m.id)
                            .bind(&m.conversation_id)
                            .bind(signed(m.seq))
                            .bind(&m.sender_id)
                            .bind(&m.client_id)
                            .bind(&m.kind)
                            .bind(&m.text)
                            .bind(&m.attachment_id)
                            .bind(&m.reply_to)
                            .bind(ms(m.sent_at));
                    }
                    query.execute(&mut **tx).await?;
                }
                let withheld: Vec<(&str, &str)> = fresh
                    .iter()
                    .flat_map(|&i| {
                        let id = batch[i].0.id.as_str();
                        batch[i].1.iter().map(move |u| (id, u.as_str()))
                    })
                    .collect();
                for chunk in withheld.chunks(ROWS_PER_STATEMENT) {
                    let sql = format!(
                        "INSERT INTO withheld (message_id, user_id) VALUES {}",
                        rows(chunk.len(), 2)
                    );
                    let sql = <$engine as Dialect>::batch_statement(sql);
                    let mut query = sqlx::query(&sql);
                    for (message, user) in chunk {
                        query = query.bind(*message).bind(*user);
                    }
                    query.execute(&mut **tx).await?;
                }
                // Results in batch order: a retry gets its first copy, stored before or
                // earlier in this batch.
                let mut out: Vec<(MessageRecord, bool)> = Vec::with_capacity(batch.len());
                for (i, (m, _)) in batch.iter().enumerate() {
                    if let Some(new) = stored[i].take() {
                        out.push((new, true));
                        continue;
                    }
                    let first = first_at.get(&key(m)).copied().ok_or(sqlx::Error::RowNotFound)?;
                    let copy = match earlier.get(&first) {
                        Some(r) => r.clone(),
                        None => out.get(first).ok_or(sqlx::Error::RowNotFound)?.0.clone(),
                    };
                    out.push((copy, false));
                }
                Ok(out)
            }
        }

        #[async_trait]
        impl MessageRepo for $db {
            async fn create_conversation(
                &self,
                c: &ConversationRecord,
                members: &[(String, String)],
                pair: Option<(&str, &str)>,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO conversations (id, kind, name, last_seq, created_at) \
                     VALUES ($1, $2, $3, 0, $4)",
                )
                .bind(&c.id)
                .bind(&c.kind)
                .bind(&c.name)
                .bind(ms(c.created_at))
                .execute(&mut *tx)
                .await?;
                if let Some((a, b)) = pair {
                    let (a, b) = if a <= b { (a, b) } else { (b, a) };
                    sqlx::query(
                        "INSERT INTO direct_pairs (user_a, user_b, conversation_id) \
                         VALUES ($1, $2, $3)",
                    )
                    .bind(a)
                    .bind(b)
                    .bind(&c.id)
                    .execute(&mut *tx)
                    .await?;
                }
                for (user_id, role) in members {
                    sqlx::query(
                        "INSERT INTO conversation_members (conversation_id, user_id, role, \
                         joined_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    )
                    .bind(&c.id)
                    .bind(user_id)
                    .bind(role)
                    .bind(ms(c.created_at))
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn direct_conversation(&self, a: &str, b: &str) -> StoreResult<Option<String>> {
                let (a, b) = if a <= b { (a, b) } else { (b, a) };
                let row: Option<(String,)> = sqlx::query_as(
                    "SELECT conversation_id FROM direct_pairs WHERE user_a = $1 AND user_b = $2",
                )
                .bind(a)
                .bind(b)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(id,)| id))
            }

            async fn conversation(&self, id: &str) -> StoreResult<Option<ConversationRecord>> {
                sqlx::query_as::<_, ConversationRow>(
                    "SELECT id, kind, name, last_seq, created_at, members_version FROM conversations \
                     WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .map(ConversationRow::into_record)
                .transpose()
            }

            async fn conversations_of(&self, user_id: &str) -> StoreResult<Vec<ConversationRecord>> {
                sqlx::query_as::<_, ConversationRow>(
                    "SELECT c.id, c.kind, c.name, c.last_seq, c.created_at, c.members_version \
                     FROM conversations c \
                     JOIN conversation_members cm ON cm.conversation_id = c.id \
                     WHERE cm.user_id = $1 ORDER BY c.created_at DESC, c.id",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(ConversationRow::into_record)
                .collect()
            }

            async fn members(&self, conversation_id: &str) -> StoreResult<Vec<MemberRecord>> {
                let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
                    "SELECT user_id, role, read_seq, delivered_seq FROM conversation_members \
                     WHERE conversation_id = $1 ORDER BY joined_at, user_id",
                )
                .bind(conversation_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(user_id, role, read, delivered)| MemberRecord {
                        user_id,
                        role,
                        read_seq: seq(read),
                        delivered_seq: seq(delivered),
                    })
                    .collect())
            }

            async fn member(
                &self,
                conversation_id: &str,
                user_id: &str,
            ) -> StoreResult<Option<MemberRecord>> {
                let row: Option<(String, String, i64, i64)> = sqlx::query_as(
                    "SELECT user_id, role, read_seq, delivered_seq FROM conversation_members \
                     WHERE conversation_id = $1 AND user_id = $2",
                )
                .bind(conversation_id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(user_id, role, read, delivered)| MemberRecord {
                    user_id,
                    role,
                    read_seq: seq(read),
                    delivered_seq: seq(delivered),
                }))
            }

            async fn add_members(
                &self,
                conversation_id: &str,
                members: &[(String, String)],
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                for (user_id, role) in members {
                    sqlx::query(
                        "INSERT INTO conversation_members (conversation_id, user_id, role, \
                         joined_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    )
                    .bind(conversation_id)
                    .bind(user_id)
                    .bind(role)
                    .bind(ms(at))
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(BUMP_MEMBERS_VERSION)
                    .bind(conversation_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn remove_member(
                &self,
                conversation_id: &str,
                user_id: &str,
            ) -> StoreResult<Option<MemberRemoved>> {
                let mut tx = self.pool.begin().await?;
                // The conversation's row first: it serialises changes of its members (two
                // admins leaving at once must not both think the other stays).
                sqlx::query(BUMP_MEMBERS_VERSION)
                    .bind(conversation_id)
                    .execute(&mut *tx)
                    .await?;
                let role: Option<(String,)> = sqlx::query_as(
                    "DELETE FROM conversation_members WHERE conversation_id = $1 AND user_id = $2 \
                     RETURNING role",
                )
                .bind(conversation_id)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((role,)) = role else {
                    // Not a member: nothing changed (the version bump is rolled back).
                    return Ok(None);
                };
                let mut removed = MemberRemoved::default();
                if role == "admin" {
                    let (admins,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM conversation_members \
                         WHERE conversation_id = $1 AND role = 'admin'",
                    )
                    .bind(conversation_id)
                    .fetch_one(&mut *tx)
                    .await?;
                    if admins == 0 {
                        let eldest: Option<(String,)> = sqlx::query_as(
                            "SELECT user_id FROM conversation_members WHERE conversation_id = $1 \
                             ORDER BY joined_at, user_id LIMIT 1",
                        )
                        .bind(conversation_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                        if let Some((eldest,)) = eldest {
                            sqlx::query(
                                "UPDATE conversation_members SET role = 'admin' \
                                 WHERE conversation_id = $1 AND user_id = $2",
                            )
                            .bind(conversation_id)
                            .bind(&eldest)
                            .execute(&mut *tx)
                            .await?;
                            removed.promoted = Some(eldest);
                        }
                    }
                }
                tx.commit().await?;
                Ok(Some(removed))
            }

            async fn append(
                &self,
                m: &MessageRecord,
                withheld: &[String],
            ) -> StoreResult<(MessageRecord, bool)> {
                let batch = [(m.clone(), withheld.to_vec())];
                self.append_batch(&batch)
                    .await?
                    .pop()
                    .ok_or_else(|| sqlx::Error::RowNotFound.into())
            }

            async fn append_batch(
                &self,
                batch: &[(MessageRecord, Vec<String>)],
            ) -> StoreResult<Vec<(MessageRecord, bool)>> {
                let mut tx = self.batches.begin_with(<$engine as Dialect>::BEGIN_BATCH).await?;
                let appended = Self::append_in(&mut tx, batch).await?;
                tx.commit().await?;
                Ok(appended)
            }

            async fn messages(
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

            async fn message_at(
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

            async fn withheld_from(&self, message_id: &str) -> StoreResult<Vec<String>> {
                let rows: Vec<(String,)> =
                    sqlx::query_as("SELECT user_id FROM withheld WHERE message_id = $1")
                        .bind(message_id)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(|(u,)| u).collect())
            }

            async fn high_water(
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
                        conversation_id,
                        last_seq: seq(last),
                        acked_seq: seq(acked),
                    })
                    .collect())
            }

            async fn ack(&self, session_id: &str, conversation_id: &str, at: u64) -> StoreResult<()> {
                sqlx::query(
                    DEVICE_ACK,
                )
                .bind(session_id)
                .bind(conversation_id)
                .bind(signed(at))
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn ack_batch(&self, acks: &[DeviceAck]) -> StoreResult<Vec<Option<AckDone>>> {
                // Set-based, so a batch holds the write lock for a few statements whatever
                // its size (a 1,000-member group acks each message at about once).
                let mut tx = self.batches.begin_with(<$engine as Dialect>::BEGIN_BATCH).await?;
                // Members and their conversations' kind and last seq.
                let mut conversations: Vec<&str> =
                    acks.iter().map(|a| a.conversation_id.as_str()).collect();
                conversations.sort_unstable();
                conversations.dedup();
                let mut found: HashMap<(String, String), (String, u64)> = HashMap::new();
                for chunk in conversations.chunks(CHUNK) {
                    let sql = format!(
                        "SELECT cm.conversation_id, cm.user_id, c.kind, c.last_seq \
                         FROM conversation_members cm \
                         JOIN conversations c ON c.id = cm.conversation_id \
                         WHERE cm.conversation_id IN ({})",
                        placeholders(1, chunk.len())
                    );
                    let sql = <$engine as Dialect>::batch_statement(sql);
                    let mut query = sqlx::query_as::<_, (String, String, String, i64)>(&sql);
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    for (conversation, user, kind, last) in query.fetch_all(&mut *tx).await? {
                        found.insert((conversation, user), (kind, seq(last)));
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
                        kind: kind.clone(),
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
                    let sql = <$engine as Dialect>::batch_statement(sql);
                    let mut query = sqlx::query(&sql);
                    for ((session, conversation), at) in chunk {
                        query = query.bind(*session).bind(*conversation).bind(signed(*at));
                    }
                    query.execute(&mut *tx).await?;
                }
                let mut marks: Vec<((&str, &str), u64)> = marks.into_iter().collect();
                marks.sort_unstable();
                let mut moved: HashMap<(String, String), u64> = HashMap::new();
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
                    let sql = <$engine as Dialect>::batch_statement(sql);
                    let mut query = sqlx::query_as::<_, (String, String, i64)>(&sql);
                    for ((conversation, user), at) in chunk {
                        query = query.bind(*conversation).bind(*user).bind(signed(*at));
                    }
                    for (conversation, user, at) in query.fetch_all(&mut *tx).await? {
                        moved.insert((conversation, user), seq(at));
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

            async fn advance_mark(
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
                Ok(done.rows_affected() > 0)
            }

            async fn message_by_id(
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

            async fn edit(&self, id: &str, text: &str, at: DateTime<Utc>) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE messages SET text = $1, edited_at = $2 WHERE id = $3 AND deleted = $4",
                )
                .bind(text)
                .bind(ms(at))
                .bind(id)
                .bind(false)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_for_everyone(&self, id: &str) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE messages SET deleted = $1, text = NULL, attachment_id = NULL \
                     WHERE id = $2 AND deleted = $3",
                )
                .bind(true)
                .bind(id)
                .bind(false)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn rename(&self, conversation_id: &str, name: &str) -> StoreResult<()> {
                sqlx::query("UPDATE conversations SET name = $1 WHERE id = $2")
                    .bind(name)
                    .bind(conversation_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn count_after(
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
    };
}

impl_messaging!(SqliteDb, sqlx::Sqlite);
impl_messaging!(PgDb, sqlx::Postgres);
