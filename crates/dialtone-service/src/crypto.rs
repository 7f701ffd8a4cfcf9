//! Secrets made and checked by the services: verification codes, session tokens and their
//! hashes. Codes and tokens are never stored or logged, only their hashes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::Rng;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A fresh six-digit code from the operating system's CSPRNG.
pub fn new_code() -> String {
    format!("{:06}", OsRng.gen_range(0..1_000_000u32))
}

/// HMAC-SHA256 of `data` under `key`.
pub fn keyed_hash(key: &[u8], data: &[u8]) -> Vec<u8> {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        // HMAC takes keys of any length; this arm cannot be reached.
        Err(_) => Vec::new(),
    }
}

/// A keyed hash of a code, bound to its verification so that a leaked table cannot be
/// brute-forced without the server key.
pub fn code_hash(key: &[u8], verification_id: &str, code: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this arm cannot be reached.
        Err(_) => return String::new(),
    };
    mac.update(verification_id.as_bytes());
    mac.update(b":");
    mac.update(code.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Compares two hashes in constant time.
pub fn same_hash(a: &str, b: &str) -> bool {
    !a.is_empty() && a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A fresh session token: 256 random bits, URL-safe base64.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new opaque id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..1000 {
            let c = new_code();
            assert!(dialtone_core::verification::is_well_formed_code(&c), "{c}");
        }
    }

    #[test]
    fn code_hash_depends_on_key_id_and_code() {
        let h = code_hash(b"k", "v1", "123456");
        assert!(same_hash(&h, &code_hash(b"k", "v1", "123456")));
        assert!(!same_hash(&h, &code_hash(b"k2", "v1", "123456")));
        assert!(!same_hash(&h, &code_hash(b"k", "v2", "123456")));
        assert!(!same_hash(&h, &code_hash(b"k", "v1", "123457")));
        assert!(!same_hash("", ""));
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
    }
}
