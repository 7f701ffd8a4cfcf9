//! `dialtone-bench import`: parsing and normalising a 100,000-contact address book from
//! vCard, CSV and xlsx with `dialtone_import::import`, time and peak memory.
//!
//! The three files are generated here with the same contacts: names (most of them
//! Chinese), one to three numbers each in mixed national and international forms; the
//! xlsx has the plain national mobiles as numeric cells, as Excel users type them. Time is
//! the median of in-process runs after one warm-up. Peak memory is measured in a child
//! process (this binary again, hidden subcommand `import-child`) that reads the file,
//! imports it once and reports its `VmHWM`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use dialtone_core::Region;
use dialtone_import::{ImportOptions, Limits};
use serde::{Deserialize, Serialize};

use crate::machine::{CpuSnapshot, Machine, others_text};
use crate::results;
use crate::setup;

/// Options of `dialtone-bench import`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Contacts in each generated file.
    #[arg(long, default_value_t = 100_000)]
    pub contacts: usize,
    /// Measured runs per format (after one warm-up); the median is reported.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// File to write the results section into. Default: bench/RESULTS.md.
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Print the figures only; leave the results file alone.
    #[arg(long)]
    pub no_write: bool,
}

/// Options of the hidden `import-child` subcommand.
#[derive(clap::Args, Debug)]
pub struct ChildArgs {
    /// The file to import.
    pub file: PathBuf,
}

/// What a child reports on its standard output, as one JSON line.
#[derive(Serialize, Deserialize, Debug)]
struct ChildReport {
    /// `VmHWM` after reading the file, before importing (KiB).
    hwm_before_kib: u64,
    /// `VmHWM` after importing (KiB).
    hwm_after_kib: u64,
    seconds: f64,
    contacts: usize,
}

/// The three formats.
#[derive(Clone, Copy)]
enum Kind {
    Vcard,
    Csv,
    Xlsx,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Vcard => "vCard 3.0",
            Kind::Csv => "CSV",
            Kind::Xlsx => "xlsx",
        }
    }

    fn file_name(self) -> &'static str {
        match self {
            Kind::Vcard => "contacts.vcf",
            Kind::Csv => "contacts.csv",
            Kind::Xlsx => "contacts.xlsx",
        }
    }
}

struct Outcome {
    kind: Kind,
    bytes: usize,
    times: Vec<Duration>,
    contacts: usize,
    numbers: usize,
    rejected: usize,
    records: usize,
    child: ChildReport,
    others: String,
}

impl Outcome {
    fn median(&self) -> Duration {
        let mut times = self.times.clone();
        times.sort();
        times.get(times.len() / 2).copied().unwrap_or_default()
    }
}

