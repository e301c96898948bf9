//! SQL for storage: settings, zones and their use, the price list, orders with items and events, returns, revenue.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::pricing::{PriceRow, ZoneKind};
use super::{EventView, ItemView, Status};
use crate::domain::{GarmentKind, Material};

/// The settings new orders start from.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StorageSettings {
    pub(crate) insurance_rate_bp: i32,
    pub(crate) cleaned_within_days: Option<i32>,
    pub(crate) return_window_kind: String,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) updated_by: Option<Uuid>,
}

/// The one settings row.
pub async fn settings(db: impl PgExecutor<'_>) -> sqlx::Result<StorageSettings> {
    sqlx::query_as(
        "select insurance_rate_bp, cleaned_within_days, return_window_kind, updated_at, updated_by
           from storage_setting",
    )
    .fetch_one(db)
    .await
}

/// Saves the settings and who changed them.
pub async fn update_settings(
    db: impl PgExecutor<'_>,
    s: &StorageSettings,
    staff_id: Uuid,
) -> sqlx::Result<StorageSettings> {
    sqlx::query_as(
        "update storage_setting
            set insurance_rate_bp = $1, cleaned_within_days = $2, return_window_kind = $3,
                updated_at = now(), updated_by = $4
         returning insurance_rate_bp, cleaned_within_days, return_window_kind, updated_at, updated_by",
    )
    .bind(s.insurance_rate_bp)
    .bind(s.cleaned_within_days)
    .bind(&s.return_window_kind)
    .bind(staff_id)
    .fetch_one(db)
    .await
}

/// A zone with how many places it has and how many hold an item now.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ZoneView {
    pub(crate) zone_id: String,
    pub(crate) name: String,
    /// False for a shipped zone nobody renamed: pages show it by its catalogue name (`zone.<zone_id>`).
    pub(crate) named: bool,
    pub(crate) kind: ZoneKind,
    pub(crate) capacity: i32,
    pub(crate) in_use: i64,
    pub(crate) free: i64,
}

const ZONE_USE: &str = "
    select z.zone_id, z.name, z.named, z.kind, z.capacity, coalesce(u.n, 0) as in_use,
           greatest(z.capacity - coalesce(u.n, 0), 0) as free
      from storage_zone z
      left join (select zone_id, count(*) as n from storage_item where released_at is null group by zone_id) u
             using (zone_id)";

/// Every zone with its use, cold vaults first.
pub async fn zones(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<ZoneView>> {
    sqlx::query_as(&format!("{ZONE_USE} order by z.kind, z.zone_id"))
        .fetch_all(db)
        .await
}

/// One zone with its use.
pub async fn zone(db: impl PgExecutor<'_>, zone_id: &str) -> sqlx::Result<Option<ZoneView>> {
    sqlx::query_as(&format!("{ZONE_USE} where z.zone_id = $1"))
        .bind(zone_id)
        .fetch_optional(db)
        .await
}

/// Locks the named zones and every zone of `kinds` (in id order, so concurrent orders cannot deadlock) and
/// answers their use once locked: no other order can take a place in them until this transaction ends.
pub async fn lock_zones(
    tx: &mut PgConnection,
    ids: &[String],
    kinds: &[ZoneKind],
) -> sqlx::Result<Vec<ZoneView>> {
    let locked: Vec<String> = sqlx::query_scalar(
        "select zone_id from storage_zone where zone_id = any($1) or kind = any($2)
          order by zone_id for update",
    )
    .bind(ids)
    .bind(kinds)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query_as(&format!(
        "{ZONE_USE} where z.zone_id = any($1) order by z.zone_id"
    ))
    .bind(&locked)
    .fetch_all(&mut *tx)
    .await
}

/// Locks one zone for a change of its capacity or description.
pub async fn lock_zone(tx: &mut PgConnection, zone_id: &str) -> sqlx::Result<Option<ZoneView>> {
    let found: Option<String> =
        sqlx::query_scalar("select zone_id from storage_zone where zone_id = $1 for update")
            .bind(zone_id)
            .fetch_optional(&mut *tx)
            .await?;
    match found {
        Some(_) => zone(&mut *tx, zone_id).await,
        None => Ok(None),
    }
}

/// Creates a zone or changes it, recording who did. A shipped zone becomes `named` only when its name changes, so
/// saving its capacity keeps it shown in the reader's language.
pub async fn upsert_zone(
    db: impl PgExecutor<'_>,
    zone_id: &str,
    name: &str,
    kind: ZoneKind,
    capacity: i32,
    staff_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into storage_zone (zone_id, name, kind, capacity, updated_at, updated_by)
         values ($1, $2, $3, $4, now(), $5)
         on conflict (zone_id) do update
            set name = excluded.name, named = storage_zone.named or excluded.name <> storage_zone.name,
                kind = excluded.kind, capacity = excluded.capacity,
                updated_at = now(), updated_by = excluded.updated_by",
    )
    .bind(zone_id)
    .bind(name)
    .bind(kind)
    .bind(capacity)
    .bind(staff_id)
    .execute(db)
    .await?;
    Ok(())
}

