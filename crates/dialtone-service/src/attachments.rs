//! Attachments: upload into the content-addressed blob store (size-limited, type sniffed
//! from the bytes, location metadata stripped from photos, thumbnails made), and download
//! (whole or by range) only by the uploader and members of a conversation carrying it.

use std::sync::Arc;

use dialtone_core::Clock;
use dialtone_media::{BlobStore, MediaError, process_image, sniff};
use dialtone_store::{AttachmentRecord, Store, UserRecord};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::Semaphore;

use crate::crypto::new_id;
use crate::{ServiceError, ServiceResult};

/// Bytes read to sniff a type.
const SNIFF_BYTES: u64 = 8192;
/// Largest image decoded for a thumbnail (bigger ones are stored without one).
const MAX_IMAGE_BYTES: u64 = 50 * 1024 * 1024;

/// A byte range asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// From `start`, to `end` inclusive or the end.
    From {
        /// First byte.
        start: u64,
        /// Last byte, inclusive.
        end: Option<u64>,
    },
    /// The last `n` bytes.
    Last(u64),
}

/// Bytes on their way to a client.
pub struct Download {
    /// What they are.
    pub record: AttachmentRecord,
    /// Their type (the thumbnail's when a thumbnail was asked for).
    pub content_type: String,
    /// The bytes.
    pub reader: Box<dyn AsyncRead + Send + Unpin>,
    /// How many bytes `reader` gives.
    pub len: u64,
    /// The whole blob's size.
    pub total: u64,
    /// First and last byte sent, when a range was asked for.
    pub range: Option<(u64, u64)>,
}

/// The attachment use cases.
pub struct AttachmentService {
    store: Store,
    blobs: Arc<dyn BlobStore>,
    clock: Arc<dyn Clock>,
    max_bytes: u64,
    /// Image decoding is CPU- and memory-heavy: one at a time per CPU.
    processing: Arc<Semaphore>,
}

fn media(e: MediaError) -> ServiceError {
    match e {
        MediaError::TooLarge { limit } => ServiceError::AttachmentTooLarge(limit),
        MediaError::NotFound | MediaError::InvalidId => ServiceError::AttachmentNotFound,
        MediaError::BadRange => ServiceError::BadRange { size: 0 },
        MediaError::Image(m) => ServiceError::InvalidInput(format!("unreadable image: {m}")),
        MediaError::Io(e) => ServiceError::Internal(e.to_string()),
    }
}

