//! `dialtone contacts import FILE...`: reads address-book files here, with the same library
//! as the server's preview (`dialtone-import`), shows what it found, and merges the
//! contacts into the account with `POST /v1/contacts`, in parts within the API's limits.

use std::collections::{BTreeMap, HashSet};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use dialtone_client::{Client, ContactInput};
use dialtone_core::{PhoneNumber, Region};
use dialtone_import::{ImportError, ImportOptions, ImportReport, Limits, Rejected};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::session_file;

/// Most numbers in one `POST /v1/contacts` (the API's 50,000 entries per request).
const MAX_PART_ENTRIES: usize = 50_000;
/// Most JSON bytes in one request, under the API's 8 MiB with room to spare.
const MAX_PART_BYTES: usize = 7 * 1024 * 1024;
/// Files from this size on get a progress bar (on a terminal).
const PROGRESS_FROM_BYTES: u64 = 1024 * 1024;
/// Rejected entries listed without `--verbose`.
const REJECTED_SHOWN: usize = 20;

/// What to do with the address book.
#[derive(Subcommand)]
pub enum ContactsAction {
    /// Read address-book files (CSV, TXT, vCard, xlsx/xls/ods, LDIF, WAB, .contact) and
    /// add their contacts to your account.
    Import(ImportArgs),
}

/// `dialtone contacts import`.
#[derive(Args)]
pub struct ImportArgs {
    /// The files to read; duplicates across them are merged.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Region for numbers written without a country code (ISO 3166 alpha-2, e.g. CN).
    /// Default: your account's region, else the one of your locale.
    #[arg(long)]
    region: Option<String>,
    /// Text encoding of the files (gbk, big5, shift_jis, utf-16le, windows-1252…), for
    /// the rare file whose encoding is guessed wrong.
    #[arg(long, value_name = "NAME")]
    encoding: Option<String>,
    /// Show what would be imported; change nothing (no login needed).
    #[arg(long)]
    dry_run: bool,
    /// List every rejected entry, not only the first 20.
    #[arg(long, short)]
    verbose: bool,
}

/// `dialtone contacts ...`.
pub async fn run(server: Option<String>, action: ContactsAction) -> anyhow::Result<()> {
    match action {
        ContactsAction::Import(args) => import(server, args).await,
    }
}

/// One file's outcome.
struct FileResult {
    name: String,
    outcome: Result<ImportReport, String>,
    /// Numbers dropped because an earlier file already had them.
    merged_across: usize,
}

async fn import(server: Option<String>, args: ImportArgs) -> anyhow::Result<()> {
    // Log in (and learn the account's region) before the work, so a missing login is
    // said at once, not after reading a large file.
    let login = if args.dry_run {
        None
    } else {
        let saved = session_file::load()?;
        let server = server.unwrap_or_else(|| saved.server.clone());
        let client = Client::new(&server).with_token(saved.token.clone());
        let account = client.account().await?;
        Some((client, account.region))
    };
    let region = choose_region(
        args.region.as_deref(),
        login.as_ref().map(|(_, r)| r.as_str()),
    )?;
    match region {
        Some(r) => eprintln!("Reading national numbers as {r}."),
        None => {
            eprintln!("No region: numbers without a country code will be rejected (use --region).")
        }
    }
    let opts = ImportOptions {
        region,
        encoding: args.encoding.clone(),
        ..ImportOptions::default()
    };

    let mut results = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let name = path.display().to_string();
        let outcome = read_and_parse(path, &name, &opts)
            .await
            .map_err(|e| format!("{e:#}"));
        if let Err(message) = &outcome {
            eprintln!("error: {name}: {message}");
        }
        results.push(FileResult {
            name,
            outcome,
            merged_across: 0,
        });
    }
    let contacts = merge_across_files(&mut results);
    print_summary(&results, &contacts, args.verbose);

    let failed = results.iter().filter(|r| r.outcome.is_err()).count();
    if let Some((client, _)) = login {
        upload(&client, &contacts).await?;
    } else {
        println!("Dry run: nothing was uploaded.");
    }
    if failed > 0 {
        bail!("{failed} of {} file(s) could not be read", results.len());
    }
    Ok(())
}

