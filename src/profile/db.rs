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

/// A card but its wardrobe: the customer, their last five pickups and open complaints, and the kept card's
/// version, read by one statement so building a card is two round trips (this and the wardrobe).
#[derive(Debug, sqlx::FromRow)]
pub struct CardHead {
    /// Who.
    #[sqlx(flatten)]
    pub customer: Customer,
    /// Newest first, with line counts and totals.
    pub last_pickups: Json<Vec<PickupSummary>>,
    /// Newest first.
    pub open_complaints: Json<Vec<Interaction>>,
    /// The kept card's version this snapshot saw (0 when nothing was kept or changed): a card built from this
    /// head is stored only while it is still the version (`kept::store`).
    pub card_version: i64,
}

/// The card head of a customer; `None` when there is no such customer.
pub async fn card_head(
    db: impl PgExecutor<'_>,
    customer_id: Uuid,
) -> sqlx::Result<Option<CardHead>> {
    // The statement text is built once (a scan must not format it every time).
    static SQL: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| card_head_sql("c.customer_id = $1"));
    sqlx::query_as(&SQL)
        .bind(customer_id)
        .fetch_optional(db)
        .await
}

/// The card heads of many customers at once (the background card filler), in no particular order.
pub async fn card_heads(db: impl PgExecutor<'_>, ids: &[Uuid]) -> sqlx::Result<Vec<CardHead>> {
    static SQL: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| card_head_sql("c.customer_id = any($1)"));
    sqlx::query_as(&SQL).bind(ids).fetch_all(db).await
}

fn card_head_sql(filter: &str) -> String {
    let prefixed = |columns: &str, table: &str| {
        let list: Vec<String> = columns
            .split(',')
            .map(|c| format!("{table}.{}", c.trim()))
            .collect();
        list.join(", ")
    };
    format!(
        "select {customer},
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
                         '[]') as open_complaints,
                coalesce((select k.version from customer_card k where k.customer_id = c.customer_id), 0)
                    as card_version
           from customer c where {filter}",
        customer = prefixed(crate::customers::db::COLUMNS, "c"),
        interaction = prefixed(crate::interactions::db::COLUMNS, "i"),
    )
}
