//! `/v1/conversations`: direct and group conversations, members, messages, read marks.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use dialtone_core::{ConversationId, ConversationKind, PhoneNumber, Region};
use dialtone_protocol::Message;
use dialtone_service::Authenticated;
use dialtone_service::messaging::{ConversationView, OutgoingMessage, message_of};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{path_phone, rfc3339};
use crate::error::ErrorBody;
use crate::error::ErrorCode;
use crate::extract::{Auth, JsonBody};
use crate::{ApiError, AppState};

/// A new conversation.
#[derive(Deserialize, ToSchema)]
pub struct NewConversation {
    /// `direct` or `group`.
    pub kind: String,
    /// The other person (direct), any dialable form.
    pub peer: Option<String>,
    /// The group's name.
    pub name: Option<String>,
    /// The group's first members, any dialable form.
    #[serde(default)]
    pub members: Vec<String>,
    /// Region for national forms (default: my account's).
    pub region: Option<String>,
}

/// A conversation as the caller sees it.
#[derive(Serialize, ToSchema)]
pub struct ConversationBody {
    /// Id.
    pub id: String,
    /// `direct` or `group`.
    #[schema(value_type = String)]
    pub kind: ConversationKind,
    /// A group's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Members' numbers, the caller included.
    pub members: Vec<String>,
    /// Admins' numbers (groups).
    pub admins: Vec<String>,
    /// Creation time.
    pub created_at: String,
    /// The newest message the caller may see.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_message: Option<Message>,
    /// Messages after the caller's read mark.
    pub unread: u64,
    /// The seq of the newest message.
    pub last_seq: u64,
    /// Muted for the caller until this time (no notifications when the app is closed);
    /// absent when not muted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub muted_until: Option<String>,
}

impl From<ConversationView> for ConversationBody {
    fn from(v: ConversationView) -> Self {
        Self {
            id: v.record.id.into(),
            kind: v.record.kind,
            name: v.record.name,
            members: v.members.iter().map(ToString::to_string).collect(),
            admins: v.admins.iter().map(ToString::to_string).collect(),
            created_at: rfc3339(v.record.created_at),
            last_message: v.last_message.map(message_body),
            unread: v.unread,
            last_seq: v.record.last_seq,
            muted_until: None,
        }
    }
}

/// The caller's conversations.
#[derive(Serialize, ToSchema)]
pub struct ConversationList {
    /// Newest activity first.
    pub conversations: Vec<ConversationBody>,
}

/// Numbers to add.
#[derive(Deserialize, ToSchema)]
pub struct AddMembers {
    /// Any dialable form.
    pub phones: Vec<String>,
    /// Region for national forms.
    pub region: Option<String>,
}

/// A message to send.
#[derive(Deserialize, ToSchema)]
pub struct SendMessage {
    /// Idempotency key: the same one again returns the first message (200).
    pub client_id: String,
    /// `text`, `sticker`, `image`, `voice`, `video` or `file`.
    pub kind: String,
    /// Text (at most 64 KiB of UTF-8).
    pub text: Option<String>,
    /// An uploaded attachment.
    pub attachment_id: Option<String>,
    /// The message replied to.
    pub reply_to: Option<String>,
}

/// A page of history.
#[derive(Deserialize, IntoParams)]
pub struct Page {
    /// Messages after this seq (oldest first).
    pub after_seq: Option<u64>,
    /// Messages before this seq (the newest of them).
    pub before_seq: Option<u64>,
    /// Messages around this seq: about half the page before it and half after, it
    /// included if visible (where a search result opens); `after_seq` and `before_seq`
    /// are then ignored.
    pub around_seq: Option<u64>,
    /// At most this many: 1 to 200 (default 50; more is cut to 200; 0 is a 400
    /// `invalid_input`, not an empty page).
    pub limit: Option<u32>,
}

/// Messages in seq order.
#[derive(Serialize, ToSchema)]
pub struct MessageList {
    /// In seq order.
    pub messages: Vec<Message>,
}

/// A new group name.
#[derive(Deserialize, ToSchema)]
pub struct Rename {
    /// 1 to 100 characters.
    pub name: String,
}

/// A new text.
#[derive(Deserialize, ToSchema)]
pub struct EditText {
    /// The new text.
    pub text: String,
}

/// Read up to a seq.
#[derive(Deserialize, ToSchema)]
pub struct ReadMark {
    /// Read up to this seq.
    pub seq: u64,
}

/// The conversation routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_one, rename))
        .routes(routes!(edit_message, delete_message))
        .routes(routes!(add_members))
        .routes(routes!(remove_member))
        .routes(routes!(send, history))
        .routes(routes!(read))
}

