//! The one error type of this crate, so the service can map each case to a status.

/// What can go wrong when storing, reading or processing an attachment.
///
/// Each variant is a distinct answer at the HTTP edge (413, 404, 416, 400, 422, 500), so
/// they are kept apart rather than folded into a string.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The upload went past the configured size limit; nothing was kept.
    #[error("attachment is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded, in bytes, so the client can be told.
        limit: u64,
    },
    /// No blob with that id is stored.
    #[error("blob not found")]
    NotFound,
    /// The requested byte range lies outside the blob or is reversed.
    #[error("requested range is not satisfiable")]
    BadRange,
    /// The id is not 64 lowercase hex digits; refused before it can touch a path.
    #[error("blob id must be 64 lowercase hexadecimal digits")]
    InvalidId,
    /// The bytes claim to be an image but cannot be decoded, or are too large to decode.
    #[error("image could not be processed: {0}")]
    Image(String),
    /// The disk failed us; a server-side error.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
