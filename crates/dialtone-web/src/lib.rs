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
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use dialtone_core::phone::Region;
use serde_json::json;

pub use lang::Lang;

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
            get(move |headers: HeaderMap| {
                let settings = settings.clone();
                async move { shell(&settings, &headers) }
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
            get(|headers: HeaderMap| async move { assets::serve("js/sw.js", &headers) }),
        )
        .route(
            "/manifest.webmanifest",
            get(|headers: HeaderMap| async move { manifest(&headers) }),
        )
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

fn shell(settings: &WebSettings, headers: &HeaderMap) -> Response {
    let lang = lang_of(headers);
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
