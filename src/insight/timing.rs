//! When does a customer put clothes away unprompted? Which pickups count, and the chance they still won't.

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::SeasonClass;

/// Weight, in windows, of everyone's hazard in one customer's estimate.
pub const PRIOR_WINDOWS: f64 = 2.0;

/// Which pickups look like putting the outgoing season's clothes away.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PutAwayRule {
    /// Garments of the window's outgoing season class needed in one pickup ("several at once").
    pub min_out_of_season: usize,
}

impl Default for PutAwayRule {
    fn default() -> Self {
        PutAwayRule {
            min_out_of_season: 2,
        }
    }
}

impl PutAwayRule {
    /// True when a pickup on `day`, carrying garments of `classes`, is put-away-like for the window
    /// `[starts_on, ends_on]` (inclusive) whose outgoing season class is `outgoing`: inside the window, with
    /// at least `min_out_of_season` garments of that class. An in-season cleaning before the window opens
    /// (winter coats in late February) does not count.
    pub fn qualifies(
        &self,
        day: NaiveDate,
        classes: &[SeasonClass],
        outgoing: SeasonClass,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
    ) -> bool {
        if day < starts_on || day > ends_on || outgoing == SeasonClass::AllSeason {
            return false;
        }
        let n = classes.iter().filter(|c| **c == outgoing).count();
        n >= self.min_out_of_season.max(1)
    }
}

/// How one past window ended for a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "day")]
pub enum Outcome {
    /// A put-away-like pickup, unprompted, on this day of the window (0 = the first day).
    Sent(u32),
    /// Called on this day before any put-away-like pickup: not sent unprompted by then, unknown after.
    Called(u32),
    /// No put-away-like pickup and no call in the whole window.
    Nothing,
}

/// One past window of a customer: its length in days and how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PastWindow {
    /// Days in the window.
    pub length: u32,
    /// How it ended.
    pub outcome: Outcome,
}

impl PastWindow {
    /// The day of an unprompted put-away inside the window, if there was one.
    pub fn sent_day(&self) -> Option<u32> {
        match self.outcome {
            Outcome::Sent(d) if d < self.length => Some(d),
            _ => None,
        }
    }
}

/// Per-day counts over windows: how many were still unsent at the start of each day, and how many sent on it.
#[derive(Debug, Clone, Default, PartialEq)]
struct Counts {
    at_risk: Vec<f64>,
    sent: Vec<f64>,
}

impl Counts {
    fn add(&mut self, w: &PastWindow) {
        let (risk_days, sent_on) = match w.outcome {
            Outcome::Sent(d) if d < w.length => (d + 1, Some(d)),
            // A "sent" day past the window's end is outside the window: nothing was sent in it.
            Outcome::Sent(_) | Outcome::Nothing => (w.length, None),
            Outcome::Called(d) => (d.min(w.length), None),
        };
        let need = risk_days as usize;
        if self.at_risk.len() < need {
            self.at_risk.resize(need, 0.0);
            self.sent.resize(need, 0.0);
        }
        for r in &mut self.at_risk[..need] {
            *r += 1.0;
        }
        if let Some(d) = sent_on {
            self.sent[d as usize] += 1.0;
        }
    }

    fn hazard(&self, day: usize) -> f64 {
        match (self.at_risk.get(day), self.sent.get(day)) {
            (Some(&r), Some(&s)) if r > 0.0 => s / r,
            _ => 0.0,
        }
    }
}

/// Everyone's day-by-day chance of sending unprompted, estimated from all customers' past windows.
///
/// Each past window of a customer ends one of three ways: a put-away-like pickup on some day of the window
/// (sent unprompted), a call before any such pickup (prompted; what followed says nothing about sending
/// unprompted), or nothing. A discrete-time hazard per window day, the customer's own shrunk towards
/// everyone's, gives P(not sent without a call by the window's end | not sent by day d).
#[derive(Debug, Clone, PartialEq)]
pub struct SendingHazard {
    counts: Counts,
    /// Windows the estimate rests on.
    pub windows: usize,
}

impl SendingHazard {
    /// Pools every customer's past windows.
    pub fn fit<'a>(windows: impl IntoIterator<Item = &'a PastWindow>) -> SendingHazard {
        let mut counts = Counts::default();
        let mut n = 0;
        for w in windows {
            counts.add(w);
            n += 1;
        }
        SendingHazard { counts, windows: n }
    }

    /// P(a customer of the population sends on `day` | not sent before it).
    pub fn population(&self, day: usize) -> f64 {
        self.counts.hazard(day)
    }

    /// P(not sent without a call by the end of a `length`-day window | not sent in its first `day` days),
    /// for a customer with these past windows: their own day hazard shrunk towards everyone's by
    /// [`PRIOR_WINDOWS`] pseudo-windows. With no history at all (nobody's), it is 1: nothing suggests they
    /// will send unprompted.
    pub fn p_not_sent_by_end(&self, own: &[PastWindow], length: u32, day: u32) -> f64 {
        let mut mine = Counts::default();
        for w in own {
            mine.add(w);
        }
        let mut p = 1.0;
        for d in day as usize..length as usize {
            let r = mine.at_risk.get(d).copied().unwrap_or(0.0);
            let s = mine.sent.get(d).copied().unwrap_or(0.0);
            let h = (s + PRIOR_WINDOWS * self.population(d)) / (r + PRIOR_WINDOWS);
            p *= 1.0 - h.clamp(0.0, 1.0);
        }
        p
    }
}

