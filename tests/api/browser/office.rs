//! The office app in headless Chromium: a dispatcher works the queue, campaigns from lists, door label sheets whose
//! every QR Code decodes back to its customer, the manager's dashboard, roles, languages and layout.

use std::path::Path;
use std::time::Duration;

use axum::http::StatusCode;
use chrono::Datelike;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::{Browser, Options, Served};
use crate::helpers::{TestApp, PASSWORD};
use crate::world::World;
use doorstep::decode::{decode_photo, DecodeOptions};
use doorstep::domain::code::DoorCode;
use doorstep::domain::{GarmentKind as K, Material as M, Role, SeasonClass as S};

/// A signed-in account of `role`: its username for the browser form and a bearer token for setup calls.
pub async fn account(app: &TestApp, role: Role) -> (String, String) {
    let token = app.login(role).await;
    let username: String = sqlx::query_scalar(
        "select username from staff where username like 'test-%' order by created_at desc limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    (username, token)
}

/// Customers with winter coats last cleaned a season ago: they are on the next spring's reminder list.
pub(super) async fn reminder_world(pool: PgPool, n: usize) -> (World, Vec<Uuid>) {
    let w = World::new(pool).await;
    let mut customers = Vec::new();
    for i in 0..n {
        let c = w.customer(&format!("Customer {i:02}")).await;
        let coat = w.garment(c, K::Coat, S::Winter, M::Wool, None).await;
        let day = format!("2026-03-{:02}", 2 + i % 25);
        w.pickup(c, &day, &[(coat, 30_000 + 1_000 * i as i64)])
            .await;
        customers.push(c);
    }
    (w, customers)
}

/// Freezes a list into a campaign through the API, as a dispatcher's client would (with an Idempotency-Key).
pub(super) async fn create_campaign(app: &TestApp, token: &str, body: Value) -> Value {
    let req = axum::http::Request::post("/api/v1/campaigns")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("idempotency-key", Uuid::new_v4().to_string())
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    app.request(req).await.ok(StatusCode::CREATED)
}

/// The next spring put-away window (winter clothes), whatever day the tests run.
pub(super) fn spring() -> String {
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let year = if today.month() >= 6 {
        today.year() + 1
    } else {
        today.year()
    };
    format!("{year}-spring")
}

pub(super) async fn signed_in(served: &Served, user: &str, opts: Options) -> Browser {
    let b = Browser::start(opts).await;
    b.sign_in(&served.url(""), user, PASSWORD).await;
    b
}

pub(super) async fn open(b: &Browser, served: &Served, hash: &str, ready_css: &str) {
    b.goto(&served.url(&format!("/app/{hash}"))).await;
    b.until("document.body.dataset.ready === 'true'", 20).await;
    // `until` reports the page text, console and a screenshot when the screen never comes.
    b.until(&format!("!!document.querySelector({ready_css:?})"), 20)
        .await;
}

/// A screenshot of the whole page, not just the window, as a test artefact.
async fn full_shot(b: &Browser, name: &str) {
    use base64::Engine as _;
    let shot = b
        .cdp(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        )
        .await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap_or_default())
        .unwrap();
    std::fs::write(super::artefacts().join(format!("{name}.png")), png).unwrap();
}

