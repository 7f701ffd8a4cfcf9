//! An HTTP gateway in the shape of Twilio's Messages API: a form POST of `To`, `From` and
//! `Body` to `{base_url}/2010-04-01/Accounts/{account}/Messages.json` with basic auth.

use std::time::Duration;

use async_trait::async_trait;
use dialtone_core::PhoneNumber;
use serde::{Deserialize, Serialize};

use crate::{SmsError, SmsGateway};

/// Settings of the HTTP gateway.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct HttpGatewayConfig {
    /// Base URL of the provider's API.
    pub base_url: String,
    /// Account id (basic-auth user, and part of the path).
    pub account: String,
    /// API secret (basic-auth password).
    pub token: String,
    /// Sender number or id.
    pub from: String,
    /// Seconds to wait for the provider.
    pub timeout_secs: u64,
}

impl Default for HttpGatewayConfig {
    fn default() -> Self {
        Self {
            base_url: "https://api.twilio.com".into(),
            account: String::new(),
            token: String::new(),
            from: String::new(),
            timeout_secs: 10,
        }
    }
}

/// Sends SMS through a Twilio-shaped HTTP API.
pub struct HttpGateway {
    config: HttpGatewayConfig,
    client: reqwest::Client,
}

impl HttpGateway {
    /// A gateway with its own HTTP client.
    pub fn new(config: HttpGatewayConfig) -> Result<Self, SmsError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs.max(1)))
            .build()
            .map_err(|e| SmsError::Unreachable(e.to_string()))?;
        Ok(Self { config, client })
    }

    fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.config.base_url.trim_end_matches('/'),
            self.config.account
        )
    }
}

#[async_trait]
impl SmsGateway for HttpGateway {
    async fn send(&self, to: &PhoneNumber, body: &str) -> Result<(), SmsError> {
        let form = [
            ("To", to.as_str()),
            ("From", self.config.from.as_str()),
            ("Body", body),
        ];
        let response = self
            .client
            .post(self.messages_url())
            .basic_auth(&self.config.account, Some(&self.config.token))
            .form(&form)
            .send()
            .await
            .map_err(|e| SmsError::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            tracing::info!(gateway = "http", status = status.as_u16(), "sms accepted");
            return Ok(());
        }
        let detail = response.text().await.unwrap_or_default();
        let detail: String = detail.chars().take(300).collect();
        tracing::warn!(gateway = "http", status = status.as_u16(), %detail, "sms refused");
        Err(SmsError::Refused {
            status: status.as_u16(),
            detail,
        })
    }

    fn name(&self) -> &'static str {
        "http"
    }
}
