//! Location stripping and thumbnails, on images made here with hand-built metadata.

use std::io::Cursor;

use dialtone_media::{MediaError, process_image};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, GenericImageView, ImageFormat, RgbImage, RgbaImage};

const EXIF_ID: &[u8] = b"Exif\0\0";

fn gradient(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    })
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&gradient(width, height))
        .unwrap();
    out
}

fn png_rgba(width: u32, height: u32) -> Vec<u8> {
    let image = RgbaImage::from_fn(width, height, |x, _| {
        image::Rgba([200, 10, 10, (x % 256) as u8])
    });
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

fn png_rgb(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    gradient(width, height)
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

/// A little-endian TIFF block: IFD0 with Orientation, and a GPS IFD (N 52° 31′) if asked.
fn exif_tiff(orientation: u16, with_gps: bool) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"II*\0");
    t.extend_from_slice(&8u32.to_le_bytes());
    let entries: u16 = if with_gps { 2 } else { 1 };
    t.extend_from_slice(&entries.to_le_bytes());
    // Orientation, SHORT, 1
    t.extend_from_slice(&0x0112u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&orientation.to_le_bytes());
    t.extend_from_slice(&[0, 0]);
    if with_gps {
        let gps_ifd = 8 + 2 + 2 * 12 + 4;
        // GPSInfo pointer, LONG, 1
        t.extend_from_slice(&0x8825u16.to_le_bytes());
        t.extend_from_slice(&4u16.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(&(gps_ifd as u32).to_le_bytes());
    }
    t.extend_from_slice(&0u32.to_le_bytes()); // no IFD1
    if with_gps {
        let rationals = t.len() + 2 + 2 * 12 + 4;
        t.extend_from_slice(&2u16.to_le_bytes());
        // GPSLatitudeRef, ASCII, 2, "N\0"
        t.extend_from_slice(&1u16.to_le_bytes());
        t.extend_from_slice(&2u16.to_le_bytes());
        t.extend_from_slice(&2u32.to_le_bytes());
        t.extend_from_slice(b"N\0\0\0");
        // GPSLatitude, RATIONAL, 3
        t.extend_from_slice(&2u16.to_le_bytes());
        t.extend_from_slice(&5u16.to_le_bytes());
        t.extend_from_slice(&3u32.to_le_bytes());
        t.extend_from_slice(&(rationals as u32).to_le_bytes());
        t.extend_from_slice(&0u32.to_le_bytes());
        for (num, den) in [(52u32, 1u32), (31, 1), (0, 1)] {
            t.extend_from_slice(&num.to_le_bytes());
            t.extend_from_slice(&den.to_le_bytes());
        }
    }
    t
}

/// Inserts an APP segment right after SOI, where cameras put EXIF.
fn splice_app(jpeg: &[u8], marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn exif_app1(orientation: u16, with_gps: bool) -> Vec<u8> {
    [EXIF_ID, &exif_tiff(orientation, with_gps)].concat()
}

/// The GPS fields kamadak-exif finds in a file (none if it has no EXIF at all).
fn gps_fields(file: &[u8]) -> usize {
    match exif::Reader::new().read_from_container(&mut Cursor::new(file)) {
        Ok(parsed) => parsed
            .fields()
            .filter(|f| {
                f.tag.context() == exif::Context::Gps || f.tag == exif::Tag::GPSInfoIFDPointer
            })
            .count(),
        Err(_) => 0,
    }
}

fn orientation_of(file: &[u8]) -> Option<u32> {
    let parsed = exif::Reader::new()
        .read_from_container(&mut Cursor::new(file))
        .ok()?;
    parsed
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind.as_slice(), data].concat()).to_be_bytes());
    out
}

#[test]
fn thumbnail_of_a_wide_image_keeps_its_aspect() {
    let processed = process_image(&jpeg(2000, 1000), "image/jpeg")
        .unwrap()
        .unwrap();
    assert_eq!((processed.width, processed.height), (2000, 1000));
    assert_eq!(processed.thumbnail_type, "image/jpeg");
    let thumb =
        image::load_from_memory_with_format(&processed.thumbnail, ImageFormat::Jpeg).unwrap();
    assert_eq!(thumb.dimensions(), (320, 160));
    assert_eq!(processed.cleaned, None, "no metadata, nothing to clean");
}

