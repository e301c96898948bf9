//! Customer value and lifecycle (RFM tiers against the whole base) and the at-risk list built on it.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::maintained::{self, Keep, Ranked, Reading, Source};
use super::outlook::{Activeness, GONE_BELOW};
use super::round3;
use super::values::{self, CustomerRates, Scored, ScoredRow};
use crate::domain::money::money;
use crate::error::{AppError, AppResult};
use crate::export::{ranks, CsvRow, Listed, Rows, Wording};
use crate::state::{AppState, Settings};

/// Value tiers, best first.
pub const TIERS: &[&str] = &values::TIER_NAMES;
/// Lifecycle stages.
pub const STAGES: &[&str] = &["new", "growing", "stable", "declining"];

/// One customer's value and lifecycle on a day.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ValueEntry {
    #[sqlx(skip)]
    pub(crate) rank: i64,
    pub(crate) customer_id: Uuid,
    pub(crate) name: String,
    pub(crate) do_not_contact: bool,
    pub(crate) tier: String,
    pub(crate) stage: String,
    pub(crate) r: i32,
    pub(crate) f: i32,
    pub(crate) m: i32,
    pub(crate) pickups: i32,
    pub(crate) spend_cents: i64,
    pub(crate) first_pickup_at: DateTime<Utc>,
    pub(crate) last_pickup_at: DateTime<Utc>,
    pub(crate) recency_days: f64,
    pub(crate) pickups_per_year: f64,
    pub(crate) yearly_spend_cents: f64,
    pub(crate) recent_yearly_cents: f64,
    pub(crate) usual_interval_days: Option<f64>,
    /// Chance they are still a customer (rounded to 0.001).
    #[sqlx(skip)]
    pub(crate) p_active: Option<f64>,
    #[serde(skip)]
    #[sqlx(default)]
    pub(crate) total: i64,
}

/// Filters of the value list.
#[derive(Debug, Clone)]
pub struct ValueQuery {
    pub(crate) on: NaiveDate,
    pub(crate) tier: Option<String>,
    pub(crate) stage: Option<String>,
}

impl ValueQuery {
    /// The list on `on`, optionally of one tier and one stage (checked by the caller).
    pub fn new(on: NaiveDate, tier: Option<String>, stage: Option<String>) -> ValueQuery {
        ValueQuery { on, tier, stage }
    }
}

/// Computes the value list, best customers first.
pub async fn compute_value(
    pool: &PgPool,
    settings: &Settings,
    q: &ValueQuery,
    rows: Rows,
) -> AppResult<Listed<ValueEntry>> {
    let day_end = settings.clock.start_of(q.on + chrono::Duration::days(1));
    let mut found: Vec<ValueEntry> = sqlx::query_as(
        "select v.customer_id, c.name, c.do_not_contact, v.tier, v.stage, v.r, v.f, v.m, v.pickups, v.spend_cents,
                v.first_pickup_at, v.last_pickup_at, v.recency_days, v.pickups_per_year, v.yearly_spend_cents,
                v.recent_yearly_cents, v.usual_interval_days, count(*) over () as total
           from customer_value($1) v join customer c on c.customer_id = v.customer_id
          where ($2::text is null or v.tier = $2) and ($3::text is null or v.stage = $3)
          order by v.r + v.f + v.m desc, v.yearly_spend_cents desc, v.customer_id
          limit $4 offset $5",
    )
    .bind(day_end)
    .bind(&q.tier)
    .bind(&q.stage)
    .bind(rows.limit)
    .bind(rows.offset)
    .persistent(false)
    .fetch_all(pool)
    .await?;
    let total = found.first().map_or(0, |r| r.total);
    for (e, rank) in found.iter_mut().zip(ranks(rows)) {
        e.rank = rank;
    }
    Ok(Listed {
        total,
        items: found,
    })
}

