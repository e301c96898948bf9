//! What goes back to customers (the return list) and what storage earned (the revenue report).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::rules::next_window_start;
use super::*;
use crate::auth::{Authed, Dispatcher, Manager};
use crate::calendar::Calendar;
use crate::domain::money::money;
use crate::error::{AppError, AppResult};
use crate::export::{self, CsvRow, Listed, Output};
use crate::extract::{Json, Query};
use crate::state::AppState;

/// The return list and the revenue report.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(return_list))
        .routes(routes!(revenue_report))
}

/// A stored garment on the return list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReturnItem {
    pub garment_id: Uuid,
    /// In English words, as the CSV carries it; the fields below let a page name it in its own language.
    pub description: String,
    pub category: Category,
    pub kind: GarmentKind,
    pub material: Option<Material>,
    pub brand: Option<String>,
    pub colour: Option<String>,
    pub size: Option<String>,
    pub tag_code: Option<String>,
    pub zone_id: String,
    pub position: String,
    pub declared_cents: i64,
}

impl ReturnItem {
    /// Where the warehouse finds it: the zone, and the position when one was given (`rack-a 12`).
    fn place(&self) -> String {
        if self.position.is_empty() {
            self.zone_id.clone()
        } else {
            format!("{} {}", self.zone_id, self.position)
        }
    }
}

/// An open order due back, with its items.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReturnOrder {
    #[serde(flatten)]
    pub order: db::DueOrder,
    pub items: Vec<ReturnItem>,
}

/// A customer whose stored garments are due back.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
            "places",
            "declared_value",
            "delivery_preference",
            "delivery_booked_for",
        ]
    }

    fn record(&self, words: &export::Wording) -> Vec<String> {
        let join = |f: &dyn Fn(&ReturnOrder) -> Vec<String>| {
            words.join(&self.storage_orders.iter().flat_map(f).collect::<Vec<_>>())
        };
        let described = |i: &ReturnItem| match words.lang() {
            None => i.description.clone(),
            Some(_) => super::describe_in(
                words,
                i.category,
                i.kind,
                [i.brand.as_deref(), i.colour.as_deref()],
                i.size.as_deref(),
                i.material,
            ),
        };
        vec![
            self.rank.to_string(),
            self.customer_id.to_string(),
            self.name.clone(),
            self.phone.clone().unwrap_or_default(),
            self.address.clone().unwrap_or_default(),
            words.yes_no(self.do_not_contact),
            self.due_on.to_string(),
            words.yes_no(self.overdue),
            join(&|o| vec![o.order.receipt_no.clone()]),
            self.item_count.to_string(),
            join(&|o| o.items.iter().map(described).collect()),
            join(&|o| o.items.iter().map(ReturnItem::place).collect()),
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ReturnsParams {
    due_by: Option<NaiveDate>,
    booked: Option<bool>,
    format: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
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
    rows: export::Rows,
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
                category: i.category,
                kind: i.kind,
                material: i.material,
                brand: i.brand,
                colour: i.colour,
                size: i.size,
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
        .zip(export::ranks(rows))
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
#[utoipa::path(get, path = "/api/v1/storage/returns", tag = "storage", params(ReturnsParams), responses((status = 200, content((crate::export::ListPage<ReturnEntry, ReturnsMeta> = "application/json"), (String = "text/csv")))))]
async fn return_list(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Dispatcher>,
    headers: HeaderMap,
    Query(p): Query<ReturnsParams>,
) -> AppResult<Response> {
    let output = Output::from_request(&headers, p.format.as_deref(), p.limit, p.offset)?;
    let today = state.settings.clock.today();
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
    export::respond_logged(
        &state,
        staff.staff_id,
        "storage-returns",
        today,
        meta,
        &output,
        listed,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportParams {
    season: Option<i32>,
}

/// Storage revenue of one season: the orders accepted in that year (company time).
#[derive(Debug, Serialize, utoipa::ToSchema)]
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
#[utoipa::path(get, path = "/api/v1/storage/report", tag = "storage", params(ReportParams), responses((status = 200, body = RevenueReport)))]
async fn revenue_report(
    State(state): State<AppState>,
    Authed(_, _): Authed<Manager>,
    Query(p): Query<ReportParams>,
) -> AppResult<Json<RevenueReport>> {
    let season = p
        .season
        .unwrap_or_else(|| state.settings.clock.today().year());
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
        state.settings.clock.start_of(from),
        state.settings.clock.start_of(next),
        state.settings.clock.offset.local_minus_utc(),
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
