#![no_main]
// Fuzzes import() with the format forced to Some(Format::Vcard).

use dialtone_import::Format;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::run(data, Some(Format::Vcard));
});
