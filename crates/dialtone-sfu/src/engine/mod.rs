//! The task that owns the socket and every `Rtc`: it reads datagrams, hands each to the
//! participant whose `Rtc` accepts it, drives str0m's timers, and forwards what comes out.
//!
//! Everything runs on this one task, so there are no locks: commands from [`crate::Sfu`]
//! arrive on a channel and are answered by oneshot. Work moves in two steps: polling a
//! participant turns str0m's output into [`Propagated`] items, and [`Engine::flush`] carries
//! those to the other members (writing media into their `Rtc`s), then polls the ones written
//! to, until nothing is left.

mod commands;
mod peer;
mod udp;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::Input;
use str0m::media::{KeyframeRequestKind, MediaData, MediaKind, Mid, Rid};
use str0m::net::{DatagramRecv, Protocol, Receive};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use udp::{Rx, Udp};

use crate::speaking::Speaking;
use crate::{CONNECT_DEADLINE, SfuEvent, SfuStats};
pub(crate) use commands::Command;
use peer::{Peer, WriteOutcome};

/// A participant's id inside the engine; never reused, so a stale one matches nothing.
pub(crate) type PeerId = u64;

/// Datagrams read in one go (at most; reads come in `recvmmsg` batches) before the work
/// they made is carried out.
const READ_BATCH: usize = 64;
/// The longest the task sleeps when nothing is due.
const IDLE: Duration = Duration::from_millis(500);

/// Work that polling one participant makes for the others.
// Media is most of the items and the queue's buffer is reused, so boxing it would only add an
// allocation per packet.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Propagated {
    /// A participant's track is new: the other members should receive it.
    TrackOpen(PeerId, Mid, MediaKind),
    /// Media from a participant, to forward.
    Media(PeerId, MediaData),
    /// A subscriber asks for a keyframe of a publisher's track.
    Keyframe {
        publisher: PeerId,
        mid: Mid,
        rid: Option<Rid>,
        kind: KeyframeRequestKind,
    },
    /// The participant must get this offer.
    Offer(PeerId, String),
    Connected(PeerId),
    /// The participant's `Rtc` is closed.
    Dead(PeerId),
}

/// Counters the task keeps.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub packets_in: u64,
    pub packets_out: u64,
    pub sends: u64,
    pub forwarded: u64,
    pub bytes_forwarded: u64,
    pub audio_forwarded: u64,
    pub video_forwarded: u64,
    pub unmatched: u64,
    pub send_dropped: u64,
    pub events_dropped: u64,
}

/// A room: its members in joining order, and who speaks.
pub(crate) struct Room {
    pub members: Vec<PeerId>,
    pub speaking: Speaking,
}

/// The state of the SFU task.
pub(crate) struct Engine {
    /// The socket; what the participants transmit is gathered there and sent at the end of
    /// each turn of the loop (or sooner, when the destination changes).
    udp: Udp,
    candidate_addr: SocketAddr,
    peers: HashMap<PeerId, Peer>,
    rooms: HashMap<String, Room>,
    /// Per room, `(subscriber, publisher)` names the privacy policy keeps apart; by name,
    /// not id, so an exclusion holds whoever joins first and outlives the room's members.
    exclusions: HashMap<String, HashSet<(String, String)>>,
    by_addr: HashMap<SocketAddr, PeerId>,
    events: mpsc::Sender<SfuEvent>,
    counters: Counters,
    next_id: PeerId,
    queue: Vec<Propagated>,
    dirty: Vec<PeerId>,
    rx: Rx,
}

enum Wake {
    Command(Option<Command>),
    Readable(std::io::Result<()>),
    Timer,
}

