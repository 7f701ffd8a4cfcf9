//! What an HTML page says about itself: OpenGraph and Twitter card tags, `<title>`,
//! `<meta name=description>`, read with a real HTML5 parser.
//!
//! The bytes are decoded as a browser would: a byte-order mark first, then the charset
//! of the `Content-Type` header, then a `<meta charset>` (or its `http-equiv` form) in
//! the page, else UTF-8; bytes invalid in the encoding become U+FFFD.

use encoding_rs::{Encoding, UTF_8};
use scraper::{ElementRef, Html};

use crate::text::{MAX_DESCRIPTION_CHARS, MAX_SITE_NAME_CHARS, MAX_TITLE_CHARS, clean};

/// The namespace of HTML elements: an SVG `<title>` inside the body is not the page's.
const HTML_NAMESPACE: &str = "http://www.w3.org/1999/xhtml";

/// What a page says about itself, cleaned and capped; the image is still a raw URL.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct PageMeta {
    pub title: Option<String>,
    pub description: Option<String>,
    pub site_name: Option<String>,
    /// The image's URL as written, possibly relative to the page.
    pub image: Option<String>,
}

/// Whether a `Content-Type` is one of the page types this crate reads.
pub(crate) fn is_html(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("text/html")
        || essence.eq_ignore_ascii_case("application/xhtml+xml")
}

/// Reads a page's bytes (perhaps cut at the size limit) given its `Content-Type`.
pub(crate) fn read_page(body: &[u8], content_type: &str) -> PageMeta {
    page_meta(&parse(body, content_type))
}

/// Decodes and parses, re-decoding once if the page declares a charset other than UTF-8.
fn parse(body: &[u8], content_type: &str) -> Html {
    if let Some((encoding, _)) = Encoding::for_bom(body) {
        return Html::parse_document(&encoding.decode_with_bom_removal(body).0);
    }
    if let Some(encoding) = header_charset(content_type) {
        return Html::parse_document(&encoding.decode_without_bom_handling(body).0);
    }
    let document = Html::parse_document(&UTF_8.decode_without_bom_handling(body).0);
    match meta_charset(&document) {
        Some(encoding) if encoding != UTF_8 => {
            Html::parse_document(&encoding.decode_without_bom_handling(body).0)
        }
        _ => document,
    }
}

/// The encoding named by a `charset=` parameter, if it names one encoding_rs knows.
fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(value.trim().trim_matches(['"', '\'']).as_bytes())
    })
}

/// The first charset a `<meta>` declares. A page that claims UTF-16 while its bytes
/// parsed as ASCII is not UTF-16, so that claim reads as UTF-8 (as the HTML standard says).
fn meta_charset(document: &Html) -> Option<&'static Encoding> {
    html_elements(document)
        .filter(|element| element.value().name() == "meta")
        .find_map(|meta| {
            let label = match meta.attr("charset") {
                Some(label) => label,
                None => {
                    let http_equiv = meta.attr("http-equiv")?;
                    if !http_equiv.trim().eq_ignore_ascii_case("content-type") {
                        return None;
                    }
                    return header_charset(meta.attr("content")?).map(Encoding::output_encoding);
                }
            };
            Encoding::for_label(label.trim().as_bytes()).map(Encoding::output_encoding)
        })
}

/// Every element of the HTML namespace, in document order.
fn html_elements(document: &Html) -> impl Iterator<Item = ElementRef<'_>> {
    document
        .root_element()
        .descendent_elements()
        .filter(|element| &*element.value().name.ns == HTML_NAMESPACE)
}

/// Picks each field by precedence: `og:title` > `twitter:title` > `<title>`;
/// `og:description` > `twitter:description` > `description`; `og:site_name`;
/// `og:image` > `twitter:image`. The first non-empty value of each tag wins.
fn page_meta(document: &Html) -> PageMeta {
    let mut tags = Tags::default();
    let mut title_element = None;
    for element in html_elements(document) {
        match element.value().name() {
            "title" if title_element.is_none() => {
                title_element = clean(&element.text().collect::<String>(), MAX_TITLE_CHARS);
            }
            "meta" => tags.note(element),
            _ => {}
        }
    }
    PageMeta {
        title: tags.og_title.or(tags.twitter_title).or(title_element),
        description: tags
            .og_description
            .or(tags.twitter_description)
            .or(tags.description),
        site_name: tags.og_site_name,
        image: tags.og_image.or(tags.twitter_image),
    }
}

/// The first usable value of each `<meta>` this crate reads.
#[derive(Default)]
struct Tags {
    og_title: Option<String>,
    twitter_title: Option<String>,
    og_description: Option<String>,
    twitter_description: Option<String>,
    description: Option<String>,
    og_site_name: Option<String>,
    og_image: Option<String>,
    twitter_image: Option<String>,
}

