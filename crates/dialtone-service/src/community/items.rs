//! Posts of a personal space: writing them with their audience, reading one, a space and
//! the feed, each through the one decision of [`CommunityService::seen_items`].

use dialtone_core::privacy::ItemAudience;
use dialtone_core::text::{multi_line, one_line};
use dialtone_core::{PhoneNumber, UserId};
use std::collections::HashMap;

use dialtone_store::{
    AttachmentRecord, ItemCursor, ItemKind, ItemQuery, ItemRecord, LinkRecord, UserRecord,
};

use super::reactions::Reactions;
use super::{CommunityService, Seen, Viewer};
use crate::crypto::new_id;
use crate::{ServiceError, ServiceResult};

/// Characters of a place name.
const PLACE_CHARS: usize = 100;
/// Bytes of a shared link.
const LINK_BYTES: usize = 2_048;
/// Most items in one page.
pub const MAX_PAGE: usize = 50;
/// How many rounds of reading a page may take when most items are not for the viewer.
const PAGE_ROUNDS: usize = 8;

/// Who a new item is for, as the client gave it (numbers in any dialable form).
#[derive(Debug, Clone)]
pub struct AudienceInput {
    /// Public, contacts, chosen or all except.
    pub kind: ItemAudience,
    /// Contact groups of the owner's.
    pub groups: Vec<String>,
    /// Numbers.
    pub phones: Vec<String>,
}

/// A new post.
#[derive(Debug, Clone)]
pub struct NewPost {
    /// Text (up to the limit; may be empty with pictures or a link).
    pub text: String,
    /// Attachments of the author's: up to 9 pictures, or one video, or one voice clip.
    pub attachments: Vec<String>,
    /// A link to share.
    pub link: Option<String>,
    /// A place name.
    pub place: Option<String>,
    /// Who it is for.
    pub audience: AudienceInput,
    /// Region for reading national numbers of the audience.
    pub region: Option<String>,
}

/// A change of a post; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct PostEdit {
    /// New text.
    pub text: Option<String>,
    /// New place (`Some(None)` clears it).
    pub place: Option<Option<String>>,
    /// New audience.
    pub audience: Option<AudienceInput>,
    /// Region for reading national numbers of the audience.
    pub region: Option<String>,
}

/// An item as one viewer sees it: its likes and comments only from people the viewer
/// may see themself (so counts betray nothing hidden).
#[derive(Debug, Clone)]
pub struct ItemView {
    /// The item; its audience's people and groups only for its owner.
    pub item: ItemRecord,
    /// Its owner.
    pub owner: UserRecord,
    /// The viewer owns it.
    pub own: bool,
    /// Who likes it, among those the viewer may see, oldest first.
    pub likes: Vec<PhoneNumber>,
    /// The viewer likes it.
    pub liked: bool,
    /// Its comments the viewer may see, oldest first.
    pub comments: Vec<super::CommentView>,
    /// An album's photos (in its own answer only; lists leave them out).
    pub photos: Vec<ItemView>,
    /// The item's attachments, in order, as stored (type, size, dimensions).
    pub media: Vec<AttachmentRecord>,
    /// The owner's avatar (an attachment id).
    pub owner_avatar: Option<String>,
}

/// Which items a page lists.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Listing<'a> {
    /// Whose.
    pub owners: &'a [UserId],
    /// Which kinds.
    pub kinds: &'a [ItemKind],
    /// Drafts (the owner's own listing) or published items.
    pub drafts: bool,
    /// With this tag only.
    pub tag: Option<&'a str>,
}

/// A page of items, newest first, and where the next one starts.
#[derive(Debug, Clone)]
pub struct Page {
    /// The items.
    pub items: Vec<ItemView>,
    /// The cursor of the next page; `None` at the end.
    pub next: Option<ItemCursor>,
}