/// The whole price list (a few dozen rows at most), catch-all first.
pub async fn prices(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<PriceRow>> {
    sqlx::query_as(
        "select price_id, kind, material, monthly_cents from storage_price
          order by kind nulls first, material nulls first",
    )
    .fetch_all(db)
    .await
}

/// Sets the monthly price of a kind/material pair, adding the row if it is new.
pub async fn upsert_price(
    db: impl PgExecutor<'_>,
    kind: Option<GarmentKind>,
    material: Option<Material>,
    monthly_cents: i64,
    staff_id: Uuid,
) -> sqlx::Result<PriceRow> {
    sqlx::query_as(
        "insert into storage_price (kind, material, monthly_cents, updated_at, updated_by)
         values ($1, $2, $3, now(), $4)
         on conflict (kind, material) do update
            set monthly_cents = excluded.monthly_cents, updated_at = now(), updated_by = excluded.updated_by
         returning price_id, kind, material, monthly_cents",
    )
    .bind(kind)
    .bind(material)
    .bind(monthly_cents)
    .bind(staff_id)
    .fetch_one(db)
    .await
}

/// Removes a price row and answers it.
pub async fn delete_price(
    db: impl PgExecutor<'_>,
    price_id: i32,
) -> sqlx::Result<Option<PriceRow>> {
    sqlx::query_as(
        "delete from storage_price where price_id = $1 returning price_id, kind, material, monthly_cents",
    )
    .bind(price_id)
    .fetch_optional(db)
    .await
}

/// A garment offered for storage, with its cleaning record.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GarmentForStorage {
    pub(crate) garment_id: Uuid,
    pub(crate) kind: GarmentKind,
    pub(crate) material: Option<Material>,
    pub(crate) times_cleaned: i32,
    pub(crate) last_cleaned_at: Option<DateTime<Utc>>,
}

/// The customer's garments among `ids`, locked so that two orders for one garment take turns.
pub async fn lock_garments(
    tx: &mut PgConnection,
    customer_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<GarmentForStorage>> {
    sqlx::query_as(
        "select garment_id, kind, material, times_cleaned, last_cleaned_at
           from garment where customer_id = $1 and garment_id = any($2)
          order by garment_id for update",
    )
    .bind(customer_id)
    .bind(ids)
    .fetch_all(tx)
    .await
}

/// Which of `ids` are in an open order already, with that order's receipt number.
pub async fn open_items(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as(
        "select si.garment_id, o.receipt_no
           from storage_item si join storage_order o using (customer_id, order_id)
          where si.customer_id = $1 and si.garment_id = any($2) and si.released_at is null",
    )
    .bind(customer_id)
    .bind(ids)
    .fetch_all(db)
    .await
}

/// The next receipt number of the year: `ST2026-000042`.
pub async fn next_receipt_no(db: impl PgExecutor<'_>, year: i32) -> sqlx::Result<String> {
    let n: i64 = sqlx::query_scalar("select nextval('storage_receipt_seq')")
        .fetch_one(db)
        .await?;
    Ok(format!("ST{year}-{n:06}"))
}

/// An order's own fields, ready to insert.
pub struct NewOrder<'a> {
    pub(crate) customer_id: Uuid,
    pub(crate) order_id: Uuid,
    pub(crate) receipt_no: &'a str,
    pub(crate) term_months: i32,
    pub(crate) insurance_rate_bp: i32,
    pub(crate) planned_return_on: NaiveDate,
    pub(crate) delivery_preference: &'a str,
    pub(crate) notes: &'a str,
    pub(crate) fee_cents: i64,
    pub(crate) premium_cents: i64,
    pub(crate) declared_cents: i64,
    pub(crate) created_by: Uuid,
}

