//! SQL for the composed customer views.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::customers::Customer;
use crate::garments::{Garment, WardrobeItem};
use crate::interactions::Interaction;
use crate::pickups::PickupSummary;

/// One page of a customer's history as (is a pickup, its id), newest first.
pub async fn history_keys(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<(bool, Uuid)>> {
    let rows: Vec<(bool, Uuid, DateTime<Utc>)> = sqlx::query_as(
        "select true, pickup_id, collected_at as at from pickup where customer_id = $1
         union all
         select false, interaction_id, occurred_at from interaction where customer_id = $1
         order by 3 desc, 2
         limit $2 offset $3",
    )
    .bind(customer_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(p, id, _)| (p, id)).collect())
}

/// Whom a card is asked for: a scanned door label or garment tag, or a customer by id.
#[derive(Debug, Clone, Copy)]
pub enum CardTarget<'a> {
    /// A door label's code.
    Door(&'a str),
    /// A garment tag's code.
    Tag(&'a str),
    /// A customer id.
    Customer(Uuid),
}

/// The card's parts as the database composed them in one statement.
#[derive(sqlx::FromRow)]
pub struct CardRow {
    /// The code's door label was revoked (no card is read, nothing is logged).
    pub revoked: bool,
    /// The scanned tag's garment.
    pub garment: Option<Json<Garment>>,
    /// The customer (`None`: no such customer).
    pub customer: Option<Json<Customer>>,
    /// The last five pickups.
    pub last_pickups: Json<Vec<PickupSummary>>,
    /// Every garment with its cleaning record, in wardrobe order.
    pub wardrobe: Json<Vec<WardrobeItem>>,
    /// Open complaints, newest first.
    pub open_complaints: Json<Vec<Interaction>>,
}

/// The whole door card in one statement (one round trip): resolves the target, records the read in the access
/// log, and reads the customer, last pickups, wardrobe and open complaints. `None`: the code or id is unknown.
pub async fn card(
    db: impl PgExecutor<'_>,
    target: CardTarget<'_>,
    staff_id: Uuid,
    action: &str,
) -> sqlx::Result<Option<CardRow>> {
    let (kind, code, id) = match target {
        CardTarget::Door(code) => ("door", code, None),
        CardTarget::Tag(code) => ("tag", code, None),
        CardTarget::Customer(id) => ("customer", "", Some(id)),
    };
    sqlx::query_as(
        "with target as (
             select l.customer_id, l.revoked_at is not null as revoked, null::json as garment
               from door_label l where $1 = 'door' and l.code = $2
             union all
             select g.customer_id, false, row_to_json(g)
               from (select customer_id, garment_id, category, kind, season_class, brand, cut, size, special_size,
                            material, colour, tag_code, created_at, updated_at
                       from garment where tag_code = $2) g
              where $1 = 'tag'
             union all
             select c.customer_id, false, null from customer c where $1 = 'customer' and c.customer_id = $3
         ), logged as (
             insert into access_log (staff_id, action, customer_id, detail)
             select $4, $5, t.customer_id, '' from target t
              where not t.revoked and exists (select 1 from customer c where c.customer_id = t.customer_id)
         )
         select t.revoked, t.garment,
                (select row_to_json(c)
                   from (select customer_id, name, phone, address, notes, label_consent_at, label_consent_method,
                                do_not_contact, do_not_contact_at, created_at, updated_at
                           from customer where customer_id = t.customer_id) c) as customer,
                (select coalesce(json_agg(p order by p.collected_at desc, p.pickup_id), '[]')
                   from (select p.pickup_id, p.collected_at, p.received_at, p.staff_id, p.notes,
                                count(pl.line_no) as line_count, coalesce(sum(pl.price_cents), 0)::bigint as total_cents
                           from pickup p
                           left join pickup_line pl on pl.customer_id = p.customer_id and pl.pickup_id = p.pickup_id
                          where p.customer_id = t.customer_id and not t.revoked
                          group by p.customer_id, p.pickup_id
                          order by p.collected_at desc, p.pickup_id
                          limit 5) p) as last_pickups,
                (select coalesce(json_agg(w order by w.ord), '[]')
                   from (select g.customer_id, g.garment_id, g.category, g.kind, g.season_class, g.brand, g.cut,
                                g.size, g.special_size, g.material, g.colour, g.tag_code, g.created_at, g.updated_at,
                                count(distinct pl.pickup_id) filter (where is_cleaning(pl.service)) as times_cleaned,
                                max(p.collected_at) filter (where is_cleaning(pl.service)) as last_cleaned_at,
                                row_number() over (
                                    order by array_position(array['winter', 'spring_autumn', 'summer', 'all_season'],
                                                            g.season_class),
                                             array_position(array['men', 'women', 'children'], g.category),
                                             max(p.collected_at) desc nulls last, g.created_at) as ord
                           from garment g
                           left join pickup_line pl on pl.customer_id = g.customer_id and pl.garment_id = g.garment_id
                           left join pickup p on p.customer_id = pl.customer_id and p.pickup_id = pl.pickup_id
                          where g.customer_id = t.customer_id and not t.revoked
                          group by g.customer_id, g.garment_id) w) as wardrobe,
                (select coalesce(json_agg(i order by i.occurred_at desc), '[]')
                   from (select customer_id, interaction_id, staff_id, kind, channel, body, occurred_at, created_at,
                                resolved_at, resolved_by, resolution
                           from interaction
                          where customer_id = t.customer_id and kind = 'complaint' and resolved_at is null
                            and not t.revoked) i) as open_complaints
           from target t",
    )
    .bind(kind)
    .bind(code)
    .bind(id)
    .bind(staff_id)
    .bind(action)
    .fetch_optional(db)
    .await
}
