//! Campaigns: freezing a list, sharing it between dispatchers, call outcomes and the follow-up report.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use doorstep::domain::{GarmentKind as K, Material as M, Role, SeasonClass as S};

use crate::world::{entry, ids, World};

struct Setup {
    w: World,
    /// Customers in rank order: values 400, 300, 200, 100.
    customers: Vec<Uuid>,
    coats: Vec<Uuid>,
}

async fn setup(pool: sqlx::PgPool) -> Setup {
    let w = World::new(pool).await;
    let mut customers = Vec::new();
    let mut coats = Vec::new();
    for (i, price) in [40_000, 30_000, 20_000, 10_000].into_iter().enumerate() {
        let c = w.customer(&format!("Customer {i}")).await;
        let coat = w
            .garment(c, K::Coat, S::Winter, M::Wool, Some(("5XL", true)))
            .await;
        w.pickup(c, "2025-03-20", &[(coat, price)]).await;
        customers.push(c);
        coats.push(coat);
    }
    Setup {
        w,
        customers,
        coats,
    }
}

const CAMPAIGN: &str = "/api/v1/campaigns";

fn spring_campaign() -> Value {
    json!({"name": "Spring 2026 winter clothes", "list": "reminders", "window": "2026-spring", "on": "2026-04-15"})
}

