//! Sending a push: encrypt once, sign (cached), POST with retries.
//!
//! Statuses are read as RFC 8030 and the big push services use them: 201 (or any 2xx)
//! accepted; 404 and 410 the subscription is gone for good; 429 and 5xx the service is
//! busy or failing, so try again later; any other status is a final refusal (400 bad
//! request, 403 wrong VAPID key, 413 too large) that a retry would only repeat.

use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use web_push_native::Auth;

use crate::error::InvalidSubscription;
use crate::policy::{PinError, PinnedClients};
use crate::vapid::TokenCache;
use crate::{EndpointPolicy, Push, PushError, Subscription, VapidKey};

/// How hard to try when the push service is busy or unreachable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Requests made at most, the first included.
    pub max_attempts: u32,
    /// The wait after the first failure; doubled after each further one, with jitter
    /// (a random half of it) so many servers retrying do not hit the service in step.
    pub base_delay: Duration,
    /// No wait is longer, whether backoff or a service's `Retry-After` (read in
    /// seconds; the rarer HTTP-date form is ignored and backoff used instead).
    pub max_delay: Duration,
    /// The whole send, retries and waits included, ends by then.
    pub deadline: Duration,
    /// Each request (connect, send, response headers) is cut after this.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 1 s doubling up to 60 s, everything within 2 minutes, 10 s a request.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            deadline: Duration::from_secs(120),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// What the push service finally said about a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted (201, or another 2xx): the service will deliver it.
    Accepted,
    /// 404 or 410: the subscription has expired or was withdrawn; the caller deletes it.
    Gone,
    /// Any other final status (400, 403, 413...): refused, not retried; the subscription
    /// may still be good.
    Rejected {
        /// The HTTP status.
        status: u16,
    },
}

/// Sends pushes for one application server identity; share one per process (it caches
/// signed tokens and pooled connections per push service).
pub struct PushSender {
    tokens: TokenCache,
    clients: PinnedClients,
    retry: RetryPolicy,
}

/// What one attempt gave: a final answer, or a reason to try again.
enum Attempt {
    Final(Delivery),
    Retry {
        why: String,
        retry_after: Option<Duration>,
    },
}

impl PushSender {
    /// A sender signing as `vapid` with `subject` (`mailto:` or `https:` URI: the push
    /// service's operators contact it about misbehaviour), sending only where `policy`
    /// allows.
    pub fn new(
        vapid: VapidKey,
        subject: String,
        policy: EndpointPolicy,
        retry: RetryPolicy,
    ) -> Result<PushSender, PushError> {
        Ok(PushSender {
            tokens: TokenCache::new(vapid, subject)?,
            clients: PinnedClients::new(policy, retry.request_timeout),
            retry,
        })
    }

    /// Encrypts `push` for `sub` and delivers it to the push service, retrying 429, 5xx
    /// and connection failures. A malformed subscription or push, or a forbidden
    /// address, is an error before any request is made.
    pub async fn send(&self, sub: &Subscription, push: &Push) -> Result<Delivery, PushError> {
        push.validate()?;
        let checked = sub.check(self.clients.policy())?;
        // An empty payload goes as a push without body, unencrypted (RFC 8030 §5): a
        // record of 0 bytes would have a record size of 17, which RFC 8188 forbids and
        // decoders refuse (the Python oracle found this).
        let body = if push.payload.is_empty() {
            Vec::new()
        } else {
            web_push_native::encrypt(
                push.payload.clone(),
                &checked.p256dh,
                &Auth::clone_from_slice(&checked.auth),
            )
            .map_err(|e| PushError::Encrypt(e.to_string()))?
        };
        let origin = checked.url.origin().ascii_serialization();
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let remaining = self.retry.deadline.saturating_sub(started.elapsed());
            let why = match self
                .attempt(&checked.url, &origin, push, &body, remaining)
                .await?
            {
                Attempt::Final(delivery) => {
                    tracing::debug!(%origin, attempts, ?delivery, "push answered");
                    return Ok(delivery);
                }
                Attempt::Retry { why, retry_after } => {
                    let wait = retry_after.map_or_else(
                        || self.backoff(attempts),
                        |after| after.min(self.retry.max_delay),
                    );
                    let out_of_time = started.elapsed() + wait >= self.retry.deadline;
                    if attempts >= self.retry.max_attempts || out_of_time {
                        why
                    } else {
                        tracing::debug!(%origin, attempts, %why, ?wait, "push retried");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                }
            };
            tracing::warn!(%origin, attempts, %why, "push given up");
            return Err(PushError::Unavailable {
                attempts,
                last: why,
            });
        }
    }

