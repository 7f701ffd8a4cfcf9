//! Simulcast: a publisher sends its video twice (`l`, small frames of 300 bytes; `h`, 900
//! bytes); each subscriber gets one layer, the large by default, the small after asking
//! for it (a small tile), and the large again after asking back, each switch at a
//! keyframe and without disturbing another subscriber's choice.

use anyhow::{Context, Result};
use dialtone_sfu::Layer;
use dialtone_sfu::testing::TestPeer;

use crate::harness::{Harness, wait_for};

/// The mean size of the video frames `peer` got from `publisher` while `frames` more came.
async fn mean_frame(peer: &TestPeer, publisher: &str, frames: u64) -> Result<u64> {
    let before = peer.received_from(publisher);
    wait_for(|| peer.received_from(publisher).video_packets >= before.video_packets + frames)
        .await
        .with_context(|| format!("{frames} video frames from {publisher}"))?;
    let after = peer.received_from(publisher);
    let n = after.video_packets - before.video_packets;
    Ok((after.video_bytes - before.video_bytes) / n.max(1))
}

/// Waits until `peer` gets `publisher`'s video in frames of about `size` bytes.
async fn gets_layer(peer: &TestPeer, publisher: &str, size: u64) -> Result<()> {
    for _ in 0..20 {
        if mean_frame(peer, publisher, 10).await?.abs_diff(size) < 50 {
            return Ok(());
        }
    }
    anyhow::bail!("{publisher}'s video never came in frames of {size} bytes")
}

#[tokio::test]
async fn a_subscriber_gets_the_layer_it_asks_for() -> Result<()> {
    let h = Harness::start().await?;
    let alice = h.join_simulcast("room", "alice").await?;
    let bob = h.join("room", "bob").await?;
    let carol = h.join("room", "carol").await?;
    // Only one layer reaches each subscriber: the large one by default.
    gets_layer(&bob, "alice", 900).await?;
    gets_layer(&carol, "alice", 900).await?;
    h.sfu
        .prefer_layer("room", "bob", "alice", Layer::Low)
        .await?;
    gets_layer(&bob, "alice", 300).await?;
    // Carol's choice is hers.
    gets_layer(&carol, "alice", 900).await?;
    h.sfu
        .prefer_layer("room", "bob", "alice", Layer::High)
        .await?;
    gets_layer(&bob, "alice", 900).await?;
    // Alice receives the others as usual.
    wait_for(|| alice.received_from("bob").video_packets > 10).await?;
    Ok(())
}
