//! An independent judge of rendered HTML, shared by the tests and the fuzz target.
//!
//! It parses the HTML as a browser parses it inside an element of a page's body
//! (html5ever's fragment parsing, through `scraper`), then walks every node and checks
//! it against lists of its own: none of this is shared with the crate, so a mistake in
//! the crate's allow-list or URL checks is not repeated here. Checking the parsed tree
//! rather than the text also catches markup that only becomes dangerous once parsed
//! (mutation XSS), and does not mistake escaped text for markup.

use scraper::{Html, Node};

/// The elements, and the attributes of each, that an article may contain.
const ALLOWED: &[(&str, &[&str])] = &[
    ("p", &[]),
    ("br", &[]),
    ("hr", &[]),
    ("h1", &[]),
    ("h2", &[]),
    ("h3", &[]),
    ("h4", &[]),
    ("h5", &[]),
    ("h6", &[]),
    ("blockquote", &[]),
    ("ul", &[]),
    ("ol", &["start"]),
    ("li", &[]),
    ("pre", &[]),
    ("code", &["class"]),
    ("em", &[]),
    ("strong", &[]),
    ("del", &[]),
    ("a", &["href", "title", "rel"]),
    ("img", &["src", "alt", "title", "loading"]),
    ("table", &[]),
    ("thead", &[]),
    ("tbody", &[]),
    ("tr", &[]),
    ("th", &["align"]),
    ("td", &["align"]),
    ("input", &["type", "checked", "disabled"]),
];

const HTML_NAMESPACE: &str = "http://www.w3.org/1999/xhtml";

/// Checks rendered HTML; the error says what broke the rules, where.
pub fn check(html: &str) -> Result<(), String> {
    let parsed = Html::parse_fragment(html);
    // The fragment's nodes hang under the `html` element that fragment parsing makes.
    let root = parsed.root_element();
    for node in root.descendants().skip(1) {
        match node.value() {
            Node::Text(_) => {}
            Node::Element(element) => {
                let tag = element.name();
                if &*element.name.ns != HTML_NAMESPACE {
                    return Err(format!("<{tag}> outside the HTML namespace in {html:?}"));
                }
                let Some((_, attributes)) = ALLOWED.iter().find(|(t, _)| *t == tag) else {
                    return Err(format!("element <{tag}> is not allowed in {html:?}"));
                };
                for (name, value) in element.attrs.iter() {
                    if !name.ns.is_empty() || name.prefix.is_some() {
                        return Err(format!("namespaced attribute on <{tag}> in {html:?}"));
                    }
                    let name = &*name.local;
                    if !attributes.contains(&name) {
                        return Err(format!("attribute {name} on <{tag}> in {html:?}"));
                    }
                    check_value(tag, name, value).map_err(|why| format!("{why} in {html:?}"))?;
                }
                check_required(tag, |name| element.attr(name))
                    .map_err(|why| format!("{why} in {html:?}"))?;
            }
            Node::Comment(_) => return Err(format!("a comment in {html:?}")),
            other => return Err(format!("unexpected node {other:?} in {html:?}")),
        }
    }
    Ok(())
}

/// Every attribute value of the rendered HTML as `(element, attribute, value)`, as a
/// browser sees them (entities decoded).
pub fn attribute_values(html: &str) -> Vec<(String, String, String)> {
    let parsed = Html::parse_fragment(html);
    parsed
        .root_element()
        .descendants()
        .skip(1)
        .filter_map(|node| match node.value() {
            Node::Element(element) => Some(element),
            _ => None,
        })
        .flat_map(|element| {
            element
                .attrs()
                .map(|(name, value)| (element.name().to_owned(), name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// A URL as a browser reads it before looking at its scheme: tabs and newlines removed
/// everywhere, control characters and spaces trimmed from both ends, lowercased.
pub fn browser_view_of_url(value: &str) -> String {
    let without_breaks: String = value
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    without_breaks
        .trim_matches(|c: char| c <= ' ')
        .to_ascii_lowercase()
}

fn check_value(tag: &str, name: &str, value: &str) -> Result<(), String> {
    let ok = match (tag, name) {
        ("a", "href") => is_safe_link(value),
        ("a", "rel") => value == "nofollow noopener noreferrer",
        ("img", "src") => is_attachment_path(value),
        ("img", "loading") => value == "lazy",
        ("ol", "start") => !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()),
        ("code", "class") => {
            value.starts_with("language-") && !value.contains(|c: char| c.is_whitespace())
        }
        ("th" | "td", "align") => matches!(value, "left" | "center" | "right"),
        ("input", "type") => value == "checkbox",
        ("input", "checked" | "disabled") => value.is_empty(),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{name}={value:?} on <{tag}>"))
    }
}

fn check_required<'e>(tag: &str, attr: impl Fn(&str) -> Option<&'e str>) -> Result<(), String> {
    let required: &[&str] = match tag {
        "a" => &["rel"],
        "img" => &["src", "loading"],
        "input" => &["type", "disabled"],
        _ => &[],
    };
    match required.iter().find(|name| attr(name).is_none()) {
        Some(missing) => Err(format!("<{tag}> without {missing}")),
        None => Ok(()),
    }
}

/// An `http`, `https` or `mailto` URL, or a relative reference that stays on the
/// page's origin (not `//host`, which browsers also read from `\\host`, `/\host`,
/// `\/host`).
fn is_safe_link(value: &str) -> bool {
    let url = browser_view_of_url(value);
    match scheme(&url) {
        Some(scheme) => matches!(scheme, "http" | "https" | "mailto"),
        None => {
            let start: String = url.chars().take(2).collect();
            !matches!(start.as_str(), "//" | "\\\\" | "/\\" | "\\/")
        }
    }
}

/// The scheme of a URL, if it has one: an ASCII letter, then letters, digits, `+`, `-`
/// or `.`, then `:`.
fn scheme(url: &str) -> Option<&str> {
    let (scheme, _) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

fn is_attachment_path(value: &str) -> bool {
    value.strip_prefix("/v1/attachments/").is_some_and(|id| {
        (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}
