//! A browser stand-in for tests (feature `testing`): a str0m `Rtc` on its own UDP socket on
//! 127.0.0.1 that offers audio and video (sendrecv), sends a synthetic Opus packet and VP8
//! keyframe every 20 ms once connected, answers the SFU's offers, and counts what it
//! receives per remote participant.
//!
//! It needs no handle to the [`crate::Sfu`], so tests of the layers above (the server's
//! end-to-end tests, which signal over their own WebSocket) can use it as a browser:
//!
//! ```no_run
//! # async fn call(signal_join: impl Fn(String) -> String) -> Result<(), dialtone_sfu::testing::TestPeerError> {
//! use dialtone_sfu::testing::TestPeer;
//! let (offering, offer_sdp) = TestPeer::offer().await?;
//! let answer_sdp = signal_join(offer_sdp); // e.g. through the server's call frames
//! let peer = offering.accept_answer(&answer_sdp).await?;
//! // Later, for each server offer: `peer.answer_offer(&sdp).await?` gives the answer SDP.
//! let from_bob = peer.received().get("bob").copied().unwrap_or_default();
//! # let _ = from_bob; Ok(()) }
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

/// What went wrong in the test peer (SDP refused, socket, peer task ended).
#[derive(Debug, thiserror::Error)]
#[error("test peer: {0}")]
pub struct TestPeerError(String);

fn fail(e: impl std::fmt::Display) -> TestPeerError {
    TestPeerError(e.to_string())
}

/// What a test peer received from one remote participant.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Audio packets.
    pub audio_packets: u64,
    /// Audio payload bytes.
    pub audio_bytes: u64,
    /// Video frames.
    pub video_packets: u64,
    /// Video payload bytes.
    pub video_bytes: u64,
}

#[derive(Debug, Default)]
struct State {
    connected: bool,
    closed: bool,
    /// Remote stream id (the publisher's name) per mid the SFU added.
    streams: HashMap<Mid, String>,
    /// The negotiated direction of each of those mids, as this peer sees it.
    directions: HashMap<Mid, Direction>,
    received: HashMap<String, Received>,
}

enum PeerCommand {
    Offer(String, oneshot::Sender<Result<String, TestPeerError>>),
    AudioLevel(i8),
    Close(oneshot::Sender<()>),
}

/// A test peer that made its offer and waits for the answer.
pub struct OfferingPeer {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    audio: Option<Mid>,
    video: Option<Mid>,
    simulcast: bool,
    pending: SdpPendingOffer,
}

/// A running test peer; clones share it, and the last one dropped stops it.
#[derive(Clone)]
pub struct TestPeer {
    state: Arc<Mutex<State>>,
    commands: mpsc::Sender<PeerCommand>,
    _task: Arc<AbortOnDrop>,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl TestPeer {
    /// Binds a socket on 127.0.0.1 and makes an offer that sends and receives audio and
    /// video, as a browser joining a call does. Returns the peer waiting for its answer and
    /// the offer's SDP.
    pub async fn offer() -> Result<(OfferingPeer, String), TestPeerError> {
        TestPeer::offer_media(true, true).await
    }

    /// [`TestPeer::offer`] with a choice of media, e.g. audio only (a member refused with
    /// `video_full` joins again so).
    pub async fn offer_media(
        audio: bool,
        video: bool,
    ) -> Result<(OfferingPeer, String), TestPeerError> {
        TestPeer::offer_with(audio, video, false).await
    }

    /// [`TestPeer::offer`] sending its video as simulcast: layers `l` (frames of 300
    /// bytes) and `h` (900 bytes), as a browser sends a small and a large picture.
    pub async fn offer_simulcast() -> Result<(OfferingPeer, String), TestPeerError> {
        TestPeer::offer_with(true, true, true).await
    }

    async fn offer_with(
        audio: bool,
        video: bool,
        simulcast: bool,
    ) -> Result<(OfferingPeer, String), TestPeerError> {
        let socket = UdpSocket::bind("127.0.0.1:0").await.map_err(fail)?;
        let local = socket.local_addr().map_err(fail)?;
        let mut rtc = Rtc::builder().build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp").map_err(fail)?);
        let mut change = rtc.sdp_api();
        let audio = audio
            .then(|| change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None));
        let layers = simulcast.then(|| {
            let mut layers = str0m::media::Simulcast::new();
            layers.add_send_layer(str0m::media::SimulcastLayer::new("l"));
            layers.add_send_layer(str0m::media::SimulcastLayer::new("h"));
            layers
        });
        let video = video
            .then(|| change.add_media(MediaKind::Video, Direction::SendRecv, None, None, layers));
        let (offer, pending) = change.apply().ok_or_else(|| fail("no media to offer"))?;
        let sdp = offer.to_sdp_string();
        let offering = OfferingPeer {
            rtc,
            socket,
            local,
            audio,
            video,
            simulcast,
            pending,
        };
        Ok((offering, sdp))
    }

