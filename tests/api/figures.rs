//! Issue 12, the office's figures: list days honoured for value figures, cleaning services against other
//! services, booked returns, campaign credit, forecasts that do not depend on the horizon, default windows,
//! medians, and the smaller export and receipt fixes.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{Duration, NaiveDate};
use serde_json::{json, Value};
use uuid::Uuid;

use doorstep::domain::{GarmentKind as K, Material as M, Role, SeasonClass as S, Service};

use crate::world::{at, entry, ids, World};

/// Today in company time (Shanghai), as the service sees it.
fn today() -> NaiveDate {
    (chrono::Utc::now() + Duration::hours(8)).date_naive()
}

fn days_ago(n: i64) -> String {
    (today() - Duration::days(n)).to_string()
}

async fn rollup(
    w: &World,
    customer: Uuid,
    garment: Uuid,
) -> (i32, Option<chrono::DateTime<chrono::Utc>>, Option<i64>) {
    sqlx::query_as(
        "select times_cleaned, last_cleaned_at, last_price_cents from garment where customer_id = $1 and garment_id = $2",
    )
    .bind(customer)
    .bind(garment)
    .fetch_one(&w.app.pool)
    .await
    .unwrap()
}

// Item 2: a repair or a press is not a cleaning.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_repair_or_press_is_not_a_cleaning(pool: sqlx::PgPool) {
    let w = World::new(pool).await;
    let (dispatcher, _) = w.staff(Role::Dispatcher).await;
    let c = w.customer("Down Jacket Owner").await;
    let jacket = w.garment(c, K::DownJacket, S::Winter, M::Down, None).await;
    w.pickup(c, &days_ago(120), &[(jacket, 9_000)]).await;
    // A repair today does not make the jacket clean enough to store.
    w.pickup_at(
        c,
        chrono::Utc::now() - Duration::minutes(5),
        &[(jacket, Service::Repair, 4_000)],
    )
    .await;
    let (n, last, price) = rollup(&w, c, jacket).await;
    assert_eq!(n, 1);
    assert_eq!(price, Some(9_000));
    assert_eq!(
        last.map(|t| (t + Duration::hours(8)).date_naive().to_string()),
        Some(days_ago(120))
    );
    let r = w.app.post_keyed(&format!("/api/v1/customers/{c}/storage-orders"),
        &dispatcher,
        "store-after-repair",
        &json!({"items": [{"garment_id": jacket, "declared_value_cents": 100_000}], "term_months": 6}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.to_string().contains("items[0].garment_id"), "{r}");

    // A winter coat cleaned before the spring window and pressed in it is still outstanding.
    let d = w.customer("Pressed Coat").await;
    let coat = w.garment(d, K::Coat, S::Winter, M::Wool, None).await;
    w.pickup(d, "2025-12-01", &[(coat, 30_000)]).await;
    w.pickup_at(d, at("2026-03-20"), &[(coat, Service::Press, 2_000)])
        .await;
    let page = w
        .app
        .get(
            "/api/v1/lists/reminders?window=2026-spring&on=2026-04-15",
            &dispatcher,
        )
        .await
        .ok(StatusCode::OK);
    let e = entry(&page, d).unwrap_or_else(|| panic!("pressed coat not listed: {page}"));
    assert_eq!(e["expected_value_cents"], 30_000);
    // The wardrobe agrees: one cleaning.
    let wardrobe = w
        .app
        .get(&format!("/api/v1/customers/{d}/wardrobe"), &dispatcher)
        .await
        .ok(StatusCode::OK);
    assert!(
        wardrobe.to_string().contains("\"times_cleaned\":1"),
        "{wardrobe}"
    );
}