#[test]
fn small_images_are_not_scaled_up() {
    let processed = process_image(&jpeg(100, 40), "image/jpeg")
        .unwrap()
        .unwrap();
    let thumb = image::load_from_memory(&processed.thumbnail).unwrap();
    assert_eq!(thumb.dimensions(), (100, 40));
}

#[test]
fn jpeg_gps_is_stripped_and_the_image_still_decodes() {
    let original = splice_app(&jpeg(640, 480), 0xE1, &exif_app1(1, true));
    assert_eq!(
        gps_fields(&original),
        2,
        "the test image really carries GPS"
    );

    let processed = process_image(&original, "image/jpeg").unwrap().unwrap();
    let cleaned = processed.cleaned.expect("GPS present, so a cleaned copy");
    assert_eq!(gps_fields(&cleaned), 0);
    assert!(
        !contains(&cleaned, EXIF_ID),
        "orientation 1 needs no EXIF at all"
    );
    let decoded = image::load_from_memory_with_format(&cleaned, ImageFormat::Jpeg).unwrap();
    assert_eq!(decoded.dimensions(), (640, 480));
    // Pixels are untouched: only the metadata segment went.
    assert_eq!(original.len() - cleaned.len(), 4 + exif_app1(1, true).len());
}

#[test]
fn jpeg_without_gps_is_left_alone() {
    let original = splice_app(&jpeg(64, 64), 0xE1, &exif_app1(1, false));
    let processed = process_image(&original, "image/jpeg").unwrap().unwrap();
    assert_eq!(processed.cleaned, None);
}

#[test]
fn orientation_survives_stripping_and_turns_the_thumbnail() {
    // Orientation 6: the camera was held upright; display rotated 90° clockwise.
    let original = splice_app(&jpeg(400, 200), 0xE1, &exif_app1(6, true));
    let processed = process_image(&original, "image/jpeg").unwrap().unwrap();
    assert_eq!((processed.width, processed.height), (200, 400));
    let thumb = image::load_from_memory(&processed.thumbnail).unwrap();
    assert_eq!(thumb.dimensions(), (160, 320));

    let cleaned = processed.cleaned.unwrap();
    assert_eq!(gps_fields(&cleaned), 0);
    assert_eq!(orientation_of(&cleaned), Some(6));
    image::load_from_memory_with_format(&cleaned, ImageFormat::Jpeg).unwrap();
}

#[test]
fn jpeg_xmp_location_and_appended_images_are_dropped() {
    let xmp = [
        b"http://ns.adobe.com/xap/1.0/\0".as_slice(),
        b"<x:xmpmeta><rdf:Description exif:GPSLatitude=\"52,31N\"/></x:xmpmeta>",
    ]
    .concat();
    let base = jpeg(64, 64);
    let mut original = splice_app(&base, 0xE1, &xmp);
    // A second image after EOI, with its own GPS, as multi-picture files have.
    let appended = splice_app(&jpeg(8, 8), 0xE1, &exif_app1(1, true));
    original.extend_from_slice(&appended);

    let cleaned = process_image(&original, "image/jpeg")
        .unwrap()
        .unwrap()
        .cleaned
        .unwrap();
    assert!(!contains(&cleaned, b"GPSLatitude"));
    assert!(!contains(&cleaned, EXIF_ID));
    assert_eq!(
        cleaned, base,
        "back to exactly the bytes before metadata was added"
    );
}

#[test]
fn png_exif_chunk_is_stripped() {
    let plain = png_rgb(300, 300);
    // eXIf goes after IHDR (8-byte signature + 25-byte IHDR chunk).
    let mut original = plain[..33].to_vec();
    original.extend_from_slice(&png_chunk(b"eXIf", &exif_tiff(1, true)));
    original.extend_from_slice(&plain[33..]);
    image::load_from_memory(&original).unwrap();

    let processed = process_image(&original, "image/png").unwrap().unwrap();
    let cleaned = processed.cleaned.unwrap();
    assert!(!contains(&cleaned, b"eXIf"));
    assert_eq!(cleaned, plain);
    assert_eq!(
        processed.thumbnail_type, "image/jpeg",
        "opaque: JPEG thumbnail"
    );
}

