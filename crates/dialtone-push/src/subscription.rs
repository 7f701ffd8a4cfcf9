//! A browser's push subscription, and the checks it must pass before it is stored.
//!
//! The endpoint is a URL the browser (so, potentially, an attacker) chose, and the server
//! will POST to it: it is held to the same rules as a link preview (see [`crate::policy`]).
//! The keys are checked here so a bad subscription is refused with a clear error when it
//! is made, not discovered when the first push fails to encrypt.

use std::net::SocketAddr;

use p256::PublicKey;
use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::encoding::decode_b64url;
use crate::error::InvalidSubscription;
use crate::{EndpointPolicy, PushError};

/// The longest endpoint accepted, in bytes; push services' URLs are a few hundred.
pub const MAX_ENDPOINT_LEN: usize = 2048;

/// A push subscription as the browser's `PushSubscription.toJSON()` gives it
/// (`endpoint`, `keys.p256dh`, `keys.auth`): what the server stores per device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// The push service's URL for this subscription; pushes are POSTed to it.
    pub endpoint: String,
    /// The browser's P-256 public key (65-byte uncompressed point), base64url.
    pub p256dh: String,
    /// The browser's 16-byte authentication secret, base64url.
    pub auth: String,
}

/// A subscription whose every part has been read and checked.
pub(crate) struct Checked {
    /// The endpoint, parsed.
    pub url: Url,
    /// The browser's public key.
    pub p256dh: PublicKey,
    /// The authentication secret.
    pub auth: [u8; 16],
}

impl Subscription {
    /// Checks the shapes (keys, URL, length, scheme) and, for an endpoint written as an
    /// IP address, the address, so the API can refuse a bad subscription at subscribe
    /// time. Host names are resolved and judged at each send (their addresses change).
    pub fn validate(&self, policy: &EndpointPolicy) -> Result<(), PushError> {
        self.check(policy)?;
        Ok(())
    }

    /// [`Subscription::validate`], keeping what it read.
    pub(crate) fn check(&self, policy: &EndpointPolicy) -> Result<Checked, InvalidSubscription> {
        let url = check_endpoint(&self.endpoint, policy)?;
        let p256dh = decode_b64url(&self.p256dh)
            .filter(|bytes| bytes.len() == 65 && bytes.first() == Some(&0x04))
            .and_then(|bytes| PublicKey::from_sec1_bytes(&bytes).ok())
            .ok_or(InvalidSubscription::P256dh)?;
        let auth = decode_b64url(&self.auth)
            .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
            .ok_or(InvalidSubscription::Auth)?;
        Ok(Checked { url, p256dh, auth })
    }
}

