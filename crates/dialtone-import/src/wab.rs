//! The Windows Address Book (`.wab`) of Outlook Express and Windows 98–XP: a clean-room
//! reader written from the file's structure, since no crate reads it.
//!
//! Layout (little-endian): a 16-byte magic; at 0x18 six table descriptors of 16 bytes
//! (`size`, `entry kind`, `offset`, `count`), the first being the record index whose
//! 8-byte entries are `(record id, record offset)` (the others are text indexes of names
//! and e-mail addresses, not needed here). A record starts with a 32-byte header (`live`,
//! `kind` — 1 for a contact, 3 for a folder —, `id`, `property count`, `?`, `tag list
//! size` twice, `data size`), then the list of MAPI property tags, then the values: each
//! `tag`, then `size` and the bytes (single values) or `count`, `size` and `count` ×
//! (`length`, bytes) (multi-valued). Strings are `PT_UNICODE` (UTF-16LE) or `PT_STRING8`
//! (the ANSI code page of the Windows that wrote it, guessed here, or the caller's override).

use dialtone_core::Region;
use encoding_rs::{Encoding, UTF_8, UTF_16LE};

use crate::encoding::{decode_with, guess_legacy};
use crate::labels;
use crate::record::{NameParts, Parsed, RawPhone, RawRecord, RawValue};
use crate::{ImportError, Limits};

/// The 16 bytes every WAB file starts with.
pub(crate) const MAGIC: [u8; 16] = [
    0x9c, 0xcb, 0xcb, 0x8d, 0x13, 0x75, 0xd2, 0x11, 0x91, 0x58, 0x00, 0xc0, 0x4f, 0x79, 0x56, 0xa4,
];

/// Where the record index descriptor's offset and count are.
const INDEX_OFFSET_AT: usize = 0x20;
const INDEX_COUNT_AT: usize = 0x24;
const RECORD_HEADER: usize = 32;
/// Record kind of a contact (mail user); folders are 3.
const KIND_CONTACT: u32 = 1;
const PT_STRING8: u32 = 0x001e;
const PT_UNICODE: u32 = 0x001f;
const MV_FLAG: u32 = 0x1000;
/// No sane record has more properties than this.
const MAX_PROPERTIES: u32 = 10_000;

/// Phone property ids (the high 16 bits of the tag) and their labels.
const PHONE_PROPS: &[(u32, &str)] = &[
    (0x3A08, "work"),
    (0x3A09, "home"),
    (0x3A1C, "mobile"),
    (0x3A1B, "work"),
    (0x3A2F, "home"),
    (0x3A1A, "main"),
    (0x3A1F, "other"),
    (0x3A21, "pager"),
    (0x3A1E, "car"),
    (0x3A1D, "radio"),
    (0x3A02, "callback"),
    (0x3A2E, "assistant"),
    (0x3A57, "company"),
    (0x3A2D, "isdn"),
    (0x3A4B, "tty"),
    (0x3A24, "work_fax"),
    (0x3A25, "home_fax"),
    (0x3A23, "fax"),
    (0x3A2C, "telex"),
];

const PR_DISPLAY_NAME: u32 = 0x3001;
const PR_EMAIL_ADDRESS: u32 = 0x3003;
const PR_GIVEN_NAME: u32 = 0x3A06;
const PR_SURNAME: u32 = 0x3A11;
const PR_MIDDLE_NAME: u32 = 0x3A44;
const PR_NICKNAME: u32 = 0x3A4F;
const PR_COMPANY_NAME: u32 = 0x3A16;

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([
        *b.first()?,
        *b.get(1)?,
        *b.get(2)?,
        *b.get(3)?,
    ]))
}

fn usize_at(bytes: &[u8], at: usize) -> Option<usize> {
    u32_at(bytes, at).and_then(|v| usize::try_from(v).ok())
}

/// A string property as stored.
enum Stored<'a> {
    Unicode(&'a [u8]),
    Ansi(&'a [u8]),
}

/// One contact record's string properties: (property id, value).
struct RecordProps<'a> {
    ordinal: usize,
    strings: Vec<(u32, Stored<'a>)>,
}

fn malformed(ordinal: usize, message: &str) -> ImportError {
    ImportError::malformed(format!("record {ordinal}"), message)
}

/// Reads the string values of one record's data area.
fn read_props(data: &[u8], ordinal: usize) -> Result<Vec<(u32, Stored<'_>)>, ImportError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        let tag = u32_at(data, at).ok_or_else(|| malformed(ordinal, "property tag cut short"))?;
        let kind = tag & 0xffff;
        let id = tag >> 16;
        let multi = kind & MV_FLAG != 0;
        let size_at = if multi { at + 8 } else { at + 4 };
        let size =
            usize_at(data, size_at).ok_or_else(|| malformed(ordinal, "property size cut short"))?;
        let start = size_at + 4;
        let value = start
            .checked_add(size)
            .and_then(|end| data.get(start..end))
            .ok_or_else(|| malformed(ordinal, "property value runs past the record"))?;
        let base = kind & !MV_FLAG;
        if base == PT_UNICODE || base == PT_STRING8 {
            let unicode = base == PT_UNICODE;
            let wrap = |b| {
                if unicode {
                    Stored::Unicode(b)
                } else {
                    Stored::Ansi(b)
                }
            };
            if multi {
                let mut e = 0usize;
                while let Some(len) = usize_at(value, e) {
                    let Some(end) = e.checked_add(4).and_then(|s| s.checked_add(len)) else {
                        break;
                    };
                    let Some(item) = value.get(e + 4..end) else {
                        break;
                    };
                    out.push((id, wrap(item)));
                    e = end;
                }
            } else {
                out.push((id, wrap(value)));
            }
        }
        at = start + size;
    }
    Ok(out)
}

