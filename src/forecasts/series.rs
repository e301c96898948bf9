//! Pure weekly-series helpers of the forecast endpoints: weeks, dense histories, served series and window totals.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

use super::model::{ModelScore, Selection};
use crate::calendar::{Calendar, SeasonWindow};
use crate::domain::SeasonClass;

/// One week ahead with its intervals.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WeekForecast {
    pub(crate) week_start: NaiveDate,
    pub(crate) mean: f64,
    pub(crate) lo80: f64,
    pub(crate) hi80: f64,
    pub(crate) lo95: f64,
    pub(crate) hi95: f64,
}

/// A forecast series with the model chosen and how it (and every candidate) scored in backtest.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SeriesForecast {
    pub(crate) model: String,
    /// Set when history was too short for the full model set, saying what was done instead.
    pub fallback_reason: Option<String>,
    pub(crate) backtest_mase: Option<f64>,
    pub(crate) backtest_smape: Option<f64>,
    pub(crate) candidates: Vec<ModelScore>,
    pub(crate) weeks: Vec<WeekForecast>,
}

/// A sum over some forecast weeks; intervals add half-widths, as if weekly errors moved together.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Total {
    pub(crate) mean: f64,
    pub(crate) lo80: f64,
    pub(crate) hi80: f64,
    pub(crate) lo95: f64,
    pub(crate) hi95: f64,
}

impl Total {
    /// The total times `k` (a share of it).
    pub fn scaled(self, k: f64) -> Total {
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
pub struct History {
    /// Values, oldest week first.
    pub values: Vec<f64>,
}

/// The Monday a week starts on.
pub fn monday(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// The served form of a selection: the first `keep` weeks from `first_forecast_week`.
pub fn to_series(sel: Selection, first_forecast_week: NaiveDate, keep: usize) -> SeriesForecast {
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
pub fn window_total(
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

/// Dense weekly series (missing weeks are zero) from `first` to the week before `this_week`.
pub fn dense(points: &BTreeMap<NaiveDate, f64>, first: NaiveDate, this_week: NaiveDate) -> History {
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
pub fn next_window(
    cal: &Calendar,
    today: NaiveDate,
    outgoing: Option<SeasonClass>,
) -> Option<SeasonWindow> {
    cal.open_or_next(outgoing, today)
}

/// The weekly series the intake forecast fits, from `(week, class, category, garments)` rows: `total`, one
/// `class:<class>` per season class (zeros when a class has no history) and one `category:<category>` each.
pub fn intake_series(
    rows: &[(NaiveDate, SeasonClass, String, i64)],
    first: NaiveDate,
    this_week: NaiveDate,
) -> Vec<(String, History)> {
    let mut total: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    let mut by_class: BTreeMap<String, BTreeMap<NaiveDate, f64>> = BTreeMap::new();
    let mut by_category: BTreeMap<String, BTreeMap<NaiveDate, f64>> = BTreeMap::new();
    for c in SeasonClass::ALL {
        by_class.entry(c.name()).or_default();
    }
    for (week, class, category, n) in rows {
        let n = *n as f64;
        *total.entry(*week).or_default() += n;
        *by_class
            .entry(class.name())
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
    series
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
