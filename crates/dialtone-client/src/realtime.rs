//! The live connection (`GET /v1/ws`, `shared/API.md` "Realtime"): one WebSocket per
//! device that carries presence, messages, receipts and typing as JSON text frames.
//!
//! [`Client::connect_live`] opens it with the client's token and waits for the server's
//! `ready` frame, so a returned connection is registered and what comes next is the
//! catch-up (messages this device has not acknowledged, in seq order per conversation) and
//! then live traffic. With [`LiveOptions::report_caught_up`] the server ends the catch-up
//! with [`ServerFrame::CaughtUp`] ([`LiveConnection::catching_up`] says whether one comes). Frames come
//! typed ([`LiveConnection::recv`]) or raw ([`LiveConnection::recv_value`]); the client
//! sends `ack`, `typing`, `ping` and messages (`send`).

use std::net::{IpAddr, SocketAddr};

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long [`LiveConnection::close`] waits for the server to answer the close.
pub const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

use crate::messaging::{Message, NewMessage};
use crate::{Client, ClientError, ClientResult, api_error};

/// A contact's presence as the caller may see it (in `ready` and `presence` frames).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Presence {
    /// The contact's number, E.164.
    pub phone: String,
    /// `available`, `away`, `busy` or `offline`; a string, as the server may add states.
    pub state: String,
    /// Status text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// When an offline contact was last connected (RFC 3339), if their settings say so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<String>,
}

/// A member's delivered or read mark moved (sent to the message's sender).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Receipt {
    /// The conversation.
    pub conversation_id: String,
    /// The member.
    pub phone: String,
    /// Up to this seq.
    pub seq: u64,
    /// `delivered` or `read`.
    pub status: String,
}

/// A frame from the server. Frames of a type this client does not know (the server may
/// add types), or of a known type in an unexpected shape, arrive as [`ServerFrame::Other`]
/// so that nothing is silently lost.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The first frame: every registered contact the user may see, offline ones included.
    Ready {
        /// Their presence.
        presence: Vec<Presence>,
        /// Whether messages not yet acknowledged follow (then, if asked for,
        /// [`ServerFrame::CaughtUp`] ends them).
        #[serde(default)]
        catching_up: bool,
    },
    /// Every message this device had not acknowledged when it connected was sent (only
    /// with [`LiveOptions::report_caught_up`]).
    CaughtUp,
    /// A contact's visible presence changed.
    Presence(Presence),
    /// A number in the address book became a dialtone user.
    ContactRegistered {
        /// The number.
        phone: String,
        /// The new user.
        user_id: String,
    },
    /// A message in one of the user's conversations (their own from other devices too).
    /// Acknowledge it with [`LiveConnection::ack`] or it comes again on the next connect.
    Message {
        /// The message.
        message: Message,
    },
    /// A message was edited or deleted for everyone.
    MessageUpdated {
        /// The message as it is now.
        message: Message,
    },
    /// A delivered or read mark.
    Receipt(Receipt),
    /// A member is typing.
    Typing {
        /// The conversation.
        conversation_id: String,
        /// Who types.
        phone: String,
    },
    /// The answer to [`LiveConnection::ping`].
    Pong,
    /// The answer to [`LiveConnection::send_message`]: the message is on disk.
    Sent {
        /// The `client_id` of the send this answers.
        client_id: String,
        /// `false` when that `client_id` had been sent before: `message` is the first one.
        created: bool,
        /// The message.
        message: Message,
    },
    /// A frame the client sent could not be handled; the connection stays open.
    Error {
        /// Stable code (`malformed_frame`, `conversation_not_found`, ...; for a failed
        /// send, the code the HTTP API gives the same failure).
        code: String,
        /// Human text.
        message: String,
        /// The `client_id` of a failed send.
        #[serde(default)]
        client_id: Option<String>,
        /// The conversation the failed frame named.
        #[serde(default)]
        conversation_id: Option<String>,
    },
    /// Any other frame, as JSON.
    #[serde(skip_deserializing)]
    Other(Value),
}

/// How to open a live connection. The defaults suit an app; load generators that open
/// tens of thousands of sockets need the knobs.
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    /// Local address to connect from: each source address has its own ephemeral ports,
    /// so more sockets than one address's ports can reach one server.
    pub local_addr: Option<IpAddr>,
    /// Read buffer of the socket in bytes (the WebSocket library's default is 128 KiB,
    /// much for an idle connection).
    pub read_buffer: Option<usize>,
    /// Ask for [`ServerFrame::CaughtUp`] at the end of the catch-up (`?caught_up=true`),
    /// as an app that shows "syncing…" until then does.
    pub report_caught_up: bool,
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An open `/v1/ws` connection, past its `ready` frame.
pub struct LiveConnection {
    socket: Socket,
    ready: Vec<Presence>,
    catching_up: bool,
    /// Set once the server's close frame (or the end of the stream) was read; every later
    /// read answers with it.
    closed: Option<(Option<u16>, String)>,
}

