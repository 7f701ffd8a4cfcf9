//! XSS vectors, most from the OWASP XSS Filter Evasion Cheat Sheet, written as an
//! author would type them into an article. Each must render to exactly the HTML given
//! (raw HTML shown as text, unsafe links reduced to their text), pass the oracle, and
//! carry no script-bearing markup: no script-like elements, no `on*`, `style` or
//! `srcdoc` attributes, no `href`/`src` that a browser reads as `javascript:`,
//! `vbscript:` or `data:`.
//!
//! The checks look at the parsed markup, not the text: `&lt;script&gt;` and the word
//! `javascript:` in a paragraph are what the author wrote, shown harmlessly, and a
//! substring search over the whole output would take them for attacks.

use dialtone_markup::{Limits, render};

use crate::oracle;

const REL: &str = "rel=\"nofollow noopener noreferrer\"";

/// `(vector, expected HTML)`.
fn vectors() -> Vec<(&'static str, String)> {
    let text = |html: &str| format!("<p>{html}</p>\n");
    vec![
        // Raw HTML: every tag is shown as text, whatever tricks it plays.
        (
            "<script>alert(1)</script>",
            text("&lt;script&gt;alert(1)&lt;/script&gt;"),
        ),
        (
            "<SCRIPT SRC=http://xss.rocks/xss.js></SCRIPT>",
            text("&lt;SCRIPT SRC=http://xss.rocks/xss.js&gt;&lt;/SCRIPT&gt;"),
        ),
        (
            "<scr<script>ipt>alert(1)</scr</script>ipt>",
            text("&lt;scr&lt;script&gt;ipt&gt;alert(1)&lt;/scr&lt;/script&gt;ipt&gt;"),
        ),
        (
            "<img src=x onerror=alert(1)>",
            text("&lt;img src=x onerror=alert(1)&gt;"),
        ),
        (
            "<IMG SRC=\"javascript:alert('XSS');\">",
            text("&lt;IMG SRC=\"javascript:alert('XSS');\"&gt;"),
        ),
        (
            "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)>",
            text(
                "&lt;IMG SRC=&amp;#106;&amp;#97;&amp;#118;&amp;#97;&amp;#115;&amp;#99;\
                 &amp;#114;&amp;#105;&amp;#112;&amp;#116;&amp;#58;alert(1)&gt;",
            ),
        ),
        (
            "<a href=\"javascript&colon;alert(1)\">x</a>",
            text("&lt;a href=\"javascript&amp;colon;alert(1)\"&gt;x&lt;/a&gt;"),
        ),
        (
            "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
            text("&lt;a href=\"jav&amp;#x09;ascript:alert(1)\"&gt;x&lt;/a&gt;"),
        ),
        (
            "<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>",
            text("&lt;a href=\"https://ok.example\" onclick=\"alert(1)\"&gt;x&lt;/a&gt;"),
        ),
        ("<svg/onload=alert(1)>", text("&lt;svg/onload=alert(1)&gt;")),
        ("<svg onload=alert(1)>", text("&lt;svg onload=alert(1)&gt;")),
        (
            "<body onload=alert(1)>",
            text("&lt;body onload=alert(1)&gt;"),
        ),
        (
            "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
            text("&lt;iframe srcdoc=\"&lt;script&gt;alert(1)&lt;/script&gt;\"&gt;&lt;/iframe&gt;"),
        ),
        (
            "<iframe src=\"javascript:alert(1)\"></iframe>",
            text("&lt;iframe src=\"javascript:alert(1)\"&gt;&lt;/iframe&gt;"),
        ),
        (
            "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
            text(
                "&lt;math&gt;&lt;mtext&gt;&lt;table&gt;&lt;mglyph&gt;&lt;style&gt;\
                 &lt;img src=x onerror=alert(1)&gt;",
            ),
        ),
        (
            "<math href=\"javascript:alert(1)\">CLICKME</math>",
            text("&lt;math href=\"javascript:alert(1)\"&gt;CLICKME&lt;/math&gt;"),
        ),
        (
            "<object data=\"javascript:alert(1)\"></object><embed src=\"javascript:alert(1)\">",
            text(
                "&lt;object data=\"javascript:alert(1)\"&gt;&lt;/object&gt;\
                 &lt;embed src=\"javascript:alert(1)\"&gt;",
            ),
        ),
        (
            "<form action=\"javascript:alert(1)\"><input type=submit></form>",
            text(
                "&lt;form action=\"javascript:alert(1)\"&gt;&lt;input type=submit&gt;&lt;/form&gt;",
            ),
        ),
        (
            "<style>@import 'http://xss.rocks/xss.css';</style>",
            text("&lt;style&gt;@import 'http://xss.rocks/xss.css';&lt;/style&gt;"),
        ),
        (
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
            text("&lt;div style=\"background:url(javascript:alert(1))\"&gt;x&lt;/div&gt;"),
        ),
        (
            "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
            text("&lt;meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\"&gt;"),
        ),
        (
            "<!--<script>alert(1)</script>-->",
            text("&lt;!--&lt;script&gt;alert(1)&lt;/script&gt;--&gt;"),
        ),
        (
            "\\<script>alert(1)\\</script>",
            text("&lt;script&gt;alert(1)&lt;/script&gt;"),
        ),
        // Raw HTML inside other Markdown.
        (
            "> <img src=x onerror=alert(1)>",
            "<blockquote>\n<p>&lt;img src=x onerror=alert(1)&gt;</p>\n</blockquote>\n".to_owned(),
        ),
        (
            "| a |\n|---|\n| <script>alert(1)</script> |",
            "<table><thead><tr><th>a</th></tr></thead><tbody>\n\
             <tr><td>&lt;script&gt;alert(1)&lt;/script&gt;</td></tr>\n</tbody></table>\n"
                .to_owned(),
        ),
        (
            "[<img src=x onerror=alert(1)>](https://ok.example)",
            text(&format!(
                "<a href=\"https://ok.example/\" {REL}>&lt;img src=x onerror=alert(1)&gt;</a>"
            )),
        ),
        // Markdown links to script schemes lose the link and keep the text.
        ("[x](javascript:alert(1))", text("x")),
        ("[x](JaVaScRiPt:alert(1))", text("x")),
        ("[x](java&#x09;script:alert(1))", text("x")),
        ("[x](java&#10;script:alert(1))", text("x")),
        ("[x](&#106;avascript:alert(1))", text("x")),
        (
            "[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))",
            text("x"),
        ),
        ("[x](javascript&colon;alert(1))", text("x")),
        ("[x](< javascript:alert(1)>)", text("x")),
        ("[x](<javascript:alert(1)>)", text("x")),
        ("[x](&#x01;javascript:alert(1))", text("x")),
        ("[x](&#0;javascript:alert(1))", text("x")),
        ("[x](\\javascript:alert(1))", text("x")),
        ("[x](vbscript:msgbox(1))", text("x")),
        (
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            text("x"),
        ),
        ("[x](file:///etc/passwd)", text("x")),
        ("[x][ref]\n\n[ref]: javascript:alert(1)", text("x")),
        ("[x][ref]\n\n[ref]: <javascript:alert(1)> \"t\"", text("x")),
        ("[x]\n\n[x]: JAVASCRIPT:alert(1)", text("x")),
        // Autolinks to script schemes are text.
        ("<javascript:alert(1)>", text("javascript:alert(1)")),
        ("<JAVASCRIPT:alert(1)>", text("JAVASCRIPT:alert(1)")),
        ("<data:text/html,x>", text("data:text/html,x")),
        // Legacy numeric references without `;` are not references in Markdown: the
        // `&` is escaped, so the browser does not decode them in the attribute either.
        (
            "[x](&#106&#97&#118&#97&#115&#99&#114&#105&#112&#116&#58alert(1))",
            text(&format!(
                "<a href=\"&amp;#106&amp;#97&amp;#118&amp;#97&amp;#115&amp;#99&amp;#114\
                 &amp;#105&amp;#112&amp;#116&amp;#58alert(1)\" {REL}>x</a>"
            )),
        ),
        // Protocol-relative links leave the site: written as the https link they are.
        (
            "[x](//evil.example)",
            text(&format!("<a href=\"https://evil.example/\" {REL}>x</a>")),
        ),
        (
            "[x](/\\evil.example)",
            text(&format!("<a href=\"https://evil.example/\" {REL}>x</a>")),
        ),
        // Attribute break-outs stay inside their attribute.
        (
            "[x](https://ok.example \"\\\" onmouseover=\\\"alert(1)\")",
            text(&format!(
                "<a href=\"https://ok.example/\" title=\"&quot; onmouseover=&quot;alert(1)\" {REL}>x</a>"
            )),
        ),
        (
            "[x](https://ok.example/\"onmouseover=\"alert(1))",
            text(&format!(
                "<a href=\"https://ok.example/%22onmouseover=%22alert(1)\" {REL}>x</a>"
            )),
        ),
        (
            "![x](attachment:abc \"\\\" onerror=\\\"alert(1)\")",
            text(
                "<img src=\"/v1/attachments/abc\" alt=\"x\" \
                 title=\"&quot; onerror=&quot;alert(1)\" loading=\"lazy\">",
            ),
        ),
        (
            "![x\" onerror=\"alert(1)](attachment:abc)",
            text(
                "<img src=\"/v1/attachments/abc\" alt=\"x&quot; onerror=&quot;alert(1)\" \
                 loading=\"lazy\">",
            ),
        ),
        (
            "```\"><script>alert(1)</script>\nx\n```",
            "<pre><code>x\n</code></pre>\n".to_owned(),
        ),
        (
            "```rust onclick=alert(1)\nx\n```",
            "<pre><code class=\"language-rust\">x\n</code></pre>\n".to_owned(),
        ),
        (
            "# x {#x onclick=alert(1)}",
            "<h1>x {#x onclick=alert(1)}</h1>\n".to_owned(),
        ),
        // Pictures from anywhere but an attachment are their description.
        ("![x](javascript:alert(1))", text("x")),
        ("![x](data:image/svg+xml;base64,PHN2Zz4=)", text("x")),
        (
            "![x](<https://evil.example/x.png\" onerror=\"alert(1)>)",
            text("x"),
        ),
        ("![x](attachment:a\"onerror=\"alert(1))", text("x")),
    ]
}

