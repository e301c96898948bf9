//! The day's customer values kept: every customer's `customer_rates()` and the base-wide RFM cut points, exact.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::maintained::delta;
use crate::error::AppResult;
use crate::state::{AppState, Settings};

/// One customer's value inputs on the list day, as `customer_rates()` gives them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerRates {
    pub(crate) customer_id: Uuid,
    pub(crate) pickups: i32,
    pub(crate) spend_cents: i64,
    pub(crate) first_pickup_at: DateTime<Utc>,
    pub(crate) last_pickup_at: DateTime<Utc>,
    pub(crate) recency_days: f64,
    pub(crate) tenure_days: f64,
    pub(crate) pickups_per_year: f64,
    pub(crate) yearly_spend_cents: f64,
    pub(crate) recent_yearly_cents: f64,
    pub(crate) usual_interval_days: Option<f64>,
}

impl CustomerRates {
    /// The three quintile inputs, each ordered so that higher is better: minus recency, frequency, spend.
    fn keys(&self) -> [f64; 3] {
        [
            -self.recency_days,
            self.pickups_per_year,
            self.yearly_spend_cents,
        ]
    }

    /// The lifecycle stage, by `customer_value()`'s rule.
    pub fn stage(&self) -> &'static str {
        if self.tenure_days < 120.0 {
            "new"
        } else if self
            .usual_interval_days
            .is_some_and(|u| self.recency_days > 3.0 * u.max(14.0))
        {
            "declining"
        } else if self.recent_yearly_cents > 1.3 * self.yearly_spend_cents {
            "growing"
        } else if self.recent_yearly_cents < 0.7 * self.yearly_spend_cents {
            "declining"
        } else {
            "stable"
        }
    }
}

/// A customer's RFM scores against the day's cut points, and the tier they make.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub(crate) r: i32,
    pub(crate) f: i32,
    pub(crate) m: i32,
    pub(crate) tier: &'static str,
}

/// The quintile cut points of the three inputs.
pub struct Cuts([[f64; 4]; 3]);

/// Every customer's value inputs on a day, and each input sorted, so the base-wide cut points stay exact as
/// customers change.
pub struct Values {
    rates: HashMap<Uuid, CustomerRates>,
    sorted: [Vec<f64>; 3],
    /// Every customer scored against the current cut points, made on first use after a change: a page and
    /// the segment counts read this compact table instead of scoring a million customers each.
    scored: std::sync::OnceLock<Vec<ScoredRow>>,
}

/// Tier names, best first; `ScoredRow::tier` indexes them.
pub const TIER_NAMES: [&str; 4] = ["platinum", "gold", "silver", "bronze"];
/// Lifecycle stage names; `ScoredRow::stage` indexes them.
pub const STAGE_NAMES: [&str; 4] = ["new", "declining", "growing", "stable"];

/// One customer's scores in the compact table a page is picked from.
#[derive(Debug, Clone, Copy)]
pub struct ScoredRow {
    pub(crate) customer_id: Uuid,
    pub(crate) yearly_spend_cents: f64,
    pub(crate) r: u8,
    pub(crate) f: u8,
    pub(crate) m: u8,
    pub(crate) tier: u8,
    pub(crate) stage: u8,
}

impl ScoredRow {
    /// R + F + M, the list's first sort key.
    pub fn total(&self) -> u8 {
        self.r + self.f + self.m
    }

    /// The scores as `score` gives them.
    pub fn scored(&self) -> Scored {
        Scored {
            r: i32::from(self.r),
            f: i32::from(self.f),
            m: i32::from(self.m),
            tier: TIER_NAMES[usize::from(self.tier)],
        }
    }
}

const RATES_SQL: &str = "select customer_id, pickups, spend_cents, first_pickup_at, last_pickup_at, recency_days,
                                tenure_days, pickups_per_year, yearly_spend_cents, recent_yearly_cents,
                                usual_interval_days
                           from customer_rates($1, $2)";

impl Values {
    /// Every customer's inputs on `on`, read in `tx`.
    async fn load(
        tx: &mut Transaction<'static, Postgres>,
        settings: &Settings,
        on: NaiveDate,
    ) -> sqlx::Result<Values> {
        let rows = Self::read(tx, settings, on, None).await?;
        let mut v = Values {
            rates: HashMap::with_capacity(rows.len()),
            sorted: Default::default(),
            scored: Default::default(),
        };
        for r in rows {
            for (k, x) in r.keys().into_iter().enumerate() {
                v.sorted[k].push(x);
            }
            v.rates.insert(r.customer_id, r);
        }
        for s in &mut v.sorted {
            s.sort_by(f64::total_cmp);
        }
        Ok(v)
    }

    async fn read(
        tx: &mut Transaction<'static, Postgres>,
        settings: &Settings,
        on: NaiveDate,
        only: Option<&[Uuid]>,
    ) -> sqlx::Result<Vec<CustomerRates>> {
        let day_end = settings.clock.start_of(on + chrono::Duration::days(1));
        sqlx::query_as(RATES_SQL)
            .bind(day_end)
            .bind(only)
            .persistent(false)
            .fetch_all(&mut **tx)
            .await
    }

