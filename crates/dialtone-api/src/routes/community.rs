//! Profiles, personal spaces (posts) and the feed: `/v1/profile`, `/v1/users/{phone}/profile`,
//! `/v1/users/{phone}/posts`, `/v1/posts`, `/v1/feed`. Profiles, spaces and single posts
//! are readable logged out (public items only); everything else needs a token. Whoever may
//! not see a user gets what an unregistered number gets: 404 `user_not_found`, or 404
//! `item_not_found` for an item.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use dialtone_core::privacy::{Audience, ItemAudience, SpaceWindow};
use dialtone_service::community::{
    AudienceInput, ItemView, NewPost, Page, PostEdit, ProfileUpdate, ProfileView, Viewer,
};
use dialtone_store::{ItemCursor, ItemKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::reactions::{CommentBody, comment_body};
use super::{path_phone, rfc3339};
use crate::error::{ErrorBody, ErrorCode};
use crate::extract::{Auth, JsonBody, MaybeAuth};
use crate::{ApiError, AppState};

/// The community routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_profile, update_profile))
        .routes(routes!(user_profile))
        .routes(routes!(user_posts))
        .routes(routes!(create_post))
        .routes(routes!(get_post, edit_post, delete_post))
        .routes(routes!(feed))
}

/// Who may see a profile field.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ProfileSettings {
    /// `everyone`, `contacts` or `nobody`.
    #[schema(value_type = String, example = "everyone")]
    pub region_visibility: Audience,
    /// `everyone`, `contacts` or `nobody`.
    #[schema(value_type = String, example = "everyone")]
    pub gender_visibility: Audience,
    /// `everyone`, `contacts` or `nobody`.
    #[schema(value_type = String, example = "contacts")]
    pub birthday_visibility: Audience,
    /// How far back others may look into my space: `all`, `six_months`, `month`,
    /// `three_days`.
    #[schema(value_type = String, example = "all")]
    pub space_window: SpaceWindow,
}

/// A profile as the caller may see it.
#[derive(Serialize, ToSchema)]
pub struct ProfileBody {
    /// E.164.
    pub phone: String,
    /// The account's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// One line under the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// About the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    /// Where the caller may see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Where the caller may see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// `YYYY-MM-DD`, where the caller may see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
    /// Attachment id of the avatar (`GET /v1/attachments/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// Attachment id of the cover.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover: Option<String>,
    /// Only in my own profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<ProfileSettings>,
}

fn profile_body(v: ProfileView) -> ProfileBody {
    ProfileBody {
        phone: v.user.phone.to_string(),
        display_name: v.user.display_name,
        signature: v.signature,
        bio: v.bio,
        region: v.region,
        gender: v.gender,
        birthday: v.birthday,
        avatar: v.avatar_id,
        cover: v.cover_id,
        settings: v.settings.map(|s| ProfileSettings {
            region_visibility: s.region_visibility,
            gender_visibility: s.gender_visibility,
            birthday_visibility: s.birthday_visibility,
            space_window: s.space_window,
        }),
    }
}

/// A change of my profile: absent fields stay, `null` clears a field.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// One line (100 characters).
    #[serde(default, deserialize_with = "present")]
    pub signature: Option<Option<String>>,
    /// Up to 2,000 characters.
    #[serde(default, deserialize_with = "present")]
    pub bio: Option<Option<String>>,
    /// In the user's words (64 characters).
    #[serde(default, deserialize_with = "present")]
    pub region: Option<Option<String>>,
    /// In the user's words (64 characters).
    #[serde(default, deserialize_with = "present")]
    pub gender: Option<Option<String>>,
    /// `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "present")]
    pub birthday: Option<Option<String>>,
    /// An image attachment of mine.
    #[serde(default, deserialize_with = "present")]
    pub avatar: Option<Option<String>>,
    /// An image attachment of mine.
    #[serde(default, deserialize_with = "present")]
    pub cover: Option<Option<String>>,
    /// `everyone`, `contacts`, `nobody`.
    #[schema(value_type = Option<String>)]
    pub region_visibility: Option<Audience>,
    /// `everyone`, `contacts`, `nobody`.
    #[schema(value_type = Option<String>)]
    pub gender_visibility: Option<Audience>,
    /// `everyone`, `contacts`, `nobody`.
    #[schema(value_type = Option<String>)]
    pub birthday_visibility: Option<Audience>,
    /// `all`, `six_months`, `month`, `three_days`.
    #[schema(value_type = Option<String>)]
    pub space_window: Option<SpaceWindow>,
}

