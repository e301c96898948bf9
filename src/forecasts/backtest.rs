//! `doorstep forecast backtest FILE.csv`: scores every candidate and Doorstep's pick on a weekly series.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context};
use chrono::NaiveDate;

use super::model::{forecast_weekly, mase, smape, Candidate, SEASON_LAG};

/// Weeks in the single long holdout.
const HOLDOUT: usize = 52;
/// Horizon and count of the non-overlapping short holdouts.
const SHORT_H: usize = 26;
const SHORT_ORIGINS: usize = 4;
/// Weeks needed before the earliest evaluation origin (two seasons, like the seasonal models).
const MIN_TRAIN: usize = 2 * SEASON_LAG;

/// Reads a `week_start,value` CSV, runs the backtest protocol and returns the printed table.
pub fn run_file(path: &Path) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let series = parse_series(&text).with_context(|| format!("in {}", path.display()))?;
    let values: Vec<f64> = series.iter().map(|p| p.1).collect();
    report(&values)
}

/// Parses and validates the CSV: header `week_start,value`, ISO dates 7 days apart in ascending order.
pub fn parse_series(text: &str) -> anyhow::Result<Vec<(NaiveDate, f64)>> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        bail!("file is empty")
    };
    let cols: Vec<String> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    if cols != ["week_start", "value"] {
        bail!(
            "line 1: expected header `week_start,value`, found `{}`",
            header.trim()
        );
    }
    let mut out: Vec<(NaiveDate, f64)> = Vec::new();
    for (i, line) in lines {
        let no = i + 1;
        let mut fields = line.split(',').map(str::trim);
        let (Some(d), Some(v), None) = (fields.next(), fields.next(), fields.next()) else {
            bail!(
                "line {no}: expected 2 fields `week_start,value`, found `{}`",
                line.trim()
            );
        };
        let date = NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .with_context(|| format!("line {no}: `{d}` is not an ISO date (YYYY-MM-DD)"))?;
        let value: f64 = v
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
            .with_context(|| format!("line {no}: `{v}` is not a number"))?;
        if let Some(&(prev, _)) = out.last() {
            let gap = (date - prev).num_days();
            if gap != 7 {
                bail!("line {no}: {date} is {gap} days after {prev}; weeks must be ascending and 7 days apart");
            }
        }
        out.push((date, value));
    }
    Ok(out)
}

struct Row {
    name: String,
    mase52: f64,
    smape52: f64,
    mase26: f64,
    smape26: f64,
}

