//! SQL of the season calendar.

use chrono::NaiveDate;
use sqlx::PgExecutor;
use uuid::Uuid;

use super::{Calendar, WindowKind};
use crate::domain::SeasonClass;

impl Calendar {
    /// Reads every window kind and override.
    pub async fn load(db: &sqlx::PgPool) -> sqlx::Result<Self> {
        let kinds = sqlx::query_as(
            "select window_kind, name, named, outgoing, start_month, start_day, end_month, end_day
               from season_window_kind order by start_month, start_day, window_kind",
        )
        .fetch_all(db)
        .await?;
        let overrides = sqlx::query_as(
            "select window_kind, year, starts_on, ends_on from season_window_override",
        )
        .fetch_all(db)
        .await?;
        Ok(Calendar { kinds, overrides })
    }
}

/// Creates a window kind or, unless `create_only`, changes it; `None` when `create_only` and one of that id is
/// already there. A shipped kind becomes `named` only when its name changes, so saving its dates keeps it shown
/// in the reader's language.
pub async fn save_kind(
    db: impl PgExecutor<'_>,
    kind: &str,
    name: &str,
    outgoing: SeasonClass,
    (sm, sd, em, ed): (i16, i16, i16, i16),
    staff_id: Uuid,
    create_only: bool,
) -> sqlx::Result<Option<WindowKind>> {
    let on_conflict = if create_only {
        "do nothing"
    } else {
        "do update set name = excluded.name,
             named = season_window_kind.named or excluded.name <> season_window_kind.name,
             outgoing = excluded.outgoing,
             start_month = excluded.start_month, start_day = excluded.start_day, end_month = excluded.end_month,
             end_day = excluded.end_day, updated_by = excluded.updated_by, updated_at = now()"
    };
    sqlx::query_as(&format!(
        "insert into season_window_kind (window_kind, name, outgoing, start_month, start_day, end_month, end_day, updated_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (window_kind) {on_conflict}
         returning window_kind, name, named, outgoing, start_month, start_day, end_month, end_day"
    ))
    .bind(kind)
    .bind(name)
    .bind(outgoing)
    .bind(sm)
    .bind(sd)
    .bind(em)
    .bind(ed)
    .bind(staff_id)
    .fetch_optional(db)
    .await
}

/// Sets one year's dates of a window kind.
pub async fn upsert_override(
    db: impl PgExecutor<'_>,
    kind: &str,
    year: i32,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    staff_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into season_window_override (window_kind, year, starts_on, ends_on, updated_by)
         values ($1, $2, $3, $4, $5)
         on conflict (window_kind, year) do update set starts_on = excluded.starts_on,
             ends_on = excluded.ends_on, updated_by = excluded.updated_by, updated_at = now()",
    )
    .bind(kind)
    .bind(year)
    .bind(starts_on)
    .bind(ends_on)
    .bind(staff_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Drops one year's dates (back to the default); false when there were none.
pub async fn delete_override(db: impl PgExecutor<'_>, kind: &str, year: i32) -> sqlx::Result<bool> {
    let done =
        sqlx::query("delete from season_window_override where window_kind = $1 and year = $2")
            .bind(kind)
            .bind(year)
            .execute(db)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes a window kind and its yearly overrides; false when there was no such kind.
pub async fn delete_kind(db: impl PgExecutor<'_>, kind: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("delete from season_window_kind where window_kind = $1")
        .bind(kind)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether a window kind exists.
pub async fn kind_exists(db: impl PgExecutor<'_>, kind: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from season_window_kind where window_kind = $1)")
        .bind(kind)
        .fetch_one(db)
        .await
}
