//! Public pages of the community, rendered on the server for anyone with the link: a
//! user's space (`/u/{phone}`), one post (`/u/{phone}/posts/{id}`), their blog
//! (`/u/{phone}/blog`) and one article (`/u/{phone}/blog/{id}`). No JavaScript, OpenGraph
//! tags for link previews in chat apps, English or Simplified Chinese by `?lang=`, the
//! `lang` cookie or `Accept-Language`.
//!
//! Every page is what a visitor who is not logged in may see (a stranger to everyone:
//! public items of users who let everyone find them), asked of the community service
//! like any read: a user or item a visitor may not see gets the same "not found" page
//! as a number that is not registered.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use dialtone_core::PhoneNumber;
use dialtone_service::ServiceError;
use dialtone_service::community::{ItemView, Page, ProfileView, Viewer};
use dialtone_store::{ItemCursor, ItemKind};
use dialtone_web::Lang;
use serde::{Deserialize, Serialize};

use crate::error::OwnBody;
use crate::routes::community::{cursor_text, parse_cursor};
use crate::routes::rfc3339;
use crate::{ApiError, AppState};

const TEMPLATE: &str = include_str!("../templates/public/page.html");

/// Policy of the public pages: nothing runs, pictures come from this server only, the
/// styles are the page's own.
const CSP: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page template, parsed once.
static TEMPLATES: LazyLock<Result<minijinja::Environment<'static>, minijinja::Error>> =
    LazyLock::new(|| {
        let mut env = minijinja::Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.add_template("page.html", TEMPLATE)?;
        Ok(env)
    });

/// Items on one page.
const PAGE_ITEMS: usize = 20;

/// The public pages' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/u/{phone}", get(space))
        .route("/u/{phone}/posts/{id}", get(post))
        .route("/u/{phone}/blog", get(blog))
        .route("/u/{phone}/blog/{id}", get(article))
}

/// `?lang=` and `?cursor=`.
#[derive(Deserialize)]
struct PageQuery {
    lang: Option<String>,
    cursor: Option<String>,
}

/// The words of the pages.
#[derive(Serialize)]
struct Words {
    moments: &'static str,
    blog: &'static str,
    likes: &'static str,
    comments: &'static str,
    more: &'static str,
    open: &'static str,
    nothing: &'static str,
    not_found: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::ZhCn => Words {
            moments: "动态",
            blog: "博客",
            likes: "赞",
            comments: "评论",
            more: "更早的内容",
            open: "查看",
            nothing: "还没有公开的内容。",
            not_found: "找不到这个页面。",
        },
        Lang::En => Words {
            moments: "Moments",
            blog: "Blog",
            likes: "Likes",
            comments: "Comments",
            more: "Older",
            open: "Open",
            nothing: "Nothing public yet.",
            not_found: "This page does not exist.",
        },
    }
}

#[derive(Serialize)]
struct Owner {
    name: String,
    phone_path: String,
    signature: Option<String>,
    bio: Option<String>,
}

#[derive(Serialize)]
struct LinkCard {
    url: String,
    title: Option<String>,
    description: Option<String>,
}

#[derive(Serialize)]
struct Card {
    title: Option<String>,
    href: Option<String>,
    html: Option<String>,
    text: String,
    pictures: Vec<String>,
    link: Option<LinkCard>,
    place: Option<String>,
    time: String,
    day: String,
    likes: usize,
    comments: usize,
}

/// What one page shows.
struct Shown {
    title: String,
    description: String,
    og_type: &'static str,
    image: Option<String>,
    atom: Option<String>,
    owner: Option<Owner>,
    items: Vec<Card>,
    more: Option<String>,
    missing: bool,
}

impl Shown {
    fn missing() -> Self {
        Shown {
            title: "dialtone".into(),
            description: String::new(),
            og_type: "website",
            image: None,
            atom: None,
            owner: None,
            items: Vec::new(),
            more: None,
            missing: true,
        }
    }
}

