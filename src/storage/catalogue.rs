//! The warehouse catalogue: zones and their capacity, the storage price list and the storage settings.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::pricing::{PriceRow, ZoneKind};
use super::*;
use crate::auth::{AnyStaff, Authed, Dispatcher, Manager};
use crate::calendar::Calendar;
use crate::domain::{double_option, GarmentKind, Material};
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Path};
use crate::state::AppState;

/// Zones, prices and settings.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_zones))
        .routes(routes!(put_zone))
        .routes(routes!(list_prices, put_price))
        .routes(routes!(delete_price))
        .routes(routes!(show_settings, put_settings))
}

/// The warehouse zones with their capacity and use.
#[utoipa::path(get, path = "/api/v1/storage/zones", tag = "storage", responses((status = 200, body = Vec<db::ZoneView>)))]
async fn list_zones(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
) -> AppResult<Json<Vec<db::ZoneView>>> {
    Ok(Json(db::zones(&state.pool).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ZoneRequest {
    name: Option<String>,
    kind: Option<ZoneKind>,
    capacity: i32,
}

const MAX_CAPACITY: i32 = 1_000_000;

/// Creates a zone or changes its name, kind or capacity; capacity never goes below what the zone holds now.
#[utoipa::path(put, path = "/api/v1/storage/zones/{zone_id}", tag = "storage", params(("zone_id" = String, Path)), request_body = ZoneRequest, responses((status = 200, body = db::ZoneView), (status = 201, body = db::ZoneView)))]
#[tracing::instrument(skip_all, fields(zone_id = %zone_id))]
async fn put_zone(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Manager>,
    Path(zone_id): Path<String>,
    Json(req): Json<ZoneRequest>,
) -> AppResult<Response> {
    let valid_id = (1..=40).contains(&zone_id.len())
        && zone_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid_id {
        return Err(AppError::invalid(
            "zone_id",
            "1 to 40 letters, digits, - or _",
        ));
    }
    if !(0..=MAX_CAPACITY).contains(&req.capacity) {
        return Err(AppError::invalid(
            "capacity",
            "between 0 and 1000000 places",
        ));
    }
    let name = req.name.as_deref().map(str::trim);
    if name.is_some_and(|n| n.is_empty() || n.chars().count() > 100) {
        return Err(AppError::invalid("name", "1 to 100 characters"));
    }
    let mut tx = state.pool.begin().await?;
    let current = db::lock_zone(&mut tx, &zone_id).await?;
    let (name, kind, created) = match &current {
        Some(z) => {
            if i64::from(req.capacity) < z.in_use {
                return Err(AppError::conflict(
                    "capacity",
                    format!(
                        "{} holds {} items now: its capacity cannot go below that",
                        z.zone_id, z.in_use
                    ),
                ));
            }
            let kind = req.kind.unwrap_or(z.kind);
            if kind != z.kind && z.in_use > 0 {
                return Err(AppError::conflict(
                    "kind",
                    format!(
                        "{} holds {} items: move them out before changing its kind",
                        z.zone_id, z.in_use
                    ),
                ));
            }
            (name.unwrap_or(&z.name).to_owned(), kind, false)
        }
        None => {
            let Some(name) = name else {
                return Err(AppError::invalid("name", "a new zone needs a name"));
            };
            let Some(kind) = req.kind else {
                return Err(AppError::invalid(
                    "kind",
                    "a new zone needs a kind: cold_vault, rack or bin",
                ));
            };
            (name.to_owned(), kind, true)
        }
    };
    db::upsert_zone(
        &mut *tx,
        &zone_id,
        &name,
        kind,
        req.capacity,
        staff.staff_id,
    )
    .await?;
    let view = db::zone(&mut *tx, &zone_id)
        .await?
        .ok_or(AppError::NotFound("zone"))?;
    tx.commit().await?;
    tracing::info!(capacity = req.capacity, created, "storage zone saved");
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)).into_response())
}

