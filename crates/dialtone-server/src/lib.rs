//! Builds a running dialtone server from a [`Config`]: opens the database and applies its
//! migrations, loads the server key, picks the SMS gateway, builds the services and the
//! HTTP application, serves it, and shuts it down cleanly.

pub mod config;
mod secrets;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dialtone_api::AppState;
use dialtone_core::{Clock, Region, SystemClock};
use dialtone_service::{AccountDeps, AccountService};
use dialtone_sms::{HttpGateway, OutboxGateway, SmsGateway};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{Config, ConfigError, GatewayKind};

/// How often expired verifications and old rate-limit events are deleted.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(600);

/// Why a server could not start or failed while running.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] dialtone_store::StoreError),
    /// The data directory or key file could not be used.
    #[error("{0}")]
    Io(String),
    /// The SMS gateway could not be set up.
    #[error("sms gateway: {0}")]
    Sms(#[from] dialtone_sms::SmsError),
}

/// A server that is accepting connections.
pub struct Running {
    /// Where it listens (useful with port 0).
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    serve: JoinHandle<std::io::Result<()>>,
    housekeeping: JoinHandle<()>,
}

impl Running {
    /// Starts a server with the wall clock.
    pub async fn start(config: Config) -> Result<Running, ServerError> {
        Self::start_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Starts a server whose rules follow `clock` (tests move it forward).
    pub async fn start_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Running, ServerError> {
        let default_region = Region::parse(&config.region).ok_or_else(|| {
            ConfigError::Invalid(format!("region {:?} is not a known code", config.region))
        })?;
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            ServerError::Io(format!(
                "cannot create data dir {}: {e}",
                config.data_dir.display()
            ))
        })?;
        let code_key = secrets::load_or_create_key(&config)?;
        let store = dialtone_store::open(&config.database_url()).await?;
        let sms: Arc<dyn SmsGateway> = match config.sms.gateway {
            GatewayKind::Outbox => Arc::new(OutboxGateway::new(config.outbox_path())),
            GatewayKind::Http => Arc::new(HttpGateway::new(config.sms.http.clone())?),
        };
        let accounts = Arc::new(AccountService::new(AccountDeps {
            store: store.clone(),
            sms,
            clock,
            policy: config.accounts.clone(),
            sms_policy: config.sms.policy.clone(),
            code_key,
            domain: config.domain.clone(),
            default_region,
        }));
        let app = dialtone_api::app(AppState {
            accounts: accounts.clone(),
        });

        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| ServerError::Io(format!("cannot listen on {}: {e}", config.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ServerError::Io(e.to_string()))?;
        let (shutdown, mut on_shutdown) = watch::channel(false);
        let mut serve_shutdown = shutdown.subscribe();
        let serve = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                stopped(&mut serve_shutdown).await;
            })
            .await
        });
        let housekeeping = tokio::spawn(async move {
            let mut every = tokio::time::interval(HOUSEKEEPING_EVERY);
            loop {
                tokio::select! {
                    _ = every.tick() => {
                        if let Err(e) = accounts.housekeeping().await {
                            tracing::warn!(error = %e, "housekeeping failed");
                        }
                    }
                    () = stopped(&mut on_shutdown) => break,
                }
            }
        });
        tracing::info!(%addr, engine = ?store.engine, data_dir = %config.data_dir.display(), "dialtone listening");
        Ok(Running {
            addr,
            shutdown,
            serve,
            housekeeping,
        })
    }

    /// Stops accepting connections, lets requests in flight finish, and stops background
    /// tasks.
    pub async fn stop(self) -> Result<(), ServerError> {
        let _ = self.shutdown.send(true);
        let served = self.serve.await;
        let _ = self.housekeeping.await;
        match served {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ServerError::Io(e.to_string())),
            Err(e) => Err(ServerError::Io(e.to_string())),
        }
    }
}

/// Resolves once shutdown was asked for (or the sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Runs a server until SIGINT or SIGTERM, then shuts it down gracefully.
pub async fn run_until_signal(config: Config) -> Result<(), ServerError> {
    let running = Running::start(config).await?;
    wait_for_signal().await;
    tracing::info!("shutting down");
    running.stop().await
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
