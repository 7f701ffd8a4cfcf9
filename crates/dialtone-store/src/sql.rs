//! The SQL behind every repository, written once and compiled for both engines by
//! [`impl_repos!`]. The statements use only what SQLite and PostgreSQL share (`$n`
//! placeholders, `RETURNING`, `ON CONFLICT`), so the two cannot drift apart.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dialtone_core::PhoneNumber;

use crate::{
    AccountRepo, RateLimitRepo, SessionRecord, SessionRepo, StoreError, StoreResult, UserRecord,
    VerificationRecord, VerificationRepo,
};

/// SQLite-backed repositories: the pool, and one connection of its own for the group
/// commit's batches (they never wait behind reads for a connection).
pub struct SqliteDb(pub sqlx::SqlitePool, pub sqlx::SqlitePool);

/// PostgreSQL-backed repositories.
pub struct PgDb(pub sqlx::PgPool);

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn time(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("time {ms}")))
}

pub(crate) fn phone(s: &str) -> StoreResult<PhoneNumber> {
    PhoneNumber::from_stored(s).map_err(|_| StoreError::Corrupt(format!("phone {s}")))
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    phone: String,
    region: String,
    display_name: Option<String>,
    password_hash: Option<String>,
    registration_lock: bool,
    created_at: i64,
}

impl UserRow {
    fn into_record(self) -> StoreResult<UserRecord> {
        Ok(UserRecord {
            phone: phone(&self.phone)?,
            created_at: time(self.created_at)?,
            id: self.id,
            region: self.region,
            display_name: self.display_name,
            password_hash: self.password_hash,
            registration_lock: self.registration_lock,
        })
    }
}

#[derive(sqlx::FromRow)]
struct VerificationRow {
    id: String,
    phone: String,
    code_hash: String,
    attempts: i64,
    sms_sent: i64,
    expires_at: i64,
    resend_after: i64,
    created_at: i64,
}

