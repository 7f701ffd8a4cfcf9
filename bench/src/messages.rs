//! `dialtone-bench messages`: end-to-end delivery of messages between many authenticated
//! WebSocket clients, against a server run as a child process (`dialtone serve`).
//!
//! Users register through the API (code only, via the mock SMS provider). Then, in order:
//! 1. `idle`: K authenticated sockets are opened and left idle; the server's resident
//!    memory before and after gives the memory per connection.
//! 2. `throughput`: N clients paired into direct conversations, every one connected;
//!    every client sends to its peer as fast as it can (a few requests in flight each).
//! 3. `rate`: the same clients, messages sent on a fixed schedule (open loop); latency
//!    runs from each message's scheduled time, so queueing is not hidden.
//! 4. `group`: one group of M members, all connected; messages one at a time, each until
//!    the last online member has it.
//!
//! Every message's text carries its phase and the time it was (scheduled to be) sent, in
//! nanoseconds after a moment of this process, so the receiving socket's reader measures
//! send → receipt without a shared map. Readers acknowledge the latest seq of each
//! conversation every `--ack-ms`.
//!
//! Conversations, messages, sockets and acks all go through `dialtone-client`, as any
//! client of the public API would; only one HTTP connection pool is shared by all users.
//!
//! With `--nodes N` the server is N processes on one PostgreSQL database and a NATS bus;
//! client i talks to node i mod N, so the two clients of each conversation (2k, 2k+1) are
//! on different nodes and every direct message crosses the bus.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, anyhow};
use dialtone_client::{Client, ClientError, LiveConnection, LiveOptions, NewMessage, ServerFrame};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::accounts::is_postgres;
use crate::machine::Machine;
use crate::results;
use crate::serverproc::{self, ChildServer, CpuSplit, settle, split_text};
use crate::setup;
use crate::stats::{Latencies, Summary};

/// Users are +86 137 0000 0000 on.
const FIRST_NUMBER: u64 = 137_0000_0000;
/// Longest wait for one group message to reach every member.
const GROUP_WAIT: Duration = Duration::from_secs(10);
/// Group messages sent before the measured ones.
const GROUP_WARMUPS: usize = 3;
/// The group phase stops after this many messages in a row missed some member.
const GROUP_GIVE_UP: usize = 5;
/// Pause between group messages, so they do not overlap.
const GROUP_PAUSE: Duration = Duration::from_millis(50);
/// File descriptors kept spare beyond the sockets (HTTP connections, database, files).
const SPARE_FILES: u64 = 600;
/// Read buffer of the generator's sockets (tungstenite's default is 128 KiB each).
const CLIENT_READ_BUFFER: usize = 8 * 1024;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Idle,
    Throughput,
    Rate,
    Group,
}

/// How the throughput and rate phases send messages.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SendOver {
    /// `POST /v1/conversations/{id}/messages`, answered 201.
    Http,
    /// A `send` frame on the sender's live connection, answered `sent`.
    Ws,
}

/// Options of `dialtone-bench messages`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Phases to run (comma-separated), always in the order idle, throughput, rate, group.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "idle,throughput,rate,group"
    )]
    pub phases: Vec<Phase>,
    /// Connected clients in the throughput and rate phases (paired into direct
    /// conversations; an odd last one is left out).
    #[arg(long, default_value_t = 1000)]
    pub clients: usize,
    /// Seconds of the throughput phase.
    #[arg(long, default_value_t = 15.0)]
    pub seconds: f64,
    /// Requests each client has in flight at once in the throughput phase.
    #[arg(long, default_value_t = 2)]
    pub inflight: usize,
    /// How the throughput and rate phases send (the group phase posts over HTTP).
    #[arg(long, value_enum, default_value = "http")]
    pub send: SendOver,
    /// Messages per second of the rate phase (open loop). When the throughput phase
    /// measured a lower ceiling, half that ceiling is measured too.
    #[arg(long, default_value_t = 10_000.0)]
    pub rate: f64,
    /// Seconds of each rate run.
    #[arg(long, default_value_t = 10.0)]
    pub rate_seconds: f64,
    /// Most requests in flight at once in the rate phase (a request waiting for a slot
    /// still counts its latency from its scheduled time).
    #[arg(long, default_value_t = 1024)]
    pub rate_inflight: usize,
    /// Members of the group (creator included); all of them connected. At most --clients.
    #[arg(long, default_value_t = 1000)]
    pub group_members: usize,
    /// Measured group messages (after 3 warm-ups).
    #[arg(long, default_value_t = 50)]
    pub group_messages: usize,
    /// Seconds to wait after a run's sending for messages still on their way.
    #[arg(long, default_value_t = 10.0)]
    pub drain_seconds: f64,
    /// Idle authenticated connections of the idle phase.
    #[arg(long, default_value_t = 10_000)]
    pub idle: usize,
    /// Source addresses 127.0.0.2 … for the generator's sockets (each has its own
    /// ephemeral ports).
    #[arg(long, default_value_t = 8)]
    pub sources: u8,
    /// Milliseconds between a client's acknowledgements (the latest seq of each
    /// conversation that moved); 0: never acknowledge.
    #[arg(long, default_value_t = 1000)]
    pub ack_ms: u64,
    /// Concurrent clients while registering and connecting.
    #[arg(long, default_value_t = 50)]
    pub concurrency: usize,
    /// The server binary. Default: `dialtone` next to this binary.
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// Record a CPU profile of the server (`perf record -g`) during the throughput phase
    /// into this file.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// `postgres://USER@HOST:PORT/DB` to run on a fresh database created (and dropped
    /// afterwards) on that server. Unset: SQLite in a temporary directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Server processes (nodes). More than one needs a PostgreSQL --database-url: the
    /// nodes share that database and a NATS bus (--nats-url), clients are spread over them
    /// round-robin, and the two clients of every conversation are on different nodes.
    #[arg(long, default_value_t = 1)]
    pub nodes: usize,
    /// The NATS server the nodes talk over, with --nodes above 1 (each run uses a subject
    /// of its own). Unused with one node.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// Added to the section heading (`## Messages — SQLite — VARIANT`), to keep runs with
    /// other options apart.
    #[arg(long)]
    pub variant: Option<String>,
    /// File to write the results section into. Default: bench/RESULTS.md.
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Print the figures only; leave the results file alone.
    #[arg(long)]
    pub no_write: bool,
}

/// A registered user.
#[derive(Clone)]
struct User {
    phone: String,
    /// Logged in as the user, over the generator's shared HTTP connection pool.
    client: Client,
}

/// What every reader records, shared.
struct Recorder {
    /// Process-local origin of the times carried in message texts.
    epoch: Instant,
    inner: Mutex<Received>,
    /// Sockets closed by the server, by close code (0: no close frame).
    closed: Mutex<HashMap<u16, usize>>,
}

#[derive(Default)]
struct Received {
    /// By phase tag (`t`, `r0`, `r1`, `g`).
    phases: HashMap<String, PhaseReceived>,
    /// Group messages by index: members that have it, first and last arrival.
    group: HashMap<u64, GroupReceived>,
}

