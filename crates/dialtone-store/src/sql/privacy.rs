//! The SQL of privacy: settings, block and allow lists, contact groups, and the
//! relations between viewers and targets that they make.

use async_trait::async_trait;
use dialtone_core::privacy::{Audience, PrivacySettings, Visibility};
use dialtone_core::{PhoneNumber, UserId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use std::collections::{HashMap, HashSet};

use super::{CHUNK, Dialect, SqlDb, corrupt, ms, phone, placeholders, time};
use crate::{ContactGroupRecord, ListKind, PrivacyRepo, RelationFacts, StoreResult};

fn tables(list: ListKind) -> (&'static str, &'static str) {
    match list {
        ListKind::Block => ("blocked_phones", "blocked_groups"),
        ListKind::Allow => ("allowed_phones", "allowed_groups"),
    }
}

fn settings_of(
    visibility: &str,
    discoverable: &str,
    last_seen: &str,
) -> StoreResult<PrivacySettings> {
    Ok(PrivacySettings {
        visibility: Visibility::from_name(visibility)
            .ok_or_else(|| corrupt("visibility", visibility))?,
        discoverable: Audience::from_name(discoverable)
            .ok_or_else(|| corrupt("discoverable", discoverable))?,
        last_seen: Audience::from_name(last_seen).ok_or_else(|| corrupt("last_seen", last_seen))?,
    })
}

/// Which of the target ids (after `$1`, `$2` = the viewer's values) a query selects.
const BLOCKED_AMONG: &str = "SELECT owner_id FROM blocked_phones WHERE phone = $1 AND owner_id IN (IDS) \
     UNION SELECT g.owner_id FROM blocked_groups g JOIN contact_group_members m \
     ON m.group_id = g.group_id WHERE m.phone = $1 AND g.owner_id IN (IDS)";

const ALLOWED_AMONG: &str = "SELECT owner_id FROM allowed_phones WHERE phone = $1 AND owner_id IN (IDS) \
     UNION SELECT g.owner_id FROM allowed_groups g JOIN contact_group_members m \
     ON m.group_id = g.group_id WHERE m.phone = $1 AND g.owner_id IN (IDS)";

const IN_BOOK_AMONG: &str =
    "SELECT owner_id FROM contacts WHERE phone_mac = $2 AND owner_id IN (IDS)";

/// From this many targets on, `relations_to` reads the viewer's side (who lists the
/// viewer) instead of each target's lists.
const BY_VIEWER_FROM: usize = 64;

/// Owners who block the viewer ($1 phone), directly or by a group; $2 unused.
const BLOCKED_BY: &str = "SELECT owner_id FROM blocked_phones WHERE phone = $1 AND $2 IS NOT NULL \
     UNION SELECT g.owner_id FROM blocked_groups g JOIN contact_group_members m \
     ON m.group_id = g.group_id WHERE m.phone = $1";

/// Owners who allow the viewer ($1 phone), directly or by a group; $2 unused.
const ALLOWED_BY: &str = "SELECT owner_id FROM allowed_phones WHERE phone = $1 AND $2 IS NOT NULL \
     UNION SELECT g.owner_id FROM allowed_groups g JOIN contact_group_members m \
     ON m.group_id = g.group_id WHERE m.phone = $1";

/// Owners whose address book holds the viewer ($2 keyed hash); $1 unused.
const IN_BOOK_OF: &str = "SELECT owner_id FROM contacts WHERE phone_mac = $2 AND $1 IS NOT NULL";

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
    /// The members of a group, by number.
    async fn group_phones(&self, group_id: &str) -> StoreResult<Vec<PhoneNumber>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT phone FROM contact_group_members WHERE group_id = $1 ORDER BY phone",
        )
        .bind(group_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|(p,)| phone(p)).collect()
    }

    /// The owner's groups, or the one of them with id `only`, oldest first.
    async fn group_rows(
        &self,
        owner: &str,
        only: Option<&str>,
    ) -> StoreResult<Vec<ContactGroupRecord>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT id, name, created_at FROM contact_groups \
             WHERE owner_id = $1 AND ($2 IS NULL OR id = $2) ORDER BY created_at, id",
        )
        .bind(owner)
        .bind(only)
        .fetch_all(&self.pool)
        .await?;
        let mut groups = Vec::with_capacity(rows.len());
        for (id, name, created_at) in rows {
            groups.push(ContactGroupRecord {
                phones: self.group_phones(&id).await?,
                created_at: time(created_at)?,
                owner_id: owner.to_owned(),
                id,
                name,
            });
        }
        Ok(groups)
    }
}

