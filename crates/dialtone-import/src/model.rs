//! The public shapes of an import: options and limits going in, a report coming out.
//!
//! Every type here is `Serialize` because the server returns the report as the preview of
//! `POST /v1/contacts/import`, and the CLI and web client show the same JSON.

use dialtone_core::{NumberKind, PhoneNumber, Region};
use serde::Serialize;

/// How to read a file. `Default` reads any supported format with no region, which only
/// accepts numbers written with a country code: callers should set [`ImportOptions::region`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportOptions {
    /// The importer's region, used to read national numbers (`138 0013 8000`, `(010) 6234
    /// 5678`) and as a hint for guessing legacy text encodings (GBK for CN, Big5 for TW…).
    pub region: Option<Region>,
    /// An encoding label (`"gbk"`, `"utf-16le"`, `"windows-1252"`) that overrides detection,
    /// for the rare file the detector gets wrong. Ignored by binary formats that carry their
    /// own encoding (xlsx, ods, xls).
    pub encoding: Option<String>,
    /// The file name, as a hint only: the format is sniffed from the bytes, and the name
    /// only breaks ties (for example a delimited `.txt` versus a one-number-per-line list).
    pub filename: Option<String>,
    /// Forces a format instead of sniffing it (tests, fuzzing, or a user who picked one).
    pub format: Option<Format>,
    /// Caps that keep memory and time bounded on hostile input.
    pub limits: Limits,
}

/// Caps on the input, checked before the work they bound so that a hostile file fails
/// fast with [`crate::ImportError`] instead of exhausting memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Largest input accepted, checked before anything else. Default 64 MiB.
    pub max_bytes: usize,
    /// Most records (rows, cards, entries) read from one file. Default 100 000.
    pub max_entries: usize,
    /// Most columns in a delimited text file or a sheet. Default 1 000.
    pub max_columns: usize,
    /// Largest single field or property value. Default 4 MiB (room for vCard photos).
    pub max_field_bytes: usize,
    /// Most cells a sheet may span (rows × columns of its used area), checked before the
    /// cells are read. Default 4 000 000.
    pub max_sheet_cells: u64,
    /// Most bytes a zipped sheet (xlsx, ods) may unpack to, verified by unpacking, so a
    /// zip bomb is refused before the spreadsheet reader loads it. Default 256 MiB.
    pub max_unpacked_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 64 * 1024 * 1024,
            max_entries: 100_000,
            max_columns: 1_000,
            max_field_bytes: 4 * 1024 * 1024,
            max_sheet_cells: 4_000_000,
            max_unpacked_bytes: 256 * 1024 * 1024,
        }
    }
}

/// The kind of file that was read, so the preview can say what dialtone understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A delimited table with a header row (comma, tab or semicolon): Outlook, Google,
    /// Foxmail and Thunderbird CSV, and Thunderbird's tab-separated `.txt`.
    Csv,
    /// A plain list, one number (optionally with a name) per line.
    Txt,
    /// vCard 2.1, 3.0 or 4.0, any number of cards.
    Vcard,
    /// Excel 2007+ workbook.
    Xlsx,
    /// Excel 97–2003 workbook.
    Xls,
    /// OpenDocument spreadsheet.
    Ods,
    /// LDAP Data Interchange Format (Thunderbird's LDIF export).
    Ldif,
    /// The binary Windows Address Book of Outlook Express.
    Wab,
    /// A Windows Contacts `.contact` XML file.
    WindowsContact,
}

impl Format {
    /// The format's name, as the JSON report writes it (`windows_contact`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Txt => "txt",
            Self::Vcard => "vcard",
            Self::Xlsx => "xlsx",
            Self::Xls => "xls",
            Self::Ods => "ods",
            Self::Ldif => "ldif",
            Self::Wab => "wab",
            Self::WindowsContact => "windows_contact",
        }
    }
}

/// What an import found: the contacts to add, and everything it could not use, with why.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The format that was read.
    pub format: Format,
    /// The text encoding that was used (`UTF-8`, `GBK`, `UTF-16LE`…), or the container's
    /// own for binary formats (`xlsx` is always `UTF-8`; `WAB` says `UTF-16LE` or the ANSI
    /// code page that was guessed).
    pub encoding: String,
    /// One entry per person, numbers normalised to E.164 and de-duplicated.
    pub contacts: Vec<ImportedContact>,
    /// Every entry that gave no usable number, with its location and reason.
    pub rejected: Vec<Rejected>,
    /// Counts for the preview's summary line.
    pub stats: Stats,
}

