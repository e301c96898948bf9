//! The lists' kept estimates: still a customer (per day); garment still worn, sends unprompted (per window).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::calendar::{Calendar, SeasonWindow};
use crate::domain::{GarmentKind, Material, SeasonClass};
use crate::error::{AppError, AppResult};
use crate::insight::activity::{self, Activity, Complaint, Visits};
use crate::insight::bgnbd::{BgNbd, Rfm, Variant};
use crate::insight::survival::{GarmentHistory, WardrobeSurvival};
use crate::insight::timing::{self, Outcome, PastWindow, PutAwayRule, SendingHazard};
use crate::lists::reminders::IN_USE_DAYS;
use crate::state::Settings;

use super::kept::Kept;

/// Past windows of the same kind looked at for each customer's timing.
const TIMING_YEARS: i32 = 3;
/// Unprompted put-aways, over everyone's past windows, needed before timing is estimated at all.
pub const MIN_SENDS: usize = 20;
/// Customers whose garment histories the survival model and the put-away share are fitted on, at most
/// (about: every n-th customer by a hash of their id beyond it).
const SAMPLED_CUSTOMERS: usize = 20_000;

/// How the estimates behind a reminder list were made: when, on how much history, and what was assumed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutlookSummary {
    /// History up to the end of this day was used.
    pub as_of: NaiveDate,
    /// When the estimates were made; lists are served from them for up to ten minutes.
    pub fitted_at: DateTime<Utc>,
    /// Customers with a pickup, and those with more than one (the active-customer model's data; its four
    /// parameters are fitted on an even sample of at most 20,000).
    pub customers: usize,
    /// See `customers`.
    pub repeat_customers: usize,
    /// Set when there was too little history to estimate who is still active: everyone counts as active.
    pub active_assumed: Option<String>,
    /// Customer-days (past cut-offs) the active-customer model was calibrated on; 0 when it was not.
    pub active_calibration_samples: usize,
    /// Garments with a cleaning (the garment-survival model's data).
    pub garments: usize,
    /// Set when there was too little history to estimate which garments are still worn: all count as worn.
    pub in_use_assumed: Option<String>,
    /// Customers' past windows of this kind and the unprompted put-aways among them.
    pub past_windows: usize,
    /// See `past_windows`.
    pub past_sends: usize,
    /// Set when there was too little history to estimate timing: nobody is expected to send unprompted.
    pub timing_assumed: Option<String>,
    /// Share of their known outgoing garments customers sent in a past window's put-away.
    pub put_away_share: f64,
    /// The same share of the garments expected still worn when the window opened (by the garment-survival
    /// model): what the open window's count uses, as it weighs every garment by its chance of still being worn.
    /// The list keeps `put_away_share`, which ranks better (README, "The open window from the wardrobes").
    pub worn_put_away_share: f64,
}

/// What the estimates say about one customer for the window.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerOutlook {
    /// P(still a customer) on the list day, knowing they have not put the season away yet this window.
    pub p_active: f64,
    /// P(a garment is not sent without a call by the window's end): no unprompted put-away, or one that
    /// leaves it out.
    pub p_not_sent: f64,
    /// The same for a garment still worn (with `worn_put_away_share`): the open window's count.
    pub p_worn_not_sent: f64,
    /// The customer's usual put-away day in the window (days after it opens), from unprompted put-aways.
    pub usual_day: Option<f64>,
    /// Past windows with an unprompted put-away.
    pub sends_seen: usize,
    /// Last pickup before the end of the list day.
    pub last_seen: Option<NaiveDate>,
}

/// Who is still a customer on a list day: every list's P(active), fitted once per day.
pub struct Activeness {
    variant_fit: BgNbd,
    activity: Activity,
    visits: HashMap<Uuid, Visits>,
    /// Customers with a complaint made since their last visit and still open at the end of the day.
    complaining: HashSet<Uuid>,
    /// Customers who told a caller they no longer use the company and have not had a pickup since.
    said_left: HashSet<Uuid>,
    on: NaiveDate,
}

/// Below this P(active) a customer who stopped coming is probably gone (a win-back call), not slipping.
pub const GONE_BELOW: f64 = 0.5;

