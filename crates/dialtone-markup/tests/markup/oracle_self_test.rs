//! The oracle must refuse what it exists to refuse, or every test that leans on it
//! could pass by accident.

use crate::oracle::check;

#[test]
fn the_oracle_accepts_what_an_article_may_contain() {
    let html = concat!(
        "<h1>T</h1><p><em>a</em> <strong>b</strong> <del>c</del> <code>d</code><br>",
        "<a href=\"https://example.com/\" title=\"t\" rel=\"nofollow noopener noreferrer\">e</a>",
        "<a href=\"/relative#x\" rel=\"nofollow noopener noreferrer\">e</a>",
        "<a href=\"mailto:a@example.com\" rel=\"nofollow noopener noreferrer\">e</a>",
        "<img src=\"/v1/attachments/a_B-1\" alt=\"f\" loading=\"lazy\"></p>",
        "<ol start=\"2\"><li><input disabled=\"\" type=\"checkbox\" checked=\"\">x</li></ol>",
        "<pre><code class=\"language-rust\">x</code></pre><hr>",
        "<table><thead><tr><th align=\"left\">a</th></tr></thead><tbody><tr><td>b</td></tr></tbody></table>",
        "<blockquote><ul><li>&lt;script&gt; javascript: onerror=x</li></ul></blockquote>",
    );
    assert_eq!(check(html), Ok(()));
}

#[test]
fn the_oracle_refuses_every_kind_of_unsafe_markup() {
    let rel = "rel=\"nofollow noopener noreferrer\"";
    let cases = [
        "<script>alert(1)</script>".to_owned(),
        "<SCRIPT>alert(1)</SCRIPT>".to_owned(),
        "<p onclick=\"alert(1)\">x</p>".to_owned(),
        "<p style=\"color:red\">x</p>".to_owned(),
        "<h1 id=\"main\">x</h1>".to_owned(),
        "<iframe srcdoc=\"x\"></iframe>".to_owned(),
        "<svg><a>x</a></svg>".to_owned(),
        "<math><mi>x</mi></math>".to_owned(),
        "<div>x</div>".to_owned(),
        "<!-- x -->".to_owned(),
        format!("<a href=\"javascript:alert(1)\" {rel}>x</a>"),
        format!("<a href=\" JaVa&#x09;ScRiPt:alert(1)\" {rel}>x</a>"),
        format!("<a href=\"&#x01;vbscript:x\" {rel}>x</a>"),
        format!("<a href=\"data:text/html,x\" {rel}>x</a>"),
        format!("<a href=\"//evil.example/\" {rel}>x</a>"),
        format!("<a href=\"/\\evil.example/\" {rel}>x</a>"),
        "<a href=\"https://example.com/\">no rel</a>".to_owned(),
        "<a href=\"https://example.com/\" rel=\"opener\">x</a>".to_owned(),
        "<img src=\"https://evil.example/a.png\" loading=\"lazy\">".to_owned(),
        "<img src=\"/v1/attachments/../x\" loading=\"lazy\">".to_owned(),
        "<img src=\"/v1/attachments/a\">".to_owned(),
        "<img src=\"/v1/attachments/a\" loading=\"lazy\" onerror=\"alert(1)\">".to_owned(),
        "<input type=\"text\" disabled=\"\">".to_owned(),
        "<input type=\"checkbox\">".to_owned(),
        "<code class=\"language-a evil\">x</code>".to_owned(),
        "<table><tbody><tr><td align=\"justify\">x</td></tr></tbody></table>".to_owned(),
    ];
    for html in cases {
        assert!(check(&html).is_err(), "the oracle let through {html:?}");
    }
}
