//! The event bus. Services publish what changed ([`Event`]); every server process holds one
//! subscription and fans events out to its own live connections. The in-process bus
//! ([`LocalBus`]) is the zero-configuration default; a NATS implementation carries the same
//! events between processes.

mod nats;

pub use nats::NatsBus;

use std::sync::Arc;

use async_trait::async_trait;
use dialtone_protocol::{
    ConversationId, ConversationState, FeedItem, Message, Notification, ServerFrame, UserId,
    VideoLayer,
};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// How many events a slow local subscriber may fall behind before it skips some.
const LOCAL_CAPACITY: usize = 65_536;

/// Something that changed and that live connections may need to hear about. Presence,
/// privacy and contacts events carry ids only: each node reads the current state itself
/// and asks the privacy policy. Conversation events (messages, receipts, typing) carry
/// what is sent and to whom, decided once where they happen, so fan-out reads nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A user's presence (state, text, or connected devices) changed.
    PresenceChanged {
        /// Whose.
        user_id: UserId,
    },
    /// A user's privacy settings, lists or groups changed.
    PrivacyChanged {
        /// Whose.
        user_id: UserId,
    },
    /// A user's address book changed.
    ContactsChanged {
        /// Whose.
        user_id: UserId,
    },
    /// A number became an account.
    UserRegistered {
        /// The new user.
        user_id: UserId,
    },
    /// A message was stored in a conversation. It carries the message as sent on the wire
    /// and the members it goes to (already decided by the privacy policy at send time),
    /// so fan-out needs no database read.
    MessageCreated {
        /// The conversation.
        conversation_id: ConversationId,
        /// The message's seq.
        seq: u64,
        /// The members (user ids) it goes to.
        to: Vec<UserId>,
        /// The members (user ids) it is withheld from: their devices' order moves past its
        /// seq without a database read.
        #[serde(default)]
        withheld: Vec<UserId>,
        /// The message (shared by every connection it is written to).
        message: Arc<Message>,
    },
    /// A message was edited or deleted for everyone; carried like `MessageCreated`.
    MessageChanged {
        /// The conversation.
        conversation_id: ConversationId,
        /// The members (user ids) it goes to.
        to: Vec<UserId>,
        /// The message as it is now.
        message: Arc<Message>,
    },
    /// A member's delivered or read mark moved forward. Carries who hears of it (decided
    /// by the privacy policy where the mark moved), so fan-out needs no database read.
    Receipt {
        /// The conversation.
        conversation_id: ConversationId,
        /// The member whose mark moved (E.164).
        phone: String,
        /// Up to this seq.
        seq: u64,
        /// Read (else delivered).
        read: bool,
        /// The users (ids) it goes to.
        to: Vec<UserId>,
    },
    /// A member is typing; carried like `Receipt`.
    Typing {
        /// The conversation.
        conversation_id: ConversationId,
        /// Who types (E.164).
        phone: String,
        /// The users (ids) it goes to.
        to: Vec<UserId>,
    },
    /// A group's members, admins or name changed. Carries the conversation as its members
    /// all see it, who they are now, and who just stopped being
    /// one, so fan-out reads nothing.
    ConversationChanged {
        /// The conversation.
        conversation_id: ConversationId,
        /// Its members now (user ids).
        to: Vec<UserId>,
        /// Members removed or gone by this change (user ids).
        removed: Vec<UserId>,
        /// The conversation's shared state.
        conversation: Arc<ConversationState>,
    },
    /// A new community item, for the live feeds of those who may see it (decided where
    /// it was posted).
    FeedItem {
        /// Who may see it.
        to: Vec<UserId>,
        /// The item.
        item: Arc<FeedItem>,
    },
    /// A community notification for one user (decided where it happened).
    Notification {
        /// Whom it concerns.
        to: UserId,
        /// What happened.
        notification: Arc<Notification>,
    },
    /// Server processes stopped beating (found dead by the sweep): events of commits they
    /// made may never have been published, so every node checks its connections against
    /// the database.
    NodesDied,
    /// A frame of a call for some devices (decided where the call moved: who rings, who
    /// took it, the other party of a signal).
    CallFrame {
        /// Whose devices get it.
        to: Vec<CallTarget>,
        /// The frame.
        frame: Arc<ServerFrame>,
    },
    /// What a member's device does in a group call, for the node that runs it (its SFU).
    ConferenceCommand {
        /// The node that runs the call.
        node_id: String,
        /// The call.
        call_id: String,
        /// The member.
        user_id: UserId,
        /// The member's device (session id).
        session_id: String,
        /// What it does.
        command: ConferenceCommand,
    },
    /// A device was logged out; its live connections must close.
    SessionRevoked {
        /// The device (session) id.
        session_id: String,
    },
}

