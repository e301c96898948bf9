//! SQL of sign-in and sessions (compile-checked against the schema; see `.sqlx/`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::{Credentials, Staff};
use crate::domain::Role;

/// The live session of a token hash: its member of staff (if active), its CSRF token and when it expires
/// (the session cache keeps it no longer).
pub async fn live_session(
    db: impl PgExecutor<'_>,
    hash: &[u8],
) -> sqlx::Result<Option<(Staff, String, DateTime<Utc>)>> {
    let row: Option<(Uuid, String, String, Role, String, DateTime<Utc>)> = sqlx::query_as(
        "select s.staff_id, s.username, s.display_name, s.role, ss.csrf_token, ss.expires_at
           from staff_session ss join staff s using (staff_id)
          where ss.token_hash = $1 and ss.revoked_at is null and ss.expires_at > now() and s.active",
    )
    .bind(hash)
    .fetch_optional(db)
    .await?;
    Ok(row.map(
        |(staff_id, username, display_name, role, csrf_token, expires_at)| {
            (
                Staff {
                    staff_id,
                    username,
                    display_name,
                    role,
                },
                csrf_token,
                expires_at,
            )
        },
    ))
}

/// An active account's credentials by (lower-case) username.
pub async fn credentials(
    db: impl PgExecutor<'_>,
    username: &str,
) -> sqlx::Result<Option<Credentials>> {
    let row = sqlx::query!(
        r#"select staff_id, username, display_name, role as "role: Role", password_hash
             from staff where username = $1 and active"#,
        username
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Credentials {
        staff: Staff {
            staff_id: r.staff_id,
            username: r.username,
            display_name: r.display_name,
            role: r.role,
        },
        password_hash: r.password_hash,
    }))
}

/// Records a new session.
pub async fn insert_session(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    staff_id: Uuid,
    expires_at: DateTime<Utc>,
    csrf_token: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into staff_session (token_hash, staff_id, expires_at, csrf_token) values ($1, $2, $3, $4)",
        token_hash,
        staff_id,
        expires_at,
        csrf_token
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Ends one session; false when it was not live.
pub async fn revoke_session(db: impl PgExecutor<'_>, token_hash: &[u8]) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update staff_session set revoked_at = now() where token_hash = $1 and revoked_at is null",
        token_hash
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Ends every session of a staff member (on deactivation or password change).
pub async fn revoke_sessions(db: impl PgExecutor<'_>, staff_id: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "update staff_session set revoked_at = now() where staff_id = $1 and revoked_at is null",
        staff_id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// One sign-in throttle counter, row-locked by the transaction that read it.
#[derive(Debug, sqlx::FromRow)]
pub struct ThrottleRow {
    /// Counted tries in the current window.
    pub failures: i32,
    /// The last counted try.
    pub last_try_at: DateTime<Utc>,
    /// When the next try may come.
    pub locked_until: Option<DateTime<Utc>>,
}

/// Reads (creating if new) and row-locks a throttle counter, so parallel tries on one subject count one by one.
pub async fn lock_throttle(
    conn: &mut sqlx::PgConnection,
    scope: &str,
    subject: &str,
) -> sqlx::Result<ThrottleRow> {
    sqlx::query_as::<_, ThrottleRow>(
        "insert into login_throttle (scope, subject) values ($1, $2)
         on conflict (scope, subject) do update set scope = excluded.scope
         returning failures, last_try_at, locked_until",
    )
    .bind(scope)
    .bind(subject)
    .fetch_one(conn)
    .await
}

/// Stores a counter after a counted try.
pub async fn set_throttle(
    db: impl PgExecutor<'_>,
    scope: &str,
    subject: &str,
    failures: i32,
    locked_until: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update login_throttle set failures = $3, last_try_at = now(), locked_until = $4
          where scope = $1 and subject = $2",
    )
    .bind(scope)
    .bind(subject)
    .bind(failures)
    .bind(locked_until)
    .execute(db)
    .await?;
    Ok(())
}

/// After a successful sign-in: the username starts afresh, and the address gets its try back.
pub async fn forgive_throttle(
    db: impl PgExecutor<'_>,
    username: &str,
    address: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update login_throttle
            set failures = case when scope = 'username' then 0 else greatest(failures - 1, 0) end,
                locked_until = case when scope = 'username' then null else locked_until end
          where (scope = 'username' and subject = $1) or (scope = 'address' and subject = $2)",
    )
    .bind(username)
    .bind(address)
    .execute(db)
    .await?;
    Ok(())
}

/// Records a sign-in attempt and its outcome (`ok`, `bad_credentials`, `throttled`).
pub async fn record_sign_in(
    db: impl PgExecutor<'_>,
    username: &str,
    staff_id: Option<Uuid>,
    address: &str,
    outcome: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into sign_in_event (username, staff_id, client_addr, outcome) values ($1, $2, $3, $4)",
    )
    .bind(username)
    .bind(staff_id)
    .bind(address)
    .bind(outcome)
    .execute(db)
    .await?;
    Ok(())
}

/// What one purge removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    /// Sessions past their end (or revoked) for a day.
    pub sessions: u64,
    /// Idempotency keys older than the retention.
    pub idempotency_keys: u64,
    /// Throttle counters untouched for longer than their window.
    pub throttles: u64,
    /// Sign-in records past `SIGN_INS_KEPT_DAYS`.
    pub sign_ins: u64,
}

/// Days a sign-in attempt (its username, which a mistyped password can be, and address) is kept: long enough to
/// look into a break-in attempt, not for ever.
pub const SIGN_INS_KEPT_DAYS: i32 = 90;

/// Deletes sessions ended more than a day ago, idempotency keys older than `key_retention`, idle throttle
/// counters and sign-in records past their days.
pub async fn purge_expired(
    db: &sqlx::PgPool,
    key_retention: chrono::Duration,
    throttle_window: chrono::Duration,
) -> sqlx::Result<Purged> {
    let sessions = sqlx::query(
        "delete from staff_session
          where expires_at < now() - interval '1 day' or revoked_at < now() - interval '1 day'",
    )
    .execute(db)
    .await?
    .rows_affected();
    let idempotency_keys = sqlx::query("delete from idempotency_key where created_at < now() - $1")
        .bind(key_retention)
        .execute(db)
        .await?
        .rows_affected();
    let throttles = sqlx::query(
        "delete from login_throttle
          where last_try_at < now() - $1 and (locked_until is null or locked_until < now())",
    )
    .bind(throttle_window)
    .execute(db)
    .await?
    .rows_affected();
    let sign_ins =
        sqlx::query("delete from sign_in_event where at < now() - make_interval(days => $1)")
            .bind(SIGN_INS_KEPT_DAYS)
            .execute(db)
            .await?
            .rows_affected();
    Ok(Purged {
        sessions,
        idempotency_keys,
        throttles,
        sign_ins,
    })
}
