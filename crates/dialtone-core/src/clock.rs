//! Time as a dependency, so that expiry windows and rate limits can be tested without
//! sleeping.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// The source of "now" for every time-based rule (code expiry, cooldowns, rate limits).
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock, used in production.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that follows the wall clock plus an offset that tests move forward, so a test
/// can jump past a 10-minute expiry instantly.
#[derive(Debug, Default)]
pub struct ManualClock {
    offset: Mutex<Duration>,
}

impl ManualClock {
    /// A clock that starts at the wall clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves this clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        *offset += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        let offset = *self.offset.lock().unwrap_or_else(|e| e.into_inner());
        Utc::now() + offset
    }
}
