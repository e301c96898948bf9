//! Season-change reminders: who still has known, in-use garments of the outgoing season not yet sent this window.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::calendar::{Calendar, SeasonWindow};
use crate::domain::money::money;
use crate::domain::{Category, GarmentKind, Material, SeasonClass};
use crate::error::{AppError, AppResult};
use crate::export::{ranks, CsvRow, Listed, Rows};
use crate::state::{AppState, Settings};

/// A garment counts as in use when it was cleaned within this many days before the window.
pub const IN_USE_DAYS: i64 = 730;
/// Past windows looked at for a customer's own timing.
const TIMING_YEARS: i32 = 3;
/// A put-away pickup may come this many days before its window opens.
const EARLY_DAYS: i64 = 14;

/// What the reminder list is computed for.
#[derive(Debug, Clone)]
pub struct ReminderQuery {
    pub(crate) window: SeasonWindow,
    pub(crate) on: NaiveDate,
    pub(crate) cap_days: i64,
}

/// A garment the customer has not sent yet this window.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct OutstandingGarment {
    #[serde(skip)]
    pub(crate) customer_id: Uuid,
    pub(crate) garment_id: Uuid,
    pub(crate) category: Category,
    pub(crate) kind: GarmentKind,
    pub(crate) brand: Option<String>,
    pub(crate) size: Option<String>,
    pub(crate) material: Option<Material>,
    pub(crate) colour: Option<String>,
    pub(crate) last_cleaned_at: Option<DateTime<Utc>>,
    pub(crate) last_price_cents: Option<i64>,
}

/// When this customer usually sends this season's clothes, from their own past windows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct UsualTiming {
    /// Median days after the window opened.
    pub offset_days: i64,
    /// That offset applied to this window.
    pub usual_date: NaiveDate,
    /// Past windows the median is taken over.
    pub windows_seen: usize,
}

/// One customer to call, with everything the caller needs and why they are where they are.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReminderEntry {
    pub(crate) rank: i64,
    pub(crate) customer_id: Uuid,
    pub(crate) name: String,
    pub(crate) phone: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) outstanding: i64,
    pub(crate) expected_value_cents: i64,
    pub(crate) garments: Vec<OutstandingGarment>,
    pub(crate) usual: Option<UsualTiming>,
    pub(crate) tier: Option<String>,
    pub(crate) open_complaint: bool,
    pub(crate) reason: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    customer_id: Uuid,
    name: String,
    phone: Option<String>,
    address: Option<String>,
    outstanding: i64,
    expected_value_cents: i64,
    #[sqlx(skip)]
    tier: Option<String>,
    open_complaint: bool,
    total: i64,
}

fn class_name(class: SeasonClass) -> &'static str {
    match class {
        SeasonClass::Winter => "winter",
        SeasonClass::Summer => "summer",
        SeasonClass::SpringAutumn => "spring/autumn",
        SeasonClass::AllSeason => "all-season",
    }
}

