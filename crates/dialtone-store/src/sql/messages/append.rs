//! Appending messages.
//!
//! Seqs: `append_batch` (group commit; `append` is a batch of one) locks the batch's
//! conversations (the write lock on SQLite; their rows, in id order, on PostgreSQL), finds
//! retried client ids, moves each conversation's `last_seq` by its new messages and
//! inserts them, in one transaction and a few statements whatever the batch's size, so
//! concurrent senders get contiguous seqs and a retried send finds the first copy.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use std::collections::HashMap;

use super::{MESSAGE_COLUMNS, MessageRow, ROWS_PER_STATEMENT, rows, seq, signed};
use crate::sql::{CHUNK, Dialect, SqlDb, ms, placeholders};
use dialtone_core::UserId;

use crate::{MessageRecord, StoreResult};

/// What makes a retried send the same message: (conversation, sender, client id).
fn key(m: &MessageRecord) -> (&str, &str, &str) {
    (
        m.conversation_id.as_str(),
        m.sender_id.as_str(),
        &m.client_id,
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
    /// Appends a batch inside `tx` in a few statements whatever its size: lock the
    /// conversations, find the messages sent before (a retried `client_id`), move
    /// each conversation's last seq by its new messages at once, insert them all.
    /// Results in batch order; seqs follow batch order within a conversation.
    async fn append_in(
        tx: &mut sqlx::Transaction<'_, D>,
        batch: &[(MessageRecord, Vec<UserId>)],
    ) -> StoreResult<Vec<(MessageRecord, bool)>> {
        let mut conversations: Vec<&str> = batch
            .iter()
            .map(|(m, _)| m.conversation_id.as_str())
            .collect();
        conversations.sort_unstable();
        conversations.dedup();
        if let Some(lock) = D::LOCK_CONVERSATIONS {
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
            let sql = D::batch_statement(sql);
            let mut query = sqlx::query_as::<_, MessageRow>(&sql);
            for (m, _) in chunk {
                query = query
                    .bind(m.conversation_id.as_str())
                    .bind(m.sender_id.as_str())
                    .bind(&m.client_id);
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
            .filter(|(i, (m, _))| first_at.get(&key(m)) == Some(i) && !earlier.contains_key(i))
            .map(|(i, _)| i)
            .collect();
        let mut counts: HashMap<&str, i64> = HashMap::new();
        for &i in &fresh {
            *counts
                .entry(batch[i].0.conversation_id.as_str())
                .or_default() += 1;
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
            let sql = D::batch_statement(sql);
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
                .get_mut(m.conversation_id.as_str())
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
            let sql = D::batch_statement(sql);
            let mut query = sqlx::query(&sql);
            for m in chunk {
                query = query
                    .bind(m.id.as_str())
                    .bind(m.conversation_id.as_str())
                    .bind(signed(m.seq))
                    .bind(m.sender_id.as_str())
                    .bind(&m.client_id)
                    .bind(m.kind.as_str())
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
            let sql = D::batch_statement(sql);
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
            let first = first_at
                .get(&key(m))
                .copied()
                .ok_or(sqlx::Error::RowNotFound)?;
            let copy = match earlier.get(&first) {
                Some(r) => r.clone(),
                None => out.get(first).ok_or(sqlx::Error::RowNotFound)?.0.clone(),
            };
            out.push((copy, false));
        }
        Ok(out)
    }

    /// See [`MessageRepo::append`].
    pub(super) async fn append(
        &self,
        m: &MessageRecord,
        withheld: &[UserId],
    ) -> StoreResult<(MessageRecord, bool)> {
        let batch = [(m.clone(), withheld.to_vec())];
        self.append_batch(&batch)
            .await?
            .pop()
            .ok_or_else(|| sqlx::Error::RowNotFound.into())
    }

    /// See [`MessageRepo::append_batch`].
    pub(super) async fn append_batch(
        &self,
        batch: &[(MessageRecord, Vec<UserId>)],
    ) -> StoreResult<Vec<(MessageRecord, bool)>> {
        let mut tx = self.batches.begin_with(D::BEGIN_BATCH).await?;
        let appended = Self::append_in(&mut tx, batch).await?;
        tx.commit().await?;
        Ok(appended)
    }
}