fn lang_of(headers: &HeaderMap, query: &PageQuery) -> Lang {
    query
        .lang
        .as_deref()
        .and_then(Lang::from_tag)
        .unwrap_or_else(|| {
            let get = |h| headers.get(h).and_then(|v: &HeaderValue| v.to_str().ok());
            dialtone_web::negotiate(get(header::COOKIE), get(header::ACCEPT_LANGUAGE))
        })
}

fn phone_of(raw: &str) -> Option<PhoneNumber> {
    PhoneNumber::parse_e164(raw).ok()
}

/// The `+` of a number as it goes in a path.
fn phone_path(phone: &PhoneNumber) -> String {
    phone.as_str().replace('+', "%2B")
}

fn owner_of(profile: &ProfileView) -> Owner {
    Owner {
        name: profile
            .user
            .display_name
            .clone()
            .unwrap_or_else(|| profile.user.phone.international()),
        phone_path: phone_path(&profile.user.phone),
        signature: profile.signature.clone(),
        bio: profile.bio.clone(),
    }
}

fn card(view: &ItemView, href: Option<String>, full: bool) -> Card {
    let item = &view.item;
    let pictures = match item.kind {
        ItemKind::Post => item.attachments.clone(),
        _ => Vec::new(),
    };
    Card {
        title: item.title.clone(),
        href,
        // An article's pictures, for a visitor: the public path (the API's needs a token).
        html: if full {
            item.body_html
                .as_ref()
                .map(|h| h.replace("src=\"/v1/attachments/", "src=\"/v1/public/attachments/"))
        } else {
            None
        },
        text: item.text.clone(),
        pictures,
        link: item.link.as_ref().map(|l| LinkCard {
            url: l.url.clone(),
            title: l.title.clone(),
            description: l.summary.clone(),
        }),
        place: item.place.clone(),
        time: rfc3339(item.created_at),
        day: item.created_at.format("%Y-%m-%d").to_string(),
        likes: view.likes.len(),
        comments: view.comments.len(),
    }
}

/// An excerpt for a description: one line, at most 160 characters.
fn excerpt(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= 160 {
        line
    } else {
        let mut cut: String = line.chars().take(159).collect();
        cut.push('…');
        cut
    }
}

fn base_of(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

fn render(lang: Lang, headers: &HeaderMap, path: &str, shown: Shown) -> Response {
    // "Not found" is one page whatever was asked: it names no number, so a user hidden
    // from visitors and a number not registered answer the same bytes.
    let path = if shown.missing { "" } else { path };
    let html = match &*TEMPLATES {
        Ok(env) => env.get_template("page.html"),
        Err(e) => Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            e.to_string(),
        )),
    }
    .and_then(|t| {
        t.render(minijinja::context! {
            lang => lang.tag(),
            t => words(lang),
            base => base_of(headers),
            path => path,
            title => shown.title,
            description => shown.description,
            og_type => shown.og_type,
            image => shown.image,
            atom => shown.atom,
            owner => shown.owner,
            items => shown.items,
            more => shown.more,
            missing => shown.missing,
        })
    });
    let (status, body) = match html {
        Ok(html) if shown.missing => (StatusCode::NOT_FOUND, html),
        Ok(html) => (StatusCode::OK, html),
        Err(e) => {
            tracing::error!(error = %e, "public page not rendered");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                String::from("something went wrong on our side"),
            )
        }
    };
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    response.extensions_mut().insert(OwnBody);
    response
}

/// What a page shows when the service says "no such user or item"; other failures stay
/// errors.
fn or_missing(result: Result<Shown, ServiceError>) -> Result<Shown, ApiError> {
    match result {
        Ok(shown) => Ok(shown),
        Err(ServiceError::UserNotFound | ServiceError::ItemNotFound) => Ok(Shown::missing()),
        Err(e) => Err(ApiError::from(e)),
    }
}

