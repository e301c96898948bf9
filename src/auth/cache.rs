//! Live sessions remembered for a few seconds, forgotten at once when any session or account changes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::PgPool;

use super::Staff;

/// The channel the triggers of migration 20261202001700 notify on every change to a session or an account.
pub const CHANNEL: &str = "doorstep_sessions";
/// How long a session is trusted without asking the database (never past its own expiry).
const KEEP: Duration = Duration::from_secs(30);
/// The channel each process notifies on every [`BEAT`]: hearing it proves the listening connection is alive.
const BEAT_CHANNEL: &str = "doorstep_sessions_beat";
/// How often a process sends its heartbeat.
const BEAT: Duration = Duration::from_secs(2);
/// Silence (three missed heartbeats) after which the listener counts as lost (a connection can die without a word, and its changes with
/// it): nothing is answered from memory, and it reconnects.
const HEARD_WITHIN: Duration = Duration::from_secs(6);
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
    /// When the listener last heard from the database.
    heard: Option<Instant>,
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
        if inner.heard.is_none_or(|at| at.elapsed() > HEARD_WITHIN) {
            return None;
        }
        let e = inner.entries.get(hash)?;
        (e.until > Instant::now()).then(|| (e.staff.clone(), e.csrf_token.clone()))
    }

    /// Whether sessions are remembered now (the listener is connected).
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// When the listener last heard from the database (a change or a heartbeat).
    pub fn last_heard(&self) -> Option<Instant> {
        self.inner.lock().ok().and_then(|i| i.heard)
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
        self.heard(on);
        self.listening.store(on, Ordering::Release);
        self.forget_all();
    }

    /// Notes that the listener heard from the database now (or, `false`, that it is lost).
    fn heard(&self, alive: bool) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.heard = alive.then(Instant::now);
        }
    }
}

/// Listens for session and account changes and forgets every session on each; while the connection is down, or
/// silent longer than [`HEARD_WITHIN`] despite the heartbeat, nothing is remembered (every request asks the
/// database), and it reconnects every second.
pub fn spawn_listener(pool: PgPool, cache: Arc<SessionCache>) -> tokio::task::JoinHandle<()> {
    // Its own few connections: a pool saturated by requests must not delay the heartbeat (and turn the cache off
    // when it helps most), and a dead listener's clean-up must not hold one of the requests' connections.
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy_with(pool.connect_options().as_ref().clone());
    tokio::spawn(async move {
        let mut beat = Beat(spawn_beat(pool.clone()));
        loop {
            if beat.0.is_finished() {
                beat = Beat(spawn_beat(pool.clone()));
            }
            match PgListener::connect_with(&pool).await {
                Ok(mut listener) => match listener.listen_all([CHANNEL, BEAT_CHANNEL]).await {
                    Ok(()) => {
                        cache.set_listening(true);
                        // A silent connection is dropped rather than trusted, so a read cut short is harmless.
                        loop {
                            match tokio::time::timeout(HEARD_WITHIN, listener.try_recv()).await {
                                Ok(Ok(Some(n))) => {
                                    if n.channel() == CHANNEL {
                                        cache.forget_all();
                                    }
                                    cache.heard(true);
                                }
                                // `None`: the connection was lost, and notifications with it.
                                Ok(Ok(None)) | Ok(Err(_)) => break,
                                Err(_) => {
                                    tracing::warn!("no word on the session listener; reconnecting");
                                    break;
                                }
                            }
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

/// The heartbeat task, stopped with the listener that started it.
struct Beat(tokio::task::JoinHandle<()>);

impl Drop for Beat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Notifies [`BEAT_CHANNEL`] every [`BEAT`], so every process's listener hears from the database while it is up.
fn spawn_beat(pool: PgPool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(BEAT).await;
            if let Err(e) = sqlx::query("select pg_notify($1, '')")
                .bind(BEAT_CHANNEL)
                .execute(&pool)
                .await
            {
                tracing::debug!(error = %e, "session heartbeat not sent");
            }
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
        if let Ok(mut inner) = cache.inner.lock() {
            inner.heard = Instant::now().checked_sub(HEARD_WITHIN + Duration::from_secs(1));
        }
        assert!(
            cache.get(b"t").is_none(),
            "a listener silent too long: nothing answered"
        );
        cache.heard(true);
        assert!(cache.get(b"t").is_some());
        cache.set_listening(false);
        assert!(
            cache.get(b"t").is_none(),
            "the listener lost: nothing answered"
        );
    }
}
