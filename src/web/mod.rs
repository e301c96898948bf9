//! The staff web app: its pages, embedded assets, browser sign-in and language; nothing else knows it exists.

pub mod assets;
pub mod pages;

use axum::body::Body;
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use uuid::Uuid;

use crate::auth::{self, SESSION_COOKIE};
use crate::error::{AppError, AppResult};
use crate::extract::Path;
use crate::i18n::{text, Lang, LANG_COOKIE};
use crate::state::AppState;

/// Scripts, styles and connections only from this origin; no inline code, no framing, no plugins.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
media-src 'self' blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; font-src 'self'; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The app's routes, with its security headers and compression.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/app/") }))
        .route("/app", get(|| async { Redirect::to("/app/") }))
        .route("/app/", get(shell))
        .route("/app/login", get(login_page).post(login))
        .route("/app/logout", post(logout))
        .route("/app/assets/{version}/{*path}", get(asset))
        .route("/app/sw.js", get(service_worker))
        .route("/app/manifest.webmanifest", get(manifest))
        .route("/app/receipt/{customer_id}/{pickup_id}", get(receipt_page))
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(self), microphone=(), geolocation=()"),
        ))
}

/// A cookie's value from the request, if it was sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The language of a page: the remembered choice, else the browser's preference, else Chinese.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    crate::i18n::from_headers(headers)
}

fn html(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn shell(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    if auth::cookie_session(&state.pool, &headers).await?.is_none() {
        return Ok(Redirect::to("/app/login").into_response());
    }
    Ok(html(pages::shell(lang_of(&headers))))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct LangQuery {
    lang: Option<String>,
}

async fn login_page(headers: HeaderMap, Query(q): Query<LangQuery>) -> Response {
    match q.lang.as_deref().and_then(Lang::from_tag) {
        Some(lang) => {
            let mut r = html(pages::login(lang, "", None));
            if let Ok(v) = HeaderValue::from_str(&lang_cookie(lang)) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        None => html(pages::login(lang_of(&headers), "", None)),
    }
}

fn lang_cookie(lang: Lang) -> String {
    format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Strict",
        lang.tag()
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
struct LoginForm {
    username: String,
    password: String,
}

/// Whether the browser reached us over TLS (directly or through a proxy that says so).
fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.settings.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// Refuses a form posted from another site (the cookie is `SameSite=Strict` too; this covers old browsers).
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest == host)
}

async fn login(
    State(state): State<AppState>,
    auth::ClientAddr(address): auth::ClientAddr,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> AppResult<Response> {
    let lang = lang_of(&headers);
    let Ok(Form(form)) = form else {
        return Ok(html(pages::login(
            lang,
            "",
            Some(text(lang, "login.failed")),
        )));
    };
    if !same_origin(&headers) {
        return Err(AppError::problem(
            StatusCode::FORBIDDEN,
            "cross-site",
            "Cross-site request",
            "sign in from Doorstep's own page",
        ));
    }
    let session = match auth::sign_in(&state, &form.username, &form.password, &address).await {
        Ok(s) => s,
        Err(AppError::Problem(p)) if p.status == StatusCode::UNAUTHORIZED => {
            let mut r = html(pages::login(
                lang,
                &form.username,
                Some(text(lang, "login.failed")),
            ));
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            return Ok(r);
        }
        Err(AppError::Problem(p)) if p.status == StatusCode::TOO_MANY_REQUESTS => {
            let mut r = html(pages::login(
                lang,
                &form.username,
                Some(text(lang, "login.throttled")),
            ));
            *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            if let Some(secs) = p.retry_after {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            return Ok(r);
        }
        Err(e) => return Err(e),
    };
    let max_age = state.settings.session_ttl.num_seconds().max(60);
    let secure = if secure(&state, &headers) {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}",
        session.token
    );
    let mut r = Redirect::to("/app/").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| AppError::Internal(e.into()))?,
    );
    Ok(r)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct LogoutForm {
    csrf_token: Option<String>,
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, axum::extract::rejection::FormRejection>,
) -> AppResult<Response> {
    let csrf = form
        .ok()
        .and_then(|Form(f)| f.csrf_token)
        .unwrap_or_default();
    auth::cookie_logout(&state.pool, &headers, &csrf).await?;
    state.sessions.forget_all();
    let mut r = Redirect::to("/app/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("doorstep_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"),
    );
    Ok(r)
}

async fn asset(Path((version, path)): Path<(String, String)>) -> Response {
    match assets::find(&path) {
        Some(a) => {
            let cache = if version == *assets::VERSION {
                "public, max-age=31536000, immutable"
            } else {
                // An old page asking for an old version gets today's file, not kept for long.
                "no-cache"
            };
            (
                [
                    (header::CONTENT_TYPE, a.content_type),
                    (header::CACHE_CONTROL, cache),
                ],
                Body::from(a.bytes),
            )
                .into_response()
        }
        None => AppError::NotFound("asset").into_response(),
    }
}

async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        pages::service_worker(),
    )
        .into_response()
}

async fn manifest(headers: HeaderMap) -> Response {
    (
        [(header::CONTENT_TYPE, "application/manifest+json")],
        pages::manifest(lang_of(&headers)),
    )
        .into_response()
}

async fn receipt_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((customer_id, pickup_id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    if auth::cookie_session(&state.pool, &headers).await?.is_none() {
        return Ok(Redirect::to("/app/login").into_response());
    }
    let lang = lang_of(&headers);
    let receipt = crate::pickups::receipt::load(&state, customer_id, pickup_id)
        .await?
        .ok_or(AppError::NotFound("pickup"))?;
    let body = crate::pickups::receipt::html_body(&receipt, lang);
    let title = format!(
        "{} · {}",
        text(lang, "receipt.title"),
        receipt.customer_name
    );
    let pdf = format!(
        "/api/v1/customers/{customer_id}/pickups/{pickup_id}/receipt.pdf?lang={}",
        lang.tag()
    );
    Ok(html(pages::printable(lang, &title, &body, &pdf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; doorstep_lang=en; doorstep_session=abc"),
        );
        assert_eq!(cookie(&h, LANG_COOKIE), Some("en"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
    }
}
