//! The composition root: the router that merges every feature, its tower layers, and serving with graceful shutdown.

use std::future::Future;
use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::error::AppError;
use crate::state::AppState;
use crate::{
    auth, calendar, campaigns, customers, garments, interactions, labels, lists, pickups, prices,
    profile, scans, staff, storage, web,
};

/// The whole HTTP API.
pub fn router(state: AppState) -> Router {
    let timeout = state.settings.request_timeout;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(auth::router())
        .merge(staff::router())
        .merge(customers::router())
        .merge(profile::router())
        .merge(garments::router())
        .merge(interactions::router())
        .merge(labels::router())
        .merge(calendar::router())
        .merge(lists::router())
        .merge(campaigns::router())
        .merge(crate::forecasts::api::router())
        .merge(storage::router())
        .merge(pickups::router())
        .merge(prices::router())
        .merge(web::router())
        .merge(scans::router(&state.settings))
        .fallback(|| async { AppError::NotFound("route") })
        .method_not_allowed_fallback(|| async {
            AppError::problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed", "this route does not take that method")
        })
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(
            // Spans name the matched route, never the raw path or query: those can hold personal data.
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str());
                tracing::info_span!("request", method = %req.method(), route, staff_id = tracing::field::Empty)
            })
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(
    axum::extract::State(pool): axum::extract::State<PgPool>,
) -> Result<&'static str, AppError> {
    match tokio::time::timeout(Duration::from_secs(2), crate::db::ping(&pool)).await {
        Ok(Ok(_)) => Ok("ready"),
        _ => Err(AppError::problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            "Not ready",
            "the database does not answer",
        )
        .with_retry_after(5)),
    }
}

/// Serves until `shutdown` completes, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: draining requests");
}
