//! A local push service for tests (feature `testing`): `tests/push_endpoint.py`, an
//! independent implementation in Python, started as a child process.
//!
//! The script is embedded and written to a temporary file, so tests of other crates (the
//! server's end-to-end tests) can start it without knowing where this crate lives. It
//! needs `python3` (or `$DIALTONE_TEST_PYTHON`) with the PyPI package `http_ece` (which
//! brings `cryptography`); `.ci/run` installs it. Every push the script receives is
//! printed as a JSON line, read here on a task and handed out by
//! [`TestPushService::next_push`].

use std::io::Write;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::mpsc;

use crate::{EndpointPolicy, Subscription, VapidKey};

/// The script, embedded so it travels with the crate.
const SCRIPT: &str = include_str!("../tests/push_endpoint.py");

/// How long the script may take to start and print its address.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Why the test push service could not be used; the message says what to install.
#[derive(Debug, thiserror::Error)]
pub enum TestPushError {
    /// The interpreter could not be started.
    #[error(
        "cannot run {python} for the test push service ({source}); install python3 or set DIALTONE_TEST_PYTHON"
    )]
    NoPython {
        /// The interpreter tried.
        python: String,
        /// Why it did not start.
        source: std::io::Error,
    },
    /// A Python package the script imports is not installed.
    #[error(
        "the test push service needs the Python package {0}: python3 -m pip install --break-system-packages http_ece (as .ci/run does)"
    )]
    MissingPackage(String),
    /// Anything else: the script died, a control request failed, a wait timed out.
    #[error("test push service: {0}")]
    Failed(String),
}

/// A push as the Python service received, checked and decrypted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedPush {
    /// The subscription's name (given to [`TestPushService::subscribe`]).
    pub name: String,
    /// The status the service answered.
    pub status: u16,
    /// The `TTL` header.
    pub ttl: Option<String>,
    /// The `Urgency` header.
    pub urgency: Option<String>,
    /// The `Topic` header.
    pub topic: Option<String>,
    /// The `Content-Encoding` header.
    pub content_encoding: Option<String>,
    /// Whether the VAPID authorization verified (signature for `k`, `aud`, `exp`, `sub`).
    pub vapid_ok: bool,
    /// Why it did not.
    pub vapid_error: Option<String>,
    /// The decrypted payload, if it decrypted.
    pub payload: Option<Vec<u8>>,
    /// Why it did not decrypt.
    pub decrypt_error: Option<String>,
}

/// One line of the script's output.
#[derive(Deserialize)]
struct Line {
    name: String,
    status: u16,
    ttl: Option<String>,
    urgency: Option<String>,
    topic: Option<String>,
    content_encoding: Option<String>,
    vapid_ok: bool,
    vapid_error: Option<String>,
    payload: Option<String>,
    payload_base64: Option<String>,
    decrypt_error: Option<String>,
}

/// A running local push service; the process ends when this is dropped.
pub struct TestPushService {
    base_url: String,
    addr: SocketAddr,
    http: reqwest::Client,
    received: tokio::sync::Mutex<mpsc::UnboundedReceiver<ReceivedPush>>,
    history: Arc<Mutex<Vec<ReceivedPush>>>,
    // Held for their lifetimes: the script stops when its stdin closes, the child is
    // killed on drop, and the script file is deleted on drop.
    _stdin: ChildStdin,
    _child: Child,
    _script: tempfile::TempPath,
}