fn phones(
    state: &AppState,
    auth: &Authenticated,
    inputs: &[String],
    region: Option<&str>,
) -> Result<Vec<PhoneNumber>, ApiError> {
    let region = match region {
        Some(code) => Region::parse(code).ok_or_else(|| {
            ApiError::bad_request(ErrorCode::InvalidRegion, "unknown region code")
        })?,
        None => Region::parse(&auth.user.region).unwrap_or_else(|| state.accounts.default_region()),
    };
    inputs
        .iter()
        .map(|input| {
            PhoneNumber::parse(input, Some(region)).map_err(|e| {
                ApiError::bad_request(
                    ErrorCode::InvalidPhone,
                    format!("{input:?} is not a phone number: {e}"),
                )
            })
        })
        .collect()
}

/// Starts a conversation. A direct one with the same peer is returned again (200).
#[utoipa::path(post, path = "/v1/conversations", tag = "messages", security(("bearer" = [])),
    request_body = NewConversation,
    responses(
        (status = 201, body = ConversationBody),
        (status = 200, body = ConversationBody, description = "the existing direct conversation"),
        (status = 404, body = ErrorBody, description = "user_not_found: the peer is not a user you may reach"),
    ))]
async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<NewConversation>,
) -> Result<(StatusCode, Json<ConversationBody>), ApiError> {
    let kind = body.kind.parse::<ConversationKind>().map_err(|_| {
        ApiError::bad_request(
            ErrorCode::InvalidInput,
            format!("kind is direct or group, not {:?}", body.kind),
        )
    })?;
    match kind {
        ConversationKind::Direct => {
            let peer = body.peer.ok_or_else(|| {
                ApiError::bad_request(
                    ErrorCode::InvalidInput,
                    "a direct conversation needs a peer",
                )
            })?;
            let peer = phones(&state, &auth, &[peer], body.region.as_deref())?;
            let Some(peer) = peer.first() else {
                return Err(ApiError::bad_request(ErrorCode::InvalidPhone, "no peer"));
            };
            let (view, created) = state.messaging.direct(&auth.user, peer).await?;
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((status, Json(view.into())))
        }
        ConversationKind::Group => {
            let name = body.name.unwrap_or_default();
            let members = phones(&state, &auth, &body.members, body.region.as_deref())?;
            let view = state
                .messaging
                .create_group(&auth.user, &name, &members)
                .await?;
            Ok((StatusCode::CREATED, Json(view.into())))
        }
    }
}

/// My conversations, newest activity first, with the last message and unread count.
#[utoipa::path(get, path = "/v1/conversations", tag = "messages", security(("bearer" = [])),
    responses((status = 200, body = ConversationList)))]
async fn list(
    State(state): State<AppState>,
    Auth(auth): Auth,
    headers: HeaderMap,
) -> Result<Json<ConversationList>, ApiError> {
    let token = headers.get("x-vault-token").and_then(|v| v.to_str().ok());
    let open = state.social.vault_open(&auth.user, token);
    let views = state.messaging.conversations(&auth.user, open).await?;
    let mutes = state.notify.mutes(&auth.user).await?;
    Ok(Json(ConversationList {
        conversations: views
            .into_iter()
            .map(|v| {
                let muted = mutes.get(&v.record.id).copied();
                ConversationBody {
                    muted_until: muted.map(rfc3339),
                    ..ConversationBody::from(v)
                }
            })
            .collect(),
    }))
}

/// One of my conversations.
#[utoipa::path(get, path = "/v1/conversations/{id}", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ConversationBody), (status = 404, body = ErrorBody, description = "conversation_not_found")))]
async fn get_one(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<ConversationId>,
) -> Result<Json<ConversationBody>, ApiError> {
    let view = state.messaging.conversation(&auth.user, &id).await?;
    let muted = state.notify.mutes(&auth.user).await?.get(&id).copied();
    Ok(Json(ConversationBody {
        muted_until: muted.map(rfc3339),
        ..view.into()
    }))
}

/// Adds members to a group (admins only).
#[utoipa::path(post, path = "/v1/conversations/{id}/members", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = AddMembers,
    responses((status = 200, body = ConversationBody), (status = 403, body = ErrorBody, description = "not_admin")))]
async fn add_members(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<ConversationId>,
    JsonBody(body): JsonBody<AddMembers>,
) -> Result<Json<ConversationBody>, ApiError> {
    let members = phones(&state, &auth, &body.phones, body.region.as_deref())?;
    Ok(Json(
        state
            .messaging
            .add_members(&auth.user, &id, &members)
            .await?
            .into(),
    ))
}

