//! The intermediate form every parser produces: raw records with names and unparsed
//! numbers. Keeping parsing (per format) apart from normalising (shared) means every format
//! gets the same number rules, de-duplication and rejection reports.

use crate::{ImportError, Limits, Rejected};

/// A number as the file stored it, before normalisation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawValue {
    /// Text, as written.
    Text(String),
    /// A spreadsheet number cell (Excel stores phone numbers typed as numbers as floats).
    Float(f64),
    /// A spreadsheet integer cell.
    Int(i64),
}

impl RawValue {
    /// The value as the user would see it in the file, for rejection reports.
    pub(crate) fn display(&self) -> String {
        match self {
            RawValue::Text(s) => s.clone(),
            RawValue::Float(f) => {
                if f.is_finite() && f.fract() == 0.0 {
                    format!("{f:.0}")
                } else {
                    format!("{f}")
                }
            }
            RawValue::Int(i) => i.to_string(),
        }
    }

    /// True for values that hold nothing (empty or only whitespace).
    pub(crate) fn is_blank(&self) -> bool {
        matches!(self, RawValue::Text(s) if s.trim().is_empty())
    }
}

/// One phone entry of a record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawPhone {
    /// The number as stored.
    pub value: RawValue,
    /// The label, already canonicalised by [`crate::labels::canonical`] where known.
    pub label: Option<String>,
}

/// The parts a name can come in; [`NameParts::best`] picks the display name.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameParts {
    pub full: String,
    pub given: String,
    pub middle: String,
    pub family: String,
    pub nickname: String,
    pub company: String,
    pub email: String,
}

impl NameParts {
    /// The display name: the full name if given, else the parts joined (family name first
    /// and without spaces for CJK names), else nickname, company or e-mail.
    pub(crate) fn best(&self) -> String {
        let full = clean(&self.full);
        if !full.is_empty() {
            return full;
        }
        let (given, middle, family) =
            (clean(&self.given), clean(&self.middle), clean(&self.family));
        let joined = if is_cjk(&given) || is_cjk(&family) {
            format!("{family}{given}")
        } else {
            [given, middle, family]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        if !joined.trim().is_empty() {
            return joined;
        }
        for other in [&self.nickname, &self.company, &self.email] {
            let c = clean(other);
            if !c.is_empty() {
                return c;
            }
        }
        String::new()
    }

    /// True when no part holds anything.
    pub(crate) fn is_empty(&self) -> bool {
        self.best().is_empty()
    }
}

/// Trims and collapses inner runs of whitespace (names from CSV often carry stray spaces).
pub(crate) fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parameters a number may carry after `;` even outside a `tel:` URI (vCard values and
/// copied URIs write `+1 201 555 0123;ext=12`): RFC 3966's extension, sub-address and phone
/// context, the three libphonenumber reads.
const NUMBER_PARAMETERS: [&str; 3] = ["ext", "isub", "phone-context"];

/// Splits text holding several numbers at `separators`, except at a `;` that opens a URI
/// parameter of the number before it: `tel:2015550123;phone-context=+1;ext=12` is one
/// number, whose parameters decide its country and extension.
///
/// A piece after `;` stays with the piece before when it is a parameter: `name=value`
/// (RFC 3966's `pname`, which starts with a letter here so that a second number is never
/// taken for one; a value without spaces) after a `tel:` URI, or one of
/// [`NUMBER_PARAMETERS`] after any number. Pieces come back trimmed, empty ones dropped.
pub(crate) fn split_numbers<'a>(text: &'a str, separators: &[char]) -> Vec<&'a str> {
    // Byte ranges of the numbers found so far, each with the parameters glued to it.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    let mut after_semicolon = false;
    let ends = text
        .match_indices(separators)
        .chain(std::iter::once((text.len(), "")));
    for (at, separator) in ends {
        let piece = text.get(start..at).unwrap_or_default();
        match runs.last_mut() {
            Some(run)
                if after_semicolon
                    && is_parameter_of(text.get(run.0..run.1).unwrap_or_default(), piece) =>
            {
                run.1 = at;
            }
            _ => runs.push((start, at)),
        }
        start = at + separator.len();
        after_semicolon = separator == ";";
    }
    runs.into_iter()
        .filter_map(|(from, to)| text.get(from..to))
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
        .collect()
}

