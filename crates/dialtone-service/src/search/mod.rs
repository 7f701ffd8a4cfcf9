//! Search in conversations: the tokenizer ([`terms`]), snippets ([`snippet`]) and the
//! indexer. Sending never segments: the store queues each searchable message in the
//! message's own transaction, and [`SearchIndexer`] (one per process, started by the
//! server) takes the queue a batch at a time, segments off the executor and writes the
//! index. The query itself is `MessagingService::search`.

pub mod snippet;
pub mod terms;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use dialtone_store::{IndexedDoc, PendingDoc, SearchRepo};
use tokio::sync::Notify;

/// Queued messages indexed per transaction: large enough to amortise the commit, small
/// enough that a send waiting for SQLite's write lock waits little.
const BATCH: u32 = 512;

/// How often an idle indexer looks at the queue without being woken (other nodes'
/// messages on PostgreSQL, messages written behind the service's back).
const IDLE_POLL: Duration = Duration::from_millis(250);

/// How long the indexer waits after the store failed.
const AFTER_FAILURE: Duration = Duration::from_secs(1);

/// The background indexer of one process.
pub struct SearchIndexer {
    repo: Arc<dyn SearchRepo>,
    wake: Arc<Notify>,
}

impl SearchIndexer {
    /// Over `repo`, woken early by `wake` (the messaging service's sends and changes).
    pub fn new(repo: Arc<dyn SearchRepo>, wake: Arc<Notify>) -> Self {
        Self { repo, wake }
    }

    /// Indexes until `stop` resolves. A batch cut short by the stop is rolled back and
    /// stays queued (the queue is in the database: nothing is lost at a stop or a crash).
    pub async fn run(self, stop: impl Future<Output = ()> + Send) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                biased;
                () = &mut stop => break,
                more = self.step() => {
                    if !more {
                        tokio::select! {
                            () = &mut stop => break,
                            () = self.wake.notified() => {}
                            () = tokio::time::sleep(IDLE_POLL) => {}
                        }
                    }
                }
            }
        }
    }

    /// Indexes one batch; whether there may be more at once.
    async fn step(&self) -> bool {
        match self.index_batch().await {
            Ok(n) => n >= BATCH as usize,
            Err(e) => {
                tracing::warn!(error = %e, "search indexing failed");
                tokio::time::sleep(AFTER_FAILURE).await;
                false
            }
        }
    }

    /// Takes one batch of the queue and writes its terms; how many queued messages it
    /// took.
    pub async fn index_batch(&self) -> Result<usize, dialtone_store::StoreError> {
        let docs = self.repo.pending(BATCH).await?;
        if docs.is_empty() {
            return Ok(0);
        }
        let n = docs.len();
        // Segmenting is CPU work (jieba): off the executor's threads.
        let indexed = tokio::task::spawn_blocking(move || docs.into_iter().map(segment).collect())
            .await
            .map_err(|e| dialtone_store::StoreError::Corrupt(format!("indexer task: {e}")))?;
        let indexed: Vec<IndexedDoc> = indexed;
        self.repo.write_index(&indexed).await?;
        Ok(n)
    }
}

/// The terms of one queued message: its text (or caption), then its file name.
pub fn segment(doc: PendingDoc) -> IndexedDoc {
    let terms = match &doc.source {
        Some(source) => [source.text.as_deref(), source.filename.as_deref()]
            .into_iter()
            .flatten()
            .flat_map(|text| terms::terms(text, terms::Mode::Index))
            .map(|t| t.text)
            .collect(),
        None => Vec::new(),
    };
    IndexedDoc { doc, terms }
}