fn options(contacts: usize, file_name: &str) -> anyhow::Result<ImportOptions> {
    Ok(ImportOptions {
        region: Some(Region::parse("CN").context("region CN")?),
        filename: Some(file_name.to_owned()),
        limits: Limits {
            // The default cap is exactly 100,000 records; leave room for the header row.
            max_entries: contacts.max(100_000) + 1_000,
            ..Limits::default()
        },
        ..ImportOptions::default()
    })
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.contacts > 0, "--contacts must be at least 1");
    anyhow::ensure!(args.runs > 0, "--runs must be at least 1");
    let machine = Machine::describe();
    eprintln!("machine: {}", machine.line());
    let dir = tempfile::tempdir().context("temporary directory")?;
    let people = people(args.contacts);
    setup::wait_for_no_rustc().await;
    let floor = parse_floor(&people)?;
    eprintln!(
        "PhoneNumber::parse of every number alone: {:.0} ms",
        floor.as_secs_f64() * 1000.0
    );
    let mut outcomes = Vec::new();
    for kind in [Kind::Vcard, Kind::Csv, Kind::Xlsx] {
        let bytes = match kind {
            Kind::Vcard => vcard(&people),
            Kind::Csv => csv(&people),
            Kind::Xlsx => xlsx(&people)?,
        };
        let path = dir.path().join(kind.file_name());
        std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "{}: {} contacts, {:.1} MiB",
            kind.name(),
            args.contacts,
            bytes.len() as f64 / 1024.0 / 1024.0
        );
        setup::wait_for_no_rustc().await;
        let opts = options(args.contacts, kind.file_name())?;
        let cpu = CpuSnapshot::take();
        let (times, report) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut last = dialtone_import::import(&bytes, &opts)?.stats;
            let mut times = Vec::new();
            for _ in 0..args.runs {
                let started = std::time::Instant::now();
                let report = dialtone_import::import(&bytes, &opts)?;
                times.push(started.elapsed());
                // Dropped before the next run, so one report is alive at a time.
                last = report.stats;
            }
            Ok((times, last))
        })
        .await??;
        let others = others_text(cpu, CpuSnapshot::take());
        let child = child(&path).await?;
        let outcome = Outcome {
            kind,
            bytes: std::fs::metadata(&path)
                .map(|m| m.len() as usize)
                .unwrap_or(0),
            times,
            contacts: report.contacts,
            numbers: report.numbers,
            rejected: report.rejected,
            records: report.records,
            child,
            others,
        };
        eprintln!(
            "      median {:.0} ms ({} records → {} contacts, {} numbers, {} rejected); peak RSS {:.1} MiB in a child",
            outcome.median().as_secs_f64() * 1000.0,
            outcome.records,
            outcome.contacts,
            outcome.numbers,
            outcome.rejected,
            outcome.child.hwm_after_kib as f64 / 1024.0
        );
        outcomes.push(outcome);
    }

    let heading = "## Address-book import".to_owned();
    let body = report(&args, &machine, &outcomes, floor);
    println!("{heading}\n\n{body}");
    if !args.no_write {
        let file = setup::results_file(args.results.as_ref());
        results::write_section(&file, &heading, &body)?;
        eprintln!("wrote section {heading:?} of {}", file.display());
    }
    Ok(())
}

/// Median of 3 timings of `PhoneNumber::parse` (region CN) over every generated number:
/// the floor of any import of these contacts.
fn parse_floor(people: &[Person]) -> anyhow::Result<Duration> {
    let region = Region::parse("CN").context("region CN")?;
    let inputs: Vec<&str> = people
        .iter()
        .flat_map(|p| p.phones.iter().map(|(_, s)| s.as_str()))
        .collect();
    let mut times = Vec::new();
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let valid = inputs
            .iter()
            .filter(|s| dialtone_core::PhoneNumber::parse(s, Some(region)).is_ok())
            .count();
        times.push(started.elapsed());
        anyhow::ensure!(
            valid == inputs.len(),
            "{} numbers did not parse",
            inputs.len() - valid
        );
    }
    times.sort();
    Ok(times.get(1).copied().unwrap_or_default())
}

/// Runs this binary's `import-child` on `path` and reads its report.
async fn child(path: &Path) -> anyhow::Result<ChildReport> {
    let exe = std::env::current_exe().context("finding this binary")?;
    let output = tokio::process::Command::new(exe)
        .arg("import-child")
        .arg(path)
        .output()
        .await
        .context("running the import child")?;
    anyhow::ensure!(
        output.status.success(),
        "import child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .last()
        .context("the import child said nothing")?;
    serde_json::from_str(line).context("reading the import child's report")
}

/// The hidden subcommand: import `file` once and print the peak memory as JSON.
pub fn child_main(args: ChildArgs) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let opts = options(usize::MAX / 4, &name)?;
    let hwm_before_kib = vm_hwm_kib()?;
    let started = std::time::Instant::now();
    let report = dialtone_import::import(&bytes, &opts)?;
    let seconds = started.elapsed().as_secs_f64();
    let hwm_after_kib = vm_hwm_kib()?;
    let out = ChildReport {
        hwm_before_kib,
        hwm_after_kib,
        seconds,
        contacts: report.stats.contacts,
    };
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

/// Peak resident set size of this process so far, in KiB.
fn vm_hwm_kib() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status").context("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/self/status")
}

