//! Live connections of this server process and the fan-out of events to them.
//!
//! One bus subscription per process ([`Hub::dispatch`]) and an in-process map of user →
//! live connections. On an event the hub re-reads the current state and asks the privacy
//! policy (through [`SocialService`]) what each local watcher may see, and sends a frame
//! only when that differs from what the connection was last shown: so a watcher who may
//! not see a user learns nothing, not even that something changed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use dialtone_bus::Event;
use dialtone_protocol::{ConversationId, PresenceFrame, ReceiptStatus, ServerFrame, UserId};
use dialtone_store::{HighWater, UserRecord};
use tokio::sync::{Notify, RwLock, broadcast};
use tokio_util::task::{TaskTracker, task_tracker::TaskTrackerToken};

use dialtone_service::AccountService;
use dialtone_service::calls::CallService;
use dialtone_service::messaging::MessagingService;
use dialtone_service::social::{PresenceView, SocialService};
use dialtone_service::{ServiceError, ServiceResult};

use crate::queue::{Items, Queue};

/// Frames a connection may have queued before it counts as a slow consumer and is closed
/// (it catches up on reconnect).
pub const CONNECTION_QUEUE: usize = 256;

/// What the hub queues for a connection. Messages are not frames yet: the connection's
/// own task puts them in seq order per conversation ([`crate::delivery::Orderer`]) before
/// they go out.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A frame as JSON text, to write as it is.
    Frame(Bytes),
    /// A `message` frame of a conversation, at its seq.
    Message {
        /// The conversation.
        conversation_id: Arc<str>,
        /// The message's seq.
        seq: u64,
        /// The frame as JSON text.
        text: Bytes,
    },
    /// A seq of a conversation withheld from this user: the order moves past it.
    Withheld {
        /// The conversation.
        conversation_id: Arc<str>,
        /// The seq.
        seq: u64,
    },
    /// Compare every conversation's last seq with what was sent, and send what is missing
    /// (commits whose event never came: a node died between its commit and the publish).
    Recheck,
}

/// Why the server ends a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The device was logged out.
    Revoked,
    /// The client did not read its frames fast enough.
    SlowConsumer,
    /// The server is stopping.
    ShuttingDown,
}

/// One live connection.
pub struct Connection {
    /// Connection id.
    pub id: String,
    /// The user.
    pub user: UserRecord,
    /// The device.
    pub session_id: String,
    /// What goes out, in the order queued.
    pub(crate) queue: Queue,
    /// Items the queue may hold before the connection counts as a slow consumer.
    bound: usize,
    /// What this connection was last shown of each contact.
    shown: Mutex<HashMap<String, PresenceFrame>>,
    close: Notify,
    close_reason: Mutex<Option<CloseReason>>,
    /// Whether `ready` went out; nothing else may precede it.
    ready: AtomicBool,
    /// Whether an update came before `ready` (then the connection is resynced after it).
    missed: AtomicBool,
}

impl Connection {
    /// Resolves when the server wants this connection closed, with the reason.
    pub async fn closed(&self) -> CloseReason {
        loop {
            if let Some(reason) = *self.close_reason.lock().unwrap_or_else(|e| e.into_inner()) {
                return reason;
            }
            self.close.notified().await;
        }
    }

    fn close_with(&self, reason: CloseReason) {
        let mut slot = self.close_reason.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(reason);
        }
        drop(slot);
        self.close.notify_waiters();
        self.close.notify_one();
    }

    /// Queues a frame; a full queue closes the connection as a slow consumer. Before
    /// `ready` has gone out, the update is only noted (a resync follows `ready`).
    pub fn send(&self, frame: ServerFrame) {
        self.send_text(encode(&frame));
    }

    /// Queues a frame already written as JSON text (a frame going to many connections is
    /// written once); as `send`.
    pub fn send_text(&self, text: Bytes) {
        if !self.ready.load(Ordering::Acquire) {
            self.missed.store(true, Ordering::Release);
            return;
        }
        self.push_item(Outgoing::Frame(text));
    }

    /// Queues an item (messages from the moment the connection is known: whatever the
    /// catch-up read has too is sent once, by seq).
    fn push_item(&self, item: Outgoing) {
        if self.queue.push(item, self.bound).is_err() {
            self.close_with(CloseReason::SlowConsumer);
        }
    }

    /// Asks the connection to compare what it sent with the database (never closes it: a
    /// full queue has its own reason to close).
    fn recheck(&self) {
        if self.ready.load(Ordering::Acquire) {
            let _ = self.queue.push(Outgoing::Recheck, self.bound);
        }
    }

    /// The `ready` frame, written first by the connection's task; from now on frames are
    /// queued.
    fn make_ready(&self, presence: Vec<PresenceFrame>, catching_up: bool) -> Bytes {
        {
            let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
            shown.clear();
            for f in &presence {
                shown.insert(f.phone.clone(), f.clone());
            }
        }
        let ready = encode(&ServerFrame::Ready {
            presence,
            catching_up,
        });
        self.ready.store(true, Ordering::Release);
        ready
    }

    /// Sends `frame` only if it differs from what was last shown for its phone (a missing
    /// entry counts as "offline, nothing else": what an unregistered number shows).
    fn show(&self, frame: PresenceFrame) {
        if !self.ready.load(Ordering::Acquire) {
            self.missed.store(true, Ordering::Release);
            return;
        }
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        let before = shown
            .get(&frame.phone)
            .cloned()
            .unwrap_or_else(|| hidden(&frame.phone));
        if before != frame {
            shown.insert(frame.phone.clone(), frame.clone());
            drop(shown);
            self.send(ServerFrame::Presence(frame));
        }
    }
}

