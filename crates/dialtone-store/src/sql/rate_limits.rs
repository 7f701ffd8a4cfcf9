//! The SQL of the sliding-window rate-limit events.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{Dialect, SqlDb, count, ms, time};
use crate::{RateLimitRepo, StoreResult};

#[async_trait]
impl<D> RateLimitRepo for SqlDb<D>
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
        .fetch_one(&self.pool)
        .await?;
        Ok((count(n), oldest.map(time).transpose()?))
    }

    async fn record(&self, buckets: &[String], at: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
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
            .execute(&self.pool)
            .await?;
        Ok(D::rows_affected(&done))
    }
}
