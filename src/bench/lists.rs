//! `doorstep bench lists`: times every wardrobe list (first page and full export) on the database it points at.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sqlx::PgPool;

use crate::calendar::Calendar;
use crate::domain::SeasonClass;
use crate::export::Rows;
use crate::lists::{reminders, special_sizes, storage_upsell, value};
use crate::state::Settings;

/// What to time.
#[derive(Debug, Clone)]
pub struct ListBench {
    pub(crate) on: Option<NaiveDate>,
    pub(crate) runs: usize,
    /// Also print each list's main query plan (EXPLAIN ANALYZE, summarised).
    pub explain: bool,
}

struct Timing {
    name: String,
    rows: i64,
    times: Vec<Duration>,
}

impl Timing {
    fn line(&self) -> String {
        let mut t = self.times.clone();
        t.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        format!(
            "{:<28} {:>8} {:>9.1} {:>9.1} {:>9.1}",
            self.name,
            self.rows,
            ms(t[t.len() / 2]),
            ms(t[(t.len() * 9 / 10).min(t.len() - 1)]),
            ms(t[t.len() - 1])
        )
    }
}

async fn time<F, Fut>(name: &str, runs: usize, mut f: F) -> anyhow::Result<Timing>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<i64>>,
{
    // One warm-up run so the first figure is not a cold cache.
    let mut rows = f().await?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        rows = f().await?;
        times.push(start.elapsed());
    }
    Ok(Timing {
        name: name.to_owned(),
        rows,
        times,
    })
}

/// Runs the benchmark and returns the printed report.
pub async fn run(pool: &PgPool, b: &ListBench) -> anyhow::Result<String> {
    let settings = Settings::default();
    let on = b.on.unwrap_or_else(|| settings.clock.today());
    let cal = Calendar::load(pool).await?;
    let window = cal
        .open_on(on)
        .into_iter()
        .find(|w| w.outgoing != SeasonClass::SpringAutumn)
        .or_else(|| cal.open_on(on).into_iter().next())
        .or_else(|| cal.latest_of(SeasonClass::Winter, on))
        .ok_or_else(|| anyhow::anyhow!("no season window to bench"))?;
    let spring = cal
        .latest_of(SeasonClass::Winter, on)
        .ok_or_else(|| anyhow::anyhow!("no spring window to bench"))?;
    let customers: i64 = sqlx::query_scalar("select count(*) from customer")
        .fetch_one(pool)
        .await?;
    let garments: i64 = sqlx::query_scalar("select count(*) from garment")
        .fetch_one(pool)
        .await?;
    let lines: i64 = sqlx::query_scalar("select count(*) from pickup_line")
        .fetch_one(pool)
        .await?;

    let rq = reminders::ReminderQuery {
        window: window.clone(),
        on,
        cap_days: settings.contact_cap_days,
    };
    let uq = storage_upsell::UpsellQuery {
        window: spring.clone(),
        window_chosen: "the latest spring window, to bench a full list".to_owned(),
        on,
        lead_days: 30,
        months: 6,
    };
    let sq = special_sizes::SizesQuery {
        on,
        threshold: 0.3,
        min_garments: 3,
    };
    let vq = value::ValueQuery {
        on,
        tier: None,
        stage: None,
    };
    let aq = value::AtRiskQuery {
        on,
        factor: 3.0,
        min_pickups: 3,
        status: None,
    };
    let page = Rows {
        limit: Some(50),
        offset: 0,
    };
    let mut timings = Vec::new();
    let fitted = std::time::Instant::now();
    let outlook = crate::lists::outlook::fit(pool, &settings, &cal, &window, on)
        .await
        .map_err(err)?;
    let fit_secs = fitted.elapsed().as_secs_f64();
    let counted = std::time::Instant::now();
    let wardrobe =
        crate::lists::expected::wardrobe_outlook(pool, &settings, &outlook, &window, on).await?;
    let count_secs = counted.elapsed().as_secs_f64();
    for (label, rows) in [("page of 50", page), ("full export", Rows::ALL)] {
        let (s, o) = (&settings, &outlook);
        timings.push(
            time(&format!("reminders {label}"), b.runs, || async {
                Ok(reminders::compute(pool, s, o, &rq, rows)
                    .await
                    .map_err(err)?
                    .total)
            })
            .await?,
        );
        timings.push(
            time(&format!("storage-upsell {label}"), b.runs, || async {
                Ok(storage_upsell::compute(pool, s, &uq, rows)
                    .await
                    .map_err(err)?
                    .total)
            })
            .await?,
        );
        timings.push(
            time(&format!("special-sizes {label}"), b.runs, || async {
                Ok(special_sizes::compute(pool, s, &sq, rows)
                    .await
                    .map_err(err)?
                    .total)
            })
            .await?,
        );
        timings.push(
            time(&format!("customer-value {label}"), b.runs, || async {
                Ok(value::compute_value(pool, s, &vq, rows)
                    .await
                    .map_err(err)?
                    .total)
            })
            .await?,
        );
        timings.push(
            time(&format!("at-risk {label}"), b.runs, || async {
                Ok(value::compute_at_risk(pool, s, &aq, rows)
                    .await
                    .map_err(err)?
                    .total)
            })
            .await?,
        );
    }

    if on == settings.clock.today() {
        kept_lists(pool, &cal, (&rq, &uq, &sq, &vq, &aq), b.runs, &mut timings).await?;
    }

    let mut out = String::new();
    writeln!(
        out,
        "{customers} customers, {garments} garments, {lines} pickup lines; list day {on}; reminders window {}, upsell window {}; {} runs each",
        window.id, spring.id, b.runs
    )?;
    writeln!(
        out,
        "{:<28} {:>8} {:>9} {:>9} {:>9}",
        "list", "rows", "median ms", "p90 ms", "max ms"
    )?;
    for t in &timings {
        writeln!(out, "{}", t.line())?;
    }
    writeln!(
        out,
        "reminder estimates (still active, still worn, sends unprompted; fitted in the background and kept \
         10 minutes): {fit_secs:.2} s"
    )?;
    writeln!(
        out,
        "the window counted from the wardrobes on record (the intake forecast's open window, kept beside the \
         estimates): {count_secs:.2} s ({} garments of {} customers; {} expected without a call, calls could add {})",
        wardrobe.on_record, wardrobe.customers, wardrobe.expected_unprompted, wardrobe.call_potential
    )?;
    if b.explain {
        let start = settings.clock.start_of(window.starts_on);
        let plan: Vec<String> = sqlx::query_scalar(
            "explain (analyze, costs off, timing off, summary on)
             select g.customer_id, count(*), sum(g.last_price_cents) from garment g
              where g.season_class = $1 and g.last_cleaned_at >= $2 and g.last_cleaned_at < $3
              group by g.customer_id",
        )
        .bind(window.outgoing)
        .bind(start - chrono::Duration::days(reminders::IN_USE_DAYS))
        .bind(start)
        .fetch_all(pool)
        .await?;
        writeln!(
            out,
            "\nreminders' outstanding-garment scan:\n  {}",
            plan.join("\n  ")
        )?;
        let day_end = settings.clock.start_of(on + chrono::Duration::days(1));
        let plan: Vec<String> = sqlx::query_scalar(
            "explain (analyze, costs off, timing off, summary on) select count(*) from customer_value($1)",
        )
        .bind(day_end)
        .fetch_all(pool)
        .await?;
        writeln!(
            out,
            "\ncustomer_value (RFM over the whole base):\n  {}",
            plan.join("\n  ")
        )?;
        let plan = storage_upsell::explain_page(pool, &settings, &uq, page).await?;
        writeln!(
            out,
            "\nstorage-upsell page (storable garments priced and summed per customer):\n  {}",
            plan.join("\n  ")
        )?;
    }
    Ok(out)
}

