//! `dialtone-bench community`: the community's three hot paths (issue 14), each on a fresh
//! `dialtone serve` child process pinned to core 0 (`taskset`), with this generator on
//! core 1:
//!
//! 1. `feed`: `GET /v1/feed?limit=20` of a viewer with 500 contacts of 200 posts each
//!    (100,000 posts of mixed audiences), first page and the pages after it.
//! 2. `publish`: `POST /v1/posts` to "all contacts" by a user whose number is in 5,000
//!    books (the live audience is computed over all of them), optionally with some of
//!    those followers connected on `/v1/ws`.
//! 3. `blog`: requests/s of the public blog page `GET /u/{phone}/blog` (20 public
//!    articles, server-rendered HTML) as a visitor, keep-alive connections.
//!
//! Users, books and contact groups go through the API (books are sealed with the server's
//! key, so they cannot be written behind its back). The feed's posts are written **straight
//! into `community_items` and `community_item_people`/`_groups`** (multi-row INSERTs) with
//! exactly the columns `CommunityRepo::create_item` writes for a post (the others NULL as it
//! leaves them, ids UUIDv7 of their creation time as `new_id` makes them): 100,000 posts
//! through the API would take minutes and are not what is measured.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use dialtone_client::{Client, ContactInput};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, SqliteConnection};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::machine::Machine;
use crate::results;
use crate::serverproc::{self, ChildServer, CpuSplit};
use crate::setup;
use crate::stats::{Latencies, Summary};

/// The viewer of the feed, the poster, the blog's author: +86 138 0000 0000 on.
const MAIN_FIRST: u64 = 138_0000_0000;
/// Their contacts or followers: +86 139 0000 0000 on.
const CONTACTS_FIRST: u64 = 139_0000_0000;
/// Numbers nobody registered, named in audiences and groups: +86 137 0000 0000 on.
const OTHERS_FIRST: u64 = 137_0000_0000;
/// Rows per INSERT statement when seeding posts.
const ROWS_PER_STATEMENT: usize = 500;
/// Posts per seeding transaction.
const POSTS_PER_TRANSACTION: usize = 10_000;
/// How far back seeded posts go.
const SEED_SPAN_MS: i64 = 200 * 24 * 3600 * 1000;
/// Page size of the feed measure.
const PAGE: usize = 20;

/// Options of `dialtone-bench community`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which measures, in order: `feed`, `publish`, `blog`.
    #[arg(long, value_delimiter = ',', default_values_t = ["feed".to_owned(), "publish".to_owned(), "blog".to_owned()])]
    pub measures: Vec<String>,
    /// Feed: the viewer's contacts (each has the viewer in their book).
    #[arg(long, default_value_t = 500)]
    pub contacts: usize,
    /// Feed: posts of each contact.
    #[arg(long, default_value_t = 200)]
    pub posts_per_contact: usize,
    /// Feed: measured first-page requests (after as many warm-ups / 10).
    #[arg(long, default_value_t = 200)]
    pub first_pages: usize,
    /// Feed: walks from the first page following `next_cursor`.
    #[arg(long, default_value_t = 40)]
    pub walks: usize,
    /// Feed: pages after the first in each walk.
    #[arg(long, default_value_t = 5)]
    pub next_pages: usize,
    /// Publish: users with the poster's number in their book (and in the poster's).
    #[arg(long, default_value_t = 5_000)]
    pub followers: usize,
    /// Publish: measured posts, one at a time (after 10 warm-ups).
    #[arg(long, default_value_t = 200)]
    pub posts: usize,
    /// Publish: pause between measured posts, in ms (0: back to back). The server now
    /// answers before the live fan-out; with no pause each post's fan-out work competes
    /// with the next post for the server's one core.
    #[arg(long, default_value_t = 0)]
    pub post_gap_ms: u64,
    /// Publish: followers connected on `/v1/ws` for a second round of posts (0: none).
    #[arg(long, default_value_t = 1_000)]
    pub live: usize,
    /// Blog: keep-alive connections of the load generator.
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Blog: measured seconds (after 2 s of warm-up).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Registrations in flight during setup.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Book uploads in flight during setup (concurrent uploads on SQLite answered some
    /// with 500 in `fanout`; see RESULTS.md).
    #[arg(long, default_value_t = 1)]
    pub upload_concurrency: usize,
    /// CPU list of the server (`taskset -c`).
    #[arg(long, default_value = "0")]
    pub server_cpus: String,
    /// CPU list of this generator while measuring.
    #[arg(long, default_value = "1")]
    pub generator_cpus: String,
    /// Record the server with `perf record --call-graph dwarf` during each measured loop,
    /// into DIR/community-<measure>-<database>.perf.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// `postgres://USER@HOST:PORT/DB` to run on a fresh database created (and dropped
    /// afterwards) on that server. Unset: SQLite in the server's data directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// The `dialtone` binary to run. Default: the one next to this binary.
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// File to write the results section into. Default: bench/RESULTS.md.
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Print the figures only; leave the results file alone.
    #[arg(long)]
    pub no_write: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    for m in &args.measures {
        anyhow::ensure!(
            matches!(m.as_str(), "feed" | "publish" | "blog"),
            "unknown measure {m:?} (feed, publish, blog)"
        );
    }
    let machine = Machine::describe();
    eprintln!("machine: {}", machine.line());
    let bin = match &args.server_bin {
        Some(bin) => bin.clone(),
        None => serverproc::default_binary()?,
    };
    let mut sections = Vec::new();
    let mut label = "SQLite";
    let mut detail = String::new();
    for measure in &args.measures {
        let server =
            ChildServer::start_with(&bin, args.database_url.as_deref(), 1, "", &|config| {
                config.contacts.discovery_capacity = 100_000_000;
                config.contacts.max_entries = config.contacts.max_entries.max(args.followers);
            })
            .await?;
        label = server.database.label;
        detail = server.database.detail.clone();
        eprintln!(
            "== {measure}: server pid {} on {}, {label}",
            server.head.pid, server.head.base
        );
        let outcome = async {
            pin(server.head.pid, &args.server_cpus)?;
            match measure.as_str() {
                "feed" => feed(&args, &server).await,
                "publish" => publish(&args, &server).await,
                _ => blog(&args, &server).await,
            }
        }
        .await;
        let stopped = server.stop().await;
        sections.push(outcome?);
        stopped?;
    }
    let heading = format!("## Community — {label}");
    let body = report(&args, &machine, &detail, &sections);
    println!("{heading}\n\n{body}");
    if !args.no_write {
        let file = setup::results_file(args.results.as_ref());
        results::write_section(&file, &heading, &body)?;
        eprintln!("wrote section {heading:?} of {}", file.display());
    }
    Ok(())
}

