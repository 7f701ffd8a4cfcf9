//! The client's messaging and realtime calls against a real server: started in this
//! process on port 0 with a fresh data directory, users registered by the code from the
//! development SMS outbox, exactly as any client does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use dialtone_client::{
    Client, ClientError, HistoryPage, LiveConnection, LiveOptions, MessageKind, NewMessage,
    ServerFrame,
};
use dialtone_server::{Config, Running};

const ALICE: &str = "+8613800138000";
const BOB: &str = "+8613800138001";
const CAROL: &str = "+8613800138002";
const NOBODY: &str = "+8613800138099";

/// Longest wait for a frame.
const FRAME_WAIT: Duration = Duration::from_secs(10);

struct Server {
    running: Option<Running>,
    base: String,
    outbox: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        let outbox = config.outbox_path();
        let running = Running::start(config).await.unwrap();
        Server {
            base: format!("http://{}", running.addr),
            running: Some(running),
            outbox,
            _dir: dir,
        }
    }

    async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.unwrap();
        }
    }

    /// The code of the last SMS to `phone`.
    fn last_code(&self, phone: &str) -> String {
        dialtone_sms::last_code(&self.outbox, phone)
            .unwrap()
            .unwrap_or_else(|| panic!("no SMS to {phone}"))
    }

    /// Registers `phone` by code; a client logged in as it.
    async fn user(&self, phone: &str) -> Client {
        let client = Client::new(&self.base);
        let verification = client.start_verification(phone, None).await.unwrap();
        let code = self.last_code(phone);
        let login = client
            .submit_code(&verification.id, &code, Some("client test"), None)
            .await
            .unwrap();
        assert_eq!(login.phone, phone);
        client.with_token(login.token)
    }
}

/// Reads frames until `pick` takes one (others, such as presence, are skipped).
async fn wait_for<T>(
    live: &mut LiveConnection,
    mut pick: impl FnMut(ServerFrame) -> Option<T>,
) -> T {
    tokio::time::timeout(FRAME_WAIT, async {
        loop {
            if let Some(found) = pick(live.recv().await.unwrap()) {
                return found;
            }
        }
    })
    .await
    .expect("the frame did not come")
}

fn api_code(e: ClientError) -> (u16, String) {
    match e {
        ClientError::Api { status, code, .. } => (status, code),
        other => panic!("not an API error: {other:?}"),
    }
}

