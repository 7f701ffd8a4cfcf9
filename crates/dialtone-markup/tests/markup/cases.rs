//! Ordinary articles: a table of Markdown and the exact HTML it renders to, plus the
//! excerpt and the attachment list.

use dialtone_markup::{Limits, Rendered, render};

use crate::oracle;

/// Renders with the default limits, requiring success and the oracle's approval.
pub fn rendered(markdown: &str) -> Rendered {
    let rendered = match render(markdown, &Limits::default()) {
        Ok(rendered) => rendered,
        Err(error) => panic!("{markdown:?} was refused: {error}"),
    };
    if let Err(why) = oracle::check(&rendered.html) {
        panic!("{markdown:?} rendered to unsafe HTML: {why}");
    }
    rendered
}

const REL: &str = "rel=\"nofollow noopener noreferrer\"";

#[test]
fn ordinary_markdown_renders_to_the_expected_html() {
    let cases: &[(&str, &str)] = &[
        // Headings: no ids, and `{#id}` is text (heading attributes are not enabled).
        (
            "# One\n## Two\n###### Six",
            "<h1>One</h1>\n<h2>Two</h2>\n<h6>Six</h6>\n",
        ),
        ("Title\n=====", "<h1>Title</h1>\n"),
        ("# Title {#main}", "<h1>Title {#main}</h1>\n"),
        // Emphasis, GFM strikethrough, inline code.
        (
            "a *b* _c_ **d** __e__ ***f*** ~~g~~ `i`",
            "<p>a <em>b</em> <em>c</em> <strong>d</strong> <strong>e</strong> \
             <em><strong>f</strong></em> <del>g</del> <code>i</code></p>\n",
        ),
        ("`a <b> & c`", "<p><code>a &lt;b&gt; &amp; c</code></p>\n"),
        ("\\*not emphasis\\*", "<p>*not emphasis*</p>\n"),
        ("line one\nline two", "<p>line one\nline two</p>\n"),
        ("hard  \nbreak", "<p>hard<br>\nbreak</p>\n"),
        (
            "a &amp; b &copy; &#169; &lt;",
            "<p>a &amp; b © © &lt;</p>\n",
        ),
        ("Über naïve 日本語 😀", "<p>Über naïve 日本語 😀</p>\n"),
        ("x\n\n***\n\ny", "<p>x</p>\n<hr>\n<p>y</p>\n"),
        // Lists, task lists, quotes.
        (
            "- a\n- b\n  - c",
            "<ul>\n<li>a</li>\n<li>b\n<ul>\n<li>c</li>\n</ul>\n</li>\n</ul>\n",
        ),
        ("1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>\n"),
        (
            "7. a\n8. b",
            "<ol start=\"7\">\n<li>a</li>\n<li>b</li>\n</ol>\n",
        ),
        (
            "* loose\n\n* list",
            "<ul>\n<li>\n<p>loose</p>\n</li>\n<li>\n<p>list</p>\n</li>\n</ul>\n",
        ),
        (
            "- [ ] open\n- [x] done",
            "<ul>\n<li><input disabled=\"\" type=\"checkbox\">\nopen</li>\n\
             <li><input disabled=\"\" type=\"checkbox\" checked=\"\">\ndone</li>\n</ul>\n",
        ),
        (
            "> quoted\n> > nested",
            "<blockquote>\n<p>quoted</p>\n<blockquote>\n<p>nested</p>\n</blockquote>\n</blockquote>\n",
        ),
        // Code blocks: the language (first word of the info string) as a class.
        (
            "```rust\nfn main() {}\n```",
            "<pre><code class=\"language-rust\">fn main() {}\n</code></pre>\n",
        ),
        (
            "```c++ extra words\nx\n```",
            "<pre><code class=\"language-c++\">x\n</code></pre>\n",
        ),
        (
            "```\nplain <b>\n```",
            "<pre><code>plain &lt;b&gt;\n</code></pre>\n",
        ),
        (
            "    indented & code",
            "<pre><code>indented &amp; code</code></pre>\n",
        ),
        // Tables: alignment as `align`, never `style`.
        (
            "| a | b | c | d |\n|---|:--|:-:|--:|\n| 1 | 2 | 3 | 4 |",
            "<table><thead><tr><th>a</th><th align=\"left\">b</th><th align=\"center\">c</th>\
             <th align=\"right\">d</th></tr></thead><tbody>\n<tr><td>1</td><td align=\"left\">2</td>\
             <td align=\"center\">3</td><td align=\"right\">4</td></tr>\n</tbody></table>\n",
        ),
        // Raw HTML is shown as text.
        (
            "hello <b>x</b> world",
            "<p>hello &lt;b&gt;x&lt;/b&gt; world</p>\n",
        ),
        (
            "<div>\nblock\n</div>",
            "<p>&lt;div&gt;\nblock\n&lt;/div&gt;</p>\n",
        ),
    ];
    for (markdown, expected) in cases {
        assert_eq!(rendered(markdown).html, *expected, "{markdown:?}");
    }
}

