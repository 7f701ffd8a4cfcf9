//! `dialtone-bench catchup`: a device that was away while messages piled up for it
//! connects once and is sent every one of them (catch-up), against a server run as a child
//! process (`dialtone serve`), as in `messages`.
//!
//! The away user has three direct conversations and one group. While none of its devices is
//! connected, `--messages` messages are posted to it over HTTP by the other members, many
//! at once (the server's own send path: group commit, seqs, withheld lists). Then each of
//! `--devices` devices of that user (sessions that never connected) connects once, one
//! after the other, with `/v1/ws?caught_up=true`, and the reader measures the time from the
//! connect to `ready`, to the first message and to `caught_up`, and the messages per second
//! delivered to that one socket. Every run checks that each conversation's seqs arrived
//! once each, in order, with the message written at that seq, nothing after `caught_up`,
//! and that the device, having acknowledged, is sent nothing again when it reconnects; any
//! failure ends the benchmark with what was wrong.
//!
//! The socket is driven with tungstenite directly (as `fanout` does), to time `ready`
//! from the connect.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, anyhow};
use dialtone_client::{Client, ClientError, NewMessage};
use futures::stream::{SplitSink, SplitStream};
use futures::{FutureExt, SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::machine::{Machine, source_commit};
use crate::results;
use crate::serverproc::{self, ChildServer, CpuSplit, settle, split_text};
use crate::setup;

/// The away user is +86 134 0000 0000; the other members follow.
const FIRST_NUMBER: u64 = 134_0000_0000;
/// Direct conversations of the away user (one group besides).
const DIRECT: usize = 3;
/// What every message says after its index (about the length of a chat line).
const TEXT: &str = "the quick brown fox jumps over the lazy dog";
/// Attempts per POST while writing (a retry keeps the `client_id`: never a copy).
const ATTEMPTS: usize = 3;
/// Longest wait for the close handshake, and for a reconnect's `pong`.
const SHORT_WAIT: Duration = Duration::from_secs(30);

/// How the reconnecting device acknowledges what it gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ack {
    /// An `ack` for every message, as the web client does.
    Each,
    /// The latest seq of each conversation that moved, every so many milliseconds.
    Every(u64),
    /// Never.
    Never,
}

impl FromStr for Ack {
    type Err = String;

    fn from_str(s: &str) -> Result<Ack, String> {
        match s {
            "each" => Ok(Ack::Each),
            "never" => Ok(Ack::Never),
            ms => ms
                .trim_end_matches("ms")
                .parse::<u64>()
                .ok()
                .filter(|ms| *ms > 0)
                .map(Ack::Every)
                .ok_or_else(|| format!("{s:?}: `each`, `never` or milliseconds (`500ms`)")),
        }
    }
}

impl std::fmt::Display for Ack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ack::Each => f.write_str("an `ack` for every message, as the web client does"),
            Ack::Every(ms) => write!(
                f,
                "the latest seq of each conversation that moved, every {ms} ms"
            ),
            Ack::Never => f.write_str("never"),
        }
    }
}

/// Options of `dialtone-bench catchup`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Messages that pile up for the away user, spread evenly over its 3 direct
    /// conversations and its group.
    #[arg(long, default_value_t = 30_000)]
    pub messages: usize,
    /// Members of the group, the away user included (at least 2).
    #[arg(long, default_value_t = 10)]
    pub group_members: usize,
    /// POSTs in flight at once while the messages are written.
    #[arg(long, default_value_t = 64)]
    pub writers: usize,
    /// Away devices of the user (sessions that never connected); each connects once, in
    /// turn, and catches up on everything: one measured run each.
    #[arg(long, default_value_t = 3)]
    pub devices: usize,
    /// How the reconnecting device acknowledges: `each` (every message, as the web client
    /// does), milliseconds between acks of the latest seqs (`500ms`), or `never`.
    #[arg(long, default_value = "each")]
    pub ack: Ack,
    /// Live messages per second posted into the same conversations while a device catches
    /// up (0: none), so live delivery and catch-up meet; the check then waits for them too.
    #[arg(long, default_value_t = 0.0)]
    pub live_rate: f64,
    /// Write the acks from the task that reads the socket, awaiting each write (as a client
    /// acking from its read loop with `dialtone-client` does), instead of from a writer of
    /// their own (as a browser does). With a backlog over about 55,000 messages this
    /// deadlocks against the server here: see "Catch-up — notes" in RESULTS.md.
    #[arg(long)]
    pub acks_inline: bool,
    /// Longest wait for one device's catch-up, in seconds.
    #[arg(long, default_value_t = 300.0)]
    pub timeout: f64,
    /// The server binary. Default: `dialtone` next to this binary.
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// `postgres://USER@HOST:PORT/DB` to run on a fresh database created (and dropped
    /// afterwards) on that server. Unset: SQLite in a temporary directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Added to the section heading (`## Catch-up — SQLite — VARIANT`).
    #[arg(long)]
    pub variant: Option<String>,
    /// File to write the results section into. Default: bench/RESULTS.md.
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Print the figures only; leave the results file alone.
    #[arg(long)]
    pub no_write: bool,
}

/// One of the away user's conversations and who writes into it.
struct Conversation {
    id: String,
    label: String,
    /// Logged-in clients of the members other than the away user.
    senders: Vec<Client>,
}

