//! Conversations, messages, read marks and attachments (`shared/API.md`, "Conversations
//! and messages"). Sending is idempotent by `client_id`, so a caller that lost an answer
//! sends the same [`NewMessage`] again and gets the first message back, not a copy.

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Client, ClientResult, execute, segment};

/// A message as the server stores and sends it (the contract's `Message`), over HTTP and
/// in `message` frames of the live connection alike.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Message {
    /// Id, for `reply_to` and edits.
    pub id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// Its place in the conversation: from 1, one more per message, no gaps; what acks and
    /// read marks count in.
    pub seq: u64,
    /// The sender's number, E.164.
    pub sender: String,
    /// The sender's idempotency key, so a sender recognises its own message coming back.
    pub client_id: String,
    /// `text`, `sticker`, `image`, `voice`, `video`, `file`; a string, because the server
    /// may add kinds.
    pub kind: String,
    /// Text, a caption, or a sticker's `pack/sticker` name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Attachment id, to fetch with [`Client::download_attachment`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
    /// The id of the message replied to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// When the server accepted it (RFC 3339).
    pub sent_at: String,
    /// When last edited (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    /// Deleted for everyone: text and attachment are gone, the seq stays.
    #[serde(default)]
    pub deleted: bool,
    /// Kind `system` (a line the server writes when a group changes): what happened,
    /// `{action: added | removed | left | renamed | admin, phones?, name?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<serde_json::Value>,
}

/// A conversation as the caller sees it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Conversation {
    /// Id.
    pub id: String,
    /// `direct` or `group`.
    pub kind: String,
    /// A group's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Members' numbers (E.164), the caller included.
    pub members: Vec<String>,
    /// Admins' numbers (groups): who may add and remove members.
    #[serde(default)]
    pub admins: Vec<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// The newest message the caller may see, for conversation lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<Message>,
    /// Messages after the caller's read mark.
    #[serde(default)]
    pub unread: u64,
    /// The seq of the newest message.
    #[serde(default)]
    pub last_seq: u64,
}

#[derive(Deserialize)]
struct Conversations {
    conversations: Vec<Conversation>,
}

#[derive(Deserialize)]
struct Messages {
    messages: Vec<Message>,
}

/// The kinds of message a client may send. Image, voice, video and file messages carry an
/// uploaded attachment whose sniffed type fits the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Text only.
    Text,
    /// A hosted sticker, named `pack/sticker` in `text`.
    Sticker,
    /// An `image/*` attachment.
    Image,
    /// An `audio/*` attachment.
    Voice,
    /// A `video/*` attachment.
    Video,
    /// Any attachment.
    File,
}

/// A message to send (`POST /v1/conversations/{id}/messages`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewMessage {
    /// Idempotency key, 1 to 64 characters, chosen by the sender: the same key again
    /// returns the first message.
    pub client_id: String,
    /// Kind.
    pub kind: MessageKind,
    /// Text (at most 64 KiB of UTF-8), caption, or sticker name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// An attachment the sender uploaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<String>,
    /// The id of a message of the same conversation this one answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

impl NewMessage {
    /// A text message.
    pub fn text(client_id: impl Into<String>, text: impl Into<String>) -> NewMessage {
        NewMessage {
            client_id: client_id.into(),
            kind: MessageKind::Text,
            text: Some(text.into()),
            attachment_id: None,
            reply_to: None,
        }
    }

    /// A sticker of a pack the server hosts, named `pack/sticker` (`basic/smile`).
    pub fn sticker(client_id: impl Into<String>, name: impl Into<String>) -> NewMessage {
        NewMessage {
            kind: MessageKind::Sticker,
            ..NewMessage::text(client_id, name)
        }
    }

    /// A message carrying an uploaded attachment ([`Client::upload_attachment`]).
    pub fn attachment(
        client_id: impl Into<String>,
        kind: MessageKind,
        attachment_id: impl Into<String>,
    ) -> NewMessage {
        NewMessage {
            client_id: client_id.into(),
            kind,
            text: None,
            attachment_id: Some(attachment_id.into()),
            reply_to: None,
        }
    }

