//! Attachments: upload, send, fetch by members only, ranges, size limit, GPS stripped.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::TestApp;

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";
const CAROL: &str = "+8613800138002";

pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A JPEG whose EXIF holds a GPS position, as a phone camera writes it.
fn jpeg_with_gps() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 5, 40]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&img)
        .unwrap();
    // TIFF, little-endian: IFD0 with a GPSInfo pointer to an IFD with latitude N 52/1.
    let mut t: Vec<u8> = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    t.extend_from_slice(&1u16.to_le_bytes());
    t.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0]);
    t.extend_from_slice(&26u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&1u16.to_le_bytes());
    t.extend_from_slice(&[1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]);
    t.extend_from_slice(&0u32.to_le_bytes());
    let payload = [b"Exif\0\0".as_slice(), &t].concat();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    name: &str,
    bytes: Vec<u8>,
) -> crate::harness::Reply {
    let r = app
        .http
        .post(format!("{}/v1/attachments?filename={name}", app.base))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .unwrap();
    TestApp::reply(r).await
}

async fn fetch(app: &TestApp, token: &str, path: &str, range: Option<&str>) -> reqwest::Response {
    let mut r = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(token);
    if let Some(range) = range {
        r = r.header("range", range);
    }
    r.send().await.unwrap()
}

