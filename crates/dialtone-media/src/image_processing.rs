//! What is done to an uploaded image: location stripped, thumbnail made.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, GenericImageView, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::MediaError;
use crate::metadata;

/// The longest side of a thumbnail, in pixels: enough for a chat bubble on a dense
/// screen, small enough to send with the message list.
pub const THUMBNAIL_MAX_SIDE: u32 = 320;

/// The most pixels an image may have to be decoded (64 megapixels, larger than any
/// phone camera). A small file can claim enormous dimensions (a decompression bomb);
/// it is refused from its header, before any pixel memory is allocated.
pub const MAX_PIXELS: u64 = 64 * 1024 * 1024;

/// The most memory one decode may allocate: 64 MP of 16-bit RGBA would need more, and is
/// refused rather than allowed to starve the server.
pub const MAX_DECODE_ALLOC: u64 = 512 * 1024 * 1024;

/// Quality of JPEG thumbnails: small files, artefacts invisible at 320 px.
const THUMBNAIL_JPEG_QUALITY: u8 = 80;

/// The result of processing an uploaded image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedImage {
    /// The image without location metadata, in its original format, when the original
    /// had any; `None` means the original bytes are already safe to store as they are.
    pub cleaned: Option<Vec<u8>>,
    /// A preview no larger than [`THUMBNAIL_MAX_SIDE`] on its longest side, turned
    /// upright, with no metadata at all. Never larger than the original.
    pub thumbnail: Vec<u8>,
    /// `image/jpeg` for opaque images, `image/png` where transparency must survive.
    pub thumbnail_type: String,
    /// Width as displayed (after the EXIF orientation is applied), for the client's layout.
    pub width: u32,
    /// Height as displayed (after the EXIF orientation is applied).
    pub height: u32,
}

/// Strips location metadata from an image and makes its thumbnail.
///
/// `content_type` should come from [`crate::sniff`], not from the client. JPEG, PNG, GIF
/// and WebP are processed; anything else is `Ok(None)`, as it is not an image we show
/// inline (HEIC, AVIF and TIFF are stored as they are, metadata included). Bytes that
/// claim an image type but do not decode, or that would decode to more than
/// [`MAX_PIXELS`], are [`MediaError::Image`].
///
/// This is CPU-bound (tens of milliseconds for a phone photo): call it from
/// `spawn_blocking`, and bound how many run at once, as each may use up to
/// [`MAX_DECODE_ALLOC`] bytes.
pub fn process_image(
    bytes: &[u8],
    content_type: &str,
) -> Result<Option<ProcessedImage>, MediaError> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let (format, cleaned) = match essence.as_str() {
        "image/jpeg" => (ImageFormat::Jpeg, metadata::jpeg::strip(bytes)?),
        "image/png" => (ImageFormat::Png, metadata::png::strip(bytes)?),
        "image/webp" => (ImageFormat::WebP, metadata::webp::strip(bytes)?),
        // GIF has no standard place for location.
        "image/gif" => (ImageFormat::Gif, None),
        _ => return Ok(None),
    };
    let image = decode(bytes, format)?;
    let (width, height) = image.dimensions();
    let (thumbnail, thumbnail_type) = thumbnail(&image)?;
    Ok(Some(ProcessedImage {
        cleaned,
        thumbnail,
        thumbnail_type: thumbnail_type.to_owned(),
        width,
        height,
    }))
}

/// Decodes under limits, refusing oversized images from their header, and turns the
/// result upright by its EXIF orientation.
fn decode(bytes: &[u8], format: ImageFormat) -> Result<DynamicImage, MediaError> {
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(image_error)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(MediaError::Image(format!(
            "{width}x{height} is more than the {MAX_PIXELS} pixels allowed"
        )));
    }
    // A broken EXIF block should not cost the user the thumbnail.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(image_error)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Scales down (never up) to [`THUMBNAIL_MAX_SIDE`], then encodes: JPEG for opaque
/// images (much smaller), PNG where there is an alpha channel.
fn thumbnail(image: &DynamicImage) -> Result<(Vec<u8>, &'static str), MediaError> {
    let (width, height) = image.dimensions();
    let small = if width.max(height) > THUMBNAIL_MAX_SIDE {
        image.thumbnail(THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE)
    } else {
        image.clone()
    };
    let mut out = Vec::new();
    if small.color().has_alpha() {
        DynamicImage::ImageRgba8(small.to_rgba8())
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .map_err(image_error)?;
        Ok((out, "image/png"))
    } else {
        JpegEncoder::new_with_quality(&mut out, THUMBNAIL_JPEG_QUALITY)
            .encode_image(&small.to_rgb8())
            .map_err(image_error)?;
        Ok((out, "image/jpeg"))
    }
}

/// Keeps the decoder's explanation: it says which limit or which corruption.
fn image_error(e: image::ImageError) -> MediaError {
    MediaError::Image(e.to_string())
}
