//! One participant: their str0m `Rtc`, the media they send (tracks in), the other members'
//! media sent to them (tracks out), and the renegotiation of those.

use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::media::{Direction, KeyframeRequestKind, MediaData, MediaKind, Mid, Rid};
use str0m::{Event, IceConnectionState, Output, Rtc};

use super::udp::Udp;
use super::{Counters, PeerId, Propagated};
use crate::Layer;
use crate::simulcast::Layers;

/// Least time between two keyframe requests sent to a publisher for one track.
const KEYFRAME_THROTTLE: Duration = Duration::from_millis(500);

/// A track the participant sends to the SFU.
#[derive(Debug)]
pub(crate) struct TrackIn {
    pub mid: Mid,
    pub kind: MediaKind,
    pub layers: Layers,
    last_keyframe_request: Option<Instant>,
}

/// Where a track out stands in the renegotiation with this participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutState {
    /// To be added in the next offer.
    ToOpen,
    /// Offered, answer awaited.
    Negotiating(Mid),
    /// Negotiated: media is forwarded on this mid.
    Open(Mid),
    /// Stop offered, answer awaited.
    NegotiatingStop(Mid),
}

/// Another member's track, sent to this participant.
#[derive(Debug)]
pub(crate) struct TrackOut {
    pub publisher: PeerId,
    /// The publisher's participant name, given to the subscriber as the msid stream id.
    pub stream_id: String,
    pub source_mid: Mid,
    pub kind: MediaKind,
    pub state: OutState,
    /// The publisher left: stop the track at the next offer.
    pub gone: bool,
    /// The simulcast layer this subscriber wants.
    pub want: Layer,
    /// The simulcast layer forwarded now (`None` until the first keyframe of one).
    pub current_rid: Option<Rid>,
    /// The privacy policy keeps this publisher from this subscriber: nothing is forwarded,
    /// the track is not offered (or is made inactive once open), and the subscriber's
    /// keyframe requests are dropped.
    pub excluded: bool,
    /// The direction set on the open m-line is inactive (the track was excluded then).
    inactive: bool,
    /// Set back to send-only in the offer now pending: ask for a keyframe once answered.
    reactivating: bool,
}

impl TrackOut {
    /// Whether the next offer must change this track.
    fn needs_offer(&self) -> bool {
        match self.state {
            OutState::ToOpen => !self.excluded,
            OutState::Open(_) => self.gone || self.excluded != self.inactive,
            OutState::Negotiating(_) | OutState::NegotiatingStop(_) => false,
        }
    }
}

/// What writing a publisher's media to a subscriber asks of the publisher.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WriteOutcome {
    Written,
    Skipped,
    /// The subscriber waits for a keyframe of this layer (a switch or a start).
    NeedKeyframe(Option<Rid>),
}

/// One participant of one room.
pub(crate) struct Peer {
    pub id: PeerId,
    pub room: String,
    pub name: String,
    pub rtc: Rtc,
    pub joined_at: Instant,
    pub connected: bool,
    pub sends_video: bool,
    pub audio_on: bool,
    pub video_on: bool,
    pub tracks_in: Vec<TrackIn>,
    pub tracks_out: Vec<TrackOut>,
    pending: Option<SdpPendingOffer>,
    pub next_timeout: Instant,
    /// Queued to be polled (it was written to or changed); set by the engine only.
    pub dirty: bool,
}

impl Peer {
    pub fn new(id: PeerId, room: String, name: String, rtc: Rtc, now: Instant) -> Peer {
        Peer {
            id,
            room,
            name,
            rtc,
            joined_at: now,
            connected: false,
            sends_video: false,
            audio_on: true,
            video_on: true,
            tracks_in: Vec::new(),
            tracks_out: Vec::new(),
            pending: None,
            next_timeout: now,
            dirty: false,
        }
    }

    /// Adds another member's track to what this participant receives (next offer, unless
    /// `excluded`: then it waits, unoffered, until the exclusion is lifted).
    pub fn open_track(
        &mut self,
        publisher: PeerId,
        name: &str,
        source_mid: Mid,
        kind: MediaKind,
        excluded: bool,
    ) {
        self.tracks_out.push(TrackOut {
            publisher,
            stream_id: name.to_owned(),
            source_mid,
            kind,
            state: OutState::ToOpen,
            gone: false,
            want: Layer::High,
            current_rid: None,
            excluded,
            inactive: false,
            reactivating: false,
        });
    }

