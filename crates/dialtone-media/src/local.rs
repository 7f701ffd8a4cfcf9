//! The default blob store: a directory on the server's disk.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::MediaError;
use crate::store::{BlobStore, StoredBlob, resolve_range, validate_sha256};

/// Size of the buffer an upload is copied through; large enough to keep syscalls few.
const COPY_BUFFER: usize = 64 * 1024;

/// Name of the folder, inside the root, where uploads are written before they are named.
/// It is on the same file system as the blobs, so the final rename is atomic.
const TEMP_DIR: &str = "tmp";

/// Blobs as files under `<root>/<aa>/<bb>/<sha256>`.
///
/// The two levels of two hex digits keep any one directory small (65 536 folders share
/// the load). An upload is written to `<root>/tmp/`, hashed on the way, fsynced, then
/// renamed into place: readers never see a half-written blob, and a crash leaves at
/// worst a stray file in `tmp/` (see [`LocalBlobStore::remove_stale_uploads`]).
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    /// A store rooted at `root` (usually `<data-dir>/blobs`). No I/O happens here: the
    /// folders are made by the first upload, so construction cannot fail.
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// Deletes uploads left in `tmp/` by a crash, if older than `older_than`.
    ///
    /// Uploads in progress are deleted when their request ends, even if it is cancelled;
    /// only a killed process leaves files behind. The age guard keeps this safe to run
    /// while other processes sharing the directory are uploading. Returns how many files
    /// were removed.
    pub async fn remove_stale_uploads(&self, older_than: Duration) -> Result<usize, MediaError> {
        let dir = self.root.join(TEMP_DIR);
        blocking(move || {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
                Err(e) => return Err(e),
            };
            let now = SystemTime::now();
            let mut removed = 0;
            for entry in entries {
                let entry = entry?;
                let modified = entry.metadata()?.modified()?;
                let age = now.duration_since(modified).unwrap_or_default();
                if age >= older_than {
                    match std::fs::remove_file(entry.path()) {
                        Ok(()) => removed += 1,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Ok(removed)
        })
        .await
        .map_err(MediaError::from)
    }

    /// Where a (validated) blob lives.
    fn path_of(&self, sha256: &str) -> PathBuf {
        self.root
            .join(&sha256[0..2])
            .join(&sha256[2..4])
            .join(sha256)
    }

    /// Validates the id, then returns its path: the only way a path is made from an id.
    fn checked_path(&self, sha256: &str) -> Result<PathBuf, MediaError> {
        validate_sha256(sha256)?;
        Ok(self.path_of(sha256))
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn put_stream(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        max_bytes: u64,
    ) -> Result<StoredBlob, MediaError> {
        let temp_dir = self.root.join(TEMP_DIR);
        tokio::fs::create_dir_all(&temp_dir).await?;
        let temp = blocking(move || {
            tempfile::Builder::new()
                .prefix("upload-")
                .tempfile_in(temp_dir)
        })
        .await?;
        // The TempPath removes the file when dropped: on an error, on TooLarge, and when
        // the request's future is cancelled mid-upload.
        let (file, temp_path) = temp.into_parts();
        let mut file = tokio::fs::File::from_std(file);

        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; COPY_BUFFER];
        let mut size: u64 = 0;
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            size = size.saturating_add(n as u64);
            if size > max_bytes {
                return Err(MediaError::TooLarge { limit: max_bytes });
            }
            let chunk = &buf[..n];
            hasher.update(chunk);
            file.write_all(chunk).await?;
        }
        file.flush().await?;
        file.sync_all().await?;
        drop(file);

        let sha256 = hex::encode(hasher.finalize());
        let dest = self.path_of(&sha256);
        let root = self.root.clone();
        blocking(move || commit(temp_path, &dest, &root)).await?;
        Ok(StoredBlob { sha256, size })
    }

    async fn exists(&self, sha256: &str) -> Result<bool, MediaError> {
        let path = self.checked_path(sha256)?;
        Ok(tokio::fs::try_exists(path).await?)
    }

    async fn size(&self, sha256: &str) -> Result<u64, MediaError> {
        let path = self.checked_path(sha256)?;
        let meta = tokio::fs::metadata(path).await.map_err(not_found)?;
        Ok(meta.len())
    }

    async fn open_range(
        &self,
        sha256: &str,
        range: Option<(u64, Option<u64>)>,
    ) -> Result<(Box<dyn AsyncRead + Send + Unpin>, u64), MediaError> {
        let path = self.checked_path(sha256)?;
        let mut file = tokio::fs::File::open(path).await.map_err(not_found)?;
        let size = file.metadata().await?.len();
        let (start, len) = resolve_range(size, range)?;
        if start > 0 {
            file.seek(io::SeekFrom::Start(start)).await?;
        }
        Ok((Box::new(file.take(len)), len))
    }

    async fn delete(&self, sha256: &str) -> Result<(), MediaError> {
        let path = self.checked_path(sha256)?;
        tokio::fs::remove_file(path).await.map_err(not_found)?;
        Ok(())
    }
}

/// Moves a finished, fsynced upload to its name and makes the name durable.
///
/// If the blob is already there (the same bytes were uploaded before, or concurrently),
/// the upload is dropped: same name, same bytes. Either way the directory entry is
/// fsynced before returning, so success always means "on disk".
fn commit(temp: TempPath, dest: &Path, root: &Path) -> io::Result<()> {
    let shard = dest
        .parent()
        .ok_or_else(|| io::Error::other("blob path has no parent"))?;
    let outer = shard
        .parent()
        .ok_or_else(|| io::Error::other("blob path has no grandparent"))?;
    if dest.exists() {
        drop(temp);
        return sync_dir(shard);
    }
    let new_outer = !outer.exists();
    let new_shard = !shard.exists();
    std::fs::create_dir_all(shard)?;
    // rename(2) replaces atomically, so two racing uploads of the same bytes both succeed.
    temp.persist(dest).map_err(|e| e.error)?;
    sync_dir(shard)?;
    if new_shard {
        sync_dir(outer)?;
    }
    if new_outer {
        sync_dir(root)?;
    }
    Ok(())
}

/// Flushes a directory's entries, so a rename or a new folder survives a power cut.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Directories cannot be opened for fsync here; the rename is as durable as the OS makes it.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// A missing file is the store's [`MediaError::NotFound`], not a server error.
fn not_found(e: io::Error) -> MediaError {
    if e.kind() == io::ErrorKind::NotFound {
        MediaError::NotFound
    } else {
        MediaError::Io(e)
    }
}

/// Runs blocking file-system work (tempfile, rename, fsync of directories) off the
/// async workers.
async fn blocking<T, F>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(io::Error::other)?
}
