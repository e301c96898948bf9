//! Garment storage: orders with declared values, fees and premiums, zones with capacity, receipts, returns, revenue.

pub mod db;
pub mod pricing;
pub mod receipt;

use std::collections::{HashMap, HashSet};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::Router;
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::app::{AppState, Settings};
use crate::auth::{AnyStaff, Authed, Dispatcher, Manager};
use crate::calendar::Calendar;
use crate::domain::{check_len, double_option, Category, GarmentKind, Material, SeasonClass};
use crate::error::{AppError, AppResult, FieldError, ResultExt};
use crate::extract::{json_body, Json, Path, Query};
use crate::idempotency::{self, IdempotencyKey};
use crate::lists::{self, money, CsvRow, Listed, Output};
use crate::pagination::{Page, PageParams};
use pricing::{PriceRow, ZoneKind};

/// Where a storage order is: accepted at the door, in the warehouse, asked back, back with the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Status {
    Accepted,
    InStorage,
    ReturnRequested,
    Returned,
}

impl Status {
    /// The one status an order may move to from this one.
    pub fn next(self) -> Option<Status> {
        match self {
            Status::Accepted => Some(Status::InStorage),
            Status::InStorage => Some(Status::ReturnRequested),
            Status::ReturnRequested => Some(Status::Returned),
            Status::Returned => None,
        }
    }

    /// The status as the API and the database spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::InStorage => "in_storage",
            Status::ReturnRequested => "return_requested",
            Status::Returned => "returned",
        }
    }

    /// The status in words, for receipts.
    pub fn label(self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::InStorage => "in storage",
            Status::ReturnRequested => "return requested",
            Status::Returned => "returned",
        }
    }
}

/// One stored garment as a receipt lists it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ItemView {
    #[serde(skip)]
    pub order_id: Uuid,
    pub garment_id: Uuid,
    #[sqlx(skip)]
    pub description: String,
    pub category: Category,
    pub kind: GarmentKind,
    pub season_class: SeasonClass,
    pub brand: Option<String>,
    pub size: Option<String>,
    pub material: Option<Material>,
    pub colour: Option<String>,
    pub tag_code: Option<String>,
    pub declared_cents: i64,
    pub fee_cents: i64,
    pub premium_cents: i64,
    pub zone_id: String,
    pub zone_name: String,
    pub position: String,
    pub released_at: Option<DateTime<Utc>>,
}

/// One recorded move of an order (or a booked return delivery): what, who and when.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventView {
    pub seq: i32,
    /// `status` for a status change, `delivery` for a booked return delivery.
    pub action: String,
    pub status: Status,
    pub booked_for: Option<NaiveDate>,
    pub staff_id: Uuid,
    pub staff_name: String,
    pub at: DateTime<Utc>,
    pub note: String,
}

/// A storage order with its customer, items, totals and history: the API's answer and the receipt's content.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub receipt_no: String,
    pub status: Status,
    pub customer_name: String,
    pub customer_phone: Option<String>,
    pub customer_address: Option<String>,
    pub do_not_contact: bool,
    pub accepted_on: NaiveDate,
    pub term_months: i32,
    /// The last day the fee pays for.
    pub term_ends_on: NaiveDate,
    pub planned_return_on: NaiveDate,
    pub delivery_booked_for: Option<NaiveDate>,
    pub delivery_preference: String,
    pub notes: String,
    pub insurance_rate_bp: i32,
    pub declared_cents: i64,
    pub fee_cents: i64,
    pub premium_cents: i64,
    /// Fee plus premium: what the customer pays.
    pub total_cents: i64,
    pub created_at: DateTime<Utc>,
    pub created_by: Uuid,
    pub created_by_name: String,
    pub items: Vec<ItemView>,
    pub events: Vec<EventView>,
}

/// A vocabulary word as a person reads it: `down_jacket` is "down jacket".
fn words<T: Serialize>(value: &T) -> String {
    let raw = serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    match raw.as_str() {
        "t_shirt" => "T-shirt".to_owned(),
        _ => raw.replace('_', " "),
    }
}

/// A garment in one line: "women's coat, Max Mara, camel, size 40, cashmere".
pub fn describe(item: &ItemView) -> String {
    let whose = match item.category {
        Category::Men => "men's",
        Category::Women => "women's",
        Category::Children => "children's",
    };
    let mut parts = vec![format!("{whose} {}", words(&item.kind))];
    parts.extend(item.brand.clone());
    parts.extend(item.colour.clone());
    parts.extend(item.size.as_ref().map(|s| format!("size {s}")));
    parts.extend(item.material.as_ref().map(words));
    parts.join(", ")
}

fn with_descriptions(mut items: Vec<ItemView>) -> Vec<ItemView> {
    for item in &mut items {
        item.description = describe(item);
    }
    items
}

/// The company-time day an instant falls on.
fn local_day(settings: &Settings, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&settings.local_offset).date_naive()
}

