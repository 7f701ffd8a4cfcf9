//! `dialtone-bench search`: search in conversations (issue 20) on SQLite, with a server
//! started in this process.
//!
//! One user with `--peers` direct conversations and `--groups` groups gets `--messages`
//! messages (mixed Chinese and English text from a fixed vocabulary with a skewed word
//! frequency, plus a few rare words) written **straight through the store**
//! (`MessageRepo::append_batch` on a second handle of the same database file: seqs,
//! triggers and the search queue exactly as a send writes them; a million sends over HTTP
//! would take an hour and are not what is measured). Then:
//!
//! 1. indexing: the server's indexer drains the queue; messages/s from the end of the fill
//!    to an empty queue (the fill itself races the indexer, so the backlog at its end is
//!    what is timed);
//! 2. search latency over HTTP, one request at a time, for rare and common terms, Chinese
//!    and English, newest and relevance order (first pages of 20);
//! 3. sends while indexing: HTTP sends/s by `--senders` concurrent senders for
//!    `--send-secs`, first with an empty queue, then while the indexer works through a
//!    fresh backlog of `--backlog` messages written as in the fill.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use dialtone_client::{Client, NewMessage};
use dialtone_core::MessageKind;
use dialtone_store::{MessageRecord, Store};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::machine::{Machine, source_commit};
use crate::results;
use crate::setup::{self, Server};
use crate::stats::Latencies;

/// The searching user, then the peers: +86 136 0000 0000 on.
const FIRST_NUMBER: u64 = 136_0000_0000;
/// Messages per `append_batch` while filling.
const FILL_BATCH: usize = 2_000;
/// Requests per measured (term, order).
const REQUESTS: usize = 100;

/// Options of `dialtone-bench search`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Messages of the searching user, over all their conversations.
    #[arg(long, default_value_t = 1_000_000)]
    pub messages: usize,
    /// Direct conversations (one per peer).
    #[arg(long, default_value_t = 40)]
    pub peers: usize,
    /// Groups (the user and 5 peers each).
    #[arg(long, default_value_t = 10)]
    pub groups: usize,
    /// Concurrent senders of the send measure.
    #[arg(long, default_value_t = 32)]
    pub senders: usize,
    /// Seconds of each send measure.
    #[arg(long, default_value_t = 10.0)]
    pub send_secs: f64,
    /// Messages queued for indexing before the second send measure.
    #[arg(long, default_value_t = 200_000)]
    pub backlog: usize,
    /// File to write the results section into. Default: bench/RESULTS.md.
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Print the figures only; leave the results file alone.
    #[arg(long)]
    pub no_write: bool,
}

/// Chinese words, most frequent first (the i-th is drawn about 1/(i+1) as often).
const ZH: &[&str] = &[
    "我们",
    "今天",
    "明天",
    "开会",
    "北京",
    "上海",
    "项目",
    "时间",
    "已经",
    "问题",
    "客户",
    "下午",
    "晚上",
    "吃饭",
    "一起",
    "周末",
    "报告",
    "发送",
    "文件",
    "朋友",
    "电话",
    "地址",
    "航班",
    "酒店",
    "火车",
    "天气",
    "下雨",
    "公司",
    "老板",
    "同事",
    "价格",
    "合同",
    "会议室",
    "预算",
    "计划",
    "设计",
    "测试",
    "上线",
    "版本",
    "服务器",
    "数据库",
    "手机",
    "照片",
    "视频",
    "生日",
    "礼物",
    "蛋糕",
    "电影",
    "音乐",
    "咖啡",
];

/// English words, most frequent first.
const EN: &[&str] = &[
    "the", "to", "and", "meeting", "tomorrow", "today", "please", "send", "project", "call",
    "time", "office", "report", "client", "dinner", "weekend", "flight", "hotel", "train",
    "weather", "budget", "contract", "design", "release", "server", "database", "phone", "photo",
    "video", "birthday", "coffee", "movie", "music", "review", "deadline", "invoice", "schedule",
    "update", "question", "answer",
];

/// Words put in one message of every 10,000 (rare terms).
const RARE: &[&str] = &["zebra", "量子计算"];

/// A small deterministic generator (xorshift64*), so every run writes the same text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// An index below `n`, skewed towards 0 (about Zipf's law).
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (((n as f64 + 1.0).powf(u) - 1.0) as usize).min(n - 1)
    }
}

/// The text of the `i`-th message.
fn text(rng: &mut Rng, i: usize) -> String {
    let words = 6 + (rng.next() % 14) as usize;
    let chinese = rng.next() % 5 < 3;
    let (vocabulary, sep) = if chinese { (ZH, "") } else { (EN, " ") };
    let mut out: Vec<&str> = (0..words)
        .map(|_| vocabulary[rng.skewed(vocabulary.len())])
        .collect();
    if i % 10_000 == 7 {
        out.push(RARE[(i / 10_000) % RARE.len()]);
    }
    let mut s = out.join(sep);
    if chinese {
        s.push('。');
    }
    s
}

