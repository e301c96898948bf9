//! The managers' forecast endpoints: weekly garment intake and storage intake against zone capacity.

use std::collections::BTreeMap;

use axum::extract::State;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::allocation::{zone_outlook, ZoneOutlook};
use super::db;
use super::model::reconcile::reconcile_forecasts;
use super::model::{forecast_weekly, Selection, MIN_SEASONAL_HISTORY};
use super::series::{
    dense, intake_series, monday, next_window, to_series, window_total, History, SeriesForecast,
    Total,
};
use crate::auth::{Authed, Manager};
use crate::calendar::{Calendar, SeasonWindow};
use crate::domain::SeasonClass;
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Query};
use crate::state::AppState;

/// The forecast routes (managers).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(intake))
        .routes(routes!(storage))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct IntakeParams {
    weeks: Option<usize>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct NextWindow {
    window: SeasonWindow,
    weeks_covered: usize,
    /// Every garment expected in the window's weeks.
    all_garments: Total,
    /// Garments of the outgoing season class: the put-away volume itself.
    outgoing_garments: Total,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct IntakeForecast {
    history_first_week: Option<NaiveDate>,
    history_weeks: usize,
    first_forecast_week: NaiveDate,
    horizon_weeks: usize,
    interval_note: &'static str,
    total: SeriesForecast,
    by_season_class: BTreeMap<String, SeriesForecast>,
    by_category: BTreeMap<String, SeriesForecast>,
    /// The next window to start: what a manager plans for.
    next_window: Option<NextWindow>,
    /// The window open today, if any, with what is left of it.
    open_window: Option<OpenWindow>,
    /// The weeks before the forecast, for drawing history beside it.
    history: RecentHistory,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct OpenWindow {
    window: SeasonWindow,
    weeks_left: usize,
    /// Garments of the outgoing season class expected in the weeks left.
    outgoing_garments_left: Total,
    /// The same window counted from the wardrobes on record with the reminder list's estimates (who is still a
    /// customer, which garments are still worn, who sends without a call); absent while those are first made.
    from_wardrobes: Option<crate::lists::expected::Counted>,
}

/// The last weeks of intake (at most two years), oldest first, ending the week before `first_forecast_week`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct RecentHistory {
    first_week: NaiveDate,
    total: Vec<f64>,
    by_season_class: BTreeMap<String, Vec<f64>>,
}

/// Weeks of history served beside the forecast.
const HISTORY_SHOWN: usize = 104;

/// The tail of each total and season-class series, aligned to end before `this_week`.
fn recent_history(series: &[(String, History)], this_week: NaiveDate) -> RecentHistory {
    let tail = |h: &History| h.values[h.values.len().saturating_sub(HISTORY_SHOWN)..].to_vec();
    let total = series
        .iter()
        .find(|(k, _)| k == "total")
        .map(|(_, h)| tail(h))
        .unwrap_or_default();
    let by_season_class = series
        .iter()
        .filter_map(|(k, h)| k.strip_prefix("class:").map(|c| (c.to_owned(), tail(h))))
        .collect();
    RecentHistory {
        first_week: this_week - Duration::weeks(total.len() as i64),
        total,
        by_season_class,
    }
}

const INTERVAL_NOTE: &str = "weekly intervals come from the chosen model's backtest errors and widen with the \
horizon; window totals add the weekly half-widths, as if weekly errors moved together (a cautious bound)";

/// Forecasts every series; runs the model fitting off the async runtime.
async fn forecast_all(
    series: Vec<(String, History)>,
    horizon: usize,
) -> AppResult<Vec<(String, Selection)>> {
    tokio::task::spawn_blocking(move || {
        series
            .into_iter()
            .map(|(k, h)| (k, forecast_weekly(&h.values, horizon)))
            .collect()
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))
}

/// Weeks of history a forecast reads: five years, so old or mistyped data cannot make it slow.
pub const HISTORY_WEEKS: i64 = 5 * 52;

fn history_start(this_week: NaiveDate) -> NaiveDate {
    this_week - Duration::weeks(HISTORY_WEEKS)
}

/// `GET /api/v1/forecasts/intake?weeks=26` (managers); one computation at a time per horizon, shared with
/// callers that arrive while it runs.
#[utoipa::path(get, operation_id = "intake_forecast", path = "/api/v1/forecasts/intake", tag = "forecasts", params(IntakeParams), responses((status = 200, body = IntakeForecast)))]
async fn intake(
    State(state): State<AppState>,
    Authed(_, _): Authed<Manager>,
    Query(p): Query<IntakeParams>,
) -> AppResult<Json<serde_json::Value>> {
    let keep = p.weeks.unwrap_or(DEFAULT_WEEKS);
    if !(1..=104).contains(&keep) {
        return Err(AppError::invalid("weeks", "between 1 and 104"));
    }
    let mut answer = intake_answer(&state, keep).await?;
    with_wardrobes(&state, &mut answer).await?;
    Ok(Json(answer))
}

/// Adds the open window's count from the wardrobes on record, when today's reminder estimates for it are kept
/// (never waits for a first fit: the forecast is served without it meanwhile).
async fn with_wardrobes(state: &AppState, answer: &mut serde_json::Value) -> AppResult<()> {
    let Some(open) = answer
        .get_mut("open_window")
        .and_then(serde_json::Value::as_object_mut)
    else {
        return Ok(());
    };
    let today = state.settings.clock.today();
    let cal = Calendar::load(&state.pool).await?;
    let Some(window) = cal.open_or_next(None, today).filter(|w| w.contains(today)) else {
        return Ok(());
    };
    let kept =
        crate::lists::expected::kept(state, &cal, &window, today, Some(std::time::Duration::ZERO))
            .await;
    match kept {
        Ok(counted) => {
            open.insert(
                "from_wardrobes".to_owned(),
                serde_json::to_value(&*counted).map_err(|e| AppError::Internal(e.into()))?,
            );
        }
        // Still being made: served without it, the page says so.
        Err(AppError::Problem(p)) if p.status == axum::http::StatusCode::SERVICE_UNAVAILABLE => {}
        // A failed count must not fail the forecast, but must not go unseen either.
        Err(e) => tracing::warn!(error = ?e, "counting the open window from the wardrobes failed"),
    }
    Ok(())
}

/// The intake forecast for `keep` weeks: the kept fit while no closed week's data and no calendar entry changed
/// today (`forecast_input.version`), else fitted once now while other callers wait for it.
pub async fn intake_answer(state: &AppState, keep: usize) -> AppResult<serde_json::Value> {
    let version = db::input_version(&state.pool).await?;
    let family = format!("intake:{keep}");
    let inputs = format!("{}:{version}", state.settings.clock.today());
    state
        .forecasts
        .get_or_compute_kept(&family, inputs, move || async move {
            let started = std::time::Instant::now();
            let f = compute_intake(state, keep).await?;
            crate::observe::forecast_done("intake", started.elapsed());
            serde_json::to_value(f).map_err(|e| AppError::Internal(e.into()))
        })
        .await
}

/// Weeks the office app's dashboard asks for, fitted ahead by [`spawn_refit`].
pub const DEFAULT_WEEKS: usize = 26;

/// Folds the kept intake series and refits the default intake forecast in the background when its inputs or
/// the day change (checked every minute), so a manager's page is served from the kept fit instead of waiting.
pub fn spawn_refit(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(e) = db::fold_input_changes(&state.pool).await {
                tracing::warn!(error = %e, "folding the forecast input changes failed; retrying later");
            }
            if let Err(e) = db::fold_intake_changes(&state.pool).await {
                tracing::warn!(error = %e, "folding the intake series failed; retrying later");
            }
            if let Err(e) = intake_answer(&state, DEFAULT_WEEKS).await {
                tracing::warn!(error = %e, "forecast refit failed; retrying later");
            }
        }
    })
}

