//! Accuracy measures shared by model selection and the backtest command.

/// Seasonal lag used for scaling errors of weekly series (one year of weeks).
pub const SEASON_LAG: usize = 52;

/// In-sample MAE of the lag-`m` naive forecast: the MASE denominator.
///
/// Falls back to lag 1 when `train` is shorter than a season and to 1.0 when the series never moves,
/// so scores stay finite for any input.
pub fn naive_scale(train: &[f64], m: usize) -> f64 {
    let mae = |lag: usize| {
        if lag == 0 || train.len() <= lag {
            return None;
        }
        let s: f64 = (lag..train.len())
            .map(|t| (train[t] - train[t - lag]).abs())
            .sum();
        let v = s / (train.len() - lag) as f64;
        (v.is_finite() && v > 0.0).then_some(v)
    };
    mae(m).or_else(|| mae(1)).unwrap_or(1.0)
}

/// Mean absolute scaled error: MAE of `forecast` against `actual`, divided by [`naive_scale`] of `train`.
pub fn mase(actual: &[f64], forecast: &[f64], train: &[f64], m: usize) -> f64 {
    mae(actual, forecast) / naive_scale(train, m)
}

/// Symmetric MAPE in percent (0–200); a step where both values are 0 counts as a perfect forecast.
pub fn smape(actual: &[f64], forecast: &[f64]) -> f64 {
    let n = actual.len().min(forecast.len());
    if n == 0 {
        return 0.0;
    }
    let s: f64 = actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| {
            let d = a.abs() + f.abs();
            if d > 0.0 {
                200.0 * (a - f).abs() / d
            } else {
                0.0
            }
        })
        .sum();
    s / n as f64
}

/// Mean absolute error over the common length (0 when empty).
pub fn mae(actual: &[f64], forecast: &[f64]) -> f64 {
    let n = actual.len().min(forecast.len());
    if n == 0 {
        return 0.0;
    }
    actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| (a - f).abs())
        .sum::<f64>()
        / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mase_is_one_for_seasonal_naive_matching_in_sample_error() {
        let train: Vec<f64> = (0..104).map(|t| t as f64).collect(); // lag-52 error is always 52
        let actual = vec![200.0; 4];
        let forecast = vec![148.0; 4];
        assert!((mase(&actual, &forecast, &train, 52) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn scores_stay_finite_on_degenerate_input() {
        assert_eq!(naive_scale(&[], 52), 1.0);
        assert_eq!(naive_scale(&[3.0; 10], 52), 1.0);
        assert_eq!(smape(&[0.0, 0.0], &[0.0, 0.0]), 0.0);
        assert_eq!(smape(&[], &[]), 0.0);
        assert!((smape(&[1.0], &[0.0]) - 200.0).abs() < 1e-12);
        assert!(mase(&[], &[], &[], 52).is_finite());
    }
}
