//! Staff accounts: administrators create, list, change roles, deactivate and reset passwords.

pub mod db;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::auth::{self, Admin, Authed};
use crate::domain::username::Username;
use crate::domain::Role;
use crate::error::{AppError, AppResult, FieldError, ResultExt};
use crate::extract::{Json, Path};
use crate::state::AppState;

/// A staff account as administrators see it (never the password hash).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StaffAccount {
    /// The account.
    pub staff_id: Uuid,
    /// Sign-in name, lower case.
    pub username: Username,
    /// Name shown to colleagues.
    pub display_name: String,
    /// What the account may do.
    pub role: Role,
    /// Deactivated accounts cannot sign in.
    pub active: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The staff administration routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_staff, create_staff))
        .routes(routes!(update_staff))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewStaff {
    username: String,
    display_name: Option<String>,
    role: Role,
    password: String,
}

async fn hash(state: &AppState, password: String) -> AppResult<String> {
    auth::with_hash_slot(state, move || auth::hash_password(&password))
        .await?
        .map_err(AppError::Internal)
}

fn username_taken(_: Box<dyn sqlx::error::DatabaseError>) -> AppError {
    AppError::conflict("username", "this username is taken")
}

/// Creates a staff account (admins).
#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", request_body = NewStaff, responses((status = 201, body = StaffAccount, links(("UpdateStaff" = (operation_id = "update_staff", parameters(("staff_id" = "$response.body#/staff_id"))))))))]
async fn create_staff(
    State(state): State<AppState>,
    Authed(_, _): Authed<Admin>,
    Json(req): Json<NewStaff>,
) -> AppResult<(StatusCode, Json<StaffAccount>)> {
    let mut errors = Vec::new();
    let username = Username::parse_for_person(&req.username)
        .map_err(|e| {
            errors.push(FieldError {
                field: "username".into(),
                message: e.to_string(),
            })
        })
        .ok();
    if let Err(m) = auth::check_password(&req.password) {
        errors.push(FieldError {
            field: "password".into(),
            message: m.into(),
        });
    }
    let display_name = req
        .display_name
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    crate::domain::check_len(&mut errors, "display_name", display_name.as_deref(), 100);
    let Some(username) = username.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let display_name = display_name.unwrap_or_else(|| username.to_string());
    let password_hash = hash(&state, req.password).await?;
    let account = db::insert_staff(
        &state.pool,
        &username,
        &display_name,
        req.role,
        &password_hash,
    )
    .await
    .on_constraint("staff_username_key", username_taken)?;
    tracing::info!(staff_id = %account.staff_id, "staff account created");
    Ok((StatusCode::CREATED, Json(account)))
}

/// Every staff account (admins).
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", responses((status = 200, body = Vec<StaffAccount>)))]
async fn list_staff(
    State(state): State<AppState>,
    Authed(_, _): Authed<Admin>,
) -> AppResult<Json<Vec<StaffAccount>>> {
    Ok(Json(db::list_staff(&state.pool).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct StaffPatch {
    display_name: Option<String>,
    role: Option<Role>,
    active: Option<bool>,
    password: Option<String>,
}

/// Changes a role, deactivates, or resets a password; the last two end the account's sessions.
#[utoipa::path(patch, path = "/api/v1/staff/{staff_id}", tag = "staff", params(("staff_id" = Uuid, Path)), request_body = StaffPatch, responses((status = 200, body = StaffAccount)))]
async fn update_staff(
    State(state): State<AppState>,
    Authed(me, _): Authed<Admin>,
    Path(staff_id): Path<Uuid>,
    Json(patch): Json<StaffPatch>,
) -> AppResult<Json<StaffAccount>> {
    if staff_id == me.staff_id {
        if patch.active == Some(false) {
            return Err(AppError::invalid(
                "active",
                "you cannot deactivate your own account",
            ));
        }
        if patch.role.is_some_and(|r| r != Role::Admin) {
            return Err(AppError::invalid(
                "role",
                "you cannot demote your own account",
            ));
        }
    }
    if let Some(Err(m)) = patch.password.as_deref().map(auth::check_password) {
        return Err(AppError::invalid("password", m));
    }
    let display_name = patch.display_name.as_deref().map(str::trim);
    if display_name.is_some_and(|d| d.is_empty() || d.chars().count() > 100) {
        return Err(AppError::invalid(
            "display_name",
            "a display name has 1 to 100 characters",
        ));
    }
    let password_hash = match patch.password {
        Some(p) => Some(hash(&state, p).await?),
        None => None,
    };
    let mut tx = state.pool.begin().await?;
    let current = db::fetch_staff_for_update(&mut *tx, staff_id)
        .await?
        .ok_or(AppError::NotFound("staff account"))?;
    if current.username.is_system() && (patch.active == Some(true) || password_hash.is_some()) {
        return Err(AppError::invalid(
            if password_hash.is_some() {
                "password"
            } else {
                "active"
            },
            "this account is kept by the system; nobody may sign in as it",
        ));
    }
    let active = patch.active.unwrap_or(current.active);
    let updated = db::update_staff(
        &mut *tx,
        staff_id,
        display_name.unwrap_or(&current.display_name),
        patch.role.unwrap_or(current.role),
        active,
    )
    .await?;
    if let Some(h) = &password_hash {
        db::set_password(&mut *tx, staff_id, h).await?;
    }
    if !active || password_hash.is_some() {
        auth::revoke_sessions(&mut *tx, staff_id).await?;
    }
    tx.commit().await?;
    state.sessions.forget_all();
    Ok(Json(updated))
}
