//! `doorstep bench sweep`: fresh simulated companies, each seeded into a database of its own and its reminder list scored.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::migrate::MigrateDatabase;
use sqlx::Postgres;

use crate::bench::quality::{self, ListScore, QualityBench};
use crate::config::{redact_url, DbConfig};
use crate::state::Settings;

/// The goals for a reminder list's top entries: precision, value and incremental value.
const GOALS: (f64, f64, f64) = (0.95, 0.90, 0.85);

/// What to sweep.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepBench {
    /// Companies seeded and scored, one after another.
    #[arg(long, default_value_t = 5)]
    pub companies: usize,
    /// Customers of each company.
    #[arg(long, default_value_t = 3000)]
    pub customers: usize,
    /// Years of history of each company.
    #[arg(long, default_value_t = 2)]
    pub years: u32,
    /// The first company's seed; the others follow it.
    #[arg(long, default_value_t = 1000)]
    pub first_seed: u64,
    /// Entries scored from the top of each list.
    #[arg(long, default_value_t = 100)]
    pub top: usize,
    /// Keep each company's database (doorstep_sweep_<seed>) instead of dropping it.
    #[arg(long)]
    pub keep: bool,
}

/// One company's list day: a day of its spring or autumn put-away window, drawn from its seed, on or before
/// `today`. Returns the day and the window's id.
fn list_day(seed: u64, today: NaiveDate) -> (NaiveDate, String) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed_5eed);
    let (kind, month) = if rng.gen_bool(0.5) {
        ("spring", 3)
    } else {
        ("autumn", 9)
    };
    // A few days in at least, so some put-aways are under way; well before the end, so a call can still help.
    let offset = rng.gen_range(3..=80);
    let day_in = |year: i32| {
        NaiveDate::from_ymd_opt(year, month, 1).map(|d| d + chrono::Duration::days(offset))
    };
    let year = match day_in(today.year()) {
        Some(d) if d <= today => today.year(),
        _ => today.year() - 1,
    };
    let day = day_in(year).unwrap_or(today);
    (day, format!("{year}-{kind}"))
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let slash = base
        .rfind('/')
        .filter(|i| base[..*i].contains("://") && !base[..*i].ends_with('/'))
        .ok_or_else(|| anyhow::anyhow!("no database name in {}", redact_url(url)))?;
    Ok(match query {
        Some(q) => format!("{}/{name}?{q}", &base[..slash]),
        None => format!("{}/{name}", &base[..slash]),
    })
}

fn cells(s: &ListScore) -> String {
    format!("{:.2} / {:.2} / {:.2}", s.precision, s.value, s.incremental)
}

