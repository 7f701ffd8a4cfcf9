//! What a push carries to the service worker (JSON, encrypted for the device): enough to
//! show, group, silence or close a notification without asking the server, and nothing
//! the user's settings or the privacy policy keep back.

use dialtone_core::MessageKind;
use dialtone_protocol::{CallMedia, CallOutcome, Message};
use serde::Serialize;

/// Characters of a message's text a notification previews.
pub const PREVIEW_CHARS: usize = 140;

/// One push's content (`type` tells which).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PushPayload {
    /// New messages in a conversation (the latest one, and how many this push stands for).
    Message(MessagePush),
    /// A call rings.
    Call(CallPush),
    /// A call that rang stopped ringing (answered on another device, cancelled).
    CallEnded {
        /// The call.
        call_id: String,
        /// Its conversation.
        conversation_id: String,
    },
    /// The user read a conversation on another device: its notifications go.
    Read {
        /// The conversation.
        conversation_id: String,
        /// Read up to this seq.
        seq: u64,
        /// The badge's count now.
        unread: u64,
    },
}

/// New messages in one conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessagePush {
    /// The conversation to open on click (and the notification's tag).
    pub conversation_id: String,
    /// The latest message's seq.
    pub seq: u64,
    /// The group's name (groups only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The sender's number (not for a hidden contact unless allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// The sender as the user knows them: their name in the user's book, else the number
    /// written for people (not for a hidden contact unless allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the message is (`text`, `image`, ..., `call` for a missed call).
    pub kind: MessageKind,
    /// The start of its text (previews on, and not a hidden contact unless allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// For a missed call: voice or video.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<CallMedia>,
    /// Messages of this conversation this push stands for (a burst is one push).
    pub count: u32,
    /// The badge's count (unread messages in conversations not muted).
    pub unread: u64,
    /// Quiet hours: show it without sound or vibration.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
}

/// A ringing call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallPush {
    /// The call.
    pub call_id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// Voice or video.
    pub media: CallMedia,
    /// The caller's number (not for a hidden contact unless allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// The caller as the user knows them (same rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Quiet hours: show it without sound.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
}

/// What a notification may say of its sender, per the user's settings and book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// Number and name may be shown.
    pub who: bool,
    /// The text may be shown.
    pub text: bool,
}

/// Whether a message is worth a notification: people's messages and missed calls, not
/// the server's lines of group changes nor answered calls.
pub fn notifies(message: &Message) -> bool {
    match message.kind {
        MessageKind::System => false,
        MessageKind::Call => message
            .call
            .as_ref()
            .is_some_and(|c| c.outcome == CallOutcome::Missed),
        _ => !message.deleted,
    }
}

/// The start of a text, cut at a character boundary, with `…` when cut.
pub fn preview(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(PREVIEW_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

impl MessagePush {
    /// The push of `message` for one user: `name` as they know the sender, `shown` what
    /// may be said.
    pub fn of(
        message: &Message,
        group: Option<String>,
        name: String,
        shown: &Shown,
        unread: u64,
        silent: bool,
    ) -> Self {
        let text = match message.kind {
            MessageKind::Text | MessageKind::Image | MessageKind::Video | MessageKind::File => {
                message.text.as_deref().filter(|t| !t.is_empty())
            }
            _ => None,
        };
        Self {
            conversation_id: message.conversation_id.clone(),
            seq: message.seq,
            group,
            sender: shown.who.then(|| message.sender.clone()),
            name: shown.who.then_some(name),
            kind: message.kind,
            text: if shown.text { text.map(preview) } else { None },
            media: message.call.as_ref().map(|c| c.media),
            count: 1,
            unread,
            silent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: MessageKind, text: &str) -> Message {
        Message {
            id: "m".into(),
            conversation_id: "c".into(),
            seq: 7,
            sender: "+8613800138000".into(),
            client_id: "k".into(),
            kind,
            text: Some(text.into()),
            attachment: None,
            reply_to: None,
            sent_at: "2026-12-08T00:00:00Z".into(),
            edited_at: None,
            deleted: false,
            system: None,
            call: None,
        }
    }

    #[test]
    fn previews_are_cut_at_a_character_boundary() {
        assert_eq!(preview("short"), "short");
        let long = "好".repeat(PREVIEW_CHARS + 5);
        let cut = preview(&long);
        assert_eq!(cut.chars().count(), PREVIEW_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn what_is_hidden_is_not_in_the_payload() {
        let m = message(MessageKind::Text, "the secret");
        let all = Shown {
            who: true,
            text: true,
        };
        let json = serde_json::to_string(&PushPayload::Message(MessagePush::of(
            &m,
            None,
            "Li Lei".into(),
            &all,
            3,
            false,
        )))
        .unwrap_or_default();
        assert!(json.contains("the secret") && json.contains("Li Lei") && json.contains("+86"));
        let none = Shown {
            who: false,
            text: false,
        };
        let json = serde_json::to_string(&PushPayload::Message(MessagePush::of(
            &m,
            None,
            "Li Lei".into(),
            &none,
            3,
            false,
        )))
        .unwrap_or_default();
        assert!(!json.contains("secret") && !json.contains("Li Lei") && !json.contains("+86"));
        assert!(json.contains(r#""type":"message""#), "{json}");
    }

    #[test]
    fn a_sticker_shows_no_text_and_system_lines_do_not_notify() {
        let sticker = message(MessageKind::Sticker, "sticker-id");
        let all = Shown {
            who: true,
            text: true,
        };
        assert_eq!(
            MessagePush::of(&sticker, None, "x".into(), &all, 0, false).text,
            None
        );
        assert!(!notifies(&message(MessageKind::System, "")));
        assert!(notifies(&sticker));
    }
}
