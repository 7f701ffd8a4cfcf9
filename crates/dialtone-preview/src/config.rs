//! The limits a preview is fetched under, as one typed struct.

use std::time::Duration;

use crate::address::AddressPolicy;

/// How a preview may be fetched: how long, how much, how far, from where.
///
/// The defaults are the production settings; tests shorten the timeout and allow their
/// local servers with [`AddressPolicy::AllowList`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewConfig {
    /// The whole preview (every lookup, redirect, the page and the image) must finish
    /// within this, so a slow or silent server costs a bounded wait. If the page came in
    /// time but the image did not, the preview is returned without the image.
    pub timeout: Duration,
    /// The most of a page that is read. A longer page is cut here and the start parsed:
    /// the tags a preview needs live in the `<head>`, and big pages are common.
    pub max_page_bytes: usize,
    /// The largest image kept; a larger one is refused whole.
    pub max_image_bytes: usize,
    /// How many redirects are followed, each re-checked, before giving up.
    pub max_redirects: u8,
    /// What the server calls itself to the sites it fetches, so they can tell who asks.
    pub user_agent: String,
    /// Which addresses may be connected to.
    pub allowed: AddressPolicy,
}

impl Default for PreviewConfig {
    fn default() -> Self {
        PreviewConfig {
            timeout: Duration::from_secs(5),
            max_page_bytes: 512 * 1024,
            max_image_bytes: 5 * 1024 * 1024,
            max_redirects: 3,
            user_agent: concat!(
                "dialtone-preview/",
                env!("CARGO_PKG_VERSION"),
                " (link preview)"
            )
            .to_owned(),
            allowed: AddressPolicy::PublicOnly,
        }
    }
}
