//! A dialtone server run as child processes (`dialtone serve --config FILE`), so its
//! memory and CPU can be read apart from the load generator's: the same configuration as
//! the in-process server of `setup.rs` (mock SMS provider, lifted rate limits), written as
//! a TOML file. One node, or several sharing one PostgreSQL database and a NATS bus, as a
//! deployment of several processes runs (`crates/dialtone/tests/two_nodes.rs`).

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use dialtone_server::{Config, GatewayKind};
use tokio::process::Child;

use crate::accounts::{Database, lift};
use crate::sms::MockProvider;

/// Longest wait for the child to answer `/healthz`.
const START_WAIT: Duration = Duration::from_secs(60);
/// Longest wait for a graceful stop before it is killed.
const STOP_WAIT: Duration = Duration::from_secs(20);
/// The server counts as settled when it used at most this share of one core over a second.
const SETTLED_SHARE: f64 = 0.05;
/// Longest wait for the server to settle between phases.
const SETTLE_WAIT: Duration = Duration::from_secs(120);
/// Clock ticks per second of `/proc/PID/stat` (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// The server binary next to this one (`target/release/dialtone`), unless given.
pub fn default_binary() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("locating this binary")?;
    let dir = me
        .parent()
        .ok_or_else(|| anyhow!("{} has no directory", me.display()))?;
    Ok(dir.join("dialtone"))
}

/// The NATS bus of a run with several nodes.
pub struct Bus {
    /// `nats://host:port`.
    pub url: String,
    /// A subject of this run's own, so two runs on one NATS server never hear each other.
    pub subject: String,
    /// The server key every node shares (hex), as one deployment's processes must.
    key: String,
}

impl Bus {
    /// A fresh subject and server key for a run on `url`.
    fn fresh(url: &str) -> anyhow::Result<Bus> {
        Ok(Bus {
            url: url.to_owned(),
            subject: format!("dialtone.bench.{}", random_hex(8)?),
            key: random_hex(32)?,
        })
    }
}

/// `bytes` random bytes from the kernel, in hex.
fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .context("reading /dev/urandom")?;
    Ok(buf.iter().fold(String::new(), |mut hex, b| {
        hex.push_str(&format!("{b:02x}"));
        hex
    }))
}

/// One `dialtone serve` process.
pub struct Node {
    child: Child,
    /// Its process id.
    pub pid: u32,
    /// `http://127.0.0.1:PORT`, where it listens.
    pub base: String,
    /// The database it opened (`sqlite://…` in its data directory by default), for
    /// benchmarks that seed rows straight into it.
    pub database_url: String,
    _dir: tempfile::TempDir,
}

/// The server of a run: one node, or several on one PostgreSQL database and a NATS bus.
pub struct ChildServer {
    /// Node 1, the one registrations and other setup go through.
    pub head: Node,
    /// Nodes 2 … N.
    pub rest: Vec<Node>,
    /// The bus between the nodes; `None` with one node (in-process events, as deployed
    /// alone).
    pub bus: Option<Bus>,
    pub provider: Arc<MockProvider>,
    pub database: Database,
}

impl ChildServer {
    /// Prepares the database (a fresh one on PostgreSQL), starts the mock provider and
    /// `nodes` × `bin serve` with every rate limit lifted, and waits until each answers.
    /// With more than one node, they share the database, a fresh subject on the NATS
    /// server at `nats_url`, and the server key; each has its own data directory and port.
    pub async fn start(
        bin: &Path,
        database_url: Option<&str>,
        nodes: usize,
        nats_url: &str,
    ) -> anyhow::Result<ChildServer> {
        Self::start_with(bin, database_url, nodes, nats_url, &|_| {}).await
    }

