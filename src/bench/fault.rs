//! `doorstep bench fault`: retried pickups against a running service while its PostgreSQL cluster is stopped and
//! started again; checks that every acknowledged pickup is stored once and whole, and times the outage's answers.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

/// What to run.
#[derive(Debug, Clone)]
pub struct FaultBench {
    /// The running service, `host:port`.
    pub addr: String,
    /// Concurrent clients, each retrying its key until 201.
    pub clients: usize,
    /// PostgreSQL major version and cluster name, for `pg_ctlcluster`.
    pub pg_version: String,
    /// The cluster to stop.
    pub cluster: String,
    /// Seconds of load before the stop.
    pub before: Duration,
    /// Seconds the database stays down.
    pub down: Duration,
    /// Seconds of load after the start.
    pub after: Duration,
    /// The server's process id, to read its peak memory.
    pub server_pid: Option<u32>,
}

/// One HTTP answer, as much as the bench looks at.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    retry_after: bool,
    problem_json: bool,
    body: String,
}

/// One request's outcome (status 0: no answer: connection refused or timed out).
#[derive(Debug, Clone, Copy)]
struct Sample {
    started: Instant,
    took: Duration,
    status: u16,
    retry_after: bool,
    problem_json: bool,
}

/// The figures printed.
#[derive(Debug, Default)]
pub struct FaultReport {
    pickups: Answers,
    acknowledged: usize,
    refused: usize,
    found: i64,
    acknowledged_found_once: i64,
    duplicates: i64,
    half_written: i64,
    recorded_unacknowledged: i64,
    readyz_down: BTreeMap<u16, usize>,
    ready_after: Option<Duration>,
    scans: Option<Answers>,
    peak_kib: Option<(u64, u64)>,
}

/// What one kind of request got: by status, while the database was down, and once it was back.
#[derive(Debug, Default)]
struct Answers {
    requests: usize,
    statuses: BTreeMap<u16, usize>,
    down_requests: usize,
    down_statuses: BTreeMap<u16, usize>,
    down_503_with_retry_after: usize,
    down_max_answer: Duration,
    down_over_2s: usize,
    /// From the database's start to the end of the first request begun after it that answered `ok`.
    first_ok_after: Option<Duration>,
}

impl Answers {
    /// `samples` against the outage: begun in `down_from..down_until`, and after `back_at`.
    fn of(
        samples: &[Sample],
        ok: u16,
        down_from: Instant,
        down_until: Instant,
        back_at: Instant,
    ) -> Answers {
        let mut a = Answers {
            requests: samples.len(),
            ..Answers::default()
        };
        for s in samples {
            *a.statuses.entry(s.status).or_insert(0) += 1;
            if s.started >= down_from && s.started < down_until {
                a.down_requests += 1;
                *a.down_statuses.entry(s.status).or_insert(0) += 1;
                if s.status == 503 && s.retry_after && s.problem_json {
                    a.down_503_with_retry_after += 1;
                }
                a.down_max_answer = a.down_max_answer.max(s.took);
                if s.took > Duration::from_secs(2) {
                    a.down_over_2s += 1;
                }
            }
            if s.status == ok && s.started >= back_at {
                let after = s.started + s.took - back_at;
                a.first_ok_after = Some(a.first_ok_after.map_or(after, |b| b.min(after)));
            }
        }
        a
    }
}

impl fmt::Display for FaultReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = |d: Option<Duration>| {
            d.map_or("never".to_owned(), |d| format!("{:.2} s", d.as_secs_f64()))
        };
        let p = &self.pickups;
        writeln!(f, "requests:                  {}", p.requests)?;
        writeln!(
            f,
            "  by status:               {:?} (0 = no answer)",
            p.statuses
        )?;
        writeln!(f, "acknowledged (201):        {}", self.acknowledged)?;
        writeln!(f, "refused (4xx, not retried): {}", self.refused)?;
        writeln!(f, "found in database:         {}", self.found)?;
        writeln!(
            f,
            "  acknowledged found once: {}",
            self.acknowledged_found_once
        )?;
        writeln!(
            f,
            "  recorded, not acknowledged: {}",
            self.recorded_unacknowledged
        )?;
        writeln!(f, "duplicates:                {}", self.duplicates)?;
        writeln!(f, "half-written (no lines):   {}", self.half_written)?;
        writeln!(
            f,
            "while down:                {} requests, by status {:?}",
            p.down_requests, p.down_statuses
        )?;
        writeln!(
            f,
            "  503 problem+json with Retry-After: {}",
            p.down_503_with_retry_after
        )?;
        writeln!(
            f,
            "  max answer time:         {:.2} s ({} over 2 s)",
            p.down_max_answer.as_secs_f64(),
            p.down_over_2s
        )?;
        writeln!(f, "  /readyz:                 {:?}", self.readyz_down)?;
        writeln!(
            f,
            "recovery after the database is back: /readyz 200 in {}, first 201 in {}",
            secs(self.ready_after),
            secs(p.first_ok_after)
        )?;
        if let Some(scans) = &self.scans {
            writeln!(
                f,
                "scans (a door label every 20 ms): {}, by status {:?}",
                scans.requests, scans.statuses
            )?;
            writeln!(
                f,
                "  while down: by status {:?}, max answer {:.2} s; first 200 after the database is back in {}",
                scans.down_statuses,
                scans.down_max_answer.as_secs_f64(),
                secs(scans.first_ok_after)
            )?;
        }
        if let Some((hwm, rss)) = self.peak_kib {
            writeln!(
                f,
                "server memory: peak (VmHWM) {} MiB, now (VmRSS) {} MiB",
                hwm / 1024,
                rss / 1024
            )?;
        }
        Ok(())
    }
}

