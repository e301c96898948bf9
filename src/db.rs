//! Database connection: create the database if missing, connect, and apply the embedded migrations.

use std::time::Duration;

use anyhow::Context;
use sqlx::migrate::MigrateDatabase;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

use crate::config::{redact_url, DbConfig};

/// The migrations in `migrations/`, compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Creates the database if needed, connects, and migrates it.
pub async fn connect_and_migrate(cfg: &DbConfig) -> anyhow::Result<PgPool> {
    let url = &cfg.database_url;
    if !Postgres::database_exists(url)
        .await
        .with_context(|| format!("cannot reach PostgreSQL at {}", redact_url(url)))?
    {
        Postgres::create_database(url)
            .await
            .context("creating the database")?;
        tracing::info!("created database");
    }
    // The lists sort and hash tens of thousands of rows; 32 MB keeps that in memory instead of on disk.
    let options = PgConnectOptions::from_str(url)
        .with_context(|| format!("bad database URL {}", redact_url(url)))?
        .options([("work_mem", "32MB")]);
    let pool = PgPoolOptions::new()
        .max_connections(cfg.db_max_connections)
        // Short, so that while the database is away requests answer 503 within 2 s instead of hanging.
        .acquire_timeout(Duration::from_millis(
            cfg.db_acquire_timeout_ms.clamp(100, 30_000),
        ))
        .connect_with(options)
        .await
        .with_context(|| format!("connecting to {}", redact_url(url)))?;
    MIGRATOR.run(&pool).await.context("applying migrations")?;
    Ok(pool)
}

/// One round trip to the database, for readiness checks.
pub async fn ping(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query("select 1").execute(pool).await.map(|_| ())
}
