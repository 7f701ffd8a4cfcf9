//! `dialtone-bench fanout`: one presence change seen by N connected watchers, and how long
//! until the last of them has it.
//!
//! N + 1 users register through the API (code only). Every watcher's address book holds
//! the target; the target keeps one live connection (so it is online) and each watcher
//! one WebSocket on `/v1/ws`. Each round the target sets its presence (`PUT /v1/presence`,
//! alternating busy / available) and the round lasts until every watcher has received
//! the `presence` frame with the new state.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, anyhow};
use dialtone_client::{Client, ContactInput};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::machine::{CpuSnapshot, Machine, others_text};
use crate::results;
use crate::setup::{self, Server};
use crate::stats::{Latencies, Summary};

/// The target is +86 136 0000 0000; watchers +86 135 0000 0000 on.
const TARGET_FIRST: u64 = 136_0000_0000;
const WATCHER_FIRST: u64 = 135_0000_0000;
/// Longest wait for one round's frames.
const ROUND_WAIT: Duration = Duration::from_secs(30);
/// Pause between rounds, so rounds do not overlap.
const PAUSE: Duration = Duration::from_millis(100);

/// Options of `dialtone-bench fanout`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Connected watchers of the target.
    #[arg(long, default_value_t = 1000)]
    pub watchers: usize,
    /// Measured presence changes (after the warm-ups).
    #[arg(long, default_value_t = 50)]
    pub rounds: usize,
    /// Unmeasured presence changes first.
    #[arg(long, default_value_t = 3)]
    pub warmups: usize,
    /// Concurrent clients while registering and connecting.
    #[arg(long, default_value_t = 20)]
    pub concurrency: usize,
    /// Concurrent address-book uploads while setting up (above 1, SQLite answers some of
    /// them with 500; see RESULTS.md).
    #[arg(long, default_value_t = 1)]
    pub upload_concurrency: usize,
    /// `postgres://USER@HOST:PORT/DB` to run on a fresh database created (and dropped
    /// afterwards) on that server. Unset: SQLite in a temporary directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// File to write the results section into. Default: bench/RESULTS.md.
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Print the figures only; leave the results file alone.
    #[arg(long)]
    pub no_write: bool,
}

/// A `presence` frame about the target, as one watcher received it.
struct Seen {
    watcher: usize,
    state: String,
    at: Instant,
}

struct Figures {
    setup: Duration,
    last: Summary,
    first: Summary,
    put: Summary,
    /// Rounds in which some watcher never got the frame, and how many were missing.
    incomplete: Vec<(usize, usize)>,
    closed: usize,
    others: String,
    fd_limit: String,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.watchers > 0, "--watchers must be at least 1");
    anyhow::ensure!(args.rounds > 0, "--rounds must be at least 1");
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    let machine = Machine::describe();
    eprintln!("machine: {}", machine.line());
    let fd_limit = open_file_limit();
    eprintln!("open-file limit: {fd_limit}");

    let server = Server::start(args.database_url.as_deref(), |_| {}).await?;
    eprintln!(
        "server on {}, {} database",
        server.base, server.database.label
    );
    let outcome = measure(&args, &server, fd_limit).await;
    let label = server.database.label;
    let detail = server.database.detail.clone();
    let stopped = server.stop().await;
    let figures = outcome?;
    stopped?;

    let heading = format!("## Presence fan-out — {label}");
    let body = report(&args, &machine, &detail, &figures);
    println!("{heading}\n\n{body}");
    if !args.no_write {
        let file = setup::results_file(args.results.as_ref());
        results::write_section(&file, &heading, &body)?;
        eprintln!("wrote section {heading:?} of {}", file.display());
    }
    Ok(())
}

/// The soft limit on open files, from `/proc/self/limits`.
fn open_file_limit() -> String {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).map(str::to_owned))
        })
        .unwrap_or_else(|| "unknown".into())
}

