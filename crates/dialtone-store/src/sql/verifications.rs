//! The SQL of pending SMS verifications.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{Dialect, SqlDb, count, ms, phone, time};
use crate::{StoreResult, VerificationRecord, VerificationRepo};

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

const VERIFICATION_COLUMNS: &str =
    "id, phone, code_hash, attempts, sms_sent, expires_at, resend_after, created_at";

#[async_trait]
impl<D> VerificationRepo for SqlDb<D>
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
    async fn replace(&self, v: &VerificationRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM verifications WHERE phone = $1")
            .bind(v.phone.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO verifications (id, phone, code_hash, attempts, sms_sent, \
             expires_at, resend_after, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(v.id.as_str())
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
            .fetch_optional(&self.pool)
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
        .bind(v.id.as_str())
        .execute(&self.pool)
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
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(n,)| count(n)))
    }

    async fn consume(&self, id: &str) -> StoreResult<bool> {
        // Marked expired rather than deleted, so a second use is told "expired" (410)
        // until housekeeping removes it.
        let done =
            sqlx::query("UPDATE verifications SET expires_at = 0 WHERE id = $1 AND expires_at > 0")
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(D::rows_affected(&done) == 1)
    }

    async fn delete_expired(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM verifications WHERE expires_at < $1")
            .bind(ms(before))
            .execute(&self.pool)
            .await?;
        Ok(D::rows_affected(&done))
    }
}
