//! Photo albums: a title, a description, a cover and an audience; photos (pictures of the
//! owner's, locations already stripped at upload) with captions, in an order. A photo is
//! seen exactly where its album is (`seen_items` decides on the album), and gets its own
//! comments and likes.

use dialtone_core::PhoneNumber;
use dialtone_core::text::{multi_line, one_line};
use dialtone_store::{ItemCursor, ItemKind, ItemRecord, UserRecord};

use super::items::{AudienceInput, ItemView, Listing, Page};
use super::{CommunityService, Viewer};
use crate::crypto::new_id;
use crate::{ServiceError, ServiceResult};

/// Characters of an album's title.
const ALBUM_TITLE_CHARS: usize = 100;
/// Characters of a description or a caption.
const CAPTION_CHARS: usize = 1_000;
/// Photos of one album.
const MAX_PHOTOS: usize = 1_000;
/// Photos added at once.
const MAX_ADDED: usize = 100;

/// A new album.
#[derive(Debug, Clone)]
pub struct NewAlbum {
    /// Its title.
    pub title: String,
    /// What it is about.
    pub description: Option<String>,
    /// Who it is for.
    pub audience: AudienceInput,
    /// Region for reading national numbers of the audience.
    pub region: Option<String>,
}

/// A change of an album; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct AlbumEdit {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New cover: one of its photos' pictures.
    pub cover: Option<String>,
    /// New audience (its photos follow).
    pub audience: Option<AudienceInput>,
    /// Region for reading national numbers of the audience.
    pub region: Option<String>,
}

/// A photo to add: a picture of the owner's and its caption.
#[derive(Debug, Clone)]
pub struct NewPhoto {
    /// An image attachment of the owner's.
    pub attachment: String,
    /// Its caption.
    pub caption: Option<String>,
}

fn album_title(raw: &str) -> ServiceResult<String> {
    let t = one_line(raw);
    let t = t.trim();
    let n = t.chars().count();
    if n == 0 || n > ALBUM_TITLE_CHARS {
        return Err(ServiceError::InvalidInput(format!(
            "an album's title has 1 to {ALBUM_TITLE_CHARS} characters"
        )));
    }
    Ok(t.to_owned())
}

fn caption(raw: Option<String>) -> ServiceResult<String> {
    let c = multi_line(raw.as_deref().unwrap_or_default());
    let c = c.trim();
    if c.chars().count() > CAPTION_CHARS {
        return Err(ServiceError::InvalidInput(format!(
            "a caption has at most {CAPTION_CHARS} characters"
        )));
    }
    Ok(c.to_owned())
}

impl CommunityService {
    /// Makes an album (empty: photos come with [`Self::add_photos`]).
    pub async fn create_album(&self, owner: &UserRecord, new: NewAlbum) -> ServiceResult<ItemView> {
        let title = album_title(&new.title)?;
        let description = caption(new.description)?;
        let (audience, people, groups) = self
            .read_audience(owner, new.audience, new.region.as_deref())
            .await?;
        let mut item = ItemRecord::new(
            new_id(),
            owner.id.clone(),
            ItemKind::Album,
            audience,
            self.now(),
        );
        item.title = Some(title);
        item.text = description;
        item.people = people;
        item.groups = groups;
        // Announced with its first photos: an empty album is nothing to see yet.
        self.store.community.create_item(&item).await?;
        self.album(Viewer::User(owner), &item.id).await
    }

    /// Changes the owner's album.
    pub async fn edit_album(
        &self,
        owner: &UserRecord,
        id: &str,
        edit: AlbumEdit,
    ) -> ServiceResult<ItemView> {
        let mut item = self.owned_item(owner, id, ItemKind::Album).await?;
        if let Some(t) = edit.title {
            item.title = Some(album_title(&t)?);
        }
        if let Some(d) = edit.description {
            item.text = caption(Some(d))?;
        }
        if let Some(cover) = edit.cover {
            let photos = self.store.community.photos_of(id).await?;
            if !photos.iter().any(|p| p.attachments.contains(&cover)) {
                return Err(ServiceError::InvalidInput(
                    "an album's cover is one of its photos".into(),
                ));
            }
            item.cover_id = Some(cover);
        }
        if let Some(audience) = edit.audience {
            self.set_audience(&mut item, owner, audience, edit.region.as_deref())
                .await?;
        }
        item.edited_at = Some(self.now());
        if !self.store.community.update_item(&item).await? {
            return Err(ServiceError::ItemNotFound);
        }
        self.album(Viewer::User(owner), id).await
    }

