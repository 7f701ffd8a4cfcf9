//! `GET /v1/ws`: the live connection. JSON text frames with a `type`. The server sends
//! `ready` first, then `presence` (and later `message`, `receipt`, `typing`) frames; the
//! client may send `ping`, `ack`, `typing` and `send`. A frame that cannot be handled gets
//! an `error` frame back (with the HTTP API's code for the same failure) and the
//! connection stays open. Heartbeats: the server pings every 20 s and closes a connection
//! silent for 60 s (configurable: `connections`).
//!
//! `send` `{conversation_id, client_id, kind, text?, attachment_id?, reply_to?}` is
//! `POST /v1/conversations/{id}/messages` without a request per message: once the message
//! is on disk the server answers `sent` `{client_id, created, message}`, or `error` with
//! the `client_id`. A connection's sends are handled one after the other, in the order
//! sent, so a device's messages keep their order; the `message` frame of one's own
//! message may come before its `sent`.
//!
//! Messages reach each device in seq order per conversation, live and in catch-up alike,
//! and catch-up is complete: every message not acknowledged, page by page (`ready` says
//! `catching_up` when any follow), then, for a client that connected with
//! `?caught_up=true`, a `caught_up` frame (`ws_delivery`). An ack counts only up to what
//! the connection was sent.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use dialtone_protocol::{ClientFrame, ConversationId, SendFrame, ServerFrame};
use dialtone_realtime::{CloseReason, Connected, Connection, Hub};
use dialtone_service::calls::CallService;
use dialtone_service::messaging::{MessagingService, OutgoingMessage, message_of};

use super::ws_delivery::Delivery;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::time::Instant;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorBody;
use crate::error::ErrorCode;
use crate::{ApiError, AppState};

/// Read buffer of a connection: allocated (and zeroed) for every connection, idle ones
/// included, so it is small (the library's default is 128 KiB; 8 KiB here was nearly half
/// of an idle connection's memory, bench/RESULTS.md "Idle connections"). It is also the
/// most read from the socket at once: client frames are small (a `send`, an `ack`), and
/// a larger one (up to `MAX_CLIENT_FRAME`) grows the buffer to its size and takes a read
/// per KiB.
const READ_BUFFER: usize = 1024;
/// Frames written are gathered up to this before they go to the socket (a threshold, not
/// an allocation: the write buffer grows to what is written).
const WRITE_BUFFER: usize = 8 * 1024;
/// Largest frame a client may send: a `send` of the longest text (64 KiB) even if every
/// byte of it is written as a 6-byte JSON escape, with the frame's other fields.
const MAX_CLIENT_FRAME: usize = 400 * 1024;

/// How long an ack may wait to be merged with later acks of the same conversation. A
/// client acks every message it gets; under a burst (a busy group) this turns many acks
/// into one store write and at most one receipt per conversation.
const ACK_COALESCE: Duration = Duration::from_millis(50);

/// Sends a connection may have waiting; past it the connection stops reading frames until
/// one is done (the client feels it as TCP back-pressure), while it goes on writing.
const SEND_QUEUE: usize = 64;

/// How long a closing connection waits for the client's close frame.
const CLOSING_HANDSHAKE: Duration = Duration::from_secs(5);

/// Client frames read in one turn of the loop at most (the rest wait for the next turn).
const READS_PER_TURN: usize = 1024;

/// Close code: the device was logged out.
const CLOSE_REVOKED: u16 = 4001;
/// Close code: the client did not keep up; reconnect to catch up.
const CLOSE_SLOW: u16 = 4008;
/// Close code: the server is going away.
const CLOSE_GOING_AWAY: u16 = 1001;

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
    /// `true`: end catch-up with a `caught_up` frame (clients that show "syncing").
    #[serde(default)]
    caught_up: bool,
}

/// The live-connection route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ws))
}

