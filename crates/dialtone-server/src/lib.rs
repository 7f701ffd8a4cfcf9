//! Builds a running dialtone server from a [`Config`]: opens the database and applies its
//! migrations, loads the server key, picks the SMS gateway, builds the services and the
//! HTTP application, serves it, and shuts it down cleanly.

pub mod config;
mod secrets;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dialtone_api::AppState;
use dialtone_bus::{EventBus, LocalBus, NatsBus};
use dialtone_core::{Clock, Region, SystemClock};
use dialtone_realtime::Hub;
use dialtone_service::attachments::AttachmentService;
use dialtone_service::calls::{CallDeps, CallService};
use dialtone_service::community::{CommunityDeps, CommunityService, PreviewSettings};
use dialtone_service::messaging::{MessagingService, WritersStopped};
use dialtone_service::notify::{NotifyDeps, NotifyService};
use dialtone_service::social::{SocialDeps, SocialService};
use dialtone_service::{AccountDeps, AccountService};
use dialtone_sms::{HttpGateway, OutboxGateway, SmsGateway};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{BusConfig, Config, ConfigError, GatewayKind, NodesConfig};

/// How often expired verifications and old rate-limit events are deleted.
/// An upload's temporary file older than this is a leftover of a killed process.
const STALE_UPLOAD: Duration = Duration::from_secs(3600);

const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(600);

/// How long stopping waits for live connections to close, and again for the database
/// writers to finish what was queued.
const STOP_BOUND: Duration = Duration::from_secs(10);

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
    /// The event bus could not be reached.
    #[error(transparent)]
    Bus(#[from] dialtone_bus::BusError),
}

