//! Creating, listing and changing conversations.

use std::collections::HashSet;

use dialtone_core::{ConversationId, ConversationKind, PhoneNumber, Role, UserId};
use dialtone_store::{ConversationRecord, MemberRecord, StoreError, UserRecord};

use super::{MessageView, MessagingService, SystemAction, SystemEvent, message_view};
use crate::crypto::new_id;
use crate::{ServiceError, ServiceResult};

/// Longest group name, in characters.
const MAX_GROUP_NAME_CHARS: usize = 100;

/// A conversation as one member sees it.
#[derive(Debug, Clone)]
pub struct ConversationView {
    /// The conversation.
    pub record: ConversationRecord,
    /// Its members' numbers, the caller included.
    pub members: Vec<PhoneNumber>,
    /// Admins' numbers (groups).
    pub admins: Vec<PhoneNumber>,
    /// The newest message the caller may see.
    pub last_message: Option<MessageView>,
    /// Messages after the caller's read mark, not their own.
    pub unread: u64,
}

impl MessagingService {
    async fn view(
        &self,
        user: &UserRecord,
        record: ConversationRecord,
        members: Vec<MemberRecord>,
        me: &MemberRecord,
    ) -> ServiceResult<ConversationView> {
        let ids: Vec<UserId> = members.iter().map(|m| m.user_id.clone()).collect();
        let users = self.users(&ids).await?;
        let phone_of = |id: &str| users.get(id).map(|u| u.phone.clone());
        let last = self
            .store
            .messages
            .messages(&record.id, &user.id, None, None, 1)
            .await?
            .pop();
        let last_message = last.and_then(|m| {
            users
                .get(&m.sender_id)
                .map(|sender| message_view(m.clone(), sender))
        });
        Ok(ConversationView {
            members: members
                .iter()
                .filter_map(|m| phone_of(&m.user_id))
                .collect(),
            admins: members
                .iter()
                .filter(|m| m.role == Role::Admin)
                .filter_map(|m| phone_of(&m.user_id))
                .collect(),
            unread: self
                .store
                .messages
                .count_after(&record.id, &user.id, me.read_seq)
                .await?,
            last_message,
            record,
        })
    }

    /// The direct conversation with `peer`, created on first use; `true` when created.
    /// A peer who may not be reached cold looks exactly like an unregistered number.
    pub async fn direct(
        &self,
        user: &UserRecord,
        peer: &PhoneNumber,
    ) -> ServiceResult<(ConversationView, bool)> {
        if *peer == user.phone {
            return Err(ServiceError::InvalidInput(
                "a direct conversation needs another person".into(),
            ));
        }
        let peer_user = self.store.accounts.user_by_phone(peer).await?;
        let existing = match &peer_user {
            Some(p) => {
                self.store
                    .messages
                    .direct_conversation(&user.id, &p.id)
                    .await?
            }
            None => None,
        };
        if let Some(id) = existing {
            return Ok((self.conversation(user, &id).await?, false));
        }
        let Some(peer_user) = self
            .reachable(user, std::slice::from_ref(peer))
            .await?
            .into_iter()
            .next()
        else {
            return Err(ServiceError::UserNotFound);
        };
        let record = ConversationRecord {
            id: new_id().into(),
            kind: ConversationKind::Direct,
            name: None,
            last_seq: 0,
            created_at: self.now(),
            members_version: 0,
        };
        let members = vec![
            (user.id.clone(), Role::Member),
            (peer_user.id.clone(), Role::Member),
        ];
        match self
            .store
            .messages
            .create_conversation(&record, &members, Some((&user.id, &peer_user.id)))
            .await
        {
            Ok(()) => Ok((self.conversation(user, &record.id).await?, true)),
            Err(StoreError::Conflict) => {
                let id = self
                    .store
                    .messages
                    .direct_conversation(&user.id, &peer_user.id)
                    .await?
                    .ok_or(ServiceError::UserNotFound)?;
                Ok((self.conversation(user, &id).await?, false))
            }
            Err(e) => Err(ServiceError::from(e)),
        }
    }

    fn group_name(name: &str) -> ServiceResult<String> {
        let name = dialtone_core::text::one_line(name);
        if name.is_empty() || name.chars().count() > MAX_GROUP_NAME_CHARS {
            return Err(ServiceError::InvalidInput(format!(
                "a group name has 1 to {MAX_GROUP_NAME_CHARS} characters"
            )));
        }
        Ok(name)
    }

    /// Creates a group with the caller as admin. Numbers that are not registered, or whose
    /// owners may not be reached by the caller, are left out alike.
    pub async fn create_group(
        &self,
        user: &UserRecord,
        name: &str,
        phones: &[PhoneNumber],
    ) -> ServiceResult<ConversationView> {
        let name = Self::group_name(name)?;
        if phones.len() + 1 > self.limits.max_group_members {
            return Err(ServiceError::InvalidInput(format!(
                "a group has at most {} members",
                self.limits.max_group_members
            )));
        }
        let mut members = vec![(user.id.clone(), Role::Admin)];
        for u in self.reachable(user, phones).await? {
            members.push((u.id, Role::Member));
        }
        let record = ConversationRecord {
            id: new_id().into(),
            kind: ConversationKind::Group,
            name: Some(name),
            last_seq: 0,
            created_at: self.now(),
            members_version: 0,
        };
        self.store
            .messages
            .create_conversation(&record, &members, None)
            .await?;
        self.conversation(user, &record.id).await
    }

