//! The allow-list, and the ammonia sanitiser configured from it.
//!
//! Every field of ammonia's `Builder` is set here by hand, starting from
//! `Builder::empty()` (which empties only the tag list and leaves ammonia's other
//! defaults in place: `lang`/`title` on every tag, a dozen URL schemes, `rel` without
//! `nofollow`). The list holds exactly what this crate's Markdown rendering produces;
//! since raw HTML in the Markdown is escaped, nothing else should ever reach the
//! sanitiser, which is the second line of defence and must be the stricter one.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};

use crate::urls;

/// The elements an article may contain: what CommonMark and the GFM tables,
/// strikethrough and task lists render to, and nothing that runs, styles, embeds,
/// frames or submits (no `script`, `style`, `iframe`, `object`, `embed`, `form`, `svg`,
/// `math`).
pub const TAGS: &[&str] = &[
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "ul",
    "ol",
    "li",
    "pre",
    "code",
    "em",
    "strong",
    "del",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "input",
];

/// What an attribute's value must be, checked by the sanitiser on every attribute that
/// [`ATTRIBUTES`] lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeValue {
    /// Any text (the serialiser escapes it).
    Text,
    /// A link: an absolute URL whose scheme is one of [`LINK_SCHEMES`](crate::LINK_SCHEMES),
    /// or a relative reference that stays on the article's origin.
    Link,
    /// `/v1/attachments/` and an attachment id, nothing else: pictures come only from
    /// the author's uploads.
    AttachmentPath,
    /// One of these words, exactly.
    OneOf(&'static [&'static str]),
    /// A list's first number: 1 to 9 ASCII digits (what CommonMark allows).
    Number,
    /// `language-` and 1 to 32 of `[A-Za-z0-9_+#.-]`, the class of a fenced code block.
    CodeLanguage,
}

/// The attributes an element may carry, and what each value must be. There are no
/// attributes allowed on every element: no `style`, no `id` (no clobbering of the
/// page's own ids, no anchors to fake), no `class` except a code block's language, and
/// no `on*` handler anywhere. `rel` on links is not in the list because it is never
/// taken from the input: the sanitiser writes [`LINK_REL`] on every `a`.
pub const ATTRIBUTES: &[(&str, &str, AttributeValue)] = &[
    ("a", "href", AttributeValue::Link),
    ("a", "title", AttributeValue::Text),
    ("img", "src", AttributeValue::AttachmentPath),
    ("img", "alt", AttributeValue::Text),
    ("img", "title", AttributeValue::Text),
    ("img", "loading", AttributeValue::OneOf(&["lazy"])),
    ("ol", "start", AttributeValue::Number),
    ("code", "class", AttributeValue::CodeLanguage),
    (
        "th",
        "align",
        AttributeValue::OneOf(&["left", "center", "right"]),
    ),
    (
        "td",
        "align",
        AttributeValue::OneOf(&["left", "center", "right"]),
    ),
    ("input", "type", AttributeValue::OneOf(&["checkbox"])),
    ("input", "checked", AttributeValue::OneOf(&[""])),
    ("input", "disabled", AttributeValue::OneOf(&[""])),
];

/// The `rel` of every link: `nofollow` so that spam in articles earns no search rank,
/// `noopener noreferrer` so that the linked page gets neither a handle on ours nor the
/// article's address.
pub const LINK_REL: &str = "nofollow noopener noreferrer";

/// Elements removed together with everything inside them, rather than unwrapped to
/// their text: raw-text and foreign-content elements whose content is code or markup,
/// not prose. Only reachable if something other than this crate's renderer fed the
/// sanitiser, since raw HTML is escaped before it.
const DROPPED_WITH_CONTENT: &[&str] = &[
    "script",
    "style",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "svg",
    "math",
    "template",
    "noscript",
    "noembed",
    "noframes",
    "xmp",
    "plaintext",
    "textarea",
    "title",
    "select",
    "form",
];

/// The longest language name kept on a code block.
pub(crate) const MAX_LANGUAGE: usize = 32;

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(sanitizer);

