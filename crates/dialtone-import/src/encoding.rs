//! Text encodings: the byte order mark first, then a NUL-byte pattern for UTF-16 without a
//! mark (Outlook and some Mac exports), then strict UTF-8, then statistical detection
//! (chardetng, hinted by the importer's region) for GBK/GB18030, Big5, Shift_JIS and the
//! Windows code pages that older Windows address books use. The caller can override.

use dialtone_core::Region;
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

use crate::ImportError;

/// How many leading bytes the UTF-16 NUL heuristic looks at.
const NUL_SAMPLE: usize = 4096;

/// Text decoded from a file, with the name of the encoding used.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
}

impl Decoded {
    /// The encoding's display name (`UTF-8`, `GBK`, `UTF-16LE`).
    pub(crate) fn name(&self) -> String {
        self.encoding.name().to_owned()
    }
}

/// Resolves the caller's override label, if any.
pub(crate) fn override_encoding(
    label: Option<&str>,
) -> Result<Option<&'static Encoding>, ImportError> {
    match label {
        None => Ok(None),
        Some(l) if l.trim().is_empty() => Ok(None),
        Some(l) => Encoding::for_label(l.trim().as_bytes())
            .map(Some)
            .ok_or_else(|| ImportError::UnknownEncoding {
                label: l.to_owned(),
            }),
    }
}

/// Finds a BOM, returning the encoding and the BOM's length.
pub(crate) fn bom(bytes: &[u8]) -> Option<(&'static Encoding, usize)> {
    Encoding::for_bom(bytes)
}

/// Guesses UTF-16 without a BOM from where the NUL bytes are: ASCII-heavy UTF-16 text has a
/// NUL in every other byte. Binary files are sniffed before text, so they never get here.
pub(crate) fn utf16_by_nuls(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = bytes.get(..bytes.len().min(NUL_SAMPLE))?;
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return None;
    }
    let (mut even, mut odd) = (0usize, 0usize);
    for pair in sample.chunks_exact(2) {
        if let [a, b] = pair {
            even += usize::from(*a == 0);
            odd += usize::from(*b == 0);
        }
    }
    // Over a third of the pairs with a NUL on one side and almost none on the other.
    if odd * 3 > pairs && even * 20 < pairs {
        Some(UTF_16LE)
    } else if even * 3 > pairs && odd * 20 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Guesses a legacy 8-bit or multi-byte encoding for bytes that are not UTF-8.
pub(crate) fn guess_legacy(bytes: &[u8], region: Option<Region>) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    // chardetng asserts its TLD hint is lower-case ASCII letters; a region code always is
    // once lower-cased, but filter anyway so no input can reach that assertion.
    let tld: Option<String> = region
        .map(|r| r.code().to_ascii_lowercase())
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_lowercase()));
    detector.guess(
        tld.as_deref().map(str::as_bytes),
        chardetng::Utf8Detection::Allow,
    )
}

/// Picks the encoding of a whole text file: override, BOM, UTF-16 NUL pattern, strict
/// UTF-8, then detection. Returns the encoding and how many BOM bytes to skip.
pub(crate) fn sniff(
    bytes: &[u8],
    region: Option<Region>,
    forced: Option<&'static Encoding>,
) -> (&'static Encoding, usize) {
    if let Some(enc) = forced {
        let skip = match bom(bytes) {
            Some((b, len)) if b == enc => len,
            _ => 0,
        };
        return (enc, skip);
    }
    if let Some(found) = bom(bytes) {
        return found;
    }
    if let Some(enc) = utf16_by_nuls(bytes) {
        return (enc, 0);
    }
    if std::str::from_utf8(bytes).is_ok() {
        return (UTF_8, 0);
    }
    (guess_legacy(bytes, region), 0)
}

/// Decodes a whole text file (see [`sniff`]). Malformed sequences become U+FFFD rather than
/// failing: one bad byte should not lose a whole address book.
pub(crate) fn decode(
    bytes: &[u8],
    region: Option<Region>,
    forced: Option<&'static Encoding>,
) -> Decoded {
    let (encoding, skip) = sniff(bytes, region, forced);
    let body = bytes.get(skip..).unwrap_or_default();
    let (text, _) = encoding.decode_without_bom_handling(body);
    Decoded {
        text: text.into_owned(),
        encoding,
    }
}

/// Decodes one value in a given encoding, or in the file's default when it names none.
pub(crate) fn decode_with(bytes: &[u8], encoding: &'static Encoding) -> String {
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    text.into_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn utf16_without_bom_is_found_by_its_nuls() {
        let le: Vec<u8> = "Name,Phone\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let be: Vec<u8> = "Name,Phone\r\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(utf16_by_nuls(&le), Some(UTF_16LE));
        assert_eq!(utf16_by_nuls(&be), Some(UTF_16BE));
        assert_eq!(utf16_by_nuls(b"Name,Phone\r\n"), None);
    }

    #[test]
    fn gbk_is_guessed_with_a_cn_hint() {
        let (bytes, _, _) = encoding_rs::GBK.encode("姓名,手机\r\n张三,13800138000\r\n");
        let region = Region::parse("CN");
        assert_eq!(sniff(&bytes, region, None).0.name(), "GBK");
    }
}
