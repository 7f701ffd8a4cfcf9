//! Delimited text with a header row: Outlook (any language), Google Contacts, Foxmail,
//! Thunderbird CSV and tab-separated TXT. Streams rows with the `csv` crate (quoted fields
//! with embedded newlines, `""` escapes, ragged rows), maps columns by header name.

use std::collections::BTreeMap;

use crate::headers::{Role, role};
use crate::labels;
use crate::record::{NameParts, Parsed, RawPhone, RawRecord, RawValue, split_numbers};
use crate::{ImportError, Limits};

/// How far into the text the delimiter sniffer looks for the end of the header row.
const SNIFF_CHARS: usize = 256 * 1024;

/// Picks the delimiter of the header row: the most frequent of comma, tab and semicolon
/// outside quotes (comma on a tie, as in most exports).
pub(crate) fn sniff_delimiter(text: &str) -> u8 {
    let (mut comma, mut tab, mut semi) = (0usize, 0usize, 0usize);
    let mut in_quotes = false;
    for c in text.chars().take(SNIFF_CHARS) {
        match c {
            '"' => in_quotes = !in_quotes,
            '\n' | '\r' if !in_quotes && comma + tab + semi > 0 => break,
            ',' if !in_quotes => comma += 1,
            '\t' if !in_quotes => tab += 1,
            ';' if !in_quotes => semi += 1,
            _ => {}
        }
    }
    if tab > comma && tab >= semi {
        b'\t'
    } else if semi > comma && semi > tab {
        b';'
    } else {
        b','
    }
}

fn reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
}

/// Counts the fields of the first line cheaply, so a 10 000-column header is refused
/// before the CSV reader builds it.
fn first_line_columns(text: &str, delimiter: u8) -> usize {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    line.bytes().filter(|b| *b == delimiter).count() + 1
}

/// The column roles of the first row, if it is a header (names at least one known
/// column). Errors only on limits.
pub(crate) fn header(
    text: &str,
    delimiter: u8,
    limits: &Limits,
) -> Result<Option<Vec<Role>>, ImportError> {
    let columns = first_line_columns(text, delimiter);
    if columns > limits.max_columns {
        return Err(ImportError::TooManyColumns {
            line: 1,
            columns,
            limit: limits.max_columns,
        });
    }
    let mut rdr = reader(text, delimiter);
    let Some(Ok(first)) = rdr.records().next() else {
        return Ok(None);
    };
    let roles: Vec<Role> = first.iter().map(role).collect();
    Ok(roles.iter().any(Role::is_known).then_some(roles))
}

/// Separators between the numbers of one cell.
const CELL_SEPARATORS: [char; 6] = [';', '；', '、', '\n', '\r', '|'];

/// Splits a cell holding several numbers (`:::` from Google, `;`, `、`, new lines), keeping
/// a `tel:` URI's `;ext=` and `;phone-context=` with it (see [`split_numbers`]).
pub(crate) fn split_multi(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(":::")
        .flat_map(|v| split_numbers(v, &CELL_SEPARATORS))
}

/// Reads every row after the header into records.
pub(crate) fn parse(text: &str, delimiter: u8, limits: &Limits) -> Result<Parsed, ImportError> {
    let Some(roles) = header(text, delimiter, limits)? else {
        return Err(ImportError::UnknownFormat);
    };
    let mut parsed = Parsed::default();
    let mut rdr = reader(text, delimiter);
    let mut rows = rdr.records();
    let _header = rows.next();
    let mut lines = LineCounter::new(text);
    for row in rows {
        let row = row.map_err(|e| {
            let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
            ImportError::malformed(format!("line {line}"), e.to_string())
        })?;
        let line = row.position().map_or(0, |p| lines.line_at(p.byte()));
        if row.len() > limits.max_columns {
            return Err(ImportError::TooManyColumns {
                line,
                columns: row.len(),
                limit: limits.max_columns,
            });
        }
        if row.iter().any(|f| f.len() > limits.max_field_bytes) {
            return Err(ImportError::FieldTooLong {
                location: format!("line {line}"),
                limit: limits.max_field_bytes,
            });
        }
        if row.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let record = record_from_cells(
            row.iter().map(|f| RawValue::Text(f.to_owned())),
            &roles,
            format!("line {line}"),
        );
        match record {
            Some(r) => parsed.push(r, limits)?,
            None => parsed.skipped += 1,
        }
    }
    Ok(parsed)
}

/// Turns the byte offsets the CSV reader reports into line numbers of the row's first
/// line (its offsets point at the previous row's line ending), counting incrementally.
struct LineCounter<'a> {
    text: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, byte: u64) -> u64 {
        let mut target = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while matches!(self.text.get(target), Some(b'\r' | b'\n')) {
            target += 1;
        }
        if target >= self.at {
            let newlines = self
                .text
                .get(self.at..target)
                .map_or(0, |s| s.iter().filter(|b| **b == b'\n').count());
            self.line += newlines as u64;
            self.at = target;
        }
        self.line
    }
}

/// Builds a record from one row's cells given the columns' roles (shared with sheets).
/// `None` when the row holds nothing the roles know.
pub(crate) fn record_from_cells(
    cells: impl Iterator<Item = RawValue>,
    roles: &[Role],
    location: String,
) -> Option<RawRecord> {
    let mut name = NameParts::default();
    let mut phones = Vec::new();
    let mut google: BTreeMap<u32, (Option<String>, Vec<RawValue>)> = BTreeMap::new();
    for (cell, role) in cells.zip(roles) {
        if cell.is_blank() {
            continue;
        }
        let text = cell.display();
        let text = text.trim();
        let slot = match role {
            Role::Full => Some(&mut name.full),
            Role::Given => Some(&mut name.given),
            Role::Middle => Some(&mut name.middle),
            Role::Family => Some(&mut name.family),
            Role::Nickname => Some(&mut name.nickname),
            Role::Company => Some(&mut name.company),
            Role::Email => Some(&mut name.email),
            Role::Phone(label) => {
                push_values(&mut phones, cell, label.clone());
                None
            }
            Role::GoogleLabel(n) => {
                google.entry(*n).or_default().0 = labels::canonical(text);
                None
            }
            Role::GoogleValue(n) => {
                google.entry(*n).or_default().1.push(cell);
                None
            }
            Role::Ignore => None,
        };
        if let Some(slot) = slot
            && slot.is_empty()
        {
            text.clone_into(slot);
        }
    }
    for (label, values) in google.into_values() {
        for v in values {
            push_values(&mut phones, v, label.clone());
        }
    }
    if name.is_empty() && phones.is_empty() {
        return None;
    }
    Some(RawRecord {
        location,
        name,
        phones,
    })
}

fn push_values(phones: &mut Vec<RawPhone>, cell: RawValue, label: Option<String>) {
    match cell {
        RawValue::Text(t) => {
            for v in split_multi(&t) {
                phones.push(RawPhone {
                    value: RawValue::Text(v.to_owned()),
                    label: label.clone(),
                });
            }
        }
        other => phones.push(RawPhone {
            value: other,
            label,
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn delimiters_are_sniffed_outside_quotes() {
        assert_eq!(sniff_delimiter("a,b,c\n1;2;3"), b',');
        assert_eq!(sniff_delimiter("a\tb\tc\n"), b'\t');
        assert_eq!(sniff_delimiter("a;b;\"x,y,z\"\n"), b';');
    }
}