/// Upgrades to a WebSocket. The token comes in `Authorization: Bearer` or `?token=`; a
/// missing, bad or revoked token gets 401 before the upgrade.
#[utoipa::path(get, path = "/v1/ws", tag = "realtime",
    params(
        ("token" = Option<String>, Query, description = "Bearer token, for clients that cannot set headers"),
        ("caught_up" = Option<bool>, Query, description = "true: when `ready` says `catching_up`, a `caught_up` frame follows the last message of catch-up"),
    ),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 401, body = ErrorBody),
    ))]
async fn ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let token = crate::extract::bearer_token(&headers)
        .or(query.token)
        .filter(|t| !t.is_empty())
        .ok_or_else(ApiError::unauthorized)?;
    let auth = state.accounts.authenticate(&token).await?;
    let live = Live {
        hub: state.hub.clone(),
        messaging: state.messaging.clone(),
        calls: state.calls.clone(),
    };
    let report_caught_up = query.caught_up;
    Ok(upgrade
        .max_message_size(MAX_CLIENT_FRAME)
        // Small buffers: idle connections are most of a server's connections.
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |mut socket| async move {
            let hub = &live.hub;
            // Stopping the server waits for this connection to finish closing.
            let _running = hub.track();
            // Connecting and disconnecting run once each, on the heap: their futures are
            // the largest this task awaits, and awaited inline they would size the task
            // (which an idle connection keeps for its whole life) to them.
            match Box::pin(hub.connect(auth.user, auth.session.id)).await {
                Ok(connected) => {
                    let conn = connected.conn.clone();
                    live.calls.device_connected(&conn.session_id);
                    serve(&mut socket, &live, connected, report_caught_up).await;
                    // Recorded before the socket closes: a client that saw its connection
                    // end may rely on being offline (last seen set) already.
                    if let Err(e) = Box::pin(hub.disconnect(&conn)).await {
                        tracing::warn!(error = %e.report(), "disconnect not recorded");
                    }
                    live.calls.device_disconnected(&conn.user, &conn.session_id);
                    // Sends the reply to a client's close frame, then closes.
                    let _ = futures::SinkExt::close(&mut socket).await;
                }
                Err(e) => tracing::warn!(error = %e.report(), "connection not registered"),
            }
        }))
}

/// What a connection's loop works with: the hub for what it is sent, the messaging service
/// for what the client does (sends, acks, typing), the call service for its calls.
struct Live {
    hub: Arc<Hub>,
    messaging: Arc<MessagingService>,
    calls: Arc<CallService>,
}

