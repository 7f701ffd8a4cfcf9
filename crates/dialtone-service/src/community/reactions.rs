//! Comments, likes and notifications. As in WeChat, a viewer sees only the comments and
//! likes of people they may see themself, and counts are counts of what they see; a
//! notification reaches its user only from someone they may see, about an item they may
//! see, and is checked again when listed (a block made later hides it).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dialtone_bus::Event;
use dialtone_core::privacy::View;
use dialtone_core::text::multi_line;
use dialtone_core::{PhoneNumber, UserId};
use dialtone_store::{
    CommentRecord, ItemCursor, ItemKind, ItemRecord, LikeRecord, NotificationKind,
    NotificationRecord, UserRecord,
};

use super::{CommunityService, Viewer};
use crate::crypto::new_id;
use crate::{ServiceError, ServiceResult};

/// Most notifications in one page.
const MAX_NOTIFICATIONS: usize = 100;
/// Unread notifications counted at most (a badge shows "999+" beyond).
const UNREAD_COUNTED: usize = 1_000;

/// A comment as a viewer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentView {
    /// The comment.
    pub comment: CommentRecord,
    /// Its author's number.
    pub author: PhoneNumber,
    /// The author of the comment it answers, where the viewer may see that comment.
    pub reply_to_author: Option<PhoneNumber>,
}

/// A notification as its user sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationView {
    /// The notification.
    pub record: NotificationRecord,
    /// Who did it.
    pub actor: PhoneNumber,
    /// The comment's text, for comments and replies.
    pub text: Option<String>,
    /// The kind of the item it is about.
    pub item_kind: ItemKind,
    /// A photo's album.
    pub album_id: Option<String>,
}

