//! The live connection's frames (`GET /v1/ws`): JSON text frames, each an object tagged by
//! `type`.

use std::sync::Arc;

use dialtone_core::presence::PresenceState;
use dialtone_core::{ConversationId, ConversationKind};
use serde::{Deserialize, Serialize};

use crate::calls::{
    Call, CallAddFrame, CallEndReason, CallIdFrame, CallJoinFrame, CallLayerFrame, CallLevel,
    CallMediaFrame, CallMember, CallSignalFrame, CallStartFrame,
};
use crate::{ErrorCode, Message};

/// Presence of one contact as a viewer may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceFrame {
    /// The contact's number, E.164.
    pub phone: String,
    /// Available, away, busy or offline.
    pub state: PresenceState,
    /// Status text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// When an offline contact was last connected (RFC 3339), where their last-seen
    /// setting lets this viewer know it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<String>,
}

/// A conversation's state as all its members see it (the shared part of the contract's
/// conversation: no read marks, unread counts or last message, which are each member's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationState {
    /// Id.
    pub id: String,
    /// `direct` or `group`.
    pub kind: ConversationKind,
    /// A group's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Members' numbers (E.164), longest-standing first.
    pub members: Vec<String>,
    /// Admins' numbers.
    pub admins: Vec<String>,
    /// When created (RFC 3339).
    pub created_at: String,
}

/// Which mark a receipt moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// A device of the member acknowledged it.
    Delivered,
    /// The member read it.
    Read,
}

/// Frames the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame: every registered contact the user may see, offline ones included.
    Ready {
        /// Their presence.
        presence: Vec<PresenceFrame>,
        /// Messages this device has not acknowledged follow (then `caught_up`, when the
        /// client asked for it).
        #[serde(default)]
        catching_up: bool,
    },
    /// A contact's presence as this user may see it changed.
    Presence(PresenceFrame),
    /// A number in this user's address book became a dialtone user.
    ContactRegistered {
        /// The number.
        phone: String,
        /// The new user.
        user_id: String,
    },
    /// A message in one of the user's conversations (their own from other devices too).
    Message {
        /// The message.
        message: Arc<Message>,
    },
    /// A message was edited or deleted for everyone.
    MessageUpdated {
        /// The message as it is now.
        message: Arc<Message>,
    },
    /// A member's delivered or read mark moved.
    Receipt {
        /// The conversation.
        conversation_id: String,
        /// The member.
        phone: String,
        /// Up to this seq.
        seq: u64,
        /// Which mark.
        status: ReceiptStatus,
    },
    /// A member is typing.
    Typing {
        /// The conversation.
        conversation_id: String,
        /// Who types.
        phone: String,
    },
    /// A group the user is in changed: members added or gone, admins, name. Carries its
    /// state as every member sees it; the change itself is also a `system` message.
    Conversation {
        /// The conversation.
        conversation: Arc<ConversationState>,
    },
    /// The user is no longer a member of a conversation (removed, or left from another
    /// device): it is read-only from now on.
    ConversationRemoved {
        /// The conversation.
        conversation_id: String,
    },
    /// Catch-up is complete: every message this device had not acknowledged when it
    /// connected has been sent (live ones follow as they come).
    CaughtUp,
    /// Answer to a client `ping`.
    Pong,
    /// A new item in the space of a contact (or the user's own): the live feed.
    FeedItem(Arc<crate::FeedItem>),
    /// Something in the community concerns the user (a comment, a reply, a like).
    Notification {
        /// What happened.
        notification: Arc<crate::Notification>,
    },
    /// Answer to a client `send`: the message is on disk (as a 201 or, for a retried
    /// `client_id`, a 200 of `POST /v1/conversations/{id}/messages`).
    Sent {
        /// The client's idempotency key of the send this answers.
        client_id: String,
        /// `false` when the `client_id` had been sent before: `message` is the first one.
        created: bool,
        /// The message.
        message: Arc<Message>,
    },
    /// An incoming call rings on this device (every connected device of the callee, and a
    /// device that connects while it still rings).
    Call {
        /// The call.
        call: Arc<Call>,
    },
    /// Answer to the caller's `call_start`: the call is calling.
    CallStarted {
        /// The client's key of the `call_start`.
        client_id: String,
        /// The call.
        call: Arc<Call>,
    },
    /// The callee accepted on this device, or (to the caller's device) the callee accepted:
    /// WebRTC starts, the caller making the offer.
    CallAccepted {
        /// The call.
        call: Arc<Call>,
    },
    /// The other party's offer, answer or candidate.
    CallSignal(CallSignalFrame),
    /// Who is in a group call now, with their microphone and camera: to every member of
    /// the group (those not in it see that a call is going on, and can join).
    CallMembers {
        /// The call.
        call_id: String,
        /// The group.
        conversation_id: String,
        /// Who is in it.
        members: Vec<CallMember>,
    },
    /// Who is speaking in a group call (loudest first; empty: nobody), to its members.
    CallSpeaking {
        /// The call.
        call_id: String,
        /// Who is heard, and how loud.
        levels: Vec<CallLevel>,
    },
    /// The call is over for this device.
    CallEnded {
        /// The call.
        call_id: String,
        /// Why.
        reason: CallEndReason,
        /// How long it was answered (`hung_up` and `moved`), in milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_ms: Option<u64>,
        /// `moved` only: the group call it goes on as (join it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        moved_to: Option<Arc<Call>>,
    },
    /// A frame from the client could not be handled; the connection stays open.
    Error {
        /// Stable code (the HTTP API's codes for the same failure).
        code: ErrorCode,
        /// Human text.
        message: String,
        /// For a failed `send`: its `client_id`, so the client knows which.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        /// The conversation of the failed frame, when it named one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conversation_id: Option<String>,
        /// The call of the failed frame, when it named one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call_id: Option<String>,
    },
}

