//! Tests of garments: reading, correcting descriptions and tags, and the wardrobe summary.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::customers::{send_raw, time};
use crate::helpers::{
    TestApp, LIU_FANG, LIU_FANG_COAT, LIU_FANG_COAT_TAG, ZHOU_MIN, ZHOU_MIN_SUIT_TAG,
};
use doorstep::domain::code::TagCode;
use doorstep::domain::Role;

const MISSING: &str = "00000000-0000-4000-b000-0000000000ff";
const LIU_FANG_DOWN_JACKET: &str = "00000000-0000-4000-b000-0000000000a2";
const ZHOU_MIN_SUIT: &str = "00000000-0000-4000-b000-0000000000b1";

fn garment_uri(customer: &str, garment: &str) -> String {
    format!("/api/v1/customers/{customer}/garments/{garment}")
}

async fn tag_of(app: &TestApp, garment: &str) -> Option<String> {
    sqlx::query_scalar("select tag_code from garment where garment_id = $1::uuid")
        .bind(garment)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn any_staff_reads_a_garment(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let g = app
        .get(&garment_uri(LIU_FANG, LIU_FANG_COAT), &token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(g["garment_id"], LIU_FANG_COAT);
    assert_eq!(g["customer_id"], LIU_FANG);
    assert_eq!(g["kind"], "coat");
    assert_eq!(g["category"], "women");
    assert_eq!(g["season_class"], "winter");
    assert_eq!(g["brand"], "Max Mara");
    assert_eq!(g["material"], "cashmere");
    assert_eq!(g["tag_code"], LIU_FANG_COAT_TAG);

    app.get(&garment_uri(ZHOU_MIN, LIU_FANG_COAT), &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(&garment_uri(LIU_FANG, MISSING), &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    let p = app
        .get(&garment_uri(LIU_FANG, "coat"), &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:not-found");
    let p = app
        .get(&garment_uri("liu", LIU_FANG_COAT), &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:not-found");
    app.send(
        Method::GET,
        &garment_uri(LIU_FANG, LIU_FANG_COAT),
        None,
        None,
    )
    .await
    .problem(StatusCode::UNAUTHORIZED);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_pickup_worker_corrects_brand_and_size(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let uri = garment_uri(LIU_FANG, LIU_FANG_COAT);
    let before = app.get(&uri, &token).await.ok(StatusCode::OK);
    let g = app
        .patch(
            &uri,
            &token,
            json!({"brand": " Max Mara Weekend ", "size": "L"}),
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(g["brand"], "Max Mara Weekend");
    assert_eq!(g["size"], "L");
    assert_eq!(g["colour"], "camel");
    assert_eq!(g["tag_code"], LIU_FANG_COAT_TAG);
    assert_eq!(g["kind"], "coat");
    assert!(time(&g["updated_at"]) > time(&before["updated_at"]));
    assert_eq!(g["created_at"], before["created_at"]);
    let sql = format!(
        "select count(*) from garment where garment_id = '{LIU_FANG_COAT}' and brand = 'Max Mara Weekend' and size = 'L'
           and colour = 'camel' and cut = 'long' and updated_at > created_at"
    );
    assert_eq!(app.count(&sql).await, 1);

    let g = app.patch(&uri, &token, json!({"colour": null, "cut": "", "special_size": true, "season_class": "spring_autumn"})).await.ok(StatusCode::OK);
    assert_eq!(g["colour"], Value::Null);
    assert_eq!(g["cut"], Value::Null);
    assert_eq!(g["special_size"], true);
    assert_eq!(g["season_class"], "spring_autumn");
    assert_eq!(g["brand"], "Max Mara Weekend");
    let sql = format!("select count(*) from garment where garment_id = '{LIU_FANG_COAT}' and colour is null and cut is null and special_size");
    assert_eq!(app.count(&sql).await, 1);
    // The coat's visits now hold a spring/autumn garment, counted, and no longer a winter one.
    assert_eq!(app.count(crate::helpers::PICKUP_CLASS_MISMATCHES).await, 0);
    let sql = format!(
        "select count(*) from pickup_class k join pickup_line pl using (customer_id, pickup_id)
          where pl.garment_id = '{LIU_FANG_COAT}' and k.season_class = 'spring_autumn'"
    );
    assert!(app.count(&sql).await > 0, "the coat was cleaned before");
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn tags_are_checked_and_unique(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let uri = garment_uri(LIU_FANG, LIU_FANG_DOWN_JACKET);
    for taken in [ZHOU_MIN_SUIT_TAG, "g00d-em00-00bc"] {
        let p = app
            .patch(&uri, &token, json!({"tag_code": taken}))
            .await
            .problem(StatusCode::CONFLICT);
        assert_eq!(p["field"], "tag_code");
    }
    for bad in ["G123", "G00DEM0000BD", "D00DEM0000AN", "G00DEM0000B!"] {
        let p = app
            .patch(&uri, &token, json!({"tag_code": bad}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["field"], "tag_code", "{bad}");
    }
    assert_eq!(tag_of(&app, LIU_FANG_DOWN_JACKET).await, None);

    let fresh = TagCode::generate(&mut rand::thread_rng());
    let typed = fresh.grouped().to_lowercase();
    let g = app
        .patch(&uri, &token, json!({"tag_code": typed}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(g["tag_code"], fresh.as_str());
    assert_eq!(
        tag_of(&app, LIU_FANG_DOWN_JACKET).await.as_deref(),
        Some(fresh.as_str())
    );

    let suit = garment_uri(ZHOU_MIN, ZHOU_MIN_SUIT);
    app.patch(&suit, &token, json!({"tag_code": null}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(tag_of(&app, ZHOU_MIN_SUIT).await, None);
    app.patch(&uri, &token, json!({"tag_code": ZHOU_MIN_SUIT_TAG}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(
        tag_of(&app, LIU_FANG_DOWN_JACKET).await.as_deref(),
        Some(ZHOU_MIN_SUIT_TAG)
    );
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn patch_rejects_bad_input_and_callers(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let uri = garment_uri(LIU_FANG, LIU_FANG_COAT);
    let cases = [
        (json!({"kind": "cape"}), "kind"),
        (json!({"category": "pets"}), "category"),
        (json!({"material": "vinyl"}), "material"),
        (json!({"special_size": "yes"}), "special_size"),
        (json!({"brand": "b".repeat(101)}), "brand"),
        (json!({"size": "s".repeat(101)}), "size"),
        (json!({"price_cents": 100}), "price_cents"),
    ];
    for (body, field) in cases {
        let p = app
            .patch(&uri, &token, body.clone())
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["field"], field, "{body}");
    }
    send_raw(&app, Method::PATCH, &uri, &token, "{\"brand\": }")
        .await
        .problem(StatusCode::BAD_REQUEST);
    let fix = json!({"size": "XL"});
    let p = app
        .patch(&garment_uri(LIU_FANG, "1"), &token, fix.clone())
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:not-found");
    app.patch(&garment_uri(LIU_FANG, MISSING), &token, fix.clone())
        .await
        .problem(StatusCode::NOT_FOUND);
    app.patch(&garment_uri(ZHOU_MIN, LIU_FANG_COAT), &token, fix.clone())
        .await
        .problem(StatusCode::NOT_FOUND);
    app.send(Method::PATCH, &uri, None, Some(fix))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let unchanged = format!("select count(*) from garment where garment_id = '{LIU_FANG_COAT}' and size = 'M' and kind = 'coat' and updated_at = created_at");
    assert_eq!(app.count(&unchanged).await, 1);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn wardrobe_groups_winter_first_and_counts_cleanings(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    const PICKUP: &str = "00000000-0000-4000-c000-0000000000a9";
    let extra = [
        format!("insert into pickup (customer_id, pickup_id, staff_id, collected_at)
                 values ('{LIU_FANG}', '{PICKUP}', '00000000-0000-4000-8000-000000000001', now() - interval '10 days')"),
        format!("insert into pickup_line (customer_id, pickup_id, line_no, garment_id, service, price_cents)
                 values ('{LIU_FANG}', '{PICKUP}', 1, '{LIU_FANG_COAT}', 'dry_clean', 12000)"),
        format!("insert into garment (customer_id, garment_id, category, kind, season_class)
                 values ('{LIU_FANG}', '00000000-0000-4000-b000-0000000000a5', 'men', 'scarf', 'winter')"),
    ];
    for sql in extra {
        sqlx::query(&sql).execute(&app.pool).await.unwrap();
    }
    // The visit written by hand gets the rollups intake keeps (its id is a demo pickup's).
    let mut conn = app.pool.acquire().await.unwrap();
    doorstep::demo::apply_demo_rollups(&mut conn).await.unwrap();
    drop(conn);

    let groups = app
        .get(&format!("/api/v1/customers/{LIU_FANG}/wardrobe"), &token)
        .await
        .ok(StatusCode::OK);
    let groups = groups.as_array().unwrap();
    let keys: Vec<(&str, &str)> = groups
        .iter()
        .map(|g| {
            (
                g["season_class"].as_str().unwrap(),
                g["category"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("winter", "men"),
            ("winter", "women"),
            ("spring_autumn", "children"),
            ("summer", "women")
        ]
    );
    assert_eq!(groups[0]["garment_count"], 1);
    assert_eq!(groups[0]["times_cleaned"], 0);
    assert_eq!(groups[0]["last_cleaned_at"], Value::Null);
    let winter = &groups[1];
    assert_eq!(winter["garment_count"], 2);
    assert_eq!(winter["times_cleaned"], 3);
    let garments = winter["garments"].as_array().unwrap();
    assert_eq!(
        garments[0]["garment_id"], LIU_FANG_COAT,
        "most recently cleaned first"
    );
    assert_eq!(garments[0]["times_cleaned"], 2);
    assert_eq!(garments[1]["garment_id"], LIU_FANG_DOWN_JACKET);
    assert_eq!(garments[1]["times_cleaned"], 1);
    assert_eq!(winter["last_cleaned_at"], garments[0]["last_cleaned_at"]);
    let age = chrono::Utc::now() - time(&winter["last_cleaned_at"]);
    assert_eq!(age.num_days(), 10);
    assert_eq!(groups[2]["times_cleaned"], 1);

    let zhou = app
        .get(&format!("/api/v1/customers/{ZHOU_MIN}/wardrobe"), &token)
        .await
        .ok(StatusCode::OK);
    let seasons: Vec<&str> = zhou
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["season_class"].as_str().unwrap())
        .collect();
    assert_eq!(seasons, ["winter", "all_season"]);

    app.get("/api/v1/customers/zhou/wardrobe", &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get(
        "/api/v1/customers/00000000-0000-4000-9000-0000000000ff/wardrobe",
        &token,
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    app.assert_needs_session(
        Method::GET,
        &format!("/api/v1/customers/{LIU_FANG}/wardrobe"),
    )
    .await;
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_tag_lookup_answers_free_or_whose(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let coat = app
        .get(
            &format!("/api/v1/tags/{}", LIU_FANG_COAT_TAG.to_lowercase()),
            &token,
        )
        .await
        .ok(StatusCode::OK);
    assert_eq!(coat["code"], LIU_FANG_COAT_TAG);
    assert_eq!(coat["garment"]["garment_id"], LIU_FANG_COAT);
    assert_eq!(coat["garment"]["customer_id"], LIU_FANG);

    // A new tag is the start of a new garment: an answer, not an error.
    let fresh = TagCode::generate(&mut rand::thread_rng());
    let free = app
        .get(&format!("/api/v1/tags/{}", fresh.grouped()), &token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(free["code"], fresh.as_str());
    assert!(free["garment"].is_null());

    for bad in ["G123", "D00DEM0000AN"] {
        let p = app
            .get(&format!("/api/v1/tags/{bad}"), &token)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["field"], "code", "{bad}");
    }
    app.get(&format!("/api/v1/tags/{}", fresh.as_str()), "")
        .await
        .problem(StatusCode::UNAUTHORIZED);
}
