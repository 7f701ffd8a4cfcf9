//! Calls: who calls whom in which conversation, which device took it, and how it ended.
//! The state moves only forward (ringing → active → ended), each move one conditional
//! statement, so racing devices and nodes agree on who took or ended a call.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StoreResult;

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// Calling: the callee's devices ring (when it may reach them).
    Ringing,
    /// A device of the callee took it.
    Active,
    /// Over.
    Ended,
}

impl CallState {
    /// The word in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ringing => "ringing",
            Self::Active => "active",
            Self::Ended => "ended",
        }
    }

    pub(crate) fn parse(word: &str) -> Option<Self> {
        match word {
            "ringing" => Some(Self::Ringing),
            "active" => Some(Self::Active),
            "ended" => Some(Self::Ended),
            _ => None,
        }
    }
}

/// A call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// Id.
    pub id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// Who calls.
    pub caller_id: String,
    /// The caller's device (session id).
    pub caller_session: String,
    /// Who is called.
    pub callee_id: String,
    /// The callee's device that took the call.
    pub callee_session: Option<String>,
    /// `voice` or `video` (the service reads it).
    pub media: String,
    /// Where it is.
    pub state: CallState,
    /// Whether the callee is rung at all (the caller may reach them): a call that may not
    /// reach its callee is only ever seen by its caller.
    pub reaches: bool,
    /// A group's conference (no callee; run by its node's SFU).
    pub conference: bool,
    /// The server process that runs its timers.
    pub node_id: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it was taken.
    pub answered_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Why it ended (the service's word).
    pub end_reason: Option<String>,
}

/// Calls.
#[async_trait]
pub trait CallRepo: Send + Sync {
    /// Stores a new call.
    async fn create_call(&self, call: &CallRecord) -> StoreResult<()>;
    /// A call by id.
    async fn call(&self, id: &str) -> StoreResult<Option<CallRecord>>;
    /// Gives a ringing call to the callee's device `session`; the call as it is now, or
    /// `None` if it was not ringing (another device took it, or it ended).
    async fn accept_call(
        &self,
        id: &str,
        session: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<CallRecord>>;
    /// Ends a call that is not over; the call as it was just before, or `None` if it was
    /// over already (so exactly one caller ends it).
    async fn end_call(
        &self,
        id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<CallRecord>>;
    /// Stops ringing a call that may no longer reach its callee (it goes on, silent, for
    /// its caller); whether it was ringing.
    async fn silence_call(&self, id: &str) -> StoreResult<bool>;
    /// The calls of a user (as caller or callee) that are not over, oldest first.
    async fn live_calls(&self, user_id: &str) -> StoreResult<Vec<CallRecord>>;
    /// The conferences not over in the conversations `user_id` is a member of.
    async fn live_conferences_of(&self, user_id: &str) -> StoreResult<Vec<CallRecord>>;
    /// The conversation's conference that is not over, if any (the oldest).
    async fn live_conference(&self, conversation_id: &str) -> StoreResult<Option<CallRecord>>;
}