/// A field that is present (`Some`), with `null` as `Some(None)`.
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// My profile, with who may see which field.
#[utoipa::path(get, path = "/v1/profile", tag = "community", security(("bearer" = [])),
    responses((status = 200, body = ProfileBody)))]
async fn my_profile(
    State(state): State<AppState>,
    Auth(auth): Auth,
) -> Result<Json<ProfileBody>, ApiError> {
    Ok(Json(profile_body(
        state.community.my_profile(&auth.user).await?,
    )))
}

/// Changes my profile.
#[utoipa::path(patch, path = "/v1/profile", tag = "community", security(("bearer" = [])),
    request_body = ProfilePatch,
    responses((status = 200, body = ProfileBody), (status = 400, body = ErrorBody)))]
async fn update_profile(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<ProfilePatch>,
) -> Result<Json<ProfileBody>, ApiError> {
    let update = ProfileUpdate {
        signature: body.signature,
        bio: body.bio,
        region: body.region,
        gender: body.gender,
        birthday: body.birthday,
        avatar_id: body.avatar,
        cover_id: body.cover,
        region_visibility: body.region_visibility,
        gender_visibility: body.gender_visibility,
        birthday_visibility: body.birthday_visibility,
        space_window: body.space_window,
    };
    Ok(Json(profile_body(
        state.community.update_profile(&auth.user, update).await?,
    )))
}

pub(crate) fn viewer(auth: &MaybeAuth) -> Viewer<'_> {
    match &auth.0 {
        Some(a) => Viewer::User(&a.user),
        None => Viewer::Visitor,
    }
}

/// A user's profile as the caller may see it (logged out: as a stranger). An unregistered
/// number and a user the caller may not see both answer 404 `user_not_found`.
#[utoipa::path(get, path = "/v1/users/{phone}/profile", tag = "community",
    params(("phone" = String, Path, description = "E.164 number")),
    responses((status = 200, body = ProfileBody), (status = 404, body = ErrorBody)))]
async fn user_profile(
    State(state): State<AppState>,
    auth: MaybeAuth,
    Path(phone): Path<String>,
) -> Result<Json<ProfileBody>, ApiError> {
    let phone = path_phone(&phone)?;
    Ok(Json(profile_body(
        state.community.profile(viewer(&auth), &phone).await?,
    )))
}

/// A page of items.
#[derive(Deserialize, IntoParams)]
pub struct PageQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page (1 to 50, default 20).
    pub limit: Option<usize>,
}

pub(crate) fn parse_cursor(raw: Option<&str>) -> Result<Option<ItemCursor>, ApiError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let bad = || ApiError::bad_request(ErrorCode::InvalidQuery, "not a cursor this server gave");
    let (ms, id) = raw.split_once('.').ok_or_else(bad)?;
    let ms: i64 = ms.parse().map_err(|_| bad())?;
    let created_at = chrono::DateTime::from_timestamp_millis(ms).ok_or_else(bad)?;
    if id.is_empty() {
        return Err(bad());
    }
    Ok(Some(ItemCursor {
        created_at,
        id: id.to_owned(),
    }))
}

/// A cursor as given to clients.
pub(crate) fn cursor_text(c: &ItemCursor) -> String {
    format!("{}.{}", c.created_at.timestamp_millis(), c.id)
}

/// Who a post is for.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AudienceBody {
    /// `public` (anyone, logged out too), `contacts` (numbers in my address book),
    /// `chosen` (only the groups and people named), `all_except` (my contacts but those
    /// named).
    #[schema(value_type = String, example = "contacts")]
    pub kind: ItemAudience,
    /// Ids of my contact groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Numbers (any dialable form; E.164 in answers).
    #[serde(default)]
    pub phones: Vec<String>,
}

impl From<AudienceBody> for AudienceInput {
    fn from(a: AudienceBody) -> Self {
        AudienceInput {
            kind: a.kind,
            groups: a.groups,
            phones: a.phones,
        }
    }
}

