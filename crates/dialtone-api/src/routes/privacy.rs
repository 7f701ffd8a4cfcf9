//! `/v1/privacy`, `/v1/blocklist`, `/v1/allowlist`, `/v1/contact-groups`, `/v1/vault`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dialtone_core::privacy::{Audience, PrivacySettings, Visibility};
use dialtone_service::social::PrivacyUpdate;
use dialtone_store::{ContactGroupRecord, ListKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{path_phone, rfc3339};
use crate::error::ErrorBody;
use crate::extract::{Auth, JsonBody};
use crate::{ApiError, AppState};

/// My privacy settings.
#[derive(Serialize, ToSchema)]
pub struct PrivacyBody {
    /// `everyone` or `allowlist`.
    #[schema(value_type = String)]
    pub visibility: Visibility,
    /// `everyone`, `contacts` or `nobody`.
    #[schema(value_type = String)]
    pub discoverable: Audience,
    /// `everyone`, `contacts` or `nobody`.
    #[schema(value_type = String)]
    pub last_seen: Audience,
}

impl From<PrivacySettings> for PrivacyBody {
    fn from(s: PrivacySettings) -> Self {
        Self {
            visibility: s.visibility,
            discoverable: s.discoverable,
            last_seen: s.last_seen,
        }
    }
}

/// Changes to my privacy settings; absent fields stay.
#[derive(Deserialize, ToSchema)]
pub struct PrivacyPatch {
    /// `everyone` or `allowlist`.
    #[schema(value_type = Option<String>)]
    pub visibility: Option<Visibility>,
    /// `everyone`, `contacts` or `nobody`.
    #[schema(value_type = Option<String>)]
    pub discoverable: Option<Audience>,
    /// `everyone`, `contacts` or `nobody`.
    #[schema(value_type = Option<String>)]
    pub last_seen: Option<Audience>,
}

/// A block or allow list.
#[derive(Serialize, ToSchema)]
pub struct ListBody {
    /// Numbers, E.164.
    pub phones: Vec<String>,
    /// Contact group ids.
    pub groups: Vec<String>,
}

/// A new contact group.
#[derive(Deserialize, ToSchema)]
pub struct NewGroup {
    /// Its name.
    pub name: String,
    /// Numbers in any dialable form.
    #[serde(default)]
    pub phones: Vec<String>,
    /// Region for national forms (default: my account's).
    pub region: Option<String>,
}

/// A contact group.
#[derive(Serialize, ToSchema)]
pub struct GroupBody {
    /// Id, for the block and allow lists.
    pub id: String,
    /// Name.
    pub name: String,
    /// Members, E.164.
    pub phones: Vec<String>,
    /// Creation time.
    pub created_at: String,
}

impl From<ContactGroupRecord> for GroupBody {
    fn from(g: ContactGroupRecord) -> Self {
        Self {
            id: g.id,
            name: g.name,
            phones: g.phones.iter().map(ToString::to_string).collect(),
            created_at: rfc3339(g.created_at),
        }
    }
}

/// My contact groups.
#[derive(Serialize, ToSchema)]
pub struct GroupList {
    /// Oldest first.
    pub groups: Vec<GroupBody>,
}

/// Set or change the vault password.
#[derive(Deserialize, ToSchema)]
pub struct VaultPassword {
    /// The new vault password (separate from the login password).
    pub password: String,
    /// The current vault password, when one is set.
    pub current_password: Option<String>,
}

/// Unlock the vault.
#[derive(Deserialize, ToSchema)]
pub struct VaultUnlock {
    /// The vault password.
    pub password: String,
}

/// An unlocked vault.
#[derive(Serialize, ToSchema)]
pub struct VaultTokenBody {
    /// Send as `X-Vault-Token` to list hidden contacts.
    pub vault_token: String,
    /// When it stops working.
    pub expires_at: String,
}

/// The privacy routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_privacy, patch_privacy))
        .routes(routes!(get_blocklist))
        .routes(routes!(block_phone, unblock_phone))
        .routes(routes!(block_group, unblock_group))
        .routes(routes!(get_allowlist))
        .routes(routes!(allow_phone, disallow_phone))
        .routes(routes!(allow_group, disallow_group))
        .routes(routes!(list_groups, create_group))
        .routes(routes!(set_vault_password))
        .routes(routes!(unlock_vault))
}

