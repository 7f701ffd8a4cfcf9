//! `dialtone-bench discovery`: how long the server takes to store and match a 2,000-number
//! address book against a directory of 1,000,000 accounts (`PUT /v1/contacts`), and to
//! list it again (`GET /v1/contacts`).
//!
//! The accounts are written straight into the `users` table (bulk multi-row INSERTs in
//! large transactions) after the server has created its schema: registering a million
//! numbers through the API would take hours and is not what is measured here. One real
//! user then registers through the API and uploads a book in national format (so parsing
//! is part of the work) of which about half are registered accounts.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use dialtone_client::Client;
use dialtone_core::PhoneNumber;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, SqliteConnection};
use tokio::time::Instant;

use crate::machine::{CpuSnapshot, Machine, others_text};
use crate::results;
use crate::setup::{self, Server};
use crate::stats::{Latencies, Summary};

/// Seeded accounts are +86 139 0000 0000 + i.
const SEED_FIRST: u64 = 139_0000_0000;
/// Book numbers that are not accounts are +86 137 0000 0000 + k × stride.
const UNREGISTERED_FIRST: u64 = 137_0000_0000;
/// The uploading user.
const OWNER_FIRST: u64 = 138_0000_0000;
/// Rows per INSERT statement and per transaction when seeding.
const ROWS_PER_STATEMENT: usize = 1_000;
const ROWS_PER_TRANSACTION: usize = 10_000;

/// Options of `dialtone-bench discovery`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Accounts written into the directory before measuring.
    #[arg(long, default_value_t = 1_000_000)]
    pub accounts: usize,
    /// Entries in the uploaded address book (about half of them registered).
    #[arg(long, default_value_t = 2_000)]
    pub book: usize,
    /// Measured uploads and listings (after the warm-ups).
    #[arg(long, default_value_t = 30)]
    pub runs: usize,
    /// Unmeasured uploads and listings first.
    #[arg(long, default_value_t = 3)]
    pub warmups: usize,
    /// `postgres://USER@HOST:PORT/DB` to run on a fresh database created (and dropped
    /// afterwards) on that server. Unset: SQLite in a temporary directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// File to write the results section into. Default: bench/RESULTS.md.
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Print the figures only; leave the results file alone.
    #[arg(long)]
    pub no_write: bool,
}

/// Everything measured.
struct Figures {
    seed_elapsed: Duration,
    seed_others: String,
    first_upload: Duration,
    registered_seen: usize,
    contacts_seen: usize,
    rejected_seen: usize,
    put: Summary,
    get: Summary,
    others: String,
    request_bytes: usize,
    put_response_bytes: usize,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.book >= 2, "--book must be at least 2");
    anyhow::ensure!(args.runs > 0, "--runs must be at least 1");
    let registered = (args.book / 2).min(args.accounts);
    anyhow::ensure!(registered > 0, "--accounts must be at least 1");
    let machine = Machine::describe();
    eprintln!("machine: {}", machine.line());

    let server = Server::start(args.database_url.as_deref(), |config| {
        // Re-uploading the same numbers is free, but the first upload draws on the quota:
        // make sure it never interferes.
        config.contacts.discovery_capacity = 100_000_000;
        config.contacts.max_entries = config.contacts.max_entries.max(args.book);
    })
    .await?;
    eprintln!(
        "server on {}, {} database",
        server.base, server.database.label
    );
    let outcome = measure(&args, &server, registered).await;
    let label = server.database.label;
    let detail = server.database.detail.clone();
    let stopped = server.stop().await;
    let figures = outcome?;
    stopped?;

    let heading = format!("## Discovery — {label}");
    let body = report(&args, &machine, &detail, registered, &figures);
    println!("{heading}\n\n{body}");
    if !args.no_write {
        let file = setup::results_file(args.results.as_ref());
        results::write_section(&file, &heading, &body)?;
        eprintln!("wrote section {heading:?} of {}", file.display());
    }
    Ok(())
}

