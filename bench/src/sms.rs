//! A mock of the Twilio-shaped SMS provider the server's HTTP gateway talks to. It keeps
//! the latest code sent to each number and wakes whoever waits for one, so the load
//! generator gets codes without reading the outbox file.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use tokio::sync::{Mutex, Notify};
use tokio::task::JoinHandle;

/// The provider's form fields.
#[derive(Deserialize)]
struct Message {
    #[serde(rename = "To")]
    to: String,
    #[serde(rename = "Body")]
    body: String,
}

#[derive(Default)]
struct Inbox {
    codes: Mutex<HashMap<String, String>>,
    arrived: Notify,
    received: std::sync::atomic::AtomicU64,
}

/// The running mock provider.
pub struct MockProvider {
    /// Where it listens.
    pub addr: SocketAddr,
    inbox: Arc<Inbox>,
    serve: JoinHandle<std::io::Result<()>>,
}

impl MockProvider {
    /// Serves `POST /2010-04-01/Accounts/{account}/Messages.json` on 127.0.0.1, any port.
    pub async fn start() -> anyhow::Result<MockProvider> {
        let inbox = Arc::new(Inbox::default());
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{account}/Messages.json",
                post(receive),
            )
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .context("mock sms provider: bind")?;
        let addr = listener.local_addr()?;
        let serve = tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(MockProvider { addr, inbox, serve })
    }

    /// The base URL to configure as `sms.http.base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Messages received so far.
    pub fn received(&self) -> u64 {
        self.inbox
            .received
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Takes the latest code sent to `phone` (E.164), waiting up to `wait` for it.
    pub async fn take_code(&self, phone: &str, wait: Duration) -> anyhow::Result<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let arrived = self.inbox.arrived.notified();
            tokio::pin!(arrived);
            // Registered before looking, so a code stored in between still wakes us.
            arrived.as_mut().enable();
            if let Some(code) = self.inbox.codes.lock().await.remove(phone) {
                return Ok(code);
            }
            tokio::time::timeout_at(deadline, arrived)
                .await
                .map_err(|_| anyhow!("no SMS to {phone} within {wait:?}"))?;
        }
    }

    /// Stops serving.
    pub fn stop(self) {
        self.serve.abort();
    }
}

async fn receive(
    State(inbox): State<Arc<Inbox>>,
    Form(message): Form<Message>,
) -> (StatusCode, Json<serde_json::Value>) {
    inbox
        .received
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let Some(code) = dialtone_sms::code_in(&message.body).map(str::to_owned) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "message": "no code in body" })),
        );
    };
    inbox.codes.lock().await.insert(message.to.clone(), code);
    inbox.arrived.notify_waiters();
    (
        StatusCode::CREATED,
        Json(serde_json::json!({ "sid": "SMbench", "to": message.to, "status": "queued" })),
    )
}
