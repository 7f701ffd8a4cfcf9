//! Address books: upload (replace or merge), listing with discovery, delete, hide.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use dialtone_bus::Event;
use dialtone_core::{PhoneError, PhoneNumber};
use dialtone_store::{ContactRecord, Hidden, UserRecord};

use super::{PresenceView, SocialService};
use crate::{ServiceError, ServiceResult};

/// One entry as uploaded: a name and numbers in any dialable form.
#[derive(Debug, Clone)]
pub struct ContactEntry {
    /// The name in the uploader's book.
    pub name: String,
    /// Numbers as typed.
    pub phones: Vec<String>,
}

/// Replace the whole book, or merge into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadMode {
    /// The upload becomes the whole book.
    Replace,
    /// The upload is added to the book; names of existing numbers are updated.
    Merge,
}

/// What could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedEntry {
    /// The input as given.
    pub input: String,
    /// A stable reason: `invalid_phone`, `not_a_number`, `missing_region`, `too_long`,
    /// `no_phone`, `too_many_phones`, `name_too_long`.
    pub reason: &'static str,
}

/// One entry of the address book as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactView {
    /// The number.
    pub phone: PhoneNumber,
    /// The owner's name for it.
    pub name: String,
    /// Whether the owner may see it as a dialtone user.
    pub registered: bool,
    /// The user, where visible.
    pub user_id: Option<String>,
    /// Presence, where visible.
    pub presence: Option<PresenceView>,
    /// Hidden behind the vault.
    pub hidden: bool,
}

/// The book after an upload, and what was refused.
#[derive(Debug, Clone)]
pub struct UploadResult {
    /// The whole book as the owner sees it now.
    pub contacts: Vec<ContactView>,
    /// Inputs that were refused.
    pub rejected: Vec<RejectedEntry>,
}

/// How many times an upload computes its change again when another upload of the same
/// owner moved the book meanwhile, before it writes the whole book instead.
const UPLOAD_ATTEMPTS: usize = 4;

/// What an upload changes, computed from the book as it was listed.
#[derive(Default)]
struct UploadPlan {
    /// Entries to write: numbers new to the book, and new names of numbers in it.
    changed: Vec<ContactRecord>,
    /// Number hashes to drop (a replace leaving them out).
    gone: Vec<String>,
    /// Numbers new to the book (what the discovery quota counts).
    new_numbers: usize,
    /// The book as its owner is shown it afterwards: number, name, hidden.
    shown: Vec<(PhoneNumber, String, bool)>,
}

/// What a write to the book may do to hidden entries, by whether the vault is open.
fn hidden_rule(vault_open: bool) -> Hidden {
    if vault_open {
        Hidden::Follows
    } else {
        Hidden::Untouched
    }
}

fn reason(e: &PhoneError) -> &'static str {
    match e {
        PhoneError::NotANumber => "not_a_number",
        PhoneError::MissingRegion => "missing_region",
        PhoneError::TooLong => "too_long",
        PhoneError::Invalid => "invalid_phone",
    }
}