    /// A peer that takes another peer's offer, as the callee of a one-to-one call does:
    /// it sends on the audio and video the offer carries, once connected. Returns the
    /// running peer and its answer's SDP (give it to the offerer's
    /// [`OfferingPeer::accept_answer`]).
    pub async fn answer(offer_sdp: &str) -> Result<(TestPeer, String), TestPeerError> {
        let socket = UdpSocket::bind("127.0.0.1:0").await.map_err(fail)?;
        let local = socket.local_addr().map_err(fail)?;
        let mut rtc = Rtc::builder().build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp").map_err(fail)?);
        let offer = SdpOffer::from_sdp_string(offer_sdp).map_err(fail)?;
        let answer = rtc.sdp_api().accept_offer(offer).map_err(fail)?;
        let state = Arc::new(Mutex::new(State::default()));
        let (commands, rx) = mpsc::channel(16);
        let runner = Runner {
            rtc,
            socket,
            local,
            audio: None,
            video: None,
            simulcast: false,
            answering: true,
            level: -127,
            state: state.clone(),
            frame: 0,
        };
        let task = tokio::spawn(runner.run(rx));
        let peer = TestPeer {
            state,
            commands,
            _task: Arc::new(AbortOnDrop(task)),
        };
        Ok((peer, answer.to_sdp_string()))
    }

    /// Answers a server offer (other members' tracks added, made inactive or stopped);
    /// returns the answer's SDP, to give back to the SFU.
    pub async fn answer_offer(&self, offer_sdp: &str) -> Result<String, TestPeerError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(PeerCommand::Offer(offer_sdp.to_owned(), reply))
            .await
            .map_err(|_| fail("the peer has stopped"))?;
        answer.await.map_err(|_| fail("the peer has stopped"))?
    }

    /// What arrived so far, per remote stream id (the publisher's participant name).
    pub fn received(&self) -> HashMap<String, Received> {
        self.state
            .lock()
            .map(|s| s.received.clone())
            .unwrap_or_default()
    }

    /// What arrived so far from one publisher.
    pub fn received_from(&self, publisher: &str) -> Received {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.received.get(publisher).copied())
            .unwrap_or_default()
    }

    /// Whether the SFU ever offered this peer a track of `publisher`.
    pub fn offered(&self, publisher: &str) -> bool {
        self.state
            .lock()
            .map(|s| s.streams.values().any(|p| p == publisher))
            .unwrap_or(false)
    }

    /// Whether some track of `publisher` is negotiated to reach this peer now (offered and
    /// neither inactive nor stopped).
    pub fn receiving(&self, publisher: &str) -> bool {
        self.state
            .lock()
            .map(|s| {
                s.streams.iter().any(|(mid, p)| {
                    p == publisher && s.directions.get(mid).is_some_and(|d| d.is_receiving())
                })
            })
            .unwrap_or(false)
    }

    /// Whether ICE and DTLS are up.
    pub fn connected(&self) -> bool {
        self.state.lock().map(|s| s.connected).unwrap_or(false)
    }

    /// Whether the connection is closed (by the SFU, or by [`TestPeer::close`]).
    pub fn closed(&self) -> bool {
        self.state.lock().map(|s| s.closed).unwrap_or(true)
    }

    /// Sets the audio level sent in the RFC 6464 extension (dBov, negative; -127 is
    /// silence, the default).
    pub async fn set_audio_level(&self, level: i8) -> Result<(), TestPeerError> {
        self.commands
            .send(PeerCommand::AudioLevel(level))
            .await
            .map_err(|_| fail("the peer has stopped"))
    }

    /// Drops the connection, as a closed browser tab does (the SFU notices by ICE timeout),
    /// and stops the peer.
    pub async fn close(&self) {
        let (reply, done) = oneshot::channel();
        if self.commands.send(PeerCommand::Close(reply)).await.is_ok() {
            let _ = done.await;
        }
    }
}

impl OfferingPeer {
    /// Takes the answer to the offer and starts running: connecting, sending media every
    /// 20 ms once connected, and counting what arrives.
    pub async fn accept_answer(mut self, answer_sdp: &str) -> Result<TestPeer, TestPeerError> {
        let answer = SdpAnswer::from_sdp_string(answer_sdp).map_err(fail)?;
        self.rtc
            .sdp_api()
            .accept_answer(self.pending, answer)
            .map_err(fail)?;
        let state = Arc::new(Mutex::new(State::default()));
        let (commands, rx) = mpsc::channel(16);
        let runner = Runner {
            rtc: self.rtc,
            socket: self.socket,
            local: self.local,
            audio: self.audio,
            video: self.video,
            simulcast: self.simulcast,
            answering: false,
            level: -127,
            state: state.clone(),
            frame: 0,
        };
        let task = tokio::spawn(runner.run(rx));
        Ok(TestPeer {
            state,
            commands,
            _task: Arc::new(AbortOnDrop(task)),
        })
    }
}

