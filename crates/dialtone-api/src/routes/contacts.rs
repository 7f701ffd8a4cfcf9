//! `PUT`/`POST`/`GET /v1/contacts`, `DELETE /v1/contacts/{phone}`,
//! `PUT /v1/contacts/{phone}/hidden`.

use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use dialtone_service::social::{ContactEntry, ContactView, UploadMode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::path_phone;
use super::presence::PresenceBody;
use crate::error::ErrorBody;
use crate::extract::{Auth, JsonBody};
use crate::{ApiError, AppState};

/// Largest address-book request body (the contract's 8 MiB).
pub const CONTACTS_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// The header that opens the vault for one request.
const VAULT_HEADER: &str = "x-vault-token";

/// One entry as uploaded.
#[derive(Deserialize, ToSchema)]
pub struct ContactInput {
    /// The name in my book.
    #[serde(default)]
    pub name: String,
    /// Numbers in any dialable form.
    #[serde(default)]
    pub phones: Vec<String>,
}

/// An address book to upload.
#[derive(Deserialize, ToSchema)]
pub struct ContactsUpload {
    /// At most 50,000 entries per request.
    pub contacts: Vec<ContactInput>,
    /// Region for national forms (default: my account's).
    pub region: Option<String>,
}

/// One entry of my address book.
#[derive(Serialize, ToSchema)]
pub struct Contact {
    /// E.164.
    pub phone: String,
    /// My name for it.
    pub name: String,
    /// Whether it is a dialtone user I may see.
    pub registered: bool,
    /// The user, where visible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Presence, where visible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence: Option<PresenceBody>,
    /// Hidden behind the vault.
    pub hidden: bool,
}

impl From<ContactView> for Contact {
    fn from(v: ContactView) -> Self {
        Self {
            phone: v.phone.to_string(),
            name: v.name,
            registered: v.registered,
            user_id: v.user_id,
            presence: v.presence.map(PresenceBody::from),
            hidden: v.hidden,
        }
    }
}

/// An input that was refused.
#[derive(Serialize, ToSchema)]
pub struct RejectedInput {
    /// As given.
    pub input: String,
    /// Stable reason code.
    pub reason: String,
}

/// My address book after an upload.
#[derive(Serialize, ToSchema)]
pub struct UploadReply {
    /// The whole book.
    pub contacts: Vec<Contact>,
    /// What was refused.
    pub rejected: Vec<RejectedInput>,
}

/// My address book.
#[derive(Serialize, ToSchema)]
pub struct ContactList {
    /// Registered contacts first.
    pub contacts: Vec<Contact>,
}

/// Hide or show a contact.
#[derive(Deserialize, ToSchema)]
pub struct SetHidden {
    /// Hidden contacts are listed only with `X-Vault-Token`.
    pub hidden: bool,
}

/// The contacts routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(replace_contacts, merge_contacts, list_contacts))
        .layer(DefaultBodyLimit::max(CONTACTS_BODY_LIMIT))
        .routes(routes!(delete_contact))
        .routes(routes!(set_hidden))
}

pub(crate) fn vault_open(
    state: &AppState,
    auth: &dialtone_service::Authenticated,
    headers: &HeaderMap,
) -> bool {
    let token = headers.get(VAULT_HEADER).and_then(|v| v.to_str().ok());
    state.social.vault_open(&auth.user, token)
}

async fn upload(
    state: AppState,
    auth: dialtone_service::Authenticated,
    headers: HeaderMap,
    body: ContactsUpload,
    mode: UploadMode,
) -> Result<Json<UploadReply>, ApiError> {
    let entries = body
        .contacts
        .into_iter()
        .map(|c| ContactEntry {
            name: c.name,
            phones: c.phones,
        })
        .collect();
    let open = vault_open(&state, &auth, &headers);
    let result = state
        .social
        .upload_contacts(&auth.user, entries, body.region.as_deref(), mode, open)
        .await?;
    Ok(Json(UploadReply {
        contacts: result.contacts.into_iter().map(Contact::from).collect(),
        rejected: result
            .rejected
            .into_iter()
            .map(|r| RejectedInput {
                input: r.input,
                reason: r.reason.to_owned(),
            })
            .collect(),
    }))
}

/// Replaces my address book.
#[utoipa::path(put, path = "/v1/contacts", tag = "contacts", security(("bearer" = [])),
    request_body = ContactsUpload,
    responses(
        (status = 200, body = UploadReply),
        (status = 413, body = ErrorBody, description = "over 8 MiB or 50,000 entries: upload in parts with POST"),
    ))]
async fn replace_contacts(
    State(state): State<AppState>,
    Auth(auth): Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ContactsUpload>,
) -> Result<Json<UploadReply>, ApiError> {
    upload(state, auth, headers, body, UploadMode::Replace).await
}

/// Merges entries into my address book.
#[utoipa::path(post, path = "/v1/contacts", tag = "contacts", security(("bearer" = [])),
    request_body = ContactsUpload,
    responses((status = 200, body = UploadReply), (status = 413, body = ErrorBody)))]
async fn merge_contacts(
    State(state): State<AppState>,
    Auth(auth): Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ContactsUpload>,
) -> Result<Json<UploadReply>, ApiError> {
    upload(state, auth, headers, body, UploadMode::Merge).await
}

/// My address book; hidden contacts only with `X-Vault-Token`.
#[utoipa::path(get, path = "/v1/contacts", tag = "contacts", security(("bearer" = [])),
    responses((status = 200, body = ContactList)))]
async fn list_contacts(
    State(state): State<AppState>,
    Auth(auth): Auth,
    headers: HeaderMap,
) -> Result<Json<ContactList>, ApiError> {
    let open = vault_open(&state, &auth, &headers);
    let contacts = state.social.contacts(&auth.user, open).await?;
    Ok(Json(ContactList {
        contacts: contacts.into_iter().map(Contact::from).collect(),
    }))
}

/// Removes a number from my address book (a hidden one only with `X-Vault-Token`;
/// without it a hidden number answers 404 as one not in the book).
#[utoipa::path(delete, path = "/v1/contacts/{phone}", tag = "contacts",
    security(("bearer" = [])),
    params(("phone" = String, Path, description = "E.164 number")),
    responses((status = 204), (status = 404, body = ErrorBody, description = "contact_not_found")))]
async fn delete_contact(
    State(state): State<AppState>,
    Auth(auth): Auth,
    headers: HeaderMap,
    Path(phone): Path<String>,
) -> Result<StatusCode, ApiError> {
    let phone = path_phone(&phone)?;
    let open = vault_open(&state, &auth, &headers);
    state
        .social
        .delete_contact(&auth.user, &phone, open)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Hides or shows a contact. Un-hiding needs `X-Vault-Token`: without it a hidden number
/// answers 404 as one not in the book.
#[utoipa::path(put, path = "/v1/contacts/{phone}/hidden", tag = "contacts",
    security(("bearer" = [])),
    params(("phone" = String, Path, description = "E.164 number")),
    request_body = SetHidden,
    responses((status = 204), (status = 404, body = ErrorBody, description = "contact_not_found")))]
async fn set_hidden(
    State(state): State<AppState>,
    Auth(auth): Auth,
    headers: HeaderMap,
    Path(phone): Path<String>,
    JsonBody(body): JsonBody<SetHidden>,
) -> Result<StatusCode, ApiError> {
    let phone = path_phone(&phone)?;
    let open = vault_open(&state, &auth, &headers);
    state
        .social
        .set_contact_hidden(&auth.user, &phone, body.hidden, open)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