/// Pins every thread of `pid` to `cpus` (threads made later inherit it).
fn pin(pid: u32, cpus: &str) -> anyhow::Result<()> {
    let status = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid.to_string()])
        .stdout(Stdio::null())
        .status()
        .context("running taskset")?;
    anyhow::ensure!(status.success(), "taskset -c {cpus} of pid {pid} failed");
    Ok(())
}

/// The 1-minute load average, as text.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Waits for a quiet machine (no rustc, server settled), pins this generator, and says
/// what the load was.
async fn before_measuring(args: &Args, server: &ChildServer) -> anyhow::Result<String> {
    serverproc::settle(&server.pids()).await;
    pin(std::process::id(), &args.generator_cpus)?;
    let load = load();
    eprintln!("      load average (1 min) before measuring: {load}");
    Ok(load)
}

/// `perf record` of the server while a measured loop runs, when asked for.
struct Profile(Option<tokio::process::Child>);

impl Profile {
    fn start(args: &Args, server: &ChildServer, measure: &str) -> anyhow::Result<Profile> {
        let Some(dir) = &args.profile else {
            return Ok(Profile(None));
        };
        std::fs::create_dir_all(dir)?;
        let file = dir.join(format!(
            "community-{measure}-{}.perf",
            server.database.label.to_lowercase()
        ));
        let child = tokio::process::Command::new("perf")
            .args(["record", "-F", "999", "--call-graph", "dwarf", "-o"])
            .arg(&file)
            .args(["-p", &server.head.pid.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting perf")?;
        eprintln!("      perf recording into {}", file.display());
        Ok(Profile(Some(child)))
    }

    async fn stop(self) {
        if let Some(mut child) = self.0 {
            if let Some(pid) = child.id() {
                let _ = std::process::Command::new("kill")
                    .args(["-INT", &pid.to_string()])
                    .status();
            }
            let _ = tokio::time::timeout(Duration::from_secs(60), child.wait()).await;
        }
    }
}

/// Registers `phones` (code only), `concurrency` at a time; their logins in order.
async fn register_all(
    server: &ChildServer,
    phones: &[String],
    concurrency: usize,
) -> anyhow::Result<Vec<dialtone_client::Login>> {
    let phones = Arc::new(phones.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (phones, next) = (phones.clone(), next.clone());
        let provider = server.provider.clone();
        let client = Client::new(&server.head.base);
        workers.spawn(async move {
            let mut logins = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(phone) = phones.get(i) else { break };
                let login = setup::register(&client, &provider, phone)
                    .await
                    .with_context(|| format!("registering {phone}"))?;
                logins.push((i, login));
            }
            anyhow::Ok(logins)
        });
    }
    let mut logins = Vec::with_capacity(phones.len());
    while let Some(done) = workers.join_next().await {
        logins.extend(done.context("registration worker")??);
    }
    logins.sort_by_key(|(i, _)| *i);
    Ok(logins.into_iter().map(|(_, l)| l).collect())
}

/// Each of `tokens` merges a one-entry book holding `phone`.
async fn books_holding(
    server: &ChildServer,
    tokens: &[String],
    phone: &str,
    concurrency: usize,
) -> anyhow::Result<()> {
    let tokens = Arc::new(tokens.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let book = Arc::new(vec![ContactInput {
        name: "Friend".into(),
        phones: vec![phone.to_owned()],
    }]);
    let mut workers = JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (tokens, next, book) = (tokens.clone(), next.clone(), book.clone());
        let client = Client::new(&server.head.base);
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(token) = tokens.get(i) else { break };
                client
                    .clone()
                    .with_token(token.clone())
                    .merge_contacts(&book)
                    .await
                    .context("uploading a book")?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = workers.join_next().await {
        done.context("upload worker")??;
    }
    Ok(())
}

/// A book of `phones`, one contact each.
fn book_of(phones: &[String]) -> Vec<ContactInput> {
    phones
        .iter()
        .enumerate()
        .map(|(i, p)| ContactInput {
            name: format!("联系人 {i}"),
            phones: vec![p.clone()],
        })
        .collect()
}

/// Sends a request and reads the whole answer; the time from send to last byte.
async fn timed(request: reqwest::RequestBuilder) -> anyhow::Result<(Duration, Vec<u8>)> {
    let started = Instant::now();
    let response = request.send().await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        status.is_success(),
        "{status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    Ok((elapsed, bytes.to_vec()))
}

/// One measure's part of the report.
struct Section {
    /// Lines of the method.
    method: Vec<String>,
    /// Rows of the figures table: measure, figure, target, met.
    rows: Vec<[String; 4]>,
}

fn met(ok: bool) -> String {
    if ok { "yes" } else { "no" }.to_owned()
}

// ---------------------------------------------------------------------------------------
// 1. The feed.

/// Who sees a seeded post.
#[derive(Clone, Copy)]
struct Seeded {
    created_at: i64,
    visible: bool,
}

/// A small deterministic generator (SplitMix64), so every run seeds the same posts.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A UUIDv7 of `unix_ms` in its simple form (32 lowercase hex digits), as the server's
/// `new_id` makes an item's id at its creation: 48 bits of milliseconds, the version, 74
/// random bits and the variant.
fn uuid_v7(unix_ms: i64, mix: &mut Mix) -> String {
    let (a, b) = (mix.next(), mix.next());
    let high = ((unix_ms as u64 & 0xFFFF_FFFF_FFFF) << 16) | 0x7000 | (a & 0x0FFF);
    let low = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!("{high:016x}{low:016x}")
}

/// The audience of post `j` of contact `i`, the people and groups it names, and whether
/// the viewer sees it. 40% public, 30% contacts, 10% chosen by a group of the contact's
/// (holding the viewer for every third contact), 5% chosen by number (the viewer for every
/// second contact), 15% all except a number (the viewer for every fifth contact).
fn audience_of(
    i: usize,
    j: usize,
    viewer: &str,
    other: &str,
    group: &str,
) -> (&'static str, Option<String>, Option<String>, bool) {
    match j % 20 {
        0..=7 => ("public", None, None, true),
        8..=13 => ("contacts", None, None, true),
        14..=15 => ("chosen", None, Some(group.to_owned()), i.is_multiple_of(3)),
        16 => {
            let named = if i.is_multiple_of(2) { viewer } else { other };
            ("chosen", Some(named.to_owned()), None, i.is_multiple_of(2))
        }
        _ => {
            let named = if i.is_multiple_of(5) { viewer } else { other };
            (
                "all_except",
                Some(named.to_owned()),
                None,
                !i.is_multiple_of(5),
            )
        }
    }
}

async fn feed(args: &Args, server: &ChildServer) -> anyhow::Result<Section> {
    let n = args.contacts;
    eprintln!("[feed 1/4] registering the viewer and {n} contacts through the API");
    let started = Instant::now();
    let viewer_phone = setup::valid_numbers(MAIN_FIRST, 1)?.remove(0);
    let contact_phones = setup::valid_numbers(CONTACTS_FIRST, n)?;
    let others = setup::valid_numbers(OTHERS_FIRST, 2 * n)?;
    let viewer = register_all(server, std::slice::from_ref(&viewer_phone), 1)
        .await?
        .remove(0);
    let contacts = register_all(server, &contact_phones, args.concurrency).await?;
    let viewer_client = Client::new(&server.head.base).with_token(viewer.token.clone());
    viewer_client
        .merge_contacts(&book_of(&contact_phones))
        .await
        .context("the viewer's book")?;
    let tokens: Vec<String> = contacts.iter().map(|l| l.token.clone()).collect();
    books_holding(server, &tokens, &viewer_phone, args.upload_concurrency).await?;
    // One contact group each: the viewer and another number for every third contact, two
    // other numbers for the rest.
    let http = reqwest::Client::new();
    let mut groups = Vec::with_capacity(n);
    for (i, login) in contacts.iter().enumerate() {
        let members = if i.is_multiple_of(3) {
            vec![viewer_phone.clone(), others[2 * i].clone()]
        } else {
            vec![others[2 * i].clone(), others[2 * i + 1].clone()]
        };
        let answer: Value = http
            .post(format!("{}/v1/contact-groups", server.head.base))
            .bearer_auth(&login.token)
            .json(&json!({ "name": "Close friends", "phones": members }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        groups.push(
            answer["id"]
                .as_str()
                .context("a contact group without id")?
                .to_owned(),
        );
    }
    let setup_seconds = started.elapsed().as_secs_f64();
    eprintln!("      done in {setup_seconds:.1} s");

    let total = n * args.posts_per_contact;
    eprintln!("[feed 2/4] writing {total} posts straight into the database");
    let started = Instant::now();
    let seeded = seed_posts(
        &server.head.database_url,
        args,
        &contacts,
        &viewer_phone,
        &others,
        &groups,
    )
    .await?;
    let seed_seconds = started.elapsed().as_secs_f64();
    let visible = seeded.values().filter(|s| s.visible).count();
    eprintln!("      {total} posts ({visible} for the viewer) in {seed_seconds:.1} s");
    // The feed the viewer must get: visible posts, newest first (ids break ties).
    let mut expected: Vec<(i64, &str)> = seeded
        .iter()
        .filter(|(_, s)| s.visible)
        .map(|(id, s)| (s.created_at, id.as_str()))
        .collect();
    expected.sort_by(|a, b| b.cmp(a));

    eprintln!("[feed 3/4] checking the pages against the seeded audiences");
    let url = format!("{}/v1/feed", server.head.base);
    let get = |cursor: Option<&str>| {
        let mut q = vec![("limit", PAGE.to_string())];
        if let Some(c) = cursor {
            q.push(("cursor", c.to_owned()));
        }
        http.get(&url).bearer_auth(&viewer.token).query(&q)
    };
    let page_of = |bytes: &[u8]| -> anyhow::Result<(Vec<String>, Option<String>)> {
        let v: Value = serde_json::from_slice(bytes).context("reading a feed page")?;
        let ids = v["items"]
            .as_array()
            .context("a page without items")?
            .iter()
            .filter_map(|i| i["id"].as_str().map(str::to_owned))
            .collect();
        Ok((ids, v["next_cursor"].as_str().map(str::to_owned)))
    };
    let mut cursor: Option<String> = None;
    let mut checked = 0;
    for page in 0..=args.next_pages {
        let (_, bytes) = timed(get(cursor.as_deref())).await?;
        let (ids, next) = page_of(&bytes)?;
        let want: Vec<&str> = expected
            .iter()
            .skip(page * PAGE)
            .take(PAGE)
            .map(|(_, id)| *id)
            .collect();
        anyhow::ensure!(
            ids == want,
            "page {page} of the feed is not the seeded posts the viewer may see: got {ids:?}, want {want:?}"
        );
        checked += ids.len();
        cursor = Some(next.context("a page without next_cursor")?);
    }
    eprintln!(
        "      the first {} pages ({checked} posts) are exactly the expected ones",
        args.next_pages + 1
    );

    eprintln!(
        "[feed 4/4] {} first pages, then {} walks of {} next pages",
        args.first_pages, args.walks, args.next_pages
    );
    let load = before_measuring(args, server).await?;
    for _ in 0..(args.first_pages / 10).max(5) {
        timed(get(None)).await?;
    }
    let profile = Profile::start(args, server, "feed")?;
    let cpu = CpuSplit::take(&server.pids());
    let mut first = Latencies::new()?;
    let mut bytes_first = 0;
    for _ in 0..args.first_pages {
        let (elapsed, bytes) = timed(get(None)).await?;
        first.record(elapsed);
        bytes_first = bytes.len();
    }
    let mut next = Latencies::new()?;
    for _ in 0..args.walks {
        let (_, bytes) = timed(get(None)).await?;
        let mut cursor = page_of(&bytes)?.1;
        for _ in 0..args.next_pages {
            let Some(c) = cursor else { break };
            let (elapsed, bytes) = timed(get(Some(&c))).await?;
            next.record(elapsed);
            cursor = page_of(&bytes)?.1;
        }
    }
    let split = serverproc::split_text(cpu, CpuSplit::take(&server.pids()));
    profile.stop().await;
    let (first, next) = (first.summary(), next.summary());
    eprintln!(
        "      first page p50/p90/p99/max {} ms; next pages {} ms",
        first.line(),
        next.line()
    );
    Ok(Section {
        method: vec![
            format!(
                "Feed: a viewer and {n} contacts registered through the API (code only); the \
                 viewer's book holds the {n} (`POST /v1/contacts`), each contact's book holds \
                 the viewer; each contact has one contact group (the viewer and another \
                 number for every third contact, two other numbers otherwise). Setup took \
                 {setup_seconds:.1} s."
            ),
            format!(
                "{total} posts ({} per contact, created over the last 200 days, 40% public, \
                 30% contacts, 10% chosen by the contact's group, 5% chosen by number, 15% all \
                 except a number; the viewer named in some) written straight into the \
                 database in {seed_seconds:.1} s; {visible} of them are for the viewer. The \
                 first {} pages were checked to be exactly the expected posts in order.",
                args.posts_per_contact,
                args.next_pages + 1
            ),
            format!(
                "`GET /v1/feed?limit={PAGE}` on one keep-alive connection, one request at a \
                 time, send to last byte: {} first pages ({} KiB each), then {} walks from \
                 the first page following `next_cursor` {} pages deep (pages 2–{} measured). \
                 Load average before: {load}; CPU meanwhile: {split}.",
                args.first_pages,
                bytes_first / 1024,
                args.walks,
                args.next_pages,
                args.next_pages + 1
            ),
        ],
        rows: vec![
            [
                format!(
                    "Feed, first page ({n} contacts × {} posts)",
                    args.posts_per_contact
                ),
                format!(
                    "p50 {:.1} / p99 {:.1} ms (max {:.1})",
                    first.p50, first.p99, first.max
                ),
                "p99 < 20 ms".into(),
                met(first.p99 < 20.0),
            ],
            [
                "Feed, next pages (following `next_cursor`)".into(),
                format!(
                    "p50 {:.1} / p99 {:.1} ms (max {:.1})",
                    next.p50, next.p99, next.max
                ),
                "p99 < 20 ms".into(),
                met(next.p99 < 20.0),
            ],
        ],
    })
}

/// Writes the posts of every contact into the server's database, as `create_item` writes
/// a post; what each is, by id.
async fn seed_posts(
    url: &str,
    args: &Args,
    contacts: &[dialtone_client::Login],
    viewer: &str,
    others: &[String],
    groups: &[String],
) -> anyhow::Result<HashMap<String, Seeded>> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut mix = Mix(14);
    let mut seeded = HashMap::new();
    let mut items = Vec::new();
    let mut people = Vec::new();
    let mut group_rows = Vec::new();
    for (i, owner) in contacts.iter().enumerate() {
        for j in 0..args.posts_per_contact {
            let created_at = now - 1 - (mix.next() % SEED_SPAN_MS as u64) as i64;
            let id = uuid_v7(created_at, &mut mix);
            let (audience, person, group, visible) =
                audience_of(i, j, viewer, &others[2 * i + 1], &groups[i]);
            let words = 5 + (mix.next() % 40) as usize;
            let text = (0..words)
                .map(|w| if w % 3 == 0 { "今天" } else { "moment" })
                .collect::<Vec<_>>()
                .join(" ");
            items.push(format!(
                "('{id}','{}','post','{audience}','{text} {i}-{j}',{created_at},FALSE)",
                owner.user_id
            ));
            if let Some(p) = person {
                people.push(format!("('{id}','{p}')"));
            }
            if let Some(g) = group {
                group_rows.push(format!("('{id}','{g}')"));
            }
            seeded.insert(
                id,
                Seeded {
                    created_at,
                    visible,
                },
            );
        }
    }
    let mut statements = Vec::new();
    for chunk in items.chunks(ROWS_PER_STATEMENT) {
        statements.push(format!(
            "INSERT INTO community_items (id, owner_id, kind, audience, text, created_at, draft) VALUES {};",
            chunk.join(",")
        ));
    }
    for chunk in people.chunks(ROWS_PER_STATEMENT) {
        statements.push(format!(
            "INSERT INTO community_item_people (item_id, phone) VALUES {};",
            chunk.join(",")
        ));
    }
    for chunk in group_rows.chunks(ROWS_PER_STATEMENT) {
        statements.push(format!(
            "INSERT INTO community_item_groups (item_id, group_id) VALUES {};",
            chunk.join(",")
        ));
    }
    let per_tx = POSTS_PER_TRANSACTION / ROWS_PER_STATEMENT;
    let batches: Vec<String> = statements
        .chunks(per_tx)
        .map(|c| format!("BEGIN;\n{}\nCOMMIT;\n", c.join("\n")))
        .collect();
    let analyze = "ANALYZE community_items; ANALYZE community_item_people; \
                   ANALYZE community_item_groups;";
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut conn = PgConnection::connect(url)
            .await
            .context("connecting to seed")?;
        for b in &batches {
            sqlx::raw_sql(b)
                .execute(&mut conn)
                .await
                .context("seeding posts")?;
        }
        sqlx::raw_sql(analyze).execute(&mut conn).await?;
        conn.close().await?;
    } else {
        let mut conn = SqliteConnection::connect(url)
            .await
            .context("connecting to seed")?;
        for b in &batches {
            sqlx::raw_sql(b)
                .execute(&mut conn)
                .await
                .context("seeding posts")?;
        }
        sqlx::raw_sql(analyze).execute(&mut conn).await?;
        conn.close().await?;
    }
    Ok(seeded)
}

// ---------------------------------------------------------------------------------------
// 2. Publishing.

async fn publish(args: &Args, server: &ChildServer) -> anyhow::Result<Section> {
    let n = args.followers;
    eprintln!("[publish 1/3] registering the poster and {n} followers through the API");
    let started = Instant::now();
    let poster_phone = setup::valid_numbers(MAIN_FIRST, 1)?.remove(0);
    let follower_phones = setup::valid_numbers(CONTACTS_FIRST, n)?;
    let poster = register_all(server, std::slice::from_ref(&poster_phone), 1)
        .await?
        .remove(0);
    let followers = register_all(server, &follower_phones, args.concurrency).await?;
    let poster_client = Client::new(&server.head.base).with_token(poster.token.clone());
    poster_client
        .merge_contacts(&book_of(&follower_phones))
        .await
        .context("the poster's book")?;
    let tokens: Vec<String> = followers.iter().map(|l| l.token.clone()).collect();
    books_holding(server, &tokens, &poster_phone, args.upload_concurrency).await?;
    let setup_seconds = started.elapsed().as_secs_f64();
    eprintln!("      done in {setup_seconds:.1} s");

    let http = reqwest::Client::new();
    let url = format!("{}/v1/posts", server.head.base);
    let mut k = 0;
    let mut post = || {
        k += 1;
        http.post(&url).bearer_auth(&poster.token).json(&json!({
            "text": format!("Post {k} to all my contacts: benchmark of the live audience."),
            "audience": { "kind": "contacts" },
        }))
    };

    eprintln!(
        "[publish 2/3] 10 warm-ups then {} posts, one at a time",
        args.posts
    );
    let load = before_measuring(args, server).await?;
    for _ in 0..10 {
        timed(post()).await?;
    }
    let profile = Profile::start(args, server, "publish")?;
    let cpu = CpuSplit::take(&server.pids());
    let gap = Duration::from_millis(args.post_gap_ms);
    let mut alone = Latencies::new()?;
    for _ in 0..args.posts {
        alone.record(timed(post()).await?.0);
        tokio::time::sleep(gap).await;
    }
    let split = serverproc::split_text(cpu, CpuSplit::take(&server.pids()));
    profile.stop().await;
    let alone = alone.summary();
    eprintln!("      POST p50/p90/p99/max {} ms", alone.line());

    let spacing = if args.post_gap_ms > 0 {
        format!(", {} ms apart", args.post_gap_ms)
    } else {
        ", back to back".to_owned()
    };
    let mut rows = vec![[
        format!("Publish to all contacts, {n} followers (`POST /v1/posts`{spacing})"),
        format!(
            "p50 {:.1} / p99 {:.1} ms (max {:.1})",
            alone.p50, alone.p99, alone.max
        ),
        "p99 < 10 ms".into(),
        met(alone.p99 < 10.0),
    ]];
    let mut method = vec![
        format!(
            "Publish: a poster and {n} followers registered through the API; each follower's \
             book holds the poster, the poster's book holds the {n} (so every one is in the \
             live audience of a post to contacts). Setup took {setup_seconds:.1} s."
        ),
        format!(
            "`POST /v1/posts` `{{text, audience: {{kind: contacts}}}}`, 10 warm-ups then {} \
             one at a time{spacing} on one keep-alive connection, send to last byte of the \
             201. Load average before: {load}; CPU meanwhile: {split}.",
            args.posts
        ),
    ];

    if args.live > 0 {
        let live = args.live.min(n);
        eprintln!(
            "[publish 3/3] {live} followers connect on /v1/ws; {} more posts",
            args.posts
        );
        let received = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mut readers = JoinSet::new();
        for token in tokens.iter().take(live) {
            let mut conn = Client::new(&server.head.base)
                .with_token(token.clone())
                .connect_live()
                .await
                .context("connecting a follower")?;
            let (received, stop) = (received.clone(), stop.clone());
            readers.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    match conn.recv_value().await {
                        Ok(v) if v["type"] == "feed_item" => {
                            received.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            });
        }
        let load = before_measuring(args, server).await?;
        for _ in 0..10 {
            timed(post()).await?;
        }
        // Frames of the warm-ups, then the measured ones only.
        tokio::time::sleep(Duration::from_secs(1)).await;
        received.store(0, Ordering::Relaxed);
        let profile = Profile::start(args, server, "publish-live")?;
        let cpu = CpuSplit::take(&server.pids());
        let mut with_live = Latencies::new()?;
        for _ in 0..args.posts {
            with_live.record(timed(post()).await?.0);
            tokio::time::sleep(gap).await;
        }
        let split = serverproc::split_text(cpu, CpuSplit::take(&server.pids()));
        profile.stop().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let want = (live * args.posts) as u64;
        while received.load(Ordering::Relaxed) < want && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let got = received.load(Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
        readers.abort_all();
        let with_live = with_live.summary();
        eprintln!(
            "      POST p50/p90/p99/max {} ms; {got} of {want} feed_item frames",
            with_live.line()
        );
        rows.push([
            format!("… with {live} of them connected on `/v1/ws`"),
            format!(
                "p50 {:.1} / p99 {:.1} ms (max {:.1}); {got} of {want} `feed_item` frames arrived",
                with_live.p50, with_live.p99, with_live.max
            ),
            "p99 < 10 ms (optional)".into(),
            met(with_live.p99 < 10.0),
        ]);
        method.push(format!(
            "Then, on the same server, {live} of the followers connect on `/v1/ws` (a reader \
             task each counts `feed_item` frames) and {} more posts are measured the same \
             way (after 10 warm-ups). Load average before: {load}; CPU meanwhile: {split}.",
            args.posts
        ));
    }
    Ok(Section { method, rows })
}

// ---------------------------------------------------------------------------------------
// 3. The public blog page.

async fn blog(args: &Args, server: &ChildServer) -> anyhow::Result<Section> {
    eprintln!("[blog 1/2] the author registers and writes 20 public articles");
    let author_phone = setup::valid_numbers(MAIN_FIRST, 1)?.remove(0);
    let author = register_all(server, std::slice::from_ref(&author_phone), 1)
        .await?
        .remove(0);
    let http = reqwest::Client::new();
    let mut titles = Vec::new();
    for k in 0..20 {
        let title = format!("Notes from the road, part {}", k + 1);
        let markdown = format!(
            "# {title}\n\nWe left **early** on day {k}, before the markets opened. \
             The road climbs through [the hills](https://example.com/hills/{k}) and the \
             tea terraces.\n\n## What we saw\n\n- rice fields\n- a *very* old bridge\n- \
             两只猫\n\n> The best journeys answer questions that in the beginning you \
             didn't even think to ask.\n\n| Day | Distance |\n| --- | --- |\n| {k} | 42 km |\n\n\
             More tomorrow. `code` and ~~strikethrough~~ too.\n"
        );
        http.post(format!("{}/v1/articles", server.head.base))
            .bearer_auth(&author.token)
            .json(&json!({
                "title": title,
                "markdown": markdown,
                "tags": ["travel"],
                "audience": { "kind": "public" },
            }))
            .send()
            .await?
            .error_for_status()
            .context("writing an article")?;
        titles.push(title);
    }
    let url = format!("{}/u/{}/blog", server.head.base, author_phone);
    let (_, page) = timed(http.get(&url)).await?;
    let html = String::from_utf8_lossy(&page);
    let shown = titles.iter().filter(|t| html.contains(t.as_str())).count();
    anyhow::ensure!(
        shown == titles.len(),
        "the blog page shows {shown} of the 20 articles to a visitor"
    );
    let page_bytes = page.len();
    eprintln!("      the page shows all 20 ({} KiB)", page_bytes / 1024);

    eprintln!(
        "[blog 2/2] {} keep-alive connections, 2 s warm-up, {} s measured",
        args.connections, args.seconds
    );
    let load = before_measuring(args, server).await?;
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = JoinSet::new();
    for _ in 0..args.connections.max(1) {
        let (measuring, stop) = (measuring.clone(), stop.clone());
        // One client per worker: one connection each, kept alive.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        let url = url.clone();
        workers.spawn(async move {
            let mut latencies = Latencies::new()?;
            let mut count = 0u64;
            let mut failed = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let ok = match http.get(&url).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if measuring.load(Ordering::Relaxed) {
                    if ok {
                        latencies.record(started.elapsed());
                        count += 1;
                    } else {
                        failed += 1;
                    }
                }
            }
            anyhow::Ok((latencies, count, failed))
        });
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let profile = Profile::start(args, server, "blog")?;
    let cpu = CpuSplit::take(&server.pids());
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let after = CpuSplit::take(&server.pids());
    stop.store(true, Ordering::Relaxed);
    let split = serverproc::split_text(cpu, after);
    let server_core = match (cpu, after) {
        (Some(b), Some(a)) => a.seconds_since(&b).0 / elapsed,
        _ => 0.0,
    };
    profile.stop().await;
    let mut all = Latencies::new()?;
    let (mut count, mut failed) = (0, 0);
    while let Some(done) = workers.join_next().await {
        let (l, c, f) = done.context("load worker")??;
        all.merge(&l)?;
        count += c;
        failed += f;
    }
    let rate = count as f64 / elapsed;
    let latency: Summary = all.summary();
    eprintln!(
        "      {rate:.0} requests/s ({failed} failed), latency {} ms, server {:.0}% of a core",
        latency.line(),
        server_core * 100.0
    );
    Ok(Section {
        method: vec![
            format!(
                "Blog: the author registers and writes 20 public articles through the API \
                 (`POST /v1/articles`, ~0.6 KiB of Markdown each: headings, a list, a quote, a \
                 table, a link); the visitor's page was checked to show all 20 ({} KiB of \
                 HTML).",
                page_bytes / 1024
            ),
            format!(
                "`GET /u/{{phone}}/blog` without a token, {} keep-alive connections (one \
                 reqwest client each), closed loop, 2 s warm-up then {} s measured; server \
                 on CPU {}, generator on CPU {}. {failed} failed. Server CPU {:.0}% of one \
                 core. Load average before: {load}; CPU meanwhile: {split}.",
                args.connections,
                args.seconds,
                args.server_cpus,
                args.generator_cpus,
                server_core * 100.0
            ),
        ],
        rows: vec![[
            "Public blog page (20 articles), visitor, server on one core".into(),
            format!(
                "{rate:.0} requests/s (latency p50 {:.1} / p99 {:.1} ms)",
                latency.p50, latency.p99
            ),
            "≥ 5,000 requests/s".into(),
            met(rate >= 5_000.0),
        ]],
    })
}

fn report(args: &Args, machine: &Machine, database: &str, sections: &[Section]) -> String {
    let command: Vec<String> = std::env::args().skip(1).collect();
    let mut out = String::new();
    out.push_str(&format!(
        "- Date: {}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    out.push_str(&format!("- Machine: {}\n", machine.line()));
    out.push_str(&format!("- Commit: {}\n", crate::machine::source_commit()));
    out.push_str(&format!(
        "- Command: `dialtone-bench {}` (release build)\n",
        command.join(" ")
    ));
    out.push_str(&format!(
        "- Database: {database}; a fresh server process (`dialtone serve`) and database per \
         measure, pinned with `taskset -c {}`, this generator pinned to `{}` while \
         measuring{}\n",
        args.server_cpus,
        args.generator_cpus,
        if database.starts_with("PostgreSQL") {
            " (the PostgreSQL server is not pinned: its backends run on either core)"
        } else {
            ""
        }
    ));
    for s in sections {
        for m in &s.method {
            out.push_str(&format!("- {m}\n"));
        }
    }
    out.push_str("\n| Measure | Figure | Target | Met |\n| --- | --- | --- | --- |\n");
    for s in sections {
        for [a, b, c, d] in &s.rows {
            out.push_str(&format!("| {a} | {b} | {c} | {d} |\n"));
        }
    }
    out
}
