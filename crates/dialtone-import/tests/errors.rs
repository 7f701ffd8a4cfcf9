//! Bad input: every case is a clear error naming the line or record, never a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use std::io::Write;

use common::opts;
use dialtone_import::{Format, ImportError, ImportOptions, Limits, import};

fn err(bytes: &[u8]) -> ImportError {
    import(bytes, &opts("CN")).unwrap_err()
}

#[test]
fn empty_and_blank_files() {
    assert_eq!(err(b""), ImportError::Empty);
    assert_eq!(err(b" \r\n\t \n"), ImportError::Empty);
    assert_eq!(err(b"\xef\xbb\xbf\r\n"), ImportError::Empty);
    assert_eq!(err(b"\xff\xfe\x00\x00"), ImportError::Empty);
}

#[test]
fn binary_garbage_is_an_unknown_format() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert_eq!(err(&garbage), ImportError::UnknownFormat);
    assert_eq!(
        err(b"PK\x03\x04not really a zip"),
        ImportError::UnknownFormat
    );
    assert_eq!(
        err(b"<html><body>hello</body></html>"),
        ImportError::UnknownFormat
    );
    assert_eq!(
        err(b"just some words\nwith no numbers\n"),
        ImportError::UnknownFormat
    );
}

#[test]
fn the_size_is_checked_first() {
    // Over the default 64 MiB limit: refused without being read.
    let big = vec![b'1'; 64 * 1024 * 1024 + 1];
    assert_eq!(
        err(&big),
        ImportError::TooLarge {
            size: big.len() as u64,
            limit: 64 * 1024 * 1024
        }
    );
    let small = ImportOptions {
        limits: Limits {
            max_bytes: 10,
            ..Limits::default()
        },
        ..opts("CN")
    };
    assert!(matches!(
        import(b"13800138000\n13900139000\n", &small),
        Err(ImportError::TooLarge {
            size: 24,
            limit: 10
        })
    ));
}

#[test]
fn ten_thousand_columns_csv() {
    let header = vec!["Name"; 10_000].join(",");
    let e = err(format!("{header}\r\nx\r\n").as_bytes());
    assert_eq!(
        e,
        ImportError::TooManyColumns {
            line: 1,
            columns: 10_000,
            limit: 1_000
        }
    );
    // A sane header with one overlong row further down.
    let row = vec!["13800138000"; 5_000].join(",");
    let e = err(format!("Name,Mobile Phone\r\nA,13800138000\r\n{row}\r\n").as_bytes());
    assert_eq!(
        e,
        ImportError::TooManyColumns {
            line: 3,
            columns: 5_000,
            limit: 1_000
        }
    );
    assert!(e.to_string().contains("line 3"));
}

#[test]
fn too_many_entries() {
    let o = ImportOptions {
        limits: Limits {
            max_entries: 3,
            ..Limits::default()
        },
        ..opts("CN")
    };
    let list = "13800138000\n13900139000\n13700137000\n13600136000\n";
    assert_eq!(
        import(list.as_bytes(), &o).unwrap_err(),
        ImportError::TooManyEntries {
            location: "line 4".into(),
            limit: 3
        }
    );
}

#[test]
fn truncated_vcard_names_the_record() {
    let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nTEL:13800138000\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:B\r\nTEL:1390013";
    let e = err(text.as_bytes());
    assert_eq!(
        e,
        ImportError::Truncated {
            location: "record 2 (line 6)".into()
        }
    );
    assert_eq!(e.to_string(), "the file is cut short at record 2 (line 6)");
}

#[test]
fn malformed_ldif_base64_names_the_line() {
    let e = err(b"dn: cn=A\ncn:: %%%not base64%%%\nmobile: 13800138000\n");
    assert!(
        matches!(&e, ImportError::Malformed { location, .. } if location == "line 2"),
        "{e:?}"
    );
}

#[test]
fn truncated_contact_xml() {
    let e = err(b"<?xml version=\"1.0\"?><c:contact xmlns:c=\"http://schemas.microsoft.com/Contact\"><c:NameCollection><c:Name><c:FormattedName>A");
    assert!(
        matches!(
            e,
            ImportError::Truncated { .. } | ImportError::Malformed { .. }
        ),
        "{e:?}"
    );
}

