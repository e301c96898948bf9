//! Tests of the household model: wardrobes, visits, churn, ownership and the planned future.

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).expect("test input")
}

fn plans(n: usize, years: u32) -> Vec<CustomerPlan> {
    (0..n)
        .map(|i| plan_customer(&mut customer_rng(42, i), today(), years))
        .collect()
}

#[test]
fn garment_mix_is_sane() {
    let plans = plans(2000, 2);
    let (mut total, mut special) = (0, 0);
    for p in &plans {
        let first = p
            .garments
            .iter()
            .filter(|g| g.owned_from == p.start)
            .count();
        assert!((8..=40).contains(&first), "{first} garments at first");
        assert!(
            p.garments.len() <= first * 2,
            "at most one replacement each"
        );
        assert!((1..=4).contains(&p.members.len()));
        for g in &p.garments {
            let f = &g.fields;
            assert!(
                p.members.contains(&f.category),
                "garment of a household member"
            );
            assert!(g.price_cents > 0);
            match (f.kind, f.material) {
                (K::DownJacket, m) => assert_eq!((m, f.season_class), (Some(M::Down), Winter)),
                (K::Coat, _) => assert_eq!(f.season_class, Winter),
                (_, Some(M::Fur)) => assert_eq!(f.season_class, Winter),
                (K::Dress, Some(M::Silk)) => assert_eq!(f.season_class, Summer),
                _ => {}
            }
            if matches!(f.material, Some(M::Leather | M::Suede | M::Fur)) {
                assert_eq!(g.service, Service::LeatherCare);
                assert!((20_000..=40_000).contains(&g.price_cents));
            }
            if matches!(f.kind, K::Dress | K::Skirt | K::Blouse) {
                assert_ne!(f.category, Men);
            }
            if f.kind == K::Tie {
                assert_eq!(f.category, Men);
            }
            total += 1;
            special += usize::from(f.special_size);
        }
    }
    let share = special as f64 / total as f64;
    let with_any = plans
        .iter()
        .filter(|p| p.garments.iter().any(|g| g.fields.special_size))
        .count();
    assert!(
        with_any < 2000 * 17 / 100,
        "{with_any} customers own special sizes"
    );
    assert!((0.08..0.16).contains(&share), "special sizes {share}");
    let specials = plans
        .iter()
        .filter(|p| {
            p.garments.iter().filter(|g| g.fields.special_size).count() * 2 > p.garments.len()
        })
        .count();
    assert!(
        (80..=220).contains(&specials),
        "{specials} special-size customers of 2000"
    );
}

#[test]
fn pickups_stay_in_range_and_reference_own_garments() {
    let from =
        (today() - days(2 * 365)).and_time(NaiveTime::MIN).and_utc() - chrono::Duration::hours(8);
    let to = end_instant(today());
    for p in plans(500, 2) {
        let own: Vec<Uuid> = p.garments.iter().map(|g| g.garment_id).collect();
        let mut last = None;
        for pk in &p.pickups {
            assert!(
                pk.collected_at >= from && pk.collected_at <= to,
                "{}",
                pk.collected_at
            );
            assert!(
                last.is_none_or(|l| l <= pk.collected_at),
                "pickups in order"
            );
            last = Some(pk.collected_at);
            assert!(!pk.lines.is_empty());
            let mut ids: Vec<Uuid> = pk.lines.iter().map(|l| l.garment_id).collect();
            ids.dedup();
            assert_eq!(ids.len(), pk.lines.len(), "a garment once per pickup");
            for l in &pk.lines {
                assert!(own.contains(&l.garment_id));
                assert!(l.price_cents > 0);
            }
        }
        for i in &p.interactions {
            assert!(i.occurred_at <= to);
            assert!(i.resolution.is_none() || i.kind == InteractionKind::Complaint);
        }
    }
}

#[test]
fn garments_are_collected_only_while_owned_and_the_future_is_kept_apart() {
    let plans = plans(1000, 2);
    let (mut discarded, mut garments, mut future) = (0, 0, 0);
    for p in &plans {
        let owned: std::collections::HashMap<Uuid, &GarmentPlan> =
            p.garments.iter().map(|g| (g.garment_id, g)).collect();
        for pk in p.pickups.iter().chain(&p.future) {
            let day = (pk.collected_at + chrono::Duration::hours(8)).date_naive();
            for l in &pk.lines {
                assert!(
                    owned[&l.garment_id].owned_on(day),
                    "a garment is sent only while owned"
                );
            }
        }
        assert!(p
            .pickups
            .iter()
            .all(|pk| pk.collected_at < start_instant(today())));
        assert!(p
            .future
            .iter()
            .all(|pk| pk.collected_at >= start_instant(today())));
        if p.churned_on.is_some() {
            assert!(p.future.is_empty(), "a churner makes no more visits");
        }
        future += p.future.len();
        garments += p.garments.len();
        discarded += p
            .garments
            .iter()
            .filter(|g| g.discarded_on.is_some_and(|d| d < today()))
            .count();
    }
    let share = discarded as f64 / garments as f64;
    assert!((0.15..0.45).contains(&share), "discarded by today: {share}");
    assert!(future > 1000, "{future} visits planned past today");
}

