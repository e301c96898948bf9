//! SQL for staff accounts (compile-checked against the schema; see `.sqlx/`).

use sqlx::PgExecutor;
use uuid::Uuid;

use super::StaffAccount;
use crate::domain::username::Username;
use crate::domain::Role;

/// Creates an active account.
pub async fn insert_staff(
    db: impl PgExecutor<'_>,
    username: &Username,
    display_name: &str,
    role: Role,
    password_hash: &str,
) -> sqlx::Result<StaffAccount> {
    sqlx::query_as!(
        StaffAccount,
        r#"insert into staff (staff_id, username, display_name, role, password_hash)
           values ($1, $2, $3, $4, $5)
           returning staff_id, username as "username: Username", display_name, role as "role: Role",
                     active, created_at, updated_at"#,
        Uuid::new_v4(),
        username.as_str(),
        display_name,
        role.name(),
        password_hash,
    )
    .fetch_one(db)
    .await
}

/// Every account by username.
pub async fn list_staff(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<StaffAccount>> {
    sqlx::query_as!(
        StaffAccount,
        r#"select staff_id, username as "username: Username", display_name, role as "role: Role",
                  active, created_at, updated_at
             from staff order by username"#
    )
    .fetch_all(db)
    .await
}

/// An account, locked for a change.
pub async fn fetch_staff_for_update(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> sqlx::Result<Option<StaffAccount>> {
    sqlx::query_as!(
        StaffAccount,
        r#"select staff_id, username as "username: Username", display_name, role as "role: Role",
                  active, created_at, updated_at
             from staff where staff_id = $1 for update"#,
        id
    )
    .fetch_optional(db)
    .await
}

/// Changes an account's name, role or activity.
pub async fn update_staff(
    db: impl PgExecutor<'_>,
    id: Uuid,
    display_name: &str,
    role: Role,
    active: bool,
) -> sqlx::Result<StaffAccount> {
    sqlx::query_as!(
        StaffAccount,
        r#"update staff set display_name = $2, role = $3, active = $4, updated_at = now()
            where staff_id = $1
        returning staff_id, username as "username: Username", display_name, role as "role: Role",
                  active, created_at, updated_at"#,
        id,
        display_name,
        role.name(),
        active,
    )
    .fetch_one(db)
    .await
}

/// Sets a new password hash.
pub async fn set_password(
    db: impl PgExecutor<'_>,
    id: Uuid,
    password_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update staff set password_hash = $2, updated_at = now() where staff_id = $1",
        id,
        password_hash
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Sets the password of `username`, creating the account with `role` if it does not exist.
pub async fn upsert_staff(
    db: impl PgExecutor<'_>,
    username: &Username,
    display_name: &str,
    role: Role,
    password_hash: &str,
) -> sqlx::Result<StaffAccount> {
    sqlx::query_as!(
        StaffAccount,
        r#"insert into staff (staff_id, username, display_name, role, password_hash) values ($1, $2, $3, $4, $5)
           on conflict (username) do update set password_hash = excluded.password_hash, role = excluded.role,
                                                active = true, updated_at = now()
           returning staff_id, username as "username: Username", display_name, role as "role: Role",
                     active, created_at, updated_at"#,
        Uuid::new_v4(),
        username.as_str(),
        display_name,
        role.name(),
        password_hash,
    )
    .fetch_one(db)
    .await
}
