//! Removal of location metadata from image files, without re-encoding them.
//!
//! Photos from phones carry where they were taken (EXIF GPS, sometimes XMP). Sending a
//! photo must not send one's home address, so the service stores a cleaned copy.
//!
//! The approach, the same for each container: walk the file's segments or chunks; if the
//! EXIF block has any GPS field (or cannot be parsed, so its absence of GPS cannot be
//! shown), or an XMP packet mentions a location, drop every EXIF and XMP block, and put
//! back a minimal EXIF block holding only the orientation, so the photo still displays
//! upright. Nothing is re-encoded, so the pixels are untouched. Rewriting EXIF field by
//! field was rejected: maker notes hold offsets into the block that a rewrite breaks, and
//! some vendors keep location in them too. The camera model, date and the like go with
//! it; for a messaging app that is a feature.

pub(crate) mod jpeg;
pub(crate) mod png;
pub(crate) mod webp;

/// What stripping needs to know from an EXIF block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExifFacts {
    /// The block has, or may have, GPS fields.
    pub(crate) has_gps: bool,
    /// The EXIF orientation (2..=8) when it is not the default, to be kept.
    pub(crate) orientation: Option<u16>,
}

/// Reads a TIFF-structured EXIF block (starting at `II*\0` or `MM\0*`).
///
/// A block that does not parse counts as having GPS: we cannot prove it has none.
pub(crate) fn inspect_exif(tiff: &[u8]) -> ExifFacts {
    let Ok(parsed) = exif::Reader::new().read_raw(tiff.to_vec()) else {
        return ExifFacts {
            has_gps: true,
            orientation: None,
        };
    };
    let has_gps = parsed
        .fields()
        .any(|f| f.tag == exif::Tag::GPSInfoIFDPointer || f.tag.context() == exif::Context::Gps);
    let orientation = parsed
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|o| u16::try_from(o).ok())
        .filter(|o| (2..=8).contains(o));
    ExifFacts {
        has_gps,
        orientation,
    }
}

/// Whether an XMP packet carries a location: GPS coordinates (`exif:GPSLatitude`) or
/// place names (`Iptc4xmpCore:Location`, `photoshop:City`, `LocationShown`).
pub(crate) fn xmp_has_location(xmp: &[u8]) -> bool {
    const NEEDLES: [&[u8]; 3] = [b"GPS", b"Location", b"City"];
    NEEDLES.iter().any(|needle| contains(xmp, needle))
}

/// A minimal big-endian TIFF block holding only the orientation: what is put back in
/// place of a dropped EXIF block so the image still displays the right way up.
pub(crate) fn minimal_exif(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"MM\0*");
    tiff.extend_from_slice(&8u32.to_be_bytes()); // offset of IFD0
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    tiff
}

/// Whether `needle` occurs in `haystack`.
pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The error for a container whose structure does not hold together.
pub(crate) fn malformed(what: &str) -> crate::MediaError {
    crate::MediaError::Image(format!("malformed {what} structure"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_exif_parses_back_to_its_orientation() {
        let facts = inspect_exif(&minimal_exif(6));
        assert_eq!(
            facts,
            ExifFacts {
                has_gps: false,
                orientation: Some(6)
            }
        );
    }

    #[test]
    fn unparseable_exif_counts_as_gps() {
        assert!(inspect_exif(b"not a tiff").has_gps);
    }
}
