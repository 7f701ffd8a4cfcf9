//! The search index's queue and writes, and [`SearchRepo`] over them and the query of
//! [`search`](super::search).

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::search::{HitRow, SearchSql, statement};
use crate::sql::{CHUNK, SqlDb, placeholders};
use crate::{
    DocSource, IndexedDoc, PendingDoc, SearchHits, SearchOrder, SearchQuery, SearchRepo,
    StoreResult,
};

/// A queued message's state as read: (id, conversation, text, deleted, file name).
type StateRow = (String, String, Option<String>, bool, Option<String>);

/// What of a message is searchable, `None` when deleted for everyone.
fn source((_, conversation_id, text, deleted, filename): StateRow) -> Option<DocSource> {
    (!deleted).then(|| DocSource {
        conversation_id: conversation_id.into(),
        text,
        filename,
    })
}

impl<D> SqlDb<D>
where
    D: SearchSql,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> D::Arguments<'q>: IntoArguments<'q, D>,
    for<'q> &'q str: Encode<'q, D>,
    for<'q> Option<&'q str>: Encode<'q, D>,
    str: Type<D>,
    for<'q, 'r> String: Encode<'q, D> + Decode<'r, D> + Type<D>,
    for<'q, 'r> Option<String>: Encode<'q, D> + Decode<'r, D>,
    for<'q, 'r> i64: Encode<'q, D> + Decode<'r, D> + Type<D>,
    for<'q> Option<i64>: Encode<'q, D>,
    for<'q, 'r> bool: Encode<'q, D> + Decode<'r, D> + Type<D>,
    usize: ColumnIndex<D::Row>,
    for<'a> &'a str: ColumnIndex<D::Row>,
{
    /// The searchable state of messages, by id (absent: gone), read with `lock`.
    async fn states(
        conn: &mut D::Connection,
        ids: &[&str],
        lock: &str,
    ) -> StoreResult<HashMap<String, Option<DocSource>>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT m.id, m.conversation_id, m.text, m.deleted, a.filename FROM messages m \
                 LEFT JOIN attachments a ON a.id = m.attachment_id WHERE m.id IN ({}){lock}",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, StateRow>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&mut *conn).await? {
                out.insert(row.0.clone(), source(row));
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl<D> SearchRepo for SqlDb<D>
where
    D: SearchSql,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> D::Arguments<'q>: IntoArguments<'q, D>,
    for<'q> &'q str: Encode<'q, D>,
    for<'q> Option<&'q str>: Encode<'q, D>,
    str: Type<D>,
    for<'q, 'r> String: Encode<'q, D> + Decode<'r, D> + Type<D>,
    for<'q, 'r> Option<String>: Encode<'q, D> + Decode<'r, D>,
    for<'q, 'r> i64: Encode<'q, D> + Decode<'r, D> + Type<D>,
    for<'q> Option<i64>: Encode<'q, D>,
    for<'q, 'r> bool: Encode<'q, D> + Decode<'r, D> + Type<D>,
    usize: ColumnIndex<D::Row>,
    for<'a> &'a str: ColumnIndex<D::Row>,
    for<'r> HitRow: sqlx::FromRow<'r, D::Row>,
{
    async fn pending(&self, limit: u32) -> StoreResult<Vec<PendingDoc>> {
        let queued: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, message_id FROM search_pending ORDER BY id LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        // One doc per message, in the order it was first queued.
        let mut docs: Vec<PendingDoc> = Vec::new();
        let mut at: HashMap<String, usize> = HashMap::new();
        for (id, message_id) in queued {
            match at.get(&message_id) {
                Some(&i) => docs[i].pending.push(id),
                None => {
                    at.insert(message_id.clone(), docs.len());
                    docs.push(PendingDoc {
                        pending: vec![id],
                        message_id,
                        source: None,
                    });
                }
            }
        }
        let ids: Vec<&str> = docs.iter().map(|d| d.message_id.as_str()).collect();
        let mut conn = self.pool.acquire().await?;
        let mut states = Self::states(&mut conn, &ids, "").await?;
        for doc in &mut docs {
            doc.source = states.remove(&doc.message_id).flatten();
        }
        Ok(docs)
    }

    async fn write_index(&self, docs: &[IndexedDoc]) -> StoreResult<usize> {
        if docs.is_empty() {
            return Ok(0);
        }
        let mut tx = self.pool.begin_with(D::BEGIN_BATCH).await?;
        let ids: Vec<&str> = docs.iter().map(|d| d.doc.message_id.as_str()).collect();
        // Read again under the lock: a doc whose message changed since it was segmented
        // is left to the change's own queue row (written in the change's transaction).
        let now = Self::states(&mut *tx, &ids, D::LOCK_READ).await?;
        let current: Vec<&IndexedDoc> = docs
            .iter()
            .filter(|d| now.get(&d.doc.message_id).cloned().flatten() == d.doc.source)
            .collect();
        let mut indexed: HashMap<String, i64> = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT message_id, doc FROM search_docs WHERE message_id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            indexed.extend(query.fetch_all(&mut *tx).await?);
        }
        let mut dropped = Vec::new();
        let mut put = Vec::new();
        for d in &current {
            let doc = indexed.get(&d.doc.message_id).copied();
            match &d.doc.source {
                Some(s) if !d.terms.is_empty() => put.push((
                    d.doc.message_id.as_str(),
                    s.conversation_id.as_str(),
                    d.terms.join(" "),
                    doc,
                )),
                _ => dropped.extend(doc),
            }
        }
        D::drop_docs(&mut tx, &dropped).await?;
        D::put_docs(&mut tx, &put).await?;
        let taken: Vec<i64> = docs
            .iter()
            .flat_map(|d| d.doc.pending.iter().copied())
            .collect();
        for chunk in taken.chunks(CHUNK) {
            let sql = format!(
                "DELETE FROM search_pending WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(current.len())
    }

    async fn pending_count(&self) -> StoreResult<u64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM search_pending")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn search(&self, q: &SearchQuery) -> StoreResult<SearchHits> {
        if q.terms.is_empty() || q.limit == 0 {
            return Ok(SearchHits::default());
        }
        let prefixed = match (q.prefix_last, q.terms.last()) {
            (true, Some(last)) => {
                let whole = D::match_expr(std::slice::from_ref(last), false, None);
                sqlx::query_as::<_, (i64,)>(D::HAS_TERM)
                    .bind(whole)
                    .fetch_optional(&self.pool)
                    .await?
                    .is_none()
            }
            _ => false,
        };
        let sql = statement::<D>(q);
        let expr = D::match_expr(
            &q.terms,
            prefixed,
            q.conversation_id.as_ref().map(|c| c.as_str()),
        );
        let bound = match (q.order, q.before_doc) {
            (_, None) => i64::MAX,
            (SearchOrder::Newest, Some(doc)) => doc,
            (SearchOrder::Relevance, Some(doc)) => doc.saturating_add(1),
        };
        let mut query = sqlx::query_as::<_, HitRow>(&sql)
            .bind(expr)
            .bind(q.viewer_id.as_str())
            .bind(bound)
            .bind(false);
        if let Some(c) = &q.conversation_id {
            query = query.bind(c.as_str());
        }
        for c in &q.excluded {
            query = query.bind(c.as_str());
        }
        query = query.bind(i64::from(q.limit));
        if q.order == SearchOrder::Relevance {
            query = query.bind(i64::from(q.offset));
        }
        let rows = query.fetch_all(&self.pool).await?;
        let top = rows.first().and_then(HitRow::top);
        Ok(SearchHits {
            hits: rows
                .into_iter()
                .map(HitRow::into_hit)
                .collect::<StoreResult<_>>()?,
            top,
            prefixed,
        })
    }
}
