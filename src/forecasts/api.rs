//! The managers' forecast endpoints: weekly garment intake and storage intake against zone capacity.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use super::model::{forecast_weekly, ModelScore, Selection};
use crate::app::{AppState, Settings};
use crate::auth::{Authed, Manager};
use crate::calendar::{Calendar, SeasonWindow};
use crate::domain::{GarmentKind, Material, SeasonClass};
use crate::error::{AppError, AppResult};
use crate::extract::{Json, Query};
use crate::storage::pricing::{default_zone_kind, ZoneKind};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/forecasts/intake", get(intake))
        .route("/api/v1/forecasts/storage", get(storage))
}

/// One week ahead with its intervals.
#[derive(Debug, Clone, Serialize)]
pub struct WeekForecast {
    pub week_start: NaiveDate,
    pub mean: f64,
    pub lo80: f64,
    pub hi80: f64,
    pub lo95: f64,
    pub hi95: f64,
}

/// A forecast series with the model chosen and how it (and every candidate) scored in backtest.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesForecast {
    pub model: String,
    /// Set when history was too short for the full model set, saying what was done instead.
    pub fallback_reason: Option<String>,
    pub backtest_mase: Option<f64>,
    pub backtest_smape: Option<f64>,
    pub candidates: Vec<ModelScore>,
    pub weeks: Vec<WeekForecast>,
}

/// A sum over some forecast weeks; intervals add half-widths, as if weekly errors moved together.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Total {
    pub mean: f64,
    pub lo80: f64,
    pub hi80: f64,
    pub lo95: f64,
    pub hi95: f64,
}

impl Total {
    fn scaled(self, k: f64) -> Total {
        Total {
            mean: self.mean * k,
            lo80: self.lo80 * k,
            hi80: self.hi80 * k,
            lo95: self.lo95 * k,
            hi95: self.hi95 * k,
        }
    }
}

/// Weekly history of one series, oldest first.
#[derive(Debug, Clone)]
struct History {
    values: Vec<f64>,
}