/// A frame as the JSON text sent on the socket.
pub fn encode(frame: &ServerFrame) -> Bytes {
    Bytes::from(frame.to_json())
}

fn hidden(phone: &str) -> PresenceFrame {
    frame(phone, PresenceView::hidden())
}

fn frame(phone: &str, view: PresenceView) -> PresenceFrame {
    PresenceFrame {
        phone: phone.to_owned(),
        state: view.state,
        text: view.text,
        last_seen_at: view
            .last_seen_at
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    }
}

/// How live connections are kept alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Heartbeat {
    /// Seconds between the server's pings.
    pub ping_secs: u64,
    /// Seconds of silence after which a client counts as gone (and its user, with no other
    /// connection, as offline).
    pub dead_after_secs: u64,
    /// Frames a connection may have waiting to be written before it counts as a slow
    /// consumer and is closed (4008); it catches up when it reconnects.
    pub queue: usize,
    /// Seconds between checks of every connection against the database, which deliver
    /// commits whose event never came (a node that died between commit and publish is
    /// also caught at once by the heartbeat sweep).
    pub recheck_secs: u64,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self {
            ping_secs: 20,
            dead_after_secs: 60,
            queue: CONNECTION_QUEUE,
            recheck_secs: 30,
        }
    }
}

/// A connection just made: what its task writes first (`ready`), then catch-up from
/// `plan`, then `items` as they come.
pub struct Connected {
    /// The connection.
    pub conn: Arc<Connection>,
    /// What is queued for it.
    pub items: Items,
    /// The `ready` frame.
    pub ready: Bytes,
    /// Where the device stood in each conversation when it connected.
    pub plan: Vec<HighWater>,
}

/// The live connections of this process.
pub struct Hub {
    /// Told of sessions revoked on any node, so their remembered tokens stop working here.
    accounts: Arc<AccountService>,
    node_id: String,
    /// Every task serving a connection (its socket loop, its sends, its ack recordings):
    /// stopping the server waits for them.
    tasks: TaskTracker,
    social: Arc<SocialService>,
    messaging: Arc<MessagingService>,
    local: RwLock<HashMap<UserId, Vec<Arc<Connection>>>>,
    heartbeat: Heartbeat,
    /// Told when a user's privacy or address book changed, to decide their calls again.
    calls: std::sync::OnceLock<Arc<CallService>>,
}

impl Hub {
    /// A hub for this process.
    pub fn new(
        accounts: Arc<AccountService>,
        social: Arc<SocialService>,
        messaging: Arc<MessagingService>,
        heartbeat: Heartbeat,
    ) -> Self {
        Self {
            node_id: uuid::Uuid::now_v7().simple().to_string(),
            tasks: TaskTracker::new(),
            accounts,
            social,
            messaging,
            local: RwLock::new(HashMap::new()),
            heartbeat,
            calls: std::sync::OnceLock::new(),
        }
    }

    /// Gives the hub the call service (built after the hub, from its node id): privacy
    /// and address-book events then re-decide the calls this node runs.
    pub fn attach_calls(&self, calls: Arc<CallService>) {
        let _ = self.calls.set(calls);
    }

    /// Decides again the calls of a user whose privacy or book changed.
    async fn recheck_calls(&self, user_id: &UserId) {
        if let Some(calls) = self.calls.get()
            && let Err(e) = calls.recheck(user_id).await
        {
            tracing::warn!(error = %e.report(), %user_id, "calls not rechecked");
        }
    }

