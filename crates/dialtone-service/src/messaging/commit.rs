//! Group commit: messages sent at about the same time are written in one transaction, so
//! they share one commit (one sync to disk) instead of paying one each. A sender still
//! gets its answer only after the transaction holding its message committed, so a 201
//! keeps meaning "on disk".
//!
//! Writers take whatever is waiting when they are free (no timer: under light load a
//! message is written alone and at once; under heavy load the queue fills while the
//! previous batch commits, and the next batch takes it all).

use std::sync::Arc;

use dialtone_store::{Engine, MessageRecord, MessageRepo, StoreResult};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::{ServiceError, ServiceResult};

/// Most messages in one transaction.
const MAX_BATCH: usize = 256;
/// Appends that may wait for a writer before senders wait to queue.
const MAX_WAITING: usize = 4096;

type Answer = oneshot::Sender<StoreResult<(MessageRecord, bool)>>;

struct Pending {
    message: MessageRecord,
    withheld: Vec<String>,
    answer: Answer,
}

/// The queue of appends and its writer tasks (they end when the service is dropped).
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<Pending>,
}

impl GroupCommit {
    /// Starts the writers: one for SQLite (it has one writer anyway), a few for
    /// PostgreSQL (different conversations commit in parallel there).
    pub(crate) fn start(repo: Arc<dyn MessageRepo>, engine: Engine) -> GroupCommit {
        let (queue, waiting) = mpsc::channel(MAX_WAITING);
        let waiting = Arc::new(Mutex::new(waiting));
        let writers = match engine {
            Engine::Sqlite => 1,
            Engine::Postgres => 4,
        };
        for _ in 0..writers {
            // Ends by itself once every sender (the service) is gone and the queue is empty.
            tokio::spawn(write(repo.clone(), waiting.clone()));
        }
        GroupCommit { queue }
    }

    /// Appends one message as `MessageRepo::append` does, in a shared transaction.
    pub(crate) async fn append(
        &self,
        message: MessageRecord,
        withheld: Vec<String>,
    ) -> ServiceResult<(MessageRecord, bool)> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Pending {
                message,
                withheld,
                answer,
            })
            .await
            .map_err(|_| ServiceError::Internal("the message writer stopped".into()))?;
        let appended = answered
            .await
            .map_err(|_| ServiceError::Internal("the message writer dropped a message".into()))?;
        Ok(appended?)
    }
}

/// One writer: takes everything waiting (up to `MAX_BATCH`), writes it in one
/// transaction, answers each sender. A failed batch is retried one message at a time, so
/// one bad message fails alone.
async fn write(repo: Arc<dyn MessageRepo>, waiting: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    loop {
        let batch = {
            let mut waiting = waiting.lock().await;
            let Some(first) = waiting.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match waiting.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            batch
        };
        let (items, answers): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|p| ((p.message, p.withheld), p.answer))
            .unzip();
        if let ([(message, withheld)], [_]) = (items.as_slice(), answers.as_slice()) {
            let appended = repo.append(message, withheld).await;
            if let Some(answer) = answers.into_iter().next() {
                let _ = answer.send(appended);
            }
            continue;
        }
        match repo.append_batch(&items).await {
            Ok(appended) => {
                for (answer, one) in answers.into_iter().zip(appended) {
                    let _ = answer.send(Ok(one));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, size = items.len(), "batch not written; one by one");
                for ((message, withheld), answer) in items.iter().zip(answers) {
                    let _ = answer.send(repo.append(message, withheld).await);
                }
            }
        }
    }
}
