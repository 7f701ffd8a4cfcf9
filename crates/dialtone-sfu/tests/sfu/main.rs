//! The SFU with real peers: str0m `Rtc`s acting as browsers over UDP on 127.0.0.1, joining
//! through the SFU's API, answering its offers, and counting the media that reaches them.

mod harness;
mod peers;
mod simulcast;

use std::time::Instant;

use anyhow::{Context, Result};
use dialtone_sfu::{Layer, MAX_PARTICIPANTS, MAX_SDP_BYTES, MAX_VIDEO_PUBLISHERS, SfuEvent};
use str0m::media::{Direction, MediaKind};
use str0m::{Candidate, Rtc};

use dialtone_sfu::testing::{Received, TestPeer};
use harness::{Harness, wait_for};

/// Waits until `client` has `more` video packets from `publisher` beyond `from`.
async fn more_video(client: &TestPeer, publisher: &str, from: Received, more: u64) -> Result<()> {
    wait_for(|| client.received_from(publisher).video_packets >= from.video_packets + more)
        .await
        .with_context(|| format!("video from {publisher}: {:?}", client.received()))
}

/// Waits until `client` has audio and video from `publisher`.
async fn receives_both(client: &TestPeer, publisher: &str, packets: u64) -> Result<()> {
    wait_for(|| {
        let r = client.received_from(publisher);
        r.audio_packets >= packets && r.video_packets >= packets
    })
    .await
    .with_context(|| format!("audio and video from {publisher}: {:?}", client.received()))
}

/// An SDP offer as a browser makes it, from a peer that never connects.
fn offer(audio: bool, video: bool) -> Result<String> {
    let mut rtc = Rtc::builder().build(Instant::now());
    rtc.add_local_candidate(Candidate::host("127.0.0.1:9".parse()?, "udp")?);
    let mut change = rtc.sdp_api();
    if audio {
        change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
    }
    if video {
        change.add_media(MediaKind::Video, Direction::SendRecv, None, None, None);
    }
    let (offer, _pending) = change.apply().context("an offer")?;
    Ok(offer.to_sdp_string())
}

#[tokio::test]
async fn two_members_receive_each_others_audio_and_video() -> Result<()> {
    let h = Harness::start().await?;
    let alice = h.join("room1", "alice").await?;
    let bob = h.join("room1", "bob").await?;
    receives_both(&alice, "bob", 20).await?;
    receives_both(&bob, "alice", 20).await?;

    let before = alice.received_from("bob");
    receives_both(
        &alice,
        "bob",
        before.audio_packets.max(before.video_packets) + 10,
    )
    .await?;
    let after = alice.received_from("bob");
    assert!(after.audio_bytes > before.audio_bytes && after.video_bytes > before.video_bytes);

    let stats = h.sfu.stats().await;
    assert_eq!((stats.rooms, stats.participants), (1, 2));
    assert!(
        stats.audio_forwarded >= 40 && stats.video_forwarded >= 40,
        "{stats:?}"
    );
    assert!(stats.bytes_forwarded >= 40 * 900, "{stats:?}");
    h.sfu.stop().await;
    Ok(())
}

#[tokio::test]
async fn three_members_receive_the_two_others_until_one_leaves() -> Result<()> {
    let h = Harness::start().await?;
    let alice = h.join("room3", "alice").await?;
    let bob = h.join("room3", "bob").await?;
    let carol = h.join("room3", "carol").await?;
    for (c, publishers) in [
        (&alice, ["bob", "carol"]),
        (&bob, ["alice", "carol"]),
        (&carol, ["alice", "bob"]),
    ] {
        for p in publishers {
            receives_both(c, p, 10).await?;
        }
    }

    h.sfu.leave("room3", "carol").await;
    // Let what was already on its way arrive (retransmissions too, on a loaded machine): a
    // second of bob's and alice's frames.
    more_video(&alice, "bob", alice.received_from("bob"), 50).await?;
    more_video(&bob, "alice", bob.received_from("alice"), 50).await?;
    let carol_at_alice = alice.received_from("carol");
    let carol_at_bob = bob.received_from("carol");
    more_video(&alice, "bob", alice.received_from("bob"), 25).await?;
    more_video(&bob, "alice", bob.received_from("alice"), 25).await?;
    assert_eq!(alice.received_from("carol"), carol_at_alice, "carol left");
    assert_eq!(bob.received_from("carol"), carol_at_bob, "carol left");
    wait_for(|| carol.closed())
        .await
        .context("carol's connection closed")?;

    let stats = h.sfu.stats().await;
    assert_eq!((stats.rooms, stats.participants), (1, 2));
    h.sfu.stop().await;
    Ok(())
}

