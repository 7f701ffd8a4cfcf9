//! The policies the account services follow, as loaded from configuration.

use dialtone_core::NumberKind;
use serde::{Deserialize, Serialize};

use crate::limits::Window;

/// Limits on verifications and logins. Every window is `limit` events per `period_secs`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AccountPolicy {
    /// Verifications a single number may start.
    pub verifications_per_number: Vec<Window>,
    /// Verifications a single client IP may start.
    pub verifications_per_ip: Vec<Window>,
    /// Verifications one number block (the number minus its last 4 digits) may start,
    /// against SMS pumping.
    pub verifications_per_prefix: Vec<Window>,
    /// Failed logins allowed per number.
    pub login_failures_per_number: Vec<Window>,
    /// Failed logins allowed per client IP.
    pub login_failures_per_ip: Vec<Window>,
    /// Shortest password accepted.
    pub password_min_chars: usize,
    /// Longest password accepted.
    pub password_max_chars: usize,
    /// Argon2id hashes allowed to run at once (0: one per CPU).
    pub max_concurrent_hashes: usize,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        Self {
            verifications_per_number: vec![Window::per_hour(5), Window::per_day(10)],
            verifications_per_ip: vec![Window::per_hour(20), Window::per_day(100)],
            verifications_per_prefix: vec![Window::per_hour(30), Window::per_day(200)],
            login_failures_per_number: vec![Window::new(10, 15 * 60)],
            login_failures_per_ip: vec![Window::new(50, 15 * 60)],
            password_min_chars: 8,
            password_max_chars: 128,
            max_concurrent_hashes: 0,
        }
    }
}

/// How verification SMS are written and who may get one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SmsPolicy {
    /// Kinds of numbers refused at registration because they cannot receive SMS or cost the
    /// sender extra.
    pub refused_kinds: Vec<NumberKind>,
    /// The 11-character hash of an Android app using the SMS Retriever API, added to the
    /// message when set.
    pub android_app_hash: Option<String>,
}

impl Default for SmsPolicy {
    fn default() -> Self {
        Self {
            refused_kinds: vec![
                NumberKind::PremiumRate,
                NumberKind::SharedCost,
                NumberKind::TollFree,
            ],
            android_app_hash: None,
        }
    }
}