/// One generated person: a display name, family and given name, and numbers as typed.
struct Person {
    name: String,
    family: String,
    given: String,
    phones: Vec<(Form, String)>,
}

/// How a number is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `138 0013 8000`
    NationalSpaced,
    /// `13800138000`: a numeric cell in xlsx.
    NationalPlain,
    /// `+86 138-0013-8000`
    International,
    /// `0086 13800138000`
    Prefix00,
    /// `+8613800138000`
    E164,
    /// `(010) 6234-5678`, a Beijing landline.
    Landline,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "欧阳", "司马",
];
/// Characters of given names (two each).
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "兰", "霞", "子", "涵", "浩", "然", "梓", "轩", "欣", "怡", "宇", "航", "晨", "阳",
    "佳", "琪", "思", "雨", "博", "文", "嘉", "颖", "俊", "鹏", "婷", "雪", "慧", "鑫", "辉", "斌",
    "华", "平", "红", "玲", "建", "国", "志", "刚", "海", "燕", "春", "秋", "桂", "凤", "玉", "珍",
    "荣", "成", "林", "峰", "飞", "龙", "云", "凯", "亮", "健", "波", "琳", "晶", "倩", "莉", "萍",
];
const LATIN_GIVEN: &[&str] = &[
    "John",
    "Mary",
    "Wei",
    "Li",
    "María José",
    "François",
    "Anna",
    "Ahmed",
    "Yuki",
    "Olga",
    "James",
    "Linda",
    "Peter",
    "Sofía",
    "Jürgen",
    "Chloé",
    "Ivan",
    "Priya",
    "Kenji",
    "Fatima",
    "Lucas",
    "Emma",
    "Noah",
    "Mia",
    "Liam",
    "Zoë",
    "Mateo",
    "Ingrid",
    "Pablo",
    "Aiko",
    "Omar",
    "Hana",
    "Pierre",
    "Marta",
    "Tomás",
    "Eva",
    "Luca",
    "Nina",
    "Hugo",
    "Sara",
];
const LATIN_FAMILY: &[&str] = &[
    "Smith",
    "Wang",
    "García",
    "Müller",
    "O'Brien",
    "Nguyen",
    "Kowalski",
    "Tanaka",
    "Chen",
    "Silva",
    "Johnson",
    "Brown",
    "Martínez",
    "Rossi",
    "Dubois",
    "Ivanov",
    "Kim",
    "Patel",
    "Sato",
    "Lopez",
    "Schmidt",
    "Novak",
    "Jensen",
    "Costa",
    "Khan",
    "Singh",
    "Cohen",
    "Walsh",
    "Haddad",
    "Berg",
    "Moreau",
    "Fischer",
    "Romano",
    "Yilmaz",
    "Park",
    "Tran",
    "Santos",
    "Lindqvist",
    "Horvat",
    "Fernández",
];
const INITIALS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// `count` people with distinct numbers: mobiles +86 13x…, Beijing landlines 010 6…
fn people(count: usize) -> Vec<Person> {
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        // Distinct names (the importer merges records of the same name): 7 in 10 Chinese
        // (surname + two characters), the others Latin (given, initial, family).
        let (family, given, name) = if i % 10 < 7 {
            let k = i / 10 * 7 + i % 10;
            let f = SURNAMES[k % SURNAMES.len()];
            let k = k / SURNAMES.len();
            let g = format!(
                "{}{}",
                GIVEN[k % GIVEN.len()],
                GIVEN[(k / GIVEN.len()) % GIVEN.len()]
            );
            let name = format!("{f}{g}");
            (f.to_owned(), g, name)
        } else {
            let k = i / 10 * 3 + i % 10 - 7;
            let g = LATIN_GIVEN[k % LATIN_GIVEN.len()];
            let k = k / LATIN_GIVEN.len();
            let m = INITIALS.chars().nth(k % INITIALS.len()).unwrap_or('A');
            let f = LATIN_FAMILY[(k / INITIALS.len()) % LATIN_FAMILY.len()];
            (f.to_owned(), format!("{g} {m}."), format!("{g} {m}. {f}"))
        };
        let numbers = 1 + usize::from(i % 3 == 0) + usize::from(i % 5 == 0);
        let mut phones = Vec::with_capacity(numbers);
        for j in 0..numbers {
            let n = (i * 3 + j) as u64;
            let form = match (i + j) % 10 {
                0..=2 => Form::NationalSpaced,
                3..=4 => Form::NationalPlain,
                5 => Form::International,
                6 => Form::Prefix00,
                7..=8 => Form::E164,
                _ => Form::Landline,
            };
            // 130–139 blocks, 8 digits after the block.
            let mobile = 130_0000_0000 + (n % 10) * 1_0000_0000 + n / 10;
            let d = mobile.to_string();
            let text = match form {
                Form::NationalSpaced => format!("{} {} {}", &d[..3], &d[3..7], &d[7..]),
                Form::NationalPlain => d,
                Form::International => format!("+86 {}-{}-{}", &d[..3], &d[3..7], &d[7..]),
                Form::Prefix00 => format!("0086 {d}"),
                Form::E164 => format!("+86{d}"),
                Form::Landline => {
                    let local = 6000_0000 + n % 1000_0000;
                    let l = local.to_string();
                    format!("(010) {}-{}", &l[..4], &l[4..])
                }
            };
            phones.push((form, text));
        }
        out.push(Person {
            name,
            family,
            given,
            phones,
        });
    }
    out
}

