//! Coherent forecasts: adjust a total and its breakdowns (per class, per category, ...) so each adds up.

use super::{Forecast, Z95};

/// Mean and error variance of one series in one week.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Point forecast.
    pub mean: f64,
    /// Forecast error variance (≥ 0; 0 means "do not move this one").
    pub variance: f64,
}

/// One week reconciled: the total and, per partition, its children, all coherent.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconciled {
    /// The total.
    pub total: Estimate,
    /// Children per partition, in the order given; each partition sums to `total.mean`.
    pub partitions: Vec<Vec<Estimate>>,
}

/// Floor of a variance relative to the largest one, so a zero-variance child cannot make the system singular.
const MIN_VARIANCE: f64 = 1e-9;

/// Reconciles one week by weighted least squares (MinT with a diagonal covariance): every series moves as
/// little as its own uncertainty allows, so a precise total barely moves and noisy small series absorb the
/// difference.
///
/// `total` and any number of partitions of it (each a set of children that should add
/// up to the total). Minimises Σ (x − x̂)² / variance subject to every partition summing to the total, with
/// children ≥ 0; the returned variances are those of the projected forecasts (they never grow).
pub fn reconcile(total: Estimate, partitions: &[Vec<Estimate>]) -> Reconciled {
    // Unknowns: the total, then every child in partition order.
    let mut base = vec![total];
    for p in partitions {
        base.extend(p.iter().copied());
    }
    let scale = base
        .iter()
        .map(|e| e.variance)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
        .max(1.0);
    let var: Vec<f64> = base
        .iter()
        .map(|e| {
            if e.variance.is_finite() {
                e.variance.max(MIN_VARIANCE * scale)
            } else {
                scale
            }
        })
        .collect();
    let mean: Vec<f64> = base
        .iter()
        .map(|e| if e.mean.is_finite() { e.mean } else { 0.0 })
        .collect();
    let k = partitions.len();
    let n = base.len();
    // Constraint rows: Σ children of partition j − total = 0 (an empty partition constrains nothing).
    let mut rows = Vec::with_capacity(k);
    let mut at = 1;
    for p in partitions {
        if !p.is_empty() {
            let mut row = vec![0.0; n];
            row[0] = -1.0;
            for v in &mut row[at..at + p.len()] {
                *v = 1.0;
            }
            rows.push(row);
        }
        at += p.len();
    }
    // Children found negative are pinned at 0 and the rest solved again.
    let mut pinned = vec![false; n];
    let mut x = mean.clone();
    let mut m_inv = Vec::new();
    let mut free_var = var.clone();
    for _ in 0..=n {
        for (i, v) in free_var.iter_mut().enumerate() {
            *v = if pinned[i] { 0.0 } else { var[i] };
        }
        let start: Vec<f64> = (0..n)
            .map(|i| if pinned[i] { 0.0 } else { mean[i] })
            .collect();
        let (sol, m) = project(&start, &free_var, &rows);
        x = sol;
        m_inv = m;
        let newly: Vec<usize> = (1..n).filter(|&i| !pinned[i] && x[i] < 0.0).collect();
        if newly.is_empty() {
            break;
        }
        for i in newly {
            pinned[i] = true;
        }
    }
    // Var(x̃) = V − V Aᵀ (A V Aᵀ)⁻¹ A V, diagonal only.
    let variance: Vec<f64> = (0..n)
        .map(|i| {
            let va: Vec<f64> = rows.iter().map(|r| free_var[i] * r[i]).collect();
            let mut q = 0.0;
            for (a, va_a) in va.iter().enumerate() {
                for (b, va_b) in va.iter().enumerate() {
                    q += va_a
                        * m_inv
                            .get(a)
                            .and_then(|r: &Vec<f64>| r.get(b))
                            .copied()
                            .unwrap_or(0.0)
                        * va_b;
                }
            }
            (free_var[i] - q).max(0.0)
        })
        .collect();
    let est = |i: usize| Estimate {
        mean: x[i].max(0.0),
        variance: variance[i],
    };
    let mut out = Reconciled {
        total: est(0),
        partitions: Vec::with_capacity(k),
    };
    let mut at = 1;
    for p in partitions {
        out.partitions.push((at..at + p.len()).map(est).collect());
        at += p.len();
    }
    out
}