async fn measure(args: &Args, server: &Server, registered: usize) -> anyhow::Result<Figures> {
    // The numbers must be valid; check the two ends of the range.
    for national in [SEED_FIRST, SEED_FIRST + args.accounts as u64 - 1] {
        PhoneNumber::parse(&format!("+86{national}"), None)
            .with_context(|| format!("+86{national} is not a valid number to seed"))?;
    }
    eprintln!(
        "[1/3] seeding {} accounts straight into the users table ({ROWS_PER_TRANSACTION} rows per transaction)",
        args.accounts
    );
    setup::wait_for_no_rustc().await;
    let cpu = CpuSnapshot::take();
    let started = Instant::now();
    seed(&server.database_url, args.accounts).await?;
    let seed_elapsed = started.elapsed();
    let seed_others = others_text(cpu, CpuSnapshot::take());
    eprintln!("      seeded in {:.1} s", seed_elapsed.as_secs_f64());

    eprintln!("[2/3] registering the uploading user through the API");
    let owner_phone = setup::valid_numbers(OWNER_FIRST, 1)?
        .into_iter()
        .next()
        .context("no owner number")?;
    let login = setup::register(&Client::new(&server.base), &server.provider, &owner_phone).await?;
    let body = serde_json::to_vec(
        &json!({ "contacts": book(args.book, registered, args.accounts), "region": "CN" }),
    )?;
    let http = reqwest::Client::new();
    let url = format!("{}/v1/contacts", server.base);
    let bearer = format!("Bearer {}", login.token);

    let put = || {
        http.put(&url)
            .header("Authorization", &bearer)
            .header("Content-Type", "application/json")
            .body(body.clone())
    };
    let get = || http.get(&url).header("Authorization", &bearer);

    eprintln!(
        "[3/3] {} warm-ups then {} measured PUT and GET /v1/contacts of {} entries",
        args.warmups, args.runs, args.book
    );
    setup::wait_for_no_rustc().await;
    let (first_upload, first_answer) = timed(put()).await?;
    let answer: Value = serde_json::from_slice(&first_answer).context("reading the PUT answer")?;
    let contacts = answer["contacts"]
        .as_array()
        .map_or(&[][..], |c| c.as_slice());
    let registered_seen = contacts
        .iter()
        .filter(|c| c["registered"].as_bool() == Some(true))
        .count();
    let contacts_seen = contacts.len();
    let rejected_seen = answer["rejected"].as_array().map_or(0, Vec::len);
    eprintln!(
        "      first upload {} ms: {contacts_seen} contacts, {registered_seen} registered, {rejected_seen} rejected",
        setup::ms(first_upload)
    );
    for _ in 1..args.warmups {
        timed(put()).await?;
    }
    for _ in 0..args.warmups {
        timed(get()).await?;
    }
    let cpu = CpuSnapshot::take();
    let (mut puts, mut gets) = (Latencies::new()?, Latencies::new()?);
    let mut put_response_bytes = 0;
    for _ in 0..args.runs {
        let (elapsed, answer) = timed(put()).await?;
        puts.record(elapsed);
        put_response_bytes = answer.len();
        let (elapsed, _) = timed(get()).await?;
        gets.record(elapsed);
    }
    let others = others_text(cpu, CpuSnapshot::take());
    let (put, get) = (puts.summary(), gets.summary());
    eprintln!(
        "      PUT p50/p90/p99/max {} ms; GET {} ms",
        put.line(),
        get.line()
    );
    Ok(Figures {
        seed_elapsed,
        seed_others,
        first_upload,
        registered_seen,
        contacts_seen,
        rejected_seen,
        put,
        get,
        others,
        request_bytes: body.len(),
        put_response_bytes,
    })
}

/// Sends the request and reads the whole answer; the time from send to last byte.
async fn timed(request: reqwest::RequestBuilder) -> anyhow::Result<(Duration, Vec<u8>)> {
    let started = Instant::now();
    let response = request.send().await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        status.is_success(),
        "{status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    Ok((elapsed, bytes.to_vec()))
}

/// `national` (11 digits) as `139 1234 5678`.
fn spaced(national: u64) -> String {
    let digits = national.to_string();
    let (a, rest) = digits.split_at(3.min(digits.len()));
    let (b, c) = rest.split_at(4.min(rest.len()));
    format!("{a} {b} {c}")
}

/// `size` entries: `registered` seeded accounts spread over the directory, the rest numbers
/// nobody registered; all in national format, interleaved.
fn book(size: usize, registered: usize, accounts: usize) -> Vec<Value> {
    let stride = (accounts / registered.max(1)).max(1) as u64;
    let mut known = (0..registered as u64).map(|k| SEED_FIRST + k * stride);
    let mut unknown = (0..(size - registered) as u64).map(|k| UNREGISTERED_FIRST + k * stride);
    let mut entries = Vec::with_capacity(size);
    loop {
        let (a, b) = (known.next(), unknown.next());
        if a.is_none() && b.is_none() {
            return entries;
        }
        for national in a.into_iter().chain(b) {
            let k = entries.len();
            let name = if national >= SEED_FIRST {
                format!("联系人 {k}")
            } else {
                format!("Contact {k}")
            };
            entries.push(json!({ "name": name, "phones": [spaced(national)] }));
        }
    }
}

/// The SQL of one transaction of seeded accounts `from..to`.
fn seed_batch(from: usize, to: usize, created_at: i64) -> String {
    let mut sql = String::with_capacity((to - from) * 64 + 128);
    sql.push_str("BEGIN;\n");
    let mut i = from;
    while i < to {
        let end = (i + ROWS_PER_STATEMENT).min(to);
        sql.push_str("INSERT INTO users (id, phone, region, created_at) VALUES ");
        for n in i..end {
            if n > i {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('seed-{n}','+86{}','CN',{created_at})",
                SEED_FIRST + n as u64
            ));
        }
        sql.push_str(";\n");
        i = end;
    }
    sql.push_str("COMMIT;\n");
    sql
}

