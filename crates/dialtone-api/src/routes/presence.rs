//! `PUT /v1/presence`, `GET /v1/users/{phone}/presence`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dialtone_core::presence::{PresenceSetting, PresenceState};
use dialtone_service::social::PresenceView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{path_phone, rfc3339};
use crate::error::ErrorBody;
use crate::extract::{Auth, JsonBody};
use crate::{ApiError, AppState};

/// Set my presence.
#[derive(Deserialize, ToSchema)]
pub struct SetPresence {
    /// `available`, `away`, `busy` or `invisible` (shown as offline to everyone else).
    #[schema(value_type = String, example = "available")]
    pub state: PresenceSetting,
    /// Status text (at most 140 characters).
    pub text: Option<String>,
}

/// A user's presence as the caller may see it.
#[derive(Serialize, ToSchema)]
pub struct PresenceBody {
    /// `available`, `away`, `busy` or `offline`.
    #[schema(value_type = String, example = "offline")]
    pub state: PresenceState,
    /// Status text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// When last online (RFC 3339), where the caller may see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<String>,
}

impl From<PresenceView> for PresenceBody {
    fn from(v: PresenceView) -> Self {
        Self {
            state: v.state,
            text: v.text,
            last_seen_at: v.last_seen_at.map(rfc3339),
        }
    }
}

/// The presence routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_presence))
        .routes(routes!(user_presence))
}

/// Sets my presence and status text; those who may see me hear of it at once.
#[utoipa::path(put, path = "/v1/presence", tag = "presence", security(("bearer" = [])),
    request_body = SetPresence,
    responses((status = 204), (status = 400, body = ErrorBody)))]
async fn set_presence(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<SetPresence>,
) -> Result<StatusCode, ApiError> {
    state
        .social
        .set_presence(&auth.user, body.state, body.text.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's presence: `offline` with nothing else for an unregistered number and for a
/// user the caller may not see (200 either way).
#[utoipa::path(get, path = "/v1/users/{phone}/presence", tag = "presence",
    security(("bearer" = [])),
    params(("phone" = String, Path, description = "E.164 number")),
    responses((status = 200, body = PresenceBody), (status = 400, body = ErrorBody)))]
async fn user_presence(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(phone): Path<String>,
) -> Result<Json<PresenceBody>, ApiError> {
    let phone = path_phone(&phone)?;
    let view = state.social.presence_of(&auth.user, &phone).await?;
    Ok(Json(view.into()))
}
