//! The search index's SQL. The queue, the reading of queued messages and the query's
//! joins (membership, withheld, deleted) are written once; what differs is the index
//! itself, said by [`SearchSql`]: on SQLite an FTS5 table ranked by BM25, on PostgreSQL a
//! `tsvector` of the terms with a GIN index ranked by `ts_rank`. Both take the terms as
//! the service's tokenizer made them (no parser of the engine's in between), so indexing
//! and queries agree whatever the language.

use std::future::Future;

use sqlx::{Postgres, Sqlite, Transaction};

use super::MessageRow;
use crate::sql::{CHUNK, Dialect, placeholders};
use crate::{SearchHit, SearchOrder, SearchQuery, StoreResult};

/// What the two engines' indexes do differently.
pub(crate) trait SearchSql: Dialect {
    /// The tables a search reads, `d` being `search_docs`.
    const FROM: &'static str;
    /// The predicate that the terms match, `$1` being [`Self::match_expr`].
    const MATCHES: &'static str;
    /// Whether `$1` (a [`Self::match_expr`] of one term) is a word of the index.
    const HAS_TERM: &'static str;
    /// A match's place in the index (its `doc`).
    const DOC: &'static str;
    /// A match's rank, lower first.
    const RANK: &'static str;
    /// What a read of the messages being indexed adds so that no change commits between
    /// that read and the index's commit (PostgreSQL, where indexers of several nodes may
    /// run at once; SQLite's `BEGIN IMMEDIATE` already holds the only write lock).
    const LOCK_READ: &'static str;

    /// The engine's query text of the terms (all must match; the last as a prefix if
    /// `prefix_last`), and of the one conversation searched, if any.
    fn match_expr(terms: &[String], prefix_last: bool, conversation: Option<&str>) -> String;

