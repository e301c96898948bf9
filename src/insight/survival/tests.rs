//! Unit tests for the garment cure model: known discard rates recovered, shrinkage, bad input.

use chrono::Duration;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

fn day0() -> NaiveDate {
    NaiveDate::from_ymd_opt(2022, 1, 3).expect("test date")
}

/// Garments that, after each cleaning, are discarded with probability `discard`, else come back after a
/// gap uniform on `gap` days; owners are watched for 400–1100 days.
fn simulate(
    rng: &mut StdRng,
    n: usize,
    kind: GarmentKind,
    material: Material,
    discard: f64,
    gap: std::ops::RangeInclusive<i64>,
) -> Vec<GarmentHistory> {
    (0..n)
        .map(|_| {
            let start = day0() + Duration::days(rng.gen_range(0..200));
            let end = start + Duration::days(rng.gen_range(400..1100));
            let mut cleaned_on = vec![start];
            let mut at = start;
            loop {
                if rng.gen::<f64>() < discard {
                    break;
                }
                at += Duration::days(rng.gen_range(gap.clone()));
                if at > end {
                    break;
                }
                cleaned_on.push(at);
            }
            GarmentHistory {
                kind,
                material,
                cleaned_on,
                owner_last_seen: end,
            }
        })
        .collect()
}

/// P(in use | not back after `s` days) for the simulated process: S(s) = P(gap > s) on the uniform gap.
fn truth(discard: f64, lo: i64, hi: i64, s: i64) -> f64 {
    let surv = ((hi - s) as f64 / (hi - lo + 1) as f64).clamp(0.0, 1.0);
    let kept = (1.0 - discard) * surv;
    kept / (kept + discard)
}

#[test]
fn recovers_known_discard_rates_per_kind() {
    let mut rng = StdRng::seed_from_u64(16);
    let mut data = simulate(
        &mut rng,
        3000,
        GarmentKind::Coat,
        Material::Wool,
        0.15,
        300..=420,
    );
    data.extend(simulate(
        &mut rng,
        3000,
        GarmentKind::Shirt,
        Material::Cotton,
        0.35,
        20..=90,
    ));
    let fit = WardrobeSurvival::fit(&data).expect("valid");
    assert!(fit.fallback_reason.is_none());
    for (kind, material, discard, lo, hi) in [
        (GarmentKind::Coat, Material::Wool, 0.15, 300, 420),
        (GarmentKind::Shirt, Material::Cotton, 0.35, 20, 90),
    ] {
        let c = fit.curve(kind, material);
        assert!(
            (c.p_return - (1.0 - discard)).abs() < 0.03,
            "{kind:?}: {}",
            c.p_return
        );
        for s in [0, lo - 10, (lo + hi) / 2, hi - 5, hi + 30] {
            let got = fit.p_in_use(kind, material, s as usize);
            let want = truth(discard, lo, hi, s);
            assert!((got - want).abs() < 0.06, "{kind:?} s={s}: {got} vs {want}");
        }
    }
    // A coat not back after 200 days is very likely still worn; a shirt not back after 200 days is gone.
    assert!(fit.p_in_use(GarmentKind::Coat, Material::Wool, 200) > 0.8);
    assert!(fit.p_in_use(GarmentKind::Shirt, Material::Cotton, 200) < 0.05);
}

#[test]
fn thin_groups_lean_on_their_kind_and_everyone() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut data = simulate(
        &mut rng,
        2000,
        GarmentKind::Coat,
        Material::Wool,
        0.1,
        150..=250,
    );
    // Five cashmere coats that were all thrown away after their first cleaning.
    data.extend(simulate(
        &mut rng,
        5,
        GarmentKind::Coat,
        Material::Cashmere,
        1.0,
        150..=250,
    ));
    let fit = WardrobeSurvival::fit(&data).expect("valid");
    let wool = fit.curve(GarmentKind::Coat, Material::Wool).p_return;
    let cashmere = fit.curve(GarmentKind::Coat, Material::Cashmere).p_return;
    // Own estimate 0 with 5 gaps against a prior of 40: mostly the kind's.
    assert!(cashmere > 0.7 && cashmere < wool, "{cashmere} vs {wool}");
    let expected = 40.0 / 45.0 * fit.by_kind[&GarmentKind::Coat].p_return;
    assert!(
        (cashmere - expected).abs() < 1e-9,
        "{cashmere} vs {expected}"
    );
    // A kind never seen uses all garments.
    let suit = fit.p_in_use(GarmentKind::Suit, Material::Wool, 100);
    assert!((suit - fit.overall.p_in_use(100)).abs() < 1e-12);
}

#[test]
fn the_evidence_is_the_owners_last_visit() {
    let mut rng = StdRng::seed_from_u64(5);
    let data = simulate(
        &mut rng,
        1000,
        GarmentKind::Jacket,
        Material::Denim,
        0.2,
        60..=120,
    );
    let fit = WardrobeSurvival::fit(&data).expect("valid");
    let seen = |days: i64| GarmentHistory {
        kind: GarmentKind::Jacket,
        material: Material::Denim,
        cleaned_on: vec![day0(), day0() + Duration::days(90)],
        owner_last_seen: day0() + Duration::days(90 + days),
    };
    let p0 = fit.p_in_use_of(&seen(0)).expect("valid");
    let p200 = fit.p_in_use_of(&seen(200)).expect("valid");
    // Owner not seen since: nothing learnt beyond "it comes back 4 times in 5".
    assert!((p0 - fit.curve(GarmentKind::Jacket, Material::Denim).p_return).abs() < 1e-9);
    assert!(p200 < 0.01, "{p200}");
}

#[test]
fn little_history_counts_everything_in_use_and_bad_input_names_the_field() {
    let g = GarmentHistory {
        kind: GarmentKind::Coat,
        material: Material::Wool,
        cleaned_on: vec![day0()],
        owner_last_seen: day0() + Duration::days(500),
    };
    let fit = WardrobeSurvival::fit(&[g.clone(), g.clone()]).expect("valid");
    assert!(fit.fallback_reason.is_some());
    assert_eq!(fit.p_in_use(GarmentKind::Coat, Material::Wool, 500), 1.0);
    let empty = WardrobeSurvival::fit(&[]).expect("valid");
    assert_eq!(empty.p_in_use(GarmentKind::Coat, Material::Wool, 10), 1.0);

    let none = GarmentHistory {
        cleaned_on: vec![],
        ..g.clone()
    };
    let err = WardrobeSurvival::fit(&[g.clone(), none]).expect_err("refused");
    assert_eq!((err.index, err.field), (1, "cleaned_on"));
    let early = GarmentHistory {
        owner_last_seen: day0() - Duration::days(1),
        ..g
    };
    let err = WardrobeSurvival::fit(&[early]).expect_err("refused");
    assert_eq!((err.index, err.field), (0, "owner_last_seen"));
    assert!(err.to_string().contains("owner_last_seen"), "{err}");
}

#[test]
fn probabilities_stay_in_range_and_fall_with_time() {
    let mut rng = StdRng::seed_from_u64(9);
    let data = simulate(
        &mut rng,
        500,
        GarmentKind::Dress,
        Material::Silk,
        0.3,
        10..=400,
    );
    let fit = WardrobeSurvival::fit(&data).expect("valid");
    let mut prev = 1.0;
    for d in (0..=MAX_GAP_DAYS + 10).step_by(7) {
        let p = fit.p_in_use(GarmentKind::Dress, Material::Silk, d);
        assert!(
            (0.0..=1.0).contains(&p) && p <= prev + 1e-12,
            "day {d}: {p}"
        );
        prev = p;
    }
}
