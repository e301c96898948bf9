//! Storage upsell: customers who just had winter or delicate garments cleaned for put-away and have not stored them.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgArguments;
use sqlx::{Arguments, PgPool};
use uuid::Uuid;

use super::maintained::{self, Freshness, Ranked, Reading, Source};
use crate::calendar::{Calendar, SeasonWindow};
use crate::domain::money::money;
use crate::domain::{Category, GarmentKind, Material, SeasonClass};
use crate::error::{AppError, AppResult};
use crate::export::{ranks, CsvRow, Listed, Rows, Wording};
use crate::state::{AppState, Settings};
use crate::storage::pricing::{price_for, PriceRow, DELICATE};

/// What the upsell list is computed for.
#[derive(Debug, Clone)]
pub struct UpsellQuery {
    pub(crate) window: SeasonWindow,
    /// Why this window: named in the request, open on the list day, or the coming one.
    pub window_chosen: String,
    pub(crate) on: NaiveDate,
    /// Cleanings this many days before the window opens count too.
    pub lead_days: i64,
    /// Storage term the fee estimate is for.
    pub months: i64,
}

impl UpsellQuery {
    /// The list day.
    pub fn on(&self) -> NaiveDate {
        self.on
    }
}

/// A garment worth storing and why.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Candidate {
    #[serde(skip)]
    pub(crate) customer_id: Uuid,
    pub(crate) garment_id: Uuid,
    pub(crate) category: Category,
    pub(crate) kind: GarmentKind,
    pub(crate) season_class: SeasonClass,
    pub(crate) material: Option<Material>,
    pub(crate) brand: Option<String>,
    pub(crate) last_cleaned_at: Option<DateTime<Utc>>,
    pub(crate) estimated_fee_cents: i64,
    #[sqlx(skip)]
    pub(crate) why: String,
}

/// One customer to offer storage to.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UpsellEntry {
    pub(crate) rank: i64,
    pub(crate) customer_id: Uuid,
    pub(crate) name: String,
    pub(crate) phone: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) candidates: i64,
    pub(crate) estimated_fee_cents: i64,
    pub(crate) garments: Vec<Candidate>,
    pub(crate) tier: Option<String>,
    pub(crate) open_complaint: bool,
    /// Chance they are still a customer (rounded to 0.001): an offer to someone who has left is wasted.
    pub(crate) p_active: Option<f64>,
    pub(crate) reason: String,
}

/// Adds each entry's chance of still being a customer, in its fields and its reason.
pub fn with_activity(items: &mut [UpsellEntry], active: &super::outlook::Activeness) {
    for e in items {
        let p = super::round3(active.p_active(e.customer_id));
        e.p_active = Some(p);
        e.reason
            .push_str(&format!("; {:.0}% likely still a customer", p * 100.0));
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    customer_id: Uuid,
    name: String,
    phone: Option<String>,
    address: Option<String>,
    candidates: i64,
    estimated_fee_cents: i64,
    #[sqlx(skip)]
    tier: Option<String>,
    open_complaint: bool,
    total: i64,
}

/// The candidate test, written exactly as the partial index `garment_upsell_idx` is, so the planner uses it.
pub fn candidate_filter() -> String {
    let delicate: Vec<String> = DELICATE.iter().map(|m| format!("'{m}'")).collect();
    format!(
        "(g.season_class = 'winter' or g.material in ({}))",
        delicate.join(", ")
    )
}

/// The storage fee for `months` of every kind and material (`''` for none), priced once in Rust by the same
/// rule as an order (`pricing::price_for`) and sent as three arrays, so SQL joins a small table per garment.
struct FeeTable {
    kinds: Vec<String>,
    materials: Vec<String>,
    fees: Vec<i64>,
}

impl FeeTable {
    fn new(prices: &[PriceRow], months: i64) -> FeeTable {
        let mut t = FeeTable {
            kinds: Vec::new(),
            materials: Vec::new(),
            fees: Vec::new(),
        };
        let materials = std::iter::once(None).chain(Material::ALL.iter().copied().map(Some));
        for material in materials {
            for &kind in GarmentKind::ALL {
                let monthly = price_for(prices, kind, material).map_or(0, |p| p.monthly_cents);
                t.kinds.push(kind.name());
                t.materials
                    .push(material.map(Material::name).unwrap_or_default());
                t.fees.push(monthly.saturating_mul(months));
            }
        }
        t
    }
}

/// `fee (kind, material, fee_cents)` from the bound arrays `$1, $2, $3`.
const FEE_CTE: &str = "fee as (select * from unnest($1::text[], $2::text[], $3::bigint[])
                                    as f (kind, material, fee_cents))";

