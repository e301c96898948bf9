//! BG/NBD "buy till you die" model (Fader, Hardie & Lee 2005): how likely a customer is still a customer.

use chrono::NaiveDate;
use serde::Serialize;

use super::special::{ln_beta, ln_gamma, log_add_exp, logistic};
use crate::forecasts::model::optim::{nelder_mead, squash, unsquash};

/// Customers needed before the four parameters are estimated from the data rather than assumed.
pub const MIN_CUSTOMERS: usize = 20;
/// Customers with at least one repeat purchase needed for the same.
pub const MIN_REPEATERS: usize = 5;
/// Bounds of every parameter during the search (`alpha` relative to the longest customer age).
const PARAM_LO: f64 = 1e-4;
const PARAM_HI: f64 = 1e4;
/// Nelder–Mead budget per run, and restarts from the best point so far.
const MAX_EVALS: usize = 4_000;
const RESTARTS: usize = 4;
/// Series terms allowed for the expected-purchases sum (reached only when the period dwarfs α + age).
const MAX_TERMS: usize = 1_000_000;

/// One customer's purchase summary, all times in one unit (weeks, say): `frequency` repeat purchases after
/// the first, `recency` the time from the first purchase to the last, `age` from the first purchase to now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Rfm {
    frequency: u32,
    recency: f64,
    age: f64,
}

/// Why a purchase summary was refused; `field` names the offending value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RfmError {
    /// `frequency`, `recency`, `age` or `purchase_times`.
    pub field: &'static str,
    /// What is wrong, in words.
    pub message: String,
}

fn rfm_error(field: &'static str, message: impl Into<String>) -> RfmError {
    RfmError {
        field,
        message: message.into(),
    }
}

impl Rfm {
    /// Checks a summary: times finite, 0 ≤ recency ≤ age, and recency 0 when there is no repeat purchase.
    pub fn new(frequency: u32, recency: f64, age: f64) -> Result<Rfm, RfmError> {
        if !age.is_finite() || age < 0.0 {
            return Err(rfm_error(
                "age",
                format!("must be a finite number ≥ 0, got {age}"),
            ));
        }
        if !recency.is_finite() || recency < 0.0 {
            return Err(rfm_error(
                "recency",
                format!("must be a finite number ≥ 0, got {recency}"),
            ));
        }
        if recency > age {
            return Err(rfm_error(
                "recency",
                format!("{recency} is after the end of observation (age {age})"),
            ));
        }
        if frequency == 0 && recency != 0.0 {
            return Err(rfm_error(
                "recency",
                format!("must be 0 without a repeat purchase, got {recency}"),
            ));
        }
        Ok(Rfm {
            frequency,
            recency,
            age,
        })
    }

    /// Summary from purchase times (any order; purchases at the same time count once) observed up to `now`.
    pub fn from_purchase_times(times: &[f64], now: f64) -> Result<Rfm, RfmError> {
        if let Some(t) = times.iter().find(|t| !t.is_finite()) {
            return Err(rfm_error("purchase_times", format!("{t} is not a time")));
        }
        let mut t: Vec<f64> = times.to_vec();
        t.sort_by(f64::total_cmp);
        t.dedup();
        let (Some(&first), Some(&last)) = (t.first(), t.last()) else {
            return Err(rfm_error(
                "purchase_times",
                "at least one purchase is needed",
            ));
        };
        if !now.is_finite() || now < last {
            return Err(rfm_error(
                "age",
                format!("observation ends at {now}, before the last purchase at {last}"),
            ));
        }
        let frequency = u32::try_from(t.len() - 1)
            .map_err(|_| rfm_error("purchase_times", "too many purchases"))?;
        Rfm::new(frequency, last - first, now - first)
    }

    /// Summary in weeks from pickup days (any order; several on one day count once) observed up to `today`.
    pub fn from_dates(days: &[NaiveDate], today: NaiveDate) -> Result<Rfm, RfmError> {
        let Some(&first) = days.iter().min() else {
            return Err(rfm_error(
                "purchase_times",
                "at least one purchase is needed",
            ));
        };
        let weeks = |d: NaiveDate| (d - first).num_days() as f64 / 7.0;
        let times: Vec<f64> = days.iter().map(|d| weeks(*d)).collect();
        Rfm::from_purchase_times(&times, weeks(today))
    }

