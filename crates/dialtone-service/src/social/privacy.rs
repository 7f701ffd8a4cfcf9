//! Privacy settings, the block and allow lists, and contact groups. Every change is
//! announced so live connections re-ask the policy at once.

use dialtone_bus::Event;
use dialtone_core::PhoneNumber;
use dialtone_core::privacy::{Audience, PrivacySettings, Visibility};
use dialtone_store::{ContactGroupRecord, ListKind, UserRecord};

use super::SocialService;
use crate::crypto::new_id;
use crate::{ServiceError, ServiceResult};

/// Longest group name, in characters.
const MAX_GROUP_NAME_CHARS: usize = 64;
/// Most members of one contact group.
const MAX_GROUP_MEMBERS: usize = 10_000;
/// Most groups of one user.
const MAX_GROUPS: usize = 200;

/// A change of settings; `None` keeps a field.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrivacyUpdate {
    /// Everyone or allow-list only.
    pub visibility: Option<Visibility>,
    /// Who may find me by number.
    pub discoverable: Option<Audience>,
    /// Who may see my last-seen time.
    pub last_seen: Option<Audience>,
}

impl SocialService {
    /// A user's privacy settings.
    pub async fn privacy_settings(&self, user: &UserRecord) -> ServiceResult<PrivacySettings> {
        Ok(self.deps.store.privacy.settings(&user.id).await?)
    }

    /// Changes privacy settings.
    pub async fn update_privacy(
        &self,
        user: &UserRecord,
        update: PrivacyUpdate,
    ) -> ServiceResult<PrivacySettings> {
        let store = &self.deps.store;
        let mut settings = store.privacy.settings(&user.id).await?;
        if let Some(v) = update.visibility {
            settings.visibility = v;
        }
        if let Some(d) = update.discoverable {
            settings.discoverable = d;
        }
        if let Some(l) = update.last_seen {
            settings.last_seen = l;
        }
        store.privacy.set_settings(&user.id, &settings).await?;
        self.privacy_changed(user).await;
        Ok(settings)
    }

    async fn privacy_changed(&self, user: &UserRecord) {
        self.announce(Event::PrivacyChanged {
            user_id: user.id.clone(),
        })
        .await;
    }

    /// Puts a number on, or takes it off, the block or allow list.
    pub async fn set_listed_phone(
        &self,
        user: &UserRecord,
        list: ListKind,
        phone: &PhoneNumber,
        listed: bool,
    ) -> ServiceResult<()> {
        let privacy = &self.deps.store.privacy;
        if listed {
            privacy.add_phone(&user.id, list, phone).await?;
        } else {
            privacy.remove_phone(&user.id, list, phone).await?;
        }
        self.privacy_changed(user).await;
        Ok(())
    }

    /// Puts one of the user's contact groups on, or takes it off, a list.
    pub async fn set_listed_group(
        &self,
        user: &UserRecord,
        list: ListKind,
        group_id: &str,
        listed: bool,
    ) -> ServiceResult<()> {
        let privacy = &self.deps.store.privacy;
        if privacy.group(&user.id, group_id).await?.is_none() {
            return Err(ServiceError::GroupNotFound);
        }
        if listed {
            privacy.add_group(&user.id, list, group_id).await?;
        } else {
            privacy.remove_group(&user.id, list, group_id).await?;
        }
        self.privacy_changed(user).await;
        Ok(())
    }

    /// The numbers and group ids on a list.
    pub async fn listed(
        &self,
        user: &UserRecord,
        list: ListKind,
    ) -> ServiceResult<(Vec<PhoneNumber>, Vec<String>)> {
        Ok(self.deps.store.privacy.list(&user.id, list).await?)
    }

    /// Creates a contact group from numbers in any dialable form.
    pub async fn create_group(
        &self,
        user: &UserRecord,
        name: &str,
        phones: &[String],
        region: Option<&str>,
    ) -> ServiceResult<ContactGroupRecord> {
        let name = dialtone_core::text::one_line(name);
        let name = name.as_str();
        if name.is_empty() || name.chars().count() > MAX_GROUP_NAME_CHARS {
            return Err(ServiceError::InvalidInput(format!(
                "a group name has 1 to {MAX_GROUP_NAME_CHARS} characters"
            )));
        }
        if phones.len() > MAX_GROUP_MEMBERS {
            return Err(ServiceError::InvalidInput(format!(
                "a group has at most {MAX_GROUP_MEMBERS} numbers"
            )));
        }
        let store = &self.deps.store;
        if store.privacy.groups(&user.id).await?.len() >= MAX_GROUPS {
            return Err(ServiceError::InvalidInput(format!(
                "at most {MAX_GROUPS} groups"
            )));
        }
        let region = self.region_for(user, region)?;
        let mut members = Vec::with_capacity(phones.len());
        for input in phones {
            let phone = PhoneNumber::parse(input, Some(region)).map_err(|e| {
                ServiceError::InvalidInput(format!("{input:?} is not a phone number: {e}"))
            })?;
            if !members.contains(&phone) {
                members.push(phone);
            }
        }
        let group = ContactGroupRecord {
            id: new_id(),
            owner_id: user.id.clone().into(),
            name: name.to_owned(),
            phones: members,
            created_at: self.now(),
        };
        store.privacy.create_group(&group).await?;
        Ok(group)
    }

    /// The user's contact groups.
    pub async fn groups(&self, user: &UserRecord) -> ServiceResult<Vec<ContactGroupRecord>> {
        Ok(self.deps.store.privacy.groups(&user.id).await?)
    }
}