struct PhaseReceived {
    latencies: Latencies,
    count: u64,
    /// Arrivals up to a deadline (the end of the sending window).
    in_window: u64,
    window_end: Option<Instant>,
    /// The latest arrival.
    last: Option<Instant>,
}

struct GroupReceived {
    count: usize,
    first: Instant,
    last: Instant,
}

impl Recorder {
    fn new() -> Arc<Recorder> {
        Arc::new(Recorder {
            epoch: Instant::now(),
            inner: Mutex::new(Received::default()),
            closed: Mutex::new(HashMap::new()),
        })
    }

    fn nanos(&self, at: Instant) -> u128 {
        at.saturating_duration_since(self.epoch).as_nanos()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Received> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts (or restarts) counting a phase; arrivals after `window_end` count in total
    /// only.
    fn open(&self, tag: &str, window_end: Option<Instant>) -> anyhow::Result<()> {
        let fresh = PhaseReceived {
            latencies: Latencies::new()?,
            count: 0,
            in_window: 0,
            window_end,
            last: None,
        };
        self.lock().phases.insert(tag.to_owned(), fresh);
        Ok(())
    }

    fn set_window_end(&self, tag: &str, end: Instant) {
        if let Some(p) = self.lock().phases.get_mut(tag) {
            p.window_end = Some(end);
        }
    }

    /// (count, in window, latency summary, latest arrival) of a phase so far.
    fn phase(&self, tag: &str) -> Option<(u64, u64, Summary, Option<Instant>)> {
        self.lock()
            .phases
            .get(tag)
            .map(|p| (p.count, p.in_window, p.latencies.summary(), p.last))
    }

    fn count(&self, tag: &str) -> u64 {
        self.lock().phases.get(tag).map_or(0, |p| p.count)
    }

    /// A message text arrived on a socket at `at`: `TAG SENT_NANOS [INDEX]`.
    fn arrived(&self, text: &str, at: Instant) {
        let mut parts = text.split(' ');
        let (Some(tag), Some(sent)) = (parts.next(), parts.next()) else {
            return;
        };
        let Ok(sent) = sent.parse::<u64>() else {
            return;
        };
        let sent_at = self.epoch + Duration::from_nanos(sent);
        let latency = at.saturating_duration_since(sent_at);
        let index = parts.next().and_then(|i| i.parse::<u64>().ok());
        let mut inner = self.lock();
        if let Some(p) = inner.phases.get_mut(tag) {
            p.latencies.record(latency);
            p.count += 1;
            p.last = Some(p.last.map_or(at, |l| l.max(at)));
            if p.window_end.is_none_or(|end| at <= end) {
                p.in_window += 1;
            }
        }
        if let Some(index) = index {
            inner
                .group
                .entry(index)
                .and_modify(|g| {
                    g.count += 1;
                    g.first = g.first.min(at);
                    g.last = g.last.max(at);
                })
                .or_insert(GroupReceived {
                    count: 1,
                    first: at,
                    last: at,
                });
        }
    }

    fn group(&self, index: u64) -> Option<(usize, Instant, Instant)> {
        self.lock()
            .group
            .get(&index)
            .map(|g| (g.count, g.first, g.last))
    }

    fn closed_by(&self, code: u16) {
        *self
            .closed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(code)
            .or_default() += 1;
    }

    fn closed_text(&self) -> String {
        let closed = self.closed.lock().unwrap_or_else(|e| e.into_inner());
        if closed.is_empty() {
            return "none".into();
        }
        let mut codes: Vec<_> = closed.iter().collect();
        codes.sort();
        codes
            .iter()
            .map(|(code, n)| {
                if **code == 0 {
                    format!("{n} without a close frame")
                } else {
                    format!("{n} with code {code}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Outcome of the sends of a phase.
struct Sent {
    /// 201 answers, and those within the sending window.
    accepted: AtomicU64,
    failed: Mutex<HashMap<String, u64>>,
    latencies: Mutex<Latencies>,
}

impl Sent {
    fn new() -> anyhow::Result<Arc<Sent>> {
        Ok(Arc::new(Sent {
            accepted: AtomicU64::new(0),
            failed: Mutex::new(HashMap::new()),
            latencies: Mutex::new(Latencies::new()?),
        }))
    }

    fn fail(&self, why: String) {
        *self
            .failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(why)
            .or_default() += 1;
    }

    fn failed_text(&self) -> String {
        let failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        if failed.is_empty() {
            return "0".into();
        }
        let total: u64 = failed.values().sum();
        let mut kinds: Vec<_> = failed.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1));
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        format!("{total} ({})", kinds.join(", "))
    }

    /// Counts a send that started at `started`: its latency when accepted, else why not.
    /// Whether it was accepted.
    fn record(&self, started: Instant, outcome: Result<(), String>) -> bool {
        match outcome {
            Ok(()) => {
                self.latencies
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .record(started.elapsed());
                self.accepted.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(why) => {
                self.fail(why);
                false
            }
        }
    }

    fn summary(&self) -> Summary {
        self.latencies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .summary()
    }
}

/// A message for a client's live connection to send, and where its answer goes.
struct Outgoing {
    conversation_id: String,
    message: NewMessage,
    answer: oneshot::Sender<Answer>,
}

/// The server's answer to a `send` frame: `sent` (with `created`) or an error's code.
type Answer = Result<bool, String>;

/// How each client sends: over HTTP, or through the reader task of its live connection.
struct Senders {
    users: Arc<Vec<User>>,
    /// Per client, when sending over the live connection.
    outboxes: Option<Vec<mpsc::Sender<Outgoing>>>,
}

impl Senders {
    /// Sends one text message as client `i`; records the answer.
    async fn send(
        &self,
        i: usize,
        conversation_id: &str,
        client_id: &str,
        text: &str,
        sent: &Sent,
    ) -> bool {
        let started = Instant::now();
        let message = NewMessage::text(client_id, text);
        let outcome = match (&self.outboxes, self.users.get(i)) {
            (Some(outboxes), _) => {
                let Some(outbox) = outboxes.get(i) else {
                    return false;
                };
                let (answer, answered) = oneshot::channel();
                let outgoing = Outgoing {
                    conversation_id: conversation_id.to_owned(),
                    message,
                    answer,
                };
                if outbox.send(outgoing).await.is_err() {
                    Err("socket closed".to_owned())
                } else {
                    match answered.await {
                        Ok(Ok(true)) => Ok(()),
                        Ok(Ok(false)) => Err("sent, not created ?".to_owned()),
                        Ok(Err(code)) => Err(format!("error {code}")),
                        Err(_) => Err("socket closed before the answer".to_owned()),
                    }
                }
            }
            (None, Some(user)) => post_message(&user.client, conversation_id, &message).await,
            (None, None) => return false,
        };
        sent.record(started, outcome)
    }
}

/// Posts one message over HTTP: `Ok` for a 201, else what came instead.
async fn post_message(
    client: &Client,
    conversation_id: &str,
    message: &NewMessage,
) -> Result<(), String> {
    match client.send_message(conversation_id, message).await {
        Ok(posted) if posted.created => Ok(()),
        // A 200: the server already had this client_id (counted as a failure, as any
        // answer but 201).
        Ok(_) => Err("200 ?".into()),
        Err(ClientError::Api { status, code, .. }) => Err(format!("{status} {code}")),
        Err(ClientError::Http(e)) if e.is_connect() => Err("connect error".into()),
        Err(ClientError::Decode(_)) => Err("undecodable answer".into()),
        Err(_) => Err("transport error".into()),
    }
}

type Socket = LiveConnection;

/// Where the generator's sockets come from: 127.0.0.2, 127.0.0.3, …
fn source(i: usize, sources: u8) -> IpAddr {
    let n = u8::try_from(i % usize::from(sources.max(1))).unwrap_or(0);
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + n))
}

/// Opens an authenticated WebSocket from `from` and reads its `ready` frame.
async fn connect(user: &User, from: IpAddr) -> anyhow::Result<Socket> {
    let options = LiveOptions {
        local_addr: Some(from),
        read_buffer: Some(CLIENT_READ_BUFFER),
        ..LiveOptions::default()
    };
    let socket = tokio::time::timeout(
        Duration::from_secs(60),
        user.client.connect_live_with(&options),
    )
    .await
    .map_err(|_| anyhow!("not connected and ready within 60 s (from {from})"))?
    .with_context(|| format!("connecting from {from}"))?;
    Ok(socket)
}

/// Opens one socket per user, `concurrency` at a time; in user order.
async fn connect_all(
    users: &[User],
    sources: u8,
    concurrency: usize,
) -> anyhow::Result<Vec<Socket>> {
    let users = Arc::new(users.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let mut connectors = JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (users, next) = (users.clone(), next.clone());
        connectors.spawn(async move {
            let mut sockets = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(user) = users.get(i) else { break };
                let socket = connect(user, source(i, sources))
                    .await
                    .with_context(|| format!("socket {i} of {}", user.phone))?;
                sockets.push((i, socket));
            }
            anyhow::Ok(sockets)
        });
    }
    let mut all = Vec::with_capacity(users.len());
    while let Some(done) = connectors.join_next().await {
        all.extend(done.context("connecting")??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, s)| s).collect())
}

/// Reads a client's frames: records every message from someone else, and acknowledges
/// the latest seq of each conversation every `ack` (if any). Sends what comes in
/// `outgoing` as `send` frames and hands each its answer.
async fn read_frames(
    mut socket: Socket,
    phone: String,
    recorder: Arc<Recorder>,
    ack: Option<Duration>,
    mut outgoing: mpsc::Receiver<Outgoing>,
) {
    let mut latest: HashMap<String, u64> = HashMap::new();
    let mut acked: HashMap<String, u64> = HashMap::new();
    let mut waiting: HashMap<String, oneshot::Sender<Answer>> = HashMap::new();
    let mut tick = tokio::time::interval(ack.unwrap_or(Duration::from_secs(3600)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            frame = socket.recv() => {
                let at = Instant::now();
                match frame {
                    Ok(ServerFrame::Message { message: m }) => {
                        if m.sender != phone
                            && let Some(text) = &m.text
                        {
                            recorder.arrived(text, at);
                        }
                        let seq = latest.entry(m.conversation_id).or_default();
                        *seq = (*seq).max(m.seq);
                    }
                    Ok(ServerFrame::Sent { client_id, created, .. }) => {
                        if let Some(answer) = waiting.remove(&client_id) {
                            let _ = answer.send(Ok(created));
                        }
                    }
                    Ok(ServerFrame::Error { client_id: Some(client_id), code, .. }) => {
                        if let Some(answer) = waiting.remove(&client_id) {
                            let _ = answer.send(Err(code));
                        }
                    }
                    // Other frames, and text that is not JSON.
                    Ok(_) | Err(ClientError::Decode(_)) => {}
                    Err(e) => {
                        recorder.closed_by(close_code(&e));
                        return;
                    }
                }
            }
            Some(out) = outgoing.recv() => {
                let client_id = out.message.client_id.clone();
                if socket.send_message(&out.conversation_id, &out.message).await.is_err() {
                    recorder.closed_by(0);
                    return;
                }
                waiting.insert(client_id, out.answer);
            }
            _ = tick.tick(), if ack.is_some() => {
                for (conversation, seq) in &latest {
                    if acked.get(conversation) == Some(seq) {
                        continue;
                    }
                    if socket.ack(conversation, *seq).await.is_err() {
                        recorder.closed_by(0);
                        return;
                    }
                    acked.insert(conversation.clone(), *seq);
                }
            }
        }
    }
}

/// The close code a socket ended with; 0 when it ended without a close frame.
fn close_code(e: &ClientError) -> u16 {
    match e {
        ClientError::Closed {
            code: Some(code), ..
        } => *code,
        _ => 0,
    }
}

/// Keeps an idle socket open (answering pings) until it closes or the task is aborted.
async fn hold(mut socket: Socket, recorder: Arc<Recorder>) {
    loop {
        match socket.recv().await {
            Ok(_) | Err(ClientError::Decode(_)) => {}
            Err(e) => {
                recorder.closed_by(close_code(&e));
                return;
            }
        }
    }
}

/// Registers `phones` by code only, `concurrency` at a time, through node 1; the users'
/// clients talk to node 1.
async fn register_all(
    server: &ChildServer,
    http: &reqwest::Client,
    phones: &[String],
    concurrency: usize,
) -> anyhow::Result<Vec<User>> {
    let phones = Arc::new(phones.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (phones, next) = (phones.clone(), next.clone());
        let provider = server.provider.clone();
        let client = Client::new(&server.head.base);
        let shared = Client::from_http(&server.head.base, http.clone());
        workers.spawn(async move {
            let mut users = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(phone) = phones.get(i) else { break };
                let login = setup::register(&client, &provider, phone)
                    .await
                    .with_context(|| format!("registering {phone}"))?;
                users.push((
                    i,
                    User {
                        phone: phone.clone(),
                        client: shared.clone().with_token(login.token),
                    },
                ));
            }
            anyhow::Ok(users)
        });
    }
    let mut users = Vec::with_capacity(phones.len());
    while let Some(done) = workers.join_next().await {
        users.extend(done.context("registration worker")??);
    }
    users.sort_by_key(|(i, _)| *i);
    Ok(users.into_iter().map(|(_, u)| u).collect())
}

/// Figures of the idle phase.
struct IdleFigures {
    connections: usize,
    connect_secs: f64,
    server_before: (u64, u64),
    server_after: (u64, u64),
    server_later: u64,
    generator_delta: i64,
    idle_cpu: String,
    closed: String,
}

/// Figures of one throughput or rate run.
struct RunFigures {
    label: String,
    /// Offered rate (rate phase) or none (as fast as possible).
    rate: Option<f64>,
    seconds: f64,
    scheduled: u64,
    accepted: u64,
    failed: String,
    http: Summary,
    delivered_in_window: u64,
    delivered: u64,
    /// Seconds from the first send to the last arrival.
    delivering_secs: f64,
    latency: Summary,
    /// The generator's worst lateness against its schedule (rate phase).
    late_ms: f64,
    cpu: String,
    /// CPU seconds of the server (every node) and of the generator over the sending window.
    cpu_secs: Option<(f64, f64)>,
}

impl RunFigures {
    /// Messages delivered per second from the first send to the last arrival.
    fn sustained(&self) -> f64 {
        if self.delivering_secs > 0.0 {
            self.delivered as f64 / self.delivering_secs
        } else {
            0.0
        }
    }