    /// Adds photos to the owner's album, after those already there; the first photo of
    /// an album without a cover becomes its cover. Nothing is added if one is refused.
    pub async fn add_photos(
        &self,
        owner: &UserRecord,
        album_id: &str,
        photos: Vec<NewPhoto>,
    ) -> ServiceResult<ItemView> {
        let mut album = self.owned_item(owner, album_id, ItemKind::Album).await?;
        if photos.is_empty() || photos.len() > MAX_ADDED {
            return Err(ServiceError::InvalidInput(format!(
                "add 1 to {MAX_ADDED} photos at once"
            )));
        }
        let existing = self.store.community.photos_of(album_id).await?;
        if existing.len() + photos.len() > MAX_PHOTOS {
            return Err(ServiceError::InvalidInput(format!(
                "an album has at most {MAX_PHOTOS} photos"
            )));
        }
        let mut records = Vec::with_capacity(photos.len());
        let first = existing
            .iter()
            .filter_map(|p| p.position)
            .max()
            .map_or(0, |p| p + 1);
        for (photo, position) in photos.into_iter().zip(first..) {
            let attachment = self
                .store
                .attachments
                .get(&photo.attachment)
                .await?
                .filter(|a| a.owner_id == *owner.id)
                .ok_or(ServiceError::AttachmentNotFound)?;
            if !attachment.content_type.starts_with("image/") {
                return Err(ServiceError::WrongKind("a photo is an image".into()));
            }
            let mut item = ItemRecord::new(
                new_id(),
                owner.id.clone(),
                ItemKind::Photo,
                album.audience,
                self.now(),
            );
            item.parent_id = Some(album_id.to_owned());
            item.position = Some(position);
            item.text = caption(photo.caption)?;
            item.attachments = vec![photo.attachment];
            records.push(item);
        }
        self.store.community.create_items(&records).await?;
        if album.cover_id.is_none() {
            album.cover_id = records.first().and_then(|p| p.attachments.first().cloned());
            self.store.community.update_item(&album).await?;
        }
        if existing.is_empty() {
            self.announce_item(owner, &album).await?;
        }
        self.album(Viewer::User(owner), album_id).await
    }

    /// Changes a photo's caption or place in its album.
    pub async fn edit_photo(
        &self,
        owner: &UserRecord,
        id: &str,
        caption_text: Option<String>,
        position: Option<i64>,
    ) -> ServiceResult<ItemView> {
        let mut photo = self.owned_item(owner, id, ItemKind::Photo).await?;
        if caption_text.is_some() {
            photo.text = caption(caption_text)?;
        }
        if let Some(p) = position {
            photo.position = Some(p);
        }
        photo.edited_at = Some(self.now());
        if !self.store.community.update_item(&photo).await? {
            return Err(ServiceError::ItemNotFound);
        }
        self.item(Viewer::User(owner), id).await
    }

    /// An album as `viewer` sees it, with its photos (each with its likes and comments).
    pub async fn album(&self, viewer: Viewer<'_>, id: &str) -> ServiceResult<ItemView> {
        let mut view = self.item_of_kind(viewer, id, ItemKind::Album).await?;
        let photos = self.store.community.photos_of(id).await?;
        let seen = self.seen_items(viewer, photos).await?;
        view.photos = self.views(viewer, seen).await?;
        Ok(view)
    }

    /// The albums of the user with `phone` that `viewer` may see, newest first.
    pub async fn albums(
        &self,
        viewer: Viewer<'_>,
        phone: &PhoneNumber,
        before: Option<ItemCursor>,
        limit: usize,
    ) -> ServiceResult<Page> {
        let (owner, _) = self.visible_user(viewer, phone).await?;
        let owners = [owner.id];
        let list = Listing {
            owners: &owners,
            kinds: &[ItemKind::Album],
            drafts: false,
            tag: None,
        };
        self.page(viewer, list, before, limit).await
    }
}
