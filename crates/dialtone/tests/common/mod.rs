//! What the tests of the `dialtone` binary share: `dialtone serve` as a child process
//! (started on a data directory and a port, waited for until it answers, killed on drop),
//! waiting for a condition, and the codes of the development SMS outbox.
//!
//! Each test file is its own crate and uses only part of this: the rest is dead code there.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_dialtone");

/// How long a server may take to answer after it is spawned.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long an SMS may take to reach the outbox.
const SMS_TIMEOUT: Duration = Duration::from_secs(10);

/// Calls `ready` every 20 ms until it says yes; fails the test after `timeout`.
pub fn wait_until(timeout: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether a server on `port` of 127.0.0.1 answers `GET /healthz` with 200. Plain
/// blocking I/O, so that it works from synchronous and asynchronous tests alike.
pub fn answers(port: u16) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    if stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .is_err()
    {
        return false;
    }
    let request =
        format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut status_line = [0u8; 12];
    stream.read_exact(&mut status_line).is_ok() && &status_line == b"HTTP/1.1 200"
}

/// An output's status, stdout and stderr, for assertion messages.
pub fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `dialtone serve` in a child process, killed (and reaped) on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    pub data_dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Server {
    /// A server on `data_dir` and a free port, with the default (SQLite) store.
    pub fn start(data_dir: impl Into<PathBuf>) -> Server {
        Server::start_with(data_dir, free_port(), &[])
    }

    /// A server on `data_dir` and `port`, with `env` set on top of the test's environment
    /// (from which `DIALTONE_DATABASE__URL` is removed: set it in `env` to use one).
    /// Returns once it answers on `/healthz`.
    pub fn start_with(data_dir: impl Into<PathBuf>, port: u16, env: &[(&str, String)]) -> Server {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect();
        let data_dir = data_dir.into();
        let child = spawn(&data_dir, port, &env);
        let mut server = Server {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
            data_dir,
            env,
        };
        server.wait_answers();
        server
    }

    /// `kill -9` (no shutdown, no flush, nothing): the process is gone when this returns.
    pub fn kill_9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// `kill -9`, then the server again on the same data, port and environment.
    pub fn crash_and_restart(&mut self) {
        self.kill_9();
        self.child = spawn(&self.data_dir, self.port, &self.env);
        self.wait_answers();
    }

    fn wait_answers(&mut self) {
        let started = Instant::now();
        while !answers(self.port) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the server on {} exited before it answered: {status}",
                    self.data_dir.display()
                );
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "the server on {} did not answer within {START_TIMEOUT:?}",
                self.data_dir.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `dialtone <args>` as a client of this server, with its configuration (session) in
    /// `config_dir`; stdin, stdout and stderr piped.
    pub fn client(&self, config_dir: &Path, args: &[&str]) -> Child {
        Command::new(BIN)
            .args(args)
            .env("DIALTONE_SERVER", &self.url)
            .env("DIALTONE_CONFIG_DIR", config_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The development SMS outbox of the server.
    pub fn outbox(&self) -> PathBuf {
        outbox_of(&self.data_dir)
    }

    /// The code of the last SMS to `phone`, which must be in the outbox already.
    pub fn last_code(&self, phone: &str) -> String {
        dialtone_sms::last_code(&self.outbox(), phone)
            .unwrap()
            .unwrap_or_else(|| panic!("no code sent to {phone}"))
    }

    /// Waits until the outbox holds an SMS for `phone` beyond the first `seen`; the code
    /// of the last one.
    pub fn wait_code(&self, phone: &str, seen: usize) -> String {
        let path = self.outbox();
        let mut code = None;
        wait_until(SMS_TIMEOUT, || {
            let sent = dialtone_sms::read_outbox(&path).unwrap();
            let mine: Vec<_> = sent.iter().filter(|sms| sms.to == phone).collect();
            match mine.last() {
                Some(last) if mine.len() > seen => {
                    let body = &last.body;
                    let found = dialtone_sms::code_in(body)
                        .unwrap_or_else(|| panic!("no code in the SMS to {phone}: {body}"));
                    code = Some(found.to_owned());
                    true
                }
                _ => false,
            }
        });
        code.unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a server on `data_dir` writes its SMS.
pub fn outbox_of(data_dir: &Path) -> PathBuf {
    data_dir.join(dialtone_sms::OUTBOX_FILE)
}

fn spawn(data_dir: &Path, port: u16, env: &[(String, String)]) -> Child {
    let mut command = Command::new(BIN);
    command
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("DIALTONE_DATABASE__URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().unwrap()
}
