//! Notifications when the app is closed (Web Push): devices' subscriptions, the user's
//! settings (previews, hidden contacts' previews, quiet hours), per-conversation mutes,
//! and the worker that decides and sends pushes.
//!
//! A push is decided once, on the node where the thing happened (a message committed, a
//! read mark moved, a call rang), off the path that answered the client: the service
//! queues a job and the worker (`worker.rs`) does the rest. It goes only to devices that
//! have no live connection on any node (a connected device has the thing already), only
//! to the users the thing reached (a message's audience was decided by the privacy policy
//! at send time: whoever it is withheld from gets nothing), never for a muted
//! conversation (a mention of the user pierces a mute), silently in quiet hours, and says
//! of a hidden contact neither name nor text unless the user allows it.

mod payload;
mod quiet;
mod worker;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use dialtone_core::{Clock, ConversationId, UserId};
use dialtone_protocol::{CallMedia, Message};
use dialtone_push::{EndpointPolicy, PushSender, RetryPolicy, Subscription, VapidKey};
use dialtone_store::{NotifySettings, PushSubscriptionRecord, Store, UserRecord};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use payload::{CallPush, MessagePush, PushPayload};
pub use quiet::{format_minute, is_quiet, parse_minute};

use crate::social::SocialService;
use crate::{ServiceError, ServiceResult};

/// Web Push: who the server says it is, its key, how pushes are paced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PushConfig {
    /// Send pushes at all (subscriptions are still accepted and kept when off).
    pub enabled: bool,
    /// Who push services may contact about this server's pushes (VAPID `sub`): a
    /// `mailto:` or `https:` URL.
    pub subject: String,
    /// The VAPID private key (base64url of the 32-byte P-256 scalar); unset: derived
    /// from the server key, so every node of a deployment has the same one.
    pub vapid_private_key: Option<String>,
    /// Milliseconds during which further messages of a conversation to a device are
    /// gathered into one push (a burst of 50 messages is a few notifications).
    pub coalesce_ms: u64,
    /// Seconds a push service keeps a message's push for a device that is offline.
    pub message_ttl_secs: u32,
    /// Attempts per push when the push service answers 429 or 5xx.
    pub attempts: u32,
    /// First wait between attempts, in milliseconds (doubling, with jitter).
    pub retry_base_ms: u64,
    /// Tests only: the local push services (`127.0.0.1:PORT`) pushes may go to, over
    /// http; empty (production): https endpoints whose addresses are all public. Never
    /// read from a file or the environment.
    #[serde(skip)]
    pub test_endpoint_addresses: Vec<std::net::SocketAddr>,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            subject: "mailto:push@dialtone.invalid".into(),
            vapid_private_key: None,
            coalesce_ms: 3_000,
            message_ttl_secs: 2 * 24 * 3600,
            attempts: 4,
            retry_base_ms: 1_000,
            test_endpoint_addresses: Vec::new(),
        }
    }
}

/// How long a conversation is muted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MuteFor {
    /// Eight hours.
    #[serde(rename = "8h")]
    EightHours,
    /// A week.
    #[serde(rename = "1w")]
    Week,
    /// Until unmuted.
    #[serde(rename = "always")]
    Always,
    /// Unmute.
    #[serde(rename = "off")]
    Off,
}

/// The year an "always" mute runs to: far enough to be forever, near enough for every
/// engine's and every client's dates.
const ALWAYS_YEAR: i32 = 9999;

/// A user's notification settings as the API shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifySettingsView {
    /// Show the sender and a preview of the text.
    pub previews: bool,
    /// Show name and text for hidden contacts too.
    pub hidden_previews: bool,
    /// Quiet hours (local `HH:MM`), or none.
    pub quiet_hours: Option<QuietHours>,
    /// The user's offset from UTC in minutes (east positive), for the quiet hours.
    pub utc_offset_minutes: i32,
}

/// Quiet hours, from `from` (included) to `to` (not), local time; may cross midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    /// `HH:MM`.
    pub from: String,
    /// `HH:MM`.
    pub to: String,
}

/// A change of settings: what is given changes, the rest stays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifySettingsPatch {
    /// Show the sender and a preview of the text.
    pub previews: Option<bool>,
    /// Show name and text for hidden contacts too.
    pub hidden_previews: Option<bool>,
    /// Quiet hours; `Some(None)` turns them off.
    pub quiet_hours: Option<Option<QuietHours>>,
    /// The user's offset from UTC in minutes.
    pub utc_offset_minutes: Option<i32>,
}

impl From<NotifySettings> for NotifySettingsView {
    fn from(s: NotifySettings) -> Self {
        Self {
            previews: s.previews,
            hidden_previews: s.hidden_previews,
            quiet_hours: s.quiet.map(|(from, to)| QuietHours {
                from: format_minute(from),
                to: format_minute(to),
            }),
            utc_offset_minutes: s.utc_offset_minutes,
        }
    }
}

/// A browser's push subscription as `PushSubscription.toJSON()` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SubscriptionInput {
    /// The push service's URL.
    pub endpoint: String,
    /// The keys.
    pub keys: SubscriptionKeys,
}

