//! Tests of POST /scans: USB-scanner codes, door photos, garment tags, and every error a worker can act on.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;
use doorstep::domain::Role;
use doorstep::profile::kept::Packed;

const DEMO_PHOTO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/demo-label-D00DEM0000AN.jpg"
);

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_usb_scanner_code_answers_the_customer_card(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    // Scanners type the code and Enter; people type lower case with hyphens.
    for typed in ["D00DEM0000AN\r\n", "d00d-em00-00an"] {
        let card = app
            .post("/api/v1/scans", &token, json!({"code": typed}))
            .await
            .ok(StatusCode::OK);
        assert_eq!(card["code"], LIU_FANG_CODE);
        assert_eq!(card["kind"], "door_label");
        assert_eq!(card["source"], "keyboard");
        let customer = &card["customer"];
        assert_eq!(customer["customer"]["name"], "Liu Fang");
        assert_eq!(customer["customer"]["do_not_contact"], false);
        assert_eq!(customer["last_pickups"].as_array().unwrap().len(), 2);
        assert_eq!(customer["open_complaints"].as_array().unwrap().len(), 1);
        let groups = customer["wardrobe"].as_array().unwrap();
        assert_eq!(groups[0]["season_class"], "winter");
        assert_eq!(groups[0]["garment_count"], 2);
        assert_eq!(groups[0]["times_cleaned"], 2);
    }
}