/// Reads an order whole, or None when this customer has no such order.
pub async fn order_view(
    conn: &mut PgConnection,
    settings: &Settings,
    customer_id: Uuid,
    order_id: Uuid,
) -> AppResult<Option<OrderView>> {
    let Some(o) = db::order(&mut *conn, customer_id, order_id).await? else {
        return Ok(None);
    };
    let items = with_descriptions(db::items_of(&mut *conn, customer_id, &[order_id]).await?);
    let events = db::events_of(&mut *conn, customer_id, order_id).await?;
    let accepted_on = local_day(settings, o.created_at);
    let term_ends_on = accepted_on
        .checked_add_months(Months::new(o.term_months.unsigned_abs()))
        .unwrap_or(accepted_on);
    Ok(Some(OrderView {
        order_id: o.order_id,
        customer_id: o.customer_id,
        receipt_no: o.receipt_no,
        status: o.status,
        customer_name: o.customer_name,
        customer_phone: o.customer_phone,
        customer_address: o.customer_address,
        do_not_contact: o.do_not_contact,
        accepted_on,
        term_months: o.term_months,
        term_ends_on,
        planned_return_on: o.planned_return_on,
        delivery_booked_for: o.delivery_booked_for,
        delivery_preference: o.delivery_preference,
        notes: o.notes,
        insurance_rate_bp: o.insurance_rate_bp,
        declared_cents: o.declared_cents,
        fee_cents: o.fee_cents,
        premium_cents: o.premium_cents,
        total_cents: o.fee_cents + o.premium_cents,
        created_at: o.created_at,
        created_by: o.created_by,
        created_by_name: o.created_by_name,
        items,
        events,
    }))
}

pub fn router() -> Router<AppState> {
    const ORDER: &str = "/api/v1/customers/{customer_id}/storage-orders/{order_id}";
    Router::new()
        .route("/api/v1/storage/zones", get(list_zones))
        .route("/api/v1/storage/zones/{zone_id}", put(put_zone))
        .route("/api/v1/storage/prices", get(list_prices).put(put_price))
        .route("/api/v1/storage/prices/{price_id}", delete(delete_price))
        .route(
            "/api/v1/storage/settings",
            get(show_settings).put(put_settings),
        )
        .route("/api/v1/storage/orders", get(list_all_orders))
        .route("/api/v1/storage/returns", get(return_list))
        .route("/api/v1/storage/report", get(revenue_report))
        .route(
            "/api/v1/customers/{customer_id}/storage-orders",
            get(list_orders).post(create_order),
        )
        .route(ORDER, get(show_order))
        .route(&format!("{ORDER}/status"), post(change_status))
        .route(&format!("{ORDER}/delivery"), post(book_delivery))
        .route(&format!("{ORDER}/receipt.html"), get(receipt_html))
        .route(&format!("{ORDER}/receipt.pdf"), get(receipt_pdf))
}

// ---------------------------------------------------------------------------------------------------------
// Zones, prices and settings

