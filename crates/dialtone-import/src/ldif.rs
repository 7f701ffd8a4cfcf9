//! LDIF (RFC 2849) as Thunderbird and other LDAP-minded address books export it: records
//! separated by blank lines, folded lines (a leading space continues the previous one),
//! `attr:: base64` values, comments. Mailing lists (`groupOfNames`) are skipped.

use base64::Engine;
use dialtone_core::Region;

use crate::encoding::{decode_with, guess_legacy};
use crate::labels;
use crate::record::{NameParts, Parsed, RawPhone, RawRecord, RawValue};
use crate::{ImportError, Limits};

/// Phone attributes (lower case) and their labels.
const PHONES: &[(&str, &str)] = &[
    ("telephonenumber", "work"),
    ("homephone", "home"),
    ("mobile", "mobile"),
    ("cellphone", "mobile"),
    ("mobiletelephonenumber", "mobile"),
    ("fax", "fax"),
    ("facsimiletelephonenumber", "fax"),
    ("pager", "pager"),
    ("pagerphone", "pager"),
    ("mozillahomephone", "home"),
    ("mozillaworkphone", "work"),
    ("othertelephone", "other"),
    ("homefacsimiletelephonenumber", "home_fax"),
    ("companyphone", "company"),
];

/// An unfolded attribute line.
struct Line {
    number: usize,
    text: String,
}

fn unfold(text: &str, limits: &Limits) -> Result<Vec<Option<Line>>, ImportError> {
    // `None` marks a record separator (blank line).
    let mut out: Vec<Option<Line>> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = raw.strip_prefix(' ')
            && let Some(Some(prev)) = out.last_mut()
        {
            prev.text.push_str(rest);
            if prev.text.len() > limits.max_field_bytes {
                return Err(ImportError::FieldTooLong {
                    location: format!("line {}", prev.number),
                    limit: limits.max_field_bytes,
                });
            }
            continue;
        }
        if raw.trim().is_empty() {
            out.push(None);
        } else if !raw.starts_with('#') {
            out.push(Some(Line {
                number: i + 1,
                text: raw.to_owned(),
            }));
        }
    }
    Ok(out)
}

/// Splits `attr: value`, `attr:: base64` or `attr:< url` into the attribute (lower case,
/// options such as `;lang-en` dropped) and the decoded value.
fn attribute(line: &Line, region: Option<Region>) -> Result<Option<(String, String)>, ImportError> {
    let Some((attr, rest)) = line.text.split_once(':') else {
        return Err(ImportError::malformed(
            format!("line {}", line.number),
            "expected `attribute: value`",
        ));
    };
    let attr = attr
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if let Some(b64) = rest.strip_prefix(':') {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|e| {
                ImportError::malformed(
                    format!("line {}", line.number),
                    format!("bad base64 value: {e}"),
                )
            })?;
        let text = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                let bytes = e.into_bytes();
                decode_with(&bytes, guess_legacy(&bytes, region))
            }
        };
        return Ok(Some((attr, text)));
    }
    if rest.starts_with('<') {
        return Ok(None); // external URL values are never fetched
    }
    Ok(Some((attr, rest.trim().to_owned())))
}

/// Reads every entry of the file.
pub(crate) fn parse(
    text: &str,
    region: Option<Region>,
    limits: &Limits,
) -> Result<Parsed, ImportError> {
    let mut parsed = Parsed::default();
    let mut entries = 0usize;
    let mut current: Vec<Line> = Vec::new();
    let lines = unfold(text, limits)?;
    for item in lines.into_iter().chain(std::iter::once(None)) {
        match item {
            Some(line) => current.push(line),
            None if current.is_empty() => {}
            None => {
                let entry = std::mem::take(&mut current);
                if entry
                    .iter()
                    .all(|l| l.text.to_ascii_lowercase().starts_with("version:"))
                {
                    continue;
                }
                entries += 1;
                match entry_record(&entry, entries, region)? {
                    Some(record) => parsed.push(record, limits)?,
                    None => parsed.skipped += 1,
                }
            }
        }
    }
    if entries == 0 {
        return Err(ImportError::malformed("line 1", "no LDIF entries found"));
    }
    Ok(parsed)
}

fn entry_record(
    entry: &[Line],
    ordinal: usize,
    region: Option<Region>,
) -> Result<Option<RawRecord>, ImportError> {
    let start = entry.first().map_or(0, |l| l.number);
    let mut name = NameParts::default();
    let mut phones = Vec::new();
    let mut is_list = false;
    for line in entry {
        let Some((attr, value)) = attribute(line, region)? else {
            continue;
        };
        let set = |slot: &mut String| {
            if slot.is_empty() {
                slot.clone_from(&value);
            }
        };
        match attr.as_str() {
            "objectclass" if value.eq_ignore_ascii_case("groupOfNames") => is_list = true,
            "cn" | "displayname" => set(&mut name.full),
            "givenname" => set(&mut name.given),
            "sn" | "surname" => set(&mut name.family),
            "mozillanickname" | "xmozillanickname" => set(&mut name.nickname),
            "o" => set(&mut name.company),
            "mail" => set(&mut name.email),
            other => {
                if let Some((_, label)) = PHONES.iter().find(|(a, _)| *a == other) {
                    phones.push(RawPhone {
                        value: RawValue::Text(value.clone()),
                        label: labels::canonical(label),
                    });
                }
            }
        }
    }
    if is_list {
        return Ok(None);
    }
    Ok(Some(RawRecord {
        location: format!("record {ordinal} (line {start})"),
        name,
        phones,
    }))
}
