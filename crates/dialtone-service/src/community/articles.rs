//! Blog articles: a title and a Markdown body rendered and sanitised on the server
//! (`dialtone-markup`), pictures from the author's attachments, drafts, tags, the same
//! audiences as posts, and the public articles of a blog for its Atom feed.

use dialtone_core::PhoneNumber;
use dialtone_core::text::one_line;
use dialtone_store::{ItemCursor, ItemKind, ItemRecord, UserRecord};

use super::items::{AudienceInput, ItemView, Listing, Page};
use super::{CommunityService, Viewer};
use crate::crypto::new_id;
use crate::{ServiceError, ServiceResult};

/// Characters of a title.
const TITLE_CHARS: usize = 200;
/// Tags of an article.
const MAX_TAGS: usize = 10;
/// Characters of a tag.
const TAG_CHARS: usize = 32;

/// A new article.
#[derive(Debug, Clone)]
pub struct NewArticle {
    /// Its title.
    pub title: String,
    /// Markdown; pictures as `![alt](attachment:ID)` of the author's attachments.
    pub body: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Who it is for.
    pub audience: AudienceInput,
    /// Kept unpublished (seen by its author alone).
    pub draft: bool,
    /// Region for reading national numbers of the audience.
    pub region: Option<String>,
}

/// A change of an article; `None` keeps a field. `draft: Some(false)` publishes it.
#[derive(Debug, Clone, Default)]
pub struct ArticleEdit {
    /// New title.
    pub title: Option<String>,
    /// New Markdown.
    pub body: Option<String>,
    /// New tags.
    pub tags: Option<Vec<String>>,
    /// New audience.
    pub audience: Option<AudienceInput>,
    /// Draft or published.
    pub draft: Option<bool>,
    /// Region for reading national numbers of the audience.
    pub region: Option<String>,
}

fn title(raw: &str) -> ServiceResult<String> {
    let t = one_line(raw);
    let t = t.trim();
    let n = t.chars().count();
    if n == 0 || n > TITLE_CHARS {
        return Err(ServiceError::InvalidInput(format!(
            "a title has 1 to {TITLE_CHARS} characters"
        )));
    }
    Ok(t.to_owned())
}

