//! A dialtone server run as a child process (`dialtone serve --config FILE`), so its
//! memory and CPU can be read apart from the load generator's: the same configuration as
//! the in-process server of `setup.rs` (mock SMS provider, lifted rate limits), written as
//! a TOML file.

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

/// The server binary next to this one (`target/release/dialtone`), unless given.
pub fn default_binary() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("locating this binary")?;
    let dir = me
        .parent()
        .ok_or_else(|| anyhow!("{} has no directory", me.display()))?;
    Ok(dir.join("dialtone"))
}

/// A server running as a child process.
pub struct ChildServer {
    child: Child,
    /// Its process id.
    pub pid: u32,
    /// `http://127.0.0.1:PORT`, where it listens.
    pub base: String,
    pub provider: Arc<MockProvider>,
    pub database: Database,
    _dir: tempfile::TempDir,
}

impl ChildServer {
    /// Prepares the database (a fresh one on PostgreSQL), starts the mock provider and
    /// `bin serve` with every rate limit lifted, and waits until it answers.
    pub async fn start(bin: &Path, database_url: Option<&str>) -> anyhow::Result<ChildServer> {
        anyhow::ensure!(
            bin.exists(),
            "server binary {} not found: build it with `cargo build --release -p dialtone` \
             (same target directory) or pass --server-bin",
            bin.display()
        );
        let provider = Arc::new(MockProvider::start().await?);
        let database = Database::prepare(database_url).await?;
        match spawn(bin, &provider, &database).await {
            Ok((child, pid, addr, dir)) => Ok(ChildServer {
                child,
                pid,
                base: format!("http://{addr}"),
                provider,
                database,
                _dir: dir,
            }),
            Err(e) => {
                database.remove().await;
                Err(e)
            }
        }
    }

    /// Stops the child (SIGTERM, then SIGKILL after 20 s), the provider, and drops the
    /// database made for the run.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        let stopped = match tokio::time::timeout(STOP_WAIT, self.child.wait()).await {
            Ok(status) => status.map(|_| ()).context("waiting for the server"),
            Err(_) => {
                eprintln!("server did not stop within {STOP_WAIT:?}; killing it");
                self.child.kill().await.context("killing the server")
            }
        };
        self.database.remove().await;
        if let Ok(provider) = Arc::try_unwrap(self.provider) {
            provider.stop();
        }
        stopped
    }

    /// Whether the child is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

async fn spawn(
    bin: &Path,
    provider: &MockProvider,
    database: &Database,
) -> anyhow::Result<(Child, u32, SocketAddr, tempfile::TempDir)> {
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
            return Ok((child, pid, addr, dir));
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

/// Where the machine's CPU went between two moments: the server, this generator, others.
#[derive(Debug, Clone, Copy)]
pub struct CpuSplit {
    server: u64,
    generator: u64,
    busy: u64,
    total: u64,
}

impl CpuSplit {
    /// Counters now; `None` where `/proc` cannot be read.
    pub fn take(server_pid: u32) -> Option<CpuSplit> {
        let (busy, total) = machine_ticks()?;
        Some(CpuSplit {
            server: cpu_ticks(&server_pid.to_string())?,
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
