//! The SFU under load: an in-process `dialtone_sfu::Sfu` on a thread of its own (so its CPU
//! can be read from `/proc/self/task/*/stat`), and rooms of synthetic str0m participants
//! each sending VP8-shaped video at a set bit rate over UDP on 127.0.0.1. Reports packets
//! forwarded per second, streams forwarded, SFU CPU per forwarded packet, added latency
//! (send time in the payload, read by the receiver) and loss.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dialtone_sfu::{Sfu, SfuConfig, SfuEvent};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use crate::machine::Machine;
use crate::stats::Latencies;

#[derive(clap::Args)]
pub struct Args {
    /// Rooms.
    #[arg(long, default_value_t = 4)]
    rooms: usize,
    /// Participants per room; each receives every other one's video.
    #[arg(long, default_value_t = 4)]
    per_room: usize,
    /// Video bit rate each participant sends, kbit/s.
    #[arg(long, default_value_t = 1000)]
    kbps: u64,
    /// Video frames per second each participant sends.
    #[arg(long, default_value_t = 30)]
    fps: u64,
    /// Seconds measured, after a warm-up of 3 s.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Results file to write the section into.
    #[arg(long, default_value = "bench/RESULTS.md")]
    results: PathBuf,
}

/// What every participant counts, shared with the measuring code.
#[derive(Default)]
struct Shared {
    frames_sent: AtomicU64,
    frames_received: AtomicU64,
    /// Participants that receive video from every other member of their room.
    complete: AtomicU64,
    latencies: Mutex<Option<Latencies>>,
}

pub async fn run(args: Args) -> Result<()> {
    let machine = Machine::describe();
    eprintln!("machine: {}", machine.line());
    let (sfu, stop) = start_sfu_thread()?;
    let shared = Arc::new(Shared::default());
    let base = Instant::now();
    let routes: Arc<Mutex<HashMap<String, mpsc::Sender<Offer>>>> = Arc::default();
    spawn_signalling(&sfu, routes.clone())?;

    let mut tasks = Vec::new();
    for r in 0..args.rooms {
        for p in 0..args.per_room {
            let room = format!("r{r}");
            let name = format!("p{p}");
            let (tx, rx) = mpsc::channel(8);
            if let Ok(mut routes) = routes.lock() {
                routes.insert(format!("{room}/{name}"), tx);
            }
            let participant = Participant::join(&sfu, &room, &name, args.per_room - 1).await?;
            let frame_bytes = (args.kbps * 1000 / 8 / args.fps.max(1)) as usize;
            tasks.push(tokio::spawn(participant.run(
                rx,
                shared.clone(),
                base,
                frame_bytes.max(16),
                args.fps.max(1),
            )));
        }
    }
    let participants = (args.rooms * args.per_room) as u64;
    let waited = Instant::now();
    while shared.complete.load(Ordering::Relaxed) < participants {
        if waited.elapsed() > Duration::from_secs(120) {
            bail!(
                "only {} of {participants} participants receive everyone",
                shared.complete.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;

    if let Ok(mut l) = shared.latencies.lock() {
        *l = Some(Latencies::new()?);
    }
    let cpu0 = sfu_thread_cpu()?;
    let s0 = sfu.stats().await;
    let sent0 = shared.frames_sent.load(Ordering::Relaxed);
    let recv0 = shared.frames_received.load(Ordering::Relaxed);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu1 = sfu_thread_cpu()?;
    let s1 = sfu.stats().await;
    let sent = shared.frames_sent.load(Ordering::Relaxed) - sent0;
    let received = shared.frames_received.load(Ordering::Relaxed) - recv0;
    let latencies = shared
        .latencies
        .lock()
        .ok()
        .and_then(|mut l| l.take())
        .context("latencies")?;
    for t in &tasks {
        t.abort();
    }
    sfu.stop().await;
    let _ = stop.send(());

    let out_packets = s1.packets_out - s0.packets_out;
    let in_packets = s1.packets_in - s0.packets_in;
    let sends = s1.sends - s0.sends;
    let dropped = s1.send_dropped - s0.send_dropped;
    let frames = s1.forwarded - s0.forwarded;
    let cpu = cpu1 - cpu0;
    let streams = args.rooms * args.per_room * (args.per_room - 1);
    let expected = sent * (args.per_room as u64 - 1);
    let loss = 1.0 - received as f64 / expected.max(1) as f64;
    let summary = latencies.summary();
    let per_packet_us = cpu * 1e6 / out_packets.max(1) as f64;
    let body = format!(
        "- Date: {date}; machine: {machine}\n\
         - Command: `cargo run --release -p dialtone-bench -- sfu --rooms {rooms} --per-room {per} --kbps {kbps} --fps {fps} --seconds {secs}`\n\
         - The SFU runs on a thread of its own (current-thread runtime); the {participants} str0m participants share the other core.\n\n\
         | Measure | Figure | Target |\n| --- | --- | --- |\n\
         | Video streams forwarded ({kbps} kbit/s, {fps} fps each) | {streams} | 1,500 per core |\n\
         | Datagrams out /s (RTP and RTCP) | {out_rate:.0} | |\n\
         | Datagrams out per send call (UDP GSO gathers a subscriber's) | {per_send:.2} | |\n\
         | Datagrams dropped at send (socket buffer full) | {dropped} | |\n\
         | Datagrams in /s | {in_rate:.0} | |\n\
         | Frames forwarded /s | {frame_rate:.0} | |\n\
         | SFU thread CPU | {cpu_pct:.0}% of a core | |\n\
         | SFU CPU per datagram out | {per_packet_us:.2} µs | ≤ 5 µs per forwarded packet |\n\
         | Send → receive latency p50 / p90 / p99 / max (ms) | {lat} | p99 added < 5 ms |\n\
         | Frame loss | {loss_pct:.2}% ({received} of {expected}) | |\n",
        date = chrono::Utc::now().format("%Y-%m-%d"),
        machine = machine.line(),
        rooms = args.rooms,
        per = args.per_room,
        kbps = args.kbps,
        fps = args.fps,
        secs = args.seconds,
        out_rate = out_packets as f64 / elapsed,
        in_rate = in_packets as f64 / elapsed,
        per_send = out_packets as f64 / sends.max(1) as f64,
        frame_rate = frames as f64 / elapsed,
        cpu_pct = cpu / elapsed * 100.0,
        lat = summary.line(),
        loss_pct = loss * 100.0,
    );
    println!("{body}");
    let heading = format!(
        "## SFU — {} rooms × {} at {} kbit/s",
        args.rooms, args.per_room, args.kbps
    );
    crate::results::write_section(&args.results, &heading, &body)?;
    Ok(())
}

/// Starts the SFU on a thread named `sfu` with a runtime of its own; the sender stops it.
fn start_sfu_thread() -> Result<(Sfu, oneshot::Sender<()>)> {
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("sfu".to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = handle_tx.send(Err(anyhow::Error::from(e)));
                    return;
                }
            };
            runtime.block_on(async move {
                let config = SfuConfig {
                    bind: SocketAddr::from(([127, 0, 0, 1], 0)),
                    public_ip: None,
                };
                match Sfu::start(config).await {
                    Ok(sfu) => {
                        let _ = handle_tx.send(Ok(sfu));
                        let _ = stop_rx.await;
                    }
                    Err(e) => {
                        let _ = handle_tx.send(Err(e.into()));
                    }
                }
            });
        })?;
    let sfu = handle_rx.recv().context("the SFU thread")??;
    Ok((sfu, stop_tx))
}

