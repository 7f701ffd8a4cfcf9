//! The development outbox: each SMS becomes one JSON line in `<data-dir>/sms-outbox.jsonl`,
//! as the API contract describes, so developers and tests can read the codes: the
//! [`OutboxGateway`] writes the file, [`read_outbox`] and [`last_code`] read it back, and
//! [`code_in`] finds the code in a body (of any gateway: the body is the same).

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::{SecondsFormat, Utc};
use dialtone_core::PhoneNumber;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use crate::{SmsError, SmsGateway};

/// The name of the outbox file in the server's data directory.
pub const OUTBOX_FILE: &str = "sms-outbox.jsonl";

/// Appends messages to a JSON-lines file instead of sending them.
pub struct OutboxGateway {
    path: PathBuf,
    /// Serialises appends so lines from concurrent sends never interleave.
    write_lock: Mutex<()>,
}

impl OutboxGateway {
    /// An outbox writing to `path` (created on first send).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            write_lock: Mutex::new(()),
        }
    }

    /// Where the messages go.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// One line of the outbox: one SMS.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutboxSms {
    /// The recipient, E.164 (`+8613800138000`).
    pub to: String,
    /// The text of the SMS.
    pub body: String,
    /// When it was written, RFC 3339 in UTC with milliseconds.
    pub sent_at: String,
}

/// Every SMS in the outbox at `path`, oldest first; none when the file does not exist yet.
/// A last line not yet ended by a newline is still being written and is left out.
pub fn read_outbox(path: &Path) -> std::io::Result<Vec<OutboxSms>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    complete
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: not an outbox line: {e}", path.display()),
                )
            })
        })
        .collect()
}

/// The code of the last SMS to `phone` (E.164) in the outbox at `path`; `None` when no SMS
/// went to that number, or the last one holds no code.
pub fn last_code(path: &Path, phone: &str) -> std::io::Result<Option<String>> {
    Ok(read_outbox(path)?
        .iter()
        .rfind(|sms| sms.to == phone)
        .and_then(|sms| code_in(&sms.body))
        .map(str::to_owned))
}

/// The code at the end of a verification SMS body: the digits after the last `#` of its
/// last line, the domain-bound line `@domain #123456` that WebOTP and iOS read.
pub fn code_in(body: &str) -> Option<&str> {
    let last = body.lines().last()?.trim_end();
    let (_, code) = last.rsplit_once('#')?;
    (!code.is_empty() && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

#[async_trait]
impl SmsGateway for OutboxGateway {
    async fn send(&self, to: &PhoneNumber, body: &str) -> Result<(), SmsError> {
        let line = OutboxSms {
            to: to.as_str().to_owned(),
            body: body.to_owned(),
            sent_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        };
        let mut bytes = serde_json::to_vec(&line).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        let _guard = self.write_lock.lock().await;
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await?;
        file.write_all(&bytes).await?;
        file.flush().await?;
        tracing::info!(outbox = %self.path.display(), "sms written to the development outbox");
        Ok(())
    }

    fn name(&self) -> &'static str {
        "outbox"
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A body as the server composes it (`dialtone_service::verification::sms_text`).
    const EN: &str = "dialtone code: 654321. Valid for 10 minutes. Do not share it.\nFA+9qCX9VSu\n\n@localhost #654321";
    const ZH: &str =
        "【dialtone】验证码 123456，10 分钟内有效，请勿告诉他人。\n\n@chat.example #123456";

    #[test]
    fn the_code_is_read_from_the_webotp_line() {
        assert_eq!(code_in(EN), Some("654321"));
        assert_eq!(code_in(ZH), Some("123456"));
        assert_eq!(code_in("@localhost #042000\r\n"), Some("042000"));
    }

    #[test]
    fn a_body_without_a_code_has_none() {
        assert_eq!(code_in(""), None);
        assert_eq!(code_in("hello"), None);
        assert_eq!(code_in("@localhost #"), None);
        assert_eq!(code_in("@localhost #12a456"), None);
        // Only the last line counts.
        assert_eq!(code_in("@localhost #123456\nsee you"), None);
    }

    #[tokio::test]
    async fn the_last_code_to_a_number_is_read_back_from_what_the_gateway_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sms-outbox.jsonl");
        assert_eq!(read_outbox(&path).unwrap(), Vec::new(), "no file yet");
        assert_eq!(last_code(&path, "+8613800138000").unwrap(), None);
        let outbox = OutboxGateway::new(&path);
        let alice = PhoneNumber::parse_e164("+8613800138000").unwrap();
        let bob = PhoneNumber::parse_e164("+8613800138001").unwrap();
        outbox.send(&alice, ZH).await.unwrap();
        outbox.send(&bob, EN).await.unwrap();
        outbox
            .send(&alice, &ZH.replace("123456", "777777"))
            .await
            .unwrap();
        let sent = read_outbox(&path).unwrap();
        assert_eq!(sent.len(), 3);
        assert_eq!(
            (sent[1].to.as_str(), sent[1].body.as_str()),
            ("+8613800138001", EN)
        );
        assert_eq!(
            last_code(&path, "+8613800138000").unwrap().as_deref(),
            Some("777777")
        );
        assert_eq!(
            last_code(&path, "+8613800138001").unwrap().as_deref(),
            Some("654321")
        );
        assert_eq!(last_code(&path, "+8613800138002").unwrap(), None);
    }

    #[test]
    fn a_line_still_being_written_is_left_out_and_a_broken_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sms-outbox.jsonl");
        let line = r#"{"to":"+8613800138000","body":"@localhost #111111","sent_at":"2025-01-01T00:00:00.000Z"}"#;
        std::fs::write(&path, format!("{line}\n{}", &line[..40])).unwrap();
        assert_eq!(
            last_code(&path, "+8613800138000").unwrap().as_deref(),
            Some("111111")
        );
        std::fs::write(&path, format!("{}\n{line}\n", &line[..40])).unwrap();
        let e = read_outbox(&path).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    }
}
