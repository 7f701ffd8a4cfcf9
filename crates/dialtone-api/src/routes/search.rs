//! `/v1/search`: the caller's messages in every conversation they are in (or one), newest
//! or most relevant first, with snippets whose highlights are in UTF-16 code units
//! (docs/api/search.md).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use dialtone_core::ConversationId;
use dialtone_protocol::Message;
use dialtone_service::messaging::{SearchCursor, SearchRequest};
use dialtone_store::SearchOrder;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::conversations::message_body;
use crate::error::{ErrorBody, ErrorCode};
use crate::extract::Auth;
use crate::{ApiError, AppState};

/// A search.
#[derive(Deserialize, IntoParams)]
pub struct SearchParams {
    /// The words to find (1 to 256 characters): every word must match; the last also as
    /// the start of a word while typing. Chinese is cut into words.
    pub q: Option<String>,
    /// Only this conversation (one of mine; 404 otherwise).
    pub conversation_id: Option<String>,
    /// `newest` (default) or `relevance`.
    pub order: Option<String>,
    /// Results per page: 1 to 50 (default 20; more is cut to 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (same search).
    pub cursor: Option<String>,
}

/// Where a message matched.
#[derive(Serialize, ToSchema)]
pub struct SnippetBody {
    /// Plain text (escape it): about 80 characters of the message around the first
    /// match, `…` where cut.
    pub text: String,
    /// `[start, end)` of each match in UTF-16 code units of `text`.
    pub highlights: Vec<[usize; 2]>,
}

/// One result.
#[derive(Serialize, ToSchema)]
pub struct SearchResultBody {
    /// The message, as history gives it.
    pub message: Message,
    /// Where it matched.
    pub snippet: SnippetBody,
}

/// A page of results.
#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    /// In the order asked.
    pub results: Vec<SearchResultBody>,
    /// Give it back as `cursor` for the next page; absent at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Searches my messages: text, captions and file names, in the conversations I am a
/// member of (direct ones with hidden contacts only with `X-Vault-Token`).
#[utoipa::path(get, path = "/v1/search", tag = "messages", security(("bearer" = [])),
    params(SearchParams, ("X-Vault-Token" = Option<String>, Header, description = "from /v1/vault/unlock: hidden contacts' conversations too")),
    responses(
        (status = 200, body = SearchResults),
        (status = 400, body = ErrorBody, description = "invalid_input (q, order, limit), invalid_query (cursor)"),
        (status = 404, body = ErrorBody, description = "conversation_not_found"),
    ))]
async fn search(
    State(state): State<AppState>,
    Auth(auth): Auth,
    headers: HeaderMap,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchResults>, ApiError> {
    let order = match params.order.as_deref() {
        None | Some("newest") => SearchOrder::Newest,
        Some("relevance") => SearchOrder::Relevance,
        Some(other) => {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidInput,
                format!("order is newest or relevance, not {other:?}"),
            ));
        }
    };
    let cursor = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => Some(SearchCursor::parse(raw).ok_or_else(|| {
            ApiError::bad_request(ErrorCode::InvalidQuery, "not a cursor this server gave")
        })?),
    };
    let token = headers.get("x-vault-token").and_then(|v| v.to_str().ok());
    let vault_open = state.social.vault_open(&auth.user, token);
    let page = state
        .messaging
        .search(
            &auth.user,
            vault_open,
            SearchRequest {
                q: params.q.unwrap_or_default(),
                conversation_id: params
                    .conversation_id
                    .filter(|c| !c.is_empty())
                    .map(ConversationId::from),
                order,
                limit: params.limit,
                cursor,
            },
        )
        .await?;
    Ok(Json(SearchResults {
        results: page
            .results
            .into_iter()
            .map(|r| SearchResultBody {
                message: message_body(r.message),
                snippet: SnippetBody {
                    text: r.snippet.text,
                    highlights: r.snippet.highlights.iter().map(|&(a, b)| [a, b]).collect(),
                },
            })
            .collect(),
        next_cursor: page.next.map(|c| c.encode()),
    }))
}

/// The search route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}