#[test]
fn every_xss_vector_renders_to_its_expected_harmless_html() {
    for (vector, expected) in vectors() {
        let html = match render(vector, &Limits::default()) {
            Ok(rendered) => rendered.html,
            Err(error) => panic!("{vector:?} was refused: {error}"),
        };
        assert_eq!(html, expected, "{vector:?}");
    }
}

#[test]
fn no_xss_vector_leaves_script_bearing_markup() {
    for (vector, _) in vectors() {
        let html = match render(vector, &Limits::default()) {
            Ok(rendered) => rendered.html,
            Err(error) => panic!("{vector:?} was refused: {error}"),
        };
        if let Err(why) = oracle::check(&html) {
            panic!("{vector:?}: {why}");
        }
        let lower = html.to_ascii_lowercase();
        for tag in [
            "<script", "<iframe", "<svg", "<math", "<style", "<object", "<embed", "<form",
        ] {
            assert!(!lower.contains(tag), "{vector:?} left {tag} in {html:?}");
        }
        for (element, attribute, value) in oracle::attribute_values(&html) {
            assert!(
                !attribute.starts_with("on") && attribute != "srcdoc" && attribute != "style",
                "{vector:?} left {attribute} on <{element}> in {html:?}"
            );
            if attribute == "href" || attribute == "src" {
                let url = oracle::browser_view_of_url(&value);
                for scheme in ["javascript:", "vbscript:", "data:"] {
                    assert!(
                        !url.contains(scheme),
                        "{vector:?} left {attribute}={value:?} in {html:?}"
                    );
                }
            }
        }
    }
}
