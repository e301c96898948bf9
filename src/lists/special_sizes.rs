//! Special sizes: customers whose wardrobe is largely special sizes, for the catalogue.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::maintained::{self, Ranked, Reading, Source};

use crate::domain::money::money;
use crate::error::{AppError, AppResult};
use crate::export::{ranks, CsvRow, Listed, Rows, Wording};
use crate::state::{AppState, Settings};

/// What the special-size list is computed for.
#[derive(Debug, Clone)]
pub struct SizesQuery {
    pub(crate) on: NaiveDate,
    /// Smallest share of special-size garments in the wardrobe, 0 to 1.
    pub threshold: f64,
    /// Smallest wardrobe worth judging.
    pub min_garments: i64,
}

/// One catalogue recipient with their sizes.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SizesEntry {
    pub(crate) rank: i64,
    pub(crate) customer_id: Uuid,
    pub(crate) name: String,
    pub(crate) phone: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) special_garments: i64,
    pub(crate) garments: i64,
    pub(crate) share: f64,
    pub(crate) sizes: Vec<String>,
    pub(crate) categories: Vec<String>,
    pub(crate) kinds: Vec<String>,
    pub(crate) tier: Option<String>,
    pub(crate) yearly_spend_cents: Option<f64>,
    pub(crate) reason: String,
}

/// One customer's special-size figures, as the ranking keeps them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SizesFigures {
    customer_id: Uuid,
    special_garments: i64,
    garments: i64,
    share: f64,
    sizes: Vec<String>,
    categories: Vec<String>,
    kinds: Vec<String>,
}

/// A share ordered as PostgreSQL orders a float8 (the shares here are finite and not negative).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Share(f64);

impl Eq for Share {}

impl PartialOrd for Share {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Share {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl Ranked for SizesFigures {
    /// Most special-size garments first, then the highest share (then customer id).
    type Key = (Reverse<i64>, Reverse<Share>);

    fn customer_id(&self) -> Uuid {
        self.customer_id
    }

    fn key(&self) -> Self::Key {
        (Reverse(self.special_garments), Reverse(Share(self.share)))
    }
}

/// Every customer's figures (or those of `only`) that meet the query's thresholds, in no particular order.
async fn figures(
    db: impl sqlx::PgExecutor<'_>,
    q: &SizesQuery,
    only: Option<&[Uuid]>,
) -> AppResult<Vec<SizesFigures>> {
    let only_filter = if only.is_some() {
        "and customer_id = any($3)"
    } else {
        ""
    };
    let sql = format!(
        "with sp as (
             select customer_id, count(*) as special_garments,
                    coalesce(array_agg(distinct size order by size) filter (where size is not null), '{{}}') as sizes,
                    array_agg(distinct category order by category) as categories,
                    array_agg(distinct kind order by kind) as kinds
               from garment where special_size {only_filter} group by customer_id
         )
         select sp.customer_id, sp.special_garments, tot.garments,
                sp.special_garments::float8 / tot.garments as share, sp.sizes, sp.categories, sp.kinds
           from sp
           cross join lateral (select count(*) as garments from garment g
                                where g.customer_id = sp.customer_id) tot
          where tot.garments >= $1 and sp.special_garments::float8 / tot.garments >= $2
            and not exists (select 1 from customer d where d.customer_id = sp.customer_id and d.do_not_contact)"
    );
    let mut query = sqlx::query_as::<_, SizesFigures>(&sql)
        .bind(q.min_garments)
        .bind(q.threshold);
    if let Some(ids) = only {
        query = query.bind(ids);
    }
    Ok(query.persistent(false).fetch_all(db).await?)
}

/// Computes the list: most special-size garments first, then the highest share.
pub async fn compute(
    pool: &PgPool,
    settings: &Settings,
    q: &SizesQuery,
    rows: Rows,
) -> AppResult<Listed<SizesEntry>> {
    let all = figures(pool, q, None).await?;
    let (total, page) = maintained::ranked_page(all, rows);
    let ids: Vec<Uuid> = page.iter().map(|f| f.customer_id).collect();
    let tiers = super::db::tiers(pool, settings, q.on, &ids).await?;
    finish(pool, rows, total, page, tiers).await
}

/// Today's list as kept: the figures ranked once and brought up to date from the customers written to since.
pub struct SizesSource {
    q: SizesQuery,
}

impl Source for SizesSource {
    type Entry = SizesFigures;

