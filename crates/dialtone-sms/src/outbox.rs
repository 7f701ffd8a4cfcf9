//! The development outbox: each SMS becomes one JSON line in `<data-dir>/sms-outbox.jsonl`,
//! as the API contract describes, so developers and tests can read the codes.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::{SecondsFormat, Utc};
use dialtone_core::PhoneNumber;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use crate::{SmsError, SmsGateway};

/// Appends messages to a JSON-lines file instead of sending them.
pub struct OutboxGateway {
    path: PathBuf,
    /// Serialises appends so lines from concurrent sends never interleave.
    write_lock: Mutex<()>,
}

impl OutboxGateway {
    /// An outbox writing to `path` (created on first send).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            write_lock: Mutex::new(()),
        }
    }

    /// Where the messages go.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[derive(serde::Serialize)]
struct OutboxLine<'a> {
    to: &'a str,
    body: &'a str,
    sent_at: String,
}

#[async_trait]
impl SmsGateway for OutboxGateway {
    async fn send(&self, to: &PhoneNumber, body: &str) -> Result<(), SmsError> {
        let line = OutboxLine {
            to: to.as_str(),
            body,
            sent_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        };
        let mut bytes = serde_json::to_vec(&line).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        let _guard = self.write_lock.lock().await;
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await?;
        file.write_all(&bytes).await?;
        file.flush().await?;
        tracing::info!(outbox = %self.path.display(), "sms written to the development outbox");
        Ok(())
    }

    fn name(&self) -> &'static str {
        "outbox"
    }
}