    /// Server and generator CPU per accepted message, in µs.
    fn cpu_per_message(&self) -> Option<(f64, f64)> {
        let (server, generator) = self.cpu_secs?;
        let n = self.accepted.max(1) as f64;
        Some((server * 1e6 / n, generator * 1e6 / n))
    }

    /// What the server sustained end to end: the lower of the accepted and delivered rates.
    fn ceiling(&self) -> f64 {
        (self.accepted as f64 / self.seconds).min(
            self.sustained()
                .max(self.delivered_in_window as f64 / self.seconds),
        )
    }
}

struct GroupFigures {
    members: usize,
    last: Summary,
    first: Summary,
    post: Summary,
    all_latencies: Summary,
    /// Deliveries of the measured messages to members.
    deliveries: u64,
    incomplete: Vec<(usize, usize)>,
    /// Messages sent when the phase gave up, if it did.
    stopped: Option<usize>,
    cpu: String,
}

/// How the server ran, for the report.
struct Topology {
    /// Every node's `http://127.0.0.1:PORT`, node 1 first.
    bases: Vec<String>,
    /// The NATS URL and this run's subject, with several nodes.
    bus: Option<(String, String)>,
}

#[derive(Default)]
struct Figures {
    setup_secs: f64,
    registered: usize,
    fd_limit: u64,
    idle: Option<IdleFigures>,
    throughput: Option<RunFigures>,
    rates: Vec<RunFigures>,
    group: Option<GroupFigures>,
    closed: String,
    profile: Option<String>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    anyhow::ensure!(args.inflight > 0, "--inflight must be at least 1");
    anyhow::ensure!(args.rate > 0.0, "--rate must be positive");
    anyhow::ensure!(args.nodes >= 1, "--nodes must be at least 1");
    anyhow::ensure!(
        args.nodes == 1 || args.database_url.as_deref().is_some_and(is_postgres),
        "--nodes {} needs --database-url postgres://…: the nodes share one PostgreSQL \
         database (an SQLite file belongs to one process)",
        args.nodes
    );
    let has = |p: Phase| args.phases.contains(&p);
    let messaging = has(Phase::Throughput) || has(Phase::Rate) || has(Phase::Group);
    let clients = if messaging { args.clients / 2 * 2 } else { 0 };
    anyhow::ensure!(
        !messaging || clients >= 2,
        "--clients must be at least 2 for the message phases"
    );
    anyhow::ensure!(
        !has(Phase::Group) || (args.group_members >= 2 && args.group_members <= clients),
        "--group-members must be between 2 and --clients ({clients})"
    );
    let idle = if has(Phase::Idle) { args.idle } else { 0 };
    let machine = Machine::describe();
    eprintln!("machine: {}", machine.line());