/// `--region`, else the account's, else the locale's territory (`zh_CN.UTF-8` → CN).
fn choose_region(flag: Option<&str>, account: Option<&str>) -> anyhow::Result<Option<Region>> {
    if let Some(code) = flag {
        return Region::parse(code).map(Some).ok_or_else(|| {
            anyhow!("unknown region code {code:?} (use ISO 3166 alpha-2, such as CN)")
        });
    }
    if let Some(region) = account.and_then(Region::parse) {
        return Ok(Some(region));
    }
    // A dry run without network: the region of the saved login's number, if any.
    if account.is_none()
        && let Ok(saved) = session_file::load()
        && let Some(region) = PhoneNumber::parse_e164(&saved.phone)
            .ok()
            .and_then(|p| p.region())
    {
        return Ok(Some(region));
    }
    Ok(locale_region())
}

fn locale_region() -> Option<Region> {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|v| !v.is_empty())
        .and_then(|v| territory(&v))
}

/// The territory of a POSIX locale name: `zh_CN.UTF-8` → CN, `C.UTF-8` → none.
fn territory(locale: &str) -> Option<Region> {
    let (_, territory) = locale.split(['.', '@']).next()?.split_once('_')?;
    Region::parse(territory)
}

/// A progress bar on stderr when `show` and stderr is a terminal; hidden otherwise.
fn progress(show: bool, len: Option<u64>) -> ProgressBar {
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr())
}

async fn read_and_parse(
    path: &Path,
    name: &str,
    opts: &ImportOptions,
) -> anyhow::Result<ImportReport> {
    let limits = Limits::default();
    let size = std::fs::metadata(path)
        .with_context(|| "cannot read the file")?
        .len();
    if size > limits.max_bytes as u64 {
        return Err(ImportError::TooLarge {
            size,
            limit: limits.max_bytes as u64,
        }
        .into());
    }

    let bar = progress(size >= PROGRESS_FROM_BYTES, Some(size));
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(format!("reading {name}"));
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let mut file = std::fs::File::open(path).with_context(|| "cannot read the file")?;
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        let n = file
            .read(&mut chunk)
            .with_context(|| "cannot read the file")?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(chunk.get(..n).unwrap_or_default());
        bar.inc(n as u64);
        if bytes.len() > limits.max_bytes {
            break; // grew while being read: the library refuses it with TooLarge
        }
    }

    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
        bar.set_style(style);
    }
    bar.set_message(format!("parsing {name}"));
    bar.enable_steady_tick(Duration::from_millis(100));
    let file_opts = ImportOptions {
        filename: Some(name.to_owned()),
        ..opts.clone()
    };
    let parsed = tokio::task::spawn_blocking(move || dialtone_import::import(&bytes, &file_opts))
        .await
        .map_err(|e| anyhow!("the parser stopped: {e}"));
    bar.finish_and_clear();
    Ok(parsed??)
}

/// Each E.164 number once over all files: a number an earlier file already gave is
/// dropped (and counted as merged). The contacts to upload, in file order.
fn merge_across_files(results: &mut [FileResult]) -> Vec<ContactInput> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut contacts = Vec::new();
    for result in results.iter_mut() {
        let Ok(report) = &result.outcome else {
            continue;
        };
        for contact in &report.contacts {
            let phones: Vec<String> = contact
                .phones
                .iter()
                .map(|p| p.number.as_str().to_owned())
                .filter(|n| seen.insert(n.clone()))
                .collect();
            result.merged_across += contact.phones.len() - phones.len();
            if !phones.is_empty() {
                contacts.push(ContactInput {
                    name: contact.name.clone(),
                    phones,
                });
            }
        }
    }
    contacts
}

