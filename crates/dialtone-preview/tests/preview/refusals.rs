//! Links the production policy refuses before any connection: the classic SSRF targets
//! in their usual disguises, and links that are not http(s) to a host.

use std::io::ErrorKind;

use dialtone_preview::{PreviewConfig, fetch_preview};

/// Asserts `link` is refused with `code` under the default (production) configuration.
async fn refused(link: &str, code: &str) {
    let err = fetch_preview(link, &PreviewConfig::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), code, "{link}: {err}");
}

#[tokio::test]
async fn local_and_private_addresses_are_refused_in_every_spelling() {
    for link in [
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "https://127.0.0.1:8443/",
    ] {
        refused(link, "forbidden_address").await;
    }
}

#[tokio::test]
async fn links_that_are_not_plain_http_are_refused_as_invalid() {
    for link in [
        "http://user:pw@example.com/",
        "https://user@example.com/",
        "file:///etc/passwd",
        "gopher://x",
        "ftp://x",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://example.com:25/",
        "not a link",
        "",
    ] {
        refused(link, "invalid_url").await;
    }
    refused(
        &format!("https://example.com/{}", "a".repeat(2048)),
        "invalid_url",
    )
    .await;
}

#[tokio::test]
async fn a_local_server_is_never_connected_to_under_the_default_policy() {
    // A listener that is never accepted from: a connection attempt would still complete
    // in the kernel and wait in its queue, where `accept` finds it at once.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();

    refused(&format!("http://127.0.0.1:{port}/"), "forbidden_address").await;
    refused(&format!("http://localhost:{port}/"), "forbidden_address").await;

    let attempt = listener.accept().map(|_| ()).map_err(|e| e.kind());
    assert_eq!(attempt, Err(ErrorKind::WouldBlock));
}

#[tokio::test]
async fn refusals_say_what_is_wrong_without_naming_addresses() {
    let err = fetch_preview("http://10.1.2.3/", &PreviewConfig::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the link leads to an address that is not public"
    );

    let err = fetch_preview("gopher://x", &PreviewConfig::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid link: only http and https links are previewed"
    );

    let err = fetch_preview("http://user:pw@example.com/", &PreviewConfig::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid link: links with a user name or password are refused"
    );
}
