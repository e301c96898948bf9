//! Still a customer? The BG/NBD answer calibrated on the company's own comebacks, rhythm and complaints.

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::bgnbd::{BgNbd, Rfm};
use super::special::logistic;

/// Days after a past cut-off in which a visit counts as "came back".
pub const HORIZON_DAYS: i64 = 180;
/// Past cut-offs, in days before the list day minus the horizon (so each one's outcome is known).
const CUTOFF_STEPS: [i64; 4] = [0, 60, 120, 180];
/// Labelled customer-cut-offs needed, and comebacks and no-shows among them, before calibrating.
pub const MIN_SAMPLES: usize = 200;
/// See [`MIN_SAMPLES`].
pub const MIN_EACH: usize = 20;
const FEATURES: usize = 5;
const RIDGE: f64 = 1e-3;
const NEWTON_STEPS: usize = 50;
/// Customers sampled (evenly) for the calibration at most: enough for its five coefficients.
const MAX_CUSTOMERS: usize = 50_000;

/// A customer's visits as the model needs them: first and last day and how many distinct days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visits {
    /// First visit day.
    pub first: NaiveDate,
    /// Last visit day.
    pub last: NaiveDate,
    /// Distinct visit days.
    pub days: u32,
}

impl Visits {
    /// Summarises sorted, distinct visit days (`None` when there are none).
    pub fn of(days: &[NaiveDate]) -> Option<Visits> {
        Some(Visits {
            first: *days.first()?,
            last: *days.last()?,
            days: u32::try_from(days.len()).ok()?,
        })
    }

    /// The BG/NBD summary in weeks, observed to `on`.
    fn rfm(&self, on: NaiveDate) -> Option<Rfm> {
        let weeks = |d: NaiveDate| (d - self.first).num_days() as f64 / 7.0;
        Rfm::new(self.days.checked_sub(1)?, weeks(self.last), weeks(on)).ok()
    }
}

/// A complaint as P(active) reads it: the day it was made and the day it was resolved, if it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Complaint {
    /// Day it was made.
    pub made: NaiveDate,
    /// Day it was resolved.
    pub resolved: Option<NaiveDate>,
}

/// True when a complaint made on or after the last visit's day and before `before` was still open then: the
/// customer complained and has not come back since.
pub fn left_complaining(complaints: &[Complaint], last: NaiveDate, before: NaiveDate) -> bool {
    complaints
        .iter()
        .any(|c| c.made >= last && c.made < before && c.resolved.is_none_or(|r| r >= before))
}

/// One customer's history as the calibration reads it: sorted distinct visit days and their complaints.
#[derive(Debug, Clone, Copy)]
pub struct History<'a> {
    /// Visit days, sorted and distinct.
    pub visits: &'a [NaiveDate],
    /// Complaints, in any order.
    pub complaints: &'a [Complaint],
}

/// What describes a customer on a day: BG/NBD's P(alive), how overdue against their own rhythm, how many visits,
/// and whether they complained after their last visit with the complaint still open.
fn features(
    model: &BgNbd,
    v: &Visits,
    on: NaiveDate,
    usual_gap: f64,
    complaining: bool,
) -> Option<[f64; FEATURES]> {
    let rfm = v.rfm(on)?;
    let (first, last, visits) = (v.first, v.last, v.days as usize);
    let gap = if visits > 1 {
        (last - first).num_days() as f64 / (visits - 1) as f64
    } else {
        usual_gap
    };
    let ratio = (on - last).num_days() as f64 / gap.max(1.0);
    let p = model.p_alive(&rfm).clamp(1e-6, 1.0 - 1e-6);
    Some([
        1.0,
        (p / (1.0 - p)).ln(),
        ratio.max(0.0).ln_1p(),
        (visits as f64).ln(),
        f64::from(u8::from(complaining)),
    ])
}

/// P(still a customer): BG/NBD's P(alive) mapped through a logistic regression, learnt from the company's own
/// history, of "came back within [`HORIZON_DAYS`]" on the model's answer, the customer's recency against their
/// own mean gap between visits, their number of visits and an open complaint since their last visit, at past
/// cut-offs whose outcome is known. What a complaint says is learnt, not assumed: where complainers come back
/// as often as anyone, its weight stays near zero.
///
/// BG/NBD assumes visits arrive at random (Poisson); laundry customers come in a rhythm, so a long silence from
/// a regular says more than the model thinks. The calibration keeps the model's answer and learns how much more.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    coefficients: Option<[f64; FEATURES]>,
    usual_gap: f64,
    /// Labelled customer-cut-offs the calibration learnt from.
    pub samples: usize,
    /// Of those, how many came back.
    pub comebacks: usize,
}