impl AttachmentService {
    /// Builds the service.
    pub fn new(
        store: Store,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        max_bytes: u64,
    ) -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            store,
            blobs,
            clock,
            max_bytes,
            processing: Arc::new(Semaphore::new(cpus)),
        }
    }

    /// The size limit of one upload.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Stores an upload; on disk before this returns.
    pub async fn upload(
        &self,
        user: &UserRecord,
        filename: Option<String>,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> ServiceResult<AttachmentRecord> {
        let filename = filename
            .map(|f| {
                f.chars()
                    .filter(|c| !c.is_control())
                    .take(255)
                    .collect::<String>()
            })
            .filter(|f| !f.trim().is_empty());
        let stored = self
            .blobs
            .put_stream(reader, self.max_bytes)
            .await
            .map_err(media)?;
        if stored.size == 0 {
            return Err(ServiceError::InvalidInput("the upload is empty".into()));
        }
        let head = self
            .read(&stored.sha256, Some((0, Some(SNIFF_BYTES - 1))))
            .await?;
        let content_type = sniff(&head, filename.as_deref());
        let mut record = AttachmentRecord {
            id: new_id(),
            owner_id: user.id.clone().into(),
            sha256: stored.sha256.clone(),
            size: stored.size,
            content_type,
            filename,
            thumbnail_sha: None,
            thumbnail_type: None,
            width: None,
            height: None,
            created_at: self.clock.now(),
        };
        if record.content_type.starts_with("image/") && stored.size <= MAX_IMAGE_BYTES {
            self.process(&mut record).await?;
        }
        self.store.attachments.create(&record).await?;
        Ok(record)
    }

    async fn read(&self, sha: &str, range: Option<(u64, Option<u64>)>) -> ServiceResult<Vec<u8>> {
        let (mut reader, len) = self.blobs.open_range(sha, range).await.map_err(media)?;
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        reader
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(bytes)
    }

    /// Strips location metadata (storing the cleaned bytes instead) and makes a thumbnail.
    async fn process(&self, record: &mut AttachmentRecord) -> ServiceResult<()> {
        let bytes = self.read(&record.sha256, None).await?;
        let _permit = self
            .processing
            .acquire()
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let content_type = record.content_type.clone();
        let processed = tokio::task::spawn_blocking(move || process_image(&bytes, &content_type))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?
            .map_err(media)?;
        let Some(image) = processed else {
            return Ok(());
        };
        if let Some(cleaned) = image.cleaned {
            let original = record.sha256.clone();
            let stored = self.blobs.put_bytes(&cleaned).await.map_err(media)?;
            record.sha256 = stored.sha256;
            record.size = stored.size;
            // The original carried a location: it must not stay unless another upload
            // (of the very same bytes, by someone who has them) refers to it.
            if original != record.sha256 && self.store.attachments.blob_users(&original).await? == 0
            {
                self.blobs.delete(&original).await.map_err(media)?;
            }
        }
        let thumb = self
            .blobs
            .put_bytes(&image.thumbnail)
            .await
            .map_err(media)?;
        record.thumbnail_sha = Some(thumb.sha256);
        record.thumbnail_type = Some(image.thumbnail_type);
        record.width = Some(image.width);
        record.height = Some(image.height);
        Ok(())
    }

    /// The caller's own attachment (to send it).
    pub async fn owned(&self, user: &UserRecord, id: &str) -> ServiceResult<AttachmentRecord> {
        self.store
            .attachments
            .get(id)
            .await?
            .filter(|a| user.id == a.owner_id)
            .ok_or(ServiceError::AttachmentNotFound)
    }

    /// Opens an attachment (or its thumbnail) for a caller allowed to fetch it; others get
    /// "not found", as for an id that does not exist.
    pub async fn fetch(
        &self,
        user: &UserRecord,
        id: &str,
        thumbnail: bool,
        range: Option<ByteRange>,
    ) -> ServiceResult<Download> {
        if !self.store.attachments.accessible(id, &user.id).await? {
            return Err(ServiceError::AttachmentNotFound);
        }
        self.open(id, thumbnail, range).await
    }

    /// Opens an attachment (or its thumbnail) whose access the caller already decided
    /// (the community's items and profiles: [`crate::community::CommunityService::shows_attachment`]).
    pub async fn open(
        &self,
        id: &str,
        thumbnail: bool,
        range: Option<ByteRange>,
    ) -> ServiceResult<Download> {
        let record = self
            .store
            .attachments
            .get(id)
            .await?
            .ok_or(ServiceError::AttachmentNotFound)?;
        let (sha, content_type) = if thumbnail {
            match (&record.thumbnail_sha, &record.thumbnail_type) {
                (Some(s), Some(t)) => (s.clone(), t.clone()),
                _ => return Err(ServiceError::AttachmentNotFound),
            }
        } else {
            (record.sha256.clone(), record.content_type.clone())
        };
        let total = self.blobs.size(&sha).await.map_err(media)?;
        let wanted = match range {
            None => None,
            Some(ByteRange::From { start, end }) => Some((start, end)),
            Some(ByteRange::Last(n)) => {
                if n == 0 {
                    return Err(ServiceError::BadRange { size: total });
                }
                Some((total.saturating_sub(n), None))
            }
        };
        let (reader, len) = self
            .blobs
            .open_range(&sha, wanted)
            .await
            .map_err(|e| match e {
                MediaError::BadRange => ServiceError::BadRange { size: total },
                other => media(other),
            })?;
        let range = wanted.map(|(start, _)| (start, start + len.saturating_sub(1)));
        Ok(Download {
            record,
            content_type,
            reader,
            len,
            total,
            range,
        })
    }
}
