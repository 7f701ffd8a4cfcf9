//! `POST /v1/contacts/import`: real address-book files in, a preview out (nothing stored);
//! bad files, bad parameters and oversize bodies get a 4xx in the error shape.

use std::io::Read;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Reply, TestApp};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../dialtone-import/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn import(app: &TestApp, token: Option<&str>, query: &str, body: Vec<u8>) -> Reply {
    let mut request = app
        .http
        .post(format!("{}/v1/contacts/import{query}", app.base))
        .header("content-type", "application/octet-stream")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    TestApp::reply(request.send().await.unwrap()).await
}

/// The preview's contacts as (name, [E.164]).
fn contacts(r: &Reply) -> Vec<(String, Vec<String>)> {
    r.body["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let phones = c["phones"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_owned())
                .collect();
            (c["name"].as_str().unwrap().to_owned(), phones)
        })
        .collect()
}

fn owned(expected: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    expected
        .iter()
        .map(|(name, phones)| {
            (
                (*name).to_owned(),
                phones.iter().map(|p| (*p).to_owned()).collect(),
            )
        })
        .collect()
}

/// The preview's rejections as (location, input, reason).
fn rejected(r: &Reply) -> Vec<(String, String, String)> {
    r.body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["location"].as_str().unwrap().to_owned(),
                x["input"].as_str().unwrap().to_owned(),
                x["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn assert_error(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{r:?}");
    assert_eq!(r.code(), code, "{r:?}");
    assert!(
        !r.body["error"]["message"].as_str().unwrap().is_empty(),
        "{r:?}"
    );
}

