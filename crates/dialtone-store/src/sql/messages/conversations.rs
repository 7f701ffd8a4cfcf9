//! Conversations and their members.

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::seq;
use dialtone_core::{Role, UserId};

use crate::sql::{Dialect, SqlDb, ms, time, word};
use crate::{ConversationRecord, MemberRecord, MemberRemoved, StoreResult};

#[derive(sqlx::FromRow)]
struct ConversationRow {
    id: String,
    kind: String,
    name: Option<String>,
    last_seq: i64,
    created_at: i64,
    members_version: i64,
}

/// A member read back: `(user_id, role, read_seq, delivered_seq)`.
fn member_record(
    (user_id, role, read, delivered): (String, String, i64, i64),
) -> StoreResult<MemberRecord> {
    Ok(MemberRecord {
        user_id: user_id.into(),
        role: word(&role)?,
        read_seq: seq(read),
        delivered_seq: seq(delivered),
    })
}

impl ConversationRow {
    fn into_record(self) -> StoreResult<ConversationRecord> {
        Ok(ConversationRecord {
            created_at: time(self.created_at)?,
            last_seq: seq(self.last_seq),
            id: self.id.into(),
            kind: word(&self.kind)?,
            name: self.name,
            members_version: seq(self.members_version),
        })
    }
}

/// Marks a change of a conversation's members ($1).
const BUMP_MEMBERS_VERSION: &str =
    "UPDATE conversations SET members_version = members_version + 1 WHERE id = $1";

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
    /// See [`MessageRepo::create_conversation`].
    pub(super) async fn create_conversation(
        &self,
        c: &ConversationRecord,
        members: &[(UserId, Role)],
        pair: Option<(&str, &str)>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO conversations (id, kind, name, last_seq, created_at) \
             VALUES ($1, $2, $3, 0, $4)",
        )
        .bind(c.id.as_str())
        .bind(c.kind.as_str())
        .bind(&c.name)
        .bind(ms(c.created_at))
        .execute(&mut *tx)
        .await?;
        if let Some((a, b)) = pair {
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            sqlx::query(
                "INSERT INTO direct_pairs (user_a, user_b, conversation_id) \
                 VALUES ($1, $2, $3)",
            )
            .bind(a)
            .bind(b)
            .bind(c.id.as_str())
            .execute(&mut *tx)
            .await?;
        }
        for (user_id, role) in members {
            sqlx::query(
                "INSERT INTO conversation_members (conversation_id, user_id, role, \
                 joined_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(c.id.as_str())
            .bind(user_id.as_str())
            .bind(role.as_str())
            .bind(ms(c.created_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// See [`MessageRepo::direct_conversation`].
    pub(super) async fn direct_conversation(
        &self,
        a: &str,
        b: &str,
    ) -> StoreResult<Option<String>> {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT conversation_id FROM direct_pairs WHERE user_a = $1 AND user_b = $2",
        )
        .bind(a)
        .bind(b)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id,)| id))
    }

    /// See [`MessageRepo::conversation`].
    pub(super) async fn conversation(&self, id: &str) -> StoreResult<Option<ConversationRecord>> {
        sqlx::query_as::<_, ConversationRow>(
            "SELECT id, kind, name, last_seq, created_at, members_version FROM conversations \
             WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(ConversationRow::into_record)
        .transpose()
    }

    /// See [`MessageRepo::conversations_of`].
    pub(super) async fn conversations_of(
        &self,
        user_id: &str,
    ) -> StoreResult<Vec<ConversationRecord>> {
        sqlx::query_as::<_, ConversationRow>(
            "SELECT c.id, c.kind, c.name, c.last_seq, c.created_at, c.members_version \
             FROM conversations c \
             JOIN conversation_members cm ON cm.conversation_id = c.id \
             WHERE cm.user_id = $1 ORDER BY c.created_at DESC, c.id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(ConversationRow::into_record)
        .collect()
    }

    /// See [`MessageRepo::members`].
    pub(super) async fn members(&self, conversation_id: &str) -> StoreResult<Vec<MemberRecord>> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT user_id, role, read_seq, delivered_seq FROM conversation_members \
             WHERE conversation_id = $1 ORDER BY joined_at, user_id",
        )
        .bind(conversation_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(member_record).collect()
    }

    /// See [`MessageRepo::member`].
    pub(super) async fn member(
        &self,
        conversation_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<MemberRecord>> {
        let row: Option<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT user_id, role, read_seq, delivered_seq FROM conversation_members \
             WHERE conversation_id = $1 AND user_id = $2",
        )
        .bind(conversation_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(member_record).transpose()
    }

    /// See [`MessageRepo::add_members`].
    pub(super) async fn add_members(
        &self,
        conversation_id: &str,
        members: &[(UserId, Role)],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for (user_id, role) in members {
            sqlx::query(
                "INSERT INTO conversation_members (conversation_id, user_id, role, \
                 joined_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(conversation_id)
            .bind(user_id.as_str())
            .bind(role.as_str())
            .bind(ms(at))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(BUMP_MEMBERS_VERSION)
            .bind(conversation_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// See [`MessageRepo::remove_member`].
    pub(super) async fn remove_member(
        &self,
        conversation_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<MemberRemoved>> {
        let mut tx = self.pool.begin().await?;
        // The conversation's row first: it serialises changes of its members (two
        // admins leaving at once must not both think the other stays).
        sqlx::query(BUMP_MEMBERS_VERSION)
            .bind(conversation_id)
            .execute(&mut *tx)
            .await?;
        let role: Option<(String,)> = sqlx::query_as(
            "DELETE FROM conversation_members WHERE conversation_id = $1 AND user_id = $2 \
             RETURNING role",
        )
        .bind(conversation_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((role,)) = role else {
            // Not a member: nothing changed (the version bump is rolled back).
            return Ok(None);
        };
        let mut removed = MemberRemoved::default();
        if word::<Role>(&role)? == Role::Admin {
            let (admins,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM conversation_members \
                 WHERE conversation_id = $1 AND role = 'admin'",
            )
            .bind(conversation_id)
            .fetch_one(&mut *tx)
            .await?;
            if admins == 0 {
                let eldest: Option<(String,)> = sqlx::query_as(
                    "SELECT user_id FROM conversation_members WHERE conversation_id = $1 \
                     ORDER BY joined_at, user_id LIMIT 1",
                )
                .bind(conversation_id)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some((eldest,)) = eldest {
                    sqlx::query(
                        "UPDATE conversation_members SET role = 'admin' \
                         WHERE conversation_id = $1 AND user_id = $2",
                    )
                    .bind(conversation_id)
                    .bind(&eldest)
                    .execute(&mut *tx)
                    .await?;
                    removed.promoted = Some(eldest.into());
                }
            }
        }
        tx.commit().await?;
        Ok(Some(removed))
    }

    /// See [`MessageRepo::rename`].
    pub(super) async fn rename(&self, conversation_id: &str, name: &str) -> StoreResult<()> {
        sqlx::query("UPDATE conversations SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(conversation_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
