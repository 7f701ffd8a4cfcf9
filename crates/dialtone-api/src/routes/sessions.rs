//! `POST /v1/sessions` (login with password) and `DELETE /v1/sessions/current` (logout).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorBody;
use crate::extract::{Auth, ClientIp, JsonBody};
use crate::{ApiError, AppState};

/// Log in with number and password.
#[derive(Deserialize, ToSchema)]
pub struct Login {
    /// Any dialable form; national forms are read in `region`.
    pub phone: String,
    /// ISO region for national forms.
    pub region: Option<String>,
    /// The account password.
    pub password: String,
    /// Name for the new device.
    pub device_name: Option<String>,
}

/// A new session.
#[derive(Serialize, ToSchema)]
pub struct Session {
    /// Bearer token of the new device.
    pub token: String,
    /// The user.
    pub user_id: String,
    /// The number, E.164.
    pub phone: String,
}

/// The session routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
}

/// Logs in a new device with number and password.
#[utoipa::path(post, path = "/v1/sessions", tag = "accounts",
    request_body = Login,
    responses(
        (status = 200, body = Session),
        (status = 400, body = ErrorBody, description = "invalid_phone"),
        (status = 401, body = ErrorBody, description = "invalid_credentials"),
        (status = 429, body = ErrorBody, description = "rate_limited: too many failed logins"),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<Login>,
) -> Result<Json<Session>, ApiError> {
    let phone = state
        .accounts
        .parse_phone(&body.phone, body.region.as_deref())?;
    let done = state
        .accounts
        .login(&phone, &body.password, body.device_name.as_deref(), &ip)
        .await?;
    Ok(Json(Session {
        token: done.token,
        user_id: done.user.id.into(),
        phone: done.user.phone.to_string(),
    }))
}

/// Logs out the asking device.
#[utoipa::path(delete, path = "/v1/sessions/current", tag = "accounts",
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(State(state): State<AppState>, Auth(auth): Auth) -> Result<StatusCode, ApiError> {
    state.accounts.logout(&auth).await?;
    Ok(StatusCode::NO_CONTENT)
}