    // Both ends of every socket count against a process's open files: the server holds
    // one per connection, this process one per client socket plus HTTP connections.
    let fd_limit = rlimit::increase_nofile_limit(u64::MAX).context("raising RLIMIT_NOFILE")?;
    let sockets = idle.max(clients) as u64;
    let http_conns = if messaging {
        (clients * args.inflight).max(args.rate_inflight) as u64
    } else {
        0
    };
    let needed = sockets + http_conns + SPARE_FILES;
    eprintln!("open-file limit raised to {fd_limit} (this process and the server)");
    anyhow::ensure!(
        fd_limit >= needed,
        "{sockets} sockets and {http_conns} HTTP connections need about {needed} open files \
         per process, but the hard limit here is {fd_limit} (raise it as root: \
         `ulimit -Hn`, or /etc/security/limits.conf; or lower --idle / --clients)"
    );

    let bin = match &args.server_bin {
        Some(bin) => bin.clone(),
        None => serverproc::default_binary()?,
    };
    let mut server = ChildServer::start(
        &bin,
        args.database_url.as_deref(),
        args.nodes,
        &args.nats_url,
    )
    .await?;
    let topology = Topology {
        bases: server.bases(),
        bus: server
            .bus
            .as_ref()
            .map(|b| (b.url.clone(), b.subject.clone())),
    };
    match &topology.bus {
        None => eprintln!(
            "server pid {} on {}, {} database",
            server.head.pid, server.head.base, server.database.label
        ),
        Some((url, subject)) => {
            eprintln!(
                "{} nodes on one {} database, NATS bus {url} subject {subject}",
                server.count(),
                server.database.label
            );
            for (i, node) in server.nodes().enumerate() {
                eprintln!("  node {}: pid {} on {}", i + 1, node.pid, node.base);
            }
        }
    }
    let outcome = measure(&args, &mut server, clients, idle, fd_limit).await;
    let label = match server.count() {
        1 => server.database.label.to_owned(),
        n => format!("{n} nodes on {} + NATS", server.database.label),
    };
    let detail = server.database.detail.clone();
    let stopped = server.stop().await;
    let figures = outcome?;
    stopped?;

