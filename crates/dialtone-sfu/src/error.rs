//! The errors a caller of the SFU can get, each with a stable code for the signalling edge.

/// Why an SFU call was refused. Garbage from a client is an error here, never a panic.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SfuError {
    /// The SDP could not be read, was too large, or str0m refused it.
    #[error("invalid SDP: {0}")]
    InvalidSdp(String),
    /// The room or the participant named is not there.
    #[error("participant is not in the room")]
    NotInRoom,
    /// The participant has already joined this room (leave first).
    #[error("participant has already joined")]
    AlreadyJoined,
    /// The room holds [`crate::MAX_PARTICIPANTS`] participants already.
    #[error("the room is full")]
    RoomFull,
    /// The room has [`crate::MAX_VIDEO_PUBLISHERS`] members sending video already; the
    /// client may join again with an offer that sends audio only.
    #[error("the room has as many cameras as it takes")]
    VideoFull,
    /// An answer came while the SFU had no offer waiting for one.
    #[error("no offer is waiting for an answer")]
    NoPendingOffer,
    /// A room or participant name that is empty, too long, or not a token (ASCII letters,
    /// digits and `-_.:@+`).
    #[error("invalid name")]
    InvalidName,
    /// The SFU task has stopped.
    #[error("the SFU has stopped")]
    Stopped,
}

impl SfuError {
    /// The stable code the signalling layer gives to clients.
    pub fn code(&self) -> &'static str {
        match self {
            SfuError::InvalidSdp(_) => "invalid_sdp",
            SfuError::NotInRoom => "not_in_room",
            SfuError::AlreadyJoined => "already_joined",
            SfuError::RoomFull => "room_full",
            SfuError::VideoFull => "video_full",
            SfuError::NoPendingOffer => "no_pending_offer",
            SfuError::InvalidName => "invalid_name",
            SfuError::Stopped => "sfu_stopped",
        }
    }
}