async fn measure(args: &Args, server: &Server, fd_limit: String) -> anyhow::Result<Figures> {
    if let Ok(limit) = fd_limit.parse::<usize>() {
        // Client and server ends of every socket live in this process.
        anyhow::ensure!(
            limit > 2 * args.watchers + 200,
            "open-file limit {limit} is too low for {} watchers: raise it (`ulimit -n {}`)",
            args.watchers,
            2 * args.watchers + 1000
        );
    }
    let started = Instant::now();
    let phones = setup::valid_numbers(WATCHER_FIRST, args.watchers)?;
    let target_phone = setup::valid_numbers(TARGET_FIRST, 1)?
        .into_iter()
        .next()
        .context("no target number")?;
    eprintln!(
        "[1/3] registering the target and {} watchers",
        args.watchers
    );
    let target =
        setup::register(&Client::new(&server.base), &server.provider, &target_phone).await?;
    let tokens = register_watchers(server, &phones, &target_phone, args).await?;

    eprintln!(
        "[2/3] connecting the target and {} watchers to /v1/ws",
        args.watchers
    );
    let addr = server.running.addr;
    let ws_url = format!("ws://{addr}/v1/ws");
    let (target_socket, _) = connect(&ws_url, &target.token).await?;
    let (sender, mut seen) = mpsc::unbounded_channel::<Seen>();
    let closed = Arc::new(AtomicUsize::new(0));
    let mut readers = JoinSet::new();
    let next = Arc::new(AtomicUsize::new(0));
    let tokens = Arc::new(tokens);
    let mut connectors = JoinSet::new();
    for _ in 0..args.concurrency {
        let (tokens, next, ws_url) = (tokens.clone(), next.clone(), ws_url.clone());
        connectors.spawn(async move {
            let mut sockets = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(token) = tokens.get(i) else { break };
                let (socket, ready) = connect(&ws_url, token).await?;
                sockets.push((i, socket, ready));
            }
            anyhow::Ok(sockets)
        });
    }
    let mut missing_in_ready = 0;
    while let Some(done) = connectors.join_next().await {
        for (i, socket, ready) in done.context("connecting")?? {
            let sees_target = ready["presence"]
                .as_array()
                .is_some_and(|p| p.iter().any(|f| f["phone"] == target_phone.as_str()));
            if !sees_target {
                missing_in_ready += 1;
            }
            let (sender, closed, target_phone) =
                (sender.clone(), closed.clone(), target_phone.clone());
            readers.spawn(read_frames(i, socket, target_phone, sender, closed));
        }
    }
    anyhow::ensure!(
        missing_in_ready == 0,
        "{missing_in_ready} watchers' ready frame did not show the target"
    );
    let setup_elapsed = started.elapsed();
    eprintln!(
        "      all connected after {:.1} s",
        setup_elapsed.as_secs_f64()
    );

    eprintln!(
        "[3/3] {} warm-up and {} measured presence changes",
        args.warmups, args.rounds
    );
    let http = reqwest::Client::new();
    let presence_url = format!("{}/v1/presence", server.base);
    let bearer = format!("Bearer {}", target.token);
    let (mut last, mut first, mut put) = (Latencies::new()?, Latencies::new()?, Latencies::new()?);
    let mut incomplete = Vec::new();
    let mut cpu = None;
    setup::wait_for_no_rustc().await;
    for round in 0..args.warmups + args.rounds {
        let measured = round >= args.warmups;
        if round == args.warmups {
            cpu = CpuSnapshot::take();
        }
        let state = if round % 2 == 0 { "busy" } else { "available" };
        while seen.try_recv().is_ok() {}
        let sent = Instant::now();
        let response = http
            .put(&presence_url)
            .header("Authorization", &bearer)
            .json(&json!({ "state": state }))
            .send()
            .await?;
        let answered = sent.elapsed();
        anyhow::ensure!(
            response.status().is_success(),
            "PUT /v1/presence: {}",
            response.status()
        );
        let mut got = vec![false; args.watchers];
        let (mut count, mut first_at, mut last_at) = (0, None, sent);
        let deadline = sent + ROUND_WAIT;
        while count < args.watchers {
            let Ok(Some(frame)) = tokio::time::timeout_at(deadline, seen.recv()).await else {
                break;
            };
            if frame.state != state {
                continue;
            }
            if let Some(slot) = got.get_mut(frame.watcher)
                && !*slot
            {
                *slot = true;
                count += 1;
                first_at.get_or_insert(frame.at);
                last_at = last_at.max(frame.at);
            }
        }
        if count < args.watchers {
            incomplete.push((round, args.watchers - count));
        }
        if measured {
            put.record(answered);
            last.record(last_at - sent);
            first.record(first_at.unwrap_or(last_at) - sent);
        }
        tokio::time::sleep(PAUSE).await;
    }
    let others = others_text(cpu, CpuSnapshot::take());
    let (last, first, put) = (last.summary(), first.summary(), put.summary());
    eprintln!(
        "      last watcher p50/p90/p99/max {} ms; first {} ms; PUT {} ms",
        last.line(),
        first.line(),
        put.line()
    );
    readers.abort_all();
    drop(target_socket);
    Ok(Figures {
        setup: setup_elapsed,
        last,
        first,
        put,
        incomplete,
        closed: closed.load(Ordering::Relaxed),
        others,
        fd_limit,
    })
}

