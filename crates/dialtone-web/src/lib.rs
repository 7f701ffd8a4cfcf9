//! dialtone's web client, served by the server itself: nothing to install, no build step.
//!
//! The server renders the app shell in the reader's language (chosen from a `lang` cookie
//! or `Accept-Language`) with that language's message catalogue and the country list
//! embedded; small hand-written JavaScript modules under `assets/js/` then draw the
//! screens from the public HTTP API and the WebSocket, exactly as any other client would.
//! Data pages are not rendered on the server because the API's sessions are bearer tokens
//! held by the client: a server-rendered page would need a second, cookie-based session.

mod assets;
mod catalogue;
mod lang;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use dialtone_core::phone::Region;
use serde_json::json;
use sha2::{Digest, Sha256};

pub use lang::{Lang, negotiate};

/// What the shell tells the client about this server.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// The default region for numbers typed without a country code (the picker's first
    /// choice).
    pub region: String,
    /// The public host name, the one WebOTP binds SMS codes to.
    pub domain: String,
}

const SHELL: &str = include_str!("../templates/shell.html");

/// Content Security Policy of the shell: only this origin's scripts, styles and
/// connections; pictures and media also from `blob:` URLs (attachments are fetched with
/// the bearer token and shown from blobs).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; \
     worker-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'; object-src 'none'";

/// The client's routes: `/` (the shell), `/assets/...`, `/manifest.webmanifest` and
/// `/sw.js` (the service worker, at the root so that it controls the whole app).
pub fn router<S: Clone + Send + Sync + 'static>(settings: WebSettings) -> Router<S> {
    let settings = Arc::new(settings);
    Router::new()
        .route(
            "/",
            get(move |Query(query): Query<ShellQuery>, headers: HeaderMap| {
                let settings = settings.clone();
                async move { shell(&settings, &headers, query.lang.as_deref()) }
            }),
        )
        .route(
            "/assets/{*path}",
            get(|Path(path): Path<String>, headers: HeaderMap| async move {
                if path.starts_with("i18n/") {
                    // Catalogues reach the client inside the shell only.
                    return not_found();
                }
                assets::serve(&path, &headers)
            }),
        )
        .route(
            "/sw.js",
            get(|headers: HeaderMap| async move { service_worker(&headers) }),
        )
        .route(
            "/manifest.webmanifest",
            get(|headers: HeaderMap| async move { manifest(&headers) }),
        )
}

/// `/?lang=zh-CN`: a shell in that language whatever the cookie and `Accept-Language` say
/// (the service worker keeps one of each for offline use).
#[derive(Debug, serde::Deserialize)]
struct ShellQuery {
    lang: Option<String>,
}

/// The page's language for this request.
fn lang_of(headers: &HeaderMap) -> Lang {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    lang::negotiate(text(header::COOKIE), text(header::ACCEPT_LANGUAGE))
}

/// JSON that can sit inside a `<script>` element: nothing in it can close the element.
fn script_json(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

fn shell(settings: &WebSettings, headers: &HeaderMap, asked: Option<&str>) -> Response {
    let lang = asked
        .and_then(Lang::from_tag)
        .unwrap_or_else(|| lang_of(headers));
    let catalogue = match catalogue::load(lang) {
        Ok(catalogue) => catalogue,
        Err(e) => return internal(&e.to_string()),
    };
    let regions: Vec<_> = Region::all()
        .into_iter()
        .map(|(region, calling)| json!([region.code(), calling]))
        .collect();
    let config = json!({
        "region": settings.region,
        "domain": settings.domain,
        "lang": lang.tag(),
        "languages": Lang::ALL.iter().map(|l| json!({"tag": l.tag(), "name": l.endonym()})).collect::<Vec<_>>(),
        "regions": regions,
    });
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    let rendered = env.template_from_str(SHELL).and_then(|template| {
        template.render(minijinja::context! {
            lang => lang.tag(),
            t => &catalogue,
            catalogue_json => script_json(&json!(catalogue)),
            config_json => script_json(&config),
        })
    });
    let html = match rendered {
        Ok(html) => html,
        Err(e) => return internal(&e.to_string()),
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::VARY, "Accept-Language, Cookie"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        html,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(lang.tag()) {
        response
            .headers_mut()
            .insert(header::CONTENT_LANGUAGE, value);
    }
    response
}

/// What the service worker keeps for offline use: the shell, the manifest and every
/// embedded file but the catalogues (they reach the client inside the shell) and the
/// worker itself. Made from the embedded files, so it cannot go stale.
pub fn shell_files() -> Vec<String> {
    let mut files = vec!["/".to_owned(), "/manifest.webmanifest".to_owned()];
    files.extend(
        assets::paths_under("")
            .into_iter()
            .filter(|path| !path.starts_with("i18n/") && path != "js/sw.js")
            .map(|path| format!("/assets/{path}")),
    );
    files
}

/// A version of everything the shell is made of (files, catalogues, template): it changes
/// the worker's bytes, so the browser installs the new worker, which caches the new files.
fn shell_version() -> String {
    let mut hasher = Sha256::new();
    hasher.update(SHELL.as_bytes());
    for path in assets::paths_under("") {
        if let Some(file) = assets::file(&path) {
            hasher.update(path.as_bytes());
            hasher.update(file.metadata.sha256_hash());
        }
    }
    hex::encode(&hasher.finalize()[..8])
}

/// `/sw.js`: `assets/js/sw.js` with the server's list of the shell's files, the languages
/// and the version written into it.
fn service_worker(headers: &HeaderMap) -> Response {
    let Some(file) = assets::file("js/sw.js") else {
        return not_found();
    };
    let source = String::from_utf8_lossy(&file.data);
    let languages: Vec<&str> = Lang::ALL.iter().map(|l| l.tag()).collect();
    let fills = [
        (
            "const VERSION = 'dev';",
            format!("const VERSION = {};", json!(shell_version())),
        ),
        (
            "const FILES = [];",
            format!("const FILES = {};", json!(shell_files())),
        ),
        (
            "const LANGUAGES = [];",
            format!("const LANGUAGES = {};", json!(languages)),
        ),
    ];
    let mut text = source.into_owned();
    for (marker, filled) in fills {
        if !text.contains(marker) {
            return internal(&format!("sw.js lacks {marker}"));
        }
        text = text.replacen(marker, &filled, 1);
    }
    assets::serve_generated("sw.js", text.into_bytes(), headers)
}

/// The web app manifest, in the reader's language, so the installed app has its name.
fn manifest(headers: &HeaderMap) -> Response {
    let lang = lang_of(headers);
    let catalogue = match catalogue::load(lang) {
        Ok(catalogue) => catalogue,
        Err(e) => return internal(&e.to_string()),
    };
    let text = |key: &str| catalogue.get(key).cloned().unwrap_or_default();
    let body = json!({
        "name": text("app.name"),
        "short_name": text("app.short_name"),
        "description": text("app.description"),
        "lang": lang.tag(),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b7a5a",
        "icons": [
            {"src": "/assets/icons/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
            {"src": "/assets/icons/maskable.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "maskable"}
        ]
    });
    (
        [
            (header::CONTENT_TYPE, "application/manifest+json"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::VARY, "Accept-Language, Cookie"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// 404 in the API's error shape.
pub(crate) fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not_found", "no such route")
}

fn internal(cause: &str) -> Response {
    tracing::error!(%cause, "web client files are broken");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the web client could not be shown",
    )
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": {"code": code, "message": message}}).to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests;
