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
    /// The viewer is among the target's contacts (their number is in the target's address
    /// book) and sees the target: what a community item for "all my contacts" asks.
    pub contact: bool,
}

impl View {
    /// What anyone sees of a number that has no account.
    pub const UNREGISTERED: View = View {
        visible: false,
        last_seen: false,
        contact: false,
    };

    /// Everything, as a user sees themself.
    pub const SELF: View = View {
        visible: true,
        last_seen: true,
        contact: true,
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
        contact: relation.in_target_contacts,
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

/// Who a community item (a post, an article, an album) is for, as its owner chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemAudience {
    /// Anyone who may see the owner, and anyone logged out (a stranger with no relation).
    Public,
    /// The owner's contacts: numbers in the owner's address book.
    Contacts,
    /// Only the people and contact groups the owner named.
    Chosen,
    /// The owner's contacts except the people and groups named.
    AllExcept,
}

names!(ItemAudience {
    Public => "public",
    Contacts => "contacts",
    Chosen => "chosen",
    AllExcept => "all_except",
});

/// How far back others may look into a personal space: older items are left out for
/// everyone but the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpaceWindow {
    /// Every item.
    #[default]
    All,
    /// The last six months (183 days).
    SixMonths,
    /// The last month (30 days).
    Month,
    /// The last three days.
    ThreeDays,
}

names!(SpaceWindow {
    All => "all",
    SixMonths => "six_months",
    Month => "month",
    ThreeDays => "three_days",
});

impl SpaceWindow {
    /// How old an item others may still see can be, in days; `None` for no limit.
    pub fn days(self) -> Option<i64> {
        match self {
            SpaceWindow::All => None,
            SpaceWindow::SixMonths => Some(183),
            SpaceWindow::Month => Some(30),
            SpaceWindow::ThreeDays => Some(3),
        }
    }
}

/// What is true of one community item for one viewer, besides the [`View`] they have of
/// its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ItemFacts {
    /// The viewer owns the item.
    pub own: bool,
    /// The item's audience.
    pub audience: ItemAudience,
    /// The viewer's number is one the item names (a chosen person, or in a chosen group).
    pub named: bool,
    /// The item is inside the owner's space window (or the window has no limit).
    pub within_window: bool,
}

/// Whether a viewer with `view` of an item's owner (the [`View`] that reaches them: both
/// sides decided, as for a signal) may see the item. Whoever may not see the owner sees
/// none of their items, whatever the audience: a blocked viewer gets what an unregistered
/// number gets.
pub fn sees_item(view: View, item: &ItemFacts) -> bool {
    if item.own {
        return true;
    }
    if !view.visible || !item.within_window {
        return false;
    }
    match item.audience {
        ItemAudience::Public => true,
        ItemAudience::Contacts => view.contact,
        ItemAudience::Chosen => item.named,
        ItemAudience::AllExcept => view.contact && !item.named,
    }
}

/// What a visitor who is not logged in may see of a target: a stranger, with no relation.
pub fn stranger_view(settings: &PrivacySettings) -> View {
    view(settings, &Relation::default())
}

#[cfg(test)]
mod tests;
