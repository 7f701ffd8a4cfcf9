//! Address-book entries at rest: the number and name are sealed with ChaCha20-Poly1305
//! under a key derived from the server key (kept outside the database), and found again by
//! a keyed hash (HMAC-SHA256) of the E.164 number, so a stolen database alone reveals no
//! address book, and a later registration still matches its uploaders.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use dialtone_core::PhoneNumber;
use serde::{Deserialize, Serialize};

use crate::ServiceError;

/// Seals and opens address-book entries; hashes numbers for lookup.
#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
    mac_key: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    phone: String,
    name: String,
}

fn derive(server_key: &[u8], label: &str) -> Vec<u8> {
    crate::crypto::keyed_hash(server_key, label.as_bytes())
}

impl Sealer {
    /// Keys derived from the server key.
    pub fn new(server_key: &[u8]) -> Self {
        let enc = derive(server_key, "dialtone contacts sealing v1");
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&enc)),
            mac_key: derive(server_key, "dialtone contacts lookup v1"),
        }
    }

    /// The keyed hash that finds a number.
    pub fn mac(&self, phone: &PhoneNumber) -> String {
        hex::encode(crate::crypto::keyed_hash(
            &self.mac_key,
            phone.as_str().as_bytes(),
        ))
    }

    /// Seals a number and its name.
    pub fn seal(&self, phone: &PhoneNumber, name: &str) -> Result<String, ServiceError> {
        let plain = serde_json::to_vec(&Sealed {
            phone: phone.to_string(),
            name: name.to_owned(),
        })
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        out.extend(
            self.cipher
                .encrypt(&nonce, plain.as_slice())
                .map_err(|_| ServiceError::Internal("sealing failed".into()))?,
        );
        Ok(STANDARD_NO_PAD.encode(out))
    }

    /// Opens a sealed entry: its number and name.
    pub fn open(&self, sealed: &str) -> Result<(PhoneNumber, String), ServiceError> {
        let broken = || ServiceError::Internal("a sealed contact cannot be opened".into());
        let bytes = STANDARD_NO_PAD.decode(sealed).map_err(|_| broken())?;
        if bytes.len() < 12 {
            return Err(broken());
        }
        let (nonce, body) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), body)
            .map_err(|_| broken())?;
        let entry: Sealed = serde_json::from_slice(&plain).map_err(|_| broken())?;
        let phone = PhoneNumber::parse_e164(&entry.phone).map_err(|_| broken())?;
        Ok((phone, entry.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_without_leaking_the_number() {
        let sealer = Sealer::new(&[7u8; 32]);
        let phone = PhoneNumber::parse_e164("+8613800138000").unwrap();
        let sealed = sealer.seal(&phone, "张三").unwrap();
        assert!(!sealed.contains("13800138000"));
        assert_ne!(
            sealed,
            sealer.seal(&phone, "张三").unwrap(),
            "fresh nonce each time"
        );
        assert_eq!(
            sealer.open(&sealed).unwrap(),
            (phone.clone(), "张三".to_owned())
        );
        assert!(Sealer::new(&[8u8; 32]).open(&sealed).is_err(), "other key");
        assert_eq!(sealer.mac(&phone), Sealer::new(&[7u8; 32]).mac(&phone));
        assert_ne!(sealer.mac(&phone), Sealer::new(&[8u8; 32]).mac(&phone));
        assert!(sealer.open("garbage").is_err());
    }
}