    /// Reads the `changed` customers again in `tx` and moves their inputs.
    async fn update(
        &mut self,
        tx: &mut Transaction<'static, Postgres>,
        settings: &Settings,
        on: NaiveDate,
        changed: &[Uuid],
    ) -> sqlx::Result<()> {
        let fresh = Self::read(tx, settings, on, Some(changed)).await?;
        self.scored = Default::default();
        let mut gone: [Vec<f64>; 3] = Default::default();
        let mut added: [Vec<f64>; 3] = Default::default();
        for id in changed {
            if let Some(old) = self.rates.remove(id) {
                for (k, x) in old.keys().into_iter().enumerate() {
                    gone[k].push(x);
                }
            }
        }
        for r in fresh {
            for (k, x) in r.keys().into_iter().enumerate() {
                added[k].push(x);
            }
            self.rates.insert(r.customer_id, r);
        }
        for ((sorted, gone), added) in self.sorted.iter_mut().zip(gone).zip(added) {
            replace_sorted(sorted, gone, added);
        }
        Ok(())
    }

    /// The cut points, as `percentile_disc(array[0.2, 0.4, 0.6, 0.8])` picks them (none for an empty base).
    pub fn cuts(&self) -> Option<Cuts> {
        let pick = |s: &Vec<f64>| {
            let at = |p: f64| {
                let row = (p * s.len() as f64).ceil() as usize;
                s[row.clamp(1, s.len()) - 1]
            };
            [at(0.2), at(0.4), at(0.6), at(0.8)]
        };
        if self.sorted[0].is_empty() {
            return None;
        }
        Some(Cuts([
            pick(&self.sorted[0]),
            pick(&self.sorted[1]),
            pick(&self.sorted[2]),
        ]))
    }

    /// One customer's scores and tier, as `customer_value()` gives them.
    pub fn score(cuts: &Cuts, r: &CustomerRates) -> Scored {
        let keys = r.keys();
        let s = |k: usize| 1 + cuts.0[k].iter().filter(|c| keys[k] > **c).count() as i32;
        let (r, f, m) = (s(0), s(1), s(2));
        let tier = match r + f + m {
            13.. => "platinum",
            10.. => "gold",
            7.. => "silver",
            _ => "bronze",
        };
        Scored { r, f, m, tier }
    }

    /// Every customer's inputs, in no particular order.
    pub fn all(&self) -> impl Iterator<Item = &CustomerRates> {
        self.rates.values()
    }

    /// Tier and yearly spend of these customers.
    pub fn tiers_of(&self, ids: &[Uuid]) -> HashMap<Uuid, (String, f64)> {
        let Some(cuts) = self.cuts() else {
            return HashMap::new();
        };
        ids.iter()
            .filter_map(|id| {
                let r = self.rates.get(id)?;
                let tier = Self::score(&cuts, r).tier.to_owned();
                Some((*id, (tier, r.yearly_spend_cents)))
            })
            .collect()
    }

    /// Every customer's scores against today's cut points, in no particular order (empty for an empty base).
    pub fn scored(&self) -> &[ScoredRow] {
        self.scored.get_or_init(|| {
            let Some(cuts) = self.cuts() else {
                return Vec::new();
            };
            self.all()
                .map(|r| {
                    let s = Self::score(&cuts, r);
                    let index = |names: &[&str], name: &str| {
                        names.iter().position(|n| *n == name).unwrap_or(0) as u8
                    };
                    let small = |x: i32| u8::try_from(x).unwrap_or(u8::MAX);
                    ScoredRow {
                        customer_id: r.customer_id,
                        yearly_spend_cents: r.yearly_spend_cents,
                        r: small(s.r),
                        f: small(s.f),
                        m: small(s.m),
                        tier: index(&TIER_NAMES, s.tier),
                        stage: index(&STAGE_NAMES, r.stage()),
                    }
                })
                .collect()
        })
    }

    /// One customer's inputs.
    pub fn get(&self, id: &Uuid) -> Option<&CustomerRates> {
        self.rates.get(id)
    }

    /// How many customers are in each tier and stage.
    pub fn segments(&self) -> BTreeMap<String, BTreeMap<String, i64>> {
        let mut counts = [[0i64; STAGE_NAMES.len()]; TIER_NAMES.len()];
        for row in self.scored() {
            counts[usize::from(row.tier)][usize::from(row.stage)] += 1;
        }
        let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for (t, row) in TIER_NAMES.iter().zip(counts) {
            for (s, n) in STAGE_NAMES.iter().zip(row) {
                if n > 0 {
                    *out.entry((*t).to_owned())
                        .or_default()
                        .entry((*s).to_owned())
                        .or_default() += n;
                }
            }
        }
        out
    }
}

/// Changes below which `replace_sorted` moves values one by one.
const ONE_BY_ONE: usize = 8;

