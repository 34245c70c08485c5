//! A short-lived, in-process cache of resolved callers (session or token →
//! user, role, scope), so a request does not spend three queries on "who is
//! this?" before its real work.
//!
//! Entries live at most [`TTL_MS`]. Changes made through this process
//! (logout, disabling a user, a role edit, revoking a token) drop the
//! affected entries at once; another process behind the same PostgreSQL sees
//! them within the TTL. That bound is documented in docs/SECURITY.md.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::Actor;

pub const TTL_MS: i64 = 5_000;
/// More entries than this and the cache starts over (bounded memory).
const MAX_ENTRIES: usize = 10_000;

#[derive(Clone)]
pub(crate) struct Entry {
    pub actor: Actor,
    /// The session's CSRF token; `None` for bearer tokens.
    pub csrf: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub cached_at: i64,
}

#[derive(Default)]
pub(crate) struct AuthCache {
    map: Mutex<HashMap<Vec<u8>, Entry>>,
}

impl AuthCache {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Entry>> {
        // A panic while holding the lock cannot leave an entry half-written.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, key: &[u8], now: i64) -> Option<Entry> {
        let map = self.map();
        let e = map.get(key)?;
        (now >= e.cached_at && now - e.cached_at < TTL_MS).then(|| e.clone())
    }

    pub fn put(&self, key: Vec<u8>, entry: Entry) {
        let mut map = self.map();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, entry);
    }

    pub fn touch(&self, key: &[u8], now: i64) {
        if let Some(e) = self.map().get_mut(key) {
            e.last_seen_at = now;
        }
    }

    pub fn remove(&self, key: &[u8]) {
        self.map().remove(key);
    }

    /// Drops every entry of one user (disabled, new password, new role…).
    pub fn forget_user(&self, tenant_id: &str, user_id: &str) {
        self.map()
            .retain(|_, e| !(e.actor.tenant_id == tenant_id && e.actor.user_id == user_id));
    }

    /// Drops every entry of a tenant (a role changed).
    pub fn forget_tenant(&self, tenant_id: &str) {
        self.map().retain(|_, e| e.actor.tenant_id != tenant_id);
    }
}
