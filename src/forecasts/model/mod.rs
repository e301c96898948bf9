//! Weekly demand forecasting: candidate models, rolling-origin selection and prediction intervals.

mod ets;
mod metrics;
pub(crate) mod optim;
pub mod reconcile;
mod seasonal;

pub use metrics::{mae, mase, naive_scale, smape, SEASON_LAG};

use serde::Serialize;

/// Weeks of history needed before yearly seasonality is modelled (two full seasons).
pub const MIN_SEASONAL_HISTORY: usize = 2 * SEASON_LAG;
/// Longest forecast served (ten years); longer requests are cut to it rather than exhaust memory.
pub const MAX_HORIZON: usize = 520;
/// Rolling origins in the selection and calibration backtest (with the step, 3¼ years of errors).
const ORIGINS: usize = 10;
/// Weeks between backtest origins.
const ORIGIN_STEP: usize = 13;
/// Weeks ahead every model is scored and its intervals calibrated on, whatever horizon is asked: the
/// forecast for a week must not depend on how many weeks are shown.
const BACKTEST_HORIZON: usize = 52;
/// How much better (relative inner MASE) a model must score to replace the default combination: a few
/// years of backtest are a noisy judge, and switching on smaller margins lost accuracy on held-out years.
const SWITCH_MARGIN: f64 = 0.35;
/// Weeks averaged by the `recent_mean` fallback.
const RECENT_WEEKS: usize = 8;
/// Backtest errors needed before interval widths use their empirical quantiles.
const MIN_ERRORS_FOR_QUANTILES: usize = 50;
/// Weight of each older backtest origin's errors against the next newer one's in the interval quantiles: a
/// series' volatility drifts, and the newest origins say most about the weeks to come. Measured with
/// `forecast backtest` (README, "Forecasts"): 80% cover of 76.5% -> 78.4% on the Chicago series, 81.7% -> 79.3%
/// on them cut 1-4 years earlier, 82.3% -> 82.7% on the generated ones; no point forecast changes.
const ORIGIN_WEIGHT_DECAY: f64 = 0.7;
const Z80: f64 = 1.281_551_565_5;
const Z95: f64 = 1.959_963_985;

/// A point forecast with 80% and 95% prediction intervals, one value per week ahead.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Forecast {
    pub(crate) model: String,
    pub(crate) mean: Vec<f64>,
    pub(crate) lo80: Vec<f64>,
    pub(crate) hi80: Vec<f64>,
    pub(crate) lo95: Vec<f64>,
    pub(crate) hi95: Vec<f64>,
}

/// One candidate's score in the selection backtest (mean over rolling origins).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ModelScore {
    pub(crate) model: String,
    pub(crate) mase: f64,
    pub(crate) smape: f64,
}

/// The model chosen for a series, why, how every candidate scored, and its forecast.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Selection {
    pub(crate) chosen: String,
    pub(crate) fallback_reason: Option<String>,
    pub(crate) scores: Vec<ModelScore>,
    pub(crate) forecast: Forecast,
}

/// Anything that turns a weekly history into a forecast with intervals.
pub trait Model {
    /// Stable name, shown to managers and stored with forecasts.
    fn name(&self) -> &'static str;
    /// Fits to `history` (oldest first) and forecasts `horizon` weeks with intervals.
    fn fit_predict(&self, history: &[f64], horizon: usize) -> Forecast;
}

/// The forecasting methods Doorstep chooses between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Candidate {
    /// Last year's value for the same week: the floor every other model must beat.
    SeasonalNaive,
    /// Additive Holt–Winters with damped trend, season 52.
    HoltWinters,
    /// Theta method on the series adjusted by the multi-year seasonal profile.
    Theta,
    /// Damped-trend ETS on the series adjusted by the multi-year seasonal profile (STL + ETS).
    StlEts,
    /// Damped-trend ETS on the series adjusted by yearly Fourier terms.
    FourierEts,
    /// Last year's value moved by the year-on-year change of the yearly mean: seasonal naive that follows growth.
    RelevelledNaive,
    /// Equal-weight average of `theta`, `stl_ets` and `relevelled_naive`: the default pick.
    Combination,
    /// Last value (short histories).
    Naive,
    /// Mean of the last eight weeks (short histories).
    RecentMean,
    /// Damped-trend ETS without seasonality (short histories).
    DampedHolt,
}