// Item 3: two services on one garment in one visit are one cleaning, valued at the cleaning.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn two_services_in_one_visit_are_one_cleaning(pool: sqlx::PgPool) {
    let w = World::new(pool).await;
    let (dispatcher, _) = w.staff(Role::Dispatcher).await;
    let c = w.customer("Leather Jacket Owner").await;
    let jacket = w.garment(c, K::Jacket, S::Winter, M::Leather, None).await;
    for day in ["2024-01-10", "2024-12-10", "2025-02-10", "2025-06-10"] {
        w.pickup_at(c, at(day), &[(jacket, Service::LeatherCare, 33_000)])
            .await;
    }
    assert_eq!(rollup(&w, c, jacket).await.0, 4);
    w.pickup_at(
        c,
        at("2025-12-20"),
        &[
            (jacket, Service::LeatherCare, 35_000),
            (jacket, Service::Repair, 4_000),
        ],
    )
    .await;
    let (n, _, price) = rollup(&w, c, jacket).await;
    assert_eq!((n, price), (5, Some(35_000)));
    let page = w
        .app
        .get(
            "/api/v1/lists/reminders?window=2026-spring&on=2026-04-15",
            &dispatcher,
        )
        .await
        .ok(StatusCode::OK);
    let e = entry(&page, c).unwrap_or_else(|| panic!("jacket not listed: {page}"));
    assert_eq!(e["expected_value_cents"], 35_000);
    assert_eq!(e["garments"][0]["last_price_cents"], 35_000);
    // A past day looks the cleaning up in the history the same way.
    w.pickup_at(
        c,
        at("2026-04-20"),
        &[(jacket, Service::LeatherCare, 36_000)],
    )
    .await;
    let page = w
        .app
        .get(
            "/api/v1/lists/reminders?window=2026-spring&on=2026-04-15",
            &dispatcher,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(entry(&page, c).unwrap()["expected_value_cents"], 35_000);
    let wardrobe = w
        .app
        .get(&format!("/api/v1/customers/{c}/wardrobe"), &dispatcher)
        .await
        .ok(StatusCode::OK);
    assert!(
        wardrobe.to_string().contains("\"times_cleaned\":6"),
        "{wardrobe}"
    );
    let _ = ids(&page);
}

/// Two answers alike: every value equal, floats to a part in a billion (a rollup and a recomputation from the
/// raw pickups sum the same decayed amounts in another order).
fn same(a: &Value, b: &Value) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>());
            for (k, v) in x {
                same(v, &y[k]);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{a} vs {b}");
            for (v, w) in x.iter().zip(y) {
                same(v, w);
            }
        }
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{x} vs {y}");
        }
        _ => assert_eq!(a, b),
    }
}

// Item 1: a past list day is the list of that day for value figures too.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn value_figures_for_a_past_day_come_from_that_day(pool: sqlx::PgPool) {
    let w = World::new(pool).await;
    let (manager, _) = w.staff(Role::Manager).await;
    let mut customers = Vec::new();
    for (i, days) in [
        vec![
            "2025-01-10",
            "2025-06-10",
            "2025-11-25",
            "2026-03-01",
            "2026-06-01",
        ],
        vec!["2024-05-01", "2024-09-01", "2025-01-05", "2025-03-01"],
        vec!["2025-10-01", "2025-12-01", "2026-02-01", "2026-04-01"],
        vec![
            "2024-02-01",
            "2024-03-01",
            "2024-04-01",
            "2024-05-01",
            "2024-06-01",
        ],
        vec!["2026-01-15", "2026-04-14"],
        vec!["2026-05-01"],
    ]
    .into_iter()
    .enumerate()
    {
        let c = w.customer(&format!("Customer {i}")).await;
        let coat = w.garment(c, K::Coat, S::Winter, M::Wool, None).await;
        for (j, d) in days.iter().enumerate() {
            w.pickup(c, d, &[(coat, 10_000 + 1_000 * j as i64 + 500 * i as i64)])
                .await;
        }
        customers.push((c, coat));
    }
    let on = "on=2026-04-15";
    let value_uri = format!("/api/v1/lists/customer-value?{on}&limit=100");
    let risk_uri = format!("/api/v1/lists/at-risk?{on}&factor=1.5&min_pickups=2&limit=100");
    let value = w.app.get(&value_uri, &manager).await.ok(StatusCode::OK);
    let first = entry(&value, customers[0].0).unwrap();
    assert_eq!(first["pickups"], 4, "{first}");
    assert_eq!(first["spend_cents"], 10_000 + 11_000 + 12_000 + 13_000);
    assert!(
        first["last_pickup_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-01"),
        "{first}"
    );
    assert!(
        entry(&value, customers[5].0).is_none(),
        "a customer who had not come yet is listed"
    );
    assert_eq!(value["total"], 5);
    let risk = w.app.get(&risk_uri, &manager).await.ok(StatusCode::OK);

    // A pickup recorded today changes nothing on a list of a past day.
    for (c, coat) in &customers[..3] {
        w.pickup_at(
            *c,
            chrono::Utc::now() - Duration::minutes(1),
            &[(*coat, Service::Wash, 50_000)],
        )
        .await;
    }
    let again = w.app.get(&value_uri, &manager).await.ok(StatusCode::OK);
    same(&again, &value);
    let risk_again = w.app.get(&risk_uri, &manager).await.ok(StatusCode::OK);
    same(&risk_again, &risk);
    // Today's list does see it.
    let now = w
        .app
        .get("/api/v1/lists/customer-value?limit=100", &manager)
        .await
        .ok(StatusCode::OK);
    assert_eq!(entry(&now, customers[0].0).unwrap()["pickups"], 6);
}