    /// How connections are kept alive.
    pub fn heartbeat(&self) -> Heartbeat {
        self.heartbeat
    }

    /// This process's id among the nodes of a deployment.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Registers a connection: records it (the user is online), queues the `ready` frame
    /// and returns the receiver of its frames.
    pub async fn connect(&self, user: UserRecord, session_id: String) -> ServiceResult<Connected> {
        let conn = Arc::new(Connection {
            id: uuid::Uuid::now_v7().simple().to_string(),
            user: user.clone(),
            session_id,
            queue: Queue::default(),
            bound: self.heartbeat.queue.max(1),
            shown: Mutex::new(HashMap::new()),
            close: Notify::new(),
            close_reason: Mutex::new(None),
            ready: AtomicBool::new(false),
            missed: AtomicBool::new(false),
        });
        self.local
            .write()
            .await
            .entry(user.id.clone())
            .or_default()
            .push(conn.clone());
        self.social
            .device_connected(&conn.id, &self.node_id, &user.id, &conn.session_id)
            .await?;
        let mut ready = Vec::new();
        for contact in self.social.contacts(&user, false).await? {
            if let Some(view) = contact.presence {
                ready.push(frame(contact.phone.as_str(), view));
            }
        }
        // Read after the connection is known: a message committed later comes as an event.
        let plan = self.high_water(&conn).await?;
        let catching_up = plan.iter().any(|w| w.last_seq > w.acked_seq);
        let ready = conn.make_ready(ready, catching_up);
        if conn.missed.load(Ordering::Acquire) {
            self.resync_user(&user.id).await?;
        }
        Ok(Connected {
            items: Items::new(conn.clone()),
            conn,
            ready,
            plan,
        })
    }

    /// Where this device stands in each of its conversations (last seq, acked seq): what
    /// catch-up and a recheck start from.
    pub async fn high_water(&self, conn: &Connection) -> ServiceResult<Vec<HighWater>> {
        self.messaging
            .high_water(&conn.user, &conn.session_id)
            .await
    }

    /// The device's acked seq in one conversation (0 if none, or not a member).
    pub async fn acked(
        &self,
        conn: &Connection,
        conversation_id: &ConversationId,
    ) -> ServiceResult<u64> {
        self.messaging
            .acked(&conn.user, &conn.session_id, conversation_id)
            .await
    }

    /// The messages of `(after, upto]` this user may see, at most `limit`, as `message`
    /// frames with their seqs, and the seq the read covers (every seq up to it is done:
    /// `upto` unless the page was full). Nothing, covering all, once the user is not a
    /// member any more.
    pub async fn fill(
        &self,
        conn: &Connection,
        conversation_id: &ConversationId,
        after: u64,
        upto: u64,
        limit: u32,
    ) -> ServiceResult<(Vec<(u64, Bytes)>, u64)> {
        let (page, covered) = match self
            .messaging
            .range(&conn.user, conversation_id, after, upto, limit)
            .await
        {
            Ok(read) => read,
            Err(ServiceError::ConversationNotFound) => return Ok((Vec::new(), upto)),
            Err(e) => return Err(e),
        };
        let frames = page
            .iter()
            .map(|m| {
                let frame = ServerFrame::Message {
                    message: Arc::new(dialtone_service::messaging::message_of(m)),
                };
                (m.record.seq, encode(&frame))
            })
            .collect();
        Ok((frames, covered))
    }

    /// Messages read per page of catch-up or of a gap.
    pub fn page(&self) -> u32 {
        self.messaging.catch_up_page()
    }

    /// Forgets a connection; the user goes offline when it was their last.
    pub async fn disconnect(&self, conn: &Connection) -> ServiceResult<()> {
        {
            let mut local = self.local.write().await;
            if let Some(conns) = local.get_mut(conn.user.id.as_str()) {
                conns.retain(|c| c.id != conn.id);
                if conns.is_empty() {
                    local.remove(conn.user.id.as_str());
                }
            }
        }
        self.social.device_disconnected(&conn.id).await
    }

