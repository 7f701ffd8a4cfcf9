//! Redirects: followed one by one, each hop checked like the first, and counted.

use dialtone_preview::{PreviewConfig, PreviewError, fetch_preview};

use crate::server::{Site, allowing};

#[tokio::test]
async fn a_redirect_chain_within_the_allow_list_reaches_the_page() {
    let site = Site::start().await;
    let preview = fetch_preview(&site.url("/r/3"), &allowing(&[site.addr]))
        .await
        .unwrap();
    assert_eq!(preview.url, site.url("/og"));
    assert_eq!(preview.title.as_deref(), Some("An OpenGraph title"));
    // The relative og:image is resolved against the page's final URL.
    assert_eq!(preview.image.unwrap().source_url, site.url("/img.png"));
}

#[tokio::test]
async fn a_redirect_to_another_allowed_server_is_followed() {
    let first = Site::start().await;
    let second = Site::start().await;
    let link = first.url(&format!("/away?to={}", second.url("/og")));
    let preview = fetch_preview(&link, &allowing(&[first.addr, second.addr]))
        .await
        .unwrap();
    assert_eq!(preview.url, second.url("/og"));
    assert_eq!(second.hits(), 2, "the page and its image");
}

#[tokio::test]
async fn a_redirect_to_a_loopback_server_not_allowed_is_refused_before_connecting() {
    let site = Site::start().await;
    let internal = Site::start().await;
    let link = site.url(&format!("/away?to={}", internal.url("/og")));
    let err = fetch_preview(&link, &allowing(&[site.addr]))
        .await
        .unwrap_err();
    assert!(matches!(err, PreviewError::ForbiddenAddress), "{err:?}");
    assert_eq!(err.code(), "forbidden_address");
    assert_eq!(internal.hits(), 0);
}

#[tokio::test]
async fn a_redirect_under_the_default_policy_to_a_private_address_is_refused() {
    // The first hop is allowed only so there is a server to redirect; the second is
    // judged by the production rule.
    let site = Site::start().await;
    for to in [
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/",
        "http://[::1]/",
        "http://2130706433/",
    ] {
        let err = fetch_preview(
            &site.url(&format!("/away?to={to}")),
            &allowing(&[site.addr]),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "forbidden_address", "{to}");
    }
}

#[tokio::test]
async fn a_redirect_to_another_scheme_is_refused_as_an_invalid_link() {
    let site = Site::start().await;
    for to in ["file:///etc/passwd", "gopher://x/", "ftp://x/"] {
        let err = fetch_preview(
            &site.url(&format!("/away?to={to}")),
            &allowing(&[site.addr]),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "invalid_url", "{to}");
    }
}

#[tokio::test]
async fn more_redirects_than_allowed_are_refused() {
    let site = Site::start().await;
    let config = PreviewConfig {
        max_redirects: 3,
        ..allowing(&[site.addr])
    };
    let err = fetch_preview(&site.url("/r/4"), &config).await.unwrap_err();
    assert!(
        matches!(err, PreviewError::TooManyRedirects { limit: 3 }),
        "{err:?}"
    );
    assert_eq!(err.code(), "too_many_redirects");
    assert_eq!(err.to_string(), "the link redirected more than 3 times");
    // The fourth redirect (/r/1 → /og) was read but not followed: /og was never asked.
    assert_eq!(site.hits(), 4);

    let config = PreviewConfig {
        max_redirects: 0,
        ..allowing(&[site.addr])
    };
    let err = fetch_preview(&site.url("/r/1"), &config).await.unwrap_err();
    assert_eq!(err.code(), "too_many_redirects");
}
