//! Storage: orders priced and placed, one open order per garment, zone capacity, receipts, moves with their
//! events, the return list, the revenue report, roles, and stored garments leaving the reminder list.

use axum::http::{header, Method, StatusCode};
use chrono::{Datelike, NaiveDate};
use serde_json::{json, Value};
use uuid::Uuid;

use doorstep::domain::{GarmentKind as K, Material as M, Role, SeasonClass as S};

use crate::helpers::{roles_below, Reply, TestApp};
use crate::world::{ids, World};

/// Today in company time (Shanghai), as the service sees it.
fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

fn days_ago(n: i64) -> String {
    (today() - chrono::Duration::days(n)).to_string()
}

fn in_days(n: i64) -> String {
    (today() + chrono::Duration::days(n)).to_string()
}

fn orders_uri(customer: Uuid) -> String {
    format!("/api/v1/customers/{customer}/storage-orders")
}

fn order_uri(order: &Value) -> String {
    format!(
        "/api/v1/customers/{}/storage-orders/{}",
        order["customer_id"].as_str().unwrap(),
        order["order_id"].as_str().unwrap()
    )
}

async fn post_order(app: &TestApp, token: &str, customer: Uuid, key: &str, body: &Value) -> Reply {
    app.post_keyed(&orders_uri(customer), token, key, body)
        .await
}

async fn put(app: &TestApp, uri: &str, token: &str, body: Value) -> Reply {
    app.send(Method::PUT, uri, Some(token), Some(body)).await
}

struct Shop {
    w: World,
    dispatcher: String,
    dispatcher_id: Uuid,
    manager: String,
}

async fn shop(pool: sqlx::PgPool) -> Shop {
    let w = World::new(pool).await;
    let (dispatcher, dispatcher_id) = w.staff(Role::Dispatcher).await;
    let (manager, _) = w.staff(Role::Manager).await;
    Shop {
        w,
        dispatcher,
        dispatcher_id,
        manager,
    }
}

impl Shop {
    /// A garment of this customer, cleaned by us three days ago.
    async fn cleaned(&self, customer: Uuid, kind: K, material: M) -> Uuid {
        let g = self
            .w
            .garment(customer, kind, S::Winter, material, None)
            .await;
        self.w.pickup(customer, &days_ago(3), &[(g, 10_000)]).await;
        g
    }

    async fn order(&self, customer: Uuid, key: &str, body: Value) -> Value {
        post_order(&self.w.app, &self.dispatcher, customer, key, &body)
            .await
            .ok(StatusCode::CREATED)
    }

    async fn order_of(&self, customer: Uuid, garments: &[Uuid]) -> Value {
        let items: Vec<Value> = garments
            .iter()
            .map(|g| json!({"garment_id": g, "declared_value_cents": 100_000}))
            .collect();
        self.order(
            customer,
            &Uuid::new_v4().to_string(),
            json!({"items": items, "term_months": 6, "planned_return_on": in_days(60)}),
        )
        .await
    }

    async fn move_to(&self, order: &Value, status: &str) -> Reply {
        self.w
            .app
            .post(
                &format!("{}/status", order_uri(order)),
                &self.dispatcher,
                json!({"status": status}),
            )
            .await
    }

    async fn count(&self, sql: &str) -> i64 {
        self.w.app.count(sql).await
    }
}

