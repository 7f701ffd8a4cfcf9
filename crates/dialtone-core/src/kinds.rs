//! The closed sets of names the domain uses: what a message is, what a conversation is,
//! what a member may do. Each is written on the wire and in the database as the same
//! snake_case word (`text`, `group`, `admin`), so [`as_str`](MessageKind::as_str), serde and
//! the store's TEXT columns all agree (a test checks serde against `as_str`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A word that is not one of the set it was read as (`"gif"` as a [`MessageKind`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {set} {word:?}")]
pub struct UnknownWord {
    /// Which set (`message kind`, `conversation kind`, `role`).
    pub set: &'static str,
    /// The word that was given.
    pub word: String,
}

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Text.
    Text,
    /// A hosted sticker, named `pack/sticker` in the text.
    Sticker,
    /// An image attachment.
    Image,
    /// An audio attachment.
    Voice,
    /// A video attachment.
    Video,
    /// Any other attachment.
    File,
    /// A line the server writes when a group changes; never sent by a client.
    System,
    /// The record of a call, written by the server when the call is over; never sent by
    /// a client.
    Call,
}

impl MessageKind {
    /// Every kind.
    pub const ALL: [Self; 8] = [
        Self::Text,
        Self::Sticker,
        Self::Image,
        Self::Voice,
        Self::Video,
        Self::File,
        Self::System,
        Self::Call,
    ];

    /// The kind as written on the wire and in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Sticker => "sticker",
            Self::Image => "image",
            Self::Voice => "voice",
            Self::Video => "video",
            Self::File => "file",
            Self::System => "system",
            Self::Call => "call",
        }
    }
}

/// What a conversation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    /// Two users, one conversation per pair.
    Direct,
    /// A named group with admins.
    Group,
}

impl ConversationKind {
    /// Every kind.
    pub const ALL: [Self; 2] = [Self::Direct, Self::Group];

    /// The kind as written on the wire and in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Group => "group",
        }
    }
}

/// What a member of a conversation may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May add and remove members and rename the group.
    Admin,
    /// May send and read.
    Member,
}

impl Role {
    /// Every role.
    pub const ALL: [Self; 2] = [Self::Admin, Self::Member];

    /// The role as written in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }
}

/// `Display` as the word and `FromStr` from it, for each set.
macro_rules! words {
    ($($ty:ty => $set:literal),* $(,)?) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownWord;

            fn from_str(word: &str) -> Result<Self, Self::Err> {
                <$ty>::ALL
                    .into_iter()
                    .find(|k| k.as_str() == word)
                    .ok_or_else(|| UnknownWord { set: $set, word: word.to_owned() })
            }
        }
    )*};
}

words! {
    MessageKind => "message kind",
    ConversationKind => "conversation kind",
    Role => "role",
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: Serialize>(t: T) -> String {
        serde_json::to_string(&t).unwrap()
    }

    #[test]
    fn each_word_is_the_same_in_json_in_text_and_read_back() {
        for k in MessageKind::ALL {
            assert_eq!(json(k), format!("\"{k}\""));
            assert_eq!(k.as_str().parse::<MessageKind>(), Ok(k));
        }
        for k in ConversationKind::ALL {
            assert_eq!(json(k), format!("\"{k}\""));
            assert_eq!(k.as_str().parse::<ConversationKind>(), Ok(k));
        }
        for r in Role::ALL {
            assert_eq!(json(r), format!("\"{r}\""));
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
    }

    #[test]
    fn the_words_are_the_contracts() {
        let words: Vec<&str> = MessageKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            words,
            [
                "text", "sticker", "image", "voice", "video", "file", "system", "call"
            ]
        );
        assert_eq!(ConversationKind::Group.as_str(), "group");
        assert_eq!(Role::Admin.as_str(), "admin");
    }

    #[test]
    fn an_unknown_word_says_what_it_was_read_as() {
        let e = "gif".parse::<MessageKind>().unwrap_err();
        assert_eq!(e.to_string(), r#"unknown message kind "gif""#);
        assert!("Text".parse::<MessageKind>().is_err());
        assert!("owner".parse::<Role>().is_err());
    }
}