/// One POST of the bench, timed (status 0 when no answer came within 30 s).
async fn post(
    addr: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (Sample, Option<Answer>) {
    let started = Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(30),
        http(addr, "POST", path, headers, body),
    )
    .await
    .ok()
    .and_then(Result::ok);
    let sample = Sample {
        started,
        took: started.elapsed(),
        status: answer.as_ref().map_or(0, |a| a.status),
        retry_after: answer.as_ref().is_some_and(|a| a.retry_after),
        problem_json: answer.as_ref().is_some_and(|a| a.problem_json),
    };
    (sample, answer)
}

/// A minimal HTTP/1.1 exchange on a fresh connection (the bench needs no client library).
async fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Ok(Answer {
        status,
        retry_after: header("retry-after").is_some(),
        problem_json: header("content-type")
            .is_some_and(|v| v.starts_with("application/problem+json")),
        body,
    })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

async fn pg_ctl(bench: &FaultBench, action: &str) -> anyhow::Result<()> {
    let status = tokio::process::Command::new("pg_ctlcluster")
        .args([
            "--skip-systemctl-redirect",
            &bench.pg_version,
            &bench.cluster,
            action,
        ])
        .args(if action == "stop" {
            &["-m", "fast"][..]
        } else {
            &[][..]
        })
        .status()
        .await
        .context("running pg_ctlcluster")?;
    anyhow::ensure!(status.success(), "pg_ctlcluster {action} failed: {status}");
    Ok(())
}

/// Shared between the clients and the conductor.
struct Shared {
    samples: Mutex<Vec<Sample>>,
    scans: Mutex<Vec<Sample>>,
    acknowledged: Mutex<Vec<Uuid>>,
    refused: Mutex<usize>,
    stop: AtomicBool,
}

