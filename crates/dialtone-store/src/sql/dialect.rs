//! What differs between SQLite and PostgreSQL. Everything else the statements use both
//! engines share (`$n` placeholders, `RETURNING`, `ON CONFLICT`, `UPDATE ... FROM
//! (VALUES ...)`), so the SQL is written once, generic over the [`Dialect`].

use sqlx::postgres::PgQueryResult;
use sqlx::sqlite::SqliteQueryResult;
use sqlx::{Database, Postgres, Sqlite};

/// An engine the SQL runs on, and the little that differs between the two.
///
/// The group commit's batches (`append_batch`, `ack_batch`) are where the engines part:
/// SQLite has one writer at a time and PostgreSQL several. The batches' own connection on
/// SQLite is chosen when the pools are made (`SqlDb::sqlite`), not here.
pub(crate) trait Dialect: Database {
    /// How a batch's transaction begins. SQLite takes the write lock at once (one writer
    /// at a time: it locks everything), rather than at the first write: a transaction that
    /// read first could not write after another had committed (`SQLITE_BUSY_SNAPSHOT`,
    /// which no busy timeout waits out). PostgreSQL begins as usual.
    const BEGIN_BATCH: &'static str;

    /// The statement that locks the conversations an append batch writes to, with `IDS`
    /// for their placeholders, where beginning the batch did not already lock them: on
    /// PostgreSQL their rows, in id order. None on SQLite, whose `BEGIN IMMEDIATE` holds
    /// the write lock.
    const LOCK_CONVERSATIONS: Option<&'static str>;

    /// The statement that makes one user's writes of their own data (their address
    /// book) wait for each other, with `$1` the user's id, where beginning with
    /// [`Self::BEGIN_BATCH`] did not already: on PostgreSQL the user's row. None on SQLite.
    const LOCK_USER: Option<&'static str>;

    /// A batch's multi-row statement as the engine binds it fastest: on SQLite by
    /// position ([`positional`](super::positional)), as it is on PostgreSQL.
    fn batch_statement(sql: String) -> String;

    /// How many rows a statement changed (sqlx has it on each engine's result, not on a
    /// trait).
    fn rows_affected(done: &Self::QueryResult) -> u64;
}

impl Dialect for Sqlite {
    const BEGIN_BATCH: &'static str = "BEGIN IMMEDIATE";
    const LOCK_CONVERSATIONS: Option<&'static str> = None;
    const LOCK_USER: Option<&'static str> = None;

    fn batch_statement(sql: String) -> String {
        super::positional(sql)
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }
}

impl Dialect for Postgres {
    const BEGIN_BATCH: &'static str = "BEGIN";
    const LOCK_CONVERSATIONS: Option<&'static str> =
        Some("SELECT id FROM conversations WHERE id IN (IDS) ORDER BY id FOR UPDATE");
    const LOCK_USER: Option<&'static str> = Some("SELECT id FROM users WHERE id = $1 FOR UPDATE");

    fn batch_statement(sql: String) -> String {
        sql
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }
}