/// A link shared in a post, with its preview.
#[derive(Serialize, ToSchema)]
pub struct LinkBody {
    /// The link.
    pub url: String,
    /// The page's title (plain text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The page's description (plain text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The page's image, as an attachment id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

/// Who likes an item, among those the caller may see.
#[derive(Serialize, ToSchema)]
pub struct LikesBody {
    /// How many (of those the caller may see).
    pub count: usize,
    /// The caller likes it.
    pub liked: bool,
    /// Their numbers, oldest like first.
    pub phones: Vec<String>,
}

/// An item's author.
#[derive(Serialize, ToSchema)]
pub struct AuthorBody {
    /// E.164.
    pub phone: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Avatar (attachment id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

/// One attachment of an item, described so a client can lay it out before fetching it.
#[derive(Serialize, ToSchema)]
pub struct MediaBody {
    /// Attachment id (`GET /v1/attachments/{id}`).
    pub id: String,
    /// Found from the bytes (`image/jpeg`, `video/mp4`, `audio/ogg`, ...).
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// Pixels, for pictures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Pixels, for pictures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// A thumbnail exists (`?thumbnail=true`).
    pub thumbnail: bool,
}

/// An item of a space (a post, an article, an album, a photo) as the caller may see it.
#[derive(Serialize, ToSchema)]
pub struct ItemBody {
    /// Id.
    pub id: String,
    /// `post`, `article`, `album` or `photo`.
    pub kind: String,
    /// Whose.
    pub author: AuthorBody,
    /// Text (may be empty).
    pub text: String,
    /// Attachment ids, in order.
    pub attachments: Vec<String>,
    /// The same attachments described (type, size, dimensions), in order.
    pub media: Vec<MediaBody>,
    /// A shared link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkBody>,
    /// A place name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Who it is for: only in the author's own answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<AudienceBody>,
    /// When posted.
    pub created_at: String,
    /// When last edited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    /// Likes.
    pub likes: LikesBody,
    /// Comments the caller may see, oldest first.
    pub comments: Vec<CommentBody>,
    /// An article's or an album's title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// An article's HTML (sanitised by the server: embed as it is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// An article's Markdown, for its author only (to edit it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
    /// An article's tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// An article not published yet (its author's eyes only).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub draft: bool,
    /// An album's cover (attachment id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover: Option<String>,
    /// An album's photos, in order (in the album's own answer).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub photos: Vec<ItemBody>,
    /// A photo's album.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub album_id: Option<String>,
    /// A photo's place in its album.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
}

pub(crate) fn item_body(v: ItemView) -> ItemBody {
    let item = v.item;
    ItemBody {
        kind: item.kind.as_str().to_owned(),
        author: AuthorBody {
            phone: v.owner.phone.to_string(),
            display_name: v.owner.display_name,
            avatar: v.owner_avatar,
        },
        media: v
            .media
            .into_iter()
            .map(|a| MediaBody {
                thumbnail: a.thumbnail_sha.is_some(),
                id: a.id,
                content_type: a.content_type,
                size: a.size,
                width: a.width,
                height: a.height,
            })
            .collect(),
        text: item.text,
        attachments: item.attachments,
        link: item.link.map(|l| LinkBody {
            url: l.url,
            title: l.title,
            description: l.summary,
            image: l.image_id,
        }),
        place: item.place,
        audience: v.own.then(|| AudienceBody {
            kind: item.audience,
            groups: item.groups,
            phones: item.people.iter().map(|p| p.to_string()).collect(),
        }),
        created_at: rfc3339(item.created_at),
        edited_at: item.edited_at.map(rfc3339),
        likes: LikesBody {
            count: v.likes.len(),
            liked: v.liked,
            phones: v.likes.iter().map(|p| p.to_string()).collect(),
        },
        comments: v.comments.into_iter().map(comment_body).collect(),
        title: item.title,
        html: item.body_html,
        markdown: item.body.filter(|_| v.own),
        tags: item.tags,
        draft: item.draft,
        cover: item.cover_id,
        photos: v.photos.into_iter().map(item_body).collect(),
        album_id: item.parent_id,
        position: item.position,
        id: item.id,
    }
}

/// A page of items.
#[derive(Serialize, ToSchema)]
pub struct PostPage {
    /// Newest first.
    pub items: Vec<ItemBody>,
    /// Give it as `cursor` for the next page; absent at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

pub(crate) fn page_body(page: Page) -> PostPage {
    PostPage {
        next_cursor: page.next.as_ref().map(cursor_text),
        items: page.items.into_iter().map(item_body).collect(),
    }
}

/// A user's space: their posts the caller may see, newest first (logged out: public
/// posts). 404 `user_not_found` as for an unregistered number when the caller may not see
/// the user.
#[utoipa::path(get, path = "/v1/users/{phone}/posts", tag = "community",
    params(("phone" = String, Path, description = "E.164 number"), PageQuery),
    responses((status = 200, body = PostPage), (status = 404, body = ErrorBody)))]
async fn user_posts(
    State(state): State<AppState>,
    auth: MaybeAuth,
    Path(phone): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<PostPage>, ApiError> {
    let phone = path_phone(&phone)?;
    let before = parse_cursor(q.cursor.as_deref())?;
    let page = state
        .community
        .space(viewer(&auth), &phone, before, q.limit.unwrap_or(20))
        .await?;
    Ok(Json(page_body(page)))
}

/// A new post.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItemBody {
    /// Up to 5,000 characters.
    #[serde(default)]
    pub text: String,
    /// Attachment ids of mine: up to 9 pictures, or one video, or one voice clip.
    #[serde(default)]
    pub attachments: Vec<String>,
    /// An http(s) link; the server fetches a preview.
    pub link: Option<String>,
    /// A place name.
    pub place: Option<String>,
    /// Who it is for.
    pub audience: AudienceBody,
    /// Region for reading national numbers in `audience.phones`.
    pub region: Option<String>,
}

/// Publishes a post to my space. Those who follow me (have my number in their book) and
/// are in its audience get a `feed_item` frame.
#[utoipa::path(post, path = "/v1/posts", tag = "community", security(("bearer" = [])),
    request_body = NewItemBody,
    responses((status = 201, body = ItemBody), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "group_not_found"),
        (status = 422, body = ErrorBody, description = "invalid_link, forbidden_link")))]