/// The user, the conversations and a store handle on the server's database.
struct World {
    server: Server,
    user: Client,
    user_id: String,
    /// (conversation id, another member's user id).
    conversations: Vec<(String, String)>,
    store: Store,
    written: usize,
    rng: Rng,
}

impl World {
    /// Writes `n` more messages through the store, `FILL_BATCH` per transaction.
    async fn fill(&mut self, n: usize) -> anyhow::Result<()> {
        let mut left = n;
        while left > 0 {
            let count = left.min(FILL_BATCH);
            let batch: Vec<(MessageRecord, Vec<dialtone_core::UserId>)> = (0..count)
                .map(|k| {
                    let i = self.written + k;
                    let (conv, peer) =
                        &self.conversations[self.rng.skewed(self.conversations.len())];
                    let sender = if i.is_multiple_of(2) {
                        &self.user_id
                    } else {
                        peer
                    };
                    let record = MessageRecord {
                        id: format!("bench-{i:09}"),
                        conversation_id: conv.as_str().into(),
                        seq: 0,
                        sender_id: sender.as_str().into(),
                        client_id: format!("c{i}"),
                        kind: MessageKind::Text,
                        text: Some(text(&mut self.rng, i)),
                        attachment_id: None,
                        reply_to: None,
                        sent_at: Utc::now(),
                        edited_at: None,
                        deleted: false,
                    };
                    (record, Vec::new())
                })
                .collect();
            self.store.messages.append_batch(&batch).await?;
            self.written += count;
            left -= count;
        }
        Ok(())
    }

    /// Waits until the indexer has emptied the queue; the seconds it took.
    async fn drained(&self) -> anyhow::Result<f64> {
        let start = Instant::now();
        while self.store.search.pending_count().await? > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(start.elapsed().as_secs_f64())
    }
}

async fn set_up(args: &Args) -> anyhow::Result<World> {
    let server = Server::start(None, |_| {}).await?;
    let phones = setup::valid_numbers(FIRST_NUMBER, args.peers + 1)?;
    let anonymous = Client::new(&server.base);
    let login = setup::register(&anonymous, &server.provider, &phones[0]).await?;
    let user = Client::new(&server.base).with_token(login.token);
    let mut peer_ids = Vec::new();
    for phone in &phones[1..] {
        peer_ids.push(
            setup::register(&anonymous, &server.provider, phone)
                .await?
                .user_id,
        );
    }
    let mut conversations = Vec::new();
    for (phone, id) in phones[1..].iter().zip(&peer_ids) {
        let conv = user.create_direct(phone).await?.value;
        conversations.push((conv.id, id.clone()));
    }
    for g in 0..args.groups {
        let members: Vec<&String> = (0..5)
            .map(|k| &phones[1 + (g * 5 + k) % args.peers])
            .collect();
        let conv = user.create_group(&format!("group {g}"), &members).await?;
        conversations.push((conv.id, peer_ids[(g * 5) % args.peers].clone()));
    }
    let store = dialtone_store::open(&server.database_url).await?;
    Ok(World {
        server,
        user,
        user_id: login.user_id,
        conversations,
        store,
        written: 0,
        rng: Rng(0x9E37_79B9_7F4A_7C15),
    })
}

