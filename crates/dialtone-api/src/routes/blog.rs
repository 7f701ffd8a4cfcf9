//! Blog articles and photo albums: `/v1/articles`, `/v1/users/{phone}/articles` (and its
//! Atom feed), `/v1/albums`, `/v1/photos`. The same privacy as posts: an item the caller
//! may not see is 404 `item_not_found`, a user they may not see 404 `user_not_found`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dialtone_service::community::{AlbumEdit, ArticleEdit, NewAlbum, NewArticle, NewPhoto, Viewer};
use dialtone_store::ItemKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::community::{
    AudienceBody, ItemBody, PageQuery, PostPage, item_body, page_body, parse_cursor, viewer,
};
use super::{path_phone, rfc3339};
use crate::error::ErrorBody;
use crate::extract::{Auth, JsonBody, MaybeAuth};
use crate::{ApiError, AppState};

/// The routes of articles and albums.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_article))
        .routes(routes!(drafts))
        .routes(routes!(preview))
        .routes(routes!(get_article, edit_article, delete_article))
        .routes(routes!(user_articles))
        .routes(routes!(atom))
        .routes(routes!(create_album))
        .routes(routes!(get_album, edit_album, delete_album))
        .routes(routes!(add_photos))
        .routes(routes!(get_photo, edit_photo, delete_photo))
        .routes(routes!(user_albums))
}

/// A new article.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewArticleBody {
    /// 1 to 200 characters.
    pub title: String,
    /// Markdown (200 KiB at most); pictures as `![alt](attachment:ID)` of my attachments.
    pub markdown: String,
    /// Up to 10 one-word tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Who it is for.
    pub audience: AudienceBody,
    /// Keep it unpublished.
    #[serde(default)]
    pub draft: bool,
    /// Region for reading national numbers in `audience.phones`.
    pub region: Option<String>,
}

/// Writes an article; published ones reach the feeds of those in its audience.
#[utoipa::path(post, path = "/v1/articles", tag = "community", security(("bearer" = [])),
    request_body = NewArticleBody,
    responses((status = 201, body = ItemBody), (status = 400, body = ErrorBody)))]
async fn create_article(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<NewArticleBody>,
) -> Result<(StatusCode, Json<ItemBody>), ApiError> {
    let new = NewArticle {
        title: body.title,
        body: body.markdown,
        tags: body.tags,
        audience: body.audience.into(),
        draft: body.draft,
        region: body.region,
    };
    let view = state.community.create_article(&auth.user, new).await?;
    Ok((StatusCode::CREATED, Json(item_body(view))))
}

/// Markdown to preview.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    /// As for an article.
    pub markdown: String,
}

/// An article's Markdown rendered.
#[derive(Serialize, ToSchema)]
pub struct PreviewAnswer {
    /// The HTML the article would show (sanitised).
    pub html: String,
    /// Its plain-text opening.
    pub excerpt: String,
}

/// Renders Markdown as an article would show it, storing nothing (the editor's preview).
#[utoipa::path(post, path = "/v1/articles/preview", tag = "community", security(("bearer" = [])),
    request_body = PreviewBody,
    responses((status = 200, body = PreviewAnswer), (status = 400, body = ErrorBody)))]
async fn preview(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<PreviewBody>,
) -> Result<Json<PreviewAnswer>, ApiError> {
    let rendered = state
        .community
        .preview_article(&auth.user, &body.markdown)
        .await?;
    Ok(Json(PreviewAnswer {
        html: rendered.html,
        excerpt: rendered.text_excerpt,
    }))
}

/// My drafts, newest first.
#[utoipa::path(get, path = "/v1/articles/drafts", tag = "community", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = PostPage)))]
async fn drafts(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Query(q): Query<PageQuery>,
) -> Result<Json<PostPage>, ApiError> {
    let before = parse_cursor(q.cursor.as_deref())?;
    let page = state
        .community
        .drafts(&auth.user, before, q.limit.unwrap_or(20))
        .await?;
    Ok(Json(page_body(page)))
}

/// An article as the caller may see it (logged out: public articles).
#[utoipa::path(get, path = "/v1/articles/{id}", tag = "community", params(("id" = String, Path)),
    responses((status = 200, body = ItemBody), (status = 404, body = ErrorBody)))]
async fn get_article(
    State(state): State<AppState>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> Result<Json<ItemBody>, ApiError> {
    let view = state
        .community
        .item_of_kind(viewer(&auth), &id, ItemKind::Article)
        .await?;
    Ok(Json(item_body(view)))
}

/// A change of my article: absent fields stay; `draft: false` publishes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticlePatch {
    /// New title.
    pub title: Option<String>,
    /// New Markdown.
    pub markdown: Option<String>,
    /// New tags.
    pub tags: Option<Vec<String>>,
    /// New audience.
    pub audience: Option<AudienceBody>,
    /// Draft or published.
    pub draft: Option<bool>,
    /// Region for reading national numbers in `audience.phones`.
    pub region: Option<String>,
}

