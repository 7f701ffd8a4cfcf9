//! The SQL behind every repository, written once as ordinary generic code over the
//! engine ([`SqlDb<D>`](SqlDb) for a [`Dialect`] `D`), one file per aggregate. The
//! statements use only what SQLite and PostgreSQL share (`$n` placeholders, `RETURNING`,
//! `ON CONFLICT`), so the two cannot drift apart; the little that differs is the
//! [`Dialect`].
//!
//! Each `impl` block lists the bounds sqlx needs to run a statement on an engine it does
//! not know (executors, arguments, the column types): Rust does not carry a trait's
//! where-clauses to its users, so they cannot live on [`Dialect`] once.

mod accounts;
mod attachments;
mod calls;
mod community;
mod contacts;
mod dialect;
mod messages;
mod presence;
mod privacy;
mod push;
mod rate_limits;
mod sessions;
mod verifications;

use chrono::{DateTime, Utc};
use dialtone_core::PhoneNumber;
use sqlx::{Database, PgPool, Pool, Postgres, Sqlite, SqlitePool};

pub(crate) use dialect::Dialect;

use crate::{StoreError, StoreResult};

/// The repositories of one database, for either engine ([`Dialect`]).
pub struct SqlDb<D: Database> {
    /// Every statement but the group commit's batches.
    pool: Pool<D>,
    /// The group commit's batches (`append_batch`, `ack_batch`).
    batches: Pool<D>,
}

/// SQLite-backed repositories.
pub type SqliteDb = SqlDb<Sqlite>;

/// PostgreSQL-backed repositories.
pub type PgDb = SqlDb<Postgres>;

impl SqliteDb {
    /// Over `pool`, with `batches` (one connection of its own) for the group commit's
    /// batches, so they never wait behind reads for a connection.
    pub fn sqlite(pool: SqlitePool, batches: SqlitePool) -> SqliteDb {
        SqlDb { pool, batches }
    }
}

impl PgDb {
    /// Over `pool`, which the batches share: PostgreSQL has several writers.
    pub fn postgres(pool: PgPool) -> PgDb {
        SqlDb {
            batches: pool.clone(),
            pool,
        }
    }
}

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn time(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("time {ms}")))
}

/// A word of a closed set read back from its TEXT column (a message kind, a role).
pub(crate) fn word<T: std::str::FromStr<Err = dialtone_core::UnknownWord>>(
    s: &str,
) -> StoreResult<T> {
    s.parse()
        .map_err(|e: dialtone_core::UnknownWord| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn phone(s: &str) -> StoreResult<PhoneNumber> {
    PhoneNumber::from_stored(s).map_err(|_| StoreError::Corrupt(format!("phone {s}")))
}

/// A count read back, for the records' `u32` counters.
fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// A count read back as `u64`.
fn count_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A stored value that does not read back.
fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value}"))
}

/// Rows fetched per `IN (...)` query, well under every engine's bound-parameter limit.
pub(crate) const CHUNK: usize = 500;

/// For SQLite: the statement with `?` for its parameters when they are `$1, $2, ... $n`
/// in that order, each once (multi-row statements of a batch). SQLite looks a numbered
/// parameter's name up in a list as long as the statement's parameters, and the driver
/// does it for every parameter: quadratic in a statement of thousands, where plain `?`s
/// bind in order at no cost. Other statements come back as they are.
pub(crate) fn positional(sql: String) -> String {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut expected = 1usize;
    let mut last = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits > 0 {
                let n: usize = sql[i + 1..i + 1 + digits].parse().unwrap_or(0);
                if n != expected {
                    return sql;
                }
                expected += 1;
                out.push_str(&sql[last..i]);
                out.push('?');
                i += 1 + digits;
                last = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&sql[last..]);
    out
}

/// `$first, $first+1, ...` for `n` parameters.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::positional;

    #[test]
    fn numbered_parameters_in_order_become_positional() {
        assert_eq!(
            positional("INSERT INTO t VALUES ($1, $2), ($3, $4)".into()),
            "INSERT INTO t VALUES (?, ?), (?, ?)"
        );
        assert_eq!(positional("SELECT 1".into()), "SELECT 1");
        // Out of order, repeated or skipped: left alone.
        for sql in ["SELECT $2, $1", "SELECT $1 WHERE $1", "SELECT $1, $3"] {
            assert_eq!(positional(sql.into()), sql);
        }
        assert_eq!(
            positional("SELECT '$' || $1, $10".into()),
            "SELECT '$' || $1, $10",
            "$10 after $1 is not the next"
        );
    }
}
