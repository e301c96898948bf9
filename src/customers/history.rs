//! A customer's history: pickups (with their lines) and interactions, newest first, paginated.

use std::collections::HashMap;

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::{AnyStaff, Authed};
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Path, Query};
use crate::interactions::Interaction;
use crate::pagination::{Page, PageParams};
use crate::pickups::{self, PickupLineView, PickupSummary};

/// One entry of the history: a pickup or an interaction.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HistoryEntry {
    Pickup {
        at: DateTime<Utc>,
        #[serde(flatten)]
        pickup: PickupSummary,
        lines: Vec<PickupLineView>,
    },
    Interaction {
        at: DateTime<Utc>,
        #[serde(flatten)]
        interaction: Interaction,
    },
}

#[derive(Debug, Deserialize)]
pub struct HistoryParams {
    limit: Option<i64>,
    offset: Option<i64>,
}

pub async fn get_history(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path(customer_id): Path<Uuid>,
    Query(params): Query<HistoryParams>,
) -> AppResult<Json<Page<HistoryEntry>>> {
    let page = PageParams {
        limit: params.limit,
        offset: params.offset,
    }
    .check()?;
    if !super::db::customer_exists(&state.pool, customer_id).await? {
        return Err(AppError::NotFound("customer"));
    }
    let keys: Vec<(bool, Uuid)> = sqlx::query_as(
        "select true, pickup_id, collected_at as at from pickup where customer_id = $1
         union all
         select false, interaction_id, occurred_at from interaction where customer_id = $1
         order by 3 desc, 2
         limit $2 offset $3",
    )
    .bind(customer_id)
    .bind(page.fetch())
    .bind(page.offset)
    .fetch_all(&state.pool)
    .await?
    .into_iter()
    .map(|(is_pickup, id, _): (bool, Uuid, DateTime<Utc>)| (is_pickup, id))
    .collect();
    let pickup_ids: Vec<Uuid> = keys.iter().filter(|k| k.0).map(|k| k.1).collect();
    let interaction_ids: Vec<Uuid> = keys.iter().filter(|k| !k.0).map(|k| k.1).collect();
    let mut summaries: HashMap<Uuid, PickupSummary> = sqlx::query_as::<_, PickupSummary>(
        "select p.pickup_id, p.collected_at, p.received_at, p.staff_id, p.notes,
                count(pl.line_no) as line_count, coalesce(sum(pl.price_cents), 0)::bigint as total_cents
           from pickup p left join pickup_line pl on pl.customer_id = p.customer_id and pl.pickup_id = p.pickup_id
          where p.customer_id = $1 and p.pickup_id = any($2)
          group by p.customer_id, p.pickup_id",
    )
    .bind(customer_id)
    .bind(&pickup_ids)
    .fetch_all(&state.pool)
    .await?
    .into_iter()
    .map(|s| (s.pickup_id, s))
    .collect();
    let mut lines: HashMap<Uuid, Vec<PickupLineView>> = HashMap::new();
    for line in pickups::db::lines_of(&state.pool, customer_id, &pickup_ids).await? {
        lines.entry(line.pickup_id).or_default().push(line);
    }
    let mut interactions: HashMap<Uuid, Interaction> = sqlx::query_as::<_, Interaction>(
        "select customer_id, interaction_id, staff_id, kind, channel, body, occurred_at, created_at, resolved_at,
                resolved_by, resolution
           from interaction where customer_id = $1 and interaction_id = any($2)",
    )
    .bind(customer_id)
    .bind(&interaction_ids)
    .fetch_all(&state.pool)
    .await?
    .into_iter()
    .map(|i| (i.interaction_id, i))
    .collect();
    let entries = keys
        .into_iter()
        .filter_map(|(is_pickup, id)| {
            if is_pickup {
                let pickup = summaries.remove(&id)?;
                Some(HistoryEntry::Pickup {
                    at: pickup.collected_at,
                    lines: lines.remove(&id).unwrap_or_default(),
                    pickup,
                })
            } else {
                let interaction = interactions.remove(&id)?;
                Some(HistoryEntry::Interaction {
                    at: interaction.occurred_at,
                    interaction,
                })
            }
        })
        .collect();
    Ok(Json(page.page(entries)))
}