/// Today's lists as the service serves them: built once, then kept and brought up
/// to date, with nothing changed and after writes to some customers (rollups rewritten as they were: each is
/// read again in full).
async fn kept_lists(
    pool: &PgPool,
    cal: &Calendar,
    (rq, uq, sq, vq, aq): (
        &reminders::ReminderQuery,
        &storage_upsell::UpsellQuery,
        &special_sizes::SizesQuery,
        &value::ValueQuery,
        &value::AtRiskQuery,
    ),
    runs: usize,
    timings: &mut Vec<Timing>,
) -> anyhow::Result<()> {
    let state = crate::state::AppState::new(pool.clone());
    let page = Rows {
        limit: Some(50),
        offset: 0,
    };
    // A benchmark waits for the first fit, however long it takes (a page would be told to come back).
    state
        .outlook
        .get_within(pool, &state.settings, cal, &rq.window, rq.on, None)
        .await
        .map_err(err)?;
    let state = &state;
    kept_rows("reminders", pool, runs, timings, || async move {
        Ok(reminders::compute_kept(state, cal, rq, page)
            .await
            .map_err(err)?
            .1
            .total)
    })
    .await?;
    kept_rows("special-sizes", pool, runs, timings, || async move {
        Ok(special_sizes::compute_kept(state, sq, page)
            .await
            .map_err(err)?
            .total)
    })
    .await?;
    kept_rows("storage-upsell", pool, runs, timings, || async move {
        Ok(storage_upsell::compute_kept(state, uq, page)
            .await
            .map_err(err)?
            .total)
    })
    .await?;
    kept_rows("customer-value", pool, runs, timings, || async move {
        Ok(value::compute_value_kept(state, vq, page)
            .await
            .map_err(err)?
            .total)
    })
    .await?;
    kept_rows("at-risk", pool, runs, timings, || async move {
        Ok(value::compute_at_risk_scored(state, aq, page)
            .await
            .map_err(err)?
            .total)
    })
    .await
}

async fn kept_rows<F, Fut>(
    list: &str,
    pool: &PgPool,
    runs: usize,
    timings: &mut Vec<Timing>,
    serve: F,
) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<i64>>,
{
    let started = Instant::now();
    let rows = serve().await?;
    timings.push(Timing {
        name: format!("{list} kept: build"),
        rows,
        times: vec![started.elapsed()],
    });
    timings.push(time(&format!("{list} kept page of 50"), runs, &serve).await?);
    for changed in [100, 2_000] {
        let mut times = Vec::with_capacity(runs);
        let mut rows = 0;
        for _ in 0..runs.max(1) {
            sqlx::query(
                "update customer_stats set pickups = pickups
                  where customer_id in (select customer_id from customer_stats order by random() limit $1)",
            )
            .bind(changed)
            .execute(pool)
            .await?;
            let start = Instant::now();
            rows = serve().await?;
            times.push(start.elapsed());
        }
        timings.push(Timing {
            name: format!("  after {changed} customers changed"),
            rows,
            times,
        });
    }
    Ok(())
}

fn err(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}