impl VerificationRow {
    fn into_record(self) -> StoreResult<VerificationRecord> {
        Ok(VerificationRecord {
            phone: phone(&self.phone)?,
            attempts: count(self.attempts),
            sms_sent: count(self.sms_sent),
            expires_at: time(self.expires_at)?,
            resend_after: time(self.resend_after)?,
            created_at: time(self.created_at)?,
            id: self.id,
            code_hash: self.code_hash,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    user_id: String,
    token_hash: String,
    name: String,
    created_at: i64,
    last_seen_at: i64,
    verified_at: Option<i64>,
}

impl SessionRow {
    fn into_record(self) -> StoreResult<SessionRecord> {
        Ok(SessionRecord {
            created_at: time(self.created_at)?,
            last_seen_at: time(self.last_seen_at)?,
            verified_at: self.verified_at.map(time).transpose()?,
            id: self.id,
            user_id: self.user_id,
            token_hash: self.token_hash,
            name: self.name,
        })
    }
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

const USER_COLUMNS: &str =
    "id, phone, region, display_name, password_hash, registration_lock, created_at";
const VERIFICATION_COLUMNS: &str =
    "id, phone, code_hash, attempts, sms_sent, expires_at, resend_after, created_at";
const SESSION_COLUMNS: &str =
    "id, user_id, token_hash, name, created_at, last_seen_at, verified_at";

const INSERT_SESSION: &str = "INSERT INTO sessions (id, user_id, token_hash, name, created_at, \
     last_seen_at, verified_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";

macro_rules! impl_repos {
    ($db:ty, $engine:ty) => {
        impl $db {
            async fn insert_session<'e, E>(executor: E, s: &SessionRecord) -> StoreResult<()>
            where
                E: sqlx::Executor<'e, Database = $engine>,
            {
                sqlx::query(INSERT_SESSION)
                    .bind(&s.id)
                    .bind(&s.user_id)
                    .bind(&s.token_hash)
                    .bind(&s.name)
                    .bind(ms(s.created_at))
                    .bind(ms(s.last_seen_at))
                    .bind(s.verified_at.map(ms))
                    .execute(executor)
                    .await?;
                Ok(())
            }

            async fn user_where(&self, column: &str, value: &str) -> StoreResult<Option<UserRecord>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = $1");
                sqlx::query_as::<_, UserRow>(&sql)
                    .bind(value)
                    .fetch_optional(&self.0)
                    .await?
                    .map(UserRow::into_record)
                    .transpose()
            }
        }

        #[async_trait]
        impl AccountRepo for $db {
            async fn create_user_with_session(
                &self,
                user: &UserRecord,
                session: &SessionRecord,
            ) -> StoreResult<()> {
                let mut tx = self.0.begin().await?;
                sqlx::query(
                    "INSERT INTO users (id, phone, region, display_name, password_hash, \
                     registration_lock, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&user.id)
                .bind(user.phone.as_str())
                .bind(&user.region)
                .bind(&user.display_name)
                .bind(&user.password_hash)
                .bind(user.registration_lock)
                .bind(ms(user.created_at))
                .execute(&mut *tx)
                .await?;
                Self::insert_session(&mut *tx, session).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn user_by_phone(&self, phone: &PhoneNumber) -> StoreResult<Option<UserRecord>> {
                self.user_where("phone", phone.as_str()).await
            }

            async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRecord>> {
                self.user_where("id", id).await
            }

            async fn users_by_ids(&self, ids: &[String]) -> StoreResult<Vec<UserRecord>> {
                let mut users = Vec::new();
                for chunk in ids.chunks(CHUNK) {
                    let sql = format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE id IN ({})",
                        placeholders(1, chunk.len())
                    );
                    let mut query = sqlx::query_as::<_, UserRow>(&sql);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    for row in query.fetch_all(&self.0).await? {
                        users.push(row.into_record()?);
                    }
                }
                Ok(users)
            }

            async fn users_by_phones(&self, phones: &[PhoneNumber]) -> StoreResult<Vec<UserRecord>> {
                let mut users = Vec::new();
                for chunk in phones.chunks(CHUNK) {
                    let sql = format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE phone IN ({})",
                        placeholders(1, chunk.len())
                    );
                    let mut query = sqlx::query_as::<_, UserRow>(&sql);
                    for phone in chunk {
                        query = query.bind(phone.as_str());
                    }
                    for row in query.fetch_all(&self.0).await? {
                        users.push(row.into_record()?);
                    }
                }
                Ok(users)
            }

            async fn update_settings(&self, user: &UserRecord) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE users SET display_name = $1, region = $2, registration_lock = $3 \
                     WHERE id = $4",
                )
                .bind(&user.display_name)
                .bind(&user.region)
                .bind(user.registration_lock)
                .bind(&user.id)
                .execute(&self.0)
                .await?;
                Ok(())
            }

            async fn set_password(
                &self,
                user_id: &str,
                password_hash: &str,
                keep_session: &str,
            ) -> StoreResult<()> {
                let mut tx = self.0.begin().await?;
                sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(password_hash)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
                    .bind(user_id)
                    .bind(keep_session)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }
        }

        #[async_trait]
        impl VerificationRepo for $db {
            async fn replace(&self, v: &VerificationRecord) -> StoreResult<()> {
                let mut tx = self.0.begin().await?;
                sqlx::query("DELETE FROM verifications WHERE phone = $1")
                    .bind(v.phone.as_str())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO verifications (id, phone, code_hash, attempts, sms_sent, \
                     expires_at, resend_after, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&v.id)
                .bind(v.phone.as_str())
                .bind(&v.code_hash)
                .bind(i64::from(v.attempts))
                .bind(i64::from(v.sms_sent))
                .bind(ms(v.expires_at))
                .bind(ms(v.resend_after))
                .bind(ms(v.created_at))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn get(&self, id: &str) -> StoreResult<Option<VerificationRecord>> {
                let sql = format!("SELECT {VERIFICATION_COLUMNS} FROM verifications WHERE id = $1");
                sqlx::query_as::<_, VerificationRow>(&sql)
                    .bind(id)
                    .fetch_optional(&self.0)
                    .await?
                    .map(VerificationRow::into_record)
                    .transpose()
            }

            async fn update_code(&self, v: &VerificationRecord) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE verifications SET code_hash = $1, attempts = $2, sms_sent = $3, \
                     expires_at = $4, resend_after = $5 WHERE id = $6",
                )
                .bind(&v.code_hash)
                .bind(i64::from(v.attempts))
                .bind(i64::from(v.sms_sent))
                .bind(ms(v.expires_at))
                .bind(ms(v.resend_after))
                .bind(&v.id)
                .execute(&self.0)
                .await?;
                Ok(())
            }

            async fn take_attempt(&self, id: &str, max: u32) -> StoreResult<Option<u32>> {
                let row: Option<(i64,)> = sqlx::query_as(
                    "UPDATE verifications SET attempts = attempts + 1 \
                     WHERE id = $1 AND attempts < $2 RETURNING attempts",
                )
                .bind(id)
                .bind(i64::from(max))
                .fetch_optional(&self.0)
                .await?;
                Ok(row.map(|(n,)| count(n)))
            }

            async fn consume(&self, id: &str) -> StoreResult<bool> {
                // Marked expired rather than deleted, so a second use is told "expired" (410)
                // until housekeeping removes it.
                let done = sqlx::query(
                    "UPDATE verifications SET expires_at = 0 WHERE id = $1 AND expires_at > 0",
                )
                .bind(id)
                .execute(&self.0)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_expired(&self, before: DateTime<Utc>) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM verifications WHERE expires_at < $1")
                    .bind(ms(before))
                    .execute(&self.0)
                    .await?;
                Ok(done.rows_affected())
            }
        }

        #[async_trait]
        impl SessionRepo for $db {
            async fn create(&self, session: &SessionRecord) -> StoreResult<()> {
                Self::insert_session(&self.0, session).await
            }

            async fn by_token_hash(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
                let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1");
                sqlx::query_as::<_, SessionRow>(&sql)
                    .bind(token_hash)
                    .fetch_optional(&self.0)
                    .await?
                    .map(SessionRow::into_record)
                    .transpose()
            }

            async fn list(&self, user_id: &str) -> StoreResult<Vec<SessionRecord>> {
                let sql = format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 \
                     ORDER BY created_at, id"
                );
                sqlx::query_as::<_, SessionRow>(&sql)
                    .bind(user_id)
                    .fetch_all(&self.0)
                    .await?
                    .into_iter()
                    .map(SessionRow::into_record)
                    .collect()
            }

            async fn delete(&self, user_id: &str, session_id: &str) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id = $2")
                    .bind(user_id)
                    .bind(session_id)
                    .execute(&self.0)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn touch(&self, session_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
                    .bind(ms(at))
                    .bind(session_id)
                    .execute(&self.0)
                    .await?;
                Ok(())
            }
        }

