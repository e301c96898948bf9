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

/// A process's CPU time so far (user and system, every thread, live or ended), in seconds, from /proc: for the
/// CPU a server or PostgreSQL spends per request under a bench's load. `/proc/PID/stat` counts it in USER_HZ,
/// which Linux fixes at 100 for user space.
pub fn process_cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields count on after its closing parenthesis, from field 3.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field - 3)?.parse::<u64>().ok();
    Some((ticks(14)? + ticks(15)?) as f64 / 100.0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_cpu_time_grows_as_it_works() {
        let me = std::process::id();
        let before = process_cpu_secs(me).expect("own /proc/PID/stat");
        // Work until the process has spent 0.2 s more, however busy the machine (at most 20 s of it).
        let started = std::time::Instant::now();
        let mut x = 0u64;
        let mut after = before;
        while after - before < 0.2 && started.elapsed() < std::time::Duration::from_secs(20) {
            for _ in 0..1_000_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            after = process_cpu_secs(me).expect("own /proc/PID/stat");
        }
        assert!(after - before >= 0.2, "{before} -> {after}");
        assert_eq!(process_cpu_secs(u32::MAX), None);
    }
}