async fn serve(socket: &mut WebSocket, live: &Live, connected: Connected, report_caught_up: bool) {
    let hub = &live.hub;
    let Connected {
        conn,
        items: mut frames,
        ready,
        plan,
    } = connected;
    let conn = &conn;
    // `ready` first, then what this device missed, a page at a time between live frames,
    // in seq order per conversation (`ws_delivery`).
    if send_text(socket, ready).await.is_err() {
        return;
    }
    // A call ringing for this user rings on this device too.
    match Box::pin(live.calls.ringing_for(&conn.user)).await {
        Ok(frames) => {
            for frame in frames {
                if send(socket, &frame).await.is_err() {
                    return;
                }
            }
        }
        Err(e) => tracing::warn!(error = %e.report(), "ringing calls not read"),
    }
    // And hears who is in the group calls going on in its groups.
    if let Err(e) = Box::pin(live.calls.conferences_for(&conn.user, &conn.session_id)).await {
        tracing::warn!(error = %e.report(), "group calls not read");
    }
    let mut delivery = Delivery::new(plan, report_caught_up);
    let heartbeat = hub.heartbeat();
    let dead_after = Duration::from_secs(heartbeat.dead_after_secs.max(1));
    let mut ping = tokio::time::interval(Duration::from_secs(heartbeat.ping_secs.max(1)));
    let mut last_heard = Instant::now();
    let mut acks = PendingAcks::default();
    let mut sends = Sends::default();
    let mut calls = CallBudget::new();
    'serve: loop {
        tokio::select! {
            () = tokio::time::sleep_until(acks.due.unwrap_or_else(Instant::now)), if acks.due.is_some() => {
                flush_acks(live, conn, &mut acks);
            }
            item = frames.recv() => {
                let Some(item) = item else { break };
                if delivery.write_queued(socket, hub, conn, item, &mut frames).await.is_err() {
                    break;
                }
            }
            // Gaps whose missing events did not come in time: read from the database.
            () = tokio::time::sleep_until(delivery.gap_due().unwrap_or_else(Instant::now)), if delivery.gap_due().is_some() => {
                if delivery.read_gaps(socket, hub, conn).await.is_err() {
                    break;
                }
            }
            // Catch-up (and rechecks): a page at a time, taking turns with the rest.
            () = std::future::ready(()), if delivery.has_work() => {
                if delivery.work_page(socket, hub, conn).await.is_err() {
                    break;
                }
            }
            // While the connection's sends are all waiting, its frames are not read (the
            // client feels TCP back-pressure) but its queue goes on being written: each
            // send done queues an answer, which wakes this loop to read again.
            incoming = socket.recv(), if sends.has_room() => {
                // Everything the client has sent already is read now, not one frame per turn:
                // a client that acks each message as it reads (and waits on its writes) would
                // otherwise fill both TCP buffers with acks during a long catch-up, stop
                // reading, and leave this loop blocked on its own writes.
                let mut next = Some(incoming);
                let mut read = 0;
                while let Some(incoming) = next.take() {
                    let message = match incoming {
                        Some(Ok(message)) => message,
                        Some(Err(e)) => {
                            // Say why before going: a frame over the limit is 1009, a
                            // malformed one 1002 or 1007 (not the 1005 of a silent drop).
                            let (code, why) = read_failure(e);
                            close(socket, code, why).await;
                            break 'serve;
                        }
                        None => break 'serve,
                    };
                    last_heard = Instant::now();
                    match message {
                        Message::Text(text) => {
                            if let Some(reply) =
                                client_frame(live, conn, &delivery, &mut acks, &mut sends, &mut calls, text.as_str()).await
                                && send(socket, &reply).await.is_err()
                            {
                                break 'serve;
                            }
                        }
                        Message::Binary(_) => {
                            let reply = ServerFrame::error(ErrorCode::BinaryFrame, "frames are JSON text");
                            if send(socket, &reply).await.is_err() {
                                break 'serve;
                            }
                        }
                        Message::Close(_) => break 'serve,
                        Message::Ping(_) | Message::Pong(_) => {}
                    }
                    read += 1;
                    if read < READS_PER_TURN && sends.has_room() {
                        next = futures::FutureExt::now_or_never(socket.recv());
                    }
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > dead_after {
                    break;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
            reason = conn.closed() => {
                let (code, why) = match reason {
                    CloseReason::Revoked => (CLOSE_REVOKED, "device logged out"),
                    CloseReason::SlowConsumer => (CLOSE_SLOW, "too slow; reconnect to catch up"),
                    CloseReason::ShuttingDown => (CLOSE_GOING_AWAY, "server stopping"),
                };
                close(socket, code, why).await;
                break;
            }
        }
    }
    // What the client acknowledged before it left still counts (no one to tell of errors),
    // and is recorded before the socket closes: a device that reconnects at once is not
    // sent again what it acknowledged.
    Box::pin(record_acks(&live.messaging, conn, &mut acks)).await;
}

/// Sends the server's close frame with its code and reason, then lets the client answer.
async fn close(socket: &mut WebSocket, code: u16, why: &'static str) {
    if socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: why.into(),
        })))
        .await
        .is_ok()
    {
        closing_handshake(socket).await;
    }
}

