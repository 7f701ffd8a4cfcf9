//! Records and the repository of the community: profiles, the items of personal spaces
//! (posts), the people and groups an item names, comments, likes and notifications.
//! Who may see what is not decided here: the services ask the core's policy.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dialtone_core::privacy::{Audience, ItemAudience, SpaceWindow};
use dialtone_core::{PhoneNumber, UserId};

use crate::StoreResult;

/// A user's profile, beyond the display name of their account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRecord {
    /// Whose.
    pub user_id: UserId,
    /// One line under the name.
    pub signature: Option<String>,
    /// A few paragraphs about the user.
    pub bio: Option<String>,
    /// Where the user lives, in their words.
    pub region: Option<String>,
    /// As the user gives it.
    pub gender: Option<String>,
    /// `YYYY-MM-DD`.
    pub birthday: Option<String>,
    /// Who may see the region.
    pub region_visibility: Audience,
    /// Who may see the gender.
    pub gender_visibility: Audience,
    /// Who may see the birthday.
    pub birthday_visibility: Audience,
    /// An attachment of the user's (an image).
    pub avatar_id: Option<String>,
    /// An attachment of the user's (an image).
    pub cover_id: Option<String>,
    /// How far back others may look into the user's space.
    pub space_window: SpaceWindow,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl ProfileRecord {
    /// The profile of a user who never set one.
    pub fn empty(user_id: UserId, now: DateTime<Utc>) -> Self {
        Self {
            user_id,
            signature: None,
            bio: None,
            region: None,
            gender: None,
            birthday: None,
            region_visibility: Audience::Everyone,
            gender_visibility: Audience::Everyone,
            birthday_visibility: Audience::Contacts,
            avatar_id: None,
            cover_id: None,
            space_window: SpaceWindow::All,
            updated_at: now,
        }
    }
}

/// What kind of thing an item of a space is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// A moment: text, pictures or a video or a voice clip, a link, a place.
    Post,
    /// A blog article: a title and a Markdown body, maybe a draft, with tags.
    Article,
    /// A photo album: a title, a description (`text`), a cover.
    Album,
    /// A photo of an album (`parent_id`), with its caption (`text`) and place in it.
    Photo,
}

impl ItemKind {
    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Post => "post",
            ItemKind::Article => "article",
            ItemKind::Album => "album",
            ItemKind::Photo => "photo",
        }
    }

    /// The kind of a stored word.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "post" => Some(ItemKind::Post),
            "article" => Some(ItemKind::Article),
            "album" => Some(ItemKind::Album),
            "photo" => Some(ItemKind::Photo),
            _ => None,
        }
    }
}

/// A link shared with an item, and its preview as fetched when it was posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    /// The link.
    pub url: String,
    /// The page's title.
    pub title: Option<String>,
    /// The page's description.
    pub summary: Option<String>,
    /// The page's image, stored as an attachment of the item's owner.
    pub image_id: Option<String>,
}

/// One item of a personal space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRecord {
    /// Opaque id.
    pub id: String,
    /// Whose space.
    pub owner_id: UserId,
    /// A post (articles and albums come later).
    pub kind: ItemKind,
    /// Who it is for.
    pub audience: ItemAudience,
    /// The numbers it names (its audience when chosen, those left out when all-except).
    pub people: Vec<PhoneNumber>,
    /// The owner's contact groups it names, likewise.
    pub groups: Vec<String>,
    /// The text (may be empty when there are pictures).
    pub text: String,
    /// A place name.
    pub place: Option<String>,
    /// A shared link.
    pub link: Option<LinkRecord>,
    /// Attachment ids, in order.
    pub attachments: Vec<String>,
    /// When posted.
    pub created_at: DateTime<Utc>,
    /// When last edited.
    pub edited_at: Option<DateTime<Utc>>,
    /// An article's or an album's title.
    pub title: Option<String>,
    /// An article's Markdown.
    pub body: Option<String>,
    /// An article's HTML, made from its Markdown and sanitised when it was written.
    pub body_html: Option<String>,
    /// An article not published yet: seen by its owner alone, in no listing but theirs.
    pub draft: bool,
    /// A photo's album.
    pub parent_id: Option<String>,
    /// A photo's place in its album.
    pub position: Option<i64>,
    /// An album's cover (an attachment of one of its photos).
    pub cover_id: Option<String>,
    /// An article's tags.
    pub tags: Vec<String>,
}

impl ItemRecord {
    /// A new item of `kind` with nothing in it but its id, owner, audience and time.
    pub fn new(
        id: String,
        owner_id: UserId,
        kind: ItemKind,
        audience: ItemAudience,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            owner_id,
            kind,
            audience,
            people: Vec::new(),
            groups: Vec::new(),
            text: String::new(),
            place: None,
            link: None,
            attachments: Vec::new(),
            created_at,
            edited_at: None,
            title: None,
            body: None,
            body_html: None,
            draft: false,
            parent_id: None,
            position: None,
            cover_id: None,
            tags: Vec::new(),
        }
    }
}

/// Which items of a space to list.
#[derive(Debug, Clone)]
pub struct ItemQuery<'a> {
    /// Whose.
    pub owners: &'a [UserId],
    /// Of these kinds (photos are never listed: they are read with their album).
    pub kinds: &'a [ItemKind],
    /// Drafts only (else published items only).
    pub drafts: bool,
    /// With this tag only.
    pub tag: Option<&'a str>,
    /// Strictly older than this.
    pub before: Option<&'a ItemCursor>,
    /// At most this many.
    pub limit: usize,
}

