//! The pickup worker's app in headless Chromium: sign-in, the three ways to scan, a visit, offline, languages.

use std::path::PathBuf;

use sqlx::PgPool;

use super::{Browser, Options, Served};
use crate::helpers::{
    TestApp, LIU_FANG, LIU_FANG_COAT, LIU_FANG_COAT_TAG, LIU_FANG_CODE, PASSWORD,
};
use doorstep::domain::Role;

/// A worker account of `role` for the browser (the API test helper signs in over JSON; here the form does).
async fn worker(pool: &PgPool, role: Role) -> String {
    let app = TestApp::new(pool.clone()).await;
    let _ = app.login(role).await;
    sqlx::query_scalar(
        "select username from staff where username like 'test-%' order by created_at desc limit 1",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

fn demo_photo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo-label-D00DEM0000AN.jpg")
}

#[sqlx::test(fixtures(path = "../../../fixtures", scripts("demo")))]
async fn sign_in_scan_by_keyboard_and_sign_out(pool: PgPool) {
    let served = Served::start(pool.clone()).await;
    let user = worker(&pool, Role::Pickup).await;
    let b = Browser::start(Options::default()).await;

    // Without a session the app sends the worker to the sign-in form.
    b.goto(&served.url("/")).await;
    b.wait_for("#username", 10).await;
    assert!(b
        .client
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/app/login"));
    // A wrong password is said in words, and nothing is signed in.
    b.type_into("#username", &user).await;
    b.type_into("#password", "wrong password!").await;
    b.tap("button[type=submit]").await;
    assert!(b.text("[role=alert]").await.contains("用户名或密码错误"));

    b.sign_in(&served.url(""), &user, PASSWORD).await;
    let code = b.wait_for("#code", 10).await;
    // The code field has focus, so a USB scanner's keystrokes land in it.
    assert_eq!(b.eval("return document.activeElement.id;").await, "code");
    // A well-formed label nobody has is said in the worker's language, not the server's English.
    let stranger = doorstep::domain::code::DoorCode::generate(&mut rand::thread_rng());
    code.send_keys(&format!("{}\n", stranger.as_str()))
        .await
        .unwrap();
    b.until(
        "!!document.querySelector('[data-problem=\"urn:doorstep:problem:unknown-label\"]')",
        10,
    )
    .await;
    let alert = b.text("[data-problem]").await;
    assert!(alert.contains("未知门牌标签"), "{alert}");
    assert!(alert.contains("没有客户使用这个门牌标签"), "{alert}");
    assert!(!alert.contains("Unknown label"), "{alert}");
    b.screenshot("pickup-unknown-label-zh").await;
    // A mistyped code (its check character does not match) is refused in the worker's language too.
    let mut typo = stranger.as_str().to_owned();
    let last = typo.pop().unwrap();
    typo.push(if last == '2' { '3' } else { '2' });
    let code = b.wait_for("#code", 10).await;
    code.clear().await.unwrap();
    code.send_keys(&format!("{typo}\n")).await.unwrap();
    b.until(
        "!!document.querySelector('[data-problem=\"urn:doorstep:problem:bad-code\"]')",
        10,
    )
    .await;
    let alert = b.text("[data-problem]").await;
    assert!(alert.contains("编码无效"), "{alert}");
    assert!(alert.contains("校验字符不符"), "{alert}");
    assert!(!alert.contains("check character"), "{alert}");
    b.screenshot("pickup-mistyped-code-zh").await;
    // Her card is kept (as the service's filler keeps every labelled card), so it comes as the packed card
    // spliced into a gzip answer, which the browser inflates.
    crate::helpers::fill_every_card(&pool).await;
    let code = b.wait_for("#code", 10).await;
    code.clear().await.unwrap();
    code.send_keys(&format!("{}\n", LIU_FANG_CODE.to_lowercase()))
        .await
        .unwrap();
    assert_eq!(b.text(".customer-name").await, "Liu Fang");
    let sizes = b
        .eval(
            "const e = performance.getEntriesByType('resource').filter(r => r.name.endsWith('/api/v1/scans')).pop();
             return [e.encodedBodySize, e.decodedBodySize];",
        )
        .await;
    let (encoded, decoded) = (sizes[0].as_u64().unwrap(), sizes[1].as_u64().unwrap());
    assert!(encoded * 2 < decoded, "the card came compressed: {sizes}");
    assert!(
        b.text("main").await.contains("未解决的投诉"),
        "the open complaint is on the card"
    );
    assert!(b
        .eval("return !!document.querySelector('a.phone[href^=\"tel:\"]');")
        .await
        .as_bool()
        .unwrap());
    assert_eq!(
        b.eval("return window.innerWidth;").await,
        390,
        "a phone's viewport"
    );
    b.assert_no_horizontal_overflow("card").await;
    b.screenshot("pickup-card-zh").await;

    // The helper's own API session stays; the browser's is the one signed out.
    let live = || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from staff_session ss join staff s using (staff_id) where s.username = $1 and ss.revoked_at is null",
        )
        .bind(&user)
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let signed_in = live().await;
    b.tap("#sign-out").await;
    b.wait_for("#username", 10).await;
    assert_eq!(
        live().await,
        signed_in - 1,
        "signing out revokes the session"
    );
    let errors = b.console_errors().await;
    assert!(
        errors.iter().all(|e| e.contains("401")
            || e.contains("/api/v1/scans") && (e.contains("404") || e.contains("422"))),
        "console errors: {errors:?}"
    );
    b.close().await;
}

#[sqlx::test(fixtures(path = "../../../fixtures", scripts("demo")))]
async fn a_photo_is_shrunk_on_the_phone_and_finds_the_card(pool: PgPool) {
    let served = Served::start(pool.clone()).await;
    let user = worker(&pool, Role::Pickup).await;
    let b = Browser::start(Options::default()).await;
    b.sign_in(&served.url(""), &user, PASSWORD).await;
    let input = b.wait_for("#photo", 10).await;
    input
        .send_keys(demo_photo().to_str().unwrap())
        .await
        .unwrap();
    assert_eq!(b.text(".customer-name").await, "Liu Fang");
    let sent: u64 = b
        .eval("return Number(document.body.dataset.lastUpload);")
        .await
        .as_u64()
        .unwrap();
    let original = std::fs::metadata(demo_photo()).unwrap().len();
    assert!(
        sent > 0 && sent < 600_000,
        "the page sent {sent} bytes for a {original}-byte photo"
    );

    // A barcode that is not a Doorstep label is refused in words with what to do next.
    b.goto(&served.url("/app/")).await;
    b.until("document.body.dataset.ready === 'true'", 20).await;
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/barcodes/qrcode");
    if let Some(photo) = std::fs::read_dir(&shared).ok().and_then(|mut d| {
        d.find_map(|e| {
            e.ok()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "jpg" || x == "png"))
        })
    }) {
        let photo = photo.canonicalize().unwrap();
        b.wait_for("#photo", 10)
            .await
            .send_keys(photo.to_str().unwrap())
            .await
            .unwrap();
        let alert = b.text(".msg.error").await;
        assert!(!alert.is_empty());
    }
    b.close().await;
}

