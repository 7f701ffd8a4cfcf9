//! ICE servers for a call's peer connections: STUN URLs, and TURN URLs with short-lived
//! credentials by the TURN REST API scheme (coturn's `use-auth-secret`): the username is
//! `<expiry unix seconds>:<user id>`, the password base64(HMAC-SHA1(secret, username)),
//! so the TURN server checks them with the shared secret alone.

use base64::Engine;
use chrono::{DateTime, Utc};
use dialtone_protocol::{IceServer, IceServers};

use super::CallsConfig;

/// The TURN REST API password of `username` under `secret`.
pub fn turn_password(secret: &str, username: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    let tag = ring::hmac::sign(&key, username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

/// The ICE servers of `config` for `user_id`, their TURN credentials valid from `now`.
pub fn ice_servers(config: &CallsConfig, user_id: &str, now: DateTime<Utc>) -> IceServers {
    let expires = now + chrono::Duration::seconds(config.turn_ttl_secs.min(86_400 * 7) as i64);
    let mut servers = Vec::new();
    if !config.stun_urls.is_empty() {
        servers.push(IceServer {
            urls: config.stun_urls.clone(),
            username: None,
            credential: None,
        });
    }
    if let Some(secret) = config.turn_secret.as_deref().filter(|s| !s.is_empty())
        && !config.turn_urls.is_empty()
    {
        let username = format!("{}:{user_id}", expires.timestamp());
        servers.push(IceServer {
            urls: config.turn_urls.clone(),
            credential: Some(turn_password(secret, &username)),
            username: Some(username),
        });
    }
    IceServers {
        ice_servers: servers,
        expires_at: expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_passwords_follow_the_rest_api_scheme() {
        // HMAC-SHA1 by RFC 2202's second test case, base64: the same bytes coturn
        // computes from its static-auth-secret.
        assert_eq!(
            turn_password("Jefe", "what do ya want for nothing?"),
            "7/zfauXrL6LSdBbV8YTfnCWafHk="
        );
    }

    #[test]
    fn turn_is_given_only_with_a_secret() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let mut config = CallsConfig {
            stun_urls: vec!["stun:stun.example.org".into()],
            turn_urls: vec!["turn:turn.example.org:3478".into()],
            turn_ttl_secs: 600,
            ..CallsConfig::default()
        };
        let open = ice_servers(&config, "u1", now);
        assert_eq!(open.ice_servers.len(), 1);
        assert_eq!(open.ice_servers[0].username, None);
        config.turn_secret = Some("s3cret".into());
        let with_turn = ice_servers(&config, "u1", now);
        let turn = &with_turn.ice_servers[1];
        assert_eq!(turn.username.as_deref(), Some("1700000600:u1"));
        assert_eq!(
            turn.credential.as_deref(),
            Some(turn_password("s3cret", "1700000600:u1").as_str())
        );
        assert_eq!(with_turn.expires_at, "2023-11-14T22:23:20Z");
    }
}