impl Activeness {
    /// Fits the active-customer model on every customer's visit days up to the end of `on`.
    pub async fn fit(pool: &PgPool, settings: &Settings, on: NaiveDate) -> AppResult<Activeness> {
        let started = Instant::now();
        let day_end = settings.clock.start_of(on + chrono::Duration::days(1));
        let rows: Vec<(Uuid, Vec<DateTime<Utc>>)> = sqlx::query_as(
            "select customer_id, array_agg(collected_at) from pickup where collected_at < $1 group by customer_id",
        )
        .bind(day_end)
        .persistent(false)
        .fetch_all(pool)
        .await?;
        let visits: HashMap<Uuid, Vec<NaiveDate>> = rows
            .into_iter()
            .map(|(c, at)| {
                let mut days: Vec<NaiveDate> = at
                    .into_iter()
                    .map(|a| settings.clock.local_day(a))
                    .collect();
                days.sort_unstable();
                days.dedup();
                (c, days)
            })
            .collect();
        let complaints = complaints_before(pool, settings, day_end).await?;
        // The samples below are taken in id order, not the map's (which changes with every process), so the same
        // history gives the same P(active) after a restart.
        let ordered = activity::in_id_order(&visits, &complaints);
        // Four parameters: an even sample of at most SAMPLED_CUSTOMERS customers pins them down.
        let stride = ordered.len().div_ceil(SAMPLED_CUSTOMERS).max(1);
        let summaries: Vec<Rfm> = ordered
            .iter()
            .step_by(stride)
            .filter_map(|h| Rfm::from_dates(h.visits, on).ok())
            .collect();
        let loaded = started.elapsed();
        let variant_fit = BgNbd::fit(Variant::ModifiedBgNbd, &summaries);
        let modelled = started.elapsed();
        let activity = Activity::fit(&variant_fit, &ordered, on);
        drop(ordered);
        tracing::debug!(
            load_secs = loaded.as_secs_f64(),
            bgnbd_secs = (modelled - loaded).as_secs_f64(),
            calibration_secs = (started.elapsed() - modelled).as_secs_f64(),
            "active-customer model fitted"
        );
        // Kept per customer: what P(active) needs, not every visit day (a few dozen bytes a customer).
        let visits: HashMap<Uuid, Visits> = visits
            .into_iter()
            .filter_map(|(c, days)| Some((c, Visits::of(&days)?)))
            .collect();
        let after_on = on + chrono::Duration::days(1);
        let complaining = complaints
            .iter()
            .filter(|(c, list)| {
                visits
                    .get(*c)
                    .is_some_and(|v| activity::left_complaining(list, v.last, after_on))
            })
            .map(|(c, _)| *c)
            .collect();
        let said_left = said_left_before(pool, settings, day_end)
            .await?
            .into_iter()
            .filter(|(c, day)| visits.get(c).is_none_or(|v| v.last <= *day))
            .map(|(c, _)| c)
            .collect();
        Ok(Activeness {
            variant_fit,
            activity,
            visits,
            complaining,
            said_left,
            on,
        })
    }

    /// P(still a customer) on the list day; 0 for a customer who told a caller they left and has not come
    /// since; 1 for a customer unknown to the fit (new since) or when there was too little history to tell.
    pub fn p_active(&self, id: Uuid) -> f64 {
        if self.said_left.contains(&id) {
            return 0.0;
        }
        match self.visits.get(&id) {
            Some(d) if self.variant_fit.fallback_reason.is_none() => self
                .activity
                .p_active(
                    &self.variant_fit,
                    d,
                    self.on,
                    self.complaining.contains(&id),
                )
                .unwrap_or(1.0),
            _ => 1.0,
        }
    }

    /// The customer's last pickup day up to the list day.
    pub fn last_seen(&self, id: Uuid) -> Option<NaiveDate> {
        self.visits.get(&id).map(|v| v.last)
    }
}

