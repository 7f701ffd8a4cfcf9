//! The application server's identity (RFC 8292): its P-256 key and the signed token
//! every push request carries.
//!
//! The token is an ES256 JWT written here from `p256`'s ECDSA, not by web-push-native's
//! `vapid` feature: that one names the audience `scheme://host` without the port (wrong
//! for any endpoint on a port other than the default, so our local test service would
//! rightly refuse it) and brings in jwt-simple with a dozen algorithms we never use.
//! A JWT of three fixed claims is a few lines of base64url and JSON.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hkdf::Hkdf;
use p256::SecretKey;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use sha2::Sha256;

use crate::PushError;
use crate::encoding::{b64url, decode_b64url};

/// The shortest seed [`VapidKey::derive`] takes: 128 bits of secret.
pub const MIN_SEED_LEN: usize = 16;

/// How far ahead a token's `exp` lies. RFC 8292 allows at most 24 hours; push services
/// differ in how they count, so half of that leaves room for clock skew.
const TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// How long a signed token is reused for an origin: signing per push would cost an ECDSA
/// signature each time, and an hour-old token still has 11 hours to live.
const TOKEN_REUSE: Duration = Duration::from_secs(60 * 60);

/// Above this many origins the token cache starts over: endpoints are user-supplied, so
/// the set of origins must not grow without bound.
const MAX_CACHED_ORIGINS: usize = 1024;

/// The server's VAPID key pair: push services tie a subscription to its public key, so
/// it must stay the same for as long as the subscriptions made with it live.
#[derive(Clone)]
pub struct VapidKey {
    secret: SecretKey,
}

impl VapidKey {
    /// A new random key, for a deployment that stores its own.
    pub fn generate() -> VapidKey {
        VapidKey {
            secret: SecretKey::random(&mut rand::rngs::OsRng),
        }
    }

    /// Reads the 32-byte private scalar in base64url (what a configuration file holds).
    pub fn from_base64url(text: &str) -> Result<VapidKey, PushError> {
        let bytes = decode_b64url(text.trim()).ok_or(PushError::InvalidKey)?;
        if bytes.len() != 32 {
            return Err(PushError::InvalidKey);
        }
        let secret = SecretKey::from_slice(&bytes).map_err(|_| PushError::InvalidKey)?;
        Ok(VapidKey { secret })
    }

    /// Derives a key from secret bytes, the same on every node that shares them, so a
    /// deployment needs no VAPID key of its own in configuration.
    ///
    /// HKDF-SHA256 expands the seed to 32 bytes; the rare output that is not a valid
    /// scalar (zero, or not below the group order: odds about 2^-32) is retried with
    /// the next counter.
    pub fn derive(seed: &[u8]) -> Result<VapidKey, PushError> {
        if seed.len() < MIN_SEED_LEN {
            return Err(PushError::SeedTooShort { min: MIN_SEED_LEN });
        }
        let hkdf = Hkdf::<Sha256>::new(Some(b"dialtone-push VAPID"), seed);
        for counter in 0u8..=u8::MAX {
            let mut okm = [0u8; 32];
            let info = [b"private key ".as_slice(), &[counter]].concat();
            hkdf.expand(&info, &mut okm)
                .map_err(|_| PushError::InvalidKey)?;
            if let Ok(secret) = SecretKey::from_slice(&okm) {
                return Ok(VapidKey { secret });
            }
        }
        Err(PushError::InvalidKey)
    }

    /// The private scalar in base64url, for writing a generated key to configuration.
    pub fn to_base64url(&self) -> String {
        b64url(&self.secret.to_bytes())
    }

    /// The uncompressed public point (65 bytes) in base64url: the browser's
    /// `pushManager.subscribe({applicationServerKey})` takes it, and every request's
    /// `k=` repeats it.
    pub fn public_key_base64url(&self) -> String {
        b64url(self.secret.public_key().to_encoded_point(false).as_bytes())
    }

