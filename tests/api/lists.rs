//! The wardrobe lists pinned on a hand-built company whose right answers are obvious.

use axum::http::{header, Method, Request, StatusCode};
use uuid::Uuid;

use doorstep::domain::{GarmentKind as K, InteractionKind, Material as M, Role, SeasonClass as S};

use crate::helpers::roles_below;
use crate::world::{entry, ids, World};

/// The spring 2026 reminder world (window 2026-03-01..05-31, list day 2026-04-15).
struct Spring {
    w: World,
    big: Uuid,
    small: Uuid,
    half_done: Uuid,
    half_done_coat: Uuid,
    stored: Uuid,
    refused: Uuid,
    called: Uuid,
    complained: Uuid,
    summer_only: Uuid,
    long_gone: Uuid,
}

async fn spring(pool: sqlx::PgPool) -> Spring {
    let w = World::new(pool).await;
    let big = w.customer("Big Wardrobe").await;
    let coat = w
        .garment(big, K::Coat, S::Winter, M::Wool, Some(("4XL", true)))
        .await;
    let down = w
        .garment(big, K::DownJacket, S::Winter, M::Down, Some(("4XL", true)))
        .await;
    let sweater = w
        .garment(big, K::Sweater, S::Winter, M::Cashmere, Some(("M", false)))
        .await;
    w.pickup(
        big,
        "2025-03-20",
        &[(coat, 20_000), (down, 15_000), (sweater, 4_000)],
    )
    .await;

    let small = w.customer("Small Wardrobe").await;
    let scarf = w.garment(small, K::Scarf, S::Winter, M::Wool, None).await;
    w.pickup(small, "2025-04-10", &[(scarf, 3_000)]).await;

    let half_done = w.customer("Half Done").await;
    let half_done_coat = w
        .garment(half_done, K::Coat, S::Winter, M::Wool, None)
        .await;
    let knit = w
        .garment(half_done, K::Sweater, S::Winter, M::Wool, None)
        .await;
    w.pickup(
        half_done,
        "2025-03-15",
        &[(half_done_coat, 18_000), (knit, 5_000)],
    )
    .await;
    w.pickup(half_done, "2026-03-10", &[(half_done_coat, 18_000)])
        .await;

    let stored = w.customer("In Storage").await;
    let fur = w.garment(stored, K::Coat, S::Winter, M::Fur, None).await;
    w.pickup(stored, "2025-03-01", &[(fur, 40_000)]).await;
    w.store(stored, "2025-03-02", &[fur]).await;

    let refused = w.customer("=HYPERLINK(\"http://evil\")").await;
    let r_coat = w
        .garment(refused, K::Coat, S::Winter, M::Wool, Some(("5XL", true)))
        .await;
    w.pickup(refused, "2025-03-05", &[(r_coat, 90_000)]).await;
    w.do_not_contact(refused).await;

    let called = w.customer("Called Last Week").await;
    let c_coat = w.garment(called, K::Coat, S::Winter, M::Wool, None).await;
    w.pickup(called, "2025-03-25", &[(c_coat, 30_000)]).await;
    w.interaction(called, InteractionKind::Call, "2026-04-10")
        .await;

    let complained = w.customer("Open Complaint").await;
    let k_coat = w
        .garment(complained, K::Jacket, S::Winter, M::Wool, None)
        .await;
    w.pickup(complained, "2025-04-01", &[(k_coat, 10_000)])
        .await;
    w.interaction(complained, InteractionKind::Complaint, "2026-01-05")
        .await;

    let summer_only = w.customer("Summer Only").await;
    let tee = w
        .garment(summer_only, K::TShirt, S::Summer, M::Cotton, None)
        .await;
    w.pickup(summer_only, "2025-09-01", &[(tee, 2_000)]).await;

    let long_gone = w.customer("Long Gone").await;
    let old = w
        .garment(long_gone, K::Coat, S::Winter, M::Wool, None)
        .await;
    w.pickup(long_gone, "2023-01-01", &[(old, 25_000)]).await;

    Spring {
        w,
        big,
        small,
        half_done,
        half_done_coat,
        stored,
        refused,
        called,
        complained,
        summer_only,
        long_gone,
    }
}