#[test]
fn forced_formats_on_the_wrong_bytes() {
    for format in [Format::Xlsx, Format::Xls, Format::Ods, Format::Wab] {
        let o = ImportOptions {
            format: Some(format),
            ..opts("CN")
        };
        assert!(
            matches!(
                import(b"Name,Phone\nA,13800138000\n", &o),
                Err(ImportError::Malformed { .. })
            ),
            "{format:?}"
        );
    }
    let o = ImportOptions {
        format: Some(Format::Vcard),
        ..opts("CN")
    };
    assert!(matches!(
        import(b"Name,Phone\n", &o),
        Err(ImportError::Malformed { .. })
    ));
}

#[test]
fn unknown_encoding_override() {
    let o = ImportOptions {
        encoding: Some("klingon-8".into()),
        ..opts("CN")
    };
    assert_eq!(
        import(b"13800138000\n", &o).unwrap_err(),
        ImportError::UnknownEncoding {
            label: "klingon-8".into()
        }
    );
}

#[test]
fn wrong_encoding_still_reads_numbers() {
    // A GBK file forced as Windows-1252: names are mojibake but numbers still import.
    let o = ImportOptions {
        encoding: Some("windows-1252".into()),
        ..opts("CN")
    };
    let r = import(&common::fixture("synthetic/foxmail_gbk.csv"), &o);
    // The Chinese headers become mojibake, so no column is known: read as a list.
    let r = r.unwrap();
    assert!(r.contacts.iter().any(|c| {
        c.phones
            .iter()
            .any(|p| p.number.as_str() == "+8613800138000")
    }));
}

fn zip_with(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in members {
            w.start_file(*name, options).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
    }
    buf.into_inner()
}

#[test]
fn zip_bomb_like_workbook_is_refused_before_loading() {
    let bomb = vec![b' '; 8 * 1024 * 1024];
    let bytes = zip_with(&[
        ("[Content_Types].xml", b"<Types/>".to_vec()),
        ("xl/workbook.xml", b"<workbook/>".to_vec()),
        ("xl/sharedStrings.xml", bomb),
    ]);
    assert!(bytes.len() < 100_000, "compresses well: {}", bytes.len());
    let o = ImportOptions {
        limits: Limits {
            max_unpacked_bytes: 1024 * 1024,
            ..Limits::default()
        },
        ..opts("CN")
    };
    let e = import(&bytes, &o).unwrap_err();
    assert!(
        matches!(e, ImportError::SheetTooLarge { ref location, .. } if location == "unpacked workbook"),
        "{e:?}"
    );
}

#[test]
fn huge_ods_sheet_extent_is_refused_before_reading_cells() {
    // Two cells, but one is repeated over a million rows and a thousand columns.
    let content = r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="Big"><table:table-row><table:table-cell office:value-type="string"><text:p>Name</text:p></table:table-cell></table:table-row><table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="1000" office:value-type="float" office:value="13800138000"><text:p>13800138000</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file("mimetype", stored).unwrap();
        w.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
            .unwrap();
        w.start_file("content.xml", stored).unwrap();
        w.write_all(content.as_bytes()).unwrap();
        w.finish().unwrap();
    }
    let e = import(&buf.into_inner(), &opts("CN")).unwrap_err();
    assert!(
        matches!(e, ImportError::SheetTooLarge { ref location, .. } if location == "sheet Big"),
        "{e:?}"
    );
}

#[test]
fn error_codes_serialise_with_their_location() {
    let e = ImportError::TooManyColumns {
        line: 1,
        columns: 10_000,
        limit: 1_000,
    };
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["code"], "too_many_columns");
    assert_eq!(json["line"], 1);
    assert_eq!(e.code(), "too_many_columns");
}

#[test]
fn forged_xls_dimensions_are_refused_before_calamine_allocates() {
    // calamine reserves rows × columns from the DIMENSIONS record: claim 4 billion rows.
    let mut bytes = common::fixture("synthetic/numbers.xls");
    let at = bytes
        .windows(4)
        .position(|w| w == [0x00, 0x02, 0x0e, 0x00])
        .expect("a DIMENSIONS record");
    bytes[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = err(&bytes);
    assert!(
        matches!(e, ImportError::SheetTooLarge { ref location, .. } if location == "sheet 2"),
        "{e:?}"
    );
}
