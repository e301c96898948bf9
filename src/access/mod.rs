//! Personal-data duties: the access log (who read or exported which customer's data), its admin query, and a
//! customer's full data export and erasure.

pub mod db;
pub mod reads;

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{Admin, Authed};
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Path, Query};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

pub use db::record;

/// The access-log, export and erasure routes (administrators).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(access_log))
        .routes(routes!(export_customer))
        .routes(routes!(erase_customer))
}

/// Records that `staff_id` read a customer's data (queued to [`reads::ReadLog`]; a failure is logged, never
/// shown to the reader).
pub async fn note_read(state: &AppState, staff_id: Uuid, action: &'static str, customer_id: Uuid) {
    state.reads.note(staff_id, action, customer_id).await;
}

/// Records a list export and its size.
pub async fn note_export(
    state: &AppState,
    staff_id: Uuid,
    list: &str,
    rows: usize,
) -> AppResult<()> {
    db::record(
        &state.pool,
        staff_id,
        "list_export",
        None,
        &format!("{list}: {rows} rows"),
    )
    .await?;
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct LogParams {
    customer_id: Option<Uuid>,
    staff_id: Option<Uuid>,
    action: Option<String>,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /api/v1/access-log?customer_id=&staff_id=&action=&from=&until=` (admins): newest first.
#[utoipa::path(get, path = "/api/v1/access-log", tag = "personal data", params(LogParams), responses((status = 200, body = Page<db::AccessEntry>)))]
async fn access_log(
    State(state): State<AppState>,
    Authed(_, _): Authed<Admin>,
    Query(p): Query<LogParams>,
) -> AppResult<Json<Page<db::AccessEntry>>> {
    let page = PageParams {
        limit: p.limit,
        offset: p.offset,
    }
    .check()?;
    state.reads.flush().await;
    let filter = db::AccessFilter {
        customer_id: p.customer_id,
        staff_id: p.staff_id,
        action: p.action,
        from: p.from.map(within_records),
        until: p.until.map(within_records),
    };
    let rows = db::query(&state.pool, &filter, page.fetch(), page.offset).await?;
    Ok(Json(page.page(rows)))
}

/// A bound of the log's time filter moved into the years entries can carry (2000 to 9999): it selects the same
/// entries, and PostgreSQL refuses instants far outside them (chrono takes years beyond ±200,000).
fn within_records(at: DateTime<Utc>) -> DateTime<Utc> {
    let last = DateTime::<Utc>::from_timestamp(253_402_300_799, 0).unwrap_or_default();
    at.clamp(crate::domain::clock::earliest_event(), last)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct CustomerExport {
    customer_id: Uuid,
    exported_at: DateTime<Utc>,
    /// Every row held about the customer, by table.
    data: serde_json::Map<String, serde_json::Value>,
}

/// `GET /api/v1/customers/{id}/export` (admins): everything held about one customer, as JSON; logged.
#[utoipa::path(get, path = "/api/v1/customers/{customer_id}/export", tag = "personal data", params(("customer_id" = Uuid, Path)), responses((status = 200, body = CustomerExport)))]
async fn export_customer(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Admin>,
    Path(customer_id): Path<Uuid>,
) -> AppResult<Json<CustomerExport>> {
    state.reads.flush().await;
    let mut tx = db::snapshot(&state.pool).await?;
    if !crate::customers::db::customer_exists(&mut *tx, customer_id).await? {
        return Err(AppError::NotFound("customer"));
    }
    let mut data = serde_json::Map::new();
    for table in db::customer_tables(&mut *tx).await? {
        let rows = db::rows_of(&mut tx, &table, customer_id).await?;
        data.insert(table, rows);
    }
    tx.commit().await?;
    db::record(
        &state.pool,
        staff.staff_id,
        "customer_export",
        Some(customer_id),
        "",
    )
    .await?;
    Ok(Json(CustomerExport {
        customer_id,
        exported_at: Utc::now(),
        data,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Erased {
    customer_id: Uuid,
    erased: bool,
}

/// `POST /api/v1/customers/{id}/erase` (admins): anonymises the customer in one transaction (personal fields,
/// free text, labels revoked, do-not-contact set), keeps the anonymous history, and logs it. Repeating it is
/// harmless.
#[utoipa::path(post, path = "/api/v1/customers/{customer_id}/erase", tag = "personal data", params(("customer_id" = Uuid, Path)), responses((status = 200, body = Erased)))]
async fn erase_customer(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Admin>,
    Path(customer_id): Path<Uuid>,
) -> AppResult<Json<Erased>> {
    let mut tx = state.pool.begin().await?;
    if !db::erase(&mut tx, customer_id).await? {
        return Err(AppError::NotFound("customer"));
    }
    crate::labels::db::revoke_active_label(&mut *tx, customer_id, "customer data erased").await?;
    db::record(
        &mut *tx,
        staff.staff_id,
        "customer_erasure",
        Some(customer_id),
        "",
    )
    .await?;
    tx.commit().await?;
    tracing::info!(%customer_id, "customer data erased");
    Ok(Json(Erased {
        customer_id,
        erased: true,
    }))
}
