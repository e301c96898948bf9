//! SQL for staff accounts.

use sqlx::PgExecutor;
use uuid::Uuid;

use super::StaffAccount;
use crate::domain::Role;

const COLUMNS: &str = "staff_id, username, display_name, role, active, created_at, updated_at";

pub async fn insert_staff(
    db: impl PgExecutor<'_>,
    username: &str,
    display_name: &str,
    role: Role,
    password_hash: &str,
) -> sqlx::Result<StaffAccount> {
    sqlx::query_as(&format!(
        "insert into staff (staff_id, username, display_name, role, password_hash) values ($1, $2, $3, $4, $5) returning {COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(username)
    .bind(display_name)
    .bind(role)
    .bind(password_hash)
    .fetch_one(db)
    .await
}

pub async fn list_staff(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<StaffAccount>> {
    sqlx::query_as(&format!("select {COLUMNS} from staff order by username"))
        .fetch_all(db)
        .await
}

pub async fn fetch_staff_for_update(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> sqlx::Result<Option<StaffAccount>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from staff where staff_id = $1 for update"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn update_staff(
    db: impl PgExecutor<'_>,
    id: Uuid,
    display_name: &str,
    role: Role,
    active: bool,
) -> sqlx::Result<StaffAccount> {
    sqlx::query_as(&format!(
        "update staff set display_name = $2, role = $3, active = $4, updated_at = now() where staff_id = $1 returning {COLUMNS}"
    ))
    .bind(id)
    .bind(display_name)
    .bind(role)
    .bind(active)
    .fetch_one(db)
    .await
}

pub async fn set_password(
    db: impl PgExecutor<'_>,
    id: Uuid,
    password_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query("update staff set password_hash = $2, updated_at = now() where staff_id = $1")
        .bind(id)
        .bind(password_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Sets the password of `username`, creating the account with `role` if it does not exist.
pub async fn upsert_staff(
    db: impl PgExecutor<'_>,
    username: &str,
    display_name: &str,
    role: Role,
    password_hash: &str,
) -> sqlx::Result<StaffAccount> {
    sqlx::query_as(&format!(
        "insert into staff (staff_id, username, display_name, role, password_hash) values ($1, $2, $3, $4, $5)
         on conflict (username) do update set password_hash = excluded.password_hash, role = excluded.role,
                                              active = true, updated_at = now()
         returning {COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(username)
    .bind(display_name)
    .bind(role)
    .bind(password_hash)
    .fetch_one(db)
    .await
}