/// Every complaint made before `day_end`, with the local days it was made and resolved (a resolution after
/// `day_end` is not known yet on the list day).
async fn complaints_before(
    pool: &PgPool,
    settings: &Settings,
    day_end: DateTime<Utc>,
) -> sqlx::Result<HashMap<Uuid, Vec<Complaint>>> {
    let rows: Vec<(Uuid, DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "select customer_id, occurred_at, resolved_at from interaction
          where kind = 'complaint' and occurred_at < $1",
    )
    .bind(day_end)
    .persistent(false)
    .fetch_all(pool)
    .await?;
    let mut by_customer: HashMap<Uuid, Vec<Complaint>> = HashMap::new();
    for (c, made, resolved) in rows {
        by_customer.entry(c).or_default().push(Complaint {
            made: settings.clock.local_day(made),
            resolved: resolved
                .filter(|r| *r < day_end)
                .map(|r| settings.clock.local_day(r)),
        });
    }
    Ok(by_customer)
}

/// The last day each customer told a caller they no longer use the company, before `day_end`.
async fn said_left_before(
    pool: &PgPool,
    settings: &Settings,
    day_end: DateTime<Utc>,
) -> sqlx::Result<Vec<(Uuid, NaiveDate)>> {
    let rows: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
        "select customer_id, max(recorded_at) from campaign_outcome
          where outcome = 'left' and recorded_at < $1 group by customer_id",
    )
    .bind(day_end)
    .persistent(false)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(c, at)| (c, settings.clock.local_day(at)))
        .collect())
}

/// Fitted estimates for one list day and window.
pub struct Outlook {
    /// How they were made.
    pub summary: OutlookSummary,
    active: Arc<Activeness>,
    survival: WardrobeSurvival,
    hazard: Option<SendingHazard>,
    own: HashMap<Uuid, Vec<PastWindow>>,
    sent_this_window: HashMap<Uuid, u32>,
    length: u32,
    day: u32,
}

impl Outlook {
    /// The estimates for one customer (a customer unknown to the fit, new since, counts as active).
    pub fn customer(&self, id: Uuid) -> CustomerOutlook {
        let own = self.own.get(&id).map_or(&[][..], Vec::as_slice);
        let mut p_active = self.active.p_active(id);
        let (p_not_sent, p_worn_not_sent) = match (&self.hazard, self.sent_this_window.get(&id)) {
            // Already put the season away this window: what is left stays unless someone calls.
            (_, Some(d)) if *d < self.day => (1.0, 1.0),
            (Some(h), _) => {
                // Someone gone never puts away; someone still here has not yet with chance `quiet` (at
                // least their chance of skipping a window): not having sent by today lowers P(active).
                let (quiet, none) = h.quiet_then_unsent(own, self.length, self.day);
                p_active = timing::active_given_quiet(p_active, quiet.max(h.p_skip(own)));
                let left_out = |share: f64| none + (1.0 - none) * (1.0 - share);
                (
                    left_out(self.summary.put_away_share),
                    left_out(self.summary.worn_put_away_share),
                )
            }
            (None, _) => (1.0, 1.0),
        };
        CustomerOutlook {
            p_active,
            p_not_sent,
            p_worn_not_sent,
            usual_day: timing::usual_day(own),
            sends_seen: own.iter().filter_map(PastWindow::sent_day).count(),
            last_seen: self.active.last_seen(id),
        }
    }

    /// P(still owned and worn) of a garment last cleaned on `cleaned_on`, measured to its owner's last visit.
    pub fn p_in_use(
        &self,
        kind: GarmentKind,
        material: Option<Material>,
        cleaned_on: NaiveDate,
        owner_last_seen: Option<NaiveDate>,
    ) -> f64 {
        let gap = owner_last_seen.map_or(0, |seen| (seen - cleaned_on).num_days().max(0));
        self.survival.p_in_use(
            kind,
            material.unwrap_or(Material::Other),
            usize::try_from(gap).unwrap_or(0),
        )
    }
}

/// Fits every estimate, the active-customer model included, on the history before the end of `on`.
pub async fn fit(
    pool: &PgPool,
    settings: &Settings,
    cal: &Calendar,
    window: &SeasonWindow,
    on: NaiveDate,
) -> AppResult<Outlook> {
    let active = Arc::new(Activeness::fit(pool, settings, on).await?);
    fit_with(pool, settings, cal, window, on, active).await
}