/// What the bench wrote: per conversation (by index), seq → `client_id`.
type Written = Vec<HashMap<u64, String>>;

/// What one connection of a device received.
#[derive(Default)]
struct Session {
    /// From the start of the TCP connect to the end of the WebSocket handshake.
    upgraded: Duration,
    /// … to the `ready` frame.
    ready: Duration,
    /// `ready`'s `catching_up`.
    catching_up: Option<bool>,
    /// … to the first `message` frame.
    first_message: Option<Duration>,
    /// … to the `caught_up` frame.
    caught_up: Option<Duration>,
    /// … to the last `message` frame before `caught_up`.
    last_before_caught_up: Option<Duration>,
    /// `message` frames before `caught_up`, and after it (until the `pong` asked for then).
    before_caught_up: u64,
    after_caught_up: u64,
    /// Per conversation id, the (seq, client_id) of every `message` frame in arrival order.
    arrivals: HashMap<String, Vec<(u64, String)>>,
    /// Acks sent.
    acks: u64,
}

/// The fields of a server frame the reader looks at.
#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    catching_up: Option<bool>,
    #[serde(default, borrow)]
    message: Option<FrameMessage<'a>>,
}

#[derive(Deserialize)]
struct FrameMessage<'a> {
    #[serde(borrow)]
    conversation_id: Cow<'a, str>,
    seq: u64,
    #[serde(borrow)]
    client_id: Cow<'a, str>,
}

/// One device's catch-up, as measured.
struct Run {
    device: usize,
    session: Session,
    /// Server and generator CPU seconds from the connect to `caught_up`, and the split.
    cpu_secs: Option<(f64, f64)>,
    cpu: String,
    /// Live messages posted during the run.
    live: usize,
    /// The reconnect after it: `ready`'s `catching_up` and messages sent again.
    again: Option<(Option<bool>, u64)>,
}

impl Run {
    fn rate(&self) -> f64 {
        let s = &self.session;
        let secs = s.caught_up.unwrap_or_default().as_secs_f64() - s.ready.as_secs_f64();
        if secs > 0.0 {
            s.before_caught_up as f64 / secs
        } else {
            0.0
        }
    }
}

struct Figures {
    setup_secs: f64,
    write_secs: f64,
    written: usize,
    write_cpu: String,
    /// Label and last seq of each conversation when the devices started connecting.
    conversations: Vec<(String, u64)>,
    runs: Vec<Run>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.messages > 0, "--messages must be at least 1");
    anyhow::ensure!(args.devices > 0, "--devices must be at least 1");
    anyhow::ensure!(args.writers > 0, "--writers must be at least 1");
    anyhow::ensure!(
        args.group_members >= 2,
        "--group-members must be at least 2"
    );
    anyhow::ensure!(args.live_rate >= 0.0, "--live-rate cannot be negative");
    let machine = Machine::describe();
    let commit = source_commit();
    eprintln!("machine: {}; source at {commit}", machine.line());
    let bin = match &args.server_bin {
        Some(bin) => bin.clone(),
        None => serverproc::default_binary()?,
    };
    let server = ChildServer::start(&bin, args.database_url.as_deref(), 1, "").await?;
    eprintln!(
        "server pid {} on {}, {} database",
        server.head.pid, server.head.base, server.database.label
    );
    let outcome = measure(&args, &server).await;
    let label = server.database.label;
    let detail = server.database.detail.clone();
    let stopped = server.stop().await;
    let figures = outcome?;
    stopped?;

    let heading = match &args.variant {
        Some(v) => format!("## Catch-up — {label} — {v}"),
        None => format!("## Catch-up — {label}"),
    };
    let body = report(&args, &machine, &commit, &detail, &figures);
    println!("{heading}\n\n{body}");
    if !args.no_write {
        let file = setup::results_file(args.results.as_ref());
        results::write_section(&file, &heading, &body)?;
        eprintln!("wrote section {heading:?} of {}", file.display());
    }
    Ok(())
}

