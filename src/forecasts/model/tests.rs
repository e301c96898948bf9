//! Unit tests for the candidates, model selection and prediction intervals.

use super::*;

/// A smooth yearly shape sampled weekly (period 365.25/7 weeks), as real weekly data has.
fn yearly(t: usize) -> f64 {
    let w = 2.0 * std::f64::consts::PI * t as f64 / seasonal::YEAR;
    100.0 + 15.0 * w.sin() + 5.0 * (2.0 * w).cos()
}

/// Deterministic pseudo-noise in [-1, 1].
fn noise(t: usize) -> f64 {
    let x = (t as u64)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((x >> 33) as f64 / (1u64 << 31) as f64) - 1.0
}

fn assert_sane(f: &Forecast, horizon: usize) {
    for v in [&f.mean, &f.lo80, &f.hi80, &f.lo95, &f.hi95] {
        assert_eq!(v.len(), horizon, "{}", f.model);
        assert!(
            v.iter().all(|x| x.is_finite() && *x >= 0.0),
            "{}: {v:?}",
            f.model
        );
    }
    for h in 0..horizon {
        assert!(
            f.lo95[h] <= f.lo80[h] && f.lo80[h] <= f.mean[h],
            "{} h={h}",
            f.model
        );
        assert!(
            f.mean[h] <= f.hi80[h] && f.hi80[h] <= f.hi95[h],
            "{} h={h}",
            f.model
        );
    }
}

#[test]
fn seasonal_naive_and_holt_winters_reproduce_an_exact_52_week_pattern() {
    let pat: Vec<f64> = (0..52)
        .map(|i| 50.0 + 10.0 * ((i * 7) % 13) as f64)
        .collect();
    let y: Vec<f64> = (0..312).map(|t| pat[t % 52]).collect();
    for c in [Candidate::SeasonalNaive, Candidate::HoltWinters] {
        let f = c.point_forecast(&y, 60);
        for (h, v) in f.iter().enumerate() {
            assert!(
                (v - pat[(312 + h) % 52]).abs() < 0.5,
                "{} h={h}: {v}",
                c.name()
            );
        }
    }
}

#[test]
fn profile_models_reproduce_a_yearly_pattern() {
    let y: Vec<f64> = (0..420).map(yearly).collect();
    for c in [
        Candidate::Theta,
        Candidate::StlEts,
        Candidate::FourierEts,
        Candidate::RelevelledNaive,
        Candidate::Combination,
    ] {
        let f = c.point_forecast(&y, 52);
        for (h, v) in f.iter().enumerate() {
            let want = yearly(420 + h);
            assert!(
                (v - want).abs() < 0.03 * want,
                "{} h={h}: {v} vs {want}",
                c.name()
            );
        }
    }
}

#[test]
fn every_model_continues_a_linear_trend_upwards() {
    let y: Vec<f64> = (0..300).map(|t| 100.0 + 2.0 * t as f64).collect();
    for c in Candidate::SEASONAL
        .into_iter()
        .chain(Candidate::NON_SEASONAL)
    {
        if matches!(
            c,
            Candidate::Naive | Candidate::RecentMean | Candidate::SeasonalNaive
        ) {
            continue;
        }
        let f = c.point_forecast(&y, 8);
        // Models fitted on logs see a slowing curve, so allow 2% either way.
        assert!((f[0] - 700.0).abs() < 14.0, "{}: {f:?}", c.name());
        assert!(f.windows(2).all(|w| w[1] > w[0]), "{}: {f:?}", c.name());
    }
    let f = Candidate::DampedHolt.point_forecast(&y, 4);
    for (h, v) in f.iter().enumerate() {
        assert!(
            (v - (698.0 + 2.0 * (h + 1) as f64)).abs() < 0.5,
            "h={h}: {v}"
        );
    }
}

