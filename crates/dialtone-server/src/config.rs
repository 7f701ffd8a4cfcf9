//! The one typed configuration of a dialtone server. Every field has a default, so the
//! server runs with no configuration at all; a TOML file and `DIALTONE_*` environment
//! variables (nested keys joined by `__`, e.g. `DIALTONE_DATABASE__URL`) override them.
//! The example file `dialtone.example.toml` is generated from [`Config::default`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use dialtone_realtime::Heartbeat;
use dialtone_service::messaging::MessageLimits;
use dialtone_service::social::ContactLimits;
use dialtone_service::{AccountPolicy, SmsPolicy};
use dialtone_sms::HttpGatewayConfig;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file or variable could not be read as configuration.
    #[error("configuration: {0}")]
    Load(String),
    /// A value is not acceptable.
    #[error("configuration: {0}")]
    Invalid(String),
}

/// Everything a server can be told.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Directory of the SQLite database, the server key and the SMS outbox.
    pub data_dir: PathBuf,
    /// ISO 3166 region used to read national numbers when neither the request nor the
    /// account gives one.
    pub region: String,
    /// Public host name of this server, written in the last line of verification SMS
    /// (`@domain #code`) so browsers and phones can fill the code in by themselves.
    pub domain: String,
    /// Where data is kept.
    pub database: DatabaseConfig,
    /// How SMS are sent.
    pub sms: SmsConfig,
    /// Limits on verifications and logins, password rules.
    pub accounts: AccountPolicy,
    /// Limits of address-book uploads and the discovery quota.
    pub contacts: ContactLimits,
    /// The server key.
    pub secrets: SecretsConfig,
    /// How server processes tell each other what changed.
    pub bus: BusConfig,
    /// Liveness of server processes, for presence.
    pub nodes: NodesConfig,
    /// Keep-alive of live WebSocket connections.
    pub connections: Heartbeat,
    /// Limits of messages and groups, and the page of a catch-up.
    pub messages: MessageLimits,
    /// Attachments.
    pub attachments: AttachmentsConfig,
    /// Limits of posts, comments and audiences in the community.
    pub community: dialtone_service::community::CommunityLimits,
    /// Calls: ring timeout, STUN and TURN servers.
    pub calls: dialtone_service::calls::CallsConfig,
    /// Notifications when the app is closed (Web Push).
    pub push: dialtone_service::notify::PushConfig,
    /// Tests only: the local servers link previews may fetch from (previews fetch only
    /// public addresses otherwise). Never read from a file or the environment.
    #[serde(skip)]
    pub link_preview_test_addresses: Vec<std::net::SocketAddr>,
}

/// Attachments.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct AttachmentsConfig {
    /// Largest upload in bytes.
    pub max_bytes: u64,
    /// Where blobs are kept. Unset: `<data-dir>/blobs`.
    pub dir: Option<PathBuf>,
}

impl Default for AttachmentsConfig {
    fn default() -> Self {
        Self {
            max_bytes: dialtone_media::DEFAULT_MAX_BYTES,
            dir: None,
        }
    }
}

/// The event bus between server processes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct BusConfig {
    /// `nats://host:port` to run several processes together; unset: in-process only.
    pub url: Option<String>,
    /// The NATS subject events travel on (one per deployment).
    pub subject: String,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            url: None,
            subject: "dialtone.events".into(),
        }
    }
}

/// Liveness of server processes: a process that stops beating is dead, and its users'
/// connections with it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct NodesConfig {
    /// Seconds between heartbeats of this process.
    pub heartbeat_secs: u64,
    /// Seconds of silence after which another process counts as dead.
    pub dead_after_secs: u64,
}

impl Default for NodesConfig {
    fn default() -> Self {
        Self {
            heartbeat_secs: 10,
            dead_after_secs: 30,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./dialtone-data"),
            region: "CN".into(),
            domain: "localhost".into(),
            database: DatabaseConfig::default(),
            sms: SmsConfig::default(),
            accounts: AccountPolicy::default(),
            contacts: ContactLimits::default(),
            community: Default::default(),
            calls: Default::default(),
            push: Default::default(),
            link_preview_test_addresses: Vec::new(),
            secrets: SecretsConfig::default(),
            bus: BusConfig::default(),
            nodes: NodesConfig::default(),
            connections: Heartbeat::default(),
            messages: MessageLimits::default(),
            attachments: AttachmentsConfig::default(),
        }
    }
}

/// Where data is kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`. Unset: SQLite in the data
    /// directory.
    pub url: Option<String>,
}

/// Which SMS gateway to use.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GatewayKind {
    /// Development: append to `<data-dir>/sms-outbox.jsonl`, send nothing.
    #[default]
    Outbox,
    /// A Twilio-shaped HTTP API (`sms.http`).
    Http,
}

/// How SMS are sent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SmsConfig {
    /// `outbox` or `http`.
    pub gateway: GatewayKind,
    /// Settings of the `http` gateway.
    pub http: HttpGatewayConfig,
    /// Which numbers are refused and how messages are written.
    #[serde(flatten)]
    pub policy: SmsPolicy,
}

/// The server key (for hashing verification codes; kept out of the database).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct SecretsConfig {
    /// The key itself, hex (at least 64 digits). Every server of one deployment needs the
    /// same key.
    pub key: Option<String>,
    /// A file holding the key in hex. Unset: `<data-dir>/secret.key`, created if missing.
    pub key_file: Option<PathBuf>,
}

impl Config {
    /// Defaults, then the TOML file if given, then `DIALTONE_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Load(format!(
                    "config file {} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed("DIALTONE_").split("__"));
        figment
            .extract()
            .map_err(|e| ConfigError::Load(e.to_string()))
    }

    /// The example configuration file: every setting at its default.
    pub fn example_toml() -> Result<String, ConfigError> {
        let body = toml::to_string_pretty(&Config::default())
            .map_err(|e| ConfigError::Invalid(format!("the defaults cannot be written: {e}")))?;
        Ok(format!(
            "# dialtone configuration: every setting at its default.\n\
             # Generated by `dialtone config`; environment variables DIALTONE_<KEY> override\n\
             # (nested keys joined by __, e.g. DIALTONE_DATABASE__URL).\n\n{body}"
        ))
    }

    /// The database URL, SQLite in the data directory unless configured.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("dialtone.db").display()),
        }
    }

    /// The development SMS outbox file.
    pub fn outbox_path(&self) -> PathBuf {
        self.data_dir.join(dialtone_sms::OUTBOX_FILE)
    }

    /// The blob store's directory.
    pub fn blobs_dir(&self) -> PathBuf {
        self.attachments
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("blobs"))
    }

    /// The server key file.
    pub fn key_path(&self) -> PathBuf {
        self.secrets
            .key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secret.key"))
    }
}
