//! Blog articles: Markdown in, HTML out that is safe to put in our pages.
//!
//! [`render`] parses CommonMark with the GFM tables, strikethrough and task lists
//! (pulldown-cmark), applies this crate's policy to the parsed events, writes HTML, and
//! passes that HTML through an ammonia sanitiser configured by hand from a written-down
//! allow-list ([`TAGS`], [`ATTRIBUTES`], [`LINK_SCHEMES`]). Either stage alone keeps
//! scripts out; both run, so that a mistake in one is caught by the other.
//!
//! **Raw HTML is escaped, not sanitised.** `<b>hi</b>` in an article shows as those
//! characters. Sanitising it would be safe too (ammonia would strip it to the same
//! allow-list), but pulldown-cmark passes raw HTML through in pieces (a block up to the
//! next blank line, inline tags one by one), so an unclosed `<table>` or `<a>` from the
//! author would swallow or re-shape the Markdown around it, and what an article looks
//! like would depend on how a browser repairs it. Escaping keeps Markdown the one
//! source of structure: the allow-list then only has to hold what the renderer itself
//! makes, and anything else reaching the sanitiser is a bug it removes.
//!
//! **Pictures are attachments only.** `![alt](attachment:ID)` becomes
//! `<img src="/v1/attachments/ID" alt="alt" loading="lazy">` and `ID` is listed in
//! [`Rendered::image_refs`], so that the caller can check the author owns each one.
//! Any other picture (`https:`, relative, `data:`) is dropped and its description kept
//! as text: the server does not hot-link foreign pictures, which would tell a third
//! party who reads which article, from where.
//!
//! **Links** keep only `http`, `https` and `mailto` destinations and relative ones that
//! stay on our origin, judged as a browser parses them (see `urls`); others lose the
//! link and keep the text. Every link gets `rel="nofollow noopener noreferrer"`.
//! Headings get no `id` (nothing can clobber the page's ids) and nothing gets `style`,
//! `class` (a code block's `language-*` aside) or `on*` attributes. The output depends
//! only on the input and the limits.
//!
//! **Limits.** Input size is checked before parsing. pulldown-cmark parses nested
//! blocks without recursion and in linear time, but the HTML parser under ammonia
//! (html5ever) walks its stack of open elements at each new block, so its time grows
//! with the square of the nesting: 8,000 nested quotes took 0.16 s optimised, 200 KiB
//! of `>` would take about two minutes. So the tags open at once are capped too
//! ([`Limits::max_depth`]), counted on the event stream, which stops at the first tag
//! too deep, before any HTML is parsed.

mod error;
mod excerpt;
mod rewrite;
mod sanitize;
mod urls;

use pulldown_cmark::{Options, Parser};

pub use error::MarkupError;
pub use excerpt::EXCERPT_CHARS;
pub use sanitize::{ATTRIBUTES, AttributeValue, LINK_REL, TAGS};
pub use urls::{ATTACHMENT_PATH, LINK_SCHEMES};

/// An article rendered for the web.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// HTML to embed as it is (inside an element of the page's body): only the
    /// elements and attributes of the allow-list.
    pub html: String,
    /// Plain text of the article's opening, at most [`EXCERPT_CHARS`] characters, for
    /// previews and OpenGraph descriptions. Not HTML: escape it where it is embedded.
    pub text_excerpt: String,
    /// The attachment ids the article shows as pictures, each once, in the order they
    /// first appear. The caller must check the author may publish each of them.
    pub image_refs: Vec<String>,
}

/// How large an article may be. The defaults suit a long blog post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of Markdown, checked before any work is done (default 200 KiB).
    pub max_bytes: usize,
    /// Elements open at once: quotes in quotes, lists in lists, emphasis in a link in a
    /// list item (default 32). Bounds the depth of what ammonia and browsers walk.
    pub max_depth: usize,
    /// Pictures shown (default 50): every `![](attachment:…)` counts, a repeat of an
    /// earlier one too, as each is an element the reader's browser loads. Pictures
    /// that are dropped (not attachments) do not count.
    pub max_images: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 200 * 1024,
            max_depth: 32,
            max_images: 50,
        }
    }
}

/// Renders an article's Markdown to HTML that is safe to embed, with its excerpt and
/// the attachments it shows. Fails only when the article breaks one of the `limits`;
/// unsafe content is never an error, it is dropped or shown as text.
pub fn render(markdown: &str, limits: &Limits) -> Result<Rendered, MarkupError> {
    if markdown.len() > limits.max_bytes {
        return Err(MarkupError::TooLong {
            max: limits.max_bytes,
        });
    }
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut events = rewrite::Rewriter::new(Parser::new_ext(markdown, options), limits);
    let mut unsafe_html = String::with_capacity(markdown.len() + markdown.len() / 2);
    pulldown_cmark::html::push_html(&mut unsafe_html, &mut events);
    let gathered = events.finish()?;
    Ok(Rendered {
        html: sanitize::sanitize(&unsafe_html),
        text_excerpt: gathered.excerpt,
        image_refs: gathered.image_refs,
    })
}
