//! Issue 14: dates bounded, control characters refused, sign-ins throttled and recorded, workers search instead
//! of browsing, system accounts kept, demo restarts, bare errors as problem+json, expired records purged.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;
use doorstep::domain::Role;

fn visit(collected_at: &str) -> Value {
    json!({
        "customer_id": LIU_FANG,
        "collected_at": collected_at,
        "lines": [{"garment_id": LIU_FANG_COAT, "service": "dry_clean", "price_cents": 12000}]
    })
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn event_times_before_2000_are_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    for (i, at) in [
        "1900-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "1999-12-31T23:59:59Z",
    ]
    .into_iter()
    .enumerate()
    {
        let r = app
            .post_pickup(&token, &format!("old-{i}"), &visit(at))
            .await;
        let p = r.problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["errors"][0]["field"], "collected_at", "{at}: {p}");
    }
    assert_eq!(
        app.count("select count(*) from pickup where collected_at < '2000-01-01'")
            .await,
        0
    );
    app.post_pickup(&token, "ok", &visit("2026-11-20T09:30:00+08:00"))
        .await
        .ok(StatusCode::CREATED);

    let uri = format!("/api/v1/customers/{LIU_FANG}/interactions");
    let r = app
        .post(&uri, &token, json!({"kind": "note", "channel": "door", "body": "hello", "occurred_at": "1900-05-01T00:00:00Z"}))
        .await;
    assert_eq!(
        r.problem(StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "occurred_at"
    );
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn control_characters_are_refused_naming_the_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    // The unauthenticated login.
    let r = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "adm\u{0}in", "password": "x"})),
        )
        .await;
    assert_eq!(
        r.problem(StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "username"
    );
    // A pickup line (the idempotent, raw-body path).
    let mut v = visit("2026-11-20T09:30:00+08:00");
    v["lines"][0]["condition"] = json!("torn\u{0}");
    let r = app.post_pickup(&token, "nul-1", &v).await;
    assert_eq!(
        r.problem(StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "lines[0].condition"
    );
    // An interaction body and a search query.
    let uri = format!("/api/v1/customers/{LIU_FANG}/interactions");
    let r = app
        .post(
            &uri,
            &token,
            json!({"kind": "note", "channel": "door", "body": "a\u{0}b"}),
        )
        .await;
    assert_eq!(r.problem(StatusCode::UNPROCESSABLE_ENTITY)["field"], "body");
    let r = app.get("/api/v1/customers?q=liu%00fang", &token).await;
    assert_eq!(r.problem(StatusCode::UNPROCESSABLE_ENTITY)["field"], "q");
    // A path parameter (PostgreSQL refuses a NUL outright) and a short escape in a body.
    let manager = app.login(Role::Manager).await;
    let r = app
        .send(
            Method::DELETE,
            "/api/v1/season-calendar/kinds/a%00b",
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(r.problem(StatusCode::UNPROCESSABLE_ENTITY)["field"], "kind");
    let r = app
        .post(
            &uri,
            &token,
            json!({"kind": "note", "channel": "door", "body": "a\u{8}b"}),
        )
        .await;
    assert_eq!(r.problem(StatusCode::UNPROCESSABLE_ENTITY)["field"], "body");
    // Line breaks and tabs are ordinary text.
    let r = app
        .post(
            &uri,
            &token,
            json!({"kind": "note", "channel": "door", "body": "line one\nline\ttwo"}),
        )
        .await;
    r.ok(StatusCode::CREATED);
}

async fn try_login(app: &TestApp, username: &str, password: &str, from: &str) -> Reply {
    let request = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .extension(axum::extract::ConnectInfo(
            format!("{from}:4000")
                .parse::<std::net::SocketAddr>()
                .unwrap(),
        ))
        .body(Body::from(
            json!({"username": username, "password": password}).to_string(),
        ))
        .unwrap();
    app.request(request).await
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn sign_ins_are_throttled_per_username_and_address_and_recorded(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Admin).await;
    let me = app.get("/api/v1/auth/me", &token).await.ok(StatusCode::OK);
    let username = me["username"].as_str().unwrap().to_owned();
    // Five wrong guesses are answered 401; the sixth must wait, even with the right password.
    for _ in 0..5 {
        try_login(&app, &username, "wrong-password", "10.0.0.1")
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    let r = try_login(&app, &username, PASSWORD, "10.0.0.2").await;
    r.problem(StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    // Once the wait is over, the right password opens a session and the username starts afresh.
    sqlx::query("update login_throttle set locked_until = now() where scope = 'username'")
        .execute(&app.pool)
        .await
        .unwrap();
    try_login(&app, &username, PASSWORD, "10.0.0.2")
        .await
        .ok(StatusCode::OK);
    assert_eq!(
        app.count("select failures::bigint from login_throttle where scope = 'username'")
            .await,
        0
    );
    // One address guessing many usernames is throttled too.
    for i in 0..20 {
        try_login(&app, &format!("nobody-{i}"), "wrong-password", "10.0.0.9")
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    try_login(&app, "nobody-21", "wrong-password", "10.0.0.9")
        .await
        .problem(StatusCode::TOO_MANY_REQUESTS);
    try_login(&app, "nobody-21", "wrong-password", "10.0.0.10")
        .await
        .problem(StatusCode::UNAUTHORIZED);
    // Every try is recorded, with its outcome.
    let outcomes: Vec<(String, i64)> = sqlx::query_as(
        "select outcome, count(*) from sign_in_event where client_addr like '10.0.0.%' group by outcome order by outcome",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        outcomes,
        [
            ("bad_credentials".to_owned(), 26),
            ("ok".to_owned(), 1),
            ("throttled".to_owned(), 2)
        ]
    );
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn pickup_workers_search_and_do_not_browse(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let worker = app.login(Role::Pickup).await;
    let dispatcher = app.login(Role::Dispatcher).await;
    for uri in [
        "/api/v1/customers",
        "/api/v1/customers?q=li",
        "/api/v1/customers?q=%20%20",
    ] {
        let r = app.get(uri, &worker).await;
        assert_eq!(
            r.problem(StatusCode::UNPROCESSABLE_ENTITY)["field"],
            "q",
            "{uri}"
        );
    }
    app.get("/api/v1/customers?q=liu&offset=10", &worker)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let found = app
        .get("/api/v1/customers?q=liu&limit=100", &worker)
        .await
        .ok(StatusCode::OK);
    assert_eq!(found["items"][0]["customer_id"], LIU_FANG);
    assert!(found["limit"].as_i64().unwrap() <= 10);
    // Dispatchers and above still list everyone.
    let all = app
        .get("/api/v1/customers", &dispatcher)
        .await
        .ok(StatusCode::OK);
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn system_accounts_cannot_be_taken_or_woken(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let admin = app.login(Role::Admin).await;
    let r = app
        .post(
            "/api/v1/staff",
            &admin,
            json!({"username": "import", "role": "admin", "password": "long enough pass"}),
        )
        .await;
    assert_eq!(
        r.problem(StatusCode::UNPROCESSABLE_ENTITY)["errors"][0]["field"],
        "username"
    );
    let import_id: uuid::Uuid = sqlx::query_scalar(
        "insert into staff (staff_id, username, display_name, role, password_hash, active)
         values (gen_random_uuid(), 'import', 'History import', 'pickup', '!', false) returning staff_id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let uri = format!("/api/v1/staff/{import_id}");
    for patch in [
        json!({"active": true}),
        json!({"password": "long enough pass"}),
    ] {
        app.patch(&uri, &admin, patch)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(
        app.count("select count(*) from staff where username = 'import' and active")
            .await,
        0
    );
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_demo_restart_revokes_sessions_and_counts_demo_pickups(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let logins = doorstep::demo::load(&app.pool).await.unwrap();
    let (username, password) = logins
        .first()
        .map(|l| (l.username(), l.password()))
        .unwrap();
    let token = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": username, "password": password})),
        )
        .await
        .ok(StatusCode::OK)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get("/api/v1/auth/me", &token).await.ok(StatusCode::OK);
    doorstep::demo::load(&app.pool).await.unwrap();
    app.get("/api/v1/auth/me", &token)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    // Liu Fang's two demo pickups are in her value rollup, once each after two loads.
    let (pickups, spend): (i32, i64) = sqlx::query_as(
        "select pickups, spend_cents from customer_stats where customer_id = $1::uuid",
    )
    .bind(LIU_FANG)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((pickups, spend), (2, 28_500));
    assert_eq!(
        app.count(&format!(
            "select times_cleaned::bigint from garment where garment_id = '{LIU_FANG_COAT}'"
        ))
        .await,
        1
    );
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn an_oversized_body_answers_problem_json(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let big = json!({"customer_id": LIU_FANG, "notes": "x".repeat(3 * 1024 * 1024), "lines": []});
    let r = app.post_pickup(&token, "big", &big).await;
    assert_eq!(r.problem(StatusCode::PAYLOAD_TOO_LARGE)["field"], "body");
    let uri = format!("/api/v1/customers/{LIU_FANG}/interactions");
    let r = app
        .post(
            &uri,
            &token,
            json!({"kind": "note", "channel": "door", "body": "x".repeat(3 * 1024 * 1024)}),
        )
        .await;
    r.problem(StatusCode::PAYLOAD_TOO_LARGE);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn expired_sessions_and_old_keys_are_purged(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let staff_id: uuid::Uuid = sqlx::query_scalar("select staff_id from staff limit 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    for (key, age_days) in [("old", 8), ("fresh", 6)] {
        sqlx::query(
            "insert into idempotency_key (staff_id, idempotency_key, request_hash, response_status, response_body, created_at)
             values ($1, $2, '\\x00', 201, '{}', now() - make_interval(days => $3))",
        )
        .bind(staff_id)
        .bind(key)
        .bind(age_days)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    sqlx::query("update staff_session set expires_at = now() - interval '2 days'")
        .execute(&app.pool)
        .await
        .unwrap();
    // The sign-in above, and one of the same a season ago.
    sqlx::query(
        "insert into sign_in_event (at, username, client_addr, outcome)
         values (now() - interval '91 days', 'someone', '192.0.2.1', 'bad_credentials')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let purged = doorstep::housekeeping::purge_once(&app.pool, 7)
        .await
        .unwrap();
    assert_eq!(
        (purged.sessions, purged.idempotency_keys, purged.sign_ins),
        (1, 1, 1)
    );
    assert_eq!(
        app.count("select count(*) from sign_in_event where username <> 'someone'")
            .await,
        1,
        "this week's sign-in stays"
    );
    assert_eq!(
        app.count("select count(*) from idempotency_key where idempotency_key = 'fresh'")
            .await,
        1
    );
    app.get("/api/v1/auth/me", &token)
        .await
        .problem(StatusCode::UNAUTHORIZED);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn forecasts_read_a_bounded_history(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let manager = app.login(Role::Manager).await;
    // A pickup in year 1 (as old data or a bad import could hold) once made every forecast call time out.
    sqlx::query(
        "insert into pickup (customer_id, pickup_id, staff_id, collected_at, received_at, notes)
         select $1::uuid, gen_random_uuid(), staff_id, '0001-01-01T00:00:00Z', now(), '' from staff limit 1",
    )
    .bind(LIU_FANG)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into pickup_line (customer_id, pickup_id, line_no, garment_id, service, price_cents, condition_notes)
         select customer_id, pickup_id, 1, $2::uuid, 'wash', 100, '' from pickup
          where customer_id = $1::uuid and collected_at < '1000-01-01'",
    )
    .bind(LIU_FANG)
    .bind(LIU_FANG_COAT)
    .execute(&app.pool)
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let f = app
        .get("/api/v1/forecasts/intake?weeks=8", &manager)
        .await
        .ok(StatusCode::OK);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(
        f["history_weeks"].as_i64().unwrap() <= 5 * 52 + 1,
        "{}",
        f["history_weeks"]
    );
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_database_that_is_gone_answers_503_with_retry_after(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let token = app.login(Role::Pickup).await;
    pool.close().await;
    let started = std::time::Instant::now();
    let r = app.get("/api/v1/auth/me", &token).await;
    let p = r.problem(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(p["type"], "urn:doorstep:problem:unavailable");
    assert!(r.headers.contains_key("retry-after"));
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn customer_reads_exports_and_erasure_are_logged(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let worker = app.login(Role::Pickup).await;
    let admin = app.login(Role::Admin).await;
    app.get(&format!("/api/v1/customers/{LIU_FANG}"), &worker)
        .await
        .ok(StatusCode::OK);
    app.get(&format!("/api/v1/customers/{LIU_FANG}/card"), &worker)
        .await
        .ok(StatusCode::OK);
    let csv = app
        .get("/api/v1/lists/customer-value?format=csv", &admin)
        .await;
    assert_eq!(csv.status, StatusCode::OK);

    // Only admins query the log.
    app.get("/api/v1/access-log", &worker)
        .await
        .problem(StatusCode::FORBIDDEN);
    let log = app
        .get(
            &format!("/api/v1/access-log?customer_id={LIU_FANG}"),
            &admin,
        )
        .await
        .ok(StatusCode::OK);
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["card_view", "customer_read"]);
    assert!(log["items"][0]["username"]
        .as_str()
        .unwrap()
        .starts_with("test-pickup"));
    let exports = app
        .get("/api/v1/access-log?action=list_export", &admin)
        .await
        .ok(StatusCode::OK);
    assert!(exports["items"][0]["detail"]
        .as_str()
        .unwrap()
        .starts_with("customer-value: "));
    // Bounds far outside any entry's time select what they would: everything, or nothing.
    let all = app
        .get(
            "/api/v1/access-log?action=list_export&from=-5000-01-01T00:00:00Z&until=%2B200000-01-01T00:00:00Z",
            &admin,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(all["items"], exports["items"]);
    let none = app
        .get(
            "/api/v1/access-log?action=list_export&until=-5000-01-01T00:00:00Z",
            &admin,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(none["items"], json!([]));
    // A dispatcher's own queue as CSV is an export too.
    let dispatcher = app.login(Role::Dispatcher).await;
    let queue = app
        .get_with("/api/v1/queue", &dispatcher, header::ACCEPT, "text/csv")
        .await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(queue.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let exports = app
        .get("/api/v1/access-log?action=list_export", &admin)
        .await
        .ok(StatusCode::OK);
    assert!(exports["items"][0]["detail"]
        .as_str()
        .unwrap()
        .starts_with("queue: "));

    // The door card is kept (with the name in it) once read.
    app.get(&format!("/api/v1/customers/{LIU_FANG}/card"), &admin)
        .await
        .ok(StatusCode::OK);
    app.state.cards.flush().await;
    assert_eq!(kept_cards_naming(&app, "Liu Fang").await, 1);

    // The export holds everything: the customer, garments, pickups and lines, interactions, labels.
    app.get(&format!("/api/v1/customers/{LIU_FANG}/export"), &worker)
        .await
        .problem(StatusCode::FORBIDDEN);
    let export = app
        .get(&format!("/api/v1/customers/{LIU_FANG}/export"), &admin)
        .await
        .ok(StatusCode::OK);
    let data = &export["data"];
    assert_eq!(data["customer"][0]["name"], "Liu Fang");
    assert_eq!(data["garment"].as_array().unwrap().len(), 4);
    assert_eq!(data["pickup"].as_array().unwrap().len(), 2);
    assert_eq!(data["pickup_line"].as_array().unwrap().len(), 4);
    assert_eq!(data["interaction"].as_array().unwrap().len(), 1);
    assert_eq!(data["door_label"].as_array().unwrap().len(), 1);

    // A campaign froze her list row, contact details included.
    sqlx::query(
        "with c as (
             insert into campaign (campaign_id, name, list, as_of, follow_until, created_by)
             select gen_random_uuid(), 'Catalogue', 'special_sizes', current_date, current_date + 30, staff_id
               from staff limit 1
             returning campaign_id)
         insert into campaign_entry (campaign_id, customer_id, rank, snapshot)
         select campaign_id, $1::uuid, 1,
                jsonb_build_object('name', 'Liu Fang', 'phone', '+8613800000101', 'address', 'Huaihai Rd', 'garments', 3)
           from c",
    )
    .bind(LIU_FANG)
    .execute(&app.pool)
    .await
    .unwrap();

    // Erasure: personal fields gone, label revoked, never contacted; the history stays, anonymous.
    let lines_before = app.count("select count(*) from pickup_line").await;
    app.post(
        &format!("/api/v1/customers/{LIU_FANG}/erase"),
        &admin,
        json!({}),
    )
    .await
    .ok(StatusCode::OK);
    let c = app
        .get(&format!("/api/v1/customers/{LIU_FANG}"), &admin)
        .await
        .ok(StatusCode::OK);
    assert_eq!(c["name"], "Erased customer");
    assert_eq!(
        kept_cards_naming(&app, "Liu Fang").await,
        0,
        "the kept card still names them"
    );
    assert!(c["phone"].is_null() && c["address"].is_null());
    assert_eq!(c["do_not_contact"], true);
    assert_eq!(
        app.count(&format!("select count(*) from door_label where customer_id = '{LIU_FANG}' and revoked_at is null")).await,
        0
    );
    assert_eq!(
        app.count(&format!("select count(*) from interaction where customer_id = '{LIU_FANG}' and body like '%silk%'")).await,
        0
    );
    assert_eq!(
        app.count("select count(*) from pickup_line").await,
        lines_before
    );
    assert_eq!(
        app.count(&format!("select count(*) from campaign_entry where customer_id = '{LIU_FANG}' and snapshot ?| array['name', 'phone', 'address']")).await,
        0,
        "a campaign's snapshot still holds her contact details"
    );
    assert_eq!(
        app.count(&format!("select count(*) from campaign_entry where customer_id = '{LIU_FANG}' and snapshot ? 'garments'")).await,
        1
    );
    let log = app
        .get(
            &format!("/api/v1/access-log?customer_id={LIU_FANG}"),
            &admin,
        )
        .await
        .ok(StatusCode::OK);
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions[..3],
        ["customer_read", "customer_erasure", "customer_export"]
    );
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn request_ids_are_kept_or_made_and_named_in_problems(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let request = Request::get("/api/v1/auth/me")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let r = app.request(request).await;
    assert_eq!(r.headers["x-request-id"], "abc-123");
    assert_eq!(
        r.problem(StatusCode::UNAUTHORIZED)["instance"],
        "urn:doorstep:request:abc-123"
    );
    // An id with odd characters is replaced by a fresh one.
    let request = Request::get("/api/v1/auth/me")
        .header("x-request-id", "a b/c")
        .body(Body::empty())
        .unwrap();
    let r = app.request(request).await;
    let id = r.headers["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(
        r.problem(StatusCode::UNAUTHORIZED)["instance"],
        format!("urn:doorstep:request:{id}")
    );
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn metrics_are_served_to_loopback_only(pool: PgPool) {
    doorstep::observe::install();
    // An import runs outside the service; its rows reach /metrics through the database.
    let fixture = |name: &str| {
        Some(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/import")
                .join(name),
        )
    };
    doorstep::import::import(
        &pool,
        &doorstep::import::ImportOptions {
            customers: fixture("customers.csv"),
            garments: fixture("garments.csv"),
            pickups: fixture("pickups.csv"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    app.get("/api/v1/auth/me", &token).await.ok(StatusCode::OK);
    // Any token is a method to HTTP; such a request is counted as `other`, never as a series of its own.
    let odd = app
        .request(
            Request::builder()
                .method("DOORSTEP-PROBE-1")
                .uri("/api/v1/auth/me")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(odd.status, StatusCode::METHOD_NOT_ALLOWED);
    let scrape = |from: &str| {
        Request::get("/metrics")
            .extension(axum::extract::ConnectInfo(
                format!("{from}:4000")
                    .parse::<std::net::SocketAddr>()
                    .unwrap(),
            ))
            .body(Body::empty())
            .unwrap()
    };
    app.request(scrape("192.0.2.7"))
        .await
        .problem(StatusCode::FORBIDDEN);
    let r = app.request(scrape("127.0.0.1")).await;
    assert_eq!(r.status, StatusCode::OK);
    let text = String::from_utf8(r.body).unwrap();
    assert!(text.contains("doorstep_http_requests_total{"), "{text}");
    assert!(text.contains("route=\"/api/v1/auth/me\""), "{text}");
    assert!(text.contains("method=\"other\""), "{text}");
    assert!(!text.contains("DOORSTEP-PROBE-1"), "{text}");
    assert!(
        text.contains("doorstep_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("doorstep_db_pool_in_use"), "{text}");
    for (file, n) in [("customers", 5), ("garments", 15), ("pickups", 25)] {
        assert!(
            text.contains(&format!(
                "doorstep_import_rows_total{{file=\"{file}\",outcome=\"inserted\"}} {n}"
            )),
            "{file}: {text}"
        );
    }
}

/// A database refusal no handler named is still the client's error (or a race worth retrying), never a 500;
/// anything else stays a 500.
#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn database_refusals_no_handler_named_answer_4xx(pool: PgPool) {
    use axum::response::IntoResponse;
    sqlx::query("create table refusal_probe (id int primary key)")
        .execute(&pool)
        .await
        .unwrap();
    for (sql, status) in [
        ("select 1 / 0", StatusCode::UNPROCESSABLE_ENTITY),
        (
            "select 9223372036854775807::bigint + 1",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "select E'a\\x01'::text::int",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "insert into refusal_probe values (1), (1)",
            StatusCode::CONFLICT,
        ),
        (
            "insert into refusal_probe values (null)",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "select * from no_such_table",
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    ] {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
        let response = doorstep::error::AppError::from(err).into_response();
        assert_eq!(response.status(), status, "{sql}");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json",
            "{sql}"
        );
    }
}

/// API answers are gzipped for a client that asks (a phone's browser always does) and decode to the same JSON;
/// a client that does not ask gets them as they are.
#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn api_answers_are_compressed_for_clients_that_ask(pool: PgPool) {
    use std::io::Read;
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let uri = format!("/api/v1/customers/{LIU_FANG}/card");
    let plain = app.get(&uri, &token).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.headers.get(header::CONTENT_ENCODING).is_none());
    let packed = app
        .get_with(&uri, &token, header::ACCEPT_ENCODING, "gzip")
        .await;
    assert_eq!(packed.status, StatusCode::OK);
    assert_eq!(packed.headers[header::CONTENT_ENCODING], "gzip");
    assert!(packed.body.len() < plain.body.len());
    let mut text = String::new();
    flate2::read::GzDecoder::new(&packed.body[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), plain.json());
}

/// A new customer and a replacement door label sent again under their Idempotency-Key (an office page retrying
/// after a lost answer) are made once; the retry answers what the first made.
#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn retried_creates_under_a_key_are_made_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let dispatcher = app.login(Role::Dispatcher).await;
    let new = json!({"name": "Qian Li", "address": "Lane 8, Xinhua Rd"});
    let first = app
        .post_keyed("/api/v1/customers", &dispatcher, "customer-1", &new)
        .await
        .ok(StatusCode::CREATED);
    let again = app
        .post_keyed("/api/v1/customers", &dispatcher, "customer-1", &new)
        .await;
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.ok(StatusCode::CREATED), first);
    assert_eq!(
        app.count("select count(*) from customer where name = 'Qian Li'")
            .await,
        1
    );

    let labels = format!("/api/v1/customers/{LIU_FANG}/labels");
    let before = app
        .count(&format!(
            "select count(*) from door_label where customer_id = '{LIU_FANG}'"
        ))
        .await;
    let issued = app
        .post_keyed(&labels, &dispatcher, "label-1", &json!({}))
        .await
        .ok(StatusCode::CREATED);
    let again = app
        .post_keyed(&labels, &dispatcher, "label-1", &json!({}))
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(again, issued);
    assert_eq!(
        app.count(&format!(
            "select count(*) from door_label where customer_id = '{LIU_FANG}'"
        ))
        .await,
        before + 1,
        "one replacement"
    );
    let active: String = sqlx::query_scalar(
        "select code from door_label where customer_id = $1::uuid and revoked_at is null",
    )
    .bind(LIU_FANG)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        issued["code"], active,
        "the label issued stays the active one"
    );
}

/// Staff read the server's refusals in the language their browser or their choice asks for; an API client that
/// names no language keeps the API's English.
#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn refusals_are_worded_in_the_language_asked_for(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Manager).await;
    let year = |name: header::HeaderName, value: &str| {
        let req = Request::get("/api/v1/season-calendar?year=1999")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::ACCEPT_ENCODING, "gzip, br")
            .header(name, value)
            .body(Body::empty())
            .unwrap();
        app.request(req)
    };
    let words = |r: Reply| {
        assert_eq!(
            r.headers.get(header::CONTENT_ENCODING),
            None,
            "problems go uncompressed"
        );
        let p = r.problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            p["instance"]
                .as_str()
                .is_some_and(|i| i.starts_with("urn:doorstep:request:")),
            "{p}"
        );
        assert_eq!(p["type"], "urn:doorstep:problem:validation", "{p}");
        assert_eq!(p["errors"][0]["field"], "year", "{p}");
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        [
            text(&p["title"]),
            text(&p["detail"]),
            text(&p["errors"][0]["message"]),
        ]
    };
    let english = [
        "Invalid request",
        "year: a year between 2000 and 2200",
        "a year between 2000 and 2200",
    ];
    let chinese = [
        "请检查填写的内容",
        "year: 年份须在 2000 至 2200 之间",
        "年份须在 2000 至 2200 之间",
    ];
    assert_eq!(
        words(year(header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9,en;q=0.8").await),
        chinese
    );
    assert_eq!(
        words(year(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9").await),
        english
    );
    assert_eq!(
        words(year(header::COOKIE, "doorstep_lang=zh-CN").await),
        chinese
    );
    assert_eq!(
        words(year(header::USER_AGENT, "an API client").await),
        english
    );

    // A message with the server's own figures in it keeps them; serde's refusals are reworded in the server's
    // words, so they read in Chinese too.
    let put = |body: &'static str| {
        app.request(
            Request::builder()
                .method(Method::PUT)
                .uri("/api/v1/season-calendar/2027/spring")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ACCEPT_LANGUAGE, "zh-CN")
                .body(Body::from(body))
                .unwrap(),
        )
    };
    for (body, status, field, words) in [
        (
            r#"{"starts_on": "2026-03-01", "ends_on": "2026-05-31"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "starts_on",
            "须在 2027 年之内",
        ),
        (
            r#"{"starts_on": 5, "ends_on": "2027-05-31"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "starts_on",
            "须为日期，写作“年-月-日”（YYYY-MM-DD），而不是 5",
        ),
        (
            r#"{"ends_on": "2027-05-31"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "starts_on",
            "必填",
        ),
        (
            r#"{"starts_on": "2027-02-30", "ends_on": "2027-05-31"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "starts_on",
            "不是有效的日期或时间：月、日、时或分超出范围",
        ),
        (
            r#"{"starts_on": "2027-03-01",}"#,
            StatusCode::BAD_REQUEST,
            "body",
            "请求内容不是有效的 JSON（第 1 行第 28 列）：右括号前多了逗号",
        ),
    ] {
        let p = put(body).await.problem(status);
        assert_eq!(p["field"], field, "{p}");
        let said = if status == StatusCode::BAD_REQUEST {
            &p["detail"]
        } else {
            &p["errors"][0]["message"]
        };
        assert_eq!(said, words, "{p}");
    }

    // What cannot be found, and a path that cannot name anything, are said in Chinese too.
    let get = |uri: &'static str| {
        app.request(
            Request::get(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::ACCEPT_LANGUAGE, "zh-CN")
                .body(Body::empty())
                .unwrap(),
        )
    };
    let p = get("/api/v1/customers/00000000-0000-4000-8000-000000000000")
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["detail"], "找不到该客户", "{p}");
    let p = get("/api/v1/customers/abc")
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["field"], "customer_id", "{p}");
    assert_eq!(p["detail"], "“abc”不是有效的客户编号", "{p}");
    let p = get("/api/v1/forecasts/intake?weeks=x")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "weeks", "{p}");
    assert_eq!(p["errors"][0]["message"], "须为整数", "{p}");
}

/// Kept door cards whose text names `name` (they are stored packed).
async fn kept_cards_naming(app: &TestApp, name: &str) -> usize {
    let bodies: Vec<Vec<u8>> =
        sqlx::query_scalar("select body from customer_card where body is not null")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    bodies
        .into_iter()
        .map(kept_card_text)
        .filter(|text| text.contains(name))
        .count()
}
