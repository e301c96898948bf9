//! Customer value and lifecycle (RFM tiers against the whole base) and the at-risk list built on it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::outlook::{Activeness, GONE_BELOW};
use super::round3;
use crate::domain::money::money;
use crate::error::{AppError, AppResult};
use crate::export::{ranks, CsvRow, Listed, Rows};
use crate::state::Settings;

/// Value tiers, best first.
pub const TIERS: &[&str] = &["platinum", "gold", "silver", "bronze"];
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

/// Adds each entry's chance of still being a customer.
pub fn with_activity(items: &mut [ValueEntry], active: &Activeness) {
    for e in items {
        e.p_active = Some(round3(active.p_active(e.customer_id)));
    }
}

/// The at-risk list with each entry's chance of still being a customer and kind of call; with a `status`, only
/// that kind (every candidate is scored, then the page is cut from those that remain).
pub async fn compute_at_risk_scored(
    state: &crate::state::AppState,
    q: &AtRiskQuery,
    rows: Rows,
) -> AppResult<Listed<AtRiskEntry>> {
    let (pool, settings) = (&state.pool, &*state.settings);
    let active = state.outlook.active(pool, settings, q.on).await?;
    let active = &*active;
    let Some(status) = &q.status else {
        let mut listed = compute_at_risk(pool, settings, q, rows).await?;
        at_risk_with_activity(&mut listed.items, active);
        return Ok(listed);
    };
    let mut listed = compute_at_risk(pool, settings, q, Rows::ALL).await?;
    at_risk_with_activity(&mut listed.items, active);
    listed.items.retain(|e| e.status.as_ref() == Some(status));
    let total = i64::try_from(listed.items.len()).unwrap_or(i64::MAX);
    let items: Vec<AtRiskEntry> = listed
        .items
        .into_iter()
        .skip(usize::try_from(rows.offset).unwrap_or(usize::MAX))
        .take(
            rows.limit
                .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(0)),
        )
        .zip(ranks(rows))
        .map(|(mut e, rank)| {
            e.rank = rank;
            e
        })
        .collect();
    Ok(Listed { total, items })
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

    fn record(&self) -> Vec<String> {
        vec![
            self.rank.to_string(),
            self.customer_id.to_string(),
            self.name.clone(),
            self.tier.clone(),
            self.stage.clone(),
            self.r.to_string(),
            self.f.to_string(),
            self.m.to_string(),
            self.pickups.to_string(),
            money(self.spend_cents),
            self.last_pickup_at.date_naive().to_string(),
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
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AtRiskEntry {
    #[sqlx(skip)]
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
    #[sqlx(skip)]
    pub(crate) p_active: Option<f64>,
    /// `slipping` (still a customer, coming less: a care call) or `gone` (probably left: a win-back call).
    #[sqlx(skip)]
    pub(crate) status: Option<String>,
    #[serde(skip)]
    #[sqlx(default)]
    pub(crate) total: i64,
    #[sqlx(skip)]
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

/// Computes the at-risk list: customers whose gap is far beyond their own rhythm, biggest loss first.
pub async fn compute_at_risk(
    pool: &PgPool,
    settings: &Settings,
    q: &AtRiskQuery,
    rows: Rows,
) -> AppResult<Listed<AtRiskEntry>> {
    let day_end = settings.clock.start_of(q.on + chrono::Duration::days(1));
    let mut found: Vec<AtRiskEntry> = sqlx::query_as(
        "select v.customer_id, c.name, c.phone, c.address, v.tier, v.pickups, v.last_pickup_at,
                v.recency_days as days_since, v.usual_interval_days,
                (v.spend_cents * 365.0
                  / (extract(epoch from v.last_pickup_at - v.first_pickup_at) / 86400.0 + v.usual_interval_days))::bigint
                  as yearly_loss_cents,
                exists (select 1 from interaction i where i.customer_id = v.customer_id
                           and i.kind = 'complaint' and i.resolved_at is null) as open_complaint,
                count(*) over () as total
           from customer_value($1) v join customer c on c.customer_id = v.customer_id
          where not c.do_not_contact and v.pickups >= $2
            and v.recency_days > $3 * greatest(v.usual_interval_days, 7)
          order by yearly_loss_cents desc, v.customer_id
          limit $4 offset $5",
    )
    .bind(day_end)
    .bind(q.min_pickups)
    .bind(q.factor)
    .bind(rows.limit)
    .bind(rows.offset)
    .persistent(false)
    .fetch_all(pool)
    .await?;
    let total = found.first().map_or(0, |r| r.total);
    for (e, rank) in found.iter_mut().zip(ranks(rows)) {
        e.rank = rank;
        e.reason = format!(
            "last pickup {:.0} days ago, usually every {:.0} days ({:.1}x their rhythm); spent about {} a year; {} customer{}",
            e.days_since,
            e.usual_interval_days,
            e.days_since / e.usual_interval_days.max(1.0),
            money(e.yearly_loss_cents),
            e.tier,
            if e.open_complaint { "; has an open complaint" } else { "" }
        );
    }
    Ok(Listed {
        total,
        items: found,
    })
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

    fn record(&self) -> Vec<String> {
        vec![
            self.rank.to_string(),
            self.customer_id.to_string(),
            self.name.clone(),
            self.phone.clone().unwrap_or_default(),
            self.address.clone().unwrap_or_default(),
            self.tier.clone(),
            self.pickups.to_string(),
            self.last_pickup_at.date_naive().to_string(),
            format!("{:.0}", self.days_since),
            format!("{:.0}", self.usual_interval_days),
            money(self.yearly_loss_cents),
            self.open_complaint.to_string(),
            self.p_active.map(|p| format!("{p:.3}")).unwrap_or_default(),
            self.status.clone().unwrap_or_default(),
            self.reason.clone(),
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
