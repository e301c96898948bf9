//! A customer's history: pickups (with their lines) and interactions, newest first, paginated.

use std::collections::HashMap;

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::db;
use crate::auth::{AnyStaff, Authed};
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Path, Query};
use crate::interactions::{self, Interaction};
use crate::pagination::{Page, PageParams};
use crate::pickups::{self, PickupLineView, PickupSummary};
use crate::state::AppState;

/// One entry of the history: a pickup or an interaction.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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

/// Paging of the history.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /api/v1/customers/{id}/history`: pickups and interactions, newest first.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/history", tag = "customers", params(("customer_id" = Uuid, Path, description = "the customer"), HistoryParams), responses((status = 200, body = Page<HistoryEntry>)))]
pub async fn get_history(
    State(state): State<AppState>,
    Authed(staff, _): Authed<AnyStaff>,
    Path(customer_id): Path<Uuid>,
    Query(params): Query<HistoryParams>,
) -> AppResult<Json<Page<HistoryEntry>>> {
    let page = PageParams {
        limit: params.limit,
        offset: params.offset,
    }
    .check()?;
    if !crate::customers::db::customer_exists(&state.pool, customer_id).await? {
        return Err(AppError::NotFound("customer"));
    }
    crate::access::note_read(&state, staff.staff_id, "history_view", customer_id).await;
    let keys = db::history_keys(&state.pool, customer_id, page.fetch(), page.offset).await?;
    let pickup_ids: Vec<Uuid> = keys.iter().filter(|k| k.0).map(|k| k.1).collect();
    let interaction_ids: Vec<Uuid> = keys.iter().filter(|k| !k.0).map(|k| k.1).collect();
    let mut summaries: HashMap<Uuid, PickupSummary> =
        pickups::db::summaries_of(&state.pool, customer_id, &pickup_ids)
            .await?
            .into_iter()
            .map(|s| (s.pickup_id, s))
            .collect();
    let mut lines: HashMap<Uuid, Vec<PickupLineView>> = HashMap::new();
    for line in pickups::db::lines_of(&state.pool, customer_id, &pickup_ids).await? {
        lines.entry(line.pickup_id).or_default().push(line);
    }
    let mut interactions: HashMap<Uuid, Interaction> =
        interactions::db::interactions_by_ids(&state.pool, customer_id, &interaction_ids)
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