    /// A signed `Authorization` value for pushes to `origin`, valid until `exp`.
    fn authorization(&self, origin: &str, subject: &str, now: SystemTime) -> String {
        let exp = now
            .checked_add(TOKEN_LIFETIME)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let header = b64url(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = claims_json(origin, exp, subject);
        let signing_input = format!("{header}.{}", b64url(claims.as_bytes()));
        let signature: Signature = SigningKey::from(&self.secret).sign(signing_input.as_bytes());
        format!(
            "vapid t={signing_input}.{}, k={}",
            b64url(&signature.to_bytes()),
            self.public_key_base64url()
        )
    }
}

/// The claims as JSON: written here to keep serde_json out of the library, with the
/// two strings escaped as JSON requires.
fn claims_json(origin: &str, exp: u64, subject: &str) -> String {
    format!(
        r#"{{"aud":"{}","exp":{exp},"sub":"{}"}}"#,
        json_escape(origin),
        json_escape(subject)
    )
}

/// Escapes a string for a JSON string literal.
fn json_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

impl fmt::Debug for VapidKey {
    /// Shows the public key only: a private key must not reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VapidKey")
            .field("public", &self.public_key_base64url())
            .finish_non_exhaustive()
    }
}

/// Signed tokens per origin, reused for [`TOKEN_REUSE`].
pub(crate) struct TokenCache {
    key: VapidKey,
    subject: String,
    tokens: Mutex<HashMap<String, (Instant, String)>>,
}

impl TokenCache {
    /// A cache signing with `key` for `subject` (a `mailto:` or `https:` URI).
    pub(crate) fn new(key: VapidKey, subject: String) -> Result<TokenCache, PushError> {
        if !(subject.starts_with("mailto:") || subject.starts_with("https://")) {
            return Err(PushError::InvalidSubject);
        }
        Ok(TokenCache {
            key,
            subject,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// The `Authorization` header value for a push to `origin`.
    pub(crate) fn authorization(&self, origin: &str) -> String {
        let now = Instant::now();
        // A poisoned lock only means another push panicked mid-insert; the map is
        // still a valid cache.
        let mut tokens = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((signed, token)) = tokens.get(origin)
            && now.duration_since(*signed) < TOKEN_REUSE
        {
            return token.clone();
        }
        if tokens.len() >= MAX_CACHED_ORIGINS {
            tokens.clear();
        }
        let token = self
            .key
            .authorization(origin, &self.subject, SystemTime::now());
        tokens.insert(origin.to_owned(), (now, token.clone()));
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_round_trips_through_base64url() {
        let key = VapidKey::generate();
        let again = VapidKey::from_base64url(&key.to_base64url()).unwrap();
        assert_eq!(again.public_key_base64url(), key.public_key_base64url());
        assert_eq!(
            decode_b64url(&key.public_key_base64url()).unwrap().len(),
            65
        );
    }

    #[test]
    fn keys_that_are_not_scalars_are_refused() {
        for text in [
            "",
            "abc",
            &b64url(&[0u8; 32]),
            &b64url(&[0xffu8; 32]),
            &b64url(&[1u8; 31]),
        ] {
            assert!(VapidKey::from_base64url(text).is_err(), "{text}");
        }
    }

    #[test]
    fn derive_is_deterministic_and_depends_on_the_seed() {
        let a = VapidKey::derive(b"0123456789abcdef-server-key").unwrap();
        let b = VapidKey::derive(b"0123456789abcdef-server-key").unwrap();
        let c = VapidKey::derive(b"0123456789abcdef-server-kez").unwrap();
        assert_eq!(a.to_base64url(), b.to_base64url());
        assert_ne!(a.to_base64url(), c.to_base64url());
        assert!(matches!(
            VapidKey::derive(b"short"),
            Err(PushError::SeedTooShort { .. })
        ));
    }

    #[test]
    fn a_token_is_signed_once_per_origin_and_reused() {
        let cache = TokenCache::new(VapidKey::generate(), "mailto:ops@example.com".into()).unwrap();
        let first = cache.authorization("https://push.example");
        assert_eq!(cache.authorization("https://push.example"), first);
        assert_ne!(cache.authorization("https://other.example"), first);
        assert!(first.starts_with("vapid t="));
    }

    #[test]
    fn subjects_other_than_mailto_or_https_are_refused() {
        for subject in ["", "ops@example.com", "http://example.com"] {
            assert!(TokenCache::new(VapidKey::generate(), subject.into()).is_err());
        }
    }

    #[test]
    fn claims_escape_quotes() {
        assert_eq!(
            claims_json("https://a", 7, "mailto:\"x\"@y"),
            r#"{"aud":"https://a","exp":7,"sub":"mailto:\"x\"@y"}"#
        );
    }
}
