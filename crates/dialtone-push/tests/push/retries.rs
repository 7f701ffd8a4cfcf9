//! What the push service answers, and what the sender makes of it.

use std::time::{Duration, Instant};

use dialtone_push::testing::TestPushService;
use dialtone_push::{Delivery, EndpointPolicy, Push, PushError, PushSender, RetryPolicy, VapidKey};

use super::{fast_retry, pushes_before_marker, sender_with, setup};

/// The statuses the service answered to `name`, once every push has been read.
async fn statuses(service: &TestPushService, sender: &PushSender, name: &str) -> Vec<u16> {
    pushes_before_marker(service, sender)
        .await
        .into_iter()
        .filter(|p| p.name == name)
        .map(|p| p.status)
        .collect()
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_delivered() {
    let service = TestPushService::start().await.unwrap();
    let retry = RetryPolicy {
        max_delay: Duration::from_secs(5),
        ..fast_retry()
    };
    let sender = sender_with(&service, VapidKey::generate(), retry);
    let sub = service.subscribe("busy").await.unwrap();
    service.respond("busy", &[429], Some(1)).await.unwrap();
    let started = Instant::now();
    assert_eq!(
        sender.send(&sub, &Push::new("x")).await.unwrap(),
        Delivery::Accepted
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not waited"
    );
    assert_eq!(statuses(&service, &sender, "busy").await, vec![429, 201]);
}

#[tokio::test]
async fn retry_after_is_capped_by_the_policy() {
    let (service, sender) = setup().await;
    let sub = service.subscribe("slow").await.unwrap();
    service.respond("slow", &[503], Some(3600)).await.unwrap();
    let started = Instant::now();
    assert_eq!(
        sender.send(&sub, &Push::new("x")).await.unwrap(),
        Delivery::Accepted
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn server_errors_are_retried_until_delivered() {
    let (service, sender) = setup().await;
    let sub = service.subscribe("flaky").await.unwrap();
    service.respond("flaky", &[500, 503], None).await.unwrap();
    assert_eq!(
        sender.send(&sub, &Push::new("x")).await.unwrap(),
        Delivery::Accepted
    );
    assert_eq!(
        statuses(&service, &sender, "flaky").await,
        vec![500, 503, 201]
    );
}

#[tokio::test]
async fn only_server_errors_give_an_error_after_the_last_attempt() {
    let (service, sender) = setup().await;
    let sub = service.subscribe("down").await.unwrap();
    service.respond("down", &[500; 6], None).await.unwrap();
    let err = sender.send(&sub, &Push::new("x")).await.unwrap_err();
    assert!(
        matches!(err, PushError::Unavailable { attempts: 4, .. }),
        "{err}"
    );
    assert_eq!(err.code(), "unavailable");
    assert_eq!(statuses(&service, &sender, "down").await, vec![500; 4]);
}

#[tokio::test]
async fn the_deadline_ends_retries_before_the_attempts_run_out() {
    let service = TestPushService::start().await.unwrap();
    let retry = RetryPolicy {
        max_attempts: 100,
        max_delay: Duration::from_secs(5),
        deadline: Duration::from_millis(500),
        ..fast_retry()
    };
    let sender = sender_with(&service, VapidKey::generate(), retry);
    let sub = service.subscribe("late").await.unwrap();
    service.respond("late", &[429], Some(1)).await.unwrap();
    let err = sender.send(&sub, &Push::new("x")).await.unwrap_err();
    assert!(
        matches!(err, PushError::Unavailable { attempts: 1, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn not_found_and_gone_mean_the_subscription_is_gone() {
    let (service, sender) = setup().await;
    for status in [404, 410] {
        let name = format!("gone-{status}");
        let sub = service.subscribe(&name).await.unwrap();
        service.respond(&name, &[status], None).await.unwrap();
        assert_eq!(
            sender.send(&sub, &Push::new("x")).await.unwrap(),
            Delivery::Gone
        );
        assert_eq!(statuses(&service, &sender, &name).await, vec![status]);
    }
}

#[tokio::test]
async fn other_client_errors_are_rejected_without_a_retry() {
    let (service, sender) = setup().await;
    for status in [400, 413] {
        let name = format!("bad-{status}");
        let sub = service.subscribe(&name).await.unwrap();
        service.respond(&name, &[status], None).await.unwrap();
        assert_eq!(
            sender.send(&sub, &Push::new("x")).await.unwrap(),
            Delivery::Rejected { status }
        );
        assert_eq!(statuses(&service, &sender, &name).await, vec![status]);
    }
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_an_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let sender = PushSender::new(
        VapidKey::generate(),
        "mailto:ops@dialtone.test".into(),
        EndpointPolicy::AllowList(vec![addr]),
        fast_retry(),
    )
    .unwrap();
    let service = TestPushService::start().await.unwrap();
    let mut sub = service.subscribe("nowhere").await.unwrap();
    sub.endpoint = format!("http://{addr}/push/nowhere");
    let err = sender.send(&sub, &Push::new("x")).await.unwrap_err();
    assert!(
        matches!(err, PushError::Unavailable { attempts: 4, .. }),
        "{err}"
    );
}
