//! dialtone-push against an independent push service (tests/push_endpoint.py: Python,
//! http_ece and cryptography): what it decrypts and verifies is what a browser's push
//! service would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod delivery;
mod refusals;
mod retries;

use std::time::Duration;

use dialtone_push::testing::{ReceivedPush, TestPushService};
use dialtone_push::{Push, PushSender, RetryPolicy, VapidKey};

/// How long a test waits for a push it expects.
pub const WAIT: Duration = Duration::from_secs(10);

/// Retries fast enough for tests: 4 attempts, waits of a few milliseconds.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
        deadline: Duration::from_secs(10),
        request_timeout: Duration::from_secs(5),
    }
}

/// A sender with `key` allowed to reach `service` only.
pub fn sender_with(service: &TestPushService, key: VapidKey, retry: RetryPolicy) -> PushSender {
    PushSender::new(
        key,
        "mailto:ops@dialtone.test".into(),
        service.policy(),
        retry,
    )
    .unwrap()
}

/// A running service and a sender for it.
pub async fn setup() -> (TestPushService, PushSender) {
    let service = TestPushService::start().await.unwrap();
    let sender = sender_with(&service, VapidKey::generate(), fast_retry());
    (service, sender)
}

/// Sends a marker push to a subscription of its own and returns every push the service
/// received before it: the service prints in order, so when the marker arrives nothing
/// sent earlier is still on its way (a barrier, not a sleep).
pub async fn pushes_before_marker(
    service: &TestPushService,
    sender: &PushSender,
) -> Vec<ReceivedPush> {
    let marker = service.subscribe("marker").await.unwrap();
    sender.send(&marker, &Push::new("marker")).await.unwrap();
    let mut before = Vec::new();
    loop {
        let push = service.next_push(WAIT).await.unwrap();
        if push.name == "marker" {
            return before;
        }
        before.push(push);
    }
}