    /// Excludes a publisher from this subscriber, or lifts that: forwarding stops at once,
    /// and the next offer makes their open tracks inactive (or send-only again). Returns the
    /// publisher's video tracks (source mids) that are open and sending again at once, so
    /// the engine can ask for a keyframe.
    pub fn set_excluded(&mut self, publisher: PeerId, excluded: bool) -> Vec<Mid> {
        let mut resumed = Vec::new();
        for t in self
            .tracks_out
            .iter_mut()
            .filter(|t| t.publisher == publisher)
        {
            t.excluded = excluded;
            if excluded {
                t.current_rid = None;
            } else if matches!(t.state, OutState::Open(_))
                && !t.inactive
                && t.kind == MediaKind::Video
            {
                resumed.push(t.source_mid);
            }
        }
        resumed
    }

    /// A publisher left: their tracks stop now and are stopped in the next offer.
    pub fn publisher_gone(&mut self, publisher: PeerId) {
        self.tracks_out
            .retain(|t| !(t.publisher == publisher && t.state == OutState::ToOpen));
        for t in self
            .tracks_out
            .iter_mut()
            .filter(|t| t.publisher == publisher)
        {
            t.gone = true;
        }
    }

    /// Polls str0m until it wants a timeout: queues what it transmits on `udp` (sent when
    /// the engine flushes it), turns its events into work for the engine, and first makes
    /// an offer when tracks changed.
    pub fn poll(&mut self, udp: &mut Udp, out: &mut Vec<Propagated>, counters: &mut Counters) {
        self.negotiate(out);
        loop {
            if !self.rtc.is_alive() {
                out.push(Propagated::Dead(self.id));
                return;
            }
            let output = match self.rtc.poll_output() {
                Ok(output) => output,
                Err(e) => {
                    tracing::debug!(peer = self.id, error = %e, "poll_output failed");
                    self.rtc.disconnect();
                    continue;
                }
            };
            match output {
                Output::Timeout(t) => {
                    self.next_timeout = t;
                    return;
                }
                Output::Transmit(t) => udp.send(t.destination, &t.contents, counters),
                Output::Event(e) => self.event(e, out),
            }
        }
    }

    fn event(&mut self, event: Event, out: &mut Vec<Propagated>) {
        match event {
            Event::Connected => {
                self.connected = true;
                out.push(Propagated::Connected(self.id));
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                self.rtc.disconnect();
            }
            Event::MediaAdded(added) if added.direction.is_receiving() => {
                self.tracks_in.push(TrackIn {
                    mid: added.mid,
                    kind: added.kind,
                    layers: Layers::default(),
                    last_keyframe_request: None,
                });
                out.push(Propagated::TrackOpen(self.id, added.mid, added.kind));
            }
            Event::MediaData(data) => self.media_in(data, out),
            Event::KeyframeRequest(req) => {
                // An excluded publisher never hears of this subscriber, keyframe requests
                // included.
                let Some(t) = self
                    .tracks_out
                    .iter()
                    .find(|t| t.state == OutState::Open(req.mid) && !t.excluded)
                else {
                    return;
                };
                out.push(Propagated::Keyframe {
                    publisher: t.publisher,
                    mid: t.source_mid,
                    rid: t.current_rid,
                    kind: req.kind,
                });
            }
            _ => {}
        }
    }

    fn media_in(&mut self, data: MediaData, out: &mut Vec<Propagated>) {
        let Some(track) = self.tracks_in.iter_mut().find(|t| t.mid == data.mid) else {
            return;
        };
        let on = match track.kind {
            MediaKind::Audio => self.audio_on,
            MediaKind::Video => self.video_on,
        };
        if !on {
            return;
        }
        if let Some(rid) = data.rid {
            track.layers.see(rid);
        }
        if track.kind == MediaKind::Video && !data.contiguous {
            let mid = data.mid;
            let rid = data.rid;
            self.request_keyframe(mid, rid, KeyframeRequestKind::Fir);
        }
        out.push(Propagated::Media(self.id, data));
    }

    /// Asks this participant for a keyframe of one of their tracks, at most every
    /// [`KEYFRAME_THROTTLE`] per track.
    pub fn request_keyframe(&mut self, mid: Mid, rid: Option<Rid>, kind: KeyframeRequestKind) {
        let now = Instant::now();
        let Some(track) = self.tracks_in.iter_mut().find(|t| t.mid == mid) else {
            return;
        };
        if track
            .last_keyframe_request
            .is_some_and(|t| now.duration_since(t) < KEYFRAME_THROTTLE)
        {
            return;
        }
        let Some(mut writer) = self.rtc.writer(mid) else {
            return;
        };
        if writer.request_keyframe(rid, kind).is_ok() {
            track.last_keyframe_request = Some(now);
        }
    }

