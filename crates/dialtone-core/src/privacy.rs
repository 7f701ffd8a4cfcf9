//! The one privacy policy. Every surface that shows a user or carries something to them
//! (discovery, contacts, presence, messages, groups, profiles, community pages, XMPP) asks
//! [`view`] what a viewer may see of, and send to, a target. Nothing else decides.
//!
//! The rule of the contract: whoever may not see a user sees exactly what an unregistered
//! number shows ([`View::UNREGISTERED`]), and what they send is accepted but never delivered.

use serde::{Deserialize, Serialize};

/// Who may see me at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everyone not blocked.
    #[default]
    Everyone,
    /// Only the numbers (and groups) on my allow-list, and never a blocked one.
    Allowlist,
}

/// Who may find me by my number when reaching me cold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Everyone (not blocked, and allowed by visibility).
    #[default]
    Everyone,
    /// Only numbers in my own address book.
    Contacts,
    /// No one.
    Nobody,
}

/// Names of enum values as they appear in the API and in storage.
macro_rules! names {
    ($ty:ty { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            /// The snake_case name.
            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$variant => $name),* }
            }

            /// The value of a snake_case name.
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($name => Some(Self::$variant),)* _ => None }
            }
        }
    };
}
pub(crate) use names;

names!(Visibility { Everyone => "everyone", Allowlist => "allowlist" });
names!(Audience { Everyone => "everyone", Contacts => "contacts", Nobody => "nobody" });

/// A target's privacy settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct PrivacySettings {
    /// Who may see me at all.
    pub visibility: Visibility,
    /// Who may find me by number.
    pub discoverable: Audience,
    /// Who may see when I was last online.
    pub last_seen: Audience,
}

/// What is true between a viewer and a target, from the target's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Relation {
    /// The viewer is the target.
    pub is_self: bool,
    /// The target blocked the viewer's number, or a contact group holding it.
    pub blocked: bool,
    /// The viewer's number, or a contact group holding it, is on the target's allow-list.
    pub allowlisted: bool,
    /// The viewer's number is in the target's address book.
    pub in_target_contacts: bool,
    /// The two already talk (a conversation the target is in with the viewer), so the
    /// viewer is not reaching the target cold.
    pub warm: bool,
}

/// What a viewer may see of, and do to, a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct View {
    /// The viewer sees the target as registered: user id, profile, presence, community
    /// content; may start a conversation with, message, and add the target to groups.
    /// Without it the target looks exactly like an unregistered number.
    pub visible: bool,
    /// The viewer sees the target's last-seen time.
    pub last_seen: bool,
}

impl View {
    /// What anyone sees of a number that has no account.
    pub const UNREGISTERED: View = View {
        visible: false,
        last_seen: false,
    };

    /// Everything, as a user sees themself.
    pub const SELF: View = View {
        visible: true,
        last_seen: true,
    };
}

/// What `relation`'s viewer may see of a target with `settings`.
pub fn view(settings: &PrivacySettings, relation: &Relation) -> View {
    if relation.is_self {
        return View::SELF;
    }
    if relation.blocked {
        return View::UNREGISTERED;
    }
    let allowed = match settings.visibility {
        Visibility::Everyone => true,
        Visibility::Allowlist => relation.allowlisted,
    };
    let findable = relation.warm
        || match settings.discoverable {
            Audience::Everyone => true,
            Audience::Contacts => relation.in_target_contacts,
            Audience::Nobody => false,
        };
    if !(allowed && findable) {
        return View::UNREGISTERED;
    }
    let last_seen = match settings.last_seen {
        Audience::Everyone => true,
        Audience::Contacts => relation.in_target_contacts,
        Audience::Nobody => false,
    };
    View {
        visible: true,
        last_seen,
    }
}

/// What passes from one user (the actor) to another (the recipient).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flow {
    /// Something the actor sends on purpose: a message, or a line the actor's action puts
    /// in a conversation. The recipient's side alone decides: whoever the recipient blocks
    /// (or does not allow) reaches them with nothing.
    Message,
    /// Something that shows the actor to the recipient: presence, typing, receipts, call
    /// signalling. Both sides decide: the recipient must accept the actor (as for a
    /// message), and the actor must let the recipient see them.
    Signal,
}

/// Whether a `flow` from an actor reaches a recipient. `reach` is what the actor may see
/// of, and send to, the recipient ([`view`] under the recipient's settings, the actor as
/// viewer): the recipient's side. `seen` is what the recipient may see of the actor
/// ([`view`] under the actor's settings, the recipient as viewer): the actor's side.
///
/// Every frame and event that goes from one user to another is decided here, from the
/// recipient's side first: a typing frame once leaked because it was decided by the
/// typist's settings alone.
pub fn reaches(flow: Flow, reach: View, seen: View) -> bool {
    match flow {
        Flow::Message => reach.visible,
        Flow::Signal => reach.visible && seen.visible,
    }
}

#[cfg(test)]
mod tests;
