//! `doorstep bench load`: the scan and pickup hot paths of a running service under concurrent keep-alive load,
//! side by side with pgbench on the same PostgreSQL server in one run.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use rand::seq::SliceRandom;
use rand::Rng;
use sqlx::PgPool;
use uuid::Uuid;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadBench {
    /// The running service, `host:port`.
    pub addr: String,
    /// Seconds each load (and each pgbench run) lasts.
    pub duration: Duration,
    /// Concurrent keep-alive connections scanning.
    pub scan_connections: usize,
    /// Concurrent keep-alive connections posting pickups.
    pub pickup_connections: usize,
    /// New garments in each pickup.
    pub garments_per_pickup: usize,
    /// The database pgbench runs in (initialised at `pgbench_scale` when empty); `None` skips the reference.
    pub pgbench_url: Option<String>,
    /// pgbench's scale factor.
    pub pgbench_scale: u32,
    /// The server's process id, to read its peak memory.
    pub server_pid: Option<u32>,
    /// Longest wait for the server and PostgreSQL to fall quiet before the first load.
    pub settle: Duration,
    /// The requests' `Accept-Encoding` (empty: none). The staff app's browser always sends one; the answers are
    /// counted as they come, never inflated (as wrk does).
    pub accept_encoding: String,
}

/// What the staff app's browser (Chromium) sends as `Accept-Encoding`.
pub const BROWSER_ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// A stretch over which the server and PostgreSQL must be quiet before the loads begin.
const QUIET_OVER: Duration = Duration::from_secs(3);
/// Quiet: less than this share of one core each, over [`QUIET_OVER`] (autovacuum and the filler's idle rounds stay
/// under it; a fit or a walk over the cards does not).
const QUIET_SHARE: f64 = 0.1;

/// How the wait for quiet went.
#[derive(Debug, Clone, Copy)]
enum Settled {
    /// Neither process could be read (another host): not waited for.
    Unknown,
    /// Quiet after this long.
    Quiet(Duration),
    /// Still busy when the wait ran out: the shares of a core the server and PostgreSQL last used.
    Busy(Option<f64>, Option<f64>),
}

/// One load's figures.
#[derive(Debug, Default, Clone)]
struct Figures {
    requests: usize,
    ok: usize,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    other_statuses: Vec<(u16, usize)>,
    /// Mean bytes of an answer's body as it came over the connection.
    body_bytes: f64,
    /// CPU seconds the server and PostgreSQL spent during the load, where /proc could tell.
    cpu: CpuUse,
}

/// CPU seconds spent during one load by the server and by PostgreSQL's processes on this machine.
#[derive(Debug, Default, Clone, Copy)]
struct CpuUse {
    server: Option<f64>,
    database: Option<f64>,
}

/// CPU used so far, at the start of a load: the server's, and each PostgreSQL process's (`pg_stat_activity`:
/// the service's connections and the server's own workers).
struct CpuMark {
    at: chrono::DateTime<chrono::Utc>,
    server: Option<f64>,
    database: std::collections::HashMap<i32, f64>,
}

impl CpuMark {
    async fn take(pool: &PgPool, server_pid: Option<u32>) -> anyhow::Result<CpuMark> {
        let at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("select clock_timestamp()")
            .fetch_one(pool)
            .await?;
        let database = database_pids(pool)
            .await?
            .into_iter()
            .filter_map(|(pid, _)| Some((pid, super::process_cpu_secs(pid.try_into().ok()?)?)))
            .collect();
        Ok(CpuMark {
            at,
            server: server_pid.and_then(super::process_cpu_secs),
            database,
        })
    }

    /// What was spent since the mark: processes there at the mark, and those started after it (connections the
    /// pool opened under the load); `database` is `None` when no PostgreSQL process could be read (another host).
    async fn since(&self, pool: &PgPool, server_pid: Option<u32>) -> anyhow::Result<CpuUse> {
        let mut database = None;
        for (pid, started) in database_pids(pool).await? {
            let before = match self.database.get(&pid) {
                Some(before) => *before,
                None if started.is_some_and(|s| s >= self.at) => 0.0,
                None => continue,
            };
            if let Some(now) = u32::try_from(pid).ok().and_then(super::process_cpu_secs) {
                *database.get_or_insert(0.0) += (now - before).max(0.0);
            }
        }
        let server = match (self.server, server_pid.and_then(super::process_cpu_secs)) {
            (Some(before), Some(now)) => Some(now - before),
            _ => None,
        };
        Ok(CpuUse { server, database })
    }
}

