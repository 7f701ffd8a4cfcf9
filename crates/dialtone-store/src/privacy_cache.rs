//! Privacy facts kept in memory, for a database that only this process writes (embedded
//! SQLite: the binary is its only client). Every send and every fan-out asks the privacy
//! policy, whose facts — settings, who blocks or allows whom, whose address book holds
//! whom — change seldom; reading them again for every message was most of a message's
//! database work.
//!
//! Correctness rests on one rule: every write that can change a fact goes through the two
//! wrappers here, and each such write empties the cache after it is done and before it
//! returns. A read notes the cache's generation before going to the database and keeps its
//! answer only if no write ended meanwhile, so an answer read before a write can never be
//! kept after it. A change is thus seen by every read that starts after the write
//! returned, exactly as without the cache. (Several processes writing one database could
//! not keep this promise: PostgreSQL deployments read the facts every time.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dialtone_core::privacy::PrivacySettings;
use dialtone_core::{PhoneNumber, UserId};

use crate::StoreResult;
use crate::social::{
    ContactGroupRecord, ContactRecord, ContactRepo, Hidden, ListKind, PrivacyRepo, RelationFacts,
};

/// Facts kept before the cache starts over (each a few dozen bytes).
const KEPT: usize = 200_000;

/// The facts read so far, valid until the next write.
#[derive(Default)]
struct Facts {
    /// Bumped by every write: answers read under an older generation are not kept.
    generation: u64,
    settings: HashMap<UserId, PrivacySettings>,
    /// By (viewer's E.164 number, target user id).
    relations: HashMap<(String, UserId), RelationFacts>,
}

impl Facts {
    fn make_room(&mut self, adding: usize) {
        if self.settings.len() + self.relations.len() + adding > KEPT {
            self.settings.clear();
            self.relations.clear();
        }
    }
}

/// The cache shared by the two wrappers.
#[derive(Default)]
pub(crate) struct PrivacyCache {
    facts: Mutex<Facts>,
}

impl PrivacyCache {
    fn lock(&self) -> MutexGuard<'_, Facts> {
        self.facts.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Forgets everything; called after every write that can change a fact.
    fn forget(&self) {
        let mut facts = self.lock();
        facts.generation += 1;
        facts.settings.clear();
        facts.relations.clear();
    }

    /// The kept relations of `viewer` to `targets`, and the targets not kept.
    fn relations_to(
        &self,
        viewer: &str,
        targets: &[UserId],
    ) -> (HashMap<UserId, RelationFacts>, Vec<UserId>) {
        let facts = self.lock();
        let mut found = HashMap::with_capacity(targets.len());
        let mut missing = Vec::new();
        for target in targets {
            match facts.relations.get(&(viewer.to_owned(), target.clone())) {
                Some(f) => {
                    found.insert(target.clone(), *f);
                }
                None => missing.push(target.clone()),
            }
        }
        (found, missing)
    }

    /// Keeps relations read under `generation`, unless a write ended since.
    fn keep_relations(
        &self,
        generation: u64,
        read: impl Iterator<Item = (String, UserId, RelationFacts)>,
    ) {
        let read: Vec<_> = read.collect();
        let mut facts = self.lock();
        if facts.generation != generation {
            return;
        }
        facts.make_room(read.len());
        for (viewer, target, f) in read {
            facts.relations.insert((viewer, target), f);
        }
    }
}

/// [`PrivacyRepo`] with its facts kept in a [`PrivacyCache`].
pub(crate) struct CachedPrivacy {
    pub(crate) inner: Arc<dyn PrivacyRepo>,
    pub(crate) cache: Arc<PrivacyCache>,
}

/// [`ContactRepo`] whose writes empty the [`PrivacyCache`] (address books say who is in
/// whose contacts).
pub(crate) struct CachedContacts {
    pub(crate) inner: Arc<dyn ContactRepo>,
    pub(crate) cache: Arc<PrivacyCache>,
}

/// Runs a write, then empties the cache whether it worked or not (a failed write may
/// still have changed something).
async fn writing<T>(
    cache: &PrivacyCache,
    write: impl Future<Output = StoreResult<T>>,
) -> StoreResult<T> {
    let done = write.await;
    cache.forget();
    done
}

#[async_trait]
impl PrivacyRepo for CachedPrivacy {
    async fn settings(&self, user_id: &str) -> StoreResult<PrivacySettings> {
        let ids = [UserId::from(user_id)];
        let mut many = self.settings_many(&ids).await?;
        Ok(many.remove(user_id).unwrap_or_default())
    }

