//! Snippets: a window of a message around its first match, as plain text, with the
//! matches' places in UTF-16 code units of that text (what JavaScript strings index), so
//! a client can mark them without knowing how the server cut words.

use super::terms::{Mode, Term, terms};

/// Characters a snippet shows of a longer text.
const WINDOW_CHARS: usize = 80;

/// Characters shown before the first match when the text is cut.
const BEFORE_MATCH_CHARS: usize = 20;

/// The mark of a cut.
const ELLIPSIS: char = '…';

/// A window of text with its highlights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// Plain text (the client escapes it), `…` where cut.
    pub text: String,
    /// `[start, end)` of each match in UTF-16 code units of `text`, in order.
    pub highlights: Vec<(usize, usize)>,
}

/// Whether one term of a text matches a query term (the last query term, unless Chinese,
/// also as a prefix when `prefix_last`).
fn matches(term: &Term, query: &[Term], prefix_last: bool) -> Option<usize> {
    query.iter().enumerate().find_map(|(i, q)| {
        let prefix = prefix_last && i + 1 == query.len() && !q.cjk;
        (term.text == q.text || (prefix && term.text.starts_with(&q.text))).then_some(i)
    })
}

/// Byte ranges of `text` that match, merged, in order; and which query terms matched.
pub fn hits(text: &str, query: &[Term], prefix_last: bool) -> (Vec<(usize, usize)>, Vec<bool>) {
    let mut found = vec![false; query.len()];
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for term in terms(text, Mode::Index) {
        if let Some(i) = matches(&term, query, prefix_last) {
            found[i] = true;
            ranges.push((term.start, term.end));
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    (merged, found)
}

/// The snippet of `text` around the first of `ranges` (byte ranges from [`hits`]).
pub fn snippet(text: &str, ranges: &[(usize, usize)]) -> Snippet {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let total = chars.len();
    let char_at = |byte: usize| chars.partition_point(|(b, _)| *b < byte);
    let first = ranges.first().map_or(0, |r| char_at(r.0));
    let (from, to) = if total <= WINDOW_CHARS {
        (0, total)
    } else {
        let from = first.saturating_sub(BEFORE_MATCH_CHARS);
        let to = (from + WINDOW_CHARS).min(total);
        (to - WINDOW_CHARS, to)
    };
    let mut out = String::new();
    // UTF-16 offset of each character of the window, by its index in `chars`.
    let mut unit_at: Vec<usize> = Vec::with_capacity(to - from + 1);
    let mut units = 0;
    if from > 0 {
        out.push(ELLIPSIS);
        units += ELLIPSIS.len_utf16();
    }
    for &(_, c) in &chars[from..to] {
        unit_at.push(units);
        // One line: a line break or tab shows as a space (one unit, like the original).
        out.push(if c.is_whitespace() && c.len_utf16() == 1 {
            ' '
        } else {
            c
        });
        units += c.len_utf16();
    }
    unit_at.push(units);
    if to < total {
        out.push(ELLIPSIS);
    }
    let highlights = ranges
        .iter()
        .map(|&(start, end)| (char_at(start), char_at(end)))
        .filter(|&(start, end)| start >= from && end <= to && start < end)
        .map(|(start, end)| (unit_at[start - from], unit_at[end - from]))
        .collect();
    Snippet {
        text: out,
        highlights,
    }
}

#[cfg(test)]
mod tests {
    use super::{hits, snippet};
    use crate::search::terms::query_terms;

    fn marked(text: &str, q: &str, prefix: bool) -> Vec<String> {
        let (ranges, _) = hits(text, &query_terms(q), prefix);
        let s = snippet(text, &ranges);
        let units: Vec<u16> = s.text.encode_utf16().collect();
        s.highlights
            .iter()
            .map(|&(a, b)| String::from_utf16(&units[a..b]).unwrap())
            .collect()
    }

    #[test]
    fn highlights_are_utf16_offsets_of_the_matches() {
        assert_eq!(marked("我们明天去北京开会", "北京", false), ["北京"]);
        assert_eq!(
            marked("😀 Hello there, hello", "hello", false),
            ["Hello", "hello"]
        );
        assert_eq!(marked("say hello", "hel", true), ["hello"]);
        assert!(marked("say hello", "hel", false).is_empty());
    }

    #[test]
    fn a_long_text_is_cut_around_the_first_match() {
        let text = format!("{} needle {}", "a ".repeat(100), "b ".repeat(100));
        let (ranges, found) = hits(&text, &query_terms("needle"), false);
        assert_eq!(found, [true]);
        let s = snippet(&text, &ranges);
        assert!(
            s.text.starts_with('…') && s.text.ends_with('…'),
            "{}",
            s.text
        );
        assert_eq!(s.text.chars().count(), 82);
        let units: Vec<u16> = s.text.encode_utf16().collect();
        let (a, b) = s.highlights[0];
        assert_eq!(String::from_utf16(&units[a..b]).unwrap(), "needle");
    }
}