/// PostgreSQL's processes and when each started, those this machine runs: a pid read from another host's server
/// could name an unrelated local process.
async fn database_pids(
    pool: &PgPool,
) -> sqlx::Result<Vec<(i32, Option<chrono::DateTime<chrono::Utc>>)>> {
    let all: Vec<(i32, Option<chrono::DateTime<chrono::Utc>>)> =
        sqlx::query_as("select pid, backend_start from pg_stat_activity")
            .fetch_all(pool)
            .await?;
    Ok(all
        .into_iter()
        .filter(|(pid, _)| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|name| name.trim_end() == "postgres")
        })
        .collect())
}

/// What the bench measured.
#[derive(Debug, Default)]
pub struct LoadReport {
    labels: usize,
    customers: i64,
    scan: Figures,
    pickup: Figures,
    pgbench_select: Option<f64>,
    pgbench_tpcb: Option<f64>,
    scan_connections: usize,
    pickup_connections: usize,
    garments_per_pickup: usize,
    seconds: u64,
    peak_kib: Option<u64>,
    settled: Option<Settled>,
    accept_encoding: String,
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "bench load: scans over {} active door labels, pickups for {} other customers, {} s a run",
            self.labels, self.customers, self.seconds
        )?;
        match self.accept_encoding.as_str() {
            "" => writeln!(f, "requests sent no Accept-Encoding")?,
            a => writeln!(f, "requests sent Accept-Encoding: {a}")?,
        }
        match self.settled {
            Some(Settled::Quiet(waited)) if waited >= QUIET_OVER * 2 => writeln!(
                f,
                "waited {:.0} s for the server's and PostgreSQL's background work to finish",
                waited.as_secs_f64()
            )?,
            Some(Settled::Busy(server, database)) => writeln!(
                f,
                "warning: still busy when the load began (server {}, PostgreSQL {} of a core): these figures include background work",
                share(server),
                share(database)
            )?,
            _ => {}
        }
        let ratio = |ours: f64, reference: Option<f64>| {
            reference.map_or("-".to_owned(), |r| format!("{:.3}", ours / r))
        };
        let tps = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.0} tps"));
        writeln!(
            f,
            "| path | pgbench | Doorstep | ratio | p50 | p99 | max |\n|---|---|---|---|---|---|---|"
        )?;
        writeln!(
            f,
            "| scan -> card, {} connections | -S, c{}: {} | {:.0} req/s | {} | {:.1} ms | {:.1} ms | {:.1} ms |",
            self.scan_connections,
            self.scan_connections,
            tps(self.pgbench_select),
            self.scan.per_second,
            ratio(self.scan.per_second, self.pgbench_select),
            self.scan.p50_ms,
            self.scan.p99_ms,
            self.scan.max_ms
        )?;
        writeln!(
            f,
            "| pickup, {} new garments, {} connections | TPC-B, c{}: {} | {:.0} pickups/s | {} | {:.1} ms | {:.1} ms | {:.1} ms |",
            self.garments_per_pickup,
            self.pickup_connections,
            self.pickup_connections,
            tps(self.pgbench_tpcb),
            self.pickup.per_second,
            ratio(self.pickup.per_second, self.pgbench_tpcb),
            self.pickup.p50_ms,
            self.pickup.p99_ms,
            self.pickup.max_ms
        )?;
        for (name, fig) in [("scan", &self.scan), ("pickup", &self.pickup)] {
            write!(
                f,
                "{name}: {} requests, {} ok, {:.0} bytes an answer",
                fig.requests, fig.ok, fig.body_bytes
            )?;
            for (status, n) in &fig.other_statuses {
                write!(f, ", {n} x {status}")?;
            }
            let per_request = |secs: Option<f64>| match secs {
                Some(s) if fig.requests > 0 => {
                    // In microseconds: a scan costs tens of them, and two decimals of a millisecond hid a tenth.
                    format!("{:.0} µs", s * 1e6 / fig.requests as f64)
                }
                _ => "-".to_owned(),
            };
            if fig.cpu.server.is_some() || fig.cpu.database.is_some() {
                write!(
                    f,
                    "; CPU per request: server {}, PostgreSQL {}",
                    per_request(fig.cpu.server),
                    per_request(fig.cpu.database)
                )?;
            }
            writeln!(f)?;
        }
        if let Some(kib) = self.peak_kib {
            writeln!(f, "server peak memory (VmHWM): {} MiB", kib / 1024)?;
        }
        Ok(())
    }
}

