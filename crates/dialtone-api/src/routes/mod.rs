//! The routes, one module per section of the contract. Each handler carries its
//! `#[utoipa::path]`, from which the OpenAPI document is generated.

pub mod account;
pub mod attachments;
pub mod blog;
pub mod calls;
pub mod community;
pub mod contacts;
pub mod conversations;
pub mod health;
pub mod import;
pub mod phones;
pub mod presence;
pub mod privacy;
pub mod push;
pub mod reactions;
pub mod search;
pub mod sessions;
pub mod stickers;
pub mod verifications;
pub mod ws;
mod ws_delivery;

use chrono::{DateTime, SecondsFormat, Utc};
use dialtone_core::PhoneNumber;

use crate::ApiError;
use crate::error::ErrorCode;

/// A phone number from a path: E.164, its `+` percent-encoded or not.
pub fn path_phone(raw: &str) -> Result<PhoneNumber, ApiError> {
    PhoneNumber::parse_e164(raw).map_err(|e| {
        ApiError::bad_request(
            ErrorCode::InvalidPhone,
            format!("{raw:?} is not an E.164 number: {e}"),
        )
    })
}

/// Times in responses: RFC 3339, UTC, millisecond precision.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
