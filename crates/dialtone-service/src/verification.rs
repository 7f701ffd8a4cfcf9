//! Registration and login by SMS code: start a verification, resend, submit the code.
//! Responses never tell whether a number has an account until the right code is given.

use chrono::{DateTime, Duration, Utc};
use dialtone_core::verification::{
    CODE_TTL, MAX_WRONG_ATTEMPTS, VERIFICATION_LIFETIME, is_well_formed_code, pumping_prefix,
    resend_cooldown,
};
use dialtone_core::{PhoneNumber, Region};
use dialtone_store::{StoreError, UserRecord, VerificationRecord};

use crate::accounts::{AccountService, LoggedIn};
use crate::crypto;
use crate::limits::Limit;
use crate::{ServiceError, ServiceResult};

/// A verification that was started: an SMS is on its way.
#[derive(Debug, Clone)]
pub struct VerificationStarted {
    /// Id to submit the code to.
    pub id: String,
    /// The number, E.164.
    pub phone: PhoneNumber,
    /// When the code stops working.
    pub expires_at: DateTime<Utc>,
    /// Earliest resend.
    pub resend_after: DateTime<Utc>,
}

/// The right code was given: the device is logged in.
#[derive(Debug, Clone)]
pub struct CodeAccepted {
    /// Token and user.
    pub login: LoggedIn,
    /// Whether this code created the account.
    pub new_account: bool,
}

impl AccountService {
    /// Starts a verification of `phone`: checks the number and the limits, then sends a
    /// code. Registered and unregistered numbers get the same answer.
    pub async fn start_verification(
        &self,
        phone: &PhoneNumber,
        client_ip: &str,
    ) -> ServiceResult<VerificationStarted> {
        let kind = phone.kind();
        if self.deps.sms_policy.refused_kinds.contains(&kind) {
            return Err(ServiceError::PhoneCannotReceiveSms(
                format!("{kind:?}").to_lowercase(),
            ));
        }
        let now = self.now();
        let policy = &self.deps.policy;
        let limits = [
            Limit {
                bucket: format!("verify:number:{phone}"),
                windows: &policy.verifications_per_number,
            },
            Limit {
                bucket: format!("verify:ip:{client_ip}"),
                windows: &policy.verifications_per_ip,
            },
            Limit {
                bucket: format!("verify:prefix:{}", pumping_prefix(phone.as_str())),
                windows: &policy.verifications_per_prefix,
            },
        ];
        self.limiter.check(&limits, now).await?;

        let id = crypto::new_id();
        let code = crypto::new_code();
        let record = VerificationRecord {
            code_hash: crypto::code_hash(&self.deps.code_key, &id, &code),
            id,
            phone: phone.clone(),
            attempts: 0,
            sms_sent: 1,
            expires_at: now + CODE_TTL,
            resend_after: now + resend_cooldown(1),
            created_at: now,
        };
        let store = &self.deps.store;
        store.verifications.replace(&record).await?;
        if let Err(e) = self.send_code(phone, &code).await {
            store.verifications.consume(&record.id).await?;
            return Err(e);
        }
        self.limiter.record(&limits, now).await?;
        Ok(VerificationStarted {
            id: record.id,
            phone: record.phone,
            expires_at: record.expires_at,
            resend_after: record.resend_after,
        })
    }

    /// Sends a fresh code, replacing the old one (expired or not), once the cooldown has
    /// passed; within an hour of the start, and never for a used or dead verification.
    pub async fn resend(&self, id: &str) -> ServiceResult<DateTime<Utc>> {
        let store = &self.deps.store;
        let old = store
            .verifications
            .get(id)
            .await?
            .ok_or(ServiceError::VerificationNotFound)?;
        let now = self.now();
        let used = old.expires_at.timestamp_millis() == 0;
        let too_old = now >= old.created_at + VERIFICATION_LIFETIME;
        if used || too_old || old.attempts >= MAX_WRONG_ATTEMPTS {
            return Err(ServiceError::VerificationExpired);
        }
        if now < old.resend_after {
            return Err(ServiceError::RateLimited {
                retry_after_secs: seconds_until(now, old.resend_after),
            });
        }
        let code = crypto::new_code();
        let sms_sent = old.sms_sent.saturating_add(1);
        let fresh = VerificationRecord {
            code_hash: crypto::code_hash(&self.deps.code_key, &old.id, &code),
            attempts: 0,
            sms_sent,
            expires_at: now + CODE_TTL,
            resend_after: now + resend_cooldown(sms_sent),
            ..old.clone()
        };
        store.verifications.update_code(&fresh).await?;
        if let Err(e) = self.send_code(&old.phone, &code).await {
            store.verifications.update_code(&old).await?;
            return Err(e);
        }
        Ok(fresh.resend_after)
    }

