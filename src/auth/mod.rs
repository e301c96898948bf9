//! Staff sign-in: argon2 password hashes, revocable server-side sessions, and role-checking extractors.

pub mod cache;
pub mod db;
pub mod throttle;

use std::marker::PhantomData;
use std::sync::Arc;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub use cache::SessionCache;

use crate::domain::Role;
use crate::error::{AppError, AppResult};
use crate::extract::Json;
use crate::state::AppState;

/// The signed-in member of staff behind a request.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Staff {
    pub(crate) staff_id: Uuid,
    pub(crate) username: String,
    pub(crate) display_name: String,
    pub(crate) role: Role,
}

/// A role a route needs, as a type, so the requirement is visible in the handler's signature.
pub trait RoleNeeded: Send + Sync {
    /// The lowest role that may pass.
    const ROLE: Role;
}

/// Any signed-in staff member (pickup workers and up).
pub struct AnyStaff;
/// Dispatchers and up.
pub struct Dispatcher;
/// Managers and up.
pub struct Manager;
/// Administrators only.
pub struct Admin;

impl RoleNeeded for AnyStaff {
    const ROLE: Role = Role::Pickup;
}
impl RoleNeeded for Dispatcher {
    const ROLE: Role = Role::Dispatcher;
}
impl RoleNeeded for Manager {
    const ROLE: Role = Role::Manager;
}
impl RoleNeeded for Admin {
    const ROLE: Role = Role::Admin;
}

/// Extractor: the caller, once their session and role are checked (401 without a session, 403 below `R`).
pub struct Authed<R: RoleNeeded>(pub Staff, pub PhantomData<R>);

/// The browser session cookie; it carries the same token a bearer client sends.
pub const SESSION_COOKIE: &str = "doorstep_session";
/// The header a cookie-authenticated write must carry, echoing its session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the session token reached us: API clients send a bearer token, browsers a cookie (and then writes need
/// the session's CSRF token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// `Authorization: Bearer`.
    Bearer,
    /// The `doorstep_session` cookie.
    Cookie,
}

/// A live session: who, and its CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    /// The signed-in staff member.
    pub staff: Staff,
    /// The token a cookie-authenticated write must echo.
    pub csrf_token: String,
    /// How the token came.
    pub carrier: Carrier,
}

fn session_token(parts: &Parts) -> Option<(String, Carrier)> {
    if let Some(t) = bearer_token(parts) {
        return Some((t.to_owned(), Carrier::Bearer));
    }
    cookie_value(&parts.headers, SESSION_COOKIE)
        .filter(|t| !t.is_empty())
        .map(|t| (t.to_owned(), Carrier::Cookie))
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Compares secrets in time that does not depend on where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn csrf_refused() -> AppError {
    AppError::problem(
        StatusCode::FORBIDDEN,
        "csrf",
        "Missing or wrong CSRF token",
        "a change made with a browser session must carry the session's token in `X-CSRF-Token`; reload the page",
    )
    .with_field(CSRF_HEADER)
}

/// The session behind a request; a cookie-carried write must echo the session's CSRF token.
pub async fn authenticate(
    pool: &PgPool,
    sessions: &SessionCache,
    parts: &Parts,
) -> AppResult<Session> {
    let (token, carrier) = session_token(parts).ok_or(AppError::Unauthorized)?;
    let hash = token_hash(&token);
    let (staff, csrf_token) = match sessions.get(&hash) {
        Some(known) => known,
        None => {
            let epoch = sessions.epoch();
            let (staff, csrf_token, expires_at) = db::live_session(pool, &hash)
                .await?
                .ok_or(AppError::Unauthorized)?;
            sessions.put(epoch, &hash, &staff, &csrf_token, expires_at);
            (staff, csrf_token)
        }
    };
    if carrier == Carrier::Cookie && !parts.method.is_safe() {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !same_secret(sent, csrf_token.as_bytes()) {
            return Err(csrf_refused());
        }
    }
    Ok(Session {
        staff,
        csrf_token,
        carrier,
    })
}

impl<S, R> FromRequestParts<S> for Authed<R>
where
    S: Send + Sync,
    PgPool: FromRef<S>,
    Arc<SessionCache>: FromRef<S>,
    R: RoleNeeded,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let pool = PgPool::from_ref(state);
        let sessions = Arc::<SessionCache>::from_ref(state);
        let staff = authenticate(&pool, &sessions, parts).await?.staff;
        if !staff.role.at_least(R::ROLE) {
            return Err(AppError::Forbidden { needed: R::ROLE });
        }
        tracing::Span::current().record("staff_id", tracing::field::display(staff.staff_id));
        Ok(Authed(staff, PhantomData))
    }
}

