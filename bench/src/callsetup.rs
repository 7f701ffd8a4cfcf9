//! One-to-one call set-up on loopback (issue 15: "ring to media flowing under 1 s"): two
//! users on a server in this process, each with a live connection; the caller sends
//! `call_start`, the callee's device accepts as soon as it rings, the caller offers, the
//! callee answers, and both peers (str0m, standing in for browsers) connect directly and
//! send audio and video. Measured per call, from the caller's `call_start`: the ring (the
//! callee has `call`), the caller's `call_accepted`, and media flowing (both peers have
//! received audio from the other). The browser's own work (camera, encoders) is not in it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use dialtone_client::Client;
use dialtone_sfu::testing::TestPeer;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::machine::Machine;
use crate::setup::{self, Server};
use crate::stats::Latencies;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Longest wait for any one step.
const STEP: Duration = Duration::from_secs(10);

/// Options.
#[derive(clap::Args)]
pub struct Args {
    /// Calls made, one after the other.
    #[arg(long, default_value_t = 30)]
    calls: usize,
    /// Calls made first and not counted.
    #[arg(long, default_value_t = 3)]
    warmups: usize,
    /// The results file (default bench/RESULTS.md).
    #[arg(long)]
    results: Option<PathBuf>,
    /// Print only; do not write the results file.
    #[arg(long)]
    no_write: bool,
}

/// The figures of a run.
struct Figures {
    ring: Latencies,
    accepted: Latencies,
    media: Latencies,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    setup::wait_for_no_rustc().await;
    let server = Server::start(None, |c| {
        c.calls.sfu_bind = ([127, 0, 0, 1], 0).into();
    })
    .await?;
    let measured = measure(&args, &server).await;
    server.stop().await?;
    let f = measured?;
    let body = report(&args, &Machine::describe(), &f);
    println!("{body}");
    if !args.no_write {
        crate::results::write_section(
            &setup::results_file(args.results.as_ref()),
            "## Call set-up — the server with str0m peers (one-to-one, loopback)",
            &body,
        )?;
    }
    Ok(())
}

async fn measure(args: &Args, server: &Server) -> anyhow::Result<Figures> {
    let phones = setup::valid_numbers(13_900_000_000, 2)?;
    let (caller_phone, callee_phone) = (&phones[0], &phones[1]);
    let base = Client::new(&server.base);
    let caller = setup::register(&base, &server.provider, caller_phone).await?;
    let callee = setup::register(&base, &server.provider, callee_phone).await?;
    let http = reqwest::Client::new();
    for (token, other) in [(&caller.token, callee_phone), (&callee.token, caller_phone)] {
        let r = http
            .put(format!("{}/v1/contacts", server.base))
            .bearer_auth(token)
            .json(&json!({ "contacts": [{ "name": "them", "phones": [other] }] }))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "contacts: {}", r.status());
    }
    let conversation = Client::new(&server.base)
        .with_token(caller.token.clone())
        .create_direct(callee_phone)
        .await?
        .value
        .id;
    let ws_url = format!("{}/v1/ws", server.base.replacen("http", "ws", 1));
    let mut a = connect(&ws_url, &caller.token).await?;
    let mut b = connect(&ws_url, &callee.token).await?;
    let mut f = Figures {
        ring: Latencies::new()?,
        accepted: Latencies::new()?,
        media: Latencies::new()?,
    };
    for i in 0..args.warmups + args.calls {
        let (ring, accepted, media) = one_call(&mut a, &mut b, &conversation, i).await?;
        if i >= args.warmups {
            f.ring.record(ring);
            f.accepted.record(accepted);
            f.media.record(media);
        }
    }
    Ok(f)
}