/// CPU seconds (user + system) of the thread named `sfu`.
fn sfu_thread_cpu() -> Result<f64> {
    for entry in std::fs::read_dir("/proc/self/task")? {
        let dir = entry?.path();
        if std::fs::read_to_string(dir.join("comm"))?.trim() != "sfu" {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat"))?;
        // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).context("stat")?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks =
            |i: usize| -> Result<f64> { Ok(fields.get(i).context("stat field")?.parse::<f64>()?) };
        // `rest` starts at field 3, so field n is at index n - 3.
        return Ok((ticks(11)? + ticks(12)?) / 100.0);
    }
    bail!("no thread named sfu")
}

type Offer = (String, oneshot::Sender<String>);

/// Carries the SFU's offers to the participants and their answers back.
fn spawn_signalling(
    sfu: &Sfu,
    routes: Arc<Mutex<HashMap<String, mpsc::Sender<Offer>>>>,
) -> Result<()> {
    let mut events = sfu.events().context("events")?;
    let sfu = sfu.clone();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let SfuEvent::Offer {
                room,
                participant,
                sdp,
            } = event
            else {
                continue;
            };
            let route = routes
                .lock()
                .ok()
                .and_then(|r| r.get(&format!("{room}/{participant}")).cloned());
            let Some(route) = route else { continue };
            let sfu = sfu.clone();
            tokio::spawn(async move {
                let (tx, rx) = oneshot::channel();
                if route.send((sdp, tx)).await.is_ok()
                    && let Ok(answer) = rx.await
                {
                    let _ = sfu.answer(&room, &participant, &answer).await;
                }
            });
        }
    });
    Ok(())
}