async fn list_zones(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
) -> AppResult<Json<Vec<db::ZoneView>>> {
    Ok(Json(db::zones(&state.pool).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneRequest {
    name: Option<String>,
    kind: Option<ZoneKind>,
    capacity: i32,
}

const MAX_CAPACITY: i32 = 1_000_000;

/// Creates a zone or changes its name, kind or capacity; capacity never goes below what the zone holds now.
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

async fn list_prices(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
) -> AppResult<Json<Vec<PriceRow>>> {
    Ok(Json(db::prices(&state.pool).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceRequest {
    kind: Option<GarmentKind>,
    material: Option<Material>,
    monthly_cents: i64,
}

const MAX_MONTHLY_CENTS: i64 = 10_000_000;

/// Sets the monthly price for a kind and/or material (either may be left out to match any).
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

async fn show_settings(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
) -> AppResult<Json<db::StorageSettings>> {
    Ok(Json(db::settings(&state.pool).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsPatch {
    insurance_rate_bp: Option<i32>,
    /// `null` drops the recency rule (any past cleaning will do).
    #[serde(default, deserialize_with = "double_option")]
    cleaned_within_days: Option<Option<i32>>,
    return_window_kind: Option<String>,
}

/// Changes the default insurance rate, the cleaning rule or the window that sets default return dates.
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

/// The first day after `after` on which a window of `kind` starts.
fn next_window_start(cal: &Calendar, kind: &str, after: NaiveDate) -> Option<NaiveDate> {
    (after.year()..=after.year() + 1)
        .filter_map(|y| cal.window(kind, y))
        .map(|w| w.starts_on)
        .find(|d| *d > after)
}

// ---------------------------------------------------------------------------------------------------------
// Orders

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOrderRequest {
    items: Vec<NewItemRequest>,
    term_months: i32,
    insurance_rate_bp: Option<i32>,
    planned_return_on: Option<NaiveDate>,
    delivery_preference: Option<String>,
    notes: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewItemRequest {
    garment_id: Uuid,
    declared_value_cents: i64,
    zone_id: Option<String>,
    position: Option<String>,
}

const MAX_ITEMS: usize = 200;
const MAX_DECLARED_CENTS: i64 = 100_000_000;

fn push(errors: &mut Vec<FieldError>, field: String, message: impl Into<String>) {
    errors.push(FieldError {
        field,
        message: message.into(),
    });
}

/// Everything about a new order that can be checked without the database, every bad field at once.
fn check_order(req: &NewOrderRequest, today: NaiveDate) -> AppResult<()> {
    let mut errors = Vec::new();
    if req.items.is_empty() {
        push(
            &mut errors,
            "items".into(),
            "an order needs at least one garment",
        );
    }
    if req.items.len() > MAX_ITEMS {
        push(
            &mut errors,
            "items".into(),
            "at most 200 garments per order",
        );
    }
    let mut seen = HashSet::new();
    for (i, item) in req.items.iter().enumerate() {
        if !seen.insert(item.garment_id) {
            push(
                &mut errors,
                format!("items[{i}].garment_id"),
                "the same garment is in this order twice",
            );
        }
        if !(0..=MAX_DECLARED_CENTS).contains(&item.declared_value_cents) {
            push(
                &mut errors,
                format!("items[{i}].declared_value_cents"),
                "between 0 and 100000000 cents",
            );
        }
        if item
            .zone_id
            .as_deref()
            .is_some_and(|z| z.trim().is_empty() || z.len() > 40)
        {
            push(
                &mut errors,
                format!("items[{i}].zone_id"),
                "a zone id, e.g. cold-vault",
            );
        }
        check_len(
            &mut errors,
            &format!("items[{i}].position"),
            item.position.as_deref(),
            40,
        );
    }
    if !(1..=24).contains(&req.term_months) {
        push(&mut errors, "term_months".into(), "between 1 and 24 months");
    }
    if req
        .insurance_rate_bp
        .is_some_and(|r| !(0..=10_000).contains(&r))
    {
        push(
            &mut errors,
            "insurance_rate_bp".into(),
            "between 0 and 10000 basis points (0 to 100 %)",
        );
    }
    if let Some(day) = req.planned_return_on {
        if day <= today {
            push(
                &mut errors,
                "planned_return_on".into(),
                "must be after today",
            );
        } else if (day - today).num_days() > 2 * 366 {
            push(
                &mut errors,
                "planned_return_on".into(),
                "must be within two years",
            );
        }
    }
    check_len(
        &mut errors,
        "delivery_preference",
        req.delivery_preference.as_deref(),
        500,
    );
    check_len(&mut errors, "notes", req.notes.as_deref(), 2000);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Where one item goes, once the zone is chosen and a place is free.
#[derive(Debug)]
struct Placement {
    zone_id: String,
}

/// Puts every item in a zone with a free place: the one named, or the first of the kind its garment needs.
/// Zone use comes from rows locked by this transaction, so what it counts cannot change before commit.
fn place_items(
    items: &[NewItemRequest],
    garments: &[&db::GarmentForStorage],
    zones: &[db::ZoneView],
) -> AppResult<Vec<Placement>> {
    let by_id: HashMap<&str, &db::ZoneView> =
        zones.iter().map(|z| (z.zone_id.as_str(), z)).collect();
    let mut taken: HashMap<&str, i64> = zones
        .iter()
        .map(|z| (z.zone_id.as_str(), z.in_use))
        .collect();
    let mut mine: HashMap<&str, i64> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, (item, garment)) in items.iter().zip(garments).enumerate() {
        let field = format!("items[{i}].zone_id");
        let zone = match item.zone_id.as_deref().map(str::trim) {
            Some(id) => {
                let zone = by_id
                    .get(id)
                    .ok_or_else(|| AppError::invalid(&field, format!("no storage zone '{id}'")))?;
                if pricing::needs_cold_vault(garment.material) && zone.kind != ZoneKind::ColdVault {
                    return Err(AppError::invalid(
                        &field,
                        format!(
                            "{} must be kept in a cold_vault zone; {} is a {}",
                            words(&garment.material),
                            zone.zone_id,
                            zone.kind.as_str()
                        ),
                    ));
                }
                let used = taken.get(id).copied().unwrap_or(zone.in_use);
                if used >= i64::from(zone.capacity) {
                    return Err(full(zone, used, mine.get(id).copied().unwrap_or(0), &field));
                }
                *zone
            }
            None => {
                let kind = pricing::default_zone_kind(garment.kind, garment.material);
                let mut of_kind = zones.iter().filter(|z| z.kind == kind).peekable();
                if of_kind.peek().is_none() {
                    return Err(AppError::conflict(
                        &field,
                        format!(
                            "there is no {} zone for this {}: name a zone, or a manager adds one",
                            kind.as_str(),
                            words(&garment.kind)
                        ),
                    ));
                }
                let mut fullest = None;
                let mut chosen = None;
                for z in of_kind {
                    let used = taken.get(z.zone_id.as_str()).copied().unwrap_or(z.in_use);
                    if used < i64::from(z.capacity) {
                        chosen = Some(z);
                        break;
                    }
                    fullest.get_or_insert((z, used));
                }
                match (chosen, fullest) {
                    (Some(z), _) => z,
                    (None, Some((z, used))) => {
                        return Err(full(
                            z,
                            used,
                            mine.get(z.zone_id.as_str()).copied().unwrap_or(0),
                            &field,
                        ))
                    }
                    (None, None) => {
                        return Err(AppError::Internal(anyhow::anyhow!("no zone chosen")))
                    }
                }
            }
        };
        *taken.entry(zone.zone_id.as_str()).or_insert(zone.in_use) += 1;
        *mine.entry(zone.zone_id.as_str()).or_insert(0) += 1;
        out.push(Placement {
            zone_id: zone.zone_id.clone(),
        });
    }
    Ok(out)
}

/// The refusal for a full zone, with its numbers.
fn full(zone: &db::ZoneView, used: i64, by_this_order: i64, field: &str) -> AppError {
    let detail = if by_this_order > 0 {
        format!(
            "{} is full: {used} of {} places taken, {by_this_order} of them by earlier items of this order",
            zone.zone_id, zone.capacity
        )
    } else {
        format!(
            "{} is full: {used} of {} places taken",
            zone.zone_id, zone.capacity
        )
    };
    AppError::problem(
        StatusCode::CONFLICT,
        "zone-full",
        "Storage zone full",
        detail,
    )
    .with_field(field)
    .with_hint("name another zone for this item, or ask a manager to raise the zone's capacity")
}

/// Takes garments into storage: one order, its items and its first event in one transaction, once per key.
#[tracing::instrument(skip_all, fields(customer_id = %customer_id, order_id))]
async fn create_order(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    Path(customer_id): Path<Uuid>,
    key: IdempotencyKey,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let hash = idempotency::request_hash(&body);
    let req: NewOrderRequest = json_body(&headers, &body, "the storage order")?;
    let today = state.settings.today();
    check_order(&req, today)?;
    let calendar = Calendar::load(&state.pool).await?;
    let mut tx = state.pool.begin().await?;
    if let Some(replay) = idempotency::claim(&mut tx, staff.staff_id, &key.0, &hash).await? {
        return Ok(replay);
    }
    let exists: bool = sqlx::query_scalar(
        "select exists (select 1 from customer where customer_id = $1 for share)",
    )
    .bind(customer_id)
    .fetch_one(&mut *tx)
    .await?;
    if !exists {
        return Err(AppError::NotFound("customer"));
    }
    let settings = db::settings(&mut *tx).await?;
    let rate_bp = req.insurance_rate_bp.unwrap_or(settings.insurance_rate_bp);
    let planned_return_on = match req.planned_return_on {
        Some(day) => day,
        None => {
            next_window_start(&calendar, &settings.return_window_kind, today).ok_or_else(|| {
                AppError::invalid(
                    "planned_return_on",
                    format!(
                        "the season calendar has no '{}' window to return by: give a date",
                        settings.return_window_kind
                    ),
                )
            })?
        }
    };

    // The garments: this customer's, cleaned (recently enough), and in no other open order.
    let ids: Vec<Uuid> = req.items.iter().map(|i| i.garment_id).collect();
    let found = db::lock_garments(&mut tx, customer_id, &ids).await?;
    let by_id: HashMap<Uuid, &db::GarmentForStorage> =
        found.iter().map(|g| (g.garment_id, g)).collect();
    let cleaned_since = settings.cleaned_within_days.map(|d| {
        state
            .settings
            .start_of(today - chrono::Duration::days(i64::from(d)))
    });
    let mut errors = Vec::new();
    let mut garments = Vec::with_capacity(req.items.len());
    for (i, item) in req.items.iter().enumerate() {
        let field = format!("items[{i}].garment_id");
        let Some(g) = by_id.get(&item.garment_id) else {
            push(&mut errors, field, "no such garment for this customer");
            continue;
        };
        match (g.times_cleaned, g.last_cleaned_at) {
            (0, _) | (_, None) => push(
                &mut errors,
                field,
                "this garment has not been cleaned by us: it is cleaned before it is stored",
            ),
            (_, Some(at)) if cleaned_since.is_some_and(|since| at < since) => push(
                &mut errors,
                field,
                format!(
                    "last cleaned on {}, more than {} days ago: it is cleaned again before it is stored",
                    local_day(&state.settings, at),
                    settings.cleaned_within_days.unwrap_or_default()
                ),
            ),
            _ => {}
        }
        garments.push(*g);
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let open: HashMap<Uuid, String> = db::open_items(&mut *tx, customer_id, &ids)
        .await?
        .into_iter()
        .collect();
    if let Some((i, receipt)) = req
        .items
        .iter()
        .enumerate()
        .find_map(|(i, item)| open.get(&item.garment_id).map(|r| (i, r)))
    {
        return Err(AppError::conflict(
            &format!("items[{i}].garment_id"),
            format!("this garment is already in storage on receipt {receipt}: a garment can be in one open order only"),
        ));
    }

    // Prices, places, charges.
    let prices = db::prices(&mut *tx).await?;
    let named: Vec<String> = req
        .items
        .iter()
        .filter_map(|i| i.zone_id.as_deref().map(|z| z.trim().to_owned()))
        .collect();
    let kinds: Vec<ZoneKind> = req
        .items
        .iter()
        .zip(&garments)
        .filter(|(i, _)| i.zone_id.is_none())
        .map(|(_, g)| pricing::default_zone_kind(g.kind, g.material))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let zones = db::lock_zones(&mut tx, &named, &kinds).await?;
    let placements = place_items(&req.items, &garments, &zones)?;
    let mut rows = Vec::with_capacity(req.items.len());
    for (i, ((item, g), place)) in req.items.iter().zip(&garments).zip(placements).enumerate() {
        let price = pricing::price_for(&prices, g.kind, g.material).ok_or_else(|| {
            AppError::conflict(
                &format!("items[{i}].garment_id"),
                format!(
                    "the storage price list has no price for a {} of {}: a manager adds one",
                    words(&g.kind),
                    g.material.as_ref().map_or("any material".to_owned(), words)
                ),
            )
        })?;
        let charge = pricing::charge(
            price.monthly_cents,
            req.term_months,
            item.declared_value_cents,
            rate_bp,
        )
        .ok_or_else(|| AppError::invalid(format!("items[{i}]"), "the charge is too large"))?;
        rows.push(db::NewItem {
            garment_id: item.garment_id,
            declared_cents: item.declared_value_cents,
            fee_cents: charge.fee_cents,
            premium_cents: charge.premium_cents,
            zone_id: place.zone_id,
            position: item.position.as_deref().unwrap_or("").trim().to_owned(),
        });
    }

    let order_id = Uuid::new_v4();
    tracing::Span::current().record("order_id", tracing::field::display(order_id));
    let receipt_no = db::next_receipt_no(&mut *tx, today.year()).await?;
    db::insert_order(
        &mut tx,
        &db::NewOrder {
            customer_id,
            order_id,
            receipt_no: &receipt_no,
            term_months: req.term_months,
            insurance_rate_bp: rate_bp,
            planned_return_on,
            delivery_preference: req.delivery_preference.as_deref().unwrap_or("").trim(),
            notes: req.notes.as_deref().unwrap_or("").trim(),
            fee_cents: rows.iter().map(|r| r.fee_cents).sum(),
            premium_cents: rows.iter().map(|r| r.premium_cents).sum(),
            declared_cents: rows.iter().map(|r| r.declared_cents).sum(),
            created_by: staff.staff_id,
        },
    )
    .await?;
    db::insert_items(&mut tx, customer_id, order_id, &rows)
        .await
        .on_constraint("storage_item_one_open", |_| {
            AppError::conflict(
                "items",
                "a garment of this order was just stored by another order",
            )
        })?;
    db::insert_event(
        &mut tx,
        customer_id,
        order_id,
        Status::Accepted,
        None,
        staff.staff_id,
        "",
    )
    .await?;
    let view = order_view(&mut tx, &state.settings, customer_id, order_id)
        .await?
        .ok_or(AppError::NotFound("storage order"))?;
    let response = idempotency::commit_created(tx, staff.staff_id, &key.0, &hash, &view).await?;
    tracing::info!(items = view.items.len(), "storage order accepted");
    Ok(response)
}

#[derive(Debug, Deserialize)]
struct OrdersQuery {
    status: Option<Status>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// A customer's storage orders, newest first.
async fn list_orders(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path(customer_id): Path<Uuid>,
    Query(q): Query<OrdersQuery>,
) -> AppResult<Json<Page<db::OrderSummary>>> {
    let page = PageParams {
        limit: q.limit,
        offset: q.offset,
    }
    .check()?;
    if !crate::customers::db::customer_exists(&state.pool, customer_id).await? {
        return Err(AppError::NotFound("customer"));
    }
    let rows = db::orders(
        &state.pool,
        Some(customer_id),
        q.status,
        page.fetch(),
        page.offset,
    )
    .await?;
    Ok(Json(page.page(rows)))
}

/// Every customer's storage orders, newest first (e.g. `?status=accepted` for what still goes on a shelf).
async fn list_all_orders(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    Query(q): Query<OrdersQuery>,
) -> AppResult<Json<Page<db::OrderSummary>>> {
    let page = PageParams {
        limit: q.limit,
        offset: q.offset,
    }
    .check()?;
    let rows = db::orders(&state.pool, None, q.status, page.fetch(), page.offset).await?;
    Ok(Json(page.page(rows)))
}

async fn load(state: &AppState, customer_id: Uuid, order_id: Uuid) -> AppResult<OrderView> {
    let mut conn = state.pool.acquire().await?;
    order_view(&mut conn, &state.settings, customer_id, order_id)
        .await?
        .ok_or(AppError::NotFound("storage order"))
}

async fn show_order(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path((customer_id, order_id)): Path<(Uuid, Uuid)>,
) -> AppResult<Json<OrderView>> {
    Ok(Json(load(&state, customer_id, order_id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusRequest {
    status: Status,
    note: Option<String>,
}

/// Moves an order one step on (accepted -> in_storage -> return_requested -> returned), recording who and when.
#[tracing::instrument(skip_all, fields(order_id = %order_id))]
async fn change_status(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    Path((customer_id, order_id)): Path<(Uuid, Uuid)>,
    Json(req): Json<StatusRequest>,
) -> AppResult<Json<OrderView>> {
    let mut errors = Vec::new();
    check_len(&mut errors, "note", req.note.as_deref(), 1000);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.pool.begin().await?;
    let current = db::lock_order(&mut tx, customer_id, order_id)
        .await?
        .ok_or(AppError::NotFound("storage order"))?;
    if current.next() != Some(req.status) {
        let detail = match current.next() {
            _ if current == req.status => format!("the order is already {}", current.as_str()),
            Some(next) => format!(
                "an order that is {} can only move to {}",
                current.as_str(),
                next.as_str()
            ),
            None => "the order has been returned: it cannot move any more".to_owned(),
        };
        return Err(AppError::conflict("status", detail));
    }
    db::set_status(&mut tx, customer_id, order_id, req.status).await?;
    let note = req.note.as_deref().unwrap_or("").trim();
    db::insert_event(
        &mut tx,
        customer_id,
        order_id,
        req.status,
        None,
        staff.staff_id,
        note,
    )
    .await?;
    let view = order_view(&mut tx, &state.settings, customer_id, order_id)
        .await?
        .ok_or(AppError::NotFound("storage order"))?;
    tx.commit().await?;
    tracing::info!(status = req.status.as_str(), "storage order moved");
    Ok(Json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryRequest {
    booked_for: NaiveDate,
    note: Option<String>,
}

/// Books the day the garments go back to the customer; an order still in storage is asked back at once.
#[tracing::instrument(skip_all, fields(order_id = %order_id))]
async fn book_delivery(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    Path((customer_id, order_id)): Path<(Uuid, Uuid)>,
    Json(req): Json<DeliveryRequest>,
) -> AppResult<Json<OrderView>> {
    let today = state.settings.today();
    let mut errors = Vec::new();
    if req.booked_for < today {
        push(&mut errors, "booked_for".into(), "is in the past");
    } else if (req.booked_for - today).num_days() > 366 {
        push(&mut errors, "booked_for".into(), "must be within a year");
    }
    check_len(&mut errors, "note", req.note.as_deref(), 1000);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.pool.begin().await?;
    let current = db::lock_order(&mut tx, customer_id, order_id)
        .await?
        .ok_or(AppError::NotFound("storage order"))?;
    let note = req.note.as_deref().unwrap_or("").trim();
    match current {
        Status::Accepted => {
            return Err(AppError::conflict(
                "status",
                "the order is not in storage yet: move it to in_storage first",
            ))
        }
        Status::Returned => {
            return Err(AppError::conflict(
                "status",
                "the order has been returned already",
            ))
        }
        Status::InStorage => {
            db::set_status(&mut tx, customer_id, order_id, Status::ReturnRequested).await?;
            db::insert_event(
                &mut tx,
                customer_id,
                order_id,
                Status::ReturnRequested,
                None,
                staff.staff_id,
                "return delivery booked",
            )
            .await?;
        }
        Status::ReturnRequested => {}
    }
    db::set_delivery(&mut tx, customer_id, order_id, req.booked_for).await?;
    db::insert_event(
        &mut tx,
        customer_id,
        order_id,
        Status::ReturnRequested,
        Some(req.booked_for),
        staff.staff_id,
        note,
    )
    .await?;
    let view = order_view(&mut tx, &state.settings, customer_id, order_id)
        .await?
        .ok_or(AppError::NotFound("storage order"))?;
    tx.commit().await?;
    tracing::info!(booked_for = %req.booked_for, "storage return delivery booked");
    Ok(Json(view))
}

/// The receipt page; it runs no script and loads nothing, whatever the customer's text says.
async fn receipt_html(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path((customer_id, order_id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let order = load(&state, customer_id, order_id).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        receipt::html(&order),
    )
        .into_response())
}

async fn receipt_pdf(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Path((customer_id, order_id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let order = load(&state, customer_id, order_id).await?;
    let disposition = format!("inline; filename=\"receipt-{}.pdf\"", order.receipt_no);
    let pdf = receipt::pdf(&order);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(|e| AppError::Internal(e.into()))?,
            ),
        ],
        pdf,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------------------
// Return list and revenue report

/// A stored garment on the return list.
#[derive(Debug, Clone, Serialize)]
pub struct ReturnItem {
    pub garment_id: Uuid,
    pub description: String,
    pub tag_code: Option<String>,
    pub zone_id: String,
    pub position: String,
    pub declared_cents: i64,
}

/// An open order due back, with its items.
#[derive(Debug, Clone, Serialize)]
pub struct ReturnOrder {
    #[serde(flatten)]
    pub order: db::DueOrder,
    pub items: Vec<ReturnItem>,
}

/// A customer whose stored garments are due back.
#[derive(Debug, Clone, Serialize)]
pub struct ReturnEntry {
    pub rank: i64,
    pub customer_id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Listed all the same: their clothes must go back; call only about the return.
    pub do_not_contact: bool,
    /// The earliest planned return of their open orders.
    pub due_on: NaiveDate,
    pub overdue: bool,
    pub order_count: i64,
    pub unbooked_orders: i64,
    pub item_count: i64,
    pub declared_cents: i64,
    pub delivery_preference: String,
    pub storage_orders: Vec<ReturnOrder>,
}

impl CsvRow for ReturnEntry {
    fn header() -> &'static [&'static str] {
        &[
            "rank",
            "customer_id",
            "name",
            "phone",
            "address",
            "do_not_contact",
            "due_on",
            "overdue",
            "receipts",
            "items",
            "garments",
            "declared_value",
            "delivery_preference",
            "delivery_booked_for",
        ]
    }

    fn record(&self) -> Vec<String> {
        let join = |f: &dyn Fn(&ReturnOrder) -> Vec<String>| {
            self.storage_orders
                .iter()
                .flat_map(f)
                .collect::<Vec<_>>()
                .join("; ")
        };
        vec![
            self.rank.to_string(),
            self.customer_id.to_string(),
            self.name.clone(),
            self.phone.clone().unwrap_or_default(),
            self.address.clone().unwrap_or_default(),
            self.do_not_contact.to_string(),
            self.due_on.to_string(),
            self.overdue.to_string(),
            join(&|o| vec![o.order.receipt_no.clone()]),
            self.item_count.to_string(),
            join(&|o| o.items.iter().map(|i| i.description.clone()).collect()),
            money(self.declared_cents),
            self.delivery_preference.clone(),
            join(&|o| {
                o.order
                    .delivery_booked_for
                    .iter()
                    .map(|d| d.to_string())
                    .collect()
            }),
        ]
    }

    // Do-not-contact customers stay in this export: the list is for giving their clothes back, not marketing.
}

#[derive(Debug, Deserialize)]
struct ReturnsParams {
    due_by: Option<NaiveDate>,
    booked: Option<bool>,
    format: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize)]
struct ReturnsMeta {
    due_by: NaiveDate,
    booked: Option<bool>,
}

/// The day the return list runs to by default: the end of the return window open today, else the next start.
fn default_due_by(cal: &Calendar, kind: &str, today: NaiveDate) -> Option<NaiveDate> {
    let open = [today.year() - 1, today.year()]
        .into_iter()
        .filter_map(|y| cal.window(kind, y))
        .find(|w| w.contains(today));
    open.map(|w| w.ends_on)
        .or_else(|| next_window_start(cal, kind, today))
}

/// Computes the return list: customers with open orders due by `due_by`, earliest due date first.
pub async fn compute_returns(
    pool: &sqlx::PgPool,
    today: NaiveDate,
    due_by: NaiveDate,
    booked: Option<bool>,
    rows: lists::Rows,
) -> AppResult<Listed<ReturnEntry>> {
    let due = db::due_customers(pool, due_by, booked, rows.limit, rows.offset).await?;
    let total = due.first().map_or(0, |r| r.total);
    let ids: Vec<Uuid> = due.iter().map(|r| r.customer_id).collect();
    let orders = db::due_orders(pool, &ids, due_by).await?;
    let mut items = db::items_by_order(pool, &orders).await?;
    let mut by_customer: HashMap<Uuid, Vec<ReturnOrder>> = HashMap::new();
    for order in orders {
        let order_items = items
            .remove(&order.order_id)
            .unwrap_or_default()
            .into_iter()
            .filter(|i| i.released_at.is_none())
            .map(|i| ReturnItem {
                description: describe(&i),
                garment_id: i.garment_id,
                tag_code: i.tag_code,
                zone_id: i.zone_id,
                position: i.position,
                declared_cents: i.declared_cents,
            })
            .collect();
        by_customer
            .entry(order.customer_id)
            .or_default()
            .push(ReturnOrder {
                order,
                items: order_items,
            });
    }
    let items = due
        .into_iter()
        .zip(lists::ranks(rows))
        .map(|(row, rank)| {
            let storage_orders = by_customer.remove(&row.customer_id).unwrap_or_default();
            let mut preferences: Vec<&str> = Vec::new();
            for o in &storage_orders {
                let p = o.order.delivery_preference.as_str();
                if !p.is_empty() && !preferences.contains(&p) {
                    preferences.push(p);
                }
            }
            ReturnEntry {
                rank,
                customer_id: row.customer_id,
                name: row.name,
                phone: row.phone,
                address: row.address,
                do_not_contact: row.do_not_contact,
                due_on: row.due_on,
                overdue: row.due_on < today,
                order_count: row.orders,
                unbooked_orders: row.unbooked_orders,
                item_count: storage_orders.iter().map(|o| o.items.len() as i64).sum(),
                declared_cents: storage_orders
                    .iter()
                    .flat_map(|o| &o.items)
                    .map(|i| i.declared_cents)
                    .sum(),
                delivery_preference: preferences.join("; "),
                storage_orders,
            }
        })
        .collect();
    Ok(Listed { total, items })
}

/// `GET /api/v1/storage/returns?due_by=2026-11-15&booked=false`
async fn return_list(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    headers: HeaderMap,
    Query(p): Query<ReturnsParams>,
) -> AppResult<Response> {
    let output = Output::from_request(&headers, p.format.as_deref(), p.limit, p.offset)?;
    let today = state.settings.today();
    let due_by = match p.due_by {
        Some(day) => {
            if (day - today).num_days().abs() > 5 * 366 {
                return Err(AppError::invalid(
                    "due_by",
                    "must be within five years of today",
                ));
            }
            day
        }
        None => {
            let settings = db::settings(&state.pool).await?;
            let cal = Calendar::load(&state.pool).await?;
            default_due_by(&cal, &settings.return_window_kind, today).ok_or_else(|| {
                AppError::invalid(
                    "due_by",
                    "no return window in the season calendar: give a date",
                )
            })?
        }
    };
    let listed = compute_returns(&state.pool, today, due_by, p.booked, output.rows()).await?;
    let meta = ReturnsMeta {
        due_by,
        booked: p.booked,
    };
    lists::respond("storage-returns", today, meta, &output, listed)
}

#[derive(Debug, Deserialize)]
struct ReportParams {
    season: Option<i32>,
}

/// Storage revenue of one season: the orders accepted in that year (company time).
#[derive(Debug, Serialize)]
pub struct RevenueReport {
    pub season: i32,
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[serde(flatten)]
    pub totals: db::Figures,
    pub by_month: Vec<db::GroupFigures>,
    pub by_zone: Vec<db::GroupFigures>,
}

/// `GET /api/v1/storage/report?season=2026`
async fn revenue_report(
    State(state): State<AppState>,
    Authed(_, _): Authed<Manager>,
    Query(p): Query<ReportParams>,
) -> AppResult<Json<RevenueReport>> {
    let season = p.season.unwrap_or_else(|| state.settings.today().year());
    if !(2000..=2200).contains(&season) {
        return Err(AppError::invalid("season", "a year, e.g. 2026"));
    }
    let (Some(from), Some(next)) = (
        NaiveDate::from_ymd_opt(season, 1, 1),
        NaiveDate::from_ymd_opt(season + 1, 1, 1),
    ) else {
        return Err(AppError::invalid("season", "a year, e.g. 2026"));
    };
    let (totals, by_month, by_zone) = db::season_figures(
        &state.pool,
        state.settings.start_of(from),
        state.settings.start_of(next),
        state.settings.local_offset.local_minus_utc(),
    )
    .await?;
    Ok(Json(RevenueReport {
        season,
        from,
        to: next - chrono::Duration::days(1),
        totals,
        by_month,
        by_zone,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_move_one_way_one_step_at_a_time() {
        assert_eq!(Status::Accepted.next(), Some(Status::InStorage));
        assert_eq!(Status::InStorage.next(), Some(Status::ReturnRequested));
        assert_eq!(Status::ReturnRequested.next(), Some(Status::Returned));
        assert_eq!(Status::Returned.next(), None);
    }

    fn zone(id: &str, kind: ZoneKind, capacity: i32, in_use: i64) -> db::ZoneView {
        db::ZoneView {
            zone_id: id.into(),
            name: id.into(),
            kind,
            capacity,
            in_use,
            free: i64::from(capacity) - in_use,
        }
    }

    fn garment(kind: GarmentKind, material: Option<Material>) -> db::GarmentForStorage {
        db::GarmentForStorage {
            garment_id: Uuid::new_v4(),
            kind,
            material,
            times_cleaned: 1,
            last_cleaned_at: Some(Utc::now()),
        }
    }

    fn item(zone: Option<&str>) -> NewItemRequest {
        NewItemRequest {
            garment_id: Uuid::new_v4(),
            declared_value_cents: 0,
            zone_id: zone.map(str::to_owned),
            position: None,
        }
    }

    #[test]
    fn items_fill_zones_in_order_and_a_full_zone_refuses() {
        let zones = vec![
            zone("rack-a", ZoneKind::Rack, 2, 1),
            zone("rack-b", ZoneKind::Rack, 5, 0),
            zone("vault", ZoneKind::ColdVault, 1, 1),
        ];
        let coat = garment(GarmentKind::Coat, Some(Material::Wool));
        let fur = garment(GarmentKind::Coat, Some(Material::Fur));
        let placed =
            place_items(&[item(None), item(None)], &[&coat, &coat], &zones).expect("test data");
        let ids: Vec<&str> = placed.iter().map(|p| p.zone_id.as_str()).collect();
        assert_eq!(ids, ["rack-a", "rack-b"]);

        let err = place_items(&[item(None)], &[&fur], &zones).unwrap_err();
        let AppError::Problem(p) = err else {
            panic!("{err:?}")
        };
        assert_eq!(p.status, StatusCode::CONFLICT);
        assert_eq!(p.field.as_deref(), Some("items[0].zone_id"));
        assert_eq!(p.detail, "vault is full: 1 of 1 places taken");

        let err = place_items(
            &[item(Some("rack-a")), item(Some("rack-a"))],
            &[&coat, &coat],
            &zones,
        )
        .unwrap_err();
        let AppError::Problem(p) = err else {
            panic!("{err:?}")
        };
        assert_eq!(p.field.as_deref(), Some("items[1].zone_id"));
        assert!(
            p.detail
                .contains("2 of 2 places taken, 1 of them by earlier items"),
            "{}",
            p.detail
        );

        // Fur never goes on a rack, even when asked.
        let err = place_items(&[item(Some("rack-b"))], &[&fur], &zones).unwrap_err();
        let AppError::Invalid(e) = err else {
            panic!("{err:?}")
        };
        assert_eq!(e[0].field, "items[0].zone_id");
    }

    #[test]
    fn garments_are_described_in_words() {
        let item = ItemView {
            order_id: Uuid::nil(),
            garment_id: Uuid::nil(),
            description: String::new(),
            category: Category::Women,
            kind: GarmentKind::DownJacket,
            season_class: SeasonClass::Winter,
            brand: Some("Moncler".into()),
            size: Some("40".into()),
            material: Some(Material::Down),
            colour: Some("black".into()),
            tag_code: None,
            declared_cents: 0,
            fee_cents: 0,
            premium_cents: 0,
            zone_id: "rack-a".into(),
            zone_name: "Rack A".into(),
            position: String::new(),
            released_at: None,
        };
        assert_eq!(
            describe(&item),
            "women's down jacket, Moncler, black, size 40, down"
        );
        assert_eq!(words(&GarmentKind::TShirt), "T-shirt");
    }
}