/// The customer's usual sending day: the median day of their unprompted put-away-like pickups (the mean of
/// the middle two when their number is even), or `None` when they never sent unprompted.
pub fn usual_day(own: &[PastWindow]) -> Option<f64> {
    let mut days: Vec<u32> = own.iter().filter_map(PastWindow::sent_day).collect();
    days.sort_unstable();
    let n = days.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(f64::from(days[n / 2])),
        _ => Some((f64::from(days[n / 2 - 1]) + f64::from(days[n / 2])) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).expect("test date")
    }

    fn sent(d: u32) -> PastWindow {
        PastWindow {
            length: 92,
            outcome: Outcome::Sent(d),
        }
    }

    const NOTHING: PastWindow = PastWindow {
        length: 92,
        outcome: Outcome::Nothing,
    };

    #[test]
    fn put_away_needs_several_outgoing_garments_inside_the_window() {
        use SeasonClass::*;
        let rule = PutAwayRule::default();
        let (start, end) = (date(3, 1), date(5, 31));
        assert!(rule.qualifies(date(4, 10), &[Winter, Winter, Summer], Winter, start, end));
        assert!(!rule.qualifies(
            date(4, 10),
            &[Winter, Summer, AllSeason],
            Winter,
            start,
            end
        ));
        assert!(!rule.qualifies(date(2, 25), &[Winter, Winter, Winter], Winter, start, end));
        assert!(!rule.qualifies(date(6, 1), &[Winter, Winter], Winter, start, end));
        assert!(rule.qualifies(date(5, 31), &[Winter, Winter], Winter, start, end));
        assert!(!rule.qualifies(date(4, 1), &[AllSeason, AllSeason], AllSeason, start, end));
        let strict = PutAwayRule {
            min_out_of_season: 3,
        };
        assert!(!strict.qualifies(date(4, 10), &[Winter, Winter], Winter, start, end));
        let zero = PutAwayRule {
            min_out_of_season: 0,
        };
        assert!(!zero.qualifies(date(4, 10), &[], Winter, start, end));
    }

    #[test]
    fn the_median_of_two_windows_is_their_mean() {
        assert_eq!(usual_day(&[sent(90), sent(72)]), Some(81.0));
        assert_eq!(
            usual_day(&[sent(40), NOTHING, sent(10), sent(20)]),
            Some(20.0)
        );
        assert_eq!(usual_day(&[NOTHING]), None);
        assert_eq!(usual_day(&[]), None);
    }

    #[test]
    fn population_hazard_recovers_a_known_daily_rate() {
        // Every window: 10% of the still-unsent send on each day (geometric), built exactly in expectation.
        let mut windows = Vec::new();
        let mut left = 100_000.0f64;
        for d in 0..30u32 {
            let n = (left * 0.1).round();
            windows.extend(std::iter::repeat_n(sent(d), n as usize));
            left -= n;
        }
        windows.extend(std::iter::repeat_n(
            PastWindow {
                length: 30,
                outcome: Outcome::Nothing,
            },
            left as usize,
        ));
        let h = SendingHazard::fit(&windows);
        for d in 0..30 {
            assert!(
                (h.population(d) - 0.1).abs() < 0.002,
                "day {d}: {}",
                h.population(d)
            );
        }
        // No own history: the population answer, 0.9^(30-d).
        let p = h.p_not_sent_by_end(&[], 30, 10);
        assert!((p - 0.9f64.powi(20)).abs() < 0.01, "{p}");
    }

    #[test]
    fn a_customer_whose_day_has_passed_will_not_send() {
        // Half the population sends around day 40; half never does.
        let mut all = Vec::new();
        for i in 0..400 {
            all.push(if i % 2 == 0 {
                sent(35 + i % 11)
            } else {
                NOTHING
            });
        }
        let h = SendingHazard::fit(&all);
        let early_sender = [sent(20), sent(22), sent(21)];
        let never = [NOTHING, NOTHING, NOTHING];
        // Day 10: the early sender will very likely still send unprompted; the one who never does won't.
        let p_early_day10 = h.p_not_sent_by_end(&early_sender, 92, 10);
        let p_never_day10 = h.p_not_sent_by_end(&never, 92, 10);
        let p_anyone_day10 = h.p_not_sent_by_end(&[], 92, 10);
        assert!((p_anyone_day10 - 0.5).abs() < 0.01, "{p_anyone_day10}");
        assert!(p_early_day10 < 0.25, "{p_early_day10}");
        assert!(p_never_day10 > 0.75, "{p_never_day10}");
        // Day 30: the early sender's usual day has passed; a call is worth more now than at day 10.
        let p_early_day30 = h.p_not_sent_by_end(&early_sender, 92, 30);
        assert!(p_early_day30 > p_early_day10 + 0.2, "{p_early_day30}");
        // Probabilities stay in [0, 1] and rise (weakly) as the window runs out.
        let mut prev = 0.0;
        for d in 0..=92 {
            let p = h.p_not_sent_by_end(&early_sender, 92, d);
            assert!(
                (0.0..=1.0).contains(&p) && p >= prev - 1e-12,
                "day {d}: {p}"
            );
            prev = p;
        }
        assert_eq!(h.p_not_sent_by_end(&early_sender, 92, 92), 1.0);
    }

    #[test]
    fn a_call_censors_the_window_and_no_history_means_one() {
        let called = PastWindow {
            length: 92,
            outcome: Outcome::Called(5),
        };
        let h = SendingHazard::fit(&[called, sent(30)]);
        // Called on day 5: at risk on days 0-4 only; the sending on day 30 is the only event.
        assert_eq!(h.population(3), 0.0);
        assert_eq!(h.population(30), 1.0);
        let empty = SendingHazard::fit(&[]);
        assert_eq!(empty.windows, 0);
        assert_eq!(empty.p_not_sent_by_end(&[], 92, 0), 1.0);
        let late = PastWindow {
            length: 10,
            outcome: Outcome::Sent(50),
        };
        assert_eq!(SendingHazard::fit(&[late]).population(5), 0.0);
    }
}
