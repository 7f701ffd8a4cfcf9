//! `GET /v1/stickers` and `GET /v1/stickers/{pack}/{sticker}`: the packs the server hosts.

use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dialtone_service::stickers::PACKS;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorBody;
use crate::error::ErrorCode;
use crate::{ApiError, AppState};

/// A sticker.
#[derive(Serialize, ToSchema)]
pub struct StickerBody {
    /// Send as `text` of a `sticker` message: `pack/sticker`.
    pub name: String,
    /// The emoji it stands for.
    pub emoji: String,
    /// Where its image is.
    pub url: String,
}

/// A pack.
#[derive(Serialize, ToSchema)]
pub struct PackBody {
    /// Pack id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its stickers.
    pub stickers: Vec<StickerBody>,
}

/// The hosted packs.
#[derive(Serialize, ToSchema)]
pub struct PackList {
    /// Every pack.
    pub packs: Vec<PackBody>,
}

/// The sticker routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(image))
}

/// The sticker packs this server hosts.
#[utoipa::path(get, path = "/v1/stickers", tag = "messages", responses((status = 200, body = PackList)))]
async fn list() -> Json<PackList> {
    Json(PackList {
        packs: PACKS
            .iter()
            .map(|p| PackBody {
                id: p.id.to_owned(),
                name: p.name.to_owned(),
                stickers: p
                    .stickers
                    .iter()
                    .map(|s| StickerBody {
                        name: format!("{}/{}", p.id, s.id),
                        emoji: s.emoji.to_owned(),
                        url: format!("/v1/stickers/{}/{}", p.id, s.id),
                    })
                    .collect(),
            })
            .collect(),
    })
}

/// A sticker's image (SVG).
#[utoipa::path(get, path = "/v1/stickers/{pack}/{sticker}", tag = "messages",
    params(("pack" = String, Path), ("sticker" = String, Path)),
    responses((status = 200, content_type = "image/svg+xml"), (status = 404, body = ErrorBody)))]
async fn image(Path((pack, sticker)): Path<(String, String)>) -> Result<Response, ApiError> {
    let found =
        dialtone_service::stickers::find(&format!("{pack}/{sticker}")).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::StickerNotFound,
                "no such sticker",
            )
        })?;
    let mut response = found.svg.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Ok(response)
}