/// Seeds and scores each company; returns the printed table with the means and how many lists meet each goal.
pub async fn run(cfg: &DbConfig, b: &SweepBench) -> anyhow::Result<String> {
    anyhow::ensure!(
        (1..=100).contains(&b.companies),
        "--companies must be between 1 and 100, got {}",
        b.companies
    );
    anyhow::ensure!(
        b.first_seed.checked_add(b.companies as u64).is_some(),
        "--first-seed {} leaves no room for {} seeds",
        b.first_seed,
        b.companies
    );
    let today = Settings::default().clock.today();
    let mut out = String::new();
    writeln!(
        out,
        "bench sweep: {} companies of {} customers and {} years, seeds {} to {}, top {}",
        b.companies,
        b.customers,
        b.years,
        b.first_seed,
        b.first_seed + b.companies as u64 - 1,
        b.top
    )?;
    writeln!(
        out,
        "| seed | list day (window) | reminders P / V / I | spend-ranked P / V / I | gone: reminders / spend | count: expected / truly sent |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    let mut scored: Vec<(ListScore, ListScore, i64, usize)> = Vec::new();
    for i in 0..b.companies {
        let seed = b.first_seed + i as u64;
        let (on, window) = list_day(seed, today);
        let name = format!("doorstep_sweep_{seed}");
        let url = with_database(&cfg.database_url, &name)?;
        if Postgres::database_exists(&url).await? {
            Postgres::force_drop_database(&url).await?;
        }
        let truth = std::env::temp_dir().join(format!(
            "doorstep-sweep-{seed}-{}.jsonl",
            std::process::id()
        ));
        let company = DbConfig {
            database_url: url.clone(),
            ..cfg.clone()
        };
        let pool = crate::db::connect_and_migrate(&company).await?;
        let result = async {
            let opts = crate::seed::SeedOptions {
                today: on,
                truth: Some(truth.clone()),
                ..crate::seed::SeedOptions::new(b.customers, b.years, seed)
            };
            crate::seed::seed(&pool, opts).await?;
            quality::report(
                &pool,
                &QualityBench {
                    truth: truth.clone(),
                    top: b.top,
                    window: Some(window.clone()),
                    entries: None,
                },
            )
            .await
        }
        .await;
        pool.close().await;
        let _ = std::fs::remove_file(&truth);
        if !b.keep {
            Postgres::force_drop_database(&url).await?;
        }
        let r = result.map_err(|e| anyhow::anyhow!("seed {seed} ({on}, {window}): {e}"))?;
        writeln!(
            out,
            "| {seed}{} | {on} ({window}) | {} | {} | {} / {} | {} / {} |",
            if b.keep {
                format!(" (`{name}`)")
            } else {
                String::new()
            },
            cells(&r.reminders),
            cells(&r.spend),
            r.reminders.gone,
            r.spend.gone,
            r.expected_unprompted,
            r.sent_unprompted
        )?;
        scored.push((
            r.reminders,
            r.spend,
            r.expected_unprompted,
            r.sent_unprompted,
        ));
    }
    let n = scored.len() as f64;
    let mean = |f: &dyn Fn(&ListScore) -> f64, spend: bool| {
        scored
            .iter()
            .map(|(r, s, _, _)| f(if spend { s } else { r }))
            .sum::<f64>()
            / n
    };
    writeln!(
        out,
        "mean: reminders {:.3} / {:.3} / {:.3}, spend-ranked {:.3} / {:.3} / {:.3}",
        mean(&|s| s.precision, false),
        mean(&|s| s.value, false),
        mean(&|s| s.incremental, false),
        mean(&|s| s.precision, true),
        mean(&|s| s.value, true),
        mean(&|s| s.incremental, true),
    )?;
    let meets = |f: &dyn Fn(&ListScore) -> bool| scored.iter().filter(|(r, _, _, _)| f(r)).count();
    writeln!(
        out,
        "goals met (of {}): precision >= {} in {}, value >= {} in {}, incremental >= {} in {}; the spend-ranked \
         list beaten on all three in {}",
        scored.len(),
        GOALS.0,
        meets(&|s| s.precision >= GOALS.0),
        GOALS.1,
        meets(&|s| s.value >= GOALS.1),
        GOALS.2,
        meets(&|s| s.incremental >= GOALS.2),
        scored
            .iter()
            .filter(|(r, s, _, _)| r.precision > s.precision
                && r.value > s.value
                && r.incremental > s.incremental)
            .count()
    )?;
    let error: Vec<f64> = scored
        .iter()
        .filter(|(_, _, _, sent)| *sent > 0)
        .map(|(_, _, expected, sent)| (*expected as f64 - *sent as f64) / *sent as f64)
        .collect();
    if !error.is_empty() {
        writeln!(
            out,
            "count of the open window against what households truly send unprompted: mean error {:+.1}%, mean \
             absolute {:.1}% (over {} companies)",
            100.0 * error.iter().sum::<f64>() / error.len() as f64,
            100.0 * error.iter().map(|e| e.abs()).sum::<f64>() / error.len() as f64,
            error.len()
        )?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_days_fall_inside_a_put_away_window_and_never_after_today() {
        let today = NaiveDate::from_ymd_opt(2026, 4, 2).expect("valid test input");
        for seed in 0..200 {
            let (day, window) = list_day(seed, today);
            assert!(day <= today, "{seed}: {day}");
            let (year, kind) = window.split_once('-').expect("valid test input");
            assert_eq!(year.parse::<i32>().expect("valid test input"), day.year());
            let month = if kind == "spring" { 3 } else { 9 };
            let opens = NaiveDate::from_ymd_opt(day.year(), month, 1).expect("valid test input");
            assert!(
                (3..=80).contains(&(day - opens).num_days()),
                "{seed}: {day} {window}"
            );
        }
        assert_eq!(list_day(7, today), list_day(7, today));
    }

    #[test]
    fn the_database_name_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres", "x").expect("valid test input"),
            "postgres://u:p@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://h/db?sslmode=disable", "x").expect("valid test input"),
            "postgres://h/x?sslmode=disable"
        );
        assert!(with_database("postgres://h", "x").is_err());
    }
}
