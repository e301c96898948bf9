//! A small Nelder–Mead minimiser for fitting smoothing parameters.

/// Minimises `f` from `x0` with a simplex of size `step`; returns the best point found.
pub fn nelder_mead(f: impl Fn(&[f64]) -> f64, x0: &[f64], step: f64, max_evals: usize) -> Vec<f64> {
    let d = x0.len();
    if d == 0 {
        return Vec::new();
    }
    let eval = |x: &[f64]| {
        let v = f(x);
        if v.is_finite() {
            v
        } else {
            f64::MAX
        }
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = (0..=d)
        .map(|i| {
            let mut x = x0.to_vec();
            if i > 0 {
                x[i - 1] += step;
            }
            let v = eval(&x);
            (x, v)
        })
        .collect();
    let mut evals = d + 1;
    while evals < max_evals {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[d].1);
        if (worst - best).abs() <= 1e-10 * (best.abs() + 1e-12) {
            break;
        }
        let centroid: Vec<f64> = (0..d)
            .map(|j| simplex[..d].iter().map(|p| p.0[j]).sum::<f64>() / d as f64)
            .collect();
        let along = |t: f64| -> Vec<f64> {
            centroid
                .iter()
                .zip(&simplex[d].0)
                .map(|(c, w)| c + t * (c - w))
                .collect()
        };
        let xr = along(1.0);
        let fr = eval(&xr);
        evals += 1;
        if fr < simplex[0].1 {
            let xe = along(2.0);
            let fe = eval(&xe);
            evals += 1;
            simplex[d] = if fe < fr { (xe, fe) } else { (xr, fr) };
        } else if fr < simplex[d - 1].1 {
            simplex[d] = (xr, fr);
        } else {
            let xc = if fr < worst { along(0.5) } else { along(-0.5) };
            let fc = eval(&xc);
            evals += 1;
            if fc < worst.min(fr) {
                simplex[d] = (xc, fc);
            } else {
                let b = simplex[0].0.clone();
                for p in simplex.iter_mut().skip(1) {
                    for (x, bx) in p.0.iter_mut().zip(&b) {
                        *x = bx + 0.5 * (*x - bx);
                    }
                    p.1 = eval(&p.0);
                }
                evals += d;
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex.swap_remove(0).0
}

/// Maps an unbounded value into `(lo, hi)`, so the optimiser can search freely.
pub fn squash(z: f64, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) / (1.0 + (-z).exp())
}

/// Inverse of [`squash`].
pub fn unsquash(x: f64, lo: f64, hi: f64) -> f64 {
    let p = ((x - lo) / (hi - lo)).clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_a_bowl() {
        let x = nelder_mead(
            |p| (p[0] - 1.0).powi(2) + (p[1] + 2.0).powi(2),
            &[0.0, 0.0],
            0.5,
            2000,
        );
        assert!((x[0] - 1.0).abs() < 1e-3 && (x[1] + 2.0).abs() < 1e-3);
    }
}
