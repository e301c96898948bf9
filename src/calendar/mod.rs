//! The season calendar: put-away windows by kind, with per-year overrides managers may set.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::Router;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;

use crate::app::AppState;
use crate::auth::{AnyStaff, Authed, Manager};
use crate::domain::SeasonClass;
use crate::error::{AppError, AppResult, FieldError};
use crate::extract::{Json, Path, Query};

/// A kind of put-away window with its default dates (month and day, every year).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WindowKind {
    pub window_kind: String,
    pub name: String,
    pub outgoing: SeasonClass,
    pub start_month: i16,
    pub start_day: i16,
    pub end_month: i16,
    pub end_day: i16,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Override {
    window_kind: String,
    year: i32,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
}

/// One put-away window of one year, e.g. `2026-spring`: the dates every list and campaign works from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeasonWindow {
    pub id: String,
    pub kind: String,
    pub year: i32,
    pub name: String,
    pub outgoing: SeasonClass,
    pub starts_on: NaiveDate,
    /// Last day of the window (inclusive).
    pub ends_on: NaiveDate,
    /// True when a manager set this year's dates instead of the default.
    pub overridden: bool,
}

impl SeasonWindow {
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.starts_on <= day && day <= self.ends_on
    }
}

/// A day of a year, moved back to the month's last day when it does not exist (29 February).
fn day_in(year: i32, month: i16, day: i16) -> Option<NaiveDate> {
    let month = u32::try_from(month).ok()?;
    let mut d = u32::try_from(day).ok()?;
    loop {
        if let Some(date) = NaiveDate::from_ymd_opt(year, month, d) {
            return Some(date);
        }
        if d <= 28 {
            return None;
        }
        d -= 1;
    }
}

/// The whole calendar as stored: the kinds and every override.
#[derive(Debug, Clone)]
pub struct Calendar {
    kinds: Vec<WindowKind>,
    overrides: Vec<Override>,
}

impl Calendar {
    pub async fn load(db: &sqlx::PgPool) -> sqlx::Result<Self> {
        let kinds = sqlx::query_as(
            "select window_kind, name, outgoing, start_month, start_day, end_month, end_day
               from season_window_kind order by start_month, start_day, window_kind",
        )
        .fetch_all(db)
        .await?;
        let overrides = sqlx::query_as(
            "select window_kind, year, starts_on, ends_on from season_window_override",
        )
        .fetch_all(db)
        .await?;
        Ok(Calendar { kinds, overrides })
    }

    pub fn kinds(&self) -> &[WindowKind] {
        &self.kinds
    }

    /// The window of `kind` that starts in `year`, if that kind exists.
    pub fn window(&self, kind: &str, year: i32) -> Option<SeasonWindow> {
        let k = self.kinds.iter().find(|k| k.window_kind == kind)?;
        let over = self
            .overrides
            .iter()
            .find(|o| o.window_kind == kind && o.year == year);
        let (starts_on, ends_on) = match over {
            Some(o) => (o.starts_on, o.ends_on),
            None => {
                let start = day_in(year, k.start_month, k.start_day)?;
                // A window whose end comes before its start in the year runs into the next year.
                let end_year = if (k.end_month, k.end_day) < (k.start_month, k.start_day) {
                    year + 1
                } else {
                    year
                };
                (start, day_in(end_year, k.end_month, k.end_day)?)
            }
        };
        Some(SeasonWindow {
            id: format!("{year}-{kind}"),
            kind: kind.to_owned(),
            year,
            name: k.name.clone(),
            outgoing: k.outgoing,
            starts_on,
            ends_on,
            overridden: over.is_some(),
        })
    }

    /// Every window starting in `year`, in date order.
    pub fn year(&self, year: i32) -> Vec<SeasonWindow> {
        let mut all: Vec<_> = self
            .kinds
            .iter()
            .filter_map(|k| self.window(&k.window_kind, year))
            .collect();
        all.sort_by(|a, b| (a.starts_on, &a.kind).cmp(&(b.starts_on, &b.kind)));
        all
    }

    /// Windows open on `day` (including ones that started the year before).
    pub fn open_on(&self, day: NaiveDate) -> Vec<SeasonWindow> {
        let mut open: Vec<_> = [day.year() - 1, day.year()]
            .into_iter()
            .flat_map(|y| self.year(y))
            .filter(|w| w.contains(day))
            .collect();
        open.sort_by_key(|w| w.starts_on);
        open
    }

