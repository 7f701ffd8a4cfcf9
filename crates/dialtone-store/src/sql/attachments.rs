//! The SQL of attachments.

use async_trait::async_trait;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{CHUNK, Dialect, SqlDb, ms, placeholders, time};
use crate::{AttachmentRecord, AttachmentRepo, StoreResult};

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    id: String,
    owner_id: String,
    sha256: String,
    size: i64,
    content_type: String,
    filename: Option<String>,
    thumbnail_sha: Option<String>,
    thumbnail_type: Option<String>,
    width: Option<i64>,
    height: Option<i64>,
    created_at: i64,
}

impl AttachmentRow {
    fn into_record(self) -> StoreResult<AttachmentRecord> {
        let dim = |d: Option<i64>| d.and_then(|d| u32::try_from(d).ok());
        Ok(AttachmentRecord {
            created_at: time(self.created_at)?,
            size: u64::try_from(self.size).unwrap_or(0),
            width: dim(self.width),
            height: dim(self.height),
            id: self.id,
            owner_id: self.owner_id,
            sha256: self.sha256,
            content_type: self.content_type,
            filename: self.filename,
            thumbnail_sha: self.thumbnail_sha,
            thumbnail_type: self.thumbnail_type,
        })
    }
}

#[async_trait]
impl<D> AttachmentRepo for SqlDb<D>
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
    async fn create(&self, a: &AttachmentRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO attachments (id, owner_id, sha256, size, content_type, filename, \
             thumbnail_sha, thumbnail_type, width, height, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(a.id.as_str())
        .bind(&a.owner_id)
        .bind(&a.sha256)
        .bind(i64::try_from(a.size).unwrap_or(i64::MAX))
        .bind(&a.content_type)
        .bind(&a.filename)
        .bind(&a.thumbnail_sha)
        .bind(&a.thumbnail_type)
        .bind(a.width.map(i64::from))
        .bind(a.height.map(i64::from))
        .bind(ms(a.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get(&self, id: &str) -> StoreResult<Option<AttachmentRecord>> {
        sqlx::query_as::<_, AttachmentRow>(
            "SELECT id, owner_id, sha256, size, content_type, filename, thumbnail_sha, \
             thumbnail_type, width, height, created_at FROM attachments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(AttachmentRow::into_record)
        .transpose()
    }

    async fn get_many(&self, ids: &[String]) -> StoreResult<Vec<AttachmentRecord>> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let sql = D::batch_statement(format!(
                "SELECT id, owner_id, sha256, size, content_type, filename, thumbnail_sha, \
                 thumbnail_type, width, height, created_at FROM attachments WHERE id IN ({})",
                placeholders(1, chunk.len())
            ));
            let mut query = sqlx::query_as::<_, AttachmentRow>(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                found.push(row.into_record()?);
            }
        }
        Ok(found)
    }

    async fn accessible(&self, id: &str, user_id: &str) -> StoreResult<bool> {
        let (ok,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM attachments WHERE id = $1 AND owner_id = $2) \
             OR EXISTS (SELECT 1 FROM messages m JOIN conversation_members cm \
               ON cm.conversation_id = m.conversation_id AND cm.user_id = $2 \
               WHERE m.attachment_id = $1 AND m.deleted = $3 \
               AND NOT EXISTS (SELECT 1 FROM withheld w \
                               WHERE w.message_id = m.id AND w.user_id = $2))",
        )
        .bind(id)
        .bind(user_id)
        .bind(false)
        .fetch_one(&self.pool)
        .await?;
        Ok(ok)
    }

    async fn blob_users(&self, sha256: &str) -> StoreResult<u64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM attachments WHERE sha256 = $1 OR thumbnail_sha = $1",
        )
        .bind(sha256)
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