fn reasons(rejected: &[Rejected]) -> String {
    let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rejected {
        *by_reason.entry(r.reason.code()).or_default() += 1;
    }
    by_reason
        .iter()
        .map(|(reason, n)| format!("{n} {reason}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_summary(results: &[FileResult], contacts: &[ContactInput], verbose: bool) {
    let width = results
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 48);
    println!(
        "{:<width$}  {:<15} {:<12} {:>8} {:>8} {:>8} {:>7} {:>8}  REJECTED",
        "FILE", "FORMAT", "ENCODING", "RECORDS", "CONTACTS", "NUMBERS", "MERGED", "SKIPPED"
    );
    for r in results {
        match &r.outcome {
            Ok(report) => {
                let s = &report.stats;
                let format = report.format.as_str();
                let rejected = if report.rejected.is_empty() {
                    "0".to_owned()
                } else {
                    format!("{} ({})", report.rejected.len(), reasons(&report.rejected))
                };
                println!(
                    "{:<width$}  {:<15} {:<12} {:>8} {:>8} {:>8} {:>7} {:>8}  {rejected}",
                    r.name,
                    format,
                    report.encoding,
                    s.records,
                    s.contacts,
                    s.numbers.saturating_sub(r.merged_across),
                    s.merged_duplicates + r.merged_across,
                    s.skipped,
                );
            }
            Err(message) => println!("{:<width$}  error: {message}", r.name),
        }
    }
    let numbers: usize = contacts.iter().map(|c| c.phones.len()).sum();
    let read = results.iter().filter(|r| r.outcome.is_ok()).count();
    println!(
        "Total: {} contacts, {numbers} numbers from {read} of {} file(s).",
        contacts.len(),
        results.len()
    );

    let rejected: Vec<(&str, &Rejected)> = results
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok().map(|rep| (r.name.as_str(), rep)))
        .flat_map(|(name, rep)| rep.rejected.iter().map(move |x| (name, x)))
        .collect();
    if rejected.is_empty() {
        return;
    }
    println!("Rejected:");
    let shown = if verbose {
        rejected.len()
    } else {
        REJECTED_SHOWN
    };
    for (file, x) in rejected.iter().take(shown) {
        let whose = match &x.name {
            Some(name) if *name != x.input => format!(" ({name})"),
            _ => String::new(),
        };
        println!(
            "  {file}: {}: {:?}{whose}: {}",
            x.location, x.input, x.reason
        );
    }
    if rejected.len() > shown {
        println!(
            "  … and {} more (--verbose lists them all)",
            rejected.len() - shown
        );
    }
}