/// A Y4M video (4:2:0) of `rgb` (width x height) repeated for a few frames: a label held before the camera.
fn y4m(rgb: &image::RgbImage, path: &std::path::Path) {
    let (w, h) = (rgb.width() & !1, rgb.height() & !1);
    let mut out = format!("YUV4MPEG2 W{w} H{h} F5:1 Ip A1:1 C420jpeg\n").into_bytes();
    let px = |x: u32, y: u32| {
        let p = rgb.get_pixel(x, y);
        (f32::from(p[0]), f32::from(p[1]), f32::from(p[2]))
    };
    let mut frame = Vec::with_capacity((w * h * 3 / 2) as usize);
    for y in 0..h {
        for x in 0..w {
            let (r, g, b) = px(x, y);
            frame.push(
                (0.299 * r + 0.587 * g + 0.114 * b)
                    .round()
                    .clamp(0.0, 255.0) as u8,
            );
        }
    }
    for plane in 0..2 {
        for y in (0..h).step_by(2) {
            for x in (0..w).step_by(2) {
                let (r, g, b) = px(x, y);
                let v = if plane == 0 {
                    128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b
                } else {
                    128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b
                };
                frame.push(v.round().clamp(0.0, 255.0) as u8);
            }
        }
    }
    for _ in 0..5 {
        out.extend_from_slice(b"FRAME\n");
        out.extend_from_slice(&frame);
    }
    std::fs::write(path, out).unwrap();
}

