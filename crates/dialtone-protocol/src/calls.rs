//! Calls as the contract shows them (`docs/api/calls.md`): the call, its signalling
//! frames' payloads, why a call ended, and the record a call leaves in its conversation.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Voice or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallMedia {
    /// Audio only.
    Voice,
    /// Audio and video.
    Video,
}

impl CallMedia {
    /// The word on the wire and in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Voice => "voice",
            Self::Video => "video",
        }
    }

    /// The media written `word`.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "voice" => Some(Self::Voice),
            "video" => Some(Self::Video),
            _ => None,
        }
    }
}

/// A call as its parties' devices see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Call {
    /// Id.
    pub id: String,
    /// The conversation it belongs to.
    pub conversation_id: String,
    /// Voice or video.
    pub media: CallMedia,
    /// A conference of a group (else one-to-one).
    #[serde(default)]
    pub group: bool,
    /// Who called (E.164).
    pub caller: String,
    /// Who is called (E.164), in a one-to-one call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callee: Option<String>,
    /// When it started (RFC 3339).
    pub started_at: String,
}

/// Why a call ended, as `call_ended` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallEndReason {
    /// The callee declined.
    Declined,
    /// The caller hung up before an answer.
    Cancelled,
    /// Nobody accepted within the ring timeout.
    NoAnswer,
    /// The callee is in another call.
    Busy,
    /// Either side ended an answered call.
    HungUp,
    /// Another device of the callee accepted.
    AnsweredElsewhere,
    /// Another device of the callee declined.
    DeclinedElsewhere,
    /// A party added people: the call goes on as a group call (`moved_to`), which both
    /// devices join.
    Moved,
}

impl CallEndReason {
    /// The word on the wire and in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Declined => "declined",
            Self::Cancelled => "cancelled",
            Self::NoAnswer => "no_answer",
            Self::Busy => "busy",
            Self::HungUp => "hung_up",
            Self::AnsweredElsewhere => "answered_elsewhere",
            Self::DeclinedElsewhere => "declined_elsewhere",
            Self::Moved => "moved",
        }
    }

    /// The reason written `word`.
    pub fn parse(word: &str) -> Option<Self> {
        [
            Self::Declined,
            Self::Cancelled,
            Self::NoAnswer,
            Self::Busy,
            Self::HungUp,
            Self::AnsweredElsewhere,
            Self::DeclinedElsewhere,
            Self::Moved,
        ]
        .into_iter()
        .find(|r| r.as_str() == word)
    }

    /// What the call's record says of a call that ended this way.
    pub const fn outcome(self) -> CallOutcome {
        match self {
            Self::HungUp | Self::Moved => CallOutcome::Answered,
            Self::Declined | Self::DeclinedElsewhere => CallOutcome::Declined,
            Self::Cancelled | Self::NoAnswer | Self::Busy | Self::AnsweredElsewhere => {
                CallOutcome::Missed
            }
        }
    }
}

/// How a call went, as its record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Answered.
    Answered,
    /// Nobody answered (no answer, cancelled, busy).
    Missed,
    /// The callee declined.
    Declined,
}

/// The record a call leaves in its conversation: the `call` of a message of kind `call`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallSummary {
    /// Voice or video.
    pub media: CallMedia,
    /// How it went.
    pub outcome: CallOutcome,
    /// How long it was answered, in milliseconds (`answered` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

/// One `RTCIceServer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IceServer {
    /// `stun:` or `turn:` / `turns:` URLs.
    pub urls: Vec<String>,
    /// TURN only: `<expiry unix seconds>:<user id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN only: base64(HMAC-SHA1(secret, username)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// The answer of `GET /v1/calls/ice-servers`: the ICE servers a device may use until
/// `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IceServers {
    /// Ready for `new RTCPeerConnection({iceServers})`.
    pub ice_servers: Vec<IceServer>,
    /// When the TURN credentials stop working (RFC 3339).
    pub expires_at: String,
}

/// What a `call_signal` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// An SDP offer.
    Offer,
    /// An SDP answer.
    Answer,
    /// A trickled ICE candidate.
    Candidate,
}

/// A trickled ICE candidate (`RTCIceCandidateInit`, in snake_case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The candidate line (`candidate:...`); empty: the end of candidates.
    pub candidate: String,
    /// The media section's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    /// The media section's index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_mline_index: Option<u32>,
}

/// A client's `call_start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallStartFrame {
    /// The client's key for this start, echoed by `call_started` (or its `error`).
    pub client_id: String,
    /// The conversation to call in.
    pub conversation_id: String,
    /// Voice or video.
    pub media: CallMedia,
}

/// A client's `call_accept`, `call_decline` or `call_hangup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallIdFrame {
    /// The call.
    pub call_id: String,
}

/// `call_signal`, both ways: an offer, an answer or a candidate for the other party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSignalFrame {
    /// The call.
    pub call_id: String,
    /// What it carries.
    pub kind: SignalKind,
    /// The SDP of an offer or an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp: Option<String>,
    /// A candidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<Candidate>,
}

/// A client's `call_join`: a member joins a group call with the SDP offer of its peer
/// connection (audio and video, sendrecv); the server's SFU answers with `call_signal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallJoinFrame {
    /// The call.
    pub call_id: String,
    /// The SDP offer.
    pub sdp: String,
}

/// A client's `call_media`: what this device sends in a group call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallMediaFrame {
    /// The call.
    pub call_id: String,
    /// Microphone on.
    pub audio: bool,
    /// Camera on.
    pub video: bool,
}

/// Which simulcast layer of a member's video a device wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoLayer {
    /// The smallest (a small tile).
    Low,
    /// The largest (the default).
    High,
}