impl CommunityService {
    /// Reads an audience: numbers parsed, groups checked to be the owner's.
    pub(crate) async fn read_audience(
        &self,
        owner: &UserRecord,
        input: AudienceInput,
        region: Option<&str>,
    ) -> ServiceResult<(ItemAudience, Vec<PhoneNumber>, Vec<String>)> {
        let names_people = matches!(input.kind, ItemAudience::Chosen | ItemAudience::AllExcept);
        let names_any = !(input.groups.is_empty() && input.phones.is_empty());
        if !names_people && names_any {
            return Err(ServiceError::InvalidInput(format!(
                "a {} audience names no groups or people",
                input.kind.as_str()
            )));
        }
        if input.kind == ItemAudience::Chosen && input.groups.is_empty() && input.phones.is_empty()
        {
            return Err(ServiceError::InvalidInput(
                "a chosen audience names at least one group or person".into(),
            ));
        }
        if input.phones.len() > self.limits.audience_people
            || input.groups.len() > self.limits.audience_groups
        {
            return Err(ServiceError::InvalidInput(format!(
                "an audience names at most {} people and {} groups",
                self.limits.audience_people, self.limits.audience_groups
            )));
        }
        let region = self.social.region_for(owner, region)?;
        let mut phones = Vec::with_capacity(input.phones.len());
        for raw in &input.phones {
            let phone = PhoneNumber::parse(raw, Some(region))?;
            if !phones.contains(&phone) {
                phones.push(phone);
            }
        }
        let mut groups: Vec<String> = Vec::with_capacity(input.groups.len());
        for group in input.groups {
            if self.store.privacy.group(&owner.id, &group).await?.is_none() {
                return Err(ServiceError::GroupNotFound);
            }
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
        Ok((input.kind, phones, groups))
    }

    /// Gives an item a new audience, read as [`Self::read_audience`] reads one.
    pub(crate) async fn set_audience(
        &self,
        item: &mut ItemRecord,
        owner: &UserRecord,
        audience: AudienceInput,
        region: Option<&str>,
    ) -> ServiceResult<()> {
        let (kind, people, groups) = self.read_audience(owner, audience, region).await?;
        item.audience = kind;
        item.people = people;
        item.groups = groups;
        Ok(())
    }

    fn text(&self, text: &str) -> ServiceResult<String> {
        let text = multi_line(text);
        let text = text.trim();
        if text.chars().count() > self.limits.post_chars {
            return Err(ServiceError::InvalidInput(format!(
                "a post has at most {} characters",
                self.limits.post_chars
            )));
        }
        Ok(text.to_owned())
    }

    fn place(place: Option<String>) -> ServiceResult<Option<String>> {
        let Some(place) = place else { return Ok(None) };
        let place = one_line(&place);
        let place = place.trim();
        if place.chars().count() > PLACE_CHARS {
            return Err(ServiceError::InvalidInput(format!(
                "a place has at most {PLACE_CHARS} characters"
            )));
        }
        Ok((!place.is_empty()).then(|| place.to_owned()))
    }

    /// Checks a post's attachments: the author's own, and up to the limit of pictures,
    /// or a single video or voice clip.
    async fn attachments(&self, owner: &UserRecord, ids: &[String]) -> ServiceResult<()> {
        if ids.len() > self.limits.post_pictures {
            return Err(ServiceError::InvalidInput(format!(
                "a post has at most {} pictures",
                self.limits.post_pictures
            )));
        }
        let mut seen: Vec<&str> = Vec::with_capacity(ids.len());
        for id in ids {
            if seen.contains(&id.as_str()) {
                return Err(ServiceError::InvalidInput(
                    "an attachment is listed twice".into(),
                ));
            }
            seen.push(id);
            let attachment = self
                .store
                .attachments
                .get(id)
                .await?
                .filter(|a| a.owner_id == *owner.id)
                .ok_or(ServiceError::AttachmentNotFound)?;
            let picture = attachment.content_type.starts_with("image/");
            let clip = attachment.content_type.starts_with("video/")
                || attachment.content_type.starts_with("audio/");
            if !(picture || clip) {
                return Err(ServiceError::WrongKind(
                    "a post carries pictures, a video or a voice clip".into(),
                ));
            }
            if clip && ids.len() > 1 {
                return Err(ServiceError::WrongKind(
                    "a video or a voice clip goes alone in a post".into(),
                ));
            }
        }
        Ok(())
    }

    /// A shared link, checked to be an http(s) URL.
    fn link(link: Option<String>) -> ServiceResult<Option<LinkRecord>> {
        let Some(link) = link.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()) else {
            return Ok(None);
        };
        let bad = |message: &str| ServiceError::BadLink {
            code: "invalid_link",
            message: message.to_owned(),
        };
        if link.len() > LINK_BYTES {
            return Err(bad("a link has at most 2048 bytes"));
        }
        let url = url::Url::parse(&link).map_err(|_| bad("the link is not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad("a link is an http or https URL"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("a link carries no user name or password"));
        }
        Ok(Some(LinkRecord {
            url: url.to_string(),
            title: None,
            summary: None,
            image_id: None,
        }))
    }

    /// A link with its preview: the page's title, description and image (stored as an
    /// attachment of the poster's). A link to a private address is refused; a page that
    /// cannot be fetched leaves the link without a preview, as chat apps do.
    async fn preview(&self, owner: &UserRecord, mut link: LinkRecord) -> ServiceResult<LinkRecord> {
        let windows = [crate::limits::Window::per_hour(
            self.limits.link_previews_per_hour,
        )];
        let limit = [crate::limits::Limit {
            bucket: format!("link-preview:{}", owner.id),
            windows: &windows,
        }];
        self.limiter.check(&limit, self.now()).await?;
        self.limiter.record(&limit, self.now()).await?;
        let preview = match dialtone_preview::fetch_preview(&link.url, &self.previews.config).await
        {
            Ok(preview) => preview,
            Err(e) => {
                let code = match e.code() {
                    "invalid_url" => "invalid_link",
                    "forbidden_address" => "forbidden_link",
                    _ => {
                        tracing::debug!(error = %e, "link shared without a preview");
                        return Ok(link);
                    }
                };
                return Err(ServiceError::BadLink {
                    code,
                    message: e.to_string(),
                });
            }
        };
        link.url = preview.url;
        link.title = preview.title;
        link.summary = preview.description;
        if let Some(image) = preview.image {
            let mut bytes = image.bytes.as_slice();
            let stored = self
                .attachments
                .upload(owner, Some("link-preview".into()), &mut bytes)
                .await?;
            link.image_id = Some(stored.id);
        }
        Ok(link)
    }

    /// Publishes a post; those who follow the author and may see it hear of it live.
    pub async fn create_post(&self, owner: &UserRecord, post: NewPost) -> ServiceResult<ItemView> {
        let text = self.text(&post.text)?;
        let place = Self::place(post.place)?;
        let link = Self::link(post.link)?;
        if text.is_empty() && post.attachments.is_empty() && link.is_none() {
            return Err(ServiceError::InvalidInput(
                "a post has text, pictures, a video, a voice clip or a link".into(),
            ));
        }
        self.attachments(owner, &post.attachments).await?;
        let (audience, people, groups) = self
            .read_audience(owner, post.audience, post.region.as_deref())
            .await?;
        let link = match link {
            Some(link) => Some(self.preview(owner, link).await?),
            None => None,
        };
        let mut item = ItemRecord::new(
            new_id(),
            owner.id.clone(),
            ItemKind::Post,
            audience,
            self.now(),
        );
        item.people = people;
        item.groups = groups;
        item.text = text;
        item.place = place;
        item.link = link;
        item.attachments = post.attachments;
        self.publish(owner, &item).await?;
        self.fresh_view(owner, item).await
    }

    /// The records of some attachments, by id (none read for none asked).
    async fn media(&self, ids: &[String]) -> ServiceResult<HashMap<String, AttachmentRecord>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(self
            .store
            .attachments
            .get_many(ids)
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect())
    }