/// The value list as the service serves it: today's from the kept values (every customer scored in memory
/// against the exact cut points, the page picked without sorting the rest), another day's computed afresh.
pub async fn compute_value_kept(
    state: &AppState,
    q: &ValueQuery,
    rows: Rows,
) -> AppResult<Listed<ValueEntry>> {
    if q.on != state.settings.clock.today() {
        return compute_value(&state.pool, &state.settings, q, rows).await;
    }
    let (offset, limit) = rows.span();
    let (total, page) = values::with_values(state, q.on, |v| {
        let index = |names: &[&str], name: &Option<String>| {
            name.as_deref()
                .map(|n| names.iter().position(|x| *x == n).map(|i| i as u8))
        };
        let (tier, stage) = (
            index(&values::TIER_NAMES, &q.tier),
            index(&values::STAGE_NAMES, &q.stage),
        );
        let wanted = |s: &ScoredRow| {
            tier.is_none_or(|t| t == Some(s.tier)) && stage.is_none_or(|st| st == Some(s.stage))
        };
        // A first pass counts the listed customers by score (3 to 15), so the second keeps only those scoring
        // enough to reach the page: at a million customers, a few thousand rows to order instead of all.
        let mut by_score = [0usize; 16];
        for s in v.scored().iter().filter(|s| wanted(s)) {
            by_score[usize::from(s.total()).min(15)] += 1;
        }
        let total: usize = by_score.iter().sum();
        let end = offset.saturating_add(limit).min(total);
        let (mut floor, mut above) = (by_score.len(), 0);
        while floor > 0 && above < end {
            floor -= 1;
            above += by_score[floor];
        }
        let mut found: Vec<&ScoredRow> = if end == 0 {
            Vec::new()
        } else {
            v.scored()
                .iter()
                .filter(|s| usize::from(s.total()).min(15) >= floor && wanted(s))
                .collect()
        };
        // Highest score first, then the highest yearly spend, then customer id, as the SQL orders them.
        let order = |a: &&ScoredRow, b: &&ScoredRow| {
            b.total()
                .cmp(&a.total())
                .then(b.yearly_spend_cents.total_cmp(&a.yearly_spend_cents))
                .then(a.customer_id.cmp(&b.customer_id))
        };
        if end < found.len() {
            found.select_nth_unstable_by(end - 1, order);
            found.truncate(end);
        }
        found.sort_unstable_by(order);
        let page: Vec<(CustomerRates, Scored)> = found
            .into_iter()
            .skip(offset)
            .filter_map(|s| Some((v.get(&s.customer_id)?.clone(), s.scored())))
            .collect();
        (total, page)
    })
    .await?;
    let ids: Vec<Uuid> = page.iter().map(|(r, _)| r.customer_id).collect();
    let people: Vec<(Uuid, String, bool)> = sqlx::query_as(
        "select customer_id, name, do_not_contact from customer where customer_id = any($1)",
    )
    .bind(&ids)
    .persistent(false)
    .fetch_all(&state.pool)
    .await?;
    let mut people: HashMap<Uuid, (String, bool)> = people
        .into_iter()
        .map(|(id, name, dnc)| (id, (name, dnc)))
        .collect();
    let total = i64::try_from(total).unwrap_or(i64::MAX);
    let items = page
        .into_iter()
        .zip(ranks(rows))
        .map(|((r, s), rank)| {
            let (name, do_not_contact) = people.remove(&r.customer_id).unwrap_or_default();
            ValueEntry {
                rank,
                customer_id: r.customer_id,
                name,
                do_not_contact,
                tier: s.tier.to_owned(),
                stage: r.stage().to_owned(),
                r: s.r,
                f: s.f,
                m: s.m,
                pickups: r.pickups,
                spend_cents: r.spend_cents,
                first_pickup_at: r.first_pickup_at,
                last_pickup_at: r.last_pickup_at,
                recency_days: r.recency_days,
                pickups_per_year: r.pickups_per_year,
                yearly_spend_cents: r.yearly_spend_cents,
                recent_yearly_cents: r.recent_yearly_cents,
                usual_interval_days: r.usual_interval_days,
                p_active: None,
                total,
            }
        })
        .collect();
    Ok(Listed { total, items })
}

/// Tier and stage counts as the service serves them: today's from the kept values.
pub async fn segments_kept(
    state: &AppState,
    on: NaiveDate,
) -> AppResult<BTreeMap<String, BTreeMap<String, i64>>> {
    if on != state.settings.clock.today() {
        return segments(&state.pool, &state.settings, on).await;
    }
    values::with_values(state, on, |v| v.segments()).await
}

/// Adds each entry's chance of still being a customer.
pub fn with_activity(items: &mut [ValueEntry], active: &Activeness) {
    for e in items {
        e.p_active = Some(round3(active.p_active(e.customer_id)));
    }
}

