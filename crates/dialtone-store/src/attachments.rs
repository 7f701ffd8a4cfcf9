//! Attachment records and who may fetch them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StoreResult;

/// An uploaded file. Its bytes are in the blob store under `sha256`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRecord {
    /// Opaque id.
    pub id: String,
    /// The uploader.
    pub owner_id: String,
    /// The stored bytes (after location metadata was stripped).
    pub sha256: String,
    /// Their size.
    pub size: u64,
    /// Sniffed from the bytes.
    pub content_type: String,
    /// The name given at upload.
    pub filename: Option<String>,
    /// A thumbnail's blob, for images.
    pub thumbnail_sha: Option<String>,
    /// The thumbnail's type.
    pub thumbnail_type: Option<String>,
    /// Image width as displayed.
    pub width: Option<u32>,
    /// Image height as displayed.
    pub height: Option<u32>,
    /// Upload time.
    pub created_at: DateTime<Utc>,
}

/// Attachments.
#[async_trait]
pub trait AttachmentRepo: Send + Sync {
    /// Stores a record.
    async fn create(&self, attachment: &AttachmentRecord) -> StoreResult<()>;
    /// A record by id.
    async fn get(&self, id: &str) -> StoreResult<Option<AttachmentRecord>>;
    /// The records of some ids (unknown ones left out).
    async fn get_many(&self, ids: &[String]) -> StoreResult<Vec<AttachmentRecord>>;
    /// Whether `user_id` may fetch it: the uploader, or a member of a conversation that
    /// carries it in a message not withheld from them and not deleted.
    async fn accessible(&self, id: &str, user_id: &str) -> StoreResult<bool>;
    /// How many attachments use a blob (before deleting it).
    async fn blob_users(&self, sha256: &str) -> StoreResult<u64>;
}
