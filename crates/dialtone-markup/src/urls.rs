//! Which URLs an article may carry: where its links may point, and which attachment a
//! picture names.
//!
//! URLs are judged the way a browser will read them, by the WHATWG parser of the `url`
//! crate: it strips tabs and newlines anywhere and control characters and spaces at the
//! ends, and lowercases the scheme, so `java&#x09;script:`, ` JaVaScRiPt:` and
//! `javascript&colon;` (pulldown-cmark has already decoded the entities) are all seen as
//! the `javascript` scheme they become in a browser, not as harmless relative paths.

use std::sync::LazyLock;

use url::Url;

/// The schemes a link may use. Everything else (`javascript:`, `vbscript:`, `data:`,
/// `file:`, `attachment:` …) loses its link and keeps its text.
pub const LINK_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// The path an attachment is served from (`GET /v1/attachments/{id}` in API.md); a
/// picture's `src` is this followed by the id and nothing else.
pub const ATTACHMENT_PATH: &str = "/v1/attachments/";

/// The scheme by which Markdown names an attachment: `![alt](attachment:ID)`.
const ATTACHMENT_SCHEME: &str = "attachment:";

/// The longest attachment id accepted (ids are opaque to this crate).
const MAX_ATTACHMENT_ID: usize = 64;

/// A stand-in origin to resolve relative links against: a relative link is kept only
/// if it stays on whatever origin the article is served from, and this one cannot
/// collide with a real host (`.invalid` is reserved, RFC 2606).
static SAME_ORIGIN: LazyLock<Option<Url>> =
    LazyLock::new(|| Url::parse("https://same-origin.invalid/article/").ok());

/// Where a link may point, as it is to be written in `href`, or `None` when the link
/// must go (its text stays).
///
/// An absolute URL with an allowed scheme is written in its parsed form, which is what
/// the browser would use anyway (and punycode for international hosts, which shows a
/// look-alike host for what it is). A relative reference (`/about`, `../post`, `#top`,
/// `?page=2`) is kept as written if it stays on the article's origin; a scheme-relative
/// one (`//evil.example`, `/\evil.example`) leaves the origin, so it is written as the
/// absolute `https:` URL it resolves to, where the reader can see it.
pub fn link_href(dest: &str) -> Option<String> {
    match Url::parse(dest) {
        Ok(url) => allowed_scheme(&url).then(|| url.to_string()),
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            if colon_in_first_segment(dest) {
                return None;
            }
            let base = SAME_ORIGIN.as_ref()?;
            let resolved = base.join(dest).ok()?;
            if resolved.origin() == base.origin() {
                Some(dest.to_owned())
            } else {
                allowed_scheme(&resolved).then(|| resolved.to_string())
            }
        }
        Err(_) => None,
    }
}

/// Whether a relative URL found in the sanitised HTML stays on the article's origin:
/// the sanitiser's own check, independent of [`link_href`] having run first.
pub fn is_same_origin_relative(value: &str) -> bool {
    let Some(base) = SAME_ORIGIN.as_ref() else {
        return false;
    };
    if colon_in_first_segment(value) {
        return false;
    }
    base.join(value)
        .is_ok_and(|resolved| resolved.origin() == base.origin())
}

/// The attachment id a picture's destination names (`attachment:ID`, the scheme in any
/// case), or `None` for every other destination: the server does not hot-link foreign
/// pictures, so only the author's own uploads can be shown.
pub fn attachment_id(dest: &str) -> Option<&str> {
    let prefix = dest.get(..ATTACHMENT_SCHEME.len())?;
    if !prefix.eq_ignore_ascii_case(ATTACHMENT_SCHEME) {
        return None;
    }
    let id = &dest[ATTACHMENT_SCHEME.len()..];
    is_attachment_id(id).then_some(id)
}

/// Whether `id` has the shape of an attachment id: 1 to 64 of `[A-Za-z0-9_-]`, so it
/// can be put in a path as it is.
pub fn is_attachment_id(id: &str) -> bool {
    (1..=MAX_ATTACHMENT_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether an `<img src>` in the sanitised HTML is an attachment's path: the
/// sanitiser's own check that no other picture source got through.
pub fn is_attachment_src(value: &str) -> bool {
    value
        .strip_prefix(ATTACHMENT_PATH)
        .is_some_and(is_attachment_id)
}

/// Whether a relative reference has a `:` before its first `/`, `?` or `#`. RFC 3986
/// (4.2) rules such references out, as the colon reads as the end of a scheme; they
/// only arise from a scheme that a stray character made invalid (`\u{FFFD}javascript:`,
/// `%6Aavascript:`, `\javascript:`). Browsers read them as harmless paths today; they
/// are refused rather than trusted to stay harmless wherever the HTML goes next.
fn colon_in_first_segment(reference: &str) -> bool {
    let end = reference.find(['/', '?', '#']).unwrap_or(reference.len());
    reference[..end].contains(':')
}

fn allowed_scheme(url: &Url) -> bool {
    LINK_SCHEMES.contains(&url.scheme())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_allowed_schemes_in_their_parsed_form() {
        let cases = [
            ("https://example.com", Some("https://example.com/")),
            ("HTTP://Example.com/a b", Some("http://example.com/a%20b")),
            (
                "mailto:someone@example.com",
                Some("mailto:someone@example.com"),
            ),
            ("/about", Some("/about")),
            ("../post?x=1#top", Some("../post?x=1#top")),
            ("#top", Some("#top")),
            ("", Some("")),
            ("//evil.example/x", Some("https://evil.example/x")),
            ("/\\evil.example", Some("https://evil.example/")),
            ("javascript:alert(1)", None),
            ("JaVaScRiPt:alert(1)", None),
            ("java\tscript:alert(1)", None),
            ("java\nscript:alert(1)", None),
            (" \u{1}javascript:alert(1)", None),
            ("vbscript:msgbox(1)", None),
            ("data:text/html,<script>alert(1)</script>", None),
            ("file:///etc/passwd", None),
            ("attachment:abc", None),
            ("http://exa mple.com", None),
            ("\u{FFFD}javascript:alert(1)", None),
            ("\\javascript:alert(1)", None),
            ("%6Aavascript:alert(1)", None),
            ("./this:that", Some("./this:that")),
            ("/a:b", Some("/a:b")),
            ("?a:b", Some("?a:b")),
        ];
        for (dest, expected) in cases {
            assert_eq!(link_href(dest).as_deref(), expected, "{dest:?}");
        }
    }

    #[test]
    fn only_attachment_ids_of_the_right_shape_name_a_picture() {
        assert_eq!(attachment_id("attachment:abc_DEF-123"), Some("abc_DEF-123"));
        assert_eq!(attachment_id("Attachment:x"), Some("x"));
        let long = format!("attachment:{}", "a".repeat(64));
        assert!(attachment_id(&long).is_some());
        let too_long = format!("attachment:{}", "a".repeat(65));
        assert_eq!(attachment_id(&too_long), None);
        for dest in [
            "attachment:",
            "attachment:a/b",
            "attachment:../x",
            "attachment:a b",
            "attachment:é",
            "https://example.com/a.png",
            "/v1/attachments/abc",
            "attach",
        ] {
            assert_eq!(attachment_id(dest), None, "{dest:?}");
        }
    }

    #[test]
    fn only_attachment_paths_pass_as_picture_sources() {
        assert!(is_attachment_src("/v1/attachments/abc"));
        assert!(!is_attachment_src("/v1/attachments/"));
        assert!(!is_attachment_src("/v1/attachments/a/../../x"));
        assert!(!is_attachment_src("https://example.com/v1/attachments/abc"));
    }
}