impl SocialService {
    /// Uploads an address book. Numbers are read with `region` (else the owner's region);
    /// one entry per E.164 number, the first non-empty name winning within an upload.
    /// Numbers new to the book draw on the discovery quota; over it, nothing is stored and
    /// the answer says when to retry.
    pub async fn upload_contacts(
        &self,
        owner: &UserRecord,
        entries: Vec<ContactEntry>,
        region: Option<&str>,
        mode: UploadMode,
        vault_open: bool,
    ) -> ServiceResult<UploadResult> {
        let limits = self.deps.limits;
        if entries.len() > limits.max_entries {
            return Err(ServiceError::TooManyContacts(limits.max_entries));
        }
        let region = self.region_for(owner, region)?;
        let mut book: BTreeMap<PhoneNumber, String> = BTreeMap::new();
        let mut rejected = Vec::new();
        for entry in entries {
            let name = dialtone_core::text::one_line(&entry.name);
            if name.chars().count() > limits.max_name_chars {
                rejected.push(RejectedEntry {
                    input: name.chars().take(64).collect(),
                    reason: "name_too_long",
                });
                continue;
            }
            if entry.phones.is_empty() {
                rejected.push(RejectedEntry {
                    input: name,
                    reason: "no_phone",
                });
                continue;
            }
            if entry.phones.len() > limits.max_phones_per_entry {
                rejected.push(RejectedEntry {
                    input: name,
                    reason: "too_many_phones",
                });
                continue;
            }
            for input in entry.phones {
                match PhoneNumber::parse(&input, Some(region)) {
                    Ok(phone) => {
                        let slot = book.entry(phone).or_default();
                        if slot.is_empty() {
                            slot.clone_from(&name);
                        }
                    }
                    Err(e) => rejected.push(RejectedEntry {
                        input: input.chars().take(64).collect(),
                        reason: reason(&e),
                    }),
                }
            }
        }
        let now = self.now();
        // Each number's place in the book, by its keyed hash.
        let book: Vec<(String, PhoneNumber, String)> = book
            .into_iter()
            .map(|(phone, name)| (self.sealer.mac(&phone), phone, name))
            .collect();
        let store = &self.deps.store;
        let hidden = hidden_rule(vault_open);
        // Only what changed is written: a phone re-syncing an unchanged book writes
        // nothing. The change is computed from the book as listed and applied only if the
        // book has not moved since (another upload of the same owner): else again.
        let mut attempts = 0;
        // New numbers already paid for by an earlier attempt.
        let mut charged = 0;
        let shown = loop {
            attempts += 1;
            let seen = store.contacts.list(&owner.id).await?;
            let plan = self.plan(owner, &seen, &book, mode, vault_open, now)?;
            let due = plan.new_numbers.saturating_sub(charged);
            if due > 0
                && let Some(wait) = store
                    .contacts
                    .take_discovery(
                        &owner.id,
                        u64::try_from(due).unwrap_or(u64::MAX),
                        limits.discovery_capacity,
                        limits.discovery_refill_per_day,
                        now,
                    )
                    .await?
            {
                return Err(ServiceError::RateLimited {
                    retry_after_secs: wait,
                });
            }
            charged += due;
            let moved = !plan.changed.is_empty() || !plan.gone.is_empty();
            if !moved {
                break plan.shown;
            }
            if attempts >= UPLOAD_ATTEMPTS {
                // Uploads of this owner keep crossing: write the whole book at once
                // (one transaction, last writer wins), which cannot be outrun.
                let records = self.seal_all(owner, &book, now)?;
                match mode {
                    UploadMode::Replace => {
                        store.contacts.replace(&owner.id, &records, hidden).await?
                    }
                    UploadMode::Merge => store.contacts.upsert(&owner.id, &records, hidden).await?,
                }
                self.announce(Event::ContactsChanged {
                    user_id: owner.id.clone(),
                })
                .await;
                return Ok(UploadResult {
                    contacts: self.contacts(owner, vault_open).await?,
                    rejected,
                });
            }
            if store
                .contacts
                .apply(&owner.id, &seen, &plan.changed, &plan.gone, hidden)
                .await?
            {
                self.announce(Event::ContactsChanged {
                    user_id: owner.id.clone(),
                })
                .await;
                break plan.shown;
            }
        };
        Ok(UploadResult {
            contacts: self.views_of_entries(owner, shown).await?,
            rejected,
        })
    }

    /// Seals every entry of an uploaded book.
    fn seal_all(
        &self,
        owner: &UserRecord,
        book: &[(String, PhoneNumber, String)],
        now: DateTime<Utc>,
    ) -> ServiceResult<Vec<ContactRecord>> {
        book.iter()
            .map(|(mac, phone, name)| {
                Ok(ContactRecord {
                    owner_id: owner.id.clone().into(),
                    phone_mac: mac.clone(),
                    sealed: self.sealer.seal(phone, name)?,
                    hidden: false,
                    created_at: now,
                })
            })
            .collect()
    }

    /// What an upload changes in the book as `seen`, and the book the owner is shown
    /// after it.
    fn plan(
        &self,
        owner: &UserRecord,
        seen: &[ContactRecord],
        book: &[(String, PhoneNumber, String)],
        mode: UploadMode,
        vault_open: bool,
        now: DateTime<Utc>,
    ) -> ServiceResult<UploadPlan> {
        let mut before: HashMap<&str, (&ContactRecord, PhoneNumber, String)> =
            HashMap::with_capacity(seen.len());
        for record in seen {
            let (phone, name) = self.sealer.open(&record.sealed)?;
            before.insert(record.phone_mac.as_str(), (record, phone, name));
        }
        let mut plan = UploadPlan::default();
        let mut in_book: std::collections::HashSet<&str> =
            std::collections::HashSet::with_capacity(book.len());
        for (mac, phone, name) in book {
            in_book.insert(mac.as_str());
            match before.get(mac.as_str()) {
                None => {
                    plan.new_numbers += 1;
                    plan.changed.push(ContactRecord {
                        owner_id: owner.id.clone().into(),
                        phone_mac: mac.clone(),
                        sealed: self.sealer.seal(phone, name)?,
                        hidden: false,
                        created_at: now,
                    });
                    plan.shown.push((phone.clone(), name.clone(), false));
                }
                // Without the vault a hidden entry is as if not there, and nothing may
                // change it: a phone re-syncing its book neither shows, renames nor drops it.
                Some((record, _, _)) if record.hidden && !vault_open => {}
                Some((record, _, old_name)) => {
                    if old_name != name {
                        plan.changed.push(ContactRecord {
                            sealed: self.sealer.seal(phone, name)?,
                            ..(*record).clone()
                        });
                    }
                    plan.shown
                        .push((phone.clone(), name.clone(), record.hidden));
                }
            }
        }
        for (mac, (record, phone, name)) in before {
            if in_book.contains(mac) || (record.hidden && !vault_open) {
                continue;
            }
            match mode {
                UploadMode::Replace => plan.gone.push(mac.to_owned()),
                UploadMode::Merge => plan.shown.push((phone, name, record.hidden)),
            }
        }
        Ok(plan)
    }

