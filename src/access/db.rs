//! SQL of the access log, of a customer's data export and of erasure.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// One access of customer data.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AccessEntry {
    /// The entry.
    pub access_id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub staff_id: Option<Uuid>,
    /// Their username then.
    pub username: Option<String>,
    /// What they did.
    pub action: String,
    /// Whose data (none for a list export).
    pub customer_id: Option<Uuid>,
    /// The list and row count of an export, or what was read.
    pub detail: String,
}

/// Records one access.
pub async fn record(
    db: impl PgExecutor<'_>,
    staff_id: Uuid,
    action: &str,
    customer_id: Option<Uuid>,
    detail: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into access_log (staff_id, action, customer_id, detail) values ($1, $2, $3, $4)",
    )
    .bind(staff_id)
    .bind(action)
    .bind(customer_id)
    .bind(detail)
    .execute(db)
    .await?;
    Ok(())
}

/// Records reads of customer data (the columns of `access_log`, one entry per index) in one statement that does
/// not wait for the disk: the hot paths' log must not queue behind an fsync. A server crash may lose the last
/// fraction of a second of entries; everything else about an entry is as [`record`] writes it.
pub async fn record_reads(
    pool: &sqlx::PgPool,
    at: &[DateTime<Utc>],
    staff_id: &[Uuid],
    action: &[&str],
    customer_id: &[Uuid],
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("set local synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into access_log (at, staff_id, action, customer_id)
         select * from unnest($1::timestamptz[], $2::uuid[], $3::text[], $4::uuid[])",
    )
    .bind(at)
    .bind(staff_id)
    .bind(action)
    .bind(customer_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Filters of the access-log query.
#[derive(Debug, Default)]
pub struct AccessFilter {
    /// Only this customer's data.
    pub customer_id: Option<Uuid>,
    /// Only this staff member.
    pub staff_id: Option<Uuid>,
    /// Only this action.
    pub action: Option<String>,
    /// From (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Until (exclusive).
    pub until: Option<DateTime<Utc>>,
}

/// Entries matching `f`, newest first, one page (`limit + 1` rows to tell whether more follow).
pub async fn query(
    db: impl PgExecutor<'_>,
    f: &AccessFilter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<AccessEntry>> {
    sqlx::query_as::<_, AccessEntry>(
        "select a.access_id, a.at, a.staff_id, s.username, a.action, a.customer_id, a.detail
           from access_log a left join staff s using (staff_id)
          where ($1::uuid is null or a.customer_id = $1)
            and ($2::uuid is null or a.staff_id = $2)
            and ($3::text is null or a.action = $3)
            and ($4::timestamptz is null or a.at >= $4)
            and ($5::timestamptz is null or a.at < $5)
          order by a.at desc, a.access_id desc
          limit $6 offset $7",
    )
    .bind(f.customer_id)
    .bind(f.staff_id)
    .bind(&f.action)
    .bind(f.from)
    .bind(f.until)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

/// A read-only transaction on one snapshot, so an export's tables agree with each other.
pub async fn snapshot(
    pool: &sqlx::PgPool,
) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Every table that holds rows about a customer (a `customer_id` column), found in the schema itself so a new
/// table cannot be left out of an export.
pub async fn customer_tables(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "select c.table_name::text from information_schema.columns c
           join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
          where c.table_schema = current_schema() and c.column_name = 'customer_id'
            and t.table_type = 'BASE TABLE' and c.table_name <> 'access_log'
          order by 1",
    )
    .fetch_all(db)
    .await
}

/// The rows of one table about a customer, as JSON objects. `table` comes from [`customer_tables`], never from
/// a request, and is quoted as an identifier.
pub async fn rows_of(
    conn: &mut PgConnection,
    table: &str,
    customer_id: Uuid,
) -> sqlx::Result<serde_json::Value> {
    let ident = format!("\"{}\"", table.replace('"', "\"\""));
    sqlx::query_scalar(&format!(
        "select coalesce(jsonb_agg(to_jsonb(t)), '[]'::jsonb) from {ident} t where t.customer_id = $1"
    ))
    .bind(customer_id)
    .fetch_one(conn)
    .await
}

/// Anonymises a customer in place: personal fields blanked, free text about them cleared, do-not-contact set,
/// labels revoked by the caller. Garments, pickups, lines and storage stay (anonymous) so forecasts and totals
/// stay right. False when there is no such customer.
pub async fn erase(conn: &mut PgConnection, customer_id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update customer
            set name = 'Erased customer', phone = null, address = null, notes = '',
                label_consent_at = null, label_consent_method = null,
                do_not_contact = true, do_not_contact_at = coalesce(do_not_contact_at, now()),
                erased_at = coalesce(erased_at, now()), updated_at = now()
          where customer_id = $1",
    )
    .bind(customer_id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    for sql in [
        "update interaction set body = '[erased]', resolution = case when resolution is null then null else '[erased]' end where customer_id = $1",
        "update pickup set notes = '' where customer_id = $1",
        "update pickup_line set condition_notes = '' where customer_id = $1",
        "update campaign_outcome set notes = '' where customer_id = $1",
        "update storage_order set notes = '', delivery_preference = '' where customer_id = $1",
        "update storage_event set note = '' where customer_id = $1",
        // Campaign entries keep the list row as it was called; its contact details go.
        "update campaign_entry set snapshot = snapshot - 'name' - 'phone' - 'address' where customer_id = $1",
        // Answers kept for retries may quote them too (a call outcome's entry).
        "delete from idempotency_key where response_body::text like '%' || $1::text || '%'",
    ] {
        sqlx::query(sql).bind(customer_id).execute(&mut *conn).await?;
    }
    Ok(true)
}