    /// Repeat purchases (x).
    pub fn frequency(&self) -> u32 {
        self.frequency
    }

    /// Time from the first purchase to the last (t_x).
    pub fn recency(&self) -> f64 {
        self.recency
    }

    /// Time from the first purchase to the end of observation (T).
    pub fn age(&self) -> f64 {
        self.age
    }
}

/// Which member of the family: when a customer may leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// BG/NBD: a customer may leave only after a repeat purchase, so one who never came back counts as
    /// alive (P(alive) = 1 at frequency 0).
    BgNbd,
    /// MBG/NBD (Batislam, Denizel & Filiztekin 2007): a customer may also leave right after the first
    /// purchase, so one-off customers lose P(alive) as time passes.
    ModifiedBgNbd,
}

impl Variant {
    /// Dropout opportunities beyond the repeat purchases.
    fn extra(self) -> f64 {
        match self {
            Variant::BgNbd => 0.0,
            Variant::ModifiedBgNbd => 1.0,
        }
    }
}

/// The model's four parameters, in the time unit of the data it was fitted on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Params {
    /// Shape of the purchase-rate distribution.
    pub r: f64,
    /// Scale (a time) of the purchase-rate distribution: mean rate while active is r / alpha.
    pub alpha: f64,
    /// Beta parameters of the dropout probability: mean a / (a + b) per purchase.
    pub a: f64,
    /// See `a`.
    pub b: f64,
}

/// A fitted model: the parameters, how they were obtained, and the questions it answers per customer.
///
/// While active, a customer buys at a Poisson rate λ ~ Gamma(r, α); after each purchase they leave for good
/// with probability p ~ Beta(a, b). Fitted by maximum likelihood on each customer's (frequency, recency, age).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BgNbd {
    /// Which member of the family was fitted.
    pub variant: Variant,
    /// Fitted (or assumed, see `fallback_reason`) parameters.
    pub params: Params,
    /// Total log-likelihood of the data at `params`.
    pub log_likelihood: f64,
    /// Customers in the data.
    pub customers: usize,
    /// Customers with at least one repeat purchase.
    pub repeaters: usize,
    /// Set when the parameters are assumed rather than estimated, with the reason.
    pub fallback_reason: Option<String>,
    /// Parameters that ended at a search bound (the data cannot pin them down, e.g. nobody seems to leave).
    pub at_bound: Vec<&'static str>,
}

/// Per-x constants of the likelihood: ln Γ(r+x) − ln Γ(r) + r ln α, and the two Beta-function terms.
struct XTerms {
    gamma: f64,
    alive: f64,
    dropped: Option<f64>,
}

fn x_terms(variant: Variant, p: &Params, x: u32) -> XTerms {
    let xf = f64::from(x);
    let beta = p.b + xf + variant.extra();
    let lb = ln_beta(p.a, p.b);
    XTerms {
        gamma: ln_gamma(p.r + xf) - ln_gamma(p.r) + p.r * p.alpha.ln(),
        alive: ln_beta(p.a, beta) - lb,
        dropped: (beta > p.b).then(|| ln_beta(p.a + 1.0, beta - 1.0) - lb),
    }
}

fn customer_ll(p: &Params, c: &Rfm, k: &XTerms) -> f64 {
    let s = p.r + f64::from(c.frequency);
    let alive = k.alive - s * (p.alpha + c.age).ln();
    let dropped = k
        .dropped
        .map_or(f64::NEG_INFINITY, |d| d - s * (p.alpha + c.recency).ln());
    k.gamma + log_add_exp(alive, dropped)
}

impl Params {
    /// Log-likelihood of one customer's summary.
    pub fn log_likelihood(&self, variant: Variant, c: &Rfm) -> f64 {
        customer_ll(self, c, &x_terms(variant, self, c.frequency))
    }

    /// Total log-likelihood, computing the per-frequency constants once.
    pub fn total_log_likelihood(&self, variant: Variant, data: &[Rfm]) -> f64 {
        let mut cache: Vec<Option<XTerms>> = Vec::new();
        let mut sum = 0.0;
        for c in data {
            let x = c.frequency as usize;
            if x >= cache.len() {
                cache.resize_with(x + 1, || None);
            }
            let k = cache[x].get_or_insert_with(|| x_terms(variant, self, c.frequency));
            sum += customer_ll(self, c, k);
        }
        sum
    }