    /// As [`ChildServer::start`], with `adjust` changing each node's configuration further
    /// (limits a benchmark needs raised).
    pub async fn start_with(
        bin: &Path,
        database_url: Option<&str>,
        nodes: usize,
        nats_url: &str,
        adjust: &(dyn Fn(&mut Config) + Sync),
    ) -> anyhow::Result<ChildServer> {
        anyhow::ensure!(
            bin.exists(),
            "server binary {} not found: build it with `cargo build --release -p dialtone` \
             (same target directory) or pass --server-bin",
            bin.display()
        );
        anyhow::ensure!(nodes >= 1, "at least one node");
        let bus = if nodes > 1 {
            Some(Bus::fresh(nats_url)?)
        } else {
            None
        };
        let provider = Arc::new(MockProvider::start().await?);
        let database = Database::prepare(database_url).await?;
        // Started one after the other; a failure drops (and kills) those already running.
        let mut started = Vec::with_capacity(nodes);
        for _ in 0..nodes {
            match spawn(bin, &provider, &database, bus.as_ref(), adjust).await {
                Ok(node) => started.push(node),
                Err(e) => {
                    drop(started);
                    database.remove().await;
                    return Err(e);
                }
            }
        }
        let mut started = started.into_iter();
        let head = started.next().ok_or_else(|| anyhow!("no node started"))?;
        Ok(ChildServer {
            head,
            rest: started.collect(),
            bus,
            provider,
            database,
        })
    }

    /// Every node, node 1 first.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        std::iter::once(&self.head).chain(&self.rest)
    }

    /// How many nodes run.
    pub fn count(&self) -> usize {
        1 + self.rest.len()
    }

    /// Every node's process id, node 1 first.
    pub fn pids(&self) -> Vec<u32> {
        self.nodes().map(|n| n.pid).collect()
    }

    /// Every node's base URL, node 1 first.
    pub fn bases(&self) -> Vec<String> {
        self.nodes().map(|n| n.base.clone()).collect()
    }

    /// Stops every node (SIGTERM, then SIGKILL after 20 s), the provider, and drops the
    /// database made for the run.
    pub async fn stop(self) -> anyhow::Result<()> {
        let ChildServer {
            head,
            rest,
            provider,
            database,
            ..
        } = self;
        let mut nodes: Vec<Node> = std::iter::once(head).chain(rest).collect();
        for node in &nodes {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(node.pid.to_string())
                .status();
        }
        let mut stopped = Ok(());
        for node in &mut nodes {
            let outcome = match tokio::time::timeout(STOP_WAIT, node.child.wait()).await {
                Ok(status) => status.map(|_| ()).context("waiting for the server"),
                Err(_) => {
                    eprintln!(
                        "server pid {} did not stop within {STOP_WAIT:?}; killing it",
                        node.pid
                    );
                    node.child.kill().await.context("killing the server")
                }
            };
            stopped = stopped.and(outcome);
        }
        database.remove().await;
        if let Ok(provider) = Arc::try_unwrap(provider) {
            provider.stop();
        }
        stopped
    }

    /// The numbers (1 …) of the nodes that are no longer running.
    pub fn exited(&mut self) -> Vec<usize> {
        std::iter::once(&mut self.head)
            .chain(&mut self.rest)
            .enumerate()
            .filter_map(|(i, n)| (!matches!(n.child.try_wait(), Ok(None))).then_some(i + 1))
            .collect()
    }
}