/// What both upsell queries bind first: the fee table (`$1..$3`), the cleaning period (`$4, $5`) and the end of
/// the list day (`$6`).
struct Scan {
    fees: FeeTable,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    day_end: DateTime<Utc>,
}

impl Scan {
    async fn new(pool: &PgPool, settings: &Settings, q: &UpsellQuery) -> sqlx::Result<Scan> {
        Ok(Scan {
            fees: FeeTable::new(&crate::storage::db::prices(pool).await?, q.months),
            from: settings
                .clock
                .start_of(q.window.starts_on - chrono::Duration::days(q.lead_days)),
            until: settings
                .clock
                .start_of(q.window.ends_on.min(q.on) + chrono::Duration::days(1)),
            day_end: settings.clock.start_of(q.on + chrono::Duration::days(1)),
        })
    }

    fn args(&self) -> Result<PgArguments, sqlx::error::BoxDynError> {
        let mut args = PgArguments::default();
        args.add(&self.fees.kinds)?;
        args.add(&self.fees.materials)?;
        args.add(&self.fees.fees)?;
        args.add(self.from)?;
        args.add(self.until)?;
        args.add(self.day_end)?;
        Ok(args)
    }

    /// The page query's arguments: the scan's, then limit `$7` and offset `$8`.
    fn page_args(&self, rows: Rows) -> sqlx::Result<PgArguments> {
        let mut args = self.args().map_err(sqlx::Error::Encode)?;
        args.add(rows.limit).map_err(sqlx::Error::Encode)?;
        args.add(rows.offset).map_err(sqlx::Error::Encode)?;
        Ok(args)
    }
}

/// The ranked page of customers: unstored candidates from an index-only scan, priced by a hash join on the fee
/// table, then one aggregate per customer.
fn page_sql() -> String {
    let cleaned = super::db::unstored_as_of(
        "g.customer_id, g.garment_id, g.kind, g.material",
        &candidate_filter(),
        ("$4", "$5", "$6"),
        false,
    );
    format!(
        "with {FEE_CTE},
         per as (
             select c.customer_id, count(*) as candidates, sum(f.fee_cents)::bigint as estimated_fee_cents
               from ({cleaned}) c join fee f on f.kind = c.kind and f.material = coalesce(c.material, '')
              group by c.customer_id
         ), page as (
             select per.*, count(*) over () as total
               from per
              where not exists (select 1 from customer d where d.customer_id = per.customer_id and d.do_not_contact)
              order by per.estimated_fee_cents desc, per.candidates desc, per.customer_id
              limit $7 offset $8
         )
         select page.customer_id, cu.name, cu.phone, cu.address, page.candidates, page.estimated_fee_cents,
                exists (select 1 from interaction i where i.customer_id = page.customer_id
                           and i.kind = 'complaint' and i.resolved_at is null) as open_complaint,
                page.total
           from page join customer cu on cu.customer_id = page.customer_id
          order by page.estimated_fee_cents desc, page.candidates desc, page.customer_id"
    )
}

/// The page query's plan as it ran (`EXPLAIN ANALYZE`), for `doorstep bench lists --explain`.
pub async fn explain_page(
    pool: &PgPool,
    settings: &Settings,
    q: &UpsellQuery,
    rows: Rows,
) -> sqlx::Result<Vec<String>> {
    let scan = Scan::new(pool, settings, q).await?;
    let sql = format!(
        "explain (analyze, costs off, timing off, summary on) {}",
        page_sql()
    );
    sqlx::query_scalar_with(&sql, scan.page_args(rows)?)
        .persistent(false)
        .fetch_all(pool)
        .await
}

/// Computes the ranked upsell list: by the storage fee the candidates would bring, then customer.
pub async fn compute(
    pool: &PgPool,
    settings: &Settings,
    q: &UpsellQuery,
    rows: Rows,
) -> AppResult<Listed<UpsellEntry>> {
    let scan = Scan::new(pool, settings, q).await?;
    let found: Vec<Row> = sqlx::query_as_with(&page_sql(), scan.page_args(rows)?)
        .persistent(false)
        .fetch_all(pool)
        .await?;
    let total = found.first().map_or(0, |r| r.total);
    let ids: Vec<Uuid> = found.iter().map(|r| r.customer_id).collect();
    let tiers = super::db::tiers(pool, settings, q.on, &ids).await?;
    entries(pool, settings, q, &scan, rows, total, found, tiers).await
}

