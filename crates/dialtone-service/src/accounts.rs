//! Accounts, sessions and devices: login with a password, authentication of bearer tokens,
//! password changes, account settings, and the device list.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use dialtone_bus::{Event, EventBus};
use dialtone_core::text::one_line;
use dialtone_core::verification::{RESET_WINDOW, VERIFICATION_LIFETIME};
use dialtone_core::{Clock, PhoneNumber, Region};
use dialtone_sms::SmsGateway;
use dialtone_store::{SessionRecord, Store, UserRecord};

use crate::config::{AccountPolicy, SmsPolicy};
use crate::crypto;
use crate::limits::{Limit, RateLimiter};
use crate::passwords::PasswordHasher;
use crate::session_cache::SessionCache;
use crate::{ServiceError, ServiceResult};

/// How long `last_seen_at` of a device may lag behind its real activity.
const TOUCH_INTERVAL: Duration = Duration::seconds(60);

/// Longest display name, in characters.
const MAX_DISPLAY_NAME_CHARS: usize = 64;

/// Longest device name, in characters.
const MAX_DEVICE_NAME_CHARS: usize = 64;

/// Everything the account use cases need, built once at start.
pub struct AccountDeps {
    /// The database.
    pub store: Store,
    /// Where verification SMS go.
    pub sms: Arc<dyn SmsGateway>,
    /// The source of "now".
    pub clock: Arc<dyn Clock>,
    /// Limits and password rules.
    pub policy: AccountPolicy,
    /// SMS rules.
    pub sms_policy: SmsPolicy,
    /// Server key for hashing verification codes (kept outside the database).
    pub code_key: Vec<u8>,
    /// Public host name, for the WebOTP line of the SMS.
    pub domain: String,
    /// Region used to read national numbers when the request gives none.
    pub default_region: Region,
    /// Where registrations and revoked sessions are announced.
    pub bus: Arc<dyn EventBus>,
}

/// The account use cases.
pub struct AccountService {
    pub(crate) deps: AccountDeps,
    pub(crate) hasher: PasswordHasher,
    pub(crate) limiter: RateLimiter,
    sessions: SessionCache,
}

/// A request authenticated by its bearer token.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The user.
    pub user: UserRecord,
    /// The device (session) the token belongs to.
    pub session: SessionRecord,
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    /// The bearer token, shown once.
    pub token: String,
    /// The user logged in.
    pub user: UserRecord,
}

/// A change to account settings; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountUpdate {
    /// New display name (`Some(None)` or an empty name clears it).
    pub display_name: Option<Option<String>>,
    /// New region code.
    pub region: Option<String>,
    /// Registration lock on or off.
    pub registration_lock: Option<bool>,
}

/// A logged-in device as listed to its owner.
#[derive(Debug, Clone)]
pub struct Device {
    /// Device id.
    pub id: String,
    /// Device name.
    pub name: String,
    /// Login time.
    pub created_at: DateTime<Utc>,
    /// Last activity.
    pub last_seen_at: DateTime<Utc>,
    /// Whether this is the device asking.
    pub current: bool,
}

impl AccountService {
    /// Builds the service.
    pub fn new(deps: AccountDeps) -> Self {
        let hasher = PasswordHasher::new(deps.policy.max_concurrent_hashes);
        Self::with_hasher(deps, hasher)
    }