fn vcard(people: &[Person]) -> Vec<u8> {
    let mut out = String::with_capacity(people.len() * 120);
    for p in people {
        out.push_str("BEGIN:VCARD\r\nVERSION:3.0\r\n");
        out.push_str(&format!(
            "FN:{}\r\nN:{};{};;;\r\n",
            p.name, p.family, p.given
        ));
        for (k, (form, phone)) in p.phones.iter().enumerate() {
            let kind = match (form, k) {
                (Form::Landline, _) => "HOME",
                (_, 0) => "CELL",
                _ => "WORK",
            };
            out.push_str(&format!("TEL;TYPE={kind}:{phone}\r\n"));
        }
        out.push_str("END:VCARD\r\n");
    }
    out.into_bytes()
}

fn csv(people: &[Person]) -> Vec<u8> {
    let mut out = String::with_capacity(people.len() * 60);
    out.push_str("Name,Mobile Phone,Home Phone,Business Phone\r\n");
    for p in people {
        out.push_str(&p.name);
        for k in 0..3 {
            out.push(',');
            if let Some((_, phone)) = p.phones.get(k) {
                out.push_str(phone);
            }
        }
        out.push_str("\r\n");
    }
    out.into_bytes()
}

fn xlsx(people: &[Person]) -> anyhow::Result<Vec<u8>> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, title) in ["姓名", "手机", "Home Phone", "Business Phone"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, col as u16, *title)?;
    }
    for (i, p) in people.iter().enumerate() {
        let row = u32::try_from(i + 1).context("too many rows for xlsx")?;
        sheet.write_string(row, 0, &p.name)?;
        for (k, (form, phone)) in p.phones.iter().enumerate() {
            let col = k as u16 + 1;
            match form {
                Form::NationalPlain | Form::NationalSpaced => {
                    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
                    let value: f64 = digits.parse().context("numeric cell")?;
                    sheet.write_number(row, col, value)?;
                }
                _ => {
                    sheet.write_string(row, col, phone)?;
                }
            }
        }
    }
    Ok(workbook.save_to_buffer()?)
}