impl Candidate {
    /// Candidates once there are two seasons of history.
    pub const SEASONAL: [Candidate; 7] = [
        Candidate::SeasonalNaive,
        Candidate::HoltWinters,
        Candidate::Theta,
        Candidate::StlEts,
        Candidate::FourierEts,
        Candidate::RelevelledNaive,
        Candidate::Combination,
    ];
    /// Candidates for shorter histories, which cannot show a yearly cycle.
    pub const NON_SEASONAL: [Candidate; 3] = [
        Candidate::Naive,
        Candidate::RecentMean,
        Candidate::DampedHolt,
    ];

    /// Stable name, shown to managers and stored with forecasts.
    pub fn name(self) -> &'static str {
        match self {
            Candidate::SeasonalNaive => "seasonal_naive",
            Candidate::HoltWinters => "holt_winters_damped",
            Candidate::Theta => "theta",
            Candidate::StlEts => "stl_ets",
            Candidate::FourierEts => "fourier_ets",
            Candidate::RelevelledNaive => "relevelled_naive",
            Candidate::Combination => "combination",
            Candidate::Naive => "naive",
            Candidate::RecentMean => "recent_mean",
            Candidate::DampedHolt => "damped_holt",
        }
    }

    /// Point forecast for `horizon` weeks after `history` (clamped at 0, never NaN); a seasonal model forecasts
    /// 0 for a week of an off season ([`seasonal::off_season`]).
    pub fn point_forecast(self, history: &[f64], horizon: usize) -> Vec<f64> {
        let horizon = horizon.min(MAX_HORIZON);
        let y = sanitize(history);
        let Some(&last) = y.last() else {
            return vec![0.0; horizon];
        };
        let mut f = self.raw_forecast(&y, horizon);
        f.resize(horizon, last);
        for v in &mut f {
            *v = if v.is_finite() {
                v.max(0.0)
            } else {
                last.max(0.0)
            };
        }
        if Candidate::SEASONAL.contains(&self) && y.len() >= MIN_SEASONAL_HISTORY {
            for (h, v) in f.iter_mut().enumerate() {
                if seasonal::off_season(&y, y.len() + h) {
                    *v = 0.0;
                }
            }
        }
        f
    }

    /// Forecast of a non-empty, finite series.
    fn raw_forecast(self, y: &[f64], horizon: usize) -> Vec<f64> {
        let n = y.len();
        match self {
            Candidate::SeasonalNaive if n >= SEASON_LAG => (0..horizon)
                .map(|h| y[n - SEASON_LAG + h % SEASON_LAG])
                .collect(),
            Candidate::HoltWinters => ets::holt_winters_damped(y, SEASON_LAG, horizon)
                .unwrap_or_else(|| ets::damped_holt(y, horizon)),
            Candidate::Theta
            | Candidate::StlEts
            | Candidate::FourierEts
            | Candidate::RelevelledNaive
            | Candidate::Combination
                if n > SEASON_LAG =>
            {
                // Counts vary in proportion to their level, so work on logs when all values are positive.
                if y.iter().all(|v| *v > 0.0) {
                    let logs: Vec<f64> = y.iter().map(|v| v.ln()).collect();
                    self.decomposed(&logs, horizon)
                        .into_iter()
                        .map(f64::exp)
                        .collect()
                } else {
                    self.decomposed(y, horizon)
                }
            }
            Candidate::RecentMean => {
                let k = n.min(RECENT_WEEKS);
                vec![y[n - k..].iter().sum::<f64>() / k as f64; horizon]
            }
            Candidate::DampedHolt => ets::damped_holt(y, horizon),
            // Naive, and seasonal models asked to forecast from under a season of data.
            _ => vec![y[n - 1]; horizon],
        }
    }

    /// The decomposition-based models: a seasonal part plus a level model on the adjusted series, once a level
    /// shift of the last two years is taken out of the history (else it reads as growth).
    fn decomposed(self, y: &[f64], horizon: usize) -> Vec<f64> {
        let add = |level: Vec<f64>, season: &[f64]| -> Vec<f64> {
            level.iter().zip(season).map(|(l, s)| l + s).collect()
        };
        let mut d = seasonal::profile_decompose(y, horizon);
        let steady = seasonal::level_shift(&d.adjusted).map(|s| s.taken_out(y));
        if let Some(steady) = &steady {
            d = seasonal::profile_decompose(steady, horizon);
        }
        let y = steady.as_deref().unwrap_or(y);
        match self {
            Candidate::RelevelledNaive => return relevelled_naive(y, horizon),
            Candidate::FourierEts => d = seasonal::fourier_decompose(y, horizon),
            _ => {}
        }
        match self {
            Candidate::Theta => add(theta(&d.adjusted, horizon), &d.ahead),
            Candidate::StlEts | Candidate::FourierEts => {
                add(ets::damped_holt(&d.adjusted, horizon), &d.ahead)
            }
            _ => {
                let parts = [
                    add(theta(&d.adjusted, horizon), &d.ahead),
                    add(ets::damped_holt(&d.adjusted, horizon), &d.ahead),
                    relevelled_naive(y, horizon),
                ];
                (0..horizon)
                    .map(|h| parts.iter().map(|p| p[h]).sum::<f64>() / parts.len() as f64)
                    .collect()
            }
        }
    }
}