/// Computes the ranked reminder list: by expected value, then garments outstanding, then customer id.
pub async fn compute(
    pool: &PgPool,
    settings: &Settings,
    cal: &Calendar,
    q: &ReminderQuery,
    rows: Rows,
) -> AppResult<Listed<ReminderEntry>> {
    let window_start = settings.clock.start_of(q.window.starts_on);
    let in_use_since = window_start - chrono::Duration::days(IN_USE_DAYS);
    let day_end = settings.clock.start_of(q.on + chrono::Duration::days(1));
    let cleaned = super::db::unstored_as_of(
        "g.customer_id, g.garment_id",
        "g.season_class = $1",
        ("$2", "$3", "$4"),
        true,
    );
    let sql = format!(
        "with outstanding as (
             select c.customer_id, count(*) as outstanding,
                    coalesce(sum(c.price_cents), 0)::bigint as expected_value_cents
               from ({cleaned}) c
              group by c.customer_id
         ), skip as (
             select customer_id from customer where do_not_contact
             union
             select customer_id from interaction
              where kind in ('call', 'visit') and occurred_at > $4 - make_interval(days => $6) and occurred_at <= $4
             union
             select customer_id from pickup
              where collected_at > $4 - make_interval(days => $6) and collected_at <= $4
             union
             select b.customer_id from pickup_booking b
              where b.booked_for >= $5
                and not exists (select 1 from pickup p where p.customer_id = b.customer_id
                                   and p.collected_at >= b.created_at)
         ), page as (
             select o.*, count(*) over () as total
               from outstanding o
              where not exists (select 1 from skip where skip.customer_id = o.customer_id)
              order by o.expected_value_cents desc, o.outstanding desc, o.customer_id
              limit $7 offset $8
         )
         select p.customer_id, c.name, c.phone, c.address, p.outstanding, p.expected_value_cents,
                exists (select 1 from interaction i where i.customer_id = p.customer_id
                           and i.kind = 'complaint' and i.resolved_at is null) as open_complaint,
                p.total
           from page p join customer c on c.customer_id = p.customer_id
          order by p.expected_value_cents desc, p.outstanding desc, p.customer_id"
    );
    let mut found: Vec<Row> = sqlx::query_as(&sql)
        .bind(q.window.outgoing)
        .bind(in_use_since)
        .bind(window_start)
        .bind(day_end)
        .bind(q.on)
        .bind(i32::try_from(q.cap_days).unwrap_or(i32::MAX))
        .bind(rows.limit)
        .bind(rows.offset)
        .persistent(false)
        .fetch_all(pool)
        .await?;
    let total = found.first().map_or(0, |r| r.total);
    let ids: Vec<Uuid> = found.iter().map(|r| r.customer_id).collect();
    let mut tiers = super::db::tiers(pool, settings, q.on, &ids).await?;
    for r in &mut found {
        r.tier = tiers.remove(&r.customer_id).map(|(tier, _)| tier);
    }

    let cleaned = super::db::unstored_as_of(
        "g.customer_id, g.garment_id, g.category, g.kind, g.brand, g.size, g.material, g.colour",
        "g.season_class = $2 and g.customer_id = any($1)",
        ("$3", "$4", "$5"),
        true,
    );
    let sql = format!(
        "select c.customer_id, c.garment_id, c.category, c.kind, c.brand, c.size, c.material, c.colour,
                c.cleaned_at as last_cleaned_at, c.price_cents as last_price_cents
           from ({cleaned}) c
          order by c.customer_id, c.price_cents desc nulls last, c.garment_id"
    );
    let garments: Vec<OutstandingGarment> = sqlx::query_as(&sql)
        .bind(&ids)
        .bind(q.window.outgoing)
        .bind(in_use_since)
        .bind(window_start)
        .bind(day_end)
        .persistent(false)
        .fetch_all(pool)
        .await?;
    let mut by_customer: HashMap<Uuid, Vec<OutstandingGarment>> = HashMap::new();
    for g in garments {
        by_customer.entry(g.customer_id).or_default().push(g);
    }
    let timing = usual_timing(pool, settings, cal, &q.window, &ids).await?;

    let items = found
        .into_iter()
        .zip(ranks(rows))
        .map(|(r, rank)| {
            let usual = timing.get(&r.customer_id).cloned();
            let reason = reason(&r, usual.as_ref(), q);
            ReminderEntry {
                rank,
                garments: by_customer.remove(&r.customer_id).unwrap_or_default(),
                usual,
                customer_id: r.customer_id,
                name: r.name,
                phone: r.phone,
                address: r.address,
                outstanding: r.outstanding,
                expected_value_cents: r.expected_value_cents,
                tier: r.tier,
                open_complaint: r.open_complaint,
                reason,
            }
        })
        .collect();
    Ok(Listed { total, items })
}

fn reason(r: &Row, usual: Option<&UsualTiming>, q: &ReminderQuery) -> String {
    let mut why = format!(
        "{} {} garment{} outstanding, expected value {}",
        r.outstanding,
        class_name(q.window.outgoing),
        if r.outstanding == 1 { "" } else { "s" },
        money(r.expected_value_cents)
    );
    if let Some(u) = usual {
        let late = (q.on - u.usual_date).num_days();
        if late > 0 {
            why.push_str(&format!(
                "; usually sends them by {} ({late} days ago)",
                u.usual_date
            ));
        } else {
            why.push_str(&format!("; usually sends them around {}", u.usual_date));
        }
    }
    if let Some(tier) = &r.tier {
        why.push_str(&format!("; {tier} customer"));
    }
    if r.open_complaint {
        why.push_str("; has an open complaint");
    }
    why
}

