//! Where pushes must not go, and what must not be sent: refused before any request.

use dialtone_push::testing::TestPushService;
use dialtone_push::{
    EndpointPolicy, InvalidSubscription, Push, PushError, PushSender, RetryPolicy, VapidKey,
};

use super::{fast_retry, pushes_before_marker, setup};

fn production_sender() -> PushSender {
    PushSender::new(
        VapidKey::generate(),
        "mailto:ops@dialtone.test".into(),
        EndpointPolicy::PublicHttpsOnly,
        RetryPolicy::default(),
    )
    .unwrap()
}

fn refusal(err: PushError) -> InvalidSubscription {
    match err {
        PushError::InvalidSubscription(why) => why,
        other => panic!("expected an invalid subscription, got {other}"),
    }
}

#[tokio::test]
async fn production_refuses_the_local_service_over_http_without_a_request() {
    let (service, test_sender) = setup().await;
    let sub = service.subscribe("local").await.unwrap();
    let err = production_sender()
        .send(&sub, &Push::new("x"))
        .await
        .unwrap_err();
    assert_eq!(refusal(err), InvalidSubscription::EndpointScheme);
    assert_eq!(pushes_before_marker(&service, &test_sender).await, vec![]);
}

#[tokio::test]
async fn production_refuses_loopback_private_and_metadata_addresses() {
    let service = TestPushService::start().await.unwrap();
    let mut sub = service.subscribe("probe").await.unwrap();
    let port = service.base_url().rsplit(':').next().unwrap().to_owned();
    let sender = production_sender();
    for endpoint in [
        format!("https://127.0.0.1:{port}/push/probe"),
        "https://[::1]/push".into(),
        "https://10.1.2.3/push".into(),
        "https://192.168.0.1/push".into(),
        "https://169.254.169.254/latest/meta-data/".into(),
        "https://[::ffff:169.254.169.254]/".into(),
        "https://0x7f.1/push".into(),
        "https://localhost/push".into(),
    ] {
        sub.endpoint = endpoint.clone();
        assert!(
            matches!(
                sub.validate(&EndpointPolicy::PublicHttpsOnly),
                Err(PushError::InvalidSubscription(
                    InvalidSubscription::ForbiddenAddress
                ))
            ),
            "{endpoint}"
        );
        let err = sender.send(&sub, &Push::new("x")).await.unwrap_err();
        assert_eq!(
            refusal(err),
            InvalidSubscription::ForbiddenAddress,
            "{endpoint}"
        );
    }
}

#[tokio::test]
async fn a_name_resolving_outside_the_allowed_addresses_is_refused() {
    let service = TestPushService::start().await.unwrap();
    let mut sub = service.subscribe("by-name").await.unwrap();
    let port = service.base_url().rsplit(':').next().unwrap().to_owned();
    // localhost resolves to the service's own port, but the policy allows another one.
    sub.endpoint = format!("http://localhost:{port}/push/by-name");
    let sender = PushSender::new(
        VapidKey::generate(),
        "mailto:ops@dialtone.test".into(),
        EndpointPolicy::AllowList(vec!["127.0.0.1:9".parse().unwrap()]),
        fast_retry(),
    )
    .unwrap();
    let err = sender.send(&sub, &Push::new("x")).await.unwrap_err();
    assert_eq!(refusal(err), InvalidSubscription::ForbiddenAddress);
}

#[tokio::test]
async fn a_malformed_subscription_is_refused_without_a_request() {
    let (service, sender) = setup().await;
    let good = service.subscribe("shape").await.unwrap();
    let mut bad_key = good.clone();
    bad_key.p256dh = good.auth.clone();
    let mut bad_auth = good.clone();
    bad_auth.auth = good.p256dh.clone();
    let mut userinfo = good.clone();
    userinfo.endpoint = good.endpoint.replace("http://", "http://user:pw@");
    for (sub, expected) in [
        (bad_key, InvalidSubscription::P256dh),
        (bad_auth, InvalidSubscription::Auth),
        (userinfo, InvalidSubscription::EndpointUserinfo),
    ] {
        assert_eq!(
            sub.validate(&service.policy()).map_err(|e| e.to_string()),
            Err(PushError::from(expected.clone()).to_string())
        );
        let err = sender.send(&sub, &Push::new("x")).await.unwrap_err();
        assert_eq!(refusal(err), expected);
    }
    assert_eq!(pushes_before_marker(&service, &sender).await, vec![]);
}

#[tokio::test]
async fn a_bad_topic_is_refused_without_a_request() {
    let (service, sender) = setup().await;
    let sub = service.subscribe("topic").await.unwrap();
    let push = Push {
        topic: Some("has spaces".into()),
        ..Push::new("x")
    };
    assert!(matches!(
        sender.send(&sub, &push).await,
        Err(PushError::InvalidTopic)
    ));
    assert_eq!(pushes_before_marker(&service, &sender).await, vec![]);
}
