//! Sending, history, acknowledgements, read marks, typing; and what the live fan-out
//! needs to know about each.

use dialtone_bus::Event;
use dialtone_core::privacy::Flow;
use dialtone_core::{ConversationId, MessageKind, PhoneNumber, UserId};
use dialtone_store::{MessageRecord, UserRecord};

use super::receipts::Moved;
use super::{MessagingService, message_view};
use crate::crypto::new_id;
use crate::{ServiceError, ServiceResult};

/// Longest client id.
const MAX_CLIENT_ID_CHARS: usize = 64;

/// A message as recipients see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    /// The stored message.
    pub record: MessageRecord,
    /// The sender's number.
    pub sender: PhoneNumber,
}

/// A message to send.
#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    /// The sender's idempotency key: the same key again returns the first message.
    pub client_id: String,
    /// `text`, `sticker`, `image`, `voice`, `video` or `file`, as the client wrote it
    /// (read by [`MessagingService::send`]: an unknown kind is `InvalidInput`).
    pub kind: String,
    /// The text.
    pub text: Option<String>,
    /// An uploaded attachment.
    pub attachment_id: Option<String>,
    /// The message replied to.
    pub reply_to: Option<String>,
}

impl MessagingService {
    /// Checks a message a client wrote; its kind, read.
    fn check(&self, message: &OutgoingMessage) -> ServiceResult<MessageKind> {
        let id_len = message.client_id.chars().count();
        if id_len == 0 || id_len > MAX_CLIENT_ID_CHARS {
            return Err(ServiceError::InvalidInput(format!(
                "client_id has 1 to {MAX_CLIENT_ID_CHARS} characters"
            )));
        }
        // `system` is the server's own: to a client it is as unknown as any other word.
        let unknown =
            || ServiceError::InvalidInput(format!("unknown message kind {:?}", message.kind));
        let kind = message.kind.parse::<MessageKind>().map_err(|_| unknown())?;
        match kind {
            MessageKind::Text => {
                let text = message.text.as_deref().unwrap_or("");
                if text.trim().is_empty() {
                    return Err(ServiceError::InvalidInput(
                        "a text message needs a non-empty text".into(),
                    ));
                }
                if text.len() > self.limits.max_text_bytes {
                    return Err(ServiceError::TextTooLong(self.limits.max_text_bytes));
                }
                if message.attachment_id.is_some() {
                    return Err(ServiceError::InvalidInput(
                        "a text message has no attachment".into(),
                    ));
                }
            }
            MessageKind::Image | MessageKind::Voice | MessageKind::Video | MessageKind::File => {}
            MessageKind::Sticker => {
                let hosted = message.text.as_deref().and_then(crate::stickers::find);
                if hosted.is_none() || message.attachment_id.is_some() {
                    return Err(ServiceError::InvalidInput(
                        "a sticker message names a hosted sticker as pack/sticker in text".into(),
                    ));
                }
            }
            MessageKind::System | MessageKind::Call => return Err(unknown()),
        }
        Ok(kind)
    }

    /// A message with a file must carry one of the sender's own uploads, of a type that
    /// fits its kind.
    async fn check_attachment(
        &self,
        user: &UserRecord,
        kind: MessageKind,
        message: &OutgoingMessage,
    ) -> ServiceResult<()> {
        let needs = match kind {
            MessageKind::Image => Some("image/"),
            MessageKind::Voice => Some("audio/"),
            MessageKind::Video => Some("video/"),
            MessageKind::File => Some(""),
            MessageKind::Text | MessageKind::Sticker | MessageKind::System | MessageKind::Call => {
                None
            }
        };
        let Some(prefix) = needs else {
            return Ok(());
        };
        let id = message
            .attachment_id
            .as_deref()
            .ok_or(ServiceError::AttachmentNotFound)?;
        let attachment = self
            .store
            .attachments
            .get(id)
            .await?
            .filter(|a| user.id == a.owner_id)
            .ok_or(ServiceError::AttachmentNotFound)?;
        if !attachment.content_type.starts_with(prefix) {
            return Err(ServiceError::WrongKind(format!(
                "a {} message needs a {}* attachment, not {}",
                kind, prefix, attachment.content_type
            )));
        }
        Ok(())
    }

