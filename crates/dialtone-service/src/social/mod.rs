//! The social graph: address books and discovery, privacy, presence, the vault. Every
//! answer about another user goes through [`SocialService::view_of`], the one place that
//! gathers the facts and asks the core's privacy policy.

mod contacts;
mod presence;
mod privacy;
pub mod sealer;
mod vault;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dialtone_bus::{Event, EventBus};
use dialtone_core::presence::PresenceState;
use dialtone_core::privacy::{Flow, Relation, View, reaches, view};
use dialtone_core::{Clock, PhoneNumber, Region, UserId};
use dialtone_store::{Store, UserRecord};

pub use contacts::{ContactEntry, ContactView, RejectedEntry, UploadMode, UploadResult};
pub use privacy::PrivacyUpdate;
pub use sealer::Sealer;
pub use vault::VaultToken;

use crate::passwords::PasswordHasher;
use crate::{ServiceError, ServiceResult};

/// Everything the social use cases need.
pub struct SocialDeps {
    /// The database.
    pub store: Store,
    /// The source of "now".
    pub clock: Arc<dyn Clock>,
    /// Where changes are announced to every server process.
    pub bus: Arc<dyn EventBus>,
    /// The server key (address-book sealing, vault tokens).
    pub server_key: Vec<u8>,
    /// Region used when neither request nor account gives one.
    pub default_region: Region,
    /// Limits of address-book uploads.
    pub limits: ContactLimits,
}

/// Limits of address-book uploads: per request (the contract's defaults), and the
/// discovery quota against scraping the directory, counted in numbers new to the book
/// (numbers already in it are free): a large first upload, then a slow refill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ContactLimits {
    /// Entries in one request.
    pub max_entries: usize,
    /// Numbers in one entry.
    pub max_phones_per_entry: usize,
    /// Characters in a name.
    pub max_name_chars: usize,
    /// New numbers an account may look up at first (the bucket's size).
    pub discovery_capacity: u64,
    /// New numbers added back to the bucket per day.
    pub discovery_refill_per_day: u64,
}

impl Default for ContactLimits {
    fn default() -> Self {
        Self {
            max_entries: 50_000,
            max_phones_per_entry: 32,
            max_name_chars: 256,
            discovery_capacity: 50_000,
            discovery_refill_per_day: 2_000,
        }
    }
}

/// By the other side's id, what `reaches` lets through: the view the recipient gets of
/// the actor, or [`View::UNREGISTERED`]. `seen` is read only for signals; a message's
/// view is its `reach`.
fn decide(
    flow: Flow,
    others: &[UserRecord],
    reach: &HashMap<UserId, View>,
    seen: Option<&HashMap<UserId, View>>,
) -> HashMap<UserId, View> {
    let of = |views: &HashMap<UserId, View>, id: &str| {
        views.get(id).copied().unwrap_or(View::UNREGISTERED)
    };
    others
        .iter()
        .map(|other| {
            let reach = of(reach, &other.id);
            let seen = seen.map_or(reach, |seen| of(seen, &other.id));
            let got = if reaches(flow, reach, seen) {
                seen
            } else {
                View::UNREGISTERED
            };
            (other.id.clone(), got)
        })
        .collect()
}

/// Presence of a user as one viewer may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceView {
    /// Available, away, busy or offline.
    pub state: PresenceState,
    /// Status text.
    pub text: Option<String>,
    /// When last online, where the viewer may see it and the user is offline.
    pub last_seen_at: Option<DateTime<Utc>>,
}

impl PresenceView {
    /// What is shown for an unregistered number, or to someone who may not see the user.
    pub fn hidden() -> Self {
        Self {
            state: PresenceState::Offline,
            text: None,
            last_seen_at: None,
        }
    }
}

/// The social use cases.
pub struct SocialService {
    pub(crate) deps: SocialDeps,
    pub(crate) sealer: Sealer,
    pub(crate) hasher: PasswordHasher,
}

impl SocialService {
    /// Builds the service.
    pub fn new(deps: SocialDeps, hasher: PasswordHasher) -> Self {
        Self {
            sealer: Sealer::new(&deps.server_key),
            deps,
            hasher,
        }
    }

