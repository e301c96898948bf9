//! The demo data set: loads `fixtures/demo.sql` and gives the demo staff fresh passwords to print.

use sqlx::PgPool;

use crate::auth;
use crate::domain::Role;
use crate::staff::db::upsert_staff;

const DEMO_SQL: &str = include_str!("../fixtures/demo.sql");

/// A demo account and its fresh password.
pub struct DemoLogin {
    pub(crate) username: &'static str,
    pub(crate) role: Role,
    pub(crate) password: String,
}

impl DemoLogin {
    /// The demo account's username.
    pub fn username(&self) -> &str {
        self.username
    }

    /// Its fresh password.
    pub fn password(&self) -> &str {
        &self.password
    }
}

/// Loads the demo data (idempotent) and resets the demo accounts' passwords; returns the logins.
pub async fn load(pool: &PgPool) -> anyhow::Result<Vec<DemoLogin>> {
    let accounts = [
        ("demo-pickup", "Wang Lei (pickup)", Role::Pickup),
        ("demo-dispatcher", "Li Na (dispatcher)", Role::Dispatcher),
        ("demo-manager", "Zhang Wei (manager)", Role::Manager),
        ("demo-admin", "Chen Jie (admin)", Role::Admin),
    ];
    let mut logins = Vec::new();
    let mut hashes = Vec::new();
    for (username, _, role) in accounts {
        let password = auth::generate_password();
        let p = password.clone();
        hashes.push(tokio::task::spawn_blocking(move || auth::hash_password(&p)).await??);
        logins.push(DemoLogin {
            username,
            role,
            password,
        });
    }
    let mut tx = pool.begin().await?;
    sqlx::raw_sql(DEMO_SQL).execute(&mut *tx).await?;
    for ((username, display, role), hash) in accounts.into_iter().zip(&hashes) {
        let username = crate::domain::username::Username::parse(username)?;
        let account = upsert_staff(&mut *tx, &username, display, role, hash).await?;
        // The old passwords are gone, so are the sessions they opened.
        auth::revoke_sessions(&mut *tx, account.staff_id).await?;
    }
    apply_demo_rollups(&mut tx).await?;
    tx.commit().await?;
    Ok(logins)
}

/// Applies the rollups (garment cleanings, customer spend) of demo pickups not yet counted: the fixture inserts
/// pickup rows directly, and the value lists and the card read the rollups, not the history. Tests that load the
/// fixture call it too; a second call finds nothing to apply.
pub async fn apply_demo_rollups(tx: &mut sqlx::PgConnection) -> sqlx::Result<()> {
    let pending: Vec<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(
        "select p.customer_id, p.pickup_id from pickup p
          where p.pickup_id::text like '00000000-0000-4000-c000-%'
            and not exists (select 1 from pickup_class pc
                             where pc.customer_id = p.customer_id and pc.pickup_id = p.pickup_id)
          order by p.collected_at, p.pickup_id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let (customers, pickups): (Vec<_>, Vec<_>) = pending.into_iter().unzip();
    crate::import::apply_pickup_rollups(&mut *tx, &customers, &pickups).await
}