fn in_days(n: i64) -> String {
    (today() + Duration::days(n)).to_string()
}

// Item 4: a booked return delivery puts the order on the return list under its booked day.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn booked_return_deliveries_are_due_on_their_day(pool: sqlx::PgPool) {
    let w = World::new(pool).await;
    let (dispatcher, _) = w.staff(Role::Dispatcher).await;
    let (manager, _) = w.staff(Role::Manager).await;
    let c = w.customer("Wants It Back").await;
    let coat = w.garment(c, K::Coat, S::Winter, M::Wool, None).await;
    w.pickup(c, &days_ago(3), &[(coat, 10_000)]).await;
    let order = w.app.post_keyed(&format!("/api/v1/customers/{c}/storage-orders"),
        &dispatcher,
        "far-return",
        &json!({"items": [{"garment_id": coat, "declared_value_cents": 50_000, "position": "B-07"}],
                "term_months": 12, "planned_return_on": in_days(400)}),
    )
    .await
    .ok(StatusCode::CREATED);
    let uri = format!(
        "/api/v1/customers/{c}/storage-orders/{}",
        order["order_id"].as_str().unwrap()
    );
    w.app
        .post(
            &format!("{uri}/status"),
            &dispatcher,
            json!({"status": "in_storage"}),
        )
        .await
        .ok(StatusCode::OK);
    w.app
        .post(
            &format!("{uri}/delivery"),
            &dispatcher,
            json!({"booked_for": in_days(8)}),
        )
        .await
        .ok(StatusCode::OK);
    let returns = format!("/api/v1/storage/returns?due_by={}", in_days(20));
    let page = w.app.get(&returns, &dispatcher).await.ok(StatusCode::OK);
    assert_eq!(ids(&page), [c]);
    assert_eq!(page["items"][0]["due_on"], in_days(8));
    let booked = w
        .app
        .get(&format!("{returns}&booked=true"), &dispatcher)
        .await
        .ok(StatusCode::OK);
    assert_eq!(ids(&booked), [c]);
    // The CSV says where each garment is.
    let csv = w
        .app
        .get(&format!("{returns}&format=csv"), &dispatcher)
        .await;
    let text = String::from_utf8(csv.body.clone()).unwrap();
    assert!(text.lines().next().unwrap().contains(",places,"), "{text}");
    assert!(text.contains("rack-a B-07"), "{text}");
    // The storage forecast counts it as due back before the spring window.
    let f = w
        .app
        .get("/api/v1/forecasts/storage", &manager)
        .await
        .ok(StatusCode::OK);
    let due: i64 = f["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["due_back_before_window"].as_i64().unwrap())
        .sum();
    assert_eq!(due, 1, "{f}");
}

