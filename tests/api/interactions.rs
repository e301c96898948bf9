//! Tests of interactions: recording each kind, listing, and resolving complaints.

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::customers::{send_raw, time};
use crate::helpers::{TestApp, LIU_FANG, SUN_HAO, ZHOU_MIN};
use doorstep::domain::Role;

const MISSING: &str = "00000000-0000-4000-9000-0000000000ff";
const LIU_FANG_COMPLAINT: &str = "00000000-0000-4000-d000-0000000000a1";
const ZHOU_MIN_NOTE: &str = "00000000-0000-4000-d000-0000000000b1";

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["interaction_id"].as_str().unwrap())
        .collect()
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn any_staff_records_each_kind(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let me = app.get("/api/v1/auth/me", &token).await.ok(StatusCode::OK);
    let uri = format!("/api/v1/customers/{SUN_HAO}/interactions");
    let yesterday = Utc::now() - Duration::days(1);
    let cases = [
        ("call", "phone"),
        ("visit", "door"),
        ("complaint", "app"),
        ("note", "in_person"),
    ];
    for (kind, channel) in cases {
        let body = json!({"kind": kind, "channel": channel, "body": format!("  a {kind}  "), "occurred_at": yesterday});
        let i = app.post(&uri, &token, body).await.ok(StatusCode::CREATED);
        assert_eq!(i["kind"], kind);
        assert_eq!(i["channel"], channel);
        assert_eq!(i["body"], format!("a {kind}"));
        assert_eq!(i["customer_id"], SUN_HAO);
        assert_eq!(i["staff_id"], me["staff_id"]);
        assert!(
            (time(&i["occurred_at"]) - yesterday)
                .num_microseconds()
                .unwrap()
                .abs()
                <= 1
        );
        assert_eq!(i["resolved_at"], Value::Null);
        let id = i["interaction_id"].as_str().unwrap();
        let sql = format!(
            "select count(*) from interaction where interaction_id = '{id}' and customer_id = '{SUN_HAO}' and kind = '{kind}'
               and channel = '{channel}' and body = 'a {kind}' and staff_id = '{}'",
            me["staff_id"].as_str().unwrap()
        );
        assert_eq!(app.count(&sql).await, 1, "{kind}");
    }
    assert_eq!(
        app.count(&format!(
            "select count(*) from interaction where customer_id = '{SUN_HAO}'"
        ))
        .await,
        4
    );

    let now = app
        .post(
            &uri,
            &token,
            json!({"kind": "note", "channel": "sms", "body": "texted"}),
        )
        .await
        .ok(StatusCode::CREATED);
    assert!(
        (Utc::now() - time(&now["occurred_at"])).num_seconds().abs() < 60,
        "occurred_at defaults to now"
    );
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn create_rejects_bad_input(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let uri = format!("/api/v1/customers/{SUN_HAO}/interactions");
    let future = Utc::now() + Duration::hours(1);
    let cases = [
        (
            json!({"kind": "note", "channel": "door", "body": ""}),
            "body",
        ),
        (
            json!({"kind": "note", "channel": "door", "body": "   "}),
            "body",
        ),
        (
            json!({"kind": "note", "channel": "door", "body": "b".repeat(4001)}),
            "body",
        ),
        (json!({"kind": "note", "channel": "door"}), "body"),
        (
            json!({"kind": "note", "channel": "door", "body": "x", "occurred_at": future}),
            "occurred_at",
        ),
        (
            json!({"kind": "note", "channel": "door", "body": "x", "occurred_at": "yesterday"}),
            "occurred_at",
        ),
        (
            json!({"kind": "praise", "channel": "door", "body": "x"}),
            "kind",
        ),
        (
            json!({"kind": "note", "channel": "pigeon", "body": "x"}),
            "channel",
        ),
        (
            json!({"kind": "note", "channel": "door", "body": "x", "urgent": true}),
            "urgent",
        ),
    ];
    for (body, field) in cases {
        let p = app
            .post(&uri, &token, body.clone())
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["field"], field, "{body}");
    }
    send_raw(&app, Method::POST, &uri, &token, r#"{"kind": "note","#)
        .await
        .problem(StatusCode::BAD_REQUEST);
    let ok = json!({"kind": "note", "channel": "door", "body": "x"});
    let p = app
        .post("/api/v1/customers/sun-hao/interactions", &token, ok.clone())
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:not-found");
    app.post(
        &format!("/api/v1/customers/{MISSING}/interactions"),
        &token,
        ok.clone(),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    app.send(Method::POST, &uri, None, Some(ok))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("select count(*) from interaction").await, 2);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_complaint_stays_open_until_resolved(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let me = app.get("/api/v1/auth/me", &token).await.ok(StatusCode::OK);
    let card_uri = format!("/api/v1/customers/{LIU_FANG}/card");
    let body =
        json!({"kind": "complaint", "channel": "phone", "body": "Button missing on the coat"});
    let c = app
        .post(
            &format!("/api/v1/customers/{LIU_FANG}/interactions"),
            &token,
            body,
        )
        .await
        .ok(StatusCode::CREATED);
    let cid = c["interaction_id"].as_str().unwrap();
    let card = app.get(&card_uri, &token).await.ok(StatusCode::OK);
    assert_eq!(ids(&card["open_complaints"]), [cid, LIU_FANG_COMPLAINT]);

    let resolve = format!("/api/v1/customers/{LIU_FANG}/interactions/{cid}/resolve");
    let p = app
        .post(&resolve, &token, json!({"resolution": "  "}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "resolution");
    let p = app
        .post(&resolve, &token, json!({}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "resolution");
    let p = app
        .post(&resolve, &token, json!({"resolution": "x", "refund": 5}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "refund");
    send_raw(&app, Method::POST, &resolve, &token, "resolution")
        .await
        .problem(StatusCode::BAD_REQUEST);
    app.send(
        Method::POST,
        &resolve,
        None,
        Some(json!({"resolution": "x"})),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.count("select count(*) from interaction where resolved_at is not null")
            .await,
        0
    );

    let done = app
        .post(
            &resolve,
            &token,
            json!({"resolution": " Sewed a new button on "}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(done["resolution"], "Sewed a new button on");
    assert_eq!(done["resolved_by"], me["staff_id"]);
    assert!(done["resolved_at"].is_string());
    let sql = format!("select count(*) from interaction where interaction_id = '{cid}' and resolved_at is not null and resolution = 'Sewed a new button on'");
    assert_eq!(app.count(&sql).await, 1);
    let card = app.get(&card_uri, &token).await.ok(StatusCode::OK);
    assert_eq!(ids(&card["open_complaints"]), [LIU_FANG_COMPLAINT]);

    // The answer was lost and the same resolution sent again: it answers the first, and records nothing new.
    let again = app
        .post(
            &resolve,
            &token,
            json!({"resolution": "Sewed a new button on"}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(again, done);
    let other = app.login(Role::Dispatcher).await;
    app.post(
        &resolve,
        &other,
        json!({"resolution": "Sewed a new button on"}),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    app.post(&resolve, &token, json!({"resolution": "again"}))
        .await
        .problem(StatusCode::NOT_FOUND);
    let sql = format!("select count(*) from interaction where interaction_id = '{cid}' and resolution = 'Sewed a new button on'");
    assert_eq!(
        app.count(&sql).await,
        1,
        "resolving twice keeps the first resolution"
    );
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn only_open_complaints_of_that_customer_resolve(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let fix = json!({"resolution": "done"});
    let note = format!("/api/v1/customers/{ZHOU_MIN}/interactions/{ZHOU_MIN_NOTE}/resolve");
    app.post(&note, &token, fix.clone())
        .await
        .problem(StatusCode::NOT_FOUND);
    let wrong_customer =
        format!("/api/v1/customers/{ZHOU_MIN}/interactions/{LIU_FANG_COMPLAINT}/resolve");
    app.post(&wrong_customer, &token, fix.clone())
        .await
        .problem(StatusCode::NOT_FOUND);
    let missing = format!("/api/v1/customers/{LIU_FANG}/interactions/{MISSING}/resolve");
    app.post(&missing, &token, fix.clone())
        .await
        .problem(StatusCode::NOT_FOUND);
    let p = app
        .post(
            &format!("/api/v1/customers/{LIU_FANG}/interactions/42/resolve"),
            &token,
            fix.clone(),
        )
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:not-found");
    assert_eq!(
        app.count("select count(*) from interaction where resolved_at is not null")
            .await,
        0
    );
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn list_filters_by_kind_and_pages(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let uri = format!("/api/v1/customers/{LIU_FANG}/interactions");
    for (kind, days) in [("call", 1), ("note", 2), ("complaint", 3)] {
        let at = Utc::now() - Duration::days(days);
        let body = json!({"kind": kind, "channel": "phone", "body": kind, "occurred_at": at});
        app.post(&uri, &token, body).await.ok(StatusCode::CREATED);
    }
    let all = app.get(&uri, &token).await.ok(StatusCode::OK);
    let kinds: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["call", "note", "complaint", "complaint"]);
    assert_eq!(all["items"][3]["interaction_id"], LIU_FANG_COMPLAINT);

    let complaints = app
        .get(&format!("{uri}?kind=complaint"), &token)
        .await
        .ok(StatusCode::OK);
    let items = complaints["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["kind"] == "complaint"));
    let visits = app
        .get(&format!("{uri}?kind=visit"), &token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(visits["items"], json!([]));

    let first = app
        .get(&format!("{uri}?limit=3"), &token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    assert_eq!(first["next_offset"], 3);
    let last = app
        .get(&format!("{uri}?limit=3&offset=3"), &token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(ids(&last["items"]), [LIU_FANG_COMPLAINT]);
    assert_eq!(last["next_offset"], Value::Null);

    for (query, field) in [
        ("kind=praise", "kind"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
    ] {
        let p = app
            .get(&format!("{uri}?{query}"), &token)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["field"], field, "{query}");
    }
    app.get("/api/v1/customers/liu/interactions", &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(&format!("/api/v1/customers/{MISSING}/interactions"), &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.assert_needs_session(Method::GET, &uri).await;
}

/// A note sent again under its Idempotency-Key (a worker tapping Save after a timeout) is recorded once and
/// answered as the first time; the same key with another note is refused; a note without a key is recorded.
#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_retried_note_is_recorded_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let uri = format!("/api/v1/customers/{SUN_HAO}/interactions");
    let note = json!({"kind": "complaint", "channel": "door", "body": "a button is missing",
                      "occurred_at": (Utc::now() - Duration::minutes(1)).to_rfc3339()});
    let first = app.post_keyed(&uri, &token, "note-1", &note).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = app.post_keyed(&uri, &token, "note-1", &note).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.json(), first.json());
    let mut other = note.clone();
    other["body"] = json!("two buttons are missing");
    app.post_keyed(&uri, &token, "note-1", &other)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.post(&uri, &token, other).await.ok(StatusCode::CREATED);
    let complaints = app
        .get(&format!("{uri}?kind=complaint"), &token)
        .await
        .ok(StatusCode::OK);
    let bodies: Vec<&str> = complaints["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies
            .iter()
            .filter(|b| **b == "a button is missing")
            .count(),
        1,
        "{bodies:?}"
    );
    assert!(bodies.contains(&"two buttons are missing"), "{bodies:?}");
}
