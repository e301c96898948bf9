//! Tests of recording pickups: itemised lines, validation by line and field, idempotent retries.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;
use doorstep::domain::Role;

fn visit() -> Value {
    json!({
        "customer_id": LIU_FANG,
        "door_code": LIU_FANG_CODE,
        "collected_at": "2026-11-20T09:30:00+08:00",
        "notes": "two bags",
        "lines": [
            {"garment_id": LIU_FANG_COAT, "service": "dry_clean", "price_cents": 12000},
            {"garment_tag": LIU_FANG_COAT_TAG, "service": "repair", "price_cents": 3000, "condition": "loose button"},
            {"garment": {"category": "men", "kind": "down_jacket", "season_class": "winter", "brand": "Bosideng",
                         "size": "XL", "material": "down", "colour": "green", "tag_code": "g00dem0000c-"},
             "service": "wash", "price_cents": 8000, "condition": "stain on hood"}
        ]
    })
}

/// The app with a pickup worker signed in: the worker's token and staff id (their Idempotency-Keys' owner).
async fn signed_in_worker(pool: PgPool) -> (TestApp, String, uuid::Uuid) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let staff_id =
        sqlx::query_scalar("select staff_id from staff_session order by created_at desc limit 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    (app, token, staff_id)
}

/// A valid tag code for a new garment, built from a known-good body.
fn new_tag() -> String {
    doorstep::domain::code::TagCode::generate(&mut rand::thread_rng()).to_string()
}

fn fresh_visit() -> Value {
    let mut v = visit();
    v["lines"][2]["garment"]["tag_code"] = json!(new_tag());
    v
}

