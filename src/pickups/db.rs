//! SQL for pickups and their lines.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor, Row};
use uuid::Uuid;

use super::{PickupLineView, PickupSummary};
use crate::domain::code::{DoorCode, TagCode};
use crate::domain::phone::Phone;
use crate::domain::{Category, GarmentKind, SeasonClass, Service};
use crate::garments::GarmentFields;
use crate::idempotency::{self, Claim};

/// How a visit's transaction begins, in the same round trip: [`record_visit`] keeps the list-change and intake
/// tables itself, so their triggers stand aside (migrations 20261203000100 and 20261202001600); and the visit's
/// two statements run on their generic plans (index lookups by key, whatever the arrays hold) instead of being
/// planned again on every call, which the plan cache otherwise chooses because a plan for short arrays looks
/// cheaper than the generic one.
pub const VISIT_BEGIN: &str = "begin; set local plan_cache_mode = force_generic_plan; \
    set local doorstep.list_change_by_writer = 'on'; set local doorstep.intake_kept_by_writer = 'on'";

/// What a visit's first statement read: the idempotency claim, whether the customer and door label are there,
/// and the garments its lines name by id or tag.
pub struct VisitCheck {
    /// The key's lock and stored response.
    pub claim: Claim,
    /// The transaction's time, which the pickup row takes as `received_at`.
    pub received_at: DateTime<Utc>,
    /// The customer exists (and is now locked against erasure until the visit commits).
    pub customer_found: bool,
    /// No door code was given, or it is (or was) one of this customer's labels.
    pub door_ok: bool,
    /// The garments named: this customer's among the ids, anyone's among the tags.
    pub known: Vec<KnownGarment>,
}

/// A garment a line names, with what the line's answer shows of it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KnownGarment {
    /// Its owner.
    pub customer_id: Uuid,
    /// The garment.
    pub garment_id: Uuid,
    /// What the answer shows.
    #[sqlx(flatten)]
    pub shown: GarmentShown,
}

/// What a pickup line's answer shows of its garment, from the database or from a new garment's description.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GarmentShown {
    /// Whose clothes.
    pub category: Category,
    /// What it is.
    pub kind: GarmentKind,
    /// When it is worn.
    pub season_class: SeasonClass,
    /// Brand.
    pub brand: Option<String>,
    /// Size.
    pub size: Option<String>,
    /// Colour.
    pub colour: Option<String>,
    /// Its tag.
    pub tag_code: Option<TagCode>,
}

impl From<&GarmentFields> for GarmentShown {
    fn from(f: &GarmentFields) -> Self {
        GarmentShown {
            category: f.category,
            kind: f.kind,
            season_class: f.season_class,
            brand: f.brand.clone(),
            size: f.size.clone(),
            colour: f.colour.clone(),
            tag_code: f.tag_code.clone(),
        }
    }
}

/// The visit's first statement: takes the idempotency key's lock and reads its stored response
/// (`idempotency::claim`), locks the customer against erasure, checks the door label and reads the garments named
/// by `ids` (this customer's) and `tags` (anyone's). One round trip, in a transaction begun with
/// [`VISIT_BEGIN`].
pub async fn check_visit(
    tx: &mut PgConnection,
    staff_id: Uuid,
    key: &str,
    customer_id: Uuid,
    door_code: Option<&DoorCode>,
    ids: &[Uuid],
    tags: &[TagCode],
) -> sqlx::Result<VisitCheck> {
    let rows = sqlx::query(
        "with head as (
             select l.locked, k.request_hash, k.response_status, k.response_body::text, now() as received_at,
                    exists (select 1 from customer where customer_id = $4 for share) as customer_found,
                    ($5::text is null
                     or exists (select 1 from door_label where customer_id = $4 and code = $5)) as door_ok
               from (select pg_try_advisory_xact_lock(hashtextextended($3, 0)) as locked) l
               left join idempotency_key k on k.staff_id = $1 and k.idempotency_key = $2
         ), known as (
             select customer_id, garment_id, category, kind, season_class, brand, size, colour, tag_code
               from garment where customer_id = $4 and garment_id = any($6)
              union
             select customer_id, garment_id, category, kind, season_class, brand, size, colour, tag_code
               from garment where tag_code = any($7)
         )
         select head.*, known.* from head left join known on true",
    )
    .bind(staff_id)
    .bind(key)
    .bind(idempotency::lock_name(staff_id, key))
    .bind(customer_id)
    .bind(door_code)
    .bind(ids)
    .bind(tags)
    .fetch_all(&mut *tx)
    .await?;
    let Some(first) = rows.first() else {
        return Err(sqlx::Error::RowNotFound);
    };
    let mut known = Vec::new();
    for row in &rows {
        if row.try_get::<Option<Uuid>, _>("garment_id")?.is_some() {
            known.push(KnownGarment::from_row(row)?);
        }
    }
    Ok(VisitCheck {
        claim: Claim::from_row(first)?,
        received_at: first.try_get("received_at")?,
        customer_found: first.try_get("customer_found")?,
        door_ok: first.try_get("door_ok")?,
        known,
    })
}

