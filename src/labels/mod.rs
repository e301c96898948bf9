//! Door labels: issuing and revoking a customer's code, and rendering the printable label.

pub mod db;
pub mod render;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Authed, Dispatcher};
use crate::domain::code::DoorCode;
use crate::error::{AppError, AppResult, ResultExt};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use render::LabelSymbology;

/// A door label as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DoorLabel {
    pub(crate) customer_id: Uuid,
    pub(crate) door_label_id: Uuid,
    pub(crate) code: DoorCode,
    pub(crate) issued_at: DateTime<Utc>,
    pub(crate) issued_by: Option<Uuid>,
    pub(crate) revoked_at: Option<DateTime<Utc>>,
    pub(crate) revoked_reason: Option<String>,
}

/// The door-label routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/customers/{customer_id}/labels",
            get(list_labels).post(issue_label),
        )
        .route(
            "/api/v1/customers/{customer_id}/label",
            axum::routing::delete(revoke_label),
        )
        .route("/api/v1/customers/{customer_id}/label.png", get(label_png))
        .route("/api/v1/customers/{customer_id}/label.svg", get(label_svg))
}

#[derive(Debug, Default, Deserialize)]
struct IssueParams {
    reason: Option<String>,
}

/// Issues a new label (replacing any active one, which stops resolving at once).
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
async fn issue_label(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    Path(customer_id): Path<Uuid>,
    Query(params): Query<IssueParams>,
) -> AppResult<(StatusCode, Json<DoorLabel>)> {
    let reason = params
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 200) {
        return Err(AppError::invalid("reason", "at most 200 characters"));
    }
    let mut tx = state.pool.begin().await?;
    let customer = crate::customers::db::fetch_customer_for_update(&mut *tx, customer_id)
        .await?
        .ok_or(AppError::NotFound("customer"))?;
    if customer.label_consent_at.is_none() {
        return Err(AppError::invalid("label_consent", "record the customer's consent to a door label first (PATCH the customer's label_consent)"));
    }
    db::revoke_active_label(
        &mut *tx,
        customer_id,
        reason.as_deref().unwrap_or("replaced"),
    )
    .await?;
    let code = DoorCode::generate(&mut rand::thread_rng());
    let label = db::insert_label(&mut *tx, customer_id, &code, staff.staff_id)
        .await
        .on_constraint("door_label_code_key", |_| {
            AppError::conflict("code", "a code collision occurred; issue the label again")
        })?;
    tx.commit().await?;
    tracing::info!("door label issued");
    Ok((StatusCode::CREATED, Json(label)))
}

#[derive(Debug, Deserialize)]
struct RevokeParams {
    reason: Option<String>,
}

async fn revoke_label(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    Path(customer_id): Path<Uuid>,
    Query(params): Query<RevokeParams>,
) -> AppResult<Json<DoorLabel>> {
    let reason = params
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "revoked".into());
    if reason.chars().count() > 200 {
        return Err(AppError::invalid("reason", "at most 200 characters"));
    }
    db::revoke_active_label(&state.pool, customer_id, &reason)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound("active door label"))
}

async fn list_labels(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    Path(customer_id): Path<Uuid>,
) -> AppResult<Json<Vec<DoorLabel>>> {
    if !crate::customers::db::customer_exists(&state.pool, customer_id).await? {
        return Err(AppError::NotFound("customer"));
    }
    Ok(Json(db::list_labels(&state.pool, customer_id).await?))
}

#[derive(Debug, Deserialize)]
struct RenderParams {
    #[serde(default)]
    symbology: LabelSymbology,
}

async fn active_code(state: &AppState, customer_id: Uuid) -> AppResult<DoorCode> {
    db::active_label(&state.pool, customer_id)
        .await?
        .map(|label| label.code)
        .ok_or(AppError::NotFound("active door label"))
}

fn render_error(e: render::RenderError) -> AppError {
    AppError::Internal(anyhow::anyhow!("rendering label: {e}"))
}

async fn label_png(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    Path(customer_id): Path<Uuid>,
    Query(p): Query<RenderParams>,
) -> AppResult<Response> {
    let code = active_code(&state, customer_id).await?;
    let png = tokio::task::spawn_blocking(move || {
        render::render_png(code.as_str(), &code.grouped(), p.symbology)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(render_error)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        png,
    )
        .into_response())
}

async fn label_svg(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    Path(customer_id): Path<Uuid>,
    Query(p): Query<RenderParams>,
) -> AppResult<Response> {
    let code = active_code(&state, customer_id).await?;
    let svg =
        render::render_svg(code.as_str(), &code.grouped(), p.symbology).map_err(render_error)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}
