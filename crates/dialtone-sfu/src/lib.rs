//! The selective forwarding unit of dialtone's group calls.
//!
//! One tokio task owns one UDP socket and one str0m [`str0m::Rtc`] per participant. Packets
//! are demultiplexed to their participant by source address (learnt from the first packet a
//! participant's `Rtc` accepts), media is forwarded to the other members of the room without
//! decoding, and str0m answers for ICE, DTLS-SRTP and RTCP feedback (NACK/RTX, PLI/FIR,
//! TWCC). [`Sfu`] is a cheap handle that sends commands to that task.
//!
//! Signalling is the caller's: [`Sfu::join`] takes the browser's offer and gives the answer;
//! after that the SFU is the only offerer ([`SfuEvent::Offer`], answered with
//! [`Sfu::answer`]), so there is no glare.
//!
//! With the feature `testing`, [`testing::TestPeer`] is a browser stand-in for tests of
//! this crate and of the layers above it.

mod engine;
mod error;
mod sdp_check;
mod simulcast;
mod speaking;
#[cfg(feature = "testing")]
pub mod testing;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

pub use error::SfuError;

use engine::Command;

/// Most participants one room takes (audio for everyone).
pub const MAX_PARTICIPANTS: usize = 50;
/// Most participants of one room that may send video; the next one is refused with
/// [`SfuError::VideoFull`] and may join again audio-only.
pub const MAX_VIDEO_PUBLISHERS: usize = 16;
/// Largest SDP (offer or answer) accepted, in bytes.
pub const MAX_SDP_BYTES: usize = 64 * 1024;
/// Longest room or participant name, in bytes.
pub const MAX_NAME_BYTES: usize = 128;
/// Audio levels quieter than this (in dBov) are silence for [`SfuEvent::Speaking`].
pub const SILENCE_DBOV: u8 = 70;
/// A participant whose ICE and DTLS are not up this long after joining is dropped.
pub const CONNECT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// Where the SFU listens and what address it tells browsers.
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// The one UDP socket for every peer, e.g. `0.0.0.0:3479` (port 0 in tests).
    pub bind: SocketAddr,
    /// The address put in the ICE candidate; default: the bound address, or 127.0.0.1 when
    /// bound to an unspecified address.
    pub public_ip: Option<IpAddr>,
}

/// Which simulcast layer a subscriber wants of a publisher's video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layer {
    /// The lowest-resolution layer the publisher sends (small tiles).
    Low,
    /// The highest-resolution layer the publisher sends (large tiles); the default.
    #[default]
    High,
}

/// What the SFU tells the signalling layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SfuEvent {
    /// Send this SDP offer to the participant (it adds or stops other members' tracks); the
    /// participant answers with [`Sfu::answer`]. Only one offer per participant is open at
    /// a time; changes made meanwhile come in the next offer.
    Offer {
        /// The room.
        room: String,
        /// Who must answer.
        participant: String,
        /// The offer, plain SDP.
        sdp: String,
    },
    /// Who is speaking, from the RFC 6464 audio-level extension: participants heard in the
    /// last quarter second, loudest first, with the loudest level they sent then in dBov
    /// (0 is the loudest, 127 silence; levels quieter than [`SILENCE_DBOV`] are
    /// left out). Sent at most four times a second per room, and only when it changes.
    Speaking {
        /// The room.
        room: String,
        /// `(participant, dBov)`, loudest first; empty when everyone fell silent.
        levels: Vec<(String, u8)>,
    },
    /// The participant's ICE and DTLS are up; media flows.
    Connected {
        /// The room.
        room: String,
        /// Who connected.
        participant: String,
    },
    /// The participant's connection is gone (ICE timeout, DTLS closed, never connected
    /// within [`CONNECT_DEADLINE`]): they are out of the room. Not sent for
    /// [`Sfu::leave`].
    Gone {
        /// The room.
        room: String,
        /// Who is gone.
        participant: String,
    },
}

/// Counters since start, and what is live now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SfuStats {
    /// UDP datagrams received.
    pub packets_in: u64,
    /// Media packets (audio and video, counted as str0m's frames: one per audio packet,
    /// one per video frame) written to subscribers.
    pub forwarded: u64,
    /// Payload bytes written to subscribers.
    pub bytes_forwarded: u64,
    /// Audio frames written to subscribers.
    pub audio_forwarded: u64,
    /// Video frames written to subscribers.
    pub video_forwarded: u64,
    /// UDP datagrams sent.
    pub packets_out: u64,
    /// Send system calls that succeeded: a UDP GSO send carries several datagrams to one
    /// address, so `packets_out / sends` is how well sends are gathered.
    pub sends: u64,
    /// Datagrams no participant accepted.
    pub unmatched: u64,
    /// Datagrams dropped because the socket's buffer was full.
    pub send_dropped: u64,
    /// Events dropped because nobody read them.
    pub events_dropped: u64,
    /// Rooms now.
    pub rooms: usize,
    /// Participants now.
    pub participants: usize,
}

/// A handle to the SFU task; clones share it.
#[derive(Clone)]
pub struct Sfu {
    inner: Arc<Inner>,
}

