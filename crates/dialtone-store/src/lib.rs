//! Storage for dialtone.
//!
//! One repository trait per aggregate ([`AccountRepo`], [`VerificationRepo`],
//! [`SessionRepo`], [`RateLimitRepo`]), implemented once in SQL, generic over two
//! engines (`sql/`, with a small `Dialect` for what differs): SQLite (the zero-configuration default, in WAL mode with full sync) and
//! PostgreSQL. Each engine has its own migration tree under `migrations/`, embedded in the
//! binary and applied by [`open`]. The contract test suite in `tests/` runs against both.
//!
//! Only this crate writes SQL. Times are stored as Unix milliseconds.

mod attachments;
mod calls;
mod community;
mod messaging;
mod privacy_cache;
mod push;
mod quota;
mod records;
mod search;
mod social;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use attachments::*;
pub use calls::*;
pub use community::*;
pub use messaging::*;
pub use push::*;
pub use records::*;
pub use search::*;
pub use social::*;

/// How much of an SQLite database file is read through memory mapping (address space,
/// not memory: only the pages read are resident, and the kernel may drop them).
const SQLITE_MMAP_BYTES: u64 = 4 << 30;

/// Rows an SQLite connection's thread may have read ahead of the task reading them.
const SQLITE_ROW_BUFFER: usize = 4096;

/// What can go wrong in storage. Services map these to their own errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key already exists (for example a second account for one number).
    #[error("already exists")]
    Conflict,
    /// The database URL is not one dialtone can use.
    #[error("unsupported database url: {0}")]
    BadUrl(String),
    /// A stored value could not be read back (corruption or a migration bug).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// Applying the embedded migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database failed.
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            _ => StoreError::Database(e),
        }
    }
}

/// Shorthand for storage results.
pub type StoreResult<T> = Result<T, StoreError>;

/// All repositories of one database, shared by the services.
#[derive(Clone)]
pub struct Store {
    /// Users and their account settings.
    pub accounts: Arc<dyn AccountRepo>,
    /// Pending SMS verifications.
    pub verifications: Arc<dyn VerificationRepo>,
    /// Logged-in devices.
    pub sessions: Arc<dyn SessionRepo>,
    /// Sliding-window rate-limit events.
    pub rate_limits: Arc<dyn RateLimitRepo>,
    /// Privacy settings, block and allow lists, contact groups.
    pub privacy: Arc<dyn PrivacyRepo>,
    /// Address books.
    pub contacts: Arc<dyn ContactRepo>,
    /// Presence and live connections.
    pub presence: Arc<dyn PresenceRepo>,
    /// Conversations and messages.
    pub messages: Arc<dyn MessageRepo>,
    /// Uploaded attachments.
    pub attachments: Arc<dyn AttachmentRepo>,
    /// Profiles, personal spaces, comments, likes, notifications.
    pub community: Arc<dyn CommunityRepo>,
    /// Calls and their states.
    pub calls: Arc<dyn CallRepo>,
    /// Web Push subscriptions, notification settings, mutes.
    pub push: Arc<dyn PushRepo>,
    /// The search index of conversations.
    pub search: Arc<dyn SearchRepo>,
    /// Which engine this is, for logs and health.
    pub engine: Engine,
}

/// The database engine behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Embedded SQLite.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Everything one engine implements.
trait AllRepos:
    AccountRepo
    + VerificationRepo
    + SessionRepo
    + RateLimitRepo
    + PrivacyRepo
    + ContactRepo
    + PresenceRepo
    + MessageRepo
    + AttachmentRepo
    + CommunityRepo
    + CallRepo
    + PushRepo
    + SearchRepo
    + 'static
{
}

impl<T> AllRepos for T where
    T: AccountRepo
        + VerificationRepo
        + SessionRepo
        + RateLimitRepo
        + PrivacyRepo
        + ContactRepo
        + PresenceRepo
        + MessageRepo
        + AttachmentRepo
        + CommunityRepo
        + CallRepo
        + PushRepo
        + SearchRepo
        + 'static
{
}

impl Store {
    /// Every repository served by one database.
    /// Keeps privacy facts in memory (see `privacy_cache`): only for a database no other
    /// process writes.
    fn with_privacy_cache(mut self) -> Store {
        let cache = Arc::new(privacy_cache::PrivacyCache::default());
        self.privacy = Arc::new(privacy_cache::CachedPrivacy {
            inner: self.privacy,
            cache: cache.clone(),
        });
        self.contacts = Arc::new(privacy_cache::CachedContacts {
            inner: self.contacts,
            cache,
        });
        self
    }

    fn over<T: AllRepos>(db: Arc<T>, engine: Engine) -> Store {
        Store {
            accounts: db.clone(),
            verifications: db.clone(),
            sessions: db.clone(),
            rate_limits: db.clone(),
            privacy: db.clone(),
            contacts: db.clone(),
            presence: db.clone(),
            messages: db.clone(),
            attachments: db.clone(),
            community: db.clone(),
            calls: db.clone(),
            push: db.clone(),
            search: db,
            engine,
        }
    }
}

/// Opens the database at `url` (`sqlite://PATH` or `postgres://...`), creating a SQLite file
/// if needed, and applies the embedded migrations.
pub async fn open(url: &str) -> StoreResult<Store> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Store::over(
            Arc::new(sql::PgDb::postgres(pool)),
            Engine::Postgres,
        ))
    } else if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|_| StoreError::BadUrl(url.to_owned()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Pages are read straight from the operating system's cache, shared by every
            // connection, instead of copied by a read call into each connection's own
            // 2 MB cache: a directory of a million accounts does not fit that cache, and
            // matching an address book read most of its pages again every time.
            .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string())
            // A connection's thread may run a whole listing's rows ahead of the task
            // reading them (the driver's default of 50 made it wait, and both threads
            // switch, every 50 rows of a 2,000-entry address book).
            .row_buffer_size(SQLITE_ROW_BUFFER);
        // An embedded connection cannot have gone away: no round trip to test it before
        // each use (it was one of every read's two hand-offs to the connection's thread).
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        let batches = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Ok(Store::over(
            Arc::new(sql::SqliteDb::sqlite(pool, batches)),
            Engine::Sqlite,
        )
        .with_privacy_cache())
    } else {
        Err(StoreError::BadUrl(url.to_owned()))
    }
}
