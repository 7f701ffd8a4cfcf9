//! The SQL of address books and the discovery quota.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use std::collections::{HashMap, HashSet};

use super::{CHUNK, Dialect, SqlDb, count_u64, ms, placeholders, time};
use crate::{ContactRecord, ContactRepo, Hidden, StoreResult};

#[derive(sqlx::FromRow)]
struct ContactRow {
    owner_id: String,
    phone_mac: String,
    sealed: String,
    hidden: bool,
    created_at: i64,
}

impl ContactRow {
    fn into_record(self) -> StoreResult<ContactRecord> {
        Ok(ContactRecord {
            created_at: time(self.created_at)?,
            owner_id: self.owner_id,
            phone_mac: self.phone_mac,
            sealed: self.sealed,
            hidden: self.hidden,
        })
    }
}

const CONTACT_COLUMNS: &str = "owner_id, phone_mac, sealed, hidden, created_at";

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
    /// A transaction that writes `owner`'s address book, waiting for any other writing
    /// it: SQLite's write lock (taken at BEGIN), the owner's row on PostgreSQL. Every
    /// write of more than one statement to a book begins here, so a replace is never
    /// interleaved with another (no mix of two books, no deadlock between them).
    async fn begin_book(&self, owner: &str) -> StoreResult<sqlx::Transaction<'_, D>> {
        let mut tx = self.pool.begin_with(D::BEGIN_BATCH).await?;
        if let Some(lock) = D::LOCK_USER {
            sqlx::query(lock).bind(owner).execute(&mut *tx).await?;
        }
        Ok(tx)
    }

    /// Inserts entries; an entry already there gets the new sealed name and keeps
    /// its hidden flag, and a hidden one is left as it is unless the vault is open.
    async fn insert_contacts(
        tx: &mut sqlx::Transaction<'_, D>,
        owner: &str,
        entries: &[ContactRecord],
        hidden: Hidden,
    ) -> StoreResult<()> {
        // Many rows per statement: an address book is thousands of entries.
        const ROWS: usize = 100;
        let tail = match hidden {
            Hidden::Follows => {
                " ON CONFLICT (owner_id, phone_mac) DO UPDATE SET sealed = excluded.sealed"
            }
            Hidden::Untouched => {
                " ON CONFLICT (owner_id, phone_mac) DO UPDATE SET sealed = excluded.sealed \
                 WHERE NOT contacts.hidden"
            }
        };
        for chunk in entries.chunks(ROWS) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", placeholders(i * 5 + 1, 5)))
                .collect();
            let sql = format!(
                "INSERT INTO contacts (owner_id, phone_mac, sealed, hidden, created_at) \
                 VALUES {}{tail}",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for e in chunk {
                query = query
                    .bind(owner)
                    .bind(&e.phone_mac)
                    .bind(&e.sealed)
                    .bind(e.hidden)
                    .bind(ms(e.created_at));
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl<D> ContactRepo for SqlDb<D>
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
    async fn replace(
        &self,
        owner: &str,
        entries: &[ContactRecord],
        hidden: Hidden,
    ) -> StoreResult<()> {
        let mut tx = self.begin_book(owner).await?;
        sqlx::query("DELETE FROM contacts WHERE owner_id = $1 AND NOT hidden")
            .bind(owner)
            .execute(&mut *tx)
            .await?;
        if hidden == Hidden::Follows {
            // Hidden entries whose numbers left the book go too.
            let kept: HashSet<&str> = entries.iter().map(|e| e.phone_mac.as_str()).collect();
            let hidden_macs: Vec<(String,)> =
                sqlx::query_as("SELECT phone_mac FROM contacts WHERE owner_id = $1 AND hidden")
                    .bind(owner)
                    .fetch_all(&mut *tx)
                    .await?;
            for (mac,) in hidden_macs {
                if !kept.contains(mac.as_str()) {
                    sqlx::query("DELETE FROM contacts WHERE owner_id = $1 AND phone_mac = $2")
                        .bind(owner)
                        .bind(&mac)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        Self::insert_contacts(&mut tx, owner, entries, hidden).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn upsert(
        &self,
        owner: &str,
        entries: &[ContactRecord],
        hidden: Hidden,
    ) -> StoreResult<()> {
        let mut tx = self.begin_book(owner).await?;
        Self::insert_contacts(&mut tx, owner, entries, hidden).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn apply(
        &self,
        owner: &str,
        seen: &[ContactRecord],
        changed: &[ContactRecord],
        gone: &[String],
        hidden: Hidden,
    ) -> StoreResult<bool> {
        if changed.is_empty() && gone.is_empty() {
            return Ok(true);
        }
        // One writer of this book at a time from here to the commit.
        let mut tx = self.begin_book(owner).await?;
        let now: Vec<(String, String, bool)> =
            sqlx::query_as("SELECT phone_mac, sealed, hidden FROM contacts WHERE owner_id = $1")
                .bind(owner)
                .fetch_all(&mut *tx)
                .await?;
        let expected: HashMap<&str, (&str, bool)> = seen
            .iter()
            .map(|c| (c.phone_mac.as_str(), (c.sealed.as_str(), c.hidden)))
            .collect();
        let unmoved = now.len() == expected.len()
            && now.iter().all(|(mac, sealed, hid)| {
                expected.get(mac.as_str()) == Some(&(sealed.as_str(), *hid))
            });
        if !unmoved {
            return Ok(false);
        }
        for chunk in gone.chunks(CHUNK) {
            let sql = format!(
                "DELETE FROM contacts WHERE owner_id = $1 AND (NOT hidden OR $2) \
                 AND phone_mac IN ({})",
                placeholders(3, chunk.len())
            );
            let mut query = sqlx::query(&sql)
                .bind(owner)
                .bind(hidden == Hidden::Follows);
            for mac in chunk {
                query = query.bind(mac);
            }
            query.execute(&mut *tx).await?;
        }
        Self::insert_contacts(&mut tx, owner, changed, hidden).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list(&self, owner: &str) -> StoreResult<Vec<ContactRecord>> {
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE owner_id = $1");
        sqlx::query_as::<_, ContactRow>(&sql)
            .bind(owner)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(ContactRow::into_record)
            .collect()
    }

    async fn get_many(&self, owner: &str, macs: &[String]) -> StoreResult<Vec<ContactRecord>> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE owner_id = $1 AND phone_mac = $2"
        );
        let mut found = Vec::new();
        for mac in macs {
            if let Some(row) = sqlx::query_as::<_, ContactRow>(&sql)
                .bind(owner)
                .bind(mac)
                .fetch_optional(&self.pool)
                .await?
            {
                found.push(row.into_record()?);
            }
        }
        Ok(found)
    }

    async fn delete(&self, owner: &str, mac: &str, hidden: Hidden) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM contacts WHERE owner_id = $1 AND phone_mac = $2 \
             AND (NOT hidden OR $3)",
        )
        .bind(owner)
        .bind(mac)
        .bind(hidden == Hidden::Follows)
        .execute(&self.pool)
        .await?;
        Ok(D::rows_affected(&done) > 0)
    }

    async fn set_hidden(
        &self,
        owner: &str,
        mac: &str,
        value: bool,
        hidden: Hidden,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE contacts SET hidden = $1 WHERE owner_id = $2 AND phone_mac = $3 \
             AND (NOT hidden OR $4)",
        )
        .bind(value)
        .bind(owner)
        .bind(mac)
        .bind(hidden == Hidden::Follows)
        .execute(&self.pool)
        .await?;
        Ok(D::rows_affected(&done) > 0)
    }

    async fn take_discovery(
        &self,
        owner: &str,
        wanted: u64,
        capacity: u64,
        refill_per_day: u64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<u64>> {
        let mut tx = self.pool.begin().await?;
        // Write first: this takes SQLite's write lock (a read-then-write deferred
        // transaction could not upgrade under concurrency) and PostgreSQL's row
        // lock, so two uploads of one user cannot spend the same tokens.
        sqlx::query(
            "INSERT INTO discovery_quota (user_id, tokens, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET tokens = discovery_quota.tokens",
        )
        .bind(owner)
        .bind(i64::try_from(capacity).unwrap_or(i64::MAX))
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT tokens, updated_at FROM discovery_quota WHERE user_id = $1")
                .bind(owner)
                .fetch_optional(&mut *tx)
                .await?;
        let bucket = crate::quota::Bucket {
            capacity,
            refill_per_day,
        };
        let (tokens, updated) = row
            .map(|(t, u)| (count_u64(t), u))
            .unwrap_or((capacity, ms(now)));
        let (left, wait) = bucket.take(tokens, updated, ms(now), wanted);
        if wait.is_none() {
            sqlx::query(
                "INSERT INTO discovery_quota (user_id, tokens, updated_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET \
                 tokens = excluded.tokens, updated_at = excluded.updated_at",
            )
            .bind(owner)
            .bind(i64::try_from(left).unwrap_or(i64::MAX))
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(wait)
    }

    async fn owners_of(&self, mac: &str) -> StoreResult<Vec<(String, bool)>> {
        let rows: Vec<(String, bool)> =
            sqlx::query_as("SELECT owner_id, hidden FROM contacts WHERE phone_mac = $1")
                .bind(mac)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows)
    }
}
