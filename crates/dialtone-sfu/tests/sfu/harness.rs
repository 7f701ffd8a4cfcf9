//! An SFU on 127.0.0.1:0 and the signalling between it and the test clients: the SFU's
//! offers go to the right client and its answers back; the other events are kept for the
//! tests to wait on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dialtone_sfu::testing::TestPeer;
use dialtone_sfu::{Sfu, SfuConfig, SfuEvent};
use tokio::sync::mpsc;

/// How long any wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(10);

type Registry = Arc<Mutex<HashMap<String, TestPeer>>>;

pub struct Harness {
    pub sfu: Sfu,
    registry: Registry,
    events: mpsc::UnboundedReceiver<SfuEvent>,
}

impl Harness {
    pub async fn start() -> Result<Harness> {
        let sfu = Sfu::start(SfuConfig {
            bind: "127.0.0.1:0".parse()?,
            public_ip: None,
        })
        .await?;
        let mut sfu_events = sfu.events().context("events taken once")?;
        let registry: Registry = Arc::default();
        let (tx, events) = mpsc::unbounded_channel();
        let hub_sfu = sfu.clone();
        let hub_registry = registry.clone();
        tokio::spawn(async move {
            while let Some(event) = sfu_events.recv().await {
                if let SfuEvent::Offer {
                    room,
                    participant,
                    sdp,
                } = &event
                {
                    let peer = hub_registry
                        .lock()
                        .ok()
                        .and_then(|r| r.get(&key(room, participant)).cloned());
                    if let Some(peer) = peer {
                        let sfu = hub_sfu.clone();
                        let (room, participant, sdp) =
                            (room.clone(), participant.clone(), sdp.clone());
                        tokio::spawn(async move {
                            if let Ok(answer) = peer.answer_offer(&sdp).await {
                                let _ = sfu.answer(&room, &participant, &answer).await;
                            }
                        });
                    }
                }
                let _ = tx.send(event);
            }
        });
        Ok(Harness {
            sfu,
            registry,
            events,
        })
    }

    /// A test peer joins a room and is connected.
    pub async fn join(&self, room: &str, name: &str) -> Result<TestPeer> {
        self.join_with(room, name, TestPeer::offer().await?).await
    }

    /// A test peer sending simulcast video (layers `l` and `h`) joins and is connected.
    pub async fn join_simulcast(&self, room: &str, name: &str) -> Result<TestPeer> {
        self.join_with(room, name, TestPeer::offer_simulcast().await?)
            .await
    }

    async fn join_with(
        &self,
        room: &str,
        name: &str,
        (offering, offer): (dialtone_sfu::testing::OfferingPeer, String),
    ) -> Result<TestPeer> {
        let answer = self.sfu.join(room, name, &offer).await?;
        let peer = offering.accept_answer(&answer).await?;
        if let Ok(mut registry) = self.registry.lock() {
            registry.insert(key(room, name), peer.clone());
        }
        wait_for(|| peer.connected())
            .await
            .with_context(|| format!("{name} connected"))?;
        Ok(peer)
    }

    /// The next event the tests care about that matches, within [`WAIT`].
    pub async fn event(&mut self, matches: impl Fn(&SfuEvent) -> bool) -> Result<SfuEvent> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(e)) if matches(&e) => return Ok(e),
                Ok(Some(_)) => {}
                Ok(None) => bail!("events ended"),
                Err(_) => bail!("no such event within {WAIT:?}"),
            }
        }
    }
}

fn key(room: &str, participant: &str) -> String {
    format!("{room}/{participant}")
}

/// Waits until a condition holds, looking every 10 ms, for at most [`WAIT`].
pub async fn wait_for(condition: impl Fn() -> bool) -> Result<()> {
    let start = Instant::now();
    while !condition() {
        if start.elapsed() > WAIT {
            bail!("condition not met within {WAIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}