#[sqlx::test(fixtures(path = "../../../fixtures", scripts("demo")))]
async fn the_live_camera_finds_the_card_without_a_barcode_detector(pool: PgPool) {
    // Debian's Chromium has no BarcodeDetector: the viewfinder sends a shrunk frame to the server until one reads.
    let photo = image::open(demo_photo()).unwrap().to_rgb8();
    let photo = image::imageops::resize(&photo, 960, 720, image::imageops::FilterType::Triangle);
    let video = super::artefacts().join(format!("camera-{}.y4m", uuid::Uuid::new_v4().simple()));
    y4m(&photo, &video);
    let served = Served::start(pool.clone()).await;
    let user = worker(&pool, Role::Pickup).await;
    let b = Browser::start(Options {
        camera: Some(video.clone()),
        ..Options::default()
    })
    .await;
    b.sign_in(&served.url(""), &user, PASSWORD).await;
    assert_eq!(b.eval("return 'BarcodeDetector' in window;").await, false);
    b.tap("#camera").await;
    assert_eq!(b.text(".customer-name").await, "Liu Fang");
    b.close().await;
    let _ = std::fs::remove_file(video);
}

#[sqlx::test(fixtures(path = "../../../fixtures", scripts("demo")))]
async fn a_visit_with_a_known_a_tagged_and_a_new_garment(pool: PgPool) {
    let served = Served::start(pool.clone()).await;
    let user = worker(&pool, Role::Pickup).await;
    let b = Browser::start(Options {
        lang: "en-US",
        ..Options::default()
    })
    .await;
    b.sign_in(&served.url(""), &user, PASSWORD).await;
    b.wait_for("#code", 10)
        .await
        .send_keys(&format!("{LIU_FANG_CODE}\n"))
        .await
        .unwrap();
    b.tap("#start-visit").await;

    // A known garment (not the coat), tapped: its price comes from the cleaning price list.
    b.wait_for(".garment-add", 10).await;
    b.eval("[...document.querySelectorAll('.garment-add')].find(e => !e.textContent.includes('Max Mara')).click(); return 1;")
        .await;
    // The coat's tag, scanned.
    b.wait_for("#tag", 10)
        .await
        .send_keys(&format!("{LIU_FANG_COAT_TAG}\n"))
        .await
        .unwrap();
    b.until("document.querySelectorAll('.line').length === 2", 10)
        .await;
    // A scanner that fires twice does not add the coat twice.
    b.wait_for("#tag", 10)
        .await
        .send_keys(&format!("{LIU_FANG_COAT_TAG}\n"))
        .await
        .unwrap();
    b.until(
        "document.querySelector('main').textContent.includes('Already on this visit')",
        10,
    )
    .await;
    assert_eq!(
        b.eval("return document.querySelectorAll('.line').length;")
            .await,
        2
    );
    // A new garment with a new tag.
    let new_tag = doorstep::domain::code::TagCode::generate(&mut rand::thread_rng());
    b.wait_for("#tag", 10)
        .await
        .send_keys(&format!("{new_tag}\n"))
        .await
        .unwrap();
    let brand = b.wait_for(".garment-form input[name=brand]", 10).await;
    brand.send_keys("Bosideng").await.unwrap();
    b.eval("document.querySelector('.garment-form select[name=kind]').value = 'down_jacket'; return 1;").await;
    b.eval(
        "document.querySelector('.garment-form select[name=material]').value = 'down'; return 1;",
    )
    .await;
    b.tap(".garment-form button[type=submit]").await;
    b.until("document.querySelectorAll('.line').length === 3", 10)
        .await;
    // Prices were pre-filled from the list: the down jacket's dry cleaning (5,000 fen in the starting list).
    let prices = b
        .eval("return [...document.querySelectorAll('.line .price')].map(e => e.value);")
        .await;
    assert_eq!(prices[2], "50.00", "{prices}");
    b.assert_no_horizontal_overflow("visit").await;
    b.screenshot("pickup-visit-en").await;
    b.tap("#submit-visit").await;

    // The receipt page follows once the server answers.
    b.until("location.pathname.startsWith('/app/receipt/')", 20)
        .await;
    assert!(b.text("main").await.contains("3 items"));
    b.screenshot("pickup-receipt-en").await;

    // The worker's visit: one pickup of three lines, the new down jacket at the listed price.
    let lines: Vec<(String, i64)> = sqlx::query_as(
        "select g.kind, pl.price_cents from pickup_line pl join garment g using (customer_id, garment_id)
           join pickup p using (customer_id, pickup_id)
          where pl.customer_id = $1 and p.staff_id = (select staff_id from staff where username = $2)
          order by pl.line_no",
    )
    .bind(uuid::Uuid::parse_str(LIU_FANG).unwrap())
    .bind(&user)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[2], ("down_jacket".to_owned(), 5000), "{lines:?}");
    let tagged: i64 = sqlx::query_scalar(
        "select count(*) from garment where tag_code = $1 and brand = 'Bosideng'",
    )
    .bind(new_tag.as_str())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(tagged, 1);
    let coat_lines: i64 = sqlx::query_scalar(
        "select count(*) from pickup_line pl join pickup p using (customer_id, pickup_id)
          where pl.garment_id = $1 and p.staff_id = (select staff_id from staff where username = $2)",
    )
    .bind(uuid::Uuid::parse_str(LIU_FANG_COAT).unwrap())
    .bind(&user)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(coat_lines, 1);
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    b.close().await;
}