    let heading = match &args.variant {
        Some(v) => format!("## Messages — {label} — {v}"),
        None => format!("## Messages — {label}"),
    };
    let body = report(&args, &machine, &detail, &topology, &figures);
    println!("{heading}\n\n{body}");
    if !args.no_write {
        let file = setup::results_file(args.results.as_ref());
        results::write_section(&file, &heading, &body)?;
        eprintln!("wrote section {heading:?} of {}", file.display());
    }
    Ok(())
}

async fn measure(
    args: &Args,
    server: &mut ChildServer,
    clients: usize,
    idle: usize,
    fd_limit: u64,
) -> anyhow::Result<Figures> {
    let has = |p: Phase| args.phases.contains(&p);
    let mut figures = Figures {
        fd_limit,
        ..Figures::default()
    };
    let total = idle.max(clients);
    let started = Instant::now();
    eprintln!("[setup] registering {total} users (code only)");
    let phones = setup::valid_numbers(FIRST_NUMBER, total)?;
    // One connection pool for every user's requests (the users' clients share it).
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .tcp_nodelay(true)
        .build()?;
    let users = register_all(server, &http, &phones, args.concurrency).await?;
    figures.registered = users.len();
    figures.setup_secs = started.elapsed().as_secs_f64();
    eprintln!("      registered in {:.1} s", figures.setup_secs);
    let recorder = Recorder::new();
    let pids = server.pids();

    if has(Phase::Idle) {
        figures.idle = Some(idle_phase(args, server, &users[..idle], &recorder).await?);
    }
    if clients == 0 {
        figures.closed = recorder.closed_text();
        return Ok(figures);
    }
    let users = spread(&users[..clients], &server.bases(), &http);
    let users = &users[..];

    eprintln!("[messages] connecting {clients} clients and pairing them");
    let conversations = pair(users, args.concurrency).await?;
    let sockets = connect_all(users, args.sources, args.concurrency).await?;
    let ack = (args.ack_ms > 0).then(|| Duration::from_millis(args.ack_ms));
    let mut readers = JoinSet::new();
    let mut outboxes = Vec::new();
    for (socket, user) in sockets.into_iter().zip(users) {
        let (outbox, outgoing) = mpsc::channel(args.inflight.max(args.rate_inflight));
        outboxes.push(outbox);
        readers.spawn(read_frames(
            socket,
            user.phone.clone(),
            recorder.clone(),
            ack,
            outgoing,
        ));
    }
    let conversations: Arc<Vec<String>> = Arc::new(conversations);
    let users = Arc::new(users.to_vec());
    let senders = Arc::new(Senders {
        users: users.clone(),
        outboxes: (args.send == SendOver::Ws).then_some(outboxes),
    });

    let mut ceiling = None;
    if has(Phase::Throughput) {
        settle(&pids).await;
        let run = throughput(args, &pids, &senders, &conversations, &recorder).await?;
        ceiling = Some(run.ceiling());
        figures.profile = args.profile.as_ref().map(|p| p.display().to_string());
        figures.throughput = Some(run);
    }
    if has(Phase::Rate) {
        let mut rates = Vec::new();
        if let Some(c) = ceiling
            && c < args.rate
        {
            rates.push(c / 2.0);
        }
        rates.push(args.rate);
        for (i, rate) in rates.into_iter().enumerate() {
            settle(&pids).await;
            let run = at_rate(args, &pids, &senders, &conversations, &recorder, i, rate).await?;
            figures.rates.push(run);
        }
    }
    if has(Phase::Group) {
        settle(&pids).await;
        figures.group = Some(group(args, &pids, &users, &recorder).await?);
    }
    readers.abort_all();
    figures.closed = recorder.closed_text();
    match (server.count(), server.exited().as_slice()) {
        (_, []) => {}
        (1, _) => eprintln!("the server exited during the run"),
        (_, nodes) => eprintln!("nodes {nodes:?} exited during the run"),
    }
    Ok(figures)
}

/// The same users, user i's client talking to node i mod N (`bases`, node 1 first): with
/// several nodes, clients 2k and 2k+1, the two ends of a conversation (`pair`), are always
/// on different nodes, so every direct message crosses the bus.
fn spread(users: &[User], bases: &[String], http: &reqwest::Client) -> Vec<User> {
    users
        .iter()
        .zip(bases.iter().cycle())
        .map(|(user, base)| {
            let client = Client::from_http(base, http.clone());
            User {
                phone: user.phone.clone(),
                client: match user.client.token() {
                    Some(token) => client.with_token(token),
                    None => client,
                },
            }
        })
        .collect()
}

/// Pairs clients 2k and 2k+1 into a direct conversation; each client's conversation id.
async fn pair(users: &[User], concurrency: usize) -> anyhow::Result<Vec<String>> {
    let pairs: Arc<Vec<(User, String)>> = Arc::new(
        users
            .chunks_exact(2)
            .map(|p| (p[0].clone(), p[1].phone.clone()))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (pairs, next) = (pairs.clone(), next.clone());
        workers.spawn(async move {
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((user, peer)) = pairs.get(i) else {
                    break;
                };
                let conversation = user
                    .client
                    .create_direct(peer)
                    .await
                    .context("POST /v1/conversations")?;
                ids.push((i, conversation.value.id));
            }
            anyhow::Ok(ids)
        });
    }
    let mut ids = Vec::with_capacity(pairs.len());
    while let Some(done) = workers.join_next().await {
        ids.extend(done.context("pairing")??);
    }
    ids.sort();
    // Both members of pair k send into conversation k.
    Ok(ids
        .into_iter()
        .flat_map(|(_, id)| [id.clone(), id])
        .collect())
}

async fn idle_phase(
    args: &Args,
    server: &ChildServer,
    users: &[User],
    recorder: &Arc<Recorder>,
) -> anyhow::Result<IdleFigures> {
    // With several nodes, every idle socket goes to node 1 (whose memory is read); the
    // CPU is every node's.
    let pid = server.head.pid.to_string();
    let pids = server.pids();
    eprintln!("[idle] {} idle authenticated connections", users.len());
    settle(&pids).await;
    let server_before =
        serverproc::rss_kib(&pid).ok_or_else(|| anyhow!("cannot read the server's memory"))?;
    let generator_before = serverproc::rss_kib("self").map_or(0, |r| r.0);
    let started = Instant::now();
    let sockets = connect_all(users, args.sources, args.concurrency).await?;
    let connect_secs = started.elapsed().as_secs_f64();
    let mut holders = JoinSet::new();
    for socket in sockets {
        holders.spawn(hold(socket, recorder.clone()));
    }
    eprintln!("      connected in {connect_secs:.1} s; waiting for the server to settle");
    settle(&pids).await;
    let server_after =
        serverproc::rss_kib(&pid).ok_or_else(|| anyhow!("cannot read the server's memory"))?;
    let generator_after = serverproc::rss_kib("self").map_or(0, |r| r.0);
    // Ten seconds of idling: what the connections cost when nothing happens.
    let cpu_before = CpuSplit::take(&pids);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle_cpu = split_text(cpu_before, CpuSplit::take(&pids));
    let server_later = serverproc::rss_kib(&pid).map_or(0, |r| r.0);
    let per = (server_after.0.saturating_sub(server_before.0)) as f64 / users.len().max(1) as f64;
    eprintln!(
        "      server RSS {} → {} KiB ({per:.1} KiB per connection); idle CPU {idle_cpu}",
        server_before.0, server_after.0
    );
    let closed = recorder.closed_text();
    holders.abort_all();
    while holders.join_next().await.is_some() {}
    eprintln!("      closed; waiting for the server to record the disconnections");
    settle(&pids).await;
    Ok(IdleFigures {
        connections: users.len(),
        connect_secs,
        server_before,
        server_after,
        server_later,
        generator_delta: generator_after as i64 - generator_before as i64,
        idle_cpu,
        closed,
    })
}

/// Starts `perf record` on the server (every node) for `seconds`, if asked.
fn start_profile(args: &Args, pids: &[u32], seconds: f64) -> Option<std::process::Child> {
    let file = args.profile.as_ref()?;
    let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
    let child = std::process::Command::new("perf")
        .args(["record", "-F", "499", "-e", "cpu-clock", "-g", "-o"])
        .arg(file)
        .arg("-p")
        .arg(pids.join(","))
        .arg("--")
        .arg("sleep")
        .arg(format!("{seconds:.0}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match child {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("      perf record could not start: {e}");
            None
        }
    }
}

