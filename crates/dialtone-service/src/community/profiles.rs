//! Profiles: what others see of a user beyond their number and name, field by field.

use dialtone_core::PhoneNumber;
use dialtone_core::privacy::{Audience, SpaceWindow, View};
use dialtone_core::text::{multi_line, one_line};
use dialtone_store::{ProfileRecord, UserRecord};

use super::{CommunityService, Viewer};
use crate::{ServiceError, ServiceResult};

/// Characters of a signature.
const SIGNATURE_CHARS: usize = 100;
/// Characters of a bio.
const BIO_CHARS: usize = 2_000;
/// Characters of a region or a gender.
const SHORT_FIELD_CHARS: usize = 64;

/// A profile as one viewer may see it: fields the viewer may not see are `None`. The
/// owner also gets the settings (`settings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileView {
    /// The user.
    pub user: UserRecord,
    /// One line under the name.
    pub signature: Option<String>,
    /// About the user.
    pub bio: Option<String>,
    /// Region, where the viewer may see it.
    pub region: Option<String>,
    /// Gender, where the viewer may see it.
    pub gender: Option<String>,
    /// Birthday, where the viewer may see it.
    pub birthday: Option<String>,
    /// Avatar attachment id.
    pub avatar_id: Option<String>,
    /// Cover attachment id.
    pub cover_id: Option<String>,
    /// The whole record, for its owner only.
    pub settings: Option<ProfileRecord>,
}

/// A change of profile; `None` keeps a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    /// One line under the name.
    pub signature: Option<Option<String>>,
    /// About the user.
    pub bio: Option<Option<String>>,
    /// Region, in the user's words.
    pub region: Option<Option<String>>,
    /// Gender, in the user's words.
    pub gender: Option<Option<String>>,
    /// `YYYY-MM-DD`.
    pub birthday: Option<Option<String>>,
    /// An image attachment of the user's.
    pub avatar_id: Option<Option<String>>,
    /// An image attachment of the user's.
    pub cover_id: Option<Option<String>>,
    /// Who sees the region.
    pub region_visibility: Option<Audience>,
    /// Who sees the gender.
    pub gender_visibility: Option<Audience>,
    /// Who sees the birthday.
    pub birthday_visibility: Option<Audience>,
    /// How far back others may look into the space.
    pub space_window: Option<SpaceWindow>,
}

/// A text field cleaned and checked: empty becomes none.
fn field(
    value: Option<String>,
    max: usize,
    name: &str,
    clean: fn(&str) -> String,
) -> ServiceResult<Option<String>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let value = clean(&value);
    let value = value.trim();
    if value.chars().count() > max {
        return Err(ServiceError::InvalidInput(format!(
            "a {name} has at most {max} characters"
        )));
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

fn birthday(value: Option<String>) -> ServiceResult<Option<String>> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let value = value.trim();
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| ServiceError::InvalidInput("a birthday is a date as YYYY-MM-DD".into()))?;
    Ok(Some(value.to_owned()))
}

/// Whether a field with `audience` shows to a viewer with `view` of its owner.
fn shows(audience: Audience, view: View, own: bool) -> bool {
    own || match audience {
        Audience::Everyone => view.visible,
        Audience::Contacts => view.contact,
        Audience::Nobody => false,
    }
}

impl CommunityService {
    /// The caller's own profile, with its settings.
    pub async fn my_profile(&self, user: &UserRecord) -> ServiceResult<ProfileView> {
        self.profile_of(Viewer::User(user), user, View::SELF).await
    }

    /// The profile of the user with `phone` as `viewer` may see it; someone the viewer
    /// may not see answers as an unregistered number does (`UserNotFound`).
    pub async fn profile(
        &self,
        viewer: Viewer<'_>,
        phone: &PhoneNumber,
    ) -> ServiceResult<ProfileView> {
        let (target, view) = self.visible_user(viewer, phone).await?;
        self.profile_of(viewer, &target, view).await
    }

