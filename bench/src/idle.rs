//! `dialtone-bench idle`: the server's memory per idle authenticated connection, measured
//! at the count asked (issue 13: 100,000), not extrapolated from fewer.
//!
//! Every connection holds a file descriptor in the server, so the one server process
//! needs about `--connections` open files: its soft limit is raised to its hard limit
//! (the server, a child, inherits it), and a hard limit too low is refused with a
//! message, never worked around by measuring fewer. The client ends of the sockets are
//! spread over generator child processes (`idle-child`), each under its own open-file
//! limit, and over source addresses 127.0.0.2 … (each has its own ephemeral ports, about
//! 28,000 per address towards one server port).
//!
//! Users register through the API (code only); each generator gets its users' tokens in
//! a file, opens one live connection per token, says `connected` on its standard output,
//! and holds the sockets (answering pings) until its standard input closes. The server's
//! resident memory is read after it settled before and after the connections.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, anyhow};
use dialtone_client::{Client, ClientError, LiveConnection, LiveOptions};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::machine::{self, Machine};
use crate::results;
use crate::serverproc::{self, ChildServer, quiet};
use crate::setup;

/// Users of this benchmark are +86 139 0000 0000 on.
const FIRST_NUMBER: u64 = 139_0000_0000;
/// Open files the server needs beyond its connections (listener, database, logs, HTTP
/// connections of the registrations).
const SERVER_SPARE_FILES: u64 = 600;
/// Open files a generator keeps spare beyond its sockets.
const GENERATOR_SPARE_FILES: u64 = 100;
/// Sockets per source address at most (the ephemeral range is about 28,000 ports).
const SOCKETS_PER_SOURCE: usize = 20_000;
/// Source addresses used at least.
const MIN_SOURCES: usize = 8;
/// Read buffer of the generators' sockets (tungstenite's default is 128 KiB each).
const CLIENT_READ_BUFFER: usize = 4 * 1024;
/// Longest wait for one socket to connect and get `ready`.
const CONNECT_WAIT: Duration = Duration::from_secs(60);
/// Longest wait for a generator to say it connected all its sockets.
const GENERATOR_WAIT: Duration = Duration::from_secs(1800);

/// Options of `dialtone-bench idle`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Idle authenticated connections to hold open at once, all on the one server process.
    #[arg(long, default_value_t = 100_000)]
    pub connections: usize,
    /// Sockets each generator process holds at most (and at most its open-file limit
    /// less 100).
    #[arg(long, default_value_t = 10_000)]
    pub per_generator: usize,
    /// Source addresses 127.0.0.2 … the sockets come from. Default: one per 20,000
    /// connections, at least 8.
    #[arg(long)]
    pub sources: Option<usize>,
    /// Concurrent registrations, and concurrent connects in each generator.
    #[arg(long, default_value_t = 50)]
    pub concurrency: usize,
    /// Seconds the connections are held idle after the server settled (its CPU meanwhile
    /// is reported); the server's memory is read again after them. Past the server's ping
    /// interval (20 s), every connection has had a ping and pong meanwhile.
    #[arg(long, default_value_t = 25)]
    pub idle_seconds: u64,
    /// The server binary. Default: `dialtone` next to this binary.
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// `postgres://USER@HOST:PORT/DB` to run on a fresh database created (and dropped
    /// afterwards) on that server. Unset: SQLite in a temporary directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Added to the section heading (`## Idle connections — SQLite — VARIANT`).
    #[arg(long)]
    pub variant: Option<String>,
    /// File to write the results section into. Default: bench/RESULTS.md.
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Print the figures only; leave the results file alone.
    #[arg(long)]
    pub no_write: bool,
}

/// Options of one generator process (`dialtone-bench idle-child`, started by `idle`).
#[derive(clap::Args, Debug)]
pub struct ChildArgs {
    /// The server, `http://127.0.0.1:PORT`.
    #[arg(long)]
    pub base: String,
    /// A file of tokens, one per line: one socket each.
    #[arg(long)]
    pub tokens: PathBuf,
    /// Index of the first token among all generators' (spreads the source addresses).
    #[arg(long)]
    pub first: usize,
    /// Source addresses 127.0.0.2 … to spread over.
    #[arg(long)]
    pub sources: usize,
    /// Concurrent connects.
    #[arg(long)]
    pub concurrency: usize,
}