async fn create_post(
    State(state): State<AppState>,
    Auth(auth): Auth,
    JsonBody(body): JsonBody<NewItemBody>,
) -> Result<(StatusCode, Json<ItemBody>), ApiError> {
    let post = NewPost {
        text: body.text,
        attachments: body.attachments,
        link: body.link,
        place: body.place,
        audience: body.audience.into(),
        region: body.region,
    };
    let view = state.community.create_post(&auth.user, post).await?;
    Ok((StatusCode::CREATED, Json(item_body(view))))
}

/// A post as the caller may see it (logged out: public posts only). 404 `item_not_found`
/// for one the caller may not see, as for an id that does not exist.
#[utoipa::path(get, path = "/v1/posts/{id}", tag = "community",
    params(("id" = String, Path)),
    responses((status = 200, body = ItemBody), (status = 404, body = ErrorBody)))]
async fn get_post(
    State(state): State<AppState>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> Result<Json<ItemBody>, ApiError> {
    Ok(Json(item_body(
        state
            .community
            .item_of_kind(viewer(&auth), &id, ItemKind::Post)
            .await?,
    )))
}

/// A change of my post: absent fields stay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostPatch {
    /// New text.
    pub text: Option<String>,
    /// New place; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub place: Option<Option<String>>,
    /// New audience.
    pub audience: Option<AudienceBody>,
    /// Region for reading national numbers in `audience.phones`.
    pub region: Option<String>,
}

/// Edits my post (text, place, audience).
#[utoipa::path(patch, path = "/v1/posts/{id}", tag = "community", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = PostPatch,
    responses((status = 200, body = ItemBody), (status = 403, body = ErrorBody, description = "not_yours"),
        (status = 404, body = ErrorBody)))]
async fn edit_post(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PostPatch>,
) -> Result<Json<ItemBody>, ApiError> {
    let edit = PostEdit {
        text: body.text,
        place: body.place,
        audience: body.audience.map(Into::into),
        region: body.region,
    };
    Ok(Json(item_body(
        state.community.edit_post(&auth.user, &id, edit).await?,
    )))
}

/// Deletes my post with its comments and likes.
#[utoipa::path(delete, path = "/v1/posts/{id}", tag = "community", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody, description = "not_yours"),
        (status = 404, body = ErrorBody)))]
async fn delete_post(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .community
        .delete_item(&auth.user, &id, ItemKind::Post)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// My feed ("Moments"): my posts and those of the people in my address book that I may
/// see, newest first. Hidden contacts' posts only with `X-Vault-Token`.
#[utoipa::path(get, path = "/v1/feed", tag = "community", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = PostPage), (status = 400, body = ErrorBody)))]
async fn feed(
    State(state): State<AppState>,
    Auth(auth): Auth,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Result<Json<PostPage>, ApiError> {
    let before = parse_cursor(q.cursor.as_deref())?;
    let open = super::contacts::vault_open(&state, &auth, &headers);
    let page = state
        .community
        .feed(&auth.user, open, before, q.limit.unwrap_or(20))
        .await?;
    Ok(Json(page_body(page)))
}
