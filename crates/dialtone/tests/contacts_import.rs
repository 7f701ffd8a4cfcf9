//! `dialtone contacts import` as a user runs it: address-book files read locally, a
//! summary printed, and (unless `--dry-run`) the contacts merged into the account over
//! the public API of a real `dialtone serve`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{BIN, Server, text};

/// Copies fixtures of the import crate into `dir` under short names.
fn fixtures(dir: &Path, files: &[(&str, &str)]) {
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../dialtone-import/tests/fixtures"
    );
    for (from, to) in files {
        std::fs::copy(format!("{root}/{from}"), dir.join(to)).unwrap();
    }
}

/// Runs `dialtone` in `dir` with its own (possibly empty) configuration directory.
fn dialtone(dir: &Path, server: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(dir)
        .env("DIALTONE_CONFIG_DIR", dir.join("config"))
        .env_remove("DIALTONE_SERVER")
        .stdin(Stdio::null());
    if let Some(url) = server {
        command.env("DIALTONE_SERVER", url);
    }
    command.output().unwrap()
}

/// The summary row of `file`, split on whitespace (the file name first).
fn row(stdout: &str, file: &str) -> Vec<String> {
    stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(file))
        .unwrap_or_else(|| panic!("no row for {file}:\n{stdout}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[test]
fn dry_run_summarises_files_without_a_login() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(
        dir.path(),
        &[
            ("synthetic/foxmail_gbk.csv", "foxmail.csv"),
            ("synthetic/list_one_per_line.txt", "list.txt"),
            ("synthetic/numbers.xls", "sheet.xls"),
            ("ezvcard_rfc6350-example.vcf", "simon.vcf"),
        ],
    );
    let out = dialtone(
        dir.path(),
        None,
        &[
            "contacts",
            "import",
            "--dry-run",
            "--region",
            "CN",
            "foxmail.csv",
            "list.txt",
            "sheet.xls",
            "simon.vcf",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    // FILE FORMAT ENCODING RECORDS CONTACTS NUMBERS MERGED SKIPPED REJECTED
    assert_eq!(
        row(&stdout, "foxmail.csv"),
        [
            "foxmail.csv",
            "csv",
            "GBK",
            "3",
            "2",
            "4",
            "0",
            "0",
            "1",
            "(1",
            "no_number)"
        ],
        "{stdout}"
    );
    // The list repeats two of Foxmail's numbers: merged, not counted twice.
    let list = row(&stdout, "list.txt");
    assert_eq!(list[1..3], ["txt", "UTF-8"], "{stdout}");
    assert_eq!(list[4..7], ["5", "4", "2"], "{stdout}");
    assert_eq!(list[8..], ["1", "(1", "invalid_number)"], "{stdout}");
    // Every number of the sheet was in an earlier file: all merged.
    let sheet = row(&stdout, "sheet.xls");
    assert_eq!(sheet[1..3], ["xls", "UTF-8"], "{stdout}");
    assert_eq!(sheet[5..7], ["0", "3"], "{stdout}");
    assert_eq!(
        row(&stdout, "simon.vcf"),
        ["simon.vcf", "vcard", "UTF-8", "1", "1", "2", "0", "0", "0"],
        "{stdout}"
    );
    assert!(
        stdout.contains("Total: 6 contacts, 10 numbers from 4 of 4 file(s)."),
        "{stdout}"
    );
    // Each rejected entry with its file and location.
    assert!(
        stdout.contains("foxmail.csv: line 4: \"孙丽\": no_number"),
        "{stdout}"
    );
    assert!(
        stdout.contains("list.txt: line 8: \"12345\" (赵六): invalid_number"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Dry run: nothing was uploaded."),
        "{stdout}"
    );
    assert!(!dir.path().join("config").exists(), "no login was made");

    // Without --dry-run a login is needed, and nothing is read before that is said.
    let out = dialtone(dir.path(), None, &["contacts", "import", "foxmail.csv"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not logged in"),
        "{}",
        text(&out)
    );
}

#[test]
fn an_unreadable_file_is_named_and_the_others_are_still_summarised() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path(), &[("synthetic/foxmail_gbk.csv", "foxmail.csv")]);
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("garbage.bin"), garbage).unwrap();
    std::fs::write(dir.path().join("empty.csv"), b"").unwrap();
    let out = dialtone(
        dir.path(),
        None,
        &[
            "contacts",
            "import",
            "--dry-run",
            "--region",
            "CN",
            "garbage.bin",
            "foxmail.csv",
            "missing.vcf",
            "empty.csv",
        ],
    );
    assert!(!out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        stderr.contains("error: garbage.bin: not an address book format dialtone can read"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: missing.vcf: cannot read the file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: empty.csv: the file is empty"),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 of 4 file(s) could not be read"),
        "{stderr}"
    );
    assert_eq!(
        row(&stdout, "foxmail.csv")[1..6],
        ["csv", "GBK", "3", "2", "4"]
    );
    assert_eq!(row(&stdout, "garbage.bin")[1], "error:", "{stdout}");
    assert!(
        stdout.contains("Total: 2 contacts, 4 numbers from 1 of 4 file(s)."),
        "{stdout}"
    );

    // Bad options are refused before any file is read.
    let out = dialtone(
        dir.path(),
        None,
        &[
            "contacts",
            "import",
            "--dry-run",
            "--region",
            "ZZ",
            "foxmail.csv",
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown region code \"ZZ\""),
        "{}",
        text(&out)
    );
    let out = dialtone(
        dir.path(),
        None,
        &[
            "contacts",
            "import",
            "--dry-run",
            "--region",
            "CN",
            "--encoding",
            "klingon",
            "foxmail.csv",
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("error: foxmail.csv: unknown text encoding \"klingon\""),
        "{}",
        text(&out)
    );
}

#[test]
fn import_uploads_to_the_account_after_register() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path().join("data"));
    let alice = "+8613700137000";
    let mut register = server.client(&dir.path().join("config"), &["register", "--phone", alice]);
    let code = server.wait_code(alice, 0);
    let mut stdin = register.stdin.take().unwrap();
    writeln!(stdin, "{code}\n").unwrap(); // the code, then no password
    drop(stdin);
    let out = register.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));

    fixtures(
        dir.path(),
        &[
            ("synthetic/foxmail_gbk.csv", "foxmail.csv"),
            ("ezvcard_rfc6350-example.vcf", "simon.vcf"),
        ],
    );
    // No --region: national numbers are read in the account's region (CN).
    let out = dialtone(
        dir.path(),
        None,
        &["contacts", "import", "foxmail.csv", "simon.vcf"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        stdout.contains("Uploaded 6 numbers in 1 request(s)."),
        "{}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Reading national numbers as CN."),
        "{}",
        text(&out)
    );

    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("config/session.json")).unwrap(),
    )
    .unwrap();
    let token = saved["token"].as_str().unwrap().to_owned();
    let book = http::get(&format!("{}/v1/contacts", server.url), &token);
    let mut phones: Vec<(String, String)> = book["contacts"]
        .as_array()
        .unwrap_or_else(|| panic!("{book}"))
        .iter()
        .map(|c| {
            (
                c["phone"].as_str().unwrap().to_owned(),
                c["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    phones.sort();
    let expected = [
        ("+14182626501", "Simon Perreault"),
        ("+14186569254", "Simon Perreault"),
        ("+8613800138000", "周敏"),
        ("+8613912345678", "刘洋"),
        ("+862162341234", "周敏"),
        ("+8657187654321", "刘洋"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(p, n)| ((*p).to_owned(), (*n).to_owned()))
        .collect();
    assert_eq!(phones, expected, "{book}");

    // Importing again merges: nothing is duplicated.
    let out = dialtone(dir.path(), None, &["contacts", "import", "foxmail.csv"]);
    assert!(out.status.success(), "{}", text(&out));
    let book = http::get(&format!("{}/v1/contacts", server.url), &token);
    assert_eq!(book["contacts"].as_array().unwrap().len(), 6, "{book}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Your address book now has 6 contacts."),
        "{}",
        text(&out)
    );
}

mod http {
    /// A GET with a bearer token from a synchronous test.
    pub fn get(url: &str, token: &str) -> serde_json::Value {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                ::reqwest::Client::new()
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap()
            })
    }
}
