//! `POST /v1/contacts/import`: reads an address-book file (any format `dialtone-import`
//! reads) and answers with what it found. A preview only: nothing is stored; the client
//! merges what the user keeps with `POST /v1/contacts`.

use std::sync::{Arc, LazyLock};

use axum::Json;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query};
use axum::http::StatusCode;
use bytes::Bytes;
use dialtone_core::Region;
use dialtone_import::{
    ImportError, ImportOptions, ImportReport, ImportedContact, ImportedPhone, Limits, Rejected,
    Stats,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorBody;
use crate::error::ErrorCode;
use crate::extract::Auth;
use crate::{ApiError, AppState};

/// Largest file accepted: the import library's own size limit (64 MiB), so that a body
/// the route takes is never refused again by the parser.
pub const IMPORT_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Parses run on the blocking pool; at most one per CPU at a time, so that a burst of
/// large uploads queues instead of taking every core and the memory of each parse at once.
/// The permit goes with the parse, so a client that hangs up does not free it early.
static PARSES: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    Arc::new(Semaphore::new(
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
    ))
});

/// How to read the file.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The file's name, a hint only (the format is sniffed from the bytes).
    pub filename: Option<String>,
    /// Region for national numbers (ISO 3166 alpha-2); default: the account's region.
    pub region: Option<String>,
    /// A text encoding label (`gbk`, `utf-16le`, `windows-1252`…) that overrides detection.
    pub encoding: Option<String>,
}

/// What the file holds, ready to be merged with `POST /v1/contacts`.
#[derive(Serialize, ToSchema)]
pub struct ImportPreview {
    /// The format read: `csv`, `txt`, `vcard`, `xlsx`, `xls`, `ods`, `ldif`, `wab` or
    /// `windows_contact`.
    pub format: String,
    /// The text encoding used (`UTF-8`, `GBK`, `UTF-16LE`…).
    pub encoding: String,
    /// One entry per person; every number is E.164 and appears once in the preview.
    pub contacts: Vec<PreviewContact>,
    /// Entries without a usable number, with where and why.
    pub rejected: Vec<PreviewRejected>,
    /// Counts for a summary line.
    pub stats: PreviewStats,
}

/// One person of the file.
#[derive(Serialize, ToSchema)]
pub struct PreviewContact {
    /// The name as the file gave it; empty when it had none.
    pub name: String,
    /// The numbers, E.164, in the file's order.
    pub phones: Vec<String>,
    /// The same numbers with what the file and the numbering plan tell about each.
    pub details: Vec<PreviewPhone>,
}

/// One number with its kind, label and extension.
#[derive(Serialize, ToSchema)]
pub struct PreviewPhone {
    /// E.164.
    pub number: String,
    /// From the numbering plan: `mobile`, `fixed_line`, `fixed_line_or_mobile`, `toll_free`…
    pub kind: String,
    /// The file's label: `mobile`, `home`, `work`, `fax`, `other`…, or its own words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// An extension dialled after the number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
}

/// An entry without a usable number.
#[derive(Serialize, ToSchema)]
pub struct PreviewRejected {
    /// Where in the file: `line 12`, `record 3 (line 40)`, `sheet Sheet1 row 5`.
    pub location: String,
    /// The text that was not usable (the number as written, or the name for `no_number`).
    pub input: String,
    /// Why: `no_number`, `invalid_number`, `not_a_number`, `missing_region`, `too_long`,
    /// `lost_precision`.
    pub reason: String,
    /// The name of the record it belongs to, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Counts over the file.
#[derive(Serialize, ToSchema)]
pub struct PreviewStats {
    /// Records read (rows, cards, entries).
    pub records: usize,
    /// Contacts in the preview.
    pub contacts: usize,
    /// Numbers in the preview.
    pub numbers: usize,
    /// Numbers dropped as repeats of one already in the preview.
    pub merged_duplicates: usize,
    /// Records folded into a contact already in the preview.
    pub merged_records: usize,
    /// Entries in `rejected`.
    pub rejected: usize,
    /// Records that are not contacts (folders, mailing lists, empty rows).
    pub skipped: usize,
}

/// The import route, with its own body limit.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_contacts))
        .layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT))
}

/// Reads an address-book file and previews its contacts; nothing is stored.
///
/// The body is the file's raw bytes: CSV or TXT (Outlook, Google, Foxmail, Thunderbird),
/// vCard 2.1/3.0/4.0, xlsx/xls/ods, LDIF, WAB or a Windows `.contact`, in any encoding.
/// National numbers are read in `region` (default: the account's region).
#[utoipa::path(post, path = "/v1/contacts/import", tag = "contacts", security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The address-book file, at most 64 MiB"),
    responses(
        (status = 200, body = ImportPreview),
        (status = 400, body = ErrorBody, description = "invalid_region, unknown_encoding, empty, unknown_format, truncated, malformed, too_many_columns, too_many_entries, field_too_long, sheet_too_large: the message names the line or record"),
        (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody, description = "payload_too_large: over 64 MiB"),
    ))]
