//! Tokens recently authenticated by this process, so a request does not read its session
//! and its user from the database each time (two queries that were most of an HTTP send's
//! database work).
//!
//! What may not go stale, does not: every change this process makes to a session or a
//! user forgets the entries it touches before the change returns (a revoked token fails at
//! once here), and a session revoked on another node is forgotten when its
//! `session_revoked` event arrives. An entry also lives at most [`TTL`], which bounds what
//! could be missed (an event lost between nodes, a setting changed on another node).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::accounts::Authenticated;

/// Longest life of an entry.
pub const TTL: Duration = Duration::from_secs(5);

/// Most entries kept; past it the cache starts again empty (an entry costs a few hundred
/// bytes; each connected device or active client holds one).
const MAX_ENTRIES: usize = 200_000;

/// Authenticated requests by token hash.
#[derive(Default)]
pub(crate) struct SessionCache {
    entries: Mutex<HashMap<String, (Authenticated, Instant)>>,
}

impl SessionCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Authenticated, Instant)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The request of this token, if authenticated here less than [`TTL`] ago.
    pub(crate) fn get(&self, token_hash: &str) -> Option<Authenticated> {
        let mut entries = self.entries();
        match entries.get(token_hash) {
            Some((auth, at)) if at.elapsed() < TTL => Some(auth.clone()),
            Some(_) => {
                entries.remove(token_hash);
                None
            }
            None => None,
        }
    }

    /// Keeps what a token authenticated as.
    pub(crate) fn put(&self, token_hash: String, auth: Authenticated) {
        let mut entries = self.entries();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(token_hash, (auth, Instant::now()));
    }

    /// Replaces a kept entry's request (a touched session), keeping its age.
    pub(crate) fn update(&self, token_hash: &str, auth: &Authenticated) {
        if let Some((kept, _)) = self.entries().get_mut(token_hash) {
            *kept = auth.clone();
        }
    }

    /// Forgets a session (logged out, revoked, here or on another node).
    pub(crate) fn forget_session(&self, session_id: &str) {
        self.entries()
            .retain(|_, (auth, _)| auth.session.id != session_id);
    }

    /// Forgets every session of a user (their record changed).
    pub(crate) fn forget_user(&self, user_id: &str) {
        self.entries()
            .retain(|_, (auth, _)| auth.user.id != user_id);
    }

    /// Forgets the entries older than [`TTL`], which no request can use any more: without
    /// this each device that connected once keeps its entry (a few hundred bytes) for as
    /// long as its socket stays open and silent. Called every few seconds.
    pub(crate) fn forget_expired(&self) {
        self.forget_expired_at(Instant::now());
    }

    fn forget_expired_at(&self, now: Instant) {
        let mut entries = self.entries();
        entries.retain(|_, (_, at)| now.saturating_duration_since(*at) < TTL);
        // A burst of logins leaves a table sized for it.
        if entries.capacity() > 4 * entries.len().max(64) {
            entries.shrink_to_fit();
        }
    }

    /// Forgets everything (events may have been missed).
    pub(crate) fn clear(&self) {
        self.entries().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use dialtone_core::PhoneNumber;
    use dialtone_store::{SessionRecord, UserRecord};

    fn auth(n: u32) -> Authenticated {
        let now = Utc::now();
        Authenticated {
            user: UserRecord {
                id: format!("u{n}").into(),
                phone: PhoneNumber::parse("+8613800138000", None).expect("valid number"),
                region: "CN".into(),
                display_name: None,
                password_set: false,
                registration_lock: false,
                created_at: now,
            },
            session: SessionRecord {
                id: format!("s{n}"),
                user_id: format!("u{n}").into(),
                token_hash: format!("t{n}"),
                name: "phone".into(),
                created_at: now,
                last_seen_at: now,
                verified_at: None,
            },
        }
    }

    #[test]
    fn expired_entries_are_forgotten_and_fresh_ones_kept() {
        let cache = SessionCache::default();
        for n in 0..1000 {
            cache.put(format!("t{n}"), auth(n));
        }
        cache.forget_expired();
        assert!(cache.get("t7").is_some(), "an entry within its life stays");
        cache.forget_expired_at(Instant::now() + TTL);
        assert!(cache.entries().is_empty());
        assert!(
            cache.entries().capacity() < 1000,
            "the table shrinks after a burst"
        );
    }
}