    /// A new item as its owner sees it, from memory: nothing has reacted to it yet, so
    /// only its pictures and the owner's avatar are read.
    pub(crate) async fn fresh_view(
        &self,
        owner: &UserRecord,
        item: ItemRecord,
    ) -> ServiceResult<ItemView> {
        let found = self.media(&item.attachments).await?;
        let media = in_order(&item.attachments, &found);
        let owner_avatar = self
            .store
            .community
            .profile(&owner.id)
            .await?
            .and_then(|p| p.avatar_id);
        Ok(ItemView {
            item,
            owner: owner.clone(),
            own: true,
            likes: Vec::new(),
            liked: false,
            comments: Vec::new(),
            photos: Vec::new(),
            media,
            owner_avatar,
        })
    }

    /// Stores a new item and, unless it is a draft, tells those who follow its owner and
    /// may see it.
    pub(crate) async fn publish(&self, owner: &UserRecord, item: &ItemRecord) -> ServiceResult<()> {
        self.store.community.create_item(item).await?;
        if !item.draft {
            self.announce_item(owner, item).await?;
        }
        Ok(())
    }

    /// The `feed_item` event of an item, to those who follow its owner and may see it:
    /// decided and sent after the answer, in the order items were published (a post to
    /// thousands of followers is stored in one row; deciding who hears of it live is the
    /// fan-out's work, not the poster's wait).
    pub(crate) async fn announce_item(
        &self,
        owner: &UserRecord,
        item: &ItemRecord,
    ) -> ServiceResult<()> {
        self.fanout.push(owner.clone(), item.clone()).await;
        Ok(())
    }