/// A client's `call_layer`: the layer this device wants of a member's video.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallLayerFrame {
    /// The call.
    pub call_id: String,
    /// The member (E.164).
    pub phone: String,
    /// Which layer.
    pub layer: VideoLayer,
}

/// One member of a group call as `call_members` shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallMember {
    /// The member (E.164).
    pub phone: String,
    /// The id of the media streams this device sends, as the others receive them (the
    /// `id` of the `MediaStream` of its tracks): which tile is whose.
    pub stream: String,
    /// Microphone on.
    pub audio: bool,
    /// Camera on.
    pub video: bool,
}

/// One member heard in a group call, as `call_speaking` shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallLevel {
    /// The member (E.164).
    pub phone: String,
    /// Loudness in dBov: 0 the loudest, 127 silence.
    pub level: u8,
}

/// A client's `call_add`: a party of a one-to-one call adds people; the call goes on as
/// a group call of a new group (the two parties and the people added).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallAddFrame {
    /// The one-to-one call.
    pub call_id: String,
    /// Whom to add (E.164), 1 to 48.
    pub phones: Vec<String>,
    /// The new group's name (default: the members' numbers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Largest SDP a signal may carry.
pub const MAX_SDP_BYTES: usize = 64 * 1024;
/// Largest candidate line.
pub const MAX_CANDIDATE_BYTES: usize = 1024;

impl CallSignalFrame {
    /// Whether the signal is well-formed: an offer or answer with an SDP (at most 64 KiB,
    /// starting `v=0`) and no candidate; a candidate with a line of at most 1 KiB (empty,
    /// or starting `candidate:`) and no SDP. The error says what is wrong.
    pub fn check(&self) -> Result<(), &'static str> {
        match self.kind {
            SignalKind::Offer | SignalKind::Answer => {
                let sdp = self
                    .sdp
                    .as_deref()
                    .ok_or("an offer or answer needs an sdp")?;
                if self.candidate.is_some() {
                    return Err("an offer or answer carries no candidate");
                }
                if sdp.len() > MAX_SDP_BYTES {
                    return Err("an sdp is at most 64 KiB");
                }
                if !sdp.starts_with("v=0") {
                    return Err("an sdp starts with v=0");
                }
            }
            SignalKind::Candidate => {
                let c = self
                    .candidate
                    .as_ref()
                    .ok_or("a candidate signal needs a candidate")?;
                if self.sdp.is_some() {
                    return Err("a candidate signal carries no sdp");
                }
                if c.candidate.len() > MAX_CANDIDATE_BYTES
                    || c.sdp_mid.as_ref().is_some_and(|m| m.len() > 256)
                {
                    return Err("a candidate is at most 1 KiB");
                }
                if !c.candidate.is_empty() && !c.candidate.starts_with("candidate:") {
                    return Err("a candidate line starts with candidate:");
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(kind: SignalKind, sdp: Option<&str>, candidate: Option<&str>) -> CallSignalFrame {
        CallSignalFrame {
            call_id: "c".into(),
            kind,
            sdp: sdp.map(str::to_owned),
            candidate: candidate.map(|c| Candidate {
                candidate: c.into(),
                sdp_mid: Some("0".into()),
                sdp_mline_index: Some(0),
            }),
        }
    }

    #[test]
    fn signals_are_checked_for_shape() {
        let ok = signal(
            SignalKind::Offer,
            Some("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"),
            None,
        );
        assert_eq!(ok.check(), Ok(()));
        assert!(signal(SignalKind::Offer, None, None).check().is_err());
        assert!(
            signal(SignalKind::Answer, Some("hello"), None)
                .check()
                .is_err()
        );
        let big = format!("v=0\r\n{}", "a".repeat(MAX_SDP_BYTES));
        assert!(
            signal(SignalKind::Answer, Some(&big), None)
                .check()
                .is_err()
        );
        assert!(
            signal(SignalKind::Offer, Some("v=0"), Some("candidate:1"))
                .check()
                .is_err()
        );
        assert_eq!(
            signal(
                SignalKind::Candidate,
                None,
                Some("candidate:1 1 udp 1 127.0.0.1 9 typ host")
            )
            .check(),
            Ok(())
        );
        assert_eq!(
            signal(SignalKind::Candidate, None, Some("")).check(),
            Ok(())
        );
        assert!(
            signal(SignalKind::Candidate, None, Some("x"))
                .check()
                .is_err()
        );
        assert!(signal(SignalKind::Candidate, None, None).check().is_err());
        let long = format!("candidate:{}", "1".repeat(MAX_CANDIDATE_BYTES));
        assert!(
            signal(SignalKind::Candidate, None, Some(&long))
                .check()
                .is_err()
        );
    }

    #[test]
    fn reasons_read_back_and_say_the_outcome() {
        for word in [
            "declined",
            "cancelled",
            "no_answer",
            "busy",
            "hung_up",
            "answered_elsewhere",
            "declined_elsewhere",
            "moved",
        ] {
            let reason = CallEndReason::parse(word);
            assert_eq!(reason.map(CallEndReason::as_str), Some(word));
            assert_eq!(
                serde_json::to_value(reason).ok(),
                Some(serde_json::Value::from(word))
            );
        }
        assert_eq!(CallEndReason::HungUp.outcome(), CallOutcome::Answered);
        assert_eq!(CallEndReason::Busy.outcome(), CallOutcome::Missed);
        assert_eq!(CallEndReason::Declined.outcome(), CallOutcome::Declined);
        assert_eq!(CallMedia::parse("video"), Some(CallMedia::Video));
        assert_eq!(CallMedia::parse("fax"), None);
    }
}
