//! What a live connection writes, in order: per conversation every message this device
//! may see, seq after seq, never one below a seq already sent, whether it came live, from
//! catch-up or from a read of a gap (the order itself is `dialtone_realtime::delivery`).
//!
//! On connecting, the device's place in each conversation (its acked seq) starts the
//! order, and everything after it up to the conversation's last seq is catch-up work, read
//! a page at a time at the socket's pace, between live frames; when that work is done the
//! connection says `caught_up`. A live message that comes before a lower seq (concurrent
//! senders publish in any order) waits for the events of the seqs below it, and after a
//! moment (`GAP_GRACE`) reads them from the database, which has them all (a seq is
//! committed only after the lower ones). A `Recheck` (periodic,
//! or a node found dead) compares each conversation's last seq with what was sent: a commit
//! whose event never came is read and sent. Acks are cut to what was sent, so an ack can
//! never pass a message this device did not get.
//!
//! The reads from the database here (catch-up pages, gaps, rechecks, a new conversation's
//! place) are awaited on the heap (`Box::pin`): inline, their futures would be part of
//! the connection's task, which every idle connection keeps for its whole life.

use std::collections::VecDeque;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use dialtone_protocol::{ConversationId, ServerFrame};
use dialtone_realtime::delivery::{Orderer, Unknown};
use dialtone_realtime::{Connection, Hub, Items, Outgoing};
use dialtone_store::HighWater;

/// How long a gap may wait for its missing events before it is read from the database.
const GAP_GRACE: std::time::Duration = std::time::Duration::from_millis(25);

/// Items written before one flush: under load a connection's queued frames go out in one
/// write to the socket, not one each.
const ITEMS_PER_FLUSH: usize = 64;

/// One connection's delivery state.
#[derive(Default)]
pub(super) struct Delivery {
    order: Orderer,
    /// Conversations to read up to a seq (catch-up, rechecks), a page at a time.
    work: VecDeque<(String, u64)>,
    /// Whether `caught_up` went out.
    caught_up: bool,
    /// Conversations where a seq came before a lower one.
    gaps: Vec<String>,
    /// When those gaps are read if the missing events have not come by then.
    gap_due: Option<tokio::time::Instant>,
}

impl Delivery {
    /// Where the device stood in each conversation when it connected; what it had not
    /// acknowledged is catch-up work (and `caught_up` ends it, as `ready` announced).
    /// `report`: the client asked for `caught_up` (others never see it).
    pub(super) fn new(plan: Vec<HighWater>, report: bool) -> Self {
        let mut delivery = Self::default();
        delivery.plan(plan);
        delivery.caught_up = !report || delivery.work.is_empty();
        delivery
    }

    /// Starts the order at each conversation's ack and queues what is missing.
    fn plan(&mut self, water: Vec<HighWater>) {
        for w in water {
            self.order.start(&w.conversation_id, w.acked_seq);
            if w.last_seq > self.order.sent(&w.conversation_id)
                && !self.work.iter().any(|(c, _)| w.conversation_id == *c)
            {
                self.work.push_back((w.conversation_id.into(), w.last_seq));
            }
        }
    }

    /// Whether catch-up or recheck work is waiting (or `caught_up` is still to say).
    pub(super) fn has_work(&self) -> bool {
        !self.work.is_empty() || !self.caught_up
    }

    /// What an ack of `seq` records: never past what went out on this connection (0 for a
    /// conversation nothing was sent of), withheld seqs after the last one shown included.
    pub(super) fn ack_upto(&self, conversation_id: &str, seq: u64) -> u64 {
        self.order.ack_upto(conversation_id, seq)
    }

    /// Queues a read of every conversation whose last seq is past what was sent.
    async fn recheck(&mut self, hub: &Hub, conn: &Connection) {
        match Box::pin(hub.high_water(conn)).await {
            Ok(water) => self.plan(water),
            Err(e) => {
                tracing::warn!(error = %e.report(), "recheck failed; the next one tries again")
            }
        }
    }

    /// Writes one page of the waiting work, then `caught_up` once all of it is done.
    pub(super) async fn work_page(
        &mut self,
        socket: &mut WebSocket,
        hub: &Hub,
        conn: &Connection,
    ) -> Result<(), axum::Error> {
        use futures::SinkExt;
        if let Some((conversation_id, upto)) = self.work.pop_front() {
            let after = self.order.sent(&conversation_id);
            let covered = if after < upto {
                self.read(socket, hub, conn, &conversation_id, after, upto)
                    .await?
            } else {
                Some(upto)
            };
            match covered {
                Some(covered) if covered < upto => self.work.push_front((conversation_id, upto)),
                // Done: what was held past the work may still miss a seq (late or lost).
                Some(_) => self.note_gap(&conversation_id),
                // A failed read is left for the next recheck; catch-up goes on.
                None => {}
            }
        }
        if self.work.is_empty() && !self.caught_up {
            self.caught_up = true;
            feed(socket, dialtone_realtime::encode(&ServerFrame::CaughtUp)).await?;
        }
        socket.flush().await
    }

    /// Writes `first` and whatever else is queued already (up to `ITEMS_PER_FLUSH`), each
    /// in its place, then flushes once.
    pub(super) async fn write_queued(
        &mut self,
        socket: &mut WebSocket,
        hub: &Hub,
        conn: &Connection,
        first: Outgoing,
        items: &mut Items,
    ) -> Result<(), axum::Error> {
        use futures::SinkExt;
        let mut next = Some(first);
        let mut handled = 0;
        while let Some(item) = next.take() {
            self.write_item(socket, hub, conn, item).await?;
            handled += 1;
            if handled < ITEMS_PER_FLUSH {
                next = items.try_recv();
            }
        }
        socket.flush().await
    }