#[tokio::test]
async fn direct_conversation_live_delivery_acks_reads_and_history() {
    let server = Server::start().await;
    let (alice, bob) = (server.user(ALICE).await, server.user(BOB).await);

    // One direct conversation per pair: created once, found from either side.
    let posted = alice.create_direct(BOB).await.unwrap();
    assert!(posted.created);
    let conv = posted.value;
    assert_eq!(conv.kind, "direct");
    let mut members = conv.members.clone();
    members.sort();
    assert_eq!(members, [ALICE, BOB]);
    let again = bob.create_direct(ALICE).await.unwrap();
    assert_eq!(
        (again.created, again.value.id.as_str()),
        (false, conv.id.as_str())
    );
    assert_eq!(alice.conversation(&conv.id).await.unwrap().id, conv.id);

    let mut bob_live = bob.connect_live().await.unwrap();
    let mut alice_live = alice.connect_live().await.unwrap();
    assert!(alice_live.ready().iter().all(|p| p.phone != ALICE));

    // Sent over HTTP, received over the WebSocket; a retry is the same message.
    let hello = NewMessage::text("c-1", "你好 👋");
    let sent = alice.send_message(&conv.id, &hello).await.unwrap();
    assert!(sent.created);
    let first = sent.value;
    assert_eq!(
        (first.seq, first.sender.as_str(), first.kind.as_str()),
        (1, ALICE, "text")
    );
    let retry = alice.send_message(&conv.id, &hello).await.unwrap();
    assert_eq!(
        (retry.created, retry.value.id.as_str()),
        (false, first.id.as_str())
    );
    let got = wait_for(&mut bob_live, |f| match f {
        ServerFrame::Message { message } => Some(message),
        _ => None,
    })
    .await;
    assert_eq!(got, first);

    // Bob's ack makes a delivered receipt, his read mark a read receipt.
    bob_live.ack(&conv.id, 1).await.unwrap();
    let receipt = wait_for(&mut alice_live, |f| match f {
        ServerFrame::Receipt(r) => Some(r),
        _ => None,
    })
    .await;
    assert_eq!(
        (
            receipt.phone.as_str(),
            receipt.seq,
            receipt.status.as_str(),
            receipt.conversation_id.as_str()
        ),
        (BOB, 1, "delivered", conv.id.as_str())
    );
    assert_eq!(bob.conversations().await.unwrap()[0].unread, 1);
    bob.mark_read(&conv.id, 1).await.unwrap();
    let receipt = wait_for(&mut alice_live, |f| match f {
        ServerFrame::Receipt(r) => Some(r),
        _ => None,
    })
    .await;
    assert_eq!(receipt.status, "read");
    let listed = bob.conversations().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].unread, 0);
    assert_eq!(
        listed[0].last_message.as_ref().map(|m| m.id.as_str()),
        Some(first.id.as_str())
    );

    // Typing and the application-level ping.
    bob_live.typing(&conv.id).await.unwrap();
    let typist = wait_for(&mut alice_live, |f| match f {
        ServerFrame::Typing { phone, .. } => Some(phone),
        _ => None,
    })
    .await;
    assert_eq!(typist, BOB);
    bob_live.ping().await.unwrap();
    wait_for(&mut bob_live, |f| (f == ServerFrame::Pong).then_some(())).await;
    // A frame the server cannot handle gets an error frame; the connection lives on.
    bob_live.ack("no-such-conversation", 1).await.unwrap();
    let code = wait_for(&mut bob_live, |f| match f {
        ServerFrame::Error { code, .. } => Some(code),
        _ => None,
    })
    .await;
    assert_eq!(code, "conversation_not_found");
    bob_live.ping().await.unwrap();
    let raw = tokio::time::timeout(FRAME_WAIT, bob_live.recv_value())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raw["type"], "pong");

    // A reply and a sticker, then history paged both ways.
    let reply = bob
        .send_message(
            &conv.id,
            &NewMessage::text("b-2", "hi!").reply_to(&first.id),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(reply.reply_to.as_deref(), Some(first.id.as_str()));
    let sticker = bob
        .send_message(&conv.id, &NewMessage::sticker("b-3", "basic/smile"))
        .await
        .unwrap()
        .value;
    assert_eq!(
        (sticker.kind.as_str(), sticker.text.as_deref()),
        ("sticker", Some("basic/smile"))
    );
    for i in 4..=5 {
        let m = NewMessage::text(format!("b-{i}"), format!("message {i}"));
        bob.send_message(&conv.id, &m).await.unwrap();
    }
    let seqs = |page: Vec<dialtone_client::Message>| page.iter().map(|m| m.seq).collect::<Vec<_>>();
    let all = alice
        .history(&conv.id, &HistoryPage::default())
        .await
        .unwrap();
    assert_eq!(seqs(all), [1, 2, 3, 4, 5]);
    let back = alice
        .history(&conv.id, &HistoryPage::before(5).limit(2))
        .await
        .unwrap();
    assert_eq!(seqs(back), [3, 4]);
    let forward = alice
        .history(&conv.id, &HistoryPage::after(3))
        .await
        .unwrap();
    assert_eq!(seqs(forward), [4, 5]);

    // Alice's socket got Bob's messages too, in order.
    let mut seen = Vec::new();
    while seen.last() != Some(&5) {
        let seq = wait_for(&mut alice_live, |f| match f {
            ServerFrame::Message { message } if message.sender == BOB => Some(message.seq),
            _ => None,
        })
        .await;
        seen.push(seq);
    }
    assert_eq!(seen, [2, 3, 4, 5]);

    bob_live.close().await.unwrap();
    alice_live.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn groups_members_and_attachments() {
    let server = Server::start().await;
    let (alice, bob, carol) = (
        server.user(ALICE).await,
        server.user(BOB).await,
        server.user(CAROL).await,
    );

    let group = alice.create_group("家人", &[BOB]).await.unwrap();
    assert_eq!(
        (group.kind.as_str(), group.name.as_deref()),
        ("group", Some("家人"))
    );
    assert_eq!(group.admins, [ALICE]);
    let mut members = group.members.clone();
    members.sort();
    assert_eq!(members, [ALICE, BOB]);
    let group = alice
        .add_members(&group.id, &[CAROL.to_owned()])
        .await
        .unwrap();
    assert_eq!(group.members.len(), 3);
    let mut carol_live = carol.connect_live().await.unwrap();

    // An upload, sent as a file message with a caption, fetched by another member.
    let bytes = b"minutes of the family meeting\n".to_vec();
    let attachment = alice
        .upload_attachment(Some("minutes 1.txt"), "text/plain", bytes.clone())
        .await
        .unwrap();
    assert_eq!(attachment.size, bytes.len() as u64);
    assert_eq!(attachment.filename.as_deref(), Some("minutes 1.txt"));
    assert!(
        attachment.sha256.len() == 64
            && attachment
                .sha256
                .chars()
                .all(|c| matches!(c, '0'..='9' | 'a'..='f')),
        "{}",
        attachment.sha256
    );
    let note = NewMessage::attachment("f-1", MessageKind::File, &attachment.id).caption("notes");
    let sent = alice.send_message(&group.id, &note).await.unwrap().value;
    assert_eq!(
        (
            sent.kind.as_str(),
            sent.attachment.as_deref(),
            sent.text.as_deref()
        ),
        ("file", Some(attachment.id.as_str()), Some("notes"))
    );
    let got = wait_for(&mut carol_live, |f| match f {
        ServerFrame::Message { message } if message.kind == "file" => Some(message),
        _ => None,
    })
    .await;
    assert_eq!(got.attachment.as_deref(), Some(attachment.id.as_str()));
    let download = carol.download_attachment(&attachment.id).await.unwrap();
    assert_eq!(download.bytes, bytes);
    assert!(download.content_type.is_some());

    // Removing a member.
    alice.remove_member(&group.id, CAROL).await.unwrap();
    let group = bob.conversation(&group.id).await.unwrap();
    let mut members = group.members.clone();
    members.sort();
    assert_eq!(members, [ALICE, BOB]);
    // Only admins add members.
    let (status, code) = api_code(bob.add_members(&group.id, &[CAROL]).await.unwrap_err());
    assert_eq!((status, code.as_str()), (403, "not_admin"));

    carol_live.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn api_errors_surface_with_their_codes() {
    let server = Server::start().await;
    let alice = server.user(ALICE).await;

    let e = alice
        .conversation("no-such-conversation")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("conversation_not_found"));
    assert_eq!(api_code(e), (404, "conversation_not_found".to_owned()));
    let (status, code) = api_code(alice.create_direct(NOBODY).await.unwrap_err());
    assert_eq!((status, code.as_str()), (404, "user_not_found"));
    let conv = server
        .user(BOB)
        .await
        .create_direct(ALICE)
        .await
        .unwrap()
        .value;
    let (status, code) = api_code(
        alice
            .send_message(&conv.id, &NewMessage::text("empty", "  "))
            .await
            .unwrap_err(),
    );
    assert_eq!((status, code.as_str()), (400, "invalid_input"));
    let (status, code) = api_code(alice.download_attachment("nope").await.unwrap_err());
    assert_eq!((status, code.as_str()), (404, "attachment_not_found"));

    // No token, or a bad one: 401 over HTTP and on the WebSocket handshake alike.
    let anonymous = Client::new(&server.base);
    let (status, code) = api_code(anonymous.conversations().await.unwrap_err());
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    let (status, code) = api_code(
        Client::new(&server.base)
            .with_token("not-a-token")
            .connect_live()
            .await
            .unwrap_err(),
    );
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    server.stop().await;
}

#[tokio::test]
async fn messages_sent_over_the_live_connection() {
    let server = Server::start().await;
    let alice = server.user(ALICE).await;
    let bob = server.user(BOB).await;
    let conv = alice.create_direct(BOB).await.unwrap().value;
    let mut alice_live = alice.connect_live().await.unwrap();
    let mut bob_live = bob.connect_live().await.unwrap();

    alice_live
        .send_message(&conv.id, &NewMessage::text("s-1", "over the socket"))
        .await
        .unwrap();
    alice_live
        .send_message(&conv.id, &NewMessage::sticker("s-2", "basic/smile"))
        .await
        .unwrap();
    for (client_id, seq, kind) in [("s-1", 1, "text"), ("s-2", 2, "sticker")] {
        let (id, created, message) = wait_for(&mut alice_live, |f| match f {
            ServerFrame::Sent {
                client_id,
                created,
                message,
            } => Some((client_id, created, message)),
            _ => None,
        })
        .await;
        assert_eq!(
            (id.as_str(), created, message.seq, message.kind.as_str()),
            (client_id, true, seq, kind)
        );
        let got = wait_for(&mut bob_live, |f| match f {
            ServerFrame::Message { message } => Some(message),
            _ => None,
        })
        .await;
        assert_eq!((got.seq, got.sender.as_str()), (seq, ALICE));
    }

    // A failed send names its client_id, with the HTTP API's code.
    bob_live
        .send_message("no-such-conversation", &NewMessage::text("b-1", "hello?"))
        .await
        .unwrap();
    let (code, client_id) = wait_for(&mut bob_live, |f| match f {
        ServerFrame::Error {
            code, client_id, ..
        } => Some((code, client_id)),
        _ => None,
    })
    .await;
    assert_eq!(
        (code.as_str(), client_id.as_deref()),
        ("conversation_not_found", Some("b-1"))
    );
    server.stop().await;
}

/// A device back after a while asks to be told when its catch-up is done: what it missed
/// comes in seq order, then `caught_up`; acknowledged, nothing is caught up on next time.
#[tokio::test]
async fn catch_up_ends_with_caught_up_when_asked() {
    let server = Server::start().await;
    let (alice, bob) = (server.user(ALICE).await, server.user(BOB).await);
    let conv = alice.create_direct(BOB).await.unwrap().value;
    for n in 1..=3 {
        alice
            .send_message(&conv.id, &NewMessage::text(format!("m{n}"), "while away"))
            .await
            .unwrap();
    }
    let options = LiveOptions {
        report_caught_up: true,
        ..LiveOptions::default()
    };
    let mut live = bob.connect_live_with(&options).await.unwrap();
    assert!(live.catching_up());
    let mut seqs = Vec::new();
    wait_for(&mut live, |frame| match frame {
        ServerFrame::Message { message } => {
            seqs.push(message.seq);
            None
        }
        ServerFrame::CaughtUp => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(seqs, [1, 2, 3]);
    live.ack(&conv.id, 3).await.unwrap();
    live.close().await.unwrap();

    let mut again = bob.connect_live_with(&options).await.unwrap();
    assert!(!again.catching_up());
    again.ping().await.unwrap();
    wait_for(&mut again, |frame| match frame {
        ServerFrame::Pong => Some(()),
        ServerFrame::Message { .. } | ServerFrame::CaughtUp => panic!("{frame:?}"),
        _ => None,
    })
    .await;
    server.stop().await;
}
