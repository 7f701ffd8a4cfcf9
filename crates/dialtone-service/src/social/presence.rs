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