fn monday(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

fn to_series(sel: Selection, first_forecast_week: NaiveDate, keep: usize) -> SeriesForecast {
    let f = &sel.forecast;
    let weeks = (0..f.mean.len().min(keep))
        .map(|i| WeekForecast {
            week_start: first_forecast_week + Duration::weeks(i as i64),
            mean: f.mean[i],
            lo80: f.lo80[i],
            hi80: f.hi80[i],
            lo95: f.lo95[i],
            hi95: f.hi95[i],
        })
        .collect();
    let chosen = sel.scores.iter().find(|s| s.model == sel.chosen);
    SeriesForecast {
        model: sel.chosen.clone(),
        fallback_reason: sel.fallback_reason.clone(),
        backtest_mase: chosen.map(|s| s.mase),
        backtest_smape: chosen.map(|s| s.smape),
        candidates: sel.scores.clone(),
        weeks,
    }
}

/// Sums the forecast over the weeks whose Monday falls in `[from, to]`.
fn window_total(
    sel: &Selection,
    first_forecast_week: NaiveDate,
    from: NaiveDate,
    to: NaiveDate,
) -> (Total, usize) {
    let f = &sel.forecast;
    let mut t = Total {
        mean: 0.0,
        lo80: 0.0,
        hi80: 0.0,
        lo95: 0.0,
        hi95: 0.0,
    };
    let mut n = 0;
    for i in 0..f.mean.len() {
        let week = first_forecast_week + Duration::weeks(i as i64);
        if week + Duration::days(6) < from || week > to {
            continue;
        }
        n += 1;
        t.mean += f.mean[i];
        t.lo80 += f.lo80[i];
        t.hi80 += f.hi80[i];
        t.lo95 += f.lo95[i];
        t.hi95 += f.hi95[i];
    }
    (t, n)
}

/// Weekly garment counts by season class and category up to the last complete week.
async fn intake_history(
    pool: &PgPool,
    settings: &Settings,
    this_week: NaiveDate,
) -> sqlx::Result<Vec<(NaiveDate, SeasonClass, String, i64)>> {
    sqlx::query_as(
        "select date_trunc('week', p.collected_at + make_interval(secs => $1))::date as week,
                g.season_class, g.category, count(*)
           from pickup_line pl
           join pickup p on p.customer_id = pl.customer_id and p.pickup_id = pl.pickup_id
           join garment g on g.customer_id = pl.customer_id and g.garment_id = pl.garment_id
          where p.collected_at < $2
          group by 1, 2, 3",
    )
    .bind(f64::from(settings.local_offset.local_minus_utc()))
    .bind(settings.start_of(this_week))
    .persistent(false)
    .fetch_all(pool)
    .await
}

/// Dense weekly series (missing weeks are zero) from `first` to the week before `this_week`.
fn dense(points: &BTreeMap<NaiveDate, f64>, first: NaiveDate, this_week: NaiveDate) -> History {
    let weeks = ((this_week - first).num_days() / 7).max(0) as usize;
    let values = (0..weeks)
        .map(|i| {
            *points
                .get(&(first + Duration::weeks(i as i64)))
                .unwrap_or(&0.0)
        })
        .collect();
    History { values }
}

/// The next put-away window of `outgoing` (any, if None): the one open now, else the next to start.
fn next_window(
    cal: &Calendar,
    today: NaiveDate,
    outgoing: Option<SeasonClass>,
) -> Option<SeasonWindow> {
    (today.year() - 1..=today.year() + 1)
        .flat_map(|y| cal.year(y))
        .filter(|w| w.ends_on >= today && outgoing.is_none_or(|o| w.outgoing == o))
        .min_by_key(|w| w.starts_on)
}

#[derive(Debug, Deserialize)]
struct IntakeParams {
    weeks: Option<usize>,
}

#[derive(Debug, Serialize)]
struct NextWindow {
    window: SeasonWindow,
    weeks_covered: usize,
    /// Every garment expected in the window's weeks.
    all_garments: Total,
    /// Garments of the outgoing season class: the put-away volume itself.
    outgoing_garments: Total,
}

#[derive(Debug, Serialize)]
struct IntakeForecast {
    history_first_week: Option<NaiveDate>,
    history_weeks: usize,
    first_forecast_week: NaiveDate,
    horizon_weeks: usize,
    interval_note: &'static str,
    total: SeriesForecast,
    by_season_class: BTreeMap<String, SeriesForecast>,
    by_category: BTreeMap<String, SeriesForecast>,
    next_window: Option<NextWindow>,
}

const INTERVAL_NOTE: &str = "weekly intervals come from the chosen model's backtest errors and widen with the \
horizon; window totals add the weekly half-widths, as if weekly errors moved together (a cautious bound)";

fn class_key(c: SeasonClass) -> String {
    c.name()
}

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

/// `GET /api/v1/forecasts/intake?weeks=26` (managers).
async fn intake(
    State(state): State<AppState>,
    Authed(_, _): Authed<Manager>,
    Query(p): Query<IntakeParams>,
) -> AppResult<Json<IntakeForecast>> {
    let keep = p.weeks.unwrap_or(26);
    if !(1..=104).contains(&keep) {
        return Err(AppError::invalid("weeks", "between 1 and 104"));
    }
    let today = state.settings.today();
    let this_week = monday(today);
    let rows = intake_history(&state.pool, &state.settings, this_week).await?;
    let cal = Calendar::load(&state.pool).await?;
    let window = next_window(&cal, today, None);
    let horizon = match &window {
        Some(w) => keep.max(((w.ends_on - this_week).num_days() / 7 + 1) as usize),
        None => keep,
    };

    let first = rows.iter().map(|r| r.0).min().unwrap_or(this_week);
    let mut total: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    let mut by_class: BTreeMap<String, BTreeMap<NaiveDate, f64>> = BTreeMap::new();
    let mut by_category: BTreeMap<String, BTreeMap<NaiveDate, f64>> = BTreeMap::new();
    for c in [
        SeasonClass::Winter,
        SeasonClass::SpringAutumn,
        SeasonClass::Summer,
        SeasonClass::AllSeason,
    ] {
        by_class.entry(class_key(c)).or_default();
    }
    for (week, class, category, n) in &rows {
        let n = *n as f64;
        *total.entry(*week).or_default() += n;
        *by_class
            .entry(class_key(*class))
            .or_default()
            .entry(*week)
            .or_default() += n;
        *by_category
            .entry(category.clone())
            .or_default()
            .entry(*week)
            .or_default() += n;
    }
    let mut series = vec![("total".to_owned(), dense(&total, first, this_week))];
    series.extend(
        by_class
            .iter()
            .map(|(k, v)| (format!("class:{k}"), dense(v, first, this_week))),
    );
    series.extend(
        by_category
            .iter()
            .map(|(k, v)| (format!("category:{k}"), dense(v, first, this_week))),
    );
    let history_weeks = series[0].1.values.len();
    let selections = forecast_all(series, horizon).await?;

    let mut out_total = None;
    let mut out_class = BTreeMap::new();
    let mut out_category = BTreeMap::new();
    let mut next = None;
    let mut all_in_window = None;
    for (key, sel) in selections {
        if let Some(w) = &window {
            if key == "total" {
                all_in_window = Some(window_total(&sel, this_week, w.starts_on, w.ends_on));
            }
            if key == format!("class:{}", class_key(w.outgoing)) {
                next = Some(window_total(&sel, this_week, w.starts_on, w.ends_on).0);
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
    Ok(Json(IntakeForecast {
        history_first_week: (history_weeks > 0).then_some(first),
        history_weeks,
        first_forecast_week: this_week,
        horizon_weeks: keep,
        interval_note: INTERVAL_NOTE,
        total: out_total.ok_or_else(|| AppError::Internal(anyhow::anyhow!("no total series")))?,
        by_season_class: out_class,
        by_category: out_category,
        next_window,
    }))
}

#[derive(Debug, Serialize)]
struct ZoneOutlook {
    zone_id: String,
    name: String,
    kind: &'static str,
    capacity: i64,
    in_use_now: i64,
    due_back_before_window: i64,
    /// Share of the expected items this zone takes (by the garments' default zones).
    share: f64,
    expected_in: Option<Total>,
    expected_occupancy: Option<f64>,
    /// Places left at the upper 80% bound; negative means the zone would overflow.
    free_at_hi80: Option<f64>,
    over_capacity_risk: bool,
}

#[derive(Debug, Serialize)]
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

/// Garments that qualify for storage cleaned in `[from, to)`, by kind and material.
async fn candidates_by_kind(
    pool: &PgPool,
    settings: &Settings,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<(GarmentKind, Option<Material>, i64)>> {
    sqlx::query_as(
        "select g.kind, g.material, count(*)
           from pickup_line pl
           join pickup p on p.customer_id = pl.customer_id and p.pickup_id = pl.pickup_id
           join garment g on g.customer_id = pl.customer_id and g.garment_id = pl.garment_id
          where p.collected_at >= $1 and p.collected_at < $2
            and (g.season_class = 'winter' or g.material = any($3))
          group by 1, 2",
    )
    .bind(settings.start_of(from))
    .bind(settings.start_of(to))
    .bind(crate::lists::storage_upsell::DELICATE)
    .persistent(false)
    .fetch_all(pool)
    .await
}

/// `GET /api/v1/forecasts/storage` (managers): items expected into storage in the next spring window, by zone.
async fn storage(
    State(state): State<AppState>,
    Authed(_, _): Authed<Manager>,
) -> AppResult<Json<StorageForecast>> {
    let settings = &state.settings;
    let pool = &state.pool;
    let today = settings.today();
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
    let stored: Vec<(NaiveDate, i64)> = sqlx::query_as(
        "select date_trunc('week', o.created_at + make_interval(secs => $1))::date, count(*)
           from storage_item i join storage_order o on o.customer_id = i.customer_id and o.order_id = i.order_id
          where o.created_at < $2
          group by 1",
    )
    .bind(f64::from(settings.local_offset.local_minus_utc()))
    .bind(settings.start_of(this_week))
    .fetch_all(pool)
    .await?;
    let points: BTreeMap<NaiveDate, f64> = stored.iter().map(|&(w, n)| (w, n as f64)).collect();
    let first = points.keys().next().copied().unwrap_or(this_week);
    let history = dense(&points, first, this_week);

    // The garments that could be stored: a forecast of qualifying weekly cleanings.
    let qualifying: Vec<(NaiveDate, i64)> = sqlx::query_as(
        "select date_trunc('week', p.collected_at + make_interval(secs => $1))::date, count(*)
           from pickup_line pl
           join pickup p on p.customer_id = pl.customer_id and p.pickup_id = pl.pickup_id
           join garment g on g.customer_id = pl.customer_id and g.garment_id = pl.garment_id
          where p.collected_at < $2 and (g.season_class = 'winter' or g.material = any($3))
          group by 1",
    )
    .bind(f64::from(settings.local_offset.local_minus_utc()))
    .bind(settings.start_of(this_week))
    .bind(crate::lists::storage_upsell::DELICATE)
    .persistent(false)
    .fetch_all(pool)
    .await?;
    let qpoints: BTreeMap<NaiveDate, f64> =
        qualifying.iter().map(|&(w, n)| (w, n as f64)).collect();
    let qfirst = qpoints.keys().next().copied().unwrap_or(this_week);
    let qhistory = dense(&qpoints, qfirst, this_week);

    let enough = history.values.len() >= super::model::MIN_SEASONAL_HISTORY;
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
        let stored_last: i64 = sqlx::query_scalar(
            "select count(*) from storage_item i join storage_order o
                 on o.customer_id = i.customer_id and o.order_id = i.order_id
              where o.created_at >= $1 and o.created_at < $2",
        )
        .bind(settings.start_of(last.starts_on - lead))
        .bind(settings.start_of(last.ends_on + Duration::days(31)))
        .fetch_one(pool)
        .await?;
        let cleaned_last: i64 = candidates_by_kind(
            pool,
            settings,
            last.starts_on - lead,
            last.ends_on + Duration::days(1),
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
                history.values.len(), super::model::MIN_SEASONAL_HISTORY, stored_last, cleaned_last, last.id
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
    let mix = candidates_by_kind(pool, settings, share_from, share_to).await?;
    let mut by_kind: BTreeMap<&'static str, f64> = BTreeMap::new();
    let mut mix_total = 0.0;
    for (kind, material, n) in &mix {
        *by_kind
            .entry(default_zone_kind(*kind, *material).as_str())
            .or_default() += *n as f64;
        mix_total += *n as f64;
    }
    let zones = crate::storage::db::zones(pool).await?;
    let due: Vec<(String, i64)> = sqlx::query_as(
        "select i.zone_id, count(*) from storage_item i
           join storage_order o on o.customer_id = i.customer_id and o.order_id = i.order_id
          where i.released_at is null and o.planned_return_on < $1
          group by 1",
    )
    .bind(window.starts_on)
    .fetch_all(pool)
    .await?;
    let due: BTreeMap<String, i64> = due.into_iter().collect();
    let capacity_of_kind = |k: ZoneKind| -> f64 {
        zones
            .iter()
            .filter(|z| z.kind == k)
            .map(|z| f64::from(z.capacity))
            .sum()
    };
    let outlook = zones
        .iter()
        .map(|z| {
            let kind_cap = capacity_of_kind(z.kind);
            let share = if mix_total > 0.0 && kind_cap > 0.0 {
                by_kind.get(z.kind.as_str()).copied().unwrap_or(0.0) / mix_total
                    * f64::from(z.capacity)
                    / kind_cap
            } else {
                0.0
            };
            let due_back = due.get(&z.zone_id).copied().unwrap_or(0);
            let expected_in = expected.map(|t| t.scaled(share));
            let base = (z.in_use - due_back) as f64;
            ZoneOutlook {
                zone_id: z.zone_id.clone(),
                name: z.name.clone(),
                kind: z.kind.as_str(),
                capacity: i64::from(z.capacity),
                in_use_now: z.in_use,
                due_back_before_window: due_back,
                share,
                expected_occupancy: expected_in.map(|t| base + t.mean),
                free_at_hi80: expected_in.map(|t| f64::from(z.capacity) - base - t.hi80),
                over_capacity_risk: expected_in
                    .is_some_and(|t| base + t.hi80 > f64::from(z.capacity)),
                expected_in,
            }
        })
        .collect();
    Ok(Json(StorageForecast {
        window,
        method,
        model,
        fallback_reason,
        take_up,
        candidate_garments,
        expected_items: expected,
        zones: outlook,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_and_dense_fills_gaps() {
        let d = |s: &str| s.parse::<NaiveDate>().expect("test data");
        assert_eq!(monday(d("2026-11-23")), d("2026-11-23"));
        assert_eq!(monday(d("2026-11-29")), d("2026-11-23"));
        let points: BTreeMap<NaiveDate, f64> =
            [(d("2026-11-02"), 3.0), (d("2026-11-16"), 5.0)].into();
        let h = dense(&points, d("2026-11-02"), d("2026-11-23"));
        assert_eq!(h.values, vec![3.0, 0.0, 5.0]);
    }
}
