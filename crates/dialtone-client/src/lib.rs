//! A client of dialtone's public HTTP API (`shared/API.md`). It knows nothing of the
//! server's insides: everything goes over HTTP and the `/v1/ws` WebSocket, as for any
//! third-party app.
//!
//! Account calls are here; conversations, messages and attachments in [`messaging`]; the
//! live connection in [`realtime`].

pub mod messaging;
pub mod realtime;

pub use messaging::{
    Attachment, Conversation, Download, HistoryPage, Message, MessageKind, NewMessage, Posted,
};
pub use realtime::{LiveConnection, LiveOptions, Presence, Receipt, ServerFrame};

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error of the contract's shape.
    #[error("{message} ({status}, {code})")]
    Api {
        /// HTTP status.
        status: u16,
        /// Stable error code.
        code: String,
        /// Human text.
        message: String,
        /// Seconds to wait, on 429.
        retry_after: Option<u64>,
    },
    /// The server could not be reached.
    #[error("cannot reach the server: {0}")]
    Http(#[from] reqwest::Error),
    /// The answer was not what the contract says.
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
    /// The live connection (`/v1/ws`) failed below the contract: TCP, TLS or the
    /// WebSocket protocol. Reconnecting is the remedy, as for a closed connection.
    #[error("live connection failed: {0}")]
    Socket(String),
    /// The server closed the live connection. The code says why (4001: device logged out,
    /// 4008: too slow, reconnect to catch up; 1001: server stopping); none when the
    /// connection ended without a close frame.
    #[error("live connection closed ({code:?}: {reason})")]
    Closed {
        /// WebSocket close code, if a close frame came.
        code: Option<u16>,
        /// The server's reason text.
        reason: String,
    },
}

impl ClientError {
    /// The stable error code, for API errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Shorthand for client results.
pub type ClientResult<T> = Result<T, ClientError>;

/// A started verification.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Verification {
    /// Id to submit the code to.
    pub id: String,
    /// E.164 number.
    pub phone: String,
    /// Code expiry.
    pub expires_at: String,
    /// Earliest resend.
    pub resend_after: String,
}

/// A login, by code or by password.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Login {
    /// Bearer token.
    pub token: String,
    /// The user.
    pub user_id: String,
    /// E.164 number.
    pub phone: String,
    /// Set by code logins: whether the account was just created.
    #[serde(default)]
    pub new_account: bool,
    /// Set by code logins: whether the account has a password.
    #[serde(default)]
    pub password_set: bool,
}

/// The account.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Account {
    /// The user.
    pub user_id: String,
    /// E.164 number.
    pub phone: String,
    /// Region for national numbers.
    pub region: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Whether a password is set.
    pub password_set: bool,
    /// Whether registration lock is on.
    pub registration_lock: bool,
}

/// A logged-in device.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Device {
    /// Device id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Login time.
    pub created_at: String,
    /// Last activity.
    pub last_seen_at: String,
    /// Whether this is the asking device.
    pub current: bool,
}

#[derive(Deserialize)]
struct Devices {
    devices: Vec<Device>,
}

/// One entry of an address book sent to the server: a name and its numbers, in any
/// dialable form (E.164 is safest).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ContactInput {
    /// The name as the user knows the contact.
    pub name: String,
    /// The numbers.
    pub phones: Vec<String>,
}