#[sqlx::test(fixtures(path = "../../../fixtures", scripts("demo")))]
async fn a_visit_recorded_offline_reaches_the_server_once(pool: PgPool) {
    let mut served = Served::start(pool.clone()).await;
    let user = worker(&pool, Role::Pickup).await;
    let b = Browser::start(Options::default()).await;
    b.sign_in(&served.url(""), &user, PASSWORD).await;
    // The service worker must hold the shell before the network goes.
    b.until("navigator.serviceWorker.controller !== null", 20)
        .await;
    b.wait_for("#code", 10)
        .await
        .send_keys(&format!("{LIU_FANG_CODE}\n"))
        .await
        .unwrap();
    b.tap("#start-visit").await;
    b.tap(".garment-add").await;

    // The phone loses the network (and the server is unreachable) just before the worker finishes.
    b.set_offline(true).await;
    served.pause().await;
    b.tap("#submit-visit").await;
    b.until(
        "document.querySelector('main').textContent.includes('已保存在本机')",
        20,
    )
    .await;
    let waiting = b
        .until("(() => { const c = document.querySelector('#outbox-count'); return c && !c.hidden && c.textContent; })()", 10)
        .await;
    assert_eq!(waiting, "1");

    // The worker goes on to the next door; the page is reloaded while offline: the shell comes from the service
    // worker, the visit is still queued.
    b.tap("main a.button.primary[href='#/']").await;
    b.wait_for("#outbox li", 10).await;
    b.client.refresh().await.unwrap();
    b.until("document.body.dataset.ready === 'true'", 20).await;
    b.wait_for("#outbox li", 10).await;
    b.screenshot("pickup-offline-queue-zh").await;
    // Kept aside to come back as a visit that waited too long, at the end.
    b.eval(
        "window.__kept = false; const r = indexedDB.open('doorstep', 1); r.onsuccess = () => { \
         const g = r.result.transaction('outbox').objectStore('outbox').getAll(); \
         g.onsuccess = () => { localStorage.setItem('kept-visit', JSON.stringify(g.result[0])); window.__kept = true; }; }; return true;",
    )
    .await;
    b.until("window.__kept === true", 10).await;
    let count: i64 = sqlx::query_scalar("select count(*) from pickup where staff_id = (select staff_id from staff where username = $1)")
        .bind(&user)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0);

    // Another worker signs in on this phone before it is sent: the visit waits for its own worker (keys are kept
    // per worker, so another's session would record it again).
    let owner: uuid::Uuid = sqlx::query_scalar("select staff_id from staff where username = $1")
        .bind(&user)
        .fetch_one(&pool)
        .await
        .unwrap();
    let reassign = |staff: String| {
        format!(
            "window.__moved = false; const r = indexedDB.open('doorstep', 1); r.onsuccess = () => {{ \
             const t = r.result.transaction('outbox', 'readwrite'); const s = t.objectStore('outbox'); \
             const g = s.getAll(); g.onsuccess = () => {{ for (const e of g.result) {{ e.staff_id = '{staff}'; s.put(e); }} }}; \
             t.oncomplete = () => {{ window.__moved = true; }}; }}; return true;"
        )
    };
    b.eval(&reassign("00000000-0000-4000-8000-0000000000f1".into()))
        .await;
    b.until("window.__moved === true", 10).await;
    served.resume().await;
    b.set_offline(false).await;
    b.client.refresh().await.unwrap();
    b.until("document.body.dataset.ready === 'true'", 20).await;
    b.until(
        "document.querySelector('#outbox li').textContent.includes('其他员工')",
        10,
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let count: i64 = sqlx::query_scalar("select count(*) from pickup where staff_id = $1")
        .bind(owner)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "not sent under another worker's session");

    // Its worker is back: the queued visit is sent with its key, once.
    b.eval(&reassign(owner.to_string())).await;
    b.until("window.__moved === true", 10).await;
    b.client.refresh().await.unwrap();
    b.until("document.body.dataset.ready === 'true'", 20).await;
    b.until("!document.querySelector('#outbox li')", 60).await;
    let count: i64 = sqlx::query_scalar("select count(*) from pickup where staff_id = (select staff_id from staff where username = $1)")
        .bind(&user)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "the visit is recorded exactly once");

    // A visit that waited too long while the network was gone is opened to be checked: the reason is the
    // network, in the worker's language.
    b.eval(
        "window.__put = false; const e = JSON.parse(localStorage.getItem('kept-visit')); \
         e.key = 'waited-too-long'; e.state = 'expired'; e.error = { offline: true, detail: 'Failed to fetch' }; \
         const r = indexedDB.open('doorstep', 1); r.onsuccess = () => { const t = r.result.transaction('outbox', 'readwrite'); \
         t.objectStore('outbox').put(e); t.oncomplete = () => { window.__put = true; }; }; return true;",
    )
    .await;
    b.until("window.__put === true", 10).await;
    b.eval("location.hash = '#/fix/waited-too-long'; return true;")
        .await;
    let heading = b
        .until(
            "(() => { const s = document.querySelector('main .msg.error strong'); return s && s.textContent; })()",
            20,
        )
        .await;
    assert_eq!(heading, "没有网络");
    b.screenshot("pickup-fix-offline-zh").await;
    b.close().await;
}