    /// The user with `phone` and the view `viewer` has of them, if they may see them;
    /// else what an unregistered number gives.
    pub(crate) async fn visible_user(
        &self,
        viewer: Viewer<'_>,
        phone: &PhoneNumber,
    ) -> ServiceResult<(UserRecord, View)> {
        let target = self
            .store
            .accounts
            .user_by_phone(phone)
            .await?
            .ok_or(ServiceError::UserNotFound)?;
        let views = self
            .seen_people(viewer, std::slice::from_ref(&target))
            .await?;
        match views.get(&target.id) {
            Some(view) if view.visible => Ok((target, *view)),
            _ => Err(ServiceError::UserNotFound),
        }
    }

    /// The profile of `target`, whom `viewer` sees with `view` (already decided).
    async fn profile_of(
        &self,
        viewer: Viewer<'_>,
        target: &UserRecord,
        view: View,
    ) -> ServiceResult<ProfileView> {
        let own = viewer.id() == Some(target.id.as_str());
        let record = self
            .store
            .community
            .profile(&target.id)
            .await?
            .unwrap_or_else(|| ProfileRecord::empty(target.id.clone(), self.now()));
        Ok(ProfileView {
            user: target.clone(),
            signature: record.signature.clone(),
            bio: record.bio.clone(),
            region: record
                .region
                .clone()
                .filter(|_| shows(record.region_visibility, view, own)),
            gender: record
                .gender
                .clone()
                .filter(|_| shows(record.gender_visibility, view, own)),
            birthday: record
                .birthday
                .clone()
                .filter(|_| shows(record.birthday_visibility, view, own)),
            avatar_id: record.avatar_id.clone(),
            cover_id: record.cover_id.clone(),
            settings: own.then_some(record),
        })
    }

    /// Changes the caller's profile. Avatar and cover must be images the caller uploaded.
    pub async fn update_profile(
        &self,
        user: &UserRecord,
        update: ProfileUpdate,
    ) -> ServiceResult<ProfileView> {
        let mut record = self
            .store
            .community
            .profile(&user.id)
            .await?
            .unwrap_or_else(|| ProfileRecord::empty(user.id.clone(), self.now()));
        if let Some(v) = update.signature {
            record.signature = field(v, SIGNATURE_CHARS, "signature", one_line)?;
        }
        if let Some(v) = update.bio {
            record.bio = field(v, BIO_CHARS, "bio", multi_line)?;
        }
        if let Some(v) = update.region {
            record.region = field(v, SHORT_FIELD_CHARS, "region", one_line)?;
        }
        if let Some(v) = update.gender {
            record.gender = field(v, SHORT_FIELD_CHARS, "gender", one_line)?;
        }
        if let Some(v) = update.birthday {
            record.birthday = birthday(v)?;
        }
        for (given, slot) in [
            (update.avatar_id, &mut record.avatar_id),
            (update.cover_id, &mut record.cover_id),
        ] {
            if let Some(v) = given {
                if let Some(id) = &v {
                    self.own_image(user, id).await?;
                }
                *slot = v;
            }
        }
        if let Some(v) = update.region_visibility {
            record.region_visibility = v;
        }
        if let Some(v) = update.gender_visibility {
            record.gender_visibility = v;
        }
        if let Some(v) = update.birthday_visibility {
            record.birthday_visibility = v;
        }
        if let Some(v) = update.space_window {
            record.space_window = v;
        }
        record.updated_at = self.now();
        self.store.community.set_profile(&record).await?;
        self.my_profile(user).await
    }

    /// Checks that an attachment is the user's own image.
    async fn own_image(&self, user: &UserRecord, id: &str) -> ServiceResult<()> {
        let attachment = self
            .store
            .attachments
            .get(id)
            .await?
            .filter(|a| a.owner_id == *user.id)
            .ok_or(ServiceError::AttachmentNotFound)?;
        if !attachment.content_type.starts_with("image/") {
            return Err(ServiceError::WrongKind(
                "an avatar or a cover is an image".into(),
            ));
        }
        Ok(())
    }
}