/// One customer's storage-offer figures, as the ranking keeps them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UpsellFigures {
    customer_id: Uuid,
    candidates: i64,
    estimated_fee_cents: i64,
}

impl Ranked for UpsellFigures {
    /// Highest estimated fee first, then the most garments (then customer id).
    type Key = (Reverse<i64>, Reverse<i64>);

    fn customer_id(&self) -> Uuid {
        self.customer_id
    }

    fn key(&self) -> Self::Key {
        (Reverse(self.estimated_fee_cents), Reverse(self.candidates))
    }
}

/// Every customer's figures (or those of `only`), in no particular order.
async fn figures(
    db: impl sqlx::PgExecutor<'_>,
    scan: &Scan,
    only: Option<&[Uuid]>,
) -> AppResult<Vec<UpsellFigures>> {
    let filter = match only {
        Some(_) => format!("{} and g.customer_id = any($7)", candidate_filter()),
        None => candidate_filter(),
    };
    let cleaned = super::db::unstored_as_of(
        "g.customer_id, g.garment_id, g.kind, g.material",
        &filter,
        ("$4", "$5", "$6"),
        false,
    );
    let sql = format!(
        "with {FEE_CTE}
         select c.customer_id, count(*) as candidates, sum(f.fee_cents)::bigint as estimated_fee_cents
           from ({cleaned}) c join fee f on f.kind = c.kind and f.material = coalesce(c.material, '')
          where not exists (select 1 from customer d where d.customer_id = c.customer_id and d.do_not_contact)
          group by c.customer_id"
    );
    let mut args = scan.args().map_err(sqlx::Error::Encode)?;
    if let Some(ids) = only {
        args.add(ids).map_err(sqlx::Error::Encode)?;
    }
    Ok(sqlx::query_as_with(&sql, args)
        .persistent(false)
        .fetch_all(db)
        .await?)
}

/// Today's storage offers as kept: read with one fee table.
pub struct UpsellSource {
    scan: Scan,
}

impl Source for UpsellSource {
    type Entry = UpsellFigures;

    fn read<'a>(
        &'a self,
        conn: &'a mut sqlx::PgConnection,
        only: Option<&'a [Uuid]>,
    ) -> Reading<'a, UpsellFigures> {
        Box::pin(figures(conn, &self.scan, only))
    }

    fn compare(&self, kept: &Self) -> Freshness {
        if self.scan.fees.fees == kept.scan.fees.fees {
            Freshness::Same
        } else {
            Freshness::Changed
        }
    }
}

/// Which kept list: the day, the window (as the calendar has it now), the lead days and the months.
pub type KeptKey = (NaiveDate, String, i64, i64);

/// The list as the service serves it: today's from kept state, a past day's computed afresh.
pub async fn compute_kept(
    state: &AppState,
    q: &UpsellQuery,
    rows: Rows,
) -> AppResult<Listed<UpsellEntry>> {
    let (pool, settings) = (&state.pool, &*state.settings);
    if q.on != settings.clock.today() {
        return compute(pool, settings, q, rows).await;
    }
    let scan = Scan::new(pool, settings, q).await?;
    let slot = state
        .outlook
        .upsell
        .slot((q.on, format!("{:?}", q.window), q.lead_days, q.months));
    let page = maintained::serve(
        state,
        q.on,
        slot,
        Arc::new(UpsellSource { scan }),
        None,
        rows,
    )
    .await?;
    let ids: Vec<Uuid> = page.entries.iter().map(|f| f.customer_id).collect();
    let mut people = super::db::people(pool, &ids).await?;
    let found: Vec<Row> = page
        .entries
        .iter()
        .filter_map(|f| {
            let (name, phone, address, open_complaint) = people.remove(&f.customer_id)?;
            Some(Row {
                customer_id: f.customer_id,
                name,
                phone,
                address,
                candidates: f.candidates,
                estimated_fee_cents: f.estimated_fee_cents,
                tier: None,
                open_complaint,
                total: page.total,
            })
        })
        .collect();
    let scan = &page.source.scan;
    entries(pool, settings, q, scan, rows, page.total, found, page.tiers).await
}

