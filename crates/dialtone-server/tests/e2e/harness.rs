//! `TestApp`: a running server, its clock, its outbox, and a JSON client.

use std::sync::Arc;

use chrono::Duration;
use dialtone_core::ManualClock;
use dialtone_server::{Config, Running};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub struct TestApp {
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub config: Config,
    pub http: reqwest::Client,
    running: Option<Running>,
    _data_dir: tempfile::TempDir,
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The stable error code of an error reply.
    pub fn code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or("<no error code>")
    }

    pub fn retry_after(&self) -> u64 {
        self.headers
            .get("retry-after")
            .expect("Retry-After header")
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }
}

impl TestApp {
    /// A server on SQLite with default settings.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// A server on SQLite with settings changed by `adjust`.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        config.calls.sfu_bind = "127.0.0.1:0".parse().unwrap();
        adjust(&mut config);
        Self::start(config, dir).await
    }

    /// A server on a fresh PostgreSQL database, or `None` when PostgreSQL tests are off.
    pub async fn spawn_postgres(test: &str) -> Option<TestApp> {
        let url = dialtone_store::testing::fresh_postgres_url(test)
            .await
            .unwrap()?;
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        config.database.url = Some(url);
        config.calls.sfu_bind = "127.0.0.1:0".parse().unwrap();
        Some(Self::start(config, dir).await)
    }

    async fn start(config: Config, dir: tempfile::TempDir) -> TestApp {
        let clock = Arc::new(ManualClock::new());
        let running = Running::start_with_clock(config.clone(), clock.clone())
            .await
            .unwrap();
        TestApp {
            base: format!("http://{}", running.addr),
            clock,
            config,
            http: reqwest::Client::new(),
            running: Some(running),
            _data_dir: dir,
        }
    }

    /// `nodes` servers forming one deployment: a fresh PostgreSQL database, a NATS subject
    /// of their own, one server key; `None` when PostgreSQL tests are off.
    pub async fn spawn_deployment(test: &str, nodes: usize) -> Option<Vec<TestApp>> {
        let url = dialtone_store::testing::fresh_postgres_url(test)
            .await
            .unwrap()?;
        let nats = std::env::var("DIALTONE_TEST_NATS_URL")
            .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
        let subject = format!("dialtone.test.{}", uuid::Uuid::now_v7().simple());
        let key = format!("{:064x}", uuid::Uuid::now_v7().as_u128());
        let mut apps = Vec::new();
        for _ in 0..nodes {
            let dir = tempfile::tempdir().unwrap();
            let mut config = Config {
                listen: "127.0.0.1:0".parse().unwrap(),
                data_dir: dir.path().join("data"),
                ..Config::default()
            };
            config.database.url = Some(url.clone());
            config.bus.url = Some(nats.clone());
            config.bus.subject = subject.clone();
            config.secrets.key = Some(key.clone());
            config.calls.sfu_bind = "127.0.0.1:0".parse().unwrap();
            apps.push(Self::start(config, dir).await);
        }
        Some(apps)
    }

    pub async fn stop(mut self) {
        self.stop_keeping_data().await;
    }

    /// Stops the server; its data stays until the `TestApp` is dropped (to read it).
    pub async fn stop_keeping_data(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.unwrap();
        }
    }

    /// Stops the server and starts it again on the same data (a new port).
    pub async fn restart(&mut self) {
        self.stop_keeping_data().await;
        let running = Running::start_with_clock(self.config.clone(), self.clock.clone())
            .await
            .unwrap();
        self.base = format!("http://{}", running.addr);
        self.running = Some(running);
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use dialtone_core::Clock;
        self.clock.now()
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Self::reply(request.send().await.unwrap()).await
    }

    pub async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "non-JSON body for {status}: {e}: {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, None, Some(body))
            .await
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Reply {
        self.send(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    /// The id of the direct conversation of `token`'s user with `peer` (made if new).
    pub async fn direct_id(&self, token: &str, peer: &str) -> String {
        let r = self
            .send(
                reqwest::Method::POST,
                "/v1/conversations",
                Some(token),
                Some(serde_json::json!({ "kind": "direct", "peer": peer })),
            )
            .await;
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// The seqs of a conversation's history as `token`'s user sees it (up to 200).
    pub async fn history_seqs(&self, conv: &str, token: &str) -> Vec<u64> {
        let h = self
            .get_auth(
                &format!("/v1/conversations/{conv}/messages?limit=200"),
                token,
            )
            .await;
        h.body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect()
    }

    /// All SMS the development outbox holds, as (to, body).
    pub fn outbox(&self) -> Vec<(String, String)> {
        dialtone_sms::read_outbox(&self.config.outbox_path())
            .unwrap()
            .into_iter()
            .map(|sms| (sms.to, sms.body))
            .collect()
    }

    /// The code of the last SMS sent to `phone`, read from its `@domain #code` line.
    pub fn last_code(&self, phone: &str) -> String {
        dialtone_sms::last_code(&self.config.outbox_path(), phone)
            .unwrap()
            .unwrap_or_else(|| panic!("no SMS to {phone}"))
    }

    /// Starts a verification; the verification id.
    pub async fn start_verification(&self, phone: &str) -> String {
        let r = self
            .post("/v1/verifications", json!({ "phone": phone }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        r.body["id"].as_str().unwrap().to_owned()
    }

    pub async fn submit(&self, id: &str, body: Value) -> Reply {
        self.post(&format!("/v1/verifications/{id}/code"), body)
            .await
    }

    /// Verifies `phone` by code (registering it if new); the token.
    pub async fn code_login(&self, phone: &str, device: &str) -> String {
        let id = self.start_verification(phone).await;
        let code = self.last_code(phone);
        let r = self
            .submit(&id, json!({ "code": code, "device_name": device }))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        r.body["token"].as_str().unwrap().to_owned()
    }

    pub async fn set_password(&self, token: &str, body: Value) -> Reply {
        self.send(
            reqwest::Method::PUT,
            "/v1/account/password",
            Some(token),
            Some(body),
        )
        .await
    }
}

/// A WebSocket client of `/v1/ws`.
pub struct Ws {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

/// What the next read of a socket gave.
#[derive(Debug)]
pub enum WsEvent {
    Frame(Value),
    Closed(Option<u16>),
}

impl TestApp {
    /// Opens `/v1/ws?<query>` with a bearer header; panics unless the upgrade succeeds.
    pub async fn ws_query(&self, token: &str, query: &str) -> Ws {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("{}/v1/ws?{query}", self.base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        Ws { stream }
    }

    /// Opens `/v1/ws` with a bearer header; panics unless the upgrade succeeds.
    pub async fn ws(&self, token: &str) -> Ws {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("{}/v1/ws", self.base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        Ws { stream }
    }

    /// Opens `/v1/ws` over a socket with a tiny receive buffer: a client that falls
    /// behind as soon as it stops reading.
    pub async fn ws_small_buffer(&self, token: &str) -> Ws {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("{}/v1/ws", self.base.replacen("http", "ws", 1));
        let mut request = url.clone().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let addr: std::net::SocketAddr = self.base.trim_start_matches("http://").parse().unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let tcp = socket.connect(addr).await.unwrap();
        let (stream, _) =
            tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(tcp))
                .await
                .unwrap();
        Ws { stream }
    }

    /// The HTTP status of a refused upgrade to `/v1/ws` with `query`.
    pub async fn ws_refused(&self, query: &str) -> u16 {
        let url = format!("{}/v1/ws{query}", self.base.replacen("http", "ws", 1));
        match tokio_tungstenite::connect_async(url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                response.status().as_u16()
            }
            other => panic!("expected a refused upgrade, got {:?}", other.map(|_| ())),
        }
    }

    /// Uploads an address book (replace); the reply.
    pub async fn put_contacts(&self, token: &str, body: Value) -> Reply {
        self.send(
            reqwest::Method::PUT,
            "/v1/contacts",
            Some(token),
            Some(body),
        )
        .await
    }
}

impl Ws {
    /// The next frame or close, within 5 s.
    pub async fn next(&mut self) -> WsEvent {
        use futures::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let got = tokio::time::timeout(std::time::Duration::from_secs(5), self.stream.next())
                .await
                .expect("no frame within 5 s");
            match got {
                Some(Ok(Message::Text(text))) => {
                    return WsEvent::Frame(serde_json::from_str(&text).unwrap());
                }
                Some(Ok(Message::Close(frame))) => {
                    return WsEvent::Closed(frame.map(|f| u16::from(f.code)));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return WsEvent::Closed(None),
            }
        }
    }

    /// The next frame; panics on close.
    pub async fn frame(&mut self) -> Value {
        match self.next().await {
            WsEvent::Frame(v) => v,
            WsEvent::Closed(code) => panic!("closed ({code:?}) while a frame was expected"),
        }
    }

    /// The next `presence` frame (skipping nothing: any other frame fails the test).
    pub async fn presence(&mut self) -> Value {
        let f = self.frame().await;
        assert_eq!(f["type"], "presence", "{f}");
        f
    }

    pub async fn send_text(&mut self, text: &str) {
        use futures::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::Text(text.into()))
            .await
            .unwrap();
    }

    /// Sends several frames in one write, so the server reads them together (a burst).
    pub async fn send_texts(&mut self, texts: &[String]) {
        use futures::SinkExt;
        for text in texts {
            self.stream
                .feed(tokio_tungstenite::tungstenite::Message::Text(
                    text.as_str().into(),
                ))
                .await
                .unwrap();
        }
        self.stream.flush().await.unwrap();
    }

    pub async fn close(mut self) {
        use futures::SinkExt;
        let _ = self
            .stream
            .send(tokio_tungstenite::tungstenite::Message::Close(None))
            .await;
        // Drain until the server closes its side.
        while let Ok(Some(Ok(_))) = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            futures::StreamExt::next(&mut self.stream),
        )
        .await
        {}
    }
}