/// Median offset into the window of each customer's first put-away pickup of this season class in past windows.
async fn usual_timing(
    pool: &PgPool,
    settings: &Settings,
    cal: &Calendar,
    window: &SeasonWindow,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, UsualTiming>> {
    let past: Vec<SeasonWindow> = (1..=TIMING_YEARS)
        .filter_map(|back| cal.window(&window.kind, window.year - back))
        .collect();
    if ids.is_empty() || past.is_empty() {
        return Ok(HashMap::new());
    }
    let starts: Vec<DateTime<Utc>> = past
        .iter()
        .map(|w| {
            settings
                .clock
                .start_of(w.starts_on - chrono::Duration::days(EARLY_DAYS))
        })
        .collect();
    let ends: Vec<DateTime<Utc>> = past
        .iter()
        .map(|w| {
            settings
                .clock
                .start_of(w.ends_on + chrono::Duration::days(1))
        })
        .collect();
    let firsts: Vec<(Uuid, i64, DateTime<Utc>)> = sqlx::query_as(
        "select pc.customer_id, w.n, min(pc.collected_at)
           from unnest($2::timestamptz[], $3::timestamptz[]) with ordinality as w (start_at, end_at, n)
           join pickup_class pc on pc.season_class = $4
                               and pc.collected_at >= w.start_at and pc.collected_at < w.end_at
           join unnest($1::uuid[]) as ids (customer_id) on ids.customer_id = pc.customer_id
          group by pc.customer_id, w.n",
    )
    .bind(ids)
    .bind(&starts)
    .bind(&ends)
    .bind(window.outgoing)
    .persistent(false)
    .fetch_all(pool)
    .await?;
    let mut offsets: HashMap<Uuid, Vec<i64>> = HashMap::new();
    for (customer, n, first) in firsts {
        let Some(w) = usize::try_from(n - 1).ok().and_then(|i| past.get(i)) else {
            continue;
        };
        let local = first.with_timezone(&settings.clock.offset).date_naive();
        offsets
            .entry(customer)
            .or_default()
            .push((local - w.starts_on).num_days());
    }
    Ok(offsets
        .into_iter()
        .map(|(customer, mut o)| {
            let offset_days = median_days(&mut o);
            let usual_date = window.starts_on + chrono::Duration::days(offset_days);
            (
                customer,
                UsualTiming {
                    offset_days,
                    usual_date,
                    windows_seen: o.len(),
                },
            )
        })
        .collect())
}

/// The median of some day offsets (not empty): the middle one, or for an even count the mean of the two middle
/// ones, rounded half away from zero to a whole day.
fn median_days(offsets: &mut [i64]) -> i64 {
    offsets.sort_unstable();
    let n = offsets.len();
    if n == 0 {
        return 0;
    }
    if n % 2 == 1 {
        return offsets[n / 2];
    }
    let sum = offsets[n / 2 - 1] + offsets[n / 2];
    // Half away from zero: 80.5 -> 81, -0.5 -> -1.
    (sum + sum.signum()) / 2
}

impl CsvRow for ReminderEntry {
    fn header() -> &'static [&'static str] {
        &[
            "rank",
            "customer_id",
            "name",
            "phone",
            "address",
            "outstanding",
            "expected_value",
            "usual_date",
            "tier",
            "open_complaint",
            "garments",
            "reason",
        ]
    }

    fn record(&self) -> Vec<String> {
        let garments: Vec<String> = self
            .garments
            .iter()
            .map(|g| {
                let kind = g.kind.name();
                match &g.brand {
                    Some(b) => format!("{kind} ({b})"),
                    None => kind,
                }
            })
            .collect();
        vec![
            self.rank.to_string(),
            self.customer_id.to_string(),
            self.name.clone(),
            self.phone.clone().unwrap_or_default(),
            self.address.clone().unwrap_or_default(),
            self.outstanding.to_string(),
            money(self.expected_value_cents),
            self.usual
                .as_ref()
                .map(|u| u.usual_date.to_string())
                .unwrap_or_default(),
            self.tier.clone().unwrap_or_default(),
            self.open_complaint.to_string(),
            garments.join("; "),
            self.reason.clone(),
        ]
    }
}

/// Builds the query from request parameters; shared with campaign creation.
pub async fn query_from(
    state: &AppState,
    window: Option<&str>,
    on: Option<NaiveDate>,
    cap_days: Option<i64>,
) -> AppResult<(Calendar, ReminderQuery)> {
    let on = super::list_day(&state.settings, on)?;
    let cap_days = cap_days.unwrap_or(state.settings.contact_cap_days);
    if !(0..=365).contains(&cap_days) {
        return Err(AppError::invalid("cap_days", "between 0 and 365 days"));
    }
    let cal = Calendar::load(&state.pool).await?;
    let window = cal.pick("window", window, on, None)?;
    if window.year < on.year() - 1 || window.year > on.year() + 1 {
        return Err(AppError::invalid(
            "window",
            "must be within a year of the list day",
        ));
    }
    Ok((
        cal,
        ReminderQuery {
            window,
            on,
            cap_days,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::median_days;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median_days(&mut [90, 72]), 81);
        assert_eq!(median_days(&mut [90, 71]), 81);
        assert_eq!(median_days(&mut [-3, 4]), 1);
        assert_eq!(median_days(&mut [-4, 3]), -1);
        assert_eq!(median_days(&mut [5, 1, 9]), 5);
        assert_eq!(median_days(&mut [7]), 7);
        assert_eq!(median_days(&mut [10, 0, 20, 30]), 15);
    }
}
