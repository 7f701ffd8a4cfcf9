//! Files built in the test itself: an xlsx written by rust_xlsxwriter (numbers typed as
//! numbers, as users do), WAB files with ANSI (GBK) and multi-valued properties, a vCard
//! 2.1 in GB2312, multi-file imports, and `tel:` URIs in CSV and xlsx cells.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use common::{contacts, opts, rejected};
use dialtone_import::{Format, ImportError, import, import_many};

fn owned(
    v: &[(&str, &[(&str, Option<&str>, Option<&str>)])],
) -> Vec<(String, Vec<(String, Option<String>, Option<String>)>)> {
    v.iter()
        .map(|(n, p)| {
            (
                (*n).to_owned(),
                p.iter()
                    .map(|(a, b, c)| ((*a).to_owned(), b.map(str::to_owned), c.map(str::to_owned)))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn xlsx_numeric_phone_cells_come_out_whole() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Sheet1").unwrap();
    for (c, h) in ["姓名", "手机", "办公电话", "住宅电话"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "张伟").unwrap();
    sheet.write_number(1, 1, 13800138000.0).unwrap();
    sheet.write_number(1, 2, 1062345678.0).unwrap(); // 010-62345678, leading zero lost
    sheet.write_string(1, 3, "1.38001380E10").unwrap(); // same mobile as text: merged
    sheet.write_string(2, 0, "李娜").unwrap();
    sheet.write_string(2, 1, "1.39123E+10").unwrap(); // Excel's General format lost digits
    sheet.write_number(2, 2, 8675523456789.0).unwrap();
    sheet.write_string(4, 0, "王芳").unwrap(); // a gap row, then a record without a phone
    let bytes = book.save_to_buffer().unwrap();

    let report = import(&bytes, &opts("CN")).unwrap();
    assert_eq!(report.format, Format::Xlsx);
    assert_eq!(
        contacts(&report),
        owned(&[
            (
                "张伟",
                &[
                    ("+8613800138000", Some("mobile"), None),
                    ("+861062345678", Some("work"), None)
                ]
            ),
            ("李娜", &[("+8675523456789", Some("work"), None)]),
        ])
    );
    assert_eq!(
        rejected(&report),
        vec![
            (
                "sheet Sheet1 row 3".to_owned(),
                "1.39123E+10".to_owned(),
                "lost_precision".to_owned()
            ),
            (
                "sheet Sheet1 row 5".to_owned(),
                "王芳".to_owned(),
                "no_number".to_owned()
            ),
        ]
    );
    assert_eq!(report.stats.merged_duplicates, 1);
    // Never an exponent anywhere in the output.
    let json = serde_json::to_string(&report.contacts).unwrap();
    assert!(!json.contains("E+") && !json.contains("e+") && !json.contains(".0"));
}

#[test]
fn xlsx_sheet_without_header_is_read_as_a_list() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "Alice").unwrap();
    sheet.write_number(0, 1, 4155552671.0).unwrap();
    sheet.write_number(1, 0, 6502530000.0).unwrap();
    let report = import(&book.save_to_buffer().unwrap(), &opts("US")).unwrap();
    assert_eq!(
        contacts(&report),
        owned(&[
            ("Alice", &[("+14155552671", None, None)]),
            ("", &[("+16502530000", None, None)])
        ])
    );
}

/// Phone cells holding `tel:` URIs, read with region CN (issue 12, item 8), as
/// (cell, numbers as `E.164` or `E.164;ext=N`, rejected inputs): a URI's `;ext=` and
/// `;phone-context=` belong to it, a `;` between numbers still separates them.
const TEL_URI_CELLS: &[(&str, &[&str], &[&str])] = &[
    (
        "tel:+86-10-6234-5678;ext=12",
        &["+861062345678;ext=12"],
        &[],
    ),
    ("tel:2015550123;phone-context=+1", &["+12015550123"], &[]),
    ("tel:61234567;phone-context=+852", &["+85261234567"], &[]),
    (
        "tel:2015550123;ext=12;phone-context=+1",
        &["+12015550123;ext=12"],
        &[],
    ),
    (
        "13800138000;tel:+1-201-555-0123;ext=9",
        &["+8613800138000", "+12015550123;ext=9"],
        &[],
    ),
    ("+1 201 555 0123;ext=7", &["+12015550123;ext=7"], &[]),
    // Not a parameter: the second piece is a number of its own, here an invalid one.
    ("tel:+12015550123;2015550", &["+12015550123"], &["2015550"]),
];

/// What a one-contact import holds, in the form of [`TEL_URI_CELLS`].
fn numbers_and_rejections(report: &dialtone_import::ImportReport) -> (Vec<String>, Vec<String>) {
    let numbers = report
        .contacts
        .iter()
        .flat_map(|c| &c.phones)
        .map(|p| match &p.extension {
            Some(ext) => format!("{};ext={ext}", p.number),
            None => p.number.to_string(),
        })
        .collect();
    let rejected = report.rejected.iter().map(|r| r.input.clone()).collect();
    (numbers, rejected)
}

#[test]
fn tel_uri_parameters_stay_with_their_number_in_csv_and_xlsx() {
    for (cell, numbers, rejections) in TEL_URI_CELLS {
        let want = (
            numbers.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
            rejections
                .iter()
                .map(|s| (*s).to_owned())
                .collect::<Vec<_>>(),
        );
        let csv = format!("Name,Phone\r\nAlice,\"{cell}\"\r\n");
        let report = import(csv.as_bytes(), &opts("CN")).unwrap();
        assert_eq!(numbers_and_rejections(&report), want, "csv cell {cell:?}");

        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "Name").unwrap();
        sheet.write_string(0, 1, "Phone").unwrap();
        sheet.write_string(1, 0, "Alice").unwrap();
        sheet.write_string(1, 1, *cell).unwrap();
        let report = import(&book.save_to_buffer().unwrap(), &opts("CN")).unwrap();
        assert_eq!(numbers_and_rejections(&report), want, "xlsx cell {cell:?}");
    }
}