    async fn write_item(
        &mut self,
        socket: &mut WebSocket,
        hub: &Hub,
        conn: &Connection,
        item: Outgoing,
    ) -> Result<(), axum::Error> {
        match item {
            Outgoing::Frame(text) => feed(socket, text).await,
            Outgoing::Message {
                conversation_id,
                seq,
                text,
            } => {
                self.deliver(socket, hub, conn, &conversation_id, seq, Some(text))
                    .await
            }
            Outgoing::Withheld {
                conversation_id,
                seq,
            } => {
                self.deliver(socket, hub, conn, &conversation_id, seq, None)
                    .await
            }
            Outgoing::Recheck => {
                self.recheck(hub, conn).await;
                Ok(())
            }
        }
    }

    /// A live message (or a seq withheld from this user) in its place: now if every seq
    /// below it went out, else after the gap is read.
    async fn deliver(
        &mut self,
        socket: &mut WebSocket,
        hub: &Hub,
        conn: &Connection,
        conversation_id: &str,
        seq: u64,
        text: Option<Bytes>,
    ) -> Result<(), axum::Error> {
        if !self.order.knows(conversation_id) {
            // A conversation that began after this connection did (or that it was added
            // to): its place is the device's ack.
            match Box::pin(hub.acked(conn, &ConversationId::from(conversation_id))).await {
                Ok(acked) => self.order.start(conversation_id, acked),
                Err(e) => {
                    tracing::warn!(error = %e.report(), conversation_id, "no place yet; left to the recheck");
                    return Ok(());
                }
            }
        }
        let ready = match self.order.offer(conversation_id, seq, text) {
            Ok(ready) => ready,
            Err(Unknown) => {
                // Started just above, so not expected; the recheck would still bring the
                // message, but a silent drop would hide the bug.
                tracing::error!(
                    conversation_id,
                    seq,
                    "message offered to no place; left to the recheck"
                );
                return Ok(());
            }
        };
        for text in ready {
            feed(socket, text).await?;
        }
        self.note_gap(conversation_id);
        Ok(())
    }

    /// Whether catch-up or recheck work is still to read in a conversation.
    fn in_work(&self, conversation_id: &str) -> bool {
        self.work.iter().any(|(c, _)| c == conversation_id)
    }

    /// Arms the read of a conversation's gap, if one is open and no work will read it.
    /// Most gaps are events still on their way (concurrent senders publish in any order):
    /// only those still open after a moment are read.
    fn note_gap(&mut self, conversation_id: &str) {
        if self.order.gap(conversation_id).is_none() || self.in_work(conversation_id) {
            return;
        }
        if !self.gaps.iter().any(|c| c == conversation_id) {
            self.gaps.push(conversation_id.to_owned());
        }
        self.gap_due
            .get_or_insert_with(|| tokio::time::Instant::now() + GAP_GRACE);
    }

    /// When the gaps that opened are to be read, if any are waiting.
    pub(super) fn gap_due(&self) -> Option<tokio::time::Instant> {
        self.gap_due
    }

    /// Reads a page of each gap still open from the database and writes what follows it.
    /// A gap longer than a page is due again at once: the next page waits its turn with
    /// the live frames, whose queue would otherwise fill during a long read.
    pub(super) async fn read_gaps(
        &mut self,
        socket: &mut WebSocket,
        hub: &Hub,
        conn: &Connection,
    ) -> Result<(), axum::Error> {
        use futures::SinkExt;
        self.gap_due = None;
        for conversation_id in std::mem::take(&mut self.gaps) {
            let Some((after, upto)) = self.order.gap(&conversation_id) else {
                continue;
            };
            // A failed read is left to the recheck.
            if self
                .read(socket, hub, conn, &conversation_id, after, upto)
                .await?
                .is_some()
                && self.order.gap(&conversation_id).is_some()
                && !self.in_work(&conversation_id)
            {
                self.gaps.push(conversation_id);
                self.gap_due = Some(tokio::time::Instant::now());
            }
        }
        socket.flush().await
    }
}

impl Delivery {
    /// Reads a page of `(after, upto]` of a conversation and writes what may go out now;
    /// the seq the read covered, or `None` when it failed (logged; a recheck tries again).
    async fn read(
        &mut self,
        socket: &mut WebSocket,
        hub: &Hub,
        conn: &Connection,
        conversation_id: &str,
        after: u64,
        upto: u64,
    ) -> Result<Option<u64>, axum::Error> {
        match Box::pin(hub.fill(
            conn,
            &ConversationId::from(conversation_id),
            after,
            upto,
            hub.page(),
        ))
        .await
        {
            Ok((rows, covered)) => {
                for text in self.order.filled(conversation_id, covered, rows) {
                    feed(socket, text).await?;
                }
                Ok(Some(covered))
            }
            Err(e) => {
                tracing::warn!(error = %e.report(), conversation_id, "messages not read; left to the recheck");
                Ok(None)
            }
        }
    }
}

/// Queues a frame on the socket without flushing.
async fn feed(socket: &mut WebSocket, text: Bytes) -> Result<(), axum::Error> {
    use futures::SinkExt;
    let text = Utf8Bytes::try_from(text).map_err(axum::Error::new)?;
    socket.feed(Message::Text(text)).await
}
