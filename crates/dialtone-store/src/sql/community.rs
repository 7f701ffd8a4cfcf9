//! The SQL of the community: profiles, items with their attachments and named people and
//! groups, comments, likes, notifications.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use dialtone_core::privacy::{Audience, ItemAudience, SpaceWindow};
use dialtone_core::{PhoneNumber, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{CHUNK, Dialect, SqlDb, corrupt, ms, phone, placeholders, time};
use crate::{
    CommentRecord, CommunityRepo, ItemCursor, ItemKind, ItemQuery, ItemRecord, LikeRecord,
    LinkRecord, NotificationKind, NotificationRecord, ProfileRecord, StoreResult,
};

/// Owners whose newest items one statement reads (SQLite allows 500 parts in a compound
/// statement).
const OWNERS_PER_STATEMENT: usize = 100;

#[derive(sqlx::FromRow)]
struct ProfileRow {
    user_id: String,
    signature: Option<String>,
    bio: Option<String>,
    region: Option<String>,
    gender: Option<String>,
    birthday: Option<String>,
    region_visibility: String,
    gender_visibility: String,
    birthday_visibility: String,
    avatar_id: Option<String>,
    cover_id: Option<String>,
    space_window: String,
    updated_at: i64,
}

const PROFILE_COLUMNS: &str = "user_id, signature, bio, region, gender, birthday, \
    region_visibility, gender_visibility, birthday_visibility, avatar_id, cover_id, \
    space_window, updated_at";

fn audience(s: &str) -> StoreResult<Audience> {
    Audience::from_name(s).ok_or_else(|| corrupt("visibility", s))
}

impl ProfileRow {
    fn into_record(self) -> StoreResult<ProfileRecord> {
        Ok(ProfileRecord {
            region_visibility: audience(&self.region_visibility)?,
            gender_visibility: audience(&self.gender_visibility)?,
            birthday_visibility: audience(&self.birthday_visibility)?,
            space_window: SpaceWindow::from_name(&self.space_window)
                .ok_or_else(|| corrupt("space window", &self.space_window))?,
            updated_at: time(self.updated_at)?,
            user_id: self.user_id.into(),
            signature: self.signature,
            bio: self.bio,
            region: self.region,
            gender: self.gender,
            birthday: self.birthday,
            avatar_id: self.avatar_id,
            cover_id: self.cover_id,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: String,
    owner_id: String,
    kind: String,
    audience: String,
    text: String,
    place: Option<String>,
    link_url: Option<String>,
    link_title: Option<String>,
    link_summary: Option<String>,
    link_image: Option<String>,
    created_at: i64,
    edited_at: Option<i64>,
    title: Option<String>,
    body: Option<String>,
    body_html: Option<String>,
    draft: bool,
    parent_id: Option<String>,
    position: Option<i64>,
    cover_id: Option<String>,
}

const ITEM_COLUMNS: &str = "id, owner_id, kind, audience, text, place, link_url, link_title, \
    link_summary, link_image, created_at, edited_at, title, body, body_html, draft, \
    parent_id, position, cover_id";

impl ItemRow {
    fn into_record(self) -> StoreResult<ItemRecord> {
        Ok(ItemRecord {
            kind: ItemKind::from_name(&self.kind)
                .ok_or_else(|| corrupt("item kind", &self.kind))?,
            audience: ItemAudience::from_name(&self.audience)
                .ok_or_else(|| corrupt("audience", &self.audience))?,
            created_at: time(self.created_at)?,
            edited_at: self.edited_at.map(time).transpose()?,
            link: self.link_url.map(|url| LinkRecord {
                url,
                title: self.link_title,
                summary: self.link_summary,
                image_id: self.link_image,
            }),
            id: self.id,
            owner_id: self.owner_id.into(),
            people: Vec::new(),
            groups: Vec::new(),
            text: self.text,
            place: self.place,
            attachments: Vec::new(),
            title: self.title,
            body: self.body,
            body_html: self.body_html,
            draft: self.draft,
            parent_id: self.parent_id,
            position: self.position,
            cover_id: self.cover_id,
            tags: Vec::new(),
        })
    }
}

#[derive(sqlx::FromRow)]
struct NotificationRow {
    id: String,
    user_id: String,
    actor_id: String,
    kind: String,
    item_id: String,
    comment_id: Option<String>,
    created_at: i64,
    read: bool,
}

impl NotificationRow {
    fn into_record(self) -> StoreResult<NotificationRecord> {
        Ok(NotificationRecord {
            kind: NotificationKind::from_name(&self.kind)
                .ok_or_else(|| corrupt("notification kind", &self.kind))?,
            created_at: time(self.created_at)?,
            id: self.id,
            user_id: self.user_id.into(),
            actor_id: self.actor_id.into(),
            item_id: self.item_id,
            comment_id: self.comment_id,
            read: self.read,
        })
    }
}

type CommentRow = (String, String, String, Option<String>, String, i64);

fn comment_of(
    (id, item_id, author_id, reply_to, text, at): CommentRow,
) -> StoreResult<CommentRecord> {
    Ok(CommentRecord {
        id,
        item_id,
        author_id: author_id.into(),
        reply_to,
        text,
        created_at: time(at)?,
    })
}

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
    /// Rows of `table` (`item_id` and one more column) for some items, by item, in
    /// `order`.
    async fn item_rows(
        &self,
        table: &str,
        column: &str,
        order: &str,
        ids: &[String],
    ) -> StoreResult<HashMap<String, Vec<String>>> {
        let mut found: HashMap<String, Vec<String>> = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = D::batch_statement(format!(
                "SELECT item_id, {column} FROM {table} WHERE item_id IN ({}) ORDER BY item_id, {order}",
                placeholders(1, chunk.len())
            ));
            let mut query = sqlx::query_as::<_, (String, String)>(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for (item, value) in query.fetch_all(&self.pool).await? {
                found.entry(item).or_default().push(value);
            }
        }
        Ok(found)
    }

    /// Items read back whole: their attachments and named people and groups.
    async fn whole_items(&self, rows: Vec<ItemRow>) -> StoreResult<Vec<ItemRecord>> {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut attachments = self
            .item_rows(
                "community_item_attachments",
                "attachment_id",
                "position",
                &ids,
            )
            .await?;
        let mut people = self
            .item_rows("community_item_people", "phone", "phone", &ids)
            .await?;
        let mut groups = self
            .item_rows("community_item_groups", "group_id", "group_id", &ids)
            .await?;
        let mut tags = self
            .item_rows("community_item_tags", "tag", "tag", &ids)
            .await?;
        rows.into_iter()
            .map(|row| {
                let mut item = row.into_record()?;
                item.attachments = attachments.remove(&item.id).unwrap_or_default();
                item.groups = groups.remove(&item.id).unwrap_or_default();
                item.tags = tags.remove(&item.id).unwrap_or_default();
                item.people = people
                    .remove(&item.id)
                    .unwrap_or_default()
                    .iter()
                    .map(|p| phone(p))
                    .collect::<StoreResult<_>>()?;
                Ok(item)
            })
            .collect()
    }

    /// (time, id) of the newest `per_owner` items of each of `owners` that `q` asks for,
    /// from `since` on.
    async fn newest_of(
        &self,
        q: &ItemQuery<'_>,
        owners: &[UserId],
        per_owner: usize,
        since: Option<i64>,
    ) -> StoreResult<Vec<(i64, String)>> {
        // Shared parameters first, then one per owner.
        let kinds = placeholders(1, q.kinds.len());
        let mut next = q.kinds.len() + 1;
        let mut filter = format!("kind IN ({kinds}) AND parent_id IS NULL AND draft = ${next}");
        next += 1;
        if q.tag.is_some() {
            filter.push_str(&format!(
                " AND id IN (SELECT item_id FROM community_item_tags WHERE tag = ${next})"
            ));
            next += 1;
        }
        if q.before.is_some() {
            filter.push_str(&format!(
                " AND (created_at < ${a} OR (created_at = ${a} AND id < ${b}))",
                a = next,
                b = next + 1
            ));
            next += 2;
        }
        if since.is_some() {
            filter.push_str(&format!(" AND created_at >= ${next}"));
            next += 1;
        }
        let selects: Vec<String> = (0..owners.len())
            .map(|i| {
                format!(
                    "SELECT * FROM (SELECT created_at, id FROM community_items \
                     WHERE owner_id = ${} AND {filter} \
                     ORDER BY created_at DESC, id DESC LIMIT {}) AS o{i}",
                    next + i,
                    per_owner
                )
            })
            .collect();
        let sql = selects.join(" UNION ALL ");
        let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
        for kind in q.kinds {
            query = query.bind(kind.as_str());
        }
        query = query.bind(q.drafts);
        if let Some(tag) = q.tag {
            query = query.bind(tag);
        }
        if let Some(c) = q.before {
            query = query.bind(ms(c.created_at)).bind(c.id.as_str());
        }
        if let Some(since) = since {
            query = query.bind(since);
        }
        for owner in owners {
            query = query.bind(owner.as_str());
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// Inserts one item with its attachments, named people and groups, and tags.
    async fn insert_item(tx: &mut sqlx::Transaction<'_, D>, item: &ItemRecord) -> StoreResult<()> {
        let link = item.link.as_ref();
        sqlx::query(&format!(
            "INSERT INTO community_items ({ITEM_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             $16, $17, $18, $19)"
        ))
        .bind(item.id.as_str())
        .bind(item.owner_id.as_str())
        .bind(item.kind.as_str())
        .bind(item.audience.as_str())
        .bind(item.text.as_str())
        .bind(item.place.as_deref())
        .bind(link.map(|l| l.url.as_str()))
        .bind(link.and_then(|l| l.title.as_deref()))
        .bind(link.and_then(|l| l.summary.as_deref()))
        .bind(link.and_then(|l| l.image_id.as_deref()))
        .bind(ms(item.created_at))
        .bind(item.edited_at.map(ms))
        .bind(item.title.as_deref())
        .bind(item.body.as_deref())
        .bind(item.body_html.as_deref())
        .bind(item.draft)
        .bind(item.parent_id.as_deref())
        .bind(item.position)
        .bind(item.cover_id.as_deref())
        .execute(&mut **tx)
        .await?;
        for (position, attachment) in item.attachments.iter().enumerate() {
            sqlx::query(
                "INSERT INTO community_item_attachments (item_id, position, attachment_id) \
                 VALUES ($1, $2, $3)",
            )
            .bind(item.id.as_str())
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(attachment.as_str())
            .execute(&mut **tx)
            .await?;
        }
        Self::insert_audience(tx, item).await
    }

    /// Writes an item's named people and groups, and its tags.
    async fn insert_audience(
        tx: &mut sqlx::Transaction<'_, D>,
        item: &ItemRecord,
    ) -> StoreResult<()> {
        for t in &item.tags {
            sqlx::query("INSERT INTO community_item_tags (item_id, tag) VALUES ($1, $2)")
                .bind(item.id.as_str())
                .bind(t.as_str())
                .execute(&mut **tx)
                .await?;
        }
        for p in &item.people {
            sqlx::query("INSERT INTO community_item_people (item_id, phone) VALUES ($1, $2)")
                .bind(item.id.as_str())
                .bind(p.as_str())
                .execute(&mut **tx)
                .await?;
        }
        for g in &item.groups {
            sqlx::query("INSERT INTO community_item_groups (item_id, group_id) VALUES ($1, $2)")
                .bind(item.id.as_str())
                .bind(g.as_str())
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl<D> CommunityRepo for SqlDb<D>
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
    async fn profile(&self, user_id: &str) -> StoreResult<Option<ProfileRecord>> {
        sqlx::query_as::<_, ProfileRow>(&format!(
            "SELECT {PROFILE_COLUMNS} FROM profiles WHERE user_id = $1"
        ))
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?
        .map(ProfileRow::into_record)
        .transpose()
    }

    async fn profiles(&self, user_ids: &[UserId]) -> StoreResult<HashMap<UserId, ProfileRecord>> {
        let mut found = HashMap::new();
        for chunk in user_ids.chunks(CHUNK) {
            let sql = D::batch_statement(format!(
                "SELECT {PROFILE_COLUMNS} FROM profiles WHERE user_id IN ({})",
                placeholders(1, chunk.len())
            ));
            let mut query = sqlx::query_as::<_, ProfileRow>(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                let record = row.into_record()?;
                found.insert(record.user_id.clone(), record);
            }
        }
        Ok(found)
    }

    async fn set_profile(&self, p: &ProfileRecord) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO profiles ({PROFILE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (user_id) DO UPDATE SET signature = excluded.signature, \
             bio = excluded.bio, region = excluded.region, gender = excluded.gender, \
             birthday = excluded.birthday, region_visibility = excluded.region_visibility, \
             gender_visibility = excluded.gender_visibility, \
             birthday_visibility = excluded.birthday_visibility, \
             avatar_id = excluded.avatar_id, cover_id = excluded.cover_id, \
             space_window = excluded.space_window, updated_at = excluded.updated_at"
        ))
        .bind(p.user_id.as_str())
        .bind(p.signature.as_deref())
        .bind(p.bio.as_deref())
        .bind(p.region.as_deref())
        .bind(p.gender.as_deref())
        .bind(p.birthday.as_deref())
        .bind(p.region_visibility.as_str())
        .bind(p.gender_visibility.as_str())
        .bind(p.birthday_visibility.as_str())
        .bind(p.avatar_id.as_deref())
        .bind(p.cover_id.as_deref())
        .bind(p.space_window.as_str())
        .bind(ms(p.updated_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn create_items(&self, items: &[ItemRecord]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for item in items {
            Self::insert_item(&mut tx, item).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn update_item(&self, item: &ItemRecord) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let link = item.link.as_ref();
        let done = sqlx::query(
            "UPDATE community_items SET audience = $1, text = $2, place = $3, link_url = $4, \
             link_title = $5, link_summary = $6, link_image = $7, edited_at = $8, title = $9, \
             body = $10, body_html = $11, draft = $12, position = $13, cover_id = $14, \
             created_at = $15 WHERE id = $16 AND owner_id = $17",
        )
        .bind(item.audience.as_str())
        .bind(item.text.as_str())
        .bind(item.place.as_deref())
        .bind(link.map(|l| l.url.as_str()))
        .bind(link.and_then(|l| l.title.as_deref()))
        .bind(link.and_then(|l| l.summary.as_deref()))
        .bind(link.and_then(|l| l.image_id.as_deref()))
        .bind(item.edited_at.map(ms))
        .bind(item.title.as_deref())
        .bind(item.body.as_deref())
        .bind(item.body_html.as_deref())
        .bind(item.draft)
        .bind(item.position)
        .bind(item.cover_id.as_deref())
        .bind(ms(item.created_at))
        .bind(item.id.as_str())
        .bind(item.owner_id.as_str())
        .execute(&mut *tx)
        .await?;
        if D::rows_affected(&done) == 0 {
            return Ok(false);
        }
        for table in [
            "community_item_people",
            "community_item_groups",
            "community_item_tags",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE item_id = $1"))
                .bind(item.id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        Self::insert_audience(&mut tx, item).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_item(&self, owner_id: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM community_items WHERE id = $1 AND owner_id = $2")
            .bind(id)
            .bind(owner_id)
            .execute(&self.pool)
            .await?;
        Ok(D::rows_affected(&done) > 0)
    }

    async fn item(&self, id: &str) -> StoreResult<Option<ItemRecord>> {
        let rows = sqlx::query_as::<_, ItemRow>(&format!(
            "SELECT {ITEM_COLUMNS} FROM community_items WHERE id = $1"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(self.whole_items(rows).await?.pop())
    }

    async fn items_of(&self, q: &ItemQuery<'_>) -> StoreResult<Vec<ItemRecord>> {
        if q.owners.is_empty() || q.kinds.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        // Two bounded passes, OWNERS_PER_STATEMENT owners a statement, each an index walk
        // per owner: first each owner's newest item; the `limit`-th newest of those, T,
        // bounds the page (the `limit` owners with the newest items have one each at T or
        // later, so the page's items are all at T or later); then each owner's items from
        // T on. A feed of hundreds of contacts reads about a page of items, not every
        // item they have (nor `limit` of each).
        let mut firsts: Vec<(i64, String)> = Vec::new();
        for chunk in q.owners.chunks(OWNERS_PER_STATEMENT) {
            firsts.extend(self.newest_of(q, chunk, 1, None).await?);
        }
        firsts.sort_by(|a, b| b.cmp(a));
        let since = firsts.get(q.limit - 1).map(|(at, _)| *at);
        let mut newest: Vec<(i64, String)> = Vec::new();
        for chunk in q.owners.chunks(OWNERS_PER_STATEMENT) {
            newest.extend(self.newest_of(q, chunk, q.limit, since).await?);
        }
        newest.sort_by(|a, b| b.cmp(a));
        newest.truncate(q.limit);
        if newest.is_empty() {
            return Ok(Vec::new());
        }
        let sql = D::batch_statement(format!(
            "SELECT {ITEM_COLUMNS} FROM community_items WHERE id IN ({}) \
             ORDER BY created_at DESC, id DESC",
            placeholders(1, newest.len())
        ));
        let mut query = sqlx::query_as::<_, ItemRow>(&sql);
        for (_, id) in &newest {
            query = query.bind(id.as_str());
        }
        let rows = query.fetch_all(&self.pool).await?;
        self.whole_items(rows).await
    }

    async fn photos_of(&self, album_id: &str) -> StoreResult<Vec<ItemRecord>> {
        let rows = sqlx::query_as::<_, ItemRow>(&format!(
            "SELECT {ITEM_COLUMNS} FROM community_items WHERE parent_id = $1 \
             ORDER BY position, created_at, id"
        ))
        .bind(album_id)
        .fetch_all(&self.pool)
        .await?;
        self.whole_items(rows).await
    }

    async fn set_attachments(&self, item_id: &str, attachments: &[String]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM community_item_attachments WHERE item_id = $1")
            .bind(item_id)
            .execute(&mut *tx)
            .await?;
        for (position, attachment) in attachments.iter().enumerate() {
            sqlx::query(
                "INSERT INTO community_item_attachments (item_id, position, attachment_id) \
                 VALUES ($1, $2, $3)",
            )
            .bind(item_id)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(attachment.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn naming(
        &self,
        item_ids: &[String],
        phone: &PhoneNumber,
    ) -> StoreResult<HashSet<String>> {
        let mut found = HashSet::new();
        for chunk in item_ids.chunks(CHUNK) {
            let list = placeholders(2, chunk.len());
            let sql = format!(
                "SELECT item_id FROM community_item_people WHERE phone = $1 AND item_id IN ({list}) \
                 UNION SELECT g.item_id FROM community_item_groups g \
                 JOIN contact_group_members m ON m.group_id = g.group_id \
                 WHERE m.phone = $1 AND g.item_id IN ({list})"
            );
            let mut query = sqlx::query_as::<_, (String,)>(&sql).bind(phone.as_str());
            for id in chunk {
                query = query.bind(id.as_str());
            }
            found.extend(
                query
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|(id,)| id),
            );
        }
        Ok(found)
    }

    async fn items_with_attachment(&self, attachment_id: &str) -> StoreResult<Vec<ItemRecord>> {
        let rows = sqlx::query_as::<_, ItemRow>(&format!(
            "SELECT {ITEM_COLUMNS} FROM community_items WHERE link_image = $1 OR id IN \
             (SELECT item_id FROM community_item_attachments WHERE attachment_id = $1)"
        ))
        .bind(attachment_id)
        .fetch_all(&self.pool)
        .await?;
        self.whole_items(rows).await
    }

    async fn add_comment(&self, c: &CommentRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO community_comments (id, item_id, author_id, reply_to, text, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(c.id.as_str())
        .bind(c.item_id.as_str())
        .bind(c.author_id.as_str())
        .bind(c.reply_to.as_deref())
        .bind(c.text.as_str())
        .bind(ms(c.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn comment(&self, id: &str) -> StoreResult<Option<CommentRecord>> {
        sqlx::query_as::<_, CommentRow>(
            "SELECT id, item_id, author_id, reply_to, text, created_at \
             FROM community_comments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(comment_of)
        .transpose()
    }

    async fn delete_comment(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM community_comments WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(D::rows_affected(&done) > 0)
    }

    async fn comments_on(&self, item_ids: &[String]) -> StoreResult<Vec<CommentRecord>> {
        let mut found = Vec::new();
        for chunk in item_ids.chunks(CHUNK) {
            let sql = D::batch_statement(format!(
                "SELECT id, item_id, author_id, reply_to, text, created_at \
                 FROM community_comments WHERE item_id IN ({}) ORDER BY created_at, id",
                placeholders(1, chunk.len())
            ));
            let mut query = sqlx::query_as::<_, CommentRow>(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                found.push(comment_of(row)?);
            }
        }
        Ok(found)
    }

    async fn like(&self, like: &LikeRecord) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO community_likes (item_id, user_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (item_id, user_id) DO NOTHING",
        )
        .bind(like.item_id.as_str())
        .bind(like.user_id.as_str())
        .bind(ms(like.created_at))
        .execute(&self.pool)
        .await?;
        Ok(D::rows_affected(&done) > 0)
    }

    async fn unlike(&self, item_id: &str, user_id: &str) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM community_likes WHERE item_id = $1 AND user_id = $2")
            .bind(item_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM community_notifications WHERE item_id = $1 AND actor_id = $2 \
             AND kind = $3",
        )
        .bind(item_id)
        .bind(user_id)
        .bind(NotificationKind::Like.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(D::rows_affected(&done) > 0)
    }

    async fn likes_on(&self, item_ids: &[String]) -> StoreResult<Vec<LikeRecord>> {
        let mut found = Vec::new();
        for chunk in item_ids.chunks(CHUNK) {
            let sql = D::batch_statement(format!(
                "SELECT item_id, user_id, created_at FROM community_likes \
                 WHERE item_id IN ({}) ORDER BY created_at, user_id",
                placeholders(1, chunk.len())
            ));
            let mut query = sqlx::query_as::<_, (String, String, i64)>(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for (item_id, user_id, at) in query.fetch_all(&self.pool).await? {
                found.push(LikeRecord {
                    item_id,
                    user_id: user_id.into(),
                    created_at: time(at)?,
                });
            }
        }
        Ok(found)
    }

    async fn add_notifications(&self, notifications: &[NotificationRecord]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for n in notifications {
            sqlx::query(
                "INSERT INTO community_notifications \
                 (id, user_id, actor_id, kind, item_id, comment_id, created_at, read) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(n.id.as_str())
            .bind(n.user_id.as_str())
            .bind(n.actor_id.as_str())
            .bind(n.kind.as_str())
            .bind(n.item_id.as_str())
            .bind(n.comment_id.as_deref())
            .bind(ms(n.created_at))
            .bind(n.read)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn notifications(
        &self,
        user_id: &str,
        before: Option<&ItemCursor>,
        limit: usize,
        unread_only: bool,
    ) -> StoreResult<Vec<NotificationRecord>> {
        let mut sql = String::from(
            "SELECT id, user_id, actor_id, kind, item_id, comment_id, created_at, read \
             FROM community_notifications WHERE user_id = $1",
        );
        let mut next = 2;
        if before.is_some() {
            sql.push_str(" AND (created_at < $2 OR (created_at = $2 AND id < $3))");
            next = 4;
        }
        if unread_only {
            sql.push_str(&format!(" AND read = ${next}"));
        }
        sql.push_str(&format!(" ORDER BY created_at DESC, id DESC LIMIT {limit}"));
        let mut query = sqlx::query_as::<_, NotificationRow>(&sql).bind(user_id);
        if let Some(c) = before {
            query = query.bind(ms(c.created_at)).bind(c.id.as_str());
        }
        if unread_only {
            query = query.bind(false);
        }
        query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(NotificationRow::into_record)
            .collect()
    }

    async fn mark_read(&self, user_id: &str, ids: Option<&[String]>) -> StoreResult<()> {
        match ids {
            None => {
                sqlx::query("UPDATE community_notifications SET read = $1 WHERE user_id = $2")
                    .bind(true)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
            }
            Some(ids) => {
                for chunk in ids.chunks(CHUNK) {
                    let sql = format!(
                        "UPDATE community_notifications SET read = $1 WHERE user_id = $2 \
                         AND id IN ({})",
                        placeholders(3, chunk.len())
                    );
                    let mut query = sqlx::query(&sql).bind(true).bind(user_id);
                    for id in chunk {
                        query = query.bind(id.as_str());
                    }
                    query.execute(&self.pool).await?;
                }
            }
        }
        Ok(())
    }
}
