//! The SQL of accounts: users and their settings.

use async_trait::async_trait;
use dialtone_core::{PhoneNumber, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{CHUNK, Dialect, SqlDb, ms, phone, placeholders, time};
use crate::{AccountRepo, SessionRecord, StoreResult, UserRecord};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    phone: String,
    region: String,
    display_name: Option<String>,
    password_set: bool,
    registration_lock: bool,
    created_at: i64,
}

impl UserRow {
    fn into_record(self) -> StoreResult<UserRecord> {
        Ok(UserRecord {
            phone: phone(&self.phone)?,
            created_at: time(self.created_at)?,
            id: self.id.into(),
            region: self.region,
            display_name: self.display_name,
            password_set: self.password_set,
            registration_lock: self.registration_lock,
        })
    }
}

/// The hash itself is never read with the user ([`AccountRepo::password_hash`]).
const USER_COLUMNS: &str = "id, phone, region, display_name, \
     (password_hash IS NOT NULL) AS password_set, registration_lock, created_at";

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
    async fn user_where(&self, column: &str, value: &str) -> StoreResult<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = $1");
        sqlx::query_as::<_, UserRow>(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await?
            .map(UserRow::into_record)
            .transpose()
    }
}

#[async_trait]
impl<D> AccountRepo for SqlDb<D>
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
    async fn create_user_with_session(
        &self,
        user: &UserRecord,
        session: &SessionRecord,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO users (id, phone, region, display_name, registration_lock, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(user.id.as_str())
        .bind(user.phone.as_str())
        .bind(&user.region)
        .bind(&user.display_name)
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

    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<UserRecord>> {
        let mut users = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = D::batch_statement(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE id IN ({})",
                placeholders(1, chunk.len())
            ));
            let mut query = sqlx::query_as::<_, UserRow>(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                users.push(row.into_record()?);
            }
        }
        Ok(users)
    }

    async fn users_by_phones(&self, phones: &[PhoneNumber]) -> StoreResult<Vec<UserRecord>> {
        let mut users = Vec::new();
        for chunk in phones.chunks(CHUNK) {
            let sql = D::batch_statement(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE phone IN ({})",
                placeholders(1, chunk.len())
            ));
            let mut query = sqlx::query_as::<_, UserRow>(&sql);
            for phone in chunk {
                query = query.bind(phone.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                users.push(row.into_record()?);
            }
        }
        Ok(users)
    }

    async fn password_hash(&self, user_id: &str) -> StoreResult<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(hash,)| hash))
    }

    async fn update_settings(&self, user: &UserRecord) -> StoreResult<()> {
        sqlx::query(
            "UPDATE users SET display_name = $1, region = $2, registration_lock = $3 \
             WHERE id = $4",
        )
        .bind(&user.display_name)
        .bind(&user.region)
        .bind(user.registration_lock)
        .bind(user.id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        keep_session: &str,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
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
