//! `doorstep seed`: a deterministic, realistic laundry company (households, wardrobes, seasonal habits) for demos, tests and benchmarks.

mod household;
pub mod truth;
mod writer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::PgPool;

use crate::customers::db::customer_exists;
use household::SHANGHAI_HOURS;
pub use household::{
    customer_rng, plan_customer, CustomerPlan, GarmentPlan, InteractionPlan, PickupPlan,
};
use writer::{may_skip_row_checks, seed_staff, write_batch};

/// Below this many customers a seed keeps every index: building them again would cost more than it saves.
pub const DEFER_INDEXES_FROM: usize = 50_000;

/// The tables a seed writes rows to.
const SEEDED_TABLES: [&str; 8] = [
    "customer",
    "customer_stats",
    "door_label",
    "interaction",
    "garment",
    "pickup",
    "pickup_line",
    "pickup_class",
];

/// What to generate; `today` is a parameter so tests and reruns see the same calendar.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// Customers to create.
    pub customers: usize,
    /// Years of history before `today`.
    pub years: u32,
    /// The random seed: the same seed gives the same company.
    pub seed: u64,
    /// Last day of the history (exclusive), in Shanghai time.
    pub today: NaiveDate,
    /// Customers written per transaction.
    pub batch_size: usize,
    /// Batches written at once, each on its own connection.
    pub parallel: usize,
    /// Show a progress bar.
    pub progress: bool,
    /// Write the ground truth (churn, discards, habits, unprompted visits) to this file, one line a household.
    pub truth: Option<std::path::PathBuf>,
    /// From this many customers (and at least as many as the database already holds) the indexes a batch
    /// would update all over are dropped for the load and built again at its end.
    pub defer_indexes_from: usize,
}

impl SeedOptions {
    /// Defaults for the command line: history up to today, 10,000 customers per transaction, 2 writers (one a core).
    pub fn new(customers: usize, years: u32, seed: u64) -> Self {
        Self {
            customers,
            years,
            seed,
            today: (Utc::now() + chrono::Duration::hours(SHANGHAI_HOURS)).date_naive(),
            batch_size: 10_000,
            parallel: 2,
            progress: false,
            truth: None,
            defer_indexes_from: DEFER_INDEXES_FROM,
        }
    }
}

/// Rows written, so callers and tests can check what a seed produced.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedCounts {
    /// Customers written.
    pub customers: u64,
    /// Garments written.
    pub garments: u64,
    /// Pickups written.
    pub pickups: u64,
    /// Pickup lines written.
    pub lines: u64,
    /// Interactions written.
    pub interactions: u64,
    /// Door labels written.
    pub labels: u64,
}

impl SeedCounts {
    fn add(&mut self, o: &SeedCounts) {
        self.customers += o.customers;
        self.garments += o.garments;
        self.pickups += o.pickups;
        self.lines += o.lines;
        self.interactions += o.interactions;
        self.labels += o.labels;
    }

    fn of(plan: &CustomerPlan) -> Self {
        Self {
            customers: 1,
            garments: plan.garments_seen().count() as u64,
            pickups: plan.pickups.len() as u64,
            lines: plan.pickups.iter().map(|p| p.lines.len() as u64).sum(),
            interactions: plan.interactions.len() as u64,
            labels: u64::from(plan.door_code.is_some()),
        }
    }
}

/// The outcome of a seed run, printed by the CLI.
#[derive(Debug, Clone, Copy)]
pub struct SeedSummary {
    /// What was written.
    pub counts: SeedCounts,
    /// How long it took.
    pub elapsed: Duration,
    /// Indexes dropped for the load and built again at its end.
    pub indexes_rebuilt: usize,
}

impl std::fmt::Display for SeedSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.counts;
        write!(
            f,
            "seeded {} customers, {} garments, {} pickups, {} lines, {} interactions, {} door labels in {:.1?}",
            c.customers, c.garments, c.pickups, c.lines, c.interactions, c.labels, self.elapsed
        )?;
        if self.indexes_rebuilt > 0 {
            write!(
                f,
                " ({} indexes built after the load)",
                self.indexes_rebuilt
            )?;
        }
        Ok(())
    }
}

