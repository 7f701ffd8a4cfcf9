//! Helpers shared by the integration tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity,
    dead_code
)]

use std::io::Read;

use dialtone_core::Region;
use dialtone_import::{ImportOptions, ImportReport};

/// Reads a fixture (under tests/fixtures), gunzipping `.gz` files.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if name.ends_with(".gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        bytes
    }
}

/// Options with a region.
pub fn opts(region: &str) -> ImportOptions {
    ImportOptions {
        region: Region::parse(region),
        ..ImportOptions::default()
    }
}

/// (E.164, label, extension)
pub type Phone = (&'static str, Option<&'static str>, Option<&'static str>);

/// The contacts of a report as plain tuples, for exact comparison.
pub fn contacts(
    report: &ImportReport,
) -> Vec<(String, Vec<(String, Option<String>, Option<String>)>)> {
    report
        .contacts
        .iter()
        .map(|c| {
            let phones = c
                .phones
                .iter()
                .map(|p| {
                    (
                        p.number.as_str().to_owned(),
                        p.label.clone(),
                        p.extension.clone(),
                    )
                })
                .collect();
            (c.name.clone(), phones)
        })
        .collect()
}

/// The rejections as (location, input, reason code).
pub fn rejected(report: &ImportReport) -> Vec<(String, String, String)> {
    report
        .rejected
        .iter()
        .map(|r| {
            (
                r.location.clone(),
                r.input.clone(),
                r.reason.code().to_owned(),
            )
        })
        .collect()
}

fn own(
    expected: &[(&str, &[Phone])],
) -> Vec<(String, Vec<(String, Option<String>, Option<String>)>)> {
    expected
        .iter()
        .map(|(name, phones)| {
            let phones = phones
                .iter()
                .map(|(n, l, e)| ((*n).to_owned(), l.map(str::to_owned), e.map(str::to_owned)))
                .collect();
            ((*name).to_owned(), phones)
        })
        .collect()
}

/// Imports a fixture and asserts its format, encoding, contacts and rejections exactly.
pub fn check(
    file: &str,
    options: &ImportOptions,
    format: &str,
    encoding: &str,
    expected: &[(&str, &[Phone])],
    expected_rejected: &[(&str, &str, &str)],
) -> ImportReport {
    let report =
        dialtone_import::import(&fixture(file), options).unwrap_or_else(|e| panic!("{file}: {e}"));
    let got_format = serde_json::to_value(report.format).unwrap();
    assert_eq!(got_format, format, "{file}: format");
    assert_eq!(report.encoding, encoding, "{file}: encoding");
    assert_eq!(contacts(&report), own(expected), "{file}: contacts");
    let want: Vec<(String, String, String)> = expected_rejected
        .iter()
        .map(|(l, i, r)| ((*l).to_owned(), (*i).to_owned(), (*r).to_owned()))
        .collect();
    assert_eq!(rejected(&report), want, "{file}: rejected");
    assert_eq!(report.stats.rejected, report.rejected.len());
    assert_eq!(report.stats.contacts, report.contacts.len());
    report
}