/// One item, ready to insert.
pub struct NewItem {
    pub(crate) garment_id: Uuid,
    pub(crate) declared_cents: i64,
    pub(crate) fee_cents: i64,
    pub(crate) premium_cents: i64,
    pub(crate) zone_id: String,
    pub(crate) position: String,
}

/// Inserts an order as `accepted`.
pub async fn insert_order(tx: &mut PgConnection, o: &NewOrder<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into storage_order (customer_id, order_id, receipt_no, status, term_months, insurance_rate_bp,
                                    planned_return_on, delivery_preference, notes, fee_cents, premium_cents,
                                    declared_cents, created_by)
         values ($1, $2, $3, 'accepted', $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(o.customer_id)
    .bind(o.order_id)
    .bind(o.receipt_no)
    .bind(o.term_months)
    .bind(o.insurance_rate_bp)
    .bind(o.planned_return_on)
    .bind(o.delivery_preference)
    .bind(o.notes)
    .bind(o.fee_cents)
    .bind(o.premium_cents)
    .bind(o.declared_cents)
    .bind(o.created_by)
    .execute(tx)
    .await?;
    Ok(())
}

/// Inserts every item of an order in one statement; `storage_item_one_open` refuses a garment already stored.
pub async fn insert_items(
    tx: &mut PgConnection,
    customer_id: Uuid,
    order_id: Uuid,
    items: &[NewItem],
) -> sqlx::Result<()> {
    let garments: Vec<Uuid> = items.iter().map(|i| i.garment_id).collect();
    let declared: Vec<i64> = items.iter().map(|i| i.declared_cents).collect();
    let fees: Vec<i64> = items.iter().map(|i| i.fee_cents).collect();
    let premiums: Vec<i64> = items.iter().map(|i| i.premium_cents).collect();
    let zones: Vec<&str> = items.iter().map(|i| i.zone_id.as_str()).collect();
    let positions: Vec<&str> = items.iter().map(|i| i.position.as_str()).collect();
    sqlx::query(
        "insert into storage_item (customer_id, order_id, garment_id, declared_cents, fee_cents, premium_cents,
                                   zone_id, position)
         select $1, $2, * from unnest($3::uuid[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::text[])",
    )
    .bind(customer_id)
    .bind(order_id)
    .bind(garments)
    .bind(declared)
    .bind(fees)
    .bind(premiums)
    .bind(zones)
    .bind(positions)
    .execute(tx)
    .await?;
    Ok(())
}

/// Records who moved the order (or booked its delivery), and when.
pub async fn insert_event(
    tx: &mut PgConnection,
    customer_id: Uuid,
    order_id: Uuid,
    status: Status,
    booked_for: Option<NaiveDate>,
    staff_id: Uuid,
    note: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into storage_event (customer_id, order_id, seq, status, action, booked_for, staff_id, note)
         select $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5, $6, $7
           from storage_event where customer_id = $1 and order_id = $2",
    )
    .bind(customer_id)
    .bind(order_id)
    .bind(status)
    .bind(if booked_for.is_some() {
        "delivery"
    } else {
        "status"
    })
    .bind(booked_for)
    .bind(staff_id)
    .bind(note)
    .execute(tx)
    .await?;
    Ok(())
}

/// An order's own columns with its customer and the staff member who accepted it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub(crate) customer_id: Uuid,
    pub(crate) order_id: Uuid,
    pub(crate) receipt_no: String,
    pub(crate) status: Status,
    pub(crate) term_months: i32,
    pub(crate) insurance_rate_bp: i32,
    pub(crate) planned_return_on: NaiveDate,
    pub(crate) delivery_preference: String,
    pub(crate) notes: String,
    pub(crate) fee_cents: i64,
    pub(crate) premium_cents: i64,
    pub(crate) declared_cents: i64,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) created_by: Uuid,
    pub(crate) created_by_name: String,
    pub(crate) delivery_booked_for: Option<NaiveDate>,
    pub(crate) customer_name: String,
    pub(crate) customer_phone: Option<String>,
    pub(crate) customer_address: Option<String>,
    pub(crate) do_not_contact: bool,
}