/// A connection to one dialtone server, optionally logged in. Cloning is cheap (the HTTP
/// connection pool is shared), so one client per user is the expected use.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl Client {
    /// A client of the server at `base` (such as `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Client {
        Client::from_http(base, reqwest::Client::new())
    }

    /// A client of the server at `base` over a given HTTP client: load generators share
    /// one tuned connection pool among thousands of users' clients.
    pub fn from_http(base: &str, http: reqwest::Client) -> Client {
        Client {
            base: base.trim_end_matches('/').to_owned(),
            http,
            token: None,
        }
    }

    /// The server's base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The same client, authenticated with `token`.
    pub fn with_token(mut self, token: impl Into<String>) -> Client {
        self.token = Some(token.into());
        self
    }

    /// The bearer token in use.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Asks for an SMS code.
    pub async fn start_verification(
        &self,
        phone: &str,
        region: Option<&str>,
    ) -> ClientResult<Verification> {
        self.call(
            Method::POST,
            "/v1/verifications",
            Some(json!({ "phone": phone, "region": region })),
        )
        .await
    }

    /// Asks for a fresh code.
    pub async fn resend(&self, verification_id: &str) -> ClientResult<Value> {
        let path = format!("/v1/verifications/{}/resend", segment(verification_id));
        self.call(Method::POST, &path, None).await
    }

    /// Submits the code; logs in (and registers a new number).
    pub async fn submit_code(
        &self,
        verification_id: &str,
        code: &str,
        device_name: Option<&str>,
        password: Option<&str>,
    ) -> ClientResult<Login> {
        let path = format!("/v1/verifications/{}/code", segment(verification_id));
        let body = json!({ "code": code, "device_name": device_name, "password": password });
        self.call(Method::POST, &path, Some(body)).await
    }

    /// Logs in with number and password.
    pub async fn login(
        &self,
        phone: &str,
        region: Option<&str>,
        password: &str,
        device_name: Option<&str>,
    ) -> ClientResult<Login> {
        let body = json!({ "phone": phone, "region": region, "password": password, "device_name": device_name });
        self.call(Method::POST, "/v1/sessions", Some(body)).await
    }

    /// Sets or changes the password.
    pub async fn set_password(
        &self,
        password: &str,
        current_password: Option<&str>,
    ) -> ClientResult<()> {
        let body = json!({ "password": password, "current_password": current_password });
        self.call_empty(Method::PUT, "/v1/account/password", Some(body))
            .await
    }

    /// The account.
    pub async fn account(&self) -> ClientResult<Account> {
        self.call(Method::GET, "/v1/account", None).await
    }

    /// The logged-in devices.
    pub async fn devices(&self) -> ClientResult<Vec<Device>> {
        let list: Devices = self.call(Method::GET, "/v1/devices", None).await?;
        Ok(list.devices)
    }

    /// Logs a device out.
    pub async fn revoke_device(&self, device_id: &str) -> ClientResult<()> {
        let path = format!("/v1/devices/{}", segment(device_id));
        self.call_empty(Method::DELETE, &path, None).await
    }

    /// Merges contacts into the address book (`POST /v1/contacts`): at most 50,000 entries
    /// and 8 MiB per call. The answer is `{contacts: [Contact], rejected: [{input, reason}]}`.
    pub async fn merge_contacts(&self, contacts: &[ContactInput]) -> ClientResult<Value> {
        self.call(
            Method::POST,
            "/v1/contacts",
            Some(json!({ "contacts": contacts })),
        )
        .await
    }

    /// Logs this device out.
    pub async fn logout(&self) -> ClientResult<()> {
        self.call_empty(Method::DELETE, "/v1/sessions/current", None)
            .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> ClientResult<T> {
        let answer = self.send(method, path, body).await?;
        answer.decode()
    }

    async fn call_empty(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> ClientResult<()> {
        self.send(method, path, body).await.map(|_| ())
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> ClientResult<Answer> {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        execute(request).await
    }

    /// A request to `path` (from `/v1/...`), with the bearer token if there is one.
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.http.request(method, format!("{}{}", self.base, path));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }
}

/// A successful answer, read whole.
struct Answer {
    status: StatusCode,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

impl Answer {
    fn decode<T: DeserializeOwned>(&self) -> ClientResult<T> {
        serde_json::from_slice(&self.bytes).map_err(|e| ClientError::Decode(e.to_string()))
    }
}

/// Sends a request and reads the answer; an error status becomes [`ClientError::Api`].
async fn execute(request: RequestBuilder) -> ClientResult<Answer> {
    let response = request.send().await?;
    let status = response.status();
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = header(reqwest::header::RETRY_AFTER).and_then(|v| v.parse().ok());
    let content_type = header(reqwest::header::CONTENT_TYPE);
    let bytes = response.bytes().await?.to_vec();
    if status.is_success() {
        return Ok(Answer {
            status,
            content_type,
            bytes,
        });
    }
    Err(api_error(status, &bytes, retry_after))
}

fn api_error(status: StatusCode, bytes: &[u8], retry_after: Option<u64>) -> ClientError {
    let body: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let text = |key: &str| body["error"][key].as_str().map(str::to_owned);
    ClientError::Api {
        status: status.as_u16(),
        code: text("code").unwrap_or_else(|| "unknown".to_owned()),
        message: text("message").unwrap_or_else(|| status.to_string()),
        retry_after,
    }
}

/// `value` as one path segment: ids and phone numbers are opaque, so anything outside
/// the unreserved characters is percent-encoded rather than trusted to be URL-safe.
fn segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