    /// The owner's address book, hidden entries only with the vault open; each entry shows
    /// a dialtone user only where that user lets the owner find and see them.
    pub async fn contacts(
        &self,
        owner: &UserRecord,
        vault_open: bool,
    ) -> ServiceResult<Vec<ContactView>> {
        let entries = self.open_book(owner, vault_open).await?;
        self.views_of_entries(owner, entries).await
    }

    /// The owner's entries opened (number, name, hidden), hidden ones only with the vault
    /// open.
    async fn open_book(
        &self,
        owner: &UserRecord,
        vault_open: bool,
    ) -> ServiceResult<Vec<(PhoneNumber, String, bool)>> {
        let records = self.deps.store.contacts.list(&owner.id).await?;
        let mut entries = Vec::with_capacity(records.len());
        for record in records {
            if record.hidden && !vault_open {
                continue;
            }
            let (phone, name) = self.sealer.open(&record.sealed)?;
            entries.push((phone, name, record.hidden));
        }
        Ok(entries)
    }

    /// Book entries (number, name, hidden) as their owner sees them: each shows a
    /// dialtone user only where that user lets the owner find and see them.
    async fn views_of_entries(
        &self,
        owner: &UserRecord,
        entries: Vec<(PhoneNumber, String, bool)>,
    ) -> ServiceResult<Vec<ContactView>> {
        let phones: Vec<PhoneNumber> = entries.iter().map(|(p, _, _)| p.clone()).collect();
        let users: HashMap<PhoneNumber, UserRecord> = self
            .deps
            .store
            .accounts
            .users_by_phones(&phones)
            .await?
            .into_iter()
            .map(|u| (u.phone.clone(), u))
            .collect();
        let targets: Vec<UserRecord> = users.values().cloned().collect();
        let views = self.views_of(owner, &targets).await?;
        // Presence flows to the owner only from those the owner accepts, too.
        let mut presences = self.presences_seen_by(owner, &targets).await?;
        let mut views_out = Vec::with_capacity(entries.len());
        for (phone, name, hidden) in entries {
            let mut view = ContactView {
                phone,
                name,
                registered: false,
                user_id: None,
                presence: None,
                hidden,
            };
            if let Some(target) = users.get(&view.phone)
                && views.get(&target.id).is_some_and(|v| v.visible)
            {
                view.registered = true;
                view.presence = presences.remove(&target.id);
                view.user_id = Some(target.id.clone().into());
            }
            views_out.push(view);
        }
        let mut views = views_out;
        // Registered contacts first, then by name and number.
        views.sort_by(|a, b| {
            b.registered
                .cmp(&a.registered)
                .then_with(|| a.name.cmp(&b.name))
                .then_with(|| a.phone.cmp(&b.phone))
        });
        Ok(views)
    }

    /// Removes a number from the owner's book; a hidden one only with the vault open
    /// (without it, a hidden number answers as one not in the book).
    pub async fn delete_contact(
        &self,
        owner: &UserRecord,
        phone: &PhoneNumber,
        vault_open: bool,
    ) -> ServiceResult<()> {
        if !self
            .deps
            .store
            .contacts
            .delete(&owner.id, &self.sealer.mac(phone), hidden_rule(vault_open))
            .await?
        {
            return Err(ServiceError::ContactNotFound);
        }
        self.announce(Event::ContactsChanged {
            user_id: owner.id.clone(),
        })
        .await;
        Ok(())
    }

    /// Hides or shows a contact (hidden ones need the vault to be listed). Without the
    /// vault open a hidden number answers as one not in the book: it can be neither
    /// un-hidden nor told apart from a number that is not there.
    pub async fn set_contact_hidden(
        &self,
        owner: &UserRecord,
        phone: &PhoneNumber,
        hidden: bool,
        vault_open: bool,
    ) -> ServiceResult<()> {
        if self
            .deps
            .store
            .contacts
            .set_hidden(
                &owner.id,
                &self.sealer.mac(phone),
                hidden,
                hidden_rule(vault_open),
            )
            .await?
        {
            self.announce(Event::ContactsChanged {
                user_id: owner.id.clone(),
            })
            .await;
            Ok(())
        } else {
            Err(ServiceError::ContactNotFound)
        }
    }

    /// The dialtone users in the owner's address book (hidden entries only with the vault
    /// open), whether or not they let the owner see them: the caller asks the policy.
    pub async fn book_users(
        &self,
        owner: &UserRecord,
        vault_open: bool,
    ) -> ServiceResult<Vec<UserRecord>> {
        let phones: Vec<PhoneNumber> = self
            .open_book(owner, vault_open)
            .await?
            .into_iter()
            .map(|(phone, _, _)| phone)
            .collect();
        Ok(self.deps.store.accounts.users_by_phones(&phones).await?)
    }

    /// The owners of address books holding `phone` (who watches that number), and
    /// whether they hid it.
    pub async fn watchers_of(&self, phone: &PhoneNumber) -> ServiceResult<Vec<(String, bool)>> {
        Ok(self
            .deps
            .store
            .contacts
            .owners_of(&self.sealer.mac(phone))
            .await?)
    }
}
