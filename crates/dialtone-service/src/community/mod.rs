//! The community: profiles, personal spaces (posts), comments, likes, the feed and
//! notifications. Every read of an item, a comment, a like or a notification is decided by
//! the core's policy through [`CommunityService::seen_items`] and
//! [`CommunityService::seen_people`], which gather the facts and ask
//! [`dialtone_core::privacy::sees_item`] and the social service's one door
//! ([`SocialService::sources`]): nothing here decides who sees what on its own.

mod albums;
mod articles;
mod fanout;
mod items;
mod profiles;
mod reactions;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dialtone_bus::{Event, EventBus};
use dialtone_core::privacy::{Flow, ItemAudience, ItemFacts, View, sees_item, stranger_view};
use dialtone_core::{Clock, UserId};
use dialtone_store::{ItemRecord, Store, UserRecord};

pub use albums::{AlbumEdit, NewAlbum, NewPhoto};
pub use articles::{ArticleEdit, NewArticle};
pub use items::{AudienceInput, ItemView, NewPost, Page, PostEdit};
pub use profiles::{ProfileUpdate, ProfileView};
pub use reactions::{CommentView, NotificationView};

use crate::ServiceResult;
use crate::attachments::AttachmentService;
use crate::social::SocialService;

/// Limits of what a user writes in the community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CommunityLimits {
    /// Characters of a post's text.
    pub post_chars: usize,
    /// Pictures of one post.
    pub post_pictures: usize,
    /// Characters of a comment.
    pub comment_chars: usize,
    /// People an audience names.
    pub audience_people: usize,
    /// Contact groups an audience names.
    pub audience_groups: usize,
    /// Links one user may have previewed per hour (each preview is a fetch by the server
    /// from an address the user chose).
    pub link_previews_per_hour: u32,
}

impl Default for CommunityLimits {
    fn default() -> Self {
        Self {
            post_chars: 5_000,
            post_pictures: 9,
            comment_chars: 1_000,
            audience_people: 1_000,
            audience_groups: 50,
            link_previews_per_hour: 60,
        }
    }
}

/// How link previews are fetched: the crate's limits, and (tests only, never from a
/// configuration file) local addresses allowed besides public ones.
#[derive(Debug, Clone, Default)]
pub struct PreviewSettings {
    /// Limits and the address policy.
    pub config: dialtone_preview::PreviewConfig,
}

/// Who is looking.
#[derive(Debug, Clone, Copy)]
pub enum Viewer<'a> {
    /// A logged-in user.
    User(&'a UserRecord),
    /// Someone not logged in: a stranger with no relation to anyone.
    Visitor,
}

impl Viewer<'_> {
    fn id(&self) -> Option<&str> {
        match self {
            Viewer::User(u) => Some(&u.id),
            Viewer::Visitor => None,
        }
    }
}

/// What the community's use cases need.
pub struct CommunityDeps {
    /// The database.
    pub store: Store,
    /// The source of "now".
    pub clock: Arc<dyn Clock>,
    /// Where new items and notifications are announced.
    pub bus: Arc<dyn EventBus>,
    /// The one door to the privacy policy.
    pub social: Arc<SocialService>,
    /// Where a link preview's image is stored (as an attachment of the poster's).
    pub attachments: Arc<AttachmentService>,
    /// Limits of posts and comments.
    pub limits: CommunityLimits,
    /// How link previews are fetched.
    pub previews: PreviewSettings,
}

/// The community's use cases.
pub struct CommunityService {
    store: Store,
    clock: Arc<dyn Clock>,
    bus: Arc<dyn EventBus>,
    social: Arc<SocialService>,
    attachments: Arc<AttachmentService>,
    limits: CommunityLimits,
    previews: PreviewSettings,
    limiter: crate::limits::RateLimiter,
    fanout: fanout::FeedFanout,
}

/// An item a viewer may see, with its owner and the view the viewer has of them.
pub(crate) struct Seen {
    item: ItemRecord,
    owner: UserRecord,
    /// The owner's avatar, from the profile read for the space window.
    avatar: Option<String>,
}

