//! The one tokenizer of search, used for indexing and for queries alike, so the two always
//! agree: Chinese and Japanese runs (Han, kana) are segmented into words by jieba, every
//! other script is cut at Unicode word boundaries (UAX #29) and then into runs of letters
//! and digits (as SQLite's FTS5 `unicode61` tokenizer would cut a term again, so a term
//! never means one thing here and another there). Terms are NFKC-folded (full-width Latin
//! matches ASCII) and lowercased.

use std::sync::LazyLock;

use jieba_rs::Jieba;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// The dictionary, loaded once (embedded in the binary; about a tenth of a second).
static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Longer terms are left out (no one searches for them; they would bloat the index).
const MAX_TERM_CHARS: usize = 64;

/// What the terms are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A message: jieba's search mode, which also gives the words inside long words
    /// (中华人民共和国 gives 人民 and 共和国 too), so a query of any of them finds it.
    Index,
    /// A query: jieba's plain cut, one reading of the words typed.
    Query,
}

/// A term and where it stands in the text it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The folded term (no spaces).
    pub text: String,
    /// Byte offset of its start in the original text.
    pub start: usize,
    /// Byte offset of its end.
    pub end: usize,
    /// Whether it came from a Chinese or Japanese run (never matched as a prefix).
    pub cjk: bool,
}

/// Han ideographs (with extensions and compatibility forms) and kana.
fn is_cjk(c: char) -> bool {
    matches!(
        u32::from(c),
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F
    )
}

/// NFKC, lowercase.
fn fold(s: &str) -> String {
    s.nfkc().flat_map(char::to_lowercase).collect()
}

/// The terms of `text`, in order.
pub fn terms(text: &str, mode: Mode) -> Vec<Term> {
    let mut out = Vec::new();
    let mut run: Option<(usize, usize)> = None;
    for (at, word) in text.split_word_bound_indices() {
        if word.chars().next().is_some_and(is_cjk) {
            let end = at + word.len();
            run = Some(run.map_or((at, end), |(start, _)| (start, end)));
            continue;
        }
        if let Some((start, end)) = run.take() {
            cjk_terms(text, start, end, mode, &mut out);
        }
        alphanumeric_terms(word, at, &mut out);
    }
    if let Some((start, end)) = run {
        cjk_terms(text, start, end, mode, &mut out);
    }
    out
}

/// The terms of a query: distinct, in the order typed.
pub fn query_terms(query: &str) -> Vec<Term> {
    let mut seen = std::collections::HashSet::new();
    terms(query, Mode::Query)
        .into_iter()
        .filter(|t| seen.insert(t.text.clone()))
        .collect()
}

fn push(out: &mut Vec<Term>, text: String, start: usize, end: usize, cjk: bool) {
    let chars = text.chars().count();
    if chars > 0 && chars <= MAX_TERM_CHARS {
        out.push(Term {
            text,
            start,
            end,
            cjk,
        });
    }
}

/// Runs of letters and digits of one word (after folding each character).
fn alphanumeric_terms(word: &str, at: usize, out: &mut Vec<Term>) {
    let mut current = String::new();
    let mut start = at;
    for (i, c) in word.char_indices() {
        let folded = fold(c.encode_utf8(&mut [0; 4]));
        if !folded.is_empty() && folded.chars().all(char::is_alphanumeric) {
            if current.is_empty() {
                start = at + i;
            }
            current.push_str(&folded);
        } else if !current.is_empty() {
            push(out, std::mem::take(&mut current), start, at + i, false);
        }
    }
    if !current.is_empty() {
        push(out, current, start, at + word.len(), false);
    }
}

fn cjk_terms(text: &str, start: usize, end: usize, mode: Mode, out: &mut Vec<Term>) {
    let run = &text[start..end];
    let words = match mode {
        Mode::Index => JIEBA.cut_for_search(run, false),
        Mode::Query => JIEBA.cut(run, false),
    };
    for w in words {
        let folded = fold(w.word);
        if folded.chars().all(char::is_alphanumeric) {
            push(out, folded, start + w.byte_start, start + w.byte_end, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Mode, query_terms, terms};

    fn words(text: &str, mode: Mode) -> Vec<String> {
        terms(text, mode).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn chinese_is_cut_into_words() {
        let index = words("我们明天去北京开会", Mode::Index);
        for w in ["北京", "开会", "明天"] {
            assert!(index.contains(&w.to_owned()), "{w} in {index:?}");
        }
        assert!(!index.contains(&"京开".to_owned()), "{index:?}");
        assert_eq!(words("北京", Mode::Query), ["北京"]);
    }

    #[test]
    fn search_mode_also_gives_the_words_inside_long_words() {
        let index = words("中华人民共和国成立了", Mode::Index);
        assert!(index.contains(&"人民".to_owned()), "{index:?}");
        assert!(index.contains(&"中华人民共和国".to_owned()), "{index:?}");
    }

    #[test]
    fn latin_words_are_folded_to_lowercase_and_nfkc() {
        assert_eq!(
            words("Hello, ＷＯＲＬＤ! Don't café", Mode::Index),
            ["hello", "world", "don", "t", "café"]
        );
    }

    #[test]
    fn mixed_text_keeps_offsets_of_the_original() {
        let text = "Meet 张伟 at 北京站 tomorrow";
        for t in terms(text, Mode::Index) {
            assert!(text.is_char_boundary(t.start) && text.is_char_boundary(t.end));
            assert!(!text[t.start..t.end].is_empty(), "{t:?}");
        }
        let q: Vec<String> = query_terms("hello HELLO hello")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(q, ["hello"]);
    }

    #[test]
    fn punctuation_alone_has_no_terms() {
        assert!(terms("!!! ，。…", Mode::Query).is_empty());
    }
}
