//! Link previews for community posts: the title, description, site name and image of the
//! page a post links to, fetched by the server.
//!
//! Fetching a URL a user chose is a classic way into a server's network (server-side
//! request forgery), so every fetch here is guarded:
//!
//! - only `http`/`https` links of at most [`MAX_URL_LEN`] bytes, without `user:pass@`,
//!   and not to a port browsers block (`link.rs`);
//! - every address the host resolves to must be public ([`AddressPolicy::PublicOnly`]:
//!   no loopback, private, link-local or cloud-metadata address, in any spelling or
//!   IPv6 wrapping) (`address.rs`);
//! - the connection goes only to the addresses that were checked (the name is pinned,
//!   so DNS rebinding cannot swap it), redirects are followed one by one and checked
//!   again, environment proxies are ignored (`fetch.rs`);
//! - one deadline for the whole preview, pages cut at a size limit, images refused over
//!   theirs, only HTML parsed and only JPEG/PNG/GIF/WebP bytes kept ([`PreviewConfig`]).
//!
//! What comes back is plain text: a title of `<script>alert(1)</script>` is returned as
//! those characters, and whoever renders a preview escapes it like any user text.
//!
//! This crate knows HTTP as a client only; which posts get previews, and who sees them,
//! is decided above it.

mod address;
mod config;
mod error;
mod fetch;
mod image;
mod link;
mod page;
mod text;

use tokio::time::{Instant, timeout_at};

pub use address::AddressPolicy;
pub use config::PreviewConfig;
pub use error::{FetchFailure, InvalidUrl, PreviewError};
pub use fetch::NoLookups;
pub use image::FetchedImage;
pub use link::MAX_URL_LEN;
pub use text::{MAX_DESCRIPTION_CHARS, MAX_SITE_NAME_CHARS, MAX_TITLE_CHARS};

use crate::fetch::{Overflow, get, read_capped};
use crate::image::fetch_image_at;
use crate::link::{check_url, parse_link};
use crate::page::{is_html, read_page};

/// A preview of a linked page, ready to be stored with a post.
///
/// Every text is plain text, cleaned (whitespace collapsed, control and bidi characters
/// dropped) and capped ([`MAX_TITLE_CHARS`], [`MAX_DESCRIPTION_CHARS`],
/// [`MAX_SITE_NAME_CHARS`]); it must be escaped where it is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPreview {
    /// The URL the page was finally fetched from, after redirects, normalised and without
    /// fragment. The page's own claims (`og:url`, `<link rel=canonical>`) are not used:
    /// a page could claim to be any site.
    pub url: String,
    /// `og:title`, else `twitter:title`, else `<title>`.
    pub title: Option<String>,
    /// `og:description`, else `twitter:description`, else `<meta name=description>`.
    pub description: Option<String>,
    /// `og:site_name`.
    pub site_name: Option<String>,
    /// `og:image` (else `twitter:image`), if it could be fetched under the same rules and
    /// is a JPEG, PNG, GIF or WebP. A missing or refused image leaves the preview
    /// without one rather than failing it.
    pub image: Option<FetchedImage>,
}

/// What a preview asks for when fetching the page.
const PAGE_ACCEPT: &str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1";

/// Fetches the page at `url` and makes its preview, within `config`'s limits.
///
/// The link is refused (with [`PreviewError::InvalidUrl`] or
/// [`PreviewError::ForbiddenAddress`]) before any connection if its text or address is
/// not acceptable. The image's own failures are logged and leave `image` empty.
pub async fn fetch_preview(url: &str, config: &PreviewConfig) -> Result<LinkPreview, PreviewError> {
    let deadline = Instant::now() + config.timeout;
    let link = parse_link(url)?;
    let timed_out = || PreviewError::Timeout {
        limit: config.timeout,
    };
    let (page_url, meta) = timeout_at(deadline, fetch_page(link, config))
        .await
        .map_err(|_| timed_out())??;

    let image = match meta.image.as_deref() {
        None => None,
        Some(raw) => {
            let fetched = match page_url.join(raw) {
                Ok(image_url) => timeout_at(deadline, fetch_checked_image(image_url, config))
                    .await
                    .unwrap_or_else(|_| Err(timed_out())),
                Err(e) => Err(InvalidUrl::Unparsable(e).into()),
            };
            match fetched {
                Ok(image) => Some(image),
                Err(e) => {
                    tracing::debug!(page = %page_url, image = raw, error = %e, code = e.code(), "link preview dropped its image");
                    None
                }
            }
        }
    };

    Ok(LinkPreview {
        url: page_url.to_string(),
        title: meta.title,
        description: meta.description,
        site_name: meta.site_name,
        image,
    })
}

/// Fetches an image under the same rules as a preview's (addresses, redirects, the
/// deadline, `max_image_bytes`, the four image signatures), for an image link given on
/// its own.
pub async fn fetch_image(url: &str, config: &PreviewConfig) -> Result<FetchedImage, PreviewError> {
    let link = parse_link(url)?;
    tokio::time::timeout(config.timeout, fetch_image_at(link, config))
        .await
        .map_err(|_| PreviewError::Timeout {
            limit: config.timeout,
        })?
}

/// The page part of a preview: fetched, checked to be HTML, cut and read.
async fn fetch_page(
    link: url::Url,
    config: &PreviewConfig,
) -> Result<(url::Url, page::PageMeta), PreviewError> {
    let answer = get(link, PAGE_ACCEPT, config).await?;
    let content_type = answer
        .response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if !is_html(&content_type) {
        return Err(PreviewError::NotHtml);
    }
    let body = read_capped(answer.response, config.max_page_bytes, Overflow::Truncate).await?;
    Ok((answer.url, read_page(&body, &content_type)))
}

/// An image URL found in a page, checked as a typed link would be, then fetched.
async fn fetch_checked_image(
    url: url::Url,
    config: &PreviewConfig,
) -> Result<FetchedImage, PreviewError> {
    fetch_image_at(check_url(url)?, config).await
}
