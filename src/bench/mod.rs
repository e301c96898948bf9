//! Benchmark commands of the binary (`doorstep bench ...`: decode, lists, load, quality, sweep, the database fault test);
//! scan.lua drives wrk for the HTTP scan figure.

pub mod decode;
pub mod fault;
pub mod lists;
pub mod load;
pub mod quality;
pub mod sweep;

/// A throwaway pickup account for a bench run against a live service: its run id and the JSON body that signs
/// it in.
pub async fn pickup_account(
    pool: &sqlx::PgPool,
    prefix: &str,
    display_name: &str,
) -> anyhow::Result<(String, String)> {
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let username = crate::domain::username::Username::parse(&format!("{prefix}-{run_id}"))?;
    let password = crate::auth::generate_password();
    let p = password.clone();
    let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&p)).await??;
    crate::staff::db::insert_staff(
        pool,
        &username,
        display_name,
        crate::domain::Role::Pickup,
        &hash,
    )
    .await?;
    let login =
        serde_json::json!({"username": username.as_str(), "password": password}).to_string();
    Ok((run_id, login))
}

/// A process's peak and current resident memory (VmHWM, VmRSS) in KiB, from /proc; for figures of a server
/// the bench drives.
pub fn process_memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}
