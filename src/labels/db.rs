//! SQL for door labels (compile-checked against the schema; see `.sqlx/`).

use sqlx::PgExecutor;
use uuid::Uuid;

use super::DoorLabel;
use crate::domain::code::DoorCode;

/// Records a new door label.
pub async fn insert_label(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    code: &DoorCode,
    issued_by: Uuid,
) -> sqlx::Result<DoorLabel> {
    sqlx::query_as!(
        DoorLabel,
        r#"insert into door_label (customer_id, door_label_id, code, issued_by) values ($1, $2, $3, $4)
           returning customer_id, door_label_id, code as "code: DoorCode", issued_at, issued_by, revoked_at, revoked_reason"#,
        customer_id,
        Uuid::new_v4(),
        code.as_str(),
        issued_by,
    )
    .fetch_one(db)
    .await
}

/// Revokes the customer's active label, if any, and returns it.
pub async fn revoke_active_label(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    reason: &str,
) -> sqlx::Result<Option<DoorLabel>> {
    sqlx::query_as!(
        DoorLabel,
        r#"update door_label set revoked_at = now(), revoked_reason = $2
            where customer_id = $1 and revoked_at is null
        returning customer_id, door_label_id, code as "code: DoorCode", issued_at, issued_by, revoked_at, revoked_reason"#,
        customer_id,
        reason,
    )
    .fetch_optional(db)
    .await
}

/// A customer's active label.
pub async fn active_label(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
) -> sqlx::Result<Option<DoorLabel>> {
    sqlx::query_as!(
        DoorLabel,
        r#"select customer_id, door_label_id, code as "code: DoorCode", issued_at, issued_by, revoked_at, revoked_reason from door_label where customer_id = $1 and revoked_at is null"#,
        customer_id,
    )
    .fetch_optional(db)
    .await
}

/// Every label a customer had, newest first.
pub async fn list_labels(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
) -> sqlx::Result<Vec<DoorLabel>> {
    sqlx::query_as!(
        DoorLabel,
        r#"select customer_id, door_label_id, code as "code: DoorCode", issued_at, issued_by, revoked_at, revoked_reason from door_label where customer_id = $1 order by issued_at desc"#,
        customer_id,
    )
    .fetch_all(db)
    .await
}

/// The label with this code, active or revoked.
pub async fn label_by_code(
    db: impl PgExecutor<'_>,
    code: &DoorCode,
) -> sqlx::Result<Option<DoorLabel>> {
    sqlx::query_as!(
        DoorLabel,
        r#"select customer_id, door_label_id, code as "code: DoorCode", issued_at, issued_by, revoked_at, revoked_reason from door_label where code = $1"#,
        code.as_str(),
    )
    .fetch_optional(db)
    .await
}
