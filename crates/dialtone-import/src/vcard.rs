//! vCard 2.1, 3.0 and 4.0, many cards per file. A hand-written tolerant line parser
//! (rather than a vCard crate) because address-book exports bend the RFCs: Android's 2.1
//! QUOTED-PRINTABLE with `=` soft breaks and a per-property `CHARSET` (Shift_JIS, GB2312)
//! that overrides the file's encoding, bare 2.1 type parameters (`TEL;CELL;PREF`), Apple's
//! `itemN.` groups with `X-ABLabel`, RFC 6350 `tel:` URIs with `;ext=`, folded lines.
//!
//! Lines are split on raw bytes (every supported encoding is ASCII-compatible in its
//! structural bytes), each value is QP/base64-decoded, then decoded with its own CHARSET,
//! the caller's override or the file's encoding, and only then unescaped.

use std::collections::HashMap;

use base64::Engine;
use dialtone_core::Region;
use encoding_rs::{Encoding, UTF_8};

use crate::encoding::{decode_with, guess_legacy};
use crate::labels;
use crate::record::{NameParts, Parsed, RawPhone, RawRecord, RawValue};
use crate::{ImportError, Limits};

/// How values without their own CHARSET are decoded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextDefaults {
    /// The file's encoding (UTF-8 for a file already decoded from UTF-16).
    pub encoding: &'static Encoding,
    /// True when the caller forced it: no per-value guessing then.
    pub forced: bool,
    /// Hint for guessing the encoding of 8-bit values in an ASCII file.
    pub region: Option<Region>,
}

/// One content line: `[group.]NAME;PARAMS:VALUE`.
struct Property<'a> {
    group: Option<String>,
    name: String,
    /// Parameter names (upper case) with their values; bare 2.1 parameters such as `CELL`
    /// are stored as `TYPE`.
    params: Vec<(String, String)>,
    value: &'a [u8],
}

impl Property<'_> {
    fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn types(&self) -> impl Iterator<Item = &str> {
        self.params
            .iter()
            .filter(|(k, _)| k == "TYPE")
            .flat_map(|(_, v)| v.split(','))
            .map(|t| t.trim().trim_matches('"'))
    }

    /// The value as text: transfer-decoded, charset-decoded, not yet unescaped.
    fn text(&self, defaults: TextDefaults) -> String {
        let encoding = self
            .param("ENCODING")
            .or_else(|| {
                self.types()
                    .find(|t| t.eq_ignore_ascii_case("QUOTED-PRINTABLE"))
            })
            .map(str::to_ascii_uppercase);
        let bytes: Vec<u8> = match encoding.as_deref() {
            Some("QUOTED-PRINTABLE") => decode_qp(self.value),
            Some("B" | "BASE64") => {
                let compact: Vec<u8> = self
                    .value
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect();
                base64::engine::general_purpose::STANDARD
                    .decode(&compact)
                    .unwrap_or_else(|_| self.value.to_vec())
            }
            _ => self.value.to_vec(),
        };
        let charset = self
            .param("CHARSET")
            .and_then(|c| Encoding::for_label(c.trim_matches('"').as_bytes()));
        match charset {
            Some(enc) => decode_with(&bytes, enc),
            None if defaults.forced => decode_with(&bytes, defaults.encoding),
            None if defaults.encoding == UTF_8 => match std::str::from_utf8(&bytes) {
                Ok(s) => s.to_owned(),
                Err(_) => decode_with(&bytes, guess_legacy(&bytes, defaults.region)),
            },
            None => decode_with(&bytes, defaults.encoding),
        }
    }
}

/// Decodes quoted-printable (soft breaks were already joined); bad escapes stay literal.
fn decode_qp(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        if b == b'=' {
            let hex = input
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Undoes vCard text escaping (`\,` `\;` `\n` `\\`).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits a structured value (N, ORG) on unescaped `;`, unescaping each part.
fn components(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            ';' => parts.push(unescape(&std::mem::take(&mut current))),
            _ => current.push(c),
        }
    }
    parts.push(unescape(&current));
    parts
}

