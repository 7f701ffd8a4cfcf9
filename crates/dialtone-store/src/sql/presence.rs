//! The SQL of presence, live connections and node heartbeats.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dialtone_core::UserId;
use dialtone_core::presence::PresenceSetting;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use std::collections::{HashMap, HashSet};

use super::{CHUNK, Dialect, SqlDb, corrupt, count_u64, ms, placeholders, time};
use crate::{PresenceRecord, PresenceRepo, StoreResult};

fn presence_of(
    setting: &str,
    text: Option<String>,
    last_seen_at: Option<i64>,
) -> StoreResult<PresenceRecord> {
    Ok(PresenceRecord {
        setting: PresenceSetting::from_name(setting).ok_or_else(|| corrupt("presence", setting))?,
        text,
        last_seen_at: last_seen_at.map(time).transpose()?,
    })
}

#[async_trait]
impl<D> PresenceRepo for SqlDb<D>
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
    async fn get(&self, user_id: &str) -> StoreResult<PresenceRecord> {
        let row: Option<(String, Option<String>, Option<i64>)> =
            sqlx::query_as("SELECT setting, text, last_seen_at FROM presence WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        let Some((setting, text, last_seen_at)) = row else {
            return Ok(PresenceRecord::default());
        };
        presence_of(&setting, text, last_seen_at)
    }

    async fn get_many(&self, user_ids: &[UserId]) -> StoreResult<HashMap<UserId, PresenceRecord>> {
        let mut found: HashMap<UserId, PresenceRecord> = user_ids
            .iter()
            .map(|id| (id.clone(), PresenceRecord::default()))
            .collect();
        for chunk in user_ids.chunks(CHUNK) {
            let sql = D::batch_statement(format!(
                "SELECT user_id, setting, text, last_seen_at FROM presence \
                 WHERE user_id IN ({})",
                placeholders(1, chunk.len())
            ));
            let mut query =
                sqlx::query_as::<_, (String, String, Option<String>, Option<i64>)>(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for (id, setting, text, last_seen_at) in query.fetch_all(&self.pool).await? {
                found.insert(id.into(), presence_of(&setting, text, last_seen_at)?);
            }
        }
        Ok(found)
    }

    async fn set(
        &self,
        user_id: &str,
        setting: PresenceSetting,
        text: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO presence (user_id, setting, text) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET setting = excluded.setting, \
             text = excluded.text",
        )
        .bind(user_id)
        .bind(setting.as_str())
        .bind(text)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_last_seen(&self, user_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO presence (user_id, setting, last_seen_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
        )
        .bind(user_id)
        .bind(PresenceSetting::default().as_str())
        .bind(ms(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn heartbeat(&self, node_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO nodes (id, heartbeat_at) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        )
        .bind(node_id)
        .bind(ms(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn connect(
        &self,
        conn_id: &str,
        node_id: &str,
        user_id: &str,
        session_id: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO live_connections (id, node_id, user_id, session_id, connected_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(conn_id)
        .bind(node_id)
        .bind(user_id)
        .bind(session_id)
        .bind(ms(at))
        .execute(&mut *tx)
        .await?;
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM live_connections WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(count_u64(n))
    }

    async fn disconnect(&self, conn_id: &str) -> StoreResult<Option<(UserId, u64)>> {
        let mut tx = self.pool.begin().await?;
        let gone: Option<(String,)> =
            sqlx::query_as("DELETE FROM live_connections WHERE id = $1 RETURNING user_id")
                .bind(conn_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((user_id,)) = gone else {
            return Ok(None);
        };
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM live_connections WHERE user_id = $1")
                .bind(&user_id)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(Some((user_id.into(), count_u64(n))))
    }

    async fn connected(&self, user_ids: &[UserId]) -> StoreResult<Vec<UserId>> {
        let mut online: HashSet<String> = HashSet::new();
        for chunk in user_ids.chunks(CHUNK) {
            let sql = D::batch_statement(format!(
                "SELECT DISTINCT user_id FROM live_connections WHERE user_id IN ({})",
                placeholders(1, chunk.len())
            ));
            let mut query = sqlx::query_as::<_, (String,)>(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            online.extend(query.fetch_all(&self.pool).await?.into_iter().map(|(u,)| u));
        }
        // In the order asked.
        Ok(user_ids
            .iter()
            .filter(|id| online.contains(id.as_str()))
            .cloned()
            .collect())
    }

    async fn sweep_dead_nodes(&self, before: DateTime<Utc>) -> StoreResult<Vec<UserId>> {
        let mut tx = self.pool.begin().await?;
        let dead: Vec<(String,)> =
            sqlx::query_as("DELETE FROM nodes WHERE heartbeat_at < $1 RETURNING id")
                .bind(ms(before))
                .fetch_all(&mut *tx)
                .await?;
        let mut users: Vec<String> = Vec::new();
        for (node,) in &dead {
            let gone: Vec<(String,)> =
                sqlx::query_as("DELETE FROM live_connections WHERE node_id = $1 RETURNING user_id")
                    .bind(node)
                    .fetch_all(&mut *tx)
                    .await?;
            users.extend(gone.into_iter().map(|(u,)| u));
        }
        // Connections whose node row never existed or is already gone.
        let orphans: Vec<(String,)> = sqlx::query_as(
            "DELETE FROM live_connections WHERE node_id NOT IN (SELECT id FROM nodes) \
             RETURNING user_id",
        )
        .fetch_all(&mut *tx)
        .await?;
        users.extend(orphans.into_iter().map(|(u,)| u));
        users.sort();
        users.dedup();
        let mut offline = Vec::new();
        for user in users {
            let (n,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM live_connections WHERE user_id = $1")
                    .bind(&user)
                    .fetch_one(&mut *tx)
                    .await?;
            if n == 0 {
                offline.push(user.into());
            }
        }
        tx.commit().await?;
        Ok(offline)
    }
}
