//! The rule that keeps the Citus plan open (README, "Scaling out"): every key of a customer-owned table includes
//! `customer_id`, so the tables can be distributed by it and co-located; the global lookup keys are the named
//! directories.

use sqlx::PgPool;

/// Global lookups that move to directory tables distributed by the key itself (`key -> customer_id, id`).
const DIRECTORIES: &[(&str, &str)] = &[
    ("door_label", "code"),
    ("garment", "tag_code"),
    ("customer", "external_id"),
    ("garment", "external_id"),
    ("pickup", "external_id"),
    ("storage_order", "receipt_no"),
];

/// Tables that other tables' foreign keys may point to without `customer_id`: small reference tables.
const REFERENCE: &[&str] = &["staff", "campaign", "storage_zone", "season_window_kind"];

#[sqlx::test]
async fn every_key_of_a_customer_owned_table_includes_customer_id(pool: PgPool) {
    let owned: Vec<String> = sqlx::query_scalar(
        "select c.table_name::text from information_schema.columns c
           join information_schema.tables t using (table_schema, table_name)
          where c.table_schema = 'public' and c.column_name = 'customer_id' and c.is_nullable = 'NO'
            and t.table_type = 'BASE TABLE'
          order by 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for table in [
        "customer",
        "garment",
        "pickup",
        "pickup_line",
        "interaction",
        "door_label",
        "storage_order",
    ] {
        assert!(
            owned.iter().any(|t| t == table),
            "{table} is customer-owned: {owned:?}"
        );
    }

    // Primary keys and unique indexes (constraints or not), with their key columns (not those an index only
    // carries, `include (...)`).
    let keys: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "select t.relname::text, i.relname::text,
                array(select a.attname::text from unnest((ix.indkey::int2[])[0:ix.indnkeyatts - 1]) k
                        join pg_attribute a on a.attrelid = t.oid and a.attnum = k)
           from pg_index ix
           join pg_class i on i.oid = ix.indexrelid
           join pg_class t on t.oid = ix.indrelid
           join pg_namespace n on n.oid = t.relnamespace
          where n.nspname = 'public' and ix.indisunique and t.relname = any($1)",
    )
    .bind(&owned)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        keys.len() >= owned.len(),
        "every owned table has a primary key"
    );
    for (table, index, columns) in &keys {
        let directory =
            columns.len() == 1 && DIRECTORIES.contains(&(table.as_str(), columns[0].as_str()));
        assert!(
            directory || columns.iter().any(|c| c == "customer_id"),
            "{table}.{index} ({columns:?}) does not include customer_id: a distributed table cannot keep it \
             unique; make it (customer_id, ...) or a directory named in the README's Citus plan"
        );
    }

    // Foreign keys: between owned tables they carry customer_id; otherwise they point at reference tables.
    let fks: Vec<(String, String, String, Vec<String>)> = sqlx::query_as(
        "select c.conrelid::regclass::text, c.conname::text, c.confrelid::regclass::text,
                array(select a.attname::text from unnest(c.conkey) k
                        join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k)
           from pg_constraint c
          where c.contype = 'f' and c.conrelid::regclass::text = any($1)",
    )
    .bind(&owned)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(fks.len() > 10, "{} foreign keys", fks.len());
    for (table, name, target, columns) in &fks {
        if owned.contains(target) {
            assert!(
                columns.iter().any(|c| c == "customer_id"),
                "{table}.{name} -> {target} ({columns:?}) is between customer-owned tables without customer_id"
            );
        } else {
            assert!(
                REFERENCE.contains(&target.as_str()),
                "{table}.{name} points at {target}, which is neither customer-owned nor a reference table"
            );
        }
    }
}
