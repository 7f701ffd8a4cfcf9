//! The community's payloads that travel on the live connection as well as over HTTP.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Something in the community that concerns the user: a comment on their item, a reply
/// to their comment, a like. The body of `GET /v1/notifications` entries and of the
/// `notification` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    /// Id.
    pub id: String,
    /// `comment`, `reply` or `like`.
    pub kind: String,
    /// Who did it, E.164.
    pub actor: String,
    /// The item it is about.
    pub item_id: String,
    /// Its kind: `post`, `article`, `album` or `photo`.
    #[serde(default)]
    pub item_kind: String,
    /// A photo's album.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub album_id: Option<String>,
    /// The comment or reply, for those kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<String>,
    /// The comment's text, for those kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// When (RFC 3339).
    pub created_at: String,
    /// Marked read.
    pub read: bool,
}

/// A new item in a space the user follows (a contact's, or their own from another
/// device), for a live feed: the `feed_item` frame. The client fetches it by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FeedItem {
    /// The item's id (`GET /v1/posts/{id}`).
    pub item_id: String,
    /// Its kind (`post`).
    pub kind: String,
    /// Its owner, E.164.
    pub owner: String,
}
