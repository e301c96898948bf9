//! SQL of `doorstep import`: external-id lookups, recording external ids, and the import's staff account.

use std::collections::{HashMap, HashSet};

use sqlx::PgExecutor;
use uuid::Uuid;

/// The tables whose rows carry an external id.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Customer,
    Garment,
    Pickup,
}

/// Which of `ids` are already recorded in `table`.
pub async fn existing_external_ids(
    db: impl PgExecutor<'_>,
    table: Table,
    ids: &[String],
) -> sqlx::Result<HashSet<String>> {
    let sql = match table {
        Table::Customer => "select external_id from customer where external_id = any($1)",
        Table::Garment => "select external_id from garment where external_id = any($1)",
        Table::Pickup => "select external_id from pickup where external_id = any($1)",
    };
    let found: Vec<String> = sqlx::query_scalar(sql).bind(ids).fetch_all(db).await?;
    Ok(found.into_iter().collect())
}

/// The customers with these external ids.
pub async fn customers_by_external_id(
    db: impl PgExecutor<'_>,
    ids: &[String],
) -> sqlx::Result<HashMap<String, Uuid>> {
    let rows: Vec<(String, Uuid)> =
        sqlx::query_as("select external_id, customer_id from customer where external_id = any($1)")
            .bind(ids)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().collect())
}

/// The garments with these external ids, as (owner, garment).
pub async fn garments_by_external_id(
    db: impl PgExecutor<'_>,
    ids: &[String],
) -> sqlx::Result<HashMap<String, (Uuid, Uuid)>> {
    let rows: Vec<(String, Uuid, Uuid)> = sqlx::query_as(
        "select external_id, customer_id, garment_id from garment where external_id = any($1)",
    )
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(e, c, g)| (e, (c, g))).collect())
}

/// Records the external ids of rows just inserted through the service's own SQL, in one statement.
pub async fn set_external_ids(
    db: impl PgExecutor<'_>,
    table: Table,
    customer_ids: &[Uuid],
    row_ids: &[Uuid],
    external_ids: &[String],
) -> sqlx::Result<u64> {
    let sql = match table {
        Table::Customer => {
            "update customer t set external_id = x.ext
               from unnest($1::uuid[], $2::uuid[], $3::text[]) as x(customer_id, row_id, ext)
              where t.customer_id = x.customer_id"
        }
        Table::Garment => {
            "update garment t set external_id = x.ext
               from unnest($1::uuid[], $2::uuid[], $3::text[]) as x(customer_id, row_id, ext)
              where t.customer_id = x.customer_id and t.garment_id = x.row_id"
        }
        Table::Pickup => {
            "update pickup t set external_id = x.ext
               from unnest($1::uuid[], $2::uuid[], $3::text[]) as x(customer_id, row_id, ext)
              where t.customer_id = x.customer_id and t.pickup_id = x.row_id"
        }
    };
    let done = sqlx::query(sql)
        .bind(customer_ids)
        .bind(row_ids)
        .bind(external_ids)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Username of the account imported pickups are recorded by.
pub const IMPORT_STAFF: &str = "import";

/// The import's staff account: created inactive with a hash no password matches, so nobody can sign in as it.
pub async fn import_staff(db: impl PgExecutor<'_>) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "with ins as (
             insert into staff (staff_id, username, display_name, role, password_hash, active)
             values ($1, $2, 'History import', 'pickup', '!', false)
             on conflict (username) do nothing
             returning staff_id
         )
         select staff_id from ins
         union all
         select staff_id from staff where username = $2
         limit 1",
    )
    .bind(Uuid::new_v4())
    .bind(IMPORT_STAFF)
    .fetch_one(db)
    .await
}
