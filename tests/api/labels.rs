//! Tests of door labels: issuing, replacing, revoking, listing and rendering as PNG and SVG.

use axum::http::{Method, StatusCode};
use rxing::BarcodeFormat;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{roles_below, Reply, TestApp, LIU_FANG, LIU_FANG_CODE, SUN_HAO, ZHOU_MIN};
use doorstep::domain::code::DoorCode;
use doorstep::domain::Role;

const MISSING: &str = "00000000-0000-4000-9000-0000000000ff";

/// Decodes the barcode in a rendered label.
fn decode(reply: &Reply) -> (String, BarcodeFormat) {
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "body: {}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.content_type(), "image/png");
    let luma = image::load_from_memory(&reply.body)
        .expect("a PNG")
        .to_luma8();
    let (w, h) = luma.dimensions();
    let found =
        rxing::helpers::detect_in_luma(luma.into_raw(), w, h, None).expect("a readable barcode");
    (found.getText().to_owned(), *found.getBarcodeFormat())
}

async fn scan(app: &TestApp, token: &str, code: &str) -> Reply {
    app.post("/api/v1/scans", token, json!({ "code": code }))
        .await
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn issuing_a_label_replaces_the_active_one(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    let uri = format!("/api/v1/customers/{LIU_FANG}/labels");
    let label = app
        .post(&uri, &token, json!({}))
        .await
        .ok(StatusCode::CREATED);
    let code = label["code"].as_str().unwrap().to_owned();
    assert_eq!(DoorCode::parse(&code).unwrap().as_str(), code);
    assert_ne!(code, LIU_FANG_CODE);
    assert_eq!(label["customer_id"], LIU_FANG);
    assert_eq!(label["revoked_at"], Value::Null);
    let me = app.get("/api/v1/auth/me", &token).await.ok(StatusCode::OK);
    assert_eq!(label["issued_by"], me["staff_id"]);

    let active = format!(
        "select count(*) from door_label where customer_id = '{LIU_FANG}' and revoked_at is null"
    );
    assert_eq!(app.count(&active).await, 1);
    assert_eq!(
        app.count(&format!(
            "select count(*) from door_label where customer_id = '{LIU_FANG}'"
        ))
        .await,
        2
    );
    let replaced = format!("select count(*) from door_label where code = '{LIU_FANG_CODE}' and revoked_at is not null and revoked_reason = 'replaced'");
    assert_eq!(app.count(&replaced).await, 1);

    let pickup = app.login(Role::Pickup).await;
    let p = scan(&app, &pickup, LIU_FANG_CODE)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:label-revoked");
    assert_eq!(p["field"], "code");
    let found = scan(&app, &pickup, &code).await.ok(StatusCode::OK);
    assert_eq!(found["customer"]["customer"]["customer_id"], LIU_FANG);

    let again = app
        .post(&format!("{uri}?reason=lost"), &token, json!({}))
        .await
        .ok(StatusCode::CREATED);
    assert_ne!(again["code"], code.as_str());
    assert_eq!(app.count(&active).await, 1);
    let lost = format!(
        "select count(*) from door_label where code = '{code}' and revoked_reason = 'lost'"
    );
    assert_eq!(app.count(&lost).await, 1);
    scan(&app, &pickup, &code)
        .await
        .problem(StatusCode::NOT_FOUND);

    let list = app.get(&uri, &token).await.ok(StatusCode::OK);
    let codes: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            again["code"].as_str().unwrap(),
            code.as_str(),
            LIU_FANG_CODE
        ]
    );
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_label_needs_recorded_consent(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    let customer = app
        .post("/api/v1/customers", &token, json!({"name": "Wu Jing"}))
        .await
        .ok(StatusCode::CREATED);
    let id = customer["customer_id"].as_str().unwrap();
    let uri = format!("/api/v1/customers/{id}/labels");
    let p = app
        .post(&uri, &token, json!({}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "label_consent");
    assert_eq!(app.count("select count(*) from door_label").await, 0);

    let consent =
        json!({"label_consent": {"given_at": "2026-01-05T10:00:00Z", "method": "signed form"}});
    app.patch(&format!("/api/v1/customers/{id}"), &token, consent)
        .await
        .ok(StatusCode::OK);
    app.post(&uri, &token, json!({}))
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(
        app.count(&format!(
            "select count(*) from door_label where customer_id = '{id}' and revoked_at is null"
        ))
        .await,
        1
    );

    // Withdrawing consent takes the label off the door at once.
    let code: String = sqlx::query_scalar(
        "select code from door_label where customer_id = $1::uuid and revoked_at is null",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    app.patch(
        &format!("/api/v1/customers/{id}"),
        &token,
        json!({"label_consent": null}),
    )
    .await
    .ok(StatusCode::OK);
    let reason: Option<String> =
        sqlx::query_scalar("select revoked_reason from door_label where code = $1")
            .bind(&code)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(reason.as_deref(), Some("consent withdrawn"));
    let p = scan(&app, &token, &code)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:label-revoked");
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn issuing_rejects_bad_requests_and_callers(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    let uri = format!("/api/v1/customers/{ZHOU_MIN}/labels");
    let p = app
        .post(
            &format!("{uri}?reason={}", "r".repeat(201)),
            &token,
            json!({}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "reason");
    let p = app
        .post("/api/v1/customers/not-a-uuid/labels", &token, json!({}))
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:not-found");
    app.post(
        &format!("/api/v1/customers/{MISSING}/labels"),
        &token,
        json!({}),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    app.assert_needs_session(Method::POST, &uri).await;
    app.assert_needs_session(Method::GET, &uri).await;
    for role in roles_below(Role::Dispatcher) {
        let t = app.login(role).await;
        app.post(&uri, &t, json!({}))
            .await
            .problem(StatusCode::FORBIDDEN);
        app.get(&uri, &t).await.problem(StatusCode::FORBIDDEN);
    }
    app.get("/api/v1/customers/xyz/labels", &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(&format!("/api/v1/customers/{MISSING}/labels"), &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    let untouched = format!("select count(*) from door_label where customer_id = '{ZHOU_MIN}' and revoked_at is null and code = 'D00DEM0000BK'");
    assert_eq!(app.count(&untouched).await, 1);
    assert_eq!(app.count("select count(*) from door_label").await, 3);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn revoking_ends_the_label(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    let uri = format!("/api/v1/customers/{LIU_FANG}/label");
    for role in roles_below(Role::Dispatcher) {
        let t = app.login(role).await;
        app.send(Method::DELETE, &uri, Some(&t), None)
            .await
            .problem(StatusCode::FORBIDDEN);
    }
    app.assert_needs_session(Method::DELETE, &uri).await;
    let p = app
        .send(
            Method::DELETE,
            "/api/v1/customers/1/label",
            Some(&token),
            None,
        )
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:not-found");
    app.send(
        Method::DELETE,
        &format!("/api/v1/customers/{MISSING}/label"),
        Some(&token),
        None,
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    assert_eq!(
        app.count("select count(*) from door_label where revoked_at is null")
            .await,
        3
    );

    let revoked = app
        .send(
            Method::DELETE,
            &format!("{uri}?reason=moved%20out"),
            Some(&token),
            None,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(revoked["code"], LIU_FANG_CODE);
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(revoked["revoked_reason"], "moved out");
    let sql = format!(
        "select count(*) from door_label where customer_id = '{LIU_FANG}' and revoked_at is null"
    );
    assert_eq!(app.count(&sql).await, 0);
    assert_eq!(
        app.count("select count(*) from door_label where revoked_at is null")
            .await,
        2
    );

    app.send(Method::DELETE, &uri, Some(&token), None)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(&format!("/api/v1/customers/{LIU_FANG}/label.png"), &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(&format!("/api/v1/customers/{LIU_FANG}/label.svg"), &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    let pickup = app.login(Role::Pickup).await;
    let p = scan(&app, &pickup, LIU_FANG_CODE)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:label-revoked");
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn png_label_decodes_to_the_active_code(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    let uri = format!("/api/v1/customers/{LIU_FANG}/label.png");
    let qr = app.get(&uri, &token).await;
    assert_eq!(
        decode(&qr),
        (LIU_FANG_CODE.to_owned(), BarcodeFormat::QR_CODE)
    );
    assert_eq!(qr.headers["cache-control"], "no-store");
    let c128 = app.get(&format!("{uri}?symbology=code128"), &token).await;
    assert_eq!(
        decode(&c128),
        (LIU_FANG_CODE.to_owned(), BarcodeFormat::CODE_128)
    );

    let issued = app
        .post(
            &format!("/api/v1/customers/{LIU_FANG}/labels"),
            &token,
            json!({}),
        )
        .await
        .ok(StatusCode::CREATED);
    let (text, _) = decode(&app.get(&uri, &token).await);
    assert_eq!(text, issued["code"].as_str().unwrap());

    let p = app
        .get(&format!("{uri}?symbology=ean13"), &token)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "symbology");
    app.get("/api/v1/customers/abc/label.png", &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(&format!("/api/v1/customers/{MISSING}/label.png"), &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.assert_needs_session(Method::GET, &uri).await;
    for role in roles_below(Role::Dispatcher) {
        let t = app.login(role).await;
        app.get(&uri, &t).await.problem(StatusCode::FORBIDDEN);
    }
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn svg_label_carries_the_grouped_code(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    let uri = format!("/api/v1/customers/{ZHOU_MIN}/label.svg");
    for query in ["", "?symbology=code128"] {
        let svg = app.get(&format!("{uri}{query}"), &token).await;
        assert_eq!(svg.status, StatusCode::OK);
        assert_eq!(svg.content_type(), "image/svg+xml");
        let text = String::from_utf8(svg.body).unwrap();
        assert!(text.starts_with("<svg"), "{text}");
        assert!(text.contains(">D00D-EM00-00BK</text>"), "{text}");
    }
    let p = app
        .get(&format!("{uri}?symbology=pdf417"), &token)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "symbology");
    app.get("/api/v1/customers/abc/label.svg", &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(&format!("/api/v1/customers/{MISSING}/label.svg"), &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.assert_needs_session(Method::GET, &uri).await;
    for role in roles_below(Role::Dispatcher) {
        let t = app.login(role).await;
        app.get(&uri, &t).await.problem(StatusCode::FORBIDDEN);
    }
}

async fn unprinted(app: &TestApp, token: &str) -> i64 {
    app.get("/api/v1/labels/unprinted", token)
        .await
        .ok(StatusCode::OK)["customers"]
        .as_i64()
        .unwrap()
}

fn pdf(reply: &Reply, count: usize) {
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "body: {}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.content_type(), "application/pdf");
    assert_eq!(reply.headers["x-label-count"], count.to_string().as_str());
    assert!(reply.body.starts_with(b"%PDF"));
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_door_sheet_prints_active_codes_issues_missing_ones_and_marks_them_printed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    assert_eq!(
        unprinted(&app, &token).await,
        3,
        "demo labels were never printed"
    );
    // Sun Hao's label is revoked: the sheet issues a new one.
    app.send(
        Method::DELETE,
        &format!("/api/v1/customers/{SUN_HAO}/label"),
        Some(&token),
        None,
    )
    .await;
    let reply = app
        .post(
            "/api/v1/labels/door-sheet",
            &token,
            json!({"customer_ids": [LIU_FANG, SUN_HAO], "lang": "en"}),
        )
        .await;
    pdf(&reply, 2);
    let active = |c: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_as::<_, (String, bool)>(
                "select code, printed_at is not null from door_label where customer_id = $1::uuid and revoked_at is null",
            )
            .bind(c)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(active(LIU_FANG).await, (LIU_FANG_CODE.to_owned(), true));
    let (sun, printed) = active(SUN_HAO).await;
    assert!(printed && sun != "D00DEM0000CH" && DoorCode::parse(&sun).is_ok());
    assert_eq!(unprinted(&app, &token).await, 1, "only Zhou Min is left");

    let rest = app
        .post(
            "/api/v1/labels/door-sheet",
            &token,
            json!({"unprinted": true}),
        )
        .await;
    pdf(&rest, 1);
    assert_eq!(unprinted(&app, &token).await, 0);
    let none = app
        .post(
            "/api/v1/labels/door-sheet",
            &token,
            json!({"unprinted": true}),
        )
        .await;
    none.problem(StatusCode::NOT_FOUND);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_door_sheet_names_the_customer_it_cannot_print(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    sqlx::query("update customer set label_consent_at = null, label_consent_method = null where customer_id = $1::uuid")
        .bind(ZHOU_MIN)
        .execute(&app.pool)
        .await
        .unwrap();
    let cases = [
        (
            json!({"customer_ids": [LIU_FANG, ZHOU_MIN]}),
            "customer_ids[1]",
        ),
        (
            json!({"customer_ids": [LIU_FANG, MISSING]}),
            "customer_ids[1]",
        ),
        (
            json!({"customer_ids": [LIU_FANG, LIU_FANG]}),
            "customer_ids[1]",
        ),
        (json!({"customer_ids": []}), "customer_ids"),
        (json!({}), "customer_ids"),
        (
            json!({"customer_ids": [LIU_FANG], "unprinted": true}),
            "unprinted",
        ),
        (json!({"customer_ids": [LIU_FANG], "lang": "fr"}), "lang"),
    ];
    for (body, field) in cases {
        let p = app
            .post("/api/v1/labels/door-sheet", &token, body.clone())
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
    }
    let printed: i64 =
        sqlx::query_scalar("select count(*) from door_label where printed_at is not null")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(printed, 0, "a refused sheet marks nothing printed");
    for role in roles_below(Role::Dispatcher) {
        let t = app.login(role).await;
        app.post(
            "/api/v1/labels/door-sheet",
            &t,
            json!({"customer_ids": [LIU_FANG]}),
        )
        .await
        .problem(StatusCode::FORBIDDEN);
        app.post("/api/v1/labels/tag-sheet", &t, json!({}))
            .await
            .problem(StatusCode::FORBIDDEN);
    }
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_tag_sheet_holds_the_tags_asked_for(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    pdf(
        &app.post("/api/v1/labels/tag-sheet", &token, json!({"count": 30}))
            .await,
        30,
    );
    pdf(
        &app.post("/api/v1/labels/tag-sheet", &token, json!({}))
            .await,
        24,
    );
    for count in [0, 241] {
        let p = app
            .post(
                "/api/v1/labels/tag-sheet",
                &token,
                json!({ "count": count }),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["errors"][0]["field"], "count");
    }
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_retried_unprinted_sheet_prints_the_same_labels_again(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    let body = json!({"unprinted": true, "lang": "en"});
    let first = app
        .post_keyed("/api/v1/labels/door-sheet", &token, "sheet-1", &body)
        .await;
    pdf(&first, 3);
    assert_eq!(unprinted(&app, &token).await, 0);
    // A customer agrees to a label while the first answer is lost on the way.
    app.post(
        "/api/v1/customers",
        &token,
        json!({"name": "Qian Lei", "label_consent": {"given_at": "2026-01-05T10:00:00Z", "method": "signed form"}}),
    )
    .await
    .ok(StatusCode::CREATED);
    assert_eq!(unprinted(&app, &token).await, 1);
    let labels = app.count("select count(*) from door_label").await;

    let retry = app
        .post_keyed("/api/v1/labels/door-sheet", &token, "sheet-1", &body)
        .await;
    pdf(&retry, 3);
    assert_eq!(
        unprinted(&app, &token).await,
        1,
        "the retry printed the first sheet's customers, not the new one"
    );
    assert_eq!(app.count("select count(*) from door_label").await, labels);

    let other = app
        .post_keyed(
            "/api/v1/labels/door-sheet",
            &token,
            "sheet-1",
            &json!({"unprinted": true, "lang": "zh-CN"}),
        )
        .await;
    assert_eq!(
        other.problem(StatusCode::UNPROCESSABLE_ENTITY)["type"],
        "urn:doorstep:problem:idempotency-mismatch"
    );
    let next = app
        .post_keyed("/api/v1/labels/door-sheet", &token, "sheet-2", &body)
        .await;
    pdf(&next, 1);
    assert_eq!(unprinted(&app, &token).await, 0);
}