impl TestPushService {
    /// Starts the service and waits for its address.
    pub async fn start() -> Result<TestPushService, TestPushError> {
        let python = std::env::var("DIALTONE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        TestPushService::start_with(&python).await
    }

    /// [`TestPushService::start`] with the interpreter `python`.
    async fn start_with(python: &str) -> Result<TestPushService, TestPushError> {
        let failed =
            |what: &str, e: &dyn std::fmt::Display| TestPushError::Failed(format!("{what}: {e}"));
        let mut file = tempfile::Builder::new()
            .prefix("push_endpoint")
            .suffix(".py")
            .tempfile()
            .map_err(|e| failed("temp file", &e))?;
        file.write_all(SCRIPT.as_bytes())
            .map_err(|e| failed("temp file", &e))?;
        let script = file.into_temp_path();
        let mut child = Command::new(python)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| TestPushError::NoPython {
                python: python.to_owned(),
                source,
            })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(TestPushError::Failed("no pipes to the script".into()));
        };
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(START_TIMEOUT, lines.next_line())
            .await
            .map_err(|_| TestPushError::Failed("the script did not start in time".into()))?
            .map_err(|e| failed("reading the script", &e))?
            .ok_or_else(|| {
                TestPushError::Failed("the script ended before printing its address".into())
            })?;
        let first: serde_json::Value =
            serde_json::from_str(&first).map_err(|e| failed("the script's first line", &e))?;
        if let Some(package) = first.get("missing_package").and_then(|p| p.as_str()) {
            return Err(TestPushError::MissingPackage(package.to_owned()));
        }
        let base_url = first
            .get("base_url")
            .and_then(|u| u.as_str())
            .ok_or_else(|| TestPushError::Failed(format!("unexpected first line {first}")))?
            .to_owned();
        let addr: SocketAddr = base_url
            .trim_start_matches("http://")
            .parse()
            .map_err(|e| failed("the script's address", &e))?;
        let (sender, received) = mpsc::unbounded_channel();
        let history = Arc::new(Mutex::new(Vec::new()));
        // Ends by itself when the script's stdout closes (the child is killed on drop).
        tokio::spawn(read_pushes(lines, sender, history.clone()));
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| failed("HTTP client", &e))?;
        Ok(TestPushService {
            base_url,
            addr,
            http,
            received: tokio::sync::Mutex::new(received),
            history,
            _stdin: stdin,
            _child: child,
            _script: script,
        })
    }

    /// The service's origin, `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A policy that allows this service and nothing else.
    pub fn policy(&self) -> EndpointPolicy {
        EndpointPolicy::AllowList(vec![self.addr])
    }

    /// A new subscription `name` (a fresh key pair and auth secret), as a browser gets
    /// one; pushes to it must carry valid VAPID from any key.
    pub async fn subscribe(&self, name: &str) -> Result<Subscription, TestPushError> {
        self.control_subscribe(serde_json::json!({ "name": name }))
            .await
    }

    /// A new subscription `name` bound to `key`, as a browser subscribes with an
    /// `applicationServerKey`: pushes signed by another key fail VAPID (403).
    pub async fn subscribe_bound(
        &self,
        name: &str,
        key: &VapidKey,
    ) -> Result<Subscription, TestPushError> {
        self.control_subscribe(serde_json::json!({
            "name": name,
            "application_server_key": key.public_key_base64url(),
        }))
        .await
    }

    /// The next pushes to `name` are answered with `statuses`, in order (429 and 503
    /// with `Retry-After: retry_after` seconds when given); then as usual.
    pub async fn respond(
        &self,
        name: &str,
        statuses: &[u16],
        retry_after: Option<u64>,
    ) -> Result<(), TestPushError> {
        let body =
            serde_json::json!({ "name": name, "statuses": statuses, "retry_after": retry_after });
        self.control("/control/respond", body).await.map(|_| ())
    }

    /// The next push received (in order of arrival), waiting at most `timeout`.
    pub async fn next_push(&self, timeout: Duration) -> Result<ReceivedPush, TestPushError> {
        let mut received = self.received.lock().await;
        match tokio::time::timeout(timeout, received.recv()).await {
            Ok(Some(push)) => Ok(push),
            Ok(None) => Err(TestPushError::Failed("the script has ended".into())),
            Err(_) => Err(TestPushError::Failed(format!("no push within {timeout:?}"))),
        }
    }

    /// Every push to `name` read so far. A push the script has answered may not be
    /// read yet: wait with [`TestPushService::next_push`] first.
    pub fn pushes_of(&self, name: &str) -> Vec<ReceivedPush> {
        let history = self.history.lock().unwrap_or_else(PoisonError::into_inner);
        history.iter().filter(|p| p.name == name).cloned().collect()
    }

    async fn control_subscribe(
        &self,
        body: serde_json::Value,
    ) -> Result<Subscription, TestPushError> {
        let answer = self.control("/control/subscribe", body).await?;
        serde_json::from_value(answer)
            .map_err(|e| TestPushError::Failed(format!("subscribe answer: {e}")))
    }

    async fn control(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, TestPushError> {
        let failed = |e: reqwest::Error| TestPushError::Failed(format!("{path}: {e}"));
        self.http
            .post(format!("{}{path}", self.base_url))
            .json(&body)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(failed)?
            .json()
            .await
            .map_err(failed)
    }
}

/// Reads the script's push lines until it ends.
async fn read_pushes(
    mut lines: Lines<BufReader<ChildStdout>>,
    sender: mpsc::UnboundedSender<ReceivedPush>,
    history: Arc<Mutex<Vec<ReceivedPush>>>,
) {
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(line) = serde_json::from_str::<Line>(&line) else {
            tracing::warn!(%line, "test push service printed an unexpected line");
            continue;
        };
        let payload = match (line.payload, line.payload_base64) {
            (Some(text), _) => Some(text.into_bytes()),
            (None, Some(encoded)) => STANDARD.decode(encoded).ok(),
            (None, None) => None,
        };
        let push = ReceivedPush {
            name: line.name,
            status: line.status,
            ttl: line.ttl,
            urgency: line.urgency,
            topic: line.topic,
            content_encoding: line.content_encoding,
            vapid_ok: line.vapid_ok,
            vapid_error: line.vapid_error,
            payload,
            decrypt_error: line.decrypt_error,
        };
        history
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(push.clone());
        if sender.send(push).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_python_package_is_named_in_the_error() {
        // `python3 -S` runs without site-packages, where http_ece lives.
        let dir = tempfile::tempdir().unwrap();
        let wrapper = dir.path().join("python-without-packages");
        std::fs::write(&wrapper, "#!/bin/sh\nexec python3 -S \"$@\"\n").unwrap();
        let mut permissions = std::fs::metadata(&wrapper).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&wrapper, permissions).unwrap();
        let err = TestPushService::start_with(wrapper.to_str().unwrap())
            .await
            .err()
            .unwrap();
        assert!(
            matches!(&err, TestPushError::MissingPackage(p) if p == "http_ece"),
            "{err}"
        );
        assert!(err.to_string().contains("pip install"), "{err}");
    }

    #[tokio::test]
    async fn a_missing_interpreter_is_named_in_the_error() {
        let err = TestPushService::start_with("/nonexistent/python3")
            .await
            .err()
            .unwrap();
        assert!(matches!(err, TestPushError::NoPython { .. }), "{err}");
    }
}