/// Builds a WAB file: records of (kind, properties), each property (tag, values, multi).
fn wab(records: &[(u32, Vec<(u32, Vec<Vec<u8>>, bool)>)]) -> Vec<u8> {
    const MAGIC: [u8; 16] = [
        0x9c, 0xcb, 0xcb, 0x8d, 0x13, 0x75, 0xd2, 0x11, 0x91, 0x58, 0x00, 0xc0, 0x4f, 0x79, 0x56,
        0xa4,
    ];
    let index_at = 0x100usize;
    let mut out = vec![0u8; index_at + records.len() * 8];
    out[..16].copy_from_slice(&MAGIC);
    let put =
        |out: &mut Vec<u8>, at: usize, v: u32| out[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put(&mut out, 0x10, 0x0c);
    put(&mut out, 0x14, 6);
    put(&mut out, 0x18, 4000);
    put(&mut out, 0x1c, 0x10);
    put(&mut out, 0x20, index_at as u32);
    put(&mut out, 0x24, records.len() as u32);
    for (i, (kind, props)) in records.iter().enumerate() {
        let offset = out.len();
        let id = (i as u32 + 1) * 2;
        put(&mut out, index_at + i * 8, id);
        put(&mut out, index_at + i * 8 + 4, offset as u32);
        let mut data = Vec::new();
        for (tag, values, multi) in props {
            data.extend_from_slice(&tag.to_le_bytes());
            if *multi {
                let body: Vec<u8> = values
                    .iter()
                    .flat_map(|v| {
                        (v.len() as u32)
                            .to_le_bytes()
                            .into_iter()
                            .chain(v.iter().copied())
                    })
                    .collect();
                data.extend_from_slice(&(values.len() as u32).to_le_bytes());
                data.extend_from_slice(&(body.len() as u32).to_le_bytes());
                data.extend_from_slice(&body);
            } else {
                data.extend_from_slice(&(values[0].len() as u32).to_le_bytes());
                data.extend_from_slice(&values[0]);
            }
        }
        let tags: Vec<u8> = props.iter().flat_map(|(t, _, _)| t.to_le_bytes()).collect();
        for v in [
            1,
            *kind,
            id,
            props.len() as u32,
            0x20,
            tags.len() as u32,
            tags.len() as u32,
            data.len() as u32,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&tags);
        out.extend_from_slice(&data);
    }
    out
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

fn gbk(s: &str) -> Vec<u8> {
    let mut v = encoding_rs::GBK.encode(s).0.into_owned();
    v.push(0);
    v
}

#[test]
fn wab_with_unicode_multi_valued_and_folder_records() {
    let bytes = wab(&[
        (3, vec![(0x3001_001f, vec![utf16("Contacts")], false)]),
        (
            1,
            vec![
                (0x3001_001f, vec![utf16("张伟")], false),
                (0x3a1c_001f, vec![utf16("138 0013 8000")], false),
                (0x3a08_001f, vec![utf16("010-62345678-8001")], false),
                (
                    0x3a1b_101f,
                    vec![utf16("021-62341234"), utf16("13800138000")],
                    true,
                ),
                (0x0ffe_0003, vec![6u32.to_le_bytes().to_vec()], false),
            ],
        ),
        (
            1,
            vec![
                (0x3001_001f, vec![utf16("No Number")], false),
                (0x3003_001f, vec![utf16("x@example.com")], false),
            ],
        ),
    ]);
    let report = import(&bytes, &opts("CN")).unwrap();
    assert_eq!(report.format, Format::Wab);
    assert_eq!(
        contacts(&report),
        owned(&[(
            "张伟",
            &[
                ("+8613800138000", Some("mobile"), None),
                ("+861062345678", Some("work"), Some("8001")),
                ("+862162341234", Some("work"), None),
            ]
        )])
    );
    assert_eq!(
        rejected(&report),
        vec![(
            "record 3".to_owned(),
            "No Number".to_owned(),
            "no_number".to_owned()
        )]
    );
    assert_eq!(
        (report.stats.skipped, report.stats.merged_duplicates),
        (1, 1)
    );
}

#[test]
fn wab_with_ansi_gbk_strings() {
    let bytes = wab(&[(
        1,
        vec![
            (0x3001_001e, vec![gbk("张伟")], false),
            (0x3a11_001e, vec![gbk("张")], false),
            (0x3a06_001e, vec![gbk("伟")], false),
            (
                0x3a16_001e,
                vec![gbk("北京市海淀区某某科技有限公司")],
                false,
            ),
            (0x3a09_001e, vec![gbk("（010）6234 5678 转 12")], false),
        ],
    )]);
    let report = import(&bytes, &opts("CN")).unwrap();
    assert_eq!(report.encoding, "GBK");
    assert_eq!(
        contacts(&report),
        owned(&[("张伟", &[("+861062345678", Some("home"), Some("12"))])])
    );
}

#[test]
fn truncated_wab_is_an_error_naming_the_record() {
    let bytes = wab(&[(
        1,
        vec![(0x3001_001f, vec![utf16("Someone With A Long Name")], false)],
    )]);
    let cut = &bytes[..bytes.len() - 10];
    assert_eq!(
        import(cut, &opts("CN")).unwrap_err(),
        ImportError::Truncated {
            location: "record 1".into()
        }
    );
    let header_only = &bytes[..0x40];
    assert!(matches!(
        import(header_only, &opts("CN")).unwrap_err(),
        ImportError::Truncated { .. }
    ));
}

#[test]
fn vcard_21_with_gb2312_charset_and_quoted_printable() {
    let mut card = b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=GB2312:".to_vec();
    card.extend_from_slice(&encoding_rs::GBK.encode("张;伟").0);
    card.extend_from_slice(
        b"\r\nTEL;CELL;PREF:+86 138-0013-8000\r\nTEL;WORK;VOICE:010-62345678-8001\r\nEND:VCARD\r\n",
    );
    card.extend_from_slice(b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E6=9D=8E=\r\n=E5=A8=9C\r\nTEL;HOME:0086 21 6234 1234\r\nTEL;CELL:138 0013 8000\r\nEND:VCARD\r\n");
    let report = import(&card, &opts("CN")).unwrap();
    assert_eq!(
        contacts(&report),
        owned(&[
            (
                "张伟",
                &[
                    ("+8613800138000", Some("mobile"), None),
                    ("+861062345678", Some("work"), Some("8001"))
                ]
            ),
            ("李娜", &[("+862162341234", Some("home"), None)]),
        ])
    );
    assert_eq!(report.stats.merged_duplicates, 1);
}

#[test]
fn import_many_merges_across_files() {
    let fox = common::fixture("synthetic/foxmail_gbk.csv");
    let outlook = common::fixture("synthetic/outlook_zh_cn_gbk.csv");
    let garbage = [0xffu8, 0x00, 0x13, 0x37].repeat(50);
    let files: Vec<(&str, &[u8])> = vec![
        ("outlook.csv", &outlook),
        ("foxmail.csv", &fox),
        ("junk.bin", &garbage),
    ];
    let report = import_many(&files, &opts("CN"));
    assert_eq!(report.files.len(), 3);
    assert_eq!(report.files[0].format, Some(Format::Csv));
    assert!(report.files[2].error.is_some());
    // 周敏's two numbers (13800138000, 0086 21 6234 1234) are both 张伟's in the Outlook
    // file: each E.164 is kept once, so 周敏 adds nothing and is counted as merged.
    let names: Vec<_> = report.contacts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["张伟", "李娜", "刘洋"]);
    assert_eq!(report.stats.merged_records, 1);
    let all: Vec<_> = report
        .contacts
        .iter()
        .flat_map(|c| c.phones.iter().map(|p| p.number.as_str()))
        .collect();
    let unique: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), unique.len(), "each E.164 once");
    assert!(
        report
            .rejected
            .iter()
            .any(|r| r.location == "foxmail.csv: line 4")
    );
    assert!(report.stats.merged_duplicates >= 2);
}