impl std::fmt::Debug for LiveConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveConnection")
            .field("ready", &self.ready)
            .field("catching_up", &self.catching_up)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Opens the live connection with default options; see [`Client::connect_live_with`].
    pub async fn connect_live(&self) -> ClientResult<LiveConnection> {
        self.connect_live_with(&LiveOptions::default()).await
    }

    /// Opens the live connection (`ws://` for an `http://` base, `wss://` for `https://`)
    /// with the client's token in `Authorization`, and reads the `ready` frame. A missing,
    /// bad or revoked token is [`ClientError::Api`] with status 401. There is no timeout
    /// here: wrap the call in one if the server may not answer.
    pub async fn connect_live_with(&self, options: &LiveOptions) -> ClientResult<LiveConnection> {
        let mut url = live_url(&self.base)?;
        if options.report_caught_up {
            url.push_str("?caught_up=true");
        }
        let mut request = url.as_str().into_client_request().map_err(socket_error)?;
        if let Some(token) = &self.token {
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|e| ClientError::Socket(format!("token unusable in a header: {e}")))?;
            request.headers_mut().insert("authorization", value);
        }
        let uri = request.uri();
        let host = uri
            .host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
            .ok_or_else(|| ClientError::Socket(format!("no host in {url}")))?;
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("wss") {
                443
            } else {
                80
            });
        let stream = tcp_connect(&host, port, options.local_addr).await?;
        let config = options
            .read_buffer
            .map(|size| WebSocketConfig::default().read_buffer_size(size));
        let (socket, _) =
            tokio_tungstenite::client_async_tls_with_config(request, stream, config, None)
                .await
                .map_err(handshake_error)?;
        let mut connection = LiveConnection {
            socket,
            ready: Vec::new(),
            catching_up: false,
            closed: None,
        };
        match connection.recv().await? {
            ServerFrame::Ready {
                presence,
                catching_up,
            } => {
                connection.ready = presence;
                connection.catching_up = catching_up;
            }
            other => {
                return Err(ClientError::Decode(format!(
                    "the first frame was not ready: {other:?}"
                )));
            }
        }
        Ok(connection)
    }
}

impl LiveConnection {
    /// The contacts' presence from the `ready` frame.
    pub fn ready(&self) -> &[Presence] {
        &self.ready
    }

    /// Whether `ready` said messages not yet acknowledged follow it.
    pub fn catching_up(&self) -> bool {
        self.catching_up
    }

    /// The next frame, typed. Protocol pings are answered underneath and never show. A
    /// close by the server is [`ClientError::Closed`] with its code. Cancel-safe: a frame
    /// is never lost by dropping this future (as in `tokio::select!`).
    pub async fn recv(&mut self) -> ClientResult<ServerFrame> {
        let text = self.recv_text().await?;
        match serde_json::from_str::<ServerFrame>(text.as_str()) {
            Ok(frame) => Ok(frame),
            Err(_) => serde_json::from_str(text.as_str())
                .map(ServerFrame::Other)
                .map_err(|e| ClientError::Decode(format!("a frame that is not JSON: {e}"))),
        }
    }

    /// The next frame as JSON, for frames or fields this client does not model. Otherwise
    /// as [`LiveConnection::recv`].
    pub async fn recv_value(&mut self) -> ClientResult<Value> {
        let text = self.recv_text().await?;
        serde_json::from_str(text.as_str())
            .map_err(|e| ClientError::Decode(format!("a frame that is not JSON: {e}")))
    }

    /// Acknowledges the messages of a conversation up to `seq` for this device: the sender
    /// gets a `delivered` receipt and they are not sent again on reconnect. Acks of a
    /// burst may be sent for the latest seq only.
    pub async fn ack(&mut self, conversation_id: &str, seq: u64) -> ClientResult<()> {
        self.send_value(&json!({ "type": "ack", "conversation_id": conversation_id, "seq": seq }))
            .await
    }

    /// Sends a message over the live connection instead of an HTTP request. The server
    /// answers with [`ServerFrame::Sent`] once it is on disk, or [`ServerFrame::Error`]
    /// carrying the same `client_id`; a connection's sends are handled in the order sent.
    /// If the connection drops before the answer, send again with the same `client_id`
    /// (here or over HTTP): the first message comes back, never a copy.
    pub async fn send_message(
        &mut self,
        conversation_id: &str,
        message: &NewMessage,
    ) -> ClientResult<()> {
        let mut frame = serde_json::to_value(message)
            .map_err(|e| ClientError::Decode(format!("a message that is not JSON: {e}")))?;
        frame["type"] = json!("send");
        frame["conversation_id"] = json!(conversation_id);
        self.send_value(&frame).await
    }

