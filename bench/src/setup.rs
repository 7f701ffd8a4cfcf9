//! What the benchmarks share: a quiet machine before measuring,
//! a server started in this process with the mock SMS provider and lifted rate limits,
//! registration by code, and the results file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use dialtone_client::{Client, Login};
use dialtone_core::PhoneNumber;
use dialtone_server::{Config, GatewayKind, Running};

use crate::accounts::{Database, lift};
use crate::sms::MockProvider;

/// How long to wait for a verification SMS.
const CODE_WAIT: Duration = Duration::from_secs(30);
/// Device name given at every registration.
const DEVICE: &str = "dialtone-bench";
/// Longest wait for compilers to finish before measuring anyway.
const QUIET_WAIT: Duration = Duration::from_secs(600);

/// Waits until no `rustc` process runs (builds share the 2 cores), up to 10 minutes.
pub async fn wait_for_no_rustc() {
    let start = tokio::time::Instant::now();
    let mut told = false;
    loop {
        let busy = std::process::Command::new("pgrep")
            .arg("-x")
            .arg("rustc")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !busy {
            return;
        }
        if start.elapsed() > QUIET_WAIT {
            eprintln!("      rustc still running after {QUIET_WAIT:?}; measuring anyway");
            return;
        }
        if !told {
            eprintln!("      waiting for running rustc processes to finish…");
            told = true;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// The results file: `--results`, else `bench/RESULTS.md`.
pub fn results_file(given: Option<&PathBuf>) -> PathBuf {
    given
        .cloned()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("RESULTS.md"))
}

/// A server running in this process, its database and the mock SMS provider.
pub struct Server {
    pub running: Running,
    pub base: String,
    pub provider: Arc<MockProvider>,
    pub database: Database,
    /// The database URL the server opened (for direct seeding).
    pub database_url: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Prepares the database (a fresh one on PostgreSQL), starts the mock provider and the
    /// server with every rate limit lifted; `adjust` changes the configuration further.
    pub async fn start(
        database_url: Option<&str>,
        adjust: impl FnOnce(&mut Config),
    ) -> anyhow::Result<Server> {
        let provider = Arc::new(MockProvider::start().await?);
        let database = Database::prepare(database_url).await?;
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
        let running = match Running::start(config).await {
            Ok(running) => running,
            Err(e) => {
                database.remove().await;
                return Err(anyhow::Error::new(e).context("starting the server"));
            }
        };
        let base = format!("http://{}", running.addr);
        Ok(Server {
            running,
            base,
            provider,
            database,
            database_url,
            _dir: dir,
        })
    }

    /// Stops the server and the provider, drops the database made for the run.
    pub async fn stop(self) -> anyhow::Result<()> {
        let stopped = self.running.stop().await;
        self.database.remove().await;
        if let Ok(provider) = Arc::try_unwrap(self.provider) {
            provider.stop();
        }
        stopped.context("stopping the server")
    }
}

/// Registers `phone` by code only: start verification → SMS code → submit.
pub async fn register(
    client: &Client,
    provider: &MockProvider,
    phone: &str,
) -> anyhow::Result<Login> {
    let login = log_in_by_code(client, provider, phone).await?;
    anyhow::ensure!(login.new_account, "{phone} was already registered");
    Ok(login)
}

/// Logs in by code (start verification → SMS code → submit): a new device (session) of
/// `phone`, registering it if it is new.
pub async fn log_in_by_code(
    client: &Client,
    provider: &MockProvider,
    phone: &str,
) -> anyhow::Result<Login> {
    let started = client.start_verification(phone, None).await?;
    let code = provider.take_code(phone, CODE_WAIT).await?;
    Ok(client
        .submit_code(&started.id, &code, Some(DEVICE), None)
        .await?)
}

/// `count` distinct valid Chinese mobile numbers in E.164 from national number `first` on.
pub fn valid_numbers(first: u64, count: usize) -> anyhow::Result<Vec<String>> {
    let mut phones = Vec::with_capacity(count);
    let mut national = first;
    while phones.len() < count {
        anyhow::ensure!(
            national < first + 10 * count as u64 + 1000,
            "too few valid numbers after {first}"
        );
        if let Ok(phone) = PhoneNumber::parse(&format!("+86{national}"), None) {
            phones.push(phone.as_str().to_owned());
        }
        national += 1;
    }
    Ok(phones)
}

/// `d` as milliseconds with one decimal.
pub fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}
