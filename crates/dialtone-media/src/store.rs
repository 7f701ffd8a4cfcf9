//! The blob store contract: content-addressed, immutable, ranged reads.

use async_trait::async_trait;
use tokio::io::AsyncRead;

use crate::MediaError;

/// The default upload limit (100 MiB): large enough for phone videos, small enough that
/// one client cannot fill the disk with a single request. Configuration may change it.
pub const DEFAULT_MAX_BYTES: u64 = 100 * 1024 * 1024;

/// What a successful upload stored, so the service can record the attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// Lowercase hex SHA-256 of the bytes: the blob's id and its integrity check.
    pub sha256: String,
    /// Length in bytes, so listings need not touch the store.
    pub size: u64,
}

/// Where attachment bytes live, named by their SHA-256.
///
/// Content addressing makes uploads idempotent and deduplicated, and makes a blob
/// immutable: a name always means the same bytes, so ranged reads can be resumed and
/// cached safely. The trait is object-safe (`Arc<dyn BlobStore>`) so the server picks the
/// local directory or, later, an S3-compatible bucket from configuration.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Streams `reader` into the store, hashing as it goes.
    ///
    /// Fails with [`MediaError::TooLarge`] as soon as more than `max_bytes` arrive, keeping
    /// nothing. Returns only once the bytes are durable, so the caller may answer 201.
    /// Storing bytes that are already present succeeds and keeps one copy.
    async fn put_stream(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        max_bytes: u64,
    ) -> Result<StoredBlob, MediaError>;

    /// Stores bytes already in memory (thumbnails, cleaned images), whose size the
    /// caller has already bounded.
    async fn put_bytes(&self, bytes: &[u8]) -> Result<StoredBlob, MediaError> {
        let mut reader = bytes;
        self.put_stream(&mut reader, u64::MAX).await
    }

    /// Whether a blob is stored; lets an upload skip work for content already present.
    async fn exists(&self, sha256: &str) -> Result<bool, MediaError>;

    /// The stored length of a blob, needed for `Content-Length` and `Content-Range`.
    async fn size(&self, sha256: &str) -> Result<u64, MediaError>;

    /// Opens a blob for reading, whole or in part, so large files can be resumed.
    ///
    /// `range` is `(start, end_inclusive)` as in an HTTP `Range: bytes=start-end`; an open
    /// end means "to the last byte", and an end past the last byte is clamped, as HTTP
    /// asks. A start at or past the end is [`MediaError::BadRange`]. Suffix ranges
    /// (`bytes=-500`) are turned into a start by the caller with [`BlobStore::size`].
    /// Returns the reader and the number of bytes it will yield.
    async fn open_range(
        &self,
        sha256: &str,
        range: Option<(u64, Option<u64>)>,
    ) -> Result<(Box<dyn AsyncRead + Send + Unpin>, u64), MediaError>;

    /// Removes a blob once no message refers to it any more.
    ///
    /// [`MediaError::NotFound`] if it was not there, so a double delete is visible.
    async fn delete(&self, sha256: &str) -> Result<(), MediaError>;
}

/// Checks that `id` is 64 lowercase hex digits.
///
/// Ids arrive in URLs; refusing everything else means an id can never name a path
/// outside the store (`../`, `/`, `.`), and one blob has exactly one spelling.
pub fn validate_sha256(id: &str) -> Result<(), MediaError> {
    let ok = id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok {
        Ok(())
    } else {
        Err(MediaError::InvalidId)
    }
}

/// Turns a requested range into `(start, len)` for a blob of `size` bytes.
///
/// Shared by every implementation so they agree on the edge cases.
pub(crate) fn resolve_range(
    size: u64,
    range: Option<(u64, Option<u64>)>,
) -> Result<(u64, u64), MediaError> {
    let Some((start, end)) = range else {
        return Ok((0, size));
    };
    if start >= size {
        return Err(MediaError::BadRange);
    }
    let last = size - 1;
    let end = end.map_or(last, |e| e.min(last));
    if end < start {
        return Err(MediaError::BadRange);
    }
    Ok((start, end - start + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_http_rules() {
        assert_eq!(resolve_range(10, None).unwrap(), (0, 10));
        assert_eq!(resolve_range(0, None).unwrap(), (0, 0));
        assert_eq!(resolve_range(10, Some((0, None))).unwrap(), (0, 10));
        assert_eq!(resolve_range(10, Some((3, Some(5)))).unwrap(), (3, 3));
        assert_eq!(resolve_range(10, Some((9, Some(9)))).unwrap(), (9, 1));
        assert_eq!(resolve_range(10, Some((8, Some(100)))).unwrap(), (8, 2));
        assert!(matches!(
            resolve_range(10, Some((10, None))),
            Err(MediaError::BadRange)
        ));
        assert!(matches!(
            resolve_range(10, Some((5, Some(4)))),
            Err(MediaError::BadRange)
        ));
        assert!(matches!(
            resolve_range(0, Some((0, None))),
            Err(MediaError::BadRange)
        ));
    }
}