    /// Probability the customer has not left by the end of observation.
    pub fn p_alive(&self, variant: Variant, c: &Rfm) -> f64 {
        let xf = f64::from(c.frequency);
        let beta = self.b + xf + variant.extra();
        if beta <= self.b {
            return 1.0;
        }
        let log_odds_gone = self.a.ln() - (beta - 1.0).ln()
            + (self.r + xf) * ((self.alpha + c.age).ln() - (self.alpha + c.recency).ln());
        logistic(-log_odds_gone)
    }

    /// Expected purchases in the `t` time units after the end of observation, given the customer's history.
    ///
    /// Computed as P(alive) × E[(1 − e^(−λpt)) / p] over the posterior of λ and p, through the hypergeometric
    /// series in its Euler-transformed form (no cancellation when a → 1 or a + b → 1).
    pub fn expected_purchases(&self, variant: Variant, c: &Rfm, t: f64) -> f64 {
        if t.is_nan() || t <= 0.0 || t.is_infinite() {
            return 0.0;
        }
        let xf = f64::from(c.frequency);
        let beta = self.b + xf + variant.extra();
        let big_c = self.a + beta - 1.0;
        let q = self.a - 1.0;
        let p = big_c - (self.r + xf);
        let base = self.alpha + c.age;
        let z = t / (base + t);
        let l = -(t / base).ln_1p();
        let e1 = if (q * l).abs() < 1e-12 {
            -l
        } else {
            -(q * l).exp_m1() / q
        };
        let mut term = p * z;
        let mut sum = term;
        let mut n = 1.0;
        for _ in 0..MAX_TERMS {
            term *= (p + n) * (q + n) / ((big_c + n) * (n + 1.0)) * z;
            sum += term;
            n += 1.0;
            if term.abs() <= 1e-16 * sum.abs().max(1e-300) || term == 0.0 {
                break;
            }
        }
        let if_alive = big_c * e1 - (q * l).exp() * sum;
        let v = self.p_alive(variant, c) * if_alive;
        if v.is_finite() {
            v.max(0.0)
        } else {
            0.0
        }
    }

    /// Expected repeat purchases of a new customer in their first `t` time units.
    pub fn expected_purchases_new(&self, variant: Variant, t: f64) -> f64 {
        let fresh = Rfm {
            frequency: 0,
            recency: 0.0,
            age: 0.0,
        };
        match variant {
            // Unconditional BG/NBD: everyone starts alive.
            Variant::BgNbd => self.expected_purchases(variant, &fresh, t),
            // The modified model may lose a customer at time 0: weigh the alive branch by E[1 − p].
            Variant::ModifiedBgNbd => {
                let shifted = Params {
                    b: self.b + 1.0,
                    ..*self
                };
                shifted.expected_purchases(Variant::BgNbd, &fresh, t) * self.b / (self.a + self.b)
            }
        }
    }
}

impl BgNbd {
    /// Fits `variant` by maximum likelihood with a bounded search; with fewer than [`MIN_CUSTOMERS`]
    /// customers or [`MIN_REPEATERS`] repeaters it returns assumed parameters and says why.
    pub fn fit(variant: Variant, data: &[Rfm]) -> BgNbd {
        let customers = data.len();
        let repeaters = data.iter().filter(|c| c.frequency > 0).count();
        let scale = data
            .iter()
            .map(|c| c.age)
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE);
        let mut out = BgNbd {
            variant,
            params: fallback_params(data, scale),
            log_likelihood: 0.0,
            customers,
            repeaters,
            fallback_reason: None,
            at_bound: Vec::new(),
        };
        if customers < MIN_CUSTOMERS || repeaters < MIN_REPEATERS {
            out.fallback_reason = Some(format!(
                "{customers} customers, {repeaters} with a repeat purchase (need {MIN_CUSTOMERS} and \
                 {MIN_REPEATERS}): assumed one purchase per observed average gap and a 20% chance of leaving \
                 after each purchase"
            ));
        } else {
            let scaled: Vec<Rfm> = data
                .iter()
                .map(|c| Rfm {
                    frequency: c.frequency,
                    recency: c.recency / scale,
                    age: c.age / scale,
                })
                .collect();
            match search(variant, &scaled) {
                Some((p, bounds)) => {
                    out.params = Params {
                        alpha: p.alpha * scale,
                        ..p
                    };
                    out.at_bound = bounds;
                }
                None => {
                    out.fallback_reason = Some(
                        "the likelihood could not be maximised; assumed parameters".to_owned(),
                    );
                }
            }
        }
        out.log_likelihood = out.params.total_log_likelihood(variant, data);
        out
    }

    /// Probability the customer is still a customer (see [`Params::p_alive`]).
    pub fn p_alive(&self, c: &Rfm) -> f64 {
        self.params.p_alive(self.variant, c)
    }

    /// Expected purchases in the next `t` time units (see [`Params::expected_purchases`]).
    pub fn expected_purchases(&self, c: &Rfm, t: f64) -> f64 {
        self.params.expected_purchases(self.variant, c, t)
    }
}