/// A server that is accepting connections.
pub struct Running {
    /// Where it listens (useful with port 0).
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    serve: JoinHandle<std::io::Result<()>>,
    housekeeping: JoinHandle<()>,
    fan_out: JoinHandle<()>,
    heartbeat: JoinHandle<()>,
    /// The search indexer (queued messages to the index, off the send path).
    search_indexer: JoinHandle<()>,
    hub: Arc<Hub>,
    writers: Option<WritersStopped>,
    /// The community, whose live fan-out finishes what was published before the stop.
    community: Arc<CommunityService>,
    calls: Arc<CallService>,
    /// Web Push, whose worker stops with the server.
    notify: Arc<NotifyService>,
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
        let code_key_for_push = code_key.clone();
        let (shutdown, mut on_shutdown) = watch::channel(false);
        let store = dialtone_store::open(&config.database_url()).await?;
        let sms: Arc<dyn SmsGateway> = match config.sms.gateway {
            GatewayKind::Outbox => Arc::new(OutboxGateway::new(config.outbox_path())),
            GatewayKind::Http => Arc::new(HttpGateway::new(config.sms.http.clone())?),
        };
        let bus: Arc<dyn EventBus> = match &config.bus.url {
            Some(url) => Arc::new(NatsBus::connect(url, &config.bus.subject).await?),
            None => Arc::new(LocalBus::new()),
        };
        let accounts = Arc::new(AccountService::new(AccountDeps {
            store: store.clone(),
            sms,
            clock: clock.clone(),
            policy: config.accounts.clone(),
            sms_policy: config.sms.policy.clone(),
            code_key: code_key.clone(),
            domain: config.domain.clone(),
            default_region,
            bus: bus.clone(),
        }));
        let clock_for_messages = clock.clone();
        let social = Arc::new(SocialService::new(
            SocialDeps {
                store: store.clone(),
                clock,
                bus: bus.clone(),
                server_key: code_key,
                default_region,
                limits: config.contacts,
            },
            accounts.hasher(),
        ));
        let messaging = Arc::new(MessagingService::new(
            social.clone(),
            store.clone(),
            bus.clone(),
            clock_for_messages.clone(),
            config.messages,
        ));
        let blobs = Arc::new(dialtone_media::LocalBlobStore::new(config.blobs_dir()));
        // What a killed process left half-uploaded goes at start: all of it on SQLite (this
        // process alone uses the folder), and what is over an hour old where other nodes
        // may be uploading into a shared folder (housekeeping sweeps that hourly too).
        let left_over = if store.engine == dialtone_store::Engine::Sqlite {
            Duration::ZERO
        } else {
            STALE_UPLOAD
        };
        if let Err(e) = blobs.remove_stale_uploads(left_over).await {
            tracing::warn!(error = %e, "stale uploads not removed");
        }
        let swept_blobs = blobs.clone();
        let attachments = Arc::new(AttachmentService::new(
            store.clone(),
            blobs,
            clock_for_messages.clone(),
            config.attachments.max_bytes,
        ));
        let community = Arc::new(CommunityService::new(CommunityDeps {
            store: store.clone(),
            clock: clock_for_messages.clone(),
            bus: bus.clone(),
            social: social.clone(),
            attachments: attachments.clone(),
            limits: config.community,
            previews: PreviewSettings {
                config: dialtone_preview::PreviewConfig {
                    allowed: if config.link_preview_test_addresses.is_empty() {
                        dialtone_preview::AddressPolicy::PublicOnly
                    } else {
                        dialtone_preview::AddressPolicy::AllowList(
                            config.link_preview_test_addresses.clone(),
                        )
                    },
                    ..Default::default()
                },
            },
        }));
        let writers = messaging.writers_stopped();
        let search_indexer = {
            let indexer = messaging.search_indexer();
            let mut stop = shutdown.subscribe();
            tokio::spawn(indexer.run(async move { stopped(&mut stop).await }))
        };
        let hub = Arc::new(Hub::new(
            accounts.clone(),
            social.clone(),
            messaging.clone(),
            config.connections,
        ));
        // The SFU of group calls: a port that cannot be had leaves this node without group
        // calls (said in the log), not without a server.
        let sfu = match dialtone_sfu::Sfu::start(dialtone_sfu::SfuConfig {
            bind: config.calls.sfu_bind,
            public_ip: config.calls.sfu_public_ip,
        })
        .await
        {
            Ok(sfu) => {
                tracing::info!(addr = %sfu.local_addr(), "SFU listening");
                Some(sfu)
            }
            Err(e) => {
                tracing::warn!(error = %e, bind = %config.calls.sfu_bind, "no SFU: group calls are off on this node");
                None
            }
        };
        let calls = Arc::new(CallService::new(CallDeps {
            store: store.clone(),
            social: social.clone(),
            messaging: messaging.clone(),
            bus: bus.clone(),
            clock: clock_for_messages.clone(),
            config: config.calls.clone(),
            node_id: hub.node_id().to_owned(),
            sfu,
        }));
        calls.listen_to_sfu();
        hub.attach_calls(calls.clone());
        let notify = NotifyService::new(NotifyDeps {
            store: store.clone(),
            social: social.clone(),
            clock: clock_for_messages.clone(),
            config: config.push.clone(),
            server_key: [b"web push: ".as_slice(), code_key_for_push.as_slice()].concat(),
        })
        .map_err(ServerError::Io)?;
        notify.start();
        messaging.attach_notify(notify.clone());
        calls.attach_notify(notify.clone());
        let pages = dialtone_web::router(dialtone_web::WebSettings {
            region: config.region.clone(),
            domain: config.domain.clone(),
        });
        let app = dialtone_api::app_with(
            AppState {
                accounts: accounts.clone(),
                social,
                messaging,
                attachments,
                community: community.clone(),
                calls: calls.clone(),
                notify: notify.clone(),
                hub: hub.clone(),
            },
            pages,
        );

        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| ServerError::Io(format!("cannot listen on {}: {e}", config.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ServerError::Io(e.to_string()))?;
        let mut serve_shutdown = shutdown.subscribe();
        let serve = tokio::spawn(async move {
            // No Nagle delay: small frames (messages, receipts) go out at once.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                stopped(&mut serve_shutdown).await;
            })
            .await
        });
        let remembered = accounts.clone();
        let housekeeping = tokio::spawn(async move {
            let mut every = tokio::time::interval(HOUSEKEEPING_EVERY);
            loop {
                tokio::select! {
                    _ = every.tick() => {
                        if let Err(e) = accounts.housekeeping().await {
                            tracing::warn!(error = %e.report(), "housekeeping failed");
                        }
                        if let Err(e) = swept_blobs.remove_stale_uploads(STALE_UPLOAD).await {
                            tracing::warn!(error = %e, "stale uploads not removed");
                        }
                    }
                    () = stopped(&mut on_shutdown) => break,
                }
            }
        });
        let fan_out = {
            let hub = hub.clone();
            let events = bus.subscribe();
            let mut stop = shutdown.subscribe();
            tokio::spawn(async move {
                tokio::select! {
                    () = hub.dispatch(events) => {}
                    () = stopped(&mut stop) => {}
                }
            })
        };
        let heartbeat_every = Duration::from_secs(config.nodes.heartbeat_secs.max(1));
        let dead_after = chrono::TimeDelta::seconds(
            i64::try_from(config.nodes.dead_after_secs.max(2)).unwrap_or(30),
        );
        let recheck_every = Duration::from_secs(config.connections.recheck_secs.max(1));
        let heartbeat = {
            let hub = hub.clone();
            let mut stop = shutdown.subscribe();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(heartbeat_every);
                let mut recheck = tokio::time::interval(recheck_every);
                loop {
                    tokio::select! {
                        _ = every.tick() => {
                            if let Err(e) = hub.tick(dead_after).await {
                                tracing::warn!(error = %e.report(), "node heartbeat failed");
                            }
                            // Tokens remembered past their life go (each connected device
                            // would otherwise keep one for as long as it stays connected).
                            remembered.forget_expired_sessions();
                        }
                        // Commits whose event never came reach their devices anyway.
                        _ = recheck.tick() => hub.recheck_all().await,
                        () = stopped(&mut stop) => break,
                    }
                }
            })
        };
        tracing::info!(%addr, engine = ?store.engine, data_dir = %config.data_dir.display(), "dialtone listening");
        Ok(Running {
            addr,
            shutdown,
            serve,
            housekeeping,
            fan_out,
            heartbeat,
            search_indexer,
            hub,
            writers,
            community,
            calls,
            notify,
        })
    }

    /// Stops, gracefully and in this order: no new connections or requests; requests in
    /// flight finish; live connections are told to go (1001) and their tasks end (closing
    /// handshakes, last acks, disconnects recorded), for at most `STOP_BOUND`; the
    /// community's feed fan-out announces what was published (at most `STOP_BOUND`); the
    /// calls' timers are cancelled; the background tasks (housekeeping, fan-out, heartbeat, search indexer) stop; then, the services
    /// dropped, the group-commit writers write what was queued and end (at most
    /// `STOP_BOUND` again). What no one waited for is logged.
    pub async fn stop(self) -> Result<(), ServerError> {
        let Running {
            shutdown,
            serve,
            housekeeping,
            fan_out,
            heartbeat,
            search_indexer,
            hub,
            writers,
            community,
            calls,
            notify,
            ..
        } = self;
        let _ = shutdown.send(true);
        hub.close_all().await;
        let served = serve.await;
        if !hub.drain(STOP_BOUND).await {
            tracing::warn!("live connections still closing after {STOP_BOUND:?}; stopping anyway");
        }
        if !community.finish(STOP_BOUND).await {
            tracing::warn!("feed fan-out still busy after {STOP_BOUND:?}; stopping anyway");
        }
        calls.stop().await;
        notify.stop().await;
        let _ = housekeeping.await;
        let _ = fan_out.await;
        let _ = heartbeat.await;
        let _ = search_indexer.await;
        // The writers end once no service holds the messaging service.
        drop(hub);
        drop(calls);
        drop(notify);
        if let Some(writers) = writers
            && !writers.wait(STOP_BOUND).await
        {
            tracing::warn!("database writers still busy after {STOP_BOUND:?}; stopping anyway");
        }
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
