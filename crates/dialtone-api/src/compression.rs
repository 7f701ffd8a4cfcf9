//! Compression of responses: gzip or brotli, as the client's `Accept-Encoding` asks, for
//! text only (JSON, HTML, JavaScript, CSS, SVG). Media and downloads go as they are:
//! pictures, voice and video are compressed already, a download is sent byte for byte (and
//! may be ranged), and responses that carry their own `Content-Encoding` (the web client's
//! precompressed files) are left alone.

use axum::http::{Extensions, HeaderMap, StatusCode, Version, header};
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Bodies smaller than this gain nothing from compression.
const MIN_BYTES: u16 = 256;

/// The layer `app_with` wraps every route in.
pub fn layer() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .no_deflate()
        .no_zstd()
        // Quick enough to run on every response; most of the gain of the highest levels.
        .quality(CompressionLevel::Precise(5))
        .compress_when(SizeAbove::new(MIN_BYTES).and(is_text))
}

/// Whether a response is text worth compressing (and not a download).
fn is_text(_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions) -> bool {
    if headers.contains_key(header::CONTENT_DISPOSITION) {
        return false;
    }
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json" | "application/javascript" | "application/xml"
        )
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, Response};
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    fn json_text() -> String {
        let items: Vec<String> = (0..200)
            .map(|i| format!("{{\"phone\":\"+86138001{i:05}\",\"name\":\"Contact {i}\"}}"))
            .collect();
        format!("{{\"contacts\":[{}]}}", items.join(","))
    }

    fn app() -> Router {
        let typed = |content_type: &'static str, body: Vec<u8>| {
            move || {
                let body = body.clone();
                async move { ([(header::CONTENT_TYPE, content_type)], body) }
            }
        };
        Router::new()
            .route(
                "/json",
                get(typed("application/json", json_text().into_bytes())),
            )
            .route(
                "/page",
                get(typed("text/html; charset=utf-8", json_text().into_bytes())),
            )
            .route("/photo", get(typed("image/jpeg", json_text().into_bytes())))
            .route("/tiny", get(typed("application/json", b"{}".to_vec())))
            .route(
                "/download",
                get(|| async {
                    (
                        [
                            (header::CONTENT_TYPE, "text/plain"),
                            (header::CONTENT_DISPOSITION, "attachment"),
                        ],
                        json_text(),
                    )
                }),
            )
            .layer(layer())
    }

    async fn get_with(path: &str, accept: Option<&str>) -> (Response<()>, Vec<u8>) {
        let mut request = Request::get(path);
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT_ENCODING, accept);
        }
        let response = app()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes().to_vec();
        (Response::from_parts(parts, ()), bytes)
    }

    fn decode(encoding: &str, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match encoding {
            "br" => brotli::Decompressor::new(bytes, 4096)
                .read_to_end(&mut out)
                .unwrap(),
            "gzip" => flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut out)
                .unwrap(),
            other => panic!("unexpected encoding {other}"),
        };
        out
    }

    #[tokio::test]
    async fn text_is_compressed_as_asked_and_decompresses_to_the_original() {
        let original = json_text().into_bytes();
        for path in ["/json", "/page"] {
            for encoding in ["br", "gzip"] {
                let (response, body) = get_with(path, Some(encoding)).await;
                assert_eq!(
                    response.headers()[header::CONTENT_ENCODING],
                    encoding,
                    "{path}"
                );
                assert!(
                    response.headers()[header::VARY]
                        .to_str()
                        .unwrap()
                        .to_ascii_lowercase()
                        .contains("accept-encoding")
                );
                assert!(
                    body.len() * 3 < original.len(),
                    "{path} {encoding}: {} bytes",
                    body.len()
                );
                assert_eq!(decode(encoding, &body), original, "{path} {encoding}");
            }
        }
        // A browser's usual list: brotli is preferred.
        let (response, _) = get_with("/json", Some("gzip, deflate, br, zstd")).await;
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "br");
    }

    #[tokio::test]
    async fn nothing_asked_gives_identity() {
        let (response, body) = get_with("/json", None).await;
        assert!(!response.headers().contains_key(header::CONTENT_ENCODING));
        assert_eq!(body, json_text().into_bytes());
        let (response, body) = get_with("/json", Some("identity")).await;
        assert!(!response.headers().contains_key(header::CONTENT_ENCODING));
        assert_eq!(body, json_text().into_bytes());
    }

    #[tokio::test]
    async fn media_downloads_and_tiny_bodies_go_as_they_are() {
        for path in ["/photo", "/download", "/tiny"] {
            let (response, _) = get_with(path, Some("br, gzip")).await;
            assert!(
                !response.headers().contains_key(header::CONTENT_ENCODING),
                "{path} was compressed"
            );
        }
    }
}
