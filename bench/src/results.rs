//! Writes one benchmark's section into the results file, keeping every other section.

use std::path::Path;

use anyhow::Context;

const TITLE: &str = "# dialtone benchmark results\n";

/// Replaces the `## ` section whose heading line is `heading` (up to the next `## `
/// heading) with `body`, or appends it; creates the file if needed.
pub fn write_section(file: &Path, heading: &str, body: &str) -> anyhow::Result<()> {
    let old = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => TITLE.to_owned(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
    };
    let section = format!("{heading}\n\n{}\n", body.trim_end());
    let lines: Vec<&str> = old.lines().collect();
    let text = match lines.iter().position(|l| l.trim_end() == heading) {
        Some(start) => {
            let end = lines[start + 1..]
                .iter()
                .position(|l| l.starts_with("## "))
                .map_or(lines.len(), |i| start + 1 + i);
            let mut out = lines[..start].join("\n");
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&section);
            if end < lines.len() {
                out.push('\n');
                out.push_str(&lines[end..].join("\n"));
                out.push('\n');
            }
            out
        }
        None => {
            let mut out = old.trim_end().to_owned();
            out.push_str("\n\n");
            out.push_str(&section);
            out
        }
    };
    std::fs::write(file, text).with_context(|| format!("writing {}", file.display()))
}