struct Runner {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    audio: Option<Mid>,
    video: Option<Mid>,
    simulcast: bool,
    /// Took the other side's offer: sends on the media it carries.
    answering: bool,
    level: i8,
    state: Arc<Mutex<State>>,
    frame: u64,
}

impl Runner {
    async fn run(mut self, mut commands: mpsc::Receiver<PeerCommand>) {
        let mut buf = vec![0u8; 2048];
        let mut ticker = tokio::time::interval(Duration::from_millis(20));
        loop {
            let Some(timeout) = self.poll() else {
                return;
            };
            tokio::select! {
                c = commands.recv() => match c {
                    None => return,
                    Some(PeerCommand::AudioLevel(l)) => self.level = l,
                    Some(PeerCommand::Offer(sdp, reply)) => {
                        let _ = reply.send(self.accept(&sdp));
                    }
                    Some(PeerCommand::Close(reply)) => {
                        self.rtc.disconnect();
                        self.set_closed();
                        let _ = reply.send(());
                        return;
                    }
                },
                r = self.socket.recv_from(&mut buf) => {
                    if let Ok((n, source)) = r
                        && let Some(bytes) = buf.get(..n)
                        && let Ok(contents) = bytes.try_into()
                    {
                        let input = Input::Receive(Instant::now(), Receive {
                            proto: Protocol::Udp, source, destination: self.local, contents,
                        });
                        if self.rtc.handle_input(input).is_err() {
                            self.set_closed();
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
                self.set_closed();
                return;
            }
        }
    }

    fn set_closed(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.closed = true;
        }
    }

    fn accept(&mut self, sdp: &str) -> Result<String, TestPeerError> {
        let offer = SdpOffer::from_sdp_string(sdp).map_err(fail)?;
        let answer = self.rtc.sdp_api().accept_offer(offer).map_err(fail)?;
        if let Ok(mut s) = self.state.lock() {
            let mids: Vec<Mid> = s.streams.keys().copied().collect();
            for mid in mids {
                if let Some(media) = self.rtc.media(mid) {
                    s.directions.insert(mid, media.direction());
                }
            }
        }
        Ok(answer.to_sdp_string())
    }

    /// Polls until a timeout; `None` when the `Rtc` is closed.
    fn poll(&mut self) -> Option<Instant> {
        loop {
            if !self.rtc.is_alive() {
                self.set_closed();
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
                if self.answering && added.direction.is_sending() {
                    match added.kind {
                        MediaKind::Audio if self.audio.is_none() => self.audio = Some(added.mid),
                        MediaKind::Video if self.video.is_none() => self.video = Some(added.mid),
                        _ => {}
                    }
                }
                if let Some(media) = self.rtc.media(added.mid) {
                    s.streams.insert(added.mid, media.stream_id().to_owned());
                    s.directions.insert(added.mid, media.direction());
                }
            }
            Event::MediaData(data) => {
                // A media line this peer offered itself (a one-to-one call's caller) is
                // never "added": its stream id is read when its first media comes.
                if !s.streams.contains_key(&data.mid)
                    && let Some(media) = self.rtc.media(data.mid)
                {
                    s.streams.insert(data.mid, media.stream_id().to_owned());
                }
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
        if let Some(writer) = self.audio.and_then(|mid| self.rtc.writer(mid)) {
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
        // One frame per layer: `None` without simulcast, else `l` (small) and `h`.
        let layers: &[(Option<&str>, usize)] = if self.simulcast {
            &[(Some("l"), 300), (Some("h"), 900)]
        } else {
            &[(None, 900)]
        };
        for (rid, size) in layers {
            let Some(writer) = self.video.and_then(|mid| self.rtc.writer(mid)) else {
                break;
            };
            let pt = writer
                .payload_params()
                .find(|p| p.spec().codec == Codec::Vp8)
                .map(|p| p.pt());
            if let Some(pt) = pt {
                let time = MediaTime::new(self.frame * 1800, Frequency::NINETY_KHZ);
                // First byte 0x10 (low bit 0): a VP8 keyframe, so every frame can start a
                // decoder.
                let mut frame = vec![0xAAu8; *size];
                if let Some(first) = frame.first_mut() {
                    *first = 0x10;
                }
                let writer = match rid {
                    Some(rid) => writer.rid(str0m::media::Rid::from(*rid)),
                    None => writer,
                };
                let _ = writer.write(pt, now, time, frame);
            }
        }
    }
}
