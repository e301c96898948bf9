//! Yearly seasonal components for weekly series: a robust multi-year profile and Fourier terms.

/// Weeks per year; profiles step back by this (rounded), not by 52, so fixed-date holidays stay aligned.
pub const YEAR: f64 = 365.25 / 7.0;
/// How many years feed the multi-year profile.
pub const PROFILE_YEARS: usize = 6;
/// Local-linear trend window (weeks), about 1.5 seasons as in STL.
const TREND_WINDOW: usize = 79;
/// Fourier harmonics of the yearly cycle.
const HARMONICS: usize = 10;
/// Weeks searched for a level shift (two seasons), and the fewest weeks on either side of one.
const SHIFT_WINDOW: usize = 104;
const SHIFT_MIN_SIDE: usize = 8;
/// A level shift is taken only when two levels leave at most this share of a straight line's squared error.
const SHIFT_FIT: f64 = 0.7;

/// A series split into its seasonally adjusted part (in-sample) and the seasonal part ahead.
pub struct Decomposition {
    pub adjusted: Vec<f64>,
    pub ahead: Vec<f64>,
}

fn median(v: &mut [f64]) -> f64 {
    let m = v.len();
    if m == 0 {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    if m % 2 == 1 {
        v[m / 2]
    } else {
        (v[m / 2 - 1] + v[m / 2]) / 2.0
    }
}

/// Seasonal value at week `t` (in-sample or ahead): the median of the detrended series `d` at the same
/// time of year over the `years` nearest years that exist (only earlier years when `past_only`).
fn profile_at(d: &[f64], t: usize, years: usize, past_only: bool) -> f64 {
    let mut vals = Vec::with_capacity(years);
    let max_k = (d.len() as f64 / YEAR) as usize + 2;
    for k in usize::from(past_only)..=max_k {
        let off = (k as f64 * YEAR).round() as usize;
        let before = t.checked_sub(off).and_then(|i| d.get(i));
        let after = if k == 0 || past_only {
            None
        } else {
            d.get(t + off)
        };
        for v in [before, after].into_iter().flatten() {
            if vals.len() < years {
                vals.push(*v);
            }
        }
        if vals.len() >= years {
            break;
        }
    }
    median(&mut vals)
}

/// Local-linear (tricube-weighted) smooth of `y` over `window` nearest points; works up to the ends.
pub fn loess(y: &[f64], window: usize) -> Vec<f64> {
    let n = y.len();
    if n < 3 {
        let mean = y.iter().sum::<f64>() / n.max(1) as f64;
        return vec![mean; n];
    }
    let q = window.clamp(3, n);
    (0..n)
        .map(|t| {
            let start = t.saturating_sub(q / 2).min(n - q);
            let reach = (t - start).max(start + q - 1 - t) as f64 + 1.0;
            let (mut sw, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (j, &v) in y.iter().enumerate().skip(start).take(q) {
                let x = j as f64 - t as f64;
                let w = (1.0 - (x.abs() / reach).powi(3)).powi(3);
                sw += w;
                sx += w * x;
                sy += w * v;
                sxx += w * x * x;
                sxy += w * x * v;
            }
            let den = sw * sxx - sx * sx;
            if den.abs() <= 1e-12 * (sw * sxx).abs() || den == 0.0 {
                sy / sw
            } else {
                (sy * sxx - sx * sxy) / den
            }
        })
        .collect()
}

/// Trend by alternately removing the seasonal profile and smoothing (an STL-style loop).
fn trend(y: &[f64], years: usize) -> Vec<f64> {
    let mut tr = loess(y, 2 * 52 + 1);
    for _ in 0..2 {
        let d: Vec<f64> = y.iter().zip(&tr).map(|(a, b)| a - b).collect();
        let adj: Vec<f64> = (0..y.len())
            .map(|t| y[t] - profile_at(&d, t, years, false))
            .collect();
        tr = loess(&adj, TREND_WINDOW);
    }
    tr
}

/// Robust seasonal decomposition: each week's seasonal value is the median detrended value at the same time
/// of year over `PROFILE_YEARS` years, so one odd year or a shifted holiday does not dominate it.
pub fn profile_decompose(y: &[f64], horizon: usize) -> Decomposition {
    let tr = trend(y, PROFILE_YEARS);
    let d: Vec<f64> = y.iter().zip(&tr).map(|(a, b)| a - b).collect();
    let n = y.len();
    Decomposition {
        adjusted: (0..n)
            .map(|t| y[t] - profile_at(&d, t, PROFILE_YEARS, false))
            .collect(),
        ahead: (0..horizon)
            .map(|h| profile_at(&d, n + h, PROFILE_YEARS, true))
            .collect(),
    }
}

/// Least-squares straight line through `y` against its index: the mean (the line's value at the middle index)
/// and the slope per step; a flat line through fewer than two points.
pub fn line(y: &[f64]) -> (f64, f64) {
    let n = y.len();
    let tm = (n as f64 - 1.0) / 2.0;
    let mean = y.iter().sum::<f64>() / n.max(1) as f64;
    let (sxy, sxx) = y.iter().enumerate().fold((0.0, 0.0), |(a, b), (t, v)| {
        let dx = t as f64 - tm;
        (a + dx * (v - mean), b + dx * dx)
    });
    (mean, if sxx > 0.0 { sxy / sxx } else { 0.0 })
}

/// Years, and weeks either side, that must all have been zero for week `t` to be off season.
const OFF_YEARS: usize = 2;
const OFF_REACH: usize = 1;

/// True when week `t` (in-sample or ahead) falls where `y` was zero at the same time of year, a week either
/// side, in each of the last [`OFF_YEARS`] years before the end of `y`: an off season (storage intake outside
/// its window, spring clothes in winter) stays at zero rather than being smoothed into.
pub fn off_season(y: &[f64], t: usize) -> bool {
    let n = y.len();
    let mut years = 0;
    let mut k = 1;
    while years < OFF_YEARS {
        let off = (k as f64 * YEAR).round() as usize;
        k += 1;
        let Some(centre) = t.checked_sub(off) else {
            return false;
        };
        if centre + OFF_REACH >= n {
            continue;
        }
        let Some(first) = centre.checked_sub(OFF_REACH) else {
            return false;
        };
        if y[first..=centre + OFF_REACH].iter().any(|v| *v != 0.0) {
            return false;
        }
        years += 1;
    }
    true
}

/// A step in the level of a seasonally adjusted series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelShift {
    /// Index of the first week at the new level.
    pub at: usize,
    /// New level minus old.
    pub jump: f64,
}

impl LevelShift {
    /// `y` with the weeks before the shift moved to the level after it.
    pub fn taken_out(&self, y: &[f64]) -> Vec<f64> {
        y.iter()
            .enumerate()
            .map(|(t, v)| if t < self.at { v + self.jump } else { *v })
            .collect()
    }
}

/// The one level shift that best explains the last [`SHIFT_WINDOW`] weeks of `adjusted`, if two levels fit
/// them much better than a straight line does (a steady trend is not a shift).
pub fn level_shift(adjusted: &[f64]) -> Option<LevelShift> {
    let n = adjusted.len();
    let w = n.min(SHIFT_WINDOW);
    if w < 2 * SHIFT_MIN_SIDE {
        return None;
    }
    let x = &adjusted[n - w..];
    let tm = (w as f64 - 1.0) / 2.0;
    let (xm, slope) = line(x);
    let straight: f64 = x
        .iter()
        .enumerate()
        .map(|(t, v)| (v - xm - slope * (t as f64 - tm)).powi(2))
        .sum();
    let (sum, sum_sq) = x.iter().fold((0.0, 0.0), |(a, b), v| (a + v, b + v * v));
    let (mut before, mut before_sq) = (0.0, 0.0);
    let mut best: Option<(f64, LevelShift)> = None;
    for (k, v) in x.iter().enumerate().take(w - SHIFT_MIN_SIDE) {
        before += v;
        before_sq += v * v;
        let at = k + 1;
        if at < SHIFT_MIN_SIDE {
            continue;
        }
        let (n1, n2) = (at as f64, (w - at) as f64);
        let after = sum - before;
        let sse = (before_sq - before * before / n1) + (sum_sq - before_sq - after * after / n2);
        if best.is_none_or(|(b, _)| sse < b) {
            let jump = after / n2 - before / n1;
            best = Some((
                sse,
                LevelShift {
                    at: n - w + at,
                    jump,
                },
            ));
        }
    }
    best.filter(|(sse, s)| *sse < SHIFT_FIT * straight && s.jump.is_finite())
        .map(|(_, s)| s)
}

/// Smooth yearly seasonality: least-squares Fourier terms (period 365.25/7) fitted to the detrended
/// last few years.
pub fn fourier_decompose(y: &[f64], horizon: usize) -> Decomposition {
    let n = y.len();
    let tr = trend(y, PROFILE_YEARS);
    let start = n.saturating_sub((PROFILE_YEARS as f64 * YEAR) as usize);
    let k = HARMONICS.min((n - start) / 4);
    let row = |t: usize| -> Vec<f64> {
        (1..=k)
            .flat_map(|j| {
                let w = 2.0 * std::f64::consts::PI * j as f64 * t as f64 / YEAR;
                [w.sin(), w.cos()]
            })
            .collect()
    };
    let p = 2 * k;
    let mut ata = vec![vec![0.0; p]; p];
    let mut atb = vec![0.0; p];
    for t in start..n {
        let r = row(t);
        let v = y[t] - tr[t];
        for i in 0..p {
            atb[i] += r[i] * v;
            for j in 0..p {
                ata[i][j] += r[i] * r[j];
            }
        }
    }
    let beta = solve(ata, atb).unwrap_or_else(|| vec![0.0; p]);
    let season = |t: usize| row(t).iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>();
    Decomposition {
        adjusted: (0..n).map(|t| y[t] - season(t)).collect(),
        ahead: (0..horizon).map(|h| season(n + h)).collect(),
    }
}

/// Solves the symmetric system `a x = b` by Gaussian elimination with a tiny ridge; `None` if singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let p = b.len();
    for (i, row) in a.iter_mut().enumerate() {
        row[i] += 1e-8 * (1.0 + row[i].abs());
    }
    for c in 0..p {
        let piv = (c..p).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[piv][c].abs() < 1e-12 {
            return None;
        }
        a.swap(c, piv);
        b.swap(c, piv);
        for r in c + 1..p {
            let f = a[r][c] / a[c][c];
            let (upper, lower) = a.split_at_mut(r);
            for (x, pivot) in lower[0][c..].iter_mut().zip(&upper[c][c..]) {
                *x -= f * pivot;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; p];
    for c in (0..p).rev() {
        let s: f64 = (c + 1..p).map(|j| a[c][j] * x[j]).sum();
        x[c] = (b[c] - s) / a[c][c];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yearly(t: usize) -> f64 {
        10.0 * (2.0 * std::f64::consts::PI * t as f64 / YEAR).sin()
    }

    #[test]
    fn profile_recovers_a_yearly_pattern_on_a_trend() {
        let y: Vec<f64> = (0..400)
            .map(|t| 100.0 + 0.1 * t as f64 + yearly(t))
            .collect();
        let d = profile_decompose(&y, 52);
        for h in 0..52 {
            assert!((d.ahead[h] - yearly(400 + h)).abs() < 1.5, "h={h}");
        }
    }

    #[test]
    fn profile_ignores_one_odd_year() {
        let mut y: Vec<f64> = (0..400).map(|t| 50.0 + yearly(t)).collect();
        for v in &mut y[200..252] {
            *v += 30.0;
        }
        let d = profile_decompose(&y, 26);
        for h in 0..26 {
            assert!((d.ahead[h] - yearly(400 + h)).abs() < 2.0, "h={h}");
        }
    }

    #[test]
    fn fourier_recovers_a_yearly_pattern() {
        let y: Vec<f64> = (0..400).map(|t| 50.0 + yearly(t)).collect();
        let d = fourier_decompose(&y, 26);
        for h in 0..26 {
            assert!((d.ahead[h] - yearly(400 + h)).abs() < 0.5, "h={h}");
        }
    }

    #[test]
    fn a_level_shift_is_found_and_a_trend_is_not() {
        // Deterministic noise: a fixed pseudo-random sequence in [-1, 1].
        let noise = |t: usize| ((t * 7919 % 101) as f64 / 50.0) - 1.0;
        let stepped: Vec<f64> = (0..300)
            .map(|t| 10.0 + if t >= 240 { 6.0 } else { 0.0 } + noise(t))
            .collect();
        let s = level_shift(&stepped).expect("a step of six against noise of one");
        assert_eq!(s.at, 240);
        assert!((s.jump - 6.0).abs() < 0.6, "{s:?}");
        let trend: Vec<f64> = (0..300).map(|t| 0.1 * t as f64 + noise(t)).collect();
        assert_eq!(level_shift(&trend), None);
        let flat: Vec<f64> = (0..300).map(noise).collect();
        assert_eq!(level_shift(&flat), None);
        assert_eq!(level_shift(&[1.0; 10]), None);
    }

    #[test]
    fn an_off_season_is_zero_at_the_same_time_of_year_in_each_of_the_last_two_years() {
        // Zero from week 20 to week 39 of every year, busy otherwise.
        let y: Vec<f64> = (0..209)
            .map(|t| {
                let week = (t as f64 % YEAR) as usize;
                if (20..40).contains(&week) {
                    0.0
                } else {
                    50.0
                }
            })
            .collect();
        assert!(off_season(&y, 209 + 30 - 9));
        assert!(!off_season(&y, 209 + 5));
        // The first week of the off season had a busy neighbour a year before: not off.
        assert!(!off_season(&y, 209 + 20 - 9));
        // A single zero week is not a season; too short a history never is.
        let mut one = vec![5.0; 209];
        one[209 - 52] = 0.0;
        assert!(!off_season(&one, 209));
        assert!(!off_season(&[0.0; 60], 60));
    }

    #[test]
    fn loess_keeps_a_line_and_survives_tiny_input() {
        let y: Vec<f64> = (0..30).map(|t| 3.0 * t as f64).collect();
        let s = loess(&y, 9);
        assert!(y.iter().zip(&s).all(|(a, b)| (a - b).abs() < 1e-6));
        assert_eq!(loess(&[2.0], 9), vec![2.0]);
        assert!(loess(&[], 9).is_empty());
    }
}
