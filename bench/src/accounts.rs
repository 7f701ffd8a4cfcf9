//! `dialtone-bench accounts`: how fast numbers register and how fast and how evenly
//! password logins are served, against the Argon2 ceiling of this machine.
//!
//! Phases: (1) Argon2id hashes/s on one thread and on every core; (2) registrations with
//! N concurrent clients, first by code only (start → SMS code → submit), then with a
//! password set (one more request, one Argon2 hash); (3) closed-loop password logins (each
//! client sends its next login when the previous one answered); (4) open-loop logins at
//! half the closed-loop rate, latency counted from each request's scheduled send time so a
//! slow server cannot hide its queue (no coordinated omission).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, anyhow};
use dialtone_client::Client;
use dialtone_core::PhoneNumber;
use dialtone_server::{Config, GatewayKind, Running};
use dialtone_service::limits::Window;
use sqlx::{Connection, Executor, PgConnection};
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use crate::argon::{self, Baseline};
use crate::machine::{CpuSnapshot, Machine, others_text};
use crate::results;
use crate::sms::MockProvider;
use crate::stats::{Latencies, Summary};

/// Every benchmark account's password.
const PASSWORD: &str = "bench-password-0123";
/// Device name given at every login.
const DEVICE: &str = "dialtone-bench";
/// How long to wait for a verification SMS.
const CODE_WAIT: Duration = Duration::from_secs(30);
/// First national number used; the following ones are taken in order.
const FIRST_NUMBER: u64 = 138_0000_0000;

/// Options of `dialtone-bench accounts`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Numbers registered in each registration phase (code only, then with a password).
    #[arg(long, default_value_t = 2000)]
    pub registrations: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 50)]
    pub concurrency: usize,
    /// Length of each login phase, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Length of each Argon2 baseline pass, in seconds.
    #[arg(long, default_value_t = 3.0)]
    pub argon2_seconds: f64,
    /// `postgres://USER@HOST:PORT/DB` to run on a fresh database created (and dropped
    /// afterwards) on that server, or `sqlite://PATH`. Unset: SQLite in a temporary
    /// directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// File to write the results section into. Default: bench/RESULTS.md.
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Print the figures only; leave the results file alone.
    #[arg(long)]
    pub no_write: bool,
}

/// Outcome of one registration phase.
struct Registrations {
    done: Vec<String>,
    errors: Vec<String>,
    elapsed: Duration,
    latency: Summary,
    /// CPU share other processes took meanwhile.
    others: String,
}