/// The page's entries in full: their garments, tier and why they are listed.
#[allow(clippy::too_many_arguments)]
async fn entries(
    pool: &PgPool,
    settings: &Settings,
    q: &UpsellQuery,
    scan: &Scan,
    rows: Rows,
    total: i64,
    mut found: Vec<Row>,
    mut tiers: HashMap<Uuid, (String, f64)>,
) -> AppResult<Listed<UpsellEntry>> {
    let ids: Vec<Uuid> = found.iter().map(|r| r.customer_id).collect();
    for r in &mut found {
        r.tier = tiers.remove(&r.customer_id).map(|(tier, _)| tier);
    }
    let cleaned = super::db::unstored_as_of(
        "g.customer_id, g.garment_id, g.category, g.kind, g.season_class, g.material, g.brand",
        &format!("{} and g.customer_id = any($7)", candidate_filter()),
        ("$4", "$5", "$6"),
        false,
    );
    let sql = format!(
        "with {FEE_CTE}
         select c.customer_id, c.garment_id, c.category, c.kind, c.season_class, c.material, c.brand,
                c.cleaned_at as last_cleaned_at, f.fee_cents as estimated_fee_cents
           from ({cleaned}) c
           join fee f on f.kind = c.kind and f.material = coalesce(c.material, '')
          order by c.customer_id, estimated_fee_cents desc, c.garment_id"
    );
    let mut args = scan.args().map_err(sqlx::Error::Encode)?;
    args.add(&ids).map_err(sqlx::Error::Encode)?;
    let garments: Vec<Candidate> = sqlx::query_as_with(&sql, args)
        .persistent(false)
        .fetch_all(pool)
        .await?;
    let mut by_customer: HashMap<Uuid, Vec<Candidate>> = HashMap::new();
    let english = Wording::new(None, q.on, settings.clock.offset);
    for mut g in garments {
        g.why = why(&g, &english);
        by_customer.entry(g.customer_id).or_default().push(g);
    }
    let items = found
        .into_iter()
        .zip(ranks(rows))
        .map(|(r, rank)| {
            let mut reason = format!(
                "{} garment{} to store, about {} for {} months",
                r.candidates,
                if r.candidates == 1 { "" } else { "s" },
                money(r.estimated_fee_cents),
                q.months
            );
            if let Some(t) = &r.tier {
                reason.push_str(&format!("; {t} customer"));
            }
            if r.open_complaint {
                reason.push_str("; has an open complaint");
            }
            UpsellEntry {
                rank,
                garments: by_customer.remove(&r.customer_id).unwrap_or_default(),
                customer_id: r.customer_id,
                name: r.name,
                phone: r.phone,
                address: r.address,
                candidates: r.candidates,
                estimated_fee_cents: r.estimated_fee_cents,
                tier: r.tier,
                open_complaint: r.open_complaint,
                p_active: None,
                reason,
            }
        })
        .collect();
    Ok(Listed { total, items })
}

/// Why one garment is a storage candidate, in words a caller can repeat to the customer (`storage_risk.*`).
fn why(g: &Candidate, words: &Wording) -> String {
    let risk = words.text(
        match g.material {
            Some(Material::Fur) => "storage_risk.fur",
            Some(Material::Leather | Material::Suede) => "storage_risk.leather",
            Some(Material::Down) => "storage_risk.down",
            Some(Material::Cashmere) => "storage_risk.cashmere",
            Some(Material::Silk) => "storage_risk.silk",
            _ => "storage_risk.winter",
        },
        &[],
    );
    match g.last_cleaned_at {
        Some(at) => words.text(
            "storage_risk.cleaned",
            &[("risk", &risk), ("date", &words.date(words.day_of(at)))],
        ),
        None => risk,
    }
}