/// New garments go in with their own cleaning rollups (not written and then updated): they must equal a recount
/// of their lines, a press-only garment staying uncleaned.
#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn new_garments_carry_the_rollups_their_lines_give(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let new = |kind: &str| json!({"category": "women", "kind": kind, "season_class": "winter"});
    let body = json!({
        "customer_id": LIU_FANG,
        "collected_at": "2026-11-21T10:00:00+08:00",
        "lines": [
            {"garment": new("coat"), "service": "dry_clean", "price_cents": 15000},
            {"garment": new("scarf"), "service": "press", "price_cents": 1500},
            {"garment_id": LIU_FANG_COAT, "service": "dry_clean", "price_cents": 12000},
            {"garment": new("jacket"), "service": "leather_care", "price_cents": 30000}
        ]
    });
    let rec = app
        .post_pickup(&token, "visit-rollups", &body)
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(rec["garments_created"], 3);
    let differing = app
        .count(
            "select count(*) from garment g
               left join lateral (
                   select count(distinct pl.pickup_id) filter (where is_cleaning(pl.service)) as n,
                          max(p.collected_at) filter (where is_cleaning(pl.service)) as at,
                          sum(pl.price_cents) filter (where is_cleaning(pl.service)) as price
                     from pickup_line pl join pickup p using (customer_id, pickup_id)
                    where pl.customer_id = g.customer_id and pl.garment_id = g.garment_id) r on true
              where g.garment_id::text not like '00000000-%'
                and (g.times_cleaned <> r.n or g.last_cleaned_at is distinct from r.at
                     or g.last_price_cents is distinct from r.price)",
        )
        .await;
    assert_eq!(
        differing, 0,
        "new garments' rollups differ from their lines"
    );
    let cleaned = app
        .count(
            "select count(*) from garment
              where garment_id::text not like '00000000-%' and times_cleaned = 1
                and last_cleaned_at = '2026-11-21T02:00:00Z'",
        )
        .await;
    assert_eq!(
        cleaned, 2,
        "the coat and the jacket were cleaned, the scarf only pressed"
    );
    // The visit held three winter garments cleaned (two new, the known coat); the pressed scarf is not one.
    assert_eq!(
        app.count(
            "select garments::bigint from pickup_class
              where collected_at = '2026-11-21T02:00:00Z' and season_class = 'winter'"
        )
        .await,
        3
    );
    assert_eq!(app.count(crate::helpers::PICKUP_CLASS_MISMATCHES).await, 0);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn records_a_visit_with_existing_tagged_and_new_garments(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let garments_before = app.count("select count(*) from garment").await;
    let body = fresh_visit();
    let r = app.post_pickup(&token, "visit-1", &body).await;
    let rec = r.ok(StatusCode::CREATED);
    assert_eq!(rec["customer_id"], LIU_FANG);
    assert_eq!(rec["collected_at"], "2026-11-20T01:30:00Z");
    assert!(rec["received_at"].as_str().is_some());
    assert_eq!(rec["total_cents"], 23000);
    assert_eq!(rec["garments_created"], 1);
    let lines = rec["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["garment_id"], LIU_FANG_COAT);
    assert_eq!(lines[1]["garment_id"], LIU_FANG_COAT);
    assert_eq!(lines[1]["condition_notes"], "loose button");
    assert_eq!(lines[2]["kind"], "down_jacket");
    assert_eq!(
        lines[2]["tag_code"],
        body["lines"][2]["garment"]["tag_code"]
    );

    let pickup_id: uuid::Uuid = rec["pickup_id"].as_str().unwrap().parse().unwrap();
    let (staff, received, collected): (
        uuid::Uuid,
        chrono::DateTime<chrono::Utc>,
        chrono::DateTime<chrono::Utc>,
    ) = sqlx::query_as(
        "select staff_id, received_at, collected_at from pickup where pickup_id = $1",
    )
    .bind(pickup_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        received > collected,
        "server time and device time are both kept"
    );
    assert_ne!(staff, uuid::Uuid::nil());
    assert_eq!(
        app.count(&format!(
            "select count(*) from pickup_line where pickup_id = '{pickup_id}'"
        ))
        .await,
        3
    );
    assert_eq!(
        app.count("select count(*) from garment").await,
        garments_before + 1
    );

    // The wardrobe counts this visit's dry clean (the repair beside it is not a cleaning) on top of the coat's
    // earlier cleaning.
    let wardrobe = app
        .get(&format!("/api/v1/customers/{LIU_FANG}/wardrobe"), &token)
        .await
        .ok(StatusCode::OK);
    let coat = wardrobe
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["garments"].as_array().unwrap().iter())
        .find(|g| g["garment_id"] == LIU_FANG_COAT)
        .unwrap()
        .clone();
    assert_eq!(coat["times_cleaned"], 2);
    assert_eq!(coat["last_cleaned_at"], "2026-11-20T01:30:00Z");
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_retry_answers_the_first_response_and_records_nothing_new(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let body = fresh_visit();
    let first = app.post_pickup(&token, "retry-key", &body).await;
    let first_text = first.body.clone();
    let first_body = first.ok(StatusCode::CREATED);
    let pickups = app.count("select count(*) from pickup").await;
    let garments = app.count("select count(*) from garment").await;

    // Same key, same body with keys reordered: a network retry.
    let reordered: Value =
        serde_json::from_str(&serde_json::to_string_pretty(&body).unwrap()).unwrap();
    let second = app.post_pickup(&token, "retry-key", &reordered).await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(second.json(), first_body);
    assert_eq!(second.body, first_text, "the first answer, byte for byte");
    assert_eq!(app.count("select count(*) from pickup").await, pickups);
    assert_eq!(app.count("select count(*) from garment").await, garments);

    // Same key, different body: refused, nothing recorded.
    let mut other = body.clone();
    other["lines"][0]["price_cents"] = json!(1);
    let third = app.post_pickup(&token, "retry-key", &other).await;
    assert_eq!(
        third.problem(StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "Idempotency-Key"
    );
    assert_eq!(app.count("select count(*) from pickup").await, pickups);

    // Keys belong to the caller: another worker's identical key is a separate request.
    let other_worker = app.login(Role::Pickup).await;
    let mut theirs = fresh_visit();
    theirs["lines"].as_array_mut().unwrap().truncate(2);
    app.post_pickup(&other_worker, "retry-key", &theirs)
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(app.count("select count(*) from pickup").await, pickups + 1);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_duplicate_while_the_first_is_running_gets_409(pool: PgPool) {
    let (app, token, staff_id) = signed_in_worker(pool.clone()).await;
    // Hold the key's lock as an in-flight first request would.
    let mut first = pool.begin().await.unwrap();
    let locked: bool =
        sqlx::query_scalar("select pg_try_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("{staff_id}:busy-key"))
            .fetch_one(&mut *first)
            .await
            .unwrap();
    assert!(locked);
    let r = app.post_pickup(&token, "busy-key", &fresh_visit()).await;
    let problem = r.problem(StatusCode::CONFLICT);
    assert_eq!(problem["field"], "Idempotency-Key");
    assert!(r.headers.contains_key("retry-after"));
    first.rollback().await.unwrap();
    app.post_pickup(&token, "busy-key", &fresh_visit())
        .await
        .ok(StatusCode::CREATED);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn concurrent_requests_with_one_key_record_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let before = app.count("select count(*) from pickup").await;
    let body = fresh_visit();
    let replies = futures_join(&app, &token, &body, 6).await;
    let created: Vec<_> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .collect();
    assert!(!created.is_empty());
    for r in &replies {
        assert!(
            r.status == StatusCode::CREATED || r.status == StatusCode::CONFLICT,
            "unexpected {:?}",
            r.status
        );
    }
    let ids: std::collections::HashSet<String> = created
        .iter()
        .map(|r| r.json()["pickup_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "every success is the same pickup");
    assert_eq!(app.count("select count(*) from pickup").await, before + 1);
}

/// A retry whose claim read the key just before the first request committed (the claim's snapshot predates the
/// key's lock) finds the key taken when it stores its answer: it records nothing and answers the first response.
#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_retry_that_missed_the_first_commit_answers_the_first_response(pool: PgPool) {
    let (app, token, staff_id) = signed_in_worker(pool.clone()).await;
    let body = fresh_visit();
    let pickups = app.count("select count(*) from pickup").await;
    let garments = app.count("select count(*) from garment").await;
    // The first request, its answer stored and its commit under way, no longer holding the key's lock.
    let mut first = pool.begin().await.unwrap();
    let hash = doorstep::idempotency::request_hash(
        "POST /api/v1/pickups",
        &body.to_string().into_bytes().into(),
    );
    sqlx::query(
        "insert into idempotency_key (staff_id, idempotency_key, request_hash, response_status, response_body)
         values ($1, 'raced-key', $2, 201, $3)",
    )
    .bind(staff_id)
    .bind(&hash)
    .bind(json!({"pickup_id": "the first"}))
    .execute(&mut *first)
    .await
    .unwrap();
    let retry = tokio::spawn(call(
        app.router.clone(),
        pickup_request(&token, "raced-key", &body),
    ));
    // The retry's claim cannot see the uncommitted key; its own insert of the key then waits for the first.
    let waiting = "select count(*) from pg_stat_activity
                    where datname = current_database() and wait_event_type = 'Lock'";
    let mut waited = 0;
    while app.count(waiting).await == 0 {
        assert!(waited < 500, "the retry never waited for the first request");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        waited += 1;
    }
    first.commit().await.unwrap();
    let r = retry.await.unwrap();
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(r.json(), json!({"pickup_id": "the first"}));
    assert_eq!(app.count("select count(*) from pickup").await, pickups);
    assert_eq!(app.count("select count(*) from garment").await, garments);
}

async fn futures_join(app: &TestApp, token: &str, body: &Value, n: usize) -> Vec<Reply> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        set.spawn(call(
            app.router.clone(),
            pickup_request(token, "same-key", body),
        ));
    }
    set.join_all().await
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn validation_names_every_bad_line_and_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let before = app.count("select count(*) from pickup").await;
    let body = json!({
        "customer_id": LIU_FANG,
        "door_code": "D00DEM0000AM",
        "collected_at": "2099-01-01T00:00:00Z",
        "lines": [
            {"garment_id": LIU_FANG_COAT, "service": "wash", "price_cents": -5},
            {"service": "wash", "price_cents": 100},
            {"garment_id": LIU_FANG_COAT, "garment_tag": LIU_FANG_COAT_TAG, "service": "wash", "price_cents": 100},
            {"garment_tag": "G00DEM0000AF", "service": "wash", "price_cents": 100},
            {"garment": {"category": "men", "kind": "coat", "season_class": "winter", "tag_code": "nope"}, "service": "press", "price_cents": 100}
        ]
    });
    let r = app.post_pickup(&token, "bad-1", &body).await;
    let problem = r.problem(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for expected in [
        "collected_at",
        "door_code",
        "lines[0].price_cents",
        "lines[1].garment",
        "lines[2].garment",
        "lines[3].garment_tag",
        "lines[4].garment.tag_code",
    ] {
        assert!(
            fields.contains(&expected),
            "{expected} missing from {fields:?}"
        );
    }
    assert_eq!(app.count("select count(*) from pickup").await, before);
    assert_eq!(app.count("select count(*) from idempotency_key").await, 0);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn bad_bodies_name_the_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let mut bad_enum = fresh_visit();
    bad_enum["lines"][1]["service"] = json!("launder");
    let p = app
        .post_pickup(&token, "e1", &bad_enum)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "lines[1].service");

    let mut missing = fresh_visit();
    missing.as_object_mut().unwrap().remove("collected_at");
    let p = app
        .post_pickup(&token, "e2", &missing)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "collected_at");

    let mut unknown = fresh_visit();
    unknown["lines"][2]["garment"]["fabric"] = json!("wool");
    let p = app
        .post_pickup(&token, "e3", &unknown)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "lines[2].garment.fabric");
    assert!(p["detail"].as_str().unwrap().contains("fabric"));

    let mut empty = fresh_visit();
    empty["lines"] = json!([]);
    let p = app
        .post_pickup(&token, "e4", &empty)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "lines");

    let malformed = Request::post("/api/v1/pickups")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", "e5")
        .body(Body::from("{\"customer_id\": "))
        .unwrap();
    app.request(malformed)
        .await
        .problem(StatusCode::BAD_REQUEST);

    let not_json = Request::post("/api/v1/pickups")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/plain")
        .header("idempotency-key", "e6")
        .body(Body::from(fresh_visit().to_string()))
        .unwrap();
    app.request(not_json)
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let no_key = app
        .send(
            Method::POST,
            "/api/v1/pickups",
            Some(&token),
            Some(fresh_visit()),
        )
        .await;
    assert_eq!(
        no_key.problem(StatusCode::BAD_REQUEST)["field"],
        "Idempotency-Key"
    );
    assert_eq!(
        app.count("select count(*) from pickup where notes = 'two bags'")
            .await,
        0
    );
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn garments_must_belong_to_the_customer(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let theirs = json!({
        "customer_id": LIU_FANG,
        "collected_at": "2026-11-20T09:30:00Z",
        "lines": [
            {"garment_id": "00000000-0000-4000-b000-0000000000b1", "service": "wash", "price_cents": 100},
            {"garment_tag": ZHOU_MIN_SUIT_TAG, "service": "wash", "price_cents": 100},
            {"garment": {"category": "men", "kind": "coat", "season_class": "winter", "tag_code": ZHOU_MIN_SUIT_TAG}, "service": "wash", "price_cents": 100}
        ]
    });
    let p = app
        .post_pickup(&token, "own-1", &theirs)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "lines[0].garment_id",
            "lines[1].garment_tag",
            "lines[2].garment.tag_code"
        ]
    );

    let nobody = json!({"customer_id": uuid::Uuid::new_v4(), "collected_at": "2026-11-20T09:30:00Z",
                        "lines": [{"garment_id": LIU_FANG_COAT, "service": "wash", "price_cents": 100}]});
    let p = app
        .post_pickup(&token, "own-2", &nobody)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "customer_id");
    assert_eq!(app.count("select count(*) from pickup").await, 3);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_failure_midway_leaves_nothing_behind(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let tag = new_tag();
    // Two new garments with the same tag: caught before the database.
    let mut body = fresh_visit();
    body["lines"][1] = json!({"garment": {"category": "men", "kind": "shirt", "season_class": "summer", "tag_code": tag}, "service": "wash", "price_cents": 1});
    body["lines"][2]["garment"]["tag_code"] = json!(tag);
    let p = app
        .post_pickup(&token, "dup-tags", &body)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "lines[2].garment.tag_code");
    // A fault in the database after the new garment was inserted rolls the whole visit back.
    sqlx::raw_sql(
        "create function fail_line() returns trigger language plpgsql as $$ begin
           if new.price_cents = 4242 then raise exception 'injected fault'; end if; return new; end $$;
         create trigger fail_line before insert on pickup_line for each row execute function fail_line();",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let garments = app.count("select count(*) from garment").await;
    let pickups = app.count("select count(*) from pickup").await;
    let mut body = fresh_visit();
    body["lines"][2]["price_cents"] = json!(4242);
    let r = app.post_pickup(&token, "fault", &body).await;
    let p = r.problem(StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !p["detail"].as_str().unwrap().contains("injected"),
        "internals are not sent to the client"
    );
    assert_eq!(app.count("select count(*) from pickup").await, pickups);
    assert_eq!(app.count("select count(*) from garment").await, garments);
    assert_eq!(app.count("select count(*) from idempotency_key").await, 0);
}
#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn pickups_need_a_session(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let request = Request::post("/api/v1/pickups")
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", "anon")
        .body(Body::from(fresh_visit().to_string()))
        .unwrap();
    app.request(request).await.problem(StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("select count(*) from pickup").await, 3);
}
