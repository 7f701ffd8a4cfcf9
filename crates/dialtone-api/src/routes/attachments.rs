//! `POST /v1/attachments` (upload, streamed) and `GET /v1/attachments/{id}` (whole, by
//! `Range`, or `?thumbnail=true`).

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dialtone_service::attachments::ByteRange;
use dialtone_store::AttachmentRecord;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use tokio_util::io::{ReaderStream, StreamReader};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use dialtone_service::community::Viewer;

use crate::error::ErrorBody;
use crate::error::ErrorCode;
use crate::extract::Auth;
use crate::{ApiError, AppState};

/// Upload parameters.
#[derive(Deserialize, IntoParams)]
pub struct UploadQuery {
    /// The file's name (a hint; the type comes from the bytes).
    pub filename: Option<String>,
}

/// Download parameters.
#[derive(Deserialize, IntoParams)]
pub struct DownloadQuery {
    /// The image's thumbnail instead of the image.
    #[serde(default)]
    pub thumbnail: bool,
}

/// A stored attachment.
#[derive(Serialize, ToSchema)]
pub struct AttachmentBody {
    /// Id, for `attachment_id` of a message.
    pub id: String,
    /// Bytes stored (after location metadata was stripped from photos).
    pub size: u64,
    /// Sniffed from the bytes.
    pub content_type: String,
    /// SHA-256 of the stored bytes, lowercase hex.
    pub sha256: String,
    /// The name given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Whether `?thumbnail=true` has an image.
    pub thumbnail: bool,
    /// Image width.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Image height.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl From<AttachmentRecord> for AttachmentBody {
    fn from(a: AttachmentRecord) -> Self {
        Self {
            thumbnail: a.thumbnail_sha.is_some(),
            id: a.id,
            size: a.size,
            content_type: a.content_type,
            sha256: a.sha256,
            filename: a.filename,
            width: a.width,
            height: a.height,
        }
    }
}

/// The attachment routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(download))
        .routes(routes!(public_download))
}

/// Uploads a file (raw bytes). Over the size limit (100 MiB by default): 413 and nothing
/// is kept.
#[utoipa::path(post, path = "/v1/attachments", tag = "messages", security(("bearer" = [])),
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, body = AttachmentBody),
        (status = 400, body = ErrorBody),
        (status = 413, body = ErrorBody, description = "attachment_too_large"),
    ))]
async fn upload(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Result<(StatusCode, Json<AttachmentBody>), ApiError> {
    // A body that breaks off or is malformed (a bad chunk size, a chunk longer than said,
    // fewer bytes than `Content-Length`) is the client's fault: 400, and the blob store
    // keeps nothing of it. Its error comes out of the blob store as an I/O error, so it is
    // told apart by where it started.
    let broken: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let seen = broken.clone();
    let stream = body.into_data_stream().map_err(move |e| {
        let mut slot = seen.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert_with(|| e.to_string());
        std::io::Error::other(e)
    });
    let mut reader = StreamReader::new(stream);
    let uploaded = state
        .attachments
        .upload(&auth.user, query.filename, &mut reader)
        .await;
    let cause = broken.lock().unwrap_or_else(|p| p.into_inner()).take();
    match (uploaded, cause) {
        (Ok(record), None) => Ok((StatusCode::CREATED, Json(record.into()))),
        (_, Some(cause)) => Err(ApiError::bad_request(
            ErrorCode::InvalidBody,
            format!("the request body could not be read: {cause}"),
        )),
        (Err(e), None) => Err(e.into()),
    }
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n`; anything else (several ranges, or an invalid one
/// such as the reversed `bytes=100-50`) is ignored and the whole file is sent, as RFC 9110
/// allows. A valid range past the end is the service's 416.
fn parse_range(headers: &HeaderMap) -> Option<ByteRange> {
    let value = headers.get(header::RANGE)?.to_str().ok()?.trim();
    let spec = value.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = (start.trim(), end.trim());
    if start.is_empty() {
        return end.parse().ok().map(ByteRange::Last);
    }
    let start = start.parse().ok()?;
    let end = if end.is_empty() {
        None
    } else {
        Some(end.parse().ok()?)
    };
    if end.is_some_and(|end| end < start) {
        return None;
    }
    Some(ByteRange::From { start, end })
}

/// Downloads an attachment: to its uploader, to members of a conversation carrying it, and
/// to whoever may see a community item or a profile showing it (anyone else gets 404, as
/// for an unknown id). Supports `Range`.
#[utoipa::path(get, path = "/v1/attachments/{id}", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path), DownloadQuery),
    responses(
        (status = 200, description = "the bytes"),
        (status = 206, description = "the requested range"),
        (status = 404, body = ErrorBody, description = "attachment_not_found"),
        (status = 416, body = ErrorBody, description = "range_not_satisfiable"),
    ))]
async fn download(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
    Query(query): Query<DownloadQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let range = parse_range(&headers);
    let fetched = match state
        .attachments
        .fetch(&auth.user, &id, query.thumbnail, range)
        .await
    {
        // Not in a conversation of the caller's: it may be in a community item or a
        // profile the caller may see.
        Err(dialtone_service::ServiceError::AttachmentNotFound)
            if state
                .community
                .shows_attachment(Viewer::User(&auth.user), &id)
                .await? =>
        {
            state.attachments.open(&id, query.thumbnail, range).await
        }
        other => other,
    };
    let download = fetched.map_err(|e| match e {
        // Fetching what is not there (or not yours to see) is a 404, unlike naming it
        // in a message (400).
        dialtone_service::ServiceError::AttachmentNotFound => ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::AttachmentNotFound,
            "no such attachment",
        ),
        other => ApiError::from(other),
    })?;
    Ok(respond(download))
}

/// Downloads, without a token, an attachment the community shows to anyone: a picture of
/// a public item, the avatar or cover of a user everyone may see (what the public pages
/// link to). Anything else is 404, as an unknown id. Supports `Range`.
#[utoipa::path(get, path = "/v1/public/attachments/{id}", tag = "community",
    params(("id" = String, Path), DownloadQuery),
    responses(
        (status = 200, description = "the bytes"),
        (status = 206, description = "the requested range"),
        (status = 404, body = ErrorBody, description = "attachment_not_found"),
    ))]
async fn public_download(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<DownloadQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::AttachmentNotFound,
            "no such attachment",
        )
    };
    if !state
        .community
        .shows_attachment(Viewer::Visitor, &id)
        .await?
    {
        return Err(not_found());
    }
    let download = state
        .attachments
        .open(&id, query.thumbnail, parse_range(&headers))
        .await
        .map_err(|e| match e {
            dialtone_service::ServiceError::AttachmentNotFound => not_found(),
            other => ApiError::from(other),
        })?;
    Ok(respond(download))
}

/// The response of a download: its bytes streamed, with type, length and range headers.
fn respond(download: dialtone_service::attachments::Download) -> Response {
    let status = if download.range.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut response = (
        status,
        Body::from_stream(ReaderStream::new(download.reader)),
    )
        .into_response();
    let h = response.headers_mut();
    let value = |s: String| {
        HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static("application/octet-stream"))
    };
    h.insert(header::CONTENT_TYPE, value(download.content_type.clone()));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(download.len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if let Some((first, last)) = download.range {
        h.insert(
            header::CONTENT_RANGE,
            value(format!("bytes {first}-{last}/{}", download.total)),
        );
    }
    let inline = ["image/", "audio/", "video/"]
        .iter()
        .any(|p| download.content_type.starts_with(p));
    if !inline {
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
    }
    response
}