    fn read<'a>(
        &'a self,
        conn: &'a mut sqlx::PgConnection,
        only: Option<&'a [Uuid]>,
    ) -> Reading<'a, SizesFigures> {
        Box::pin(figures(conn, &self.q, only))
    }
}

/// Which kept list: the day and the two thresholds (the share by its bits).
pub type KeptKey = (NaiveDate, u64, i64);

/// The list as the service serves it: today's from kept state, a past day's computed afresh.
pub async fn compute_kept(
    state: &AppState,
    q: &SizesQuery,
    rows: Rows,
) -> AppResult<Listed<SizesEntry>> {
    if q.on != state.settings.clock.today() {
        return compute(&state.pool, &state.settings, q, rows).await;
    }
    let slot = state
        .outlook
        .sizes
        .slot((q.on, q.threshold.to_bits(), q.min_garments));
    let source = Arc::new(SizesSource { q: q.clone() });
    let page = maintained::serve(state, q.on, slot, source, None, rows).await?;
    finish(&state.pool, rows, page.total, page.entries, page.tiers).await
}

/// The page's entries in full: who they are, their tier and why they are listed.
async fn finish(
    pool: &PgPool,
    rows: Rows,
    total: i64,
    page: Vec<SizesFigures>,
    mut tiers: HashMap<Uuid, (String, f64)>,
) -> AppResult<Listed<SizesEntry>> {
    let ids: Vec<Uuid> = page.iter().map(|f| f.customer_id).collect();
    let mut people = super::db::people(pool, &ids).await?;
    let items = page
        .into_iter()
        .zip(ranks(rows))
        .map(|(f, rank)| {
            let (name, phone, address, _) = people.remove(&f.customer_id).unwrap_or_default();
            let (tier, yearly_spend_cents) = match tiers.remove(&f.customer_id) {
                Some((tier, spend)) => (Some(tier), Some(spend)),
                None => (None, None),
            };
            let mut reason = format!(
                "{} of {} garments in special sizes ({:.0}%): {}",
                f.special_garments,
                f.garments,
                f.share * 100.0,
                f.sizes.join(", ")
            );
            if let Some(spend) = yearly_spend_cents {
                reason.push_str(&format!("; spends about {} a year", money(spend as i64)));
            }
            SizesEntry {
                rank,
                customer_id: f.customer_id,
                name,
                phone,
                address,
                special_garments: f.special_garments,
                garments: f.garments,
                share: f.share,
                sizes: f.sizes,
                categories: f.categories,
                kinds: f.kinds,
                tier,
                yearly_spend_cents,
                reason,
            }
        })
        .collect();
    Ok(Listed { total, items })
}

impl CsvRow for SizesEntry {
    fn header() -> &'static [&'static str] {
        &[
            "rank",
            "customer_id",
            "name",
            "phone",
            "address",
            "special_garments",
            "garments",
            "share",
            "sizes",
            "categories",
            "kinds",
            "tier",
            "reason",
        ]
    }

    fn record(&self, words: &Wording) -> Vec<String> {
        let named = |group: &str, values: &[String]| {
            let named: Vec<String> = values.iter().map(|v| words.word(group, v)).collect();
            words.join(&named)
        };
        vec![
            self.rank.to_string(),
            self.customer_id.to_string(),
            self.name.clone(),
            self.phone.clone().unwrap_or_default(),
            self.address.clone().unwrap_or_default(),
            self.special_garments.to_string(),
            self.garments.to_string(),
            format!("{:.2}", self.share),
            words.join(&self.sizes),
            named("category", &self.categories),
            named("kind", &self.kinds),
            words.word("tier", self.tier.as_deref().unwrap_or_default()),
            super::why::reason_cell(words, self, &self.reason),
        ]
    }
}

/// Builds the query from request parameters; shared with campaign creation.
pub fn query_from(
    settings: &Settings,
    on: Option<NaiveDate>,
    threshold: Option<f64>,
    min_garments: Option<i64>,
) -> AppResult<SizesQuery> {
    let on = super::list_day(settings, on)?;
    let threshold = threshold.unwrap_or(0.3);
    if !(threshold > 0.0 && threshold <= 1.0) {
        return Err(AppError::invalid(
            "threshold",
            "a share above 0 and at most 1, e.g. 0.3",
        ));
    }
    let min_garments = min_garments.unwrap_or(3);
    if !(1..=1000).contains(&min_garments) {
        return Err(AppError::invalid("min_garments", "between 1 and 1000"));
    }
    Ok(SizesQuery {
        on,
        threshold,
        min_garments,
    })
}