#[async_trait]
impl<D> PrivacyRepo for SqlDb<D>
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
    async fn settings(&self, user_id: &str) -> StoreResult<PrivacySettings> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT visibility, discoverable, last_seen FROM privacy_settings \
             WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some((visibility, discoverable, last_seen)) = row else {
            return Ok(PrivacySettings::default());
        };
        settings_of(&visibility, &discoverable, &last_seen)
    }

    async fn settings_many(
        &self,
        user_ids: &[UserId],
    ) -> StoreResult<HashMap<UserId, PrivacySettings>> {
        let mut found: HashMap<UserId, PrivacySettings> = user_ids
            .iter()
            .map(|id| (id.clone(), PrivacySettings::default()))
            .collect();
        for chunk in user_ids.chunks(CHUNK) {
            let sql = D::batch_statement(format!(
                "SELECT user_id, visibility, discoverable, last_seen FROM privacy_settings \
                 WHERE user_id IN ({})",
                placeholders(1, chunk.len())
            ));
            let mut query = sqlx::query_as::<_, (String, String, String, String)>(&sql);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for (id, v, d, l) in query.fetch_all(&self.pool).await? {
                found.insert(id.into(), settings_of(&v, &d, &l)?);
            }
        }
        Ok(found)
    }

    async fn relations_from(
        &self,
        target_id: &str,
        viewers: &[(PhoneNumber, String)],
    ) -> StoreResult<HashMap<String, RelationFacts>> {
        let mut facts: HashMap<String, RelationFacts> = HashMap::new();
        for chunk in viewers.chunks(CHUNK) {
            let ids = placeholders(2, chunk.len());
            let mut listed: Vec<HashSet<String>> = Vec::with_capacity(2);
            for (phones, groups) in [
                ("blocked_phones", "blocked_groups"),
                ("allowed_phones", "allowed_groups"),
            ] {
                let sql = format!(
                    "SELECT phone FROM {phones} WHERE owner_id = $1 AND phone IN ({ids}) \
                     UNION SELECT m.phone FROM {groups} g JOIN contact_group_members m \
                     ON m.group_id = g.group_id WHERE g.owner_id = $1 AND m.phone IN ({ids})"
                );
                let mut query = sqlx::query_as::<_, (String,)>(&sql).bind(target_id);
                for (phone, _) in chunk {
                    query = query.bind(phone.as_str());
                }
                listed.push(
                    query
                        .fetch_all(&self.pool)
                        .await?
                        .into_iter()
                        .map(|(p,)| p)
                        .collect(),
                );
            }
            let sql = format!(
                "SELECT phone_mac FROM contacts WHERE owner_id = $1 AND phone_mac IN ({ids})"
            );
            let mut query = sqlx::query_as::<_, (String,)>(&sql).bind(target_id);
            for (_, mac) in chunk {
                query = query.bind(mac);
            }
            let in_book: HashSet<String> = query
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|(m,)| m)
                .collect();
            for (phone, mac) in chunk {
                facts.insert(
                    phone.to_string(),
                    RelationFacts {
                        blocked: listed.first().is_some_and(|s| s.contains(phone.as_str())),
                        allowlisted: listed.get(1).is_some_and(|s| s.contains(phone.as_str())),
                        in_target_contacts: in_book.contains(mac),
                    },
                );
            }
        }
        Ok(facts)
    }

    async fn relations_to(
        &self,
        target_ids: &[UserId],
        viewer_phone: &PhoneNumber,
        viewer_mac: &str,
    ) -> StoreResult<HashMap<UserId, RelationFacts>> {
        let mut facts: HashMap<UserId, RelationFacts> = target_ids
            .iter()
            .map(|id| (id.clone(), RelationFacts::default()))
            .collect();
        if target_ids.len() > BY_VIEWER_FROM {
            // Many targets (a large group): everyone whose lists or book hold the
            // viewer, by the viewer's number (indexed), kept for the targets.
            let mut sets: Vec<Vec<String>> = Vec::with_capacity(3);
            for sql in [BLOCKED_BY, ALLOWED_BY, IN_BOOK_OF] {
                let owners: Vec<(String,)> = sqlx::query_as(sql)
                    .bind(viewer_phone.as_str())
                    .bind(viewer_mac)
                    .fetch_all(&self.pool)
                    .await?;
                sets.push(owners.into_iter().map(|(o,)| o).collect());
            }
            for (i, owners) in sets.iter().enumerate() {
                for owner in owners {
                    if let Some(f) = facts.get_mut(owner.as_str()) {
                        match i {
                            0 => f.blocked = true,
                            1 => f.allowlisted = true,
                            _ => f.in_target_contacts = true,
                        }
                    }
                }
            }
            return Ok(facts);
        }
        for chunk in target_ids.chunks(CHUNK) {
            let ids = placeholders(3, chunk.len());
            let mut sets: Vec<HashSet<String>> = Vec::with_capacity(3);
            for template in [BLOCKED_AMONG, ALLOWED_AMONG, IN_BOOK_AMONG] {
                let sql = template.replace("IDS", &ids);
                // Every statement binds the same parameters; $1 or $2 may go unused.
                let sql = format!("{sql} AND $1 IS NOT NULL AND $2 IS NOT NULL");
                let mut query = sqlx::query_as::<_, (String,)>(&sql)
                    .bind(viewer_phone.as_str())
                    .bind(viewer_mac);
                for id in chunk {
                    query = query.bind(id.as_str());
                }
                sets.push(
                    query
                        .fetch_all(&self.pool)
                        .await?
                        .into_iter()
                        .map(|(o,)| o)
                        .collect(),
                );
            }
            for id in chunk {
                if let Some(f) = facts.get_mut(id) {
                    f.blocked = sets.first().is_some_and(|s| s.contains(id.as_str()));
                    f.allowlisted = sets.get(1).is_some_and(|s| s.contains(id.as_str()));
                    f.in_target_contacts = sets.get(2).is_some_and(|s| s.contains(id.as_str()));
                }
            }
        }
        Ok(facts)
    }

    async fn set_settings(&self, user_id: &str, s: &PrivacySettings) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO privacy_settings (user_id, visibility, discoverable, last_seen) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
             visibility = excluded.visibility, discoverable = excluded.discoverable, \
             last_seen = excluded.last_seen",
        )
        .bind(user_id)
        .bind(s.visibility.as_str())
        .bind(s.discoverable.as_str())
        .bind(s.last_seen.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn vault_hash(&self, user_id: &str) -> StoreResult<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT vault_hash FROM privacy_settings WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(h,)| h))
    }

    async fn set_vault_hash(&self, user_id: &str, hash: &str) -> StoreResult<()> {
        let d = PrivacySettings::default();
        sqlx::query(
            "INSERT INTO privacy_settings \
             (user_id, visibility, discoverable, last_seen, vault_hash) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id) DO UPDATE SET vault_hash = excluded.vault_hash",
        )
        .bind(user_id)
        .bind(d.visibility.as_str())
        .bind(d.discoverable.as_str())
        .bind(d.last_seen.as_str())
        .bind(hash)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn add_phone(&self, owner: &str, list: ListKind, phone: &PhoneNumber) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO {} (owner_id, phone) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            tables(list).0
        );
        sqlx::query(&sql)
            .bind(owner)
            .bind(phone.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn remove_phone(
        &self,
        owner: &str,
        list: ListKind,
        phone: &PhoneNumber,
    ) -> StoreResult<bool> {
        let sql = format!(
            "DELETE FROM {} WHERE owner_id = $1 AND phone = $2",
            tables(list).0
        );
        let done = sqlx::query(&sql)
            .bind(owner)
            .bind(phone.as_str())
            .execute(&self.pool)
            .await?;
        Ok(D::rows_affected(&done) > 0)
    }

    async fn add_group(&self, owner: &str, list: ListKind, group_id: &str) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO {} (owner_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            tables(list).1
        );
        sqlx::query(&sql)
            .bind(owner)
            .bind(group_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn remove_group(&self, owner: &str, list: ListKind, group_id: &str) -> StoreResult<bool> {
        let sql = format!(
            "DELETE FROM {} WHERE owner_id = $1 AND group_id = $2",
            tables(list).1
        );
        let done = sqlx::query(&sql)
            .bind(owner)
            .bind(group_id)
            .execute(&self.pool)
            .await?;
        Ok(D::rows_affected(&done) > 0)
    }

    async fn list(
        &self,
        owner: &str,
        list: ListKind,
    ) -> StoreResult<(Vec<PhoneNumber>, Vec<String>)> {
        let (phones_table, groups_table) = tables(list);
        let phones: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT phone FROM {phones_table} WHERE owner_id = $1 ORDER BY phone"
        ))
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        let groups: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT group_id FROM {groups_table} WHERE owner_id = $1 ORDER BY group_id"
        ))
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        let phones = phones
            .iter()
            .map(|(p,)| phone(p))
            .collect::<StoreResult<_>>()?;
        Ok((phones, groups.into_iter().map(|(g,)| g).collect()))
    }

    async fn create_group(&self, group: &ContactGroupRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO contact_groups (id, owner_id, name, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(group.id.as_str())
        .bind(&group.owner_id)
        .bind(&group.name)
        .bind(ms(group.created_at))
        .execute(&mut *tx)
        .await?;
        for p in &group.phones {
            sqlx::query(
                "INSERT INTO contact_group_members (group_id, phone) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(group.id.as_str())
            .bind(p.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn groups(&self, owner: &str) -> StoreResult<Vec<ContactGroupRecord>> {
        self.group_rows(owner, None).await
    }

    async fn group(&self, owner: &str, group_id: &str) -> StoreResult<Option<ContactGroupRecord>> {
        Ok(self
            .group_rows(owner, Some(group_id))
            .await?
            .into_iter()
            .next())
    }

    async fn relation(
        &self,
        target_id: &str,
        viewer_phone: &PhoneNumber,
        viewer_mac: &str,
    ) -> StoreResult<RelationFacts> {
        let (blocked, allowlisted, in_target_contacts): (bool, bool, bool) = sqlx::query_as(
            "SELECT \
               EXISTS (SELECT 1 FROM blocked_phones WHERE owner_id = $1 AND phone = $2) \
               OR EXISTS (SELECT 1 FROM blocked_groups g JOIN contact_group_members m \
                          ON m.group_id = g.group_id \
                          WHERE g.owner_id = $1 AND m.phone = $2), \
               EXISTS (SELECT 1 FROM allowed_phones WHERE owner_id = $1 AND phone = $2) \
               OR EXISTS (SELECT 1 FROM allowed_groups g JOIN contact_group_members m \
                          ON m.group_id = g.group_id \
                          WHERE g.owner_id = $1 AND m.phone = $2), \
               EXISTS (SELECT 1 FROM contacts WHERE owner_id = $1 AND phone_mac = $3)",
        )
        .bind(target_id)
        .bind(viewer_phone.as_str())
        .bind(viewer_mac)
        .fetch_one(&self.pool)
        .await?;
        Ok(RelationFacts {
            blocked,
            allowlisted,
            in_target_contacts,
        })
    }
}