/// A scan or card request with `Accept-Encoding: accept` (none when empty), its body gunzipped when gzipped.
async fn read_encoded(
    app: &TestApp,
    token: &str,
    uri: &str,
    body: Option<Value>,
    accept: &str,
) -> (Option<String>, Vec<u8>) {
    let method = if body.is_some() {
        Method::POST
    } else {
        Method::GET
    };
    let headers: &[(header::HeaderName, &str)] = match accept {
        "" => &[],
        a => &[(header::ACCEPT_ENCODING, a)],
    };
    let reply = app.send_with(method, uri, Some(token), body, headers).await;
    assert_eq!(reply.status, StatusCode::OK, "{uri} with {accept:?}");
    let encoding = reply
        .headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap().to_owned());
    let vary = reply
        .headers
        .get(header::VARY)
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(
        vary.as_deref(),
        Some("accept-encoding"),
        "{uri} with {accept:?}"
    );
    let bytes = match encoding.as_deref() {
        Some("gzip") => {
            let mut out = Vec::new();
            std::io::Read::read_to_end(
                &mut flate2::read::GzDecoder::new(&reply.body[..]),
                &mut out,
            )
            .unwrap();
            out
        }
        _ => reply.body,
    };
    (encoding, bytes)
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_kept_card_reaches_gzip_clients_packed_and_others_as_text(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let browser = "gzip, deflate, br, zstd";
    let door = || Some(json!({"code": LIU_FANG_CODE}));
    let tag = || Some(json!({"code": LIU_FANG_COAT_TAG}));
    let card_uri = format!("/api/v1/customers/{LIU_FANG}/card");
    sqlx::query("delete from customer_card")
        .execute(&app.pool)
        .await
        .unwrap();
    // Built now (nothing kept): the text, compressed on the way out.
    let (built_enc, built) = read_encoded(&app, &token, "/api/v1/scans", door(), "gzip").await;
    assert_eq!(built_enc.as_deref(), Some("gzip"));
    app.state.cards.flush().await;
    assert!(kept_body(&app).await.is_some());
    // Kept: the same bytes whether the client takes gzip (the packed card spliced in) or not.
    let (plain_enc, plain) = read_encoded(&app, &token, "/api/v1/scans", door(), "").await;
    assert_eq!(plain_enc, None);
    assert_eq!(plain, built);
    for accept in [browser, "gzip", "br;q=0, gzip;q=0.5", "*"] {
        let (enc, bytes) = read_encoded(&app, &token, "/api/v1/scans", door(), accept).await;
        assert_eq!(enc.as_deref(), Some("gzip"), "{accept}");
        assert_eq!(bytes, plain, "{accept}");
    }
    for accept in ["identity", "gzip;q=0"] {
        let (enc, bytes) = read_encoded(&app, &token, "/api/v1/scans", door(), accept).await;
        assert_eq!(enc, None, "{accept}");
        assert_eq!(bytes, plain, "{accept}");
    }
    let answer: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(answer["code"], LIU_FANG_CODE);
    assert_eq!(answer["customer"]["customer"]["name"], "Liu Fang");
    // A garment tag's answer (with the garment in its head) and the card alone, the same way.
    let (_, tag_plain) = read_encoded(&app, &token, "/api/v1/scans", tag(), "").await;
    let (tag_enc, tag_gz) = read_encoded(&app, &token, "/api/v1/scans", tag(), browser).await;
    assert_eq!(tag_enc.as_deref(), Some("gzip"));
    assert_eq!(tag_gz, tag_plain);
    let tag_answer: Value = serde_json::from_slice(&tag_gz).unwrap();
    assert_eq!(tag_answer["garment"]["garment_id"], LIU_FANG_COAT);
    let (_, card_plain) = read_encoded(&app, &token, &card_uri, None, "").await;
    let (card_enc, card_gz) = read_encoded(&app, &token, &card_uri, None, browser).await;
    assert_eq!(card_enc.as_deref(), Some("gzip"));
    assert_eq!(card_gz, card_plain);
    assert_eq!(
        serde_json::from_slice::<Value>(&card_plain).unwrap(),
        answer["customer"]
    );
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_garment_tag_answers_the_garment_and_its_owner(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let r = app
        .post("/api/v1/scans", &token, json!({"code": ZHOU_MIN_SUIT_TAG}))
        .await
        .ok(StatusCode::OK);
    assert_eq!(r["kind"], "garment_tag");
    assert_eq!(r["garment"]["kind"], "suit");
    assert_eq!(r["customer"]["customer"]["customer_id"], ZHOU_MIN);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn bad_codes_are_rejected_before_lookup(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let misread = app
        .post("/api/v1/scans", &token, json!({"code": "D00DEM0000AM"}))
        .await;
    let p = misread.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "code");
    assert!(p["detail"].as_str().unwrap().contains("check character"));
    let short = app
        .post("/api/v1/scans", &token, json!({"code": "D00DEM"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(short["field"], "code");
    let missing = app
        .post("/api/v1/scans", &token, json!({"barcode": "D00DEM0000AN"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing["field"], "barcode");
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn unknown_and_revoked_labels_are_404(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let unknown = doorstep::domain::code::DoorCode::generate(&mut rand::thread_rng());
    let p = app
        .post("/api/v1/scans", &token, json!({"code": unknown.as_str()}))
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:unknown-label");
    sqlx::query(
        "update door_label set revoked_at = now(), revoked_reason = 'lost' where code = $1",
    )
    .bind(LIU_FANG_CODE)
    .execute(&app.pool)
    .await
    .unwrap();
    let p = app
        .post("/api/v1/scans", &token, json!({"code": LIU_FANG_CODE}))
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(p["type"], "urn:doorstep:problem:label-revoked");
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_phone_photo_of_the_door_label_answers_the_card(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let photo = std::fs::read(DEMO_PHOTO).expect("committed demo photo");
    let r = app.scan_photo(&token, &photo).await.ok(StatusCode::OK);
    assert_eq!(r["code"], LIU_FANG_CODE);
    assert_eq!(r["source"], "photo");
    assert_eq!(r["symbology"], "qr_code");
    assert_eq!(r["customer"]["customer"]["name"], "Liu Fang");

    // Freshly generated photos of another door decode too.
    let generated = crate::fixtures_gen::label_photo("D00DEM0000BK", 99);
    let r = app.scan_photo(&token, &generated).await.ok(StatusCode::OK);
    assert_eq!(r["customer"]["customer"]["customer_id"], ZHOU_MIN);

    // A live viewfinder's frame of a label held to the camera reads with the cheap passes alone.
    let r = app
        .scan_photo_at("/api/v1/scans?viewfinder=true", &token, &photo)
        .await
        .ok(StatusCode::OK);
    assert_eq!(r["code"], LIU_FANG_CODE);
    let p = app
        .scan_photo_at("/api/v1/scans?viewfinder=maybe", &token, &photo)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "viewfinder", "{p}");
}

fn blank_jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::GrayImage::from_pixel(w, h, image::Luma([235]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn photos_without_a_label_get_a_hint(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let p = app
        .scan_photo(&token, &blank_jpeg(800, 600))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "photo");
    assert!(p["hint"].as_str().unwrap().contains("closer"));

    // A barcode that is not ours.
    let png = doorstep::labels::render::render_png(
        "https://example.com/menu",
        "",
        doorstep::labels::render::LabelSymbology::Qr,
    )
    .unwrap();
    let p = app
        .scan_photo(&token, &png)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["type"], "urn:doorstep:problem:not-a-label");
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn non_images_and_oversized_uploads_are_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Pickup).await;
    let p = app
        .scan_photo(&token, b"%PDF-1.4 definitely not a photo")
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(p["field"], "photo");
    let mut truncated = std::fs::read(DEMO_PHOTO).unwrap();
    truncated.truncate(600);
    let r = app.scan_photo(&token, &truncated).await;
    assert!(
        r.status == StatusCode::UNSUPPORTED_MEDIA_TYPE
            || r.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        r.status
    );
    r.problem(r.status);

    let huge = vec![0xFFu8; 21 * 1024 * 1024];
    let p = app
        .scan_photo(&token, &huge)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(p["field"], "photo");

    let text = Request::post("/api/v1/scans")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("D00DEM0000AN"))
        .unwrap();
    app.request(text)
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let no_photo_field = Request::post("/api/v1/scans")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=b")
        .body(Body::from(
            "--b\r\nContent-Disposition: form-data; name=\"picture\"\r\n\r\nxx\r\n--b--\r\n",
        ))
        .unwrap();
    let p = app
        .request(no_photo_field)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["field"], "photo");
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn scans_need_a_session(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let r = app
        .send(
            Method::POST,
            "/api/v1/scans",
            None,
            Some(json!({"code": LIU_FANG_CODE})),
        )
        .await;
    r.problem(StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_scan_connection_is_reused_only_when_its_statements_finished(pool: PgPool) {
    use doorstep::db::direct::DirectPool;
    let direct = DirectPool::for_pool(&pool);
    let backend = |pid: i32| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("select count(*) from pg_stat_activity where pid = $1")
                .bind(pid)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };

    let mut lent = direct.lend().await.unwrap();
    let first = backend_pid(&mut lent).await.unwrap();
    lent.give_back();
    let mut lent = direct.lend().await.unwrap();
    assert_eq!(
        backend_pid(&mut lent).await.unwrap(),
        first,
        "a given-back connection serves the next request"
    );

    // Dropped without being given back (a request cut off, or failed): closed, never handed on.
    drop(lent);
    let mut lent = direct.lend().await.unwrap();
    let second = backend_pid(&mut lent).await.unwrap();
    assert_ne!(
        second, first,
        "a connection in an unknown state is not reused"
    );
    let mut gone = false;
    for _ in 0..50 {
        if backend(first).await == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "the dropped connection's backend ended");

    // A statement that failed leaves the connection usable, so a refusal (not a database fault) gives it back.
    assert!(sqlx::query("select 1/0")
        .execute(lent.conn())
        .await
        .is_err());
    lent.give_back();
    let mut lent = direct.lend().await.unwrap();
    assert_eq!(backend_pid(&mut lent).await.unwrap(), second);
    assert_eq!(backend(second).await, 1);
}

async fn backend_pid(lent: &mut doorstep::db::direct::Lent) -> sqlx::Result<i32> {
    sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(lent.conn())
        .await
}

#[tokio::test]
async fn a_saturated_decoder_answers_503_with_retry_after() {
    use doorstep::decode::pool::DecodePool;
    use doorstep::decode::DecodeOptions;
    let pool = DecodePool::new(1, 0, DecodeOptions::default());
    // A large noisy photo keeps the only decoder busy for a while.
    let mut rng = rand::thread_rng();
    let noise = image::GrayImage::from_fn(3000, 2000, |_, _| {
        image::Luma([rand::Rng::gen::<u8>(&mut rng)])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    noise.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let busy = pool.clone();
    let first = tokio::spawn(async move { busy.decode(png.into_inner().into(), false).await });
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let second = pool.decode(blank_jpeg(100, 100).into(), false).await;
    let err = second.expect_err("no room for a second photo");
    let response = axum::response::IntoResponse::into_response(err);
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers().get("retry-after").unwrap(), "2");
    let _ = first.await.unwrap();
}

/// The card a scan answers, with the kept card emptied first when `fresh` (so it is built from the tables).
async fn scanned_card(app: &TestApp, token: &str, fresh: bool) -> serde_json::Value {
    if fresh {
        sqlx::query("update customer_card set body = null")
            .execute(&app.pool)
            .await
            .unwrap();
    }
    let r = app
        .post("/api/v1/scans", token, json!({"code": LIU_FANG_CODE}))
        .await
        .ok(StatusCode::OK);
    app.state.cards.flush().await;
    r["customer"].clone()
}

/// Liu Fang's kept card, unpacked.
async fn kept_body(app: &TestApp) -> Option<String> {
    let body: Option<Vec<u8>> =
        sqlx::query_scalar("select body from customer_card where customer_id = $1::uuid")
            .bind(LIU_FANG)
            .fetch_optional(&app.pool)
            .await
            .unwrap()
            .flatten();
    body.map(kept_card_text)
}

fn pack(text: &str) -> Packed {
    Packed::pack(text).unwrap()
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_kept_card_is_served_until_anything_on_it_changes(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    let built = scanned_card(&app, &token, true).await;
    let kept = kept_body(&app).await.expect("the built card is kept");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&kept).unwrap(),
        built
    );
    assert_eq!(scanned_card(&app, &token, false).await, built);
    let by_id = app
        .get(&format!("/api/v1/customers/{LIU_FANG}/card"), &token)
        .await
        .ok(StatusCode::OK);
    assert_eq!(by_id, built);

    // Each write that shows on the card empties the kept one in its own transaction, and the next scan is the
    // card built from the tables.
    let complaint = json!({"kind": "complaint", "channel": "phone", "body": "button missing"});
    let patch = json!({"notes": "Use the side door"});
    let pickup = json!({
        "customer_id": LIU_FANG,
        "collected_at": "2026-11-25T10:00:00+08:00",
        "lines": [{"garment": {"category": "women", "kind": "scarf", "season_class": "winter"},
                   "service": "press", "price_cents": 1500}]
    });
    let mut before = built;
    for step in ["complaint", "customer", "pickup", "garment"] {
        match step {
            "complaint" => {
                let uri = format!("/api/v1/customers/{LIU_FANG}/interactions");
                app.post(&uri, &token, complaint.clone())
                    .await
                    .ok(StatusCode::CREATED);
            }
            "customer" => {
                let uri = format!("/api/v1/customers/{LIU_FANG}");
                app.patch(&uri, &token, patch.clone())
                    .await
                    .ok(StatusCode::OK);
            }
            "pickup" => {
                app.post_pickup(&token, "kept-card", &pickup)
                    .await
                    .ok(StatusCode::CREATED);
            }
            _ => {
                let uri = format!("/api/v1/customers/{LIU_FANG}/garments/{LIU_FANG_COAT}");
                app.patch(&uri, &token, json!({"brand": "Max Mara"}))
                    .await
                    .ok(StatusCode::OK);
            }
        }
        assert_eq!(kept_body(&app).await, None, "{step} left the old card kept");
        let served = scanned_card(&app, &token, false).await;
        assert_ne!(served, before, "{step} is not on the card");
        assert_eq!(served, scanned_card(&app, &token, true).await, "{step}");
        assert!(kept_body(&app).await.is_some());
        before = served;
    }
    assert_eq!(before["customer"]["notes"], "Use the side door");
    assert_eq!(before["open_complaints"].as_array().unwrap().len(), 2);
    assert_eq!(before["last_pickups"][0]["total_cents"], 1500);
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_card_built_before_a_change_is_never_kept(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    let id: uuid::Uuid = LIU_FANG.parse().unwrap();
    let read = version_of(&app.pool, id).await;
    // A change commits between the build's read and its store.
    let uri = format!("/api/v1/customers/{LIU_FANG}");
    app.patch(&uri, &token, json!({"notes": "new"}))
        .await
        .ok(StatusCode::OK);
    assert_ne!(version_of(&app.pool, id).await, read);
    let stale = vec![(id, read, pack("{\"stale\":true}"))];
    let stored = doorstep::profile::kept::store(&app.pool, &stale)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    assert_eq!(kept_body(&app).await, None);
    // The same store with the version now current is kept.
    let current = vec![(id, version_of(&app.pool, id).await, pack("{}"))];
    assert_eq!(
        doorstep::profile::kept::store(&app.pool, &current)
            .await
            .unwrap(),
        1
    );
    // A customer deleted (one with no history yet) takes their card along, and the delete's trigger keeps none.
    let bare: uuid::Uuid = sqlx::query_scalar(
        "insert into customer (customer_id, name, address) values (gen_random_uuid(), 'Bare', 'x') returning customer_id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let v = version_of(&app.pool, bare).await;
    let card = vec![(bare, v, pack("{}"))];
    assert_eq!(
        doorstep::profile::kept::store(&app.pool, &card)
            .await
            .unwrap(),
        1
    );
    sqlx::query("delete from customer where customer_id = $1")
        .bind(bare)
        .execute(&app.pool)
        .await
        .unwrap();
    let left = app
        .count(&format!(
            "select count(*) from customer_card where customer_id = '{bare}'"
        ))
        .await;
    assert_eq!(left, 0);
}

async fn version_of(pool: &PgPool, id: uuid::Uuid) -> i64 {
    sqlx::query_scalar(
        "select coalesce((select version from customer_card where customer_id = $1), 0)",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn the_filler_keeps_every_labelled_card_as_the_tables_build_it(pool: PgPool) {
    use doorstep::profile::kept::fill_round;
    use std::time::Duration;
    let app = TestApp::new(pool).await;
    let token = app.login(Role::Dispatcher).await;
    sqlx::query("delete from customer_card")
        .execute(&app.pool)
        .await
        .unwrap();
    let stored = fill_every_card(&app.pool).await;
    let labelled = app
        .count("select count(*) from door_label where revoked_at is null")
        .await;
    assert!(labelled > 1);
    assert_eq!(stored, labelled);
    let kept: Vec<(uuid::Uuid, Vec<u8>)> =
        sqlx::query_as("select customer_id, body from customer_card where body is not null")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(kept.len() as i64, labelled);
    for (id, body) in &kept {
        sqlx::query("update customer_card set body = null where customer_id = $1")
            .bind(id)
            .execute(&app.pool)
            .await
            .unwrap();
        let built = app
            .get(&format!("/api/v1/customers/{id}/card"), &token)
            .await
            .ok(StatusCode::OK);
        let kept: serde_json::Value = serde_json::from_str(&kept_card_text(body.clone())).unwrap();
        assert_eq!(kept, built, "customer {id}");
    }
    app.state.cards.flush().await;

    // A write empties its customer's card; the next round builds it again, with the write on it.
    let uri = format!("/api/v1/customers/{LIU_FANG}/interactions");
    let complaint = json!({"kind": "complaint", "channel": "phone", "body": "late again"});
    app.post(&uri, &token, complaint)
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(kept_body(&app).await, None);
    // Not before the customer has been left alone a while.
    let (n, _) = fill_round(&app.pool, None, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(n, 0);
    let (n, walk) = fill_round(&app.pool, None, Duration::ZERO).await.unwrap();
    assert_eq!((n, walk), (1, None));
    let body: serde_json::Value = serde_json::from_str(&kept_body(&app).await.unwrap()).unwrap();
    assert_eq!(body["open_complaints"][0]["body"], "late again");
}

#[sqlx::test(
    migrator = "doorstep::db::MIGRATOR",
    fixtures(path = "../../fixtures", scripts("demo"))
)]
async fn a_card_that_cannot_be_built_does_not_stop_the_filler(pool: PgPool) {
    use doorstep::profile::kept::fill_round;
    use std::time::Duration;
    let app = TestApp::new(pool).await;
    // A garment kind this build does not know (written by hand, or by a newer version) breaks Liu Fang's card.
    sqlx::query(
        "insert into garment (customer_id, garment_id, category, kind, season_class)
         values ($1::uuid, gen_random_uuid(), 'women', 'kimono-from-the-future', 'winter')",
    )
    .bind(LIU_FANG)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("delete from customer_card")
        .execute(&app.pool)
        .await
        .unwrap();
    let labelled = app
        .count("select count(*) from door_label where revoked_at is null")
        .await;
    assert!(labelled > 2);
    assert_eq!(
        fill_every_card(&app.pool).await,
        labelled - 1,
        "every card but the broken one"
    );
    let kept = "select count(*) from customer_card where body is not null";
    assert_eq!(app.count(kept).await, labelled - 1);
    let queued: i64 = sqlx::query_scalar(
        "select count(*) from customer_card where customer_id = $1::uuid and body is null",
    )
    .bind(LIU_FANG)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        queued, 1,
        "the broken card met by the walk waits in the queue"
    );

    // Emptied by writes, the others are built again while the broken one waits at the back.
    sqlx::query("update customer_card set body = null, changed_at = now() - interval '1 hour'")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "insert into customer_card (customer_id, version, body, changed_at)
         select $1::uuid, 0, null, now() - interval '2 hours'
         on conflict (customer_id) do update set changed_at = excluded.changed_at",
    )
    .bind(LIU_FANG)
    .execute(&app.pool)
    .await
    .unwrap();
    let (n, _) = fill_round(&app.pool, None, Duration::ZERO).await.unwrap();
    assert_eq!(n as i64, labelled - 1);
    let moved: bool = sqlx::query_scalar(
        "select changed_at > now() - interval '1 minute' from customer_card where customer_id = $1::uuid",
    )
    .bind(LIU_FANG)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(moved, "the broken card went to the back of the queue");
}