struct Inner {
    commands: mpsc::Sender<Command>,
    local_addr: SocketAddr,
    events: Mutex<Option<mpsc::Receiver<SfuEvent>>>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// How many events wait for the signalling layer before new ones are dropped.
const EVENT_QUEUE: usize = 4096;

impl Sfu {
    /// Binds the socket and spawns the task that owns it and every participant's `Rtc`.
    pub async fn start(config: SfuConfig) -> std::io::Result<Sfu> {
        let socket = tokio::net::UdpSocket::bind(config.bind).await?;
        let local_addr = socket.local_addr()?;
        let public_ip = config
            .public_ip
            .unwrap_or(if local_addr.ip().is_unspecified() {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            } else {
                local_addr.ip()
            });
        let candidate_addr = SocketAddr::new(public_ip, local_addr.port());
        let (commands, command_rx) = mpsc::channel(1024);
        let (event_tx, event_rx) = mpsc::channel(EVENT_QUEUE);
        let engine = engine::Engine::new(socket, candidate_addr, event_tx)?;
        let task = tokio::spawn(engine.run(command_rx));
        Ok(Sfu {
            inner: Arc::new(Inner {
                commands,
                local_addr,
                events: Mutex::new(Some(event_rx)),
                task: Mutex::new(Some(task)),
            }),
        })
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// A participant joins a room with the browser's SDP offer (audio and/or video,
    /// sendrecv, video possibly simulcast); returns the SDP answer. The room is made on its
    /// first join. The other members' tracks come in a server offer once connected.
    pub async fn join(
        &self,
        room: &str,
        participant: &str,
        offer_sdp: &str,
    ) -> Result<String, SfuError> {
        check_name(room)?;
        check_name(participant)?;
        let offer = sdp_check::offer(offer_sdp)?;
        self.ask(|reply| Command::Join {
            room: room.to_owned(),
            participant: participant.to_owned(),
            offer,
            reply,
        })
        .await?
    }

    /// The participant's answer to the server's last offer ([`SfuEvent::Offer`]).
    pub async fn answer(
        &self,
        room: &str,
        participant: &str,
        answer_sdp: &str,
    ) -> Result<(), SfuError> {
        let answer = sdp_check::answer(answer_sdp)?;
        self.ask(|reply| Command::Answer {
            room: room.to_owned(),
            participant: participant.to_owned(),
            answer,
            reply,
        })
        .await?
    }

    /// Muted audio / camera off: the SFU stops forwarding that kind from this participant
    /// (enforced here, not only by the client's `track.enabled`). Turning video back on asks
    /// the participant for a keyframe.
    pub async fn set_media(
        &self,
        room: &str,
        participant: &str,
        audio: bool,
        video: bool,
    ) -> Result<(), SfuError> {
        self.ask(|reply| Command::SetMedia {
            room: room.to_owned(),
            participant: participant.to_owned(),
            audio,
            video,
            reply,
        })
        .await?
    }

    /// A subscriber asks for the low or high simulcast layer of a publisher (small tile vs.
    /// large); default high. Without simulcast there is one layer and this changes nothing.
    pub async fn prefer_layer(
        &self,
        room: &str,
        subscriber: &str,
        publisher: &str,
        layer: Layer,
    ) -> Result<(), SfuError> {
        self.ask(|reply| Command::PreferLayer {
            room: room.to_owned(),
            subscriber: subscriber.to_owned(),
            publisher: publisher.to_owned(),
            layer,
            reply,
        })
        .await?
    }

    /// The privacy policy's word on two members of a room: while `excluded`, nothing of
    /// `publisher` reaches `subscriber` (no media is forwarded, no track of theirs is
    /// offered, a track already open stops at once and is made inactive in the next offer)
    /// and `subscriber`'s keyframe requests never reach `publisher`; `publisher` notices
    /// nothing and still receives `subscriber`. It is kept per room by name, so it may be set
    /// before either joins and holds until lifted (`excluded: false`, which offers the
    /// tracks again and asks for a keyframe); lifting one that was never set does nothing.
    /// `SfuEvent::Speaking` still names every member: the signalling layer, which decided
    /// the exclusion, filters what it tells `subscriber`.
    pub async fn exclude(
        &self,
        room: &str,
        subscriber: &str,
        publisher: &str,
        excluded: bool,
    ) -> Result<(), SfuError> {
        check_name(room)?;
        check_name(subscriber)?;
        check_name(publisher)?;
        self.ask(|reply| Command::Exclude {
            room: room.to_owned(),
            subscriber: subscriber.to_owned(),
            publisher: publisher.to_owned(),
            excluded,
            reply,
        })
        .await
    }

    /// The participant leaves: their media stops being forwarded, and the others get an
    /// offer that stops the tracks. Leaving when not in the room does nothing.
    pub async fn leave(&self, room: &str, participant: &str) {
        let _ = self
            .ask(|reply| Command::Leave {
                room: room.to_owned(),
                participant: participant.to_owned(),
                reply,
            })
            .await;
    }

    /// The events for the signalling layer: one receiver, given to the first caller only.
    pub fn events(&self) -> Option<mpsc::Receiver<SfuEvent>> {
        self.inner.events.lock().ok().and_then(|mut e| e.take())
    }

    /// Counters and sizes; all zero once stopped.
    pub async fn stats(&self) -> SfuStats {
        self.ask(|reply| Command::Stats { reply })
            .await
            .unwrap_or_default()
    }

    /// Closes every participant's connection and ends the task; waits for it.
    pub async fn stop(&self) {
        let _ = self.ask(|reply| Command::Stop { reply }).await;
        let task = self.inner.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, SfuError> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .commands
            .send(command(reply))
            .await
            .map_err(|_| SfuError::Stopped)?;
        answer.await.map_err(|_| SfuError::Stopped)
    }
}

/// Names go into SDP (a participant's name is the msid stream id of their tracks), so they
/// are tokens: ASCII letters, digits and `-_.:@+`.
fn check_name(name: &str) -> Result<(), SfuError> {
    let token = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.:@+".contains(&b));
    if name.is_empty() || name.len() > MAX_NAME_BYTES || !token {
        return Err(SfuError::InvalidName);
    }
    Ok(())
}
