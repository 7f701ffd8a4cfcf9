//! Records and repository traits of the social graph: privacy settings, block and allow
//! lists, contact groups, address books, presence and live connections.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dialtone_core::presence::PresenceSetting;
use dialtone_core::privacy::PrivacySettings;
use dialtone_core::{PhoneNumber, UserId};

use crate::StoreResult;

/// One address-book entry. Its number and name are sealed by the services with a key kept
/// outside the database; `phone_mac` (a keyed hash of the number) finds it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRecord {
    /// Whose address book.
    pub owner_id: String,
    /// Keyed hash of the E.164 number.
    pub phone_mac: String,
    /// Sealed number and name.
    pub sealed: String,
    /// Left out of listings unless the vault is unlocked.
    pub hidden: bool,
    /// When it was first added.
    pub created_at: DateTime<Utc>,
}

/// A named set of numbers, usable in the block and allow lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactGroupRecord {
    /// Opaque id.
    pub id: String,
    /// Whose group.
    pub owner_id: String,
    /// Its name.
    pub name: String,
    /// Its members.
    pub phones: Vec<PhoneNumber>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// The block list or the allow list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// Numbers and groups that may not see or reach the owner.
    Block,
    /// Numbers and groups that may, in allow-list mode.
    Allow,
}

/// The facts between a viewer and a target that the stored data can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RelationFacts {
    /// The target blocked the viewer's number or a group holding it.
    pub blocked: bool,
    /// The viewer's number or a group holding it is on the target's allow list.
    pub allowlisted: bool,
    /// The viewer's number is in the target's address book.
    pub in_target_contacts: bool,
}

/// What a user says of their presence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PresenceRecord {
    /// Available, away, busy or invisible.
    pub setting: PresenceSetting,
    /// Status text.
    pub text: Option<String>,
    /// When the last device disconnected.
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// Privacy settings, lists and groups.
#[async_trait]
pub trait PrivacyRepo: Send + Sync {
    /// A user's settings (the defaults when never set).
    async fn settings(&self, user_id: &str) -> StoreResult<PrivacySettings>;
    /// The settings of many users (the defaults for those who never set any).
    async fn settings_many(
        &self,
        user_ids: &[UserId],
    ) -> StoreResult<HashMap<UserId, PrivacySettings>>;
    /// What holds between each of many viewers (number, number hash) and one target, by
    /// the viewer's E.164 number: the live fan-out's question.
    async fn relations_from(
        &self,
        target_id: &str,
        viewers: &[(PhoneNumber, String)],
    ) -> StoreResult<HashMap<String, RelationFacts>>;
    /// What holds between one viewer and each of many targets.
    async fn relations_to(
        &self,
        target_ids: &[UserId],
        viewer_phone: &PhoneNumber,
        viewer_mac: &str,
    ) -> StoreResult<HashMap<UserId, RelationFacts>>;
    /// Replaces a user's settings.
    async fn set_settings(&self, user_id: &str, settings: &PrivacySettings) -> StoreResult<()>;
    /// The Argon2id hash of the vault password, if set.
    async fn vault_hash(&self, user_id: &str) -> StoreResult<Option<String>>;
    /// Sets the vault password hash.
    async fn set_vault_hash(&self, user_id: &str, hash: &str) -> StoreResult<()>;
    /// Adds a number to a list (no error if already there).
    async fn add_phone(&self, owner: &str, list: ListKind, phone: &PhoneNumber) -> StoreResult<()>;
    /// Removes a number from a list; whether it was there.
    async fn remove_phone(
        &self,
        owner: &str,
        list: ListKind,
        phone: &PhoneNumber,
    ) -> StoreResult<bool>;
    /// Adds one of the owner's groups to a list.
    async fn add_group(&self, owner: &str, list: ListKind, group_id: &str) -> StoreResult<()>;
    /// Removes a group from a list; whether it was there.
    async fn remove_group(&self, owner: &str, list: ListKind, group_id: &str) -> StoreResult<bool>;
    /// The numbers and group ids on a list.
    async fn list(
        &self,
        owner: &str,
        list: ListKind,
    ) -> StoreResult<(Vec<PhoneNumber>, Vec<String>)>;
    /// Stores a new group with its members.
    async fn create_group(&self, group: &ContactGroupRecord) -> StoreResult<()>;
    /// The owner's groups, oldest first.
    async fn groups(&self, owner: &str) -> StoreResult<Vec<ContactGroupRecord>>;
    /// One of the owner's groups.
    async fn group(&self, owner: &str, group_id: &str) -> StoreResult<Option<ContactGroupRecord>>;
    /// What holds between a viewer (by number and number hash) and a target.
    async fn relation(
        &self,
        target_id: &str,
        viewer_phone: &PhoneNumber,
        viewer_mac: &str,
    ) -> StoreResult<RelationFacts>;
}