impl CommunityService {
    /// Builds the service.
    pub fn new(deps: CommunityDeps) -> Self {
        let fanout =
            fanout::FeedFanout::start(deps.store.clone(), deps.social.clone(), deps.bus.clone());
        Self {
            limiter: crate::limits::RateLimiter::new(deps.store.rate_limits.clone()),
            store: deps.store,
            clock: deps.clock,
            bus: deps.bus,
            social: deps.social,
            attachments: deps.attachments,
            fanout,
            limits: deps.limits,
            previews: deps.previews,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Now, by the service's clock (for answers that need a time when nothing has one).
    pub fn now_utc(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// What `viewer` may see of each of `people`, by id: for a user, what reaches them
    /// from each (both sides decide, as for a signal: someone the viewer blocks shows
    /// nothing either); for a visitor, what a stranger may see.
    pub(crate) async fn seen_people(
        &self,
        viewer: Viewer<'_>,
        people: &[UserRecord],
    ) -> ServiceResult<HashMap<UserId, View>> {
        match viewer {
            Viewer::User(user) => self.social.sources(user, people, Flow::Signal, false).await,
            Viewer::Visitor => {
                let ids: Vec<UserId> = people.iter().map(|p| p.id.clone()).collect();
                let settings = self.store.privacy.settings_many(&ids).await?;
                Ok(people
                    .iter()
                    .map(|p| {
                        let s = settings.get(&p.id).copied().unwrap_or_default();
                        (p.id.clone(), stranger_view(&s))
                    })
                    .collect())
            }
        }
    }

    /// The users of some ids (unknown ids left out).
    pub(crate) async fn users(&self, ids: &[UserId]) -> ServiceResult<HashMap<UserId, UserRecord>> {
        let mut unique: Vec<UserId> = ids.to_vec();
        unique.sort();
        unique.dedup();
        Ok(self
            .store
            .accounts
            .users_by_ids(&unique)
            .await?
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect())
    }

    /// Of `items`, those `viewer` may see, in the same order, with their owners: the one
    /// place where an item's audience, its owner's privacy and space window, and the
    /// viewer's own lists meet the policy.
    pub(crate) async fn seen_items(
        &self,
        viewer: Viewer<'_>,
        items: Vec<ItemRecord>,
    ) -> ServiceResult<Vec<Seen>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        // A photo is seen where its album is: the album decides.
        let mut albums: HashMap<String, ItemRecord> = HashMap::new();
        for item in &items {
            if let Some(parent) = &item.parent_id
                && !albums.contains_key(parent)
                && let Some(album) = self.store.community.item(parent).await?
            {
                albums.insert(parent.clone(), album);
            }
        }
        let decider = |item: &ItemRecord| -> Option<ItemRecord> {
            match &item.parent_id {
                Some(parent) => albums.get(parent).cloned(),
                None => Some(item.clone()),
            }
        };
        let owner_ids: Vec<UserId> = items.iter().map(|i| i.owner_id.clone()).collect();
        let owners = self.users(&owner_ids).await?;
        let people: Vec<UserRecord> = owners.values().cloned().collect();
        let views = self.seen_people(viewer, &people).await?;
        let ids: Vec<UserId> = owners.keys().cloned().collect();
        let windows = self.store.community.profiles(&ids).await?;
        let named: HashSet<String> = match viewer {
            Viewer::User(user) => {
                let asked: Vec<String> = items
                    .iter()
                    .filter_map(&decider)
                    .filter(|i| {
                        i.owner_id != user.id
                            && matches!(i.audience, ItemAudience::Chosen | ItemAudience::AllExcept)
                    })
                    .map(|i| i.id)
                    .collect();
                self.store.community.naming(&asked, &user.phone).await?
            }
            Viewer::Visitor => HashSet::new(),
        };
        let now = self.now();
        let mut seen = Vec::with_capacity(items.len());
        for item in items {
            let Some(owner) = owners.get(&item.owner_id) else {
                continue;
            };
            let Some(decider) = decider(&item) else {
                continue;
            };
            let own = viewer.id() == Some(owner.id.as_str());
            // A draft is its owner's alone.
            if (item.draft || decider.draft) && !own {
                continue;
            }
            let profile = windows.get(&item.owner_id);
            let window = profile.map(|p| p.space_window).unwrap_or_default();
            let facts = ItemFacts {
                own,
                audience: decider.audience,
                named: named.contains(&decider.id),
                within_window: window
                    .days()
                    .is_none_or(|days| now - decider.created_at <= chrono::Duration::days(days)),
            };
            let view = views.get(&owner.id).copied().unwrap_or(View::UNREGISTERED);
            if sees_item(view, &facts) {
                seen.push(Seen {
                    owner: owner.clone(),
                    avatar: profile.and_then(|p| p.avatar_id.clone()),
                    item,
                });
            }
        }
        Ok(seen)
    }

    /// Whether `viewer` may fetch an attachment because the community shows it to them:
    /// in an item they may see, or as the avatar or cover of someone they may see.
    pub async fn shows_attachment(&self, viewer: Viewer<'_>, id: &str) -> ServiceResult<bool> {
        let items = self.store.community.items_with_attachment(id).await?;
        if !self.seen_items(viewer, items).await?.is_empty() {
            return Ok(true);
        }
        let Some(attachment) = self.store.attachments.get(id).await? else {
            return Ok(false);
        };
        let Some(profile) = self.store.community.profile(&attachment.owner_id).await? else {
            return Ok(false);
        };
        if profile.avatar_id.as_deref() != Some(id) && profile.cover_id.as_deref() != Some(id) {
            return Ok(false);
        }
        let owner = self.users(&[profile.user_id]).await?;
        let people: Vec<UserRecord> = owner.into_values().collect();
        let views = self.seen_people(viewer, &people).await?;
        Ok(people
            .iter()
            .any(|p| views.get(&p.id).is_some_and(|v| v.visible)))
    }

    /// Waits, at most `bound`, for the live fan-out of the items already published to
    /// finish (the server's stop); whether it did. Nothing is announced after.
    pub async fn finish(&self, bound: std::time::Duration) -> bool {
        self.fanout.finish(bound).await
    }

    /// Announces an event; a failure is logged (the change itself is stored).
    async fn announce(&self, event: Event) {
        if let Err(e) = self.bus.publish(event).await {
            tracing::warn!(error = %e, "event not published");
        }
    }
}