#[test]
fn links_render_with_rel_and_a_checked_destination() {
    let cases: &[(&str, String)] = &[
        (
            "[ok](https://example.com/path?q=1&r=2#f \"Title\")",
            format!(
                "<p><a href=\"https://example.com/path?q=1&amp;r=2#f\" title=\"Title\" {REL}>ok</a></p>\n"
            ),
        ),
        (
            "[rel](../other-post)",
            format!("<p><a href=\"../other-post\" {REL}>rel</a></p>\n"),
        ),
        (
            "[top](#top)",
            format!("<p><a href=\"#top\" {REL}>top</a></p>\n"),
        ),
        (
            "<https://example.com>",
            format!("<p><a href=\"https://example.com/\" {REL}>https://example.com</a></p>\n"),
        ),
        (
            "<me@example.com>",
            format!("<p><a href=\"mailto:me@example.com\" {REL}>me@example.com</a></p>\n"),
        ),
        (
            "[ref][r]\n\n[r]: https://example.com/ref",
            format!("<p><a href=\"https://example.com/ref\" {REL}>ref</a></p>\n"),
        ),
        // An international host is shown as the punycode the browser will use.
        (
            "[x](https://例え.jp/)",
            format!("<p><a href=\"https://xn--r8jz45g.jp/\" {REL}>x</a></p>\n"),
        ),
        // Other schemes lose the link and keep the text.
        ("[f](ftp://example.com/x)", "<p>f</p>\n".to_owned()),
        ("[f](attachment:abc)", "<p>f</p>\n".to_owned()),
    ];
    for (markdown, expected) in cases {
        assert_eq!(rendered(markdown).html, *expected, "{markdown:?}");
    }
}

#[test]
fn attachment_pictures_render_as_lazy_images_and_other_pictures_as_their_text() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "![A cat](attachment:0190a3b4-c5d6)",
            "<p><img src=\"/v1/attachments/0190a3b4-c5d6\" alt=\"A cat\" loading=\"lazy\"></p>\n",
            &["0190a3b4-c5d6"],
        ),
        (
            "![A *bold* cat](attachment:abc \"Caption\")",
            "<p><img src=\"/v1/attachments/abc\" alt=\"A bold cat\" title=\"Caption\" loading=\"lazy\"></p>\n",
            &["abc"],
        ),
        (
            "![pic][p]\n\n[p]: attachment:ref_id",
            "<p><img src=\"/v1/attachments/ref_id\" alt=\"pic\" loading=\"lazy\"></p>\n",
            &["ref_id"],
        ),
        (
            "![remote](https://example.com/cat.png)",
            "<p>remote</p>\n",
            &[],
        ),
        ("![relative](/static/cat.png)", "<p>relative</p>\n", &[]),
        ("![api](/v1/attachments/abc)", "<p>api</p>\n", &[]),
        ("![](https://example.com/cat.png)", "<p></p>\n", &[]),
        ("![bad id](attachment:a/../b)", "<p>bad id</p>\n", &[]),
        (
            "[link with ![img](attachment:in-link)](https://example.com)",
            "<p><a href=\"https://example.com/\" rel=\"nofollow noopener noreferrer\">link with \
             <img src=\"/v1/attachments/in-link\" alt=\"img\" loading=\"lazy\"></a></p>\n",
            &["in-link"],
        ),
    ];
    for (markdown, expected, refs) in cases {
        let rendered = rendered(markdown);
        assert_eq!(rendered.html, *expected, "{markdown:?}");
        assert_eq!(rendered.image_refs, *refs, "{markdown:?}");
    }
}

#[test]
fn image_refs_list_each_attachment_once_in_order_of_first_appearance() {
    let rendered = rendered(
        "![](attachment:b) ![](attachment:a)\n\n![again](attachment:b) ![](https://x.example/c)",
    );
    assert_eq!(rendered.image_refs, ["b", "a"]);
}

#[test]
fn the_excerpt_is_the_plain_text_of_the_opening() {
    let rendered = rendered(
        "# A *title*\n\nFirst [para](https://example.com)graph with `code`.\n\n\
         - one\n- two\n  - nested\n\n![pic](attachment:x) <b>raw</b>",
    );
    assert_eq!(
        rendered.text_excerpt,
        "A title First paragraph with code. one two nested <b>raw</b>"
    );
}

#[test]
fn a_long_article_has_an_excerpt_of_at_most_the_excerpt_length() {
    let article = "Lorem ipsum dolor sit amet. ".repeat(100);
    let excerpt = rendered(&article).text_excerpt;
    assert!(excerpt.chars().count() <= dialtone_markup::EXCERPT_CHARS);
    assert!(excerpt.starts_with("Lorem ipsum dolor sit amet. Lorem"));
    assert!(excerpt.ends_with('…'));
}

#[test]
fn rendering_the_same_markdown_twice_gives_the_same_html() {
    let article = "# T\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\n![x](attachment:a \"t\") \
                   [l](https://e.example \"t\")\n\n- [x] y\n";
    let first = rendered(article);
    for _ in 0..10 {
        assert_eq!(rendered(article), first);
    }
}