    /// Runs a task of a connection (its sends, its ack recordings), one that stopping
    /// waits for.
    pub fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tasks.spawn(task)
    }

    /// Counts the caller (a connection's socket loop, which its web framework spawned) as
    /// a task stopping waits for, until the token is dropped.
    pub fn track(&self) -> TaskTrackerToken {
        self.tasks.token()
    }

    /// Asks every local connection to close (server shutdown).
    pub async fn close_all(&self) {
        for conns in self.local.read().await.values() {
            for conn in conns {
                conn.close_with(CloseReason::ShuttingDown);
            }
        }
    }

    /// Server shutdown, after `close_all` and once no connection can be made: waits up to
    /// `bound` for every connection's tasks to end (their closing handshakes, the acks
    /// they record last, their disconnects); whether they all did.
    pub async fn drain(&self, bound: std::time::Duration) -> bool {
        self.tasks.close();
        tokio::time::timeout(bound, self.tasks.wait()).await.is_ok()
    }

    /// Node liveness: records this node's heartbeat and sweeps nodes that stopped beating,
    /// turning their users offline. Called every few seconds.
    pub async fn tick(&self, dead_after: chrono::Duration) -> ServiceResult<()> {
        self.social.node_alive(&self.node_id, dead_after).await
    }

    /// The one bus subscription of this process: fans events out to local connections
    /// until the bus closes.
    pub async fn dispatch(&self, mut events: broadcast::Receiver<Event>) {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Err(e) = self.handle(&event).await {
                        tracing::warn!(error = %e.report(), ?event, "event not fanned out");
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    // Skipped events may have been messages: every connection gets its
                    // presence again and every message it has not acknowledged (delivery
                    // is at least once; clients drop duplicates by id). Revocations may
                    // have been skipped too: every token is checked against the database.
                    tracing::warn!(skipped = n, "fan-out lagged; resyncing every connection");
                    self.accounts.forget_sessions();
                    if let Err(e) = self.resync_all().await {
                        tracing::warn!(error = %e.report(), "resync failed");
                    }
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    }

    async fn handle(&self, event: &Event) -> ServiceResult<()> {
        match event {
            Event::PresenceChanged { user_id } => self.refresh_watchers_of(user_id, false).await,
            Event::PrivacyChanged { user_id } => {
                // Both sides change: what others may see of the user, and what reaches
                // the user from those they now block or no longer allow.
                self.recheck_calls(user_id).await;
                self.resync_user(user_id).await?;
                self.refresh_watchers_of(user_id, false).await
            }
            Event::ContactsChanged { user_id } => {
                self.recheck_calls(user_id).await;
                self.resync_user(user_id).await?;
                self.refresh_watchers_of(user_id, false).await
            }
            Event::UserRegistered { user_id } => self.refresh_watchers_of(user_id, true).await,
            Event::MessageCreated {
                conversation_id,
                seq,
                to,
                withheld,
                message,
            } => {
                let text = encode(&ServerFrame::Message {
                    message: message.clone(),
                });
                let conversation: Arc<str> = conversation_id.as_str().into();
                let local = self.local.read().await;
                for user_id in to {
                    for conn in local.get(user_id).into_iter().flatten() {
                        conn.push_item(Outgoing::Message {
                            conversation_id: conversation.clone(),
                            seq: *seq,
                            text: text.clone(),
                        });
                    }
                }
                for user_id in withheld {
                    for conn in local.get(user_id).into_iter().flatten() {
                        conn.push_item(Outgoing::Withheld {
                            conversation_id: conversation.clone(),
                            seq: *seq,
                        });
                    }
                }
                Ok(())
            }
            Event::NodesDied => {
                self.recheck_all().await;
                Ok(())
            }
            Event::FeedItem { to, item } => {
                self.send_to(to, &ServerFrame::FeedItem(item.clone())).await;
                Ok(())
            }
            Event::Notification { to, notification } => {
                let frame = ServerFrame::Notification {
                    notification: notification.clone(),
                };
                self.send_to(std::slice::from_ref(to), &frame).await;
                Ok(())
            }
            Event::MessageChanged { to, message, .. } => {
                let frame = ServerFrame::MessageUpdated {
                    message: message.clone(),
                };
                self.send_to(to, &frame).await;
                Ok(())
            }
            Event::Receipt {
                conversation_id,
                phone,
                seq,
                read,
                to,
            } => {
                let frame = ServerFrame::Receipt {
                    conversation_id: conversation_id.to_string(),
                    phone: phone.clone(),
                    seq: *seq,
                    status: if *read {
                        ReceiptStatus::Read
                    } else {
                        ReceiptStatus::Delivered
                    },
                };
                self.send_to(to, &frame).await;
                Ok(())
            }
            Event::Typing {
                conversation_id,
                phone,
                to,
            } => {
                let frame = ServerFrame::Typing {
                    conversation_id: conversation_id.to_string(),
                    phone: phone.clone(),
                };
                self.send_to(to, &frame).await;
                Ok(())
            }
            Event::ConversationChanged {
                conversation_id,
                to,
                removed,
                conversation,
            } => {
                let frame = ServerFrame::Conversation {
                    conversation: conversation.clone(),
                };
                self.send_to(to, &frame).await;
                let frame = ServerFrame::ConversationRemoved {
                    conversation_id: conversation_id.to_string(),
                };
                self.send_to(removed, &frame).await;
                if let Some(calls) = self.calls.get() {
                    calls.left_group(conversation_id, removed).await;
                }
                Ok(())
            }
            Event::CallFrame { to, frame } => {
                let text = encode(frame);
                let local = self.local.read().await;
                for target in to {
                    for conn in local.get(&target.user_id).into_iter().flatten() {
                        if target.takes(&conn.session_id) {
                            conn.send_text(text.clone());
                        }
                    }
                }
                Ok(())
            }
            Event::ConferenceCommand {
                node_id,
                call_id,
                user_id,
                session_id,
                command,
            } => {
                if let Some(calls) = self.calls.get() {
                    calls
                        .run_conference_command(
                            node_id,
                            call_id,
                            user_id,
                            session_id,
                            command.clone(),
                        )
                        .await;
                }
                Ok(())
            }
            Event::SessionRevoked { session_id } => {
                // Revoked on any node: its token stops working here too.
                self.accounts.session_revoked(session_id);
                for conns in self.local.read().await.values() {
                    for conn in conns.iter().filter(|c| c.session_id == *session_id) {
                        conn.close_with(CloseReason::Revoked);
                    }
                }
                Ok(())
            }
        }
    }

    /// Sends a frame to the local connections of the users `to` (written as text once).
    async fn send_to(&self, to: &[UserId], frame: &ServerFrame) {
        let text = encode(frame);
        let local = self.local.read().await;
        for user_id in to {
            if let Some(conns) = local.get(user_id) {
                for conn in conns {
                    conn.send_text(text.clone());
                }
            }
        }
    }

    async fn local_conns(&self, user_id: &str) -> Vec<Arc<Connection>> {
        self.local
            .read()
            .await
            .get(user_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Re-evaluates what every local watcher of `target_id` may see of them, in a few
    /// queries for all of them.
    async fn refresh_watchers_of(&self, target_id: &str, registered: bool) -> ServiceResult<()> {
        let Some(target) = self.social.user_by_id(target_id).await? else {
            return Ok(());
        };
        let candidates = self.social.watchers_of(&target.phone).await?;
        let mut watchers: Vec<(UserRecord, Vec<Arc<Connection>>)> = Vec::new();
        {
            let local = self.local.read().await;
            for (watcher_id, hidden) in candidates {
                if hidden {
                    continue;
                }
                if let Some(conns) = local.get(watcher_id.as_str())
                    && let Some(first) = conns.first()
                {
                    watchers.push((first.user.clone(), conns.clone()));
                }
            }
        }
        if watchers.is_empty() {
            return Ok(());
        }
        let users: Vec<UserRecord> = watchers.iter().map(|(u, _)| u.clone()).collect();
        let seen = self.social.seen_by_watchers(&target, &users).await?;
        for (watcher, conns) in watchers {
            let Some((decided, presence)) = seen.get(&watcher.id) else {
                continue;
            };
            let shown = frame(target.phone.as_str(), presence.clone());
            for conn in &conns {
                if registered && decided.visible {
                    conn.send(ServerFrame::ContactRegistered {
                        phone: target.phone.to_string(),
                        user_id: target.id.to_string(),
                    });
                }
                conn.show(shown.clone());
            }
        }
        Ok(())
    }

    /// Re-evaluates everything a local user may see of their contacts.
    async fn resync_user(&self, user_id: &str) -> ServiceResult<()> {
        let conns = self.local_conns(user_id).await;
        let Some(user) = conns.first().map(|c| c.user.clone()) else {
            return Ok(());
        };
        for contact in self.social.contacts(&user, false).await? {
            let view = contact.presence.unwrap_or_else(PresenceView::hidden);
            let shown = frame(contact.phone.as_str(), view);
            for conn in &conns {
                conn.show(shown.clone());
            }
        }
        Ok(())
    }

    async fn resync_all(&self) -> ServiceResult<()> {
        let users: Vec<UserId> = self.local.read().await.keys().cloned().collect();
        for user in users {
            self.resync_user(&user).await?;
        }
        self.recheck_all().await;
        Ok(())
    }

    /// Every local connection compares what it sent with the database and sends what is
    /// missing: run periodically, and at once when a node was found dead or the fan-out
    /// fell behind (events may be lost; commits are not).
    pub async fn recheck_all(&self) {
        for conns in self.local.read().await.values() {
            for conn in conns {
                conn.recheck();
            }
        }
    }
}