impl NotificationView {
    /// The contract's shape, for the API and the live connection.
    pub fn to_protocol(
        &self,
        time: fn(DateTime<Utc>) -> String,
    ) -> dialtone_protocol::Notification {
        dialtone_protocol::Notification {
            id: self.record.id.clone(),
            kind: self.record.kind.as_str().to_owned(),
            actor: self.actor.to_string(),
            item_id: self.record.item_id.clone(),
            item_kind: self.item_kind.as_str().to_owned(),
            album_id: self.album_id.clone(),
            comment_id: self.record.comment_id.clone(),
            text: self.text.clone(),
            created_at: time(self.record.created_at),
            read: self.record.read,
        }
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The likes and comments of some items that one viewer may see.
pub(crate) struct Reactions {
    viewer: Option<UserId>,
    likes: HashMap<String, Vec<(UserId, PhoneNumber)>>,
    comments: HashMap<String, Vec<CommentView>>,
}

impl Reactions {
    /// Reads the reactions of `items` and keeps those of people `viewer` may see.
    pub(crate) async fn of(
        service: &CommunityService,
        viewer: Viewer<'_>,
        items: &[String],
    ) -> ServiceResult<Reactions> {
        let store = &service.store.community;
        let all_likes = store.likes_on(items).await?;
        let all_comments = store.comments_on(items).await?;
        let mut people: Vec<UserId> = all_likes.iter().map(|l| l.user_id.clone()).collect();
        people.extend(all_comments.iter().map(|c| c.author_id.clone()));
        let users = service.users(&people).await?;
        let list: Vec<UserRecord> = users.values().cloned().collect();
        let views = service.seen_people(viewer, &list).await?;
        let visible = |id: &UserId| views.get(id).copied().unwrap_or(View::UNREGISTERED).visible;
        let mut likes: HashMap<String, Vec<(UserId, PhoneNumber)>> = HashMap::new();
        for like in all_likes {
            if let Some(user) = users.get(&like.user_id).filter(|_| visible(&like.user_id)) {
                likes
                    .entry(like.item_id)
                    .or_default()
                    .push((user.id.clone(), user.phone.clone()));
            }
        }
        let shown: HashMap<&str, &UserId> = all_comments
            .iter()
            .filter(|c| visible(&c.author_id))
            .map(|c| (c.id.as_str(), &c.author_id))
            .collect();
        let mut comments: HashMap<String, Vec<CommentView>> = HashMap::new();
        for comment in &all_comments {
            let Some(author) = users
                .get(&comment.author_id)
                .filter(|_| visible(&comment.author_id))
            else {
                continue;
            };
            let reply_to_author = comment
                .reply_to
                .as_deref()
                .and_then(|id| shown.get(id))
                .and_then(|id| users.get(*id))
                .map(|u| u.phone.clone());
            comments
                .entry(comment.item_id.clone())
                .or_default()
                .push(CommentView {
                    comment: comment.clone(),
                    author: author.phone.clone(),
                    reply_to_author,
                });
        }
        Ok(Reactions {
            viewer: viewer.id().map(UserId::from),
            likes,
            comments,
        })
    }

    /// One item's likes (numbers), whether the viewer likes it, and its comments.
    pub(crate) fn take(&mut self, item: &str) -> (Vec<PhoneNumber>, bool, Vec<CommentView>) {
        let likes = self.likes.remove(item).unwrap_or_default();
        let liked = self
            .viewer
            .as_ref()
            .is_some_and(|v| likes.iter().any(|(id, _)| id == v));
        let comments = self.comments.remove(item).unwrap_or_default();
        (
            likes.into_iter().map(|(_, phone)| phone).collect(),
            liked,
            comments,
        )
    }
}

impl CommunityService {
    /// Comments on an item the author may see (one they may not see answers as one that
    /// does not exist); a reply names a comment on the same item they may see.
    pub async fn add_comment(
        &self,
        author: &UserRecord,
        item_id: &str,
        text: &str,
        reply_to: Option<&str>,
    ) -> ServiceResult<CommentView> {
        let seen = self.visible_item(Viewer::User(author), item_id).await?;
        let text = multi_line(text);
        let text = text.trim();
        let chars = text.chars().count();
        if chars == 0 || chars > self.limits.comment_chars {
            return Err(ServiceError::InvalidInput(format!(
                "a comment has 1 to {} characters",
                self.limits.comment_chars
            )));
        }
        let answered = match reply_to {
            None => None,
            Some(id) => {
                let mut reactions =
                    Reactions::of(self, Viewer::User(author), &[item_id.to_owned()]).await?;
                let (_, _, comments) = reactions.take(item_id);
                Some(
                    comments
                        .into_iter()
                        .find(|c| c.comment.id == id)
                        .ok_or(ServiceError::CommentNotFound)?,
                )
            }
        };
        let comment = CommentRecord {
            id: new_id(),
            item_id: item_id.to_owned(),
            author_id: author.id.clone(),
            reply_to: answered.as_ref().map(|c| c.comment.id.clone()),
            text: text.to_owned(),
            created_at: self.now(),
        };
        self.store.community.add_comment(&comment).await?;
        let mut notify = Vec::new();
        if let Some(answered) = &answered {
            notify.push((answered.comment.author_id.clone(), NotificationKind::Reply));
        }
        if notify.iter().all(|(id, _)| *id != seen.owner.id) {
            notify.push((seen.owner.id.clone(), NotificationKind::Comment));
        }
        self.notify(author, &seen.item, notify, Some(&comment))
            .await?;
        Ok(CommentView {
            reply_to_author: answered.map(|c| c.author),
            author: author.phone.clone(),
            comment,
        })
    }

    /// Deletes a comment: its author may, and so may the owner of the item it is on.
    pub async fn delete_comment(&self, user: &UserRecord, id: &str) -> ServiceResult<()> {
        let comment = self
            .store
            .community
            .comment(id)
            .await?
            .ok_or(ServiceError::CommentNotFound)?;
        let item = self
            .visible_item(Viewer::User(user), &comment.item_id)
            .await
            .map_err(|e| match e {
                ServiceError::ItemNotFound => ServiceError::CommentNotFound,
                other => other,
            })?;
        if comment.author_id != user.id && item.owner.id != user.id {
            let views = self
                .seen_people(
                    Viewer::User(user),
                    &self
                        .users(std::slice::from_ref(&comment.author_id))
                        .await?
                        .into_values()
                        .collect::<Vec<_>>(),
                )
                .await?;
            if !views.get(&comment.author_id).is_some_and(|v| v.visible) {
                return Err(ServiceError::CommentNotFound);
            }
            return Err(ServiceError::NotYours);
        }
        self.store.community.delete_comment(id).await?;
        Ok(())
    }

    /// Likes an item the user may see (again: no change).
    pub async fn like(&self, user: &UserRecord, item_id: &str) -> ServiceResult<()> {
        let seen = self.visible_item(Viewer::User(user), item_id).await?;
        let like = LikeRecord {
            item_id: item_id.to_owned(),
            user_id: user.id.clone(),
            created_at: self.now(),
        };
        if self.store.community.like(&like).await? {
            let notify = vec![(seen.owner.id.clone(), NotificationKind::Like)];
            self.notify(user, &seen.item, notify, None).await?;
        }
        Ok(())
    }

    /// Takes a like back (one not there: no change).
    pub async fn unlike(&self, user: &UserRecord, item_id: &str) -> ServiceResult<()> {
        self.visible_item(Viewer::User(user), item_id).await?;
        self.store.community.unlike(item_id, &user.id).await?;
        Ok(())
    }

    /// Stores and sends notifications of what `actor` did to those it concerns, but only
    /// to whoever may see the actor and the item (never the actor themself).
    async fn notify(
        &self,
        actor: &UserRecord,
        item: &ItemRecord,
        to: Vec<(UserId, NotificationKind)>,
        comment: Option<&CommentRecord>,
    ) -> ServiceResult<()> {
        let to: Vec<(UserId, NotificationKind)> =
            to.into_iter().filter(|(id, _)| *id != actor.id).collect();
        let users = self
            .users(&to.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>())
            .await?;
        let mut records = Vec::new();
        for (user_id, kind) in to {
            let Some(user) = users.get(&user_id) else {
                continue;
            };
            let sees_actor = self
                .seen_people(Viewer::User(user), std::slice::from_ref(actor))
                .await?
                .get(&actor.id)
                .is_some_and(|v| v.visible);
            let sees_item = !self
                .seen_items(Viewer::User(user), vec![item.clone()])
                .await?
                .is_empty();
            if !(sees_actor && sees_item) {
                continue;
            }
            records.push(NotificationRecord {
                id: new_id(),
                user_id,
                actor_id: actor.id.clone(),
                kind,
                item_id: item.id.clone(),
                comment_id: comment.map(|c| c.id.clone()),
                created_at: self.now(),
                read: false,
            });
        }
        if records.is_empty() {
            return Ok(());
        }
        self.store.community.add_notifications(&records).await?;
        for record in records {
            let view = NotificationView {
                actor: actor.phone.clone(),
                text: comment.map(|c| c.text.clone()),
                item_kind: item.kind,
                album_id: item.parent_id.clone(),
                record,
            };
            self.announce(Event::Notification {
                to: view.record.user_id.clone(),
                notification: Arc::new(view.to_protocol(rfc3339)),
            })
            .await;
        }
        Ok(())
    }

    /// The user's notifications, newest first, and how many are unread: only those from
    /// people they may see, about items they may see.
    pub async fn notifications(
        &self,
        user: &UserRecord,
        before: Option<ItemCursor>,
        limit: usize,
    ) -> ServiceResult<(Vec<NotificationView>, Option<ItemCursor>, usize)> {
        let limit = limit.clamp(1, MAX_NOTIFICATIONS);
        let records = self
            .store
            .community
            .notifications(&user.id, before.as_ref(), limit, false)
            .await?;
        let next = (records.len() == limit).then(|| {
            records.last().map(|r| ItemCursor {
                created_at: r.created_at,
                id: r.id.clone(),
            })
        });
        let shown = self.shown_notifications(user, records).await?;
        let unread = self
            .store
            .community
            .notifications(&user.id, None, UNREAD_COUNTED, true)
            .await?;
        let unread = self.shown_notifications(user, unread).await?.len();
        Ok((shown, next.flatten(), unread))
    }

    async fn shown_notifications(
        &self,
        user: &UserRecord,
        records: Vec<NotificationRecord>,
    ) -> ServiceResult<Vec<NotificationView>> {
        let actors = self
            .users(
                &records
                    .iter()
                    .map(|r| r.actor_id.clone())
                    .collect::<Vec<_>>(),
            )
            .await?;
        let list: Vec<UserRecord> = actors.values().cloned().collect();
        let views = self.seen_people(Viewer::User(user), &list).await?;
        let mut item_ids: Vec<String> = records.iter().map(|r| r.item_id.clone()).collect();
        item_ids.sort();
        item_ids.dedup();
        let mut items = Vec::new();
        for id in &item_ids {
            if let Some(item) = self.store.community.item(id).await? {
                items.push(item);
            }
        }
        let visible_items: HashMap<String, ItemRecord> = self
            .seen_items(Viewer::User(user), items)
            .await?
            .into_iter()
            .map(|s| (s.item.id.clone(), s.item))
            .collect();
        let mut shown = Vec::with_capacity(records.len());
        for record in records {
            let Some(actor) = actors
                .get(&record.actor_id)
                .filter(|a| views.get(&a.id).is_some_and(|v| v.visible))
            else {
                continue;
            };
            let Some(item) = visible_items.get(&record.item_id) else {
                continue;
            };
            let text = match &record.comment_id {
                Some(id) => self.store.community.comment(id).await?.map(|c| c.text),
                None => None,
            };
            shown.push(NotificationView {
                actor: actor.phone.clone(),
                text,
                item_kind: item.kind,
                album_id: item.parent_id.clone(),
                record,
            });
        }
        Ok(shown)
    }

    /// Marks notifications read: these ids, or all.
    pub async fn mark_read(&self, user: &UserRecord, ids: Option<&[String]>) -> ServiceResult<()> {
        Ok(self.store.community.mark_read(&user.id, ids).await?)
    }
}
