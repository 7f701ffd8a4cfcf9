//! Presence set by a user and read by others.

use dialtone_bus::Event;
use dialtone_core::PhoneNumber;
use dialtone_core::presence::PresenceSetting;
use dialtone_store::UserRecord;

use super::{PresenceView, SocialService};
use crate::{ServiceError, ServiceResult};

/// Longest status text, in characters.
const MAX_STATUS_CHARS: usize = 140;

impl SocialService {
    /// Sets the user's presence; watchers hear of it at once.
    pub async fn set_presence(
        &self,
        user: &UserRecord,
        setting: PresenceSetting,
        text: Option<&str>,
    ) -> ServiceResult<()> {
        let text = text
            .map(dialtone_core::text::one_line)
            .filter(|t| !t.is_empty());
        let text = text.as_deref();
        if text.is_some_and(|t| t.chars().count() > MAX_STATUS_CHARS) {
            return Err(ServiceError::InvalidInput(format!(
                "the status text has at most {MAX_STATUS_CHARS} characters"
            )));
        }
        let store = &self.deps.store;
        let before = store.presence.get(&user.id).await?;
        if setting == PresenceSetting::Invisible && before.setting != PresenceSetting::Invisible {
            // To others this is the moment the user went offline.
            store.presence.set_last_seen(&user.id, self.now()).await?;
        }
        store.presence.set(&user.id, setting, text).await?;
        self.announce(Event::PresenceChanged {
            user_id: user.id.clone(),
        })
        .await;
        Ok(())
    }

    /// The presence of a number as `viewer` may see it: `offline` with nothing else for an
    /// unregistered number and for a user the viewer may not see.
    pub async fn presence_of(
        &self,
        viewer: &UserRecord,
        phone: &PhoneNumber,
    ) -> ServiceResult<PresenceView> {
        match self.user_by_phone(phone).await? {
            Some(target) => self.presence_seen_by(viewer, &target).await,
            None => Ok(PresenceView::hidden()),
        }
    }
}

/// Devices coming and going, and server processes beating or found dead: what decides
/// whether a user has a connected device (online) and when they were last seen.
impl SocialService {
    /// A device (`session_id`) of `user_id` connected (connection `connection_id` on node
    /// `node_id`); its first device turns the user online.
    pub async fn device_connected(
        &self,
        connection_id: &str,
        node_id: &str,
        user_id: &str,
        session_id: &str,
    ) -> ServiceResult<()> {
        let count = self
            .deps
            .store
            .presence
            .connect(connection_id, node_id, user_id, session_id, self.now())
            .await?;
        if count == 1 {
            self.announce(Event::PresenceChanged {
                user_id: user_id.into(),
            })
            .await;
        }
        Ok(())
    }

    /// A connection ended; the user's last one turns them offline, last seen now.
    pub async fn device_disconnected(&self, connection_id: &str) -> ServiceResult<()> {
        if let Some((user_id, 0)) = self.deps.store.presence.disconnect(connection_id).await? {
            self.deps
                .store
                .presence
                .set_last_seen(&user_id, self.now())
                .await?;
            self.announce(Event::PresenceChanged { user_id }).await;
        }
        Ok(())
    }

    /// Records that node `node_id` is alive and sweeps nodes silent for `dead_after`:
    /// their users turn offline, and `nodes_died` tells every node to check its
    /// connections (a dead node may have committed messages it never announced).
    pub async fn node_alive(
        &self,
        node_id: &str,
        dead_after: chrono::Duration,
    ) -> ServiceResult<()> {
        let now = self.now();
        self.deps.store.presence.heartbeat(node_id, now).await?;
        let gone = self
            .deps
            .store
            .presence
            .sweep_dead_nodes(now - dead_after)
            .await?;
        if !gone.is_empty() {
            self.announce(Event::NodesDied).await;
        }
        for user_id in gone {
            self.deps
                .store
                .presence
                .set_last_seen(&user_id, now)
                .await?;
            self.announce(Event::PresenceChanged { user_id }).await;
        }
        Ok(())
    }

    /// A user by id (`None` once the account is gone).
    pub async fn user_by_id(&self, user_id: &str) -> ServiceResult<Option<UserRecord>> {
        Ok(self.deps.store.accounts.user_by_id(user_id).await?)
    }
}