    /// A reply must quote a message of the same conversation that the sender has (one
    /// withheld from them is as unknown as one that does not exist).
    async fn check_reply(
        &self,
        user: &UserRecord,
        conversation_id: &ConversationId,
        reply_to: &str,
    ) -> ServiceResult<()> {
        let unknown =
            || ServiceError::InvalidInput("reply_to names no message of this conversation".into());
        if reply_to.chars().count() > MAX_CLIENT_ID_CHARS {
            return Err(unknown());
        }
        let quoted = self
            .store
            .messages
            .message_by_id(conversation_id, reply_to)
            .await?
            .ok_or_else(unknown)?;
        if self
            .store
            .messages
            .withheld_from(&quoted.id)
            .await?
            .contains(&user.id)
        {
            return Err(unknown());
        }
        Ok(())
    }

    /// Sends a message: stored with the next seq before this returns (a crash after it
    /// loses nothing), then announced. `true` when new; a retried `client_id` returns the
    /// first message and `false`. Members who may not be reached by the sender never get
    /// it, and the sender cannot tell.
    pub async fn send(
        &self,
        user: &UserRecord,
        conversation_id: &ConversationId,
        mut message: OutgoingMessage,
    ) -> ServiceResult<(MessageView, bool)> {
        message.text = message.text.map(|t| dialtone_core::text::multi_line(&t));
        let roster = self.roster(user, conversation_id).await?;
        let kind = self.check(&message)?;
        self.check_attachment(user, kind, &message).await?;
        if let Some(reply) = &message.reply_to {
            self.check_reply(user, conversation_id, reply).await?;
        }
        let record = MessageRecord {
            id: new_id(),
            conversation_id: conversation_id.clone(),
            seq: 0,
            sender_id: user.id.clone(),
            client_id: message.client_id,
            kind,
            text: message.text,
            attachment_id: message.attachment_id,
            reply_to: message.reply_to,
            sent_at: self.now(),
            edited_at: None,
            deleted: false,
        };
        self.append_and_announce(user, &roster, record).await
    }

    /// Appends a message from `sender` (on disk when this returns) and announces it to
    /// the members it may reach; the others have it withheld, on every path.
    pub(crate) async fn append_and_announce(
        &self,
        sender: &UserRecord,
        roster: &super::Roster,
        record: MessageRecord,
    ) -> ServiceResult<(MessageView, bool)> {
        let views = self
            .social
            .audience(sender, &roster.members, Flow::Message, true)
            .await?;
        let withheld: Vec<UserId> = roster
            .members
            .iter()
            .filter(|r| r.id != sender.id && !views.get(&r.id).is_some_and(|v| v.visible))
            .map(|r| r.id.clone())
            .collect();
        let conversation_id = record.conversation_id.clone();
        let (stored, created) = self.commits.write((record, withheld.clone())).await?;
        let view = message_view(stored, sender);
        // A retry's first copy was announced already.
        if created {
            self.queued_for_search();
            let to: Vec<UserId> = roster
                .members
                .iter()
                .map(|m| m.id.clone())
                .filter(|id| !withheld.contains(id))
                .collect();
            crate::fault::after_commit(&view.record.client_id);
            let message = std::sync::Arc::new(super::message_of(&view));
            if let Some(notify) = self.notify.get() {
                notify.message_created(sender, message.clone(), &to);
            }
            self.announce(Event::MessageCreated {
                conversation_id,
                seq: view.record.seq,
                to,
                withheld,
                message,
            })
            .await;
        }
        Ok((view, created))
    }

    /// Edits the text of one's own text message within the edit window; everyone who has
    /// it sees the change live.
    pub async fn edit(
        &self,
        user: &UserRecord,
        conversation_id: &ConversationId,
        message_id: &str,
        text: &str,
    ) -> ServiceResult<MessageView> {
        let text = &dialtone_core::text::multi_line(text);
        let record = self.own_message(user, conversation_id, message_id).await?;
        if record.kind != MessageKind::Text {
            return Err(ServiceError::InvalidInput(
                "only text messages can be edited".into(),
            ));
        }
        if text.trim().is_empty() {
            return Err(ServiceError::InvalidInput("the text is empty".into()));
        }
        if text.len() > self.limits.max_text_bytes {
            return Err(ServiceError::TextTooLong(self.limits.max_text_bytes));
        }
        self.within(&record, self.limits.edit_window_secs)?;
        if !self
            .store
            .messages
            .edit(message_id, text, self.now())
            .await?
        {
            return Err(ServiceError::MessageNotFound);
        }
        self.queued_for_search();
        self.changed(user, conversation_id, message_id).await
    }