/// Fits the window's estimates on the history before the end of `on`, with the day's active-customer model.
async fn fit_with(
    pool: &PgPool,
    settings: &Settings,
    cal: &Calendar,
    window: &SeasonWindow,
    on: NaiveDate,
    active: Arc<Activeness>,
) -> AppResult<Outlook> {
    let started = Instant::now();
    let day_end = settings.clock.start_of(on + chrono::Duration::days(1));
    let local = |at: DateTime<Utc>| settings.clock.local_day(at);

    #[allow(clippy::type_complexity)]
    let garments: Vec<(
        Uuid,
        GarmentKind,
        Option<Material>,
        SeasonClass,
        Vec<DateTime<Utc>>,
    )> = sqlx::query_as(
        // The sampled customers first, then their rows by the customer-led keys: at a million customers the
        // join of every line, filtered after, read the whole history for one customer in fifty.
        "with sampled as materialized (
             select customer_id from customer
              where $2 = 1 or abs(hashtextextended(customer_id::text, 0)) % $2 = 0
         )
         select g.customer_id, g.kind, g.material, g.season_class, array_agg(p.collected_at)
           from sampled s
           -- `offset 0` keeps the garments read per sampled customer (the planner would hash all of them).
           cross join lateral (select * from garment g where g.customer_id = s.customer_id offset 0) g
           join pickup_line pl on pl.customer_id = g.customer_id and pl.garment_id = g.garment_id
           join pickup p on p.customer_id = pl.customer_id and p.pickup_id = pl.pickup_id
          where p.collected_at < $1 and is_cleaning(pl.service)
          group by g.customer_id, g.garment_id, g.kind, g.material, g.season_class",
    )
    .bind(day_end)
    .bind(sample_every(active.visits.len()))
    .persistent(false)
    .fetch_all(pool)
    .await?;
    let mut outgoing_cleanings: HashMap<Uuid, Vec<OutgoingGarment>> = HashMap::new();
    let histories: Vec<GarmentHistory> = garments
        .into_iter()
        .filter_map(|(c, kind, material, class, at)| {
            let cleaned_on: Vec<NaiveDate> = at.into_iter().map(local).collect();
            if class == window.outgoing {
                outgoing_cleanings
                    .entry(c)
                    .or_default()
                    .push(OutgoingGarment {
                        kind,
                        material: material.unwrap_or(Material::Other),
                        cleaned_on: cleaned_on.clone(),
                    });
            }
            let owner_last_seen = active.last_seen(c)?;
            Some(GarmentHistory {
                kind,
                material: material.unwrap_or(Material::Other),
                cleaned_on,
                owner_last_seen,
            })
        })
        .collect();
    let loaded = started.elapsed();
    let survival = WardrobeSurvival::fit(&histories)
        .map_err(|e| anyhow::anyhow!("garment survival fit: {e}"))?;
    let survived = started.elapsed();

    let (own, sent_this_window, shares) = past_windows(
        pool,
        settings,
        cal,
        window,
        on,
        &active,
        Sample {
            outgoing: &outgoing_cleanings,
            survival: &survival,
        },
    )
    .await?;
    tracing::debug!(
        garments_load_secs = loaded.as_secs_f64(),
        survival_secs = (survived - loaded).as_secs_f64(),
        windows_secs = (started.elapsed() - survived).as_secs_f64(),
        "reminder estimates fitted"
    );
    let past_windows: usize = own.values().map(Vec::len).sum();
    let past_sends = own
        .values()
        .flatten()
        .filter_map(PastWindow::sent_day)
        .count();
    let hazard = (past_sends >= MIN_SENDS).then(|| {
        let mut h = SendingHazard::fit(own.values().flatten());
        h.learn_habits(own.values().map(Vec::as_slice));
        h
    });
    let length = u32::try_from((window.ends_on - window.starts_on).num_days() + 1).unwrap_or(1);
    let day = u32::try_from(
        (on - window.starts_on)
            .num_days()
            .clamp(0, i64::from(length)),
    )
    .unwrap_or(0);

    let summary = OutlookSummary {
        as_of: on,
        fitted_at: Utc::now(),
        customers: active.visits.len(),
        repeat_customers: active.visits.values().filter(|v| v.days > 1).count(),
        active_assumed: active.variant_fit.fallback_reason.clone(),
        active_calibration_samples: if active.activity.calibrated() {
            active.activity.samples
        } else {
            0
        },
        garments: histories.len(),
        in_use_assumed: survival.fallback_reason.clone(),
        past_windows,
        past_sends,
        timing_assumed: hazard.is_none().then(|| {
            format!(
                "{past_sends} unprompted put-aways in past windows (need {MIN_SENDS}): \
                 nobody is expected to send without a call"
            )
        }),
        put_away_share: shares.all,
        worn_put_away_share: shares.worn,
    };
    Ok(Outlook {
        summary,
        active,
        survival,
        hazard,
        own,
        sent_this_window,
        length,
        day,
    })
}