    /// One request.
    async fn attempt(
        &self,
        url: &url::Url,
        origin: &str,
        push: &Push,
        body: &[u8],
        remaining: Duration,
    ) -> Result<Attempt, PushError> {
        let client = match self.clients.client_for(url).await {
            Ok(client) => client,
            Err(PinError::Forbidden) => return Err(InvalidSubscription::ForbiddenAddress.into()),
            Err(PinError::Client(e)) => return Err(PushError::Client(e)),
            Err(PinError::Resolve(why)) => {
                return Ok(Attempt::Retry {
                    why: format!("resolve: {why}"),
                    retry_after: None,
                });
            }
        };
        let mut request = client
            .post(url.clone())
            .timeout(self.retry.request_timeout.min(remaining))
            .header("TTL", push.ttl_secs)
            .header("Urgency", push.urgency.as_str())
            .header(AUTHORIZATION, self.tokens.authorization(origin))
            .body(body.to_vec());
        if !body.is_empty() {
            request = request
                .header(CONTENT_ENCODING, "aes128gcm")
                .header(CONTENT_TYPE, "application/octet-stream");
        }
        if let Some(topic) = &push.topic {
            request = request.header("Topic", topic);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                // The service may have moved or the pooled connection died: resolve
                // and connect afresh next time.
                self.clients.forget(url);
                return Ok(Attempt::Retry {
                    why: format!("request: {e}"),
                    retry_after: None,
                });
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // Read (a little of) the body so the connection can be reused.
        let _ = read_some(response).await;
        Ok(classify(status, retry_after))
    }

    /// The wait before attempt `failed + 1`: base × 2^(failed−1), capped, then a random
    /// point in its upper half.
    fn backoff(&self, failed: u32) -> Duration {
        let exponential = self.retry.base_delay.saturating_mul(
            1u32.checked_shl(failed.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        let capped = exponential.min(self.retry.max_delay);
        let half = capped / 2;
        let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(rand::thread_rng().gen_range(0..=jitter_nanos))
    }
}

/// Reads at most 1 KiB of a response body and drops the rest.
async fn read_some(mut response: reqwest::Response) -> Option<()> {
    let mut read = 0;
    while read < 1024 {
        read += response.chunk().await.ok()??.len();
    }
    Some(())
}

/// What a status means for the push.
fn classify(status: StatusCode, retry_after: Option<Duration>) -> Attempt {
    match status.as_u16() {
        200..=299 => Attempt::Final(Delivery::Accepted),
        404 | 410 => Attempt::Final(Delivery::Gone),
        429 | 500..=599 => Attempt::Retry {
            why: format!("status {}", status.as_u16()),
            retry_after,
        },
        other => Attempt::Final(Delivery::Rejected { status: other }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(retry: RetryPolicy) -> PushSender {
        PushSender::new(
            VapidKey::generate(),
            "mailto:ops@example.com".into(),
            EndpointPolicy::PublicHttpsOnly,
            retry,
        )
        .unwrap()
    }

    #[test]
    fn a_sender_can_be_shared_and_its_sends_spawned() {
        fn shared<T: Send + Sync>(_: &T) {}
        fn spawnable<F: std::future::Future + Send>(_: F) {}
        let s = sender(RetryPolicy::default());
        shared(&s);
        let sub = Subscription {
            endpoint: String::new(),
            p256dh: String::new(),
            auth: String::new(),
        };
        spawnable(s.send(&sub, &Push::new("x")));
    }

    #[test]
    fn backoff_doubles_within_jitter_and_stops_at_the_cap() {
        let s = sender(RetryPolicy {
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(6),
            ..RetryPolicy::default()
        });
        for (failed, low, high) in [
            (1, 500, 1000),
            (2, 1000, 2000),
            (3, 2000, 4000),
            (4, 3000, 6000),
            (40, 3000, 6000),
        ] {
            let wait = s.backoff(failed).as_millis();
            assert!((low..=high).contains(&wait), "after {failed}: {wait} ms");
        }
    }

    #[test]
    fn statuses_are_final_or_retried_as_rfc_8030_reads_them() {
        let final_of = |code: u16| match classify(StatusCode::from_u16(code).unwrap(), None) {
            Attempt::Final(delivery) => Some(delivery),
            Attempt::Retry { .. } => None,
        };
        assert_eq!(final_of(201), Some(Delivery::Accepted));
        assert_eq!(final_of(202), Some(Delivery::Accepted));
        assert_eq!(final_of(404), Some(Delivery::Gone));
        assert_eq!(final_of(410), Some(Delivery::Gone));
        assert_eq!(final_of(400), Some(Delivery::Rejected { status: 400 }));
        assert_eq!(final_of(413), Some(Delivery::Rejected { status: 413 }));
        assert_eq!(final_of(301), Some(Delivery::Rejected { status: 301 }));
        assert_eq!(final_of(429), None);
        assert_eq!(final_of(500), None);
        assert_eq!(final_of(503), None);
    }
}