    /// Checks a code. The right one logs the device in, creating the account for a new
    /// number; with registration lock on, the account's password must come with it.
    pub async fn submit_code(
        &self,
        id: &str,
        code: &str,
        device_name: Option<&str>,
        password: Option<&str>,
    ) -> ServiceResult<CodeAccepted> {
        let store = &self.deps.store;
        let verification = store
            .verifications
            .get(id)
            .await?
            .ok_or(ServiceError::VerificationNotFound)?;
        let now = self.now();
        if now >= verification.expires_at {
            return Err(ServiceError::VerificationExpired);
        }
        // Every submission costs an attempt, taken atomically before the code is compared,
        // so parallel guesses cannot exceed the limit.
        store
            .verifications
            .take_attempt(id, MAX_WRONG_ATTEMPTS)
            .await?
            .ok_or(ServiceError::VerificationExpired)?;
        let expected = &verification.code_hash;
        let given = crypto::code_hash(&self.deps.code_key, id, code.trim());
        if !is_well_formed_code(code.trim()) || !crypto::same_hash(&given, expected) {
            return Err(ServiceError::InvalidCode);
        }

        let existing = store.accounts.user_by_phone(&verification.phone).await?;
        if let Some(user) = &existing {
            self.check_registration_lock(user, password).await?;
        }
        if !store.verifications.consume(id).await? {
            return Err(ServiceError::VerificationExpired);
        }
        match existing {
            Some(user) => self.code_login(user, device_name, now).await,
            None => self.register(&verification.phone, device_name, now).await,
        }
    }

    async fn check_registration_lock(
        &self,
        user: &UserRecord,
        password: Option<&str>,
    ) -> ServiceResult<()> {
        if !user.registration_lock {
            return Ok(());
        }
        let Some(password) = password else {
            return Err(ServiceError::RegistrationLocked);
        };
        let phc = if user.password_set {
            self.deps.store.accounts.password_hash(&user.id).await?
        } else {
            None
        };
        let Some(phc) = phc.as_deref() else {
            return Err(ServiceError::RegistrationLocked);
        };
        if self.hasher.verify(password, phc).await? {
            Ok(())
        } else {
            Err(ServiceError::RegistrationLocked)
        }
    }

    async fn code_login(
        &self,
        user: UserRecord,
        device_name: Option<&str>,
        now: DateTime<Utc>,
    ) -> ServiceResult<CodeAccepted> {
        let token = self.new_session(&user, device_name, Some(now)).await?;
        tracing::info!(user_id = %user.id, "login with code");
        Ok(CodeAccepted {
            login: LoggedIn { token, user },
            new_account: false,
        })
    }

    async fn register(
        &self,
        phone: &PhoneNumber,
        device_name: Option<&str>,
        now: DateTime<Utc>,
    ) -> ServiceResult<CodeAccepted> {
        let region = phone.region().unwrap_or(self.deps.default_region);
        let user = UserRecord {
            id: crypto::new_id().into(),
            phone: phone.clone(),
            region: region.code(),
            display_name: None,
            password_set: false,
            registration_lock: false,
            created_at: now,
        };
        let token = crypto::new_token();
        let session = self.session_record(&user, device_name, &token, Some(now))?;
        match self
            .deps
            .store
            .accounts
            .create_user_with_session(&user, &session)
            .await
        {
            Ok(()) => {
                tracing::info!(user_id = %user.id, "account created");
                self.announce(dialtone_bus::Event::UserRegistered {
                    user_id: user.id.clone(),
                })
                .await;
                Ok(CodeAccepted {
                    login: LoggedIn { token, user },
                    new_account: true,
                })
            }
            // Another request registered the number a moment ago: log in to that account.
            Err(StoreError::Conflict) => {
                let user = self
                    .deps
                    .store
                    .accounts
                    .user_by_phone(phone)
                    .await?
                    .ok_or(ServiceError::VerificationExpired)?;
                self.code_login(user, device_name, now).await
            }
            Err(e) => Err(ServiceError::from(e)),
        }
    }

    async fn send_code(&self, phone: &PhoneNumber, code: &str) -> ServiceResult<()> {
        let body = sms_text(
            code,
            &self.deps.domain,
            phone.region(),
            self.deps.sms_policy.android_app_hash.as_deref(),
        );
        self.deps.sms.send(phone, &body).await.map_err(|e| {
            tracing::error!(gateway = self.deps.sms.name(), error = %e, "verification sms failed");
            ServiceError::SmsUnavailable
        })
    }
}

/// The verification SMS: short, in Chinese for Chinese numbers and English otherwise,
/// ending with the domain-bound line `@domain #code` that WebOTP and iOS read.
pub fn sms_text(
    code: &str,
    domain: &str,
    region: Option<Region>,
    app_hash: Option<&str>,
) -> String {
    let chinese = region.is_some_and(|r| r.code() == "CN");
    let mut text = if chinese {
        format!("【dialtone】验证码 {code}，10 分钟内有效，请勿告诉他人。")
    } else {
        format!("dialtone code: {code}. Valid for 10 minutes. Do not share it.")
    };
    if let Some(hash) = app_hash.filter(|h| !h.is_empty()) {
        text.push('\n');
        text.push_str(hash);
    }
    text.push_str(&format!("\n\n@{domain} #{code}"));
    text
}

fn seconds_until(now: DateTime<Utc>, then: DateTime<Utc>) -> u64 {
    let ms = (then - now).max(Duration::zero()).num_milliseconds();
    u64::try_from((ms + 999) / 1000).unwrap_or(1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_ends_with_the_webotp_line() {
        let cn = Region::parse("CN");
        let zh = sms_text("123456", "chat.example", cn, None);
        assert!(zh.contains("验证码 123456"), "{zh}");
        assert_eq!(zh.lines().last(), Some("@chat.example #123456"));
        let en = sms_text(
            "654321",
            "localhost",
            Region::parse("GB"),
            Some("FA+9qCX9VSu"),
        );
        assert!(en.starts_with("dialtone code: 654321."), "{en}");
        assert!(en.contains("\nFA+9qCX9VSu\n"), "{en}");
        assert_eq!(en.lines().last(), Some("@localhost #654321"));
    }
}