impl ServerFrame {
    /// The frame as the JSON text written on the socket.
    pub fn to_json(&self) -> Vec<u8> {
        // Every field is a string, a number, a bool or a struct of them: this is not
        // expected to fail. If it ever does, the log says so and the client gets an
        // `error` frame rather than nothing.
        serde_json::to_vec(self).unwrap_or_else(|e| {
            tracing::error!(error = %e, "frame not encoded");
            br#"{"type":"error","code":"internal_error","message":"something went wrong on our side"}"#
                .to_vec()
        })
    }

    /// An `error` frame.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Error {
            code,
            message: message.into(),
            client_id: None,
            conversation_id: None,
            call_id: None,
        }
    }
}

/// Frames a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Answered with `pong`.
    Ping,
    /// The device has every message of a conversation up to `seq`.
    Ack(AckFrame),
    /// The user is typing in a conversation.
    Typing(TypingFrame),
    /// A message, as `POST /v1/conversations/{id}/messages` without a request: answered
    /// with `sent` once it is on disk, or `error` with its `client_id`.
    Send(SendFrame),
    /// Calls a conversation's other member: answered with `call_started` or `error` with
    /// its `client_id`.
    CallStart(CallStartFrame),
    /// Takes a call ringing on this device.
    CallAccept(CallIdFrame),
    /// Declines a call ringing on this device.
    CallDecline(CallIdFrame),
    /// Ends (or, before an answer, cancels) a call.
    CallHangup(CallIdFrame),
    /// An offer, answer or candidate for the other party of a call (in a group call: the
    /// answer to the server's offers).
    CallSignal(CallSignalFrame),
    /// Joins a group call with an SDP offer.
    CallJoin(CallJoinFrame),
    /// Microphone and camera on or off in a group call.
    CallMedia(CallMediaFrame),
    /// The video layer this device wants of a member in a group call.
    CallLayer(CallLayerFrame),
    /// Adds people to a one-to-one call: it goes on as a group call.
    CallAdd(CallAddFrame),
}

/// `ack`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckFrame {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Every message up to this seq.
    pub seq: u64,
}

/// `typing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingFrame {
    /// The conversation.
    pub conversation_id: ConversationId,
}

/// `send`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendFrame {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The sender's idempotency key.
    pub client_id: String,
    /// `text`, `sticker`, `image`, `voice`, `video` or `file`, as the client wrote it:
    /// the messaging service reads it (an unknown kind is its `invalid_input`, as over
    /// HTTP, not a malformed frame).
    pub kind: String,
    /// Text, caption or sticker name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// An uploaded attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<String>,
    /// The message this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

/// Why a client frame could not be read, as its `error` frame says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// `malformed_frame` or `unknown_frame`.
    pub code: ErrorCode,
    /// What was wrong.
    pub message: String,
    /// The `client_id` of a malformed `send`, when it has one.
    pub client_id: Option<String>,
}

impl From<FrameError> for ServerFrame {
    fn from(e: FrameError) -> Self {
        ServerFrame::Error {
            code: e.code,
            message: e.message,
            client_id: e.client_id,
            conversation_id: None,
            call_id: None,
        }
    }
}

impl ClientFrame {
    /// Reads a client frame in one pass; only a frame that fails is looked at again, to
    /// say what was wrong with it.
    pub fn parse(text: &str) -> Result<Self, FrameError> {
        serde_json::from_str(text).map_err(|_| Self::why(text))
    }

