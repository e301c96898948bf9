//! Storage upsell: customers who just had winter or delicate garments cleaned for put-away and have not stored them.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::{money, ranks, CsvRow, Listed, Output, Rows};
use crate::app::{AppState, Settings};
use crate::auth::{Authed, Dispatcher};
use crate::calendar::{Calendar, SeasonWindow};
use crate::domain::{Category, GarmentKind, Material, SeasonClass};
use crate::error::{AppError, AppResult};
use crate::extract::Query;

/// Materials that suffer in a humid summer at home, whatever their season class.
pub const DELICATE: &[&str] = &["fur", "leather", "suede", "down", "cashmere", "silk"];

/// What the upsell list is computed for.
#[derive(Debug, Clone)]
pub struct UpsellQuery {
    pub window: SeasonWindow,
    pub on: NaiveDate,
    /// Cleanings this many days before the window opens count too.
    pub lead_days: i64,
    /// Storage term the fee estimate is for.
    pub months: i64,
}

/// A garment worth storing and why.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct Candidate {
    #[serde(skip)]
    pub customer_id: Uuid,
    pub garment_id: Uuid,
    pub category: Category,
    pub kind: GarmentKind,
    pub season_class: SeasonClass,
    pub material: Option<Material>,
    pub brand: Option<String>,
    pub last_cleaned_at: Option<DateTime<Utc>>,
    pub estimated_fee_cents: i64,
    #[sqlx(skip)]
    pub why: String,
}

/// One customer to offer storage to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpsellEntry {
    pub rank: i64,
    pub customer_id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub candidates: i64,
    pub estimated_fee_cents: i64,
    pub garments: Vec<Candidate>,
    pub tier: Option<String>,
    pub open_complaint: bool,
    pub reason: String,
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

/// The candidate garments with a fee estimate from the storage price list (an exact kind-and-material row,
/// else the dearer of the kind-only and material-only rows, else the catch-all); `columns` are the garment
/// columns kept and `filter` narrows the garments. Plain joins keep the scan parallel and free of subplans.
fn candidates(columns: &str, filter: &str) -> String {
    format!(
        "with c as (
             select {columns},
                    coalesce(e.monthly_cents, greatest(k.monthly_cents, m.monthly_cents), d.monthly_cents, 0) * $4
                        as estimated_fee_cents
               from garment g
               left join storage_price e on e.kind = g.kind and e.material = g.material
               left join storage_price k on k.kind = g.kind and k.material is null
               left join storage_price m on m.kind is null and m.material = g.material
               left join storage_price d on d.kind is null and d.material is null
              where g.last_cleaned_at >= $2 and g.last_cleaned_at < $3
                and (g.season_class = 'winter' or g.material = any($5))
                and not exists (select 1 from storage_item si where si.customer_id = g.customer_id
                                   and si.garment_id = g.garment_id and si.released_at is null)
                {filter}
         )"
    )
}

