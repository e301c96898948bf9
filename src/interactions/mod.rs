//! Interactions: every call, visit, complaint and note, so nobody forgets what a customer said.

pub mod db;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{AnyStaff, Authed};
use crate::domain::{Channel, InteractionKind};
use crate::error::{AppError, AppResult};
use crate::extract::{json_body, Json, Path, Query};
use crate::idempotency::{self, IdempotencyKey};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

/// One recorded contact with a customer.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Interaction {
    pub(crate) customer_id: Uuid,
    pub(crate) interaction_id: Uuid,
    pub(crate) staff_id: Option<Uuid>,
    pub(crate) kind: InteractionKind,
    pub(crate) channel: Channel,
    pub(crate) body: String,
    pub(crate) occurred_at: DateTime<Utc>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) resolved_at: Option<DateTime<Utc>>,
    pub(crate) resolved_by: Option<Uuid>,
    pub(crate) resolution: Option<String>,
}

/// The interaction routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_interactions, create_interaction))
        .routes(routes!(resolve_complaint))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewInteractionRequest {
    kind: InteractionKind,
    channel: Channel,
    body: String,
    occurred_at: Option<DateTime<Utc>>,
}

/// Records a call, visit, complaint or note on the customer.
#[utoipa::path(post, path = "/api/v1/customers/{customer_id}/interactions", tag = "customers", params(("customer_id" = Uuid, Path, description = "the customer"), ("Idempotency-Key" = Option<String>, Header, description = "optional; a retry with the same key records the interaction once")), request_body = NewInteractionRequest, responses((status = 201, body = Interaction, links(("ResolveComplaint" = (operation_id = "resolve_complaint", parameters(("customer_id" = "$response.body#/customer_id"), ("interaction_id" = "$response.body#/interaction_id"))))))))]
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
async fn create_interaction(
    State(state): State<AppState>,
    Authed(staff, _): Authed<AnyStaff>,
    Path(customer_id): Path<Uuid>,
    key: Option<IdempotencyKey>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let req: NewInteractionRequest = json_body(&headers, &body, "the interaction")?;
    let keyed = idempotency::keyed(key, &body);
    let body = req.body.trim();
    if body.is_empty() {
        return Err(AppError::invalid("body", "say what was said or done"));
    }
    if body.chars().count() > 4000 {
        return Err(AppError::invalid("body", "at most 4000 characters"));
    }
    let occurred_at = req.occurred_at.unwrap_or_else(Utc::now);
    if occurred_at > Utc::now() + chrono::Duration::minutes(5) {
        return Err(AppError::invalid("occurred_at", "cannot be in the future"));
    }
    if let Err(m) = crate::domain::clock::check_event_time(occurred_at, Utc::now()) {
        return Err(AppError::invalid("occurred_at", m));
    }
    let mut tx = match idempotency::begin_keyed(&state.pool, staff.staff_id, &keyed).await? {
        Ok(tx) => tx,
        Err(replay) => return Ok(replay),
    };
    if !crate::customers::db::customer_exists(&mut *tx, customer_id).await? {
        return Err(AppError::NotFound("customer"));
    }
    let new = db::NewInteraction {
        customer_id,
        staff_id: Some(staff.staff_id),
        kind: req.kind,
        channel: req.channel,
        body,
        occurred_at,
    };
    let saved = db::insert_interaction(&mut *tx, &new).await?;
    idempotency::commit_keyed(tx, staff.staff_id, &keyed, &saved).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    kind: Option<InteractionKind>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The customer's interactions, newest first, optionally of one kind.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/interactions", tag = "customers", params(("customer_id" = Uuid, Path, description = "the customer"), ListParams), responses((status = 200, body = Page<Interaction>)))]
async fn list_interactions(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path(customer_id): Path<Uuid>,
    Query(params): Query<ListParams>,
) -> AppResult<Json<Page<Interaction>>> {
    let page = PageParams {
        limit: params.limit,
        offset: params.offset,
    }
    .check()?;
    if !crate::customers::db::customer_exists(&state.pool, customer_id).await? {
        return Err(AppError::NotFound("customer"));
    }
    let rows = db::list_interactions(&state.pool, customer_id, params.kind, page).await?;
    Ok(Json(page.page(rows)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ResolveRequest {
    resolution: String,
}

/// Closes a complaint with what was done about it; it stays in the history. The same resolution sent again by the
/// same staff member (a retry after a lost answer) answers the complaint as resolved then.
#[utoipa::path(post, path = "/api/v1/customers/{customer_id}/interactions/{interaction_id}/resolve", tag = "customers", params(("customer_id" = Uuid, Path, description = "the customer"), ("interaction_id" = Uuid, Path)), request_body = ResolveRequest, responses((status = 200, body = Interaction)))]
async fn resolve_complaint(
    State(state): State<AppState>,
    Authed(staff, _): Authed<AnyStaff>,
    Path((customer_id, interaction_id)): Path<(Uuid, Uuid)>,
    Json(req): Json<ResolveRequest>,
) -> AppResult<Json<Interaction>> {
    let resolution = req.resolution.trim();
    if resolution.is_empty() || resolution.chars().count() > 4000 {
        return Err(AppError::invalid(
            "resolution",
            "say how the complaint was resolved (1 to 4000 characters)",
        ));
    }
    if let Some(done) = db::resolve_complaint(
        &state.pool,
        customer_id,
        interaction_id,
        staff.staff_id,
        resolution,
    )
    .await?
    {
        return Ok(Json(done));
    }
    db::interactions_by_ids(&state.pool, customer_id, &[interaction_id])
        .await?
        .into_iter()
        .find(|i| {
            i.kind == InteractionKind::Complaint
                && i.resolved_by == Some(staff.staff_id)
                && i.resolution.as_deref() == Some(resolution)
        })
        .map(Json)
        .ok_or(AppError::NotFound("open complaint"))
}