    /// Changes the owner's post.
    pub async fn edit_post(
        &self,
        owner: &UserRecord,
        id: &str,
        edit: PostEdit,
    ) -> ServiceResult<ItemView> {
        let mut item = self.owned_item(owner, id, ItemKind::Post).await?;
        if let Some(text) = edit.text {
            item.text = self.text(&text)?;
        }
        if let Some(place) = edit.place {
            item.place = Self::place(place)?;
        }
        if item.text.is_empty() && item.attachments.is_empty() && item.link.is_none() {
            return Err(ServiceError::InvalidInput(
                "a post has text, pictures, a video, a voice clip or a link".into(),
            ));
        }
        if let Some(audience) = edit.audience {
            self.set_audience(&mut item, owner, audience, edit.region.as_deref())
                .await?;
        }
        item.edited_at = Some(self.now());
        if !self.store.community.update_item(&item).await? {
            return Err(ServiceError::ItemNotFound);
        }
        self.item(Viewer::User(owner), id).await
    }

    /// Deletes the owner's item of `kind` (a post, an article, an album with its photos, a
    /// photo), with its comments and likes.
    pub async fn delete_item(
        &self,
        owner: &UserRecord,
        id: &str,
        kind: ItemKind,
    ) -> ServiceResult<()> {
        self.owned_item(owner, id, kind).await?;
        if !self.store.community.delete_item(&owner.id, id).await? {
            return Err(ServiceError::ItemNotFound);
        }
        Ok(())
    }

    /// An item of the caller's: someone else's they may see is `NotYours`, one they may
    /// not see is `ItemNotFound` (as for an id that does not exist).
    pub(crate) async fn owned_item(
        &self,
        owner: &UserRecord,
        id: &str,
        kind: ItemKind,
    ) -> ServiceResult<ItemRecord> {
        let item = self.visible_item(Viewer::User(owner), id).await?;
        if item.item.kind != kind {
            return Err(ServiceError::ItemNotFound);
        }
        if item.item.owner_id != owner.id {
            return Err(ServiceError::NotYours);
        }
        Ok(item.item)
    }

    /// An item the viewer may see, else `ItemNotFound`.
    pub(crate) async fn visible_item(&self, viewer: Viewer<'_>, id: &str) -> ServiceResult<Seen> {
        let item = self
            .store
            .community
            .item(id)
            .await?
            .ok_or(ServiceError::ItemNotFound)?;
        self.seen_items(viewer, vec![item])
            .await?
            .pop()
            .ok_or(ServiceError::ItemNotFound)
    }

    /// One item of `kind` as `viewer` sees it; an item of another kind is as one that
    /// does not exist.
    pub async fn item_of_kind(
        &self,
        viewer: Viewer<'_>,
        id: &str,
        kind: ItemKind,
    ) -> ServiceResult<ItemView> {
        let view = self.item(viewer, id).await?;
        if view.item.kind != kind {
            return Err(ServiceError::ItemNotFound);
        }
        Ok(view)
    }

    /// One item as `viewer` sees it.
    pub async fn item(&self, viewer: Viewer<'_>, id: &str) -> ServiceResult<ItemView> {
        let seen = self.visible_item(viewer, id).await?;
        Ok(self.views(viewer, vec![seen]).await?.remove(0))
    }

