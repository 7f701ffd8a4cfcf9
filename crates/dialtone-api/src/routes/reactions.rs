//! Comments, likes and notifications: `/v1/items/{id}/comments`, `/v1/comments/{id}`,
//! `/v1/items/{id}/like`, `/v1/notifications`. An item the caller may not see answers 404
//! `item_not_found`, as one that does not exist.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use dialtone_protocol::Notification;
use dialtone_service::community::CommentView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::community::{PageQuery, cursor_text};
use super::rfc3339;
use crate::error::{ErrorBody, ErrorCode};
use crate::extract::{Auth, JsonBody};
use crate::{ApiError, AppState};

/// The routes of comments, likes and notifications.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_comment))
        .routes(routes!(delete_comment))
        .routes(routes!(like, unlike))
        .routes(routes!(notifications))
        .routes(routes!(mark_read))
}

/// The comment a reply answers.
#[derive(Serialize, ToSchema)]
pub struct ReplyToBody {
    /// Its id.
    pub id: String,
    /// Its author, E.164.
    pub author: String,
}

/// A comment.
#[derive(Serialize, ToSchema)]
pub struct CommentBody {
    /// Id.
    pub id: String,
    /// The item.
    pub item_id: String,
    /// Its author, E.164.
    pub author: String,
    /// Text.
    pub text: String,
    /// The comment it answers, where the caller may see that one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyToBody>,
    /// When written.
    pub created_at: String,
}

pub(crate) fn comment_body(v: CommentView) -> CommentBody {
    let c = v.comment;
    CommentBody {
        reply_to: c
            .reply_to
            .zip(v.reply_to_author)
            .map(|(id, author)| ReplyToBody {
                id,
                author: author.to_string(),
            }),
        author: v.author.to_string(),
        text: c.text,
        created_at: rfc3339(c.created_at),
        item_id: c.item_id,
        id: c.id,
    }
}

/// A new comment.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// 1 to 1,000 characters.
    pub text: String,
    /// A comment on the same item that this one answers.
    pub reply_to: Option<String>,
}

/// Comments on an item I may see (or answers a comment on it). Its owner, and the author
/// of the comment answered, get a `notification`.
#[utoipa::path(post, path = "/v1/items/{id}/comments", tag = "community", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewComment,
    responses((status = 201, body = CommentBody), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "item_not_found, comment_not_found")))]
async fn add_comment(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewComment>,
) -> Result<(StatusCode, Json<CommentBody>), ApiError> {
    let view = state
        .community
        .add_comment(&auth.user, &id, &body.text, body.reply_to.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(comment_body(view))))
}

/// Deletes a comment: my own, or any on my items.
#[utoipa::path(delete, path = "/v1/comments/{id}", tag = "community", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody, description = "not_yours"),
        (status = 404, body = ErrorBody)))]
async fn delete_comment(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.community.delete_comment(&auth.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Likes an item I may see (again: no change). Its owner gets a `notification`.
#[utoipa::path(put, path = "/v1/items/{id}/like", tag = "community", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn like(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.community.like(&auth.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes my like back.
#[utoipa::path(delete, path = "/v1/items/{id}/like", tag = "community", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn unlike(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.community.unlike(&auth.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of notifications.
#[derive(Serialize, ToSchema)]
pub struct NotificationPage {
    /// Newest first.
    pub notifications: Vec<Notification>,
    /// Unread ones in all (counted up to 1,000).
    pub unread: usize,
    /// Give it as `cursor` for the next page; absent at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// My notifications: comments, replies and likes of people I may see, on items I may see.
#[utoipa::path(get, path = "/v1/notifications", tag = "community", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = NotificationPage), (status = 400, body = ErrorBody)))]
async fn notifications(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Query(q): Query<PageQuery>,
) -> Result<Json<NotificationPage>, ApiError> {
    let before = super::community::parse_cursor(q.cursor.as_deref())?;
    let (list, next, unread) = state
        .community
        .notifications(&auth.user, before, q.limit.unwrap_or(50))
        .await?;
    Ok(Json(NotificationPage {
        notifications: list.iter().map(|n| n.to_protocol(rfc3339)).collect(),
        unread,
        next_cursor: next.as_ref().map(cursor_text),
    }))
}

/// Which notifications to mark read.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadNotifications {
    /// These ids; absent: all of mine.
    pub ids: Option<Vec<String>>,
}

/// Marks notifications read.
#[utoipa::path(post, path = "/v1/notifications/read", tag = "community", security(("bearer" = [])),
    request_body = ReadNotifications,
    responses((status = 204), (status = 400, body = ErrorBody)))]
async fn mark_read(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<ReadNotifications>,
) -> Result<StatusCode, ApiError> {
    if body.ids.as_ref().is_some_and(|ids| ids.len() > 1_000) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidInput,
            "at most 1000 ids at once",
        ));
    }
    state
        .community
        .mark_read(&auth.user, body.ids.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
