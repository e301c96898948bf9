//! What every handler can reach: the database pool, the photo decoder and the run-time settings.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::decode::pool::DecodePool;
use crate::domain::clock::CompanyClock;

/// The name printed on receipts until a company sets its own.
pub const DEFAULT_COMPANY_NAME: &str = "Doorstep Laundry";

/// Argon2 hashes run at once unless `--max-concurrent-hashes` says otherwise (each takes one core for ~50 ms).
pub const DEFAULT_CONCURRENT_HASHES: usize = 2;

/// Settings the handlers need at run time.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a sign-in lasts.
    pub session_ttl: chrono::Duration,
    /// Largest photo a scan accepts, in bytes.
    pub max_photo_bytes: usize,
    /// Longest a request may run before it is answered 408.
    pub request_timeout: Duration,
    /// The company's local time; season windows and list days are local dates.
    pub clock: CompanyClock,
    /// Days after a call or visit during which a customer is left off reminder lists.
    pub contact_cap_days: i64,
    /// The company's name, printed on receipts.
    pub company_name: String,
    /// Mark the session cookie `Secure` even when no proxy says the browser used HTTPS.
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Bearer token that lets a non-loopback caller read `/metrics`.
    pub metrics_token: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session_ttl: chrono::Duration::hours(12),
            max_photo_bytes: 20 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            clock: CompanyClock::default(),
            contact_cap_days: 14,
            company_name: DEFAULT_COMPANY_NAME.to_owned(),
            secure_cookies: false,
            trust_forwarded_for: false,
            metrics_token: None,
        }
    }
}

/// Everything a handler can reach: the pool, the photo decoder and the settings.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub pool: PgPool,
    /// Connections for the scan's one statement, given back without a ping (`db::direct`).
    pub direct: crate::db::direct::DirectPool,
    /// The bounded photo-decoding pool.
    pub decoder: DecodePool,
    /// Run-time settings.
    pub settings: Arc<Settings>,
    /// Slots for argon2 hashes: at most this many run at once.
    pub hashers: Arc<tokio::sync::Semaphore>,
    /// One forecast computation at a time per series, answers shared.
    pub forecasts: Arc<crate::forecasts::single_flight::SingleFlight>,
    /// Live sessions remembered while the database can tell when they change (`auth::cache`).
    pub sessions: Arc<crate::auth::SessionCache>,
    /// The reminder list's estimates per list day and window, refitted in the background.
    pub outlook: Arc<crate::lists::outlook::OutlookCache>,
    /// The access log's batched writer for reads on the hot paths.
    pub reads: crate::access::reads::ReadLog,
    /// The writer of built door cards, so the next scan of an unchanged customer reads them whole.
    pub cards: crate::profile::kept::CardKeeper,
}

impl FromRef<AppState> for Arc<crate::auth::SessionCache> {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> Self {
        state.pool.clone()
    }
}

impl FromRef<AppState> for Arc<Settings> {
    fn from_ref(state: &AppState) -> Self {
        state.settings.clone()
    }
}

impl AppState {
    /// State with default settings and a decoder sized to the machine, as tests and tools use it.
    pub fn new(pool: PgPool) -> Self {
        AppState {
            pool: pool.clone(),
            direct: crate::db::direct::DirectPool::for_pool(&pool),
            decoder: DecodePool::default(),
            settings: Arc::new(Settings::default()),
            hashers: Arc::new(tokio::sync::Semaphore::new(DEFAULT_CONCURRENT_HASHES)),
            forecasts: Arc::default(),
            sessions: Arc::default(),
            outlook: Arc::default(),
            reads: crate::access::reads::ReadLog::spawn(pool.clone()),
            cards: crate::profile::kept::CardKeeper::spawn(pool),
        }
    }
}
