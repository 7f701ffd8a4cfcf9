//! `POST /v1/phones/format`: numbers as people write them (`+86 138 0013 8000`), grouped by
//! libphonenumber's rules for each country. Clients show numbers this way; the API itself
//! always speaks E.164. Public numbering rules only, so no login is needed (the screen
//! that says where a code was sent is shown before one); the body is bounded.

use std::collections::BTreeMap;

use axum::Json;
use dialtone_core::PhoneNumber;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorBody;
use crate::error::ErrorCode;
use crate::extract::JsonBody;
use crate::{ApiError, AppState};

/// Most numbers one request may ask about (a client asks for its address book in parts).
pub const MAX_PHONES: usize = 1000;

/// Numbers to write out.
#[derive(Deserialize, ToSchema)]
pub struct FormatRequest {
    /// E.164 numbers, at most 1,000.
    #[schema(example = json!(["+8613800138000"]))]
    pub phones: Vec<String>,
}

/// Each number with its written form.
#[derive(Serialize, ToSchema)]
pub struct Formatted {
    /// E.164 → the grouped international form. Entries that are not valid E.164 numbers
    /// are left out.
    #[schema(example = json!({"+8613800138000": "+86 138 0013 8000"}))]
    pub formatted: BTreeMap<String, String>,
}

/// The phone-number routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(format))
}

/// Writes numbers as people read them: the international format, grouped by
/// libphonenumber's rules for the number's country.
#[utoipa::path(post, path = "/v1/phones/format", tag = "contacts",
    request_body = FormatRequest,
    responses((status = 200, body = Formatted), (status = 400, body = ErrorBody)))]
async fn format(JsonBody(body): JsonBody<FormatRequest>) -> Result<Json<Formatted>, ApiError> {
    if body.phones.len() > MAX_PHONES {
        return Err(ApiError::bad_request(
            ErrorCode::TooManyPhones,
            format!("at most {MAX_PHONES} numbers per request"),
        ));
    }
    let formatted = body
        .phones
        .into_iter()
        .filter_map(|raw| {
            let number = PhoneNumber::parse_e164(&raw).ok()?;
            (number.as_str() == raw).then(|| (raw, number.international()))
        })
        .collect();
    Ok(Json(Formatted { formatted }))
}