/// Sanitises the HTML rendered from an article's Markdown.
pub(crate) fn sanitize(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

/// Whether `name` is a code block's language this crate keeps as a class.
pub(crate) fn is_code_language(name: &str) -> bool {
    (1..=MAX_LANGUAGE).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+#.-".contains(&b))
}

fn sanitizer() -> Builder<'static> {
    let mut tag_attributes: HashMap<&str, HashSet<&str>> = HashMap::new();
    for &(tag, attribute, _) in ATTRIBUTES {
        tag_attributes.entry(tag).or_default().insert(attribute);
    }
    let mut builder = Builder::empty();
    builder
        .tags(TAGS.iter().copied().collect())
        .clean_content_tags(DROPPED_WITH_CONTENT.iter().copied().collect())
        .tag_attributes(tag_attributes)
        .tag_attribute_values(HashMap::new())
        .set_tag_attribute_values(HashMap::from([
            ("img", HashMap::from([("loading", "lazy")])),
            ("input", HashMap::from([("disabled", "")])),
        ]))
        .generic_attributes(HashSet::new())
        .generic_attribute_prefixes(HashSet::new())
        .allowed_classes(HashMap::new())
        .url_schemes(urls::LINK_SCHEMES.iter().copied().collect())
        .url_relative(UrlRelative::Custom(Box::new(keep_same_origin)))
        .link_rel(Some(LINK_REL))
        .strip_comments(true)
        .id_prefix(None)
        .attribute_filter(check_value);
    builder
}

/// The sanitiser's check of relative URLs: kept as they are if they stay on the
/// article's origin, else removed (`//evil.example` is relative to the scheme only).
fn keep_same_origin(url: &str) -> Option<Cow<'_, str>> {
    urls::is_same_origin_relative(url).then_some(Cow::Borrowed(url))
}

/// The sanitiser's attribute filter: the value rules of [`ATTRIBUTES`]. Anything not in
/// the list is dropped here too, so the filter is an allow-list of its own.
fn check_value<'v>(tag: &str, attribute: &str, value: &'v str) -> Option<Cow<'v, str>> {
    if tag == "a" && attribute == "rel" {
        return (value == LINK_REL).then_some(Cow::Borrowed(value));
    }
    let rule = ATTRIBUTES
        .iter()
        .find(|&&(t, a, _)| t == tag && a == attribute)
        .map(|&(_, _, rule)| rule)?;
    let ok = match rule {
        // The scheme and same-origin checks of links are ammonia's `url_schemes` and
        // `url_relative`, which run on every `href` and `src`.
        AttributeValue::Text | AttributeValue::Link => true,
        AttributeValue::AttachmentPath => urls::is_attachment_src(value),
        AttributeValue::OneOf(words) => words.contains(&value),
        AttributeValue::Number => {
            (1..=9).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit())
        }
        AttributeValue::CodeLanguage => value
            .strip_prefix("language-")
            .is_some_and(is_code_language),
    };
    ok.then_some(Cow::Borrowed(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sanitiser_keeps_everything_the_renderer_makes() {
        let html = concat!(
            "<h2>T</h2>\n<p><em>a</em> <strong>b</strong> <del>c</del> <code>d</code><br>\n",
            "<a href=\"https://example.com/\" title=\"t\">e</a> ",
            "<img src=\"/v1/attachments/x1\" alt=\"f\" title=\"g\"></p>\n",
            "<ol start=\"3\">\n<li><input disabled=\"\" type=\"checkbox\" checked=\"\">h</li>\n</ol>\n",
            "<pre><code class=\"language-rust\">i\n</code></pre>\n",
            "<table><thead><tr><th align=\"center\">j</th></tr></thead>",
            "<tbody>\n<tr><td align=\"right\">k</td></tr>\n</tbody></table>\n<hr>\n",
        );
        let expected = html
            .replace(
                "title=\"t\">",
                "title=\"t\" rel=\"nofollow noopener noreferrer\">",
            )
            .replace("title=\"g\">", "title=\"g\" loading=\"lazy\">");
        assert_eq!(sanitize(html), expected);
    }

    #[test]
    fn the_sanitiser_alone_refuses_what_the_renderer_never_makes() {
        let cases = [
            ("<script>alert(1)</script>x", "x"),
            (
                "<p style=\"color:red\" id=\"main\" class=\"c\" onclick=\"f()\">x</p>",
                "<p>x</p>",
            ),
            (
                "<img src=\"https://evil.example/a.png\" onerror=\"f()\">",
                "<img loading=\"lazy\">",
            ),
            (
                "<img src=\"/v1/attachments/../../x\">",
                "<img loading=\"lazy\">",
            ),
            (
                "<a href=\"javascript:alert(1)\" rel=\"opener\">x</a>",
                "<a rel=\"nofollow noopener noreferrer\">x</a>",
            ),
            (
                "<a href=\"//evil.example/\">x</a>",
                "<a rel=\"nofollow noopener noreferrer\">x</a>",
            ),
            ("<code class=\"language-a b\">x</code>", "<code>x</code>"),
            ("<input type=\"text\" name=\"q\">", "<input disabled=\"\">"),
            ("<svg onload=\"f()\"><a>x</a></svg>y", "y"),
            ("<div><span>x</span></div>", "x"),
            ("<!-- c -->x", "x"),
        ];
        for (input, expected) in cases {
            assert_eq!(sanitize(input), expected, "{input:?}");
        }
    }
}