async fn compute_intake(state: &AppState, keep: usize) -> AppResult<IntakeForecast> {
    let today = state.settings.clock.today();
    let this_week = monday(today);
    let clock = state.settings.clock;
    let rows = db::weekly_intake(
        &state.pool,
        clock.offset_secs(),
        clock.start_of(this_week),
        clock.start_of(history_start(this_week)),
    )
    .await?;
    let cal = Calendar::load(&state.pool).await?;
    // A manager plans for the next window to start; the one open today is reported as what is left of it.
    let window = cal.next_to_start(today);
    let open = cal.open_or_next(None, today).filter(|w| w.contains(today));
    let horizon = [&window, &open]
        .into_iter()
        .flatten()
        .map(|w| ((w.ends_on - this_week).num_days() / 7 + 1) as usize)
        .fold(keep, usize::max);

    let first = rows.iter().map(|r| r.0).min().unwrap_or(this_week);
    let series = intake_series(&rows, first, this_week);
    let history_weeks = series[0].1.values.len();
    let history = recent_history(&series, this_week);
    let mut selections = forecast_all(series, horizon).await?;
    reconcile_all(&mut selections);

    let mut out_total = None;
    let mut out_class = BTreeMap::new();
    let mut out_category = BTreeMap::new();
    let mut next = None;
    let mut all_in_window = None;
    let mut open_window = None;
    for (key, sel) in selections {
        if let Some(w) = &window {
            if key == "total" {
                all_in_window = Some(window_total(&sel, this_week, w.starts_on, w.ends_on));
            }
            if key == format!("class:{}", w.outgoing.name()) {
                next = Some(window_total(&sel, this_week, w.starts_on, w.ends_on).0);
            }
        }
        if let Some(w) = &open {
            if key == format!("class:{}", w.outgoing.name()) {
                let (rest, weeks_left) = window_total(&sel, this_week, today, w.ends_on);
                open_window = Some(OpenWindow {
                    window: w.clone(),
                    weeks_left,
                    outgoing_garments_left: rest,
                    // Filled when served (`with_wardrobes`): the estimates change more often than the fit.
                    from_wardrobes: None,
                });
            }
        }
        let s = to_series(sel, this_week, keep);
        if key == "total" {
            out_total = Some(s);
        } else if let Some(k) = key.strip_prefix("class:") {
            out_class.insert(k.to_owned(), s);
        } else if let Some(k) = key.strip_prefix("category:") {
            out_category.insert(k.to_owned(), s);
        }
    }
    let next_window = match (window, all_in_window, next) {
        (Some(window), Some((all, weeks_covered)), Some(outgoing)) => Some(NextWindow {
            window,
            weeks_covered,
            all_garments: all,
            outgoing_garments: outgoing,
        }),
        _ => None,
    };
    Ok(IntakeForecast {
        history_first_week: (history_weeks > 0).then_some(first),
        history_weeks,
        first_forecast_week: this_week,
        horizon_weeks: keep,
        interval_note: INTERVAL_NOTE,
        total: out_total.ok_or_else(|| AppError::Internal(anyhow::anyhow!("no total series")))?,
        by_season_class: out_class,
        by_category: out_category,
        next_window,
        open_window,
        history,
    })
}

