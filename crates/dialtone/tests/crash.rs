//! Durability: a 201 means the message is on disk. Send N messages, `kill -9` the server
//! right after the last 201, restart it on the same data: all N are there, with
//! contiguous seqs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_dialtone");

fn start(data_dir: &Path, port: u16) -> Child {
    let child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("DIALTONE_DATABASE__URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn register(
    client: &reqwest::blocking::Client,
    base: &str,
    data_dir: &Path,
    phone: &str,
) -> String {
    let v: Value = client
        .post(format!("{base}/v1/verifications"))
        .json(&json!({ "phone": phone }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let outbox = std::fs::read_to_string(data_dir.join("sms-outbox.jsonl")).unwrap();
    let body = outbox
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .rfind(|l| l["to"] == phone)
        .unwrap()["body"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = body.rsplit_once('#').unwrap().1.to_owned();
    let v: Value = client
        .post(format!(
            "{base}/v1/verifications/{}/code",
            v["id"].as_str().unwrap()
        ))
        .json(&json!({ "code": code }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["token"].as_str().unwrap().to_owned()
}

#[test]
fn every_201_survives_kill_9() {
    const N: u64 = 60;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::blocking::Client::new();
    let mut server = start(&data_dir, port);

    let alice = register(&client, &base, &data_dir, "+8613800138000");
    register(&client, &base, &data_dir, "+8613800138001");
    let conv: Value = client
        .post(format!("{base}/v1/conversations"))
        .bearer_auth(&alice)
        .json(&json!({ "kind": "direct", "peer": "+8613800138001" }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let conv = conv["id"].as_str().unwrap().to_owned();
    for i in 1..=N {
        let r = client
            .post(format!("{base}/v1/conversations/{conv}/messages"))
            .bearer_auth(&alice)
            .json(&json!({ "client_id": format!("m{i}"), "kind": "text", "text": format!("message {i}") }))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    // Right after the last 201: no shutdown, no flush, nothing.
    server.kill().unwrap();
    server.wait().unwrap();

    let mut server = start(&data_dir, port);
    let history: Value = client
        .get(format!("{base}/v1/conversations/{conv}/messages?limit=200"))
        .bearer_auth(&alice)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let seqs: Vec<u64> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=N).collect::<Vec<u64>>());
    assert_eq!(history["messages"][59]["text"], "message 60");
    server.kill().unwrap();
    server.wait().unwrap();
}
