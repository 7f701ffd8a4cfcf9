//! The bus across processes: events are JSON messages on one NATS subject. Each process
//! holds exactly one subscription and hands what arrives to its [`LocalBus`], so local
//! fan-out is the same whatever the bus.

use async_trait::async_trait;
use futures::StreamExt;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::{BusError, Event, EventBus, LocalBus};

/// Events through a NATS server.
pub struct NatsBus {
    client: async_nats::Client,
    subject: String,
    local: std::sync::Arc<LocalBus>,
    forward: JoinHandle<()>,
}

impl NatsBus {
    /// Connects to `url` (`nats://host:port`) and subscribes to `subject`.
    pub async fn connect(url: &str, subject: &str) -> Result<NatsBus, BusError> {
        let client = async_nats::connect(url)
            .await
            .map_err(|e| BusError::Broker(format!("cannot connect to {url}: {e}")))?;
        let mut subscription = client
            .subscribe(subject.to_owned())
            .await
            .map_err(|e| BusError::Broker(e.to_string()))?;
        // The subscription is live on the server once this round trip returns, so no event
        // published after `connect` can be missed.
        client
            .flush()
            .await
            .map_err(|e| BusError::Broker(e.to_string()))?;
        let local = std::sync::Arc::new(LocalBus::new());
        let sink = local.clone();
        let forward = tokio::spawn(async move {
            while let Some(message) = subscription.next().await {
                match serde_json::from_slice::<Event>(&message.payload) {
                    Ok(event) => sink.deliver(event),
                    Err(e) => tracing::warn!(error = %e, "unreadable event on the bus"),
                }
            }
        });
        Ok(NatsBus {
            client,
            subject: subject.to_owned(),
            local,
            forward,
        })
    }
}

impl Drop for NatsBus {
    fn drop(&mut self) {
        self.forward.abort();
    }
}

#[async_trait]
impl EventBus for NatsBus {
    async fn publish(&self, event: Event) -> Result<(), BusError> {
        let payload = serde_json::to_vec(&event).map_err(|e| BusError::Broker(e.to_string()))?;
        self.client
            .publish(self.subject.clone(), payload.into())
            .await
            .map_err(|e| BusError::Broker(e.to_string()))
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use std::ops::Not;

    use super::*;

    /// Two buses on one NATS subject hear each other. Needs NATS on 127.0.0.1:4222
    /// (`DIALTONE_TEST_NATS_URL` overrides); prints that it was not run without it.
    #[tokio::test]
    async fn two_processes_hear_each_other() {
        let url = std::env::var("DIALTONE_TEST_NATS_URL")
            .unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
        let subject = format!("dialtone.test.{}", uuid::Uuid::now_v7().simple());
        let a = match NatsBus::connect(&url, &subject).await {
            Ok(bus) => bus,
            // Not run only where no one asked for NATS (`dialtone_store::testing::REQUIRE_ENV`,
            // set by the README's test command and CI, makes it fail).
            Err(e)
                if std::env::var("DIALTONE_TEST_NATS_URL").is_err()
                    && std::env::var("DIALTONE_TEST_REQUIRE_SERVICES")
                        .is_ok_and(|v| !v.is_empty() && v != "0")
                        .not() =>
            {
                println!("two_processes_hear_each_other: not run ({e})");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        let b = NatsBus::connect(&url, &subject).await.unwrap();
        let mut heard_by_a = a.subscribe();
        let mut heard_by_b = b.subscribe();
        let event = Event::PrivacyChanged {
            user_id: "u1".into(),
        };
        a.publish(event.clone()).await.unwrap();
        let wait = std::time::Duration::from_secs(5);
        assert_eq!(
            tokio::time::timeout(wait, heard_by_b.recv())
                .await
                .unwrap()
                .unwrap(),
            event
        );
        assert_eq!(
            tokio::time::timeout(wait, heard_by_a.recv())
                .await
                .unwrap()
                .unwrap(),
            event
        );
    }
}