/// Each customer's past windows of this kind (those by whose end they had sent a garment of the outgoing
/// class), each ended by an unprompted put-away, a call or nothing, and weighted for everyone's hazard; the day of a put-away already made in this
/// window before the list day; and the [`Shares`] of their outgoing garments that customers sent in a past
/// window's unprompted put-away (1 when nobody made one).
async fn past_windows(
    pool: &PgPool,
    settings: &Settings,
    cal: &Calendar,
    window: &SeasonWindow,
    on: NaiveDate,
    active: &Activeness,
    sample: Sample<'_>,
) -> AppResult<(HashMap<Uuid, Vec<PastWindow>>, HashMap<Uuid, u32>, Shares)> {
    let day_end = settings.clock.start_of(on + chrono::Duration::days(1));
    let local = |at: DateTime<Utc>| settings.clock.local_day(at);
    // Every customer's first cleaning of an outgoing-season garment: the past windows they had. `pickup_class`
    // holds each visit's classes of cleaned garments, so this reads one index, not every line.
    let first_outgoing: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
        "select customer_id, min(collected_at) from pickup_class
          where collected_at < $1 and season_class = $2
          group by customer_id",
    )
    .bind(day_end)
    .bind(window.outgoing)
    .persistent(false)
    .fetch_all(pool)
    .await?;
    let first_outgoing: HashMap<Uuid, NaiveDate> = first_outgoing
        .into_iter()
        .map(|(c, at)| (c, local(at)))
        .collect();
    // Slot 0 is this window, up to the list day; slots 1.. are the same kind's past windows, ended before it.
    let mut windows: Vec<(NaiveDate, NaiveDate)> = vec![(window.starts_on, window.ends_on.min(on))];
    windows.extend(
        (1..=TIMING_YEARS)
            .filter_map(|back| cal.window(&window.kind, window.year - back))
            .filter(|w| w.ends_on < on)
            .map(|w| (w.starts_on, w.ends_on)),
    );
    let starts: Vec<DateTime<Utc>> = windows
        .iter()
        .map(|w| settings.clock.start_of(w.0))
        .collect();
    let ends: Vec<DateTime<Utc>> = windows
        .iter()
        .map(|w| settings.clock.start_of(w.1 + chrono::Duration::days(1)))
        .collect();
    let rule = PutAwayRule::default();
    // Put-away-like pickups (the rule: inside the window, several garments of its outgoing class at once) and
    // calls or visits, first of each per customer and window.
    type First = (Uuid, i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let firsts: Vec<First> = sqlx::query_as(
        "with w as (
             select * from unnest($1::timestamptz[], $2::timestamptz[]) with ordinality as w (start_at, end_at, n)
         ), sent as (
             -- A visit's class row counts the garments of that class it cleaned: the index answers alone.
             select p.customer_id, w.n, min(p.collected_at) as at
               from w
               join pickup_class p on p.season_class = $3
                                  and p.collected_at >= w.start_at and p.collected_at < w.end_at
              where p.garments >= $4
              group by p.customer_id, w.n
         ), called as (
             select i.customer_id, w.n, min(i.occurred_at) as at
               from w join interaction i on i.occurred_at >= w.start_at and i.occurred_at < w.end_at
              where i.kind in ('call', 'visit')
              group by i.customer_id, w.n
         )
         select coalesce(s.customer_id, c.customer_id), coalesce(s.n, c.n), s.at, c.at
           from sent s full join called c on c.customer_id = s.customer_id and c.n = s.n",
    )
    .bind(&starts)
    .bind(&ends)
    .bind(window.outgoing)
    .bind(i64::try_from(rule.min_out_of_season).unwrap_or(i64::MAX))
    .persistent(false)
    .fetch_all(pool)
    .await?;
    let day_of = |slot: usize, at: DateTime<Utc>| {
        u32::try_from((settings.clock.local_day(at) - windows[slot].0).num_days()).unwrap_or(0)
    };
    let mut events: HashMap<(Uuid, usize), (Option<u32>, Option<u32>)> = HashMap::new();
    let mut sent_this_window = HashMap::new();
    for (customer, n, sent, called) in firsts {
        let Some(slot) = usize::try_from(n - 1).ok().filter(|s| *s < windows.len()) else {
            continue;
        };
        if slot == 0 {
            if let Some(at) = sent {
                sent_this_window.insert(customer, day_of(0, at));
            }
            continue;
        }
        events.insert(
            (customer, slot),
            (
                sent.map(|a| day_of(slot, a)),
                called.map(|a| day_of(slot, a)),
            ),
        );
    }
    let mut own: HashMap<Uuid, Vec<PastWindow>> = HashMap::new();
    let (mut known, mut worn, mut sent) = (0.0, 0.0, 0.0);
    for (&customer, &first) in &first_outgoing {
        for (slot, &(starts_on, ends_on)) in windows.iter().enumerate().skip(1) {
            if first > ends_on {
                continue;
            }
            let length = u32::try_from((ends_on - starts_on).num_days() + 1).unwrap_or(1);
            let weight = match active.last_seen(customer) {
                // First seen with outgoing garments in the window (its put-away, as a rule; or the records began
                // in it): it tells the customer's own day, but counted for everyone it would be a sure send.
                _ if first >= starts_on => 0.0,
                // Seen since it opened: still a customer then.
                Some(seen) if seen >= starts_on => 1.0,
                // Not seen since: in the active-customer model a customer leaves right after a visit, so they
                // were then exactly as likely to be one as now.
                _ => active.p_active(customer),
            };
            let outcome = match events.get(&(customer, slot)) {
                Some((Some(s), Some(c))) if c < s => Outcome::Called(*c),
                Some((Some(s), _)) => Outcome::Sent(*s),
                Some((None, Some(c))) => Outcome::Called(*c),
                _ => Outcome::Nothing,
            };
            let sampled = sample.outgoing.get(&customer);
            if let (Outcome::Sent(_), Some(garments)) = (outcome, sampled) {
                let since = starts_on - chrono::Duration::days(IN_USE_DAYS);
                for g in garments {
                    // Its last cleaning before the window, if within the two years before it.
                    let Some(last) = g
                        .cleaned_on
                        .iter()
                        .filter(|d| **d >= since && **d < starts_on)
                        .max()
                    else {
                        continue;
                    };
                    let was_sent = g
                        .cleaned_on
                        .iter()
                        .any(|d| *d >= starts_on && *d <= ends_on);
                    let gap = usize::try_from((starts_on - *last).num_days()).unwrap_or(0);
                    known += 1.0;
                    worn += sample.survival.p_in_use(g.kind, g.material, gap);
                    sent += f64::from(u8::from(was_sent));
                }
            }
            own.entry(customer).or_default().push(PastWindow {
                length,
                outcome,
                weight,
            });
        }
    }
    // Nobody known: everyone sends everything (no put-away share to apply).
    let of = |base: f64| {
        if base > 0.0 {
            (sent / base).min(1.0)
        } else {
            1.0
        }
    };
    Ok((
        own,
        sent_this_window,
        Shares {
            all: of(known),
            worn: of(worn),
        },
    ))
}

