use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::*;

fn app() -> Router {
    router(WebSettings {
        region: "CN".into(),
        domain: "chat.example".into(),
    })
}

async fn get_page(path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn embedded_json(html: &str, id: &str) -> serde_json::Value {
    let open = format!("<script type=\"application/json\" id=\"{id}\">");
    let start = html.find(&open).unwrap() + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

#[tokio::test]
async fn shell_speaks_the_browsers_language_and_the_cookie_overrides_it() {
    let (status, headers, html) = get_page("/", &[("accept-language", "zh-CN,zh;q=0.9")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.starts_with("<!doctype html>\n<html lang=\"zh-CN\">"));
    assert_eq!(headers[header::CONTENT_LANGUAGE], "zh-CN");
    let zh = catalogue::load(Lang::ZhCn).unwrap();
    assert!(html.contains(&format!("<title>{}</title>", zh["app.name"])));
    assert_eq!(
        embedded_json(&html, "catalogue")["app.loading"],
        zh["app.loading"]
    );
    let config = embedded_json(&html, "config");
    assert_eq!(config["region"], "CN");
    assert_eq!(config["domain"], "chat.example");
    assert!(
        config["regions"]
            .as_array()
            .unwrap()
            .contains(&json!(["CN", 86]))
    );

    let (_, _, html) = get_page(
        "/",
        &[("accept-language", "zh-CN"), ("cookie", "a=b; lang=en")],
    )
    .await;
    assert!(html.contains("<html lang=\"en\">"));

    // `?lang=` wins over both (the service worker's copy of each language).
    let (_, headers, html) = get_page(
        "/?lang=zh-CN",
        &[("accept-language", "en"), ("cookie", "lang=en")],
    )
    .await;
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert_eq!(headers[header::CONTENT_LANGUAGE], "zh-CN");
}

#[tokio::test]
async fn shell_is_locked_down() {
    let (_, headers, _) = get_page("/", &[]).await;
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

#[tokio::test]
async fn assets_are_served_with_types_and_revalidated_by_etag() {
    let (status, headers, body) = get_page("/assets/js/main.js", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(body.contains("import"));
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    let (status, _, body) = get_page("/assets/js/main.js", &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());

    let (status, headers, _) = get_page("/sw.js", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );

    for missing in [
        "/assets/nope.js",
        "/assets/../Cargo.toml",
        "/assets/i18n/en/app.json",
    ] {
        let (status, _, body) = get_page(missing, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
}

#[tokio::test]
async fn manifest_names_the_app_in_the_readers_language() {
    let (status, headers, body) =
        get_page("/manifest.webmanifest", &[("accept-language", "zh")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/manifest+json");
    let manifest: serde_json::Value = serde_json::from_str(&body).unwrap();
    let zh = catalogue::load(Lang::ZhCn).unwrap();
    assert_eq!(manifest["name"], zh["app.name"]);
    assert_eq!(manifest["start_url"], "/");
    assert_eq!(manifest["display"], "standalone");
    for icon in manifest["icons"].as_array().unwrap() {
        let src = icon["src"].as_str().unwrap();
        let (status, _, _) = get_page(src, &[]).await;
        assert_eq!(status, StatusCode::OK, "{src}");
    }
}

async fn get_bytes(path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body.to_vec())
}

fn decode(encoding: &str, bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
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
async fn assets_are_precompressed_as_asked_and_revalidate_in_any_encoding() {
    let path = "/assets/js/main.js";
    let (_, plain_headers, original) = get_bytes(path, &[]).await;
    assert!(!plain_headers.contains_key(header::CONTENT_ENCODING));
    assert_eq!(plain_headers[header::VARY], "Accept-Encoding");
    for (asked, encoding) in [
        ("br", "br"),
        ("gzip", "gzip"),
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=0, gzip", "gzip"),
    ] {
        let (status, headers, body) = get_bytes(path, &[("accept-encoding", asked)]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_ENCODING], encoding, "{asked}");
        assert_eq!(headers[header::VARY], "Accept-Encoding");
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert!(
            body.len() < original.len() / 2,
            "{asked}: {} bytes",
            body.len()
        );
        assert_eq!(decode(encoding, &body), original, "{asked}");
        // Its own tag, and the plain one, both revalidate.
        let etag = headers[header::ETAG].to_str().unwrap().to_owned();
        assert_ne!(etag, plain_headers[header::ETAG].to_str().unwrap());
        for tag in [etag.as_str(), plain_headers[header::ETAG].to_str().unwrap()] {
            let (status, _, body) =
                get_bytes(path, &[("accept-encoding", asked), ("if-none-match", tag)]).await;
            assert_eq!(status, StatusCode::NOT_MODIFIED, "{asked} {tag}");
            assert!(body.is_empty());
        }
    }
    let (_, headers, body) = get_bytes(path, &[("accept-encoding", "identity")]).await;
    assert!(!headers.contains_key(header::CONTENT_ENCODING));
    assert_eq!(body, original);
}

#[tokio::test]
async fn the_service_worker_is_given_every_file_of_the_shell() {
    let (status, headers, body) = get_page("/sw.js", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(
        !body.contains("const FILES = [];"),
        "the list was not filled in"
    );
    assert!(!body.contains("const VERSION = 'dev';"));
    let line = body
        .lines()
        .find(|l| l.starts_with("const FILES = "))
        .unwrap();
    let files: Vec<String> = serde_json::from_str(
        line.trim_start_matches("const FILES = ")
            .trim_end_matches(';'),
    )
    .unwrap();
    assert_eq!(files, shell_files());
    for needed in [
        "/",
        "/manifest.webmanifest",
        "/assets/js/main.js",
        "/assets/js/views/contacts.js",
        "/assets/js/chat/conversation.js",
        "/assets/css/chat.css",
        "/assets/icons/icon.svg",
    ] {
        assert!(files.iter().any(|f| f == needed), "{needed} is not cached");
    }
    assert!(
        !files
            .iter()
            .any(|f| f.starts_with("/assets/i18n/") || f == "/assets/js/sw.js")
    );
    // Every file on the list is there to be cached (a missing one fails the install).
    for file in &files {
        let (status, _, _) = get_bytes(file, &[]).await;
        assert_eq!(status, StatusCode::OK, "{file}");
    }
    assert!(body.contains("const LANGUAGES = [\"zh-CN\",\"en\"];"));
}
