//! A message as the contract shows it.

pub use dialtone_core::MessageKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A message (the contract's `Message`): the body of `POST` and `GET` on
/// `/v1/conversations/{id}/messages`, and the `message` of `message`, `message_updated`
/// and `sent` frames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    /// Id.
    pub id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// Its place, from 1, without gaps.
    pub seq: u64,
    /// The sender's number, E.164.
    pub sender: String,
    /// The sender's idempotency key.
    pub client_id: String,
    /// `text`, `sticker`, `image`, `voice`, `video` or `file`; `system` for a line the
    /// server writes when a group changes (see `system`); `call` for the record of a call
    /// (see `call`).
    #[schema(value_type = String)]
    pub kind: MessageKind,
    /// Text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Attachment id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
    /// Replied-to message id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// When accepted (RFC 3339).
    pub sent_at: String,
    /// When last edited (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    /// Deleted for everyone (text and attachment are gone).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// Kind `system` only: the change of the group it tells of (its sender did it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemEvent>,
    /// Kind `call` only: how the call went (its sender is the caller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<crate::CallSummary>,
}

/// What a `system` message says happened. Its sender is who did it (for `admin`, who
/// became admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SystemEvent {
    /// What happened.
    pub action: SystemAction,
    /// Whom it happened to (E.164): who was added or removed, who left, who became admin.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    /// The group's new name (`renamed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The changes a `system` message tells of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SystemAction {
    /// The sender added `phones`.
    Added,
    /// The sender removed `phones`.
    Removed,
    /// The sender left.
    Left,
    /// The sender renamed the group to `name`.
    Renamed,
    /// `phones` became admin (the last admin left; the longest-standing member took over).
    Admin,
}

impl SystemEvent {
    /// An event of `action` about `phones`.
    pub fn new(action: SystemAction, phones: Vec<String>) -> Self {
        Self {
            action,
            phones,
            name: None,
        }
    }
}
