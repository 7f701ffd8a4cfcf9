//! Local servers for the tests: an axum site with every page the tests need, and raw TCP
//! servers that misbehave on purpose (never answer, never finish).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, Request};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use dialtone_preview::{AddressPolicy, PreviewConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The first bytes of a PNG and a little more: enough for the signature check.
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01";

/// A running test site and how many requests it has answered.
pub struct Site {
    pub addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl Site {
    /// Starts the site on 127.0.0.1, port 0.
    pub async fn start() -> Site {
        let hits = Arc::new(AtomicUsize::new(0));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let counter = hits.clone();
        let app = routes().layer(middleware::from_fn(move |request: Request, next: Next| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                next.run(request).await
            }
        }));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Site { addr, hits }
    }

    /// The absolute URL of `path` on this site.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How many requests reached the site so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// A configuration that may connect to exactly these addresses.
pub fn allowing(addrs: &[SocketAddr]) -> PreviewConfig {
    PreviewConfig {
        allowed: AddressPolicy::AllowList(addrs.to_vec()),
        ..PreviewConfig::default()
    }
}

fn html(body: String) -> Response {
    ([(CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [(LOCATION, to.to_owned())]).into_response()
}

fn routes() -> Router {
    Router::new()
        .route(
            "/og",
            get(|| async {
                html(
                    r#"<!doctype html><html><head>
                <title>Fallback title</title>
                <meta property="og:title" content="  An OpenGraph   title ">
                <meta property="og:description" content="What the page is about &amp; why.">
                <meta name="description" content="Plain description">
                <meta property="og:site_name" content="Example Site">
                <meta property="og:image" content="/img.png">
                </head><body><p>Hello</p></body></html>"#
                        .into(),
                )
            }),
        )
        .route(
            "/title-only",
            get(|| async {
                html(
                    "<html><head><title>\n  Just a\ttitle  \n</title></head><body></body></html>"
                        .into(),
                )
            }),
        )
        .route(
            "/xss",
            get(|| async {
                html(
                    r#"<html><head><title><script>alert(1)</script></title>
                <meta name="description" content="<img src=x onerror=alert(2)>">
                </head></html>"#
                        .into(),
                )
            }),
        )
        .route(
            "/json",
            get(|| async {
                (
                    [(CONTENT_TYPE, "application/json")],
                    r#"{"title": "not a page"}"#,
                )
                    .into_response()
            }),
        )
        .route(
            "/no-type",
            get(|| async { b"<title>untyped</title>".to_vec().into_response() }),
        )
        .route(
            "/missing",
            get(|| async { (StatusCode::NOT_FOUND, "gone").into_response() }),
        )
        .route(
            "/img.png",
            get(|| async { ([(CONTENT_TYPE, "image/png")], PNG).into_response() }),
        )
        .route(
            "/fake.png",
            get(|| async {
                (
                    [(CONTENT_TYPE, "image/png")],
                    "<!doctype html><script>alert(1)</script>",
                )
                    .into_response()
            }),
        )
        .route(
            "/huge.png",
            get(|| async {
                let mut bytes = PNG.to_vec();
                bytes.resize(2 * 1024 * 1024, 0);
                ([(CONTENT_TYPE, "image/png")], bytes).into_response()
            }),
        )
        // A page whose image is the given path or absolute URL.
        .route(
            "/with-image",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                let image = q.get("image").cloned().unwrap_or_default();
                html(format!(
                    r#"<html><head><meta property="og:title" content="Has an image">
                <meta property="og:image" content="{image}"></head></html>"#
                ))
            }),
        )
        // A page of `kib` KiB whose title sits at its start, or at its end with `late=1`.
        .route(
            "/big/{kib}",
            get(
                |Path(kib): Path<usize>, Query(q): Query<HashMap<String, String>>| async move {
                    let filler = "<p>filler</p>\n".repeat(kib * 1024 / 14);
                    let tag = r#"<meta property="og:title" content="Found">"#;
                    if q.contains_key("late") {
                        html(format!(
                            "<html><head></head><body>{filler}{tag}</body></html>"
                        ))
                    } else {
                        html(format!(
                            "<html><head>{tag}</head><body>{filler}</body></html>"
                        ))
                    }
                },
            ),
        )
        // /r/3 → /r/2 → /r/1 → /og: /r/n is n redirects to the OpenGraph page.
        .route(
            "/r/{n}",
            get(|Path(n): Path<u32>| async move {
                if n <= 1 {
                    redirect("/og")
                } else {
                    redirect(&format!("/r/{}", n - 1))
                }
            }),
        )
        .route(
            "/away",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                redirect(q.get("to").map(String::as_str).unwrap_or("/"))
            }),
        )
}

/// What a raw server does after reading the request.
#[derive(Clone, Copy)]
pub enum Misbehaviour {
    /// Never answers, and keeps the connection open.
    Silent,
    /// Sends the headers and the start of an HTML page, then nothing more, connection open.
    Stalls,
    /// Sends an HTML page that never ends, until the client hangs up.
    Endless,
    /// Sends an image without Content-Length, longer than any test's limit, then closes.
    UndeclaredHugeImage,
}

/// A raw TCP server on 127.0.0.1 that misbehaves as told, for every connection.
pub async fn misbehaving(how: Misbehaviour) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                match how {
                    Misbehaviour::Silent => std::future::pending::<()>().await,
                    Misbehaviour::Stalls => {
                        let _ = stream
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html><head>")
                            .await;
                        std::future::pending::<()>().await
                    }
                    Misbehaviour::Endless => {
                        let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html><head><title>Endless</title></head><body>";
                        if stream.write_all(head).await.is_err() {
                            return;
                        }
                        let chunk = "<p>more</p>\n".repeat(5000);
                        while stream.write_all(chunk.as_bytes()).await.is_ok() {}
                    }
                    Misbehaviour::UndeclaredHugeImage => {
                        let head = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n";
                        let _ = stream.write_all(head).await;
                        let _ = stream.write_all(PNG).await;
                        let chunk = vec![0u8; 64 * 1024];
                        for _ in 0..32 {
                            if stream.write_all(&chunk).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

/// A short deadline for tests that expect one to pass: long enough for a local page,
/// far shorter than the default.
pub const SHORT_TIMEOUT: Duration = Duration::from_millis(300);
