//! Changes of a group (members added, removed or gone, a new admin, a new name) as
//! everyone in it sees them: a `system` line in the conversation, through the same path as
//! any message (a seq, withheld from members who do not accept its author, catch-up,
//! history, every device), and a `conversation` frame with the group's new state to its
//! members (`conversation_removed` to whoever is no longer one, whose chat turns read-only
//! at once).

use dialtone_bus::Event;
use dialtone_core::{ConversationId, Role, UserId};
use dialtone_protocol::{CallSummary, ConversationState, MessageKind, SystemEvent};
use dialtone_store::{MessageRecord, UserRecord};

use super::MessagingService;
use crate::crypto::new_id;
use crate::{ServiceError, ServiceResult};

/// The event a stored message tells of, if it is a system message.
pub fn system_event_of(record: &MessageRecord) -> Option<SystemEvent> {
    if record.kind != MessageKind::System || record.deleted {
        return None;
    }
    record
        .text
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
}

/// How a call went, if the stored message is a call's record.
pub fn call_summary_of(record: &MessageRecord) -> Option<CallSummary> {
    if record.kind != MessageKind::Call || record.deleted {
        return None;
    }
    record
        .text
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
}

impl MessagingService {
    /// Puts the record of a call that is over in its conversation, sent by the caller
    /// (withheld, like any message, from a callee who does not accept the caller). A
    /// failure is logged, not returned: the call is over whatever its record.
    pub(crate) async fn post_call(
        &self,
        caller: &UserRecord,
        conversation_id: &ConversationId,
        summary: &CallSummary,
    ) {
        let posted = async {
            let roster = self.kept_roster(conversation_id).await?;
            let text = serde_json::to_string(summary)
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            let record = MessageRecord {
                id: new_id(),
                conversation_id: conversation_id.clone(),
                seq: 0,
                sender_id: caller.id.clone(),
                client_id: new_id(),
                kind: MessageKind::Call,
                text: Some(text),
                attachment_id: None,
                reply_to: None,
                sent_at: self.now(),
                edited_at: None,
                deleted: false,
            };
            self.append_and_announce(caller, &roster, record).await
        };
        if let Err(e) = posted.await {
            tracing::warn!(error = %e.report(), %conversation_id, "call record not written");
        }
    }

    /// Puts a line telling of `event`, by `actor`, in the conversation. The change it tells
    /// of is already stored: a failure here is logged, not returned (the `conversation`
    /// frame and the conversation's own state still say what happened).
    pub(crate) async fn post_system(
        &self,
        actor: &UserRecord,
        conversation_id: &ConversationId,
        event: SystemEvent,
    ) {
        if let Err(e) = self.try_post_system(actor, conversation_id, &event).await {
            tracing::warn!(error = %e.report(), %conversation_id, ?event, "system line not written");
        }
    }

    async fn try_post_system(
        &self,
        actor: &UserRecord,
        conversation_id: &ConversationId,
        event: &SystemEvent,
    ) -> ServiceResult<()> {
        let roster = self.kept_roster(conversation_id).await?;
        let text =
            serde_json::to_string(event).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let record = MessageRecord {
            id: new_id(),
            conversation_id: conversation_id.clone(),
            seq: 0,
            sender_id: actor.id.clone(),
            client_id: new_id(),
            kind: MessageKind::System,
            text: Some(text),
            attachment_id: None,
            reply_to: None,
            sent_at: self.now(),
            edited_at: None,
            deleted: false,
        };
        self.append_and_announce(actor, &roster, record).await?;
        Ok(())
    }

    /// Tells the members of a conversation its new state, and `removed` (user ids) that
    /// they are no longer in it. Logged, not returned, on failure, as `post_system`.
    pub(crate) async fn announce_conversation(
        &self,
        conversation_id: &ConversationId,
        removed: Vec<UserId>,
    ) {
        match self.conversation_frame(conversation_id).await {
            Ok((to, conversation)) => {
                self.announce(Event::ConversationChanged {
                    conversation_id: conversation_id.clone(),
                    to,
                    removed,
                    conversation: std::sync::Arc::new(conversation),
                })
                .await;
            }
            Err(e) => {
                tracing::warn!(error = %e.report(), %conversation_id, "conversation not announced")
            }
        }
    }

    /// The conversation as all its members see it, and their ids.
    async fn conversation_frame(
        &self,
        conversation_id: &ConversationId,
    ) -> ServiceResult<(Vec<UserId>, ConversationState)> {
        let record = self.conversation_record(conversation_id).await?;
        let members = self.store.messages.members(conversation_id).await?;
        let ids: Vec<UserId> = members.iter().map(|m| m.user_id.clone()).collect();
        let users = self.users(&ids).await?;
        let phone = |id: &str| users.get(id).map(|u| u.phone.to_string());
        let frame = ConversationState {
            id: record.id.into(),
            kind: record.kind,
            name: record.name,
            members: members.iter().filter_map(|m| phone(&m.user_id)).collect(),
            admins: members
                .iter()
                .filter(|m| m.role == Role::Admin)
                .filter_map(|m| phone(&m.user_id))
                .collect(),
            created_at: record
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        };
        Ok((ids, frame))
    }
}
