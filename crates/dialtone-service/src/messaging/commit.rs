//! Group commit: writes that arrive at about the same time go into one transaction, so
//! they share one commit (one sync to disk) instead of paying one each. Messages (a 201
//! still follows the commit holding the message, so it keeps meaning "on disk") and
//! devices' acknowledgements (a busy group's members ack every message) both go this way.
//!
//! Writers take whatever is waiting when they are free (no timer: under light load a
//! write goes alone and at once; under heavy load the queue fills while the previous
//! batch commits, and the next batch takes it all).

use std::sync::Arc;

use async_trait::async_trait;
use dialtone_core::UserId;
use dialtone_store::{
    AckDone, DeviceAck, Engine, MessageRecord, MessageRepo, StoreResult, UserRecord,
};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::receipts::{Moved, Receipts};
use crate::{ServiceError, ServiceResult};

/// Most writes in one transaction: SQLite's one writer takes all that waits (a
/// transaction's fixed cost is most of a small one's); PostgreSQL's writers share the
/// waiting writes out (measured: 1,024 there was no faster than 256, and slightly slower).
const MAX_BATCH_SQLITE: usize = 1024;
const MAX_BATCH_POSTGRES: usize = 256;
/// Writes that may wait for a writer before callers wait to queue.
const MAX_WAITING: usize = 4096;

/// A kind of write that can be done one at a time or many in one transaction.
#[async_trait]
pub(crate) trait BatchWrite: Send + Sync + 'static {
    /// One write.
    type Item: Send + Sync + 'static;
    /// Its result.
    type Done: Send + 'static;
    /// Many, in one transaction, results in order; nothing written on error.
    async fn write_batch(&self, items: &[Self::Item]) -> StoreResult<Vec<Self::Done>>;
    /// One alone.
    async fn write_one(&self, item: &Self::Item) -> StoreResult<Self::Done>;
    /// Whether batches may be written by several writers at once on PostgreSQL (they
    /// must not be able to deadlock on each other).
    const PARALLEL: bool;
}

/// Message appends (`MessageRepo::append_batch`).
pub(crate) struct Appends(pub Arc<dyn MessageRepo>);

#[async_trait]
impl BatchWrite for Appends {
    type Item = (MessageRecord, Vec<UserId>);
    type Done = (MessageRecord, bool);
    /// `append_batch` locks conversations in id order.
    const PARALLEL: bool = true;
    async fn write_batch(&self, items: &[Self::Item]) -> StoreResult<Vec<Self::Done>> {
        self.0.append_batch(items).await
    }
    async fn write_one(&self, (message, withheld): &Self::Item) -> StoreResult<Self::Done> {
        self.0.append(message, withheld).await
    }
}

/// Devices' acknowledgements with the delivered marks they move (`ack_batch`), then the
/// receipts of every mark that moved in the batch, decided together.
pub(crate) struct Acks {
    pub repo: Arc<dyn MessageRepo>,
    pub receipts: Arc<Receipts>,
}

impl Acks {
    async fn announce(&self, items: &[(DeviceAck, UserRecord)], done: &[Option<AckDone>]) {
        let moved: Vec<Moved> = items
            .iter()
            .zip(done)
            .filter_map(|((ack, actor), done)| {
                let done = done.as_ref().filter(|d| d.moved)?;
                Some(Moved {
                    actor: actor.clone(),
                    conversation_id: ack.conversation_id.clone(),
                    kind: done.kind,
                    seq: done.seq,
                    read: false,
                })
            })
            .collect();
        if moved.is_empty() {
            return;
        }
        if let Err(e) = self.receipts.announce(&moved).await {
            tracing::warn!(error = %e, "receipts not announced");
        }
    }
}

#[async_trait]
impl BatchWrite for Acks {
    /// The ack and the user who sent it.
    type Item = (DeviceAck, UserRecord);
    /// `None`: not a member.
    type Done = Option<AckDone>;
    /// The delivered marks are moved by one multi-row UPDATE, whose row-locking order
    /// PostgreSQL does not promise: two at once could deadlock.
    const PARALLEL: bool = false;
    async fn write_batch(&self, items: &[Self::Item]) -> StoreResult<Vec<Self::Done>> {
        let acks: Vec<DeviceAck> = items.iter().map(|(ack, _)| ack.clone()).collect();
        let done = self.repo.ack_batch(&acks).await?;
        self.announce(items, &done).await;
        Ok(done)
    }
    async fn write_one(&self, item: &Self::Item) -> StoreResult<Self::Done> {
        self.write_batch(std::slice::from_ref(item))
            .await
            .map(|mut done| done.pop().flatten())
    }
}

type Answer<W> = oneshot::Sender<StoreResult<<W as BatchWrite>::Done>>;
type Waiting<W> = (<W as BatchWrite>::Item, Answer<W>);