/// My privacy settings.
#[utoipa::path(get, path = "/v1/privacy", tag = "privacy", security(("bearer" = [])),
    responses((status = 200, body = PrivacyBody)))]
async fn get_privacy(
    State(state): State<AppState>,
    Auth(auth): Auth,
) -> Result<Json<PrivacyBody>, ApiError> {
    Ok(Json(
        state.social.privacy_settings(&auth.user).await?.into(),
    ))
}

/// Changes my privacy settings; takes effect at once, on live connections too.
#[utoipa::path(patch, path = "/v1/privacy", tag = "privacy", security(("bearer" = [])),
    request_body = PrivacyPatch,
    responses((status = 200, body = PrivacyBody), (status = 400, body = ErrorBody)))]
async fn patch_privacy(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<PrivacyPatch>,
) -> Result<Json<PrivacyBody>, ApiError> {
    let update = PrivacyUpdate {
        visibility: body.visibility,
        discoverable: body.discoverable,
        last_seen: body.last_seen,
    };
    Ok(Json(
        state
            .social
            .update_privacy(&auth.user, update)
            .await?
            .into(),
    ))
}

async fn list_of(
    state: &AppState,
    auth: &dialtone_service::Authenticated,
    list: ListKind,
) -> Result<Json<ListBody>, ApiError> {
    let (phones, groups) = state.social.listed(&auth.user, list).await?;
    Ok(Json(ListBody {
        phones: phones.iter().map(ToString::to_string).collect(),
        groups,
    }))
}

async fn set_phone(
    state: &AppState,
    auth: &dialtone_service::Authenticated,
    list: ListKind,
    phone: &str,
    listed: bool,
) -> Result<StatusCode, ApiError> {
    let phone = path_phone(phone)?;
    state
        .social
        .set_listed_phone(&auth.user, list, &phone, listed)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_group(
    state: &AppState,
    auth: &dialtone_service::Authenticated,
    list: ListKind,
    group: &str,
    listed: bool,
) -> Result<StatusCode, ApiError> {
    state
        .social
        .set_listed_group(&auth.user, list, group, listed)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// My block list.
#[utoipa::path(get, path = "/v1/blocklist", tag = "privacy", security(("bearer" = [])),
    responses((status = 200, body = ListBody)))]
async fn get_blocklist(
    State(state): State<AppState>,
    Auth(auth): Auth,
) -> Result<Json<ListBody>, ApiError> {
    list_of(&state, &auth, ListKind::Block).await
}

/// Blocks a number: it sees me as an unregistered number, everywhere, at once.
#[utoipa::path(put, path = "/v1/blocklist/{phone}", tag = "privacy", security(("bearer" = [])),
    params(("phone" = String, Path)), responses((status = 204), (status = 400, body = ErrorBody)))]
async fn block_phone(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(phone): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_phone(&state, &auth, ListKind::Block, &phone, true).await
}

/// Unblocks a number.
#[utoipa::path(delete, path = "/v1/blocklist/{phone}", tag = "privacy", security(("bearer" = [])),
    params(("phone" = String, Path)), responses((status = 204), (status = 400, body = ErrorBody)))]
async fn unblock_phone(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(phone): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_phone(&state, &auth, ListKind::Block, &phone, false).await
}

/// Blocks every number of one of my contact groups.
#[utoipa::path(put, path = "/v1/blocklist/groups/{id}", tag = "privacy", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody, description = "group_not_found")))]
async fn block_group(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_group(&state, &auth, ListKind::Block, &id, true).await
}

