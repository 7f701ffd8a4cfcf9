//! Pages read into previews: which tag wins, what text comes out, what is not a page.

use dialtone_preview::{PreviewError, fetch_preview};

use crate::server::{PNG, Site, allowing};

#[tokio::test]
async fn an_opengraph_page_gives_its_title_description_site_name_and_image() {
    let site = Site::start().await;
    let preview = fetch_preview(&site.url("/og"), &allowing(&[site.addr]))
        .await
        .unwrap();

    assert_eq!(preview.url, site.url("/og"));
    assert_eq!(preview.title.as_deref(), Some("An OpenGraph title"));
    assert_eq!(
        preview.description.as_deref(),
        Some("What the page is about & why.")
    );
    assert_eq!(preview.site_name.as_deref(), Some("Example Site"));
    let image = preview.image.unwrap();
    assert_eq!(image.bytes, PNG);
    assert_eq!(image.content_type, "image/png");
    assert_eq!(image.source_url, site.url("/img.png"));
}

#[tokio::test]
async fn a_page_without_tags_falls_back_to_its_title_element() {
    let site = Site::start().await;
    let preview = fetch_preview(&site.url("/title-only"), &allowing(&[site.addr]))
        .await
        .unwrap();
    assert_eq!(preview.title.as_deref(), Some("Just a title"));
    assert_eq!(preview.description, None);
    assert_eq!(preview.site_name, None);
    assert_eq!(preview.image, None);
}

#[tokio::test]
async fn markup_in_a_title_comes_back_as_plain_text_for_the_caller_to_escape() {
    let site = Site::start().await;
    let preview = fetch_preview(&site.url("/xss"), &allowing(&[site.addr]))
        .await
        .unwrap();
    // The characters are kept as text, not parsed into elements and not escaped here:
    // escaping is the renderer's job, and escaping twice would show `&lt;` to readers.
    assert_eq!(preview.title.as_deref(), Some("<script>alert(1)</script>"));
    assert_eq!(
        preview.description.as_deref(),
        Some("<img src=x onerror=alert(2)>")
    );
}

#[tokio::test]
async fn content_that_is_not_html_is_refused_as_not_html() {
    let site = Site::start().await;
    for path in ["/json", "/no-type", "/img.png"] {
        let err = fetch_preview(&site.url(path), &allowing(&[site.addr]))
            .await
            .unwrap_err();
        assert!(matches!(err, PreviewError::NotHtml), "{path}: {err:?}");
        assert_eq!(err.code(), "not_html");
    }
}

#[tokio::test]
async fn a_page_that_is_not_found_fails_with_its_status() {
    let site = Site::start().await;
    let err = fetch_preview(&site.url("/missing"), &allowing(&[site.addr]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "fetch_failed");
    assert_eq!(
        err.to_string(),
        "could not fetch the link: the server answered with status 404"
    );
}

#[tokio::test]
async fn a_closed_port_fails_to_fetch_without_saying_more() {
    // Bind and drop, so nothing listens on the port.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = fetch_preview(&format!("http://{addr}/"), &allowing(&[addr]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "fetch_failed");
    assert_eq!(
        err.to_string(),
        "could not fetch the link: the connection failed"
    );
}
