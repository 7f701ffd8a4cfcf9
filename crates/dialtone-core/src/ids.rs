//! The opaque ids of users and conversations, as types of their own so that one cannot be
//! given where the other is meant. Both are written as plain strings (JSON, database).
//!
//! They hold a `String`: an id read from a row is kept as it was read, and ids are cloned
//! about as often as they were as strings. (Should events come to carry them to many
//! connections, an `Arc<str>` inside would make those clones cheap without changing users.)
//!
//! A user id is refused where a conversation id is meant:
//!
//! ```compile_fail
//! fn members(_: &dialtone_core::ConversationId) {}
//! members(&dialtone_core::UserId::from("u-1"));
//! ```
//!
//! (the same with a conversation id compiles):
//!
//! ```
//! fn members(_: &dialtone_core::ConversationId) {}
//! members(&dialtone_core::ConversationId::from("c-1"));
//! ```
//!
//! Both deref to `str`, so code not yet typed (most single-id parameters of the store's
//! account, session, privacy, contact and presence repositories, the social and account
//! services) still takes them as `&str`; a parameter typed as one kind of id refuses the
//! other.

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's text, taken out.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// Where code still takes ids as `&str`, a typed id goes as it is (see the module
        /// docs); a parameter typed as one kind of id still refuses the other.
        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        /// Maps keyed by the id can be asked with a `&str`.
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id! {
    /// A user's id.
    UserId
}

id! {
    /// A conversation's id.
    ConversationId
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn an_id_is_its_text_in_json_and_in_print() {
        let id = UserId::from("u-1");
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""u-1""#);
        assert_eq!(serde_json::from_str::<UserId>(r#""u-1""#).unwrap(), id);
        assert_eq!(id.to_string(), "u-1");
        assert_eq!(id, "u-1");
    }

    #[test]
    fn maps_keyed_by_ids_are_asked_with_text() {
        let map = HashMap::from([(ConversationId::from("c"), 1)]);
        assert_eq!(map.get("c"), Some(&1));
    }
}