    fn why(text: &str) -> FrameError {
        /// What a frame that failed says of itself.
        #[derive(Deserialize)]
        struct Outline {
            #[serde(rename = "type")]
            kind: Option<serde_json::Value>,
            client_id: Option<serde_json::Value>,
        }
        let malformed = |message: &str, client_id: Option<String>| FrameError {
            code: ErrorCode::MalformedFrame,
            message: message.to_owned(),
            client_id,
        };
        let Ok(outline) = serde_json::from_str::<Outline>(text) else {
            return malformed("a frame is a JSON object with a type", None);
        };
        let client_id = outline
            .client_id
            .as_ref()
            .and_then(|c| c.as_str())
            .map(str::to_owned);
        match outline.kind.as_ref().and_then(|k| k.as_str()) {
            None => malformed("a frame needs a string type", None),
            Some("send") => malformed(
                "a send needs conversation_id, client_id and kind, and text, attachment_id \
                 and reply_to are strings when present",
                client_id,
            ),
            Some("ack") => malformed("an ack needs a conversation_id and a seq", None),
            Some("typing") => malformed("needs a conversation_id", None),
            Some("ping") => malformed("a ping is {\"type\":\"ping\"}", None),
            Some("call_start") => malformed(
                "a call_start needs client_id, conversation_id and media (voice or video)",
                client_id,
            ),
            Some("call_add") => malformed(
                "a call_add needs call_id and phones (E.164 strings), and name is a string",
                None,
            ),
            Some("call_join") => malformed("a call_join needs call_id and sdp", None),
            Some("call_media") => malformed("a call_media needs call_id, audio and video", None),
            Some("call_layer") => malformed(
                "a call_layer needs call_id, phone and layer (low or high)",
                None,
            ),
            Some("call_accept" | "call_decline" | "call_hangup") => {
                malformed("needs a call_id", None)
            }
            Some("call_signal") => malformed(
                "a call_signal needs call_id and kind (offer, answer or candidate), with sdp \
                 (a string) or candidate ({candidate, sdp_mid?, sdp_mline_index?})",
                None,
            ),
            Some(other) => FrameError {
                code: ErrorCode::UnknownFrame,
                message: format!("unknown frame type {other:?}"),
                client_id: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_are_read_in_one_pass() {
        assert_eq!(
            ClientFrame::parse(r#"{"type":"ping"}"#),
            Ok(ClientFrame::Ping)
        );
        assert_eq!(
            ClientFrame::parse(r#"{"type":"ack","conversation_id":"c","seq":7}"#),
            Ok(ClientFrame::Ack(AckFrame {
                conversation_id: "c".into(),
                seq: 7
            }))
        );
        assert_eq!(
            ClientFrame::parse(r#"{"conversation_id":"c","type":"typing","extra":1}"#),
            Ok(ClientFrame::Typing(TypingFrame {
                conversation_id: "c".into()
            }))
        );
        let send = ClientFrame::parse(
            r#"{"type":"send","conversation_id":"c","client_id":"k","kind":"text","text":"hi"}"#,
        );
        assert!(matches!(send, Ok(ClientFrame::Send(s)) if s.text.as_deref() == Some("hi")));
    }

    #[test]
    fn a_frame_that_fails_says_why() {
        let code = |text: &str| ClientFrame::parse(text).map_err(|e| (e.code, e.client_id));
        assert_eq!(code("not json"), Err((ErrorCode::MalformedFrame, None)));
        assert_eq!(code("[1]"), Err((ErrorCode::MalformedFrame, None)));
        assert_eq!(
            code(r#"{"type":7}"#),
            Err((ErrorCode::MalformedFrame, None))
        );
        assert_eq!(
            code(r#"{"type":"fly"}"#),
            Err((ErrorCode::UnknownFrame, None))
        );
        assert_eq!(
            code(r#"{"type":"ack","conversation_id":"c"}"#),
            Err((ErrorCode::MalformedFrame, None))
        );
        assert_eq!(
            code(r#"{"type":"send","client_id":"k","kind":"text","text":5}"#),
            Err((ErrorCode::MalformedFrame, Some("k".into())))
        );
    }

    #[test]
    fn server_frames_read_back_as_written() {
        let frames = [
            ServerFrame::CaughtUp,
            ServerFrame::Receipt {
                conversation_id: "c".into(),
                phone: "+8613800138000".into(),
                seq: 3,
                status: ReceiptStatus::Read,
            },
            ServerFrame::error(ErrorCode::ConversationNotFound, "no"),
        ];
        for frame in frames {
            let text = frame.to_json();
            assert_eq!(
                serde_json::from_slice::<ServerFrame>(&text).ok(),
                Some(frame)
            );
        }
        assert_eq!(
            String::from_utf8(ServerFrame::Pong.to_json())
                .ok()
                .as_deref(),
            Some(r#"{"type":"pong"}"#)
        );
    }
}