/// Splits the contacts into requests of at most [`MAX_PART_ENTRIES`] numbers and
/// [`MAX_PART_BYTES`] of JSON; a contact with more numbers than fit is split too.
fn parts(contacts: &[ContactInput]) -> Vec<Vec<ContactInput>> {
    let mut parts = Vec::new();
    let mut current: Vec<ContactInput> = Vec::new();
    let (mut entries, mut bytes) = (0usize, 0usize);
    for contact in contacts {
        let mut phones = contact.phones.as_slice();
        while !phones.is_empty() {
            // `{"name":…,"phones":[…]},` with the name as JSON escapes it.
            let name_bytes = serde_json::to_string(&contact.name)
                .map_or(contact.name.len() * 6, |n| n.len())
                + 24;
            let room = MAX_PART_ENTRIES - entries;
            let mut take = 0;
            let mut size = name_bytes;
            for p in phones.iter().take(room) {
                if bytes + size + p.len() + 4 > MAX_PART_BYTES {
                    break;
                }
                size += p.len() + 4;
                take += 1;
            }
            if take == 0 {
                if current.is_empty() {
                    take = 1; // cannot happen with real numbers; never loop forever
                } else {
                    parts.push(std::mem::take(&mut current));
                    (entries, bytes) = (0, 0);
                    continue;
                }
            }
            let (now, later) = phones.split_at(take.min(phones.len()));
            current.push(ContactInput {
                name: contact.name.clone(),
                phones: now.to_vec(),
            });
            entries += now.len();
            bytes += size;
            phones = later;
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

async fn upload(client: &Client, contacts: &[ContactInput]) -> anyhow::Result<()> {
    if contacts.is_empty() {
        println!("Nothing to upload.");
        return Ok(());
    }
    let parts = parts(contacts);
    let bar = progress(parts.len() > 1, Some(parts.len() as u64));
    if let Ok(style) = ProgressStyle::with_template("uploading [{bar:30}] {pos}/{len}") {
        bar.set_style(style.progress_chars("=> "));
    }
    let mut rejected: Vec<(String, String)> = Vec::new();
    let mut book = None;
    for (i, part) in parts.iter().enumerate() {
        let answer = client.merge_contacts(part).await.with_context(|| {
            format!(
                "uploading part {} of {} ({} contacts)",
                i + 1,
                parts.len(),
                part.len()
            )
        })?;
        if let Some(list) = answer["rejected"].as_array() {
            rejected.extend(list.iter().map(|r| {
                (
                    r["input"].as_str().unwrap_or_default().to_owned(),
                    r["reason"].as_str().unwrap_or_default().to_owned(),
                )
            }));
        }
        book = answer["contacts"].as_array().map(Vec::len);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let numbers: usize = contacts.iter().map(|c| c.phones.len()).sum();
    println!("Uploaded {numbers} numbers in {} request(s).", parts.len());
    if !rejected.is_empty() {
        println!("The server rejected {}:", rejected.len());
        for (input, reason) in &rejected {
            println!("  {input:?}: {reason}");
        }
    }
    if let Some(n) = book {
        println!("Your address book now has {n} contacts.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(name: &str, n: usize, from: usize) -> ContactInput {
        ContactInput {
            name: name.to_owned(),
            phones: (from..from + n).map(|i| format!("+86138{i:08}")).collect(),
        }
    }

    #[test]
    fn parts_respect_the_entry_limit_and_split_big_contacts() {
        let contacts = vec![
            contact("a", 30_000, 0),
            contact("b", 30_000, 30_000),
            contact("c", 120_000, 60_000),
        ];
        let parts = parts(&contacts);
        let counts: Vec<usize> = parts
            .iter()
            .map(|p| p.iter().map(|c| c.phones.len()).sum())
            .collect();
        assert_eq!(counts, [50_000, 50_000, 50_000, 30_000]);
        let all: Vec<&String> = parts
            .iter()
            .flatten()
            .flat_map(|c| c.phones.iter())
            .collect();
        assert_eq!(all.len(), 180_000);
        assert_eq!(all.iter().collect::<HashSet<_>>().len(), 180_000);
        for part in &parts {
            let json = serde_json::to_vec(&serde_json::json!({ "contacts": part })).unwrap();
            assert!(json.len() <= 8 * 1024 * 1024, "{}", json.len());
        }
    }

    #[test]
    fn parts_respect_the_byte_limit() {
        let long_name = "x".repeat(400);
        let contacts: Vec<ContactInput> = (0..40_000)
            .map(|i| ContactInput {
                name: long_name.clone(),
                phones: vec![format!("+86138{i:08}")],
            })
            .collect();
        let parts = parts(&contacts);
        assert!(parts.len() >= 3, "{}", parts.len());
        for part in &parts {
            let json = serde_json::to_vec(&serde_json::json!({ "contacts": part })).unwrap();
            assert!(json.len() <= 8 * 1024 * 1024, "{}", json.len());
        }
        assert_eq!(parts.iter().map(Vec::len).sum::<usize>(), 40_000);
    }

    #[test]
    fn locale_territory() {
        let code = |l: &str| territory(l).map(|r| r.code());
        assert_eq!(code("zh_CN.UTF-8").as_deref(), Some("CN"));
        assert_eq!(code("en_GB@euro").as_deref(), Some("GB"));
        assert_eq!(code("C.UTF-8"), None);
        assert_eq!(code("POSIX"), None);
    }
}