/// Registers every watcher (code only) and uploads a book holding the target; their tokens.
async fn register_watchers(
    server: &Server,
    phones: &[String],
    target_phone: &str,
    args: &Args,
) -> anyhow::Result<Vec<String>> {
    let concurrency = args.concurrency;
    let phones = Arc::new(phones.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = JoinSet::new();
    for _ in 0..concurrency {
        let (phones, next) = (phones.clone(), next.clone());
        let provider = server.provider.clone();
        let client = Client::new(&server.base);
        workers.spawn(async move {
            let mut tokens = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(phone) = phones.get(i) else { break };
                let login = setup::register(&client, &provider, phone)
                    .await
                    .with_context(|| format!("registering {phone}"))?;
                tokens.push((i, login.token));
            }
            anyhow::Ok(tokens)
        });
    }
    let mut tokens = Vec::with_capacity(phones.len());
    while let Some(done) = workers.join_next().await {
        tokens.extend(done.context("registration worker")??);
    }
    tokens.sort();
    let tokens: Vec<String> = tokens.into_iter().map(|(_, t)| t).collect();
    // One upload at a time by default: concurrent uploads on SQLite answer some with 500
    // (see RESULTS.md), which is not what this benchmark measures.
    let book = Arc::new(vec![ContactInput {
        name: "Target".into(),
        phones: vec![target_phone.to_owned()],
    }]);
    let pairs: Arc<Vec<(String, String)>> =
        Arc::new(tokens.iter().cloned().zip(phones.iter().cloned()).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let mut uploads = JoinSet::new();
    for _ in 0..args.upload_concurrency.max(1) {
        let (pairs, next, book) = (pairs.clone(), next.clone(), book.clone());
        let client = Client::new(&server.base);
        uploads.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((token, phone)) = pairs.get(i) else {
                    break;
                };
                client
                    .clone()
                    .with_token(token.clone())
                    .merge_contacts(&book)
                    .await
                    .with_context(|| format!("uploading the book of {phone}"))?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = uploads.join_next().await {
        done.context("upload worker")??;
    }
    Ok(tokens)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket with the bearer token and reads its `ready` frame.
async fn connect(url: &str, token: &str) -> anyhow::Result<(Socket, Value)> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert(
        "Authorization",
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .context("WebSocket handshake")?;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .map_err(|_| anyhow!("no ready frame within 30 s"))?
            .ok_or_else(|| anyhow!("closed before the ready frame"))??;
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text)?;
            anyhow::ensure!(frame["type"] == "ready", "first frame was {text}");
            return Ok((socket, frame));
        }
    }
}

