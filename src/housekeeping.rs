//! Background housekeeping: purges ended sessions, idempotency keys past their retention, idle sign-in
//! throttle counters, old sign-in records and the list change log's old rows, on start and then every few minutes.

use std::time::Duration;

use sqlx::PgPool;

use crate::auth::db::{purge_expired, Purged};

/// Default days an idempotency key is kept: longer than any phone keeps retrying an offline visit (the pickup
/// app asks the worker after 5 days).
pub const DEFAULT_IDEMPOTENCY_RETENTION_DAYS: i64 = 7;

/// How often the purge runs.
pub const PURGE_EVERY: Duration = Duration::from_secs(10 * 60);

/// One purge pass.
pub async fn purge_once(pool: &PgPool, key_retention_days: i64) -> sqlx::Result<Purged> {
    let window = chrono::Duration::from_std(crate::auth::throttle::WINDOW)
        .unwrap_or(chrono::Duration::hours(1));
    purge_expired(
        pool,
        chrono::Duration::days(key_retention_days.max(1)),
        window,
    )
    .await
}

/// Runs the purge forever (a failed pass, e.g. while the database is down, is logged and retried next time).
pub fn spawn_purge(pool: PgPool, key_retention_days: i64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match purge_once(&pool, key_retention_days).await {
                Ok(p) if p != Purged::default() => tracing::info!(
                    sessions = p.sessions,
                    idempotency_keys = p.idempotency_keys,
                    throttles = p.throttles,
                    sign_ins = p.sign_ins,
                    "purged expired records"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge failed; retrying later"),
            }
            match crate::lists::maintained::prune(&pool).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "pruned the list change log"),
                Err(e) => {
                    tracing::warn!(error = %e, "pruning the list change log failed; retrying later")
                }
            }
        }
    })
}