impl Engine {
    pub fn new(
        socket: UdpSocket,
        candidate_addr: SocketAddr,
        events: mpsc::Sender<SfuEvent>,
    ) -> std::io::Result<Engine> {
        Ok(Engine {
            udp: Udp::new(socket)?,
            candidate_addr,
            peers: HashMap::new(),
            rooms: HashMap::new(),
            exclusions: HashMap::new(),
            by_addr: HashMap::new(),
            events,
            counters: Counters::default(),
            next_id: 1,
            queue: Vec::new(),
            dirty: Vec::new(),
            rx: Rx::new(),
        })
    }

    /// The task's loop; ends on [`Command::Stop`] or when every handle is dropped.
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        loop {
            let deadline = self.next_deadline();
            let wake = tokio::select! {
                biased;
                c = commands.recv() => Wake::Command(c),
                r = self.udp.readable() => Wake::Readable(r),
                _ = tokio::time::sleep_until(deadline.into()) => Wake::Timer,
            };
            match wake {
                Wake::Command(None) => break,
                Wake::Command(Some(command)) => {
                    if self.command(command) {
                        break;
                    }
                }
                Wake::Readable(Ok(())) => self.read(),
                Wake::Readable(Err(e)) => tracing::debug!(error = %e, "readable failed"),
                Wake::Timer => {}
            }
            self.timeouts(Instant::now());
            self.flush();
            self.udp.flush(&mut self.counters);
        }
        self.close_all();
        self.udp.flush(&mut self.counters);
    }

    /// Reads up to [`READ_BATCH`] datagrams (fewer when the socket runs dry) and hands each
    /// to its participant.
    fn read(&mut self) {
        let mut rx = std::mem::take(&mut self.rx);
        let mut read = 0;
        while read < READ_BATCH {
            match self.udp.recv(&mut rx) {
                Ok(0) => break,
                Ok(_) => {
                    for (bytes, source) in rx.datagrams() {
                        self.datagram(bytes, source);
                        read += 1;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    // ICMP errors from a peer that went away surface here on some systems.
                    tracing::debug!(error = %e, "recv failed");
                    break;
                }
            }
        }
        self.rx = rx;
    }

    fn next_deadline(&self) -> Instant {
        let mut deadline = Instant::now() + IDLE;
        for peer in self.peers.values() {
            deadline = deadline.min(peer.next_timeout);
        }
        for room in self.rooms.values() {
            deadline = deadline.min(room.speaking.deadline());
        }
        deadline
    }

    /// Hands one datagram to the participant whose `Rtc` accepts it.
    fn datagram(&mut self, bytes: &[u8], source: SocketAddr) {
        self.counters.packets_in += 1;
        let Ok(contents) = DatagramRecv::try_from(bytes) else {
            self.counters.unmatched += 1;
            return;
        };
        let input = Input::Receive(
            Instant::now(),
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.candidate_addr,
                contents,
            },
        );
        let cached = self
            .by_addr
            .get(&source)
            .copied()
            .filter(|id| self.peers.get(id).is_some_and(|p| p.rtc.accepts(&input)));
        let id = match cached {
            Some(id) => id,
            None => {
                let Some(id) = self
                    .peers
                    .values()
                    .find(|p| p.rtc.accepts(&input))
                    .map(|p| p.id)
                else {
                    self.counters.unmatched += 1;
                    return;
                };
                self.by_addr.insert(source, id);
                id
            }
        };
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        if let Err(e) = peer.rtc.handle_input(input) {
            tracing::debug!(peer = id, error = %e, "handle_input failed");
            peer.rtc.disconnect();
        }
        peer.poll(&mut self.udp, &mut self.queue, &mut self.counters);
    }

    /// Drives str0m's timers of every participant that is due, and the rooms' speaking
    /// windows; drops participants that never connected.
    fn timeouts(&mut self, now: Instant) {
        for peer in self.peers.values_mut() {
            if !peer.connected && now.duration_since(peer.joined_at) > CONNECT_DEADLINE {
                peer.rtc.disconnect();
            }
            if peer.next_timeout <= now {
                if let Err(e) = peer.rtc.handle_input(Input::Timeout(now)) {
                    tracing::debug!(peer = peer.id, error = %e, "timeout input failed");
                    peer.rtc.disconnect();
                }
                peer.poll(&mut self.udp, &mut self.queue, &mut self.counters);
            }
        }
        let mut reports = Vec::new();
        for (name, room) in &mut self.rooms {
            if let Some(levels) = room.speaking.tick(now) {
                let levels = levels
                    .into_iter()
                    .filter_map(|(id, level)| Some((self.peers.get(&id)?.name.clone(), level)))
                    .collect();
                reports.push(SfuEvent::Speaking {
                    room: name.clone(),
                    levels,
                });
            }
        }
        for report in reports {
            self.emit(report);
        }
    }

    /// Carries out the queued work and polls the participants it touched, until none is
    /// left.
    fn flush(&mut self) {
        loop {
            if self.queue.is_empty() {
                let dirty = std::mem::take(&mut self.dirty);
                if dirty.is_empty() {
                    return;
                }
                for id in &dirty {
                    if let Some(peer) = self.peers.get_mut(id) {
                        peer.dirty = false;
                        peer.poll(&mut self.udp, &mut self.queue, &mut self.counters);
                    }
                }
                self.dirty = dirty;
                self.dirty.clear();
                continue;
            }
            let work = std::mem::take(&mut self.queue);
            for item in work {
                self.propagate(item);
            }
        }
    }

    fn propagate(&mut self, item: Propagated) {
        match item {
            Propagated::Media(publisher, data) => self.forward(publisher, &data),
            Propagated::TrackOpen(publisher, mid, kind) => {
                let Some((room, name)) = self
                    .peers
                    .get(&publisher)
                    .map(|p| (p.room.clone(), p.name.clone()))
                else {
                    return;
                };
                for id in self.others(publisher) {
                    if let Some(peer) = self.peers.get_mut(&id) {
                        let excluded = is_excluded(&self.exclusions, &room, &peer.name, &name);
                        peer.open_track(publisher, &name, mid, kind, excluded);
                        mark(&mut self.dirty, peer);
                    }
                }
            }
            Propagated::Keyframe {
                publisher,
                mid,
                rid,
                kind,
            } => {
                if let Some(peer) = self.peers.get_mut(&publisher) {
                    peer.request_keyframe(mid, rid, kind);
                    mark(&mut self.dirty, peer);
                }
            }
            Propagated::Offer(id, sdp) => {
                if let Some(peer) = self.peers.get(&id) {
                    let event = SfuEvent::Offer {
                        room: peer.room.clone(),
                        participant: peer.name.clone(),
                        sdp,
                    };
                    self.emit(event);
                }
            }
            Propagated::Connected(id) => {
                if let Some(peer) = self.peers.get_mut(&id) {
                    mark(&mut self.dirty, peer);
                    let event = SfuEvent::Connected {
                        room: peer.room.clone(),
                        participant: peer.name.clone(),
                    };
                    self.emit(event);
                }
            }
            Propagated::Dead(id) => {
                if let Some((room, participant)) = self.remove(id) {
                    self.emit(SfuEvent::Gone { room, participant });
                }
            }
        }
    }

    /// Writes a publisher's media to every other member of the room.
    fn forward(&mut self, publisher: PeerId, data: &MediaData) {
        let Some(source) = self.peers.get(&publisher) else {
            return;
        };
        let Some(track) = source.tracks_in.iter().find(|t| t.mid == data.mid) else {
            return;
        };
        let kind = track.kind;
        let low = track.layers.pick(crate::Layer::Low);
        let high = track.layers.pick(crate::Layer::High);
        let Some(room) = self.rooms.get_mut(&source.room) else {
            return;
        };
        if let (MediaKind::Audio, Some(level)) = (kind, data.ext_vals.audio_level) {
            room.speaking.hear(publisher, level.unsigned_abs().min(127));
        }
        let mut keyframe: Option<Option<Rid>> = None;
        for id in &room.members {
            if *id == publisher {
                continue;
            }
            let Some(peer) = self.peers.get_mut(id) else {
                continue;
            };
            match peer.write(publisher, data, low, high) {
                WriteOutcome::Written => {
                    self.counters.forwarded += 1;
                    self.counters.bytes_forwarded += data.data.len() as u64;
                    match kind {
                        MediaKind::Audio => self.counters.audio_forwarded += 1,
                        MediaKind::Video => self.counters.video_forwarded += 1,
                    }
                    mark(&mut self.dirty, peer);
                }
                WriteOutcome::NeedKeyframe(rid) => keyframe = Some(rid),
                WriteOutcome::Skipped => {}
            }
        }
        if let Some(rid) = keyframe
            && let Some(peer) = self.peers.get_mut(&publisher)
        {
            peer.request_keyframe(data.mid, rid, KeyframeRequestKind::Pli);
            mark(&mut self.dirty, peer);
        }
    }

    /// The other members of a participant's room.
    fn others(&self, id: PeerId) -> Vec<PeerId> {
        let Some(room) = self.peers.get(&id).and_then(|p| self.rooms.get(&p.room)) else {
            return Vec::new();
        };
        room.members.iter().copied().filter(|m| *m != id).collect()
    }

    /// Takes a participant out: their `Rtc` closes, the others stop receiving them (and get
    /// an offer that stops the tracks), an empty room goes. Returns their room and name.
    fn remove(&mut self, id: PeerId) -> Option<(String, String)> {
        let others = self.others(id);
        let mut peer = self.peers.remove(&id)?;
        if peer.rtc.is_alive() {
            let _ = peer.rtc.close();
            let mut ignored = Vec::new();
            peer.poll(&mut self.udp, &mut ignored, &mut self.counters);
        }
        self.by_addr.retain(|_, p| *p != id);
        for other in others {
            if let Some(o) = self.peers.get_mut(&other) {
                o.publisher_gone(id);
                mark(&mut self.dirty, o);
            }
        }
        if let Some(room) = self.rooms.get_mut(&peer.room) {
            room.members.retain(|m| *m != id);
            room.speaking.forget(id);
            if room.members.is_empty() {
                self.rooms.remove(&peer.room);
            }
        }
        Some((peer.room, peer.name))
    }

    fn emit(&mut self, event: SfuEvent) {
        if self.events.try_send(event).is_err() {
            self.counters.events_dropped += 1;
        }
    }

    fn stats(&self) -> SfuStats {
        let c = &self.counters;
        SfuStats {
            packets_in: c.packets_in,
            forwarded: c.forwarded,
            bytes_forwarded: c.bytes_forwarded,
            audio_forwarded: c.audio_forwarded,
            video_forwarded: c.video_forwarded,
            packets_out: c.packets_out,
            sends: c.sends,
            unmatched: c.unmatched,
            send_dropped: c.send_dropped,
            events_dropped: c.events_dropped,
            rooms: self.rooms.len(),
            participants: self.peers.len(),
        }
    }

    fn close_all(&mut self) {
        let ids: Vec<PeerId> = self.peers.keys().copied().collect();
        for id in ids {
            self.remove(id);
        }
        self.queue.clear();
    }
}

/// Whether the privacy policy keeps `publisher` from `subscriber` in `room`.
pub(crate) fn is_excluded(
    exclusions: &HashMap<String, HashSet<(String, String)>>,
    room: &str,
    subscriber: &str,
    publisher: &str,
) -> bool {
    exclusions
        .get(room)
        .is_some_and(|pairs| pairs.iter().any(|(s, p)| s == subscriber && p == publisher))
}

/// Queues a participant to be polled once.
fn mark(dirty: &mut Vec<PeerId>, peer: &mut Peer) {
    if !peer.dirty {
        peer.dirty = true;
        dirty.push(peer.id);
    }
}