/// The price list.
#[utoipa::path(get, operation_id = "list_storage_prices", path = "/api/v1/storage/prices", tag = "storage", responses((status = 200, body = Vec<PriceRow>)))]
async fn list_prices(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
) -> AppResult<Json<Vec<PriceRow>>> {
    Ok(Json(db::prices(&state.pool).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PriceRequest {
    kind: Option<GarmentKind>,
    material: Option<Material>,
    monthly_cents: i64,
}

const MAX_MONTHLY_CENTS: i64 = 10_000_000;

/// Sets the monthly price for a kind and/or material (either may be left out to match any).
#[utoipa::path(put, operation_id = "put_storage_price", path = "/api/v1/storage/prices", tag = "storage", request_body = PriceRequest, responses((status = 200, body = PriceRow)))]
async fn put_price(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Manager>,
    Json(req): Json<PriceRequest>,
) -> AppResult<Json<PriceRow>> {
    if !(0..=MAX_MONTHLY_CENTS).contains(&req.monthly_cents) {
        return Err(AppError::invalid(
            "monthly_cents",
            "between 0 and 10000000 cents",
        ));
    }
    let row = db::upsert_price(
        &state.pool,
        req.kind,
        req.material,
        req.monthly_cents,
        staff.staff_id,
    )
    .await?;
    Ok(Json(row))
}

/// Removes a price row; the catch-all row stays, so every garment has a price.
#[utoipa::path(delete, operation_id = "delete_storage_price", path = "/api/v1/storage/prices/{price_id}", tag = "storage", params(("price_id" = i32, Path)), responses((status = 204)))]
async fn delete_price(
    State(state): State<AppState>,
    Authed(_, _): Authed<Manager>,
    Path(price_id): Path<i32>,
) -> AppResult<StatusCode> {
    let mut tx = state.pool.begin().await?;
    let row = db::delete_price(&mut *tx, price_id)
        .await?
        .ok_or(AppError::NotFound("price"))?;
    if row.kind.is_none() && row.material.is_none() {
        return Err(AppError::conflict(
            "price_id",
            "the catch-all price (any kind, any material) prices every garment no other row matches: change it instead",
        ));
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The storage settings: insurance rate, default return, delivery fee.
#[utoipa::path(get, path = "/api/v1/storage/settings", tag = "storage", responses((status = 200, body = db::StorageSettings)))]
async fn show_settings(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
) -> AppResult<Json<db::StorageSettings>> {
    Ok(Json(db::settings(&state.pool).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SettingsPatch {
    insurance_rate_bp: Option<i32>,
    /// `null` drops the recency rule (any past cleaning will do).
    #[serde(default, deserialize_with = "double_option")]
    cleaned_within_days: Option<Option<i32>>,
    return_window_kind: Option<String>,
}

/// Changes the default insurance rate, the cleaning rule or the window that sets default return dates.
#[utoipa::path(put, path = "/api/v1/storage/settings", tag = "storage", request_body = SettingsPatch, responses((status = 200, body = db::StorageSettings)))]
async fn put_settings(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Manager>,
    Json(patch): Json<SettingsPatch>,
) -> AppResult<Json<db::StorageSettings>> {
    let mut tx = state.pool.begin().await?;
    let mut s = db::settings(&mut *tx).await?;
    if let Some(rate) = patch.insurance_rate_bp {
        if !(0..=10_000).contains(&rate) {
            return Err(AppError::invalid(
                "insurance_rate_bp",
                "between 0 and 10000 basis points (0 to 100 %)",
            ));
        }
        s.insurance_rate_bp = rate;
    }
    if let Some(days) = patch.cleaned_within_days {
        if days.is_some_and(|d| !(1..=3650).contains(&d)) {
            return Err(AppError::invalid(
                "cleaned_within_days",
                "between 1 and 3650 days, or null for any past cleaning",
            ));
        }
        s.cleaned_within_days = days;
    }
    if let Some(kind) = patch.return_window_kind {
        let cal = Calendar::load(&state.pool).await?;
        if !cal.kinds().iter().any(|k| k.window_kind == kind) {
            let known: Vec<&str> = cal.kinds().iter().map(|k| k.window_kind.as_str()).collect();
            return Err(AppError::invalid(
                "return_window_kind",
                format!("the season calendar has {}", known.join(", ")),
            ));
        }
        s.return_window_kind = kind;
    }
    let saved = db::update_settings(&mut *tx, &s, staff.staff_id).await?;
    tx.commit().await?;
    Ok(Json(saved))
}