fn tags(raw: Vec<String>) -> ServiceResult<Vec<String>> {
    if raw.len() > MAX_TAGS {
        return Err(ServiceError::InvalidInput(format!(
            "an article has at most {MAX_TAGS} tags"
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for tag in raw {
        let tag = one_line(&tag).trim().trim_start_matches('#').to_lowercase();
        let n = tag.chars().count();
        if n == 0 || n > TAG_CHARS || tag.contains(char::is_whitespace) {
            return Err(ServiceError::InvalidInput(format!(
                "a tag is one word of 1 to {TAG_CHARS} characters"
            )));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    // A set, kept in order (as the store gives it back).
    out.sort();
    Ok(out)
}

impl CommunityService {
    /// The article's body rendered, and its pictures checked to be the author's images.
    async fn render(
        &self,
        owner: &UserRecord,
        body: &str,
    ) -> ServiceResult<(dialtone_markup::Rendered, Vec<String>)> {
        let rendered = dialtone_markup::render(body, &dialtone_markup::Limits::default())
            .map_err(|e| ServiceError::InvalidInput(e.to_string()))?;
        for id in &rendered.image_refs {
            let attachment = self
                .store
                .attachments
                .get(id)
                .await?
                .filter(|a| a.owner_id == *owner.id)
                .ok_or(ServiceError::AttachmentNotFound)?;
            if !attachment.content_type.starts_with("image/") {
                return Err(ServiceError::WrongKind(
                    "a picture of an article is an image".into(),
                ));
            }
        }
        let images = rendered.image_refs.clone();
        Ok((rendered, images))
    }

    /// What an article's Markdown renders to, for the editor's preview (nothing stored;
    /// the pictures must be the author's, as when it is saved).
    pub async fn preview_article(
        &self,
        owner: &UserRecord,
        body: &str,
    ) -> ServiceResult<dialtone_markup::Rendered> {
        Ok(self.render(owner, body).await?.0)
    }

    /// Writes an article (published, or a draft).
    pub async fn create_article(
        &self,
        owner: &UserRecord,
        new: NewArticle,
    ) -> ServiceResult<ItemView> {
        let title = title(&new.title)?;
        let tags = tags(new.tags)?;
        let (rendered, images) = self.render(owner, &new.body).await?;
        let (audience, people, groups) = self
            .read_audience(owner, new.audience, new.region.as_deref())
            .await?;
        let mut item = ItemRecord::new(
            new_id(),
            owner.id.clone(),
            ItemKind::Article,
            audience,
            self.now(),
        );
        item.people = people;
        item.groups = groups;
        item.title = Some(title);
        item.body = Some(new.body);
        item.body_html = Some(rendered.html);
        item.text = rendered.text_excerpt;
        item.tags = tags;
        item.draft = new.draft;
        item.attachments = images;
        self.publish(owner, &item).await?;
        self.fresh_view(owner, item).await
    }

    /// Changes the author's article; publishing a draft tells its audience.
    pub async fn edit_article(
        &self,
        owner: &UserRecord,
        id: &str,
        edit: ArticleEdit,
    ) -> ServiceResult<ItemView> {
        let mut item = self.owned_item(owner, id, ItemKind::Article).await?;
        let was_draft = item.draft;
        if let Some(t) = edit.title {
            item.title = Some(title(&t)?);
        }
        if let Some(t) = edit.tags {
            item.tags = tags(t)?;
        }
        let mut images = None;
        if let Some(body) = edit.body {
            let (rendered, refs) = self.render(owner, &body).await?;
            item.body = Some(body);
            item.body_html = Some(rendered.html);
            item.text = rendered.text_excerpt;
            images = Some(refs);
        }
        if let Some(audience) = edit.audience {
            self.set_audience(&mut item, owner, audience, edit.region.as_deref())
                .await?;
        }
        if let Some(draft) = edit.draft {
            item.draft = draft;
        }
        if was_draft {
            // A draft is not edited but written: published, it dates from now.
            item.created_at = self.now();
        } else {
            item.edited_at = Some(self.now());
        }
        if !self.store.community.update_item(&item).await? {
            return Err(ServiceError::ItemNotFound);
        }
        if let Some(images) = images {
            self.store
                .community
                .set_attachments(&item.id, &images)
                .await?;
        }
        if was_draft && !item.draft {
            self.announce_item(owner, &item).await?;
        }
        self.item(Viewer::User(owner), id).await
    }

    /// The published articles of the user with `phone` that `viewer` may see, newest
    /// first, with one tag only if given.
    pub async fn blog(
        &self,
        viewer: Viewer<'_>,
        phone: &PhoneNumber,
        tag: Option<&str>,
        before: Option<ItemCursor>,
        limit: usize,
    ) -> ServiceResult<Page> {
        let (owner, _) = self.visible_user(viewer, phone).await?;
        let owners = [owner.id];
        let tag = tag.map(|t| t.trim_start_matches('#').to_lowercase());
        let list = Listing {
            owners: &owners,
            kinds: &[ItemKind::Article],
            drafts: false,
            tag: tag.as_deref(),
        };
        self.page(viewer, list, before, limit).await
    }

    /// The author's own drafts, newest first.
    pub async fn drafts(
        &self,
        owner: &UserRecord,
        before: Option<ItemCursor>,
        limit: usize,
    ) -> ServiceResult<Page> {
        let owners = [owner.id.clone()];
        let list = Listing {
            owners: &owners,
            kinds: &[ItemKind::Article],
            drafts: true,
            tag: None,
        };
        self.page(Viewer::User(owner), list, before, limit).await
    }
}