    /// Writes a publisher's media to this subscriber, choosing the simulcast layer. `low`
    /// and `high` are the publisher's smallest and largest layers.
    pub fn write(
        &mut self,
        publisher: PeerId,
        data: &MediaData,
        low: Option<Rid>,
        high: Option<Rid>,
    ) -> WriteOutcome {
        let Some(track) = self
            .tracks_out
            .iter_mut()
            .find(|t| t.publisher == publisher && t.source_mid == data.mid)
        else {
            return WriteOutcome::Skipped;
        };
        let OutState::Open(mid) = track.state else {
            return WriteOutcome::Skipped;
        };
        if track.excluded || track.inactive {
            return WriteOutcome::Skipped;
        }
        if data.rid.is_some() && data.rid != track.current_rid {
            let target = match track.want {
                Layer::Low => low,
                Layer::High => high,
            };
            if data.rid != target {
                return WriteOutcome::Skipped;
            }
            if !data.is_keyframe() {
                return WriteOutcome::NeedKeyframe(target);
            }
            track.current_rid = target;
        }
        let Some(writer) = self.rtc.writer(mid) else {
            return WriteOutcome::Skipped;
        };
        let Some(pt) = writer.match_params(data.params) else {
            return WriteOutcome::Skipped;
        };
        let writer = match data.ext_vals.audio_level {
            Some(level) => writer.audio_level(level, data.ext_vals.voice_activity.unwrap_or(false)),
            None => writer,
        };
        if let Err(e) = writer.write(pt, data.network_time, data.time, data.data.clone()) {
            tracing::debug!(peer = self.id, error = %e, "write failed");
            return WriteOutcome::Skipped;
        }
        WriteOutcome::Written
    }

    /// Makes an offer when tracks were added, their publishers left, or an exclusion was set
    /// or lifted, if connected and no offer is already waiting for its answer.
    fn negotiate(&mut self, out: &mut Vec<Propagated>) {
        if !self.connected || self.pending.is_some() {
            return;
        }
        self.tracks_out
            .retain(|t| !(t.gone && t.state == OutState::ToOpen));
        let needed = self.tracks_out.iter().any(TrackOut::needs_offer);
        if !needed {
            return;
        }
        let mut change = self.rtc.sdp_api();
        for t in &mut self.tracks_out {
            match t.state {
                OutState::ToOpen if !t.excluded => {
                    let stream_id = Some(t.stream_id.clone());
                    let mid = change.add_media(t.kind, Direction::SendOnly, stream_id, None, None);
                    t.state = OutState::Negotiating(mid);
                }
                OutState::Open(mid) if t.gone => {
                    change.stop_media(mid);
                    t.state = OutState::NegotiatingStop(mid);
                }
                OutState::Open(mid) if t.excluded != t.inactive => {
                    // str0m sets the direction locally now; the answer confirms it.
                    let direction = if t.excluded {
                        Direction::Inactive
                    } else {
                        t.reactivating = true;
                        Direction::SendOnly
                    };
                    change.set_direction(mid, direction);
                    t.inactive = t.excluded;
                }
                _ => {}
            }
        }
        let Some((offer, pending)) = change.apply() else {
            return;
        };
        self.pending = Some(pending);
        out.push(Propagated::Offer(self.id, offer.to_sdp_string()));
    }

    /// Takes the answer to the pending offer. Returns the tracks that opened, so the engine
    /// can ask their publishers for a keyframe.
    pub fn accept_answer(&mut self, answer: SdpAnswer) -> Result<Vec<(PeerId, Mid)>, String> {
        let Some(pending) = self.pending.take() else {
            return Err(String::new());
        };
        if let Err(e) = self.rtc.sdp_api().accept_answer(pending, answer) {
            // The offer is void: what it carried is offered again next time.
            for t in &mut self.tracks_out {
                match t.state {
                    OutState::Negotiating(_) => t.state = OutState::ToOpen,
                    OutState::NegotiatingStop(mid) => t.state = OutState::Open(mid),
                    _ => {}
                }
            }
            return Err(e.to_string());
        }
        let mut opened = Vec::new();
        for t in &mut self.tracks_out {
            let reopened = std::mem::take(&mut t.reactivating) && !t.inactive;
            if let OutState::Negotiating(mid) = t.state {
                t.state = OutState::Open(mid);
            } else if !reopened {
                continue;
            }
            if t.kind == MediaKind::Video && !t.excluded {
                opened.push((t.publisher, t.source_mid));
            }
        }
        self.tracks_out
            .retain(|t| !matches!(t.state, OutState::NegotiatingStop(_)));
        Ok(opened)
    }

    /// Whether an offer waits for its answer.
    pub fn has_pending_offer(&self) -> bool {
        self.pending.is_some()
    }
}