    /// Builds the service sharing a hasher (and its cap on concurrent hashes) with others.
    pub fn with_hasher(deps: AccountDeps, hasher: PasswordHasher) -> Self {
        let limiter = RateLimiter::new(deps.store.rate_limits.clone());
        Self {
            deps,
            hasher,
            limiter,
            sessions: SessionCache::default(),
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.deps.clock.now()
    }

    /// The password hasher, to share its cap on concurrent hashes with other services.
    pub fn hasher(&self) -> PasswordHasher {
        self.hasher.clone()
    }

    /// The server's default region.
    pub fn default_region(&self) -> Region {
        self.deps.default_region
    }

    /// Reads a phone number in the given region, else the default one.
    pub fn parse_phone(&self, input: &str, region: Option<&str>) -> ServiceResult<PhoneNumber> {
        let region = match region {
            Some(code) => Region::parse(code).ok_or(ServiceError::InvalidRegion)?,
            None => self.deps.default_region,
        };
        Ok(PhoneNumber::parse(input, Some(region))?)
    }

    /// Logs in with number and password from a new device.
    pub async fn login(
        &self,
        phone: &PhoneNumber,
        password: &str,
        device_name: Option<&str>,
        client_ip: &str,
    ) -> ServiceResult<LoggedIn> {
        let now = self.now();
        let policy = &self.deps.policy;
        let limits = [
            Limit {
                bucket: format!("login-fail:number:{phone}"),
                windows: &policy.login_failures_per_number,
            },
            Limit {
                bucket: format!("login-fail:ip:{client_ip}"),
                windows: &policy.login_failures_per_ip,
            },
        ];
        self.limiter.check(&limits, now).await?;
        let user = self.deps.store.accounts.user_by_phone(phone).await?;
        let phc = match &user {
            Some(u) if u.password_set => self.deps.store.accounts.password_hash(&u.id).await?,
            _ => None,
        };
        let ok = match phc.as_deref() {
            Some(phc) => self.hasher.verify(password, phc).await?,
            None => {
                self.hasher.verify_decoy(password).await?;
                false
            }
        };
        match user {
            Some(user) if ok => {
                let token = self.new_session(&user, device_name, None).await?;
                tracing::info!(user_id = %user.id, "login with password");
                Ok(LoggedIn { token, user })
            }
            _ => {
                self.limiter.record(&limits, now).await?;
                Err(ServiceError::InvalidCredentials)
            }
        }
    }

    /// Stores a new session for `user` and returns its token.
    pub(crate) async fn new_session(
        &self,
        user: &UserRecord,
        device_name: Option<&str>,
        verified_at: Option<DateTime<Utc>>,
    ) -> ServiceResult<String> {
        let token = crypto::new_token();
        self.deps
            .store
            .sessions
            .create(&self.session_record(user, device_name, &token, verified_at)?)
            .await?;
        Ok(token)
    }

    /// A session record for a token, not yet stored.
    pub(crate) fn session_record(
        &self,
        user: &UserRecord,
        device_name: Option<&str>,
        token: &str,
        verified_at: Option<DateTime<Utc>>,
    ) -> ServiceResult<SessionRecord> {
        let now = self.now();
        let name = device_name.map(one_line).filter(|n| !n.is_empty());
        let name = name.as_deref().unwrap_or("unnamed device");
        if name.chars().count() > MAX_DEVICE_NAME_CHARS {
            return Err(ServiceError::InvalidInput(format!(
                "device_name is longer than {MAX_DEVICE_NAME_CHARS} characters"
            )));
        }
        Ok(SessionRecord {
            id: crypto::new_id(),
            user_id: user.id.clone(),
            token_hash: crypto::token_hash(token),
            name: name.to_owned(),
            created_at: now,
            last_seen_at: now,
            verified_at,
        })
    }

    /// The user and device behind a bearer token.
    pub async fn authenticate(&self, token: &str) -> ServiceResult<Authenticated> {
        let store = &self.deps.store;
        let token_hash = crypto::token_hash(token);
        let mut auth = match self.sessions.get(&token_hash) {
            Some(auth) => auth,
            None => {
                let session = store
                    .sessions
                    .by_token_hash(&token_hash)
                    .await?
                    .ok_or(ServiceError::Unauthorized)?;
                let user = store
                    .accounts
                    .user_by_id(&session.user_id)
                    .await?
                    .ok_or(ServiceError::Unauthorized)?;
                let auth = Authenticated { user, session };
                self.sessions.put(token_hash.clone(), auth.clone());
                auth
            }
        };
        let now = self.now();
        if now - auth.session.last_seen_at > TOUCH_INTERVAL {
            store.sessions.touch(&auth.session.id, now).await?;
            auth.session.last_seen_at = now;
            self.sessions.update(&token_hash, &auth);
        }
        Ok(auth)
    }

    /// Another node revoked a session (its `session_revoked` event): its token stops
    /// working here too.
    pub fn session_revoked(&self, session_id: &str) {
        self.sessions.forget_session(session_id);
    }

    /// Forgets remembered tokens past their life (called every few seconds: a connected
    /// device, whose socket authenticated once, would otherwise keep its entry).
    pub fn forget_expired_sessions(&self) {
        self.sessions.forget_expired();
    }

    /// Events may have been missed (the bus fell behind): every token is checked against
    /// the database again.
    pub fn forget_sessions(&self) {
        self.sessions.clear();
    }

    /// Ends the asking device's session.
    pub async fn logout(&self, auth: &Authenticated) -> ServiceResult<()> {
        self.deps
            .store
            .sessions
            .delete(&auth.user.id, &auth.session.id)
            .await?;
        self.sessions.forget_session(&auth.session.id);
        self.announce(Event::SessionRevoked {
            session_id: auth.session.id.clone(),
        })
        .await;
        Ok(())
    }

    /// Announces an event; failures are logged (the change itself is stored).
    pub(crate) async fn announce(&self, event: Event) {
        if let Err(e) = self.deps.bus.publish(event).await {
            tracing::warn!(error = %e, "event not published");
        }
    }

    /// The devices logged in to the account.
    pub async fn devices(&self, auth: &Authenticated) -> ServiceResult<Vec<Device>> {
        let sessions = self.deps.store.sessions.list(&auth.user.id).await?;
        Ok(sessions
            .into_iter()
            .map(|s| Device {
                current: s.id == auth.session.id,
                id: s.id,
                name: s.name,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
            })
            .collect())
    }

    /// Logs a device out; its token stops working at once.
    pub async fn revoke_device(&self, auth: &Authenticated, device_id: &str) -> ServiceResult<()> {
        if self
            .deps
            .store
            .sessions
            .delete(&auth.user.id, device_id)
            .await?
        {
            self.sessions.forget_session(device_id);
            tracing::info!(user_id = %auth.user.id, device_id, "device revoked");
            self.announce(Event::SessionRevoked {
                session_id: device_id.to_owned(),
            })
            .await;
            Ok(())
        } else {
            Err(ServiceError::DeviceNotFound)
        }
    }

    /// Sets or changes the password; every other device is logged out.
    pub async fn set_password(
        &self,
        auth: &Authenticated,
        password: &str,
        current_password: Option<&str>,
    ) -> ServiceResult<()> {
        self.check_password_rules(password)?;
        let phc = if auth.user.password_set {
            self.deps
                .store
                .accounts
                .password_hash(&auth.user.id)
                .await?
        } else {
            None
        };
        if let Some(phc) = phc.as_deref() {
            match current_password {
                Some(current) => {
                    if !self.hasher.verify(current, phc).await? {
                        return Err(ServiceError::WrongPassword);
                    }
                }
                None => {
                    let recently_verified = auth
                        .session
                        .verified_at
                        .is_some_and(|at| self.now() - at < RESET_WINDOW);
                    if !recently_verified {
                        return Err(ServiceError::CurrentPasswordRequired);
                    }
                }
            }
        }
        let phc = self.hasher.hash(password).await?;
        let others: Vec<String> = self
            .deps
            .store
            .sessions
            .list(&auth.user.id)
            .await?
            .into_iter()
            .map(|s| s.id)
            .filter(|id| *id != auth.session.id)
            .collect();
        self.deps
            .store
            .accounts
            .set_password(&auth.user.id, &phc, &auth.session.id)
            .await?;
        // The other sessions are gone, and this one's user has a new hash.
        self.sessions.forget_user(&auth.user.id);
        for session_id in others {
            self.announce(Event::SessionRevoked { session_id }).await;
        }
        tracing::info!(user_id = %auth.user.id, "password set; other devices logged out");
        Ok(())
    }

    fn check_password_rules(&self, password: &str) -> ServiceResult<()> {
        let chars = password.chars().count();
        let policy = &self.deps.policy;
        if chars < policy.password_min_chars {
            return Err(ServiceError::WeakPassword(format!(
                "the password must have at least {} characters",
                policy.password_min_chars
            )));
        }
        if chars > policy.password_max_chars {
            return Err(ServiceError::WeakPassword(format!(
                "the password must have at most {} characters",
                policy.password_max_chars
            )));
        }
        Ok(())
    }

    /// Changes account settings.
    pub async fn update_account(
        &self,
        auth: &Authenticated,
        update: AccountUpdate,
    ) -> ServiceResult<UserRecord> {
        let mut user = auth.user.clone();
        if let Some(name) = update.display_name {
            let name = name.map(|n| one_line(&n)).filter(|n| !n.is_empty());
            if name
                .as_ref()
                .is_some_and(|n| n.chars().count() > MAX_DISPLAY_NAME_CHARS)
            {
                return Err(ServiceError::InvalidInput(format!(
                    "display_name is longer than {MAX_DISPLAY_NAME_CHARS} characters"
                )));
            }
            user.display_name = name;
        }
        if let Some(code) = update.region {
            user.region = Region::parse(&code)
                .ok_or(ServiceError::InvalidRegion)?
                .code();
        }
        if let Some(lock) = update.registration_lock {
            if lock && !user.password_set {
                return Err(ServiceError::PasswordRequired);
            }
            user.registration_lock = lock;
        }
        self.deps.store.accounts.update_settings(&user).await?;
        self.sessions.forget_user(&user.id);
        Ok(user)
    }

    /// Deletes what has expired: old verifications and rate-limit events.
    pub async fn housekeeping(&self) -> ServiceResult<()> {
        let now = self.now();
        let expired = self
            .deps
            .store
            .verifications
            .delete_expired(now - VERIFICATION_LIFETIME)
            .await?;
        let policy = &self.deps.policy;
        let longest = [
            &policy.verifications_per_number,
            &policy.verifications_per_ip,
            &policy.verifications_per_prefix,
            &policy.login_failures_per_number,
            &policy.login_failures_per_ip,
        ]
        .iter()
        .flat_map(|w| w.iter())
        .map(|w| w.period_secs)
        .max()
        .unwrap_or(86_400);
        let longest = Duration::seconds(i64::try_from(longest).unwrap_or(86_400));
        let pruned = self.limiter.prune(now, longest).await?;
        tracing::debug!(expired, pruned, "housekeeping");
        Ok(())
    }
}
