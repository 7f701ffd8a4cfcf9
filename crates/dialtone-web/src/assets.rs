//! The client's static files, embedded in the binary by a release build (a debug build
//! reads them from `crates/dialtone-web/assets/` so edits show without a rebuild), and
//! served with an ETag so browsers revalidate cheaply.
//!
//! Text files are compressed once (brotli at its best level and gzip), the first time they
//! are asked for, and the bytes kept under the file's hash; each request then gets the
//! encoding its `Accept-Encoding` prefers, with no work. Each encoding has its own ETag
//! (`"<hash>"`, `"<hash>.br"`, `"<hash>.gz"`), and any of them revalidates the file.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, LazyLock, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

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

/// A content coding a client may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    fn etag_suffix(self) -> &'static str {
        match self {
            Encoding::Brotli => ".br",
            Encoding::Gzip => ".gz",
            Encoding::Identity => "",
        }
    }

    fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Brotli => Some("br"),
            Encoding::Gzip => Some("gzip"),
            Encoding::Identity => None,
        }
    }
}

/// The coding to answer with: brotli if accepted, else gzip, else none (`q=0` refuses).
pub fn preferred_encoding(request_headers: &HeaderMap) -> Encoding {
    let mut brotli = false;
    let mut gzip = false;
    for value in request_headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let refused = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .any(|q| q <= 0.0);
            if refused {
                continue;
            }
            match name.as_str() {
                "br" => brotli = true,
                "gzip" | "x-gzip" => gzip = true,
                _ => {}
            }
        }
    }
    if brotli {
        Encoding::Brotli
    } else if gzip {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// A file's bytes in the two compressed codings.
struct Compressed {
    brotli: Bytes,
    gzip: Bytes,
}

/// Compressed files by content hash: compressed once, served many times. A release build
/// holds one entry per text file; a debug build adds one per edit.
static COMPRESSED: LazyLock<Mutex<HashMap<[u8; 32], Arc<Compressed>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn compress(hash: [u8; 32], data: &[u8]) -> Option<Arc<Compressed>> {
    if let Some(found) = COMPRESSED.lock().ok()?.get(&hash) {
        return Some(found.clone());
    }
    let mut brotli = Vec::new();
    {
        // Quality 11 (the best), 4 KiB buffer, 22-bit window: done once per file.
        let mut writer = brotli::CompressorWriter::new(&mut brotli, 4096, 11, 22);
        writer.write_all(data).ok()?;
    }
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(data).ok()?;
    let gzip = gzip.finish().ok()?;
    let compressed = Arc::new(Compressed {
        brotli: Bytes::from(brotli),
        gzip: Bytes::from(gzip),
    });
    COMPRESSED.lock().ok()?.insert(hash, compressed.clone());
    Some(compressed)
}

/// The `Content-Type` of a path.
fn content_type(path: &str) -> &'static str {
    mime_guess::from_path(path)
        .first_raw()
        .map(|mime| match mime {
            // The one type every browser runs modules with.
            "application/javascript" | "text/javascript" => "text/javascript; charset=utf-8",
            "application/json" => "application/json; charset=utf-8",
            "text/css" => "text/css; charset=utf-8",
            other => other,
        })
        .unwrap_or("application/octet-stream")
}

/// Worth compressing: text, not pictures already compressed.
fn is_text(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type.starts_with("image/svg+xml")
        || content_type.starts_with("application/manifest+json")
}

/// Serves one asset (or 404 in the API's error shape), answering `If-None-Match` with 304.
pub fn serve(path: &str, request_headers: &HeaderMap) -> Response {
    let Some(file) = file(path) else {
        return crate::not_found();
    };
    serve_bytes(
        content_type(path),
        file.metadata.sha256_hash(),
        file.data.into_owned(),
        request_headers,
    )
}

/// Serves bytes made on the server (the service worker with its file list), as an asset.
pub fn serve_generated(path: &str, data: Vec<u8>, request_headers: &HeaderMap) -> Response {
    let hash: [u8; 32] = Sha256::digest(&data).into();
    serve_bytes(content_type(path), hash, data, request_headers)
}

fn serve_bytes(
    content_type: &'static str,
    hash: [u8; 32],
    data: Vec<u8>,
    request_headers: &HeaderMap,
) -> Response {
    let hex_hash = hex::encode(hash);
    let text = is_text(content_type);
    let encoding = if text {
        preferred_encoding(request_headers)
    } else {
        Encoding::Identity
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Always revalidate: a new server version must never run against old modules.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if text {
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    // Any coding's tag names the same content: the browser keeps it decoded.
    let revalidated = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|tag| {
                let tag = tag.trim().trim_start_matches("W/").trim_matches('"');
                tag.split('.').next() == Some(hex_hash.as_str())
            })
        });
    let (encoding, body) = match encoding {
        Encoding::Identity => (Encoding::Identity, Bytes::from(data)),
        wanted => match compress(hash, &data) {
            Some(c) if wanted == Encoding::Brotli => (wanted, c.brotli.clone()),
            Some(c) => (wanted, c.gzip.clone()),
            None => (Encoding::Identity, Bytes::from(data)),
        },
    };
    if let Ok(value) = HeaderValue::from_str(&format!("\"{hex_hash}{}\"", encoding.etag_suffix())) {
        headers.insert(header::ETAG, value);
    }
    if revalidated {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    if let Some(coding) = encoding.header() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    (headers, Body::from(body)).into_response()
}