    /// Resolves a window id such as `2026-spring`, naming `field` when it is not one.
    pub fn parse_id(&self, field: &str, id: &str) -> AppResult<SeasonWindow> {
        let parsed = id
            .split_once('-')
            .and_then(|(y, k)| Some((y.parse::<i32>().ok()?, k)))
            .filter(|(y, _)| (2000..=2200).contains(y));
        let Some((year, kind)) = parsed else {
            return Err(AppError::invalid(
                field,
                "a window is a year and a window kind, e.g. 2026-spring",
            ));
        };
        self.window(kind, year).ok_or_else(|| {
            let known: Vec<&str> = self.kinds.iter().map(|k| k.window_kind.as_str()).collect();
            AppError::invalid(
                field,
                format!(
                    "no window kind '{kind}'; the calendar has {}",
                    known.join(", ")
                ),
            )
        })
    }

    /// The window a list means: the one named, else the one of `outgoing` (any, if None) open on `day`.
    pub fn pick(
        &self,
        field: &str,
        id: Option<&str>,
        day: NaiveDate,
        outgoing: Option<SeasonClass>,
    ) -> AppResult<SeasonWindow> {
        if let Some(id) = id {
            return self.parse_id(field, id);
        }
        let mut open = self.open_on(day);
        open.retain(|w| outgoing.is_none_or(|o| w.outgoing == o));
        match open.len() {
            1 => Ok(open.remove(0)),
            0 => Err(AppError::invalid(
                field,
                format!(
                    "no put-away window is open on {day}; name one, e.g. {}-spring",
                    day.year()
                ),
            )),
            _ => {
                let ids: Vec<&str> = open.iter().map(|w| w.id.as_str()).collect();
                Err(AppError::invalid(
                    field,
                    format!(
                        "{} windows are open on {day} ({}); name one",
                        ids.len(),
                        ids.join(", ")
                    ),
                ))
            }
        }
    }

