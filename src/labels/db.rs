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
        crate::db::new_id(),
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

/// A customer as a label sheet needs them: consent, and the active label's code if there is one.
#[derive(Debug, sqlx::FromRow)]
pub struct SheetCustomer {
    pub(crate) customer_id: Uuid,
    pub(crate) consent: bool,
    pub(crate) code: Option<String>,
}

/// The named customers (locked, in the order asked), with their active label codes.
pub async fn sheet_customers(
    db: impl PgExecutor<'_>,
    customer_ids: &[Uuid],
) -> sqlx::Result<Vec<SheetCustomer>> {
    sqlx::query_as(
        "select c.customer_id, c.label_consent_at is not null as consent, l.code
           from unnest($1::uuid[]) with ordinality as want(customer_id, n)
           join customer c on c.customer_id = want.customer_id
           left join door_label l on l.customer_id = c.customer_id and l.revoked_at is null
          order by want.n
            for update of c",
    )
    .bind(customer_ids)
    .fetch_all(db)
    .await
}

/// Customers who agreed to a door label but have none printed (no active label, or one never printed).
pub async fn unprinted_customers(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select c.customer_id from customer c
          where c.label_consent_at is not null
            and not exists (select 1 from door_label l where l.customer_id = c.customer_id
                             and l.revoked_at is null and l.printed_at is not null)
          order by c.created_at, c.customer_id
          limit $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

/// How many customers `unprinted_customers` would give without a limit.
pub async fn count_unprinted(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select count(*) from customer c
          where c.label_consent_at is not null
            and not exists (select 1 from door_label l where l.customer_id = c.customer_id
                             and l.revoked_at is null and l.printed_at is not null)",
    )
    .fetch_one(db)
    .await
}

/// Marks these customers' active labels printed now.
pub async fn mark_printed(db: impl PgExecutor<'_>, customer_ids: &[Uuid]) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "update door_label set printed_at = now()
          where customer_id = any($1) and revoked_at is null",
    )
    .bind(customer_ids)
    .execute(db)
    .await?
    .rows_affected())
}
