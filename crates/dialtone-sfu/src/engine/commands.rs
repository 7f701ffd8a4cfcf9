//! What [`crate::Sfu`] asks of the task, and how each request is carried out.

use std::time::Instant;

use str0m::change::SdpAnswer;
use str0m::media::{KeyframeRequestKind, MediaKind};
use str0m::{Candidate, Rtc};
use tokio::sync::oneshot;

use super::peer::Peer;
use super::{Engine, PeerId, Room, mark};
use crate::sdp_check::Offer;
use crate::speaking::Speaking;
use crate::{Layer, MAX_PARTICIPANTS, MAX_VIDEO_PUBLISHERS, SfuError, SfuStats};

/// A request to the task, with where its answer goes.
pub(crate) enum Command {
    Join {
        room: String,
        participant: String,
        offer: Offer,
        reply: oneshot::Sender<Result<String, SfuError>>,
    },
    Answer {
        room: String,
        participant: String,
        answer: SdpAnswer,
        reply: oneshot::Sender<Result<(), SfuError>>,
    },
    SetMedia {
        room: String,
        participant: String,
        audio: bool,
        video: bool,
        reply: oneshot::Sender<Result<(), SfuError>>,
    },
    PreferLayer {
        room: String,
        subscriber: String,
        publisher: String,
        layer: Layer,
        reply: oneshot::Sender<Result<(), SfuError>>,
    },
    Leave {
        room: String,
        participant: String,
        reply: oneshot::Sender<()>,
    },
    Stats {
        reply: oneshot::Sender<SfuStats>,
    },
    Stop {
        reply: oneshot::Sender<()>,
    },
}

impl Engine {
    /// Carries out one command; true when the task must stop.
    pub(super) fn command(&mut self, command: Command) -> bool {
        match command {
            Command::Join {
                room,
                participant,
                offer,
                reply,
            } => {
                let _ = reply.send(self.join(room, participant, offer));
            }
            Command::Answer {
                room,
                participant,
                answer,
                reply,
            } => {
                let _ = reply.send(self.answer(&room, &participant, answer));
            }
            Command::SetMedia {
                room,
                participant,
                audio,
                video,
                reply,
            } => {
                let _ = reply.send(self.set_media(&room, &participant, audio, video));
            }
            Command::PreferLayer {
                room,
                subscriber,
                publisher,
                layer,
                reply,
            } => {
                let _ = reply.send(self.prefer_layer(&room, &subscriber, &publisher, layer));
            }
            Command::Leave {
                room,
                participant,
                reply,
            } => {
                if let Some(id) = self.find(&room, &participant) {
                    self.remove(id);
                }
                let _ = reply.send(());
            }
            Command::Stats { reply } => {
                let _ = reply.send(self.stats());
            }
            Command::Stop { reply } => {
                self.close_all();
                let _ = reply.send(());
                return true;
            }
        }
        false
    }

    /// The participant's id, if they are in that room.
    fn find(&self, room: &str, participant: &str) -> Option<PeerId> {
        self.rooms
            .get(room)?
            .members
            .iter()
            .copied()
            .find(|id| self.peers.get(id).is_some_and(|p| p.name == participant))
    }