/// Parameters assumed when the data cannot support a fit: r = 1 (rates vary like an exponential), the
/// mean rate the pooled data shows, and dropout p ~ Beta(1, 4).
fn fallback_params(data: &[Rfm], scale: f64) -> Params {
    let purchases: f64 = data.iter().map(|c| f64::from(c.frequency)).sum();
    let exposure: f64 = data.iter().map(|c| c.age).sum();
    let alpha = if purchases > 0.0 && exposure > 0.0 {
        exposure / purchases
    } else {
        scale
    };
    Params {
        r: 1.0,
        alpha,
        a: 1.0,
        b: 4.0,
    }
}

const NAMES: [&str; 4] = ["r", "alpha", "a", "b"];

fn to_params(z: &[f64]) -> Params {
    let (lo, hi) = (PARAM_LO.ln(), PARAM_HI.ln());
    let v = |i: usize| squash(z[i], lo, hi).exp();
    Params {
        r: v(0),
        alpha: v(1),
        a: v(2),
        b: v(3),
    }
}

/// Maximises the mean log-likelihood over the bounded box from several starts, restarting the simplex
/// at the best point until it stops improving. Returns the best parameters and any at a bound.
fn search(variant: Variant, data: &[Rfm]) -> Option<(Params, Vec<&'static str>)> {
    let n = data.len() as f64;
    let objective = |z: &[f64]| -to_params(z).total_log_likelihood(variant, data) / n;
    let (lo, hi) = (PARAM_LO.ln(), PARAM_HI.ln());
    let start = |p: [f64; 4]| -> Vec<f64> { p.iter().map(|v| unsquash(v.ln(), lo, hi)).collect() };
    let mean_x = data.iter().map(|c| f64::from(c.frequency)).sum::<f64>() / n;
    let mean_t = data.iter().map(|c| c.age).sum::<f64>() / n;
    let rate = (mean_x / mean_t.max(1e-9)).clamp(1e-3, 1e3);
    let starts = [
        [1.0, 1.0 / rate, 1.0, 1.0],
        [0.5, 0.5 / rate, 0.5, 2.0],
        [2.0, 2.0 / rate, 2.0, 8.0],
    ];
    let mut best: Option<(Vec<f64>, f64)> = None;
    for s in starts {
        let mut z = start(s);
        let mut value = objective(&z);
        for _ in 0..RESTARTS {
            let next = nelder_mead(objective, &z, 0.5, MAX_EVALS);
            let v = objective(&next);
            let improved = v < value - 1e-12;
            if v <= value {
                z = next;
                value = v;
            }
            if !improved {
                break;
            }
        }
        if value.is_finite() && best.as_ref().is_none_or(|b| value < b.1) {
            best = Some((z, value));
        }
    }
    let (z, _) = best?;
    let p = to_params(&z);
    let bounds = [p.r, p.alpha, p.a, p.b]
        .iter()
        .zip(NAMES)
        .filter(|(v, _)| **v < PARAM_LO * 1.01 || **v > PARAM_HI * 0.99)
        .map(|(_, name)| name)
        .collect();
    Some((p, bounds))
}

#[cfg(test)]
mod tests;