// Item 5: campaign credit starts at the entry's first call, counts distinct listed garments, and reports the
// listed garments' revenue beside the whole visits'.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn campaign_credit_follows_the_first_call(pool: sqlx::PgPool) {
    let w = World::new(pool).await;
    let (d1, d1_id) = w.staff(Role::Dispatcher).await;
    let (manager, _) = w.staff(Role::Manager).await;
    let called = w.customer("Called").await;
    let uncalled = w.customer("Never Called").await;
    let mut coats = Vec::new();
    for c in [called, uncalled] {
        let coat = w.garment(c, K::Coat, S::Winter, M::Wool, None).await;
        w.pickup(c, "2025-03-20", &[(coat, 40_000)]).await;
        coats.push(coat);
    }
    let campaign = w.app.post_keyed("/api/v1/campaigns",
        &d1,
        "camp-1",
        &json!({"name": "Spring", "list": "reminders", "window": "2026-spring", "on": "2026-04-15"}),
    )
    .await
    .ok(StatusCode::CREATED);
    let id = campaign["campaign_id"].as_str().unwrap().to_owned();
    w.app.assign_campaign(&d1, &id, &[d1_id]).await;
    w.app
        .post_keyed(
            &format!("/api/v1/campaigns/{id}/entries/{called}/outcomes"),
            &d1,
            "call-1",
            &json!({"outcome": "no_answer"}),
        )
        .await
        .ok(StatusCode::CREATED);
    sqlx::query("update campaign_outcome set recorded_at = $1")
        .bind(at("2026-04-17"))
        .execute(&w.app.pool)
        .await
        .unwrap();
    let shirt = w
        .garment(called, K::Shirt, S::AllSeason, M::Cotton, None)
        .await;
    // Before the first call: not the campaign's.
    w.pickup(called, "2026-04-16", &[(coats[0], 39_000)]).await;
    // After it: the coat cleaned and repaired, and an unlisted shirt; then the coat again.
    w.pickup_at(
        called,
        at("2026-04-20"),
        &[
            (coats[0], Service::DryClean, 40_000),
            (coats[0], Service::Repair, 5_000),
            (shirt, Service::Wash, 2_000),
        ],
    )
    .await;
    w.pickup(called, "2026-04-25", &[(coats[0], 30_000)]).await;
    // Nobody called this entry: its pickup is not credited to anyone.
    w.pickup(uncalled, "2026-04-20", &[(coats[1], 40_000)])
        .await;

    let report = w
        .app
        .get(&format!("/api/v1/campaigns/{id}/report"), &manager)
        .await
        .ok(StatusCode::OK);
    let t = &report["total"];
    assert_eq!(
        (
            t["pickups"].as_i64(),
            t["garments_cleaned"].as_i64(),
            t["listed_revenue_cents"].as_i64(),
            t["visit_revenue_cents"].as_i64()
        ),
        (Some(2), Some(1), Some(75_000), Some(77_000)),
        "{report}"
    );
}

// Item 8: the usual timing over two past windows is the mean of the two, taken from put-aways only.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_median_of_two_windows_is_their_mean(pool: sqlx::PgPool) {
    let w = World::new(pool).await;
    let (dispatcher, _) = w.staff(Role::Dispatcher).await;
    let c = w.customer("Two Springs").await;
    let coat = w.garment(c, K::Coat, S::Winter, M::Wool, None).await;
    let sweater = w.garment(c, K::Sweater, S::Winter, M::Wool, None).await;
    let scarf = w.garment(c, K::Scarf, S::Winter, M::Wool, None).await;
    // Put-aways (two winter garments at once) 90 days into spring 2024 and 72 days into spring 2025.
    w.pickup(c, "2024-05-30", &[(coat, 20_000), (sweater, 5_000)])
        .await;
    w.pickup(c, "2025-05-12", &[(coat, 20_000), (sweater, 5_000)])
        .await;
    // Not put-aways: in-season winter cleaning before the window opened, one winter garment inside it.
    w.pickup(c, "2025-02-25", &[(coat, 20_000), (scarf, 3_000)])
        .await;
    w.pickup(c, "2025-03-03", &[(scarf, 3_000)]).await;
    let page = w
        .app
        .get(
            "/api/v1/lists/reminders?window=2026-spring&on=2026-04-15",
            &dispatcher,
        )
        .await
        .ok(StatusCode::OK);
    let usual = &entry(&page, c).unwrap()["usual"];
    assert_eq!(usual["offset_days"], 81, "{usual}");
    assert_eq!(usual["windows_seen"], 2);
    assert_eq!(usual["usual_date"], "2026-05-21");
}

/// The spring put-away window an offer made today is for: the open one, else the coming one.
fn coming_spring() -> (String, String) {
    use chrono::Datelike;
    let t = today();
    let year = if t.month() <= 5 {
        t.year()
    } else {
        t.year() + 1
    };
    (format!("{year}-spring"), format!("{year}-05-31"))
}