const REMINDERS: &str = "/api/v1/lists/reminders?window=2026-spring&on=2026-04-15";

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn reminders_rank_by_expected_value_and_apply_every_rule(pool: sqlx::PgPool) {
    let s = spring(pool).await;
    let token = s.w.app.login(Role::Dispatcher).await;
    let page = s.w.app.get(REMINDERS, &token).await.ok(StatusCode::OK);

    // Ranked by expected value: 390.00, 100.00, 50.00, 30.00.
    assert_eq!(
        ids(&page),
        vec![s.big, s.complained, s.half_done, s.small],
        "{page:#}"
    );
    assert_eq!(page["total"], 4);
    assert_eq!(page["window"]["id"], "2026-spring");
    assert_eq!(page["cap_days"], 14);
    let first = &page["items"][0];
    assert_eq!(first["rank"], 1);
    assert_eq!(first["outstanding"], 3);
    assert_eq!(first["expected_value_cents"], 39_000);
    assert_eq!(first["garments"].as_array().unwrap().len(), 3);
    assert_eq!(
        first["garments"][0]["kind"], "coat",
        "most valuable garment first"
    );
    // Their own timing: last spring they sent winter clothes 19 days into the window.
    assert_eq!(first["usual"]["offset_days"], 19);
    assert_eq!(first["usual"]["usual_date"], "2026-03-20");
    assert!(
        first["reason"]
            .as_str()
            .unwrap()
            .contains("3 winter garments outstanding ("),
        "{first}"
    );
    // The reason names the garments and the estimates behind the rank.
    let reason = first["reason"].as_str().unwrap();
    for words in [
        "down jacket",
        "still worn",
        "likely still a customer",
        "a call adds",
    ] {
        assert!(reason.contains(words), "{words}: {reason}");
    }
    assert_eq!(first["open_complaint"], false);

    // Flagged, not hidden: the caller must know about the open complaint.
    assert_eq!(page["items"][1]["open_complaint"], true);
    assert!(page["items"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("open complaint"));

    // A garment cleaned in this window is not outstanding; its sibling still is.
    let half = &page["items"][2];
    assert_eq!(half["outstanding"], 1);
    assert!(half["garments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["garment_id"] != s.half_done_coat.to_string()));

    for absent in [s.stored, s.refused, s.called, s.summer_only, s.long_gone] {
        assert!(
            !ids(&page).contains(&absent),
            "{absent} should not be listed"
        );
    }
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_frequency_cap_is_configurable(pool: sqlx::PgPool) {
    let s = spring(pool).await;
    let token = s.w.app.login(Role::Dispatcher).await;
    // Called on 04-10: a 3-day cap lets them back in (second by value), a 6-day cap still keeps them out.
    let page =
        s.w.app
            .get(&format!("{REMINDERS}&cap_days=3"), &token)
            .await
            .ok(StatusCode::OK);
    assert_eq!(ids(&page)[1], s.called);
    let page =
        s.w.app
            .get(&format!("{REMINDERS}&cap_days=6"), &token)
            .await
            .ok(StatusCode::OK);
    assert!(!ids(&page).contains(&s.called));
    s.w.app
        .get(&format!("{REMINDERS}&cap_days=-1"), &token)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn stored_garments_are_never_outstanding(pool: sqlx::PgPool) {
    let s = spring(pool).await;
    let token = s.w.app.login(Role::Dispatcher).await;
    // Store two of the big wardrobe's three garments: only the sweater stays outstanding.
    let stored: Vec<Uuid> = sqlx::query_scalar(
        "select garment_id from garment where customer_id = $1 and kind in ('coat', 'down_jacket')",
    )
    .bind(s.big)
    .fetch_all(&s.w.app.pool)
    .await
    .unwrap();
    s.w.store(s.big, "2025-04-20", &stored).await;
    let page = s.w.app.get(REMINDERS, &token).await.ok(StatusCode::OK);
    let big = entry(&page, s.big).unwrap();
    assert_eq!(big["outstanding"], 1);
    assert_eq!(big["garments"][0]["kind"], "sweater");
    // The upsell list does not offer storage for what is already stored either.
    let up =
        s.w.app
            .get(
                "/api/v1/lists/storage-upsell?window=2025-spring&on=2025-05-01",
                &token,
            )
            .await
            .ok(StatusCode::OK);
    assert!(!ids(&up).contains(&s.stored));
    // Big stored its coat and down jacket: only the cashmere sweater is left to offer, 25.00 a month.
    let big = entry(&up, s.big).unwrap();
    assert_eq!(big["candidates"], 1, "{big:#}");
    assert_eq!(big["estimated_fee_cents"], 15_000);
    assert_eq!(big["garments"].as_array().unwrap().len(), 1);
    assert_eq!(big["garments"][0]["kind"], "sweater");
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_list_for_a_past_day_is_the_list_of_that_day(pool: sqlx::PgPool) {
    let s = spring(pool).await;
    let token = s.w.app.login(Role::Dispatcher).await;
    // After the list day the small wardrobe sends its scarf (at a new price) and the big one stores its coat.
    let scarf: Uuid = sqlx::query_scalar("select garment_id from garment where customer_id = $1")
        .bind(s.small)
        .fetch_one(&s.w.app.pool)
        .await
        .unwrap();
    s.w.pickup(s.small, "2026-05-02", &[(scarf, 3_500)]).await;
    let coat: Uuid = sqlx::query_scalar(
        "select garment_id from garment where customer_id = $1 and kind = 'coat'",
    )
    .bind(s.big)
    .fetch_one(&s.w.app.pool)
    .await
    .unwrap();
    s.w.store(s.big, "2026-05-03", &[coat]).await;

    // On 04-15 neither had happened: the scarf is outstanding at its old price, the coat at home.
    let page = s.w.app.get(REMINDERS, &token).await.ok(StatusCode::OK);
    assert_eq!(
        ids(&page),
        vec![s.big, s.complained, s.half_done, s.small],
        "{page:#}"
    );
    let small = entry(&page, s.small).unwrap();
    assert_eq!(small["expected_value_cents"], 3_000);
    assert_eq!(
        small["garments"][0]["last_cleaned_at"],
        "2025-04-10T04:00:00Z"
    );
    assert_eq!(entry(&page, s.big).unwrap()["outstanding"], 3);

    // On 05-10 both had: the scarf was sent this window and the coat is in storage.
    let later =
        s.w.app
            .get(
                "/api/v1/lists/reminders?window=2026-spring&on=2026-05-10",
                &token,
            )
            .await
            .ok(StatusCode::OK);
    assert!(!ids(&later).contains(&s.small), "{later:#}");
    assert_eq!(entry(&later, s.big).unwrap()["outstanding"], 2);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_upsell_scan_reads_its_partial_index(pool: sqlx::PgPool) {
    // The migration's index predicate and the list's filter are written in two places; if they drift apart
    // the planner can no longer prove the index applies and the list scans every garment.
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("set enable_seqscan = off")
        .execute(&mut *conn)
        .await
        .unwrap();
    let sql = format!(
        "explain select g.customer_id, g.kind, g.material from garment g
          where g.last_cleaned_at >= now() - interval '120 days' and g.last_cleaned_at < now() and {}",
        doorstep::lists::storage_upsell::candidate_filter()
    );
    let plan: Vec<String> = sqlx::query_scalar(&sql)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    assert!(
        plan.iter().any(|l| l.contains("garment_upsell_idx")),
        "{plan:#?}"
    );
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn do_not_contact_never_appears_in_an_export(pool: sqlx::PgPool) {
    let s = spring(pool).await;
    let manager = s.w.app.login(Role::Manager).await;
    let exports = [
        REMINDERS.to_owned(),
        "/api/v1/lists/storage-upsell?window=2025-spring&on=2025-05-01".to_owned(),
        "/api/v1/lists/special-sizes?threshold=0.5&min_garments=1&on=2026-04-15".to_owned(),
        "/api/v1/lists/customer-value?on=2026-04-15".to_owned(),
        "/api/v1/lists/at-risk?on=2026-04-15&factor=1&min_pickups=2".to_owned(),
    ];
    for uri in &exports {
        let csv = s.w.app.get(&format!("{uri}&format=csv"), &manager).await;
        assert_eq!(csv.status, StatusCode::OK, "{uri}");
        assert_eq!(csv.content_type(), "text/csv; charset=utf-8");
        let text = String::from_utf8(csv.body.clone()).unwrap();
        assert!(
            !text.contains(&s.refused.to_string()),
            "{uri} exported a do-not-contact customer"
        );
        assert!(!text.contains("HYPERLINK"), "{uri}");
    }
    // The JSON value list shows them, flagged, so a manager's totals stay true.
    let value =
        s.w.app
            .get(
                "/api/v1/lists/customer-value?on=2026-04-15&limit=100",
                &manager,
            )
            .await
            .ok(StatusCode::OK);
    let flagged = entry(&value, s.refused).unwrap();
    assert_eq!(flagged["do_not_contact"], true);
    // The Accept header asks for CSV as well as ?format=csv does; downloaded from a Chinese page, the columns and
    // the words in the cells are Chinese (the reason as the page words it), and the rows are the same.
    for (language, header_starts, big_row) in [
        (
            None,
            "rank,customer_id,name,phone",
            &[
                "3 winter garments outstanding (",
                ",false,coat; down_jacket; sweater,",
            ][..],
        ),
        (
            Some("zh-CN,zh;q=0.9"),
            "排名,客户编号,姓名,电话,地址",
            &[
                ",否,大衣；羽绒服；毛衣,",
                "3 件衣物待送洗，仍在穿的约 ¥",
                "；大衣、羽绒服、毛衣；通常在 2026年3月20日 前送洗（已过 26 天）；仍是客户的可能 ",
            ][..],
        ),
    ] {
        let mut req = Request::builder()
            .method(Method::GET)
            .uri(REMINDERS)
            .header(header::AUTHORIZATION, format!("Bearer {manager}"))
            .header(header::ACCEPT, "text/csv");
        if let Some(language) = language {
            req = req.header(header::ACCEPT_LANGUAGE, language);
        }
        let csv =
            s.w.app
                .request(req.body(axum::body::Body::empty()).unwrap())
                .await;
        let text = String::from_utf8(csv.body).unwrap();
        // A UTF-8 byte-order mark first, so Excel reads Chinese names right.
        let text = text.strip_prefix('\u{feff}').expect("a UTF-8 BOM");
        let mut lines = text.lines();
        assert!(lines.next().unwrap().starts_with(header_starts), "{text}");
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 4);
        let big = rows
            .iter()
            .find(|r| r.contains(&s.big.to_string()))
            .unwrap();
        for part in big_row {
            assert!(big.contains(part), "{part} not in {big}");
        }
    }
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn csv_cells_cannot_run_formulas(pool: sqlx::PgPool) {
    let w = World::new(pool).await;
    let evil = w.customer("=cmd|' /C calc'!A0").await;
    let g = w
        .garment(evil, K::Coat, S::Winter, M::Wool, Some(("5XL", true)))
        .await;
    w.pickup(evil, "2025-03-20", &[(g, 10_000)]).await;
    let token = w.app.login(Role::Dispatcher).await;
    let csv = w.app.get(&format!("{REMINDERS}&format=csv"), &token).await;
    let text = String::from_utf8(csv.body).unwrap();
    assert!(text.contains(",'=cmd|' /C calc'!A0,"), "{text}");
    assert!(text.contains(",'+86 21 5555 0100,"), "{text}");
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn special_sizes_and_storage_upsell(pool: sqlx::PgPool) {
    let s = spring(pool).await;
    let token = s.w.app.login(Role::Dispatcher).await;
    // Big: 2 of 3 garments special; the refused customer is all special but never listed.
    let page =
        s.w.app
            .get(
                "/api/v1/lists/special-sizes?threshold=0.5&min_garments=2&on=2026-04-15",
                &token,
            )
            .await
            .ok(StatusCode::OK);
    assert_eq!(ids(&page), vec![s.big]);
    assert_eq!(page["items"][0]["special_garments"], 2);
    assert_eq!(page["items"][0]["sizes"], serde_json::json!(["4XL"]));
    let page =
        s.w.app
            .get(
                "/api/v1/lists/special-sizes?threshold=0.7&min_garments=2&on=2026-04-15",
                &token,
            )
            .await
            .ok(StatusCode::OK);
    assert_eq!(page["total"], 0);
    s.w.app
        .get("/api/v1/lists/special-sizes?threshold=2", &token)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);

    // Spring 2025: big (coat, down, cashmere) brings the most storage fee; each garment says why.
    let up =
        s.w.app
            .get(
                "/api/v1/lists/storage-upsell?window=2025-spring&on=2025-05-01&months=6",
                &token,
            )
            .await
            .ok(StatusCode::OK);
    let order = ids(&up);
    assert_eq!(order[0], s.big, "{up:#}");
    let big = &up["items"][0];
    assert_eq!(big["candidates"], 3);
    // coat 25.00 + down 25.00 + cashmere 25.00 a month, for 6 months.
    assert_eq!(big["estimated_fee_cents"], 45_000);
    let whys: Vec<&str> = big["garments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["why"].as_str().unwrap())
        .collect();
    assert!(whys.iter().any(|w| w.starts_with("down:")), "{whys:?}");
    assert!(whys.iter().any(|w| w.starts_with("cashmere:")), "{whys:?}");
    assert!(!order.contains(&s.summer_only));
}

/// The at-risk list of day `on`, as a dispatcher reads it.
async fn at_risk_on(w: &World, on: &str) -> serde_json::Value {
    let dispatcher = w.app.login(Role::Dispatcher).await;
    w.app
        .get(&format!("/api/v1/lists/at-risk?on={on}"), &dispatcher)
        .await
        .ok(StatusCode::OK)
}

/// Visits recorded at one instant leave no span and no rhythm to divide by: the at-risk list still answers.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn at_risk_answers_for_visits_at_one_instant(pool: sqlx::PgPool) {
    let w = World::new(pool).await;
    let thrice = w.customer("Thrice").await;
    let g = w
        .garment(thrice, K::Shirt, S::AllSeason, M::Cotton, None)
        .await;
    for _ in 0..3 {
        w.pickup(thrice, "2025-12-05", &[(g, 1_000)]).await;
    }
    let risk = at_risk_on(&w, "2026-04-15").await;
    assert_eq!(ids(&risk), vec![thrice], "{risk:#}");
    // 30.00 over no time at all: counted as spent in one day.
    assert_eq!(risk["items"][0]["yearly_loss_cents"], 3_000 * 365);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn value_tiers_lifecycle_and_at_risk(pool: sqlx::PgPool) {
    let w = World::new(pool).await;
    // Steady: monthly all year up to the list day. Lapsed: monthly through 2025, then nothing.
    let steady = w.customer("Steady").await;
    let lapsed = w.customer("Lapsed").await;
    let once = w.customer("Once").await;
    let gs = w
        .garment(steady, K::Shirt, S::AllSeason, M::Cotton, None)
        .await;
    let gl = w
        .garment(lapsed, K::Shirt, S::AllSeason, M::Cotton, None)
        .await;
    let go = w
        .garment(once, K::Shirt, S::AllSeason, M::Cotton, None)
        .await;
    for month in 1..=12 {
        w.pickup(steady, &format!("2025-{month:02}-05"), &[(gs, 5_000)])
            .await;
        w.pickup(lapsed, &format!("2025-{month:02}-05"), &[(gl, 5_000)])
            .await;
    }
    for month in 1..=4 {
        w.pickup(steady, &format!("2026-{month:02}-05"), &[(gs, 5_000)])
            .await;
    }
    w.pickup(once, "2026-04-01", &[(go, 1_000)]).await;

    let manager = w.app.login(Role::Manager).await;
    let value = w
        .app
        .get("/api/v1/lists/customer-value?on=2026-04-15", &manager)
        .await
        .ok(StatusCode::OK);
    assert_eq!(ids(&value)[0], steady, "{value:#}");
    let by_id = |id: Uuid| entry(&value, id).unwrap().clone();
    assert_eq!(by_id(once)["stage"], "new");
    assert_eq!(by_id(lapsed)["stage"], "declining");
    assert_eq!(by_id(steady)["stage"], "stable");
    // 60.00 a month is 600.00 a year, whatever the decay constants.
    let yearly = by_id(steady)["yearly_spend_cents"].as_f64().unwrap();
    assert!((55_000.0..65_000.0).contains(&yearly), "{yearly}");
    assert!(value["segments"].is_object());
    let gold_only = w
        .app
        .get(
            "/api/v1/lists/customer-value?on=2026-04-15&tier=platinum",
            &manager,
        )
        .await
        .ok(StatusCode::OK);
    assert!(gold_only["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["tier"] == "platinum"));
    w.app
        .get("/api/v1/lists/customer-value?tier=diamond", &manager)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);

    let risk = at_risk_on(&w, "2026-04-15").await;
    assert_eq!(ids(&risk), vec![lapsed], "{risk:#}");
    let entry = &risk["items"][0];
    // 600.00 over 334 days plus one usual interval (~30 days): about 600 a year.
    let loss = entry["yearly_loss_cents"].as_i64().unwrap();
    assert!((55_000..65_000).contains(&loss), "{loss}");
    assert!(
        entry["reason"]
            .as_str()
            .unwrap()
            .contains("usually every 30 days"),
        "{entry}"
    );
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn lists_check_roles_and_parameters(pool: sqlx::PgPool) {
    let w = World::new(pool).await;
    for uri in [
        "/api/v1/lists/reminders",
        "/api/v1/lists/storage-upsell",
        "/api/v1/lists/special-sizes",
        "/api/v1/lists/at-risk",
        "/api/v1/lists/customer-value",
    ] {
        w.app.assert_needs_session(Method::GET, uri).await;
        let needed = if uri.ends_with("customer-value") {
            Role::Manager
        } else {
            Role::Dispatcher
        };
        for role in roles_below(needed) {
            let token = w.app.login(role).await;
            w.app.get(uri, &token).await.problem(StatusCode::FORBIDDEN);
        }
    }
    let token = w.app.login(Role::Dispatcher).await;
    let bad = w
        .app
        .get("/api/v1/lists/reminders?window=spring", &token)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["errors"][0]["field"], "window", "{bad}");
    let bad = w
        .app
        .get("/api/v1/lists/reminders?window=2026-monsoon", &token)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.to_string().contains("spring"),
        "names the kinds there are: {bad}"
    );
    // 20 May is in both the spring and the early-summer window: the caller must choose.
    let bad = w
        .app
        .get("/api/v1/lists/reminders?on=2026-05-20", &token)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.to_string().contains("2026-early_summer"), "{bad}");
    w.app
        .get("/api/v1/lists/reminders?on=2026-04-15", &token)
        .await
        .ok(StatusCode::OK);
    w.app
        .get("/api/v1/lists/reminders?on=2026-04-15&format=xml", &token)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    w.app
        .get("/api/v1/lists/reminders?on=2026-04-15&limit=0", &token)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    w.app
        .get("/api/v1/lists/reminders?on=not-a-date", &token)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn managers_edit_the_season_calendar(pool: sqlx::PgPool) {
    let w = World::new(pool).await;
    let manager = w.app.login(Role::Manager).await;
    let dispatcher = w.app.login(Role::Dispatcher).await;
    let cal = w
        .app
        .get("/api/v1/season-calendar?year=2026", &dispatcher)
        .await
        .ok(StatusCode::OK);
    let spring = cal["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "spring")
        .unwrap()
        .clone();
    assert_eq!(spring["starts_on"], "2026-03-01");
    assert_eq!(spring["outgoing"], "winter");
    assert_eq!(cal["windows"].as_array().unwrap().len(), 4);

    let body = serde_json::json!({"starts_on": "2026-03-20", "ends_on": "2026-06-10"});
    w.app
        .send(
            Method::PUT,
            "/api/v1/season-calendar/2026/spring",
            Some(&dispatcher),
            Some(body.clone()),
        )
        .await
        .problem(StatusCode::FORBIDDEN);
    let set = w
        .app
        .send(
            Method::PUT,
            "/api/v1/season-calendar/2026/spring",
            Some(&manager),
            Some(body),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(set["overridden"], true);
    assert_eq!(set["ends_on"], "2026-06-10");
    // A reminder list for the late spring now opens on 20 March.
    let page = w
        .app
        .get(
            "/api/v1/lists/reminders?window=2026-spring&on=2026-04-15",
            &dispatcher,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(page["window"]["starts_on"], "2026-03-20");
    let bad = w
        .app
        .send(
            Method::PUT,
            "/api/v1/season-calendar/2026/spring",
            Some(&manager),
            Some(serde_json::json!({"starts_on": "2026-06-01", "ends_on": "2026-05-01"})),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["errors"][0]["field"], "ends_on");
    w.app
        .send(
            Method::DELETE,
            "/api/v1/season-calendar/2026/spring",
            Some(&manager),
            None,
        )
        .await;
    let cal = w
        .app
        .get("/api/v1/season-calendar?year=2026", &dispatcher)
        .await
        .ok(StatusCode::OK);
    assert!(cal["windows"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["kind"] == "spring" && x["starts_on"] == "2026-03-01"));

    // A new kind: a monsoon put-away for summer clothes, running into the next year.
    let kind = w.app
        .send(
            Method::PUT,
            "/api/v1/season-calendar/kinds/late_autumn",
            Some(&manager),
            Some(serde_json::json!({"name": "Late autumn", "outgoing": "summer", "start": "12-01", "end": "01-15"})),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(kind["window_kind"], "late_autumn");
    let cal = w
        .app
        .get("/api/v1/season-calendar?year=2026", &dispatcher)
        .await
        .ok(StatusCode::OK);
    let late = cal["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "late_autumn")
        .unwrap()
        .clone();
    assert_eq!(late["ends_on"], "2027-01-15");
    assert_eq!(late["named"], true, "a manager's kind is shown as named");

    // A shipped kind is shown in the reader's language until renamed; saving its dates alone keeps it so.
    assert_eq!(spring["named"], false);
    let (app, as_manager) = (&w.app, &manager);
    let save_spring = |name: String| async move {
        let body = serde_json::json!({"name": name, "outgoing": "winter", "start": "03-05", "end": "05-31"});
        app.send(
            Method::PUT,
            "/api/v1/season-calendar/kinds/spring",
            Some(as_manager),
            Some(body),
        )
        .await
        .ok(StatusCode::OK)
    };
    let kind = save_spring(spring["name"].as_str().unwrap().to_owned()).await;
    assert_eq!(
        (kind["start_day"].as_i64(), kind["named"].as_bool()),
        (Some(5), Some(false))
    );
    let kind = save_spring("冬装收纳".to_owned()).await;
    assert_eq!(kind["named"], true);
    let bad = w.app
        .send(
            Method::PUT,
            "/api/v1/season-calendar/kinds/x",
            Some(&manager),
            Some(serde_json::json!({"name": "", "outgoing": "summer", "start": "13-01", "end": "02-30"})),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["kind", "name", "start", "end"]);

    // Adding a kind only creates it (`If-None-Match: *`): an id another manager just took is 412, unchanged.
    let create = |kind: &str, name: &str| {
        let req = Request::builder()
            .method(Method::PUT)
            .uri(format!("/api/v1/season-calendar/kinds/{kind}"))
            .header(header::AUTHORIZATION, format!("Bearer {manager}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::IF_NONE_MATCH, "*")
            .body(axum::body::Body::from(
                serde_json::json!({"name": name, "outgoing": "summer", "start": "06-10", "end": "07-15"})
                    .to_string(),
            ))
            .unwrap();
        w.app.request(req)
    };
    let taken = create("late_autumn", "Plum rains")
        .await
        .problem(StatusCode::PRECONDITION_FAILED);
    assert_eq!(taken["type"], "urn:doorstep:problem:kind-exists", "{taken}");
    let kinds = w
        .app
        .get("/api/v1/season-calendar", &manager)
        .await
        .ok(StatusCode::OK);
    let late = kinds["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["window_kind"] == "late_autumn")
        .unwrap();
    assert_eq!(
        (late["name"].as_str(), late["start_month"].as_i64()),
        (Some("Late autumn"), Some(12))
    );
    let made = create("plum_rains", "Plum rains").await.ok(StatusCode::OK);
    assert_eq!(made["window_kind"], "plum_rains");

    // The storage settings return clothes by early winter: it stays, and the refusal says why by its type.
    let kept = w
        .app
        .send(
            Method::DELETE,
            "/api/v1/season-calendar/kinds/early_winter",
            Some(&manager),
            None,
        )
        .await
        .problem(StatusCode::CONFLICT);
    assert_eq!(
        kept["type"], "urn:doorstep:problem:kind-returns-storage",
        "{kept}"
    );
    assert_eq!(kept["field"], "kind");
}
