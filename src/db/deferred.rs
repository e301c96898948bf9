//! Indexes a bulk load drops and builds again once it ends, recorded so that a load that stops is mended at the next start.

use anyhow::Context;
use sqlx::PgPool;

/// Secondary indexes of the given tables that a load of many customers would update all over their key range:
/// not unique, not backing a constraint, and not led by `customer_id` (an index led by the customer takes a
/// load's rows at its end, since ids are time-ordered). Their definitions come from the catalogue, so an index a
/// later migration adds is covered without being named here.
const SCATTERED: &str = "
    select i.relname::text, t.relname::text, pg_get_indexdef(i.oid)
      from pg_index x
      join pg_class i on i.oid = x.indexrelid
      join pg_class t on t.oid = x.indrelid
     where t.relnamespace = (select oid from pg_namespace where nspname = current_schema())
       and t.relname = any($1)
       and not x.indisunique and not x.indisprimary
       and not exists (select 1 from pg_constraint c where c.conindid = i.oid)
       and coalesce((select a.attname from pg_attribute a
                      where a.attrelid = t.oid and a.attnum = x.indkey[0]) <> 'customer_id', true)
     order by 2, 1";

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Drops the scattered indexes of `tables` for a bulk load, recording each definition first (in the same
/// transaction). Answers the names dropped; none when the indexes cannot be dropped now (another session holds
/// the tables for more than a few seconds, or this role does not own them): the load then keeps them.
pub async fn defer_scattered_indexes(
    pool: &PgPool,
    tables: &[&str],
) -> anyhow::Result<Vec<String>> {
    let tables: Vec<String> = tables.iter().map(|t| (*t).to_owned()).collect();
    let mut tx = pool.begin().await?;
    sqlx::query("set local lock_timeout = '5s'")
        .execute(&mut *tx)
        .await?;
    let found: Vec<(String, String, String)> = sqlx::query_as(SCATTERED)
        .bind(&tables)
        .fetch_all(&mut *tx)
        .await
        .context("listing the indexes to defer")?;
    for (index, table, definition) in &found {
        sqlx::query(
            "insert into deferred_index (index_name, table_name, definition) values ($1, $2, $3)
             on conflict (index_name) do nothing",
        )
        .bind(index)
        .bind(table)
        .bind(definition)
        .execute(&mut *tx)
        .await?;
        if let Err(e) = sqlx::query(&format!("drop index {}", quote_ident(index)))
            .execute(&mut *tx)
            .await
        {
            tracing::warn!(error = %e, "indexes kept during the load: they could not be dropped");
            return Ok(Vec::new());
        }
    }
    tx.commit().await?;
    Ok(found.into_iter().map(|(index, ..)| index).collect())
}

/// Builds every recorded index again, one transaction each (the build and the removal of its record commit
/// together), and answers how many this call built. Safe beside another caller: a record being built elsewhere
/// is skipped.
pub async fn build_deferred_indexes(pool: &PgPool) -> anyhow::Result<usize> {
    let mut built = 0;
    loop {
        let mut tx = pool.begin().await?;
        let next: Option<(String, String)> = sqlx::query_as(
            "select index_name, definition from deferred_index
              order by deferred_at, index_name limit 1 for update skip locked",
        )
        .fetch_optional(&mut *tx)
        .await
        .context("reading the deferred indexes")?;
        let Some((index, definition)) = next else {
            return Ok(built);
        };
        // A sort in memory instead of on disk, for tables of tens of millions of rows.
        sqlx::query("set local maintenance_work_mem = '1GB'")
            .execute(&mut *tx)
            .await?;
        let create = definition.replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1);
        sqlx::query(&create)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("building the deferred index {index}"))?;
        sqlx::query("delete from deferred_index where index_name = $1")
            .bind(&index)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(index = %index, "built a deferred index");
        built += 1;
    }
}
