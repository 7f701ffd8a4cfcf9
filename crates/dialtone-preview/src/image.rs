//! The preview's picture: fetched under the same rules as the page, kept only if its
//! bytes are a JPEG, PNG, GIF or WebP.
//!
//! The type is decided from the bytes, never from the server's `Content-Type`: an SVG
//! (which can carry script) or an HTML page served as `image/png` is refused. The four
//! signatures are written here rather than taken from dialtone-media, which sniffs many
//! more types and would bring an image decoder with it.

use url::Url;

use crate::PreviewConfig;
use crate::error::PreviewError;
use crate::fetch::{Overflow, get, read_capped};

/// An image fetched for a preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedImage {
    /// The image's bytes, exactly as served (not decoded or re-encoded here; the media
    /// pipeline strips metadata and makes thumbnails when it stores them).
    pub bytes: Vec<u8>,
    /// The type the bytes' signature shows (`image/jpeg`, `image/png`, `image/gif` or
    /// `image/webp`), whatever the server claimed.
    pub content_type: &'static str,
    /// Where the image was finally fetched from, after any redirects.
    pub source_url: String,
}

/// What a preview asks for when fetching an image.
const IMAGE_ACCEPT: &str = "image/webp,image/png,image/jpeg,image/gif;q=0.9,*/*;q=0.1";

/// Fetches the image at a checked URL, without a deadline of its own (the caller's).
pub(crate) async fn fetch_image_at(
    url: Url,
    config: &PreviewConfig,
) -> Result<FetchedImage, PreviewError> {
    let answer = get(url, IMAGE_ACCEPT, config).await?;
    let source_url = answer.url.to_string();
    let bytes = read_capped(answer.response, config.max_image_bytes, Overflow::Refuse).await?;
    let content_type = image_type(&bytes).ok_or(PreviewError::NotAnImage)?;
    Ok(FetchedImage {
        bytes,
        content_type,
        source_url,
    })
}

/// The image type shown by the bytes' signature, if it is one of the four kept.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_signatures_are_recognised_and_nothing_else() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"\xFF\xD8\xFF\xE0\x00\x10JFIF", Some("image/jpeg")),
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", Some("image/png")),
            (b"GIF87a\x01\x00", Some("image/gif")),
            (b"GIF89a\x01\x00", Some("image/gif")),
            (b"RIFF\x24\x00\x00\x00WEBPVP8 ", Some("image/webp")),
            (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
            (
                b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script/></svg>",
                None,
            ),
            (b"<!DOCTYPE html><html>", None),
            (b"\xFF\xD8", None),
            (b"", None),
        ];
        for (bytes, expected) in cases {
            assert_eq!(image_type(bytes), *expected, "{bytes:?}");
        }
    }
}
