//! SQL of sign-in and sessions (compile-checked against the schema; see `.sqlx/`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::{Credentials, Staff};
use crate::domain::Role;

/// The active staff member behind a live session token hash, with the session's CSRF token.
pub async fn session_for_token(
    db: impl PgExecutor<'_>,
    hash: &[u8],
) -> sqlx::Result<Option<(Staff, String)>> {
    let row = sqlx::query!(
        r#"select s.staff_id, s.username, s.display_name, s.role as "role: Role", ss.csrf_token
             from staff_session ss join staff s using (staff_id)
            where ss.token_hash = $1 and ss.revoked_at is null and ss.expires_at > now() and s.active"#,
        hash
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        (
            Staff {
                staff_id: r.staff_id,
                username: r.username,
                display_name: r.display_name,
                role: r.role,
            },
            r.csrf_token,
        )
    }))
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