impl Model for Candidate {
    fn name(&self) -> &'static str {
        Candidate::name(*self)
    }

    /// Forecast with intervals from this model's own rolling-origin errors on `history`.
    fn fit_predict(&self, history: &[f64], horizon: usize) -> Forecast {
        let horizon = horizon.min(MAX_HORIZON);
        let y = sanitize(history);
        let plan = BacktestPlan::for_history(y.len());
        let errors = plan.errors(*self, &y);
        build_forecast(*self, &y, horizon, &plan.interval_errors(&y, errors))
    }
}

/// Last year's value for the same week moved by the change in the yearly mean since: a seasonal naive
/// that follows growth. `z` has at least one season; without two, there is no change to apply.
fn relevelled_naive(z: &[f64], horizon: usize) -> Vec<f64> {
    let n = z.len();
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    let growth = if n >= 2 * SEASON_LAG {
        mean(&z[n - SEASON_LAG..]) - mean(&z[n - 2 * SEASON_LAG..n - SEASON_LAG])
    } else {
        0.0
    };
    (0..horizon)
        .map(|h| z[n - SEASON_LAG + h % SEASON_LAG] + growth * (h / SEASON_LAG + 1) as f64)
        .collect()
}

/// Theta method (Hyndman & Billah form): SES level plus half the long-run linear drift.
fn theta(y: &[f64], horizon: usize) -> Vec<f64> {
    let n = y.len();
    if n < 3 {
        return vec![y.last().copied().unwrap_or(0.0); horizon];
    }
    let (_, slope) = seasonal::line(y);
    let (alpha, level) = ets::ses(y);
    let tail = (1.0 - (1.0 - alpha).powi(n as i32)) / alpha;
    (1..=horizon)
        .map(|h| level + slope / 2.0 * (h as f64 - 1.0 + tail))
        .collect()
}

/// Replaces non-finite values by the previous finite one (or 0), so no model sees NaN.
fn sanitize(history: &[f64]) -> Vec<f64> {
    let mut prev = 0.0;
    history
        .iter()
        .map(|&v| {
            if v.is_finite() {
                prev = v;
            }
            prev
        })
        .collect()
}

/// Backtest errors (actual − forecast per origin and week ahead), or their log ratios.
enum Errors {
    Absolute(Vec<Vec<f64>>),
    Log(Vec<Vec<f64>>),
}

/// Where the selection backtest cuts the history and how far it forecasts from each cut.
struct BacktestPlan {
    candidates: &'static [Candidate],
    origins: Vec<usize>,
    horizon: usize,
}

impl BacktestPlan {
    /// Origins and horizon depend on the history's length only, never on the horizon asked for.
    fn for_history(n: usize) -> Self {
        let seasonal = n >= MIN_SEASONAL_HISTORY;
        let (candidates, min_train, h): (&'static [Candidate], usize, usize) = if seasonal {
            (&Candidate::SEASONAL, MIN_SEASONAL_HISTORY, BACKTEST_HORIZON)
        } else {
            (&Candidate::NON_SEASONAL, n / 2, BACKTEST_HORIZON.min(n / 4))
        };
        let step = ORIGIN_STEP.min(h).max(1);
        let origins = (0..ORIGINS)
            .filter_map(|j| n.checked_sub(h + j * step))
            .filter(|&o| h > 0 && o >= min_train.max(1))
            .collect();
        BacktestPlan {
            candidates,
            origins,
            horizon: h,
        }
    }

    /// Forecast errors (actual − forecast) of `model` from every origin.
    fn errors(&self, model: Candidate, y: &[f64]) -> Vec<Vec<f64>> {
        self.origins
            .iter()
            .map(|&o| {
                let f = model.point_forecast(&y[..o], self.horizon);
                y[o..o + self.horizon]
                    .iter()
                    .zip(&f)
                    .map(|(a, f)| a - f)
                    .collect()
            })
            .collect()
    }