/// A sampled customer's garment of the window's outgoing class, and the days it was cleaned.
struct OutgoingGarment {
    kind: GarmentKind,
    material: Material,
    cleaned_on: Vec<NaiveDate>,
}

/// What the put-away shares are measured on: the sampled customers' outgoing garments, and the survival model.
struct Sample<'a> {
    outgoing: &'a HashMap<Uuid, Vec<OutgoingGarment>>,
    survival: &'a WardrobeSurvival,
}

/// The share of their outgoing garments customers sent in a past window's put-away: of all those cleaned in the
/// two years before it, and of those expected still worn when it opened.
struct Shares {
    all: f64,
    worn: f64,
}

/// Take every n-th customer's garments (by a hash of the id) so about [`SAMPLED_CUSTOMERS`] are fitted on.
fn sample_every(customers: usize) -> i64 {
    i64::try_from(customers.div_ceil(SAMPLED_CUSTOMERS).max(1)).unwrap_or(1)
}

/// What a fit in the background needs, owned: it outlives the request that started it.
#[derive(Clone)]
pub(crate) struct FitArgs {
    pub(crate) pool: PgPool,
    pub(crate) settings: Settings,
    pub(crate) cal: Calendar,
    pub(crate) window: SeasonWindow,
    pub(crate) cache: Arc<OutlookCache>,
}

