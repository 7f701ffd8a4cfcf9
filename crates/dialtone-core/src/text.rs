//! Text that people type into fields others read: names, group names, status lines,
//! messages. Control characters have no place in any of them (a NUL cannot even be stored
//! by PostgreSQL, and the others break layouts or hide text), so every such field passes
//! through here, the one place that says what is kept: dropped silently, as a keyboard
//! never types them, rather than refusing a whole address book for one stray byte.

/// A one-line field (a display name, a group or contact name, a status text, a device
/// name): line breaks and tabs become spaces, every other control character (C0, DEL,
/// C1) is dropped, and the ends are trimmed.
pub fn one_line(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        if matches!(c, '\n' | '\r' | '\t' | '\u{0085}' | '\u{2028}' | '\u{2029}') {
            out.push(' ');
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out.trim().to_owned()
}

/// Text of several lines (a message): line breaks (`\r\n` and a lone `\r` become `\n`) and
/// tabs are kept, every other control character is dropped. Not trimmed: leading spaces
/// may be the point of a message.
pub fn multi_line(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_fields_lose_control_characters() {
        for (input, expected) in [
            ("Alice", "Alice"),
            ("  张伟 ", "张伟"),
            ("A\0lice", "Alice"),
            ("Bob\u{7}\u{1b}[31m", "Bob[31m"),
            ("line\nbreak", "line break"),
            ("tab\there", "tab here"),
            ("c1\u{85}next\u{9b}x", "c1 nextx"),
            ("del\u{7f}", "del"),
            ("\0\u{1}\u{2}", ""),
            ("emoji 👩‍👩‍👧 ok", "emoji 👩‍👩‍👧 ok"),
            (
                "zero\u{200d}width joiner kept",
                "zero\u{200d}width joiner kept",
            ),
        ] {
            assert_eq!(one_line(input), expected, "{input:?}");
        }
    }

    #[test]
    fn messages_keep_their_lines() {
        for (input, expected) in [
            ("hi", "hi"),
            ("  indented\n\tcode", "  indented\n\tcode"),
            ("windows\r\nline", "windows\nline"),
            ("old mac\rline", "old mac\nline"),
            ("nul\0 gone", "nul gone"),
            ("bell\u{7}", "bell"),
        ] {
            assert_eq!(multi_line(input), expected, "{input:?}");
        }
    }
}