/// One person and their numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedContact {
    /// The display name as the file gave it (full name, else the name parts, nickname,
    /// company or e-mail). Empty when the file had none, as in a bare list of numbers.
    pub name: String,
    /// At least one number; each E.164 number appears once in the whole report.
    pub phones: Vec<ImportedPhone>,
}

/// One normalised number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedPhone {
    /// The number in E.164.
    pub number: PhoneNumber,
    /// The kind of line, from the numbering plan (mobile, fixed line…).
    pub kind: NumberKind,
    /// The label the file gave: a known one in English snake case (`mobile`, `home`,
    /// `work`, `main`, `fax`, `work_fax`, `pager`, `other`…), any other verbatim.
    pub label: Option<String>,
    /// An extension dialled after the number (`;ext=102`, `转 123`, `-8001`).
    pub extension: Option<String>,
}

/// An entry that gave no usable number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// Where it was: `line 12`, `record 3 (line 40)`, `sheet Sheet1 row 5`; prefixed with
    /// the file name by [`crate::import_many`].
    pub location: String,
    /// The name of the record it belongs to, when there is one, so the user knows whose.
    pub name: Option<String>,
    /// The text that was not usable (the number as written, or the name for `no_number`).
    pub input: String,
    /// Why, as a stable code.
    pub reason: Reason,
}

/// Why an entry was rejected. Serialised as a stable snake_case code for clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A record with a name (or other data) but no phone number at all.
    NoNumber,
    /// Looks like a number but cannot exist (wrong length, unassigned range).
    InvalidNumber,
    /// Not a phone number at all (`n/a`, an e-mail address in a phone column…).
    NotANumber,
    /// A national number and no region to read it in: set [`ImportOptions::region`].
    MissingRegion,
    /// Too long to be a phone number.
    TooLong,
    /// A spreadsheet shortened the number to scientific notation (`1.38001E+10`): its last
    /// digits are lost and cannot be recovered.
    LostPrecision,
}

impl Reason {
    /// The stable code, as serialised.
    pub fn code(self) -> &'static str {
        match self {
            Reason::NoNumber => "no_number",
            Reason::InvalidNumber => "invalid_number",
            Reason::NotANumber => "not_a_number",
            Reason::MissingRegion => "missing_region",
            Reason::TooLong => "too_long",
            Reason::LostPrecision => "lost_precision",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Counts that summarise an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Records read: rows, cards, LDIF entries, WAB contacts.
    pub records: usize,
    /// Contacts in the report.
    pub contacts: usize,
    /// Numbers in the report.
    pub numbers: usize,
    /// Numbers dropped because the same E.164 number was already imported (in the same
    /// record, another record or another file).
    pub merged_duplicates: usize,
    /// Records folded into a contact already imported (same name or a shared number).
    pub merged_records: usize,
    /// Entries in `rejected`.
    pub rejected: usize,
    /// Records that are not contacts and were skipped silently (WAB folders, LDIF mailing
    /// lists, empty rows).
    pub skipped: usize,
}

/// The result of [`crate::import_many`]: one merged address book from several files.
#[derive(Debug, Clone, Serialize)]
pub struct MultiImportReport {
    /// What was read from each file, in the order given.
    pub files: Vec<FileSummary>,
    /// Contacts merged across all files.
    pub contacts: Vec<ImportedContact>,
    /// Rejections from all files, locations prefixed with the file name.
    pub rejected: Vec<Rejected>,
    /// Counts over all files.
    pub stats: Stats,
}

/// How one file of [`crate::import_many`] went.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    /// The name the caller gave.
    pub name: String,
    /// The format read, if the file could be read.
    pub format: Option<Format>,
    /// The encoding used, if the file could be read.
    pub encoding: Option<String>,
    /// Why the file could not be read, if it could not: other files still import.
    pub error: Option<crate::ImportError>,
}

#[cfg(test)]
mod tests {
    use super::Format;

    #[test]
    fn a_formats_name_is_its_json() {
        use Format::*;
        for f in [Csv, Txt, Vcard, Xlsx, Xls, Ods, Ldif, Wab, WindowsContact] {
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
        }
    }
}