/// What a write to an address book may do to its hidden entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// The vault is open: hidden entries are written like any other (their flag kept).
    Follows,
    /// The vault is closed: hidden entries are as if not there, and nothing changes them.
    Untouched,
}

/// Address books.
#[async_trait]
pub trait ContactRepo: Send + Sync {
    /// Replaces the owner's address book, in one transaction. Hidden entries keep their
    /// flag where the new book has their number; with `Hidden::Untouched` they stay
    /// exactly as they are whether or not it does (a re-sync without the vault open).
    async fn replace(
        &self,
        owner: &str,
        entries: &[ContactRecord],
        hidden: Hidden,
    ) -> StoreResult<()>;
    /// Adds or updates entries (the hidden flag of existing ones is kept; with
    /// `Hidden::Untouched` hidden entries are not updated at all), in one transaction.
    async fn upsert(
        &self,
        owner: &str,
        entries: &[ContactRecord],
        hidden: Hidden,
    ) -> StoreResult<()>;
    /// Applies a change computed from `seen` (the owner's entries as [`Self::list`] gave
    /// them), in one transaction: if the book still is exactly `seen` (same entries, same
    /// sealed values, same flags), deletes the entries of `gone` (by number hash) and
    /// writes `changed` as [`Self::upsert`] does. `Ok(false)`, changing nothing, when the
    /// book moved since it was listed: the caller lists again. The guard of `hidden`
    /// applies as in the other writes.
    async fn apply(
        &self,
        owner: &str,
        seen: &[ContactRecord],
        changed: &[ContactRecord],
        gone: &[String],
        hidden: Hidden,
    ) -> StoreResult<bool>;
    /// The owner's entries.
    async fn list(&self, owner: &str) -> StoreResult<Vec<ContactRecord>>;
    /// Some of the owner's entries, by number hash.
    async fn get_many(&self, owner: &str, macs: &[String]) -> StoreResult<Vec<ContactRecord>>;
    /// Deletes one entry (a hidden one only with `Hidden::Follows`); whether it was there.
    async fn delete(&self, owner: &str, mac: &str, hidden: Hidden) -> StoreResult<bool>;
    /// Sets the hidden flag (of an entry already hidden only with `Hidden::Follows`);
    /// whether the entry was there to set.
    async fn set_hidden(
        &self,
        owner: &str,
        mac: &str,
        value: bool,
        hidden: Hidden,
    ) -> StoreResult<bool>;
    /// Who has this number hash in their address book, and whether they hid it.
    async fn owners_of(&self, mac: &str) -> StoreResult<Vec<(String, bool)>>;
    /// Takes `wanted` tokens from the owner's discovery bucket (which holds at most
    /// `capacity` and refills `refill_per_day` a day, starting full) in one transaction.
    /// `Ok(None)` when taken; `Ok(Some(seconds))` to wait when there are too few.
    async fn take_discovery(
        &self,
        owner: &str,
        wanted: u64,
        capacity: u64,
        refill_per_day: u64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<u64>>;
}

/// Presence and live connections.
#[async_trait]
pub trait PresenceRepo: Send + Sync {
    /// A user's presence setting and last seen.
    async fn get(&self, user_id: &str) -> StoreResult<PresenceRecord>;
    /// The presence of many users (the default for those never set).
    async fn get_many(&self, user_ids: &[UserId]) -> StoreResult<HashMap<UserId, PresenceRecord>>;
    /// Sets state and text (last seen is kept).
    async fn set(
        &self,
        user_id: &str,
        setting: PresenceSetting,
        text: Option<&str>,
    ) -> StoreResult<()>;
    /// Records when the user was last online.
    async fn set_last_seen(&self, user_id: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Records that a node is alive.
    async fn heartbeat(&self, node_id: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Records a live connection of a device (`session_id`); the user's connection count
    /// after it.
    async fn connect(
        &self,
        conn_id: &str,
        node_id: &str,
        user_id: &str,
        session_id: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Forgets a connection; its user and their remaining connection count.
    async fn disconnect(&self, conn_id: &str) -> StoreResult<Option<(UserId, u64)>>;
    /// Which of these users have at least one live connection.
    async fn connected(&self, user_ids: &[UserId]) -> StoreResult<Vec<UserId>>;
    /// Forgets nodes that have not beaten since `before`, with their connections; the users
    /// left with no connection at all.
    async fn sweep_dead_nodes(&self, before: DateTime<Utc>) -> StoreResult<Vec<UserId>>;
}
