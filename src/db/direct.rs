//! Connections lent to the one-statement reads of the hot path (the scan), given back without sqlx's release ping.

use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, PgPool};

use super::PING_WHEN_IDLE;

/// A connection this old is closed and replaced when next lent, as sqlx's pool does by default, so a backend's
/// caches never grow for the server's whole life.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// sqlx pings every connection it takes back, so a one-statement read costs PostgreSQL two round trips and a
/// wake-up each. These connections are given back only by a request whose statements all finished (see
/// [`Lent`]), so there is nothing to flush and no ping; one idle long enough to have been cut is pinged first.
#[derive(Clone)]
pub struct DirectPool {
    pool: managed::Pool<Opener>,
}

/// Opens and checks the lent connections.
struct Opener {
    options: PgConnectOptions,
}

impl managed::Manager for Opener {
    type Type = PgConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgConnection, sqlx::Error> {
        self.options.connect().await
    }

    async fn recycle(
        &self,
        conn: &mut PgConnection,
        metrics: &Metrics,
    ) -> RecycleResult<sqlx::Error> {
        if metrics.age() >= MAX_LIFETIME {
            return Err(RecycleError::message("replaced after its lifetime"));
        }
        if metrics.last_used() >= PING_WHEN_IDLE {
            conn.ping().await?;
        }
        Ok(())
    }
}

impl DirectPool {
    /// Beside `main`: half as many connections (2 to 16), with its connect options and its acquire timeout; none
    /// is opened until a request asks.
    pub fn for_pool(main: &PgPool) -> DirectPool {
        let size = (main.options().get_max_connections() / 2).clamp(2, 16) as usize;
        let timeout = main.options().get_acquire_timeout();
        let pool = managed::Pool::builder(Opener {
            options: (*main.connect_options()).clone(),
        })
        .max_size(size)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        // Building fails only for timeouts without a runtime, and the runtime is set.
        .unwrap_or_else(|_| unreachable!("the pool has a runtime for its timeouts"));
        DirectPool { pool }
    }

    /// A connection for one request, or the error the main pool would give (`PoolTimedOut` while the database
    /// is away, so the request answers 503).
    pub async fn lend(&self) -> sqlx::Result<Lent> {
        match self.pool.get().await {
            Ok(obj) => Ok(Lent { obj: Some(obj) }),
            Err(managed::PoolError::Backend(e)) => Err(e),
            Err(managed::PoolError::Closed) => Err(sqlx::Error::PoolClosed),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }
}

/// A lent connection. Given back with [`Lent::give_back`] once its statements have finished; dropped any other
/// way (a request cut off mid-statement, an error) it is closed instead, since its state is then unknown.
pub struct Lent {
    obj: Option<managed::Object<Opener>>,
}

impl Lent {
    /// The connection.
    pub fn conn(&mut self) -> &mut PgConnection {
        match self.obj.as_mut() {
            Some(obj) => obj,
            None => unreachable!("a lent connection is only taken by give_back or drop"),
        }
    }

    /// Returns the connection to the pool for the next request.
    pub fn give_back(mut self) {
        drop(self.obj.take());
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(obj) = self.obj.take() {
            drop(managed::Object::take(obj));
        }
    }
}