    /// The same message with a caption (attachment kinds).
    pub fn caption(mut self, text: impl Into<String>) -> NewMessage {
        self.text = Some(text.into());
        self
    }

    /// The same message as a reply to `message_id`.
    pub fn reply_to(mut self, message_id: impl Into<String>) -> NewMessage {
        self.reply_to = Some(message_id.into());
        self
    }
}

/// What an idempotent creation gave: the thing, and whether this call made it (201) or
/// found it already there (200: the same direct conversation, a retried `client_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted<T> {
    /// The conversation or message.
    pub value: T,
    /// True when this call created it.
    pub created: bool,
}

/// Which page of a conversation's history to read. The default is the oldest messages;
/// `before_seq` pages back from the newest, `after_seq` forward from a known seq.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HistoryPage {
    /// Only messages after this seq, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_seq: Option<u64>,
    /// Only messages before this seq, the newest of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_seq: Option<u64>,
    /// At most this many (server default 50, at most 200).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl HistoryPage {
    /// Messages after `seq` (catching up forward).
    pub fn after(seq: u64) -> HistoryPage {
        HistoryPage {
            after_seq: Some(seq),
            ..HistoryPage::default()
        }
    }

    /// Messages before `seq` (scrolling back).
    pub fn before(seq: u64) -> HistoryPage {
        HistoryPage {
            before_seq: Some(seq),
            ..HistoryPage::default()
        }
    }

    /// The same page, at most `limit` messages.
    pub fn limit(mut self, limit: u32) -> HistoryPage {
        self.limit = Some(limit);
        self
    }
}

/// A stored upload (`POST /v1/attachments`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Attachment {
    /// Id, for [`NewMessage::attachment`].
    pub id: String,
    /// Bytes stored (after location metadata was stripped from photos).
    pub size: u64,
    /// Sniffed from the bytes: the name or the given type never decide it.
    pub content_type: String,
    /// SHA-256 of the stored bytes, lowercase hex, to check a download.
    pub sha256: String,
    /// The name given at upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Whether a thumbnail exists ([`Client::download_thumbnail`]).
    #[serde(default)]
    pub thumbnail: bool,
    /// Image width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Image height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