/// Writes `count` accounts into the server's database, bypassing the API, then refreshes
/// the planner's statistics.
async fn seed(url: &str, count: usize) -> anyhow::Result<()> {
    let created_at = chrono::Utc::now().timestamp_millis();
    let step = (count / 10).max(ROWS_PER_TRANSACTION);
    let started = Instant::now();
    macro_rules! fill {
        ($conn:expr) => {{
            let mut conn = $conn;
            let mut from = 0;
            while from < count {
                let to = (from + ROWS_PER_TRANSACTION).min(count);
                sqlx::raw_sql(&seed_batch(from, to, created_at))
                    .execute(&mut conn)
                    .await
                    .with_context(|| format!("seeding accounts {from}..{to}"))?;
                if to % step == 0 || to == count {
                    eprintln!(
                        "      {to}/{count} after {:.1} s",
                        started.elapsed().as_secs_f64()
                    );
                }
                from = to;
            }
            sqlx::raw_sql("ANALYZE users").execute(&mut conn).await?;
            conn.close().await?;
        }};
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        fill!(
            PgConnection::connect(url)
                .await
                .context("connecting to seed")?
        );
    } else {
        fill!(
            SqliteConnection::connect(url)
                .await
                .context("connecting to seed")?
        );
    }
    Ok(())
}

fn report(
    args: &Args,
    machine: &Machine,
    database: &str,
    registered: usize,
    f: &Figures,
) -> String {
    let command: Vec<String> = std::env::args().skip(1).collect();
    let met = f.put.p99 < 20.0;
    let get_met = f.get.p99 < 20.0;
    let yes_no = |m: bool| if m { "met" } else { "not met" };
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
    out.push_str(&format!("- Database: {database}\n"));
    out.push_str(&format!(
        "- Directory: {} accounts (+86 139 0000 0000 on) written straight into the `users` \
         table with multi-row INSERTs, {ROWS_PER_TRANSACTION} rows per transaction, then \
         `ANALYZE users`. **Seeding bypasses the API** (no sessions, no privacy rows: every \
         seeded account has the default settings). Took {:.1} s (other processes: {}).\n",
        args.accounts,
        f.seed_elapsed.as_secs_f64(),
        f.seed_others
    ));
    out.push_str(&format!(
        "- Book: {} entries, one number each in national format (`139 0000 1000`, so the \
         server parses every number with region CN), {registered} of them seeded accounts \
         spread over the directory, the others unregistered; {} KiB of JSON. The uploader \
         registered through the API (SMS code via the mock provider). Discovery quota raised \
         so it never refuses (re-uploading numbers already in the book is free anyway).\n",
        args.book,
        f.request_bytes / 1024
    ));
    out.push_str(&format!(
        "- Server time = round trip on loopback from sending the (pre-serialised) request \
         to the last byte of the answer, with one keep-alive connection and one request at a \
         time; the client does nothing else meanwhile, so it is the server's handling plus \
         microseconds of loopback transfer. {} warm-ups, then {} PUT and {} GET interleaved; \
         with {} samples p99 is the second-highest or the highest sample.\n",
        args.warmups, args.runs, args.runs, args.runs
    ));
    out.push_str(&format!(
        "- CPU used by other processes while measuring: {}{}\n\n",
        f.others,
        if database.starts_with("PostgreSQL") {
            " (the PostgreSQL server is one of them: its work for these requests counts here)"
        } else {
            ""
        }
    ));
    out.push_str("| Measure | p50 / p90 / p99 / max (ms) |\n| --- | --- |\n");
    out.push_str(&format!(
        "| `PUT /v1/contacts` ({} entries; replaces the book, answers the whole book, {} KiB) | {} |\n",
        args.book,
        f.put_response_bytes / 1024,
        f.put.line()
    ));
    out.push_str(&format!("| `GET /v1/contacts` | {} |\n", f.get.line()));
    out.push_str(&format!(
        "| First upload (numbers new to the book: quota, {} inserts), one sample | {} |\n",
        args.book,
        setup::ms(f.first_upload)
    ));
    out.push_str(&format!(
        "\nThe answer listed {} contacts, {} registered, {} rejected (expected {}, {registered}, 0).\n",
        f.contacts_seen, f.registered_seen, f.rejected_seen, args.book
    ));
    out.push_str(&format!(
        "\nTarget: p99 under 20 ms for discovery of the book: `PUT` p99 {:.1} ms ({}); \
         `GET` p99 {:.1} ms ({}).\n",
        f.put.p99,
        yes_no(met),
        f.get.p99,
        yes_no(get_met)
    ));
    out
}