        #[async_trait]
        impl RateLimitRepo for $db {
            async fn count_since(
                &self,
                bucket: &str,
                since: DateTime<Utc>,
            ) -> StoreResult<(u32, Option<DateTime<Utc>>)> {
                let (n, oldest): (i64, Option<i64>) = sqlx::query_as(
                    "SELECT COUNT(*), MIN(at) FROM rate_events WHERE bucket = $1 AND at > $2",
                )
                .bind(bucket)
                .bind(ms(since))
                .fetch_one(&self.0)
                .await?;
                Ok((count(n), oldest.map(time).transpose()?))
            }

            async fn record(&self, buckets: &[String], at: DateTime<Utc>) -> StoreResult<()> {
                let mut tx = self.0.begin().await?;
                for bucket in buckets {
                    sqlx::query("INSERT INTO rate_events (bucket, at) VALUES ($1, $2)")
                        .bind(bucket)
                        .bind(ms(at))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn prune(&self, before: DateTime<Utc>) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM rate_events WHERE at < $1")
                    .bind(ms(before))
                    .execute(&self.0)
                    .await?;
                Ok(done.rows_affected())
            }
        }
    };
}

impl_repos!(SqliteDb, sqlx::Sqlite);
impl_repos!(PgDb, sqlx::Postgres);

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