fn share(v: Option<f64>) -> String {
    v.map_or("-".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

/// Waits, at most `longest`, until the server (when its pid is known) and PostgreSQL's processes each use less
/// than [`QUIET_SHARE`] of a core over [`QUIET_OVER`]: a server just started fits the day's reminder estimates and
/// walks every card, and a database just loaded is vacuumed, and either would be measured with the loads.
async fn settle(
    pool: &PgPool,
    server_pid: Option<u32>,
    longest: Duration,
) -> anyhow::Result<Settled> {
    let started = Instant::now();
    let mut told = false;
    loop {
        let mark = CpuMark::take(pool, server_pid).await?;
        tokio::time::sleep(QUIET_OVER).await;
        let used = mark.since(pool, server_pid).await?;
        let secs = QUIET_OVER.as_secs_f64();
        let (server, database) = (
            used.server.map(|s| s / secs),
            used.database.map(|s| s / secs),
        );
        if server.is_none() && database.is_none() {
            return Ok(Settled::Unknown);
        }
        if server.unwrap_or(0.0) < QUIET_SHARE && database.unwrap_or(0.0) < QUIET_SHARE {
            return Ok(Settled::Quiet(started.elapsed()));
        }
        if started.elapsed() >= longest {
            return Ok(Settled::Busy(server, database));
        }
        if !told {
            eprintln!(
                "waiting for background work to finish before the load (server {}, PostgreSQL {} of a core; --settle-secs {})",
                share(server),
                share(database),
                longest.as_secs()
            );
            told = true;
        }
    }
}

type Client = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// One keep-alive HTTP/1.1 connection.
async fn connect(addr: &str) -> anyhow::Result<Client> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Sends one request and reads the whole answer.
async fn send(
    client: &mut Client,
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> anyhow::Result<(u16, Bytes)> {
    client.ready().await?;
    let mut request = hyper::Request::post(path)
        .header("host", addr)
        .header("content-type", "application/json");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = client
        .send_request(request.body(Full::new(Bytes::from(body)))?)
        .await?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok((status, bytes))
}

/// A throwaway pickup account, signed in: its bearer token.
async fn session(pool: &PgPool, addr: &str) -> anyhow::Result<String> {
    let (_, login) = super::pickup_account(pool, "load-bench", "Load bench").await?;
    let mut client = connect(addr).await?;
    let (status, body) = send(&mut client, addr, "/api/v1/auth/login", &[], login).await?;
    anyhow::ensure!(status == 200, "sign-in answered {status}");
    let value: serde_json::Value = serde_json::from_slice(&body)?;
    Ok(value["token"].as_str().context("no token")?.to_owned())
}

/// Runs `connections` loops of `make` requests for `duration`; every answer's status and time is kept.
async fn load<F>(
    addr: &str,
    path: &'static str,
    token: &str,
    accept_encoding: &str,
    connections: usize,
    duration: Duration,
    make: F,
) -> anyhow::Result<Figures>
where
    F: Fn() -> (String, Option<String>) + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let mut client = connect(addr).await?;
        let (addr, token, accept, make, stop) = (
            addr.to_owned(),
            format!("Bearer {token}"),
            accept_encoding.to_owned(),
            make.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut samples: Vec<(u16, Duration, usize)> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let (body, key) = make();
                let mut headers = vec![("authorization", token.as_str())];
                if let Some(k) = key.as_deref() {
                    headers.push(("idempotency-key", k));
                }
                if !accept.is_empty() {
                    headers.push(("accept-encoding", accept.as_str()));
                }
                let t = Instant::now();
                let (status, bytes) = match send(&mut client, &addr, path, &headers, body).await {
                    Ok((status, body)) => (status, body.len()),
                    Err(_) => {
                        match connect(&addr).await {
                            Ok(c) => client = c,
                            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                        }
                        (0, 0)
                    }
                };
                samples.push((status, t.elapsed(), bytes));
            }
            samples
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(figures(&samples, elapsed))
}

fn figures(samples: &[(u16, Duration, usize)], elapsed: f64) -> Figures {
    let mut ok_times: Vec<f64> = samples
        .iter()
        .filter(|(s, _, _)| (200..300).contains(s))
        .map(|(_, d, _)| d.as_secs_f64() * 1000.0)
        .collect();
    ok_times.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        ok_times
            .get(((ok_times.len() as f64 * q) as usize).min(ok_times.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    let mut others = std::collections::BTreeMap::new();
    for (s, _, _) in samples.iter().filter(|(s, _, _)| !(200..300).contains(s)) {
        *others.entry(*s).or_insert(0usize) += 1;
    }
    Figures {
        requests: samples.len(),
        ok: ok_times.len(),
        per_second: ok_times.len() as f64 / elapsed.max(1e-9),
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        max_ms: ok_times.last().copied().unwrap_or(0.0),
        other_statuses: others.into_iter().collect(),
        body_bytes: samples.iter().map(|(_, _, b)| *b as f64).sum::<f64>()
            / samples.len().max(1) as f64,
        cpu: CpuUse::default(),
    }
}

/// Runs pgbench with `args` and reads its tps.
async fn pgbench(url: &str, args: &[&str]) -> anyhow::Result<f64> {
    let output = tokio::process::Command::new("pgbench")
        .args(args)
        .arg(url)
        .output()
        .await
        .context("running pgbench (apt-get install postgresql-contrib, or the server's own)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "pgbench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
        .context("pgbench printed no tps")
}

/// Makes pgbench's database and tables when they are missing.
async fn pgbench_ready(pool: &PgPool, url: &str, scale: u32) -> anyhow::Result<()> {
    let name = url
        .rsplit('/')
        .next()
        .unwrap_or("")
        .split('?')
        .next()
        .unwrap_or("");
    anyhow::ensure!(
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "--pgbench-url must end in a plain database name"
    );
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(pool)
            .await?;
    if !exists {
        sqlx::query(&format!("create database {name}"))
            .execute(pool)
            .await?;
    }
    let bench_pool = PgPool::connect(url).await?;
    let accounts: Option<i64> = sqlx::query_scalar("select count(*) from pgbench_accounts")
        .fetch_one(&bench_pool)
        .await
        .ok();
    bench_pool.close().await;
    if accounts != Some(i64::from(scale) * 100_000) {
        let status = tokio::process::Command::new("pgbench")
            .args(["-i", "-q", "-s", &scale.to_string(), url])
            .status()
            .await
            .context("running pgbench -i")?;
        anyhow::ensure!(status.success(), "pgbench -i failed");
    }
    Ok(())
}

const KINDS: &[&str] = &[
    "coat",
    "sweater",
    "shirt",
    "trousers",
    "dress",
    "down_jacket",
    "suit",
    "scarf",
];

/// A pickup of `n` new garments for one of `customers`.
fn pickup_body(customers: &[Uuid], n: usize) -> String {
    let mut rng = rand::thread_rng();
    let customer = customers.choose(&mut rng).copied().unwrap_or_default();
    let lines: Vec<serde_json::Value> = (0..n)
        .map(|_| {
            let category = ["men", "women", "children"][rng.gen_range(0..3)];
            let kind = KINDS[rng.gen_range(0..KINDS.len())];
            let season_class = ["winter", "summer", "spring_autumn"][rng.gen_range(0..3)];
            serde_json::json!({
                "garment": {
                    "category": category,
                    "kind": kind,
                    "season_class": season_class,
                    "material": "cotton",
                },
                "service": "dry_clean",
                "price_cents": 1500 + 100 * rng.gen_range(0..40),
            })
        })
        .collect();
    serde_json::json!({
        "customer_id": customer,
        "collected_at": chrono::Utc::now() - chrono::Duration::minutes(1),
        "notes": "load bench",
        "lines": lines,
    })
    .to_string()
}

/// Runs the bench against the service at `bench.addr`, whose database `pool` is.
pub async fn run(pool: &PgPool, bench: &LoadBench) -> anyhow::Result<LoadReport> {
    // Scans read half the customers and pickups write to the other half, so a run's new garments never grow
    // the cards a later run scans (each run would otherwise measure a bigger card than the last).
    let codes: Vec<String> = sqlx::query_scalar(
        "select code from door_label
          where revoked_at is null and hashtext(customer_id::text) & 1 = 0
          order by code",
    )
    .fetch_all(pool)
    .await?;
    anyhow::ensure!(
        !codes.is_empty(),
        "no active door labels: run `doorstep seed` first"
    );
    let customers: Vec<Uuid> = sqlx::query_scalar(
        "select customer_id from customer
              where not do_not_contact and hashtext(customer_id::text) & 1 = 1",
    )
    .fetch_all(pool)
    .await?;
    anyhow::ensure!(
        !customers.is_empty(),
        "no customer outside the scanned half: seed a bigger company"
    );
    let token = session(pool, &bench.addr).await?;
    let mut report = LoadReport {
        labels: codes.len(),
        customers: customers.len() as i64,
        scan_connections: bench.scan_connections,
        pickup_connections: bench.pickup_connections,
        garments_per_pickup: bench.garments_per_pickup,
        seconds: bench.duration.as_secs(),
        accept_encoding: bench.accept_encoding.clone(),
        ..LoadReport::default()
    };
    let secs = bench.duration.as_secs().max(1).to_string();
    if let Some(url) = &bench.pgbench_url {
        pgbench_ready(pool, url, bench.pgbench_scale).await?;
    }
    if !bench.settle.is_zero() {
        report.settled = Some(settle(pool, bench.server_pid, bench.settle).await?);
    }
    if let Some(url) = &bench.pgbench_url {
        let c = bench.scan_connections.to_string();
        report.pgbench_select = Some(
            pgbench(
                url,
                &["-S", "-M", "prepared", "-c", &c, "-j", "2", "-T", &secs],
            )
            .await?,
        );
    }
    let codes = Arc::new(codes);
    let mark = CpuMark::take(pool, bench.server_pid).await?;
    report.scan = load(
        &bench.addr,
        "/api/v1/scans",
        &token,
        &bench.accept_encoding,
        bench.scan_connections,
        bench.duration,
        move || {
            let code = codes
                .choose(&mut rand::thread_rng())
                .cloned()
                .unwrap_or_default();
            (serde_json::json!({ "code": code }).to_string(), None)
        },
    )
    .await?;
    report.scan.cpu = mark.since(pool, bench.server_pid).await?;
    if let Some(url) = &bench.pgbench_url {
        let c = bench.pickup_connections.to_string();
        report.pgbench_tpcb =
            Some(pgbench(url, &["-M", "prepared", "-c", &c, "-j", "2", "-T", &secs]).await?);
    }
    let n = bench.garments_per_pickup;
    let mark = CpuMark::take(pool, bench.server_pid).await?;
    report.pickup = load(
        &bench.addr,
        "/api/v1/pickups",
        &token,
        &bench.accept_encoding,
        bench.pickup_connections,
        bench.duration,
        move || (pickup_body(&customers, n), Some(Uuid::new_v4().to_string())),
    )
    .await?;
    report.pickup.cpu = mark.since(pool, bench.server_pid).await?;
    report.peak_kib = bench
        .server_pid
        .and_then(super::process_memory_kib)
        .map(|(peak, _)| peak);
    Ok(report)
}