/// The close code and reason for a frame the socket could not read (RFC 6455 7.4.1).
fn read_failure(e: axum::Error) -> (u16, &'static str) {
    use tungstenite::error::{CapacityError, Error as WsError};
    match e.into_inner().downcast::<WsError>().map(|e| *e) {
        Ok(WsError::Capacity(CapacityError::MessageTooLong { .. })) => {
            (1009, "frame over the size limit (400 KiB)")
        }
        Ok(WsError::Capacity(_)) => (1009, "frame too large"),
        Ok(WsError::Utf8(_)) => (1007, "text frame is not UTF-8"),
        _ => (1002, "malformed frame"),
    }
}

/// After the server's close frame: lets the client read what is still on its way and
/// answer with its own close before the TCP connection goes (closing it at once, with the
/// client's frames unread, resets it and loses the close code).
async fn closing_handshake(socket: &mut WebSocket) {
    let _ = tokio::time::timeout(CLOSING_HANDSHAKE, async {
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// Acks received but not yet recorded: the highest seq per conversation, and when they
/// are due; and the recording of those flushed before, which may still be running.
#[derive(Default)]
struct PendingAcks {
    by_conversation: HashMap<ConversationId, u64>,
    due: Option<Instant>,
    recording: Option<tokio::task::JoinHandle<()>>,
}

impl PendingAcks {
    fn add(&mut self, conversation_id: ConversationId, seq: u64) {
        let highest = self.by_conversation.entry(conversation_id).or_insert(seq);
        *highest = (*highest).max(seq);
        self.due
            .get_or_insert_with(|| Instant::now() + ACK_COALESCE);
    }
}

/// Records the pending acks in a task of their own, so the socket goes on being written
/// while they wait for their commit (after the acks flushed before them); an ack of an
/// unknown conversation gets its error frame through the connection's queue.
fn flush_acks(live: &Live, conn: &Arc<Connection>, acks: &mut PendingAcks) {
    let mut pending = PendingAcks {
        by_conversation: std::mem::take(&mut acks.by_conversation),
        ..PendingAcks::default()
    };
    acks.due = None;
    let before = acks.recording.take();
    let (messaging, conn) = (live.messaging.clone(), conn.clone());
    acks.recording = Some(live.hub.spawn(async move {
        if let Some(before) = before {
            let _ = before.await;
        }
        for reply in record_acks(&messaging, &conn, &mut pending).await {
            conn.send(reply);
        }
    }));
}

/// Records and clears the pending acks, once those flushed before are recorded; the error
/// frames of those that failed.
async fn record_acks(
    messaging: &MessagingService,
    conn: &Connection,
    acks: &mut PendingAcks,
) -> Vec<ServerFrame> {
    acks.due = None;
    if let Some(before) = acks.recording.take() {
        let _ = before.await;
    }
    let mut replies = Vec::new();
    for (conversation_id, seq) in std::mem::take(&mut acks.by_conversation) {
        replies.extend(outcome(
            messaging
                .ack(&conn.user, &conn.session_id, &conversation_id, seq)
                .await,
            &conversation_id,
        ));
    }
    replies
}

/// The error frame for a failed ack or typing frame, if it failed.
fn outcome(
    done: Result<(), dialtone_service::ServiceError>,
    conversation_id: &str,
) -> Option<ServerFrame> {
    done.err().map(|e| failure(e, None, conversation_id))
}

/// The error frame of a frame that failed in the service: the code and text the HTTP API
/// gives the same failure.
fn failure(
    e: dialtone_service::ServiceError,
    client_id: Option<String>,
    conversation_id: &str,
) -> ServerFrame {
    let error = ApiError::from(e);
    ServerFrame::Error {
        code: error.code(),
        message: error.message().to_owned(),
        client_id,
        conversation_id: Some(conversation_id.to_owned()),
        call_id: None,
    }
}

async fn send(socket: &mut WebSocket, frame: &ServerFrame) -> Result<(), axum::Error> {
    send_text(socket, dialtone_realtime::encode(frame)).await
}

/// Writes a frame the hub already turned into JSON text (shared by every connection it
/// goes to: no copy).
async fn send_text(socket: &mut WebSocket, text: Bytes) -> Result<(), axum::Error> {
    let text = Utf8Bytes::try_from(text).map_err(axum::Error::new)?;
    socket.send(Message::Text(text)).await
}

/// The connection's sends waiting to be handled, in order, by a task of their own (made at
/// the first send: most connections never send and keep no task).
#[derive(Default)]
struct Sends {
    queue: Option<mpsc::Sender<SendFrame>>,
}

impl Sends {
    /// Whether another send may be queued without waiting.
    fn has_room(&self) -> bool {
        self.queue.as_ref().is_none_or(|q| q.capacity() > 0)
    }

    /// Queues a send; waits while `SEND_QUEUE` sends are waiting already (the loop reads
    /// frames only when there is room, so it does not wait in practice).
    async fn push(&mut self, live: &Live, conn: &Arc<Connection>, frame: SendFrame) {
        let queue = self
            .queue
            .get_or_insert_with(|| start_sending(live, conn.clone()));
        // The task ends only when the queue's sender is dropped, so this cannot fail.
        let _ = queue.send(frame).await;
    }
}

/// The task that handles a connection's sends one after the other and answers each with
/// `sent` or `error` through the connection's queue. It ends when the connection has gone
/// and the sends it left are done (their answers are lost with the socket; the client
/// retries with the same `client_id` and gets the first message).
fn start_sending(live: &Live, conn: Arc<Connection>) -> mpsc::Sender<SendFrame> {
    let (queue, mut waiting) = mpsc::channel::<SendFrame>(SEND_QUEUE);
    let messaging = live.messaging.clone();
    live.hub.spawn(async move {
        while let Some(frame) = waiting.recv().await {
            let message = OutgoingMessage {
                client_id: frame.client_id.clone(),
                kind: frame.kind,
                text: frame.text,
                attachment_id: frame.attachment_id,
                reply_to: frame.reply_to,
            };
            let reply = match messaging
                .send(&conn.user, &frame.conversation_id, message)
                .await
            {
                Ok((view, created)) => ServerFrame::Sent {
                    client_id: frame.client_id,
                    created,
                    message: Arc::new(message_of(&view)),
                },
                Err(e) => failure(e, Some(frame.client_id), &frame.conversation_id),
            };
            conn.send(reply);
        }
    });
    queue
}

/// Handles a client frame; the answer, if it needs one now.
async fn client_frame(
    live: &Live,
    conn: &Arc<Connection>,
    delivery: &Delivery,
    acks: &mut PendingAcks,
    sends: &mut Sends,
    calls: &mut CallBudget,
    text: &str,
) -> Option<ServerFrame> {
    match ClientFrame::parse(text) {
        Err(e) => Some(e.into()),
        Ok(ClientFrame::Ping) => Some(ServerFrame::Pong),
        Ok(ClientFrame::Send(frame)) => {
            sends.push(live, conn, frame).await;
            None
        }
        Ok(ClientFrame::Ack(ack)) => {
            // Never past what this connection sent: a gap is always sent again.
            let seq = delivery.ack_upto(&ack.conversation_id, ack.seq);
            acks.add(ack.conversation_id, seq);
            None
        }
        // On the heap, as the other rare calls into the services: the connection's task
        // stays the size of its everyday work.
        Ok(ClientFrame::Typing(typing)) => outcome(
            Box::pin(live.messaging.typing(&conn.user, &typing.conversation_id)).await,
            &typing.conversation_id,
        ),
        Ok(frame) => Box::pin(call_frame(live, conn, calls, frame)).await,
    }
}

/// How many call frames a connection may send at once, and how many a second after that:
/// a call's signalling is a few dozen frames; a flood is answered with `rate_limited`
/// and disturbs nothing else.
const CALL_FRAMES_BURST: f64 = 100.0;
const CALL_FRAMES_PER_SEC: f64 = 20.0;

/// A connection's budget of call frames (a token bucket).
struct CallBudget {
    tokens: f64,
    at: Instant,
}

impl CallBudget {
    fn new() -> Self {
        Self {
            tokens: CALL_FRAMES_BURST,
            at: Instant::now(),
        }
    }

    /// Takes one frame's token; whether there was one.
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * CALL_FRAMES_PER_SEC;
        self.tokens = (self.tokens + refill).min(CALL_FRAMES_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Handles a call frame: its answer to this device, or its error.
async fn call_frame(
    live: &Live,
    conn: &Arc<Connection>,
    budget: &mut CallBudget,
    frame: ClientFrame,
) -> Option<ServerFrame> {
    let (client_id, call_id) = match &frame {
        ClientFrame::CallStart(f) => (Some(f.client_id.clone()), None),
        ClientFrame::CallAccept(f) | ClientFrame::CallDecline(f) | ClientFrame::CallHangup(f) => {
            (None, Some(f.call_id.clone()))
        }
        ClientFrame::CallSignal(f) => (None, Some(f.call_id.clone())),
        ClientFrame::CallJoin(f) => (None, Some(f.call_id.clone())),
        ClientFrame::CallMedia(f) => (None, Some(f.call_id.clone())),
        ClientFrame::CallLayer(f) => (None, Some(f.call_id.clone())),
        ClientFrame::CallAdd(f) => (None, Some(f.call_id.clone())),
        _ => (None, None),
    };
    let error = |code: ErrorCode, message: String| ServerFrame::Error {
        code,
        message,
        client_id: client_id.clone(),
        conversation_id: None,
        call_id: call_id.clone(),
    };
    if !budget.take() {
        return Some(error(
            ErrorCode::RateLimited,
            "too many call frames; wait a moment".into(),
        ));
    }
    let (user, session) = (&conn.user, conn.session_id.as_str());
    let calls = &live.calls;
    let done = match frame {
        ClientFrame::CallStart(start) => match calls.start(user, session, &start).await {
            Ok(call) => {
                return Some(ServerFrame::CallStarted {
                    client_id: start.client_id,
                    call,
                });
            }
            Err(e) => Err(e),
        },
        ClientFrame::CallAccept(f) => calls.accept(user, session, &f.call_id).await,
        ClientFrame::CallDecline(f) => calls.decline(user, session, &f.call_id).await,
        ClientFrame::CallHangup(f) => calls.hangup(user, session, &f.call_id).await,
        ClientFrame::CallSignal(f) => calls.signal(user, session, f).await,
        ClientFrame::CallJoin(f) => calls.join(user, session, f).await,
        ClientFrame::CallMedia(f) => calls.media(user, session, f).await,
        ClientFrame::CallLayer(f) => calls.layer(user, session, f).await,
        ClientFrame::CallAdd(f) => calls.add(user, session, f).await,
        _ => Ok(()),
    };
    done.err().map(|e| {
        let e = ApiError::from(e);
        error(e.code(), e.message().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use dialtone_service::ServiceError;
    use dialtone_store::StoreError;

    use super::*;
    use crate::test_logs::Captured;

    #[test]
    fn a_storage_failure_on_the_socket_is_logged_with_its_cause_and_answered_generically() {
        let e = ServiceError::from(StoreError::Corrupt("role 'owner'".into()));
        let line = line!() - 1;
        let (frame, logs) = Captured::logs(|| failure(e, Some("c-1".into()), "conv-1"));
        assert!(
            logs.contains("corrupt stored value: role 'owner'"),
            "{logs}"
        );
        assert!(logs.contains(&format!("{}:{line}:", file!())), "{logs}");
        let ServerFrame::Error {
            code,
            message,
            client_id,
            conversation_id,
            ..
        } = frame
        else {
            panic!("not an error frame: {frame:?}");
        };
        assert_eq!(code, ErrorCode::InternalError);
        assert_eq!(message, "something went wrong on our side");
        assert_eq!(client_id.as_deref(), Some("c-1"));
        assert_eq!(conversation_id.as_deref(), Some("conv-1"));
    }
}