// Item 7: the storage-upsell list defaults to the coming spring window and says so.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_upsell_list_defaults_to_the_coming_spring(pool: sqlx::PgPool) {
    let w = World::new(pool).await;
    let (dispatcher, _) = w.staff(Role::Dispatcher).await;
    let page = w
        .app
        .get("/api/v1/lists/storage-upsell", &dispatcher)
        .await
        .ok(StatusCode::OK);
    let (id, ends) = coming_spring();
    assert_eq!(page["window"]["id"], id, "{page}");
    assert!(
        page["window_chosen"].as_str().unwrap().contains("window"),
        "{page}"
    );
    let campaign = w
        .app
        .post_keyed(
            "/api/v1/campaigns",
            &dispatcher,
            "upsell-camp",
            &json!({"name": "Storage offer", "list": "storage_upsell"}),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(campaign["follow_until"], ends, "{campaign}");
    let named = w
        .app
        .get(
            "/api/v1/lists/storage-upsell?window=2026-spring&on=2026-04-20",
            &dispatcher,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(named["window"]["id"], "2026-spring");
    assert_eq!(named["window_chosen"], "named in the request");
}

// Item 9: receipts, BOMs, campaign entry exports, the contact cap, return dates within the paid term, and
// deleting a window kind.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_smaller_things(pool: sqlx::PgPool) {
    let w = World::new(pool).await;
    let (dispatcher, dispatcher_id) = w.staff(Role::Dispatcher).await;
    let (manager, _) = w.staff(Role::Manager).await;

    // A one-item storage receipt: "1 item", the company's name and the currency.
    let c = w.customer("王芳").await;
    let coat = w.garment(c, K::Coat, S::Winter, M::Wool, None).await;
    w.pickup(c, &days_ago(3), &[(coat, 10_000)]).await;
    let order = w.app.post_keyed(&format!("/api/v1/customers/{c}/storage-orders"),
        &dispatcher,
        "one-item",
        &json!({"items": [{"garment_id": coat, "declared_value_cents": 50_000}], "term_months": 3,
                "planned_return_on": in_days(200)}),
    )
    .await
    .ok(StatusCode::CREATED);
    // A planned return past the paid term is kept, with a warning.
    let warnings = order["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{order}");
    assert!(
        warnings[0].as_str().unwrap().contains("paid term"),
        "{order}"
    );
    let uri = format!(
        "/api/v1/customers/{c}/storage-orders/{}/receipt.html",
        order["order_id"].as_str().unwrap()
    );
    let html =
        String::from_utf8(w.app.get(&format!("{uri}?lang=en"), &dispatcher).await.body).unwrap();
    assert!(html.contains(">1 item<"), "{html}");
    assert!(!html.contains("1 items"), "{html}");
    assert!(html.contains("Doorstep Laundry"), "{html}");
    assert!(html.contains("CNY"), "{html}");
    // In Chinese (the reader's default here): one item, amounts in yuan.
    let html = String::from_utf8(w.app.get(&uri, &dispatcher).await.body).unwrap();
    assert!(
        html.contains(">共 1 件<") && html.contains("（元）"),
        "{html}"
    );

    // Reminders: a pickup in the last cap_days is a contact.
    let recent = w.customer("Came Last Week").await;
    let winter = w.garment(recent, K::Coat, S::Winter, M::Wool, None).await;
    let shirt = w
        .garment(recent, K::Shirt, S::Summer, M::Cotton, None)
        .await;
    w.pickup(recent, "2025-03-20", &[(winter, 30_000)]).await;
    w.pickup(recent, "2026-04-08", &[(shirt, 2_000)]).await;
    let list = |cap: &str| format!("/api/v1/lists/reminders?window=2026-spring&on=2026-04-15{cap}");
    let page = w.app.get(&list(""), &dispatcher).await.ok(StatusCode::OK);
    assert!(
        !ids(&page).contains(&recent),
        "listed a week after a visit: {page}"
    );
    let page = w
        .app
        .get(&list("&cap_days=5"), &dispatcher)
        .await
        .ok(StatusCode::OK);
    assert!(ids(&page).contains(&recent));

    // Campaign entry CSV: a byte-order mark, the dispatcher's name, company time.
    let campaign = w.app.post_keyed("/api/v1/campaigns",
        &dispatcher,
        "csv-camp",
        &json!({"name": "Spring", "list": "reminders", "window": "2026-spring", "on": "2026-04-15", "cap_days": 5}),
    )
    .await
    .ok(StatusCode::CREATED);
    let id = campaign["campaign_id"].as_str().unwrap().to_owned();
    w.app
        .assign_campaign(&dispatcher, &id, &[dispatcher_id])
        .await;
    w.app
        .post_keyed(
            &format!("/api/v1/campaigns/{id}/entries/{recent}/outcomes"),
            &dispatcher,
            "cb",
            &json!({"outcome": "call_back", "call_back_at": "2027-01-05T02:30:00Z"}),
        )
        .await
        .ok(StatusCode::CREATED);
    let csv = w
        .app
        .get(
            &format!("/api/v1/campaigns/{id}/entries?format=csv"),
            &manager,
        )
        .await;
    assert!(csv.body.starts_with(b"\xEF\xBB\xBF"), "no BOM");
    let text = String::from_utf8(csv.body.clone()).unwrap();
    assert!(text.contains("2027-01-05 10:30"), "{text}");
    assert!(!text.contains(&dispatcher_id.to_string()), "{text}");
    assert!(text.contains(",Test,"), "{text}");

    // A window kind can be deleted, unless something depends on it.
    w.app
        .send(
            axum::http::Method::PUT,
            "/api/v1/season-calendar/kinds/monsoon",
            Some(&manager),
            Some(
                json!({"name": "Monsoon", "outgoing": "summer", "start": "06-10", "end": "07-10"}),
            ),
        )
        .await
        .ok(StatusCode::OK);
    let delete = |kind: &str, token: &str| {
        let req = Request::delete(format!("/api/v1/season-calendar/kinds/{kind}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        w.app.request(req)
    };
    assert_eq!(
        delete("monsoon", &dispatcher).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete("monsoon", &manager).await.status,
        StatusCode::NO_CONTENT
    );
    let cal = w
        .app
        .get("/api/v1/season-calendar?year=2026", &manager)
        .await
        .ok(StatusCode::OK);
    assert!(!cal.to_string().contains("monsoon"), "{cal}");
    assert_eq!(
        delete("monsoon", &manager).await.status,
        StatusCode::NOT_FOUND
    );
    let r = delete("early_winter", &manager)
        .await
        .problem(StatusCode::CONFLICT);
    assert_eq!(r["field"], "kind");
    let r = delete("spring", &manager)
        .await
        .problem(StatusCode::CONFLICT);
    assert_eq!(r["field"], "kind");
}

// Issue 16: a customer who already put part of the season away this window keeps the rest unless called, so
// they rank above regulars who will send everything unprompted a few days from now.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_call_is_worth_most_where_nothing_more_will_come_unprompted(pool: sqlx::PgPool) {
    let w = World::new(pool).await;
    let (dispatcher, _) = w.staff(Role::Dispatcher).await;
    let mut regulars = Vec::new();
    for i in 0..24 {
        let c = w.customer(&format!("Regular {i}")).await;
        let coat = w.garment(c, K::Coat, S::Winter, M::Wool, None).await;
        let sweater = w.garment(c, K::Sweater, S::Winter, M::Wool, None).await;
        // Every spring on day 20 of the window, both winter garments at once.
        for day in ["2024-03-21", "2025-03-21"] {
            w.pickup(c, day, &[(coat, 30_000), (sweater, 20_000)]).await;
        }
        regulars.push(c);
    }
    let partial = w.customer("Partly Put Away").await;
    let coat = w.garment(partial, K::Coat, S::Winter, M::Wool, None).await;
    let sweater = w
        .garment(partial, K::Sweater, S::Winter, M::Wool, None)
        .await;
    let jacket = w
        .garment(partial, K::Jacket, S::Winter, M::Wool, None)
        .await;
    w.pickup(
        partial,
        "2025-03-10",
        &[(coat, 10_000), (sweater, 5_000), (jacket, 8_000)],
    )
    .await;
    // This spring: coat and sweater on day 4; the jacket stays outstanding.
    w.pickup(partial, "2026-03-05", &[(coat, 10_000), (sweater, 5_000)])
        .await;

    let page = w
        .app
        .get(
            "/api/v1/lists/reminders?window=2026-spring&on=2026-03-10&cap_days=0&limit=100",
            &dispatcher,
        )
        .await
        .ok(StatusCode::OK);
    assert!(page["estimates"]["timing_assumed"].is_null(), "{page:#}");
    let first = &page["items"][0];
    assert_eq!(first["customer_id"], partial.to_string(), "{page:#}");
    assert_eq!(first["p_not_sent"], 1.0, "{first}");
    assert_eq!(first["outstanding"], 1);
    for c in &regulars {
        let e = entry(&page, *c).unwrap();
        // Everyone sends on day 20 and sends all of it: on day 9 a call adds almost nothing.
        assert!(e["p_not_sent"].as_f64().unwrap() < 0.1, "{e}");
        assert_eq!(e["usual"]["usual_date"], "2026-03-21", "{e}");
        assert!(
            e["call_value_cents"].as_i64().unwrap() < first["call_value_cents"].as_i64().unwrap(),
            "{e}"
        );
    }
}