async fn send(app: &TestApp, token: &str, conv: &str, body: Value) -> crate::harness::Reply {
    app.send(
        Method::POST,
        &format!("/v1/conversations/{conv}/messages"),
        Some(token),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn images_go_to_members_only_with_thumbnails_and_ranges() {
    images_go_to_members_only_with_thumbnails_and_ranges_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn images_go_to_members_only_with_thumbnails_and_ranges_on_postgres() {
    let Some(app) =
        TestApp::spawn_postgres("images_go_to_members_only_with_thumbnails_and_ranges").await
    else {
        return;
    };
    images_go_to_members_only_with_thumbnails_and_ranges_on(app).await;
}

async fn images_go_to_members_only_with_thumbnails_and_ranges_on(app: TestApp) {
    let a = app.code_login(ALICE, "a").await;
    let b = app.code_login(BOB, "b").await;
    let c = app.code_login(CAROL, "c").await;
    let bytes = png(800, 400);
    let r = upload(&app, &a, "photo.jpg", bytes.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(
        r.body["content_type"], "image/png",
        "sniffed from the bytes, not the name"
    );
    assert_eq!(r.body["size"], bytes.len());
    assert_eq!(r.body["sha256"], hex::encode(Sha256::digest(&bytes)));
    assert_eq!(
        (r.body["width"].as_u64(), r.body["height"].as_u64()),
        (Some(800), Some(400))
    );
    assert_eq!(r.body["thumbnail"], true);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/attachments/{id}");

    // Before it is sent, only the uploader can fetch it.
    assert_eq!(fetch(&app, &a, &path, None).await.status(), StatusCode::OK);
    assert_eq!(
        fetch(&app, &b, &path, None).await.status(),
        StatusCode::NOT_FOUND
    );

    let conv = app.direct_id(&a, BOB).await;
    let r = send(
        &app,
        &a,
        &conv,
        json!({ "client_id": "i1", "kind": "image", "attachment_id": id }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["attachment"], id.as_str());

    // Bob, a member, gets the bytes; Carol, not a member, gets what an unknown id gets.
    let got = fetch(&app, &b, &path, None).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
    let denied = TestApp::reply(fetch(&app, &c, &path, None).await).await;
    let unknown = TestApp::reply(fetch(&app, &c, "/v1/attachments/nope", None).await).await;
    assert_eq!(
        (denied.status, denied.body.clone()),
        (unknown.status, unknown.body.clone())
    );
    assert_eq!(denied.code(), "attachment_not_found");

    // Thumbnail: 320 wide.
    let thumb = fetch(&app, &b, &format!("{path}?thumbnail=true"), None).await;
    assert_eq!(thumb.status(), StatusCode::OK);
    let t = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((t.width(), t.height()), (320, 160));

    // Ranges.
    let part = fetch(&app, &b, &path, Some("bytes=0-9")).await;
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"].to_str().unwrap(),
        format!("bytes 0-9/{}", bytes.len())
    );
    assert_eq!(part.bytes().await.unwrap().to_vec(), bytes[..10].to_vec());
    let tail = fetch(&app, &b, &path, Some("bytes=-5")).await;
    assert_eq!(
        tail.bytes().await.unwrap().to_vec(),
        bytes[bytes.len() - 5..].to_vec()
    );
    let from = fetch(
        &app,
        &b,
        &path,
        Some(&format!("bytes={}-", bytes.len() - 3)),
    )
    .await;
    assert_eq!(from.bytes().await.unwrap().len(), 3);
    let bad = TestApp::reply(fetch(&app, &b, &path, Some("bytes=99999999-")).await).await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable")
    );

    // Deleted for everyone: the bytes are no longer served to Bob.
    let mid = r.body["id"].as_str().unwrap().to_owned();
    app.send(
        Method::DELETE,
        &format!("/v1/conversations/{conv}/messages/{mid}"),
        Some(&a),
        None,
    )
    .await;
    assert_eq!(
        fetch(&app, &b, &path, None).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn photo_locations_are_stripped() {
    photo_locations_are_stripped_on(TestApp::spawn().await).await;
}

#[tokio::test]
async fn photo_locations_are_stripped_on_postgres() {
    let Some(app) = TestApp::spawn_postgres("photo_locations_are_stripped").await else {
        return;
    };
    photo_locations_are_stripped_on(app).await;
}

async fn photo_locations_are_stripped_on(app: TestApp) {
    let a = app.code_login(ALICE, "a").await;
    let original = jpeg_with_gps();
    let gps_pointer = [0x25u8, 0x88, 4, 0];
    assert!(original.windows(4).any(|w| w == gps_pointer));
    let r = upload(&app, &a, "IMG_0001.JPG", original.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    assert_eq!(r.body["content_type"], "image/jpeg");
    assert_ne!(r.body["sha256"], hex::encode(Sha256::digest(&original)));
    let stored = fetch(
        &app,
        &a,
        &format!("/v1/attachments/{}", r.body["id"].as_str().unwrap()),
        None,
    )
    .await;
    let stored = stored.bytes().await.unwrap().to_vec();
    assert!(
        !stored.windows(4).any(|w| w == gps_pointer),
        "the GPS pointer is gone"
    );
    assert_eq!(
        hex::encode(Sha256::digest(&stored)),
        r.body["sha256"].as_str().unwrap()
    );
    image::load_from_memory(&stored).expect("still a picture");
    // And the original bytes are nowhere in the blob store.
    let mut found = false;
    for entry in walk(&app.config.blobs_dir()) {
        if std::fs::read(&entry).unwrap() == original {
            found = true;
        }
    }
    assert!(!found, "the original with its location was deleted");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                files.extend(walk(&p));
            } else {
                files.push(p);
            }
        }
    }
    files
}

#[tokio::test]
async fn bad_uploads_and_attachment_messages() {
    let app = TestApp::spawn_with(|c| c.attachments.max_bytes = 10_000).await;
    let a = app.code_login(ALICE, "a").await;
    let b = app.code_login(BOB, "b").await;
    let r = upload(&app, &a, "big.bin", vec![7u8; 20_000]).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "attachment_too_large")
    );
    let stored: Vec<_> = walk(&app.config.blobs_dir())
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("/tmp/"))
        .collect();
    assert!(stored.is_empty(), "nothing kept: {stored:?}");
    let r = upload(&app, &a, "empty.txt", Vec::new()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .http
        .post(format!("{}/v1/attachments", app.base))
        .body(vec![1u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let doc = upload(
        &app,
        &a,
        "notes.pdf",
        b"%PDF-1.4\n%fake but sniffable\n".to_vec(),
    )
    .await;
    assert_eq!(doc.body["content_type"], "application/pdf");
    let doc_id = doc.body["id"].as_str().unwrap().to_owned();
    let bobs = upload(&app, &b, "b.png", png(10, 10)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let conv = app.direct_id(&a, BOB).await;
    let cases = [
        (
            json!({ "client_id": "1", "kind": "image", "attachment_id": bobs }),
            "attachment_not_found",
        ),
        (
            json!({ "client_id": "2", "kind": "file" }),
            "attachment_not_found",
        ),
        (
            json!({ "client_id": "3", "kind": "voice", "attachment_id": doc_id }),
            "wrong_kind",
        ),
        (
            json!({ "client_id": "4", "kind": "image", "attachment_id": doc_id }),
            "wrong_kind",
        ),
    ];
    for (body, code) in cases {
        let r = send(&app, &a, &conv, body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, code),
            "{body}"
        );
    }
    let r = send(
        &app,
        &a,
        &conv,
        json!({ "client_id": "5", "kind": "file", "attachment_id": doc_id }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let got = fetch(&app, &b, &format!("/v1/attachments/{doc_id}"), None).await;
    assert_eq!(got.headers()["content-disposition"], "attachment");
    assert_eq!(got.headers()["x-content-type-options"], "nosniff");
}
