//! `GET`/`PATCH /v1/account`, `PUT /v1/account/password`, `GET /v1/devices`,
//! `DELETE /v1/devices/{id}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dialtone_service::AccountUpdate;
use dialtone_store::UserRecord;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::rfc3339;
use crate::error::ErrorBody;
use crate::extract::{Auth, JsonBody};
use crate::{ApiError, AppState};

/// The account as its owner sees it.
#[derive(Serialize, ToSchema)]
pub struct AccountView {
    /// The user.
    pub user_id: String,
    /// The number, E.164.
    pub phone: String,
    /// Region for reading national numbers.
    pub region: String,
    /// Name shown to contacts.
    pub display_name: Option<String>,
    /// Whether a password is set.
    pub password_set: bool,
    /// Whether a code alone is refused for this account.
    pub registration_lock: bool,
}

impl From<UserRecord> for AccountView {
    fn from(u: UserRecord) -> Self {
        Self {
            user_id: u.id.into(),
            phone: u.phone.to_string(),
            region: u.region,
            display_name: u.display_name,
            password_set: u.password_set,
            registration_lock: u.registration_lock,
        }
    }
}

/// Changes to the account; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
pub struct PatchAccount {
    /// New display name; `null` or `""` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    /// New region code.
    pub region: Option<String>,
    /// Turn registration lock on or off (on needs a password).
    pub registration_lock: Option<bool>,
}

/// Tells a field given as `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Set or change the password.
#[derive(Deserialize, ToSchema)]
pub struct SetPassword {
    /// The new password (8 to 128 characters).
    pub password: String,
    /// The current password; not needed within 10 minutes of a code login.
    pub current_password: Option<String>,
}

/// A logged-in device.
#[derive(Serialize, ToSchema)]
pub struct DeviceView {
    /// Device id.
    pub id: String,
    /// Device name.
    pub name: String,
    /// Login time (RFC 3339).
    pub created_at: String,
    /// Last activity (RFC 3339).
    pub last_seen_at: String,
    /// Whether this is the device asking.
    pub current: bool,
}

/// The devices of the account.
#[derive(Serialize, ToSchema)]
pub struct Devices {
    /// Oldest first.
    pub devices: Vec<DeviceView>,
}

/// The account routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_account, patch_account))
        .routes(routes!(set_password))
        .routes(routes!(list_devices))
        .routes(routes!(revoke_device))
}

/// The caller's account.
#[utoipa::path(get, path = "/v1/account", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = AccountView), (status = 401, body = ErrorBody)))]
async fn get_account(Auth(auth): Auth) -> Json<AccountView> {
    Json(auth.user.into())
}

/// Changes display name, region or registration lock.
#[utoipa::path(patch, path = "/v1/account", tag = "accounts", security(("bearer" = [])),
    request_body = PatchAccount,
    responses(
        (status = 200, body = AccountView),
        (status = 400, body = ErrorBody, description = "invalid_region, invalid_input"),
        (status = 409, body = ErrorBody, description = "password_required: registration lock needs a password"),
    ))]
async fn patch_account(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<PatchAccount>,
) -> Result<Json<AccountView>, ApiError> {
    let update = AccountUpdate {
        display_name: body.display_name,
        region: body.region,
        registration_lock: body.registration_lock,
    };
    let user = state.accounts.update_account(&auth, update).await?;
    Ok(Json(user.into()))
}

/// Sets or changes the password; every other device is logged out.
#[utoipa::path(put, path = "/v1/account/password", tag = "accounts", security(("bearer" = [])),
    request_body = SetPassword,
    responses(
        (status = 204),
        (status = 400, body = ErrorBody, description = "weak_password"),
        (status = 403, body = ErrorBody, description = "current_password_required, wrong_password"),
    ))]
async fn set_password(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<SetPassword>,
) -> Result<StatusCode, ApiError> {
    state
        .accounts
        .set_password(&auth, &body.password, body.current_password.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The devices logged in to the account.
#[utoipa::path(get, path = "/v1/devices", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Devices), (status = 401, body = ErrorBody)))]
async fn list_devices(
    State(state): State<AppState>,
    Auth(auth): Auth,
) -> Result<Json<Devices>, ApiError> {
    let devices = state.accounts.devices(&auth).await?;
    Ok(Json(Devices {
        devices: devices
            .into_iter()
            .map(|d| DeviceView {
                id: d.id,
                name: d.name,
                created_at: rfc3339(d.created_at),
                last_seen_at: rfc3339(d.last_seen_at),
                current: d.current,
            })
            .collect(),
    }))
}

/// Logs a device out; its token stops working at once.
#[utoipa::path(delete, path = "/v1/devices/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Device id")),
    responses((status = 204), (status = 404, body = ErrorBody, description = "device_not_found")))]
async fn revoke_device(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.accounts.revoke_device(&auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
