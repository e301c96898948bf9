//! The seed's ground truth: what the generator knows and the database never sees (churn, discards, habits, the
//! visits a household would make unprompted), written with `seed --truth` and read by `bench quality`.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::household::CustomerPlan;
use super::SHANGHAI_HOURS;
use crate::domain::SeasonClass;

/// The first line of a truth file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TruthHeader {
    /// The seed's `today`: history ends the day before, the truth's visits start on it.
    pub today: NaiveDate,
    /// The random seed.
    pub seed: u64,
}

/// One household, one line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CustomerTruth {
    /// The customer.
    pub customer_id: Uuid,
    /// When they stopped using the company, if they did (no visit on or after it).
    pub churned_on: Option<NaiveDate>,
    /// Days into the spring and autumn windows they usually send their out-of-season clothes.
    pub put_away_days: (i64, i64),
    /// Chance they make a put-away visit in a given window.
    pub compliance: f64,
    /// Every garment they ever owned in the planned span.
    pub garments: Vec<GarmentTruth>,
    /// The visits they would make from `today` on without being called.
    pub future: Vec<VisitTruth>,
}

/// A garment and its time in the wardrobe.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GarmentTruth {
    /// The garment.
    pub garment_id: Uuid,
    /// When it is worn.
    pub season_class: SeasonClass,
    /// What cleaning it costs, in fen.
    pub price_cents: i64,
    /// First day in the wardrobe.
    pub owned_from: NaiveDate,
    /// Thrown or given away on this day.
    pub discarded_on: Option<NaiveDate>,
}

impl GarmentTruth {
    /// Whether it is in the wardrobe on `day`.
    pub fn owned_on(&self, day: NaiveDate) -> bool {
        super::household::owned_on(self.owned_from, self.discarded_on, day)
    }
}

/// A visit the household would make unprompted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisitTruth {
    /// The company-time day.
    pub day: NaiveDate,
    /// A seasonal put-away visit.
    pub put_away: bool,
    /// The garments it would hand over.
    pub garments: Vec<Uuid>,
}

fn local_day(at: DateTime<Utc>) -> NaiveDate {
    (at + chrono::Duration::hours(SHANGHAI_HOURS)).date_naive()
}

impl CustomerTruth {
    /// The truth of a planned household.
    pub fn of(plan: &CustomerPlan) -> CustomerTruth {
        CustomerTruth {
            customer_id: plan.customer_id,
            churned_on: plan.churned_on,
            put_away_days: plan.put_away_days,
            compliance: plan.compliance,
            garments: plan
                .garments
                .iter()
                .map(|g| GarmentTruth {
                    garment_id: g.garment_id,
                    season_class: g.fields.season_class,
                    price_cents: g.price_cents,
                    owned_from: g.owned_from,
                    discarded_on: g.discarded_on,
                })
                .collect(),
            future: plan
                .future
                .iter()
                .map(|p| VisitTruth {
                    day: local_day(p.collected_at),
                    put_away: p.put_away,
                    garments: p.lines.iter().map(|l| l.garment_id).collect(),
                })
                .collect(),
        }
    }
}

/// Writes one household as a line.
pub fn write_line(out: &mut impl Write, value: &impl Serialize) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Reads a truth file: its header and every household by customer id.
pub fn read(input: impl BufRead) -> anyhow::Result<(TruthHeader, HashMap<Uuid, CustomerTruth>)> {
    let mut lines = input.lines();
    let header: TruthHeader = match lines.next() {
        Some(line) => serde_json::from_str(&line?)?,
        None => anyhow::bail!("the truth file is empty"),
    };
    let mut households = HashMap::new();
    for (i, line) in lines.enumerate() {
        let c: CustomerTruth = serde_json::from_str(&line?)
            .map_err(|e| anyhow::anyhow!("truth line {}: {e}", i + 2))?;
        households.insert(c.customer_id, c);
    }
    Ok((header, households))
}