/// Takes a group off the block list.
#[utoipa::path(delete, path = "/v1/blocklist/groups/{id}", tag = "privacy", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
async fn unblock_group(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_group(&state, &auth, ListKind::Block, &id, false).await
}

/// My allow list (used when visibility is `allowlist`).
#[utoipa::path(get, path = "/v1/allowlist", tag = "privacy", security(("bearer" = [])),
    responses((status = 200, body = ListBody)))]
async fn get_allowlist(
    State(state): State<AppState>,
    Auth(auth): Auth,
) -> Result<Json<ListBody>, ApiError> {
    list_of(&state, &auth, ListKind::Allow).await
}

/// Allows a number.
#[utoipa::path(put, path = "/v1/allowlist/{phone}", tag = "privacy", security(("bearer" = [])),
    params(("phone" = String, Path)), responses((status = 204), (status = 400, body = ErrorBody)))]
async fn allow_phone(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(phone): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_phone(&state, &auth, ListKind::Allow, &phone, true).await
}

/// Takes a number off the allow list.
#[utoipa::path(delete, path = "/v1/allowlist/{phone}", tag = "privacy", security(("bearer" = [])),
    params(("phone" = String, Path)), responses((status = 204), (status = 400, body = ErrorBody)))]
async fn disallow_phone(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(phone): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_phone(&state, &auth, ListKind::Allow, &phone, false).await
}

/// Allows every number of one of my contact groups.
#[utoipa::path(put, path = "/v1/allowlist/groups/{id}", tag = "privacy", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
async fn allow_group(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_group(&state, &auth, ListKind::Allow, &id, true).await
}

/// Takes a group off the allow list.
#[utoipa::path(delete, path = "/v1/allowlist/groups/{id}", tag = "privacy", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
async fn disallow_group(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_group(&state, &auth, ListKind::Allow, &id, false).await
}

/// My contact groups.
#[utoipa::path(get, path = "/v1/contact-groups", tag = "privacy", security(("bearer" = [])),
    responses((status = 200, body = GroupList)))]
async fn list_groups(
    State(state): State<AppState>,
    Auth(auth): Auth,
) -> Result<Json<GroupList>, ApiError> {
    let groups = state.social.groups(&auth.user).await?;
    Ok(Json(GroupList {
        groups: groups.into_iter().map(GroupBody::from).collect(),
    }))
}

/// Creates a contact group, usable in the block and allow lists.
#[utoipa::path(post, path = "/v1/contact-groups", tag = "privacy", security(("bearer" = [])),
    request_body = NewGroup,
    responses((status = 201, body = GroupBody), (status = 400, body = ErrorBody)))]
async fn create_group(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<NewGroup>,
) -> Result<(StatusCode, Json<GroupBody>), ApiError> {
    let group = state
        .social
        .create_group(&auth.user, &body.name, &body.phones, body.region.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(group.into())))
}

/// Sets or changes the vault password.
#[utoipa::path(put, path = "/v1/vault/password", tag = "privacy", security(("bearer" = [])),
    request_body = VaultPassword,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn set_vault_password(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<VaultPassword>,
) -> Result<StatusCode, ApiError> {
    state
        .social
        .set_vault_password(&auth.user, &body.password, body.current_password.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unlocks the vault for ten minutes.
#[utoipa::path(post, path = "/v1/vault/unlock", tag = "privacy", security(("bearer" = [])),
    request_body = VaultUnlock,
    responses((status = 200, body = VaultTokenBody), (status = 403, body = ErrorBody, description = "wrong_password")))]
async fn unlock_vault(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<VaultUnlock>,
) -> Result<Json<VaultTokenBody>, ApiError> {
    let unlocked = state
        .social
        .unlock_vault(&auth.user, &body.password)
        .await?;
    Ok(Json(VaultTokenBody {
        vault_token: unlocked.token,
        expires_at: rfc3339(unlocked.expires_at),
    }))
}