/// Computes the ranked upsell list: by the storage fee the candidates would bring, then customer.
pub async fn compute(
    pool: &PgPool,
    settings: &Settings,
    q: &UpsellQuery,
    rows: Rows,
) -> AppResult<Listed<UpsellEntry>> {
    let from = settings.start_of(q.window.starts_on - chrono::Duration::days(q.lead_days));
    let until = settings.start_of(q.window.ends_on.min(q.on) + chrono::Duration::days(1));
    let delicate: Vec<&str> = DELICATE.to_vec();
    let sql = format!(
        "{},
              per as (select customer_id, count(*) as candidates,
                             coalesce(sum(estimated_fee_cents), 0)::bigint as estimated_fee_cents
                        from c group by customer_id),
         page as (
             select per.*, count(*) over () as total
               from per
              where not exists (select 1 from customer d where d.customer_id = per.customer_id and d.do_not_contact)
              order by per.estimated_fee_cents desc, per.candidates desc, per.customer_id
              limit $6 offset $7
         )
         select page.customer_id, cu.name, cu.phone, cu.address, page.candidates, page.estimated_fee_cents,
                exists (select 1 from interaction i where i.customer_id = page.customer_id
                           and i.kind = 'complaint' and i.resolved_at is null) as open_complaint,
                page.total
           from page join customer cu on cu.customer_id = page.customer_id
          order by page.estimated_fee_cents desc, page.candidates desc, page.customer_id",
        candidates("g.customer_id", "and $1::uuid[] is null")
    );
    let mut found: Vec<Row> = sqlx::query_as(&sql)
        .bind(None::<Vec<Uuid>>)
        .bind(from)
        .bind(until)
        .bind(q.months)
        .bind(&delicate)
        .bind(rows.limit)
        .bind(rows.offset)
        .persistent(false)
        .fetch_all(pool)
        .await?;
    let total = found.first().map_or(0, |r| r.total);
    let ids: Vec<Uuid> = found.iter().map(|r| r.customer_id).collect();
    let mut tiers = super::tiers(pool, settings, q.on, &ids).await?;
    for r in &mut found {
        r.tier = tiers.remove(&r.customer_id).map(|(tier, _)| tier);
    }
    let sql = format!(
        "{} select * from c order by customer_id, estimated_fee_cents desc, garment_id",
        candidates(
            "g.customer_id, g.garment_id, g.category, g.kind, g.season_class, g.material, g.brand, g.last_cleaned_at",
            "and g.customer_id in (select unnest($1::uuid[]))"
        )
    );
    let garments: Vec<Candidate> = sqlx::query_as(&sql)
        .bind(&ids)
        .bind(from)
        .bind(until)
        .bind(q.months)
        .bind(&delicate)
        .persistent(false)
        .fetch_all(pool)
        .await?;
    let mut by_customer: HashMap<Uuid, Vec<Candidate>> = HashMap::new();
    for mut g in garments {
        g.why = why(&g, settings);
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
                reason,
            }
        })
        .collect();
    Ok(Listed { total, items })
}

/// Why one garment is a storage candidate, in words a caller can repeat to the customer.
fn why(g: &Candidate, settings: &Settings) -> String {
    let risk = match g.material {
        Some(Material::Fur) => "fur: heat and humidity damage the pelt; kept in the cold vault",
        Some(Material::Leather | Material::Suede) => {
            "leather: moulds and cracks in a humid summer; kept in the cold vault"
        }
        Some(Material::Down) => "down: must stay dry and uncompressed to keep its loft",
        Some(Material::Cashmere) => "cashmere: moths and humidity; kept sealed",
        Some(Material::Silk) => "silk: yellows and moulds in humid storage",
        _ => "winter garment: cleaned for put-away, stored until next winter",
    };
    match g.last_cleaned_at {
        Some(at) => format!(
            "{risk}; cleaned {}",
            at.with_timezone(&settings.local_offset).date_naive()
        ),
        None => risk.to_owned(),
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
            "reason",
        ]
    }

    fn record(&self) -> Vec<String> {
        let garments: Vec<String> = self.garments.iter().map(|g| g.why.clone()).collect();
        vec![
            self.rank.to_string(),
            self.customer_id.to_string(),
            self.name.clone(),
            self.phone.clone().unwrap_or_default(),
            self.address.clone().unwrap_or_default(),
            self.candidates.to_string(),
            money(self.estimated_fee_cents),
            self.tier.clone().unwrap_or_default(),
            self.open_complaint.to_string(),
            garments.join(" | "),
            self.reason.clone(),
        ]
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Params {
    window: Option<String>,
    on: Option<NaiveDate>,
    lead_days: Option<i64>,
    months: Option<i64>,
    format: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
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
    let window = match window {
        Some(id) => cal.parse_id("window", id)?,
        None => cal
            .latest_of(SeasonClass::Winter, on + chrono::Duration::days(lead_days))
            .ok_or_else(|| {
                AppError::invalid("window", "no window puts winter clothes away; name one")
            })?,
    };
    Ok(UpsellQuery {
        window,
        on,
        lead_days,
        months,
    })
}

#[derive(Serialize)]
struct Meta<'a> {
    window: &'a SeasonWindow,
    lead_days: i64,
    months: i64,
}

/// `GET /api/v1/lists/storage-upsell?window=2026-spring&on=2026-04-20`
pub(super) async fn handler(
    State(state): State<AppState>,
    Authed(_, _): Authed<Dispatcher>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let output = Output::from_request(&headers, p.format.as_deref(), p.limit, p.offset)?;
    let q = query_from(&state, p.window.as_deref(), p.on, p.lead_days, p.months).await?;
    let listed = compute(&state.pool, &state.settings, &q, output.rows()).await?;
    let meta = Meta {
        window: &q.window,
        lead_days: q.lead_days,
        months: q.months,
    };
    super::respond("storage-upsell", q.on, meta, &output, listed)
}