async fn measure(args: &Args, server: &ChildServer) -> anyhow::Result<Figures> {
    let started = Instant::now();
    let base = &server.head.base;
    let pids = server.pids();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .tcp_nodelay(true)
        .build()?;
    let users = args.group_members.max(DIRECT + 1);
    eprintln!(
        "[setup] registering {users} users and {} devices of the away one",
        args.devices
    );
    let phones = setup::valid_numbers(FIRST_NUMBER, users)?;
    let plain = Client::new(base);
    let mut clients = Vec::with_capacity(users);
    for phone in &phones {
        let login = setup::register(&plain, &server.provider, phone)
            .await
            .with_context(|| format!("registering {phone}"))?;
        clients.push(Client::from_http(base, http.clone()).with_token(login.token));
    }
    // Device 1 is the registration's session; the others log in by code. None connects.
    let mut devices = Vec::with_capacity(args.devices);
    devices.extend(clients[0].token().map(str::to_owned));
    while devices.len() < args.devices {
        let login = setup::log_in_by_code(&plain, &server.provider, &phones[0]).await?;
        anyhow::ensure!(!login.new_account, "{} registered twice", phones[0]);
        devices.push(login.token);
    }
    let away = clients[0].clone();
    let mut conversations = Vec::with_capacity(DIRECT + 1);
    for (k, peer) in clients[1..=DIRECT].iter().enumerate() {
        let created = away
            .create_direct(&phones[k + 1])
            .await
            .context("creating a direct conversation")?;
        conversations.push(Conversation {
            id: created.value.id,
            label: format!("direct {}", k + 1),
            senders: vec![peer.clone()],
        });
    }
    let group = away
        .create_group("catch-up", &phones[1..args.group_members])
        .await
        .context("creating the group")?;
    conversations.push(Conversation {
        id: group.id,
        label: format!("group of {}", args.group_members),
        senders: clients[1..args.group_members].to_vec(),
    });
    let conversations = Arc::new(conversations);
    let setup_secs = started.elapsed().as_secs_f64();

    eprintln!(
        "[write] {} messages to the away user over HTTP, {} in flight",
        args.messages, args.writers
    );
    settle(&pids).await;
    let cpu = CpuSplit::take(&pids);
    let started = Instant::now();
    let mut written = write(&conversations, args.messages, args.writers).await?;
    let write_secs = started.elapsed().as_secs_f64();
    let write_cpu = split_text(cpu, CpuSplit::take(&pids));
    eprintln!(
        "      written in {write_secs:.1} s ({:.0}/s); CPU {write_cpu}",
        args.messages as f64 / write_secs
    );
    let mut last_seqs = last_seqs(&away, &conversations).await?;
    for (k, c) in conversations.iter().enumerate() {
        let seqs = &written[k];
        anyhow::ensure!(
            seqs.keys().all(|s| *s >= 1 && *s <= last_seqs[k]),
            "{}: a message was answered with a seq past the conversation's last ({})",
            c.label,
            last_seqs[k]
        );
    }
    let at_start: Vec<(String, u64)> = conversations
        .iter()
        .zip(&last_seqs)
        .map(|(c, s)| (c.label.clone(), *s))
        .collect();

    let ws_url = format!(
        "ws://{}/v1/ws?caught_up=true",
        base.trim_start_matches("http://")
    );
    let mut runs = Vec::with_capacity(args.devices);
    for (d, token) in devices.iter().enumerate() {
        eprintln!("[device {}] connecting once with ?caught_up=true", d + 1);
        settle(&pids).await;
        let (mut run, live) =
            device_run(args, &pids, &ws_url, token, &conversations, &away, d + 1).await?;
        for (k, list) in live.into_iter().enumerate() {
            written[k].extend(list);
        }
        if args.live_rate > 0.0 {
            last_seqs = self::last_seqs(&away, &conversations).await?;
        }
        verify(
            &run,
            &conversations,
            &written,
            &last_seqs,
            args.live_rate > 0.0,
        )
        .with_context(|| format!("device {}", d + 1))?;
        let s = &run.session;
        eprintln!(
            "      ready {} ms, first message {} ms, caught_up {} ms: {} messages, {:.0}/s; \
             CPU {}; every seq once and in order",
            setup::ms(s.ready),
            s.first_message.map_or("—".into(), setup::ms),
            s.caught_up.map_or("—".into(), setup::ms),
            s.before_caught_up,
            run.rate(),
            run.cpu
        );
        if args.ack != Ack::Never {
            let again = reconnect(&ws_url, token).await?;
            eprintln!(
                "      reconnected: catching_up {:?}, {} messages sent again",
                again.0, again.1
            );
            anyhow::ensure!(
                again.0 == Some(false) && again.1 == 0,
                "device {}: after acknowledging everything and reconnecting, ready said \
                 catching_up {:?} and {} messages were sent again",
                d + 1,
                again.0,
                again.1
            );
            run.again = Some(again);
        }
        runs.push(run);
    }
    Ok(Figures {
        setup_secs,
        write_secs,
        written: args.messages,
        write_cpu,
        conversations: at_start,
        runs,
    })
}

/// The last seq of each conversation, as the away user sees it (in `conversations` order).
async fn last_seqs(away: &Client, conversations: &[Conversation]) -> anyhow::Result<Vec<u64>> {
    let listed = away
        .conversations()
        .await
        .context("GET /v1/conversations")?;
    conversations
        .iter()
        .map(|c| {
            listed
                .iter()
                .find(|l| l.id == c.id)
                .map(|l| l.last_seq)
                .ok_or_else(|| anyhow!("{} is not in the away user's list", c.label))
        })
        .collect()
}

/// Posts `count` messages, `writers` at once: message i into conversation i mod 4, from
/// its senders in turn. Per conversation, seq → `client_id` of what was written.
async fn write(
    conversations: &Arc<Vec<Conversation>>,
    count: usize,
    writers: usize,
) -> anyhow::Result<Written> {
    let next = Arc::new(AtomicUsize::new(0));
    let step = (count / 10).max(1);
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..writers {
        let (conversations, next) = (conversations.clone(), next.clone());
        tasks.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return anyhow::Ok(done);
                }
                let k = i % conversations.len();
                let c = &conversations[k];
                let sender = &c.senders[(i / conversations.len()) % c.senders.len()];
                let client_id = format!("cu-{i}");
                let text = format!("catch-up {i}: {TEXT}");
                let seq = post(sender, &c.id, &client_id, &text)
                    .await
                    .with_context(|| format!("writing message {i} into {}", c.label))?;
                done.push((k, seq, client_id));
                if (i + 1) % step == 0 {
                    eprintln!(
                        "      {}/{count} after {:.1} s",
                        i + 1,
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        });
    }
    let mut written: Written = vec![HashMap::new(); conversations.len()];
    while let Some(done) = tasks.join_next().await {
        for (k, seq, client_id) in done.context("writer")?? {
            if let Some(other) = written[k].insert(seq, client_id.clone()) {
                anyhow::bail!(
                    "{}: seq {seq} was answered for both {other} and {client_id}",
                    conversations[k].label
                );
            }
        }
    }
    Ok(written)
}