/// Parses one logical line; `None` for lines that are not properties.
fn parse_line(line: &[u8]) -> Option<Property<'_>> {
    let mut in_quotes = false;
    let colon = line.iter().position(|&b| {
        if b == b'"' {
            in_quotes = !in_quotes;
        }
        b == b':' && !in_quotes
    })?;
    let head = String::from_utf8_lossy(line.get(..colon)?);
    let value = line.get(colon + 1..)?;
    let mut pieces = split_unquoted(&head, ';').into_iter();
    let full_name = pieces.next()?.trim().to_owned();
    let (group, name) = match full_name.rsplit_once('.') {
        Some((g, n)) => (Some(g.to_ascii_lowercase()), n.to_ascii_uppercase()),
        None => (None, full_name.to_ascii_uppercase()),
    };
    if name.is_empty() {
        return None;
    }
    let params = pieces
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (
                k.trim().to_ascii_uppercase(),
                v.trim().trim_matches('"').to_owned(),
            ),
            None => ("TYPE".to_owned(), p.trim().to_owned()),
        })
        .collect();
    Some(Property {
        group,
        name,
        params,
        value,
    })
}

fn split_unquoted(s: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    for c in s.chars() {
        if c == '"' {
            in_quotes = !in_quotes;
        }
        if c == sep && !in_quotes {
            out.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    out.push(current);
    out
}

/// Physical lines (without their line ending) with 1-based line numbers.
fn physical_lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    bytes.split(|&b| b == b'\n').enumerate().map(|(i, mut l)| {
        // Some exports end lines with `\r\r\n`.
        while let Some(rest) = l.strip_suffix(b"\r") {
            l = rest;
        }
        (i + 1, l)
    })
}

fn is_qp(head: &[u8]) -> bool {
    let upper = head.to_ascii_uppercase();
    upper.windows(16).any(|w| w == b"QUOTED-PRINTABLE")
}

/// Logical lines: folded lines joined (a leading space or tab continues the previous
/// line), and QUOTED-PRINTABLE soft breaks (`=` at the end) joined with the next line.
fn logical_lines(bytes: &[u8], limits: &Limits) -> Result<Vec<(usize, Vec<u8>)>, ImportError> {
    let mut out: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut qp_open = false;
    for (number, line) in physical_lines(bytes) {
        let folded = matches!(line.first(), Some(b' ' | b'\t'));
        match out.last_mut() {
            Some((_, current)) if qp_open => current.extend_from_slice(line),
            Some((_, current)) if folded => {
                current.extend_from_slice(line.get(1..).unwrap_or_default())
            }
            _ => out.push((number, line.to_vec())),
        }
        if let Some((start, current)) = out.last_mut() {
            if current.len() > limits.max_field_bytes {
                return Err(ImportError::FieldTooLong {
                    location: format!("line {start}"),
                    limit: limits.max_field_bytes,
                });
            }
            let head_end = current
                .iter()
                .position(|&b| b == b':')
                .unwrap_or(current.len());
            qp_open = current.ends_with(b"=") && is_qp(current.get(..head_end).unwrap_or_default());
            if qp_open {
                current.pop();
            }
        }
    }
    Ok(out)
}

/// A card being read.
#[derive(Default)]
struct Card {
    name: NameParts,
    /// TEL values with their group and type-derived label.
    tels: Vec<(Option<String>, String, Option<String>)>,
    /// `itemN.X-ABLabel` values by group.
    group_labels: HashMap<String, String>,
}

impl Card {
    fn add(&mut self, prop: &Property<'_>, defaults: TextDefaults) {
        let set = |slot: &mut String, value: String| {
            if slot.trim().is_empty() {
                *slot = value;
            }
        };
        match prop.name.as_str() {
            "FN" => set(&mut self.name.full, unescape(&prop.text(defaults))),
            "N" => {
                let parts = components(&prop.text(defaults));
                let mut it = parts.into_iter();
                set(&mut self.name.family, it.next().unwrap_or_default());
                set(&mut self.name.given, it.next().unwrap_or_default());
                set(
                    &mut self.name.middle,
                    it.next().unwrap_or_default().replace(',', " "),
                );
            }
            "NICKNAME" => set(&mut self.name.nickname, unescape(&prop.text(defaults))),
            "ORG" => set(
                &mut self.name.company,
                components(&prop.text(defaults))
                    .into_iter()
                    .next()
                    .unwrap_or_default(),
            ),
            "EMAIL" => set(&mut self.name.email, unescape(&prop.text(defaults))),
            "TEL" => {
                let value = unescape(&prop.text(defaults));
                let label = labels::from_types(prop.types());
                self.tels.push((prop.group.clone(), value, label));
            }
            "X-ABLABEL" => {
                if let Some(g) = &prop.group {
                    self.group_labels
                        .insert(g.clone(), unescape(&prop.text(defaults)));
                }
            }
            _ => {}
        }
    }

    fn finish(self, location: String) -> RawRecord {
        let group_labels = self.group_labels;
        let phones = self
            .tels
            .into_iter()
            .map(|(group, value, label)| {
                let group_label = group
                    .and_then(|g| group_labels.get(&g))
                    .and_then(|l| labels::canonical(l));
                RawPhone {
                    value: RawValue::Text(value),
                    label: group_label.or(label),
                }
            })
            .collect();
        RawRecord {
            location,
            name: self.name,
            phones,
        }
    }
}

/// Reads every card of the file.
pub(crate) fn parse(
    bytes: &[u8],
    defaults: TextDefaults,
    limits: &Limits,
) -> Result<Parsed, ImportError> {
    let mut parsed = Parsed::default();
    let mut depth = 0usize;
    let mut card: Option<(String, Card)> = None;
    let mut cards = 0usize;
    for (line_no, line) in logical_lines(bytes, limits)? {
        let Some(prop) = parse_line(&line) else {
            continue;
        };
        let value_upper = String::from_utf8_lossy(prop.value)
            .trim()
            .to_ascii_uppercase();
        match (prop.name.as_str(), value_upper.as_str()) {
            ("BEGIN", "VCARD") => {
                depth += 1;
                if depth == 1 {
                    cards += 1;
                    card = Some((format!("record {cards} (line {line_no})"), Card::default()));
                }
            }
            ("END", "VCARD") => {
                depth = depth.saturating_sub(1);
                if depth == 0
                    && let Some((location, c)) = card.take()
                {
                    parsed.push(c.finish(location), limits)?;
                }
            }
            _ if depth == 1 => {
                if let Some((_, c)) = card.as_mut() {
                    c.add(&prop, defaults);
                }
            }
            _ => {}
        }
    }
    if let Some((location, _)) = card {
        return Err(ImportError::Truncated { location });
    }
    if cards == 0 {
        return Err(ImportError::malformed("line 1", "no BEGIN:VCARD found"));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn qp_soft_breaks_and_charset() {
        let card = b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=BC=A0=\r\n=E4=B8=89\r\nTEL;CELL:13800138000\r\nEND:VCARD\r\n";
        let d = TextDefaults {
            encoding: UTF_8,
            forced: false,
            region: None,
        };
        let parsed = parse(card, d, &Limits::default()).unwrap();
        let r = parsed.records.first().unwrap();
        assert_eq!(r.name.best(), "张三");
        assert_eq!(r.phones.first().unwrap().label.as_deref(), Some("mobile"));
    }

    #[test]
    fn structured_values_split_on_unescaped_semicolons() {
        assert_eq!(
            components(r"Doe;John;Richter\, James;Mr.;Sr."),
            vec!["Doe", "John", "Richter, James", "Mr.", "Sr."]
        );
    }
}