/// A subscription's keys (base64url).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SubscriptionKeys {
    /// The browser's P-256 public key.
    pub p256dh: String,
    /// The authentication secret.
    pub auth: String,
}

/// What the notification service is built from.
pub struct NotifyDeps {
    /// The database.
    pub store: Store,
    /// Contacts, names and the vault's hidden entries.
    pub social: Arc<SocialService>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Configuration.
    pub config: PushConfig,
    /// The server's secret key (the VAPID key is derived from it unless configured).
    pub server_key: Vec<u8>,
}

/// Subscriptions, settings, mutes, and the pushes themselves.
pub struct NotifyService {
    store: Store,
    clock: Arc<dyn Clock>,
    config: PushConfig,
    public_key: String,
    policy: EndpointPolicy,
    jobs: mpsc::UnboundedSender<worker::Job>,
    /// The worker's end of the queue, until `start` takes it.
    queue: Mutex<Option<(mpsc::UnboundedReceiver<worker::Job>, worker::Worker)>>,
    tasks: TaskTracker,
    cancel: CancellationToken,
    /// Users known to have a subscription, when this process is the database's only
    /// writer (SQLite): see [`worker::Subscribed`].
    subscribed: Option<worker::Subscribed>,
}

impl NotifyService {
    /// Builds the service (the worker starts with [`NotifyService::start`]); a bad key or
    /// subject is said in the error.
    pub fn new(deps: NotifyDeps) -> Result<Arc<Self>, String> {
        let key = match &deps.config.vapid_private_key {
            Some(k) => {
                VapidKey::from_base64url(k).map_err(|e| format!("push.vapid_private_key: {e}"))?
            }
            None => VapidKey::derive(&deps.server_key).map_err(|e| format!("VAPID key: {e}"))?,
        };
        let public_key = key.public_key_base64url();
        let policy = if deps.config.test_endpoint_addresses.is_empty() {
            EndpointPolicy::PublicHttpsOnly
        } else {
            EndpointPolicy::AllowList(deps.config.test_endpoint_addresses.clone())
        };
        let retry = RetryPolicy {
            max_attempts: deps.config.attempts.max(1),
            base_delay: std::time::Duration::from_millis(deps.config.retry_base_ms),
            ..RetryPolicy::default()
        };
        let sender = PushSender::new(key, deps.config.subject.clone(), policy.clone(), retry)
            .map_err(|e| format!("push: {e}"))?;
        let (jobs, rx) = mpsc::unbounded_channel();
        let subscribed =
            (deps.store.engine == dialtone_store::Engine::Sqlite).then(worker::Subscribed::default);
        let worker = worker::Worker::new(
            deps.store.clone(),
            deps.social,
            deps.clock.clone(),
            deps.config.clone(),
            Arc::new(sender),
            subscribed.clone(),
        );
        Ok(Arc::new(Self {
            store: deps.store,
            clock: deps.clock,
            config: deps.config,
            public_key,
            policy,
            jobs,
            queue: Mutex::new(Some((rx, worker))),
            tasks: TaskTracker::new(),
            cancel: CancellationToken::new(),
            subscribed,
        }))
    }

    /// Starts the worker (once).
    pub fn start(&self) {
        let taken = self.queue.lock().ok().and_then(|mut q| q.take());
        if let Some((rx, worker)) = taken {
            let cancel = self.cancel.clone();
            let tasks = self.tasks.clone();
            self.tasks.spawn(worker.run(rx, cancel, tasks));
        }
    }

    /// Stops the worker; pushes not yet sent are dropped (they were a courtesy: the
    /// messages themselves are stored and reach the devices when they connect).
    pub async fn stop(&self) {
        self.cancel.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }

    /// The VAPID public key (base64url), the browser's `applicationServerKey`.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Records the subscription of the caller's device (one per device: a new one
    /// replaces the old).
    pub async fn subscribe(
        &self,
        user: &UserRecord,
        session_id: &str,
        input: SubscriptionInput,
    ) -> ServiceResult<()> {
        let subscription = Subscription {
            endpoint: input.endpoint,
            p256dh: input.keys.p256dh,
            auth: input.keys.auth,
        };
        subscription
            .validate(&self.policy)
            .map_err(|e| ServiceError::InvalidInput(format!("push subscription: {e}")))?;
        self.store
            .push
            .subscribe(&PushSubscriptionRecord {
                session_id: session_id.to_owned(),
                user_id: user.id.clone(),
                endpoint: subscription.endpoint,
                p256dh: subscription.p256dh,
                auth: subscription.auth,
                created_at: self.now(),
            })
            .await?;
        if let Some(known) = &self.subscribed {
            known.add(user.id.clone());
        }
        Ok(())
    }

    /// Forgets the caller's device's subscription; whether it had one.
    pub async fn unsubscribe(&self, session_id: &str) -> ServiceResult<bool> {
        Ok(self.store.push.unsubscribe(session_id).await?)
    }

