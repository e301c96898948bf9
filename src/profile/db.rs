//! SQL for the composed customer views.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::customers::Customer;
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

/// How a card is looked up: by the customer, or by a door label's code (a scan).
#[derive(Debug, Clone, Copy)]
pub enum CardKey<'a> {
    /// The customer's id.
    Customer(Uuid),
    /// A door label's code, active or revoked.
    DoorCode(&'a str),
}

/// A card but its wardrobe: the customer, their last five pickups and open complaints, and the scanned label's
/// revocation, read by one statement so a scan is two round trips (this and the wardrobe).
#[derive(Debug, sqlx::FromRow)]
pub struct CardHead {
    /// When the scanned label was revoked (never for a lookup by id).
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who.
    #[sqlx(flatten)]
    pub customer: Customer,
    /// Newest first, with line counts and totals.
    pub last_pickups: Json<Vec<PickupSummary>>,
    /// Newest first.
    pub open_complaints: Json<Vec<Interaction>>,
}

/// The card head of a customer or door label; `None` when there is no such customer or label.
pub async fn card_head(
    db: impl PgExecutor<'_>,
    key: CardKey<'_>,
) -> sqlx::Result<Option<CardHead>> {
    // The statement text is built once per key kind (a scan must not format it every time).
    static SQL: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
        [
            card_head_sql("null::timestamptz", "customer c where c.customer_id = $1"),
            card_head_sql(
                "l.revoked_at",
                "door_label l join customer c on c.customer_id = l.customer_id where l.code = $1",
            ),
        ]
    });
    let sql = match key {
        CardKey::Customer(_) => &SQL[0],
        CardKey::DoorCode(_) => &SQL[1],
    };
    let query = sqlx::query_as(sql);
    let query = match key {
        CardKey::Customer(id) => query.bind(id),
        CardKey::DoorCode(code) => query.bind(code),
    };
    query.fetch_optional(db).await
}

fn card_head_sql(revoked: &str, from: &str) -> String {
    let prefixed = |columns: &str, table: &str| {
        let list: Vec<String> = columns
            .split(',')
            .map(|c| format!("{table}.{}", c.trim()))
            .collect();
        list.join(", ")
    };
    format!(
        "select {revoked} as revoked_at, {customer},
                coalesce((select json_agg(x order by x.collected_at desc, x.pickup_id)
                            from (select p.pickup_id, p.collected_at, p.received_at, p.staff_id, p.notes,
                                         t.line_count, t.total_cents
                                    from (select * from pickup where customer_id = c.customer_id
                                           order by collected_at desc, pickup_id limit 5) p
                                   cross join lateral
                                         (select count(*) as line_count,
                                                 coalesce(sum(pl.price_cents), 0)::bigint as total_cents
                                            from pickup_line pl
                                           where pl.customer_id = p.customer_id and pl.pickup_id = p.pickup_id) t) x),
                         '[]') as last_pickups,
                coalesce((select json_agg(i order by i.occurred_at desc)
                            from (select {interaction} from interaction i
                                   where i.customer_id = c.customer_id and i.kind = 'complaint'
                                     and i.resolved_at is null) i),
                         '[]') as open_complaints
           from {from}",
        customer = prefixed(crate::customers::db::COLUMNS, "c"),
        interaction = prefixed(crate::interactions::db::COLUMNS, "i"),
    )
}