/// The server's open-file limits: (soft after raising it to the hard one, hard).
fn raise_open_files() -> anyhow::Result<(u64, u64)> {
    let soft = rlimit::increase_nofile_limit(u64::MAX).context("raising RLIMIT_NOFILE")?;
    let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).context("reading RLIMIT_NOFILE")?;
    Ok((soft, hard))
}

/// How many connections one server process can hold under an open-file limit.
fn most_connections(limit: u64) -> u64 {
    limit.saturating_sub(SERVER_SPARE_FILES)
}

/// Source address `i` of `sources`: 127.0.0.2, 127.0.0.3, …
fn source(i: usize, sources: usize) -> IpAddr {
    let n = u8::try_from(i % sources.max(1)).unwrap_or(0);
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + n))
}

/// What a generator says when it is done.
#[derive(Default)]
struct GeneratorReport {
    /// Sockets the server closed while held, by close code (0: without a close frame).
    closed: HashMap<u16, usize>,
}

/// One generator child: its process, the pipe whose closing tells it to let go, and what
/// it says.
struct Generator {
    child: Child,
    pid: u32,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// How many sockets it holds.
    sockets: usize,
    _tokens: tempfile::NamedTempFile,
}

impl Generator {
    /// Starts a generator for `tokens` (the `first`th of all on).
    fn start(
        base: &str,
        tokens: &[String],
        first: usize,
        sources: usize,
        concurrency: usize,
    ) -> anyhow::Result<Generator> {
        let mut file = tempfile::NamedTempFile::new().context("token file")?;
        for t in tokens {
            writeln!(file, "{t}").context("writing the token file")?;
        }
        file.flush().context("writing the token file")?;
        let me = std::env::current_exe().context("locating this binary")?;
        let mut child = tokio::process::Command::new(me)
            .arg("idle-child")
            .arg("--base")
            .arg(base)
            .arg("--tokens")
            .arg(file.path())
            .arg("--first")
            .arg(first.to_string())
            .arg("--sources")
            .arg(sources.to_string())
            .arg("--concurrency")
            .arg(concurrency.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting a generator")?;
        let pid = child
            .id()
            .ok_or_else(|| anyhow!("a generator exited at once"))?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(
            child
                .stdout
                .take()
                .ok_or_else(|| anyhow!("no pipe from the generator"))?,
        );
        Ok(Generator {
            child,
            pid,
            stdin,
            stdout,
            sockets: tokens.len(),
            _tokens: file,
        })
    }

    /// Waits for `connected`, after which every socket is open and ready.
    async fn connected(&mut self) -> anyhow::Result<()> {
        let mut line = String::new();
        let read = tokio::time::timeout(GENERATOR_WAIT, self.stdout.read_line(&mut line))
            .await
            .map_err(|_| {
                anyhow!(
                    "generator {} not connected after {GENERATOR_WAIT:?}",
                    self.pid
                )
            })?
            .context("reading from a generator")?;
        anyhow::ensure!(
            read > 0 && line.trim() == "connected",
            "generator {} failed (said {:?})",
            self.pid,
            line.trim()
        );
        Ok(())
    }

    /// Tells the generator to close its sockets and reads what it saw.
    async fn finish(mut self) -> anyhow::Result<GeneratorReport> {
        drop(self.stdin.take());
        let mut rest = String::new();
        self.stdout
            .read_to_string(&mut rest)
            .await
            .context("reading from a generator")?;
        self.child.wait().await.context("waiting for a generator")?;
        let mut report = GeneratorReport::default();
        for word in rest
            .split_whitespace()
            .filter_map(|w| w.strip_prefix("closed:"))
        {
            if let Some((code, n)) = word.split_once('=')
                && let (Ok(code), Ok(n)) = (code.parse(), n.parse())
            {
                report.closed.insert(code, n);
            }
        }
        Ok(report)
    }
}

/// What one measurement found.
pub struct IdleFigures {
    pub connections: usize,
    pub generators: usize,
    pub sources: usize,
    pub connect_secs: f64,
    /// Server RSS and peak RSS, KiB, before the connections.
    pub server_before: (u64, u64),
    /// The same once every connection is open and the server settled.
    pub server_after: (u64, u64),
    /// Server RSS after the idle seconds.
    pub server_later: u64,
    /// The generators' RSS together, KiB.
    pub generators_rss: u64,
    pub idle_secs: u64,
    /// Server and generators' share of the machine's CPU while idle, and others'.
    pub idle_cpu: String,
    /// Sockets the server closed, by close code.
    pub closed: String,
}

impl IdleFigures {
    /// Server RSS per connection, KiB, once settled and after the idle seconds.
    pub fn per_connection(&self) -> (f64, f64) {
        let per = |rss: u64| {
            rss.saturating_sub(self.server_before.0) as f64 / self.connections.max(1) as f64
        };
        (per(self.server_after.0), per(self.server_later))
    }
}

/// Holds one idle connection per token against the server at `base` (whose process is
/// `pid`) from generator children, and reads the server's memory before and after.
pub async fn measure(
    pid: u32,
    base: &str,
    tokens: &[String],
    sources: Option<usize>,
    per_generator: usize,
    concurrency: usize,
    idle_secs: u64,
) -> anyhow::Result<IdleFigures> {
    let (soft, _) = raise_open_files()?;
    let per_generator = per_generator
        .min(soft.saturating_sub(GENERATOR_SPARE_FILES) as usize)
        .max(1);
    let sources = sources
        .unwrap_or_else(|| tokens.len().div_ceil(SOCKETS_PER_SOURCE).max(MIN_SOURCES))
        .clamp(1, 253);
    let pids = [pid];
    let pid_text = pid.to_string();
    quiet(&pids).await;
    let server_before =
        serverproc::rss_kib(&pid_text).ok_or_else(|| anyhow!("cannot read the server's memory"))?;
    let chunks: Vec<&[String]> = tokens.chunks(per_generator).collect();
    eprintln!(
        "[idle] {} idle connections from {} generator processes over {sources} source addresses",
        tokens.len(),
        chunks.len()
    );
    let started = Instant::now();
    let mut generators = Vec::with_capacity(chunks.len());
    for (i, chunk) in chunks.iter().enumerate() {
        generators.push(Generator::start(
            base,
            chunk,
            i * per_generator,
            sources,
            concurrency,
        )?);
    }
    for g in &mut generators {
        g.connected().await?;
    }
    let connect_secs = started.elapsed().as_secs_f64();
    eprintln!("      connected in {connect_secs:.1} s; waiting for the server to settle");
    quiet(&pids).await;
    let server_after =
        serverproc::rss_kib(&pid_text).ok_or_else(|| anyhow!("cannot read the server's memory"))?;
    let generators_rss = generators
        .iter()
        .filter_map(|g| serverproc::rss_kib(&g.pid.to_string()))
        .map(|(rss, _)| rss)
        .sum();
    let generator_pids: Vec<u32> = generators.iter().map(|g| g.pid).collect();
    let cpu_before = Split::take(pid, &generator_pids);
    tokio::time::sleep(Duration::from_secs(idle_secs)).await;
    let idle_cpu = Split::text(cpu_before, Split::take(pid, &generator_pids));
    let server_later = serverproc::rss_kib(&pid_text).map_or(0, |r| r.0);
    let mut closed: HashMap<u16, usize> = HashMap::new();
    let held: usize = generators.iter().map(|g| g.sockets).sum();
    let count = generators.len();
    for g in generators {
        for (code, n) in g.finish().await?.closed {
            *closed.entry(code).or_default() += n;
        }
    }
    eprintln!("      closed; waiting for the server to record the disconnections");
    quiet(&pids).await;
    Ok(IdleFigures {
        connections: held,
        generators: count,
        sources,
        connect_secs,
        server_before,
        server_after,
        server_later,
        generators_rss,
        idle_secs,
        idle_cpu,
        closed: closed_text(&closed),
    })
}

/// `none`, or `N with code C, …`.
fn closed_text(closed: &HashMap<u16, usize>) -> String {
    if closed.values().all(|n| *n == 0) {
        return "none".into();
    }
    let mut codes: Vec<_> = closed.iter().filter(|(_, n)| **n > 0).collect();
    codes.sort();
    codes
        .iter()
        .map(|(code, n)| match code {
            0 => format!("{n} without a close frame"),
            c => format!("{n} with code {c}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// CPU of the server, of the generators and of the machine at one moment.
#[derive(Clone, Copy)]
struct Split {
    server: u64,
    generators: u64,
    busy: u64,
    total: u64,
}

impl Split {
    fn take(server: u32, generators: &[u32]) -> Option<Split> {
        let (busy, total) = serverproc::machine_ticks()?;
        Some(Split {
            server: serverproc::cpu_ticks(&server.to_string())?,
            generators: serverproc::server_ticks(generators)?,
            busy,
            total,
        })
    }

    /// `server x%, generators y%, others z%` of the machine (all cores = 100%).
    fn text(before: Option<Split>, after: Option<Split>) -> String {
        let (Some(b), Some(a)) = (before, after) else {
            return "unknown".into();
        };
        let total = a.total.saturating_sub(b.total).max(1) as f64;
        let server = a.server.saturating_sub(b.server);
        let generators = a.generators.saturating_sub(b.generators);
        let others = a
            .busy
            .saturating_sub(b.busy)
            .saturating_sub(server + generators);
        format!(
            "server {:.0}%, generators {:.0}%, others {:.0}%",
            server as f64 * 100.0 / total,
            generators as f64 * 100.0 / total,
            others as f64 * 100.0 / total
        )
    }
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.connections > 0, "--connections must be at least 1");
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    let machine = Machine::describe();
    eprintln!("machine: {}", machine.line());
    // One server process holds every connection: its open-file limit decides, and only
    // the hard limit can be reached without privileges.
    let (soft, hard) = raise_open_files()?;
    let needed = args.connections as u64 + SERVER_SPARE_FILES;
    anyhow::ensure!(
        soft >= needed,
        "{} connections need about {needed} open files in the one server process, but the \
         hard limit of open files here is {hard} and raising it needs CAP_SYS_RESOURCE \
         (root: `prlimit --pid $$ --nofile={needed}:{needed}`, `ulimit -Hn {needed}` in a \
         root shell, `nofile` in /etc/security/limits.conf, or `LimitNOFILE=` of a systemd \
         unit). On this machine measure at most --connections {}.",
        args.connections,
        most_connections(hard)
    );
    eprintln!("open-file limit raised to {soft} (this process, the server and the generators)");

    let bin = match &args.server_bin {
        Some(bin) => bin.clone(),
        None => serverproc::default_binary()?,
    };
    let server = ChildServer::start(&bin, args.database_url.as_deref(), 1, "").await?;
    eprintln!(
        "server pid {} on {}, {} database",
        server.head.pid, server.head.base, server.database.label
    );
    let outcome = register_and_measure(&args, &server).await;
    let label = server.database.label.to_owned();
    let detail = server.database.detail.clone();
    let stopped = server.stop().await;
    let (registered_secs, figures) = outcome?;
    stopped?;

    let heading = match &args.variant {
        Some(v) => format!("## Idle connections — {label} — {v}"),
        None => format!("## Idle connections — {label}"),
    };
    let body = report(&machine, &detail, soft, hard, registered_secs, &figures);
    println!("{heading}\n\n{body}");
    if !args.no_write {
        let file = setup::results_file(args.results.as_ref());
        results::write_section(&file, &heading, &body)?;
        eprintln!("wrote section {heading:?} of {}", file.display());
    }
    Ok(())
}

async fn register_and_measure(
    args: &Args,
    server: &ChildServer,
) -> anyhow::Result<(f64, IdleFigures)> {
    let started = Instant::now();
    eprintln!("[setup] registering {} users (code only)", args.connections);
    let tokens = register_tokens(server, args.connections, args.concurrency).await?;
    let registered_secs = started.elapsed().as_secs_f64();
    eprintln!("      registered in {registered_secs:.1} s");
    let figures = measure(
        server.head.pid,
        &server.head.base,
        &tokens,
        args.sources,
        args.per_generator,
        args.concurrency,
        args.idle_seconds,
    )
    .await?;
    Ok((registered_secs, figures))
}

/// Registers `count` users by code only, `concurrency` at a time; their tokens.
async fn register_tokens(
    server: &ChildServer,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<String>> {
    let phones = Arc::new(setup::valid_numbers(FIRST_NUMBER, count)?);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (phones, next) = (phones.clone(), next.clone());
        let provider = server.provider.clone();
        let client = Client::new(&server.head.base);
        workers.spawn(async move {
            let mut tokens = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(phone) = phones.get(i) else { break };
                let login = setup::register(&client, &provider, phone)
                    .await
                    .with_context(|| format!("registering {phone}"))?;
                tokens.push((i, login.token));
            }
            anyhow::Ok(tokens)
        });
    }
    let mut tokens = Vec::with_capacity(count);
    while let Some(done) = workers.join_next().await {
        tokens.extend(done.context("registration worker")??);
    }
    tokens.sort_by_key(|(i, _)| *i);
    Ok(tokens.into_iter().map(|(_, t)| t).collect())
}

/// A generator process: opens one socket per token, says `connected`, holds them until
/// standard input closes, then says `closed:CODE=N` for the sockets the server closed.
pub async fn child_main(args: ChildArgs) -> anyhow::Result<()> {
    raise_open_files()?;
    let text = std::fs::read_to_string(&args.tokens)
        .with_context(|| format!("reading {}", args.tokens.display()))?;
    let tokens: Arc<Vec<String>> = Arc::new(text.lines().map(str::to_owned).collect());
    let closed: Arc<std::sync::Mutex<HashMap<u16, usize>>> = Arc::default();
    let sockets: Arc<Mutex<Vec<LiveConnection>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let mut connectors = JoinSet::new();
    for _ in 0..args.concurrency.max(1) {
        let (tokens, next, sockets) = (tokens.clone(), next.clone(), sockets.clone());
        let (base, first, sources) = (args.base.clone(), args.first, args.sources);
        connectors.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(token) = tokens.get(i) else { break };
                let from = source(first + i, sources);
                let options = LiveOptions {
                    local_addr: Some(from),
                    read_buffer: Some(CLIENT_READ_BUFFER),
                    ..LiveOptions::default()
                };
                let client = Client::new(&base).with_token(token.clone());
                let socket = tokio::time::timeout(CONNECT_WAIT, client.connect_live_with(&options))
                    .await
                    .map_err(|_| anyhow!("socket {} not ready within {CONNECT_WAIT:?}", first + i))?
                    .with_context(|| format!("socket {} from {from}", first + i))?;
                sockets.lock().await.push(socket);
            }
            anyhow::Ok(())
        });
    }
    let mut stdout = std::io::stdout();
    while let Some(done) = connectors.join_next().await {
        if let Err(e) = done.context("connecting").and_then(|r| r) {
            writeln!(stdout, "failed: {e:#}")?;
            stdout.flush()?;
            return Err(e);
        }
    }
    let mut holders = JoinSet::new();
    for socket in std::mem::take(&mut *sockets.lock().await) {
        holders.spawn(hold(socket, closed.clone()));
    }
    writeln!(stdout, "connected")?;
    stdout.flush()?;
    // Held until the parent closes the pipe (or goes).
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    holders.abort_all();
    while holders.join_next().await.is_some() {}
    let closed = closed.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let words: Vec<String> = closed
        .iter()
        .map(|(c, n)| format!("closed:{c}={n}"))
        .collect();
    writeln!(stdout, "{}", words.join(" "))?;
    stdout.flush()?;
    Ok(())
}

