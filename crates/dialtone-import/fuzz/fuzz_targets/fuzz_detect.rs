#![no_main]
// Fuzzes import() with the format sniffed from the bytes.

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::run(data, None);
});