/// Customer `index` of `seed` as the seed writes it: planned, then numbered in order.
fn seeded_customer(seed: u64, today: NaiveDate, years: u32, index: usize) -> CustomerPlan {
    let mut plan = plan_customer(&mut customer_rng(seed, index), today, years);
    plan.number_ids(seed, today, index);
    plan
}

/// Most customers one seed writes: a million takes about a quarter of an hour here.
pub const MAX_CUSTOMERS: usize = 10_000_000;
/// Most years of history one seed writes.
pub const MAX_YEARS: u32 = 25;
/// Planned customers whose door labels are looked up before a load.
const LABEL_PROBE: usize = 20;

/// Refuses sizes and days the service itself would not record: no history before
/// [`crate::domain::clock::earliest_event`], and no `today` past tomorrow in company time.
fn check_options(
    customers: usize,
    years: u32,
    today: NaiveDate,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    if !(1..=MAX_CUSTOMERS).contains(&customers) {
        anyhow::bail!("--customers must be between 1 and {MAX_CUSTOMERS}, got {customers}");
    }
    if !(1..=MAX_YEARS).contains(&years) {
        anyhow::bail!("--years must be between 1 and {MAX_YEARS}, got {years}");
    }
    let earliest = crate::domain::clock::earliest_event().date_naive();
    let start = today
        .checked_sub_days(chrono::Days::new(365 * u64::from(years)))
        .unwrap_or(NaiveDate::MIN);
    if start < earliest {
        anyhow::bail!(
            "--today {today} with --years {years} would start the history on {start}, before {earliest}, \
             the earliest day Doorstep records"
        );
    }
    let latest = (now + chrono::Duration::hours(SHANGHAI_HOURS + 24)).date_naive();
    if today > latest {
        anyhow::bail!(
            "--today {today} is in the future (Doorstep records nothing after {latest}); \
             leave it out for today"
        );
    }
    Ok(())
}

/// Seeds `opts.customers` customers into `pool`; refuses when this seed is already loaded (ids derive from it).
pub async fn seed(pool: &PgPool, opts: SeedOptions) -> anyhow::Result<SeedSummary> {
    let started = Instant::now();
    let SeedOptions {
        customers,
        years,
        seed,
        today,
        ..
    } = opts;
    check_options(customers, years, today, Utc::now())?;
    let first = seeded_customer(seed, today, years, 0).customer_id;
    if customer_exists(pool, first).await? {
        anyhow::bail!(
            "seed {seed} is already loaded into this database (customer {first} exists); \
             use another --seed or a fresh database"
        );
    }
    // Door label codes follow the seed alone, so the same seed loaded with another --today or --years clashes.
    let codes: Vec<String> = (0..customers.min(LABEL_PROBE))
        .filter_map(|i| seeded_customer(seed, today, years, i).door_code)
        .map(|c| c.to_string())
        .collect();
    let clash: Option<String> =
        sqlx::query_scalar("select code from door_label where code = any($1) limit 1")
            .bind(&codes)
            .fetch_optional(pool)
            .await?;
    if let Some(code) = clash {
        anyhow::bail!(
            "seed {seed} is already loaded into this database with another --today or --years \
             (door label {code} exists); use another --seed or a fresh database"
        );
    }
    let mut truth_out = match &opts.truth {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating the truth file {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            truth::write_line(&mut out, &truth::TruthHeader { today, seed })?;
            Some(out)
        }
        None => None,
    };
    let staff = Arc::new(seed_staff(pool).await?);
    let skip_row_checks = may_skip_row_checks(pool).await?;
    let bar = if opts.progress {
        let bar = ProgressBar::new(customers as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} customers ({per_sec}, eta {eta}) {msg}",
            )?
            .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };

    // The indexes not led by the customer (by season class, last cleaning, time, name) take every batch's rows
    // all over their range: past a few hundred thousand customers nearly every insert reads a page and writes
    // one back. Built once at the end, each is a sort.
    let large = customers >= opts.defer_indexes_from
        && customers as i64
            >= sqlx::query_scalar::<_, i64>("select count(*) from customer")
                .fetch_one(pool)
                .await?;
    let deferred = if large {
        crate::db::defer_scattered_indexes(pool, &SEEDED_TABLES).await?
    } else {
        Vec::new()
    };
    let written = write_batches(
        pool,
        &opts,
        staff,
        skip_row_checks,
        truth_out.as_mut(),
        &bar,
    )
    .await;
    let mut indexes_rebuilt = 0;
    if !deferred.is_empty() {
        bar.set_message(format!("building {} deferred indexes", deferred.len()));
        indexes_rebuilt = crate::db::build_deferred_indexes(pool)
            .await
            .context("building the indexes the seed deferred")?;
    }
    let counts = written?;
    bar.finish_and_clear();
    if let Some(mut out) = truth_out {
        std::io::Write::flush(&mut out).context("writing the truth file")?;
    }
    // Each row was written once, rollups included, so nothing is bloated; the plain vacuum sets the visibility
    // map (index-only scans would otherwise visit the heap) and the statistics the lists are planned with.
    sqlx::raw_sql(
        "vacuum (analyze) customer_stats, garment, pickup, pickup_line, pickup_class, customer, interaction, \
         door_label",
    )
    .execute(pool)
    .await
    .context("vacuuming after the seed")?;
    Ok(SeedSummary {
        counts,
        elapsed: started.elapsed(),
        indexes_rebuilt,
    })
}

