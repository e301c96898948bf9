//! Prometheus metrics: requests by route and status with latency, photo decodes, database pool use, list and
//! forecast durations; rendered at `/metrics` for loopback callers or holders of the metrics token.

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::error::AppError;
use crate::state::AppState;

/// Latency buckets, in seconds: from a cached page to a request timeout.
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide Prometheus recorder (once; later calls return the same handle).
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .clone()
}

/// How often recorded latencies are folded into their buckets. Until then the exporter keeps each sample (8
/// bytes a request), so a server nobody scrapes would grow without end.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Folds the recorded latencies into their buckets every few seconds: `install_recorder` leaves that to its
/// caller. Ends with the runtime.
pub fn spawn_upkeep() -> Option<tokio::task::JoinHandle<()>> {
    let handle = install()?;
    Some(tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            handle.run_upkeep();
        }
    }))
}

/// A request's method as a label: the standard ones by name, any other as `other`. A client may send any token
/// as a method, and each new label would be a new series kept for good.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts a finished request by matched route (never the raw path) and status, with its latency; list routes
/// also feed the list durations.
pub fn request_done(method: &Method, route: &str, status: StatusCode, took: Duration) {
    let secs = took.as_secs_f64();
    let method = method_label(method);
    counter!(
        "doorstep_http_requests_total",
        "method" => method,
        "route" => route.to_owned(),
        "status" => status.as_u16().to_string()
    )
    .increment(1);
    histogram!(
        "doorstep_http_request_duration_seconds",
        "method" => method,
        "route" => route.to_owned()
    )
    .record(secs);
    if let Some(list) = route.strip_prefix("/api/v1/lists/") {
        histogram!("doorstep_list_duration_seconds", "list" => list.to_owned()).record(secs);
    }
}

/// A photo decode's outcome (`found`, `no_barcode`, `timed_out`, `not_an_image`, `too_large`, `busy`) and time.
pub fn decode_done(outcome: &'static str, took: Duration) {
    counter!("doorstep_decodes_total", "outcome" => outcome).increment(1);
    histogram!("doorstep_decode_duration_seconds", "outcome" => outcome).record(took.as_secs_f64());
}

/// Photos admitted to the decoder (decoding or waiting).
pub fn decode_queue(depth: usize) {
    gauge!("doorstep_decode_queue_depth").set(depth as f64);
}

/// One forecast computed (cache misses only).
pub fn forecast_done(kind: &'static str, took: Duration) {
    histogram!("doorstep_forecast_duration_seconds", "forecast" => kind).record(took.as_secs_f64());
}

/// Whether a caller may read the metrics: from the machine itself, or with `Authorization: Bearer <token>`
/// when `--metrics-token` is set.
fn may_read(state: &AppState, peer: Option<std::net::SocketAddr>, headers: &HeaderMap) -> bool {
    if peer.is_some_and(|p| p.ip().is_loopback()) && !state.settings.trust_forwarded_for {
        return true;
    }
    let Some(token) = state.settings.metrics_token.as_deref() else {
        return false;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| {
            t.len() == token.len()
                && t.bytes()
                    .zip(token.bytes())
                    .fold(0u8, |a, (x, y)| a | (x ^ y))
                    == 0
        })
}

/// Totals of every committed `doorstep import` (it runs outside the service, so its rows are read from the
/// database at each scrape); a database error leaves the last values.
async fn import_rows(pool: &sqlx::PgPool) {
    let rows: Result<Vec<(String, i64, i64, i64)>, _> = sqlx::query_as(
        "select file, sum(inserted)::bigint, sum(already_imported)::bigint, sum(rejected)::bigint
           from import_run group by file",
    )
    .fetch_all(pool)
    .await;
    for (file, inserted, already, rejected) in rows.unwrap_or_default() {
        for (outcome, n) in [
            ("inserted", inserted),
            ("already_imported", already),
            ("rejected", rejected),
        ] {
            counter!("doorstep_import_rows_total", "file" => file.clone(), "outcome" => outcome)
                .absolute(u64::try_from(n).unwrap_or(0));
        }
    }
}

/// `GET /metrics`: the Prometheus text format, to the machine itself or with the metrics token.
#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    if !may_read(&state, peer, request.headers()) {
        return AppError::problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not allowed",
            "metrics are served to the machine itself or with the metrics token",
        )
        .into_response();
    }
    let Some(handle) = install() else {
        return AppError::Internal(anyhow::anyhow!("no metrics recorder")).into_response();
    };
    let pool = &state.pool;
    gauge!("doorstep_db_pool_connections").set(f64::from(pool.size()));
    gauge!("doorstep_db_pool_in_use").set(pool.size() as f64 - pool.num_idle() as f64);
    gauge!("doorstep_decode_queue_depth").set(state.decoder.admitted() as f64);
    import_rows(pool).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}