/// Runs the protocol on `y`: one 52-week holdout and 26 weeks from 4 non-overlapping origins over the
/// last 104 weeks; MASE is scaled by the lag-52 seasonal-naive MAE of each training part.
pub fn report(y: &[f64]) -> anyhow::Result<String> {
    let n = y.len();
    let need = MIN_TRAIN + SHORT_H * SHORT_ORIGINS;
    if n < need {
        bail!("backtest needs at least {need} weeks of history, found {n}");
    }
    let short_origins: Vec<usize> = (0..SHORT_ORIGINS)
        .rev()
        .map(|j| n - SHORT_H * (j + 1))
        .collect();
    let score = |origin: usize, h: usize, f: &[f64]| {
        let actual = &y[origin..origin + h];
        (mase(actual, f, &y[..origin], SEASON_LAG), smape(actual, f))
    };
    let evaluate = |forecast: &dyn Fn(&[f64], usize) -> Vec<f64>| {
        let (mase52, smape52) = score(n - HOLDOUT, HOLDOUT, &forecast(&y[..n - HOLDOUT], HOLDOUT));
        let (mut m, mut s) = (0.0, 0.0);
        for &o in &short_origins {
            let (a, b) = score(o, SHORT_H, &forecast(&y[..o], SHORT_H));
            m += a;
            s += b;
        }
        let k = SHORT_ORIGINS as f64;
        (mase52, smape52, m / k, s / k)
    };
    let mut rows = Vec::new();
    for c in Candidate::SEASONAL {
        let (mase52, smape52, mase26, smape26) = evaluate(&|h, len| c.point_forecast(h, len));
        rows.push(Row {
            name: c.name().to_string(),
            mase52,
            smape52,
            mase26,
            smape26,
        });
    }
    let picks = std::cell::RefCell::new(Vec::new());
    let covered = std::cell::Cell::new((0usize, 0usize, 0usize));
    let (mase52, smape52, mase26, smape26) = evaluate(&|h, len| {
        let s = forecast_weekly(h, len);
        let f = &s.forecast;
        let (mut c80, mut c95, mut total) = covered.get();
        for (i, a) in y[h.len()..(h.len() + len).min(n)].iter().enumerate() {
            c80 += usize::from(f.lo80[i] <= *a && *a <= f.hi80[i]);
            c95 += usize::from(f.lo95[i] <= *a && *a <= f.hi95[i]);
            total += 1;
        }
        covered.set((c80, c95, total));
        picks.borrow_mut().push(s.chosen);
        s.forecast.mean
    });
    rows.push(Row {
        name: "doorstep_pick".to_string(),
        mase52,
        smape52,
        mase26,
        smape26,
    });

    let mut out = String::new();
    writeln!(
        out,
        "{n} weeks; MASE scaled by lag-52 seasonal-naive MAE of each training part"
    )?;
    writeln!(
        out,
        "{:<22}{:>10}{:>11}{:>12}{:>13}",
        "model", "MASE h52", "sMAPE h52", "MASE h26x4", "sMAPE h26x4"
    )?;
    for r in &rows {
        writeln!(
            out,
            "{:<22}{:>10.3}{:>10.2}%{:>12.3}{:>12.2}%",
            r.name, r.mase52, r.smape52, r.mase26, r.smape26
        )?;
    }
    let picks = picks.into_inner();
    let now = forecast_weekly(y, SHORT_H);
    writeln!(
        out,
        "picked: {} (for the next {SHORT_H} weeks from all {n} weeks)",
        now.chosen
    )?;
    if let Some(reason) = &now.fallback_reason {
        writeln!(out, "fallback: {reason}")?;
    }
    writeln!(
        out,
        "picked at evaluation origins (inner backtest on training part only): h52: {}; h26x4: {}",
        picks.first().map(String::as_str).unwrap_or("-"),
        picks.get(1..).map(|p| p.join(", ")).unwrap_or_default()
    )?;
    let (c80, c95, total) = covered.get();
    let share = |c: usize| 100.0 * c as f64 / total.max(1) as f64;
    writeln!(
        out,
        "doorstep_pick interval coverage over all evaluation weeks: 80%: {:.1}%, 95%: {:.1}%",
        share(c80),
        share(c95)
    )?;
    let (pick, snaive) = (&rows[rows.len() - 1], &rows[0]);
    let pct = |a: f64, b: f64| if b > 0.0 { 100.0 * (a - b) / b } else { 0.0 };
    writeln!(
        out,
        "doorstep_pick vs seasonal_naive MASE: {:+.1}% (h52), {:+.1}% (h26x4), {:+.1}% (mean)",
        pct(pick.mase52, snaive.mase52),
        pct(pick.mase26, snaive.mase26),
        pct(pick.mase52 + pick.mase26, snaive.mase52 + snaive.mase26)
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_valid_file() {
        let s =
            parse_series("week_start,value\n2024-01-01,3\n2024-01-08,4.5\n\n").expect("test input");
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].1, 4.5);
    }

    #[test]
    fn reports_the_line_of_a_bad_row() {
        let err = |t: &str| format!("{:#}", parse_series(t).unwrap_err());
        assert!(err("date,value\n").contains("line 1"));
        assert!(err("week_start,value\n2024-01-01,3\n2024-01-09,4\n").contains("line 3"));
        assert!(err("week_start,value\n2024-01-08,3\n2024-01-01,4\n").contains("line 3"));
        assert!(err("week_start,value\n2024-01-01,x\n").contains("line 2"));
        assert!(err("week_start,value\n01/01/2024,1\n").contains("line 2"));
        assert!(err("week_start,value\n2024-01-01,1,2\n").contains("line 2"));
        assert!(err("").contains("empty"));
    }

    #[test]
    fn reports_every_candidate_and_the_pick() {
        let mut csv = String::from("week_start,value\n");
        let start = NaiveDate::from_ymd_opt(2019, 1, 7).expect("test input");
        for t in 0..260 {
            let w = 2.0 * std::f64::consts::PI * t as f64 / (365.25 / 7.0);
            let date = start + chrono::Duration::weeks(t);
            csv.push_str(&format!(
                "{date},{:.2}\n",
                100.0 + 20.0 * w.sin() + (t % 7) as f64
            ));
        }
        let path =
            std::env::temp_dir().join(format!("doorstep-backtest-{}.csv", std::process::id()));
        std::fs::write(&path, csv).expect("test input");
        let out = run_file(&path).expect("test input");
        let _ = std::fs::remove_file(&path);
        for c in Candidate::SEASONAL {
            assert!(out.contains(c.name()), "{out}");
        }
        assert!(
            out.contains("picked: ") && out.contains("doorstep_pick"),
            "{out}"
        );
        assert!(!out.contains("NaN"), "{out}");
    }

    #[test]
    fn short_series_is_an_error_not_a_panic() {
        assert!(report(&[1.0; 50]).is_err());
    }
}
