//! The contract's types (`shared/API.md`), written once and used by every side: the HTTP
//! API, the live connection, the event bus between server processes and the clients.
//!
//! - [`Message`]: a message as the contract shows it, over HTTP and on the live connection
//!   alike (with [`SystemEvent`] for the lines the server writes when a group changes).
//! - [`ServerFrame`] and [`ClientFrame`]: the live connection's frames, each one JSON
//!   object tagged by `type`, parsed in one pass.
//! - [`ErrorCode`]: every stable error code, in HTTP error bodies, `error` frames and the
//!   OpenAPI document.
//!
//! Payloads shared by many connections are behind `Arc`: a message going to a thousand
//! devices is one allocation, written as JSON once.

mod calls;
mod community;
mod error;
mod frames;
mod message;

pub use calls::{
    Call, CallAddFrame, CallEndReason, CallIdFrame, CallJoinFrame, CallLayerFrame, CallLevel,
    CallMedia, CallMediaFrame, CallMember, CallOutcome, CallSignalFrame, CallStartFrame,
    CallSummary, Candidate, IceServer, IceServers, MAX_CANDIDATE_BYTES, MAX_SDP_BYTES, SignalKind,
    VideoLayer,
};
pub use community::{FeedItem, Notification};
pub use dialtone_core::{ConversationId, ConversationKind, UserId};
pub use error::ErrorCode;
pub use frames::{
    AckFrame, ClientFrame, ConversationState, FrameError, PresenceFrame, ReceiptStatus, SendFrame,
    ServerFrame, TypingFrame,
};
pub use message::{Message, MessageKind, SystemAction, SystemEvent};