async fn import_contacts(
    Auth(auth): Auth,
    query: Result<Query<ImportQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportPreview>, ApiError> {
    let Query(query) =
        query.map_err(|e| ApiError::bad_request(ErrorCode::InvalidQuery, e.body_text()))?;
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::bad_request(ErrorCode::InvalidBody, e.body_text())
        }
    })?;
    let region = match query.region.as_deref().filter(|r| !r.trim().is_empty()) {
        Some(code) => Some(Region::parse(code).ok_or_else(|| {
            ApiError::bad_request(
                ErrorCode::InvalidRegion,
                format!("unknown region code {code:?}"),
            )
        })?),
        None => Region::parse(&auth.user.region),
    };
    let opts = ImportOptions {
        region,
        encoding: query.encoding.filter(|e| !e.trim().is_empty()),
        filename: query.filename.filter(|f| !f.is_empty()),
        format: None,
        limits: Limits {
            max_bytes: IMPORT_BODY_LIMIT,
            ..Limits::default()
        },
    };
    let permit = PARSES
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| internal())?;
    let report = tokio::task::spawn_blocking(move || {
        let report = dialtone_import::import(&bytes, &opts);
        drop(permit);
        report
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "address-book import task failed");
        internal()
    })?
    .map_err(import_error)?;
    Ok(Json(preview(report)))
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        "the file is larger than the 64 MiB this route accepts",
    )
}

fn internal() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::InternalError,
        "something went wrong on our side",
    )
}

/// A file that cannot be read: 400 with the library's stable code and a message naming
/// the line or record; 413 for one over the size limit.
fn import_error(e: ImportError) -> ApiError {
    match e {
        ImportError::TooLarge { .. } => too_large(),
        other => ApiError::bad_request(
            // Every code of the import library is one of the contract's (tested below).
            ErrorCode::parse(other.code()).unwrap_or(ErrorCode::Malformed),
            other.to_string(),
        ),
    }
}

/// A serde unit variant's name (`Format::WindowsContact` → `windows_contact`).
fn code_of(value: impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "unknown".to_owned(),
    }
}

fn preview(report: ImportReport) -> ImportPreview {
    let ImportReport {
        format,
        encoding,
        contacts,
        rejected,
        stats,
    } = report;
    ImportPreview {
        format: code_of(format),
        encoding,
        contacts: contacts.into_iter().map(contact).collect(),
        rejected: rejected.into_iter().map(rejection).collect(),
        stats: stats_of(stats),
    }
}

fn contact(c: ImportedContact) -> PreviewContact {
    PreviewContact {
        name: c.name,
        phones: c
            .phones
            .iter()
            .map(|p| p.number.as_str().to_owned())
            .collect(),
        details: c.phones.into_iter().map(phone).collect(),
    }
}

fn phone(p: ImportedPhone) -> PreviewPhone {
    PreviewPhone {
        number: p.number.as_str().to_owned(),
        kind: code_of(p.kind),
        label: p.label,
        extension: p.extension,
    }
}

fn rejection(r: Rejected) -> PreviewRejected {
    PreviewRejected {
        location: r.location,
        input: r.input,
        reason: r.reason.code().to_owned(),
        name: r.name,
    }
}

fn stats_of(s: Stats) -> PreviewStats {
    PreviewStats {
        records: s.records,
        contacts: s.contacts,
        numbers: s.numbers,
        merged_duplicates: s.merged_duplicates,
        merged_records: s.merged_records,
        rejected: s.rejected,
        skipped: s.skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_import_error_code_is_a_contract_code() {
        let s = || String::new();
        let errors = [
            ImportError::Empty,
            ImportError::TooLarge { size: 2, limit: 1 },
            ImportError::UnknownFormat,
            ImportError::UnknownEncoding { label: s() },
            ImportError::Truncated { location: s() },
            ImportError::Malformed {
                location: s(),
                message: s(),
            },
            ImportError::TooManyColumns {
                line: 1,
                columns: 2,
                limit: 1,
            },
            ImportError::TooManyEntries {
                location: s(),
                limit: 1,
            },
            ImportError::FieldTooLong {
                location: s(),
                limit: 1,
            },
            ImportError::SheetTooLarge {
                location: s(),
                size: 2,
                limit: 1,
            },
        ];
        for e in errors {
            assert_eq!(
                ErrorCode::parse(e.code()).map(ErrorCode::as_str),
                Some(e.code())
            );
        }
    }
}
