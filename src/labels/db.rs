//! SQL for door labels.

use sqlx::PgExecutor;
use uuid::Uuid;

use super::DoorLabel;

const COLUMNS: &str =
    "customer_id, door_label_id, code, issued_at, issued_by, revoked_at, revoked_reason";

pub async fn insert_label(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    code: &str,
    issued_by: Uuid,
) -> sqlx::Result<DoorLabel> {
    sqlx::query_as(&format!(
        "insert into door_label (customer_id, door_label_id, code, issued_by) values ($1, $2, $3, $4) returning {COLUMNS}"
    ))
    .bind(customer_id)
    .bind(Uuid::new_v4())
    .bind(code)
    .bind(issued_by)
    .fetch_one(db)
    .await
}

/// Revokes the customer's active label, if any, and returns it.
pub async fn revoke_active_label(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    reason: &str,
) -> sqlx::Result<Option<DoorLabel>> {
    sqlx::query_as(&format!(
        "update door_label set revoked_at = now(), revoked_reason = $2
          where customer_id = $1 and revoked_at is null returning {COLUMNS}"
    ))
    .bind(customer_id)
    .bind(reason)
    .fetch_optional(db)
    .await
}

pub async fn active_label(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
) -> sqlx::Result<Option<DoorLabel>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from door_label where customer_id = $1 and revoked_at is null"
    ))
    .bind(customer_id)
    .fetch_optional(db)
    .await
}

pub async fn list_labels(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
) -> sqlx::Result<Vec<DoorLabel>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from door_label where customer_id = $1 order by issued_at desc"
    ))
    .bind(customer_id)
    .fetch_all(db)
    .await
}

/// The label with this code, active or revoked.
pub async fn label_by_code(db: impl PgExecutor<'_>, code: &str) -> sqlx::Result<Option<DoorLabel>> {
    sqlx::query_as(&format!("select {COLUMNS} from door_label where code = $1"))
        .bind(code)
        .fetch_optional(db)
        .await
}