#[sqlx::test]
async fn both_languages_and_no_overflow(pool: PgPool) {
    let served = Served::start(pool.clone()).await;
    for (lang, title, button) in [
        ("en-US", "Doorstep sign-in", "Sign in"),
        ("zh-CN", "上门洗衣 登录", "登录"),
    ] {
        let b = Browser::start(Options {
            lang,
            ..Options::default()
        })
        .await;
        b.goto(&served.url("/app/login")).await;
        assert_eq!(b.text("h1").await, title);
        assert_eq!(b.text("button[type=submit]").await, button);
        b.assert_no_horizontal_overflow("login").await;
        b.screenshot(&format!("login-{lang}")).await;
        // The other language is one tap away and remembered.
        b.tap("a[lang]").await;
        let other = b.text("h1").await;
        assert_ne!(other, title);
        b.goto(&served.url("/app/login")).await;
        assert_eq!(b.text("h1").await, other, "the choice is remembered");
        let errors = b.console_errors().await;
        assert!(errors.is_empty(), "console errors: {errors:?}");
        b.close().await;
    }
}

/// A door note goes under an Idempotency-Key kept for that note: Save sent twice at once (a second tap while the
/// first answer is slow) records it once.
#[sqlx::test(fixtures(path = "../../../fixtures", scripts("demo")))]
async fn a_door_note_sent_twice_is_recorded_once(pool: PgPool) {
    let served = Served::start(pool.clone()).await;
    let user = worker(&pool, Role::Pickup).await;
    let b = Browser::start(Options::default()).await;
    b.sign_in(&served.url(""), &user, PASSWORD).await;
    b.type_into("#code", &format!("{LIU_FANG_CODE}\n")).await;
    b.type_into(".note-form textarea", "the collar is frayed")
        .await;
    b.eval("const f = document.querySelector('.note-form'); f.requestSubmit(); f.requestSubmit(); return true;")
        .await;
    b.until(
        "!!document.querySelector('.note-form + div .msg.ok') && !document.querySelector('.note-form button').disabled",
        20,
    )
    .await;
    let notes: i64 = sqlx::query_scalar(
        "select count(*) from interaction where customer_id = $1::uuid and body = 'the collar is frayed'",
    )
    .bind(LIU_FANG)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(notes, 1, "recorded once");
    let keys: i64 = sqlx::query_scalar(
        "select count(*) from idempotency_key k join staff s using (staff_id) where s.username = $1",
    )
    .bind(&user)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(keys, 1, "sent under one key");
    b.close().await;
}
