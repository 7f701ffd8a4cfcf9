//! Content type from the bytes, not from what the client says.

/// The type given to bytes that are neither a known format nor text.
const OCTET_STREAM: &str = "application/octet-stream";

/// Text types a file name may choose for bytes that are text. Anything else a name
/// suggests for text (HTML, SVG, JavaScript, XML) would be active content if a browser
/// rendered it, so such text is plain text here.
const SAFE_TEXT_TYPES: &[&str] = &[
    "text/plain",
    "text/csv",
    "text/markdown",
    "text/x-markdown",
    "text/calendar",
    "text/vcard",
    "text/x-vcard",
    "text/directory",
    "text/tab-separated-values",
    "application/json",
];

/// Decides an attachment's content type from its first bytes (a few KiB is plenty).
///
/// The client's claimed type is never trusted: a renamed executable stays
/// `application/octet-stream`, and a photo named `.txt` is still `image/jpeg`, so the
/// decision to make a thumbnail or play a voice note rests on what the bytes are. The
/// file name is consulted only for bytes that look like text, where magic numbers say
/// nothing, and then only to pick among harmless text types: HTML, SVG or script
/// uploaded as an attachment is `text/plain`, so it can never run in a browser that
/// fetches it.
pub fn sniff(bytes_prefix: &[u8], filename: Option<&str>) -> String {
    if let Some(kind) = infer::get(bytes_prefix) {
        // infer also recognises HTML, XML and shell scripts; those are text to us, and
        // never a type a browser would run.
        if kind.matcher_type() != infer::MatcherType::Text {
            return kind.mime_type().to_owned();
        }
    }
    if !looks_like_text(bytes_prefix) {
        return OCTET_STREAM.to_owned();
    }
    filename
        .and_then(|name| mime_guess::from_path(name).first())
        .map(|guess| guess.essence_str().to_owned())
        .filter(|essence| SAFE_TEXT_TYPES.contains(&essence.as_str()))
        .unwrap_or_else(|| "text/plain".to_owned())
}

/// UTF-8 without NULs or control characters other than whitespace.
///
/// A multi-byte character cut at the end of the prefix still counts as text, since the
/// caller passes only the start of the file.
fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let valid = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => {
            // Truncated at the very end: check the part that is complete.
            match std::str::from_utf8(&bytes[..e.valid_up_to()]) {
                Ok(s) => s,
                Err(_) => return false,
            }
        }
        Err(_) => return false,
    };
    valid
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
}