/// One synthetic participant: a str0m `Rtc` on its own socket that sends video only.
struct Participant {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    video: Mid,
    others: usize,
}

impl Participant {
    async fn join(sfu: &Sfu, room: &str, name: &str, others: usize) -> Result<Participant> {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        let local = socket.local_addr()?;
        let mut rtc = Rtc::builder().build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp")?);
        let mut change = rtc.sdp_api();
        let video = change.add_media(MediaKind::Video, Direction::SendRecv, None, None, None);
        let (offer, pending) = change.apply().context("an offer")?;
        let answer = sfu.join(room, name, &offer.to_sdp_string()).await?;
        rtc.sdp_api()
            .accept_answer(pending, SdpAnswer::from_sdp_string(&answer)?)?;
        Ok(Participant {
            rtc,
            socket,
            local,
            video,
            others,
        })
    }

    async fn run(
        mut self,
        mut offers: mpsc::Receiver<Offer>,
        shared: Arc<Shared>,
        base: Instant,
        frame_bytes: usize,
        fps: u64,
    ) {
        let mut buf = vec![0u8; 2048];
        let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / fps));
        let mut frame = 0u64;
        let mut receiving: HashMap<Mid, bool> = HashMap::new();
        let mut complete = false;
        let mut local = Latencies::new().ok();
        loop {
            // Poll until str0m wants a timeout.
            let timeout = loop {
                if !self.rtc.is_alive() {
                    return;
                }
                match self.rtc.poll_output() {
                    Ok(Output::Timeout(t)) => break t,
                    Ok(Output::Transmit(t)) => {
                        let _ = self.socket.try_send_to(&t.contents, t.destination);
                    }
                    Ok(Output::Event(Event::MediaData(data))) => {
                        receiving.insert(data.mid, true);
                        shared.frames_received.fetch_add(1, Ordering::Relaxed);
                        if let Some(bytes) = data.data.get(1..9).and_then(|b| b.try_into().ok()) {
                            let sent = Duration::from_nanos(u64::from_le_bytes(bytes));
                            if let Some(l) = local.as_mut() {
                                l.record(base.elapsed().saturating_sub(sent));
                            }
                        }
                        if !complete && receiving.len() >= self.others {
                            complete = true;
                            shared.complete.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(Output::Event(_)) => {}
                    Err(_) => return,
                }
            };
            tokio::select! {
                o = offers.recv() => {
                    if let Some((sdp, reply)) = o
                        && let Ok(offer) = SdpOffer::from_sdp_string(&sdp)
                        && let Ok(answer) = self.rtc.sdp_api().accept_offer(offer)
                    {
                        let _ = reply.send(answer.to_sdp_string());
                    }
                }
                r = self.socket.recv_from(&mut buf) => {
                    if let Ok((n, source)) = r
                        && let Some(Ok(contents)) = buf.get(..n).map(|b| b.try_into())
                    {
                        let input = Input::Receive(Instant::now(), Receive {
                            proto: Protocol::Udp, source, destination: self.local, contents,
                        });
                        if self.rtc.handle_input(input).is_err() {
                            return;
                        }
                    }
                }
                _ = tokio::time::sleep_until(timeout.into()) => {}
                _ = ticker.tick() => {
                    if self.rtc.is_connected() {
                        frame += 1;
                        self.send_frame(frame, fps, frame_bytes, base, &shared);
                    }
                    // Hand this participant's latencies over once a second.
                    if frame.is_multiple_of(fps) {
                        if let (Some(l), Ok(mut total)) = (local.as_ref(), shared.latencies.lock())
                            && let Some(total) = total.as_mut()
                        {
                            let _ = total.merge(l);
                        }
                        local = Latencies::new().ok();
                    }
                }
            }
            if self
                .rtc
                .handle_input(Input::Timeout(Instant::now()))
                .is_err()
            {
                return;
            }
        }
    }

    fn send_frame(&mut self, frame: u64, fps: u64, bytes: usize, base: Instant, shared: &Shared) {
        let Some(writer) = self.rtc.writer(self.video) else {
            return;
        };
        let Some(pt) = writer
            .payload_params()
            .find(|p| p.spec().codec == Codec::Vp8)
            .map(|p| p.pt())
        else {
            return;
        };
        let mut data = vec![0xAAu8; bytes];
        data[0] = 0x10;
        let now = base.elapsed().as_nanos() as u64;
        data[1..9].copy_from_slice(&now.to_le_bytes());
        let time = MediaTime::new(frame * 90_000 / fps, Frequency::NINETY_KHZ);
        if writer.write(pt, Instant::now(), time, data).is_ok() {
            shared.frames_sent.fetch_add(1, Ordering::Relaxed);
        }
    }
}
