//! Why a whole file could not be read. Per-entry problems are not errors: they are
//! [`crate::Rejected`] entries of a successful report.

use serde::Serialize;

/// A file that cannot be imported at all. Each message names the line or record, so the
/// user can find the problem in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ImportError {
    /// No bytes, or only whitespace.
    #[error("the file is empty")]
    Empty,
    /// Over [`crate::Limits::max_bytes`], refused before reading.
    #[error("the file is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// The input size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// Not a format dialtone reads.
    #[error(
        "not an address book format dialtone can read (CSV, TXT, vCard, xlsx, xls, ods, LDIF, WAB, .contact)"
    )]
    UnknownFormat,
    /// The caller's encoding override is not a known label.
    #[error("unknown text encoding {label:?}")]
    UnknownEncoding {
        /// The label given.
        label: String,
    },
    /// The file stops in the middle of a record.
    #[error("the file is cut short at {location}")]
    Truncated {
        /// Where the unfinished record starts.
        location: String,
    },
    /// The structure is broken.
    #[error("the file is malformed at {location}: {message}")]
    Malformed {
        /// Where.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A delimited row with more than [`crate::Limits::max_columns`] columns.
    #[error("line {line} has {columns} columns, over the limit of {limit}")]
    TooManyColumns {
        /// The line of the row.
        line: u64,
        /// How many columns it has (at least).
        columns: usize,
        /// The limit.
        limit: usize,
    },
    /// More than [`crate::Limits::max_entries`] records.
    #[error("more than {limit} entries; the file is cut at {location}")]
    TooManyEntries {
        /// The first record over the limit.
        location: String,
        /// The limit.
        limit: usize,
    },
    /// A field over [`crate::Limits::max_field_bytes`].
    #[error("a field at {location} is longer than {limit} bytes")]
    FieldTooLong {
        /// Where.
        location: String,
        /// The limit.
        limit: usize,
    },
    /// A sheet (or zipped workbook) bigger than its limits, refused before reading cells.
    #[error("{location} is too large: {size} over the limit of {limit}")]
    SheetTooLarge {
        /// The sheet or archive member.
        location: String,
        /// Cells spanned, or bytes unpacked.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

impl ImportError {
    /// A stable snake_case code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Empty => "empty",
            ImportError::TooLarge { .. } => "too_large",
            ImportError::UnknownFormat => "unknown_format",
            ImportError::UnknownEncoding { .. } => "unknown_encoding",
            ImportError::Truncated { .. } => "truncated",
            ImportError::Malformed { .. } => "malformed",
            ImportError::TooManyColumns { .. } => "too_many_columns",
            ImportError::TooManyEntries { .. } => "too_many_entries",
            ImportError::FieldTooLong { .. } => "field_too_long",
            ImportError::SheetTooLarge { .. } => "sheet_too_large",
        }
    }

    pub(crate) fn malformed(location: impl Into<String>, message: impl Into<String>) -> Self {
        ImportError::Malformed {
            location: location.into(),
            message: message.into(),
        }
    }
}
