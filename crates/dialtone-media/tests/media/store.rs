//! The local blob store: limits, durability layout, dedupe, ranges, ids, concurrency.

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use dialtone_media::{BlobStore, LocalBlobStore, MediaError, StoredBlob, validate_sha256};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
use tokio::sync::Notify;

const HELLO_SHA: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

fn store() -> (tempfile::TempDir, LocalBlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::new(dir.path().join("blobs"));
    (dir, store)
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

async fn read_all(store: &dyn BlobStore, sha: &str, range: Option<(u64, Option<u64>)>) -> Vec<u8> {
    let (mut reader, len) = store.open_range(sha, range).await.unwrap();
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await.unwrap();
    assert_eq!(
        out.len() as u64,
        len,
        "declared length matches bytes yielded"
    );
    out
}

#[tokio::test]
async fn stores_under_sharded_sha_path() {
    let (dir, store) = store();
    let blob = store.put_bytes(b"hello").await.unwrap();
    assert_eq!(
        blob,
        StoredBlob {
            sha256: HELLO_SHA.to_owned(),
            size: 5
        }
    );
    let path = dir.path().join("blobs/2c/f2").join(HELLO_SHA);
    assert_eq!(std::fs::read(path).unwrap(), b"hello");
    assert!(store.exists(HELLO_SHA).await.unwrap());
    assert_eq!(store.size(HELLO_SHA).await.unwrap(), 5);
}

#[tokio::test]
async fn over_the_limit_fails_and_keeps_nothing() {
    let (dir, store) = store();
    let data = vec![7u8; 200_000];
    let err = store
        .put_stream(&mut data.as_slice(), 199_999)
        .await
        .unwrap_err();
    assert!(
        matches!(err, MediaError::TooLarge { limit: 199_999 }),
        "{err:?}"
    );
    assert!(
        files_under(dir.path()).is_empty(),
        "{:?}",
        files_under(dir.path())
    );

    // Exactly at the limit is allowed.
    let blob = store
        .put_stream(&mut data.as_slice(), 200_000)
        .await
        .unwrap();
    assert_eq!(blob.size, 200_000);
}

#[tokio::test]
async fn identical_content_is_stored_once() {
    let (dir, store) = store();
    let a = store.put_bytes(b"hello").await.unwrap();
    let b = store.put_stream(&mut &b"hello"[..], 1024).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(files_under(dir.path()).len(), 1);
}

#[tokio::test]
async fn ranged_reads_return_exactly_the_bytes() {
    let (_dir, store) = store();
    let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let sha = store.put_bytes(&data).await.unwrap().sha256;
    let store: Arc<dyn BlobStore> = Arc::new(store);

    assert_eq!(read_all(store.as_ref(), &sha, None).await, data);
    assert_eq!(read_all(store.as_ref(), &sha, Some((0, None))).await, data);
    assert_eq!(
        read_all(store.as_ref(), &sha, Some((10, Some(19)))).await,
        &data[10..20]
    );
    assert_eq!(
        read_all(store.as_ref(), &sha, Some((500, None))).await,
        &data[500..]
    );
    assert_eq!(
        read_all(store.as_ref(), &sha, Some((999, Some(999)))).await,
        &data[999..]
    );
    // An end past the last byte is clamped, as HTTP asks.
    assert_eq!(
        read_all(store.as_ref(), &sha, Some((990, Some(5000)))).await,
        &data[990..]
    );

    for bad in [(1000, None), (5000, Some(6000)), (20, Some(10))] {
        let err = store.open_range(&sha, Some(bad)).await.err().unwrap();
        assert!(matches!(err, MediaError::BadRange), "{bad:?}: {err:?}");
    }
}

#[tokio::test]
async fn ids_that_are_not_lowercase_sha256_are_refused() {
    let (_dir, store) = store();
    store.put_bytes(b"hello").await.unwrap();
    let bad = [
        "../etc".to_owned(),
        "../../../../../../etc/passwd".to_owned(),
        HELLO_SHA.to_uppercase(),
        HELLO_SHA[..63].to_owned(),
        format!("{HELLO_SHA}0"),
        format!("../{}", &HELLO_SHA[3..]),
        format!("2c/f2/{}", &HELLO_SHA[6..]),
        String::new(),
    ];
    for id in &bad {
        assert!(
            matches!(validate_sha256(id), Err(MediaError::InvalidId)),
            "{id}"
        );
        assert!(
            matches!(store.exists(id).await, Err(MediaError::InvalidId)),
            "{id}"
        );
        assert!(
            matches!(store.size(id).await, Err(MediaError::InvalidId)),
            "{id}"
        );
        assert!(
            matches!(store.open_range(id, None).await, Err(MediaError::InvalidId)),
            "{id}"
        );
        assert!(
            matches!(store.delete(id).await, Err(MediaError::InvalidId)),
            "{id}"
        );
    }
    assert!(validate_sha256(HELLO_SHA).is_ok());
}

#[tokio::test]
async fn missing_blobs_are_not_found_and_delete_removes() {
    let (_dir, store) = store();
    let missing = "0".repeat(64);
    assert!(!store.exists(&missing).await.unwrap());
    assert!(matches!(
        store.size(&missing).await,
        Err(MediaError::NotFound)
    ));
    assert!(matches!(
        store.open_range(&missing, None).await,
        Err(MediaError::NotFound)
    ));
    assert!(matches!(
        store.delete(&missing).await,
        Err(MediaError::NotFound)
    ));

    store.put_bytes(b"hello").await.unwrap();
    store.delete(HELLO_SHA).await.unwrap();
    assert!(!store.exists(HELLO_SHA).await.unwrap());
    assert!(matches!(
        store.delete(HELLO_SHA).await,
        Err(MediaError::NotFound)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_puts_of_the_same_content_both_succeed() {
    let (dir, store) = store();
    let store = Arc::new(store);
    let data: Vec<u8> = (0..2_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let data = Arc::new(data);
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (store, data) = (store.clone(), data.clone());
            tokio::spawn(async move { store.put_stream(&mut data.as_slice(), u64::MAX).await })
        })
        .collect();
    let mut shas = Vec::new();
    for task in tasks {
        shas.push(task.await.unwrap().unwrap().sha256);
    }
    assert!(shas.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(files_under(dir.path()).len(), 1);
    assert_eq!(read_all(store.as_ref(), &shas[0], None).await, *data);
}

/// Yields one chunk, tells the test, then never yields again: an upload whose client
/// went quiet.
struct StallingReader {
    sent: bool,
    notify: Arc<Notify>,
}

impl AsyncRead for StallingReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.sent {
            self.notify.notify_one();
            return Poll::Pending;
        }
        self.sent = true;
        buf.put_slice(&[1u8; 1000]);
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn a_cancelled_upload_leaves_no_file() {
    let (dir, store) = store();
    let store = Arc::new(store);
    let notify = Arc::new(Notify::new());
    let task = {
        let (store, notify) = (store.clone(), notify.clone());
        tokio::spawn(async move {
            let mut reader = StallingReader {
                sent: false,
                notify,
            };
            store.put_stream(&mut reader, u64::MAX).await
        })
    };
    tokio::time::timeout(Duration::from_secs(10), notify.notified())
        .await
        .unwrap();
    assert_eq!(
        files_under(dir.path()).len(),
        1,
        "the upload is in progress"
    );
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert!(files_under(dir.path()).is_empty());
}

#[tokio::test]
async fn stale_uploads_are_swept() {
    let (dir, store) = store();
    assert_eq!(store.remove_stale_uploads(Duration::ZERO).await.unwrap(), 0);
    std::fs::create_dir_all(dir.path().join("blobs/tmp")).unwrap();
    std::fs::write(dir.path().join("blobs/tmp/upload-crashed"), b"x").unwrap();
    assert_eq!(
        store
            .remove_stale_uploads(Duration::from_secs(3600))
            .await
            .unwrap(),
        0,
        "a young upload may still be in progress"
    );
    assert_eq!(store.remove_stale_uploads(Duration::ZERO).await.unwrap(), 1);
    assert!(files_under(dir.path()).is_empty());
}
