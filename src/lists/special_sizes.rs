//! Special sizes: customers whose wardrobe is largely special sizes, for the catalogue.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::money::money;
use crate::error::{AppError, AppResult};
use crate::export::{ranks, CsvRow, Listed, Rows};
use crate::state::Settings;

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
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SizesEntry {
    #[sqlx(skip)]
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
    #[sqlx(skip)]
    pub(crate) tier: Option<String>,
    #[sqlx(skip)]
    pub(crate) yearly_spend_cents: Option<f64>,
    #[serde(skip)]
    #[sqlx(default)]
    pub(crate) total: i64,
    #[sqlx(skip)]
    pub(crate) reason: String,
}

/// Computes the list: most special-size garments first, then the highest share.
pub async fn compute(
    pool: &PgPool,
    settings: &Settings,
    q: &SizesQuery,
    rows: Rows,
) -> AppResult<Listed<SizesEntry>> {
    let mut found: Vec<SizesEntry> = sqlx::query_as(
        "with sp as (
             select customer_id, count(*) as special_garments,
                    coalesce(array_agg(distinct size order by size) filter (where size is not null), '{}') as sizes,
                    array_agg(distinct category order by category) as categories,
                    array_agg(distinct kind order by kind) as kinds
               from garment where special_size group by customer_id
         ), page as (
             select sp.*, tot.garments, sp.special_garments::float8 / tot.garments as share,
                    count(*) over () as total
               from sp
               cross join lateral (select count(*) as garments from garment g
                                    where g.customer_id = sp.customer_id) tot
              where tot.garments >= $1 and sp.special_garments::float8 / tot.garments >= $2
                and not exists (select 1 from customer d where d.customer_id = sp.customer_id and d.do_not_contact)
              order by sp.special_garments desc, share desc, sp.customer_id
              limit $3 offset $4
         )
         select page.customer_id, c.name, c.phone, c.address, page.special_garments, page.garments, page.share,
                page.sizes, page.categories, page.kinds, page.total
           from page join customer c on c.customer_id = page.customer_id
          order by page.special_garments desc, page.share desc, page.customer_id",
    )
    .bind(q.min_garments)
    .bind(q.threshold)
    .bind(rows.limit)
    .bind(rows.offset)
    .persistent(false)
    .fetch_all(pool)
    .await?;
    let total = found.first().map_or(0, |r| r.total);
    let ids: Vec<Uuid> = found.iter().map(|r| r.customer_id).collect();
    let mut tiers = super::db::tiers(pool, settings, q.on, &ids).await?;
    for (entry, rank) in found.iter_mut().zip(ranks(rows)) {
        entry.rank = rank;
        if let Some((tier, spend)) = tiers.remove(&entry.customer_id) {
            entry.tier = Some(tier);
            entry.yearly_spend_cents = Some(spend);
        }
        entry.reason = format!(
            "{} of {} garments in special sizes ({:.0}%): {}",
            entry.special_garments,
            entry.garments,
            entry.share * 100.0,
            entry.sizes.join(", ")
        );
        if let Some(spend) = entry.yearly_spend_cents {
            entry
                .reason
                .push_str(&format!("; spends about {} a year", money(spend as i64)));
        }
    }
    Ok(Listed {
        total,
        items: found,
    })
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

    fn record(&self) -> Vec<String> {
        vec![
            self.rank.to_string(),
            self.customer_id.to_string(),
            self.name.clone(),
            self.phone.clone().unwrap_or_default(),
            self.address.clone().unwrap_or_default(),
            self.special_garments.to_string(),
            self.garments.to_string(),
            format!("{:.2}", self.share),
            self.sizes.join("; "),
            self.categories.join("; "),
            self.kinds.join("; "),
            self.tier.clone().unwrap_or_default(),
            self.reason.clone(),
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
