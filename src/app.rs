//! The composition root: the router that merges every feature, its tower layers, and serving with graceful shutdown.

use std::future::Future;
use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::AppError;
use crate::state::AppState;
use crate::{
    auth, calendar, campaigns, customers, garments, interactions, labels, lists, pickups, prices,
    profile, scans, staff, storage, web,
};

/// The API routes, each with its place in the OpenAPI document: a route is added here through `routes!` on an
/// annotated handler, so the router and the document cannot drift apart.
pub fn api(settings: &crate::state::Settings) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(crate::observe::metrics))
        .routes(routes!(crate::openapi::document))
        .merge(auth::router())
        .merge(crate::access::router())
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
        .merge(scans::router(settings))
}

/// The API's OpenAPI document, finished (security, errors, title).
pub fn api_document(settings: &crate::state::Settings) -> utoipa::openapi::OpenApi {
    crate::openapi::finish(api(settings).into_openapi())
}

/// The whole HTTP service: the API, its document and docs page, and the staff web app.
pub fn router(state: AppState) -> Router {
    let timeout = state.settings.request_timeout;
    let (api, doc) = api(&state.settings).split_for_parts();
    let document = crate::openapi::Document::new(&crate::openapi::finish(doc));
    Router::new()
        .merge(api.layer(api_compression()))
        .merge(crate::openapi::docs_page())
        .merge(web::router())
        .fallback(|| async { AppError::NotFound("route") })
        .method_not_allowed_fallback(|| async {
            AppError::problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed", "this route does not take that method")
        })
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(axum::middleware::map_response(problem_for_bare_errors))
        .layer(
            // Spans name the matched route and the request id, never the raw path or query: those can hold
            // personal data.
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str());
                let request_id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                tracing::info_span!("request", request_id, method = %req.method(), route, staff_id = tracing::field::Empty)
            })
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_answer))
        .layer(axum::middleware::from_fn(request_context))
        .layer(axum::Extension(document))
        .with_state(state)
}

/// API answers compressed for clients that ask (the staff app's browser always does): a door card is 12-18 KB
/// of JSON, a fifth of that gzipped, which a phone on a poor mobile network feels. The fastest level keeps the
/// server's cost small; PDFs are compressed inside already, and problems are small and finished outside this
/// layer (`with_instance`).
fn api_compression(
) -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{NotForContentType, Predicate};
    use tower_http::compression::{CompressionLayer, CompressionLevel, DefaultPredicate};
    CompressionLayer::new()
        .quality(CompressionLevel::Fastest)
        .compress_when(
            DefaultPredicate::new()
                .and(NotForContentType::const_new("application/pdf"))
                .and(NotForContentType::const_new("application/problem+json")),
        )
}

/// A handler that panicked answers 500 problem+json (and the panic is logged) instead of dropping the connection.
fn panic_answer(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    AppError::problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
        "the request failed on the server; it has been logged",
    )
    .into_response()
}

/// The header that carries a request's id, accepted from the client or made here.
pub const REQUEST_ID: &str = "x-request-id";

/// A client's request id is kept when it is 1-64 characters of letters, digits, `-`, `_`, `.` or `:`.
fn acceptable_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// Gives every request an id (the client's `x-request-id` when acceptable, else a new UUID), answers it in the
/// same header and in every problem+json's `instance`, and counts the request by route and status.
async fn request_context(mut req: Request, next: axum::middleware::Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_request_id(v))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let value = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid"));
    req.headers_mut().insert(REQUEST_ID, value.clone());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().clone();
    let lang = crate::i18n::asked(req.headers());
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    crate::observe::request_done(&method, &route, response.status(), started.elapsed());
    let mut response = with_instance(response, &id, lang).await;
    response.headers_mut().insert(REQUEST_ID, value);
    response
}

/// Adds `instance: urn:doorstep:request:<id>` to a problem+json body, so a user's report names the request, and
/// words it (title, detail, hint, each field's message) in the language the request asked for where the catalogue
/// has the words (`in_language`).
async fn with_instance(response: Response, id: &str, lang: Option<crate::i18n::Lang>) -> Response {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !is_problem {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut map)) => {
            map.insert(
                "instance".to_owned(),
                serde_json::Value::String(format!("urn:doorstep:request:{id}")),
            );
            // The server's own words are the English.
            if let Some(lang) = lang.filter(|l| *l != crate::i18n::Lang::En) {
                in_language(&mut map, lang);
            }
            parts.headers.remove(header::CONTENT_LENGTH);
            serde_json::to_vec(&map).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Words a problem in `lang` where the catalogue has it: its title by its type (`problem.<slug>`), its detail,
/// hint and each field's message as refusals (`i18n::refusal`); the rest stays as the server wrote it.
fn in_language(problem: &mut serde_json::Map<String, serde_json::Value>, lang: crate::i18n::Lang) {
    use serde_json::Value;
    let say = |v: &mut Value| {
        if let Some(text) = v.as_str().and_then(|m| crate::i18n::refusal(lang, m)) {
            *v = Value::String(text);
        }
    };
    let slug = problem
        .get("type")
        .and_then(Value::as_str)
        .and_then(|t| t.strip_prefix("urn:doorstep:problem:"))
        .map(str::to_owned);
    if let Some(title) = slug.and_then(|s| crate::i18n::get(lang, &format!("problem.{s}"))) {
        problem.insert("title".to_owned(), Value::String(title.to_owned()));
    }
    for key in ["detail", "hint"] {
        if let Some(v) = problem.get_mut(key) {
            say(v);
        }
    }
    if let Some(Value::Array(errors)) = problem.get_mut("errors") {
        for e in errors.iter_mut() {
            if let Some(v) = e.get_mut("message") {
                say(v);
            }
        }
        // A single bad field is also the detail, as "field: message".
        if let [one] = errors.as_slice() {
            if let (Some(field), Some(message)) = (one["field"].as_str(), one["message"].as_str()) {
                let detail = Value::String(format!("{field}: {message}"));
                problem.insert("detail".to_owned(), detail);
            }
        }
    }
}

/// Turns the bare error answers of layers and extractors Doorstep does not own (body too large, timeouts, ...)
/// into problem+json, keeping the headers that tell the client what to do next.
async fn problem_for_bare_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/problem+json")
        || content_type.starts_with("application/json")
        || content_type.starts_with("text/html")
    {
        return response;
    }
    let (slug, title, detail) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload-too-large",
            "Body too large",
            "the request body is larger than this route accepts",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "timeout",
            "Request timed out",
            "the request took too long; try again",
        ),
        _ => (
            "http-error",
            status.canonical_reason().unwrap_or("Error"),
            "the request could not be handled",
        ),
    };
    let mut problem = AppError::problem(status, slug, title, detail);
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        problem = problem.with_field("body");
    }
    let mut answer = problem.into_response();
    for name in [header::RETRY_AFTER, header::ALLOW, header::WWW_AUTHENTICATE] {
        if let Some(v) = response.headers().get(&name) {
            answer.headers_mut().insert(name, v.clone());
        }
    }
    answer
}

/// `GET /healthz`: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, body = String, content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers too (503 with `Retry-After` when it does not).
#[utoipa::path(get, path = "/readyz", tag = "service", responses((status = 200, body = String, content_type = "text/plain")))]
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
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
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