#[test]
fn a_level_shift_is_followed_once_not_added_again() {
    // Demand steps up by 30% 48 weeks before the forecast origin (two years of history after it would be
    // needed before the yearly means agree again).
    let y: Vec<f64> = (0..215)
        .map(|t| yearly(t) * if t >= 115 { 1.3 } else { 1.0 } * (1.0 + 0.03 * noise(t)))
        .collect();
    let (history, actual) = y.split_at(163);
    let mae = |c: Candidate| {
        let f = c.point_forecast(history, 52);
        f.iter()
            .zip(actual)
            .map(|(f, a)| (f - a).abs())
            .sum::<f64>()
            / 52.0
    };
    let naive = mae(Candidate::SeasonalNaive);
    // Left in the history, the step reads as growth: relevelled naive adds it a second time, theta extrapolates
    // it as a trend.
    for c in [
        Candidate::RelevelledNaive,
        Candidate::Theta,
        Candidate::StlEts,
        Candidate::Combination,
    ] {
        assert!(
            mae(c) < 0.6 * naive,
            "{}: {} against {naive}",
            c.name(),
            mae(c)
        );
    }
}

#[test]
fn an_off_season_is_forecast_as_zero_by_every_seasonal_model() {
    // Spring clothes: nothing from week 22 to week 34 of the year, a seasonal pattern otherwise.
    let off = |t: usize| (22..35).contains(&((t as f64 % seasonal::YEAR) as usize));
    let y: Vec<f64> = (0..260)
        .map(|t| {
            if off(t) {
                0.0
            } else {
                yearly(t) + 5.0 * noise(t)
            }
        })
        .collect();
    for c in Candidate::SEASONAL {
        let f = c.point_forecast(&y, 52);
        for (h, v) in f.iter().enumerate() {
            // Away from the season's edges (a week either side may still see a few).
            let (t, edge) = (260 + h, off(259 + h) != off(261 + h));
            if off(t) && !edge {
                assert_eq!(*v, 0.0, "{} h={h}", c.name());
            } else if !off(t) && !edge {
                assert!(*v > 0.0, "{} h={h}", c.name());
            }
        }
    }
}

#[test]
fn intervals_widen_with_horizon() {
    let y: Vec<f64> = (0..400)
        .map(|t| yearly(t) + 0.02 * t as f64 + 4.0 * noise(t))
        .collect();
    let s = forecast_weekly(&y, 26);
    assert_sane(&s.forecast, 26);
    // A positive series gets multiplicative intervals: their width relative to the mean grows.
    let width: Vec<f64> = (0..26)
        .map(|h| (s.forecast.hi95[h] - s.forecast.lo95[h]) / s.forecast.mean[h])
        .collect();
    assert!(width.windows(2).all(|w| w[1] >= w[0] - 1e-9), "{width:?}");
    assert!(width[25] > width[0], "{width:?}");
    assert!(s.fallback_reason.is_none());
    assert_eq!(s.scores.len(), Candidate::SEASONAL.len());
    // With zeros in the history, intervals are additive and their width itself grows.
    let z: Vec<f64> = y
        .iter()
        .enumerate()
        .map(|(t, v)| if t % 50 == 0 { 0.0 } else { *v })
        .collect();
    let s = forecast_weekly(&z, 26);
    assert_sane(&s.forecast, 26);
    let width: Vec<f64> = (0..26)
        .map(|h| s.forecast.hi95[h] - s.forecast.lo95[h])
        .collect();
    assert!(width.windows(2).all(|w| w[1] >= w[0] - 1e-9), "{width:?}");
    assert!(width[25] > width[0], "{width:?}");
}

#[test]
fn model_trait_gives_intervals_too() {
    let y: Vec<f64> = (0..300).map(|t| yearly(t) + 3.0 * noise(t)).collect();
    let f = Candidate::Theta.fit_predict(&y, 30);
    assert_eq!(Model::name(&Candidate::Theta), "theta");
    assert_sane(&f, 30);
    assert!(f.hi95[29] - f.lo95[29] > 0.0);
}

#[test]
fn short_history_falls_back_and_says_so() {
    let y: Vec<f64> = (0..60).map(|t| 20.0 + noise(t)).collect();
    let s = forecast_weekly(&y, 26);
    assert!(
        s.fallback_reason
            .as_deref()
            .unwrap_or("")
            .contains("60 weeks"),
        "{:?}",
        s.fallback_reason
    );
    assert!(["naive", "recent_mean", "damped_holt"].contains(&s.chosen.as_str()));
    assert_sane(&s.forecast, 26);
    assert!(s.forecast.mean.iter().all(|v| (15.0..25.0).contains(v)));
}