/// What a member's device does in a group call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConferenceCommand {
    /// Joins with an SDP offer.
    Join {
        /// The offer.
        sdp: String,
    },
    /// Answers the server's offer.
    Answer {
        /// The answer.
        sdp: String,
    },
    /// Microphone and camera on or off.
    Media {
        /// Microphone on.
        audio: bool,
        /// Camera on.
        video: bool,
    },
    /// The video layer wanted of a member.
    Layer {
        /// The member (E.164).
        phone: String,
        /// Which.
        layer: VideoLayer,
    },
    /// Leaves.
    Leave,
    /// Tells this device who is in the call (a device that connected while it goes on).
    Members,
}

/// The devices of one user that a call frame goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallTarget {
    /// The user.
    pub user_id: UserId,
    /// Only this device (session id), when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<String>,
    /// Every device but this one, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub except: Option<String>,
}

impl CallTarget {
    /// Every device of the user.
    pub fn all(user_id: UserId) -> Self {
        Self {
            user_id,
            only: None,
            except: None,
        }
    }

    /// One device of the user.
    pub fn device(user_id: UserId, session_id: String) -> Self {
        Self {
            user_id,
            only: Some(session_id),
            except: None,
        }
    }

    /// Every device of the user but one.
    pub fn all_but(user_id: UserId, session_id: String) -> Self {
        Self {
            user_id,
            only: None,
            except: Some(session_id),
        }
    }

    /// Whether the device `session_id` of the user is one of the targets.
    pub fn takes(&self, session_id: &str) -> bool {
        self.only.as_deref().is_none_or(|s| s == session_id)
            && self.except.as_deref() != Some(session_id)
    }
}

/// Why an event could not be published.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The broker refused or is unreachable.
    #[error("event bus: {0}")]
    Broker(String),
}

/// Publishes events to every server process, and delivers every process's events here.
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Sends an event to all processes (this one included).
    async fn publish(&self, event: Event) -> Result<(), BusError>;
    /// A receiver of every event, from any process.
    fn subscribe(&self) -> broadcast::Receiver<Event>;
}

/// The bus of a single process.
pub struct LocalBus {
    sender: broadcast::Sender<Event>,
}

impl LocalBus {
    /// A new, empty bus.
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(LOCAL_CAPACITY).0,
        }
    }

    /// Delivers an event to local subscribers (used by networked buses for what arrives).
    pub fn deliver(&self, event: Event) {
        // No subscriber is not an error: nobody is listening yet.
        let _ = self.sender.send(event);
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl EventBus for LocalBus {
    async fn publish(&self, event: Event) -> Result<(), BusError> {
        self.deliver(event);
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_bus_delivers_to_every_subscriber() {
        let bus = LocalBus::new();
        let mut a = bus.subscribe();
        let mut b = bus.subscribe();
        let event = Event::PresenceChanged {
            user_id: "u".into(),
        };
        bus.publish(event.clone()).await.ok();
        assert_eq!(a.recv().await.ok(), Some(event.clone()));
        assert_eq!(b.recv().await.ok(), Some(event));
    }
}
