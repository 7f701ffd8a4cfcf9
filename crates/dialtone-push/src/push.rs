//! One push: the payload and the RFC 8030 headers that tell the push service how to
//! hold it (`TTL`, `Urgency`, `Topic`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::PushError;
use crate::encoding::b64url;

/// The largest plaintext payload: one 4,096-byte aes128gcm record holds 4,096 bytes less
/// the header (86: salt, record size, key id length, 65-byte key), the AEAD tag (16) and
/// the padding delimiter (1). Push services refuse larger bodies.
pub const MAX_PAYLOAD_LEN: usize = 3993;

/// The longest topic RFC 8030 allows.
pub const MAX_TOPIC_LEN: usize = 32;

/// How soon the push service should deliver (RFC 8030 §5.3): the browser's device may
/// save battery by waking only for the higher ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Urgency {
    /// Advertisements and the like: delivered only on power and Wi-Fi.
    VeryLow,
    /// Topic updates: delivered on power or Wi-Fi.
    Low,
    /// Ordinary messages (the RFC's default).
    #[default]
    Normal,
    /// Time-critical: incoming calls.
    High,
}

impl Urgency {
    /// The `Urgency` header's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::VeryLow => "very-low",
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }
}

/// A push to one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// The plaintext, at most [`MAX_PAYLOAD_LEN`] bytes; encrypted for the subscription.
    pub payload: Vec<u8>,
    /// How long the push service keeps an undelivered push, in seconds (0: deliver now
    /// or drop).
    pub ttl_secs: u32,
    /// How soon to deliver.
    pub urgency: Urgency,
    /// A push with the same topic replaces an undelivered earlier one at the push
    /// service, so a burst (say, ten messages in one conversation while the phone is
    /// off) arrives as one. At most 32 characters of the URL-safe base64 alphabet:
    /// [`Push::topic_for`] makes one from any id.
    pub topic: Option<String>,
}

impl Push {
    /// A push of `payload` kept for a day at normal urgency, without topic.
    pub fn new(payload: impl Into<Vec<u8>>) -> Push {
        Push {
            payload: payload.into(),
            ttl_secs: 24 * 60 * 60,
            urgency: Urgency::Normal,
            topic: None,
        }
    }

    /// A topic for anything with an id (a conversation, a call): the first 32 characters
    /// of the base64url SHA-256 of the id. Hashed, so the push service does not learn
    /// the id, and the same id always gives the same topic.
    pub fn topic_for(id: &str) -> String {
        let mut topic = b64url(&Sha256::digest(id.as_bytes()));
        topic.truncate(MAX_TOPIC_LEN);
        topic
    }

    /// Refuses a payload too large for one record or a malformed topic, before anything
    /// is encrypted or sent.
    pub fn validate(&self) -> Result<(), PushError> {
        if self.payload.len() > MAX_PAYLOAD_LEN {
            return Err(PushError::PayloadTooLarge {
                len: self.payload.len(),
                limit: MAX_PAYLOAD_LEN,
            });
        }
        if let Some(topic) = &self.topic {
            let alphabet = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
            if topic.is_empty() || topic.len() > MAX_TOPIC_LEN || !topic.bytes().all(alphabet) {
                return Err(PushError::InvalidTopic);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_derived_topic_is_valid_stable_and_distinct() {
        let a = Push::topic_for("conversation-1");
        assert_eq!(a.len(), MAX_TOPIC_LEN);
        assert_eq!(a, Push::topic_for("conversation-1"));
        assert_ne!(a, Push::topic_for("conversation-2"));
        let push = Push {
            topic: Some(a),
            ..Push::new("x")
        };
        assert!(push.validate().is_ok());
    }

    #[test]
    fn topics_outside_the_alphabet_or_too_long_are_refused() {
        for topic in ["", "a b", "a/b", "a+b", "a=b", &"a".repeat(33), "é"] {
            let push = Push {
                topic: Some(topic.into()),
                ..Push::new("x")
            };
            assert!(
                matches!(push.validate(), Err(PushError::InvalidTopic)),
                "{topic}"
            );
        }
    }

    #[test]
    fn the_payload_limit_is_one_record() {
        assert!(Push::new(vec![0; MAX_PAYLOAD_LEN]).validate().is_ok());
        assert!(matches!(
            Push::new(vec![0; MAX_PAYLOAD_LEN + 1]).validate(),
            Err(PushError::PayloadTooLarge {
                len: 3994,
                limit: 3993
            })
        ));
    }
}