/// Plans and writes the customers batch by batch, `opts.parallel` batches at once, with their truth lines.
async fn write_batches(
    pool: &PgPool,
    opts: &SeedOptions,
    staff: Arc<writer::SeedStaff>,
    skip_row_checks: bool,
    mut truth_out: Option<&mut std::io::BufWriter<std::fs::File>>,
    bar: &ProgressBar,
) -> anyhow::Result<SeedCounts> {
    let SeedOptions {
        customers,
        years,
        seed,
        today,
        ..
    } = *opts;
    let want_truth = truth_out.is_some();
    // Large batches amortise the pages of the indexes a batch touches all over; a small company is still cut
    // in enough batches to keep every writer busy.
    let batch = opts
        .batch_size
        .min(customers.div_ceil(4 * opts.parallel.max(1)).max(1_000))
        .max(1);
    let mut starts = (0..customers).step_by(batch);
    let mut running = tokio::task::JoinSet::new();
    let mut counts = SeedCounts::default();
    loop {
        while running.len() < opts.parallel.max(1) {
            let Some(lo) = starts.next() else { break };
            let hi = (lo + batch).min(customers);
            let (pool, staff) = (pool.clone(), staff.clone());
            running.spawn(async move {
                let plans: Vec<CustomerPlan> = (lo..hi)
                    .map(|i| seeded_customer(seed, today, years, i))
                    .collect();
                let truths: Vec<truth::CustomerTruth> = if want_truth {
                    plans.iter().map(truth::CustomerTruth::of).collect()
                } else {
                    Vec::new()
                };
                write_batch(&pool, &staff, skip_row_checks, &plans)
                    .await
                    .with_context(|| format!("writing customers {lo}..{hi}"))
                    .map(|counts| (counts, truths))
            });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let (batch_counts, truths) = done??;
        if let Some(out) = truth_out.as_deref_mut() {
            for t in &truths {
                truth::write_line(out, t)?;
            }
        }
        bar.inc(batch_counts.customers);
        counts.add(&batch_counts);
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test input")
    }

    #[test]
    fn sizes_and_days_outside_what_the_service_records_are_refused() {
        let now = day(2026, 12, 6)
            .and_hms_opt(2, 0, 0)
            .expect("valid test input")
            .and_utc();
        let ok = |c, y, t| check_options(c, y, t, now).map_err(|e| e.to_string());
        assert!(ok(3000, 2, day(2026, 4, 10)).is_ok());
        assert!(ok(1, 25, day(2026, 12, 7)).is_ok());
        for (c, y, t, says) in [
            (0, 2, day(2026, 4, 10), "--customers"),
            (MAX_CUSTOMERS + 1, 2, day(2026, 4, 10), "--customers"),
            (10, 0, day(2026, 4, 10), "--years"),
            (10, 1000, day(2026, 4, 10), "--years"),
            (10, 2, day(1900, 1, 1), "before 2000-01-01"),
            (10, 2, day(2001, 6, 1), "before 2000-01-01"),
            (10, 2, day(9999, 1, 1), "in the future"),
            (10, 2, day(2026, 12, 8), "in the future"),
        ] {
            let err = ok(c, y, t).expect_err("refused");
            assert!(err.contains(says), "{c} {y} {t}: {err}");
        }
    }
}