/// Posts one text message (retrying with the same `client_id` on a transport error); its seq.
async fn post(
    sender: &Client,
    conversation_id: &str,
    client_id: &str,
    text: &str,
) -> anyhow::Result<u64> {
    let message = NewMessage::text(client_id, text);
    let mut attempt = 1;
    loop {
        match sender.send_message(conversation_id, &message).await {
            Ok(posted) => return Ok(posted.value.seq),
            Err(e @ ClientError::Api { .. }) => return Err(e.into()),
            Err(e) if attempt >= ATTEMPTS => return Err(e.into()),
            Err(_) => attempt += 1,
        }
    }
}

/// One device connects and catches up, with live messages alongside if asked; the run and
/// the live messages written meanwhile (per conversation, seq → `client_id`).
async fn device_run(
    args: &Args,
    pids: &[u32],
    ws_url: &str,
    token: &str,
    conversations: &Arc<Vec<Conversation>>,
    away: &Client,
    device: usize,
) -> anyhow::Result<(Run, Written)> {
    let known = if args.live_rate > 0.0 {
        None
    } else {
        Some(last_seqs(away, conversations).await?)
    };
    let (targets_tx, targets_rx) = watch::channel(known.as_ref().map(|seqs| {
        conversations
            .iter()
            .zip(seqs)
            .map(|(c, s)| (c.id.clone(), *s))
            .collect::<HashMap<_, _>>()
    }));
    let (caught_tx, caught_rx) = oneshot::channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut live = JoinSet::new();
    let deadline = Instant::now() + Duration::from_secs_f64(args.timeout);
    let cpu_before = CpuSplit::take(pids);
    if args.live_rate > 0.0 {
        live.spawn(live_messages(
            conversations.clone(),
            args.live_rate,
            device,
            stop_rx,
        ));
    }
    let reader = catch_up(
        ws_url,
        token,
        args.ack,
        args.acks_inline,
        caught_tx,
        targets_rx,
        deadline,
    );
    let controller = async {
        let caught = caught_rx.await.is_ok();
        let cpu_after = CpuSplit::take(pids);
        let _ = stop_tx.send(true);
        let mut sent: Written = vec![HashMap::new(); conversations.len()];
        let mut failed = None;
        while let Some(done) = live.join_next().await {
            match done.map_err(anyhow::Error::from).and_then(|r| r) {
                Ok(list) => {
                    for (k, seq, client_id) in list {
                        sent[k].insert(seq, client_id);
                    }
                }
                Err(e) => failed = Some(e),
            }
        }
        if caught && known.is_none() {
            match last_seqs(away, conversations).await {
                Ok(seqs) => {
                    let targets = conversations
                        .iter()
                        .zip(&seqs)
                        .map(|(c, s)| (c.id.clone(), *s))
                        .collect();
                    let _ = targets_tx.send(Some(targets));
                }
                Err(e) => failed = Some(e),
            }
        }
        (cpu_after, sent, failed)
    };
    let (session, (cpu_after, sent, failed)) = tokio::join!(reader, controller);
    let session = session?;
    if let Some(e) = failed {
        return Err(e.context("live messages"));
    }
    let live_count = sent.iter().map(HashMap::len).sum();
    let run = Run {
        device,
        session,
        cpu_secs: cpu_before.zip(cpu_after).map(|(b, a)| a.seconds_since(&b)),
        cpu: split_text(cpu_before, cpu_after),
        live: live_count,
        again: None,
    };
    Ok((run, sent))
}