/// Edits (or publishes) my article.
#[utoipa::path(patch, path = "/v1/articles/{id}", tag = "community", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ArticlePatch,
    responses((status = 200, body = ItemBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn edit_article(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ArticlePatch>,
) -> Result<Json<ItemBody>, ApiError> {
    let edit = ArticleEdit {
        title: body.title,
        body: body.markdown,
        tags: body.tags,
        audience: body.audience.map(Into::into),
        draft: body.draft,
        region: body.region,
    };
    Ok(Json(item_body(
        state.community.edit_article(&auth.user, &id, edit).await?,
    )))
}

/// Deletes my article.
#[utoipa::path(delete, path = "/v1/articles/{id}", tag = "community", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_article(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .community
        .delete_item(&auth.user, &id, ItemKind::Article)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of a blog, maybe of one tag.
#[derive(Deserialize, IntoParams)]
pub struct BlogQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page (1 to 50, default 20).
    pub limit: Option<usize>,
    /// Only articles with this tag.
    pub tag: Option<String>,
}

/// A user's blog: their published articles the caller may see, newest first.
#[utoipa::path(get, path = "/v1/users/{phone}/articles", tag = "community",
    params(("phone" = String, Path), BlogQuery),
    responses((status = 200, body = PostPage), (status = 404, body = ErrorBody)))]
async fn user_articles(
    State(state): State<AppState>,
    auth: MaybeAuth,
    Path(phone): Path<String>,
    Query(q): Query<BlogQuery>,
) -> Result<Json<PostPage>, ApiError> {
    let phone = path_phone(&phone)?;
    let before = parse_cursor(q.cursor.as_deref())?;
    let page = state
        .community
        .blog(
            viewer(&auth),
            &phone,
            q.tag.as_deref(),
            before,
            q.limit.unwrap_or(20),
        )
        .await?;
    Ok(Json(page_body(page)))
}

/// Text for XML: `&`, `<`, `>`, `"` and `'` escaped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The Atom feed of a user's public articles (what a visitor sees: the newest 20).
#[utoipa::path(get, path = "/v1/users/{phone}/articles.atom", tag = "community",
    params(("phone" = String, Path)),
    responses((status = 200, content_type = "application/atom+xml", description = "Atom 1.0"),
        (status = 404, body = ErrorBody)))]
async fn atom(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(phone): Path<String>,
) -> Result<Response, ApiError> {
    let phone = path_phone(&phone)?;
    let page = state
        .community
        .blog(Viewer::Visitor, &phone, None, None, 20)
        .await?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let base = format!("http://{}", xml(host));
    let updated = page
        .items
        .iter()
        .map(|i| i.item.edited_at.unwrap_or(i.item.created_at))
        .max()
        .unwrap_or_else(|| state.community.now_utc());
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    out.push_str(&format!(
        "<id>urn:dialtone:blog:{}</id>\n<title>{}</title>\n<updated>{}</updated>\n\
         <link rel=\"self\" href=\"{base}/v1/users/{}/articles.atom\"/>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{base}/u/{}/blog\"/>\n",
        xml(phone.as_str()),
        xml(phone.as_str()),
        rfc3339(updated),
        xml(phone.as_str()),
        xml(&phone.as_str().replace('+', "%2B")),
    ));
    for view in &page.items {
        let item = &view.item;
        let name = view
            .owner
            .display_name
            .clone()
            .unwrap_or_else(|| view.owner.phone.to_string());
        out.push_str(&format!(
            "<entry>\n<id>urn:dialtone:article:{id}</id>\n<title>{title}</title>\n\
             <link href=\"{base}/u/{path}/blog/{id}\"/>\n<published>{published}</published>\n\
             <updated>{updated}</updated>\n<author><name>{name}</name></author>\n\
             <summary>{summary}</summary>\n<content type=\"html\">{content}</content>\n</entry>\n",
            id = xml(&item.id),
            path = xml(&phone.as_str().replace('+', "%2B")),
            title = xml(item.title.as_deref().unwrap_or_default()),
            published = rfc3339(item.created_at),
            updated = rfc3339(item.edited_at.unwrap_or(item.created_at)),
            name = xml(&name),
            summary = xml(&item.text),
            content = xml(item.body_html.as_deref().unwrap_or_default()),
        ));
    }
    out.push_str("</feed>\n");
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        out,
    )
        .into_response())
}

/// A new album.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAlbumBody {
    /// 1 to 100 characters.
    pub title: String,
    /// What it is about.
    pub description: Option<String>,
    /// Who it is for (its photos follow).
    pub audience: AudienceBody,
    /// Region for reading national numbers in `audience.phones`.
    pub region: Option<String>,
}

/// Makes an album; photos are added with `POST /v1/albums/{id}/photos`.
#[utoipa::path(post, path = "/v1/albums", tag = "community", security(("bearer" = [])),
    request_body = NewAlbumBody,
    responses((status = 201, body = ItemBody), (status = 400, body = ErrorBody)))]
