//! Password hashing with Argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane), run on
//! the blocking pool with a cap on concurrent hashes so logins cannot starve the server.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{OnceCell, Semaphore};

use crate::{ServiceError, ServiceResult};

/// OWASP Password Storage Cheat Sheet, Argon2id option 2: m=19 MiB, t=2, p=1.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// Hashes and verifies passwords off the async executor.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when an account does not exist so a
    /// login for an unknown number costs the same time as one for a known number.
    decoy: Arc<OnceCell<String>>,
}

impl PasswordHasher {
    /// A hasher running at most `max_concurrent` hashes at once (0: one per CPU).
    pub fn new(max_concurrent: usize) -> Self {
        let permits = if max_concurrent == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            max_concurrent
        };
        Self {
            permits: Arc::new(Semaphore::new(permits)),
            decoy: Arc::new(OnceCell::new()),
        }
    }

    fn argon2() -> ServiceResult<Argon2<'static>> {
        let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// The PHC string of `password` with a fresh salt.
    pub async fn hash(&self, password: &str) -> ServiceResult<String> {
        let password = password.to_owned();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Self::argon2()?
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| ServiceError::Internal(e.to_string()))
        })
        .await
    }

    /// Whether `password` matches the PHC string `phc`.
    pub async fn verify(&self, password: &str, phc: &str) -> ServiceResult<bool> {
        let (password, phc) = (password.to_owned(), phc.to_owned());
        self.run(move || {
            let parsed =
                PasswordHash::new(&phc).map_err(|e| ServiceError::Internal(e.to_string()))?;
            Ok(Self::argon2()?
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await
    }

    /// Spends the time of one verification without any account behind it.
    pub async fn verify_decoy(&self, password: &str) -> ServiceResult<()> {
        let decoy = self
            .decoy
            .get_or_try_init(|| self.hash("decoy password that no account has"))
            .await?
            .clone();
        self.verify(password, &decoy).await.map(|_| ())
    }

    async fn run<T, F>(&self, work: F) -> ServiceResult<T>
    where
        T: Send + 'static,
        F: FnOnce() -> ServiceResult<T> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let h = PasswordHasher::new(2);
        let a = h.hash("correct horse").await.unwrap_or_default();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert!(h.verify("correct horse", &a).await.unwrap_or(false));
        assert!(!h.verify("wrong horse", &a).await.unwrap_or(true));
        let b = h.hash("correct horse").await.unwrap_or_default();
        assert_ne!(a, b);
        assert!(h.verify_decoy("x").await.is_ok());
    }
}