/// Posts `rate` messages per second (open loop), round the conversations, until told to
/// stop; what was written.
async fn live_messages(
    conversations: Arc<Vec<Conversation>>,
    rate: f64,
    device: usize,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<Vec<(usize, u64, String)>> {
    let done = Arc::new(Mutex::new(Vec::new()));
    let mut posts = JoinSet::new();
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let mut k = 0usize;
    while !*stop.borrow() {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        let due = (start.elapsed().as_secs_f64() * rate) as usize;
        while k < due {
            let c = k % conversations.len();
            let (conversations, done) = (conversations.clone(), done.clone());
            posts.spawn(async move {
                let conversation = &conversations[c];
                let sender = &conversation.senders[k % conversation.senders.len()];
                let client_id = format!("live-{device}-{k}");
                let seq = post(
                    sender,
                    &conversation.id,
                    &client_id,
                    &format!("live {k}: {TEXT}"),
                )
                .await
                .with_context(|| format!("live message {k} into {}", conversation.label))?;
                done.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((c, seq, client_id));
                anyhow::Ok(())
            });
            k += 1;
        }
        while let Some(finished) = posts.try_join_next() {
            finished??;
        }
    }
    while let Some(finished) = posts.join_next().await {
        finished??;
    }
    let done = std::mem::take(&mut *done.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(done)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `url` with the bearer token; the socket and the time the handshake took.
async fn open(url: &str, token: &str) -> anyhow::Result<(Socket, Duration)> {
    let started = Instant::now();
    let mut request = url.into_client_request()?;
    request.headers_mut().insert(
        "Authorization",
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .context("WebSocket handshake")?;
    Ok((socket, started.elapsed()))
}

/// Where the client's frames (acks, the ping) go.
enum Outbox {
    /// To a writer of their own, as a browser's `WebSocket.send` does: reading never
    /// waits for a write.
    Queued(mpsc::UnboundedSender<WsMessage>),
    /// Written by the reading task itself, each write awaited (as a client that acks from
    /// its read loop with `dialtone-client`'s `LiveConnection::ack` does).
    Inline(SplitSink<Socket, WsMessage>),
}

impl Outbox {
    async fn feed(&mut self, frame: WsMessage) -> anyhow::Result<()> {
        match self {
            Outbox::Queued(queue) => queue
                .send(frame)
                .map_err(|_| anyhow!("the socket's writer stopped")),
            Outbox::Inline(sink) => Ok(sink.feed(frame).await?),
        }
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        match self {
            Outbox::Queued(_) => Ok(()),
            Outbox::Inline(sink) => Ok(sink.flush().await?),
        }
    }
}

/// Writes what is queued, flushing whenever the queue is empty, until it closes; the sink.
async fn write_queued(
    mut sink: SplitSink<Socket, WsMessage>,
    mut queue: mpsc::UnboundedReceiver<WsMessage>,
) -> anyhow::Result<SplitSink<Socket, WsMessage>> {
    while let Some(frame) = queue.recv().await {
        sink.feed(frame).await?;
        while let Ok(frame) = queue.try_recv() {
            sink.feed(frame).await?;
        }
        sink.flush().await?;
    }
    Ok(sink)
}

/// Messages received so far, readable when a catch-up is given up.
#[derive(Default)]
struct Counter {
    messages: AtomicU64,
    caught_up: AtomicBool,
}

/// Connects, reads `ready`, then every frame until `caught_up` came and each conversation
/// reached its target seq (`targets`, known at once or after live sending stopped); says
/// when `caught_up` came through `caught`. Then asks for a `pong` (counting messages that
/// come before it), acknowledges what is left to and closes politely. Gives up at
/// `deadline` whatever it is waiting for (a write included).
#[allow(clippy::too_many_arguments)]
async fn catch_up(
    url: &str,
    token: &str,
    ack: Ack,
    inline: bool,
    caught: oneshot::Sender<()>,
    targets: watch::Receiver<Option<HashMap<String, u64>>>,
    deadline: Instant,
) -> anyhow::Result<Session> {
    let counter = Counter::default();
    let run = async {
        let t0 = Instant::now();
        let (socket, upgraded) = open(url, token).await?;
        let (sink, stream) = socket.split();
        let (outbox, writer) = if inline {
            (Outbox::Inline(sink), None)
        } else {
            let (queue, queued) = mpsc::unbounded_channel();
            (Outbox::Queued(queue), Some(write_queued(sink, queued)))
        };
        let reading = read(stream, outbox, t0, upgraded, ack, caught, targets, &counter);
        let writing = async {
            match writer {
                Some(writer) => writer.await.map(Some),
                None => Ok(None),
            }
        };
        let (read, written) = tokio::join!(reading, writing);
        let (session, stream, sink) = read?;
        let sink = match (written?, sink) {
            (Some(sink), _) | (None, Some(sink)) => sink,
            (None, None) => anyhow::bail!("no sink to close"),
        };
        close(stream.reunite(sink)?).await;
        Ok(session)
    };
    match tokio::time::timeout_at(deadline, run).await {
        Ok(done) => done,
        Err(_) => Err(anyhow!(
            "not caught up by the deadline (--timeout): {} messages had arrived, caught_up {}",
            counter.messages.load(Ordering::Relaxed),
            if counter.caught_up.load(Ordering::Relaxed) {
                "seen"
            } else {
                "not seen"
            }
        )),
    }
}

/// The reading side of [`catch_up`]; gives back the stream, and the sink if it wrote
/// inline (the outbox, and with it the writer's queue, is dropped here).
#[allow(clippy::too_many_arguments)]
async fn read(
    mut stream: SplitStream<Socket>,
    mut outbox: Outbox,
    t0: Instant,
    upgraded: Duration,
    ack: Ack,
    caught: oneshot::Sender<()>,
    mut targets: watch::Receiver<Option<HashMap<String, u64>>>,
    counter: &Counter,
) -> anyhow::Result<(
    Session,
    SplitStream<Socket>,
    Option<SplitSink<Socket, WsMessage>>,
)> {
    let mut s = Session {
        upgraded,
        ..Session::default()
    };
    let first = next_text(&mut stream).await?;
    let frame: Frame = serde_json::from_str(&first).context("the first frame")?;
    anyhow::ensure!(frame.kind == "ready", "the first frame was {first}");
    s.ready = t0.elapsed();
    s.catching_up = frame.catching_up;
    let mut caught = Some(caught);
    if s.catching_up == Some(false)
        && let Some(caught) = caught.take()
    {
        let _ = caught.send(());
    }
    let mut latest: HashMap<String, u64> = HashMap::new();
    let mut acked: HashMap<String, u64> = HashMap::new();
    let every = match ack {
        Ack::Every(ms) => Duration::from_millis(ms),
        Ack::Each | Ack::Never => Duration::from_secs(3600),
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut targets_open = true;
    loop {
        let reached = caught.is_none()
            && targets.borrow().as_ref().is_some_and(|t| {
                t.iter()
                    .all(|(c, seq)| latest.get(c).copied().unwrap_or(0) >= *seq)
            });
        if reached {
            break;
        }
        tokio::select! {
            message = stream.next() => {
                let mut message = Some(message);
                let mut fed = false;
                // This frame and whatever else is already here, then one flush.
                while let Some(m) = message.take() {
                    let text = match m {
                        Some(Ok(WsMessage::Text(text))) => text,
                        Some(Ok(WsMessage::Close(frame))) => {
                            anyhow::bail!("the server closed the socket: {frame:?} ({})", progress(&s))
                        }
                        Some(Ok(_)) => {
                            message = stream.next().now_or_never();
                            continue;
                        }
                        Some(Err(e)) => anyhow::bail!("socket error: {e} ({})", progress(&s)),
                        None => anyhow::bail!("the socket ended ({})", progress(&s)),
                    };
                    let at = t0.elapsed();
                    if let Some((conversation, seq)) = take(&mut s, &text, at, &mut caught)? {
                        counter.messages.fetch_add(1, Ordering::Relaxed);
                        if ack == Ack::Each {
                            outbox.feed(ack_frame(&conversation, seq)).await?;
                            s.acks += 1;
                            fed = true;
                        }
                        let highest = latest.entry(conversation).or_default();
                        *highest = (*highest).max(seq);
                    }
                    if s.caught_up.is_some() {
                        counter.caught_up.store(true, Ordering::Relaxed);
                    }
                    message = stream.next().now_or_never();
                }
                if fed {
                    outbox.flush().await?;
                }
            }
            _ = tick.tick(), if matches!(ack, Ack::Every(_)) => {
                s.acks += send_acks(&mut outbox, &latest, &mut acked).await?;
            }
            changed = targets.changed(), if targets_open => {
                if changed.is_err() {
                    targets_open = false;
                    anyhow::ensure!(
                        targets.borrow().is_some(),
                        "catch-up stopped before its targets were known ({})",
                        progress(&s)
                    );
                }
            }
        }
    }
    // Anything still on its way after `caught_up` comes before the answer to this ping.
    outbox
        .feed(WsMessage::Text(r#"{"type":"ping"}"#.into()))
        .await?;
    outbox.flush().await?;
    loop {
        let text = next_text(&mut stream).await?;
        let frame: Frame = serde_json::from_str(&text)?;
        match frame.kind.as_ref() {
            "pong" => break,
            "message" => {
                s.after_caught_up += 1;
                take(&mut s, &text, t0.elapsed(), &mut None)?;
            }
            _ => {}
        }
    }
    if matches!(ack, Ack::Every(_)) {
        s.acks += send_acks(&mut outbox, &latest, &mut acked).await?;
    }
    let sink = match outbox {
        Outbox::Inline(sink) => Some(sink),
        Outbox::Queued(_) => None,
    };
    Ok((s, stream, sink))
}

/// Records a frame: a message's arrival (its conversation and seq returned), `caught_up`.
fn take(
    s: &mut Session,
    text: &str,
    at: Duration,
    caught: &mut Option<oneshot::Sender<()>>,
) -> anyhow::Result<Option<(String, u64)>> {
    let frame: Frame = serde_json::from_str(text).with_context(|| format!("frame {text}"))?;
    match (frame.kind.as_ref(), frame.message) {
        ("message", Some(m)) => {
            s.first_message.get_or_insert(at);
            if s.caught_up.is_none() {
                s.before_caught_up += 1;
                s.last_before_caught_up = Some(at);
            }
            let conversation = m.conversation_id.into_owned();
            s.arrivals
                .entry(conversation.clone())
                .or_default()
                .push((m.seq, m.client_id.into_owned()));
            Ok(Some((conversation, m.seq)))
        }
        ("caught_up", _) => {
            anyhow::ensure!(
                s.caught_up.is_none(),
                "a second caught_up frame ({})",
                progress(s)
            );
            s.caught_up = Some(at);
            if let Some(caught) = caught.take() {
                let _ = caught.send(());
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

fn ack_frame(conversation_id: &str, seq: u64) -> WsMessage {
    let frame =
        serde_json::json!({ "type": "ack", "conversation_id": conversation_id, "seq": seq });
    WsMessage::Text(frame.to_string().into())
}

/// Acknowledges the latest seq of each conversation that moved since the last acks.
async fn send_acks(
    outbox: &mut Outbox,
    latest: &HashMap<String, u64>,
    acked: &mut HashMap<String, u64>,
) -> anyhow::Result<u64> {
    let mut sent = 0;
    for (conversation, seq) in latest {
        if acked.get(conversation) != Some(seq) {
            outbox.feed(ack_frame(conversation, *seq)).await?;
            acked.insert(conversation.clone(), *seq);
            sent += 1;
        }
    }
    outbox.flush().await?;
    Ok(sent)
}

/// Closes politely and waits for the server's answer: the server records the acks it was
/// sent before it answers the close.
async fn close(mut socket: Socket) {
    let _ = socket.close(None).await;
    let _ = tokio::time::timeout(SHORT_WAIT, async {
        while let Some(Ok(_)) = socket.next().await {}
    })
    .await;
}

/// The next text frame.
async fn next_text<S>(stream: &mut S) -> anyhow::Result<String>
where
    S: futures::Stream<Item = Result<WsMessage, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = stream
            .next()
            .await
            .ok_or_else(|| anyhow!("the socket ended"))??;
        match message {
            WsMessage::Text(text) => return Ok(text.to_string()),
            WsMessage::Close(frame) => anyhow::bail!("the server closed the socket: {frame:?}"),
            _ => {}
        }
    }
}

/// Where a catch-up stood, for an error.
fn progress(s: &Session) -> String {
    let mut per: Vec<String> = s
        .arrivals
        .iter()
        .map(|(c, a)| format!("{c}: {} up to seq {}", a.len(), a.last().map_or(0, |x| x.0)))
        .collect();
    per.sort();
    format!(
        "{} messages before caught_up, caught_up {}; {}",
        s.before_caught_up,
        if s.caught_up.is_some() {
            "seen"
        } else {
            "not seen"
        },
        per.join(", ")
    )
}

/// The device connects again after acknowledging everything: `ready`'s `catching_up`, and
/// the messages that come before the answer to a ping (none should).
async fn reconnect(url: &str, token: &str) -> anyhow::Result<(Option<bool>, u64)> {
    let check = async {
        let (mut socket, _) = open(url, token).await?;
        let first = next_text(&mut socket).await?;
        let frame: Frame = serde_json::from_str(&first)?;
        anyhow::ensure!(frame.kind == "ready", "the first frame was {first}");
        let catching_up = frame.catching_up;
        socket
            .send(WsMessage::Text(r#"{"type":"ping"}"#.into()))
            .await?;
        let mut again = 0;
        loop {
            let text = next_text(&mut socket).await?;
            let frame: Frame = serde_json::from_str(&text)?;
            match frame.kind.as_ref() {
                "pong" => break,
                "message" => again += 1,
                _ => {}
            }
        }
        close(socket).await;
        Ok((catching_up, again))
    };
    tokio::time::timeout(SHORT_WAIT, check)
        .await
        .map_err(|_| anyhow!("no pong within {SHORT_WAIT:?} of reconnecting"))?
}

/// Every seq of every conversation, up to its last, arrived once, in order, as the message
/// written at that seq; `caught_up` came, after the last of them (without live messages).
fn verify(
    run: &Run,
    conversations: &[Conversation],
    written: &Written,
    last_seqs: &[u64],
    live: bool,
) -> anyhow::Result<()> {
    let s = &run.session;
    let mut problems = Vec::new();
    if s.catching_up != Some(true) {
        problems.push(format!("ready said catching_up {:?}", s.catching_up));
    }
    if s.caught_up.is_none() {
        problems.push("no caught_up frame".to_owned());
    }
    if !live && s.after_caught_up > 0 {
        problems.push(format!(
            "{} messages came after caught_up",
            s.after_caught_up
        ));
    }
    for (k, c) in conversations.iter().enumerate() {
        let arrivals = s.arrivals.get(&c.id).map_or(&[][..], Vec::as_slice);
        let mut previous = 0;
        let (mut backwards, mut repeated, mut wrong) = (0, 0, 0);
        let mut first_bad = None;
        for (i, (seq, client_id)) in arrivals.iter().enumerate() {
            if *seq < previous {
                backwards += 1;
            } else if *seq == previous {
                repeated += 1;
            }
            if *seq <= previous {
                first_bad.get_or_insert(format!("arrival {i}: seq {seq} after {previous}"));
            }
            previous = previous.max(*seq);
            if let Some(expected) = written[k].get(seq)
                && expected != client_id
            {
                wrong += 1;
                first_bad.get_or_insert(format!(
                    "seq {seq} carried {client_id}, written as {expected}"
                ));
            }
        }
        let mut seen = vec![false; usize::try_from(last_seqs[k]).unwrap_or(0) + 1];
        let mut beyond = 0;
        for (seq, _) in arrivals {
            match usize::try_from(*seq).ok().and_then(|i| seen.get_mut(i)) {
                Some(slot) if *seq > 0 => *slot = true,
                _ => beyond += 1,
            }
        }
        let missing: Vec<usize> = (1..seen.len()).filter(|i| !seen[*i]).collect();
        let unwritten = written[k].keys().filter(|seq| **seq > last_seqs[k]).count();
        if backwards + repeated + wrong + beyond + unwritten > 0 || !missing.is_empty() {
            problems.push(format!(
                "{} ({}): {} arrivals for last seq {}; {backwards} out of order, {repeated} \
                 repeated, {wrong} with another message's content, {beyond} past the last \
                 seq, {} missing{}{}",
                c.label,
                c.id,
                arrivals.len(),
                last_seqs[k],
                missing.len(),
                if missing.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (first: {:?})",
                        missing.iter().take(10).collect::<Vec<_>>()
                    )
                },
                first_bad
                    .map(|b| format!("; first problem: {b}"))
                    .unwrap_or_default()
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(anyhow!(
            "DELIVERY CHECK FAILED:\n  {}",
            problems.join("\n  ")
        ))
    }
}

fn report(args: &Args, machine: &Machine, commit: &str, database: &str, f: &Figures) -> String {
    let command: Vec<String> = std::env::args().skip(1).collect();
    let mut out = String::new();
    out.push_str(&format!(
        "- Date: {}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    out.push_str(&format!("- Machine: {}\n", machine.line()));
    out.push_str(&format!(
        "- Command: `dialtone-bench {}` (release build)\n",
        command.join(" ")
    ));
    out.push_str(&format!(
        "- Code: {commit}{}\n",
        if args.server_bin.is_some() {
            " (the bench's; the server binary was given with --server-bin)"
        } else {
            ""
        }
    ));
    out.push_str(&format!("- Database: {database}\n"));
    out.push_str(&format!(
        "- Server: `dialtone serve` as a child process (same release build), configured as \
         the other benchmarks' server (rate limits lifted, SMS to the bench's mock \
         provider); generator and server share the 2 cores. Setup {:.1} s: {} users \
         registered through the API (code only), {} devices of the away user (code logins), \
         3 direct conversations and a group of {} with it.\n",
        f.setup_secs,
        args.group_members.max(DIRECT + 1),
        args.devices,
        args.group_members
    ));
    let per: Vec<String> = f
        .conversations
        .iter()
        .map(|(label, seq)| format!("{label} {seq}"))
        .collect();
    out.push_str(&format!(
        "- Backlog: {} messages posted over HTTP by the other members (`POST \
         /v1/conversations/{{id}}/messages`, {} in flight, message i into conversation i mod \
         4; the server's own send path: group commit, seqs, withheld lists) while none of \
         the away user's devices was connected: {:.1} s ({:.0}/s; CPU {}). Last seqs: {} \
         (the group's also counts the system line of its creation, if any).\n",
        f.written,
        args.writers,
        f.write_secs,
        f.written as f64 / f.write_secs.max(1e-9),
        f.write_cpu,
        per.join(", ")
    ));
    out.push_str(&format!(
        "- Each device (a session that never connected) connects once, one after the other, \
         with `/v1/ws?caught_up=true` (server settled first). Times run from the start of \
         the TCP connect. Messages/s = messages before `caught_up` ÷ (time to `caught_up` − \
         time to `ready`); CPU from the connect to `caught_up`. The device acknowledges: {}; \
         {}.{}\n",
        args.ack,
        if args.acks_inline {
            "its frames are written by the task that reads the socket, each write awaited \
             (`--acks-inline`)"
        } else {
            "its frames are written by a writer of their own, so reading never waits for a \
             write (as a browser's `WebSocket.send`)"
        },
        if args.live_rate > 0.0 {
            format!(
                " Meanwhile {:.0} live messages/s are posted into the same conversations \
                 (each device's backlog grows by what was posted during the runs before it; \
                 the check waits for the live ones too).",
                args.live_rate
            )
        } else {
            String::new()
        }
    ));
    out.push_str(
        "- Checked for every run: `ready` said `catching_up: true`; per conversation every \
         seq from 1 to the last arrived exactly once, in increasing order, carrying the \
         message written at that seq; `caught_up` came after the last of them (a `ping` \
         after it is answered before any further message); after the device acknowledged \
         and closed, it connects again and `ready` says `catching_up: false` and no message \
         is sent again. A failure stops the benchmark with what was wrong.\n\n",
    );
    out.push_str(
        "| Device | Handshake | Ready | First message | `caught_up` | Messages | Messages/s | \
         Server CPU per message | CPU | Reconnect |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in &f.runs {
        let s = &r.session;
        let per_message = r.cpu_secs.map_or("unknown".into(), |(server, generator)| {
            let n = s.before_caught_up.max(1) as f64;
            format!(
                "{:.1} µs (generator {:.1} µs)",
                server * 1e6 / n,
                generator * 1e6 / n
            )
        });
        out.push_str(&format!(
            "| {} | {} ms | {} ms | {} ms | {} ms | {}{} | {:.0} | {} | {} | {} |\n",
            r.device,
            setup::ms(s.upgraded),
            setup::ms(s.ready),
            s.first_message.map_or("—".into(), setup::ms),
            s.caught_up.map_or("—".into(), setup::ms),
            s.before_caught_up,
            if r.live > 0 {
                format!(" ({} live posted meanwhile)", r.live)
            } else {
                String::new()
            },
            r.rate(),
            per_message,
            r.cpu,
            match r.again {
                Some((catching_up, again)) => format!(
                    "catching_up {}, {again} sent again",
                    catching_up.map_or("absent".into(), |c| c.to_string())
                ),
                None => "not checked (no acks)".into(),
            }
        ));
    }
    let mut rates: Vec<f64> = f.runs.iter().map(Run::rate).collect();
    rates.sort_by(f64::total_cmp);
    let mut times: Vec<f64> = f
        .runs
        .iter()
        .filter_map(|r| r.session.caught_up.map(|d| d.as_secs_f64()))
        .collect();
    times.sort_by(f64::total_cmp);
    if let (Some(rate), Some(time)) = (rates.get(rates.len() / 2), times.get(times.len() / 2)) {
        out.push_str(&format!(
            "\nMedian of {} devices: {rate:.0} messages/s, `caught_up` {time:.2} s after the \
             connect. Every run passed the delivery check.\n",
            f.runs.len()
        ));
    }
    out
}
