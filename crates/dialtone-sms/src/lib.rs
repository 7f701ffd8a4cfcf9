//! SMS gateways. One trait, [`SmsGateway`], and an implementation per way of sending:
//! [`OutboxGateway`] (the zero-configuration development mode: a JSON-lines file) and
//! [`HttpGateway`] (the Twilio Messages API shape, which many providers copy). SMPP and the
//! Chinese providers slot in as further implementations of the same trait.

mod http;
mod outbox;

use async_trait::async_trait;
use dialtone_core::PhoneNumber;

pub use http::{HttpGateway, HttpGatewayConfig};
pub use outbox::{OUTBOX_FILE, OutboxGateway, OutboxSms, code_in, last_code, read_outbox};

/// Why an SMS could not be handed over. The message is safe to log: it never contains
/// the SMS body.
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    /// The gateway could not be reached or timed out.
    #[error("sms gateway unreachable: {0}")]
    Unreachable(String),
    /// The gateway answered but refused the message.
    #[error("sms gateway refused the message: status {status}: {detail}")]
    Refused {
        /// HTTP status (or provider status) of the refusal.
        status: u16,
        /// The provider's explanation, without the message body.
        detail: String,
    },
    /// Writing the development outbox failed.
    #[error("sms outbox write failed: {0}")]
    Outbox(#[from] std::io::Error),
}

/// Something that delivers a text message to a phone.
#[async_trait]
pub trait SmsGateway: Send + Sync {
    /// Sends `body` to `to`; returns once the gateway has accepted the message.
    async fn send(&self, to: &PhoneNumber, body: &str) -> Result<(), SmsError>;

    /// A short name for logs (`outbox`, `http`).
    fn name(&self) -> &'static str;
}