    /// Backtest errors on the scale intervals are built on: log ratios (actual / forecast) when every actual
    /// and forecast is positive, so errors from years at another level still fit; else as they are.
    fn interval_errors(&self, y: &[f64], errors: Vec<Vec<f64>>) -> Errors {
        let logs: Option<Vec<Vec<f64>>> = self
            .origins
            .iter()
            .zip(&errors)
            .map(|(&o, e)| {
                y[o..o + e.len()]
                    .iter()
                    .zip(e)
                    .map(|(a, e)| {
                        let f = a - e;
                        (*a > 0.0 && f > 0.0).then(|| (a / f).ln())
                    })
                    .collect()
            })
            .collect();
        match logs {
            Some(l) if y.iter().all(|v| *v > 0.0) => Errors::Log(l),
            _ => Errors::Absolute(errors),
        }
    }

    fn score(&self, model: Candidate, y: &[f64], errors: &[Vec<f64>]) -> ModelScore {
        let k = errors.len().max(1) as f64;
        let (mut m, mut s) = (0.0, 0.0);
        for (&o, e) in self.origins.iter().zip(errors) {
            let actual = &y[o..o + self.horizon];
            let f: Vec<f64> = actual.iter().zip(e).map(|(a, e)| a - e).collect();
            m += mase(actual, &f, &y[..o], SEASON_LAG);
            s += smape(actual, &f);
        }
        ModelScore {
            model: model.name().to_string(),
            mase: m / k,
            smape: s / k,
        }
    }
}

/// Chooses a model for a weekly series by rolling-origin backtest on `history` and forecasts `horizon` weeks.
///
/// Seasonal candidates need two years of history; with less, only non-seasonal ones are tried and
/// `fallback_reason` says so. The choice and the intervals come from a backtest over a fixed 52 weeks ahead,
/// so a week's forecast is the same whatever `horizon` is asked; intervals come from the chosen model's
/// out-of-sample errors by weeks ahead, widening with the horizon.
pub fn forecast_weekly(history: &[f64], horizon: usize) -> Selection {
    let horizon = horizon.min(MAX_HORIZON);
    let y = sanitize(history);
    let n = y.len();
    let plan = BacktestPlan::for_history(n);
    let mut reasons = Vec::new();
    if n < MIN_SEASONAL_HISTORY {
        reasons.push(format!(
            "only {n} weeks of history (seasonal models need {MIN_SEASONAL_HISTORY}): yearly pattern not modelled"
        ));
    }
    let default = if n >= MIN_SEASONAL_HISTORY {
        Candidate::Combination
    } else if n >= RECENT_WEEKS {
        Candidate::DampedHolt
    } else {
        Candidate::RecentMean
    };
    let mut chosen = (default, Vec::new());
    let mut scores = Vec::new();
    if plan.origins.is_empty() {
        reasons.push(format!(
            "too little history to backtest; using {}",
            default.name()
        ));
    } else {
        let mut tried = Vec::new();
        for &c in plan.candidates {
            let errors = plan.errors(c, &y);
            let score = plan.score(c, &y, &errors);
            tried.push((c, errors, score.mase));
            scores.push(score);
        }
        // The default stays unless another model is clearly better: a few origins are a noisy judge.
        let best = (0..tried.len()).min_by(|&a, &b| tried[a].2.total_cmp(&tried[b].2));
        let pick = match (tried.iter().position(|t| t.0 == default), best) {
            (Some(d), Some(b)) if tried[b].2 >= tried[d].2 * (1.0 - SWITCH_MARGIN) => Some(d),
            (_, b) => b,
        };
        if let Some(i) = pick {
            let t = tried.swap_remove(i);
            chosen = (t.0, t.1);
        }
    }
    let errors = plan.interval_errors(&y, chosen.1);
    let forecast = build_forecast(chosen.0, &y, horizon, &errors);
    Selection {
        chosen: chosen.0.name().to_string(),
        fallback_reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        scores,
        forecast,
    }
}

