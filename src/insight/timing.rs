//! When does a customer put clothes away unprompted? Which pickups count, and the chance they still won't.

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::SeasonClass;

/// Weight, in windows, of everyone's hazard in one customer's estimate.
pub const PRIOR_WINDOWS: f64 = 2.0;
/// Past windows measured against their customer's habit (from the customer's other windows) needed before
/// lateness, rather than the calendar day, sets the hazard of a customer with a usual day.
pub const MIN_HABIT_WINDOWS: usize = 50;
/// Days of lateness (either way) the habit hazard is kept for; beyond it, the last day's counts stand.
const MAX_LATENESS: i64 = 400;

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

/// One past window of a customer: its length in days, how it ended, and its weight in everyone's hazard.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PastWindow {
    /// Days in the window.
    pub length: u32,
    /// How it ended.
    pub outcome: Outcome,
    /// How much the window counts in everyone's hazard, which is that of a customer still here (someone gone
    /// never sends): the chance the customer still was one when it opened, or 0 when the window is known only
    /// because of its put-away. The customer's own estimate counts it whole.
    pub weight: f64,
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
    /// Counts window day `d` at index `d + shift` (a shift of `MAX_LATENESS - usual` counts lateness), as
    /// `weight` windows.
    fn add_shifted(&mut self, w: &PastWindow, shift: i64, weight: f64) {
        let (risk_days, sent_on) = match w.outcome {
            Outcome::Sent(d) if d < w.length => (d + 1, Some(d)),
            // A "sent" day past the window's end is outside the window: nothing was sent in it.
            Outcome::Sent(_) | Outcome::Nothing => (w.length, None),
            Outcome::Called(d) => (d.min(w.length), None),
        };
        let index = |d: u32| usize::try_from(i64::from(d) + shift).ok();
        let (Some(first), Some(end)) = (index(0), index(risk_days)) else {
            return;
        };
        if self.at_risk.len() < end {
            self.at_risk.resize(end, 0.0);
            self.sent.resize(end, 0.0);
        }
        for r in &mut self.at_risk[first..end] {
            *r += weight;
        }
        if let Some(i) = sent_on.and_then(index) {
            self.sent[i] += weight;
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
/// everyone's, gives P(not sent without a call by the window's end | not sent by day d). For a customer who
/// has a usual day, "everyone's" is everyone's hazard by lateness against their own habit (learnt with
/// [`SendingHazard::learn_habits`]): someone three weeks past their usual day is unlikely to send, whatever
/// the calendar day.
#[derive(Debug, Clone, PartialEq)]
pub struct SendingHazard {
    counts: Counts,
    /// Counts by lateness (window day minus the customer's usual day from their other windows), at index
    /// lateness + `MAX_LATENESS`.
    habit: Counts,
    /// Windows the estimate rests on.
    pub windows: usize,
    /// Windows measured against their customer's habit.
    pub habit_windows: usize,
    /// Windows seen to the end without a call, and how many of them passed without a put-away.
    decided: f64,
    skipped: f64,
}

impl SendingHazard {
    /// Pools every customer's past windows, each as much as its weight.
    pub fn fit<'a>(windows: impl IntoIterator<Item = &'a PastWindow>) -> SendingHazard {
        let mut counts = Counts::default();
        let (mut n, mut decided, mut skipped) = (0, 0.0, 0.0);
        for w in windows {
            counts.add_shifted(w, 0, w.weight);
            n += 1;
            let (d, s) = skips(std::slice::from_ref(w), w.weight);
            decided += d;
            skipped += s;
        }
        SendingHazard {
            counts,
            habit: Counts::default(),
            windows: n,
            habit_windows: 0,
            decided,
            skipped,
        }
    }

    /// P(a customer with these past windows lets a whole window pass without putting away): their own share
    /// of such windows shrunk towards everyone's by [`PRIOR_WINDOWS`] pseudo-windows. However late it is, a
    /// customer still here has not sent yet with at least this chance.
    pub fn p_skip(&self, own: &[PastWindow]) -> f64 {
        let everyone = if self.decided > 0.0 {
            self.skipped / self.decided
        } else {
            1.0
        };
        let (decided, skipped) = skips(own, 1.0);
        (skipped + PRIOR_WINDOWS * everyone) / (decided + PRIOR_WINDOWS)
    }

    /// Learns the hazard by lateness from customers with several past windows: each window is measured
    /// against the usual day of the customer's other windows (so a window never explains itself).
    pub fn learn_habits<'a>(&mut self, customers: impl IntoIterator<Item = &'a [PastWindow]>) {
        let mut others = Vec::new();
        for own in customers {
            if own.len() < 2 {
                continue;
            }
            for (i, w) in own.iter().enumerate() {
                others.clear();
                others.extend(
                    own.iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .map(|(_, w)| *w),
                );
                // A window of no weight adds nothing, and must not count towards enough habits learnt.
                if let Some(usual) = usual_day(&others).filter(|_| w.weight > 0.0) {
                    self.habit
                        .add_shifted(w, MAX_LATENESS - usual.round() as i64, w.weight);
                    self.habit_windows += 1;
                }
            }
        }
    }

    /// P(a customer whose usual day is `usual` sends on `day` | not sent before it), when enough habits were
    /// learnt.
    fn by_habit(&self, usual: f64, day: usize) -> Option<f64> {
        if self.habit_windows < MIN_HABIT_WINDOWS {
            return None;
        }
        let lateness = (day as i64 - usual.round() as i64).clamp(-MAX_LATENESS, MAX_LATENESS - 1);
        Some(self.habit.hazard((lateness + MAX_LATENESS) as usize))
    }

    /// P(a customer of the population sends on `day` | not sent before it).
    pub fn population(&self, day: usize) -> f64 {
        self.counts.hazard(day)
    }

    /// P(not sent without a call by the end of a `length`-day window | not sent in its first `day` days),
    /// for a customer with these past windows: their own day hazard shrunk by [`PRIOR_WINDOWS`] pseudo-windows
    /// towards everyone's at the same lateness against their usual day, or on the same window day when they have
    /// none (or too few habits were learnt). With no history at all (nobody's), it is 1: nothing suggests they
    /// will send unprompted.
    pub fn p_not_sent_by_end(&self, own: &[PastWindow], length: u32, day: u32) -> f64 {
        self.quiet_then_unsent(own, length, day).1
    }

    /// In one pass over the window's days: P(not sent in the first `day` days) and
    /// [`p_not_sent_by_end`](Self::p_not_sent_by_end), for the same customer.
    pub fn quiet_then_unsent(&self, own: &[PastWindow], length: u32, day: u32) -> (f64, f64) {
        let mut mine = Counts::default();
        for w in own {
            mine.add_shifted(w, 0, 1.0);
        }
        let usual = usual_day(own);
        let (mut quiet, mut unsent) = (1.0, 1.0);
        for d in 0..(length.max(day) as usize) {
            let r = mine.at_risk.get(d).copied().unwrap_or(0.0);
            let s = mine.sent.get(d).copied().unwrap_or(0.0);
            let prior = usual
                .and_then(|u| self.by_habit(u, d))
                .unwrap_or_else(|| self.population(d));
            let h = (s + PRIOR_WINDOWS * prior) / (r + PRIOR_WINDOWS);
            let stays = 1.0 - h.clamp(0.0, 1.0);
            if d < day as usize {
                quiet *= stays;
            } else if d < length as usize {
                unsent *= stays;
            }
        }
        (quiet, unsent)
    }
}

