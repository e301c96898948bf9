//! SQL for the composed customer views.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// One page of a customer's history as (is a pickup, its id), newest first.
pub async fn history_keys(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<(bool, Uuid)>> {
    let rows: Vec<(bool, Uuid, DateTime<Utc>)> = sqlx::query_as(
        "select true, pickup_id, collected_at as at from pickup where customer_id = $1
         union all
         select false, interaction_id, occurred_at from interaction where customer_id = $1
         order by 3 desc, 2
         limit $2 offset $3",
    )
    .bind(customer_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(p, id, _)| (p, id)).collect())
}