/// Point forecast of `model` plus intervals whose variance grows linearly with the step, fitted to
/// backtest errors (or to week-on-week changes when there are none); lower bounds stop at 0. Log-ratio
/// errors give multiplicative intervals, absolute ones additive.
fn build_forecast(model: Candidate, y: &[f64], horizon: usize, errors: &Errors) -> Forecast {
    let mean = model.point_forecast(y, horizon);
    let (log, errors) = match errors {
        Errors::Absolute(e) => (false, e),
        Errors::Log(e) => (true, e),
    };
    let (a, b) = if log {
        let logs: Vec<f64> = y.iter().map(|v| v.ln()).collect();
        variance_growth(&logs, errors)
    } else {
        variance_growth(y, errors)
    };
    let (z80, z95) = error_quantiles(errors, a, b);
    let mut f = Forecast {
        model: model.name().to_string(),
        mean: mean.clone(),
        lo80: Vec::with_capacity(horizon),
        hi80: Vec::with_capacity(horizon),
        lo95: Vec::with_capacity(horizon),
        hi95: Vec::with_capacity(horizon),
    };
    for (h, m) in mean.iter().enumerate() {
        let sd = (a + b * (h + 1) as f64).max(0.0).sqrt();
        if log {
            f.lo80.push(m * (-z80 * sd).exp());
            f.hi80.push(m * (z80 * sd).exp());
            f.lo95.push(m * (-z95 * sd).exp());
            f.hi95.push(m * (z95 * sd).exp());
            continue;
        }
        f.lo80.push((m - z80 * sd).max(0.0));
        f.hi80.push(m + z80 * sd);
        f.lo95.push((m - z95 * sd).max(0.0));
        f.hi95.push(m + z95 * sd);
    }
    f
}

/// Multipliers of the error scale for 80% and 95% intervals: weighted split-conformal quantiles of the
/// standardised backtest errors when there are enough of them (holidays give heavier tails than normal), else
/// normal ones. Each origin's errors weigh [`ORIGIN_WEIGHT_DECAY`] to the power of its age, the week to come
/// weighs 1 (conformal prediction beyond exchangeability, Barber et al. 2023); with equal weights this is the
/// ⌈(m+1)p⌉-th smallest of m.
fn error_quantiles(errors: &[Vec<f64>], a: f64, b: f64) -> (f64, f64) {
    let mut z: Vec<(f64, f64)> = errors
        .iter()
        .enumerate()
        .flat_map(|(j, e)| e.iter().enumerate().map(move |(k, e)| (j, k, *e)))
        .filter_map(|(j, k, e)| {
            let sd = (a + b * (k + 1) as f64).sqrt();
            (sd > 0.0).then(|| ((e / sd).abs(), ORIGIN_WEIGHT_DECAY.powi(j as i32)))
        })
        .collect();
    if z.len() < MIN_ERRORS_FOR_QUANTILES {
        return (Z80, Z95);
    }
    z.sort_by(|x, y| x.0.total_cmp(&y.0));
    let total: f64 = z.iter().map(|p| p.1).sum::<f64>() + 1.0;
    let q = |p: f64| {
        let mut c = 0.0;
        for &(v, w) in &z {
            c += w;
            if c >= p * total {
                return v;
            }
        }
        z[z.len() - 1].0
    };
    let (q80, q95) = (q(0.8), q(0.95));
    (q80, q95.max(q80))
}

/// Fits error variance = a + b·step (a, b ≥ 0) to squared backtest errors.
fn variance_growth(y: &[f64], errors: &[Vec<f64>]) -> (f64, f64) {
    let steps = errors.iter().map(Vec::len).max().unwrap_or(0);
    let msq: Vec<(f64, f64)> = (0..steps)
        .filter_map(|k| {
            let e: Vec<f64> = errors.iter().filter_map(|e| e.get(k)).copied().collect();
            (!e.is_empty()).then(|| {
                (
                    (k + 1) as f64,
                    e.iter().map(|v| v * v).sum::<f64>() / e.len() as f64,
                )
            })
        })
        .collect();
    if msq.len() >= 2 {
        let n = msq.len() as f64;
        let (mx, my) = (
            msq.iter().map(|p| p.0).sum::<f64>() / n,
            msq.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let sxx: f64 = msq.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f64 = msq.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let b = (sxy / sxx).max(0.0);
        let a = (my - b * mx).max(0.0);
        let (a, b) = if a + b > 0.0 { (a, b) } else { (my, 0.0) };
        // A few origins understate how uncertainty grows: let variance rise at least 50% a year.
        return (a, b.max(a / (2 * SEASON_LAG) as f64));
    }
    // No backtest: a random walk's variance, from week-on-week changes.
    let d: Vec<f64> = y.windows(2).map(|w| (w[1] - w[0]).powi(2)).collect();
    let v = if d.is_empty() {
        0.0
    } else {
        d.iter().sum::<f64>() / d.len() as f64
    };
    (0.0, v)
}

#[cfg(test)]
mod tests;
