//! The routes, one module per section of the contract. Each handler carries its
//! `#[utoipa::path]`, from which the OpenAPI document is generated.

pub mod account;
pub mod health;
pub mod sessions;
pub mod verifications;

use chrono::{DateTime, SecondsFormat, Utc};

/// Times in responses: RFC 3339, UTC, millisecond precision.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
