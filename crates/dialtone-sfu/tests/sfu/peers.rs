//! The test peers themselves, without the SFU: one offers, the other answers, and each
//! receives the other's audio and video (what a one-to-one call's browsers do).

use anyhow::Result;
use dialtone_sfu::testing::TestPeer;

use crate::harness::wait_for;

#[tokio::test]
async fn two_test_peers_connect_directly_and_hear_each_other() -> Result<()> {
    let (offering, offer) = TestPeer::offer().await?;
    let (callee, answer) = TestPeer::answer(&offer).await?;
    let caller = offering.accept_answer(&answer).await?;
    let heard = |p: &TestPeer| {
        let r = p.received();
        r.values().map(|r| r.audio_packets).sum::<u64>() > 5
            && r.values().map(|r| r.video_packets).sum::<u64>() > 5
    };
    wait_for(|| heard(&caller) && heard(&callee))
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "{e}: caller {:?} (connected {}), callee {:?} (connected {})",
                caller.received(),
                caller.connected(),
                callee.received(),
                callee.connected()
            )
        })?;
    Ok(())
}
