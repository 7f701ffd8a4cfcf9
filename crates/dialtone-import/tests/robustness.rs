//! Random and mutated input never panics: property tests over random bytes and over the
//! fixtures with bytes flipped, cut and inserted, with every format forced and sniffed.
//! (The cargo-fuzz targets in fuzz/ do the same, coverage-guided, for longer runs.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use dialtone_import::{Format, ImportOptions, Limits, import, import_many};
use proptest::prelude::*;

const FORMATS: [Option<Format>; 10] = [
    None,
    Some(Format::Csv),
    Some(Format::Txt),
    Some(Format::Vcard),
    Some(Format::Xlsx),
    Some(Format::Xls),
    Some(Format::Ods),
    Some(Format::Ldif),
    Some(Format::Wab),
    Some(Format::WindowsContact),
];

const FIXTURES: [&str; 14] = [
    "ezvcard_John_Doe_ANDROID.vcf",
    "ezvcard_rfc6350-example.vcf",
    "aosp_v21_shiftjis_qp.vcf",
    "roundcube_utf16be_nobom.vcf",
    "roundcube_google_legacy.csv",
    "thunderbird_utf16le_bom_addressbook.csv",
    "thunderbird_basic_addressbook.ldif",
    "thunderbird_OutlookExpress.wab.gz",
    "synthetic/outlook_zh_cn_gbk.csv",
    "synthetic/list_one_per_line.txt",
    "synthetic/windows.contact",
    "synthetic/numbers.ods",
    "synthetic/numbers.xls",
    "synthetic/base64_folded.ldif",
];

fn options(format: Option<Format>) -> ImportOptions {
    ImportOptions {
        format,
        limits: Limits {
            max_sheet_cells: 100_000,
            max_unpacked_bytes: 8 * 1024 * 1024,
            ..Limits::default()
        },
        ..common::opts("CN")
    }
}

/// Runs every format on the bytes; any outcome but a panic is fine, and a report must be
/// internally consistent.
fn run_all(bytes: &[u8]) {
    for format in FORMATS {
        if let Ok(report) = import(bytes, &options(format)) {
            assert_eq!(report.stats.contacts, report.contacts.len());
            assert_eq!(report.stats.rejected, report.rejected.len());
            assert!(report.contacts.iter().all(|c| !c.phones.is_empty()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        run_all(&bytes);
    }

    #[test]
    fn random_text_never_panics(text in "(BEGIN:VCARD\r\n|END:VCARD\r\n|TEL;CELL:|FN:|dn: |mobile:: |[0-9+ ()-]{0,20}|[,;\t\"\r\n=]|\\PC){0,60}") {
        run_all(text.as_bytes());
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0..FIXTURES.len(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in any::<prop::sample::Index>(),
        insert in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let mut bytes = common::fixture(FIXTURES[which]);
        for (at, value) in &flips {
            let i = at.index(bytes.len());
            bytes[i] = *value;
        }
        run_all(&bytes);
        let at = cut.index(bytes.len());
        run_all(&bytes[..at]);
        bytes.splice(at..at, insert.iter().copied());
        run_all(&bytes);
    }
}

#[test]
fn import_many_survives_mixed_junk() {
    let files: Vec<(String, Vec<u8>)> = FIXTURES
        .iter()
        .map(|f| ((*f).to_owned(), common::fixture(f)))
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let report = import_many(&refs, &options(None));
    assert_eq!(report.files.len(), FIXTURES.len());
    assert!(
        report.files.iter().all(|f| f.error.is_none()),
        "{:?}",
        report.files
    );
}