/// True when `piece` (what follows a `;`) is a URI parameter of the number `run`.
fn is_parameter_of(run: &str, piece: &str) -> bool {
    let run = run.trim();
    let Some((name, value)) = piece.trim().split_once('=') else {
        return false;
    };
    let is_pname = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if run.is_empty() || !is_pname || value.is_empty() || value.contains(char::is_whitespace) {
        return false;
    }
    let in_tel_uri = run.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("tel:"));
    in_tel_uri
        || NUMBER_PARAMETERS
            .iter()
            .any(|p| name.eq_ignore_ascii_case(p))
}

fn is_cjk(s: &str) -> bool {
    s.chars().any(|c| {
        matches!(c as u32,
            0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
    })
}

/// One record (a row, a card, an entry) as read.
#[derive(Debug, Clone)]
pub(crate) struct RawRecord {
    /// Where it is in the file, for reports.
    pub location: String,
    /// Its name parts.
    pub name: NameParts,
    /// Its numbers, unparsed.
    pub phones: Vec<RawPhone>,
}

/// What a parser hands to the normaliser.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub records: Vec<RawRecord>,
    /// Records skipped as not being contacts (folders, lists, empty rows).
    pub skipped: usize,
    /// Entries the parser itself had to reject.
    pub rejected: Vec<Rejected>,
}

impl Parsed {
    /// Adds a record, refusing to go past [`Limits::max_entries`].
    pub(crate) fn push(&mut self, record: RawRecord, limits: &Limits) -> Result<(), ImportError> {
        if self.records.len() >= limits.max_entries {
            return Err(ImportError::TooManyEntries {
                location: record.location,
                limit: limits.max_entries,
            });
        }
        self.records.push(record);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEPARATORS: [char; 3] = [';', '；', '、'];

    /// URI parameters stay with their number (issue 12, item 8); other `;` still split.
    #[test]
    fn numbers_split_outside_uri_parameters() {
        let table: &[(&str, &[&str])] = &[
            ("13800138000;13900139000", &["13800138000", "13900139000"]),
            (
                "13800138000； 13900139000、 ",
                &["13800138000", "13900139000"],
            ),
            (
                "tel:+86-10-6234-5678;ext=12",
                &["tel:+86-10-6234-5678;ext=12"],
            ),
            (
                "tel:2015550123;phone-context=+1",
                &["tel:2015550123;phone-context=+1"],
            ),
            (
                "TEL:2015550123;EXT=7;phone-context=+1;13800138000",
                &["TEL:2015550123;EXT=7;phone-context=+1", "13800138000"],
            ),
            (
                "tel:+12015550123;ext=12; tel:+12015550124;ext=13",
                &["tel:+12015550123;ext=12", "tel:+12015550124;ext=13"],
            ),
            ("+1 201 555 0123;ext=12", &["+1 201 555 0123;ext=12"]),
            // Any parameter of a tel: URI is the URI's; outside one only the three
            // libphonenumber knows are.
            ("tel:+12015550123;foo=bar", &["tel:+12015550123;foo=bar"]),
            ("+12015550123;foo=bar", &["+12015550123", "foo=bar"]),
            // A second number after a URI, or a parameter on nothing, is its own piece.
            (
                "tel:+12015550123;2015550124",
                &["tel:+12015550123", "2015550124"],
            ),
            ("tel:+12015550123;home", &["tel:+12015550123", "home"]),
            (";ext=12", &["ext=12"]),
            ("tel:+12015550123；ext=12", &["tel:+12015550123", "ext=12"]),
            ("tel:+12015550123;ext=1 2", &["tel:+12015550123", "ext=1 2"]),
            ("", &[]),
        ];
        for (text, want) in table {
            assert_eq!(split_numbers(text, &SEPARATORS), *want, "text {text:?}");
        }
    }
}
