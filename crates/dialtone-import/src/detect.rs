//! Format sniffing from the bytes (magic numbers, then the decoded text's first lines),
//! with the file name only as a tie-breaker: users rename files, and exports are often
//! saved with the wrong extension (`contacts.csv` that is really tab-separated UTF-16).

use crate::Format;
use crate::wab;

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE2_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ODS_MIMETYPE: &[u8] = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet";
/// How much decoded text the text sniffer looks at.
const TEXT_SAMPLE: usize = 64 * 1024;

/// What the bytes say before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniff {
    /// A binary container of a known format.
    Binary(Format),
    /// A zip or OLE2 container that is not a workbook dialtone reads.
    UnknownBinary,
    /// Text to decode and sniff further.
    Text,
}

fn has_extension(filename: Option<&str>, ext: &str) -> bool {
    filename.is_some_and(|f| f.to_ascii_lowercase().ends_with(ext))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Sniffs binary containers by their magic numbers.
pub(crate) fn sniff_bytes(bytes: &[u8], filename: Option<&str>) -> Sniff {
    if bytes.starts_with(&wab::MAGIC) {
        return Sniff::Binary(Format::Wab);
    }
    if bytes.starts_with(ZIP_MAGIC) {
        // ODS stores its mimetype first and uncompressed; xlsx names xl/workbook.xml in
        // the local headers and the central directory, both uncompressed.
        if bytes.get(30..).is_some_and(|b| b.starts_with(ODS_MIMETYPE)) {
            return Sniff::Binary(Format::Ods);
        }
        if contains(bytes, b"xl/workbook.xml") {
            return Sniff::Binary(Format::Xlsx);
        }
        if has_extension(filename, ".ods") {
            return Sniff::Binary(Format::Ods);
        }
        if has_extension(filename, ".xlsx") {
            return Sniff::Binary(Format::Xlsx);
        }
        return Sniff::UnknownBinary;
    }
    if bytes.starts_with(OLE2_MAGIC) {
        return Sniff::Binary(Format::Xls);
    }
    Sniff::Text
}

/// The kind of a decoded text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextKind {
    Vcard,
    Ldif,
    Contact,
    /// Delimited table or plain list: decided by the CSV header check.
    Tabular,
    /// Control characters: binary data that is not a known format.
    Binary,
}

/// Sniffs decoded text.
pub(crate) fn sniff_text(text: &str) -> TextKind {
    let sample: String = text.chars().take(TEXT_SAMPLE).collect();
    let controls = sample
        .chars()
        .filter(|c| {
            (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c')) || *c == '\u{fffd}'
        })
        .count();
    if controls * 50 > sample.chars().count().max(1) {
        return TextKind::Binary;
    }
    let trimmed = sample.trim_start_matches('\u{feff}').trim_start();
    let upper_lines = || trimmed.lines().map(|l| l.trim().to_ascii_uppercase());
    if upper_lines().take(50).any(|l| l.starts_with("BEGIN:VCARD")) {
        return TextKind::Vcard;
    }
    if trimmed.starts_with('<') {
        if sample.contains("PhoneNumberCollection")
            || sample.contains("schemas.microsoft.com/Contact")
            || sample.contains(":contact")
        {
            return TextKind::Contact;
        }
        return TextKind::Binary;
    }
    let first = trimmed
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    if let Some(first) = first {
        let lower = first.to_ascii_lowercase();
        if lower.starts_with("dn:")
            || lower.starts_with("version: 1")
            || lower.starts_with("version:1")
        {
            return TextKind::Ldif;
        }
    }
    TextKind::Tabular
}