    /// Deletes one's own message for everyone within the delete window.
    pub async fn delete(
        &self,
        user: &UserRecord,
        conversation_id: &ConversationId,
        message_id: &str,
    ) -> ServiceResult<MessageView> {
        let record = self.own_message(user, conversation_id, message_id).await?;
        self.within(&record, self.limits.delete_window_secs)?;
        if !self.store.messages.delete_for_everyone(message_id).await? {
            return Err(ServiceError::MessageNotFound);
        }
        self.queued_for_search();
        self.changed(user, conversation_id, message_id).await
    }

    async fn own_message(
        &self,
        user: &UserRecord,
        conversation_id: &ConversationId,
        message_id: &str,
    ) -> ServiceResult<MessageRecord> {
        self.membership(user, conversation_id).await?;
        let record = self
            .store
            .messages
            .message_by_id(conversation_id, message_id)
            .await?
            // A system line or a call's record belongs to the conversation, not to whoever
            // caused it.
            .filter(|m| !m.deleted && !matches!(m.kind, MessageKind::System | MessageKind::Call))
            .ok_or(ServiceError::MessageNotFound)?;
        if record.sender_id != user.id {
            return Err(ServiceError::NotYourMessage);
        }
        Ok(record)
    }

    fn within(&self, record: &MessageRecord, window_secs: u64) -> ServiceResult<()> {
        let window =
            chrono::Duration::seconds(i64::try_from(window_secs).unwrap_or(i64::MAX / 1000));
        if self.now() - record.sent_at > window {
            return Err(ServiceError::TooLate);
        }
        Ok(())
    }

    async fn changed(
        &self,
        user: &UserRecord,
        conversation_id: &ConversationId,
        message_id: &str,
    ) -> ServiceResult<MessageView> {
        let record = self
            .store
            .messages
            .message_by_id(conversation_id, message_id)
            .await?
            .ok_or(ServiceError::MessageNotFound)?;
        let withheld = self.store.messages.withheld_from(&record.id).await?;
        let mut to = self.member_ids(conversation_id).await?;
        to.retain(|id| !withheld.contains(id));
        let view = message_view(record, user);
        self.announce(Event::MessageChanged {
            conversation_id: conversation_id.clone(),
            to,
            message: std::sync::Arc::new(super::message_of(&view)),
        })
        .await;
        Ok(view)
    }

    /// A page of history the caller may see, in seq order.
    pub async fn history(
        &self,
        user: &UserRecord,
        conversation_id: &ConversationId,
        after: Option<u64>,
        before: Option<u64>,
        limit: Option<u32>,
    ) -> ServiceResult<Vec<MessageView>> {
        if limit == Some(0) {
            return Err(ServiceError::InvalidInput(format!(
                "limit is 1 to {} (an empty page is never asked for)",
                self.limits.max_page
            )));
        }
        self.member_of(user, conversation_id).await?;
        let limit = limit.unwrap_or(50).clamp(1, self.limits.max_page);
        let records = self
            .store
            .messages
            .messages(conversation_id, &user.id, after, before, limit)
            .await?;
        self.with_senders(records).await
    }

    /// Messages with their senders' numbers (former members too), looked up once each.
    pub(super) async fn with_senders(
        &self,
        records: Vec<MessageRecord>,
    ) -> ServiceResult<Vec<MessageView>> {
        let mut ids: Vec<UserId> = records.iter().map(|r| r.sender_id.clone()).collect();
        ids.sort_unstable();
        ids.dedup();
        let users = self.users(&ids).await?;
        Ok(records
            .into_iter()
            .filter_map(|r| {
                let sender = users.get(&r.sender_id)?.clone();
                Some(message_view(r, &sender))
            })
            .collect())
    }

    /// Marks the conversation read up to `seq`; the senders hear of it.
    pub async fn read(
        &self,
        user: &UserRecord,
        conversation_id: &ConversationId,
        seq: u64,
    ) -> ServiceResult<()> {
        let (conversation, _) = self.member_of(user, conversation_id).await?;
        if seq > conversation.last_seq {
            return Err(ServiceError::InvalidInput(format!(
                "seq {seq} is beyond the last message ({})",
                conversation.last_seq
            )));
        }
        if self
            .store
            .messages
            .advance_mark(conversation_id, &user.id, true, seq)
            .await?
        {
            if let Some(notify) = self.notify.get() {
                notify.read(&user.id, conversation_id, seq);
            }
            self.receipts
                .announce(&[Moved {
                    actor: user.clone(),
                    conversation_id: conversation_id.clone(),
                    kind: conversation.kind,
                    seq,
                    read: true,
                }])
                .await?;
        }
        Ok(())
    }