/// Forwards every `presence` frame about the target, stamped on arrival.
async fn read_frames(
    watcher: usize,
    mut socket: Socket,
    target_phone: String,
    seen: mpsc::UnboundedSender<Seen>,
    closed: Arc<AtomicUsize>,
) {
    while let Some(Ok(message)) = socket.next().await {
        let at = Instant::now();
        let Message::Text(text) = message else {
            continue;
        };
        let Ok(frame) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if frame["type"] == "presence" && frame["phone"] == target_phone.as_str() {
            let state = frame["state"].as_str().unwrap_or_default().to_owned();
            if seen.send(Seen { watcher, state, at }).is_err() {
                return;
            }
        }
    }
    closed.fetch_add(1, Ordering::Relaxed);
}

fn report(args: &Args, machine: &Machine, database: &str, f: &Figures) -> String {
    let command: Vec<String> = std::env::args().skip(1).collect();
    let met = f.last.p99 < 50.0 && f.incomplete.is_empty();
    let mut out = String::new();
    out.push_str(&format!(
        "- Date: {}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    out.push_str(&format!("- Machine: {}\n", machine.line()));
    out.push_str(&format!(
        "- Command: `dialtone-bench {}` (release build; open-file limit {})\n",
        command.join(" "),
        f.fd_limit
    ));
    out.push_str(&format!("- Database: {database}\n"));
    out.push_str(&format!(
        "- Setup ({:.1} s): {} watchers and one target registered through the API (code \
         only); each watcher's address book holds the target; the target keeps one \
         WebSocket open (so it is online), each watcher one on `/v1/ws` (bearer header, \
         `ready` frame read and checked to show the target). Server and all {} client \
         sockets share this process and the cores.\n",
        f.setup.as_secs_f64(),
        args.watchers,
        args.watchers + 1
    ));
    out.push_str(&format!(
        "- Each round: the target sends `PUT /v1/presence` (alternately busy and available); \
         fan-out time runs from sending the PUT until the last watcher's reader task has \
         the `presence` frame with the new state. {} warm-up rounds, then {} measured, \
         {} ms apart; with {} rounds p99 is the highest or second-highest round.\n",
        args.warmups,
        args.rounds,
        PAUSE.as_millis(),
        args.rounds
    ));
    out.push_str(&format!(
        "- CPU used by other processes while measuring: {}\n\n",
        f.others
    ));
    out.push_str("| Measure | p50 / p90 / p99 / max (ms) |\n| --- | --- |\n");
    out.push_str(&format!(
        "| Until the last of {} watchers has the frame | {} |\n",
        args.watchers,
        f.last.line()
    ));
    out.push_str(&format!(
        "| Until the first watcher has it | {} |\n",
        f.first.line()
    ));
    out.push_str(&format!(
        "| `PUT /v1/presence` answered | {} |\n",
        f.put.line()
    ));
    out.push_str(&format!(
        "\nBook uploads during setup: {} at a time{}.\n",
        args.upload_concurrency.max(1),
        if args.upload_concurrency <= 1 {
            " (`--upload-concurrency N` uploads N at once; concurrent uploads once got 500s on \
             SQLite, fixed since)"
        } else {
            ""
        }
    ));
    out.push_str(&format!(
        "\nRounds where some watcher got no frame within {} s: {}{}. Watcher sockets closed \
         by the server during the run: {}.\n",
        ROUND_WAIT.as_secs(),
        f.incomplete.len(),
        f.incomplete
            .first()
            .map(|(r, n)| format!(" (first: round {r}, {n} missing)"))
            .unwrap_or_default(),
        f.closed
    ));
    out.push_str(&format!(
        "\nTarget: the last of {} watchers has the change within 50 ms at p99: {:.1} ms ({}).\n",
        args.watchers,
        f.last.p99,
        if met { "met" } else { "not met" }
    ));
    out
}
