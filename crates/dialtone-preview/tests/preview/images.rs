//! The preview's image: fetched under the page's rules, kept only if it is an image.

use dialtone_preview::{PreviewConfig, fetch_image, fetch_preview};
use std::time::Duration;

use crate::server::{Misbehaviour, Site, allowing, misbehaving};

/// The preview of `/with-image` whose `og:image` is `image`.
fn page_with_image(site: &Site, image: &str) -> String {
    let query: String = url_encode(image);
    site.url(&format!("/with-image?image={query}"))
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn an_image_whose_bytes_are_not_an_image_is_dropped_from_the_preview() {
    let site = Site::start().await;
    let config = allowing(&[site.addr]);
    let preview = fetch_preview(&page_with_image(&site, "/fake.png"), &config)
        .await
        .unwrap();
    assert_eq!(preview.title.as_deref(), Some("Has an image"));
    assert_eq!(preview.image, None);

    let err = fetch_image(&site.url("/fake.png"), &config)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_an_image");
}

#[tokio::test]
async fn an_image_over_the_limit_is_refused_whether_or_not_its_length_is_declared() {
    let site = Site::start().await;
    let undeclared = misbehaving(Misbehaviour::UndeclaredHugeImage).await;
    let config = PreviewConfig {
        max_image_bytes: 1024 * 1024,
        ..allowing(&[site.addr, undeclared])
    };

    let preview = fetch_preview(&page_with_image(&site, "/huge.png"), &config)
        .await
        .unwrap();
    assert_eq!(preview.image, None);

    for url in [site.url("/huge.png"), format!("http://{undeclared}/x.png")] {
        let err = fetch_image(&url, &config).await.unwrap_err();
        assert_eq!(err.code(), "too_large", "{url}");
        assert_eq!(
            err.to_string(),
            "the image is larger than the limit of 1048576 bytes"
        );
    }
}

#[tokio::test]
async fn an_image_on_an_address_not_allowed_is_dropped_and_never_requested() {
    let site = Site::start().await;
    let elsewhere = Site::start().await;
    let preview = fetch_preview(
        &page_with_image(&site, &elsewhere.url("/img.png")),
        &allowing(&[site.addr]),
    )
    .await
    .unwrap();
    assert_eq!(preview.image, None);
    assert_eq!(elsewhere.hits(), 0);
}

#[tokio::test]
async fn image_links_that_are_not_http_are_dropped() {
    let site = Site::start().await;
    for image in [
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "file:///etc/passwd",
    ] {
        let preview = fetch_preview(&page_with_image(&site, image), &allowing(&[site.addr]))
            .await
            .unwrap();
        assert_eq!(preview.title.as_deref(), Some("Has an image"), "{image}");
        assert_eq!(preview.image, None, "{image}");
    }
}

#[tokio::test]
async fn a_stalled_image_leaves_the_preview_without_it_within_the_deadline() {
    let site = Site::start().await;
    let silent = misbehaving(Misbehaviour::Silent).await;
    let config = PreviewConfig {
        timeout: Duration::from_secs(1),
        ..allowing(&[site.addr, silent])
    };
    let preview = fetch_preview(
        &page_with_image(&site, &format!("http://{silent}/img.png")),
        &config,
    )
    .await
    .unwrap();
    assert_eq!(preview.title.as_deref(), Some("Has an image"));
    assert_eq!(preview.image, None);
}
