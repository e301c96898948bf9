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
        upsert_staff(&mut *tx, &username, display, role, hash).await?;
    }
    tx.commit().await?;
    Ok(logins)
}
