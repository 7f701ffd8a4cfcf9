#![no_main]
// Fuzzes render() with the default limits: it must never panic or hang, and whatever
// HTML it returns must pass the tests' independent oracle (only allow-listed elements
// and attributes, safe links, attachment-only pictures, as a browser parses it).

use dialtone_markup::{EXCERPT_CHARS, Limits, render};
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../tests/markup/oracle.rs"]
mod oracle;

fuzz_target!(|data: &[u8]| {
    // render() takes text; invalid UTF-8 is made valid rather than thrown away, so
    // that every input the fuzzer finds is used.
    let markdown = String::from_utf8_lossy(data);
    if let Ok(rendered) = render(&markdown, &Limits::default()) {
        if let Err(why) = oracle::check(&rendered.html) {
            panic!("unsafe HTML from {markdown:?}: {why}");
        }
        assert!(rendered.text_excerpt.chars().count() <= EXCERPT_CHARS);
        assert!(rendered.image_refs.len() <= Limits::default().max_images);
    }
});