async fn listing(
    state: &AppState,
    phone: &PhoneNumber,
    blog: bool,
    cursor: Option<ItemCursor>,
) -> Result<Shown, ServiceError> {
    let profile = state.community.profile(Viewer::Visitor, phone).await?;
    let page: Page = if blog {
        state
            .community
            .blog(Viewer::Visitor, phone, None, cursor, PAGE_ITEMS)
            .await?
    } else {
        state
            .community
            .space(Viewer::Visitor, phone, cursor, PAGE_ITEMS)
            .await?
    };
    let owner = owner_of(&profile);
    let base = format!("/u/{}", owner.phone_path);
    let items = page
        .items
        .iter()
        .map(|v| {
            let href = if blog {
                format!("{base}/blog/{}", v.item.id)
            } else {
                format!("{base}/posts/{}", v.item.id)
            };
            card(v, Some(href), false)
        })
        .collect();
    let more = page.next.as_ref().map(|c| {
        let path = if blog {
            format!("{base}/blog")
        } else {
            base.clone()
        };
        format!("{path}?cursor={}", cursor_text(c))
    });
    Ok(Shown {
        title: owner.name.clone(),
        description: profile
            .signature
            .clone()
            .or(profile.bio.clone())
            .map(|s| excerpt(&s))
            .unwrap_or_default(),
        og_type: "profile",
        image: profile
            .avatar_id
            .map(|a| format!("/v1/public/attachments/{a}")),
        atom: blog.then(|| format!("/v1/users/{}/articles.atom", owner.phone_path)),
        owner: Some(owner),
        items,
        more,
        missing: false,
    })
}

async fn single(
    state: &AppState,
    phone: &PhoneNumber,
    id: &str,
    kind: ItemKind,
) -> Result<Shown, ServiceError> {
    let profile = state.community.profile(Viewer::Visitor, phone).await?;
    let view = state
        .community
        .item_of_kind(Viewer::Visitor, id, kind)
        .await?;
    if view.owner.id != profile.user.id {
        return Err(ServiceError::ItemNotFound);
    }
    let owner = owner_of(&profile);
    let image = view
        .item
        .attachments
        .first()
        .or(view.item.link.as_ref().and_then(|l| l.image_id.as_ref()))
        .map(|a| format!("/v1/public/attachments/{a}"));
    let title = view
        .item
        .title
        .clone()
        .unwrap_or_else(|| owner.name.clone());
    Ok(Shown {
        title,
        description: excerpt(&view.item.text),
        og_type: "article",
        image,
        atom: None,
        owner: Some(owner),
        items: vec![card(&view, None, true)],
        more: None,
        missing: false,
    })
}

async fn space(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    list_page(&state, &headers, &raw, &query, false).await
}

async fn blog(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    list_page(&state, &headers, &raw, &query, true).await
}

async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw, id)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    item_page(&state, &headers, &raw, &id, &query, ItemKind::Post).await
}

async fn article(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw, id)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    item_page(&state, &headers, &raw, &id, &query, ItemKind::Article).await
}

/// A space's posts (`blog`: its articles), a page of them.
async fn list_page(
    state: &AppState,
    headers: &HeaderMap,
    raw: &str,
    query: &PageQuery,
    blog: bool,
) -> Result<Response, ApiError> {
    let lang = lang_of(headers, query);
    let cursor = parse_cursor(query.cursor.as_deref())?;
    let shown = match phone_of(raw) {
        Some(phone) => or_missing(listing(state, &phone, blog, cursor).await)?,
        None => Shown::missing(),
    };
    let path = if blog {
        format!("/u/{raw}/blog")
    } else {
        format!("/u/{raw}")
    };
    Ok(render(lang, headers, &path, shown))
}

/// One post or article.
async fn item_page(
    state: &AppState,
    headers: &HeaderMap,
    raw: &str,
    id: &str,
    query: &PageQuery,
    kind: ItemKind,
) -> Result<Response, ApiError> {
    let lang = lang_of(headers, query);
    let shown = match phone_of(raw) {
        Some(phone) => or_missing(single(state, &phone, id, kind).await)?,
        None => Shown::missing(),
    };
    let section = if kind == ItemKind::Article {
        "blog"
    } else {
        "posts"
    };
    Ok(render(
        lang,
        headers,
        &format!("/u/{raw}/{section}/{id}"),
        shown,
    ))
}