async fn throughput(
    args: &Args,
    pids: &[u32],
    senders: &Arc<Senders>,
    conversations: &Arc<Vec<String>>,
    recorder: &Arc<Recorder>,
) -> anyhow::Result<RunFigures> {
    let tag = "t";
    eprintln!(
        "[throughput] {} clients sending to their peers, {} in flight each, {} s",
        senders.users.len(),
        args.inflight,
        args.seconds
    );
    let sent = Sent::new()?;
    let window = Duration::from_secs_f64(args.seconds);
    recorder.open(tag, None)?;
    let cpu = CpuSplit::take(pids);
    let start = Instant::now();
    let end = start + window;
    recorder.set_window_end(tag, end);
    let mut perf = start_profile(args, pids, args.seconds);
    let mut workers = JoinSet::new();
    for i in 0..senders.users.len() {
        for w in 0..args.inflight {
            let (senders, conversations, sent, recorder) = (
                senders.clone(),
                conversations.clone(),
                sent.clone(),
                recorder.clone(),
            );
            workers.spawn(async move {
                let Some(conversation) = conversations.get(i) else {
                    return;
                };
                let mut n = 0u64;
                while Instant::now() < end {
                    let now = Instant::now();
                    let text = format!("{tag} {}", recorder.nanos(now));
                    let client_id = format!("{tag}{i}-{w}-{n}");
                    n += 1;
                    if !senders
                        .send(i, conversation, &client_id, &text, &sent)
                        .await
                    {
                        // Do not spin on a failing server.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            });
        }
    }
    while workers.join_next().await.is_some() {}
    let sending_secs = start.elapsed().as_secs_f64();
    let cpu_after = CpuSplit::take(pids);
    let cpu_secs = cpu.zip(cpu_after).map(|(b, a)| a.seconds_since(&b));
    let cpu_text = split_text(cpu, cpu_after);
    let accepted = sent.accepted.load(Ordering::Relaxed);
    drain(recorder, tag, accepted, args.drain_seconds).await;
    if let Some(p) = perf.as_mut() {
        let _ = p.wait();
    }
    let (delivered, in_window, latency, last) = recorder
        .phase(tag)
        .ok_or_else(|| anyhow!("phase {tag} not recorded"))?;
    let delivering_secs = last.map_or(0.0, |l| (l - start).as_secs_f64());
    let run = RunFigures {
        label: "as fast as possible".into(),
        rate: None,
        seconds: window.as_secs_f64(),
        scheduled: 0,
        accepted,
        failed: sent.failed_text(),
        http: sent.summary(),
        delivered_in_window: in_window,
        delivered,
        delivering_secs,
        latency,
        late_ms: 0.0,
        cpu: cpu_text,
        cpu_secs,
    };
    eprintln!(
        "      accepted {:.0}/s, delivered {:.0}/s (in {:.1} s of sending); send→receipt {} ms; \
         failed {}; CPU {}; per message {}",
        accepted as f64 / run.seconds,
        in_window as f64 / run.seconds,
        sending_secs,
        latency.line(),
        run.failed,
        run.cpu,
        per_message_text(&run)
    );
    Ok(run)
}

/// Waits until `expected` messages of the phase arrived, or `seconds` passed.
async fn drain(recorder: &Recorder, tag: &str, expected: u64, seconds: f64) {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    while recorder.count(tag) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[allow(clippy::too_many_arguments)]
async fn at_rate(
    args: &Args,
    pids: &[u32],
    senders: &Arc<Senders>,
    conversations: &Arc<Vec<String>>,
    recorder: &Arc<Recorder>,
    run_index: usize,
    rate: f64,
) -> anyhow::Result<RunFigures> {
    let tag = format!("r{run_index}");
    eprintln!(
        "[rate] {rate:.0} messages/s for {} s, open loop (at most {} requests in flight)",
        args.rate_seconds, args.rate_inflight
    );
    let sent = Sent::new()?;
    let window = Duration::from_secs_f64(args.rate_seconds);
    let total = (rate * args.rate_seconds).round() as u64;
    let slots = Arc::new(Semaphore::new(args.rate_inflight.max(1)));
    recorder.open(&tag, None)?;
    let cpu = CpuSplit::take(pids);
    let start = Instant::now();
    recorder.set_window_end(&tag, start + window);
    let mut tasks = JoinSet::new();
    let mut k = 0u64;
    let mut late = Duration::ZERO;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    while k < total {
        tick.tick().await;
        let now = Instant::now();
        let due = ((now - start).as_secs_f64() * rate).floor() as u64;
        while k < total.min(due + 1) {
            let scheduled = start + Duration::from_secs_f64(k as f64 / rate);
            late = late.max(now.saturating_duration_since(scheduled));
            let i = usize::try_from(k % senders.users.len() as u64).unwrap_or(0);
            let (senders, conversations, sent, slots) = (
                senders.clone(),
                conversations.clone(),
                sent.clone(),
                slots.clone(),
            );
            let text = format!("{tag} {}", recorder.nanos(scheduled));
            let client_id = format!("{tag}-{k}");
            tasks.spawn(async move {
                let Ok(_slot) = slots.acquire_owned().await else {
                    return;
                };
                if let Some(conversation) = conversations.get(i) {
                    senders
                        .send(i, conversation, &client_id, &text, &sent)
                        .await;
                }
            });
            k += 1;
        }
        // Reap finished tasks so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    let cpu_after = CpuSplit::take(pids);
    let cpu_secs = cpu.zip(cpu_after).map(|(b, a)| a.seconds_since(&b));
    let cpu_text = split_text(cpu, cpu_after);
    // Requests not yet answered get until the drain deadline; then they are dropped.
    let deadline = Instant::now() + Duration::from_secs_f64(args.drain_seconds);
    while !tasks.is_empty() && Instant::now() < deadline {
        let _ = tokio::time::timeout_at(deadline, tasks.join_next()).await;
    }
    let unsent = tasks.len();
    tasks.abort_all();
    let accepted = sent.accepted.load(Ordering::Relaxed);
    drain(recorder, &tag, accepted, args.drain_seconds).await;
    if unsent > 0 {
        let key = format!(
            "still waiting {} s after the schedule ended (dropped)",
            args.drain_seconds
        );
        *sent
            .failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default() += unsent as u64;
    }
    let (delivered, in_window, latency, last) = recorder
        .phase(&tag)
        .ok_or_else(|| anyhow!("phase {tag} not recorded"))?;
    let delivering_secs = last.map_or(0.0, |l| (l - start).as_secs_f64());
    let run = RunFigures {
        label: format!("{rate:.0}/s"),
        rate: Some(rate),
        seconds: window.as_secs_f64(),
        scheduled: total,
        accepted,
        failed: sent.failed_text(),
        http: sent.summary(),
        delivered_in_window: in_window,
        delivered,
        delivering_secs,
        latency,
        late_ms: late.as_secs_f64() * 1000.0,
        cpu: cpu_text,
        cpu_secs,
    };
    eprintln!(
        "      {total} scheduled, {accepted} accepted, {delivered} delivered; \
         scheduled→receipt {} ms; failed {}; generator late ≤ {:.1} ms; CPU {}",
        latency.line(),
        run.failed,
        run.late_ms,
        run.cpu
    );
    Ok(run)
}

async fn group(
    args: &Args,
    pids: &[u32],
    users: &Arc<Vec<User>>,
    recorder: &Arc<Recorder>,
) -> anyhow::Result<GroupFigures> {
    let members = args.group_members;
    let creator = users.first().ok_or_else(|| anyhow!("no clients"))?;
    eprintln!("[group] one group of {members} members, all connected");
    let phones: Vec<&str> = users[1..members].iter().map(|u| u.phone.as_str()).collect();
    let created = creator
        .client
        .create_group("bench", &phones)
        .await
        .context("creating the group")?;
    let id = created.id;
    settle(pids).await;
    let tag = "g";
    recorder.open(tag, None)?;
    let sent = Sent::new()?;
    let (mut last, mut first, mut post) = (Latencies::new()?, Latencies::new()?, Latencies::new()?);
    let mut incomplete = Vec::new();
    let mut cpu = None;
    let mut stopped = None;
    let others = members - 1;
    for round in 0..GROUP_WARMUPS + args.group_messages {
        let measured = round >= GROUP_WARMUPS;
        if round == GROUP_WARMUPS {
            cpu = CpuSplit::take(pids);
            recorder.open(tag, None)?;
        }
        let index = round as u64;
        let at = Instant::now();
        let text = format!("{tag} {} {index}", recorder.nanos(at));
        let message = NewMessage::text(format!("g-{round}"), text);
        let ok = sent.record(at, post_message(&creator.client, &id, &message).await);
        let answered = at.elapsed();
        anyhow::ensure!(ok, "group message {round} refused: {}", sent.failed_text());
        let deadline = at + GROUP_WAIT;
        let got = loop {
            let got = recorder.group(index);
            if got.is_some_and(|(n, _, _)| n >= others) || Instant::now() >= deadline {
                break got;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let (count, first_at, last_at) = got.unwrap_or((0, at, at));
        if count < others {
            incomplete.push((round, others - count));
        }
        if measured {
            post.record(answered);
            // A message nobody got counts as the whole wait.
            first.record(if count == 0 {
                GROUP_WAIT
            } else {
                first_at - at
            });
            last.record(if count < others {
                GROUP_WAIT
            } else {
                last_at - at
            });
        }
        let missed_in_a_row = incomplete
            .iter()
            .rev()
            .enumerate()
            .take_while(|(k, (r, _))| *r + k == round)
            .count();
        if missed_in_a_row >= GROUP_GIVE_UP {
            eprintln!("      {GROUP_GIVE_UP} messages in a row missed some member; stopping");
            stopped = Some(round + 1);
            break;
        }
        tokio::time::sleep(GROUP_PAUSE).await;
    }
    let cpu = split_text(cpu, CpuSplit::take(pids));
    let (deliveries, _, all_latencies, _) = recorder
        .phase(tag)
        .ok_or_else(|| anyhow!("group phase not recorded"))?;
    let figures = GroupFigures {
        members,
        last: last.summary(),
        first: first.summary(),
        post: post.summary(),
        all_latencies,
        deliveries,
        incomplete,
        stopped,
        cpu,
    };
    eprintln!(
        "      last member p50/p90/p99/max {} ms; first {} ms; POST {} ms; incomplete {}; CPU {}",
        figures.last.line(),
        figures.first.line(),
        figures.post.line(),
        figures.incomplete.len(),
        figures.cpu
    );
    Ok(figures)
}

/// `server N µs, generator M µs` per accepted message, or `unknown`.
fn per_message_text(run: &RunFigures) -> String {
    match run.cpu_per_message() {
        Some((server, generator)) => {
            format!("server {server:.0} µs, generator {generator:.0} µs")
        }
        None => "unknown".into(),
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "not met" }
}

fn report(
    args: &Args,
    machine: &Machine,
    database: &str,
    topology: &Topology,
    f: &Figures,
) -> String {
    let nodes = topology.bases.len();
    let command: Vec<String> = std::env::args().skip(1).collect();
    let mut out = String::new();
    out.push_str(&format!(
        "- Date: {}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    out.push_str(&format!("- Machine: {}\n", machine.line()));
    out.push_str(&format!(
        "- Command: `dialtone-bench {}` (release build; open-file limit {} per process)\n",
        command.join(" "),
        f.fd_limit
    ));
    let server = match &topology.bus {
        None => "`dialtone serve` as a child process (same release build), configured as the \
                 other benchmarks' server (rate limits lifted, SMS to the bench's mock \
                 provider); generator and server share the 2 cores"
            .to_owned(),
        Some((url, subject)) => {
            let addresses: Vec<&str> = topology
                .bases
                .iter()
                .map(|b| b.trim_start_matches("http://"))
                .collect();
            format!(
                "{nodes} nodes, each `dialtone serve` as a child process (same release build) \
                 with its own data directory and port ({}), configured as the other \
                 benchmarks' server (rate limits lifted, SMS to the bench's mock provider), \
                 all with the same server key, on the one database and the NATS bus at \
                 `{url}`, subject `{subject}` (this run's own); generator and nodes share the \
                 2 cores, and \"server\" in the CPU figures is every node together",
                addresses.join(", ")
            )
        }
    };
    let (shared, through) = if nodes > 1 {
        (
            format!(", shared by the {nodes} nodes"),
            "node 1 of the API",
        )
    } else {
        (String::new(), "the API")
    };
    out.push_str(&format!("- Database: {database}{shared}\n"));
    out.push_str(&format!(
        "- Server: {server}. {} users registered through {through} (code only) in {:.1} s. \
         Client sockets come from {} source addresses (127.0.0.2 on); clients acknowledge the \
         latest seq of each conversation every {} ms{}.\n",
        f.registered,
        f.setup_secs,
        args.sources,
        args.ack_ms,
        if args.ack_ms == 0 { " (never)" } else { "" }
    ));
    out.push_str(match args.send {
        SendOver::Http => {
            "- Throughput and rate: messages posted over HTTP (`POST \
             /v1/conversations/{id}/messages`; \"POST answered\" is the 201).\n"
        }
        SendOver::Ws => {
            "- Throughput and rate: messages sent over each client's live connection (`send` \
             frames; \"POST answered\" is the `sent` answer, written after the commit). The \
             group phase posts over HTTP.\n"
        }
    });
    out.push_str(
        "- Latency runs from the send (throughput, group) or the scheduled send (rate) to \
         the recipient's reader task having the `message` frame; the time travels in the \
         message text. p50 / p90 / p99 / max in ms.\n",
    );
    if nodes > 1 {
        out.push_str(&format!(
            "- Nodes: the throughput and rate clients are spread round-robin (client i on node \
             i mod {nodes}); the two clients of each conversation (2k and 2k+1) are on \
             different nodes, so every direct message is committed by the sender's node and \
             reaches the recipient's over the bus. Group members are spread the same way (the \
             creator, client 0, on node 1).{}\n",
            if f.idle.is_some() {
                " The idle phase opens every socket on node 1 and reads node 1's memory (the \
                 CPU is every node's)."
            } else {
                ""
            }
        ));
    }

    if let Some(i) = &f.idle {
        let delta = i.server_after.0.saturating_sub(i.server_before.0);
        let per = delta as f64 / i.connections.max(1) as f64;
        let at_50k = i.server_before.0 as f64 + per * 50_000.0;
        out.push_str(&format!(
            "\n### Idle connections\n\n{} authenticated sockets opened ({:.1} s), the server \
             left to settle, then 10 s idle.\n\n",
            i.connections, i.connect_secs
        ));
        out.push_str("| Measure | Value |\n| --- | --- |\n");
        out.push_str(&format!(
            "| Server RSS before → after (KiB) | {} → {} ({} 10 s later; peak {}) |\n",
            i.server_before.0, i.server_after.0, i.server_later, i.server_after.1
        ));
        out.push_str(&format!(
            "| Server RSS per idle connection | {per:.1} KiB |\n"
        ));
        out.push_str(&format!(
            "| Generator RSS change (its {} client sockets) | {:+} KiB |\n",
            i.connections, i.generator_delta
        ));
        out.push_str(&format!("| CPU while idle | {} |\n", i.idle_cpu));
        out.push_str(&format!(
            "| Sockets closed by the server | {} |\n",
            i.closed
        ));
        out.push_str(&format!(
            "\nTarget: 50,000 idle authenticated connections in under 1 GiB of server RSS: \
             {} ({:.0} MiB at 50,000 = RSS before + 50,000 × the per-connection figure{}).\n",
            verdict(at_50k < 1024.0 * 1024.0),
            at_50k / 1024.0,
            if i.connections < 50_000 {
                format!(
                    "; extrapolated from {} connections, since 50,000 need more open files \
                     than this machine's hard limit of {} allows one process",
                    i.connections, f.fd_limit
                )
            } else {
                String::new()
            }
        ));
    }

    let mut runs: Vec<&RunFigures> = f.throughput.iter().collect();
    runs.extend(f.rates.iter());
    if !runs.is_empty() {
        out.push_str(&format!(
            "\n### Direct messages, {} connected clients\n\n",
            args.clients / 2 * 2
        ));
        out.push_str(
            "| Run | Seconds | Scheduled | Accepted (201) /s | Delivered /s in the window | \
             Delivered /s to the last arrival | Delivered in all / accepted | Failed | \
             Send→receipt | POST answered | CPU |\n\
             | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        );
        for r in &runs {
            out.push_str(&format!(
                "| {} | {:.0} | {} | {:.0} | {:.0} | {:.0} ({:.1} s) | {} / {} | {} | {} | {} | {} |\n",
                r.label,
                r.seconds,
                if r.scheduled > 0 {
                    format!(
                        "{}{}",
                        r.scheduled,
                        if r.late_ms > 0.0 {
                            format!(" (late ≤ {:.1} ms)", r.late_ms)
                        } else {
                            String::new()
                        }
                    )
                } else {
                    "—".into()
                },
                r.accepted as f64 / r.seconds,
                r.delivered_in_window as f64 / r.seconds,
                r.sustained(),
                r.delivering_secs,
                r.delivered,
                r.accepted,
                r.failed,
                r.latency.line(),
                r.http.line(),
                r.cpu
            ));
        }
        out.push_str(
            "\nCPU per accepted message over each run's sending window (the processes' \
             clock ticks, 10 ms each, ÷ messages accepted):",
        );
        for r in &runs {
            out.push_str(&format!(" {}: {};", r.label, per_message_text(r)));
        }
        out.pop();
        out.push_str(".\n");
        if let Some(t) = &f.throughput {
            let delivered = (t.delivered_in_window as f64 / t.seconds).max(t.sustained());
            out.push_str(&format!(
                "\nThroughput run: {} clients × {} requests in flight. Target: at least 20,000 \
                 messages/s delivered with 1,000 connected clients: {} ({delivered:.0}/s).\n",
                args.clients / 2 * 2,
                args.inflight,
                verdict(delivered >= 20_000.0)
            ));
        }
        for r in &f.rates {
            let complete = r.delivered + r.delivered / 100 >= r.scheduled;
            out.push_str(&format!(
                "\nRate run {}: p99 {:.1} ms over the {} messages delivered of {} scheduled{}.",
                r.label,
                r.latency.p99,
                r.delivered,
                r.scheduled,
                if complete {
                    ""
                } else {
                    " (more than 1% never arrived: the true p99 is beyond the drain time)"
                }
            ));
            if r.rate.is_some_and(|x| (x - 10_000.0).abs() < 0.5) {
                out.push_str(&format!(
                    " Target: p99 under 50 ms at 10,000 messages/s: {}.",
                    verdict(complete && r.latency.p99 < 50.0)
                ));
            }
            out.push('\n');
        }
    }

    if let Some(g) = &f.group {
        out.push_str(&format!(
            "\n### Group fan-out, {} members all connected\n\n{} warm-up then {} measured \
             messages from the creator, one at a time ({} ms apart); each waits until every \
             other member's reader has it (up to {} s). CPU: {}.{}\n\n",
            g.members,
            GROUP_WARMUPS,
            args.group_messages,
            GROUP_PAUSE.as_millis(),
            GROUP_WAIT.as_secs(),
            g.cpu,
            if nodes > 1 {
                let remote = (1..g.members).filter(|i| i % nodes != 0).count();
                format!(
                    " Members are spread over the {nodes} nodes: {remote} of the {} others \
                     are not on the creator's node 1 and get each message over the bus.",
                    g.members - 1
                )
            } else {
                String::new()
            }
        ));
        out.push_str("| Measure | p50 / p90 / p99 / max (ms) |\n| --- | --- |\n");
        out.push_str(&format!(
            "| Until the last of {} members has it | {} |\n",
            g.members - 1,
            g.last.line()
        ));
        out.push_str(&format!(
            "| Until the first has it | {} |\n",
            g.first.line()
        ));
        out.push_str(&format!(
            "| Every member's receipt (all deliveries) | {} |\n",
            if g.deliveries == 0 {
                "none arrived".to_owned()
            } else {
                g.all_latencies.line()
            }
        ));
        out.push_str(&format!("| POST answered (201) | {} |\n", g.post.line()));
        out.push_str(&format!(
            "\nMessages some member did not get within {} s (counted as {} s): {}{}{}. Target: every online member \
             of a 1,000-member group has it within 100 ms at p99: {} ({:.1} ms).\n",
            GROUP_WAIT.as_secs(),
            GROUP_WAIT.as_secs(),
            g.incomplete.len(),
            g.incomplete
                .first()
                .map(|(r, n)| format!(" (first: message {r}, {n} missing)"))
                .unwrap_or_default(),
            g.stopped
                .map(|n| format!(
                    "; the phase gave up after {n} messages ({GROUP_GIVE_UP} in a row incomplete, \
                     warm-ups included)"
                ))
                .unwrap_or_default(),
            verdict(g.incomplete.is_empty() && g.last.p99 < 100.0 && g.members >= 1000),
            g.last.p99
        ));
    }
    out.push_str(&format!(
        "\nSockets closed by the server during the message phases: {}.\n",
        f.closed
    ));
    if let Some(p) = &f.profile {
        out.push_str(&format!(
            "\nServer profile of the throughput phase recorded in `{p}` (`perf record -F 499 \
             -e cpu-clock -g`).\n"
        ));
    }
    out
}
