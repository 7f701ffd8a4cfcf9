//! The push worker: one task per process taking the jobs the service queues, deciding
//! who gets what, gathering bursts, and handing each push to a sending task.
//!
//! Bursts: the first message of a conversation to a device goes at once; what follows
//! within `coalesce_ms` of the last push is gathered and sent as one push (the latest
//! message, and how many it stands for) when that time is up. Every push of a
//! conversation carries the same RFC 8030 `Topic`, so a push service holding an
//! undelivered one for an offline device replaces it with the newer one (a read on
//! another device replaces it too).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use dialtone_core::{Clock, ConversationId, ConversationKind, PhoneNumber, UserId};
use dialtone_protocol::{CallMedia, Message};
use dialtone_push::{Delivery, Push, PushSender, Subscription, Urgency};
use dialtone_store::{NotifySettings, PushSubscriptionRecord, Store};
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::payload::{CallPush, MessagePush, PushPayload, Shown};
use super::{PushConfig, is_quiet};
use crate::ServiceResult;
use crate::social::SocialService;

/// Pushes being sent at once (each may wait on retries).
const SENDS_AT_ONCE: usize = 64;
/// Seconds a push that closes notifications (read, call ended) is kept for an offline
/// device.
const CLOSING_TTL_SECS: u32 = 24 * 3600;
/// Gathering windows kept before the idle ones are swept.
const WINDOWS_KEPT: usize = 4_096;

/// What the service asks of the worker.
pub(super) enum Job {
    /// A message was committed for `to` (its audience, sender left out).
    Message {
        sender_id: UserId,
        message: Arc<Message>,
        to: Vec<UserId>,
    },
    /// A user read a conversation up to `seq`.
    Read {
        user_id: UserId,
        conversation_id: ConversationId,
        seq: u64,
    },
    /// A call rings its callee.
    Call {
        call_id: String,
        conversation_id: ConversationId,
        caller_id: UserId,
        callee: UserId,
        media: CallMedia,
        ring_secs: u32,
    },
    /// A call stopped ringing.
    CallStopped { call_id: String },
}

/// The users with a push subscription, kept in memory when this process is the
/// database's only writer (SQLite), so a message to people who have none (most, on a busy
/// server) costs no query. Every subscription is made through this process and added
/// here; one that goes (unsubscribed, gone, logged out) stays until restart, which only
/// costs the query that then finds nothing.
#[derive(Clone, Default)]
pub(super) struct Subscribed(Arc<std::sync::RwLock<HashSet<UserId>>>);

impl Subscribed {
    pub(super) fn add(&self, user: UserId) {
        self.0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(user);
    }

    fn extend(&self, users: Vec<UserId>) {
        self.0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(users);
    }

    /// Those of `users` who may have a subscription.
    fn keep(&self, users: &[UserId]) -> Vec<UserId> {
        let known = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        users
            .iter()
            .filter(|u| known.contains(*u))
            .cloned()
            .collect()
    }
}

/// A device's gathering window for one conversation.
struct Window {
    last_sent: Instant,
    /// What came since, to be sent when the window ends.
    pending: Option<(PushSubscriptionRecord, MessagePush)>,
}

/// The worker's state (owned by its task: no locks).
pub(super) struct Worker {
    store: Store,
    social: Arc<SocialService>,
    clock: Arc<dyn Clock>,
    config: PushConfig,
    sender: Arc<PushSender>,
    sends: Arc<Semaphore>,
    windows: HashMap<(String, ConversationId), Window>,
    /// When gathered pushes are due (instant, tie-breaker) → their window.
    due: BTreeMap<(Instant, u64), (String, ConversationId)>,
    ticket: u64,
    /// Conversations with a notification shown on a device (session), to close on read.
    shown: HashMap<String, HashSet<ConversationId>>,
    /// Ringing calls and the devices their push woke.
    ringing: HashMap<String, (ConversationId, Vec<PushSubscriptionRecord>)>,
    /// Users with a subscription, on SQLite.
    subscribed: Option<Subscribed>,
}

/// The RFC 8030 topic of a conversation's (or a call's) pushes: the same for every push
/// of it, naming nothing (a hash).
fn topic(kind: &str, id: &str) -> String {
    Push::topic_for(&format!("{kind}:{id}"))
}