/// The session of a browser page request (its cookie), if it is live.
pub async fn cookie_session(pool: &PgPool, headers: &HeaderMap) -> AppResult<Option<Session>> {
    let Some(token) = cookie_value(headers, SESSION_COOKIE).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    Ok(db::live_session(pool, &token_hash(token))
        .await?
        .map(|(staff, csrf_token, _)| Session {
            staff,
            csrf_token,
            carrier: Carrier::Cookie,
        }))
}

/// Ends the browser session of `headers` when `csrf` is its token; a missing or dead session is already out.
pub async fn cookie_logout(pool: &PgPool, headers: &HeaderMap, csrf: &str) -> AppResult<()> {
    let Some(token) = cookie_value(headers, SESSION_COOKIE).filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    let hash = token_hash(token);
    let Some((_, expected, _)) = db::live_session(pool, &hash).await? else {
        return Ok(());
    };
    if !same_secret(csrf.as_bytes(), expected.as_bytes()) {
        return Err(csrf_refused());
    }
    db::revoke_session(pool, &hash).await?;
    Ok(())
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Hashes a password with argon2id and a random salt (slow on purpose: call off the async runtime).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Rules every new password must meet.
pub fn check_password(password: &str) -> Result<(), &'static str> {
    match password.chars().count() {
        n if n < 10 => Err("a password needs at least 10 characters"),
        n if n > 200 => Err("a password may have at most 200 characters"),
        _ => Ok(()),
    }
}

/// A random password for accounts created from the command line.
pub fn generate_password() -> String {
    let mut bytes = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The sign-in routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct LoginResponse {
    token: String,
    expires_at: DateTime<Utc>,
    staff: Staff,
}

/// A staff member with their password hash, for sign-in only.
pub struct Credentials {
    staff: Staff,
    password_hash: String,
}

/// A hash to verify against when the username is unknown, so timing does not reveal which usernames exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$JtC1hBzWrPDw8GvZ2rOsqGqP3eB4u3jwYyeVZlB3bQs";

/// A session just opened.
pub struct NewSession {
    /// The secret token (bearer or cookie value); only its hash is stored.
    pub token: String,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
    /// Who signed in.
    pub staff: Staff,
}

fn random_hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

/// Runs a password hash or check off the async runtime, at most `Settings::max_concurrent_hashes` at once: argon2
/// is slow on purpose, and unbounded it would let sign-in tries starve the blocking pool. Waits up to 5 s for a
/// slot, then answers 503.
pub async fn with_hash_slot<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> T + Send + 'static,
) -> AppResult<T> {
    let permit = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        state.hashers.clone().acquire_owned(),
    )
    .await
    .ok()
    .and_then(Result::ok)
    .ok_or_else(|| {
        AppError::problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "Busy",
            "too many sign-ins at once; try again in a moment",
        )
        .with_retry_after(1)
    })?;
    tokio::task::spawn_blocking(move || {
        let answer = work();
        drop(permit);
        answer
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))
}

/// The client's network address: the socket's peer, or with `--trust-forwarded-for` the last address a proxy
/// appended to `X-Forwarded-For`.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl<S> FromRequestParts<S> for ClientAddr
where
    S: Send + Sync,
    std::sync::Arc<crate::state::Settings>: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let settings = std::sync::Arc::<crate::state::Settings>::from_ref(state);
        Ok(ClientAddr(client_addr(parts, settings.trust_forwarded_for)))
    }
}

fn client_addr(parts: &Parts, trust_forwarded_for: bool) -> String {
    let forwarded = trust_forwarded_for
        .then(|| {
            parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter_map(|a| a.parse::<std::net::IpAddr>().ok())
                .next_back()
        })
        .flatten();
    forwarded
        .or_else(|| {
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip())
        })
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

fn too_many_tries(wait_secs: u64) -> AppError {
    AppError::problem(
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-sign-ins",
        "Too many sign-in attempts",
        format!("too many failed sign-ins; try again in {wait_secs} seconds"),
    )
    .with_field("password")
    .with_retry_after(wait_secs)
}

