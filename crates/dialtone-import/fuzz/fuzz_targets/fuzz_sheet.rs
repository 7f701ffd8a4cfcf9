#![no_main]
// Fuzzes the spreadsheet readers: the first byte picks xlsx, xls or ods, the rest is the file.

use dialtone_import::Format;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let format = match selector % 3 {
        0 => Format::Xlsx,
        1 => Format::Xls,
        _ => Format::Ods,
    };
    common::run(rest, Some(format));
});
