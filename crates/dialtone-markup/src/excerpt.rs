//! The plain-text opening of an article, for previews and OpenGraph descriptions.

/// The most characters (Unicode scalar values) an excerpt has, its `…` included: about
/// what a link preview shows.
pub const EXCERPT_CHARS: usize = 200;

/// Collects an article's text as it is rendered, with every run of white space (and
/// each boundary between blocks) made one space, until it has enough.
#[derive(Debug, Default)]
pub(crate) struct Excerpt {
    text: String,
    chars: usize,
    space_pending: bool,
}

impl Excerpt {
    /// Adds text the reader sees.
    pub(crate) fn push(&mut self, text: &str) {
        for c in text.chars() {
            if self.is_full() {
                return;
            }
            if c.is_whitespace() {
                self.gap();
            } else {
                if self.space_pending {
                    self.text.push(' ');
                    self.chars += 1;
                    self.space_pending = false;
                }
                self.text.push(c);
                self.chars += 1;
            }
        }
    }

    /// Marks a boundary that reads as a space (a line break, the end of a block).
    pub(crate) fn gap(&mut self) {
        self.space_pending = !self.text.is_empty();
    }

    /// The excerpt: all the text if it fits, else its opening cut at a word boundary
    /// where there is one near the end, followed by `…`.
    pub(crate) fn finish(self) -> String {
        if self.chars <= EXCERPT_CHARS {
            return self.text;
        }
        let keep: String = self.text.chars().take(EXCERPT_CHARS - 1).collect();
        // Cut at the last space if that loses less than a quarter of the excerpt; a
        // text without spaces (or one long word) is cut mid-word.
        let cut = match keep.rfind(' ') {
            Some(space) if keep[space..].chars().count() < EXCERPT_CHARS / 4 => &keep[..space],
            _ => keep.as_str(),
        };
        format!("{}…", cut.trim_end())
    }

    fn is_full(&self) -> bool {
        // One character past the limit is enough to know the text was cut.
        self.chars > EXCERPT_CHARS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpt(parts: &[&str]) -> String {
        let mut excerpt = Excerpt::default();
        for part in parts {
            excerpt.push(part);
            excerpt.gap();
        }
        excerpt.finish()
    }

    #[test]
    fn short_text_is_kept_whole_with_white_space_collapsed() {
        assert_eq!(
            excerpt(&["  Hello,\n\t world ", "Next block"]),
            "Hello, world Next block"
        );
        assert_eq!(excerpt(&[]), "");
    }

    #[test]
    fn long_text_is_cut_at_a_word_boundary_with_an_ellipsis() {
        let text = "word ".repeat(100);
        let cut = excerpt(&[&text]);
        assert!(cut.chars().count() <= EXCERPT_CHARS, "{cut}");
        assert!(cut.ends_with("word…"), "{cut}");
    }

    #[test]
    fn text_without_spaces_is_cut_mid_word() {
        let cut = excerpt(&[&"語".repeat(500)]);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS);
        assert!(cut.ends_with("語…"));
    }

    #[test]
    fn text_of_exactly_the_limit_is_not_cut() {
        let text = "a".repeat(EXCERPT_CHARS);
        assert_eq!(excerpt(&[&text]), text);
    }
}