#[tokio::test]
async fn muted_audio_stops_arriving_while_video_goes_on() -> Result<()> {
    let h = Harness::start().await?;
    let alice = h.join("room4", "alice").await?;
    let bob = h.join("room4", "bob").await?;
    receives_both(&alice, "bob", 10).await?;

    h.sfu.set_media("room4", "bob", false, true).await?;
    more_video(&alice, "bob", alice.received_from("bob"), 10).await?;
    let muted = alice.received_from("bob");
    more_video(&alice, "bob", muted, 25).await?;
    let later = alice.received_from("bob");
    assert_eq!(
        later.audio_packets, muted.audio_packets,
        "no audio while muted"
    );
    assert!(later.video_packets >= muted.video_packets + 25);
    // Bob still hears alice: muting is about what bob sends.
    let from_alice = bob.received_from("alice");
    receives_both(&bob, "alice", from_alice.audio_packets + 10).await?;

    h.sfu.set_media("room4", "bob", true, true).await?;
    receives_both(&alice, "bob", later.audio_packets + 10).await?;
    h.sfu.stop().await;
    Ok(())
}

/// The code of a call's error, if it failed.
fn code<T>(r: Result<T, dialtone_sfu::SfuError>) -> Option<&'static str> {
    r.err().map(|e| e.code())
}

#[tokio::test]
async fn garbage_is_refused_with_codes_and_the_room_goes_on() -> Result<()> {
    let h = Harness::start().await?;
    let sfu = &h.sfu;

    assert_eq!(code(sfu.join("g", "x", "hello").await), Some("invalid_sdp"));
    assert_eq!(code(sfu.join("g", "x", "").await), Some("invalid_sdp"));
    let huge = format!("v=0\r\n{}", "a=x\r\n".repeat(MAX_SDP_BYTES / 5));
    assert_eq!(code(sfu.join("g", "x", &huge).await), Some("invalid_sdp"));
    let binary = String::from_utf8_lossy(&[0xff, 0x00, 0x13, 0x37, b'\n', b'm', b'=']).into_owned();
    assert_eq!(code(sfu.join("g", "x", &binary).await), Some("invalid_sdp"));
    assert_eq!(
        code(sfu.join("g", "a b", &offer(true, true)?).await),
        Some("invalid_name")
    );
    assert_eq!(
        code(sfu.join("", "x", &offer(true, true)?).await),
        Some("invalid_name")
    );
    // A failed join leaves nothing behind.
    assert_eq!(sfu.stats().await.rooms, 0);

    let alice = h.join("g", "alice").await?;
    assert_eq!(
        code(sfu.join("g", "alice", &offer(true, true)?).await),
        Some("already_joined")
    );
    let answer = offer(true, false)?;
    assert_eq!(
        code(sfu.answer("g", "nobody", &answer).await),
        Some("not_in_room")
    );
    assert_eq!(
        code(sfu.answer("nowhere", "alice", &answer).await),
        Some("not_in_room")
    );
    assert_eq!(
        code(sfu.answer("g", "alice", "garbage").await),
        Some("invalid_sdp")
    );
    assert_eq!(
        code(sfu.answer("g", "alice", &answer).await),
        Some("no_pending_offer")
    );
    assert_eq!(
        code(sfu.set_media("nowhere", "alice", false, false).await),
        Some("not_in_room")
    );
    assert_eq!(
        code(sfu.prefer_layer("g", "alice", "nobody", Layer::Low).await),
        Some("not_in_room")
    );
    sfu.leave("nowhere", "alice").await;
    sfu.leave("g", "nobody").await;

    let bob = h.join("g", "bob").await?;
    receives_both(&alice, "bob", 10).await?;
    receives_both(&bob, "alice", 10).await?;
    sfu.prefer_layer("g", "alice", "bob", Layer::Low).await?;
    receives_both(&alice, "bob", alice.received_from("bob").video_packets + 10).await?;
    h.sfu.stop().await;
    Ok(())
}

