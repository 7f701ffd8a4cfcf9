//! The client's static files, embedded in the binary by a release build (a debug build
//! reads them from `crates/dialtone-web/assets/` so edits show without a rebuild), and
//! served with an ETag so browsers revalidate cheaply.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Everything under `assets/`: JavaScript modules, styles, icons, message catalogues.
#[derive(rust_embed::Embed)]
#[folder = "assets/"]
pub struct Assets;

/// One file, by its path under `assets/`.
pub fn file(path: &str) -> Option<rust_embed::EmbeddedFile> {
    Assets::get(path)
}

/// Paths of every file under `prefix`, sorted.
pub fn paths_under(prefix: &str) -> Vec<String> {
    let mut paths: Vec<String> = Assets::iter()
        .filter(|p| p.starts_with(prefix))
        .map(|p| p.into_owned())
        .collect();
    paths.sort();
    paths
}

/// Serves one asset (or 404 in the API's error shape), answering `If-None-Match` with 304.
pub fn serve(path: &str, request_headers: &HeaderMap) -> Response {
    let Some(file) = file(path) else {
        return crate::not_found();
    };
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let mut headers = HeaderMap::new();
    let content_type = mime_guess::from_path(path)
        .first_raw()
        .map(|mime| match mime {
            // The one type every browser runs modules with.
            "application/javascript" | "text/javascript" => "text/javascript; charset=utf-8",
            "application/json" => "application/json; charset=utf-8",
            "text/css" => "text/css; charset=utf-8",
            other => other,
        })
        .unwrap_or("application/octet-stream");
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    // Always revalidate: a new server version must never run against old modules.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    let matches = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    if matches {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (headers, Body::from(file.data.into_owned())).into_response()
}
