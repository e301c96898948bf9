//! Live sessions remembered for a few seconds, forgotten at once when any session or account changes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use sqlx::PgPool;

use super::Staff;

/// The channel the triggers of migration 20261202001700 notify on every change to a session or an account.
pub const CHANNEL: &str = "doorstep_sessions";
/// How long a session is trusted without asking the database (never past its own expiry).
const KEEP: Duration = Duration::from_secs(30);
/// Sessions remembered at most; the map starts over when it is full.
const MAX_ENTRIES: usize = 10_000;

/// Saves the session lookup on hot paths (a scan is two round trips with it, three without). It answers only
/// while [`spawn_listener`] is connected to the database, so a revoked session, a deactivated account or a
/// changed role is refused as soon as its change commits, in this process and in every other one.
#[derive(Default)]
pub struct SessionCache {
    listening: AtomicBool,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Bumped whenever everything is forgotten: a lookup begun before cannot store what it read.
    epoch: u64,
    entries: HashMap<Vec<u8>, Entry>,
}

struct Entry {
    staff: Staff,
    csrf_token: String,
    until: Instant,
}

impl SessionCache {
    /// The remembered session of a token hash, if it is still fresh.
    pub fn get(&self, hash: &[u8]) -> Option<(Staff, String)> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        let inner = self.inner.lock().ok()?;
        let e = inner.entries.get(hash)?;
        (e.until > Instant::now()).then(|| (e.staff.clone(), e.csrf_token.clone()))
    }

    /// Whether sessions are remembered now (the listener is connected).
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Taken before asking the database, handed to [`SessionCache::put`].
    pub fn epoch(&self) -> u64 {
        self.inner.lock().map_or(u64::MAX, |i| i.epoch)
    }

    /// Remembers a session read from the database, unless something changed since `epoch` was taken.
    pub fn put(
        &self,
        epoch: u64,
        hash: &[u8],
        staff: &Staff,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) {
        if !self.listening.load(Ordering::Acquire) {
            return;
        }
        let left = (expires_at - Utc::now()).to_std().unwrap_or_default();
        let keep = KEEP.min(left);
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.epoch != epoch || keep.is_zero() {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner.entries.insert(
            hash.to_vec(),
            Entry {
                staff: staff.clone(),
                csrf_token: csrf_token.to_owned(),
                until: Instant::now() + keep,
            },
        );
    }

    /// Forgets every session: a change committed here, or announced by the database.
    pub fn forget_all(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.epoch = inner.epoch.wrapping_add(1);
            inner.entries.clear();
        }
    }

    fn set_listening(&self, on: bool) {
        self.forget_all();
        self.listening.store(on, Ordering::Release);
        self.forget_all();
    }
}

/// Listens for session and account changes and forgets every session on each; while the connection is down
/// nothing is remembered (every request asks the database), and it reconnects every second.
pub fn spawn_listener(pool: PgPool, cache: Arc<SessionCache>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match PgListener::connect_with(&pool).await {
                Ok(mut listener) => match listener.listen(CHANNEL).await {
                    Ok(()) => {
                        cache.set_listening(true);
                        // `None`: the connection was lost, and notifications with it.
                        while let Ok(Some(_)) = listener.try_recv().await {
                            cache.forget_all();
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "could not listen for session changes"),
                },
                Err(e) => {
                    tracing::warn!(error = %e, "could not connect to listen for session changes")
                }
            }
            cache.set_listening(false);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn staff() -> Staff {
        Staff {
            staff_id: uuid::Uuid::nil(),
            username: "u".into(),
            display_name: "U".into(),
            role: Role::Pickup,
        }
    }

    #[test]
    fn remembers_only_while_listening_and_until_forgotten() {
        let cache = SessionCache::default();
        let later = Utc::now() + chrono::Duration::hours(1);
        cache.put(cache.epoch(), b"t", &staff(), "c", later);
        assert!(cache.get(b"t").is_none(), "not listening: nothing kept");

        cache.set_listening(true);
        cache.put(cache.epoch(), b"t", &staff(), "c", later);
        assert_eq!(cache.get(b"t").map(|s| s.1), Some("c".to_owned()));

        let before = cache.epoch();
        cache.forget_all();
        assert!(cache.get(b"t").is_none());
        cache.put(before, b"t", &staff(), "c", later);
        assert!(
            cache.get(b"t").is_none(),
            "a lookup begun before a change is not kept"
        );

        cache.put(
            cache.epoch(),
            b"old",
            &staff(),
            "c",
            Utc::now() - chrono::Duration::seconds(1),
        );
        assert!(
            cache.get(b"old").is_none(),
            "an expired session is not kept"
        );

        cache.put(cache.epoch(), b"t", &staff(), "c", later);
        cache.set_listening(false);
        assert!(
            cache.get(b"t").is_none(),
            "the listener lost: nothing answered"
        );
    }
}