/// A new garment of the visit, checked, with its id and what this visit's cleaning lines of it cost (`None`
/// when it was not cleaned).
pub type NewGarmentRow<'a> = (Uuid, &'a GarmentFields, Option<i64>);

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

/// The visit itself.
pub struct VisitRow<'a> {
    /// Whose visit.
    pub customer_id: Uuid,
    /// The new pickup's id.
    pub pickup_id: Uuid,
    /// Who collected.
    pub staff_id: Uuid,
    /// The door label scanned, if any.
    pub door_code: Option<&'a DoorCode>,
    /// When the clothes were collected.
    pub collected_at: DateTime<Utc>,
    /// Notes on the visit.
    pub notes: &'a str,
}

/// The response stored under the request's idempotency key.
pub struct KeyedAnswer<'a> {
    /// The caller's Idempotency-Key.
    pub key: &'a str,
    /// The request's hash (`IdempotencyKey::request_hash`).
    pub hash: &'a [u8],
    /// The JSON answered.
    pub body: &'a str,
}

/// Records a checked visit in one statement (after [`check_visit`] in the same transaction): the pickup, its new
/// garments with the cleaning rollups their own lines give them, its lines numbered from 1, the rollups the lists
/// read (existing garments' cleanings, the visit's season classes, the customer's spend), the intake series,
/// the customer's list change and emptied door card (in a transaction begun with [`VISIT_BEGIN`]; in any other the
/// tables' triggers keep those three), and the response under the idempotency key. Only cleaning
/// lines (`is_cleaning` in SQL, `Service::is_cleaning`) touch a garment's cleaning rollup, and a visit counts as
/// one cleaning priced at the sum of its cleaning lines for that garment. `classes` holds each line's garment's
/// season class and category, for the visit's classes and the intake series (empty: read from the garments,
/// which must then all exist already). `answer` is stored under its idempotency key; false when the key was stored meanwhile
/// (`idempotency::replay_raced`). The seed and the import apply the same rollups in bulk
/// (`import::db::apply_pickup_rollups`, `import::chunks`): change them together.
pub async fn record_visit(
    tx: &mut PgConnection,
    visit: &VisitRow<'_>,
    new_garments: &[NewGarmentRow<'_>],
    lines: &[LineRow],
    classes: &[(SeasonClass, Category)],
    answer: Option<&KeyedAnswer<'_>>,
) -> sqlx::Result<bool> {
    let text = |f: fn(&GarmentFields) -> Option<&str>| -> Vec<Option<&str>> {
        new_garments.iter().map(|(_, g, _)| f(g)).collect()
    };
    let saved: i64 = sqlx::query_scalar(
        "with p as (
             insert into pickup (customer_id, pickup_id, staff_id, door_code, collected_at, notes)
             values ($1, $2, $3, $4, $5, $6)
         ), new_garments as (
             insert into garment (customer_id, garment_id, category, kind, season_class, brand, cut, size,
                                  special_size, material, colour, tag_code, times_cleaned, last_cleaned_at,
                                  last_price_cents)
             select $1, n.garment_id, n.category, n.kind, n.season_class, n.brand, n.cut, n.size, n.special_size,
                    n.material, n.colour, n.tag_code, (n.price is not null)::int,
                    case when n.price is not null then $5::timestamptz end, n.price
               from unnest($7::uuid[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                           $14::bool[], $15::text[], $16::text[], $17::text[], $18::bigint[])
                    as n(garment_id, category, kind, season_class, brand, cut, size, special_size, material,
                         colour, tag_code, price)
         ), line as (
             select l.line_no::int as line_no, l.garment_id, l.service, l.price_cents, l.notes,
                    coalesce(l.season_class, (select g.season_class from garment g
                                               where g.customer_id = $1 and g.garment_id = l.garment_id))
                        as season_class,
                    coalesce(l.category, (select g.category from garment g
                                           where g.customer_id = $1 and g.garment_id = l.garment_id)) as category
               from unnest($19::uuid[], $20::text[], $21::bigint[], $22::text[], $23::text[], $24::text[])
                    with ordinality as l(garment_id, service, price_cents, notes, season_class, category, line_no)
         ), ins as (
             insert into pickup_line (customer_id, pickup_id, line_no, garment_id, service, price_cents,
                                      condition_notes)
             select $1, $2, line_no, garment_id, service, price_cents, notes from line
         ), per_garment as (
             select garment_id, sum(price_cents)::bigint as price_cents
               from line where is_cleaning(service) group by garment_id
         ), cleaned as (
             update garment g
                set times_cleaned = g.times_cleaned + 1,
                    last_price_cents = case when g.last_cleaned_at is null or $5 >= g.last_cleaned_at
                                            then pg.price_cents else g.last_price_cents end,
                    last_cleaned_at = greatest(g.last_cleaned_at, $5)
               from per_garment pg
              where g.customer_id = $1 and g.garment_id = pg.garment_id and pg.garment_id <> all($7)
         ), classes as (
             insert into pickup_class (customer_id, season_class, collected_at, pickup_id, garments)
             select $1, season_class, $5, $2, count(distinct garment_id)
               from line where is_cleaning(service) group by season_class
             on conflict do nothing
         ), intake as (
             insert into intake_hour_change (hour, season_class, category, garments)
             select date_trunc('hour', $5::timestamptz), season_class, category, count(distinct garment_id)
               from line where current_setting('doorstep.intake_kept_by_writer', true) = 'on'
              group by season_class, category
         ), stats as (
             insert into customer_stats as cs
                    (customer_id, first_pickup_at, last_pickup_at, pickups, spend_cents, recent_spend, long_spend)
             select $1, $5, $5, 1, t.total, t.total, t.total
               from (select coalesce(sum(price_cents), 0)::bigint as total from line) t
             on conflict (customer_id) do update set
                 first_pickup_at = least(cs.first_pickup_at, excluded.first_pickup_at),
                 last_pickup_at = greatest(cs.last_pickup_at, excluded.last_pickup_at),
                 pickups = cs.pickups + 1,
                 spend_cents = cs.spend_cents + excluded.spend_cents,
                 recent_spend = decayed_add(cs.recent_spend, cs.last_pickup_at, excluded.spend_cents,
                                            excluded.last_pickup_at, 91),
                 long_spend = decayed_add(cs.long_spend, cs.last_pickup_at, excluded.spend_cents,
                                          excluded.last_pickup_at, 365)
         ), listed as (
             insert into list_change (customer_id)
             select $1 where current_setting('doorstep.list_change_by_writer', true) = 'on'
         ), card as (
             insert into customer_card as k (customer_id, version)
             select $1, pg_current_xact_id()::text::bigint
              where current_setting('doorstep.list_change_by_writer', true) = 'on'
             on conflict (customer_id) do update set version = excluded.version, changed_at = now(), body = null
              where k.version <> excluded.version
         ), saved as (
             insert into idempotency_key (staff_id, idempotency_key, request_hash, response_status, response_body)
             select $3, $25, $26, 201, $27::json where $25::text is not null
             on conflict (staff_id, idempotency_key) do nothing
             returning 1
         )
         select count(*) from saved",
    )
    .bind(visit.customer_id)
    .bind(visit.pickup_id)
    .bind(visit.staff_id)
    .bind(visit.door_code)
    .bind(visit.collected_at)
    .bind(visit.notes)
    .bind(new_garments.iter().map(|(id, _, _)| *id).collect::<Vec<Uuid>>())
    .bind(new_garments.iter().map(|(_, g, _)| g.category).collect::<Vec<_>>())
    .bind(new_garments.iter().map(|(_, g, _)| g.kind).collect::<Vec<_>>())
    .bind(new_garments.iter().map(|(_, g, _)| g.season_class).collect::<Vec<_>>())
    .bind(text(|g| g.brand.as_deref()))
    .bind(text(|g| g.cut.as_deref()))
    .bind(text(|g| g.size.as_deref()))
    .bind(new_garments.iter().map(|(_, g, _)| g.special_size).collect::<Vec<bool>>())
    .bind(new_garments.iter().map(|(_, g, _)| g.material).collect::<Vec<_>>())
    .bind(text(|g| g.colour.as_deref()))
    .bind(text(|g| g.tag_code.as_ref().map(TagCode::as_str)))
    .bind(new_garments.iter().map(|(_, _, c)| *c).collect::<Vec<Option<i64>>>())
    .bind(lines.iter().map(|l| l.garment_id).collect::<Vec<Uuid>>())
    .bind(lines.iter().map(|l| l.service).collect::<Vec<Service>>())
    .bind(lines.iter().map(|l| l.price_cents).collect::<Vec<i64>>())
    .bind(lines.iter().map(|l| l.condition_notes.as_str()).collect::<Vec<&str>>())
    .bind(classes.iter().map(|c| c.0).collect::<Vec<SeasonClass>>())
    .bind(classes.iter().map(|c| c.1).collect::<Vec<Category>>())
    .bind(answer.map(|a| a.key))
    .bind(answer.map(|a| a.hash))
    .bind(answer.map(|a| a.body))
    .fetch_one(&mut *tx)
    .await?;
    Ok(answer.is_none() || saved == 1)
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