#[tokio::test]
async fn real_files_are_previewed_with_e164_numbers() {
    let app = TestApp::spawn().await;
    // A Chinese number: the account's region is CN, the default for national numbers.
    let token = app.code_login("+8613800138000", "importer").await;

    // Foxmail CSV in GBK: full-width digits, `分机`, `0086`, a contact without a number.
    let r = import(
        &app,
        Some(&token),
        "?filename=foxmail.csv",
        fixture("synthetic/foxmail_gbk.csv"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["format"], "csv");
    assert_eq!(r.body["encoding"], "GBK");
    assert_eq!(
        contacts(&r),
        owned(&[
            ("刘洋", &["+8613912345678", "+8657187654321"]),
            ("周敏", &["+8613800138000", "+862162341234"]),
        ])
    );
    assert_eq!(
        rejected(&r),
        [(
            "line 4".to_owned(),
            "孙丽".to_owned(),
            "no_number".to_owned()
        )]
    );
    assert_eq!(
        r.body["contacts"][0]["details"][1],
        json!({ "number": "+8657187654321", "kind": "fixed_line", "label": "work", "extension": "66" })
    );
    assert_eq!(r.body["stats"]["records"], 3);
    assert_eq!(r.body["stats"]["contacts"], 2);
    assert_eq!(r.body["stats"]["numbers"], 4);

    // The encoding can be forced.
    let r = import(
        &app,
        Some(&token),
        "?encoding=gb18030",
        fixture("synthetic/foxmail_gbk.csv"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["encoding"], "gb18030");
    assert_eq!(r.body["contacts"][0]["name"], "刘洋");

    // vCard 4.0 with `tel:` URIs and an extension: numbers with a country code need no region.
    let r = import(
        &app,
        Some(&token),
        "",
        fixture("ezvcard_rfc6350-example.vcf"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["format"], "vcard");
    assert_eq!(r.body["encoding"], "UTF-8");
    assert_eq!(
        contacts(&r),
        owned(&[("Simon Perreault", &["+14186569254", "+14182626501"])])
    );
    assert_eq!(r.body["contacts"][0]["details"][0]["extension"], "102");
    assert_eq!(rejected(&r), []);

    // A national US number read in the region given by the query, not the account's.
    let list = b"Alice: (415) 555-2671\nBob 650 253 0000\n".to_vec();
    let r = import(&app, Some(&token), "?region=us", list).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["format"], "txt");
    assert_eq!(
        contacts(&r),
        owned(&[("Alice", &["+14155552671"]), ("Bob", &["+16502530000"])])
    );

    // Excel 97-2003 and OpenDocument sheets, numbers stored as floats.
    let r = import(
        &app,
        Some(&token),
        "?filename=numbers.xls",
        fixture("synthetic/numbers.xls"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["format"], "xls");
    assert_eq!(
        contacts(&r),
        owned(&[
            ("张伟", &["+8613800138000", "+861062345678"]),
            ("Li Na", &["+8613912345678"]),
        ])
    );
    assert_eq!(
        rejected(&r),
        [(
            "sheet Contacts row 4".to_owned(),
            "No Phone".to_owned(),
            "no_number".to_owned()
        )]
    );
    let r = import(
        &app,
        Some(&token),
        "?region=CN",
        fixture("synthetic/numbers.ods"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["format"], "ods");
    assert_eq!(
        contacts(&r),
        owned(&[
            ("张伟", &["+8613800138000", "+861062345678"]),
            ("李娜", &["+8613912345678"]),
        ])
    );

    // Outlook Express's binary WAB: one contact without a number, one folder skipped.
    let mut wab = Vec::new();
    flate2::read::GzDecoder::new(&fixture("thunderbird_OutlookExpress.wab.gz")[..])
        .read_to_end(&mut wab)
        .unwrap();
    let r = import(&app, Some(&token), "?filename=OE.wab", wab).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["format"], "wab");
    assert_eq!(r.body["encoding"], "UTF-16LE");
    assert_eq!(contacts(&r), []);
    assert_eq!(
        rejected(&r),
        [(
            "record 2".to_owned(),
            "John Doe".to_owned(),
            "no_number".to_owned()
        )]
    );
    assert_eq!(r.body["stats"]["skipped"], 1);

    // A preview only: the address book is untouched.
    let r = app.get_auth("/v1/contacts", &token).await;
    if r.status == StatusCode::OK {
        assert_eq!(r.body["contacts"], json!([]), "{r:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_files_and_parameters_are_4xx_with_the_error_shape() {
    let app = TestApp::spawn().await;
    let token = app.code_login("+8613900139000", "importer").await;
    let foxmail = fixture("synthetic/foxmail_gbk.csv");

    let r = import(&app, None, "", foxmail.clone()).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
    let r = import(&app, Some("not-a-token"), "", foxmail.clone()).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");

    let r = import(&app, Some(&token), "", Vec::new()).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "empty");
    let r = import(&app, Some(&token), "", b"  \r\n\t\n".to_vec()).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "empty");

    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let r = import(&app, Some(&token), "", garbage).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "unknown_format");
    let r = import(&app, Some(&token), "", b"PK\x03\x04 not a zip".to_vec()).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "unknown_format");
    // Named as a workbook, the same bytes are a broken archive.
    let r = import(
        &app,
        Some(&token),
        "?filename=a.xlsx",
        b"PK\x03\x04 not a zip".to_vec(),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "malformed");

    // A broken file: the message says where.
    let r = import(
        &app,
        Some(&token),
        "",
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nTEL:13800138000\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:B\r\nTEL:139".to_vec(),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "truncated");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("record 2 (line 6)"),
        "{r:?}"
    );

    let r = import(&app, Some(&token), "?region=ZZ", foxmail.clone()).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_region");
    let r = import(&app, Some(&token), "?encoding=klingon", foxmail.clone()).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "unknown_encoding");

    // Over the route's 64 MiB: 413 with the error body, even with a valid file start.
    let mut huge = foxmail.clone();
    huge.resize(64 * 1024 * 1024 + 1, b'\n');
    let r = import(&app, Some(&token), "", huge).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    // Bigger than the 1 MiB JSON limit is fine here.
    let mut big = b"name,mobile\n".to_vec();
    for i in 0..40_000u32 {
        big.extend_from_slice(
            format!("Person {i},+86 138 {:04} {:04}\n", i / 10_000, i % 10_000).as_bytes(),
        );
    }
    assert!(big.len() > 1024 * 1024);
    let r = import(&app, Some(&token), "", big).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body["error"]);
    assert_eq!(r.body["stats"]["records"], 40_000);
    assert_eq!(r.body["contacts"].as_array().unwrap().len(), 40_000);

    // Wrong method: 405 in the error shape.
    let r = app
        .send(Method::GET, "/v1/contacts/import", Some(&token), None)
        .await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    app.stop().await;
}

#[tokio::test]
async fn import_is_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let r = app.send(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let op: &Value = &r.body["paths"]["/v1/contacts/import"]["post"];
    assert!(op.is_object(), "{}", r.body["paths"]);
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["filename", "region", "encoding"]);
    assert!(
        op["requestBody"]["content"]["application/octet-stream"].is_object(),
        "{op}"
    );
    assert!(op["responses"]["413"].is_object(), "{op}");
    app.stop().await;
}
