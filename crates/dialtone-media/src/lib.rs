//! Attachments for dialtone: where their bytes live and what is done to them on upload.
//!
//! An attachment is uploaded first and referenced by messages afterwards. Its bytes are
//! stored once, named by their SHA-256 ([`BlobStore`], [`LocalBlobStore`]), so the same
//! photo forwarded to ten conversations takes the space of one. On upload the service
//! [`sniff`]s the type from the bytes (a client's claimed type is not trusted) and, for
//! images, calls [`process_image`] to strip location metadata and make a thumbnail.
//!
//! Who may fetch an attachment is decided by the service, not here: this crate knows
//! bytes, not people.

mod error;
mod image_processing;
mod local;
mod metadata;
mod sniff;
mod store;

pub use error::MediaError;
pub use image_processing::{
    MAX_DECODE_ALLOC, MAX_PIXELS, ProcessedImage, THUMBNAIL_MAX_SIDE, process_image,
};
pub use local::LocalBlobStore;
pub use sniff::sniff;
pub use store::{BlobStore, DEFAULT_MAX_BYTES, StoredBlob, validate_sha256};
