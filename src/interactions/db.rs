//! SQL for interactions: record, list, open complaints, resolve.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::Interaction;
use crate::domain::{Channel, InteractionKind};
use crate::pagination::PageRequest;

pub(crate) const COLUMNS: &str =
    "customer_id, interaction_id, staff_id, kind, channel, body, occurred_at, created_at, \
                       resolved_at, resolved_by, resolution";

/// A contact to record.
pub struct NewInteraction<'a> {
    /// The customer.
    pub customer_id: Uuid,
    /// Who recorded it (none for imported history).
    pub staff_id: Option<Uuid>,
    /// Call, visit, complaint or note.
    pub kind: InteractionKind,
    /// How it happened.
    pub channel: Channel,
    /// What was said.
    pub body: &'a str,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// Records an interaction.
pub async fn insert_interaction(
    db: impl PgExecutor<'_>,
    i: &NewInteraction<'_>,
) -> sqlx::Result<Interaction> {
    sqlx::query_as(&format!(
        "insert into interaction (customer_id, interaction_id, staff_id, kind, channel, body, occurred_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning {COLUMNS}"
    ))
    .bind(i.customer_id)
    .bind(crate::db::new_id())
    .bind(i.staff_id)
    .bind(i.kind)
    .bind(i.channel)
    .bind(i.body)
    .bind(i.occurred_at)
    .fetch_one(db)
    .await
}

/// A page of a customer's interactions, newest first.
pub async fn list_interactions(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    kind: Option<InteractionKind>,
    page: PageRequest,
) -> sqlx::Result<Vec<Interaction>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from interaction
          where customer_id = $1 and ($2::text is null or kind = $2)
          order by occurred_at desc, interaction_id
          limit $3 offset $4"
    ))
    .bind(customer_id)
    .bind(kind)
    .bind(page.fetch())
    .bind(page.offset)
    .fetch_all(db)
    .await
}

/// Marks an open complaint resolved; `None` when there is no such open complaint.
pub async fn resolve_complaint(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    interaction_id: Uuid,
    staff_id: Uuid,
    resolution: &str,
) -> sqlx::Result<Option<Interaction>> {
    sqlx::query_as(&format!(
        "update interaction set resolved_at = now(), resolved_by = $3, resolution = $4
          where customer_id = $1 and interaction_id = $2 and kind = 'complaint' and resolved_at is null
         returning {COLUMNS}"
    ))
    .bind(customer_id)
    .bind(interaction_id)
    .bind(staff_id)
    .bind(resolution)
    .fetch_optional(db)
    .await
}

/// The given interactions of a customer, in no particular order.
pub async fn interactions_by_ids(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Interaction>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from interaction where customer_id = $1 and interaction_id = any($2)"
    ))
    .bind(customer_id)
    .bind(ids)
    .fetch_all(db)
    .await
}