/// A manager's token and the id of the spring campaign they created and assigned to themselves.
async fn spring_campaign_worked_by_a_manager(s: &Setup) -> (String, String) {
    let app = &s.w.app;
    let (manager, manager_id) = s.w.staff(Role::Manager).await;
    let id = app
        .post_keyed(CAMPAIGN, &manager, "c-1", &spring_campaign())
        .await
        .ok(StatusCode::CREATED)["campaign_id"]
        .as_str()
        .expect("campaign id")
        .to_owned();
    app.assign_campaign(&manager, &id, &[manager_id]).await;
    (manager, id)
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_campaign_is_worked_end_to_end(pool: sqlx::PgPool) {
    let s = setup(pool).await;
    let app = &s.w.app;
    let (manager, _) = s.w.staff(Role::Manager).await;
    let (d1, d1_id) = s.w.staff(Role::Dispatcher).await;
    let (d2, d2_id) = s.w.staff(Role::Dispatcher).await;

    // Freeze the list; a retry of the same request answers the same campaign and records nothing new.
    let created = app
        .post_keyed(CAMPAIGN, &d1, "c-1", &spring_campaign())
        .await;
    let campaign = created.ok(StatusCode::CREATED);
    assert_eq!(campaign["entries"], 4);
    assert_eq!(campaign["follow_until"], "2026-05-31");
    let retry = app
        .post_keyed(CAMPAIGN, &d1, "c-1", &spring_campaign())
        .await;
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(
        retry.ok(StatusCode::CREATED)["campaign_id"],
        campaign["campaign_id"]
    );
    assert_eq!(app.count("select count(*) from campaign").await, 1);
    let id = campaign["campaign_id"].as_str().unwrap().to_owned();

    // The creator shares it between two dispatchers, in turn by rank.
    let assigned = app.assign_campaign(&d1, &id, &[d1_id, d2_id]).await;
    assert_eq!(assigned["assigned"][0]["entries"], 2);

    // Each dispatcher sees only their own queue; the manager sees all of it.
    let mine = app
        .get(&format!("{CAMPAIGN}/{id}/entries"), &d1)
        .await
        .ok(StatusCode::OK);
    assert_eq!(ids(&mine), vec![s.customers[0], s.customers[2]]);
    let theirs = app
        .get(&format!("{CAMPAIGN}/{id}/entries?assigned_to=me"), &d2)
        .await
        .ok(StatusCode::OK);
    assert_eq!(ids(&theirs), vec![s.customers[1], s.customers[3]]);
    // The queue holds campaigns still running: this spring's is over, a catalogue campaign made today is not.
    let catalogue = app
        .post_keyed(
            CAMPAIGN,
            &manager,
            "c-2",
            &json!({"name": "Catalogue", "list": "special_sizes", "min_garments": 1}),
        )
        .await
        .ok(StatusCode::CREATED);
    let catalogue_id = catalogue["campaign_id"].as_str().unwrap();
    app.assign_campaign(&manager, catalogue_id, &[d2_id]).await;
    let queue = app.get("/api/v1/queue", &d2).await.ok(StatusCode::OK);
    let mut queued = ids(&queue);
    let ranks: Vec<i64> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rank"].as_i64().unwrap())
        .collect();
    assert_eq!(ranks, [1, 2, 3, 4], "in rank order: {queue:#}");
    queued.sort();
    let mut expected = s.customers.clone();
    expected.sort();
    assert_eq!(queued, expected);
    assert!(queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["campaign_id"] == catalogue_id));
    assert_eq!(
        app.get("/api/v1/queue", &d1).await.ok(StatusCode::OK)["total"],
        0
    );
    app.get(&format!("{CAMPAIGN}/{id}/entries?assigned_to={d2_id}"), &d1)
        .await
        .problem(StatusCode::FORBIDDEN);
    let all = app
        .get(&format!("{CAMPAIGN}/{id}/entries"), &manager)
        .await
        .ok(StatusCode::OK);
    assert_eq!(all["total"], 4);

    // d1 cannot record on d2's entry.
    let outcome = |c: Uuid| format!("{CAMPAIGN}/{id}/entries/{c}/outcomes");
    app.post_keyed(
        &outcome(s.customers[1]),
        &d1,
        "o-x",
        &json!({"outcome": "no_answer"}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);

    // A booking: recorded once, with a call on the customer's history and a pickup booked.
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let booking = json!({"outcome": "booked", "booked_for": (today + chrono::Duration::days(2)).to_string(), "notes": "gate code 1234"});
    let entry = app
        .post_keyed(&outcome(s.customers[0]), &d1, "o-1", &booking)
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(entry["status"], "booked");
    let again = app
        .post_keyed(&outcome(s.customers[0]), &d1, "o-1", &booking)
        .await;
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(app.count("select count(*) from campaign_outcome").await, 1);
    assert_eq!(app.count("select count(*) from pickup_booking").await, 1);
    let calls = app
        .count(&format!("select count(*) from interaction where customer_id = '{}' and kind = 'call' and body like '%gate code 1234%'", s.customers[0]))
        .await;
    assert_eq!(calls, 1);

    // A call-back needs a time; no answer just counts the attempt.
    let bad = app
        .post_keyed(
            &outcome(s.customers[2]),
            &d1,
            "o-2",
            &json!({"outcome": "call_back"}),
        )
        .await;
    assert_eq!(
        bad.problem(StatusCode::UNPROCESSABLE_ENTITY)["errors"][0]["field"],
        "call_back_at"
    );
    app.post_keyed(
        &outcome(s.customers[2]),
        &d1,
        "o-3",
        &json!({"outcome": "no_answer"}),
    )
    .await
    .ok(StatusCode::CREATED);
    app.post_keyed(
        &outcome(s.customers[1]),
        &d2,
        "o-4",
        &json!({"outcome": "declined", "notes": "uses another laundry"}),
    )
    .await
    .ok(StatusCode::CREATED);

    // Booked customers leave the reminder list while their pickup is pending.
    let list = app
        .get(
            "/api/v1/lists/reminders?window=2026-spring&on=2026-04-15",
            &d1,
        )
        .await
        .ok(StatusCode::OK);
    assert!(!ids(&list).contains(&s.customers[0]));

    // The calls were made the day after the list day (outcomes are stamped when recorded).
    sqlx::query("update campaign_outcome set recorded_at = $1")
        .bind(crate::world::at("2026-04-16"))
        .execute(&app.pool)
        .await
        .unwrap();
    // The booked customer sends the listed coat plus a shirt: one pickup, one listed garment; the listed
    // garment's revenue and the whole visit's are reported side by side.
    let shirt =
        s.w.garment(s.customers[0], K::Shirt, S::AllSeason, M::Cotton, None)
            .await;
    s.w.pickup(
        s.customers[0],
        "2026-04-20",
        &[(s.coats[0], 40_000), (shirt, 2_000)],
    )
    .await;
    // A pickup after the window closed does not count.
    s.w.pickup(s.customers[2], "2026-06-15", &[(s.coats[2], 20_000)])
        .await;

    let report = app
        .get(&format!("{CAMPAIGN}/{id}/report"), &manager)
        .await
        .ok(StatusCode::OK);
    let row = |staff: Uuid| {
        report["dispatchers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["staff_id"] == staff.to_string())
            .unwrap()
            .clone()
    };
    let r1 = row(d1_id);
    assert_eq!(
        (
            r1["entries"].as_i64(),
            r1["worked"].as_i64(),
            r1["reached"].as_i64()
        ),
        (Some(2), Some(2), Some(1))
    );
    assert_eq!(
        (r1["booked"].as_i64(), r1["pickups"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        (
            r1["garments_cleaned"].as_i64(),
            r1["listed_revenue_cents"].as_i64(),
            r1["visit_revenue_cents"].as_i64()
        ),
        (Some(1), Some(40_000), Some(42_000))
    );
    let r2 = row(d2_id);
    assert_eq!(
        (
            r2["reached"].as_i64(),
            r2["declined"].as_i64(),
            r2["pickups"].as_i64()
        ),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!(report["total"]["entries"], 4);
    assert_eq!(report["total"]["listed_revenue_cents"], 40_000);
    assert_eq!(report["total"]["visit_revenue_cents"], 42_000);
    app.get(&format!("{CAMPAIGN}/{id}/report"), &d1)
        .await
        .problem(StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn never_contact_removes_the_customer_from_every_later_list(pool: sqlx::PgPool) {
    let s = setup(pool).await;
    let app = &s.w.app;
    let (manager, id) = spring_campaign_worked_by_a_manager(&s).await;
    let top = s.customers[0];
    let lists = [
        "/api/v1/lists/reminders?window=2026-spring&on=2026-04-15",
        "/api/v1/lists/storage-upsell?window=2025-spring&on=2025-05-01",
        "/api/v1/lists/special-sizes?min_garments=1",
        "/api/v1/lists/at-risk?factor=1&min_pickups=2",
    ];
    assert!(ids(&app.get(lists[0], &manager).await.ok(StatusCode::OK)).contains(&top));
    assert!(ids(&app.get(lists[2], &manager).await.ok(StatusCode::OK)).contains(&top));

    let uri = format!("{CAMPAIGN}/{id}/entries/{top}/outcomes");
    app.post_keyed(
        &uri,
        &manager,
        "o-1",
        &json!({"outcome": "never_contact", "notes": "asked us to stop calling"}),
    )
    .await
    .ok(StatusCode::CREATED);
    let customer = app
        .get(&format!("/api/v1/customers/{top}"), &manager)
        .await
        .ok(StatusCode::OK);
    assert_eq!(customer["do_not_contact"], true);
    for uri in lists {
        let page = app.get(uri, &manager).await.ok(StatusCode::OK);
        assert!(
            !ids(&page).contains(&top),
            "{uri} still lists a never-contact customer"
        );
    }
    // No later campaign picks them up, the queue drops them, and no further call can be recorded.
    let later = app
        .post_keyed(CAMPAIGN, &manager, "c-2", &spring_campaign())
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(later["entries"], 3);
    let queue = app
        .get("/api/v1/queue?limit=100", &manager)
        .await
        .ok(StatusCode::OK);
    assert!(!ids(&queue).contains(&top));
    app.post_keyed(&uri, &manager, "o-2", &json!({"outcome": "no_answer"}))
        .await
        .problem(StatusCode::CONFLICT);
    let csv = app
        .get(&format!("{CAMPAIGN}/{id}/entries?format=csv"), &manager)
        .await;
    assert!(!String::from_utf8(csv.body)
        .unwrap()
        .contains(&top.to_string()));
    // Downloaded from the Chinese page, each entry's status and reason read in Chinese.
    let zh = app
        .get_with(
            &format!("{CAMPAIGN}/{id}/entries?format=csv"),
            &manager,
            header::ACCEPT_LANGUAGE,
            "zh-CN",
        )
        .await;
    let text = String::from_utf8(zh.body).unwrap();
    assert!(
        text.contains(",待拨打,") && text.contains("件衣物待送洗，仍在穿的约 ¥"),
        "{text}"
    );
    assert!(
        !text.contains(",open,") && !text.contains("outstanding"),
        "{text}"
    );
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn campaigns_check_input_and_roles(pool: sqlx::PgPool) {
    let s = setup(pool).await;
    let app = &s.w.app;
    app.assert_needs_session(Method::GET, CAMPAIGN).await;
    app.assert_needs_session(Method::GET, "/api/v1/queue").await;
    let pickup = app.login(Role::Pickup).await;
    app.post_keyed(CAMPAIGN, &pickup, "k", &spring_campaign())
        .await
        .problem(StatusCode::FORBIDDEN);
    app.get("/api/v1/queue", &pickup)
        .await
        .problem(StatusCode::FORBIDDEN);

    let (d1, _) = s.w.staff(Role::Dispatcher).await;
    let (d2, d2_id) = s.w.staff(Role::Dispatcher).await;
    let bad = app
        .post_keyed(
            CAMPAIGN,
            &d1,
            "k1",
            &json!({"name": "x", "list": "everyone"}),
        )
        .await;
    assert_eq!(
        bad.problem(StatusCode::UNPROCESSABLE_ENTITY)["errors"][0]["field"],
        "list"
    );
    let bad = app
        .post_keyed(
            CAMPAIGN,
            &d1,
            "k2",
            &json!({"name": " ", "list": "reminders"}),
        )
        .await;
    assert_eq!(
        bad.problem(StatusCode::UNPROCESSABLE_ENTITY)["errors"][0]["field"],
        "name"
    );
    let bad = app
        .post_keyed(
            CAMPAIGN,
            &d1,
            "k3",
            &json!({"name": "x", "list": "reminders", "window": "2026-nope"}),
        )
        .await;
    assert_eq!(
        bad.problem(StatusCode::UNPROCESSABLE_ENTITY)["errors"][0]["field"],
        "window"
    );
    // Nothing was half-recorded by the refusals.
    assert_eq!(app.count("select count(*) from campaign").await, 0);
    let req = Request::post(CAMPAIGN)
        .header(header::AUTHORIZATION, format!("Bearer {d1}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(spring_campaign().to_string()))
        .unwrap();
    app.request(req).await.problem(StatusCode::BAD_REQUEST);

    let c = app.post_keyed(CAMPAIGN, &d1, "k4", &json!({"name": "Top two", "list": "reminders", "window": "2026-spring", "on": "2026-04-15", "max_entries": 2}))
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(c["entries"], 2);
    let id = c["campaign_id"].as_str().unwrap();
    // Only the creator or a manager may assign; only dispatchers and up may be given entries.
    app.post(
        &format!("{CAMPAIGN}/{id}/assign"),
        &d2,
        json!({"staff_ids": [d2_id]}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    let worker = s.w.worker;
    let bad = app
        .post(
            &format!("{CAMPAIGN}/{id}/assign"),
            &d1,
            json!({"staff_ids": [d2_id, worker]}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["errors"][0]["field"], "staff_ids[1]");
    app.get(&format!("{CAMPAIGN}/{}", Uuid::new_v4()), &d1)
        .await
        .problem(StatusCode::NOT_FOUND);

    // Every other list can be frozen too.
    for (k, list) in ["storage_upsell", "special_sizes", "at_risk"]
        .into_iter()
        .enumerate()
    {
        let body = json!({"name": list, "list": list, "window": if list == "storage_upsell" { Some("2025-spring") } else { None }, "on": "2025-05-01", "min_garments": 1, "factor": 1.0, "min_pickups": 2});
        let body = if list == "storage_upsell" {
            body
        } else {
            let mut b = body;
            b.as_object_mut().unwrap().remove("window");
            b
        };
        app.post_keyed(CAMPAIGN, &d1, &format!("l{k}"), &body)
            .await
            .ok(StatusCode::CREATED);
    }
    // An at-risk campaign of one kind of call: slipping customers only (few customers: all count as active).
    let slipping = app
        .post_keyed(
            CAMPAIGN,
            &d1,
            "l-slipping",
            &json!({"name": "care calls", "list": "at_risk", "on": "2025-05-01", "factor": 1.0,
                    "min_pickups": 2, "status": "slipping"}),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(slipping["params"]["status"], "slipping", "{slipping}");
    let bad = app
        .post_keyed(
            CAMPAIGN,
            &d1,
            "l-bad",
            &json!({"name": "x", "list": "at_risk", "status": "lost"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["field"], "status");
    let all = app.get(CAMPAIGN, &d1).await.ok(StatusCode::OK);
    assert_eq!(all["items"].as_array().unwrap().len(), 5);
}

/// Issue 14 item 4: a key is bound to its request target; the same key and body sent to another entry is 422 and
/// records nothing, where it once replayed the first customer's answer.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn an_idempotency_key_is_bound_to_its_target(pool: sqlx::PgPool) {
    let s = setup(pool).await;
    let app = &s.w.app;
    let (d1, d1_id) = s.w.staff(Role::Dispatcher).await;
    let campaign = app
        .post_keyed(CAMPAIGN, &d1, "c-1", &spring_campaign())
        .await
        .ok(StatusCode::CREATED);
    let id = campaign["campaign_id"].as_str().unwrap().to_owned();
    app.assign_campaign(&d1, &id, &[d1_id]).await;
    let outcome = |c: Uuid| format!("{CAMPAIGN}/{id}/entries/{c}/outcomes");
    let body = json!({"outcome": "no_answer"});
    app.post_keyed(&outcome(s.customers[0]), &d1, "k-1", &body)
        .await
        .ok(StatusCode::CREATED);
    let other = app
        .post_keyed(&outcome(s.customers[1]), &d1, "k-1", &body)
        .await;
    let problem = other.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "Idempotency-Key");
    assert!(!other.headers.contains_key("idempotent-replayed"));
    assert_eq!(app.count("select count(*) from campaign_outcome").await, 1);
    // The same key on the same route and target still replays.
    let again = app
        .post_keyed(&outcome(s.customers[0]), &d1, "k-1", &body)
        .await;
    assert_eq!(again.headers["idempotent-replayed"], "true");
}

/// A customer who tells a caller they no longer use the company counts as gone on the lists until their next
/// pickup: the entry closes, P(active) is zero from the call on, and a later pickup brings them back.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_customer_who_said_they_left_is_gone_until_they_come_back(pool: sqlx::PgPool) {
    let s = setup(pool).await;
    let app = &s.w.app;
    let (manager, id) = spring_campaign_worked_by_a_manager(&s).await;
    let (gone, back, kept) = (s.customers[0], s.customers[1], s.customers[2]);
    for (k, c) in [gone, back].into_iter().enumerate() {
        let recorded = app
            .post_keyed(
                &format!("{CAMPAIGN}/{id}/entries/{c}/outcomes"),
                &manager,
                &format!("o-{k}"),
                &json!({"outcome": "left", "notes": "moved to Pudong"}),
            )
            .await
            .ok(StatusCode::CREATED);
        assert_eq!(recorded["status"], "left", "{recorded}");
    }
    // The entries are closed as such; the report counts them.
    let closed = app
        .get(&format!("{CAMPAIGN}/{id}/entries?status=left"), &manager)
        .await
        .ok(StatusCode::OK);
    assert_eq!(ids(&closed), vec![gone, back], "{closed}");
    let report = app
        .get(&format!("{CAMPAIGN}/{id}/report"), &manager)
        .await
        .ok(StatusCode::OK);
    assert_eq!(report["total"]["said_left"], 2, "{report}");

    // The calls were made on 2026-03-01; one of the two had a pickup ten days later.
    sqlx::query("update campaign_outcome set recorded_at = '2026-03-01T10:00:00+08:00'")
        .execute(&app.pool)
        .await
        .expect("backdate the calls");
    let shirt =
        s.w.garment(back, K::Shirt, S::Summer, M::Cotton, None)
            .await;
    s.w.pickup(back, "2026-03-10", &[(shirt, 1_500)]).await;

    let page = app
        .get(
            "/api/v1/lists/reminders?window=2026-spring&on=2026-04-16",
            &manager,
        )
        .await
        .ok(StatusCode::OK);
    let p = |c: Uuid| {
        entry(&page, c).unwrap_or_else(|| panic!("{c} not listed in {page}"))["p_active"]
            .as_f64()
            .expect("p_active")
    };
    assert_eq!(p(gone), 0.0, "{page}");
    assert!(p(back) > 0.0 && p(kept) > 0.0, "{page}");
    assert_eq!(ids(&page).last(), Some(&gone), "a call adds nothing: last");
}
