//! The import's number path against Google's libphonenumber.
//!
//! `fixtures/phone_oracle.tsv` holds what libphonenumber (its Python port `phonenumbers`,
//! pinned to the metadata version `rlibphonenumber` embeds) makes of some thousand number
//! cells: the cases of issue 12 and variants of valid CN, HK, US, GB, IR and DE numbers in
//! the forms address books hold them. `scripts/phone-oracle.py` wrote it; the committed
//! table is the oracle, so no Python runs here.
//!
//! Each row is imported as the phone cell of a one-row CSV in its region, so the whole path
//! a cell takes is checked: the splitting of multi-number cells, spreadsheet text markers,
//! the trailing-extension rule and `PhoneNumber::parse_detailed`. The import must give the
//! same E.164 number and extension, or reject the cell for the same reason.
//!
//! Dialtone answers differently on purpose in three ways, each small and listed here:
//! - Chinese extension words (`转`, `分机`, ...), which libphonenumber does not know: the
//!   table's `zh-ext-words` rows already hold libphonenumber's answer with the word
//!   written ` ext. ` (and its answer for the cell as typed, for the record).
//! - A trailing digit group after a complete landline (`010-62345678-8001`), which
//!   libphonenumber reads as part of an invalid number and dialtone as an extension, and a
//!   spreadsheet's float written as text (`13800138000.0`): [`DELIBERATE`] lists each such
//!   row with what dialtone gives, and the test fails if one comes to agree or leaves the
//!   table.

use dialtone_import::{ImportReport, import};

use crate::common::{fixture, opts};

/// Why a trailing group is read as an extension: Chinese offices write a landline's
/// extension as a third dash group (`区号-号码-分机`), and the subscriber group before it
/// is complete, so the extension is not part of the number.
const TRAILING_GROUP: &str = "extension written as a group after a complete landline";

/// Why a number cell ending in `.0` is read as the whole number: spreadsheets store numbers
/// typed into cells as floats, and a CSV export writes them `13800138000.0`.
const SPREADSHEET_FLOAT: &str = "a spreadsheet float written as text";

/// Rows where dialtone's answer differs from the oracle's on purpose:
/// (region, input, dialtone's outcome, why). libphonenumber rejects each as invalid.
#[rustfmt::skip]
const DELIBERATE: &[(&str, &str, &str, &str)] = &[
    ("CN", "010-62345678-8001", "+861062345678;ext=8001", TRAILING_GROUP),
    ("CN", "0755-23456789-1", "+8675523456789;ext=1", TRAILING_GROUP),
    ("CN", "021-68888888-8001", "+862168888888;ext=8001", TRAILING_GROUP),
    ("CN", "0755-23456789-8001", "+8675523456789;ext=8001", TRAILING_GROUP),
    ("CN", "0571-87654321-8001", "+8657187654321;ext=8001", TRAILING_GROUP),
    ("HK", "21234567-8001", "+85221234567;ext=8001", TRAILING_GROUP),
    ("US", "201-5550123-8001", "+12015550123;ext=8001", TRAILING_GROUP),
    ("US", "650-2530000-8001", "+16502530000;ext=8001", TRAILING_GROUP),
    ("US", "212-7361234-8001", "+12127361234;ext=8001", TRAILING_GROUP),
    ("GB", "020-79460958-8001", "+442079460958;ext=8001", TRAILING_GROUP),
    ("GB", "0161-4960000-8001", "+441614960000;ext=8001", TRAILING_GROUP),
    ("IR", "021-23456789-8001", "+982123456789;ext=8001", TRAILING_GROUP),
    ("CN", "010–62345678-8001", "+861062345678;ext=8001", TRAILING_GROUP),
    ("CN", "０１０－６２３４５６７８－８００１", "+861062345678;ext=8001", TRAILING_GROUP),
    ("CN", "(010) 62345678 - 12", "+861062345678;ext=12", TRAILING_GROUP),
    ("CN", "13800138000.0", "+8613800138000", SPREADSHEET_FLOAT),
];

/// What the import made of one cell, in the oracle's vocabulary: `+E164`,
/// `+E164;ext=N`, or `rejected:REASON`; anything else (several numbers, a number and a
/// rejection) is spelled out so the mismatch report shows it.
fn imported(report: &ImportReport) -> String {
    let phones: Vec<String> = report
        .contacts
        .iter()
        .flat_map(|c| &c.phones)
        .map(|p| match &p.extension {
            Some(ext) => format!("{};ext={ext}", p.number),
            None => p.number.to_string(),
        })
        .collect();
    let rejections: Vec<String> = report
        .rejected
        .iter()
        .map(|r| format!("rejected:{}", r.reason.code()))
        .collect();
    let all: Vec<String> = phones.into_iter().chain(rejections).collect();
    all.join(" + ")
}

/// The oracle's outcome as the import reports it: libphonenumber's parse errors other than
/// NOT_A_NUMBER (too short, too long) are numbers that cannot exist, as is a parsed number
/// that is not valid.
fn expected(outcome: &str) -> String {
    match outcome {
        "invalid" | "error:TOO_SHORT_NSN" | "error:TOO_LONG" | "error:TOO_SHORT_AFTER_IDD" => {
            "rejected:invalid_number".to_owned()
        }
        "error:NOT_A_NUMBER" => "rejected:not_a_number".to_owned(),
        // A country code libphonenumber does not know: dialtone says it lacks a region.
        "error:INVALID_COUNTRY_CODE" => "rejected:missing_region".to_owned(),
        number => number.to_owned(),
    }
}

/// A one-row CSV with the cell in the phone column (quoted, `"` doubled).
fn csv_with(cell: &str) -> Vec<u8> {
    format!("Name,Phone\r\nrow,\"{}\"\r\n", cell.replace('"', "\"\"")).into_bytes()
}

#[test]
fn import_agrees_with_libphonenumber_on_every_oracle_row() {
    let table = String::from_utf8(fixture("phone_oracle.tsv")).unwrap();
    let mut rows = 0;
    let mut deliberate_used = vec![false; DELIBERATE.len()];
    let mut disagreements = Vec::new();
    for line in table.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [region, input, outcome, rule, _raw] = cols[..] else {
            panic!("malformed oracle row {line:?}");
        };
        assert!(
            matches!(rule, "libphonenumber" | "zh-ext-words"),
            "unknown rule in {line:?}"
        );
        rows += 1;
        let oracle = expected(outcome);
        let want = match DELIBERATE
            .iter()
            .position(|(r, i, _, _)| *r == region && *i == input)
        {
            Some(at) => {
                deliberate_used[at] = true;
                let (_, _, dialtone, why) = DELIBERATE[at];
                assert_ne!(
                    dialtone, oracle,
                    "{region} {input:?}: listed as deliberate ({why}) but agrees with the oracle"
                );
                dialtone.to_owned()
            }
            None => oracle,
        };
        let report = import(&csv_with(input), &opts(region))
            .unwrap_or_else(|e| panic!("{region} {input:?}: {e}"));
        let got = imported(&report);
        if got != want {
            disagreements.push(format!("{region}\t{input:?}\twant {want}\tgot {got}"));
        }
    }
    assert!(rows > 500, "only {rows} oracle rows");
    for ((region, input, _, _), used) in DELIBERATE.iter().zip(deliberate_used) {
        assert!(
            used,
            "deliberate exception {region} {input:?} is not in the oracle"
        );
    }
    assert!(
        disagreements.is_empty(),
        "{} of {rows} rows disagree with libphonenumber:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
