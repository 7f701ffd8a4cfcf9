//! A browser stand-in: a str0m `Rtc` on its own UDP socket that offers audio and video
//! (sendrecv), sends synthetic Opus and VP8 frames every 20 ms once connected, answers the
//! SFU's offers, and counts what it receives per remote participant and kind.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

/// What a client received from one remote participant.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub audio_packets: u64,
    pub audio_bytes: u64,
    pub video_packets: u64,
    pub video_bytes: u64,
}

#[derive(Debug, Default)]
struct State {
    connected: bool,
    closed: bool,
    /// Remote stream id (the publisher's name) per mid the SFU added.
    streams: HashMap<Mid, String>,
    received: HashMap<String, Received>,
}

pub enum ClientCommand {
    Offer(String, oneshot::Sender<Result<String>>),
    AudioLevel(i8),
}

/// A running client.
pub struct Client {
    pub name: String,
    state: Arc<Mutex<State>>,
    commands: mpsc::Sender<ClientCommand>,
    task: tokio::task::JoinHandle<()>,
}

impl Client {
    /// Makes the offer, joins through `join` (which returns the SFU's answer) and runs.
    pub async fn start<F, Fut>(name: &str, join: F) -> Result<Client>
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = Result<String>>,
    {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        let local = socket.local_addr()?;
        let mut rtc = Rtc::builder().build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp")?);
        let mut change = rtc.sdp_api();
        let audio = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let video = change.add_media(MediaKind::Video, Direction::SendRecv, None, None, None);
        let (offer, pending) = change.apply().context("an offer")?;
        let answer = join(offer.to_sdp_string()).await?;
        rtc.sdp_api()
            .accept_answer(pending, SdpAnswer::from_sdp_string(&answer)?)?;
        let state = Arc::new(Mutex::new(State::default()));
        let (commands, rx) = mpsc::channel(16);
        let runner = Runner {
            rtc,
            socket,
            local,
            audio,
            video,
            level: -127,
            state: state.clone(),
            frame: 0,
        };
        let task = tokio::spawn(runner.run(rx));
        Ok(Client {
            name: name.to_owned(),
            state,
            commands,
            task,
        })
    }

    /// The sender to give the SFU's offers to.
    pub fn commands(&self) -> mpsc::Sender<ClientCommand> {
        self.commands.clone()
    }

    /// Sets the audio level sent in the RFC 6464 extension (dBov, negative; -127 silence).
    pub async fn set_audio_level(&self, level: i8) -> Result<()> {
        self.commands.send(ClientCommand::AudioLevel(level)).await?;
        Ok(())
    }

    /// What arrived from a remote participant so far.
    pub fn received_from(&self, publisher: &str) -> Received {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.received.get(publisher).copied())
            .unwrap_or_default()
    }

    pub fn connected(&self) -> bool {
        self.state.lock().map(|s| s.connected).unwrap_or(false)
    }

    pub fn closed(&self) -> bool {
        self.state.lock().map(|s| s.closed).unwrap_or(false)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Runner {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    audio: Mid,
    video: Mid,
    level: i8,
    state: Arc<Mutex<State>>,
    frame: u64,
}

impl Runner {
    async fn run(mut self, mut commands: mpsc::Receiver<ClientCommand>) {
        let mut buf = vec![0u8; 2048];
        let mut ticker = tokio::time::interval(Duration::from_millis(20));
        loop {
            let Some(timeout) = self.poll() else {
                return;
            };
            tokio::select! {
                c = commands.recv() => match c {
                    None => return,
                    Some(ClientCommand::AudioLevel(l)) => self.level = l,
                    Some(ClientCommand::Offer(sdp, reply)) => {
                        let _ = reply.send(self.accept(&sdp));
                    }
                },
                r = self.socket.recv_from(&mut buf) => {
                    if let Ok((n, source)) = r
                        && let Ok(contents) = buf[..n].try_into()
                    {
                        let input = Input::Receive(Instant::now(), Receive {
                            proto: Protocol::Udp, source, destination: self.local, contents,
                        });
                        if self.rtc.handle_input(input).is_err() {
                            return;
                        }
                    }
                },
                _ = tokio::time::sleep_until(timeout.into()) => {},
                _ = ticker.tick() => self.send_frames(),
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

    fn accept(&mut self, sdp: &str) -> Result<String> {
        let offer = SdpOffer::from_sdp_string(sdp)?;
        let answer = self.rtc.sdp_api().accept_offer(offer)?;
        Ok(answer.to_sdp_string())
    }

    /// Polls until a timeout; `None` when the `Rtc` is closed.
    fn poll(&mut self) -> Option<Instant> {
        loop {
            if !self.rtc.is_alive() {
                if let Ok(mut s) = self.state.lock() {
                    s.closed = true;
                }
                return None;
            }
            match self.rtc.poll_output().ok()? {
                Output::Timeout(t) => return Some(t),
                Output::Transmit(t) => {
                    let _ = self.socket.try_send_to(&t.contents, t.destination);
                }
                Output::Event(e) => self.event(e),
            }
        }
    }

    fn event(&mut self, event: Event) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        match event {
            Event::Connected => s.connected = true,
            Event::Closed => s.closed = true,
            Event::MediaAdded(added) => {
                if let Some(media) = self.rtc.media(added.mid) {
                    s.streams.insert(added.mid, media.stream_id().to_owned());
                }
            }
            Event::MediaData(data) => {
                let Some(stream) = s.streams.get(&data.mid).cloned() else {
                    return;
                };
                let r = s.received.entry(stream).or_default();
                if data.params.spec().codec.is_audio() {
                    r.audio_packets += 1;
                    r.audio_bytes += data.data.len() as u64;
                } else {
                    r.video_packets += 1;
                    r.video_bytes += data.data.len() as u64;
                }
            }
            _ => {}
        }
    }

    fn send_frames(&mut self) {
        if !self.rtc.is_connected() {
            return;
        }
        self.frame += 1;
        let now = Instant::now();
        let level = self.level;
        if let Some(writer) = self.rtc.writer(self.audio) {
            let pt = writer
                .payload_params()
                .find(|p| p.spec().codec == Codec::Opus)
                .map(|p| p.pt());
            if let Some(pt) = pt {
                let time = MediaTime::new(self.frame * 960, Frequency::FORTY_EIGHT_KHZ);
                let _ =
                    writer
                        .audio_level(level, level > -127)
                        .write(pt, now, time, vec![0x55u8; 80]);
            }
        }
        if let Some(writer) = self.rtc.writer(self.video) {
            let pt = writer
                .payload_params()
                .find(|p| p.spec().codec == Codec::Vp8)
                .map(|p| p.pt());
            if let Some(pt) = pt {
                let time = MediaTime::new(self.frame * 1800, Frequency::NINETY_KHZ);
                // First byte's low bit 0: a VP8 keyframe, so every frame can start a decoder.
                let mut frame = vec![0xAAu8; 900];
                frame[0] = 0x10;
                let _ = writer.write(pt, now, time, frame);
            }
        }
    }
}
