//! SQL of the cleaning price list.

use sqlx::PgExecutor;
use uuid::Uuid;

use super::CleaningPrice;
use crate::domain::{GarmentKind, Material, Service};

const COLUMNS: &str = "price_id, service, kind, material, price_cents";

/// Every row, catch-alls first.
pub async fn prices(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<CleaningPrice>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from cleaning_price
          order by service, (kind is not null)::int + (material is not null)::int, kind, material"
    ))
    .fetch_all(db)
    .await
}

/// One row.
pub async fn price(db: impl PgExecutor<'_>, price_id: i32) -> sqlx::Result<Option<CleaningPrice>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from cleaning_price where price_id = $1"
    ))
    .bind(price_id)
    .fetch_optional(db)
    .await
}

/// Sets the price of a service for a kind and/or material, creating the row if needed.
pub async fn upsert_price(
    db: impl PgExecutor<'_>,
    service: Service,
    kind: Option<GarmentKind>,
    material: Option<Material>,
    price_cents: i64,
    staff_id: Uuid,
) -> sqlx::Result<CleaningPrice> {
    sqlx::query_as(&format!(
        "insert into cleaning_price (service, kind, material, price_cents, updated_by)
         values ($1, $2, $3, $4, $5)
         on conflict (service, coalesce(kind, ''), coalesce(material, ''))
         do update set price_cents = excluded.price_cents, updated_by = excluded.updated_by, updated_at = now()
         returning {COLUMNS}"
    ))
    .bind(service)
    .bind(kind)
    .bind(material)
    .bind(price_cents)
    .bind(staff_id)
    .fetch_one(db)
    .await
}

/// Removes a row.
pub async fn delete_price(db: impl PgExecutor<'_>, price_id: i32) -> sqlx::Result<()> {
    sqlx::query("delete from cleaning_price where price_id = $1")
        .bind(price_id)
        .execute(db)
        .await?;
    Ok(())
}