fn report(args: &Args, machine: &Machine, outcomes: &[Outcome], floor: Duration) -> String {
    let command: Vec<String> = std::env::args().skip(1).collect();
    let mut out = String::new();
    out.push_str(&format!(
        "- Date: {}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    out.push_str(&format!("- Machine: {}\n", machine.line()));
    out.push_str(&format!(
        "- Command: `dialtone-bench {}` (release build)\n",
        command.join(" ")
    ));
    out.push_str(&format!(
        "- Input: {} generated contacts per file, the same in each format: 70% Chinese names \
         all distinct (the importer merges records of the same name): 70% Chinese (`王伟芳`, `欧阳子涵`), 30% Latin with accents (`María José K. García`); 1–3 numbers each (about 1.5 on \
         average), distinct, written as `138 0013 8000` (30%), `13800138000` (20%), \
         `+86 138-0013-8000`, `0086 13800138000`, `+8613800138000` (20%) and Beijing landlines \
         `(010) 6234-5678`. vCard 3.0 (`FN`, `N`, `TEL;TYPE=`), CSV with an Outlook-style \
         header (`Name,Mobile Phone,Home Phone,Business Phone`), xlsx from rust_xlsxwriter \
         (header `姓名,手机,Home Phone,Business Phone`; national mobiles as numeric cells, \
         the rest as text).\n",
        args.contacts
    ));
    out.push_str(&format!(
        "- Call: `dialtone_import::import(&bytes, &ImportOptions {{ region: CN, filename, \
         limits: max_entries {} }})` (format sniffed from the bytes): decoding, parsing, \
         normalising every number to E.164 and merging duplicates. Time: median of {} \
         in-process runs after one warm-up. Peak memory: `VmHWM` of a child process \
         (`dialtone-bench import-child FILE`) that reads the file then imports it once; \
         \"before\" is its peak after reading the file (binary, runtime and the bytes), the \
         difference is what the import added at its peak.\n\n",
        args.contacts.max(100_000) + 1_000,
        args.runs
    ));
    out.push_str(
        "| Format | File size | Median time (min–max) | Contacts / numbers / rejected | Peak RSS: before → after import (added) | Child's one cold run | CPU taken by others |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for o in outcomes {
        let min = o.times.iter().min().copied().unwrap_or_default();
        let max = o.times.iter().max().copied().unwrap_or_default();
        out.push_str(&format!(
            "| {} | {:.1} MiB | {:.0} ms ({:.0}–{:.0}) | {} / {} / {} | {:.1} → {:.1} MiB (+{:.1}) | {:.0} ms | {} |\n",
            o.kind.name(),
            o.bytes as f64 / 1024.0 / 1024.0,
            o.median().as_secs_f64() * 1000.0,
            min.as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0,
            o.contacts,
            o.numbers,
            o.rejected,
            o.child.hwm_before_kib as f64 / 1024.0,
            o.child.hwm_after_kib as f64 / 1024.0,
            o.child.hwm_after_kib.saturating_sub(o.child.hwm_before_kib) as f64 / 1024.0,
            o.child.seconds * 1000.0,
            o.others
        ));
    }
    out.push_str(&format!(
        "\nFloor: `PhoneNumber::parse` (region CN) of the same {} numbers alone, one after \
         another: {:.0} ms (median of 3).\n",
        outcomes.first().map_or(0, |o| o.numbers),
        floor.as_secs_f64() * 1000.0
    ));
    let verdict = |kind: &str| {
        outcomes
            .iter()
            .find(|o| o.kind.name() == kind)
            .map(|o| {
                let ms = o.median().as_secs_f64() * 1000.0;
                format!(
                    "{kind} {ms:.0} ms ({})",
                    if ms < 1000.0 { "met" } else { "not met" }
                )
            })
            .unwrap_or_else(|| format!("{kind}: not measured"))
    };
    out.push_str(&format!(
        "\nTarget: under 1 s each for vCard and CSV on this machine: {}; {}. (xlsx has no \
         target; reported for comparison.)\n",
        verdict("vCard 3.0"),
        verdict("CSV")
    ));
    out
}
