//! The vault: a second password (separate from the login password, Argon2id) that unlocks
//! hidden contacts for a short while. The vault token is stateless: the user id and expiry
//! signed with a key derived from the server key, so every node accepts it.

use chrono::{DateTime, Duration, Utc};
use dialtone_store::UserRecord;

use super::SocialService;
use crate::crypto::{keyed_hash, same_hash};
use crate::{ServiceError, ServiceResult};

/// How long an unlock lasts.
pub const VAULT_TTL: Duration = Duration::minutes(10);

/// A vault unlock.
#[derive(Debug, Clone)]
pub struct VaultToken {
    /// Send as `X-Vault-Token`.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl SocialService {
    fn vault_signature(&self, user_id: &str, expires_ms: i64) -> String {
        let key = keyed_hash(&self.deps.server_key, b"dialtone vault tokens v1");
        hex::encode(keyed_hash(
            &key,
            format!("{user_id}.{expires_ms}").as_bytes(),
        ))
    }

    /// Sets or changes the vault password (the current one is needed to change it).
    pub async fn set_vault_password(
        &self,
        user: &UserRecord,
        password: &str,
        current: Option<&str>,
    ) -> ServiceResult<()> {
        let chars = password.chars().count();
        if !(4..=128).contains(&chars) {
            return Err(ServiceError::WeakPassword(
                "the vault password must have 4 to 128 characters".into(),
            ));
        }
        let store = &self.deps.store;
        if let Some(existing) = store.privacy.vault_hash(&user.id).await? {
            let Some(current) = current else {
                return Err(ServiceError::CurrentPasswordRequired);
            };
            if !self.hasher.verify(current, &existing).await? {
                return Err(ServiceError::WrongPassword);
            }
        }
        let hash = self.hasher.hash(password).await?;
        store.privacy.set_vault_hash(&user.id, &hash).await?;
        Ok(())
    }

    /// Unlocks the vault with its password.
    pub async fn unlock_vault(
        &self,
        user: &UserRecord,
        password: &str,
    ) -> ServiceResult<VaultToken> {
        let Some(hash) = self.deps.store.privacy.vault_hash(&user.id).await? else {
            self.hasher.verify_decoy(password).await?;
            return Err(ServiceError::WrongPassword);
        };
        if !self.hasher.verify(password, &hash).await? {
            return Err(ServiceError::WrongPassword);
        }
        let expires_at = self.now() + VAULT_TTL;
        let expires_ms = expires_at.timestamp_millis();
        Ok(VaultToken {
            token: format!(
                "{expires_ms}.{}",
                self.vault_signature(&user.id, expires_ms)
            ),
            expires_at,
        })
    }

    /// Whether `token` is a live vault unlock of `user`.
    pub fn vault_open(&self, user: &UserRecord, token: Option<&str>) -> bool {
        let Some((expires, signature)) = token.and_then(|t| t.split_once('.')) else {
            return false;
        };
        let Ok(expires_ms) = expires.parse::<i64>() else {
            return false;
        };
        expires_ms > self.now().timestamp_millis()
            && same_hash(signature, &self.vault_signature(&user.id, expires_ms))
    }
}