/// Takes `gone` out of the sorted `sorted` (each value once; one not there is ignored) and puts `added` in, keeping
/// it sorted: one pass for a batch of changes, where an insert or removal each would move half of a million
/// values (2,000 changed customers cost 0.4-0.8 s of a page that way at a million).
fn replace_sorted(sorted: &mut Vec<f64>, mut gone: Vec<f64>, mut added: Vec<f64>) {
    // A few moves of memory are cheaper than a pass that compares every value.
    if gone.len() + added.len() <= ONE_BY_ONE {
        for x in &gone {
            if let Ok(at) = sorted.binary_search_by(|y| y.total_cmp(x)) {
                sorted.remove(at);
            }
        }
        for x in added {
            let at = sorted.partition_point(|y| y.total_cmp(&x).is_lt());
            sorted.insert(at, x);
        }
        return;
    }
    gone.sort_by(f64::total_cmp);
    added.sort_by(f64::total_cmp);
    let mut out = Vec::with_capacity((sorted.len() + added.len()).saturating_sub(gone.len()));
    let (mut g, mut a) = (0, 0);
    for &x in sorted.iter() {
        while g < gone.len() && gone[g].total_cmp(&x).is_lt() {
            g += 1;
        }
        if g < gone.len() && gone[g].total_cmp(&x).is_eq() {
            g += 1;
            continue;
        }
        while a < added.len() && added[a].total_cmp(&x).is_lt() {
            out.push(added[a]);
            a += 1;
        }
        out.push(x);
    }
    out.extend_from_slice(&added[a..]);
    *sorted = out;
}

/// A day's values as of `snapshot`.
pub struct KeptValues {
    snapshot: String,
    values: Values,
}

/// Runs `f` on the day's values, kept (one copy a day, shared by every list) and first brought up to date.
pub async fn with_values<R>(
    state: &AppState,
    on: NaiveDate,
    f: impl FnOnce(&Values) -> R,
) -> AppResult<R> {
    let (pool, settings) = (&state.pool, &state.settings);
    let slot = state.outlook.values.slot(on);
    let mut kept = slot.lock().await;
    let since = kept.as_ref().map(|k| k.snapshot.clone());
    let mut d = delta(pool, since.as_deref()).await?;
    // Taken out while it is updated: if reading fails, the next caller loads the day afresh.
    let mut k = match (kept.take(), d.changed.as_deref()) {
        (Some(mut k), Some(ids)) => {
            if !ids.is_empty() {
                k.values.update(&mut d.tx, settings, on, ids).await?;
            }
            k
        }
        _ => KeptValues {
            snapshot: String::new(),
            values: Values::load(&mut d.tx, settings, on).await?,
        },
    };
    d.tx.commit().await?;
    k.snapshot = d.snapshot;
    let out = f(&k.values);
    *kept = Some(k);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(xs: &[f64]) -> Values {
        let mut v = Values {
            rates: HashMap::new(),
            sorted: Default::default(),
            scored: Default::default(),
        };
        for s in &mut v.sorted {
            *s = xs.to_vec();
        }
        v
    }

    #[test]
    fn a_batch_of_changes_keeps_the_values_sorted_as_one_by_one_would() {
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) % 50) as f64
        };
        let mut sorted: Vec<f64> = (0..500).map(|_| next()).collect();
        sorted.sort_by(f64::total_cmp);
        let gone: Vec<f64> = sorted.iter().step_by(7).copied().chain([999.0]).collect();
        let added: Vec<f64> = (0..60).map(|_| next()).chain([-3.0, 1e9]).collect();
        let mut expected = sorted.clone();
        for x in &gone {
            if let Ok(at) = expected.binary_search_by(|y| y.total_cmp(x)) {
                expected.remove(at);
            }
        }
        for x in &added {
            let at = expected.partition_point(|y| y.total_cmp(x).is_lt());
            expected.insert(at, *x);
        }
        replace_sorted(&mut sorted, gone, added);
        assert_eq!(sorted, expected);
        replace_sorted(&mut sorted, vec![], vec![]);
        assert_eq!(sorted, expected);
        let mut empty = Vec::new();
        replace_sorted(&mut empty, vec![1.0], vec![2.0, 1.0]);
        assert_eq!(empty, vec![1.0, 2.0]);
    }

    #[test]
    fn cut_points_follow_percentile_disc() {
        // percentile_disc picks the first value whose position reaches the fraction: rows 2, 4, 6, 8 of 10.
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(
            values(&ten).cuts().map(|c| c.0[0]),
            Some([2.0, 4.0, 6.0, 8.0])
        );
        assert_eq!(values(&[5.0]).cuts().map(|c| c.0[1]), Some([5.0; 4]));
        // 0.2 x 7 = 1.4 -> row 2; 0.4 x 7 = 2.8 -> 3; 4.2 -> 5; 5.6 -> 6.
        let seven: Vec<f64> = (1..=7).map(f64::from).collect();
        assert_eq!(
            values(&seven).cuts().map(|c| c.0[2]),
            Some([2.0, 3.0, 5.0, 6.0])
        );
        assert!(values(&[]).cuts().is_none());
    }
}
