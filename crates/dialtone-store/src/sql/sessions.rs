//! The SQL of sessions: logged-in devices.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{Dialect, SqlDb, ms, time};
use crate::{SessionRecord, SessionRepo, StoreResult};

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
            user_id: self.user_id.into(),
            token_hash: self.token_hash,
            name: self.name,
        })
    }
}

const SESSION_COLUMNS: &str =
    "id, user_id, token_hash, name, created_at, last_seen_at, verified_at";

const INSERT_SESSION: &str = "INSERT INTO sessions (id, user_id, token_hash, name, created_at, \
     last_seen_at, verified_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";

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
    /// Stores a session, alone or in a transaction (a new account's first).
    pub(super) async fn insert_session<'e, E>(executor: E, s: &SessionRecord) -> StoreResult<()>
    where
        E: sqlx::Executor<'e, Database = D>,
    {
        sqlx::query(INSERT_SESSION)
            .bind(s.id.as_str())
            .bind(s.user_id.as_str())
            .bind(&s.token_hash)
            .bind(&s.name)
            .bind(ms(s.created_at))
            .bind(ms(s.last_seen_at))
            .bind(s.verified_at.map(ms))
            .execute(executor)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl<D> SessionRepo for SqlDb<D>
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
    async fn create(&self, session: &SessionRecord) -> StoreResult<()> {
        Self::insert_session(&self.pool, session).await
    }

    async fn by_token_hash(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1");
        sqlx::query_as::<_, SessionRow>(&sql)
            .bind(token_hash)
            .fetch_optional(&self.pool)
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
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(SessionRow::into_record)
            .collect()
    }

    async fn delete(&self, user_id: &str, session_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(session_id)
            .execute(&self.pool)
            .await?;
        Ok(D::rows_affected(&done) == 1)
    }

    async fn touch(&self, session_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(ms(at))
            .bind(session_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
