//! Garment storage: orders with declared values, fees and premiums, zones with capacity, receipts, returns, revenue.

mod catalogue;
pub mod db;
mod orders;
pub mod pricing;
pub mod receipt;
mod returns;
mod rules;

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::domain::{Category, GarmentKind, Material, SeasonClass};
use crate::error::AppResult;
use crate::state::{AppState, Settings};

/// Where a storage order is: accepted at the door, in the warehouse, asked back, back with the customer.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Status {
    /// Taken in at the door.
    Accepted,
    /// On a shelf in the warehouse.
    InStorage,
    /// Asked back by the customer or due.
    ReturnRequested,
    /// Back with the customer; its places are free.
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
}

/// One stored garment as a receipt lists it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ItemView {
    #[serde(skip)]
    pub(crate) order_id: Uuid,
    pub(crate) garment_id: Uuid,
    #[sqlx(skip)]
    pub(crate) description: String,
    pub(crate) category: Category,
    pub(crate) kind: GarmentKind,
    pub(crate) season_class: SeasonClass,
    pub(crate) brand: Option<String>,
    pub(crate) size: Option<String>,
    pub(crate) material: Option<Material>,
    pub(crate) colour: Option<String>,
    pub(crate) tag_code: Option<String>,
    pub(crate) declared_cents: i64,
    pub(crate) fee_cents: i64,
    pub(crate) premium_cents: i64,
    pub(crate) zone_id: String,
    pub(crate) zone_name: String,
    /// False for a shipped zone nobody renamed: shown by its catalogue name (`zone.<zone_id>`).
    pub(crate) zone_named: bool,
    pub(crate) position: String,
    pub(crate) released_at: Option<DateTime<Utc>>,
}

/// One recorded move of an order (or a booked return delivery): what, who and when.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct EventView {
    pub(crate) seq: i32,
    /// `status` for a status change, `delivery` for a booked return delivery.
    pub action: String,
    pub(crate) status: Status,
    pub(crate) booked_for: Option<NaiveDate>,
    pub(crate) staff_id: Uuid,
    pub(crate) staff_name: String,
    pub(crate) at: DateTime<Utc>,
    pub(crate) note: String,
}

/// A storage order with its customer, items, totals and history: the API's answer and the receipt's content.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    pub(crate) order_id: Uuid,
    pub(crate) customer_id: Uuid,
    pub(crate) receipt_no: String,
    pub(crate) status: Status,
    pub(crate) customer_name: String,
    pub(crate) customer_phone: Option<String>,
    pub(crate) customer_address: Option<String>,
    pub(crate) do_not_contact: bool,
    pub(crate) accepted_on: NaiveDate,
    pub(crate) term_months: i32,
    /// The last day the fee pays for.
    pub term_ends_on: NaiveDate,
    pub(crate) planned_return_on: NaiveDate,
    pub(crate) delivery_booked_for: Option<NaiveDate>,
    pub(crate) delivery_preference: String,
    pub(crate) notes: String,
    pub(crate) insurance_rate_bp: i32,
    pub(crate) declared_cents: i64,
    pub(crate) fee_cents: i64,
    pub(crate) premium_cents: i64,
    /// Fee plus premium: what the customer pays.
    pub total_cents: i64,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) created_by: Uuid,
    pub(crate) created_by_name: String,
    pub(crate) items: Vec<ItemView>,
    pub(crate) events: Vec<EventView>,
    /// What the office should look at: a planned return after the paid term ends.
    pub warnings: Vec<String>,
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

/// A garment in one line in the reader's words (`女装大衣、Max Mara、驼色、尺码 40、羊绒`), for exports
/// asked for in another language than the API's.
pub fn describe_in(
    words: &crate::export::Wording,
    category: Category,
    kind: GarmentKind,
    as_entered: [Option<&str>; 2],
    size: Option<&str>,
    material: Option<Material>,
) -> String {
    let mut parts = vec![format!(
        "{}{}",
        words.word("category", &category.name()),
        words.word("kind", &kind.name())
    )];
    parts.extend(as_entered.into_iter().flatten().map(str::to_owned));
    parts.extend(size.map(|s| words.text("storage.size_of", &[("size", s)])));
    parts.extend(material.map(|m| words.word("material", &m.name())));
    words.series(&parts)
}

fn with_descriptions(mut items: Vec<ItemView>) -> Vec<ItemView> {
    for item in &mut items {
        item.description = describe(item);
    }
    items
}

/// The company-time day an instant falls on.
fn local_day(settings: &Settings, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&settings.clock.offset).date_naive()
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
    let mut warnings = Vec::new();
    if o.planned_return_on > term_ends_on {
        warnings.push(format!(
            "the planned return ({}) is after the paid term ends ({}): extend the term or plan an earlier return",
            o.planned_return_on, term_ends_on
        ));
    }
    Ok(Some(OrderView {
        warnings,
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

/// The warehouse routes: catalogue, orders, returns and the revenue report.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(catalogue::routes())
        .merge(orders::routes())
        .merge(returns::routes())
}