#[tokio::test]
async fn speaking_reports_the_member_with_a_loud_audio_level() -> Result<()> {
    let mut h = Harness::start().await?;
    let _alice = h.join("room5", "alice").await?;
    let bob = h.join("room5", "bob").await?;
    bob.set_audio_level(-12).await?;
    let event = h
        .event(|e| {
            matches!(e, SfuEvent::Speaking { room, levels }
                if room == "room5" && levels.first().is_some_and(|(p, _)| p == "bob"))
        })
        .await?;
    let SfuEvent::Speaking { levels, .. } = event else {
        unreachable!("matched above");
    };
    assert_eq!(levels, vec![("bob".to_owned(), 12)], "alice is silent");

    bob.set_audio_level(-127).await?;
    h.event(|e| matches!(e, SfuEvent::Speaking { levels, .. } if levels.is_empty()))
        .await
        .context("bob fell silent")?;
    h.sfu.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_room_takes_16_cameras_and_50_members() -> Result<()> {
    let h = Harness::start().await?;
    let sfu = &h.sfu;
    for i in 0..MAX_VIDEO_PUBLISHERS {
        sfu.join("big", &format!("cam{i}"), &offer(true, true)?)
            .await?;
    }
    let refused = sfu.join("big", "cam16", &offer(true, true)?).await;
    assert_eq!(refused.err().map(|e| e.code()), Some("video_full"));
    // The same member joins audio-only.
    sfu.join("big", "cam16", &offer(true, false)?).await?;
    for i in MAX_VIDEO_PUBLISHERS + 1..MAX_PARTICIPANTS {
        sfu.join("big", &format!("mic{i}"), &offer(true, false)?)
            .await?;
    }
    assert_eq!(sfu.stats().await.participants, MAX_PARTICIPANTS);
    let full = sfu.join("big", "one-more", &offer(true, false)?).await;
    assert_eq!(full.err().map(|e| e.code()), Some("room_full"));
    // Another room is not affected.
    sfu.join("small", "cam0", &offer(true, true)?).await?;
    sfu.stop().await;
    Ok(())
}

/// Lets what was already on its way to `client` arrive: `more` frames of `publisher`'s video.
async fn settle(client: &TestPeer, publisher: &str, more: u64) -> Result<()> {
    more_video(client, publisher, client.received_from(publisher), more).await
}

#[tokio::test]
async fn an_excluded_member_reaches_the_subscriber_no_more_until_the_exclusion_is_lifted()
-> Result<()> {
    let h = Harness::start().await?;
    let alice = h.join("ex1", "alice").await?;
    let bob = h.join("ex1", "bob").await?;
    let carol = h.join("ex1", "carol").await?;
    receives_both(&carol, "bob", 10).await?;
    receives_both(&carol, "alice", 10).await?;

    h.sfu.exclude("ex1", "carol", "bob", true).await?;
    settle(&carol, "alice", 25).await?;
    let frozen = carol.received_from("bob");
    settle(&carol, "alice", 25).await?;
    assert_eq!(
        carol.received_from("bob"),
        frozen,
        "carol gets nothing of bob"
    );
    // Bob sees an ordinary conference: he still gets carol, and alice still gets him.
    settle(&bob, "carol", 25).await?;
    settle(&alice, "bob", 25).await?;
    let carol_at_bob = bob.received_from("carol");
    receives_both(&bob, "carol", carol_at_bob.audio_packets + 10).await?;
    assert_eq!(carol.received_from("bob"), frozen, "still nothing of bob");

    h.sfu.exclude("ex1", "carol", "bob", false).await?;
    receives_both(
        &carol,
        "bob",
        frozen.audio_packets.max(frozen.video_packets) + 10,
    )
    .await
    .context("lifting the exclusion restores bob")?;
    assert!(carol.receiving("bob"));
    h.sfu.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_exclusion_set_before_the_publisher_joins_holds_from_the_start() -> Result<()> {
    let h = Harness::start().await?;
    // Set before the room exists at all.
    h.sfu.exclude("ex2", "carol", "bob", true).await?;
    let alice = h.join("ex2", "alice").await?;
    let carol = h.join("ex2", "carol").await?;
    let bob = h.join("ex2", "bob").await?;
    receives_both(&alice, "bob", 10).await?;
    receives_both(&bob, "carol", 10).await?;
    settle(&carol, "alice", 25).await?;
    assert_eq!(carol.received_from("bob"), Received::default());
    assert!(
        !carol.offered("bob"),
        "no track of bob was offered to carol"
    );

    h.sfu.exclude("ex2", "carol", "bob", false).await?;
    receives_both(&carol, "bob", 10)
        .await
        .context("lifting the exclusion opens bob's tracks")?;
    h.sfu.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_exclusion_set_before_the_subscriber_joins_holds_too() -> Result<()> {
    let h = Harness::start().await?;
    let bob = h.join("ex3", "bob").await?;
    h.sfu.exclude("ex3", "carol", "bob", true).await?;
    let carol = h.join("ex3", "carol").await?;
    receives_both(&bob, "carol", 10).await?;
    settle(&bob, "carol", 25).await?;
    assert_eq!(carol.received_from("bob"), Received::default());
    assert!(!carol.offered("bob"));
    h.sfu.stop().await;
    Ok(())
}
