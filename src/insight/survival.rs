//! Is the garment still in the wardrobe? A cure-model survival estimate per kind and material.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::{GarmentKind, Material};

/// Longest gap modelled, in days (beyond it a garment that has not come back counts as gone).
pub const MAX_GAP_DAYS: usize = 3 * 366;
/// Weight, in gaps, of the broader group's estimate when shrinking a group's own.
pub const PRIOR_GAPS: f64 = 40.0;
/// Returns (observed gaps) needed in all the data before anything is estimated.
pub const MIN_RETURNS: usize = 10;
const EM_ITERATIONS: usize = 200;

/// One garment's history: what it is, when it was cleaned, and the last day its owner used the service.
#[derive(Debug, Clone, PartialEq)]
pub struct GarmentHistory {
    /// What the garment is.
    pub kind: GarmentKind,
    /// Its main material.
    pub material: Material,
    /// Days it was cleaned, in any order (several services on one day count once).
    pub cleaned_on: Vec<NaiveDate>,
    /// The owner's last pickup of any garment: the garment could have come back on any visit until then.
    pub owner_last_seen: NaiveDate,
}

/// A history that cannot be used; `field` names the offending value and `index` the garment.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("garment {index}: {field}: {message}")]
pub struct HistoryError {
    /// Position of the garment in the input.
    pub index: usize,
    /// `cleaned_on` or `owner_last_seen`.
    pub field: &'static str,
    /// What is wrong, in words.
    pub message: String,
}

/// Gaps of one group: completed (the garment came back after `d` days) and censored (not back after `d`).
#[derive(Debug, Default, Clone)]
struct Gaps {
    returned: Vec<usize>,
    censored: Vec<usize>,
}

/// The fitted return process of one group.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Curve {
    /// Probability a garment comes back after a cleaning at all (π).
    pub p_return: f64,
    /// `survival[d]` = P(gap > d days | it comes back), d = 0..=MAX_GAP_DAYS.
    #[serde(skip)]
    survival: Vec<f64>,
    /// Gaps that ended in a return.
    pub returns: usize,
    /// Gaps still open at the owner's last visit.
    pub open: usize,
}

impl Curve {
    /// P(gap > `days` | the garment comes back).
    pub fn survival(&self, days: usize) -> f64 {
        self.survival.get(days).copied().unwrap_or(0.0)
    }

    /// P(still in use | not back `days` after its last cleaning while the owner kept coming).
    pub fn p_in_use(&self, days: usize) -> f64 {
        let kept = self.p_return * self.survival(days);
        let gone = 1.0 - self.p_return;
        if kept + gone > 0.0 {
            kept / (kept + gone)
        } else {
            1.0
        }
    }

    fn blend(own: &Curve, prior: &Curve, k: f64) -> Curve {
        let n = (own.returns + own.open) as f64;
        let m = own.returns as f64;
        let w = |own_weight: f64| own_weight / (own_weight + k);
        let (wp, ws) = (w(n), w(m));
        Curve {
            p_return: wp * own.p_return + (1.0 - wp) * prior.p_return,
            survival: own
                .survival
                .iter()
                .zip(&prior.survival)
                .map(|(a, b)| ws * a + (1.0 - ws) * b)
                .collect(),
            returns: own.returns,
            open: own.open,
        }
    }
}

/// Cure-model fits for every kind × material seen, every kind, and all garments together.
///
/// After each cleaning a garment either comes back some day (probability π, after a gap with survival S)
/// or never does (discarded, given away, cleaned elsewhere). A garment not back `s` days after its last
/// cleaning, while its owner kept using the service, is still in use with probability
/// π·S(s) / (π·S(s) + 1 − π). π and S are fitted per group by EM over right-censored gaps (Taylor 1995),
/// and thin groups are shrunk towards their kind, then towards all garments.
#[derive(Debug, Clone, PartialEq)]
pub struct WardrobeSurvival {
    /// All garments pooled.
    pub overall: Curve,
    /// Per kind, shrunk towards `overall`.
    pub by_kind: HashMap<GarmentKind, Curve>,
    /// Per kind and material, shrunk towards its kind.
    pub by_group: HashMap<(GarmentKind, Material), Curve>,
    /// Set when there was too little history and every garment counts as in use.
    pub fallback_reason: Option<String>,
}

fn days_between(from: NaiveDate, to: NaiveDate) -> usize {
    usize::try_from((to - from).num_days()).unwrap_or(0)
}

fn gaps_of(index: usize, g: &GarmentHistory) -> Result<Gaps, HistoryError> {
    let err = |field, message: String| HistoryError {
        index,
        field,
        message,
    };
    let mut days = g.cleaned_on.clone();
    days.sort();
    days.dedup();
    let Some(&last) = days.last() else {
        return Err(err(
            "cleaned_on",
            "a garment needs at least one cleaning".into(),
        ));
    };
    if g.owner_last_seen < last {
        return Err(err(
            "owner_last_seen",
            format!(
                "{} is before the garment's last cleaning on {last}",
                g.owner_last_seen
            ),
        ));
    }
    Ok(Gaps {
        returned: days.windows(2).map(|w| days_between(w[0], w[1])).collect(),
        censored: vec![days_between(last, g.owner_last_seen)],
    })
}

