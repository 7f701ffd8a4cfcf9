//! Location stripping for JPEG, at the marker level.

use super::{ExifFacts, contains, inspect_exif, malformed, minimal_exif, xmp_has_location};
use crate::MediaError;

const EXIF_ID: &[u8] = b"Exif\0\0";
const XMP_ID: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXTENSION_ID: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";
const MPF_ID: &[u8] = b"MPF\0";

const APP1: u8 = 0xE1;
const APP2: u8 = 0xE2;
const SOS: u8 = 0xDA;
const EOI: u8 = 0xD9;

/// Segments that may go when location is stripped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Exif,
    Xmp,
    /// Multi-picture index (APP2 "MPF"): it points at images after EOI, which are dropped.
    MultiPicture,
    Other,
}

/// A byte range of the file and what it holds.
struct Segment {
    /// The first byte of the marker (fill bytes included), so it can be copied whole.
    start: usize,
    /// The first byte of the payload (after the length, if any).
    body: usize,
    end: usize,
    kind: Kind,
}

/// Returns the JPEG without location metadata, or `None` if it had none.
///
/// Besides the EXIF and XMP segments, everything after the end-of-image marker is
/// dropped: phones append further images there (multi-picture depth maps, vendor
/// trailers) which carry their own EXIF.
pub(crate) fn strip(bytes: &[u8]) -> Result<Option<Vec<u8>>, MediaError> {
    let (segments, image_end) = walk(bytes)?;
    let trailer = bytes.get(image_end..).unwrap_or_default();

    let mut has_location = trailer_has_gps(trailer);
    let mut orientation = None;
    for seg in &segments {
        let payload = bytes.get(seg.body..seg.end).unwrap_or_default();
        match seg.kind {
            Kind::Exif => {
                let facts: ExifFacts =
                    inspect_exif(payload.get(EXIF_ID.len()..).unwrap_or_default());
                has_location |= facts.has_gps;
                orientation = orientation.or(facts.orientation);
            }
            Kind::Xmp => has_location |= xmp_has_location(payload),
            Kind::MultiPicture | Kind::Other => {}
        }
    }
    if !has_location {
        return Ok(None);
    }

    let mut out = Vec::with_capacity(image_end);
    out.extend_from_slice(&bytes[..2]); // SOI
    if let Some(orientation) = orientation {
        let tiff = minimal_exif(orientation);
        let len = u16::try_from(2 + EXIF_ID.len() + tiff.len()).map_err(|_| malformed("JPEG"))?;
        out.extend_from_slice(&[0xFF, APP1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(EXIF_ID);
        out.extend_from_slice(&tiff);
    }
    for seg in segments.iter().filter(|s| s.kind == Kind::Other) {
        out.extend_from_slice(&bytes[seg.start..seg.end]);
    }
    Ok(Some(out))
}

/// Splits the file into segments up to and including EOI, and returns where EOI ends.
///
/// Entropy-coded data after each start-of-scan is kept with its scan, up to the next
/// real marker (not a stuffed `FF 00` nor a restart marker).
fn walk(bytes: &[u8]) -> Result<(Vec<Segment>, usize), MediaError> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(malformed("JPEG"));
    }
    let mut segments = Vec::new();
    let mut pos = 2;
    while pos < bytes.len() {
        let start = pos;
        if bytes[pos] != 0xFF {
            return Err(malformed("JPEG"));
        }
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1; // fill bytes
        }
        let marker = *bytes.get(pos).ok_or_else(|| malformed("JPEG"))?;
        pos += 1;
        if marker == EOI {
            segments.push(Segment {
                start,
                body: pos,
                end: pos,
                kind: Kind::Other,
            });
            return Ok((segments, pos));
        }
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            segments.push(Segment {
                start,
                body: pos,
                end: pos,
                kind: Kind::Other,
            });
            continue;
        }
        let len = match bytes.get(pos..pos + 2) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => return Err(malformed("JPEG")),
        };
        if len < 2 || pos + len > bytes.len() {
            return Err(malformed("JPEG"));
        }
        let body_start = pos + 2;
        pos += len;
        let body = &bytes[body_start..pos];
        let kind = match marker {
            APP1 if body.starts_with(EXIF_ID) => Kind::Exif,
            APP1 if body.starts_with(XMP_ID) || body.starts_with(XMP_EXTENSION_ID) => Kind::Xmp,
            APP2 if body.starts_with(MPF_ID) => Kind::MultiPicture,
            _ => Kind::Other,
        };
        if marker == SOS {
            pos = end_of_entropy_data(bytes, pos);
        }
        segments.push(Segment {
            start,
            body: body_start,
            end: pos,
            kind,
        });
    }
    // No EOI: a truncated file; keep what there is.
    Ok((segments, bytes.len()))
}

/// The index of the first marker after entropy-coded data starting at `pos`.
fn end_of_entropy_data(bytes: &[u8], mut pos: usize) -> usize {
    while pos + 1 < bytes.len() {
        if bytes[pos] == 0xFF {
            let next = bytes[pos + 1];
            if next == 0x00 || (0xD0..=0xD7).contains(&next) {
                pos += 2;
                continue;
            }
            return pos;
        }
        pos += 1;
    }
    bytes.len()
}

/// Whether data after EOI holds EXIF with GPS (an appended multi-picture image).
fn trailer_has_gps(trailer: &[u8]) -> bool {
    if !contains(trailer, EXIF_ID) {
        return false;
    }
    trailer
        .windows(EXIF_ID.len())
        .enumerate()
        .filter(|(_, w)| *w == EXIF_ID)
        .any(|(i, _)| inspect_exif(trailer.get(i + EXIF_ID.len()..).unwrap_or_default()).has_gps)
}