pub(super) fn assert_clean(errors: Vec<String>) {
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_dispatcher_works_a_queue_entry_to_booked(pool: PgPool) {
    let (w, customers) = reminder_world(pool.clone(), 3).await;
    let (user, token) = account(&w.app, Role::Dispatcher).await;
    let me: Uuid = sqlx::query_scalar("select staff_id from staff where username = $1")
        .bind(&user)
        .fetch_one(&pool)
        .await
        .unwrap();
    let campaign = create_campaign(
        &w.app,
        &token,
        json!({"name": "Spring calls", "list": "reminders", "window": spring()}),
    )
    .await;
    let campaign_id = campaign["campaign_id"].as_str().unwrap().to_owned();
    assert_eq!(campaign["entries"], 3, "{campaign}");
    w.app.assign_campaign(&token, &campaign_id, &[me]).await;
    // One customer has an open complaint: the card says so.
    w.interaction(
        customers[0],
        doorstep::domain::InteractionKind::Complaint,
        "2026-03-10",
    )
    .await;

    let served = Served::start(pool.clone()).await;
    let b = signed_in(&served, &user, Options::default()).await;
    open(&b, &served, "#/queue", "#entry").await;
    let first = b
        .eval("return document.querySelector('#entry').dataset.customer;")
        .await;
    let first: Uuid = first.as_str().unwrap().parse().unwrap();
    assert!(customers.contains(&first));
    assert!(b
        .eval("return document.querySelector('#call').getAttribute('href').startsWith('tel:');")
        .await
        .as_bool()
        .unwrap());
    assert!(
        b.text("#entry").await.contains("大衣"),
        "outstanding coat shown"
    );
    let reason = b.text("#entry .reason").await;
    assert!(
        reason.contains("件衣物待送洗") && !reason.contains("outstanding"),
        "the reason in the page's language: {reason}"
    );
    b.assert_no_horizontal_overflow("queue 390").await;
    b.screenshot("office-queue-zh-390").await;

    b.wait_for("#outcome-note", 10)
        .await
        .send_keys("周六上午方便")
        .await
        .unwrap();
    b.tap("#o-booked").await;
    b.wait_for("#outcome-saved", 20).await;
    // The next entry follows.
    let next = b
        .until(
            "document.querySelector('#entry') && document.querySelector('#entry').dataset.customer",
            20,
        )
        .await;
    assert_ne!(next.as_str().unwrap(), first.to_string());

    let (status, booked_for): (String, Option<chrono::NaiveDate>) = sqlx::query_as(
        "select status, booked_for from campaign_entry where campaign_id = $1::uuid and customer_id = $2",
    )
    .bind(&campaign_id)
    .bind(first)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(status, "booked");
    let bookings: i64 = sqlx::query_scalar(
        "select count(*) from pickup_booking where customer_id = $1 and booked_for = $2",
    )
    .bind(first)
    .bind(booked_for.unwrap())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(bookings, 1, "the booking is in the database once");
    let notes: i64 = sqlx::query_scalar(
        "select count(*) from campaign_outcome where customer_id = $1 and notes = '周六上午方便'",
    )
    .bind(first)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(notes, 1);
    assert_clean(b.console_errors().await);
    b.close().await;
}

/// Creates the previewed campaign and checks the number of entries its page shows.
/// Ticks the signed-in dispatcher on the campaign page and assigns them every unassigned entry.
async fn take_every_entry(b: &Browser, pool: &PgPool, user: &str, expected: i64) {
    let me: Uuid = sqlx::query_scalar("select staff_id from staff where username = $1")
        .bind(user)
        .fetch_one(pool)
        .await
        .unwrap();
    b.tap(&format!("input[name=assignee][value='{me}']")).await;
    b.tap("#assign").await;
    b.until(
        &format!(
            "document.querySelectorAll('a[href^=\"#/customers/\"]').length === {}",
            expected.min(20)
        ),
        10,
    )
    .await;
}

/// Taps the page's CSV button and returns the file's text as the page hands it to the browser to save.
async fn saved_csv(b: &Browser) -> String {
    b.eval(
        "const make = URL.createObjectURL; \
         URL.createObjectURL = (blob) => { blob.text().then((t) => { window.savedCsv = t; }); return make(blob); };",
    )
    .await;
    b.tap("button.csv").await;
    let csv = b.until("window.savedCsv", 20).await;
    csv.as_str()
        .unwrap()
        .trim_start_matches('\u{feff}')
        .to_owned()
}

async fn create_shows(b: &Browser, expected: i64) {
    b.tap("#create-campaign").await;
    b.wait_for("#campaign-entries", 20).await;
    assert_eq!(b.text("#campaign-entries").await, expected.to_string());
}

/// Asks the new-campaign page for its preview and checks the number of entries it says the campaign will have.
async fn preview_shows(b: &Browser, expected: i64) {
    b.tap("#preview-campaign").await;
    let shown = b
        .until("document.querySelector('#preview-total') && document.querySelector('#preview-total').dataset.total", 20)
        .await;
    assert_eq!(shown.as_str().unwrap(), expected.to_string());
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn an_at_risk_campaign_of_one_kind_of_call_has_exactly_those_entries(pool: PgPool) {
    seeded(&pool, 120).await;
    let app = TestApp::new(pool.clone()).await;
    let (user, token) = account(&app, Role::Dispatcher).await;
    let count = |status: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            app.get(
                &format!("/api/v1/lists/at-risk?status={status}&limit=1"),
                token,
            )
            .await
            .ok(StatusCode::OK)["total"]
                .as_i64()
                .unwrap()
        }
    };
    let (slipping, gone) = (count("slipping").await, count("gone").await);
    let (status, expected) = if gone > 0 {
        ("gone", gone)
    } else {
        ("slipping", slipping)
    };
    assert!(expected > 0, "the seeded company has someone at risk");

    let served = Served::start(pool.clone()).await;
    let b = signed_in(&served, &user, Options::sized("zh-CN", 390, 844)).await;
    open(&b, &served, "#/campaigns/new/at_risk", "#preview-campaign").await;
    b.wait_for("#f-status", 10).await;
    b.eval(&format!(
        "const s = document.querySelector('#f-status'); s.value = '{status}'; return s.value;"
    ))
    .await;
    preview_shows(&b, expected).await;
    create_shows(&b, expected).await;
    let params: Value = sqlx::query_scalar("select params from campaign where list = 'at_risk'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(params["status"], status, "{params}");
    b.screenshot("office-campaign-at-risk-zh-390").await;
    // A dispatcher sees the entries assigned to them: none yet, and the page says how to get them.
    b.wait_for("#no-entries", 10).await;
    full_shot(&b, "office-campaign-none-yours-zh-390").await;
    take_every_entry(&b, &pool, &user, expected).await;
    full_shot(&b, "office-campaign-taken-zh-390").await;
    // The entries saved as CSV from this Chinese page read in Chinese: columns, status and each reason.
    let csv = saved_csv(&b).await;
    let call = if status == "gone" {
        "可能已流失：挽回电话"
    } else {
        "来得少了：关怀电话"
    };
    assert!(csv.starts_with("排名,客户编号,姓名"), "{csv}");
    assert_eq!(csv.matches(",待拨打,").count() as i64, expected, "{csv}");
    assert_eq!(csv.matches(call).count() as i64, expected, "{csv}");
    assert_clean(b.console_errors().await);
    b.close().await;
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_campaign_from_the_reminder_list_has_every_entry(pool: PgPool) {
    let (w, _) = reminder_world(pool.clone(), 7).await;
    let (user, token) = account(&w.app, Role::Dispatcher).await;
    let list = w
        .app
        .get(
            &format!("/api/v1/lists/reminders?window={}&limit=1", spring()),
            &token,
        )
        .await
        .ok(StatusCode::OK);
    let expected = list["total"].as_i64().unwrap();
    assert_eq!(expected, 7);

    let served = Served::start(pool.clone()).await;
    let b = signed_in(&served, &user, Options::sized("en", 1280, 800)).await;
    open(
        &b,
        &served,
        "#/campaigns/new/reminders",
        "#preview-campaign",
    )
    .await;
    let window = b.wait_for("#f-window", 10).await;
    window.clear().await.unwrap();
    window.send_keys(&spring()).await.unwrap();
    preview_shows(&b, expected).await;
    b.assert_no_horizontal_overflow("campaign preview 1280")
        .await;
    b.screenshot("office-campaign-preview-en-1280").await;
    create_shows(&b, expected).await;
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from campaign_entry e join campaign c using (campaign_id) where c.list = 'reminders'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, expected);
    b.screenshot("office-campaign-en-1280").await;
    // The entries as CSV, once taken: fetched with the session and offered as a file to save, in English.
    take_every_entry(&b, &pool, &user, expected).await;
    let csv = saved_csv(&b).await;
    assert!(csv.starts_with("rank,customer_id,name"), "{csv}");
    assert_eq!(csv.matches(",open,").count() as i64, expected, "{csv}");
    b.until(
        "document.querySelector('a[download$=\".csv\"]') !== null",
        20,
    )
    .await;
    assert_clean(b.console_errors().await);
    b.close().await;
}

/// Renders each page of a PDF at 200 dpi and reads the QR Code of every 3 x 8 cell with Doorstep's decoder.
fn decode_sheet(pdf: &[u8], dir: &Path) -> Vec<Option<String>> {
    let file = dir.join("sheet.pdf");
    std::fs::write(&file, pdf).unwrap();
    let status = std::process::Command::new("pdftoppm")
        .args(["-r", "200", "-png"])
        .arg(&file)
        .arg(dir.join("page"))
        .status()
        .expect("pdftoppm (poppler-utils) is installed");
    assert!(status.success());
    let mut pages: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    pages.sort();
    let opts = DecodeOptions::default();
    let mut out = Vec::new();
    for page in pages {
        let img = image::open(&page).unwrap().to_luma8();
        let (cw, ch) = (img.width() / 3, img.height() / 8);
        for i in 0..24 {
            let (x, y) = ((i % 3) as u32 * cw, (i / 3) as u32 * ch);
            let cell = image::imageops::crop_imm(&img, x, y, cw, ch).to_image();
            let mut png = Vec::new();
            cell.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .unwrap();
            let read = decode_photo(&png, &opts, &|s| DoorCode::parse(s).is_ok())
                .ok()
                .and_then(|o| o.accepted.map(|a| a.text));
            out.push(read);
        }
    }
    out
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_label_sheet_of_24_decodes_back_to_every_customer(pool: PgPool) {
    let w = World::new(pool.clone()).await;
    let mut customers = Vec::new();
    for i in 0..24 {
        customers.push(w.customer(&format!("顾客 {i:02}")).await);
    }
    sqlx::query(
        "update customer set label_consent_at = now(), label_consent_method = 'signed form'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (user, token) = account(&w.app, Role::Dispatcher).await;
    let served = Served::start(pool.clone()).await;
    let b = signed_in(&served, &user, Options::default()).await;
    open(&b, &served, "#/labels", "#print-unprinted").await;
    b.until(
        "document.querySelector('#unprinted').textContent.includes('24')",
        20,
    )
    .await;
    // The key "print every unprinted" sends is kept in the tab's session, so a reload after a lost sheet reuses it.
    let kept = b
        .eval("return sessionStorage.getItem('doorstep.unprinted-sheet-key');")
        .await;
    let kept = kept.as_str().unwrap().to_owned();
    b.tap("#print-unprinted").await;
    b.wait_for("#sheet-pdf", 30).await;
    let recorded: i64 =
        sqlx::query_scalar("select count(*) from idempotency_key where idempotency_key = $1")
            .bind(&kept)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(recorded, 1, "the sheet went under the kept key");
    let next = b
        .eval("return sessionStorage.getItem('doorstep.unprinted-sheet-key');")
        .await;
    assert_ne!(
        next.as_str(),
        Some(kept.as_str()),
        "a printed sheet's key is not reused"
    );
    assert_eq!(
        b.eval("return document.querySelector('#sheet-pdf').dataset.count;")
            .await,
        "24"
    );
    b.screenshot("office-labels-zh-390").await;
    // The page's blob cannot be fetched back (the CSP allows no blob: connections), so the sheet is asked for
    // again by customer, in the order the page printed them: the same active codes, none issued anew.
    let order: Vec<Uuid> =
        sqlx::query_scalar("select customer_id from customer order by created_at, customer_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let reply = w
        .app
        .post(
            "/api/v1/labels/door-sheet",
            &token,
            json!({ "customer_ids": order }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let pdf = reply.body;
    let labels: i64 = sqlx::query_scalar("select count(*) from door_label")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(labels, 24, "the second sheet issued no new labels");
    assert!(pdf.starts_with(b"%PDF"));
    std::fs::write(super::artefacts().join("office-door-labels.pdf"), &pdf).unwrap();
    let dir = std::env::temp_dir().join(format!("doorstep-sheet-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let read = decode_sheet(&pdf, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(read.len(), 24, "one page of 24 cells");
    // In sheet order: each cell's code resolves to that very customer.
    let mut decoded = 0;
    for (i, code) in read.iter().enumerate() {
        let code = code
            .as_ref()
            .unwrap_or_else(|| panic!("cell {i} did not decode"));
        let owner: Uuid = sqlx::query_scalar(
            "select customer_id from door_label where code = $1 and revoked_at is null",
        )
        .bind(code)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(owner, order[i], "cell {i}");
        decoded += 1;
    }
    println!("label sheet decode-back rate: {decoded}/24");
    let printed: i64 =
        sqlx::query_scalar("select count(*) from door_label where printed_at is not null")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(printed, 24, "every label on the sheet is marked printed");
    b.until(
        "document.querySelector('#unprinted').textContent.startsWith('0')",
        10,
    )
    .await;
    assert_clean(b.console_errors().await);
    b.close().await;
}

/// A company with a few years of history (the demo seeder), for the dashboard.
pub(super) async fn seeded(pool: &PgPool, customers: usize) {
    let mut opts = doorstep::seed::SeedOptions::new(customers, 3, 13);
    opts.parallel = 2;
    doorstep::seed::seed(pool, opts).await.unwrap();
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn the_managers_chart_shows_history_and_forecast_bands(pool: PgPool) {
    seeded(&pool, 300).await;
    let app = TestApp::new(pool.clone()).await;
    let (user, _) = account(&app, Role::Manager).await;
    let served = Served::start(pool.clone()).await;
    for (lang, width, height) in [("en", 1280, 800), ("zh-CN", 390, 844)] {
        let b = signed_in(&served, &user, Options::sized(lang, width, height)).await;
        open(&b, &served, "#/dashboard", "figure[data-series=total] svg").await;
        b.until("document.body.dataset.painted === 'dashboard'", 30)
            .await;
        let shape = b
            .eval(
                "const f = document.querySelector('figure[data-series=total] svg');
                 return {
                   band80: f.querySelector('path.band80').getAttribute('d').length,
                   band95: f.querySelector('path.band95').getAttribute('d').length,
                   history: f.querySelector('path.history').getAttribute('d').split('L').length,
                   forecast: f.querySelector('path.forecast').getAttribute('d').split('L').length,
                   classes: document.querySelectorAll('figure[data-series] svg path.band80').length,
                 };",
            )
            .await;
        assert!(shape["band80"].as_u64().unwrap() > 50, "{shape}");
        assert!(shape["band95"].as_u64().unwrap() > 50, "{shape}");
        assert!(
            shape["history"].as_u64().unwrap() >= 52,
            "a year of history: {shape}"
        );
        assert!(shape["forecast"].as_u64().unwrap() >= 26, "{shape}");
        assert_eq!(
            shape["classes"], 5,
            "total and four season classes: {shape}"
        );
        // The 95% band holds the 80% band: compare their drawn heights.
        let heights = b
            .eval(
                "const f = document.querySelector('figure[data-series=total] svg');
                 return [f.querySelector('path.band95').getBBox().height, f.querySelector('path.band80').getBBox().height];",
            )
            .await;
        assert!(heights[0].as_f64().unwrap() >= heights[1].as_f64().unwrap());
        let alerts = b
            .eval("return [...document.querySelectorAll('main [role=alert]')].map(e => e.textContent).join(' | ');")
            .await;
        assert_eq!(alerts, "", "every dashboard section loads");
        // Each chart names its model in the reader's words, not by its id (`stl_ets`).
        let captions = b
            .eval("return [...document.querySelectorAll('figure[data-series] figcaption .muted')].map(e => e.textContent);")
            .await;
        let captions = captions.as_array().unwrap();
        assert_eq!(captions.len(), 5, "{captions:?}");
        let ids = [
            "seasonal_naive",
            "holt_winters_damped",
            "theta",
            "stl_ets",
            "fourier_ets",
            "relevelled_naive",
            "combination",
            "naive",
            "recent_mean",
            "damped_holt",
        ];
        for caption in captions {
            let caption = caption.as_str().unwrap();
            let prefix = if lang == "en" { "model: " } else { "模型：" };
            assert!(
                caption.contains(prefix) && !caption.contains('_'),
                "{caption}"
            );
            if lang != "en" {
                assert!(!ids.iter().any(|id| caption.contains(id)), "{caption}");
            }
        }
        // An open window whose weeks were empty in past years says so (in December: spring/autumn clothes),
        // instead of an 80% range of 0–0.
        let range = b
            .eval("const e = document.querySelector('#window-left .muted'); return e ? e.textContent : null;")
            .await;
        if let Some(text) = range.as_str() {
            assert!(!text.contains("0–0"), "an empty range is explained: {text}");
        }
        assert!(b
            .eval("return document.querySelectorAll('#storage svg .bar, #segments-box svg .bar, #segments').length >= 3;")
            .await
            .as_bool()
            .unwrap());
        b.assert_no_horizontal_overflow(&format!("dashboard {width}"))
            .await;
        b.screenshot(&format!("office-dashboard-{lang}-{width}"))
            .await;
        if lang == "en" {
            print_check(&b).await;
        }
        assert_clean(b.console_errors().await);
        b.close().await;
    }
}

/// The dashboard printed by Chromium: the charts are there, the navigation and buttons are not.
async fn print_check(b: &Browser) {
    use base64::Engine as _;
    let printed = b
        .cdp(
            "Page.printToPDF",
            json!({"printBackground": true, "paperWidth": 8.27, "paperHeight": 11.69}),
        )
        .await;
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(printed["data"].as_str().unwrap_or_default())
        .unwrap();
    let path = super::artefacts().join("office-dashboard-print.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Weekly intake and forecast"), "{text}");
    assert!(text.contains("Storage zones"), "{text}");
    assert!(!text.contains("Sign out"), "the navigation is not printed");
    assert!(!text.contains("Print"), "nor the print button");
}

#[sqlx::test(fixtures(path = "../../../fixtures", scripts("demo")))]
async fn a_pickup_worker_is_refused_the_office(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let (user, token) = account(&app, Role::Pickup).await;
    let served = Served::start(pool.clone()).await;
    let b = signed_in(&served, &user, Options::default()).await;
    for hash in ["#/queue", "#/labels", "#/dashboard", "#/staff"] {
        open(&b, &served, hash, "main [role=alert]").await;
        assert_eq!(
            b.text("main [role=alert]").await,
            "您的角色无权打开此页面。"
        );
    }
    // Nor are the office links in the worker's navigation, and the API says no by itself.
    let links = b
        .eval("return [...document.querySelectorAll('.topnav a')].map(a => a.getAttribute('href')).join(' ');")
        .await;
    assert!(!links.as_str().unwrap().contains("#/queue"), "{links}");
    let status = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/api/v1/queue', {credentials: 'same-origin'}).then(r => done(r.status));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, 403);
    assert_eq!(
        app.get("/api/v1/labels/unprinted", &token).await.status,
        StatusCode::FORBIDDEN
    );
    b.screenshot("office-refused-zh-390").await;
    let errors = b.console_errors().await;
    assert!(
        errors.iter().all(|e| e.contains("403")),
        "console errors: {errors:?}"
    );
    b.close().await;
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn every_office_page_fits_a_phone_and_a_laptop_in_both_languages(pool: PgPool) {
    seeded(&pool, 120).await;
    let app = TestApp::new(pool.clone()).await;
    let (user, token) = account(&app, Role::Admin).await;
    // A campaign so the funnel, the campaign page and the queue have something to show.
    let created = create_campaign(
        &app,
        &token,
        json!({"name": "Spring calls", "list": "reminders", "window": spring(), "max_entries": 30}),
    )
    .await;
    let campaign = created["campaign_id"].as_str().unwrap().to_owned();
    let me: Uuid = sqlx::query_scalar("select staff_id from staff where username = $1")
        .bind(&user)
        .fetch_one(&pool)
        .await
        .unwrap();
    app.assign_campaign(&token, &campaign, &[me]).await;
    let customer: Uuid =
        sqlx::query_scalar("select customer_id from customer order by name limit 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    let pages: Vec<(String, &str, &str)> = vec![
        ("#/queue".into(), "queue", "#entry, #queue-empty"),
        ("#/campaigns".into(), "campaigns", "table.data"),
        (format!("#/campaigns/{campaign}"), "campaign", "#progress"),
        ("#/lists/reminders".into(), "lists", "#list-total"),
        ("#/lists/at-risk".into(), "at-risk", "#list-total"),
        ("#/lists/customer-value".into(), "value", "#segments"),
        ("#/customers".into(), "customers", "table.data"),
        (
            format!("#/customers/{customer}"),
            "customer",
            "#customer-form",
        ),
        ("#/labels".into(), "labels", "#print-unprinted"),
        (
            "#/dashboard".into(),
            "dashboard",
            "figure[data-series=total] svg",
        ),
        ("#/settings".into(), "settings", "#storage-settings-form"),
        ("#/staff".into(), "staff", "#new-staff"),
        (
            "#/access-log".into(),
            "access-log",
            "#access-entries table.data",
        ),
    ];
    let served = Served::start(pool.clone()).await;
    for (lang, width, height) in [("zh-CN", 390, 844), ("en", 1280, 800)] {
        let b = signed_in(&served, &user, Options::sized(lang, width, height)).await;
        for (hash, name, css) in &pages {
            open(&b, &served, hash, css).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let alerts = b
                .eval("return [...document.querySelectorAll('main [role=alert]')].map(e => e.textContent).join(' | ');")
                .await;
            assert_eq!(alerts, "", "{name} ({lang}) shows a problem");
            let missing = b
                .eval("return document.body.innerText.match(/\\b[a-z_]+\\.[a-z_]+\\b/g)?.filter(k => /^(campaigns|queue|dash|labels|lists|settings|staff|customers|filter|funnel|nav|page|status|tier|stage|outcome|list|privacy|access|complaint)\\./.test(k)) ?? [];")
                .await;
            assert_eq!(
                missing,
                json!([]),
                "{name} ({lang}) shows untranslated keys"
            );
            if lang == "zh-CN" {
                // Reasons are written in the page's language, not the server's English.
                let english = b
                    .eval("return [...document.querySelectorAll('.reason-cell, .reason')].map(e => e.textContent).filter(t => /outstanding|garments|customer|days ago/.test(t));")
                    .await;
                assert_eq!(english, json!([]), "{name} ({lang}) shows English reasons");
            }
            b.assert_no_horizontal_overflow(&format!("{name} {lang} {width}"))
                .await;
            full_shot(&b, &format!("office-{name}-{lang}-{width}")).await;
        }
        assert_clean(b.console_errors().await);
        b.close().await;
    }
}

#[sqlx::test(fixtures(path = "../../../fixtures", scripts("demo")))]
async fn a_dispatcher_edits_consent_and_replaces_a_door_label(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let (user, _) = account(&app, Role::Dispatcher).await;
    let served = Served::start(pool.clone()).await;
    let b = signed_in(
        &served,
        &user,
        Options {
            lang: "en",
            ..Options::default()
        },
    )
    .await;
    let liu = crate::helpers::LIU_FANG;
    open(&b, &served, &format!("#/customers/{liu}"), "#replace-label").await;
    assert_eq!(b.text("#active-code").await, "D00D-EM00-00AN");
    // Do-not-contact is one tick and a save; the card says so afterwards.
    b.tap("#dnc").await;
    b.tap("#save-customer").await;
    b.wait_for("#customer-saved", 20).await;
    let dnc: bool =
        sqlx::query_scalar("select do_not_contact from customer where customer_id = $1::uuid")
            .bind(liu)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(dnc);
    // A replacement label: two taps, the old code stops resolving, a one-label PDF is offered.
    b.wait_for("#label-reason", 10)
        .await
        .send_keys("torn")
        .await
        .unwrap();
    let replace = b.wait_for("#replace-label", 10).await;
    replace.click().await.unwrap();
    replace.click().await.unwrap();
    b.until("document.querySelector('a[data-blob]') !== null", 20)
        .await;
    let (code, reason): (String, Option<String>) = sqlx::query_as(
        "select (select code from door_label where customer_id = $1::uuid and revoked_at is null),
                (select revoked_reason from door_label where code = 'D00DEM0000AN')",
    )
    .bind(liu)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_ne!(code, "D00DEM0000AN");
    assert_eq!(reason.as_deref(), Some("torn"));
    b.until(
        &format!(
            "document.querySelector('#active-code').textContent.replaceAll('-', '') === '{code}'"
        ),
        10,
    )
    .await;
    b.assert_no_horizontal_overflow("customer 390").await;
    full_shot(&b, "office-customer-edited-en-390").await;
    assert_clean(b.console_errors().await);
    b.close().await;
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn an_administrator_creates_and_deactivates_an_account(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let (user, _) = account(&app, Role::Admin).await;
    let served = Served::start(pool.clone()).await;
    let b = signed_in(&served, &user, Options::default()).await;
    open(&b, &served, "#/staff", "#new-staff").await;
    for (id, text) in [
        ("#st-username", "dispatcher-wang"),
        ("#st-display", "王芳"),
        ("#st-password", "a long enough password 1"),
    ] {
        b.wait_for(id, 10).await.send_keys(text).await.unwrap();
    }
    b.eval("document.querySelector('#st-role').value = 'dispatcher'; return 1;")
        .await;
    b.tap("#new-staff button[type=submit]").await;
    b.until("document.body.innerText.includes('dispatcher-wang')", 20)
        .await;
    let (role, active): (String, bool) =
        sqlx::query_as("select role, active from staff where username = 'dispatcher-wang'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((role.as_str(), active), ("dispatcher", true));
    // A refusal reads in the page's language, the field named as the form labels it.
    for (id, text) in [("#st-username", "dispatcher-li"), ("#st-password", "short")] {
        b.wait_for(id, 10).await.send_keys(text).await.unwrap();
    }
    b.tap("#new-staff button[type=submit]").await;
    b.until(
        "!!document.querySelector('[data-problem=\"urn:doorstep:problem:validation\"]')",
        20,
    )
    .await;
    let alert = b.text("[data-problem]").await;
    assert!(alert.contains("请检查填写的内容"), "{alert}");
    assert!(alert.contains("密码：密码至少需要 10 个字符"), "{alert}");
    assert!(!alert.contains("password"), "{alert}");
    b.screenshot("office-staff-refused-zh").await;
    // Deactivate: the row's two-tap button.
    b.eval(
        "const row = [...document.querySelectorAll('tr')].find(r => r.textContent.includes('dispatcher-wang'));
         const btn = row.querySelector('.row-actions button'); btn.click(); btn.click(); return 1;",
    )
    .await;
    b.until("[...document.querySelectorAll('tr.inactive')].some(r => r.textContent.includes('dispatcher-wang'))", 20)
        .await;
    let active: bool =
        sqlx::query_scalar("select active from staff where username = 'dispatcher-wang'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!active);
    // Only the refusal provoked above.
    assert_clean(
        b.console_errors()
            .await
            .into_iter()
            .filter(|e| !(e.contains("/api/v1/staff") && e.contains("422")))
            .collect(),
    );
    b.close().await;
}

#[sqlx::test(migrator = "doorstep::db::MIGRATOR")]
async fn a_manager_changes_a_price_and_the_storage_settings(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let (user, _) = account(&app, Role::Manager).await;
    let served = Served::start(pool.clone()).await;
    let b = signed_in(&served, &user, Options::sized("en", 1280, 800)).await;
    open(&b, &served, "#/settings", "#storage-settings-form").await;
    // The catch-all dry-cleaning price (any kind, any material), typed in yuan, once the list has loaded.
    let catch_all = "[...document.querySelectorAll('#cleaning-prices tbody tr')]
           .find(r => r.cells[0].textContent === 'Dry clean' && r.cells[1].textContent === 'Any' && r.cells[2].textContent === 'Any')";
    b.until(&format!("!!{catch_all}"), 20).await;
    b.eval(
        "const row = [...document.querySelectorAll('#cleaning-prices tbody tr')]
           .find(r => r.cells[0].textContent === 'Dry clean' && r.cells[1].textContent === 'Any' && r.cells[2].textContent === 'Any');
         row.querySelector('input').value = '36.50'; row.querySelector('button').click(); return 1;",
    )
    .await;
    b.until(
        "document.querySelector('#cleaning-prices').textContent.includes('Saved.')",
        20,
    )
    .await;
    let cents: i64 = sqlx::query_scalar(
        "select price_cents from cleaning_price where service = 'dry_clean' and kind is null and material is null",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(cents, 3650);
    let rate = b.wait_for("#s-rate", 10).await;
    rate.clear().await.unwrap();
    rate.send_keys("200").await.unwrap();
    b.tap("#storage-settings-form button[type=submit]").await;
    b.until(
        "document.querySelector('#storage-settings').textContent.includes('Saved.')",
        20,
    )
    .await;
    let bp: i32 = sqlx::query_scalar("select insurance_rate_bp from storage_setting")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(bp, 200);
    // An impossible rate is stopped by the form itself (the server would refuse it too), and nothing changes.
    rate.clear().await.unwrap();
    rate.send_keys("20000").await.unwrap();
    let blocked = b
        .eval("const f = document.querySelector('#storage-settings-form'); f.requestSubmit(); return document.querySelector('#s-rate').validity.rangeOverflow;")
        .await;
    assert_eq!(blocked, true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let bp: i32 = sqlx::query_scalar("select insurance_rate_bp from storage_setting")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(bp, 200);
    assert_clean(b.console_errors().await);
    b.close().await;
}