/// Downloaded attachment bytes and the type the server serves them as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// `Content-Type` of the answer.
    pub content_type: Option<String>,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl Client {
    /// Starts (or finds) the direct conversation with `peer`, any dialable form. There is
    /// one per pair, so `created` is false when it already existed.
    pub async fn create_direct(&self, peer: &str) -> ClientResult<Posted<Conversation>> {
        let body = json!({ "kind": "direct", "peer": peer });
        self.posted(self.request(Method::POST, "/v1/conversations").json(&body))
            .await
    }

    /// Creates a group with the caller as its admin and `members` (any dialable form).
    pub async fn create_group<S: AsRef<str>>(
        &self,
        name: &str,
        members: &[S],
    ) -> ClientResult<Conversation> {
        let members: Vec<&str> = members.iter().map(AsRef::as_ref).collect();
        let body = json!({ "kind": "group", "name": name, "members": members });
        self.call(Method::POST, "/v1/conversations", Some(body))
            .await
    }

    /// The caller's conversations, newest activity first, with last message and unread
    /// count (conversations with hidden contacts are left out).
    pub async fn conversations(&self) -> ClientResult<Vec<Conversation>> {
        let list: Conversations = self.call(Method::GET, "/v1/conversations", None).await?;
        Ok(list.conversations)
    }

    /// One conversation of the caller's.
    pub async fn conversation(&self, conversation_id: &str) -> ClientResult<Conversation> {
        let path = format!("/v1/conversations/{}", segment(conversation_id));
        self.call(Method::GET, &path, None).await
    }

    /// Adds members to a group (admins only); the group as it is now.
    pub async fn add_members<S: AsRef<str>>(
        &self,
        conversation_id: &str,
        phones: &[S],
    ) -> ClientResult<Conversation> {
        let phones: Vec<&str> = phones.iter().map(AsRef::as_ref).collect();
        let path = format!("/v1/conversations/{}/members", segment(conversation_id));
        self.call(Method::POST, &path, Some(json!({ "phones": phones })))
            .await
    }

    /// Removes a member from a group (admins), or leaves it (the caller's own number).
    pub async fn remove_member(&self, conversation_id: &str, phone: &str) -> ClientResult<()> {
        let path = format!(
            "/v1/conversations/{}/members/{}",
            segment(conversation_id),
            segment(phone)
        );
        self.call_empty(Method::DELETE, &path, None).await
    }

    /// Sends a message. A 201 means it is on disk; the same `client_id` again gives the
    /// first message with `created` false, so retrying after a lost answer is safe.
    pub async fn send_message(
        &self,
        conversation_id: &str,
        message: &NewMessage,
    ) -> ClientResult<Posted<Message>> {
        let path = format!("/v1/conversations/{}/messages", segment(conversation_id));
        self.posted(self.request(Method::POST, &path).json(message))
            .await
    }

    /// A page of history, in seq order.
    pub async fn history(
        &self,
        conversation_id: &str,
        page: &HistoryPage,
    ) -> ClientResult<Vec<Message>> {
        let path = format!("/v1/conversations/{}/messages", segment(conversation_id));
        let answer = execute(self.request(Method::GET, &path).query(page)).await?;
        let list: Messages = answer.decode()?;
        Ok(list.messages)
    }

    /// Marks the conversation read up to `seq` (for all the caller's devices); senders get
    /// a `read` receipt.
    pub async fn mark_read(&self, conversation_id: &str, seq: u64) -> ClientResult<()> {
        let path = format!("/v1/conversations/{}/read", segment(conversation_id));
        self.call_empty(Method::POST, &path, Some(json!({ "seq": seq })))
            .await
    }

    /// Uploads a file; send it with [`NewMessage::attachment`]. The server sniffs the type
    /// from the bytes; `content_type` is sent as HTTP requires a type, and `filename` is
    /// kept as a hint for whoever downloads it.
    pub async fn upload_attachment(
        &self,
        filename: Option<&str>,
        content_type: &str,
        bytes: impl Into<reqwest::Body>,
    ) -> ClientResult<Attachment> {
        let mut request = self
            .request(Method::POST, "/v1/attachments")
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(bytes);
        if let Some(name) = filename {
            request = request.query(&[("filename", name)]);
        }
        execute(request).await?.decode()
    }

    /// Downloads an attachment: the uploader and members of a conversation carrying it may;
    /// anyone else gets 404 `attachment_not_found`, as for an unknown id.
    pub async fn download_attachment(&self, attachment_id: &str) -> ClientResult<Download> {
        self.download(attachment_id, false).await
    }

    /// Downloads an image attachment's thumbnail (320 px).
    pub async fn download_thumbnail(&self, attachment_id: &str) -> ClientResult<Download> {
        self.download(attachment_id, true).await
    }

    async fn download(&self, attachment_id: &str, thumbnail: bool) -> ClientResult<Download> {
        let path = format!("/v1/attachments/{}", segment(attachment_id));
        let mut request = self.request(Method::GET, &path);
        if thumbnail {
            request = request.query(&[("thumbnail", "true")]);
        }
        let answer = execute(request).await?;
        Ok(Download {
            content_type: answer.content_type,
            bytes: answer.bytes,
        })
    }

    /// An idempotent creation: 201 made it, 200 found it.
    async fn posted<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> ClientResult<Posted<T>> {
        let answer = execute(request).await?;
        let value = answer.decode()?;
        Ok(Posted {
            value,
            created: answer.status == StatusCode::CREATED,
        })
    }
}
