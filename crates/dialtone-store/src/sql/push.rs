//! The SQL of Web Push subscriptions, notification settings, mutes and the badge's count.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dialtone_core::{ConversationId, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{CHUNK, Dialect, SqlDb, ms, placeholders, time};
use crate::{NotifySettings, PushRepo, PushSubscriptionRecord, StoreResult};

const COLUMNS: &str = "session_id, user_id, endpoint, p256dh, auth, created_at";

#[derive(sqlx::FromRow)]
struct SubscriptionRow {
    session_id: String,
    user_id: String,
    endpoint: String,
    p256dh: String,
    auth: String,
    created_at: i64,
}

impl SubscriptionRow {
    fn into_record(self) -> StoreResult<PushSubscriptionRecord> {
        Ok(PushSubscriptionRecord {
            session_id: self.session_id,
            user_id: self.user_id.into(),
            endpoint: self.endpoint,
            p256dh: self.p256dh,
            auth: self.auth,
            created_at: time(self.created_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SettingsRow {
    user_id: String,
    previews: bool,
    hidden_previews: bool,
    quiet_from: Option<i64>,
    quiet_to: Option<i64>,
    utc_offset_minutes: i64,
}

/// A minute of the day as stored (clamped: the service checks its input).
fn minute(m: i64) -> u16 {
    u16::try_from(m.clamp(0, 24 * 60 - 1)).unwrap_or(0)
}

impl SettingsRow {
    fn into_settings(self) -> (UserId, NotifySettings) {
        let quiet = match (self.quiet_from, self.quiet_to) {
            (Some(from), Some(to)) => Some((minute(from), minute(to))),
            _ => None,
        };
        (
            self.user_id.into(),
            NotifySettings {
                previews: self.previews,
                hidden_previews: self.hidden_previews,
                quiet,
                utc_offset_minutes: i32::try_from(self.utc_offset_minutes.clamp(-24 * 60, 24 * 60))
                    .unwrap_or(0),
            },
        )
    }
}

#[async_trait]
impl<D> PushRepo for SqlDb<D>
where
    D: Dialect,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> D::Arguments<'q>: IntoArguments<'q, D>,
    for<'q> &'q str: Encode<'q, D>,
    for<'q> Option<&'q str>: Encode<'q, D>,
    str: Type<D>,
    for<'q, 'r> String: Encode<'q, D> + Decode<'r, D> + Type<D>,
    for<'q, 'r> Option<String>: Encode<'q, D> + Decode<'r, D>,
    for<'q, 'r> i64: Encode<'q, D> + Decode<'r, D> + Type<D>,
    for<'q, 'r> Option<i64>: Encode<'q, D> + Decode<'r, D>,
    for<'q, 'r> bool: Encode<'q, D> + Decode<'r, D> + Type<D>,
    usize: ColumnIndex<D::Row>,
    for<'a> &'a str: ColumnIndex<D::Row>,
{
    async fn subscribe(&self, s: &PushSubscriptionRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1 AND session_id <> $2")
            .bind(s.endpoint.as_str())
            .bind(s.session_id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO push_subscriptions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (session_id) DO UPDATE SET endpoint = excluded.endpoint, \
             p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at"
        ))
        .bind(s.session_id.as_str())
        .bind(s.user_id.as_str())
        .bind(s.endpoint.as_str())
        .bind(s.p256dh.as_str())
        .bind(s.auth.as_str())
        .bind(ms(s.created_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn unsubscribe(&self, session_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM push_subscriptions WHERE session_id = $1")
            .bind(session_id)
            .execute(&self.pool)
            .await?;
        Ok(D::rows_affected(&done) > 0)
    }

    async fn drop_endpoint(&self, endpoint: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1")
            .bind(endpoint)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn subscribed_users(&self) -> StoreResult<Vec<UserId>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT user_id FROM push_subscriptions")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(u,)| u.into()).collect())
    }

    async fn subscription(&self, session_id: &str) -> StoreResult<Option<PushSubscriptionRecord>> {
        sqlx::query_as::<_, SubscriptionRow>(&format!(
            "SELECT {COLUMNS} FROM push_subscriptions WHERE session_id = $1"
        ))
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await?
        .map(SubscriptionRow::into_record)
        .transpose()
    }

    async fn offline_subscriptions(
        &self,
        user_ids: &[UserId],
    ) -> StoreResult<Vec<PushSubscriptionRecord>> {
        let mut out = Vec::new();
        for chunk in user_ids.chunks(CHUNK) {
            let sql = D::batch_statement(format!(
                "SELECT {COLUMNS} FROM push_subscriptions s WHERE s.user_id IN ({}) \
                 AND NOT EXISTS (SELECT 1 FROM live_connections c \
                 WHERE c.session_id = s.session_id)",
                placeholders(1, chunk.len())
            ));
            let mut query = sqlx::query_as::<_, SubscriptionRow>(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                out.push(row.into_record()?);
            }
        }
        Ok(out)
    }

    async fn notify_settings(
        &self,
        user_ids: &[UserId],
    ) -> StoreResult<HashMap<UserId, NotifySettings>> {
        let mut out: HashMap<UserId, NotifySettings> = user_ids
            .iter()
            .map(|id| (id.clone(), NotifySettings::default()))
            .collect();
        for chunk in user_ids.chunks(CHUNK) {
            let sql = D::batch_statement(format!(
                "SELECT user_id, previews, hidden_previews, quiet_from, quiet_to, \
                 utc_offset_minutes FROM notify_settings WHERE user_id IN ({})",
                placeholders(1, chunk.len())
            ));
            let mut query = sqlx::query_as::<_, SettingsRow>(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                let (id, settings) = row.into_settings();
                out.insert(id, settings);
            }
        }
        Ok(out)
    }

    async fn set_notify_settings(&self, user_id: &UserId, s: &NotifySettings) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO notify_settings (user_id, previews, hidden_previews, quiet_from, \
             quiet_to, utc_offset_minutes) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id) DO UPDATE SET previews = excluded.previews, \
             hidden_previews = excluded.hidden_previews, quiet_from = excluded.quiet_from, \
             quiet_to = excluded.quiet_to, utc_offset_minutes = excluded.utc_offset_minutes",
        )
        .bind(user_id.as_str())
        .bind(s.previews)
        .bind(s.hidden_previews)
        .bind(s.quiet.map(|(from, _)| i64::from(from)))
        .bind(s.quiet.map(|(_, to)| i64::from(to)))
        .bind(i64::from(s.utc_offset_minutes))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_muted(
        &self,
        conversation_id: &ConversationId,
        user_id: &UserId,
        until: Option<DateTime<Utc>>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE conversation_members SET muted_until = $1 \
             WHERE conversation_id = $2 AND user_id = $3",
        )
        .bind(until.map(ms))
        .bind(conversation_id.as_str())
        .bind(user_id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(D::rows_affected(&done) > 0)
    }

    async fn muted(
        &self,
        conversation_id: &ConversationId,
        user_ids: &[UserId],
        now: DateTime<Utc>,
    ) -> StoreResult<HashMap<UserId, DateTime<Utc>>> {
        let mut out = HashMap::new();
        for chunk in user_ids.chunks(CHUNK) {
            let sql = D::batch_statement(format!(
                "SELECT user_id, muted_until FROM conversation_members \
                 WHERE conversation_id = $1 AND muted_until > $2 AND user_id IN ({})",
                placeholders(3, chunk.len())
            ));
            let mut query = sqlx::query_as::<_, (String, i64)>(&sql)
                .bind(conversation_id.as_str())
                .bind(ms(now));
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for (user, until) in query.fetch_all(&self.pool).await? {
                out.insert(user.into(), time(until)?);
            }
        }
        Ok(out)
    }

    async fn mutes_of(
        &self,
        user_id: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<HashMap<ConversationId, DateTime<Utc>>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT conversation_id, muted_until FROM conversation_members \
             WHERE user_id = $1 AND muted_until > $2",
        )
        .bind(user_id.as_str())
        .bind(ms(now))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(c, until)| Ok((c.into(), time(until)?)))
            .collect()
    }

    async fn unread_total(&self, user_id: &UserId, now: DateTime<Utc>) -> StoreResult<u64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM conversation_members cm \
             JOIN messages m ON m.conversation_id = cm.conversation_id AND m.seq > cm.read_seq \
             WHERE cm.user_id = $1 AND (cm.muted_until IS NULL OR cm.muted_until <= $2) \
             AND m.sender_id <> $1 AND NOT EXISTS (SELECT 1 FROM withheld w \
             WHERE w.message_id = m.id AND w.user_id = $1)",
        )
        .bind(user_id.as_str())
        .bind(ms(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