impl Registrations {
    fn per_second(&self) -> f64 {
        self.done.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// Outcome of one login phase.
struct Logins {
    ok: u64,
    errors: Vec<String>,
    elapsed: Duration,
    latency: Summary,
    /// Open loop only: the rate asked for and how late the generator sent at worst.
    target_rate: Option<f64>,
    worst_send_lag: Duration,
    /// CPU share other processes took meanwhile.
    others: String,
    others_share: Option<f64>,
}

impl Logins {
    fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs all four phases and reports.
pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    anyhow::ensure!(args.registrations > 0, "--registrations must be at least 1");
    anyhow::ensure!(args.seconds > 0.0, "--seconds must be positive");
    let machine = Machine::describe();
    eprintln!("machine: {}", machine.line());

    eprintln!(
        "[1/4] Argon2id baseline (m={} KiB, t={}, p={}), {:.0} s on 1 thread, then {:.0} s on {} threads",
        argon::MEMORY_KIB,
        argon::PASSES,
        argon::LANES,
        args.argon2_seconds,
        args.argon2_seconds,
        machine.cores
    );
    let (secs, threads) = (args.argon2_seconds, machine.cores);
    let cpu_before = CpuSnapshot::take();
    let baseline = tokio::task::spawn_blocking(move || argon::measure(secs, threads)).await??;
    let others_during_baseline = others_text(cpu_before, CpuSnapshot::take());
    eprintln!(
        "      {:.1} hashes/s on 1 thread, {:.1} hashes/s on {} threads",
        baseline.single, baseline.parallel, baseline.threads
    );

    let provider = Arc::new(MockProvider::start().await?);
    let database = Database::prepare(args.database_url.as_deref()).await?;
    let dir = tempfile::tempdir().context("temporary data directory")?;
    let mut config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    config.database.url = database.url.clone();
    config.sms.gateway = GatewayKind::Http;
    config.sms.http.base_url = provider.base_url();
    config.sms.http.account = "ACdialtonebench".into();
    config.sms.http.token = "bench".into();
    config.sms.http.from = "dialtone".into();
    // Every client comes from 127.0.0.1 and the numbers share a few blocks: lift every
    // limit, but keep the windows so the server still counts events as in production.
    let policy = &mut config.accounts;
    for windows in [
        &mut policy.verifications_per_number,
        &mut policy.verifications_per_ip,
        &mut policy.verifications_per_prefix,
        &mut policy.login_failures_per_number,
        &mut policy.login_failures_per_ip,
    ] {
        lift(windows);
    }
    let running = Running::start(config)
        .await
        .context("starting the server")?;
    let base = format!("http://{}", running.addr);
    eprintln!(
        "server on {base}, {} database; SMS via the HTTP gateway to {}",
        database.label,
        provider.base_url()
    );

    let cpu_before = CpuSnapshot::take();
    let outcome = phases(&args, &base, &provider, machine.cores).await;
    let others_during_server = others_text(cpu_before, CpuSnapshot::take());
    let stopped = running.stop().await;
    database.remove().await;
    let sms_received = provider.received();
    if let Ok(provider) = Arc::try_unwrap(provider) {
        provider.stop();
    }
    let (code_only, with_password, recheck, closed, open) = outcome?;
    let quiet = Quiet {
        baseline: others_during_baseline,
        server: others_during_server,
        recheck: recheck.1,
    };
    let recheck = recheck.0;
    stopped.context("stopping the server")?;
    eprintln!("mock provider received {sms_received} SMS");

    let heading = format!("## Accounts — {}", database.label);
    let body = report(
        &args,
        &machine,
        &database,
        &Figures {
            baseline,
            recheck,
            quiet,
            code_only,
            with_password,
            closed,
            open,
        },
    );
    println!("{heading}\n\n{body}");
    if !args.no_write {
        let file = args
            .results
            .clone()
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("RESULTS.md"));
        results::write_section(&file, &heading, &body)?;
        eprintln!("wrote section {heading:?} of {}", file.display());
    }
    Ok(())
}

/// Phases 2 to 4.
async fn phases(
    args: &Args,
    base: &str,
    provider: &Arc<MockProvider>,
    threads: usize,
) -> anyhow::Result<(Registrations, Registrations, (f64, String), Logins, Logins)> {
    let phones = phone_numbers(2 * args.registrations)?;
    let (first, second) = phones.split_at(args.registrations);

    eprintln!(
        "[2/4] registering {} numbers by code only, {} clients",
        first.len(),
        args.concurrency
    );
    let cpu = CpuSnapshot::take();
    let mut code_only = register(base, provider, first, args.concurrency, false).await?;
    code_only.others = others_text(cpu, CpuSnapshot::take());
    eprintln!(
        "      {:.1} registrations/s ({} ok, {} failed)",
        code_only.per_second(),
        code_only.done.len(),
        code_only.errors.len()
    );
    eprintln!(
        "      registering {} more numbers with a password, {} clients",
        second.len(),
        args.concurrency
    );
    let cpu = CpuSnapshot::take();
    let mut with_password = register(base, provider, second, args.concurrency, true).await?;
    with_password.others = others_text(cpu, CpuSnapshot::take());
    eprintln!(
        "      {:.1} registrations/s ({} ok, {} failed)",
        with_password.per_second(),
        with_password.done.len(),
        with_password.errors.len()
    );
    let accounts = Arc::new(with_password.done.clone());
    anyhow::ensure!(
        !accounts.is_empty(),
        "no account was registered with a password: {:?}",
        with_password.errors.first()
    );

    let (secs, threads) = (args.argon2_seconds, threads);
    eprintln!("      re-checking the parallel Argon2 rate ({secs:.0} s on {threads} threads)");
    let cpu = CpuSnapshot::take();
    let rate =
        tokio::task::spawn_blocking(move || argon::hashes_per_second(threads, secs)).await??;
    let recheck = (rate, others_text(cpu, CpuSnapshot::take()));
    eprintln!("      {rate:.1} hashes/s on {threads} threads");

    let length = Duration::from_secs_f64(args.seconds);
    eprintln!(
        "[3/4] closed-loop logins, {} clients, {:.0} s",
        args.concurrency, args.seconds
    );
    let cpu = CpuSnapshot::take();
    let mut closed = login_closed(base, &accounts, args.concurrency, length).await?;
    let after = CpuSnapshot::take();
    closed.others = others_text(cpu, after);
    closed.others_share = cpu.zip(after).map(|(b, a)| a.others_since(&b));
    eprintln!(
        "      {:.1} logins/s, p50/p90/p99/max {} ms ({} failed)",
        closed.per_second(),
        closed.latency.line(),
        closed.errors.len()
    );

    let rate = closed.per_second() / 2.0;
    anyhow::ensure!(
        rate > 0.0,
        "no login succeeded: {:?}",
        closed.errors.first()
    );
    eprintln!(
        "[4/4] open-loop logins at {rate:.1}/s for {:.0} s",
        args.seconds
    );
    let cpu = CpuSnapshot::take();
    let mut open = login_open(base, &accounts, args.concurrency, rate, length).await?;
    open.others = others_text(cpu, CpuSnapshot::take());
    eprintln!(
        "      {:.1} logins/s, p50/p90/p99/max {} ms ({} failed)",
        open.per_second(),
        open.latency.line(),
        open.errors.len()
    );
    Ok((code_only, with_password, recheck, closed, open))
}

pub(crate) fn lift(windows: &mut [Window]) {
    for window in windows {
        window.limit = u32::MAX;
    }
}

/// `count` distinct valid Chinese mobile numbers in E.164, from +86 138 0000 0000 on.
fn phone_numbers(count: usize) -> anyhow::Result<Vec<String>> {
    let mut phones = Vec::with_capacity(count);
    let mut national = FIRST_NUMBER;
    while phones.len() < count {
        anyhow::ensure!(
            national < FIRST_NUMBER + 10 * count as u64 + 1000,
            "too few valid numbers after {FIRST_NUMBER}"
        );
        if let Ok(phone) = PhoneNumber::parse(&format!("+86{national}"), None) {
            phones.push(phone.as_str().to_owned());
        }
        national += 1;
    }
    Ok(phones)
}

/// Registers every number of `phones` with `concurrency` clients, each taking the next
/// number when done with its last.
async fn register(
    base: &str,
    provider: &Arc<MockProvider>,
    phones: &[String],
    concurrency: usize,
    with_password: bool,
) -> anyhow::Result<Registrations> {
    let phones = Arc::new(phones.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let step = (phones.len() / 10).max(1);
    let start = Instant::now();
    let mut workers = JoinSet::new();
    for _ in 0..concurrency {
        let (phones, next, finished) = (phones.clone(), next.clone(), finished.clone());
        let provider = provider.clone();
        let client = Client::new(base);
        workers.spawn(async move {
            let mut latency = Latencies::new()?;
            let (mut done, mut errors) = (Vec::new(), Vec::new());
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(phone) = phones.get(i) else { break };
                let began = Instant::now();
                match register_one(&client, &provider, phone, with_password).await {
                    Ok(()) => {
                        latency.record(began.elapsed());
                        done.push(phone.clone());
                    }
                    Err(e) => errors.push(format!("{phone}: {e:#}")),
                }
                let n = finished.fetch_add(1, Ordering::Relaxed) + 1;
                if n % step == 0 {
                    eprintln!(
                        "      {n}/{} after {:.1} s",
                        phones.len(),
                        start.elapsed().as_secs_f64()
                    );
                }
            }
            anyhow::Ok((latency, done, errors))
        });
    }
    let mut latency = Latencies::new()?;
    let (mut done, mut errors) = (Vec::new(), Vec::new());
    while let Some(worker) = workers.join_next().await {
        let (l, d, e) = worker.context("registration worker")??;
        latency.merge(&l)?;
        done.extend(d);
        errors.extend(e);
    }
    let elapsed = start.elapsed();
    if let Some(first) = errors.first() {
        eprintln!(
            "      {} registrations failed, first: {first}",
            errors.len()
        );
    }
    Ok(Registrations {
        done,
        errors,
        elapsed,
        latency: latency.summary(),
        others: String::new(),
    })
}

/// start_verification → code from the mock provider → submit_code (→ set_password).
async fn register_one(
    client: &Client,
    provider: &MockProvider,
    phone: &str,
    with_password: bool,
) -> anyhow::Result<()> {
    let started = client.start_verification(phone, None).await?;
    let code = provider.take_code(phone, CODE_WAIT).await?;
    let login = client
        .submit_code(&started.id, &code, Some(DEVICE), None)
        .await?;
    anyhow::ensure!(login.new_account, "the number was already registered");
    if with_password {
        client
            .clone()
            .with_token(login.token)
            .set_password(PASSWORD, None)
            .await?;
    }
    Ok(())
}

/// Each of `concurrency` clients logs in again as soon as its last login answered, until
/// `length` has passed.
async fn login_closed(
    base: &str,
    accounts: &Arc<Vec<String>>,
    concurrency: usize,
    length: Duration,
) -> anyhow::Result<Logins> {
    let start = Instant::now();
    let deadline = start + length;
    let mut workers = JoinSet::new();
    for worker in 0..concurrency {
        let accounts = accounts.clone();
        let client = Client::new(base);
        workers.spawn(async move {
            let mut latency = Latencies::new()?;
            let (mut ok, mut errors) = (0u64, Vec::new());
            let mut round = 0usize;
            while Instant::now() < deadline {
                let phone = &accounts[(worker + round * concurrency) % accounts.len()];
                round += 1;
                let began = Instant::now();
                match client.login(phone, None, PASSWORD, Some(DEVICE)).await {
                    Ok(_) => {
                        latency.record(began.elapsed());
                        ok += 1;
                    }
                    Err(e) => errors.push(format!("{phone}: {e}")),
                }
            }
            anyhow::Ok((latency, ok, errors))
        });
    }
    let mut latency = Latencies::new()?;
    let (mut ok, mut errors) = (0u64, Vec::new());
    while let Some(worker) = workers.join_next().await {
        let (l, n, e) = worker.context("login worker")??;
        latency.merge(&l)?;
        ok += n;
        errors.extend(e);
    }
    Ok(Logins {
        ok,
        errors,
        elapsed: start.elapsed(),
        latency: latency.summary(),
        target_rate: None,
        worst_send_lag: Duration::ZERO,
        others: String::new(),
        others_share: None,
    })
}

/// Sends logins at a fixed `rate` for `length` whatever the answers, each on its own
/// task, round-robin over `concurrency` clients; latency runs from the scheduled send time.
async fn login_open(
    base: &str,
    accounts: &Arc<Vec<String>>,
    concurrency: usize,
    rate: f64,
    length: Duration,
) -> anyhow::Result<Logins> {
    let total = ((rate * length.as_secs_f64()).round() as usize).max(1);
    let period = Duration::from_secs_f64(1.0 / rate);
    let clients: Vec<Client> = (0..concurrency).map(|_| Client::new(base)).collect();
    let (sender, mut answers) = tokio::sync::mpsc::unbounded_channel();
    let start = Instant::now();
    let mut ticks = tokio::time::interval_at(start, period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut worst_send_lag = Duration::ZERO;
    for i in 0..total {
        ticks.tick().await;
        let scheduled = start + period.mul_f64(i as f64);
        worst_send_lag = worst_send_lag.max(scheduled.elapsed());
        let client = clients
            .get(i % concurrency)
            .ok_or_else(|| anyhow!("no client {i}"))?
            .clone();
        let phone = accounts[i % accounts.len()].clone();
        let sender = sender.clone();
        tokio::spawn(async move {
            let answer = client.login(&phone, None, PASSWORD, Some(DEVICE)).await;
            let latency = scheduled.elapsed();
            let _ = sender.send(answer.map(|_| latency).map_err(|e| format!("{phone}: {e}")));
        });
    }
    drop(sender);
    let mut latency = Latencies::new()?;
    let (mut ok, mut errors) = (0u64, Vec::new());
    while let Some(answer) = answers.recv().await {
        match answer {
            Ok(l) => {
                latency.record(l);
                ok += 1;
            }
            Err(e) => errors.push(e),
        }
    }
    Ok(Logins {
        ok,
        errors,
        elapsed: start.elapsed(),
        latency: latency.summary(),
        target_rate: Some(rate),
        worst_send_lag,
        others: String::new(),
        others_share: None,
    })
}

/// Share of CPU time other processes took during the measurements.
struct Quiet {
    baseline: String,
    server: String,
    recheck: String,
}

/// Whether `url` names a PostgreSQL server (anything else is taken as SQLite).
pub(crate) fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The database the server runs on.
pub(crate) struct Database {
    /// `None`: the server's default, SQLite in its data directory.
    pub(crate) url: Option<String>,
    pub(crate) label: &'static str,
    pub(crate) detail: String,
    /// PostgreSQL: the server URL and the name of the database made for this run.
    created: Option<(String, String)>,
}

impl Database {
    pub(crate) async fn prepare(url: Option<&str>) -> anyhow::Result<Database> {
        match url {
            None => Ok(Database {
                url: None,
                label: "SQLite",
                detail: "SQLite file in a fresh temporary directory".into(),
                created: None,
            }),
            Some(url) if is_postgres(url) => {
                let name = format!(
                    "dialtone_bench_{}_{}",
                    chrono::Utc::now().format("%Y%m%d%H%M%S"),
                    std::process::id()
                );
                let mut admin = PgConnection::connect(url)
                    .await
                    .with_context(|| format!("connecting to {url}"))?;
                admin
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .with_context(|| format!("creating database {name}"))?;
                admin.close().await?;
                let mut fresh = url::Url::parse(url).context("reading --database-url")?;
                fresh.set_path(&format!("/{name}"));
                let version = server_version(url).await.unwrap_or_default();
                Ok(Database {
                    url: Some(fresh.to_string()),
                    label: "PostgreSQL",
                    detail: format!(
                        "PostgreSQL {version} on {}, fresh database `{name}` (dropped afterwards)",
                        fresh.host_str().unwrap_or("?")
                    ),
                    created: Some((url.to_owned(), name)),
                })
            }
            Some(url) => Ok(Database {
                url: Some(url.to_owned()),
                label: "SQLite",
                detail: format!("SQLite at `{url}`"),
                created: None,
            }),
        }
    }

    /// Drops the database made for this run, if any.
    pub(crate) async fn remove(&self) {
        let Some((url, name)) = &self.created else {
            return;
        };
        let dropped = async {
            let mut admin = PgConnection::connect(url).await?;
            admin
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await?;
            admin.close().await
        };
        if let Err(e) = dropped.await {
            eprintln!("could not drop database {name}: {e}");
        }
    }
}

async fn server_version(url: &str) -> anyhow::Result<String> {
    let mut conn = PgConnection::connect(url).await?;
    let (version,): (String,) = sqlx::query_as("SHOW server_version")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(version)
}

/// Everything measured in one run.
struct Figures {
    baseline: Baseline,
    /// Parallel Argon2 hashes/s measured again just before the logins.
    recheck: f64,
    quiet: Quiet,
    code_only: Registrations,
    with_password: Registrations,
    closed: Logins,
    open: Logins,
}

/// The Markdown section.
fn report(args: &Args, machine: &Machine, database: &Database, figures: &Figures) -> String {
    let Figures {
        baseline,
        recheck,
        quiet,
        code_only,
        with_password,
        closed,
        open,
    } = figures;
    let recheck = *recheck;
    let command: Vec<String> = std::env::args().skip(1).collect();
    // The better of the two parallel measurements: other processes can only lower it.
    let ceiling = baseline.parallel.max(recheck);
    let ratio = closed.per_second() / ceiling;
    let throughput_met = ratio >= 0.8;
    let latency_met = open.latency.p99 < 100.0 && open.errors.is_empty();
    let yes_no = |met: bool| if met { "met" } else { "not met" };
    let mut out = String::new();
    out.push_str(&format!(
        "- Date: {}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    out.push_str(&format!("- Machine: {}\n", machine.line()));
    out.push_str(&format!(
        "- Command: `dialtone-bench {}` (release build: `cargo build --release -p dialtone-bench`)\n",
        command.join(" ")
    ));
    out.push_str(&format!("- Database: {}\n", database.detail));
    out.push_str(&format!(
        "- CPU used by other processes over the whole server run: {} (per phase in the \
         last column; figures taken while it is high understate this machine)\n",
        quiet.server
    ));
    out.push_str(&format!(
        "- Setup: server and {} clients in one process sharing the cores; rate limits lifted \
         (limits set to u32::MAX, windows kept); SMS through the real HTTP gateway to an \
         in-process mock provider. Each password login verifies one Argon2id hash \
         (m={} KiB, t={}, p={}); the server runs at most one hash per core at once.\n\n",
        args.concurrency,
        argon::MEMORY_KIB,
        argon::PASSES,
        argon::LANES
    ));
    out.push_str("| Measure | Value | CPU taken by other processes |\n| --- | --- | --- |\n");
    let mut row = |name: &str, value: String, others: &str| {
        out.push_str(&format!("| {name} | {value} | {others} |\n"));
    };
    row(
        &format!("Argon2id hashes/s, 1 thread / {} threads", baseline.threads),
        format!("{:.1} / {:.1}", baseline.single, baseline.parallel),
        &quiet.baseline,
    );
    row(
        &format!(
            "Argon2id hashes/s, {} threads, again just before the logins",
            baseline.threads
        ),
        format!("{recheck:.1}"),
        &quiet.recheck,
    );
    for (name, r) in [
        (
            "Registrations/s, code login only (start → code → submit)",
            code_only,
        ),
        (
            "Registrations/s, with password set (+ set_password: 1 hash)",
            with_password,
        ),
    ] {
        row(
            name,
            format!(
                "{:.1} ({} in {:.1} s, {} failed; latency p50/p90/p99/max {} ms)",
                r.per_second(),
                r.done.len(),
                r.elapsed.as_secs_f64(),
                r.errors.len(),
                r.latency.line()
            ),
            &r.others,
        );
    }
    row(
        &format!("Login closed loop, {} clients: logins/s", args.concurrency),
        format!(
            "{:.1} ({} in {:.1} s, {} failed)",
            closed.per_second(),
            closed.ok,
            closed.elapsed.as_secs_f64(),
            closed.errors.len()
        ),
        &closed.others,
    );
    row(
        "Login closed loop: latency p50 / p90 / p99 / max (ms)",
        closed.latency.line(),
        &closed.others,
    );
    row(
        "Login closed loop ÷ parallel Argon2 hashes/s (better of the two)",
        format!("{:.2}", ratio),
        "",
    );
    if let Some(share) = closed.others_share {
        let available = baseline.single * baseline.threads as f64 * (1.0 - share);
        row(
            "Login closed loop ÷ Argon2 rate left to this process (1-thread rate × cores × share \
             of CPU not taken by others; an estimate)",
            format!(
                "{:.2} ({:.1} hashes/s left)",
                closed.per_second() / available,
                available
            ),
            "",
        );
    }
    row(
        "Login open loop: target rate → achieved (logins/s)",
        format!(
            "{:.1} → {:.1} ({} ok, {} failed; generator at most {:.1} ms late)",
            open.target_rate.unwrap_or_default(),
            open.per_second(),
            open.ok,
            open.errors.len(),
            open.worst_send_lag.as_secs_f64() * 1000.0
        ),
        &open.others,
    );
    row(
        "Login open loop: latency p50 / p90 / p99 / max (ms), from scheduled send",
        open.latency.line(),
        &open.others,
    );
    out.push_str(&format!(
        "\nTargets: login throughput is {:.0}% of the parallel Argon2 rate (target ≥ 80%: {}); \
         open-loop p99 at half that rate is {:.1} ms (target < 100 ms: {}).\n",
        ratio * 100.0,
        yes_no(throughput_met),
        open.latency.p99,
        yes_no(latency_met)
    ));
    if let Some(share) = closed.others_share.filter(|s| *s > 0.1) {
        out.push_str(&format!(
            "Other processes took {:.0}% of the CPU during the closed loop, so the raw ratio \
             understates this machine; see the estimate discounting them.\n",
            share * 100.0
        ));
    }
    for (phase, errors) in [
        ("registration (code only)", &code_only.errors),
        ("registration (with password)", &with_password.errors),
        ("closed-loop login", &closed.errors),
        ("open-loop login", &open.errors),
    ] {
        if let Some(first) = errors.first() {
            out.push_str(&format!(
                "\nFirst {phase} error of {}: `{first}`\n",
                errors.len()
            ));
        }
    }
    out
}
