//! The calendar's routes: read a year's windows, and managers' changes to kinds and yearly dates.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{day_in, db, Calendar, SeasonWindow, WindowKind};
use crate::auth::{AnyStaff, Authed, Manager};
use crate::domain::SeasonClass;
use crate::error::{AppError, AppResult, FieldError, ResultExt};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

/// The calendar routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show_calendar))
        .routes(routes!(put_kind, delete_kind))
        .routes(routes!(put_override, delete_override))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct YearParams {
    year: Option<i32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct CalendarView {
    year: i32,
    windows: Vec<SeasonWindow>,
    kinds: Vec<WindowKind>,
}

/// The season calendar of a year: window kinds and that year's windows.
#[utoipa::path(get, path = "/api/v1/season-calendar", tag = "season calendar", params(YearParams), responses((status = 200, body = CalendarView)))]
async fn show_calendar(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Query(params): Query<YearParams>,
) -> AppResult<Json<CalendarView>> {
    let year = params
        .year
        .unwrap_or_else(|| state.settings.clock.today().year());
    if !(2000..=2200).contains(&year) {
        return Err(AppError::invalid("year", "a year between 2000 and 2200"));
    }
    let cal = Calendar::load(&state.pool).await?;
    Ok(Json(CalendarView {
        year,
        windows: cal.year(year),
        kinds: cal.kinds,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct KindRequest {
    name: String,
    outgoing: SeasonClass,
    /// `MM-DD`
    start: String,
    /// `MM-DD`, inclusive; before `start` means the window runs into the next year.
    end: String,
}

fn month_day(errors: &mut Vec<FieldError>, field: &str, value: &str) -> (i16, i16) {
    let parsed = value
        .split_once('-')
        .and_then(|(m, d)| Some((m.parse::<i16>().ok()?, d.parse::<i16>().ok()?)))
        .filter(|&(m, d)| day_in(2024, m, d).is_some_and(|date| date.day() as i16 == d));
    parsed.unwrap_or_else(|| {
        errors.push(FieldError {
            field: field.to_owned(),
            message: "a month and day as MM-DD, e.g. 03-15".to_owned(),
        });
        (1, 1)
    })
}

/// Creates or changes a window kind and its default dates. With `If-None-Match: *` it only creates: a kind of that
/// id already there is 412 (two managers adding kinds at once never overwrite one another).
#[utoipa::path(put, path = "/api/v1/season-calendar/kinds/{kind}", tag = "season calendar", params(("kind" = String, Path), ("If-None-Match" = Option<String>, Header, description = "`*`: create only")), request_body = KindRequest, responses((status = 200, body = WindowKind), (status = 412, description = "`If-None-Match: *` and the kind exists")))]
async fn put_kind(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Manager>,
    Path(kind): Path<String>,
    headers: axum::http::HeaderMap,
    Json(req): Json<KindRequest>,
) -> AppResult<Json<WindowKind>> {
    let create_only = headers
        .get(axum::http::header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == b"*");
    let mut errors = Vec::new();
    let valid_kind = kind.len() >= 2
        && kind.len() <= 31
        && kind.starts_with(|c: char| c.is_ascii_lowercase())
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid_kind {
        errors.push(FieldError {
            field: "kind".into(),
            message: "2 to 31 lower-case letters, digits or _ starting with a letter".into(),
        });
    }
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(FieldError {
            field: "name".into(),
            message: "1 to 200 characters".into(),
        });
    }
    let (sm, sd) = month_day(&mut errors, "start", &req.start);
    let (em, ed) = month_day(&mut errors, "end", &req.end);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    db::save_kind(
        &state.pool,
        &kind,
        name,
        req.outgoing,
        (sm, sd, em, ed),
        staff.staff_id,
        create_only,
    )
    .await?
    .map(Json)
    .ok_or_else(|| {
        AppError::problem(
            StatusCode::PRECONDITION_FAILED,
            "kind-exists",
            "Window kind exists",
            "a window kind with this id was just added: reload and add yours again",
        )
        .with_field("kind")
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct OverrideRequest {
    starts_on: NaiveDate,
    ends_on: NaiveDate,
}

/// Sets one year's dates for a window kind (a late spring, say).
#[utoipa::path(put, path = "/api/v1/season-calendar/{year}/{kind}", tag = "season calendar", params(("year" = i32, Path), ("kind" = String, Path)), request_body = OverrideRequest, responses((status = 200, body = SeasonWindow)))]
async fn put_override(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Manager>,
    Path((year, kind)): Path<(i32, String)>,
    Json(req): Json<OverrideRequest>,
) -> AppResult<Json<SeasonWindow>> {
    if !(2000..=2200).contains(&year) {
        return Err(AppError::invalid("year", "a year between 2000 and 2200"));
    }
    if req.starts_on.year() != year {
        return Err(AppError::invalid(
            "starts_on",
            format!("must fall in {year}"),
        ));
    }
    if req.ends_on < req.starts_on || (req.ends_on - req.starts_on).num_days() > 200 {
        return Err(AppError::invalid(
            "ends_on",
            "must be on or after starts_on, at most 200 days later",
        ));
    }
    if !db::kind_exists(&state.pool, &kind).await? {
        return Err(AppError::NotFound("window kind"));
    }
    db::upsert_override(
        &state.pool,
        &kind,
        year,
        req.starts_on,
        req.ends_on,
        staff.staff_id,
    )
    .await?;
    let cal = Calendar::load(&state.pool).await?;
    cal.window(&kind, year)
        .map(Json)
        .ok_or(AppError::NotFound("window kind"))
}

/// Goes back to the default dates for one year.
#[utoipa::path(delete, path = "/api/v1/season-calendar/{year}/{kind}", tag = "season calendar", params(("year" = i32, Path), ("kind" = String, Path)), responses((status = 204)))]
async fn delete_override(
    State(state): State<AppState>,
    Authed(_, _): Authed<Manager>,
    Path((year, kind)): Path<(i32, String)>,
) -> AppResult<StatusCode> {
    let deleted = db::delete_override(&state.pool, &kind, year).await?;
    if !deleted {
        return Err(AppError::NotFound("override"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a window kind (a kind added by mistake, or one the company no longer uses) with its yearly dates.
/// A kind that campaigns were built on (409 `kind-has-campaigns`), or that the storage settings return clothes by
/// (409 `kind-returns-storage`), stays.
#[utoipa::path(delete, path = "/api/v1/season-calendar/kinds/{kind}", tag = "season calendar", params(("kind" = String, Path)), responses((status = 204)))]
async fn delete_kind(
    State(state): State<AppState>,
    Authed(_, _): Authed<Manager>,
    Path(kind): Path<String>,
) -> AppResult<StatusCode> {
    let deleted = db::delete_kind(&state.pool, &kind)
        .await
        .on_constraint("campaign_window_kind_fkey", |_| {
            AppError::problem(
                StatusCode::CONFLICT,
                "kind-has-campaigns",
                "Window kind has campaigns",
                "campaigns were built on this window kind: it stays so their dates and reports hold",
            )
            .with_field("kind")
        })
        .on_constraint("storage_setting_return_window_kind_fkey", |_| {
            AppError::problem(
                StatusCode::CONFLICT,
                "kind-returns-storage",
                "Storage returns by this window kind",
                "the storage settings plan returns by this window kind: choose another one there first",
            )
            .with_field("kind")
        })?;
    if !deleted {
        return Err(AppError::NotFound("window kind"));
    }
    Ok(StatusCode::NO_CONTENT)
}