/// Where a page of items starts: strictly older than this (time, then id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemCursor {
    /// Creation time of the last item of the previous page.
    pub created_at: DateTime<Utc>,
    /// Its id.
    pub id: String,
}

/// A comment on an item, or a reply to a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentRecord {
    /// Opaque id.
    pub id: String,
    /// The item.
    pub item_id: String,
    /// Who wrote it.
    pub author_id: UserId,
    /// The comment it answers.
    pub reply_to: Option<String>,
    /// Its text.
    pub text: String,
    /// When written.
    pub created_at: DateTime<Utc>,
}

/// A like of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LikeRecord {
    /// The item.
    pub item_id: String,
    /// Who likes it.
    pub user_id: UserId,
    /// Since when.
    pub created_at: DateTime<Utc>,
}

/// What a notification tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// Someone commented on my item.
    Comment,
    /// Someone answered my comment.
    Reply,
    /// Someone likes my item.
    Like,
}

impl NotificationKind {
    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Comment => "comment",
            NotificationKind::Reply => "reply",
            NotificationKind::Like => "like",
        }
    }

    /// The kind of a stored word.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "comment" => Some(NotificationKind::Comment),
            "reply" => Some(NotificationKind::Reply),
            "like" => Some(NotificationKind::Like),
            _ => None,
        }
    }
}

/// Something that concerns a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRecord {
    /// Opaque id.
    pub id: String,
    /// Whom it concerns.
    pub user_id: UserId,
    /// Who did it.
    pub actor_id: UserId,
    /// What they did.
    pub kind: NotificationKind,
    /// On which item.
    pub item_id: String,
    /// The comment or reply, for those kinds.
    pub comment_id: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Marked read.
    pub read: bool,
}

/// The community's storage.
#[async_trait]
pub trait CommunityRepo: Send + Sync {
    /// A user's profile, if ever set.
    async fn profile(&self, user_id: &str) -> StoreResult<Option<ProfileRecord>>;
    /// The profiles of many users (those never set are absent).
    async fn profiles(&self, user_ids: &[UserId]) -> StoreResult<HashMap<UserId, ProfileRecord>>;
    /// Creates or replaces a profile.
    async fn set_profile(&self, profile: &ProfileRecord) -> StoreResult<()>;

    /// Stores a new item with its attachments and named people and groups, in one
    /// transaction.
    async fn create_item(&self, item: &ItemRecord) -> StoreResult<()> {
        self.create_items(std::slice::from_ref(item)).await
    }
    /// Stores new items (an album's photos added at once), all in one transaction.
    async fn create_items(&self, items: &[ItemRecord]) -> StoreResult<()>;
    /// Replaces an item's text, place, link, audience, named people and groups, title,
    /// body, draft flag, position, cover, tags and time (a draft published dates from
    /// then; its attachments stay), in one transaction; whether it was there.
    async fn update_item(&self, item: &ItemRecord) -> StoreResult<bool>;
    /// Deletes an owner's item with its comments, likes and notifications; whether it
    /// was there.
    async fn delete_item(&self, owner_id: &str, id: &str) -> StoreResult<bool>;
    /// An item by id.
    async fn item(&self, id: &str) -> StoreResult<Option<ItemRecord>>;
    /// The items a query asks for, newest first.
    async fn items_of(&self, query: &ItemQuery<'_>) -> StoreResult<Vec<ItemRecord>>;
    /// The photos of an album, in their order.
    async fn photos_of(&self, album_id: &str) -> StoreResult<Vec<ItemRecord>>;
    /// Adds an attachment to an item (an article's pictures, a photo's picture).
    async fn set_attachments(&self, item_id: &str, attachments: &[String]) -> StoreResult<()>;
    /// Of these items, those that name `phone`: the number itself, or a contact group of
    /// the owner's holding it.
    async fn naming(
        &self,
        item_ids: &[String],
        phone: &PhoneNumber,
    ) -> StoreResult<HashSet<String>>;
    /// The items that show an attachment (as a picture or as a link's image).
    async fn items_with_attachment(&self, attachment_id: &str) -> StoreResult<Vec<ItemRecord>>;

    /// Stores a comment.
    async fn add_comment(&self, comment: &CommentRecord) -> StoreResult<()>;
    /// A comment by id.
    async fn comment(&self, id: &str) -> StoreResult<Option<CommentRecord>>;
    /// Deletes a comment (its notifications go with it); whether it was there.
    async fn delete_comment(&self, id: &str) -> StoreResult<bool>;
    /// The comments on some items, oldest first.
    async fn comments_on(&self, item_ids: &[String]) -> StoreResult<Vec<CommentRecord>>;

    /// Records a like; whether it is new.
    async fn like(&self, like: &LikeRecord) -> StoreResult<bool>;
    /// Takes a like back (its notification goes with it); whether it was there.
    async fn unlike(&self, item_id: &str, user_id: &str) -> StoreResult<bool>;
    /// The likes of some items, oldest first.
    async fn likes_on(&self, item_ids: &[String]) -> StoreResult<Vec<LikeRecord>>;

    /// Stores notifications.
    async fn add_notifications(&self, notifications: &[NotificationRecord]) -> StoreResult<()>;
    /// A user's notifications, newest first, strictly older than `before`, at most
    /// `limit`; only unread ones if `unread_only`.
    async fn notifications(
        &self,
        user_id: &str,
        before: Option<&ItemCursor>,
        limit: usize,
        unread_only: bool,
    ) -> StoreResult<Vec<NotificationRecord>>;
    /// Marks a user's notifications read (all of them, or those with these ids).
    async fn mark_read(&self, user_id: &str, ids: Option<&[String]>) -> StoreResult<()>;
}