impl Tags {
    /// Records a `<meta>`. OpenGraph says `property=`, Twitter and plain tags `name=`;
    /// pages mix them up, so either attribute names the tag, in any case.
    fn note(&mut self, meta: ElementRef<'_>) {
        let Some(key) = meta.attr("property").or_else(|| meta.attr("name")) else {
            return;
        };
        let Some(content) = meta.attr("content") else {
            return;
        };
        let (slot, max_chars) = match key.trim().to_ascii_lowercase().as_str() {
            "og:title" => (&mut self.og_title, MAX_TITLE_CHARS),
            "twitter:title" => (&mut self.twitter_title, MAX_TITLE_CHARS),
            "og:description" => (&mut self.og_description, MAX_DESCRIPTION_CHARS),
            "twitter:description" => (&mut self.twitter_description, MAX_DESCRIPTION_CHARS),
            "description" => (&mut self.description, MAX_DESCRIPTION_CHARS),
            "og:site_name" => (&mut self.og_site_name, MAX_SITE_NAME_CHARS),
            "og:image" | "og:image:url" => (&mut self.og_image, usize::MAX),
            "twitter:image" | "twitter:image:src" => (&mut self.twitter_image, usize::MAX),
            _ => return,
        };
        if slot.is_none() {
            *slot = if max_chars == usize::MAX {
                Some(content.trim().to_owned()).filter(|url| !url.is_empty())
            } else {
                clean(content, max_chars)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(html: &str) -> PageMeta {
        read_page(html.as_bytes(), "text/html")
    }

    #[test]
    fn opengraph_beats_twitter_beats_the_title_element() {
        let page = meta(
            r#"<html><head><title>Element</title>
            <meta name="twitter:title" content="Twitter">
            <meta property="og:title" content="OpenGraph">
            <meta name="description" content="Plain">
            <meta name="twitter:description" content="Twitter description">
            <meta property="og:description" content="OG description">
            <meta property="og:site_name" content="Site">
            <meta name="twitter:image" content="/t.png">
            <meta property="og:image" content="/og.png">
            </head></html>"#,
        );
        assert_eq!(
            page,
            PageMeta {
                title: Some("OpenGraph".into()),
                description: Some("OG description".into()),
                site_name: Some("Site".into()),
                image: Some("/og.png".into()),
            }
        );
    }

    #[test]
    fn each_field_falls_back_when_the_better_tag_is_missing_or_empty() {
        let page = meta(
            r#"<title> Element &amp; more </title>
            <meta property="og:title" content="   ">
            <meta NAME="Description" content="Plain">
            <meta name="twitter:image" content="/t.png">"#,
        );
        assert_eq!(page.title.as_deref(), Some("Element & more"));
        assert_eq!(page.description.as_deref(), Some("Plain"));
        assert_eq!(page.image.as_deref(), Some("/t.png"));
        assert_eq!(page.site_name, None);
    }

    #[test]
    fn an_svg_title_is_not_the_page_title() {
        let page = meta("<body><svg><title>icon</title></svg><p>text</p></body>");
        assert_eq!(page.title, None);
    }

    #[test]
    fn entities_in_attributes_and_titles_come_out_as_plain_text() {
        let page = meta(
            r#"<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>
            <meta name="description" content="&quot;quoted&quot; &amp; &#x41;&#66;">"#,
        );
        assert_eq!(page.title.as_deref(), Some("<script>alert(1)</script>"));
        assert_eq!(page.description.as_deref(), Some("\"quoted\" & AB"));
    }

    #[test]
    fn a_meta_charset_decodes_the_page() {
        let mut body = b"<meta charset=\"windows-1252\"><title>caf".to_vec();
        body.push(0xE9);
        body.extend_from_slice(b"</title>");
        assert_eq!(read_page(&body, "text/html").title.as_deref(), Some("café"));
    }

    #[test]
    fn an_http_equiv_charset_decodes_the_page() {
        let mut body =
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=shift_jis\"><title>"
                .to_vec();
        body.extend_from_slice(&[0x93, 0xfa, 0x96, 0x7b]);
        body.extend_from_slice(b"</title>");
        assert_eq!(read_page(&body, "text/html").title.as_deref(), Some("日本"));
    }

    #[test]
    fn the_header_charset_beats_the_meta_and_a_bom_beats_both() {
        let mut body = b"<meta charset=\"utf-8\"><title>caf".to_vec();
        body.push(0xE9);
        body.extend_from_slice(b"</title>");
        let header = "text/html; charset=\"ISO-8859-1\"";
        assert_eq!(read_page(&body, header).title.as_deref(), Some("café"));

        let mut with_bom = vec![0xEF, 0xBB, 0xBF];
        with_bom.extend_from_slice("<title>café</title>".as_bytes());
        assert_eq!(read_page(&with_bom, header).title.as_deref(), Some("café"));
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        let body = b"<title>bad \xFF\xFE bytes</title>";
        assert_eq!(
            read_page(body, "text/html").title.as_deref(),
            Some("bad \u{FFFD}\u{FFFD} bytes")
        );
    }

    #[test]
    fn only_html_content_types_are_pages() {
        for yes in [
            "text/html",
            "TEXT/HTML; charset=utf-8",
            "application/xhtml+xml",
        ] {
            assert!(is_html(yes), "{yes}");
        }
        for no in [
            "",
            "text/plain",
            "image/svg+xml",
            "application/json",
            "text/htmlx",
        ] {
            assert!(!is_html(no), "{no}");
        }
    }
}
