//! The SQL of the social repositories, compiled for both engines like `sql.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dialtone_core::PhoneNumber;
use dialtone_core::presence::PresenceSetting;
use dialtone_core::privacy::{Audience, PrivacySettings, Visibility};

use std::collections::{HashMap, HashSet};

use crate::sql::{CHUNK, PgDb, SqliteDb, ms, phone, placeholders, time};
use crate::{
    ContactGroupRecord, ContactRecord, ContactRepo, Hidden, ListKind, PresenceRecord, PresenceRepo,
    PrivacyRepo, RelationFacts, StoreError, StoreResult,
};

fn tables(list: ListKind) -> (&'static str, &'static str) {
    match list {
        ListKind::Block => ("blocked_phones", "blocked_groups"),
        ListKind::Allow => ("allowed_phones", "allowed_groups"),
    }
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value}"))
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

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    owner_id: String,
    phone_mac: String,
    sealed: String,
    hidden: bool,
    created_at: i64,
}

impl ContactRow {
    fn into_record(self) -> StoreResult<ContactRecord> {
        Ok(ContactRecord {
            created_at: time(self.created_at)?,
            owner_id: self.owner_id,
            phone_mac: self.phone_mac,
            sealed: self.sealed,
            hidden: self.hidden,
        })
    }
}

const CONTACT_COLUMNS: &str = "owner_id, phone_mac, sealed, hidden, created_at";

