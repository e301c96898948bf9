//! The managers' forecast endpoints on seeded history.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use doorstep::domain::Role;
use doorstep::seed::{seed, SeedOptions};

use crate::helpers::{roles_below, TestApp};

async fn seeded(pool: sqlx::PgPool, years: u32) -> TestApp {
    let opts = SeedOptions {
        batch_size: 40,
        parallel: 2,
        ..SeedOptions::new(120, years, 5)
    };
    seed(&pool, opts).await.unwrap();
    TestApp::new(pool).await
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn intake_forecast_on_seeded_history(pool: sqlx::PgPool) {
    let app = seeded(pool, 3).await;
    let manager = app.login(Role::Manager).await;
    let f = app
        .get("/api/v1/forecasts/intake", &manager)
        .await
        .ok(StatusCode::OK);

    assert!(num(&f["history_weeks"]) >= 150.0, "{}", f["history_weeks"]);
    let total = &f["total"];
    let weeks = total["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 26);
    assert!(!total["model"].as_str().unwrap().is_empty());
    assert!(
        total["fallback_reason"].is_null(),
        "three years is enough: {}",
        total["fallback_reason"]
    );
    assert!(num(&total["backtest_mase"]) > 0.0);
    assert!(total["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["model"] == "seasonal_naive"));
    for w in weeks {
        assert!(
            num(&w["lo95"]) <= num(&w["lo80"]) && num(&w["lo80"]) <= num(&w["mean"]),
            "{w}"
        );
        assert!(
            num(&w["mean"]) <= num(&w["hi80"]) && num(&w["hi80"]) <= num(&w["hi95"]),
            "{w}"
        );
    }
    let width = |w: &Value| num(&w["hi95"]) - num(&w["lo95"]);
    assert!(
        width(&weeks[25]) >= width(&weeks[0]),
        "intervals widen with the horizon"
    );
    // The series add up: the classes' weekly means sum to about the total's.
    let classes = f["by_season_class"].as_object().unwrap();
    assert_eq!(classes.len(), 4);
    assert_eq!(f["by_category"].as_object().unwrap().len(), 3);
    let sum: f64 = classes.values().map(|c| num(&c["weeks"][0]["mean"])).sum();
    let t0 = num(&weeks[0]["mean"]);
    assert!(
        (sum - t0).abs() <= 0.35 * t0.max(10.0),
        "classes {sum} vs total {t0}"
    );
    // The next put-away window's volume.
    let next = &f["next_window"];
    assert!(next["window"]["id"].is_string(), "{next}");
    // Late in an open window the outgoing class may rightly be forecast at nothing more, so the checks hold on
    // any day: some volume in all, the outgoing class a part of it, each with its interval around the mean.
    assert!(num(&next["weeks_covered"]) >= 1.0, "{next}");
    assert!(num(&next["all_garments"]["mean"]) > 0.0, "{next}");
    let outgoing = &next["outgoing_garments"];
    assert!(num(&outgoing["mean"]) >= 0.0, "{next}");
    assert!(
        num(&outgoing["mean"]) <= num(&next["all_garments"]["mean"]),
        "{next}"
    );
    for t in [&next["all_garments"], outgoing] {
        assert!(
            num(&t["lo80"]) <= num(&t["mean"]) && num(&t["mean"]) <= num(&t["hi80"]),
            "{next}"
        );
        assert!(num(&t["hi80"]) <= num(&t["hi95"]), "{next}");
    }

    app.get("/api/v1/forecasts/intake?weeks=0", &manager)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn short_history_falls_back_and_says_so(pool: sqlx::PgPool) {
    let app = seeded(pool, 1).await;
    let manager = app.login(Role::Manager).await;
    let f = app
        .get("/api/v1/forecasts/intake?weeks=8", &manager)
        .await
        .ok(StatusCode::OK);
    let reason = f["total"]["fallback_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("seasonal models need 104"), "{f:#}");
    assert_eq!(f["total"]["weeks"].as_array().unwrap().len(), 8);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn storage_forecast_against_zone_capacity(pool: sqlx::PgPool) {
    let app = seeded(pool, 2).await;
    let manager = app.login(Role::Manager).await;
    let f = app
        .get("/api/v1/forecasts/storage", &manager)
        .await
        .ok(StatusCode::OK);
    assert_eq!(f["window"]["outgoing"], "winter", "{f:#}");
    // No storage history yet: no made-up take-up, only the candidates, and the reason.
    assert_eq!(f["method"], "none");
    assert!(f["fallback_reason"]
        .as_str()
        .unwrap()
        .contains("take-up is unknown"));
    assert!(f["expected_items"].is_null());
    assert!(num(&f["candidate_garments"]["mean"]) > 0.0);
    let zones = f["zones"].as_array().unwrap();
    assert_eq!(zones.len(), 3);
    let shares: f64 = zones.iter().map(|z| num(&z["share"])).sum();
    assert!(
        (shares - 1.0).abs() < 1e-6,
        "zone shares add up to one: {shares}"
    );

    // Store some garments cleaned in the last spring window: the take-up is measured and applied.
    let last_spring: Vec<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(
        "select distinct on (g.customer_id) g.customer_id, g.garment_id from garment g
          where g.season_class = 'winter' and g.last_cleaned_at is not null order by g.customer_id limit 5",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let spring = &f["window"]["starts_on"].as_str().unwrap()[..4];
    let last_year: i32 = spring.parse::<i32>().unwrap() - 1;
    let created = format!("{last_year}-04-15T04:00:00Z");
    let staff: uuid::Uuid = sqlx::query_scalar("select staff_id from staff limit 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    for (i, (customer, garment)) in last_spring.iter().enumerate() {
        let order = uuid::Uuid::new_v4();
        sqlx::query(
            "insert into storage_order (customer_id, order_id, receipt_no, status, term_months, insurance_rate_bp,
                                        planned_return_on, fee_cents, premium_cents, declared_cents, created_by, created_at)
             values ($1, $2, $3, 'in_storage', 6, 150, $4, 0, 0, 0, $5, $6::timestamptz)",
        )
        .bind(customer)
        .bind(order)
        .bind(format!("F-{i}"))
        .bind(chrono::NaiveDate::from_ymd_opt(last_year, 11, 1).unwrap())
        .bind(staff)
        .bind(&created)
        .execute(&app.pool)
        .await
        .unwrap();
        sqlx::query(
            "insert into storage_item (customer_id, order_id, garment_id, declared_cents, fee_cents, premium_cents, zone_id)
             values ($1, $2, $3, 0, 0, 0, 'rack-a')",
        )
        .bind(customer)
        .bind(order)
        .bind(garment)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    let f = app
        .get("/api/v1/forecasts/storage", &manager)
        .await
        .ok(StatusCode::OK);
    assert_eq!(f["method"], "take_up", "{f:#}");
    let rate = num(&f["take_up"]);
    assert!(rate > 0.0 && rate < 1.0, "{rate}");
    let expected = num(&f["expected_items"]["mean"]);
    let candidates = num(&f["candidate_garments"]["mean"]);
    assert!((expected - candidates * rate).abs() < 1e-6);
    let zone_sum: f64 = f["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| num(&z["expected_in"]["mean"]))
        .sum();
    assert!((zone_sum - expected).abs() < 1e-6 * expected.max(1.0));
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn forecasts_are_for_managers(pool: sqlx::PgPool) {
    let app = TestApp::new(pool).await;
    for uri in ["/api/v1/forecasts/intake", "/api/v1/forecasts/storage"] {
        app.assert_needs_session(Method::GET, uri).await;
        for role in roles_below(Role::Manager) {
            let token = app.login(role).await;
            app.get(uri, &token).await.problem(StatusCode::FORBIDDEN);
        }
    }
}

// Issue 12, item 6: the horizon asked for changes neither the model nor the numbers, and the breakdowns add up
// to the total; the next window is the next one to start, the open one is reported apart.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_intake_forecast_does_not_depend_on_the_horizon_and_adds_up(pool: sqlx::PgPool) {
    let app = seeded(pool, 3).await;
    let manager = app.login(Role::Manager).await;
    let mut answers = Vec::new();
    for weeks in [1, 26, 52] {
        answers.push(
            app.get(&format!("/api/v1/forecasts/intake?weeks={weeks}"), &manager)
                .await
                .ok(StatusCode::OK),
        );
    }
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
    for f in &answers[1..] {
        assert_eq!(f["total"]["model"], answers[0]["total"]["model"]);
        assert!(close(
            num(&f["total"]["weeks"][0]["mean"]),
            num(&answers[0]["total"]["weeks"][0]["mean"])
        ));
        for key in ["by_season_class", "by_category"] {
            for (k, s) in f[key].as_object().unwrap() {
                assert_eq!(s["model"], answers[0][key][k]["model"], "{key} {k}");
            }
        }
        assert!(close(
            num(&f["next_window"]["all_garments"]["mean"]),
            num(&answers[0]["next_window"]["all_garments"]["mean"])
        ));
        assert!(close(
            num(&f["next_window"]["outgoing_garments"]["mean"]),
            num(&answers[0]["next_window"]["outgoing_garments"]["mean"])
        ));
    }
    let f = &answers[2];
    let weeks = f["total"]["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 52);
    for key in ["by_season_class", "by_category"] {
        for (h, w) in weeks.iter().enumerate() {
            let sum: f64 = f[key]
                .as_object()
                .unwrap()
                .values()
                .map(|s| num(&s["weeks"][h]["mean"]))
                .sum();
            let t = num(&w["mean"]);
            assert!(
                (sum - t).abs() <= 1e-6 * t.max(1.0),
                "{key} week {h}: {sum} vs {t}"
            );
        }
    }
    // The next window starts after today; a window open today is reported apart.
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let starts: chrono::NaiveDate = f["next_window"]["window"]["starts_on"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(starts > today, "{}", f["next_window"]);
    if let Some(open) = f["open_window"].as_object() {
        let ends: chrono::NaiveDate = open["window"]["ends_on"].as_str().unwrap().parse().unwrap();
        assert!(ends >= today);
    }
}

/// The window open today is also counted from the wardrobes on record (once the reminder estimates are made):
/// its garments on record split between those expected without a call and what calls could add.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_open_window_is_also_counted_from_the_wardrobes(pool: sqlx::PgPool) {
    let app = seeded(pool, 2).await;
    let manager = app.login(Role::Manager).await;
    app.open_a_window_today(&manager).await;
    // Made in the background after the first call, then served.
    let open = app.open_window_counted(&manager).await;
    let w = &open["from_wardrobes"]["figures"];
    assert!(open["from_wardrobes"]["fitted_at"].is_string(), "{open}");
    let window = &open["window"];
    let starts: chrono::NaiveDate = window["starts_on"].as_str().unwrap().parse().unwrap();
    let start = app.state.settings.clock.start_of(starts);
    // On record: the outgoing garments cleaned in the two years before the window and not since, not stored.
    let on_record: i64 = sqlx::query_scalar(
        "select count(*) from garment g
          where g.season_class = $1
            and g.last_cleaned_at >= $2 - interval '730 days' and g.last_cleaned_at < $2
            and not exists (select 1 from storage_item si where si.garment_id = g.garment_id
                              and si.released_at is null)",
    )
    .bind(window["outgoing"].as_str().unwrap())
    .bind(start)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(on_record > 0);
    assert_eq!(num(&w["on_record"]) as i64, on_record, "{open}");
    let (unprompted, calls) = (num(&w["expected_unprompted"]), num(&w["call_potential"]));
    assert!(unprompted >= 0.0 && calls > 0.0, "{open}");
    // Each garment is counted at most once: worn x active is a probability, split between the two.
    assert!(unprompted + calls <= on_record as f64 + 1.0, "{open}");
    assert!(
        num(&w["customers"]) >= 1.0 && num(&w["customers"]) <= 120.0,
        "{open}"
    );
    assert!(num(&w["call_potential_cents"]) > 0.0, "{open}");
    // Without enough past put-aways nobody is expected to send unprompted, and the answer says why.
    let assumed = &open["from_wardrobes"]["timing_assumed"];
    assert!(assumed.is_null() || assumed.is_string(), "{open}");
    if assumed.is_string() {
        assert_eq!(unprompted, 0.0, "{open}");
    }
}

/// The fit is kept while no closed week changes: a visit made now leaves it, a back-dated one refits it.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_intake_fit_is_kept_until_a_closed_week_changes(pool: sqlx::PgPool) {
    let app = seeded(pool, 2).await;
    let manager = app.login(Role::Manager).await;
    let worker = app.login(Role::Pickup).await;
    let version = || async { app.count("select forecast_input_version()").await };
    let first = app
        .get("/api/v1/forecasts/intake", &manager)
        .await
        .ok(StatusCode::OK);
    let before = version().await;
    let (customer_id, garment_id): (uuid::Uuid, uuid::Uuid) =
        sqlx::query_as("select customer_id, garment_id from garment order by garment_id limit 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let visit = |at: chrono::DateTime<chrono::Utc>, key: &'static str| {
        let body = serde_json::json!({
            "customer_id": customer_id,
            "collected_at": at,
            "lines": [{"garment_id": garment_id, "service": "dry_clean", "price_cents": 2000}],
        });
        let (app, worker) = (&app, worker.clone());
        async move {
            app.post_pickup(&worker, key, &body)
                .await
                .ok(StatusCode::CREATED)
        }
    };
    // In the first 14 hours of a UTC week a visit made now may lie in the company's closed week, and the
    // trigger counts it as a change (migration 20261202001500); the kept fit is checked outside that window.
    let near_week_start: bool =
        sqlx::query_scalar("select now() < date_trunc('week', now()) + interval '14 hours'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    visit(chrono::Utc::now(), "live-visit").await;
    if near_week_start {
        assert_eq!(
            version().await,
            before + 1,
            "counted as a possible closed-week change"
        );
        return;
    }
    assert_eq!(
        version().await,
        before,
        "a visit made now does not touch a closed week"
    );
    let again = app
        .get("/api/v1/forecasts/intake", &manager)
        .await
        .ok(StatusCode::OK);
    // The fit is what is kept; the open window's count from the wardrobes is added when served, from the list
    // estimates, and may arrive between the two answers.
    let fit = |f: &Value| {
        let mut f = f.clone();
        if let Some(open) = f["open_window"].as_object_mut() {
            open.remove("from_wardrobes");
        }
        f
    };
    assert_eq!(fit(&again), fit(&first), "the kept fit is served");

    visit(
        chrono::Utc::now() - chrono::Duration::days(30),
        "back-dated-visit",
    )
    .await;
    assert!(
        version().await > before,
        "a back-dated visit changes a closed week"
    );
    let refit = app
        .get("/api/v1/forecasts/intake", &manager)
        .await
        .ok(StatusCode::OK);
    let weeks_total = |f: &Value| -> f64 {
        f["history"]["total"]
            .as_array()
            .unwrap()
            .iter()
            .map(num)
            .sum()
    };
    assert_eq!(
        weeks_total(&refit),
        weeks_total(&first) + 1.0,
        "the refit counts the back-dated garment"
    );
}

/// The exact weekly intake, straight from the pickup lines: what the kept series must always equal.
pub async fn exact_weekly_intake(
    pool: &sqlx::PgPool,
) -> Vec<(chrono::NaiveDate, String, String, i64)> {
    sqlx::query_as(
        "select date_trunc('week', p.collected_at + interval '8 hours')::date, g.season_class, g.category,
                count(distinct (pl.pickup_id, pl.garment_id))
           from pickup_line pl
           join pickup p on p.customer_id = pl.customer_id and p.pickup_id = pl.pickup_id
           join garment g on g.customer_id = pl.customer_id and g.garment_id = pl.garment_id
          group by 1, 2, 3 order by 1, 2, 3",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

pub async fn kept_weekly_intake(
    pool: &sqlx::PgPool,
) -> Vec<(chrono::NaiveDate, String, String, i64)> {
    let rows = doorstep::forecasts::db::weekly_intake(
        pool,
        8.0 * 3600.0,
        chrono::Utc::now() + chrono::Duration::days(3650),
        "2000-01-01T00:00:00Z".parse().unwrap(),
    )
    .await
    .unwrap();
    let mut rows: Vec<_> = rows
        .into_iter()
        .map(|(w, s, c, n)| (w, s.name(), c, n))
        .collect();
    rows.sort();
    rows
}

/// The series the writes keep equals the exact count from the pickup lines after a seed (bulk rollups), a live
/// visit with a garment twice and a new garment, a back-dated visit, a garment reclassified and a fold.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_kept_intake_series_equals_the_pickup_lines(pool: sqlx::PgPool) {
    let app = seeded(pool, 2).await;
    assert_eq!(
        kept_weekly_intake(&app.pool).await,
        exact_weekly_intake(&app.pool).await
    );
    assert!(!exact_weekly_intake(&app.pool).await.is_empty());

    let worker = app.login(Role::Pickup).await;
    let manager = app.login(Role::Manager).await;
    let (customer_id, garment_id): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "select customer_id, garment_id from garment where season_class = 'winter' order by garment_id limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let body = serde_json::json!({
        "customer_id": customer_id,
        "collected_at": chrono::Utc::now() - chrono::Duration::days(20),
        "lines": [
            {"garment_id": garment_id, "service": "dry_clean", "price_cents": 2000},
            {"garment_id": garment_id, "service": "repair", "price_cents": 500},
            {"garment": {"category": "children", "kind": "coat", "season_class": "summer"},
             "service": "wash", "price_cents": 900},
        ],
    });
    app.post_pickup(&worker, "kept-series", &body)
        .await
        .ok(StatusCode::CREATED);
    app.post_pickup(&worker, "kept-series", &body)
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(
        kept_weekly_intake(&app.pool).await,
        exact_weekly_intake(&app.pool).await,
        "a visit (and its retry) counts each garment once"
    );

    app.patch(
        &format!("/api/v1/customers/{customer_id}/garments/{garment_id}"),
        &manager,
        serde_json::json!({"season_class": "spring_autumn", "category": "children"}),
    )
    .await
    .ok(StatusCode::OK);
    assert_eq!(
        kept_weekly_intake(&app.pool).await,
        exact_weekly_intake(&app.pool).await,
        "a reclassified garment moves all its visits"
    );

    sqlx::query(
        "update pickup set collected_at = collected_at - interval '9 days' where customer_id = $1",
    )
    .bind(customer_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let folded = doorstep::forecasts::db::fold_intake_changes(&app.pool)
        .await
        .unwrap();
    assert!(folded > 0);
    let pending: i64 = app.count("select count(*) from intake_hour_change").await;
    assert_eq!(pending, 0, "a fold leaves no change behind");
    assert_eq!(
        kept_weekly_intake(&app.pool).await,
        exact_weekly_intake(&app.pool).await,
        "pickups moved in time, then folded"
    );
}