    /// Whether the caller's device has a subscription.
    pub async fn subscribed(&self, session_id: &str) -> ServiceResult<bool> {
        Ok(self.store.push.subscription(session_id).await?.is_some())
    }

    /// The caller's settings.
    pub async fn settings(&self, user: &UserRecord) -> ServiceResult<NotifySettingsView> {
        let all = self
            .store
            .push
            .notify_settings(std::slice::from_ref(&user.id))
            .await?;
        Ok(all.get(&user.id).copied().unwrap_or_default().into())
    }

    /// Changes the caller's settings.
    pub async fn update_settings(
        &self,
        user: &UserRecord,
        patch: NotifySettingsPatch,
    ) -> ServiceResult<NotifySettingsView> {
        let ids = std::slice::from_ref(&user.id);
        let mut settings = self
            .store
            .push
            .notify_settings(ids)
            .await?
            .get(&user.id)
            .copied()
            .unwrap_or_default();
        if let Some(v) = patch.previews {
            settings.previews = v;
        }
        if let Some(v) = patch.hidden_previews {
            settings.hidden_previews = v;
        }
        if let Some(quiet) = patch.quiet_hours {
            settings.quiet = match quiet {
                None => None,
                Some(q) => {
                    let read = |t: &str, field: &str| {
                        parse_minute(t).ok_or_else(|| {
                            ServiceError::InvalidInput(format!(
                                "quiet_hours.{field} must be HH:MM (00:00 to 23:59)"
                            ))
                        })
                    };
                    Some((read(&q.from, "from")?, read(&q.to, "to")?))
                }
            };
        }
        if let Some(offset) = patch.utc_offset_minutes {
            if !(-14 * 60..=14 * 60).contains(&offset) {
                return Err(ServiceError::InvalidInput(
                    "utc_offset_minutes must be within -840 and 840".into(),
                ));
            }
            settings.utc_offset_minutes = offset;
        }
        self.store
            .push
            .set_notify_settings(&user.id, &settings)
            .await?;
        Ok(settings.into())
    }

    /// Mutes (or unmutes) a conversation of the caller; until when. A conversation the
    /// caller is not in is `NotFound`, as everywhere.
    pub async fn mute(
        &self,
        user: &UserRecord,
        conversation_id: &ConversationId,
        mute: MuteFor,
    ) -> ServiceResult<Option<DateTime<Utc>>> {
        let now = self.now();
        let until = match mute {
            MuteFor::EightHours => Some(now + Duration::hours(8)),
            MuteFor::Week => Some(now + Duration::weeks(1)),
            MuteFor::Always => chrono::NaiveDate::from_ymd_opt(ALWAYS_YEAR, 12, 31)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc()),
            MuteFor::Off => None,
        };
        if !self
            .store
            .push
            .set_muted(conversation_id, &user.id, until)
            .await?
        {
            return Err(ServiceError::ConversationNotFound);
        }
        Ok(until)
    }

    /// The caller's muted conversations, until when.
    pub async fn mutes(
        &self,
        user: &UserRecord,
    ) -> ServiceResult<std::collections::HashMap<ConversationId, DateTime<Utc>>> {
        Ok(self.store.push.mutes_of(&user.id, self.now()).await?)
    }

    fn queue(&self, job: worker::Job) {
        if self.config.enabled && self.jobs.send(job).is_err() {
            tracing::debug!("push worker stopped: push not sent");
        }
    }

    /// A message was committed and goes to `to` (its audience; withheld members are not
    /// in it): pushes to their devices that are not connected.
    pub fn message_created(&self, sender: &UserRecord, message: Arc<Message>, to: &[UserId]) {
        if !payload::notifies(&message) {
            return;
        }
        let to: Vec<UserId> = to.iter().filter(|u| **u != sender.id).cloned().collect();
        if to.is_empty() {
            return;
        }
        self.queue(worker::Job::Message {
            sender_id: sender.id.clone(),
            message,
            to,
        });
    }

    /// A user read a conversation up to `seq`: what was pushed of it to their devices
    /// that are not connected is closed there.
    pub fn read(&self, user_id: &UserId, conversation_id: &ConversationId, seq: u64) {
        self.queue(worker::Job::Read {
            user_id: user_id.clone(),
            conversation_id: conversation_id.clone(),
            seq,
        });
    }

    /// A call rings `callee` (the caller may reach them): their devices that are not
    /// connected are woken for `ring_secs`.
    pub fn call_ringing(
        &self,
        call_id: &str,
        conversation_id: &ConversationId,
        caller: &UserRecord,
        callee: &UserId,
        media: CallMedia,
        ring_secs: u32,
    ) {
        self.queue(worker::Job::Call {
            call_id: call_id.to_owned(),
            conversation_id: conversation_id.clone(),
            caller_id: caller.id.clone(),
            callee: callee.clone(),
            media,
            ring_secs,
        });
    }

    /// A call stopped ringing: the devices it woke stop showing it.
    pub fn call_stopped(&self, call_id: &str) {
        self.queue(worker::Job::CallStopped {
            call_id: call_id.to_owned(),
        });
    }
}