/// P(still a customer | no put-away yet this window), from P(still a customer) before that evidence and the chance
/// `quiet` that a customer still here would not have sent by now: someone gone never sends.
pub fn active_given_quiet(p_active: f64, quiet: f64) -> f64 {
    let (p, q) = (p_active.clamp(0.0, 1.0), quiet.clamp(0.0, 1.0));
    let evidence = p * q + (1.0 - p);
    if evidence > 0.0 {
        p * q / evidence
    } else {
        p
    }
}

/// Of these windows, each counted as `weight`: how many were seen to their end without a call, and how many of
/// those without a put-away.
fn skips(windows: &[PastWindow], weight: f64) -> (f64, f64) {
    windows
        .iter()
        .fold((0.0, 0.0), |(d, s), w| match w.outcome {
            Outcome::Called(_) => (d, s),
            Outcome::Sent(_) if w.sent_day().is_some() => (d + weight, s),
            Outcome::Sent(_) | Outcome::Nothing => (d + weight, s + weight),
        })
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
            weight: 1.0,
        }
    }

    const NOTHING: PastWindow = PastWindow {
        length: 92,
        outcome: Outcome::Nothing,
        weight: 1.0,
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
                weight: 1.0,
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
            weight: 1.0,
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
            weight: 1.0,
        };
        assert_eq!(SendingHazard::fit(&[late]).population(5), 0.0);
    }

    #[test]
    fn lateness_against_the_customers_own_habit_sets_their_hazard() {
        // Customers keep their own day (spread over days 10-70) within a few days, window after window.
        let customers: Vec<Vec<PastWindow>> = (0..300u32)
            .map(|i| {
                let day = 10 + i % 61;
                vec![sent(day), sent(day + i % 3), sent(day + 2 - i % 3)]
            })
            .collect();
        let all: Vec<PastWindow> = customers.iter().flatten().copied().collect();
        let by_day = SendingHazard::fit(&all);
        let mut by_habit = by_day.clone();
        by_habit.learn_habits(customers.iter().map(Vec::as_slice));
        assert_eq!(by_habit.habit_windows, 900);
        let early = [sent(14), sent(15), sent(16)];
        // Day 35: twenty days past their day. By the calendar, half the company is still to send; by habit,
        // hardly anyone that late still does.
        let calendar = by_day.p_not_sent_by_end(&early, 92, 35);
        let habit = by_habit.p_not_sent_by_end(&early, 92, 35);
        assert!(calendar < 0.6, "{calendar}");
        assert!(habit > 0.9, "{habit}");
        // Someone whose day is still ahead will most likely send.
        let late = [sent(59), sent(60), sent(61)];
        assert!(by_habit.p_not_sent_by_end(&late, 92, 35) < 0.1);
        // One pass gives both halves of the window.
        assert_eq!(
            by_habit.quiet_then_unsent(&early, 92, 35),
            (
                by_habit.p_not_sent_by_end(&early, 35, 0),
                by_habit.p_not_sent_by_end(&early, 92, 35)
            )
        );
        // Too few habits learnt: the calendar answer.
        let mut few = by_day.clone();
        few.learn_habits(customers[..10].iter().map(Vec::as_slice));
        assert_eq!(few.p_not_sent_by_end(&early, 92, 35), calendar);
    }

    #[test]
    fn skipping_a_window_is_the_customers_own_share_shrunk_to_everyones() {
        let called = PastWindow {
            length: 92,
            outcome: Outcome::Called(3),
            weight: 1.0,
        };
        // A quarter of the windows seen to their end passed without a put-away; calls say nothing.
        let all = [sent(10), sent(20), sent(30), NOTHING, called, called];
        let h = SendingHazard::fit(&all);
        assert!((h.p_skip(&[]) - 0.25).abs() < 1e-12);
        assert!((h.p_skip(&[NOTHING, NOTHING]) - (2.0 + 0.5) / 4.0).abs() < 1e-12);
        assert!((h.p_skip(&[sent(5), sent(6), called]) - 0.5 / 4.0).abs() < 1e-12);
        assert_eq!(SendingHazard::fit(&[]).p_skip(&[]), 1.0);
    }

    #[test]
    fn windows_weigh_in_everyones_hazard_as_their_customers_were_likely_here() {
        // Customers still here send on day 10 in half their windows. Others belong to customers who had left
        // (surely, by the active-customer model), or to customers first seen in the window's own put-away.
        let gone = PastWindow {
            weight: 0.0,
            ..NOTHING
        };
        let entered = PastWindow {
            weight: 0.0,
            ..sent(10)
        };
        let mut all = vec![sent(10); 100];
        all.extend(std::iter::repeat_n(NOTHING, 100));
        let here = SendingHazard::fit(&all);
        all.extend(std::iter::repeat_n(gone, 100));
        all.extend(std::iter::repeat_n(entered, 200));
        let h = SendingHazard::fit(&all);
        assert_eq!(h.windows, 500);
        assert!((h.population(10) - 0.5).abs() < 1e-12);
        assert!((h.p_skip(&[]) - 0.5).abs() < 1e-12);
        assert_eq!(
            h.p_not_sent_by_end(&[], 92, 0),
            here.p_not_sent_by_end(&[], 92, 0)
        );
        // Counted whole, the sure sends would lift everyone's chance on day 10 to 300 of 500, and the leavers
        // would make skipping look more common than it is among customers still here.
        let whole: Vec<PastWindow> = all
            .iter()
            .map(|w| PastWindow { weight: 1.0, ..*w })
            .collect();
        let whole = SendingHazard::fit(&whole);
        assert!((whole.population(10) - 0.6).abs() < 1e-12);
        assert!((whole.p_skip(&[]) - 0.4).abs() < 1e-12);
        // A customer's own windows count whole: their own day and skips are theirs, whatever everyone's weight.
        assert_eq!(h.p_skip(&[gone, gone]), h.p_skip(&[NOTHING, NOTHING]));
        assert_eq!(
            h.p_not_sent_by_end(&[entered], 92, 5),
            h.p_not_sent_by_end(&[sent(10)], 92, 5)
        );
        // Habits are learnt only from windows that weigh something.
        let mut habits = h.clone();
        let customers: Vec<Vec<PastWindow>> = (0..100).map(|_| vec![entered, entered]).collect();
        habits.learn_habits(customers.iter().map(Vec::as_slice));
        assert_eq!(habits.habit_windows, 0);
    }

    #[test]
    fn not_having_sent_yet_is_evidence_of_having_left() {
        assert!((active_given_quiet(0.9, 1.0) - 0.9).abs() < 1e-12);
        assert!((active_given_quiet(0.9, 0.1) - 0.09 / 0.19).abs() < 1e-12);
        assert_eq!(active_given_quiet(1.0, 0.0), 1.0);
        assert_eq!(active_given_quiet(0.0, 0.5), 0.0);
    }
}
