//! Exponential smoothing: simple, damped-trend (ETS A,Ad,N) and damped Holt–Winters (ETS A,Ad,A).

use super::optim::{nelder_mead, squash, unsquash};

const PHI_LO: f64 = 0.8;
const PHI_HI: f64 = 0.98;
const MAX_EVALS: usize = 600;

/// Simple exponential smoothing; returns (alpha, final level).
pub fn ses(y: &[f64]) -> (f64, f64) {
    let Some(&y0) = y.first() else {
        return (0.5, 0.0);
    };
    let run = |a: f64| {
        let (mut l, mut sse) = (y0, 0.0);
        for &v in &y[1..] {
            let e = v - l;
            sse += e * e;
            l += a * e;
        }
        (sse, l)
    };
    let z = nelder_mead(
        |p| run(squash(p[0], 1e-3, 0.999)).0,
        &[unsquash(0.3, 1e-3, 0.999)],
        0.5,
        200,
    );
    let a = squash(z[0], 1e-3, 0.999);
    (a, run(a).1)
}

fn damped_sum(phi: f64, h: usize) -> f64 {
    let (mut s, mut p) = (0.0, 1.0);
    for _ in 0..h {
        p *= phi;
        s += p;
    }
    s
}

/// Additive damped-trend exponential smoothing (ETS A,Ad,N) fitted by least squares.
///
/// Returns the point forecast for `horizon` steps; with fewer than 3 points it repeats the last value.
pub fn damped_holt(y: &[f64], horizon: usize) -> Vec<f64> {
    let n = y.len();
    if n < 3 {
        return vec![y.last().copied().unwrap_or(0.0); horizon];
    }
    let k = (n - 1).min(12);
    let b0 = (y[k] - y[0]) / k as f64;
    let run = |a: f64, b: f64, phi: f64| {
        let (mut l, mut tr, mut sse) = (y[0], b0, 0.0);
        for &v in &y[1..] {
            let f = l + phi * tr;
            let e = v - f;
            sse += e * e;
            l = f + a * e;
            tr = phi * tr + b * e;
        }
        (sse, l, tr)
    };
    let params = |p: &[f64]| {
        let a = squash(p[0], 1e-3, 0.999);
        (
            a,
            a * squash(p[1], 1e-3, 0.999),
            squash(p[2], PHI_LO, PHI_HI),
        )
    };
    let x0 = [
        unsquash(0.3, 1e-3, 0.999),
        unsquash(0.1, 1e-3, 0.999),
        unsquash(0.9, PHI_LO, PHI_HI),
    ];
    let z = nelder_mead(
        |p| {
            let (a, b, phi) = params(p);
            run(a, b, phi).0
        },
        &x0,
        0.7,
        MAX_EVALS,
    );
    let (a, b, phi) = params(&z);
    let (_, l, tr) = run(a, b, phi);
    (1..=horizon).map(|h| l + damped_sum(phi, h) * tr).collect()
}

/// Additive Holt–Winters with damped trend (ETS A,Ad,A) and season length `m`, fitted by least squares.
///
/// Needs two full seasons; with less it returns `None`.
pub fn holt_winters_damped(y: &[f64], m: usize, horizon: usize) -> Option<Vec<f64>> {
    let n = y.len();
    if m < 2 || n < 2 * m {
        return None;
    }
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    let l0 = mean(&y[..m]);
    let b0 = (mean(&y[m..2 * m]) - l0) / m as f64;
    let s0: Vec<f64> = (0..m)
        .map(|i| y[i] - (l0 + (i as f64 - (m as f64 - 1.0) / 2.0) * b0))
        .collect();
    let l_start = l0 + (m as f64 - 1.0) / 2.0 * b0;
    let run = |a: f64, b: f64, g: f64, phi: f64| {
        let (mut l, mut tr, mut s, mut sse) = (l_start, b0, s0.clone(), 0.0);
        for (t, &v) in y.iter().enumerate().skip(m) {
            let i = t % m;
            let f = l + phi * tr + s[i];
            let e = v - f;
            sse += e * e;
            l = l + phi * tr + a * e;
            tr = phi * tr + b * e;
            s[i] += g * e;
        }
        (sse, l, tr, s)
    };
    let params = |p: &[f64]| {
        let a = squash(p[0], 1e-3, 0.999);
        (
            a,
            a * squash(p[1], 1e-3, 0.999),
            (1.0 - a) * squash(p[2], 1e-4, 0.999),
            squash(p[3], PHI_LO, PHI_HI),
        )
    };
    let x0 = [
        unsquash(0.2, 1e-3, 0.999),
        unsquash(0.05, 1e-3, 0.999),
        unsquash(0.05, 1e-4, 0.999),
        unsquash(0.9, PHI_LO, PHI_HI),
    ];
    let z = nelder_mead(
        |p| {
            let (a, b, g, phi) = params(p);
            run(a, b, g, phi).0
        },
        &x0,
        0.7,
        MAX_EVALS,
    );
    let (a, b, g, phi) = params(&z);
    let (_, l, tr, s) = run(a, b, g, phi);
    Some(
        (1..=horizon)
            .map(|h| l + damped_sum(phi, h) * tr + s[(n + h - 1) % m])
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damped_holt_continues_a_linear_trend_at_first() {
        let y: Vec<f64> = (0..100).map(|t| 10.0 + 2.0 * t as f64).collect();
        let f = damped_holt(&y, 5);
        assert!((f[0] - 210.0).abs() < 1.0, "{f:?}");
        assert!(f.windows(2).all(|w| w[1] > w[0]));
    }

    #[test]
    fn holt_winters_reproduces_a_pure_season() {
        let pat: Vec<f64> = (0..52)
            .map(|i| 100.0 + 20.0 * (i as f64 * 0.4).sin())
            .collect();
        let y: Vec<f64> = (0..260).map(|t| pat[t % 52]).collect();
        let f = holt_winters_damped(&y, 52, 52).expect("test data");
        for (h, v) in f.iter().enumerate() {
            assert!((v - pat[(260 + h) % 52]).abs() < 0.5, "h={h} {v}");
        }
        assert!(holt_winters_damped(&y[..100], 52, 4).is_none());
    }

    #[test]
    fn ses_tracks_a_level() {
        let (_, l) = ses(&[5.0; 20]);
        assert!((l - 5.0).abs() < 1e-9);
        assert_eq!(ses(&[]).1, 0.0);
    }
}