    /// Drops the index entries of `docs`.
    fn drop_docs(
        tx: &mut Transaction<'_, Self>,
        docs: &[i64],
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Writes the terms of messages: (message id, conversation id, space-joined terms,
    /// the doc it has if indexed before).
    fn put_docs(
        tx: &mut Transaction<'_, Self>,
        docs: &[(&str, &str, String, Option<i64>)],
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// `"term"` in FTS5's query syntax.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// `'term'` in `tsquery` syntax.
fn ts_lexeme(term: &str) -> String {
    format!("'{}'", term.replace('\\', "\\\\").replace('\'', "''"))
}

impl SearchSql for Sqlite {
    const FROM: &'static str = "search_fts f CROSS JOIN search_docs d ON d.doc = f.rowid";
    const MATCHES: &'static str = "search_fts MATCH $1";
    const HAS_TERM: &'static str = "SELECT rowid FROM search_fts WHERE search_fts MATCH $1 LIMIT 1";
    const DOC: &'static str = "f.rowid";
    const RANK: &'static str = "bm25(search_fts, 1.0, 0.0)";
    const LOCK_READ: &'static str = "";

    fn match_expr(terms: &[String], prefix_last: bool, conversation: Option<&str>) -> String {
        let mut parts: Vec<String> = terms
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let star = if prefix_last && i + 1 == terms.len() {
                    " *"
                } else {
                    ""
                };
                format!("terms : {}{star}", fts_phrase(t))
            })
            .collect();
        if let Some(c) = conversation {
            parts.push(format!("conv : {}", fts_phrase(c)));
        }
        parts.join(" AND ")
    }

    async fn drop_docs(tx: &mut Transaction<'_, Sqlite>, docs: &[i64]) -> StoreResult<()> {
        for chunk in docs.chunks(CHUNK) {
            for table in [
                "DELETE FROM search_fts WHERE rowid",
                "DELETE FROM search_docs WHERE doc",
            ] {
                let sql = format!("{table} IN ({})", placeholders(1, chunk.len()));
                let mut query = sqlx::query(&sql);
                for doc in chunk {
                    query = query.bind(*doc);
                }
                query.execute(&mut **tx).await?;
            }
        }
        Ok(())
    }

    async fn put_docs(
        tx: &mut Transaction<'_, Sqlite>,
        docs: &[(&str, &str, String, Option<i64>)],
    ) -> StoreResult<()> {
        // Indexed before: the old terms go, the doc (and its place in "newest") stays.
        let old: Vec<i64> = docs.iter().filter_map(|d| d.3).collect();
        for chunk in old.chunks(CHUNK) {
            let sql = format!(
                "DELETE FROM search_fts WHERE rowid IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for doc in chunk {
                query = query.bind(*doc);
            }
            query.execute(&mut **tx).await?;
        }
        let mut rows: Vec<(i64, &str, &str)> = docs
            .iter()
            .filter_map(|(_, c, t, doc)| doc.map(|d| (d, *c, t.as_str())))
            .collect();
        let new: Vec<&(&str, &str, String, Option<i64>)> =
            docs.iter().filter(|d| d.3.is_none()).collect();
        for chunk in new.chunks(super::ROWS_PER_STATEMENT) {
            let sql = Sqlite::batch_statement(format!(
                "INSERT INTO search_docs (message_id, conversation_id) VALUES {} \
                 RETURNING doc, message_id",
                super::rows(chunk.len(), 2)
            ));
            let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
            for (m, c, _, _) in chunk {
                query = query.bind(*m).bind(*c);
            }
            let made: std::collections::HashMap<String, i64> = query
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(|(doc, m)| (m, doc))
                .collect();
            for (m, c, t, _) in chunk {
                let doc = made.get(*m).copied().ok_or(sqlx::Error::RowNotFound)?;
                rows.push((doc, *c, t.as_str()));
            }
        }
        for chunk in rows.chunks(super::ROWS_PER_STATEMENT) {
            let sql = Sqlite::batch_statement(format!(
                "INSERT INTO search_fts (rowid, conv, terms) VALUES {}",
                super::rows(chunk.len(), 3)
            ));
            let mut query = sqlx::query(&sql);
            for (doc, c, t) in chunk {
                query = query.bind(*doc).bind(*c).bind(*t);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

impl SearchSql for Postgres {
    const FROM: &'static str = "search_docs d";
    const MATCHES: &'static str = "d.terms @@ $1::tsquery";
    const HAS_TERM: &'static str =
        "SELECT d.doc FROM search_docs d WHERE d.terms @@ $1::tsquery LIMIT 1";
    const DOC: &'static str = "d.doc";
    const RANK: &'static str = "-ts_rank(d.terms, $1::tsquery)";
    const LOCK_READ: &'static str = " FOR SHARE OF m";

    fn match_expr(terms: &[String], prefix_last: bool, _conversation: Option<&str>) -> String {
        terms
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let star = if prefix_last && i + 1 == terms.len() {
                    ":*"
                } else {
                    ""
                };
                format!("{}{star}", ts_lexeme(t))
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    async fn drop_docs(tx: &mut Transaction<'_, Postgres>, docs: &[i64]) -> StoreResult<()> {
        for chunk in docs.chunks(CHUNK) {
            let sql = format!(
                "DELETE FROM search_docs WHERE doc IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for doc in chunk {
                query = query.bind(*doc);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn put_docs(
        tx: &mut Transaction<'_, Postgres>,
        docs: &[(&str, &str, String, Option<i64>)],
    ) -> StoreResult<()> {
        for chunk in docs.chunks(super::ROWS_PER_STATEMENT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| {
                    format!(
                        "(${}, ${}, array_to_tsvector(string_to_array(${}, ' ')))",
                        r * 3 + 1,
                        r * 3 + 2,
                        r * 3 + 3
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO search_docs (message_id, conversation_id, terms) VALUES {} \
                 ON CONFLICT (message_id) DO UPDATE SET terms = excluded.terms",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for (m, c, t, _) in chunk {
                query = query.bind(*m).bind(*c).bind(t.as_str());
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// A match as read: its doc, the message, the attachment's file name.
#[derive(sqlx::FromRow)]
pub(super) struct HitRow {
    doc: i64,
    #[sqlx(flatten)]
    message: MessageRow,
    filename: Option<String>,
    top: Option<i64>,
}

impl HitRow {
    /// The newest doc among the candidates (relevance).
    pub(super) fn top(&self) -> Option<i64> {
        self.top
    }

    pub(super) fn into_hit(self) -> StoreResult<SearchHit> {
        Ok(SearchHit {
            doc: self.doc,
            message: self.message.into_record()?,
            filename: self.filename,
        })
    }
}

/// The statement of a search and the order of its parameters after the fixed ones: `$1`
/// the match, `$2` the viewer, `$3` the doc bound (exclusive), `$4` false, then the
/// conversation (if any), the excluded conversations, the limit and (relevance) the
/// offset.
pub(super) fn statement<D: SearchSql>(q: &SearchQuery) -> String {
    let mut n = 4;
    let mut next = || {
        n += 1;
        n
    };
    let mut filters = String::new();
    if q.conversation_id.is_some() {
        filters.push_str(&format!(" AND d.conversation_id = ${}", next()));
    }
    if !q.excluded.is_empty() {
        let first = next();
        for _ in 1..q.excluded.len() {
            next();
        }
        filters.push_str(&format!(
            " AND d.conversation_id NOT IN ({})",
            placeholders(first, q.excluded.len())
        ));
    }
    let matches = format!(
        "FROM {from} JOIN messages m ON m.id = d.message_id \
         JOIN conversation_members cm ON cm.conversation_id = d.conversation_id \
         AND cm.user_id = $2 \
         LEFT JOIN attachments a ON a.id = m.attachment_id \
         WHERE {matches} AND {doc} < $3 AND m.deleted = $4{filters} \
         AND NOT EXISTS (SELECT 1 FROM withheld w WHERE w.message_id = m.id AND w.user_id = $2)",
        from = D::FROM,
        matches = D::MATCHES,
        doc = D::DOC,
    );
    let columns = super::MESSAGE_COLUMNS;
    match q.order {
        SearchOrder::Newest => format!(
            "SELECT {doc} AS doc, {columns}, a.filename, CAST(NULL AS BIGINT) AS top \
             {matches} ORDER BY {doc} DESC LIMIT ${}",
            next(),
            doc = D::DOC,
        ),
        SearchOrder::Relevance => {
            let candidates = crate::RELEVANCE_CANDIDATES;
            let unprefixed = columns.replace("m.", "");
            format!(
                "SELECT doc, {unprefixed}, filename, MAX(doc) OVER () AS top FROM (SELECT {doc} AS doc, {rank} AS score, \
                 {columns}, a.filename {matches} ORDER BY {doc} DESC LIMIT {candidates}) c \
                 ORDER BY score, doc DESC LIMIT ${} OFFSET ${}",
                next(),
                next(),
                doc = D::DOC,
                rank = D::RANK,
            )
        }
    }
}