/// Parses the endpoint and checks everything that can be known without resolving it.
fn check_endpoint(endpoint: &str, policy: &EndpointPolicy) -> Result<Url, InvalidSubscription> {
    if endpoint.len() > MAX_ENDPOINT_LEN {
        return Err(InvalidSubscription::EndpointTooLong {
            limit: MAX_ENDPOINT_LEN,
        });
    }
    let url = Url::parse(endpoint).map_err(|_| InvalidSubscription::EndpointNotUrl)?;
    if !policy.permits_scheme(url.scheme()) {
        return Err(InvalidSubscription::EndpointScheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(InvalidSubscription::EndpointUserinfo);
    }
    let port = url
        .port_or_known_default()
        .ok_or(InvalidSubscription::EndpointScheme)?;
    match url.host() {
        None => return Err(InvalidSubscription::EndpointNoHost),
        Some(Host::Ipv4(ip)) if !policy.permits(SocketAddr::new(ip.into(), port)) => {
            return Err(InvalidSubscription::ForbiddenAddress);
        }
        Some(Host::Ipv6(ip)) if !policy.permits(SocketAddr::new(ip.into(), port)) => {
            return Err(InvalidSubscription::ForbiddenAddress);
        }
        Some(Host::Domain(name)) if policy.refuses_name(name) => {
            return Err(InvalidSubscription::ForbiddenAddress);
        }
        Some(_) => {}
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256DH: &str =
        "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY";
    const AUTH: &str = "_ordMnz7uTCmrpBTeUV4Bw";

    fn sub(endpoint: &str, p256dh: &str, auth: &str) -> Subscription {
        Subscription {
            endpoint: endpoint.into(),
            p256dh: p256dh.into(),
            auth: auth.into(),
        }
    }

    fn refusal(endpoint: &str, p256dh: &str, auth: &str) -> Option<InvalidSubscription> {
        sub(endpoint, p256dh, auth)
            .check(&EndpointPolicy::PublicHttpsOnly)
            .err()
    }

    #[test]
    fn a_browser_shaped_subscription_passes() {
        let ok = "https://fcm.googleapis.com/fcm/send/abc:def";
        assert_eq!(refusal(ok, P256DH, AUTH), None);
        // Padded base64url, as some libraries write it, is read too.
        assert_eq!(
            refusal(ok, &format!("{P256DH}="), &format!("{AUTH}==")),
            None
        );
    }

    #[test]
    fn each_bad_part_is_refused_with_its_own_reason() {
        use InvalidSubscription::*;
        let ok = "https://push.example/x";
        let long = format!("https://push.example/{}", "a".repeat(MAX_ENDPOINT_LEN));
        let off_curve = format!("BA{}", &P256DH[2..]);
        let compressed = crate::encoding::b64url(&[2u8; 33]);
        let table: &[(&str, &str, &str, InvalidSubscription)] = &[
            ("not a url", P256DH, AUTH, EndpointNotUrl),
            (
                &long,
                P256DH,
                AUTH,
                EndpointTooLong {
                    limit: MAX_ENDPOINT_LEN,
                },
            ),
            ("http://push.example/x", P256DH, AUTH, EndpointScheme),
            ("ftp://push.example/x", P256DH, AUTH, EndpointScheme),
            ("https://u:p@push.example/x", P256DH, AUTH, EndpointUserinfo),
            ("https://127.0.0.1/x", P256DH, AUTH, ForbiddenAddress),
            ("https://2130706433/x", P256DH, AUTH, ForbiddenAddress),
            ("https://10.0.0.8/x", P256DH, AUTH, ForbiddenAddress),
            ("https://169.254.169.254/x", P256DH, AUTH, ForbiddenAddress),
            ("https://[::1]/x", P256DH, AUTH, ForbiddenAddress),
            (
                "https://[::ffff:192.168.0.1]/x",
                P256DH,
                AUTH,
                ForbiddenAddress,
            ),
            ("https://localhost/x", P256DH, AUTH, ForbiddenAddress),
            ("https://a.localhost/x", P256DH, AUTH, ForbiddenAddress),
            (ok, "", AUTH, P256dh),
            (ok, "not base64!", AUTH, P256dh),
            (ok, &off_curve, AUTH, P256dh),
            (ok, &compressed, AUTH, P256dh),
            (ok, &P256DH[..40], AUTH, P256dh),
            (ok, P256DH, "", Auth),
            (ok, P256DH, "_ordMnz7uTCmrpBTeUV4", Auth),
            (ok, P256DH, "_ordMnz7uTCmrpBTeUV4Bw_ord", Auth),
        ];
        let mut wrong = Vec::new();
        for (endpoint, p256dh, auth, expected) in table {
            let got = refusal(endpoint, p256dh, auth);
            if got.as_ref() != Some(expected) {
                wrong.push(format!(
                    "{endpoint} {p256dh} {auth}: expected {expected:?}, got {got:?}"
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn an_allow_list_permits_http_to_its_own_addresses_only() {
        let policy = EndpointPolicy::AllowList(vec!["127.0.0.1:4000".parse().unwrap()]);
        assert!(
            sub("http://127.0.0.1:4000/p/a", P256DH, AUTH)
                .validate(&policy)
                .is_ok()
        );
        assert!(
            sub("http://127.0.0.1:4001/p/a", P256DH, AUTH)
                .validate(&policy)
                .is_err()
        );
        assert!(
            sub("http://8.8.8.8:4000/p/a", P256DH, AUTH)
                .validate(&policy)
                .is_err()
        );
    }
}