impl CsvRow for UpsellEntry {
    fn header() -> &'static [&'static str] {
        &[
            "rank",
            "customer_id",
            "name",
            "phone",
            "address",
            "candidates",
            "estimated_fee",
            "tier",
            "open_complaint",
            "garments",
            "p_active",
            "reason",
        ]
    }

    fn record(&self, words: &Wording) -> Vec<String> {
        let garments: Vec<String> = match words.lang() {
            None => self.garments.iter().map(|g| g.why.clone()).collect(),
            Some(_) => self
                .garments
                .iter()
                .map(|g| {
                    words.text(
                        "storage_risk.garment",
                        &[
                            (
                                "garment",
                                &words.branded(&g.kind.name(), g.brand.as_deref()),
                            ),
                            ("risk", &why(g, words)),
                        ],
                    )
                })
                .collect(),
        };
        vec![
            self.rank.to_string(),
            self.customer_id.to_string(),
            self.name.clone(),
            self.phone.clone().unwrap_or_default(),
            self.address.clone().unwrap_or_default(),
            self.candidates.to_string(),
            money(self.estimated_fee_cents),
            words.word("tier", self.tier.as_deref().unwrap_or_default()),
            words.yes_no(self.open_complaint),
            garments.join(" | "),
            self.p_active.map(|p| format!("{p:.3}")).unwrap_or_default(),
            super::why::reason_cell(words, self, &self.reason),
        ]
    }
}

/// Builds the query from request parameters; shared with campaign creation.
pub async fn query_from(
    state: &AppState,
    window: Option<&str>,
    on: Option<NaiveDate>,
    lead_days: Option<i64>,
    months: Option<i64>,
) -> AppResult<UpsellQuery> {
    let on = super::list_day(&state.settings, on)?;
    let lead_days = lead_days.unwrap_or(30);
    if !(0..=120).contains(&lead_days) {
        return Err(AppError::invalid("lead_days", "between 0 and 120 days"));
    }
    let months = months.unwrap_or(6);
    if !(1..=24).contains(&months) {
        return Err(AppError::invalid("months", "between 1 and 24 months"));
    }
    let cal = Calendar::load(&state.pool).await?;
    let (window, window_chosen) = match window {
        Some(id) => (
            cal.parse_id("window", id)?,
            "named in the request".to_owned(),
        ),
        None => {
            let w = cal
                .open_or_next(Some(SeasonClass::Winter), on)
                .ok_or_else(|| {
                    AppError::invalid("window", "no window puts winter clothes away; name one")
                })?;
            let why = if w.contains(on) {
                format!("the winter put-away window open on {on}")
            } else {
                format!(
                    "the coming winter put-away window (starts {}): the offer is made before it",
                    w.starts_on
                )
            };
            (w, why)
        }
    };
    Ok(UpsellQuery {
        window_chosen,
        window,
        on,
        lead_days,
        months,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        price_id: i32,
        kind: Option<GarmentKind>,
        material: Option<Material>,
        cents: i64,
    ) -> PriceRow {
        PriceRow {
            price_id,
            kind,
            material,
            monthly_cents: cents,
        }
    }

    fn fee(t: &FeeTable, kind: &str, material: &str) -> i64 {
        let i = (0..t.kinds.len())
            .find(|&i| t.kinds[i] == kind && t.materials[i] == material)
            .unwrap_or_else(|| panic!("no fee for {kind}/{material}"));
        t.fees[i]
    }

    #[test]
    fn the_fee_table_prices_every_kind_and_material_as_an_order_would() {
        let prices = [
            row(1, None, None, 1_500),
            row(2, None, Some(Material::Fur), 6_000),
            row(3, Some(GarmentKind::Coat), None, 2_500),
            row(4, Some(GarmentKind::Suit), Some(Material::Wool), 2_200),
        ];
        let t = FeeTable::new(&prices, 6);
        assert_eq!(
            t.kinds.len(),
            GarmentKind::ALL.len() * (Material::ALL.len() + 1)
        );
        // The dearer of a kind-only and a material-only row: a fur coat pays the fur rate.
        assert_eq!(fee(&t, "coat", "fur"), 36_000);
        assert_eq!(fee(&t, "coat", ""), 15_000);
        assert_eq!(fee(&t, "suit", "wool"), 13_200);
        assert_eq!(fee(&t, "scarf", "silk"), 9_000);
        assert_eq!(FeeTable::new(&[], 6).fees.iter().sum::<i64>(), 0);
    }

    #[test]
    fn the_candidate_filter_names_every_delicate_material() {
        let f = candidate_filter();
        assert!(f.starts_with("(g.season_class = 'winter' or g.material in ("));
        for m in DELICATE {
            assert!(f.contains(&format!("'{m}'")), "{f}");
        }
    }
}
