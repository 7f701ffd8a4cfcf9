//! Content types come from the bytes: a table of real-format prefixes.

use std::io::Cursor;

use dialtone_media::sniff;
use image::{DynamicImage, ImageFormat, RgbImage};

fn encoded(format: ImageFormat) -> Vec<u8> {
    let image = DynamicImage::ImageRgb8(RgbImage::from_fn(8, 8, |x, y| {
        image::Rgb([(x * 30) as u8, (y * 30) as u8, 90])
    }));
    let mut out = Vec::new();
    image.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

fn with_tail(head: &[u8]) -> Vec<u8> {
    let mut bytes = head.to_vec();
    bytes.resize(64, 0);
    bytes
}

#[test]
fn formats_are_recognised_from_their_bytes() {
    let mut ogg_opus = b"OggS".to_vec();
    ogg_opus.resize(28, 0);
    ogg_opus.extend_from_slice(b"OpusHead");
    let mut ogg_vorbis = b"OggS".to_vec();
    ogg_vorbis.resize(28, 0);
    ogg_vorbis.extend_from_slice(b"\x01vorbis");

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("jpeg", encoded(ImageFormat::Jpeg), "image/jpeg"),
        ("png", encoded(ImageFormat::Png), "image/png"),
        ("gif", encoded(ImageFormat::Gif), "image/gif"),
        ("webp", encoded(ImageFormat::WebP), "image/webp"),
        (
            "mp4",
            with_tail(b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2avc1mp41"),
            "video/mp4",
        ),
        ("ogg/opus", with_tail(&ogg_opus), "audio/opus"),
        ("ogg/vorbis", with_tail(&ogg_vorbis), "audio/ogg"),
        ("mp3 (ID3)", with_tail(b"ID3\x04\0\0\0\0\0\0"), "audio/mpeg"),
        ("mp3 (frame)", with_tail(b"\xFF\xFB\x90\x64"), "audio/mpeg"),
        (
            "pdf",
            b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj".to_vec(),
            "application/pdf",
        ),
        (
            "zip",
            with_tail(b"PK\x03\x04\x14\0\0\0\x08\0"),
            "application/zip",
        ),
        ("text", b"hello, see you at 8\n".to_vec(), "text/plain"),
    ];
    for (name, bytes, expected) in cases {
        assert_eq!(sniff(&bytes, None), expected, "{name}");
    }
}

#[test]
fn the_file_name_cannot_overrule_the_bytes() {
    let jpeg = encoded(ImageFormat::Jpeg);
    assert_eq!(sniff(&jpeg, Some("notes.txt")), "image/jpeg");
    assert_eq!(
        sniff(&with_tail(b"\x7fELF\x02\x01\x01"), Some("cat.jpg")),
        "application/x-executable"
    );
    assert_eq!(
        sniff(&[0u8, 159, 146, 150, 1, 2, 3], Some("cat.jpg")),
        "application/octet-stream"
    );
    assert_eq!(sniff(b"", Some("empty.txt")), "application/octet-stream");
}

#[test]
fn text_takes_a_harmless_type_from_its_name() {
    assert_eq!(sniff(b"a,b\n1,2\n", Some("table.csv")), "text/csv");
    assert_eq!(sniff(b"{\"a\": 1}", Some("data.json")), "application/json");
    assert_eq!(sniff(b"BEGIN:VCARD\r\n", Some("me.vcf")), "text/x-vcard");
    assert_eq!(sniff(b"just words", Some("noextension")), "text/plain");
    // Active content is served as text, never as something a browser would run.
    assert_eq!(
        sniff(b"<html><script>alert(1)</script>", Some("x.html")),
        "text/plain"
    );
    assert_eq!(
        sniff(
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            Some("x.svg")
        ),
        "text/plain"
    );
    assert_eq!(sniff(b"<?xml version=\"1.0\"?><a/>", None), "text/plain");
    // A multi-byte character cut by the end of the prefix is still text.
    let mut cut = "Grüße aus Köln: 你好".as_bytes().to_vec();
    cut.pop();
    assert_eq!(sniff(&cut, None), "text/plain");
}
