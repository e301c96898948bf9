//! The list routes: parse the request, compute the list, answer a JSON page or a CSV export.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::value::{self, ValueQuery, STAGES, TIERS};
use super::{list_day, reminders, special_sizes, storage_upsell};
use crate::auth::{Authed, Dispatcher, Manager};
use crate::calendar::SeasonWindow;
use crate::error::{AppError, AppResult};
use crate::export::{respond_logged, Output};
use crate::extract::Query;
use crate::state::AppState;

/// The list routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reminders_list))
        .routes(routes!(storage_upsell_list))
        .routes(routes!(special_sizes_list))
        .routes(routes!(customer_value_list))
        .routes(routes!(at_risk_list))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ReminderParams {
    window: Option<String>,
    on: Option<NaiveDate>,
    cap_days: Option<i64>,
    format: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ReminderMeta<'a> {
    window: &'a SeasonWindow,
    cap_days: i64,
    /// How the estimates behind the order (still active, still worn, sends unprompted) were made.
    estimates: &'a super::outlook::OutlookSummary,
}

/// `GET /api/v1/lists/reminders?window=2026-spring&on=2026-04-10&cap_days=14`
#[utoipa::path(get, path = "/api/v1/lists/reminders", tag = "lists", params(ReminderParams), responses((status = 200, content((crate::export::ListPage<reminders::ReminderEntry, ReminderMeta> = "application/json"), (String = "text/csv")))))]
async fn reminders_list(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    headers: HeaderMap,
    Query(p): Query<ReminderParams>,
) -> AppResult<Response> {
    let output = Output::from_request(&headers, p.format.as_deref(), p.limit, p.offset)?;
    let (cal, q) = reminders::query_from(&state, p.window.as_deref(), p.on, p.cap_days).await?;
    let (outlook, listed) = reminders::compute_kept(&state, &cal, &q, output.rows()).await?;
    let meta = ReminderMeta {
        window: &q.window,
        cap_days: q.cap_days,
        estimates: &outlook.summary,
    };
    respond_logged(
        &state,
        staff.staff_id,
        "reminders",
        q.on,
        meta,
        &output,
        listed,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct UpsellParams {
    window: Option<String>,
    on: Option<NaiveDate>,
    lead_days: Option<i64>,
    months: Option<i64>,
    format: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct UpsellMeta<'a> {
    window: &'a SeasonWindow,
    window_chosen: &'a str,
    lead_days: i64,
    months: i64,
}

/// `GET /api/v1/lists/storage-upsell?window=2026-spring&on=2026-04-20`
#[utoipa::path(get, path = "/api/v1/lists/storage-upsell", tag = "lists", params(UpsellParams), responses((status = 200, content((crate::export::ListPage<storage_upsell::UpsellEntry, UpsellMeta> = "application/json"), (String = "text/csv")))))]
async fn storage_upsell_list(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    headers: HeaderMap,
    Query(p): Query<UpsellParams>,
) -> AppResult<Response> {
    let output = Output::from_request(&headers, p.format.as_deref(), p.limit, p.offset)?;
    let q = storage_upsell::query_from(&state, p.window.as_deref(), p.on, p.lead_days, p.months)
        .await?;
    let mut listed = storage_upsell::compute_kept(&state, &q, output.rows()).await?;
    let active = state
        .outlook
        .active(&state.pool, &state.settings, q.on)
        .await?;
    storage_upsell::with_activity(&mut listed.items, &active);
    let meta = UpsellMeta {
        window: &q.window,
        window_chosen: &q.window_chosen,
        lead_days: q.lead_days,
        months: q.months,
    };
    respond_logged(
        &state,
        staff.staff_id,
        "storage-upsell",
        q.on,
        meta,
        &output,
        listed,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SizesParams {
    on: Option<NaiveDate>,
    threshold: Option<f64>,
    min_garments: Option<i64>,
    format: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct SizesMeta {
    threshold: f64,
    min_garments: i64,
}

/// `GET /api/v1/lists/special-sizes?threshold=0.3&min_garments=3`
#[utoipa::path(get, path = "/api/v1/lists/special-sizes", tag = "lists", params(SizesParams), responses((status = 200, content((crate::export::ListPage<special_sizes::SizesEntry, SizesMeta> = "application/json"), (String = "text/csv")))))]
async fn special_sizes_list(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    headers: HeaderMap,
    Query(p): Query<SizesParams>,
) -> AppResult<Response> {
    let output = Output::from_request(&headers, p.format.as_deref(), p.limit, p.offset)?;
    let q = special_sizes::query_from(&state.settings, p.on, p.threshold, p.min_garments)?;
    let listed = special_sizes::compute_kept(&state, &q, output.rows()).await?;
    let meta = SizesMeta {
        threshold: q.threshold,
        min_garments: q.min_garments,
    };
    respond_logged(
        &state,
        staff.staff_id,
        "special-sizes",
        q.on,
        meta,
        &output,
        listed,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ValueParams {
    on: Option<NaiveDate>,
    tier: Option<String>,
    stage: Option<String>,
    format: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ValueMeta {
    tier: Option<String>,
    stage: Option<String>,
    segments: BTreeMap<String, BTreeMap<String, i64>>,
}

/// `GET /api/v1/lists/customer-value?tier=gold&stage=declining` (managers).
#[utoipa::path(get, path = "/api/v1/lists/customer-value", tag = "lists", params(ValueParams), responses((status = 200, content((crate::export::ListPage<value::ValueEntry, ValueMeta> = "application/json"), (String = "text/csv")))))]
async fn customer_value_list(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Manager>,
    headers: HeaderMap,
    Query(p): Query<ValueParams>,
) -> AppResult<Response> {
    let output = Output::from_request(&headers, p.format.as_deref(), p.limit, p.offset)?;
    let on = list_day(&state.settings, p.on)?;
    if let Some(t) = p.tier.as_deref().filter(|t| !TIERS.contains(t)) {
        return Err(AppError::invalid(
            "tier",
            format!("'{t}' is not one of {}", TIERS.join(", ")),
        ));
    }
    if let Some(s) = p.stage.as_deref().filter(|s| !STAGES.contains(s)) {
        return Err(AppError::invalid(
            "stage",
            format!("'{s}' is not one of {}", STAGES.join(", ")),
        ));
    }
    let q = ValueQuery {
        on,
        tier: p.tier,
        stage: p.stage,
    };
    let mut listed = value::compute_value_kept(&state, &q, output.rows()).await?;
    let active = state
        .outlook
        .active(&state.pool, &state.settings, on)
        .await?;
    value::with_activity(&mut listed.items, &active);
    let segments = match output {
        Output::Json(_) => value::segments_kept(&state, on).await?,
        Output::Csv(_) => BTreeMap::new(),
    };
    let meta = ValueMeta {
        tier: q.tier,
        stage: q.stage,
        segments,
    };
    respond_logged(
        &state,
        staff.staff_id,
        "customer-value",
        on,
        meta,
        &output,
        listed,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AtRiskParams {
    on: Option<NaiveDate>,
    factor: Option<f64>,
    min_pickups: Option<i32>,
    /// `slipping` (a care call) or `gone` (a win-back call); both when absent.
    status: Option<String>,
    format: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct AtRiskMeta {
    factor: f64,
    min_pickups: i32,
    status: Option<String>,
}

/// `GET /api/v1/lists/at-risk?factor=3&min_pickups=3`
#[utoipa::path(get, path = "/api/v1/lists/at-risk", tag = "lists", params(AtRiskParams), responses((status = 200, content((crate::export::ListPage<value::AtRiskEntry, AtRiskMeta> = "application/json"), (String = "text/csv")))))]
async fn at_risk_list(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    headers: HeaderMap,
    Query(p): Query<AtRiskParams>,
) -> AppResult<Response> {
    let output = Output::from_request(&headers, p.format.as_deref(), p.limit, p.offset)?;
    let q = value::at_risk_query(
        &state.settings,
        p.on,
        p.factor,
        p.min_pickups,
        p.status.as_deref(),
    )?;
    let listed = value::compute_at_risk_scored(&state, &q, output.rows()).await?;
    let meta = AtRiskMeta {
        factor: q.factor,
        min_pickups: q.min_pickups,
        status: q.status.clone(),
    };
    respond_logged(
        &state,
        staff.staff_id,
        "at-risk",
        q.on,
        meta,
        &output,
        listed,
    )
    .await
}
