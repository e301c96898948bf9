//! Tests of the customers endpoints: create, read, patch, search, card and history.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{roles_below, Reply, TestApp, LIU_FANG, SUN_HAO, ZHOU_MIN};
use doorstep::domain::Role;

const MISSING: &str = "00000000-0000-4000-9000-0000000000ff";

/// Sends `body` verbatim as JSON (for malformed-JSON checks).
pub(crate) async fn send_raw(
    app: &TestApp,
    method: Method,
    uri: &str,
    token: &str,
    body: &'static str,
) -> Reply {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    app.request(request).await
}

pub(crate) fn time(v: &Value) -> DateTime<Utc> {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("not a timestamp ({e}): {v}"))
}

fn names(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn dispatcher_creates_a_customer(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    let body = json!({
        "name": "  Wu Jing ",
        "phone": "+86 135 0000 0404",
        "address": "Room 9, 3 Fuxing Rd",
        "notes": "Ring twice",
        "label_consent": {"given_at": "2026-01-05T10:00:00Z", "method": "signed form"},
        "do_not_contact": true
    });
    let c = app
        .post("/api/v1/customers", &token, body)
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(c["name"], "Wu Jing");
    assert_eq!(c["phone"], "+86 135 0000 0404");
    assert_eq!(c["address"], "Room 9, 3 Fuxing Rd");
    assert_eq!(c["notes"], "Ring twice");
    assert_eq!(
        time(&c["label_consent_at"]),
        "2026-01-05T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(c["label_consent_method"], "signed form");
    assert_eq!(c["do_not_contact"], true);
    assert!(c["do_not_contact_at"].is_string());
    let id = c["customer_id"].as_str().unwrap();
    let stored = app
        .count(&format!(
            "select count(*) from customer where customer_id = '{id}' and name = 'Wu Jing' and phone = '+86 135 0000 0404'
               and notes = 'Ring twice' and label_consent_method = 'signed form' and do_not_contact_at is not null"
        ))
        .await;
    assert_eq!(stored, 1);

    let minimal = app
        .post(
            "/api/v1/customers",
            &token,
            json!({"name": "Ma Li", "phone": "  "}),
        )
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(minimal["phone"], Value::Null);
    assert_eq!(minimal["notes"], "");
    assert_eq!(minimal["do_not_contact"], false);
    assert_eq!(minimal["do_not_contact_at"], Value::Null);
    assert_eq!(minimal["label_consent_at"], Value::Null);
    assert_eq!(app.count("select count(*) from customer").await, 2);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn create_customer_rejects_bad_input(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    let cases = [
        (json!({"name": "   "}), "name"),
        (json!({"phone": "+86 139"}), "name"),
        (json!({"name": "Wu", "phone": "call me"}), "phone"),
        (json!({"name": "Wu", "phone": "12"}), "phone"),
        (json!({"name": "x".repeat(201)}), "name"),
        (json!({"name": "Wu", "address": "a".repeat(501)}), "address"),
        (json!({"name": "Wu", "nickname": "W"}), "nickname"),
        (
            json!({"name": "Wu", "do_not_contact": "yes"}),
            "do_not_contact",
        ),
        (
            json!({"name": "Wu", "label_consent": {"given_at": "2999-01-01T00:00:00Z", "method": "form"}}),
            "label_consent.given_at",
        ),
        (
            json!({"name": "Wu", "label_consent": {"given_at": "2026-01-01T00:00:00Z", "method": " "}}),
            "label_consent.method",
        ),
    ];
    for (body, field) in cases {
        let p = app
            .post("/api/v1/customers", &token, body.clone())
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["field"], field, "{body}");
    }
    let p = send_raw(
        &app,
        Method::POST,
        "/api/v1/customers",
        &token,
        r#"{"name": "Wu""#,
    )
    .await
    .problem(StatusCode::BAD_REQUEST);
    assert_eq!(p["field"], "body");
    assert_eq!(app.count("select count(*) from customer").await, 0);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn create_customer_needs_a_dispatcher(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let body = json!({"name": "Wu Jing"});
    app.send(Method::POST, "/api/v1/customers", None, Some(body.clone()))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    for role in roles_below(Role::Dispatcher) {
        let token = app.login(role).await;
        app.post("/api/v1/customers", &token, body.clone())
            .await
            .problem(StatusCode::FORBIDDEN);
    }
    assert_eq!(roles_below(Role::Dispatcher), [Role::Pickup]);
    assert_eq!(app.count("select count(*) from customer").await, 0);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn any_staff_reads_a_customer(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let c = app
        .get(&format!("/api/v1/customers/{ZHOU_MIN}"), &token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(c["customer_id"], ZHOU_MIN);
    assert_eq!(c["name"], "Zhou Min");
    assert_eq!(c["phone"], "+86 139 0000 0202");
    assert_eq!(c["label_consent_method"], "verbal at door");

    let p = app
        .get("/api/v1/customers/not-a-uuid", &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:not-found");
    app.get(&format!("/api/v1/customers/{MISSING}"), &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.assert_needs_session(Method::GET, &format!("/api/v1/customers/{ZHOU_MIN}"))
        .await;
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn patch_changes_only_the_given_fields(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    let uri = format!("/api/v1/customers/{LIU_FANG}");
    let before = app.get(&uri, &token).await.ok(StatusCode::OK);

    let c = app
        .patch(&uri, &token, json!({"notes": "Use the side door"}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(c["notes"], "Use the side door");
    assert_eq!(c["name"], "Liu Fang");
    assert_eq!(c["phone"], before["phone"]);
    assert_eq!(c["address"], before["address"]);
    assert_eq!(c["label_consent_at"], before["label_consent_at"]);
    assert!(time(&c["updated_at"]) > time(&before["updated_at"]));

    let c = app
        .patch(&uri, &token, json!({"phone": null}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(c["phone"], Value::Null);
    assert_eq!(c["notes"], "Use the side door");
    let stored = app
        .count(&format!("select count(*) from customer where customer_id = '{LIU_FANG}' and phone is null and notes = 'Use the side door' and name = 'Liu Fang'"))
        .await;
    assert_eq!(stored, 1);

    let c = app
        .patch(&uri, &token, json!({"label_consent": null}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(c["label_consent_at"], Value::Null);
    assert_eq!(c["label_consent_method"], Value::Null);
    let other = app
        .count(&format!(
            "select count(*) from customer where customer_id = '{ZHOU_MIN}' and phone is not null"
        ))
        .await;
    assert_eq!(other, 1);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn do_not_contact_is_stamped_and_cleared(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    let uri = format!("/api/v1/customers/{SUN_HAO}");
    let on = app
        .patch(&uri, &token, json!({"do_not_contact": true}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(on["do_not_contact"], true);
    let stamped = time(&on["do_not_contact_at"]);
    assert!((Utc::now() - stamped).num_seconds().abs() < 60);
    let sql = format!("select count(*) from customer where customer_id = '{SUN_HAO}' and do_not_contact and do_not_contact_at is not null");
    assert_eq!(app.count(&sql).await, 1);

    let again = app
        .patch(&uri, &token, json!({"notes": "still no calls"}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(
        time(&again["do_not_contact_at"]),
        stamped,
        "an unrelated edit keeps the original stamp"
    );

    let off = app
        .patch(&uri, &token, json!({"do_not_contact": false}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(off["do_not_contact"], false);
    assert_eq!(off["do_not_contact_at"], Value::Null);
    let sql = format!("select count(*) from customer where customer_id = '{SUN_HAO}' and not do_not_contact and do_not_contact_at is null");
    assert_eq!(app.count(&sql).await, 1);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn patch_rejects_bad_input_and_callers(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    let uri = format!("/api/v1/customers/{ZHOU_MIN}");
    let cases = [
        (json!({"phone": "no phone"}), "phone"),
        (json!({"name": ""}), "name"),
        (json!({"notes": "n".repeat(4001)}), "notes"),
        (json!({"email": "z@example.com"}), "email"),
        (json!({"do_not_contact": 1}), "do_not_contact"),
    ];
    for (body, field) in cases {
        let p = app
            .patch(&uri, &token, body.clone())
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["field"], field, "{body}");
    }
    send_raw(&app, Method::PATCH, &uri, &token, "{phone: 1}")
        .await
        .problem(StatusCode::BAD_REQUEST);
    let p = app
        .patch("/api/v1/customers/123", &token, json!({"notes": "x"}))
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:not-found");
    app.patch(
        &format!("/api/v1/customers/{MISSING}"),
        &token,
        json!({"notes": "x"}),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    app.send(Method::PATCH, &uri, None, Some(json!({"notes": "x"})))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    for role in roles_below(Role::Dispatcher) {
        let t = app.login(role).await;
        app.patch(&uri, &t, json!({"notes": "x"}))
            .await
            .problem(StatusCode::FORBIDDEN);
    }
    let unchanged = app
        .count(&format!("select count(*) from customer where customer_id = '{ZHOU_MIN}' and notes = '' and phone = '+86 139 0000 0202' and updated_at = created_at"))
        .await;
    assert_eq!(unchanged, 1);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn search_matches_name_phone_digits_and_address(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let search = |q: &str| format!("/api/v1/customers?q={q}");
    assert_eq!(
        names(&app.get(&search("zHoU"), &token).await.ok(StatusCode::OK)),
        ["Zhou Min"]
    );
    assert_eq!(
        names(&app.get(&search("0202"), &token).await.ok(StatusCode::OK)),
        ["Zhou Min"]
    );
    assert_eq!(
        names(
            &app.get(&search("139-0000-0202"), &token)
                .await
                .ok(StatusCode::OK)
        ),
        ["Zhou Min"]
    );
    assert_eq!(
        names(
            &app.get(&search("nanjing%20rd"), &token)
                .await
                .ok(StatusCode::OK)
        ),
        ["Sun Hao"]
    );
    assert_eq!(
        names(
            &app.get(&search("Room%201201"), &token)
                .await
                .ok(StatusCode::OK)
        ),
        ["Liu Fang"]
    );
    assert!(names(&app.get(&search("nobody"), &token).await.ok(StatusCode::OK)).is_empty());
    assert!(
        names(
            &app.get(&search("%25%25%25"), &token)
                .await
                .ok(StatusCode::OK)
        )
        .is_empty(),
        "% is matched literally"
    );
    let dispatcher = app.login(Role::Dispatcher).await;
    assert_eq!(
        names(
            &app.get("/api/v1/customers", &dispatcher)
                .await
                .ok(StatusCode::OK)
        ),
        ["Liu Fang", "Sun Hao", "Zhou Min"]
    );

    let p = app
        .get(&search(&"a".repeat(101)), &token)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "q");
    app.assert_needs_session(Method::GET, &search("zhou")).await;
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn search_pages_through_results(pool: PgPool) {
    let app = TestApp::new(pool).await;
    // Paging is for dispatchers and up; pickup workers get a first page only.
    let token = app.login(Role::Dispatcher).await;
    let first = app
        .get("/api/v1/customers?q=shanghai&limit=2", &token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(names(&first), ["Liu Fang", "Sun Hao"]);
    assert_eq!(first["limit"], 2);
    assert_eq!(first["offset"], 0);
    assert_eq!(first["next_offset"], 2);
    let second = app
        .get("/api/v1/customers?q=shanghai&limit=2&offset=2", &token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(names(&second), ["Zhou Min"]);
    assert_eq!(second["next_offset"], Value::Null);
    let all = app
        .get("/api/v1/customers?limit=100", &token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    assert_eq!(all["next_offset"], Value::Null);

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
    ] {
        let p = app
            .get(&format!("/api/v1/customers?{query}"), &token)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["field"], field, "{query}");
    }
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn card_has_pickups_wardrobe_and_open_complaints(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let card = app
        .get(&format!("/api/v1/customers/{LIU_FANG}/card"), &token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(card["customer"]["name"], "Liu Fang");
    let pickups = card["last_pickups"].as_array().unwrap();
    let ids: Vec<&str> = pickups
        .iter()
        .map(|p| p["pickup_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "00000000-0000-4000-c000-0000000000a2",
            "00000000-0000-4000-c000-0000000000a1"
        ]
    );
    assert_eq!(pickups[0]["line_count"], 2);
    assert_eq!(pickups[0]["total_cents"], 8500);
    assert_eq!(pickups[1]["total_cents"], 20000);
    let seasons: Vec<&str> = card["wardrobe"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["season_class"].as_str().unwrap())
        .collect();
    assert_eq!(seasons, ["winter", "spring_autumn", "summer"]);
    let complaints = card["open_complaints"].as_array().unwrap();
    assert_eq!(complaints.len(), 1);
    assert_eq!(
        complaints[0]["interaction_id"],
        "00000000-0000-4000-d000-0000000000a1"
    );

    let sun = app
        .get(&format!("/api/v1/customers/{SUN_HAO}/card"), &token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(sun["last_pickups"], json!([]));
    assert_eq!(sun["open_complaints"], json!([]));
    assert_eq!(sun["wardrobe"].as_array().unwrap().len(), 1);

    let p = app
        .get("/api/v1/customers/nope/card", &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:not-found");
    app.get(&format!("/api/v1/customers/{MISSING}/card"), &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.assert_needs_session(Method::GET, &format!("/api/v1/customers/{LIU_FANG}/card"))
        .await;
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn history_is_newest_first_and_paginated(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let uri = format!("/api/v1/customers/{LIU_FANG}/history");
    let page = app.get(&uri, &token).await.ok(StatusCode::OK);
    let items = page["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["interaction", "pickup", "pickup"]);
    assert_eq!(items[0]["kind"], "complaint");
    assert_eq!(
        items[1]["pickup_id"],
        "00000000-0000-4000-c000-0000000000a2"
    );
    let lines = items[1]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["line_no"], 1);
    assert_eq!(lines[0]["kind"], "dress");
    assert_eq!(lines[1]["kind"], "sweater");
    assert_eq!(
        items[2]["lines"][1]["condition_notes"],
        "small tear at left cuff"
    );
    let times: Vec<DateTime<Utc>> = items.iter().map(|e| time(&e["at"])).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert_eq!(page["next_offset"], Value::Null);

    let first = app
        .get(&format!("{uri}?limit=2"), &token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["next_offset"], 2);
    let rest = app
        .get(&format!("{uri}?limit=2&offset=2"), &token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        rest["items"][0]["pickup_id"],
        "00000000-0000-4000-c000-0000000000a1"
    );
    assert_eq!(rest["next_offset"], Value::Null);

    let p = app
        .get(&format!("{uri}?limit=0"), &token)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "limit");
    app.get("/api/v1/customers/zzz/history", &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(&format!("/api/v1/customers/{MISSING}/history"), &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.assert_needs_session(Method::GET, &uri).await;
}

/// An unparsable id should name its path parameter, as `extract::Path` promises.
#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn bad_ids_name_their_path_parameter(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Admin).await;
    let cases = [
        ("/api/v1/customers/nope".to_owned(), "customer_id"),
        (
            format!("/api/v1/customers/{LIU_FANG}/garments/nope"),
            "garment_id",
        ),
        ("/api/v1/staff/nope".to_owned(), "staff_id"),
    ];
    for (uri, field) in cases {
        let p = app
            .send(Method::PATCH, &uri, Some(&token), Some(json!({})))
            .await
            .problem(StatusCode::NOT_FOUND);
        assert_eq!(p["field"], field, "{uri}");
    }
    let resolve = format!("/api/v1/customers/{LIU_FANG}/interactions/nope/resolve");
    let p = app
        .post(&resolve, &token, json!({"resolution": "x"}))
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["field"], "interaction_id");
}
