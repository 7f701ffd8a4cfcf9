//! Records and the repository of notifications when the app is closed: devices' Web Push
//! subscriptions, users' notification settings, per-conversation mutes, and the unread
//! count a badge shows.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dialtone_core::{ConversationId, UserId};

use crate::StoreResult;

/// A device's Web Push subscription (what the browser's `PushSubscription` holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscriptionRecord {
    /// The device (session) it belongs to: one subscription per device.
    pub session_id: String,
    /// Its user.
    pub user_id: UserId,
    /// The push service's URL for this subscription.
    pub endpoint: String,
    /// The browser's public key (base64url, uncompressed P-256 point).
    pub p256dh: String,
    /// The browser's authentication secret (base64url, 16 bytes).
    pub auth: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// What a user wants of their notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifySettings {
    /// Show the sender's name and a preview of the text (else "New message").
    pub previews: bool,
    /// Show names and text for hidden contacts too (else nothing that names them).
    pub hidden_previews: bool,
    /// Quiet hours: (from, to) in minutes of the local day; notifications come silently.
    pub quiet: Option<(u16, u16)>,
    /// The user's offset from UTC in minutes (east positive), for the quiet hours.
    pub utc_offset_minutes: i32,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            previews: true,
            hidden_previews: false,
            quiet: None,
            utc_offset_minutes: 0,
        }
    }
}

/// Subscriptions, notification settings and mutes.
#[async_trait]
pub trait PushRepo: Send + Sync {
    /// Records a device's subscription, replacing the device's previous one and any
    /// other device's holding the same endpoint (a browser re-subscribing after a logout).
    async fn subscribe(&self, subscription: &PushSubscriptionRecord) -> StoreResult<()>;
    /// Forgets a device's subscription; whether it had one.
    async fn unsubscribe(&self, session_id: &str) -> StoreResult<bool>;
    /// Forgets a subscription by endpoint (its push service said it is gone).
    async fn drop_endpoint(&self, endpoint: &str) -> StoreResult<()>;
    /// Every user with at least one subscription (what a process that is the database's
    /// only writer keeps in memory, to skip the question for everyone else).
    async fn subscribed_users(&self) -> StoreResult<Vec<UserId>>;
    /// A device's subscription.
    async fn subscription(&self, session_id: &str) -> StoreResult<Option<PushSubscriptionRecord>>;
    /// The subscriptions of these users' devices that have no live connection on any node.
    async fn offline_subscriptions(
        &self,
        user_ids: &[UserId],
    ) -> StoreResult<Vec<PushSubscriptionRecord>>;
    /// These users' settings (the defaults for those who never set any).
    async fn notify_settings(
        &self,
        user_ids: &[UserId],
    ) -> StoreResult<HashMap<UserId, NotifySettings>>;
    /// Replaces a user's settings.
    async fn set_notify_settings(
        &self,
        user_id: &UserId,
        settings: &NotifySettings,
    ) -> StoreResult<()>;
    /// Mutes a conversation for a member until a time (`None`: unmutes); whether they are
    /// a member.
    async fn set_muted(
        &self,
        conversation_id: &ConversationId,
        user_id: &UserId,
        until: Option<DateTime<Utc>>,
    ) -> StoreResult<bool>;
    /// Which of these members have the conversation muted after `now`, until when.
    async fn muted(
        &self,
        conversation_id: &ConversationId,
        user_ids: &[UserId],
        now: DateTime<Utc>,
    ) -> StoreResult<HashMap<UserId, DateTime<Utc>>>;
    /// A user's conversations muted after `now`, until when.
    async fn mutes_of(
        &self,
        user_id: &UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<HashMap<ConversationId, DateTime<Utc>>>;
    /// Messages a user has not read, that others sent and the user may see, in the
    /// conversations they have not muted at `now` (what the app icon's badge shows).
    async fn unread_total(&self, user_id: &UserId, now: DateTime<Utc>) -> StoreResult<u64>;
}
