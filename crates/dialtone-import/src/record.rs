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