/// Counts this try against the username and the address (row-locked, so parallel tries count one by one), or
/// refuses it while either must still wait.
async fn count_try(state: &AppState, username: &str, address: &str) -> AppResult<()> {
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
    let subjects = [
        (throttle::PER_USERNAME, username),
        (throttle::PER_ADDRESS, address),
    ];
    let mut rows = Vec::with_capacity(2);
    let mut wait = chrono::Duration::zero();
    for (policy, subject) in subjects {
        let row = db::lock_throttle(&mut tx, policy.scope, subject).await?;
        if let Some(until) = row.locked_until {
            wait = wait.max(until - now);
        }
        rows.push((policy, subject, row));
    }
    if wait > chrono::Duration::zero() {
        tx.rollback().await?;
        db::record_sign_in(&state.pool, username, None, address, "throttled").await?;
        let secs = (wait.num_milliseconds() + 999) / 1000;
        return Err(too_many_tries(secs.max(1) as u64));
    }
    let window = chrono::Duration::from_std(throttle::WINDOW).unwrap_or(chrono::Duration::hours(1));
    for (policy, subject, row) in rows {
        let failures = if row.last_try_at < now - window {
            1
        } else {
            row.failures.saturating_add(1)
        };
        let wait = policy.wait_after(failures.max(0) as u32);
        let until = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
        db::set_throttle(&mut *tx, policy.scope, subject, failures, until).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Checks a username and password and opens a session (the same for API clients and browsers). Tries are
/// throttled per username and per client address, and every try is recorded.
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
    address: &str,
) -> AppResult<NewSession> {
    crate::extract::check_text("username", username)?;
    crate::extract::check_text("password", password)?;
    let username: String = username.trim().to_lowercase().chars().take(64).collect();
    count_try(state, &username, address).await?;
    let creds = db::credentials(&state.pool, &username).await?;
    let hash = creds
        .as_ref()
        .map_or(DUMMY_HASH.to_owned(), |c| c.password_hash.clone());
    let password = password.to_owned();
    let ok = with_hash_slot(state, move || verify_password(&password, &hash)).await?;
    let Some(creds) = creds.filter(|_| ok) else {
        db::record_sign_in(&state.pool, &username, None, address, "bad_credentials").await?;
        return Err(AppError::problem(
            StatusCode::UNAUTHORIZED,
            "bad-credentials",
            "Sign-in failed",
            "unknown username or wrong password",
        )
        .with_field("password"));
    };
    // The throttle forgiven, the try recorded and the session opened together: never an "ok" without a session.
    let mut tx = state.pool.begin().await?;
    db::forgive_throttle(&mut *tx, &username, address).await?;
    db::record_sign_in(
        &mut *tx,
        &username,
        Some(creds.staff.staff_id),
        address,
        "ok",
    )
    .await?;
    let token = random_hex(32);
    let expires_at = Utc::now() + state.settings.session_ttl;
    db::insert_session(
        &mut *tx,
        &token_hash(&token),
        creds.staff.staff_id,
        expires_at,
        &random_hex(24),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(staff_id = %creds.staff.staff_id, "signed in");
    Ok(NewSession {
        token,
        expires_at,
        staff: creds.staff,
    })
}

/// Signs in with a username and password and answers a bearer token (throttled per username and address).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse)))]
#[tracing::instrument(skip_all)]
async fn login(
    axum::extract::State(state): axum::extract::State<AppState>,
    ClientAddr(address): ClientAddr,
    Json(req): Json<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let s = sign_in(&state, &req.username, &req.password, &address).await?;
    Ok(Json(LoginResponse {
        token: s.token,
        expires_at: s.expires_at,
        staff: s.staff,
    }))
}

/// Ends the session of the bearer token sent.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
async fn logout(
    axum::extract::State(state): axum::extract::State<AppState>,
    parts: BearerToken,
) -> AppResult<StatusCode> {
    let token = parts.0.ok_or(AppError::Unauthorized)?;
    let revoked = db::revoke_session(&state.pool, &token_hash(&token)).await?;
    state.sessions.forget_all();
    if !revoked {
        return Err(AppError::Unauthorized);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The raw bearer token, for logout.
struct BearerToken(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(BearerToken(bearer_token(parts).map(str::to_owned)))
    }
}

/// Who is signed in; a browser session also learns its CSRF token and the company's UTC offset.
#[derive(Serialize, utoipa::ToSchema)]
struct Me {
    #[serde(flatten)]
    staff: Staff,
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
    utc_offset_minutes: i32,
}

/// Who is signed in.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = Me)))]
async fn me(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> AppResult<Json<Me>> {
    let (parts, _) = request.into_parts();
    let session = authenticate(&state.pool, &state.sessions, &parts).await?;
    Ok(Json(Me {
        staff: session.staff,
        csrf_token: (session.carrier == Carrier::Cookie).then_some(session.csrf_token),
        utc_offset_minutes: state.settings.clock.offset.local_minus_utc() / 60,
    }))
}

pub use db::revoke_sessions;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_dummy_hash_parses() {
        let hash = hash_password("correct horse battery").expect("test data");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("anything", DUMMY_HASH));
    }

    #[test]
    fn password_rules() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough pass").is_ok());
    }
}