impl Activity {
    /// Learns the calibration from every customer's visit days (sorted, distinct), as seen on past cut-offs
    /// before `on`. With too little history the model's own P(alive) is used.
    pub fn fit(model: &BgNbd, customers: &[History], on: NaiveDate) -> Activity {
        let mut gaps: Vec<f64> = customers
            .iter()
            .map(|h| h.visits)
            .filter(|d| d.len() > 1)
            .filter_map(|d| {
                let (first, last) = (d.first()?, d.last()?);
                Some((*last - *first).num_days() as f64 / (d.len() - 1) as f64)
            })
            .collect();
        gaps.sort_by(f64::total_cmp);
        let usual_gap = gaps.get(gaps.len() / 2).copied().unwrap_or(30.0);
        let mut x = Vec::new();
        let mut y = Vec::new();
        let stride = customers.len().div_ceil(MAX_CUSTOMERS).max(1);
        for step in CUTOFF_STEPS {
            let cutoff = on - chrono::Duration::days(HORIZON_DAYS + step);
            let until = cutoff + chrono::Duration::days(HORIZON_DAYS);
            for h in customers.iter().step_by(stride) {
                let days = h.visits;
                let before = days.partition_point(|d| *d < cutoff);
                if before == 0 {
                    continue;
                }
                let Some(f) = Visits::of(&days[..before]).and_then(|v| {
                    let complaining = left_complaining(h.complaints, v.last, cutoff);
                    features(model, &v, cutoff, usual_gap, complaining)
                }) else {
                    continue;
                };
                let came_back = days[before..].iter().any(|d| *d <= until);
                x.push(f);
                y.push(came_back);
            }
        }
        let comebacks = y.iter().filter(|b| **b).count();
        let usable =
            x.len() >= MIN_SAMPLES && comebacks >= MIN_EACH && x.len() - comebacks >= MIN_EACH;
        Activity {
            coefficients: usable.then(|| logistic_fit(&x, &y)).flatten(),
            usual_gap,
            samples: x.len(),
            comebacks,
        }
    }

    /// True when the calibration was learnt (else P(alive) is the model's own).
    pub fn calibrated(&self) -> bool {
        self.coefficients.is_some()
    }

    /// P(still a customer) on `on` for a customer with these visits (none after `on`), `complaining` when
    /// [`left_complaining`] holds for them at the end of `on`.
    pub fn p_active(
        &self,
        model: &BgNbd,
        v: &Visits,
        on: NaiveDate,
        complaining: bool,
    ) -> Option<f64> {
        let f = features(model, v, on, self.usual_gap, complaining)?;
        Some(match &self.coefficients {
            Some(b) => logistic(b.iter().zip(&f).map(|(b, f)| b * f).sum()),
            None => model.p_alive(&v.rfm(on)?),
        })
    }
}

/// Maximum-likelihood logistic regression by Newton's method with a small ridge on the slopes; `None` when a
/// step cannot be solved or does not settle.
fn logistic_fit(x: &[[f64; FEATURES]], y: &[bool]) -> Option<[f64; FEATURES]> {
    let mut b = [0.0; FEATURES];
    for _ in 0..NEWTON_STEPS {
        let mut grad = [0.0; FEATURES];
        let mut hess = [[0.0; FEATURES]; FEATURES];
        for (f, &yes) in x.iter().zip(y) {
            let p = logistic(b.iter().zip(f).map(|(b, f)| b * f).sum());
            let r = f64::from(u8::from(yes)) - p;
            let w = p * (1.0 - p);
            for i in 0..FEATURES {
                grad[i] += r * f[i];
                for j in 0..FEATURES {
                    hess[i][j] += w * f[i] * f[j];
                }
            }
        }
        for i in 1..FEATURES {
            grad[i] -= RIDGE * b[i] * x.len() as f64;
            hess[i][i] += RIDGE * x.len() as f64;
        }
        let step = solve(hess, grad)?;
        let mut size = 0.0f64;
        for i in 0..FEATURES {
            b[i] += step[i];
            size = size.max(step[i].abs());
        }
        if !b.iter().all(|v| v.is_finite()) {
            return None;
        }
        if size < 1e-9 {
            return Some(b);
        }
    }
    Some(b)
}