/// The queue of one kind of write and its writer tasks (they end when the service, and
/// with it the queue's sender, is dropped).
pub(crate) struct GroupCommit<W: BatchWrite> {
    queue: mpsc::Sender<Waiting<W>>,
}

impl<W: BatchWrite> GroupCommit<W> {
    /// Starts the writers: one for SQLite (it has one writer anyway), a few for
    /// PostgreSQL (different conversations commit in parallel there) where the kind of
    /// write allows it.
    /// Each writer holds a clone of `alive` until it ends (see [`WritersStopped`]).
    pub(crate) fn start(write: W, engine: Engine, alive: &mpsc::Sender<()>) -> GroupCommit<W> {
        let (queue, waiting) = mpsc::channel(MAX_WAITING);
        let waiting = Arc::new(Mutex::new(waiting));
        let write = Arc::new(write);
        let writers = match engine {
            Engine::Sqlite => 1,
            Engine::Postgres if W::PARALLEL => 4,
            Engine::Postgres => 1,
        };
        let max = match engine {
            Engine::Sqlite => MAX_BATCH_SQLITE,
            Engine::Postgres => MAX_BATCH_POSTGRES,
        };
        if engine == Engine::Sqlite {
            match own_thread(write.clone(), waiting.clone(), max, alive.clone()) {
                Ok(()) => return GroupCommit { queue },
                Err(e) => tracing::warn!(error = %e, "no thread for the writer; on the runtime"),
            }
        }
        for _ in 0..writers {
            // Ends by itself once every sender (the service) is gone and the queue is empty.
            tokio::spawn(writer(write.clone(), waiting.clone(), max, alive.clone()));
        }
        GroupCommit { queue }
    }

    /// Does one write in a shared transaction; its result once that committed.
    pub(crate) async fn write(&self, item: W::Item) -> ServiceResult<W::Done> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send((item, answer))
            .await
            .map_err(|_| ServiceError::Internal("the writer stopped".into()))?;
        let done = answered
            .await
            .map_err(|_| ServiceError::Internal("the writer dropped a write".into()))?;
        Ok(done?)
    }
}

/// Runs SQLite's one writer on a thread of its own. A batch is several statements, each a
/// round trip to sqlx's connection thread; on the shared runtime the writer waited behind
/// every connection's task to take up each answer, and the batch held the database's
/// write lock meanwhile.
fn own_thread<W: BatchWrite>(
    write: Arc<W>,
    waiting: Arc<Mutex<mpsc::Receiver<Waiting<W>>>>,
    max: usize,
    alive: mpsc::Sender<()>,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("dialtone-writer".into())
        .spawn(move || runtime.block_on(writer(write, waiting, max, alive)))?;
    Ok(())
}

/// One writer: takes everything waiting (up to `max`), writes it in one
/// transaction, answers each caller. A failed batch is retried one write at a time, so
/// one bad write fails alone.
async fn writer<W: BatchWrite>(
    write: Arc<W>,
    waiting: Arc<Mutex<mpsc::Receiver<Waiting<W>>>>,
    max: usize,
    // Dropped when this writer ends: what `WritersStopped` waits for.
    _alive: mpsc::Sender<()>,
) {
    loop {
        let batch = {
            let mut waiting = waiting.lock().await;
            let Some(first) = waiting.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < max {
                match waiting.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            batch
        };
        let (items, answers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        if let ([item], [_]) = (items.as_slice(), answers.as_slice()) {
            let done = write.write_one(item).await;
            if let Some(answer) = answers.into_iter().next() {
                let _ = answer.send(done);
            }
            continue;
        }
        let started = std::time::Instant::now();
        let written = write.write_batch(&items).await;
        tracing::debug!(
            size = items.len(),
            ms = started.elapsed().as_secs_f64() * 1000.0,
            kind = std::any::type_name::<W>(),
            "batch written"
        );
        match written {
            Ok(done) => {
                for (answer, one) in answers.into_iter().zip(done) {
                    let _ = answer.send(Ok(one));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, size = items.len(), "batch not written; one by one");
                for (item, answer) in items.iter().zip(answers) {
                    let _ = answer.send(write.write_one(item).await);
                }
            }
        }
    }
}

/// Resolves once every group-commit writer of a messaging service has ended: they end
/// when the service is dropped (its queues close) and what was queued is written. Stopping
/// a server waits for this, so no write it accepted is cut off mid-batch.
pub struct WritersStopped(mpsc::Receiver<()>);

impl WritersStopped {
    pub(crate) fn new(alive: mpsc::Receiver<()>) -> Self {
        Self(alive)
    }

    /// Waits up to `bound` for the writers to end; whether they did.
    pub async fn wait(mut self, bound: std::time::Duration) -> bool {
        // Nothing is ever sent: `recv` returns `None` once every writer dropped its sender.
        tokio::time::timeout(bound, self.0.recv()).await.is_ok()
    }
}