macro_rules! impl_social {
    ($db:ty, $engine:ty) => {
        impl $db {
            /// Inserts entries; an entry already there gets the new sealed name and keeps
            /// its hidden flag, and a hidden one is left as it is unless the vault is open.
            async fn insert_contacts(
                tx: &mut sqlx::Transaction<'_, $engine>,
                owner: &str,
                entries: &[ContactRecord],
                hidden: Hidden,
            ) -> StoreResult<()> {
                // Many rows per statement: an address book is thousands of entries.
                const ROWS: usize = 100;
                let tail = match hidden {
                    Hidden::Follows => {
                        " ON CONFLICT (owner_id, phone_mac) DO UPDATE SET sealed = excluded.sealed"
                    }
                    Hidden::Untouched => {
                        " ON CONFLICT (owner_id, phone_mac) DO UPDATE SET sealed = excluded.sealed \
                         WHERE NOT contacts.hidden"
                    }
                };
                for chunk in entries.chunks(ROWS) {
                    let values: Vec<String> = (0..chunk.len())
                        .map(|i| format!("({})", placeholders(i * 5 + 1, 5)))
                        .collect();
                    let sql = format!(
                        "INSERT INTO contacts (owner_id, phone_mac, sealed, hidden, created_at) \
                         VALUES {}{tail}",
                        values.join(", ")
                    );
                    let mut query = sqlx::query(&sql);
                    for e in chunk {
                        query = query
                            .bind(owner)
                            .bind(&e.phone_mac)
                            .bind(&e.sealed)
                            .bind(e.hidden)
                            .bind(ms(e.created_at));
                    }
                    query.execute(&mut **tx).await?;
                }
                Ok(())
            }

            async fn group_phones(&self, group_id: &str) -> StoreResult<Vec<PhoneNumber>> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT phone FROM contact_group_members WHERE group_id = $1 ORDER BY phone",
                )
                .bind(group_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(|(p,)| phone(p)).collect()
            }

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
        impl PrivacyRepo for $db {
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
                user_ids: &[String],
            ) -> StoreResult<HashMap<String, PrivacySettings>> {
                let mut found: HashMap<String, PrivacySettings> = user_ids
                    .iter()
                    .map(|id| (id.clone(), PrivacySettings::default()))
                    .collect();
                for chunk in user_ids.chunks(CHUNK) {
                    let sql = format!(
                        "SELECT user_id, visibility, discoverable, last_seen FROM privacy_settings \
                         WHERE user_id IN ({})",
                        placeholders(1, chunk.len())
                    );
                    let mut query = sqlx::query_as::<_, (String, String, String, String)>(&sql);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    for (id, v, d, l) in query.fetch_all(&self.pool).await? {
                        found.insert(id, settings_of(&v, &d, &l)?);
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
                        listed.push(query.fetch_all(&self.pool).await?.into_iter().map(|(p,)| p).collect());
                    }
                    let sql = format!(
                        "SELECT phone_mac FROM contacts WHERE owner_id = $1 AND phone_mac IN ({ids})"
                    );
                    let mut query = sqlx::query_as::<_, (String,)>(&sql).bind(target_id);
                    for (_, mac) in chunk {
                        query = query.bind(mac);
                    }
                    let in_book: HashSet<String> =
                        query.fetch_all(&self.pool).await?.into_iter().map(|(m,)| m).collect();
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
                target_ids: &[String],
                viewer_phone: &PhoneNumber,
                viewer_mac: &str,
            ) -> StoreResult<HashMap<String, RelationFacts>> {
                let mut facts: HashMap<String, RelationFacts> = target_ids
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
                            if let Some(f) = facts.get_mut(owner) {
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
                            query = query.bind(id);
                        }
                        sets.push(query.fetch_all(&self.pool).await?.into_iter().map(|(o,)| o).collect());
                    }
                    for id in chunk {
                        if let Some(f) = facts.get_mut(id) {
                            f.blocked = sets.first().is_some_and(|s| s.contains(id));
                            f.allowlisted = sets.get(1).is_some_and(|s| s.contains(id));
                            f.in_target_contacts = sets.get(2).is_some_and(|s| s.contains(id));
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

            async fn add_phone(
                &self,
                owner: &str,
                list: ListKind,
                phone: &PhoneNumber,
            ) -> StoreResult<()> {
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
                Ok(done.rows_affected() > 0)
            }

            async fn add_group(&self, owner: &str, list: ListKind, group_id: &str) -> StoreResult<()> {
                let sql = format!(
                    "INSERT INTO {} (owner_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    tables(list).1
                );
                sqlx::query(&sql).bind(owner).bind(group_id).execute(&self.pool).await?;
                Ok(())
            }

            async fn remove_group(
                &self,
                owner: &str,
                list: ListKind,
                group_id: &str,
            ) -> StoreResult<bool> {
                let sql = format!(
                    "DELETE FROM {} WHERE owner_id = $1 AND group_id = $2",
                    tables(list).1
                );
                let done = sqlx::query(&sql).bind(owner).bind(group_id).execute(&self.pool).await?;
                Ok(done.rows_affected() > 0)
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
                let phones = phones.iter().map(|(p,)| phone(p)).collect::<StoreResult<_>>()?;
                Ok((phones, groups.into_iter().map(|(g,)| g).collect()))
            }

            async fn create_group(&self, group: &ContactGroupRecord) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO contact_groups (id, owner_id, name, created_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&group.id)
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
                    .bind(&group.id)
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

            async fn group(
                &self,
                owner: &str,
                group_id: &str,
            ) -> StoreResult<Option<ContactGroupRecord>> {
                Ok(self.group_rows(owner, Some(group_id)).await?.into_iter().next())
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

        #[async_trait]
        impl ContactRepo for $db {
            async fn replace(
                &self,
                owner: &str,
                entries: &[ContactRecord],
                hidden: Hidden,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM contacts WHERE owner_id = $1 AND NOT hidden")
                    .bind(owner)
                    .execute(&mut *tx)
                    .await?;
                if hidden == Hidden::Follows {
                    // Hidden entries whose numbers left the book go too.
                    let kept: HashSet<&str> = entries.iter().map(|e| e.phone_mac.as_str()).collect();
                    let hidden_macs: Vec<(String,)> = sqlx::query_as(
                        "SELECT phone_mac FROM contacts WHERE owner_id = $1 AND hidden",
                    )
                    .bind(owner)
                    .fetch_all(&mut *tx)
                    .await?;
                    for (mac,) in hidden_macs {
                        if !kept.contains(mac.as_str()) {
                            sqlx::query("DELETE FROM contacts WHERE owner_id = $1 AND phone_mac = $2")
                                .bind(owner)
                                .bind(&mac)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                }
                Self::insert_contacts(&mut tx, owner, entries, hidden).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn upsert(
                &self,
                owner: &str,
                entries: &[ContactRecord],
                hidden: Hidden,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                Self::insert_contacts(&mut tx, owner, entries, hidden).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list(&self, owner: &str) -> StoreResult<Vec<ContactRecord>> {
                let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE owner_id = $1");
                sqlx::query_as::<_, ContactRow>(&sql)
                    .bind(owner)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(ContactRow::into_record)
                    .collect()
            }

            async fn get_many(&self, owner: &str, macs: &[String]) -> StoreResult<Vec<ContactRecord>> {
                let sql = format!(
                    "SELECT {CONTACT_COLUMNS} FROM contacts WHERE owner_id = $1 AND phone_mac = $2"
                );
                let mut found = Vec::new();
                for mac in macs {
                    if let Some(row) = sqlx::query_as::<_, ContactRow>(&sql)
                        .bind(owner)
                        .bind(mac)
                        .fetch_optional(&self.pool)
                        .await?
                    {
                        found.push(row.into_record()?);
                    }
                }
                Ok(found)
            }

            async fn delete(&self, owner: &str, mac: &str, hidden: Hidden) -> StoreResult<bool> {
                let done = sqlx::query(
                    "DELETE FROM contacts WHERE owner_id = $1 AND phone_mac = $2 \
                     AND (NOT hidden OR $3)",
                )
                .bind(owner)
                .bind(mac)
                .bind(hidden == Hidden::Follows)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn set_hidden(
                &self,
                owner: &str,
                mac: &str,
                value: bool,
                hidden: Hidden,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE contacts SET hidden = $1 WHERE owner_id = $2 AND phone_mac = $3 \
                     AND (NOT hidden OR $4)",
                )
                .bind(value)
                .bind(owner)
                .bind(mac)
                .bind(hidden == Hidden::Follows)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn take_discovery(
                &self,
                owner: &str,
                wanted: u64,
                capacity: u64,
                refill_per_day: u64,
                now: DateTime<Utc>,
            ) -> StoreResult<Option<u64>> {
                let mut tx = self.pool.begin().await?;
                // Write first: this takes SQLite's write lock (a read-then-write deferred
                // transaction could not upgrade under concurrency) and PostgreSQL's row
                // lock, so two uploads of one user cannot spend the same tokens.
                sqlx::query(
                    "INSERT INTO discovery_quota (user_id, tokens, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id) DO UPDATE SET tokens = discovery_quota.tokens",
                )
                .bind(owner)
                .bind(i64::try_from(capacity).unwrap_or(i64::MAX))
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
                let row: Option<(i64, i64)> = sqlx::query_as(
                    "SELECT tokens, updated_at FROM discovery_quota WHERE user_id = $1",
                )
                .bind(owner)
                .fetch_optional(&mut *tx)
                .await?;
                let bucket = crate::quota::Bucket {
                    capacity,
                    refill_per_day,
                };
                let (tokens, updated) = row
                    .map(|(t, u)| (count(t), u))
                    .unwrap_or((capacity, ms(now)));
                let (left, wait) = bucket.take(tokens, updated, ms(now), wanted);
                if wait.is_none() {
                    sqlx::query(
                        "INSERT INTO discovery_quota (user_id, tokens, updated_at) \
                         VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET \
                         tokens = excluded.tokens, updated_at = excluded.updated_at",
                    )
                    .bind(owner)
                    .bind(i64::try_from(left).unwrap_or(i64::MAX))
                    .bind(ms(now))
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(wait)
            }

            async fn owners_of(&self, mac: &str) -> StoreResult<Vec<(String, bool)>> {
                let rows: Vec<(String, bool)> =
                    sqlx::query_as("SELECT owner_id, hidden FROM contacts WHERE phone_mac = $1")
                        .bind(mac)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows)
            }
        }

        #[async_trait]
        impl PresenceRepo for $db {
            async fn get(&self, user_id: &str) -> StoreResult<PresenceRecord> {
                let row: Option<(String, Option<String>, Option<i64>)> = sqlx::query_as(
                    "SELECT setting, text, last_seen_at FROM presence WHERE user_id = $1",
                )
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
                let Some((setting, text, last_seen_at)) = row else {
                    return Ok(PresenceRecord::default());
                };
                presence_of(&setting, text, last_seen_at)
            }

            async fn get_many(
                &self,
                user_ids: &[String],
            ) -> StoreResult<HashMap<String, PresenceRecord>> {
                let mut found: HashMap<String, PresenceRecord> = user_ids
                    .iter()
                    .map(|id| (id.clone(), PresenceRecord::default()))
                    .collect();
                for chunk in user_ids.chunks(CHUNK) {
                    let sql = format!(
                        "SELECT user_id, setting, text, last_seen_at FROM presence \
                         WHERE user_id IN ({})",
                        placeholders(1, chunk.len())
                    );
                    let mut query =
                        sqlx::query_as::<_, (String, String, Option<String>, Option<i64>)>(&sql);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    for (id, setting, text, last_seen_at) in query.fetch_all(&self.pool).await? {
                        found.insert(id, presence_of(&setting, text, last_seen_at)?);
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
                at: DateTime<Utc>,
            ) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO live_connections (id, node_id, user_id, connected_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(conn_id)
                .bind(node_id)
                .bind(user_id)
                .bind(ms(at))
                .execute(&mut *tx)
                .await?;
                let (n,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM live_connections WHERE user_id = $1")
                        .bind(user_id)
                        .fetch_one(&mut *tx)
                        .await?;
                tx.commit().await?;
                Ok(count(n))
            }

            async fn disconnect(&self, conn_id: &str) -> StoreResult<Option<(String, u64)>> {
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
                Ok(Some((user_id, count(n))))
            }

            async fn connected(&self, user_ids: &[String]) -> StoreResult<Vec<String>> {
                let mut online: HashSet<String> = HashSet::new();
                for chunk in user_ids.chunks(CHUNK) {
                    let sql = format!(
                        "SELECT DISTINCT user_id FROM live_connections WHERE user_id IN ({})",
                        placeholders(1, chunk.len())
                    );
                    let mut query = sqlx::query_as::<_, (String,)>(&sql);
                    for id in chunk {
                        query = query.bind(id);
                    }
                    online.extend(query.fetch_all(&self.pool).await?.into_iter().map(|(u,)| u));
                }
                // In the order asked.
                Ok(user_ids.iter().filter(|id| online.contains(*id)).cloned().collect())
            }

            async fn sweep_dead_nodes(&self, before: DateTime<Utc>) -> StoreResult<Vec<String>> {
                let mut tx = self.pool.begin().await?;
                let dead: Vec<(String,)> = sqlx::query_as(
                    "DELETE FROM nodes WHERE heartbeat_at < $1 RETURNING id",
                )
                .bind(ms(before))
                .fetch_all(&mut *tx)
                .await?;
                let mut users: Vec<String> = Vec::new();
                for (node,) in &dead {
                    let gone: Vec<(String,)> = sqlx::query_as(
                        "DELETE FROM live_connections WHERE node_id = $1 RETURNING user_id",
                    )
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
                    let (n,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM live_connections WHERE user_id = $1",
                    )
                    .bind(&user)
                    .fetch_one(&mut *tx)
                    .await?;
                    if n == 0 {
                        offline.push(user);
                    }
                }
                tx.commit().await?;
                Ok(offline)
            }
        }
    };
}

impl_social!(SqliteDb, sqlx::Sqlite);
impl_social!(PgDb, sqlx::Postgres);