/// Makes the total and its breakdowns (per season class, per category) add up week by week.
fn reconcile_all(selections: &mut [(String, Selection)]) {
    let mut total = None;
    let mut classes = Vec::new();
    let mut categories = Vec::new();
    for (key, sel) in selections.iter_mut() {
        if key == "total" {
            total = Some(&mut sel.forecast);
        } else if key.starts_with("class:") {
            classes.push(&mut sel.forecast);
        } else if key.starts_with("category:") {
            categories.push(&mut sel.forecast);
        }
    }
    if let Some(total) = total {
        reconcile_forecasts(total, &mut [classes, categories]);
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct StorageForecast {
    window: SeasonWindow,
    /// `model` when two seasons of storage history exist, else `take_up` (last window's take-up applied to
    /// this window's forecast garments), else `none`.
    method: &'static str,
    model: Option<SeriesForecast>,
    fallback_reason: Option<String>,
    take_up: Option<f64>,
    /// Winter and delicate garments expected to be cleaned around the window: the most that could be stored.
    candidate_garments: Option<Total>,
    expected_items: Option<Total>,
    zones: Vec<ZoneOutlook>,
}

/// `GET /api/v1/forecasts/storage` (managers): items expected into storage in the next spring window, by zone;
/// one computation at a time, shared with callers that arrive while it runs.
#[utoipa::path(get, operation_id = "storage_forecast", path = "/api/v1/forecasts/storage", tag = "forecasts", responses((status = 200, body = StorageForecast)))]
async fn storage(
    State(state): State<AppState>,
    Authed(_, _): Authed<Manager>,
) -> AppResult<Json<serde_json::Value>> {
    let today = state.settings.clock.today();
    let state = &state;
    let answer = state
        .forecasts
        .get_or_compute("storage", today, move || async move {
            let started = std::time::Instant::now();
            let f = compute_storage(state).await?;
            crate::observe::forecast_done("storage", started.elapsed());
            serde_json::to_value(f).map_err(|e| AppError::Internal(e.into()))
        })
        .await?;
    Ok(Json(answer))
}

async fn compute_storage(state: &AppState) -> AppResult<StorageForecast> {
    let settings = &state.settings;
    let pool = &state.pool;
    let today = settings.clock.today();
    let this_week = monday(today);
    let cal = Calendar::load(pool).await?;
    let window = next_window(&cal, today, Some(SeasonClass::Winter)).ok_or_else(|| {
        AppError::invalid(
            "window",
            "the calendar has no window that puts winter clothes away",
        )
    })?;
    let lead = Duration::days(30);
    let horizon = ((window.ends_on - this_week).num_days() / 7 + 1).max(1) as usize;

    // Weekly items accepted into storage, from the first order to last week.
    let clock = settings.clock;
    let stored = db::weekly_stored(
        pool,
        clock.offset_secs(),
        clock.start_of(this_week),
        clock.start_of(history_start(this_week)),
    )
    .await?;
    let points: BTreeMap<NaiveDate, f64> = stored.iter().map(|&(w, n)| (w, n as f64)).collect();
    let first = points.keys().next().copied().unwrap_or(this_week);
    let history = dense(&points, first, this_week);

    // The garments that could be stored: a forecast of qualifying weekly cleanings.
    let qualifying = db::weekly_qualifying(
        pool,
        clock.offset_secs(),
        clock.start_of(this_week),
        clock.start_of(history_start(this_week)),
    )
    .await?;
    let qpoints: BTreeMap<NaiveDate, f64> =
        qualifying.iter().map(|&(w, n)| (w, n as f64)).collect();
    let qfirst = qpoints.keys().next().copied().unwrap_or(this_week);
    let qhistory = dense(&qpoints, qfirst, this_week);

    let enough = history.values.len() >= MIN_SEASONAL_HISTORY;
    let mut runs = vec![("candidates".to_owned(), qhistory)];
    if enough {
        runs.push(("stored".to_owned(), history.clone()));
    }
    let selections = forecast_all(runs, horizon).await?;
    let from = window.starts_on - lead;
    let mut candidate_garments = None;
    let mut model = None;
    let mut expected = None;
    for (key, sel) in &selections {
        let (t, _) = window_total(sel, this_week, from, window.ends_on);
        if key == "candidates" && !qpoints.is_empty() {
            candidate_garments = Some(t);
        }
        if key == "stored" {
            expected = Some(t);
            model = Some(to_series(sel.clone(), this_week, horizon));
        }
    }

    // Without two seasons of storage history: last window's take-up applied to this window's candidates.
    let last = cal
        .latest_of(SeasonClass::Winter, today)
        .filter(|w| w.ends_on < today);
    let mut take_up = None;
    let mut fallback_reason = None;
    let method = if enough {
        "model"
    } else if let (Some(last), Some(cand)) = (&last, candidate_garments) {
        let stored_last = db::stored_between(
            pool,
            clock.start_of(last.starts_on - lead),
            clock.start_of(last.ends_on + Duration::days(31)),
        )
        .await?;
        let cleaned_last: i64 = db::candidates_by_kind(
            pool,
            clock.start_of(last.starts_on - lead),
            clock.start_of(last.ends_on + Duration::days(1)),
        )
        .await?
        .iter()
        .map(|r| r.2)
        .sum();
        if stored_last > 0 && cleaned_last > 0 {
            let rate = stored_last as f64 / cleaned_last as f64;
            take_up = Some(rate);
            expected = Some(cand.scaled(rate));
            fallback_reason = Some(format!(
                "{} weeks of storage history (a model needs {}): {} of {} qualifying garments cleaned around {} were stored; that take-up is applied to this window's forecast",
                history.values.len(), MIN_SEASONAL_HISTORY, stored_last, cleaned_last, last.id
            ));
            "take_up"
        } else {
            fallback_reason = Some(format!(
                "no storage orders around {}: take-up is unknown, so only the candidate garments are forecast",
                last.id
            ));
            "none"
        }
    } else {
        fallback_reason = Some("no storage or pickup history to forecast from".to_owned());
        "none"
    };

    // Zone shares from the garments that qualified last time, by the zone each would go to by default.
    let (share_from, share_to) = match &last {
        Some(l) => (l.starts_on - lead, l.ends_on + Duration::days(1)),
        None => (today - Duration::days(365), today),
    };
    let mix =
        db::candidates_by_kind(pool, clock.start_of(share_from), clock.start_of(share_to)).await?;
    let zones = crate::storage::db::zones(pool).await?;
    let due: BTreeMap<String, i64> = db::due_back_by_zone(pool, window.starts_on)
        .await?
        .into_iter()
        .collect();
    let outlook = zone_outlook(&zones, &mix, &due, expected);
    Ok(StorageForecast {
        window,
        method,
        model,
        fallback_reason,
        take_up,
        candidate_garments,
        expected_items: expected,
        zones: outlook,
    })
}