    /// Items shown with what the viewer may see of their likes and comments.
    pub(crate) async fn views(
        &self,
        viewer: Viewer<'_>,
        seen: Vec<Seen>,
    ) -> ServiceResult<Vec<ItemView>> {
        let ids: Vec<String> = seen.iter().map(|s| s.item.id.clone()).collect();
        let mut reactions = Reactions::of(self, viewer, &ids).await?;
        let wanted: Vec<String> = seen
            .iter()
            .flat_map(|s| s.item.attachments.iter().cloned())
            .collect();
        let media = self.media(&wanted).await?;
        Ok(seen
            .into_iter()
            .map(
                |Seen {
                     mut item,
                     owner,
                     avatar,
                 }| {
                    let own = viewer.id() == Some(owner.id.as_str());
                    if !own {
                        item.people.clear();
                        item.groups.clear();
                    }
                    let (likes, liked, comments) = reactions.take(&item.id);
                    let media = in_order(&item.attachments, &media);
                    ItemView {
                        media,
                        owner_avatar: avatar,
                        item,
                        owner,
                        own,
                        likes,
                        liked,
                        comments,
                        photos: Vec::new(),
                    }
                },
            )
            .collect())
    }

    /// A page of the items of `owners` that `viewer` may see, newest first, after
    /// `before`. Items not for the viewer are skipped, reading further (a few rounds at
    /// most); the cursor is the last item read, so the next page goes on from there.
    pub(crate) async fn page(
        &self,
        viewer: Viewer<'_>,
        list: Listing<'_>,
        before: Option<ItemCursor>,
        limit: usize,
    ) -> ServiceResult<Page> {
        let limit = limit.clamp(1, MAX_PAGE);
        let mut cursor = before;
        let mut found = Vec::new();
        for _ in 0..PAGE_ROUNDS {
            let want = (limit - found.len()) * 2;
            let batch = self
                .store
                .community
                .items_of(&ItemQuery {
                    owners: list.owners,
                    kinds: list.kinds,
                    drafts: list.drafts,
                    tag: list.tag,
                    before: cursor.as_ref(),
                    limit: want,
                })
                .await?;
            let exhausted = batch.len() < want;
            let mut seen = self.seen_items(viewer, batch.clone()).await?;
            // Stop at the item that fills the page, so the cursor is exactly there.
            let mut last_read = None;
            for item in batch {
                if found.len() == limit {
                    break;
                }
                if seen.first().is_some_and(|s| s.item.id == item.id) {
                    found.push(seen.remove(0));
                }
                last_read = Some(ItemCursor {
                    created_at: item.created_at,
                    id: item.id,
                });
            }
            if last_read.is_some() {
                cursor = last_read;
            }
            if exhausted && found.len() < limit {
                cursor = None;
                break;
            }
            if found.len() == limit {
                break;
            }
        }
        Ok(Page {
            items: self.views(viewer, found).await?,
            next: cursor,
        })
    }

    /// The space of the user with `phone`: their items `viewer` may see. Someone the
    /// viewer may not see answers as an unregistered number does.
    pub async fn space(
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
            kinds: &[ItemKind::Post],
            drafts: false,
            tag: None,
        };
        self.page(viewer, list, before, limit).await
    }

    /// The feed: the viewer's own items and those of the people in their address book
    /// they may see (hidden contacts only with the vault open), newest first.
    pub async fn feed(
        &self,
        viewer: &UserRecord,
        vault_open: bool,
        before: Option<ItemCursor>,
        limit: usize,
    ) -> ServiceResult<Page> {
        let mut owners: Vec<UserId> = self
            .social
            .book_users(viewer, vault_open)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        owners.push(viewer.id.clone());
        owners.sort();
        owners.dedup();
        let list = Listing {
            owners: &owners,
            kinds: &[ItemKind::Post, ItemKind::Article, ItemKind::Album],
            drafts: false,
            tag: None,
        };
        self.page(Viewer::User(viewer), list, before, limit).await
    }
}

/// An item's attachment records, in the item's order.
fn in_order(ids: &[String], found: &HashMap<String, AttachmentRecord>) -> Vec<AttachmentRecord> {
    ids.iter().filter_map(|id| found.get(id).cloned()).collect()
}