/// One order of one customer, with the names a receipt prints.
pub async fn order(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    order_id: Uuid,
) -> sqlx::Result<Option<OrderRow>> {
    sqlx::query_as(
        "select o.customer_id, o.order_id, o.receipt_no, o.status, o.term_months, o.insurance_rate_bp,
                o.planned_return_on, o.delivery_preference, o.notes, o.fee_cents, o.premium_cents,
                o.declared_cents, o.created_at, o.created_by, s.display_name as created_by_name,
                o.delivery_booked_for, c.name as customer_name, c.phone as customer_phone,
                c.address as customer_address, c.do_not_contact
           from storage_order o
           join customer c using (customer_id)
           join staff s on s.staff_id = o.created_by
          where o.customer_id = $1 and o.order_id = $2",
    )
    .bind(customer_id)
    .bind(order_id)
    .fetch_optional(db)
    .await
}

/// Locks an order for a status change and answers its status.
pub async fn lock_order(
    tx: &mut PgConnection,
    customer_id: Uuid,
    order_id: Uuid,
) -> sqlx::Result<Option<Status>> {
    sqlx::query_scalar(
        "select status from storage_order where customer_id = $1 and order_id = $2 for update",
    )
    .bind(customer_id)
    .bind(order_id)
    .fetch_optional(tx)
    .await
}