    /// Now, by the service's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.deps.clock.now()
    }

    /// The sealer (for the realtime fan-out, which looks up watchers by number hash).
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// What `viewer` may see of `target`.
    pub async fn view_of(&self, viewer: &UserRecord, target: &UserRecord) -> ServiceResult<View> {
        let views = self.views_of(viewer, std::slice::from_ref(target)).await?;
        Ok(views.get(&target.id).copied().unwrap_or(View::UNREGISTERED))
    }

    /// What `viewer` may see of each target, by target id, reaching them cold.
    pub async fn views_of(
        &self,
        viewer: &UserRecord,
        targets: &[UserRecord],
    ) -> ServiceResult<HashMap<UserId, View>> {
        self.views(viewer, targets, false).await
    }

    /// Who hears of something `actor` sends or shows, decided from each recipient's side
    /// ([`dialtone_core::privacy::reaches`]): by recipient id, the view the recipient gets of
    /// the actor, [`View::UNREGISTERED`] where nothing may reach them. `in_conversation`:
    /// the actor is seen inside a conversation they share (typing, receipts), else as a
    /// contact (presence; discoverability applies). For a message only the recipients'
    /// side is read. The one door for every frame that goes from one user to another.
    pub async fn audience(
        &self,
        actor: &UserRecord,
        recipients: &[UserRecord],
        flow: Flow,
        in_conversation: bool,
    ) -> ServiceResult<HashMap<UserId, View>> {
        // The recipients' side: may the actor reach each of them (their lists; a recipient
        // is never reached "cold" by what they watch or share a conversation in).
        let reach = self.views(actor, recipients, true).await?;
        let seen = match flow {
            Flow::Message => None,
            Flow::Signal => Some(
                self.watchers_views(actor, recipients, in_conversation)
                    .await?,
            ),
        };
        Ok(decide(flow, recipients, &reach, seen.as_ref()))
    }

    /// What reaches `recipient` from each of `actors` (the same decision as
    /// [`Self::audience`], gathered for one recipient): by actor id, the view the recipient
    /// gets of that actor, [`View::UNREGISTERED`] where nothing of theirs may reach them.
    pub async fn sources(
        &self,
        recipient: &UserRecord,
        actors: &[UserRecord],
        flow: Flow,
        in_conversation: bool,
    ) -> ServiceResult<HashMap<UserId, View>> {
        // The recipient's own side: may each actor reach them.
        let reach = self.watchers_views(recipient, actors, true).await?;
        let seen = match flow {
            Flow::Message => None,
            Flow::Signal => Some(self.views(recipient, actors, in_conversation).await?),
        };
        Ok(decide(flow, actors, &reach, seen.as_ref()))
    }

    /// The only door to the privacy policy. Reads the facts for all targets in a few
    /// queries.
    async fn views(
        &self,
        viewer: &UserRecord,
        targets: &[UserRecord],
        warm: bool,
    ) -> ServiceResult<HashMap<UserId, View>> {
        let ids: Vec<UserId> = targets
            .iter()
            .filter(|t| t.id != viewer.id)
            .map(|t| t.id.clone())
            .collect();
        let store = &self.deps.store;
        let settings = store.privacy.settings_many(&ids).await?;
        let facts = store
            .privacy
            .relations_to(&ids, &viewer.phone, &self.sealer.mac(&viewer.phone))
            .await?;
        let mut views = HashMap::with_capacity(targets.len());
        for target in targets {
            if target.id == viewer.id {
                views.insert(target.id.clone(), View::SELF);
                continue;
            }
            let f = facts.get(&target.id).copied().unwrap_or_default();
            let relation = Relation {
                is_self: false,
                blocked: f.blocked,
                allowlisted: f.allowlisted,
                in_target_contacts: f.in_target_contacts,
                warm,
            };
            let target_settings = settings.get(&target.id).copied().unwrap_or_default();
            views.insert(target.id.clone(), view(&target_settings, &relation));
        }
        Ok(views)
    }

    /// What each of many watchers may see of one target, and its presence as each sees
    /// it, by watcher id: the live fan-out's question, answered in a few queries whatever
    /// the number of watchers.
    pub async fn seen_by_watchers(
        &self,
        target: &UserRecord,
        watchers: &[UserRecord],
    ) -> ServiceResult<HashMap<UserId, (View, PresenceView)>> {
        let store = &self.deps.store;
        let views = self.audience(target, watchers, Flow::Signal, false).await?;
        let record = store.presence.get(&target.id).await?;
        let online = !store
            .presence
            .connected(std::slice::from_ref(&target.id))
            .await?
            .is_empty();
        let state = PresenceState::shown(record.setting, online);
        let mut seen = HashMap::with_capacity(watchers.len());
        for watcher in watchers {
            let decided = views
                .get(&watcher.id)
                .copied()
                .unwrap_or(View::UNREGISTERED);
            let presence = if decided.visible {
                PresenceView {
                    state,
                    text: record.text.clone(),
                    last_seen_at: record
                        .last_seen_at
                        .filter(|_| decided.last_seen && state == PresenceState::Offline),
                }
            } else {
                PresenceView::hidden()
            };
            seen.insert(watcher.id.clone(), (decided, presence));
        }
        Ok(seen)
    }

    /// What each of many watchers may see of one target, by watcher id (`warm`: inside a
    /// conversation they share). A few queries whatever the number of watchers.
    pub async fn watchers_views(
        &self,
        target: &UserRecord,
        watchers: &[UserRecord],
        warm: bool,
    ) -> ServiceResult<HashMap<UserId, View>> {
        let store = &self.deps.store;
        let settings = store.privacy.settings(&target.id).await?;
        let viewers: Vec<(PhoneNumber, String)> = watchers
            .iter()
            .map(|w| (w.phone.clone(), self.sealer.mac(&w.phone)))
            .collect();
        let facts = store.privacy.relations_from(&target.id, &viewers).await?;
        let mut views = HashMap::with_capacity(watchers.len());
        for watcher in watchers {
            let decided = if watcher.id == target.id {
                View::SELF
            } else {
                let f = facts
                    .get(watcher.phone.as_str())
                    .copied()
                    .unwrap_or_default();
                view(
                    &settings,
                    &Relation {
                        is_self: false,
                        blocked: f.blocked,
                        allowlisted: f.allowlisted,
                        in_target_contacts: f.in_target_contacts,
                        warm,
                    },
                )
            };
            views.insert(watcher.id.clone(), decided);
        }
        Ok(views)
    }

    /// The presence of `target` as `viewer` may see it.
    pub async fn presence_seen_by(
        &self,
        viewer: &UserRecord,
        target: &UserRecord,
    ) -> ServiceResult<PresenceView> {
        let mut seen = self
            .presences_seen_by(viewer, std::slice::from_ref(target))
            .await?;
        Ok(seen.remove(&target.id).unwrap_or_else(PresenceView::hidden))
    }

    /// The presence of each target as `viewer` may see it, by target id: nothing of a
    /// target who does not let the viewer see them, nor of one the viewer does not accept
    /// (blocked, or not on the viewer's allow-list).
    pub async fn presences_seen_by(
        &self,
        viewer: &UserRecord,
        targets: &[UserRecord],
    ) -> ServiceResult<HashMap<UserId, PresenceView>> {
        let views = self.sources(viewer, targets, Flow::Signal, false).await?;
        self.presences_under(targets, &views).await
    }

    /// The presence of each target under already decided views.
    pub(crate) async fn presences_under(
        &self,
        targets: &[UserRecord],
        views: &HashMap<UserId, View>,
    ) -> ServiceResult<HashMap<UserId, PresenceView>> {
        let visible: Vec<UserId> = targets
            .iter()
            .filter(|t| views.get(&t.id).is_some_and(|v| v.visible))
            .map(|t| t.id.clone())
            .collect();
        let store = &self.deps.store;
        let records = store.presence.get_many(&visible).await?;
        let online: std::collections::HashSet<UserId> = store
            .presence
            .connected(&visible)
            .await?
            .into_iter()
            .collect();
        let mut seen = HashMap::with_capacity(targets.len());
        for target in targets {
            let shown = match (views.get(&target.id), records.get(&target.id)) {
                (Some(v), Some(record)) if v.visible => {
                    let state = PresenceState::shown(record.setting, online.contains(&target.id));
                    PresenceView {
                        state,
                        text: record.text.clone(),
                        last_seen_at: record
                            .last_seen_at
                            .filter(|_| v.last_seen && state == PresenceState::Offline),
                    }
                }
                _ => PresenceView::hidden(),
            };
            seen.insert(target.id.clone(), shown);
        }
        Ok(seen)
    }

    /// The account of a number, if it has one.
    pub async fn user_by_phone(&self, phone: &PhoneNumber) -> ServiceResult<Option<UserRecord>> {
        Ok(self.deps.store.accounts.user_by_phone(phone).await?)
    }

    /// The region for reading numbers a user typed.
    pub(crate) fn region_for(
        &self,
        user: &UserRecord,
        given: Option<&str>,
    ) -> ServiceResult<Region> {
        match given {
            Some(code) => Region::parse(code).ok_or(ServiceError::InvalidRegion),
            None => Ok(Region::parse(&user.region).unwrap_or(self.deps.default_region)),
        }
    }

    /// Announces a change; a failure is logged, not returned: the change itself is stored
    /// and the next event or reconnect brings clients up to date.
    pub(crate) async fn announce(&self, event: Event) {
        if let Err(e) = self.deps.bus.publish(event).await {
            tracing::warn!(error = %e, "event not published");
        }
    }
}