/// Removes a member from a group (admins), or leaves it (my own number).
#[utoipa::path(delete, path = "/v1/conversations/{id}/members/{phone}", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path), ("phone" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_member(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path((id, phone)): Path<(ConversationId, String)>,
) -> Result<StatusCode, ApiError> {
    let phone = path_phone(&phone)?;
    state
        .messaging
        .remove_member(&auth.user, &id, &phone)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a message: 201 once it is on disk; the same client_id again returns the first
/// message (200).
#[utoipa::path(post, path = "/v1/conversations/{id}/messages", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = SendMessage,
    responses(
        (status = 201, body = Message),
        (status = 200, body = Message, description = "a retry of the same client_id"),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "conversation_not_found"),
        (status = 413, body = ErrorBody, description = "text_too_long"),
    ))]
async fn send(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<ConversationId>,
    JsonBody(body): JsonBody<SendMessage>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    let outgoing = OutgoingMessage {
        client_id: body.client_id,
        kind: body.kind,
        text: body.text,
        attachment_id: body.attachment_id,
        reply_to: body.reply_to,
    };
    let (message, created) = state.messaging.send(&auth.user, &id, outgoing).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(message_body(message))))
}

/// A page of history in seq order.
#[utoipa::path(get, path = "/v1/conversations/{id}/messages", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path), Page),
    responses(
        (status = 200, body = MessageList),
        (status = 400, body = ErrorBody, description = "invalid_input: limit=0"),
        (status = 404, body = ErrorBody),
    ))]
async fn history(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<ConversationId>,
    Query(page): Query<Page>,
) -> Result<Json<MessageList>, ApiError> {
    let messages = match page.around_seq {
        Some(seq) => {
            state
                .messaging
                .around(&auth.user, &id, seq, page.limit)
                .await?
        }
        None => {
            state
                .messaging
                .history(&auth.user, &id, page.after_seq, page.before_seq, page.limit)
                .await?
        }
    };
    Ok(Json(MessageList {
        messages: messages.into_iter().map(message_body).collect(),
    }))
}

/// Marks the conversation read up to a seq; senders get a `read` receipt.
#[utoipa::path(post, path = "/v1/conversations/{id}/read", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ReadMark,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn read(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<ConversationId>,
    JsonBody(body): JsonBody<ReadMark>,
) -> Result<StatusCode, ApiError> {
    state.messaging.read(&auth.user, &id, body.seq).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Renames a group (admins only).
#[utoipa::path(patch, path = "/v1/conversations/{id}", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = Rename,
    responses((status = 200, body = ConversationBody), (status = 403, body = ErrorBody, description = "not_admin")))]
async fn rename(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<ConversationId>,
    JsonBody(body): JsonBody<Rename>,
) -> Result<Json<ConversationBody>, ApiError> {
    Ok(Json(
        state
            .messaging
            .rename(&auth.user, &id, &body.name)
            .await?
            .into(),
    ))
}

/// Edits my text message within the edit window (15 min by default); seen live.
#[utoipa::path(patch, path = "/v1/conversations/{id}/messages/{message_id}", tag = "messages",
    security(("bearer" = [])),
    params(("id" = String, Path), ("message_id" = String, Path)), request_body = EditText,
    responses(
        (status = 200, body = Message),
        (status = 403, body = ErrorBody, description = "not_your_message"),
        (status = 404, body = ErrorBody, description = "message_not_found"),
        (status = 409, body = ErrorBody, description = "too_late"),
    ))]
async fn edit_message(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path((id, message_id)): Path<(ConversationId, String)>,
    JsonBody(body): JsonBody<EditText>,
) -> Result<Json<Message>, ApiError> {
    let message = state
        .messaging
        .edit(&auth.user, &id, &message_id, &body.text)
        .await?;
    Ok(Json(message_body(message)))
}

/// Deletes my message for everyone within the delete window (2 days by default).
#[utoipa::path(delete, path = "/v1/conversations/{id}/messages/{message_id}", tag = "messages",
    security(("bearer" = [])),
    params(("id" = String, Path), ("message_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_message(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path((id, message_id)): Path<(ConversationId, String)>,
) -> Result<StatusCode, ApiError> {
    state.messaging.delete(&auth.user, &id, &message_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A message as the contract shows it.
pub(crate) fn message_body(view: dialtone_service::messaging::MessageView) -> Message {
    message_of(&view)
}
