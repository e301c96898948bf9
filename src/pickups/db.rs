//! SQL for pickups and their lines.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::{PickupLineView, PickupSummary};
use crate::domain::code::{DoorCode, TagCode};
use crate::domain::phone::Phone;
use crate::domain::Service;

/// Inserts a pickup; answers when it was received.
pub async fn insert_pickup(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    pickup_id: Uuid,
    staff_id: Uuid,
    door_code: Option<&DoorCode>,
    collected_at: DateTime<Utc>,
    notes: &str,
) -> sqlx::Result<DateTime<Utc>> {
    sqlx::query_scalar(
        "insert into pickup (customer_id, pickup_id, staff_id, door_code, collected_at, notes)
         values ($1, $2, $3, $4, $5, $6) returning received_at",
    )
    .bind(customer_id)
    .bind(pickup_id)
    .bind(staff_id)
    .bind(door_code)
    .bind(collected_at)
    .bind(notes)
    .fetch_one(db)
    .await
}

/// One line to insert.
pub struct LineRow {
    /// The garment.
    pub garment_id: Uuid,
    /// The work done.
    pub service: Service,
    /// Its price, in fen.
    pub price_cents: i64,
    /// What the worker noticed (stains, damage).
    pub condition_notes: String,
}

/// Inserts all lines of a pickup in one statement, numbered from 1, updates the garment and customer rollups the
/// lists read in that same statement, and answers the lines as [`lines_of`] would; the pickup row must already
/// exist. Only cleaning lines (`is_cleaning` in SQL, `Service::is_cleaning`) touch a garment's cleaning rollup,
/// and a visit counts as one cleaning priced at the sum of its cleaning lines for that garment. The garments in
/// `created` were inserted by this visit with their rollups already (`garments::db::insert_garments`).
pub async fn insert_lines(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    pickup_id: Uuid,
    lines: &[LineRow],
    created: &[Uuid],
) -> sqlx::Result<Vec<PickupLineView>> {
    let line_nos: Vec<i32> = (1..=lines.len() as i32).collect();
    let garments: Vec<Uuid> = lines.iter().map(|l| l.garment_id).collect();
    let services: Vec<Service> = lines.iter().map(|l| l.service).collect();
    let prices: Vec<i64> = lines.iter().map(|l| l.price_cents).collect();
    let notes: Vec<&str> = lines.iter().map(|l| l.condition_notes.as_str()).collect();
    sqlx::query_as(
        "with ins as (
             insert into pickup_line (customer_id, pickup_id, line_no, garment_id, service, price_cents, condition_notes)
             select $1, $2, * from unnest($3::int[], $4::uuid[], $5::text[], $6::bigint[], $7::text[])
             returning line_no, garment_id, service, price_cents, condition_notes
         ), p as (
             select collected_at from pickup where customer_id = $1 and pickup_id = $2
         ), per_garment as (
             select garment_id, sum(price_cents)::bigint as price_cents
               from ins where is_cleaning(service) group by garment_id
         ), garments as (
             update garment g
                set times_cleaned = g.times_cleaned + 1,
                    last_price_cents = case when g.last_cleaned_at is null or p.collected_at >= g.last_cleaned_at
                                            then pg.price_cents else g.last_price_cents end,
                    last_cleaned_at = greatest(g.last_cleaned_at, p.collected_at)
               from per_garment pg, p
              where g.customer_id = $1 and g.garment_id = pg.garment_id and pg.garment_id <> all($8)
         ), classes as (
             insert into pickup_class (customer_id, season_class, collected_at, pickup_id, garments)
             select $1, g.season_class, p.collected_at, $2, count(distinct ins.garment_id)
               from ins join garment g on g.customer_id = $1 and g.garment_id = ins.garment_id, p
              where is_cleaning(ins.service)
              group by g.season_class, p.collected_at
             on conflict do nothing
         ), stats as (
         insert into customer_stats as cs
                (customer_id, first_pickup_at, last_pickup_at, pickups, spend_cents, recent_spend, long_spend)
         select $1, p.collected_at, p.collected_at, 1, t.total, t.total, t.total
           from p, (select coalesce(sum(price_cents), 0)::bigint as total from ins) t
         on conflict (customer_id) do update set
             first_pickup_at = least(cs.first_pickup_at, excluded.first_pickup_at),
             last_pickup_at = greatest(cs.last_pickup_at, excluded.last_pickup_at),
             pickups = cs.pickups + 1,
             spend_cents = cs.spend_cents + excluded.spend_cents,
             recent_spend = decayed_add(cs.recent_spend, cs.last_pickup_at, excluded.spend_cents, excluded.last_pickup_at, 91),
             long_spend = decayed_add(cs.long_spend, cs.last_pickup_at, excluded.spend_cents, excluded.last_pickup_at, 365)
         )
         select $2::uuid as pickup_id, ins.line_no, ins.garment_id, ins.service, ins.price_cents, ins.condition_notes,
                g.category, g.kind, g.season_class, g.brand, g.size, g.colour, g.tag_code
           from ins join garment g on g.customer_id = $1 and g.garment_id = ins.garment_id
          order by ins.line_no",
    )
    .bind(customer_id)
    .bind(pickup_id)
    .bind(line_nos)
    .bind(garments)
    .bind(services)
    .bind(prices)
    .bind(notes)
    .bind(created)
    .fetch_all(db)
    .await
}

