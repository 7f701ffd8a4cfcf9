//! What arrives: payloads, headers and VAPID as the independent service reads them.

use std::time::Duration;

use dialtone_push::{Delivery, MAX_PAYLOAD_LEN, Push, PushError, Urgency, VapidKey};

use super::{WAIT, fast_retry, pushes_before_marker, sender_with, setup};

#[tokio::test]
async fn a_text_push_is_decrypted_by_the_oracle_as_sent() {
    let (service, sender) = setup().await;
    let sub = service.subscribe("alice").await.unwrap();
    let text = "Bonjour 👋 — new message from +86 138 0013 8000";
    assert_eq!(
        sender.send(&sub, &Push::new(text)).await.unwrap(),
        Delivery::Accepted
    );
    let push = service.next_push(WAIT).await.unwrap();
    assert_eq!(push.name, "alice");
    assert_eq!(push.decrypt_error, None);
    assert_eq!(push.payload.as_deref(), Some(text.as_bytes()));
    assert_eq!(push.content_encoding.as_deref(), Some("aes128gcm"));
    assert!(push.vapid_ok, "{:?}", push.vapid_error);
    assert_eq!(push.status, 201);
}

#[tokio::test]
async fn a_binary_push_of_the_maximum_size_is_decrypted_as_sent() {
    let (service, sender) = setup().await;
    let sub = service.subscribe("bob").await.unwrap();
    let payload: Vec<u8> = (0..MAX_PAYLOAD_LEN).map(|i| (i * 7 % 256) as u8).collect();
    assert!(std::str::from_utf8(&payload).is_err());
    let delivery = sender
        .send(&sub, &Push::new(payload.clone()))
        .await
        .unwrap();
    assert_eq!(delivery, Delivery::Accepted);
    let push = service.next_push(WAIT).await.unwrap();
    assert_eq!(push.decrypt_error, None);
    assert_eq!(push.payload, Some(payload));
}

#[tokio::test]
async fn an_empty_push_goes_without_body_or_encryption() {
    let (service, sender) = setup().await;
    let sub = service.subscribe("empty").await.unwrap();
    sender.send(&sub, &Push::new(Vec::new())).await.unwrap();
    let push = service.next_push(WAIT).await.unwrap();
    assert_eq!(push.payload, Some(Vec::new()), "{push:?}");
    assert_eq!(push.content_encoding, None);
    assert!(push.vapid_ok);
}

#[tokio::test]
async fn an_oversized_payload_is_refused_before_any_request() {
    let (service, sender) = setup().await;
    let sub = service.subscribe("carol").await.unwrap();
    let err = sender
        .send(&sub, &Push::new(vec![b'x'; MAX_PAYLOAD_LEN + 1]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            PushError::PayloadTooLarge {
                len: 3994,
                limit: 3993
            }
        ),
        "{err}"
    );
    assert_eq!(pushes_before_marker(&service, &sender).await, vec![]);
}

#[tokio::test]
async fn ttl_urgency_and_topic_arrive_as_headers() {
    let (service, sender) = setup().await;
    let sub = service.subscribe("dave").await.unwrap();
    let topic = Push::topic_for("conversation-42");
    let push = Push {
        payload: b"hi".to_vec(),
        ttl_secs: 3600,
        urgency: Urgency::High,
        topic: Some(topic.clone()),
    };
    sender.send(&sub, &push).await.unwrap();
    let got = service.next_push(WAIT).await.unwrap();
    assert_eq!(got.ttl.as_deref(), Some("3600"));
    assert_eq!(got.urgency.as_deref(), Some("high"));
    assert_eq!(got.topic, Some(topic));

    let plain = Push {
        ttl_secs: 0,
        urgency: Urgency::VeryLow,
        ..Push::new("x")
    };
    sender.send(&sub, &plain).await.unwrap();
    let got = service.next_push(WAIT).await.unwrap();
    assert_eq!(got.ttl.as_deref(), Some("0"));
    assert_eq!(got.urgency.as_deref(), Some("very-low"));
    assert_eq!(got.topic, None);
}

#[tokio::test]
async fn vapid_signed_by_another_key_than_the_subscriptions_is_refused_by_the_oracle() {
    let service = dialtone_push::testing::TestPushService::start()
        .await
        .unwrap();
    let subscribed_with = VapidKey::generate();
    let sub = service
        .subscribe_bound("erin", &subscribed_with)
        .await
        .unwrap();
    let wrong = sender_with(&service, VapidKey::generate(), fast_retry());
    assert_eq!(
        wrong.send(&sub, &Push::new("x")).await.unwrap(),
        Delivery::Rejected { status: 403 }
    );
    let push = service.next_push(WAIT).await.unwrap();
    assert!(!push.vapid_ok);
    assert!(push.vapid_error.unwrap().contains("not the key"));

    let right = sender_with(&service, subscribed_with, fast_retry());
    assert_eq!(
        right.send(&sub, &Push::new("x")).await.unwrap(),
        Delivery::Accepted
    );
    assert!(service.next_push(WAIT).await.unwrap().vapid_ok);
}

#[tokio::test]
async fn a_derived_key_is_the_same_on_every_node_and_accepted_by_the_oracle() {
    let service = dialtone_push::testing::TestPushService::start()
        .await
        .unwrap();
    let seed = b"the deployment's shared server key, 32+ bytes";
    let node_a = VapidKey::derive(seed).unwrap();
    let node_b = VapidKey::derive(seed).unwrap();
    assert_eq!(node_a.public_key_base64url(), node_b.public_key_base64url());
    let sub = service.subscribe_bound("frank", &node_a).await.unwrap();
    let sender = sender_with(&service, node_b, fast_retry());
    assert_eq!(
        sender.send(&sub, &Push::new("x")).await.unwrap(),
        Delivery::Accepted
    );
    let push = service.next_push(WAIT).await.unwrap();
    assert!(push.vapid_ok, "{:?}", push.vapid_error);
}

#[tokio::test]
async fn a_key_read_back_from_base64url_signs_as_the_original() {
    let service = dialtone_push::testing::TestPushService::start()
        .await
        .unwrap();
    let key = VapidKey::generate();
    let read_back = VapidKey::from_base64url(&key.to_base64url()).unwrap();
    let sub = service.subscribe_bound("grace", &key).await.unwrap();
    let sender = sender_with(&service, read_back, fast_retry());
    assert_eq!(
        sender.send(&sub, &Push::new("x")).await.unwrap(),
        Delivery::Accepted
    );
    assert!(service.next_push(WAIT).await.unwrap().vapid_ok);
}

#[tokio::test]
async fn pushes_in_a_row_reuse_the_token_and_all_verify() {
    let (service, sender) = setup().await;
    let sub = service.subscribe("heidi").await.unwrap();
    for i in 0..5 {
        sender
            .send(&sub, &Push::new(format!("message {i}")))
            .await
            .unwrap();
    }
    for i in 0..5 {
        let push = service.next_push(Duration::from_secs(10)).await.unwrap();
        assert!(push.vapid_ok, "{:?}", push.vapid_error);
        assert_eq!(push.payload, Some(format!("message {i}").into_bytes()));
    }
    assert_eq!(service.pushes_of("heidi").len(), 5);
}
