//! Staff sign-in: argon2 password hashes, revocable server-side sessions, and role-checking extractors.

pub mod db;

use std::marker::PhantomData;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::Role;
use crate::error::{AppError, AppResult};
use crate::extract::Json;
use crate::state::AppState;

/// The signed-in member of staff behind a request.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
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

impl<S, R> FromRequestParts<S> for Authed<R>
where
    S: Send + Sync,
    PgPool: FromRef<S>,
    R: RoleNeeded,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or(AppError::Unauthorized)?;
        let pool = PgPool::from_ref(state);
        let staff = db::staff_for_token(&pool, &token_hash(token))
            .await?
            .ok_or(AppError::Unauthorized)?;
        if !staff.role.at_least(R::ROLE) {
            return Err(AppError::Forbidden { needed: R::ROLE });
        }
        tracing::Span::current().record("staff_id", tracing::field::display(staff.staff_id));
        Ok(Authed(staff, PhantomData))
    }
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
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
}

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize)]
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

#[tracing::instrument(skip_all)]
async fn login(
    axum::extract::State(state): axum::extract::State<AppState>,
    Json(req): Json<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let creds = db::credentials(&state.pool, &req.username.trim().to_lowercase()).await?;
    let hash = creds
        .as_ref()
        .map_or(DUMMY_HASH.to_owned(), |c| c.password_hash.clone());
    let password = req.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let Some(creds) = creds.filter(|_| ok) else {
        return Err(AppError::problem(
            StatusCode::UNAUTHORIZED,
            "bad-credentials",
            "Sign-in failed",
            "unknown username or wrong password",
        )
        .with_field("password"));
    };
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let expires_at = Utc::now() + state.settings.session_ttl;
    db::insert_session(
        &state.pool,
        &token_hash(&token),
        creds.staff.staff_id,
        expires_at,
    )
    .await?;
    tracing::info!(staff_id = %creds.staff.staff_id, "signed in");
    Ok(Json(LoginResponse {
        token,
        expires_at,
        staff: creds.staff,
    }))
}

async fn logout(
    axum::extract::State(state): axum::extract::State<AppState>,
    parts: BearerToken,
) -> AppResult<StatusCode> {
    let token = parts.0.ok_or(AppError::Unauthorized)?;
    let revoked = db::revoke_session(&state.pool, &token_hash(&token)).await?;
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

async fn me(Authed(staff, _): Authed<AnyStaff>) -> Json<Staff> {
    Json(staff)
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
