//! Location stripping for PNG: the `eXIf` chunk and XMP text chunks.

use super::{inspect_exif, malformed, minimal_exif, xmp_has_location};
use crate::MediaError;

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp";

/// Chunks that may go when location is stripped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Exif,
    Xmp,
    Other,
}

/// Returns the PNG without location metadata, or `None` if it had none.
///
/// Chunks are dropped whole; the others keep their CRCs, which cover only themselves.
/// Anything after `IEND` is dropped as well.
pub(crate) fn strip(bytes: &[u8]) -> Result<Option<Vec<u8>>, MediaError> {
    if !bytes.starts_with(SIGNATURE) {
        return Err(malformed("PNG"));
    }
    let mut chunks = Vec::new();
    let mut has_location = false;
    let mut orientation = None;
    let mut pos = SIGNATURE.len();
    while pos < bytes.len() {
        let (len, kind_tag) = match bytes.get(pos..pos + 8) {
            Some(&[a, b, c, d, t0, t1, t2, t3]) => (
                usize::try_from(u32::from_be_bytes([a, b, c, d])).map_err(|_| malformed("PNG"))?,
                [t0, t1, t2, t3],
            ),
            _ => return Err(malformed("PNG")),
        };
        let data_start = pos + 8;
        let end = data_start
            .checked_add(len)
            .and_then(|e| e.checked_add(4))
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| malformed("PNG"))?;
        let data = &bytes[data_start..end - 4];
        let kind = match &kind_tag {
            b"eXIf" => {
                let facts = inspect_exif(data);
                has_location |= facts.has_gps;
                orientation = orientation.or(facts.orientation);
                Kind::Exif
            }
            b"iTXt" | b"tEXt" | b"zTXt" if is_xmp(data) => {
                has_location |= text_chunk_has_location(&kind_tag, data);
                Kind::Xmp
            }
            _ => Kind::Other,
        };
        chunks.push((pos, end, kind));
        pos = end;
        if &kind_tag == b"IEND" {
            break;
        }
    }
    if !has_location {
        return Ok(None);
    }

    let mut out = Vec::with_capacity(pos);
    out.extend_from_slice(SIGNATURE);
    for &(start, end, kind) in &chunks {
        match kind {
            Kind::Other => out.extend_from_slice(&bytes[start..end]),
            Kind::Xmp => {}
            Kind::Exif => {
                if let Some(orientation) = orientation.take() {
                    write_chunk(&mut out, b"eXIf", &minimal_exif(orientation));
                }
            }
        }
    }
    Ok(Some(out))
}

/// Whether a text chunk is an XMP packet, by its keyword.
fn is_xmp(data: &[u8]) -> bool {
    data.starts_with(XMP_KEYWORD) && data.get(XMP_KEYWORD.len()) == Some(&0)
}

/// Whether an XMP text chunk carries a location. A compressed one is not inflated just
/// to look: it is treated as carrying one.
fn text_chunk_has_location(kind: &[u8; 4], data: &[u8]) -> bool {
    let after_keyword = data.get(XMP_KEYWORD.len() + 1..).unwrap_or_default();
    match kind {
        b"zTXt" => true,
        b"iTXt" => after_keyword.first() != Some(&0) || xmp_has_location(after_keyword),
        _ => xmp_has_location(after_keyword),
    }
}

/// Appends one chunk with its CRC.
fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&[kind.as_slice(), data]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (ISO 3309) as PNG chunks use; a bitwise loop is plenty for a 26-byte chunk.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in parts.iter().flat_map(|p| p.iter()) {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_png_iend_chunk() {
        assert_eq!(crc32(&[b"IEND"]), 0xAE42_6082);
    }
}
