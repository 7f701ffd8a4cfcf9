//! Turning what a page says about itself into short plain text.
//!
//! The HTML parser has already decoded entities (`&lt;script&gt;` is `<script>` here);
//! this drops what would upset a display and caps the length. What comes out is plain
//! text that may contain `<`, `&` or quotes: whoever renders it escapes it, as any text
//! from a user; it is never HTML.

/// The longest title kept, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest description kept, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// The longest site name kept, in characters.
pub const MAX_SITE_NAME_CHARS: usize = 100;

/// Collapses whitespace, drops control and bidirectional-formatting characters and caps
/// the text at `max_chars` (ending in `…` when cut). `None` when nothing is left.
pub(crate) fn clean(raw: &str, max_chars: usize) -> Option<String> {
    let kept: String = raw.chars().filter(|c| !is_dropped(*c)).collect();
    let collapsed = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() || max_chars == 0 {
        return None;
    }
    if collapsed.chars().count() <= max_chars {
        return Some(collapsed);
    }
    let mut cut: String = collapsed.chars().take(max_chars - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    Some(cut)
}

/// Characters removed from titles: controls other than whitespace (which is collapsed
/// instead), and the bidirectional embeddings, overrides, isolates and marks, with which
/// a title could reverse the text around it where it is shown.
fn is_dropped(c: char) -> bool {
    (c.is_control() && !c.is_whitespace())
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_cleaned_as_the_table_says() {
        let cases: &[(&str, usize, Option<&str>)] = &[
            ("  Hello,\n\t world  ", 200, Some("Hello, world")),
            (
                "a\u{0}b\u{7}c\u{1b}[31md\u{7f}e\u{85}f",
                200,
                Some("abc[31mde f"),
            ),
            ("evil\u{202E}txt.exe", 200, Some("eviltxt.exe")),
            (
                "\u{2066}isolated\u{2069} \u{200F}mark",
                200,
                Some("isolated mark"),
            ),
            ("line\u{2028}separator", 200, Some("line separator")),
            (
                "<script>alert(1)</script>",
                200,
                Some("<script>alert(1)</script>"),
            ),
            ("   \n\t ", 200, None),
            ("", 200, None),
            ("abcdef", 6, Some("abcdef")),
            ("abcdefg", 6, Some("abcde…")),
            ("abcd efgh", 6, Some("abcd…")),
            ("ééééééé", 3, Some("éé…")),
            ("日本語のタイトル", 4, Some("日本語…")),
        ];
        for (raw, max, expected) in cases {
            assert_eq!(clean(raw, *max).as_deref(), *expected, "{raw:?}");
        }
    }
}