/// Solves `a · s = g` by Gaussian elimination with partial pivoting.
fn solve(mut a: [[f64; FEATURES]; FEATURES], mut g: [f64; FEATURES]) -> Option<[f64; FEATURES]> {
    for col in 0..FEATURES {
        let pivot = (col..FEATURES).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        g.swap(col, pivot);
        for row in col + 1..FEATURES {
            let k = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (cell, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *cell -= k * p;
            }
            g[row] -= k * g[col];
        }
    }
    let mut s = [0.0; FEATURES];
    for row in (0..FEATURES).rev() {
        let rest: f64 = (row + 1..FEATURES).map(|c| a[row][c] * s[c]).sum();
        s[row] = (g[row] - rest) / a[row][row];
    }
    Some(s)
}

/// Every customer's visit days and complaints ordered by customer id: an even sample of it (every n-th) is the
/// same in every process, where a map's own order changes with each one.
pub fn in_id_order<'a>(
    visits: &'a HashMap<Uuid, Vec<NaiveDate>>,
    complaints: &'a HashMap<Uuid, Vec<Complaint>>,
) -> Vec<History<'a>> {
    let mut ordered: Vec<(&Uuid, &Vec<NaiveDate>)> = visits.iter().collect();
    ordered.sort_unstable_by_key(|(id, _)| **id);
    ordered
        .into_iter()
        .map(|(id, d)| History {
            visits: d,
            complaints: complaints.get(id).map_or(&[][..], Vec::as_slice),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insight::bgnbd::Variant;

    #[test]
    fn a_sample_in_id_order_does_not_depend_on_the_map() {
        let day = |n: u64| {
            NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid test input")
                + chrono::Days::new(n % 300)
        };
        let customers: Vec<(Uuid, Vec<NaiveDate>)> = (0..2_000u64)
            .map(|i| {
                let id = Uuid::from_u64_pair(i.wrapping_mul(0x9E37_79B9_7F4A_7C15), i);
                (id, vec![day(i), day(i * 7 + 3)])
            })
            .collect();
        // Two maps, each with its own hasher keys, filled in opposite orders.
        let a: HashMap<Uuid, Vec<NaiveDate>> = customers.iter().cloned().collect();
        let b: HashMap<Uuid, Vec<NaiveDate>> = customers.iter().rev().cloned().collect();
        assert_ne!(
            a.keys().take(50).collect::<Vec<_>>(),
            b.keys().take(50).collect::<Vec<_>>(),
            "the maps' own orders differ, so the test can fail"
        );
        let none = HashMap::new();
        let sample = |m| {
            in_id_order(m, &none)
                .into_iter()
                .step_by(7)
                .map(|h| h.visits)
                .collect::<Vec<_>>()
        };
        assert_eq!(sample(&a), sample(&b));
        assert_eq!(in_id_order(&a, &none).len(), 2_000);
    }

    #[test]
    fn logistic_regression_recovers_known_coefficients() {
        // Deterministic pseudo-random features; outcomes drawn by a fixed-seed LCG.
        let truth = [-0.5, 1.2, -2.0, 0.7, -1.0];
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..40_000 {
            let f = [
                1.0,
                next() * 4.0 - 2.0,
                next() * 2.0,
                next() * 3.0,
                f64::from(u8::from(next() < 0.3)),
            ];
            let p = logistic(truth.iter().zip(&f).map(|(b, f)| b * f).sum());
            x.push(f);
            y.push(next() < p);
        }
        let b = logistic_fit(&x, &y).expect("fits");
        for (got, want) in b.iter().zip(truth) {
            assert!((got - want).abs() < 0.1, "{b:?}");
        }
    }

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, 1).expect("date") + chrono::Duration::days(n)
    }

    #[test]
    fn a_long_silence_from_a_regular_customer_means_gone() {
        // 400 regulars visiting every 14 days; half stop at some point in the history.
        let mut all: Vec<Vec<NaiveDate>> = Vec::new();
        for i in 0..400i64 {
            let stop = if i % 2 == 0 {
                800
            } else {
                200 + (i * 37) % 500
            };
            all.push(
                (0..)
                    .map(|k| k * 14 + i % 14)
                    .take_while(|d| *d < stop)
                    .map(day)
                    .collect(),
            );
        }
        let on = day(800);
        let summaries: Vec<Rfm> = all
            .iter()
            .filter_map(|d| Rfm::from_dates(d, on).ok())
            .collect();
        let model = BgNbd::fit(Variant::ModifiedBgNbd, &summaries);
        let refs: Vec<History> = all
            .iter()
            .map(|d| History {
                visits: d,
                complaints: &[],
            })
            .collect();
        let activity = Activity::fit(&model, &refs, on);
        assert!(activity.calibrated(), "{activity:?}");
        // Last seen 2 days ago, as usual; gone: last seen 234 days ago after visiting every 14 days.
        let still: Vec<NaiveDate> = (0..58).map(|k| day(k * 14)).collect();
        let gone: Vec<NaiveDate> = (0..20).map(|k| day(k * 14 + 300)).collect();
        let (still, gone) = (
            Visits::of(&still).expect("visits"),
            Visits::of(&gone).expect("visits"),
        );
        let p_still = activity.p_active(&model, &still, on, false).expect("still");
        let p_gone = activity.p_active(&model, &gone, on, false).expect("gone");
        assert!(p_still > 0.9, "{p_still}");
        assert!(p_gone < 0.1, "{p_gone}");
        // Too little history: the model's own answer.
        let few = Activity::fit(&model, &refs[..3], on);
        assert!(!few.calibrated());
        let own = model.p_alive(&gone.rfm(on).expect("rfm"));
        assert_eq!(few.p_active(&model, &gone, on, false), Some(own));
    }

    /// 600 regulars visiting every 14 days; a third stop at some point, and `leavers_complain` says whether
    /// those complain (unresolved) after their last visit. A tenth of the others complain after every visit
    /// and keep coming.
    fn complaining_company(leavers_complain: bool) -> (BgNbd, Activity, NaiveDate) {
        let on = day(800);
        let mut all: Vec<(Vec<NaiveDate>, Vec<Complaint>)> = Vec::new();
        for i in 0..600i64 {
            let stop = if i % 3 == 0 {
                200 + (i * 37) % 560
            } else {
                800
            };
            let visits: Vec<NaiveDate> = (0..)
                .map(|k| k * 14 + i % 14)
                .take_while(|d| *d < stop)
                .map(day)
                .collect();
            let last = *visits.last().expect("visits");
            let mut complaints = Vec::new();
            if stop < 800 && leavers_complain {
                complaints.push(Complaint {
                    made: last + chrono::Duration::days(3),
                    resolved: None,
                });
            } else if i % 10 == 1 {
                // Complains after every visit, and keeps coming.
                complaints.extend(visits.iter().map(|d| Complaint {
                    made: *d + chrono::Duration::days(3),
                    resolved: None,
                }));
            }
            all.push((visits, complaints));
        }
        let summaries: Vec<Rfm> = all
            .iter()
            .filter_map(|(d, _)| Rfm::from_dates(d, on).ok())
            .collect();
        let model = BgNbd::fit(Variant::ModifiedBgNbd, &summaries);
        let refs: Vec<History> = all
            .iter()
            .map(|(visits, complaints)| History { visits, complaints })
            .collect();
        let activity = Activity::fit(&model, &refs, on);
        assert!(activity.calibrated(), "{activity:?}");
        (model, activity, on)
    }

    #[test]
    fn an_open_complaint_since_the_last_visit_counts_where_complainers_left() {
        // Last seen 20 days ago after visiting every 14 days: overdue a little, not yet gone by rhythm alone.
        let visits: Vec<NaiveDate> = (0..55).map(|k| day(k * 14 + 24)).collect();
        let v = Visits::of(&visits).expect("visits");
        let (model, activity, on) = complaining_company(true);
        let quiet = activity.p_active(&model, &v, on, false).expect("p");
        let complained = activity.p_active(&model, &v, on, true).expect("p");
        assert!(complained < quiet - 0.2, "{complained} against {quiet}");
        // Where only those who keep coming complain, a complaint does not make anyone look gone.
        let (model, activity, on) = complaining_company(false);
        let quiet = activity.p_active(&model, &v, on, false).expect("p");
        let complained = activity.p_active(&model, &v, on, true).expect("p");
        assert!(complained > quiet - 0.02, "{complained} against {quiet}");
    }

    #[test]
    fn only_an_open_complaint_after_the_last_visit_is_leaving_complaining() {
        let c = |made: i64, resolved: Option<i64>| Complaint {
            made: day(made),
            resolved: resolved.map(day),
        };
        let (last, before) = (day(100), day(120));
        assert!(left_complaining(&[c(103, None)], last, before));
        assert!(
            left_complaining(&[c(100, Some(125))], last, before),
            "resolved later"
        );
        assert!(
            !left_complaining(&[c(103, Some(110))], last, before),
            "resolved"
        );
        assert!(
            !left_complaining(&[c(90, None)], last, before),
            "came back since"
        );
        assert!(
            !left_complaining(&[c(120, None)], last, before),
            "not yet made"
        );
        assert!(!left_complaining(&[], last, before));
    }
}