/// Moves an order to `status`; on `returned` its garments leave storage (and free their places).
pub async fn set_status(
    tx: &mut PgConnection,
    customer_id: Uuid,
    order_id: Uuid,
    status: Status,
) -> sqlx::Result<()> {
    sqlx::query("update storage_order set status = $3 where customer_id = $1 and order_id = $2")
        .bind(customer_id)
        .bind(order_id)
        .bind(status)
        .execute(&mut *tx)
        .await?;
    if status == Status::Returned {
        sqlx::query(
            "update storage_item set released_at = now()
              where customer_id = $1 and order_id = $2 and released_at is null",
        )
        .bind(customer_id)
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Records the day the return delivery is booked for.
pub async fn set_delivery(
    tx: &mut PgConnection,
    customer_id: Uuid,
    order_id: Uuid,
    day: NaiveDate,
) -> sqlx::Result<()> {
    sqlx::query(
        "update storage_order set delivery_booked_for = $3 where customer_id = $1 and order_id = $2",
    )
    .bind(customer_id)
    .bind(order_id)
    .bind(day)
    .execute(tx)
    .await?;
    Ok(())
}

/// The items of some of a customer's orders, each with its garment and zone.
pub async fn items_of(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    order_ids: &[Uuid],
) -> sqlx::Result<Vec<ItemView>> {
    sqlx::query_as(
        "select si.order_id, si.garment_id, g.category, g.kind, g.season_class, g.brand, g.size, g.material,
                g.colour, g.tag_code, si.declared_cents, si.fee_cents, si.premium_cents, si.zone_id,
                z.name as zone_name, z.named as zone_named, si.position, si.released_at
           from storage_item si
           join garment g using (customer_id, garment_id)
           join storage_zone z using (zone_id)
          where si.customer_id = $1 and si.order_id = any($2)
          order by si.order_id, z.kind, si.zone_id, g.kind, si.garment_id",
    )
    .bind(customer_id)
    .bind(order_ids)
    .fetch_all(db)
    .await
}

/// An order's events in the order they happened, with who recorded them.
pub async fn events_of(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    order_id: Uuid,
) -> sqlx::Result<Vec<EventView>> {
    sqlx::query_as(
        "select e.seq, e.action, e.status, e.booked_for, e.staff_id, s.display_name as staff_name, e.at, e.note
           from storage_event e join staff s using (staff_id)
          where e.customer_id = $1 and e.order_id = $2
          order by e.seq",
    )
    .bind(customer_id)
    .bind(order_id)
    .fetch_all(db)
    .await
}

/// An order in a list: its figures without the items.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct OrderSummary {
    pub(crate) customer_id: Uuid,
    pub(crate) order_id: Uuid,
    pub(crate) receipt_no: String,
    pub(crate) customer_name: String,
    pub(crate) status: Status,
    pub(crate) term_months: i32,
    pub(crate) planned_return_on: NaiveDate,
    pub(crate) delivery_booked_for: Option<NaiveDate>,
    pub(crate) item_count: i64,
    pub(crate) declared_cents: i64,
    pub(crate) fee_cents: i64,
    pub(crate) premium_cents: i64,
    pub(crate) created_at: DateTime<Utc>,
}

/// Orders newest first, of one customer or all, optionally of one status; `limit + 1` rows for paging.
pub async fn orders(
    db: impl PgExecutor<'_>,
    customer_id: Option<Uuid>,
    status: Option<Status>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<OrderSummary>> {
    sqlx::query_as(
        "select o.customer_id, o.order_id, o.receipt_no, c.name as customer_name, o.status, o.term_months,
                o.planned_return_on, o.delivery_booked_for,
                (select count(*) from storage_item si
                  where si.customer_id = o.customer_id and si.order_id = o.order_id) as item_count,
                o.declared_cents, o.fee_cents, o.premium_cents, o.created_at
           from storage_order o join customer c using (customer_id)
          where ($1::uuid is null or o.customer_id = $1) and ($2::text is null or o.status = $2)
          order by o.created_at desc, o.order_id
          limit $3 offset $4",
    )
    .bind(customer_id)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

/// One customer with open orders due back by the list's day.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueRow {
    pub(crate) customer_id: Uuid,
    pub(crate) name: String,
    pub(crate) phone: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) do_not_contact: bool,
    pub(crate) due_on: NaiveDate,
    pub(crate) orders: i64,
    pub(crate) unbooked_orders: i64,
    pub(crate) total: i64,
}

/// Customers whose open orders are due back by `due_by`, earliest due first; `booked` keeps only customers
/// whose every due order has (true) or lacks (false) a booked delivery. An order is due on its booked delivery
/// day when one is booked (the customer asked for it back), else on its planned return.
pub async fn due_customers(
    db: impl PgExecutor<'_>,
    due_by: NaiveDate,
    booked: Option<bool>,
    limit: Option<i64>,
    offset: i64,
) -> sqlx::Result<Vec<DueRow>> {
    sqlx::query_as(
        "with due as (
             select customer_id, min(coalesce(delivery_booked_for, planned_return_on)) as due_on, count(*) as orders,
                    count(*) filter (where delivery_booked_for is null) as unbooked_orders
               from storage_order
              where status <> 'returned' and coalesce(delivery_booked_for, planned_return_on) <= $1
              group by customer_id
         )
         select d.customer_id, c.name, c.phone, c.address, c.do_not_contact, d.due_on, d.orders,
                d.unbooked_orders, count(*) over () as total
           from due d join customer c using (customer_id)
          where $2::boolean is null or (d.unbooked_orders = 0) = $2
          order by d.due_on, c.name, d.customer_id
          limit $3 offset $4",
    )
    .bind(due_by)
    .bind(booked)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

/// An open order due back, for the return list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DueOrder {
    #[serde(skip)]
    pub(crate) customer_id: Uuid,
    pub(crate) order_id: Uuid,
    pub(crate) receipt_no: String,
    pub(crate) status: Status,
    pub(crate) planned_return_on: NaiveDate,
    pub(crate) delivery_booked_for: Option<NaiveDate>,
    pub(crate) delivery_preference: String,
    pub(crate) declared_cents: i64,
}

/// The open orders of these customers that are due back by `due_by`.
pub async fn due_orders(
    db: impl PgExecutor<'_>,
    customers: &[Uuid],
    due_by: NaiveDate,
) -> sqlx::Result<Vec<DueOrder>> {
    sqlx::query_as(
        "select customer_id, order_id, receipt_no, status, planned_return_on, delivery_booked_for,
                delivery_preference, declared_cents
           from storage_order
          where customer_id = any($1) and status <> 'returned'
            and coalesce(delivery_booked_for, planned_return_on) <= $2
          order by customer_id, coalesce(delivery_booked_for, planned_return_on), receipt_no",
    )
    .bind(customers)
    .bind(due_by)
    .fetch_all(db)
    .await
}

