//! The `dialtone` binary as a user runs it: `dialtone serve` in one process, the client
//! commands in others, talking over HTTP only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{BIN, Server, free_port, text, wait_until};

fn cli(server: &Server, config_dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = server.client(config_dir, args);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn register_login_devices_logout_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path().join("data"));
    let phone_cfg = dir.path().join("phone");
    let laptop_cfg = dir.path().join("laptop");
    let alice = "+8613800138000";

    // Register: the code arrives by SMS (the outbox) while the CLI waits for it.
    let mut register = server.client(
        &phone_cfg,
        &[
            "register",
            "--phone",
            "138 0013 8000",
            "--device-name",
            "cli phone",
        ],
    );
    let code = server.wait_code(alice, 0);
    let mut stdin = register.stdin.take().unwrap();
    writeln!(stdin, "{code}").unwrap();
    writeln!(stdin, "a good password").unwrap();
    drop(stdin);
    let out = register.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Welcome to dialtone, +8613800138000"),
        "{}",
        text(&out)
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(phone_cfg.join("session.json")).unwrap())
            .unwrap();
    assert_eq!(saved["phone"], alice);

    let out = cli(&server, &phone_cfg, &["account"], "");
    assert!(out.status.success(), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        shown.contains(alice) && shown.contains("password set:      true"),
        "{shown}"
    );

    // Log in from a second device with the password.
    let out = cli(
        &server,
        &laptop_cfg,
        &["login", "--phone", alice, "--password-stdin"],
        "a good password\n",
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = cli(
        &server,
        &laptop_cfg,
        &["login", "--phone", alice, "--password-stdin"],
        "wrong password\n",
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wrong phone number or password"),
        "{}",
        text(&out)
    );

    // The laptop lists both devices and revokes the phone.
    let out = cli(&server, &laptop_cfg, &["devices"], "");
    assert!(out.status.success(), "{}", text(&out));
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    let rows: Vec<&str> = listing.lines().skip(1).collect();
    assert_eq!(
        rows.len(),
        2,
        "phone and laptop; the failed login made none: {listing}"
    );
    let phone_row = rows.iter().find(|r| r.contains("cli phone")).unwrap();
    assert!(!phone_row.contains("(this device)"));
    let phone_id = phone_row.split_whitespace().next().unwrap();
    let out = cli(&server, &laptop_cfg, &["devices", "revoke", phone_id], "");
    assert!(out.status.success(), "{}", text(&out));
    let out = cli(&server, &phone_cfg, &["account"], "");
    assert!(
        !out.status.success(),
        "the revoked phone is out: {}",
        text(&out)
    );

    // Log out: the token is gone from the server and from the disk.
    let out = cli(&server, &laptop_cfg, &["logout"], "");
    assert!(out.status.success(), "{}", text(&out));
    assert!(!laptop_cfg.join("session.json").exists());
    let out = cli(&server, &laptop_cfg, &["devices"], "");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not logged in"),
        "{}",
        text(&out)
    );
}

#[test]
fn forgotten_password_is_replaced_with_a_code_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path().join("data"));
    let cfg = dir.path().join("cfg");
    let bob = "+8613900139000";
    for (round, password) in [(0, "first password"), (1, "second password")] {
        let mut register = server.client(&cfg, &["register", "--phone", bob]);
        let code = server.wait_code(bob, round);
        let mut stdin = register.stdin.take().unwrap();
        writeln!(stdin, "{code}\n{password}").unwrap();
        drop(stdin);
        let out = register.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    let login = |password: &str| {
        cli(
            &server,
            &cfg,
            &["login", "--phone", bob, "--password-stdin"],
            &format!("{password}\n"),
        )
    };
    assert!(!login("first password").status.success());
    assert!(login("second password").status.success());
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path().join("data"));
    let pid = server.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let mut exit = None;
    wait_until(Duration::from_secs(10), || {
        exit = server.child.try_wait().unwrap();
        exit.is_some()
    });
    assert!(exit.unwrap().success(), "exit status {exit:?}");
    assert!(server.data_dir.join("dialtone.db").exists());
    assert!(server.data_dir.join("secret.key").exists());
}

#[test]
fn the_example_config_is_generated_from_the_config_type() {
    let out = Command::new(BIN).arg("config").output().unwrap();
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).unwrap();
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../dialtone.example.toml"
    ))
    .unwrap();
    assert_eq!(
        generated, committed,
        "regenerate with `cargo run -p dialtone -- config > dialtone.example.toml`"
    );
}

#[test]
fn serve_reads_a_toml_file_and_environment_variables() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("dialtone.toml");
    std::fs::write(
        &config,
        format!("listen = \"127.0.0.1:{port}\"\ndomain = \"from-file.example\"\n[accounts]\npassword_min_chars = 12\n"),
    )
    .unwrap();
    let data_dir = dir.path().join("env-data");
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&config)
        .env("DIALTONE_DATA_DIR", &data_dir)
        .env("DIALTONE_REGION", "GB")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(Duration::from_secs(20), || common::answers(port));
    // A national British number is read in the region from the environment.
    let body = serde_json::json!({ "phone": "07911 123456" });
    let response = http::blocking_post(port, &body);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(response["phone"], "+447911123456", "{response}");
    let outbox = std::fs::read_to_string(common::outbox_of(&data_dir)).unwrap();
    assert!(outbox.contains("@from-file.example #"), "{outbox}");

    // A missing config file is a clear error.
    let out = Command::new(BIN)
        .args(["serve", "--config", "/nonexistent/dialtone.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

mod http {
    /// A POST of JSON to the local server from a synchronous test.
    pub fn blocking_post(port: u16, body: &serde_json::Value) -> serde_json::Value {
        let rt = tokio_runtime();
        rt.block_on(async {
            ::reqwest::Client::new()
                .post(format!("http://127.0.0.1:{port}/v1/verifications"))
                .json(body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    }

    fn tokio_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }
}