/// x̂ − V Aᵀ (A V Aᵀ)⁻¹ A x̂, and (A V Aᵀ)⁻¹ (empty rows of a singular system are left unconstrained).
fn project(mean: &[f64], var: &[f64], rows: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let k = rows.len();
    let mut m = vec![vec![0.0; k]; k];
    for a in 0..k {
        for b in 0..k {
            m[a][b] = (0..mean.len())
                .map(|i| rows[a][i] * var[i] * rows[b][i])
                .sum();
        }
    }
    let m_inv = invert(m);
    let resid: Vec<f64> = rows
        .iter()
        .map(|r| r.iter().zip(mean).map(|(a, x)| a * x).sum())
        .collect();
    let lambda: Vec<f64> = (0..k)
        .map(|a| (0..k).map(|b| m_inv[a][b] * resid[b]).sum())
        .collect();
    let x = (0..mean.len())
        .map(|i| mean[i] - var[i] * (0..k).map(|a| rows[a][i] * lambda[a]).sum::<f64>())
        .collect();
    (x, m_inv)
}

/// Inverse of a small symmetric positive semi-definite matrix by Gauss–Jordan; directions with no
/// variance get 0 (a pseudo-inverse in the cases that occur here).
fn invert(mut m: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let k = m.len();
    let mut inv: Vec<Vec<f64>> = (0..k)
        .map(|i| (0..k).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    let tiny = 1e-12
        * (0..k)
            .map(|i| m[i][i].abs())
            .fold(0.0, f64::max)
            .max(1e-300);
    let mut usable = vec![true; k];
    for c in 0..k {
        let Some(p) = (c..k).max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs())) else {
            continue;
        };
        if m[p][c].abs() <= tiny {
            usable[c] = false;
            continue;
        }
        m.swap(c, p);
        inv.swap(c, p);
        let d = m[c][c];
        for j in 0..k {
            m[c][j] /= d;
            inv[c][j] /= d;
        }
        for r in 0..k {
            if r != c {
                let f = m[r][c];
                if f != 0.0 {
                    for j in 0..k {
                        m[r][j] -= f * m[c][j];
                        inv[r][j] -= f * inv[c][j];
                    }
                }
            }
        }
    }
    for (c, ok) in usable.iter().enumerate() {
        if !ok {
            for row in inv.iter_mut() {
                row[c] = 0.0;
            }
            inv[c].iter_mut().for_each(|v| *v = 0.0);
        }
    }
    inv
}

/// The week's estimate of a forecast: its mean and a variance read from the 95% interval's width.
fn estimate(f: &Forecast, h: usize) -> Estimate {
    let sd = (f.hi95[h] - f.lo95[h]).max(0.0) / (2.0 * Z95);
    Estimate {
        mean: f.mean[h],
        variance: sd * sd,
    }
}

/// Moves a forecast's week `h` to a reconciled estimate: the mean is replaced and both intervals shift with it,
/// their widths scaled by the change in standard deviation (lower bounds stay ≥ 0).
fn apply(f: &mut Forecast, h: usize, before: Estimate, after: Estimate) {
    let ratio = if before.variance > 0.0 {
        (after.variance / before.variance).sqrt()
    } else {
        1.0
    };
    let m = after.mean;
    let old = f.mean[h];
    f.mean[h] = m;
    f.lo80[h] = (m - (old - f.lo80[h]) * ratio).max(0.0);
    f.hi80[h] = m + (f.hi80[h] - old) * ratio;
    f.lo95[h] = (m - (old - f.lo95[h]) * ratio).max(0.0);
    f.hi95[h] = m + (f.hi95[h] - old) * ratio;
}