fn decode_string(stored: &Stored<'_>, ansi: &'static Encoding) -> String {
    let (bytes, enc) = match stored {
        Stored::Unicode(b) => (*b, UTF_16LE),
        Stored::Ansi(b) => (*b, ansi),
    };
    decode_with(bytes, enc)
        .trim_end_matches('\0')
        .trim()
        .to_owned()
}

/// Reads every contact of a WAB file. Returns the records and the encoding used.
pub(crate) fn parse(
    bytes: &[u8],
    forced: Option<&'static Encoding>,
    region: Option<Region>,
    limits: &Limits,
) -> Result<(Parsed, String), ImportError> {
    if bytes.get(..MAGIC.len()) != Some(&MAGIC[..]) {
        return Err(ImportError::malformed(
            "byte 0",
            "not a Windows Address Book (bad magic)",
        ));
    }
    let index = usize_at(bytes, INDEX_OFFSET_AT).ok_or(ImportError::Truncated {
        location: "header".into(),
    })?;
    let count = usize_at(bytes, INDEX_COUNT_AT).ok_or(ImportError::Truncated {
        location: "header".into(),
    })?;
    if count > limits.max_entries {
        return Err(ImportError::TooManyEntries {
            location: format!("record {}", limits.max_entries + 1),
            limit: limits.max_entries,
        });
    }
    if index
        .checked_add(count.saturating_mul(8))
        .is_none_or(|end| end > bytes.len())
    {
        return Err(ImportError::Truncated {
            location: "record index".into(),
        });
    }
    let mut parsed = Parsed::default();
    let mut records = Vec::new();
    for ordinal in 1..=count {
        let entry = index + (ordinal - 1) * 8;
        let offset = usize_at(bytes, entry + 4)
            .ok_or_else(|| malformed(ordinal, "index entry cut short"))?;
        let header = offset
            .checked_add(RECORD_HEADER)
            .and_then(|end| bytes.get(offset..end))
            .ok_or(ImportError::Truncated {
                location: format!("record {ordinal}"),
            })?;
        let field = |i: usize| usize_at(header, i * 4).unwrap_or(0);
        let (kind, props, tags_len, data_len) = (field(1), field(3), field(5), field(7));
        if u32::try_from(props).is_ok_and(|p| p > MAX_PROPERTIES) {
            return Err(malformed(ordinal, "too many properties"));
        }
        let data_start = offset
            .checked_add(RECORD_HEADER)
            .and_then(|v| v.checked_add(tags_len));
        let data = data_start
            .and_then(|start| Some((start, start.checked_add(data_len)?)))
            .and_then(|(start, end)| bytes.get(start..end))
            .ok_or(ImportError::Truncated {
                location: format!("record {ordinal}"),
            })?;
        if u32::try_from(kind).ok() != Some(KIND_CONTACT) {
            parsed.skipped += 1;
            continue;
        }
        records.push(RecordProps {
            ordinal,
            strings: read_props(data, ordinal)?,
        });
    }
    // One guess for all ANSI strings of the file: more text guesses better.
    let ansi_bytes: Vec<u8> = records
        .iter()
        .flat_map(|r| r.strings.iter())
        .filter_map(|(_, s)| match s {
            Stored::Ansi(b) => Some(b.iter().copied().chain(std::iter::once(b'\n'))),
            Stored::Unicode(_) => None,
        })
        .flatten()
        .collect();
    let ansi = forced.unwrap_or_else(|| {
        if std::str::from_utf8(&ansi_bytes).is_ok() {
            UTF_8
        } else {
            guess_legacy(&ansi_bytes, region)
        }
    });
    let any_unicode = records
        .iter()
        .flat_map(|r| r.strings.iter())
        .any(|(_, s)| matches!(s, Stored::Unicode(_)));
    let encoding = if any_unicode || ansi_bytes.is_empty() {
        "UTF-16LE".to_owned()
    } else {
        ansi.name().to_owned()
    };
    for r in records {
        let mut name = NameParts::default();
        let mut phones = Vec::new();
        for (id, stored) in &r.strings {
            let value = decode_string(stored, ansi);
            let slot = match *id {
                PR_DISPLAY_NAME => Some(&mut name.full),
                PR_GIVEN_NAME => Some(&mut name.given),
                PR_SURNAME => Some(&mut name.family),
                PR_MIDDLE_NAME => Some(&mut name.middle),
                PR_NICKNAME => Some(&mut name.nickname),
                PR_COMPANY_NAME => Some(&mut name.company),
                PR_EMAIL_ADDRESS => Some(&mut name.email),
                other => {
                    if let Some((_, label)) = PHONE_PROPS.iter().find(|(p, _)| *p == other) {
                        phones.push(RawPhone {
                            value: RawValue::Text(value.clone()),
                            label: labels::canonical(label),
                        });
                    }
                    None
                }
            };
            if let Some(slot) = slot
                && slot.is_empty()
            {
                *slot = value;
            }
        }
        parsed.push(
            RawRecord {
                location: format!("record {}", r.ordinal),
                name,
                phones,
            },
            limits,
        )?;
    }
    Ok((parsed, encoding))
}
