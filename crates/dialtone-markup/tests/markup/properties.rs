//! Properties over generated input: whatever the text, `render` returns (never
//! panics), its HTML passes the oracle, it is deterministic, and an error is only ever
//! a limit.

use dialtone_markup::{Limits, MarkupError, render};
use proptest::prelude::*;

use crate::oracle;

/// Pieces of Markdown and HTML syntax, and of the attacks on it, so that generated
/// articles exercise links, pictures, raw HTML and entities far more often than
/// uniformly random text would.
const PIECES: &[&str] = &[
    "[",
    "]",
    "(",
    ")",
    "![",
    "<",
    ">",
    "*",
    "**",
    "_",
    "`",
    "```",
    "~~",
    "|",
    "---",
    "-",
    "#",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    "    ",
    "&",
    ";",
    "&#",
    "x",
    "0",
    ":",
    "/",
    "//",
    "\\",
    "\"",
    "'",
    "=",
    "1. ",
    "- [ ] ",
    "- [x] ",
    "> ",
    "|-|",
    "|:-:|",
    "javascript:",
    "JaVaScRiPt:",
    "vbscript:",
    "data:",
    "attachment:",
    "attachment:a_1",
    "https://e.example",
    "mailto:a@e.example",
    "&#x09;",
    "&#0;",
    "&#58;",
    "&colon;",
    "&amp;",
    "&lt;",
    "<script>",
    "</script>",
    "<img src=x onerror=alert(1)>",
    "<a href=",
    "<svg onload=",
    "<iframe srcdoc=",
    "<math>",
    "<style>",
    "<!--",
    "-->",
    "<![CDATA[",
    "onerror=",
    "style=",
    "\u{0}",
    "\u{1}",
    "\u{FFFD}",
    "\u{200B}",
    "é",
    "日本",
];

fn article() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(PIECES).prop_map(str::to_owned),
        1 => any::<String>(),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

fn check(markdown: &str) -> Result<(), TestCaseError> {
    let limits = Limits::default();
    match render(markdown, &limits) {
        Ok(rendered) => {
            prop_assert_eq!(oracle::check(&rendered.html), Ok(()));
            prop_assert!(rendered.text_excerpt.chars().count() <= dialtone_markup::EXCERPT_CHARS);
            prop_assert_eq!(render(markdown, &limits), Ok(rendered));
        }
        Err(MarkupError::TooDeep { .. } | MarkupError::TooManyImages { .. }) => {}
        Err(error) => prop_assert!(false, "unexpected error {error}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn markdown_made_of_syntax_and_attack_pieces_always_renders_to_safe_html(
        markdown in article()
    ) {
        check(&markdown)?;
    }

    #[test]
    fn any_string_renders_to_safe_html(markdown in any::<String>()) {
        check(&markdown)?;
    }
}