/// Items of many customers' orders, grouped by order id.
pub async fn items_by_order(
    db: impl PgExecutor<'_>,
    orders: &[DueOrder],
) -> sqlx::Result<HashMap<Uuid, Vec<ItemView>>> {
    let customers: Vec<Uuid> = orders.iter().map(|o| o.customer_id).collect();
    let ids: Vec<Uuid> = orders.iter().map(|o| o.order_id).collect();
    let rows: Vec<ItemView> = sqlx::query_as(
        "select si.order_id, si.garment_id, g.category, g.kind, g.season_class, g.brand, g.size, g.material,
                g.colour, g.tag_code, si.declared_cents, si.fee_cents, si.premium_cents, si.zone_id,
                z.name as zone_name, z.named as zone_named, si.position, si.released_at
           from unnest($1::uuid[], $2::uuid[]) as o (customer_id, order_id)
           join storage_item si on si.customer_id = o.customer_id and si.order_id = o.order_id
           join garment g on g.customer_id = si.customer_id and g.garment_id = si.garment_id
           join storage_zone z on z.zone_id = si.zone_id
          order by si.order_id, z.kind, si.zone_id, g.kind, si.garment_id",
    )
    .bind(customers)
    .bind(ids)
    .fetch_all(db)
    .await?;
    let mut by_order: HashMap<Uuid, Vec<ItemView>> = HashMap::new();
    for row in rows {
        by_order.entry(row.order_id).or_default().push(row);
    }
    Ok(by_order)
}

/// Storage figures of a group of orders (a season, a month, a zone).
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Figures {
    pub(crate) orders: i64,
    pub(crate) items: i64,
    pub(crate) fee_cents: i64,
    pub(crate) premium_cents: i64,
    pub(crate) revenue_cents: i64,
    pub(crate) declared_cents: i64,
    /// Items of these orders still in storage now, and the value declared for them.
    pub held_items: i64,
    pub(crate) held_declared_cents: i64,
    pub(crate) returned_orders: i64,
}

/// A row of the revenue report: a month or a zone and its figures.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct GroupFigures {
    pub(crate) group: String,
    pub(crate) label: String,
    /// False for a shipped zone nobody renamed (shown by its catalogue name); true for months and other zones.
    pub(crate) named: bool,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub(crate) figures: Figures,
}

const FIGURES: &str = "
    count(distinct (si.customer_id, si.order_id)) as orders,
    count(*) as items,
    coalesce(sum(si.fee_cents), 0)::bigint as fee_cents,
    coalesce(sum(si.premium_cents), 0)::bigint as premium_cents,
    coalesce(sum(si.fee_cents + si.premium_cents), 0)::bigint as revenue_cents,
    coalesce(sum(si.declared_cents), 0)::bigint as declared_cents,
    count(*) filter (where si.released_at is null) as held_items,
    coalesce(sum(si.declared_cents) filter (where si.released_at is null), 0)::bigint as held_declared_cents,
    count(distinct (si.customer_id, si.order_id)) filter (where o.status = 'returned') as returned_orders";

const SEASON_ITEMS: &str = "
      from storage_order o
      join storage_item si using (customer_id, order_id)
      join storage_zone z on z.zone_id = si.zone_id
     where o.created_at >= $1 and o.created_at < $2";

/// Figures of the orders accepted in `[from, to)`: in all, by month of acceptance (company time) and by zone.
pub async fn season_figures(
    db: &sqlx::PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    offset_secs: i32,
) -> sqlx::Result<(Figures, Vec<GroupFigures>, Vec<GroupFigures>)> {
    let all: Figures = sqlx::query_as(&format!("select {FIGURES} {SEASON_ITEMS}"))
        .bind(from)
        .bind(to)
        .fetch_one(db)
        .await?;
    let months: Vec<GroupFigures> = sqlx::query_as(&format!(
        "select to_char((o.created_at at time zone 'UTC') + make_interval(secs => $3), 'YYYY-MM') as \"group\",
                to_char((o.created_at at time zone 'UTC') + make_interval(secs => $3), 'FMMonth YYYY') as label,
                true as named, {FIGURES} {SEASON_ITEMS}
          group by 1, 2 order by 1"
    ))
    .bind(from)
    .bind(to)
    .bind(f64::from(offset_secs))
    .fetch_all(db)
    .await?;
    let zones: Vec<GroupFigures> = sqlx::query_as(&format!(
        "select si.zone_id as \"group\", z.name as label, z.named, {FIGURES} {SEASON_ITEMS}
          group by 1, 2, 3 order by 1"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?;
    Ok((all, months, zones))
}