/// The lists' estimates, kept: who is still a customer per day, the reminder outlook per day and window.
#[derive(Default)]
pub struct OutlookCache {
    active: Kept<NaiveDate, Activeness>,
    outlooks: Kept<(NaiveDate, String), Outlook>,
    /// Each window's count from the wardrobes on record, remade from the newest estimates (off their fit's path).
    pub(crate) wardrobes: Kept<(NaiveDate, String), super::expected::Counted>,
    /// Today's reminder lists, kept ranked.
    pub(crate) reminders: super::maintained::Slots<
        super::reminders::KeptKey,
        super::maintained::Kept<super::reminders::ReminderSource>,
    >,
    /// Each list day's customer values (RFM inputs and cut points), kept.
    pub(crate) values: super::maintained::Slots<NaiveDate, super::values::KeptValues>,
    /// Today's at-risk lists, kept ranked.
    pub(crate) at_risk: super::maintained::Slots<
        super::value::AtRiskKey,
        super::maintained::Kept<super::value::AtRiskSource>,
    >,
    /// Today's storage offers, kept ranked.
    pub(crate) upsell: super::maintained::Slots<
        super::storage_upsell::KeptKey,
        super::maintained::Kept<super::storage_upsell::UpsellSource>,
    >,
    /// Today's special-size lists, kept ranked.
    pub(crate) sizes: super::maintained::Slots<
        super::special_sizes::KeptKey,
        super::maintained::Kept<super::special_sizes::SizesSource>,
    >,
}

impl OutlookCache {
    /// Estimates whose first fit a list request waits for `first_wait` at most, then answers 503 with
    /// `Retry-After: retry_after` (the service: 15 s and 30 s; a test of the page's patience: shorter).
    pub fn with_patience(first_wait: Duration, retry_after: u64) -> Self {
        let mut cache = OutlookCache::default();
        cache.active.first_wait = first_wait;
        cache.active.retry_after = retry_after;
        cache.outlooks.first_wait = first_wait;
        cache.outlooks.retry_after = retry_after;
        cache
    }

    /// Drops the kept estimates, lists and values of days before `today` (only today's are kept; at a million
    /// customers each day's values alone are about 200 MB).
    pub fn forget_before(&self, today: NaiveDate) {
        self.active.retain(|day| *day >= today);
        self.outlooks.retain(|k| k.0 >= today);
        self.wardrobes.retain(|k| k.0 >= today);
        self.values.retain(|day| *day >= today);
        self.reminders.retain(|k| k.0 >= today);
        self.upsell.retain(|k| k.0 >= today);
        self.sizes.retain(|k| k.0 >= today);
        self.at_risk.retain(|k| k.0 >= today);
    }

    /// Who is still a customer on `on`.
    pub async fn active(
        self: &Arc<Self>,
        pool: &PgPool,
        settings: &Settings,
        on: NaiveDate,
    ) -> AppResult<Arc<Activeness>> {
        self.active_within(pool, settings, on, Some(self.active.first_wait))
            .await
    }

