//! Web Push: notifying a browser whose tab is closed, through its push service.
//!
//! A browser subscribes with the server's VAPID public key and hands over a
//! [`Subscription`] (an endpoint URL at its push service, a P-256 key and an auth
//! secret). To wake it, the server encrypts a payload for that key (RFC 8291,
//! `aes128gcm` of RFC 8188), signs a VAPID token for the endpoint's origin (RFC 8292)
//! and POSTs both to the endpoint (RFC 8030). [`PushSender::send`] does all three and
//! says whether the push was accepted, the subscription is gone, or it was refused.
//!
//! The encryption is web-push-native's (pure Rust); the endpoint is held to
//! dialtone-preview's address rules, since it is a URL a client chose ([`EndpointPolicy`]).

mod encoding;
mod error;
mod policy;
mod push;
mod sender;
mod subscription;
#[cfg(feature = "testing")]
pub mod testing;
mod vapid;

pub use error::{InvalidSubscription, PushError};
pub use policy::EndpointPolicy;
pub use push::{MAX_PAYLOAD_LEN, MAX_TOPIC_LEN, Push, Urgency};
pub use sender::{Delivery, PushSender, RetryPolicy};
pub use subscription::{MAX_ENDPOINT_LEN, Subscription};
pub use vapid::{MIN_SEED_LEN, VapidKey};
