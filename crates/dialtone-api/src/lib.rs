//! dialtone's HTTP edge. Only this crate knows HTTP and JSON: it turns requests into calls
//! of the services and their results into the responses of the public contract
//! (`../shared/API.md`), and generates the OpenAPI document from the handlers.

mod compression;
mod error;
mod extract;
mod openapi;
mod pages;
mod routes;
#[cfg(test)]
mod test_logs;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use dialtone_realtime::Hub;
use dialtone_service::AccountService;
use dialtone_service::messaging::MessagingService;
use dialtone_service::social::SocialService;
use utoipa_axum::router::OpenApiRouter;

pub use error::ApiError;

/// Largest JSON body accepted by default (the contract's 1 MiB).
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// Accounts, verifications, sessions.
    pub accounts: Arc<AccountService>,
    /// Contacts, privacy, presence, vault.
    pub social: Arc<SocialService>,
    /// Conversations and messages.
    pub messaging: Arc<MessagingService>,
    /// Uploads and downloads of attachments.
    pub attachments: Arc<dialtone_service::attachments::AttachmentService>,
    /// Profiles, spaces, comments, likes, the feed, notifications.
    pub community: Arc<dialtone_service::community::CommunityService>,
    /// Calls: their state, signalling, records, ICE servers.
    pub calls: Arc<dialtone_service::calls::CallService>,
    /// Web Push subscriptions, notification settings, mutes.
    pub notify: Arc<dialtone_service::notify::NotifyService>,
    /// This process's live connections.
    pub hub: Arc<Hub>,
}

/// The whole HTTP application: every route, the OpenAPI document at `/v1/openapi.json`,
/// error bodies in the contract's shape for every failure (unknown routes included).
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The API plus `pages` (the web client's routes), which get the same error bodies,
/// compression and request tracing as the API.
pub fn app_with(state: AppState, pages: Router<AppState>) -> Router {
    let (router, doc) = OpenApiRouter::with_openapi(openapi::base())
        .merge(routes::health::routes())
        .merge(routes::verifications::routes())
        .merge(routes::sessions::routes())
        .merge(routes::account::routes())
        .merge(routes::contacts::routes())
        .merge(routes::privacy::routes())
        .merge(routes::presence::routes())
        .merge(routes::conversations::routes())
        .merge(routes::stickers::routes())
        .merge(routes::attachments::routes())
        .merge(routes::calls::routes())
        .merge(routes::push::routes())
        .merge(routes::ws::routes())
        .merge(routes::import::routes())
        .merge(routes::phones::routes())
        .merge(routes::community::routes())
        .merge(routes::reactions::routes())
        .merge(routes::blog::routes())
        .merge(routes::search::routes())
        .split_for_parts();
    let doc = Arc::new(doc);
    router
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || openapi::serve(doc.clone())),
        )
        .merge(pages::routes())
        .merge(pages)
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(axum::middleware::map_response(error::normalize))
        .layer(compression::layer())
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                // The path only: a query may carry a token (`/v1/ws?token=`).
                |request: &axum::http::Request<_>| {
                    tracing::info_span!(
                        "http",
                        method = %request.method(),
                        path = %request.uri().path()
                    )
                },
            ),
        )
        .with_state(state)
}
