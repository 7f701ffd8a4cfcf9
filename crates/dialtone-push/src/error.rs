//! What can go wrong when a push is prepared or sent.
//!
//! Two kinds of failure matter to the caller: a subscription or push it must refuse (a
//! 4xx at subscribe time, a bug at send time), and a push service that could not be
//! reached after every retry (the push is lost; the subscription may still be good).
//! A push service that answers with a final status is not an error: see
//! [`crate::Delivery`].

/// Why a subscription was refused: the shape of what the browser sent, or where it points.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSubscription {
    /// The endpoint is not an absolute URL.
    #[error("the endpoint is not a URL")]
    EndpointNotUrl,
    /// Longer than [`crate::MAX_ENDPOINT_LEN`]: no push service hands out such URLs.
    #[error("the endpoint is longer than {limit} bytes")]
    EndpointTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Not `https` (plain `http` only for an allow-listed test service).
    #[error("the endpoint must be an https URL")]
    EndpointScheme,
    /// A `user:pass@` part: never sent by a browser, only by someone probing.
    #[error("the endpoint must not carry a user name or password")]
    EndpointUserinfo,
    /// The endpoint has no host.
    #[error("the endpoint has no host")]
    EndpointNoHost,
    /// The endpoint names an address the policy does not allow (loopback, private,
    /// metadata, or not on a test allow-list).
    #[error("the endpoint's address is not allowed")]
    ForbiddenAddress,
    /// `p256dh` is not base64url of a 65-byte uncompressed point on P-256.
    #[error("p256dh is not an uncompressed P-256 public key in base64url")]
    P256dh,
    /// `auth` is not base64url of 16 bytes.
    #[error("auth is not a 16-byte secret in base64url")]
    Auth,
}

/// Why a push was not delivered, or could not even be tried.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The subscription is malformed or points somewhere it must not.
    #[error("invalid subscription: {0}")]
    InvalidSubscription(#[from] InvalidSubscription),
    /// The payload does not fit one 4,096-byte record.
    #[error("the payload is {len} bytes; at most {limit} fit one push")]
    PayloadTooLarge {
        /// The payload's length.
        len: usize,
        /// [`crate::MAX_PAYLOAD_LEN`].
        limit: usize,
    },
    /// The topic is longer than 32 characters or not of the URL-safe base64 alphabet.
    #[error("the topic must be at most 32 characters of the URL-safe base64 alphabet")]
    InvalidTopic,
    /// A VAPID private key that is not a valid P-256 scalar in base64url.
    #[error("the VAPID key is not a 32-byte P-256 private key in base64url")]
    InvalidKey,
    /// A seed for [`crate::VapidKey::derive`] shorter than [`crate::MIN_SEED_LEN`] bytes:
    /// too little secret to make a private key of.
    #[error("the seed is shorter than {min} bytes")]
    SeedTooShort {
        /// The minimum length, in bytes.
        min: usize,
    },
    /// The VAPID subject is not a `mailto:` or `https:` URI.
    #[error("the VAPID subject must be a mailto: or https: URI")]
    InvalidSubject,
    /// The payload could not be encrypted (does not happen with a validated subscription).
    #[error("the payload could not be encrypted: {0}")]
    Encrypt(String),
    /// The HTTP client could not be built (its TLS configuration).
    #[error("the HTTP client could not be built: {0}")]
    Client(#[source] reqwest::Error),
    /// Every attempt failed with a status or error worth retrying, or the deadline came.
    #[error("the push service did not accept the push after {attempts} attempts: {last}")]
    Unavailable {
        /// How many requests were made.
        attempts: u32,
        /// What the last attempt saw.
        last: String,
    },
}

impl PushError {
    /// A stable word for logs and the API's error code.
    pub fn code(&self) -> &'static str {
        match self {
            PushError::InvalidSubscription(InvalidSubscription::ForbiddenAddress) => {
                "forbidden_address"
            }
            PushError::InvalidSubscription(_) => "invalid_subscription",
            PushError::PayloadTooLarge { .. } => "too_large",
            PushError::InvalidTopic => "invalid_topic",
            PushError::InvalidKey | PushError::SeedTooShort { .. } => "invalid_key",
            PushError::InvalidSubject => "invalid_subject",
            PushError::Encrypt(_) => "encrypt_failed",
            PushError::Client(_) => "client_failed",
            PushError::Unavailable { .. } => "unavailable",
        }
    }
}
