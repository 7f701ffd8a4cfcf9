//! A plain list: one entry per line, a number with or without a name (`张三 13800138000`,
//! `13800138000`, `Alice: +1 202 555 0100`, `Bob, 010-62345678, 13900139000`). Used when a
//! text file has no header row naming its columns.

use unicode_normalization::UnicodeNormalization;

use crate::record::{NameParts, Parsed, RawPhone, RawRecord, RawValue, clean, split_numbers};
use crate::{ImportError, Limits};

/// A field or token needs this many digits to be taken for a number.
const MIN_DIGITS: usize = 5;

/// Separators between fields on one line.
const FIELD_SEPARATORS: [char; 8] = [',', ';', '\t', '、', '，', '；', '|', '：'];

/// Extension words that may sit between the tokens of one number.
const EXTENSION_WORDS: [&str; 7] = ["转", "分机", "分機", "ext", "ext.", "x", "#"];

fn digits(s: &str) -> usize {
    s.nfkc().filter(char::is_ascii_digit).count()
}

/// True when the text looks like a list: some line holds a number.
pub(crate) fn looks_like_list(text: &str) -> bool {
    text.lines().take(200).any(|l| digits(l) >= MIN_DIGITS)
}

fn is_number_token(t: &str) -> bool {
    let n: String = t.nfkc().collect();
    n.chars().any(|c| c.is_ascii_digit())
        && n.chars()
            .all(|c| c.is_ascii_digit() || "+-().–—/".contains(c) || c == '.')
        || n.to_ascii_lowercase().starts_with("tel:")
}

/// Splits one line into a name and its numbers. A `;` inside a `tel:` URI's parameters
/// does not separate fields (see [`split_numbers`]).
fn split_line(line: &str) -> (String, Vec<String>) {
    let fields: Vec<&str> = split_numbers(line, &FIELD_SEPARATORS)
        .into_iter()
        .map(|f| f.trim_matches(['"', '\'']).trim())
        .filter(|f| !f.is_empty())
        .collect();
    if fields.len() > 1 {
        let mut name = Vec::new();
        let mut numbers = Vec::new();
        for f in fields {
            if digits(f) >= MIN_DIGITS {
                let (n, mut nums) = split_tokens(f);
                if !n.is_empty() {
                    name.push(n);
                }
                numbers.append(&mut nums);
            } else {
                name.push(f.to_owned());
            }
        }
        return (clean(&name.join(" ")), numbers);
    }
    split_tokens(line)
}

/// Splits whitespace tokens into name words and runs of number tokens (a run may hold
/// extension words: `010 6234 5678 转 8001`).
fn split_tokens(text: &str) -> (String, Vec<String>) {
    let mut name = Vec::new();
    let mut numbers = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    for token in text.split_whitespace() {
        let ext_word = EXTENSION_WORDS.contains(&token.to_lowercase().as_str()) && !run.is_empty();
        if is_number_token(token) || ext_word {
            run.push(token);
        } else {
            flush(&mut run, &mut numbers);
            name.push(token);
        }
    }
    flush(&mut run, &mut numbers);
    let name = clean(&name.join(" "));
    (
        name.trim_end_matches([':', '-', '=']).trim_end().to_owned(),
        numbers,
    )
}

fn flush(run: &mut Vec<&str>, numbers: &mut Vec<String>) {
    if !run.is_empty() {
        let joined = run.join(" ");
        if digits(&joined) > 0 {
            numbers.push(joined);
        }
        run.clear();
    }
}

/// Reads the list: each non-blank line is one record located as `line N`.
pub(crate) fn parse(text: &str, limits: &Limits) -> Result<Parsed, ImportError> {
    let mut parsed = Parsed::default();
    for (i, line) in text.lines().enumerate() {
        let location = format!("line {}", i + 1);
        if line.len() > limits.max_field_bytes {
            return Err(ImportError::FieldTooLong {
                location,
                limit: limits.max_field_bytes,
            });
        }
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
            continue;
        }
        let (name, numbers) = split_line(line);
        let phones = numbers
            .into_iter()
            .map(|n| RawPhone {
                value: RawValue::Text(n),
                label: None,
            })
            .collect::<Vec<_>>();
        let name = NameParts {
            full: name,
            ..NameParts::default()
        };
        parsed.push(
            RawRecord {
                location,
                name,
                phones,
            },
            limits,
        )?;
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn lines_split_into_name_and_numbers() {
        assert_eq!(
            split_line("张三 13800138000"),
            ("张三".into(), vec!["13800138000".into()])
        );
        assert_eq!(
            split_line("13800138000"),
            (String::new(), vec!["13800138000".into()])
        );
        assert_eq!(
            split_line("Alice: +1 202 555 0100"),
            ("Alice".into(), vec!["+1 202 555 0100".into()])
        );
        assert_eq!(
            split_line("李四, 010-62345678 转 8001, 13900139000"),
            (
                "李四".into(),
                vec!["010-62345678 转 8001".into(), "13900139000".into()]
            )
        );
        assert_eq!(
            split_line("王五\t（010）6234 5678"),
            ("王五".into(), vec!["（010）6234 5678".into()])
        );
    }

    /// A `tel:` URI keeps its parameters (issue 12, item 8): `ext=12` is neither a name
    /// nor a number of its own.
    #[test]
    fn tel_uri_parameters_stay_with_their_number() {
        let table: &[(&str, &str, &[&str])] = &[
            (
                "Alice; tel:+86-10-6234-5678;ext=12",
                "Alice",
                &["tel:+86-10-6234-5678;ext=12"],
            ),
            (
                "Bob, tel:2015550123;phone-context=+1;ext=7, 13900139000",
                "Bob",
                &["tel:2015550123;phone-context=+1;ext=7", "13900139000"],
            ),
            (
                "tel:61234567;phone-context=+852",
                "",
                &["tel:61234567;phone-context=+852"],
            ),
        ];
        for (line, name, numbers) in table {
            let want: Vec<String> = numbers.iter().map(|n| (*n).to_owned()).collect();
            assert_eq!(
                split_line(line),
                ((*name).to_owned(), want),
                "line {line:?}"
            );
        }
    }
}
