//! Address-book import for dialtone: whatever Outlook, Foxmail, Gmail / Google Contacts,
//! Apple Contacts, Android, Thunderbird or Outlook Express wrote, in whatever encoding,
//! [`import`] reads the names and phone numbers, normalises every number to E.164 with the
//! importer's region, merges duplicates, and says what it skipped and why.
//!
//! No I/O beyond the bytes given: the server (`POST /v1/contacts/import` preview), the CLI
//! and the web client all call [`import`] or [`import_many`].
//!
//! Formats ([`Format`]): CSV and TXT (delimited with a header, or one number per line),
//! vCard 2.1/3.0/4.0 (a hand-written tolerant parser, see `vcard`), xlsx/xls/ods (calamine),
//! LDIF, WAB (a clean-room reader of Outlook Express's binary format) and Windows Contacts
//! `.contact` XML. The format is sniffed from the bytes; the file name is only a hint.
//!
//! Encodings: byte order mark, then a NUL-byte pattern for UTF-16 without one, then strict
//! UTF-8, then detection (chardetng, hinted by the region) for GBK/GB18030, Big5, Shift_JIS
//! and the Windows code pages; [`ImportOptions::encoding`] overrides. vCard 2.1 per-property
//! `CHARSET=` wins over the file encoding for that property.
//!
//! Hostile input gets an [`ImportError`] naming the line or record, never a panic, and
//! memory stays bounded by [`Limits`] (size checked first, zip members unpacked into a
//! counting sink before the sheet reader sees them, sheet extents measured before cells
//! are read, columns and entries capped).

mod contact_xml;
mod csv;
mod detect;
mod encoding;
mod error;
mod headers;
mod labels;
mod ldif;
mod model;
mod normalize;
mod record;
mod sheet;
mod txt;
mod vcard;
mod wab;
mod xls_guard;

pub use error::ImportError;
pub use model::{
    FileSummary, Format, ImportOptions, ImportReport, ImportedContact, ImportedPhone, Limits,
    MultiImportReport, Reason, Rejected, Stats,
};

use detect::{Sniff, TextKind};
use encoding_rs::{UTF_8, UTF_16BE, UTF_16LE};
use normalize::Merger;
use record::Parsed;

/// One file read but not yet normalised.
struct FileRead {
    format: Format,
    encoding: String,
    parsed: Parsed,
}

/// Reads one address-book file into contacts, rejections and counts.
///
/// # Errors
/// [`ImportError`] when the file as a whole cannot be read (empty, too large, unknown
/// format, truncated, malformed, over a limit). Entries without a usable number are not
/// errors: they are listed in [`ImportReport::rejected`].
pub fn import(bytes: &[u8], opts: &ImportOptions) -> Result<ImportReport, ImportError> {
    let file = read_file(bytes, opts)?;
    let mut merger = Merger::default();
    feed(&mut merger, file.parsed, opts, "");
    let (contacts, rejected, stats) = merger.finish();
    Ok(ImportReport {
        format: file.format,
        encoding: file.encoding,
        contacts,
        rejected,
        stats,
    })
}

/// Reads several files (`(name, bytes)`) into one address book, merging duplicates across
/// them. A file that cannot be read does not stop the others: its error is in its
/// [`FileSummary`]. Rejection locations are prefixed with the file name.
pub fn import_many(files: &[(&str, &[u8])], opts: &ImportOptions) -> MultiImportReport {
    let mut merger = Merger::default();
    let mut summaries = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let file_opts = ImportOptions {
            filename: Some((*name).to_owned()),
            ..opts.clone()
        };
        match read_file(bytes, &file_opts) {
            Ok(file) => {
                feed(&mut merger, file.parsed, &file_opts, &format!("{name}: "));
                summaries.push(FileSummary {
                    name: (*name).to_owned(),
                    format: Some(file.format),
                    encoding: Some(file.encoding),
                    error: None,
                });
            }
            Err(error) => summaries.push(FileSummary {
                name: (*name).to_owned(),
                format: None,
                encoding: None,
                error: Some(error),
            }),
        }
    }
    let (contacts, rejected, stats) = merger.finish();
    MultiImportReport {
        files: summaries,
        contacts,
        rejected,
        stats,
    }
}