    /// Tells the other members the user is typing (not stored).
    pub async fn typing(&mut self, conversation_id: &str) -> ClientResult<()> {
        self.send_value(&json!({ "type": "typing", "conversation_id": conversation_id }))
            .await
    }

    /// Asks for a `pong` frame: an application-level check that the connection is alive
    /// end to end.
    pub async fn ping(&mut self) -> ClientResult<()> {
        self.send_value(&json!({ "type": "ping" })).await
    }

    /// Sends any JSON frame (frame types newer than this client).
    pub async fn send_value(&mut self, frame: &Value) -> ClientResult<()> {
        let text = tungstenite::Message::Text(frame.to_string().into());
        self.socket.send(text).await.map_err(socket_error)
    }

    /// Closes the connection politely (the server then records the device as gone at once
    /// rather than after its heartbeat timeout) and waits, at most [`CLOSE_WAIT`], for the
    /// server's answer: the server answers a close after recording the acks sent before
    /// it, so a device that reconnects after `close` returns is not sent them again.
    /// Frames still arriving meanwhile are dropped.
    pub async fn close(mut self) -> ClientResult<()> {
        match self.socket.close(None).await {
            Ok(()) => {}
            Err(tungstenite::Error::ConnectionClosed) => return Ok(()),
            Err(e) => return Err(socket_error(e)),
        }
        let answered = async {
            while let Some(frame) = self.socket.next().await {
                if matches!(frame, Ok(tungstenite::Message::Close(_)) | Err(_)) {
                    break;
                }
            }
        };
        // A server that never answers leaves the close as sent.
        let _ = tokio::time::timeout(CLOSE_WAIT, answered).await;
        Ok(())
    }

    async fn recv_text(&mut self) -> ClientResult<Utf8Bytes> {
        loop {
            if let Some((code, reason)) = &self.closed {
                return Err(ClientError::Closed {
                    code: *code,
                    reason: reason.clone(),
                });
            }
            match self.socket.next().await {
                Some(Ok(tungstenite::Message::Text(text))) => return Ok(text),
                Some(Ok(tungstenite::Message::Close(frame))) => {
                    self.closed = Some(match frame {
                        Some(f) => (Some(u16::from(f.code)), f.reason.to_string()),
                        None => (None, String::new()),
                    });
                    // Sends the close answer the library queued; the close is recorded
                    // first, so cancelling this loses nothing.
                    let _ = self.socket.flush().await;
                }
                // Pings (answered by the library), pongs, binary and raw frames.
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(socket_error(e)),
                None => self.closed = Some((None, String::new())),
            }
        }
    }
}

/// `/v1/ws` on the server at `base`.
fn live_url(base: &str) -> ClientResult<String> {
    if let Some(rest) = base.strip_prefix("https://") {
        Ok(format!("wss://{rest}/v1/ws"))
    } else if let Some(rest) = base.strip_prefix("http://") {
        Ok(format!("ws://{rest}/v1/ws"))
    } else {
        Err(ClientError::Socket(format!(
            "the server address {base:?} is not http:// or https://"
        )))
    }
}

/// A TCP connection to `host:port`, from `local` if given, with Nagle off (frames are
/// small and latency matters).
async fn tcp_connect(host: &str, port: u16, local: Option<IpAddr>) -> ClientResult<TcpStream> {
    let addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| ClientError::Socket(format!("cannot resolve {host}: {e}")))?;
    let mut last = None;
    for addr in addrs {
        if local.is_some_and(|l| l.is_ipv4() != addr.is_ipv4()) {
            continue;
        }
        match connect_one(addr, local).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        ClientError::Socket(format!("no address of {host} to connect to from {local:?}"))
    }))
}

async fn connect_one(addr: SocketAddr, local: Option<IpAddr>) -> ClientResult<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| ClientError::Socket(format!("socket: {e}")))?;
    if let Some(local) = local {
        socket
            .bind(SocketAddr::new(local, 0))
            .map_err(|e| ClientError::Socket(format!("binding {local}: {e}")))?;
    }
    let stream = socket
        .connect(addr)
        .await
        .map_err(|e| ClientError::Socket(format!("connecting to {addr}: {e}")))?;
    stream
        .set_nodelay(true)
        .map_err(|e| ClientError::Socket(format!("TCP_NODELAY: {e}")))?;
    Ok(stream)
}

/// A refused upgrade is an API error with the contract's body (401 for a bad token).
fn handshake_error(e: tungstenite::Error) -> ClientError {
    match e {
        tungstenite::Error::Http(response) => {
            let status = StatusCode::from_u16(response.status().as_u16())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            api_error(
                status,
                response.body().as_deref().unwrap_or(&[]),
                retry_after,
            )
        }
        other => socket_error(other),
    }
}

fn socket_error(e: tungstenite::Error) -> ClientError {
    ClientError::Socket(e.to_string())
}