/// Fits π and S by EM: censored gaps count as "will return" with their posterior weight; S is the
/// weighted Kaplan–Meier estimate, zero beyond the longest observed return (or [`MAX_GAP_DAYS`]).
fn fit_curve(g: &Gaps) -> Curve {
    let grid = MAX_GAP_DAYS + 1;
    let mut events = vec![0.0; grid];
    for &d in &g.returned {
        events[d.min(MAX_GAP_DAYS)] += 1.0;
    }
    let max_return = g.returned.iter().max().map_or(0, |&d| d.min(MAX_GAP_DAYS));
    let n = (g.returned.len() + g.censored.len()) as f64;
    let km = |weights: &[f64]| -> Vec<f64> {
        // at_risk[d]: gaps lasting at least d days (returns on day d, or open at ≥ d days).
        let mut leaving = vec![0.0; grid + 1];
        for (d, e) in events.iter().enumerate() {
            leaving[d + 1] += e;
        }
        for (&c, w) in g.censored.iter().zip(weights) {
            leaving[(c + 1).min(grid)] += w;
        }
        let mut at_risk = events.iter().sum::<f64>() + weights.iter().sum::<f64>();
        let mut s = 1.0;
        (0..grid)
            .map(|d| {
                at_risk -= leaving[d];
                if d > max_return {
                    s = 0.0;
                } else if at_risk > 0.0 {
                    s *= 1.0 - events[d] / at_risk;
                }
                s
            })
            .collect()
    };
    let mut p_return = if n > 0.0 {
        ((g.returned.len() as f64 + 0.5 * g.censored.len() as f64) / n).clamp(0.01, 0.99)
    } else {
        1.0
    };
    let mut weights = vec![1.0; g.censored.len()];
    let mut survival = km(&weights);
    if g.returned.is_empty() {
        // Nothing ever came back: no return curve, and no evidence anything is kept.
        return Curve {
            p_return: 0.0,
            survival,
            returns: 0,
            open: g.censored.len(),
        };
    }
    for _ in 0..EM_ITERATIONS {
        for (w, &c) in weights.iter_mut().zip(&g.censored) {
            let kept = p_return * survival[c.min(MAX_GAP_DAYS)];
            *w = if kept > 0.0 {
                kept / (kept + 1.0 - p_return)
            } else {
                0.0
            };
        }
        let next = (g.returned.len() as f64 + weights.iter().sum::<f64>()) / n;
        survival = km(&weights);
        let done = (next - p_return).abs() < 1e-9;
        p_return = next;
        if done {
            break;
        }
    }
    Curve {
        p_return,
        survival,
        returns: g.returned.len(),
        open: g.censored.len(),
    }
}

impl WardrobeSurvival {
    /// Fits the model on every garment's history; a bad history is an error naming the garment and field.
    pub fn fit(histories: &[GarmentHistory]) -> Result<WardrobeSurvival, HistoryError> {
        let mut all = Gaps::default();
        let mut kinds: HashMap<GarmentKind, Gaps> = HashMap::new();
        let mut groups: HashMap<(GarmentKind, Material), Gaps> = HashMap::new();
        for (i, h) in histories.iter().enumerate() {
            let g = gaps_of(i, h)?;
            for target in [
                &mut all,
                kinds.entry(h.kind).or_default(),
                groups.entry((h.kind, h.material)).or_default(),
            ] {
                target.returned.extend(&g.returned);
                target.censored.extend(&g.censored);
            }
        }
        let overall = fit_curve(&all);
        let fallback_reason = (all.returned.len() < MIN_RETURNS).then(|| {
            format!(
                "{} garments came back after a cleaning (need {MIN_RETURNS}): every garment counts as in use",
                all.returned.len()
            )
        });
        let by_kind: HashMap<GarmentKind, Curve> = kinds
            .iter()
            .map(|(k, g)| (*k, Curve::blend(&fit_curve(g), &overall, PRIOR_GAPS)))
            .collect();
        let by_group = groups
            .iter()
            .filter_map(|(key, g)| {
                let parent = by_kind.get(&key.0)?;
                Some((*key, Curve::blend(&fit_curve(g), parent, PRIOR_GAPS)))
            })
            .collect();
        Ok(WardrobeSurvival {
            overall,
            by_kind,
            by_group,
            fallback_reason,
        })
    }

    /// The most specific curve for a garment: its kind and material, else its kind, else all garments.
    pub fn curve(&self, kind: GarmentKind, material: Material) -> &Curve {
        self.by_group
            .get(&(kind, material))
            .or_else(|| self.by_kind.get(&kind))
            .unwrap_or(&self.overall)
    }

    /// P(still owned and worn) for a garment not back `days` after its last cleaning. Pass the days from
    /// that cleaning to the owner's last visit: the owner's own absence is the customer model's business.
    pub fn p_in_use(&self, kind: GarmentKind, material: Material, days: usize) -> f64 {
        if self.fallback_reason.is_some() {
            return 1.0;
        }
        self.curve(kind, material).p_in_use(days)
    }

    /// [`Self::p_in_use`] for one history, measured to its owner's last visit.
    pub fn p_in_use_of(&self, h: &GarmentHistory) -> Result<f64, HistoryError> {
        let g = gaps_of(0, h)?;
        let days = g.censored.first().copied().unwrap_or(0);
        Ok(self.p_in_use(h.kind, h.material, days))
    }
}

#[cfg(test)]
mod tests;