impl Worker {
    pub(super) fn new(
        store: Store,
        social: Arc<SocialService>,
        clock: Arc<dyn Clock>,
        config: PushConfig,
        sender: Arc<PushSender>,
        subscribed: Option<Subscribed>,
    ) -> Self {
        Self {
            store,
            social,
            clock,
            config,
            sender,
            sends: Arc::new(Semaphore::new(SENDS_AT_ONCE)),
            windows: HashMap::new(),
            due: BTreeMap::new(),
            ticket: 0,
            shown: HashMap::new(),
            ringing: HashMap::new(),
            subscribed,
        }
    }

    /// The subscriptions of these users' devices that have no live connection.
    async fn offline(&self, users: &[UserId]) -> ServiceResult<Vec<PushSubscriptionRecord>> {
        let users = match &self.subscribed {
            Some(known) => known.keep(users),
            None => users.to_vec(),
        };
        if users.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.store.push.offline_subscriptions(&users).await?)
    }

    /// Takes jobs until the queue closes or `cancel` fires.
    pub(super) async fn run(
        mut self,
        mut jobs: mpsc::UnboundedReceiver<Job>,
        cancel: CancellationToken,
        tasks: TaskTracker,
    ) {
        if let Some(known) = &self.subscribed {
            match self.store.push.subscribed_users().await {
                Ok(users) => known.extend(users),
                Err(e) => {
                    // Without the list every user must be asked about.
                    tracing::warn!(error = %e, "subscribed users not read");
                    self.subscribed = None;
                }
            }
        }
        loop {
            let next = self.due.keys().next().map(|(at, _)| *at);
            tokio::select! {
                () = cancel.cancelled() => break,
                job = jobs.recv() => {
                    let Some(job) = job else { break };
                    if let Err(e) = self.handle(job, &tasks, &cancel).await {
                        tracing::warn!(error = %e.report(), "push not decided");
                    }
                }
                () = tokio::time::sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {
                    self.flush_due(&tasks, &cancel);
                }
            }
        }
    }

    async fn handle(
        &mut self,
        job: Job,
        tasks: &TaskTracker,
        cancel: &CancellationToken,
    ) -> ServiceResult<()> {
        match job {
            Job::Message {
                sender_id,
                message,
                to,
            } => self.message(&sender_id, &message, &to, tasks, cancel).await,
            Job::Read {
                user_id,
                conversation_id,
                seq,
            } => {
                self.read(&user_id, &conversation_id, seq, tasks, cancel)
                    .await
            }
            Job::Call {
                call_id,
                conversation_id,
                caller_id,
                callee,
                media,
                ring_secs,
            } => {
                self.call(
                    &call_id,
                    &conversation_id,
                    &caller_id,
                    &callee,
                    media,
                    ring_secs,
                    tasks,
                    cancel,
                )
                .await
            }
            Job::CallStopped { call_id } => {
                self.call_stopped(&call_id, tasks, cancel);
                Ok(())
            }
        }
    }

    /// How `user` knows the number `phone` (their book's name, else the number written
    /// for people), and whether it is one of their hidden contacts.
    async fn known_as(&self, user: &UserId, phone: &PhoneNumber) -> ServiceResult<(String, bool)> {
        let mac = self.social.sealer().mac(phone);
        let entry = self
            .store
            .contacts
            .get_many(user, std::slice::from_ref(&mac))
            .await?
            .into_iter()
            .next();
        let Some(entry) = entry else {
            return Ok((phone.international(), false));
        };
        let name = self
            .social
            .sealer()
            .open(&entry.sealed)
            .ok()
            .map(|(_, name)| name)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| phone.international());
        Ok((name, entry.hidden))
    }

    fn quiet(&self, settings: &NotifySettings) -> bool {
        settings.quiet.is_some_and(|(from, to)| {
            is_quiet(self.clock.now(), from, to, settings.utc_offset_minutes)
        })
    }

    async fn message(
        &mut self,
        sender_id: &UserId,
        message: &Message,
        to: &[UserId],
        tasks: &TaskTracker,
        cancel: &CancellationToken,
    ) -> ServiceResult<()> {
        let subs = self.offline(to).await?;
        if subs.is_empty() {
            return Ok(());
        }
        let conversation_id: ConversationId = message.conversation_id.clone().into();
        let mut users: Vec<UserId> = subs.iter().map(|s| s.user_id.clone()).collect();
        users.sort();
        users.dedup();
        let now = self.clock.now();
        let muted = self.store.push.muted(&conversation_id, &users, now).await?;
        let settings = self.store.push.notify_settings(&users).await?;
        let group = match self.store.messages.conversation(&conversation_id).await? {
            Some(c) if c.kind == ConversationKind::Group => Some(c.name.unwrap_or_default()),
            Some(_) => None,
            None => return Ok(()),
        };
        let Ok(sender_phone) = PhoneNumber::from_stored(&message.sender) else {
            return Ok(());
        };
        for user in &users {
            if user == sender_id {
                continue;
            }
            if muted.contains_key(user) && !self.mentions(message, user).await? {
                continue;
            }
            let s = settings.get(user).copied().unwrap_or_default();
            let (name, hidden) = self.known_as(user, &sender_phone).await?;
            let open = !hidden || s.hidden_previews;
            let shown = Shown {
                who: open,
                text: open && s.previews,
            };
            let unread = self.store.push.unread_total(user, now).await?;
            let push =
                MessagePush::of(message, group.clone(), name, &shown, unread, self.quiet(&s));
            for sub in subs.iter().filter(|s| &s.user_id == user) {
                self.offer(sub.clone(), push.clone(), tasks, cancel);
            }
        }
        Ok(())
    }

    /// Whether a message names the user (`@` and their number): that pierces a mute.
    async fn mentions(&self, message: &Message, user: &UserId) -> ServiceResult<bool> {
        let Some(text) = message.text.as_deref().filter(|t| t.contains('@')) else {
            return Ok(false);
        };
        let Some(account) = self.store.accounts.user_by_id(user).await? else {
            return Ok(false);
        };
        Ok(text.contains(&format!("@{}", account.phone.as_str())))
    }

    /// A message push for one device: at once, or gathered into the window's push.
    fn offer(
        &mut self,
        sub: PushSubscriptionRecord,
        push: MessagePush,
        tasks: &TaskTracker,
        cancel: &CancellationToken,
    ) {
        let gather = Duration::from_millis(self.config.coalesce_ms);
        let now = Instant::now();
        let key = (
            sub.session_id.clone(),
            ConversationId::from(push.conversation_id.clone()),
        );
        if let Some(window) = self.windows.get_mut(&key)
            && now < window.last_sent + gather
        {
            let count = window.pending.as_ref().map_or(0, |(_, p)| p.count);
            if window.pending.is_none() {
                self.ticket += 1;
                self.due
                    .insert((window.last_sent + gather, self.ticket), key.clone());
            }
            window.pending = Some((
                sub,
                MessagePush {
                    count: count + 1,
                    ..push
                },
            ));
            return;
        }
        self.windows.insert(
            key,
            Window {
                last_sent: now,
                pending: None,
            },
        );
        self.send_message(sub, push, tasks, cancel);
    }

    /// Sends the gathered pushes whose window ended.
    fn flush_due(&mut self, tasks: &TaskTracker, cancel: &CancellationToken) {
        let now = Instant::now();
        while let Some(entry) = self.due.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            let Some(window) = self.windows.get_mut(&key) else {
                continue;
            };
            if let Some((sub, push)) = window.pending.take() {
                window.last_sent = now;
                self.send_message(sub, push, tasks, cancel);
            }
        }
        if self.windows.len() > WINDOWS_KEPT {
            let gather = Duration::from_millis(self.config.coalesce_ms);
            self.windows
                .retain(|_, w| w.pending.is_some() || now < w.last_sent + gather);
        }
    }

    fn send_message(
        &mut self,
        sub: PushSubscriptionRecord,
        push: MessagePush,
        tasks: &TaskTracker,
        cancel: &CancellationToken,
    ) {
        self.shown
            .entry(sub.session_id.clone())
            .or_default()
            .insert(push.conversation_id.clone().into());
        let topic = topic("conversation", &push.conversation_id);
        let ttl = self.config.message_ttl_secs;
        self.send(
            sub,
            PushPayload::Message(push),
            ttl,
            Urgency::Normal,
            topic,
            tasks,
            cancel,
        );
    }

    async fn read(
        &mut self,
        user: &UserId,
        conversation_id: &ConversationId,
        seq: u64,
        tasks: &TaskTracker,
        cancel: &CancellationToken,
    ) -> ServiceResult<()> {
        // Only devices showing something of this conversation.
        let any = self
            .shown
            .values()
            .any(|conversations| conversations.contains(conversation_id));
        if !any {
            return Ok(());
        }
        let subs = self.offline(std::slice::from_ref(user)).await?;
        let unread = self.store.push.unread_total(user, self.clock.now()).await?;
        for sub in subs {
            let showing = self
                .shown
                .get_mut(&sub.session_id)
                .is_some_and(|c| c.remove(conversation_id));
            if !showing {
                continue;
            }
            if let Some(window) = self
                .windows
                .get_mut(&(sub.session_id.clone(), conversation_id.clone()))
            {
                window.pending = None;
            }
            let payload = PushPayload::Read {
                conversation_id: conversation_id.to_string(),
                seq,
                unread,
            };
            let topic = topic("conversation", conversation_id);
            self.send(
                sub,
                payload,
                CLOSING_TTL_SECS,
                Urgency::Normal,
                topic,
                tasks,
                cancel,
            );
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn call(
        &mut self,
        call_id: &str,
        conversation_id: &ConversationId,
        caller_id: &UserId,
        callee: &UserId,
        media: CallMedia,
        ring_secs: u32,
        tasks: &TaskTracker,
        cancel: &CancellationToken,
    ) -> ServiceResult<()> {
        let subs = self.offline(std::slice::from_ref(callee)).await?;
        if subs.is_empty() {
            return Ok(());
        }
        let Some(caller) = self.store.accounts.user_by_id(caller_id).await? else {
            return Ok(());
        };
        let settings = self
            .store
            .push
            .notify_settings(std::slice::from_ref(callee))
            .await?
            .get(callee)
            .copied()
            .unwrap_or_default();
        let (name, hidden) = self.known_as(callee, &caller.phone).await?;
        let who = !hidden || settings.hidden_previews;
        let payload = PushPayload::Call(CallPush {
            call_id: call_id.to_owned(),
            conversation_id: conversation_id.to_string(),
            media,
            sender: who.then(|| caller.phone.as_str().to_owned()),
            name: who.then_some(name),
            silent: self.quiet(&settings),
        });
        let topic = topic("call", call_id);
        for sub in &subs {
            self.send(
                sub.clone(),
                payload.clone(),
                ring_secs,
                Urgency::High,
                topic.clone(),
                tasks,
                cancel,
            );
        }
        self.ringing
            .insert(call_id.to_owned(), (conversation_id.clone(), subs));
        Ok(())
    }

    fn call_stopped(&mut self, call_id: &str, tasks: &TaskTracker, cancel: &CancellationToken) {
        let Some((conversation_id, subs)) = self.ringing.remove(call_id) else {
            return;
        };
        let payload = PushPayload::CallEnded {
            call_id: call_id.to_owned(),
            conversation_id: conversation_id.to_string(),
        };
        let topic = topic("call", call_id);
        for sub in subs {
            self.send(
                sub,
                payload.clone(),
                CLOSING_TTL_SECS,
                Urgency::High,
                topic.clone(),
                tasks,
                cancel,
            );
        }
    }

    /// Hands one push to a sending task; a subscription its push service says is gone
    /// is forgotten.
    #[allow(clippy::too_many_arguments)]
    fn send(
        &self,
        sub: PushSubscriptionRecord,
        payload: PushPayload,
        ttl_secs: u32,
        urgency: Urgency,
        topic: String,
        tasks: &TaskTracker,
        cancel: &CancellationToken,
    ) {
        let payload = match serde_json::to_vec(&payload) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "push payload not written");
                return;
            }
        };
        let push = Push {
            payload,
            ttl_secs,
            urgency,
            topic: Some(topic),
        };
        let sender = self.sender.clone();
        let store = self.store.clone();
        let sends = self.sends.clone();
        let cancel = cancel.clone();
        tasks.spawn(async move {
            let subscription = Subscription {
                endpoint: sub.endpoint.clone(),
                p256dh: sub.p256dh.clone(),
                auth: sub.auth.clone(),
            };
            let sent = async {
                let Ok(_permit) = sends.acquire().await else {
                    return;
                };
                match sender.send(&subscription, &push).await {
                    Ok(Delivery::Accepted) => {}
                    Ok(Delivery::Gone) => {
                        if let Err(e) = store.push.drop_endpoint(&sub.endpoint).await {
                            tracing::warn!(error = %e, "gone push subscription not dropped");
                        }
                    }
                    Ok(Delivery::Rejected { status }) => {
                        tracing::warn!(status, "push refused by the push service");
                    }
                    Err(e) => tracing::warn!(error = %e, "push not sent"),
                }
            };
            tokio::select! {
                () = cancel.cancelled() => {}
                () = sent => {}
            }
        });
    }
}