/// The at-risk list with each entry's chance of still being a customer and kind of call; with a `status`, only
/// that kind. Today's list is kept ranked (`lists::maintained`); another day's is computed afresh.
pub async fn compute_at_risk_scored(
    state: &AppState,
    q: &AtRiskQuery,
    rows: Rows,
) -> AppResult<Listed<AtRiskEntry>> {
    if q.on != state.settings.clock.today() {
        return compute_at_risk_afresh(state, q, rows).await;
    }
    let active = state
        .outlook
        .active(&state.pool, &state.settings, q.on)
        .await?;
    let wanted = |f: &AtRiskFigures| wanted(q, &active, f);
    let keep: Option<Keep<'_, AtRiskFigures>> = q.status.as_ref().map(|_| &wanted as _);
    let slot = state
        .outlook
        .at_risk
        .slot((q.on, q.factor.to_bits(), q.min_pickups));
    let source = Arc::new(AtRiskSource {
        settings: state.settings.clone(),
        q: q.clone(),
    });
    let page = maintained::serve(state, q.on, slot, source, keep, rows).await?;
    let mut listed =
        at_risk_entries(&state.pool, rows, page.total, page.entries, page.tiers).await?;
    at_risk_with_activity(&mut listed.items, &active);
    Ok(listed)
}

/// The same list computed from scratch: every candidate read, scored and sorted, then the page cut.
pub async fn compute_at_risk_afresh(
    state: &AppState,
    q: &AtRiskQuery,
    rows: Rows,
) -> AppResult<Listed<AtRiskEntry>> {
    let (pool, settings) = (&state.pool, &*state.settings);
    let active = state.outlook.active(pool, settings, q.on).await?;
    let mut ranked = at_risk_figures(pool, settings, q, None).await?;
    ranked.retain(|f| wanted(q, &active, f));
    let mut listed = at_risk_page(pool, settings, q, rows, ranked).await?;
    at_risk_with_activity(&mut listed.items, &active);
    Ok(listed)
}

/// Whether the query's kind of call (if any) is this customer's.
fn wanted(q: &AtRiskQuery, active: &Activeness, f: &AtRiskFigures) -> bool {
    q.status.as_deref().is_none_or(|s| {
        s == if active.p_active(f.customer_id) < GONE_BELOW {
            "gone"
        } else {
            "slipping"
        }
    })
}

/// Adds each entry's chance of still being a customer and what kind of call it is: slipping or gone.
fn at_risk_with_activity(items: &mut [AtRiskEntry], active: &Activeness) {
    for e in items {
        let p = round3(active.p_active(e.customer_id));
        let gone = p < GONE_BELOW;
        e.p_active = Some(p);
        e.status = Some(if gone { "gone" } else { "slipping" }.to_owned());
        e.reason.push_str(&format!(
            "; {:.0}% likely still a customer: {}",
            p * 100.0,
            if gone {
                "probably gone, a win-back call"
            } else {
                "slipping, a care call"
            }
        ));
    }
}

/// How many customers are in each tier and stage, for the manager's overview.
pub async fn segments(
    pool: &PgPool,
    settings: &Settings,
    on: NaiveDate,
) -> AppResult<BTreeMap<String, BTreeMap<String, i64>>> {
    let day_end = settings.clock.start_of(on + chrono::Duration::days(1));
    let counts: Vec<(String, String, i64)> =
        sqlx::query_as("select tier, stage, count(*) from customer_value($1) group by tier, stage")
            .bind(day_end)
            .persistent(false)
            .fetch_all(pool)
            .await?;
    let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (tier, stage, n) in counts {
        out.entry(tier).or_default().insert(stage, n);
    }
    Ok(out)
}

impl CsvRow for ValueEntry {
    fn header() -> &'static [&'static str] {
        &[
            "rank",
            "customer_id",
            "name",
            "tier",
            "stage",
            "r",
            "f",
            "m",
            "pickups",
            "spend",
            "last_pickup",
            "recency_days",
            "pickups_per_year",
            "yearly_spend",
            "recent_yearly_spend",
            "p_active",
        ]
    }

    fn record(&self, words: &Wording) -> Vec<String> {
        vec![
            self.rank.to_string(),
            self.customer_id.to_string(),
            self.name.clone(),
            words.word("tier", &self.tier),
            words.word("stage", &self.stage),
            self.r.to_string(),
            self.f.to_string(),
            self.m.to_string(),
            self.pickups.to_string(),
            money(self.spend_cents),
            words.day_of(self.last_pickup_at).to_string(),
            format!("{:.0}", self.recency_days),
            format!("{:.1}", self.pickups_per_year),
            money(self.yearly_spend_cents as i64),
            money(self.recent_yearly_cents as i64),
            self.p_active.map(|p| format!("{p:.3}")).unwrap_or_default(),
        ]
    }

    fn do_not_contact(&self) -> bool {
        self.do_not_contact
    }
}