fn feed(merger: &mut Merger, parsed: Parsed, opts: &ImportOptions, prefix: &str) {
    merger.stats.skipped += parsed.skipped;
    for r in parsed.rejected {
        merger.reject(r, prefix);
    }
    for record in parsed.records {
        merger.add(record, opts.region, prefix);
    }
}

/// True when there is nothing but whitespace, NULs and a BOM.
fn is_blank(bytes: &[u8]) -> bool {
    let body = match encoding::bom(bytes) {
        Some((_, len)) => bytes.get(len..).unwrap_or_default(),
        None => bytes,
    };
    body.iter().all(|b| b.is_ascii_whitespace() || *b == 0)
}

fn read_file(bytes: &[u8], opts: &ImportOptions) -> Result<FileRead, ImportError> {
    let limits = &opts.limits;
    if bytes.len() > limits.max_bytes {
        return Err(ImportError::TooLarge {
            size: bytes.len() as u64,
            limit: limits.max_bytes as u64,
        });
    }
    if is_blank(bytes) {
        return Err(ImportError::Empty);
    }
    let forced = encoding::override_encoding(opts.encoding.as_deref())?;
    let binary = match opts.format {
        Some(f @ (Format::Wab | Format::Xlsx | Format::Xls | Format::Ods)) => Some(f),
        Some(_) => None,
        None => match detect::sniff_bytes(bytes, opts.filename.as_deref()) {
            Sniff::Binary(f) => Some(f),
            Sniff::UnknownBinary => return Err(ImportError::UnknownFormat),
            Sniff::Text => None,
        },
    };
    match binary {
        Some(Format::Wab) => {
            let (parsed, encoding) = wab::parse(bytes, forced, opts.region, limits)?;
            return Ok(FileRead {
                format: Format::Wab,
                encoding,
                parsed,
            });
        }
        Some(format) => {
            let parsed = sheet::parse(bytes, format, limits)?;
            return Ok(FileRead {
                format,
                encoding: "UTF-8".into(),
                parsed,
            });
        }
        None => {}
    }
    let decoded = encoding::decode(bytes, opts.region, forced);
    let kind = match opts.format {
        Some(Format::Vcard) => TextKind::Vcard,
        Some(Format::Ldif) => TextKind::Ldif,
        Some(Format::WindowsContact) => TextKind::Contact,
        Some(_) => TextKind::Tabular,
        None => detect::sniff_text(&decoded.text),
    };
    let encoding = decoded.name();
    let (format, parsed) = match kind {
        TextKind::Binary => return Err(ImportError::UnknownFormat),
        TextKind::Vcard => {
            let utf16 = decoded.encoding == UTF_16LE || decoded.encoding == UTF_16BE;
            let defaults = vcard::TextDefaults {
                encoding: if utf16 { UTF_8 } else { decoded.encoding },
                forced: forced.is_some(),
                region: opts.region,
            };
            let parsed = if utf16 {
                vcard::parse(decoded.text.as_bytes(), defaults, limits)?
            } else {
                let skip = encoding::bom(bytes).map_or(0, |(_, len)| len);
                vcard::parse(bytes.get(skip..).unwrap_or_default(), defaults, limits)?
            };
            (Format::Vcard, parsed)
        }
        TextKind::Ldif => (
            Format::Ldif,
            ldif::parse(&decoded.text, opts.region, limits)?,
        ),
        TextKind::Contact => (
            Format::WindowsContact,
            contact_xml::parse(&decoded.text, limits)?,
        ),
        TextKind::Tabular => tabular(&decoded.text, opts)?,
    };
    Ok(FileRead {
        format,
        encoding,
        parsed,
    })
}

/// A delimited table if the first row is a header, else a plain list.
fn tabular(text: &str, opts: &ImportOptions) -> Result<(Format, Parsed), ImportError> {
    let delimiter = csv::sniff_delimiter(text);
    let is_table = csv::header(text, delimiter, &opts.limits)?.is_some();
    match opts.format {
        Some(Format::Txt) => Ok((Format::Txt, txt::parse(text, &opts.limits)?)),
        _ if is_table => Ok((Format::Csv, csv::parse(text, delimiter, &opts.limits)?)),
        _ if txt::looks_like_list(text) => Ok((Format::Txt, txt::parse(text, &opts.limits)?)),
        _ => Err(ImportError::UnknownFormat),
    }
}
