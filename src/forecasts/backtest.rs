//! `doorstep forecast backtest FILE.csv`: scores every candidate and Doorstep's pick on a weekly series.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context};
use chrono::NaiveDate;

use super::model::{forecast_weekly, mase, smape, Candidate, Forecast, Model, SEASON_LAG};

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

/// Scores of one forecaster under both protocols.
#[derive(Default, Clone, Copy)]
struct Scores {
    mase52: f64,
    smape52: f64,
    mase26: f64,
    smape26: f64,
    /// Evaluation weeks inside the 80% and 95% intervals, and weeks evaluated: (h52, h26x4).
    cover: [(usize, usize, usize); 2],
}

impl Scores {
    fn coverage(&self, protocol: usize) -> (f64, f64) {
        let (c80, c95, n) = self.cover[protocol];
        let share = |c: usize| 100.0 * c as f64 / n.max(1) as f64;
        (share(c80), share(c95))
    }

    fn pooled_coverage(&self) -> (f64, f64) {
        let (a, b) = (self.cover[0], self.cover[1]);
        let n = (a.2 + b.2).max(1) as f64;
        (
            100.0 * (a.0 + b.0) as f64 / n,
            100.0 * (a.1 + b.1) as f64 / n,
        )
    }
}

/// Runs the protocol on `y`: one 52-week holdout and 26 weeks from 4 non-overlapping origins over the
/// last 104 weeks; MASE is scaled by the lag-52 seasonal-naive MAE of each training part, and coverage counts
/// the evaluation weeks inside each forecaster's 80% and 95% intervals.
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
    let evaluate = |forecast: &mut dyn FnMut(&[f64], usize) -> Forecast| {
        let mut s = Scores::default();
        let mut one = |origin: usize, h: usize, protocol: usize| {
            let f = forecast(&y[..origin], h);
            let actual = &y[origin..origin + h];
            let c = &mut s.cover[protocol];
            for (i, a) in actual.iter().enumerate() {
                c.0 += usize::from(f.lo80[i] <= *a && *a <= f.hi80[i]);
                c.1 += usize::from(f.lo95[i] <= *a && *a <= f.hi95[i]);
                c.2 += 1;
            }
            (
                mase(actual, &f.mean, &y[..origin], SEASON_LAG),
                smape(actual, &f.mean),
            )
        };
        let (m52, s52) = one(n - HOLDOUT, HOLDOUT, 0);
        let (mut m26, mut s26) = (0.0, 0.0);
        for &o in &short_origins {
            let (a, b) = one(o, SHORT_H, 1);
            m26 += a;
            s26 += b;
        }
        let k = SHORT_ORIGINS as f64;
        s.mase52 = m52;
        s.smape52 = s52;
        s.mase26 = m26 / k;
        s.smape26 = s26 / k;
        s
    };
    let mut rows: Vec<(String, Scores)> = Vec::new();
    for c in Candidate::SEASONAL {
        let scores = evaluate(&mut |h: &[f64], len: usize| c.fit_predict(h, len));
        rows.push((c.name().to_string(), scores));
    }
    let mut picks = Vec::new();
    let pick = evaluate(&mut |h: &[f64], len: usize| {
        let s = forecast_weekly(h, len);
        picks.push(s.chosen);
        s.forecast
    });
    rows.push(("doorstep_pick".to_string(), pick));

    let mut out = String::new();
    writeln!(
        out,
        "{n} weeks; MASE scaled by lag-52 seasonal-naive MAE of each training part; cov = share of \
         evaluation weeks inside the 80%/95% intervals"
    )?;
    writeln!(
        out,
        "{:<22}{:>9}{:>10}{:>7}{:>7}{:>11}{:>12}{:>7}{:>7}",
        "model",
        "MASE h52",
        "sMAPE h52",
        "cov80",
        "cov95",
        "MASE h26x4",
        "sMAPE h26x4",
        "cov80",
        "cov95"
    )?;
    for (name, r) in &rows {
        let (a80, a95) = r.coverage(0);
        let (b80, b95) = r.coverage(1);
        writeln!(
            out,
            "{:<22}{:>9.3}{:>9.2}%{:>6.1}%{:>6.1}%{:>11.3}{:>11.2}%{:>6.1}%{:>6.1}%",
            name, r.mase52, r.smape52, a80, a95, r.mase26, r.smape26, b80, b95
        )?;
    }
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
    let (c80, c95) = pick.pooled_coverage();
    writeln!(
        out,
        "doorstep_pick: mean MASE {:.3} (h52 and h26x4); interval coverage over all {} evaluation weeks: \
         80%: {c80:.1}%, 95%: {c95:.1}%",
        (pick.mase52 + pick.mase26) / 2.0,
        pick.cover[0].2 + pick.cover[1].2,
    )?;
    let snaive = &rows[0].1;
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