/// Runs the bench: creates a pickup account, loads, stops and starts the cluster, then checks the database.
pub async fn run(pool: &PgPool, bench: &FaultBench) -> anyhow::Result<FaultReport> {
    let (customer_id, garment_id): (Uuid, Uuid) = sqlx::query_as(
        "select customer_id, garment_id from garment order by customer_id, garment_id limit 1",
    )
    .fetch_optional(pool)
    .await?
    .context("the database has no garments: load `doorstep demo` or `doorstep seed` first")?;
    let (run_id, login) = super::pickup_account(pool, "fault-bench", "Fault bench").await?;
    let answer = http(
        &bench.addr,
        "POST",
        "/api/v1/auth/login",
        &[("content-type", "application/json".to_owned())],
        &login,
    )
    .await
    .with_context(|| format!("signing in at {}", bench.addr))?;
    anyhow::ensure!(
        answer.status == 200,
        "sign-in answered {}: {}",
        answer.status,
        answer.body
    );
    let token: serde_json::Value = serde_json::from_str(&answer.body)?;
    let token = token["token"].as_str().context("no token")?.to_owned();

    let shared = Arc::new(Shared {
        samples: Mutex::new(Vec::new()),
        scans: Mutex::new(Vec::new()),
        acknowledged: Mutex::new(Vec::new()),
        refused: Mutex::new(0),
        stop: AtomicBool::new(false),
    });
    let mut clients = Vec::new();
    for _ in 0..bench.clients.max(1) {
        let shared = shared.clone();
        let addr = bench.addr.clone();
        let token = token.clone();
        let run_id = run_id.clone();
        clients.push(tokio::spawn(async move {
            let hard_stop = || shared.stop.load(Ordering::Relaxed);
            while !hard_stop() {
                let key = Uuid::new_v4();
                let body = serde_json::json!({
                    "customer_id": customer_id,
                    "collected_at": chrono::Utc::now() - chrono::Duration::minutes(1),
                    "notes": format!("fault-bench {run_id} {key}"),
                    "lines": [{"garment_id": garment_id, "service": "wash", "price_cents": 1000}],
                })
                .to_string();
                let headers = [
                    ("content-type", "application/json".to_owned()),
                    ("authorization", format!("Bearer {token}")),
                    ("idempotency-key", key.to_string()),
                ];
                // Retry this key until it is acknowledged (or, once stopping, for at most 30 s more).
                let give_up = Instant::now() + Duration::from_secs(600);
                loop {
                    let (sample, answer) = post(&addr, "/api/v1/pickups", &headers, &body).await;
                    let status = sample.status;
                    if let Ok(mut s) = shared.samples.lock() {
                        s.push(sample);
                    }
                    match status {
                        201 => {
                            let id = answer
                                .and_then(|a| {
                                    serde_json::from_str::<serde_json::Value>(&a.body).ok()
                                })
                                .and_then(|v| v["pickup_id"].as_str().and_then(|s| s.parse().ok()));
                            if let (Some(id), Ok(mut acked)) = (id, shared.acknowledged.lock()) {
                                acked.push(id);
                            }
                            break;
                        }
                        400 | 401 | 403 | 404 | 422 => {
                            if let Ok(mut r) = shared.refused.lock() {
                                *r += 1;
                            }
                            break;
                        }
                        _ => {}
                    }
                    if Instant::now() > give_up {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }));
    }
    // The scan reads on connections of its own (`db::direct`): one client scans a door label throughout.
    let door: Option<String> = sqlx::query_scalar(
        "select code from door_label where revoked_at is null order by code limit 1",
    )
    .fetch_optional(pool)
    .await?;
    if let Some(code) = door {
        let shared = shared.clone();
        let addr = bench.addr.clone();
        let headers = [
            ("content-type", "application/json".to_owned()),
            ("authorization", format!("Bearer {token}")),
        ];
        let body = serde_json::json!({ "code": code }).to_string();
        clients.push(tokio::spawn(async move {
            while !shared.stop.load(Ordering::Relaxed) {
                let (sample, _) = post(&addr, "/api/v1/scans", &headers, &body).await;
                if let Ok(mut s) = shared.scans.lock() {
                    s.push(sample);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }

    tokio::time::sleep(bench.before).await;
    pg_ctl(bench, "stop").await?;
    let down_from = Instant::now();
    eprintln!("database stopped; waiting {} s", bench.down.as_secs());
    let mut readyz_down = BTreeMap::new();
    while down_from.elapsed() < bench.down {
        let status = tokio::time::timeout(
            Duration::from_secs(5),
            http(&bench.addr, "GET", "/readyz", &[], ""),
        )
        .await
        .ok()
        .and_then(Result::ok)
        .map_or(0, |a| a.status);
        *readyz_down.entry(status).or_insert(0) += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let down_until = Instant::now();
    pg_ctl(bench, "start").await?;
    let back_at = Instant::now();
    eprintln!("database started");
    let mut ready_after = None;
    while back_at.elapsed() < Duration::from_secs(30) {
        let ok = http(&bench.addr, "GET", "/readyz", &[], "")
            .await
            .is_ok_and(|a| a.status == 200);
        if ok {
            ready_after = Some(back_at.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(bench.after).await;
    shared.stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.await;
    }

    let samples = shared.samples.lock().map(|s| s.clone()).unwrap_or_default();
    let acknowledged = shared
        .acknowledged
        .lock()
        .map(|a| a.clone())
        .unwrap_or_default();
    let scans = shared.scans.lock().map(|s| s.clone()).unwrap_or_default();
    let mut report = FaultReport {
        pickups: Answers::of(&samples, 201, down_from, down_until, back_at),
        scans: (!scans.is_empty())
            .then(|| Answers::of(&scans, 200, down_from, down_until, back_at)),
        acknowledged: acknowledged.len(),
        refused: shared.refused.lock().map(|r| *r).unwrap_or_default(),
        readyz_down,
        ready_after,
        peak_kib: bench.server_pid.and_then(super::process_memory_kib),
        ..FaultReport::default()
    };
    let pattern = format!("fault-bench {run_id} %");
    report.found = sqlx::query_scalar("select count(*) from pickup where notes like $1")
        .bind(&pattern)
        .fetch_one(pool)
        .await?;
    report.duplicates = sqlx::query_scalar(
        "select coalesce(sum(n - 1), 0)::bigint from (select count(*) as n from pickup where notes like $1 group by notes) d",
    )
    .bind(&pattern)
    .fetch_one(pool)
    .await?;
    report.half_written = sqlx::query_scalar(
        "select count(*) from pickup p where notes like $1
            and not exists (select 1 from pickup_line l where l.customer_id = p.customer_id and l.pickup_id = p.pickup_id)",
    )
    .bind(&pattern)
    .fetch_one(pool)
    .await?;
    report.acknowledged_found_once = sqlx::query_scalar(
        "select count(*) from (select pickup_id from pickup where pickup_id = any($1) group by pickup_id having count(*) = 1) x",
    )
    .bind(&acknowledged)
    .fetch_one(pool)
    .await?;
    report.recorded_unacknowledged =
        report.found - report.duplicates - report.acknowledged_found_once;
    Ok(report)
}