#[test]
fn two_seasons_without_room_to_backtest_use_the_combination() {
    let y: Vec<f64> = (0..110).map(|t| yearly(t) + noise(t)).collect();
    let s = forecast_weekly(&y, 26);
    assert_eq!(s.chosen, "combination");
    assert!(s
        .fallback_reason
        .as_deref()
        .unwrap_or("")
        .contains("backtest"));
    assert_sane(&s.forecast, 26);
}

#[test]
fn degenerate_inputs_never_panic_or_give_nan() {
    let inputs: Vec<Vec<f64>> = vec![
        vec![],
        vec![5.0],
        vec![1.0, 2.0],
        vec![0.0; 3],
        vec![0.0; 200],
        vec![7.0; 20],
        vec![7.0; 300],
        vec![f64::NAN, 3.0, f64::INFINITY, 4.0],
        (0..300)
            .map(|t| if t % 2 == 0 { 0.0 } else { 1e6 })
            .collect(),
    ];
    for y in &inputs {
        for horizon in [0, 1, 26, 60] {
            let s = forecast_weekly(y, horizon);
            assert_sane(&s.forecast, horizon);
            assert!(s
                .scores
                .iter()
                .all(|m| m.mase.is_finite() && m.smape.is_finite()));
            for c in Candidate::SEASONAL
                .into_iter()
                .chain(Candidate::NON_SEASONAL)
            {
                let f = c.point_forecast(y, horizon);
                assert!(
                    f.len() == horizon && f.iter().all(|v| v.is_finite()),
                    "{} {y:?}",
                    c.name()
                );
            }
        }
    }
    assert_eq!(
        forecast_weekly(&[1.0; 10], usize::MAX).forecast.mean.len(),
        MAX_HORIZON
    );
    let s = forecast_weekly(&[7.0; 300], 10);
    assert!(
        s.forecast.mean.iter().all(|v| (v - 7.0).abs() < 1e-6),
        "{:?}",
        s.forecast.mean
    );
    let s = forecast_weekly(&[0.0; 200], 10);
    assert!(s.forecast.hi95.iter().all(|v| *v == 0.0));
    assert!(forecast_weekly(&[], 5).fallback_reason.is_some());
}

#[test]
fn selection_serialises() {
    let s = forecast_weekly(&[3.0, 4.0, 5.0], 2);
    let json = serde_json::to_value(&s).expect("valid test input");
    assert!(json["forecast"]["mean"].is_array());
}

#[test]
fn the_horizon_asked_does_not_change_the_forecast() {
    // Issue 12 item 6: weeks=1, 26 and 52 must give the same numbers for the same week.
    for n in [60, 150, 300, 420] {
        let y: Vec<f64> = (0..n)
            .map(|t| yearly(t) + 0.05 * t as f64 + 6.0 * noise(t))
            .collect();
        let long = forecast_weekly(&y, 104);
        for horizon in [1, 13, 26, 52, 53] {
            let s = forecast_weekly(&y, horizon);
            assert_eq!(s.chosen, long.chosen, "n={n} horizon={horizon}");
            assert_eq!(s.scores, long.scores, "n={n} horizon={horizon}");
            let f = &s.forecast;
            let g = &long.forecast;
            for h in 0..horizon {
                assert_eq!(
                    (f.mean[h], f.lo80[h], f.hi80[h], f.lo95[h], f.hi95[h]),
                    (g.mean[h], g.lo80[h], g.hi80[h], g.lo95[h], g.hi95[h]),
                    "n={n} horizon={horizon} week {h}"
                );
            }
        }
    }
}

#[test]
fn interval_quantiles_follow_the_newest_origins() {
    // Ten origins of ten weekly errors on a unit scale: one origin's errors are three times the others'.
    let errors = |loud: usize| -> Vec<Vec<f64>> {
        (0..10)
            .map(|j| vec![if j == loud { 3.0 } else { 1.0 }; 10])
            .collect()
    };
    // The newest origin (first) was loud: the weeks to come are expected loud too.
    let (z80, z95) = error_quantiles(&errors(0), 1.0, 0.0);
    assert_eq!((z80, z95), (3.0, 3.0));
    // The oldest was: a tenth of the errors, weighted least, leaves the 80% quantile at the quiet ones.
    let (z80, z95) = error_quantiles(&errors(9), 1.0, 0.0);
    assert_eq!((z80, z95), (1.0, 1.0));
}