async fn create_album(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<NewAlbumBody>,
) -> Result<(StatusCode, Json<ItemBody>), ApiError> {
    let new = NewAlbum {
        title: body.title,
        description: body.description,
        audience: body.audience.into(),
        region: body.region,
    };
    let view = state.community.create_album(&auth.user, new).await?;
    Ok((StatusCode::CREATED, Json(item_body(view))))
}

/// An album with its photos, as the caller may see it (logged out: public albums).
#[utoipa::path(get, path = "/v1/albums/{id}", tag = "community", params(("id" = String, Path)),
    responses((status = 200, body = ItemBody), (status = 404, body = ErrorBody)))]
async fn get_album(
    State(state): State<AppState>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> Result<Json<ItemBody>, ApiError> {
    Ok(Json(item_body(
        state.community.album(viewer(&auth), &id).await?,
    )))
}

/// A change of my album: absent fields stay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlbumPatch {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New cover: the attachment id of one of its photos.
    pub cover: Option<String>,
    /// New audience (its photos follow).
    pub audience: Option<AudienceBody>,
    /// Region for reading national numbers in `audience.phones`.
    pub region: Option<String>,
}

/// Edits my album.
#[utoipa::path(patch, path = "/v1/albums/{id}", tag = "community", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = AlbumPatch,
    responses((status = 200, body = ItemBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn edit_album(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AlbumPatch>,
) -> Result<Json<ItemBody>, ApiError> {
    let edit = AlbumEdit {
        title: body.title,
        description: body.description,
        cover: body.cover,
        audience: body.audience.map(Into::into),
        region: body.region,
    };
    Ok(Json(item_body(
        state.community.edit_album(&auth.user, &id, edit).await?,
    )))
}

/// Deletes my album with its photos.
#[utoipa::path(delete, path = "/v1/albums/{id}", tag = "community", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_album(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .community
        .delete_item(&auth.user, &id, ItemKind::Album)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A photo to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPhotoBody {
    /// An image attachment of mine.
    pub attachment: String,
    /// Its caption.
    pub caption: Option<String>,
}

/// Photos to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPhotos {
    /// 1 to 100 at once, appended in this order.
    pub photos: Vec<NewPhotoBody>,
}

/// Adds photos to my album (all or none).
#[utoipa::path(post, path = "/v1/albums/{id}/photos", tag = "community", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewPhotos,
    responses((status = 201, body = ItemBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn add_photos(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewPhotos>,
) -> Result<(StatusCode, Json<ItemBody>), ApiError> {
    let photos = body
        .photos
        .into_iter()
        .map(|p| NewPhoto {
            attachment: p.attachment,
            caption: p.caption,
        })
        .collect();
    let view = state.community.add_photos(&auth.user, &id, photos).await?;
    Ok((StatusCode::CREATED, Json(item_body(view))))
}

/// A photo with its likes and comments, as the caller may see it (where its album is
/// seen).
#[utoipa::path(get, path = "/v1/photos/{id}", tag = "community", params(("id" = String, Path)),
    responses((status = 200, body = ItemBody), (status = 404, body = ErrorBody)))]
async fn get_photo(
    State(state): State<AppState>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> Result<Json<ItemBody>, ApiError> {
    let view = state
        .community
        .item_of_kind(viewer(&auth), &id, ItemKind::Photo)
        .await?;
    Ok(Json(item_body(view)))
}

/// A change of my photo.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhotoPatch {
    /// New caption.
    pub caption: Option<String>,
    /// New place in the album (photos are ordered by it).
    pub position: Option<i64>,
}

/// Edits my photo's caption or place.
#[utoipa::path(patch, path = "/v1/photos/{id}", tag = "community", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = PhotoPatch,
    responses((status = 200, body = ItemBody), (status = 404, body = ErrorBody)))]
async fn edit_photo(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PhotoPatch>,
) -> Result<Json<ItemBody>, ApiError> {
    Ok(Json(item_body(
        state
            .community
            .edit_photo(&auth.user, &id, body.caption, body.position)
            .await?,
    )))
}

/// Deletes my photo.
#[utoipa::path(delete, path = "/v1/photos/{id}", tag = "community", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_photo(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .community
        .delete_item(&auth.user, &id, ItemKind::Photo)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's albums the caller may see, newest first.
#[utoipa::path(get, path = "/v1/users/{phone}/albums", tag = "community",
    params(("phone" = String, Path), PageQuery),
    responses((status = 200, body = PostPage), (status = 404, body = ErrorBody)))]
async fn user_albums(
    State(state): State<AppState>,
    auth: MaybeAuth,
    Path(phone): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<PostPage>, ApiError> {
    let phone = path_phone(&phone)?;
    let before = parse_cursor(q.cursor.as_deref())?;
    let page = state
        .community
        .albums(viewer(&auth), &phone, before, q.limit.unwrap_or(20))
        .await?;
    Ok(Json(page_body(page)))
}
