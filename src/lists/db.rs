//! SQL shared by the lists: garments as they stood on a list day, value tiers, and who a page's customers are.

use chrono::NaiveDate;

use crate::state::Settings;

/// SQL selecting `columns` of the garments `g` narrowed by `filter` whose last cleaning before `day_end` fell in
/// `[from, to)` and that were not in storage then, with that cleaning as `cleaned_at` (and its price as
/// `price_cents` when `with_price`). The garment rollups answer for garments not cleaned since the list day; the
/// few cleaned after it are looked up in their pickup history (cleaning lines only, a visit's cleaning lines
/// summed as one cleaning, as the rollups keep them), so a list asked for a past day is the list of that day. Stored garments are dropped by a hashed `not in` (garment ids are random UUIDs, unique across customers).
pub fn unstored_as_of(
    columns: &str,
    filter: &str,
    (from, to, day_end): (&str, &str, &str),
    with_price: bool,
) -> String {
    let (price_now, price_then) = if with_price {
        (", g.last_price_cents as price_cents", ", l.price_cents")
    } else {
        ("", "")
    };
    let filter = format!("{filter} and g.garment_id not in ({})", held_on(day_end));
    format!(
        "select {columns}, g.last_cleaned_at as cleaned_at{price_now}
           from garment g
          where {filter} and g.last_cleaned_at >= {from} and g.last_cleaned_at < least({to}, {day_end})
         union all
         select {columns}, l.collected_at{price_then}
           from garment g
           cross join lateral (
               select p.collected_at, sum(pl.price_cents)::bigint as price_cents
                 from pickup_line pl
                 join pickup p on p.customer_id = pl.customer_id and p.pickup_id = pl.pickup_id
                where pl.customer_id = g.customer_id and pl.garment_id = g.garment_id
                  and p.collected_at < {day_end} and is_cleaning(pl.service)
                group by p.pickup_id, p.collected_at
                order by p.collected_at desc, p.pickup_id desc
                limit 1) l
          where {filter} and g.last_cleaned_at >= {day_end}
            and l.collected_at >= {from} and l.collected_at < {to}"
    )
}

/// SQL selecting the ids of the garments in storage on the list day: on an order taken before `day_end` and not
/// released by then.
fn held_on(day_end: &str) -> String {
    format!(
        "select si.garment_id
           from storage_item si
           join storage_order o on o.customer_id = si.customer_id and o.order_id = si.order_id
          where o.created_at < {day_end} and (si.released_at is null or si.released_at >= {day_end})"
    )
}

/// Value tier and yearly spend of some customers on a day (the quintile cut points still come from the whole base).
pub async fn tiers(
    pool: &sqlx::PgPool,
    settings: &Settings,
    on: NaiveDate,
    ids: &[uuid::Uuid],
) -> sqlx::Result<std::collections::HashMap<uuid::Uuid, (String, f64)>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let day_end = settings.clock.start_of(on + chrono::Duration::days(1));
    let rows: Vec<(uuid::Uuid, String, f64)> =
        sqlx::query_as("select customer_id, tier, yearly_spend_cents from customer_value($1, $2)")
            .bind(day_end)
            .bind(ids)
            .persistent(false)
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, tier, spend)| (id, (tier, spend)))
        .collect())
}

/// Who a page's customer is: name, phone, address, and whether a complaint of theirs is still open.
pub type Person = (String, Option<String>, Option<String>, bool);

/// The page's people, by customer id.
pub async fn people(
    pool: &sqlx::PgPool,
    ids: &[uuid::Uuid],
) -> sqlx::Result<std::collections::HashMap<uuid::Uuid, Person>> {
    type Row = (uuid::Uuid, String, Option<String>, Option<String>, bool);
    let rows: Vec<Row> = sqlx::query_as(
        // An open complaint is probed per customer (lateral): as an `exists` the planner may hash every open
        // complaint of the base instead (28k at a million customers, 250 ms a page).
        "select c.customer_id, c.name, c.phone, c.address, coalesce(o.open, false)
           from customer c
           left join lateral (select true as open from interaction i
                               where i.customer_id = c.customer_id and i.kind = 'complaint'
                                 and i.resolved_at is null
                               limit 1) o on true
          where c.customer_id = any($1)",
    )
    .bind(ids)
    .persistent(false)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, phone, address, complaint)| (id, (name, phone, address, complaint)))
        .collect())
}
