//! Location stripping for WebP: the `EXIF` and `XMP ` chunks of the RIFF container.

use super::{inspect_exif, malformed, minimal_exif, xmp_has_location};
use crate::MediaError;

/// VP8X flag bits that announce EXIF and XMP chunks.
const EXIF_FLAG: u8 = 0x08;
const XMP_FLAG: u8 = 0x04;

/// Returns the WebP without location metadata, or `None` if it had none.
///
/// Metadata chunks exist only in the extended (`VP8X`) form. They are dropped, their
/// flags cleared, and the RIFF size rewritten. The orientation is put back as a minimal
/// `EXIF` chunk, as for JPEG.
pub(crate) fn strip(bytes: &[u8]) -> Result<Option<Vec<u8>>, MediaError> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WEBP" {
        return Err(malformed("WebP"));
    }
    let mut chunks = Vec::new();
    let mut has_location = false;
    let mut orientation = None;
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let tag = [bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]];
        let size = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]);
        let size = usize::try_from(size).map_err(|_| malformed("WebP"))?;
        let data_start = pos + 8;
        let data_end = data_start
            .checked_add(size)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| malformed("WebP"))?;
        let end = (data_end + (size & 1)).min(bytes.len());
        let data = &bytes[data_start..data_end];
        match &tag {
            b"EXIF" => {
                let tiff = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
                let facts = inspect_exif(tiff);
                has_location |= facts.has_gps;
                orientation = orientation.or(facts.orientation);
            }
            b"XMP " => has_location |= xmp_has_location(data),
            _ => {}
        }
        chunks.push((tag, pos, end));
        pos = end;
    }
    if !has_location {
        return Ok(None);
    }

    let mut body = Vec::with_capacity(bytes.len());
    body.extend_from_slice(b"WEBP");
    for &(tag, start, end) in &chunks {
        match &tag {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                let mut chunk = bytes[start..end].to_vec();
                if let Some(flags) = chunk.get_mut(8) {
                    *flags &= !(EXIF_FLAG | XMP_FLAG);
                    if orientation.is_some() {
                        *flags |= EXIF_FLAG;
                    }
                }
                body.extend_from_slice(&chunk);
            }
            _ => body.extend_from_slice(&bytes[start..end]),
        }
    }
    if let Some(orientation) = orientation {
        // EXIF belongs after the image data, as the container spec orders chunks.
        let tiff = minimal_exif(orientation);
        let len = u32::try_from(tiff.len()).map_err(|_| malformed("WebP"))?;
        body.extend_from_slice(b"EXIF");
        body.extend_from_slice(&len.to_le_bytes());
        body.extend_from_slice(&tiff); // even length: no padding byte
    }
    let riff_size = u32::try_from(body.len()).map_err(|_| malformed("WebP"))?;
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff_size.to_le_bytes());
    out.extend_from_slice(&body);
    Ok(Some(out))
}