async fn spawn(
    bin: &Path,
    provider: &MockProvider,
    database: &Database,
    bus: Option<&Bus>,
    adjust: &(dyn Fn(&mut Config) + Sync),
) -> anyhow::Result<Node> {
    let dir = tempfile::tempdir().context("temporary data directory")?;
    // A free port: bound, read, released (the child binds it a moment later).
    let addr = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .and_then(|l| l.local_addr())
        .context("finding a free port")?;
    let mut config = Config {
        listen: addr,
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    config.database.url = database.url.clone();
    if let Some(bus) = bus {
        config.bus.url = Some(bus.url.clone());
        config.bus.subject = bus.subject.clone();
        config.secrets.key = Some(bus.key.clone());
    }
    config.sms.gateway = GatewayKind::Http;
    config.sms.http.base_url = provider.base_url();
    config.sms.http.account = "ACdialtonebench".into();
    config.sms.http.token = "bench".into();
    config.sms.http.from = "dialtone".into();
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
    adjust(&mut config);
    let database_url = config.database_url();
    let file = dir.path().join("dialtone.toml");
    let text = toml::to_string(&config).context("writing the configuration as TOML")?;
    std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
    let log = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into());
    let mut child = tokio::process::Command::new(bin)
        .arg("serve")
        .arg("--config")
        .arg(&file)
        .env("RUST_LOG", log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let pid = child
        .id()
        .ok_or_else(|| anyhow!("the server exited at once"))?;
    let http = reqwest::Client::new();
    let health = format!("http://{addr}/healthz");
    let deadline = tokio::time::Instant::now() + START_WAIT;
    loop {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("the server exited while starting: {status}");
        }
        if let Ok(r) = http.get(&health).send().await
            && r.status().is_success()
        {
            return Ok(Node {
                child,
                pid,
                base: format!("http://{addr}"),
                database_url,
                _dir: dir,
            });
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the server did not answer {health} within {START_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Resident and peak resident memory of a process, in KiB (`/proc/PID/status`).
pub fn rss_kib(pid: &str) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Waits until no rustc runs and the server is quiet (every node together at most 5% of
/// one core over a second), up to two minutes.
pub async fn settle(pids: &[u32]) {
    crate::setup::wait_for_no_rustc().await;
    quiet(pids).await;
}

/// Waits until the server is quiet (every node together at most 5% of one core over a
/// second), up to two minutes, whatever else runs: for measures of memory, which other
/// processes' CPU does not change.
pub async fn quiet(pids: &[u32]) {
    let start = tokio::time::Instant::now();
    let mut before = server_ticks(pids);
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = server_ticks(pids);
        let (Some(b), Some(n)) = (before, now) else {
            return;
        };
        if (n.saturating_sub(b) as f64) <= SETTLED_SHARE * TICKS_PER_SECOND {
            return;
        }
        if start.elapsed() > SETTLE_WAIT {
            eprintln!("      server still busy after {SETTLE_WAIT:?}; going on");
            return;
        }
        before = now;
    }
}

/// CPU clock ticks (user + system) a process has used (`/proc/PID/stat`).
pub fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Busy and total clock ticks of all CPUs (`/proc/stat`).
pub fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let field = |i: usize| fields.get(i).copied().unwrap_or(0);
    let busy = field(0) + field(1) + field(2) + field(5) + field(6) + field(7);
    Some((busy, busy + field(3) + field(4)))
}

/// CPU clock ticks the server's processes have used together; `None` if one cannot be read.
pub fn server_ticks(pids: &[u32]) -> Option<u64> {
    pids.iter().map(|pid| cpu_ticks(&pid.to_string())).sum()
}

/// Where the machine's CPU went between two moments: the server (every node together),
/// this generator, others.
#[derive(Debug, Clone, Copy)]
pub struct CpuSplit {
    server: u64,
    generator: u64,
    busy: u64,
    total: u64,
}

impl CpuSplit {
    /// Counters now; `None` where `/proc` cannot be read.
    pub fn take(server_pids: &[u32]) -> Option<CpuSplit> {
        let (busy, total) = machine_ticks()?;
        Some(CpuSplit {
            server: server_ticks(server_pids)?,
            generator: cpu_ticks("self")?,
            busy,
            total,
        })
    }

    /// Shares of all CPUs' time since `earlier`: (server, generator, others), 0 to 1.
    pub fn since(&self, earlier: &CpuSplit) -> (f64, f64, f64) {
        let total = self.total.saturating_sub(earlier.total).max(1) as f64;
        let server = self.server.saturating_sub(earlier.server);
        let generator = self.generator.saturating_sub(earlier.generator);
        let busy = self.busy.saturating_sub(earlier.busy);
        let others = busy.saturating_sub(server + generator);
        (
            server as f64 / total,
            generator as f64 / total,
            others as f64 / total,
        )
    }

    /// CPU seconds used since `earlier` by the server (every node) and by this generator.
    pub fn seconds_since(&self, earlier: &CpuSplit) -> (f64, f64) {
        (
            self.server.saturating_sub(earlier.server) as f64 / TICKS_PER_SECOND,
            self.generator.saturating_sub(earlier.generator) as f64 / TICKS_PER_SECOND,
        )
    }
}

/// `server x%, generator y%, others z%` of the machine's CPU (all cores = 100%).
pub fn split_text(before: Option<CpuSplit>, after: Option<CpuSplit>) -> String {
    match (before, after) {
        (Some(b), Some(a)) => {
            let (s, g, o) = a.since(&b);
            format!(
                "server {:.0}%, generator {:.0}%, others {:.0}%",
                s * 100.0,
                g * 100.0,
                o * 100.0
            )
        }
        _ => "unknown".into(),
    }
}