/// The next start of the early-winter window (15 November) after today: the default planned return.
fn next_winter() -> NaiveDate {
    let t = today();
    let this_year = NaiveDate::from_ymd_opt(t.year(), 11, 15).unwrap();
    if this_year > t {
        this_year
    } else {
        NaiveDate::from_ymd_opt(t.year() + 1, 11, 15).unwrap()
    }
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn an_order_is_priced_placed_and_recorded_once(pool: sqlx::PgPool) {
    let s = shop(pool).await;
    let c = s.w.customer("Liu Fang").await;
    let fur = s.cleaned(c, K::Coat, M::Fur).await;
    let coat = s.cleaned(c, K::Coat, M::Wool).await;
    let knit = s.cleaned(c, K::Sweater, M::Cashmere).await;
    let body = json!({
        "items": [
            {"garment_id": fur, "declared_value_cents": 800_000, "position": "V-12"},
            {"garment_id": coat, "declared_value_cents": 333_333},
            {"garment_id": knit, "declared_value_cents": 3_300},
        ],
        "term_months": 6,
        "delivery_preference": "weekday evenings, call first",
    });
    let order = s.order(c, "o-1", body.clone()).await;

    // Fee = monthly price (most specific row) x 6; premium = 1.5 % of declared, half up to the cent.
    let items = order["items"].as_array().unwrap();
    let by_garment = |g: Uuid| {
        items
            .iter()
            .find(|i| i["garment_id"] == g.to_string())
            .unwrap()
            .clone()
    };
    let (f, w, k) = (by_garment(fur), by_garment(coat), by_garment(knit));
    assert_eq!(
        (f["fee_cents"].as_i64(), f["premium_cents"].as_i64()),
        (Some(36_000), Some(12_000))
    );
    assert_eq!(
        (w["fee_cents"].as_i64(), w["premium_cents"].as_i64()),
        (Some(15_000), Some(5_000))
    );
    assert_eq!(
        (k["fee_cents"].as_i64(), k["premium_cents"].as_i64()),
        (Some(15_000), Some(50))
    );
    assert_eq!(order["fee_cents"], 66_000);
    assert_eq!(order["premium_cents"], 17_050);
    assert_eq!(order["declared_cents"], 1_136_633);
    assert_eq!(order["total_cents"], 83_050);
    assert_eq!(order["insurance_rate_bp"], 150);

    // Placed by material and kind; the position is kept.
    assert_eq!(f["zone_id"], "cold-vault");
    assert_eq!(f["position"], "V-12");
    assert_eq!(w["zone_id"], "rack-a");
    assert_eq!(k["zone_id"], "bin-a");

    // Defaults and the first event: who accepted it, and when.
    assert_eq!(order["status"], "accepted");
    // The planned return defaults to the next early-winter start, but never past the paid term.
    let term_ends = today() + chrono::Months::new(6);
    assert_eq!(
        order["planned_return_on"],
        next_winter().min(term_ends).to_string()
    );
    assert!(order["warnings"].as_array().unwrap().is_empty(), "{order}");
    assert_eq!(
        order["term_ends_on"],
        (today() + chrono::Months::new(6)).to_string()
    );
    assert!(order["receipt_no"]
        .as_str()
        .unwrap()
        .starts_with(&format!("ST{}-", today().year())));
    assert_eq!(order["events"].as_array().unwrap().len(), 1);
    assert_eq!(order["events"][0]["status"], "accepted");
    assert_eq!(order["events"][0]["staff_id"], s.dispatcher_id.to_string());
    assert!(order["events"][0]["at"].is_string());

    // A retry answers the same order and records nothing new; the same key for another body is refused.
    let retry = post_order(&s.w.app, &s.dispatcher, c, "o-1", &body).await;
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(retry.ok(StatusCode::CREATED)["order_id"], order["order_id"]);
    assert_eq!(s.count("select count(*) from storage_order").await, 1);
    assert_eq!(s.count("select count(*) from storage_item").await, 3);
    assert_eq!(s.count("select count(*) from storage_event").await, 1);
    let mut other = body.clone();
    other["term_months"] = json!(3);
    post_order(&s.w.app, &s.dispatcher, c, "o-1", &other)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);

    // The order reads back the same, and in the customer's list.
    let shown =
        s.w.app
            .get(&order_uri(&order), &s.dispatcher)
            .await
            .ok(StatusCode::OK);
    assert_eq!(shown["fee_cents"], 66_000);
    let listed =
        s.w.app
            .get(&orders_uri(c), &s.dispatcher)
            .await
            .ok(StatusCode::OK);
    assert_eq!(listed["items"][0]["item_count"], 3);
    assert_eq!(listed["items"][0]["receipt_no"], order["receipt_no"]);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn rates_and_prices_come_from_settings_and_the_price_list(pool: sqlx::PgPool) {
    let s = shop(pool).await;
    let c = s.w.customer("Zhou Min").await;
    let fur = s.cleaned(c, K::Coat, M::Fur).await;
    // A fur coat: the coat row and the fur row tie on specificity and the dearer (fur, 60.00) wins ...
    let prices =
        s.w.app
            .get("/api/v1/storage/prices", &s.dispatcher)
            .await
            .ok(StatusCode::OK);
    assert!(prices.as_array().unwrap().len() >= 11);
    // ... until a manager prices fur coats on their own.
    let row = put(
        &s.w.app,
        "/api/v1/storage/prices",
        &s.manager,
        json!({"kind": "coat", "material": "fur", "monthly_cents": 7_000}),
    )
    .await
    .ok(StatusCode::OK);
    assert_eq!(row["monthly_cents"], 7_000);
    // A manager sets the default rate; an order may still name its own. 1.25 % of 12.40 is 0.155 -> 0.16.
    put(
        &s.w.app,
        "/api/v1/storage/settings",
        &s.manager,
        json!({"insurance_rate_bp": 200}),
    )
    .await
    .ok(StatusCode::OK);
    let order = s
        .order(
            c,
            "r-1",
            json!({"items": [{"garment_id": fur, "declared_value_cents": 1_240}], "term_months": 3,
                   "insurance_rate_bp": 125, "planned_return_on": in_days(90)}),
        )
        .await;
    assert_eq!(order["items"][0]["fee_cents"], 21_000);
    assert_eq!(order["items"][0]["premium_cents"], 16);
    assert_eq!(order["insurance_rate_bp"], 125);
    assert_eq!(order["planned_return_on"], in_days(90));
    s.move_to(&order, "in_storage").await.ok(StatusCode::OK);
    s.move_to(&order, "return_requested")
        .await
        .ok(StatusCode::OK);
    s.move_to(&order, "returned").await.ok(StatusCode::OK);
    let again = s
        .order(
            c,
            "r-2",
            json!({"items": [{"garment_id": fur, "declared_value_cents": 100_000}], "term_months": 1,
                   "planned_return_on": in_days(30)}),
        )
        .await;
    assert_eq!(again["insurance_rate_bp"], 200);
    assert_eq!(again["premium_cents"], 2_000);

    // The catch-all price cannot go (every garment needs a price); others can.
    let all =
        s.w.app
            .get("/api/v1/storage/prices", &s.manager)
            .await
            .ok(StatusCode::OK);
    let catch_all = all
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"].is_null() && p["material"].is_null())
        .unwrap()["price_id"]
        .clone();
    s.w.app
        .send(
            Method::DELETE,
            &format!("/api/v1/storage/prices/{catch_all}"),
            Some(&s.manager),
            None,
        )
        .await
        .problem(StatusCode::CONFLICT);
    let fur_coat = row["price_id"].clone();
    let gone =
        s.w.app
            .send(
                Method::DELETE,
                &format!("/api/v1/storage/prices/{fur_coat}"),
                Some(&s.manager),
                None,
            )
            .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let bad = put(
        &s.w.app,
        "/api/v1/storage/prices",
        &s.manager,
        json!({"kind": "spaceship", "monthly_cents": 1}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["field"], "kind");
    let bad = put(
        &s.w.app,
        "/api/v1/storage/settings",
        &s.manager,
        json!({"insurance_rate_bp": 10_001}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["field"], "insurance_rate_bp");
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_garment_is_in_one_open_order_at_a_time(pool: sqlx::PgPool) {
    let s = shop(pool).await;
    let c = s.w.customer("Sun Hao").await;
    let coat = s.cleaned(c, K::Coat, M::Wool).await;
    let scarf = s.cleaned(c, K::Scarf, M::Wool).await;
    let first = s.order_of(c, &[coat]).await;

    // The same coat in a second order, even beside another garment, is refused naming its line.
    let second = json!({"items": [{"garment_id": scarf, "declared_value_cents": 1},
                                  {"garment_id": coat, "declared_value_cents": 1}], "term_months": 6});
    let refused = post_order(&s.w.app, &s.dispatcher, c, "second", &second)
        .await
        .problem(StatusCode::CONFLICT);
    assert_eq!(refused["field"], "items[1].garment_id");
    assert!(refused["detail"]
        .as_str()
        .unwrap()
        .contains(first["receipt_no"].as_str().unwrap()));
    assert_eq!(s.count("select count(*) from storage_order").await, 1);

    // Once the first order is returned, the coat can be stored again.
    for status in ["in_storage", "return_requested", "returned"] {
        s.move_to(&first, status).await.ok(StatusCode::OK);
    }
    let returned =
        s.w.app
            .get(&order_uri(&first), &s.dispatcher)
            .await
            .ok(StatusCode::OK);
    assert!(returned["items"][0]["released_at"].is_string());
    let again = post_order(&s.w.app, &s.dispatcher, c, "second-again", &second).await;
    assert_eq!(
        again.ok(StatusCode::CREATED)["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Two orders racing for one garment: exactly one is accepted.
    let knit = s.cleaned(c, K::Sweater, M::Wool).await;
    let body =
        json!({"items": [{"garment_id": knit, "declared_value_cents": 1}], "term_months": 6});
    let (a, b) = tokio::join!(
        post_order(&s.w.app, &s.dispatcher, c, "race-a", &body),
        post_order(&s.w.app, &s.dispatcher, c, "race-b", &body)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn bad_orders_name_the_field(pool: sqlx::PgPool) {
    let s = shop(pool).await;
    let c = s.w.customer("Wang Lei").await;
    let other = s.w.customer("Someone Else").await;
    let coat = s.cleaned(c, K::Coat, M::Wool).await;
    let theirs = s.cleaned(other, K::Coat, M::Wool).await;
    let never = s.w.garment(c, K::Coat, S::Winter, M::Wool, None).await;
    let stale = s.w.garment(c, K::Suit, S::Winter, M::Wool, None).await;
    s.w.pickup(c, &days_ago(400), &[(stale, 9_000)]).await;
    let app = &s.w.app;

    let fields = |r: &Value| -> Vec<String> {
        r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = post_order(
        app,
        &s.dispatcher,
        c,
        "b-1",
        &json!({"items": [
            {"garment_id": coat, "declared_value_cents": -5},
            {"garment_id": coat, "declared_value_cents": 5}],
        "term_months": 0, "insurance_rate_bp": 20_000, "planned_return_on": days_ago(1)}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&r),
        [
            "items[0].declared_value_cents",
            "items[1].garment_id",
            "term_months",
            "insurance_rate_bp",
            "planned_return_on"
        ]
    );
    let r = post_order(
        app,
        &s.dispatcher,
        c,
        "b-2",
        &json!({"items": [], "term_months": 6}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r["field"], "items");
    let r = post_order(
        app,
        &s.dispatcher,
        c,
        "b-3",
        &json!({"items": [{"garment_id": coat}], "term_months": 6}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    // A missing field is named by its whole path, not its parent's.
    assert_eq!(r["field"], "items[0].declared_value_cents");
    assert_eq!(r["errors"][0]["message"], "required");

    // Garments must be this customer's, cleaned by us, and recently (90 days by default).
    let r = post_order(
        app,
        &s.dispatcher,
        c,
        "b-4",
        &json!({"items": [
            {"garment_id": theirs, "declared_value_cents": 1},
            {"garment_id": never, "declared_value_cents": 1},
            {"garment_id": stale, "declared_value_cents": 1},
            {"garment_id": coat, "declared_value_cents": 1}], "term_months": 6}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&r),
        [
            "items[0].garment_id",
            "items[1].garment_id",
            "items[2].garment_id"
        ]
    );
    assert!(r["errors"][1]["message"]
        .as_str()
        .unwrap()
        .contains("not been cleaned"));
    assert!(r["errors"][2]["message"]
        .as_str()
        .unwrap()
        .contains("more than 90 days ago"));

    // Unknown zones, fur on a rack, unknown customers, missing keys.
    let fur = s.cleaned(c, K::Coat, M::Fur).await;
    let r = post_order(app, &s.dispatcher, c, "b-5", &json!({"items": [
            {"garment_id": coat, "declared_value_cents": 1, "zone_id": "attic"}], "term_months": 6}))
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r["field"], "items[0].zone_id");
    let r = post_order(app, &s.dispatcher, c, "b-6", &json!({"items": [
            {"garment_id": fur, "declared_value_cents": 1, "zone_id": "rack-a"}], "term_months": 6}))
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r["field"], "items[0].zone_id");
    post_order(
        app,
        &s.dispatcher,
        Uuid::new_v4(),
        "b-7",
        &json!({"items": [
            {"garment_id": coat, "declared_value_cents": 1}], "term_months": 6}),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    let r = app
        .post(
            &orders_uri(c),
            &s.dispatcher,
            json!({"items": [{"garment_id": coat, "declared_value_cents": 1}], "term_months": 6}),
        )
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(r["field"], "Idempotency-Key");
    assert_eq!(s.count("select count(*) from storage_order").await, 0);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_full_zone_refuses_with_its_numbers(pool: sqlx::PgPool) {
    let s = shop(pool).await;
    let c = s.w.customer("Chen Jing").await;
    let furs = [
        s.cleaned(c, K::Coat, M::Fur).await,
        s.cleaned(c, K::Jacket, M::Leather).await,
        s.cleaned(c, K::Skirt, M::Suede).await,
    ];
    let app = &s.w.app;
    let zone = put(
        app,
        "/api/v1/storage/zones/cold-vault",
        &s.manager,
        json!({"capacity": 1}),
    )
    .await
    .ok(StatusCode::OK);
    assert_eq!(
        (zone["capacity"].as_i64(), zone["in_use"].as_i64()),
        (Some(1), Some(0))
    );
    // A shipped zone keeps its catalogue name (in the reader's language) until its name changes.
    assert_eq!(zone["named"], false, "{zone}");
    s.order_of(c, &furs[..1]).await;

    let refused = post_order(
        app,
        &s.dispatcher,
        c,
        "full",
        &json!({"items": [
            {"garment_id": furs[1], "declared_value_cents": 1}], "term_months": 6}),
    )
    .await
    .problem(StatusCode::CONFLICT);
    assert_eq!(refused["field"], "items[0].zone_id");
    assert_eq!(refused["detail"], "cold-vault is full: 1 of 1 places taken");
    assert_eq!(s.count("select count(*) from storage_order").await, 1);

    // What the zones hold now; capacity cannot go below it.
    let zones = app
        .get("/api/v1/storage/zones", &s.dispatcher)
        .await
        .ok(StatusCode::OK);
    let vault = zones
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["zone_id"] == "cold-vault")
        .unwrap()
        .clone();
    assert_eq!(
        (vault["in_use"].as_i64(), vault["free"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(vault["named"], false, "{vault}");
    let same = json!({"name": "Cold vault (fur, leather, suede)", "capacity": 1});
    let kept = put(app, "/api/v1/storage/zones/cold-vault", &s.manager, same)
        .await
        .ok(StatusCode::OK);
    assert_eq!(kept["named"], false, "saved under its own name: {kept}");
    let renamed = put(
        app,
        "/api/v1/storage/zones/cold-vault",
        &s.manager,
        json!({"name": "Fur room", "capacity": 1}),
    )
    .await
    .ok(StatusCode::OK);
    assert_eq!(
        (&renamed["name"], &renamed["named"]),
        (&json!("Fur room"), &json!(true))
    );
    let r = put(
        app,
        "/api/v1/storage/zones/cold-vault",
        &s.manager,
        json!({"capacity": 0}),
    )
    .await
    .problem(StatusCode::CONFLICT);
    assert_eq!(r["field"], "capacity");
    let r = put(
        app,
        "/api/v1/storage/zones/cold-vault",
        &s.manager,
        json!({"capacity": 5, "kind": "bin"}),
    )
    .await
    .problem(StatusCode::CONFLICT);
    assert_eq!(r["field"], "kind");
    put(
        app,
        "/api/v1/storage/zones/cold-vault",
        &s.dispatcher,
        json!({"capacity": 5}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);

    // A second vault takes what the first cannot.
    let r = put(
        app,
        "/api/v1/storage/zones/vault-2",
        &s.manager,
        json!({"capacity": 1}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r["field"], "name");
    let created = put(
        app,
        "/api/v1/storage/zones/vault-2",
        &s.manager,
        json!({"name": "Cold vault 2", "kind": "cold_vault", "capacity": 1}),
    )
    .await
    .ok(StatusCode::CREATED);
    assert_eq!(
        (&created["free"], &created["named"]),
        (&json!(1), &json!(true))
    );
    let order = s.order_of(c, &furs[1..2]).await;
    assert_eq!(order["items"][0]["zone_id"], "vault-2");

    // Both vaults full now; two orders racing for the last bin place: one wins.
    let refused = post_order(
        app,
        &s.dispatcher,
        c,
        "full-2",
        &json!({"items": [
            {"garment_id": furs[2], "declared_value_cents": 1}], "term_months": 6}),
    )
    .await
    .problem(StatusCode::CONFLICT);
    assert_eq!(refused["detail"], "cold-vault is full: 1 of 1 places taken");
    put(
        app,
        "/api/v1/storage/zones/bin-a",
        &s.manager,
        json!({"capacity": 1}),
    )
    .await
    .ok(StatusCode::OK);
    let a = s.cleaned(c, K::Sweater, M::Wool).await;
    let b = s.cleaned(c, K::Scarf, M::Wool).await;
    let body = |g: Uuid| json!({"items": [{"garment_id": g, "declared_value_cents": 1}], "term_months": 6});
    let (body_a, body_b) = (body(a), body(b));
    let (ra, rb) = tokio::join!(
        post_order(app, &s.dispatcher, c, "bin-a", &body_a),
        post_order(app, &s.dispatcher, c, "bin-b", &body_b)
    );
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    assert_eq!(
        s.count(
            "select count(*) from storage_item where zone_id = 'bin-a' and released_at is null"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn moves_are_one_step_and_recorded_with_who_and_when(pool: sqlx::PgPool) {
    let s = shop(pool).await;
    let c = s.w.customer("Li Na").await;
    let coat = s.cleaned(c, K::Coat, M::Wool).await;
    let order = s.order_of(c, &[coat]).await;
    let app = &s.w.app;
    let (other, other_id) = s.w.staff(Role::Dispatcher).await;
    let pickup = app.login(Role::Pickup).await;
    let uri = order_uri(&order);

    let r = s
        .move_to(&order, "returned")
        .await
        .problem(StatusCode::CONFLICT);
    assert_eq!(r["field"], "status");
    assert_eq!(
        r["detail"],
        "an order that is accepted can only move to in_storage"
    );
    let r = s
        .move_to(&order, "accepted")
        .await
        .problem(StatusCode::CONFLICT);
    assert_eq!(r["detail"], "the order is already accepted");
    let r = app
        .post(
            &format!("{uri}/status"),
            &s.dispatcher,
            json!({"status": "lost"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r["field"], "status");
    app.post(
        &format!("{uri}/status"),
        &pickup,
        json!({"status": "in_storage"}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    // A return delivery is booked only for what is in storage.
    let r = app
        .post(
            &format!("{uri}/delivery"),
            &s.dispatcher,
            json!({"booked_for": in_days(3)}),
        )
        .await
        .problem(StatusCode::CONFLICT);
    assert_eq!(r["field"], "status");

    app.post(
        &format!("{uri}/status"),
        &other,
        json!({"status": "in_storage", "note": "shelf V"}),
    )
    .await
    .ok(StatusCode::OK);
    let r = app
        .post(
            &format!("{uri}/delivery"),
            &s.dispatcher,
            json!({"booked_for": days_ago(1)}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r["field"], "booked_for");
    // Booking the delivery asks the order back and records both.
    let booked = app
        .post(
            &format!("{uri}/delivery"),
            &s.dispatcher,
            json!({"booked_for": in_days(3), "note": "after 6pm"}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(booked["status"], "return_requested");
    assert_eq!(booked["delivery_booked_for"], in_days(3));
    let events = booked["events"].as_array().unwrap();
    let seen: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["status"].as_str().unwrap(),
                e["staff_id"].as_str().unwrap(),
            )
        })
        .collect();
    let d = s.dispatcher_id.to_string();
    let o = other_id.to_string();
    assert_eq!(
        seen,
        [
            ("status", "accepted", d.as_str()),
            ("status", "in_storage", o.as_str()),
            ("status", "return_requested", d.as_str()),
            ("delivery", "return_requested", d.as_str()),
        ]
    );
    assert_eq!(events[1]["note"], "shelf V");
    assert_eq!(events[3]["booked_for"], in_days(3));
    assert_eq!(events[3]["note"], "after 6pm");
    let times: Vec<chrono::DateTime<chrono::Utc>> = events
        .iter()
        .map(|e| e["at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    // Rebooking is recorded too; once returned nothing moves.
    app.post(
        &format!("{uri}/delivery"),
        &s.dispatcher,
        json!({"booked_for": in_days(4)}),
    )
    .await
    .ok(StatusCode::OK);
    let done = s.move_to(&order, "returned").await.ok(StatusCode::OK);
    assert_eq!(done["events"].as_array().unwrap().len(), 6);
    let r = s
        .move_to(&order, "in_storage")
        .await
        .problem(StatusCode::CONFLICT);
    assert_eq!(
        r["detail"],
        "the order has been returned: it cannot move any more"
    );
    app.post(
        &format!("{uri}/delivery"),
        &s.dispatcher,
        json!({"booked_for": in_days(5)}),
    )
    .await
    .problem(StatusCode::CONFLICT);
    // Another customer's path does not reach this order.
    app.get(
        &format!(
            "/api/v1/customers/{}/storage-orders/{}",
            Uuid::new_v4(),
            order["order_id"].as_str().unwrap()
        ),
        &s.dispatcher,
    )
    .await
    .problem(StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn retried_moves_and_bookings_under_a_key_are_recorded_once(pool: sqlx::PgPool) {
    let s = shop(pool).await;
    let c = s.w.customer("Li Na").await;
    let coat = s.cleaned(c, K::Coat, M::Wool).await;
    let order = s.order_of(c, &[coat]).await;
    let app = &s.w.app;
    let uri = order_uri(&order);
    let events = || s.count("select count(*) from storage_event");
    let stored = json!({"status": "in_storage", "note": "shelf V"});

    let first = app
        .post_keyed(&format!("{uri}/status"), &s.dispatcher, "move-1", &stored)
        .await
        .ok(StatusCode::OK);
    assert_eq!(events().await, 2);
    // The answer was lost: the retry repeats it instead of refusing the move as already made.
    let retry = app
        .post_keyed(&format!("{uri}/status"), &s.dispatcher, "move-1", &stored)
        .await;
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(retry.ok(StatusCode::OK), first);
    assert_eq!(events().await, 2);
    // Without a key the repeat is a conflict, as before.
    app.post(&format!("{uri}/status"), &s.dispatcher, stored.clone())
        .await
        .problem(StatusCode::CONFLICT);

    let booking = json!({"booked_for": in_days(3), "note": "after 6pm"});
    let booked = app
        .post_keyed(
            &format!("{uri}/delivery"),
            &s.dispatcher,
            "book-1",
            &booking,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(events().await, 4, "asked back and booked");
    let again = app
        .post_keyed(
            &format!("{uri}/delivery"),
            &s.dispatcher,
            "book-1",
            &booking,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(again, booked);
    assert_eq!(events().await, 4, "the retry added no second booking");
    let reused = app
        .post_keyed(
            &format!("{uri}/delivery"),
            &s.dispatcher,
            "book-1",
            &json!({"booked_for": in_days(4)}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused["field"], "Idempotency-Key");
    app.post_keyed(
        &format!("{uri}/delivery"),
        &s.dispatcher,
        "book-2",
        &json!({"booked_for": in_days(4)}),
    )
    .await
    .ok(StatusCode::OK);
    assert_eq!(events().await, 5, "a new key books again");
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_receipt_lists_every_item_and_escapes_customer_text(pool: sqlx::PgPool) {
    let s = shop(pool).await;
    let c = s.w.customer("王芳 <script>alert('x')</script>").await;
    let fur = s.cleaned(c, K::Coat, M::Fur).await;
    let knit = s.cleaned(c, K::Sweater, M::Cashmere).await;
    sqlx::query("update garment set brand = 'Max & Mara', colour = 'camel', size = '40' where garment_id = $1")
        .bind(fur)
        .execute(&s.w.app.pool)
        .await
        .unwrap();
    let order = s
        .order(
            c,
            "receipt",
            json!({"items": [
                    {"garment_id": fur, "declared_value_cents": 800_000, "position": "V-12"},
                    {"garment_id": knit, "declared_value_cents": 120_000}],
                   "term_months": 6, "planned_return_on": "2027-11-15",
                   "delivery_preference": "<b>weekends</b>"}),
        )
        .await;
    let receipt_no = order["receipt_no"].as_str().unwrap();
    assert_eq!(order["items"][0]["zone_named"], false, "{order}");
    let pickup = s.w.app.login(Role::Pickup).await;

    let page =
        s.w.app
            .get(
                &format!("{}/receipt.html?lang=en", order_uri(&order)),
                &pickup,
            )
            .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.content_type(), "text/html; charset=utf-8");
    assert!(page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(html.contains(&format!("Storage receipt {receipt_no}")));
    assert!(html.contains("王芳 &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(!html.contains("<script"));
    assert!(html.contains("&lt;b&gt;weekends&lt;/b&gt;"));
    assert!(html.contains("women&#39;s coat, Max &amp; Mara, camel, size 40, fur"));
    assert!(html.contains("women&#39;s sweater, cashmere"));
    assert!(html.contains("Cold vault (fur, leather, suede) / V-12"));
    for figure in [
        "8,000.00", "1,200.00", // declared
        "360.00", "150.00", // fees
        "120.00", "18.00", // premiums
        "9,200.00", "510.00", "138.00", "648.00", // totals
    ] {
        assert!(
            html.contains(&format!(">{figure}</td>")),
            "{figure} missing"
        );
    }
    assert!(html.contains("6 months"));
    assert!(html.contains("2027-11-15"));
    assert!(html.contains("1.50 % of declared value"));
    assert!(html.contains(doorstep::storage::receipt::LIABILITY));

    let pdf =
        s.w.app
            .get(
                &format!("{}/receipt.pdf?lang=en", order_uri(&order)),
                &pickup,
            )
            .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.content_type(), "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF-"));
    assert!(String::from_utf8_lossy(&pdf.body)
        .trim_end()
        .ends_with("%%EOF"));
    let text = pdf_extract::extract_text_from_mem(&pdf.body).unwrap();
    assert!(
        text.contains(&format!("Storage receipt {receipt_no}")),
        "{text}"
    );
    assert!(text.contains("Max & Mara"));
    assert!(text.contains("V-12"));
    assert!(text.contains("9,200.00"));
    assert!(text.contains("648.00"));
    assert!(text.contains("2 items"));
    assert!(text.contains("limited to the value declared"));
    // The Chinese name prints in full: the PDF embeds a CJK font.
    assert!(text.contains("王芳 <script>alert('x')</script>"), "{text}");

    // The customer reads Chinese: without an English reader (cookie, browser) the receipt is in Chinese.
    let zh =
        s.w.app
            .get(&format!("{}/receipt.html", order_uri(&order)), &pickup)
            .await;
    let html = String::from_utf8(zh.body.clone()).unwrap();
    std::fs::write(
        crate::browser::artefacts().join("storage-receipt-zh-CN.html"),
        &html,
    )
    .unwrap();
    assert!(html.contains(r#"<html lang="zh-CN">"#));
    assert!(html.contains(&format!("仓储收据 {receipt_no}")));
    assert!(
        html.contains("女装大衣 · Max &amp; Mara · camel · 40 · 皮草"),
        "{html}"
    );
    assert!(html.contains("6 个月"));
    assert!(html.contains("2027年11月15日"));
    assert!(html.contains("每件衣物的赔偿以本收据上为其申报的价值为限。"));
    assert!(!html.contains("Storage receipt") && !html.contains("declared value"));
    // Shipped zones nobody renamed print in Chinese; a renamed one prints as the manager wrote it.
    let zh_html = |path: String| {
        let app = &s.w.app;
        let pickup = &pickup;
        async move {
            let page = app.get(&path, pickup).await;
            assert_eq!(page.status, StatusCode::OK);
            String::from_utf8(page.body).unwrap()
        }
    };
    let html = zh_html(format!("{}/receipt.html?lang=zh-CN", order_uri(&order))).await;
    assert!(html.contains("冷藏库（皮草、皮革、麂皮） / V-12"), "{html}");
    assert!(html.contains("折叠货箱 A（针织衫、围巾、床品）"), "{html}");
    assert!(!html.contains("Cold vault") && !html.contains("Folded bins"));
    sqlx::query(
        "update storage_zone set name = 'Vault <B>', named = true where zone_id = 'cold-vault'",
    )
    .execute(&s.w.app.pool)
    .await
    .unwrap();
    let html = zh_html(format!("{}/receipt.html?lang=zh-CN", order_uri(&order))).await;
    assert!(html.contains("Vault &lt;B&gt; / V-12"), "{html}");
    assert!(!html.contains("冷藏库"));
    let zh =
        s.w.app
            .get(
                &format!("{}/receipt.pdf?lang=zh-CN", order_uri(&order)),
                &pickup,
            )
            .await;
    std::fs::write(
        crate::browser::artefacts().join("storage-receipt-zh-CN.pdf"),
        &zh.body,
    )
    .unwrap();
    let text = pdf_extract::extract_text_from_mem(&zh.body).unwrap();
    assert!(text.contains(&format!("仓储收据 {receipt_no}")), "{text}");
    assert!(text.contains("折叠货箱"), "{text}");
    assert!(text.contains("共 2 件"), "{text}");
    assert!(text.contains("9,200.00"));

    s.w.app
        .assert_needs_session(Method::GET, &format!("{}/receipt.pdf", order_uri(&order)))
        .await;
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn stored_garments_leave_the_reminder_list(pool: sqlx::PgPool) {
    let s = shop(pool).await;
    let c = s.w.customer("Winter Wardrobe").await;
    let coat = s.w.garment(c, K::Coat, S::Winter, M::Wool, None).await;
    let down =
        s.w.garment(c, K::DownJacket, S::Winter, M::Down, None)
            .await;
    // The orders below are taken today, so the list is asked for today: the latest spring window that has
    // opened, with the garments cleaned the spring before it.
    let today = doorstep::state::Settings::default().clock.today();
    let year = if today.month() >= 3 {
        today.year()
    } else {
        today.year() - 1
    };
    s.w.pickup(
        c,
        &format!("{}-03-20", year - 1),
        &[(coat, 20_000), (down, 15_000)],
    )
    .await;
    let reminders = format!("/api/v1/lists/reminders?window={year}-spring&on={today}");
    let reminders = reminders.as_str();
    let entry = |page: &Value| crate::world::entry(page, c).cloned();
    let before =
        s.w.app
            .get(reminders, &s.dispatcher)
            .await
            .ok(StatusCode::OK);
    assert_eq!(entry(&before).unwrap()["outstanding"], 2);

    // Cleaned over a year ago: refused by the 90-day rule until a manager drops it.
    let body =
        json!({"items": [{"garment_id": coat, "declared_value_cents": 500_000}], "term_months": 8});
    post_order(&s.w.app, &s.dispatcher, c, "rem-1", &body)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let settings = put(
        &s.w.app,
        "/api/v1/storage/settings",
        &s.manager,
        json!({"cleaned_within_days": null}),
    )
    .await
    .ok(StatusCode::OK);
    assert!(settings["cleaned_within_days"].is_null());
    let order = s.order(c, "rem-2", body).await;

    let stored =
        s.w.app
            .get(reminders, &s.dispatcher)
            .await
            .ok(StatusCode::OK);
    let e = entry(&stored).unwrap();
    assert_eq!(e["outstanding"], 1);
    assert_eq!(e["garments"][0]["garment_id"], down.to_string());
    let both = s.order_of(c, &[down]).await;
    let none =
        s.w.app
            .get(reminders, &s.dispatcher)
            .await
            .ok(StatusCode::OK);
    assert!(!ids(&none).contains(&c));

    // Returned garments are the customer's again, and outstanding again.
    for status in ["in_storage", "return_requested", "returned"] {
        s.move_to(&order, status).await.ok(StatusCode::OK);
        s.move_to(&both, status).await.ok(StatusCode::OK);
    }
    let after =
        s.w.app
            .get(reminders, &s.dispatcher)
            .await
            .ok(StatusCode::OK);
    assert_eq!(entry(&after).unwrap()["outstanding"], 2);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_return_list_ranks_by_due_date_and_books_deliveries(pool: sqlx::PgPool) {
    let s = shop(pool).await;
    let app = &s.w.app;
    let mut customers = Vec::new();
    let mut orders = Vec::new();
    // (name, planned return in days, delivery preference)
    for (name, due, pref) in [
        ("Later", 50, "mornings"),
        ("Soonest", 30, "weekends only"),
        ("Refuses Calls", 40, ""),
        ("Not Yet Due", 120, ""),
    ] {
        let c = s.w.customer(name).await;
        let g = s.cleaned(c, K::Coat, M::Wool).await;
        let order = s
            .order(
                c,
                &format!("ret-{}", name.replace(' ', "-")),
                json!({"items": [{"garment_id": g, "declared_value_cents": 50_000}], "term_months": 6,
                       "planned_return_on": in_days(due), "delivery_preference": pref}),
            )
            .await;
        s.move_to(&order, "in_storage").await.ok(StatusCode::OK);
        customers.push(c);
        orders.push(order);
    }
    s.w.do_not_contact(customers[2]).await;
    let uri = format!("/api/v1/storage/returns?due_by={}", in_days(60));

    let page = app.get(&uri, &s.dispatcher).await.ok(StatusCode::OK);
    assert_eq!(ids(&page), [customers[1], customers[2], customers[0]]);
    assert_eq!(page["due_by"], in_days(60));
    let first = &page["items"][0];
    assert_eq!(first["rank"], 1);
    assert_eq!(first["due_on"], in_days(30));
    assert_eq!(first["delivery_preference"], "weekends only");
    assert_eq!(first["item_count"], 1);
    assert_eq!(
        first["storage_orders"][0]["receipt_no"],
        orders[1]["receipt_no"]
    );
    assert_eq!(
        first["storage_orders"][0]["items"][0]["description"],
        "women's coat, wool"
    );
    assert_eq!(first["storage_orders"][0]["items"][0]["zone_id"], "rack-a");
    // Its fields too, so a page can name the garment in its own language.
    let item = &first["storage_orders"][0]["items"][0];
    assert_eq!(
        (&item["category"], &item["kind"], &item["material"]),
        (&json!("women"), &json!("coat"), &json!("wool"))
    );
    // Do-not-contact customers are listed, flagged: their clothes must still go back.
    assert_eq!(page["items"][1]["do_not_contact"], true);
    assert_eq!(page["items"][0]["do_not_contact"], false);

    // Booking a delivery records it and takes the customer off the still-to-book list.
    let booked = app
        .post(
            &format!("{}/delivery", order_uri(&orders[1])),
            &s.dispatcher,
            json!({"booked_for": in_days(28)}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(booked["delivery_booked_for"], in_days(28));
    let unbooked = app
        .get(&format!("{uri}&booked=false"), &s.dispatcher)
        .await
        .ok(StatusCode::OK);
    assert_eq!(ids(&unbooked), [customers[2], customers[0]]);
    let done = app
        .get(&format!("{uri}&booked=true"), &s.dispatcher)
        .await
        .ok(StatusCode::OK);
    assert_eq!(ids(&done), [customers[1]]);
    assert_eq!(
        done["items"][0]["storage_orders"][0]["delivery_booked_for"],
        in_days(28)
    );

    // The CSV export keeps every row, the do-not-contact one flagged.
    let csv = app.get(&format!("{uri}&format=csv"), &s.dispatcher).await;
    assert_eq!(csv.content_type(), "text/csv; charset=utf-8");
    let text = String::from_utf8(csv.body.clone()).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("rank,customer_id,name,phone,address,do_not_contact,due_on"));
    assert!(lines[2].contains("Refuses Calls") && lines[2].contains(",true,"));
    // From the Chinese page the same rows, the garments and yes-or-no cells in Chinese.
    let zh = app
        .get_with(
            &format!("{uri}&format=csv"),
            &s.dispatcher,
            header::ACCEPT_LANGUAGE,
            "zh-CN",
        )
        .await;
    let zh = String::from_utf8(zh.body).unwrap();
    let zh_lines: Vec<&str> = zh.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(zh_lines.len(), 4, "{zh}");
    assert!(
        zh_lines[2].contains("Refuses Calls") && zh_lines[2].contains(",是,"),
        "{zh}"
    );
    assert!(!zh.contains(",true,") && !zh.contains("'s "), "{zh}");

    // Returned orders leave the list; pickup workers may not read it.
    for status in ["return_requested", "returned"] {
        s.move_to(&orders[0], status).await.ok(StatusCode::OK);
    }
    let page = app.get(&uri, &s.dispatcher).await.ok(StatusCode::OK);
    assert_eq!(ids(&page), [customers[1], customers[2]]);
    let pickup = app.login(Role::Pickup).await;
    app.get(&uri, &pickup).await.problem(StatusCode::FORBIDDEN);
    let r = app
        .get("/api/v1/storage/returns?due_by=soon", &s.dispatcher)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r["field"], "due_by");
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_revenue_report_adds_up_a_season(pool: sqlx::PgPool) {
    let s = shop(pool).await;
    let c = s.w.customer("Report Customer").await;
    let fur = s.cleaned(c, K::Coat, M::Fur).await;
    let coat = s.cleaned(c, K::Coat, M::Wool).await;
    let knit = s.cleaned(c, K::Sweater, M::Wool).await;
    // Fur: fee 6 x 60.00, premium 1.5 % of 8,000.00. Coat: 6 x 25.00, 1.5 % of 2,000.00.
    let kept = s
        .order(
            c,
            "rep-1",
            json!({"items": [{"garment_id": fur, "declared_value_cents": 800_000},
                             {"garment_id": coat, "declared_value_cents": 200_000}], "term_months": 6}),
        )
        .await;
    // Knit: 2 x 15.00, 1.5 % of 300.00; returned since.
    let back = s
        .order(
            c,
            "rep-2",
            json!({"items": [{"garment_id": knit, "declared_value_cents": 30_000}], "term_months": 2,
                   "planned_return_on": in_days(40)}),
        )
        .await;
    for status in ["in_storage", "return_requested", "returned"] {
        s.move_to(&back, status).await.ok(StatusCode::OK);
    }
    assert_eq!(kept["fee_cents"], 51_000);
    let season = today().year();
    let report =
        s.w.app
            .get(
                &format!("/api/v1/storage/report?season={season}"),
                &s.manager,
            )
            .await
            .ok(StatusCode::OK);
    assert_eq!(report["season"], season);
    assert_eq!(report["from"], format!("{season}-01-01"));
    assert_eq!(report["to"], format!("{season}-12-31"));
    assert_eq!(report["orders"], 2);
    assert_eq!(report["items"], 3);
    assert_eq!(report["fee_cents"], 36_000 + 15_000 + 3_000);
    assert_eq!(report["premium_cents"], 12_000 + 3_000 + 450);
    assert_eq!(report["revenue_cents"], 54_000 + 15_450);
    assert_eq!(report["declared_cents"], 1_030_000);
    assert_eq!(report["held_items"], 2);
    assert_eq!(report["held_declared_cents"], 1_000_000);
    assert_eq!(report["returned_orders"], 1);
    let month = format!("{season}-{:02}", today().month());
    assert_eq!(report["by_month"][0]["group"], month);
    assert_eq!(report["by_month"][0]["orders"], 2);
    let zones: Vec<(&str, i64)> = report["by_zone"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| {
            (
                z["group"].as_str().unwrap(),
                z["fee_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        zones,
        [("bin-a", 3_000), ("cold-vault", 36_000), ("rack-a", 15_000)]
    );
    // Shipped zones are shown by their catalogue name; months are always named.
    assert_eq!(report["by_zone"][0]["named"], false, "{report}");
    assert_eq!(report["by_month"][0]["named"], true, "{report}");

    let empty =
        s.w.app
            .get(
                &format!("/api/v1/storage/report?season={}", season - 1),
                &s.manager,
            )
            .await
            .ok(StatusCode::OK);
    assert_eq!(
        (empty["orders"].as_i64(), empty["revenue_cents"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(empty["by_zone"], json!([]));
    s.w.app
        .get("/api/v1/storage/report?season=1066", &s.manager)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    s.w.app
        .get("/api/v1/storage/report", &s.dispatcher)
        .await
        .problem(StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn every_route_checks_the_role(pool: sqlx::PgPool) {
    let s = shop(pool).await;
    let c = s.w.customer("Role Check").await;
    let coat = s.cleaned(c, K::Coat, M::Wool).await;
    let order = s.order_of(c, &[coat]).await;
    let o = order_uri(&order);
    let app = &s.w.app;
    let routes: Vec<(Method, String, Role, Value)> = vec![
        (
            Method::GET,
            "/api/v1/storage/zones".into(),
            Role::Dispatcher,
            Value::Null,
        ),
        (
            Method::PUT,
            "/api/v1/storage/zones/rack-a".into(),
            Role::Manager,
            json!({"capacity": 1500}),
        ),
        (
            Method::GET,
            "/api/v1/storage/prices".into(),
            Role::Pickup,
            Value::Null,
        ),
        (
            Method::PUT,
            "/api/v1/storage/prices".into(),
            Role::Manager,
            json!({"monthly_cents": 1500}),
        ),
        (
            Method::DELETE,
            "/api/v1/storage/prices/999".into(),
            Role::Manager,
            Value::Null,
        ),
        (
            Method::GET,
            "/api/v1/storage/settings".into(),
            Role::Dispatcher,
            Value::Null,
        ),
        (
            Method::PUT,
            "/api/v1/storage/settings".into(),
            Role::Manager,
            json!({}),
        ),
        (
            Method::GET,
            "/api/v1/storage/orders".into(),
            Role::Dispatcher,
            Value::Null,
        ),
        (
            Method::GET,
            "/api/v1/storage/returns".into(),
            Role::Dispatcher,
            Value::Null,
        ),
        (
            Method::GET,
            "/api/v1/storage/report".into(),
            Role::Manager,
            Value::Null,
        ),
        (Method::GET, orders_uri(c), Role::Pickup, Value::Null),
        (Method::POST, orders_uri(c), Role::Dispatcher, json!({})),
        (Method::GET, o.clone(), Role::Pickup, Value::Null),
        (
            Method::POST,
            format!("{o}/status"),
            Role::Dispatcher,
            json!({"status": "in_storage"}),
        ),
        (
            Method::POST,
            format!("{o}/delivery"),
            Role::Dispatcher,
            json!({"booked_for": in_days(3)}),
        ),
        (
            Method::GET,
            format!("{o}/receipt.html"),
            Role::Pickup,
            Value::Null,
        ),
        (
            Method::GET,
            format!("{o}/receipt.pdf"),
            Role::Pickup,
            Value::Null,
        ),
    ];
    let mut tokens = std::collections::HashMap::new();
    for role in [Role::Pickup, Role::Dispatcher, Role::Manager] {
        tokens.insert(format!("{role:?}"), app.login(role).await);
    }
    for (method, uri, needed, body) in routes {
        app.assert_needs_session(method.clone(), &uri).await;
        for below in roles_below(needed) {
            let token = &tokens[&format!("{below:?}")];
            let body = (!body.is_null()).then(|| body.clone());
            let r = app.send(method.clone(), &uri, Some(token), body).await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{method} {uri} as {below:?}"
            );
        }
        if method == Method::GET {
            let token = &tokens[&format!("{needed:?}")];
            let r = app.get(&uri, token).await;
            assert_eq!(r.status, StatusCode::OK, "{method} {uri} as {needed:?}");
        }
    }
    let all = app
        .get("/api/v1/storage/orders?status=accepted", &s.dispatcher)
        .await
        .ok(StatusCode::OK);
    assert_eq!(all["items"][0]["receipt_no"], order["receipt_no"]);
    let none = app
        .get("/api/v1/storage/orders?status=returned", &s.dispatcher)
        .await
        .ok(StatusCode::OK);
    assert_eq!(none["items"], json!([]));
}