#[test]
fn churners_stop_in_the_second_year() {
    let plans = plans(2000, 2);
    let churners: Vec<&CustomerPlan> = plans.iter().filter(|p| p.churned_on.is_some()).collect();
    assert!(
        (200..=400).contains(&churners.len()),
        "{} churners",
        churners.len()
    );
    for p in churners {
        let churn = p.churned_on.expect("test input");
        assert!(churn >= today() - days(365) && churn < today());
        let cut = (churn.and_time(NaiveTime::MIN) - chrono::Duration::hours(8)).and_utc();
        assert!(p.pickups.iter().all(|pk| pk.collected_at < cut));
    }
}

#[test]
fn seasonal_put_away_happens_in_spring_and_autumn() {
    let plans = plans(300, 2);
    let winter_in_spring = plans.iter().flat_map(|p| {
        p.pickups.iter().filter(move |pk| {
            let month = (pk.collected_at + chrono::Duration::hours(8)).month();
            (3..=6).contains(&month)
                && pk
                    .lines
                    .iter()
                    .filter(|l| {
                        p.garments.iter().any(|g| {
                            g.garment_id == l.garment_id && g.fields.season_class == Winter
                        })
                    })
                    .count()
                    >= 3
        })
    });
    assert!(winter_in_spring.count() > 150);
}

#[test]
fn shares_of_customers_match_the_brief() {
    let plans = plans(4000, 2);
    let share =
        |f: &dyn Fn(&CustomerPlan) -> bool| plans.iter().filter(|p| f(p)).count() as f64 / 4000.0;
    let complaints = share(&|p| {
        p.interactions
            .iter()
            .any(|i| i.kind == InteractionKind::Complaint)
    });
    assert!(
        (0.09..0.16).contains(&complaints),
        "complaints {complaints}"
    );
    // Leavers complain more (about their last visit), and theirs are resolved less often.
    let complained = |p: &CustomerPlan, resolved: bool| {
        p.interactions
            .iter()
            .any(|i| i.kind == InteractionKind::Complaint && i.resolved_at.is_some() == resolved)
    };
    let among = |left: bool, resolved: bool| {
        let group: Vec<&CustomerPlan> = plans
            .iter()
            .filter(|p| p.churned_on.is_some() == left && !p.pickups.is_empty())
            .collect();
        group.iter().filter(|p| complained(p, resolved)).count() as f64 / group.len() as f64
    };
    let (left_open, stayed_open) = (among(true, false), among(false, false));
    assert!(left_open > 3.0 * stayed_open, "{left_open} {stayed_open}");
    // A resolution comes a few days after the complaint, inside the history.
    for i in plans.iter().flat_map(|p| &p.interactions) {
        if let Some(r) = i.resolved_at {
            assert!(
                r >= i.occurred_at && r.date_naive() <= today(),
                "{r} {}",
                i.occurred_at
            );
        }
    }
    let dnc = share(&|p| p.fields.do_not_contact);
    assert!((0.015..0.05).contains(&dnc), "do not contact {dnc}");
    let labelled = share(&|p| p.door_code.is_some() && p.fields.label_consent_at.is_some());
    assert!((0.87..0.93).contains(&labelled), "labels {labelled}");
}

#[test]
fn same_seed_same_plan() {
    let a = plan_customer(&mut customer_rng(9, 3), today(), 2);
    let b = plan_customer(&mut customer_rng(9, 3), today(), 2);
    let c = plan_customer(&mut customer_rng(10, 3), today(), 2);
    assert_eq!(a.customer_id, b.customer_id);
    assert_eq!(a.pickups.len(), b.pickups.len());
    assert_eq!(
        a.garments.last().map(|g| g.garment_id),
        b.garments.last().map(|g| g.garment_id)
    );
    assert_ne!(a.customer_id, c.customer_id);
}
