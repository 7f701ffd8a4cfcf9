//! Sliding-window rate limits kept in the database, so every server process of a
//! deployment counts against the same budget.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use dialtone_store::RateLimitRepo;
use serde::{Deserialize, Serialize};

use crate::{ServiceError, ServiceResult};

/// At most `limit` events per `period_secs` seconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Window {
    /// Events allowed in the window.
    pub limit: u32,
    /// Length of the window in seconds.
    pub period_secs: u64,
}

impl Window {
    /// `limit` events per `period_secs` seconds.
    pub const fn new(limit: u32, period_secs: u64) -> Self {
        Self { limit, period_secs }
    }

    /// `limit` events per hour.
    pub const fn per_hour(limit: u32) -> Self {
        Self::new(limit, 3600)
    }

    /// `limit` events per day.
    pub const fn per_day(limit: u32) -> Self {
        Self::new(limit, 86_400)
    }

    fn period(&self) -> Duration {
        Duration::seconds(i64::try_from(self.period_secs).unwrap_or(i64::MAX / 1000))
    }
}

/// One bucket (such as `verify:number:+86…`) and the windows that apply to it.
pub struct Limit<'a> {
    /// The key events are counted under.
    pub bucket: String,
    /// The windows it must stay within.
    pub windows: &'a [Window],
}

/// Checks and records events against [`Window`]s.
#[derive(Clone)]
pub struct RateLimiter {
    repo: Arc<dyn RateLimitRepo>,
}

impl RateLimiter {
    /// A limiter over the shared event store.
    pub fn new(repo: Arc<dyn RateLimitRepo>) -> Self {
        Self { repo }
    }

    /// `Err(RateLimited)` with the longest wait if any window of any limit is full.
    pub async fn check(&self, limits: &[Limit<'_>], now: DateTime<Utc>) -> ServiceResult<()> {
        let mut wait = Duration::zero();
        for limit in limits {
            for window in limit.windows {
                let (count, oldest) = self
                    .repo
                    .count_since(&limit.bucket, now - window.period())
                    .await?;
                if count >= window.limit {
                    let frees_at = oldest.unwrap_or(now) + window.period();
                    wait = wait.max(frees_at - now);
                }
            }
        }
        if wait > Duration::zero() {
            let secs = u64::try_from((wait.num_milliseconds() + 999) / 1000).unwrap_or(1);
            return Err(ServiceError::RateLimited {
                retry_after_secs: secs.max(1),
            });
        }
        Ok(())
    }

    /// Counts one event in every bucket of `limits`.
    pub async fn record(&self, limits: &[Limit<'_>], now: DateTime<Utc>) -> ServiceResult<()> {
        let buckets: Vec<String> = limits.iter().map(|l| l.bucket.clone()).collect();
        self.repo.record(&buckets, now).await?;
        Ok(())
    }

    /// Forgets events older than any window can see.
    pub async fn prune(&self, now: DateTime<Utc>, longest: Duration) -> ServiceResult<u64> {
        Ok(self.repo.prune(now - longest).await?)
    }
}