/// A regular customer who has stopped coming, with what losing them costs.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AtRiskEntry {
    pub(crate) rank: i64,
    pub(crate) customer_id: Uuid,
    pub(crate) name: String,
    pub(crate) phone: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) tier: String,
    pub(crate) pickups: i32,
    pub(crate) last_pickup_at: DateTime<Utc>,
    pub(crate) days_since: f64,
    pub(crate) usual_interval_days: f64,
    /// What they spent a year while they were coming.
    pub yearly_loss_cents: i64,
    pub(crate) open_complaint: bool,
    /// Chance they are still a customer (rounded to 0.001).
    pub(crate) p_active: Option<f64>,
    /// `slipping` (still a customer, coming less: a care call) or `gone` (probably left: a win-back call).
    pub(crate) status: Option<String>,
    pub(crate) reason: String,
}

/// Filters of the at-risk list.
#[derive(Debug, Clone)]
pub struct AtRiskQuery {
    pub(crate) on: NaiveDate,
    /// How many of their usual intervals must have passed.
    pub factor: f64,
    pub(crate) min_pickups: i32,
    /// Only `slipping` or only `gone` customers (see [`GONE_BELOW`]); all when `None`.
    pub(crate) status: Option<String>,
}

/// The at-risk kinds of call, by the chance the customer is still one.
pub const RISK_STATUSES: &[&str] = &["slipping", "gone"];

/// One at-risk customer's figures, as the ranking keeps them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AtRiskFigures {
    customer_id: Uuid,
    pickups: i32,
    last_pickup_at: DateTime<Utc>,
    days_since: f64,
    usual_interval_days: f64,
    yearly_loss_cents: i64,
}

impl Ranked for AtRiskFigures {
    /// Biggest yearly loss first (then customer id).
    type Key = Reverse<i64>;

    fn customer_id(&self) -> Uuid {
        self.customer_id
    }

    fn key(&self) -> Self::Key {
        Reverse(self.yearly_loss_cents)
    }
}

/// Customers (every one, or those of `only`) whose gap is far beyond their own rhythm, in no particular order.
async fn at_risk_figures(
    db: impl sqlx::PgExecutor<'_>,
    settings: &Settings,
    q: &AtRiskQuery,
    only: Option<&[Uuid]>,
) -> AppResult<Vec<AtRiskFigures>> {
    let day_end = settings.clock.start_of(q.on + chrono::Duration::days(1));
    Ok(sqlx::query_as(
        "select v.customer_id, v.pickups, v.last_pickup_at, v.recency_days as days_since, v.usual_interval_days,
                least(v.spend_cents * 365.0
                      / greatest(extract(epoch from v.last_pickup_at - v.first_pickup_at) / 86400.0
                                 + v.usual_interval_days, 1.0),
                      9.0e18)::bigint
                  as yearly_loss_cents
           from customer_rates($1, $4) v join customer c on c.customer_id = v.customer_id
          where not c.do_not_contact and v.pickups >= $2
            and v.recency_days > $3 * greatest(v.usual_interval_days, 7)",
    )
    .bind(day_end)
    .bind(q.min_pickups)
    .bind(q.factor)
    .bind(only)
    .persistent(false)
    .fetch_all(db)
    .await?)
}

/// Today's at-risk list as kept.
pub struct AtRiskSource {
    settings: Arc<Settings>,
    q: AtRiskQuery,
}

impl Source for AtRiskSource {
    type Entry = AtRiskFigures;

    fn read<'a>(
        &'a self,
        conn: &'a mut sqlx::PgConnection,
        only: Option<&'a [Uuid]>,
    ) -> Reading<'a, AtRiskFigures> {
        Box::pin(at_risk_figures(conn, &self.settings, &self.q, only))
    }
}

/// Which kept at-risk list: the day, the factor (by its bits) and the fewest pickups.
pub type AtRiskKey = (NaiveDate, u64, i32);

/// The at-risk list, every candidate: customers whose gap is far beyond their own rhythm, biggest loss first
/// (without the chance of still being a customer; `compute_at_risk_scored` adds it).
pub async fn compute_at_risk(
    pool: &PgPool,
    settings: &Settings,
    q: &AtRiskQuery,
    rows: Rows,
) -> AppResult<Listed<AtRiskEntry>> {
    let ranked = at_risk_figures(pool, settings, q, None).await?;
    at_risk_page(pool, settings, q, rows, ranked).await
}