/// One call, hung up once media flows: (ring, accepted, media flowing), each from the
/// caller's `call_start`.
async fn one_call(
    a: &mut Socket,
    b: &mut Socket,
    conversation: &str,
    i: usize,
) -> anyhow::Result<(Duration, Duration, Duration)> {
    let start = Instant::now();
    send(
        a,
        json!({ "type": "call_start", "client_id": format!("c{i}"), "conversation_id": conversation, "media": "video" }),
    )
    .await?;
    let rung = until(b, "call").await?;
    let ring = start.elapsed();
    let call_id = rung["call"]["id"]
        .as_str()
        .ok_or_else(|| anyhow!("a call without id: {rung}"))?
        .to_owned();
    send(b, json!({ "type": "call_accept", "call_id": call_id })).await?;
    until(a, "call_accepted").await?;
    let accepted = start.elapsed();
    // The caller offers; the callee answers; candidates are in the SDPs (host, loopback).
    let (offering, offer) = TestPeer::offer().await?;
    send(
        a,
        json!({ "type": "call_signal", "call_id": call_id, "kind": "offer", "sdp": offer }),
    )
    .await?;
    let offer = until(b, "call_signal").await?;
    let (callee_peer, answer) = TestPeer::answer(offer["sdp"].as_str().unwrap_or_default()).await?;
    send(
        b,
        json!({ "type": "call_signal", "call_id": call_id, "kind": "answer", "sdp": answer }),
    )
    .await?;
    let answer = until(a, "call_signal").await?;
    let caller_peer = offering
        .accept_answer(answer["sdp"].as_str().unwrap_or_default())
        .await?;
    let deadline = Instant::now() + STEP;
    let heard = |p: &TestPeer| p.received().values().any(|r| r.audio_packets > 0);
    while !(heard(&caller_peer) && heard(&callee_peer)) {
        anyhow::ensure!(Instant::now() < deadline, "no media within {STEP:?}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let media = start.elapsed();
    send(a, json!({ "type": "call_hangup", "call_id": call_id })).await?;
    until(a, "call_ended").await?;
    until(b, "call_ended").await?;
    caller_peer.close().await;
    callee_peer.close().await;
    Ok((ring, accepted, media))
}

async fn send(socket: &mut Socket, frame: Value) -> anyhow::Result<()> {
    socket.send(Message::Text(frame.to_string().into())).await?;
    Ok(())
}

/// The next frame of type `kind` (others skipped; an `error` fails).
async fn until(socket: &mut Socket, kind: &str) -> anyhow::Result<Value> {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .map_err(|_| anyhow!("no {kind} frame within {STEP:?}"))?
            .ok_or_else(|| anyhow!("closed while waiting for {kind}"))??;
        let Message::Text(text) = message else {
            continue;
        };
        let frame: Value = serde_json::from_str(&text)?;
        if frame["type"] == kind {
            return Ok(frame);
        }
        anyhow::ensure!(frame["type"] != "error", "waiting for {kind}: {text}");
    }
}

/// Opens a WebSocket with the bearer token and reads its `ready` frame.
async fn connect(url: &str, token: &str) -> anyhow::Result<Socket> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert(
        "Authorization",
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .context("WebSocket handshake")?;
    until(&mut socket, "ready").await?;
    Ok(socket)
}

fn report(args: &Args, machine: &Machine, f: &Figures) -> String {
    let command: Vec<String> = std::env::args().skip(1).collect();
    let media = f.media.summary();
    let mut out = String::new();
    out.push_str(&format!(
        "- Date: {}\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    out.push_str(&format!("- Machine: {}\n", machine.line()));
    out.push_str(&format!(
        "- Command: `dialtone-bench {}` (release build), SQLite, server and both clients in \
         this process\n",
        command.join(" ")
    ));
    out.push_str(&format!(
        "- Each call: the caller's `call_start` on its live connection; the callee's device \
         accepts when `call` arrives; the caller offers, the callee answers (`call_signal`, \
         SDPs with host candidates); two str0m peers connect directly (ICE, DTLS-SRTP) and \
         send audio and video; hung up once both have received audio. {} calls after {} \
         warm-up calls, one at a time. The browsers' own work (devices, encoders) is not \
         in these figures.\n",
        args.calls, args.warmups
    ));
    out.push_str("\n| From `call_start` to | p50 / p90 / p99 / max (ms) |\n|---|---|\n");
    out.push_str(&format!(
        "| the callee's devices ring (`call`) | {} |\n",
        f.ring.summary().line()
    ));
    out.push_str(&format!(
        "| the caller has `call_accepted` | {} |\n",
        f.accepted.summary().line()
    ));
    out.push_str(&format!("| media flowing both ways | {} |\n", media.line()));
    out.push_str(&format!(
        "\nTarget (ring to media flowing under 1 s): {} (p99 {:.1} ms).\n",
        if media.p99 < 1000.0 { "met" } else { "not met" },
        media.p99
    ));
    out
}