#[test]
fn transparent_images_get_png_thumbnails() {
    let processed = process_image(&png_rgba(640, 320), "image/png")
        .unwrap()
        .unwrap();
    assert_eq!(processed.thumbnail_type, "image/png");
    let thumb =
        image::load_from_memory_with_format(&processed.thumbnail, ImageFormat::Png).unwrap();
    assert_eq!(thumb.dimensions(), (320, 160));
    assert!(thumb.color().has_alpha());
}

#[test]
fn webp_exif_chunk_is_stripped() {
    let (width, height) = (50u32, 30u32);
    let mut simple = Vec::new();
    WebPEncoder::new_lossless(&mut simple)
        .encode(
            gradient(width, height).as_raw(),
            width,
            height,
            ExtendedColorType::Rgb8,
        )
        .unwrap();
    assert_eq!(&simple[12..16], b"VP8L");

    // The extended form: VP8X (EXIF flag), the image chunk, then EXIF.
    let mut body = b"WEBP".to_vec();
    body.extend_from_slice(b"VP8X");
    body.extend_from_slice(&10u32.to_le_bytes());
    body.extend_from_slice(&[0x08, 0, 0, 0]);
    body.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    body.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    body.extend_from_slice(&simple[12..]);
    let tiff = exif_tiff(1, true);
    body.extend_from_slice(b"EXIF");
    body.extend_from_slice(&(tiff.len() as u32).to_le_bytes());
    body.extend_from_slice(&tiff);
    let mut original = b"RIFF".to_vec();
    original.extend_from_slice(&(body.len() as u32).to_le_bytes());
    original.extend_from_slice(&body);
    image::load_from_memory_with_format(&original, ImageFormat::WebP).unwrap();

    let processed = process_image(&original, "image/webp").unwrap().unwrap();
    let cleaned = processed.cleaned.unwrap();
    assert!(!contains(&cleaned, b"EXIF"));
    assert_eq!(cleaned[20] & 0x08, 0, "EXIF flag cleared");
    let decoded = image::load_from_memory_with_format(&cleaned, ImageFormat::WebP).unwrap();
    assert_eq!(decoded.dimensions(), (width, height));
}

#[test]
fn gif_gets_a_thumbnail() {
    let mut gif = Vec::new();
    gradient(400, 100)
        .write_to(&mut Cursor::new(&mut gif), ImageFormat::Gif)
        .unwrap();
    let processed = process_image(&gif, "image/gif").unwrap().unwrap();
    assert_eq!(processed.cleaned, None);
    let thumb = image::load_from_memory(&processed.thumbnail).unwrap();
    assert_eq!(thumb.dimensions(), (320, 80));
}

#[test]
fn non_images_are_not_processed() {
    assert_eq!(process_image(b"%PDF-1.7", "application/pdf").unwrap(), None);
    assert_eq!(process_image(b"hello", "text/plain").unwrap(), None);
    assert_eq!(
        process_image(b"\0\0\0\x18ftypheic", "image/heic").unwrap(),
        None
    );
}

#[test]
fn corrupt_images_are_an_image_error() {
    let mut broken = jpeg(64, 64);
    broken.truncate(30);
    assert!(matches!(
        process_image(&broken, "image/jpeg"),
        Err(MediaError::Image(_))
    ));
    assert!(matches!(
        process_image(b"not a png", "image/png"),
        Err(MediaError::Image(_))
    ));
    assert!(matches!(
        process_image(b"RIFF", "image/webp"),
        Err(MediaError::Image(_))
    ));
}

#[test]
fn a_decompression_bomb_is_refused_from_its_header() {
    // IHDR claims 100000 x 100000 RGBA (40 GB of pixels); the file is under 100 bytes.
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
    bomb.extend_from_slice(&png_chunk(b"IHDR", &ihdr));
    bomb.extend_from_slice(&png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    bomb.extend_from_slice(&png_chunk(b"IEND", &[]));

    match process_image(&bomb, "image/png") {
        Err(MediaError::Image(message)) => assert!(!message.is_empty()),
        other => panic!("expected an image error, got {other:?}"),
    }
}
