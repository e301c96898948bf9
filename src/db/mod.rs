//! Database connection: create the database if missing, connect, apply the embedded migrations; COPY rows; indexes deferred by bulk loads.

use std::time::Duration;

use anyhow::Context;
use sqlx::migrate::MigrateDatabase;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

use crate::config::{redact_url, DbConfig};

pub mod batcher;
mod deferred;
pub mod direct;
pub use deferred::{build_deferred_indexes, defer_scattered_indexes};

/// The migrations in `migrations/`, compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// A new row id for what the service records as it works (pickups, garments, customers, orders, ...):
/// time-ordered (UUIDv7), so an index on the id grows at its right edge instead of touching a random page on every
/// insert, which at a million customers is a page read and, after each checkpoint, a full-page image in the WAL.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// A pooled connection idle this long is pinged before it is handed out (one that was in use since passed its
/// release ping just now).
pub(crate) const PING_WHEN_IDLE: Duration = Duration::from_secs(1);

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
    let pool = connect(cfg).await?;
    MIGRATOR.run(&pool).await.context("applying migrations")?;
    // A bulk load that stopped before building its deferred indexes again left them recorded.
    let built = build_deferred_indexes(&pool).await?;
    if built > 0 {
        tracing::info!(
            built,
            "built the indexes an unfinished bulk load had deferred"
        );
    }
    Ok(pool)
}

/// Connects to a database as it is, migrating nothing: for a bench that drives a running service, whose
/// database is that service's (an older server must not find its schema moved under it).
pub async fn connect(cfg: &DbConfig) -> anyhow::Result<PgPool> {
    let url = &cfg.database_url;
    // The lists sort and hash tens of thousands of rows; 32 MB keeps that in memory instead of on disk. JIT
    // compiling is off: at 100k customers it took about 1 s of a 1.3 s value scoring, and 0.6 s of a kept
    // list's 2 ms look at a hundred changed customers (the plan's cost counts a branch that never runs).
    let options = PgConnectOptions::from_str(url)
        .with_context(|| format!("bad database URL {}", redact_url(url)))?
        .options([("work_mem", "32MB"), ("jit", "off")]);
    PgPoolOptions::new()
        .max_connections(cfg.db_max_connections)
        // Short, so that while the database is away requests answer 503 within 2 s instead of hanging.
        .acquire_timeout(Duration::from_millis(
            cfg.db_acquire_timeout_ms.clamp(100, 30_000),
        ))
        // sqlx pings every connection on release and, by default, again on acquire: a third round trip for a
        // one-statement request. Only a connection idle long enough to have been cut is pinged before use.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_WHEN_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("connecting to {}", redact_url(url)))
}

/// One round trip to the database, for readiness checks.
pub async fn ping(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query("select 1").execute(pool).await.map(|_| ())
}

/// Builds rows of PostgreSQL's COPY text format.
#[derive(Default)]
pub struct CopyRow {
    /// The rows written so far, as COPY reads them.
    pub buf: Vec<u8>,
    /// A cell of the current row was written: the next one needs a separator.
    in_row: bool,
}

impl CopyRow {
    /// An empty buffer.
    pub fn new() -> CopyRow {
        CopyRow {
            buf: Vec::with_capacity(1 << 20),
            in_row: false,
        }
    }

    fn sep(&mut self) {
        if self.in_row {
            self.buf.push(b'\t');
        }
        self.in_row = true;
    }

    /// A text cell, or NULL.
    pub fn text(&mut self, v: Option<&str>) -> &mut Self {
        self.sep();
        match v {
            None => self.buf.extend_from_slice(b"\\N"),
            Some(s) => {
                for &b in s.as_bytes() {
                    match b {
                        b'\\' => self.buf.extend_from_slice(b"\\\\"),
                        b'\t' => self.buf.extend_from_slice(b"\\t"),
                        b'\n' => self.buf.extend_from_slice(b"\\n"),
                        b'\r' => self.buf.extend_from_slice(b"\\r"),
                        b => self.buf.push(b),
                    }
                }
            }
        }
        self
    }

    /// A number, or NULL.
    pub fn int(&mut self, v: Option<i64>) -> &mut Self {
        self.sep();
        match v {
            None => self.buf.extend_from_slice(b"\\N"),
            Some(n) => self.buf.extend_from_slice(n.to_string().as_bytes()),
        }
        self
    }

    /// A boolean, or NULL.
    pub fn bool(&mut self, v: Option<bool>) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(match v {
            None => b"\\N",
            Some(true) => b"t",
            Some(false) => b"f",
        });
        self
    }

    /// An id.
    pub fn uuid(&mut self, v: uuid::Uuid) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(
            v.as_hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer())
                .as_bytes(),
        );
        self
    }

    /// A time, or NULL.
    pub fn time(&mut self, v: Option<chrono::DateTime<chrono::Utc>>) -> &mut Self {
        let s = v.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
        self.text(s.as_deref())
    }

    /// Ends the row.
    pub fn end(&mut self) {
        self.buf.push(b'\n');
        self.in_row = false;
    }
}
