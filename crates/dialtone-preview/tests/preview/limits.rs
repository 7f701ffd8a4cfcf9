//! Time and size limits: a silent or endless server costs a bounded wait and bounded memory.

use dialtone_preview::{PreviewConfig, PreviewError, fetch_preview};

use crate::server::{Misbehaviour, SHORT_TIMEOUT, Site, allowing, misbehaving};

#[tokio::test]
async fn a_server_that_never_answers_gives_a_timeout() {
    let silent = misbehaving(Misbehaviour::Silent).await;
    let config = PreviewConfig {
        timeout: SHORT_TIMEOUT,
        ..allowing(&[silent])
    };
    let err = fetch_preview(&format!("http://{silent}/"), &config)
        .await
        .unwrap_err();
    assert!(matches!(err, PreviewError::Timeout { .. }), "{err:?}");
    assert_eq!(err.code(), "timeout");
    assert_eq!(err.to_string(), "the link took longer than 300 ms to fetch");
}

#[tokio::test]
async fn a_server_that_stops_in_the_middle_of_the_page_gives_a_timeout() {
    let stalling = misbehaving(Misbehaviour::Stalls).await;
    let config = PreviewConfig {
        timeout: SHORT_TIMEOUT,
        ..allowing(&[stalling])
    };
    let err = fetch_preview(&format!("http://{stalling}/"), &config)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "timeout");
}

#[tokio::test]
async fn a_page_over_the_limit_is_read_up_to_the_limit() {
    let site = Site::start().await;
    let config = PreviewConfig {
        max_page_bytes: 512 * 1024,
        ..allowing(&[site.addr])
    };
    let preview = fetch_preview(&site.url("/big/1024"), &config)
        .await
        .unwrap();
    assert_eq!(preview.title.as_deref(), Some("Found"));

    // The same tag after the limit is never read: the page was cut, not refused.
    let preview = fetch_preview(&site.url("/big/1024?late=1"), &config)
        .await
        .unwrap();
    assert_eq!(preview.title, None);

    // Under the limit, the late tag is found: it is the limit that hid it above.
    let preview = fetch_preview(&site.url("/big/256?late=1"), &config)
        .await
        .unwrap();
    assert_eq!(preview.title.as_deref(), Some("Found"));
}

#[tokio::test]
async fn a_page_that_never_ends_is_cut_at_the_limit_and_read() {
    // Were the body read to its end, this would never return before the deadline.
    let endless = misbehaving(Misbehaviour::Endless).await;
    let preview = fetch_preview(&format!("http://{endless}/"), &allowing(&[endless]))
        .await
        .unwrap();
    assert_eq!(preview.title.as_deref(), Some("Endless"));
}