    /// A device acknowledges messages up to `seq` (cut to the last message): they are
    /// not sent to it again, and the first device of a member to acknowledge makes the
    /// message "delivered". Written with every other ack waiting, in one transaction, and
    /// the receipts of the batch decided together (a busy group's members all ack each
    /// message).
    pub async fn ack(
        &self,
        user: &UserRecord,
        session_id: &str,
        conversation_id: &ConversationId,
        seq: u64,
    ) -> ServiceResult<()> {
        let ack = dialtone_store::DeviceAck {
            session_id: session_id.to_owned(),
            user_id: user.id.clone(),
            conversation_id: conversation_id.clone(),
            seq,
        };
        self.acks
            .write((ack, user.clone()))
            .await?
            .map(|_| ())
            .ok_or(ServiceError::ConversationNotFound)
    }

    /// Tells the other members who may see the caller that they are typing (nothing is
    /// stored).
    pub async fn typing(
        &self,
        user: &UserRecord,
        conversation_id: &ConversationId,
    ) -> ServiceResult<()> {
        self.member_of(user, conversation_id).await?;
        let to = self.audience(conversation_id, user).await?;
        if !to.is_empty() {
            self.announce(Event::Typing {
                conversation_id: conversation_id.clone(),
                phone: user.phone.to_string(),
                to,
            })
            .await;
        }
        Ok(())
    }

    /// The messages of `(after, upto]` the caller may see, oldest first, at most `limit`,
    /// and the seq the read covers (every seq up to it was read: `upto` unless the page is
    /// full): what catch-up and a gap in live delivery read ("not found" for non-members).
    pub async fn range(
        &self,
        user: &UserRecord,
        conversation_id: &ConversationId,
        after: u64,
        upto: u64,
        limit: u32,
    ) -> ServiceResult<(Vec<MessageView>, u64)> {
        self.member_of(user, conversation_id).await?;
        let records = self
            .store
            .messages
            .messages(
                conversation_id,
                &user.id,
                Some(after),
                Some(upto.saturating_add(1)),
                limit.max(1),
            )
            .await?;
        let full = records.len() >= usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
        let covered = match records.last() {
            Some(last) if full => last.seq,
            _ => upto,
        };
        Ok((self.with_senders(records).await?, covered))
    }

    /// Where a device stands in each of the user's conversations (last seq, acked seq):
    /// what catch-up and a recheck start from.
    pub async fn high_water(
        &self,
        user: &UserRecord,
        session_id: &str,
    ) -> ServiceResult<Vec<dialtone_store::HighWater>> {
        Ok(self.store.messages.high_water(&user.id, session_id).await?)
    }

    /// A device's acked seq in one conversation (0 if none, or not a member).
    pub async fn acked(
        &self,
        user: &UserRecord,
        session_id: &str,
        conversation_id: &ConversationId,
    ) -> ServiceResult<u64> {
        Ok(self
            .store
            .messages
            .acked(&user.id, session_id, conversation_id)
            .await?)
    }

    /// Messages a page of reading may send, per read.
    pub fn catch_up_page(&self) -> u32 {
        self.limits.catch_up.max(1)
    }

    /// Who hears about something `actor` does in a conversation (typing): the other
    /// members it may reach, decided from their side, who may also see the actor there
    /// (user ids).
    async fn audience(
        &self,
        conversation_id: &ConversationId,
        actor: &UserRecord,
    ) -> ServiceResult<Vec<UserId>> {
        let mut others = self.member_ids(conversation_id).await?;
        others.retain(|id| *id != actor.id);
        if others.is_empty() {
            return Ok(Vec::new());
        }
        let watchers: Vec<UserRecord> = self.users(&others).await?.into_values().collect();
        let views = self
            .social
            .audience(actor, &watchers, Flow::Signal, true)
            .await?;
        Ok(watchers
            .into_iter()
            .filter(|w| views.get(&w.id).is_some_and(|v| v.visible))
            .map(|w| w.id)
            .collect())
    }
}