    /// `active`, waiting for a first fit at most `wait`.
    async fn active_within(
        self: &Arc<Self>,
        pool: &PgPool,
        settings: &Settings,
        on: NaiveDate,
        wait: Option<Duration>,
    ) -> AppResult<Arc<Activeness>> {
        let (pool, settings) = (pool.clone(), settings.clone());
        self.active
            .get_within(
                on,
                move || {
                    let (pool, settings) = (pool.clone(), settings.clone());
                    async move { Activeness::fit(&pool, &settings, on).await }
                },
                wait,
            )
            .await
    }

    /// The reminder estimates for `window` on `on` (a 503 when a first fit takes longer than a page may wait).
    pub async fn get(
        self: &Arc<Self>,
        pool: &PgPool,
        settings: &Settings,
        cal: &Calendar,
        window: &SeasonWindow,
        on: NaiveDate,
    ) -> AppResult<Arc<Outlook>> {
        self.get_within(
            pool,
            settings,
            cal,
            window,
            on,
            Some(self.outlooks.first_wait),
        )
        .await
    }

    /// `get`, waiting for a first fit at most `wait` (without end when `None`: a benchmark or a warm-up).
    pub async fn get_within(
        self: &Arc<Self>,
        pool: &PgPool,
        settings: &Settings,
        cal: &Calendar,
        window: &SeasonWindow,
        on: NaiveDate,
        wait: Option<Duration>,
    ) -> AppResult<Arc<Outlook>> {
        let args = FitArgs {
            pool: pool.clone(),
            settings: settings.clone(),
            cal: cal.clone(),
            window: window.clone(),
            cache: self.clone(),
        };
        self.outlooks
            .get_within(
                (on, window.id.clone()),
                move || {
                    let a = args.clone();
                    async move {
                        // Part of this fit: waits for the day's model however long its first fit takes.
                        let active = a
                            .cache
                            .active_within(&a.pool, &a.settings, on, None)
                            .await?;
                        fit_with(&a.pool, &a.settings, &a.cal, &a.window, on, active).await
                    }
                },
                wait,
            )
            .await
    }
}

/// How often the warm-up task looks at today's estimates (a new day, or a fit past its ten minutes).
const WARM_EVERY: Duration = Duration::from_secs(300);

/// Keeps today's estimates for the current window fitted and today's kept lists built: at start, then every five
/// minutes (a fit older than ten minutes is refreshed in the background; a new day gets its fit and lists
/// before its first list is asked for).
pub fn spawn_warm(state: crate::state::AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last_day = None;
        loop {
            let started = Instant::now();
            let on = state.settings.clock.today();
            state.outlook.forget_before(on);
            // Today's lists (reminders for the current window, special sizes) are kept ranked too, so their
            // first pages are ready.
            let warm = || async {
                let (cal, q) = super::reminders::query_from(&state, None, Some(on), None).await?;
                let one = crate::export::Rows {
                    limit: Some(1),
                    offset: 0,
                };
                let sizes =
                    super::special_sizes::query_from(&state.settings, Some(on), None, None)?;
                super::special_sizes::compute_kept(&state, &sizes, one).await?;
                super::reminders::compute_kept(&state, &cal, &q, one)
                    .await
                    .map(|(o, _)| o)
            };
            // A first fit outlasts one caller's wait; this task waits for it, then builds the lists.
            let warmed = loop {
                match warm().await {
                    Err(AppError::Problem(p)) if p.slug == "estimates-not-ready" => {
                        // Told at once when other days' fits hold every place: not a busy loop.
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                    other => break other,
                }
            };
            match warmed {
                Ok(o) if last_day != Some(on) => {
                    last_day = Some(on);
                    tracing::info!(
                        secs = started.elapsed().as_secs_f64(),
                        customers = o.summary.customers,
                        garments = o.summary.garments,
                        "reminder estimates fitted for the day"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = ?e, "fitting today's reminder estimates failed"),
            }
            tokio::time::sleep(WARM_EVERY).await;
        }
    })
}