    async fn settings_many(
        &self,
        user_ids: &[UserId],
    ) -> StoreResult<HashMap<UserId, PrivacySettings>> {
        let (mut found, missing, generation) = {
            let facts = self.cache.lock();
            let mut found = HashMap::with_capacity(user_ids.len());
            let mut missing = Vec::new();
            for id in user_ids {
                match facts.settings.get(id) {
                    Some(s) => {
                        found.insert(id.clone(), *s);
                    }
                    None => missing.push(id.clone()),
                }
            }
            (found, missing, facts.generation)
        };
        if missing.is_empty() {
            return Ok(found);
        }
        let read = self.inner.settings_many(&missing).await?;
        {
            let mut facts = self.cache.lock();
            if facts.generation == generation {
                facts.make_room(missing.len());
                for id in &missing {
                    // Those never set are kept as the defaults they read as.
                    let s = read.get(id).copied().unwrap_or_default();
                    facts.settings.insert(id.clone(), s);
                }
            }
        }
        found.extend(read);
        Ok(found)
    }

    async fn relations_from(
        &self,
        target_id: &str,
        viewers: &[(PhoneNumber, String)],
    ) -> StoreResult<HashMap<String, RelationFacts>> {
        let generation = self.cache.generation();
        let mut found = HashMap::with_capacity(viewers.len());
        let mut missing = Vec::new();
        {
            let facts = self.cache.lock();
            for (phone, mac) in viewers {
                match facts
                    .relations
                    .get(&(phone.as_str().to_owned(), UserId::from(target_id)))
                {
                    Some(f) => {
                        found.insert(phone.as_str().to_owned(), *f);
                    }
                    None => missing.push((phone.clone(), mac.clone())),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let read = self.inner.relations_from(target_id, &missing).await?;
        self.cache.keep_relations(
            generation,
            missing.iter().map(|(phone, _)| {
                let f = read.get(phone.as_str()).copied().unwrap_or_default();
                (phone.as_str().to_owned(), UserId::from(target_id), f)
            }),
        );
        found.extend(read);
        Ok(found)
    }

    async fn relations_to(
        &self,
        target_ids: &[UserId],
        viewer_phone: &PhoneNumber,
        viewer_mac: &str,
    ) -> StoreResult<HashMap<UserId, RelationFacts>> {
        let generation = self.cache.generation();
        let viewer = viewer_phone.as_str();
        let (mut found, missing) = self.cache.relations_to(viewer, target_ids);
        if missing.is_empty() {
            return Ok(found);
        }
        let read = self
            .inner
            .relations_to(&missing, viewer_phone, viewer_mac)
            .await?;
        self.cache.keep_relations(
            generation,
            missing.iter().map(|target| {
                let f = read.get(target).copied().unwrap_or_default();
                (viewer.to_owned(), target.clone(), f)
            }),
        );
        found.extend(read);
        Ok(found)
    }

    async fn relation(
        &self,
        target_id: &str,
        viewer_phone: &PhoneNumber,
        viewer_mac: &str,
    ) -> StoreResult<RelationFacts> {
        let targets = [UserId::from(target_id)];
        let mut facts = self
            .relations_to(&targets, viewer_phone, viewer_mac)
            .await?;
        Ok(facts.remove(target_id).unwrap_or_default())
    }

    async fn set_settings(&self, user_id: &str, settings: &PrivacySettings) -> StoreResult<()> {
        writing(&self.cache, self.inner.set_settings(user_id, settings)).await
    }

    async fn vault_hash(&self, user_id: &str) -> StoreResult<Option<String>> {
        self.inner.vault_hash(user_id).await
    }

    async fn set_vault_hash(&self, user_id: &str, hash: &str) -> StoreResult<()> {
        writing(&self.cache, self.inner.set_vault_hash(user_id, hash)).await
    }

    async fn add_phone(&self, owner: &str, list: ListKind, phone: &PhoneNumber) -> StoreResult<()> {
        writing(&self.cache, self.inner.add_phone(owner, list, phone)).await
    }

    async fn remove_phone(
        &self,
        owner: &str,
        list: ListKind,
        phone: &PhoneNumber,
    ) -> StoreResult<bool> {
        writing(&self.cache, self.inner.remove_phone(owner, list, phone)).await
    }

    async fn add_group(&self, owner: &str, list: ListKind, group_id: &str) -> StoreResult<()> {
        writing(&self.cache, self.inner.add_group(owner, list, group_id)).await
    }

    async fn remove_group(&self, owner: &str, list: ListKind, group_id: &str) -> StoreResult<bool> {
        writing(&self.cache, self.inner.remove_group(owner, list, group_id)).await
    }

    async fn list(
        &self,
        owner: &str,
        list: ListKind,
    ) -> StoreResult<(Vec<PhoneNumber>, Vec<String>)> {
        self.inner.list(owner, list).await
    }

    async fn create_group(&self, group: &ContactGroupRecord) -> StoreResult<()> {
        writing(&self.cache, self.inner.create_group(group)).await
    }

    async fn groups(&self, owner: &str) -> StoreResult<Vec<ContactGroupRecord>> {
        self.inner.groups(owner).await
    }

    async fn group(&self, owner: &str, group_id: &str) -> StoreResult<Option<ContactGroupRecord>> {
        self.inner.group(owner, group_id).await
    }
}

#[async_trait]
impl ContactRepo for CachedContacts {
    async fn replace(
        &self,
        owner: &str,
        entries: &[ContactRecord],
        hidden: Hidden,
    ) -> StoreResult<()> {
        writing(&self.cache, self.inner.replace(owner, entries, hidden)).await
    }

    async fn upsert(
        &self,
        owner: &str,
        entries: &[ContactRecord],
        hidden: Hidden,
    ) -> StoreResult<()> {
        writing(&self.cache, self.inner.upsert(owner, entries, hidden)).await
    }

    async fn apply(
        &self,
        owner: &str,
        seen: &[ContactRecord],
        changed: &[ContactRecord],
        gone: &[String],
        hidden: Hidden,
    ) -> StoreResult<bool> {
        // Only numbers entering or leaving the book change a privacy fact (whose book
        // holds whom); a new name for a number already there does not.
        let before: std::collections::HashSet<&str> =
            seen.iter().map(|c| c.phone_mac.as_str()).collect();
        let numbers_move = !gone.is_empty()
            || changed
                .iter()
                .any(|c| !before.contains(c.phone_mac.as_str()));
        let write = self.inner.apply(owner, seen, changed, gone, hidden);
        if numbers_move {
            writing(&self.cache, write).await
        } else {
            write.await
        }
    }

    async fn list(&self, owner: &str) -> StoreResult<Vec<ContactRecord>> {
        self.inner.list(owner).await
    }

    async fn get_many(&self, owner: &str, macs: &[String]) -> StoreResult<Vec<ContactRecord>> {
        self.inner.get_many(owner, macs).await
    }

    async fn delete(&self, owner: &str, mac: &str, hidden: Hidden) -> StoreResult<bool> {
        writing(&self.cache, self.inner.delete(owner, mac, hidden)).await
    }

    async fn set_hidden(
        &self,
        owner: &str,
        mac: &str,
        value: bool,
        hidden: Hidden,
    ) -> StoreResult<bool> {
        writing(
            &self.cache,
            self.inner.set_hidden(owner, mac, value, hidden),
        )
        .await
    }

    async fn owners_of(&self, mac: &str) -> StoreResult<Vec<(String, bool)>> {
        self.inner.owners_of(mac).await
    }

    async fn take_discovery(
        &self,
        owner: &str,
        wanted: u64,
        capacity: u64,
        refill_per_day: u64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<u64>> {
        // The discovery bucket is no privacy fact.
        self.inner
            .take_discovery(owner, wanted, capacity, refill_per_day, now)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_read_across_a_write_is_not_kept() {
        let cache = PrivacyCache::default();
        let read =
            || std::iter::once(("+1".to_owned(), UserId::from("t"), RelationFacts::default()));
        let before = cache.generation();
        // A write ends while the read is at the database.
        cache.forget();
        cache.keep_relations(before, read());
        let (found, missing) = cache.relations_to("+1", &["t".into()]);
        assert!(found.is_empty() && missing == ["t"]);
        // Read again with no write in between: kept.
        cache.keep_relations(cache.generation(), read());
        let (found, missing) = cache.relations_to("+1", &["t".into()]);
        assert!(found.contains_key("t") && missing.is_empty());
    }

    #[test]
    fn the_cache_starts_over_when_full() {
        let cache = PrivacyCache::default();
        let many = (0..KEPT).map(|i| {
            (
                "+1".to_owned(),
                UserId::from(format!("t{i}")),
                RelationFacts::default(),
            )
        });
        cache.keep_relations(cache.generation(), many);
        assert_eq!(cache.lock().relations.len(), KEPT);
        cache.keep_relations(
            cache.generation(),
            std::iter::once(("+2".to_owned(), UserId::from("u"), RelationFacts::default())),
        );
        assert_eq!(cache.lock().relations.len(), 1);
    }
}