    fn join(
        &mut self,
        room: String,
        participant: String,
        offer: Offer,
    ) -> Result<String, SfuError> {
        let now = Instant::now();
        if let Some(r) = self.rooms.get(&room) {
            if self.find(&room, &participant).is_some() {
                return Err(SfuError::AlreadyJoined);
            }
            if r.members.len() >= MAX_PARTICIPANTS {
                return Err(SfuError::RoomFull);
            }
            let cameras = r
                .members
                .iter()
                .filter(|id| self.peers.get(id).is_some_and(|p| p.sends_video))
                .count();
            if offer.sends_video && cameras >= MAX_VIDEO_PUBLISHERS {
                return Err(SfuError::VideoFull);
            }
        }
        let mut rtc = Rtc::builder().build(now);
        let candidate = Candidate::host(self.candidate_addr, "udp")
            .map_err(|e| SfuError::InvalidSdp(format!("local candidate: {e}")))?;
        rtc.add_local_candidate(candidate);
        let answer = rtc
            .sdp_api()
            .accept_offer(offer.sdp)
            .map_err(|e| SfuError::InvalidSdp(e.to_string()))?;

        let id = self.next_id;
        self.next_id += 1;
        let mut peer = Peer::new(id, room.clone(), participant, rtc, now);
        peer.sends_video = offer.sends_video;
        let members = self.rooms.entry(room).or_insert_with(|| Room {
            members: Vec::new(),
            speaking: Speaking::new(now),
        });
        for member in &members.members {
            let Some(m) = self.peers.get(member) else {
                continue;
            };
            for t in &m.tracks_in {
                peer.open_track(m.id, &m.name, t.mid, t.kind);
            }
        }
        members.members.push(id);
        self.peers.insert(id, peer);
        if let Some(peer) = self.peers.get_mut(&id) {
            mark(&mut self.dirty, peer);
        }
        Ok(answer.to_sdp_string())
    }

    fn answer(&mut self, room: &str, participant: &str, answer: SdpAnswer) -> Result<(), SfuError> {
        let id = self.find(room, participant).ok_or(SfuError::NotInRoom)?;
        let peer = self.peers.get_mut(&id).ok_or(SfuError::NotInRoom)?;
        if !peer.has_pending_offer() {
            return Err(SfuError::NoPendingOffer);
        }
        let result = peer.accept_answer(answer);
        mark(&mut self.dirty, peer);
        let opened = result.map_err(SfuError::InvalidSdp)?;
        // A subscriber that starts receiving video needs a keyframe to show anything.
        for (publisher, mid) in opened {
            if let Some(p) = self.peers.get_mut(&publisher) {
                p.request_keyframe(mid, None, KeyframeRequestKind::Pli);
                mark(&mut self.dirty, p);
            }
        }
        Ok(())
    }

    fn set_media(
        &mut self,
        room: &str,
        participant: &str,
        audio: bool,
        video: bool,
    ) -> Result<(), SfuError> {
        let id = self.find(room, participant).ok_or(SfuError::NotInRoom)?;
        let peer = self.peers.get_mut(&id).ok_or(SfuError::NotInRoom)?;
        let video_back = video && !peer.video_on;
        peer.audio_on = audio;
        peer.video_on = video;
        if video_back {
            let mids: Vec<_> = peer
                .tracks_in
                .iter()
                .filter(|t| t.kind == MediaKind::Video)
                .map(|t| (t.mid, t.layers.pick(Layer::High)))
                .collect();
            for (mid, rid) in mids {
                peer.request_keyframe(mid, rid, KeyframeRequestKind::Pli);
            }
            mark(&mut self.dirty, peer);
        }
        Ok(())
    }

    fn prefer_layer(
        &mut self,
        room: &str,
        subscriber: &str,
        publisher: &str,
        layer: Layer,
    ) -> Result<(), SfuError> {
        let sub = self.find(room, subscriber).ok_or(SfuError::NotInRoom)?;
        let publ = self.find(room, publisher).ok_or(SfuError::NotInRoom)?;
        let peer = self.peers.get_mut(&sub).ok_or(SfuError::NotInRoom)?;
        for t in peer
            .tracks_out
            .iter_mut()
            .filter(|t| t.publisher == publ && t.kind == MediaKind::Video)
        {
            t.want = layer;
        }
        // The switch happens at the wanted layer's next keyframe; ask for one now.
        let Some(p) = self.peers.get_mut(&publ) else {
            return Ok(());
        };
        let wanted: Vec<_> = p
            .tracks_in
            .iter()
            .filter(|t| t.kind == MediaKind::Video)
            .map(|t| (t.mid, t.layers.pick(layer)))
            .collect();
        for (mid, rid) in wanted {
            p.request_keyframe(mid, rid, KeyframeRequestKind::Pli);
        }
        mark(&mut self.dirty, p);
        Ok(())
    }
}
