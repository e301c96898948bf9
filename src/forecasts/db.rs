//! SQL behind the forecasts: weekly intake, storage intake and what storage holds and gives back.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgExecutor;

use crate::domain::{GarmentKind, Material, SeasonClass};
use crate::storage::pricing::DELICATE;

/// Garments collected per company-time week (from Monday; a garment once a visit, whatever its services), by
/// season class and category, in `[from, until)` (both on an hour boundary): read from the series the writes
/// keep (`intake_hour` and the changes not folded yet, migration 20261202001600).
pub async fn weekly_intake(
    db: impl PgExecutor<'_>,
    offset_secs: f64,
    until: DateTime<Utc>,
    from: DateTime<Utc>,
) -> sqlx::Result<Vec<(NaiveDate, SeasonClass, String, i64)>> {
    sqlx::query_as(
        "select date_trunc('week', hour + make_interval(secs => $1))::date as week, season_class, category,
                sum(garments)::bigint
           from (select hour, season_class, category, garments from intake_hour
                  where hour < $2 and hour >= $3
                 union all
                 select hour, season_class, category, garments from intake_hour_change
                  where hour < $2 and hour >= $3) t
          group by 1, 2, 3
         having sum(garments) <> 0",
    )
    .bind(offset_secs)
    .bind(until)
    .bind(from)
    .fetch_all(db)
    .await
}

/// Folds the appended input changes into `forecast_input.version` (the sum, and so the version, stays the
/// same), keeping the table the version is counted from small.
pub async fn fold_input_changes(db: impl PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "with gone as (delete from forecast_input_change returning 1)
         update forecast_input set version = version + (select count(*) from gone), changed_at = now()
          where exists (select 1 from gone)",
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Folds the series changes the writes appended into `intake_hour`, so readers keep adding only a few; safe to
/// run from several processes at once (each change is deleted, and so added, once).
pub async fn fold_intake_changes(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "with moved as (delete from intake_hour_change returning *)
         insert into intake_hour as h (hour, season_class, category, garments)
         select hour, season_class, category, sum(garments)::bigint from moved group by 1, 2, 3
         on conflict (hour, season_class, category) do update set garments = h.garments + excluded.garments",
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// The version of the intake forecast's inputs: bumped by every write to a closed week's pickups, a garment's
/// class or the calendar (triggers of migration 20261202001500).
pub async fn input_version(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("select forecast_input_version()")
        .fetch_one(db)
        .await
}

/// Garments that qualify for storage cleaned in `[from, to)`, by kind and material.
pub async fn candidates_by_kind(
    db: impl PgExecutor<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Vec<(GarmentKind, Option<Material>, i64)>> {
    sqlx::query_as(
        "select g.kind, g.material, count(distinct (pl.pickup_id, pl.garment_id))
           from pickup_line pl
           join pickup p on p.customer_id = pl.customer_id and p.pickup_id = pl.pickup_id
           join garment g on g.customer_id = pl.customer_id and g.garment_id = pl.garment_id
          where p.collected_at >= $1 and p.collected_at < $2 and is_cleaning(pl.service)
            and (g.season_class = 'winter' or g.material = any($3))
          group by 1, 2",
    )
    .bind(from)
    .bind(to)
    .bind(DELICATE)
    .persistent(false)
    .fetch_all(db)
    .await
}

/// Items accepted into storage per company-time week, in `[from, until)`.
pub async fn weekly_stored(
    db: impl PgExecutor<'_>,
    offset_secs: f64,
    until: DateTime<Utc>,
    from: DateTime<Utc>,
) -> sqlx::Result<Vec<(NaiveDate, i64)>> {
    sqlx::query_as(
        "select date_trunc('week', o.created_at + make_interval(secs => $1))::date, count(*)
           from storage_item i join storage_order o on o.customer_id = i.customer_id and o.order_id = i.order_id
          where o.created_at < $2 and o.created_at >= $3
          group by 1",
    )
    .bind(offset_secs)
    .bind(until)
    .bind(from)
    .fetch_all(db)
    .await
}

/// Garments that could be stored (winter class or a delicate material) cleaned per week, in `[from, until)`.
pub async fn weekly_qualifying(
    db: impl PgExecutor<'_>,
    offset_secs: f64,
    until: DateTime<Utc>,
    from: DateTime<Utc>,
) -> sqlx::Result<Vec<(NaiveDate, i64)>> {
    sqlx::query_as(
        "select date_trunc('week', p.collected_at + make_interval(secs => $1))::date,
                count(distinct (pl.pickup_id, pl.garment_id))
           from pickup_line pl
           join pickup p on p.customer_id = pl.customer_id and p.pickup_id = pl.pickup_id
           join garment g on g.customer_id = pl.customer_id and g.garment_id = pl.garment_id
          where p.collected_at < $2 and p.collected_at >= $3 and is_cleaning(pl.service)
            and (g.season_class = 'winter' or g.material = any($4))
          group by 1",
    )
    .bind(offset_secs)
    .bind(until)
    .bind(from)
    .bind(DELICATE)
    .persistent(false)
    .fetch_all(db)
    .await
}

/// Items taken into storage by orders created in `[from, to)`.
pub async fn stored_between(
    db: impl PgExecutor<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select count(*) from storage_item i join storage_order o
             on o.customer_id = i.customer_id and o.order_id = i.order_id
          where o.created_at >= $1 and o.created_at < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_one(db)
    .await
}

/// Items still held per zone whose order is due back before `day`: on its booked delivery day, else its planned
/// return.
pub async fn due_back_by_zone(
    db: impl PgExecutor<'_>,
    day: NaiveDate,
) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "select i.zone_id, count(*) from storage_item i
           join storage_order o on o.customer_id = i.customer_id and o.order_id = i.order_id
          where i.released_at is null and coalesce(o.delivery_booked_for, o.planned_return_on) < $1
          group by 1",
    )
    .bind(day)
    .fetch_all(db)
    .await
}
