//! The one error type of this crate, with a stable code per case, so the API can map each
//! case to a 4xx answer and the poster can be told what is wrong with their link.

use std::time::Duration;

/// Why a link preview (or its image) could not be made.
///
/// Every case is about the link a user gave, not about this server, so each maps to a
/// 4xx at the HTTP edge (400 or 422), never a 5xx. [`PreviewError::code`] is the stable
/// name to put in the API's error body; the Display text is for people.
///
/// No message names an address: telling a poster which private address a host name
/// resolves to, or why a connection inside the network failed, would map the server's
/// network for them. The detail goes to the logs (`tracing` at debug level) and to
/// [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreviewError {
    /// The link was refused before anything was resolved or fetched.
    #[error("invalid link: {0}")]
    InvalidUrl(#[from] InvalidUrl),
    /// The link, one of its redirects or its image leads to an address that is not on the
    /// public internet (loopback, private, link-local, cloud metadata, …).
    #[error("the link leads to an address that is not public")]
    ForbiddenAddress,
    /// The whole preview (every redirect, the page and the image) took longer than allowed.
    #[error("the link took longer than {} ms to fetch", .limit.as_millis())]
    Timeout {
        /// The configured limit, so the message can say it.
        limit: Duration,
    },
    /// An image was larger than allowed; nothing of it is kept.
    #[error("the image is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The link's page is not `text/html` or `application/xhtml+xml`; only HTML is read.
    #[error("the link is not an HTML page")]
    NotHtml,
    /// The image's bytes are not a JPEG, PNG, GIF or WebP, whatever the server called them.
    #[error("the image is not a JPEG, PNG, GIF or WebP")]
    NotAnImage,
    /// The link redirected more often than allowed.
    #[error("the link redirected more than {limit} times")]
    TooManyRedirects {
        /// The configured limit.
        limit: u8,
    },
    /// The host could not be resolved or reached, or did not answer with the page.
    #[error("could not fetch the link: {0}")]
    FetchFailed(#[from] FetchFailure),
}

impl PreviewError {
    /// The stable, snake_case name of this case, for the API's `{"error": {"code"}}` and
    /// for clients that branch on it; the Display text may change, this may not.
    pub fn code(&self) -> &'static str {
        match self {
            PreviewError::InvalidUrl(_) => "invalid_url",
            PreviewError::ForbiddenAddress => "forbidden_address",
            PreviewError::Timeout { .. } => "timeout",
            PreviewError::TooLarge { .. } => "too_large",
            PreviewError::NotHtml => "not_html",
            PreviewError::NotAnImage => "not_an_image",
            PreviewError::TooManyRedirects { .. } => "too_many_redirects",
            PreviewError::FetchFailed(_) => "fetch_failed",
        }
    }
}

/// What is wrong with a link's text, found without touching the network.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidUrl {
    /// Longer than [`crate::MAX_URL_LEN`]: no real page needs it, and it bounds the work.
    #[error("it is longer than {limit} characters")]
    TooLong {
        /// The limit, so the message can say it.
        limit: usize,
    },
    /// The text is not an absolute URL.
    #[error("it is not a URL")]
    Unparsable(#[source] url::ParseError),
    /// Only the web's schemes are fetched: `file:`, `gopher:`, `ftp:`, `data:` and the
    /// like would reach things a web page cannot.
    #[error("only http and https links are previewed")]
    Scheme,
    /// `user:password@host` links are refused: the server would send someone's
    /// credentials, and they are a common way to disguise the real host.
    #[error("links with a user name or password are refused")]
    Credentials,
    /// An http(s) URL without a host.
    #[error("it has no host")]
    NoHost,
    /// A port the Fetch standard blocks for browsers (SMTP, IRC, …): an HTTP request sent
    /// there could be read as commands of another protocol.
    #[error("port {0} is not fetched")]
    BlockedPort(u16),
}

/// Why a fetch failed after the link itself was accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchFailure {
    /// The host name could not be resolved.
    #[error("its host name could not be resolved")]
    Resolve(#[source] std::io::Error),
    /// The host name resolved to no address at all.
    #[error("its host name has no address")]
    NoAddress,
    /// Connecting, the TLS handshake or reading the answer failed.
    #[error("the connection failed")]
    Connection(#[source] reqwest::Error),
    /// The server answered, but not with the page (404, 500, …).
    #[error("the server answered with status {0}")]
    Status(u16),
    /// A redirect without a usable `Location`.
    #[error("a redirect did not say where to")]
    BadRedirect,
}