    /// One conversation of the caller.
    pub async fn conversation(
        &self,
        user: &UserRecord,
        id: &ConversationId,
    ) -> ServiceResult<ConversationView> {
        let (record, members, me) = self.membership(user, id).await?;
        self.view(user, record, members, &me).await
    }

    /// The caller's conversations, with the last message and unread count; direct ones
    /// with hidden contacts only when the vault is open.
    pub async fn conversations(
        &self,
        user: &UserRecord,
        vault_open: bool,
    ) -> ServiceResult<Vec<ConversationView>> {
        // Hidden contacts, by number hash: no need to open the book or ask who is on it.
        let hidden: HashSet<String> = if vault_open {
            HashSet::new()
        } else {
            self.store
                .contacts
                .list(&user.id)
                .await?
                .into_iter()
                .filter(|c| c.hidden)
                .map(|c| c.phone_mac)
                .collect()
        };
        let mut views = Vec::new();
        for record in self.store.messages.conversations_of(&user.id).await? {
            let (record, members, me) = self.membership(user, &record.id).await?;
            let view = self.view(user, record, members, &me).await?;
            let with_hidden = view.record.kind == ConversationKind::Direct
                && view
                    .members
                    .iter()
                    .any(|p| *p != user.phone && hidden.contains(&self.social.sealer().mac(p)));
            if !with_hidden {
                views.push(view);
            }
        }
        views.sort_by(|a, b| {
            let at = |v: &ConversationView| {
                v.last_message
                    .as_ref()
                    .map(|m| m.record.sent_at)
                    .unwrap_or(v.record.created_at)
            };
            at(b).cmp(&at(a))
        });
        Ok(views)
    }

    /// Adds members to a group (admins only); unreachable numbers are left out alike.
    pub async fn add_members(
        &self,
        user: &UserRecord,
        id: &ConversationId,
        phones: &[PhoneNumber],
    ) -> ServiceResult<ConversationView> {
        let (record, members, me) = self.membership(user, id).await?;
        if record.kind != ConversationKind::Group {
            return Err(ServiceError::NotAGroup);
        }
        if me.role != Role::Admin {
            return Err(ServiceError::NotAdmin);
        }
        let joining: Vec<UserRecord> = self
            .reachable(user, phones)
            .await?
            .into_iter()
            .filter(|u| !members.iter().any(|m| m.user_id == u.id))
            .collect();
        if members.len() + joining.len() > self.limits.max_group_members {
            return Err(ServiceError::InvalidInput(format!(
                "a group has at most {} members",
                self.limits.max_group_members
            )));
        }
        let new: Vec<(UserId, Role)> = joining
            .iter()
            .map(|u| (u.id.clone(), Role::Member))
            .collect();
        let added = self.store.messages.add_members(id, &new, self.now()).await;
        self.members_changed(id);
        added?;
        if !joining.is_empty() {
            let phones = joining.iter().map(|u| u.phone.to_string()).collect();
            self.post_system(user, id, SystemEvent::new(SystemAction::Added, phones))
                .await;
            self.announce_conversation(id, Vec::new()).await;
        }
        self.conversation(user, id).await
    }

    /// Renames a group (admins only).
    pub async fn rename(
        &self,
        user: &UserRecord,
        id: &ConversationId,
        name: &str,
    ) -> ServiceResult<ConversationView> {
        let (record, _, me) = self.membership(user, id).await?;
        if record.kind != ConversationKind::Group {
            return Err(ServiceError::NotAGroup);
        }
        if me.role != Role::Admin {
            return Err(ServiceError::NotAdmin);
        }
        let name = Self::group_name(name)?;
        if record.name.as_deref() != Some(name.as_str()) {
            self.store.messages.rename(id, &name).await?;
            let mut event = SystemEvent::new(SystemAction::Renamed, Vec::new());
            event.name = Some(name);
            self.post_system(user, id, event).await;
            self.announce_conversation(id, Vec::new()).await;
        }
        self.conversation(user, id).await
    }

    /// Removes a member: anyone may leave; only admins remove others.
    pub async fn remove_member(
        &self,
        user: &UserRecord,
        id: &ConversationId,
        phone: &PhoneNumber,
    ) -> ServiceResult<()> {
        let (record, members, me) = self.membership(user, id).await?;
        if record.kind != ConversationKind::Group {
            return Err(ServiceError::NotAGroup);
        }
        let ids: Vec<UserId> = members.iter().map(|m| m.user_id.clone()).collect();
        let users = self.users(&ids).await?;
        let leaving = *phone == user.phone;
        let target = if leaving {
            user.id.clone()
        } else {
            if me.role != Role::Admin {
                return Err(ServiceError::NotAdmin);
            }
            users
                .values()
                .find(|u| u.phone == *phone)
                .map(|u| u.id.clone())
                .ok_or(ServiceError::MemberNotFound)?
        };
        let removed = self.store.messages.remove_member(id, &target).await;
        self.members_changed(id);
        let Some(removed) = removed? else {
            return Err(ServiceError::MemberNotFound);
        };
        let event = if leaving {
            SystemEvent::new(SystemAction::Left, vec![user.phone.to_string()])
        } else {
            SystemEvent::new(SystemAction::Removed, vec![phone.to_string()])
        };
        self.post_system(user, id, event).await;
        // The last admin left: the longest-standing member took over, and says so.
        if let Some(promoted) = removed.promoted.and_then(|p| users.get(&p).cloned()) {
            let event = SystemEvent::new(SystemAction::Admin, vec![promoted.phone.to_string()]);
            self.post_system(&promoted, id, event).await;
        }
        self.announce_conversation(id, vec![target]).await;
        Ok(())
    }
}