/// Sorts the candidates and fills in one page.
async fn at_risk_page(
    pool: &PgPool,
    settings: &Settings,
    q: &AtRiskQuery,
    rows: Rows,
    ranked: Vec<AtRiskFigures>,
) -> AppResult<Listed<AtRiskEntry>> {
    let (total, page) = maintained::ranked_page(ranked, rows);
    let ids: Vec<Uuid> = page.iter().map(|f| f.customer_id).collect();
    let tiers = super::db::tiers(pool, settings, q.on, &ids).await?;
    at_risk_entries(pool, rows, total, page, tiers).await
}

/// The page's entries in full: who they are, their tier, any open complaint, and why they are listed.
async fn at_risk_entries(
    pool: &PgPool,
    rows: Rows,
    total: i64,
    page: Vec<AtRiskFigures>,
    mut tiers: HashMap<Uuid, (String, f64)>,
) -> AppResult<Listed<AtRiskEntry>> {
    let ids: Vec<Uuid> = page.iter().map(|f| f.customer_id).collect();
    let mut people = super::db::people(pool, &ids).await?;
    let items = page
        .into_iter()
        .zip(ranks(rows))
        .map(|(f, rank)| {
            let (name, phone, address, open_complaint) =
                people.remove(&f.customer_id).unwrap_or_default();
            let tier = tiers
                .remove(&f.customer_id)
                .map(|(tier, _)| tier)
                .unwrap_or_default();
            let reason = format!(
                "last pickup {:.0} days ago, usually every {:.0} days ({:.1}x their rhythm); spent about {} a year; {} customer{}",
                f.days_since,
                f.usual_interval_days,
                f.days_since / f.usual_interval_days.max(1.0),
                money(f.yearly_loss_cents),
                tier,
                if open_complaint { "; has an open complaint" } else { "" }
            );
            AtRiskEntry {
                rank,
                customer_id: f.customer_id,
                name,
                phone,
                address,
                tier,
                pickups: f.pickups,
                last_pickup_at: f.last_pickup_at,
                days_since: f.days_since,
                usual_interval_days: f.usual_interval_days,
                yearly_loss_cents: f.yearly_loss_cents,
                open_complaint,
                p_active: None,
                status: None,
                reason,
            }
        })
        .collect();
    Ok(Listed { total, items })
}

impl CsvRow for AtRiskEntry {
    fn header() -> &'static [&'static str] {
        &[
            "rank",
            "customer_id",
            "name",
            "phone",
            "address",
            "tier",
            "pickups",
            "last_pickup",
            "days_since",
            "usual_interval_days",
            "yearly_loss",
            "open_complaint",
            "p_active",
            "status",
            "reason",
        ]
    }

    fn record(&self, words: &Wording) -> Vec<String> {
        vec![
            self.rank.to_string(),
            self.customer_id.to_string(),
            self.name.clone(),
            self.phone.clone().unwrap_or_default(),
            self.address.clone().unwrap_or_default(),
            words.word("tier", &self.tier),
            self.pickups.to_string(),
            words.day_of(self.last_pickup_at).to_string(),
            format!("{:.0}", self.days_since),
            format!("{:.0}", self.usual_interval_days),
            money(self.yearly_loss_cents),
            words.yes_no(self.open_complaint),
            self.p_active.map(|p| format!("{p:.3}")).unwrap_or_default(),
            words.word("risk", self.status.as_deref().unwrap_or_default()),
            super::why::reason_cell(words, self, &self.reason),
        ]
    }
}

/// Builds the query from request parameters; shared with campaign creation.
pub fn at_risk_query(
    settings: &Settings,
    on: Option<NaiveDate>,
    factor: Option<f64>,
    min_pickups: Option<i32>,
    status: Option<&str>,
) -> AppResult<AtRiskQuery> {
    let status = status.filter(|s| !s.is_empty()).map(str::to_owned);
    if let Some(s) = status.as_deref().filter(|s| !RISK_STATUSES.contains(s)) {
        return Err(AppError::invalid(
            "status",
            format!(
                "'{}' is not one of {}",
                s.chars()
                    .filter(|c| !c.is_control())
                    .take(40)
                    .collect::<String>(),
                RISK_STATUSES.join(", ")
            ),
        ));
    }
    let on = super::list_day(settings, on)?;
    let factor = factor.unwrap_or(3.0);
    if !(1.0..=20.0).contains(&factor) {
        return Err(AppError::invalid(
            "factor",
            "between 1 and 20 usual intervals",
        ));
    }
    let min_pickups = min_pickups.unwrap_or(3);
    if !(2..=1000).contains(&min_pickups) {
        return Err(AppError::invalid("min_pickups", "between 2 and 1000"));
    }
    Ok(AtRiskQuery {
        on,
        factor,
        min_pickups,
        status,
    })
}