    /// The latest window of `outgoing` that starts on or before `day`.
    pub fn latest_of(&self, outgoing: SeasonClass, day: NaiveDate) -> Option<SeasonWindow> {
        [day.year() - 1, day.year()]
            .into_iter()
            .flat_map(|y| self.year(y))
            .filter(|w| w.outgoing == outgoing && w.starts_on <= day)
            .max_by_key(|w| w.starts_on)
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/season-calendar", get(show_calendar))
        .route("/api/v1/season-calendar/kinds/{kind}", put(put_kind))
        .route(
            "/api/v1/season-calendar/{year}/{kind}",
            put(put_override).delete(delete_override),
        )
}

#[derive(Debug, Deserialize)]
struct YearParams {
    year: Option<i32>,
}

#[derive(Debug, Serialize)]
struct CalendarView {
    year: i32,
    windows: Vec<SeasonWindow>,
    kinds: Vec<WindowKind>,
}

async fn show_calendar(
    State(state): State<AppState>,
    Authed(_, _): Authed<AnyStaff>,
    Query(params): Query<YearParams>,
) -> AppResult<Json<CalendarView>> {
    let year = params.year.unwrap_or_else(|| state.settings.today().year());
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

#[derive(Debug, Deserialize)]
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

/// Creates or changes a window kind and its default dates.
async fn put_kind(
    State(state): State<AppState>,
    Authed(staff, _): Authed<Manager>,
    Path(kind): Path<String>,
    Json(req): Json<KindRequest>,
) -> AppResult<Json<WindowKind>> {
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
    let saved = sqlx::query_as(
        "insert into season_window_kind (window_kind, name, outgoing, start_month, start_day, end_month, end_day, updated_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (window_kind) do update set name = excluded.name, outgoing = excluded.outgoing,
             start_month = excluded.start_month, start_day = excluded.start_day, end_month = excluded.end_month,
             end_day = excluded.end_day, updated_by = excluded.updated_by, updated_at = now()
         returning window_kind, name, outgoing, start_month, start_day, end_month, end_day",
    )
    .bind(&kind)
    .bind(name)
    .bind(req.outgoing)
    .bind(sm)
    .bind(sd)
    .bind(em)
    .bind(ed)
    .bind(staff.staff_id)
    .fetch_one(&state.pool)
    .await?;
    Ok(Json(saved))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideRequest {
    starts_on: NaiveDate,
    ends_on: NaiveDate,
}

/// Sets one year's dates for a window kind (a late spring, say).
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
    if !kind_exists(&state.pool, &kind).await? {
        return Err(AppError::NotFound("window kind"));
    }
    sqlx::query(
        "insert into season_window_override (window_kind, year, starts_on, ends_on, updated_by)
         values ($1, $2, $3, $4, $5)
         on conflict (window_kind, year) do update set starts_on = excluded.starts_on,
             ends_on = excluded.ends_on, updated_by = excluded.updated_by, updated_at = now()",
    )
    .bind(&kind)
    .bind(year)
    .bind(req.starts_on)
    .bind(req.ends_on)
    .bind(staff.staff_id)
    .execute(&state.pool)
    .await?;
    let cal = Calendar::load(&state.pool).await?;
    cal.window(&kind, year)
        .map(Json)
        .ok_or(AppError::NotFound("window kind"))
}

/// Goes back to the default dates for one year.
async fn delete_override(
    State(state): State<AppState>,
    Authed(_, _): Authed<Manager>,
    Path((year, kind)): Path<(i32, String)>,
) -> AppResult<StatusCode> {
    let done =
        sqlx::query("delete from season_window_override where window_kind = $1 and year = $2")
            .bind(&kind)
            .bind(year)
            .execute(&state.pool)
            .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound("override"));
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn kind_exists(db: impl PgExecutor<'_>, kind: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from season_window_kind where window_kind = $1)")
        .bind(kind)
        .fetch_one(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal() -> Calendar {
        let kind = |k: &str, o, sm, sd, em, ed| WindowKind {
            window_kind: k.into(),
            name: k.into(),
            outgoing: o,
            start_month: sm,
            start_day: sd,
            end_month: em,
            end_day: ed,
        };
        Calendar {
            kinds: vec![
                kind("spring", SeasonClass::Winter, 3, 1, 5, 31),
                kind("early_winter", SeasonClass::SpringAutumn, 11, 15, 1, 15),
                kind("leap", SeasonClass::Summer, 2, 29, 3, 10),
            ],
            overrides: vec![Override {
                window_kind: "spring".into(),
                year: 2027,
                starts_on: NaiveDate::from_ymd_opt(2027, 3, 20).expect("test data"),
                ends_on: NaiveDate::from_ymd_opt(2027, 6, 10).expect("test data"),
            }],
        }
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("test data")
    }

    #[test]
    fn defaults_overrides_and_year_wrap() {
        let c = cal();
        let w = c.window("spring", 2026).expect("test data");
        assert_eq!(
            (w.starts_on, w.ends_on, w.overridden),
            (d(2026, 3, 1), d(2026, 5, 31), false)
        );
        let w = c.window("spring", 2027).expect("test data");
        assert_eq!(
            (w.starts_on, w.ends_on, w.overridden),
            (d(2027, 3, 20), d(2027, 6, 10), true)
        );
        let w = c.window("early_winter", 2026).expect("test data");
        assert_eq!(w.ends_on, d(2027, 1, 15));
        assert_eq!(
            c.window("leap", 2026).expect("test data").starts_on,
            d(2026, 2, 28)
        );
        assert_eq!(
            c.window("leap", 2028).expect("test data").starts_on,
            d(2028, 2, 29)
        );
    }

    #[test]
    fn open_windows_and_ids() {
        let c = cal();
        let open: Vec<String> = c.open_on(d(2027, 1, 5)).into_iter().map(|w| w.id).collect();
        assert_eq!(open, ["2026-early_winter"]);
        assert_eq!(
            c.pick("window", None, d(2026, 4, 1), None)
                .expect("test data")
                .id,
            "2026-spring"
        );
        assert!(c.pick("window", None, d(2026, 7, 1), None).is_err());
        assert_eq!(
            c.parse_id("window", "2025-spring").expect("test data").year,
            2025
        );
        assert!(c.parse_id("window", "spring").is_err());
        assert!(c.parse_id("window", "2025-monsoon").is_err());
        assert_eq!(
            c.latest_of(SeasonClass::Winter, d(2026, 2, 1))
                .expect("test data")
                .id,
            "2025-spring"
        );
    }
}