/// Reconciles whole forecasts week by week: `total` and each partition's children (e.g. per season class and
/// per category) come back coherent, with intervals moved along. Weeks beyond the shortest forecast are
/// left as they are.
pub fn reconcile_forecasts(total: &mut Forecast, partitions: &mut [Vec<&mut Forecast>]) {
    let weeks = partitions
        .iter()
        .flat_map(|p| p.iter().map(|f| f.mean.len()))
        .fold(total.mean.len(), usize::min);
    for h in 0..weeks {
        let t = estimate(total, h);
        let parts: Vec<Vec<Estimate>> = partitions
            .iter()
            .map(|p| p.iter().map(|f| estimate(f, h)).collect())
            .collect();
        let r = reconcile(t, &parts);
        apply(total, h, t, r.total);
        for (p, (before, after)) in partitions.iter_mut().zip(parts.iter().zip(&r.partitions)) {
            for (f, (b, a)) in p.iter_mut().zip(before.iter().zip(after)) {
                apply(f, h, *b, *a);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(mean: f64, variance: f64) -> Estimate {
        Estimate { mean, variance }
    }

    fn sum(p: &[Estimate]) -> f64 {
        p.iter().map(|e| e.mean).sum()
    }

    #[test]
    fn two_partitions_add_up_to_the_total() {
        let total = e(16_170.0, 400.0 * 400.0);
        let classes = vec![
            e(9_000.0, 300.0 * 300.0),
            e(5_000.0, 200.0 * 200.0),
            e(2_427.0, 100.0 * 100.0),
        ];
        let categories = vec![e(8_000.0, 250.0 * 250.0), e(8_168.0, 250.0 * 250.0)];
        let r = reconcile(total, &[classes, categories]);
        for p in &r.partitions {
            assert!((sum(p) - r.total.mean).abs() < 1e-6, "{r:?}");
        }
        // The total lies between its own forecast and the children's sums, and no variance grows.
        assert!(
            r.total.mean > 16_168.0 - 1e-6 && r.total.mean < 16_427.0,
            "{r:?}"
        );
        assert!(r.total.variance < 400.0 * 400.0);
    }

    #[test]
    fn precise_series_move_least() {
        // Exact total: the children take the whole difference, in proportion to their variances.
        let r = reconcile(e(100.0, 0.0), &[vec![e(50.0, 1.0), e(30.0, 3.0)]]);
        assert!((r.total.mean - 100.0).abs() < 1e-6, "{r:?}");
        let c = &r.partitions[0];
        assert!(
            (c[0].mean - 55.0).abs() < 1e-6 && (c[1].mean - 45.0).abs() < 1e-6,
            "{c:?}"
        );
        // Equal variances and one partition: ordinary least squares splits the gap evenly over the three.
        let r = reconcile(e(90.0, 1.0), &[vec![e(50.0, 1.0), e(49.0, 1.0)]]);
        assert!(
            (r.total.mean - 93.0).abs() < 1e-9 && (r.partitions[0][0].mean - 47.0).abs() < 1e-9
        );
    }

    #[test]
    fn children_stay_non_negative_and_coherent() {
        let r = reconcile(
            e(10.0, 1.0),
            &[vec![e(30.0, 1.0), e(0.5, 100.0), e(0.0, 0.0)]],
        );
        let c = &r.partitions[0];
        assert!(c.iter().all(|x| x.mean >= 0.0), "{c:?}");
        assert!((sum(c) - r.total.mean).abs() < 1e-6, "{r:?}");
        // Nothing to reconcile, or junk values: still finite and coherent.
        let r = reconcile(e(f64::NAN, f64::INFINITY), &[vec![e(1.0, 1.0)], vec![]]);
        assert!(
            r.total.mean.is_finite() && r.partitions[0][0].mean.is_finite(),
            "{r:?}"
        );
        assert_eq!(reconcile(e(5.0, 1.0), &[]).total.mean, 5.0);
    }

    #[test]
    fn whole_forecasts_are_reconciled_week_by_week() {
        let make = |mean: &[f64], half: f64| Forecast {
            model: "m".into(),
            mean: mean.to_vec(),
            lo80: mean.iter().map(|m| m - half * 0.65).collect(),
            hi80: mean.iter().map(|m| m + half * 0.65).collect(),
            lo95: mean.iter().map(|m| m - half).collect(),
            hi95: mean.iter().map(|m| m + half).collect(),
        };
        let mut total = make(&[100.0, 110.0], 10.0);
        let mut a = make(&[60.0, 70.0], 20.0);
        let mut b = make(&[50.0, 45.0], 20.0);
        let mut c = make(&[95.0, 100.0], 5.0);
        reconcile_forecasts(&mut total, &mut [vec![&mut a, &mut b], vec![&mut c]]);
        for h in 0..2 {
            assert!((a.mean[h] + b.mean[h] - total.mean[h]).abs() < 1e-9);
            assert!((c.mean[h] - total.mean[h]).abs() < 1e-9);
            for f in [&total, &a, &b, &c] {
                assert!(f.lo95[h] <= f.lo80[h] && f.lo80[h] <= f.mean[h] && f.mean[h] <= f.hi80[h]);
                assert!(f.hi80[h] <= f.hi95[h]);
            }
        }
        // Narrow total and category: the class children moved most.
        assert!((a.mean[0] - 60.0).abs() > (total.mean[0] - 100.0).abs());
    }
}