/// Which of `ids` are garments of this customer.
pub async fn owned_garments(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select garment_id from garment where customer_id = $1 and garment_id = any($2)",
    )
    .bind(customer_id)
    .bind(ids)
    .fetch_all(db)
    .await
}

/// Owner and garment of each known tag among `tags`.
pub async fn garments_by_tags(
    db: impl PgExecutor<'_>,
    tags: &[TagCode],
) -> sqlx::Result<Vec<(TagCode, Uuid, Uuid)>> {
    sqlx::query_as("select tag_code, customer_id, garment_id from garment where tag_code = any($1)")
        .bind(tags)
        .fetch_all(db)
        .await
}

/// Whether `code` is (or was) a door label of this customer.
pub async fn door_code_belongs(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    code: &DoorCode,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists (select 1 from door_label where customer_id = $1 and code = $2)",
    )
    .bind(customer_id)
    .bind(code)
    .fetch_one(db)
    .await
}

/// The lines of the given pickups with their garments' descriptions, in line order.
pub async fn lines_of(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    pickup_ids: &[Uuid],
) -> sqlx::Result<Vec<PickupLineView>> {
    sqlx::query_as(
        "select pl.pickup_id, pl.line_no, pl.garment_id, pl.service, pl.price_cents, pl.condition_notes,
                g.category, g.kind, g.season_class, g.brand, g.size, g.colour, g.tag_code
           from pickup_line pl join garment g on g.customer_id = pl.customer_id and g.garment_id = pl.garment_id
          where pl.customer_id = $1 and pl.pickup_id = any($2)
          order by pl.pickup_id, pl.line_no",
    )
    .bind(customer_id)
    .bind(pickup_ids)
    .fetch_all(db)
    .await
}

/// Summaries (line counts and totals) of the given pickups of a customer.
pub async fn summaries_of(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    pickup_ids: &[Uuid],
) -> sqlx::Result<Vec<PickupSummary>> {
    sqlx::query_as(
        "select p.pickup_id, p.collected_at, p.received_at, p.staff_id, p.notes,
                count(pl.line_no) as line_count, coalesce(sum(pl.price_cents), 0)::bigint as total_cents
           from pickup p left join pickup_line pl on pl.customer_id = p.customer_id and pl.pickup_id = p.pickup_id
          where p.customer_id = $1 and p.pickup_id = any($2)
          group by p.customer_id, p.pickup_id",
    )
    .bind(customer_id)
    .bind(pickup_ids)
    .fetch_all(db)
    .await
}

/// What a receipt prints above the lines: the customer, the visit and who collected it.
pub struct ReceiptHead {
    /// The customer's name.
    pub customer_name: String,
    /// The customer's phone.
    pub customer_phone: Option<Phone>,
    /// The customer's address.
    pub customer_address: Option<String>,
    /// When the clothes were collected.
    pub collected_at: DateTime<Utc>,
    /// Who collected them.
    pub staff_name: String,
    /// Notes on the visit.
    pub notes: String,
}

/// The head of a pickup's receipt; `None` when this customer has no such pickup.
pub async fn receipt_head(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    pickup_id: Uuid,
) -> sqlx::Result<Option<ReceiptHead>> {
    sqlx::query_as!(
        ReceiptHead,
        r#"select c.name as customer_name, c.phone as "customer_phone: Phone", c.address as customer_address,
                  p.collected_at, s.display_name as staff_name, p.notes
             from pickup p
             join customer c on c.customer_id = p.customer_id
             join staff s on s.staff_id = p.staff_id
            where p.customer_id = $1 and p.pickup_id = $2"#,
        customer_id,
        pickup_id
    )
    .fetch_optional(db)
    .await
}
