//! `POST /v1/verifications`, `/resend` and `/code`: registration and login by SMS code.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::rfc3339;
use crate::error::ErrorBody;
use crate::extract::{ClientIp, JsonBody};
use crate::{ApiError, AppState};

/// Start a verification of a number.
#[derive(Deserialize, ToSchema)]
pub struct StartVerification {
    /// Any dialable form; national forms are read in `region`.
    pub phone: String,
    /// ISO 3166 alpha-2 region for national forms; defaults to the server's.
    pub region: Option<String>,
}

/// A started verification; the same for registered and unregistered numbers.
#[derive(Serialize, ToSchema)]
pub struct Verification {
    /// Id to submit the code to.
    pub id: String,
    /// The number, E.164.
    pub phone: String,
    /// When the code stops working (RFC 3339).
    pub expires_at: String,
    /// Earliest resend (RFC 3339).
    pub resend_after: String,
}

/// A resend was made.
#[derive(Serialize, ToSchema)]
pub struct Resent {
    /// Earliest next resend (RFC 3339).
    pub resend_after: String,
}

/// Submit the code received by SMS.
#[derive(Deserialize, ToSchema)]
pub struct SubmitCode {
    /// The six-digit code.
    pub code: String,
    /// Name for the new device.
    pub device_name: Option<String>,
    /// The account password, needed when registration lock is on.
    pub password: Option<String>,
}

/// Logged in by code.
#[derive(Serialize, ToSchema)]
pub struct CodeLogin {
    /// Bearer token of the new device.
    pub token: String,
    /// The user.
    pub user_id: String,
    /// The number, E.164.
    pub phone: String,
    /// Whether the account was created by this code.
    pub new_account: bool,
    /// Whether the account has a password.
    pub password_set: bool,
}

/// The verification routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(resend))
        .routes(routes!(submit_code))
}

/// Sends a code by SMS to a number.
#[utoipa::path(post, path = "/v1/verifications", tag = "accounts",
    request_body = StartVerification,
    responses(
        (status = 201, body = Verification),
        (status = 400, body = ErrorBody, description = "invalid_phone, invalid_region, phone_cannot_receive_sms"),
        (status = 429, body = ErrorBody, description = "rate_limited, with Retry-After"),
        (status = 502, body = ErrorBody, description = "sms_unavailable: nothing was created"),
    ))]
async fn start(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<StartVerification>,
) -> Result<(StatusCode, Json<Verification>), ApiError> {
    let phone = state
        .accounts
        .parse_phone(&body.phone, body.region.as_deref())?;
    let started = state.accounts.start_verification(&phone, &ip).await?;
    Ok((
        StatusCode::CREATED,
        Json(Verification {
            id: started.id,
            phone: started.phone.to_string(),
            expires_at: rfc3339(started.expires_at),
            resend_after: rfc3339(started.resend_after),
        }),
    ))
}

/// Sends a fresh code, replacing the old one, once `resend_after` has passed.
#[utoipa::path(post, path = "/v1/verifications/{id}/resend", tag = "accounts",
    params(("id" = String, Path, description = "Verification id")),
    responses(
        (status = 200, body = Resent),
        (status = 404, body = ErrorBody, description = "verification_not_found"),
        (status = 410, body = ErrorBody, description = "verification_expired"),
        (status = 429, body = ErrorBody, description = "rate_limited: before resend_after"),
    ))]
async fn resend(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Resent>, ApiError> {
    let resend_after = state.accounts.resend(&id).await?;
    Ok(Json(Resent {
        resend_after: rfc3339(resend_after),
    }))
}

/// Checks the code; the right one logs in, creating the account for a new number.
#[utoipa::path(post, path = "/v1/verifications/{id}/code", tag = "accounts",
    params(("id" = String, Path, description = "Verification id")),
    request_body = SubmitCode,
    responses(
        (status = 200, body = CodeLogin),
        (status = 400, body = ErrorBody, description = "invalid_code"),
        (status = 404, body = ErrorBody, description = "verification_not_found"),
        (status = 410, body = ErrorBody, description = "verification_expired: expired, used or too many wrong codes"),
        (status = 423, body = ErrorBody, description = "registration_locked: the password is needed too"),
    ))]
async fn submit_code(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SubmitCode>,
) -> Result<Json<CodeLogin>, ApiError> {
    let accepted = state
        .accounts
        .submit_code(
            &id,
            &body.code,
            body.device_name.as_deref(),
            body.password.as_deref(),
        )
        .await?;
    let user = accepted.login.user;
    Ok(Json(CodeLogin {
        token: accepted.login.token,
        user_id: user.id.into(),
        phone: user.phone.to_string(),
        new_account: accepted.new_account,
        password_set: user.password_set,
    }))
}