/// Keeps an idle socket open (answering pings) until it closes or the task is aborted.
async fn hold(mut socket: LiveConnection, closed: Arc<std::sync::Mutex<HashMap<u16, usize>>>) {
    loop {
        match socket.recv().await {
            Ok(_) | Err(ClientError::Decode(_)) => {}
            Err(e) => {
                let code = match e {
                    ClientError::Closed {
                        code: Some(code), ..
                    } => code,
                    _ => 0,
                };
                *closed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(code)
                    .or_default() += 1;
                return;
            }
        }
    }
}

fn report(
    machine: &Machine,
    database: &str,
    soft: u64,
    hard: u64,
    registered_secs: f64,
    f: &IdleFigures,
) -> String {
    let command: Vec<String> = std::env::args().skip(1).collect();
    let (settled, later) = f.per_connection();
    // The figure is the larger: memory the connections take while they stay (pings
    // included), not only at the moment they were made.
    let per = settled.max(later);
    let mut out = String::new();
    out.push_str(&format!(
        "- Date: {}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    out.push_str(&format!("- Machine: {}\n", machine.line()));
    out.push_str(&format!(
        "- Tree: {} (the server binary is built from it unless the command names \
         --server-bin)\n",
        machine::source_commit()
    ));
    out.push_str(&format!(
        "- Command: `dialtone-bench {}` (release build; open files per process: soft limit \
         raised to {soft}, hard limit {hard})\n",
        command.join(" ")
    ));
    out.push_str(&format!("- Database: {database}\n"));
    out.push_str(&format!(
        "- Method: `dialtone serve` as a child process (same release build, rate limits \
         lifted, SMS to the bench's mock provider); {} users registered through the API (code \
         only) in {registered_secs:.1} s; then one live connection (`GET /v1/ws`, \
         authenticated, `ready` received) per user, all held at once, from {} generator \
         processes over {} source addresses (127.0.0.2 on). Server RSS is read after it \
         settled (at most 5% of a core over a second; builds running meanwhile do not \
         change memory, so they are not waited for) before and after the connections; \
         the figure per connection is the difference divided by the connections.\n",
        f.connections, f.generators, f.sources
    ));
    out.push_str("\n| Measure | Value |\n| --- | --- |\n");
    out.push_str(&format!(
        "| Connections held at once | {} (connected in {:.1} s) |\n",
        f.connections, f.connect_secs
    ));
    out.push_str(&format!(
        "| Server RSS before → after (KiB) | {} → {} ({} after {} s idle; peak {}) |\n",
        f.server_before.0, f.server_after.0, f.server_later, f.idle_secs, f.server_after.1
    ));
    out.push_str(&format!(
        "| Server RSS per connection, settled / after {} s idle | {settled:.2} / {later:.2} KiB |\n",
        f.idle_secs
    ));
    out.push_str(&format!(
        "| **Server RSS per idle connection** (the larger) | **{per:.2} KiB** |\n"
    ));
    out.push_str(&format!(
        "| Generators' RSS together | {} KiB |\n",
        f.generators_rss
    ));
    out.push_str(&format!(
        "| CPU while idle ({} s) | {} |\n",
        f.idle_secs, f.idle_cpu
    ));
    out.push_str(&format!(
        "| Sockets closed by the server | {} |\n",
        f.closed
    ));
    let met = per <= 8.0;
    out.push_str(&format!(
        "\nTarget (issue 13): at most 8 KiB of server memory per idle connection, measured \
         with 100,000 connections: {}.\n",
        if f.connections >= 100_000 {
            if met { "met" } else { "not met" }.to_owned()
        } else {
            format!(
                "{per:.2} KiB at {} connections ({}), not measured at 100,000: one process \
                 here may open at most {hard} files (the hard limit; raising it needs \
                 CAP_SYS_RESOURCE, which this machine does not give), so one server process \
                 holds at most about {} connections",
                f.connections,
                if met { "within 8 KiB" } else { "over 8 KiB" },
                most_connections(hard)
            )
        }
    ));
    out
}