/// Sends for `secs` from `senders` concurrent senders; (sends/s, latency p50, p99 ms).
async fn send_rate(world: &World, senders: usize, secs: f64) -> anyhow::Result<(f64, f64, f64)> {
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for s in 0..senders {
        let client = world.user.clone();
        let conv = world.conversations[s % world.conversations.len()].0.clone();
        let (stop, sent) = (stop.clone(), sent.clone());
        tasks.spawn(async move {
            let mut latencies = Latencies::new()?;
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let message = NewMessage::text(
                    format!("s{s}-{n}-{}", Utc::now().timestamp_micros()),
                    "send while indexing 我们明天开会",
                );
                client.send_message(&conv, &message).await?;
                latencies.record(started.elapsed());
                sent.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
            anyhow::Ok(latencies)
        });
    }
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Latencies::new()?;
    while let Some(done) = tasks.join_next().await {
        all.merge(&done??)?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let summary = all.summary();
    Ok((
        sent.load(Ordering::Relaxed) as f64 / elapsed,
        summary.p50,
        summary.p99,
    ))
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.peers >= 5, "--peers must be at least 5");
    let machine = Machine::describe();
    let commit = source_commit();
    eprintln!("machine: {}; source at {commit}", machine.line());
    setup::wait_for_no_rustc().await;
    let mut world = set_up(&args).await?;
    eprintln!(
        "filling {} messages over {} conversations…",
        args.messages,
        world.conversations.len()
    );
    let fill_start = Instant::now();
    world.fill(args.messages).await?;
    let fill_secs = fill_start.elapsed().as_secs_f64();
    let backlog = world.store.search.pending_count().await?;
    let drain_secs = world.drained().await?;
    let index_rate = backlog as f64 / drain_secs.max(1e-9);
    eprintln!(
        "filled in {fill_secs:.1} s; {backlog} left to index at the end, indexed in {drain_secs:.1} s: {index_rate:.0} messages/s"
    );

    let http = reqwest::Client::new();
    let token = world.user.token().context("no token")?.to_owned();
    let mut rows = Vec::new();
    let mut overall = Latencies::new()?;
    let terms = [
        ("rare, English", "zebra"),
        ("rare, Chinese", "量子计算"),
        ("common, English", "meeting"),
        ("common, Chinese", "我们"),
        ("two common terms", "开会 北京"),
        ("very common, English", "the"),
        ("prefix", "meet"),
    ];
    for order in ["newest", "relevance"] {
        for (label, q) in terms {
            let mut latencies = Latencies::new()?;
            let mut results = 0;
            for _ in 0..REQUESTS {
                let started = Instant::now();
                let r = http
                    .get(format!("{}/v1/search", world.server.base))
                    .query(&[("q", q), ("order", order), ("limit", "20")])
                    .bearer_auth(&token)
                    .send()
                    .await?;
                anyhow::ensure!(r.status().is_success(), "search {q}: {}", r.status());
                let body: serde_json::Value = r.json().await?;
                latencies.record(started.elapsed());
                results = body["results"].as_array().map_or(0, Vec::len);
            }
            overall.merge(&latencies)?;
            let s = latencies.summary();
            eprintln!(
                "{order:9} {label:22} {q:8} p50 {:.1} ms p99 {:.1} ms ({results} results)",
                s.p50, s.p99
            );
            rows.push(format!(
                "| {order} | {label} (`{q}`) | {results} | {:.1} | {:.1} | {:.1} |",
                s.p50, s.p99, s.max
            ));
        }
    }
    let all = overall.summary();

    let (idle_rate, idle_p50, idle_p99) = send_rate(&world, args.senders, args.send_secs).await?;
    world.drained().await?;
    world.fill(args.backlog).await?;
    let (busy_rate, busy_p50, busy_p99) = send_rate(&world, args.senders, args.send_secs).await?;
    let left = world.store.search.pending_count().await?;
    eprintln!(
        "sends: {idle_rate:.0}/s (p50 {idle_p50:.1} ms, p99 {idle_p99:.1} ms) idle indexer; {busy_rate:.0}/s (p50 {busy_p50:.1} ms, p99 {busy_p99:.1} ms) while indexing ({left} still queued after)"
    );
    world.drained().await?;
    let convs = world.conversations.len();
    world.server.stop().await?;

    let date = Utc::now().format("%Y-%m-%d");
    let body = format!(
        "{date}, {machine}, source at {commit}. SQLite, server in the bench process; one user \
         with {messages} messages over {convs} conversations ({peers} direct, {groups} groups), \
         60% Chinese, 40% English, 6 to 19 words each from a skewed vocabulary; one message in \
         10,000 has a rare word. Messages written straight through the store \
         (`append_batch`, {FILL_BATCH} a transaction: seqs, triggers and queue as a send \
         writes them).\n\n\
         | measure | figure |\n|---|---|\n\
         | fill through the store | {fill_secs:.1} s ({fill_rate:.0} messages/s, the indexer running) |\n\
         | indexing (backlog of {backlog} after the fill, drained) | {drain_secs:.1} s: **{index_rate:.0} messages/s** |\n\
         | search latency, all queries below, p50 / p99 / max | {p50:.1} / **{p99:.1}** / {max:.1} ms |\n\
         | sends/s, {senders} HTTP senders, queue empty | {idle_rate:.0} (p50 {idle_p50:.1} ms, p99 {idle_p99:.1} ms) |\n\
         | sends/s, same, while indexing a backlog of {backlog2} | {busy_rate:.0} (p50 {busy_p50:.1} ms, p99 {busy_p99:.1} ms) |\n\n\
         Search latency per query ({REQUESTS} requests each, one at a time, first page of 20, \
         over HTTP on loopback):\n\n\
         | order | query | results | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|\n{rows}\n",
        machine = machine.line(),
        messages = args.messages,
        peers = args.peers,
        groups = args.groups,
        fill_rate = args.messages as f64 / fill_secs,
        p50 = all.p50,
        p99 = all.p99,
        max = all.max,
        senders = args.senders,
        backlog2 = args.backlog,
        rows = rows.join("\n"),
    );
    println!("{body}");
    if !args.no_write {
        let file = setup::results_file(args.results.as_ref());
        let heading = format!("## Search — SQLite — {} messages", args.messages);
        results::write_section(&file, &heading, &body)?;
        eprintln!("written to {}", file.display());
    }
    Ok(())
}
