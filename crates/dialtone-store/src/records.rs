//! The records each repository stores, and the repository traits themselves.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dialtone_core::{PhoneNumber, UserId};

use crate::StoreResult;

/// A dialtone account. The phone number is its identity. It says whether a password is
/// set but never holds its hash: this record is what the session cache keeps, what travels
/// with a live connection and what rosters hold, and the hash is read only where a password
/// is checked ([`AccountRepo::password_hash`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Opaque id.
    pub id: UserId,
    /// The account's number, unique.
    pub phone: PhoneNumber,
    /// ISO region used to read national numbers this user types.
    pub region: String,
    /// Name shown to contacts.
    pub display_name: Option<String>,
    /// Whether a password is set.
    pub password_set: bool,
    /// When on, an SMS code alone no longer logs in to this account.
    pub registration_lock: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A pending SMS verification. The code itself is never stored, only its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRecord {
    /// Opaque id given to the client.
    pub id: String,
    /// The number being verified.
    pub phone: PhoneNumber,
    /// Keyed hash of the current code.
    pub code_hash: String,
    /// Code submissions so far (right or wrong).
    pub attempts: u32,
    /// SMS sent for this verification, the first included.
    pub sms_sent: u32,
    /// When the current code stops working.
    pub expires_at: DateTime<Utc>,
    /// Earliest time of the next resend.
    pub resend_after: DateTime<Utc>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// One logged-in device. The token itself is never stored, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Opaque device id.
    pub id: String,
    /// Whose device.
    pub user_id: UserId,
    /// SHA-256 of the bearer token, hex.
    pub token_hash: String,
    /// Device name given at login.
    pub name: String,
    /// Login time.
    pub created_at: DateTime<Utc>,
    /// Last authenticated request (updated at most once a minute).
    pub last_seen_at: DateTime<Utc>,
    /// When this session was made by an SMS code, which allows a password reset shortly after.
    pub verified_at: Option<DateTime<Utc>>,
}

/// Users and their settings.
#[async_trait]
pub trait AccountRepo: Send + Sync {
    /// Creates a user and its first session in one transaction; `Conflict` if the number
    /// already has an account (then nothing is written). A new account has no password
    /// (`password_set` is not read).
    async fn create_user_with_session(
        &self,
        user: &UserRecord,
        session: &SessionRecord,
    ) -> StoreResult<()>;
    /// The account of a number.
    async fn user_by_phone(&self, phone: &PhoneNumber) -> StoreResult<Option<UserRecord>>;
    /// The account with an id.
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRecord>>;
    /// The accounts with these ids (members of a conversation).
    async fn users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<UserRecord>>;
    /// The accounts of those numbers that have one (address-book discovery).
    async fn users_by_phones(&self, phones: &[PhoneNumber]) -> StoreResult<Vec<UserRecord>>;
    /// The Argon2id PHC string of the user's password, if one is set: only for checking a
    /// password.
    async fn password_hash(&self, user_id: &str) -> StoreResult<Option<String>>;
    /// Writes the editable settings: display name, region, registration lock.
    async fn update_settings(&self, user: &UserRecord) -> StoreResult<()>;
    /// Sets the password hash and ends every session of the user but `keep_session`, in one
    /// transaction.
    async fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        keep_session: &str,
    ) -> StoreResult<()>;
}

/// Pending verifications.
#[async_trait]
pub trait VerificationRepo: Send + Sync {
    /// Stores a new verification, replacing any earlier one for the same number.
    async fn replace(&self, verification: &VerificationRecord) -> StoreResult<()>;
    /// A verification by id.
    async fn get(&self, id: &str) -> StoreResult<Option<VerificationRecord>>;
    /// Puts a new code in place after a resend: new hash, expiry, counters.
    async fn update_code(&self, verification: &VerificationRecord) -> StoreResult<()>;
    /// Atomically takes one attempt if fewer than `max` were used; the new count, or
    /// `None` when the verification is gone or out of attempts.
    async fn take_attempt(&self, id: &str, max: u32) -> StoreResult<Option<u32>>;
    /// Uses up a verification (it expires at once); `true` only for the one caller that
    /// used it, so a code works once however many requests race.
    async fn consume(&self, id: &str) -> StoreResult<bool>;
    /// Deletes verifications that expired before `before`; how many.
    async fn delete_expired(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// Logged-in devices.
#[async_trait]
pub trait SessionRepo: Send + Sync {
    /// Stores a new session for an existing user.
    async fn create(&self, session: &SessionRecord) -> StoreResult<()>;
    /// The session holding a token hash.
    async fn by_token_hash(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>>;
    /// Every session of a user, oldest first.
    async fn list(&self, user_id: &str) -> StoreResult<Vec<SessionRecord>>;
    /// Ends one session of a user; `false` if it was not theirs or not there.
    async fn delete(&self, user_id: &str, session_id: &str) -> StoreResult<bool>;
    /// Records activity.
    async fn touch(&self, session_id: &str, at: DateTime<Utc>) -> StoreResult<()>;
}

/// Sliding-window rate-limit counters, shared by every server on the database.
#[async_trait]
pub trait RateLimitRepo: Send + Sync {
    /// How many events `bucket` has since `since`, and the time of the oldest of them.
    async fn count_since(
        &self,
        bucket: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<(u32, Option<DateTime<Utc>>)>;
    /// Records one event in each bucket at `at`.
    async fn record(&self, buckets: &[String], at: DateTime<Utc>) -> StoreResult<()>;
    /// Forgets events older than `before`; how many.
    async fn prune(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}
